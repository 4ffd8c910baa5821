//! `hark cluster status`: the workers, who holds which lease, and how far behind each
//! stage is.

use super::lease::{Holder, Leases};
use super::workers::WorkerInfo;
use super::{Bus, ClusterError, boxed, name_of};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct ClusterStatus {
    pub workers: Vec<WorkerInfo>,
    pub leases: Vec<LeaseInfo>,
    pub streams: Vec<StreamStatus>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LeaseInfo {
    /// A source's name, or `indexer`.
    pub name: String,
    pub worker: String,
    pub since: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StreamStatus {
    pub name: String,
    /// Messages stored, not yet consumed by the next stage.
    pub messages: u64,
    pub bytes: u64,
    pub max_bytes: i64,
    pub replicas: usize,
    pub consumers: Vec<ConsumerStatus>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConsumerStatus {
    pub name: String,
    /// Messages not yet delivered to a worker (the stage's lag).
    pub pending: u64,
    /// Delivered, not yet acknowledged (in the workers' hands).
    pub ack_pending: usize,
    /// Messages delivered more than once (a worker died or was too slow).
    pub redelivered: usize,
    /// Pull requests waiting (idle workers).
    pub waiting: usize,
}

pub async fn status(bus: &Bus) -> Result<ClusterStatus, ClusterError> {
    let workers = super::workers::live(bus).await?;
    let leases_kv = bus.bucket(&bus.names.leases).await?;
    let leases = Leases::new(leases_kv, "status", bus.config.lease_ttl.0);
    let mut lease_list: Vec<LeaseInfo> = leases
        .all()
        .await?
        .into_iter()
        .map(|(key, h): (String, Holder)| LeaseInfo {
            name: match key.strip_prefix("src.") {
                Some(k) => name_of(k),
                None => key.strip_prefix("role.").unwrap_or(&key).to_string(),
            },
            worker: h.worker,
            since: h.since,
        })
        .collect();
    lease_list.sort_by(|a, b| a.name.cmp(&b.name));
    let mut streams = Vec::new();
    for name in [&bus.names.raw_stream, &bus.names.enriched_stream] {
        let err = |e: async_nats::Error| ClusterError::JetStream {
            what: format!("cannot read the stream {name}"),
            source: e,
        };
        let mut stream = bus.js.get_stream(name).await.map_err(|e| err(boxed(e)))?;
        let info = stream.info().await.map_err(|e| err(boxed(e)))?.clone();
        let mut consumers = Vec::new();
        for consumer in [super::ENRICH_CONSUMER, super::INDEX_CONSUMER] {
            if let Ok(ci) = stream.consumer_info(consumer).await {
                consumers.push(ConsumerStatus {
                    name: consumer.to_string(),
                    pending: ci.num_pending,
                    ack_pending: ci.num_ack_pending,
                    redelivered: ci.num_redelivered,
                    waiting: ci.num_waiting,
                });
            }
        }
        streams.push(StreamStatus {
            name: name.clone(),
            messages: info.state.messages,
            bytes: info.state.bytes,
            max_bytes: info.config.max_bytes,
            replicas: info.config.num_replicas,
            consumers,
        });
    }
    Ok(ClusterStatus {
        workers,
        leases: lease_list,
        streams,
    })
}

/// The status for people.
pub fn write_table(out: &mut impl std::io::Write, s: &ClusterStatus) -> std::io::Result<()> {
    writeln!(out, "Workers ({}):", s.workers.len())?;
    if s.workers.is_empty() {
        writeln!(out, "  none alive")?;
    }
    for w in &s.workers {
        let counters: Vec<String> = w
            .counters
            .iter()
            .filter(|(_, v)| **v > 0)
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        writeln!(
            out,
            "  {:<10} {:<40} pid {:<7} last beat {}  {}",
            w.role.as_str(),
            w.id,
            w.pid,
            w.beat_at.format("%H:%M:%S"),
            counters.join(" ")
        )?;
    }
    writeln!(out, "Leases ({}):", s.leases.len())?;
    for l in &s.leases {
        writeln!(
            out,
            "  {:<30} held by {} since {}",
            l.name,
            l.worker,
            l.since.format("%Y-%m-%d %H:%M:%S")
        )?;
    }
    writeln!(out, "Streams:")?;
    for st in &s.streams {
        writeln!(
            out,
            "  {:<20} {} messages, {} bytes of {} (replicas {})",
            st.name, st.messages, st.bytes, st.max_bytes, st.replicas
        )?;
        for c in &st.consumers {
            writeln!(
                out,
                "    consumer {:<8} lag {} pending, {} in workers' hands, {} redelivered, {} idle pulls",
                c.name, c.pending, c.ack_pending, c.redelivered, c.waiting
            )?;
        }
    }
    Ok(())
}
