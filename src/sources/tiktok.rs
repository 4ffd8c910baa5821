//! `kind = "tiktok"`: TikTok videos found by keyword or hashtag, with their comments,
//! through the TikTok Research API (`https://open.tiktokapis.com/v2/research/…`).
//!
//! Credentials: the Research API is granted to approved researchers and organisations
//! (developers.tiktok.com → Research API application). The app's client key and client
//! secret (`client_id_env`, `client_secret_env`) buy an access token with the
//! client-credentials grant (`POST /v2/oauth/token/`), renewed hourly (it lives two hours).
//!
//! Streams: one per search term (`keyword IN [term]`) and one per `tags` entry
//! (`hashtag_name IN [tag]`), walked with `POST /v2/research/video/query/`. The query's date
//! window is the cursor's day (or now − backfill) to today, in UTC days; the API accepts
//! at most 30 days, so a longer backfill reaches back 30 days. Pages follow the answer's
//! `cursor` and `search_id`. With `comments` (default true), each video with comments gets
//! its comments (`POST /v2/research/video/comment/list/`), with `parent_id` = the video or
//! the comment they answer.
//!
//! Quota: 1,000 requests a day per app, 100 videos or comments per request. TikTok answers
//! a spent quota or rate with HTTP 429 (waited out through `Retry-After` where given,
//! otherwise the poll ends and the next poll tries again); other refusals come as
//! `error.code` in the body and fail that stream with TikTok's message. Ids:
//! `tiktok:<video id>`, `tiktok:<comment id>`.

use super::api::{
    Api, ApiRequest, BodySignal, Page, PageQuery, SessionRequest, ShapeError, Stream, enc, pick,
};
use super::settings::{CheckContext, KindConfig, PAGING_KEYS, SourceConfig, yes};
use super::{BuildError, Source};
use crate::fields::{EnvVar, FieldError, clean_names};
use crate::http::redact::Secret;
use crate::mention::{Engagement, Mention};
use chrono::{Duration as Days, TimeZone, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

/// `kind = "tiktok"` settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TikTokConfig {
    /// The environment variable holding the Research API client key (required).
    pub client_id_env: Option<EnvVar>,
    /// The environment variable holding the client secret (required).
    pub client_secret_env: Option<EnvVar>,
    /// Hashtags searched besides the queries' terms, `#` optional.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Also read found videos' comments (default true).
    #[serde(default = "yes")]
    pub comments: bool,
}

impl Default for TikTokConfig {
    fn default() -> Self {
        TikTokConfig {
            client_id_env: None,
            client_secret_env: None,
            tags: Vec::new(),
            comments: true,
        }
    }
}

impl KindConfig for TikTokConfig {
    const NAME: &'static str = "tiktok";
    const PAGING: &'static [&'static str] = PAGING_KEYS;

    fn check(&mut self, _: &CheckContext<'_>) -> Result<(), FieldError> {
        clean_names(&mut self.tags, "#");
        Ok(())
    }

    fn build(&self, c: &SourceConfig, terms: Vec<String>) -> Result<Box<dyn Source>, BuildError> {
        Ok(super::api_source(TikTok::new(c, self)?, c, terms))
    }
}

const BASE: &str = "https://open.tiktokapis.com";
const MAX_PAGE: usize = 100;
/// The widest date window one video query may ask for.
const MAX_WINDOW_DAYS: i64 = 30;
const VIDEO_FIELDS: &str = "id,video_description,create_time,region_code,share_count,view_count,like_count,comment_count,username,hashtag_names";
const COMMENT_FIELDS: &str =
    "id,video_id,text,like_count,reply_count,parent_comment_id,create_time";

pub struct TikTok {
    client_key: Secret,
    client_secret: Secret,
    tags: Vec<String>,
    comments: bool,
}

impl TikTok {
    pub fn new(config: &SourceConfig, s: &TikTokConfig) -> Result<TikTok, BuildError> {
        let client_key = super::required_credential(
            config,
            "client_id_env",
            s.client_id_env.as_ref(),
            "the Research API app's client key",
        )?;
        let client_secret = super::required_credential(
            config,
            "client_secret_env",
            s.client_secret_env.as_ref(),
            "the Research API app's client secret",
        )?;
        Ok(TikTok {
            client_key,
            client_secret,
            tags: s.tags.clone(),
            comments: s.comments,
        })
    }
}

/// A page token: the answer's `cursor` and `search_id`, which the next page must repeat.
fn page_token(cursor: u64, search_id: Option<&str>) -> String {
    format!("{cursor}|{}", search_id.unwrap_or(""))
}

