//! The cluster roles end to end, on real servers: a 3-node NATS JetStream cluster
//! (`nats-server`, Debian package) on 127.0.0.1, a local feed server, and the real `hark`
//! binary as 2 collectors, 2 enrichers and 1 indexer. Mid-run a collector, an enricher and
//! one NATS node are killed with SIGKILL. Afterwards every item the feed server served is in
//! the index exactly once, no feed was polled by two collectors in turn-taking order broken
//! (the server's log of User-Agents proves it), the dead collector's feeds were taken over
//! within one lease TTL + interval + 10 s, and a taken-over unchanged feed was asked for
//! with the validator the dead collector had committed (cursors resume from KV).

mod common;

use common::*;
use std::collections::{BTreeMap, BTreeSet};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The tests here start many processes each; on a 2-core machine they run one at a time so
/// that their timing assertions (take-over delays) measure hark, not the scheduler.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

/// `nats-server`, or None (the test then says SKIPPED; under CI it must be there).
fn nats_server() -> Option<PathBuf> {
    for p in ["/usr/sbin/nats-server", "/usr/bin/nats-server"] {
        if Path::new(p).exists() {
            return Some(PathBuf::from(p));
        }
    }
    let found = Command::new("sh")
        .args(["-c", "command -v nats-server"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim().to_string()));
    if found.is_none() {
        assert!(
            std::env::var("CI").is_err(),
            "nats-server is missing: .ci/run installs the Debian package"
        );
        eprintln!("SKIPPED: nats-server not installed");
    }
    found
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A process killed when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A 3-node JetStream cluster on 127.0.0.1.
struct Nats {
    nodes: Vec<Option<Proc>>,
    pub client_ports: Vec<u16>,
}

impl Nats {
    fn start(bin: &Path, dir: &Path) -> Nats {
        let client_ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
        let cluster_ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
        let routes: Vec<String> = cluster_ports
            .iter()
            .map(|p| format!("nats-route://127.0.0.1:{p}"))
            .collect();
        let mut nodes = Vec::new();
        for i in 0..3 {
            let store = dir.join(format!("n{i}"));
            std::fs::create_dir_all(&store).unwrap();
            let conf = format!(
                "server_name: n{i}\nlisten: 127.0.0.1:{}\njetstream {{ store_dir: \"{}\" }}\ncluster {{\n  name: hark-test\n  listen: 127.0.0.1:{}\n  routes: [{}]\n}}\n",
                client_ports[i],
                store.display(),
                cluster_ports[i],
                routes.join(", ")
            );
            let path = dir.join(format!("n{i}.conf"));
            std::fs::write(&path, conf).unwrap();
            let log = std::fs::File::create(dir.join(format!("n{i}.log"))).unwrap();
            let child = Command::new(bin)
                .arg("-c")
                .arg(&path)
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .unwrap();
            nodes.push(Some(Proc(child)));
        }
        for p in &client_ports {
            let deadline = Instant::now() + Duration::from_secs(20);
            while std::net::TcpStream::connect(("127.0.0.1", *p)).is_err() {
                assert!(
                    Instant::now() < deadline,
                    "nats-server on {p} did not start"
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        Nats {
            nodes,
            client_ports,
        }
    }

    fn url(&self) -> String {
        self.client_ports
            .iter()
            .map(|p| format!("nats://127.0.0.1:{p}"))
            .collect::<Vec<_>>()
            .join(",")
    }

    fn kill9(&mut self, i: usize) {
        if let Some(mut p) = self.nodes[i].take() {
            let _ = p.0.kill();
            let _ = p.0.wait();
        }
    }
}

/// Per feed: the (guid, title) of every item served so far.
type ServedItems = BTreeMap<String, Vec<(String, String)>>;

fn rss(items: &[(String, String)]) -> Vec<u8> {
    let mut s = String::from(
        "<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel><title>t</title><link>http://example.com/</link><description>d</description>\n",
    );
    for (guid, title) in items {
        s.push_str(&format!(
            "<item><title>{title}</title><guid isPermaLink=\"false\">{guid}</guid><link>http://example.com/{guid}</link><description>{title} is terrible today</description><pubDate>Mon, 07 Dec 2026 10:00:00 GMT</pubDate></item>\n"
        ));
    }
    s.push_str("</channel></rss>\n");
    s.into_bytes()
}

/// A directory with hark.toml and the query, for one process.
fn workdir(root: &Path, name: &str, nats: &str, server: &TestServer, feeds: &[String]) -> PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let mut toml = format!(
        "[http]\nuser_agent = \"hark-test-{name}\"\nretries = 1\nretry_base = \"50ms\"\n\n[cluster]\nnats_url = \"{nats}\"\nreplicas = 3\nlease_ttl = \"3s\"\nack_wait = \"3s\"\nmax_in_flight = 8\n\n"
    );
    for f in feeds {
        toml.push_str(&format!(
            "[[sources]]\nname = \"{f}\"\nkind = \"feed\"\ninterval = \"1s\"\nbase_url = \"{}\"\nurls = [\"/{f}.rss\"]\n\n",
            server.url("")
        ));
    }
    write(&dir, "hark.toml", &toml);
    write(&dir, "queries/acme.toml", "match = 'acme'\n");
    dir
}

fn spawn(dir: &Path, args: &[&str], log: &str) -> Proc {
    let log = std::fs::File::create(dir.join(log)).unwrap();
    let child = Command::new(hark_bin())
        .current_dir(dir)
        .args(args)
        .env(
            "RUST_LOG",
            std::env::var("HARK_TEST_LOG").unwrap_or_else(|_| "info,tantivy=warn".into()),
        )
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    Proc(child)
}

fn indexed_titles(dir: &Path) -> Option<Vec<String>> {
    let o = hark(
        dir,
        &[
            "search", "--query", "acme", "--limit", "100000", "--format", "json",
        ],
        None,
    );
    if !o.status.success() {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).ok()?;
    Some(
        v["mentions"]
            .as_array()?
            .iter()
            .map(|m| m["title"].as_str().unwrap_or("").to_string())
            .collect(),
    )
}

fn cluster_status(dir: &Path) -> serde_json::Value {
    // Right after a node is killed a status read can time out; a second try must work.
    let mut o = hark(dir, &["cluster", "status", "--format", "json"], None);
    if !o.status.success() {
        std::thread::sleep(Duration::from_secs(1));
        o = hark(dir, &["cluster", "status", "--format", "json"], None);
    }
    assert!(o.status.success(), "{}", stderr(&o));
    serde_json::from_str(&stdout(&o)).unwrap()
}

fn logs(root: &Path) -> String {
    let mut out = String::new();
    for entry in walk(root) {
        if entry.extension().is_some_and(|e| e == "log") {
            let text = std::fs::read_to_string(&entry).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(40).collect();
            out.push_str(&format!("\n--- {} (last lines)\n", entry.display()));
            for l in tail.into_iter().rev() {
                out.push_str(l);
                out.push('\n');
            }
        }
    }
    out
}

fn walk(p: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(p) {
        for e in rd.flatten() {
            let path = e.path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else {
                out.push(path);
            }
        }
    }
    out
}

#[test]
fn cluster_collects_every_item_exactly_once_through_kill_9() {
    let _serial = serial();
    let Some(bin) = nats_server() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let mut nats = Nats::start(&bin, &root.join("nats"));
    let server = TestServer::start();

    // Growing feeds get a new item every 400 ms; static ones never change (their
    // validators must survive a takeover).
    let growing: Vec<String> = (0..4).map(|i| format!("grow{i}")).collect();
    let fixed: Vec<String> = (0..6).map(|i| format!("fixed{i}")).collect();
    let served: Arc<Mutex<ServedItems>> = Arc::default();
    for f in growing.iter().chain(&fixed) {
        let items: Vec<(String, String)> = (0..3)
            .map(|n| (format!("{f}-{n}"), format!("acme {f} item {n}")))
            .collect();
        server.file(&format!("/{f}.rss"), rss(&items), "application/rss+xml");
        served.lock().unwrap().insert(f.clone(), items);
    }
    let growing_on = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let grower = {
        let (server, served, on, growing) = (
            server.clone(),
            served.clone(),
            growing_on.clone(),
            growing.clone(),
        );
        std::thread::spawn(move || {
            let mut n = 3;
            while on.load(std::sync::atomic::Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(400));
                let mut s = served.lock().unwrap();
                for f in &growing {
                    let items = s.get_mut(f).unwrap();
                    items.push((format!("{f}-{n}"), format!("acme {f} item {n}")));
                    server.file(&format!("/{f}.rss"), rss(items), "application/rss+xml");
                }
                n += 1;
            }
        })
    };

    let all: Vec<String> = growing.iter().chain(&fixed).cloned().collect();
    let url = nats.url();
    let idx_dir = workdir(root, "indexer", &url, &server, &all);
    let dirs: BTreeMap<&str, PathBuf> = ["A", "B", "E1", "E2"]
        .into_iter()
        .map(|n| (n, workdir(root, n, &url, &server, &all)))
        .collect();
    let _indexer = spawn(&idx_dir, &["run", "--role", "indexer"], "indexer.log");
    let mut e1 = Some(spawn(&dirs["E1"], &["run", "--role", "enricher"], "e1.log"));
    let _e2 = spawn(&dirs["E2"], &["run", "--role", "enricher"], "e2.log");
    let mut a = Some(spawn(&dirs["A"], &["run", "--role", "collector"], "a.log"));
    let mut b = Some(spawn(&dirs["B"], &["run", "--role", "collector"], "b.log"));
    let pid_of = |p: &Option<Proc>| p.as_ref().unwrap().0.id();
    let (pid_a, pid_b) = (pid_of(&a), pid_of(&b));

    // Wait until both collectors hold sources (the rebalance after start-up has settled).
    let deadline = Instant::now() + Duration::from_secs(60);
    let holdings = loop {
        std::thread::sleep(Duration::from_secs(1));
        let s = cluster_status(&idx_dir);
        let mut per: BTreeMap<u32, BTreeSet<String>> = BTreeMap::new();
        for l in s["leases"].as_array().unwrap() {
            let worker = l["worker"].as_str().unwrap();
            let pid: u32 = worker.rsplit('-').nth(1).unwrap().parse().unwrap();
            per.entry(pid)
                .or_default()
                .insert(l["name"].as_str().unwrap().to_string());
        }
        let roles: BTreeSet<String> = s["workers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["role"].as_str().unwrap().to_string())
            .collect();
        let held = per.get(&pid_a).map_or(0, |s| s.len()) + per.get(&pid_b).map_or(0, |s| s.len());
        let every_role = roles
            == ["collector", "enricher", "indexer"]
                .map(String::from)
                .into();
        if held == all.len() && per.contains_key(&pid_a) && per.contains_key(&pid_b) && every_role {
            break per;
        }
        assert!(
            Instant::now() < deadline,
            "the collectors never shared the sources: {s}\n{}",
            logs(root)
        );
    };
    // Kill the collector holding more unchanging feeds (it has validators to hand over).
    let fixed_of = |pid: u32| {
        holdings[&pid]
            .iter()
            .filter(|s| s.starts_with("fixed"))
            .count()
    };
    let (victim, victim_ua, survivor_ua) = if fixed_of(pid_a) >= fixed_of(pid_b) {
        (&mut a, "hark-test-A", "hark-test-B")
    } else {
        (&mut b, "hark-test-B", "hark-test-A")
    };
    let victim_pid = pid_of(victim);
    let taken_over: BTreeSet<String> = holdings[&victim_pid].clone();
    std::thread::sleep(Duration::from_secs(2));
    let killed_at = Instant::now();
    drop(victim.take()); // SIGKILL
    drop(e1.take()); // SIGKILL, holding unacknowledged parts
    nats.kill9(2);
    std::thread::sleep(Duration::from_secs(12));
    growing_on.store(false, std::sync::atomic::Ordering::SeqCst);
    grower.join().unwrap();

    let expected: BTreeSet<String> = served
        .lock()
        .unwrap()
        .values()
        .flatten()
        .map(|(_, t)| t.clone())
        .collect();
    let deadline = Instant::now() + Duration::from_secs(90);
    let titles = loop {
        if let Some(t) = indexed_titles(&idx_dir) {
            let got: BTreeSet<&String> = t.iter().collect();
            if got.len() >= expected.len() {
                break t;
            }
        }
        assert!(
            Instant::now() < deadline,
            "not every served item reached the index\n{}",
            logs(root)
        );
        std::thread::sleep(Duration::from_secs(1));
    };
    // Exactly once: no title twice, none missing, none invented.
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for t in &titles {
        *counts.entry(t.as_str()).or_default() += 1;
    }
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "stored more than once: {twice:?}");
    let got: BTreeSet<String> = titles.iter().cloned().collect();
    assert_eq!(got, expected, "the index differs from what was served");
    assert!(expected.len() > 60, "{} items", expected.len());
    eprintln!(
        "{} items exactly once; taken over from the killed collector: {taken_over:?}",
        expected.len()
    );
    let s = cluster_status(&idx_dir);
    eprintln!("status after the run: {s}");

    // Never two collectors at once: while both lived, each feed changed hands at most once
    // (the start-up rebalance: A…A B…B, never A B A), and after the kill only the survivor
    // polled it.
    let log = server.log();
    for f in &all {
        let uas: Vec<&str> = log
            .iter()
            .filter(|l| l.path == format!("/{f}.rss") && l.at < killed_at)
            .map(|l| l.headers.get("user-agent").map_or("", String::as_str))
            .collect();
        let mut runs: Vec<&str> = Vec::new();
        for ua in &uas {
            if runs.last() != Some(ua) {
                runs.push(ua);
            }
        }
        let distinct: BTreeSet<&&str> = runs.iter().collect();
        assert_eq!(
            distinct.len(),
            runs.len(),
            "{f} was polled by collectors taking turns: {runs:?}"
        );
        assert_eq!(
            log.iter()
                .filter(|l| l.path == format!("/{f}.rss")
                    && l.at > killed_at + Duration::from_millis(500))
                .filter(|l| l.headers.get("user-agent").map(String::as_str) == Some(victim_ua))
                .count(),
            0,
            "{f}: the killed collector still polled"
        );
    }
    // Fail-over within lease TTL + interval + 10 s, and resumed validators.
    for f in &taken_over {
        let first = log
            .iter()
            .filter(|l| l.path == format!("/{f}.rss") && l.at > killed_at)
            .find(|l| l.headers.get("user-agent").map(String::as_str) == Some(survivor_ua))
            .unwrap_or_else(|| panic!("{f} was never taken over\n{}", logs(root)));
        let after = first.at.duration_since(killed_at);
        assert!(
            after <= Duration::from_secs(3 + 1 + 10),
            "{f} taken over after {after:?}"
        );
        if f.starts_with("fixed") {
            assert!(
                first.headers.contains_key("if-none-match") && first.status == 304,
                "{f}: the survivor did not resume with the committed validator: {:?} {}",
                first.headers,
                first.status
            );
        }
    }
}

#[test]
fn a_role_without_a_cluster_section_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "hark.toml", "");
    let o = hark(dir.path(), &["run", "--role", "collector"], None);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("[cluster]"), "{}", stderr(&o));
    let o = hark(dir.path(), &["cluster", "status"], None);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    write(
        dir.path(),
        "hark.toml",
        "[cluster]\nnats_url = \"http://127.0.0.1:4222\"\n",
    );
    let o = hark(dir.path(), &["cluster", "status"], None);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("nats://"), "{}", stderr(&o));
    write(
        dir.path(),
        "hark.toml",
        "[cluster]\nnats_url = \"nats://127.0.0.1:4222\"\nleas_ttl = \"5s\"\n",
    );
    let o = hark(dir.path(), &["cluster", "status"], None);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("leas_ttl"), "{}", stderr(&o));
}

