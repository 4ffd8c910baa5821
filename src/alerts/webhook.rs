//! Webhook delivery: generic JSON, Slack, Microsoft Teams and Discord.
//!
//! [`payload`] renders an [`Alert`] for one format; [`deliver`] makes ONE signed HTTP POST
//! of it (the caller's durable outbox retries, with backoff, across restarts) and says in
//! its [`DeliveryError`] whether and when to retry.
//!
//! # Formats
//!
//! * `json`: the [`Alert`] itself, field for field as it serializes, plus
//!   `"schema": "hark.alert.v1"` and `"title"` (the human one-liner, [`Alert::title`]).
//!   Times are RFC 3339 strings in UTC; `p_value`, `search_url`, and a mention's `url` and
//!   `author` may be `null`; `top_sources` and `top_authors` are arrays of
//!   `[name, count]` pairs; `drivers` is an array of `{"term", "share", "baseline_share"}`
//!   (what the window's mentions are about, most telling first; shares are 0..1 of the
//!   window's and the baseline's mentions) and `driving_source` / `driving_author` are
//!   `{"name", "count", "share"}` or `null`; `update` is `new`, `follow_up`, `ended` or `test`; `incident`
//!   is the same for every notification about one incident. New fields may be added to
//!   `hark.alert.v1`; a field is never removed or retyped without a new schema name.
//!   Mention text is passed as is: a receiver that renders it must escape it.
//! * `slack`: an incoming-webhook message with Block Kit blocks (header; a section with
//!   fields; one section per mention, linked to the mention; a context line with the
//!   incident and a link to hark's search). All text from mentions is escaped for Slack
//!   mrkdwn (`&`, `<`, `>` as entities; `*`, `_`, `~` and `` ` `` replaced by look-alike
//!   characters so they cannot format; `@` followed by a zero-width space so
//!   `@channel`/`@here` cannot notify) and sent with `"verbatim": true`.
//! * `teams`: a message with one Adaptive Card (v1.4) attachment, the shape Teams
//!   Workflows ("when a Teams webhook request is received") and bot connectors accept.
//!   Text goes in `RichTextBlock`/`TextRun` elements, which Teams never parses as
//!   markdown, with `<`/`>` replaced by `‹`/`›`.
//! * `discord`: `content` plus one embed; markdown in mention text is backslash-escaped,
//!   `@` is followed by a zero-width space, and `"allowed_mentions": {"parse": []}`
//!   stops any ping (`@everyone`, `@here`, roles, users) whatever the text says.
//!
//! Only `http`/`https` mention URLs become links ([`safe_link`]); others are dropped.
//!
//! # Request
//!
//! `POST <url>` with `Content-Type: application/json` and these headers:
//!
//! | header | value |
//! | --- | --- |
//! | `Idempotency-Key` | the same on every retry of one notification to one channel: drop duplicates by it |
//! | `X-Hark-Event` | the alert's `update`: `new`, `follow_up`, `ended` or `test` |
//! | `X-Hark-Timestamp` | when a secret is configured: Unix seconds at signing |
//! | `X-Hark-Signature` | when a secret is configured: `sha256=` + hex HMAC-SHA256 of `<timestamp>.<body>` |
//!
//! Any 2xx answer means delivered. 408, 429 and 5xx answers, timeouts and network errors
//! are retryable (`Retry-After`, in seconds or as an HTTP date, is passed on as
//! `retry_after`); any other answer (other 4xx, 3xx) is permanent.
//!
//! # Verifying hark's webhooks (for the README)
//!
//! When a webhook has a `secret`, hark signs every request: `X-Hark-Timestamp` holds the
//! Unix time of signing and `X-Hark-Signature` holds `sha256=` followed by the hex-encoded
//! HMAC-SHA256, keyed with the secret, of the timestamp, a dot, and the raw request body
//! exactly as received (`<timestamp>.<body>`). To verify a request, compute the same HMAC
//! over the raw body before parsing it as JSON, compare it with the header in constant
//! time, and reject requests whose timestamp is more than five minutes from your clock
//! (this stops replays); use the `Idempotency-Key` header to drop deliveries you have
//! already processed, since hark retries until it gets a 2xx answer. In Python:
//!
//! ```python
//! import hmac, hashlib, time
//! def verify(secret: bytes, ts: str, body: bytes, header: str) -> bool:
//!     mac = hmac.new(secret, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
//!     fresh = abs(time.time() - int(ts)) < 300
//!     return fresh and hmac.compare_digest("sha256=" + mac, header)
//! ```
//!
//! In Rust, [`verify_signature`] (and [`verify_request`], which also checks freshness) do
//! the same.
use std::time::Duration;

