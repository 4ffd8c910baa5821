//! A bounded fuzzing campaign on the stable toolchain, part of `cargo test`.
//!
//! For every target of `hark::fuzzing` (feed, HTML, extraction, API JSON, import rows, the
//! query language, robots.txt, sitemaps):
//! 1. every saved input in `tests/fuzz-regressions/TARGET/` is replayed (crashes found
//!    earlier, kept as regression tests);
//! 2. inputs are mutated from a seed corpus (`tests/fuzz-seeds/`, the recorded fixtures: the
//!    copies in `tests/fixtures` plus `../shared/fixtures` when present, and built-in seeds) with bit flips, interesting
//!    bytes, dictionary tokens of the format, deletions, repetitions (deep nesting), splices
//!    and truncations, for `HARK_FUZZ_SECONDS` seconds per target (default 2).
//!
//! A panic fails the test and saves the input to `target/fuzz-crashes/TARGET/`; an input
//! running longer than 30 s (a hang) or aborting the process (a stack overflow) is left in
//! `target/fuzz-current/TARGET` for the same purpose. Fix the bug, then copy the input into
//! `tests/fuzz-regressions/TARGET/`. `HARK_FUZZ_SEED` replays a campaign.
//!
//! This is coverage-blind; `fuzz/` has the same targets for coverage-guided libFuzzer
//! sessions on nightly.

mod common;

use hark::fuzzing::{TARGETS, Target};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const TOKENS: &[&str] = &[
    "<div>",
    "</div>",
    "<p>",
    "<b>",
    "<table>",
    "<td>",
    "<![CDATA[",
    "]]>",
    "&amp;",
    "&#x",
    "&#",
    "&nbsp;",
    "&bogus;",
    "<item>",
    "</item>",
    "<entry>",
    "</entry>",
    "<title>",
    "</title>",
    "<description>",
    "<pubDate>Mon, 01 Jan 99999 00:00:00 GMT</pubDate>",
    "<guid>",
    "<link>",
    "<?xml version=\"1.0\" encoding=\"",
    "windows-1251",
    "utf-16",
    "\"",
    "'",
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "null",
    "1e999",
    "-1",
    "18446744073709551616",
    "\u{0}",
    "\u{feff}",
    "é",
    "字",
    "\u{202e}",
    "<script>",
    "</script>",
    "<!--",
    "-->",
    "<!DOCTYPE x [<!ENTITY a \"b\">]>",
    " AND ",
    " OR ",
    " NOT ",
    "(",
    ")",
    "NEAR/",
    "NEAR/99999999999",
    "*",
    "#",
    "@",
    "\"",
    "field:",
    "source:",
    "Disallow: ",
    "Allow: /",
    "User-agent: *\n",
    "Crawl-delay: 1e308\n",
    "Sitemap: ",
    "<url><loc>",
    "</loc></url>",
    "<sitemapindex>",
    "\\u0000",
    "\\ud800",
    "\"published_at\":",
    "\"text\":",
    "\"id\":",
    "\"hits\":",
    "\"data\":",
    "\"children\":",
    "2026-12-01T00:00:00Z",
    "+99999-01-01T00:00:00Z",
    "\n",
    "\r\n",
    "\t",
];

const INTERESTING: &[u8] = b"\x00\xff<>&\"'\n{}[]\\/:;=#@*()\x80\xc0";

