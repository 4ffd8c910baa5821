//! `[[sources]]` entries of hark.toml: the common keys, then the kind's own (see
//! `sources::KINDS`).

use super::*;

/// The source kinds this build collects, in the order of [`crate::sources::KINDS`] (each
/// kind's file declares its name, kind-specific keys and constructor there).
pub fn source_kinds() -> Vec<&'static str> {
    crate::sources::KINDS.iter().map(|k| k.name).collect()
}

/// The keys every `[[sources]]` entry takes; the others belong to its kind.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CommonSourceKeys {
    name: String,
    #[allow(dead_code)] // read from the table before, to pick the kind
    kind: String,
    interval: Option<Period>,
    base_url: Option<String>,
    #[serde(default = "yes")]
    enabled: bool,
    /// Queries every item of this source belongs to (any kind).
    #[serde(default)]
    queries: Vec<String>,
}

/// CSS selectors that cut a forum thread page into posts (`[sources.selectors]`): the
/// crawler's own rule spec, so that the crawler does not depend on the config loader.
pub use crate::crawl::forum::RuleSpec as Selectors;

fn yes() -> bool {
    true
}

use crate::fields::{FieldError, Fields, Period};

/// Reads one `[[sources]]` entry: the common keys here, the paging keys into
/// [`Paging`], the rest into the kind's settings struct (see `sources::KINDS`). Every
/// error points at the key it is about.
pub(super) fn build_source(
    file: &SourceFile,
    entry: &Spanned<crate::fields::Table>,
    default_interval: Duration,
) -> Result<SourceConfig, ConfigError> {
    let table = entry.get_ref();
    let key_at = |key: &str| {
        table
            .iter()
            .find(|(k, _)| k.get_ref() == key)
            .map(|(k, v)| (k.span().start, v.span().start))
    };
    let locate = |e: FieldError| -> ConfigError {
        let at = match &e {
            FieldError::Value { key, .. } => key_at(key).map(|(_, v)| v),
            _ => e.key().and_then(key_at).map(|(k, _)| k),
        };
        file.error_at(Some(at.unwrap_or(entry.span().start)), e.to_string())
    };
    let Some(kind_value) = table
        .iter()
        .find(|(k, _)| k.get_ref() == "kind")
        .map(|(_, v)| v)
    else {
        return Err(locate(FieldError::Missing("kind")));
    };
    let Some(kind_name) = kind_value.get_ref().as_str() else {
        return Err(locate(FieldError::invalid(
            "kind",
            "`kind` must be a string",
        )));
    };
    let kinds = source_kinds();
    let Some(kind) = crate::sources::kind(kind_name) else {
        let mut msg = format!("unknown source kind `{kind_name}`");
        if let Some(best) = suggest(kind_name, &kinds) {
            msg.push_str(&format!(", did you mean `{best}`?"));
        } else {
            msg.push_str(&format!(" (known kinds: {})", kinds.join(", ")));
        }
        return Err(file.error_at(Some(kind_value.span().start), msg));
    };

    let common_keys = crate::fields::struct_fields::<CommonSourceKeys>();
    let own_keys = (kind.fields)();
    let (mut common, mut paging, mut own) = (Vec::new(), Vec::new(), Vec::new());
    for (k, v) in table {
        let key = k.get_ref().as_str();
        if common_keys.contains(&key) {
            common.push((k, v));
        } else if kind.paging.contains(&key) {
            paging.push((k, v));
        } else if own_keys.contains(&key) {
            own.push((k, v));
        } else {
            let users: Vec<&str> = crate::sources::KINDS
                .iter()
                .filter(|other| other.keys().contains(&key))
                .map(|other| other.name)
                .collect();
            let msg = if users.is_empty() {
                let mut known = common_keys.to_vec();
                known.extend(kind.keys());
                unknown_key_message(key, &known)
            } else {
                format!(
                    "`{key}` is not a setting of `{kind_name}` sources (it is used by: {})",
                    users.join(", ")
                )
            };
            return Err(file.error_at(Some(k.span().start), msg));
        }
    }

    let common: CommonSourceKeys = Fields::new(common).read().map_err(locate)?;
    let name = common.name.trim().to_string();
    if name.is_empty() {
        return Err(locate(FieldError::invalid(
            "name",
            "source `name` is empty",
        )));
    }
    let interval = match common.interval {
        Some(Period(d)) if d < Duration::from_secs(1) => {
            return Err(locate(FieldError::invalid(
                "interval",
                "`interval` must be at least 1s (a source polled without pause would hammer its server)",
            )));
        }
        Some(Period(d)) => d,
        None => default_interval,
    };
    let base_url = match &common.base_url {
        Some(u) => Some(
            crate::fields::parse_http_url(u)
                .map_err(|e| locate(FieldError::invalid("base_url", format!("`base_url`: {e}"))))?,
        ),
        None => None,
    };
    let paging: Paging = Fields::new(paging).read().map_err(locate)?;
    paging.check().map_err(locate)?;
    let settings = (kind.read)(
        Fields::new(own),
        &CheckContext {
            name: &name,
            base_url: base_url.as_ref(),
        },
    )
    .map_err(locate)?;
    Ok(SourceConfig {
        name,
        interval,
        base_url,
        enabled: common.enabled,
        queries: common.queries,
        paging,
        settings,
    })
}

/// The search terms of the queries that use `source` (their `sources` filter is empty or
/// names it or its kind), deduplicated case-insensitively, in query order.
pub fn search_terms(source: &SourceConfig, queries: &[QueryConfig]) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    queries
        .iter()
        .filter(|q| {
            q.sources.is_empty()
                || q.sources
                    .iter()
                    .any(|s| *s == source.name || *s == source.kind())
        })
        .flat_map(|q| q.search_terms.iter())
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty() && seen.insert(t.to_lowercase()))
        .collect()
}