use chrono::Utc;
use hmac::{Hmac, KeyInit, Mac};
use reqwest::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use serde_json::{Value, json};
use sha2::Sha256;

use super::model::{
    Alert, AlertMention, DeliveryError, clean_text, compact_number, fmt_time, one_line,
    p_value_text, safe_link, truncate_chars,
};

/// The `schema` field of the `json` format.
pub const SCHEMA: &str = "hark.alert.v1";

/// The formats [`payload`] knows; anything else is rendered as `json`.
pub const FORMATS: &[&str] = &["json", "slack", "teams", "discord"];

/// Upper bound on one delivery attempt, on top of the client's own timeouts.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);

/// How much of an error response's body goes into the error message.
const ERROR_BODY_BYTES: usize = 300;

/// Zero-width space: put after `@` so no chat app reads a mention.
const ZWSP: char = '\u{200B}';

/// True when `format` is one of [`FORMATS`] (config validation should reject others).
pub fn is_known_format(format: &str) -> bool {
    FORMATS.contains(&format)
}

/// The JSON body for `format` (`json`, `slack`, `teams`, `discord`; an unknown format is
/// rendered as `json`).
pub fn payload(format: &str, alert: &Alert) -> Value {
    match format {
        "slack" => slack_payload(alert),
        "teams" => teams_payload(alert),
        "discord" => discord_payload(alert),
        _ => json_payload(alert),
    }
}

/// Makes ONE delivery attempt of `alert` to `url` in `format`.
///
/// Sends the headers described in the module docs (`Idempotency-Key`, `X-Hark-Event`,
/// and with a `secret` the timestamp and signature). Returns `Ok` on any 2xx answer.
/// Errors never contain `url`, which often embeds a token (Slack, Discord, Teams).
pub async fn deliver(
    client: &reqwest::Client,
    url: &str,
    format: &str,
    secret: Option<&[u8]>,
    alert: &Alert,
    idempotency_key: &str,
) -> Result<(), DeliveryError> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| DeliveryError::permanent(format!("invalid webhook URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(DeliveryError::permanent(
            "webhook URL must be http or https",
        ));
    }
    let key = HeaderValue::from_str(idempotency_key)
        .map_err(|_| DeliveryError::permanent("idempotency key is not a valid header value"))?;
    let event = HeaderValue::from_str(&alert.update)
        .map_err(|_| DeliveryError::permanent("alert update is not a valid header value"))?;
    let body = serde_json::to_vec(&payload(format, alert))
        .map_err(|e| DeliveryError::permanent(format!("cannot serialize payload: {e}")))?;

    let mut request = client
        .post(parsed)
        .header(CONTENT_TYPE, "application/json")
        .header("Idempotency-Key", key)
        .header("X-Hark-Event", event);
    if let Some(secret) = secret {
        let timestamp = Utc::now().timestamp().to_string();
        let signature = sign(secret, &timestamp, &body);
        request = request
            .header("X-Hark-Timestamp", timestamp)
            .header("X-Hark-Signature", signature);
    }
    let request = request.body(body);

    let attempt = async {
        let response = request.send().await.map_err(request_error)?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let snippet = error_body(response).await;
        let mut message = format!("webhook answered HTTP {status}");
        if !snippet.is_empty() {
            message.push_str(": ");
            message.push_str(&snippet);
        }
        let code = status.as_u16();
        if code == 408 || code == 429 || status.is_server_error() {
            Err(DeliveryError {
                retryable: true,
                retry_after,
                message,
            })
        } else {
            Err(DeliveryError::permanent(message))
        }
    };
    let result = match tokio::time::timeout(ATTEMPT_TIMEOUT, attempt).await {
        Ok(result) => result,
        Err(_) => Err(DeliveryError::retryable(format!(
            "webhook timed out after {}s",
            ATTEMPT_TIMEOUT.as_secs()
        ))),
    };
    if let Err(e) = &result {
        tracing::debug!(
            format,
            alert = %alert.id,
            retryable = e.retryable,
            error = %e.message,
            "webhook delivery failed"
        );
    }
    result
}

