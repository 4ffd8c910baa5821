//! Configuration: `hark.toml`, `queries/*.toml` and `alerts/*.toml`, loaded and validated at
//! start-up. Every error names the file, and the line and column where there is one; an
//! unknown key is an error, with a suggestion when a known key is close.
//!
//! Secrets never live in these files: a config names the environment variable that holds
//! them (`password_env`, `secret_env`, `token_env`, ...).

use crate::alerts::detect::{Preset, Sensitivity};
use crate::query::{self, Expr, ParseOptions};
use crate::timeutil::parse_duration;
use serde::Deserialize;
use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

/// A configuration problem, located as precisely as possible.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    pub file: PathBuf,
    /// 1-based line and column (in characters), when known.
    pub position: Option<(usize, usize)>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some((line, col)) => {
                write!(f, "{}:{line}:{col}: {}", self.file.display(), self.message)
            }
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

/// The source text of one config file, to turn byte offsets into line and column.
struct SourceFile<'a> {
    path: &'a Path,
    text: &'a str,
}

impl SourceFile<'_> {
    fn error_at(&self, offset: Option<usize>, message: impl Into<String>) -> ConfigError {
        ConfigError {
            file: self.path.to_path_buf(),
            position: offset.map(|o| line_col(self.text, o)),
            message: message.into(),
        }
    }

    fn parse<T: for<'de> Deserialize<'de>>(&self) -> Result<T, ConfigError> {
        toml::from_str(self.text).map_err(|e| {
            let offset = e.span().map(|s| s.start);
            self.error_at(offset, improve_message(e.message()))
        })
    }
}

/// 1-based (line, column) of a byte offset; column counted in characters.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..text.floor_char_boundary(offset)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    (line, before[line_start..].chars().count() + 1)
}

/// serde's "unknown field `x`, expected one of `a`, `b`" gains a "did you mean" and a
/// reminder about `*_env` for secrets.
fn improve_message(msg: &str) -> String {
    let msg = msg.trim().to_string();
    let Some(rest) = msg.strip_prefix("unknown field `") else {
        return msg;
    };
    let Some(end) = rest.find('`') else {
        return msg;
    };
    let unknown = &rest[..end];
    let expected: Vec<&str> = rest[end..].split('`').skip(2).step_by(2).collect();
    unknown_key_message(unknown, &expected)
}

/// "unknown key `x`" with the closest known key, or the list of them, and a reminder that
/// secrets go in environment variables named by a `*_env` key.
fn unknown_key_message(unknown: &str, expected: &[&str]) -> String {
    let mut out = format!("unknown key `{unknown}`");
    if let Some(best) = suggest(unknown, expected) {
        out.push_str(&format!(", did you mean `{best}`?"));
    } else if !expected.is_empty() {
        out.push_str(&format!(" (known keys: {})", expected.join(", ")));
    }
    let secretish = [
        "password",
        "secret",
        "token",
        "api_key",
        "key",
        "client_secret",
    ];
    if secretish.contains(&unknown) && expected.iter().any(|k| k.ends_with("_env")) {
        out.push_str(" Secrets are never written in config files: name the environment variable that holds it with a `*_env` key.");
    }
    out
}

pub use crate::fields::{did_you_mean, suggest};

fn parse_duration_at(
    file: &SourceFile,
    value: &Spanned<String>,
    key: &str,
) -> Result<Duration, ConfigError> {
    parse_duration(value.get_ref())
        .map_err(|e| file.error_at(Some(value.span().start), format!("`{key}`: {e}")))
}

