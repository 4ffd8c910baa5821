//! The machinery every API poller shares, so that each source kind is only the part that is
//! really about its network: which endpoints to walk, how to ask for one page, and how to map
//! a response to mentions.
//!
//! A poll walks **streams**: one endpoint with one argument (a search term, a subreddit, a
//! hashtag), newest items first. For each stream hark keeps a **cursor** in the state store:
//! the publication time and native id of the newest item seen. A poll asks the API only for
//! what is newer than the cursor (each kind passes it in whatever form its API takes: a time
//! filter, `since_id`, a date), and walks pages until it reaches items at or before the
//! cursor, runs out of pages, or hits `max_pages`. The first poll of a stream backfills
//! `backfill` (default 7 days). The cursor travels behind the stream's mentions and is written
//! only after they are committed to the index; a walk that fails half-way sends what it got
//! and keeps the old cursor, so nothing between is skipped.
//!
//! Rate limits are honoured here, once for all kinds: a response whose rate-limit headers say
//! the budget is spent (`X-Ratelimit-Remaining` / `X-Rate-Limit-Remaining` /
//! `RateLimit-Remaining` at 0) closes the source's gate until the reset the headers name
//! (seconds, an epoch time or an ISO time, whichever the API uses); a body that asks to back
//! off (Stack Exchange `backoff`, VK error 6) does the same through [`Api::inspect`]; 429 and
//! `Retry-After` are handled by the shared fetcher. Waits longer than `max_wait` end the poll
//! with a clear error instead; the next poll starts after the reset.
//!
//! Items that cannot be mapped (a missing or renamed field: schema drift) are skipped with a
//! warning; the rest of the page is kept.

use super::SourceConfig;
use super::{Batch, PollReport, Source, SourceContext, SourceId, rebase};
use crate::http::{FetchError, Outcome, RequestOptions};
use crate::mention::Mention;
use crate::state::StateUpdate;
use bytes::Bytes;
use chrono::{DateTime, TimeZone, Utc};
use futures::StreamExt;
use futures::future::BoxFuture;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::Duration;
use tokio::sync::{Mutex, mpsc};
use tokio::time::Instant;

/// One endpoint walked newest-first: e.g. a search for one term, a subreddit's comments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stream {
    /// The cursor's key, unique within the source (e.g. `search:acme`, `r/rust/comments`).
    pub key: String,
    /// Which of the kind's endpoints (kind-specific: `search`, `comments`, `tag`, ...).
    pub endpoint: &'static str,
    /// Its argument: the search term, subreddit, hashtag, video id, ...
    pub arg: String,
}

impl Stream {
    pub fn new(endpoint: &'static str, arg: impl Into<String>) -> Stream {
        let arg = arg.into();
        Stream {
            key: format!("{endpoint}:{arg}"),
            endpoint,
            arg,
        }
    }
}

/// The newest item a stream has delivered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub time: DateTime<Utc>,
    /// The native id (without the `kind:` prefix) of the newest item, for APIs that page by id.
    #[serde(default)]
    pub id: Option<String>,
}

/// What a kind needs to build the request for one page.
#[derive(Debug, Clone, Copy)]
pub struct PageQuery<'a> {
    pub stream: &'a Stream,
    /// The newest item seen by earlier polls; `None` on the first poll (and for follow-ups).
    pub cursor: Option<&'a Cursor>,
    /// Oldest publication time wanted: the cursor's time, or now − backfill.
    pub since: DateTime<Utc>,
    /// The continuation token the previous page returned (`None` for the first page).
    pub page: Option<&'a str>,
    /// Items per page to ask for.
    pub page_size: usize,
    /// The session token, for kinds that log in ([`Api::session`]).
    pub token: Option<&'a str>,
}

impl<'a> PageQuery<'a> {
    /// The first page of `stream`, as asked on a first poll with an unbounded backfill (tests
    /// and tools).
    pub fn first_page(stream: &'a Stream) -> PageQuery<'a> {
        PageQuery {
            stream,
            cursor: None,
            since: DateTime::<Utc>::UNIX_EPOCH,
            page: None,
            page_size: 100,
            token: None,
        }
    }
}

/// One request: an absolute URL of the public endpoint (`base_url` is applied by the
/// framework), extra headers (auth, Accept), and for APIs that are queried by POST (TikTok's
/// Research API, Google Play's `batchexecute`) a body with its content type.
#[derive(Debug, Clone, Default)]
pub struct ApiRequest {
    pub url: String,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Option<(&'static str, Bytes)>,
}

impl ApiRequest {
    pub fn get(url: impl Into<String>) -> ApiRequest {
        ApiRequest {
            url: url.into(),
            headers: Vec::new(),
            body: None,
        }
    }

