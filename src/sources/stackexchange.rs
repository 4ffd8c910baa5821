//! `kind = "stackexchange"`: questions (and their answers) from the Stack Exchange API 2.3
//! (`/2.3/search/advanced`, `/2.3/questions`, `/2.3/questions/{ids}/answers`), one site per
//! source: the `site` setting (default `stackoverflow`; the API's `api_site_parameter` such
//! as `superuser`, `unix`, `mathoverflow.net`, or the site's domain).
//!
//! Streams: one `search` per term (`q=`, multi-word terms quoted), one `tag` per entry of the
//! `tags` setting (the site's newest questions with that tag), and, when `comments` is on, an
//! `answers` follow stream for the questions of each page that have answers (up to 100 ids per
//! call, as the API allows). All are sorted by creation date, newest first, and ask for
//! `filter=withbody` so questions and answers come with their HTML body.
//!
//! Cursor: `q.since` goes to the API as `fromdate` (epoch seconds), so a poll only transfers
//! what is new. Paging is by time, not by page number: the wrapper object the API returns by
//! default has `has_more` but not the page it answers, so `Page::next` is the oldest
//! `creation_date` of the page plus one second and the next request sends it as `todate`
//! (an item at the boundary second may come twice; the same id is stored once).
//!
//! Ids: `stackexchange:<site>:q<question_id>` and `stackexchange:<site>:a<answer_id>`, where
//! `<site>` is the configured site without `.stackexchange.com` / `.com` / `.net` (the same
//! numeric id exists on every site). Question counters: `likes` = score (negative scores
//! count as 0), `comments` = answer_count, `views` = view_count; the API gives no follower
//! count (reputation is not an audience).
//!
//! Credentials: optional `key_env` (an app key registered at
//! <https://stackapps.com/apps/oauth/register>) is sent as `key=`; it raises the daily quota
//! per IP from 300 to 10,000 requests. Limits: 30 requests per second per IP; a body's
//! `backoff` (seconds) must be honoured before the next call to the same method ([`Api::inspect`]
//! turns it into [`BodySignal::Backoff`]); `quota_remaining` = 0 and error bodies
//! (`error_id`, e.g. 502 `throttle_violation`) fail the request.

use super::api::{Api, ApiRequest, BodySignal, Page, PageQuery, ShapeError, Stream, enc, pick};
use super::settings::{CheckContext, KindConfig, PAGING_KEYS, SourceConfig, yes};
use super::{BuildError, Source};
use crate::fields::{EnvVar, FieldError, clean_names};
use crate::mention::{Engagement, Mention};
use serde::Deserialize;
use serde_json::Value;
use std::time::Duration;

/// `kind = "stackexchange"` settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StackExchangeConfig {
    /// Tags whose new questions are read.
    #[serde(default)]
    pub tags: Vec<String>,
    pub key_env: Option<EnvVar>,
    /// The site (default `stackoverflow`).
    pub site: Option<String>,
    /// Also read answers and comments (default true).
    #[serde(default = "yes")]
    pub comments: bool,
}

impl Default for StackExchangeConfig {
    fn default() -> Self {
        StackExchangeConfig {
            tags: Vec::new(),
            key_env: None,
            site: None,
            comments: true,
        }
    }
}

impl KindConfig for StackExchangeConfig {
    const NAME: &'static str = "stackexchange";
    const PAGING: &'static [&'static str] = PAGING_KEYS;

    fn check(&mut self, _: &CheckContext<'_>) -> Result<(), FieldError> {
        clean_names(&mut self.tags, "#");
        Ok(())
    }

    fn build(&self, c: &SourceConfig, terms: Vec<String>) -> Result<Box<dyn Source>, BuildError> {
        Ok(super::api_source(StackExchange::new(c, self)?, c, terms))
    }
}

const BASE: &str = "https://api.stackexchange.com";
/// Most items per page, and most ids in one `/questions/{ids}/answers` call.
const MAX_PAGE: usize = 100;

pub struct StackExchange {
    /// The `site` parameter sent to the API.
    site: String,
    /// The site's part of mention ids.
    site_key: String,
    /// The site's host, for answer permalinks.
    domain: String,
    key: Option<crate::http::redact::Secret>,
    comments: bool,
    tags: Vec<String>,
}

