//! Trains the language identifier shipped in `models/langid.bin` (see `src/langid.rs`) on
//! the labelled tweets of `../shared/data`: English (`sentiment/train.tsv`, first 8,000)
//! and French, German, Spanish, Italian, Portuguese and Hindi
//! (`sentiment-multilingual/LANG/train.tsv`; Hindi keeps only Latin-script lines, since
//! Devanagari is recognised by its script). Deterministic.
//!
//! `cargo run --release --example train_langid -- [DATA_DIR] [OUT]`

fn main() {
    let mut args = std::env::args().skip(1);
    let data = args.next().unwrap_or_else(|| "../shared/data".into());
    let out = args.next().unwrap_or_else(|| "models/langid.bin".into());
    let read = |path: &str, cap: usize| -> Vec<String> {
        std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("{path}: {e}"))
            .lines()
            .filter_map(|l| l.split_once('\t').map(|(_, t)| t.to_string()))
            .take(cap)
            .collect()
    };
    let mut examples: Vec<(String, String)> = read(&format!("{data}/sentiment/train.tsv"), 8000)
        .into_iter()
        .map(|t| ("en".to_string(), t))
        .collect();
    for lang in ["fr", "de", "es", "it", "pt", "hi"] {
        for t in read(
            &format!("{data}/sentiment-multilingual/{lang}/train.tsv"),
            8000,
        ) {
            let latin = t
                .chars()
                .filter(|c| c.is_alphabetic())
                .all(|c| c.is_ascii() || ('\u{c0}'..='\u{24f}').contains(&c));
            if lang != "hi" || latin {
                examples.push((lang.to_string(), t));
            }
        }
    }
    let model = hark::langid::LangId::train(&examples);
    let bytes = model.to_bytes();
    std::fs::write(&out, &bytes).unwrap_or_else(|e| panic!("{out}: {e}"));
    println!("{out}: {} examples, {} bytes", examples.len(), bytes.len());
}