    /// A POST of `body` (of type `content_type`) to `url`.
    pub fn post(
        url: impl Into<String>,
        content_type: &'static str,
        body: impl Into<Bytes>,
    ) -> ApiRequest {
        ApiRequest {
            url: url.into(),
            headers: Vec::new(),
            body: Some((content_type, body.into())),
        }
    }

    /// Adds a header; values that are not valid header text (a token with a newline) are an
    /// error naming the header.
    pub fn header(mut self, name: &'static str, value: &str) -> Result<ApiRequest, ShapeError> {
        let v = HeaderValue::from_str(value).map_err(|_| ShapeError::Header(name))?;
        self.headers.push((HeaderName::from_static(name), v));
        Ok(self)
    }

    pub fn bearer(self, token: &str) -> Result<ApiRequest, ShapeError> {
        self.header("authorization", &format!("Bearer {token}"))
    }
}

/// A parsed page.
#[derive(Debug, Default)]
pub struct Page {
    pub items: Vec<Mention>,
    /// The token for the next (older) page, if there is one.
    pub next: Option<String>,
    /// Items that could not be mapped, one warning each (schema drift).
    pub skipped: Vec<String>,
    /// Dependent streams to walk in this poll: a found video's comments, a question's
    /// answers. They are walked with the parent's `since` and no cursor of their own.
    pub follow: Vec<Stream>,
}

impl Page {
    /// Maps each item of a response (`what` names them in warnings): mapped items are kept,
    /// unmappable ones noted as skipped (schema drift), and `follow` may name a dependent
    /// stream for a mapped item (its comments).
    pub fn map_items(
        &mut self,
        what: &str,
        items: &[Value],
        map: impl Fn(&Value) -> Result<Mention, ShapeError>,
        follow: impl Fn(&Value, &Mention) -> Option<Stream>,
    ) {
        for (i, item) in items.iter().enumerate() {
            match map(item) {
                Ok(m) => {
                    self.follow.extend(follow(item, &m));
                    self.items.push(m);
                }
                Err(e) => self.skipped.push(format!("{what} {i}: {e}")),
            }
        }
    }
}

/// What a 2xx body says about rate limits or errors (APIs that report them in the body).
#[derive(Debug, Clone, PartialEq)]
pub enum BodySignal {
    Ok,
    /// Use the body, but send nothing more to this API for this long (Stack Exchange
    /// `backoff`).
    Backoff(Duration),
    /// The request was refused for now: wait this long and send it again (VK error 6).
    Retry(Duration, String),
    /// The request failed (VK error 5: bad token).
    Fail(String),
}

/// A log-in request whose answer holds a token for the following requests (Reddit OAuth's
/// client-credentials grant, Bluesky's `createSession`).
#[derive(Debug, Clone)]
pub struct SessionRequest {
    pub url: String,
    pub content_type: &'static str,
    pub body: Bytes,
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

/// One API family. Implementations are pure: they build URLs and map JSON; the framework
/// does the fetching, paging, cursors, rate limits and error handling.
pub trait Api: Send + Sync + 'static {
    fn kind(&self) -> &'static str;
    /// The streams to walk in one poll, given the search terms of the queries that use this
    /// source.
    fn streams(&self, terms: &[String]) -> Vec<Stream>;
    /// The request for one page of `q.stream`.
    fn request(&self, q: &PageQuery<'_>) -> Result<ApiRequest, ShapeError>;
    /// Maps the response to the request `q` described. `Err` means the whole response is
    /// unusable (e.g. not the expected shape at all); a single bad item goes to
    /// `Page::skipped` instead.
    fn parse(&self, q: &PageQuery<'_>, body: &Value) -> Result<Page, ShapeError>;
    /// Rate-limit or error signals inside a 2xx body.
    fn inspect(&self, _body: &Value) -> BodySignal {
        BodySignal::Ok
    }
    /// How long to pause after a response whose kind-specific headers say a quota is nearly
    /// spent (Meta's `X-App-Usage`); the common `*-RateLimit-*` headers are read for every
    /// kind.
    fn usage_wait(&self, _headers: &HeaderMap) -> Option<Duration> {
        None
    }
    /// The least time between two requests of one source, for APIs without published
    /// limits that ask to be polled gently (Google Play's web endpoint).
    fn min_spacing(&self) -> Option<Duration> {
        None
    }
    /// Turns a 2xx body into JSON. Most APIs answer JSON; a kind whose API wraps it (Google
    /// Play's `)]}'`-prefixed envelope) unwraps it here.
    fn decode(&self, body: &[u8]) -> Result<Value, ShapeError> {
        Ok(serde_json::from_slice(body)?)
    }
    /// A log-in to perform before the first request of a poll, when credentials are set.
    fn session(&self) -> Option<SessionRequest> {
        None
    }
    /// The token in the log-in response.
    fn session_token(&self, _body: &Value) -> Result<String, ShapeError> {
        Err("this source does not log in".into())
    }
}

/// Settings every API source has (see the README's source reference).
#[derive(Debug, Clone)]
pub struct ApiSettings {
    pub name: String,
    pub interval: Duration,
    pub base_url: Option<url::Url>,
    /// The search terms of the queries that use this source, deduplicated.
    pub terms: Vec<String>,
    pub max_pages: usize,
    pub page_size: usize,
    pub backfill: Duration,
    /// Longest rate-limit wait accepted inside a poll.
    pub max_wait: Duration,
    /// Streams walked at the same time.
    pub concurrency: usize,
}

impl ApiSettings {
    pub fn from_config(config: &SourceConfig, terms: Vec<String>) -> ApiSettings {
        ApiSettings {
            name: config.name.clone(),
            interval: config.interval,
            base_url: config.base_url.clone(),
            terms,
            max_pages: config.paging.max_pages.max(1),
            page_size: config.paging.page_size.max(1),
            backfill: config.paging.backfill.0,
            max_wait: Duration::from_secs(15 * 60),
            concurrency: 4,
        }
    }
}

/// Session tokens are renewed after this long (Bluesky's access tokens live about two
/// hours, Reddit's a day), so a long `hark run` never works with an expired one.
const SESSION_LIFETIME: Duration = Duration::from_secs(3600);

/// An API family as a [`Source`].
pub struct ApiSource<A: Api> {
    api: A,
    settings: ApiSettings,
    /// Nothing is sent to the API before this instant (rate limits).
    gate: Mutex<Option<Instant>>,
    /// The session token of a kind that logs in, and when it was obtained.
    session: Mutex<Option<(String, Instant)>>,
}

/// Errors of one request, for reports and logs.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    // URLs are shown with their credentials masked (YouTube's `key=`, VK's `access_token=`).
    #[error(
        "{}: HTTP {status}: access refused: credentials were rejected or lack permission{hint}",
        crate::http::redact::url_str(url)
    )]
    Auth {
        url: String,
        status: u16,
        hint: String,
    },
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error(
        "{}: the response is not valid JSON (truncated?): {source}",
        crate::http::redact::url_str(url)
    )]
    Json {
        url: String,
        #[source]
        source: ShapeError,
    },
    #[error("{}: {message}", crate::http::redact::url_str(url))]
    Api { url: String, message: String },
    #[error("{0}")]
    Other(String),
    #[error("cannot build the request: {0}")]
    Request(#[from] ShapeError),
}

/// Why a response (or one item of it) cannot be used, or a request cannot be built: the
/// shape of the data is not what the kind expects (schema drift, an unknown stream).
#[derive(Debug, thiserror::Error)]
pub enum ShapeError {
    /// A required field is absent or of the wrong type.
    #[error("missing or invalid `{0}`")]
    Missing(String),
    #[error("`{0}` is not a list")]
    NotAList(String),
    #[error("`{kind}` has no `{endpoint}` endpoint")]
    Endpoint {
        kind: &'static str,
        endpoint: String,
    },
    #[error("the value for the `{0}` header is not valid header text")]
    Header(&'static str),
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// What the data is instead of what was expected, in the kind's words.
    #[error("{0}")]
    Unexpected(String),
}

impl From<&'static str> for ShapeError {
    fn from(what: &'static str) -> ShapeError {
        ShapeError::Unexpected(what.to_string())
    }
}

/// The outcome of walking one stream.
struct Walk {
    mentions: Vec<Mention>,
    cursor: Option<Cursor>,
    requests: usize,
    errors: Vec<String>,
}

impl<A: Api> ApiSource<A> {
    pub fn new(api: A, settings: ApiSettings) -> ApiSource<A> {
        ApiSource {
            api,
            settings,
            gate: Mutex::new(None),
            session: Mutex::new(None),
        }
    }

