use clap::Parser;

/// mimalloc: glibc's allocator fragments badly when rayon workers allocate documents that
/// tantivy's indexing threads free, and the importer's memory grew without bound with it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = hark::cli::Cli::parse();
    if let Err(e) = hark::cli::main_with(cli) {
        // `hark man | head`: the reader went away; that is not a failure to report.
        if e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
        {
            std::process::exit(0);
        }
        eprintln!("error: {e:#}");
        std::process::exit(hark::cli::exit_code(&e));
    }
}
