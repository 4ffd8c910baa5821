//! `kind = "discourse"`: posts from one Discourse forum (the source's `base_url`, required),
//! through its JSON API: `/search.json`, `/t/{topic_id}/posts.json` and `/posts.json`.
//!
//! Streams:
//! - `search`, one per term: `/search.json?q=TERM order:latest after:YYYY-MM-DD&page=P`
//!   (multi-word terms quoted). The cursor goes to the forum as `after:` with the date of
//!   `q.since` (Discourse filters `created_at >` that day's midnight, so the whole day is
//!   asked for; older hits stop the walk). Search hits carry only a truncated `blurb`, so each
//!   page maps its hits to mentions from the blurb (this is what moves the stream's cursor)
//!   and also asks for their full text: one `topic_posts` follow stream per topic and up to
//!   20 post ids, `/t/{topic_id}/posts.json?post_ids[]=..`. The full posts have the same
//!   mention ids and come later in the same poll, so the index keeps them over the blurbs.
//!   The follow stream's argument is `TOPIC_ID:ID,ID[:TOPIC TITLE]`: that endpoint does not
//!   return the topic title, which the search response has. The search response does not say
//!   which page it answers; `parse` names the next one from the page it was asked for (while
//!   `more_full_page_results` is set).
//! - `posts` `latest` (when the `latest` setting is on, the default): `/posts.json`, the
//!   forum's newest public posts across all topics, full text, for posts the search index has
//!   not caught up with. Discourse pages it with `before=POST_ID` (posts with
//!   `id <= before`, in a window of 50 ids), so `Page::next` is the page's smallest post id
//!   minus one; after a window with no public post (all private messages or deleted), the
//!   next window below the one asked for.
//!
//! Mentions: id `discourse:<forum host>:<post id>` (post ids are per forum: two forums can
//! both have post 1234), permalink `<base_url>/t/<slug>/<topic_id>/<post_number>`, author =
//! username, title = the topic's title, `likes` = `like_count` or, where absent, the count of
//! the `actions_summary` entry with id 2 (likes; 0 when the summary lists no likes),
//! `comments` = reply_count, `views` = reads. Parent: for a reply (post number > 1), the
//! post it answers (`reply_to_post_number`, else the topic's first post), only when that post
//! is in the same response, since its id is not known otherwise.
//!
//! Credentials: optional `token_env` (an API key an admin creates under Admin → API → Keys)
//! is sent as `Api-Key`, with `identifier` as `Api-Username` (default `system`, the user
//! that global keys act as). Without one, only public posts are seen. Limits (default site
//! settings, each forum may change them): 200 requests per minute and 50 per 10 seconds per
//! IP, 60 per minute per API key, and anonymous search is throttled further. A 429 carries
//! `Retry-After` (and `extras.wait_seconds`), which the shared fetcher honours.

use super::api::{Api, ApiRequest, Page, PageQuery, ShapeError, Stream, enc, pick};
use super::settings::{CheckContext, KindConfig, PAGES_AND_BACKFILL, SourceConfig, yes};
use super::{BuildError, Source};
use crate::fields::{EnvVar, FieldError};
use crate::mention::{Engagement, Mention};
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;

/// `kind = "discourse"` settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscourseConfig {
    /// `Api-Username` for the API key (default `system`).
    pub identifier: Option<String>,
    pub token_env: Option<EnvVar>,
    /// Also poll the forum's latest posts, `/posts.json` (default true).
    #[serde(default = "yes")]
    pub latest: bool,
}

impl Default for DiscourseConfig {
    fn default() -> Self {
        DiscourseConfig {
            identifier: None,
            token_env: None,
            latest: true,
        }
    }
}

impl KindConfig for DiscourseConfig {
    const NAME: &'static str = "discourse";
    const PAGING: &'static [&'static str] = PAGES_AND_BACKFILL;

    fn check(&mut self, at: &CheckContext<'_>) -> Result<(), FieldError> {
        if at.base_url.is_none() {
            return Err(FieldError::invalid(
                "kind",
                format!(
                    "discourse source `{}` needs `base_url` = the forum's address (e.g. \"https://forum.example.com\")",
                    at.name
                ),
            ));
        }
        Ok(())
    }

    fn build(&self, c: &SourceConfig, terms: Vec<String>) -> Result<Box<dyn Source>, BuildError> {
        Ok(super::api_source(Discourse::new(c, self)?, c, terms))
    }
}