// ---------------------------------------------------------------------------------------------
// hark.toml

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MainFile {
    #[serde(default)]
    storage: StorageConfig,
    #[serde(default)]
    http: HttpFile,
    #[serde(default)]
    sentiment: SentimentConfig,
    #[serde(default)]
    pipeline: PipelineConfig,
    #[serde(default)]
    smtp: Option<SmtpConfig>,
    #[serde(default)]
    server: ServerConfig,
    #[serde(default)]
    sources: Vec<Spanned<crate::fields::Table>>,
    /// `[[reports]]`: scheduled reports (see [`crate::report::schedule`]).
    #[serde(default)]
    reports: Vec<Spanned<crate::report::schedule::ReportScheduleFile>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    /// Where the index and the state store live; relative to hark.toml.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// Directory of query files; relative to hark.toml.
    #[serde(default = "default_queries_dir")]
    pub queries_dir: PathBuf,
    /// Directory of alert rule files; relative to hark.toml.
    #[serde(default = "default_alerts_dir")]
    pub alerts_dir: PathBuf,
    /// How long mentions are kept (`"400d"`): older ones are deleted from the index in the
    /// background by `hark run`, and not collected again. None: kept forever.
    #[serde(default)]
    pub retention: Option<String>,
}

impl StorageConfig {
    /// The retention period (validated when the configuration is loaded).
    pub fn retention_period(&self) -> Option<Duration> {
        self.retention
            .as_deref()
            .and_then(|r| parse_duration(r).ok())
    }
}

fn default_data_dir() -> PathBuf {
    "data".into()
}
fn default_queries_dir() -> PathBuf {
    "queries".into()
}
fn default_alerts_dir() -> PathBuf {
    "alerts".into()
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            data_dir: default_data_dir(),
            queries_dir: default_queries_dir(),
            alerts_dir: default_alerts_dir(),
            retention: None,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct HttpFile {
    user_agent: Option<String>,
    connect_timeout: Option<Spanned<String>>,
    timeout: Option<Spanned<String>>,
    max_body: Option<Spanned<String>>,
    max_redirects: Option<usize>,
    retries: Option<u32>,
    retry_base: Option<Spanned<String>>,
    max_retry_wait: Option<Spanned<String>>,
    per_host_concurrency: Option<usize>,
    allow_private_networks: Option<bool>,
}

pub use crate::http::settings::HttpConfig;

pub use crate::fields::parse_size;

pub use crate::sentiment::settings::{DEFAULT_BERT_MODEL, SentimentConfig};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineConfig {
    /// Mentions per index commit at most.
    #[serde(default = "default_batch")]
    pub commit_batch: usize,
    /// Capacity of each channel between stages (back-pressure).
    #[serde(default = "default_channel")]
    pub channel_capacity: usize,
    /// Default poll interval of sources without their own.
    #[serde(default = "default_interval")]
    pub default_interval: String,
}

fn default_batch() -> usize {
    5000
}
fn default_channel() -> usize {
    64
}
fn default_interval() -> String {
    "15m".into()
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            commit_batch: default_batch(),
            channel_capacity: default_channel(),
            default_interval: default_interval(),
        }
    }
}

pub use crate::alerts::email::SmtpConfig;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    #[serde(default)]
    pub listen: Option<String>,
    /// Base URL of the web UI, used for links in alerts.
    #[serde(default)]
    pub public_url: Option<String>,
    /// Environment variable holding the API bearer token.
    #[serde(default)]
    pub token_env: Option<String>,
    /// White-label web UI: the name in the header and the page title (default "hark").
    #[serde(default)]
    pub brand_name: Option<String>,
    /// White-label web UI: a PNG, JPEG or SVG logo shown in the header (relative to
    /// hark.toml; checked when the config loads).
    #[serde(default)]
    pub logo: Option<PathBuf>,
    /// White-label web UI: the accent colour, `#rgb` or `#rrggbb`.
    #[serde(default)]
    pub accent_color: Option<String>,
}

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
pub use crate::sources::settings::{CheckContext, Paging, SourceConfig};

// ---------------------------------------------------------------------------------------------
// queries/*.toml

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct QueryFile {
    #[serde(default)]
    name: Option<Spanned<String>>,
    #[serde(rename = "match")]
    match_: Spanned<String>,
    #[serde(default)]
    languages: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    sources: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    search_terms: Option<Vec<String>>,
    /// How people call it ("Acme Corp"), for reports and the UI; default: `name`.
    #[serde(default)]
    display_name: Option<String>,
}

