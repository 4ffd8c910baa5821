//! Email delivery over SMTP (lettre, async on tokio): a multipart/alternative message with
//! a text and an HTML part, threaded per incident.
//!
//! # Threading
//!
//! Every notification about one incident lands in one conversation in mail clients:
//!
//! * The incident has a root id, `<incident-{incident}@hark>`.
//! * The first notification (`update = "new"`) uses that root id as its `Message-ID`.
//! * Every later one (`follow_up`, `ended`) has `Message-ID: <{idempotency_key}@hark>` and
//!   points at the root with `In-Reply-To` and `References`. Clients that thread by
//!   references (Thunderbird, Apple Mail, Outlook, mutt, Fastmail, …) group them even if
//!   the first message was never received.
//! * The subject is the same for every notification of the incident:
//!   `[hark] Negative spike: acme` ([`Alert::topic`]), because Gmail also requires the
//!   subjects to match before it threads. The changing figures ("42 negative mentions in
//!   1h (expected 6.1)", "Ended: …") lead the body, and so the inbox preview line.
//! * Test alerts (`update = "test"`) are never threaded: `Message-ID:
//!   <{idempotency_key}@hark>`, no `In-Reply-To`/`References`, and the subject is
//!   `[hark] [test] ` + the full [`Alert::title`].
//!
//! Ids are encoded to stay valid `msg-id`s: ASCII letters, digits, `-` and `_` are kept,
//! every other byte becomes `=XX` (hex), so `alert-1:email` becomes `alert-1=3Aemail`.
//! A retried delivery reuses its `Message-ID`, which lets mail systems that de-duplicate
//! by it (Gmail does) drop the copy. `X-Hark-Idempotency-Key` carries the raw key;
//! `X-Hark-Incident` and `X-Hark-Event` the incident and update; `Auto-Submitted:
//! auto-generated` keeps auto-responders quiet.
//!
//! # Errors
//!
//! Connection errors, TLS errors, timeouts and transient SMTP replies (4xx) are retryable;
//! permanent SMTP replies (5xx: bad recipient, authentication refused, …), an invalid
//! address or setting are not.
use std::time::Duration;

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::model::{
    Alert, DeliveryError, clean_text, compact_number, fmt_time, one_line, p_value_text, safe_link,
    truncate_chars,
};

/// `[smtp]` in hark.toml: the server alert e-mails go through (read by the config loader).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    #[serde(default)]
    pub port: Option<u16>,
    /// `starttls` | `tls` | `none`
    #[serde(default = "default_tls")]
    pub tls: String,
    #[serde(default)]
    pub username: Option<String>,
    /// Environment variable holding the SMTP password.
    #[serde(default)]
    pub password_env: Option<String>,
    pub from: String,
    /// Accept a self-signed server certificate (test servers only).
    #[serde(default)]
    pub accept_invalid_certs: bool,
}

fn default_tls() -> String {
    "starttls".into()
}

/// How to reach the SMTP server.
#[derive(Debug, Clone, PartialEq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    /// `starttls` (usually port 587), `tls` (implicit TLS, usually 465) or `none`.
    pub tls: String,
    /// AUTH (PLAIN or LOGIN, whichever the server offers) when both are set.
    pub username: Option<String>,
    pub password: Option<crate::http::redact::Secret>,
    /// The From address: `alerts@example.com` or `hark <alerts@example.com>`.
    pub from: String,
    /// Accept any server certificate, whatever its issuer or names. For tests with
    /// self-signed certificates only. (Trusted roots otherwise: the Mozilla set compiled
    /// in by webpki-roots, not the system store.)
    pub accept_invalid_certs: bool,
}

/// Timeout of each SMTP command/connection step.
pub const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Upper bound on one whole delivery attempt.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(120);

/// Subject, text part and HTML part of the email for `alert`.
///
/// Everything that comes from mentions (and everything else, for good measure) is
/// HTML-escaped in the HTML part; mention and search links are kept only when they are
/// `http`/`https` URLs.
pub fn render(alert: &Alert) -> (String, String, String) {
    (subject(alert), render_text(alert), render_html(alert))
}

/// `[hark] Negative spike: acme` (stable over the incident, see the module docs), or
/// `[hark] [test] Negative spike: acme — 42 negative mentions in 1h (expected 6.1)`.
pub fn subject(alert: &Alert) -> String {
    let text = if alert.is_test() {
        format!("[hark] [test] {}", alert.title())
    } else {
        format!("[hark] {}", alert.topic())
    };
    truncate_chars(&one_line(&text), 200)
}

