//! Language detection cost per text (whatlang), on the sentiment dev set.
fn main() {
    let texts: Vec<String> = std::fs::read_to_string("../shared/data/sentiment/dev.tsv")
        .unwrap()
        .lines()
        .map(|l| l.split_once('\t').unwrap().1.to_string())
        .collect();
    let t = std::time::Instant::now();
    let mut n = 0;
    for _ in 0..5 {
        for x in &texts {
            if hark::lang::detect(x, None).as_deref() == Some("en") {
                n += 1;
            }
        }
    }
    let el = t.elapsed().as_secs_f64();
    println!(
        "hark::lang::detect: {:.1} µs/text, en {}%",
        el * 1e6 / (5.0 * texts.len() as f64),
        n * 100 / (5 * texts.len())
    );
}
