//! Cluster ingest throughput (issue #18): real tweets (`../shared/data/sentiment/train.tsv`,
//! cycled with fresh ids) published as collectors would into a NATS JetStream server on
//! 127.0.0.1, enriched by 1, 2 and 4 `hark run --role enricher` processes (the configured
//! model, `lexicon` by default) and written by one `hark run --role indexer`, all on this
//! machine. Timed from the first publish to the moment both streams are empty and every
//! part is acknowledged (acknowledged = committed to the index); the index's count is
//! checked against what was sent.
//!
//! Usage: `cargo bench --bench cluster_bench [-- N [ENRICHERS,..]]` (N = 200000,
//! enrichers 1,2,4). Needs `nats-server` (Debian package). For the transformer:
//! `HARK_BIN=path/to/hark-built-with-bert HARK_BENCH_MODEL=bert HARK_BENCH_THREADS=1
//! cargo bench --bench cluster_bench -- 2000` (`[sentiment] model` and `threads` of every
//! process).

use hark::cluster::{Bus, ClusterConfig, wire};
use hark::mention::Mention;
use hark::sources::Batch;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

struct Proc(Child);
impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn texts() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/sentiment/train.tsv");
    let data = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (the real tweets are needed)", path.display()));
    data.lines()
        .filter_map(|l| l.split_once('\t').map(|(_, t)| t.to_string()))
        .filter(|t| !t.trim().is_empty())
        .collect()
}

/// The hark binary to run: `HARK_BIN` (a `bert` build, say), else this build's.
fn hark_bin() -> PathBuf {
    std::env::var_os("HARK_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_hark")))
}

fn hark(dir: &Path, args: &[&str], log: &str) -> Proc {
    let log = std::fs::File::create(dir.join(log)).unwrap();
    Proc(
        Command::new(hark_bin())
            .current_dir(dir)
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap(),
    )
}

fn run_once(n: usize, enrichers: usize, texts: &[String]) -> (f64, f64) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().to_path_buf();
    let port = free_port();
    let store = root.join("js");
    let _nats = Proc(
        Command::new("nats-server")
            .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
            .arg(&store)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server (Debian package) is needed"),
    );
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        std::thread::sleep(Duration::from_millis(50));
    }
    let w = root.join("w");
    std::fs::create_dir_all(w.join("queries")).unwrap();
    let model = std::env::var("HARK_BENCH_MODEL").unwrap_or_else(|_| "lexicon".into());
    let threads = std::env::var("HARK_BENCH_THREADS")
        .map(|t| format!("threads = {t}\n"))
        .unwrap_or_default();
    let toml = format!(
        "[sentiment]\nmodel = \"{model}\"\n{threads}\n[cluster]\nnats_url = \"nats://127.0.0.1:{port}\"\nmax_in_flight = 16\n\n[[sources]]\nname = \"bench\"\nkind = \"feed\"\nenabled = false\nurls = [\"http://127.0.0.1:9/feed\"]\nqueries = [\"brand\"]\n"
    );
    std::fs::write(w.join("hark.toml"), &toml).unwrap();
    std::fs::write(w.join("queries/brand.toml"), "match = 'brandname'\n").unwrap();
    let cfg: ClusterConfig = hark::config::Config::load(&w.join("hark.toml"))
        .unwrap()
        .cluster
        .unwrap();
    let mut procs = vec![hark(&w, &["run", "--role", "indexer"], "indexer.log")];
    for i in 0..enrichers {
        procs.push(hark(
            &w,
            &["run", "--role", "enricher"],
            &format!("e{i}.log"),
        ));
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (elapsed, publish_s) = rt.block_on(async {
        let bus = Bus::connect(&cfg, "bench-loader").await.unwrap();
        // Wait for the workers to register.
        loop {
            let s = hark::cluster::status::status(&bus).await.unwrap();
            if s.workers.len() == enrichers + 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let max = bus.max_message_bytes();
        let now = chrono::Utc::now();
        let mut parts = Vec::new();
        for (b, start) in (0..n).step_by(500).enumerate() {
            let mentions: Vec<Mention> = (start..(start + 500).min(n))
                .map(|i| {
                    let mut m = Mention::new(
                        format!("feed:bench-{i}"),
                        now - chrono::Duration::seconds(i as i64),
                    );
                    m.source = "bench".into();
                    m.source_kind = "feed".into();
                    m.url = Some(format!("https://example.com/{i}"));
                    m.text = texts[i % texts.len()].clone();
                    m
                })
                .collect();
            parts.extend(wire::split(
                Batch {
                    source: "bench".into(),
                    mentions,
                    lang_hint: None,
                    checkpoint: vec![hark::state::StateUpdate::Cursor {
                        source: "bench".into(),
                        key: "batch".into(),
                        value: b.to_string(),
                    }],
                    retract: vec![],
                },
                max,
            ));
        }
        let total_parts = parts.len();
        let (_stop_tx, stop) = tokio::sync::watch::channel(false);
        let waits = Arc::new(AtomicU64::new(0));
        let t0 = Instant::now();
        let mut tasks = Vec::new();
        let chunk = total_parts.div_ceil(8);
        for group in parts.chunks(chunk).map(|c| c.to_vec()) {
            let (bus, stop, waits) = (bus.clone(), stop.clone(), waits.clone());
            tasks.push(tokio::spawn(async move {
                for p in group {
                    bus.publish(
                        &bus.names.raw_subject,
                        &p.raw_id(),
                        p.encode(),
                        &stop,
                        &waits,
                    )
                    .await
                    .unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let publish_s = t0.elapsed().as_secs_f64();
        loop {
            let s = hark::cluster::status::status(&bus).await.unwrap();
            let indexer_acked = s
                .workers
                .iter()
                .find(|w| w.role == hark::cluster::Role::Indexer)
                .and_then(|w| w.counters.get("acked").copied())
                .unwrap_or(0);
            let idle = s
                .streams
                .iter()
                .all(|st| st.messages == 0 && st.consumers.iter().all(|c| c.ack_pending == 0));
            if idle && indexer_acked as usize >= total_parts {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        (t0.elapsed().as_secs_f64(), publish_s)
    });
    drop(procs);
    let o = Command::new(hark_bin())
        .current_dir(&w)
        .args([
            "search", "--query", "brand", "--limit", "1", "--format", "json",
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_default();
    let stored = v["total"].as_u64().unwrap_or(0) as usize;
    assert_eq!(
        stored,
        n,
        "the index holds {stored} of {n} mentions: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let _keep: PathBuf = root;
    (elapsed, publish_s)
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let n: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let counts: Vec<usize> = args
        .get(1)
        .map(|s| s.split(',').filter_map(|x| x.parse().ok()).collect())
        .unwrap_or_else(|| vec![1, 2, 4]);
    let texts = texts();
    println!(
        "cluster ingest of {n} real tweets, 1 NATS server, 1 indexer, model {}, all on this machine",
        std::env::var("HARK_BENCH_MODEL").unwrap_or_else(|_| "lexicon".into())
    );
    println!(
        "{:>9} {:>10} {:>14} {:>16}",
        "enrichers", "seconds", "mentions/s", "publish-only/s"
    );
    for k in counts {
        let (s, p) = run_once(n, k, &texts);
        println!(
            "{k:>9} {s:>10.2} {:>14.0} {:>16.0}",
            n as f64 / s,
            n as f64 / p
        );
    }
}
