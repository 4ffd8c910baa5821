//! The hostile-input suite: one `hark run --once` against 30 sources on 127.0.0.1 that each
//! misbehave in their own way (deep nesting in XML, HTML and JSON, entity bombs, XXE, gzip
//! bombs, huge bodies, slow-loris, truncated streams, bad charsets, redirect loops, redirects
//! to other schemes and to metadata addresses, absurd headers and dates), plus one honest
//! feed. hark must not abort or panic, must finish in bounded time, must report each bad
//! source with a clear error (or read what is readable), and must still index the honest
//! feed.

mod common;

use common::*;
use serde_json::Value;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

fn rss_item(guid: &str, title: &str, description: &str) -> String {
    format!(
        "<item><guid isPermaLink=\"false\">{guid}</guid><title>{title}</title><description>{description}</description></item>"
    )
}

fn rss(items: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel><title>t</title>{items}</channel></rss>"
    )
}

/// A raw TCP server for what an HTTP framework will not send: slow bodies, lying
/// Content-Length, broken encodings, header floods. `respond` gets the request path.
fn raw_server(respond: fn(&str, &mut TcpStream)) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            std::thread::spawn(move || {
                let mut buf = [0u8; 8192];
                let mut req = Vec::new();
                let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => req.extend_from_slice(&buf[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&req).into_owned();
                let path = text.split_whitespace().nth(1).unwrap_or("/").to_string();
                respond(&path, &mut conn);
            });
        }
    });
    format!("http://{addr}")
}

