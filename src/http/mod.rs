//! Shared HTTP fetching: the one place every source goes through, so timeouts, body limits,
//! compression, redirects, the User-Agent, per-host concurrency, retries with backoff that
//! honour `Retry-After`, and conditional requests behave the same everywhere. Redirects are
//! followed here, hop by hop, so that every hop passes the outbound-connection policy
//! ([`policy`]) and the caller's scope before it is requested; URLs in errors and logs have
//! their credentials masked ([`redact`]).

pub mod policy;
pub mod redact;
pub mod settings;

pub use policy::OutboundPolicy;

use bytes::Bytes;
use futures::StreamExt;
use rand::Rng;
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap, HeaderValue};
use serde::{Deserialize, Serialize};
pub use settings::HttpConfig;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;
use url::Url;

/// Validators of a previous response, sent back to ask "only if changed".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

impl Validators {
    pub fn is_empty(&self) -> bool {
        self.etag.is_none() && self.last_modified.is_none()
    }
}

/// A successful (2xx) response, body read in full within the size limit.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub status: StatusCode,
    /// After redirects.
    pub final_url: Url,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub validators: Validators,
}

impl Fetched {
    pub fn content_type(&self) -> Option<&str> {
        self.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
    }
}

#[derive(Debug)]
pub enum Outcome {
    /// 304: the validators still hold.
    NotModified,
    Fetched(Box<Fetched>),
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("GET {}: HTTP {status}", redact::url(url))]
    Status { url: Url, status: StatusCode },
    #[error(
        "GET {}: response larger than the {limit}-byte limit",
        redact::url(url)
    )]
    TooLarge { url: Url, limit: u64 },
    #[error(
        "GET {}: rate limited; server asks to wait {wait:?}, longer than allowed (max_retry_wait)",
        redact::url(url)
    )]
    RateLimited { url: Url, wait: Duration },
    #[error("GET {}: timed out", redact::url(url))]
    Timeout { url: Url },
    #[error("GET {}: {message}", redact::url(url))]
    Network { url: Url, message: String },
    #[error("invalid URL `{}`: only http and https can be fetched", redact::url_str(.0))]
    BadUrl(String),
    /// The outbound policy refused the address (see [`policy`]).
    #[error("GET {}: {reason}", redact::url(url))]
    Refused {
        url: Url,
        reason: policy::PolicyError,
    },
    /// A redirect led outside what the caller allows (the crawler's scope).
    #[error(
        "GET {}: redirect to {} is outside the allowed scope: not followed",
        redact::url(url),
        redact::url(to)
    )]
    OutOfScope { url: Url, to: Url },
    #[error("GET {}: more than {limit} redirects", redact::url(url))]
    TooManyRedirects { url: Url, limit: usize },
}

impl FetchError {
    fn retryable(&self) -> bool {
        match self {
            FetchError::Status { status, .. } => {
                status.is_server_error() || *status == StatusCode::TOO_MANY_REQUESTS
            }
            FetchError::Timeout { .. } | FetchError::Network { .. } => true,
            _ => false,
        }
    }
}

/// The shared fetcher. Cheap to clone (an `Arc` inside).
#[derive(Clone)]
pub struct Fetcher {
    inner: Arc<Inner>,
}

struct Inner {
    client: reqwest::Client,
    config: HttpConfig,
    policy: Arc<OutboundPolicy>,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
}

/// Which redirect targets a request may follow (beyond the outbound policy, which always
/// applies): the crawler passes its `allow` scope.
#[derive(Clone)]
pub struct RedirectScope(pub Arc<dyn Fn(&Url) -> bool + Send + Sync>);

impl std::fmt::Debug for RedirectScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RedirectScope")
    }
}

/// A request beyond a plain GET: extra headers (auth, Accept) and validators.
#[derive(Debug, Default, Clone)]
pub struct RequestOptions {
    pub headers: Vec<(header::HeaderName, HeaderValue)>,
    pub validators: Option<Validators>,
    /// A body limit lower than the configured `max_body` (the crawler's `max_page_size`).
    pub max_bytes: Option<u64>,
    /// Redirect targets outside this scope are not requested.
    pub scope: Option<RedirectScope>,
}

/// Headers that are sent to another origin after a redirect; every other header of
/// [`RequestOptions::headers`] (authorisation, API keys, cookies) stays with the origin it
/// was meant for.
const CROSS_ORIGIN_HEADERS: &[header::HeaderName] = &[header::ACCEPT, header::ACCEPT_LANGUAGE];

