//! Alert rules as the alerting stage uses them, once the config loader has read and checked
//! `alerts/*.toml` (or a saved search's "alert me" made one).

use crate::alerts::detect::Sensitivity;
use crate::query::Expr;
use std::path::PathBuf;
use std::time::Duration;

/// A delivery channel of an alert rule.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Channel {
    Email {
        to: Vec<String>,
    },
    Webhook {
        url: String,
        format: String,
        secret_env: Option<String>,
    },
}

/// An alert rule, validated.
#[derive(Debug, Clone)]
pub struct AlertRule {
    pub name: String,
    pub file: PathBuf,
    pub query: String,
    pub kind: String,
    pub window: Duration,
    pub baseline: Duration,
    pub cooldown: Duration,
    pub match_expr: Option<Expr>,
    pub min_count: u64,
    pub min_share: f64,
    pub significance: f64,
    pub min_lift: f64,
    pub sensitivity: Sensitivity,
    pub threshold: f64,
    pub channels: Vec<Channel>,
}

impl Channel {
    /// A short description for listings ("email pr@example.com", "webhook slack https://...").
    pub fn describe(&self) -> String {
        match self {
            Channel::Email { to } => format!("email {}", to.join(",")),
            // The path of a webhook URL is its credential (Slack, Discord, Teams).
            Channel::Webhook { url, format, .. } => {
                format!("webhook {format} {}", crate::http::redact::webhook(url))
            }
        }
    }
}
