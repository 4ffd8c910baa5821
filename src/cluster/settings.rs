//! `[cluster]` of hark.toml: where the NATS JetStream cluster is and how hark uses it.

use crate::fields::{ByteSize, EnvVar, Period};
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

/// `[cluster]`: present only when hark runs as several processes (`hark run --role`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterConfig {
    /// One or more server URLs, comma-separated (`nats://10.0.0.1:4222,nats://10.0.0.2:4222`):
    /// the client fails over between them.
    pub nats_url: String,
    /// Environment variable holding the server's auth token.
    #[serde(default)]
    pub token_env: Option<EnvVar>,
    /// Environment variable holding NATS credentials: the path of a `.creds` file, or its
    /// contents.
    #[serde(default)]
    pub creds_env: Option<EnvVar>,
    /// CA certificate (PEM) that signed the servers' TLS certificates; setting it requires TLS.
    #[serde(default)]
    pub tls_ca: Option<PathBuf>,
    /// Refuse to talk to a server without TLS.
    #[serde(default)]
    pub tls_required: bool,
    /// Prefix of the streams, buckets and subjects (`HARK_RAW`, `hark.raw`, …): several
    /// deployments can share one NATS cluster under different prefixes.
    #[serde(default = "default_prefix")]
    pub prefix: String,
    /// Copies JetStream keeps of each stream and bucket (1 for one server, 3 for a
    /// three-node cluster, which survives losing one node).
    #[serde(default = "default_replicas")]
    pub replicas: usize,
    /// How long a collector's claim on a source outlives its last renewal: a collector that
    /// dies loses its sources this long after its last renewal.
    #[serde(default = "default_lease_ttl")]
    pub lease_ttl: Period,
    /// How long a worker may hold a message before JetStream gives it to another worker
    /// (workers in good health extend it while they work).
    #[serde(default = "default_ack_wait")]
    pub ack_wait: Period,
    /// Messages one enricher or the indexer holds unacknowledged at most (back-pressure).
    #[serde(default = "default_in_flight")]
    pub max_in_flight: usize,
    /// Size limit of each stream; when reached, publishers wait (nothing is discarded).
    #[serde(default = "default_stream_bytes")]
    pub max_stream_bytes: ByteSize,
    /// Largest message hark publishes; bigger batches are split (the server's own
    /// `max_payload`, 1 MB by default, is respected too).
    #[serde(default = "default_message_bytes")]
    pub max_message_bytes: ByteSize,
}

fn default_prefix() -> String {
    "hark".into()
}
fn default_replicas() -> usize {
    1
}
fn default_lease_ttl() -> Period {
    Period(Duration::from_secs(10))
}
fn default_ack_wait() -> Period {
    Period(Duration::from_secs(60))
}
fn default_in_flight() -> usize {
    64
}
fn default_stream_bytes() -> ByteSize {
    ByteSize(1 << 30)
}
fn default_message_bytes() -> ByteSize {
    ByteSize(512 * 1024)
}

impl ClusterConfig {
    /// Load-time checks, naming the key at fault.
    pub fn check(&self) -> Result<(), String> {
        if self.urls().is_empty() {
            return Err(
                "`nats_url`: give at least one server, e.g. \"nats://127.0.0.1:4222\"".into(),
            );
        }
        for u in self.urls() {
            let parsed =
                url::Url::parse(u).map_err(|e| format!("`nats_url`: `{u}` is not a URL ({e})"))?;
            if !matches!(parsed.scheme(), "nats" | "tls") || parsed.host_str().is_none() {
                return Err(format!(
                    "`nats_url`: `{u}` must look like nats://HOST:PORT (or tls://HOST:PORT)"
                ));
            }
        }
        if self.prefix.is_empty()
            || !self
                .prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(format!(
                "`prefix`: `{}` may use only letters, digits, `_` and `-`",
                self.prefix
            ));
        }
        if !(1..=5).contains(&self.replicas) {
            return Err(format!(
                "`replicas`: {} is not between 1 and 5",
                self.replicas
            ));
        }
        if self.lease_ttl.0 < Duration::from_secs(2) {
            return Err("`lease_ttl`: must be at least 2s".into());
        }
        if self.ack_wait.0 < Duration::from_secs(1) {
            return Err("`ack_wait`: must be at least 1s".into());
        }
        if self.max_in_flight == 0 {
            return Err("`max_in_flight`: must be at least 1".into());
        }
        if self.max_message_bytes.0 < 16 * 1024 {
            return Err("`max_message_bytes`: must be at least 16KB".into());
        }
        Ok(())
    }

    /// The server URLs, in the order given.
    pub fn urls(&self) -> Vec<&str> {
        self.nats_url
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect()
    }
}
