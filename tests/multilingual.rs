//! Sentiment by language, end to end: mixed-language mentions are imported, each scored by
//! its language's classifier (or `unscored`), stats count the unscored apart, and a burst
//! of Russian complaints raises a `negative_spike` in a backtest.

mod common;

use chrono::{Duration, Utc};
use common::*;
use serde_json::{Value, json};

fn line(id: &str, text: &str, minutes_ago: i64) -> String {
    json!({
        "id": id,
        "source": "import",
        "text": text,
        "published_at": (Utc::now() - Duration::minutes(minutes_ago)).to_rfc3339(),
    })
    .to_string()
}

#[test]
fn mixed_languages_are_scored_by_their_own_models() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "hark.toml", "");
    write(dir.path(), "queries/acme.toml", "match = 'acme OR акме'\n");
    let rows = [
        line(
            "ru:1",
            "Акме: ужасный сервис, никогда больше не буду пользоваться",
            30,
        ),
        line(
            "fr:1",
            "Acme, ce service est nul, je suis vraiment furieux",
            30,
        ),
        line(
            "de:1",
            "Acme ist super, vielen Dank für die tolle Hilfe!",
            30,
        ),
        line("en:1", "I love Acme, the support team was wonderful", 30),
        line(
            "nl:1",
            "Acme heeft de levering weer niet op tijd gedaan, echt jammer",
            30,
        ),
        line("ja:1", "Acmeのサポートはとても良かったです", 30),
    ];
    write(dir.path(), "in.jsonl", &(rows.join("\n") + "\n"));
    let o = hark(dir.path(), &["import", "in.jsonl"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = hark(
        dir.path(),
        &["search", "--format", "json", "--limit", "100"],
        None,
    );
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let by_id = |id: &str| -> Value {
        v["mentions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == id)
            .unwrap_or_else(|| panic!("{id} missing: {v}"))
            .clone()
    };
    for (id, lang, label, model) in [
        ("ru:1", "ru", "negative", "ngram-ru"),
        ("fr:1", "fr", "negative", "ngram-fr"),
        ("de:1", "de", "positive", "ngram-de"),
        ("en:1", "en", "positive", "lexicon"),
        ("nl:1", "nl", "unscored", "none"),
        ("ja:1", "ja", "unscored", "none"),
    ] {
        let m = by_id(id);
        assert_eq!(m["lang"], lang, "{m}");
        assert_eq!(m["sentiment"]["label"], label, "{m}");
        assert_eq!(m["sentiment"]["model"], model, "{m}");
    }
    assert_eq!(by_id("nl:1")["sentiment"]["score"], 0.0);
    // `--sentiment unscored` finds them; neutral does not include them.
    let o = hark(
        dir.path(),
        &["search", "--sentiment", "unscored", "--format", "json"],
        None,
    );
    let u: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(u["total"], 2, "{u}");

    let o = hark(
        dir.path(),
        &[
            "stats", "--query", "acme", "--since", "1d", "--format", "json",
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let s: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let t = &s["totals"];
    assert_eq!(t["total"], 6, "{s}");
    assert_eq!(t["unscored"], 2, "{s}");
    assert_eq!(t["neutral"], 0, "{s}");
    // Net sentiment over the 4 scored mentions: (2 − 2) / 4.
    assert_eq!(s["net_sentiment"], 0.0, "{s}");

    // hark classify: per-line detection, `--lang` forcing.
    let o = hark(
        dir.path(),
        &["classify", "--format", "tsv"],
        Some("Ужасный сервис, никогда больше\nDit is een zin\n"),
    );
    let out = stdout(&o);
    let labels: Vec<&str> = out.lines().map(|l| l.split('\t').next().unwrap()).collect();
    assert_eq!(labels, ["negative", "unscored"], "{out}");
    let o = hark(
        dir.path(),
        &["classify", "--lang", "en", "--format", "tsv"],
        Some("Ужасный сервис, никогда больше\n"),
    );
    assert!(stdout(&o).starts_with("neutral"), "{}", stdout(&o));
}

#[test]
fn a_burst_of_russian_complaints_raises_a_negative_spike() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "hark.toml", "");
    write(dir.path(), "queries/acme.toml", "match = 'acme OR акме'\n");
    write(
        dir.path(),
        "alerts/acme-negative.toml",
        "name = \"acme-negative\"\nquery = \"acme\"\nkind = \"negative_spike\"\nwindow = \"1h\"\nbaseline = \"7d\"\ncooldown = \"6h\"\n",
    );
    let calm = [
        "Акме сегодня работает нормально, спасибо",
        "Заказал в Акме новый роутер, посмотрим",
        "Акме: отличный сервис, всё быстро",
        "В Акме обновили тарифы",
    ];
    let mut rows = Vec::new();
    // A week of calm: a mention every 90 minutes.
    for i in 0..112 {
        rows.push(line(
            &format!("calm:{i}"),
            calm[i % calm.len()],
            90 + i as i64 * 90,
        ));
    }
    // The last 40 minutes: 40 complaints.
    let angry = [
        "Акме, ужасный сервис, интернет не работает весь день!",
        "Это позор, Акме опять всё сломал, ненавижу",
        "Акме — обман и кошмар, верните деньги",
        "Худший провайдер, Акме, никогда больше",
    ];
    for i in 0..40 {
        rows.push(line(
            &format!("angry:{i}"),
            angry[i % angry.len()],
            40 - i as i64,
        ));
    }
    write(dir.path(), "in.jsonl", &(rows.join("\n") + "\n"));
    let o = hark(dir.path(), &["import", "in.jsonl"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = hark(
        dir.path(),
        &[
            "search",
            "--sentiment",
            "negative",
            "--since",
            "1h",
            "--format",
            "json",
            "--limit",
            "0",
        ],
        None,
    );
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(
        v["total"].as_u64().unwrap() >= 36,
        "complaints scored negative: {v}"
    );
    let o = hark(
        dir.path(),
        &["alerts", "backtest", "acme-negative", "--since", "8d"],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let alerts: Vec<Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|a: &Value| a["update"] == "new")
        .collect();
    assert_eq!(alerts.len(), 1, "{}", stdout(&o));
    let fired =
        chrono::DateTime::parse_from_rfc3339(alerts[0]["fired_at"].as_str().unwrap()).unwrap();
    assert!(
        fired >= Utc::now() - Duration::minutes(45),
        "fired at {fired}"
    );
}
