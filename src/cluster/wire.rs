//! What travels through the streams: a source's batch, split into messages that fit the
//! server's payload limit, each with a message id that JetStream de-duplicates on.
//!
//! **Ids.** A batch's id is a hash of what makes it that batch: the source, each mention's
//! id and content (title, text, URL, publication time; not the fetch time), the checkpoint
//! and the retractions. A collector that polls the same unchanged items twice (a lease
//! handed over mid-poll, a retry after a lost publish acknowledgement) therefore publishes
//! the same ids, and JetStream drops the copy within its duplicate window; after it, the
//! index's upsert by mention id makes the copy harmless. The enriched form of part `p`
//! carries the id `BATCH.p.e`, so an enricher that dies between publishing and
//! acknowledging cannot make a second copy either.
//!
//! **Parts.** The checkpoint (cursors, validators) rides on the last part only, and the
//! indexer applies it once every part of the batch is committed (`cluster::indexer`):
//! a cursor never moves past a mention that is not yet in the index.

use crate::mention::Mention;
use crate::sources::Batch;
use crate::state::StateUpdate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// One message: a part of a source's batch, raw (from a collector) or enriched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireBatch {
    /// The whole batch's id (hex).
    pub batch: String,
    /// This part's number, from 0, and the number of parts.
    pub part: u32,
    pub parts: u32,
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang_hint: Option<String>,
    #[serde(default)]
    pub mentions: Vec<Mention>,
    /// Only on the last part: state that becomes true once every part is committed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checkpoint: Vec<StateUpdate>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retract: Vec<String>,
}

