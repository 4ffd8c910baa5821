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
//!
//! **Bot API mode** (`token_env`, for groups and private channels a bot is in): each poll
//! asks `getUpdates` (`https://api.telegram.org/bot<token>/getUpdates`) for up to 100
//! messages since the stored offset. Telegram forgets updates once a later offset is asked
//! for, so hark asks once per poll and stores the next offset with the batch: nothing is
//! confirmed before it is indexed. Give the bot access to messages (BotFather →
//! `/setprivacy` → Disable, or make it an admin); no webhook may be set for it. Messages keep
//! their chat (`telegram:<chat>/<id>`, `<chat>` = the public username or `c/<id>` as in
//! t.me links), author, forward origin and `parent_id` for replies; an edited message
//! replaces its earlier text. The token never appears in logs (`botREDACTED`).

use super::api::{ShapeError, pick};
use super::settings::{KindConfig, PAGES_AND_BACKFILL};
use super::{
    Batch, BuildError, PollError, PollReport, Source, SourceConfig, SourceContext, SourceId,
};
use crate::fields::EnvVar;
use crate::http::{FetchError, Outcome, RequestOptions, redact};
use crate::mention::{Engagement, Mention};
use crate::state::StateUpdate;
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use scraper::{Html, Selector};
use serde::Deserialize;
use std::time::Duration;
use tokio::sync::mpsc;
use url::Url;

/// `kind = "telegram"` settings.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelegramConfig {
    /// Public channels read through their `t.me/s/` preview (names, `@name` or links).
    #[serde(default)]
    pub channels: Vec<String>,
    /// Bot API mode: the environment variable holding the bot's token.
    pub token_env: Option<EnvVar>,
}

impl KindConfig for TelegramConfig {
    const NAME: &'static str = "telegram";
    const PAGING: &'static [&'static str] = PAGES_AND_BACKFILL;

    fn build(&self, c: &SourceConfig, _: Vec<String>) -> Result<Box<dyn Source>, BuildError> {
        Ok(Box::new(TelegramSource::new(c, self)?))
    }
}

pub struct TelegramSource {
    name: String,
    interval: Duration,
    base: Url,
    channels: Vec<String>,
    max_pages: usize,
    backfill: Duration,
    /// Bot API mode: the token, and where the Bot API is (`base_url` in tests).
    bot: Option<(redact::Secret, Url)>,
}

