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
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

mod alerts;
mod queries;
mod sources;

pub use crate::sources::settings::{CheckContext, Paging, SourceConfig};
use alerts::load_alert_file;
pub use alerts::{ALERT_KINDS, load_alert_str};
use queries::load_query_file;
use queries::parse_match;
use sources::build_source;
pub use sources::{Selectors, search_terms, source_kinds};

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
    /// `[cluster]`: NATS JetStream, for `hark run --role` (see [`crate::cluster`]).
    #[serde(default)]
    cluster: Option<Spanned<crate::cluster::ClusterConfig>>,
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

pub use crate::pipeline::settings::PipelineConfig;

pub use crate::alerts::email::SmtpConfig;

pub use crate::serve::settings::ServerConfig;

pub use crate::query::settings::QueryConfig;
use crate::query::settings::derive_search_terms;

pub use crate::alerts::rules::{AlertRule, Channel};

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
    /// `[cluster]`, when hark runs as several processes.
    pub cluster: Option<crate::cluster::ClusterConfig>,
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
        let cluster = match main.cluster {
            Some(c) => {
                let at = Some(c.span().start);
                let c = c.into_inner();
                c.check()
                    .map_err(|e| file.error_at(at, format!("[cluster]: {e}")))?;
                Some(c)
            }
            None => None,
        };
        Ok(Config {
            path: None,
            root,
            cluster,
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
