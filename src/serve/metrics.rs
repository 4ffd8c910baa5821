//! `GET /metrics` in the Prometheus text format.
//!
//! From the index (always): documents, bytes on disk, mentions per source. From the state
//! store (when open): alert deliveries per state. From the pipeline (when the server runs
//! inside `hark run --serve`): mentions collected and errors per source, and classifier
//! throughput. From the server itself: API requests and search latency.

use super::AppState;
pub use crate::metrics::Metrics;
use crate::metrics::label;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

fn dir_size(p: &std::path::Path) -> u64 {
    std::fs::read_dir(p)
        .map(|rd| {
            rd.flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_size(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

pub async fn handler(State(app): State<Arc<AppState>>) -> impl IntoResponse {
    let body = tokio::task::spawn_blocking(move || render(&app))
        .await
        .unwrap_or_default();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
}

fn render(app: &AppState) -> String {
    let mut out = String::new();
    let searcher = app.index.reader.searcher();
    let _ = writeln!(
        out,
        "# HELP hark_index_documents Mentions in the index.\n# TYPE hark_index_documents gauge"
    );
    let _ = writeln!(out, "hark_index_documents {}", searcher.num_docs());
    let _ = writeln!(
        out,
        "# HELP hark_index_bytes Size of the index directory.\n# TYPE hark_index_bytes gauge"
    );
    let _ = writeln!(
        out,
        "hark_index_bytes {}",
        dir_size(&app.config.data_dir().join("index"))
    );
    // Mentions per source: the document frequency of each term of the `source` field.
    let mut per_source: BTreeMap<String, u64> = BTreeMap::new();
    for seg in searcher.segment_readers() {
        let Ok(inv) = seg.inverted_index(app.index.fields.source) else {
            continue;
        };
        let mut terms = inv.terms().stream().expect("term stream");
        while terms.advance() {
            let name = String::from_utf8_lossy(terms.key()).into_owned();
            *per_source.entry(name).or_default() += u64::from(terms.value().doc_freq);
        }
    }
    let _ = writeln!(
        out,
        "# HELP hark_mentions_indexed Mentions in the index per source (deleted ones may count until merged).\n# TYPE hark_mentions_indexed gauge"
    );
    for (s, n) in &per_source {
        let _ = writeln!(out, "hark_mentions_indexed{{source=\"{}\"}} {n}", label(s));
    }
    app.metrics.write_prometheus(&mut out);
    if let Ok(state) = app.state.get()
        && let Ok(list) = crate::alerts::outbox::Outbox::new(&state).list()
    {
        let mut by: BTreeMap<String, u64> = BTreeMap::new();
        for a in &list {
            for d in &a.deliveries {
                let s = serde_json::to_value(d.status)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                *by.entry(s).or_default() += 1;
            }
        }
        let _ = writeln!(
            out,
            "# HELP hark_alerts_total Alerts raised (all time).\n# TYPE hark_alerts_total gauge"
        );
        let _ = writeln!(out, "hark_alerts_total {}", list.len());
        let _ = writeln!(
            out,
            "# HELP hark_alert_deliveries Alert deliveries per state.\n# TYPE hark_alert_deliveries gauge"
        );
        for (s, n) in by {
            let _ = writeln!(out, "hark_alert_deliveries{{state=\"{}\"}} {n}", label(&s));
        }
    }
    out
}