/// `sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`: the `X-Hark-Signature` value.
pub fn sign(secret: &[u8], timestamp: &str, body: &[u8]) -> String {
    let tag = mac(secret, timestamp, body).finalize().into_bytes();
    format!("sha256={}", hex::encode(tag.as_slice()))
}

/// How a receiver checks a hark webhook: true when `header` (the `X-Hark-Signature`
/// value, `sha256=<hex>`) is the HMAC-SHA256 of `"<timestamp>.<body>"` under `secret`,
/// `timestamp` being the `X-Hark-Timestamp` value and `body` the raw request body.
/// The comparison is constant-time. It does not look at the clock: see
/// [`verify_request`], or reject stale timestamps yourself (see the module docs).
pub fn verify_signature(secret: &[u8], timestamp: &str, body: &[u8], header: &str) -> bool {
    let Some(hex_tag) = header.trim().strip_prefix("sha256=") else {
        return false;
    };
    let Ok(tag) = hex::decode(hex_tag) else {
        return false;
    };
    mac(secret, timestamp, body).verify_slice(&tag).is_ok()
}

/// [`verify_signature`] plus a freshness check: the timestamp must be a Unix time within
/// `tolerance` of now (five minutes is a good value), which stops replays of old requests.
pub fn verify_request(
    secret: &[u8],
    timestamp: &str,
    body: &[u8],
    header: &str,
    tolerance: Duration,
) -> bool {
    let Ok(ts) = timestamp.trim().parse::<i64>() else {
        return false;
    };
    let age = (Utc::now().timestamp() - ts).unsigned_abs();
    age <= tolerance.as_secs() && verify_signature(secret, timestamp, body, header)
}

fn mac(secret: &[u8], timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC accepts any key length");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

fn request_error(e: reqwest::Error) -> DeliveryError {
    // Never let the URL (which may hold a token) into the message.
    let e = e.without_url();
    let what = if e.is_timeout() {
        "webhook timed out"
    } else if e.is_connect() {
        "cannot connect to webhook"
    } else {
        "webhook request failed"
    };
    let message = format!("{what}: {}", error_chain(&e));
    if e.is_builder() || e.is_redirect() {
        DeliveryError::permanent(message)
    } else {
        DeliveryError::retryable(message)
    }
}

use crate::http::error_chain;

/// The start of an error response's body, on one line.
async fn error_body(mut response: reqwest::Response) -> String {
    let mut bytes = Vec::new();
    while bytes.len() < ERROR_BODY_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            _ => break,
        }
    }
    bytes.truncate(ERROR_BODY_BYTES);
    truncate_chars(&one_line(&String::from_utf8_lossy(&bytes)), 200)
}

pub use crate::http::parse_retry_after;

// ---------------------------------------------------------------------------------------
// json

fn json_payload(alert: &Alert) -> Value {
    let mut value = serde_json::to_value(alert).unwrap_or_else(|_| json!({}));
    if let Value::Object(map) = &mut value {
        map.insert("schema".into(), Value::String(SCHEMA.into()));
        map.insert("title".into(), Value::String(alert.title()));
    }
    value
}

