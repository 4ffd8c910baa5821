//! What a spike is about: the terms, the source and the author that are over-represented in
//! the alert window compared with the baseline before it.
//!
//! A PR team reading "volume 8× expected" wants the next sentence to be "…about *outage*,
//! *down*, *refund*". Each mention contributes its distinct 1–3-word phrases (the shared
//! tokenizer's folded words, so it works in every script hark tokenizes); phrases that start
//! or end with a function word of any language hark detects, contain one of the query's own
//! words (the brand), are numbers or one letter long, or are link fragments are left out.
//! A phrase is a driver when it is in at least `max(2, 5 %)` of the window's mentions and at
//! least twice as common there as in the baseline (add-½ smoothed); drivers are ranked by
//! `n_window − N_window × share_baseline`, the window mentions the phrase explains beyond what
//! the baseline predicts (a frequent, unusual phrase before a rare, very unusual one), and a
//! phrase that overlaps a better-ranked one ("fiber down" after "down")
//! is skipped — unless the longer phrase is in nearly every mention the shorter one is in
//! ("data breach" replaces "breach") — so five drivers name five different things.
//!
//! The driving source and author are the ones with the largest excess count over what their
//! baseline share predicts for the window.

use crate::mention::Mention;
use crate::text::{for_each_token, is_cjk};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// At most this many drivers are reported.
pub const MAX_DRIVERS: usize = 5;
/// Longest phrase, in words.
pub const MAX_WORDS: usize = 3;
/// A driver is in at least this share of the window's mentions (and at least 2 of them).
pub const MIN_WINDOW_SHARE: f64 = 0.05;
/// A longer phrase replaces a shorter one it contains when it is in at least this share of
/// the mentions the shorter one is in.
pub const PHRASE_KEEP: f64 = 0.8;
/// A driving source or author has at least this many of the window's mentions.
pub const MIN_CONTRIBUTION: u64 = 2;
/// A driver is at least this many times as common in the window as in the baseline.
pub const MIN_LIFT: f64 = 2.0;

/// One term that drives a spike.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Driver {
    /// The phrase as most mentions write it (lowercase).
    pub term: String,
    /// Share of the window's mentions that contain it (0..1).
    pub share: f64,
    /// Share of the baseline's mentions that contain it (0..1).
    pub baseline_share: f64,
}

/// The source or author that contributes most to a spike.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contributor {
    pub name: String,
    /// Mentions of the window from it.
    pub count: u64,
    /// Share of the window's mentions from it (0..1).
    pub share: f64,
}

/// What a spike is about.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    pub terms: Vec<Driver>,
    pub source: Option<Contributor>,
    pub author: Option<Contributor>,
}

