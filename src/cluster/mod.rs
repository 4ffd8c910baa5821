//! Scale-out on NATS JetStream: the pipeline's stages as separate processes.
//!
//! ```text
//!  collectors ──raw parts──▶ HARK_RAW (work queue) ──▶ enrichers ──▶ HARK_ENRICHED ──▶ indexer
//!   (leases per source,       R=replicas, discard       (match, lang,   (work queue)     (tantivy, alerts,
//!    cursors from KV)          new: publishers wait)     sentiment)                       API; writes KV
//!                                                                                         cursors after commit)
//! ```
//!
//! - `hark run --role collector`: polls the sources it holds a lease on (`lease.rs`, a
//!   JetStream KV bucket), with the cursors and validators the cluster last committed
//!   (`state.rs`), and publishes raw batches (`wire.rs`).
//! - `--role enricher`: pulls raw parts from a shared work-queue consumer, matches queries,
//!   detects the language, classifies, publishes the enriched part, then acknowledges.
//! - `--role indexer`: the one writer of the index (a lease makes sure of it). It writes the
//!   enriched parts through the same `IndexSink` as the single process, acknowledges only
//!   after the commit, then writes the batches' cursors to KV. Alerts and the API run here.
//!
//! Exactly once in the index: message ids (a hash of the batch's content) let JetStream drop
//! a re-published copy; anything redelivered after that is an upsert by mention id.

pub mod collector;
pub mod enricher;
pub mod health;
pub mod indexer;
pub mod lease;
pub mod settings;
pub mod state;
pub mod status;
pub mod wire;
pub mod workers;

pub use settings::ClusterConfig;

use async_nats::jetstream::{self, kv, stream};
use std::time::Duration;
use tokio::sync::watch;

/// What `hark run --role` makes of this process.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything in one process, no NATS (the default).
    All,
    /// Poll sources, publish raw batches.
    Collector,
    /// Match, detect language and classify raw batches.
    Enricher,
    /// Write the index, evaluate alerts, serve the API.
    Indexer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::All => "all",
            Role::Collector => "collector",
            Role::Enricher => "enricher",
            Role::Indexer => "indexer",
        }
    }
}

/// Why a cluster operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("cannot connect to NATS at {urls}: {source}")]
    Connect {
        urls: String,
        #[source]
        source: async_nats::Error,
    },
    #[error("{what}: {source}")]
    JetStream {
        what: String,
        #[source]
        source: async_nats::Error,
    },
    #[error("`[cluster]`: {0}")]
    Settings(String),
    #[error("shutting down")]
    Stopped,
}

impl ClusterError {
    fn js(what: impl Into<String>) -> impl FnOnce(async_nats::Error) -> ClusterError {
        let what = what.into();
        move |source| ClusterError::JetStream { what, source }
    }
}

/// Boxes a NATS client error (they are all `std::error::Error`).
fn boxed<E: std::error::Error + Send + Sync + 'static>(e: E) -> async_nats::Error {
    Box::new(e)
}

/// Names of the streams, subjects and buckets, all under the configured prefix.
#[derive(Debug, Clone)]
pub struct Names {
    pub raw_stream: String,
    pub raw_subject: String,
    pub enriched_stream: String,
    pub enriched_subject: String,
    pub leases: String,
    pub workers: String,
    pub state: String,
}

impl Names {
    pub fn new(prefix: &str) -> Names {
        let up = prefix.to_ascii_uppercase().replace('-', "_");
        let low = prefix.to_ascii_lowercase();
        Names {
            raw_stream: format!("{up}_RAW"),
            raw_subject: format!("{low}.raw"),
            enriched_stream: format!("{up}_ENRICHED"),
            enriched_subject: format!("{low}.enriched"),
            leases: format!("{low}_leases"),
            workers: format!("{low}_workers"),
            state: format!("{low}_state"),
        }
    }
}