/// A monitored query, compiled.
#[derive(Debug, Clone)]
pub struct QueryConfig {
    pub name: String,
    pub file: PathBuf,
    pub match_text: String,
    pub expr: Expr,
    /// ISO 639-1 codes; empty = any language.
    pub languages: Vec<String>,
    /// Source names; empty = all sources.
    pub sources: Vec<String>,
    /// What API pollers send to search endpoints.
    pub search_terms: Vec<String>,
    /// How people call it (reports, UI); `name` when the file does not say.
    pub display_name: String,
}

impl Channel {
    /// A short description for listings ("email pr@example.com", "webhook slack https://...").
    pub fn describe(&self) -> String {
        match self {
            Channel::Email { to } => format!("email {}", to.join(",")),
            // The path of a webhook URL is its credential (Slack, Discord, Teams).
            Channel::Webhook { url, format, .. } => {
                format!("webhook {format} {}", crate::http::redact::webhook(url))
            }
        }
    }
}

impl QueryConfig {
    /// Builds a query from its `match` text alone (tests, `hark classify --query` on ad-hoc
    /// queries).
    pub fn from_match(name: &str, match_text: &str) -> Result<QueryConfig, query::QueryError> {
        let expr = query::parse(match_text, &ParseOptions::default())?;
        let search_terms = derive_search_terms(&expr);
        Ok(QueryConfig {
            name: name.to_string(),
            display_name: name.to_string(),
            file: PathBuf::new(),
            match_text: match_text.to_string(),
            expr,
            languages: vec![],
            sources: vec![],
            search_terms,
        })
    }

    /// The folded token sequences that carry no sentiment in mentions of this query.
    pub fn neutral_terms(&self) -> Vec<Vec<String>> {
        query::positive_terms(&self.expr)
    }
}

fn derive_search_terms(expr: &Expr) -> Vec<String> {
    let mut seen = HashSet::new();
    query::positive_terms(expr)
        .into_iter()
        .map(|t| t.join(" "))
        .filter(|t| !t.is_empty() && seen.insert(t.clone()))
        .collect()
}

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

/// A delivery channel of an alert rule.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Channel {
    Email {
        to: Vec<String>,
    },
    Webhook {
        url: String,
        format: String,
        secret_env: Option<String>,
    },
}

/// An alert rule, validated.
#[derive(Debug, Clone)]
pub struct AlertRule {
    pub name: String,
    pub file: PathBuf,
    pub query: String,
    pub kind: String,
    pub window: Duration,
    pub baseline: Duration,
    pub cooldown: Duration,
    pub match_expr: Option<Expr>,
    pub min_count: u64,
    pub min_share: f64,
    pub significance: f64,
    pub min_lift: f64,
    pub sensitivity: Sensitivity,
    pub threshold: f64,
    pub channels: Vec<Channel>,
}

// ---------------------------------------------------------------------------------------------

/// Everything loaded from a deployment directory.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was loaded from (None for the built-in default used by `import`, etc.).
    pub path: Option<PathBuf>,
    /// Directory relative paths resolve against.
    pub root: PathBuf,
    pub storage: StorageConfig,
    pub http: HttpConfig,
    pub sentiment: SentimentConfig,
    pub pipeline: PipelineConfig,
    pub smtp: Option<SmtpConfig>,
    pub server: ServerConfig,
    pub sources: Vec<SourceConfig>,
    pub queries: Vec<QueryConfig>,
    pub alerts: Vec<AlertRule>,
    pub reports: Vec<crate::report::schedule::ReportSchedule>,
}

impl Config {
    pub fn data_dir(&self) -> PathBuf {
        self.root.join(&self.storage.data_dir)
    }

    pub fn query(&self, name: &str) -> Option<&QueryConfig> {
        self.queries.iter().find(|q| q.name == name)
    }

