//! JSON Feed 1.0/1.1 (<https://www.jsonfeed.org/version/1.1/>). Read as a loose JSON value,
//! so that one item of an unexpected shape is skipped and counted, not fatal.
//!
//! hark reads one extension (JSON Feed's `_`-prefixed custom objects): an item's
//! `"_engagement": {"likes", "shares", "comments", "views", "followers"}` (non-negative
//! integers, each optional), so that a feed of social posts — a bridge, an export, the demo
//! — can carry the counters reach is computed from.

use super::{Entry, Feed, FeedError, Format, Text, date};
use serde_json::Value;
use url::Url;

pub fn parse(src: &str, base: &str) -> Result<Feed, FeedError> {
    let v: Value = serde_json::from_str(src).map_err(|e| FeedError::Json(e.to_string()))?;
    let obj = v
        .as_object()
        .ok_or_else(|| FeedError::Json("the document is not a JSON object".into()))?;
    let items = obj
        .get("items")
        .and_then(Value::as_array)
        .ok_or_else(|| FeedError::Json("no `items` array".into()))?;
    let base = Url::parse(base).ok();
    let str_of = |v: &Value, k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let mut feed = Feed {
        format: Format::Json,
        title: str_of(&v, "title"),
        language: str_of(&v, "language"),
        entries: Vec::new(),
        skipped: Vec::new(),
        repairs: Vec::new(),
    };
    for (n, item) in items.iter().enumerate() {
        if !item.is_object() {
            feed.skipped
                .push(format!("item {} is not an object", n + 1));
            continue;
        }
        let link = str_of(item, "url")
            .or_else(|| str_of(item, "external_url"))
            .map(|u| {
                base.as_ref()
                    .and_then(|b| b.join(&u).ok())
                    .map(String::from)
                    .unwrap_or(u)
            });
        let author = item
            .get("authors")
            .and_then(Value::as_array)
            .and_then(|a| a.first())
            .or_else(|| item.get("author"))
            .and_then(|a| str_of(a, "name"));
        let content = str_of(item, "content_html")
            .map(|value| Text { value, html: true })
            .or_else(|| str_of(item, "content_text").map(|value| Text { value, html: false }));
        let entry = Entry {
            id: item
                .get("id")
                .and_then(|i| match i {
                    Value::String(s) => Some(s.trim().to_string()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
                .filter(|s| !s.is_empty()),
            title: str_of(item, "title").map(|value| Text { value, html: false }),
            link,
            content,
            summary: str_of(item, "summary").map(|value| Text { value, html: false }),
            author,
            published: str_of(item, "date_published").and_then(|d| date::parse(&d)),
            updated: str_of(item, "date_modified").and_then(|d| date::parse(&d)),
            ..Entry::default()
        };
        let count = |k: &str| {
            item.get("_engagement")
                .and_then(|e| e.get(k))
                .and_then(Value::as_u64)
        };
        let entry = Entry {
            views: count("views"),
            likes: count("likes"),
            shares: count("shares"),
            comments: count("comments"),
            followers: count("followers"),
            ..entry
        };
        if entry.is_empty() {
            feed.skipped.push(format!(
                "item {} has no title, text, link, author or id",
                n + 1
            ));
            continue;
        }
        feed.entries.push(entry);
    }
    Ok(feed)
}
