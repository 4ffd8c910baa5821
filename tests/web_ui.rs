//! Browser tests of the web UI: headless Chromium driven through ChromeDriver (the W3C
//! WebDriver protocol, spoken with reqwest) against `hark serve` on a real index. The test
//! types a query, applies a filter, checks the results, opens the dashboard, checks that
//! hostile mention text is inert, and saves screenshots to `target/test-artifacts/`.
//!
//! Needs `chromium` and `chromium-driver` (Debian packages; `.ci/run` installs them). Where
//! they are missing the test says so and passes, except under CI (`CI` set), where it fails.

mod common;

use common::*;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

struct Kill(Child);
impl Drop for Kill {
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

fn deployment() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    // White-label settings: a name that needs escaping, an accent colour, an SVG logo.
    write(
        dir.path(),
        "hark.toml",
        "[storage]\ndata_dir = \"data\"\n\n[server]\nbrand_name = \"Agency & <Co>\"\naccent_color = \"#ff0066\"\nlogo = \"logo.svg\"\n",
    );
    write(
        dir.path(),
        "logo.svg",
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"40\" height=\"20\"><rect width=\"40\" height=\"20\" fill=\"#ff0066\"/></svg>",
    );
    write(dir.path(), "queries/acme.toml", "match = 'acme'\n");
    write(dir.path(), "queries/globex.toml", "match = 'globex'\n");
    let now = chrono::Utc::now();
    let mut lines = String::new();
    let rows = [
        ("acme support is terrible and slow", "negative", -0.7),
        ("acme shipped my order, great service", "positive", 0.8),
        ("globex prices went up again", "negative", -0.5),
        (
            "acme <script>alert(1)</script> <img src=x onerror=alert(1)> *bold* <!channel>",
            "negative",
            -0.4,
        ),
    ];
    for i in 0..40 {
        let (text, label, score) = rows[i % rows.len()];
        let at = now - chrono::Duration::hours(3 * i as i64 + 1);
        lines.push_str(
            &json!({
                "id": format!("ui:{i}"),
                "source": "news",
                "source_kind": "feed",
                "url": if i % 4 == 3 { "javascript:alert(1)".to_string() } else { format!("https://example.com/{i}") },
                "author": format!("author{}", i % 3),
                "title": if i % 4 == 3 { Some("<b>title</b>") } else { None },
                "text": text,
                "published_at": at.to_rfc3339(),
                "lang": "en",
                "sentiment": {"label": label, "score": score, "model": "lexicon"},
                "reach": 10 * (i + 1),
            })
            .to_string(),
        );
        lines.push('\n');
    }
    // Three mentions in a language without a classifier.
    for i in 0..3 {
        lines.push_str(
            &json!({
                "id": format!("ui:nl{i}"),
                "source": "news",
                "text": "acme heeft de levering weer niet op tijd gedaan",
                "published_at": (now - chrono::Duration::hours(2 + i)).to_rfc3339(),
                "lang": "nl",
                "sentiment": {"label": "unscored", "score": 0.0, "model": "none"},
            })
            .to_string(),
        );
        lines.push('\n');
    }
    // A burst of hostile complaints about globex in the last half hour, and a rule that
    // alerts on it: the dashboard shows what the alert is about.
    for i in 0..8 {
        lines.push_str(
            &json!({
                "id": format!("ui:burst{i}"),
                "source": "forum",
                "author": format!("<b>poster{}</b>", i % 2),
                "text": "globex <img src=x onerror=window.__xss=1> data breach, passwords leaked",
                "published_at": (now - chrono::Duration::minutes(3 + 4 * i)).to_rfc3339(),
                "lang": "en",
                "sentiment": {"label": "negative", "score": -0.8, "model": "lexicon"},
            })
            .to_string(),
        );
        lines.push('\n');
    }
    // An app-store review (a star rating), about no query.
    lines.push_str(
        &json!({
            "id": "appstore:ui1", "source": "ios", "source_kind": "appstore",
            "text": "the zzblender app crashes on start",
            "published_at": (now - chrono::Duration::hours(5)).to_rfc3339(),
            "lang": "en", "engagement": {"rating": 2},
            "sentiment": {"label": "negative", "score": -0.6, "model": "lexicon+rating"},
        })
        .to_string(),
    );
    lines.push('\n');
    write(
        dir.path(),
        "alerts/globex-negative.toml",
        "query = \"globex\"\nkind = \"negative_spike\"\n",
    );
    write(dir.path(), "mentions.jsonl", &lines);
    let o = hark(dir.path(), &["import", "mentions.jsonl"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = hark(dir.path(), &["run", "--once"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("\"alerts_raised\":1"), "{}", stdout(&o));
    dir
}

/// A minimal WebDriver client.
struct Driver {
    rt: tokio::runtime::Runtime,
    http: reqwest::Client,
    base: String,
}

impl Driver {
    fn call(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        self.rt.block_on(async {
            let mut req = self.http.request(method, format!("{}{path}", self.base));
            if !body.is_null() {
                req = req
                    .header("content-type", "application/json")
                    .body(serde_json::to_vec(&body).unwrap());
            }
            let r = req.send().await.unwrap();
            let v: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
            assert!(v["value"].get("error").is_none(), "{path}: {v}");
            v["value"].clone()
        })
    }
    fn post(&self, path: &str, body: Value) -> Value {
        self.call(reqwest::Method::POST, path, body)
    }
    fn script(&self, s: &str) -> Value {
        self.post("/execute/sync", json!({"script": s, "args": []}))
    }
    fn find(&self, css: &str) -> String {
        self.post("/element", json!({"using": "css selector", "value": css}))[ELEMENT]
            .as_str()
            .unwrap()
            .to_string()
    }
    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if self.script("return document.body && document.body.dataset.ready") == "1" {
                return;
            }
            assert!(Instant::now() < deadline, "page never became ready");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    fn goto(&self, url: &str) {
        self.post("/url", json!({"url": url}));
        self.wait_ready();
    }
    fn screenshot(&self, name: &str) -> PathBuf {
        use base64::Engine;
        let png = self.call(reqwest::Method::GET, "/screenshot", Value::Null);
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap())
            .unwrap();
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts");
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, &bytes).unwrap();
        p
    }
    fn result_ids(&self) -> Vec<String> {
        self.script(
            "return [...document.querySelectorAll('#results .mention')].map(e => e.dataset.id)",
        )
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
    }
}

fn tools() -> Option<(PathBuf, PathBuf)> {
    let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())?;
    let driver = PathBuf::from("/usr/bin/chromedriver");
    driver.exists().then_some((chromium, driver))
}

