//! `hark run --role indexer`: the cluster's one index writer.
//!
//! Enriched parts go through the single process's `IndexSink` (the same upserts, duplicate
//! handling, triage restore and crash-safe commits), preceded by the filters that need the
//! state store (retention, erased, unchanged). Each part is acknowledged only after the
//! commit that made it durable; then, once every part of its batch is committed, the
//! batch's cursors and validators are written to the cluster's KV state (and to the local
//! store). A crash anywhere before the acknowledgement redelivers the part, which replaces
//! itself by mention id.
//!
//! A lease (`role.indexer`) keeps a second indexer from splitting the stream with the first:
//! it waits for the lease and gives up with an error naming the holder.

use super::lease::Leases;
use super::workers::{Counters, Worker};
use super::{Bus, INDEX_CONSUMER, wire::WireBatch};
use crate::pipeline::{self, EnrichCounts, Enriched, RunSummary, Runtime};
use crate::state::StateUpdate;
use async_nats::jetstream::AckKind;
use futures::StreamExt;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot, watch};

/// The lease key the indexer holds.
pub const INDEXER_LEASE: &str = "role.indexer";

/// A part written to the sink, waiting for its commit.
struct Pending {
    committed: oneshot::Receiver<()>,
    msg: async_nats::jetstream::Message,
    batch: String,
    part: u32,
    parts: u32,
    checkpoint: Vec<StateUpdate>,
}

/// Parts of multi-part batches committed so far, and the checkpoint once its part is in.
#[derive(Default)]
struct Assembly {
    committed: BTreeSet<u32>,
    checkpoint: Option<Vec<StateUpdate>>,
    first_seen: Option<Instant>,
}

