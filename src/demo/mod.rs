//! `hark demo`: the whole pipeline, offline, on the bundled sample. An in-process HTTP server
//! on 127.0.0.1 serves the sample as real feeds; a temporary deployment (config, queries,
//! data dir) points real `feed` sources at it; one pass of the pipeline collects, matches,
//! classifies and indexes; then the demo shows what a user would look at.

pub mod feeds;

use crate::config::Config;
use crate::index::search::{SearchRequest, Sort, filter_query, search};
use crate::index::stats::{Interval, stats};
use crate::mention::Label;
use crate::pipeline::{self, RunSummary, Runtime};
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

struct Served {
    body: String,
    content_type: &'static str,
    etag: String,
}

type Feeds = Arc<HashMap<String, Served>>;

/// Webhook payloads the demo's receiver got.
pub type Received = Arc<std::sync::Mutex<Vec<serde_json::Value>>>;

async fn receive_hook(State(received): State<Received>, body: axum::body::Bytes) -> StatusCode {
    match serde_json::from_slice(&body) {
        Ok(v) => {
            received.lock().expect("receiver lock").push(v);
            StatusCode::OK
        }
        Err(_) => StatusCode::BAD_REQUEST,
    }
}

async fn serve_feed(
    UrlPath(name): UrlPath<String>,
    State(feeds): State<Feeds>,
    headers: HeaderMap,
) -> Response {
    let Some(f) = feeds.get(&name) else {
        return (StatusCode::NOT_FOUND, "no such feed").into_response();
    };
    let inm = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok());
    if inm == Some(f.etag.as_str()) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, f.etag.clone())]).into_response();
    }
    (
        [
            (header::CONTENT_TYPE, f.content_type.to_string()),
            (header::ETAG, f.etag.clone()),
        ],
        f.body.clone(),
    )
        .into_response()
}

/// Starts the sample feed server, with a webhook receiver at `/hooks/alerts`, on 127.0.0.1
/// (any free port).
pub async fn start_feed_server() -> anyhow::Result<(SocketAddr, Received)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let base = format!("http://{addr}");
    let now = Utc::now();
    let items = feeds::sample();
    let pick = |feed: &str| items.iter().filter(|i| i.feed == feed).collect::<Vec<_>>();
    let mut map = HashMap::new();
    let mut add = |name: &str, body: String, content_type: &'static str| {
        use sha2::{Digest, Sha256};
        let etag = format!("\"{}\"", hex::encode(&Sha256::digest(body.as_bytes())[..8]));
        map.insert(
            name.to_string(),
            Served {
                body,
                content_type,
                etag,
            },
        );
    };
    add(
        "news.rss",
        feeds::rss(&pick("news"), &base, now),
        "application/rss+xml; charset=utf-8",
    );
    add(
        "forum.atom",
        feeds::atom(&pick("forum"), &base, now),
        "application/atom+xml; charset=utf-8",
    );
    add(
        "social.json",
        feeds::json_feed(&pick("social"), &base, now),
        "application/feed+json; charset=utf-8",
    );
    let received: Received = Arc::default();
    let hooks = axum::Router::new()
        .route("/hooks/alerts", axum::routing::post(receive_hook))
        .with_state(received.clone());
    let app = axum::Router::new()
        .route("/feeds/{name}", axum::routing::get(serve_feed))
        .with_state(Arc::new(map))
        .merge(hooks);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((addr, received))
}

