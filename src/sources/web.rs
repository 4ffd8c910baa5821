//! `kind = "web"`: a polite, bounded crawler for forums, blogs and news sites without an API
//! or a feed worth polling.
//!
//! A cycle starts from the `seeds` (pages, or sitemaps and sitemap indexes, also gzipped) and
//! follows links breadth-first up to `max_depth`, inside the `allow` scope (domains or URL
//! prefixes; by default the seeds' hosts), fetching at most `max_pages` pages. Every URL is
//! canonicalised first (`crawl::canon`), so one page is one mention, and `<link
//! rel=canonical>` is honoured.
//!
//! Politeness: robots.txt is obeyed for hark's User-Agent (allow/disallow with wildcards,
//! `Crawl-delay`), fetched once per host and cached for a day; a disallowed URL is never
//! requested. One request at a time per host, `delay` apart (or the robots `Crawl-delay`
//! when longer); with `delay = "0"`, up to `[http].per_host_concurrency` at once;
//! `concurrency` pages in flight over all hosts. A page fetched within `recrawl` is not
//! fetched again (seeds and sitemaps always are), and re-fetches are conditional
//! (ETag/Last-Modified).
//!
//! Content: only HTML; the charset comes from the BOM, the HTTP header or `<meta>`
//! (`crawl::charset`). A forum thread page (when the source has a `forum` preset or
//! `selectors`, or `forum = "auto"` recognises the software) becomes one mention per post,
//! and the thread's next pages are followed; any other page becomes one mention with its
//! main text (`crawl::extract`). Pages with no usable text are skipped.
//!
//! Dedup: texts of 20 words or more get a SimHash; a text within `simhash::NEAR` bits of a
//! stored one with a different URL (a syndicated copy, a quoted repost) is stored once, as
//! the earliest published: a later copy is dropped, an earlier one replaces the stored copy.
//!
//! Safety: page size (`max_page_size`), redirects and total time per page are the shared
//! fetcher's limits; crawler traps (endless calendars, session ids, repeated path segments,
//! redirect loops) are bounded by canonicalisation, `crawl::canon::looks_like_trap`, depth
//! and the page budget.

use super::settings::{CheckContext, KindConfig, at_least_one};
use super::{Batch, BuildError, PollReport, Source, SourceConfig, SourceContext, SourceId, rebase};
use crate::crawl::canon::{self, Allow};
use crate::crawl::forum::{self, Rules};
use crate::crawl::robots::Robots;
use crate::crawl::simhash::{self, NearDupIndex};
use crate::crawl::sitemap::{self, Sitemap};
use crate::crawl::{charset, extract};
use crate::fields::{ByteSize, FieldError, Period};
use crate::http::{FetchError, Outcome, RedirectScope, RequestOptions, redact};
use crate::mention::Mention;
use crate::state::StateUpdate;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use serde::Deserialize;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, mpsc};
use tokio::time::Instant;
use url::Url;

/// `kind = "web"` settings: the crawler's (README, "Web crawler").
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebConfig {
    /// Start URLs; sitemap URLs (`.xml`, `.xml.gz`, or a path with "sitemap") are read as
    /// sitemaps.
    pub seeds: Vec<String>,
    /// Domains or URL prefixes; default: the seeds' hosts.
    #[serde(default)]
    pub allow: Vec<String>,
    #[serde(default = "default_max_depth")]
    pub max_depth: usize,
    /// Pages fetched per cycle at most.
    #[serde(default = "default_max_pages")]
    pub max_pages: usize,
    /// A page fetched this recently is not fetched again (seeds and sitemaps always are).
    #[serde(default = "default_recrawl")]
    pub recrawl: Period,
    /// Pause between two requests to one host (a robots.txt `Crawl-delay` wins when longer).
    #[serde(default = "default_delay")]
    pub delay: Period,
    /// Pages in flight at once, all hosts together.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    #[serde(default = "default_max_page_size")]
    pub max_page_size: ByteSize,
    /// A forum preset (`phpbb`, `vbulletin`, `xenforo`, `discourse`) or `auto`.
    pub forum: Option<String>,
    /// CSS selectors that cut a forum thread page into posts.
    pub selectors: Option<forum::RuleSpec>,
}

fn default_max_depth() -> usize {
    2
}
fn default_max_pages() -> usize {
    200
}
fn default_recrawl() -> Period {
    Period(Duration::from_secs(24 * 3600))
}
fn default_delay() -> Period {
    Period(Duration::from_secs(1))
}
fn default_concurrency() -> usize {
    8
}
fn default_max_page_size() -> ByteSize {
    ByteSize(5 * 1024 * 1024)
}

