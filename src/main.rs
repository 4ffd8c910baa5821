use clap::Parser;

fn main() {
    let cli = hark::cli::Cli::parse();
    if let Err(e) = hark::cli::main_with(cli) {
        eprintln!("error: {e:#}");
        std::process::exit(hark::cli::exit_code(&e));
    }
}
