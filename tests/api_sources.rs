//! End to end for the API pollers: a local HTTP server answers at each API's paths with real
//! recorded responses from ../shared/fixtures/<kind>/ (or, where a kind has none, responses
//! built here from the API's documented schema — said at each such test). `hark run --once`
//! polls twice; the test checks the mapped fields of several items exactly, that the second
//! poll asks only for what is new, and that nothing is stored twice. Failure handling (401,
//! 429 + Retry-After, 500, truncated JSON, empty pages, missing fields, rate-limit headers) is
//! tested on the shared machinery once, through one kind.

mod common;

use common::*;
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

fn fixture(kind: &str, name: &str) -> Vec<u8> {
    std::fs::read(shared(&format!("fixtures/{kind}/{name}"))).unwrap()
}

fn fixture_json(kind: &str, name: &str) -> Value {
    serde_json::from_slice(&fixture(kind, name)).unwrap()
}

fn json_reply(body: impl Into<Vec<u8>>) -> Reply {
    Reply::ok(body, "application/json")
}

/// A deployment: hark.toml with `[http]` tuned for tests plus `sources`, and the queries.
fn deployment(sources: &str, queries: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "hark.toml",
        &format!("[http]\nretries = 2\nretry_base = \"50ms\"\n\n{sources}"),
    );
    for (name, expr) in queries {
        write(
            dir.path(),
            &format!("queries/{name}.toml"),
            &format!("match = '{expr}'\n"),
        );
    }
    dir
}

/// `hark run --once`: its JSON summary.
fn run_once(dir: &Path, env: &[(&str, &str)]) -> Value {
    let o = hark_env(dir, &["run", "--once"], None, env);
    assert!(o.status.success(), "stderr: {}", stderr(&o));
    serde_json::from_str(&stdout(&o)).unwrap_or_else(|e| panic!("{e}: {}", stdout(&o)))
}