fn parse_page_token(t: &str) -> (u64, Option<&str>) {
    let (c, s) = t.split_once('|').unwrap_or((t, ""));
    (c.parse().unwrap_or(0), Some(s).filter(|s| !s.is_empty()))
}

impl Api for TikTok {
    fn kind(&self) -> &'static str {
        "tiktok"
    }

    fn streams(&self, terms: &[String]) -> Vec<Stream> {
        let mut s = super::api::search_streams(terms);
        let mut seen = std::collections::HashSet::new();
        s.extend(
            self.tags
                .iter()
                .map(|t| t.to_lowercase())
                .filter(|t| seen.insert(t.clone()))
                .map(|t| Stream::new("hashtag", t)),
        );
        s
    }

    fn session(&self) -> Option<SessionRequest> {
        let body = format!(
            "client_key={}&client_secret={}&grant_type=client_credentials",
            enc(self.client_key.expose()),
            enc(self.client_secret.expose())
        );
        Some(SessionRequest {
            url: format!("{BASE}/v2/oauth/token/"),
            content_type: "application/x-www-form-urlencoded",
            body: body.into(),
            headers: Vec::new(),
        })
    }

    fn session_token(&self, body: &Value) -> Result<String, ShapeError> {
        if let Some(e) = pick::str_at(body, "/error") {
            let why = pick::str_at(body, "/error_description").unwrap_or_default();
            return Err(ShapeError::Unexpected(format!(
                "TikTok refused the client credentials: {e} {why}"
            )));
        }
        pick::str_at(body, "/access_token").ok_or_else(|| "no `access_token` in the answer".into())
    }

    fn request(&self, q: &PageQuery<'_>) -> Result<ApiRequest, ShapeError> {
        let token = q.token.ok_or("no access token")?;
        let (cursor, search_id) = q.page.map(parse_page_token).unwrap_or((0, None));
        let max = q.page_size.clamp(1, MAX_PAGE);
        let req = match q.stream.endpoint {
            "search" | "hashtag" => {
                let field = if q.stream.endpoint == "search" {
                    "keyword"
                } else {
                    "hashtag_name"
                };
                let today = Utc::now().date_naive();
                let earliest = today - Days::days(MAX_WINDOW_DAYS - 1);
                let start = q.since.date_naive().clamp(earliest, today);
                let mut body = json!({
                    "query": {"and": [{"operation": "IN", "field_name": field, "field_values": [q.stream.arg]}]},
                    "start_date": start.format("%Y%m%d").to_string(),
                    "end_date": today.format("%Y%m%d").to_string(),
                    "max_count": max,
                    "cursor": cursor,
                });
                if let Some(id) = search_id {
                    body["search_id"] = id.into();
                }
                ApiRequest::post(
                    format!(
                        "{BASE}/v2/research/video/query/?fields={}",
                        enc(VIDEO_FIELDS)
                    ),
                    "application/json",
                    body.to_string(),
                )
            }
            "comments" => {
                let video: u64 = q.stream.arg.parse().map_err(|_| {
                    ShapeError::Unexpected(format!("`{}` is not a video id", q.stream.arg))
                })?;
                ApiRequest::post(
                    format!(
                        "{BASE}/v2/research/video/comment/list/?fields={}",
                        enc(COMMENT_FIELDS)
                    ),
                    "application/json",
                    json!({"video_id": video, "max_count": max, "cursor": cursor}).to_string(),
                )
            }
            other => {
                return Err(ShapeError::Endpoint {
                    kind: "tiktok",
                    endpoint: other.to_string(),
                });
            }
        };
        req.bearer(token)
    }

    fn parse(&self, q: &PageQuery<'_>, body: &Value) -> Result<Page, ShapeError> {
        let comments = q.stream.endpoint == "comments";
        let key = if comments { "comments" } else { "videos" };
        let data = body.get("data").ok_or("no `data` object")?;
        let list = pick::optional_list(data.get(key), key)?;
        let mut page = Page::default();
        page.map_items(
            key,
            list,
            |item| match comments {
                true => map_comment(item, &q.stream.arg),
                false => map_video(item),
            },
            |item, m| {
                let commented = pick::u64_at(item, "/comment_count").is_none_or(|n| n > 0);
                (!comments && self.comments && commented).then(|| {
                    Stream::new("comments", m.id.trim_start_matches("tiktok:").to_string())
                })
            },
        );
        if !list.is_empty() && data.get("has_more").and_then(Value::as_bool) == Some(true) {
            let cursor = pick::u64_at(data, "/cursor").ok_or("`has_more` without a `cursor`")?;
            let search_id = pick::str_at(data, "/search_id");
            page.next = Some(page_token(cursor, search_id.as_deref()));
        }
        Ok(page)
    }

    fn inspect(&self, body: &Value) -> BodySignal {
        match pick::str_at(body, "/error/code").as_deref() {
            None | Some("ok") => BodySignal::Ok,
            Some(code) => {
                let msg = pick::str_at(body, "/error/message").unwrap_or_default();
                BodySignal::Fail(format!("TikTok API error `{code}`: {msg}"))
            }
        }
    }
}

