//! Feed parsing with hark's repairs (junk, encodings, entities, truncation): never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = hark::sources::feed::parse_feed(data, "http://127.0.0.1/feed", None);
    let _ = hark::html::to_text(&String::from_utf8_lossy(data));
});
