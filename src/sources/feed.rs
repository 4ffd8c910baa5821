//! `kind = "feed"`: RSS 0.9x/1.0/2.0, Atom and JSON Feed, via feed-rs. Each entry is a
//! mention; relative links are resolved against the feed's URL; HTML in titles and bodies is
//! reduced to text.
//!
//! Real feeds are often broken. Before giving up on one, hark tries, in order: stripping
//! junk before the XML declaration, decoding undeclared non-UTF-8 bytes (charset from the
//! HTTP header, else detected), replacing HTML-only entities such as `&nbsp;`, and closing
//! a truncated document after its last complete item. Each repair is logged; a feed that
//! still cannot be read is reported with the parser's error and does not stop the others.

use super::SourceConfig;
use super::{Batch, PollReport, Source, SourceContext, rebase};
use crate::http::{Outcome, RequestOptions, redact};
use crate::mention::{Engagement, Mention};
use crate::state::StateUpdate;
use chrono::Utc;
use futures::future::BoxFuture;
use sha2::{Digest, Sha256};
use std::time::Duration;
use tokio::sync::mpsc;
use url::Url;

/// The `feed` source kind (see [`super::KINDS`]).
pub const KIND: super::Kind = super::Kind {
    name: "feed",
    keys: &["urls"],
    build: |c, _| Ok(Box::new(FeedSource::new(c)?)),
};

pub struct FeedSource {
    name: String,
    interval: Duration,
    urls: Vec<Url>,
}

impl FeedSource {
    pub fn new(config: &SourceConfig) -> Result<FeedSource, String> {
        let urls = config
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
    ) -> Result<(), String> {
        let key = url.as_str();
        let validators = ctx
            .state
            .validators(&self.name, key)
            .map_err(|e| e.to_string())?;
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
        let fetched = match ctx
            .fetcher
            .get(url, &opts)
            .await
            .map_err(|e| e.to_string())?
        {
            Outcome::NotModified => {
                report.not_modified += 1;
                tracing::debug!(source = %self.name, url = %redact::url(url), "not modified");
                return Ok(());
            }
            Outcome::Fetched(f) => f,
        };
        let charset = fetched.content_type().and_then(charset_of);
        // Parsing and HTML-to-text are CPU work on attacker-controlled bytes: off the async
        // threads, so that one hostile feed cannot stall the others or `/healthz`.
        let scope = id_scope(url);
        let source = self.name.clone();
        let final_url = fetched.final_url.clone();
        let body = fetched.body.clone();
        let parsed = tokio::task::spawn_blocking(move || {
            let feed = parse_feed(&body, final_url.as_str(), charset.as_deref())?;
            let fetched_at = Utc::now();
            let mentions: Vec<Mention> = feed
                .entries
                .iter()
                .map(|e| entry_to_mention(e, &source, &scope, &final_url, fetched_at))
                .collect();
            Ok::<_, String>((mentions, feed.language))
        })
        .await
        .map_err(|e| format!("{}: feed parser failed: {e}", redact::url(url)))?;
        let (mentions, language) = parsed.map_err(|e| format!("{}: {e}", redact::url(url)))?;
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
        out.send(batch)
            .await
            .map_err(|_| "pipeline closed".to_string())
    }
}

impl Source for FeedSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> &'static str {
        "feed"
    }

    fn interval(&self) -> Duration {
        self.interval
    }

    fn poll<'a>(
        &'a self,
        ctx: &'a SourceContext,
        out: &'a mpsc::Sender<Batch>,
    ) -> BoxFuture<'a, PollReport> {
        Box::pin(async move {
            let mut report = PollReport {
                source: self.name.clone(),
                ..Default::default()
            };
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
                if let Err(e) = res {
                    tracing::error!(source = %self.name, error = %e, "feed failed");
                    report.errors.push(e);
                }
            }
            report
        })
    }
}

fn charset_of(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        (k.trim().eq_ignore_ascii_case("charset")).then(|| v.trim().trim_matches('"').to_string())
    })
}

/// A stable id for an entry without one: its link and title.
fn generated_id(
    links: &[feed_rs::model::Link],
    title: &Option<feed_rs::model::Text>,
    _: Option<&str>,
) -> String {
    let mut h = Sha256::new();
    if let Some(l) = links.first() {
        h.update(l.href.as_bytes());
    }
    h.update([0]);
    if let Some(t) = title {
        h.update(t.content.as_bytes());
    }
    hex::encode(&h.finalize()[..12])
}

fn parser(base: &str) -> feed_rs::parser::Parser {
    feed_rs::parser::Builder::new()
        .base_uri(Some(base))
        .id_generator(generated_id)
        .build()
}

