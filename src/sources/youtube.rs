//! `kind = "youtube"`: videos found by the YouTube Data API v3 search
//! (`/youtube/v3/search?type=video&order=date`, newest first) and, with `comments = true`
//! (the default), the comment threads of each video found
//! (`/youtube/v3/commentThreads?order=time`, with the replies YouTube sends inline).
//!
//! Credentials: an API key, required, named by `key_env` and sent as the `key=` query
//! parameter. Create one in the Google Cloud console: enable "YouTube Data API v3" for a
//! project, then Credentials → Create credentials → API key.
//!
//! One stream per search term. The cursor goes to the API as `publishedAfter=` (RFC 3339: the
//! cursor's time, or now − backfill on the first poll), so a poll only transfers videos
//! published since; the search has no "after this id" filter, so the cursor's id is not used.
//! Multi-word terms are sent quoted, which YouTube searches as a phrase. Pages follow
//! `nextPageToken` (`pageToken=`), at most 50 videos per page. Each video found adds a
//! follow stream `comments:<videoId>` (walked in the same poll with the same `since`; the
//! comment API has no time filter, so the walk stops on the first comment older than that);
//! threads come 100 per page, and `part=snippet,replies` brings up to five replies of each
//! thread with it at no extra cost. Replies beyond those are not fetched (that would take a
//! `comments.list` call per thread).
//!
//! Quota: every project gets 10,000 units a day by default. A search page costs 100 units,
//! a comment-thread page 1 unit. So at most 100 search pages a day: polling T terms every
//! `interval` with one page each spends T × 100 × 86,400 / interval units a day, which stays
//! under 10,000 only when `interval` ≥ T × 864 s (about 15 minutes per term: 3 terms → every
//! 45 minutes; more when polls walk more than one page). Comments add 1 unit per video and
//! page, small beside that. Spent quota answers 403 `quotaExceeded` until midnight Pacific
//! time; videos whose comments are turned off answer 403 `commentsDisabled` to the comments
//! request.
//!
//! Engagement: search results carry no counters (they would take a `videos.list?part=statistics`
//! call per page), so videos have none; comments have likes and reply counts. Authors are
//! channel titles (search results and comment threads carry no `@handle`).

use super::api::{Api, ApiRequest, BodySignal, Page, PageQuery, ShapeError, Stream, enc, pick};
use super::settings::{KindConfig, PAGING_KEYS, SourceConfig, yes};
use super::{BuildError, Source};
use crate::fields::EnvVar;
use crate::mention::{Engagement, Mention};
use chrono::SecondsFormat;
use serde::Deserialize;
use serde_json::Value;

/// `kind = "youtube"` settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct YouTubeConfig {
    /// The environment variable holding the Data API key (required).
    pub key_env: Option<EnvVar>,
    /// Also read found videos' comments (default true).
    #[serde(default = "yes")]
    pub comments: bool,
}

impl Default for YouTubeConfig {
    fn default() -> Self {
        YouTubeConfig {
            key_env: None,
            comments: true,
        }
    }
}

impl KindConfig for YouTubeConfig {
    const NAME: &'static str = "youtube";
    const PAGING: &'static [&'static str] = PAGING_KEYS;

    fn build(&self, c: &SourceConfig, terms: Vec<String>) -> Result<Box<dyn Source>, BuildError> {
        Ok(super::api_source(YouTube::new(c, self)?, c, terms))
    }
}

const BASE: &str = "https://www.googleapis.com";

pub struct YouTube {
    key: crate::http::redact::Secret,
    comments: bool,
}

impl YouTube {
    pub fn new(config: &SourceConfig, s: &YouTubeConfig) -> Result<YouTube, BuildError> {
        let key = super::required_credential(
            config,
            "key_env",
            s.key_env.as_ref(),
            "a YouTube Data API v3 key (create one in the Google Cloud console: enable \"YouTube Data API v3\", then Credentials → Create credentials → API key)",
        )?;
        Ok(YouTube {
            key,
            comments: s.comments,
        })
    }
}