fn map_video(v: &Value) -> Result<Mention, ShapeError> {
    let id = pick::need(pick::str_at(v, "/id"), "id")?;
    let secs = pick::need(v.get("create_time").and_then(Value::as_i64), "create_time")?;
    let published_at = pick::need(Utc.timestamp_opt(secs, 0).single(), "create_time")?;
    let username = pick::str_at(v, "/username");
    let url = match &username {
        Some(u) => format!("https://www.tiktok.com/@{u}/video/{id}"),
        None => format!("https://www.tiktok.com/video/{id}"),
    };
    Ok(Mention {
        url: Some(url),
        author: username,
        text: pick::str_at(v, "/video_description").unwrap_or_default(),
        engagement: Engagement {
            likes: pick::u64_at(v, "/like_count"),
            shares: pick::u64_at(v, "/share_count"),
            comments: pick::u64_at(v, "/comment_count"),
            views: pick::u64_at(v, "/view_count"),
            ..Default::default()
        },
        ..Mention::new(format!("tiktok:{id}"), published_at)
    })
}

fn map_comment(c: &Value, video: &str) -> Result<Mention, ShapeError> {
    let id = pick::need(pick::str_at(c, "/id"), "id")?;
    let secs = pick::need(c.get("create_time").and_then(Value::as_i64), "create_time")?;
    let published_at = pick::need(Utc.timestamp_opt(secs, 0).single(), "create_time")?;
    // A top-level comment's parent is the video itself.
    let parent = pick::str_at(c, "/parent_comment_id")
        .filter(|p| p != video && p != "0")
        .unwrap_or_else(|| video.to_string());
    Ok(Mention {
        url: Some(format!("https://www.tiktok.com/video/{video}")),
        text: pick::need(pick::str_at(c, "/text"), "text")?,
        engagement: Engagement {
            likes: pick::u64_at(c, "/like_count"),
            comments: pick::u64_at(c, "/reply_count"),
            ..Default::default()
        },
        parent_id: Some(format!("tiktok:{parent}")),
        ..Mention::new(format!("tiktok:{id}"), published_at)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api() -> TikTok {
        TikTok {
            client_key: Secret::new("k"),
            client_secret: Secret::new("s"),
            tags: vec!["AcmeFail".into()],
            comments: true,
        }
    }

    #[test]
    fn the_date_window_is_at_most_thirty_days() {
        let s = Stream::new("search", "acme");
        let q = PageQuery {
            since: Utc::now() - Days::days(400),
            token: Some("t"),
            ..PageQuery::first_page(&s)
        };
        let req = api().request(&q).unwrap();
        let (_, body) = req.body.unwrap();
        let body: Value = serde_json::from_slice(&body).unwrap();
        let start =
            chrono::NaiveDate::parse_from_str(body["start_date"].as_str().unwrap(), "%Y%m%d")
                .unwrap();
        let end = chrono::NaiveDate::parse_from_str(body["end_date"].as_str().unwrap(), "%Y%m%d")
            .unwrap();
        assert_eq!((end - start).num_days(), MAX_WINDOW_DAYS - 1);
        assert_eq!(body["query"]["and"][0]["field_values"][0], "acme");
        assert_eq!(body["max_count"], 100);
        // Hashtags search `hashtag_name`; the next page repeats cursor and search_id.
        let h = Stream::new("hashtag", "acmefail");
        let q = PageQuery {
            page: Some("100|7201388"),
            token: Some("t"),
            ..PageQuery::first_page(&h)
        };
        let (_, body) = api().request(&q).unwrap().body.unwrap();
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["query"]["and"][0]["field_name"], "hashtag_name");
        assert_eq!(
            (body["cursor"].as_u64(), body["search_id"].as_str()),
            (Some(100), Some("7201388"))
        );
    }

    #[test]
    fn body_errors_fail_the_stream() {
        let ok = json!({"data": {"videos": []}, "error": {"code": "ok", "message": ""}});
        assert_eq!(api().inspect(&ok), BodySignal::Ok);
        let bad = json!({"data": {}, "error": {"code": "invalid_params", "message": "Invalid date range"}});
        assert_eq!(
            api().inspect(&bad),
            BodySignal::Fail("TikTok API error `invalid_params`: Invalid date range".into())
        );
    }
}