    /// Loads hark.toml and the query and alert files next to it.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: path.to_path_buf(),
            position: None,
            message: format!("cannot read config: {e}"),
        })?;
        let root = path
            .parent()
            .map(|p| {
                if p.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    p
                }
            })
            .unwrap_or(Path::new("."))
            .to_path_buf();
        let mut config = Config::from_main_str(path, &text, root)?;
        config.path = Some(path.to_path_buf());
        config.load_query_and_alert_files()?;
        Ok(config)
    }

    fn load_query_and_alert_files(&mut self) -> Result<(), ConfigError> {
        let qdir = self.root.join(&self.storage.queries_dir);
        for file in toml_files(&qdir)? {
            let q = load_query_file(&file, &self.sources)?;
            if let Some(prev) = self.queries.iter().find(|p| p.name == q.name) {
                return Err(ConfigError {
                    file,
                    position: None,
                    message: format!(
                        "query name `{}` is already used by {}",
                        q.name,
                        prev.file.display()
                    ),
                });
            }
            self.queries.push(q);
        }
        let adir = self.root.join(&self.storage.alerts_dir);
        for file in toml_files(&adir)? {
            let rule = load_alert_file(&file, &self.queries)?;
            if self.smtp.is_none()
                && rule
                    .channels
                    .iter()
                    .any(|c| matches!(c, Channel::Email { .. }))
            {
                return Err(ConfigError {
                    file,
                    position: None,
                    message: "an email channel needs an [smtp] section in hark.toml".into(),
                });
            }
            if self.alerts.iter().any(|p| p.name == rule.name) {
                return Err(ConfigError {
                    file,
                    position: None,
                    message: format!("alert rule name `{}` is used twice", rule.name),
                });
            }
            self.alerts.push(rule);
        }
        // Scheduled reports and sources name queries, which are known only now.
        let main = self
            .path
            .clone()
            .unwrap_or_else(|| PathBuf::from("hark.toml"));
        let names: Vec<&str> = self.queries.iter().map(|q| q.name.as_str()).collect();
        for s in &self.sources {
            for q in &s.queries {
                if self.query(q).is_none() {
                    return Err(ConfigError {
                        file: main.clone(),
                        position: None,
                        message: format!(
                            "[[sources]] `{}`: `queries`: no query named `{q}`{}",
                            s.name,
                            did_you_mean(q, &names)
                        ),
                    });
                }
            }
        }
        for r in &self.reports {
            for q in &r.queries {
                if self.query(q).is_none() {
                    return Err(ConfigError {
                        file: main.clone(),
                        position: None,
                        message: format!(
                            "[[reports]] `{}`: no query named `{q}`{}",
                            r.name,
                            did_you_mean(q, &names)
                        ),
                    });
                }
            }
        }
        Ok(())
    }

    /// The built-in configuration used where no hark.toml exists (e.g. `hark classify`).
    /// Queries and alert rules are still read from `queries/` and `alerts/` under `root`.
    pub fn builtin(root: PathBuf) -> Result<Config, ConfigError> {
        let mut config = Config::from_main_str(Path::new("<built-in>"), "", root)
            .expect("empty config is valid");
        config.load_query_and_alert_files()?;
        Ok(config)
    }

    fn from_main_str(path: &Path, text: &str, root: PathBuf) -> Result<Config, ConfigError> {
        let file = SourceFile { path, text };
        let main: MainFile = file.parse()?;
        let http = build_http(&file, main.http)?;
        if !["lexicon", "bert"].contains(&main.sentiment.model.as_str()) {
            return Err(file.error_at(
                text.find("model"),
                format!(
                    "unknown sentiment model `{}` (use `lexicon` or `bert`)",
                    main.sentiment.model
                ),
            ));
        }
        if let Some(smtp) = &main.smtp
            && !["starttls", "tls", "none"].contains(&smtp.tls.as_str())
        {
            return Err(file.error_at(
                text.find("tls"),
                format!(
                    "unknown smtp tls mode `{}` (use starttls, tls or none)",
                    smtp.tls
                ),
            ));
        }
        let default_interval = parse_duration(&main.pipeline.default_interval)
            .map_err(|e| e.to_string())
            .and_then(|d| {
                if d < Duration::from_secs(1) {
                    Err("`default_interval` must be at least 1s".to_string())
                } else {
                    Ok(d)
                }
            })
            .map_err(|e| file.error_at(text.find("default_interval"), e))?;
        if let Some(r) = &main.storage.retention {
            let at = text.find("retention");
            match parse_duration(r) {
                Ok(d) if d >= Duration::from_secs(24 * 3600) => {}
                Ok(_) => {
                    return Err(file.error_at(at, "`retention` must be at least 1d".to_string()));
                }
                Err(e) => return Err(file.error_at(at, format!("`retention`: {e}"))),
            }
        }
        let mut sources: Vec<SourceConfig> = Vec::new();
        for entry in &main.sources {
            let src = build_source(&file, entry, default_interval)?;
            if sources.iter().any(|p| p.name == src.name) {
                let at = entry
                    .get_ref()
                    .iter()
                    .find(|(k, _)| k.get_ref() == "name")
                    .map_or(entry.span().start, |(_, v)| v.span().start);
                return Err(file.error_at(
                    Some(at),
                    format!("source name `{}` is used twice", src.name),
                ));
            }
            sources.push(src);
        }
        if let Some(c) = &main.server.accent_color {
            let hex = c.strip_prefix('#').unwrap_or("");
            if !matches!(hex.len(), 3 | 6) || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(file.error_at(
                    text.find("accent_color"),
                    format!("`accent_color`: `{c}` is not a colour like #2456c7"),
                ));
            }
        }
        if let Some(logo) = &main.server.logo {
            let p = root.join(logo);
            let ext = p
                .extension()
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase);
            if !matches!(ext.as_deref(), Some("png" | "jpg" | "jpeg" | "svg")) || !p.is_file() {
                return Err(file.error_at(
                    text.find("logo"),
                    format!(
                        "`logo`: {} is not a readable .png, .jpg or .svg file",
                        p.display()
                    ),
                ));
            }
        }
        let mut reports: Vec<crate::report::schedule::ReportSchedule> = Vec::new();
        for r in &main.reports {
            let at = Some(r.span().start);
            let built = r.get_ref().build(&root).map_err(|e| {
                file.error_at(at, format!("[[reports]] `{}`: {e}", r.get_ref().name))
            })?;
            if reports.iter().any(|p| p.name == built.name) {
                return Err(
                    file.error_at(at, format!("report name `{}` is used twice", built.name))
                );
            }
            reports.push(built);
        }
        if !reports.is_empty() && main.smtp.is_none() {
            return Err(file.error_at(
                main.reports.first().map(|r| r.span().start),
                "[[reports]] are e-mailed: they need an [smtp] section",
            ));
        }
        Ok(Config {
            path: None,
            root,
            storage: main.storage,
            http,
            sentiment: main.sentiment,
            pipeline: main.pipeline,
            smtp: main.smtp,
            server: main.server,
            sources,
            queries: Vec::new(),
            alerts: Vec::new(),
            reports,
        })
    }
}

