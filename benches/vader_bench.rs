//! Single-threaded throughput of `hark::sentiment::vader::Vader`, for the ">= 30x the Python
//! reference" requirement (scripts/vader_compare.py --bench runs this next to the Python loop).
//!
//!     cargo bench --bench vader_bench -- [FILE] [--tsv]
//!
//! FILE (or $VADER_BENCH_FILE; default ../shared/data/sentiment/dev.tsv) has one text per line;
//! with --tsv, or a name ending in .tsv, the text is what follows the first TAB. The texts are
//! scored repeatedly until at least ~2 s of work is timed; prints `texts_per_sec=N`.
use hark::sentiment::vader::Vader;
use std::hint::black_box;
use std::time::{Duration, Instant};

fn main() {
    let mut path = std::env::var("VADER_BENCH_FILE").ok();
    let mut tsv = false;
    for a in std::env::args().skip(1) {
        match a.as_str() {
            "--tsv" => tsv = true,
            "--bench" => {} // appended by `cargo bench`
            _ if a.starts_with("--") => {}
            _ => path = Some(a),
        }
    }
    let path = path.unwrap_or_else(|| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/data/sentiment/dev.tsv"
        )
        .to_string()
    });
    tsv |= path.ends_with(".tsv");
    let data = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    let texts: Vec<&str> = data
        .lines()
        .map(|l| {
            if tsv {
                l.split_once('\t').map(|x| x.1).unwrap_or("")
            } else {
                l
            }
        })
        .collect();
    assert!(!texts.is_empty(), "{path}: no texts");

    let vader = Vader::new();
    let pass = |v: &Vader| {
        let mut acc = 0.0;
        for t in &texts {
            acc += black_box(v.polarity_scores(black_box(t))).compound;
        }
        acc
    };
    // Warm-up (caches, branch predictors, CPU clock), then whole passes until >= 2 s.
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_millis(300) {
        black_box(pass(&vader));
    }
    let mut reps = 0usize;
    let cpu0 = thread_cpu_ns();
    let t0 = Instant::now();
    while reps == 0 || t0.elapsed() < Duration::from_secs(2) {
        black_box(pass(&vader));
        reps += 1;
    }
    let dt = t0.elapsed().as_secs_f64();
    let cpu = thread_cpu_ns()
        .zip(cpu0)
        .map(|(b, a)| (b - a) as f64 * 1e-9);
    let n = texts.len() * reps;
    println!(
        "file={path} texts={} passes={reps} seconds={dt:.3}",
        texts.len()
    );
    println!("texts_per_sec={:.0}", n as f64 / dt);
    if let Some(cpu) = cpu {
        // On a busy machine wall time includes time spent descheduled; CPU time does not.
        println!("texts_per_cpu_sec={:.0}", n as f64 / cpu);
    }
}

/// CPU time of this thread in ns (Linux: first field of /proc/thread-self/schedstat).
fn thread_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}
