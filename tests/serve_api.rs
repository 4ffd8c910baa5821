//! `hark serve` against a real index built by `hark import`: every endpoint, its errors, auth,
//! and agreement with the CLI (`hark search` / `hark stats` give the same JSON).

mod common;

use common::*;
use serde_json::{Value, json};
use std::path::Path;

const HOSTILE: &str = "<script>alert(1)</script> <img src=x onerror=alert(1)> [x](javascript:alert(1)) *bold* <!channel>";

fn deployment(extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "hark.toml",
        &format!("[storage]\ndata_dir = \"data\"\n{extra}"),
    );
    write(dir.path(), "queries/acme.toml", "match = 'acme'\n");
    write(dir.path(), "queries/globex.toml", "match = 'globex'\n");
    let mut lines = String::new();
    let texts = [
        ("acme support is terrible and slow", "negative"),
        ("acme shipped my order, great service", "positive"),
        ("acme opens a store downtown", "neutral"),
        ("globex prices went up again, awful", "negative"),
        ("globex is fine", "positive"),
    ];
    for i in 0..60 {
        let (text, label) = texts[i % texts.len()];
        let text = if i == 7 {
            format!("acme {HOSTILE}")
        } else {
            text.to_string()
        };
        let score = match label {
            "negative" => -0.6,
            "positive" => 0.6,
            _ => 0.0,
        };
        lines.push_str(
            &json!({
                "id": format!("t:{i}"),
                "source": if i % 2 == 0 { "news" } else { "forum" },
                "source_kind": "feed",
                "url": if i == 7 { "javascript:alert(1)".to_string() } else { format!("https://example.com/{i}") },
                "author": format!("author{}", i % 4),
                "text": text,
                "published_at": format!("2026-11-{:02}T{:02}:00:00Z", 1 + i % 20, i % 24),
                "lang": "en",
                "sentiment": {"label": label, "score": score, "model": "lexicon"},
                "reach": 100 * (i as u64 + 1),
            })
            .to_string(),
        );
        lines.push('\n');
    }
    write(dir.path(), "mentions.jsonl", &lines);
    let o = hark(dir.path(), &["import", "mentions.jsonl"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    dir
}

fn serve(dir: &Path, env: &[(&str, &str)], listen: &str) -> Served {
    hark_serve(dir, env, listen)
}

fn get(url: &str, token: Option<&str>) -> (u16, String, String) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut req = reqwest::Client::new().get(url);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let ct = r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (status, ct, r.text().await.unwrap())
    })
}

fn get_json(url: &str) -> Value {
    let (status, _, body) = get(url, None);
    assert_eq!(status, 200, "{url}: {body}");
    serde_json::from_str(&body).unwrap()
}

