//! The state store: source cursors, HTTP validators and seen-mention fingerprints, in redb
//! (an embedded transactional key-value store).
//!
//! Consistency with the index: sources never write here directly. What they learn during a
//! poll (new validators, cursors) travels down the pipeline as a [`StateUpdate`] behind the
//! mentions it covers, and is applied in one redb transaction only *after* the index commit
//! that made those mentions durable. A crash before that point leaves the old state, so the
//! source delivers the same items again, and the index replaces them by `id` instead of
//! adding a copy. Nothing is lost and nothing is stored twice.

use crate::http::Validators;
use redb::{Database, TableDefinition};
use std::path::{Path, PathBuf};

const VALIDATORS: TableDefinition<&str, &[u8]> = TableDefinition::new("http_validators");
const CURSORS: TableDefinition<&str, &str> = TableDefinition::new("cursors");
const SEEN: TableDefinition<&str, u64> = TableDefinition::new("seen");
/// Near-duplicate fingerprints (SimHash) of crawled texts → `published_at seconds \x1f id`.
const SIMHASH: TableDefinition<u64, &str> = TableDefinition::new("simhash");
/// Mentions erased on request (`hark delete`) → when (Unix seconds): never collected again.
const ERASED: TableDefinition<&str, i64> = TableDefinition::new("erased");
/// The team's triage decisions: mention id → `Triage` as JSON.
const TRIAGE: TableDefinition<&str, &[u8]> = TableDefinition::new("triage");
/// Who changed what, when: sequence number → an audit entry as JSON.
const AUDIT: TableDefinition<u64, &str> = TableDefinition::new("audit");
/// Users of the web UI and API: name → `users::User` as JSON.
const USERS: TableDefinition<&str, &str> = TableDefinition::new("users");
/// Saved searches: name → `saved::SavedSearch` as JSON.
const SAVED: TableDefinition<&str, &str> = TableDefinition::new("saved_searches");
/// Accepted exclusion words: query name → JSON list of words.
const EXCLUSIONS: TableDefinition<&str, &str> = TableDefinition::new("exclusions");

#[derive(Debug, thiserror::Error)]
#[error("state store {path}: {message}")]
pub struct StateError {
    path: String,
    message: String,
}

/// A change to apply once the mentions before it are committed to the index. Serialisable
/// because in cluster mode it travels with its batch through NATS (`cluster::wire`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StateUpdate {
    Validators {
        source: String,
        url: String,
        validators: Validators,
    },
    Cursor {
        source: String,
        key: String,
        value: String,
    },
    /// A mention id and the fingerprint of the content that was indexed for it.
    Seen {
        id: String,
        fingerprint: u64,
    },
    /// The near-duplicate fingerprint of a stored text, its mention and publication time.
    SimhashPut {
        fp: u64,
        id: String,
        published: i64,
    },
    /// A fingerprint whose mention was replaced by an earlier copy.
    SimhashDel {
        fp: u64,
    },
    /// A mention erased on request: sources never bring it back.
    Erased {
        id: String,
        at: i64,
    },
    /// The team's decision about a mention.
    Triage {
        id: String,
        triage: crate::triage::Triage,
    },
    /// One entry of the audit log (who changed what, when), as JSON.
    Audit(serde_json::Value),
    /// A user added or changed.
    UserPut(crate::users::User),
    /// A user removed (their token stops working).
    UserRemove(String),
    /// A saved search added or changed (its alert rule included).
    SavedPut(crate::saved::SavedSearch),
    SavedRemove(String),
    /// The accepted exclusion words of a query (replaces the earlier list).
    Exclusions {
        query: String,
        words: Vec<String>,
    },
}

/// What one source has learnt: its cursors and HTTP validators. In cluster mode this is
/// the unit kept in the JetStream KV bucket, so that whichever collector polls the source
/// next resumes where the last committed poll stopped (see `cluster::state`).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SourceSnapshot {
    #[serde(default)]
    pub cursors: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub validators: std::collections::BTreeMap<String, Validators>,
}

