//! Triage: what a team decides about a mention — its handling status, its tags, whether it
//! is irrelevant (the other "Acme"), and a corrected sentiment.
//!
//! The decision lives in the state store, keyed by mention id (`StateUpdate::Triage`), and
//! is applied to the mention wherever it is written to the index: when a team member sets
//! it, and whenever a source collects the mention again. The index carries it in the
//! mention's JSON (`triage`) and as terms of the `triage` field (`status:handled`,
//! `tag:refund`, `irrelevant`), so that every search, count, chart, alert and report sees
//! it: irrelevant mentions are left out of all of them (`filter_query`), and an overridden
//! sentiment is the mention's sentiment everywhere (the model's answer is kept in
//! `triage.model_sentiment` for retraining and for undoing the override).

use crate::mention::{Label, Mention, Sentiment};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where a mention is in the team's work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    #[default]
    New,
    InProgress,
    Handled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::InProgress => "in_progress",
            Status::Handled => "handled",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        match s
            .trim()
            .to_ascii_lowercase()
            .replace(['-', ' '], "_")
            .as_str()
        {
            "new" => Some(Status::New),
            "in_progress" | "progress" | "open" => Some(Status::InProgress),
            "handled" | "done" | "closed" => Some(Status::Handled),
            _ => None,
        }
    }
}

/// The team's decision about one mention (the mention JSON's `triage` object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Triage {
    #[serde(default)]
    pub status: Status,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub irrelevant: bool,
    /// The corrected label, when someone corrected the model.
    #[serde(default)]
    pub sentiment_override: Option<Label>,
    /// The model's own answer, kept while an override is in force.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_sentiment: Option<Sentiment>,
    /// Who decided last, and when.
    #[serde(default)]
    pub by: Option<String>,
    #[serde(default, with = "crate::mention::rfc3339_opt")]
    pub at: Option<DateTime<Utc>>,
}

/// A change to apply (the fields of `PATCH /api/mentions/{id}` and `hark mention set`);
/// absent fields are left as they are.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Change {
    #[serde(default)]
    pub status: Option<Status>,
    /// Replaces the tags.
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    /// Added to the tags (CLI `--tag`, bulk actions).
    #[serde(default)]
    pub add_tags: Vec<String>,
    #[serde(default)]
    pub remove_tags: Vec<String>,
    #[serde(default)]
    pub irrelevant: Option<bool>,
    /// A label, or `null` to go back to the model's answer.
    #[serde(
        default,
        deserialize_with = "some_label_or_null",
        skip_serializing_if = "Option::is_none"
    )]
    pub sentiment: Option<Option<Label>>,
}

