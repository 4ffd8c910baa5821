//! The pipeline: sources → enrich (match, language, sentiment) → index sink, joined by
//! bounded tokio channels so that a slow stage holds the ones before it back instead of
//! queueing without limit.
//!
//! The sink commits when its input runs dry or `commit_batch` mentions are pending, then
//! applies the batches' checkpoints to the state store (see `state.rs` for why this order
//! makes crashes safe).

use crate::config::Config;
use crate::enrich::{Enricher, Unmatched};
use crate::http::Fetcher;
use crate::index::{IndexError, MentionIndex};
use crate::mention::Mention;
use crate::sources::{self, Batch, PollReport, Source, SourceContext};
use crate::state::{StateStore, StateUpdate};
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;
use tantivy::IndexWriter;
use tokio::sync::{mpsc, watch};

/// Mentions ready for the index, with the state that becomes true once they are durable.
#[derive(Debug, Default)]
pub struct Enriched {
    pub mentions: Vec<Mention>,
    pub checkpoint: Vec<StateUpdate>,
    /// Ids to delete from the index before the mentions are written.
    pub retract: Vec<String>,
}

/// Writes enriched batches to the index and commits them together with their checkpoints.
pub struct IndexSink {
    index: Arc<MentionIndex>,
    writer: IndexWriter,
    state: Option<Arc<StateStore>>,
    pending_updates: Vec<StateUpdate>,
    pending_docs: usize,
    pub indexed: u64,
    pub commits: u64,
}

impl IndexSink {
    pub fn new(
        index: Arc<MentionIndex>,
        state: Option<Arc<StateStore>>,
        threads: usize,
        memory_mb: usize,
    ) -> Result<IndexSink, IndexError> {
        let writer = index.writer(threads, memory_mb)?;
        Ok(IndexSink {
            index,
            writer,
            state,
            pending_updates: Vec::new(),
            pending_docs: 0,
            indexed: 0,
            commits: 0,
        })
    }

    pub fn write(&mut self, batch: Enriched) -> Result<(), IndexError> {
        for id in &batch.retract {
            self.index.delete(&self.writer, id);
        }
        self.pending_docs += batch.retract.len();
        for m in &batch.mentions {
            self.index.upsert(&self.writer, m)?;
        }
        self.pending_docs += batch.mentions.len();
        self.indexed += batch.mentions.len() as u64;
        self.pending_updates.extend(batch.checkpoint);
        Ok(())
    }

    pub fn pending(&self) -> usize {
        self.pending_docs
    }

    /// Commits the index, then persists the checkpoints of everything committed.
    pub fn commit(&mut self) -> anyhow::Result<()> {
        if self.pending_docs == 0 && self.pending_updates.is_empty() {
            return Ok(());
        }
        if self.pending_docs > 0 {
            self.writer
                .commit()
                .map_err(|e| self.index.tantivy_err(e))?;
            self.commits += 1;
        }
        if let Some(state) = &self.state {
            state.apply(&self.pending_updates)?;
        }
        self.pending_updates.clear();
        self.pending_docs = 0;
        self.index.reload()?;
        Ok(())
    }

    /// Waits for merges to finish so the index is compact when the process exits.
    pub fn finish(mut self) -> anyhow::Result<()> {
        self.commit()?;
        self.writer
            .wait_merging_threads()
            .map_err(|e| self.index.tantivy_err(e))?;
        Ok(())
    }
}

/// What `hark run --once` reports.
#[derive(Debug, Default, Clone, Serialize)]
pub struct RunSummary {
    pub sources: Vec<PollReport>,
    pub collected: u64,
    pub skipped_unchanged: u64,
    pub unmatched: u64,
    pub indexed: u64,
    pub commits: u64,
    /// Sources that could not be started (e.g. a kind this build does not have).
    pub disabled: Vec<String>,
    /// Alerts raised by rule evaluation, and what happened to their deliveries.
    pub alerts_raised: usize,
    pub alert_deliveries: crate::alerts::deliver::DeliveryReport,
}

/// The long-lived pieces of a deployment.
pub struct Runtime {
    pub config: Config,
    pub index: Arc<MentionIndex>,
    pub state: Arc<StateStore>,
    pub enricher: Arc<Enricher>,
    pub fetcher: Fetcher,
    /// Counters for `/metrics` when the web server runs in this process.
    pub metrics: Arc<crate::serve::metrics::Metrics>,
}