/// The root `Message-ID` of an incident's thread: `<incident-{incident}@hark>`.
pub fn incident_message_id(incident: &str) -> String {
    format!("<incident-{}@hark>", encode_id(incident))
}

/// A `Message-ID` derived from a key (the same key, the same id: a resent message is
/// recognisably the same message).
pub fn message_id_for(key: &str) -> String {
    format!("<{}@hark>", encode_id(key))
}

/// The `Message-ID` of one notification (see the module docs).
pub fn message_id(alert: &Alert, idempotency_key: &str) -> String {
    if alert.update == "new" {
        incident_message_id(&alert.incident)
    } else {
        format!("<{}@hark>", encode_id(idempotency_key))
    }
}

/// Makes ONE delivery attempt of `alert` to the `to` addresses through `smtp`.
pub async fn deliver(
    smtp: &SmtpSettings,
    to: &[String],
    alert: &Alert,
    idempotency_key: &str,
) -> Result<(), DeliveryError> {
    let message = build_message(smtp, to, alert, idempotency_key)?;
    let transport = transport(smtp)?;
    let result = match tokio::time::timeout(ATTEMPT_TIMEOUT, transport.send(message)).await {
        Ok(Ok(_response)) => Ok(()),
        Ok(Err(e)) => Err(smtp_error(&e)),
        Err(_) => Err(DeliveryError::retryable(format!(
            "SMTP delivery timed out after {}s",
            ATTEMPT_TIMEOUT.as_secs()
        ))),
    };
    if let Err(e) = &result {
        tracing::debug!(
            host = %smtp.host,
            port = smtp.port,
            alert = %alert.id,
            retryable = e.retryable,
            error = %e.message,
            "email delivery failed"
        );
    }
    result
}

/// The message [`deliver`] sends (public for tests and previews).
pub fn build_message(
    smtp: &SmtpSettings,
    to: &[String],
    alert: &Alert,
    idempotency_key: &str,
) -> Result<Message, DeliveryError> {
    if to.is_empty() {
        return Err(DeliveryError::permanent("email channel has no recipients"));
    }
    let from: Mailbox = smtp.from.parse().map_err(|e| {
        DeliveryError::permanent(format!("invalid From address {:?}: {e}", smtp.from))
    })?;
    let (subject, text, html) = render(alert);
    let mut builder = Message::builder()
        .from(from)
        .subject(subject)
        .date_now()
        .message_id(Some(message_id(alert, idempotency_key)))
        .user_agent(concat!("hark/", env!("CARGO_PKG_VERSION")).to_string());
    for address in to {
        let mailbox: Mailbox = address.parse().map_err(|e| {
            DeliveryError::permanent(format!("invalid recipient address {address:?}: {e}"))
        })?;
        builder = builder.to(mailbox);
    }
    if !alert.is_test() && alert.update != "new" {
        let root = incident_message_id(&alert.incident);
        builder = builder.in_reply_to(root.clone()).references(root);
    }
    let header = |name: &'static str, value: &str| {
        HeaderValue::new(HeaderName::new_from_ascii_str(name), one_line(value))
    };
    builder = builder
        .raw_header(header("X-Hark-Idempotency-Key", idempotency_key))
        .raw_header(header("X-Hark-Incident", &alert.incident))
        .raw_header(header("X-Hark-Event", &alert.update))
        .raw_header(header("Auto-Submitted", "auto-generated"))
        .raw_header(header("X-Auto-Response-Suppress", "All"));
    builder
        .multipart(MultiPart::alternative_plain_html(text, html))
        .map_err(|e| DeliveryError::permanent(format!("cannot build email: {e}")))
}

