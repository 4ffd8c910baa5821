//! `kind = "feed"`: RSS 0.9x/1.0/2.0, Atom 1.0/0.3, CDF and JSON Feed, read by hark's own
//! forgiving reader ([`crate::feed`]). Each entry is a mention; relative links are resolved
//! against `xml:base` and the feed's URL; HTML in titles and bodies is reduced to text.
//!
//! Real feeds are often broken: a bare `&`, an undefined entity, a mislabelled charset, a
//! truncated document or one odd entry loses nothing but what is actually broken. An entry
//! that cannot be used is skipped, logged and counted (`skipped_items` in the poll report);
//! a document that is not a feed at all is reported with what it is and does not stop the
//! other feeds.

use super::settings::{CheckContext, KindConfig};
use super::{
    Batch, BuildError, PollError, PollReport, Source, SourceConfig, SourceContext, SourceId, rebase,
};
use crate::feed::{Entry, Feed, Text};
use crate::fields::FieldError;
use crate::http::{Outcome, RequestOptions, redact};
use crate::mention::{Engagement, Mention};
use crate::state::StateUpdate;
use chrono::Utc;
use futures::future::BoxFuture;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::time::Duration;
use tokio::sync::mpsc;
use url::Url;

/// `kind = "feed"` settings.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedConfig {
    /// The feeds' URLs (relative ones resolve against the source's `base_url`).
    pub urls: Vec<String>,
}

impl KindConfig for FeedConfig {
    const NAME: &'static str = "feed";

    fn check(&mut self, at: &CheckContext<'_>) -> Result<(), FieldError> {
        if self.urls.is_empty() {
            return Err(FieldError::invalid(
                "urls",
                format!("feed source `{}` needs `urls = [\"https://...\"]`", at.name),
            ));
        }
        // With a base_url, relative feed paths are allowed (they resolve against it).
        if at.base_url.is_none() {
            for u in &self.urls {
                crate::fields::parse_http_url(u)
                    .map_err(|e| FieldError::invalid("urls", format!("`urls`: {e}")))?;
            }
        }
        Ok(())
    }

    fn build(&self, c: &SourceConfig, _: Vec<String>) -> Result<Box<dyn Source>, BuildError> {
        Ok(Box::new(FeedSource::new(c, self)?))
    }
}

pub struct FeedSource {
    name: String,
    interval: Duration,
    urls: Vec<Url>,
}