    /// Waits for the rate-limit gate; fails when it is further away than `max_wait`.
    async fn pass_gate(&self) -> Result<(), ApiError> {
        let until = *self.gate.lock().await;
        if let Some(until) = until {
            let now = Instant::now();
            if until > now {
                let wait = until - now;
                if wait > self.settings.max_wait {
                    return Err(ApiError::Other(format!(
                        "rate limit: the API asks to wait {}s, more than the {}s a poll waits; trying again next poll",
                        wait.as_secs(),
                        self.settings.max_wait.as_secs()
                    )));
                }
                tracing::info!(source = %self.settings.name, wait_ms = wait.as_millis() as u64, "waiting for the API's rate limit");
                tokio::time::sleep(wait).await;
            }
        }
        Ok(())
    }

    async fn close_gate_for(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut g = self.gate.lock().await;
        if g.is_none_or(|g| g < until) {
            *g = Some(until);
        }
    }

    #[allow(clippy::result_large_err)] // ApiError carries the failed fetch; errors are rare
    fn url(&self, url: &str) -> Result<url::Url, ApiError> {
        rebase(url, self.settings.base_url.as_ref()).map_err(|e| ApiError::Other(e.to_string()))
    }

    /// GET (or POST, for a log-in) and parse JSON, with the rate-limit gate and body
    /// signals handled.
    async fn fetch_json(
        &self,
        ctx: &SourceContext,
        req: &ApiRequest,
        post: Option<(&'static str, Bytes)>,
    ) -> Result<Value, ApiError> {
        let url = self.url(&req.url)?;
        let opts = RequestOptions {
            headers: req.headers.clone(),
            validators: None,
            max_bytes: None,
            scope: None,
        };
        let mut retries = 0;
        loop {
            self.pass_gate().await?;
            let result = match &post {
                None => ctx.fetcher.get(&url, &opts).await,
                Some((ct, body)) => ctx.fetcher.post(&url, &opts, ct, body.clone()).await,
            };
            let fetched = match result {
                Ok(Outcome::Fetched(f)) => f,
                Ok(Outcome::NotModified) => {
                    return Err(ApiError::Api {
                        url: url.to_string(),
                        message: "unexpected 304 Not Modified".into(),
                    });
                }
                Err(FetchError::Status { url, status }) if status == 401 || status == 403 => {
                    return Err(ApiError::Auth {
                        url: url.to_string(),
                        status: status.as_u16(),
                        hint: String::new(),
                    });
                }
                // A Retry-After longer than the fetcher waits by itself (`max_retry_wait`):
                // API sources wait it out, up to `max_wait`, instead of failing.
                Err(FetchError::RateLimited { wait, .. })
                    if retries < 5 && wait <= self.settings.max_wait =>
                {
                    tracing::info!(source = %self.settings.name, wait_s = wait.as_secs_f64(), "429: waiting as Retry-After asks");
                    self.close_gate_for(wait).await;
                    retries += 1;
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            if let Some(wait) = rate_limit_wait(&fetched.headers, Utc::now())
                .or_else(|| self.api.usage_wait(&fetched.headers))
            {
                tracing::info!(source = %self.settings.name, wait_s = wait.as_secs_f64(), "rate-limit budget spent; pausing requests until the reset");
                self.close_gate_for(wait).await;
            }
            if let Some(spacing) = self.api.min_spacing() {
                self.close_gate_for(spacing).await;
            }
            let body: Value = self
                .api
                .decode(&fetched.body)
                .map_err(|source| ApiError::Json {
                    url: url.to_string(),
                    source,
                })?;
            match self.api.inspect(&body) {
                BodySignal::Ok => return Ok(body),
                BodySignal::Backoff(d) => {
                    self.close_gate_for(d).await;
                    return Ok(body);
                }
                BodySignal::Retry(d, why) if retries < 5 => {
                    tracing::warn!(source = %self.settings.name, %why, wait_ms = d.as_millis() as u64, "API asks to slow down; retrying");
                    self.close_gate_for(d).await;
                    retries += 1;
                }
                BodySignal::Retry(_, why) | BodySignal::Fail(why) => {
                    return Err(ApiError::Api {
                        url: url.to_string(),
                        message: why,
                    });
                }
            }
        }
    }

    /// The session token, logging in when the kind needs it and none is held.
    async fn token(&self, ctx: &SourceContext) -> Result<Option<String>, ApiError> {
        let Some(login) = self.api.session() else {
            return Ok(None);
        };
        let mut held = self.session.lock().await;
        if let Some((t, at)) = held.as_ref()
            && at.elapsed() < SESSION_LIFETIME
        {
            return Ok(Some(t.clone()));
        }
        let req = ApiRequest {
            url: login.url.clone(),
            headers: login.headers.clone(),
            body: None,
        };
        let body = self
            .fetch_json(ctx, &req, Some((login.content_type, login.body.clone())))
            .await
            .map_err(|e| ApiError::Other(format!("log-in failed: {e}")))?;
        let token = self
            .api
            .session_token(&body)
            .map_err(|e| ApiError::Other(format!("log-in failed: {e}")))?;
        *held = Some((token.clone(), Instant::now()));
        Ok(Some(token))
    }

    /// Walks one stream (and the follow-up streams its pages name).
    async fn walk(&self, ctx: &SourceContext, stream: &Stream, token: Option<&str>) -> Walk {
        let mut walk = Walk {
            mentions: Vec::new(),
            cursor: None,
            requests: 0,
            errors: Vec::new(),
        };
        let old = match ctx.state.cursor(&self.settings.name, &stream.key) {
            Ok(c) => c.and_then(|c| serde_json::from_str::<Cursor>(&c).ok()),
            Err(e) => {
                walk.errors.push(e.to_string());
                return walk;
            }
        };
        let since = old.as_ref().map_or_else(
            || {
                Utc::now()
                    - chrono::Duration::from_std(self.settings.backfill)
                        .unwrap_or(chrono::Duration::days(7))
            },
            |c| c.time,
        );
        let mut follow = Vec::new();
        let (complete, newest) = self
            .walk_pages(
                ctx,
                stream,
                old.as_ref(),
                since,
                token,
                &mut walk,
                &mut follow,
            )
            .await;
        // Follow-ups (deduplicated) are walked after the parent, without cursors.
        let mut seen_follow = std::collections::HashSet::new();
        follow.retain(|s: &Stream| seen_follow.insert(s.key.clone()));
        let mut no_more = Vec::new();
        for f in &follow {
            self.walk_pages(ctx, f, None, since, token, &mut walk, &mut no_more)
                .await;
        }
        // The new cursor: the newest item of the main stream (follow-ups don't move it),
        // only when the walk was not cut short by an error.
        if complete {
            walk.cursor = match (newest, &old) {
                (Some(n), Some(o)) if n.time < o.time => None,
                (n, _) => n,
            };
        }
        walk
    }

    /// Pages through one stream. Returns whether the walk ended normally (reached old items,
    /// the last page or the page cap) rather than on an error, and the newest item seen.
    #[allow(clippy::too_many_arguments)]
    async fn walk_pages(
        &self,
        ctx: &SourceContext,
        stream: &Stream,
        cursor: Option<&Cursor>,
        since: DateTime<Utc>,
        token: Option<&str>,
        walk: &mut Walk,
        follow: &mut Vec<Stream>,
    ) -> (bool, Option<Cursor>) {
        let mut page_token: Option<String> = None;
        let mut newest: Option<Cursor> = None;
        let fetched_at = Utc::now();
        for page_no in 0..self.settings.max_pages {
            let q = PageQuery {
                stream,
                cursor,
                since,
                page: page_token.as_deref(),
                page_size: self.settings.page_size,
                token,
            };
            let result = async {
                let req = self.api.request(&q)?;
                let body = self.fetch_json(ctx, &req, req.body.clone()).await?;
                self.api.parse(&q, &body).map_err(|e| ApiError::Api {
                    url: req.url.clone(),
                    message: format!("unexpected response: {e}"),
                })
            };
            walk.requests += 1;
            let page = match result.await {
                Ok(p) => p,
                Err(e) => {
                    // A refused session token (401/403; Bluesky answers an expired one with
                    // 400 ExpiredToken) is fetched again next poll.
                    let refused = match &e {
                        ApiError::Auth { .. } => true,
                        ApiError::Fetch(FetchError::Status { status, .. }) => *status == 400,
                        _ => false,
                    };
                    if refused {
                        *self.session.lock().await = None;
                    }
                    walk.errors.push(format!("{}: {e}", stream.key));
                    return (false, newest);
                }
            };
            for w in &page.skipped {
                tracing::warn!(source = %self.settings.name, stream = %stream.key, "skipped an item: {w}");
            }
            let mut reached_old = page.items.is_empty();
            for mut m in page.items {
                if m.published_at < since {
                    // Older than what this walk wants: no need for further pages.
                    reached_old = true;
                    // Items at or before the cursor were delivered by an earlier poll. On a
                    // first poll, an API that ignored the backfill filter still gave real
                    // mentions: they are kept.
                    if cursor.is_some() {
                        continue;
                    }
                }
                let native = m.id.split_once(':').map_or(m.id.as_str(), |(_, id)| id);
                if cursor
                    .is_some_and(|c| c.time == m.published_at && c.id.as_deref() == Some(native))
                {
                    continue;
                }
                m.source = self.settings.name.clone();
                m.source_kind = self.api.kind().to_string();
                m.fetched_at = Some(fetched_at);
                let native = m.id.split_once(':').map_or(m.id.as_str(), |(_, id)| id);
                if newest.as_ref().is_none_or(|n| {
                    (m.published_at, native) > (n.time, n.id.as_deref().unwrap_or(""))
                }) {
                    newest = Some(Cursor {
                        time: m.published_at,
                        id: Some(native.to_string()),
                    });
                }
                m.finish();
                walk.mentions.push(m);
            }
            follow.extend(page.follow);
            match page.next {
                Some(next) if !reached_old && page_token.as_deref() != Some(next.as_str()) => {
                    page_token = Some(next);
                }
                _ => return (true, newest),
            }
            if page_no + 1 == self.settings.max_pages {
                tracing::info!(source = %self.settings.name, stream = %stream.key, max_pages = self.settings.max_pages, "page cap reached; older items of this poll are left out");
            }
        }
        (true, newest)
    }
}

impl<A: Api> Source for ApiSource<A> {
    fn id(&self) -> SourceId<'_> {
        SourceId {
            name: &self.settings.name,
            kind: self.api.kind(),
            interval: self.settings.interval,
        }
    }

    fn poll<'a>(
        &'a self,
        ctx: &'a SourceContext,
        out: &'a mpsc::Sender<Batch>,
    ) -> BoxFuture<'a, PollReport> {
        Box::pin(async move {
            let mut report = PollReport::new(&self.settings.name);
            let token = match self.token(ctx).await {
                Ok(t) => t,
                Err(e) => {
                    tracing::error!(source = %self.settings.name, error = %e, "poll failed");
                    report.requests += 1;
                    report.errors.push(e.to_string());
                    return report;
                }
            };
            let streams = self.api.streams(&self.settings.terms);
            let token = token.as_deref();
            let futs: Vec<BoxFuture<'_, (&Stream, Walk)>> = streams
                .iter()
                .map(|s| -> BoxFuture<'_, (&Stream, Walk)> {
                    Box::pin(async move { (s, self.walk(ctx, s, token).await) })
                })
                .collect();
            // Walked concurrently, delivered in the kind's stream order: when two streams carry
            // the same item (a Discourse search hit's blurb, and the full post in `latest`),
            // the later stream's copy is the one the index keeps, every time.
            let mut walks = futures::stream::iter(futs).buffered(self.settings.concurrency.max(1));
            while let Some((stream, walk)) = walks.next().await {
                report.requests += walk.requests;
                report.items += walk.mentions.len();
                for e in &walk.errors {
                    tracing::error!(source = %self.settings.name, error = %e, "request failed");
                }
                report.errors.extend(walk.errors);
                let checkpoint = walk
                    .cursor
                    .map(|c| StateUpdate::Cursor {
                        source: self.settings.name.clone(),
                        key: stream.key.clone(),
                        value: serde_json::to_string(&c).expect("cursor serialises"),
                    })
                    .into_iter()
                    .collect();
                let batch = Batch {
                    source: self.settings.name.clone(),
                    mentions: walk.mentions,
                    lang_hint: None,
                    checkpoint,
                    retract: Vec::new(),
                };
                if out.send(batch).await.is_err() {
                    report.errors.push("pipeline closed".into());
                    break;
                }
            }
            report
        })
    }
}