/// Durable consumer names.
pub const ENRICH_CONSUMER: &str = "enrich";
pub const INDEX_CONSUMER: &str = "index";

/// A connection to the cluster and the names hark uses in it.
#[derive(Clone)]
pub struct Bus {
    pub client: async_nats::Client,
    pub js: jetstream::Context,
    pub names: Names,
    pub config: ClusterConfig,
}

impl Bus {
    /// Connects (failing over between the configured servers) and makes sure the streams
    /// and buckets exist.
    pub async fn connect(config: &ClusterConfig, client_name: &str) -> Result<Bus, ClusterError> {
        let urls = config.nats_url.clone();
        let connect_err = |source: async_nats::Error| ClusterError::Connect {
            urls: urls.clone(),
            source,
        };
        let mut opts = async_nats::ConnectOptions::new()
            .name(client_name)
            .connection_timeout(Duration::from_secs(5))
            .max_reconnects(None)
            .event_callback(|event| async move {
                match event {
                    async_nats::Event::Connected => tracing::info!("NATS connected"),
                    async_nats::Event::Disconnected => {
                        tracing::warn!("NATS disconnected: reconnecting")
                    }
                    other => tracing::debug!(event = %other, "NATS event"),
                }
            });
        if let Some(var) = &config.token_env {
            let token = std::env::var(var.as_str()).map_err(|_| {
                ClusterError::Settings(format!(
                    "`token_env`: the environment variable {} is not set",
                    var.as_str()
                ))
            })?;
            opts = opts.token(token);
        }
        if let Some(var) = &config.creds_env {
            let value = std::env::var(var.as_str()).map_err(|_| {
                ClusterError::Settings(format!(
                    "`creds_env`: the environment variable {} is not set",
                    var.as_str()
                ))
            })?;
            let creds = if std::path::Path::new(value.trim()).is_file() {
                std::fs::read_to_string(value.trim()).map_err(|e| {
                    ClusterError::Settings(format!(
                        "`creds_env`: cannot read {}: {e}",
                        value.trim()
                    ))
                })?
            } else {
                value
            };
            // The parser's message may quote the credentials: not repeated here.
            opts = opts.credentials(&creds).map_err(|_| {
                ClusterError::Settings(format!(
                    "`creds_env`: {} does not hold NATS credentials (a .creds file's path or contents)",
                    var.as_str()
                ))
            })?;
        }
        if let Some(ca) = &config.tls_ca {
            opts = opts.add_root_certificates(ca.clone()).require_tls(true);
        }
        if config.tls_required {
            opts = opts.require_tls(true);
        }
        let addrs: Vec<async_nats::ServerAddr> = config
            .urls()
            .iter()
            .map(|u| u.parse::<async_nats::ServerAddr>())
            .collect::<Result<_, _>>()
            .map_err(|e| connect_err(boxed(e)))?;
        let client = tokio::time::timeout(Duration::from_secs(15), opts.connect(addrs))
            .await
            .map_err(|_| connect_err("no server answered within 15 s".into()))?
            .map_err(|e| connect_err(boxed(e)))?;
        let js = jetstream::new(client.clone());
        let bus = Bus {
            client,
            js,
            names: Names::new(&config.prefix),
            config: config.clone(),
        };
        bus.ensure().await?;
        Ok(bus)
    }

    /// Connects as one role's process: the `[cluster]` of `config` (an error saying so when
    /// absent), `worker`'s counters in `metrics` (for `/metrics`), and a watch on the
    /// connection (for `/healthz`) until `stop`.
    pub async fn join(
        config: &crate::config::Config,
        worker: &std::sync::Arc<workers::Worker>,
        metrics: &std::sync::Arc<crate::metrics::Metrics>,
        stop: &watch::Receiver<bool>,
    ) -> anyhow::Result<Bus> {
        let Some(cluster) = &config.cluster else {
            anyhow::bail!(
                "--role {} needs a [cluster] section with nats_url in hark.toml",
                worker.role.as_str()
            );
        };
        let bus = Bus::connect(cluster, &worker.id).await?;
        metrics.set_worker(worker.clone());
        tokio::spawn(health::watch_connection(
            bus.client.clone(),
            metrics.clone(),
            stop.clone(),
        ));
        Ok(bus)
    }

