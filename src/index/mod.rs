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
    };
    (b.build(), fields)
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
