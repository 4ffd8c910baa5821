//! The durable outbox: an alert is written to the state store, with one pending delivery per
//! channel, in the same transaction that advances its rule's state, before anything is sent.
//! Deliveries are attempted until confirmed (2xx / SMTP accepted), with backoff, across
//! restarts; a confirmed delivery is never attempted again. Each delivery carries an
//! idempotency key (`<alert id>/<channel index>`) that receivers can use to drop the rare
//! duplicate of an attempt whose confirmation was lost.

use super::model::Alert;
use crate::config::Channel;
use crate::state::{StateError, StateStore};
use chrono::{DateTime, Utc};
use redb::{ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

const ALERTS: TableDefinition<&str, &[u8]> = TableDefinition::new("alerts");
const RULES: TableDefinition<&str, &[u8]> = TableDefinition::new("alert_rule_state");
const ALERTED: TableDefinition<&str, i64> = TableDefinition::new("alerted_mentions");

/// Attempts before a delivery is given up: with the backoff below (0.5 s doubling, at most
/// 10 minutes between attempts), a little over a day.
pub const MAX_ATTEMPTS: u32 = 160;

/// The wait before attempt `attempts + 1`.
pub fn retry_delay(attempts: u32) -> std::time::Duration {
    let d = crate::http::backoff_delay(
        std::time::Duration::from_millis(500),
        attempts.saturating_sub(1).min(16),
    );
    d.min(std::time::Duration::from_secs(600))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    pub channel: Channel,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub next_attempt_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub idempotency_key: String,
}

/// An alert as stored, with its per-channel delivery state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredAlert {
    pub alert: Alert,
    pub deliveries: Vec<Delivery>,
}

/// What a rule remembers between evaluations (cooldown, the open incident).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RuleState {
    pub last_alert_at: Option<DateTime<Utc>>,
    pub incident: Option<String>,
    pub incident_observed: f64,
    pub follow_up_sent: bool,
    /// Window end of the last evaluation that found the rule firing.
    pub last_firing_end: Option<DateTime<Utc>>,
    /// The incident that just ended (for the "ended" note).
    #[serde(default)]
    pub closed_incident: String,
}

pub struct Outbox<'a> {
    state: &'a StateStore,
}

fn key2(a: &str, b: &str) -> String {
    format!("{a}\u{1f}{b}")
}

impl<'a> Outbox<'a> {
    pub fn new(state: &'a StateStore) -> Outbox<'a> {
        Outbox { state }
    }

    fn e(&self, e: impl std::fmt::Display) -> StateError {
        self.state.error(e)
    }

    pub fn rule_state(&self, rule: &str) -> Result<RuleState, StateError> {
        let tx = self.state.db().begin_read().map_err(|e| self.e(e))?;
        let t = match tx.open_table(RULES) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(RuleState::default()),
            Err(e) => return Err(self.e(e)),
        };
        let v = t.get(rule).map_err(|e| self.e(e))?;
        Ok(v.and_then(|v| serde_json::from_slice(v.value()).ok())
            .unwrap_or_default())
    }

