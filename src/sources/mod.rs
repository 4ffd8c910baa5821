//! Sources: components that collect raw mentions. One file per source kind, each behind
//! the [`Source`] trait. A source never writes state itself: what it learns (HTTP validators,
//! cursors) goes down the pipeline in its [`Batch`] and is persisted only after the index
//! commit that covers the batch (see `state.rs`).

pub mod api;
pub mod appstore;
pub mod bluesky;
pub mod discourse;
pub mod facebook;
pub mod feed;
pub mod googleplay;
pub mod hackernews;
pub mod instagram;
pub mod mastodon;
pub mod meta;
pub mod ok;
pub mod reddit;
pub mod settings;
pub mod stackexchange;
pub mod telegram;
pub mod tiktok;
pub mod trustpilot;
pub mod vk;
pub mod web;
pub mod x;
pub mod youtube;

use crate::fields::{EnvVar, FieldError, Fields};
use crate::http::Fetcher;
use crate::http::redact::Secret;
use crate::mention::Mention;
use crate::state::{StateStore, StateUpdate};
use futures::future::BoxFuture;
pub use settings::{CheckContext, KindConfig, Paging, SourceConfig};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// What one poll of one endpoint produced.
#[derive(Debug, Default)]
pub struct Batch {
    pub source: String,
    /// Collected items, not yet matched or classified.
    pub mentions: Vec<Mention>,
    /// Language the source declares for these items (a feed's `<language>`), a hint for
    /// detection.
    pub lang_hint: Option<String>,
    /// State to persist once these mentions are durable in the index.
    pub checkpoint: Vec<StateUpdate>,
    /// Ids of stored mentions to remove (a later copy replaced by the earlier original).
    pub retract: Vec<String>,
}

/// Everything a source may use while polling.
#[derive(Clone)]
pub struct SourceContext {
    pub fetcher: Fetcher,
    pub state: Arc<StateStore>,
}

/// The outcome of one poll, for logs and `hark run --once`'s summary.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct PollReport {
    pub source: String,
    pub requests: usize,
    pub not_modified: usize,
    pub items: usize,
    pub errors: Vec<String>,
    /// Pages fetched that yielded no mention (the crawler: too little main text, or not
    /// HTML); each is logged at debug level with the reason.
    #[serde(skip_serializing_if = "is_zero")]
    pub empty_pages: usize,
    /// Items received but not usable (a feed entry cut off by a truncated document, one
    /// with neither title, text nor link); the rest of the document is kept. Each is
    /// logged with the reason.
    #[serde(skip_serializing_if = "is_zero")]
    pub skipped_items: usize,
}

impl PollReport {
    /// An empty report of the source called `source`.
    pub fn new(source: &str) -> PollReport {
        PollReport {
            source: source.to_string(),
            ..Default::default()
        }
    }
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Who a source is: its configured name, its kind, and how often it is polled.
#[derive(Debug, Clone, Copy)]
pub struct SourceId<'a> {
    pub name: &'a str,
    pub kind: &'static str,
    pub interval: Duration,
}

/// A collector of mentions.
pub trait Source: Send + Sync {
    fn id(&self) -> SourceId<'_>;
    fn name(&self) -> &str {
        self.id().name
    }
    fn kind(&self) -> &'static str {
        self.id().kind
    }
    fn interval(&self) -> Duration {
        self.id().interval
    }
    /// Polls once, sending batches into `out`. An endpoint that fails is reported in the
    /// returned report and does not stop the others.
    fn poll<'a>(
        &'a self,
        ctx: &'a SourceContext,
        out: &'a mpsc::Sender<Batch>,
    ) -> BoxFuture<'a, PollReport>;
}