    /// A pull on the work-queue `consumer`, at most `max_in_flight` messages held; retried
    /// until it starts or `stop` turns true (None).
    pub async fn pull(
        &self,
        consumer: &jetstream::consumer::PullConsumer,
        stop: &mut watch::Receiver<bool>,
    ) -> Option<jetstream::consumer::pull::Stream> {
        loop {
            match consumer
                .stream()
                .max_messages_per_batch(self.config.max_in_flight)
                .heartbeat(Duration::from_secs(5))
                .expires(Duration::from_secs(30))
                .messages()
                .await
            {
                Ok(m) => return Some(m),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot pull messages: retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                        _ = stop.changed() => return None,
                    }
                }
            }
        }
    }

    /// Creates the streams and buckets hark uses, where they do not exist yet (several
    /// workers starting at once is fine: creating an identical stream is a no-op).
    async fn ensure(&self) -> Result<(), ClusterError> {
        let c = &self.config;
        for (name, subject) in [
            (&self.names.raw_stream, &self.names.raw_subject),
            (&self.names.enriched_stream, &self.names.enriched_subject),
        ] {
            let cfg = stream::Config {
                name: name.clone(),
                subjects: vec![subject.clone()],
                // Each message is consumed once, by one worker of the stage after.
                retention: stream::RetentionPolicy::WorkQueue,
                // Full: refuse new messages (publishers wait and retry), never drop old ones.
                discard: stream::DiscardPolicy::New,
                max_bytes: c.max_stream_bytes.0 as i64,
                max_message_size: (c.max_message_bytes.0 as i32).saturating_mul(2),
                num_replicas: c.replicas,
                duplicate_window: Duration::from_secs(120),
                storage: stream::StorageType::File,
                ..Default::default()
            };
            retry_startup(|| async {
                self.js
                    .get_or_create_stream(cfg.clone())
                    .await
                    .map(|_| ())
                    .map_err(boxed)
            })
            .await
            .map_err(ClusterError::js(format!("cannot create the stream {name}")))?;
        }
        let ttl = c.lease_ttl.0;
        for (bucket, max_age) in [
            (&self.names.leases, ttl),
            (&self.names.workers, ttl.max(Duration::from_secs(6))),
            (&self.names.state, Duration::ZERO),
        ] {
            self.bucket_with(bucket, max_age).await?;
        }
        Ok(())
    }

    /// Opens (creating if needed) a KV bucket. The bucket's stream is created here with the
    /// KV layout rather than through `create_key_value`, whose account query does not parse
    /// nats-server 2.9's answer.
    async fn bucket_with(
        &self,
        bucket: &str,
        max_age: Duration,
    ) -> Result<kv::Store, ClusterError> {
        let cfg = stream::Config {
            name: format!("KV_{bucket}"),
            subjects: vec![format!("$KV.{bucket}.>")],
            max_messages_per_subject: 1,
            max_age,
            storage: stream::StorageType::File,
            allow_rollup: true,
            deny_delete: true,
            allow_direct: true,
            num_replicas: self.config.replicas,
            discard: stream::DiscardPolicy::New,
            ..Default::default()
        };
        retry_startup(|| async {
            self.js
                .get_or_create_stream(cfg.clone())
                .await
                .map_err(boxed)?;
            self.js.get_key_value(bucket).await.map_err(boxed)
        })
        .await
        .map_err(ClusterError::js(format!(
            "cannot open the KV bucket {bucket}"
        )))
    }

    /// A KV bucket hark made in [`Bus::connect`].
    pub async fn bucket(&self, bucket: &str) -> Result<kv::Store, ClusterError> {
        self.js
            .get_key_value(bucket)
            .await
            .map_err(|e| ClusterError::js(format!("cannot open the KV bucket {bucket}"))(boxed(e)))
    }

    /// The largest message to publish: the configured limit, within the server's.
    pub fn max_message_bytes(&self) -> usize {
        let server = self.client.server_info().max_payload;
        let mine = self.config.max_message_bytes.0 as usize;
        if server > 0 {
            mine.min(server * 3 / 4)
        } else {
            mine
        }
    }

    /// Publishes one message and waits until JetStream has stored it (on every replica it
    /// must). A full stream, a leader election or a lost connection make it wait and retry:
    /// this is the cluster's back-pressure, and it loses nothing. Gives up only when `stop`
    /// turns true. Returns whether the server recognised the message as a duplicate.
    pub async fn publish(
        &self,
        subject: &str,
        msg_id: &str,
        payload: bytes::Bytes,
        stop: &watch::Receiver<bool>,
        waits: &std::sync::atomic::AtomicU64,
    ) -> Result<bool, ClusterError> {
        let mut attempt: u32 = 0;
        let mut last_log: Option<std::time::Instant> = None;
        loop {
            let publish = jetstream::context::Publish::build()
                .payload(payload.clone())
                .message_id(msg_id);
            let result = async {
                let ack = self
                    .js
                    .send_publish(subject.to_string(), publish)
                    .await
                    .map_err(boxed)?;
                ack.await.map_err(boxed)
            }
            .await;
            match result {
                Ok(ack) => return Ok(ack.duplicate),
                Err(e) => {
                    waits.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if last_log.is_none_or(|t| t.elapsed() >= Duration::from_secs(30)) {
                        tracing::warn!(subject, error = %e,
                            "cannot publish yet (stream full, or the cluster is electing a leader): waiting and retrying");
                        last_log = Some(std::time::Instant::now());
                    }
                }
            }
            if *stop.borrow() {
                return Err(ClusterError::Stopped);
            }
            let wait = Duration::from_millis(100)
                .saturating_mul(1 << attempt.min(5))
                .min(Duration::from_secs(3));
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }
}