impl StackExchange {
    pub fn new(
        config: &SourceConfig,
        s: &StackExchangeConfig,
    ) -> Result<StackExchange, BuildError> {
        let key = super::credential(config, "key_env", s.key_env.as_ref())?;
        let site = s
            .site
            .as_deref()
            .map(|s| s.trim().to_ascii_lowercase())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "stackoverflow".to_string());
        Ok(StackExchange::for_site(
            &site,
            key,
            s.comments,
            s.tags.clone(),
        ))
    }

    fn for_site(
        site: &str,
        key: Option<crate::http::redact::Secret>,
        comments: bool,
        tags: Vec<String>,
    ) -> Self {
        // MathOverflow's API parameter is its domain.
        let api_site = if site == "mathoverflow" {
            "mathoverflow.net"
        } else {
            site
        };
        StackExchange {
            site: api_site.to_string(),
            site_key: site_key(site),
            domain: site_domain(site),
            key,
            comments,
            tags,
        }
    }

    fn question_id(&self, native: &str) -> String {
        format!("stackexchange:{}:q{native}", self.site_key)
    }
}

/// The site as it appears in mention ids: `superuser.com` and `superuser` both give
/// `superuser`, `unix.stackexchange.com` gives `unix`, `mathoverflow.net` `mathoverflow`.
fn site_key(site: &str) -> String {
    let s = site.to_ascii_lowercase();
    let s = s
        .strip_suffix(".stackexchange.com")
        .or_else(|| s.strip_suffix(".com"))
        .or_else(|| s.strip_suffix(".net"))
        .unwrap_or(&s);
    s.to_string()
}

/// The public host of a site: the well-known ones have their own domains, the rest live
/// under `stackexchange.com`.
fn site_domain(site: &str) -> String {
    let s = site.to_ascii_lowercase();
    if s.ends_with(".com") || s.ends_with(".net") {
        return s;
    }
    match s.as_str() {
        "stackoverflow" | "superuser" | "serverfault" | "askubuntu" | "stackapps" => {
            format!("{s}.com")
        }
        "mathoverflow" => "mathoverflow.net".to_string(),
        // Stack Overflow in Russian, Portuguese, Spanish, Japanese.
        "ru" | "pt" | "es" | "ja" => format!("{s}.stackoverflow.com"),
        _ => match s.strip_prefix("meta.") {
            Some(rest @ ("stackoverflow" | "superuser" | "serverfault" | "askubuntu")) => {
                format!("meta.{rest}.com")
            }
            _ => format!("{s}.stackexchange.com"),
        },
    }
}

/// A score as a like count: the API's scores can be negative.
fn score(v: &Value) -> Option<u64> {
    v.get("score")
        .and_then(Value::as_i64)
        .map(|s| s.max(0) as u64)
        .or_else(|| pick::u64_at(v, "/score"))
}

fn decoded(v: &Value, ptr: &str) -> Option<String> {
    pick::str_at(v, ptr)
        .map(|s| pick::html_text(&s))
        .filter(|s| !s.is_empty())
}

