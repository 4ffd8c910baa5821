//! `hark run [--once]`.

use super::{Cli, load_config, usage};
use crate::cluster::Role;
use crate::pipeline::{self, Runtime};
use clap::Args;
use std::io::Write;
use std::sync::Arc;

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  hark run --once                 # collect once, print a summary, exit\n  hark run --serve 127.0.0.1:8080 # the daemon, with the dashboard\n\nIn a cluster ([cluster] in hark.toml, see docs/scaling.md):\n  hark run --role collector --serve 0.0.0.0:9101   # /healthz and /metrics only\n  hark run --role enricher\n  hark run --role indexer --serve 0.0.0.0:8080     # the index, alerts, UI and API"
)]
pub struct RunArgs {
    /// Which part of the pipeline this process runs: `all` (every stage, no NATS), or one
    /// stage of a cluster (needs `[cluster]`): `collector`, `enricher` or `indexer`.
    #[arg(long, value_enum, default_value = "all")]
    pub role: Role,
    /// Poll every source once, index everything collected, evaluate alerts, and exit.
    #[arg(long)]
    pub once: bool,
    /// Also serve the web UI and API (as `hark serve`) on ADDR, sharing this process's
    /// index and state store (alert history included). A collector or enricher serves
    /// only `/healthz` and `/metrics`.
    #[arg(long, value_name = "ADDR", conflicts_with = "once")]
    pub serve: Option<String>,
    /// How `--once` prints its summary: `table` (a line per source in plain words and a
    /// verdict) or `json`. Default: table on a terminal, json when piped.
    #[arg(long, value_enum, requires = "once")]
    pub format: Option<SummaryFormat>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SummaryFormat {
    Table,
    Json,
}

pub fn run(cli: &Cli, a: &RunArgs) -> anyhow::Result<()> {
    let cfg = load_config(cli, true)?;
    if a.role != Role::All {
        if a.once {
            return Err(usage(
                "--once runs every stage in this process: use it without --role",
            ));
        }
        if cfg.cluster.is_none() {
            return Err(usage(format!(
                "--role {} needs a [cluster] section with nats_url in {}",
                a.role.as_str(),
                cfg.path
                    .as_deref()
                    .unwrap_or(cli.config.as_path())
                    .display()
            )));
        }
    }
    if matches!(a.role, Role::Collector | Role::Enricher) {
        return run_worker(cfg, a);
    }
    if cfg.sources.is_empty() {
        tracing::warn!("no [[sources]] in the config: nothing to collect");
    }
    if cfg.queries.is_empty() {
        tracing::warn!(
            "no queries in {}: every collected mention will be dropped",
            cfg.root.join(&cfg.storage.queries_dir).display()
        );
    }
    let listen = match &a.serve {
        Some(addr) => Some(super::serve::listen_and_token(&cfg, Some(addr))?),
        None => None,
    };
    let rt = Arc::new(Runtime::open(cfg)?);
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let summary = tokio.block_on(async {
        let (tx, rx) = tokio::sync::watch::channel(false);
        let commits = Arc::new(tokio::sync::Notify::new());
        let notify = commits.clone();
        let on_commit: Arc<dyn Fn(&crate::index::MentionIndex) + Send + Sync> =
            Arc::new(move |_| notify.notify_one());
        let mut edits = None;
        if let Some((addr, token)) = listen {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
            eprintln!(
                "hark: serving the web UI and API on http://{}/",
                listener.local_addr()?
            );
            let (edit_tx, rx_edits) = tokio::sync::mpsc::channel(16);
            edits = Some(rx_edits);
            let app = Arc::new(crate::serve::AppState {
                index: rt.index.clone(),
                config: Arc::new(rt.config.clone()),
                state: crate::serve::StateHandle::Shared(rt.state.clone()),
                token,
                metrics: rt.metrics.clone(),
                writes: crate::serve::MentionWrites::Pipeline(edit_tx),
                users: Default::default(),
                sessions: Default::default(),
            });
            let mut stop = rx.clone();
            tokio::spawn(crate::serve::serve(listener, app, async move {
                let _ = stop.changed().await;
            }));
        }
        let alerts = if a.once {
            None
        } else {
            tokio::spawn(crate::shutdown::forward_signals(tx));
            Some(tokio::spawn(crate::alerts::runner::alert_loop(
                rt.clone(),
                commits,
                rx.clone(),
            )))
        };
        let mut summary = if a.role == Role::Indexer {
            let worker = Arc::new(crate::cluster::workers::Worker::new(Role::Indexer));
            crate::cluster::indexer::run(rt.clone(), worker, rx, on_commit, edits).await?
        } else {
            pipeline::run_with_edits(&rt, a.once, rx, on_commit, edits).await?
        };
        if let Some(task) = alerts {
            let _ = task.await;
        }
        // A last evaluation on everything committed; due deliveries are attempted, with
        // retries for up to 30 s; what is still pending stays in the outbox for the next run.
        let client = crate::alerts::deliver::webhook_client(&rt.config);
        let (raised, mut report) =
            crate::alerts::runner::evaluate_and_deliver(&rt, &client).await?;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while report.retrying > 0 && std::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            let r = crate::alerts::deliver::deliver_due(&rt.state, &rt.config, &client).await?;
            report.delivered += r.delivered;
            report.failed += r.failed;
            report.retrying = crate::alerts::outbox::Outbox::new(&rt.state).pending_count()?;
        }
        summary.alerts_raised += raised;
        summary.alert_deliveries = report;
        summary.reports = crate::alerts::runner::send_scheduled_reports(&rt).await?;
        anyhow::Ok(summary)
    })?;
    let failed: usize = summary.sources.iter().map(|s| s.errors.len()).sum();
    tracing::info!(
        collected = summary.collected,
        indexed = summary.indexed,
        unchanged = summary.skipped_unchanged,
        skipped_items = summary.skipped_items,
        unmatched = summary.unmatched,
        failed_requests = failed,
        "run finished"
    );
    if a.once {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        let table = a.format.map_or_else(super::human::stdout_is_terminal, |f| {
            f == SummaryFormat::Table
        });
        if table {
            super::human::write_run_summary(&mut out, &summary)?;
        } else {
            serde_json::to_writer(&mut out, &summary)?;
            writeln!(out)?;
        }
    }
    if every_source_failed(&summary) {
        anyhow::bail!(
            "every source failed ({} polled, {} disabled): nothing could be collected (see `errors` per source)",
            summary.sources.len(),
            summary.disabled.len()
        );
    }
    Ok(())
}