/// Retries a start-up call for a while: right after a cluster starts (or loses a node),
/// JetStream answers "no leader" until its meta group has elected one.
async fn retry_startup<T, F, Fut>(mut f: F) -> Result<T, async_nats::Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, async_nats::Error>>,
{
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        match f().await {
            Ok(v) => return Ok(v),
            Err(e) if std::time::Instant::now() >= deadline => return Err(e),
            Err(e) => {
                tracing::debug!(error = %e, "JetStream not ready yet: retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}

/// Encodes a source name as a KV key (letters, digits, `_` and `-` kept; every other byte
/// written `=HH`), so any source name is a valid key and the mapping can be undone.
pub fn key_for(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' {
            out.push(b as char);
        } else {
            out.push_str(&format!("={b:02X}"));
        }
    }
    if out.is_empty() {
        out.push_str("=00");
    }
    out
}

/// The source name a [`key_for`] key stands for.
pub fn name_of(key: &str) -> String {
    let bytes = key.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&key[i + 1..i + 3], 16)
        {
            if b != 0 {
                out.push(b);
            }
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// This machine's name, for worker ids and `hark cluster status`.
pub fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.trim().is_empty())
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_any_source_name() {
        for name in ["news", "Le Monde (FR)", "a.b", "ключ", "x=y", "", "-_"] {
            let k = key_for(name);
            assert!(
                k.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'='),
                "{k}"
            );
            assert_eq!(name_of(&k), name, "{k}");
        }
        assert_ne!(key_for("a b"), key_for("a_b"));
    }

    #[test]
    fn names_follow_the_prefix() {
        let n = Names::new("acme-eu");
        assert_eq!(n.raw_stream, "ACME_EU_RAW");
        assert_eq!(n.enriched_subject, "acme-eu.enriched");
        assert_eq!(n.leases, "acme-eu_leases");
    }
}