impl SourceSnapshot {
    /// Applies the cursor and validator updates of `source` among `updates` (the others are
    /// not a source's own state). Returns whether anything changed.
    pub fn apply(&mut self, source: &str, updates: &[StateUpdate]) -> bool {
        let mut changed = false;
        for u in updates {
            match u {
                StateUpdate::Cursor {
                    source: s,
                    key,
                    value,
                } if s == source => {
                    changed |=
                        self.cursors.insert(key.clone(), value.clone()).as_ref() != Some(value);
                }
                StateUpdate::Validators {
                    source: s,
                    url,
                    validators,
                } if s == source => {
                    changed |= if validators.is_empty() {
                        self.validators.remove(url).is_some()
                    } else {
                        self.validators
                            .insert(url.clone(), validators.clone())
                            .as_ref()
                            != Some(validators)
                    };
                }
                _ => {}
            }
        }
        changed
    }
}

pub struct StateStore {
    db: Database,
    path: String,
}

/// Serialises the panic-hook swap of [`open_guarded`] between threads.
static OPEN_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// `Database::create`, with redb's panics on a damaged file (a truncated `state.redb`, say)
/// turned into an error that tells the user what to do.
fn open_guarded(path: &Path) -> Result<Database, OpenError> {
    let _guard = OPEN_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(|| Database::create(path));
    std::panic::set_hook(previous);
    let damaged = |why: String| OpenError::Damaged {
        why,
        path: path.to_path_buf(),
    };
    match result {
        Ok(Ok(db)) => Ok(db),
        Ok(Err(redb::DatabaseError::Storage(redb::StorageError::Corrupted(why)))) => {
            Err(damaged(why))
        }
        Ok(Err(e)) => Err(OpenError::Redb(e)),
        Err(panic) => {
            let why = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "redb failed reading it".into());
            Err(damaged(why))
        }
    }
}

/// Why the state store could not be opened.
#[derive(Debug, thiserror::Error)]
enum OpenError {
    #[error(
        "the state store is damaged ({why}) and cannot be opened. To start afresh, move it \
         aside (`mv {0} {0}.damaged`): hark then creates a new one, sources collect again \
         (mentions already indexed are not duplicated), but the alert history and pending \
         deliveries are lost",
        path.display()
    )]
    Damaged { why: String, path: PathBuf },
    #[error(transparent)]
    Redb(redb::DatabaseError),
}

/// A stored JSON record, or None with a warning naming the table (a record written by a
/// newer or damaged version is skipped, said so, and the rest is read).
fn decode<T: serde::de::DeserializeOwned>(table: &str, bytes: &[u8]) -> Option<T> {
    match serde_json::from_slice(bytes) {
        Ok(v) => Some(v),
        Err(e) => {
            tracing::warn!(table, error = %e, "unreadable state record skipped");
            None
        }
    }
}

/// Removes every key of `table` that starts with `prefix`.
fn remove_prefixed<V: redb::Value + 'static>(
    table: &mut redb::Table<&str, V>,
    prefix: &str,
) -> Result<(), redb::StorageError> {
    use redb::ReadableTable;
    let old: Vec<String> = table
        .range(prefix..)?
        .map_while(|e| e.ok())
        .map(|(k, _)| k.value().to_string())
        .take_while(|k| k.starts_with(prefix))
        .collect();
    for k in old {
        table.remove(k.as_str())?;
    }
    Ok(())
}

fn key2(a: &str, b: &str) -> String {
    format!("{a}\u{1f}{b}")
}