#[test]
fn api_endpoints_agree_with_the_cli() {
    let dir = deployment("");
    let s = serve(dir.path(), &[], "127.0.0.1:0");
    let b = &s.base;

    assert_eq!(get(&format!("{b}/healthz"), None).0, 200);

    // Search: same JSON as the CLI.
    let api = get_json(&format!(
        "{b}/api/search?q=acme&sentiment=negative&limit=5&sort=reach"
    ));
    let o = hark(
        dir.path(),
        &[
            "search",
            "acme",
            "--sentiment",
            "negative",
            "--limit",
            "5",
            "--sort",
            "reach",
            "--format",
            "json",
        ],
        None,
    );
    let cli: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(api, cli);
    assert_eq!(api["total"], 12);
    assert_eq!(api["mentions"].as_array().unwrap().len(), 5);
    // Paging continues where the first page stopped.
    let page2 = get_json(&format!(
        "{b}/api/search?q=acme&sentiment=negative&limit=5&offset=5&sort=reach"
    ));
    assert_ne!(page2["mentions"][0]["id"], api["mentions"][0]["id"]);

    // One mention, and a missing one.
    let m = get_json(&format!("{b}/api/mentions/t:7"));
    assert_eq!(m["url"], "javascript:alert(1)");
    assert!(m["text"].as_str().unwrap().contains("<script>"));
    let (status, _, body) = get(&format!("{b}/api/mentions/nope"), None);
    assert_eq!(status, 404, "{body}");

    // Stats: same JSON as `hark stats`.
    let api = get_json(&format!(
        "{b}/api/stats?query=acme&since=2026-11-01&until=2026-11-21&interval=day"
    ));
    let o = hark(
        dir.path(),
        &[
            "stats",
            "--query",
            "acme",
            "--since",
            "2026-11-01",
            "--until",
            "2026-11-21",
            "--format",
            "json",
        ],
        None,
    );
    let cli: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(api, cli);
    assert_eq!(api["totals"]["total"], 36);

    // Queries, share of voice, top authors and sources.
    let q = get_json(&format!("{b}/api/queries"));
    let names: Vec<&str> = q
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["acme", "globex"]);
    let sov = get_json(&format!(
        "{b}/api/share-of-voice?since=2026-11-01&until=2026-12-01"
    ));
    let rows = sov["queries"].as_array().unwrap();
    assert_eq!(rows[0]["mentions"], 36);
    assert_eq!(rows[1]["mentions"], 24);
    assert!((rows[0]["share"].as_f64().unwrap() - 0.6).abs() < 1e-9);
    let top = get_json(&format!("{b}/api/top?by=sources&query=acme"));
    assert_eq!(top.as_array().unwrap().len(), 2);
    assert_eq!(
        top[0]["mentions"].as_u64().unwrap() + top[1]["mentions"].as_u64().unwrap(),
        36
    );
    let authors = get_json(&format!("{b}/api/top?by=authors&limit=2"));
    assert_eq!(authors.as_array().unwrap().len(), 2);
    assert!(authors[0]["reach"].as_u64() >= authors[1]["reach"].as_u64());

    // CSV export.
    let (status, ct, body) = get(
        &format!("{b}/api/search?q=globex&format=csv&limit=100"),
        None,
    );
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/csv"), "{ct}");
    assert_eq!(body.lines().count(), 25, "{body}");

    // Metrics.
    let (status, _, body) = get(&format!("{b}/metrics"), None);
    assert_eq!(status, 200);
    assert!(body.contains("hark_index_documents 60"), "{body}");
    assert!(
        body.contains("hark_mentions_indexed{source=\"news\"} 30"),
        "{body}"
    );
    assert!(body.contains("hark_api_searches_total"), "{body}");

    // The UI shell is served with a strict CSP; the OpenAPI document parses.
    let (status, _, html) = get(&format!("{b}/"), None);
    assert_eq!(status, 200);
    assert!(html.contains("/assets/app.js"));
    let spec = get_json(&format!("{b}/api/openapi.json"));
    assert!(spec["paths"]["/api/search"].is_object());
}

#[test]
fn bad_parameters_are_400_with_a_reason() {
    let dir = deployment("");
    let s = serve(dir.path(), &[], "127.0.0.1:0");
    let b = &s.base;
    for (path, parameter, needle) in [
        ("/api/search?q=(acme", "q", "column"),
        ("/api/search?q=acme&sort=best", "sort", "best"),
        ("/api/search?q=acme&limit=-1", "limit", "integer"),
        ("/api/search?q=acme&since=yesterdayish", "since", ""),
        ("/api/search?qury=acme", "qury", "did you mean"),
        ("/api/search?sentiment=angry", "sentiment", "angry"),
        ("/api/search?query=acmee", "query", "acme"),
        ("/api/stats?interval=week", "interval", "week"),
        ("/api/top?by=likes", "by", "likes"),
        ("/api/search?lang=english", "lang", "639"),
    ] {
        let (status, ct, body) = get(&format!("{b}{path}"), None);
        assert_eq!(status, 400, "{path}: {body}");
        assert!(ct.starts_with("application/json"), "{path}: {ct}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["parameter"], parameter, "{path}: {body}");
        assert!(
            v["error"]
                .as_str()
                .unwrap()
                .to_lowercase()
                .contains(&needle.to_lowercase()),
            "{path}: {body}"
        );
    }
    let (_, _, body) = get(&format!("{b}/api/search?q=(acme"), None);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["column"], 1, "{body}");
}

