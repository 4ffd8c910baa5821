//! Crawler speed (issue #4's targets):
//!
//! 1. extraction alone — `scraper` parse + readability-style extraction + links, single
//!    thread, over the real pages of `../shared/fixtures/html` (target ≥ 30 MB/s);
//! 2. a full crawl cycle — the real pipeline (`web` source → match → classify → index) over a
//!    local site of generated article pages with politeness delays set to zero (target ≥ 300
//!    pages/s on this 2-core machine).
//!
//! Usage: `cargo bench --bench crawl_bench [-- PAGES]` (default 3000).

use axum::extract::{Path, State};
use axum::response::IntoResponse;
use hark::config::Config;
use hark::crawl::extract;
use hark::pipeline::{self, Runtime};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

fn extraction() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/html");
    let mut pages: Vec<String> = Vec::new();
    for e in std::fs::read_dir(&dir).expect("fixtures/html") {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".expected.html") {
            continue;
        }
        let bytes = std::fs::read(&p).unwrap();
        let (text, _) = hark::crawl::charset::decode_html(&bytes, None);
        pages.push(text);
    }
    let bytes: usize = pages.iter().map(String::len).sum();
    let rounds = 10;
    // Warm-up.
    for p in &pages {
        std::hint::black_box(extract::extract_article(&scraper::Html::parse_document(p)));
    }
    let t = Instant::now();
    for _ in 0..rounds {
        for p in &pages {
            std::hint::black_box(scraper::Html::parse_document(p));
        }
    }
    let parse = t.elapsed().as_secs_f64();
    let t = Instant::now();
    for _ in 0..rounds {
        for p in &pages {
            let doc = scraper::Html::parse_document(p);
            std::hint::black_box(extract::extract_article(&doc));
            std::hint::black_box(extract::links(&doc));
        }
    }
    let full = t.elapsed().as_secs_f64();
    let mb = (bytes * rounds) as f64 / 1e6;
    println!(
        "extraction: {} pages, {:.2} MB x {rounds}: parse only {:.1} MB/s; parse + extract + links {:.1} MB/s (target >= 30)",
        pages.len(),
        bytes as f64 / 1e6,
        mb / parse,
        mb / full
    );
}

struct Site {
    pages: usize,
    served: AtomicU64,
    bytes: AtomicU64,
}

const PARA: &str = "The company said on Tuesday that the new product line would reach stores \
across the region within weeks, after months of delays that frustrated customers and \
retailers. Analysts said demand was strong, but warned that prices could rise further if \
supply problems persist into the next quarter, and several shops reported long queues.";

async fn page(State(site): State<Arc<Site>>, Path(n): Path<usize>) -> impl IntoResponse {
    let mut links = String::new();
    for k in 1..=5 {
        links.push_str(&format!(
            "<li><a href=\"/p/{}\">Story {}</a></li>",
            (n * 5 + k) % site.pages,
            k
        ));
    }
    let brand = if n % 3 == 0 { "Acme" } else { "Globex" };
    let mut body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Story {n} - Daily</title>\
         <meta property=\"article:published_time\" content=\"2026-11-{:02}T10:00:00Z\">\
         <link rel=\"canonical\" href=\"/p/{n}\"></head><body>\
         <header><nav><ul><li><a href=\"/p/0\">Home</a></li><li><a href=\"/p/1\">World</a></li>\
         <li><a href=\"/p/2\">Business</a></li></ul></nav></header><main><article>\
         <h1>{brand} story number {n}</h1><p class=\"byline\">By Reporter {}</p>",
        1 + n % 28,
        n % 17
    );
    // Distinct text per page (a seeded shuffle of the words), so pages are not
    // near-duplicates of each other.
    let words: Vec<&str> = PARA.split_whitespace().collect();
    let mut seed = (n as u64)
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    for i in 0..12 {
        let mut p = format!("{brand} update {i} for story {n}.");
        for _ in 0..words.len() {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            p.push(' ');
            p.push_str(words[(seed >> 33) as usize % words.len()]);
        }
        body.push_str(&format!("<p>{p}</p>"));
    }
    body.push_str(&format!(
        "</article><aside class=\"related\"><h2>Related</h2><ul>{links}</ul></aside></main>\
         <footer><p>Copyright Daily. All rights reserved.</p><a href=\"/p/3\">About</a></footer></body></html>"
    ));
    site.served.fetch_add(1, Ordering::Relaxed);
    site.bytes.fetch_add(body.len() as u64, Ordering::Relaxed);
    ([("content-type", "text/html; charset=utf-8")], body)
}

fn crawl(pages: usize) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let site = Arc::new(Site {
        pages,
        served: AtomicU64::new(0),
        bytes: AtomicU64::new(0),
    });
    let addr = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = axum::Router::new()
            .route("/p/{n}", axum::routing::get(page))
            .route(
                "/robots.txt",
                axum::routing::get(|| async { "User-agent: *\nDisallow: /private/\n" }),
            )
            .with_state(site.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        addr
    });
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("hark.toml"),
        format!(
            "[http]\nper_host_concurrency = 8\n\n[[sources]]\nname = \"site\"\nkind = \"web\"\n\
             seeds = [\"http://{addr}/p/0\"]\nmax_depth = 100000\nmax_pages = {pages}\n\
             delay = \"0\"\nconcurrency = 8\n"
        ),
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("queries")).unwrap();
    std::fs::write(dir.path().join("queries/acme.toml"), "match = 'acme'\n").unwrap();
    let config = Config::load(&dir.path().join("hark.toml")).expect("config");
    let runtime = Runtime::open(config).expect("runtime");
    let (_tx, rx) = tokio::sync::watch::channel(false);
    let t = Instant::now();
    let summary = rt
        .block_on(pipeline::run(&runtime, true, rx, Arc::new(|_| {})))
        .expect("run");
    let secs = t.elapsed().as_secs_f64();
    let served = site.served.load(Ordering::Relaxed);
    let mb = site.bytes.load(Ordering::Relaxed) as f64 / 1e6;
    let errors: usize = summary.sources.iter().map(|s| s.errors.len()).sum();
    println!(
        "crawl: {served} pages ({mb:.1} MB) fetched, extracted, matched and {} indexed in {secs:.2} s: {:.0} pages/s (target >= 300), {:.1} MB/s; errors {errors}",
        summary.indexed,
        served as f64 / secs,
        mb / secs
    );
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let pages: usize = args.first().and_then(|s| s.parse().ok()).unwrap_or(3000);
    extraction();
    crawl(pages);
}