/// How long to pause when rate-limit headers say the budget is spent. Understands the
/// Reddit/Mastodon (`X-Ratelimit-*`), X (`X-Rate-Limit-*`) and IETF draft (`RateLimit-*`)
/// spellings; the reset may be seconds from now, an epoch time or an ISO 8601 time.
pub fn rate_limit_wait(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    const PAIRS: &[(&str, &str)] = &[
        ("x-ratelimit-remaining", "x-ratelimit-reset"),
        ("x-rate-limit-remaining", "x-rate-limit-reset"),
        ("ratelimit-remaining", "ratelimit-reset"),
    ];
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    for (remaining, reset) in PAIRS {
        let Some(left) = get(remaining).and_then(|v| v.trim().parse::<f64>().ok()) else {
            continue;
        };
        if left >= 1.0 {
            return None;
        }
        let wait = get(reset)
            .and_then(|r| parse_reset(r, now))
            .unwrap_or(Duration::from_secs(60));
        return Some(wait);
    }
    None
}

fn parse_reset(v: &str, now: DateTime<Utc>) -> Option<Duration> {
    let v = v.trim();
    let until = |t: DateTime<Utc>| (t - now).to_std().unwrap_or(Duration::ZERO);
    if let Ok(n) = v.parse::<f64>() {
        if !n.is_finite() || n < 0.0 {
            return None;
        }
        // Epoch seconds are large; a delta is small.
        if n > 1e9 {
            return Some(until(Utc.timestamp_opt(n as i64, 0).single()?));
        }
        return Some(Duration::from_secs_f64(n));
    }
    crate::timeutil::parse_timestamp(v).ok().map(until)
}