impl Fetcher {
    /// A fetcher under `policy` (see [`policy`]); build it with
    /// [`OutboundPolicy::from_config`](crate::config::Config::outbound_policy) for a
    /// deployment.
    pub fn new(config: &HttpConfig, policy: OutboundPolicy) -> Result<Fetcher, reqwest::Error> {
        let policy = Arc::new(policy);
        let client = reqwest::Client::builder()
            .user_agent(config.user_agent.clone())
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout)
            // Followed by `send_once`, hop by hop, under the policy.
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(policy.resolver())
            .gzip(true)
            .brotli(true)
            .deflate(true)
            .build()?;
        Ok(Fetcher {
            inner: Arc::new(Inner {
                client,
                config: config.clone(),
                policy,
                hosts: Mutex::new(HashMap::new()),
            }),
        })
    }

    pub fn config(&self) -> &HttpConfig {
        &self.inner.config
    }

    fn host_permits(&self, url: &Url) -> Arc<Semaphore> {
        let key = format!(
            "{}:{}",
            url.host_str().unwrap_or(""),
            url.port_or_known_default().unwrap_or(0)
        );
        let mut hosts = self.inner.hosts.lock().expect("host map poisoned");
        hosts
            .entry(key)
            .or_insert_with(|| Arc::new(Semaphore::new(self.inner.config.per_host_concurrency)))
            .clone()
    }

    /// GET with retries. 2xx → `Fetched`; 304 → `NotModified`; anything else is an error after
    /// the retries allowed for it (5xx, 429, timeouts and network errors are retried; other
    /// 4xx are not).
    pub async fn get(&self, url: &Url, opts: &RequestOptions) -> Result<Outcome, FetchError> {
        self.send(url, opts, None).await
    }

    /// POST `body` with the same retries and limits as [`Fetcher::get`]: for log-in and
    /// token endpoints, which are safe to repeat.
    pub async fn post(
        &self,
        url: &Url,
        opts: &RequestOptions,
        content_type: &str,
        body: Bytes,
    ) -> Result<Outcome, FetchError> {
        self.send(url, opts, Some((content_type, body))).await
    }

    async fn send(
        &self,
        url: &Url,
        opts: &RequestOptions,
        post: Option<(&str, Bytes)>,
    ) -> Result<Outcome, FetchError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FetchError::BadUrl(url.to_string()));
        }
        let cfg = &self.inner.config;
        let mut attempt: u32 = 0;
        loop {
            let result = self.send_once(url, opts, post.as_ref()).await;
            let (err, retry_after) = match result {
                Ok(o) => return Ok(o),
                Err(e) => e,
            };
            if !err.retryable() || attempt >= cfg.retries {
                return Err(err);
            }
            let backoff = backoff_delay(cfg.retry_base, attempt);
            let wait = match retry_after {
                Some(ra) if ra > cfg.max_retry_wait => {
                    return Err(FetchError::RateLimited {
                        url: url.clone(),
                        wait: ra,
                    });
                }
                Some(ra) => ra.max(backoff / 2),
                None => backoff,
            };
            // The error names the URL: said once.
            tracing::warn!(error = %err, attempt = attempt + 1, wait_ms = wait.as_millis() as u64, "retrying");
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// One attempt: the request and the redirects it leads to, each hop checked against
    /// the outbound policy and the caller's scope before it is sent.
    async fn send_once(
        &self,
        url: &Url,
        opts: &RequestOptions,
        post: Option<&(&str, Bytes)>,
    ) -> Result<Outcome, (FetchError, Option<Duration>)> {
        let max_hops = self.inner.config.max_redirects;
        let mut current = url.clone();
        let mut post = post.cloned();
        let mut hops = 0usize;
        let resp = loop {
            if let Err(reason) = self.inner.policy.check(&current).await {
                return Err((
                    FetchError::Refused {
                        url: current,
                        reason,
                    },
                    None,
                ));
            }
            let same_origin = current.origin() == url.origin();
            let resp = self
                .request(&current, opts, post.as_ref(), same_origin, hops == 0)
                .await?;
            let status = resp.status();
            let location = resp
                .headers()
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let (true, Some(location)) = (
                status.is_redirection() && status != StatusCode::NOT_MODIFIED,
                location,
            ) else {
                break resp;
            };
            let next = current.join(&location).map_err(|e| {
                (
                    FetchError::Network {
                        url: current.clone(),
                        message: format!("redirect to an invalid URL: {e}"),
                    },
                    None,
                )
            })?;
            if !matches!(next.scheme(), "http" | "https") {
                return Err((FetchError::BadUrl(next.to_string()), None));
            }
            if hops >= max_hops {
                return Err((
                    FetchError::TooManyRedirects {
                        url: url.clone(),
                        limit: max_hops,
                    },
                    None,
                ));
            }
            if let Some(scope) = &opts.scope
                && !(scope.0)(&next)
            {
                return Err((
                    FetchError::OutOfScope {
                        url: current,
                        to: next,
                    },
                    None,
                ));
            }
            // 303, and 301/302 after a POST, continue as a GET without a body (as browsers do).
            if status == StatusCode::SEE_OTHER
                || (post.is_some()
                    && matches!(status, StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND))
            {
                post = None;
            }
            tracing::debug!(from = %redact::url(&current), to = %redact::url(&next), %status, "redirect");
            current = next;
            hops += 1;
        };
        self.read_response(resp, url, current, opts).await
    }

    /// Sends one request (no redirects followed). Headers of `opts` that may carry
    /// credentials go only to the original origin; validators only with the first hop.
    async fn request(
        &self,
        url: &Url,
        opts: &RequestOptions,
        post: Option<&(&str, Bytes)>,
        same_origin: bool,
        first_hop: bool,
    ) -> Result<reqwest::Response, (FetchError, Option<Duration>)> {
        let permits = self.host_permits(url);
        let _permit = permits
            .acquire_owned()
            .await
            .expect("semaphore never closed");
        let mut req = match post {
            None => self.inner.client.get(url.clone()),
            Some((content_type, body)) => self
                .inner
                .client
                .post(url.clone())
                .header(header::CONTENT_TYPE, *content_type)
                .body(body.clone()),
        };
        for (k, v) in &opts.headers {
            if same_origin || CROSS_ORIGIN_HEADERS.contains(k) {
                req = req.header(k, v);
            }
        }
        if first_hop && let Some(v) = &opts.validators {
            if let Some(etag) = &v.etag {
                req = req.header(header::IF_NONE_MATCH, etag);
            }
            if let Some(lm) = &v.last_modified {
                req = req.header(header::IF_MODIFIED_SINCE, lm);
            }
        }
        req.send().await.map_err(|e| network_error(url, e))
    }

    /// Status handling and the size-limited body of the final response.
    async fn read_response(
        &self,
        resp: reqwest::Response,
        url: &Url,
        final_url: Url,
        opts: &RequestOptions,
    ) -> Result<Outcome, (FetchError, Option<Duration>)> {
        let net = |e: reqwest::Error| network_error(url, e);
        let status = resp.status();
        if status == StatusCode::NOT_MODIFIED {
            return Ok(Outcome::NotModified);
        }
        if !status.is_success() {
            let retry_after = resp
                .headers()
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(parse_retry_after);
            return Err((
                FetchError::Status {
                    url: url.clone(),
                    status,
                },
                retry_after,
            ));
        }
        let limit = opts
            .max_bytes
            .map_or(self.inner.config.max_body_bytes, |m| {
                m.min(self.inner.config.max_body_bytes)
            });
        if resp.content_length().is_some_and(|n| n > limit) {
            return Err((
                FetchError::TooLarge {
                    url: url.clone(),
                    limit,
                },
                None,
            ));
        }
        let headers = resp.headers().clone();
        let mut body = Vec::new();
        let mut stream = resp.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(net)?;
            if body.len() as u64 + chunk.len() as u64 > limit {
                return Err((
                    FetchError::TooLarge {
                        url: url.clone(),
                        limit,
                    },
                    None,
                ));
            }
            body.extend_from_slice(&chunk);
        }
        let header_str = |name: header::HeaderName| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let validators = Validators {
            etag: header_str(header::ETAG),
            last_modified: header_str(header::LAST_MODIFIED),
        };
        Ok(Outcome::Fetched(Box::new(Fetched {
            status,
            final_url,
            headers,
            body: body.into(),
            validators,
        })))
    }
}