impl Api for YouTube {
    fn kind(&self) -> &'static str {
        "youtube"
    }

    fn streams(&self, terms: &[String]) -> Vec<Stream> {
        super::api::search_streams(terms)
    }

    fn request(&self, q: &PageQuery<'_>) -> Result<ApiRequest, ShapeError> {
        let page = q
            .page
            .map(|p| format!("&pageToken={}", enc(p)))
            .unwrap_or_default();
        let url = match q.stream.endpoint {
            "search" => {
                let term = &q.stream.arg;
                let query = super::api::phrase(term);
                format!(
                    "{BASE}/youtube/v3/search?part=snippet&type=video&order=date&q={}&maxResults={}&publishedAfter={}{page}&key={}",
                    enc(&query),
                    q.page_size.clamp(1, 50),
                    enc(&q.since.to_rfc3339_opts(SecondsFormat::Secs, true)),
                    enc(self.key.expose()),
                )
            }
            "comments" => format!(
                "{BASE}/youtube/v3/commentThreads?part=snippet%2Creplies&videoId={}&order=time&maxResults={}&textFormat=plainText{page}&key={}",
                enc(&q.stream.arg),
                q.page_size.clamp(1, 100),
                enc(self.key.expose()),
            ),
            other => {
                return Err(ShapeError::Endpoint {
                    kind: "youtube",
                    endpoint: other.to_string(),
                });
            }
        };
        Ok(ApiRequest::get(url))
    }

    fn parse(&self, q: &PageQuery<'_>, body: &Value) -> Result<Page, ShapeError> {
        let stream = q.stream;
        let items = body
            .get("items")
            .and_then(Value::as_array)
            .ok_or("no `items` array")?;
        let mut page = Page::default();
        match stream.endpoint {
            "search" => {
                for (i, item) in items.iter().enumerate() {
                    match map_video(item) {
                        Ok((video_id, m)) => {
                            page.items.push(m);
                            let follow = Stream::new("comments", video_id);
                            if self.comments && !page.follow.contains(&follow) {
                                page.follow.push(follow);
                            }
                        }
                        Err(e) => page.skipped.push(format!("video {i}: {e}")),
                    }
                }
            }
            "comments" => {
                for (i, thread) in items.iter().enumerate() {
                    match map_thread(thread, &stream.arg) {
                        Ok(ms) => page.items.extend(ms),
                        Err(e) => page.skipped.push(format!("comment thread {i}: {e}")),
                    }
                }
            }
            other => {
                return Err(ShapeError::Endpoint {
                    kind: "youtube",
                    endpoint: other.to_string(),
                });
            }
        }
        if !items.is_empty() {
            page.next = pick::str_at(body, "/nextPageToken");
        }
        Ok(page)
    }

    /// Google reports errors with an HTTP error status, which the framework handles; a 2xx
    /// body carrying Google's error envelope (a relay behind `base_url` that answers 200)
    /// fails the request with YouTube's reason instead of an unusable-shape error.
    fn inspect(&self, body: &Value) -> BodySignal {
        let Some(err) = body.get("error").filter(|e| e.is_object()) else {
            return BodySignal::Ok;
        };
        let code = pick::str_at(err, "/code").unwrap_or_else(|| "?".into());
        let reason = pick::str_at(err, "/errors/0/reason")
            .or_else(|| pick::str_at(err, "/status"))
            .unwrap_or_else(|| "unknown".into());
        let message = pick::str_at(err, "/message").unwrap_or_default();
        BodySignal::Fail(format!("YouTube API error {code} ({reason}): {message}"))
    }
}

/// A search result: the video's id (for its comments stream) and its mention.
fn map_video(item: &Value) -> Result<(String, Mention), ShapeError> {
    let id = pick::need(pick::str_at(item, "/id/videoId"), "id.videoId")?;
    let published_at = pick::need(
        pick::time_at(item, "/snippet/publishedAt"),
        "snippet.publishedAt",
    )?;
    let mention = Mention {
        url: Some(format!("https://www.youtube.com/watch?v={id}")),
        author: pick::str_at(item, "/snippet/channelTitle"),
        title: pick::str_at(item, "/snippet/title").map(|t| pick::html_text(&t)),
        text: pick::str_at(item, "/snippet/description")
            .map(|d| pick::html_text(&d))
            .unwrap_or_default(),
        ..Mention::new(format!("youtube:{id}"), published_at)
    };
    Ok((id, mention))
}

