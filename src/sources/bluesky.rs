//! `kind = "bluesky"`: posts from Bluesky's post search, `app.bsky.feed.searchPosts`
//! (`sort=latest`, newest first, up to 100 posts per page).
//!
//! Auth: anonymous requests go to the public AppView (`https://public.api.bsky.app`), which
//! Bluesky often restricts for search (403, and always 403 with a `cursor`), so logging in is
//! recommended: set `identifier` (handle or e-mail) and `password_env` (an environment
//! variable holding an app password, created under Settings → Privacy and security → App
//! passwords). hark then calls `com.atproto.server.createSession` on `https://bsky.social`
//! (once, again after an hour or when the token is refused) and sends
//! `Authorization: Bearer <accessJwt>` to
//! `https://bsky.social/xrpc/app.bsky.feed.searchPosts`. Setting only one of the two is a
//! configuration error.
//!
//! Cursor: the API has no since-id, so `q.since` (the cursor's time, or now − backfill) goes
//! as `since=<RFC 3339>` (inclusive, compared with the post's sort time). Older pages use the
//! body's `cursor` token, only when logged in (anonymous paging is refused). Multi-word
//! terms are sent quoted (phrase search).
//!
//! Limits: createSession 30 per 5 minutes and 300 per day per account (hark logs in about 24
//! times a day); other requests 3,000 per 5 minutes per IP (`RateLimit-*` headers).
//!
//! Mapping: `shares` = reposts + quotes (both re-broadcast the post), `parent_id` = the post
//! replied to (`record.reply.parent`), `followers` = None (post views carry no counts for
//! the author).

use super::api::{
    Api, ApiRequest, BodySignal, Page, PageQuery, SessionRequest, ShapeError, Stream, enc, pick,
};
use super::settings::{KindConfig, PAGING_KEYS, SourceConfig};
use super::{BuildError, Source};
use crate::fields::EnvVar;
use crate::mention::{Engagement, Mention};
use bytes::Bytes;
use chrono::SecondsFormat;
use serde::Deserialize;
use serde_json::Value;

/// `kind = "bluesky"` settings.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlueskyConfig {
    /// Your handle or e-mail, to log in (with `password_env`).
    pub identifier: Option<String>,
    pub password_env: Option<EnvVar>,
}

impl KindConfig for BlueskyConfig {
    const NAME: &'static str = "bluesky";
    const PAGING: &'static [&'static str] = PAGING_KEYS;

    fn build(&self, c: &SourceConfig, terms: Vec<String>) -> Result<Box<dyn Source>, BuildError> {
        Ok(super::api_source(Bluesky::new(c, self)?, c, terms))
    }
}

const PUBLIC: &str = "https://public.api.bsky.app";
const PDS: &str = "https://bsky.social";
const MAX_LIMIT: usize = 100;

pub struct Bluesky {
    /// Handle and app password, when logging in.
    login: Option<(String, crate::http::redact::Secret)>,
}

impl Bluesky {
    pub fn new(config: &SourceConfig, s: &BlueskyConfig) -> Result<Bluesky, BuildError> {
        let identifier = s.identifier.as_deref().map(str::trim);
        let identifier = identifier.filter(|i| !i.is_empty());
        let password = super::credential(config, "password_env", s.password_env.as_ref())?;
        let login = match (identifier, password) {
            (Some(i), Some(p)) => Some((i.to_string(), p)),
            (None, None) => None,
            (Some(_), None) => {
                return Err(BuildError::Settings(format!(
                    "bluesky source `{}`: `identifier` is set but `password_env` is not; set both (an app password in that variable) or neither",
                    config.name
                )));
            }
            (None, Some(_)) => {
                return Err(BuildError::Settings(format!(
                    "bluesky source `{}`: `password_env` is set but `identifier` (your handle) is not; set both or neither",
                    config.name
                )));
            }
        };
        Ok(Bluesky { login })
    }
}

