//! Counters the pipeline and the web server update, and their Prometheus text: mentions
//! collected and errors per source, classifier throughput, searches, and whether the
//! pipeline can commit (what `/healthz` reports). `serve::metrics` adds what it reads from
//! the index and the state store.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

/// Counters the pipeline and the server update.
#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
    /// In cluster mode: this process's role and worker counters (see `cluster::workers`).
    worker: std::sync::OnceLock<std::sync::Arc<crate::cluster::workers::Worker>>,
}

#[derive(Default)]
struct Inner {
    collected: BTreeMap<String, u64>,
    errors: BTreeMap<String, u64>,
    skipped_items: BTreeMap<String, u64>,
    classified: u64,
    classify_seconds: f64,
    searches: u64,
    search_seconds: f64,
    /// The pipeline cannot commit to the index (e.g. a full disk): the error, and since when.
    index_fault: Option<(String, std::time::SystemTime)>,
    index_faults: u64,
    /// In cluster mode: why this worker cannot make progress (NATS unreachable), if so.
    cluster_fault: Option<String>,
}

impl Metrics {
    /// One finished poll of a source.
    pub fn record_poll(&self, report: &crate::sources::PollReport) {
        let mut m = self.inner.lock().expect("metrics");
        let source = &report.source;
        *m.collected.entry(source.clone()).or_default() += report.items as u64;
        *m.errors.entry(source.clone()).or_default() += report.errors.len() as u64;
        *m.skipped_items.entry(source.clone()).or_default() += report.skipped_items as u64;
    }

    /// Texts classified and the time it took.
    pub fn record_classified(&self, texts: usize, took: Duration) {
        let mut m = self.inner.lock().expect("metrics");
        m.classified += texts as u64;
        m.classify_seconds += took.as_secs_f64();
    }

    /// The pipeline's last commit failed with `error`; `/healthz` answers 503 until
    /// [`Metrics::clear_index_fault`].
    pub fn set_index_fault(&self, error: &str) {
        let mut m = self.inner.lock().expect("metrics");
        m.index_faults += 1;
        let since = m
            .index_fault
            .as_ref()
            .map_or_else(std::time::SystemTime::now, |(_, t)| *t);
        m.index_fault = Some((error.to_string(), since));
    }

    pub fn clear_index_fault(&self) {
        self.inner.lock().expect("metrics").index_fault = None;
    }

    /// Why the pipeline cannot make progress, if it cannot: what `/healthz` reports.
    pub fn unhealthy(&self) -> Option<String> {
        let m = self.inner.lock().expect("metrics");
        let index = m.index_fault.as_ref().map(|(e, since)| {
            let secs = since.elapsed().map_or(0, |d| d.as_secs());
            format!("indexing stalled for {secs} s: {e}")
        });
        match (index, &m.cluster_fault) {
            (Some(i), Some(c)) => Some(format!("{i}; {c}")),
            (i, c) => i.or_else(|| c.clone()),
        }
    }

    /// In cluster mode: the worker whose counters `/metrics` shows.
    pub fn set_worker(&self, worker: std::sync::Arc<crate::cluster::workers::Worker>) {
        let _ = self.worker.set(worker);
    }

    /// In cluster mode: why this worker cannot make progress (`None`: it can).
    pub fn set_cluster_fault(&self, fault: Option<String>) {
        self.inner.lock().expect("metrics").cluster_fault = fault;
    }

    /// This process's counters in the Prometheus text format (appended to `out`).
    pub fn write_prometheus(&self, out: &mut String) {
        let m = self.inner.lock().expect("metrics");
        let per_source =
            |out: &mut String, name: &str, help: &str, values: &BTreeMap<String, u64>| {
                header(out, name, "counter", help);
                for (s, n) in values {
                    let _ = writeln!(out, "{name}{{source=\"{}\"}} {n}", label(s));
                }
            };
        per_source(
            out,
            "hark_mentions_collected_total",
            "Mentions collected per source by this process.",
            &m.collected,
        );
        per_source(
            out,
            "hark_source_errors_total",
            "Failed requests per source in this process.",
            &m.errors,
        );
        per_source(
            out,
            "hark_source_skipped_items_total",
            "Items a source received but could not use (e.g. a feed entry cut off by truncation).",
            &m.skipped_items,
        );
        let tps = if m.classify_seconds > 0.0 {
            m.classified as f64 / m.classify_seconds
        } else {
            0.0
        };
        let single: [(&str, &str, &str, String); 6] = [
            (
                "hark_classified_total",
                "counter",
                "Texts classified by this process.",
                m.classified.to_string(),
            ),
            (
                "hark_classifier_texts_per_second",
                "gauge",
                "Classifier throughput so far.",
                format!("{tps:.1}"),
            ),
            (
                "hark_api_searches_total",
                "counter",
                "Searches served.",
                m.searches.to_string(),
            ),
            (
                "hark_api_search_seconds_total",
                "counter",
                "Time spent in searches.",
                format!("{:.6}", m.search_seconds),
            ),
            (
                "hark_pipeline_healthy",
                "gauge",
                "1 when the pipeline can commit to the index, 0 while commits fail (e.g. a full disk).",
                u8::from(m.index_fault.is_none()).to_string(),
            ),
            (
                "hark_index_commit_failures_total",
                "counter",
                "Failed index commits (each retried).",
                m.index_faults.to_string(),
            ),
        ];
        for (name, kind, help, value) in single {
            header(out, name, kind, help);
            let _ = writeln!(out, "{name} {value}");
        }
        if let Some(w) = self.worker.get() {
            header(
                out,
                "hark_cluster_healthy",
                "gauge",
                "1 while this worker can reach the NATS cluster, 0 when it cannot.",
            );
            let _ = writeln!(
                out,
                "hark_cluster_healthy{{role=\"{}\"}} {}",
                w.role.as_str(),
                u8::from(m.cluster_fault.is_none())
            );
            drop(m);
            w.counters.write_prometheus(w.role, out);
        }
    }

    pub fn observe_search(&self, took: Duration) {
        let mut m = self.inner.lock().expect("metrics");
        m.searches += 1;
        m.search_seconds += took.as_secs_f64();
    }
}

/// The `# HELP` and `# TYPE` lines of one metric.
pub fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// Escapes a Prometheus label value.
pub fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