/// Writes the demo deployment: hark.toml with three feed sources, two queries.
pub fn write_deployment(dir: &Path, addr: SocketAddr) -> anyhow::Result<std::path::PathBuf> {
    std::fs::create_dir_all(dir.join("queries"))?;
    std::fs::create_dir_all(dir.join("alerts"))?;
    let base = format!("http://{addr}/feeds");
    let toml = format!(
        r#"# Written by `hark demo`: three feeds served by the demo on 127.0.0.1.
[storage]
data_dir = "data"

[[sources]]
name = "demo-news"
kind = "feed"
urls = ["{base}/news.rss"]

[[sources]]
name = "demo-forum"
kind = "feed"
urls = ["{base}/forum.atom"]

[[sources]]
name = "demo-social"
kind = "feed"
urls = ["{base}/social.json"]
"#
    );
    std::fs::write(dir.join("hark.toml"), toml)?;
    std::fs::write(
        dir.join("queries/brightwave.toml"),
        "# The demo's brand.\nmatch = 'brightwave OR \"brightwave fiber\" OR #brightwave OR @brightwave'\n",
    )?;
    std::fs::write(
        dir.join("alerts/brightwave-negative-spike.toml"),
        format!(
            "# Negative spike on the brand, delivered to the demo's webhook receiver.\nquery = \"brightwave\"\nkind = \"negative_spike\"\nwindow = \"1h\"\nbaseline = \"7d\"\ncooldown = \"6h\"\n\n[[channels]]\ntype = \"webhook\"\nurl = \"http://{addr}/hooks/alerts\"\nformat = \"json\"\n"
        ),
    )?;
    std::fs::write(
        dir.join("queries/nimbus.toml"),
        "# The competitor, for share of voice.\nmatch = '\"nimbus mobile\" OR @nimbusmobile OR #nimbusmobile'\n",
    )?;
    Ok(dir.join("hark.toml"))
}

/// What the demo found, for tests and for printing.
pub struct DemoOutcome {
    pub config: Config,
    pub alerts_received: usize,
    pub first: RunSummary,
    pub second: RunSummary,
}