/// Credentials that do not parse are refused without repeating them (they are a secret).
#[test]
fn bad_credentials_are_refused_without_being_echoed() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "hark.toml",
        &format!(
            "[cluster]\nnats_url = \"nats://127.0.0.1:{}\"\ncreds_env = \"HARK_TEST_CREDS\"\n",
            free_port()
        ),
    );
    let o = hark_env(
        dir.path(),
        &["cluster", "status"],
        None,
        &[("HARK_TEST_CREDS", "SEKRIT-seed-SUAM1234 not a creds file")],
    );
    let err = stderr(&o);
    assert!(!o.status.success(), "{err}");
    assert!(err.contains("HARK_TEST_CREDS"), "{err}");
    assert!(
        !err.contains("SEKRIT"),
        "the credentials reached the error: {err}"
    );
}

#[test]
fn cluster_status_says_when_no_server_answers() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    write(
        dir.path(),
        "hark.toml",
        &format!("[cluster]\nnats_url = \"nats://127.0.0.1:{port}\"\n"),
    );
    let o = hark(dir.path(), &["cluster", "status"], None);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("cannot connect to NATS"),
        "{}",
        stderr(&o)
    );
}

/// One JetStream server on 127.0.0.1.
fn single_nats(bin: &Path, dir: &Path) -> (Proc, String) {
    let port = free_port();
    std::fs::create_dir_all(dir).unwrap();
    let child = Command::new(bin)
        .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nats-server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    (Proc(child), format!("nats://127.0.0.1:{port}"))
}

