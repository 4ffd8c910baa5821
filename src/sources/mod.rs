//! Sources: components that collect raw mentions. One file per source kind, each behind
//! the [`Source`] trait. A source never writes state itself: what it learns (HTTP validators,
//! cursors) goes down the pipeline in its [`Batch`] and is persisted only after the index
//! commit that covers the batch (see `state.rs`).

pub mod feed;

use crate::config::SourceConfig;
use crate::http::Fetcher;
use crate::mention::Mention;
use crate::state::{StateStore, StateUpdate};
use futures::future::BoxFuture;
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

/// Builds the source a config entry describes.
pub fn build(config: &SourceConfig) -> Result<Box<dyn Source>, String> {
    match config.kind.as_str() {
        "feed" => Ok(Box::new(feed::FeedSource::new(config)?)),
        other => Err(format!(
            "source kind `{other}` is not available in this version"
        )),
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