/// `--role collector|enricher`: one stage of a cluster, with `/healthz` and `/metrics` on
/// `--serve ADDR`.
fn run_worker(cfg: crate::config::Config, a: &RunArgs) -> anyhow::Result<()> {
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    tokio.block_on(async {
        let (tx, rx) = tokio::sync::watch::channel(false);
        tokio::spawn(crate::shutdown::forward_signals(tx));
        let metrics: Arc<crate::metrics::Metrics> = Arc::default();
        if let Some(addr) = &a.serve {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
            eprintln!(
                "hark: serving /healthz and /metrics on http://{}/",
                listener.local_addr()?
            );
            tokio::spawn(crate::cluster::health::serve(
                listener,
                metrics.clone(),
                rx.clone(),
            ));
        }
        let worker = Arc::new(crate::cluster::workers::Worker::new(a.role));
        match a.role {
            Role::Collector => crate::cluster::collector::run(cfg, worker, rx, metrics).await,
            _ => crate::cluster::enricher::run(cfg, worker, rx, metrics).await,
        }
    })
}

/// Whether every configured source failed: each polled source had as many errors as
/// requests (none of its requests succeeded) and collected nothing, and the rest could not
/// start. A run without sources has not failed.
fn every_source_failed(summary: &pipeline::RunSummary) -> bool {
    let failed = |s: &crate::sources::PollReport| {
        !s.errors.is_empty() && s.errors.len() >= s.requests && s.items == 0
    };
    (summary.sources.len() + summary.disabled.len()) > 0 && summary.sources.iter().all(failed)
}
