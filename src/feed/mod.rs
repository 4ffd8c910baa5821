//! Feed documents to entries, as forgiving as Python's feedparser: RSS 0.9x/1.0/2.0 (with
//! or without `version`, in any default namespace), Atom 1.0 and 0.3, Microsoft CDF and
//! JSON Feed, with the dc, content, xhtml, itunes and media extensions.
//!
//! # Why hark reads feeds itself
//! hark used feed-rs, a good strict parser, and wrapped it in repairs (junk before the
//! declaration, HTML entities, truncation). Measured against feedparser's own test suite
//! (`scripts/feedparser_compat.sh`) that still lost whole feeds to a bare `&`, an Atom 0.3
//! namespace, one entry with an unusual content type, or a missing `version`. The cause is
//! structural — a strict XML pass over the whole document that fails as a unit — so the
//! fix is a different shape of reader rather than more repairs around it:
//!
//! 1. bytes to text with per-segment charset repair ([`charset`]);
//! 2. a lenient element tree that accepts any text ([`xml`]);
//! 3. per-entry reading ([`read`]): each entry is read on its own; one that cannot be used
//!    (cut off by a truncated document, or with nothing in it) is skipped
//!    and counted in [`Feed::skipped`], the others are kept.
//!
//! feed-rs stays a dev-dependency, as the independent reference the end-to-end feed test
//! computes its expectations with.

pub mod charset;
pub mod date;
mod json;
pub mod read;
pub mod xml;

use chrono::{DateTime, Utc};

/// What kind of document it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Rss,
    Rdf,
    Atom,
    Atom03,
    Cdf,
    Json,
}

/// A parsed feed.
#[derive(Debug, Clone)]
pub struct Feed {
    pub format: Format,
    pub title: Option<String>,
    /// The feed's declared language (`<language>`, `xml:lang`, `dc:language`).
    pub language: Option<String>,
    pub entries: Vec<Entry>,
    /// Entries that could not be used, with the reason (logged and counted by the source).
    pub skipped: Vec<String>,
    /// What had to be repaired to read it (charset), for the log.
    pub repairs: Vec<&'static str>,
}

/// One entry (item) of a feed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Entry {
    /// `<guid>`, `<id>`, `rdf:about`; None when the entry has none (the caller derives one).
    pub id: Option<String>,
    pub title: Option<Text>,
    /// Absolute where it could be resolved (against `xml:base` and the feed's URL).
    pub link: Option<String>,
    /// The full text (`content`, `content:encoded`, `xhtml:body`, ...).
    pub content: Option<Text>,
    /// The summary (`description`, `summary`, `dc:description`, ...).
    pub summary: Option<Text>,
    pub author: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub updated: Option<DateTime<Utc>>,
    /// Media RSS `<media:statistics views>`.
    pub views: Option<u64>,
    /// Media RSS favourites, or the number of star ratings.
    pub likes: Option<u64>,
    /// Only from JSON Feed's `_engagement` extension (see [`json`]).
    pub shares: Option<u64>,
    pub comments: Option<u64>,
    pub followers: Option<u64>,
}

impl Entry {
    /// Nothing a mention could be made of.
    pub fn is_empty(&self) -> bool {
        self.title.is_none()
            && self.content.is_none()
            && self.summary.is_none()
            && self.link.is_none()
            && self.author.is_none()
            && self.id.is_none()
    }
}

/// A text construct: its value and whether the value is HTML (to be reduced to text) or
/// plain text.
#[derive(Debug, Clone, PartialEq)]
pub struct Text {
    pub value: String,
    pub html: bool,
}

impl Text {
    /// The readable text: HTML reduced to text, plain text with whitespace normalised.
    pub fn to_plain(&self) -> String {
        if self.html {
            crate::html::to_text(&self.value)
        } else {
            crate::html::normalise_ws(&self.value)
        }
    }
}

/// Why a document could not be read as a feed at all.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("the document is empty")]
    Empty,
    #[error("not an RSS, Atom or JSON feed (the document starts with {0})")]
    NotAFeed(String),
    #[error("not a readable JSON Feed: {0}")]
    Json(String),
}

/// Parses a feed document. `base` is the URL it was fetched from (relative links resolve
/// against it); `http_charset` the `charset` of its `Content-Type`, if any.
pub fn parse(body: &[u8], base: &str, http_charset: Option<&str>) -> Result<Feed, FeedError> {
    let (text, repair) = charset::decode(body, http_charset);
    let trimmed = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    if trimmed.is_empty() {
        return Err(FeedError::Empty);
    }
    let mut feed = if trimmed.starts_with('{') {
        json::parse(trimmed, base)?
    } else {
        read::parse(trimmed, base)?
    };
    feed.repairs.extend(repair);
    Ok(feed)
}

#[cfg(test)]
mod tests;