#[test]
fn token_auth() {
    let dir = deployment("[server]\ntoken_env = \"T_HARK_TOKEN\"\n");
    let s = serve(
        dir.path(),
        &[("T_HARK_TOKEN", "s3cret-token")],
        "127.0.0.1:0",
    );
    let b = &s.base;
    assert_eq!(get(&format!("{b}/api/search?q=acme"), None).0, 401);
    assert_eq!(get(&format!("{b}/api/search?q=acme"), Some("wrong")).0, 401);
    assert_eq!(get(&format!("{b}/metrics"), None).0, 401);
    assert_eq!(
        get(&format!("{b}/api/search?q=acme"), Some("s3cret-token")).0,
        200
    );
    assert_eq!(
        get(
            &format!("{b}/api/search?q=acme&token=s3cret-token&format=csv"),
            None
        )
        .0,
        200
    );
    assert_eq!(get(&format!("{b}/healthz"), None).0, 200);

    // Not loopback and no token: refused, exit status 2.
    let bare = deployment("");
    let o = hark(bare.path(), &["serve", "--listen", "0.0.0.0:0"], None);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("without a token"), "{}", stderr(&o));
}

#[test]
fn alert_history_with_delivery_state() {
    // A feed with an outage post, a keyword rule delivering to a local webhook: `hark run
    // --once` raises and delivers the alert; `hark serve` lists it with its delivery state.
    let server = TestServer::start();
    let now = chrono::Utc::now().to_rfc2822();
    server.route(
        "/feed.xml",
        Route::Script(vec![Reply::ok(
            format!(
                "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title>\
                 <item><title>Acme outage</title><link>https://example.com/o</link><guid>o1</guid>\
                 <pubDate>{now}</pubDate><description>acme outage everywhere, terrible</description></item>\
                 </channel></rss>"
            ),
            "application/rss+xml",
        )]),
    );
    server.route("/hook", Route::Script(vec![Reply::status(200)]));
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "hark.toml",
        &format!(
            "[[sources]]\nname = \"news\"\nkind = \"feed\"\nurls = [\"{}\"]\n",
            server.url("/feed.xml")
        ),
    );
    write(dir.path(), "queries/acme.toml", "match = 'acme'\n");
    write(
        dir.path(),
        "alerts/acme-outage.toml",
        &format!(
            "query = \"acme\"\nkind = \"keyword\"\nmatch = 'outage'\n\n[[channels]]\ntype = \"webhook\"\nurl = \"{}\"\nformat = \"json\"\n",
            server.url("/hook")
        ),
    );
    let o = hark(dir.path(), &["run", "--once"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let s = serve(dir.path(), &[], "127.0.0.1:0");
    let alerts = get_json(&format!("{}/api/alerts?query=acme", s.base));
    let list = alerts.as_array().unwrap();
    assert_eq!(list.len(), 1, "{alerts}");
    assert_eq!(list[0]["rule"], "acme-outage");
    assert_eq!(list[0]["kind"], "keyword");
    assert_eq!(list[0]["deliveries"][0]["state"], "delivered", "{alerts}");
    assert_eq!(list[0]["deliveries"][0]["attempts"], 1);
    assert_eq!(list[0]["mentions"].as_array().unwrap().len(), 1);
    let (_, _, metrics) = get(&format!("{}/metrics", s.base), None);
    assert!(
        metrics.contains("hark_alert_deliveries{state=\"delivered\"} 1"),
        "{metrics}"
    );
}

/// `METHOD url` with `body` of `content_type`: (status, body).
fn send(method: &str, url: &str, body: &str, content_type: &str) -> (u16, String) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let r = reqwest::Client::new()
            .request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), url)
            .header("content-type", content_type)
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    })
}