// ---------------------------------------------------------------------------------------
// Shared bits for the chat formats

/// Mention excerpts in chat messages: one line, at most this many characters.
const CHAT_EXCERPT_CHARS: usize = 400;

/// "a (3), b (2), c (1)" from the first three, each name passed through `esc`.
fn top_list(items: &[(String, u64)], esc: impl Fn(&str) -> String) -> Option<String> {
    if items.is_empty() {
        return None;
    }
    Some(
        items
            .iter()
            .take(3)
            .map(|(name, n)| format!("{} ({n})", esc(&truncate_chars(&one_line(name), 60))))
            .collect::<Vec<_>>()
            .join(", "),
    )
}

/// "negative (-0.82) · reach 12.3k · 2026-03-01 11:42 UTC": the mention's metadata that
/// needs no escaping beyond what `esc` does to the sentiment label.
fn mention_meta(m: &AlertMention, esc: impl Fn(&str) -> String) -> String {
    format!(
        "{} ({:+.2}) · reach {} · {}",
        esc(&truncate_chars(&one_line(&m.sentiment), 20)),
        m.score,
        compact_number(m.reach),
        fmt_time(&m.published_at)
    )
}

fn chat_excerpt(m: &AlertMention) -> String {
    truncate_chars(&one_line(&m.excerpt), CHAT_EXCERPT_CHARS)
}

fn color(alert: &Alert) -> u32 {
    match (alert.update.as_str(), alert.kind.as_str()) {
        ("ended", _) => 0x2EB67D,
        ("test", _) => 0x888888,
        (_, "negative_spike") => 0xE01E5A,
        (_, "viral_mention") => 0xECB22E,
        _ => 0x36C5F0,
    }
}

// ---------------------------------------------------------------------------------------
// Slack

/// Escapes untrusted text for Slack mrkdwn: `&<>` as entities (so no `<!here>`,
/// `<@U…>` or `<url|label>` can be formed), the formatting characters `*_~`` ` `` as
/// look-alikes (mrkdwn has no backslash escape), and `@` followed by a zero-width space
/// (so a bare `@channel`/`@here`/`@everyone` is never read as a mention).
pub fn slack_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in clean_text(s).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '*' => out.push('∗'),
            '_' => out.push('ˍ'),
            '~' => out.push('∼'),
            '`' => out.push('ˋ'),
            '@' => {
                out.push('@');
                out.push(ZWSP);
            }
            c => out.push(c),
        }
    }
    out
}

/// Text for Slack `plain_text` objects (never parsed for markup or mentions): one line,
/// angle brackets replaced by look-alikes and `@` followed by a zero-width space, in case a
/// client renders it loosely.
fn slack_plain(s: &str, max: usize) -> String {
    let mut text = String::with_capacity(s.len());
    for c in one_line(s).chars() {
        match c {
            '<' => text.push('‹'),
            '>' => text.push('›'),
            '@' => text.push_str("@\u{200B}"),
            c => text.push(c),
        }
    }
    truncate_chars(&text, max)
}

/// `<url|label>` when `url` is a safe http(s) link, else just `label`; `label` must
/// already be escaped.
fn slack_link(url: Option<&str>, label: &str) -> String {
    match url.and_then(safe_link) {
        Some(u) => {
            let u = u.replace('&', "&amp;").replace('|', "%7C");
            format!("<{u}|{label}>")
        }
        None => label.to_string(),
    }
}

fn mrkdwn(text: String) -> Value {
    json!({"type": "mrkdwn", "text": truncate_chars(&text, 2900), "verbatim": true})
}

