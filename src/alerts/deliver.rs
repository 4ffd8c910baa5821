//! Delivers what the outbox holds: every due delivery is attempted once per call; the
//! outcome (and the next attempt time, with backoff) is written back to the outbox.

use super::email::{self, SmtpSettings};
use super::model::{Alert, DeliveryError};
use super::outbox::Outbox;
use super::webhook;
use crate::config::{Channel, Config};
use crate::state::StateStore;
use chrono::Utc;
use serde::Serialize;

#[derive(Debug, Default, Clone, Serialize)]
pub struct DeliveryReport {
    pub delivered: usize,
    pub failed: usize,
    pub retrying: usize,
}

fn env_secret(var: &str) -> Result<crate::http::redact::Secret, DeliveryError> {
    std::env::var(var)
        .map(Into::into)
        .map_err(|_| DeliveryError {
            retryable: true,
            retry_after: None,
            message: format!("environment variable {var} is not set"),
        })
}

pub fn smtp_settings(config: &Config) -> Result<SmtpSettings, DeliveryError> {
    let smtp = config.smtp.as_ref().ok_or_else(|| DeliveryError {
        retryable: false,
        retry_after: None,
        message: "e-mail channel but no [smtp] section in hark.toml".into(),
    })?;
    let password = match &smtp.password_env {
        Some(v) => Some(env_secret(v)?),
        None => None,
    };
    Ok(SmtpSettings {
        host: smtp.host.clone(),
        port: smtp.port.unwrap_or(match smtp.tls.as_str() {
            "tls" => 465,
            "none" => 25,
            _ => 587,
        }),
        tls: smtp.tls.clone(),
        username: smtp.username.clone(),
        password,
        from: smtp.from.clone(),
        accept_invalid_certs: smtp.accept_invalid_certs,
    })
}

/// One attempt on one channel.
pub async fn send(
    config: &Config,
    client: &reqwest::Client,
    channel: &Channel,
    alert: &Alert,
    key: &str,
) -> Result<(), DeliveryError> {
    match channel {
        Channel::Webhook {
            url,
            format,
            secret_env,
        } => {
            let secret = match secret_env {
                Some(v) => Some(env_secret(v)?),
                None => None,
            };
            webhook::deliver(
                client,
                url,
                format,
                secret.as_ref().map(|s| s.expose().as_bytes()),
                alert,
                key,
            )
            .await
        }
        Channel::Email { to } => email::deliver(&smtp_settings(config)?, to, alert, key).await,
    }
}

/// Attempts every due delivery once.
pub async fn deliver_due(
    state: &StateStore,
    config: &Config,
    client: &reqwest::Client,
) -> anyhow::Result<DeliveryReport> {
    let outbox = Outbox::new(state);
    let mut report = DeliveryReport::default();
    for (stored, i) in outbox.due(Utc::now())? {
        let d = &stored.deliveries[i];
        let result = send(
            config,
            client,
            &d.channel,
            &stored.alert,
            &d.idempotency_key,
        )
        .await;
        match &result {
            Ok(()) => {
                report.delivered += 1;
                tracing::info!(alert = %stored.alert.id, channel = %d.channel.describe(), "alert delivered");
            }
            Err(e) if e.retryable && d.attempts + 1 < super::outbox::MAX_ATTEMPTS => {
                report.retrying += 1;
                tracing::warn!(alert = %stored.alert.id, channel = %d.channel.describe(), error = %e.message, "alert delivery failed; will retry");
            }
            Err(e) => {
                report.failed += 1;
                tracing::error!(alert = %stored.alert.id, channel = %d.channel.describe(), error = %e.message, "alert delivery failed permanently");
            }
        }
        outbox.mark(
            &stored.alert.id,
            i,
            result.map_err(|e| (e.message, e.retryable, e.retry_after)),
        )?;
    }
    Ok(report)
}

/// A client for webhooks: bounded time per attempt, no redirects to other hosts' surprises.
pub fn webhook_client(config: &Config) -> reqwest::Client {
    reqwest::Client::builder()
        .user_agent(config.http.user_agent.clone())
        .connect_timeout(std::time::Duration::from_secs(5))
        .timeout(std::time::Duration::from_secs(15))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("webhook client")
}