#[test]
fn search_and_dashboard_in_headless_chromium() {
    let Some((chromium, chromedriver)) = tools() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium and chromedriver are required under CI (.ci/run installs them)"
        );
        eprintln!(
            "SKIPPED: install the Debian packages chromium and chromium-driver to run the browser test"
        );
        return;
    };
    let dir = deployment();
    let server = hark_serve(dir.path(), &[], "127.0.0.1:0");
    let base = server.base.clone();
    let port = free_port();
    let _driver = Kill(
        Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let http = reqwest::Client::new();
    let root = format!("http://127.0.0.1:{port}");
    // Wait for the driver, then open a session.
    let deadline = Instant::now() + Duration::from_secs(20);
    while rt
        .block_on(http.get(format!("{root}/status")).send())
        .is_err()
    {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
        "binary": chromium, "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1000"]}}}});
    let session: Value = rt.block_on(async {
        let r = http
            .post(format!("{root}/session"))
            .header("content-type", "application/json")
            .body(serde_json::to_vec(&caps).unwrap())
            .send()
            .await
            .unwrap();
        serde_json::from_slice(&r.bytes().await.unwrap()).unwrap()
    });
    let sid = session["value"]["sessionId"]
        .as_str()
        .unwrap_or_else(|| panic!("{session}"))
        .to_string();
    let d = Driver {
        rt,
        http,
        base: format!("{root}/session/{sid}"),
    };

    // Search: type a term, pick a filter, submit.
    d.goto(&format!("{base}/search"));
    // White-label: the agency's name (as text), logo and colour.
    assert_eq!(
        d.script("return document.querySelector('.topbar .brand').textContent"),
        "Agency & <Co>"
    );
    assert_eq!(d.script("return document.title"), "Search – Agency & <Co>");
    assert_eq!(
        d.script(
            "return getComputedStyle(document.querySelector('#search-submit')).backgroundColor"
        ),
        "rgb(255, 0, 102)"
    );
    assert_eq!(
        d.script("return document.querySelector('.topbar .brand-logo').naturalWidth"),
        40
    );
    let shot = d.screenshot("ui-branding.png");
    assert!(std::fs::metadata(&shot).unwrap().len() > 5_000);
    let q = d.find("#q");
    d.post(&format!("/element/{q}/clear"), json!({}));
    d.post(&format!("/element/{q}/value"), json!({"text": "support"}));
    let opt = d.find("#filter-sentiment option[value=negative]");
    d.post(&format!("/element/{opt}/click"), json!({}));
    d.script(
        "document.body.dataset.ready = '0'; document.querySelector('#search-form').requestSubmit()",
    );
    d.wait_ready();
    let ids = d.result_ids();
    let expected: Vec<String> = (0..40)
        .filter(|i| i % 4 == 0)
        .map(|i| format!("ui:{i}"))
        .collect();
    assert_eq!(ids, expected, "newest first, only 'support' mentions");
    let url = d
        .script("return location.search")
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        url.contains("q=support") && url.contains("sentiment=negative"),
        "{url}"
    );
    // Matches are highlighted.
    let marks = d.script("return [...document.querySelectorAll('#results mark')].map(m => m.textContent.toLowerCase())");
    assert!(
        marks.as_array().unwrap().iter().any(|m| m == "support"),
        "{marks}"
    );
    d.screenshot("ui-search.png");

    // Hostile text renders as text: no injected elements, no javascript: links.
    d.goto(&format!(
        "{base}/search?q=acme&sentiment=negative&sort=reach"
    ));
    let injected = d.script(
        "return document.querySelectorAll('#results img, #results script, #results b, #results [onerror], #results a[href^=\"javascript\"]').length",
    );
    assert_eq!(injected, 0);
    let text = d.script("return document.querySelector('#results').textContent");
    assert!(
        text.as_str().unwrap().contains("<script>alert(1)</script>"),
        "{text}"
    );
    assert!(text.as_str().unwrap().contains("<b>title</b>"), "{text}");
    assert_eq!(d.script("return window.__xss === undefined"), true);

    // A review shows its stars.
    d.goto(&format!("{base}/search?q=zzblender"));
    assert_eq!(d.result_ids(), ["appstore:ui1"]);
    assert_eq!(
        d.script("return document.querySelector('#results .meta .rating').textContent"),
        "★★☆☆☆"
    );
    assert_eq!(
        d.script(
            "return document.querySelector('#results .meta .rating').getAttribute('aria-label')"
        ),
        "2 of 5 stars"
    );

    // Triage in the browser: mark handled, correct the sentiment, tag, then "not about us"
    // through the bulk bar; every change is saved and the results and counts follow.
    let act = |js: &str| {
        d.script(&format!("document.body.dataset.ready = '0'; {js}"));
        d.wait_ready();
    };
    act(
        "const s = document.querySelector('#results .set-status'); s.value = 'handled'; s.dispatchEvent(new Event('change'))",
    );
    assert_eq!(
        d.script("return document.querySelector('#results .set-status').value"),
        "handled"
    );
    let title = d.script("return document.querySelector('#results .triage').getAttribute('title')");
    assert!(title.as_str().unwrap().contains("local"), "{title}");
    act(
        "const s = document.querySelector('#results .set-sentiment'); s.value = 'positive'; s.dispatchEvent(new Event('change'))",
    );
    let badge =
        d.script("return document.querySelector('#results .mention-head .badge').textContent");
    assert!(badge.as_str().unwrap().starts_with("positive"), "{badge}");
    act(
        "const t = document.querySelector('#results .add-tag'); t.value = 'Crash'; t.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter'}))",
    );
    assert_eq!(
        d.script("return document.querySelector('#results .triage .tag').textContent"),
        "#crash ×"
    );
    d.goto(&format!(
        "{base}/search?q=zzblender&status=handled&tag=crash&sentiment=positive"
    ));
    assert_eq!(d.result_ids(), ["appstore:ui1"]);
    assert_eq!(
        d.script("return document.querySelector('#filter-status').value"),
        "handled"
    );
    d.goto(&format!("{base}/search?q=zzblender&sentiment=negative"));
    assert!(
        d.result_ids().is_empty(),
        "the correction changed the counts"
    );
    d.goto(&format!("{base}/search?q=zzblender"));
    d.script("const c = document.querySelector('#results input.select'); c.checked = true; c.dispatchEvent(new Event('change'))");
    assert_eq!(
        d.script("return document.querySelector('#bulk').hidden"),
        false
    );
    assert_eq!(
        d.script("return document.querySelector('#bulk-count').textContent"),
        "1 selected"
    );
    act("document.querySelector('#bulk-irrelevant').click()");
    assert!(
        d.result_ids().is_empty(),
        "irrelevant mentions leave the results"
    );
    assert_eq!(
        d.script("return document.querySelector('#total').dataset.total"),
        "0"
    );
    d.goto(&format!("{base}/search?q=zzblender&irrelevant=true"));
    assert_eq!(d.result_ids(), ["appstore:ui1"]);
    d.screenshot("ui-triage.png");

    // Saved searches and "alert me": the current search saved under a name, then made an
    // alert rule, without leaving the page.
    let wait_for = |js: &str| {
        let deadline = Instant::now() + Duration::from_secs(10);
        while d.script(&format!("return !!({js})")) != true {
            assert!(Instant::now() < deadline, "never true: {js}");
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    d.goto(&format!("{base}/search?q=breach&query=globex"));
    d.script("document.querySelector('#save-name').value = 'Breach watch'; document.querySelector('#save-search').click()");
    wait_for("document.querySelector('#saved-msg').textContent.startsWith('Saved as')");
    wait_for("document.querySelector('#saved-select').value === 'Breach watch'");
    d.script("document.querySelector('#alert-me').click()");
    wait_for("document.querySelector('#saved-msg').textContent.includes('saved-breach-watch')");
    wait_for(
        "[...document.querySelectorAll('#saved-select option')].some(o => o.textContent === 'Breach watch (alert)')",
    );

    // Dashboard: charts drawn, share of voice for both queries, latest negatives listed.
    d.goto(&format!("{base}/dashboard?query=acme"));
    // The team's activity: the triage and the saved search above.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let acts = d.script("return document.querySelector('#activity').textContent");
        let t = acts.as_str().unwrap_or("");
        if t.contains("triage") && t.contains("alert from search") {
            break;
        }
        assert!(Instant::now() < deadline, "activity: {acts}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let bars = d.script("return document.querySelectorAll('#chart-volume rect.bar').length");
    assert!(bars.as_u64().unwrap() > 0, "{bars}");
    let sov = d
        .script("return [...document.querySelectorAll('#sov .sov-row')].map(r => r.dataset.query)");
    assert_eq!(sov, json!(["acme", "globex"]));
    let neg = d.script("return document.querySelectorAll('#latest-negative .mention').length");
    assert_eq!(neg, 10);
    // Unscored mentions are shown apart, not as neutral.
    let totals = d.script(
        "return Object.fromEntries([...document.querySelectorAll('#dash-totals .total-item')].map(i => [i.querySelector('.k').textContent, i.querySelector('.v').textContent]))",
    );
    assert_eq!(totals["Not scored"], "3", "{totals}");
    assert_eq!(totals["Neutral"], "0", "{totals}");
    let shot = d.screenshot("ui-dashboard.png");
    assert!(std::fs::metadata(&shot).unwrap().len() > 10_000);

    // The alert list says what the globex spike is about, as text.
    d.goto(&format!("{base}/dashboard?query=globex"));
    let about = d.script(
        "return [...document.querySelectorAll('#alerts .drivers .driver')].map(e => e.textContent)",
    );
    let about: Vec<&str> = about
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    let alerts_text = d.script("return document.querySelector('#alerts').textContent");
    assert!(!about.is_empty(), "alerts panel: {alerts_text}");
    assert_eq!(about[0], "data breach", "{about:?}");
    assert!(about.contains(&"passwords leaked"), "{about:?}");
    assert!(about.iter().all(|t| !t.contains("globex")), "{about:?}");
    let by = d.script("return document.querySelector('#alerts .driven-by').textContent");
    assert!(by.as_str().unwrap().contains("source forum"), "{by}");
    let injected = d.script(
        "return document.querySelectorAll('#alerts img, #alerts script, #alerts b, #alerts [onerror]').length",
    );
    assert_eq!(injected, 0);
    assert_eq!(d.script("return window.__xss === undefined"), true);

    d.call(reqwest::Method::DELETE, "", Value::Null);
}
