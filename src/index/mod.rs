//! The mention index: tantivy, on disk under the data dir, one document per mention.
//!
//! Every field of the contract's mention JSON is kept: the whole mention is stored as JSON
//! (what search returns), and the fields users filter, sort and aggregate on are indexed
//! and/or fast fields. Text fields use the shared hark tokenizer (lower-casing, diacritics
//! folding, word boundaries, hashtags and handles) so search agrees with query matching.
//! The `id` field is a raw term: writing a mention deletes any earlier document with the same
//! id first, so a re-collected mention replaces, never duplicates.

pub mod analytics;
pub mod erase;
pub mod search;
pub mod stats;
pub mod tokenizer;

use crate::mention::{Label, Mention};
use std::path::{Path, PathBuf};
use tantivy::schema::{
    DateOptions, DateTimePrecision, Field, IndexRecordOption, NumericOptions, STORED, STRING,
    Schema, TextFieldIndexing, TextOptions,
};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("index at {path}: {source}")]
    Tantivy {
        path: PathBuf,
        source: tantivy::TantivyError,
    },
    #[error(
        "no index at {0}: collect or import mentions first (`hark run --once` or `hark import FILE`)"
    )]
    Missing(PathBuf),
    #[error("stored mention is not valid JSON: {0}")]
    Corrupt(String),
}

#[derive(Debug, Clone, Copy)]
pub struct Fields {
    pub id: Field,
    pub json: Field,
    pub queries: Field,
    pub source: Field,
    pub source_kind: Field,
    pub lang: Field,
    pub sentiment: Field,
    pub url: Field,
    pub author: Field,
    pub title: Field,
    pub content: Field,
    pub published_at: Field,
    pub sentiment_code: Field,
    pub reach: Field,
    pub score: Field,
    /// Triage terms (`status:handled`, `tag:refund`, `irrelevant`; see `triage.rs`).
    pub triage: Field,
}

/// `sentiment_code` fast-field values.
pub fn sentiment_code(label: Option<Label>) -> u64 {
    match label {
        Some(Label::Negative) => 0,
        Some(Label::Neutral) => 1,
        Some(Label::Positive) => 2,
        None => 3,
        Some(Label::Unscored) => 4,
    }
}

fn build_schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(tokenizer::NAME)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let date = DateOptions::default()
        .set_indexed()
        .set_fast()
        .set_precision(DateTimePrecision::Seconds);
    let fast_u64 = NumericOptions::default().set_fast().set_indexed();
    let fields = Fields {
        id: b.add_text_field("id", STRING | STORED),
        json: b.add_text_field("json", STORED),
        queries: b.add_text_field("queries", STRING),
        source: b.add_text_field("source", STRING),
        source_kind: b.add_text_field("source_kind", STRING),
        lang: b.add_text_field("lang", STRING),
        sentiment: b.add_text_field("sentiment", STRING),
        url: b.add_text_field("url", STRING),
        author: b.add_text_field("author", text.clone()),
        title: b.add_text_field("title", text.clone()),
        content: b.add_text_field("content", text),
        published_at: b.add_date_field("published_at", date),
        sentiment_code: b.add_u64_field("sentiment_code", fast_u64.clone()),
        reach: b.add_u64_field("reach", fast_u64),
        score: b.add_f64_field("score", NumericOptions::default().set_fast()),
        triage: b.add_text_field("triage", STRING),
    };
    (b.build(), fields)
}