/// Every stored mention, by id.
fn stored(dir: &Path) -> std::collections::BTreeMap<String, Value> {
    let o = hark(
        dir,
        &["search", "--limit", "100000", "--format", "json"],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let list = v["mentions"].as_array().unwrap();
    let map: std::collections::BTreeMap<String, Value> = list
        .iter()
        .map(|m| (m["id"].as_str().unwrap().to_string(), m.clone()))
        .collect();
    assert_eq!(map.len(), list.len(), "an id is stored twice");
    map
}

fn errors(summary: &Value) -> Vec<String> {
    summary["sources"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["errors"].as_array().unwrap().clone())
        .map(|e| e.as_str().unwrap().to_string())
        .collect()
}

/// Asserts the fields of one stored mention.
#[allow(clippy::too_many_arguments)]
fn assert_mention(
    all: &std::collections::BTreeMap<String, Value>,
    id: &str,
    url: &str,
    author: &str,
    published_at: &str,
    engagement: Value,
    parent_id: Option<&str>,
    text_starts: &str,
) {
    let m = all
        .get(id)
        .unwrap_or_else(|| panic!("{id} not stored; have {:?}", all.keys().collect::<Vec<_>>()));
    assert_eq!(m["url"], url, "{id} url");
    assert_eq!(m["author"], author, "{id} author");
    assert_eq!(m["published_at"], published_at, "{id} published_at");
    for (k, v) in engagement.as_object().unwrap() {
        assert_eq!(&m["engagement"][k], v, "{id} engagement.{k}");
    }
    assert_eq!(m["parent_id"].as_str(), parent_id, "{id} parent_id");
    let text = m["text"].as_str().unwrap();
    assert!(
        text.starts_with(text_starts),
        "{id} text starts {text_starts:?}: {text:?}"
    );
    assert!(
        !text.contains("&#x27;") && !text.contains("&amp;") && !text.contains("<p>"),
        "{id}: markup left in {text:?}"
    );
}

fn requests_to(server: &TestServer, path: &str) -> Vec<Logged> {
    server
        .log()
        .into_iter()
        .filter(|l| l.path == path)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// hackernews

#[test]
fn hackernews_two_polls() {
    let server = TestServer::start();
    // One response holding the recorded story and comment hits (the endpoint returns both
    // kinds when asked for tags=(story,comment)).
    let story = fixture_json(
        "hackernews",
        "algolia_search_by_date_story_q-apple_2014.json",
    );
    let comment = fixture_json("hackernews", "algolia_search_by_date_comment_2014.json");
    let mut body = story.clone();
    body["hits"] = Value::Array(vec![comment["hits"][0].clone(), story["hits"][0].clone()]);
    body["nbPages"] = 1.into();
    server.route(
        "/api/v1/search_by_date",
        Route::Script(vec![json_reply(body.to_string())]),
    );
    let dir = deployment(
        &format!(
            "[[sources]]\nname = \"hn\"\nkind = \"hackernews\"\nbase_url = \"{}\"\n",
            server.url("")
        ),
        &[("apple", "apple OR fibonacci")],
    );
    let s1 = run_once(dir.path(), &[]);
    assert!(errors(&s1).is_empty(), "{s1}");
    let all = stored(dir.path());
    assert_eq!(all.len(), 2, "{all:?}");
    assert_mention(
        &all,
        "hackernews:7919424",
        "https://news.ycombinator.com/item?id=7919424",
        "bradleyjg",
        "2014-06-20T03:35:46Z",
        serde_json::json!({"likes": 1, "comments": 0}),
        None,
        "",
    );
    assert_eq!(
        all["hackernews:7919424"]["title"],
        "Judge says concerned about Apple, Google hiring settlement"
    );
    assert_eq!(all["hackernews:7919424"]["source_kind"], "hackernews");
    assert_eq!(all["hackernews:7919424"]["reach"], 5);
    assert_mention(
        &all,
        "hackernews:7919431",
        "https://news.ycombinator.com/item?id=7919431",
        "gohrt",
        "2014-06-20T03:39:55Z",
        serde_json::json!({"likes": 1}),
        Some("hackernews:7919207"),
        "A perennial HN favorite",
    );

    // One search per term of the query.
    let first = requests_to(&server, "/api/v1/search_by_date");
    assert_eq!(first.len(), 2);
    assert!(first.iter().any(|r| r.query.contains("query=apple")));
    assert!(first.iter().any(|r| r.query.contains("query=fibonacci")));
    server.clear_log();
    let s2 = run_once(dir.path(), &[]);
    assert!(errors(&s2).is_empty(), "{s2}");
    let second = requests_to(&server, "/api/v1/search_by_date");
    assert_eq!(second.len(), 2);
    // Only what is newer than the newest item seen: created_at_i >= 1403235595.
    for r in &second {
        assert!(
            r.query
                .contains("numericFilters=created_at_i%3E%3D1403235595"),
            "{}",
            r.query
        );
    }
    assert_eq!(s2["indexed"], 0, "{s2}");
    assert_eq!(stored(dir.path()).len(), 2);
}

// ---------------------------------------------------------------------------------------------
// reddit

#[test]
fn reddit_search_and_subreddit_listings() {
    let server = TestServer::start();
    server.route(
        "/search.json",
        Route::Script(vec![json_reply(fixture(
            "reddit",
            "search_r-all_q-praw-oauth-search.json",
        ))]),
    );
    server.route(
        "/r/askreddit/new.json",
        Route::Script(vec![json_reply(fixture("reddit", "r-askreddit_new.json"))]),
    );
    server.route(
        "/r/askreddit/comments.json",
        Route::Script(vec![json_reply(fixture(
            "reddit",
            "r-askreddit_comments.json",
        ))]),
    );
    let dir = deployment(
        &format!(
            "[[sources]]\nname = \"reddit-main\"\nkind = \"reddit\"\nbase_url = \"{}\"\nsubreddits = [\"askreddit\"]\nmax_pages = 1\n",
            server.url("")
        ),
        // The search hits are about PRAW; the askreddit listings are matched locally.
        &[("praw", "praw"), ("life", "life OR living")],
    );
    let s1 = run_once(dir.path(), &[]);
    assert!(errors(&s1).is_empty(), "{s1}");
    let all = stored(dir.path());
    assert_mention(
        &all,
        "reddit:t3_3gpbiu",
        "https://www.reddit.com/r/redditdev/comments/3gpbiu/prawoauth2util_problem_using_get_banned_raise/",
        "dClauzel",
        "2015-08-12T09:08:34Z",
        serde_json::json!({"likes": 0, "comments": 21}),
        None,
        "# solved",
    );
    assert_mention(
        &all,
        "reddit:t1_d4y8bdp",
        "https://www.reddit.com/r/AskReddit/comments/4r4inc/_/d4y8bdp/",
        "preppypuppy",
        "2016-07-04T00:04:50Z",
        serde_json::json!({"likes": 1}),
        Some("reddit:t3_4r4inc"),
        "great, life is so much better",
    );
    let n1 = all.len();
    assert!(n1 > 3, "{n1}");
    // Every search hit that mentions PRAW is there.
    let search = fixture_json("reddit", "search_r-all_q-praw-oauth-search.json");
    for c in search["data"]["children"].as_array().unwrap() {
        let d = &c["data"];
        let text = format!("{} {}", d["title"], d["selftext"]).to_lowercase();
        let id = format!("reddit:t3_{}", d["id"].as_str().unwrap());
        assert_eq!(all.contains_key(&id), text.contains("praw"), "{id}");
    }
    let searches = requests_to(&server, "/search.json");
    assert!(
        searches
            .iter()
            .any(|r| r.query.contains("q=praw") && r.query.contains("sort=new")),
        "{searches:?}"
    );

    server.clear_log();
    let s2 = run_once(dir.path(), &[]);
    assert!(errors(&s2).is_empty(), "{s2}");
    assert_eq!(s2["indexed"], 0, "{s2}");
    assert_eq!(stored(dir.path()).len(), n1);
    // The second poll reached the cursor on the first page: one request per stream (three
    // search terms, two listings).
    assert_eq!(server.log().len(), 5, "{:?}", server.log());
}

#[test]
fn reddit_oauth_logs_in_and_sends_the_token() {
    let server = TestServer::start();
    server.route(
        "/api/v1/access_token",
        Route::Script(vec![json_reply(
            r#"{"access_token": "tok-123", "token_type": "bearer", "expires_in": 86400}"#,
        )]),
    );
    server.route(
        "/search.json",
        Route::Script(vec![json_reply(fixture(
            "reddit",
            "search_r-all_q-praw-oauth-search.json",
        ))]),
    );
    let dir = deployment(
        &format!(
            "[[sources]]\nname = \"r\"\nkind = \"reddit\"\nbase_url = \"{}\"\nclient_id_env = \"T_REDDIT_ID\"\nclient_secret_env = \"T_REDDIT_SECRET\"\n",
            server.url("")
        ),
        &[("praw", "praw")],
    );
    let s = run_once(
        dir.path(),
        &[("T_REDDIT_ID", "app"), ("T_REDDIT_SECRET", "s3cret")],
    );
    assert!(errors(&s).is_empty(), "{s}");
    let login = &requests_to(&server, "/api/v1/access_token")[0];
    assert_eq!(login.method, "POST");
    // base64("app:s3cret")
    assert_eq!(login.headers["authorization"], "Basic YXBwOnMzY3JldA==");
    let search = &requests_to(&server, "/search.json")[0];
    assert_eq!(search.headers["authorization"], "Bearer tok-123");
    assert!(stored(dir.path()).contains_key("reddit:t3_3gpbiu"));

    // A missing credential disables that source, with one clear message, and only it.
    let s = run_once(dir.path(), &[("T_REDDIT_ID", "app")]);
    let disabled = s["disabled"].as_array().unwrap();
    assert_eq!(disabled.len(), 1, "{s}");
    assert!(
        disabled[0].as_str().unwrap().contains("T_REDDIT_SECRET"),
        "{s}"
    );
}

// ---------------------------------------------------------------------------------------------
// Failure handling of the shared machinery, through the hackernews kind.

fn hn_page(ids: &[u64], t0: i64) -> String {
    let hits: Vec<Value> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            serde_json::json!({
                "objectID": id.to_string(),
                "created_at_i": t0 - i as i64,
                "title": format!("acme story {id}"),
                "author": "someone",
                "points": 3,
                "_tags": ["story"],
            })
        })
        .collect();
    serde_json::json!({"hits": hits, "page": 0, "nbPages": 1}).to_string()
}

