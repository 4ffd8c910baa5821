//! `kind = "mastodon"`: statuses from one Mastodon server (default `https://mastodon.social`;
//! point `base_url` at another instance). Two endpoints, both newest first:
//!
//! - `/api/v2/search?q=TERM&type=statuses` for each search term. Mastodon runs full-text
//!   status search only for a signed-in user, so these streams are walked only when
//!   `token_env` names a user access token (scope `read:search`, created under Preferences →
//!   Development on the instance); anonymous searches return no statuses at all. Multi-word
//!   terms are sent quoted (phrase search).
//! - `/api/v1/timelines/tag/:tag` for each hashtag in `tags` and for each single-word term
//!   (hashtags are letters, digits and `_`; a leading `#` is dropped). Public without a token
//!   on most servers; servers may restrict hashtag feeds to signed-in users.
//!
//! Cursor: Mastodon status ids are Snowflake ids (`milliseconds << 16`), so `q.since` (the
//! cursor's time, or now − backfill) goes to the API as an id: `since_id` on the hashtag
//! timeline, `min_id` on search (which turns it into an `after:` time filter). The stored
//! cursor id cannot be used: mention ids are built from the status `uri` (stable across
//! instances), not the instance-local numeric id. Older pages: `max_id` = the id of the last
//! (oldest) status of the page (Mastodon also sends `Link` headers, which hark does not see).
//! This id arithmetic holds for Mastodon and its forks, not for servers with other id
//! schemes (GoToSocial ULIDs, Pleroma/Akkoma flake ids).
//!
//! Limits: 40 statuses per page; 300 requests per 5 minutes per account or IP (the default
//! `X-RateLimit-*` headers, honoured by hark).
//!
//! Mapping: a reblog is mapped as the original status it wraps. `parent_id` stays `None`:
//! `in_reply_to_id` is an instance-local id and the parent's `uri` (our id) is not in the
//! response. `author` is `account.acct` (`user` for the instance's own accounts,
//! `user@domain` for remote ones). A content warning (`spoiler_text`) is put before the text.

use super::api::{Api, ApiRequest, BodySignal, Page, PageQuery, ShapeError, Stream, enc, pick};
use super::settings::{CheckContext, KindConfig, PAGING_KEYS, SourceConfig};
use super::{BuildError, Source};
use crate::fields::{EnvVar, FieldError, clean_names};
use crate::mention::{Engagement, Mention};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

/// `kind = "mastodon"` settings.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MastodonConfig {
    /// Hashtags whose timelines are read, `#` optional.
    #[serde(default)]
    pub tags: Vec<String>,
    pub token_env: Option<EnvVar>,
}

impl KindConfig for MastodonConfig {
    const NAME: &'static str = "mastodon";
    const PAGING: &'static [&'static str] = PAGING_KEYS;

    fn check(&mut self, _: &CheckContext<'_>) -> Result<(), FieldError> {
        clean_names(&mut self.tags, "#");
        Ok(())
    }

    fn build(&self, c: &SourceConfig, terms: Vec<String>) -> Result<Box<dyn Source>, BuildError> {
        Ok(super::api_source(Mastodon::new(c, self)?, c, terms))
    }
}

const BASE: &str = "https://mastodon.social";
const MAX_LIMIT: usize = 40;

pub struct Mastodon {
    token: Option<crate::http::redact::Secret>,
    tags: Vec<String>,
}

impl Mastodon {
    pub fn new(config: &SourceConfig, s: &MastodonConfig) -> Result<Mastodon, BuildError> {
        let token = super::credential(config, "token_env", s.token_env.as_ref())?;
        Ok(Mastodon {
            token,
            tags: s.tags.clone(),
        })
    }
}

/// A term usable as a hashtag (`#rust`, `rust_lang`), normalised to lower case.
fn as_hashtag(term: &str) -> Option<String> {
    let t = term.trim();
    let t = t.strip_prefix('#').unwrap_or(t);
    (!t.is_empty() && t.chars().all(|c| c.is_alphanumeric() || c == '_')).then(|| t.to_lowercase())
}

