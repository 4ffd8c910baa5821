//! `hark::fuzzing::sitemap_parse` under libFuzzer (see src/fuzzing.rs for what it checks).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| hark::fuzzing::sitemap_parse(data));
