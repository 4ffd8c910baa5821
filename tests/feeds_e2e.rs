//! End to end: a local HTTP server serves the real feeds of fixtures/feeds (and the malformed ones;
//! the copies in tests/fixtures plus ../shared/fixtures when present); `hark run --once` collects
//! them; `hark search` must return exactly the entries that match, computed independently here; a
//! second run sends conditional requests and adds nothing; broken feeds are reported and do not
//! stop the others.

mod common;

use common::*;
use regex::Regex;
use std::collections::BTreeSet;
use std::path::Path;
use unicode_normalization::UnicodeNormalization;

const GOOD: &[&str] = &[
    "bbc_in-our-time.rss",
    "daringfireball.atom",
    "debian-news.rdf",
    "discourse_criticalfallibilism_posts.rss",
    "forum-cn_kc0011_gb2312.rss",
    "golem-de_rdf_iso-8859-1.rdf",
    "google-alerts_slack.atom",
    "google-news_fr-be.rss",
    "hackernews_rss.xml",
    "liberal-gr_iso-8859-7.rss",
    "lobsters_t-ruby.rss",
    "news18-hindi.rss",
    "podcast_welcome-to-night-vale.rss",
    "reddit_search_site-kevincox-ca.rss",
    "schneier-on-security.rss",
    "slashdot_iso-8859-1.xml",
    "spiegel-update.rss",
    "youtube_channel_kotlin.atom",
];

/// The feeds of [`GOOD`] available here, with their bytes: all of them when `../shared` is
/// present; without it, the ones copied into the repository (the others are reported as
/// skipped, and under `CI=true` their absence fails the test).
fn good_feeds() -> Vec<(&'static str, Vec<u8>)> {
    GOOD.iter()
        .filter_map(|f| Some((*f, fixture_bytes(&format!("feeds/{f}"))?)))
        .collect()
}

/// (query name, match expression, independent check on folded text)
struct Q {
    name: &'static str,
    expr: &'static str,
    check: fn(&str) -> bool,
}

fn word(re: &str) -> Regex {
    Regex::new(&format!(r"(?u)(^|[^\w]){re}($|[^\w])")).unwrap()
}

const QUERIES: &[Q] = &[
    Q {
        name: "apple",
        expr: "apple",
        check: |t| word("apple").is_match(t),
    },
    Q {
        name: "security",
        expr: "security AND NOT debian",
        check: |t| word("security").is_match(t) && !word("debian").is_match(t),
    },
    Q {
        name: "ruby",
        expr: "ruby OR rails",
        check: |t| word("ruby").is_match(t) || word("rails").is_match(t),
    },
    Q {
        name: "greek",
        expr: "συλλογη",
        check: |t| word("συλλογη").is_match(t),
    },
    Q {
        name: "glasfaser",
        expr: "glasfaserforderung",
        check: |t| word("glasfaserforderung").is_match(t),
    },
    Q {
        name: "coins",
        expr: "\"纪念\"",
        check: |t| t.contains("纪念"),
    },
];

/// Lower-case, strip diacritics: an implementation independent of hark's tokenizer.
fn fold(s: &str) -> String {
    s.nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .collect::<String>()
        .to_lowercase()
}

fn strip_tags(s: &str) -> String {
    let tags = Regex::new(r"(?s)<[^>]*>").unwrap();
    let t = tags.replace_all(s, " ");
    t.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
}

