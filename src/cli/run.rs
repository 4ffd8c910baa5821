//! `hark run [--once]`.

use super::{Cli, load_config};
use crate::pipeline::{self, Runtime};
use clap::Args;
use std::io::Write;
use std::sync::Arc;

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Poll every source once, index everything collected, evaluate alerts, and exit.
    #[arg(long)]
    pub once: bool,
}

pub fn run(cli: &Cli, a: &RunArgs) -> anyhow::Result<()> {
    let cfg = load_config(cli, true)?;
    if cfg.sources.is_empty() {
        tracing::warn!("no [[sources]] in the config: nothing to collect");
    }
    if cfg.queries.is_empty() {
        tracing::warn!(
            "no queries in {}: every collected mention will be dropped",
            cfg.root.join(&cfg.storage.queries_dir).display()
        );
    }
    let rt = Runtime::open(cfg)?;
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let summary = tokio.block_on(async {
        let (tx, rx) = tokio::sync::watch::channel(false);
        if !a.once {
            tokio::spawn(pipeline::forward_signals(tx));
        }
        pipeline::run(&rt, a.once, rx, Arc::new(|_| {})).await
    })?;
    let failed: usize = summary.sources.iter().map(|s| s.errors.len()).sum();
    tracing::info!(
        collected = summary.collected,
        indexed = summary.indexed,
        unchanged = summary.skipped_unchanged,
        unmatched = summary.unmatched,
        failed_requests = failed,
        "run finished"
    );
    if a.once {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        serde_json::to_writer(&mut out, &summary)?;
        writeln!(out)?;
    }
    Ok(())
}
