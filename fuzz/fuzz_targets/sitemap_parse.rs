//! Sitemap parsing (XML, gzip, text): never panics, bounded output.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = hark::crawl::sitemap::parse_sitemap(data);
});
