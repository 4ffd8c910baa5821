//! The mention: one post, comment, article or forum message that talks about a monitored query.
//! Its JSON shape is fixed by the interface contract (`../shared/CONTRACT.md`).

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A mention as stored, searched and exported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mention {
    /// Stable identity `kind:native_id`: the same item collected twice is stored once.
    pub id: String,
    #[serde(default)]
    pub queries: Vec<String>,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub source_kind: String,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub author: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub text: String,
    #[serde(with = "rfc3339")]
    pub published_at: DateTime<Utc>,
    #[serde(with = "rfc3339_opt", default)]
    pub fetched_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub lang: Option<String>,
    #[serde(default)]
    pub sentiment: Option<Sentiment>,
    #[serde(default)]
    pub engagement: Engagement,
    #[serde(default)]
    pub reach: Option<u64>,
    /// For comments and replies: the `id` of the item answered (a post, a story, a video),
    /// so that threads can be reassembled. Absent for top-level items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// Other sources that later carried the same item (the same `id`). The first source's
    /// copy is kept — its text, sentiment and engagement — and the others are only recorded
    /// here: a source can never replace another source's mention (see `IndexSink`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub duplicates: Vec<Duplicate>,
    /// The team's decision about it (status, tags, irrelevant, corrected sentiment); absent
    /// until someone triages it. See `triage.rs`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub triage: Option<crate::triage::Triage>,
}

/// One sighting of a stored mention by another source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Duplicate {
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(with = "rfc3339")]
    pub seen_at: DateTime<Utc>,
}

impl Mention {
    /// A collected item with only its identity and time; a source sets what it knows
    /// (`Mention { text, url, ..Mention::new(id, time) }`) and the pipeline fills the rest
    /// (source, queries, language, sentiment, reach).
    pub fn new(id: impl Into<String>, published_at: DateTime<Utc>) -> Mention {
        Mention {
            id: id.into(),
            queries: Vec::new(),
            source: String::new(),
            source_kind: String::new(),
            url: None,
            author: None,
            title: None,
            text: String::new(),
            published_at,
            fetched_at: None,
            lang: None,
            sentiment: None,
            engagement: Engagement::default(),
            reach: None,
            parent_id: None,
            duplicates: Vec::new(),
            triage: None,
        }
    }

    /// Records that `other` (another source's copy of this item) was seen, once per source;
    /// false when that source was already recorded. Queries `other` matched are added, so
    /// the item still counts for every query either copy matched; nothing else changes.
    pub fn record_duplicate(&mut self, other: &Mention) -> bool {
        for q in &other.queries {
            if !self.queries.contains(q) {
                self.queries.push(q.clone());
            }
        }
        if other.source == self.source || self.duplicates.iter().any(|d| d.source == other.source) {
            return false;
        }
        self.duplicates.push(Duplicate {
            source: other.source.clone(),
            url: other.url.clone(),
            seen_at: other.fetched_at.unwrap_or_else(Utc::now),
        });
        true
    }
}

/// Sentiment as the classifier gave it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sentiment {
    pub label: Label,
    /// In [-1, 1]: the VADER compound score for `lexicon`, P(pos) − P(neg) for `bert`.
    pub score: f64,
    pub model: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Label {
    Negative,
    Neutral,
    Positive,
    /// The mention's language has no classifier (`score` 0, `model` "none"): counted apart
    /// from neutral everywhere.
    Unscored,
}

impl Label {
    pub const ALL: [Label; 3] = [Label::Negative, Label::Neutral, Label::Positive];

    pub fn as_str(self) -> &'static str {
        match self {
            Label::Negative => "negative",
            Label::Neutral => "neutral",
            Label::Unscored => "unscored",
            Label::Positive => "positive",
        }
    }

    pub fn parse(s: &str) -> Option<Label> {
        match s.to_ascii_lowercase().as_str() {
            "negative" | "neg" => Some(Label::Negative),
            "neutral" | "neu" => Some(Label::Neutral),
            "positive" | "pos" => Some(Label::Positive),
            "unscored" => Some(Label::Unscored),
            _ => None,
        }
    }
}

impl std::fmt::Display for Label {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The network's engagement counters; `None` where the network does not report one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Engagement {
    #[serde(default)]
    pub likes: Option<u64>,
    #[serde(default)]
    pub shares: Option<u64>,
    #[serde(default)]
    pub comments: Option<u64>,
    #[serde(default)]
    pub views: Option<u64>,
    #[serde(default)]
    pub followers: Option<u64>,
    /// A review's star rating, 1 (worst) to 5 (best): App Store, Google Play and Trustpilot
    /// reviews. Sentiment takes it into account (a 1-star review is never positive). Absent
    /// from the JSON of mentions that are not reviews.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<u8>,
}

