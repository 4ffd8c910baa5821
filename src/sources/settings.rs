//! A `[[sources]]` entry as the sources use it, once the config loader has validated it
//! (`config.rs` reads the file, reports errors with file:line:col, and builds these).

use crate::crawl::forum::RuleSpec as Selectors;
use std::time::Duration;

/// One `[[sources]]` entry, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceConfig {
    pub name: String,
    pub kind: String,
    pub interval: Duration,
    pub base_url: Option<url::Url>,
    pub enabled: bool,
    pub urls: Vec<String>,
    /// Settings of the API pollers.
    pub api: ApiOptions,
    /// Settings of the `web` crawler.
    pub web: WebOptions,
    /// Queries every item of this source belongs to, without term matching: the brand's own
    /// channels (its app's reviews, its page's comments), whose items rarely name it. Empty:
    /// items are matched against every query as usual.
    pub queries: Vec<String>,
}

/// The crawler's settings (README, "Web crawler").
#[derive(Debug, Clone, PartialEq)]
pub struct WebOptions {
    /// Start URLs; sitemap URLs (`.xml`, `.xml.gz`, or a path with "sitemap") are read as
    /// sitemaps.
    pub seeds: Vec<String>,
    /// Domains or URL prefixes; default: the seeds' hosts.
    pub allow: Vec<String>,
    pub max_depth: usize,
    /// Pages fetched per cycle at most.
    pub max_pages: usize,
    /// A page fetched this recently is not fetched again (seeds and sitemaps always are).
    pub recrawl: Duration,
    /// Pause between two requests to one host (a robots.txt `Crawl-delay` wins when longer).
    pub delay: Duration,
    /// Pages in flight at once, all hosts together.
    pub concurrency: usize,
    pub max_page_bytes: u64,
    /// A forum preset (`phpbb`, `vbulletin`, `xenforo`, `discourse`) or `auto`.
    pub forum: Option<String>,
    pub selectors: Option<Selectors>,
}

impl Default for WebOptions {
    fn default() -> Self {
        WebOptions {
            seeds: Vec::new(),
            allow: Vec::new(),
            max_depth: 2,
            max_pages: 200,
            recrawl: Duration::from_secs(24 * 3600),
            delay: Duration::from_secs(1),
            concurrency: 8,
            max_page_bytes: 5 * 1024 * 1024,
            forum: None,
            selectors: None,
        }
    }
}

/// The API pollers' settings (see the README's per-kind reference). Credentials are names of
/// environment variables; they are read when the source starts.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiOptions {
    /// Pages walked per stream and poll.
    pub max_pages: usize,
    /// Items asked for per page (each kind caps it at its API's maximum).
    pub page_size: usize,
    /// How far back the first poll of a stream reaches.
    pub backfill: Duration,
    pub token_env: Option<String>,
    pub key_env: Option<String>,
    pub client_id_env: Option<String>,
    pub client_secret_env: Option<String>,
    pub password_env: Option<String>,
    /// Bluesky handle or e-mail; Discourse `Api-Username`.
    pub identifier: Option<String>,
    pub subreddits: Vec<String>,
    pub tags: Vec<String>,
    /// Telegram: the public channels to read.
    pub channels: Vec<String>,
    /// App Store app ids / Google Play package names.
    pub apps: Vec<String>,
    /// App Store / Google Play storefronts (lowercase ISO 3166 alpha-2; default `us`).
    pub countries: Vec<String>,
    /// Google Play: the language reviews are asked in (default `en`).
    pub language: Option<String>,
    /// Trustpilot business unit ids.
    pub businesses: Vec<String>,
    /// Facebook page ids or names.
    pub pages: Vec<String>,
    /// Odnoklassniki group ids.
    pub groups: Vec<String>,
    /// Instagram accounts followed through business discovery.
    pub accounts: Vec<String>,
    /// Instagram: the business account id requests are made as.
    pub account_id: Option<String>,
    /// Stack Exchange site (default `stackoverflow`).
    pub site: Option<String>,
    /// Discourse: also poll the forum's latest posts, `/posts.json` (default true).
    pub latest: bool,
    /// Also collect comments/answers where the kind can (default true).
    pub comments: bool,
}

impl Default for ApiOptions {
    fn default() -> Self {
        ApiOptions {
            max_pages: 5,
            page_size: 100,
            backfill: Duration::from_secs(7 * 24 * 3600),
            token_env: None,
            key_env: None,
            client_id_env: None,
            client_secret_env: None,
            password_env: None,
            identifier: None,
            subreddits: Vec::new(),
            tags: Vec::new(),
            channels: Vec::new(),
            apps: Vec::new(),
            countries: Vec::new(),
            language: None,
            businesses: Vec::new(),
            pages: Vec::new(),
            groups: Vec::new(),
            accounts: Vec::new(),
            account_id: None,
            site: None,
            latest: true,
            comments: true,
        }
    }
}