impl FeedSource {
    pub fn new(config: &SourceConfig, s: &FeedConfig) -> Result<FeedSource, BuildError> {
        let urls = s
            .urls
            .iter()
            .map(|u| rebase(u, config.base_url.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(FeedSource {
            name: config.name.clone(),
            interval: config.interval,
            urls,
        })
    }

    async fn poll_url(
        &self,
        ctx: &SourceContext,
        url: &Url,
        out: &mpsc::Sender<Batch>,
        report: &mut PollReport,
    ) -> Result<(), PollError> {
        let key = url.as_str();
        let validators = ctx.state.validators(&self.name, key)?;
        let opts = RequestOptions {
            headers: vec![(
                reqwest::header::ACCEPT,
                reqwest::header::HeaderValue::from_static(
                    "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5",
                ),
            )],
            validators,
            max_bytes: None,
            scope: None,
        };
        report.requests += 1;
        let fetched = match ctx.fetcher.get(url, &opts).await? {
            Outcome::NotModified => {
                report.not_modified += 1;
                tracing::debug!(source = %self.name, url = %redact::url(url), "not modified");
                return Ok(());
            }
            Outcome::Fetched(f) => f,
        };
        let charset = fetched
            .content_type()
            .and_then(crate::crawl::charset::charset_param);
        // Parsing and HTML-to-text are CPU work on attacker-controlled bytes: off the async
        // threads, so that one hostile feed cannot stall the others or `/healthz`.
        let scope = id_scope(url);
        let source = self.name.clone();
        // A `Content-Location` header names the document's own URL: relative links resolve
        // against it.
        let final_url = fetched
            .headers
            .get(reqwest::header::CONTENT_LOCATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|loc| fetched.final_url.join(loc.trim()).ok())
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .unwrap_or_else(|| fetched.final_url.clone());
        let body = fetched.body.clone();
        let parsed = tokio::task::spawn_blocking(move || {
            let feed = parse_feed(&body, final_url.as_str(), charset.as_deref())?;
            let fetched_at = Utc::now();
            let mentions: Vec<Mention> = feed
                .entries
                .iter()
                .map(|e| entry_to_mention(e, &source, &scope, fetched_at))
                .collect();
            Ok::<_, FeedReadError>((mentions, feed.language, feed.skipped))
        })
        .await
        .map_err(|e| PollError::Answer(format!("{}: feed parser failed: {e}", redact::url(url))))?;
        let (mentions, language, skipped) = parsed.map_err(|source| PollError::Feed {
            url: redact::url(url).to_string(),
            source,
        })?;
        for reason in &skipped {
            tracing::warn!(source = %self.name, url = %redact::url(url), %reason, "feed entry skipped");
        }
        report.skipped_items += skipped.len();
        report.items += mentions.len();
        let batch = Batch {
            source: self.name.clone(),
            mentions,
            lang_hint: language,
            checkpoint: vec![StateUpdate::Validators {
                source: self.name.clone(),
                url: key.to_string(),
                validators: fetched.validators.clone(),
            }],
            retract: Vec::new(),
        };
        out.send(batch).await.map_err(|_| PollError::PipelineClosed)
    }
}

impl Source for FeedSource {
    fn id(&self) -> SourceId<'_> {
        SourceId {
            name: &self.name,
            kind: "feed",
            interval: self.interval,
        }
    }

    fn poll<'a>(
        &'a self,
        ctx: &'a SourceContext,
        out: &'a mpsc::Sender<Batch>,
    ) -> BoxFuture<'a, PollReport> {
        Box::pin(async move {
            let mut report = PollReport::new(&self.name);
            // Feeds of one source are fetched concurrently; per-host limits apply in the
            // fetcher.
            let results = futures::future::join_all(self.urls.iter().map(|url| async move {
                let mut r = PollReport::default();
                let res = self.poll_url(ctx, url, out, &mut r).await;
                (r, res)
            }))
            .await;
            for (r, res) in results {
                report.requests += r.requests;
                report.not_modified += r.not_modified;
                report.items += r.items;
                report.skipped_items += r.skipped_items;
                if let Err(e) = res {
                    tracing::error!(source = %self.name, error = %e, "feed failed");
                    report.errors.push(e.to_string());
                }
            }
            report
        })
    }
}

/// Why a fetched document yields no feed.
#[derive(Debug, thiserror::Error)]
pub enum FeedReadError {
    #[error(transparent)]
    Feed(#[from] crate::feed::FeedError),
    #[error("the feed parser crashed on this document")]
    Crashed,
}

/// Parses a feed document (see [`crate::feed`]), logging what had to be repaired.
pub fn parse_feed(
    body: &[u8],
    base: &str,
    http_charset: Option<&str>,
) -> Result<Feed, FeedReadError> {
    // The reader is linear and panic-free by design; a panic would still be this feed's
    // error, not the daemon's.
    let feed = std::panic::catch_unwind(|| crate::feed::parse(body, base, http_charset))
        .map_err(|_| FeedReadError::Crashed)??;
    if !feed.repairs.is_empty() {
        tracing::warn!(url = %redact::url_str(base), repairs = %feed.repairs.join(", "), "malformed feed repaired");
    }
    Ok(feed)
}

/// A stable id for an entry that has none: a hash of its link and title (the scheme
/// hark has always used, so that upgrading does not re-store mentions under new ids), or
/// of its text when it has neither — items of some feeds carry only a description, and
/// must not all share one id.
fn generated_id(e: &Entry) -> String {
    let mut h = Sha256::new();
    let title = e.title.as_ref().map(|t| t.value.as_str());
    if e.link.is_none() && title.is_none() {
        h.update(b"text\0");
        let text = e.content.as_ref().or(e.summary.as_ref());
        h.update(text.map_or("", |t| t.value.as_str()).as_bytes());
    } else {
        h.update(e.link.as_deref().unwrap_or("").as_bytes());
        h.update([0]);
        h.update(title.unwrap_or("").as_bytes());
    }
    hex::encode(&h.finalize()[..12])
}

/// What a feed's entry ids are scoped by: the host (and non-default port) of the feed's
/// configured URL. Entry ids (`<guid>`, `<id>`) are chosen by whoever publishes the feed, so
/// an id is only trusted within its publisher's host: a second feed publishing the same
/// guid gets a different mention id and can never replace the first feed's mention. Feeds
/// of one host (several Google News searches, say) still share their entries' ids, so an
/// article they both carry is stored once.
fn id_scope(feed_url: &Url) -> String {
    let host = feed_url.host_str().unwrap_or("").to_ascii_lowercase();
    match feed_url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host,
    }
}

