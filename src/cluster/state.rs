//! Sources' cursors and HTTP validators in a JetStream KV bucket, one key per source.
//!
//! Only the indexer writes here, and only after the index commit that made the batch's
//! mentions durable (the same order as the single process's redb store, see `state.rs`):
//! a collector that takes a source over starts from what the cluster has stored, never
//! from a cursor ahead of it.

use super::{ClusterError, boxed, key_for};
use crate::state::{SourceSnapshot, StateUpdate};
use async_nats::jetstream::kv;
use std::collections::BTreeSet;

/// The stored snapshot of `source` (empty if none).
pub async fn load(kv: &kv::Store, source: &str) -> Result<SourceSnapshot, ClusterError> {
    match kv.get(key_for(source)).await {
        Ok(Some(v)) => serde_json::from_slice(&v).map_err(|e| ClusterError::JetStream {
            what: format!("the stored state of source `{source}` is unreadable"),
            source: boxed(e),
        }),
        Ok(None) => Ok(SourceSnapshot::default()),
        Err(e) => Err(ClusterError::JetStream {
            what: format!("cannot read the state of source `{source}`"),
            source: boxed(e),
        }),
    }
}

/// Applies the cursor and validator updates among `updates` to their sources' keys.
pub async fn apply(kv: &kv::Store, updates: &[StateUpdate]) -> Result<(), ClusterError> {
    let sources: BTreeSet<&str> = updates
        .iter()
        .filter_map(|u| match u {
            StateUpdate::Cursor { source, .. } | StateUpdate::Validators { source, .. } => {
                Some(source.as_str())
            }
            _ => None,
        })
        .collect();
    for source in sources {
        let mut snap = load(kv, source).await?;
        if snap.apply(source, updates) {
            let value = serde_json::to_vec(&snap).expect("snapshot serialises");
            kv.put(key_for(source), value.into())
                .await
                .map_err(|e| ClusterError::JetStream {
                    what: format!("cannot store the state of source `{source}`"),
                    source: boxed(e),
                })?;
        }
    }
    Ok(())
}