/// Rewrites an index made by an earlier version (a different schema: fields were added)
/// into the current schema, from the mentions' stored JSON, then swaps it in. The old index
/// stays as `DIR.old` until the new one is complete, so a crash midway loses nothing.
fn upgrade(dir: &Path, schema: &Schema) -> tantivy::Result<()> {
    let started = std::time::Instant::now();
    let old = Index::open_in_dir(dir)?;
    let json = old.schema().get_field("json")?;
    let fresh = dir.with_extension("upgrading");
    if fresh.exists() {
        std::fs::remove_dir_all(&fresh)?;
    }
    std::fs::create_dir_all(&fresh)?;
    let new = Index::create_in_dir(&fresh, schema.clone())?;
    let mut idx = MentionIndex::finish(new, build_schema().1, &fresh)
        .map_err(|e| tantivy::TantivyError::InternalError(e.to_string()))?;
    let mut writer: IndexWriter = idx.index.writer_with_num_threads(1, 64 * 1024 * 1024)?;
    let reader = old.reader()?;
    let searcher = reader.searcher();
    let mut n = 0u64;
    for (ord, seg) in searcher.segment_readers().iter().enumerate() {
        let store = seg.get_store_reader(64)?;
        for doc_id in seg.doc_ids_alive() {
            let doc: TantivyDocument = store.get(doc_id)?;
            let Some(text) = doc
                .get_first(json)
                .and_then(|v| tantivy::schema::Value::as_str(&v))
            else {
                continue;
            };
            match serde_json::from_str::<Mention>(text) {
                Ok(m) => {
                    writer.add_document(idx.document(&m))?;
                    n += 1;
                }
                Err(e) => {
                    tracing::warn!(segment = ord, doc = doc_id, error = %e, "index upgrade: unreadable stored mention skipped")
                }
            }
        }
    }
    writer.commit()?;
    drop(writer);
    idx.path = fresh.clone();
    drop(idx);
    drop(searcher);
    drop(reader);
    drop(old);
    let aside = dir.with_extension("old");
    if aside.exists() {
        std::fs::remove_dir_all(&aside)?;
    }
    std::fs::rename(dir, &aside)?;
    std::fs::rename(&fresh, dir)?;
    std::fs::remove_dir_all(&aside)?;
    tracing::info!(mentions = n, seconds = started.elapsed().as_secs_f64(), dir = %dir.display(), "index upgraded to this version's schema");
    Ok(())
}

/// An open index (reader always; writer on demand).
pub struct MentionIndex {
    pub index: Index,
    pub fields: Fields,
    pub reader: IndexReader,
    path: PathBuf,
}

impl MentionIndex {
    fn err(&self, e: tantivy::TantivyError) -> IndexError {
        IndexError::Tantivy {
            path: self.path.clone(),
            source: e,
        }
    }

    /// Opens the index in `dir`, creating it if needed.
    pub fn open_or_create(dir: &Path) -> Result<MentionIndex, IndexError> {
        let tv = |e: tantivy::TantivyError| IndexError::Tantivy {
            path: dir.to_path_buf(),
            source: e,
        };
        std::fs::create_dir_all(dir).map_err(|e| tv(e.into()))?;
        let (schema, fields) = build_schema();
        if dir.join("meta.json").exists() {
            let existing = Index::open_in_dir(dir).map_err(tv)?;
            if existing.schema() != schema {
                drop(existing);
                upgrade(dir, &schema).map_err(tv)?;
            }
        }
        let mmap = tantivy::directory::MmapDirectory::open(dir).map_err(|e| tv(e.into()))?;
        let index = Index::open_or_create(mmap, schema).map_err(tv)?;
        Self::finish(index, fields, dir)
    }

    /// Opens an existing index for reading.
    pub fn open_existing(dir: &Path) -> Result<MentionIndex, IndexError> {
        if !dir.join("meta.json").exists() {
            return Err(IndexError::Missing(dir.to_path_buf()));
        }
        Self::open_or_create(dir)
    }

    fn finish(index: Index, fields: Fields, dir: &Path) -> Result<MentionIndex, IndexError> {
        index
            .tokenizers()
            .register(tokenizer::NAME, tokenizer::HarkTokenizer::default());
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(|e| IndexError::Tantivy {
                path: dir.to_path_buf(),
                source: e,
            })?;
        Ok(MentionIndex {
            index,
            fields,
            reader,
            path: dir.to_path_buf(),
        })
    }

