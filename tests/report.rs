//! `hark report` end to end: HTML and PDF from a real index; the numbers equal what
//! `hark stats` and `hark search` give for the same period; hostile mention text is inert;
//! the PDF opens in poppler (`pdftotext`, installed by `.ci/run`).

mod common;

use common::*;
use serde_json::{Value, json};
use std::path::Path;

const HOSTILE: &str = "acme <script>alert(1)</script> <img src=x onerror=alert(1)> [x](javascript:alert(1)) <!channel> broke everything";

fn deployment() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "hark.toml", "[storage]\ndata_dir = \"data\"\n");
    write(dir.path(), "queries/acme.toml", "match = 'acme'\n");
    write(dir.path(), "queries/globex.toml", "match = 'globex'\n");
    let rows = [
        ("acme support is terrible", "negative", -0.6),
        ("acme shipped fast, great", "positive", 0.7),
        ("acme opened a store", "neutral", 0.0),
        ("globex is awful", "negative", -0.5),
    ];
    let mut lines = String::new();
    for i in 0..80u64 {
        let (text, label, score) = rows[i as usize % rows.len()];
        // The most-reached negative acme mention is hostile.
        let (text, url, reach) = if i == 40 {
            (HOSTILE, "javascript:alert(1)".to_string(), 1_000_000)
        } else {
            (text, format!("https://example.com/{i}"), 100 + 7 * i)
        };
        lines.push_str(
            &json!({
                "id": format!("r:{i}"), "source": if i % 3 == 0 { "news" } else { "forum" },
                "source_kind": "feed", "url": url, "author": format!("author{}", i % 5),
                "text": text,
                // Half in the previous period (October), half in the report's (November).
                "published_at": format!("2026-{}-{:02}T10:00:00Z", if i % 2 == 0 { "11" } else { "10" }, 1 + i % 28),
                "lang": "en", "sentiment": {"label": label, "score": score, "model": "lexicon"},
                "reach": reach,
            })
            .to_string(),
        );
        lines.push('\n');
    }
    write(dir.path(), "m.jsonl", &lines);
    let o = hark(dir.path(), &["import", "m.jsonl"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    dir
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn report(dir: &Path, out: &str) -> std::process::Output {
    hark(
        dir,
        &[
            "report",
            "--query",
            "acme",
            "--since",
            "2026-11-01",
            "--until",
            "2026-12-01",
            "--out",
            out,
            "--compare",
            "globex",
            "--title",
            "Acme <Q4> review",
            "--brand-name",
            "Agency & Co",
        ],
        None,
    )
}

#[test]
fn html_report_matches_stats_and_search() {
    let dir = deployment();
    let o = report(dir.path(), "r.html");
    assert!(o.status.success(), "{}", stderr(&o));
    let html = std::fs::read_to_string(dir.path().join("r.html")).unwrap();

    let o = hark(
        dir.path(),
        &[
            "stats",
            "--query",
            "acme",
            "--since",
            "2026-11-01",
            "--until",
            "2026-12-01",
            "--format",
            "json",
        ],
        None,
    );
    let stats: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let t = &stats["totals"];
    let total = t["total"].as_u64().unwrap();
    assert_eq!(total, 40);
    assert!(
        html.contains(&format!(">{}<", thousands(total))),
        "mentions KPI"
    );
    assert!(
        html.contains(&thousands(t["reach"].as_u64().unwrap())),
        "reach KPI"
    );
    let neg_share = 100.0 * t["negative"].as_f64().unwrap() / total as f64;
    assert!(
        html.contains(&format!("{neg_share:.1}")),
        "negative share {neg_share:.1}"
    );

    // The top negative mention is the one `hark search` ranks first by reach.
    let o = hark(
        dir.path(),
        &[
            "search",
            "--query",
            "acme",
            "--sentiment",
            "negative",
            "--sort",
            "reach",
            "--limit",
            "1",
            "--since",
            "2026-11-01",
            "--until",
            "2026-12-01",
            "--format",
            "json",
        ],
        None,
    );
    let top: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(top["mentions"][0]["id"], "r:40");
    // Shown, escaped, inert.
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    for bad in ["<script", "onerror=", "href=\"javascript:", "<img src=x"] {
        assert!(!html.contains(bad), "{bad} in the report");
    }
    // White label, escaped too.
    assert!(html.contains("Acme &lt;Q4&gt; review"));
    assert!(html.contains("Agency &amp; Co"));
    // Share of voice names the competitor; no external requests.
    assert!(html.contains("globex"));
    assert!(!html.contains("src=\"http"), "external resource");
    assert!(html.contains("<svg"));
}

#[test]
fn pdf_report_opens_and_has_the_same_numbers() {
    let dir = deployment();
    let o = report(dir.path(), "r.pdf");
    assert!(o.status.success(), "{}", stderr(&o));
    let pdf = std::fs::read(dir.path().join("r.pdf")).unwrap();
    assert!(pdf.starts_with(b"%PDF-1.7"));
    assert!(pdf.ends_with(b"%%EOF"));
    let Ok(out) = std::process::Command::new("pdftotext")
        .args(["r.pdf", "-"])
        .current_dir(dir.path())
        .output()
    else {
        assert!(
            std::env::var_os("CI").is_none(),
            "pdftotext is required under CI"
        );
        eprintln!("SKIPPED: pdftotext (poppler-utils) is not installed");
        return;
    };
    assert!(
        out.status.success(),
        "pdftotext failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let o = hark(
        dir.path(),
        &[
            "stats",
            "--query",
            "acme",
            "--since",
            "2026-11-01",
            "--until",
            "2026-12-01",
            "--format",
            "json",
        ],
        None,
    );
    let stats: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(
        text.contains(&thousands(stats["totals"]["reach"].as_u64().unwrap())),
        "{text}"
    );
    assert!(text.contains("broke everything"), "{text}");
    assert!(text.contains("Agency & Co"), "{text}");
}

#[test]
fn report_arguments_are_checked() {
    let dir = deployment();
    let o = hark(
        dir.path(),
        &["report", "--query", "acmee", "--out", "x.html"],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("acme"), "{}", stderr(&o));
    let o = hark(
        dir.path(),
        &["report", "--query", "acme", "--out", "x.docx"],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains(".html or .pdf"), "{}", stderr(&o));
}

/// A query's `display_name` names it in the report (title, share of voice), not its file
/// name.
#[test]
fn reports_use_the_query_display_name() {
    let dir = deployment();
    write(
        dir.path(),
        "queries/acme.toml",
        "display_name = \"Acme Inc.\"\nmatch = 'acme'\n",
    );
    let o = hark(
        dir.path(),
        &[
            "report",
            "--query",
            "acme",
            "--since",
            "2026-11-01",
            "--until",
            "2026-12-01",
            "--compare",
            "globex",
            "--out",
            "d.html",
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let html = std::fs::read_to_string(dir.path().join("d.html")).unwrap();
    assert!(
        html.contains("<h1>Reputation report: Acme Inc.</h1>"),
        "title"
    );
    assert!(html.contains("Acme Inc. was mentioned"), "summary");
    assert!(
        html.contains("Share of voice: Acme Inc. "),
        "summary share of voice"
    );
}

/// `--locale`: the report's own words, dates and numbers in the client's language; the
/// mentions as written.
#[test]
fn reports_in_french_and_russian() {
    let dir = deployment();
    let args = |out: &'static str, locale: &'static str| {
        vec![
            "report",
            "--query",
            "acme",
            "--since",
            "2026-11-01",
            "--until",
            "2026-12-01",
            "--out",
            out,
            "--locale",
            locale,
        ]
    };
    let o = hark(dir.path(), &args("ru.html", "ru"), None);
    assert!(o.status.success(), "{}", stderr(&o));
    let html = std::fs::read_to_string(dir.path().join("ru.html")).unwrap();
    for needle in [
        "<html lang=\"ru\">",
        "Отчёт о репутации: acme",
        "Ключевые показатели",
        "упоминаний",
        "acme support is terrible",
    ] {
        assert!(html.contains(needle), "{needle}");
    }
    let o = hark(dir.path(), &args("fr.pdf", "fr"), None);
    assert!(o.status.success(), "{}", stderr(&o));
    let Ok(out) = std::process::Command::new("pdftotext")
        .args(["fr.pdf", "-"])
        .current_dir(dir.path())
        .output()
    else {
        assert!(
            std::env::var_os("CI").is_none(),
            "pdftotext is required under CI"
        );
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for needle in ["Synthèse", "Chiffres clés", "a été mentionné", "Page 1 sur"] {
        assert!(text.contains(needle), "{needle}: {text}");
    }
    let o = hark(dir.path(), &args("x.html", "it"), None);
    assert_eq!(
        o.status.code(),
        Some(2),
        "an unknown locale is a usage error"
    );
}
