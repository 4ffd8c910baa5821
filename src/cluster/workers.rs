//! The workers' registry: each process writes a heartbeat (who it is, what it holds, its
//! counters) to a KV bucket whose `max_age` forgets a worker that stopped beating. Leases
//! are balanced over the collectors listed here, and `hark cluster status` shows them.

use super::lease::entries;
use super::{Bus, ClusterError, Role, boxed};
use async_nats::jetstream::kv;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::watch;

/// A worker's heartbeat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkerInfo {
    pub id: String,
    pub role: Role,
    pub host: String,
    pub pid: u32,
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub beat_at: chrono::DateTime<chrono::Utc>,
    /// Sources this worker holds leases on (collectors).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
    #[serde(default)]
    pub counters: BTreeMap<String, u64>,
}

/// A worker's counters, shown in its heartbeat, `hark cluster status` and `/metrics`.
#[derive(Default)]
pub struct Counters {
    /// Messages published (raw parts by collectors, enriched parts by enrichers).
    pub published: AtomicU64,
    /// Publishes JetStream recognised as duplicates (a re-sent message: dropped).
    pub duplicates: AtomicU64,
    /// Publish attempts that had to wait (stream full, leader election, no connection).
    pub publish_waits: AtomicU64,
    /// Polls run (collectors).
    pub polls: AtomicU64,
    /// Mentions collected (collectors), enriched (enrichers) or written (indexer).
    pub mentions: AtomicU64,
    /// Messages taken and acknowledged (enrichers, indexer).
    pub acked: AtomicU64,
    /// Messages received a second time or later (their first worker died or was slow).
    pub redelivered: AtomicU64,
    /// Messages that were not hark batches: terminated, never redelivered, logged.
    pub undecodable: AtomicU64,
    /// Parts larger than the server's `max_payload` (one huge mention): not published, logged.
    pub oversize: AtomicU64,
    /// Mentions that matched no query (enrichers).
    pub unmatched: AtomicU64,
    /// Leases lost while held (collectors).
    pub leases_lost: AtomicU64,
}

impl Counters {
    pub fn add(c: &AtomicU64, n: u64) {
        c.fetch_add(n, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        [
            ("published", get(&self.published)),
            ("duplicates", get(&self.duplicates)),
            ("publish_waits", get(&self.publish_waits)),
            ("polls", get(&self.polls)),
            ("mentions", get(&self.mentions)),
            ("acked", get(&self.acked)),
            ("redelivered", get(&self.redelivered)),
            ("undecodable", get(&self.undecodable)),
            ("oversize", get(&self.oversize)),
            ("unmatched", get(&self.unmatched)),
            ("leases_lost", get(&self.leases_lost)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// Prometheus text, labelled with the role.
    pub fn write_prometheus(&self, role: Role, out: &mut String) {
        use std::fmt::Write as _;
        for (name, value) in self.snapshot() {
            let metric = format!("hark_cluster_{name}_total");
            crate::metrics::header(
                out,
                &metric,
                "counter",
                &format!("Cluster worker counter: {name}."),
            );
            let _ = writeln!(out, "{metric}{{role=\"{}\"}} {value}", role.as_str());
        }
    }
}

/// This process as a worker: its id and what its heartbeat says.
pub struct Worker {
    pub id: String,
    pub role: Role,
    started_at: chrono::DateTime<chrono::Utc>,
    pub counters: Counters,
    /// Sources held, for the heartbeat (collectors keep it current).
    pub sources: Mutex<Vec<String>>,
}

impl Worker {
    pub fn new(role: Role) -> Worker {
        use rand::Rng;
        let host = super::hostname();
        let tag: u16 = rand::thread_rng().r#gen();
        Worker {
            id: format!(
                "{}-{}-{}-{tag:04x}",
                role.as_str(),
                super::key_for(&host),
                std::process::id()
            ),
            role,
            started_at: chrono::Utc::now(),
            counters: Counters::default(),
            sources: Mutex::new(Vec::new()),
        }
    }

    fn info(&self) -> WorkerInfo {
        WorkerInfo {
            id: self.id.clone(),
            role: self.role,
            host: super::hostname(),
            pid: std::process::id(),
            started_at: self.started_at,
            beat_at: chrono::Utc::now(),
            sources: self.sources.lock().expect("sources").clone(),
            counters: self.counters.snapshot(),
        }
    }

    /// Writes one heartbeat.
    pub async fn beat(&self, kv: &kv::Store) -> Result<(), ClusterError> {
        let value = serde_json::to_vec(&self.info()).expect("heartbeat serialises");
        kv.put(&self.id, value.into())
            .await
            .map(|_| ())
            .map_err(|e| ClusterError::JetStream {
                what: "cannot write the heartbeat".into(),
                source: boxed(e),
            })
    }

    /// Beats every `every` until `stop`, then removes this worker from the registry.
    pub async fn heartbeat_loop(
        self: std::sync::Arc<Self>,
        bus: Bus,
        every: Duration,
        mut stop: watch::Receiver<bool>,
    ) {
        let kv = match bus.bucket(&bus.names.workers).await {
            Ok(kv) => kv,
            Err(e) => {
                tracing::error!(error = %e, "no heartbeat: this worker will not be listed");
                return;
            }
        };
        loop {
            if let Err(e) = self.beat(&kv).await {
                tracing::warn!(error = %e, "heartbeat failed");
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = stop.changed() => break,
            }
        }
        let _ = kv.delete(&self.id).await;
    }
}

/// Every worker whose heartbeat has not expired.
pub async fn live(bus: &Bus) -> Result<Vec<WorkerInfo>, ClusterError> {
    let kv = bus.bucket(&bus.names.workers).await?;
    let mut all: Vec<WorkerInfo> = entries(&kv, "workers")
        .await?
        .into_iter()
        .map(|(_, w)| w)
        .collect();
    all.sort_by(|a, b| (a.role.as_str(), &a.id).cmp(&(b.role.as_str(), &b.id)));
    Ok(all)
}