    /// A writer with `threads` indexing threads sharing `memory_mb` of buffer.
    pub fn writer(&self, threads: usize, memory_mb: usize) -> Result<IndexWriter, IndexError> {
        let threads = threads.max(1);
        let per_thread = (memory_mb / threads).max(16);
        self.index
            .writer_with_num_threads(threads, per_thread * threads * 1024 * 1024)
            .map_err(|e| self.err(e))
    }

    pub fn document(&self, m: &Mention) -> TantivyDocument {
        let f = &self.fields;
        let mut d = TantivyDocument::default();
        d.add_text(f.id, &m.id);
        d.add_text(
            f.json,
            serde_json::to_string(m).expect("mention serialises"),
        );
        for q in &m.queries {
            d.add_text(f.queries, q);
        }
        d.add_text(f.source, &m.source);
        d.add_text(f.source_kind, &m.source_kind);
        if let Some(l) = &m.lang {
            d.add_text(f.lang, l);
        }
        if let Some(s) = &m.sentiment {
            d.add_text(f.sentiment, s.label.as_str());
            d.add_f64(f.score, s.score);
        }
        if let Some(u) = &m.url {
            d.add_text(f.url, u);
        }
        if let Some(a) = &m.author {
            d.add_text(f.author, a);
        }
        if let Some(t) = &m.title {
            d.add_text(f.title, t);
        }
        d.add_text(f.content, m.content());
        d.add_date(
            f.published_at,
            // Clamped to what tantivy's nanosecond timestamps hold (years 1678–2261).
            tantivy::DateTime::from_timestamp_secs(
                m.published_at
                    .timestamp()
                    .clamp(-9_200_000_000, 9_200_000_000),
            ),
        );
        d.add_u64(
            f.sentiment_code,
            sentiment_code(m.sentiment.as_ref().map(|s| s.label)),
        );
        d.add_u64(f.reach, m.reach.unwrap_or(0));
        for t in m.triage_terms() {
            d.add_text(f.triage, t);
        }
        d
    }

