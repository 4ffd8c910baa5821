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
}

#[derive(Default)]
struct Inner {
    collected: BTreeMap<String, u64>,
    errors: BTreeMap<String, u64>,
    classified: u64,
    classify_seconds: f64,
    searches: u64,
    search_seconds: f64,
    /// The pipeline cannot commit to the index (e.g. a full disk): the error, and since when.
    index_fault: Option<(String, std::time::SystemTime)>,
    index_faults: u64,
}

impl Metrics {
    /// One finished poll of a source.
    pub fn record_poll(&self, source: &str, items: usize, errors: usize) {
        let mut m = self.inner.lock().expect("metrics");
        *m.collected.entry(source.to_string()).or_default() += items as u64;
        *m.errors.entry(source.to_string()).or_default() += errors as u64;
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
        m.index_fault.as_ref().map(|(e, since)| {
            let secs = since.elapsed().map_or(0, |d| d.as_secs());
            format!("indexing stalled for {secs} s: {e}")
        })
    }

    /// This process's counters in the Prometheus text format (appended to `out`).
    pub fn write_prometheus(&self, out: &mut String) {
        let m = self.inner.lock().expect("metrics");
        let _ = writeln!(
            out,
            "# HELP hark_mentions_collected_total Mentions collected per source by this process.\n# TYPE hark_mentions_collected_total counter"
        );
        for (s, n) in &m.collected {
            let _ = writeln!(
                out,
                "hark_mentions_collected_total{{source=\"{}\"}} {n}",
                label(s)
            );
        }
        let _ = writeln!(
            out,
            "# HELP hark_source_errors_total Failed requests per source in this process.\n# TYPE hark_source_errors_total counter"
        );
        for (s, n) in &m.errors {
            let _ = writeln!(
                out,
                "hark_source_errors_total{{source=\"{}\"}} {n}",
                label(s)
            );
        }
        let _ = writeln!(
            out,
            "# HELP hark_classified_total Texts classified by this process.\n# TYPE hark_classified_total counter"
        );
        let _ = writeln!(out, "hark_classified_total {}", m.classified);
        let _ = writeln!(
            out,
            "# HELP hark_classifier_texts_per_second Classifier throughput so far.\n# TYPE hark_classifier_texts_per_second gauge"
        );
        let tps = if m.classify_seconds > 0.0 {
            m.classified as f64 / m.classify_seconds
        } else {
            0.0
        };
        let _ = writeln!(out, "hark_classifier_texts_per_second {tps:.1}");
        let _ = writeln!(
            out,
            "# HELP hark_api_searches_total Searches served.\n# TYPE hark_api_searches_total counter"
        );
        let _ = writeln!(out, "hark_api_searches_total {}", m.searches);
        let _ = writeln!(
            out,
            "# HELP hark_api_search_seconds_total Time spent in searches.\n# TYPE hark_api_search_seconds_total counter"
        );
        let _ = writeln!(out, "hark_api_search_seconds_total {:.6}", m.search_seconds);
        let _ = writeln!(
            out,
            "# HELP hark_pipeline_healthy 1 when the pipeline can commit to the index, 0 while commits fail (e.g. a full disk).\n# TYPE hark_pipeline_healthy gauge"
        );
        let _ = writeln!(
            out,
            "hark_pipeline_healthy {}",
            u8::from(m.index_fault.is_none())
        );
        let _ = writeln!(
            out,
            "# HELP hark_index_commit_failures_total Failed index commits (each retried).\n# TYPE hark_index_commit_failures_total counter"
        );
        let _ = writeln!(out, "hark_index_commit_failures_total {}", m.index_faults);
    }

    pub fn observe_search(&self, took: Duration) {
        let mut m = self.inner.lock().expect("metrics");
        m.searches += 1;
        m.search_seconds += took.as_secs_f64();
    }
}

/// Escapes a Prometheus label value.
pub fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