/// Declares the source kinds: the [`KindSettings`] enum (one variant per kind, holding the
/// kind's settings struct) and the [`KINDS`] registry the config loader reads.
macro_rules! source_kinds {
    ($($variant:ident($settings:ty)),* $(,)?) => {
        /// The kind-specific settings of a `[[sources]]` entry, tagged by its `kind` key. The
        /// loader picks the variant from `kind` (see [`Kind`]) rather than through serde's
        /// `#[serde(tag = "kind")]`, which would buffer the entry and lose the file
        /// positions of its errors.
        #[derive(Debug, Clone, PartialEq)]
        pub enum KindSettings {
            $($variant($settings)),*
        }

        $(impl From<$settings> for KindSettings {
            fn from(s: $settings) -> KindSettings {
                KindSettings::$variant(s)
            }
        })*

        impl KindSettings {
            /// The kind's name, as in `kind = "..."`.
            pub fn kind(&self) -> &'static str {
                match self {
                    $(KindSettings::$variant(_) => <$settings as KindConfig>::NAME),*
                }
            }

            fn build(
                &self,
                source: &SourceConfig,
                terms: Vec<String>,
            ) -> Result<Box<dyn Source>, BuildError> {
                match self {
                    $(KindSettings::$variant(s) => s.build(source, terms)),*
                }
            }
        }

        /// Every source kind this build collects, in the order of the README's reference.
        pub const KINDS: &[Kind] = &[$(Kind::of::<$settings>()),*];
    };
}

// A new kind is a file in this folder with its settings struct (implementing
// `KindConfig`), plus one line here.
source_kinds! {
    Feed(feed::FeedConfig),
    Web(web::WebConfig),
    Reddit(reddit::RedditConfig),
    HackerNews(hackernews::HackerNewsConfig),
    Mastodon(mastodon::MastodonConfig),
    Bluesky(bluesky::BlueskyConfig),
    X(x::XConfig),
    YouTube(youtube::YouTubeConfig),
    Vk(vk::VkConfig),
    StackExchange(stackexchange::StackExchangeConfig),
    Discourse(discourse::DiscourseConfig),
    Telegram(telegram::TelegramConfig),
    AppStore(appstore::AppStoreConfig),
    GooglePlay(googleplay::GooglePlayConfig),
    Trustpilot(trustpilot::TrustpilotConfig),
    Facebook(facebook::FacebookConfig),
    Instagram(instagram::InstagramConfig),
    Ok(ok::OkConfig),
    TikTok(tiktok::TikTokConfig),
}

/// A source kind as the config loader sees it: its name, the keys it takes, and how to read
/// its settings from an entry.
pub struct Kind {
    pub name: &'static str,
    /// The [`settings::Paging`] keys it takes.
    pub paging: &'static [&'static str],
    /// Its own keys (those of its settings struct).
    pub fields: fn() -> &'static [&'static str],
    /// Reads and checks its own keys.
    pub read: fn(Fields<'_>, &CheckContext<'_>) -> Result<KindSettings, FieldError>,
}

impl Kind {
    const fn of<T: KindConfig>() -> Kind {
        Kind {
            name: T::NAME,
            paging: T::PAGING,
            fields: crate::fields::struct_fields::<T>,
            read: read_settings::<T>,
        }
    }

    /// Every kind-specific key it takes (its own and its paging keys).
    pub fn keys(&self) -> Vec<&'static str> {
        let mut k = (self.fields)().to_vec();
        k.extend(self.paging);
        k
    }
}

fn read_settings<T: KindConfig>(
    fields: Fields<'_>,
    at: &CheckContext<'_>,
) -> Result<KindSettings, FieldError> {
    let mut settings: T = fields.read()?;
    settings.check(at)?;
    Ok(settings.into())
}

/// The kind called `name`.
pub fn kind(name: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|k| k.name == name)
}

/// Builds the source a config entry describes; API pollers search for `terms` (the search
/// terms of the queries that use the source, see `config::search_terms`). An error (e.g. a
/// credential missing from the environment) disables this source only.
pub fn build(config: &SourceConfig, terms: Vec<String>) -> Result<Box<dyn Source>, BuildError> {
    config.settings.build(config, terms)
}