/// Why a triage change could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TriageError {
    #[error("no mention with id `{0}`")]
    Unknown(String),
    #[error("nothing to change: give a status, tags, irrelevant or a sentiment")]
    Empty,
    #[error(transparent)]
    Index(#[from] crate::index::IndexError),
    #[error(transparent)]
    State(#[from] crate::state::StateError),
}

/// The mentions `ids` with `change` applied by `by`, and the state updates that record the
/// decisions and the audit entry. Nothing is written: the caller writes the mentions to the
/// index and applies the updates once they are committed (the pipeline's order).
pub fn prepare(
    index: &crate::index::MentionIndex,
    state: &crate::state::StateStore,
    ids: &[String],
    change: &Change,
    by: &str,
    at: DateTime<Utc>,
) -> Result<(Vec<Mention>, Vec<crate::state::StateUpdate>), TriageError> {
    use crate::state::StateUpdate;
    if change.is_empty() {
        return Err(TriageError::Empty);
    }
    let keys: Vec<&str> = ids.iter().map(String::as_str).collect();
    let recorded = state.triage_many(&keys)?;
    let mut mentions = Vec::with_capacity(ids.len());
    let mut updates = Vec::with_capacity(ids.len() + 1);
    for (id, rec) in ids.iter().zip(recorded) {
        let mut m = index
            .get(id)?
            .ok_or_else(|| TriageError::Unknown(id.clone()))?;
        let old = rec.or_else(|| m.triage.clone()).unwrap_or_default();
        let t = change.apply(&old, by, at);
        m.apply_triage(t.clone());
        updates.push(StateUpdate::Triage {
            id: id.clone(),
            triage: t,
        });
        mentions.push(m);
    }
    const LISTED: usize = 1000;
    updates.push(StateUpdate::Audit(serde_json::json!({
        "at": at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "by": by,
        "action": "triage",
        "count": ids.len(),
        "ids": ids.iter().take(LISTED).collect::<Vec<_>>(),
        "change": change,
    })));
    Ok((mentions, updates))
}

/// The team's sentiment corrections as labelled examples (the mention's text and the
/// corrected label), in language `lang` (None: all), for retraining and evaluation.
pub fn corrections(
    index: &crate::index::MentionIndex,
    state: &crate::state::StateStore,
    lang: Option<&str>,
) -> Result<Vec<crate::sentiment::eval::Example>, TriageError> {
    let mut out = Vec::new();
    for (id, t) in state.triage_all()? {
        let Some(label) = t.sentiment_override else {
            continue;
        };
        let Some(m) = index.get(&id)? else { continue };
        if lang.is_some_and(|l| m.lang.as_deref() != Some(l)) {
            continue;
        }
        out.push(crate::sentiment::eval::Example {
            label,
            text: m.content(),
        });
    }
    Ok(out)
}

/// Writes prepared edits (deletions `retract`, then `mentions`) with a writer of its own (the CLI, a standalone `hark serve`):
/// fails while another process (`hark run`) holds the index.
pub fn write_direct(
    index: &crate::index::MentionIndex,
    state: &crate::state::StateStore,
    retract: &[String],
    mentions: &[Mention],
    updates: &[crate::state::StateUpdate],
) -> Result<(), TriageError> {
    let mut writer = index.writer(1, 50)?;
    for id in retract {
        index.delete(&writer, id);
    }
    for m in mentions {
        index.upsert(&writer, m)?;
    }
    writer.commit().map_err(|e| index.tantivy_err(e))?;
    index.reload()?;
    state.apply(updates)?;
    Ok(())
}

/// `"sentiment": "negative"` → Some(Some(Negative)); `"sentiment": null` → Some(None).
fn some_label_or_null<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<Label>>, D::Error> {
    let v: Option<String> = Option::deserialize(d)?;
    match v {
        None => Ok(Some(None)),
        Some(s) => match Label::parse(&s) {
            Some(l) if l != Label::Unscored => Ok(Some(Some(l))),
            _ => Err(serde::de::Error::custom(format!(
                "`sentiment`: `{s}` is not negative, neutral or positive"
            ))),
        },
    }
}

impl Change {
    pub fn is_empty(&self) -> bool {
        *self == Change::default()
    }

    /// The decision after this change, by `by` at `at`.
    pub fn apply(&self, old: &Triage, by: &str, at: DateTime<Utc>) -> Triage {
        let mut t = old.clone();
        if let Some(s) = self.status {
            t.status = s;
        }
        if let Some(tags) = &self.tags {
            t.tags = Vec::new();
            add_tags(&mut t.tags, tags);
        }
        add_tags(&mut t.tags, &self.add_tags);
        let remove: Vec<String> = self.remove_tags.iter().map(|x| normalize_tag(x)).collect();
        t.tags.retain(|x| !remove.contains(x));
        if let Some(i) = self.irrelevant {
            t.irrelevant = i;
        }
        if let Some(s) = self.sentiment {
            t.sentiment_override = s;
        }
        t.by = Some(by.to_string());
        t.at = Some(at);
        t
    }
}

/// Tags compare without case and surrounding spaces; shown as first written.
pub fn normalize_tag(t: &str) -> String {
    t.trim().to_lowercase()
}

fn add_tags(tags: &mut Vec<String>, new: &[String]) {
    for n in new {
        let n = normalize_tag(n);
        if !n.is_empty() && !tags.contains(&n) {
            tags.push(n);
        }
    }
}

/// The score an overridden label stands for.
fn override_score(l: Label) -> f64 {
    match l {
        Label::Negative => -1.0,
        Label::Positive => 1.0,
        _ => 0.0,
    }
}

impl Mention {
    /// Puts the team's decision on the mention: its `triage`, and its sentiment (an
    /// override replaces the model's answer, which is kept to undo it).
    pub fn apply_triage(&mut self, mut t: Triage) {
        // The model's answer: the one kept from an earlier override, or the current one.
        let model = self
            .triage
            .as_ref()
            .and_then(|old| old.model_sentiment.clone())
            .or_else(|| t.model_sentiment.clone())
            .or_else(|| self.sentiment.clone());
        match t.sentiment_override {
            Some(label) => {
                self.sentiment = Some(Sentiment {
                    label,
                    score: override_score(label),
                    model: "override".into(),
                });
                t.model_sentiment = model;
            }
            None => {
                if let Some(m) = model.filter(|m| m.model != "override") {
                    self.sentiment = Some(m);
                }
                t.model_sentiment = None;
            }
        }
        self.triage = Some(t);
    }

    /// The index terms of its triage (`status:…`, `tag:…`, `irrelevant`).
    pub fn triage_terms(&self) -> Vec<String> {
        let Some(t) = &self.triage else {
            return vec![format!("status:{}", Status::New.as_str())];
        };
        let mut v = vec![format!("status:{}", t.status.as_str())];
        v.extend(t.tags.iter().map(|x| format!("tag:{}", normalize_tag(x))));
        if t.irrelevant {
            v.push("irrelevant".into());
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mention() -> Mention {
        let mut m = Mention::new("t:1", Utc::now());
        m.sentiment = Some(Sentiment {
            label: Label::Positive,
            score: 0.6,
            model: "lexicon".into(),
        });
        m
    }

    #[test]
    fn overrides_replace_and_restore_the_models_answer() {
        let mut m = mention();
        let at = Utc::now();
        let c: Change = serde_json::from_str(
            r#"{"sentiment": "negative", "status": "handled", "tags": ["Refund", " refund "]}"#,
        )
        .unwrap();
        let t = c.apply(&Triage::default(), "ann", at);
        assert_eq!(t.tags, ["refund"]);
        m.apply_triage(t.clone());
        let s = m.sentiment.clone().unwrap();
        assert_eq!(
            (s.label, s.score, s.model.as_str()),
            (Label::Negative, -1.0, "override")
        );
        assert_eq!(
            m.triage
                .as_ref()
                .unwrap()
                .model_sentiment
                .as_ref()
                .unwrap()
                .label,
            Label::Positive
        );
        assert_eq!(m.triage_terms(), ["status:handled", "tag:refund"]);
        // A second override keeps the model's original answer.
        let t2 = Change {
            sentiment: Some(Some(Label::Neutral)),
            ..Default::default()
        }
        .apply(&t, "bob", at);
        m.apply_triage(t2.clone());
        assert_eq!(
            m.triage
                .as_ref()
                .unwrap()
                .model_sentiment
                .as_ref()
                .unwrap()
                .model,
            "lexicon"
        );
        // `null` goes back to the model.
        let back: Change =
            serde_json::from_str(r#"{"sentiment": null, "irrelevant": true}"#).unwrap();
        m.apply_triage(back.apply(&t2, "bob", at));
        assert_eq!(m.sentiment.as_ref().unwrap().label, Label::Positive);
        assert!(m.triage.as_ref().unwrap().model_sentiment.is_none());
        assert!(m.triage_terms().contains(&"irrelevant".to_string()));
        assert_eq!(mention().triage_terms(), ["status:new"]);
        assert!(serde_json::from_str::<Change>(r#"{"sentiment": "great"}"#).is_err());
        assert!(serde_json::from_str::<Change>(r#"{"colour": "red"}"#).is_err());
        assert_eq!(Status::parse("In progress"), Some(Status::InProgress));
    }
}