    /// Replaces any document with the same id, then adds this one (effective on commit).
    pub fn upsert(&self, writer: &IndexWriter, m: &Mention) -> Result<(), IndexError> {
        writer.delete_term(Term::from_field_text(self.fields.id, &m.id));
        writer
            .add_document(self.document(m))
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Deletes the document with this id, if any (effective on commit).
    pub fn delete(&self, writer: &IndexWriter, id: &str) {
        writer.delete_term(Term::from_field_text(self.fields.id, id));
    }

    /// Makes the last commit visible to searches.
    pub fn reload(&self) -> Result<(), IndexError> {
        self.reader.reload().map_err(|e| self.err(e))
    }

    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Decodes a stored document back into a mention.
    pub fn mention(&self, doc: &TantivyDocument) -> Result<Mention, IndexError> {
        use tantivy::schema::document::Value;
        let json = doc
            .get_first(self.fields.json)
            .and_then(|v| v.as_str())
            .ok_or_else(|| IndexError::Corrupt("missing json field".into()))?;
        serde_json::from_str(json).map_err(|e| IndexError::Corrupt(e.to_string()))
    }

    /// Looks up one mention by id.
    pub fn get(&self, id: &str) -> Result<Option<Mention>, IndexError> {
        let searcher = self.reader.searcher();
        let q = tantivy::query::TermQuery::new(
            Term::from_field_text(self.fields.id, id),
            IndexRecordOption::Basic,
        );
        let top = searcher
            .search(&q, &tantivy::collector::TopDocs::with_limit(1))
            .map_err(|e| self.err(e))?;
        match top.first() {
            Some((_, addr)) => {
                let doc: TantivyDocument = searcher.doc(*addr).map_err(|e| self.err(e))?;
                Ok(Some(self.mention(&doc)?))
            }
            None => Ok(None),
        }
    }

    /// Whether a document with this id is in the snapshot `searcher` (possibly deleted but not
    /// yet merged away: a harmless false positive that only costs a delete).
    pub fn contains_id_in(&self, searcher: &tantivy::Searcher, id: &str) -> bool {
        let term = Term::from_field_text(self.fields.id, id);
        searcher.segment_readers().iter().any(|sr| {
            sr.inverted_index(self.fields.id)
                .ok()
                .and_then(|ii| ii.get_term_info(&term).ok().flatten())
                .is_some()
        })
    }

    pub(crate) fn tantivy_err(&self, e: tantivy::TantivyError) -> IndexError {
        self.err(e)
    }

    /// A tantivy error with what a write probe says about the disk (see [`probe_disk`]):
    /// "an index writer was killed" becomes "cannot write to DIR: No space left on device".
    pub fn explain(&self, e: tantivy::TantivyError) -> anyhow::Error {
        let err = self.err(e);
        match probe_disk(&self.path) {
            Some(disk) => anyhow::anyhow!("{disk} (index error: {err})"),
            None => anyhow::Error::new(err),
        }
    }

    /// The index's directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Whether `dir` can take a write right now: writes and syncs a 64 KiB probe file there and
/// removes it. `None` when it can; otherwise what went wrong, naming the directory ("no
/// space left on device"). Used to explain index errors: tantivy reports a write that
/// failed in an indexing thread only as "an index writer was killed".
pub fn probe_disk(dir: &Path) -> Option<String> {
    use std::io::Write;
    let path = dir.join(".hark-disk-probe");
    let result = (|| {
        let mut f = std::fs::File::create(&path)?;
        f.write_all(&[0u8; 64 * 1024])?;
        f.sync_all()
    })();
    let _ = std::fs::remove_file(&path);
    result
        .err()
        .map(|e| format!("cannot write to {}: {e}", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An index written by the previous version (no `triage` field) is upgraded in place
    /// when opened, keeping every mention; an index of this version is opened as it is.
    #[test]
    fn an_older_index_is_upgraded_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index");
        std::fs::create_dir_all(&path).unwrap();
        let (current, fields) = build_schema();
        let mut old_schema = Schema::builder();
        for (_, entry) in current.fields() {
            if entry.name() != "triage" {
                old_schema.add_field(entry.clone());
            }
        }
        let old = Index::create_in_dir(&path, old_schema.build()).unwrap();
        {
            let idx = MentionIndex::finish(old, fields, &path).unwrap();
            let mut w: IndexWriter = idx.index.writer_with_num_threads(1, 20_000_000).unwrap();
            for i in 0..3 {
                let mut m = Mention::new(format!("t:{i}"), chrono::Utc::now());
                m.text = format!("mention {i}");
                let mut d = TantivyDocument::default();
                d.add_text(idx.index.schema().get_field("id").unwrap(), &m.id);
                d.add_text(
                    idx.index.schema().get_field("json").unwrap(),
                    serde_json::to_string(&m).unwrap(),
                );
                w.add_document(d).unwrap();
            }
            w.commit().unwrap();
        }
        let idx = MentionIndex::open_or_create(&path).unwrap();
        assert_eq!(idx.index.schema(), current);
        assert_eq!(idx.num_docs(), 3);
        assert_eq!(idx.get("t:2").unwrap().unwrap().text, "mention 2");
        // Searchable by triage now (every mention is `status:new`).
        let q = tantivy::query::TermQuery::new(
            Term::from_field_text(idx.fields.triage, "status:new"),
            IndexRecordOption::Basic,
        );
        let n = idx
            .reader
            .searcher()
            .search(&q, &tantivy::collector::Count)
            .unwrap();
        assert_eq!(n, 3);
        assert!(!path.with_extension("old").exists() && !path.with_extension("upgrading").exists());
        drop(idx);
        // Opening again does not rewrite it: a file left in the directory survives.
        std::fs::write(path.join("marker"), b"x").unwrap();
        let idx = MentionIndex::open_or_create(&path).unwrap();
        assert_eq!(idx.num_docs(), 3);
        assert!(path.join("marker").exists());
    }
}
