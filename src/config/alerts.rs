//! `alerts/*.toml`: alert rules.

use super::*;

// ---------------------------------------------------------------------------------------------
// alerts/*.toml

pub const ALERT_KINDS: &[&str] = &["negative_spike", "volume_spike", "viral_mention", "keyword"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AlertFile {
    #[serde(default)]
    name: Option<Spanned<String>>,
    query: Spanned<String>,
    kind: Spanned<String>,
    #[serde(default)]
    window: Option<Spanned<String>>,
    #[serde(default)]
    baseline: Option<Spanned<String>>,
    #[serde(default)]
    cooldown: Option<Spanned<String>>,
    /// `keyword`: the extra expression a mention must match.
    #[serde(default, rename = "match")]
    match_: Option<Spanned<String>>,
    /// Minimum number of mentions in the window before a spike can fire.
    #[serde(default)]
    min_count: Option<u64>,
    /// `negative_spike`: minimum share of negative mentions in the window (0..1).
    #[serde(default)]
    min_share: Option<f64>,
    /// Tail probability below which a window is a spike.
    #[serde(default)]
    significance: Option<f64>,
    /// Spike rules: fire only if the window has at least this many times the expected volume.
    #[serde(default)]
    min_lift: Option<f64>,
    /// Spike rules: `low` | `medium` | `high`, a preset for the settings above.
    #[serde(default)]
    sensitivity: Option<Spanned<String>>,
    /// `viral_mention`: engagement per minute since publication.
    #[serde(default)]
    threshold: Option<f64>,
    #[serde(default)]
    channels: Vec<Spanned<ChannelFile>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChannelFile {
    #[serde(rename = "type")]
    type_: Spanned<String>,
    #[serde(default)]
    to: Option<Vec<String>>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    format: Option<Spanned<String>>,
    #[serde(default)]
    secret_env: Option<String>,
}

pub(super) fn load_alert_file(
    path: &Path,
    queries: &[QueryConfig],
) -> Result<AlertRule, ConfigError> {
    let text = read_file(path)?;
    load_alert_str(path, &text, queries)
}

/// An alert rule from TOML text (a rule file's contents, or one made from a saved search),
/// validated as a rule file is; `path` names it in errors and gives the default name.
pub fn load_alert_str(
    path: &Path,
    text: &str,
    queries: &[QueryConfig],
) -> Result<AlertRule, ConfigError> {
    let file = SourceFile { path, text };
    let a: AlertFile = file.parse()?;
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = a
        .name
        .as_ref()
        .map(|n| n.get_ref().trim().to_string())
        .unwrap_or(stem);
    let query = a.query.get_ref().clone();
    if !queries.iter().any(|q| q.name == query) {
        let names: Vec<&str> = queries.iter().map(|q| q.name.as_str()).collect();
        let mut msg = format!("`query`: no query named `{query}`");
        msg.push_str(&did_you_mean(&query, &names));
        return Err(file.error_at(Some(a.query.span().start), msg));
    }
    let kind = a.kind.get_ref().clone();
    if !ALERT_KINDS.contains(&kind.as_str()) {
        let mut msg = format!("unknown alert kind `{kind}`");
        if let Some(best) = suggest(&kind, ALERT_KINDS) {
            msg.push_str(&format!(", did you mean `{best}`?"));
        } else {
            msg.push_str(&format!(" (known kinds: {})", ALERT_KINDS.join(", ")));
        }
        return Err(file.error_at(Some(a.kind.span().start), msg));
    }
    let dur =
        |v: &Option<Spanned<String>>, key: &str, default: &str| -> Result<Duration, ConfigError> {
            match v {
                Some(v) => parse_duration_at(&file, v, key),
                None => Ok(parse_duration(default).expect("valid default")),
            }
        };
    let sensitivity = match &a.sensitivity {
        Some(v) => v
            .get_ref()
            .parse::<Sensitivity>()
            .map_err(|e| file.error_at(Some(v.span().start), e.to_string()))?,
        None => Sensitivity::default(),
    };
    let is_spike = kind == "negative_spike" || kind == "volume_spike";
    let preset = Preset::of(kind == "negative_spike", sensitivity);
    let window = dur(&a.window, "window", "1h")?;
    let baseline = dur(&a.baseline, "baseline", "7d")?;
    let default_cooldown = if is_spike {
        format!("{}h", preset.cooldown_hours)
    } else {
        "6h".to_string()
    };
    let cooldown = dur(&a.cooldown, "cooldown", &default_cooldown)?;
    // The detector counts mentions in 5-minute buckets: a shorter window tests nothing.
    if window < Duration::from_secs(300) {
        return Err(file.error_at(
            a.window.as_ref().map(|w| w.span().start),
            "`window` must be at least 5m (mentions are counted in 5-minute buckets)",
        ));
    }
    if baseline < window {
        return Err(file.error_at(
            a.baseline.as_ref().map(|b| b.span().start),
            "`baseline` must be at least as long as `window`",
        ));
    }
    let match_expr = match &a.match_ {
        Some(m) => Some(parse_match(&file, m, &ParseOptions::default())?),
        None if kind == "keyword" => {
            return Err(file.error_at(
                Some(a.kind.span().start),
                "a `keyword` rule needs `match = '...'` (e.g. '\"data breach\" OR lawsuit')",
            ));
        }
        None => None,
    };
    if let Some(s) = a.min_share
        && !(0.0..=1.0).contains(&s)
    {
        return Err(file.error_at(
            text.find("min_share"),
            "`min_share` must be between 0 and 1",
        ));
    }
    if let Some(l) = a.min_lift
        && !(l.is_finite() && l >= 0.0)
    {
        return Err(file.error_at(
            text.find("min_lift"),
            "`min_lift` must be a ratio ≥ 0 (e.g. 1.5 = at least 1.5× the expected volume)",
        ));
    }
    if let Some(s) = a.significance
        && !(0.0 < s && s < 0.5)
    {
        return Err(file.error_at(
            text.find("significance"),
            "`significance` must be a probability between 0 and 0.5 (e.g. 0.001)",
        ));
    }
    let mut channels = Vec::new();
    for ch in &a.channels {
        let at = Some(ch.span().start);
        let c = ch.get_ref();
        match c.type_.get_ref().as_str() {
            "email" => {
                let to = c.to.clone().unwrap_or_default();
                if to.is_empty() || to.iter().any(|t| !t.contains('@')) {
                    return Err(
                        file.error_at(at, "email channel needs `to = [\"name@example.com\"]`")
                    );
                }
                channels.push(Channel::Email { to });
            }
            "webhook" => {
                let url = c
                    .url
                    .clone()
                    .ok_or_else(|| file.error_at(at, "webhook channel needs `url`"))?;
                crate::fields::parse_http_url(&url)
                    .map_err(|e| file.error_at(at, format!("`url`: {e}")))?;
                let format = c
                    .format
                    .as_ref()
                    .map(|f| f.get_ref().clone())
                    .unwrap_or("json".into());
                let formats = ["json", "slack", "teams", "discord"];
                if !formats.contains(&format.as_str()) {
                    let mut msg = format!("unknown webhook format `{format}`");
                    if let Some(best) = suggest(&format, &formats) {
                        msg.push_str(&format!(", did you mean `{best}`?"));
                    } else {
                        msg.push_str(" (use json, slack, teams or discord)");
                    }
                    return Err(file.error_at(c.format.as_ref().map(|f| f.span().start), msg));
                }
                channels.push(Channel::Webhook {
                    url,
                    format,
                    secret_env: c.secret_env.clone(),
                });
            }
            other => {
                let mut msg = format!("unknown channel type `{other}`");
                msg.push_str(&did_you_mean(other, &["email", "webhook"]));
                return Err(file.error_at(Some(c.type_.span().start), msg));
            }
        }
    }
    Ok(AlertRule {
        name,
        file: path.to_path_buf(),
        query,
        kind,
        window,
        baseline,
        cooldown,
        match_expr,
        min_count: a.min_count.unwrap_or(preset.min_count),
        min_share: a.min_share.unwrap_or(preset.min_share),
        significance: a.significance.unwrap_or(preset.significance),
        min_lift: a.min_lift.unwrap_or(preset.min_lift),
        sensitivity,
        threshold: a.threshold.unwrap_or(10.0),
        channels,
    })
}
