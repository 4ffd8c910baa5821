//! `hark import` of 100,000 generated mentions; search and stats must agree with counts
//! computed independently while generating the file. A second import stores nothing twice;
//! broken lines are reported by number and the rest is imported.

mod common;

use common::*;
use std::collections::HashMap;
use std::io::Write;

const N: usize = 100_000;

/// A small deterministic PRNG, so the test needs no extra crates.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() as usize) % xs.len()]
    }
}

#[test]
fn import_100k_then_search_and_stats_agree() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "hark.toml", "[storage]\ndata_dir = \"data\"\n");
    write(dir.path(), "queries/acme.toml", "match = 'acme OR @acme'\n");
    write(dir.path(), "queries/globex.toml", "match = 'globex'\n");
    let path = dir.path().join("mentions.jsonl");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let mut rng = Lcg(42);
    let labels = ["negative", "neutral", "positive"];
    let subjects = ["acme", "globex", "initech"];
    let sources = ["reddit-main", "news", "forum"];
    // Independent tallies.
    let mut per_day_label: HashMap<(String, String), u64> = HashMap::new();
    let mut per_query: HashMap<&str, u64> = HashMap::new();
    let mut acme_negative_in_range = 0u64;
    let mut reach_total: u64 = 0;
    let base = chrono::DateTime::parse_from_rfc3339("2026-09-01T00:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    for i in 0..N {
        let subject = rng.pick(&subjects);
        let label = rng.pick(&labels);
        let source = rng.pick(&sources);
        let minutes = (rng.next() % (60 * 24 * 60)) as i64; // 60 days
        let t = base + chrono::Duration::minutes(minutes);
        let followers = rng.next() % 5000;
        // Half the lines carry their own sentiment; for the other half it is computed, from
        // (numbers are glued to "item-": VADER scores some bare numbers, e.g. 143 and 86)
        // wording whose lexicon sentiment is unambiguous.
        let explicit = i % 2 == 0;
        let tone = match (explicit, label) {
            (true, _) | (false, "neutral") => "",
            (false, "negative") => " awful, I hate it",
            _ => " I love it, great",
        };
        let text = format!(
            "item-{i} about {subject} with some words {}.{tone}",
            rng.pick(&["alpha", "beta", "gamma"])
        );
        let mut obj = serde_json::json!({
            "id": format!("test:{i}"),
            "source": source,
            "source_kind": "test",
            "url": format!("https://example.com/{i}"),
            "author": format!("user{}", i % 977),
            "text": text,
            "published_at": t.to_rfc3339(),
            "engagement": {"likes": 1, "shares": 0, "comments": 0, "views": null, "followers": followers},
        });
        if explicit {
            obj["sentiment"] =
                serde_json::json!({"label": label, "score": 0.0, "model": "external"});
        }
        writeln!(f, "{obj}").unwrap();
        let day = t.format("%Y-%m-%d").to_string();
        *per_day_label.entry((day, label.to_string())).or_default() += 1;
        if subject != "initech" {
            *per_query.entry(subject).or_default() += 1;
        }
        if subject == "acme"
            && label == "negative"
            && t >= base + chrono::Duration::days(10)
            && t < base + chrono::Duration::days(20)
        {
            acme_negative_in_range += 1;
        }
        reach_total += followers + 5; // reach = followers + 50×shares + 5×likes
    }
    // Three broken lines.
    writeln!(f, "{{not json").unwrap();
    writeln!(f, "{{\"id\":\"x\",\"text\":\"no time\"}}").unwrap();
    writeln!(f, "{{\"id\":\"y\",\"text\":\"bad label\",\"published_at\":\"2026-09-02T00:00:00Z\",\"sentiment\":\"furious\"}}").unwrap();
    f.flush().unwrap();
    drop(f);

    let o = hark(dir.path(), &["import", "mentions.jsonl"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let summary: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(summary["imported"].as_u64(), Some(N as u64), "{summary}");
    assert_eq!(summary["failed"].as_u64(), Some(3));
    let lines: Vec<u64> = summary["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, vec![N as u64 + 1, N as u64 + 2, N as u64 + 3]);
    assert!(stderr(&o).contains(&format!("mentions.jsonl:{}", N + 2)));

    // Per-query totals (queries computed by matching).
    for (q, want) in &per_query {
        let o = hark(
            dir.path(),
            &["search", "--query", q, "--limit", "0", "--format", "json"],
            None,
        );
        let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert_eq!(v["total"].as_u64(), Some(*want), "query {q}");
    }
    // A text query with a date range and a sentiment filter.
    let o = hark(
        dir.path(),
        &[
            "search",
            "acme",
            "--since",
            "2026-09-11",
            "--until",
            "2026-09-21",
            "--sentiment",
            "negative",
            "--source",
            "test",
            "--limit",
            "5",
            "--format",
            "json",
        ],
        None,
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["total"].as_u64(), Some(acme_negative_in_range));
    assert_eq!(v["mentions"].as_array().unwrap().len(), 5);
    let o = hark(
        dir.path(),
        &["search", "acme AND model:x", "--limit", "1"],
        None,
    );
    assert_eq!(o.status.code(), Some(2), "unknown field is a usage error");

    // Stats per day and label.
    let o = hark(
        dir.path(),
        &["stats", "--interval", "day", "--format", "json"],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let s: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(s["totals"]["total"].as_u64(), Some(N as u64));
    assert_eq!(s["totals"]["reach"].as_u64(), Some(reach_total));
    let buckets = s["buckets"].as_array().unwrap();
    assert_eq!(buckets.len(), 60);
    let sum: u64 = buckets.iter().map(|b| b["total"].as_u64().unwrap()).sum();
    assert_eq!(sum, N as u64);
    for b in buckets {
        let day = &b["start"].as_str().unwrap()[..10];
        for l in ["negative", "neutral", "positive"] {
            let want = per_day_label
                .get(&(day.to_string(), l.to_string()))
                .copied()
                .unwrap_or(0);
            assert_eq!(b[l].as_u64().unwrap(), want, "{day} {l}");
        }
    }

    // Importing again stores each mention once.
    let o = hark(dir.path(), &["import", "mentions.jsonl"], None);
    assert!(o.status.success());
    let o = hark(dir.path(), &["stats", "--format", "json"], None);
    let s: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(s["totals"]["total"].as_u64(), Some(N as u64));
}