/// A transport error as a [`FetchError`]; the URL is left out of reqwest's message (it is
/// in ours, with its credentials masked).
fn network_error(url: &Url, e: reqwest::Error) -> (FetchError, Option<Duration>) {
    let err = if e.is_timeout() {
        FetchError::Timeout { url: url.clone() }
    } else {
        FetchError::Network {
            url: url.clone(),
            message: error_chain(&e.without_url()),
        }
    };
    (err, None)
}

/// `base × 2^attempt`, with ±50 % jitter so that many clients do not retry in lock-step.
pub fn backoff_delay(base: Duration, attempt: u32) -> Duration {
    let exp = base.saturating_mul(1u32 << attempt.min(16));
    let jitter: f64 = rand::thread_rng().gen_range(0.5..1.5);
    exp.mul_f64(jitter)
}

/// `Retry-After` is either delta-seconds (decimal ones too: Discord sends them) or an HTTP
/// date.
pub fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = v.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(1e9)));
    }
    let when = match httpdate::parse_http_date(v) {
        Ok(t) => t,
        // Not quite an IMF-fixdate (e.g. "+0000" for "GMT"): any RFC 2822 date will do.
        Err(_) => chrono::DateTime::parse_from_rfc2822(v).ok()?.into(),
    };
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// An error and its sources on one line ("a: b: c"), repeats left out.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let m = c.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        cur = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        let future = std::time::SystemTime::now() + Duration::from_secs(60);
        let d = parse_retry_after(&httpdate::fmt_http_date(future)).unwrap();
        assert!(
            d > Duration::from_secs(55) && d <= Duration::from_secs(60),
            "{d:?}"
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn backoff_grows_with_jitter() {
        let base = Duration::from_millis(100);
        for attempt in 0..5 {
            let d = backoff_delay(base, attempt);
            let nominal = 100u64 << attempt;
            assert!(d.as_millis() as u64 >= nominal / 2 && d.as_millis() as u64 <= nominal * 3 / 2);
        }
    }
}
