//! `kind = "reddit"`: posts (and, from subreddit listings, comments) from Reddit's JSON API.
//!
//! Streams:
//! - per search term: `/search.json?q=TERM&sort=new` — posts anywhere on Reddit;
//! - per configured subreddit (`subreddits = ["rust"]`): `/r/NAME/new.json` and, unless
//!   `comments = false`, `/r/NAME/comments.json` (every new comment there; the queries decide
//!   which are kept).
//!
//! Listings are newest first and paged with `after`; a walk stops at the cursor (the newest
//! item seen before). Search also gets a time window `t=hour|day|week|month|year|all`, the
//! smallest that covers the cursor, so that Reddit only considers recent posts.
//!
//! Credentials: without any, the public endpoints on www.reddit.com are used (Reddit allows
//! about 10 unauthenticated requests per minute). With `client_id_env` and
//! `client_secret_env` (a "script" or "web" app from <https://www.reddit.com/prefs/apps>),
//! hark logs in with the client-credentials grant and uses oauth.reddit.com, which allows 100
//! requests per minute; its `X-Ratelimit-*` headers are honoured by the API framework.
//!
//! Mapping notes: `likes` is the score; a post's `comments` is `num_comments`; comments carry
//! their parent's fullname as `parent_id` (`reddit:t3_…` for a top-level comment,
//! `reddit:t1_…` for a reply). Subreddit subscribers are not used as followers: a post in a
//! 30-million-member subreddit does not reach 30 million people.

use super::api::{Api, ApiRequest, Page, PageQuery, SessionRequest, ShapeError, Stream, enc, pick};
use super::settings::{CheckContext, KindConfig, PAGING_KEYS, SourceConfig, yes};
use super::{BuildError, Source};
use crate::fields::{EnvVar, FieldError, clean_names};
use crate::mention::{Engagement, Mention};
use base64::Engine;
use reqwest::header::{HeaderName, HeaderValue};
use serde::Deserialize;
use serde_json::Value;

/// `kind = "reddit"` settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedditConfig {
    /// Subreddits whose new posts (and comments) are read, `r/` optional.
    #[serde(default)]
    pub subreddits: Vec<String>,
    pub client_id_env: Option<EnvVar>,
    pub client_secret_env: Option<EnvVar>,
    /// Also read each subreddit's new comments (default true).
    #[serde(default = "yes")]
    pub comments: bool,
}

impl Default for RedditConfig {
    fn default() -> Self {
        RedditConfig {
            subreddits: Vec::new(),
            client_id_env: None,
            client_secret_env: None,
            comments: true,
        }
    }
}

impl KindConfig for RedditConfig {
    const NAME: &'static str = "reddit";
    const PAGING: &'static [&'static str] = PAGING_KEYS;

    fn check(&mut self, _: &CheckContext<'_>) -> Result<(), FieldError> {
        clean_names(&mut self.subreddits, "r/");
        Ok(())
    }

    fn build(&self, c: &SourceConfig, terms: Vec<String>) -> Result<Box<dyn Source>, BuildError> {
        Ok(super::api_source(Reddit::new(c, self)?, c, terms))
    }
}

const PUBLIC: &str = "https://www.reddit.com";
const OAUTH: &str = "https://oauth.reddit.com";

pub struct Reddit {
    subreddits: Vec<String>,
    comments: bool,
    /// client id and secret, when OAuth is configured.
    app: Option<(crate::http::redact::Secret, crate::http::redact::Secret)>,
}

impl Reddit {
    pub fn new(config: &SourceConfig, s: &RedditConfig) -> Result<Reddit, BuildError> {
        let id = super::credential(config, "client_id_env", s.client_id_env.as_ref())?;
        let secret = super::credential(config, "client_secret_env", s.client_secret_env.as_ref())?;
        let app = match (id, secret) {
            (Some(i), Some(s)) => Some((i, s)),
            (None, None) => None,
            _ => {
                return Err(BuildError::Settings(format!(
                    "reddit source `{}`: OAuth needs both `client_id_env` and `client_secret_env`",
                    config.name
                )));
            }
        };
        Ok(Reddit {
            subreddits: s.subreddits.clone(),
            comments: s.comments,
            app,
        })
    }

    fn host(&self) -> &'static str {
        if self.app.is_some() { OAUTH } else { PUBLIC }
    }
}

/// The smallest search window that still covers `since`.
fn window(since: chrono::DateTime<chrono::Utc>) -> &'static str {
    let age = chrono::Utc::now() - since;
    match age.num_hours() {
        h if h < 1 => "hour",
        h if h < 24 => "day",
        h if h <= 24 * 7 => "week",
        h if h < 24 * 30 => "month",
        h if h < 24 * 365 => "year",
        _ => "all",
    }
}

