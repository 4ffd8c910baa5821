//! Feed parsing speed on one core (issue: lenient feeds; target ≥ 50 MB/s of feed XML).
//!
//! The corpus is every recorded real feed (`tests/fixtures/feeds*`, plus
//! `../shared/fixtures/feeds*` where present), repeated to about `MB` megabytes (default
//! 64). Timed on one thread, in the same run:
//!
//! - `hark::feed::parse` — bytes to entries (charset, lenient tree, per-entry reading);
//! - the same plus every entry's title and text reduced to plain text (what the feed
//!   source does before a mention exists);
//! - feed-rs (`feed_rs::parser::parse`), the strict parser hark used before, as the peer.
//!
//! Usage: `cargo bench --bench feed_bench [-- MB]`.

use std::time::Instant;

fn corpus() -> Vec<Vec<u8>> {
    let mut docs = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for dir in [
        root.join("tests/fixtures/feeds"),
        root.join("tests/fixtures/feeds-malformed"),
        root.join("../shared/fixtures/feeds"),
        root.join("../shared/fixtures/feeds-malformed"),
    ] {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in rd.flatten() {
            if seen.insert(e.file_name()) {
                docs.push(std::fs::read(e.path()).expect("readable fixture"));
            }
        }
    }
    docs
}

fn time(label: &str, docs: &[&Vec<u8>], total: usize, mut f: impl FnMut(&[u8]) -> usize) {
    let t = Instant::now();
    let mut entries = 0;
    for d in docs {
        entries += f(d);
    }
    let s = t.elapsed().as_secs_f64();
    println!(
        "{label:<34} {:>8.1} MB/s  ({entries} entries, {:.2} s)",
        total as f64 / 1e6 / s,
        s
    );
}

fn main() {
    let mb: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(64);
    let docs = corpus();
    assert!(!docs.is_empty(), "no recorded feeds found");
    let one: usize = docs.iter().map(Vec::len).sum();
    let reps = (mb * 1_000_000).div_ceil(one);
    let run: Vec<&Vec<u8>> = (0..reps).flat_map(|_| docs.iter()).collect();
    let total = one * reps;
    println!(
        "corpus: {} recorded feeds, {:.2} MB, repeated {reps}× = {:.1} MB; one thread",
        docs.len(),
        one as f64 / 1e6,
        total as f64 / 1e6
    );
    let base = "http://127.0.0.1/feed.xml";
    // Warm-up.
    for d in &docs {
        let _ = hark::feed::parse(d, base, None);
    }
    time("hark::feed::parse", &run, total, |d| {
        hark::feed::parse(d, base, None).map_or(0, |f| f.entries.len())
    });
    time("hark parse + entries to text", &run, total, |d| {
        let Ok(f) = hark::feed::parse(d, base, None) else {
            return 0;
        };
        for e in &f.entries {
            for t in [&e.title, &e.content, &e.summary].into_iter().flatten() {
                std::hint::black_box(t.to_plain());
            }
        }
        f.entries.len()
    });
    time("feed-rs (peer)", &run, total, |d| {
        feed_rs::parser::parse(d).map_or(0, |f| f.entries.len())
    });
}
