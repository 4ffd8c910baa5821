//! `kind = "hackernews"`: stories and comments from the Algolia Hacker News search API
//! (`/api/v1/search_by_date`, newest first; no credentials; documented limit 10,000 requests
//! per hour per IP).
//!
//! One stream per search term. The cursor goes to the API as
//! `numericFilters=created_at_i>=T`, so a poll only transfers what is new. Multi-word terms
//! are sent quoted (`advancedSyntax`), so they search as phrases.

use super::api::{Api, ApiRequest, Page, PageQuery, ShapeError, Stream, enc, pick};
use super::settings::{KindConfig, PAGING_KEYS, SourceConfig, yes};
use super::{BuildError, Source};
use crate::mention::{Engagement, Mention};
use serde::Deserialize;
use serde_json::Value;

/// `kind = "hackernews"` settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HackerNewsConfig {
    /// Also search comments (default true).
    #[serde(default = "yes")]
    pub comments: bool,
}

impl Default for HackerNewsConfig {
    fn default() -> Self {
        HackerNewsConfig { comments: true }
    }
}

impl KindConfig for HackerNewsConfig {
    const NAME: &'static str = "hackernews";
    const PAGING: &'static [&'static str] = PAGING_KEYS;

    fn build(&self, c: &SourceConfig, terms: Vec<String>) -> Result<Box<dyn Source>, BuildError> {
        Ok(super::api_source(HackerNews::new(c, self)?, c, terms))
    }
}

const BASE: &str = "https://hn.algolia.com";

pub struct HackerNews {
    comments: bool,
}

impl HackerNews {
    pub fn new(_config: &SourceConfig, s: &HackerNewsConfig) -> Result<HackerNews, BuildError> {
        Ok(HackerNews {
            comments: s.comments,
        })
    }
}

impl Api for HackerNews {
    fn kind(&self) -> &'static str {
        "hackernews"
    }

    fn streams(&self, terms: &[String]) -> Vec<Stream> {
        super::api::search_streams(terms)
    }

    fn request(&self, q: &PageQuery<'_>) -> Result<ApiRequest, ShapeError> {
        let term = &q.stream.arg;
        let query = super::api::phrase(term);
        let tags = if self.comments {
            "(story,comment)"
        } else {
            "story"
        };
        Ok(ApiRequest::get(format!(
            "{BASE}/api/v1/search_by_date?query={}&tags={}&advancedSyntax=true&numericFilters={}&hitsPerPage={}&page={}",
            enc(&query),
            enc(tags),
            enc(&format!("created_at_i>={}", q.since.timestamp())),
            q.page_size.min(1000),
            q.page.unwrap_or("0"),
        )))
    }

    fn parse(&self, _q: &PageQuery<'_>, body: &Value) -> Result<Page, ShapeError> {
        let hits = body
            .get("hits")
            .and_then(Value::as_array)
            .ok_or("no `hits` array")?;
        let mut page = Page::default();
        for (i, hit) in hits.iter().enumerate() {
            match map_hit(hit) {
                Ok(m) => page.items.push(m),
                Err(e) => page.skipped.push(format!("hit {i}: {e}")),
            }
        }
        let current = pick::u64_at(body, "/page").unwrap_or(0);
        let pages = pick::u64_at(body, "/nbPages").unwrap_or(0);
        if !hits.is_empty() && current + 1 < pages {
            page.next = Some((current + 1).to_string());
        }
        Ok(page)
    }
}

fn map_hit(hit: &Value) -> Result<Mention, ShapeError> {
    let id = pick::need(pick::str_at(hit, "/objectID"), "objectID")?;
    let published_at = pick::need(
        pick::time_at(hit, "/created_at_i").or_else(|| pick::time_at(hit, "/created_at")),
        "created_at",
    )?;
    let is_comment = hit
        .get("_tags")
        .and_then(Value::as_array)
        .is_some_and(|t| t.iter().any(|t| t == "comment"))
        || pick::str_at(hit, "/comment_text").is_some();
    let (title, body) = if is_comment {
        (None, pick::str_at(hit, "/comment_text"))
    } else {
        (
            pick::str_at(hit, "/title"),
            pick::str_at(hit, "/story_text"),
        )
    };
    let text = body.map(|b| pick::html_text(&b)).unwrap_or_default();
    if text.is_empty() && title.is_none() {
        return Err("neither `title` nor text".into());
    }
    Ok(Mention {
        url: Some(format!("https://news.ycombinator.com/item?id={id}")),
        author: pick::str_at(hit, "/author"),
        title: title.map(|t| pick::html_text(&t)),
        text,
        engagement: Engagement {
            likes: pick::u64_at(hit, "/points"),
            comments: pick::u64_at(hit, "/num_comments"),
            ..Default::default()
        },
        parent_id: if is_comment {
            pick::str_at(hit, "/parent_id").map(|p| format!("hackernews:{p}"))
        } else {
            None
        },
        ..Mention::new(format!("hackernews:{id}"), published_at)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Option<Value> {
        crate::sources::api::fixture("hackernews", name)
    }

    #[test]
    fn maps_stories_and_comments() {
        let hn = HackerNews { comments: true };
        let s = Stream::new("search", "apple");
        let Some(recorded) = fixture("algolia_search_by_date_story_q-apple_2014.json") else {
            return;
        };
        let p = hn.parse(&PageQuery::first_page(&s), &recorded).unwrap();
        let m = &p.items[0];
        assert_eq!(m.id, "hackernews:7919424");
        assert_eq!(
            m.title.as_deref(),
            Some("Judge says concerned about Apple, Google hiring settlement")
        );
        assert_eq!(m.author.as_deref(), Some("bradleyjg"));
        assert_eq!(m.published_at.timestamp(), 1403235346);
        assert_eq!(m.engagement.likes, Some(1));
        assert_eq!(m.engagement.comments, Some(0));
        assert_eq!(m.parent_id, None);
        assert_eq!(p.next.as_deref(), Some("1"));

        let Some(recorded) = fixture("algolia_search_by_date_comment_2014.json") else {
            return;
        };
        let p = hn.parse(&PageQuery::first_page(&s), &recorded).unwrap();
        let c = &p.items[0];
        assert_eq!(c.id, "hackernews:7919431");
        assert_eq!(c.parent_id.as_deref(), Some("hackernews:7919207"));
        assert_eq!(c.title, None);
        assert!(c.text.starts_with("A perennial HN favorite"), "{}", c.text);
        assert!(c.text.contains("What's fascinating"), "{}", c.text);
        assert!(!c.text.contains("&#x27;") && !c.text.contains("<p>"));
    }

    #[test]
    fn drift_skips_the_item_only() {
        let hn = HackerNews { comments: true };
        let body = serde_json::json!({"hits": [
            {"objectID": "1", "created_at_i": 1, "title": "ok"},
            {"created_at_i": 2, "title": "no id"},
            {"objectID": "3", "title": "no time"}
        ], "page": 0, "nbPages": 1});
        let p = hn
            .parse(&PageQuery::first_page(&Stream::new("search", "x")), &body)
            .unwrap();
        assert_eq!(p.items.len(), 1);
        assert_eq!(p.skipped.len(), 2);
        assert_eq!(p.next, None);
        assert!(
            hn.parse(
                &PageQuery::first_page(&Stream::new("search", "x")),
                &serde_json::json!({})
            )
            .is_err()
        );
    }
}
