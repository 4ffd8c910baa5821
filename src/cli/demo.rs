//! `hark demo`.

use super::Cli;
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Keep the demo deployment (config, queries, data) in DIR instead of a temporary
    /// directory that is removed at the end.
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,
}

pub fn run(_cli: &Cli, a: &DemoArgs) -> anyhow::Result<()> {
    let tmp;
    let dir = match &a.keep {
        Some(d) => d.clone(),
        None => {
            tmp = tempfile::Builder::new().prefix("hark-demo-").tempdir()?;
            tmp.path().to_path_buf()
        }
    };
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    tokio.block_on(crate::demo::run_demo(&dir, &mut out))?;
    match &a.keep {
        Some(d) => writeln!(
            out,
            "\nExplore it: hark --config {} search '\"brightwave fiber\" AND down' --sort reach",
            d.join("hark.toml").display()
        )?,
        None => writeln!(
            out,
            "\n(temporary deployment removed; `hark demo --keep DIR` keeps it to explore)"
        )?,
    }
    Ok(())
}
