//! Page decoding, main-text extraction, forum rules and SimHash: never panic on any page.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (text, _) = hark::crawl::charset::decode_html(data, None);
    let doc = scraper::Html::parse_document(&text);
    let _ = hark::crawl::extract::extract_article(&doc);
    let _ = hark::crawl::extract::links(&doc);
    let url = url::Url::parse("http://127.0.0.1/t/1").unwrap();
    for name in hark::crawl::forum::PRESETS {
        let spec = hark::crawl::forum::preset(name).unwrap();
        let rules = hark::crawl::forum::Rules::compile(&spec).unwrap();
        let _ = hark::crawl::forum::extract_thread(&doc, &url, &rules);
    }
    let _ = hark::crawl::simhash::simhash(&text);
});