impl Api for Reddit {
    fn kind(&self) -> &'static str {
        "reddit"
    }

    fn streams(&self, terms: &[String]) -> Vec<Stream> {
        let mut s: Vec<Stream> = super::api::search_streams(terms);
        for sub in &self.subreddits {
            s.push(Stream::new("new", sub));
            if self.comments {
                s.push(Stream::new("comments", sub));
            }
        }
        s
    }

    fn request(&self, q: &PageQuery<'_>) -> Result<ApiRequest, ShapeError> {
        let limit = q.page_size.min(100);
        let after = q
            .page
            .map(|a| format!("&after={}", enc(a)))
            .unwrap_or_default();
        let host = self.host();
        let arg = &q.stream.arg;
        let url = match q.stream.endpoint {
            "search" => {
                let term = super::api::phrase(arg);
                format!(
                    "{host}/search.json?q={}&sort=new&t={}&type=link&limit={limit}&raw_json=1{after}",
                    enc(&term),
                    window(q.since)
                )
            }
            "new" => format!(
                "{host}/r/{}/new.json?limit={limit}&raw_json=1{after}",
                enc(arg)
            ),
            "comments" => format!(
                "{host}/r/{}/comments.json?limit={limit}&raw_json=1{after}",
                enc(arg)
            ),
            other => {
                return Err(ShapeError::Endpoint {
                    kind: "reddit",
                    endpoint: other.to_string(),
                });
            }
        };
        let req = ApiRequest::get(url);
        match q.token {
            Some(t) => req.bearer(t),
            None => Ok(req),
        }
    }

    fn parse(&self, _q: &PageQuery<'_>, body: &Value) -> Result<Page, ShapeError> {
        let children = body
            .pointer("/data/children")
            .and_then(Value::as_array)
            .ok_or("not a Listing: no `data.children`")?;
        let mut page = Page::default();
        for (i, child) in children.iter().enumerate() {
            let kind = child.get("kind").and_then(Value::as_str).unwrap_or("");
            let data = child.get("data").unwrap_or(&Value::Null);
            let mapped = match kind {
                "t3" => map_post(data),
                "t1" => map_comment(data),
                // "more" stubs and other things are not mentions.
                _ => continue,
            };
            match mapped {
                Ok(m) => page.items.push(m),
                Err(e) => page.skipped.push(format!("item {i}: {e}")),
            }
        }
        page.next = pick::str_at(body, "/data/after");
        Ok(page)
    }

    fn session(&self) -> Option<SessionRequest> {
        let (id, secret) = self.app.as_ref()?;
        let basic = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            id.expose(),
            secret.expose()
        ));
        let auth = HeaderValue::from_str(&format!("Basic {basic}")).ok()?;
        Some(SessionRequest {
            url: format!("{PUBLIC}/api/v1/access_token"),
            content_type: "application/x-www-form-urlencoded",
            body: bytes::Bytes::from_static(b"grant_type=client_credentials"),
            headers: vec![(HeaderName::from_static("authorization"), auth)],
        })
    }

    fn session_token(&self, body: &Value) -> Result<String, ShapeError> {
        if let Some(e) = pick::str_at(body, "/error") {
            return Err(ShapeError::Unexpected(format!(
                "Reddit refused the app credentials: {e}"
            )));
        }
        pick::str_at(body, "/access_token").ok_or_else(|| "no `access_token` in the answer".into())
    }
}

/// Reddit escapes `&`, `<` and `>` in text unless `raw_json=1` is honoured; undo it either way.
fn unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

fn permalink(data: &Value) -> Option<String> {
    let p = pick::str_at(data, "/permalink")?;
    let p = p.split('?').next().unwrap_or(&p);
    Some(if p.starts_with("http") {
        p.to_string()
    } else {
        format!("https://www.reddit.com{p}")
    })
}

fn base(data: &Value, prefix: &str) -> Result<(String, chrono::DateTime<chrono::Utc>), ShapeError> {
    let id = pick::need(pick::str_at(data, "/id"), "id")?;
    let at = pick::need(pick::time_at(data, "/created_utc"), "created_utc")?;
    Ok((format!("reddit:{prefix}_{id}"), at))
}

fn map_post(data: &Value) -> Result<Mention, ShapeError> {
    let (id, published_at) = base(data, "t3")?;
    let title = pick::need(pick::str_at(data, "/title"), "title")?;
    Ok(Mention {
        url: permalink(data).or_else(|| pick::str_at(data, "/url")),
        author: pick::str_at(data, "/author"),
        title: Some(unescape(&title)),
        text: unescape(&pick::str_at(data, "/selftext").unwrap_or_default()),
        engagement: Engagement {
            likes: pick::u64_at(data, "/score"),
            comments: pick::u64_at(data, "/num_comments"),
            ..Default::default()
        },
        ..Mention::new(id, published_at)
    })
}