/// A comment thread: its top-level comment, then the replies sent inline.
fn map_thread(thread: &Value, stream_video: &str) -> Result<Vec<Mention>, ShapeError> {
    let top = thread
        .pointer("/snippet/topLevelComment")
        .ok_or("missing or invalid `snippet.topLevelComment`")?;
    let video_id = pick::str_at(thread, "/snippet/videoId")
        .or_else(|| pick::str_at(top, "/snippet/videoId"))
        .unwrap_or_else(|| stream_video.to_string());
    let mut top_mention = map_comment(top, &video_id, &format!("youtube:{video_id}"))?;
    top_mention.engagement.comments = pick::u64_at(thread, "/snippet/totalReplyCount");
    let top_id = top_mention.id.clone();
    let mut out = vec![top_mention];
    let replies = thread
        .pointer("/replies/comments")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for reply in replies {
        let parent = pick::str_at(reply, "/snippet/parentId")
            .map(|p| format!("youtube:{p}"))
            .unwrap_or_else(|| top_id.clone());
        // A reply that does not map is dropped; the thread it belongs to is kept.
        if let Ok(m) = map_comment(reply, &video_id, &parent) {
            out.push(m);
        }
    }
    Ok(out)
}

fn map_comment(c: &Value, video_id: &str, parent_id: &str) -> Result<Mention, ShapeError> {
    let id = pick::need(pick::str_at(c, "/id"), "id")?;
    let published_at = pick::need(pick::time_at(c, "/snippet/publishedAt"), "publishedAt")?;
    let text = pick::str_at(c, "/snippet/textOriginal")
        .or_else(|| pick::str_at(c, "/snippet/textDisplay").map(|t| pick::html_text(&t)))
        .unwrap_or_default();
    Ok(Mention {
        url: Some(format!(
            "https://www.youtube.com/watch?v={video_id}&lc={id}"
        )),
        author: pick::str_at(c, "/snippet/authorDisplayName"),
        text,
        engagement: Engagement {
            likes: pick::u64_at(c, "/snippet/likeCount"),
            ..Default::default()
        },
        parent_id: Some(parent_id.to_string()),
        ..Mention::new(format!("youtube:{id}"), published_at)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::api::Cursor;
    use chrono::{TimeZone, Utc};

    fn fixture(name: &str) -> Option<Value> {
        crate::sources::api::fixture("youtube", name)
    }

    fn yt(comments: bool) -> YouTube {
        YouTube {
            key: "K&Y".into(),
            comments,
        }
    }

    #[test]
    fn maps_keyword_search_and_follows_comments() {
        let s = Stream::new("search", "surfing");
        let Some(recorded) = fixture("search.list_keywords_page1.json") else {
            return;
        };
        let p = yt(true)
            .parse(&PageQuery::first_page(&s), &recorded)
            .unwrap();
        assert_eq!(p.items.len(), 25);
        assert!(p.skipped.is_empty());
        assert_eq!(p.next.as_deref(), Some("CBkQAA"));
        let m = &p.items[0];
        assert_eq!(m.id, "youtube:gQ_1zX-F_No");
        assert_eq!(
            m.url.as_deref(),
            Some("https://www.youtube.com/watch?v=gQ_1zX-F_No")
        );
        assert_eq!(m.author.as_deref(), Some("Jamie O'Brien"));
        assert_eq!(
            m.title.as_deref(),
            Some("SURFING HAWAII’S BEST WAVE WITH MY GIRLFRIEND (PIPELINE)")
        );
        assert!(
            m.text.starts_with("SOME FUN BARRELS IN THE MORNING"),
            "{}",
            m.text
        );
        assert_eq!(
            m.published_at,
            Utc.with_ymd_and_hms(2019, 12, 5, 19, 0, 10).unwrap()
        );
        assert_eq!(m.engagement, Engagement::default());
        assert_eq!(m.parent_id, None);
        // Entities in titles are decoded.
        let m = &p.items[1];
        assert_eq!(m.id, "youtube:i2hewkFijuY");
        assert_eq!(m.author.as_deref(), Some("Koa Rothman"));
        assert_eq!(
            m.title.as_deref(),
            Some("SURFING PERFECT PIPE & BACKDOOR || SUNRISE SHACK!")
        );
        assert_eq!(m.published_at.timestamp(), 1575475208);
        assert_eq!(
            p.items[17].title.as_deref(),
            Some("DANGEROUS SEWER DRAIN SURFING! | Jamie O'Brien")
        );
        assert_eq!(p.follow.len(), 25);
        assert_eq!(p.follow[0], Stream::new("comments", "gQ_1zX-F_No"));
        assert_eq!(p.follow[0].key, "comments:gQ_1zX-F_No");
        assert_eq!(p.follow[24].arg, "-2IlD-x8wvY");

        // Without comments, no follow streams.
        let Some(recorded) = fixture("search.list_keywords_page1.json") else {
            return;
        };
        let p = yt(false)
            .parse(&PageQuery::first_page(&s), &recorded)
            .unwrap();
        assert_eq!(p.items.len(), 25);
        assert!(p.follow.is_empty());
    }

    #[test]
    fn maps_channel_search_results() {
        let Some(recorded) = fixture("search.list_channelId_videos.json") else {
            return;
        };
        let p = yt(true)
            .parse(
                &PageQuery::first_page(&Stream::new("search", "news")),
                &recorded,
            )
            .unwrap();
        assert_eq!(p.items.len(), 5);
        assert_eq!(p.next.as_deref(), Some("CAUQAA"));
        let m = &p.items[1];
        assert_eq!(m.id, "youtube:lVQ1EKR1v1I");
        assert_eq!(m.title.as_deref(), Some("YouTube's API and The News"));
        assert_eq!(m.author.as_deref(), Some("Google Developers"));
        assert_eq!(
            m.published_at,
            Utc.with_ymd_and_hms(2011, 9, 12, 20, 55, 45).unwrap()
        );
        let m = &p.items[4];
        assert_eq!(m.id, "youtube:dfweWyVScaI");
        assert_eq!(
            m.url.as_deref(),
            Some("https://www.youtube.com/watch?v=dfweWyVScaI")
        );
        assert_eq!(
            m.title.as_deref(),
            Some("Breaking News at 1000ms with Patrick Hamann")
        );
    }

    #[test]
    fn maps_comment_threads() {
        let s = Stream::new("comments", "F1UP7wRCPH8");
        let Some(recorded) = fixture("commentThreads.list_videoId_page1.json") else {
            return;
        };
        let p = yt(true)
            .parse(&PageQuery::first_page(&s), &recorded)
            .unwrap();
        assert_eq!(p.items.len(), 5);
        assert!(p.follow.is_empty());
        assert_eq!(
            p.next.as_deref(),
            Some(
                "QURTSl9pMzdZOUVzMkI0czlmRmNjSVBPcTBTdzVzajUydDVnbE5SNElWS0l5WU12amYweVotdzF5c1hTNmxzUmVIcEZXbmVEVFMzNVJmWk82TVVwUlB2LWh5aUpOQlA5TGQzTWZEcHlTeTd2dlNGRUFZaVF0cmtJd01BTHlnOG0="
            )
        );
        let c = &p.items[0];
        assert_eq!(c.id, "youtube:UgyZ1jqkHKYvi1-ruOZ4AaABAg");
        assert_eq!(
            c.url.as_deref(),
            Some("https://www.youtube.com/watch?v=F1UP7wRCPH8&lc=UgyZ1jqkHKYvi1-ruOZ4AaABAg")
        );
        assert_eq!(c.author.as_deref(), Some("himani agarwal"));
        // textOriginal, not the HTML of textDisplay.
        assert_eq!(c.text, "Google.com");
        assert_eq!(c.title, None);
        assert_eq!(
            c.published_at,
            Utc.with_ymd_and_hms(2019, 11, 26, 15, 51, 44).unwrap()
        );
        assert_eq!(c.engagement.likes, Some(0));
        assert_eq!(c.engagement.comments, Some(0));
        assert_eq!(c.parent_id.as_deref(), Some("youtube:F1UP7wRCPH8"));
        let c = &p.items[2];
        assert_eq!(c.id, "youtube:UgysQP-vp089eFP0Stl4AaABAg");
        assert_eq!(c.author.as_deref(), Some("Andres Jorquera"));
        assert_eq!(c.engagement.likes, Some(4));
        let c = &p.items[4];
        assert_eq!(c.id, "youtube:UgwI_ylXVnzPS8Q-oAV4AaABAg");
        assert_eq!(c.author.as_deref(), Some("matrix uduma"));
        assert_eq!(c.engagement.comments, Some(2));
        assert_eq!(c.published_at.timestamp(), 1573774293);

        // The last page has no token.
        let Some(recorded) = fixture("commentThreads.list_videoId_page2.json") else {
            return;
        };
        let p = yt(true)
            .parse(&PageQuery::first_page(&s), &recorded)
            .unwrap();
        assert_eq!(p.items.len(), 5);
        assert_eq!(p.items[1].id, "youtube:Ugy4OzAuz5uJuFt3FH54AaABAg");
        assert_eq!(p.items[1].author.as_deref(), Some("el bojo loco"));
        assert_eq!(p.items[1].engagement.likes, Some(1));
        assert_eq!(p.next, None);
    }

    #[test]
    fn maps_inline_replies() {
        // No fixture has `part=replies`: this thread follows the documented schema
        // (commentThread.replies.comments[] are comment resources), with the two reply
        // comments of the recorded comments.list response as its replies.
        let Some(recorded) = fixture("comments.list_parentId_page1.json") else {
            return;
        };
        let replies = recorded["items"].clone();
        let body = serde_json::json!({"items": [{
            "id": "Ugw5zYU6n9pmIgAZWvN4AaABAg",
            "snippet": {
                "videoId": "vid1",
                "totalReplyCount": 3,
                "topLevelComment": {"id": "Ugw5zYU6n9pmIgAZWvN4AaABAg", "snippet": {
                    "authorDisplayName": "kun liu", "textDisplay": "top &amp; level",
                    "likeCount": 2, "publishedAt": "2019-12-01T04:40:00Z"}}
            },
            "replies": {"comments": replies}
        }]});
        let p = yt(true)
            .parse(
                &PageQuery::first_page(&Stream::new("comments", "vid1")),
                &body,
            )
            .unwrap();
        assert_eq!(p.items.len(), 3);
        let top = &p.items[0];
        assert_eq!(top.id, "youtube:Ugw5zYU6n9pmIgAZWvN4AaABAg");
        assert_eq!(top.text, "top & level");
        assert_eq!(top.engagement.comments, Some(3));
        assert_eq!(top.engagement.likes, Some(2));
        assert_eq!(top.parent_id.as_deref(), Some("youtube:vid1"));
        let r = &p.items[1];
        assert_eq!(
            r.id,
            "youtube:Ugw5zYU6n9pmIgAZWvN4AaABAg.91zT3cYb5B291za6voUoRh"
        );
        assert_eq!(
            r.url.as_deref(),
            Some(
                "https://www.youtube.com/watch?v=vid1&lc=Ugw5zYU6n9pmIgAZWvN4AaABAg.91zT3cYb5B291za6voUoRh"
            )
        );
        assert_eq!(r.author.as_deref(), Some("kun liu"));
        assert_eq!(r.text, "this is the third reply!");
        assert_eq!(r.published_at.timestamp(), 1575175591);
        assert_eq!(r.engagement.likes, Some(0));
        assert_eq!(r.engagement.comments, None);
        assert_eq!(
            r.parent_id.as_deref(),
            Some("youtube:Ugw5zYU6n9pmIgAZWvN4AaABAg")
        );
        assert_eq!(
            p.items[2].id,
            "youtube:Ugw5zYU6n9pmIgAZWvN4AaABAg.91zT3cYb5B291za5eJxzs1"
        );
        assert_eq!(p.items[2].text, "this is the second reply!");
    }

    #[test]
    fn requests_carry_since_page_and_key() {
        let y = yt(true);
        let s = Stream::new("search", "acme rockets");
        let cursor = Cursor {
            time: Utc.with_ymd_and_hms(2026, 11, 20, 8, 30, 0).unwrap(),
            id: Some("abc".into()),
        };
        let q = PageQuery {
            stream: &s,
            cursor: Some(&cursor),
            since: cursor.time,
            page: None,
            page_size: 100,
            token: None,
        };
        let r = y.request(&q).unwrap();
        assert_eq!(
            r.url,
            "https://www.googleapis.com/youtube/v3/search?part=snippet&type=video&order=date&q=%22acme+rockets%22&maxResults=50&publishedAfter=2026-11-20T08%3A30%3A00Z&key=K%26Y"
        );
        assert!(r.headers.is_empty());
        let r = y
            .request(&PageQuery {
                page: Some("CBkQAA"),
                page_size: 20,
                ..q
            })
            .unwrap();
        assert_eq!(
            r.url,
            "https://www.googleapis.com/youtube/v3/search?part=snippet&type=video&order=date&q=%22acme+rockets%22&maxResults=20&publishedAfter=2026-11-20T08%3A30%3A00Z&pageToken=CBkQAA&key=K%26Y"
        );

        let c = Stream::new("comments", "F1UP7wRCPH8");
        let r = y
            .request(&PageQuery {
                stream: &c,
                cursor: None,
                page: Some("QUR="),
                page_size: 500,
                ..q
            })
            .unwrap();
        assert_eq!(
            r.url,
            "https://www.googleapis.com/youtube/v3/commentThreads?part=snippet%2Creplies&videoId=F1UP7wRCPH8&order=time&maxResults=100&textFormat=plainText&pageToken=QUR%3D&key=K%26Y"
        );
        assert!(
            y.request(&PageQuery {
                stream: &Stream::new("nope", "x"),
                ..q
            })
            .is_err()
        );
    }

    #[test]
    fn streams_one_per_distinct_term() {
        let s = yt(true).streams(&["acme".into(), "acme rockets".into(), "acme".into()]);
        let keys: Vec<_> = s.iter().map(|s| s.key.as_str()).collect();
        assert_eq!(keys, ["search:acme", "search:acme rockets"]);
    }

    #[test]
    fn drift_skips_the_item_only() {
        let y = yt(true);
        let body = serde_json::json!({"items": [
            {"id": {"videoId": "a"}, "snippet": {"publishedAt": "2026-11-26T10:00:00Z", "title": "ok"}},
            {"id": {"kind": "youtube#channel", "channelId": "UC1"}, "snippet": {"publishedAt": "2026-11-26T09:00:00Z"}},
            {"id": {"videoId": "c"}, "snippet": {"title": "no time"}},
            {"id": {"videoId": "d"}, "snippet": {"publishedAt": "2026-11-26T08:00:00Z"}}
        ], "nextPageToken": "T2"});
        let p = y
            .parse(&PageQuery::first_page(&Stream::new("search", "x")), &body)
            .unwrap();
        let ids: Vec<_> = p.items.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["youtube:a", "youtube:d"]);
        assert_eq!(p.items[1].title, None);
        assert_eq!(p.items[1].author, None);
        assert_eq!(p.items[1].text, "");
        assert_eq!(p.skipped.len(), 2);
        assert!(p.skipped[0].contains("id.videoId"), "{}", p.skipped[0]);
        assert_eq!(p.follow.len(), 2);
        assert_eq!(p.next.as_deref(), Some("T2"));

        let body = serde_json::json!({"items": [
            {"snippet": {"videoId": "v", "totalReplyCount": 0}},
            {"snippet": {"topLevelComment": {"id": "c2", "snippet": {"textOriginal": "no time"}}}},
            {"snippet": {"topLevelComment": {"id": "c3", "snippet": {"publishedAt": "2026-11-26T08:00:00Z"}}}}
        ]});
        let p = y
            .parse(&PageQuery::first_page(&Stream::new("comments", "v")), &body)
            .unwrap();
        assert_eq!(p.items.len(), 1);
        assert_eq!(p.items[0].id, "youtube:c3");
        assert_eq!(
            p.items[0].url.as_deref(),
            Some("https://www.youtube.com/watch?v=v&lc=c3")
        );
        assert_eq!(p.items[0].parent_id.as_deref(), Some("youtube:v"));
        assert_eq!(p.skipped.len(), 2);
        assert_eq!(p.next, None);

        assert!(
            y.parse(
                &PageQuery::first_page(&Stream::new("search", "x")),
                &serde_json::json!({})
            )
            .is_err()
        );
        // An empty page ends the walk even if a token came with it.
        let p = y
            .parse(
                &PageQuery::first_page(&Stream::new("search", "x")),
                &serde_json::json!({"items": [], "nextPageToken": "T"}),
            )
            .unwrap();
        assert_eq!(p.next, None);
    }

    #[test]
    fn inspect_reports_error_envelopes() {
        let y = yt(true);
        let Some(recorded) = fixture("error_403_permission.json") else {
            return;
        };
        assert_eq!(
            y.inspect(&recorded),
            BodySignal::Fail(
                "YouTube API error 403 (SERVICE_UNAVAILABLE): The caller does not have permission"
                    .into()
            )
        );
        let Some(recorded) = fixture("search.list_keywords_page1.json") else {
            return;
        };
        assert_eq!(y.inspect(&recorded), BodySignal::Ok);
    }

    #[test]
    fn missing_key_disables_the_source() {
        let s = YouTubeConfig::default();
        let e = YouTube::new(&SourceConfig::new("yt", s.clone()), &s)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("key_env"), "{e}");
        assert!(e.contains("YouTube Data API v3"), "{e}");
    }
}