impl Runtime {
    pub fn open(config: Config) -> anyhow::Result<Runtime> {
        use anyhow::Context;
        let data = config.data_dir();
        std::fs::create_dir_all(&data)
            .with_context(|| format!("cannot create data dir {}", data.display()))?;
        let index = Arc::new(MentionIndex::open_or_create(&data.join("index"))?);
        let state = Arc::new(StateStore::open(&data.join("state.redb"))?);
        let classifier: Arc<dyn crate::sentiment::Classifier> = Arc::from(
            crate::sentiment::load(&config.sentiment.model, &config.sentiment, &config.root)
                .map_err(anyhow::Error::msg)?,
        );
        let enricher = Arc::new(Enricher::new(&config.queries, classifier));
        let fetcher = Fetcher::new(&config.http).context("cannot build the HTTP client")?;
        Ok(Runtime {
            config,
            index,
            state,
            enricher,
            fetcher,
            metrics: Arc::default(),
        })
    }
}

#[derive(Debug, Default)]
struct EnrichCounts {
    collected: u64,
    skipped_unchanged: u64,
    unmatched: u64,
}

/// Drops items already indexed with the same content, enriches the rest (in parallel).
fn enrich_batch(
    enricher: &Enricher,
    state: &StateStore,
    batch: Batch,
    counts: &mut EnrichCounts,
) -> anyhow::Result<Enriched> {
    counts.collected += batch.mentions.len() as u64;
    let fps: Vec<u64> = batch
        .mentions
        .iter()
        .map(|m| enricher.fingerprint(m))
        .collect();
    let keys: Vec<(&str, u64)> = batch
        .mentions
        .iter()
        .zip(&fps)
        .map(|(m, f)| (m.id.as_str(), *f))
        .collect();
    let seen = state.seen_many(&keys)?;
    let mut checkpoint = Vec::new();
    let fresh: Vec<Mention> = batch
        .mentions
        .into_iter()
        .zip(fps)
        .zip(seen)
        .filter_map(|((m, fp), seen)| {
            if seen {
                counts.skipped_unchanged += 1;
                None
            } else {
                checkpoint.push(StateUpdate::Seen {
                    id: m.id.clone(),
                    fingerprint: fp,
                });
                Some(m)
            }
        })
        .collect();
    let n = fresh.len();
    let hint = batch.lang_hint.as_deref();
    let mentions: Vec<Mention> = enricher.enrich_many(fresh, hint, Unmatched::Drop);
    counts.unmatched += (n - mentions.len()) as u64;
    checkpoint.extend(batch.checkpoint);
    Ok(Enriched {
        mentions,
        checkpoint,
        retract: batch.retract,
    })
}

