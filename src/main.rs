use clap::Parser;

/// mimalloc: glibc's allocator fragments badly when rayon workers allocate documents that
/// tantivy's indexing threads free, and the importer's memory grew without bound with it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = hark::cli::Cli::parse();
    if let Err(e) = hark::cli::main_with(cli) {
        eprintln!("error: {e:#}");
        std::process::exit(hark::cli::exit_code(&e));
    }
}