fn slack_payload(alert: &Alert) -> Value {
    let esc = |s: &str| slack_escape(s);
    let mut fields = vec![mrkdwn(format!("*Status*\n{}", alert.update_label()))];
    if let Some(d) = alert.drivers_text() {
        fields.push(mrkdwn(format!("*About*\n{}", esc(&d))));
    }
    if let Some(d) = alert.driven_by_text() {
        fields.push(mrkdwn(format!("*Driven by*\n{}", esc(&d))));
    }
    fields.extend([
        mrkdwn(format!(
            "*Rule*\n{}",
            esc(&truncate_chars(&one_line(&alert.rule), 200))
        )),
        mrkdwn(format!(
            "*Query*\n{}",
            esc(&truncate_chars(&one_line(&alert.query), 500))
        )),
        mrkdwn(format!("*Observed*\n{}", alert.observed_text())),
        mrkdwn(format!("*Expected*\n{:.1}", alert.expected)),
        mrkdwn(format!("*Window*\n{}", alert.window_text())),
        mrkdwn(format!("*Sentiment*\n{}", alert.sentiment_text())),
    ]);
    if let Some(p) = alert.p_value {
        fields.push(mrkdwn(format!("*p-value*\n{}", p_value_text(p))));
    }
    if let Some(s) = top_list(&alert.top_sources, esc) {
        fields.push(mrkdwn(format!("*Top sources*\n{s}")));
    }
    if let Some(s) = top_list(&alert.top_authors, esc) {
        fields.push(mrkdwn(format!("*Top authors*\n{s}")));
    }
    fields.truncate(10); // Slack's limit per section.

    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": slack_plain(&alert.headline(), 150), "emoji": true}}),
        json!({"type": "section", "fields": fields}),
    ];
    if !alert.mentions.is_empty() {
        blocks.push(json!({"type": "divider"}));
    }
    for m in alert.mentions.iter().take(5) {
        let source = format!("*{}*", esc(&truncate_chars(&one_line(&m.source), 80)));
        let mut line = slack_link(m.url.as_deref(), &source);
        if let Some(author) = m.author.as_deref().filter(|a| !a.trim().is_empty()) {
            line.push_str(" · ");
            line.push_str(&esc(&truncate_chars(&one_line(author), 80)));
        }
        line.push_str(" · ");
        line.push_str(&mention_meta(m, esc));
        let excerpt = chat_excerpt(m);
        if !excerpt.is_empty() {
            line.push_str("\n>");
            line.push_str(&esc(&excerpt));
        }
        blocks.push(json!({"type": "section", "text": mrkdwn(line)}));
    }
    let mut context = format!(
        "hark · incident {} · fired {}",
        esc(&truncate_chars(&one_line(&alert.incident), 80)),
        fmt_time(&alert.fired_at)
    );
    if let Some(url) = alert.search_url.as_deref().and_then(safe_link) {
        context.push_str(" · ");
        context.push_str(&slack_link(Some(url), "Open in hark"));
    }
    blocks.push(json!({"type": "context", "elements": [mrkdwn(context)]}));

    json!({
        // Notification / fallback text: plain, escaped like any mrkdwn.
        "text": esc(&truncate_chars(&alert.headline(), 300)),
        "blocks": blocks,
    })
}

// ---------------------------------------------------------------------------------------
// Teams

/// Text for an Adaptive Card `TextRun` (never parsed as markdown; Teams renders no HTML
/// in cards): control characters dropped, `<`/`>` replaced by `‹`/`›` so nothing
/// downstream (a Workflow that copies it into HTML) can read a tag.
pub fn teams_text(s: &str) -> String {
    clean_text(s)
        .chars()
        .map(|c| match c {
            '<' => '‹',
            '>' => '›',
            c => c,
        })
        .collect()
}

fn run(text: impl AsRef<str>) -> Value {
    json!({"type": "TextRun", "text": teams_text(text.as_ref())})
}

fn bold_run(text: impl AsRef<str>) -> Value {
    json!({"type": "TextRun", "text": teams_text(text.as_ref()), "weight": "Bolder"})
}

fn rich(inlines: Vec<Value>) -> Value {
    json!({"type": "RichTextBlock", "inlines": inlines})
}