/// The smallest Snowflake id of a status created at `t` (Mastodon's `id_at`).
fn snowflake_at(t: DateTime<Utc>) -> u64 {
    (t.timestamp_millis().max(0) as u64) << 16
}

impl Api for Mastodon {
    fn kind(&self) -> &'static str {
        "mastodon"
    }

    fn streams(&self, terms: &[String]) -> Vec<Stream> {
        let mut out: Vec<Stream> = Vec::new();
        let mut push = |s: Stream| {
            if !out.iter().any(|o| o.key == s.key) {
                out.push(s);
            }
        };
        if self.token.is_some() {
            for t in terms {
                push(Stream::new("search", t));
            }
        }
        for tag in self.tags.iter().filter_map(|t| as_hashtag(t)) {
            push(Stream::new("tag", tag));
        }
        for tag in terms.iter().filter_map(|t| as_hashtag(t)) {
            push(Stream::new("tag", tag));
        }
        out
    }

    fn request(&self, q: &PageQuery<'_>) -> Result<ApiRequest, ShapeError> {
        let limit = q.page_size.clamp(1, MAX_LIMIT);
        let since_id = snowflake_at(q.since);
        let page = q
            .page
            .map(|p| format!("&max_id={}", enc(p)))
            .unwrap_or_default();
        let url = match q.stream.endpoint {
            "search" => {
                let term = &q.stream.arg;
                let query = super::api::phrase(term);
                format!(
                    "{BASE}/api/v2/search?q={}&type=statuses&limit={limit}&min_id={since_id}{page}",
                    enc(&query)
                )
            }
            "tag" => format!(
                "{BASE}/api/v1/timelines/tag/{}?limit={limit}&since_id={since_id}{page}",
                enc(&q.stream.arg)
            ),
            other => {
                return Err(ShapeError::Endpoint {
                    kind: "mastodon",
                    endpoint: other.to_string(),
                });
            }
        };
        let req = ApiRequest::get(url);
        match &self.token {
            Some(t) => req.bearer(t.expose()),
            None => Ok(req),
        }
    }

    fn parse(&self, q: &PageQuery<'_>, body: &Value) -> Result<Page, ShapeError> {
        let stream = q.stream;
        let statuses = match stream.endpoint {
            "search" => body.get("statuses").and_then(Value::as_array),
            _ => body.as_array(),
        }
        .ok_or(if stream.endpoint == "search" {
            "no `statuses` array"
        } else {
            "the response is not an array of statuses"
        })?;
        let mut page = Page::default();
        for (i, s) in statuses.iter().enumerate() {
            match map_status(s) {
                Ok(m) => page.items.push(m),
                Err(e) => page.skipped.push(format!("status {i}: {e}")),
            }
        }
        // Paging goes by the timeline entry's own id (the wrapper, for a reblog).
        page.next = statuses.last().and_then(|s| pick::str_at(s, "/id"));
        Ok(page)
    }

    fn inspect(&self, body: &Value) -> BodySignal {
        match pick::str_at(body, "/error") {
            Some(e) => BodySignal::Fail(match pick::str_at(body, "/error_description") {
                Some(d) => format!("{e}: {d}"),
                None => e,
            }),
            None => BodySignal::Ok,
        }
    }
}

