//! robots.txt parsing and matching: never panics, whatever the file and the path.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|b| *b == 0).unwrap_or(data.len());
    let robots = hark::crawl::robots::Robots::parse(&data[..split]);
    let path = String::from_utf8_lossy(data.get(split + 1..).unwrap_or(&[]));
    let _ = robots.is_allowed("hark/0.1 (+https://example.org)", &path);
    let _ = robots.crawl_delay("hark/0.1");
});
