//! Leases in a JetStream KV bucket: who polls which source (and which process is the
//! indexer).
//!
//! A lease is a key whose value names its holder. The bucket's `max_age` is the lease's
//! time to live, counted by the servers from the last write: the holder renews it with a
//! compare-and-set on the revision it last wrote, so a renewal after someone else took the
//! key fails. A holder that dies stops renewing and the key expires; another worker's
//! `create` then succeeds.
//!
//! A holder trusts its lease for two thirds of the TTL after the *start* of its last
//! successful renewal: the server's expiry is later than that, so a live holder stops
//! using a lease before anyone else can take it.

use super::{ClusterError, boxed};
use async_nats::jetstream::kv;
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// What a lease key holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Holder {
    pub worker: String,
    pub since: chrono::DateTime<chrono::Utc>,
}

/// A lease this worker holds.
#[derive(Debug, Clone)]
pub struct Lease {
    pub key: String,
    revision: u64,
    /// When the last successful write was sent.
    renewed: Instant,
    value: bytes::Bytes,
}

/// The leases bucket, seen by one worker.
#[derive(Clone)]
pub struct Leases {
    kv: kv::Store,
    worker: String,
    ttl: Duration,
}

impl Leases {
    pub fn new(kv: kv::Store, worker: &str, ttl: Duration) -> Leases {
        Leases {
            kv,
            worker: worker.to_string(),
            ttl,
        }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Takes `key` if nobody holds it. `Ok(None)`: someone does.
    pub async fn try_acquire(&self, key: &str) -> Result<Option<Lease>, ClusterError> {
        let value: bytes::Bytes = serde_json::to_vec(&Holder {
            worker: self.worker.clone(),
            since: chrono::Utc::now(),
        })
        .expect("holder serialises")
        .into();
        let sent = Instant::now();
        match self.kv.create(key, value.clone()).await {
            Ok(revision) => Ok(Some(Lease {
                key: key.to_string(),
                revision,
                renewed: sent,
                value,
            })),
            Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => Ok(None),
            Err(e) => Err(ClusterError::JetStream {
                what: format!("cannot take the lease {key}"),
                source: boxed(e),
            }),
        }
    }

    /// Renews `lease`. `Ok(false)`: it was lost (expired and taken, or deleted).
    pub async fn renew(&self, lease: &mut Lease) -> Result<bool, ClusterError> {
        let sent = Instant::now();
        match self
            .kv
            .update(&lease.key, lease.value.clone(), lease.revision)
            .await
        {
            Ok(revision) => {
                lease.revision = revision;
                lease.renewed = sent;
                Ok(true)
            }
            Err(e) if e.kind() == kv::UpdateErrorKind::WrongLastRevision => Ok(false),
            Err(e) => Err(ClusterError::JetStream {
                what: format!("cannot renew the lease {}", lease.key),
                source: boxed(e),
            }),
        }
    }

    /// Whether the holder may still act on `lease` (see the module's doc).
    pub fn trusted(&self, lease: &Lease) -> bool {
        lease.renewed.elapsed() < self.ttl * 2 / 3
    }

    /// Gives `lease` up at once (a clean shutdown, a rebalance), so the next holder need
    /// not wait for it to expire. Only deletes it if it is still ours.
    pub async fn release(&self, lease: Lease) {
        if let Err(e) = self
            .kv
            .delete_expect_revision(&lease.key, Some(lease.revision))
            .await
        {
            tracing::debug!(key = %lease.key, error = %e, "lease not released (it will expire)");
        }
    }

    /// Every live lease: key → holder.
    pub async fn all(&self) -> Result<Vec<(String, Holder)>, ClusterError> {
        entries(&self.kv, "leases").await
    }
}

/// Every entry of `kv` whose value reads as `T`. Listing goes through a short-lived
/// consumer, which can time out while the cluster re-elects a leader: tried three times.
pub async fn entries<T: serde::de::DeserializeOwned>(
    kv: &kv::Store,
    what: &str,
) -> Result<Vec<(String, T)>, ClusterError> {
    let mut attempt = 0;
    loop {
        match entries_once(kv, what).await {
            Ok(v) => return Ok(v),
            Err(e) if attempt >= 2 => return Err(e),
            Err(e) => {
                tracing::debug!(error = %e, "listing failed: retrying");
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}

async fn entries_once<T: serde::de::DeserializeOwned>(
    kv: &kv::Store,
    what: &str,
) -> Result<Vec<(String, T)>, ClusterError> {
    use futures::StreamExt;
    let err = |e: async_nats::Error| ClusterError::JetStream {
        what: format!("cannot list the {what}"),
        source: e,
    };
    // The keys from the stream's subject counts: one request, no consumer to set up (a
    // key listing through a consumer times out while a node is down).
    let prefix = format!("$KV.{}.", kv.name);
    let mut subjects = kv
        .stream
        .info_with_subjects(format!("{prefix}>"))
        .await
        .map_err(|e| err(boxed(e)))?;
    let mut names = Vec::new();
    while let Some(item) = subjects.next().await {
        let (subject, _) = item.map_err(|e| err(boxed(e)))?;
        if let Some(k) = subject.strip_prefix(&prefix) {
            names.push(k.to_string());
        }
    }
    let mut out = Vec::new();
    for k in names {
        if let Some(v) = kv.get(&k).await.map_err(|e| err(boxed(e)))?
            && let Ok(t) = serde_json::from_slice(&v)
        {
            out.push((k, t));
        }
    }
    Ok(out)
}

/// Rendezvous hashing: the worker among `workers` that `key` prefers. Every worker with
/// the same view agrees, and when a worker leaves only its own keys move.
pub fn preferred<'a>(key: &str, workers: &'a [String]) -> Option<&'a str> {
    use sha2::{Digest, Sha256};
    workers
        .iter()
        .max_by_key(|w| {
            let mut h = Sha256::new();
            h.update(key.as_bytes());
            h.update([0]);
            h.update(w.as_bytes());
            let d = h.finalize();
            (
                u64::from_le_bytes(d[..8].try_into().expect("8 bytes")),
                (*w).clone(),
            )
        })
        .map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendezvous_moves_only_the_leavers_keys() {
        let three: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let two: Vec<String> = ["a", "c"].iter().map(|s| s.to_string()).collect();
        let keys: Vec<String> = (0..300).map(|i| format!("source-{i}")).collect();
        let mut per = std::collections::HashMap::new();
        for k in &keys {
            let before = preferred(k, &three).unwrap();
            *per.entry(before).or_insert(0) += 1;
            let after = preferred(k, &two).unwrap();
            if before != "b" {
                assert_eq!(before, after, "{k} moved although its worker stayed");
            } else {
                assert_ne!(after, "b");
            }
        }
        // Roughly even: each of three workers gets a fair share.
        for w in ["a", "b", "c"] {
            let n = per[w];
            assert!((60..=140).contains(&n), "{w}: {n}");
        }
        assert_eq!(preferred("x", &[]), None);
    }
}