fn set_cluster_keys(dir: &Path, extra: &str) {
    let path = dir.join("hark.toml");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("replicas = 3\n", &format!("replicas = 1\n{extra}"));
    std::fs::write(path, text).unwrap();
}

/// SIGTERM: a collector hands its sources over at once (not after the lease TTL) and exits
/// 0; a second indexer refuses to start while the first holds the index.
#[test]
fn sigterm_hands_sources_over_and_one_indexer_only() {
    let _serial = serial();
    let Some(bin) = nats_server() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let (_nats, url) = single_nats(&bin, &root.join("js"));
    let server = TestServer::start();
    let feeds: Vec<String> = (0..8).map(|i| format!("f{i}")).collect();
    for f in &feeds {
        let items = vec![(format!("{f}-0"), format!("acme {f}"))];
        server.file(&format!("/{f}.rss"), rss(&items), "application/rss+xml");
    }
    let dirs: Vec<PathBuf> = ["A", "B", "I1", "I2"]
        .iter()
        .map(|n| {
            let d = workdir(root, n, &url, &server, &feeds);
            // A long TTL: a hand-over faster than it can only be the release.
            set_cluster_keys(&d, "");
            let t = std::fs::read_to_string(d.join("hark.toml"))
                .unwrap()
                .replace("lease_ttl = \"3s\"", "lease_ttl = \"20s\"");
            std::fs::write(d.join("hark.toml"), t).unwrap();
            d
        })
        .collect();
    let mut a = spawn(&dirs[0], &["run", "--role", "collector"], "a.log");
    let b = hark_server(
        &dirs[1],
        &[],
        &["run", "--role", "collector", "--serve", "127.0.0.1:0"],
    );
    let i1 = hark_server(
        &dirs[2],
        &[],
        &["run", "--role", "indexer", "--serve", "127.0.0.1:0"],
    );
    let pid_a = a.0.id();
    let deadline = Instant::now() + Duration::from_secs(60);
    let held_by_a: BTreeSet<String> = loop {
        std::thread::sleep(Duration::from_millis(500));
        let s = cluster_status(&dirs[2]);
        let leases = s["leases"].as_array().unwrap();
        let sources: Vec<&serde_json::Value> = leases
            .iter()
            .filter(|l| l["name"].as_str().unwrap().starts_with('f'))
            .collect();
        let mine: BTreeSet<String> = sources
            .iter()
            .filter(|l| {
                l["worker"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("-{pid_a}-"))
            })
            .map(|l| l["name"].as_str().unwrap().to_string())
            .collect();
        if sources.len() == feeds.len() && !mine.is_empty() && mine.len() < feeds.len() {
            break mine;
        }
        assert!(
            Instant::now() < deadline,
            "sources never shared: {s}\n{}",
            logs(root)
        );
    };
    // A second indexer: refused, naming the holder.
    let o = hark(&dirs[3], &["run", "--role", "indexer"], None);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("another indexer (indexer-"),
        "{}",
        stderr(&o)
    );

    let stopped_at = Instant::now();
    send_sigterm(pid_a);
    let status = a.0.wait().unwrap();
    assert!(
        status.success(),
        "collector exit after SIGTERM: {status}\n{}",
        logs(root)
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let s = cluster_status(&dirs[2]);
        let all_b = s["leases"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["name"].as_str().unwrap().starts_with('f'))
            .filter(|l| {
                !l["worker"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("-{pid_a}-"))
            })
            .count()
            == feeds.len();
        if all_b {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "A's sources {held_by_a:?} were not taken over: {s}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let took = stopped_at.elapsed();
    assert!(
        took < Duration::from_secs(10),
        "hand-over took {took:?}: the leases (TTL 20 s) were not released on SIGTERM"
    );
    // Each role's /healthz and /metrics: the collector's own counters, the indexer's next
    // to the index's.
    let (code, body) = http_get(&format!("{}/healthz", b.base));
    assert_eq!((code, body.as_str()), (200, "ok\n"));
    let (_, metrics) = http_get(&format!("{}/metrics", b.base));
    assert!(
        metrics.contains("hark_cluster_healthy{role=\"collector\"} 1"),
        "{metrics}"
    );
    let polls = metrics
        .lines()
        .find_map(|l| l.strip_prefix("hark_cluster_polls_total{role=\"collector\"} "))
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    assert!(polls > 0, "{metrics}");
    let (code, _) = http_get(&format!("{}/healthz", i1.base));
    assert_eq!(code, 200);
    let (_, metrics) = http_get(&format!("{}/metrics", i1.base));
    assert!(
        metrics.contains("hark_cluster_acked_total{role=\"indexer\"}"),
        "{metrics}"
    );
    assert!(metrics.contains("hark_pipeline_healthy 1"), "{metrics}");
}

fn http_get(url: &str) -> (u16, String) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let r = reqwest::Client::new().get(url).send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    })
}

