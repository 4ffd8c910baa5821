//! Sending scheduled reports ([`super::schedule`]): rendered for the period that just ended
//! and e-mailed as an attachment, once per occurrence.
//!
//! Each occurrence's delivery state lives in the state store (table `report_deliveries`,
//! keyed by report name and occurrence): a report is sent when its latest occurrence has no
//! record, or a record waiting for a retry that has come due. The record is written `sent`
//! only after the SMTP server accepted the message, so a crash before that sends it again
//! on the next start, and a restart after it sends nothing. A failure the server may get
//! over (connection refused, 4xx) is retried with backoff (1, 5, 15, 60 minutes, then every
//! 6 hours) across restarts; a permanent one (5xx, a bad address) is recorded `failed`,
//! logged and counted, and not retried for that occurrence.

use super::data::{ReportRequest, build};
use super::schedule::ReportSchedule;
use crate::alerts::model::DeliveryError;
use crate::config::Config;
use crate::index::MentionIndex;
use crate::state::StateStore;
use chrono::{DateTime, Duration, Utc};
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncTransport, Message};
use redb::TableDefinition;
use serde::{Deserialize, Serialize};

const DELIVERIES: TableDefinition<&str, &[u8]> = TableDefinition::new("report_deliveries");

/// One occurrence's delivery record.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Delivery {
    /// `pending` (a retry is due at `next_try`), `sent` or `failed`.
    pub status: String,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub next_try: Option<DateTime<Utc>>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SendReport {
    pub sent: usize,
    pub failed: usize,
    pub retrying: usize,
}

fn key(r: &ReportSchedule, occurrence: DateTime<Utc>) -> String {
    format!("{}\u{1f}{}", r.name, occurrence.to_rfc3339())
}

fn load(state: &StateStore, key: &str) -> anyhow::Result<Option<Delivery>> {
    let tx = state.db().begin_read().map_err(|e| state.error(e))?;
    let table = match tx.open_table(DELIVERIES) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
        Err(e) => return Err(state.error(e).into()),
    };
    Ok(match table.get(key).map_err(|e| state.error(e))? {
        Some(v) => Some(serde_json::from_slice(v.value())?),
        None => None,
    })
}

fn store(state: &StateStore, key: &str, d: &Delivery) -> anyhow::Result<()> {
    let bytes = serde_json::to_vec(d)?;
    let tx = state.db().begin_write().map_err(|e| state.error(e))?;
    {
        let mut table = tx.open_table(DELIVERIES).map_err(|e| state.error(e))?;
        table
            .insert(key, bytes.as_slice())
            .map_err(|e| state.error(e))?;
    }
    tx.commit().map_err(|e| state.error(e))?;
    Ok(())
}

/// A rendered report: the file, its name and type, and the e-mail's subject and text.
pub struct Rendered {
    pub bytes: Vec<u8>,
    pub filename: String,
    pub mime: &'static str,
    pub subject: String,
    pub text: String,
}

/// Renders what `r` sends for the occurrence at or before `now`.
pub fn render(
    index: &MentionIndex,
    state: Option<&StateStore>,
    config: &Config,
    r: &ReportSchedule,
    now: DateTime<Utc>,
) -> anyhow::Result<(DateTime<Utc>, Rendered)> {
    let occurrence = r.latest_occurrence(now);
    let (since, until) = r.period(occurrence);
    let logo = match &r.logo {
        None => None,
        Some(p) => {
            let bytes = std::fs::read(p)
                .map_err(|e| anyhow::anyhow!("report `{}`: logo {}: {e}", r.name, p.display()))?;
            let Some(mime) = crate::display::image_mime(p) else {
                anyhow::bail!(
                    "report `{}`: logo {}: use a .png or .jpg file",
                    r.name,
                    p.display()
                );
            };
            super::pdf::check_logo(mime, &bytes, r.format == "pdf")
                .map_err(|e| anyhow::anyhow!("report `{}`: logo {}: {e}", r.name, p.display()))?;
            Some((mime.to_string(), bytes))
        }
    };
    let subject_query = r.queries[0].clone();
    let req = ReportRequest {
        query: subject_query.clone(),
        since,
        until,
        compare: r.queries[1..].to_vec(),
        title: r.title.clone(),
        brand_name: r.brand_name.clone(),
        logo,
        query_terms: config
            .query(&subject_query)
            .map(|q| crate::query::positive_terms(&q.expr))
            .unwrap_or_default(),
        display_names: ReportRequest::display_names_of(config),
        locale: r.locale,
    };
    let data = build(index, state, &req)?;
    let (bytes, mime) = if r.format == "pdf" {
        (super::pdf::render_pdf(&data), "application/pdf")
    } else {
        (super::html::render_html(&data).into_bytes(), "text/html")
    };
    let local_start = since.with_timezone(&r.timezone).format("%Y-%m-%d");
    let filename = format!("{}-{local_start}.{}", r.name, r.format);
    let subject = format!("{} — {}", data.title, data.period_label());
    let mut text = format!("{}\n{}\n\n", data.title, data.period_label());
    for line in &data.insights.summary {
        text.push_str(&format!("- {line}\n"));
    }
    text.push_str(&format!("\nThe full report is attached ({filename}).\n"));
    Ok((
        occurrence,
        Rendered {
            bytes,
            filename,
            mime,
            subject,
            text,
        },
    ))
}