impl WebConfig {
    /// A crawl of `seeds` with every other setting at its default.
    pub fn new(seeds: Vec<String>) -> WebConfig {
        WebConfig {
            seeds,
            allow: Vec::new(),
            max_depth: default_max_depth(),
            max_pages: default_max_pages(),
            recrawl: default_recrawl(),
            delay: default_delay(),
            concurrency: default_concurrency(),
            max_page_size: default_max_page_size(),
            forum: None,
            selectors: None,
        }
    }
}

/// The forum presets `forum = "..."` takes.
const FORUM_PRESETS: &[&str] = &["auto", "phpbb", "vbulletin", "xenforo", "discourse"];

impl KindConfig for WebConfig {
    const NAME: &'static str = "web";

    fn check(&mut self, at: &CheckContext<'_>) -> Result<(), FieldError> {
        if self.seeds.is_empty() {
            return Err(FieldError::invalid("seeds", "`seeds` is empty"));
        }
        if at.base_url.is_none() {
            for u in &self.seeds {
                crate::fields::parse_http_url(u)
                    .map_err(|e| FieldError::invalid("seeds", format!("`seeds`: {e}")))?;
            }
        }
        for rule in &self.allow {
            Allow::parse(rule)
                .map_err(|e| FieldError::invalid("allow", format!("`allow`: {e}")))?;
        }
        at_least_one("max_pages", self.max_pages)?;
        self.concurrency = self.concurrency.max(1);
        if let Some(f) = &mut self.forum {
            *f = f.trim().to_ascii_lowercase();
            if !FORUM_PRESETS.contains(&f.as_str()) {
                let mut msg = format!(
                    "`forum`: unknown preset `{f}` (known: {})",
                    FORUM_PRESETS.join(", ")
                );
                msg.push_str(&crate::fields::did_you_mean(f, FORUM_PRESETS));
                return Err(FieldError::invalid("forum", msg));
            }
        }
        if let Some(sel) = &self.selectors {
            Rules::compile(sel)
                .map_err(|e| FieldError::invalid("selectors", format!("`selectors`: {e}")))?;
        }
        Ok(())
    }

    fn build(&self, c: &SourceConfig, _: Vec<String>) -> Result<Box<dyn Source>, BuildError> {
        Ok(Box::new(WebSource::new(c, self)?))
    }
}

/// Texts shorter than this are not compared for near-duplicates (too little signal).
const SIMHASH_MIN_WORDS: usize = 20;
/// Article text shorter than this (characters) is not a mention: a navigation page.
const MIN_ARTICLE_CHARS: usize = 80;
/// How long a host's robots.txt is trusted.
const ROBOTS_TTL: Duration = Duration::from_secs(24 * 3600);

/// How forum pages are recognised.
enum ForumMode {
    None,
    Auto,
    Fixed(Arc<Rules>),
}