fn send_sigterm(pid: u32) {
    let ok = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
}

/// A full stream refuses new messages and the collector waits (nothing is dropped); once
/// the enricher and indexer run, everything arrives.
#[test]
fn a_full_stream_makes_publishers_wait_and_loses_nothing() {
    let _serial = serial();
    let Some(bin) = nats_server() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let (_nats, url) = single_nats(&bin, &root.join("js"));
    let server = TestServer::start();
    let items: Vec<(String, String)> = (0..400)
        .map(|n| {
            (
                format!("big-{n}"),
                format!("acme item {n}{}", " padding words".repeat(8)),
            )
        })
        .collect();
    server.file("/big.rss", rss(&items), "application/rss+xml");
    let feeds = vec!["big".to_string()];
    let dirs: Vec<PathBuf> = ["C", "E", "I"]
        .iter()
        .map(|n| {
            let d = workdir(root, n, &url, &server, &feeds);
            set_cluster_keys(
                &d,
                "max_stream_bytes = \"48KB\"\nmax_message_bytes = \"16KB\"\n",
            );
            d
        })
        .collect();
    let _c = spawn(&dirs[0], &["run", "--role", "collector"], "c.log");
    // With nobody consuming, the raw stream fills to its limit and the collector waits.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        std::thread::sleep(Duration::from_millis(500));
        let s = cluster_status(&dirs[2]);
        let raw = &s["streams"][0];
        let waits = s["workers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["counters"]["publish_waits"].as_u64().unwrap_or(0))
            .sum::<u64>();
        assert!(raw["bytes"].as_u64().unwrap() <= 48 * 1024, "{s}");
        if waits > 0 && raw["messages"].as_u64().unwrap() > 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the collector never waited: {s}\n{}",
            logs(root)
        );
    }
    let _e = spawn(&dirs[1], &["run", "--role", "enricher"], "e.log");
    let _i = spawn(&dirs[2], &["run", "--role", "indexer"], "i.log");
    let expected: BTreeSet<String> = items.iter().map(|(_, t)| t.clone()).collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(t) = indexed_titles(&dirs[2]) {
            let got: BTreeSet<String> = t.iter().cloned().collect();
            if got == expected {
                assert_eq!(t.len(), expected.len(), "a mention stored twice");
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "not everything arrived: {}\n{}",
            cluster_status(&dirs[2]),
            logs(root)
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}
