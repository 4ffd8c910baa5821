//! Saved searches, and alerts made from them without editing files: "alert me" on a saved
//! search stores a `keyword` rule (its text, in its query) or a `volume_spike` rule (its
//! query) with it, evaluated by `hark run` next to the rules of `alerts/`.

use crate::config::{AlertRule, Config, QueryConfig};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// A search kept under a name: the parameters of `/api/search` (`q`, `query`, `sentiment`…).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedSearch {
    pub name: String,
    pub params: BTreeMap<String, String>,
    pub by: String,
    pub at: String,
    /// The alert rule made from it, if someone asked to be alerted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert: Option<SavedAlert>,
}

/// An alert rule made from a saved search: its TOML, as a rule file would hold it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedAlert {
    pub rule: String,
    pub toml: String,
}

/// A saved search's name: letters, digits, `-`, `_`, space; 1–64 characters.
pub fn valid_name(name: &str) -> bool {
    !name.trim().is_empty()
        && name.chars().count() <= 64
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
}

/// The name of the rule made from saved search `name`.
pub fn rule_name(name: &str) -> String {
    format!("saved-{}", name.trim().replace(' ', "-").to_lowercase())
}

/// The TOML of an alert rule for `s`: `keyword` (the search's text `q`, in its `query`) or
/// `volume` (a volume spike of its `query`), with optional webhook and e-mail channels; the
/// rule validated as a rule file is.
pub fn alert_rule(
    s: &SavedSearch,
    kind: &str,
    webhook: Option<&str>,
    email: &[String],
    queries: &[QueryConfig],
) -> Result<(AlertRule, String), String> {
    let query =
        s.params.get("query").filter(|q| !q.is_empty()).ok_or(
            "an alert needs a saved search with a query filter (`query`: a monitored query)",
        )?;
    let mut t = toml::Table::new();
    t.insert("name".into(), rule_name(&s.name).into());
    t.insert("query".into(), query.clone().into());
    match kind {
        "keyword" => {
            let q = s
                .params
                .get("q")
                .filter(|q| !q.trim().is_empty())
                .ok_or("a keyword alert needs a saved search with search text (`q`)")?;
            t.insert("kind".into(), "keyword".into());
            t.insert("match".into(), q.clone().into());
        }
        "volume" => {
            t.insert("kind".into(), "volume_spike".into());
        }
        other => return Err(format!("`kind`: `{other}` is not keyword or volume")),
    }
    let mut channels = Vec::new();
    if let Some(url) = webhook {
        let mut c = toml::Table::new();
        c.insert("type".into(), "webhook".into());
        c.insert("url".into(), url.into());
        channels.push(toml::Value::Table(c));
    }
    if !email.is_empty() {
        let mut c = toml::Table::new();
        c.insert("type".into(), "email".into());
        c.insert(
            "to".into(),
            toml::Value::Array(email.iter().map(|e| e.clone().into()).collect()),
        );
        channels.push(toml::Value::Table(c));
    }
    if !channels.is_empty() {
        t.insert("channels".into(), toml::Value::Array(channels));
    }
    let text = toml::to_string(&t).map_err(|e| e.to_string())?;
    let label = format!("saved search `{}`", s.name);
    let rule =
        crate::config::load_alert_str(Path::new(&label), &text, queries).map_err(|e| e.message)?;
    Ok((rule, text))
}

/// A saved search as the API shows it: its alert rule by name and channel descriptions
/// (`webhook slack https://hooks.slack.com/…`), never the rule's TOML, whose webhook URL is
/// a credential.
pub fn public_view(s: &SavedSearch, queries: &[QueryConfig]) -> serde_json::Value {
    let alert = s.alert.as_ref().map(|a| {
        let label = format!("saved search `{}`", s.name);
        let channels: Vec<String> =
            crate::config::load_alert_str(Path::new(&label), &a.toml, queries)
                .map(|r| r.channels.iter().map(|c| c.describe()).collect())
                .unwrap_or_default();
        serde_json::json!({"rule": a.rule, "channels": channels})
    });
    serde_json::json!({"name": s.name, "params": s.params, "by": s.by, "at": s.at, "alert": alert})
}

/// The alert rules of the saved searches (a rule that no longer validates, its query
/// removed say, is skipped with a warning).
pub fn rules(saved: &[SavedSearch], config: &Config) -> Vec<AlertRule> {
    saved
        .iter()
        .filter_map(|s| {
            let a = s.alert.as_ref()?;
            let label = format!("saved search `{}`", s.name);
            match crate::config::load_alert_str(Path::new(&label), &a.toml, &config.queries) {
                Ok(r) if config.alerts.iter().all(|x| x.name != r.name) => Some(r),
                Ok(r) => {
                    tracing::warn!(rule = %r.name, "a rule file has the name of a saved search's rule: the file wins");
                    None
                }
                Err(e) => {
                    tracing::warn!(saved = %s.name, error = %e.message, "saved search's alert rule skipped");
                    None
                }
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn saved(params: &[(&str, &str)]) -> SavedSearch {
        SavedSearch {
            name: "Outage talk".into(),
            params: params
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            by: "ann".into(),
            at: "2026-12-01T00:00:00Z".into(),
            alert: None,
        }
    }

    #[test]
    fn rules_from_saved_searches() {
        let queries = vec![QueryConfig::from_match("acme", "acme").unwrap()];
        let s = saved(&[("q", "outage OR \"is down\""), ("query", "acme")]);
        let (rule, toml) = alert_rule(
            &s,
            "keyword",
            Some("http://127.0.0.1:9/hook"),
            &[],
            &queries,
        )
        .unwrap();
        assert_eq!(rule.name, "saved-outage-talk");
        assert_eq!(rule.kind, "keyword");
        assert_eq!(rule.query, "acme");
        assert_eq!(rule.channels.len(), 1);
        assert!(
            toml.contains("is down") && rule.match_expr.is_some(),
            "{toml}"
        );
        let (rule, _) = alert_rule(&s, "volume", None, &[], &queries).unwrap();
        assert_eq!(rule.kind, "volume_spike");
        assert!(
            alert_rule(&saved(&[("q", "x")]), "keyword", None, &[], &queries)
                .unwrap_err()
                .contains("query filter")
        );
        assert!(alert_rule(&saved(&[("query", "acme")]), "keyword", None, &[], &queries).is_err());
        assert!(alert_rule(&s, "sometimes", None, &[], &queries).is_err());
        let unknown = saved(&[("q", "x"), ("query", "globex")]);
        assert!(alert_rule(&unknown, "keyword", None, &[], &queries).is_err());
        assert!(valid_name("Outage talk") && !valid_name("a/b") && !valid_name(" "));
        // The API view never shows a webhook URL (its path is the credential).
        let mut with_hook = s.clone();
        let (rule, toml) = alert_rule(
            &s,
            "keyword",
            Some("https://hooks.slack.com/services/T0/B0/SECRETPATH"),
            &[],
            &queries,
        )
        .unwrap();
        with_hook.alert = Some(SavedAlert {
            rule: rule.name,
            toml,
        });
        let shown = public_view(&with_hook, &queries).to_string();
        assert!(!shown.contains("SECRETPATH"), "{shown}");
        assert!(
            shown.contains("saved-outage-talk") && shown.contains("hooks.slack.com"),
            "{shown}"
        );
    }
}