/// The expected (query → set of entry keys) computed from the fixtures with feed-rs and
/// regexes, without any of hark's matching code.
fn expected(feeds: &[(&str, Vec<u8>)]) -> Vec<(String, BTreeSet<String>)> {
    let mut out: Vec<(String, BTreeSet<String>)> = QUERIES
        .iter()
        .map(|q| (q.name.to_string(), BTreeSet::new()))
        .collect();
    for (f, bytes) in feeds {
        let feed = feed_rs::parser::parse(bytes.as_slice()).unwrap_or_else(|e| panic!("{f}: {e}"));
        for e in &feed.entries {
            let title = e
                .title
                .as_ref()
                .map(|t| t.content.clone())
                .unwrap_or_default();
            let body = e
                .content
                .as_ref()
                .and_then(|c| c.body.clone())
                .filter(|b| !b.trim().is_empty())
                .or_else(|| e.summary.as_ref().map(|s| s.content.clone()))
                .or_else(|| {
                    e.media
                        .iter()
                        .find_map(|m| m.description.as_ref().map(|d| d.content.clone()))
                })
                .unwrap_or_default();
            let text = fold(&format!("{} \n {}", strip_tags(&title), strip_tags(&body)));
            let key = title.trim().to_string();
            for (i, q) in QUERIES.iter().enumerate() {
                if (q.check)(&text) {
                    out[i].1.insert(key.clone());
                }
            }
        }
    }
    out
}

fn setup(dir: &Path, server: &TestServer, feeds: &[(&str, Vec<u8>)], extra_sources: &str) {
    for (f, body) in feeds {
        server.file(&format!("/feeds/{f}"), body.clone(), "application/xml");
    }
    let malformed = fixture_files("feeds-malformed");
    for p in &malformed {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        server.file(
            &format!("/bad/{name}"),
            std::fs::read(p).unwrap(),
            "application/xml",
        );
    }
    let urls: Vec<String> = feeds
        .iter()
        .map(|(f, _)| format!("\"/feeds/{f}\""))
        .collect();
    let bad: Vec<String> = malformed
        .iter()
        .map(|p| format!("\"/bad/{}\"", p.file_name().unwrap().to_string_lossy()))
        .collect();
    write(
        dir,
        "hark.toml",
        &format!(
            "[http]\nretries = 1\nretry_base = \"50ms\"\n\n[[sources]]\nname = \"fixtures\"\nkind = \"feed\"\nbase_url = \"{base}\"\nurls = [{urls}]\n\n[[sources]]\nname = \"malformed\"\nkind = \"feed\"\nbase_url = \"{base}\"\nurls = [{bad}]\n{extra_sources}",
            base = server.url(""),
            urls = urls.join(", "),
            bad = bad.join(", "),
        ),
    );
    for q in QUERIES {
        write(
            dir,
            &format!("queries/{}.toml", q.name),
            &format!("match = '{}'\n", q.expr),
        );
    }
}

fn search_titles(dir: &Path, query: &str) -> BTreeSet<String> {
    search_titles_from(dir, query, "fixtures")
}