/// One parse attempt. feed-rs (through quick-xml) can panic on hostile input (found by
/// the fuzzing campaign: a malformed `encoding` declaration trips an assertion in
/// quick-xml's decoder), so a panic is caught and reported as this feed's error.
fn try_parse(base: &str, doc: &[u8]) -> Result<feed_rs::model::Feed, String> {
    match std::panic::catch_unwind(|| parser(base).parse(doc)) {
        Ok(r) => r.map_err(|e| e.to_string()),
        Err(_) => Err("the feed parser crashed on this document".into()),
    }
}

/// Parses a feed, repairing the common kinds of damage (see the module docs).
pub fn parse_feed(
    body: &[u8],
    base: &str,
    http_charset: Option<&str>,
) -> Result<feed_rs::model::Feed, String> {
    let first_err = match try_parse(base, body) {
        Ok(f) => return Ok(f),
        Err(e) => e,
    };
    let mut doc: Vec<u8> = body.to_vec();
    let mut repairs = Vec::new();
    // 1. Junk (blank lines, a BOM, comments' leading whitespace) before the first '<' or '{'.
    let start = doc
        .iter()
        .position(|b| *b == b'<' || *b == b'{')
        .unwrap_or(0);
    if start > 0 {
        doc.drain(..start);
        repairs.push("leading junk removed");
    }
    // 2. Bytes that are not UTF-8 where the document declares no other encoding.
    if std::str::from_utf8(&doc).is_err() && !declares_non_utf8(&doc) {
        let enc = http_charset
            .and_then(|c| encoding_rs::Encoding::for_label(c.as_bytes()))
            .filter(|e| *e != encoding_rs::UTF_8)
            .unwrap_or_else(|| {
                let mut det = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
                det.feed(&doc, true);
                det.guess(None, chardetng::Utf8Detection::Deny)
            });
        let (text, _, _) = enc.decode(&doc);
        doc = strip_encoding_decl(&text).into_bytes();
        repairs.push("undeclared encoding decoded");
    }
    if let Ok(f) = try_parse(base, doc.as_slice()) {
        log_repairs(base, &repairs);
        return Ok(f);
    }
    // 3. HTML entities that XML does not define.
    if let Ok(text) = std::str::from_utf8(&doc) {
        let fixed = replace_html_entities(text);
        if fixed != text {
            doc = fixed.into_bytes();
            repairs.push("HTML entities replaced");
            if let Ok(f) = try_parse(base, doc.as_slice()) {
                log_repairs(base, &repairs);
                return Ok(f);
            }
        }
    }
    // 4. A truncated or unclosed document: keep what precedes the last complete item.
    if let Some(fixed) = close_truncated(&doc)
        && let Ok(f) = try_parse(base, fixed.as_slice())
    {
        repairs.push("truncated document closed after its last complete item");
        log_repairs(base, &repairs);
        return Ok(f);
    }
    Err(format!(
        "not a readable RSS, Atom or JSON feed: {first_err}"
    ))
}

fn log_repairs(base: &str, repairs: &[&str]) {
    tracing::warn!(url = %redact::url_str(base), repairs = %repairs.join(", "), "malformed feed repaired");
}

fn declares_non_utf8(doc: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&doc[..doc.len().min(200)]).to_ascii_lowercase();
    match head.find("encoding=") {
        Some(i) => {
            let rest = &head[i + 9..];
            let val: String = rest
                .trim_start_matches(['"', '\''])
                .chars()
                .take_while(|c| !matches!(c, '"' | '\''))
                .collect();
            val != "utf-8" && val != "utf8"
        }
        None => false,
    }
}

fn strip_encoding_decl(text: &str) -> String {
    if text.starts_with("<?xml")
        && let Some(end) = text.find("?>")
    {
        return format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>{}",
            &text[end + 2..]
        );
    }
    text.to_string()
}

