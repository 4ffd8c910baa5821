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

/// Learning from corrections: French mentions whose model answer the team corrected
/// (`hark mention set --sentiment`) are evaluated with `hark model eval --corrections`; a
/// model trained with `--corrections` agrees with the team more, and the deployment uses it.
#[test]
fn corrections_are_evaluated_and_learned() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "hark.toml", "");
    write(dir.path(), "queries/acme.toml", "match = 'acme'\n");
    // Slang the built-in French model does not know: "claqué" (broken) and "une dinguerie"
    // (amazing).
    let texts = [
        (
            "c1",
            "acme la livraison est claquée au sol, franchement claqué",
            "negative",
        ),
        (
            "c2",
            "le colis acme est arrivé claqué, encore claqué",
            "negative",
        ),
        ("c3", "acme service client claqué comme jamais", "negative"),
        (
            "c4",
            "acme cette appli est une dinguerie, une vraie dinguerie",
            "positive",
        ),
        (
            "c5",
            "le nouveau acme c'est une dinguerie totale",
            "positive",
        ),
        ("c6", "acme une dinguerie ce support, dinguerie", "positive"),
    ];
    let lines: Vec<String> = texts
        .iter()
        .map(|(id, t, _)| {
            json!({"id": id, "source": "import", "text": t, "lang": "fr",
                   "published_at": Utc::now().to_rfc3339()})
            .to_string()
        })
        .collect();
    write(dir.path(), "m.jsonl", &(lines.join("\n") + "\n"));
    let o = hark(dir.path(), &["import", "m.jsonl"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = hark(
        dir.path(),
        &["model", "eval", "--corrections", "--lang", "fr"],
        None,
    );
    assert_eq!(
        o.status.code(),
        Some(2),
        "no corrections yet: {}",
        stderr(&o)
    );
    for (id, _, label) in &texts {
        let o = hark(
            dir.path(),
            &["mention", "set", id, "--sentiment", label],
            None,
        );
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let eval = |dir: &std::path::Path| -> f64 {
        let o = hark(
            dir,
            &[
                "model",
                "eval",
                "--corrections",
                "--lang",
                "fr",
                "--format",
                "json",
            ],
            None,
        );
        assert!(o.status.success(), "{}", stderr(&o));
        let v: Value = serde_json::from_str(stdout(&o).trim()).unwrap();
        // Agreement with the team (accuracy: the corrections hold no neutral example).
        v["metrics"]["accuracy"].as_f64().unwrap()
    };
    let before = eval(dir.path());
    // A small base training set without the slang, plus the corrections.
    let base: Vec<String> = (0..20)
        .flat_map(|i| {
            [
                format!("negative\tc'est nul et lent {i}"),
                format!("positive\tc'est super et rapide {i}"),
                format!("neutral\tle magasin ouvre à {i} heures"),
            ]
        })
        .collect();
    write(dir.path(), "train.tsv", &(base.join("\n") + "\n"));
    let o = hark(
        dir.path(),
        &[
            "model",
            "train",
            "--kind",
            "ngram",
            "--lang",
            "fr",
            "--data",
            "train.tsv",
            "--corrections",
            "--out",
            "models/ngram/fr.hng",
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let t: Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(t["corrections"], 6, "{t}");
    let after = eval(dir.path());
    assert!(after > before, "corrections learned: {before} → {after}");
    assert!(after >= 0.99, "{after}");
}