/// Why a message could not be read.
#[derive(Debug, thiserror::Error)]
#[error("not a hark batch message: {0}")]
pub struct DecodeError(#[from] serde_json::Error);

impl WireBatch {
    /// The raw message's id, for JetStream's de-duplication.
    pub fn raw_id(&self) -> String {
        format!("{}.{}", self.batch, self.part)
    }

    /// The enriched message's id.
    pub fn enriched_id(&self) -> String {
        format!("{}.{}.e", self.batch, self.part)
    }

    pub fn encode(&self) -> bytes::Bytes {
        serde_json::to_vec(self).expect("a batch serialises").into()
    }

    pub fn decode(payload: &[u8]) -> Result<WireBatch, DecodeError> {
        Ok(serde_json::from_slice(payload)?)
    }

    /// Back to the pipeline's batch (an enricher's input).
    pub fn into_batch(self) -> Batch {
        Batch {
            source: self.source,
            mentions: self.mentions,
            lang_hint: self.lang_hint,
            checkpoint: self.checkpoint,
            retract: self.retract,
        }
    }
}

/// The batch's id: a hash of its content, stable across polls of unchanged items.
pub fn batch_id(batch: &Batch) -> String {
    let mut h = Sha256::new();
    let mut field = |b: &[u8]| {
        h.update((b.len() as u64).to_le_bytes());
        h.update(b);
    };
    field(batch.source.as_bytes());
    field(batch.lang_hint.as_deref().unwrap_or("").as_bytes());
    for m in &batch.mentions {
        field(m.id.as_bytes());
        field(m.title.as_deref().unwrap_or("").as_bytes());
        field(m.text.as_bytes());
        field(m.url.as_deref().unwrap_or("").as_bytes());
        field(&m.published_at.timestamp_millis().to_le_bytes());
        field(m.parent_id.as_deref().unwrap_or("").as_bytes());
    }
    field(&serde_json::to_vec(&batch.checkpoint).expect("state updates serialise"));
    for r in &batch.retract {
        field(r.as_bytes());
    }
    hex::encode(&h.finalize()[..16])
}

/// Splits `batch` into messages of at most `max_bytes` each (a single mention bigger than
/// that travels alone; the caller refuses it if the server does). Checkpoint and
/// retractions go on the last part.
pub fn split(batch: Batch, max_bytes: usize) -> Vec<WireBatch> {
    let id = batch_id(&batch);
    // Envelope plus checkpoint, measured once; each mention by its own JSON size.
    let overhead = 256
        + batch.source.len()
        + serde_json::to_vec(&batch.checkpoint).map_or(0, |v| v.len())
        + batch.retract.iter().map(|r| r.len() + 3).sum::<usize>();
    let mut groups: Vec<Vec<Mention>> = vec![Vec::new()];
    let mut size = overhead;
    for m in batch.mentions {
        let n = serde_json::to_vec(&m).map_or(0, |v| v.len()) + 1;
        let current = groups.last_mut().expect("one group");
        if !current.is_empty() && size + n > max_bytes {
            groups.push(Vec::new());
            size = overhead;
        }
        size += n;
        groups.last_mut().expect("one group").push(m);
    }
    let parts = groups.len() as u32;
    let last = parts - 1;
    let mut checkpoint = Some(batch.checkpoint);
    let mut retract = Some(batch.retract);
    groups
        .into_iter()
        .enumerate()
        .map(|(i, mentions)| {
            let is_last = i as u32 == last;
            WireBatch {
                batch: id.clone(),
                part: i as u32,
                parts,
                source: batch.source.clone(),
                lang_hint: batch.lang_hint.clone(),
                mentions,
                checkpoint: if is_last {
                    checkpoint.take().unwrap_or_default()
                } else {
                    Vec::new()
                },
                retract: if is_last {
                    retract.take().unwrap_or_default()
                } else {
                    Vec::new()
                },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn mention(i: usize, text: &str) -> Mention {
        let mut m = Mention::new(
            format!("feed:{i}"),
            chrono::Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap(),
        );
        m.source = "news".into();
        m.text = text.into();
        m
    }

    fn batch(n: usize, text: &str) -> Batch {
        Batch {
            source: "news".into(),
            mentions: (0..n).map(|i| mention(i, text)).collect(),
            lang_hint: Some("fr".into()),
            checkpoint: vec![StateUpdate::Cursor {
                source: "news".into(),
                key: "since".into(),
                value: "42".into(),
            }],
            retract: vec!["feed:old".into()],
        }
    }

    #[test]
    fn ids_depend_on_content_not_on_fetch_time() {
        let a = batch(3, "hello");
        let mut b = batch(3, "hello");
        for m in &mut b.mentions {
            m.fetched_at = Some(chrono::Utc::now());
        }
        assert_eq!(batch_id(&a), batch_id(&b));
        let mut c = batch(3, "hello");
        c.mentions[1].text = "changed".into();
        assert_ne!(batch_id(&a), batch_id(&c));
        let mut d = batch(3, "hello");
        d.checkpoint.clear();
        assert_ne!(batch_id(&a), batch_id(&d), "a new cursor is a new batch");
    }

    #[test]
    fn a_big_batch_splits_under_the_limit_and_loses_nothing() {
        let text = "x".repeat(1000);
        let parts = split(batch(100, &text), 20_000);
        assert!(parts.len() >= 5, "{} parts", parts.len());
        let mut ids = Vec::new();
        for (i, p) in parts.iter().enumerate() {
            assert_eq!(p.part as usize, i);
            assert_eq!(p.parts as usize, parts.len());
            assert!(
                p.encode().len() <= 20_000,
                "part {i}: {} bytes",
                p.encode().len()
            );
            let last = i + 1 == parts.len();
            assert_eq!(
                !p.checkpoint.is_empty(),
                last,
                "checkpoint only on the last part"
            );
            assert_eq!(!p.retract.is_empty(), last);
            assert_eq!(p.lang_hint.as_deref(), Some("fr"));
            ids.extend(p.mentions.iter().map(|m| m.id.clone()));
            let back = WireBatch::decode(&p.encode()).unwrap();
            assert_eq!(&back, p);
        }
        assert_eq!(
            ids,
            (0..100).map(|i| format!("feed:{i}")).collect::<Vec<_>>()
        );
        let distinct: std::collections::HashSet<String> =
            parts.iter().map(|p| p.raw_id()).collect();
        assert_eq!(distinct.len(), parts.len());
    }

    #[test]
    fn an_empty_batch_is_one_part_carrying_its_checkpoint() {
        let parts = split(batch(0, ""), 20_000);
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].checkpoint.len(), 1);
    }

    #[test]
    fn garbage_is_a_decode_error() {
        assert!(WireBatch::decode(b"{\"nope\": 1}").is_err());
        assert!(WireBatch::decode(b"\xff\xfe").is_err());
    }
}
