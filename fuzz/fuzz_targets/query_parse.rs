//! The match language: parsing never panics; what parses prints back to the same tree and
//! evaluates without panicking.
#![no_main]
use hark::query::{ParseOptions, analyze, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let (query, text) = s.split_once('\n').unwrap_or((s, "acme corp #acme @acme café"));
    let opts = ParseOptions { allow_fields: &["source", "lang", "author"] };
    if let Ok(e) = parse(query, &opts) {
        let again = parse(&e.to_string(), &opts).expect("display parses back");
        assert_eq!(again, e);
        let _ = e.matches(&analyze(text));
    }
});