fn build_http(file: &SourceFile, h: HttpFile) -> Result<HttpConfig, ConfigError> {
    let mut c = HttpConfig::default();
    if let Some(ua) = h.user_agent {
        c.user_agent = ua;
    }
    if let Some(v) = &h.connect_timeout {
        c.connect_timeout = parse_duration_at(file, v, "connect_timeout")?;
    }
    if let Some(v) = &h.timeout {
        c.timeout = parse_duration_at(file, v, "timeout")?;
    }
    if let Some(v) = &h.retry_base {
        c.retry_base = parse_duration_at(file, v, "retry_base")?;
    }
    if let Some(v) = &h.max_retry_wait {
        c.max_retry_wait = parse_duration_at(file, v, "max_retry_wait")?;
    }
    if let Some(v) = &h.max_body {
        c.max_body_bytes = parse_size(v.get_ref())
            .map_err(|e| file.error_at(Some(v.span().start), format!("`max_body`: {e}")))?;
    }
    if let Some(v) = h.max_redirects {
        c.max_redirects = v;
    }
    if let Some(v) = h.retries {
        c.retries = v;
    }
    if let Some(v) = h.per_host_concurrency {
        c.per_host_concurrency = v.max(1);
    }
    if let Some(v) = h.allow_private_networks {
        c.allow_private_networks = v;
    }
    Ok(c)
}

