//! `hark run --role collector`: polls the sources this process holds a lease on and
//! publishes their batches to the raw stream.
//!
//! Every scan (a quarter of the lease TTL) the collector lists the live collectors,
//! renews its leases and takes the free sources that rendezvous hashing gives it; a source
//! it holds that now prefers another collector (one joined) is released between two polls,
//! after two scans, so the newcomer takes it without both polling at once. Before each
//! poll the source's cursors and validators are loaded from the cluster's KV state, so a
//! source taken over from a dead collector resumes where the last committed poll stopped.

use super::lease::{Lease, Leases, preferred};
use super::workers::{Counters, Worker};
use super::{Bus, ClusterError, Role, key_for, wire};
use crate::config::Config;
use crate::sources::{self, Batch, Source, SourceContext};
use crate::state::StateStore;
use anyhow::Context;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};

/// A source this collector holds.
struct Held {
    lease: Lease,
    task: tokio::task::JoinHandle<()>,
    /// Set while a poll runs: a rebalance waits for it to finish.
    polling: Arc<AtomicBool>,
    /// Until when the poll may go on without a renewal (see `Leases::trusted`).
    trusted_until: Arc<Mutex<Instant>>,
    /// Consecutive scans in which another collector was preferred for it.
    unwanted: u32,
}

/// The lease key of a source.
pub fn lease_key(source: &str) -> String {
    format!("src.{}", key_for(source))
}

/// Runs until `shutdown`, then finishes the running polls, publishes what they collected
/// and gives its leases up so another collector takes the sources over at once.
pub async fn run(
    config: Config,
    worker: Arc<Worker>,
    shutdown: watch::Receiver<bool>,
    metrics: Arc<crate::metrics::Metrics>,
) -> anyhow::Result<()> {
    let bus = Bus::join(&config, &worker, &metrics, &shutdown).await?;
    let cluster = bus.config.clone();
    let data = config.data_dir();
    std::fs::create_dir_all(&data)
        .with_context(|| format!("cannot create data dir {}", data.display()))?;
    // A cache of the sources' state for the pollers; the cluster's KV bucket is the truth.
    let local = Arc::new(StateStore::open(&data.join("collector-state.redb"))?);
    let policy = crate::http::OutboundPolicy::from_config(&config);
    let fetcher =
        crate::http::Fetcher::new(&config.http, policy).context("cannot build the HTTP client")?;
    let ctx = SourceContext {
        fetcher,
        state: local,
    };
    let mut built: BTreeMap<String, Arc<dyn Source>> = BTreeMap::new();
    for sc in config.sources.iter().filter(|s| s.enabled) {
        match sources::build(sc, crate::config::search_terms(sc, &config.queries)) {
            Ok(s) => {
                built.insert(sc.name.clone(), Arc::from(s));
            }
            Err(e) => tracing::error!(source = %sc.name, error = %e, "source disabled"),
        }
    }
    let ttl = cluster.lease_ttl.0;
    let leases = Leases::new(bus.bucket(&bus.names.leases).await?, &worker.id, ttl);
    let state_kv = bus.bucket(&bus.names.state).await?;
    let (tx, rx) = mpsc::channel::<Batch>(config.pipeline.channel_capacity.max(1));
    let publisher = tokio::spawn(publish_loop(
        bus.clone(),
        rx,
        worker.clone(),
        shutdown.clone(),
    ));
    let scan = (ttl / 4).max(Duration::from_millis(500));
    let heartbeat = tokio::spawn(worker.clone().heartbeat_loop(
        bus.clone(),
        scan,
        shutdown.clone(),
    ));
    tracing::info!(worker = %worker.id, sources = built.len(), "collector started");

    let mut held: BTreeMap<String, Held> = BTreeMap::new();
    let mut collectors: Vec<String> = vec![worker.id.clone()];
    let mut stop = shutdown.clone();
    loop {
        match super::workers::live(&bus).await {
            Ok(all) => {
                collectors = all
                    .into_iter()
                    .filter(|w| w.role == Role::Collector)
                    .map(|w| w.id)
                    .collect();
                if !collectors.contains(&worker.id) {
                    collectors.push(worker.id.clone());
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot list the collectors: keeping the last view")
            }
        }
        // Renew what we hold; stop polling what we lost.
        let mut lost = Vec::new();
        for (name, h) in held.iter_mut() {
            match leases.renew(&mut h.lease).await {
                Ok(true) => {
                    *h.trusted_until.lock().expect("deadline") = Instant::now() + ttl * 2 / 3;
                }
                Ok(false) => lost.push(name.clone()),
                Err(e) if !leases.trusted(&h.lease) => {
                    tracing::warn!(source = %name, error = %e, "lease not renewed in time");
                    lost.push(name.clone());
                }
                Err(e) => {
                    tracing::warn!(source = %name, error = %e, "lease renewal failed: retrying")
                }
            }
        }
        for name in lost {
            if let Some(h) = held.remove(&name) {
                h.task.abort();
                Counters::add(&worker.counters.leases_lost, 1);
                tracing::warn!(source = %name, "lease lost: stopped polling this source");
            }
        }
        // Take what is ours; hand back what another collector should have.
        for (name, src) in &built {
            let key = lease_key(name);
            let mine = preferred(&key, &collectors) == Some(worker.id.as_str());
            if let Some(h) = held.get_mut(name) {
                h.unwanted = if mine { 0 } else { h.unwanted + 1 };
                if h.unwanted >= 2 && !h.polling.load(Ordering::SeqCst) {
                    let h = held.remove(name).expect("held");
                    h.task.abort();
                    leases.release(h.lease).await;
                    tracing::info!(source = %name, "source handed over to another collector");
                }
            } else if mine {
                match leases.try_acquire(&key).await {
                    Ok(Some(lease)) => {
                        tracing::info!(source = %name, "took the source");
                        let polling = Arc::new(AtomicBool::new(false));
                        let trusted_until = Arc::new(Mutex::new(Instant::now() + ttl * 2 / 3));
                        let task = tokio::spawn(poll_loop(
                            src.clone(),
                            ctx.clone(),
                            state_kv.clone(),
                            tx.clone(),
                            polling.clone(),
                            trusted_until.clone(),
                            worker.clone(),
                            metrics.clone(),
                            shutdown.clone(),
                        ));
                        held.insert(
                            name.clone(),
                            Held {
                                lease,
                                task,
                                polling,
                                trusted_until,
                                unwanted: 0,
                            },
                        );
                    }
                    Ok(None) => {}
                    Err(e) => {
                        tracing::warn!(source = %name, error = %e, "cannot take the source's lease")
                    }
                }
            }
        }
        *worker.sources.lock().expect("sources") = held.keys().cloned().collect();
        tokio::select! {
            _ = tokio::time::sleep(scan) => {}
            _ = stop.changed() => break,
        }
    }
    // Drain: the polls end at the stop; what they sent is published; leases go back.
    for (name, h) in std::mem::take(&mut held) {
        if tokio::time::timeout(Duration::from_secs(10), h.task)
            .await
            .is_err()
        {
            tracing::warn!(source = %name, "poll did not finish within 10 s of the shutdown");
        }
        leases.release(h.lease).await;
    }
    drop(tx);
    let _ = publisher.await;
    let _ = heartbeat.await;
    tracing::info!(worker = %worker.id, counters = ?worker.counters.snapshot(), "collector stopped");
    Ok(())
}

/// Polls one source every interval while its lease holds.
#[allow(clippy::too_many_arguments)]
async fn poll_loop(
    src: Arc<dyn Source>,
    ctx: SourceContext,
    state_kv: async_nats::jetstream::kv::Store,
    tx: mpsc::Sender<Batch>,
    polling: Arc<AtomicBool>,
    trusted_until: Arc<Mutex<Instant>>,
    worker: Arc<Worker>,
    metrics: Arc<crate::metrics::Metrics>,
    mut stop: watch::Receiver<bool>,
) {
    let name = src.name().to_string();
    loop {
        if *stop.borrow() {
            break;
        }
        // Resume from what the cluster has committed for this source.
        let resumed = match super::state::load(&state_kv, &name).await {
            Ok(snap) => ctx
                .state
                .replace_source(&name, &snap)
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = resumed {
            tracing::warn!(source = %name, error = %e, "cannot load the source's state: retrying in 5 s");
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(5)) => continue,
                _ = stop.changed() => break,
            }
        }
        polling.store(true, Ordering::SeqCst);
        let lease_gone = async {
            loop {
                tokio::time::sleep(Duration::from_millis(200)).await;
                if Instant::now() > *trusted_until.lock().expect("deadline") {
                    break;
                }
            }
        };
        let report = tokio::select! {
            r = src.poll(&ctx, &tx) => Some(r),
            _ = lease_gone => {
                tracing::warn!(source = %name, "lease not renewed in time: poll abandoned");
                None
            }
            _ = stop.changed() => None,
        };
        polling.store(false, Ordering::SeqCst);
        let Some(report) = report else { break };
        tracing::info!(
            source = %report.source, requests = report.requests,
            not_modified = report.not_modified, items = report.items,
            errors = report.errors.len(), "poll finished"
        );
        metrics.record_poll(&report);
        Counters::add(&worker.counters.polls, 1);
        Counters::add(&worker.counters.mentions, report.items as u64);
        tokio::select! {
            _ = tokio::time::sleep(src.interval()) => {}
            _ = stop.changed() => break,
        }
    }
}

