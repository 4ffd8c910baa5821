//! The transformer classifier (`--features bert`), through the real binary: the shipped
//! model's quality on the dev set, the `hark classify` contract with brand masking, Hugging
//! Face directories checked number for number against transformers, training, start-up
//! errors, and the pipeline storing `bert` sentiment.
//!
//! Needs `models/setup-bert.sh` (torch, the base model, and transformers for the reference
//! numbers): `.ci/run` runs it.
#![cfg(feature = "bert")]

mod common;

use common::{hark, shared_or_skip, stderr, stdout, write};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The virtualenv's python (models/setup-bert.sh), which has torch and transformers.
fn venv_python() -> PathBuf {
    let venv = std::env::var("HARK_VENV").map_or_else(|_| repo().join(".venv"), PathBuf::from);
    let py = venv.join("bin/python");
    assert!(
        py.exists(),
        "{} missing: run models/setup-bert.sh",
        py.display()
    );
    py
}

/// `hark model eval --format json` on `data`, with `--model` when given.
fn eval_json(dir: &Path, model: Option<&str>, data: &str) -> std::process::Output {
    let mut args = vec!["model", "eval", "--format", "json", "--data", data];
    if let Some(m) = model {
        args.extend(["--model", m]);
    }
    hark(dir, &args, None)
}

fn jsonl(o: &std::process::Output) -> Vec<Value> {
    assert!(o.status.success(), "hark failed: {}", stderr(o));
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

#[test]
fn shipped_model_reaches_the_quality_target_on_dev() {
    let Some(dev) = shared_or_skip("data/sentiment/dev.tsv") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let o = eval_json(dir.path(), Some("bert"), dev.to_str().unwrap());
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let m = &v["metrics"];
    assert_eq!(m["examples"], 2000);
    let recall = m["macro_recall"].as_f64().unwrap();
    assert!(
        recall >= 0.72,
        "macro-recall {recall} below the 0.72 target"
    );
    // The manifest records the same dev score the model has now (no stale manifest).
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("models/bert/manifest.json")).unwrap(),
    )
    .unwrap();
    let recorded = manifest["dev"]["macro_recall"].as_f64().unwrap();
    assert!(
        (recorded - recall).abs() < 0.005,
        "manifest says {recorded}, eval gives {recall}"
    );
    let confusion = m["confusion"].as_array().unwrap();
    let total: u64 = confusion
        .iter()
        .flat_map(|r| r.as_array().unwrap())
        .map(|c| c.as_u64().unwrap())
        .sum();
    assert_eq!(total, 2000);
    // Exact f32 arithmetic (the default is int8 weights on CPU) scores the same within noise
    // and labels nearly every text the same.
    write(
        dir.path(),
        "hark.toml",
        "[sentiment]\nmodel = \"bert\"\nprecision = \"f32\"\n",
    );
    let o = eval_json(dir.path(), None, dev.to_str().unwrap());
    let f32: Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let f32_recall = f32["metrics"]["macro_recall"].as_f64().unwrap();
    assert!(
        f32_recall >= 0.72 && (f32_recall - recall).abs() < 0.01,
        "f32 {f32_recall} vs int8 {recall}"
    );
    let texts: String = std::fs::read_to_string(&dev)
        .unwrap()
        .lines()
        .take(400)
        .map(|l| l.split_once('\t').unwrap().1.to_string() + "\n")
        .collect();
    let exact = jsonl(&hark(dir.path(), &["classify"], Some(&texts)));
    std::fs::remove_file(dir.path().join("hark.toml")).unwrap();
    let quick = jsonl(&hark(
        dir.path(),
        &["classify", "--model", "bert"],
        Some(&texts),
    ));
    let same = exact
        .iter()
        .zip(&quick)
        .filter(|(a, b)| a["label"] == b["label"])
        .count();
    assert!(
        same * 100 >= 92 * exact.len(),
        "int8 and f32 agree on {same}/{} labels",
        exact.len()
    );
    // The lexicon, for scale, on the same data and the same code path.
    let o = eval_json(dir.path(), Some("lexicon"), dev.to_str().unwrap());
    let lex: Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert!(lex["metrics"]["macro_recall"].as_f64().unwrap() < recall - 0.08);
}

