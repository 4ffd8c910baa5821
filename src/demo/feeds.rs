//! The bundled sample (`demo/sample.jsonl`, written for the project: an invented broadband
//! provider, Brightwave, its competitor Nimbus Mobile, and a burst of outage complaints in the
//! last three hours) rendered as three real feeds: news as RSS 2.0, forum posts as Atom,
//! social posts as JSON Feed. Times are relative to the moment the demo starts.

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

pub const SAMPLE: &str = include_str!("../../demo/sample.jsonl");

#[derive(Debug, Clone, Deserialize)]
pub struct SampleItem {
    pub feed: String,
    pub offset_min: i64,
    pub author: String,
    pub title: String,
    pub text: String,
    pub likes: u64,
    pub shares: u64,
    pub comments: u64,
    pub followers: u64,
    pub link: String,
}

pub fn sample() -> Vec<SampleItem> {
    SAMPLE
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("the bundled sample is valid"))
        .collect()
}

/// XML text and attribute escaping is the same as HTML's.
pub fn xml_escape(s: &str) -> String {
    crate::alerts::email::html_escape(s)
}

fn published(now: DateTime<Utc>, item: &SampleItem) -> DateTime<Utc> {
    now - Duration::minutes(item.offset_min)
}

fn guid(item: &SampleItem) -> String {
    format!("demo{}", item.link)
}

/// Where a sample post "lives": a fictional site per feed (`.example` names never resolve),
/// so that links in the demo's results and report do not point at the demo's own server,
/// which is gone once the demo ends.
fn link(item: &SampleItem) -> String {
    format!("https://{}.demo.example{}", item.feed, item.link)
}

/// Media RSS counters for a post: its likes as favourites, its author's audience as views.
fn media_community(item: &SampleItem) -> String {
    format!(
        "<media:community><media:statistics views=\"{}\" favorites=\"{}\"/></media:community>",
        item.followers, item.likes
    )
}

pub fn rss(items: &[&SampleItem], base: &str, now: DateTime<Utc>) -> String {
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:media=\"http://search.yahoo.com/mrss/\"><channel><title>Demo news</title><link>",
    );
    s.push_str(&xml_escape(base));
    s.push_str(
        "</link><description>Sample news for hark demo</description><language>en</language>\n",
    );
    for it in items {
        s.push_str(&format!(
            "<item><title>{}</title><link>{}</link><guid isPermaLink=\"false\">{}</guid><dc:creator>{}</dc:creator><pubDate>{}</pubDate><description>{}</description>{}</item>\n",
            xml_escape(&it.title),
            xml_escape(&link(it)),
            xml_escape(&guid(it)),
            xml_escape(&it.author),
            published(now, it).to_rfc2822(),
            xml_escape(&it.text),
            media_community(it),
        ));
    }
    s.push_str("</channel></rss>\n");
    s
}

pub fn atom(items: &[&SampleItem], base: &str, now: DateTime<Utc>) -> String {
    let mut s = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xmlns:media=\"http://search.yahoo.com/mrss/\"><title>Demo forum</title><id>{}</id><updated>{}</updated><link href=\"{}\"/>\n",
        xml_escape(base),
        now.to_rfc3339(),
        xml_escape(base)
    );
    for it in items {
        let t = published(now, it).to_rfc3339();
        s.push_str(&format!(
            "<entry><title type=\"text\">{}</title><id>{}</id><link href=\"{}\"/><author><name>{}</name></author><published>{t}</published><updated>{t}</updated><content type=\"text\">{}</content>{}</entry>\n",
            xml_escape(&it.title),
            xml_escape(&guid(it)),
            xml_escape(&link(it)),
            xml_escape(&it.author),
            xml_escape(&it.text),
            media_community(it),
        ));
    }
    s.push_str("</feed>\n");
    s
}

pub fn json_feed(items: &[&SampleItem], base: &str, now: DateTime<Utc>) -> String {
    let items: Vec<serde_json::Value> = items
        .iter()
        .map(|it| {
            let mut v = serde_json::json!({
                "id": guid(it),
                "url": link(it),
                "content_text": it.text,
                "date_published": published(now, it).to_rfc3339(),
                "authors": [{"name": it.author}],
                "_engagement": {
                    "likes": it.likes,
                    "shares": it.shares,
                    "comments": it.comments,
                    "followers": it.followers,
                },
            });
            if !it.title.is_empty() {
                v["title"] = serde_json::Value::String(it.title.clone());
            }
            v
        })
        .collect();
    serde_json::json!({
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Demo social",
        "home_page_url": base,
        "items": items,
    })
    .to_string()
}