/// Reads one `[[sources]]` entry: the common keys here, the paging keys into
/// [`Paging`], the rest into the kind's settings struct (see `sources::KINDS`). Every
/// error points at the key it is about.
fn build_source(
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

fn toml_files(dir: &Path) -> Result<Vec<PathBuf>, ConfigError> {
    if !dir.exists() {
        return Ok(Vec::new());
    }
    let rd = std::fs::read_dir(dir).map_err(|e| ConfigError {
        file: dir.to_path_buf(),
        position: None,
        message: format!("cannot read directory: {e}"),
    })?;
    let mut files: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    Ok(files)
}

fn read_file(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|e| ConfigError {
        file: path.to_path_buf(),
        position: None,
        message: format!("cannot read: {e}"),
    })
}

/// Where inside a TOML string literal a query column falls: after the opening quote(s).
fn match_offset(text: &str, span_start: usize, column: usize) -> usize {
    let rest = &text[span_start..];
    let quote_len = if rest.starts_with("'''") || rest.starts_with("\"\"\"") {
        3
    } else {
        1
    };
    let body = &rest[quote_len.min(rest.len())..];
    let byte_in_body: usize = body
        .chars()
        .take(column.saturating_sub(1))
        .map(char::len_utf8)
        .sum();
    span_start + quote_len + byte_in_body
}

fn parse_match(
    file: &SourceFile,
    value: &Spanned<String>,
    opts: &ParseOptions,
) -> Result<Expr, ConfigError> {
    query::parse(value.get_ref(), opts).map_err(|e| {
        file.error_at(
            Some(match_offset(file.text, value.span().start, e.column)),
            format!(
                "invalid `match` (column {} of the expression): {}",
                e.column, e.message
            ),
        )
    })
}

fn load_query_file(path: &Path, sources: &[SourceConfig]) -> Result<QueryConfig, ConfigError> {
    let text = read_file(path)?;
    let file = SourceFile { path, text: &text };
    let q: QueryFile = file.parse()?;
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = q
        .name
        .as_ref()
        .map(|n| n.get_ref().trim().to_string())
        .unwrap_or(stem);
    if name.is_empty() {
        return Err(file.error_at(
            q.name.as_ref().map(|n| n.span().start),
            "query `name` is empty",
        ));
    }
    let expr = parse_match(&file, &q.match_, &ParseOptions::default())?;
    let mut languages = Vec::new();
    if let Some(langs) = &q.languages {
        for l in langs.get_ref() {
            let l = l.trim().to_ascii_lowercase();
            if l.len() != 2 || !l.chars().all(|c| c.is_ascii_lowercase()) {
                return Err(file.error_at(
                    Some(langs.span().start),
                    format!(
                        "`languages`: `{l}` is not an ISO 639-1 code (two letters, e.g. \"en\")"
                    ),
                ));
            }
            languages.push(l);
        }
    }
    let mut source_names = Vec::new();
    if let Some(srcs) = &q.sources {
        let known: Vec<&str> = sources.iter().map(|s| s.name.as_str()).collect();
        for s in srcs.get_ref() {
            if !known.contains(&s.as_str()) && !source_kinds().contains(&s.as_str()) {
                let mut msg = format!("`sources`: no source named `{s}` in hark.toml");
                msg.push_str(&did_you_mean(s, &known));
                return Err(file.error_at(Some(srcs.span().start), msg));
            }
            source_names.push(s.clone());
        }
    }
    let search_terms = match q.search_terms {
        Some(t) => t,
        None => derive_search_terms(&expr),
    };
    let display_name = q
        .display_name
        .as_deref()
        .map(crate::display::one_line)
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| name.clone());
    Ok(QueryConfig {
        display_name,
        name,
        file: path.to_path_buf(),
        match_text: q.match_.into_inner(),
        expr,
        languages,
        sources: source_names,
        search_terms,
    })
}

