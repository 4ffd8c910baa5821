//! `kind = "telegram"`: public Telegram channels through their public web preview,
//! `https://t.me/s/<channel>` (no account, no token), older posts with `?before=<id>`.
//!
//! Each post (`.tgme_widget_message[data-post]`) becomes a mention: its text (HTML reduced to
//! text), views (`37.2K` → 37,200), publication time, author (the post's signature, else the
//! channel's name), "forwarded from" as the title, and its link `https://t.me/<channel>/<id>`.
//!
//! Per channel, the cursor is the newest post number indexed. A poll reads the channel's
//! newest page and walks older pages (`?before=`) while they still hold posts newer than the
//! cursor — on the first poll, newer than `backfill` — up to `max_pages` pages. The cursor is
//! written with the batch, so it only moves once the posts are indexed.

use super::{Batch, PollReport, Source, SourceConfig, SourceContext};
use crate::http::{Outcome, RequestOptions, redact};
use crate::mention::{Engagement, Mention};
use crate::state::StateUpdate;
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use scraper::{Html, Selector};
use std::time::Duration;
use tokio::sync::mpsc;
use url::Url;

/// The `telegram` source kind (see [`super::KINDS`]).
pub const KIND: super::Kind = super::Kind {
    name: "telegram",
    keys: &["channels", "max_pages", "backfill"],
    build: |c, _| Ok(Box::new(TelegramSource::new(c)?)),
};

pub struct TelegramSource {
    name: String,
    interval: Duration,
    base: Url,
    channels: Vec<String>,
    max_pages: usize,
    backfill: Duration,
}

/// One post of a preview page.
#[derive(Debug, Clone, PartialEq)]
pub struct Post {
    /// `channel/123`.
    pub post: String,
    pub number: u64,
    pub text: String,
    pub views: Option<u64>,
    pub published: Option<DateTime<Utc>>,
    pub author: Option<String>,
    pub forwarded_from: Option<String>,
}