fn teams_payload(alert: &Alert) -> Value {
    let plain = |s: &str| s.to_string();
    let mut body = vec![json!({
        "type": "RichTextBlock",
        "inlines": [{
            "type": "TextRun",
            "text": teams_text(&truncate_chars(&one_line(&alert.headline()), 300)),
            "weight": "Bolder",
            "size": "Medium",
            "color": if alert.update == "ended" { "Good" } else { "Attention" },
        }],
    })];
    let mut facts = vec![
        ("Status", alert.update_label().to_string()),
        ("Rule", truncate_chars(&one_line(&alert.rule), 200)),
        ("Query", truncate_chars(&one_line(&alert.query), 500)),
        ("Observed", alert.observed_text()),
        ("Expected", format!("{:.1}", alert.expected)),
        ("Window", alert.window_text()),
        ("Sentiment", alert.sentiment_text()),
    ];
    if let Some(p) = alert.p_value {
        facts.push(("p-value", p_value_text(p)));
    }
    if let Some(d) = alert.drivers_text() {
        facts.push(("About", d));
    }
    if let Some(d) = alert.driven_by_text() {
        facts.push(("Driven by", d));
    }
    if let Some(s) = top_list(&alert.top_sources, plain) {
        facts.push(("Top sources", s));
    }
    if let Some(s) = top_list(&alert.top_authors, plain) {
        facts.push(("Top authors", s));
    }
    for (name, value) in facts {
        body.push(rich(vec![bold_run(format!("{name}: ")), run(value)]));
    }
    for m in alert.mentions.iter().take(5) {
        let mut source = bold_run(truncate_chars(&one_line(&m.source), 80));
        if let Some(url) = m.url.as_deref().and_then(safe_link) {
            source["selectAction"] = json!({"type": "Action.OpenUrl", "url": url});
            source["underline"] = json!(true);
        }
        let mut meta = String::new();
        if let Some(author) = m.author.as_deref().filter(|a| !a.trim().is_empty()) {
            meta.push_str(" · ");
            meta.push_str(&truncate_chars(&one_line(author), 80));
        }
        meta.push_str(" · ");
        meta.push_str(&mention_meta(m, plain));
        let mut block = rich(vec![source, run(meta)]);
        block["separator"] = json!(true);
        block["spacing"] = json!("Medium");
        body.push(block);
        let excerpt = chat_excerpt(m);
        if !excerpt.is_empty() {
            body.push(json!({
                "type": "RichTextBlock",
                "inlines": [{"type": "TextRun", "text": teams_text(&excerpt), "italic": true, "isSubtle": true}],
            }));
        }
    }
    body.push(json!({
        "type": "RichTextBlock",
        "separator": true,
        "inlines": [{
            "type": "TextRun",
            "text": teams_text(&format!(
                "hark · incident {} · fired {}",
                truncate_chars(&one_line(&alert.incident), 80),
                fmt_time(&alert.fired_at)
            )),
            "isSubtle": true,
            "size": "Small",
        }],
    }));
    let mut card = json!({
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "msteams": {"width": "Full"},
        "body": body,
    });
    if let Some(url) = alert.search_url.as_deref().and_then(safe_link) {
        card["actions"] = json!([{"type": "Action.OpenUrl", "title": "Open in hark", "url": url}]);
    }
    json!({
        "type": "message",
        // Shown in notifications and by clients that cannot render the card.
        "summary": teams_text(&truncate_chars(&one_line(&alert.headline()), 300)),
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": card,
        }],
    })
}

// ---------------------------------------------------------------------------------------
// Discord

