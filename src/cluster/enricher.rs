//! `hark run --role enricher`: takes raw parts from the shared work-queue consumer, matches
//! the queries, detects the language and scores sentiment, publishes the enriched part and
//! only then acknowledges the raw one. A dead enricher's unacknowledged parts go to another
//! after `ack_wait`; the enriched part's message id makes a second copy a no-op.
//!
//! What an enricher cannot see (it has no index): a reply whose thread parent was stored
//! in an earlier batch takes its parent's queries only in the single process; here such a
//! reply must name a query itself. Accepted exclusion words (kept in the indexer's state
//! store) are not applied by enrichers either.

use super::workers::{Counters, Worker};
use super::{Bus, ENRICH_CONSUMER, wire::WireBatch};
use crate::config::Config;
use crate::enrich::{Enricher, Unmatched};
use anyhow::Context;
use async_nats::jetstream::{AckKind, consumer::pull};
use futures::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Runs until `shutdown`; the part in hand is finished (or left unacknowledged, for another
/// enricher) before it returns.
pub async fn run(
    config: Config,
    worker: Arc<Worker>,
    shutdown: watch::Receiver<bool>,
    metrics: Arc<crate::metrics::Metrics>,
) -> anyhow::Result<()> {
    let bus = Bus::join(&config, &worker, &metrics, &shutdown).await?;
    let cluster = bus.config.clone();
    let enricher = Arc::new(crate::pipeline::build_enricher(&config)?);
    let consumer = work_queue(&bus, &bus.names.raw_stream, ENRICH_CONSUMER).await?;
    let heartbeat = tokio::spawn(worker.clone().heartbeat_loop(
        bus.clone(),
        (cluster.lease_ttl.0 / 4).max(Duration::from_millis(500)),
        shutdown.clone(),
    ));
    tracing::info!(worker = %worker.id, "enricher started");
    let mut stop = shutdown.clone();
    'outer: loop {
        let Some(mut messages) = bus.pull(&consumer, &mut stop).await else {
            break;
        };
        loop {
            let next = tokio::select! {
                m = messages.next() => m,
                _ = stop.changed() => break 'outer,
            };
            match next {
                None => continue 'outer,
                Some(Err(e)) => {
                    tracing::debug!(error = %e, "pull interrupted: pulling again");
                    continue 'outer;
                }
                Some(Ok(msg)) => {
                    handle(&bus, &enricher, &worker, &metrics, msg, &shutdown).await;
                }
            }
        }
    }
    let _ = heartbeat.await;
    tracing::info!(worker = %worker.id, counters = ?worker.counters.snapshot(), "enricher stopped");
    Ok(())
}

/// The durable work-queue consumer `name` of `stream`, shared by all workers of a stage.
pub async fn work_queue(
    bus: &Bus,
    stream: &str,
    name: &str,
) -> anyhow::Result<async_nats::jetstream::consumer::PullConsumer> {
    let s = bus
        .js
        .get_stream(stream)
        .await
        .with_context(|| format!("cannot open the stream {stream}"))?;
    let config = pull::Config {
        durable_name: Some(name.to_string()),
        ack_policy: async_nats::jetstream::consumer::AckPolicy::Explicit,
        ack_wait: bus.config.ack_wait.0,
        max_ack_pending: 100_000,
        ..Default::default()
    };
    s.get_or_create_consumer(name, config)
        .await
        .with_context(|| format!("cannot open the consumer {name} of {stream}"))
}

/// Enriches one raw part: decode, enrich (extending the ack deadline while it works),
/// publish, acknowledge.
async fn handle(
    bus: &Bus,
    enricher: &Arc<Enricher>,
    worker: &Worker,
    metrics: &crate::metrics::Metrics,
    msg: async_nats::jetstream::Message,
    stop: &watch::Receiver<bool>,
) {
    let c = &worker.counters;
    if msg.info().is_ok_and(|i| i.delivered > 1) {
        Counters::add(&c.redelivered, 1);
    }
    let part = match WireBatch::decode(&msg.payload) {
        Ok(p) => p,
        Err(e) => {
            Counters::add(&c.undecodable, 1);
            tracing::error!(subject = %msg.subject, error = %e, "dropping a message that is not a hark batch");
            let _ = msg.ack_with(AckKind::Term).await;
            return;
        }
    };
    let n = part.mentions.len();
    let started = std::time::Instant::now();
    let e = enricher.clone();
    let work = tokio::task::spawn_blocking(move || enrich_part(&e, part));
    tokio::pin!(work);
    let mut progress = tokio::time::interval(bus.config.ack_wait.0 / 3);
    progress.tick().await;
    let enriched = loop {
        tokio::select! {
            r = &mut work => break r,
            _ = progress.tick() => { let _ = msg.ack_with(AckKind::Progress).await; }
        }
    };
    let enriched = match enriched {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "enrichment failed: the part goes to another enricher");
            let _ = msg
                .ack_with(AckKind::Nak(Some(Duration::from_secs(5))))
                .await;
            return;
        }
    };
    metrics.record_classified(n, started.elapsed());
    let kept = enriched.mentions.len();
    match bus
        .publish(
            &bus.names.enriched_subject,
            &enriched.enriched_id(),
            enriched.encode(),
            stop,
            &c.publish_waits,
        )
        .await
    {
        Ok(duplicate) => Counters::add(
            if duplicate {
                &c.duplicates
            } else {
                &c.published
            },
            1,
        ),
        // Not acknowledged: JetStream gives the part to another enricher.
        Err(_) => return,
    }
    if let Err(e) = msg.ack().await {
        tracing::warn!(error = %e, "acknowledgement lost: the part will be enriched again (harmless)");
    }
    Counters::add(&c.acked, 1);
    Counters::add(&c.mentions, kept as u64);
    Counters::add(&c.unmatched, (n - kept) as u64);
}

/// Match, language, sentiment; unmatched mentions are dropped as in the single process.
pub fn enrich_part(enricher: &Enricher, mut part: WireBatch) -> WireBatch {
    let mentions = std::mem::take(&mut part.mentions);
    let hint = part.lang_hint.clone();
    part.mentions = enricher.enrich_thread(mentions, hint.as_deref(), Unmatched::Drop, &|_| None);
    part
}