/// Publishes the pollers' batches, split to fit the server's payload limit, each part
/// waiting for JetStream's acknowledgement (so a full stream holds the pollers back).
async fn publish_loop(
    bus: Bus,
    mut rx: mpsc::Receiver<Batch>,
    worker: Arc<Worker>,
    stop: watch::Receiver<bool>,
) {
    let subject = bus.names.raw_subject.clone();
    let max = bus.max_message_bytes();
    let c = &worker.counters;
    while let Some(batch) = rx.recv().await {
        for part in wire::split(batch, max) {
            let payload = part.encode();
            let limit = bus.client.server_info().max_payload;
            if limit > 0 && payload.len() > limit {
                // One mention larger than the server accepts: say so, keep going.
                Counters::add(&c.oversize, 1);
                tracing::error!(source = %part.source, bytes = payload.len(), limit,
                    ids = ?part.mentions.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(),
                    "a mention is larger than the NATS server's max_payload: not published (raise max_payload)");
                continue;
            }
            match bus
                .publish(&subject, &part.raw_id(), payload, &stop, &c.publish_waits)
                .await
            {
                Ok(duplicate) => {
                    Counters::add(
                        if duplicate {
                            &c.duplicates
                        } else {
                            &c.published
                        },
                        1,
                    );
                }
                Err(ClusterError::Stopped) => {
                    tracing::warn!(source = %part.source,
                        "shutting down with unpublished batches: their items will be collected again");
                    return;
                }
                Err(e) => tracing::error!(error = %e, "publish failed"),
            }
        }
    }
}
