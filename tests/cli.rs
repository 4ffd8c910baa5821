//! The command line as users meet it: help, exit codes, config errors with file:line:column,
//! `hark classify` with brand terms neutral, `hark init`, and `hark demo`.

mod common;

use common::*;

#[test]
fn every_command_has_help() {
    let dir = tempfile::tempdir().unwrap();
    for cmd in [
        "init", "demo", "run", "classify", "search", "stats", "import",
    ] {
        let o = hark(dir.path(), &[cmd, "--help"], None);
        assert!(o.status.success(), "{cmd} --help");
        assert!(stdout(&o).contains("Usage: hark"), "{cmd}: {}", stdout(&o));
    }
    let o = hark(dir.path(), &["frobnicate"], None);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn config_errors_name_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "hark.toml",
        "[storage]\ndata_dir = \"data\"\n\n[[sources]]\nname = \"news\"\nkind = \"feed\"\nurl = [\"https://example.com/rss\"]\n",
    );
    let o = hark(dir.path(), &["run", "--once"], None);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("hark.toml:7:1: unknown key `url`, did you mean `urls`?"),
        "{e}"
    );
    assert!(stdout(&o).is_empty(), "nothing on stdout but results");

    // A broken TOML line.
    write(dir.path(), "hark.toml", "[storage\ndata_dir = \"data\"\n");
    let o = hark(dir.path(), &["run", "--once"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("hark.toml:1:"), "{}", stderr(&o));

    // Invalid query syntax: the query file and the column inside it.
    write(dir.path(), "hark.toml", "[storage]\ndata_dir = \"data\"\n");
    write(
        dir.path(),
        "queries/acme.toml",
        "name = \"acme\"\nmatch = 'acme AND (corp OR'\n",
    );
    let o = hark(dir.path(), &["run", "--once"], None);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("queries/acme.toml:2:"), "{e}");
    assert!(e.contains("column"), "{e}");

    // A missing explicit config.
    let o = hark(
        dir.path(),
        &["--config", "nope.toml", "run", "--once"],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("nope.toml"), "{}", stderr(&o));
}