pub(crate) fn transport(
    smtp: &SmtpSettings,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, DeliveryError> {
    let tls_parameters = || {
        TlsParameters::builder(smtp.host.clone())
            .dangerous_accept_invalid_certs(smtp.accept_invalid_certs)
            .dangerous_accept_invalid_hostnames(smtp.accept_invalid_certs)
            .build_rustls()
            .map_err(|e| DeliveryError::permanent(format!("SMTP TLS setup failed: {e}")))
    };
    let tls = match smtp.tls.as_str() {
        "starttls" => Tls::Required(tls_parameters()?),
        "tls" => Tls::Wrapper(tls_parameters()?),
        "none" => Tls::None,
        other => {
            return Err(DeliveryError::permanent(format!(
                "unknown SMTP tls mode {other:?} (expected starttls, tls or none)"
            )));
        }
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(smtp.host.as_str())
        .port(smtp.port)
        .tls(tls)
        .timeout(Some(SMTP_TIMEOUT));
    if let (Some(user), Some(password)) = (&smtp.username, &smtp.password) {
        builder = builder
            .credentials(Credentials::new(
                user.clone(),
                password.expose().to_string(),
            ))
            .authentication(vec![Mechanism::Plain, Mechanism::Login]);
    }
    Ok(builder.build())
}

pub(crate) fn smtp_error(e: &lettre::transport::smtp::Error) -> DeliveryError {
    // lettre's Display already includes the error's source.
    let message = format!("SMTP: {}", one_line(&e.to_string()));
    if e.is_permanent() || e.is_client() {
        // 5xx replies; "internal client error" covers things like no AUTH mechanism in
        // common, which retrying will not change.
        DeliveryError::permanent(message)
    } else {
        // 4xx replies, connection/TLS/network errors, timeouts, garbled responses.
        DeliveryError::retryable(message)
    }
}

/// Keeps ASCII letters, digits, `-` and `_`; every other byte becomes `=XX`. Injective,
/// and always a valid `dot-atom-text`.
fn encode_id(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
            out.push(b as char);
        } else {
            out.push_str(&format!("={b:02X}"));
        }
    }
    if out.is_empty() {
        "=00".to_string()
    } else {
        out
    }
}

pub use crate::display::html_escape;

/// Excerpts in emails: at most this many characters.
const EXCERPT_CHARS: usize = 1000;