/// Runs the demo in `dir`, printing to `out`.
pub async fn run_demo(dir: &Path, out: &mut dyn Write) -> anyhow::Result<DemoOutcome> {
    let (addr, received) = start_feed_server().await?;
    let config_path = write_deployment(dir, addr)?;
    let config = Config::load(&config_path)?;
    writeln!(
        out,
        "hark demo: Brightwave (an invented broadband provider) and its competitor Nimbus Mobile"
    )?;
    writeln!(
        out,
        "Serving {} sample posts as RSS, Atom and JSON Feed on http://{addr}",
        feeds::sample().len()
    )?;
    writeln!(out, "Deployment written to {}", dir.display())?;
    let rt = Arc::new(Runtime::open(config.clone())?);
    let noop: Arc<dyn Fn(&crate::index::MentionIndex) + Send + Sync> = Arc::new(|_| {});
    let started = std::time::Instant::now();
    let (_tx, rx) = tokio::sync::watch::channel(false);
    let first = pipeline::run(&rt, true, rx.clone(), noop.clone()).await?;
    writeln!(
        out,
        "\nCollected {} posts from {} feeds; indexed {} mentions ({} matched no query) in {:.2} s",
        first.collected,
        first.sources.len(),
        first.indexed,
        first.unmatched,
        started.elapsed().as_secs_f64()
    )?;
    let index = &rt.index;

    // Sentiment overview per query.
    writeln!(out, "\nSentiment, last 14 days")?;
    for q in &config.queries {
        let req = SearchRequest {
            query: Some(q.name.clone()),
            since: Some(Utc::now() - chrono::Duration::days(15)),
            ..Default::default()
        };
        let s = stats(
            index,
            &*filter_query(index, &req)?,
            Some(&q.name),
            req.since,
            None,
            Interval::Day,
        )?;
        let t = &s.totals;
        let pct = |n: u64| {
            if t.total == 0 {
                0.0
            } else {
                100.0 * n as f64 / t.total as f64
            }
        };
        writeln!(
            out,
            "  {:<12} {:>4} mentions   {:>4.0}% negative  {:>4.0}% neutral  {:>4.0}% positive   net {:+.2}",
            q.name,
            t.total,
            pct(t.negative),
            pct(t.neutral),
            pct(t.positive),
            s.net_sentiment
        )?;
    }

    // The burst, as an hourly sparkline of negative mentions.
    let req = SearchRequest {
        query: Some("brightwave".into()),
        since: Some(Utc::now() - chrono::Duration::hours(24)),
        ..Default::default()
    };
    let s = stats(
        index,
        &*filter_query(index, &req)?,
        Some("brightwave"),
        req.since,
        Some(Utc::now() + chrono::Duration::minutes(1)),
        Interval::Hour,
    )?;
    let negs: Vec<u64> = s.buckets.iter().map(|b| b.counts.negative).collect();
    let spark = crate::display::sparkline(&negs);
    let (from, to) = ("24 h ago", "now");
    let width = spark.chars().count();
    writeln!(
        out,
        "\nNegative mentions of brightwave per hour, last 24 h:\n  {spark}  (max {} per hour)\n  {from:<w$}{to}",
        negs.iter().max().unwrap_or(&0),
        w = width.saturating_sub(to.len()).max(from.len() + 1),
    )?;

    // What drives it.
    let req = SearchRequest {
        query: Some("brightwave".into()),
        sentiment: Some(Label::Negative),
        since: Some(Utc::now() - chrono::Duration::hours(3)),
        sort: Sort::Newest,
        limit: 5,
        ..Default::default()
    };
    let res = search(index, &req)?;
    writeln!(
        out,
        "\nLatest negative mentions of brightwave ({} in the last 3 hours):",
        res.total
    )?;
    for m in &res.mentions {
        let score = m.sentiment.as_ref().map(|s| s.score).unwrap_or(0.0);
        writeln!(
            out,
            "  {}  {:+.2}  {:<14}  {}",
            m.published_at.format("%H:%M"),
            score,
            truncate(m.author.as_deref().unwrap_or("-"), 14),
            truncate(&m.text.replace('\n', " "), 80)
        )?;
    }

    // The alert stage: rules evaluated on what was just indexed, delivered to the webhook
    // receiver this demo runs.
    let client = crate::alerts::deliver::webhook_client(&rt.config);
    let (raised, report) = crate::alerts::runner::evaluate_and_deliver(&rt, &client).await?;
    writeln!(
        out,
        "\nAlert rules evaluated: {raised} alert(s) raised, {} delivered",
        report.delivered
    )?;
    for v in received.lock().expect("receiver lock").iter() {
        writeln!(
            out,
            "  webhook received: {} on `{}`: {} negative mentions in the last hour, {:.1} expected (p = {:.1e})",
            v["kind"].as_str().unwrap_or("?"),
            v["query"].as_str().unwrap_or("?"),
            v["observed_count"].as_u64().unwrap_or(0),
            v["expected"].as_f64().unwrap_or(0.0),
            v["p_value"].as_f64().unwrap_or(f64::NAN),
        )?;
        let about: Vec<String> = v["drivers"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|d| {
                format!(
                    "{} ({:.0}%)",
                    d["term"].as_str().unwrap_or("?"),
                    d["share"].as_f64().unwrap_or(0.0) * 100.0
                )
            })
            .collect();
        if !about.is_empty() {
            writeln!(out, "    about: {}", truncate(&about.join(", "), 90))?;
        }
        for m in v["mentions"].as_array().into_iter().flatten().take(3) {
            writeln!(
                out,
                "    {:<14}  {}",
                truncate(m["author"].as_str().unwrap_or("-"), 14),
                truncate(m["excerpt"].as_str().unwrap_or(""), 70)
            )?;
        }
    }
    let alerts_received = received.lock().expect("receiver lock").len();

    // The second pass sends conditional requests and adds nothing.
    let second = pipeline::run(&rt, true, rx, noop).await?;
    let not_modified: usize = second.sources.iter().map(|s| s.not_modified).sum();
    writeln!(
        out,
        "\nPolled again: {not_modified} of {} feeds answered 304 Not Modified; {} new mentions.",
        second.sources.iter().map(|s| s.requests).sum::<usize>(),
        second.indexed
    )?;
    Ok(DemoOutcome {
        config,
        alerts_received,
        first,
        second,
    })
}

fn truncate(s: &str, n: usize) -> String {
    crate::display::truncate_chars(s, n)
}