impl Api for StackExchange {
    fn kind(&self) -> &'static str {
        "stackexchange"
    }

    fn streams(&self, terms: &[String]) -> Vec<Stream> {
        terms
            .iter()
            .map(|t| Stream::new("search", t))
            .chain(self.tags.iter().map(|t| Stream::new("tag", t)))
            .collect()
    }

    fn request(&self, q: &PageQuery<'_>) -> Result<ApiRequest, ShapeError> {
        let size = q.page_size.clamp(1, MAX_PAGE);
        let site = enc(&self.site);
        let mut url = match q.stream.endpoint {
            "search" => {
                let term = &q.stream.arg;
                let query = super::api::phrase(term);
                format!(
                    "{BASE}/2.3/search/advanced?q={}&site={site}&sort=creation&order=desc&fromdate={}&pagesize={size}&filter=withbody",
                    enc(&query),
                    q.since.timestamp(),
                )
            }
            "tag" => format!(
                "{BASE}/2.3/questions?tagged={}&site={site}&sort=creation&order=desc&fromdate={}&pagesize={size}&filter=withbody",
                enc(&q.stream.arg),
                q.since.timestamp(),
            ),
            "answers" => {
                let ids = &q.stream.arg;
                if ids.is_empty()
                    || !ids
                        .split(';')
                        .all(|i| !i.is_empty() && i.bytes().all(|b| b.is_ascii_digit()))
                {
                    return Err(ShapeError::Unexpected(format!(
                        "invalid question ids `{ids}`"
                    )));
                }
                format!(
                    "{BASE}/2.3/questions/{ids}/answers?site={site}&sort=creation&order=desc&pagesize={size}&filter=withbody"
                )
            }
            other => {
                return Err(ShapeError::Endpoint {
                    kind: "stackexchange",
                    endpoint: other.to_string(),
                });
            }
        };
        if let Some(todate) = q.page {
            if todate.is_empty() || !todate.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ShapeError::Unexpected(format!(
                    "invalid page token `{todate}`"
                )));
            }
            url.push_str(&format!("&todate={todate}"));
        }
        if let Some(key) = &self.key {
            url.push_str(&format!("&key={}", enc(key.expose())));
        }
        Ok(ApiRequest::get(url))
    }

    fn parse(&self, q: &PageQuery<'_>, body: &Value) -> Result<Page, ShapeError> {
        let stream = q.stream;
        let items = body
            .get("items")
            .and_then(Value::as_array)
            .ok_or("no `items` array")?;
        let answers = stream.endpoint == "answers";
        let mut page = Page::default();
        let mut with_answers = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let mapped = if answers {
                self.map_answer(item)
            } else {
                self.map_question(item)
            };
            match mapped {
                Ok(m) => {
                    if !answers && m.engagement.comments != Some(0) {
                        // Unknown answer counts are asked for too.
                        if let Some(id) = pick::str_at(item, "/question_id") {
                            with_answers.push(id);
                        }
                    }
                    page.items.push(m);
                }
                Err(e) => page.skipped.push(format!("item {i}: {e}")),
            }
        }
        let has_more = body.get("has_more").and_then(Value::as_bool) == Some(true);
        if has_more {
            page.next = items
                .iter()
                .filter_map(|it| pick::time_at(it, "/creation_date"))
                .map(|t| t.timestamp())
                .min()
                .filter(|t| *t > 0)
                .map(|t| (t + 1).to_string());
        }
        if self.comments && !answers {
            page.follow = with_answers
                .chunks(MAX_PAGE)
                .map(|ids| Stream::new("answers", ids.join(";")))
                .collect();
        }
        Ok(page)
    }

    fn inspect(&self, body: &Value) -> BodySignal {
        if let Some(id) = pick::u64_at(body, "/error_id") {
            return BodySignal::Fail(format!(
                "Stack Exchange error {id} {}: {}",
                pick::str_at(body, "/error_name").unwrap_or_default(),
                pick::str_at(body, "/error_message").unwrap_or_default()
            ));
        }
        if pick::u64_at(body, "/quota_remaining") == Some(0) {
            return BodySignal::Fail(format!(
                "Stack Exchange daily quota spent ({} requests); it refills within a day{}",
                pick::u64_at(body, "/quota_max").unwrap_or(0),
                if self.key.is_some() {
                    ""
                } else {
                    " (set `key_env` for 10,000 requests a day)"
                }
            ));
        }
        match pick::u64_at(body, "/backoff") {
            Some(secs) if secs > 0 => BodySignal::Backoff(Duration::from_secs(secs)),
            _ => BodySignal::Ok,
        }
    }
}

impl StackExchange {
    fn map_question(&self, q: &Value) -> Result<Mention, ShapeError> {
        let id = pick::need(pick::str_at(q, "/question_id"), "question_id")?;
        let published_at = pick::need(pick::time_at(q, "/creation_date"), "creation_date")?;
        let title = decoded(q, "/title");
        let text = pick::str_at(q, "/body")
            .map(|b| pick::html_text(&b))
            .unwrap_or_default();
        if text.is_empty() && title.is_none() {
            return Err("neither `title` nor `body`".into());
        }
        Ok(Mention {
            url: Some(
                pick::str_at(q, "/link")
                    .unwrap_or_else(|| format!("https://{}/q/{id}", self.domain)),
            ),
            author: decoded(q, "/owner/display_name"),
            title,
            text,
            engagement: Engagement {
                likes: score(q),
                comments: pick::u64_at(q, "/answer_count"),
                views: pick::u64_at(q, "/view_count"),
                ..Default::default()
            },
            ..Mention::new(self.question_id(&id), published_at)
        })
    }

