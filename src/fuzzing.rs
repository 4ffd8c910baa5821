//! Fuzz targets: what every parser of untrusted bytes must survive. Each target takes any
//! bytes, must return without panicking, overflowing the stack or hanging, and checks the
//! invariants it can. They are run two ways:
//! - `fuzz/` (cargo-fuzz, libFuzzer, nightly): coverage-guided, for long sessions;
//! - `tests/fuzz_campaign.rs` (stable, part of `cargo test`): a mutational campaign seeded
//!   with the recorded fixtures, for a bounded time (`HARK_FUZZ_SECONDS`, default 2 s per
//!   target), replaying every saved crash in `tests/fuzz-regressions/TARGET/` first.

#![doc(hidden)]

/// A fuzz target: its name (the folder of its regressions and seeds) and its function.
pub struct Target {
    pub name: &'static str,
    pub run: fn(&[u8]),
}

pub const TARGETS: &[Target] = &[
    Target {
        name: "feed_parse",
        run: feed_parse,
    },
    Target {
        name: "html_text",
        run: html_text,
    },
    Target {
        name: "html_extract",
        run: html_extract,
    },
    Target {
        name: "api_json",
        run: api_json,
    },
    Target {
        name: "import_row",
        run: import_row,
    },
    Target {
        name: "query_parse",
        run: query_parse,
    },
    Target {
        name: "robots_parse",
        run: robots_parse,
    },
    Target {
        name: "sitemap_parse",
        run: sitemap_parse,
    },
];

/// Feed parsing with hark's repairs (junk, encodings, entities, truncation), and every
/// entry turned into a mention.
pub fn feed_parse(data: &[u8]) {
    if let Ok(feed) = crate::sources::feed::parse_feed(data, "http://127.0.0.1/feed", None) {
        for e in feed.entries.iter().take(50) {
            for t in [&e.title, &e.content, &e.summary].into_iter().flatten() {
                let _ = t.to_plain();
            }
        }
    }
}

/// HTML to text (feed bodies, API bodies): the text of markup-free input is the input,
/// whitespace normalised.
pub fn html_text(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    let t = crate::html::to_text(&s);
    if !s.contains('<') && !s.contains('&') {
        let words: Vec<&str> = s.split_whitespace().collect();
        let got: Vec<&str> = t.split_whitespace().collect();
        assert_eq!(words, got, "plain text changed");
    }
    let _ = crate::html::strip_tags(&s);
}

/// Page decoding, the nesting guard, main-text extraction, forum rules and SimHash.
pub fn html_extract(data: &[u8]) {
    let (text, _) = crate::crawl::charset::decode_html(data, None);
    if crate::html::nesting_exceeds(&text, crate::html::MAX_NESTING) {
        return;
    }
    let doc = scraper::Html::parse_document(&text);
    let _ = crate::crawl::extract::extract_article(&doc);
    let _ = crate::crawl::extract::links(&doc);
    let url = url::Url::parse("http://127.0.0.1/t/1").expect("valid URL");
    for name in crate::crawl::forum::PRESETS {
        let spec = crate::crawl::forum::preset(name).expect("preset");
        let rules = crate::crawl::forum::Rules::compile(&spec).expect("preset compiles");
        let _ = crate::crawl::forum::extract_thread(&doc, &url, &rules);
    }
    let _ = crate::crawl::simhash::simhash(&text);
}

/// The API pollers' mappers on arbitrary JSON (drift is skipped, not fatal).
pub fn api_json(data: &[u8]) {
    let _ = crate::sources::fuzz_api_mappers(data);
}

/// `hark import` rows: arbitrary JSON is rejected with an error, never a panic; what is
/// accepted survives sanitising and indexing arithmetic.
pub fn import_row(data: &[u8]) {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data)
        && let Ok(mut m) = crate::import::row_to_mention(v)
    {
        m.sanitize(chrono::Utc::now());
        let _ = m.content();
        let _ = serde_json::to_string(&m).expect("a mention serialises");
    }
}

/// The match language: parsing never panics; what parses prints back to the same tree and
/// evaluates without panicking.
pub fn query_parse(data: &[u8]) {
    use crate::query::{ParseOptions, analyze, parse};
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let (query, text) = s
        .split_once('\n')
        .unwrap_or((s, "acme corp #acme @acme café"));
    let opts = ParseOptions {
        allow_fields: &["source", "lang", "author"],
    };
    if let Ok(e) = parse(query, &opts) {
        let again = parse(&e.to_string(), &opts).expect("display parses back");
        assert_eq!(again, e, "display round trip");
        let _ = e.matches(&analyze(text));
    }
}

/// robots.txt parsing and matching, whatever the file and the path (split at a NUL).
pub fn robots_parse(data: &[u8]) {
    let split = data.iter().position(|b| *b == 0).unwrap_or(data.len());
    let robots = crate::crawl::robots::Robots::parse(&data[..split]);
    let path = String::from_utf8_lossy(data.get(split + 1..).unwrap_or(&[]));
    let _ = robots.is_allowed("hark/0.1 (+https://example.org)", &path);
    let _ = robots.crawl_delay("hark/0.1");
}

/// Sitemap parsing (XML, gzip, text).
pub fn sitemap_parse(data: &[u8]) {
    let _ = crate::crawl::sitemap::parse_sitemap(data);
}