/// Runs the pipeline. With `once`, every source is polled once and the call returns when
/// everything collected is committed; otherwise it runs until `shutdown` turns true, then
/// drains and commits. `on_commit` is called after every commit (alert evaluation hooks in
/// here).
pub async fn run(
    rt: &Runtime,
    once: bool,
    shutdown: watch::Receiver<bool>,
    on_commit: Arc<dyn Fn(&MentionIndex) + Send + Sync>,
) -> anyhow::Result<RunSummary> {
    let cap = rt.config.pipeline.channel_capacity.max(1);
    let (raw_tx, mut raw_rx) = mpsc::channel::<Batch>(cap);
    let (enr_tx, mut enr_rx) = mpsc::channel::<Enriched>(cap);
    let mut summary = RunSummary::default();

    let mut built: Vec<Arc<dyn Source>> = Vec::new();
    for sc in rt.config.sources.iter().filter(|s| s.enabled) {
        match sources::build(sc, &rt.config.queries) {
            Ok(s) => built.push(Arc::from(s)),
            Err(e) => {
                tracing::error!(source = %sc.name, error = %e, "source disabled");
                summary.disabled.push(format!("{}: {e}", sc.name));
            }
        }
    }
    let ctx = SourceContext {
        fetcher: rt.fetcher.clone(),
        state: rt.state.clone(),
    };

    // Sources.
    let mut source_tasks = Vec::new();
    for src in built {
        let tx = raw_tx.clone();
        let ctx = ctx.clone();
        let mut stop = shutdown.clone();
        let metrics = rt.metrics.clone();
        source_tasks.push(tokio::spawn(async move {
            let mut reports = Vec::new();
            loop {
                if *stop.borrow() {
                    break;
                }
                let report = tokio::select! {
                    r = src.poll(&ctx, &tx) => r,
                    _ = stop.changed() => break,
                };
                tracing::info!(
                    source = %report.source, requests = report.requests,
                    not_modified = report.not_modified, items = report.items,
                    errors = report.errors.len(), "poll finished"
                );
                metrics.record_poll(&report.source, report.items, report.errors.len());
                reports.push(report);
                if once {
                    break;
                }
                tokio::select! {
                    _ = tokio::time::sleep(src.interval()) => {}
                    _ = stop.changed() => break,
                }
            }
            reports
        }));
    }
    drop(raw_tx);

    // Enrich: CPU-bound work off the async threads, batches in order.
    let enricher = rt.enricher.clone();
    let state = rt.state.clone();
    let metrics = rt.metrics.clone();
    let enrich_task = tokio::spawn(async move {
        let mut counts = EnrichCounts::default();
        while let Some(batch) = raw_rx.recv().await {
            let enricher = enricher.clone();
            let state = state.clone();
            let n = batch.mentions.len();
            let started = std::time::Instant::now();
            let (res, c) = tokio::task::spawn_blocking(move || {
                let mut c = counts;
                let r = enrich_batch(&enricher, &state, batch, &mut c);
                (r, c)
            })
            .await?;
            metrics.record_classified(n, started.elapsed());
            counts = c;
            match res {
                Ok(e) => {
                    if enr_tx.send(e).await.is_err() {
                        break;
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "enrichment failed; batch will be collected again")
                }
            }
        }
        anyhow::Ok(counts)
    });

    // Sink: a blocking thread that owns the index writer.
    let index = rt.index.clone();
    let state = rt.state.clone();
    let batch_limit = rt.config.pipeline.commit_batch.max(1);
    let sink_task = tokio::task::spawn_blocking(move || -> anyhow::Result<(u64, u64)> {
        let mut sink = IndexSink::new(index.clone(), Some(state), 1, 64)?;
        while let Some(b) = enr_rx.blocking_recv() {
            sink.write(b)?;
            // Commit when the input runs dry (low latency when idle) or the batch is full.
            if sink.pending() >= batch_limit || enr_rx.is_empty() {
                sink.commit()?;
                on_commit(&index);
            }
        }
        let (indexed, commits) = (sink.indexed, sink.commits);
        sink.finish()?;
        Ok((indexed, commits))
    });

    for t in source_tasks {
        summary.sources.extend(t.await?);
    }
    let counts = enrich_task.await??;
    let (indexed, commits) = sink_task.await??;
    summary.collected = counts.collected;
    summary.skipped_unchanged = counts.skipped_unchanged;
    summary.unmatched = counts.unmatched;
    summary.indexed = indexed;
    summary.commits = commits;
    Ok(summary)
}

/// Resolves when SIGINT or SIGTERM arrives; flips `tx` to true.
pub async fn forward_signals(tx: watch::Sender<bool>) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutting down: draining the pipeline and committing");
    let _ = tx.send(true);
}

/// Evaluates every alert rule now and records what fires; then delivers what is due.
pub async fn evaluate_and_deliver(
    rt: &Arc<Runtime>,
    client: &reqwest::Client,
) -> anyhow::Result<(usize, crate::alerts::deliver::DeliveryReport)> {
    let raised = if rt.config.alerts.is_empty() {
        0
    } else {
        let rt2 = rt.clone();
        tokio::task::spawn_blocking(move || {
            let engine = crate::alerts::engine::Engine {
                index: &rt2.index,
                state: &rt2.state,
                config: &rt2.config,
            };
            engine.evaluate_all(chrono::Utc::now()).map(|a| a.len())
        })
        .await??
    };
    let report = crate::alerts::deliver::deliver_due(&rt.state, &rt.config, client).await?;
    Ok((raised, report))
}

/// `hark run`'s alert stage: evaluates after every commit (and every minute, so that a spike
/// ending or a retry coming due is noticed without new mentions), until `stop`.
pub async fn alert_loop(
    rt: Arc<Runtime>,
    commits: Arc<tokio::sync::Notify>,
    mut stop: watch::Receiver<bool>,
) {
    let client = crate::alerts::deliver::webhook_client(&rt.config);
    loop {
        tokio::select! {
            _ = commits.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(60)) => {}
            _ = stop.changed() => return,
        }
        if let Err(e) = evaluate_and_deliver(&rt, &client).await {
            tracing::error!(error = %e, "alert evaluation failed");
        }
    }
}