    /// Which of these mention ids were already alerted by `rule`.
    pub fn already_alerted(&self, rule: &str, ids: &[&str]) -> Result<Vec<bool>, StateError> {
        let tx = self.state.db().begin_read().map_err(|e| self.e(e))?;
        let t = match tx.open_table(ALERTED) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(vec![false; ids.len()]),
            Err(e) => return Err(self.e(e)),
        };
        ids.iter()
            .map(|id| {
                Ok(t.get(key2(rule, id).as_str())
                    .map_err(|e| self.e(e))?
                    .is_some())
            })
            .collect()
    }

    /// Records the rule's new state and, if any, the alert with one pending delivery per
    /// channel, and the mentions it alerted about — one transaction.
    pub fn record(
        &self,
        rule: &str,
        state: &RuleState,
        alert: Option<(&Alert, &[Channel])>,
        alerted_mentions: &[String],
    ) -> Result<(), StateError> {
        let tx = self.state.db().begin_write().map_err(|e| self.e(e))?;
        {
            let mut rules = tx.open_table(RULES).map_err(|e| self.e(e))?;
            let v = serde_json::to_vec(state).expect("rule state serialises");
            rules.insert(rule, v.as_slice()).map_err(|e| self.e(e))?;
            let mut alerted = tx.open_table(ALERTED).map_err(|e| self.e(e))?;
            let now = Utc::now().timestamp();
            for id in alerted_mentions {
                alerted
                    .insert(key2(rule, id).as_str(), now)
                    .map_err(|e| self.e(e))?;
            }
            if let Some((alert, channels)) = alert {
                let stored = StoredAlert {
                    alert: alert.clone(),
                    deliveries: channels
                        .iter()
                        .enumerate()
                        .map(|(i, c)| Delivery {
                            channel: c.clone(),
                            status: DeliveryStatus::Pending,
                            attempts: 0,
                            last_error: None,
                            next_attempt_at: Utc::now(),
                            delivered_at: None,
                            idempotency_key: format!("{}/{i}", alert.id),
                        })
                        .collect(),
                };
                let mut alerts = tx.open_table(ALERTS).map_err(|e| self.e(e))?;
                let v = serde_json::to_vec(&stored).expect("alert serialises");
                alerts
                    .insert(alert.id.as_str(), v.as_slice())
                    .map_err(|e| self.e(e))?;
            }
        }
        tx.commit().map_err(|e| self.e(e))?;
        Ok(())
    }

    /// Every stored alert, oldest first.
    pub fn list(&self) -> Result<Vec<StoredAlert>, StateError> {
        let tx = self.state.db().begin_read().map_err(|e| self.e(e))?;
        let t = match tx.open_table(ALERTS) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(vec![]),
            Err(e) => return Err(self.e(e)),
        };
        let mut out = Vec::new();
        for item in t.iter().map_err(|e| self.e(e))? {
            let (_, v) = item.map_err(|e| self.e(e))?;
            if let Ok(a) = serde_json::from_slice::<StoredAlert>(v.value()) {
                out.push(a);
            }
        }
        out.sort_by(|a, b| {
            a.alert
                .fired_at
                .cmp(&b.alert.fired_at)
                .then(a.alert.id.cmp(&b.alert.id))
        });
        Ok(out)
    }

    /// Deliveries not yet confirmed nor given up.
    pub fn pending_count(&self) -> Result<usize, StateError> {
        Ok(self
            .list()?
            .iter()
            .flat_map(|a| &a.deliveries)
            .filter(|d| d.status == DeliveryStatus::Pending)
            .count())
    }

    /// Deliveries due now: (alert, channel index).
    pub fn due(&self, now: DateTime<Utc>) -> Result<Vec<(StoredAlert, usize)>, StateError> {
        Ok(self
            .list()?
            .into_iter()
            .flat_map(|a| {
                let idx: Vec<usize> = a
                    .deliveries
                    .iter()
                    .enumerate()
                    .filter(|(_, d)| {
                        d.status == DeliveryStatus::Pending && d.next_attempt_at <= now
                    })
                    .map(|(i, _)| i)
                    .collect();
                idx.into_iter().map(move |i| (a.clone(), i))
            })
            .collect())
    }

    /// Records the outcome of one attempt.
    pub fn mark(
        &self,
        alert_id: &str,
        channel: usize,
        outcome: Result<(), (String, bool, Option<std::time::Duration>)>,
    ) -> Result<(), StateError> {
        let tx = self.state.db().begin_write().map_err(|e| self.e(e))?;
        {
            let mut t = tx.open_table(ALERTS).map_err(|e| self.e(e))?;
            let current = t
                .get(alert_id)
                .map_err(|e| self.e(e))?
                .map(|v| v.value().to_vec());
            let Some(bytes) = current else { return Ok(()) };
            let mut stored: StoredAlert = serde_json::from_slice(&bytes).map_err(|e| self.e(e))?;
            if let Some(d) = stored.deliveries.get_mut(channel) {
                d.attempts += 1;
                match outcome {
                    Ok(()) => {
                        d.status = DeliveryStatus::Delivered;
                        d.delivered_at = Some(Utc::now());
                        d.last_error = None;
                    }
                    Err((msg, retryable, retry_after)) => {
                        d.last_error = Some(msg);
                        if !retryable || d.attempts >= MAX_ATTEMPTS {
                            d.status = DeliveryStatus::Failed;
                        } else {
                            let backoff = crate::http::backoff_delay(
                                std::time::Duration::from_secs(2),
                                d.attempts.min(12),
                            );
                            let wait = retry_after
                                .unwrap_or(backoff)
                                .max(std::time::Duration::from_millis(200));
                            d.next_attempt_at =
                                Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default();
                        }
                    }
                }
            }
            let v = serde_json::to_vec(&stored).expect("alert serialises");
            t.insert(alert_id, v.as_slice()).map_err(|e| self.e(e))?;
        }
        tx.commit().map_err(|e| self.e(e))?;
        Ok(())
    }
}