pub struct WebSource {
    name: String,
    interval: Duration,
    seeds: Vec<Url>,
    /// Shared with the fetcher as the redirect scope of every request.
    allow: Arc<Vec<Allow>>,
    max_depth: usize,
    max_pages: usize,
    recrawl: Duration,
    delay: Duration,
    concurrency: usize,
    max_page_bytes: u64,
    forum: ForumMode,
    /// Robots rules per origin, with when they expire.
    robots: Mutex<HashMap<String, (Arc<Robots>, Instant)>>,
    /// Near-duplicate fingerprints: loaded from the state store at the first poll.
    dedup: Mutex<Option<NearDupIndex<(String, i64)>>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TaskKind {
    Page,
    /// A forum thread's next page: followed whatever the depth.
    ThreadPage,
    Sitemap,
}

#[derive(Debug, Clone)]
struct Task {
    url: Url,
    depth: usize,
    kind: TaskKind,
}

/// What fetching one task produced.
#[derive(Default)]
struct Done {
    requests: usize,
    not_modified: bool,
    mentions: Vec<Mention>,
    /// Links found (already canonical), with the kind of task they make.
    found: Vec<(Url, TaskKind)>,
    checkpoint: Vec<StateUpdate>,
    /// The delay the host's robots.txt asks for.
    crawl_delay: Option<Duration>,
    error: Option<String>,
    /// The URL was not fetched: robots or scope said no, or it was fetched recently.
    skipped: bool,
    /// Fetched, but yielded no mention (logged with the reason).
    empty: bool,
}

/// Host state during a cycle.
#[derive(Default)]
struct Host {
    queue: VecDeque<Task>,
    in_flight: usize,
    next_at: Option<Instant>,
    delay: Duration,
}

fn origin(u: &Url) -> String {
    format!(
        "{}://{}:{}",
        u.scheme(),
        u.host_str().unwrap_or(""),
        u.port_or_known_default().unwrap_or(0)
    )
}

fn looks_like_sitemap(u: &Url) -> bool {
    let p = u.path().to_ascii_lowercase();
    p.ends_with(".xml") || p.ends_with(".xml.gz") || p.contains("sitemap")
}

impl WebSource {
    pub fn new(config: &SourceConfig, w: &WebConfig) -> Result<WebSource, BuildError> {
        let mut seeds = Vec::new();
        for s in &w.seeds {
            let u = rebase(s, config.base_url.as_ref())?;
            seeds.push(
                canon::canonical(&u)
                    .ok_or_else(|| BuildError::Settings(format!("seed `{s}`: not http(s)")))?,
            );
        }
        let allow = if w.allow.is_empty() {
            let mut hosts: Vec<String> = seeds
                .iter()
                .filter_map(|u| u.host_str().map(str::to_string))
                .collect();
            hosts.sort();
            hosts.dedup();
            hosts.into_iter().map(Allow::Domain).collect()
        } else {
            w.allow
                .iter()
                .map(|a| {
                    // With a base_url (tests, mirrors), prefixes move with the seeds.
                    let allowed = if a.contains("://") && config.base_url.is_some() {
                        Allow::parse(rebase(a, config.base_url.as_ref())?.as_str())
                    } else {
                        Allow::parse(a)
                    };
                    allowed.map_err(|e| BuildError::Setting {
                        key: "allow",
                        source: e.into(),
                    })
                })
                .collect::<Result<_, _>>()?
        };
        let forum = match (&w.selectors, w.forum.as_deref()) {
            (Some(sel), _) => ForumMode::Fixed(Arc::new(Rules::compile(sel).map_err(|e| {
                BuildError::Setting {
                    key: "selectors",
                    source: e.into(),
                }
            })?)),
            (None, Some("auto")) => ForumMode::Auto,
            (None, Some(name)) => {
                let spec = forum::preset(name).ok_or_else(|| {
                    BuildError::Settings(format!("unknown forum preset `{name}`"))
                })?;
                ForumMode::Fixed(Arc::new(Rules::compile(&spec).map_err(|e| {
                    BuildError::Setting {
                        key: "forum",
                        source: e.into(),
                    }
                })?))
            }
            (None, None) => ForumMode::None,
        };
        Ok(WebSource {
            name: config.name.clone(),
            interval: config.interval,
            seeds,
            allow: Arc::new(allow),
            max_depth: w.max_depth,
            max_pages: w.max_pages.max(1),
            recrawl: w.recrawl.0,
            delay: w.delay.0,
            concurrency: w.concurrency.max(1),
            max_page_bytes: w.max_page_size.0,
            forum,
            robots: Mutex::new(HashMap::new()),
            dedup: Mutex::new(None),
        })
    }

    fn in_scope(&self, u: &Url) -> bool {
        self.allow.iter().any(|a| a.covers(u))
    }

    /// The robots rules of `url`'s origin, fetched when not cached. A 4xx robots.txt allows
    /// everything and a 5xx or unreachable one disallows everything for 10 minutes (RFC 9309).
    /// Returns the rules and whether they were just fetched (their sitemaps are new).
    async fn robots_for(&self, ctx: &SourceContext, url: &Url) -> (Arc<Robots>, bool, usize) {
        let key = origin(url);
        // Held while fetching, so that tasks of a new host wait for one robots.txt request
        // instead of each sending their own.
        let mut cache = self.robots.lock().await;
        if let Some((r, expires)) = cache.get(&key)
            && Instant::now() < *expires
        {
            return (r.clone(), false, 0);
        }
        let mut robots_url = url.clone();
        robots_url.set_path("/robots.txt");
        robots_url.set_query(None);
        robots_url.set_fragment(None);
        let opts = RequestOptions {
            max_bytes: Some(512 * 1024),
            ..Default::default()
        };
        let (robots, keep) = match ctx.fetcher.get(&robots_url, &opts).await {
            Ok(Outcome::Fetched(f)) => (Robots::parse(&f.body), true),
            Ok(Outcome::NotModified) => (Robots::allow_all(), true),
            Err(FetchError::Status { status, .. }) if status.is_client_error() => {
                (Robots::allow_all(), true)
            }
            Err(FetchError::TooLarge { .. }) => (Robots::allow_all(), true),
            Err(e) => {
                tracing::warn!(source = %self.name, robots_url = %redact::url(&robots_url), error = %e, "robots.txt unavailable: not crawling this host for 10 minutes");
                (Robots::disallow_all(), false)
            }
        };
        let robots = Arc::new(robots);
        // An unavailable robots.txt is asked again after 10 minutes, not a day.
        let ttl = if keep {
            ROBOTS_TTL
        } else {
            Duration::from_secs(600)
        };
        cache.insert(key, (robots.clone(), Instant::now() + ttl));
        (robots, true, 1)
    }