fn mutate(rng: &mut Rng, input: &mut Vec<u8>, corpus: &[Vec<u8>]) {
    for _ in 0..1 + rng.below(4) {
        let len = input.len();
        match rng.below(8) {
            0 if len > 0 => {
                let i = rng.below(len);
                input[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                input[i] = INTERESTING[rng.below(INTERESTING.len())];
            }
            2 | 3 => {
                let t = TOKENS[rng.below(TOKENS.len())].as_bytes();
                let i = rng.below(len + 1);
                input.splice(i..i, t.iter().copied());
            }
            4 if len > 1 => {
                let a = rng.below(len);
                let b = (a + 1 + rng.below(64)).min(len);
                input.drain(a..b);
            }
            5 if len > 0 => {
                // Repeat a short range many times: deep nesting, long runs.
                let a = rng.below(len);
                let b = (a + 1 + rng.below(16)).min(len);
                let piece = input[a..b].to_vec();
                let max = if rng.below(8) == 0 { 20_000 } else { 50 };
                let times = 1 + rng.below(max);
                let rep: Vec<u8> = piece
                    .iter()
                    .copied()
                    .cycle()
                    .take(piece.len() * times)
                    .collect();
                input.splice(b..b, rep);
            }
            6 if !corpus.is_empty() => {
                let other = &corpus[rng.below(corpus.len())];
                if !other.is_empty() {
                    let a = rng.below(other.len());
                    let b = (a + rng.below(4096)).min(other.len());
                    let i = rng.below(len + 1);
                    input.splice(i..i, other[a..b].iter().copied());
                }
            }
            7 if len > 0 => input.truncate(rng.below(len)),
            _ => input.push(INTERESTING[rng.below(INTERESTING.len())]),
        }
    }
    input.truncate(2 * 1024 * 1024);
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn files_in(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .filter_map(|e| Some((e.path(), std::fs::read(e.path()).ok()?)))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// Seeds of a target: its own folder, the recorded fixtures of its format, built-ins.
fn seeds(target: &str) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = files_in(&root().join("tests/fuzz-seeds").join(target))
        .into_iter()
        .map(|(_, b)| b)
        .collect();
    let dirs: &[&str] = match target {
        "feed_parse" => &["feeds", "feeds-malformed"],
        "html_text" | "html_extract" => &["html"],
        "api_json" | "import_row" => &[
            "reddit",
            "hackernews",
            "mastodon",
            "bluesky",
            "youtube",
            "vk",
            "stackexchange",
            "discourse",
        ],
        "robots_parse" => &["robots"],
        "sitemap_parse" => &["sitemaps"],
        _ => &[],
    };
    for d in dirs {
        for p in common::fixture_files(d) {
            out.push(std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())));
        }
    }
    let builtin: &[&str] = match target {
        "feed_parse" => &[
            "<rss version=\"2.0\"><channel><title>t</title><item><guid>1</guid><title>Acme</title><description>&lt;p&gt;x&lt;/p&gt;</description></item></channel></rss>",
            "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>t</title><entry><id>1</id><title type=\"html\">A &amp; B</title><content type=\"xhtml\"><div>x</div></content></entry></feed>",
            "{\"version\":\"https://jsonfeed.org/version/1.1\",\"title\":\"t\",\"items\":[{\"id\":\"1\",\"content_html\":\"<p>x</p>\"}]}",
        ],
        "html_text" | "html_extract" => &[
            "<html><head><title>T</title></head><body><article><h1>Acme</h1><p>Text, with commas, and more text here.</p></article></body></html>",
            "<div class=post id=p1><div class=content>Hi<blockquote>q</blockquote></div></div>",
        ],
        "api_json" | "import_row" => &[
            "{\"id\":\"x:1\",\"text\":\"acme\",\"published_at\":\"2026-12-01T00:00:00Z\",\"engagement\":{\"likes\":1}}",
            "{\"hits\":[{\"objectID\":\"1\",\"created_at_i\":1,\"title\":\"acme\"}]}",
        ],
        "query_parse" => &[
            "(\"acme\" OR \"acme corp\" OR #acme OR @acme) AND NOT \"road runner\"",
            "acme NEAR/3 outage\nthe acme outage today",
            "recall* AND source:reddit",
        ],
        "robots_parse" => &[
            "User-agent: *\nDisallow: /private\nAllow: /private/ok$\nCrawl-delay: 2\n\0/private/x",
        ],
        "sitemap_parse" => &[
            "<urlset><url><loc>https://e.com/a</loc><lastmod>2026-01-01</lastmod></url></urlset>",
            "https://e.com/a\nhttps://e.com/b\n",
        ],
        _ => &[],
    };
    out.extend(builtin.iter().map(|s| s.as_bytes().to_vec()));
    out
}