fn map_status(wrapper: &Value) -> Result<Mention, ShapeError> {
    let s = match wrapper.get("reblog") {
        Some(r) if r.is_object() => r,
        _ => wrapper,
    };
    let uri = pick::need(
        pick::str_at(s, "/uri").or_else(|| pick::str_at(s, "/url")),
        "uri",
    )?;
    let published_at = pick::need(pick::time_at(s, "/created_at"), "created_at")?;
    let content = pick::str_at(s, "/content")
        .map(|c| pick::html_text(&c))
        .unwrap_or_default();
    let text = match pick::str_at(s, "/spoiler_text").map(|w| pick::html_text(&w)) {
        Some(warning) if !warning.is_empty() && !content.is_empty() => {
            format!("{warning}\n{content}")
        }
        Some(warning) if !warning.is_empty() => warning,
        _ => content,
    };
    let id = format!("mastodon:{uri}");
    Ok(Mention {
        url: pick::str_at(s, "/url").or(Some(uri)),
        author: pick::str_at(s, "/account/acct"),
        text,
        engagement: Engagement {
            likes: pick::u64_at(s, "/favourites_count"),
            shares: pick::u64_at(s, "/reblogs_count"),
            comments: pick::u64_at(s, "/replies_count"),
            views: None,
            followers: pick::u64_at(s, "/account/followers_count"),
            rating: None,
        },
        ..Mention::new(id, published_at)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::EnvVar;
    use crate::sources::api::Cursor;
    use chrono::TimeZone;

    fn fixture(name: &str) -> Option<Value> {
        crate::sources::api::fixture("mastodon", name)
    }

    fn api(token: Option<&str>, tags: &[&str]) -> Mastodon {
        Mastodon {
            token: token.map(Into::into),
            tags: tags.iter().map(|t| t.to_string()).collect(),
        }
    }

    fn new(token_env: Option<&str>) -> Result<Mastodon, String> {
        let s = MastodonConfig {
            token_env: token_env.map(|v| EnvVar(v.into())),
            ..Default::default()
        };
        Mastodon::new(&SourceConfig::new("masto", s.clone()), &s).map_err(|e| e.to_string())
    }

    #[test]
    fn maps_a_hashtag_timeline_page() {
        let m = api(None, &[]);
        let s = Stream::new("tag", "fgiztsshwiaqqiztpmmjbtvmescsculuvmgjgopwoeidbcrixp");
        let Some(recorded) = fixture("timelines_tag_page1_limit10.json") else {
            return;
        };
        let p = m.parse(&PageQuery::first_page(&s), &recorded).unwrap();
        assert_eq!(p.items.len(), 10);
        assert!(p.skipped.is_empty());
        let a = &p.items[0];
        assert_eq!(
            a.id,
            "mastodon:http://localhost:3000/ap/users/117020566092212359/statuses/117020582251615632"
        );
        assert_eq!(
            a.url.as_deref(),
            Some("http://localhost:3000/@mastodonpy_test_2/117020582251615632")
        );
        assert_eq!(a.author.as_deref(), Some("mastodonpy_test_2"));
        assert_eq!(
            a.text,
            "Toot number 29! #fgiztsshwiaqqiztpmmjbtvmescsculuvmgjgopwoeidbcrixp"
        );
        assert_eq!(a.title, None);
        assert_eq!(a.published_at.timestamp_millis(), 1785592380550);
        assert_eq!(
            a.engagement,
            Engagement {
                likes: Some(0),
                shares: Some(0),
                comments: Some(0),
                views: None,
                followers: Some(0),
                rating: None,
            }
        );
        assert_eq!(a.parent_id, None);
        let b = &p.items[9];
        assert_eq!(
            b.id,
            "mastodon:http://localhost:3000/ap/users/117020566092212359/statuses/117020582177108552"
        );
        assert!(b.text.starts_with("Toot number 20! #"), "{}", b.text);
        assert_eq!(b.published_at.timestamp_millis(), 1785592379413);
        // Same as the `max_id` of the recorded `Link: rel="next"` header.
        assert_eq!(p.next.as_deref(), Some("117020582177108552"));

        let Some(recorded) = fixture("timelines_tag_hoot.json") else {
            return;
        };
        let p = m
            .parse(
                &PageQuery::first_page(&Stream::new("tag", "hoot")),
                &recorded,
            )
            .unwrap();
        assert_eq!(p.items.len(), 1);
        assert_eq!(p.items[0].text, "#hoot (hashtag toot)");
        assert_eq!(p.items[0].published_at.timestamp_millis(), 1785592555867);
        assert_eq!(p.next.as_deref(), Some("117020593741189701"));

        let Some(recorded) = fixture("timelines_tag_page4_empty.json") else {
            return;
        };
        let p = m.parse(&PageQuery::first_page(&s), &recorded).unwrap();
        assert!(p.items.is_empty());
        assert_eq!(p.next, None);
    }

    #[test]
    fn search_body_without_statuses_is_an_empty_page() {
        // The recorded search matched accounts only: `statuses` is an empty array.
        let m = api(Some("t"), &[]);
        let Some(recorded) = fixture("search_v2_q-mastodonpy_test.json") else {
            return;
        };
        let p = m
            .parse(
                &PageQuery::first_page(&Stream::new("search", "mastodonpy_test")),
                &recorded,
            )
            .unwrap();
        assert!(p.items.is_empty());
        assert_eq!(p.next, None);
        assert!(
            m.parse(
                &PageQuery::first_page(&Stream::new("search", "x")),
                &serde_json::json!([])
            )
            .is_err()
        );
        assert!(
            m.parse(
                &PageQuery::first_page(&Stream::new("tag", "x")),
                &serde_json::json!({})
            )
            .is_err()
        );
    }

    #[test]
    fn maps_search_results_reblogs_and_content_warnings() {
        // Built from the documented Status entity (no recorded search with statuses).
        let body = serde_json::json!({"accounts": [], "hashtags": [], "statuses": [
            {"id": "113", "created_at": "2026-03-01T10:00:00.000Z",
             "uri": "https://other.example/users/bob/statuses/9", "url": "https://other.example/@bob/9",
             "spoiler_text": "acme &amp; co", "content": "<p>I think <b>Acme</b> is fine</p>",
             "favourites_count": 4, "reblogs_count": 2, "replies_count": 1,
             "in_reply_to_id": "100", "reblog": null,
             "account": {"acct": "bob@other.example", "followers_count": 120}},
            {"id": "112", "created_at": "2026-03-01T09:00:00.000Z",
             "uri": "https://mastodon.social/users/al/statuses/112/activity", "url": null,
             "content": "", "favourites_count": 0, "reblogs_count": 0, "replies_count": 0,
             "account": {"acct": "al", "followers_count": 3},
             "reblog": {"id": "90", "created_at": "2026-02-28T08:00:00Z",
                        "uri": "https://mastodon.social/users/cy/statuses/90",
                        "url": "https://mastodon.social/@cy/90",
                        "content": "<p>Acme rocks</p>", "spoiler_text": "",
                        "favourites_count": 30, "reblogs_count": 7, "replies_count": 5,
                        "account": {"acct": "cy", "followers_count": 999}}}
        ]});
        let m = api(Some("t"), &[]);
        let p = m
            .parse(
                &PageQuery::first_page(&Stream::new("search", "acme")),
                &body,
            )
            .unwrap();
        let a = &p.items[0];
        assert_eq!(a.id, "mastodon:https://other.example/users/bob/statuses/9");
        assert_eq!(a.url.as_deref(), Some("https://other.example/@bob/9"));
        assert_eq!(a.author.as_deref(), Some("bob@other.example"));
        assert_eq!(a.text, "acme & co\nI think Acme is fine");
        assert_eq!(a.engagement.likes, Some(4));
        assert_eq!(a.engagement.shares, Some(2));
        assert_eq!(a.engagement.comments, Some(1));
        assert_eq!(a.engagement.followers, Some(120));
        assert_eq!(a.parent_id, None);
        let r = &p.items[1];
        assert_eq!(
            r.id,
            "mastodon:https://mastodon.social/users/cy/statuses/90"
        );
        assert_eq!(r.url.as_deref(), Some("https://mastodon.social/@cy/90"));
        assert_eq!(r.author.as_deref(), Some("cy"));
        assert_eq!(r.text, "Acme rocks");
        assert_eq!(r.published_at.timestamp(), 1772265600);
        assert_eq!(r.engagement.likes, Some(30));
        assert_eq!(r.engagement.followers, Some(999));
        // Paging continues below the wrapper's id, not the original's.
        assert_eq!(p.next.as_deref(), Some("112"));
    }

    #[test]
    fn requests_carry_the_cursor_as_a_snowflake_id() {
        let m = api(Some("sekrit"), &[]);
        let since = Utc.with_ymd_and_hms(2026, 8, 1, 13, 53, 0).unwrap();
        let cursor = Cursor {
            time: since,
            id: Some("http://localhost:3000/ap/users/1/statuses/2".into()),
        };
        let snow = (since.timestamp_millis() as u64) << 16;
        assert_eq!(snow, 117020582215680000);
        let s = Stream::new("tag", "hoot");
        let q = PageQuery {
            stream: &s,
            cursor: Some(&cursor),
            since,
            page: None,
            page_size: 100,
            token: None,
        };
        let r = m.request(&q).unwrap();
        assert_eq!(
            r.url,
            "https://mastodon.social/api/v1/timelines/tag/hoot?limit=40&since_id=117020582215680000"
        );
        assert_eq!(r.headers[0].0.as_str(), "authorization");
        assert_eq!(r.headers[0].1.to_str().unwrap(), "Bearer sekrit");
        let r = m
            .request(&PageQuery {
                page: Some("117020582177108552"),
                page_size: 10,
                ..q
            })
            .unwrap();
        assert_eq!(
            r.url,
            "https://mastodon.social/api/v1/timelines/tag/hoot?limit=10&since_id=117020582215680000&max_id=117020582177108552"
        );
        let s = Stream::new("search", "acme corp");
        let r = m
            .request(&PageQuery {
                stream: &s,
                page: Some("117020582177108552"),
                ..q
            })
            .unwrap();
        assert_eq!(
            r.url,
            "https://mastodon.social/api/v2/search?q=%22acme+corp%22&type=statuses&limit=40&min_id=117020582215680000&max_id=117020582177108552"
        );
        // Without a token: no Authorization header.
        let r = api(None, &[]).request(&q).unwrap();
        assert!(r.headers.is_empty());
    }

    #[test]
    fn streams_search_with_a_token_and_hashtags_always() {
        let terms: Vec<String> = ["Acme", "acme corp", "#Widget", "a-b"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let keys = |m: &Mastodon| -> Vec<String> {
            m.streams(&terms).into_iter().map(|s| s.key).collect()
        };
        assert_eq!(
            keys(&api(None, &["#fediverse", "acme"])),
            ["tag:fediverse", "tag:acme", "tag:widget"]
        );
        assert_eq!(
            keys(&api(Some("t"), &["fediverse"])),
            [
                "search:Acme",
                "search:acme corp",
                "search:#Widget",
                "search:a-b",
                "tag:fediverse",
                "tag:acme",
                "tag:widget"
            ]
        );
    }

    #[test]
    fn token_is_optional_but_must_be_set_when_named() {
        assert!(new(None).unwrap().token.is_none());
        let err = new(Some("HARK_TEST_MASTODON_UNSET_VAR")).err().unwrap();
        assert!(err.contains("HARK_TEST_MASTODON_UNSET_VAR"), "{err}");
    }

    #[test]
    fn drift_skips_the_item_only() {
        let m = api(None, &[]);
        let body = serde_json::json!([
            {"id": "3", "uri": "https://m.example/s/3", "created_at": "2026-01-01T00:00:00Z", "content": "<p>ok</p>"},
            {"id": "2", "created_at": "2026-01-01T00:00:00Z", "content": "no uri"},
            {"id": "1", "uri": "https://m.example/s/1", "content": "no time"}
        ]);
        let p = m
            .parse(&PageQuery::first_page(&Stream::new("tag", "x")), &body)
            .unwrap();
        assert_eq!(p.items.len(), 1);
        assert_eq!(p.items[0].id, "mastodon:https://m.example/s/3");
        assert_eq!(p.items[0].url.as_deref(), Some("https://m.example/s/3"));
        assert_eq!(p.items[0].author, None);
        assert_eq!(p.items[0].engagement, Engagement::default());
        assert_eq!(p.skipped.len(), 2);
        assert!(p.skipped[0].contains("uri"), "{}", p.skipped[0]);
        assert!(p.skipped[1].contains("created_at"), "{}", p.skipped[1]);
        assert_eq!(p.next.as_deref(), Some("1"));
    }

    #[test]
    fn error_bodies_fail() {
        let m = api(None, &[]);
        let Some(recorded) = fixture("status_404.json") else {
            return;
        };
        assert_eq!(m.inspect(&recorded), BodySignal::Fail("Not Found".into()));
        let Some(recorded) = fixture("timelines_tag_hoot.json") else {
            return;
        };
        assert_eq!(m.inspect(&recorded), BodySignal::Ok);
    }
}