    /// Fetches and processes one task.
    async fn run_task(&self, ctx: &SourceContext, task: &Task, fresh_robots: bool) -> Done {
        let mut done = Done::default();
        let ua = ctx.fetcher.config().user_agent.clone();
        let (robots, fetched_now, n) = self.robots_for(ctx, &task.url).await;
        done.requests += n;
        done.crawl_delay = robots.crawl_delay(&ua);
        if fetched_now || fresh_robots {
            for sm in robots.sitemaps() {
                if let Some(u) = Url::parse(sm).ok().and_then(|u| canon::canonical(&u)) {
                    done.found.push((u, TaskKind::Sitemap));
                }
            }
        }
        let path = match task.url.query() {
            Some(q) => format!("{}?{q}", task.url.path()),
            None => task.url.path().to_string(),
        };
        if !robots.is_allowed(&ua, &path) {
            tracing::debug!(source = %self.name, url = %redact::url(&task.url), "disallowed by robots.txt");
            done.skipped = true;
            return done;
        }
        let key = task.url.as_str();
        let recrawl_key = format!("fetched:{key}");
        let is_seed = task.depth == 0 && task.kind == TaskKind::Page;
        if !is_seed
            && task.kind != TaskKind::Sitemap
            && let Ok(Some(at)) = ctx.state.cursor(&self.name, &recrawl_key)
            && let Ok(at) = DateTime::parse_from_rfc3339(&at)
        {
            let age = Utc::now() - at.with_timezone(&Utc);
            if age.to_std().is_ok_and(|a| a < self.recrawl) {
                done.skipped = true;
                return done;
            }
        }
        let validators = if is_seed || task.kind == TaskKind::Sitemap {
            None
        } else {
            ctx.state.validators(&self.name, key).ok().flatten()
        };
        let opts = RequestOptions {
            headers: vec![(
                reqwest::header::ACCEPT,
                reqwest::header::HeaderValue::from_static(match task.kind {
                    TaskKind::Sitemap => {
                        "application/xml, text/xml;q=0.9, text/plain;q=0.5, */*;q=0.1"
                    }
                    _ => "text/html, application/xhtml+xml;q=0.9, */*;q=0.1",
                }),
            )],
            validators,
            max_bytes: Some(self.max_page_bytes),
            // A redirect out of the scope is not followed (not even requested).
            scope: Some(RedirectScope(Arc::new({
                let allow = Arc::clone(&self.allow);
                move |u: &Url| allow.iter().any(|a| a.covers(u))
            }))),
        };
        done.requests += 1;
        let fetched_at = Utc::now();
        let fetched = match ctx.fetcher.get(&task.url, &opts).await {
            Ok(Outcome::NotModified) => {
                done.not_modified = true;
                done.checkpoint.push(StateUpdate::Cursor {
                    source: self.name.clone(),
                    key: recrawl_key,
                    value: fetched_at.to_rfc3339(),
                });
                return done;
            }
            Ok(Outcome::Fetched(f)) => f,
            Err(e @ FetchError::OutOfScope { .. }) => {
                tracing::debug!(source = %self.name, error = %e, "skipped");
                done.skipped = true;
                return done;
            }
            Err(e) => {
                done.error = Some(e.to_string());
                return done;
            }
        };
        // A redirect may leave the scope: what is outside is not read.
        let final_url = canon::canonical(&fetched.final_url).unwrap_or_else(|| task.url.clone());
        if !self.in_scope(&final_url) {
            done.skipped = true;
            return done;
        }
        done.checkpoint.push(StateUpdate::Cursor {
            source: self.name.clone(),
            key: recrawl_key,
            value: fetched_at.to_rfc3339(),
        });
        if task.kind != TaskKind::Sitemap && !fetched.validators.is_empty() {
            done.checkpoint.push(StateUpdate::Validators {
                source: self.name.clone(),
                url: key.to_string(),
                validators: fetched.validators.clone(),
            });
        }
        let content_type = fetched.content_type().map(str::to_string);
        if task.kind == TaskKind::Sitemap {
            match sitemap::parse_sitemap(&fetched.body) {
                Ok(Sitemap::Index(list)) => {
                    done.found.extend(list.into_iter().filter_map(|e| {
                        Some((canon::resolve(&final_url, &e.loc)?, TaskKind::Sitemap))
                    }));
                }
                Ok(Sitemap::Urls(list)) => {
                    done.found.extend(list.into_iter().filter_map(|e| {
                        Some((canon::resolve(&final_url, &e.loc)?, TaskKind::Page))
                    }));
                }
                Err(e) => done.error = Some(format!("{}: sitemap: {e}", redact::url(&task.url))),
            }
            return done;
        }
        if !charset::is_html(content_type.as_deref()) {
            tracing::debug!(source = %self.name, url = %redact::url(&task.url), content_type = ?content_type, "not HTML: skipped");
            done.empty = task.kind != TaskKind::Sitemap;
            return done;
        }
        let body = fetched.body.clone();
        let mode = match &self.forum {
            ForumMode::None => PageMode::Article,
            ForumMode::Auto => PageMode::Auto,
            ForumMode::Fixed(r) => PageMode::Forum(r.clone()),
        };
        let page_url = final_url.clone();
        let processed = tokio::task::spawn_blocking(move || {
            process_page(&body, content_type.as_deref(), &page_url, &mode)
        })
        .await;
        let mut processed = match processed {
            Ok(Ok(p)) => p,
            Ok(Err(e)) => {
                done.error = Some(format!("{}: {e}", redact::url(&task.url)));
                return done;
            }
            Err(e) => {
                done.error = Some(format!(
                    "{}: extraction failed: {e}",
                    redact::url(&task.url)
                ));
                return done;
            }
        };
        for link in std::mem::take(&mut processed.links) {
            done.found.push((link, TaskKind::Page));
        }
        if let Some(next) = processed.next_page.take() {
            done.found.push((next, TaskKind::ThreadPage));
        }
        let why_empty = processed.why_empty();
        done.mentions = processed.into_mentions(&final_url, fetched_at);
        if done.mentions.is_empty() {
            tracing::debug!(source = %self.name, url = %redact::url(&task.url), reason = %why_empty, "page yielded no mention");
            done.empty = true;
        }
        done
    }