fn raw_respond(path: &str, c: &mut TcpStream) {
    let item = rss(&rss_item("raw-1", "Acme raw", "Acme raw body"));
    match path {
        // Slow-loris: headers, then one byte every 700 ms, for ever.
        "/slow" => {
            let _ = write!(
                c,
                "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Length: 100000\r\n\r\n"
            );
            for b in item.bytes().cycle() {
                if c.write_all(&[b]).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(700));
            }
        }
        // Promises 100,000 bytes, sends 60, closes.
        "/truncated" => {
            let _ = write!(
                c,
                "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Length: 100000\r\n\r\n{}",
                &item[..60]
            );
        }
        // Says gzip, sends plain text.
        "/fake-gzip" => {
            let _ = write!(
                c,
                "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n{item}",
                item.len()
            );
        }
        // 10,000 headers.
        "/header-flood" => {
            let _ = write!(c, "HTTP/1.1 200 OK\r\n");
            for i in 0..10_000 {
                if write!(c, "X-Junk-{i}: {}\r\n", "v".repeat(50)).is_err() {
                    return;
                }
            }
            let _ = write!(c, "Content-Length: {}\r\n\r\n{item}", item.len());
        }
        // Not HTTP at all.
        "/garbage" => {
            let _ = c.write_all(b"\x00\x01\x02 this is not http \xff\xfe\r\n\r\n");
        }
        // Accepts and says nothing.
        "/silent" => std::thread::sleep(Duration::from_secs(30)),
        _ => {
            let _ = write!(c, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
        }
    }
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[test]
fn thirty_hostile_sources_and_one_honest_feed() {
    let server = TestServer::start();
    let raw = raw_server(raw_respond);
    let feed = |path: &str, body: Vec<u8>| server.file(path, body, "application/rss+xml");

    feed(
        "/honest",
        rss(&rss_item(
            "h-1",
            "Acme honest",
            "Acme launched a new router",
        ))
        .into_bytes(),
    );
    // 1. XML nested 100,000 elements deep inside an item.
    feed(
        "/deep-xml",
        rss(&format!(
            "<item><guid>d</guid><title>Acme deep xml</title><description>x</description>{}{}</item>",
            "<x>".repeat(100_000),
            "</x>".repeat(100_000)
        ))
        .into_bytes(),
    );
    // 2. Billion laughs.
    let mut laughs = String::from("<?xml version=\"1.0\"?><!DOCTYPE rss [<!ENTITY l0 \"lol\">");
    for i in 1..10 {
        laughs.push_str(&format!(
            "<!ENTITY l{i} \"{}\">",
            format!("&l{};", i - 1).repeat(10)
        ));
    }
    laughs.push_str("]><rss version=\"2.0\"><channel><title>t</title><item><guid>b</guid><title>Acme &l9;</title></item></channel></rss>");
    feed("/billion-laughs", laughs.into_bytes());
    // 3. XXE: an external entity naming a local file.
    feed(
        "/xxe",
        b"<?xml version=\"1.0\"?><!DOCTYPE rss [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><rss version=\"2.0\"><channel><title>t</title><item><guid>x</guid><title>Acme xxe</title><description>&x;</description></item></channel></rss>".to_vec(),
    );
    // 4. A body over max_body (1 MB here).
    feed(
        "/huge",
        rss(&rss_item("u", "Acme huge", &"a".repeat(3 * 1024 * 1024))).into_bytes(),
    );
    // 5. A gzip bomb: 64 MB of zeros in ~64 KB.
    server.route(
        "/gzip-bomb",
        Route::Script(vec![
            Reply::ok(gzip(&vec![b' '; 64 * 1024 * 1024]), "application/rss+xml")
                .header("content-encoding", "gzip"),
        ]),
    );
    // 6-11. Raw-socket misbehaviour.
    // 12. Invalid UTF-8 in a feed that declares UTF-8.
    let mut bad_utf8 = rss(&rss_item("u8", "Acme caf\u{e9}", "Acme caf\u{e9} body")).into_bytes();
    let pos = bad_utf8
        .windows(2)
        .position(|w| w == "é".as_bytes())
        .unwrap();
    bad_utf8[pos] = 0xff;
    feed("/bad-utf8", bad_utf8);
    // 13. An unknown charset label.
    feed(
        "/bogus-charset",
        rss(&rss_item("bc", "Acme bogus charset", "Acme body"))
            .replace("utf-8", "x-bogus-charset")
            .into_bytes(),
    );
    // 14. UTF-16 with a BOM.
    let utf16: Vec<u8> = std::iter::once(0xfeffu16)
        .chain(
            rss(&rss_item("16", "Acme utf16", "Acme body"))
                .replace("utf-8", "utf-16")
                .encode_utf16(),
        )
        .flat_map(|u| u.to_le_bytes())
        .collect();
    feed("/utf16", utf16);
    // 15. NUL and other control bytes in the text.
    feed(
        "/nul",
        rss(&rss_item(
            "n",
            "Acme \u{1}nul",
            "Acme\u{0}body \u{1b}[31mred\u{202e}",
        ))
        .into_bytes(),
    );
    // 15b. Control characters XML allows (ESC) and a bidi override.
    feed(
        "/nul-free",
        rss(&rss_item(
            "nf",
            "Acme escape",
            "Acme body \u{1b}[31mred\u{202e}",
        ))
        .into_bytes(),
    );
    // 16. 5,000 items.
    let many: String = (0..5000)
        .map(|i| rss_item(&format!("m{i}"), &format!("Acme many {i}"), "Acme"))
        .collect();
    feed("/many", rss(&many).into_bytes());
    // 17. A single 900 KB title.
    feed(
        "/long-title",
        rss(&rss_item(
            "lt",
            &format!("Acme {}", "long ".repeat(180_000)),
            "x",
        ))
        .into_bytes(),
    );
    // 18. An empty 200.
    feed("/empty", Vec::new());
    // 19. An HTML page where a feed was expected.
    server.file(
        "/html-not-feed",
        b"<html><body><p>Acme</p></body></html>".to_vec(),
        "text/html",
    );
    // 20. A JSON Feed nested 100,000 arrays deep.
    server.file(
        "/deep-json",
        format!(
            "{{\"version\":\"https://jsonfeed.org/version/1.1\",\"title\":\"t\",\"items\":[{{\"id\":\"j\",\"content_text\":\"Acme\",\"x\":{}{}}}]}}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        )
        .into_bytes(),
        "application/feed+json",
    );
    // 21. A JSON Feed with the wrong types everywhere.
    server.file(
        "/wrong-json",
        br#"{"version":"https://jsonfeed.org/version/1.1","title":7,"items":[{"id":1e999,"content_text":["Acme"],"date_published":"year 99999"}]}"#.to_vec(),
        "application/feed+json",
    );
    // 22. A 500.
    server.route("/500", Route::Script(vec![Reply::status(500)]));
    // 23. A 429 asking for a billion seconds.
    server.route(
        "/429",
        Route::Script(vec![Reply::status(429).header("retry-after", "1000000000")]),
    );
    // 24. A redirect loop.
    server.route(
        "/loop",
        Route::Script(vec![Reply::status(302).header("location", "/loop")]),
    );
    // 25. A redirect to another scheme.
    server.route(
        "/to-file",
        Route::Script(vec![
            Reply::status(302).header("location", "file:///etc/passwd"),
        ]),
    );
    // 26. A redirect to a cloud metadata address.
    server.route(
        "/to-metadata",
        Route::Script(vec![
            Reply::status(302).header("location", "http://169.254.169.254/latest/meta-data/"),
        ]),
    );
    // 27. Dates out of any range.
    feed(
        "/absurd-dates",
        rss("<item><guid>ad</guid><title>Acme absurd date</title><description>Acme</description><pubDate>Mon, 01 Jan 99999 00:00:00 GMT</pubDate></item>").into_bytes(),
    );
    // 28. Markup bombs in a description: 200,000 unclosed <b> and 50,000 <table>s.
    feed(
        "/markup-bomb",
        rss(&rss_item(
            "mb",
            "Acme markup bomb",
            &format!(
                "{}Acme{}",
                "&lt;b&gt;".repeat(200_000),
                "&lt;table&gt;".repeat(50_000)
            ),
        ))
        .into_bytes(),
    );

    let mut sources = vec![("honest".to_string(), server.url("/honest"))];
    for p in [
        "/deep-xml",
        "/billion-laughs",
        "/xxe",
        "/huge",
        "/gzip-bomb",
        "/bad-utf8",
        "/bogus-charset",
        "/utf16",
        "/nul",
        "/nul-free",
        "/many",
        "/long-title",
        "/empty",
        "/html-not-feed",
        "/deep-json",
        "/wrong-json",
        "/500",
        "/429",
        "/loop",
        "/to-file",
        "/to-metadata",
        "/absurd-dates",
        "/markup-bomb",
    ] {
        sources.push((p.trim_start_matches('/').to_string(), server.url(p)));
    }
    for p in [
        "/slow",
        "/truncated",
        "/fake-gzip",
        "/header-flood",
        "/garbage",
        "/silent",
    ] {
        sources.push((
            format!("raw-{}", p.trim_start_matches('/')),
            format!("{raw}{p}"),
        ));
    }
    assert!(sources.len() >= 29, "{} sources", sources.len());
    let mut toml = String::from(
        "[http]\nretries = 0\ntimeout = \"3s\"\nconnect_timeout = \"2s\"\nmax_body = \"1MB\"\nmax_retry_wait = \"5s\"\n\n",
    );
    for (name, url) in &sources {
        toml.push_str(&format!(
            "[[sources]]\nname = \"{name}\"\nkind = \"feed\"\nurls = [\"{url}\"]\n\n"
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "hark.toml", &toml);
    write(dir.path(), "queries/acme.toml", "match = 'acme'\n");

    let started = Instant::now();
    let o = hark(dir.path(), &["run", "--once"], None);
    let took = started.elapsed();
    let err = stderr(&o);
    assert!(o.status.success(), "exit {:?}\n{err}", o.status);
    assert!(
        !err.contains("panicked") && !err.contains("overflow"),
        "{err}"
    );
    assert!(took < Duration::from_secs(60), "took {took:?}");
    let summary: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let report = |name: &str| -> Value {
        summary["sources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["source"] == name)
            .unwrap_or_else(|| panic!("no report for {name}: {summary}"))
            .clone()
    };
    // Every source reports: items, or errors that say what went wrong.
    for (name, _) in &sources {
        let r = report(name);
        assert!(
            r["items"].as_u64().unwrap() > 0 || !r["errors"].as_array().unwrap().is_empty(),
            "{name} neither collected nor failed: {r}"
        );
    }
    let error_of = |name: &str| report(name)["errors"].to_string();
    for (name, says) in [
        ("huge", "limit"),
        ("gzip-bomb", "limit"),
        ("raw-slow", "timed out"),
        ("raw-silent", "timed out"),
        ("429", "HTTP 429"),
        ("loop", "redirects"),
        ("to-file", "only http"),
        ("to-metadata", "link-local"),
    ] {
        let e = error_of(name);
        assert!(e.contains(says), "{name}: {e}");
    }
    assert_eq!(report("many")["items"], 5000);

    let search = |q: &str| -> Value {
        let o = hark(
            dir.path(),
            &["search", q, "--format", "json", "--limit", "10"],
            None,
        );
        assert!(o.status.success(), "{}", stderr(&o));
        serde_json::from_str(&stdout(&o)).unwrap()
    };
    assert_eq!(search("honest")["total"], 1);
    // Nothing of a local file was read.
    let all = search("root OR passwd OR bin");
    assert_eq!(all["total"], 0, "{all}");
    // Readable parts of damaged feeds are kept, text cleaned of control characters.
    // NUL (and other control characters) are removed before storing; a bidi override is
    // kept (it is text; every renderer escapes it).
    for (src, title, text) in [
        ("nul", "Acme nul", "Acmebody [31mred\u{202e}"),
        ("nul-free", "Acme escape", "Acme body [31mred\u{202e}"),
    ] {
        let o = hark(
            dir.path(),
            &["search", "--source", src, "--format", "json"],
            None,
        );
        let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert_eq!(v["mentions"][0]["title"], title, "{v}");
        assert_eq!(v["mentions"][0]["text"], text, "{v}");
    }
    let total: u64 = {
        let o = hark(
            dir.path(),
            &["search", "--format", "json", "--limit", "0"],
            None,
        );
        serde_json::from_str::<Value>(&stdout(&o)).unwrap()["total"]
            .as_u64()
            .unwrap()
    };
    assert!(total >= 5001, "indexed {total}");
}