#[test]
fn classify_follows_the_contract_and_masks_brand_terms() {
    let dir = tempfile::tempdir().unwrap();
    let input = "I absolutely love my new phone, best purchase ever!\n\
                 worst customer service ever, I am so angry\n\
                 The meeting is scheduled for 3pm on Tuesday.\n\
                 \n\
                 Awesome Inc is closing its downtown store on Friday.\n";
    let rows = jsonl(&hark(
        dir.path(),
        &["classify", "--model", "bert"],
        Some(input),
    ));
    assert_eq!(rows.len(), 5, "one result per line, empty lines included");
    let labels: Vec<&str> = rows.iter().map(|r| r["label"].as_str().unwrap()).collect();
    assert_eq!(&labels[..4], ["positive", "negative", "neutral", "neutral"]);
    assert_eq!(
        rows[3]["neu"], 1.0,
        "a blank line is neutral without running the model"
    );
    for r in &rows {
        let (n, u, p) = (
            r["neg"].as_f64().unwrap(),
            r["neu"].as_f64().unwrap(),
            r["pos"].as_f64().unwrap(),
        );
        assert!(
            (n + u + p - 1.0).abs() < 1e-4,
            "probabilities sum to 1: {r}"
        );
        assert!(
            (r["score"].as_f64().unwrap() - (p - n)).abs() < 1e-6,
            "score = P(pos) - P(neg)"
        );
    }
    // Same order and numbers one line at a time as in a batch.
    let single = jsonl(&hark(
        dir.path(),
        &["classify", "--model", "bert"],
        Some("worst customer service ever, I am so angry\n"),
    ));
    assert!(
        (single[0]["score"].as_f64().unwrap() - rows[1]["score"].as_f64().unwrap()).abs() < 1e-4
    );

    // A brand named like a sentiment word: "Awesome" reads positive unless it is masked.
    write(
        dir.path(),
        "queries/awesome.toml",
        "match = '\"awesome inc\" OR @awesomeinc'\n",
    );
    write(dir.path(), "hark.toml", "[sentiment]\nmodel = \"bert\"\n");
    let text = "Awesome Inc\n";
    let plain = jsonl(&hark(dir.path(), &["classify"], Some(text)));
    let masked = jsonl(&hark(
        dir.path(),
        &["classify", "--query", "awesome"],
        Some(text),
    ));
    let (ps, ms) = (
        plain[0]["score"].as_f64().unwrap(),
        masked[0]["score"].as_f64().unwrap(),
    );
    assert_eq!(plain[0]["label"], "positive", "{}", plain[0]);
    assert_ne!(masked[0]["label"], "positive", "{}", masked[0]);
    assert!(
        ms < ps - 0.3,
        "masking the brand removes its sentiment: {ps} -> {ms}"
    );
    let tsv = hark(
        dir.path(),
        &["classify", "--query", "awesome", "--format", "tsv"],
        Some(text),
    );
    let line = stdout(&tsv);
    let (label, score) = line.trim().split_once('\t').unwrap();
    assert_eq!(label, masked[0]["label"].as_str().unwrap());
    assert!((score.parse::<f64>().unwrap() - ms).abs() < 1e-9);
}