fn search_titles_from(dir: &Path, query: &str, source: &str) -> BTreeSet<String> {
    let o = hark(
        dir,
        &[
            "search", "--query", query, "--source", source, "--limit", "10000", "--format", "json",
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let mentions = v["mentions"].as_array().unwrap();
    assert_eq!(v["total"].as_u64().unwrap() as usize, mentions.len());
    mentions
        .iter()
        .map(|m| m["title"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn feeds_end_to_end() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let feeds = good_feeds();
    setup(dir.path(), &server, &feeds, "");
    let o = hark(dir.path(), &["run", "--once"], None);
    let err = stderr(&o);
    assert!(o.status.success(), "run failed: {err}");
    let summary: serde_json::Value =
        serde_json::from_str(&stdout(&o)).expect("summary JSON on stdout");
    assert!(summary["indexed"].as_u64().unwrap() > 0, "{summary}");

    // Exactly the matching entries, for every query.
    for (name, want) in expected(&feeds) {
        assert!(
            !want.is_empty(),
            "query {name} should match something in the fixtures"
        );
        let got = search_titles(dir.path(), &name);
        let got_folded: BTreeSet<String> = got.iter().map(|t| fold(t.trim())).collect();
        let want_folded: BTreeSet<String> = want
            .iter()
            .map(|t| {
                fold(
                    &strip_tags(t)
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" "),
                )
            })
            .collect();
        let got_norm: BTreeSet<String> = got_folded
            .iter()
            .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        assert_eq!(got_norm, want_folded, "query {name}");
    }

    // Malformed feeds: the irreparable ones are reported with their URL; repaired ones are
    // indexed; nothing stopped the good feeds (checked above).
    assert!(
        err.contains("reuters_truncated_server-error-comment.rss")
            || err.contains("synthetic_rss_unclosed"),
        "{err}"
    );
    let malformed_items: u64 = summary["sources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["source"] == "malformed")
        .map(|s| s["items"].as_u64().unwrap())
        .sum();
    assert!(
        malformed_items > 0,
        "repairable malformed feeds should yield items: {summary}"
    );

    // Second pass: every feed is asked conditionally, nothing new is stored.
    server.clear_log();
    let before = search_titles(dir.path(), "apple").len();
    let o = hark(dir.path(), &["run", "--once"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let summary2: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(summary2["indexed"].as_u64(), Some(0), "{summary2}");
    let log = server.log();
    let good: Vec<_> = log
        .iter()
        .filter(|l| l.path.starts_with("/feeds/"))
        .collect();
    assert_eq!(good.len(), feeds.len());
    for l in &good {
        assert!(
            l.headers.contains_key("if-none-match"),
            "no validators sent for {}",
            l.path
        );
        assert!(l.headers.contains_key("if-modified-since"), "{}", l.path);
        assert_eq!(l.status, 304);
    }
    assert_eq!(search_titles(dir.path(), "apple").len(), before);
    // The User-Agent is descriptive.
    assert!(good[0].headers["user-agent"].starts_with("hark/"));
}

#[test]
fn rate_limits_errors_and_limits() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let feed = |title: &str| {
        format!(
            "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title><item><title>{title}</title><guid>{title}</guid><description>acme news</description></item></channel></rss>"
        )
    };
    // 429 with Retry-After, then success.
    server.route(
        "/limited.rss",
        Route::Script(vec![
            Reply::status(429).header("retry-after", "1"),
            Reply::ok(feed("after the wait"), "application/rss+xml"),
        ]),
    );
    // 500, 500, then success.
    server.route(
        "/flaky.rss",
        Route::Script(vec![
            Reply::status(500),
            Reply::status(503),
            Reply::ok(feed("third time lucky"), "application/rss+xml"),
        ]),
    );
    // Always 404.
    server.route("/missing.rss", Route::Script(vec![Reply::status(404)]));
    // 5 MB feed; the limit is 1 MB.
    let mut big =
        String::from("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>big</title>");
    while big.len() < 5 * 1024 * 1024 {
        big.push_str("<item><title>acme big</title><description>padding padding padding padding padding padding</description></item>");
    }
    big.push_str("</channel></rss>");
    server.route(
        "/big.rss",
        Route::Script(vec![Reply::ok(big, "application/rss+xml")]),
    );
    // Invalid UTF-8 in a feed that claims UTF-8.
    let mut bytes = b"<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel><title>t</title><item><title>acme caf".to_vec();
    bytes.extend_from_slice(&[0xE9, 0xFF]);
    bytes.extend_from_slice(b" bad bytes</title><guid>u1</guid></item></channel></rss>");
    server.route(
        "/badutf8.rss",
        Route::Script(vec![Reply::ok(bytes, "application/rss+xml")]),
    );
    write(
        dir.path(),
        "hark.toml",
        &format!(
            "[http]\nmax_body = \"1MB\"\nretries = 3\nretry_base = \"20ms\"\n\n[[sources]]\nname = \"a\"\nkind = \"feed\"\nbase_url = \"{b}\"\nurls = [\"/limited.rss\", \"/flaky.rss\", \"/missing.rss\"]\n\n[[sources]]\nname = \"b\"\nkind = \"feed\"\nbase_url = \"{b}\"\nurls = [\"/big.rss\", \"/badutf8.rss\"]\n",
            b = server.url("")
        ),
    );
    write(
        dir.path(),
        "queries/acme.toml",
        "match = 'acme OR lucky OR wait'\n",
    );
    let o = hark(dir.path(), &["run", "--once"], None);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    let titles: BTreeSet<String> = search_titles_from(dir.path(), "acme", "feed");
    assert!(titles.contains("after the wait"), "{titles:?}\n{err}");
    assert!(titles.contains("third time lucky"), "{titles:?}\n{err}");
    assert!(
        titles
            .iter()
            .any(|t| t.starts_with("acme caf") && t.ends_with("bad bytes")),
        "{titles:?}"
    );
    assert!(!titles.contains("acme big"));
    assert!(err.contains("larger than the 1048576-byte limit"), "{err}");
    assert!(err.contains("HTTP 404"), "{err}");
    // The 429's Retry-After was honoured.
    let log = server.log();
    let limited: Vec<_> = log.iter().filter(|l| l.path == "/limited.rss").collect();
    assert_eq!(limited.len(), 2);
    let waited = limited[1].at - limited[0].at;
    assert!(
        waited >= std::time::Duration::from_millis(950),
        "waited only {waited:?}"
    );
    assert_eq!(log.iter().filter(|l| l.path == "/flaky.rss").count(), 3);
    assert_eq!(
        log.iter().filter(|l| l.path == "/missing.rss").count(),
        1,
        "a 404 is not retried"
    );
}

#[test]
fn run_until_sigterm_then_drain() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let Some(body) = fixture_bytes("feeds/lobsters_t-ruby.rss") else {
        return;
    };
    server.file("/ruby.rss", body, "application/rss+xml");
    write(
        dir.path(),
        "hark.toml",
        &format!(
            "[[sources]]\nname = \"lobsters\"\nkind = \"feed\"\ninterval = \"1s\"\nbase_url = \"{}\"\nurls = [\"/ruby.rss\"]\n",
            server.url("")
        ),
    );
    write(dir.path(), "queries/ruby.toml", "match = 'ruby'\n");
    let child = std::process::Command::new(hark_bin())
        .current_dir(dir.path())
        .args(["run"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for at least two polls (the second is conditional).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while server.log().len() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "hark run did not poll twice"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("shutting down"), "{err}");
    let log = server.log();
    assert!(log[1].headers.contains_key("if-none-match"));
    assert!(!search_titles_from(dir.path(), "ruby", "lobsters").is_empty());
}

/// `hark run` killed with SIGKILL while one feed is still being fetched: what was committed
/// stays, its validators were saved with it, and the next run collects the rest: every item
/// present exactly once.
#[test]
fn killed_run_loses_nothing_and_stores_nothing_twice() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let feed = |prefix: &str| {
        let mut s =
            String::from("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title>");
        for i in 0..20 {
            s.push_str(&format!("<item><title>{prefix} acme item {i}</title><guid>{prefix}-{i}</guid><description>acme news {i}</description></item>"));
        }
        s.push_str("</channel></rss>");
        s
    };
    server.file(
        "/fast.rss",
        feed("fast").into_bytes(),
        "application/rss+xml",
    );
    let mut slow = Reply::ok(feed("slow"), "application/rss+xml");
    slow.delay = std::time::Duration::from_secs(60);
    server.route("/slow.rss", Route::Script(vec![slow]));
    write(
        dir.path(),
        "hark.toml",
        &format!(
            "[http]\ntimeout = \"120s\"\n\n[[sources]]\nname = \"fast\"\nkind = \"feed\"\nbase_url = \"{b}\"\nurls = [\"/fast.rss\"]\n\n[[sources]]\nname = \"slow\"\nkind = \"feed\"\nbase_url = \"{b}\"\nurls = [\"/slow.rss\"]\n",
            b = server.url("")
        ),
    );
    write(dir.path(), "queries/acme.toml", "match = 'acme'\n");
    let mut child = std::process::Command::new(hark_bin())
        .current_dir(dir.path())
        .args(["run", "--once"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let count = |source: &str| search_titles_from(dir.path(), "acme", source).len();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !(dir.path().join("data/index/meta.json").exists() && count("fast") == 20) {
        assert!(
            std::time::Instant::now() < deadline,
            "fast feed was not committed"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    child.kill().unwrap(); // SIGKILL, mid-fetch of the slow feed
    child.wait().unwrap();
    assert_eq!(count("slow"), 0);

    server.route(
        "/slow.rss",
        Route::Script(vec![Reply::ok(feed("slow"), "application/rss+xml")]),
    );
    server.clear_log();
    let o = hark(dir.path(), &["run", "--once"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(count("fast"), 20);
    assert_eq!(count("slow"), 20);
    let o = hark(
        dir.path(),
        &["search", "acme", "--limit", "1000", "--format", "json"],
        None,
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let ids: BTreeSet<String> = v["mentions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(v["total"].as_u64(), Some(40));
    assert_eq!(ids.len(), 40);
    // The fast feed's validators were saved with its commit.
    let fast = server
        .log()
        .into_iter()
        .find(|l| l.path == "/fast.rss")
        .unwrap();
    assert_eq!(fast.status, 304);
}

/// The ways a whole feed used to be lost (issue: lenient feeds), collected with
/// `hark run --once` from a local server: an Atom 0.3 feed, an RSS feed without `version`
/// with a bare `&` in a link, an Atom feed where one entry has an odd content type, and a
/// truncated feed whose cut-off entry is skipped and counted in the summary.
#[test]
fn broken_feeds_lose_only_what_is_broken() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let feeds: [(&str, &str); 4] = [
        (
            "atom03.xml",
            r#"<feed version="0.3" xmlns="http://purl.org/atom/ns#"><entry><title>Acme atom03 story</title><id>tag:a,1</id><link rel="alternate" href="/a/1"/><content type="text/html" mode="escaped">&lt;p&gt;acme old atom&lt;/p&gt;</content></entry></feed>"#,
        ),
        (
            "noversion.xml",
            "<rss><channel><item><title>Acme &eacute;t&eacute; bare amp</title><link>http://example.com/?a=1&b=2</link></item></channel></rss>",
        ),
        (
            "odd.xml",
            r#"<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>Acme binary</title><id>b1</id><content type="application/octet-stream">YWNtZSBiYXNlNjQgYm9keQ==</content></entry><entry><title type="">Acme untyped</title><id>b2</id></entry></feed>"#,
        ),
        (
            "cut.xml",
            "<rss version=\"2.0\"><channel><item><title>Acme complete</title><guid>c1</guid></item><item><title>Acme cut off mid",
        ),
    ];
    let mut urls = Vec::new();
    for (name, body) in feeds {
        server.file(
            &format!("/{name}"),
            body.as_bytes().to_vec(),
            "application/xml",
        );
        urls.push(format!("\"{}\"", server.url(&format!("/{name}"))));
    }
    write(
        dir.path(),
        "hark.toml",
        &format!(
            "[[sources]]\nname = \"news\"\nkind = \"feed\"\nurls = [{}]\n",
            urls.join(", ")
        ),
    );
    write(dir.path(), "queries/acme.toml", "match = 'acme'\n");
    let o = hark(dir.path(), &["run", "--once"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let summary: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(summary["skipped_items"], 1, "{summary}");
    assert_eq!(summary["sources"][0]["skipped_items"], 1, "{summary}");
    assert_eq!(
        summary["sources"][0]["errors"].as_array().unwrap().len(),
        0,
        "{summary}"
    );
    assert!(stderr(&o).contains("feed entry skipped"), "{}", stderr(&o));
    let o = hark(
        dir.path(),
        &["search", "--format", "jsonl", "--limit", "100"],
        None,
    );
    let mut got: Vec<(String, String, String)> = stdout(&o)
        .lines()
        .map(|l| {
            let m: serde_json::Value = serde_json::from_str(l).unwrap();
            let s = |k: &str| m[k].as_str().unwrap_or("").to_string();
            (s("title"), s("text"), s("url"))
        })
        .collect();
    got.sort();
    let base = server.url("");
    let want = vec![
        (
            "Acme atom03 story".to_string(),
            "acme old atom".to_string(),
            format!("{}/a/1", base.trim_end_matches('/')),
        ),
        (
            "Acme binary".into(),
            "acme base64 body".into(),
            String::new(),
        ),
        ("Acme complete".into(), String::new(), String::new()),
        ("Acme untyped".into(), String::new(), String::new()),
        (
            "Acme été bare amp".into(),
            String::new(),
            "http://example.com/?a=1&b=2".into(),
        ),
    ];
    assert_eq!(got, want);
}

/// Erasure and retention. A feed serves three items (Jane's, Bob's, and one published three
/// years ago); an imported mention is four years old; `[storage] retention = "365d"`.
/// `hark run --once` stores neither old item (the imported one is deleted, the collected one
/// not stored); `hark delete --author` erases Jane's mention after a dry run; the feed then
/// serves it again and it stays erased.
#[test]
fn delete_on_request_and_retention() {
    let now = chrono::Utc::now();
    let day = |d: i64| (now - chrono::Duration::days(d)).to_rfc2822();
    let rss = format!(
        r#"<?xml version="1.0"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>t</title>
<item><guid>https://example.com/1</guid><link>https://example.com/1</link><dc:creator>Jane Doe</dc:creator><description>Acme lost my order, call me at 555-0100</description><pubDate>{}</pubDate></item>
<item><guid>https://example.com/2</guid><link>https://example.com/2</link><dc:creator>Bob</dc:creator><description>Acme is fine</description><pubDate>{}</pubDate></item>
<item><guid>https://example.com/3</guid><link>https://example.com/3</link><dc:creator>Old Timer</dc:creator><description>Acme back in the day</description><pubDate>{}</pubDate></item>
</channel></rss>"#,
        day(1),
        day(2),
        day(3 * 365)
    );
    let server = TestServer::start();
    // A scripted route: no validators, so every poll gets the whole feed again.
    server.route(
        "/feed.xml",
        Route::Script(vec![Reply::ok(rss, "application/rss+xml")]),
    );
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "hark.toml",
        &format!(
            "[storage]\nretention = \"365d\"\n\n[[sources]]\nname = \"news\"\nkind = \"feed\"\nurls = [\"{}\"]\n",
            server.url("/feed.xml")
        ),
    );
    write(dir.path(), "queries/acme.toml", "match = 'acme'\n");
    let old = serde_json::json!({"id": "import:old", "source": "archive", "text": "acme in 2022",
        "published_at": (now - chrono::Duration::days(4 * 365)).to_rfc3339()});
    write(dir.path(), "old.jsonl", &format!("{old}\n"));
    let o = hark(dir.path(), &["import", "old.jsonl"], None);
    assert!(o.status.success(), "{}", stderr(&o));

    let ids = |dir: &std::path::Path| -> Vec<String> {
        let o = hark(dir, &["search", "--format", "json", "--limit", "100"], None);
        let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        let mut ids: Vec<String> = v["mentions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_string())
            .collect();
        ids.sort();
        ids
    };
    let o = hark(dir.path(), &["run", "--once", "--format", "json"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let s: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(s["retention_deleted"], 1, "{s}");
    assert_eq!(s["skipped_expired"], 1, "{s}");
    assert_eq!(s["indexed"], 2, "{s}");
    let stored = ids(dir.path());
    assert_eq!(stored.len(), 2, "{stored:?}");
    assert!(!stored.contains(&"import:old".to_string()));

    // A dry run names what would go, and deletes nothing.
    let o = hark(
        dir.path(),
        &["delete", "--author", "jane doe", "--dry-run"],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let d: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(d["matched"], 1, "{d}");
    let jane = d["ids"][0].as_str().unwrap().to_string();
    assert_eq!(ids(dir.path()).len(), 2);
    let o = hark(dir.path(), &["delete", "--author", "Jane Doe"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let d: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(d["deleted"], 1, "{d}");
    assert!(!ids(dir.path()).contains(&jane));

    // Collected again: still erased, and said so.
    let o = hark(dir.path(), &["run", "--once", "--format", "json"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let s: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(s["skipped_erased"], 1, "{s}");
    assert!(!ids(dir.path()).contains(&jane));
    assert_eq!(ids(dir.path()).len(), 1);

    // No condition is a usage error; so is a bad time.
    let o = hark(dir.path(), &["delete"], None);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let o = hark(dir.path(), &["delete", "--before", "someday"], None);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}
