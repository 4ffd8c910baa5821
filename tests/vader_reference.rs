//! Agreement of `hark::sentiment::vader::Vader` with the reference vaderSentiment 3.3.2 on
//! every text of ../shared/data/sentiment/dev.tsv. Needs `python3` with vaderSentiment
//! installed (`pip install vaderSentiment==3.3.2`); fails, rather than skips, without it.
//! Without ../shared (the data may not be redistributed) it is skipped, except under CI=true.
mod common;

use hark::sentiment::vader::Vader;
use std::process::Command;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/vader_compare.py");

/// Texts exactly as scripts/vader_compare.py --tsv reads them: lines split on '\n', a trailing
/// '\r' dropped, the text after the first TAB.
fn read_texts(path: &str) -> Vec<String> {
    let data = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    let mut lines: Vec<&str> = data.split('\n').collect();
    if lines.last() == Some(&"") {
        lines.pop();
    }
    lines
        .into_iter()
        .map(|l| {
            let l = l.strip_suffix('\r').unwrap_or(l);
            l.split_once('\t').map(|(_, t)| t).unwrap_or("").to_string()
        })
        .collect()
}

#[test]
fn compound_agrees_with_python_vader_on_dev() {
    let Some(dev_tsv) = common::shared_or_skip("data/sentiment/dev.tsv") else {
        return;
    };
    let dev_tsv = dev_tsv.to_str().expect("UTF-8 path");
    let texts = read_texts(dev_tsv);
    assert!(!texts.is_empty());

    let out = Command::new("python3")
        .args([SCRIPT, "--reference-only", "--tsv", dev_tsv])
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run python3 ({e}); install Python 3 and `pip install vaderSentiment==3.3.2`"
            )
        });
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the Python reference failed ({}): {stderr}\nInstall it with: pip install vaderSentiment==3.3.2",
        out.status
    );
    let stdout = String::from_utf8(out.stdout).expect("reference output is not UTF-8");
    let reference: Vec<[f64; 4]> = stdout
        .lines()
        .map(|l| {
            let v: Vec<f64> = l
                .split('\t')
                .map(|x| x.parse().expect("bad reference number"))
                .collect();
            [v[0], v[1], v[2], v[3]]
        })
        .collect();
    assert_eq!(
        reference.len(),
        texts.len(),
        "reference returned a different number of rows"
    );

    let vader = Vader::new();
    let mut mismatches = Vec::new();
    for (i, (text, r)) in texts.iter().zip(&reference).enumerate() {
        let s = vader.polarity_scores(text);
        if (s.compound - r[3]).abs() > 0.001 {
            mismatches.push(format!(
                "line {}: python {:.4} rust {:.4}: {text:?}",
                i + 1,
                r[3],
                s.compound
            ));
        }
    }
    let n = texts.len();
    let agree = n - mismatches.len();
    for m in &mismatches {
        println!("mismatch {m}");
    }
    println!("compound within 0.001 of vaderSentiment 3.3.2: {agree}/{n}");
    assert!(
        agree as f64 >= 0.995 * n as f64,
        "only {agree}/{n} texts agree within 0.001 (need 99.5%):\n{}",
        mismatches.join("\n")
    );
}