fn run_guarded(t: &Target, input: &[u8]) -> Result<(), String> {
    std::panic::catch_unwind(|| (t.run)(input)).map_err(|p| {
        p.downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "panic".into())
    })
}

fn save(dir: &str, target: &str, input: &[u8]) -> PathBuf {
    let d = root().join("target").join(dir).join(target);
    std::fs::create_dir_all(&d).unwrap();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in input {
        h = (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3);
    }
    let p = d.join(format!("{h:016x}.bin"));
    std::fs::write(&p, input).unwrap();
    p
}

/// Aborts the process when one input runs longer than `limit` (a hang), after saying which
/// input it was.
fn watchdog(started: Arc<AtomicU64>, current: Arc<Mutex<String>>, limit: Duration) {
    std::thread::spawn(move || {
        let epoch = Instant::now();
        loop {
            std::thread::sleep(Duration::from_millis(500));
            let s = started.load(Ordering::Relaxed);
            if s == u64::MAX {
                return;
            }
            if s == 0 {
                continue;
            }
            let begun = Duration::from_millis(s);
            if epoch.elapsed() > begun + limit {
                eprintln!(
                    "fuzz: an input of {} ran longer than {limit:?}: a hang; it is in target/fuzz-current/",
                    current.lock().unwrap()
                );
                std::process::abort();
            }
        }
    });
}

#[test]
fn bounded_fuzzing_campaign() {
    let per_target = Duration::from_secs_f64(
        std::env::var("HARK_FUZZ_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(2.0),
    );
    let seed: u64 = std::env::var("HARK_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    eprintln!("fuzz: HARK_FUZZ_SEED={seed}, {per_target:?} per target");
    let epoch = Instant::now();
    let started = Arc::new(AtomicU64::new(0));
    let current = Arc::new(Mutex::new(String::new()));
    watchdog(started.clone(), current.clone(), Duration::from_secs(30));
    let mut failures = Vec::new();
    let mut rng = Rng(seed);
    for t in TARGETS {
        *current.lock().unwrap() = t.name.to_string();
        let current_file = root().join("target/fuzz-current");
        std::fs::create_dir_all(&current_file).unwrap();
        let current_file = current_file.join(t.name);
        let mut run = |input: &[u8], what: &str| {
            let _ = std::fs::write(&current_file, input);
            started.store(epoch.elapsed().as_millis() as u64 + 1, Ordering::Relaxed);
            let r = run_guarded(t, input);
            started.store(0, Ordering::Relaxed);
            if let Err(msg) = r {
                let p = save("fuzz-crashes", t.name, input);
                failures.push(format!(
                    "{}: {what}: {msg} (input saved to {})",
                    t.name,
                    p.display()
                ));
            }
        };
        // 1. Saved regressions.
        let regressions = files_in(&root().join("tests/fuzz-regressions").join(t.name));
        for (path, input) in &regressions {
            run(input, &format!("regression {}", path.display()));
        }
        // 2. The campaign.
        let corpus = seeds(t.name);
        for s in &corpus {
            run(s, "seed");
        }
        let deadline = Instant::now() + per_target;
        let mut execs = 0u64;
        while Instant::now() < deadline {
            let mut input = corpus[rng.below(corpus.len())].clone();
            mutate(&mut rng, &mut input, &corpus);
            run(&input, "mutated input");
            execs += 1;
        }
        eprintln!(
            "fuzz: {}: {} regressions, {} seeds, {execs} mutated inputs",
            t.name,
            regressions.len(),
            corpus.len()
        );
    }
    started.store(u64::MAX, Ordering::Relaxed);
    assert!(
        failures.is_empty(),
        "fuzzing found:\n{}",
        failures.join("\n")
    );
}