/// `&nbsp;` and friends → numeric references; an unknown `&name;` becomes literal text.
fn replace_html_entities(text: &str) -> String {
    const KNOWN: &[(&str, u32)] = &[
        ("nbsp", 160),
        ("copy", 169),
        ("reg", 174),
        ("trade", 8482),
        ("mdash", 8212),
        ("ndash", 8211),
        ("hellip", 8230),
        ("lsquo", 8216),
        ("rsquo", 8217),
        ("ldquo", 8220),
        ("rdquo", 8221),
        ("laquo", 171),
        ("raquo", 187),
        ("bull", 8226),
        ("middot", 183),
        ("euro", 8364),
        ("pound", 163),
        ("yen", 165),
        ("cent", 162),
        ("deg", 176),
        ("eacute", 233),
        ("egrave", 232),
        ("agrave", 224),
        ("aacute", 225),
        ("ccedil", 231),
        ("uuml", 252),
        ("ouml", 246),
        ("auml", 228),
        ("szlig", 223),
        ("times", 215),
    ];
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let name_len = after
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(after.len());
        let name = &after[..name_len];
        let terminated = after[name_len..].starts_with(';');
        if terminated && !name.is_empty() && !["amp", "lt", "gt", "quot", "apos"].contains(&name) {
            match KNOWN.iter().find(|(n, _)| *n == name) {
                Some((_, code)) => out.push_str(&format!("&#{code};")),
                None => out.push_str(&format!("&amp;{name};")),
            }
            rest = &after[name_len + 1..];
        } else {
            out.push('&');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

fn close_truncated(doc: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(doc).ok()?;
    let (cut, closer) = if text.contains("<feed") {
        (text.rfind("</entry>").map(|i| i + 8), "</feed>")
    } else if text.contains("<rdf:RDF") || text.contains("<RDF") {
        (text.rfind("</item>").map(|i| i + 7), "</rdf:RDF>")
    } else if text.contains("<rss") {
        (text.rfind("</item>").map(|i| i + 7), "</channel></rss>")
    } else {
        return None;
    };
    let cut = cut?;
    let mut fixed = text[..cut].to_string();
    fixed.push_str(closer);
    Some(fixed.into_bytes())
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
    e: &feed_rs::model::Entry,
    source: &str,
    scope: &str,
    feed_url: &Url,
    fetched_at: chrono::DateTime<Utc>,
) -> Mention {
    let link = e
        .links
        .iter()
        .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
        .or(e.links.first())
        .map(|l| {
            feed_url
                .join(&l.href)
                .map(String::from)
                .unwrap_or_else(|_| l.href.clone())
        });
    let title = e
        .title
        .as_ref()
        .map(|t| crate::html::to_text(&t.content))
        .filter(|t| !t.is_empty());
    let body = e
        .content
        .as_ref()
        .and_then(|c| c.body.clone())
        .filter(|b| !b.trim().is_empty())
        .or_else(|| e.summary.as_ref().map(|s| s.content.clone()))
        .or_else(|| {
            e.media
                .iter()
                .find_map(|m| m.description.as_ref().map(|d| d.content.clone()))
        })
        .unwrap_or_default();
    let author = e
        .authors
        .first()
        .and_then(|a| a.name.as_deref().map(|n| n.trim().to_string()))
        .filter(|a| !a.is_empty());
    Mention {
        id: format!("feed:{scope}/{}", e.id),
        queries: vec![],
        source: source.to_string(),
        source_kind: "feed".into(),
        url: link,
        author,
        title,
        text: crate::html::to_text(&body),
        published_at: e.published.or(e.updated).unwrap_or(fetched_at),
        fetched_at: Some(fetched_at),
        lang: None,
        sentiment: None,
        engagement: media_engagement(e),
        reach: None,
        duplicates: Vec::new(),
        parent_id: None,
    }
}

/// Media RSS `<media:community>` (YouTube and podcast feeds): views and favourites (or the
/// number of star ratings) are the only engagement counters feeds carry.
fn media_engagement(e: &feed_rs::model::Entry) -> Engagement {
    let mut eng = Engagement::default();
    for c in e.media.iter().filter_map(|m| m.community.as_ref()) {
        eng.views = eng.views.or(c.stats_views);
        eng.likes = eng.likes.or(c.stats_favorites).or(c.stars_count);
    }
    eng
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entities_replaced() {
        assert_eq!(
            replace_html_entities("a&nbsp;b &amp; c &bogus; &#169;"),
            "a&#160;b &amp; c &amp;bogus; &#169;"
        );
    }

    #[test]
    fn truncated_rss_keeps_complete_items() {
        let doc = b"<rss version=\"2.0\"><channel><title>t</title><item><title>one</title><guid>1</guid></item><item><title>tw";
        let f = parse_feed(doc, "http://x/", None).unwrap();
        assert_eq!(f.entries.len(), 1);
        assert_eq!(f.entries[0].id, "1");
    }

    #[test]
    fn undeclared_cp1251_is_decoded() {
        let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode(
            "<rss version=\"2.0\"><channel><title>Новости</title><item><title>Привет, мир! Это тестовая новость о компании</title><guid>1</guid></item></channel></rss>",
        );
        let f = parse_feed(&bytes, "http://x/", Some("windows-1251")).unwrap();
        assert_eq!(
            f.entries[0].title.as_ref().unwrap().content,
            "Привет, мир! Это тестовая новость о компании"
        );
    }

    #[test]
    fn relative_links_resolve_against_the_feed() {
        let doc = br#"<rss version="2.0"><channel><title>t</title><item><title>x</title><link>/posts/1</link><description>&lt;p&gt;Hello &lt;b&gt;world&lt;/b&gt;&lt;/p&gt;</description></item></channel></rss>"#;
        let base = Url::parse("http://example.com/feeds/rss.xml").unwrap();
        let f = parse_feed(doc, base.as_str(), None).unwrap();
        let m = entry_to_mention(&f.entries[0], "news", &id_scope(&base), &base, Utc::now());
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
            entry_to_mention(&f.entries[0], "news", &id_scope(u), u, Utc::now()).id
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