impl Explanation {
    /// "outage (42 %), down (35 %), refund (12 %)" — empty when there are no drivers.
    pub fn terms_text(&self) -> String {
        self.terms
            .iter()
            .map(|d| format!("{} ({:.0} %)", d.term, d.share * 100.0))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// "source forum (40 %), author user1 (5 %)": who drives a spike, for people (None when
/// neither is known).
pub fn driven_by_text(
    source: Option<&Contributor>,
    author: Option<&Contributor>,
) -> Option<String> {
    let parts: Vec<String> = [("source", source), ("author", author)]
        .into_iter()
        .filter_map(|(what, c)| {
            c.map(|c| {
                format!(
                    "{what} {} ({:.0} %)",
                    crate::alerts::model::truncate_chars(
                        &crate::alerts::model::one_line(&c.name),
                        60
                    ),
                    c.share * 100.0
                )
            })
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// Words that carry no topic in any language hark detects, beyond the function words
/// language detection uses ([`crate::lang::is_function_word`]); folded forms. Deliberately
/// short: "down", "out", "off" and "not" name what is wrong and stay.
const EXTRA_STOP: &[&str] = &[
    // English
    "a",
    "am",
    "as",
    "be",
    "being",
    "had",
    "he",
    "she",
    "him",
    "her",
    "his",
    "hers",
    "them",
    "us",
    "also",
    "too",
    "very",
    "really",
    "more",
    "most",
    "some",
    "any",
    "than",
    "then",
    "here",
    "only",
    "still",
    "even",
    "much",
    "many",
    "via",
    "these",
    "those",
    "who",
    "which",
    "when",
    "where",
    "did",
    "does",
    "doing",
    "got",
    "get",
    "gets",
    "s",
    "t",
    "re",
    "ve",
    "ll",
    "d",
    "m",
    "u",
    "ur",
    "youre",
    "thats",
    "its",
    "id",
    "ive",
    "lol",
    "rt",
    "amp",
    "oh",
    "yes",
    "ok",
    "okay",
    "one",
    "should",
    "could",
    "may",
    "might",
    "must",
    "shall",
    "into",
    "over",
    "after",
    "before",
    "while",
    "because",
    "until",
    "each",
    "other",
    "such",
    "own",
    "same",
    "both",
    "few",
    "let",
    "lets",
    "who",
    "whom",
    "yours",
    "mine",
    // Link fragments
    "http",
    "https",
    "www",
    "com",
    "net",
    "org",
    "html",
    "co",
    "ly",
    "bit",
    // Russian
    "и",
    "в",
    "во",
    "не",
    "что",
    "он",
    "на",
    "я",
    "с",
    "со",
    "как",
    "а",
    "то",
    "все",
    "она",
    "так",
    "его",
    "но",
    "да",
    "ты",
    "к",
    "у",
    "же",
    "вы",
    "за",
    "бы",
    "по",
    "только",
    "ее",
    "мне",
    "было",
    "вот",
    "от",
    "меня",
    "еще",
    "нет",
    "о",
    "из",
    "ему",
    "теперь",
    "когда",
    "даже",
    "ну",
    "вдруг",
    "ли",
    "если",
    "уже",
    "или",
    "ни",
    "быть",
    "был",
    "него",
    "до",
    "вас",
    "нибудь",
    "опять",
    "уж",
    "вам",
    "ведь",
    "там",
    "потом",
    "себя",
    "ничего",
    "ей",
    "может",
    "они",
    "тут",
    "где",
    "есть",
    "надо",
    "ней",
    "для",
    "мы",
    "тебя",
    "их",
    "чем",
    "была",
    "сам",
    "чтоб",
    "без",
    "будто",
    "чего",
    "раз",
    "тоже",
    "себе",
    "под",
    "будет",
    "ж",
    "тогда",
    "кто",
    "этот",
    "того",
    "потому",
    "этого",
    "какой",
    "совсем",
    "ним",
    "здесь",
    "этом",
    "один",
    "почти",
    "мой",
    "тем",
    "чтобы",
    "нее",
    "сейчас",
    "были",
    "куда",
    "зачем",
    "всех",
    "никогда",
    "можно",
    "при",
    "наконец",
    "два",
    "об",
    "другой",
    "хоть",
    "после",
    "над",
    "больше",
    "тот",
    "через",
    "эти",
    "нас",
    "про",
    "всего",
    "них",
    "какая",
    "много",
    "разве",
    "три",
    "эту",
    "моя",
    "впрочем",
    "хорошо",
    "свою",
    "этой",
    "перед",
    "иногда",
    "лучше",
    "чуть",
    "том",
    "нельзя",
    "такой",
    "им",
    "более",
    "всегда",
    "конечно",
    "всю",
    "между",
    "это",
    // Arabic
    "في",
    "من",
    "على",
    "إلى",
    "الى",
    "عن",
    "مع",
    "هذا",
    "هذه",
    "ذلك",
    "التي",
    "الذي",
    "ما",
    "لا",
    "و",
    "أو",
    "او",
    "ثم",
    "قد",
    "كان",
    "كانت",
    "هو",
    "هي",
    "أن",
    "ان",
    "إن",
    "لم",
    "لن",
    "كل",
    "بعد",
    "قبل",
    "عند",
    "أنا",
    "انا",
    "نحن",
    "هم",
    "يا",
    "بس",
];

fn is_stop(folded: &str) -> bool {
    static SET: std::sync::OnceLock<HashSet<&'static str>> = std::sync::OnceLock::new();
    SET.get_or_init(|| EXTRA_STOP.iter().copied().collect())
        .contains(folded)
        || crate::lang::is_function_word(folded)
}

/// Whether a single word can be a topic: not a number, not a lone letter (a lone Han or kana
/// character is a word), not a stop word.
fn is_content_word(folded: &str) -> bool {
    let mut chars = folded.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    if chars.next().is_none() && !is_cjk(first) {
        return false;
    }
    if folded.chars().all(|c| c.is_numeric() || c == '_') {
        return false;
    }
    !is_stop(folded)
}

/// A mention's distinct phrases: key (folded words joined by spaces) → surface form.
fn phrases(m: &Mention, query_words: &HashSet<String>, out: &mut HashMap<String, String>) {
    out.clear();
    let mut words: Vec<(String, String, bool)> = Vec::new(); // (folded, surface, usable)
    let emit = |words: &mut Vec<(String, String, bool)>, out: &mut HashMap<String, String>| {
        for i in 0..words.len() {
            for n in 1..=MAX_WORDS.min(words.len() - i) {
                let w = &words[i..i + n];
                if w.iter().any(|x| !x.2) {
                    break; // a query word or a handle: nothing across it
                }
                if !is_content_word(&w[0].0) || !is_content_word(&w[n - 1].0) {
                    continue;
                }
                let key: Vec<&str> = w.iter().map(|x| x.0.as_str()).collect();
                let surface: Vec<&str> = w.iter().map(|x| x.1.as_str()).collect();
                out.entry(key.join(" "))
                    .or_insert_with(|| surface.join(" "));
            }
        }
        words.clear();
    };
    for part in [m.title.as_deref().unwrap_or(""), m.text.as_str()] {
        let mut prev_end = 0usize;
        for_each_token(part, |t| {
            // A phrase does not run across punctuation.
            let gap = &part[prev_end.min(t.start)..t.start];
            if gap.chars().any(|c| !c.is_whitespace()) && !gap.is_empty() {
                emit(&mut words, out);
            }
            prev_end = t.end;
            let usable = t.sigil != Some('@') && !query_words.contains(t.text);
            let mut surface = part[t.start..t.end].to_lowercase();
            if t.sigil == Some('#') && !surface.starts_with('#') {
                surface.insert(0, '#');
            }
            words.push((t.text.to_string(), surface, usable));
        });
        emit(&mut words, out);
    }
}

/// Document frequencies of phrases over `mentions`, with the most common surface form.
fn frequencies(
    mentions: &[&Mention],
    query_words: &HashSet<String>,
) -> HashMap<String, (u64, HashMap<String, u64>)> {
    let mut df: HashMap<String, (u64, HashMap<String, u64>)> = HashMap::new();
    let mut seen = HashMap::new();
    for m in mentions {
        phrases(m, query_words, &mut seen);
        for (k, surface) in seen.drain() {
            let e = df.entry(k).or_default();
            e.0 += 1;
            *e.1.entry(surface).or_default() += 1;
        }
    }
    df
}

/// Whether one phrase's words contain the other's as a contiguous run.
fn overlaps(a: &str, b: &str) -> bool {
    let (aw, bw): (Vec<&str>, Vec<&str>) = (a.split(' ').collect(), b.split(' ').collect());
    let (long, short) = if aw.len() >= bw.len() {
        (aw, bw)
    } else {
        (bw, aw)
    };
    long.windows(short.len()).any(|w| w == short.as_slice())
}

/// Explains a spike: `window` are the window's target mentions (negative ones for a
/// `negative_spike`), `baseline` a sample of the baseline's; `query_terms` are the query's own
/// words (folded, as [`crate::query::positive_terms`] gives them), never reported.
pub fn explain(
    window: &[&Mention],
    baseline: &[&Mention],
    query_terms: &[Vec<String>],
) -> Explanation {
    let query_words: HashSet<String> = query_terms.iter().flatten().cloned().collect();
    let (nw, nb) = (window.len() as f64, baseline.len() as f64);
    if window.is_empty() {
        return Explanation::default();
    }
    let fw = frequencies(window, &query_words);
    let fb = frequencies(baseline, &query_words);
    let min_df = (MIN_WINDOW_SHARE * nw).ceil().max(2.0);
    let mut cands: Vec<(f64, String, f64, f64, String)> = Vec::new();
    for (key, (df, surfaces)) in &fw {
        let df = *df as f64;
        if df < min_df {
            continue;
        }
        let share_w = df / nw;
        let db = fb.get(key).map_or(0, |x| x.0) as f64;
        let share_b = (db + 0.5) / (nb + 1.0);
        if share_w < MIN_LIFT * share_b {
            continue;
        }
        // Window mentions it explains beyond what the baseline predicts.
        let score = df - nw * share_b;
        let surface = surfaces
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(s, _)| s.clone())
            .unwrap_or_else(|| key.clone());
        cands.push((score, key.clone(), share_w, db / nb.max(1.0), surface));
    }
    // Best first; on a tie the longer phrase ("data breach" before "data" and "breach").
    let words = |k: &str| k.split(' ').count();
    cands.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then(words(&b.1).cmp(&words(&a.1)))
            .then(a.1.cmp(&b.1))
    });
    // (key, window df, driver)
    let mut terms: Vec<(String, f64, Driver)> = Vec::new();
    for (_, key, share, baseline_share, term) in cands {
        let df = share * nw;
        let overlapping: Vec<usize> = (0..terms.len())
            .filter(|&i| overlaps(&terms[i].0, &key))
            .collect();
        let driver = Driver {
            term,
            share,
            baseline_share,
        };
        if overlapping.is_empty() {
            if terms.len() < MAX_DRIVERS {
                terms.push((key, df, driver));
            }
            continue;
        }
        // A longer phrase found in nearly every mention its parts are in says more than
        // they do: it takes the place of the first of them.
        let longer = overlapping
            .iter()
            .all(|&i| words(&key) > words(&terms[i].0) && df >= PHRASE_KEEP * terms[i].1);
        if longer {
            let at = overlapping[0];
            for &i in overlapping.iter().skip(1).rev() {
                terms.remove(i);
            }
            terms[at] = (key, df, driver);
        }
    }
    Explanation {
        terms: terms.into_iter().map(|(_, _, d)| d).collect(),
        source: top_contributor(window, baseline, |m| Some(m.source.as_str())),
        author: top_contributor(window, baseline, |m| m.author.as_deref()),
    }
}

/// The key with the largest excess of window mentions over what its baseline share predicts.
fn top_contributor(
    window: &[&Mention],
    baseline: &[&Mention],
    key: impl Fn(&Mention) -> Option<&str>,
) -> Option<Contributor> {
    let mut w: HashMap<&str, u64> = HashMap::new();
    for m in window {
        if let Some(k) = key(m).filter(|k| !k.is_empty()) {
            *w.entry(k).or_default() += 1;
        }
    }
    let mut b: HashMap<&str, u64> = HashMap::new();
    for m in baseline {
        if let Some(k) = key(m) {
            *b.entry(k).or_default() += 1;
        }
    }
    let (nw, nb) = (window.len() as f64, baseline.len() as f64);
    w.into_iter()
        .map(|(k, c)| {
            let expected = nw * (b.get(k).copied().unwrap_or(0) as f64 + 0.5) / (nb + 1.0);
            (c as f64 - expected, k, c)
        })
        // One mention says nothing about who drives a spike.
        .filter(|x| x.0 > 0.0 && x.2 >= MIN_CONTRIBUTION)
        .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(a.1)))
        .map(|(_, k, c)| Contributor {
            name: k.to_string(),
            count: c,
            share: c as f64 / nw,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(text: &str, source: &str, author: &str) -> Mention {
        serde_json::from_value(serde_json::json!({
            "id": format!("t:{text}"), "source": source, "author": author, "text": text,
            "published_at": "2026-12-01T10:00:00Z",
        }))
        .unwrap()
    }

    fn explain_all(window: &[Mention], baseline: &[Mention], query_word: &str) -> Explanation {
        explain(
            &window.iter().collect::<Vec<_>>(),
            &baseline.iter().collect::<Vec<_>>(),
            &[vec![query_word.to_string()]],
        )
    }

    #[test]
    fn names_the_outage_not_the_brand_or_function_words() {
        let base: Vec<Mention> = (0..200)
            .map(|i| {
                m(
                    &format!("Loving my Acme fiber, the speed is great today {i}"),
                    "news",
                    &format!("fan{}", i % 50),
                )
            })
            .collect();
        let mut win: Vec<Mention> = (0..30)
            .map(|i| {
                m(
                    &format!("Acme is down again! Total outage in the city, no internet {i}"),
                    "forum",
                    &format!("user{}", i % 20),
                )
            })
            .collect();
        win.extend((0..10).map(|i| m("Acme outage. I want a refund", "forum", &format!("u{i}"))));
        let e = explain_all(&win, &base, "acme");
        let terms: Vec<&str> = e.terms.iter().map(|d| d.term.as_str()).collect();
        assert_eq!(terms[0], "outage", "{terms:?}");
        assert!(
            terms.contains(&"down again") || terms.contains(&"down"),
            "{terms:?}"
        );
        assert!(
            terms
                .iter()
                .all(|t| !t.contains("acme") && *t != "the" && *t != "is")
        );
        assert!((e.terms[0].share - 1.0).abs() < 1e-9);
        assert_eq!(e.source.as_ref().unwrap().name, "forum");
        assert_eq!(e.source.as_ref().unwrap().count, 40);
        // No two drivers overlap.
        for (i, a) in terms.iter().enumerate() {
            for b in &terms[i + 1..] {
                assert!(!overlaps(a, b), "{a} / {b}");
            }
        }
    }

    #[test]
    fn works_in_other_scripts_and_keeps_surface_forms() {
        let base: Vec<Mention> = (0..50)
            .map(|i| m(&format!("Обычный день, Акме работает {i}"), "vk", "a"))
            .collect();
        let win: Vec<Mention> = (0..12)
            .map(|i| {
                m(
                    &format!("Акме: СБОЙ сети, не работает интернет {i}"),
                    "vk",
                    "b",
                )
            })
            .collect();
        let e = explain_all(&win, &base, "акме");
        let terms: Vec<&str> = e.terms.iter().map(|d| d.term.as_str()).collect();
        assert!(terms.iter().any(|t| t.contains("сбой")), "{terms:?}");
        assert!(
            terms.iter().all(|t| !t.contains("акме") && *t != "не"),
            "{terms:?}"
        );
        assert_eq!(e.author.unwrap().name, "b");
    }

    #[test]
    fn a_phrase_beats_its_words() {
        let base: Vec<Mention> = (0..100)
            .map(|i| m(&format!("acme order arrived fine {i}"), "s", "a"))
            .collect();
        let win: Vec<Mention> = (0..20)
            .map(|i| {
                m(
                    &format!("Acme data breach, passwords leaked! {i}"),
                    "s",
                    "a",
                )
            })
            .collect();
        let e = explain_all(&win, &base, "acme");
        let terms: Vec<&str> = e.terms.iter().map(|d| d.term.as_str()).collect();
        assert_eq!(terms, vec!["data breach", "passwords leaked"]);
    }

    #[test]
    fn nothing_unusual_means_no_drivers() {
        let base: Vec<Mention> = (0..100)
            .map(|i| m(&format!("acme router setup guide {i}"), "s", "a"))
            .collect();
        let e = explain_all(&base[..20], &base, "acme");
        assert!(e.terms.is_empty(), "{:?}", e.terms);
        assert_eq!(e.terms_text(), "");
    }
}