fn entry_to_mention(
    e: &Entry,
    source: &str,
    scope: &str,
    fetched_at: chrono::DateTime<Utc>,
) -> Mention {
    let title = e
        .title
        .as_ref()
        .map(Text::to_plain)
        .filter(|t| !t.is_empty());
    let text = e
        .content
        .as_ref()
        .map(Text::to_plain)
        .filter(|t| !t.is_empty())
        .or_else(|| e.summary.as_ref().map(Text::to_plain))
        .unwrap_or_default();
    let id = e.id.clone().unwrap_or_else(|| generated_id(e));
    Mention {
        source: source.to_string(),
        source_kind: "feed".into(),
        url: e.link.clone(),
        author: e.author.clone(),
        title,
        text,
        fetched_at: Some(fetched_at),
        engagement: Engagement {
            views: e.views,
            likes: e.likes,
            shares: e.shares,
            comments: e.comments,
            followers: e.followers,
            rating: None,
        },
        ..Mention::new(
            format!("feed:{scope}/{id}"),
            e.published.or(e.updated).unwrap_or(fetched_at),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: an entry's generated id hashed only its link and title, so every item
    /// of a feed whose items carry just a description got the same id and all but one
    /// were lost.
    #[test]
    fn description_only_items_get_distinct_ids() {
        let doc = br#"<rss version="0.91"><channel><title>t</title><item><description>first story</description></item><item><description>second story</description></item></channel></rss>"#;
        let base = Url::parse("http://example.com/rss").unwrap();
        let f = parse_feed(doc, base.as_str(), None).unwrap();
        let ids: std::collections::HashSet<String> = f
            .entries
            .iter()
            .map(|e| entry_to_mention(e, "news", &id_scope(&base), Utc::now()).id)
            .collect();
        assert_eq!(ids.len(), 2);
    }

    #[test]
    fn undeclared_cp1251_is_decoded() {
        let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode(
            "<rss version=\"2.0\"><channel><title>Новости</title><item><title>Привет, мир! Это тестовая новость о компании</title><guid>1</guid></item></channel></rss>",
        );
        let f = parse_feed(&bytes, "http://x/", Some("windows-1251")).unwrap();
        assert_eq!(
            f.entries[0].title.as_ref().unwrap().value,
            "Привет, мир! Это тестовая новость о компании"
        );
    }

    #[test]
    fn relative_links_resolve_against_the_feed() {
        let doc = br#"<rss version="2.0"><channel><title>t</title><item><title>x</title><link>/posts/1</link><description>&lt;p&gt;Hello &lt;b&gt;world&lt;/b&gt;&lt;/p&gt;</description></item></channel></rss>"#;
        let base = Url::parse("http://example.com/feeds/rss.xml").unwrap();
        let f = parse_feed(doc, base.as_str(), None).unwrap();
        let m = entry_to_mention(&f.entries[0], "news", &id_scope(&base), Utc::now());
        assert_eq!(m.url.as_deref(), Some("http://example.com/posts/1"));
        assert_eq!(m.text, "Hello world");
        assert!(m.id.starts_with("feed:example.com/"), "{}", m.id);
    }

    /// Regression (hardening #3): a second feed publishing a trusted outlet's guid got the
    /// same mention id (`feed:<guid>`) and so replaced its mention.
    #[test]
    fn the_same_guid_from_two_publishers_gives_two_ids() {
        let doc = br#"<rss version="2.0"><channel><title>t</title><item><title>x</title><guid>urn:story:1</guid><description>text</description></item></channel></rss>"#;
        let trusted = Url::parse("https://news.example.com/rss").unwrap();
        let other = Url::parse("http://127.0.0.1:8081/rss").unwrap();
        let id = |u: &Url| {
            let f = parse_feed(doc, u.as_str(), None).unwrap();
            entry_to_mention(&f.entries[0], "news", &id_scope(u), Utc::now()).id
        };
        assert_eq!(id(&trusted), "feed:news.example.com/urn:story:1");
        assert_eq!(id(&other), "feed:127.0.0.1:8081/urn:story:1");
        // Another feed of the same host shares the scope: one story, one mention.
        assert_eq!(
            id(&Url::parse("https://news.example.com/world/rss?x=1").unwrap()),
            id(&trusted)
        );
    }
}
