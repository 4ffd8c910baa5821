//! Search latency on an existing index: text query + date filter + sentiment filter, warm.
//! Usage: cargo bench --bench search_bench -- DATA_DIR [ITERATIONS]
//! (DATA_DIR is a deployment's data dir, e.g. one filled by `hark import`.)

use hark::index::MentionIndex;
use hark::index::search::{SearchRequest, Sort, search};
use hark::mention::Label;
use hark::query::{ParseOptions, parse};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().filter(|a| a != "--bench").collect();
    let data = args
        .get(1)
        .expect("usage: search_bench DATA_DIR [ITERATIONS]");
    let iterations: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(300);
    let index =
        MentionIndex::open_existing(&std::path::Path::new(data).join("index")).expect("index");
    println!("docs={}", index.num_docs());
    let texts = [
        "acme",
        "support AND terrible",
        "\"refund\" OR down",
        "globex NOT app",
        "hooli update",
        "initech AND (prices OR store)",
    ];
    let sentiments = [Label::Negative, Label::Positive, Label::Neutral];
    let base = chrono::DateTime::parse_from_rfc3339("2026-08-01T00:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let mut lat = Vec::with_capacity(iterations);
    for i in 0..iterations + 30 {
        let since = base + chrono::Duration::days((i % 60) as i64);
        let req = SearchRequest {
            expr: Some(parse(texts[i % texts.len()], &ParseOptions::default()).unwrap()),
            since: Some(since),
            until: Some(since + chrono::Duration::days(30)),
            sentiment: Some(sentiments[i % 3]),
            sort: if i % 2 == 0 {
                Sort::Newest
            } else {
                Sort::Relevance
            },
            limit: 20,
            ..Default::default()
        };
        let t = Instant::now();
        let r = search(&index, &req).expect("search");
        let el = t.elapsed();
        std::hint::black_box(r.total);
        if i >= 30 {
            lat.push(el.as_secs_f64() * 1000.0);
        }
    }
    lat.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    println!(
        "searches={} p50_ms={:.2} p95_ms={:.2} p99_ms={:.2} max_ms={:.2}",
        lat.len(),
        pct(0.5),
        pct(0.95),
        pct(0.99),
        lat[lat.len() - 1]
    );
}
