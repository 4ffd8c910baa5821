//! HTTP API latency against a running `hark serve` (see `scripts/bench_serve.sh`, which
//! builds a 1,000,000-mention index and starts the server):
//!
//! - `/api/search` with a text query and two filters (query name, sentiment): p50/p99;
//! - `/api/stats` for 90 days by hour;
//! - the dashboard's data: every request the dashboard page makes, sent concurrently as the
//!   browser does, until the last answer;
//! - `/api/search` again while bulk triage actions (2,000 mentions each, one after another)
//!   write to the index: p50/p99, and how many bulk actions ran meanwhile.
//!
//! Usage: `cargo bench --bench serve_bench -- BASE_URL [QUERY]`.

use std::time::Instant;

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() as f64 * p) as usize).min(v.len() - 1)]
}

async fn get(c: &reqwest::Client, url: &str) -> f64 {
    let t = Instant::now();
    let r = c.get(url).send().await.expect("request");
    assert!(r.status().is_success(), "{url}: {}", r.status());
    let _ = r.bytes().await.expect("body");
    t.elapsed().as_secs_f64() * 1000.0
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let base = args
        .first()
        .expect("usage: serve_bench BASE_URL [QUERY]")
        .trim_end_matches('/')
        .to_string();
    let query = args.get(1).cloned().unwrap_or_else(|| "acme".into());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let c = reqwest::Client::new();
    rt.block_on(async {
        let texts = ["support", "down OR outage", "\"refund\"", "prices AND happy", "app NOT store", "terrible"];
        let sentiments = ["negative", "positive", "neutral"];
        let mut lat = Vec::new();
        for i in 0..330 {
            let url = format!(
                "{base}/api/search?q={}&query={query}&sentiment={}&since=60d&limit=20",
                url::form_urlencoded::byte_serialize(texts[i % texts.len()].as_bytes()).collect::<String>(),
                sentiments[i % 3]
            );
            let ms = get(&c, &url).await;
            if i >= 30 {
                lat.push(ms);
            }
        }
        println!(
            "search (text + query + sentiment): n={} p50={:.1} ms p99={:.1} ms max={:.1} ms (target p99 < 50)",
            lat.len(),
            pct(&mut lat, 0.5),
            pct(&mut lat, 0.99),
            pct(&mut lat, 1.0)
        );
        let mut lat = Vec::new();
        for i in 0..33 {
            let ms = get(&c, &format!("{base}/api/stats?query={query}&since=90d&interval=hour")).await;
            if i >= 3 {
                lat.push(ms);
            }
        }
        println!(
            "stats 90 days by hour: n={} p50={:.1} ms max={:.1} ms (target < 100)",
            lat.len(),
            pct(&mut lat, 0.5),
            pct(&mut lat, 1.0)
        );
        let dashboard = [
            format!("{base}/api/queries"),
            format!("{base}/api/stats?query={query}&since=90d&interval=day"),
            format!("{base}/api/share-of-voice?since=90d"),
            format!("{base}/api/top?query={query}&since=90d&by=sources&limit=10"),
            format!("{base}/api/top?query={query}&since=90d&by=authors&limit=10"),
            format!("{base}/api/search?query={query}&since=90d&sentiment=negative&sort=newest&limit=10"),
            format!("{base}/api/alerts?query={query}&since=90d&limit=100"),
        ];
        let mut lat = Vec::new();
        for i in 0..12 {
            let t = Instant::now();
            let futs = dashboard.iter().map(|u| {
                let c = c.clone();
                async move {
                    let r = c.get(u).send().await.expect("request");
                    let _ = r.bytes().await;
                }
            });
            futures::future::join_all(futs).await;
            if i >= 2 {
                lat.push(t.elapsed().as_secs_f64() * 1000.0);
            }
        }
        println!(
            "dashboard data (7 requests at once, last 90 days: 3x the 30-day target window): n={} p50={:.0} ms max={:.0} ms (target page ready < 1000)",
            lat.len(),
            pct(&mut lat, 0.5),
            pct(&mut lat, 1.0)
        );

        // Searches while bulk triage writes: 2,000 mentions tagged per action, back to back.
        let found: serde_json::Value = serde_json::from_slice(
            &c.get(format!("{base}/api/search?query={query}&limit=2000"))
                .send()
                .await
                .expect("request")
                .bytes()
                .await
                .expect("body"),
        )
        .expect("json");
        let ids: Vec<String> = found["mentions"]
            .as_array()
            .map(|a| a.iter().filter_map(|m| m["id"].as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let writer = {
            let (c, base, stop) = (c.clone(), base.clone(), stop.clone());
            tokio::spawn(async move {
                let mut done = 0u32;
                let mut ms = Vec::new();
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let t = Instant::now();
                    let body = serde_json::json!({"ids": ids, "add_tags": [format!("bench-{done}")]});
                    let r = c
                        .post(format!("{base}/api/mentions/bulk"))
                        .header("content-type", "application/json")
                        .body(body.to_string())
                        .send()
                        .await
                        .expect("bulk request");
                    assert!(r.status().is_success(), "bulk: {}", r.status());
                    ms.push(t.elapsed().as_secs_f64() * 1000.0);
                    done += 1;
                }
                (done, ms)
            })
        };
        let mut lat = Vec::new();
        for i in 0..330 {
            let url = format!(
                "{base}/api/search?q={}&query={query}&sentiment={}&since=60d&limit=20",
                url::form_urlencoded::byte_serialize(texts[i % texts.len()].as_bytes()).collect::<String>(),
                sentiments[i % 3]
            );
            let ms = get(&c, &url).await;
            if i >= 30 {
                lat.push(ms);
            }
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let (bulks, mut bulk_ms) = writer.await.expect("bulk task");
        println!(
            "search while bulk triage runs: n={} p50={:.1} ms p99={:.1} ms max={:.1} ms (target p99 < 50); {bulks} bulk actions of 2,000 mentions meanwhile, each p50={:.0} ms",
            lat.len(),
            pct(&mut lat, 0.5),
            pct(&mut lat, 0.99),
            pct(&mut lat, 1.0),
            if bulk_ms.is_empty() { 0.0 } else { pct(&mut bulk_ms, 0.5) }
        );
    });
}