impl StateStore {
    pub fn open(path: &Path) -> Result<StateStore, StateError> {
        let p = path.display().to_string();
        let err = |e: &dyn std::fmt::Display| StateError {
            path: p.clone(),
            message: e.to_string(),
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| err(&e))?;
        }
        let db = open_guarded(path).map_err(|e| err(&e))?;
        // Create the tables up front so that readers never see a missing table.
        let tx = db.begin_write().map_err(|e| err(&e))?;
        {
            tx.open_table(VALIDATORS).map_err(|e| err(&e))?;
            tx.open_table(CURSORS).map_err(|e| err(&e))?;
            tx.open_table(SEEN).map_err(|e| err(&e))?;
            tx.open_table(SIMHASH).map_err(|e| err(&e))?;
            tx.open_table(ERASED).map_err(|e| err(&e))?;
            tx.open_table(TRIAGE).map_err(|e| err(&e))?;
            tx.open_table(AUDIT).map_err(|e| err(&e))?;
            tx.open_table(USERS).map_err(|e| err(&e))?;
            tx.open_table(SAVED).map_err(|e| err(&e))?;
            tx.open_table(EXCLUSIONS).map_err(|e| err(&e))?;
        }
        tx.commit().map_err(|e| err(&e))?;
        Ok(StateStore { db, path: p })
    }

    /// The underlying database, for other components' tables (the alert outbox).
    pub fn db(&self) -> &Database {
        &self.db
    }

    pub fn error(&self, e: impl std::fmt::Display) -> StateError {
        self.err(e)
    }

    fn err(&self, e: impl std::fmt::Display) -> StateError {
        StateError {
            path: self.path.clone(),
            message: e.to_string(),
        }
    }

    pub fn validators(&self, source: &str, url: &str) -> Result<Option<Validators>, StateError> {
        let tx = self.db.begin_read().map_err(|e| self.err(e))?;
        let t = tx.open_table(VALIDATORS).map_err(|e| self.err(e))?;
        let v = t.get(key2(source, url).as_str()).map_err(|e| self.err(e))?;
        Ok(v.and_then(|v| serde_json::from_slice(v.value()).ok()))
    }

    pub fn cursor(&self, source: &str, key: &str) -> Result<Option<String>, StateError> {
        let tx = self.db.begin_read().map_err(|e| self.err(e))?;
        let t = tx.open_table(CURSORS).map_err(|e| self.err(e))?;
        let v = t.get(key2(source, key).as_str()).map_err(|e| self.err(e))?;
        Ok(v.map(|v| v.value().to_string()))
    }

    /// The cursors and validators of `source`.
    pub fn source_snapshot(&self, source: &str) -> Result<SourceSnapshot, StateError> {
        let tx = self.db.begin_read().map_err(|e| self.err(e))?;
        let prefix = key2(source, "");
        let mut snap = SourceSnapshot::default();
        let ct = tx.open_table(CURSORS).map_err(|e| self.err(e))?;
        for entry in ct.range(prefix.as_str()..).map_err(|e| self.err(e))? {
            let (k, v) = entry.map_err(|e| self.err(e))?;
            let Some(key) = k.value().strip_prefix(prefix.as_str()) else {
                break;
            };
            snap.cursors.insert(key.to_string(), v.value().to_string());
        }
        let vt = tx.open_table(VALIDATORS).map_err(|e| self.err(e))?;
        for entry in vt.range(prefix.as_str()..).map_err(|e| self.err(e))? {
            let (k, v) = entry.map_err(|e| self.err(e))?;
            let Some(url) = k.value().strip_prefix(prefix.as_str()) else {
                break;
            };
            if let Ok(val) = serde_json::from_slice(v.value()) {
                snap.validators.insert(url.to_string(), val);
            }
        }
        Ok(snap)
    }

    /// Makes `snapshot` the whole of `source`'s cursors and validators (a collector taking
    /// a source over in cluster mode: what the cluster committed replaces what this
    /// machine remembers).
    pub fn replace_source(
        &self,
        source: &str,
        snapshot: &SourceSnapshot,
    ) -> Result<(), StateError> {
        let prefix = key2(source, "");
        let tx = self.db.begin_write().map_err(|e| self.err(e))?;
        {
            let mut ct = tx.open_table(CURSORS).map_err(|e| self.err(e))?;
            remove_prefixed(&mut ct, &prefix).map_err(|e| self.err(e))?;
            for (k, v) in &snapshot.cursors {
                ct.insert(key2(source, k).as_str(), v.as_str())
                    .map_err(|e| self.err(e))?;
            }
            let mut vt = tx.open_table(VALIDATORS).map_err(|e| self.err(e))?;
            remove_prefixed(&mut vt, &prefix).map_err(|e| self.err(e))?;
            for (url, v) in &snapshot.validators {
                let bytes = serde_json::to_vec(v).expect("validators serialise");
                vt.insert(key2(source, url).as_str(), bytes.as_slice())
                    .map_err(|e| self.err(e))?;
            }
        }
        tx.commit().map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Which of `ids` were already indexed with exactly this fingerprint.
    pub fn seen_many(&self, items: &[(&str, u64)]) -> Result<Vec<bool>, StateError> {
        let tx = self.db.begin_read().map_err(|e| self.err(e))?;
        let t = tx.open_table(SEEN).map_err(|e| self.err(e))?;
        items
            .iter()
            .map(|(id, fp)| {
                let v = t.get(*id).map_err(|e| self.err(e))?;
                Ok(v.is_some_and(|v| v.value() == *fp))
            })
            .collect()
    }

    /// Which of `ids` were erased on request (`hark delete`).
    pub fn erased_many(&self, ids: &[&str]) -> Result<Vec<bool>, StateError> {
        let tx = self.db.begin_read().map_err(|e| self.err(e))?;
        let t = tx.open_table(ERASED).map_err(|e| self.err(e))?;
        ids.iter()
            .map(|id| Ok(t.get(*id).map_err(|e| self.err(e))?.is_some()))
            .collect()
    }

    /// The triage decisions recorded for `ids` (None: never triaged).
    pub fn triage_many(
        &self,
        ids: &[&str],
    ) -> Result<Vec<Option<crate::triage::Triage>>, StateError> {
        let tx = self.db.begin_read().map_err(|e| self.err(e))?;
        let t = tx.open_table(TRIAGE).map_err(|e| self.err(e))?;
        ids.iter()
            .map(|id| {
                let v = t.get(*id).map_err(|e| self.err(e))?;
                Ok(v.and_then(|v| decode("triage", v.value())))
            })
            .collect()
    }

    /// Every recorded triage decision, by mention id.
    pub fn triage_all(&self) -> Result<Vec<(String, crate::triage::Triage)>, StateError> {
        use redb::ReadableTable;
        let tx = self.db.begin_read().map_err(|e| self.err(e))?;
        let t = tx.open_table(TRIAGE).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in t.iter().map_err(|e| self.err(e))? {
            let (k, v) = row.map_err(|e| self.err(e))?;
            if let Some(tr) = decode("triage", v.value()) {
                out.push((k.value().to_string(), tr));
            }
        }
        Ok(out)
    }

    /// The accepted exclusion words, by query.
    pub fn exclusions(&self) -> Result<crate::exclusions::Accepted, StateError> {
        use redb::ReadableTable;
        let tx = self.db.begin_read().map_err(|e| self.err(e))?;
        let t = tx.open_table(EXCLUSIONS).map_err(|e| self.err(e))?;
        let mut out = crate::exclusions::Accepted::new();
        for row in t.iter().map_err(|e| self.err(e))? {
            let (k, v) = row.map_err(|e| self.err(e))?;
            if let Some(words) = decode::<Vec<String>>("exclusions", v.value().as_bytes())
                && !words.is_empty()
            {
                out.insert(k.value().to_string(), words.into_iter().collect());
            }
        }
        Ok(out)
    }

    /// Every saved search, by name.
    pub fn saved_searches(&self) -> Result<Vec<crate::saved::SavedSearch>, StateError> {
        use redb::ReadableTable;
        let tx = self.db.begin_read().map_err(|e| self.err(e))?;
        let t = tx.open_table(SAVED).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in t.iter().map_err(|e| self.err(e))? {
            let (_, v) = row.map_err(|e| self.err(e))?;
            if let Some(s) = decode("saved_searches", v.value().as_bytes()) {
                out.push(s);
            }
        }
        Ok(out)
    }

    /// Every user, by name.
    pub fn users(&self) -> Result<Vec<crate::users::User>, StateError> {
        use redb::ReadableTable;
        let tx = self.db.begin_read().map_err(|e| self.err(e))?;
        let t = tx.open_table(USERS).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in t.iter().map_err(|e| self.err(e))? {
            let (_, v) = row.map_err(|e| self.err(e))?;
            if let Some(u) = decode("users", v.value().as_bytes()) {
                out.push(u);
            }
        }
        Ok(out)
    }

    /// The newest `limit` audit entries, newest first.
    pub fn audit(&self, limit: usize) -> Result<Vec<serde_json::Value>, StateError> {
        use redb::ReadableTable;
        let tx = self.db.begin_read().map_err(|e| self.err(e))?;
        let t = tx.open_table(AUDIT).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in t.iter().map_err(|e| self.err(e))?.rev().take(limit) {
            let (_, v) = row.map_err(|e| self.err(e))?;
            if let Some(j) = decode("audit", v.value().as_bytes()) {
                out.push(j);
            }
        }
        Ok(out)
    }

    /// Every stored near-duplicate fingerprint: (fingerprint, mention id, published seconds).
    pub fn simhashes(&self) -> Result<Vec<(u64, String, i64)>, StateError> {
        use redb::ReadableTable;
        let tx = self.db.begin_read().map_err(|e| self.err(e))?;
        let t = tx.open_table(SIMHASH).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in t.iter().map_err(|e| self.err(e))? {
            let (k, v) = row.map_err(|e| self.err(e))?;
            if let Some((secs, id)) = v.value().split_once('\u{1f}') {
                out.push((k.value(), id.to_string(), secs.parse().unwrap_or(0)));
            }
        }
        Ok(out)
    }

    /// Applies updates atomically (one transaction, durable on return).
    pub fn apply(&self, updates: &[StateUpdate]) -> Result<(), StateError> {
        if updates.is_empty() {
            return Ok(());
        }
        let tx = self.db.begin_write().map_err(|e| self.err(e))?;
        {
            let mut vt = tx.open_table(VALIDATORS).map_err(|e| self.err(e))?;
            let mut ct = tx.open_table(CURSORS).map_err(|e| self.err(e))?;
            let mut st = tx.open_table(SEEN).map_err(|e| self.err(e))?;
            let mut sh = tx.open_table(SIMHASH).map_err(|e| self.err(e))?;
            let mut er = tx.open_table(ERASED).map_err(|e| self.err(e))?;
            let mut tr = tx.open_table(TRIAGE).map_err(|e| self.err(e))?;
            let mut au = tx.open_table(AUDIT).map_err(|e| self.err(e))?;
            let mut us = tx.open_table(USERS).map_err(|e| self.err(e))?;
            let mut sv = tx.open_table(SAVED).map_err(|e| self.err(e))?;
            let mut ex = tx.open_table(EXCLUSIONS).map_err(|e| self.err(e))?;
            let mut next_audit = {
                use redb::ReadableTable;
                au.last()
                    .map_err(|e| self.err(e))?
                    .map_or(0, |(k, _)| k.value() + 1)
            };
            for u in updates {
                match u {
                    StateUpdate::Validators {
                        source,
                        url,
                        validators,
                    } => {
                        let k = key2(source, url);
                        if validators.is_empty() {
                            vt.remove(k.as_str()).map_err(|e| self.err(e))?;
                        } else {
                            let v = serde_json::to_vec(validators).expect("validators serialise");
                            vt.insert(k.as_str(), v.as_slice())
                                .map_err(|e| self.err(e))?;
                        }
                    }
                    StateUpdate::Cursor { source, key, value } => {
                        ct.insert(key2(source, key).as_str(), value.as_str())
                            .map_err(|e| self.err(e))?;
                    }
                    StateUpdate::Seen { id, fingerprint } => {
                        st.insert(id.as_str(), *fingerprint)
                            .map_err(|e| self.err(e))?;
                    }
                    StateUpdate::SimhashPut { fp, id, published } => {
                        let v = format!("{published}\u{1f}{id}");
                        sh.insert(*fp, v.as_str()).map_err(|e| self.err(e))?;
                    }
                    StateUpdate::SimhashDel { fp } => {
                        sh.remove(*fp).map_err(|e| self.err(e))?;
                    }
                    StateUpdate::Erased { id, at } => {
                        er.insert(id.as_str(), *at).map_err(|e| self.err(e))?;
                    }
                    StateUpdate::Triage { id, triage } => {
                        let v = serde_json::to_vec(triage).expect("triage serialises");
                        tr.insert(id.as_str(), v.as_slice())
                            .map_err(|e| self.err(e))?;
                    }
                    StateUpdate::UserPut(u) => {
                        let v = serde_json::to_string(u).expect("user serialises");
                        us.insert(u.name.as_str(), v.as_str())
                            .map_err(|e| self.err(e))?;
                    }
                    StateUpdate::UserRemove(name) => {
                        us.remove(name.as_str()).map_err(|e| self.err(e))?;
                    }
                    StateUpdate::SavedPut(s) => {
                        let v = serde_json::to_string(s).expect("saved search serialises");
                        sv.insert(s.name.as_str(), v.as_str())
                            .map_err(|e| self.err(e))?;
                    }
                    StateUpdate::SavedRemove(name) => {
                        sv.remove(name.as_str()).map_err(|e| self.err(e))?;
                    }
                    StateUpdate::Exclusions { query, words } => {
                        let v = serde_json::to_string(words).expect("words serialise");
                        ex.insert(query.as_str(), v.as_str())
                            .map_err(|e| self.err(e))?;
                    }
                    StateUpdate::Audit(entry) => {
                        au.insert(next_audit, entry.to_string().as_str())
                            .map_err(|e| self.err(e))?;
                        next_audit += 1;
                    }
                }
            }
        }
        tx.commit().map_err(|e| self.err(e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression (hardening #6): a truncated `state.redb` panicked inside redb.
    #[test]
    fn a_truncated_store_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.redb");
        {
            let s = StateStore::open(&path).unwrap();
            let updates: Vec<StateUpdate> = (0..2000)
                .map(|i| StateUpdate::Seen {
                    id: format!("feed:{i}"),
                    fingerprint: i,
                })
                .collect();
            s.apply(&updates).unwrap();
        }
        for keep in [0.5, 0.1, 0.02] {
            let bytes = std::fs::read(&path).unwrap();
            let cut = (bytes.len() as f64 * keep) as usize;
            let damaged = dir.path().join(format!("cut-{keep}.redb"));
            std::fs::write(&damaged, &bytes[..cut.max(1)]).unwrap();
            let msg = match StateStore::open(&damaged) {
                Ok(_) => panic!("a store cut to {keep} of its size opened"),
                Err(e) => e.to_string(),
            };
            assert!(
                msg.contains("damaged") && msg.contains(".damaged`") && msg.contains("cut-"),
                "{msg}"
            );
        }
    }

    #[test]
    fn updates_persist_across_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.redb");
        {
            let s = StateStore::open(&path).unwrap();
            assert_eq!(s.validators("news", "http://x/feed").unwrap(), None);
            s.apply(&[
                StateUpdate::Validators {
                    source: "news".into(),
                    url: "http://x/feed".into(),
                    validators: Validators {
                        etag: Some("\"abc\"".into()),
                        last_modified: None,
                    },
                },
                StateUpdate::Cursor {
                    source: "news".into(),
                    key: "acme".into(),
                    value: "42".into(),
                },
                StateUpdate::Seen {
                    id: "feed:1".into(),
                    fingerprint: 7,
                },
            ])
            .unwrap();
        }
        let s = StateStore::open(&path).unwrap();
        assert_eq!(
            s.validators("news", "http://x/feed")
                .unwrap()
                .unwrap()
                .etag
                .as_deref(),
            Some("\"abc\"")
        );
        assert_eq!(s.cursor("news", "acme").unwrap().as_deref(), Some("42"));
        // A source's snapshot is its own keys only ("news" must not take "newsroom"'s).
        s.apply(&[StateUpdate::Cursor {
            source: "newsroom".into(),
            key: "k".into(),
            value: "9".into(),
        }])
        .unwrap();
        let snap = s.source_snapshot("news").unwrap();
        assert_eq!(snap.cursors.len(), 1);
        assert_eq!(snap.validators.len(), 1);
        let mut replaced = SourceSnapshot::default();
        replaced.cursors.insert("other".into(), "1".into());
        s.replace_source("news", &replaced).unwrap();
        assert_eq!(s.cursor("news", "acme").unwrap(), None);
        assert_eq!(s.validators("news", "http://x/feed").unwrap(), None);
        assert_eq!(s.cursor("news", "other").unwrap().as_deref(), Some("1"));
        assert_eq!(s.cursor("newsroom", "k").unwrap().as_deref(), Some("9"));
        s.replace_source("news", &snap).unwrap();
        assert_eq!(s.source_snapshot("news").unwrap(), snap);
        assert_eq!(
            s.seen_many(&[("feed:1", 7), ("feed:1", 8), ("feed:2", 7)])
                .unwrap(),
            vec![true, false, false]
        );
    }
}