    /// Near-duplicate check of this cycle's new mentions against everything stored: a later
    /// copy is dropped; an earlier one replaces the stored copy.
    async fn dedup(
        &self,
        ctx: &SourceContext,
        mentions: Vec<Mention>,
        checkpoint: &mut Vec<StateUpdate>,
        retract: &mut Vec<String>,
        report: &mut PollReport,
    ) -> Vec<Mention> {
        let mut guard = self.dedup.lock().await;
        let index = match &mut *guard {
            Some(i) => i,
            None => {
                let mut i = NearDupIndex::new();
                match ctx.state.simhashes() {
                    Ok(rows) => {
                        for (fp, id, published) in rows {
                            i.insert(fp, (id, published));
                        }
                    }
                    Err(e) => report.errors.push(e.to_string()),
                }
                guard.insert(i)
            }
        };
        let mut kept = Vec::with_capacity(mentions.len());
        for m in mentions {
            if m.text.split_whitespace().count() < SIMHASH_MIN_WORDS {
                kept.push(m);
                continue;
            }
            let fp = simhash::simhash(&m.text);
            let published = m.published_at.timestamp();
            match index.find(fp, simhash::NEAR) {
                Some((_, (id, _))) if id == m.id => kept.push(m),
                Some((old_fp, (old_id, old_published))) => {
                    if old_published <= published {
                        tracing::info!(source = %self.name, id = %m.id, duplicate_of = %old_id, "near-duplicate of an earlier text: not stored");
                        continue;
                    }
                    tracing::info!(source = %self.name, id = %m.id, replaces = %old_id, "earlier copy of a stored text: replaces it");
                    index.remove(old_fp);
                    // The later copy may be in this very batch, not yet stored.
                    let before = kept.len();
                    kept.retain(|k: &Mention| k.id != old_id);
                    if kept.len() == before {
                        retract.push(old_id);
                    }
                    checkpoint.push(StateUpdate::SimhashDel { fp: old_fp });
                    index.insert(fp, (m.id.clone(), published));
                    checkpoint.push(StateUpdate::SimhashPut {
                        fp,
                        id: m.id.clone(),
                        published,
                    });
                    kept.push(m);
                }
                None => {
                    index.insert(fp, (m.id.clone(), published));
                    checkpoint.push(StateUpdate::SimhashPut {
                        fp,
                        id: m.id.clone(),
                        published,
                    });
                    kept.push(m);
                }
            }
        }
        kept
    }
}

enum PageMode {
    Article,
    Auto,
    Forum(Arc<Rules>),
}

/// What one HTML page yields, computed off the async threads.
struct Processed {
    links: Vec<Url>,
    next_page: Option<Url>,
    canonical: Option<Url>,
    thread: Option<forum::ThreadPage>,
    article: Option<extract::Article>,
}

/// Why a fetched page is not read.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error("page nested deeper than {0} elements: not parsed")]
    TooDeep(usize),
}

