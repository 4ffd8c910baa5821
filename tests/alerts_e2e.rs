//! Alerting end to end with the real binary: a mention history with a negative burst is
//! imported, `hark run --once` evaluates the rule and delivers through the durable outbox to
//! a real local webhook receiver (failures retried, delivered once) or a real SMTP server
//! (down, then up), a run killed before delivery delivers after restart, and backtest finds
//! the burst but not a praise burst.

mod common;

use common::*;
use std::io::Write;
use std::path::Path;

/// 8 days of calm, seasonal traffic for `acme` (about 12 mentions an hour by day, 15 %
/// negative), a praise burst 2 days ago, and a negative burst in the last `burst_minutes`.
fn write_history(dir: &Path, now: chrono::DateTime<chrono::Utc>, burst_minutes: i64) -> usize {
    let mut f = std::io::BufWriter::new(std::fs::File::create(dir.join("history.jsonl")).unwrap());
    let mut n = 0usize;
    let mut seed: u64 = 7;
    let mut rnd = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as f64 / (1u64 << 31) as f64
    };
    let line = |f: &mut std::io::BufWriter<std::fs::File>,
                t: chrono::DateTime<chrono::Utc>,
                label: &str,
                text: &str,
                n: &mut usize| {
        let m = serde_json::json!({
            "id": format!("hist:{n}"), "source": "hist", "source_kind": "test",
            "url": format!("https://example.com/{n}"), "author": format!("user{}", *n % 50),
            "text": text, "published_at": t.to_rfc3339(),
            "sentiment": {"label": label, "score": 0.0, "model": "test"},
            "engagement": {"likes": 1, "shares": 0, "comments": 0, "views": null, "followers": 100},
        });
        writeln!(f, "{m}").unwrap();
        *n += 1;
    };
    let start = now - chrono::Duration::days(15);
    let mut t = start;
    while t < now - chrono::Duration::minutes(burst_minutes) {
        let hour = t.format("%H").to_string().parse::<f64>().unwrap();
        let rate = 4.0 + 8.0 * (1.0 + ((hour - 14.0) / 24.0 * std::f64::consts::TAU).cos()) / 2.0; // per hour
        let label = if rnd() < 0.15 {
            "negative"
        } else if rnd() < 0.5 {
            "neutral"
        } else {
            "positive"
        };
        line(&mut f, t, label, "acme routine mention", &mut n);
        t += chrono::Duration::seconds((3600.0 / rate * (0.5 + rnd())) as i64);
    }
    // Praise burst two days ago: must not raise a negativity alert.
    let praise = now - chrono::Duration::days(2);
    for i in 0..80 {
        line(
            &mut f,
            praise + chrono::Duration::seconds(i * 40),
            "positive",
            "acme launch is great",
            &mut n,
        );
    }
    // The negative burst.
    for i in 0..40 {
        line(
            &mut f,
            now - chrono::Duration::minutes(burst_minutes)
                + chrono::Duration::seconds(i * burst_minutes * 60 / 40),
            "negative",
            "acme outage <script>alert(1)</script> terrible",
            &mut n,
        );
    }
    f.flush().unwrap();
    n
}

fn deployment(dir: &Path, channels: &str, smtp: &str) {
    write(
        dir,
        "hark.toml",
        &format!(
            "[storage]\ndata_dir = \"data\"\n\n[server]\npublic_url = \"http://hark.example\"\n{smtp}"
        ),
    );
    write(dir, "queries/acme.toml", "match = 'acme'\n");
    write(
        dir,
        "alerts/acme-negative.toml",
        &format!(
            "query = \"acme\"\nkind = \"negative_spike\"\nwindow = \"1h\"\nbaseline = \"7d\"\ncooldown = \"6h\"\n{channels}"
        ),
    );
    let now = chrono::Utc::now();
    write_history(dir, now, 50);
    let o = hark(dir, &["import", "history.jsonl"], None);
    assert!(o.status.success(), "{}", stderr(&o));
}