fn facts(alert: &Alert) -> Vec<(&'static str, String)> {
    let mut facts = vec![
        ("Status", alert.update_label().to_string()),
        ("Rule", one_line(&alert.rule)),
        ("Query", one_line(&alert.query)),
        ("Observed", alert.observed_text()),
        ("Expected", format!("{:.1}", alert.expected)),
    ];
    if let Some(p) = alert.p_value {
        facts.push(("p-value", p_value_text(p)));
    }
    facts.push(("Window", alert.window_text()));
    facts.push(("Sentiment", alert.sentiment_text()));
    let list = |items: &[(String, u64)]| {
        items
            .iter()
            .take(5)
            .map(|(name, n)| format!("{} ({n})", truncate_chars(&one_line(name), 60)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if let Some(d) = alert.drivers_text() {
        facts.push(("About", d));
    }
    if let Some(d) = alert.driven_by_text() {
        facts.push(("Driven by", d));
    }
    if !alert.top_sources.is_empty() {
        facts.push(("Top sources", list(&alert.top_sources)));
    }
    if !alert.top_authors.is_empty() {
        facts.push(("Top authors", list(&alert.top_authors)));
    }
    facts
}

fn mention_meta(m: &super::model::AlertMention) -> String {
    let mut parts = vec![truncate_chars(&one_line(&m.source), 80)];
    if let Some(author) = m.author.as_deref().filter(|a| !a.trim().is_empty()) {
        parts.push(truncate_chars(&one_line(author), 80));
    }
    parts.push(format!(
        "{} ({:+.2})",
        truncate_chars(&one_line(&m.sentiment), 20),
        m.score
    ));
    parts.push(format!("reach {}", compact_number(m.reach)));
    parts.push(fmt_time(&m.published_at));
    parts.join(" · ")
}

fn render_text(alert: &Alert) -> String {
    let mut out = String::new();
    out.push_str(&one_line(&alert.headline()));
    out.push_str("\n\n");
    for (name, value) in facts(alert) {
        out.push_str(&format!("{:<12} {value}\n", format!("{name}:")));
    }
    if !alert.mentions.is_empty() {
        out.push_str("\nMentions\n");
        for (i, m) in alert.mentions.iter().take(5).enumerate() {
            out.push_str(&format!("\n{}. {}\n", i + 1, mention_meta(m)));
            if let Some(url) = m.url.as_deref().and_then(safe_link) {
                out.push_str(&format!("   {url}\n"));
            }
            let excerpt = truncate_chars(&clean_text(&m.excerpt), EXCERPT_CHARS);
            for line in excerpt
                .lines()
                .map(str::trim_end)
                .filter(|l| !l.trim().is_empty())
            {
                out.push_str(&format!("   > {line}\n"));
            }
        }
    }
    if let Some(url) = alert.search_url.as_deref().and_then(safe_link) {
        out.push_str(&format!("\nOpen in hark: {url}\n"));
    }
    out.push_str(&format!(
        "\n-- \nSent by hark · incident {} · alert {} · fired {}\n",
        one_line(&alert.incident),
        one_line(&alert.id),
        fmt_time(&alert.fired_at)
    ));
    out
}

fn render_html(alert: &Alert) -> String {
    let e = |s: &str| html_escape(s);
    let accent = match (alert.update.as_str(), alert.kind.as_str()) {
        ("ended", _) => "#2eb67d",
        ("test", _) => "#888888",
        (_, "negative_spike") => "#e01e5a",
        (_, "viral_mention") => "#ecb22e",
        _ => "#36c5f0",
    };
    let mut h = String::new();
    h.push_str("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width\">");
    h.push_str(&format!(
        "<title>{}</title></head>\n",
        e(&one_line(&alert.headline()))
    ));
    h.push_str("<body style=\"margin:0;padding:16px;background:#f5f5f5;font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#222\">\n");
    // Inbox preview text.
    h.push_str(&format!(
        "<div style=\"display:none;max-height:0;overflow:hidden\">{}</div>\n",
        e(&one_line(&alert.headline()))
    ));
    h.push_str(&format!(
        "<div style=\"max-width:640px;margin:0 auto;background:#fff;border-top:4px solid {accent};padding:16px 20px\">\n"
    ));
    h.push_str(&format!(
        "<h1 style=\"font-size:18px;margin:0 0 12px\">{}</h1>\n",
        e(&one_line(&alert.headline()))
    ));
    h.push_str("<table style=\"border-collapse:collapse;font-size:14px\">\n");
    for (name, value) in facts(alert) {
        h.push_str(&format!(
            "<tr><th style=\"text-align:left;padding:2px 12px 2px 0;color:#666;font-weight:normal;vertical-align:top\">{}</th><td style=\"padding:2px 0\">{}</td></tr>\n",
            e(name),
            e(&value)
        ));
    }
    h.push_str("</table>\n");
    if !alert.mentions.is_empty() {
        h.push_str("<h2 style=\"font-size:15px;margin:20px 0 8px\">Mentions</h2>\n");
        for m in alert.mentions.iter().take(5) {
            h.push_str(
                "<div style=\"margin:0 0 14px;padding:8px 12px;border-left:3px solid #ddd\">\n",
            );
            let source = e(&truncate_chars(&one_line(&m.source), 80));
            let source = match m.url.as_deref().and_then(safe_link) {
                Some(url) => format!(
                    "<a href=\"{}\" style=\"color:#1264a3\">{source}</a>",
                    e(url)
                ),
                None => source,
            };
            let mut meta = format!("<strong>{source}</strong>");
            if let Some(author) = m.author.as_deref().filter(|a| !a.trim().is_empty()) {
                meta.push_str(&format!(" · {}", e(&truncate_chars(&one_line(author), 80))));
            }
            meta.push_str(&format!(
                " · {} ({:+.2}) · reach {} · {}",
                e(&truncate_chars(&one_line(&m.sentiment), 20)),
                m.score,
                compact_number(m.reach),
                fmt_time(&m.published_at)
            ));
            h.push_str(&format!(
                "<div style=\"font-size:13px;color:#555\">{meta}</div>\n"
            ));
            let excerpt = truncate_chars(&clean_text(&m.excerpt), EXCERPT_CHARS);
            let excerpt = e(excerpt.trim()).replace('\n', "<br>\n");
            h.push_str(&format!(
                "<div style=\"font-size:14px;margin-top:4px\">{excerpt}</div>\n"
            ));
            h.push_str("</div>\n");
        }
    }
    if let Some(url) = alert.search_url.as_deref().and_then(safe_link) {
        h.push_str(&format!(
            "<p style=\"margin:16px 0\"><a href=\"{}\" style=\"display:inline-block;padding:8px 14px;background:#1264a3;color:#fff;text-decoration:none;border-radius:4px\">Open in hark</a></p>\n",
            e(url)
        ));
    }
    h.push_str(&format!(
        "<p style=\"font-size:12px;color:#888;margin:16px 0 0\">Sent by hark · incident {} · alert {} · fired {}</p>\n",
        e(&one_line(&alert.incident)),
        e(&one_line(&alert.id)),
        fmt_time(&alert.fired_at)
    ));
    h.push_str("</div>\n</body></html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_encoded_injectively() {
        assert_eq!(encode_id("alert-1:email"), "alert-1=3Aemail");
        assert_eq!(encode_id("a=b"), "a=3Db");
        assert_ne!(encode_id("a:b"), encode_id("a=3Ab"));
        assert_eq!(incident_message_id("inc 1"), "<incident-inc=201@hark>");
    }
}