/// Triage end to end: a feed collected by `hark run --once`; decisions made with the CLI,
/// the API of a standalone `hark serve` and the API of the daemon (`hark run --serve`);
/// they change searches and counts, survive the mention being collected again with new
/// text, and are in the audit log.
#[test]
fn triage_from_cli_and_api_survives_recollection() {
    let now = chrono::Utc::now();
    let feed = |great: &str| {
        format!(
            r#"<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<item><guid>g1</guid><link>https://example.com/1</link><description>{great}</description><pubDate>{}</pubDate></item>
<item><guid>g2</guid><link>https://example.com/2</link><description>Acme refund never came, three weeks now</description><pubDate>{}</pubDate></item>
<item><guid>g3</guid><link>https://example.com/3</link><description>Acme the cartoon company from Looney Tunes</description><pubDate>{}</pubDate></item>
</channel></rss>"#,
            (now - chrono::Duration::hours(1)).to_rfc2822(),
            (now - chrono::Duration::hours(2)).to_rfc2822(),
            (now - chrono::Duration::hours(3)).to_rfc2822()
        )
    };
    let server = TestServer::start();
    server.route(
        "/feed.xml",
        Route::Script(vec![Reply::ok(
            feed("Acme support is great"),
            "application/rss+xml",
        )]),
    );
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "hark.toml",
        &format!(
            "[[sources]]\nname = \"news\"\nkind = \"feed\"\nurls = [\"{}\"]\n",
            server.url("/feed.xml")
        ),
    );
    write(dir.path(), "queries/acme.toml", "match = 'acme'\n");
    let o = hark(dir.path(), &["run", "--once"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let search = |args: &[&str]| -> Value {
        let mut a = vec!["search", "--format", "json"];
        a.extend_from_slice(args);
        let o = hark(dir.path(), &a, None);
        assert!(o.status.success(), "{}", stderr(&o));
        serde_json::from_str(&stdout(&o)).unwrap()
    };
    let all = search(&[]);
    assert_eq!(all["total"], 3, "{all}");
    let id_of = |needle: &str| -> String {
        all["mentions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["text"].as_str().unwrap().contains(needle))
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (great, refund, cartoon) = (id_of("great"), id_of("refund"), id_of("cartoon"));
    // Ids hold `:` and `/`: paths carry them percent-encoded.
    let enc = |id: &str| url::form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>();

    // CLI: the other Acme is irrelevant; the model's "positive" is corrected.
    let o = hark(
        dir.path(),
        &["mention", "set", &cartoon, "--irrelevant"],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = hark(
        dir.path(),
        &[
            "mention",
            "set",
            &great,
            "--sentiment",
            "negative",
            "--status",
            "handled",
            "--tag",
            "Sarcasm",
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(search(&[])["total"], 2, "irrelevant mentions are left out");
    assert_eq!(
        search(&["--irrelevant"])["mentions"][0]["id"],
        cartoon.as_str()
    );
    let handled = search(&["--status", "handled"]);
    assert_eq!(handled["total"], 1);
    let m = &handled["mentions"][0];
    assert_eq!(m["id"], great.as_str());
    assert_eq!(m["sentiment"]["label"], "negative");
    assert_eq!(m["sentiment"]["model"], "override");
    assert_eq!(m["triage"]["status"], "handled");
    assert_eq!(m["triage"]["tags"], json!(["sarcasm"]));
    assert_eq!(m["triage"]["sentiment_override"], "negative");
    assert!(m["triage"]["by"].as_str().unwrap().starts_with("cli"));
    assert_eq!(search(&["--tag", "SARCASM"])["total"], 1);
    let negative = search(&["--sentiment", "negative"]);
    assert!(
        negative["mentions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == great.as_str()),
        "filters and counts see the override: {negative}"
    );
    assert!(
        search(&["--sentiment", "positive"])["mentions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["id"] != great.as_str())
    );
    // Usage errors.
    let o = hark(dir.path(), &["mention", "set", &great], None);
    assert_eq!(o.status.code(), Some(2));
    let o = hark(
        dir.path(),
        &["mention", "set", "feed:nope", "--status", "handled"],
        None,
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));

    // Collected again with new text: the decisions stay.
    server.route(
        "/feed.xml",
        Route::Script(vec![Reply::ok(
            feed("Acme support is great, as always"),
            "application/rss+xml",
        )]),
    );
    let o = hark(dir.path(), &["run", "--once", "--format", "json"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let s: Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(s["indexed"], 1, "{s}");
    let handled = search(&["--status", "handled"]);
    assert_eq!(
        handled["mentions"][0]["text"],
        "Acme support is great, as always"
    );
    assert_eq!(handled["mentions"][0]["sentiment"]["label"], "negative");
    assert_eq!(search(&[])["total"], 2);

    // The API of a standalone server.
    {
        let served = serve(dir.path(), &[], "127.0.0.1:0");
        let url = |p: &str| format!("{}{p}", served.base);
        let (status, body) = send(
            "PATCH",
            &url(&format!("/api/mentions/{}", enc(&refund))),
            r#"{"status": "in_progress", "tags": ["refund"]}"#,
            "application/json",
        );
        assert_eq!(status, 200, "{body}");
        let m: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(m["triage"]["status"], "in_progress");
        assert_eq!(m["triage"]["by"], "local");
        let found = get_json(&url("/api/search?status=in_progress"));
        assert_eq!(found["total"], 1, "{found}");
        assert_eq!(found["mentions"][0]["id"], refund.as_str());
        // A cross-site form cannot send JSON: a text/plain body is refused.
        let (status, _) = send(
            "PATCH",
            &url(&format!("/api/mentions/{}", enc(&refund))),
            r#"{"irrelevant": true}"#,
            "text/plain",
        );
        assert_eq!(status, 400);
        let (status, _) = send(
            "PATCH",
            &url("/api/mentions/feed:nope"),
            r#"{"status": "handled"}"#,
            "application/json",
        );
        assert_eq!(status, 404);
        let (status, body) = send(
            "PATCH",
            &url(&format!("/api/mentions/{}", enc(&refund))),
            r#"{"sentiment": "meh"}"#,
            "application/json",
        );
        assert_eq!(status, 400, "{body}");
        // Bulk: everything an ordinary search finds (the irrelevant one is not among them).
        let (status, body) = send(
            "POST",
            &url("/api/mentions/bulk"),
            r#"{"search": {"q": "acme"}, "add_tags": ["q4"]}"#,
            "application/json",
        );
        assert_eq!(status, 200, "{body}");
        let b: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(b["updated"], 2, "{b}");
        assert_eq!(get_json(&url("/api/search?tag=q4"))["total"], 2);
        assert_eq!(get_json(&url("/api/search?irrelevant=true"))["total"], 1);
        let audit = get_json(&url("/api/audit?limit=10"));
        let entries = audit["entries"].as_array().unwrap();
        assert_eq!(entries.len(), 4, "{audit}");
        assert_eq!(entries[0]["by"], "local");
        assert_eq!(entries[0]["count"], 2);
        assert!(entries[3]["by"].as_str().unwrap().starts_with("cli"));
    }

    // The daemon's API: edits go through the pipeline's writer and are visible at once.
    {
        let served = hark_server(dir.path(), &[], &["run", "--serve", "127.0.0.1:0"]);
        let url = |p: &str| format!("{}{p}", served.base);
        let (status, body) = send(
            "PATCH",
            &url(&format!("/api/mentions/{}", enc(&refund))),
            r#"{"status": "handled", "sentiment": "positive"}"#,
            "application/json",
        );
        assert_eq!(status, 200, "{body}");
        let m = get_json(&url(&format!("/api/mentions/{}", enc(&refund))));
        assert_eq!(m["triage"]["status"], "handled");
        assert_eq!(m["sentiment"]["label"], "positive");
        assert_eq!(get_json(&url("/api/search?status=handled"))["total"], 2);
    }
    let o = hark(dir.path(), &["mention", "audit", "--limit", "2"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o).lines().count(), 2);

    // Exclusions: the irrelevant mention's words are proposed; once "cartoon" is accepted,
    // a new cartoon mention is not collected into the query, other new mentions are.
    let o = hark(dir.path(), &["mention", "exclusions", "acme"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let e: Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let proposed: Vec<&str> = e["proposed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["term"].as_str().unwrap())
        .collect();
    assert!(
        proposed.contains(&"cartoon") && proposed.contains(&"looney"),
        "{e}"
    );
    assert!(!proposed.contains(&"acme"), "{e}");
    let o = hark(
        dir.path(),
        &["mention", "exclusions", "acme", "--accept", "Cartoon"],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let e: Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(e["accepted"], json!(["cartoon"]));
    let newer = feed("Acme support is great, as always").replace(
        "</channel>",
        &format!(
            "<item><guid>g4</guid><link>https://example.com/4</link><description>Acme cartoon reboot announced</description><pubDate>{0}</pubDate></item>\n<item><guid>g5</guid><link>https://example.com/5</link><description>Acme opened a new store</description><pubDate>{0}</pubDate></item></channel>",
            now.to_rfc2822()
        ),
    );
    server.route(
        "/feed.xml",
        Route::Script(vec![Reply::ok(newer, "application/rss+xml")]),
    );
    let o = hark(dir.path(), &["run", "--once", "--format", "json"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let s: Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert!(s["unmatched"].as_u64().unwrap() >= 1, "{s}");
    let texts: Vec<String> = search(&["--irrelevant"])["mentions"]
        .as_array()
        .unwrap()
        .iter()
        .chain(search(&[])["mentions"].as_array().unwrap())
        .map(|m| m["text"].as_str().unwrap().to_string())
        .collect();
    assert!(texts.iter().any(|t| t.contains("new store")), "{texts:?}");
    assert!(!texts.iter().any(|t| t.contains("reboot")), "{texts:?}");
    // Decisions made before stay: the handled mention is still handled.
    assert_eq!(search(&["--status", "handled"])["total"], 2);
}

fn send_as(method: &str, url: &str, body: &str, token: Option<&str>) -> (u16, String) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut r = reqwest::Client::new()
            .request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), url)
            .header("content-type", "application/json");
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        if method != "GET" {
            r = r.body(body.to_string());
        }
        let r = r.send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    })
}

/// Users and roles: once a user exists the API needs a token; a viewer reads but every
/// write route answers 403; an editor's change is in the audit log under their name.
#[test]
fn roles_are_enforced_on_every_write_route() {
    let dir = deployment("");
    let add = |name: &str, role: &str| -> String {
        let o = hark(dir.path(), &["user", "add", name, "--role", role], None);
        assert!(o.status.success(), "{}", stderr(&o));
        let v: Value = serde_json::from_str(stdout(&o).trim()).unwrap();
        assert_eq!(v["role"], role);
        v["token"].as_str().unwrap().to_string()
    };
    let editor = add("ann", "editor");
    let viewer = add("vic", "viewer");
    let admin = add("root", "admin");
    let o = hark(
        dir.path(),
        &["user", "add", "x y", "--role", "editor"],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    let o = hark(dir.path(), &["user", "add", "zed", "--role", "boss"], None);
    assert_eq!(o.status.code(), Some(2));
    let o = hark(dir.path(), &["user", "list"], None);
    assert_eq!(stdout(&o).lines().count(), 3);
    assert!(!stdout(&o).contains(&editor), "tokens are never listed");

    let served = serve(dir.path(), &[], "127.0.0.1:0");
    let url = |p: &str| format!("{}{p}", served.base);
    assert_eq!(send_as("GET", &url("/api/search?q=acme"), "", None).0, 401);
    assert_eq!(
        send_as("GET", &url("/api/search?q=acme"), "", Some("hark_wrong")).0,
        401
    );
    assert_eq!(
        send_as("GET", &url("/api/search?q=acme"), "", Some(&viewer)).0,
        200
    );
    let writes = [
        (
            "PATCH",
            url("/api/mentions/t%3A1"),
            r#"{"status": "handled"}"#,
        ),
        (
            "POST",
            url("/api/mentions/bulk"),
            r#"{"ids": ["t:1"], "add_tags": ["x"]}"#,
        ),
        (
            "POST",
            url("/api/delete"),
            r#"{"author": "author1", "dry_run": true}"#,
        ),
    ];
    for (method, u, body) in &writes {
        let (status, text) = send_as(method, u, body, Some(&viewer));
        assert_eq!(status, 403, "{method} {u}: {text}");
        assert!(text.contains("viewer `vic`"), "{text}");
        assert_eq!(send_as(method, u, body, None).0, 401, "{method} {u}");
    }
    let (status, body) = send_as("PATCH", &writes[0].1, writes[0].2, Some(&editor));
    assert_eq!(status, 200, "{body}");
    let m: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(m["triage"]["by"], "ann");
    // Deleting is for admins only.
    let (status, _) = send_as("POST", &writes[2].1, writes[2].2, Some(&editor));
    assert_eq!(status, 403);
    let (status, body) = send_as("POST", &writes[2].1, writes[2].2, Some(&admin));
    assert_eq!(status, 200, "{body}");
    let d: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(d["matched"], 15, "{d}");
    let (status, body) = send_as(
        "POST",
        &writes[2].1,
        r#"{"author": "author1"}"#,
        Some(&admin),
    );
    assert_eq!(status, 200, "{body}");
    let (status, body) = send_as(
        "GET",
        &url("/api/search?q=author:author1"),
        "",
        Some(&viewer),
    );
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["total"],
        0,
        "{body}"
    );
    let (status, body) = send_as("GET", &url("/api/audit"), "", Some(&viewer));
    assert_eq!(status, 200);
    let audit: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(audit["entries"][0]["by"], "root");
    assert_eq!(audit["entries"][0]["action"], "delete");
    assert_eq!(audit["entries"][1]["by"], "ann");
    assert_eq!(audit["entries"][1]["action"], "triage");
    drop(served);
    let o = hark(dir.path(), &["user", "remove", "ann"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let served = serve(dir.path(), &[], "127.0.0.1:0");
    let (status, _) = send_as(
        "GET",
        &format!("{}/api/search?q=acme", served.base),
        "",
        Some(&editor),
    );
    assert_eq!(status, 401, "a removed user's token stops working");
}

fn send_with(
    method: &str,
    url: &str,
    body: &str,
    headers: &[(&str, &str)],
) -> (u16, Option<String>, String) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut r = reqwest::Client::new()
            .request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), url)
            .header("content-type", "application/json");
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        if method != "GET" {
            r = r.body(body.to_string());
        }
        let r = r.send().await.unwrap();
        let set_cookie = r
            .headers()
            .get("set-cookie")
            .map(|v| v.to_str().unwrap().to_string());
        (r.status().as_u16(), set_cookie, r.text().await.unwrap())
    })
}

/// The web UI's log-in: a password (Argon2id) gives an HttpOnly, SameSite=Strict session
/// cookie; reads work with the cookie alone, writes also need the session's CSRF token
/// (a cross-site request carries the cookie but cannot know the token).
#[test]
fn password_login_sessions_need_the_csrf_token_to_write() {
    let dir = deployment("");
    let o = hark(
        dir.path(),
        &["user", "add", "pat", "--role", "editor", "--password-stdin"],
        Some("correct horse battery\n"),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = hark(
        dir.path(),
        &[
            "user",
            "add",
            "short",
            "--role",
            "editor",
            "--password-stdin",
        ],
        Some("tiny\n"),
    );
    assert_eq!(o.status.code(), Some(2), "a short password is refused");
    let served = serve(dir.path(), &[], "127.0.0.1:0");
    let url = |p: &str| format!("{}{p}", served.base);
    let (status, _, _) = send_with(
        "POST",
        &url("/api/login"),
        r#"{"name": "pat", "password": "wrong horse battery"}"#,
        &[],
    );
    assert_eq!(status, 401);
    let (status, _, _) = send_with(
        "POST",
        &url("/api/login"),
        r#"{"name": "nobody", "password": "correct horse battery"}"#,
        &[],
    );
    assert_eq!(status, 401);
    let (status, cookie, body) = send_with(
        "POST",
        &url("/api/login"),
        r#"{"name": "pat", "password": "correct horse battery"}"#,
        &[],
    );
    assert_eq!(status, 200, "{body}");
    let cookie = cookie.expect("a session cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let pair = cookie.split(';').next().unwrap().to_string();
    let login: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(login["role"], "editor");
    let csrf = login["csrf"].as_str().unwrap().to_string();
    let with_cookie = [("cookie", pair.as_str())];
    assert_eq!(
        send_with("GET", &url("/api/search?q=acme"), "", &with_cookie).0,
        200
    );
    let patch = url("/api/mentions/t%3A2");
    let (status, _, body) = send_with("PATCH", &patch, r#"{"status": "handled"}"#, &with_cookie);
    assert_eq!(status, 403, "a write without the CSRF token: {body}");
    assert!(body.contains("CSRF"), "{body}");
    let (status, _, _) = send_with(
        "PATCH",
        &patch,
        r#"{"status": "handled"}"#,
        &[("cookie", pair.as_str()), ("x-csrf-token", "hark_guess")],
    );
    assert_eq!(status, 403);
    let (status, _, body) = send_with(
        "POST",
        &url("/api/mentions/bulk"),
        r#"{"ids": ["t:2"], "add_tags": ["x"]}"#,
        &with_cookie,
    );
    assert_eq!(status, 403, "{body}");
    let (status, _, body) = send_with(
        "PATCH",
        &patch,
        r#"{"status": "handled"}"#,
        &[("cookie", pair.as_str()), ("x-csrf-token", csrf.as_str())],
    );
    assert_eq!(status, 200, "{body}");
    let m: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(m["triage"]["by"], "pat");
    let (status, _, _) = send_with("POST", &url("/api/logout"), "{}", &with_cookie);
    assert_eq!(status, 200);
    assert_eq!(
        send_with("GET", &url("/api/search?q=acme"), "", &with_cookie).0,
        401
    );
}

/// Saved searches and "alert me": a search saved through the API becomes a keyword rule
/// without any file edited; `hark run --once` evaluates it with the rule files and
/// delivers to its webhook.
#[test]
fn saved_search_alerts_without_editing_files() {
    let dir = deployment("");
    let hook = TestServer::start();
    hook.route("/hook", Route::Script(vec![Reply::ok("ok", "text/plain")]));
    {
        let served = serve(dir.path(), &[], "127.0.0.1:0");
        let url = |p: &str| format!("{}{p}", served.base);
        let (status, body) = send(
            "POST",
            &url("/api/saved-searches"),
            r#"{"name": "Outage talk", "search": {"q": "outage OR \"is down\"", "query": "acme"}}"#,
            "application/json",
        );
        assert_eq!(status, 200, "{body}");
        let (status, body) = send(
            "POST",
            &url("/api/saved-searches"),
            r#"{"name": "bad", "search": {"q": "AND ("}}"#,
            "application/json",
        );
        assert_eq!(status, 400, "the search is checked: {body}");
        let (status, body) = send(
            "POST",
            &url("/api/saved-searches/nope/alert"),
            r#"{"kind": "keyword"}"#,
            "application/json",
        );
        assert_eq!(status, 404, "{body}");
        let (status, body) = send(
            "POST",
            &url("/api/saved-searches/Outage%20talk/alert"),
            &format!(
                r#"{{"kind": "keyword", "webhook": "{}"}}"#,
                hook.url("/hook")
            ),
            "application/json",
        );
        assert_eq!(status, 200, "{body}");
        let r: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(r["rule"], "saved-outage-talk");
        let list = get_json(&url("/api/saved-searches"));
        assert_eq!(list["saved"][0]["name"], "Outage talk");
        assert_eq!(list["saved"][0]["params"]["query"], "acme");
        assert_eq!(list["saved"][0]["alert"]["rule"], "saved-outage-talk");
        // The webhook URL (a credential) is never shown, only described.
        assert!(!list.to_string().contains("/hook"), "{list}");
        assert!(
            list["saved"][0]["alert"]["channels"][0]
                .as_str()
                .unwrap()
                .starts_with("webhook")
        );
    }
    // New mentions that the saved search finds; the daemon's evaluation raises the rule.
    let now = chrono::Utc::now();
    let lines: String = (0..3)
        .map(|i| {
            json!({"id": format!("o:{i}"), "source": "news", "text": format!("acme is down again, outage number {i}"),
                   "published_at": (now - chrono::Duration::minutes(5 + i)).to_rfc3339()})
            .to_string()
                + "\n"
        })
        .collect();
    write(dir.path(), "new.jsonl", &lines);
    let o = hark(dir.path(), &["import", "new.jsonl"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = hark(dir.path(), &["run", "--once", "--format", "json"], None);
    let s: Value = serde_json::from_str(stdout(&o).trim()).unwrap_or(Value::Null);
    assert!(
        s["alerts_raised"].as_u64().unwrap_or(0) >= 1,
        "{s} {}",
        stderr(&o)
    );
    let o = hark(dir.path(), &["alerts", "list", "--format", "json"], None);
    assert!(stdout(&o).contains("saved-outage-talk"), "{}", stdout(&o));
    assert!(
        hook.log()
            .iter()
            .any(|l| l.path == "/hook" && l.method == "POST"),
        "the webhook got the alert"
    );
}
