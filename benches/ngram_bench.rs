//! Throughput of the per-language `ngram` sentiment classifiers, one thread:
//! `cargo bench --bench ngram_bench [-- DATA_DIR]` (default `../shared/data/sentiment-multilingual`;
//! every `LANG/dev.tsv` there, each text classified by its language's built-in model, with
//! feature extraction, brand masking and scoring included). Target: >= 100,000 texts/s.

use hark::sentiment::lexicon::Lexicon;
use hark::sentiment::router::Router;
use std::sync::Arc;
use std::time::Instant;

fn main() {
    let dir = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .unwrap_or_else(|| "../shared/data/sentiment-multilingual".into());
    let router = Router::new(Arc::new(Lexicon::new()), None).expect("built-in models");
    let neutral = vec![vec!["acme".to_string()]];
    let mut total = 0usize;
    let mut secs = 0f64;
    for lang in ["fr", "de", "es", "it", "pt", "ru", "ar", "hi"] {
        let path = format!("{dir}/{lang}/dev.tsv");
        let Ok(text) = std::fs::read_to_string(&path) else {
            eprintln!("{path}: absent, skipped");
            continue;
        };
        let texts: Vec<&str> = text
            .lines()
            .filter_map(|l| l.split_once('\t'))
            .map(|(_, t)| t)
            .collect();
        // Warm up (model decoding happens once per process).
        for t in texts.iter().take(50) {
            std::hint::black_box(router.classify(t, Some(lang), &neutral));
        }
        let rounds = 20;
        let started = Instant::now();
        for _ in 0..rounds {
            for t in &texts {
                std::hint::black_box(router.classify(t, Some(lang), &neutral));
            }
        }
        let s = started.elapsed().as_secs_f64();
        let n = texts.len() * rounds;
        println!("{lang}: {:>9.0} texts/s ({n} texts)", n as f64 / s);
        total += n;
        secs += s;
    }
    if total > 0 {
        println!("all: {:>9.0} texts/s on one thread", total as f64 / secs);
    }
}
