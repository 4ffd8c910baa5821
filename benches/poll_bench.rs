//! Poll-cycle speed of the API pollers: 9 sources (one per API kind) × 20 queries against 9
//! local servers (one per API, each its own host:port) that answer every request after a
//! fixed service time. One `hark run --once`-equivalent cycle (the real pipeline: fetch,
//! parse, match, classify, index, commit) is timed and compared with the servers' own
//! response times:
//!
//! - `sum_all`: every response time added up — what a fully sequential poller would take;
//! - `critical_path`: the busiest server's response times divided by the per-host
//!   concurrency — the least any poller that is polite to each host can take.
//!
//! The target (issue #3): wall ≤ 1.1 × sum of the servers' response times; hark aims at the
//! critical path. Usage: `cargo bench --bench poll_bench [-- DELAY_MS [QUERIES]]`.

use axum::extract::{Request, State};
use axum::response::IntoResponse;
use hark::config::Config;
use hark::pipeline::{self, Runtime};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const KINDS: &[&str] = &[
    "reddit",
    "hackernews",
    "mastodon",
    "bluesky",
    "x",
    "youtube",
    "vk",
    "stackexchange",
    "discourse",
];

struct Api {
    kind: &'static str,
    delay: Duration,
    requests: AtomicU64,
    service_us: AtomicU64,
    next_id: AtomicU64,
    text: String,
}

async fn handle(State(api): State<Arc<Api>>, req: Request) -> impl IntoResponse {
    let started = Instant::now();
    tokio::time::sleep(api.delay).await;
    let id = api.next_id.fetch_add(1, Ordering::Relaxed) + 1;
    let body = respond(&api, req.uri().path(), id);
    api.requests.fetch_add(1, Ordering::Relaxed);
    api.service_us
        .fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
    ([("content-type", "application/json")], body)
}