impl TelegramSource {
    pub fn new(config: &SourceConfig) -> Result<TelegramSource, String> {
        let channels: Vec<String> = config
            .api
            .channels
            .iter()
            .map(|c| {
                c.trim()
                    .trim_start_matches("https://")
                    .trim_start_matches("t.me/s/")
                    .trim_start_matches("t.me/")
                    .trim_start_matches('@')
                    .trim_matches('/')
                    .to_string()
            })
            .filter(|c| !c.is_empty())
            .collect();
        if channels.is_empty() {
            return Err("`channels` lists no channel (e.g. channels = [\"durov\"])".into());
        }
        if let Some(bad) = channels
            .iter()
            .find(|c| !c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_'))
        {
            return Err(format!(
                "`channels`: `{bad}` is not a public channel name (letters, digits, _)"
            ));
        }
        Ok(TelegramSource {
            name: config.name.clone(),
            interval: config.interval,
            base: config
                .base_url
                .clone()
                .unwrap_or_else(|| Url::parse("https://t.me/").expect("valid URL")),
            channels,
            max_pages: config.api.max_pages.max(1),
            backfill: config.api.backfill,
        })
    }

    fn page_url(&self, channel: &str, before: Option<u64>) -> Url {
        let mut u = self
            .base
            .join(&format!("s/{channel}"))
            .expect("a relative path joins");
        if let Some(b) = before {
            u.query_pairs_mut().append_pair("before", &b.to_string());
        }
        u
    }

    async fn poll_channel(
        &self,
        ctx: &SourceContext,
        channel: &str,
        out: &mpsc::Sender<Batch>,
        report: &mut PollReport,
    ) -> Result<(), String> {
        let cursor: Option<u64> = ctx
            .state
            .cursor(&self.name, channel)
            .map_err(|e| e.to_string())?
            .and_then(|c| c.parse().ok());
        let horizon = Utc::now() - chrono::Duration::from_std(self.backfill).unwrap_or_default();
        let mut before = None;
        let mut posts: Vec<Post> = Vec::new();
        for page_no in 0..self.max_pages {
            let url = self.page_url(channel, before);
            report.requests += 1;
            let opts = RequestOptions {
                headers: Vec::new(),
                validators: None,
                max_bytes: None,
                scope: None,
            };
            let fetched = match ctx.fetcher.get(&url, &opts).await {
                Ok(Outcome::Fetched(f)) => f,
                Ok(Outcome::NotModified) => break,
                // The newest page failed: nothing to deliver, the channel failed.
                Err(e) if page_no == 0 => return Err(e.to_string()),
                // An older page failed: what was read is delivered; the error is reported.
                Err(e) => {
                    tracing::warn!(source = %self.name, channel, error = %e, "older telegram page failed");
                    report.errors.push(format!("{channel}: {e}"));
                    break;
                }
            };
            let html = String::from_utf8_lossy(&fetched.body).into_owned();
            let (page, unreadable) = tokio::task::spawn_blocking(move || parse_page(&html))
                .await
                .map_err(|e| format!("{}: preview parser failed: {e}", redact::url(&url)))?;
            if unreadable > 0 {
                tracing::warn!(source = %self.name, channel, unreadable, "telegram posts without a post id skipped");
                report.skipped_items += unreadable;
            }
            if page.is_empty() {
                break;
            }
            let oldest = page.iter().map(|p| p.number).min().unwrap_or(0);
            let reached_known = cursor.is_some_and(|c| oldest <= c);
            let reached_horizon = cursor.is_none()
                && page
                    .iter()
                    .filter_map(|p| p.published)
                    .min()
                    .is_some_and(|t| t < horizon);
            posts.extend(
                page.into_iter()
                    .filter(|p| cursor.is_none_or(|c| p.number > c)),
            );
            if reached_known || reached_horizon || oldest <= 1 {
                break;
            }
            before = Some(oldest);
        }
        let fetched_at = Utc::now();
        posts.retain(|p| cursor.is_some() || p.published.is_none_or(|t| t >= horizon));
        let newest = posts.iter().map(|p| p.number).max();
        let mentions: Vec<Mention> = posts
            .iter()
            .map(|p| to_mention(p, &self.name, fetched_at))
            .collect();
        report.items += mentions.len();
        let checkpoint = newest
            .map(|n| StateUpdate::Cursor {
                source: self.name.clone(),
                key: channel.to_string(),
                value: n.max(cursor.unwrap_or(0)).to_string(),
            })
            .into_iter()
            .collect();
        out.send(Batch {
            source: self.name.clone(),
            mentions,
            lang_hint: None,
            checkpoint,
            retract: Vec::new(),
        })
        .await
        .map_err(|_| "pipeline closed".to_string())
    }
}

impl Source for TelegramSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> &'static str {
        "telegram"
    }

    fn interval(&self) -> Duration {
        self.interval
    }

    fn poll<'a>(
        &'a self,
        ctx: &'a SourceContext,
        out: &'a mpsc::Sender<Batch>,
    ) -> BoxFuture<'a, PollReport> {
        Box::pin(async move {
            let mut report = PollReport {
                source: self.name.clone(),
                ..Default::default()
            };
            for channel in &self.channels {
                if let Err(e) = self.poll_channel(ctx, channel, out, &mut report).await {
                    tracing::error!(source = %self.name, channel = %channel, error = %e, "telegram channel failed");
                    report.errors.push(format!("{channel}: {e}"));
                }
            }
            report
        })
    }
}

fn to_mention(p: &Post, source: &str, fetched_at: DateTime<Utc>) -> Mention {
    Mention {
        id: format!("telegram:{}", p.post),
        queries: vec![],
        source: source.to_string(),
        source_kind: "telegram".into(),
        url: Some(format!("https://t.me/{}", p.post)),
        author: p.author.clone(),
        title: p
            .forwarded_from
            .as_ref()
            .map(|f| format!("Forwarded from {f}")),
        text: p.text.clone(),
        published_at: p.published.unwrap_or(fetched_at),
        fetched_at: Some(fetched_at),
        lang: None,
        sentiment: None,
        engagement: Engagement {
            views: p.views,
            ..Engagement::default()
        },
        reach: None,
        duplicates: Vec::new(),
        parent_id: None,
    }
}