fn load_alert_file(path: &Path, queries: &[QueryConfig]) -> Result<AlertRule, ConfigError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, rel: &str, text: &str) -> PathBuf {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn kind_settings_errors_point_at_their_key() {
        let dir = tempfile::tempdir().unwrap();
        let load = |entry: &str| {
            let p = write(
                dir.path(),
                "hark.toml",
                &format!("[[sources]]\nname = \"r\"\nkind = \"reddit\"\n{entry}"),
            );
            Config::load(&p)
        };
        // A typo of the kind's own key: the suggestion comes from its settings struct.
        let e = load("subredits = [\"rust\"]\n").unwrap_err();
        assert_eq!(e.position, Some((4, 1)), "{e}");
        assert!(e.message.contains("did you mean `subreddits`"), "{e}");
        // A value of the wrong type: at the value, naming the key.
        let e = load("comments = true\nmax_pages = \"many\"\n").unwrap_err();
        assert_eq!(e.position, Some((5, 13)), "{e}");
        assert!(e.message.starts_with("`max_pages`: invalid type"), "{e}");
        // A secret written where its variable's name belongs.
        let e = load("client_id_env = \"abc def\"\n").unwrap_err();
        assert_eq!(e.position, Some((4, 17)), "{e}");
        assert!(e.message.contains("not the secret itself"), "{e}");
        // Another kind's key names that kind.
        let e = load("channels = [\"durov\"]\n").unwrap_err();
        assert!(e.message.contains("used by: telegram"), "{e}");
        // A check of the kind's settings (normalisation included).
        let c = load("subreddits = [\" r/rust \", \"\"]\nbackfill = \"2d\"\n").unwrap();
        let crate::sources::KindSettings::Reddit(r) = &c.sources[0].settings else {
            panic!("{:?}", c.sources[0].settings)
        };
        assert_eq!(r.subreddits, ["rust"]);
        assert!(r.comments);
        assert_eq!(
            c.sources[0].paging.backfill.0,
            Duration::from_secs(2 * 86400)
        );
        assert_eq!(c.sources[0].kind(), "reddit");
    }

    #[test]
    fn unknown_key_names_file_line_column_and_suggests() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "hark.toml",
            "[storage]\ndata_dir = \"d\"\n\n[[sources]]\nname = \"f\"\nkind = \"feed\"\nintervl = \"5m\"\nurls = [\"https://example.com/feed\"]\n",
        );
        let e = Config::load(&p).unwrap_err();
        assert_eq!(e.position, Some((7, 1)), "{e}");
        assert!(e.message.contains("did you mean `interval`"), "{e}");
        assert!(e.to_string().starts_with(&format!("{}:7:1:", p.display())));
    }

    #[test]
    fn review_source_keys_and_assigned_queries_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "queries/acme.toml", "match = 'acme'\n");
        let src = |extra: &str| {
            format!("[[sources]]\nname = \"r\"\nkind = \"appstore\"\napps = [\"1\"]\n{extra}")
        };
        let p = write(dir.path(), "hark.toml", &src("queries = [\"acmee\"]\n"));
        let e = Config::load(&p).unwrap_err();
        assert!(
            e.message
                .contains("`r`: `queries`: no query named `acmee`, did you mean `acme`?"),
            "{e}"
        );
        let p = write(dir.path(), "hark.toml", &src("countries = [\"USA\"]\n"));
        let e = Config::load(&p).unwrap_err();
        assert_eq!(e.position.map(|p| p.0), Some(5), "{e}");
        assert!(e.message.contains("two-letter"), "{e}");
        // A key of another kind names the kinds that take it.
        let p = write(dir.path(), "hark.toml", &src("pages = [\"x\"]\n"));
        assert!(Config::load(&p).unwrap_err().message.contains("pages"));
        let p = write(
            dir.path(),
            "hark.toml",
            &src("queries = [\"acme\"]\ncountries = [\"US\", \"de\"]\n"),
        );
        let c = Config::load(&p).unwrap();
        assert_eq!(c.sources[0].queries, ["acme"]);
        let crate::sources::KindSettings::AppStore(a) = &c.sources[0].settings else {
            panic!("{:?}", c.sources[0].settings)
        };
        assert_eq!(a.countries, ["us", "de"]);
    }

    #[test]
    fn secrets_must_come_from_env() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "hark.toml",
            "[smtp]\nhost = \"h\"\nfrom = \"a@b\"\npassword = \"hunter2\"\n",
        );
        let e = Config::load(&p).unwrap_err();
        assert_eq!(e.position.unwrap().0, 4);
        assert!(e.message.contains("password_env"), "{e}");
    }

    #[test]
    fn broken_toml_line_is_located() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "hark.toml",
            "[storage]\ndata_dir = \"unterminated\n",
        );
        let e = Config::load(&p).unwrap_err();
        assert_eq!(e.position.unwrap().0, 2, "{e}");
    }

    #[test]
    fn bad_duration_and_kind() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "hark.toml",
            "[[sources]]\nname = \"f\"\nkind = \"fed\"\nurls = [\"https://e.com/\"]\n",
        );
        let e = Config::load(&p).unwrap_err();
        assert!(e.message.contains("did you mean `feed`"), "{e}");
        assert_eq!(e.position, Some((3, 8)));
        let p = write(
            dir.path(),
            "hark.toml",
            "[[sources]]\nname = \"f\"\nkind = \"feed\"\ninterval = \"5 parsecs\"\nurls = [\"https://e.com/\"]\n",
        );
        let e = Config::load(&p).unwrap_err();
        assert!(e.message.contains("interval"), "{e}");
        assert_eq!(e.position.unwrap().0, 4);
    }

    #[test]
    fn query_syntax_error_points_into_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "hark.toml", "");
        let qp = write(
            dir.path(),
            "queries/acme.toml",
            "# acme\nmatch = '(acme OR \"acme corp\"'\n",
        );
        let e = Config::load(&p).unwrap_err();
        assert_eq!(e.file, qp);
        let (line, col) = e.position.unwrap();
        assert_eq!(line, 2);
        assert!(col > 9, "column should point inside the expression: {e}");
        assert!(e.message.contains("column"), "{e}");
    }

    #[test]
    fn loads_queries_and_alerts_with_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "hark.toml",
            "[[sources]]\nname = \"news\"\nkind = \"feed\"\nurls = [\"https://e.com/rss\"]\n",
        );
        write(
            dir.path(),
            "queries/acme.toml",
            "match = '(\"acme\" OR @acme) AND NOT \"road runner\"'\nsources = [\"news\"]\n",
        );
        write(
            dir.path(),
            "alerts/neg.toml",
            "query = \"acme\"\nkind = \"negative_spike\"\n[[channels]]\ntype = \"webhook\"\nurl = \"http://127.0.0.1:9/x\"\nformat = \"slack\"\n",
        );
        let c = Config::load(&p).unwrap();
        assert_eq!(c.queries.len(), 1);
        assert_eq!(c.queries[0].name, "acme");
        assert_eq!(c.queries[0].search_terms, vec!["acme".to_string()]);
        assert_eq!(c.alerts[0].name, "neg");
        assert_eq!(c.alerts[0].window, Duration::from_secs(3600));
        assert_eq!(c.sources[0].interval, Duration::from_secs(900));
        write(
            dir.path(),
            "alerts/bad.toml",
            "query = \"acmee\"\nkind = \"negative_spike\"\n",
        );
        let e = Config::load(&p).unwrap_err();
        assert!(e.message.contains("did you mean `acme`"), "{e}");
    }

    #[test]
    fn unknown_query_source_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "hark.toml",
            "[[sources]]\nname = \"news\"\nkind = \"feed\"\nurls = [\"https://e.com/rss\"]\n",
        );
        write(
            dir.path(),
            "queries/acme.toml",
            "match = 'acme'\nsources = [\"nwes\"]\n",
        );
        let e = Config::load(&p).unwrap_err();
        assert!(e.message.contains("did you mean `news`"), "{e}");
    }

    #[test]
    fn kind_specific_settings_are_checked_per_kind() {
        let field_applies =
            |field: &str, kind: &str| crate::sources::kind(kind).unwrap().keys().contains(&field);
        assert!(field_applies("max_pages", "web") && field_applies("max_pages", "discourse"));
        assert!(!field_applies("max_pages", "feed"));
        assert!(field_applies("page_size", "reddit") && !field_applies("page_size", "discourse"));
        assert!(field_applies("urls", "feed") && !field_applies("urls", "web"));
        assert!(field_applies("backfill", "x") && !field_applies("backfill", "web"));
        assert!(field_applies("subreddits", "reddit") && field_applies("token_env", "vk"));
    }
}