#[test]
fn hugging_face_classifiers_match_transformers() {
    let dir = tempfile::tempdir().unwrap();
    let texts = [
        "I love this phone",
        "the service was terrible and slow",
        "Meeting at 3pm, bring the slides",
        "@user why is my order late again???",
        "Café crème and croissants, what a morning",
        "nothing",
    ];
    let texts_file = dir.path().join("texts.txt");
    std::fs::write(&texts_file, texts.join("\n") + "\n").unwrap();
    let vocab = repo().join("models/base/all-MiniLM-L6-v2/vocab.txt");
    let o = std::process::Command::new(venv_python())
        .arg(repo().join("tests/bert/make_hf_models.py"))
        .arg(dir.path())
        .arg(&vocab)
        .arg(&texts_file)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("expected.json")).unwrap())
            .unwrap();
    let input = texts.join("\n") + "\n";
    for (family, classes) in [
        ("bert", [0usize, 1, 2].as_slice()),
        ("distilbert", [0, 2].as_slice()),
        ("roberta", [0, 1, 2].as_slice()),
    ] {
        let model_dir = dir.path().join(family);
        let rows = jsonl(&hark(
            dir.path(),
            &["classify", "--model", model_dir.to_str().unwrap()],
            Some(&input),
        ));
        let want = expected[family].as_array().unwrap();
        assert_eq!(rows.len(), want.len());
        let mut spread = 0f64;
        for (got, want) in rows.iter().zip(want) {
            let want: Vec<f64> = want
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect();
            let mut by_class = [0f64; 3];
            for (o, c) in classes.iter().enumerate() {
                by_class[*c] += want[o];
            }
            for (k, key) in ["neg", "neu", "pos"].iter().enumerate() {
                let g = got[key].as_f64().unwrap();
                assert!(
                    (g - by_class[k]).abs() < 1e-4,
                    "{family}: {key} {g} vs transformers {}",
                    by_class[k]
                );
            }
            spread = spread.max((by_class[2] - want_first(&expected, family, classes)).abs());
        }
        assert!(
            spread > 0.02,
            "{family}: outputs must differ between texts for the test to mean anything"
        );
    }
}

fn want_first(expected: &Value, family: &str, classes: &[usize]) -> f64 {
    let first = expected[family][0].as_array().unwrap();
    classes
        .iter()
        .zip(first)
        .filter(|(c, _)| **c == 2)
        .map(|(_, v)| v.as_f64().unwrap())
        .sum()
}