/// The request host: the framework swaps it for the source's `base_url`.
const BASE: &str = "https://discourse.invalid";
/// Post ids per `topic_posts` request (a topic page's size in Discourse).
const IDS_PER_TOPIC_CALL: usize = 20;
/// Discourse's `/posts.json` window: `before - 50 < id <= before`.
const LATEST_WINDOW: u64 = 50;

pub struct Discourse {
    /// The configured `base_url` without a trailing slash: the forum's public address.
    base: String,
    /// The forum's host, the namespace of mention ids.
    host: String,
    /// `(Api-Key, Api-Username)`.
    auth: Option<(crate::http::redact::Secret, String)>,
    latest: bool,
}

/// What the posts of one response know about their topics.
#[derive(Default, Clone)]
struct Topic {
    title: Option<String>,
    slug: Option<String>,
}

impl Discourse {
    pub fn new(config: &SourceConfig, s: &DiscourseConfig) -> Result<Discourse, BuildError> {
        let base = config.base_url.as_ref().ok_or_else(|| {
            BuildError::Settings(format!(
                "discourse source `{}` needs `base_url`, the forum's address",
                config.name
            ))
        })?;
        let token = super::credential(config, "token_env", s.token_env.as_ref())?;
        let user = s
            .identifier
            .clone()
            .filter(|u| !u.trim().is_empty())
            .unwrap_or_else(|| "system".to_string());
        Ok(Discourse::for_forum(
            base,
            token.map(|t| (t, user)),
            s.latest,
        ))
    }

    fn for_forum(
        base: &url::Url,
        auth: Option<(crate::http::redact::Secret, String)>,
        latest: bool,
    ) -> Discourse {
        Discourse {
            base: base.as_str().trim_end_matches('/').to_string(),
            host: base.host_str().unwrap_or("").to_ascii_lowercase(),
            auth,
            latest,
        }
    }

    fn post_id(&self, native: u64) -> String {
        format!("discourse:{}:{native}", self.host)
    }
}

/// `TOPIC_ID:ID,ID[:TITLE]` → (topic id, post ids, title).
fn topic_arg(arg: &str) -> Result<(u64, Vec<u64>, Option<&str>), ShapeError> {
    let mut parts = arg.splitn(3, ':');
    let bad = || ShapeError::Unexpected(format!("invalid topic_posts argument `{arg}`"));
    let topic = parts.next().and_then(|t| t.parse().ok()).ok_or_else(bad)?;
    let ids = parts
        .next()
        .ok_or_else(bad)?
        .split(',')
        .map(|i| i.parse::<u64>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| bad())?;
    Ok((topic, ids, parts.next().filter(|t| !t.is_empty())))
}

/// Likes: `like_count`, else the count of the like action (id 2) in `actions_summary`,
/// which lists only actions that happened.
fn likes(p: &Value) -> Option<u64> {
    pick::u64_at(p, "/like_count").or_else(|| {
        let summary = p.get("actions_summary")?.as_array()?;
        Some(
            summary
                .iter()
                .find(|a| pick::u64_at(a, "/id") == Some(2))
                .and_then(|a| pick::u64_at(a, "/count"))
                .unwrap_or(0),
        )
    })
}

