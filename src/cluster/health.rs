//! A worker's health: whether it can reach NATS (what `/healthz` and `/metrics` say), and
//! the small HTTP endpoint collectors and enrichers serve with `--serve ADDR`.

use crate::metrics::Metrics;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// How long the connection may be down before the worker says it is unhealthy (a node
/// restart or a fail-over takes a few seconds).
const GRACE: Duration = Duration::from_secs(10);

/// Watches the client's connection until `stop`, reporting a lost connection in `metrics`.
pub async fn watch_connection(
    client: async_nats::Client,
    metrics: Arc<Metrics>,
    mut stop: watch::Receiver<bool>,
) {
    let mut down_since: Option<Instant> = None;
    loop {
        let connected = client.connection_state() == async_nats::connection::State::Connected;
        if connected {
            down_since = None;
            metrics.set_cluster_fault(None);
        } else {
            let since = *down_since.get_or_insert_with(Instant::now);
            if since.elapsed() >= GRACE {
                metrics.set_cluster_fault(Some(format!(
                    "NATS unreachable for {} s: nothing can be published or consumed",
                    since.elapsed().as_secs()
                )));
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = stop.changed() => return,
        }
    }
}

/// `/healthz` and `/metrics` of a collector or enricher, until `stop`.
pub async fn serve(
    listener: tokio::net::TcpListener,
    metrics: Arc<Metrics>,
    mut stop: watch::Receiver<bool>,
) {
    use axum::routing::get;
    let m1 = metrics.clone();
    let app = axum::Router::new()
        .route(
            "/healthz",
            get(move || {
                let m = m1.clone();
                async move {
                    match m.unhealthy() {
                        None => "ok\n".into_response(),
                        Some(why) => (
                            StatusCode::SERVICE_UNAVAILABLE,
                            format!("unhealthy: {why}\n"),
                        )
                            .into_response(),
                    }
                }
            }),
        )
        .route(
            "/metrics",
            get(move || {
                let m = metrics.clone();
                async move {
                    let mut out = String::new();
                    m.write_prometheus(&mut out);
                    let r: Response = (
                        [(
                            axum::http::header::CONTENT_TYPE,
                            "text/plain; version=0.0.4",
                        )],
                        out,
                    )
                        .into_response();
                    r
                }
            }),
        );
    let _ = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            let _ = stop.changed().await;
        })
        .await;
}