impl Api for Bluesky {
    fn kind(&self) -> &'static str {
        "bluesky"
    }

    fn streams(&self, terms: &[String]) -> Vec<Stream> {
        super::api::search_streams(terms)
    }

    fn request(&self, q: &PageQuery<'_>) -> Result<ApiRequest, ShapeError> {
        let term = &q.stream.arg;
        let query = super::api::phrase(term);
        let base = if self.login.is_some() { PDS } else { PUBLIC };
        let mut url = format!(
            "{base}/xrpc/app.bsky.feed.searchPosts?q={}&sort=latest&limit={}&since={}",
            enc(&query),
            q.page_size.clamp(1, MAX_LIMIT),
            enc(&q.since.to_rfc3339_opts(SecondsFormat::Millis, true)),
        );
        if let Some(c) = q.page {
            url.push_str(&format!("&cursor={}", enc(c)));
        }
        let req = ApiRequest::get(url);
        match q.token {
            Some(t) => req.bearer(t),
            None => Ok(req),
        }
    }

    fn parse(&self, _q: &PageQuery<'_>, body: &Value) -> Result<Page, ShapeError> {
        let posts = body
            .get("posts")
            .and_then(Value::as_array)
            .ok_or("no `posts` array")?;
        let mut page = Page::default();
        for (i, post) in posts.iter().enumerate() {
            match map_post(post) {
                Ok(m) => page.items.push(m),
                Err(e) => page.skipped.push(format!("post {i}: {e}")),
            }
        }
        if !posts.is_empty() && self.login.is_some() {
            page.next = pick::str_at(body, "/cursor");
        }
        Ok(page)
    }

    fn inspect(&self, body: &Value) -> BodySignal {
        if body.get("posts").is_some() {
            return BodySignal::Ok;
        }
        match pick::str_at(body, "/error") {
            Some(e) => BodySignal::Fail(match pick::str_at(body, "/message") {
                Some(m) => format!("{e}: {m}"),
                None => e,
            }),
            None => BodySignal::Ok,
        }
    }

    fn session(&self) -> Option<SessionRequest> {
        let (identifier, password) = self.login.as_ref()?;
        let body = serde_json::json!({"identifier": identifier, "password": password.expose()});
        Some(SessionRequest {
            url: format!("{PDS}/xrpc/com.atproto.server.createSession"),
            content_type: "application/json",
            body: Bytes::from(body.to_string()),
            headers: Vec::new(),
        })
    }

    fn session_token(&self, body: &Value) -> Result<String, ShapeError> {
        pick::str_at(body, "/accessJwt").ok_or_else(|| {
            match pick::str_at(body, "/message").or_else(|| pick::str_at(body, "/error")) {
                Some(m) => ShapeError::Unexpected(format!("Bluesky login failed: {m}")),
                None => "Bluesky login failed: no `accessJwt` in the createSession response".into(),
            }
        })
    }
}