impl Api for Discourse {
    fn kind(&self) -> &'static str {
        "discourse"
    }

    fn streams(&self, terms: &[String]) -> Vec<Stream> {
        let mut out: Vec<Stream> = super::api::search_streams(terms);
        if self.latest {
            out.push(Stream::new("posts", "latest"));
        }
        out
    }

    fn request(&self, q: &PageQuery<'_>) -> Result<ApiRequest, ShapeError> {
        let number = |p: &str| {
            p.parse::<u64>()
                .map_err(|_| ShapeError::Unexpected(format!("invalid page token `{p}`")))
        };
        let url = match q.stream.endpoint {
            "search" => {
                let term = &q.stream.arg;
                let term = super::api::phrase(term);
                let page = q.page.map(number).transpose()?.unwrap_or(1);
                format!(
                    "{BASE}/search.json?q={}&page={page}",
                    enc(&format!(
                        "{term} order:latest after:{}",
                        q.since.format("%Y-%m-%d")
                    )),
                )
            }
            "posts" => match q.page {
                None => format!("{BASE}/posts.json"),
                Some(p) => format!("{BASE}/posts.json?before={}", number(p)?),
            },
            "topic_posts" => {
                let (topic, ids, _) = topic_arg(&q.stream.arg)?;
                let ids: Vec<String> = ids.iter().map(|i| format!("post_ids[]={i}")).collect();
                format!("{BASE}/t/{topic}/posts.json?{}", ids.join("&"))
            }
            other => {
                return Err(ShapeError::Endpoint {
                    kind: "discourse",
                    endpoint: other.to_string(),
                });
            }
        };
        let req = ApiRequest::get(url);
        match &self.auth {
            Some((key, user)) => req
                .header("api-key", key.expose())?
                .header("api-username", user),
            None => Ok(req),
        }
    }

    fn parse(&self, q: &PageQuery<'_>, body: &Value) -> Result<Page, ShapeError> {
        let stream = q.stream;
        match stream.endpoint {
            "search" => self.parse_search(q, body),
            "posts" => {
                let posts = body
                    .get("latest_posts")
                    .and_then(Value::as_array)
                    .ok_or("no `latest_posts` array")?;
                let mut page = self.map_posts(posts, &HashMap::new(), &Topic::default());
                let smallest = posts.iter().filter_map(|p| pick::u64_at(p, "/id")).min();
                page.next = match smallest {
                    Some(id) => Some(id - 1),
                    // A window without public posts: the next one below it.
                    None => q
                        .page
                        .and_then(|p| p.parse::<u64>().ok())
                        .filter(|b| *b > 0)
                        .map(|b| b.saturating_sub(LATEST_WINDOW)),
                }
                .filter(|b| *b > 0)
                .map(|b| b.to_string());
                Ok(page)
            }
            "topic_posts" => {
                let posts = body
                    .pointer("/post_stream/posts")
                    .and_then(Value::as_array)
                    .ok_or("no `post_stream.posts` array")?;
                let (_, _, title) = topic_arg(&stream.arg)?;
                let topic = Topic {
                    title: title
                        .map(str::to_string)
                        .or_else(|| pick::str_at(body, "/title")),
                    slug: pick::str_at(body, "/slug"),
                };
                let mut page = self.map_posts(posts, &HashMap::new(), &topic);
                // Newest first, as every stream.
                page.items
                    .sort_by_key(|m| std::cmp::Reverse(m.published_at));
                Ok(page)
            }
            other => Err(ShapeError::Unexpected(format!(
                "unknown discourse endpoint `{other}`"
            ))),
        }
    }
}

impl Discourse {
    fn parse_search(&self, q: &PageQuery<'_>, body: &Value) -> Result<Page, ShapeError> {
        let posts = match body.get("posts").and_then(Value::as_array) {
            Some(p) => p.as_slice(),
            // No hits: some versions leave the key out but always send the summary.
            None if body.get("grouped_search_result").is_some() => &[],
            None => return Err("no `posts` array".into()),
        };
        let topics: HashMap<u64, Topic> = body
            .get("topics")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|t| {
                Some((
                    pick::u64_at(t, "/id")?,
                    Topic {
                        title: pick::str_at(t, "/title"),
                        slug: pick::str_at(t, "/slug"),
                    },
                ))
            })
            .collect();
        let mut page = self.map_posts(posts, &topics, &Topic::default());

