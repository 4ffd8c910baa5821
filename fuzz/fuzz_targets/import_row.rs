//! `hark import` rows: arbitrary JSON is rejected with an error, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = hark::import::row_to_mention(v);
    }
});