/// Maps an `app.bsky.feed.defs#postView` (searchPosts, getPosts, feeds and threads).
fn map_post(post: &Value) -> Result<Mention, ShapeError> {
    let uri = pick::need(pick::str_at(post, "/uri"), "uri")?;
    let rkey = pick::need(
        uri.strip_prefix("at://")
            .and_then(|rest| rest.rsplit('/').next())
            .filter(|k| !k.is_empty()),
        "uri (an at:// URI)",
    )?;
    let published_at = pick::need(
        pick::time_at(post, "/record/createdAt").or_else(|| pick::time_at(post, "/indexedAt")),
        "record.createdAt",
    )?;
    let handle = pick::str_at(post, "/author/handle").filter(|h| h != "handle.invalid");
    // The DID works in links when the handle is not (or no longer) valid.
    let profile = handle
        .clone()
        .or_else(|| pick::str_at(post, "/author/did"))
        .or_else(|| {
            uri.strip_prefix("at://")
                .and_then(|r| r.split('/').next())
                .map(str::to_string)
        });
    let shares = match (
        pick::u64_at(post, "/repostCount"),
        pick::u64_at(post, "/quoteCount"),
    ) {
        (None, None) => None,
        (r, q) => Some(r.unwrap_or(0) + q.unwrap_or(0)),
    };
    Ok(Mention {
        url: profile.map(|p| format!("https://bsky.app/profile/{p}/post/{rkey}")),
        author: handle,
        text: pick::str_at(post, "/record/text").unwrap_or_default(),
        engagement: Engagement {
            likes: pick::u64_at(post, "/likeCount"),
            shares,
            comments: pick::u64_at(post, "/replyCount"),
            views: None,
            followers: None,
            rating: None,
        },
        parent_id: pick::str_at(post, "/record/reply/parent/uri").map(|p| format!("bluesky:{p}")),
        ..Mention::new(format!("bluesky:{uri}"), published_at)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::EnvVar;
    use chrono::{TimeZone, Utc};

    fn fixture(name: &str) -> Option<Value> {
        crate::sources::api::fixture("bluesky", name)
    }

    fn logged_in() -> Bluesky {
        Bluesky {
            login: Some(("me.bsky.social".into(), "app-pass".into())),
        }
    }

    fn new(identifier: Option<&str>, password_env: Option<&str>) -> Result<Bluesky, String> {
        let s = BlueskyConfig {
            identifier: identifier.map(str::to_string),
            password_env: password_env.map(|v| EnvVar(v.into())),
        };
        Bluesky::new(&SourceConfig::new("bsky", s.clone()), &s).map_err(|e| e.to_string())
    }

    #[test]
    fn maps_search_posts() {
        let b = logged_in();
        let s = Stream::new("search", "redistricting");
        let Some(recorded) = fixture("app.bsky.feed.searchPosts_q-redistricting_2025.json") else {
            return;
        };
        let p = b.parse(&PageQuery::first_page(&s), &recorded).unwrap();
        assert_eq!(p.items.len(), 25);
        assert!(p.skipped.is_empty());
        assert_eq!(p.next.as_deref(), Some("25"));

        let a = &p.items[1];
        assert_eq!(
            a.id,
            "bluesky:at://did:plc:s7savtl25cqhm3ddqc7jeljx/app.bsky.feed.post/3lpk2r5h5ec2j"
        );
        assert_eq!(
            a.url.as_deref(),
            Some("https://bsky.app/profile/cjtackett.bsky.social/post/3lpk2r5h5ec2j")
        );
        assert_eq!(a.author.as_deref(), Some("cjtackett.bsky.social"));
        assert!(
            a.text.starts_with("I dove into the RIDICULOUS op-ed"),
            "{}",
            a.text
        );
        assert_eq!(a.published_at.timestamp_millis(), 1747674507677);
        assert_eq!(a.engagement.likes, Some(4));
        assert_eq!(a.engagement.shares, Some(3));
        assert_eq!(a.engagement.comments, Some(0));
        assert_eq!(a.engagement.followers, None);
        assert_eq!(a.parent_id, None);

        // A reply.
        let r = &p.items[2];
        assert_eq!(
            r.id,
            "bluesky:at://did:plc:7nagdvjqrzaquzk7mueohne5/app.bsky.feed.post/3lpjzka2pzc2l"
        );
        assert_eq!(r.author.as_deref(), Some("mcpli.bsky.social"));
        assert_eq!(
            r.parent_id.as_deref(),
            Some("bluesky:at://did:plc:7nagdvjqrzaquzk7mueohne5/app.bsky.feed.post/3lpjzgltpa22l")
        );
        assert_eq!(r.engagement.likes, Some(2));

        // Reposts and quotes add up.
        let q = &p.items[10];
        assert_eq!(q.author.as_deref(), Some("brendannyhan.bsky.social"));
        assert_eq!(q.engagement.likes, Some(20));
        assert_eq!(q.engagement.shares, Some(6));
        assert_eq!(q.engagement.comments, Some(2));

        // createdAt with microseconds and a `+00:00` offset.
        let o = &p.items[22];
        assert_eq!(o.author.as_deref(), Some("humanbeinghuman.bsky.social"));
        assert_eq!(o.published_at.timestamp_micros(), 1747620200286393);

        // Anonymous: no paging (the public AppView refuses `cursor`).
        let Some(recorded) = fixture("app.bsky.feed.searchPosts_q-redistricting_2025.json") else {
            return;
        };
        let p = Bluesky { login: None }
            .parse(&PageQuery::first_page(&s), &recorded)
            .unwrap();
        assert_eq!(p.items.len(), 25);
        assert_eq!(p.next, None);
    }

    #[test]
    fn maps_post_views_of_other_endpoints() {
        let Some(v) = fixture("app.bsky.feed.getPosts_2025.json") else {
            return;
        };
        let m = map_post(&v["posts"][0]).unwrap();
        assert_eq!(
            m.url.as_deref(),
            Some("https://bsky.app/profile/soubhikbarari.bsky.social/post/3k7qmjev5lr2s")
        );
        assert_eq!(m.published_at.timestamp_millis(), 1695123174574);
        assert_eq!(m.engagement.likes, Some(4));
        assert_eq!(m.engagement.shares, Some(0));
        assert!(
            m.text.ends_with("#rstats #rgov\n\nrstats.ai/gov.html"),
            "{}",
            m.text
        );

        // A post without `quoteCount` and with empty text (an image with a quoted post).
        let Some(v) = fixture("app.bsky.feed.getPostThread_thread_with_embed_media.json") else {
            return;
        };
        let m = map_post(&v["thread"]["post"]).unwrap();
        assert_eq!(
            m.id,
            "bluesky:at://did:plc:kvwvcn5iqfooopmyzvb4qzba/app.bsky.feed.post/3kaheyt6vpc22"
        );
        assert_eq!(m.author.as_deref(), Some("test.marshal.dev"));
        assert_eq!(m.text, "");
        assert_eq!(m.engagement.shares, Some(0));

        let Some(v) = fixture("app.bsky.feed.getPostThread_2025.json") else {
            return;
        };
        let m = map_post(&v["thread"]["post"]).unwrap();
        assert_eq!(
            m.id,
            "bluesky:at://did:plc:ic6zqvuw5ulmfpjiwnhsr2ns/app.bsky.feed.post/3k7qmjev5lr2s"
        );

        // Feed items carry the post under `post`; replies name their parent.
        let Some(v) = fixture("app.bsky.feed.getAuthorFeed_chriskenny_2025.json") else {
            return;
        };
        let m = map_post(&v["feed"][0]["post"]).unwrap();
        assert_eq!(m.author.as_deref(), Some("chriskenny.bsky.social"));
        assert_eq!(
            m.parent_id.as_deref(),
            Some("bluesky:at://did:plc:z4cp3uwgxiioi7uaxn2boq47/app.bsky.feed.post/3lobj4swhjo2x")
        );
        assert_eq!(m.published_at.timestamp_millis(), 1746408617912);
    }

    #[test]
    fn request_carries_since_cursor_and_token() {
        let s = Stream::new("search", "acme corp");
        let since = Utc.with_ymd_and_hms(2025, 5, 19, 17, 0, 0).unwrap();
        let q = PageQuery {
            stream: &s,
            cursor: None,
            since,
            page: None,
            page_size: 500,
            token: Some("jwt-123"),
        };
        let r = logged_in().request(&q).unwrap();
        assert_eq!(
            r.url,
            "https://bsky.social/xrpc/app.bsky.feed.searchPosts?q=%22acme+corp%22&sort=latest&limit=100&since=2025-05-19T17%3A00%3A00.000Z"
        );
        assert_eq!(r.headers[0].1.to_str().unwrap(), "Bearer jwt-123");
        let r = logged_in()
            .request(&PageQuery {
                page: Some("25"),
                page_size: 25,
                ..q
            })
            .unwrap();
        assert!(
            r.url
                .ends_with("&limit=25&since=2025-05-19T17%3A00%3A00.000Z&cursor=25"),
            "{}",
            r.url
        );
        let s1 = Stream::new("search", "acme");
        let r = Bluesky { login: None }
            .request(&PageQuery {
                stream: &s1,
                token: None,
                ..q
            })
            .unwrap();
        assert_eq!(
            r.url,
            "https://public.api.bsky.app/xrpc/app.bsky.feed.searchPosts?q=acme&sort=latest&limit=100&since=2025-05-19T17%3A00%3A00.000Z"
        );
        assert!(r.headers.is_empty());
    }

    #[test]
    fn logs_in_with_an_app_password() {
        let b = logged_in();
        let s = b.session().unwrap();
        assert_eq!(
            s.url,
            "https://bsky.social/xrpc/com.atproto.server.createSession"
        );
        assert_eq!(s.content_type, "application/json");
        let body: Value = serde_json::from_slice(&s.body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"identifier": "me.bsky.social", "password": "app-pass"})
        );
        // Documented createSession response shape.
        let ok = serde_json::json!({"did": "did:plc:abc", "handle": "me.bsky.social",
            "accessJwt": "eyJ.access", "refreshJwt": "eyJ.refresh"});
        assert_eq!(b.session_token(&ok).unwrap(), "eyJ.access");
        let bad = serde_json::json!({"error": "AuthenticationRequired", "message": "Invalid identifier or password"});
        let err = b.session_token(&bad).unwrap_err().to_string();
        assert!(err.contains("Invalid identifier or password"), "{err}");
        assert!(Bluesky { login: None }.session().is_none());
    }

    #[test]
    fn login_settings_come_in_pairs() {
        assert!(new(None, None).unwrap().login.is_none());
        let e = new(Some("me.bsky.social"), None).err().unwrap();
        assert!(e.contains("password_env"), "{e}");
        let e = new(None, Some("PATH")).err().unwrap();
        assert!(e.contains("identifier"), "{e}");
        let e = new(Some("me"), Some("HARK_TEST_BSKY_UNSET_VAR"))
            .err()
            .unwrap();
        assert!(e.contains("HARK_TEST_BSKY_UNSET_VAR"), "{e}");
        let b = new(Some("me"), Some("PATH")).unwrap();
        assert_eq!(b.login.as_ref().unwrap().0, "me");
    }

    #[test]
    fn drift_skips_the_item_only() {
        let b = logged_in();
        let body = serde_json::json!({"cursor": "3", "posts": [
            {"uri": "at://did:plc:a/app.bsky.feed.post/k1", "indexedAt": "2025-01-01T00:00:00Z",
             "record": {"text": "only indexedAt"}, "author": {"did": "did:plc:a", "handle": "handle.invalid"}},
            {"record": {"text": "no uri", "createdAt": "2025-01-01T00:00:00Z"}},
            {"uri": "at://did:plc:c/app.bsky.feed.post/k3", "record": {"text": "no time"}}
        ]});
        let p = b
            .parse(&PageQuery::first_page(&Stream::new("search", "x")), &body)
            .unwrap();
        assert_eq!(p.items.len(), 1);
        let m = &p.items[0];
        assert_eq!(m.published_at.timestamp(), 1735689600);
        assert_eq!(m.author, None);
        assert_eq!(
            m.url.as_deref(),
            Some("https://bsky.app/profile/did:plc:a/post/k1")
        );
        assert_eq!(m.engagement, Engagement::default());
        assert_eq!(p.skipped.len(), 2);
        assert_eq!(p.next.as_deref(), Some("3"));
        let empty = serde_json::json!({"posts": [], "cursor": "9"});
        assert_eq!(
            b.parse(&PageQuery::first_page(&Stream::new("search", "x")), &empty)
                .unwrap()
                .next,
            None
        );
        assert!(
            b.parse(
                &PageQuery::first_page(&Stream::new("search", "x")),
                &serde_json::json!({})
            )
            .is_err()
        );
    }

    #[test]
    fn xrpc_error_bodies_fail() {
        let b = logged_in();
        let e = serde_json::json!({"error": "InvalidRequest", "message": "Error: limit must be <= 100"});
        assert_eq!(
            b.inspect(&e),
            BodySignal::Fail("InvalidRequest: Error: limit must be <= 100".into())
        );
        let Some(recorded) = fixture("app.bsky.feed.searchPosts_q-redistricting_2025.json") else {
            return;
        };
        assert_eq!(b.inspect(&recorded), BodySignal::Ok);
    }
}