#[test]
fn classify_with_brand_terms_neutral() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "queries/united.toml",
        "match = 'united OR @united OR \"united airlines\"'\n",
    );
    write(
        dir.path(),
        "queries/bestbuy.toml",
        "name = \"bestbuy\"\nmatch = '\"best buy\" OR @bestbuy'\n",
    );
    let input = "@united my bag is lost\nUnited Airlines lost my luggage again\nthanks @united, the crew was great\n";
    let plain = hark(dir.path(), &["classify"], Some(input));
    assert!(plain.status.success(), "{}", stderr(&plain));
    let plain: Vec<serde_json::Value> = stdout(&plain)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(plain.len(), 3);
    assert_eq!(
        plain[0]["label"], "positive",
        "plain VADER is fooled by 'united'"
    );

    let o = hark(dir.path(), &["classify", "--query", "united"], Some(input));
    let v: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(v[0]["label"], "negative");
    assert_eq!(v[1]["label"], "negative");
    assert_eq!(v[2]["label"], "positive");
    for r in &v {
        let (n, u, p) = (
            r["neg"].as_f64().unwrap(),
            r["neu"].as_f64().unwrap(),
            r["pos"].as_f64().unwrap(),
        );
        assert!((n + u + p - 1.0).abs() < 0.01, "{r}");
        assert!(r["score"].as_f64().unwrap().abs() <= 1.0);
    }

    let o = hark(
        dir.path(),
        &["classify", "--query", "bestbuy", "--format", "tsv"],
        Some("Best Buy\nBest Buy has the best prices\n"),
    );
    let lines: Vec<&str> = std::str::from_utf8(&o.stdout).unwrap().lines().collect();
    assert!(lines[0].starts_with("neutral\t"), "{lines:?}");
    assert!(lines[1].starts_with("positive\t"), "{lines:?}");

    let o = hark(dir.path(), &["classify", "--query", "unitde"], Some("x\n"));
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("did you mean `united`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn init_writes_a_deployment_for_my_brand_that_runs() {
    let dir = tempfile::tempdir().unwrap();
    let o = hark(
        dir.path(),
        &[
            "init",
            "site",
            "--brand",
            "Acme Corp",
            "--competitor",
            "Globex",
            "--lang",
            "fr,ru",
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    for f in [
        "hark.toml",
        "queries/acme-corp.toml",
        "queries/globex.toml",
        "alerts/acme-corp-negative-spike.toml",
        "alerts/acme-corp-crisis-keywords.toml",
    ] {
        assert!(dir.path().join("site").join(f).exists(), "{f} missing");
    }
    let toml = std::fs::read_to_string(dir.path().join("site/hark.toml")).unwrap();
    // Brand-neutral: nothing of the repository's own example deployment.
    assert!(
        !toml.contains("cloudflare") && !toml.contains("sysadmin"),
        "{toml}"
    );
    assert!(toml.contains("hl=fr") && toml.contains("hl=ru"), "{toml}");
    let keywords = std::fs::read_to_string(
        dir.path()
            .join("site/alerts/acme-corp-crisis-keywords.toml"),
    )
    .unwrap();
    assert!(
        keywords.contains("panne") && keywords.contains("сбой") && keywords.contains("outage"),
        "{keywords}"
    );

    // Point every enabled source at a local server and run the deployment once.
    let server = TestServer::start();
    let item = |title: &str, guid: &str| {
        format!(
            "<item><title>{title}</title><link>http://example.com/{guid}</link><guid>{guid}</guid><description>{title}</description></item>"
        )
    };
    let rss = |items: String| {
        format!("<rss version=\"2.0\"><channel><title>t</title>{items}</channel></rss>")
            .into_bytes()
    };
    server.file(
        "/rss/search",
        rss(item("Acme Corp outage leaves customers angry", "n1")
            + &item("Globex opens a new plant", "n2")),
        "application/rss+xml",
    );
    server.file(
        "/newest",
        rss(item("Show HN: a tool that uses Acme Corp APIs", "h1")),
        "application/rss+xml",
    );
    let local: String = toml
        .lines()
        .filter(|l| !l.starts_with("base_url"))
        .map(|l| {
            if l.starts_with("kind = ") {
                format!("{l}\nbase_url = \"{}\"\n", server.url(""))
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    std::fs::write(dir.path().join("site/hark.toml"), local).unwrap();
    let o = hark(
        dir.path(),
        &[
            "--config",
            "site/hark.toml",
            "run",
            "--once",
            "--format",
            "json",
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let summary: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert!(summary["indexed"].as_u64().unwrap() >= 3, "{summary}");
    assert!(
        summary["alerts_raised"].as_u64().unwrap() >= 1,
        "the crisis keyword alert did not fire: {summary}"
    );
    let titles = |q: &str| {
        let o = hark(
            dir.path(),
            &[
                "--config",
                "site/hark.toml",
                "search",
                "--query",
                q,
                "--format",
                "jsonl",
            ],
            None,
        );
        assert!(o.status.success(), "{}", stderr(&o));
        let mut t: Vec<String> = stdout(&o)
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["title"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        t.sort();
        t
    };
    assert_eq!(
        titles("acme-corp"),
        [
            "Acme Corp outage leaves customers angry",
            "Show HN: a tool that uses Acme Corp APIs"
        ]
    );
    assert_eq!(titles("globex"), ["Globex opens a new plant"]);
    // A second init refuses to overwrite.
    let o = hark(dir.path(), &["init", "site"], None);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn demo_runs_offline_and_shows_the_burst() {
    let dir = tempfile::tempdir().unwrap();
    let o = hark(dir.path(), &["demo", "--keep", "demo-site"], None);
    let out = stdout(&o);
    assert!(o.status.success(), "{}\n{}", out, stderr(&o));
    assert!(out.contains("Collected 400 posts from 3 feeds"), "{out}");
    // The story only: no log line on stdout or stderr without -v (they go to a file).
    for l in out.lines().chain(stderr(&o).lines()) {
        assert!(
            !l.contains(" INFO ") && !l.contains(" WARN ") && !l.contains(" ERROR "),
            "log line: {l}"
        );
    }
    assert!(out.contains("hark demo --serve"), "{out}");
    assert!(out.contains("24 h ago") && out.contains("now"), "{out}");
    assert!(
        out.contains("Latest negative mentions of brightwave"),
        "{out}"
    );
    assert!(
        out.contains("3 of 3 feeds answered 304 Not Modified; 0 new mentions"),
        "{out}"
    );
    // The alert says what the burst is about: the outage words, not the brand.
    let about = out
        .lines()
        .find(|l| l.trim_start().starts_with("about:"))
        .unwrap_or_else(|| panic!("no drivers line in the demo:\n{out}"));
    assert!(
        about.contains("down") && about.contains("outage"),
        "{about}"
    );
    assert!(!about.to_lowercase().contains("brightwave"), "{about}");
    // The backtest table shows, per alert, an example of what people were saying.
    let o = hark(
        dir.path(),
        &[
            "--config",
            "demo-site/hark.toml",
            "alerts",
            "backtest",
            "brightwave-negative-spike",
            "--format",
            "table",
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let table = stdout(&o);
    assert!(
        table.contains("OBSERVED") && table.contains("e.g. "),
        "{table}"
    );
    assert!(table.to_lowercase().contains("brightwave"), "{table}");
    // Realistic engagement: the sample carries counters, so reach is not all zeros, and
    // links point to the (fictional) sites, not to the demo's server that is gone.
    let o = hark(
        dir.path(),
        &[
            "--config",
            "demo-site/hark.toml",
            "search",
            "--sort",
            "reach",
            "--limit",
            "5",
            "--format",
            "jsonl",
        ],
        None,
    );
    let top: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(top.len(), 5, "{}", stderr(&o));
    for m in &top {
        assert!(m["reach"].as_u64().unwrap() > 1000, "{m}");
        assert!(m["url"].as_str().unwrap().starts_with("https://"), "{m}");
    }
    let o = hark(
        dir.path(),
        &[
            "--config",
            "demo-site/hark.toml",
            "alerts",
            "list",
            "--format",
            "json",
        ],
        None,
    );
    let a: serde_json::Value = serde_json::from_str(stdout(&o).lines().next().unwrap()).unwrap();
    let terms: Vec<&str> = a["alert"]["drivers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["term"].as_str().unwrap())
        .collect();
    assert!(
        terms[..2].contains(&"down") && terms[..2].contains(&"outage"),
        "{terms:?}"
    );
    for d in a["alert"]["drivers"].as_array().unwrap() {
        let share = d["share"].as_f64().unwrap();
        assert!(share > 0.0 && share <= 1.0 && share > d["baseline_share"].as_f64().unwrap());
    }
    // The backtest over the whole index (no --since) finds the same burst, with its drivers.
    let o = hark(
        dir.path(),
        &[
            "--config",
            "demo-site/hark.toml",
            "alerts",
            "backtest",
            "brightwave-negative-spike",
            "--format",
            "table",
        ],
        None,
    );
    let table = stdout(&o);
    assert!(o.status.success(), "{table}\n{}", stderr(&o));
    assert!(table.starts_with("FIRED (UTC)"), "{table}");
    let first = table.lines().nth(1).unwrap();
    assert!(
        first.contains(" new ") && first.contains("outage"),
        "{table}"
    );
    // The kept deployment is searchable with the ordinary commands.
    let o = hark(
        dir.path(),
        &[
            "--config",
            "demo-site/hark.toml",
            "search",
            "\"brightwave fiber\" AND down",
            "--since",
            "4h",
            "--format",
            "json",
            "--limit",
            "100",
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(v["total"].as_u64().unwrap() >= 10, "{v}");
    for m in v["mentions"].as_array().unwrap() {
        assert_eq!(m["sentiment"]["label"], "negative", "{m}");
    }
    // The look-alike company never matches the brand query.
    let o = hark(
        dir.path(),
        &[
            "--config",
            "demo-site/hark.toml",
            "search",
            "brightwaver",
            "--query",
            "brightwave",
            "--format",
            "json",
        ],
        None,
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["total"].as_u64(), Some(0));
}

/// `stats`, `alerts backtest` and `run --once` speak to people with `--format table`
/// (the default on a terminal) and keep JSON for pipes.
#[test]
fn human_tables_for_stats_and_the_run_summary() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start();
    server.file(
        "/feed.xml",
        b"<rss version=\"2.0\"><channel><item><title>Acme is great</title><guid>1</guid><pubDate>Mon, 30 Nov 2026 10:00:00 GMT</pubDate></item><item><title>Acme is terrible and awful</title><guid>2</guid><pubDate>Tue, 01 Dec 2026 10:00:00 GMT</pubDate></item></channel></rss>".to_vec(),
        "application/rss+xml",
    );
    write(
        dir.path(),
        "hark.toml",
        &format!(
            "[[sources]]\nname = \"news\"\nkind = \"feed\"\nurls = [\"{}\"]\n\n[[sources]]\nname = \"dead\"\nkind = \"feed\"\nurls = [\"http://127.0.0.1:9/none.xml\"]\n[http]\nretries = 0\n",
            server.url("/feed.xml")
        ),
    );
    write(dir.path(), "queries/acme.toml", "match = 'acme'\n");
    let o = hark(dir.path(), &["run", "--once", "--format", "table"], None);
    let out = stdout(&o);
    let line = |name: &str| {
        out.lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_default()
            .to_string()
    };
    assert!(line("news").ends_with("1 request, 2 items  — ok"), "{out}");
    assert!(
        line("dead").ends_with("1 request, 0 items  — FAILED: connection refused"),
        "{out}"
    );
    assert!(
        out.contains("1 of 2 sources failed; the others were collected."),
        "{out}"
    );
    // Piped, the default is JSON.
    let o = hark(
        dir.path(),
        &[
            "stats",
            "--query",
            "acme",
            "--since",
            "2026-11-29",
            "--until",
            "2026-12-02",
        ],
        None,
    );
    assert!(
        serde_json::from_str::<serde_json::Value>(stdout(&o).trim()).is_ok(),
        "{}",
        stdout(&o)
    );
    let o = hark(
        dir.path(),
        &[
            "stats",
            "--query",
            "acme",
            "--since",
            "2026-11-29",
            "--until",
            "2026-12-02",
            "--format",
            "table",
        ],
        None,
    );
    let out = stdout(&o);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        out.contains("PERIOD (UTC)") && out.contains("NEGATIVE"),
        "{out}"
    );
    let total = out
        .lines()
        .find(|l| l.starts_with("TOTAL"))
        .unwrap_or_else(|| panic!("{out}"));
    let cols: Vec<&str> = total.split_whitespace().collect();
    assert_eq!(&cols[1..5], ["2", "1", "0", "1"], "{out}");
    assert!(out.contains("volume    "), "{out}");
    // A mistyped --source is a usage error with the closest name, not an empty result.
    let o = hark(dir.path(), &["search", "--source", "nwes"], None);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(
        stderr(&o).contains("did you mean `news`?"),
        "{}",
        stderr(&o)
    );
    let o = hark(
        dir.path(),
        &["search", "--source", "news", "--format", "jsonl"],
        None,
    );
    assert_eq!(stdout(&o).lines().count(), 2, "{}", stderr(&o));
}

/// CSV import: a plain date is accepted, and an unknown column is warned about once (with
/// the closest field name) instead of being ignored without a word.
#[test]
fn import_accepts_plain_dates_and_names_unknown_columns() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "queries/acme.toml", "match = 'acme'\n");
    write(
        dir.path(),
        "m.csv",
        "text,published_at,athor\nAcme one,2026-12-01,ann\nAcme two,2026-12-02,bob\n",
    );
    let o = hark(dir.path(), &["import", "m.csv"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let summary: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(summary["imported"], 2, "{summary}");
    assert_eq!(
        summary["ignored_fields"],
        serde_json::json!(["athor"]),
        "{summary}"
    );
    let err = stderr(&o);
    assert_eq!(
        err.matches("field `athor` is not part of a mention")
            .count(),
        1,
        "{err}"
    );
    assert!(err.contains("did you mean `author`?"), "{err}");
}

/// Shell completions and the man page are generated from the same clap definitions.
#[test]
fn completions_and_man_page() {
    let dir = tempfile::tempdir().unwrap();
    for (shell, marker) in [
        ("bash", "_hark()"),
        ("zsh", "#compdef hark"),
        ("fish", "complete -c hark"),
    ] {
        let o = hark(dir.path(), &["completions", shell], None);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(stdout(&o).contains(marker), "{shell}: {}", stdout(&o));
        assert!(
            stdout(&o).contains("backtest"),
            "{shell}: subcommands missing"
        );
    }
    let o = hark(dir.path(), &["man"], None);
    assert!(stdout(&o).contains(".TH hark 1"), "{}", stdout(&o));
}
