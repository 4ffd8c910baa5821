//! `kind = "telegram"` end to end: a recorded real web-preview page of a public channel
//! (tests/fixtures/telegram, MIT, see SOURCES.md) served on 127.0.0.1 as `/s/<channel>`, an
//! older page written for this test (`?before=70989`: one post, built from the same markup),
//! then an empty one. Polled twice with `hark run --once`: the first poll walks back to the
//! empty page and indexes every post; the second indexes nothing new.

mod common;

use common::*;
use serde_json::Value;

const OLDER: &str = r#"<html><body><div class="tgme_widget_message_wrap"><div class="tgme_widget_message" data-post="topwar_official/70980">
<div class="tgme_widget_message_text" dir="auto">Older post about &quot;Acme&quot; drones</div>
<span class="tgme_widget_message_views">1.5K</span>
<a class="tgme_widget_message_date"><time datetime="2023-02-27T10:00:00+00:00">10:00</time></a></div></div></body></html>"#;

#[test]
fn a_public_channel_is_read_and_polled_again_without_duplicates() {
    let Some(page) = fixture_bytes("telegram/t.me-s_topwar_official_page_2023-02.html") else {
        return;
    };
    let server = TestServer::start();
    server.file("/s/topwar_official", page, "text/html; charset=utf-8");
    server.file(
        "/s/topwar_official?before=70989",
        OLDER.as_bytes().to_vec(),
        "text/html",
    );
    server.file(
        "/s/topwar_official?before=70980",
        b"<html><body></body></html>".to_vec(),
        "text/html",
    );
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "hark.toml",
        &format!(
            "[[sources]]\nname = \"tg\"\nkind = \"telegram\"\nbase_url = \"{}\"\nchannels = [\"@topwar_official\"]\nbackfill = \"10000d\"\n",
            server.url("")
        ),
    );
    write(dir.path(), "queries/all.toml", "match = 'NOT zzqqxx'\n");
    let o = hark(dir.path(), &["run", "--once", "--format", "json"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let s: Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(s["sources"][0]["requests"], 3, "{s}");
    assert_eq!(
        s["sources"][0]["errors"].as_array().unwrap().len(),
        0,
        "{s}"
    );
    let first = s["indexed"].as_u64().unwrap();
    assert!(first >= 12, "{s}");

    let o = hark(
        dir.path(),
        &[
            "search", "--format", "jsonl", "--limit", "100", "--sort", "oldest",
        ],
        None,
    );
    let ms: Vec<Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(ms.len() as u64, first);
    let older = &ms[0];
    assert_eq!(older["id"], "telegram:topwar_official/70980");
    assert_eq!(older["url"], "https://t.me/topwar_official/70980");
    assert_eq!(older["text"], "Older post about \"Acme\" drones");
    assert_eq!(older["engagement"]["views"], 1500);
    assert_eq!(older["published_at"], "2023-02-27T10:00:00Z");
    let p = ms
        .iter()
        .find(|m| m["id"] == "telegram:topwar_official/70989")
        .expect("post 70989");
    assert_eq!(p["engagement"]["views"], 37200);
    assert_eq!(p["published_at"], "2023-02-28T07:47:53Z");
    assert!(
        p["text"]
            .as_str()
            .unwrap()
            .starts_with("В Санкт-Петербурге в небо над"),
        "{p}"
    );
    assert!(p["author"].as_str().is_some_and(|a| !a.is_empty()), "{p}");
    assert!(ms.iter().all(|m| m["source_kind"] == "telegram"));

    // The second poll: only the newest page is read, nothing new is indexed.
    server.clear_log();
    let o = hark(dir.path(), &["run", "--once", "--format", "json"], None);
    let s: Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(s["sources"][0]["requests"], 1, "{s}");
    assert_eq!(s["indexed"], 0, "{s}");
}