fn map_comment(data: &Value) -> Result<Mention, ShapeError> {
    let (id, published_at) = base(data, "t1")?;
    let body = pick::need(pick::str_at(data, "/body"), "body")?;
    let url = permalink(data).or_else(|| {
        let sub = pick::str_at(data, "/subreddit")?;
        let link = pick::str_at(data, "/link_id")?;
        let native = id.trim_start_matches("reddit:t1_");
        Some(format!(
            "https://www.reddit.com/r/{sub}/comments/{}/_/{native}/",
            link.trim_start_matches("t3_")
        ))
    });
    Ok(Mention {
        url,
        author: pick::str_at(data, "/author"),
        text: unescape(&body),
        engagement: Engagement {
            likes: pick::u64_at(data, "/score"),
            ..Default::default()
        },
        parent_id: pick::str_at(data, "/parent_id").map(|p| format!("reddit:{p}")),
        ..Mention::new(id, published_at)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Option<Value> {
        crate::sources::api::fixture("reddit", name)
    }

    fn reddit() -> Reddit {
        Reddit {
            subreddits: vec!["askreddit".into()],
            comments: true,
            app: None,
        }
    }

    #[test]
    fn maps_search_results() {
        let Some(recorded) = fixture("search_r-all_q-praw-oauth-search.json") else {
            return;
        };
        let p = reddit()
            .parse(
                &PageQuery::first_page(&Stream::new("search", "praw")),
                &recorded,
            )
            .unwrap();
        assert_eq!(p.items.len(), 6);
        let m = &p.items[0];
        assert_eq!(m.id, "reddit:t3_3gpbiu");
        assert_eq!(
            m.url.as_deref(),
            Some(
                "https://www.reddit.com/r/redditdev/comments/3gpbiu/prawoauth2util_problem_using_get_banned_raise/"
            )
        );
        assert_eq!(m.author.as_deref(), Some("dClauzel"));
        assert_eq!(m.published_at.timestamp(), 1439370514);
        assert_eq!(m.engagement.comments, Some(21));
        assert_eq!(m.engagement.likes, Some(0));
        assert!(m.text.starts_with("# solved"));
        assert_eq!(p.next, None);
    }

    #[test]
    fn maps_listings_and_comment_parents() {
        let Some(recorded) = fixture("r-all_new.json") else {
            return;
        };
        let p = reddit()
            .parse(
                &PageQuery::first_page(&Stream::new("new", "all")),
                &recorded,
            )
            .unwrap();
        assert_eq!(p.items.len(), 100);
        assert_eq!(p.items[0].id, "reddit:t3_5jo13y");
        assert_eq!(
            p.items[0].title.as_deref(),
            Some("Farewell Rush - We will never forget your stream")
        );
        assert_eq!(p.next.as_deref(), Some("t3_5jo10c"));

        let Some(recorded) = fixture("r-askreddit_comments.json") else {
            return;
        };
        let p = reddit()
            .parse(
                &PageQuery::first_page(&Stream::new("comments", "askreddit")),
                &recorded,
            )
            .unwrap();
        let c = &p.items[0];
        assert_eq!(c.id, "reddit:t1_d4y8bdp");
        assert_eq!(c.author.as_deref(), Some("preppypuppy"));
        assert_eq!(c.parent_id.as_deref(), Some("reddit:t3_4r4inc"));
        assert_eq!(
            c.url.as_deref(),
            Some("https://www.reddit.com/r/AskReddit/comments/4r4inc/_/d4y8bdp/")
        );
        assert_eq!(c.published_at.timestamp(), 1467590690);
        assert_eq!(p.next.as_deref(), Some("t1_d4y8a9e"));

        let Some(recorded) = fixture("r-all_comments_before_empty.json") else {
            return;
        };
        let empty = reddit()
            .parse(
                &PageQuery::first_page(&Stream::new("comments", "all")),
                &recorded,
            )
            .unwrap();
        assert!(empty.items.is_empty() && empty.next.is_none());
    }

    #[test]
    fn requests_carry_paging_and_window() {
        let r = reddit();
        let s = Stream::new("search", "acme corp");
        let q = PageQuery {
            stream: &s,
            cursor: None,
            since: chrono::Utc::now() - chrono::Duration::minutes(30),
            page: Some("t3_abc"),
            page_size: 500,
            token: None,
        };
        let url = r.request(&q).unwrap().url;
        assert!(
            url.starts_with("https://www.reddit.com/search.json?q=%22acme+corp%22&sort=new&t=hour"),
            "{url}"
        );
        assert!(
            url.contains("limit=100") && url.contains("after=t3_abc"),
            "{url}"
        );
        let streams = r.streams(&["acme".into()]);
        assert_eq!(
            streams.iter().map(|s| s.key.as_str()).collect::<Vec<_>>(),
            ["search:acme", "new:askreddit", "comments:askreddit"]
        );
    }

    #[test]
    fn drift_skips_only_the_broken_item() {
        let body = serde_json::json!({"kind": "Listing", "data": {"after": null, "children": [
            {"kind": "t3", "data": {"id": "a", "created_utc": 1.0, "title": "fine"}},
            {"kind": "t3", "data": {"id": "b", "title": "no time"}},
            {"kind": "t1", "data": {"id": "c", "created_utc": 2.0}},
            {"kind": "more", "data": {"children": ["x"]}}
        ]}});
        let p = reddit()
            .parse(&PageQuery::first_page(&Stream::new("new", "x")), &body)
            .unwrap();
        assert_eq!(p.items.len(), 1);
        assert_eq!(p.skipped.len(), 2);
        assert!(
            reddit()
                .parse(
                    &PageQuery::first_page(&Stream::new("new", "x")),
                    &serde_json::json!([])
                )
                .is_err()
        );
    }
}
