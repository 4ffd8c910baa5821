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
fn init_writes_a_loadable_deployment() {
    let dir = tempfile::tempdir().unwrap();
    let o = hark(dir.path(), &["init", "site"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(dir.path().join("site/hark.toml").exists());
    // The written config loads: classify uses its queries.
    let o = hark(
        dir.path(),
        &[
            "--config",
            "site/hark.toml",
            "classify",
            "--query",
            "cloudflare",
        ],
        Some("cloudflare is down again, terrible\n"),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("\"negative\""));
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
