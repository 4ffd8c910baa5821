//! `hark run`'s alert stage: evaluate every rule (recording what fires in the durable
//! outbox), then deliver what is due — after every index commit, every minute, and once at
//! the end of `hark run --once` and the demo.

use super::deliver::{self, DeliveryReport};
use super::engine::Engine;
use crate::config::Config;
use crate::index::MentionIndex;
use crate::state::StateStore;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// What the alert stage needs from a running deployment (`pipeline::Runtime`).
pub trait AlertContext: Send + Sync + 'static {
    fn index(&self) -> &MentionIndex;
    fn state(&self) -> &StateStore;
    fn config(&self) -> &Config;
}

/// Evaluates every alert rule now and records what fires; then delivers what is due.
pub async fn evaluate_and_deliver<C: AlertContext>(
    ctx: &Arc<C>,
    client: &reqwest::Client,
) -> anyhow::Result<(usize, DeliveryReport)> {
    let saved_alerts = ctx
        .state()
        .saved_searches()?
        .iter()
        .any(|s| s.alert.is_some());
    let raised = if ctx.config().alerts.is_empty() && !saved_alerts {
        0
    } else {
        let ctx2 = ctx.clone();
        tokio::task::spawn_blocking(move || {
            let engine = Engine {
                index: ctx2.index(),
                state: ctx2.state(),
                config: ctx2.config(),
            };
            engine.evaluate_all(chrono::Utc::now()).map(|a| a.len())
        })
        .await??
    };
    let report = deliver::deliver_due(ctx.state(), ctx.config(), client).await?;
    Ok((raised, report))
}

/// Sends the scheduled reports that are due (see [`crate::report::send`]).
pub async fn send_scheduled_reports<C: AlertContext>(
    ctx: &Arc<C>,
) -> anyhow::Result<crate::report::send::SendReport> {
    if ctx.config().reports.is_empty() {
        return Ok(Default::default());
    }
    crate::report::send::send_due(ctx.index(), ctx.state(), ctx.config(), chrono::Utc::now()).await
}

/// `hark run`'s alert stage: evaluates after every commit (and every minute, so that a spike
/// ending or a retry coming due is noticed without new mentions), until `stop`.
pub async fn alert_loop<C: AlertContext>(
    ctx: Arc<C>,
    commits: Arc<tokio::sync::Notify>,
    mut stop: watch::Receiver<bool>,
) {
    let client = deliver::webhook_client(ctx.config());
    loop {
        tokio::select! {
            _ = commits.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(60)) => {}
            _ = stop.changed() => return,
        }
        if let Err(e) = evaluate_and_deliver(&ctx, &client).await {
            tracing::error!(error = %e, "alert evaluation failed");
        }
        if let Err(e) = send_scheduled_reports(&ctx).await {
            tracing::error!(error = %e, "scheduled reports failed");
        }
    }
}