/// Why one endpoint of a poll failed. It goes into the poll's report and the log; the
/// source's other endpoints and the other sources go on.
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error(transparent)]
    Fetch(#[from] crate::http::FetchError),
    #[error(transparent)]
    State(#[from] crate::state::StateError),
    #[error("{url}: {source}")]
    Feed {
        url: String,
        #[source]
        source: feed::FeedReadError,
    },
    #[error("pipeline closed")]
    PipelineClosed,
    /// The endpoint answered something unusable (said in the kind's words).
    #[error("{0}")]
    Answer(String),
}

/// Why a configured source could not be started (it stays disabled; the others run).
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(
        "{kind} source `{name}` needs {what}: set `{setting} = \"VAR\"` in its [[sources]] entry and put the secret in that environment variable"
    )]
    NoCredential {
        kind: &'static str,
        name: String,
        setting: &'static str,
        what: String,
    },
    #[error(
        "{kind} source `{name}`: environment variable {var} (named by `{setting}`) is not set; the source is disabled"
    )]
    CredentialUnset {
        kind: &'static str,
        name: String,
        setting: &'static str,
        var: String,
    },
    #[error("invalid URL `{url}`: {source}")]
    Url {
        url: String,
        #[source]
        source: url::ParseError,
    },
    /// Settings that cannot work together (said in the kind's words).
    #[error("{0}")]
    Settings(String),
    /// A setting the load-time checks let through but the source cannot use.
    #[error(transparent)]
    Invalid(#[from] FieldError),
    #[error("`{key}`: {source}")]
    Setting {
        key: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// An API poller of `api`'s kind with the entry's paging settings: what the API kinds' `KIND`
/// builds.
pub fn api_source<A: api::Api + 'static>(
    a: A,
    config: &SourceConfig,
    terms: Vec<String>,
) -> Box<dyn Source> {
    Box::new(api::ApiSource::new(
        a,
        api::ApiSettings::from_config(config, terms),
    ))
}

/// Runs every API kind's response mapper on `data`, for every stream kind it has (the fuzz
/// target `api_json` calls this). Credentials point at `$PATH`, which is always set.
/// Returns how many items were mapped.
#[doc(hidden)]
pub fn fuzz_api_mappers(data: &[u8]) -> usize {
    use api::{Api, PageQuery};
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(data) else {
        return 0;
    };
    let token = || Some(EnvVar("PATH".into()));
    let mut forum = SourceConfig::new(
        "discourse",
        discourse::DiscourseConfig {
            token_env: token(),
            ..Default::default()
        },
    );
    forum.base_url = url::Url::parse("https://forum.example.org").ok();
    let mut apis: Vec<Box<dyn Api>> = Vec::new();
    macro_rules! add {
        ($e:expr) => {
            if let Ok(a) = $e {
                apis.push(Box::new(a));
            }
        };
    }
    macro_rules! api {
        ($api:ty, $settings:expr) => {
            add!(<$api>::new(
                &SourceConfig::new("fuzz", $settings.clone()),
                &$settings
            ));
        };
    }
    api!(
        reddit::Reddit,
        reddit::RedditConfig {
            subreddits: vec!["rust".into()],
            ..Default::default()
        }
    );
    api!(
        hackernews::HackerNews,
        hackernews::HackerNewsConfig::default()
    );
    api!(
        mastodon::Mastodon,
        mastodon::MastodonConfig {
            tags: vec!["acme".into()],
            token_env: token(),
        }
    );
    api!(bluesky::Bluesky, bluesky::BlueskyConfig::default());
    api!(x::X, x::XConfig { token_env: token() });
    api!(
        youtube::YouTube,
        youtube::YouTubeConfig {
            key_env: token(),
            ..Default::default()
        }
    );
    api!(vk::Vk, vk::VkConfig { token_env: token() });
    api!(
        stackexchange::StackExchange,
        stackexchange::StackExchangeConfig {
            tags: vec!["acme".into()],
            key_env: token(),
            ..Default::default()
        }
    );
    if let KindSettings::Discourse(d) = &forum.settings {
        add!(discourse::Discourse::new(&forum, d));
    }
    let mut n = 0;
    for a in &apis {
        let _ = a.inspect(&body);
        for stream in a.streams(&["acme corp".into()]) {
            if let Ok(page) = a.parse(&PageQuery::first_page(&stream), &body) {
                n += page.items.len();
                for f in &page.follow {
                    if let Ok(p) = a.parse(&PageQuery::first_page(f), &body) {
                        n += p.items.len();
                    }
                }
            }
        }
    }
    n
}

/// Reads an optional credential from the environment variable a source's `*_env` setting
/// names: none when the setting is absent; once configured, the variable must be set.
pub fn credential(
    config: &SourceConfig,
    setting: &'static str,
    var: Option<&EnvVar>,
) -> Result<Option<Secret>, BuildError> {
    var.map(|v| read_secret(config, setting, v)).transpose()
}

/// Reads a credential the source cannot work without; `what` says what it is and where to
/// get one.
pub fn required_credential(
    config: &SourceConfig,
    setting: &'static str,
    var: Option<&EnvVar>,
    what: &str,
) -> Result<Secret, BuildError> {
    match var {
        Some(v) => read_secret(config, setting, v),
        None => Err(BuildError::NoCredential {
            kind: config.kind(),
            name: config.name.clone(),
            setting,
            what: what.to_string(),
        }),
    }
}

fn read_secret(
    config: &SourceConfig,
    setting: &'static str,
    var: &EnvVar,
) -> Result<Secret, BuildError> {
    match std::env::var(var.as_str()) {
        Ok(v) if !v.trim().is_empty() => Ok(Secret::new(v.trim())),
        _ => Err(BuildError::CredentialUnset {
            kind: config.kind(),
            name: config.name.clone(),
            setting,
            var: var.as_str().to_string(),
        }),
    }
}

/// Replaces the scheme and host (and prepends the path prefix) of `url` with `base`:
/// `https://example.com/feed.xml` on `http://127.0.0.1:8080/mirror` becomes
/// `http://127.0.0.1:8080/mirror/feed.xml`. A relative `url` resolves against `base`.
pub fn rebase(url: &str, base: Option<&url::Url>) -> Result<url::Url, BuildError> {
    let Some(base) = base else {
        return url::Url::parse(url).map_err(|source| BuildError::Url {
            url: url.to_string(),
            source,
        });
    };
    let (path, query) = match url::Url::parse(url) {
        Ok(u) => (u.path().to_string(), u.query().map(str::to_string)),
        Err(_) => {
            let (p, q) = url
                .split_once('?')
                .map_or((url, None), |(p, q)| (p, Some(q.to_string())));
            (
                if p.starts_with('/') {
                    p.to_string()
                } else {
                    format!("/{p}")
                },
                q,
            )
        }
    };
    let mut out = base.clone();
    let prefix = base.path().trim_end_matches('/');
    out.set_path(&format!("{prefix}{path}"));
    out.set_query(query.as_deref());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fuzz_helper_maps_real_responses() {
        assert_eq!(fuzz_api_mappers(b"not json"), 0);
        assert_eq!(fuzz_api_mappers(b"[1, {\"a\": null}, \"x\"]"), 0);
        let Some(recorded) = crate::testdata::fixture_bytes(
            "hackernews/algolia_search_by_date_story_q-apple_2014.json",
        ) else {
            return;
        };
        assert!(fuzz_api_mappers(&recorded) >= 1);
    }

    #[test]
    fn rebase_keeps_path_and_query() {
        let base = url::Url::parse("http://127.0.0.1:8080/mirror").unwrap();
        assert_eq!(
            rebase("https://example.com/a/feed.xml?x=1", Some(&base))
                .unwrap()
                .as_str(),
            "http://127.0.0.1:8080/mirror/a/feed.xml?x=1"
        );
        assert_eq!(
            rebase("feed.xml", Some(&base)).unwrap().as_str(),
            "http://127.0.0.1:8080/mirror/feed.xml"
        );
        assert_eq!(
            rebase("https://e.com/f", None).unwrap().as_str(),
            "https://e.com/f"
        );
    }
}
