//! Main-text extraction quality against pages with a known expected output.
//!
//! Usage: `cargo bench --bench extract_eval -- DIR [-v]`
//!
//! Every `DIR/NAME/source.html` with a `DIR/NAME/expected.html` beside it is one page (for
//! example mozilla/readability's `test/test-pages/NAME/`). The source goes through what the
//! crawler does (`charset::decode_html(bytes, None)`, `Html::parse_document`,
//! `extract::extract_article`); the expected HTML is turned into text with `html::to_text`.
//! Both texts are cut into tokens (lowercased, split on every char that is not alphanumeric)
//! and compared as multisets (bag-of-tokens overlap, as in the scrapinghub
//! article-extraction-benchmark): precision = common / extracted tokens, recall = common /
//! expected tokens, F1 their harmonic mean (both empty: 1; one empty: 0).
//!
//! Prints one line per page sorted by F1 (worst first), then the mean P/R/F1 and how many
//! pages came out empty. With `-v` the extracted text of each page is also written to
//! `DIR/NAME/extracted.txt`.

use std::collections::HashMap;
use std::path::PathBuf;

fn tokens(s: &str) -> HashMap<String, u32> {
    let mut m = HashMap::new();
    for t in s.split(|c: char| !c.is_alphanumeric()) {
        if !t.is_empty() {
            *m.entry(t.to_lowercase()).or_insert(0) += 1;
        }
    }
    m
}

/// (precision, recall, f1)
fn prf(got: &str, want: &str) -> (f64, f64, f64) {
    let g = tokens(got);
    let w = tokens(want);
    let ng: u32 = g.values().sum();
    let nw: u32 = w.values().sum();
    if ng == 0 && nw == 0 {
        return (1.0, 1.0, 1.0);
    }
    if ng == 0 || nw == 0 {
        return (0.0, 0.0, 0.0);
    }
    let common: u32 = g
        .iter()
        .map(|(t, n)| (*n).min(w.get(t).copied().unwrap_or(0)))
        .sum();
    let p = common as f64 / ng as f64;
    let r = common as f64 / nw as f64;
    let f = if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    };
    (p, r, f)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let verbose = args.iter().any(|a| a == "-v");
    // `cargo bench` passes `--bench`; the first other argument is the folder.
    let Some(dir) = args.iter().find(|a| !a.starts_with('-')).map(PathBuf::from) else {
        eprintln!("usage: cargo bench --bench extract_eval -- DIR [-v]");
        std::process::exit(2);
    };
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("source.html").is_file() && p.join("expected.html").is_file())
        .collect();
    names.sort();

    let mut rows: Vec<(String, f64, f64, f64, usize, usize)> = Vec::new();
    let mut empty = Vec::new();
    for page in &names {
        let name = page.file_name().unwrap().to_string_lossy().into_owned();
        let source = std::fs::read(page.join("source.html")).unwrap();
        let (html, _) = hark::crawl::charset::decode_html(&source, None);
        let doc = scraper::Html::parse_document(&html);
        let got = hark::crawl::extract::extract_article(&doc).text;
        let expected = std::fs::read(page.join("expected.html")).unwrap();
        let want = hark::html::to_text(&String::from_utf8_lossy(&expected));
        if verbose {
            std::fs::write(page.join("extracted.txt"), &got).unwrap();
        }
        if got.trim().is_empty() {
            empty.push(name.clone());
        }
        let (p, r, f) = prf(&got, &want);
        rows.push((name, p, r, f, got.len(), want.len()));
    }
    if rows.is_empty() {
        eprintln!(
            "no DIR/*/source.html with expected.html in {}",
            dir.display()
        );
        std::process::exit(1);
    }
    rows.sort_by(|a, b| a.3.total_cmp(&b.3).then_with(|| a.0.cmp(&b.0)));
    println!(
        "{:<48} {:>6} {:>6} {:>6} {:>8} {:>8}",
        "page", "P", "R", "F1", "got", "want"
    );
    for (name, p, r, f, g, w) in &rows {
        println!("{name:<48} {p:>6.3} {r:>6.3} {f:>6.3} {g:>8} {w:>8}");
    }
    let n = rows.len() as f64;
    let mean = |i: usize| {
        rows.iter()
            .map(|r| match i {
                0 => r.1,
                1 => r.2,
                _ => r.3,
            })
            .sum::<f64>()
            / n
    };
    println!(
        "\n{} pages: mean P {:.3}  R {:.3}  F1 {:.3}; empty output: {}{}",
        rows.len(),
        mean(0),
        mean(1),
        mean(2),
        empty.len(),
        if empty.is_empty() {
            String::new()
        } else {
            format!(" ({})", empty.join(", "))
        }
    );
}