impl Engagement {
    /// Estimated audience of a mention — the one formula every source shares:
    ///
    /// `reach = max(views, followers + 50 × shares + 5 × likes)`
    ///
    /// Followers are the direct audience; each share re-broadcasts the item to the sharer's
    /// audience (50 people assumed, a typical median audience) and each like is a signal that
    /// the item was shown to about five more people by ranking algorithms. Comments are not
    /// counted: commenters are mostly people already reached. Where the network counts views,
    /// they are a measured lower bound and win when larger.
    pub fn reach(&self) -> u64 {
        let v = |x: Option<u64>| x.unwrap_or(0);
        let estimated = v(self.followers)
            .saturating_add(v(self.shares).saturating_mul(50))
            .saturating_add(v(self.likes).saturating_mul(5));
        estimated.max(v(self.views))
    }
}

impl Mention {
    /// Fills derived fields: `reach` from engagement when absent.
    /// Makes an attacker- or parser-supplied mention safe to store and show:
    /// - a `published_at` before 1970 or more than a day ahead of `now` (a feed dated year
    ///   99999 overflowed the index's nanosecond timestamps) becomes the fetch time, else
    ///   `now`;
    /// - control characters other than line breaks and tabs (NUL, escape sequences that
    ///   would drive a terminal) are removed from the title, text and author.
    pub fn sanitize(&mut self, now: DateTime<Utc>) {
        let sane = |t: &DateTime<Utc>| t.timestamp() >= 0 && *t <= now + chrono::Duration::days(1);
        if !sane(&self.published_at) {
            tracing::debug!(id = %self.id, published_at = %self.published_at,
                "implausible publication time: using the fetch time");
            self.published_at = self.fetched_at.filter(sane).unwrap_or(now);
        }
        if let Some(f) = self.fetched_at
            && !sane(&f)
        {
            self.fetched_at = Some(now);
        }
        let clean = |s: &mut String| {
            if s.chars().any(is_unwanted_control) {
                s.retain(|c| !is_unwanted_control(c));
            }
        };
        clean(&mut self.text);
        if let Some(t) = &mut self.title {
            clean(t);
        }
        if let Some(a) = &mut self.author {
            clean(a);
        }
    }

    pub fn finish(&mut self) {
        if self.reach.is_none() {
            self.reach = Some(self.engagement.reach());
        }
    }

    /// Title and text joined: what queries are matched against and what is classified.
    pub fn content(&self) -> String {
        match &self.title {
            Some(t) if !t.is_empty() && !self.text.starts_with(t.as_str()) => {
                format!("{t}\n{}", self.text)
            }
            _ => self.text.clone(),
        }
    }
}

fn is_unwanted_control(c: char) -> bool {
    c.is_control() && c != '\n' && c != '\t'
}

/// Formats a time the way the contract wants it: UTC, RFC 3339, `Z`, whole seconds
/// unless there is a fraction.
pub fn format_time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

mod rfc3339 {
    use super::*;
    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_time(t))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let s = String::deserialize(d)?;
        crate::timeutil::parse_timestamp(&s).map_err(serde::de::Error::custom)
    }
}

pub(crate) mod rfc3339_opt {
    use super::*;
    pub fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&format_time(t)),
            None => s.serialize_none(),
        }
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        let s = Option::<String>::deserialize(d)?;
        match s {
            None => Ok(None),
            Some(s) if s.is_empty() => Ok(None),
            Some(s) => crate::timeutil::parse_timestamp(&s)
                .map(Some)
                .map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reach_matches_the_contract_example() {
        let e = Engagement {
            likes: Some(10),
            shares: Some(2),
            comments: Some(4),
            views: None,
            followers: Some(1200),
            rating: None,
        };
        assert_eq!(e.reach(), 1350);
    }

    #[test]
    fn views_win_when_larger() {
        let e = Engagement {
            views: Some(1_000_000),
            followers: Some(10),
            ..Default::default()
        };
        assert_eq!(e.reach(), 1_000_000);
    }

    #[test]
    fn json_round_trip_keeps_contract_shape() {
        let src = r#"{"id":"reddit:t3_abc123","queries":["acme"],"source":"reddit-main","source_kind":"reddit","url":"https://x","author":"someone","title":"optional","text":"the mention's text","published_at":"2026-11-26T10:00:00Z","fetched_at":"2026-11-26T10:05:00Z","lang":"en","sentiment":{"label":"negative","score":-0.71,"model":"lexicon"},"engagement":{"likes":10,"shares":2,"comments":4,"views":null,"followers":1200},"reach":1350}"#;
        let m: Mention = serde_json::from_str(src).unwrap();
        assert_eq!(m.sentiment.as_ref().unwrap().label, Label::Negative);
        let back = serde_json::to_string(&m).unwrap();
        assert_eq!(back, src);
    }
}