#[test]
fn training_writes_a_loadable_model_with_its_manifest() {
    let (Some(train), Some(dev)) = (
        shared_or_skip("data/sentiment/train.tsv"),
        shared_or_skip("data/sentiment/dev.tsv"),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("models/tiny");
    let o = hark(
        dir.path(),
        &[
            "model",
            "train",
            "--data",
            train.to_str().unwrap(),
            "--dev",
            dev.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--limit",
            "256",
            "--dev-limit",
            "64",
            "--epochs",
            "2",
            "--tune-layers",
            "1",
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let summary: Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let m: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["format"], "hark-sentiment/1");
    assert_eq!(m["first_tuned"], 5);
    assert_eq!(m["base"]["name"], "all-MiniLM-L6-v2");
    let sha = m["base"]["sha256"].as_str().unwrap();
    assert_eq!(sha.len(), 64);
    assert_eq!(m["training"]["data"]["examples"], 256);
    assert_eq!(m["training"]["dev"]["examples"], 64);
    assert_eq!(m["training"]["epochs"].as_array().unwrap().len(), 2);
    assert_eq!(m["hyper_parameters"]["tune_layers"], 1);
    assert_eq!(m["dev"], summary["dev"]);
    let weights = std::fs::metadata(out.join("weights.safetensors"))
        .unwrap()
        .len();
    // One MiniLM layer (~1.8M parameters) and the head in fp16.
    assert!((3_000_000..4_500_000).contains(&weights), "{weights} bytes");
    // The written model loads and scores, and evaluates to the number in its manifest.
    let rows = jsonl(&hark(
        dir.path(),
        &["classify", "--model", out.to_str().unwrap()],
        Some("great\n"),
    ));
    assert!(rows[0]["pos"].as_f64().unwrap() > 0.0);
    let dev64 = dir.path().join("dev64.tsv");
    let dev: String = std::fs::read_to_string(&dev)
        .unwrap()
        .lines()
        .take(64)
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&dev64, dev).unwrap();
    // Training evaluated in f32; int8 inference is checked on the shipped model.
    write(
        dir.path(),
        "hark.toml",
        "[sentiment]\nprecision = \"f32\"\n",
    );
    let o = eval_json(
        dir.path(),
        Some(out.to_str().unwrap()),
        dev64.to_str().unwrap(),
    );
    let e: Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert!(
        (e["metrics"]["macro_recall"].as_f64().unwrap()
            - m["dev"]["macro_recall"].as_f64().unwrap())
        .abs()
            < 0.02
    );
}

#[test]
fn a_missing_or_mismatched_model_file_is_a_start_up_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    // A copy of the shipped model without its weights.
    let model = dir.path().join("models/broken");
    std::fs::create_dir_all(&model).unwrap();
    std::fs::copy(
        repo().join("models/bert/manifest.json"),
        model.join("manifest.json"),
    )
    .unwrap();
    write(
        dir.path(),
        "hark.toml",
        "[sentiment]\nmodel = \"bert\"\nbert_model = \"models/broken\"\n",
    );
    let o = hark(dir.path(), &["classify"], Some("x\n"));
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("models/broken/weights.safetensors: not found"),
        "{e}"
    );
    // The pipeline refuses to start the same way.
    let o = hark(dir.path(), &["run", "--once"], None);
    assert_ne!(o.status.code(), Some(0));
    assert!(
        stderr(&o).contains("weights.safetensors: not found"),
        "{}",
        stderr(&o)
    );
    // A base model whose sha256 differs from the one the manifest pins.
    let mut manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(model.join("manifest.json")).unwrap())
            .unwrap();
    manifest["base"]["sha256"] = Value::from("0".repeat(64));
    std::fs::write(model.join("manifest.json"), manifest.to_string()).unwrap();
    std::fs::copy(
        repo().join("models/bert/weights.safetensors"),
        model.join("weights.safetensors"),
    )
    .unwrap();
    let o = hark(dir.path(), &["classify"], Some("x\n"));
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("but the model was trained on all-MiniLM-L6-v2 with sha256 000"),
        "{}",
        stderr(&o)
    );
    // A Hugging Face directory without weights.
    let hf = dir.path().join("hf");
    write(
        &hf,
        "config.json",
        r#"{"model_type":"bert","id2label":{"0":"negative","1":"positive"}}"#,
    );
    let o = hark(
        dir.path(),
        &["classify", "--model", hf.to_str().unwrap()],
        Some("x\n"),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("hf/model.safetensors: not found (nor pytorch_model.bin)"),
        "{}",
        stderr(&o)
    );
    // A SentencePiece model (XLM-R) is refused by name, not half-loaded.
    let xlmr = dir.path().join("xlmr");
    write(
        &xlmr,
        "config.json",
        r#"{"model_type":"xlm-roberta","id2label":{"0":"negative","1":"positive"}}"#,
    );
    let o = hark(
        dir.path(),
        &["classify", "--model", xlmr.to_str().unwrap()],
        Some("x\n"),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("model_type `xlm-roberta` is not supported"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn imported_mentions_are_scored_by_bert() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "hark.toml", "[sentiment]\nmodel = \"bert\"\n");
    write(dir.path(), "queries/acme.toml", "match = 'acme'\n");
    let rows = [
        (
            "m1",
            "Acme support fixed my problem in five minutes, fantastic team",
        ),
        (
            "m2",
            "Acme lost my package and nobody answers, this is a disgrace",
        ),
        ("m3", "Acme opens a new office in Lyon next month"),
    ];
    let jsonl: String = rows
        .iter()
        .map(|(id, text)| {
            serde_json::json!({"id": id, "source": "import", "text": text,
                "published_at": "2026-11-20T10:00:00Z"})
            .to_string()
                + "\n"
        })
        .collect();
    write(dir.path(), "m.jsonl", &jsonl);
    let o = hark(dir.path(), &["import", "m.jsonl"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = hark(
        dir.path(),
        &["search", "--format", "jsonl", "--sort", "oldest", "acme"],
        None,
    );
    let found = jsonl_rows(&o);
    let by_id = |id: &str| found.iter().find(|m| m["id"] == id).unwrap()["sentiment"].clone();
    assert_eq!(by_id("m1")["model"], "bert");
    assert_eq!(by_id("m1")["label"], "positive");
    assert_eq!(by_id("m2")["label"], "negative");
    assert_eq!(by_id("m3")["label"], "neutral");
}

fn jsonl_rows(o: &std::process::Output) -> Vec<Value> {
    jsonl(o)
}