/// Helpers for mapping JSON responses, tolerant of numbers sent as strings and vice versa.
pub mod pick {
    use super::ShapeError;
    use chrono::{DateTime, TimeZone, Utc};
    use serde_json::Value;

    /// A string (or a number, as text) at a JSON pointer, non-empty.
    pub fn str_at(v: &Value, ptr: &str) -> Option<String> {
        match v.pointer(ptr)? {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    /// A non-negative integer at a JSON pointer (numbers, or digits in a string).
    pub fn u64_at(v: &Value, ptr: &str) -> Option<u64> {
        match v.pointer(ptr)? {
            Value::Number(n) => n
                .as_u64()
                .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// A time at a JSON pointer: RFC 3339 / ISO 8601 text, or epoch seconds.
    pub fn time_at(v: &Value, ptr: &str) -> Option<DateTime<Utc>> {
        match v.pointer(ptr)? {
            Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
                Utc.timestamp_opt(s.parse().ok()?, 0).single()
            }
            Value::String(s) => crate::timeutil::parse_timestamp(s).ok(),
            Value::Number(n) => {
                let secs = n.as_f64()?;
                Utc.timestamp_opt(secs.trunc() as i64, (secs.fract() * 1e9) as u32)
                    .single()
            }
            _ => None,
        }
    }

    /// HTML reduced to text (entities decoded).
    pub fn html_text(s: &str) -> String {
        crate::html::to_text(s)
    }

    /// A list that an API may leave out (or send as `null`) when it is empty; anything else
    /// than a list is an error naming `what`.
    pub fn optional_list<'a>(v: Option<&'a Value>, what: &str) -> Result<&'a [Value], ShapeError> {
        match v {
            None | Some(Value::Null) => Ok(&[]),
            Some(Value::Array(a)) => Ok(a),
            Some(_) => Err(ShapeError::NotAList(what.to_string())),
        }
    }

    /// A required field, or an error naming it (for `Page::skipped`).
    pub fn need<T>(x: Option<T>, what: &str) -> Result<T, ShapeError> {
        x.ok_or_else(|| ShapeError::Missing(what.to_string()))
    }
}

/// A search term as most APIs take a phrase: multi-word terms in double quotes.
pub fn phrase(term: &str) -> String {
    if term.contains(char::is_whitespace) {
        format!("\"{term}\"")
    } else {
        term.to_string()
    }
}

/// One `search` stream per distinct term, in order (stream keys must be unique: each has
/// its own cursor).
pub fn search_streams(terms: &[String]) -> Vec<Stream> {
    let mut seen = std::collections::HashSet::new();
    terms
        .iter()
        .filter(|t| seen.insert(t.as_str()))
        .map(|t| Stream::new("search", t))
        .collect()
}

/// A recorded response `fixtures/KIND/NAME` (the repository's copy, else `../shared`), for
/// the kinds' tests; None when it is not available here (the test then returns early).
#[cfg(test)]
pub fn fixture(kind: &str, name: &str) -> Option<Value> {
    let bytes = crate::testdata::fixture_bytes(&format!("{kind}/{name}"))?;
    Some(serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{kind}/{name}: {e}")))
}

/// One `reviews` stream per storefront country and app (`us/284815942`): the app-store
/// kinds.
pub fn storefront_streams(countries: &[String], apps: &[String]) -> Vec<Stream> {
    countries
        .iter()
        .flat_map(|cc| {
            apps.iter()
                .map(move |app| Stream::new("reviews", format!("{cc}/{app}")))
        })
        .collect()
}

/// The country and app of a [`storefront_streams`] stream.
pub fn storefront(stream: &Stream) -> Result<(&str, &str), ShapeError> {
    stream.arg.split_once('/').ok_or_else(|| {
        ShapeError::Unexpected(format!("`{}` is not a country/app stream", stream.arg))
    })
}

/// Percent-encodes a query-string value.
pub fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    #[test]
    fn rate_limit_headers_in_each_spelling() {
        let now = Utc.with_ymd_and_hms(2026, 11, 26, 10, 0, 0).unwrap();
        // Reddit: remaining as a float, reset in seconds.
        let h = headers(&[
            ("x-ratelimit-remaining", "0.0"),
            ("x-ratelimit-reset", "42"),
        ]);
        assert_eq!(rate_limit_wait(&h, now), Some(Duration::from_secs(42)));
        let h = headers(&[
            ("x-ratelimit-remaining", "598.0"),
            ("x-ratelimit-reset", "42"),
        ]);
        assert_eq!(rate_limit_wait(&h, now), None);
        // Mastodon: reset as an ISO time.
        let h = headers(&[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "2026-11-26T10:05:00.000Z"),
        ]);
        assert_eq!(rate_limit_wait(&h, now), Some(Duration::from_secs(300)));
        // X: epoch seconds.
        let reset = (now.timestamp() + 90).to_string();
        let h = headers(&[
            ("x-rate-limit-remaining", "0"),
            ("x-rate-limit-reset", &reset),
        ]);
        assert_eq!(rate_limit_wait(&h, now), Some(Duration::from_secs(90)));
        // No reset given: a minute.
        let h = headers(&[("ratelimit-remaining", "0")]);
        assert_eq!(rate_limit_wait(&h, now), Some(Duration::from_secs(60)));
        assert_eq!(rate_limit_wait(&HeaderMap::new(), now), None);
    }

    #[test]
    fn pick_is_tolerant() {
        let v: Value = serde_json::json!({"a": "12", "b": 3.0, "t": 1700000000, "s": "2026-11-26T10:00:00Z", "e": ""});
        assert_eq!(pick::u64_at(&v, "/a"), Some(12));
        assert_eq!(pick::u64_at(&v, "/b"), Some(3));
        assert_eq!(pick::str_at(&v, "/b").as_deref(), Some("3.0"));
        assert_eq!(pick::str_at(&v, "/e"), None);
        assert_eq!(pick::time_at(&v, "/t").unwrap().timestamp(), 1_700_000_000);
        assert_eq!(
            pick::time_at(&v, "/s").unwrap(),
            Utc.with_ymd_and_hms(2026, 11, 26, 10, 0, 0).unwrap()
        );
        assert!(pick::need(pick::str_at(&v, "/zz"), "id").is_err());
    }
}