/// A one-item page of each API's documented response shape.
fn respond(api: &Api, path: &str, id: u64) -> String {
    let now = chrono::Utc::now();
    let iso = now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let unix = now.timestamp();
    let text = &api.text;
    let v = match api.kind {
        "reddit" => serde_json::json!({"kind": "Listing", "data": {"after": null, "children": [
            {"kind": "t3", "data": {"id": format!("p{id}"), "created_utc": unix, "title": "post",
             "selftext": text, "permalink": format!("/r/x/comments/p{id}/post/"), "author": "a",
             "score": 3, "num_comments": 1}}]}}),
        "hackernews" => serde_json::json!({"hits": [{"objectID": id.to_string(),
            "created_at_i": unix, "title": text, "author": "a", "points": 2, "_tags": ["story"]}],
            "page": 0, "nbPages": 1}),
        "mastodon" => {
            let status = serde_json::json!({"id": id.to_string(),
                "uri": format!("https://m.example/users/a/statuses/{id}"),
                "url": format!("https://m.example/@a/{id}"), "created_at": iso,
                "content": format!("<p>{text}</p>"), "account": {"acct": "a", "followers_count": 5},
                "favourites_count": 1, "reblogs_count": 0, "replies_count": 0});
            if path.contains("/timelines/tag/") {
                serde_json::json!([status])
            } else {
                serde_json::json!({"accounts": [], "hashtags": [], "statuses": [status]})
            }
        }
        "bluesky" => serde_json::json!({"posts": [{
            "uri": format!("at://did:plc:x/app.bsky.feed.post/{id}"), "cid": "c",
            "author": {"did": "did:plc:x", "handle": "a.bsky.social"},
            "record": {"text": text, "createdAt": iso}, "indexedAt": iso,
            "likeCount": 1, "repostCount": 0, "replyCount": 0, "quoteCount": 0}]}),
        "x" => serde_json::json!({"data": [{"id": id.to_string(), "text": text, "author_id": "1",
            "created_at": iso, "public_metrics": {"retweet_count": 0, "reply_count": 0,
            "like_count": 1, "quote_count": 0, "impression_count": 10}}],
            "includes": {"users": [{"id": "1", "username": "a", "public_metrics": {"followers_count": 9}}]},
            "meta": {"result_count": 1}}),
        "youtube" => serde_json::json!({"items": [{"id": {"kind": "youtube#video",
            "videoId": format!("v{id}")}, "snippet": {"publishedAt": iso, "channelTitle": "c",
            "title": text, "description": "d"}}]}),
        "vk" => serde_json::json!({"response": {"items": [{"id": id, "owner_id": 1, "from_id": 1,
            "date": unix, "text": text, "likes": {"count": 1}, "reposts": {"count": 0},
            "comments": {"count": 0}}], "profiles": [], "groups": []}}),
        "stackexchange" => serde_json::json!({"items": [{"question_id": id,
            "link": format!("https://stackoverflow.com/q/{id}"), "title": text, "body": "<p>b</p>",
            "creation_date": unix, "score": 1, "answer_count": 0, "view_count": 4,
            "owner": {"display_name": "a"}}], "has_more": false, "quota_remaining": 9000}),
        "discourse" => serde_json::json!({"posts": [{"id": id, "username": "a", "created_at": iso,
            "topic_id": 1, "post_number": 2, "blurb": text, "like_count": 0}],
            "topics": [{"id": 1, "title": "topic", "slug": "topic"}]}),
        _ => unreachable!(),
    };
    if api.kind == "discourse" && path.starts_with("/t/") {
        return serde_json::json!({"post_stream": {"posts": [{"id": id, "username": "a",
            "created_at": iso, "topic_id": 1, "topic_slug": "topic", "post_number": 2,
            "cooked": format!("<p>{text}</p>"), "reads": 3}]}})
        .to_string();
    }
    v.to_string()
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let delay_ms: u64 = args.first().and_then(|s| s.parse().ok()).unwrap_or(20);
    let queries: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(20);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let names: Vec<String> = (0..queries).map(|i| format!("brand{i:02}")).collect();
    let text = format!(
        "{} news of the day, some praise and some complaints",
        names.join(" ")
    );
    let apis: Vec<Arc<Api>> = KINDS
        .iter()
        .map(|k| {
            Arc::new(Api {
                kind: k,
                delay: Duration::from_millis(delay_ms),
                requests: AtomicU64::new(0),
                service_us: AtomicU64::new(0),
                next_id: AtomicU64::new(0),
                text: text.clone(),
            })
        })
        .collect();
    let addrs: Vec<std::net::SocketAddr> = rt.block_on(async {
        let mut addrs = Vec::new();
        for api in &apis {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            addrs.push(listener.local_addr().unwrap());
            let app = axum::Router::new().fallback(handle).with_state(api.clone());
            tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        }
        addrs
    });

    let dir = tempfile::tempdir().unwrap();
    let mut toml = String::new();
    for (kind, addr) in KINDS.iter().zip(&addrs) {
        toml.push_str(&format!(
            "[[sources]]\nname = \"{kind}\"\nkind = \"{kind}\"\nbase_url = \"http://{addr}\"\nmax_pages = 1\n"
        ));
        match *kind {
            "mastodon" | "x" | "vk" => toml.push_str("token_env = \"BENCH_TOKEN\"\n"),
            "youtube" => toml.push_str("key_env = \"BENCH_TOKEN\"\ncomments = false\n"),
            "discourse" => toml.push_str("latest = false\n"),
            _ => {}
        }
        toml.push('\n');
    }
    std::fs::write(dir.path().join("hark.toml"), toml).unwrap();
    std::fs::create_dir_all(dir.path().join("queries")).unwrap();
    for n in &names {
        std::fs::write(
            dir.path().join(format!("queries/{n}.toml")),
            format!("match = '{n}'\n"),
        )
        .unwrap();
    }
    // SAFETY: set before any other thread of this process reads the environment.
    unsafe { std::env::set_var("BENCH_TOKEN", "t") };

    let config = Config::load(&dir.path().join("hark.toml")).expect("config");
    let per_host = config.http.per_host_concurrency;
    let runtime = Runtime::open(config).expect("runtime");
    let (_tx, rx) = tokio::sync::watch::channel(false);
    let started = Instant::now();
    let summary = rt
        .block_on(pipeline::run(&runtime, true, rx, Arc::new(|_| {})))
        .expect("run");
    let wall = started.elapsed().as_secs_f64();
    let errors: usize = summary.sources.iter().map(|s| s.errors.len()).sum();
    assert_eq!(errors, 0, "{:?}", summary.sources);
    assert!(summary.disabled.is_empty(), "{:?}", summary.disabled);

    let mut sum_all = 0.0;
    let mut critical: f64 = 0.0;
    let mut requests = 0;
    for api in &apis {
        let s = api.service_us.load(Ordering::Relaxed) as f64 / 1e6;
        let n = api.requests.load(Ordering::Relaxed);
        println!("{:<14} requests={n:<3} service_s={s:.3}", api.kind);
        sum_all += s;
        requests += n;
        critical = critical.max(s / per_host as f64);
    }
    println!(
        "sources=9 queries={queries} delay_ms={delay_ms} requests={requests} indexed={} per_host_concurrency={per_host}",
        summary.indexed
    );
    println!(
        "wall_s={wall:.3} sum_all_s={sum_all:.3} critical_path_s={critical:.3} wall/sum_all={:.3} wall/critical_path={:.3}",
        wall / sum_all,
        wall / critical
    );
    println!(
        "target wall <= 1.1 x sum_all: {}",
        if wall <= 1.1 * sum_all {
            "met"
        } else {
            "NOT met"
        }
    );
}