/// Parses and extracts one page. A page nested deeper than [`crate::html::MAX_NESTING`]
/// elements is refused before parsing (the parser's cost grows with the nesting depth; see
/// `html.rs`).
fn process_page(
    body: &[u8],
    content_type: Option<&str>,
    url: &Url,
    mode: &PageMode,
) -> Result<Processed, PageError> {
    let (text, _) = charset::decode_html(body, content_type);
    if crate::html::nesting_exceeds(&text, crate::html::MAX_NESTING) {
        return Err(PageError::TooDeep(crate::html::MAX_NESTING));
    }
    let doc = scraper::Html::parse_document(&text);
    let canonical = extract::canonical_url(&doc)
        .and_then(|c| canon::resolve(url, &c))
        .filter(|c| c.host_str() == url.host_str());
    let mut links: Vec<Url> = extract::links(&doc)
        .iter()
        .filter_map(|h| canon::resolve(url, h))
        .collect();
    if let Some(r) = extract::meta_refresh(&doc).and_then(|h| canon::resolve(url, &h)) {
        links.push(r);
    }
    let rules = match mode {
        PageMode::Article => None,
        PageMode::Forum(r) => Some(r.clone()),
        PageMode::Auto => forum::detect_preset(&doc)
            .and_then(forum::preset)
            .and_then(|spec| Rules::compile(&spec).ok())
            .map(Arc::new),
    };
    let thread = rules
        .map(|r| forum::extract_thread(&doc, url, &r))
        .filter(|t| !t.posts.is_empty());
    let next_page = thread
        .as_ref()
        .and_then(|t| t.next_page.as_ref())
        .and_then(canon::canonical);
    // A page without posts is read as an article (listings yield little main text and are
    // left out by the minimum length).
    let article = match thread {
        Some(_) => None,
        None => Some(extract::extract_article(&doc)),
    };
    Ok(Processed {
        links,
        next_page,
        canonical,
        thread,
        article,
    })
}

impl Processed {
    /// Why [`Processed::into_mentions`] would yield nothing (for the debug log).
    fn why_empty(&self) -> String {
        match (&self.thread, &self.article) {
            (Some(_), _) => "forum posts without text".into(),
            (None, Some(a)) => format!(
                "main text of {} characters, under the {MIN_ARTICLE_CHARS}-character minimum",
                a.text.chars().count()
            ),
            (None, None) => "no article found".into(),
        }
    }

    fn into_mentions(self, page_url: &Url, fetched_at: DateTime<Utc>) -> Vec<Mention> {
        let page = self.canonical.unwrap_or_else(|| page_url.clone());
        if let Some(thread) = self.thread {
            return thread
                .posts
                .into_iter()
                .filter(|p| !p.text.trim().is_empty())
                .map(|p| {
                    let url = p
                        .permalink
                        .as_deref()
                        .and_then(|l| Url::parse(l).ok())
                        .map(|u| {
                            // Keep the fragment: it is what tells posts of a page apart.
                            let frag = u.fragment().map(str::to_string);
                            let mut c = canon::canonical(&u).unwrap_or(u);
                            c.set_fragment(frag.as_deref());
                            c
                        })
                        .or_else(|| {
                            let mut u = page.clone();
                            u.set_fragment(
                                p.native_id
                                    .as_deref()
                                    .map(|id| format!("post-{id}"))
                                    .as_deref(),
                            );
                            Some(u)
                        })
                        .expect("a URL");
                    web_mention(
                        url.to_string(),
                        p.author,
                        thread.title.clone(),
                        p.text,
                        p.published.unwrap_or(fetched_at),
                    )
                })
                .collect();
        }
        match self.article {
            Some(a) if a.text.chars().count() >= MIN_ARTICLE_CHARS => {
                let mut m = web_mention(
                    page.to_string(),
                    a.author,
                    a.title,
                    a.text,
                    a.published.unwrap_or(fetched_at),
                );
                m.lang = a.lang.filter(|l| l.len() == 2);
                vec![m]
            }
            _ => vec![],
        }
    }
}

