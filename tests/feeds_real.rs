//! No regression on the recorded real feeds: for every feed under `tests/fixtures/feeds*`
//! (and `../shared/fixtures/feeds*` where present), hark's reader keeps every entry feed-rs
//! (a strict, independent parser, here a dev-dependency) reads, with the same title, text
//! and link, in the same order — and reads the malformed ones feed-rs cannot.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

fn norm(s: &str) -> String {
    hark::html::to_text(s)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn recorded_feeds() -> BTreeMap<String, PathBuf> {
    let mut files = BTreeMap::new();
    let mut dirs = Vec::new();
    for dir in ["feeds", "feeds-malformed"] {
        dirs.extend(common::fixture_path(dir));
        dirs.extend(common::shared_or_skip(&format!("fixtures/{dir}")));
    }
    for d in dirs {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let name = format!(
                "{}/{}",
                d.file_name().unwrap().to_string_lossy(),
                p.file_name().unwrap().to_string_lossy()
            );
            files.entry(name).or_insert(p);
        }
    }
    files
}

#[test]
fn every_entry_feed_rs_reads_is_read_the_same() {
    let files = recorded_feeds();
    assert!(files.len() >= 20, "recorded feeds missing: {files:?}");
    let base = "http://127.0.0.1:1/feed.xml";
    let mut compared = 0;
    for (name, path) in &files {
        let bytes = std::fs::read(path).unwrap();
        let ours = hark::feed::parse(&bytes, base, None)
            .unwrap_or_else(|e| panic!("{name}: hark could not read it: {e}"));
        let Ok(reference) = feed_rs::parser::Builder::new()
            .base_uri(Some(base))
            .build()
            .parse(bytes.as_slice())
        else {
            continue;
        };
        assert!(
            ours.entries.len() >= reference.entries.len(),
            "{name}: {} entries, feed-rs {}",
            ours.entries.len(),
            reference.entries.len()
        );
        for (i, (o, r)) in ours.entries.iter().zip(&reference.entries).enumerate() {
            let title = |t: Option<String>| t.map(|t| norm(&t)).unwrap_or_default();
            assert_eq!(
                title(o.title.as_ref().map(|t| t.value.clone())),
                title(r.title.as_ref().map(|t| t.content.clone())),
                "{name} entry {i}: title"
            );
            let r_text = r
                .content
                .as_ref()
                .and_then(|c| c.body.clone())
                .filter(|b| !b.trim().is_empty())
                .or_else(|| r.summary.as_ref().map(|s| s.content.clone()))
                .or_else(|| {
                    r.media
                        .iter()
                        .find_map(|m| m.description.as_ref().map(|d| d.content.clone()))
                })
                .unwrap_or_default();
            let o_text = o
                .content
                .as_ref()
                .map(|t| t.to_plain())
                .filter(|t| !t.is_empty())
                .or_else(|| o.summary.as_ref().map(|t| t.to_plain()))
                .unwrap_or_default();
            assert_eq!(
                o_text.split_whitespace().collect::<Vec<_>>(),
                norm(&r_text).split_whitespace().collect::<Vec<_>>(),
                "{name} entry {i}: text"
            );
            let r_links: Vec<&str> = r.links.iter().map(|l| l.href.as_str()).collect();
            if let Some(link) = &o.link {
                assert!(
                    r_links.contains(&link.as_str()),
                    "{name} entry {i}: {link} not in {r_links:?}"
                );
            } else {
                assert!(
                    r_links.is_empty(),
                    "{name} entry {i}: link lost: {r_links:?}"
                );
            }
            compared += 1;
        }
    }
    assert!(compared >= 200, "only {compared} entries compared");
}

/// The two recorded feeds feed-rs rejects outright.
#[test]
fn malformed_recorded_feeds_are_read() {
    let Some(koi8r) = common::fixture_bytes("feeds-malformed/synthetic_koi8r_no-encoding-decl.xml")
    else {
        return;
    };
    let f = hark::feed::parse(&koi8r, "http://x/", None).unwrap();
    let title = f.entries[0].title.as_ref().unwrap().to_plain();
    assert!(title.chars().any(|c| ('а'..='я').contains(&c)), "{title}");

    let reuters =
        common::fixture_bytes("feeds-malformed/reuters_truncated_server-error-comment.rss")
            .unwrap();
    let f = hark::feed::parse(&reuters, "http://x/", None).unwrap();
    assert_eq!(f.title.as_deref(), Some("Reuters: Most Read Articles"));
    assert!(
        f.repairs.contains(&"document cut off before its end"),
        "{:?}",
        f.repairs
    );
}