fn hn_source(name: &str, server: &TestServer, path_prefix: &str) -> String {
    format!(
        "[[sources]]\nname = \"{name}\"\nkind = \"hackernews\"\nbase_url = \"{}\"\n\n",
        server.url(path_prefix)
    )
}

#[test]
fn failures_are_reported_and_do_not_stop_other_sources() {
    let server = TestServer::start();
    let t0 = chrono::Utc::now().timestamp() - 60;
    // 401: reported, nothing else happens to this source.
    server.route(
        "/unauth/api/v1/search_by_date",
        Route::Script(vec![Reply::status(401)]),
    );
    // 429 with Retry-After, then success.
    server.route(
        "/limited/api/v1/search_by_date",
        Route::Script(vec![
            Reply::status(429).header("retry-after", "1"),
            json_reply(hn_page(&[11], t0)),
        ]),
    );
    // 500, then success.
    server.route(
        "/flaky/api/v1/search_by_date",
        Route::Script(vec![Reply::status(500), json_reply(hn_page(&[21], t0))]),
    );
    // Truncated JSON.
    let mut cut = hn_page(&[31, 32], t0);
    cut.truncate(cut.len() / 2);
    server.route(
        "/truncated/api/v1/search_by_date",
        Route::Script(vec![json_reply(cut)]),
    );
    // An empty page.
    server.route(
        "/empty/api/v1/search_by_date",
        Route::Script(vec![json_reply(r#"{"hits": [], "page": 0, "nbPages": 0}"#)]),
    );
    // Items lacking optional fields (no author, no points), and one lacking its id.
    server.route(
        "/sparse/api/v1/search_by_date",
        Route::Script(vec![json_reply(
            serde_json::json!({"hits": [
                {"objectID": "41", "created_at_i": t0, "title": "acme bare"},
                {"created_at_i": t0, "title": "acme without id"},
            ], "page": 0, "nbPages": 1})
            .to_string(),
        )]),
    );
    let mut sources = String::new();
    for name in ["unauth", "limited", "flaky", "truncated", "empty", "sparse"] {
        sources.push_str(&hn_source(name, &server, &format!("/{name}")));
    }
    let dir = deployment(&sources, &[("acme", "acme")]);
    let started = std::time::Instant::now();
    let s = run_once(dir.path(), &[]);
    let errs = errors(&s);
    let all = stored(dir.path());
    let ids: Vec<&str> = all.keys().map(String::as_str).collect();
    assert_eq!(
        ids,
        ["hackernews:11", "hackernews:21", "hackernews:41"],
        "{s}"
    );
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(
        errs.iter()
            .any(|e| e.contains("HTTP 401") && e.contains("credentials were rejected")),
        "{errs:?}"
    );
    assert!(
        errs.iter()
            .any(|e| e.contains("not valid JSON") && e.contains("/truncated/")),
        "{errs:?}"
    );
    // The 429's Retry-After was waited for.
    let limited = requests_to(&server, "/limited/api/v1/search_by_date");
    assert_eq!(limited.len(), 2);
    assert!(limited[1].at - limited[0].at >= Duration::from_millis(950));
    assert!(started.elapsed() < Duration::from_secs(30));
    let bare = &all["hackernews:41"];
    assert_eq!(bare["author"], Value::Null);
    assert_eq!(bare["engagement"]["likes"], Value::Null);
    assert_eq!(bare["reach"], 0);
}

#[test]
fn rate_limit_headers_pause_requests_until_the_reset() {
    let server = TestServer::start();
    let t0 = chrono::Utc::now().timestamp() - 60;
    // Two pages; the first says the budget is spent for 2 seconds.
    let mut p1: Value = serde_json::from_str(&hn_page(&[1, 2], t0)).unwrap();
    p1["nbPages"] = 2.into();
    let p2: Value = serde_json::from_str(&hn_page(&[3], t0 - 10)).unwrap();
    server.route(
        "/api/v1/search_by_date",
        Route::Script(vec![
            json_reply(p1.to_string())
                .header("x-ratelimit-remaining", "0")
                .header("x-ratelimit-reset", "2"),
            json_reply(p2.to_string()),
        ]),
    );
    let dir = deployment(&hn_source("hn", &server, ""), &[("acme", "acme")]);
    let s = run_once(dir.path(), &[]);
    assert!(errors(&s).is_empty(), "{s}");
    let log = requests_to(&server, "/api/v1/search_by_date");
    assert_eq!(log.len(), 2);
    assert!(log[1].query.contains("page=1"), "{}", log[1].query);
    assert!(
        log[1].at - log[0].at >= Duration::from_millis(1900),
        "{:?}",
        log[1].at - log[0].at
    );
    assert_eq!(stored(dir.path()).len(), 3);
}
