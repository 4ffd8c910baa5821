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

/// Bot API mode, built from the documented `getUpdates` answer (Bot API 7: a group message,
/// a reply to it, an edit, a forwarded channel post, a member joining). Two polls: the
/// second asks from the stored offset; a 409 (another client or a webhook) is reported with
/// what to do, and the token never shows.
#[test]
fn bot_updates_are_read_from_the_stored_offset() {
    let server = TestServer::start();
    let token = "123456:AAH-test_Token";
    let updates = serde_json::json!({"ok": true, "result": [
        {"update_id": 900001, "message": {"message_id": 41, "date": 1764590400,
            "chat": {"id": -1001234567890_i64, "title": "Acme customers", "type": "supergroup"},
            "from": {"id": 7, "is_bot": false, "first_name": "Anna", "last_name": "K."},
            "text": "Acme support hung up on me again"}},
        {"update_id": 900002, "message": {"message_id": 42, "date": 1764590460,
            "chat": {"id": -1001234567890_i64, "title": "Acme customers", "type": "supergroup"},
            "from": {"id": 8, "is_bot": false, "first_name": "Bo", "username": "bo_b"},
            "reply_to_message": {"message_id": 41, "date": 1764590400, "chat": {"id": -1001234567890_i64, "type": "supergroup"}},
            "text": "same, waited 2 hours"}},
        {"update_id": 900003, "new_chat_members": [], "message": null},
        {"update_id": 900004, "channel_post": {"message_id": 7, "date": 1764590500,
            "chat": {"id": -1009876543210_i64, "title": "Acme News", "username": "acme_news", "type": "channel"},
            "author_signature": "PR team",
            "forward_origin": {"type": "channel", "chat": {"id": -1001111, "title": "Tech Daily", "type": "channel"}, "message_id": 3, "date": 1764590000},
            "caption": "Acme recalls blenders"}}
    ]});
    let bot_path = format!("/bot{token}/getUpdates");
    server.route(
        &bot_path,
        Route::Script(vec![
            Reply::ok(updates.to_string(), "application/json"),
            Reply::ok(r#"{"ok": true, "result": []}"#, "application/json"),
            Reply::status(409),
        ]),
    );
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "hark.toml",
        &format!(
            "[[sources]]\nname = \"tgbot\"\nkind = \"telegram\"\nbase_url = \"{}\"\ntoken_env = \"T_TG_BOT\"\n",
            server.url("")
        ),
    );
    write(dir.path(), "queries/acme.toml", "match = 'acme'\n");
    let env = [("T_TG_BOT", token)];
    let o = hark_env(
        dir.path(),
        &["run", "--once", "--format", "json"],
        None,
        &env,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let s: Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(s["indexed"], 3, "{s}");
    let o = hark(
        dir.path(),
        &["search", "--format", "json", "--limit", "10"],
        None,
    );
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let by_id = |id: &str| {
        v["mentions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == id)
            .unwrap_or_else(|| panic!("{id} missing: {v}"))
            .clone()
    };
    let first = by_id("telegram:c/1234567890/41");
    assert_eq!(first["author"], "Anna K.");
    assert_eq!(first["url"], "https://t.me/c/1234567890/41");
    assert_eq!(first["published_at"], "2025-12-01T12:00:00Z");
    // The reply names no query: it belongs to its thread.
    let reply = by_id("telegram:c/1234567890/42");
    assert_eq!(reply["parent_id"], "telegram:c/1234567890/41");
    assert_eq!(reply["author"], "bo_b");
    assert_eq!(reply["queries"], serde_json::json!(["acme"]));
    let post = by_id("telegram:acme_news/7");
    assert_eq!(post["title"], "Forwarded from Tech Daily");
    assert_eq!(post["author"], "PR team");
    assert_eq!(post["text"], "Acme recalls blenders");

    // Second poll: from the offset after the last update.
    let o = hark_env(
        dir.path(),
        &["run", "--once", "--format", "json"],
        None,
        &env,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let log = server.log();
    assert!(
        log[0].query.contains("limit=100") && !log[0].query.contains("offset="),
        "{}",
        log[0].query
    );
    assert!(log[1].query.contains("offset=900005"), "{}", log[1].query);

    // Third poll: 409, reported with what to do; the token appears nowhere.
    let o = hark_env(
        dir.path(),
        &["run", "--once", "--format", "json"],
        None,
        &env,
    );
    let out = format!("{}{}", stdout(&o), stderr(&o));
    assert!(out.contains("webhook"), "{out}");
    assert!(!out.contains("AAH-test_Token"), "token leaked: {out}");
}