fn web_mention(
    url: String,
    author: Option<String>,
    title: Option<String>,
    text: String,
    published_at: DateTime<Utc>,
) -> Mention {
    let id = format!("web:{url}");
    Mention {
        source_kind: "web".into(),
        url: Some(url),
        author,
        title,
        text,
        ..Mention::new(id, published_at)
    }
}

impl Source for WebSource {
    fn id(&self) -> SourceId<'_> {
        SourceId {
            name: &self.name,
            kind: "web",
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
            let per_host_parallel = if self.delay.is_zero() {
                ctx.fetcher.config().per_host_concurrency.max(1)
            } else {
                1
            };
            let mut hosts: HashMap<String, Host> = HashMap::new();
            let mut seen: HashSet<String> = HashSet::new();
            let mut queued = 0usize;
            let mut enqueue = |hosts: &mut HashMap<String, Host>, task: Task| -> bool {
                if !self.in_scope(&task.url) || canon::looks_like_trap(&task.url) {
                    return false;
                }
                if !seen.insert(task.url.as_str().to_string()) {
                    return false;
                }
                let h = hosts.entry(origin(&task.url)).or_insert_with(|| Host {
                    delay: self.delay,
                    ..Default::default()
                });
                // Sitemaps and thread pages first: they lead to what is new.
                if task.kind == TaskKind::Page {
                    h.queue.push_back(task);
                } else {
                    h.queue.push_front(task);
                }
                true
            };
            for s in &self.seeds {
                let kind = if looks_like_sitemap(s) {
                    TaskKind::Sitemap
                } else {
                    TaskKind::Page
                };
                if enqueue(
                    &mut hosts,
                    Task {
                        url: s.clone(),
                        depth: 0,
                        kind,
                    },
                ) {
                    queued += 1;
                }
            }
            let mut fetched_pages = 0usize;
            let mut robots_seen: HashSet<String> = HashSet::new();
            let mut in_flight: FuturesUnordered<BoxFuture<'a, (String, Task, Done)>> =
                FuturesUnordered::new();
            let mut new_mentions: Vec<Mention> = Vec::new();
            let mut checkpoint: Vec<StateUpdate> = Vec::new();
            loop {
                // Dispatch every task whose host is ready, within the budgets.
                let now = Instant::now();
                let mut soonest: Option<Instant> = None;
                if fetched_pages < self.max_pages {
                    let mut ready: Vec<String> = hosts
                        .iter()
                        .filter(|(_, h)| !h.queue.is_empty() && h.in_flight < per_host_parallel)
                        .filter(|(_, h)| {
                            let ok = h.next_at.is_none_or(|t| t <= now);
                            if !ok {
                                soonest = Some(soonest.map_or(h.next_at.unwrap(), |s: Instant| {
                                    s.min(h.next_at.unwrap())
                                }));
                            }
                            ok
                        })
                        .map(|(k, _)| k.clone())
                        .collect();
                    ready.sort();
                    'fill: while in_flight.len() < self.concurrency
                        && fetched_pages + in_flight.len() < self.max_pages
                    {
                        let mut any = false;
                        for key in &ready {
                            if in_flight.len() >= self.concurrency
                                || fetched_pages + in_flight.len() >= self.max_pages
                            {
                                break 'fill;
                            }
                            let h = hosts.get_mut(key).expect("host");
                            if h.in_flight >= per_host_parallel
                                || h.next_at.is_some_and(|t| t > now)
                            {
                                continue;
                            }
                            let Some(task) = h.queue.pop_front() else {
                                continue;
                            };
                            h.in_flight += 1;
                            if !h.delay.is_zero() {
                                h.next_at = Some(now + h.delay);
                            }
                            let fresh = robots_seen.insert(key.clone());
                            let key = key.clone();
                            in_flight.push(Box::pin(async move {
                                let done = self.run_task(ctx, &task, fresh).await;
                                (key, task, done)
                            }));
                            any = true;
                        }
                        if !any {
                            break;
                        }
                    }
                }
                if in_flight.is_empty() {
                    let waiting = fetched_pages < self.max_pages
                        && hosts.values().any(|h| !h.queue.is_empty());
                    match (waiting, soonest) {
                        (true, Some(t)) => {
                            tokio::time::sleep_until(t).await;
                            continue;
                        }
                        _ => break,
                    }
                }
                let next = match soonest {
                    Some(t) => tokio::select! {
                        r = in_flight.next() => r,
                        _ = tokio::time::sleep_until(t) => continue,
                    },
                    None => in_flight.next().await,
                };
                let Some((key, task, done)) = next else {
                    continue;
                };
                let h = hosts.get_mut(&key).expect("host");
                h.in_flight -= 1;
                if let Some(cd) = done.crawl_delay
                    && cd > h.delay
                {
                    h.delay = cd;
                    h.next_at = Some(Instant::now() + cd);
                }
                report.requests += done.requests;
                if !done.skipped {
                    fetched_pages += 1;
                }
                if done.not_modified {
                    report.not_modified += 1;
                }
                if done.empty {
                    report.empty_pages += 1;
                }
                if let Some(e) = done.error {
                    tracing::warn!(source = %self.name, url = %redact::url(&task.url), error = %e, "page failed");
                    report.errors.push(e);
                }
                for (url, kind) in done.found {
                    let (depth, ok) = match kind {
                        TaskKind::Page => (task.depth + 1, task.depth < self.max_depth),
                        TaskKind::ThreadPage => (task.depth, true),
                        TaskKind::Sitemap => (task.depth, true),
                    };
                    // Pages a sitemap lists are entries, as seeds are.
                    let depth = if task.kind == TaskKind::Sitemap {
                        1.min(depth)
                    } else {
                        depth
                    };
                    let ok = ok || task.kind == TaskKind::Sitemap;
                    if ok && enqueue(&mut hosts, Task { url, depth, kind }) {
                        queued += 1;
                    }
                }
                checkpoint.extend(done.checkpoint);
                new_mentions.extend(done.mentions);
                // Send in batches of about 50 mentions so the index sees progress.
                if new_mentions.len() >= 50 {
                    let batch = std::mem::take(&mut new_mentions);
                    let cp = std::mem::take(&mut checkpoint);
                    if !self.send(ctx, out, batch, cp, &mut report).await {
                        return report;
                    }
                }
            }
            if !new_mentions.is_empty() || !checkpoint.is_empty() {
                self.send(ctx, out, new_mentions, checkpoint, &mut report)
                    .await;
            }
            let left = hosts.values().map(|h| h.queue.len()).sum::<usize>();
            if left > 0 {
                tracing::info!(source = %self.name, pages = fetched_pages, left, queued, "page budget (max_pages) reached; the rest waits for the next cycle");
            }
            report
        })
    }
}