fn alerts_json(dir: &Path) -> Vec<serde_json::Value> {
    let o = hark(dir, &["alerts", "list", "--format", "json"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn webhook_failures_are_retried_and_delivered_once() {
    let server = TestServer::start();
    server.route(
        "/hook",
        Route::Script(vec![
            Reply::status(500),
            Reply::status(500),
            Reply::ok("ok", "text/plain"),
        ]),
    );
    let dir = tempfile::tempdir().unwrap();
    deployment(
        dir.path(),
        &format!(
            "[[channels]]\ntype = \"webhook\"\nurl = \"{}\"\nformat = \"json\"\nsecret_env = \"HARK_TEST_SECRET\"\n",
            server.url("/hook")
        ),
        "",
    );
    let o = std::process::Command::new(hark_bin())
        .current_dir(dir.path())
        .args(["run", "--once"])
        .env("HARK_TEST_SECRET", "s3cret")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(summary["alerts_raised"], 1, "{summary}");
    assert_eq!(summary["alert_deliveries"]["delivered"], 1, "{summary}");
    let log = server.log();
    assert_eq!(log.len(), 3, "500, 500, then 200");
    let keys: Vec<&String> = log.iter().map(|l| &l.headers["idempotency-key"]).collect();
    assert!(
        keys.iter().all(|k| *k == keys[0]),
        "one idempotency key for every attempt: {keys:?}"
    );
    assert!(log[2].headers["x-hark-signature"].starts_with("sha256="));

    let alerts = alerts_json(dir.path());
    assert_eq!(alerts.len(), 1);
    let a = &alerts[0];
    assert_eq!(a["alert"]["kind"], "negative_spike");
    assert!(a["alert"]["observed_count"].as_u64().unwrap() >= 30, "{a}");
    assert!(a["alert"]["p_value"].as_f64().unwrap() < 0.001);
    assert_eq!(a["alert"]["mentions"].as_array().unwrap().len(), 5);
    assert!(
        a["alert"]["search_url"]
            .as_str()
            .unwrap()
            .starts_with("http://hark.example/search?query=acme")
    );
    assert_eq!(a["deliveries"][0]["status"], "delivered");
    assert_eq!(a["deliveries"][0]["attempts"], 3);

    // A second run: the incident is still open, so no new alert and nothing sent again.
    let o = hark(dir.path(), &["run", "--once"], None);
    assert!(o.status.success());
    assert_eq!(server.log().len(), 3);
    assert_eq!(alerts_json(dir.path()).len(), 1);
    let table = stdout(&hark(dir.path(), &["alerts", "list"], None));
    assert!(
        table.contains("acme-negative") && table.contains("delivered (3 attempts"),
        "{table}"
    );
}

#[test]
fn killed_before_delivery_delivers_after_restart_once() {
    let server = TestServer::start();
    let mut hang = Reply::ok("ok", "text/plain");
    hang.delay = std::time::Duration::from_secs(120);
    server.route("/hook", Route::Script(vec![hang]));
    let dir = tempfile::tempdir().unwrap();
    deployment(
        dir.path(),
        &format!(
            "[[channels]]\ntype = \"webhook\"\nurl = \"{}\"\nformat = \"slack\"\n",
            server.url("/hook")
        ),
        "",
    );
    let mut child = std::process::Command::new(hark_bin())
        .current_dir(dir.path())
        .args(["run", "--once"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while server.log().is_empty() {
        assert!(std::time::Instant::now() < deadline, "no delivery attempt");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.kill().unwrap(); // recorded, delivery in flight, never confirmed
    child.wait().unwrap();
    let alerts = alerts_json(dir.path());
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0]["deliveries"][0]["status"], "pending");

    server.route("/hook", Route::Script(vec![Reply::ok("ok", "text/plain")]));
    let o = hark(dir.path(), &["run", "--once"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let log = server.log();
    assert_eq!(
        log.len(),
        2,
        "the unconfirmed attempt and the one after restart"
    );
    assert_eq!(
        log[0].headers["idempotency-key"],
        log[1].headers["idempotency-key"]
    );
    let alerts = alerts_json(dir.path());
    assert_eq!(alerts.len(), 1, "not raised twice");
    assert_eq!(alerts[0]["deliveries"][0]["status"], "delivered");
    let o = hark(dir.path(), &["run", "--once"], None);
    assert!(o.status.success());
    assert_eq!(
        server.log().len(),
        2,
        "never delivered again after a confirmed delivery"
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn smtp_down_then_up_delivers_once() {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    deployment(
        dir.path(),
        "[[channels]]\ntype = \"email\"\nto = [\"pr-team@example.com\"]\n",
        &format!(
            "\n[smtp]\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\nfrom = \"hark <hark@example.com>\"\n"
        ),
    );
    let child = std::process::Command::new(hark_bin())
        .current_dir(dir.path())
        .args(["run", "--once"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Let the first attempts fail, then start the server on that port.
    std::thread::sleep(std::time::Duration::from_secs(2));
    let outdir = tempfile::tempdir().unwrap();
    let mut smtp = std::process::Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_server.py"))
        .args(["--port", &port.to_string(), "--mode", "plain", "--outdir"])
        .arg(outdir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 with aiosmtpd (pip install aiosmtpd)");
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("will retry"),
        "the first attempts failed: {err}"
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        summary["alert_deliveries"]["delivered"], 1,
        "{summary}\n{err}"
    );
    // Exactly one message arrived, with the alert and the mention text escaped.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let emls: Vec<_> = std::fs::read_dir(outdir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .collect();
    assert_eq!(emls.len(), 1);
    let raw = std::fs::read_to_string(emls[0].path()).unwrap();
    assert!(raw.contains("pr-team@example.com"));
    let parsed: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(emls[0].path().with_extension("json")).unwrap(),
    )
    .unwrap();
    let html = parsed["parts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["content_type"] == "text/html")
        .expect("an HTML part")["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        !html.contains("<script>alert(1)</script>"),
        "mention text must be escaped in the HTML part"
    );
    assert!(html.contains("&lt;script&gt;"), "{html}");
    let _ = smtp.kill();
    let _ = smtp.wait();
}

#[test]
fn backtest_finds_the_negative_burst_not_the_praise() {
    let dir = tempfile::tempdir().unwrap();
    deployment(dir.path(), "", "");
    let o = hark(
        dir.path(),
        &["alerts", "backtest", "acme-negative", "--since", "7d"],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let hits: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let new: Vec<&serde_json::Value> = hits.iter().filter(|h| h["update"] == "new").collect();
    assert_eq!(new.len(), 1, "{hits:?}");
    let h = new[0];
    for k in [
        "rule",
        "kind",
        "fired_at",
        "window_start",
        "window_end",
        "observed",
        "expected",
        "mentions",
    ] {
        assert!(!h[k].is_null(), "missing {k}: {h}");
    }
    let fired = chrono::DateTime::parse_from_rfc3339(h["fired_at"].as_str().unwrap()).unwrap();
    let burst_start = chrono::Utc::now() - chrono::Duration::minutes(50);
    assert!(
        fired >= burst_start && fired <= chrono::Utc::now(),
        "fired at {fired}, burst began {burst_start}"
    );
    assert!(!h["mentions"].as_array().unwrap().is_empty());
    assert!(
        hark(dir.path(), &["alerts", "backtest", "nope"], None)
            .status
            .code()
            == Some(2)
    );
}

#[test]
fn keyword_rule_alerts_each_new_mention_once() {
    let server = TestServer::start();
    server.route("/hook", Route::Script(vec![Reply::ok("ok", "text/plain")]));
    let dir = tempfile::tempdir().unwrap();
    deployment(dir.path(), "", "");
    write(
        dir.path(),
        "alerts/acme-outage.toml",
        &format!(
            "query = \"acme\"\nkind = \"keyword\"\nmatch = 'outage OR recall'\ncooldown = \"0s\"\n\n[[channels]]\ntype = \"webhook\"\nurl = \"{}\"\nformat = \"discord\"\n",
            server.url("/hook")
        ),
    );
    let o = hark(dir.path(), &["run", "--once"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let log = server.log();
    assert_eq!(log.len(), 1);
    let alerts = alerts_json(dir.path());
    let kw: Vec<_> = alerts
        .iter()
        .filter(|a| a["alert"]["kind"] == "keyword")
        .collect();
    assert_eq!(kw.len(), 1);
    assert_eq!(
        kw[0]["alert"]["observed_count"].as_u64(),
        Some(40),
        "every outage mention of the burst"
    );
    // Nothing new: nothing sent.
    let o = hark(dir.path(), &["run", "--once"], None);
    assert!(o.status.success());
    assert_eq!(server.log().len(), 1);
    // One new matching mention: one new alert with just it.
    let now = chrono::Utc::now().to_rfc3339();
    std::fs::write(dir.path().join("new.jsonl"), format!("{{\"id\":\"new:1\",\"text\":\"acme product recall announced\",\"published_at\":\"{now}\",\"source\":\"x\"}}\n")).unwrap();
    assert!(
        hark(dir.path(), &["import", "new.jsonl"], None)
            .status
            .success()
    );
    let o = hark(dir.path(), &["run", "--once"], None);
    assert!(o.status.success());
    assert_eq!(server.log().len(), 2);
    let kw: Vec<_> = alerts_json(dir.path())
        .into_iter()
        .filter(|a| a["alert"]["kind"] == "keyword")
        .collect();
    assert_eq!(kw.len(), 2);
    let last = &kw
        .iter()
        .find(|a| a["alert"]["mentions"][0]["id"] == "new:1")
        .expect("the new mention's alert")["alert"];
    assert_eq!(last["observed_count"].as_u64(), Some(1));
}

#[test]
fn alerts_test_sends_a_marked_test_alert_on_every_channel() {
    let server = TestServer::start();
    server.route("/a", Route::Script(vec![Reply::ok("ok", "text/plain")]));
    server.route("/b", Route::Script(vec![Reply::status(404)]));
    let dir = tempfile::tempdir().unwrap();
    deployment(
        dir.path(),
        &format!(
            "[[channels]]\ntype = \"webhook\"\nurl = \"{}\"\nformat = \"json\"\n\n[[channels]]\ntype = \"webhook\"\nurl = \"{}\"\nformat = \"teams\"\n",
            server.url("/a"),
            server.url("/b")
        ),
        "",
    );
    let o = hark(dir.path(), &["alerts", "test", "acme-negative"], None);
    assert_eq!(o.status.code(), Some(1), "one channel failed");
    let out = stdout(&o);
    assert!(
        out.contains("webhook json") && out.contains(": delivered"),
        "{out}"
    );
    assert!(
        out.contains("webhook teams") && out.contains("FAILED"),
        "{out}"
    );
    let log = server.log();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].headers["x-hark-event"], "test");
    // Test alerts are not recorded as raised alerts.
    assert!(alerts_json(dir.path()).is_empty());
}

#[test]
fn a_new_query_does_not_alert_on_its_first_busy_hour() {
    let server = TestServer::start();
    server.route("/hook", Route::Script(vec![Reply::ok("ok", "text/plain")]));
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "hark.toml", "[storage]\ndata_dir = \"data\"\n");
    write(dir.path(), "queries/acme.toml", "match = 'acme'\n");
    write(
        dir.path(),
        "alerts/neg.toml",
        &format!(
            "query = \"acme\"\nkind = \"negative_spike\"\n[[channels]]\ntype = \"webhook\"\nurl = \"{}\"\n",
            server.url("/hook")
        ),
    );
    // Only the last hour exists: collection has just begun.
    let now = chrono::Utc::now();
    let lines: String = (0..30)
        .map(|i| format!("{{\"id\":\"n:{i}\",\"text\":\"acme is awful\",\"published_at\":\"{}\",\"sentiment\":\"negative\"}}\n", (now - chrono::Duration::minutes(i)).to_rfc3339()))
        .collect();
    std::fs::write(dir.path().join("new.jsonl"), lines).unwrap();
    assert!(
        hark(dir.path(), &["import", "new.jsonl"], None)
            .status
            .success()
    );
    let o = hark(dir.path(), &["run", "--once"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let summary: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(
        summary["alerts_raised"], 0,
        "not enough history to judge: {summary}"
    );
    assert!(server.log().is_empty());
}

#[test]
fn viral_mention_fires_for_fast_growing_engagement_negative_first() {
    let server = TestServer::start();
    server.route("/hook", Route::Script(vec![Reply::ok("ok", "text/plain")]));
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "hark.toml", "[storage]\ndata_dir = \"data\"\n");
    write(dir.path(), "queries/acme.toml", "match = 'acme'\n");
    write(
        dir.path(),
        "alerts/viral.toml",
        &format!(
            "query = \"acme\"\nkind = \"viral_mention\"\nthreshold = 20\n[[channels]]\ntype = \"webhook\"\nurl = \"{}\"\n",
            server.url("/hook")
        ),
    );
    let t = (chrono::Utc::now() - chrono::Duration::minutes(10)).to_rfc3339();
    let m = |id: &str, label: &str, likes: u64| {
        format!(
            "{{\"id\":\"{id}\",\"text\":\"acme thing\",\"published_at\":\"{t}\",\"sentiment\":\"{label}\",\"engagement\":{{\"likes\":{likes},\"shares\":0,\"comments\":0,\"views\":null,\"followers\":10}}}}\n"
        )
    };
    // 1000 likes in 10 minutes = 100/min: viral. 50 in 10 minutes = 5/min: not.
    let lines = [
        m("v:pos", "positive", 1000),
        m("v:neg", "negative", 600),
        m("v:slow", "negative", 50),
    ]
    .concat();
    std::fs::write(dir.path().join("v.jsonl"), lines).unwrap();
    assert!(
        hark(dir.path(), &["import", "v.jsonl"], None)
            .status
            .success()
    );
    let o = hark(dir.path(), &["run", "--once"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let alerts = alerts_json(dir.path());
    assert_eq!(alerts.len(), 1);
    let ids: Vec<&str> = alerts[0]["alert"]["mentions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec!["v:neg", "v:pos"],
        "negative ones first; the slow one is not viral"
    );
    assert_eq!(server.log().len(), 1);
}