    fn map_answer(&self, a: &Value) -> Result<Mention, ShapeError> {
        let id = pick::need(pick::str_at(a, "/answer_id"), "answer_id")?;
        let published_at = pick::need(pick::time_at(a, "/creation_date"), "creation_date")?;
        let text = pick::need(
            pick::str_at(a, "/body")
                .map(|b| pick::html_text(&b))
                .filter(|t| !t.is_empty()),
            "body",
        )?;
        Ok(Mention {
            url: Some(format!("https://{}/a/{id}", self.domain)),
            author: decoded(a, "/owner/display_name"),
            text,
            engagement: Engagement {
                likes: score(a),
                ..Default::default()
            },
            parent_id: pick::str_at(a, "/question_id").map(|q| self.question_id(&q)),
            ..Mention::new(
                format!("stackexchange:{}:a{id}", self.site_key),
                published_at,
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::EnvVar;
    use chrono::{TimeZone, Utc};

    fn fixture(name: &str) -> Option<Value> {
        crate::sources::api::fixture("stackexchange", name)
    }

    fn so() -> StackExchange {
        StackExchange::for_site("stackoverflow", None, true, vec![])
    }

    fn query<'a>(stream: &'a Stream, page: Option<&'a str>) -> PageQuery<'a> {
        PageQuery {
            stream,
            cursor: None,
            since: Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap(),
            page,
            page_size: 500,
            token: None,
        }
    }
    #[test]
    fn maps_questions() {
        let se = so();
        let Some(recorded) = fixture("questions_sort-votes_stackoverflow_2018.json") else {
            return;
        };
        let p = se
            .parse(
                &PageQuery::first_page(&Stream::new("search", "git")),
                &recorded,
            )
            .unwrap();
        assert_eq!(p.items.len(), 10);
        assert!(p.skipped.is_empty());
        let m = &p.items[0];
        assert_eq!(m.id, "stackexchange:stackoverflow:q11227809");
        assert_eq!(
            m.url.as_deref(),
            Some(
                "https://stackoverflow.com/questions/11227809/why-is-it-faster-to-process-a-sorted-array-than-an-unsorted-array"
            )
        );
        assert_eq!(m.author.as_deref(), Some("GManNickG"));
        assert_eq!(
            m.title.as_deref(),
            Some("Why is it faster to process a sorted array than an unsorted array?")
        );
        // The recorded list has no `filter=withbody`: no body, title only.
        assert_eq!(m.text, "");
        assert_eq!(m.published_at.timestamp(), 1340805096);
        assert_eq!(m.engagement.likes, Some(21619));
        assert_eq!(m.engagement.comments, Some(21));
        assert_eq!(m.engagement.views, Some(1223408));
        assert_eq!(m.engagement.followers, None);
        assert_eq!(m.parent_id, None);

        // Titles come HTML-encoded.
        let m = &p.items[3];
        assert_eq!(m.id, "stackexchange:stackoverflow:q292357");
        assert_eq!(
            m.title.as_deref(),
            Some("What is the difference between 'git pull' and 'git fetch'?")
        );
        assert_eq!(m.author.as_deref(), Some("pupeno"));
        assert_eq!(m.published_at.timestamp(), 1226742669);
        assert_eq!(m.engagement.likes, Some(10111));
        assert_eq!(m.engagement.comments, Some(40));
        assert_eq!(
            p.items[6].title.as_deref(),
            Some("What is the \"-->\" operator in C++?")
        );

        // has_more: the next page ends just after the oldest question of this one
        // (111102, created 1222006327).
        assert_eq!(p.next.as_deref(), Some("1222006328"));
        // All ten have answers: one answers stream for all of them, in page order.
        assert_eq!(p.follow.len(), 1);
        assert_eq!(
            p.follow[0].arg,
            "11227809;927358;2003505;292357;477816;231767;1642028;503093;179123;111102"
        );
        assert_eq!(p.follow[0].endpoint, "answers");

        let off = StackExchange::for_site("stackoverflow", None, false, vec![]);
        let Some(recorded) = fixture("questions_sort-votes_stackoverflow_2018.json") else {
            return;
        };
        let p = off
            .parse(
                &PageQuery::first_page(&Stream::new("search", "git")),
                &recorded,
            )
            .unwrap();
        assert!(p.follow.is_empty());
    }

    #[test]
    fn maps_answers() {
        // No recorded answers response: built from the documented answer object
        // (https://api.stackexchange.com/docs/types/answer) with `filter=withbody`.
        let body = serde_json::json!({
            "items": [
                {"owner": {"reputation": 10, "user_id": 7, "display_name": "Jos&#233; P"},
                 "is_accepted": false, "score": -2, "last_activity_date": 1767323000,
                 "creation_date": 1767322000, "answer_id": 79850001, "question_id": 79849000,
                 "content_license": "CC BY-SA 4.0",
                 "body": "<p>Use <code>acme --fix</code> &amp; retry.</p>"},
                {"owner": {"display_name": "Ann"}, "score": 3, "creation_date": 1767321000,
                 "answer_id": 79849990, "question_id": 79849000, "body": "<p>Second</p>"}
            ],
            "has_more": false, "quota_max": 10000, "quota_remaining": 9990
        });
        let se = StackExchange::for_site("unix", None, true, vec![]);
        let p = se
            .parse(
                &PageQuery::first_page(&Stream::new("answers", "79849000")),
                &body,
            )
            .unwrap();
        assert_eq!(p.items.len(), 2);
        let a = &p.items[0];
        assert_eq!(a.id, "stackexchange:unix:a79850001");
        assert_eq!(
            a.url.as_deref(),
            Some("https://unix.stackexchange.com/a/79850001")
        );
        assert_eq!(a.author.as_deref(), Some("José P"));
        assert_eq!(a.text, "Use acme --fix & retry.");
        assert_eq!(a.title, None);
        assert_eq!(a.published_at.timestamp(), 1767322000);
        assert_eq!(a.engagement.likes, Some(0));
        assert_eq!(a.parent_id.as_deref(), Some("stackexchange:unix:q79849000"));
        assert_eq!(p.items[1].engagement.likes, Some(3));
        assert_eq!(p.next, None);
        // Answers have no follow streams of their own.
        assert!(p.follow.is_empty());
    }

    #[test]
    fn requests_carry_since_page_and_key() {
        let se = StackExchange::for_site("superuser", Some("k&y".into()), true, vec![]);
        let s = Stream::new("search", "acme corp");
        let r = se.request(&query(&s, None)).unwrap();
        assert_eq!(
            r.url,
            "https://api.stackexchange.com/2.3/search/advanced?q=%22acme+corp%22&site=superuser&sort=creation&order=desc&fromdate=1767323045&pagesize=100&filter=withbody&key=k%26y"
        );
        let r = se.request(&query(&s, Some("1767400000"))).unwrap();
        assert!(
            r.url.ends_with(
                "&fromdate=1767323045&pagesize=100&filter=withbody&todate=1767400000&key=k%26y"
            ),
            "{}",
            r.url
        );
        let s = Stream::new("answers", "1;22;333");
        let r = so().request(&query(&s, None)).unwrap();
        assert_eq!(
            r.url,
            "https://api.stackexchange.com/2.3/questions/1;22;333/answers?site=stackoverflow&sort=creation&order=desc&pagesize=100&filter=withbody"
        );
        let s = Stream::new("tag", "c#");
        let r = so().request(&query(&s, None)).unwrap();
        assert_eq!(
            r.url,
            "https://api.stackexchange.com/2.3/questions?tagged=c%23&site=stackoverflow&sort=creation&order=desc&fromdate=1767323045&pagesize=100&filter=withbody"
        );
        assert!(
            so().request(&query(&Stream::new("answers", "1;x"), None))
                .is_err()
        );
        assert!(
            so().request(&query(&Stream::new("search", "x"), Some("1&a=b")))
                .is_err()
        );
    }

    #[test]
    fn streams_and_sites() {
        let se = StackExchange::for_site("stackoverflow", None, true, vec!["rust".into()]);
        let keys: Vec<_> = se
            .streams(&["acme".into()])
            .into_iter()
            .map(|s| s.key)
            .collect();
        assert_eq!(keys, ["search:acme", "tag:rust"]);
        assert_eq!(site_domain("askubuntu"), "askubuntu.com");
        assert_eq!(site_domain("serverfault"), "serverfault.com");
        assert_eq!(site_domain("mathoverflow.net"), "mathoverflow.net");
        assert_eq!(site_domain("unix"), "unix.stackexchange.com");
        assert_eq!(site_domain("ru"), "ru.stackoverflow.com");
        assert_eq!(site_domain("meta.stackoverflow"), "meta.stackoverflow.com");
        assert_eq!(site_key("superuser.com"), "superuser");
        assert_eq!(site_key("unix.stackexchange.com"), "unix");
        let mo = StackExchange::for_site("mathoverflow", None, true, vec![]);
        assert_eq!(mo.site, "mathoverflow.net");
        assert_eq!(mo.site_key, "mathoverflow");
        assert_eq!(mo.domain, "mathoverflow.net");
    }

    #[test]
    fn new_reads_site_and_optional_key() {
        let mut s = StackExchangeConfig {
            site: Some(" SuperUser ".into()),
            ..Default::default()
        };
        let config = SourceConfig::new("se", s.clone());
        let se = StackExchange::new(&config, &s).unwrap();
        assert_eq!(se.site, "superuser");
        assert_eq!(se.key, None);
        s.key_env = Some(EnvVar("HARK_TEST_SE_KEY_THAT_IS_NOT_SET".into()));
        assert!(StackExchange::new(&config, &s).is_err());
    }

    #[test]
    fn drift_skips_the_item_only() {
        let body = serde_json::json!({"items": [
            {"question_id": 1, "creation_date": 1767322000, "title": "ok", "answer_count": 0},
            {"creation_date": 1767321000, "title": "no id"},
            {"question_id": 3, "title": "no time"},
            {"question_id": 4, "creation_date": 1767320000}
        ], "has_more": false});
        let p = so()
            .parse(&PageQuery::first_page(&Stream::new("search", "x")), &body)
            .unwrap();
        assert_eq!(p.items.len(), 1);
        assert_eq!(p.items[0].id, "stackexchange:stackoverflow:q1");
        assert_eq!(
            p.items[0].url.as_deref(),
            Some("https://stackoverflow.com/q/1")
        );
        assert_eq!(p.skipped.len(), 3);
        assert_eq!(p.next, None);
        // No answers yet: nothing to follow.
        assert!(p.follow.is_empty());
        assert!(
            so().parse(
                &PageQuery::first_page(&Stream::new("search", "x")),
                &serde_json::json!({})
            )
            .is_err()
        );
    }

    #[test]
    fn inspect_reads_backoff_errors_and_quota() {
        let se = so();
        assert_eq!(
            se.inspect(&serde_json::json!({"items": [], "backoff": 10, "quota_remaining": 5})),
            BodySignal::Backoff(Duration::from_secs(10))
        );
        assert_eq!(
            se.inspect(&serde_json::json!({"error_id": 502, "error_name": "throttle_violation",
                "error_message": "too many requests from this IP, more requests available in 80000 seconds"})),
            BodySignal::Fail(
                "Stack Exchange error 502 throttle_violation: too many requests from this IP, more requests available in 80000 seconds".into()
            )
        );
        assert_eq!(
            se.inspect(&serde_json::json!({"items": [], "quota_max": 300, "quota_remaining": 0})),
            BodySignal::Fail(
                "Stack Exchange daily quota spent (300 requests); it refills within a day (set `key_env` for 10,000 requests a day)".into()
            )
        );
        let Some(recorded) = fixture("questions_sort-votes_stackoverflow_2018.json") else {
            return;
        };
        assert_eq!(se.inspect(&recorded), BodySignal::Ok);
    }
}