/// The state key of the Bot API's next update offset.
const BOT_CURSOR: &str = "bot:offset";
/// Updates asked for per poll (the Bot API's maximum).
const BOT_LIMIT: usize = 100;

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
    pub fn new(config: &SourceConfig, s: &TelegramConfig) -> Result<TelegramSource, BuildError> {
        let channels: Vec<String> = s
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
        let bot = super::credential(config, "token_env", s.token_env.as_ref())?.map(|token| {
            let api = config
                .base_url
                .clone()
                .unwrap_or_else(|| Url::parse("https://api.telegram.org/").expect("valid URL"));
            (token, api)
        });
        if channels.is_empty() && bot.is_none() {
            return Err(BuildError::Settings("`channels` lists no channel (e.g. channels = [\"durov\"]), and no bot token (`token_env`) is set".into()));
        }
        if let Some(bad) = channels
            .iter()
            .find(|c| !c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_'))
        {
            return Err(BuildError::Settings(format!(
                "`channels`: `{bad}` is not a public channel name (letters, digits, _)"
            )));
        }
        Ok(TelegramSource {
            name: config.name.clone(),
            interval: config.interval,
            base: config
                .base_url
                .clone()
                .unwrap_or_else(|| Url::parse("https://t.me/").expect("valid URL")),
            channels,
            max_pages: config.paging.max_pages.max(1),
            backfill: config.paging.backfill.0,
            bot,
        })
    }

    /// Bot API mode: one `getUpdates` call from the stored offset; the next offset goes
    /// with the batch.
    async fn poll_bot(
        &self,
        ctx: &SourceContext,
        token: &redact::Secret,
        api: &Url,
        out: &mpsc::Sender<Batch>,
        report: &mut PollReport,
    ) -> Result<(), PollError> {
        let offset: Option<i64> = ctx
            .state
            .cursor(&self.name, BOT_CURSOR)?
            .and_then(|c| c.parse().ok());
        let mut url = api
            // `./`: a relative path, or `bot123:…` would read as a URL scheme.
            .join(&format!("./bot{}/getUpdates", token.expose()))
            .map_err(|e| PollError::Answer(format!("Bot API URL: {e}")))?;
        {
            let mut q = url.query_pairs_mut();
            if let Some(o) = offset {
                q.append_pair("offset", &o.to_string());
            }
            q.append_pair("limit", &BOT_LIMIT.to_string());
            q.append_pair("timeout", "0");
            q.append_pair(
                "allowed_updates",
                r#"["message","edited_message","channel_post","edited_channel_post"]"#,
            );
        }
        report.requests += 1;
        let fetched = match ctx.fetcher.get(&url, &RequestOptions::default()).await {
            Ok(Outcome::Fetched(f)) => f,
            Ok(Outcome::NotModified) => {
                return Err(PollError::Answer("getUpdates: unexpected 304".into()));
            }
            Err(FetchError::Status { status, .. })
                if status.as_u16() == 401 || status.as_u16() == 404 =>
            {
                return Err(PollError::Answer(format!(
                    "Bot API: HTTP {status}: Telegram rejected the bot token (BotFather → /token shows the current one)"
                )));
            }
            Err(FetchError::Status { status, .. }) if status.as_u16() == 409 => {
                return Err(PollError::Answer("Bot API: HTTP 409: another getUpdates client or a webhook is active for this bot (deleteWebhook, or stop the other instance)".into()));
            }
            Err(e) => return Err(PollError::Answer(redact::scrub(&e.to_string(), &[token]))),
        };
        let body: serde_json::Value = serde_json::from_slice(&fetched.body)
            .map_err(|e| PollError::Answer(format!("getUpdates: the answer is not JSON: {e}")))?;
        if body.get("ok").and_then(serde_json::Value::as_bool) != Some(true) {
            let why =
                pick::str_at(&body, "/description").unwrap_or_else(|| "no description".into());
            return Err(PollError::Answer(format!(
                "Bot API refused getUpdates: {why}"
            )));
        }
        let updates = body
            .get("result")
            .and_then(serde_json::Value::as_array)
            .ok_or_else(|| PollError::Answer("getUpdates: no `result` list".into()))?;
        let fetched_at = Utc::now();
        let mut mentions = Vec::new();
        let mut next_offset = offset;
        for u in updates {
            let Some(update_id) = u.get("update_id").and_then(serde_json::Value::as_i64) else {
                report.skipped_items += 1;
                tracing::warn!(source = %self.name, "telegram update without update_id skipped");
                continue;
            };
            next_offset = Some(next_offset.unwrap_or(i64::MIN).max(update_id + 1));
            let msg = [
                "message",
                "edited_message",
                "channel_post",
                "edited_channel_post",
            ]
            .iter()
            .find_map(|k| u.get(*k));
            match msg.map(|m| bot_message(m, &self.name, fetched_at)) {
                Some(Ok(m)) => mentions.push(m),
                Some(Err(e)) => {
                    report.skipped_items += 1;
                    tracing::warn!(source = %self.name, update_id, "telegram update skipped: {e}");
                }
                None => {} // another kind of update (a member joined, a poll): not a mention
            }
        }
        report.items += mentions.len();
        let next = next_offset.filter(|n| Some(*n) != offset);
        self.deliver(out, mentions, BOT_CURSOR, next.map(|n| n.to_string()))
            .await
    }

    /// Sends `mentions` with the cursor `key` moved to `cursor` (when given); the cursor is
    /// stored once they are indexed.
    async fn deliver(
        &self,
        out: &mpsc::Sender<Batch>,
        mentions: Vec<Mention>,
        key: &str,
        cursor: Option<String>,
    ) -> Result<(), PollError> {
        let checkpoint = cursor
            .map(|value| StateUpdate::Cursor {
                source: self.name.clone(),
                key: key.to_string(),
                value,
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
        .map_err(|_| PollError::PipelineClosed)
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
    ) -> Result<(), PollError> {
        let cursor: Option<u64> = ctx
            .state
            .cursor(&self.name, channel)?
            .and_then(|c| c.parse().ok());
        let horizon = Utc::now() - chrono::Duration::from_std(self.backfill).unwrap_or_default();
        let mut before = None;
        let mut posts: Vec<Post> = Vec::new();
        for page_no in 0..self.max_pages {
            let url = self.page_url(channel, before);
            report.requests += 1;
            let fetched = match ctx.fetcher.get(&url, &RequestOptions::default()).await {
                Ok(Outcome::Fetched(f)) => f,
                Ok(Outcome::NotModified) => break,
                // The newest page failed: nothing to deliver, the channel failed.
                Err(e) if page_no == 0 => return Err(e.into()),
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
                .map_err(|e| {
                    PollError::Answer(format!("{}: preview parser failed: {e}", redact::url(&url)))
                })?;
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
        let next = newest.map(|n| n.max(cursor.unwrap_or(0)).to_string());
        self.deliver(out, mentions, channel, next).await
    }
}

impl Source for TelegramSource {
    fn id(&self) -> SourceId<'_> {
        SourceId {
            name: &self.name,
            kind: "telegram",
            interval: self.interval,
        }
    }

    fn poll<'a>(
        &'a self,
        ctx: &'a SourceContext,
        out: &'a mpsc::Sender<Batch>,
    ) -> BoxFuture<'a, PollReport> {
        Box::pin(async move {
            let mut report = PollReport::new(&self.name);
            for channel in &self.channels {
                if let Err(e) = self.poll_channel(ctx, channel, out, &mut report).await {
                    tracing::error!(source = %self.name, channel = %channel, error = %e, "telegram channel failed");
                    report.errors.push(format!("{channel}: {e}"));
                }
            }
            if let Some((token, api)) = &self.bot
                && let Err(e) = self.poll_bot(ctx, token, api, out, &mut report).await
            {
                tracing::error!(source = %self.name, error = %e, "telegram bot updates failed");
                report.errors.push(format!("bot: {e}"));
            }
            report
        })
    }
}

fn to_mention(p: &Post, source: &str, fetched_at: DateTime<Utc>) -> Mention {
    Mention {
        source: source.to_string(),
        source_kind: "telegram".into(),
        url: Some(format!("https://t.me/{}", p.post)),
        author: p.author.clone(),
        title: p
            .forwarded_from
            .as_ref()
            .map(|f| format!("Forwarded from {f}")),
        text: p.text.clone(),
        fetched_at: Some(fetched_at),
        engagement: Engagement {
            views: p.views,
            ..Engagement::default()
        },
        ..Mention::new(
            format!("telegram:{}", p.post),
            p.published.unwrap_or(fetched_at),
        )
    }
}

/// The chat part of a message id and link: the public username, else `c/<id>` (a
/// supergroup's or channel's id without its `-100` prefix, as t.me links write it).
fn chat_ref(chat: &serde_json::Value) -> Option<String> {
    if let Some(u) = pick::str_at(chat, "/username") {
        return Some(u);
    }
    let id = chat.get("id")?.as_i64()?;
    let s = id.to_string();
    Some(format!(
        "c/{}",
        s.strip_prefix("-100").unwrap_or(s.trim_start_matches('-'))
    ))
}

/// A Bot API message as a mention.
fn bot_message(
    m: &serde_json::Value,
    source: &str,
    fetched_at: DateTime<Utc>,
) -> Result<Mention, ShapeError> {
    let chat = m.get("chat").ok_or("no `chat`")?;
    let chat = chat_ref(chat).ok_or("no chat id")?;
    let id = pick::need(pick::u64_at(m, "/message_id"), "message_id")?;
    let published_at = pick::need(pick::time_at(m, "/date"), "date")?;
    let text = pick::str_at(m, "/text")
        .or_else(|| pick::str_at(m, "/caption"))
        .unwrap_or_default();
    let person = |p: &serde_json::Value| {
        pick::str_at(p, "/username").or_else(|| {
            let full = [
                pick::str_at(p, "/first_name"),
                pick::str_at(p, "/last_name"),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
            (!full.is_empty()).then_some(full)
        })
    };
    let author = m
        .get("from")
        .and_then(person)
        .or_else(|| pick::str_at(m, "/author_signature"))
        .or_else(|| pick::str_at(m, "/chat/title"));
    // Bot API 7: `forward_origin`; earlier: `forward_from_chat` / `forward_from`.
    let forwarded = pick::str_at(m, "/forward_origin/chat/title")
        .or_else(|| pick::str_at(m, "/forward_origin/sender_user_name"))
        .or_else(|| m.pointer("/forward_origin/sender_user").and_then(person))
        .or_else(|| pick::str_at(m, "/forward_from_chat/title"))
        .or_else(|| m.get("forward_from").and_then(person));
    let parent_id =
        pick::u64_at(m, "/reply_to_message/message_id").map(|p| format!("telegram:{chat}/{p}"));
    Ok(Mention {
        source: source.to_string(),
        source_kind: "telegram".into(),
        url: Some(format!("https://t.me/{chat}/{id}")),
        author,
        title: forwarded.map(|f| format!("Forwarded from {f}")),
        text,
        fetched_at: Some(fetched_at),
        parent_id,
        ..Mention::new(format!("telegram:{chat}/{id}"), published_at)
    })
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