fn backoff(attempts: u32) -> Duration {
    match attempts {
        0 | 1 => Duration::minutes(1),
        2 => Duration::minutes(5),
        3 => Duration::minutes(15),
        4 => Duration::hours(1),
        _ => Duration::hours(6),
    }
}

/// Sends every scheduled report that is due at `now` (see the module docs).
pub async fn send_due(
    index: &MentionIndex,
    state: &StateStore,
    config: &Config,
    now: DateTime<Utc>,
) -> anyhow::Result<SendReport> {
    let mut out = SendReport::default();
    for r in &config.reports {
        let occurrence = r.latest_occurrence(now);
        let k = key(r, occurrence);
        let prev = load(state, &k)?;
        match &prev {
            Some(d) if d.status != "pending" => continue,
            Some(d) if d.next_try.is_some_and(|t| t > now) => {
                out.retrying += 1;
                continue;
            }
            _ => {}
        }
        let attempts = prev.as_ref().map_or(0, |d| d.attempts) + 1;
        let result = match render(index, Some(state), config, r, now) {
            Ok((_, rendered)) => send(config, r, &k, &rendered).await,
            Err(e) => Err(DeliveryError::permanent(format!("cannot render: {e:#}"))),
        };
        let record = match result {
            Ok(()) => {
                tracing::info!(report = %r.name, occurrence = %occurrence.to_rfc3339(), to = r.to.len(), "scheduled report sent");
                out.sent += 1;
                Delivery {
                    status: "sent".into(),
                    attempts,
                    last_error: None,
                    next_try: None,
                    sent_at: Some(Utc::now()),
                }
            }
            Err(e) if e.retryable => {
                tracing::warn!(report = %r.name, attempts, error = %e.message, "scheduled report not sent; will retry");
                out.retrying += 1;
                Delivery {
                    status: "pending".into(),
                    attempts,
                    last_error: Some(e.message),
                    next_try: Some(now + backoff(attempts)),
                    sent_at: None,
                }
            }
            Err(e) => {
                tracing::error!(report = %r.name, error = %e.message, "scheduled report failed");
                out.failed += 1;
                Delivery {
                    status: "failed".into(),
                    attempts,
                    last_error: Some(e.message),
                    next_try: None,
                    sent_at: None,
                }
            }
        };
        store(state, &k, &record)?;
    }
    Ok(out)
}

/// One SMTP attempt: the summary as text, the report attached.
async fn send(
    config: &Config,
    r: &ReportSchedule,
    key: &str,
    doc: &Rendered,
) -> Result<(), DeliveryError> {
    let smtp = crate::alerts::deliver::smtp_settings(config)?;
    let from: Mailbox = smtp.from.parse().map_err(|e| {
        DeliveryError::permanent(format!("invalid From address {:?}: {e}", smtp.from))
    })?;
    let mut builder = Message::builder()
        .from(from)
        .subject(crate::display::one_line(&doc.subject))
        .date_now()
        .message_id(Some(crate::alerts::email::message_id_for(key)))
        .user_agent(concat!("hark/", env!("CARGO_PKG_VERSION")).to_string());
    for a in &r.to {
        let mb: Mailbox = a.parse().map_err(|e| {
            DeliveryError::permanent(format!("invalid recipient address {a:?}: {e}"))
        })?;
        builder = builder.to(mb);
    }
    let content_type = ContentType::parse(doc.mime).expect("a valid MIME type");
    let message = builder
        .multipart(
            MultiPart::mixed()
                .singlepart(SinglePart::plain(doc.text.clone()))
                .singlepart(
                    Attachment::new(doc.filename.clone()).body(doc.bytes.clone(), content_type),
                ),
        )
        .map_err(|e| DeliveryError::permanent(format!("cannot build email: {e}")))?;
    let transport = crate::alerts::email::transport(&smtp)?;
    match tokio::time::timeout(
        crate::alerts::email::ATTEMPT_TIMEOUT,
        transport.send(message),
    )
    .await
    {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(crate::alerts::email::smtp_error(&e)),
        Err(_) => Err(DeliveryError::retryable(
            "SMTP delivery timed out".to_string(),
        )),
    }
}