        // Full text of the hits, per topic, in order of first appearance.
        let mut order: Vec<u64> = Vec::new();
        let mut found: HashMap<u64, Vec<u64>> = HashMap::new();
        for p in posts {
            if let (Some(id), Some(topic)) = (pick::u64_at(p, "/id"), pick::u64_at(p, "/topic_id"))
            {
                let ids = found.entry(topic).or_default();
                if ids.is_empty() {
                    order.push(topic);
                }
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
        for topic in order {
            let title = topics.get(&topic).and_then(|t| t.title.as_deref());
            for ids in found[&topic].chunks(IDS_PER_TOPIC_CALL) {
                let ids: Vec<String> = ids.iter().map(u64::to_string).collect();
                let mut arg = format!("{topic}:{}", ids.join(","));
                if let Some(t) = title {
                    arg.push(':');
                    arg.push_str(t);
                }
                page.follow.push(Stream::new("topic_posts", arg));
            }
        }

        let more = match body.pointer("/grouped_search_result/more_full_page_results") {
            None | Some(Value::Null) | Some(Value::Bool(false)) => false,
            Some(_) => true,
        };
        if more && !posts.is_empty() {
            let current = q.page.and_then(|p| p.parse::<u64>().ok()).unwrap_or(1);
            page.next = Some((current + 1).to_string());
        }
        Ok(page)
    }

    /// Maps posts of one response; replies point at the post they answer when it is among
    /// them.
    fn map_posts(&self, posts: &[Value], topics: &HashMap<u64, Topic>, default: &Topic) -> Page {
        let numbers: HashMap<(u64, u64), u64> = posts
            .iter()
            .filter_map(|p| {
                Some((
                    (
                        pick::u64_at(p, "/topic_id")?,
                        pick::u64_at(p, "/post_number")?,
                    ),
                    pick::u64_at(p, "/id")?,
                ))
            })
            .collect();
        let mut page = Page::default();
        for (i, p) in posts.iter().enumerate() {
            let topic = pick::u64_at(p, "/topic_id")
                .and_then(|t| topics.get(&t))
                .unwrap_or(default);
            match self.map_post(p, topic, &numbers) {
                Ok(m) => page.items.push(m),
                Err(e) => page.skipped.push(format!("post {i}: {e}")),
            }
        }
        page
    }

    fn map_post(
        &self,
        p: &Value,
        topic: &Topic,
        numbers: &HashMap<(u64, u64), u64>,
    ) -> Result<Mention, ShapeError> {
        let id = pick::need(pick::u64_at(p, "/id"), "id")?;
        let published_at = pick::need(pick::time_at(p, "/created_at"), "created_at")?;
        let topic_id = pick::u64_at(p, "/topic_id");
        let number = pick::u64_at(p, "/post_number");
        let title = pick::str_at(p, "/topic_title")
            .or_else(|| topic.title.clone())
            .map(|t| pick::html_text(&t))
            .filter(|t| !t.is_empty());
        let text = pick::str_at(p, "/cooked")
            .or_else(|| pick::str_at(p, "/blurb"))
            .map(|h| pick::html_text(&h))
            .unwrap_or_default();
        if text.is_empty() && title.is_none() {
            return Err("neither `cooked`/`blurb` nor a topic title".into());
        }
        let slug = pick::str_at(p, "/topic_slug").or_else(|| topic.slug.clone());
        let url = match (topic_id, number) {
            (Some(t), Some(n)) => Some(match &slug {
                Some(s) => format!("{}/t/{s}/{t}/{n}", self.base),
                None => format!("{}/t/{t}/{n}", self.base),
            }),
            _ => pick::str_at(p, "/post_url")
                .filter(|u| u.starts_with('/'))
                .map(|u| format!("{}{u}", self.base)),
        };
        let parent_id = match (topic_id, number) {
            (Some(t), Some(n)) if n > 1 => {
                let to = pick::u64_at(p, "/reply_to_post_number").unwrap_or(1);
                numbers
                    .get(&(t, to))
                    .filter(|parent| **parent != id)
                    .map(|parent| self.post_id(*parent))
            }
            _ => None,
        };
        Ok(Mention {
            url,
            author: pick::str_at(p, "/username"),
            title,
            text,
            engagement: Engagement {
                likes: likes(p),
                comments: pick::u64_at(p, "/reply_count"),
                views: pick::u64_at(p, "/reads"),
                ..Default::default()
            },
            parent_id,
            ..Mention::new(self.post_id(id), published_at)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::EnvVar;
    use chrono::{TimeZone, Utc};

    fn fixture(name: &str) -> Option<Value> {
        crate::sources::api::fixture("discourse", name)
    }

    fn forum(base: &str) -> Discourse {
        Discourse::for_forum(&url::Url::parse(base).unwrap(), None, true)
    }

    fn cf() -> Discourse {
        forum("https://discuss.criticalfallibilism.com/")
    }

    fn query<'a>(stream: &'a Stream, page: Option<&'a str>) -> PageQuery<'a> {
        PageQuery {
            stream,
            cursor: None,
            since: Utc.with_ymd_and_hms(2026, 1, 20, 22, 0, 0).unwrap(),
            page,
            page_size: 100,
            token: None,
        }
    }

    #[test]
    fn maps_latest_posts() {
        let d = cf();
        let s = Stream::new("posts", "latest");
        let Some(recorded) = fixture("criticalfallibilism_posts.json") else {
            return;
        };
        let p = d.parse(&PageQuery::first_page(&s), &recorded).unwrap();
        assert_eq!(p.items.len(), 50);
        assert!(p.skipped.is_empty());
        let m = &p.items[0];
        assert_eq!(m.id, "discourse:discuss.criticalfallibilism.com:20218");
        assert_eq!(
            m.url.as_deref(),
            Some("https://discuss.criticalfallibilism.com/t/people-being-bad-at-logic/2148/1")
        );
        assert_eq!(m.author.as_deref(), Some("Elliot"));
        assert_eq!(m.title.as_deref(), Some("People Being Bad at Logic"));
        assert!(
            m.text
                .starts_with("I was talking with someone about people not being very good at math"),
            "{}",
            m.text
        );
        assert!(!m.text.contains("<p>") && !m.text.contains("<em>"));
        assert_eq!(
            m.published_at,
            Utc.with_ymd_and_hms(2026, 1, 21, 23, 29, 42).unwrap()
                + chrono::Duration::milliseconds(524)
        );
        assert_eq!(m.engagement.likes, Some(0));
        assert_eq!(m.engagement.comments, Some(0));
        assert_eq!(m.engagement.views, Some(4));
        assert_eq!(m.parent_id, None);

        // Post 31 of topic 2144 answers post 28 (id 20213), which is on the same page.
        let m = &p.items[1];
        assert_eq!(m.id, "discourse:discuss.criticalfallibilism.com:20217");
        assert_eq!(
            m.url.as_deref(),
            Some("https://discuss.criticalfallibilism.com/t/kpop-demon-hunters/2144/31")
        );
        assert_eq!(m.author.as_deref(), Some("ActiveMind"));
        assert_eq!(m.title.as_deref(), Some("KPop Demon Hunters"));
        assert_eq!(m.engagement.views, Some(5));
        assert_eq!(
            m.parent_id.as_deref(),
            Some("discourse:discuss.criticalfallibilism.com:20213")
        );
        // Likes from actions_summary (id 2), as /posts.json sends no like_count.
        let liked = p.items.iter().find(|m| m.id.ends_with(":20170")).unwrap();
        assert_eq!(liked.engagement.likes, Some(2));
        assert_eq!(liked.engagement.comments, Some(2));
        // Next window: below the smallest post id of the page (20169).
        assert_eq!(p.next.as_deref(), Some("20168"));
        assert!(p.follow.is_empty());
    }

    #[test]
    fn maps_topic_posts() {
        let d = cf();
        let s = Stream::new("topic_posts", "2144:20089,20102,20200:KPop Demon Hunters");
        let Some(recorded) = fixture("criticalfallibilism_t-2144_posts.json") else {
            return;
        };
        let p = d.parse(&PageQuery::first_page(&s), &recorded).unwrap();
        assert_eq!(p.items.len(), 20);
        // Sorted newest first: post 21 (id 20200) leads.
        let m = &p.items[0];
        assert_eq!(m.id, "discourse:discuss.criticalfallibilism.com:20200");
        assert_eq!(m.author.as_deref(), Some("Eternity"));
        assert_eq!(m.title.as_deref(), Some("KPop Demon Hunters"));
        assert_eq!(
            m.url.as_deref(),
            Some("https://discuss.criticalfallibilism.com/t/kpop-demon-hunters/2144/21")
        );
        assert_eq!(m.engagement.comments, Some(1));
        assert_eq!(m.engagement.views, Some(9));
        // Replies to post 18, which is in this response.
        let p18 = p
            .items
            .iter()
            .find(|m| m.url.as_deref().unwrap().ends_with("/18"));
        assert_eq!(m.parent_id.as_deref(), Some(p18.unwrap().id.as_str()));
        let first = p.items.last().unwrap();
        assert_eq!(first.id, "discourse:discuss.criticalfallibilism.com:20089");
        assert_eq!(first.author.as_deref(), Some("Elliot"));
        assert_eq!(first.engagement.likes, Some(1));
        assert_eq!(first.engagement.comments, Some(5));
        assert_eq!(first.engagement.views, Some(13));
        assert_eq!(first.parent_id, None);
        // Post 2 (no reply_to_post_number) answers the topic: post 1.
        let second = p.items.iter().find(|m| m.id.ends_with(":20102")).unwrap();
        assert_eq!(
            second.parent_id.as_deref(),
            Some("discourse:discuss.criticalfallibilism.com:20089")
        );
        assert_eq!(p.next, None);

        // The second page of the same topic (post_number=21): post 1 comes along.
        let Some(recorded) = fixture("criticalfallibilism_t-2144_posts_post_number-21.json") else {
            return;
        };
        let p = d
            .parse(
                &PageQuery::first_page(&Stream::new("topic_posts", "2144:20199")),
                &recorded,
            )
            .unwrap();
        assert_eq!(p.items.len(), 19);
        let m = p.items.iter().find(|m| m.id.ends_with(":20199")).unwrap();
        assert_eq!(m.author.as_deref(), Some("Elliot"));
        // No title in the argument nor in /t/ID/posts.json.
        assert_eq!(m.title, None);
        assert_eq!(
            m.published_at,
            Utc.with_ymd_and_hms(2026, 1, 20, 20, 10, 52).unwrap()
                + chrono::Duration::milliseconds(537)
        );
        assert_eq!(
            m.parent_id.as_deref(),
            Some("discourse:discuss.criticalfallibilism.com:20198")
        );
        let m = p.items.iter().find(|m| m.id.ends_with(":20193")).unwrap();
        assert_eq!(m.engagement.likes, Some(1));
    }

    #[test]
    fn maps_full_topic_responses() {
        // /t/ID.json has the same post_stream, with the title and slug at the top.
        let d = forum("https://meta.discourse.org");
        let Some(recorded) = fixture("discourse_api_topic_meta_2013.json") else {
            return;
        };
        let p = d
            .parse(
                &PageQuery::first_page(&Stream::new("topic_posts", "57:83")),
                &recorded,
            )
            .unwrap();
        assert_eq!(p.items.len(), 4);
        let m = &p.items[0];
        assert_eq!(m.id, "discourse:meta.discourse.org:226");
        assert_eq!(m.author.as_deref(), Some("splattne"));
        assert_eq!(
            m.title.as_deref(),
            Some("THIS SITE IS A SANDBOX -- it is reset every day")
        );
        assert_eq!(
            m.url.as_deref(),
            Some("https://meta.discourse.org/t/this-site-is-a-sandbox-it-is-reset-every-day/57/14")
        );
        // Offset time converted to UTC.
        assert_eq!(
            m.published_at,
            Utc.with_ymd_and_hms(2013, 2, 5, 17, 14, 17).unwrap()
                + chrono::Duration::milliseconds(364)
        );
        assert_eq!(m.engagement.likes, Some(5));
        assert_eq!(m.engagement.views, Some(22));
        assert_eq!(
            m.parent_id.as_deref(),
            Some("discourse:meta.discourse.org:83")
        );
        let m = &p.items[3];
        assert_eq!(m.id, "discourse:meta.discourse.org:83");
        assert_eq!(m.author.as_deref(), Some("samsaffron"));
        assert_eq!(m.engagement.likes, Some(0));
        assert_eq!(m.engagement.comments, Some(1));

        let d = forum("https://forum.example.org/community/");
        let Some(recorded) = fixture("perceval_t-1148_ublock-origin_support.json") else {
            return;
        };
        let p = d
            .parse(
                &PageQuery::first_page(&Stream::new("topic_posts", "1148:18952")),
                &recorded,
            )
            .unwrap();
        assert_eq!(p.items.len(), 20);
        let m = p.items.last().unwrap();
        assert_eq!(m.id, "discourse:forum.example.org:18952");
        assert_eq!(m.author.as_deref(), Some("gorhill"));
        assert_eq!(m.title.as_deref(), Some("[Support] uBlock Origin"));
        assert_eq!(
            m.url.as_deref(),
            Some("https://forum.example.org/community/t/support-ublock-origin/1148/1")
        );
        assert_eq!(m.engagement.likes, Some(6));
        assert_eq!(m.engagement.views, Some(109));
        let m = p.items.iter().find(|m| m.id.ends_with(":19162")).unwrap();
        assert_eq!(
            m.parent_id.as_deref(),
            Some("discourse:forum.example.org:19152")
        );
    }

    /// No recorded search response: built from the documented `/search.json` schema
    /// (https://docs.discourse.org/#tag/Search/operation/search): `posts` with truncated
    /// `blurb`s, `topics`, `grouped_search_result`.
    fn search_body(more: bool) -> Value {
        serde_json::json!({
            "posts": [
                {"id": 501, "name": "Ann", "username": "ann", "avatar_template": "/a/{size}.png",
                 "created_at": "2026-01-21T10:00:00.000Z", "like_count": 3,
                 "blurb": "we moved to <span class=\"search-highlight\">Acme</span> &amp; it…",
                 "post_number": 4, "topic_id": 77},
                {"id": 490, "name": "", "username": "bob", "avatar_template": "/b/{size}.png",
                 "created_at": "2026-01-20T09:00:00.000Z", "like_count": 0,
                 "blurb": "Acme is down again", "post_number": 1, "topic_id": 77},
                {"id": 488, "username": "cy", "created_at": "2026-01-20T08:00:00.000Z",
                 "like_count": 1, "blurb": "anyone tried acme?", "post_number": 2,
                 "topic_id": 78}
            ],
            "topics": [
                {"id": 77, "title": "Acme outage: what now?", "fancy_title": "Acme outage: what now?",
                 "slug": "acme-outage-what-now", "posts_count": 5},
                {"id": 78, "title": "Tools", "slug": "tools", "posts_count": 2}
            ],
            "users": [], "categories": [], "tags": [], "groups": [],
            "grouped_search_result": {"more_posts": null, "more_users": null,
                "more_categories": null, "term": "acme order:latest", "search_log_id": 9,
                "more_full_page_results": if more { Value::Bool(true) } else { Value::Null },
                "can_create_topic": false, "error": null, "post_ids": [501, 490, 488]}
        })
    }

    #[test]
    fn maps_search_hits_and_follows_full_posts() {
        let d = forum("https://forum.example.org");
        let s = Stream::new("search", "acme");
        // The response to page 2 names page 3 as the next.
        let p = d.parse(&query(&s, Some("2")), &search_body(true)).unwrap();
        assert_eq!(p.items.len(), 3);
        let m = &p.items[0];
        assert_eq!(m.id, "discourse:forum.example.org:501");
        assert_eq!(
            m.url.as_deref(),
            Some("https://forum.example.org/t/acme-outage-what-now/77/4")
        );
        assert_eq!(m.author.as_deref(), Some("ann"));
        assert_eq!(m.title.as_deref(), Some("Acme outage: what now?"));
        assert_eq!(m.text, "we moved to Acme & it…");
        assert_eq!(
            m.published_at,
            Utc.with_ymd_and_hms(2026, 1, 21, 10, 0, 0).unwrap()
        );
        assert_eq!(m.engagement.likes, Some(3));
        assert_eq!(m.engagement.comments, None);
        // Post 4 has no reply_to in search hits: it answers post 1, which is a hit too.
        assert_eq!(
            m.parent_id.as_deref(),
            Some("discourse:forum.example.org:490")
        );
        assert_eq!(p.items[2].parent_id, None);
        assert_eq!(p.next.as_deref(), Some("3"));
        let follow: Vec<_> = p.follow.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(
            follow,
            [
                "topic_posts:77:501,490:Acme outage: what now?",
                "topic_posts:78:488:Tools"
            ]
        );
        // The follow stream's request asks for just those posts.
        let r = d.request(&query(&p.follow[0], None)).unwrap();
        assert_eq!(
            r.url,
            "https://discourse.invalid/t/77/posts.json?post_ids[]=501&post_ids[]=490"
        );

        // Last page: no next; no hits: an empty page.
        assert_eq!(
            d.parse(&query(&s, None), &search_body(false)).unwrap().next,
            None
        );
        let empty = serde_json::json!({"grouped_search_result": {"more_full_page_results": null}});
        let p = d.parse(&PageQuery::first_page(&s), &empty).unwrap();
        assert!(p.items.is_empty() && p.follow.is_empty() && p.next.is_none());
    }

    #[test]
    fn requests_carry_since_page_and_auth() {
        let d = Discourse::for_forum(
            &url::Url::parse("https://forum.example.org").unwrap(),
            Some(("k3y".into(), "system".into())),
            true,
        );
        let s = Stream::new("search", "acme corp");
        let r = d.request(&query(&s, None)).unwrap();
        assert_eq!(
            r.url,
            "https://discourse.invalid/search.json?q=%22acme+corp%22+order%3Alatest+after%3A2026-01-20&page=1"
        );
        let headers: Vec<_> = r
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.to_str().unwrap()))
            .collect();
        assert_eq!(headers, [("api-key", "k3y"), ("api-username", "system")]);
        let r = d.request(&query(&s, Some("3"))).unwrap();
        assert!(r.url.ends_with("&page=3"), "{}", r.url);

        let s = Stream::new("posts", "latest");
        assert_eq!(
            d.request(&query(&s, None)).unwrap().url,
            "https://discourse.invalid/posts.json"
        );
        assert_eq!(
            d.request(&query(&s, Some("20168"))).unwrap().url,
            "https://discourse.invalid/posts.json?before=20168"
        );
        // A window with no public post: go on below it.
        let p = d
            .parse(
                &query(&s, Some("20168")),
                &serde_json::json!({"latest_posts": []}),
            )
            .unwrap();
        assert_eq!(p.next.as_deref(), Some("20118"));
        assert!(d.request(&query(&s, Some("x"))).is_err());
        assert!(
            d.request(&query(&Stream::new("topic_posts", "77:1,a"), None))
                .is_err()
        );

        let keys: Vec<_> = d
            .streams(&["acme".into()])
            .into_iter()
            .map(|s| s.key)
            .collect();
        assert_eq!(keys, ["search:acme", "posts:latest"]);
        let no_latest =
            Discourse::for_forum(&url::Url::parse("https://f.example").unwrap(), None, false);
        assert_eq!(no_latest.streams(&["acme".into()]).len(), 1);
    }

    #[test]
    fn new_needs_base_url_and_defaults_username() {
        let mut s = DiscourseConfig::default();
        let mut config = SourceConfig::new("forum", s.clone());
        assert!(Discourse::new(&config, &s).is_err());
        config.base_url = Some(url::Url::parse("https://Forum.Example.org/sub/").unwrap());
        let d = Discourse::new(&config, &s).unwrap();
        assert_eq!(d.base, "https://forum.example.org/sub");
        assert_eq!(d.host, "forum.example.org");
        assert!(d.auth.is_none());
        s.token_env = Some(EnvVar("HARK_TEST_DISCOURSE_TOKEN_THAT_IS_NOT_SET".into()));
        assert!(Discourse::new(&config, &s).is_err());
    }

    #[test]
    fn drift_skips_the_item_only() {
        let d = cf();
        let body = serde_json::json!({"latest_posts": [
            {"id": 10, "created_at": "2026-01-21T10:00:00Z", "cooked": "<p>ok</p>",
             "topic_id": 1, "post_number": 2, "topic_slug": "s", "username": "u"},
            {"created_at": "2026-01-21T09:00:00Z", "cooked": "<p>no id</p>"},
            {"id": 8, "cooked": "<p>no time</p>"},
            {"id": 7, "created_at": "2026-01-21T08:00:00Z", "topic_id": 1}
        ]});
        let p = d
            .parse(
                &PageQuery::first_page(&Stream::new("posts", "latest")),
                &body,
            )
            .unwrap();
        assert_eq!(p.items.len(), 1);
        assert_eq!(
            p.items[0].id,
            "discourse:discuss.criticalfallibilism.com:10"
        );
        assert_eq!(p.items[0].engagement.likes, None);
        assert_eq!(p.skipped.len(), 3);
        assert_eq!(p.next.as_deref(), Some("6"));
        assert!(
            d.parse(
                &PageQuery::first_page(&Stream::new("posts", "latest")),
                &serde_json::json!({})
            )
            .is_err()
        );
        assert!(
            d.parse(
                &PageQuery::first_page(&Stream::new("topic_posts", "1:2")),
                &serde_json::json!({"posts": []})
            )
            .is_err()
        );
        assert!(
            d.parse(
                &PageQuery::first_page(&Stream::new("search", "x")),
                &serde_json::json!({})
            )
            .is_err()
        );
    }
}