/// Runs until `shutdown` (or until the lease is lost), then drains: what was taken is
/// committed and acknowledged.
pub async fn run(
    rt: Arc<Runtime>,
    worker: Arc<Worker>,
    shutdown: watch::Receiver<bool>,
    on_commit: Arc<dyn Fn(&crate::index::MentionIndex) + Send + Sync>,
    edits: Option<mpsc::Receiver<Enriched>>,
) -> anyhow::Result<RunSummary> {
    let bus = Bus::join(&rt.config, &worker, &rt.metrics, &shutdown).await?;
    let cluster = bus.config.clone();
    let ttl = cluster.lease_ttl.0;
    let leases = Leases::new(bus.bucket(&bus.names.leases).await?, &worker.id, ttl);
    let mut lease = {
        let deadline = Instant::now() + ttl * 2 + Duration::from_secs(2);
        loop {
            if let Some(l) = leases.try_acquire(INDEXER_LEASE).await? {
                break l;
            }
            if Instant::now() > deadline {
                let holder = leases
                    .all()
                    .await
                    .ok()
                    .and_then(|all| all.into_iter().find(|(k, _)| k == INDEXER_LEASE))
                    .map_or_else(|| "another worker".to_string(), |(_, h)| h.worker);
                anyhow::bail!(
                    "another indexer ({holder}) holds the index: a cluster has exactly one indexer"
                );
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    };
    // Our own stop: the shutdown, or the lease taken by another indexer. While the lease
    // cannot be renewed (NATS unreachable, a leader election), taking new messages pauses;
    // a lease that merely expired meanwhile is taken again.
    let (stop_tx, stop) = watch::channel(false);
    let (paused_tx, paused) = watch::channel(false);
    let lost = Arc::new(std::sync::atomic::AtomicBool::new(false));
    {
        let mut shutdown = shutdown.clone();
        let leases = leases.clone();
        let lost = lost.clone();
        let health = rt.metrics.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(ttl / 4) => {}
                    _ = shutdown.changed() => break,
                }
                let renewed = match leases.renew(&mut lease).await {
                    Ok(true) => Ok(true),
                    // Gone: expired (we were cut off) or taken. Expired is ours again.
                    Ok(false) => match leases.try_acquire(INDEXER_LEASE).await {
                        Ok(Some(l)) => {
                            tracing::warn!("the indexer lease had expired: taken again");
                            lease = l;
                            Ok(true)
                        }
                        Ok(None) => Ok(false),
                        Err(e) => Err(e),
                    },
                    Err(e) => Err(e),
                };
                match renewed {
                    Ok(true) => {
                        let _ = paused_tx.send(false);
                    }
                    Ok(false) => {
                        lost.store(true, std::sync::atomic::Ordering::SeqCst);
                        health.set_index_fault("another indexer holds the index lease");
                        tracing::error!("another indexer took the index lease: stopping");
                        break;
                    }
                    Err(e) => {
                        if !leases.trusted(&lease) && !*paused_tx.borrow() {
                            tracing::warn!(error = %e, "indexer lease not renewed in time: pausing until it is");
                            let _ = paused_tx.send(true);
                        } else {
                            tracing::debug!(error = %e, "indexer lease renewal failed: retrying");
                        }
                    }
                }
            }
            let _ = stop_tx.send(true);
            leases.release(lease).await;
        });
    }

    let cap = rt.config.pipeline.channel_capacity.max(1);
    let (enr_tx, enr_rx) = mpsc::channel::<Enriched>(cap);
    if let Some(edits) = edits {
        pipeline::spawn_edits(edits, enr_tx.clone(), stop.clone());
    }
    let retention_task = pipeline::spawn_retention(&rt, false, stop.clone(), enr_tx.clone());
    let sink_task = pipeline::spawn_sink(&rt, stop.clone(), on_commit, enr_rx);
    let (pending_tx, pending_rx) = mpsc::channel::<Pending>(cluster.max_in_flight.max(cap));
    let state_kv = bus.bucket(&bus.names.state).await?;
    let acker = tokio::spawn(ack_loop(
        rt.clone(),
        state_kv,
        pending_rx,
        worker.clone(),
        stop.clone(),
    ));
    let heartbeat = tokio::spawn(worker.clone().heartbeat_loop(
        bus.clone(),
        (ttl / 4).max(Duration::from_millis(500)),
        stop.clone(),
    ));
    let consumer =
        super::enricher::work_queue(&bus, &bus.names.enriched_stream, INDEX_CONSUMER).await?;
    tracing::info!(worker = %worker.id, "indexer started");

    let mut counts = EnrichCounts::default();
    let retention = rt.config.storage.retention_period();
    let mut stop_rx = stop.clone();
    'outer: loop {
        let Some(mut messages) = bus.pull(&consumer, &mut stop_rx).await else {
            break;
        };
        loop {
            if *paused.borrow() {
                // Let the unacknowledged messages go back; take nothing until the lease holds.
                drop(messages);
                let mut p = paused.clone();
                loop {
                    if !*p.borrow() {
                        break;
                    }
                    tokio::select! {
                        _ = p.changed() => {}
                        _ = stop_rx.changed() => break 'outer,
                    }
                }
                continue 'outer;
            }
            let next = tokio::select! {
                m = messages.next() => m,
                _ = stop_rx.changed() => break 'outer,
            };
            let msg = match next {
                None => continue 'outer,
                Some(Err(e)) => {
                    tracing::debug!(error = %e, "pull interrupted: pulling again");
                    continue 'outer;
                }
                Some(Ok(msg)) => msg,
            };
            let c = &worker.counters;
            if msg.info().is_ok_and(|i| i.delivered > 1) {
                Counters::add(&c.redelivered, 1);
            }
            let mut part = match WireBatch::decode(&msg.payload) {
                Ok(p) => p,
                Err(e) => {
                    Counters::add(&c.undecodable, 1);
                    tracing::error!(error = %e, "dropping a message that is not a hark batch");
                    let _ = msg.ack_with(AckKind::Term).await;
                    continue;
                }
            };
            counts.collected += part.mentions.len() as u64;
            let (enricher, state) = (rt.enricher.clone(), rt.state.clone());
            let mut c2 = std::mem::take(&mut counts);
            let (part_back, seen, c2) = tokio::task::spawn_blocking(move || {
                let seen = pipeline::filter_stored(
                    &enricher,
                    &state,
                    retention,
                    &part.source,
                    &mut part.mentions,
                    &mut c2,
                );
                (part, seen, c2)
            })
            .await?;
            counts = c2;
            part = part_back;
            let seen = match seen {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!(error = %e, "cannot read the state store: the part will be retried");
                    let _ = msg
                        .ack_with(AckKind::Nak(Some(Duration::from_secs(5))))
                        .await;
                    continue;
                }
            };
            Counters::add(&c.mentions, part.mentions.len() as u64);
            let (done_tx, done_rx) = oneshot::channel();
            let batch = Enriched {
                mentions: std::mem::take(&mut part.mentions),
                checkpoint: seen,
                retract: std::mem::take(&mut part.retract),
                ack: Some(done_tx),
            };
            if enr_tx.send(batch).await.is_err() {
                break 'outer;
            }
            let pending = Pending {
                committed: done_rx,
                msg,
                batch: part.batch,
                part: part.part,
                parts: part.parts,
                checkpoint: part.checkpoint,
            };
            if pending_tx.send(pending).await.is_err() {
                break 'outer;
            }
        }
    }
    // Drain: the sink commits what it has, the acker acknowledges it.
    drop(enr_tx);
    drop(pending_tx);
    let mut summary = RunSummary::default();
    if let Some(t) = retention_task {
        summary.retention_deleted = t.await?;
    }
    let sink = sink_task.await?;
    let _ = acker.await;
    let _ = heartbeat.await;
    let (indexed, commits, duplicates) = sink?;
    summary.collected = counts.collected;
    summary.skipped_unchanged = counts.skipped_unchanged;
    summary.skipped_erased = counts.skipped_erased;
    summary.skipped_expired = counts.skipped_expired;
    summary.indexed = indexed;
    summary.commits = commits;
    summary.duplicates = duplicates;
    tracing::info!(worker = %worker.id, counters = ?worker.counters.snapshot(), "indexer stopped");
    if lost.load(std::sync::atomic::Ordering::SeqCst) && !*shutdown.borrow() {
        anyhow::bail!(
            "the indexer lease was lost: stopped so that two indexers never split the stream"
        );
    }
    Ok(summary)
}

