//! The pipeline: sources → enrich (match, language, sentiment) → index sink, joined by
//! bounded tokio channels so that a slow stage holds the ones before it back instead of
//! queueing without limit.
//!
//! The sink commits when its input runs dry or `commit_batch` mentions are pending, then
//! applies the batches' checkpoints to the state store (see `state.rs` for why this order
//! makes crashes safe).

pub mod settings;

use crate::config::Config;
use crate::enrich::{Enricher, Unmatched};
use crate::http::Fetcher;
use crate::index::{IndexError, MentionIndex};
use crate::mention::Mention;
use crate::sources::{self, Batch, PollReport, Source, SourceContext};
use crate::state::{StateStore, StateUpdate};
use serde::Serialize;
use std::collections::HashMap;
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
    /// Told once the batch is committed (an edit from the web UI waits for it, so that the
    /// next read sees it).
    pub ack: Option<tokio::sync::oneshot::Sender<()>>,
}

/// One index operation since the last commit, kept until that commit is durable so that a
/// failed commit (a full disk) can be replayed on a fresh writer without losing anything.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // nearly every op is an upsert: boxing would only add an allocation
enum Op {
    Delete(String),
    Upsert(Mention),
}

/// Writes enriched batches to the index and commits them together with their checkpoints.
///
/// **Sources own their mentions.** A mention whose id is already stored by *another* source
/// never replaces it: the stored copy keeps its text, sentiment and engagement, and the
/// newcomer is recorded in its `duplicates` (see [`Mention::record_duplicate`]).
///
/// **Failures.** If a write or commit fails (a full disk, typically), nothing of the
/// uncommitted work is marked done in the state store; [`IndexSink::commit_until_durable`]
/// then retries on a fresh writer, replaying the kept operations, until it succeeds or the
/// process shuts down (the sources were never told their items are stored, so a restart
/// collects them again).
pub struct IndexSink {
    index: Arc<MentionIndex>,
    writer: Option<IndexWriter>,
    threads: usize,
    memory_mb: usize,
    state: Option<Arc<StateStore>>,
    pending_ops: Vec<Op>,
    /// Latest pending upsert per id (index into `pending_ops`).
    pending_by_id: HashMap<String, usize>,
    pending_updates: Vec<StateUpdate>,
    /// Waiting for the next successful commit.
    pending_acks: Vec<tokio::sync::oneshot::Sender<()>>,
    /// The index part of the pending work is committed; only the state store is left.
    index_committed: bool,
    /// A write failed: the writer must be rebuilt before the next commit.
    broken: Option<String>,
    pub indexed: u64,
    pub commits: u64,
    /// Mentions another source already stored: recorded as duplicates, not written.
    pub duplicates: u64,
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
            writer: Some(writer),
            threads,
            memory_mb,
            state,
            pending_ops: Vec::new(),
            pending_by_id: HashMap::new(),
            pending_updates: Vec::new(),
            pending_acks: Vec::new(),
            index_committed: false,
            broken: None,
            indexed: 0,
            commits: 0,
            duplicates: 0,
        })
    }

    /// The stored (or pending) mention with this id, if another source's.
    fn owner_of(&self, searcher: &tantivy::Searcher, m: &Mention) -> Option<Mention> {
        let existing = match self.pending_by_id.get(&m.id) {
            Some(&i) => match &self.pending_ops[i] {
                Op::Upsert(p) => Some(p.clone()),
                Op::Delete(_) => None,
            },
            None if self.index.contains_id_in(searcher, &m.id) => {
                match self.index.get(&m.id) {
                    Ok(stored) => stored,
                    Err(e) => {
                        // Unreadable stored copy: the newcomer replaces it, said so.
                        tracing::warn!(id = %m.id, error = %e,
                            "stored mention unreadable: replaced by the new copy");
                        None
                    }
                }
            }
            None => None,
        };
        existing.filter(|e| e.source != m.source && !m.source.is_empty())
    }

    /// Queues a batch for the next commit. Never fails: a failing writer is noted and the
    /// batch kept, to be replayed by [`IndexSink::commit_until_durable`].
    pub fn write(&mut self, batch: Enriched) {
        for id in batch.retract {
            self.pending_by_id.remove(&id);
            self.apply(Op::Delete(id));
        }
        let mut mentions = batch.mentions;
        self.restore_triage(&mut mentions);
        let searcher = self.index.reader.searcher();
        for m in mentions {
            let op = match self.owner_of(&searcher, &m) {
                Some(mut owner) => {
                    self.duplicates += 1;
                    let before = owner.queries.len();
                    let recorded = owner.record_duplicate(&m);
                    tracing::info!(id = %m.id, source = %m.source, stored_by = %owner.source,
                        "already stored by another source: recorded as a duplicate, not replaced");
                    if !recorded && owner.queries.len() == before {
                        continue;
                    }
                    Op::Upsert(owner)
                }
                None => {
                    self.indexed += 1;
                    Op::Upsert(m)
                }
            };
            if let Op::Upsert(m) = &op {
                self.pending_by_id
                    .insert(m.id.clone(), self.pending_ops.len());
            }
            self.apply(op);
        }
        self.pending_updates.extend(batch.checkpoint);
        self.pending_acks.extend(batch.ack);
    }

    /// Puts the team's recorded decisions back on re-collected mentions (sources know
    /// nothing of triage): a handled, tagged or corrected mention stays so.
    fn restore_triage(&self, mentions: &mut [Mention]) {
        let Some(state) = &self.state else { return };
        let need: Vec<usize> = (0..mentions.len())
            .filter(|&i| mentions[i].triage.is_none())
            .collect();
        if need.is_empty() {
            return;
        }
        let ids: Vec<&str> = need.iter().map(|&i| mentions[i].id.as_str()).collect();
        match state.triage_many(&ids) {
            Ok(recorded) => {
                for (&i, t) in need.iter().zip(recorded) {
                    if let Some(t) = t {
                        mentions[i].apply_triage(t);
                    }
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot read triage decisions: re-collected mentions keep none until the next copy")
            }
        }
    }

    /// Records `op` and hands it to the writer (unless the writer already failed).
    fn apply(&mut self, op: Op) {
        if self.broken.is_none()
            && let Err(e) = self.send_to_writer(&op)
        {
            self.broken = Some(e.to_string());
        }
        self.pending_ops.push(op);
        self.index_committed = false;
    }

    fn send_to_writer(&self, op: &Op) -> Result<(), IndexError> {
        let Some(writer) = &self.writer else {
            return Err(IndexError::Corrupt("no index writer".into()));
        };
        match op {
            Op::Delete(id) => {
                self.index.delete(writer, id);
                Ok(())
            }
            Op::Upsert(m) => self.index.upsert(writer, m),
        }
    }

    pub fn pending(&self) -> usize {
        self.pending_ops.len()
    }

    /// Commits the index, then persists the checkpoints of everything committed. On error
    /// nothing is lost: call it again (after [`IndexSink::rebuild`] for an index error).
    pub fn commit(&mut self) -> anyhow::Result<()> {
        if self.pending_ops.is_empty() && self.pending_updates.is_empty() {
            for ack in self.pending_acks.drain(..) {
                let _ = ack.send(());
            }
            return Ok(());
        }
        if let Some(e) = &self.broken {
            anyhow::bail!("{}", self.with_disk_diagnosis(e));
        }
        if !self.pending_ops.is_empty() && !self.index_committed {
            let writer = self
                .writer
                .as_mut()
                .expect("writer present when not broken");
            if let Err(e) = writer.commit() {
                let e = self.index.tantivy_err(e).to_string();
                self.broken = Some(e.clone());
                anyhow::bail!("{}", self.with_disk_diagnosis(&e));
            }
            self.index_committed = true;
            self.commits += 1;
        }
        if let Some(state) = &self.state {
            state
                .apply(&self.pending_updates)
                .map_err(|e| anyhow::anyhow!("{}", self.with_disk_diagnosis(&e.to_string())))?;
        }
        self.pending_updates.clear();
        self.pending_ops.clear();
        self.pending_by_id.clear();
        self.index_committed = false;
        self.index.reload()?;
        for ack in self.pending_acks.drain(..) {
            let _ = ack.send(());
        }
        Ok(())
    }

    /// The error, with what a write probe of the index's directory says about its disk
    /// (tantivy reports a full disk as "an index writer was killed").
    fn with_disk_diagnosis(&self, e: &str) -> String {
        match crate::index::probe_disk(self.index.path()) {
            Some(disk) => format!("{disk} (index error: {e})"),
            None => e.to_string(),
        }
    }

    /// Drops a failed writer, opens a new one and replays the uncommitted operations.
    pub fn rebuild(&mut self) -> Result<(), IndexError> {
        if self.broken.is_none() || self.index_committed {
            return Ok(());
        }
        if let Some(w) = self.writer.take() {
            // The failed writer's work is discarded; ours is kept in `pending_ops`.
            drop(w);
        }
        let writer = self.index.writer(self.threads, self.memory_mb)?;
        self.writer = Some(writer);
        self.broken = None;
        for op in &self.pending_ops {
            self.send_to_writer(op)?;
        }
        Ok(())
    }

    /// [`IndexSink::commit`], retried until it succeeds: the fault is reported in `health`
    /// (and so in `/healthz` and `/metrics`) and logged once a minute, and the writer is
    /// rebuilt between tries. Meanwhile nothing is read from the channels, so the sources
    /// wait. Gives up only when `stop` turns true, with the uncommitted mentions not marked
    /// as collected (the next run collects them again).
    pub fn commit_until_durable(
        &mut self,
        stop: &watch::Receiver<bool>,
        health: &crate::metrics::Metrics,
    ) -> anyhow::Result<()> {
        let mut attempt: u32 = 0;
        let mut last_log: Option<std::time::Instant> = None;
        loop {
            let result = self.commit();
            let err = match result {
                Ok(()) => {
                    if attempt > 0 {
                        tracing::info!(
                            attempts = attempt + 1,
                            "indexing resumed: commit succeeded"
                        );
                    }
                    health.clear_index_fault();
                    return Ok(());
                }
                Err(e) => e,
            };
            health.set_index_fault(&err.to_string());
            if last_log.is_none_or(|t| t.elapsed() >= Duration::from_secs(60)) {
                tracing::error!(error = %err, pending = self.pending(),
                    "cannot commit the index: sources paused, retrying until it succeeds");
                last_log = Some(std::time::Instant::now());
            }
            let wait = Duration::from_millis(500)
                .saturating_mul(1 << attempt.min(6))
                .min(Duration::from_secs(30));
            let deadline = std::time::Instant::now() + wait;
            while std::time::Instant::now() < deadline {
                if *stop.borrow() {
                    return Err(err.context(format!(
                        "shutting down with {} uncommitted index operations; they were not \
                         marked as collected and will be collected again",
                        self.pending()
                    )));
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            attempt += 1;
            if let Err(e) = self.rebuild() {
                tracing::debug!(error = %e, "index writer could not be reopened yet");
            }
        }
    }

    /// Waits for merges to finish so the index is compact when the process exits.
    pub fn finish(mut self) -> anyhow::Result<()> {
        self.commit()?;
        if let Some(w) = self.writer.take() {
            w.wait_merging_threads()
                .map_err(|e| self.index.tantivy_err(e))?;
        }
        Ok(())
    }
}

/// What `hark run --once` reports.
fn is_zero_u64(n: &u64) -> bool {
    *n == 0
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct RunSummary {
    pub sources: Vec<PollReport>,
    pub collected: u64,
    /// Items sources received but could not use, over all sources (each source's count is
    /// in its report).
    pub skipped_items: u64,
    pub skipped_unchanged: u64,
    pub unmatched: u64,
    /// Collected items erased earlier on request (`hark delete`): not stored again.
    #[serde(skip_serializing_if = "is_zero_u64")]
    pub skipped_erased: u64,
    /// Collected items older than `[storage].retention`: not stored.
    #[serde(skip_serializing_if = "is_zero_u64")]
    pub skipped_expired: u64,
    /// Stored mentions deleted by retention during this run.
    #[serde(skip_serializing_if = "is_zero_u64")]
    pub retention_deleted: u64,
    pub indexed: u64,
    pub commits: u64,
    /// Mentions another source had already stored (same id): recorded in that mention's
    /// `duplicates`, not written over it.
    pub duplicates: u64,
    /// Sources that could not be started (e.g. a kind this build does not have).
    pub disabled: Vec<String>,
    /// Alerts raised by rule evaluation, and what happened to their deliveries.
    pub alerts_raised: usize,
    pub alert_deliveries: crate::alerts::deliver::DeliveryReport,
    /// Scheduled reports e-mailed (or failed, or waiting for a retry) by this run.
    pub reports: crate::report::send::SendReport,
}

/// The long-lived pieces of a deployment.
pub struct Runtime {
    pub config: Config,
    pub index: Arc<MentionIndex>,
    pub state: Arc<StateStore>,
    pub enricher: Arc<Enricher>,
    pub fetcher: Fetcher,
    /// Counters for `/metrics` when the web server runs in this process.
    pub metrics: Arc<crate::metrics::Metrics>,
}

/// The enrich stage for `config`: its queries, the sources' assigned queries and the
/// sentiment models (exclusion words, kept in the state store, are added by the caller).
pub fn build_enricher(config: &Config) -> anyhow::Result<Enricher> {
    let sentiment = Arc::new(
        crate::sentiment::load_router(&config.sentiment.model, &config.sentiment, &config.root)
            .map_err(anyhow::Error::msg)?,
    );
    Ok(Enricher::new(&config.queries, sentiment).with_assigned_queries(&config.sources))
}

impl Runtime {
    pub fn open(config: Config) -> anyhow::Result<Runtime> {
        use anyhow::Context;
        let data = config.data_dir();
        std::fs::create_dir_all(&data)
            .with_context(|| format!("cannot create data dir {}", data.display()))?;
        let index = Arc::new(MentionIndex::open_or_create(&data.join("index"))?);
        let state = Arc::new(StateStore::open(&data.join("state.redb"))?);
        let exclusions = state.exclusions().unwrap_or_else(|e| {
            tracing::error!(error = %e, "cannot read the accepted exclusion words: none applied");
            Default::default()
        });
        let enricher = Arc::new(build_enricher(&config)?.with_exclusions(exclusions));
        let policy = crate::http::OutboundPolicy::from_config(&config);
        let fetcher = Fetcher::new(&config.http, policy).context("cannot build the HTTP client")?;
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

/// What the enrich stage counted.
#[derive(Debug, Default)]
pub struct EnrichCounts {
    pub collected: u64,
    pub skipped_unchanged: u64,
    pub unmatched: u64,
    /// Erased on request, or older than the retention period: not stored again.
    pub skipped_erased: u64,
    pub skipped_expired: u64,
}

/// Drops from `mentions` what must not be written: items older than the retention period,
/// items erased on request, earlier copies superseded later in the same batch, and items
/// already stored with the same content (per source). Returns the `Seen` updates to apply
/// once the rest is committed. The single process runs it before enrichment; the cluster's
/// indexer runs it on enriched batches (it alone has the state store).
pub fn filter_stored(
    enricher: &Enricher,
    state: &StateStore,
    retention: Option<Duration>,
    source: &str,
    mentions: &mut Vec<Mention>,
    counts: &mut EnrichCounts,
) -> Result<Vec<StateUpdate>, crate::state::StateError> {
    // What the deployment must not keep: mentions erased on request (`hark delete`), and
    // mentions older than `[storage].retention`.
    if let Some(keep) = retention.and_then(|r| chrono::Duration::from_std(r).ok()) {
        let horizon = chrono::Utc::now()
            .checked_sub_signed(keep)
            .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
        let before = mentions.len();
        mentions.retain(|m| m.published_at >= horizon);
        counts.skipped_expired += (before - mentions.len()) as u64;
    }
    let ids: Vec<&str> = mentions.iter().map(|m| m.id.as_str()).collect();
    let erased = state.erased_many(&ids)?;
    if erased.iter().any(|e| *e) {
        let mut flags = erased.into_iter();
        let before = mentions.len();
        mentions.retain(|_| !flags.next().unwrap_or(false));
        let n = before - mentions.len();
        counts.skipped_erased += n as u64;
        tracing::info!(
            source,
            erased = n,
            "mentions erased on request were collected again: not stored"
        );
    }
    // The last copy of an item in a batch supersedes earlier ones (a search hit's blurb, then
    // the full post its follow-up fetched): otherwise an unchanged full copy would be dropped
    // as already stored while the earlier, truncated copy replaced it.
    let mut last: HashMap<(String, String), usize> = HashMap::new();
    for (i, m) in mentions.iter().enumerate() {
        last.insert((m.source.clone(), m.id.clone()), i);
    }
    if last.len() < mentions.len() {
        let before = mentions.len();
        let mut i = 0;
        mentions.retain(|m| {
            let keep = last.get(&(m.source.clone(), m.id.clone())) == Some(&i);
            i += 1;
            keep
        });
        tracing::debug!(
            source,
            superseded = before - mentions.len(),
            "earlier copies of items superseded within a batch"
        );
    }
    let fps: Vec<u64> = mentions.iter().map(|m| enricher.fingerprint(m)).collect();
    // Seen per source: another source's copy of a stored item must still reach the sink,
    // to be recorded as a duplicate.
    let seen_keys: Vec<String> = mentions
        .iter()
        .map(|m| format!("{}\u{1f}{}", m.source, m.id))
        .collect();
    let keys: Vec<(&str, u64)> = seen_keys
        .iter()
        .zip(&fps)
        .map(|(k, f)| (k.as_str(), *f))
        .collect();
    let seen = state.seen_many(&keys)?;
    let mut checkpoint = Vec::new();
    let mut flags = seen.into_iter();
    let mut i = 0;
    mentions.retain(|_| {
        let seen = flags.next().unwrap_or(false);
        let keep = if seen {
            counts.skipped_unchanged += 1;
            false
        } else {
            checkpoint.push(StateUpdate::Seen {
                id: seen_keys[i].clone(),
                fingerprint: fps[i],
            });
            true
        };
        i += 1;
        keep
    });
    Ok(checkpoint)
}

/// Drops items already indexed with the same content, enriches the rest (in parallel).
fn enrich_batch(
    enricher: &Enricher,
    state: &StateStore,
    index: &MentionIndex,
    retention: Option<Duration>,
    batch: Batch,
    counts: &mut EnrichCounts,
) -> anyhow::Result<Enriched> {
    counts.collected += batch.mentions.len() as u64;
    let mut batch = batch;
    let mut checkpoint = filter_stored(
        enricher,
        state,
        retention,
        &batch.source,
        &mut batch.mentions,
        counts,
    )?;
    let n = batch.mentions.len();
    let hint = batch.lang_hint.as_deref();
    // A reply whose post is already stored takes the post's queries (see `enrich_thread`).
    let stored_parent = |id: &str| match index.get(id) {
        Ok(m) => m.map(|m| m.queries),
        Err(e) => {
            tracing::warn!(parent = id, error = %e, "cannot read a reply's parent from the index");
            None
        }
    };
    let mentions: Vec<Mention> =
        enricher.enrich_thread(batch.mentions, hint, Unmatched::Drop, &stored_parent);
    counts.unmatched += (n - mentions.len()) as u64;
    checkpoint.extend(batch.checkpoint);
    Ok(Enriched {
        mentions,
        checkpoint,
        retract: batch.retract,
        ack: None,
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
    run_with_edits(rt, once, shutdown, on_commit, None).await
}

/// [`run`], also writing the edits (triage from the web UI and API of `hark run --serve`)
/// that arrive on `edits`: they go through the same sink, so the pipeline's writer is the
/// index's only writer. Edits are taken while the daemon runs (not with `once`).
pub async fn run_with_edits(
    rt: &Runtime,
    once: bool,
    shutdown: watch::Receiver<bool>,
    on_commit: Arc<dyn Fn(&MentionIndex) + Send + Sync>,
    edits: Option<mpsc::Receiver<Enriched>>,
) -> anyhow::Result<RunSummary> {
    let cap = rt.config.pipeline.channel_capacity.max(1);
    let (raw_tx, mut raw_rx) = mpsc::channel::<Batch>(cap);
    let (enr_tx, enr_rx) = mpsc::channel::<Enriched>(cap);
    if let Some(edits) = edits.filter(|_| !once) {
        spawn_edits(edits, enr_tx.clone(), shutdown.clone());
    }
    let mut summary = RunSummary::default();

    let mut built: Vec<Arc<dyn Source>> = Vec::new();
    for sc in rt.config.sources.iter().filter(|s| s.enabled) {
        match sources::build(sc, crate::config::search_terms(sc, &rt.config.queries)) {
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
                metrics.record_poll(&report);
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
    let index = rt.index.clone();
    let metrics = rt.metrics.clone();
    let retention = rt.config.storage.retention_period();
    let retention_task = spawn_retention(rt, once, shutdown.clone(), enr_tx.clone());
    let enrich_task = tokio::spawn(async move {
        let mut counts = EnrichCounts::default();
        while let Some(batch) = raw_rx.recv().await {
            let enricher = enricher.clone();
            let state = state.clone();
            let index = index.clone();
            let n = batch.mentions.len();
            let started = std::time::Instant::now();
            let (res, c) = tokio::task::spawn_blocking(move || {
                let mut c = counts;
                let r = enrich_batch(&enricher, &state, &index, retention, batch, &mut c);
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

    let sink_task = spawn_sink(rt, shutdown.clone(), on_commit, enr_rx);

    for t in source_tasks {
        summary.sources.extend(t.await?);
    }
    let counts = enrich_task.await??;
    if let Some(t) = retention_task {
        summary.retention_deleted = t.await?;
    }
    let (indexed, commits, duplicates) = sink_task.await??;
    summary.collected = counts.collected;
    summary.skipped_items = summary.sources.iter().map(|s| s.skipped_items as u64).sum();
    summary.skipped_unchanged = counts.skipped_unchanged;
    summary.unmatched = counts.unmatched;
    summary.skipped_erased = counts.skipped_erased;
    summary.skipped_expired = counts.skipped_expired;
    summary.indexed = indexed;
    summary.commits = commits;
    summary.duplicates = duplicates;
    Ok(summary)
}

/// Forwards the server's edits into the sink's channel until `stop`.
pub fn spawn_edits(
    mut edits: mpsc::Receiver<Enriched>,
    tx: mpsc::Sender<Enriched>,
    mut stop: watch::Receiver<bool>,
) {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                e = edits.recv() => match e {
                    Some(b) => if tx.send(b).await.is_err() { break },
                    None => break,
                },
                _ = stop.changed() => break,
            }
        }
    });
}

/// Retention: mentions published before now − `[storage].retention` are deleted through
/// the sink (at start, then hourly), in the same crash-safe commits as everything else.
/// Yields the number deleted; `None` when no retention is set.
pub fn spawn_retention(
    rt: &Runtime,
    once: bool,
    shutdown: watch::Receiver<bool>,
    enr_tx: mpsc::Sender<Enriched>,
) -> Option<tokio::task::JoinHandle<u64>> {
    rt.config.storage.retention_period().map(|keep| {
        let tx = enr_tx;
        let index = rt.index.clone();
        let mut stop = shutdown;
        tokio::spawn(async move {
            let mut deleted = 0u64;
            loop {
                let horizon = chrono::Duration::from_std(keep)
                    .ok()
                    .and_then(|k| chrono::Utc::now().checked_sub_signed(k))
                    .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
                let idx = index.clone();
                let sel = crate::index::erase::Selection {
                    before: Some(horizon),
                    ..Default::default()
                };
                match tokio::task::spawn_blocking(move || crate::index::erase::select(&idx, &sel))
                    .await
                {
                    Ok(Ok(ids)) if !ids.is_empty() => {
                        tracing::info!(count = ids.len(), %horizon, "retention: deleting mentions published before the horizon");
                        deleted += ids.len() as u64;
                        let batch = Enriched {
                            retract: ids,
                            ..Default::default()
                        };
                        if tx.send(batch).await.is_err() {
                            break;
                        }
                    }
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => tracing::error!(error = %e, "retention: cannot select old mentions"),
                    Err(e) => tracing::error!(error = %e, "retention task failed"),
                }
                if once {
                    break;
                }
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(3600)) => {}
                    _ = stop.changed() => break,
                }
            }
            deleted
        })
    })
}

/// The sink: a blocking thread that owns the index writer, commits when its input runs dry
/// or `commit_batch` operations are pending, and calls `on_commit` after each commit.
/// Yields (indexed, commits, duplicates) once `enr_rx` closes.
pub fn spawn_sink(
    rt: &Runtime,
    shutdown: watch::Receiver<bool>,
    on_commit: Arc<dyn Fn(&MentionIndex) + Send + Sync>,
    mut enr_rx: mpsc::Receiver<Enriched>,
) -> tokio::task::JoinHandle<anyhow::Result<(u64, u64, u64)>> {
    let index = rt.index.clone();
    let state = rt.state.clone();
    let batch_limit = rt.config.pipeline.commit_batch.max(1);
    let sink_stop = shutdown;
    let health = rt.metrics.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<(u64, u64, u64)> {
        let mut sink = IndexSink::new(index.clone(), Some(state), 1, 64)?;
        while let Some(b) = enr_rx.blocking_recv() {
            sink.write(b);
            // Commit when the input runs dry (low latency when idle) or the batch is full.
            if sink.pending() >= batch_limit || enr_rx.is_empty() {
                sink.commit_until_durable(&sink_stop, &health)?;
                on_commit(&index);
            }
        }
        sink.commit_until_durable(&sink_stop, &health)?;
        let counts = (sink.indexed, sink.commits, sink.duplicates);
        sink.finish()?;
        Ok(counts)
    })
}

impl crate::alerts::runner::AlertContext for Runtime {
    fn index(&self) -> &MentionIndex {
        &self.index
    }
    fn state(&self) -> &StateStore {
        &self.state
    }
    fn config(&self) -> &Config {
        &self.config
    }
}