/// `37.2K` → 37,200; `1.5M` → 1,500,000; `812` → 812.
fn parse_count(s: &str) -> Option<u64> {
    let s = s.trim().replace(',', "");
    let (num, mult) = match s.chars().last()? {
        'K' | 'k' => (&s[..s.len() - 1], 1_000.0),
        'M' | 'm' => (&s[..s.len() - 1], 1_000_000.0),
        _ => (s.as_str(), 1.0),
    };
    let v: f64 = num.trim().parse().ok()?;
    (v.is_finite() && v >= 0.0).then(|| (v * mult).round() as u64)
}

/// The posts of one preview page (or of a saved message fragment), oldest first, and how
/// many message blocks had no usable post id (skipped).
pub fn parse_page(html: &str) -> (Vec<Post>, usize) {
    let doc = Html::parse_document(html);
    let sel = |s: &str| Selector::parse(s).expect("valid selector");
    let (msg, text, views, time, author, owner, fwd) = (
        sel(".tgme_widget_message[data-post]"),
        sel(".tgme_widget_message_text"),
        sel(".tgme_widget_message_views"),
        sel(".tgme_widget_message_date time[datetime], time[datetime]"),
        sel(".tgme_widget_message_from_author"),
        sel(".tgme_widget_message_owner_name"),
        sel(".tgme_widget_message_forwarded_from_name"),
    );
    let text_of = |e: scraper::ElementRef| crate::display::one_line(&e.text().collect::<String>());
    let blocks = doc.select(&msg).count();
    let mut posts: Vec<Post> = doc
        .select(&msg)
        .filter_map(|m| {
            let post = m.value().attr("data-post")?.trim().to_string();
            let number = post.rsplit('/').next()?.parse().ok()?;
            let body = m
                .select(&text)
                .next()
                .map(|t| crate::html::to_text(&t.inner_html()))
                .unwrap_or_default();
            Some(Post {
                number,
                text: body,
                views: m
                    .select(&views)
                    .next()
                    .and_then(|v| parse_count(&v.text().collect::<String>())),
                published: m
                    .select(&time)
                    .next()
                    .and_then(|t| t.value().attr("datetime"))
                    .and_then(|d| DateTime::parse_from_rfc3339(d).ok())
                    .map(|d| d.with_timezone(&Utc)),
                author: m
                    .select(&author)
                    .next()
                    .or_else(|| m.select(&owner).next())
                    .map(text_of)
                    .filter(|a| !a.is_empty()),
                forwarded_from: m.select(&fwd).next().map(text_of).filter(|f| !f.is_empty()),
                post,
            })
        })
        .collect();
    let unreadable = blocks - posts.len();
    posts.sort_by_key(|p| p.number);
    posts.dedup_by_key(|p| p.number);
    (posts, unreadable)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts() {
        assert_eq!(parse_count("37.2K"), Some(37_200));
        assert_eq!(parse_count("1.5M"), Some(1_500_000));
        assert_eq!(parse_count("812"), Some(812));
        assert_eq!(parse_count("lots"), None);
    }

    #[test]
    fn a_post_with_entities_signature_and_forward() {
        let html = r#"<div class="tgme_widget_message" data-post="acme_news/42">
          <div class="tgme_widget_message_forwarded_from">Forwarded from <a class="tgme_widget_message_forwarded_from_name">Other &amp; Co</a></div>
          <div class="tgme_widget_message_text">Acme &quot;outage&quot;<br>again</div>
          <span class="tgme_widget_message_views">1.2K</span>
          <span class="tgme_widget_message_from_author">Ann</span>
          <a class="tgme_widget_message_date"><time datetime="2023-02-28T07:47:53+00:00">07:47</time></a></div>"#;
        let (posts, unreadable) = parse_page(html);
        let p = &posts[0];
        assert_eq!(unreadable, 0);
        let (none, bad) =
            parse_page(r#"<div class="tgme_widget_message" data-post="x/notanumber">t</div>"#);
        assert_eq!((none.len(), bad), (0, 1));
        assert_eq!((p.post.as_str(), p.number), ("acme_news/42", 42));
        assert_eq!(p.text, "Acme \"outage\"\nagain");
        assert_eq!(p.views, Some(1200));
        assert_eq!(p.author.as_deref(), Some("Ann"));
        assert_eq!(p.forwarded_from.as_deref(), Some("Other & Co"));
        assert_eq!(
            p.published.unwrap().to_rfc3339(),
            "2023-02-28T07:47:53+00:00"
        );
    }
}