impl WebSource {
    async fn send(
        &self,
        ctx: &SourceContext,
        out: &mpsc::Sender<Batch>,
        mentions: Vec<Mention>,
        mut checkpoint: Vec<StateUpdate>,
        report: &mut PollReport,
    ) -> bool {
        let mut retract = Vec::new();
        let now = Utc::now();
        let mentions: Vec<Mention> = mentions
            .into_iter()
            .map(|mut m| {
                m.source = self.name.clone();
                m.source_kind = "web".into();
                m.fetched_at = Some(now);
                m.finish();
                m
            })
            .collect();
        let mentions = self
            .dedup(ctx, mentions, &mut checkpoint, &mut retract, report)
            .await;
        report.items += mentions.len();
        let batch = Batch {
            source: self.name.clone(),
            mentions,
            lang_hint: None,
            checkpoint,
            retract,
        };
        if out.send(batch).await.is_err() {
            report.errors.push("pipeline closed".into());
            return false;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sitemap_urls_are_recognised() {
        for (u, want) in [
            ("https://e.com/sitemap.xml", true),
            ("https://e.com/sitemap_index.xml.gz", true),
            ("https://e.com/news-sitemap", true),
            ("https://e.com/forum/", false),
        ] {
            assert_eq!(looks_like_sitemap(&Url::parse(u).unwrap()), want, "{u}");
        }
    }
}
