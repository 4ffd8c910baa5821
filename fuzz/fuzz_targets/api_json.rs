//! The API pollers' mappers on arbitrary JSON: never panic (drift is skipped, not fatal).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = hark::sources::fuzz_api_mappers(data);
});