/// Acknowledges parts in the order they were written, each once its commit is done, and
/// stores a batch's checkpoint once all its parts are committed.
async fn ack_loop(
    rt: Arc<Runtime>,
    state_kv: async_nats::jetstream::kv::Store,
    mut rx: mpsc::Receiver<Pending>,
    worker: Arc<Worker>,
    stop: watch::Receiver<bool>,
) {
    let mut assembling: HashMap<String, Assembly> = HashMap::new();
    while let Some(p) = rx.recv().await {
        if p.committed.await.is_err() {
            // The sink stopped without committing it: not acknowledged, so redelivered.
            continue;
        }
        let checkpoint = if p.parts <= 1 {
            Some(p.checkpoint)
        } else {
            let a = assembling.entry(p.batch.clone()).or_default();
            a.first_seen.get_or_insert_with(Instant::now);
            a.committed.insert(p.part);
            if p.part + 1 == p.parts {
                a.checkpoint = Some(p.checkpoint);
            }
            if a.committed.len() as u32 == p.parts {
                assembling.remove(&p.batch).and_then(|a| a.checkpoint)
            } else {
                None
            }
        };
        if let Some(cp) = checkpoint.filter(|c| !c.is_empty()) {
            store_checkpoint(&rt, &state_kv, &cp, &stop).await;
        }
        if let Err(e) = p.msg.ack().await {
            tracing::warn!(error = %e, "acknowledgement lost: the part will be written again (harmless)");
        }
        Counters::add(&worker.counters.acked, 1);
        // A batch whose other parts never come (an earlier indexer acknowledged them before
        // it died): its checkpoint is dropped, so the source collects those items again.
        assembling.retain(|batch, a| {
            let fresh = a
                .first_seen
                .is_some_and(|t| t.elapsed() < Duration::from_secs(600));
            if !fresh {
                tracing::warn!(
                    batch,
                    "incomplete batch dropped after 10 min: its source will collect it again"
                );
            }
            fresh
        });
    }
}

/// Writes a committed batch's state: the local store, then the cluster's KV (retried until
/// it succeeds or the indexer stops; not acknowledging meanwhile holds the stream back).
async fn store_checkpoint(
    rt: &Runtime,
    kv: &async_nats::jetstream::kv::Store,
    checkpoint: &[StateUpdate],
    stop: &watch::Receiver<bool>,
) {
    if let Err(e) = rt.state.apply(checkpoint) {
        tracing::error!(error = %e, "cannot store a batch's state locally");
    }
    let mut attempt = 0u32;
    loop {
        match super::state::apply(kv, checkpoint).await {
            Ok(()) => return,
            Err(e) => {
                if attempt.is_multiple_of(20) {
                    tracing::warn!(error = %e, "cannot store a batch's cursors in the cluster yet: retrying");
                }
            }
        }
        if *stop.borrow() && attempt > 10 {
            tracing::error!(
                "shutting down before a batch's cursors were stored: its source will collect it again"
            );
            return;
        }
        attempt += 1;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
