//! The web crawler's parts, each pure and tested on its own; `sources/web.rs` drives them.
//!
//! - `canon`: URL canonicalisation and scope rules;
//! - `robots`: robots.txt (RFC 9309);
//! - `sitemap`: sitemaps and sitemap indexes, also gzipped;
//! - `charset`: decoding a page (BOM, HTTP header, `<meta>`, detection);
//! - `extract`: main text and metadata of article pages (readability-style);
//! - `forum`: per-site rules that cut a thread page into posts, with presets;
//! - `simhash`: near-duplicate fingerprints.

pub mod canon;
pub mod charset;
pub mod extract;
pub mod forum;
pub mod robots;
pub mod simhash;
pub mod sitemap;
