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

use crate::http::Fetcher;
use crate::mention::Mention;
use crate::state::{StateStore, StateUpdate};
use futures::future::BoxFuture;
pub use settings::{ApiOptions, SourceConfig, WebOptions};
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

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// A collector of mentions.
pub trait Source: Send + Sync {
    fn name(&self) -> &str;
    fn kind(&self) -> &'static str;
    fn interval(&self) -> Duration;
    /// Polls once, sending batches into `out`. An endpoint that fails is reported in the
    /// returned report and does not stop the others.
    fn poll<'a>(
        &'a self,
        ctx: &'a SourceContext,
        out: &'a mpsc::Sender<Batch>,
    ) -> BoxFuture<'a, PollReport>;
}

/// A source kind: its name in `kind = "..."`, the keys of a `[[sources]]` entry that only
/// it (and other kinds listing them) accepts, and how to build it from a validated entry and
/// the search terms of the queries that use it.
pub struct Kind {
    pub name: &'static str,
    /// Kind-specific keys (the loader refuses them on other kinds, naming those that take
    /// them).
    pub keys: &'static [&'static str],
    pub build: BuildFn,
}

/// Builds a source from its validated entry and its search terms; an error (a missing
/// credential, say) disables this source only.
pub type BuildFn = fn(&SourceConfig, Vec<String>) -> Result<Box<dyn Source>, String>;

/// The keys every API poller takes (paging and backfill, see `api.rs`).
pub const API_KEYS: &[&str] = &["max_pages", "page_size", "backfill"];

/// Every source kind this build collects. A new kind is a file in this folder defining its
/// `KIND`, plus one line here: the config loader and [`build`] read this list.
pub const KINDS: &[&Kind] = &[
    &feed::KIND,
    &web::KIND,
    &reddit::KIND,
    &hackernews::KIND,
    &mastodon::KIND,
    &bluesky::KIND,
    &x::KIND,
    &youtube::KIND,
    &vk::KIND,
    &stackexchange::KIND,
    &discourse::KIND,
    &telegram::KIND,
    &appstore::KIND,
    &googleplay::KIND,
    &trustpilot::KIND,
    &facebook::KIND,
    &instagram::KIND,
    &ok::KIND,
    &tiktok::KIND,
];

/// The kind called `name`.
pub fn kind(name: &str) -> Option<&'static Kind> {
    KINDS.iter().copied().find(|k| k.name == name)
}

/// Builds the source a config entry describes; API pollers search for `terms` (the search
/// terms of the queries that use the source, see `config::search_terms`). An error (e.g. a
/// credential missing from the environment) disables this source only.
pub fn build(config: &SourceConfig, terms: Vec<String>) -> Result<Box<dyn Source>, String> {
    match kind(&config.kind) {
        Some(k) => (k.build)(config, terms),
        None => Err(format!(
            "source kind `{}` is not available in this version",
            config.kind
        )),
    }
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
    let config = |kind: &str| {
        let mut c = SourceConfig {
            name: kind.into(),
            kind: kind.into(),
            interval: std::time::Duration::from_secs(60),
            base_url: url::Url::parse("https://forum.example.org").ok(),
            enabled: true,
            urls: vec![],
            api: Default::default(),
            web: Default::default(),
            queries: vec![],
        };
        c.api.token_env = Some("PATH".into());
        c.api.key_env = Some("PATH".into());
        c.api.subreddits = vec!["rust".into()];
        c.api.tags = vec!["acme".into()];
        c
    };
    let mut apis: Vec<Box<dyn Api>> = Vec::new();
    macro_rules! add {
        ($e:expr) => {
            if let Ok(a) = $e {
                apis.push(Box::new(a));
            }
        };
    }
    add!(reddit::Reddit::new(&config("reddit")));
    add!(hackernews::HackerNews::new(&config("hackernews")));
    add!(mastodon::Mastodon::new(&config("mastodon")));
    add!(bluesky::Bluesky::new(&config("bluesky")));
    add!(x::X::new(&config("x")));
    add!(youtube::YouTube::new(&config("youtube")));
    add!(vk::Vk::new(&config("vk")));
    add!(stackexchange::StackExchange::new(&config("stackexchange")));
    add!(discourse::Discourse::new(&config("discourse")));
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

/// Reads a credential from the environment variable a source's `*_env` setting names.
/// `required` credentials must be configured; optional ones, once configured, must be set.
pub fn credential(
    config: &SourceConfig,
    setting: &str,
    var: Option<&str>,
    required: Option<&str>,
) -> Result<Option<crate::http::redact::Secret>, String> {
    match var {
        None => match required {
            Some(what) => Err(format!(
                "{} source `{}` needs {what}: set `{setting} = \"VAR\"` in its [[sources]] entry and put the secret in that environment variable",
                config.kind, config.name
            )),
            None => Ok(None),
        },
        Some(var) => match std::env::var(var) {
            Ok(v) if !v.trim().is_empty() => Ok(Some(crate::http::redact::Secret::new(v.trim()))),
            _ => Err(format!(
                "{} source `{}`: environment variable {var} (named by `{setting}`) is not set; the source is disabled",
                config.kind, config.name
            )),
        },
    }
}

/// Replaces the scheme and host (and prepends the path prefix) of `url` with `base`:
/// `https://example.com/feed.xml` on `http://127.0.0.1:8080/mirror` becomes
/// `http://127.0.0.1:8080/mirror/feed.xml`. A relative `url` resolves against `base`.
pub fn rebase(url: &str, base: Option<&url::Url>) -> Result<url::Url, String> {
    let Some(base) = base else {
        return url::Url::parse(url).map_err(|e| format!("invalid URL `{url}`: {e}"));
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