/// Escapes untrusted text for Discord markdown: a backslash before every character that
/// formats (`*_~`|`), quotes (`>`), links (`[]`), tags (`<@…>`, `<#…>`, `<t:…>`) or
/// escapes (`\\`), and before `#`, `-` and `+` that start a line (headings, subtext,
/// lists); `@` is followed by a zero-width space (`allowed_mentions` already stops pings;
/// this keeps `@everyone` from even looking like one).
pub fn discord_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut line_start = true;
    for c in clean_text(s).chars() {
        match c {
            '\\' | '*' | '_' | '~' | '`' | '|' | '>' | '<' | '[' | ']' => {
                out.push('\\');
                out.push(c);
            }
            '#' | '-' | '+' if line_start => {
                out.push('\\');
                out.push(c);
            }
            '@' => {
                out.push('@');
                out.push(ZWSP);
            }
            c => out.push(c),
        }
        line_start = c == '\n' || (line_start && c.is_whitespace());
    }
    out
}

/// `[label](url)` when `url` is a safe http(s) link, else `label`; `label` must already be
/// escaped. Parentheses in the URL are percent-encoded so they cannot end the link.
fn discord_link(url: Option<&str>, label: &str) -> String {
    match url.and_then(safe_link) {
        Some(u) => format!("[{label}]({})", u.replace('(', "%28").replace(')', "%29")),
        None => label.to_string(),
    }
}

fn discord_payload(alert: &Alert) -> Value {
    let esc = |s: &str| discord_escape(s);
    let field = |name: &str, value: String, inline: bool| json!({"name": name, "value": truncate_chars(&value, 1000), "inline": inline});
    let mut fields = vec![
        field(
            "Rule",
            esc(&truncate_chars(&one_line(&alert.rule), 200)),
            true,
        ),
        field(
            "Query",
            esc(&truncate_chars(&one_line(&alert.query), 300)),
            true,
        ),
        field("Status", alert.update_label().to_string(), true),
        field("Observed", alert.observed_text(), true),
        field("Expected", format!("{:.1}", alert.expected), true),
    ];
    if let Some(p) = alert.p_value {
        fields.push(field("p-value", p_value_text(p), true));
    }
    fields.push(field("Window", alert.window_text(), false));
    fields.push(field("Sentiment", alert.sentiment_text(), false));
    if let Some(d) = alert.drivers_text() {
        fields.push(field("About", esc(&d), false));
    }
    if let Some(d) = alert.driven_by_text() {
        fields.push(field("Driven by", esc(&d), false));
    }
    if let Some(s) = top_list(&alert.top_sources, esc) {
        fields.push(field("Top sources", s, false));
    }
    if let Some(s) = top_list(&alert.top_authors, esc) {
        fields.push(field("Top authors", s, false));
    }

    let mut description = String::new();
    for m in alert.mentions.iter().take(5) {
        let source = format!("**{}**", esc(&truncate_chars(&one_line(&m.source), 80)));
        description.push_str(&discord_link(m.url.as_deref(), &source));
        if let Some(author) = m.author.as_deref().filter(|a| !a.trim().is_empty()) {
            description.push_str(" · ");
            description.push_str(&esc(&truncate_chars(&one_line(author), 80)));
        }
        description.push_str(" · ");
        description.push_str(&mention_meta(m, esc));
        let excerpt = chat_excerpt(m);
        if !excerpt.is_empty() {
            description.push_str("\n> ");
            description.push_str(&esc(&truncate_chars(&excerpt, 300)));
        }
        description.push_str("\n\n");
    }

    let mut embed = json!({
        "title": esc(&truncate_chars(&one_line(&alert.headline()), 250)),
        "color": color(alert),
        "timestamp": alert.fired_at.to_rfc3339(),
        "fields": fields,
        "footer": {"text": truncate_chars(&format!("hark · incident {}", one_line(&alert.incident)), 200)},
    });
    let description = description.trim_end();
    if !description.is_empty() {
        embed["description"] = json!(truncate_chars(description, 4000));
    }
    if let Some(url) = alert.search_url.as_deref().and_then(safe_link) {
        embed["url"] = json!(url);
    }
    json!({
        "content": truncate_chars(&esc(&one_line(&alert.headline())), 1900),
        "embeds": [embed],
        "allowed_mentions": {"parse": []},
    })
}
