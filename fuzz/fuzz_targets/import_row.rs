//! `hark::fuzzing::import_row` under libFuzzer (see src/fuzzing.rs for what it checks).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| hark::fuzzing::import_row(data));
