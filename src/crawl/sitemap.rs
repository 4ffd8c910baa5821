//! Sitemaps (<https://www.sitemaps.org/protocol.html>): XML `<urlset>` and
//! `<sitemapindex>` files, their gzip-compressed form, and plain-text sitemaps.
//!
//! - gzip is recognised by its magic bytes (`1f 8b`), not by the file name or headers.
//! - The protocol caps a sitemap at 50 MiB uncompressed and 50,000 entries. Bodies (after
//!   decompression) are cut at [`MAX_SITEMAP_BYTES`] and parsing stops after
//!   [`MAX_SITEMAP_ENTRIES`] entries; what came before is returned without an error, so a
//!   gzip bomb costs at most 50 MiB of memory. An XML error after such a cut is ignored
//!   (the cut usually falls inside an element); any other XML error is an `Err`.
//! - XML is read with quick-xml: elements are matched by local name and depth
//!   (`<urlset><url><loc>`), so namespace prefixes and extension elements (`xhtml:link`,
//!   `image:loc` nested one level deeper) do not confuse it; predefined entities and
//!   character references are decoded, a stray `&` is kept literally, DTD entities are never
//!   expanded; `<loc>`/`<lastmod>` text is trimmed. The declared encoding is ignored: the
//!   protocol requires UTF-8 (invalid bytes become U+FFFD; a UTF-16 BOM is honoured).
//! - A body whose first non-blank character is not `<` is a text sitemap: one absolute
//!   `http(s)` URL per line; other lines are skipped; no URL at all is an `Err`.
//! - `lastmod` accepts the W3C datetime profile (`2005`, `2005-01`, `2005-01-01`,
//!   `2004-11-23T14:59Z`, `2004-12-23T18:00:15+00:00`, fractions of seconds), plus RFC 2822
//!   and zone-less times read as UTC; anything else becomes `None`, never an error.
//!
//! Limits: `<loc>` values are not validated or resolved (the caller should check they are
//! on the sitemap's host); `changefreq`/`priority` and extensions (news, images, hreflang
//! alternates) are dropped; RSS/Atom feeds used as sitemaps are rejected.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use quick_xml::events::{BytesRef, Event};
use quick_xml::reader::Reader;
use std::io::Read;

/// The protocol's maximum uncompressed sitemap size; more is cut off.
pub const MAX_SITEMAP_BYTES: usize = 50 * 1024 * 1024;
/// The protocol's maximum number of URLs (or child sitemaps) per file; more are dropped.
pub const MAX_SITEMAP_ENTRIES: usize = 50_000;

/// One `<url>` of a urlset, or one `<sitemap>` of an index.
#[derive(Debug, Clone, PartialEq)]
pub struct SitemapEntry {
    /// The URL as written (entities decoded, trimmed).
    pub loc: String,
    /// `<lastmod>`, if present and readable.
    pub lastmod: Option<DateTime<Utc>>,
}

/// A parsed sitemap file.
#[derive(Debug, Clone, PartialEq)]
pub enum Sitemap {
    /// Pages to crawl (`<urlset>` or a text sitemap).
    Urls(Vec<SitemapEntry>),
    /// Further sitemaps to fetch (`<sitemapindex>`).
    Index(Vec<SitemapEntry>),
}

/// Why a fetched body is not a usable sitemap.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SitemapError {
    #[error("sitemap: invalid gzip data: {0}")]
    Gzip(String),
    #[error(
        "not a sitemap: no <urlset>/<sitemapindex> and no http(s) URL lines (starts with {start:?})"
    )]
    NoUrls { start: String },
    #[error("sitemap: invalid XML at byte {position}: {message}")]
    Xml { position: u64, message: String },
    #[error("sitemap: XML without a root element")]
    NoRoot,
    #[error("not a sitemap: root element is <{0}>, expected <urlset> or <sitemapindex>")]
    WrongRoot(String),
}

/// Parses a sitemap body as fetched (gzip, XML or text; see the module doc).
pub fn parse_sitemap(body: &[u8]) -> Result<Sitemap, SitemapError> {
    parse_with_limits(body, MAX_SITEMAP_BYTES, MAX_SITEMAP_ENTRIES)
}

fn parse_with_limits(
    body: &[u8],
    max_bytes: usize,
    max_entries: usize,
) -> Result<Sitemap, SitemapError> {
    let (bytes, truncated) = if body.starts_with(&[0x1f, 0x8b]) {
        let (bytes, truncated) = gunzip_capped(body, max_bytes)?;
        (std::borrow::Cow::Owned(bytes), truncated)
    } else {
        let cut = body.len().min(max_bytes);
        (std::borrow::Cow::Borrowed(&body[..cut]), cut < body.len())
    };
    let (text, _, _) = encoding_rs::UTF_8.decode(&bytes);
    let text = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    if text.starts_with('<') {
        parse_xml(text, truncated, max_entries)
    } else {
        parse_text(text, truncated, max_entries)
    }
}

/// Decompresses (all members of) a gzip stream, keeping at most `max_bytes`.
/// Returns the bytes and whether they were cut.
fn gunzip_capped(body: &[u8], max_bytes: usize) -> Result<(Vec<u8>, bool), SitemapError> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(body)
        .take(max_bytes as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| SitemapError::Gzip(e.to_string()))?;
    let truncated = out.len() > max_bytes;
    out.truncate(max_bytes);
    Ok((out, truncated))
}

/// One URL per line; lines that are not absolute http(s) URLs are skipped.
fn parse_text(text: &str, truncated: bool, max_entries: usize) -> Result<Sitemap, SitemapError> {
    let mut lines: Vec<&str> = Vec::new();
    let mut all = text.lines().peekable();
    while let Some(line) = all.next() {
        // A cut body's last line may be a cut URL.
        if truncated && all.peek().is_none() {
            break;
        }
        let line = line.trim();
        if is_http_url(line) {
            lines.push(line);
            if lines.len() == max_entries {
                break;
            }
        }
    }
    if lines.is_empty() {
        let start: String = text.chars().take(40).collect();
        return Err(SitemapError::NoUrls { start });
    }
    Ok(Sitemap::Urls(
        lines
            .into_iter()
            .map(|loc| SitemapEntry {
                loc: loc.to_string(),
                lastmod: None,
            })
            .collect(),
    ))
}

fn is_http_url(line: &str) -> bool {
    let has_scheme = ["http://", "https://"].iter().any(|scheme| {
        line.get(..scheme.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(scheme))
    });
    has_scheme && line.len() > 8 && !line.contains(char::is_whitespace)
}

/// Which kind of file the root element announced.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Urls,
    Index,
}

/// The field whose text is being collected.
#[derive(Clone, Copy, PartialEq)]
enum Field {
    Loc,
    Lastmod,
}

/// Streaming state: depth 1 is the root, 2 an entry, 3 its fields.
struct XmlState {
    kind: Option<Kind>,
    depth: usize,
    entries: Vec<SitemapEntry>,
    in_entry: bool,
    field: Option<Field>,
    text: String,
    loc: String,
    lastmod: Option<DateTime<Utc>>,
}

fn parse_xml(text: &str, truncated: bool, max_entries: usize) -> Result<Sitemap, SitemapError> {
    let mut reader = Reader::from_str(text);
    let config = reader.config_mut();
    config.allow_dangling_amp = true;
    config.expand_empty_elements = false;
    let mut state = XmlState {
        kind: None,
        depth: 0,
        entries: Vec::new(),
        in_entry: false,
        field: None,
        text: String::new(),
        loc: String::new(),
        lastmod: None,
    };
    loop {
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(_) if truncated && state.kind.is_some() => break,
            Err(e) => {
                return Err(SitemapError::Xml {
                    position: reader.error_position(),
                    message: e.to_string(),
                });
            }
        };
        match event {
            Event::Start(e) => state.start(e.local_name().as_ref(), false)?,
            Event::Empty(e) => state.start(e.local_name().as_ref(), true)?,
            Event::End(_) => state.end(),
            Event::Text(t) => state.push_text(&t),
            Event::CData(t) => state.push_text(&t),
            Event::GeneralRef(r) => state.push_reference(&r),
            Event::Eof => break,
            _ => {}
        }
        if state.entries.len() >= max_entries {
            break;
        }
    }
    match state.kind {
        Some(Kind::Urls) => Ok(Sitemap::Urls(state.entries)),
        Some(Kind::Index) => Ok(Sitemap::Index(state.entries)),
        None => Err(SitemapError::NoRoot),
    }
}

impl XmlState {
    fn start(&mut self, name: &str, empty: bool) -> Result<(), SitemapError> {
        self.depth += 1;
        match self.depth {
            1 => {
                self.kind = Some(match name {
                    "urlset" => Kind::Urls,
                    "sitemapindex" => Kind::Index,
                    other => {
                        return Err(SitemapError::WrongRoot(
                            other.chars().take(40).collect::<String>(),
                        ));
                    }
                })
            }
            2 => {
                let entry_name = match self.kind {
                    Some(Kind::Urls) => "url",
                    _ => "sitemap",
                };
                self.in_entry = name == entry_name;
                self.loc.clear();
                self.lastmod = None;
            }
            3 if self.in_entry => {
                self.field = match name {
                    "loc" => Some(Field::Loc),
                    "lastmod" => Some(Field::Lastmod),
                    _ => None,
                };
                self.text.clear();
            }
            _ => {}
        }
        if empty {
            self.end();
        }
        Ok(())
    }

    fn end(&mut self) {
        match self.depth {
            2 if self.in_entry => {
                self.in_entry = false;
                if !self.loc.is_empty() {
                    self.entries.push(SitemapEntry {
                        loc: std::mem::take(&mut self.loc),
                        lastmod: self.lastmod.take(),
                    });
                }
            }
            3 => match self.field.take() {
                Some(Field::Loc) => self.loc = self.text.trim().to_string(),
                Some(Field::Lastmod) => self.lastmod = parse_lastmod(&self.text),
                None => {}
            },
            _ => {}
        }
        self.depth = self.depth.saturating_sub(1);
    }

    fn push_text(&mut self, text: &str) {
        if self.field.is_some() && self.depth == 3 {
            self.text.push_str(text);
        }
    }

    /// `&amp;`, `&#38;`, `&#x26;` …; an unknown entity is kept as written.
    fn push_reference(&mut self, reference: &BytesRef) {
        if self.field.is_none() || self.depth != 3 {
            return;
        }
        let name: &str = &reference.xml10_content();
        if let Ok(Some(c)) = reference.resolve_char_ref() {
            self.text.push(c);
        } else if let Some(s) = quick_xml::escape::resolve_xml_entity(name) {
            self.text.push_str(s);
        } else {
            self.text.push('&');
            self.text.push_str(name);
            self.text.push(';');
        }
    }
}

/// A `<lastmod>` value in W3C datetime (or RFC 3339 / RFC 2822); `None` if unreadable.
pub fn parse_lastmod(value: &str) -> Option<DateTime<Utc>> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    if let Ok(t) = crate::timeutil::parse_timestamp(value) {
        return Some(t);
    }
    match value.split_once(['T', 't']) {
        Some((date, time)) => parse_w3c_date_time(date, time),
        None => parse_w3c_date(value),
    }
}

/// `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, at midnight UTC.
fn parse_w3c_date(value: &str) -> Option<DateTime<Utc>> {
    let padded = match value.len() {
        4 => format!("{value}-01-01"),
        7 => format!("{value}-01"),
        10 => value.to_string(),
        _ => return None,
    };
    let date = NaiveDate::parse_from_str(&padded, "%Y-%m-%d").ok()?;
    Some(Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0)?))
}

/// `hh:mm[:ss[.s+]]` followed by `Z`, `±hh:mm`, `±hhmm` or nothing (UTC), rebuilt as
/// RFC 3339.
fn parse_w3c_date_time(date: &str, time: &str) -> Option<DateTime<Utc>> {
    let zone_start = time.find(['Z', 'z', '+', '-']).unwrap_or(time.len());
    let (clock, zone) = time.split_at(zone_start);
    let seconds = if clock.matches(':').count() == 1 {
        ":00"
    } else {
        ""
    };
    let zone = match zone {
        "" | "Z" | "z" => "+00:00".to_string(),
        z if z.len() == 5 && z.is_ascii() && !z.contains(':') => format!("{}:{}", &z[..3], &z[3..]),
        z => z.to_string(),
    };
    let rfc3339 = format!("{date}T{clock}{seconds}{zone}");
    DateTime::parse_from_rfc3339(&rfc3339)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bytes of `fixtures/sitemaps/NAME`; None when it is not available here.
    fn fixture(name: &str) -> Option<Vec<u8>> {
        crate::testdata::fixture_bytes(&format!("sitemaps/{name}"))
    }

    fn time(s: &str) -> Option<DateTime<Utc>> {
        Some(DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc))
    }

    fn urls(result: Result<Sitemap, SitemapError>) -> Vec<SitemapEntry> {
        match result {
            Ok(Sitemap::Urls(entries)) => entries,
            other => panic!("expected a urlset, got {other:?}"),
        }
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        std::io::Write::write_all(&mut encoder, data).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn sitemaps_org_fixture() {
        let Some(body) = fixture("sitemaps-org_sitemap.xml") else {
            return;
        };
        let entries = urls(parse_sitemap(&body));
        assert_eq!(entries.len(), 84);
        assert_eq!(
            entries[0],
            SitemapEntry {
                loc: "https://www.sitemaps.org/".into(),
                lastmod: time("2016-11-21T00:00:00Z"),
            }
        );
        assert_eq!(entries[1].loc, "https://www.sitemaps.org/protocol.html");
        assert_eq!(entries[83].loc, "https://www.sitemaps.org/zh_TW/terms.html");
        assert!(
            entries
                .iter()
                .all(|e| e.lastmod == time("2016-11-21T00:00:00Z"))
        );
    }

    #[test]
    fn gzipped_fixture_equals_plain_one() {
        let Some(body) = fixture("sitemaps-org_sitemap.xml") else {
            return;
        };
        let plain = parse_sitemap(&body).unwrap();
        let Some(gz) = fixture("sitemaps-org_sitemap.xml.gz") else {
            return;
        };
        assert_eq!(&gz[..2], &[0x1f, 0x8b]);
        assert_eq!(parse_sitemap(&gz).unwrap(), plain);
    }

    #[test]
    fn hugo_fixture_with_xhtml_namespace_and_offsets() {
        let Some(body) = fixture("hugo_blog-gibson-sh_sitemap.xml") else {
            return;
        };
        let entries = urls(parse_sitemap(&body));
        assert_eq!(entries.len(), 19);
        assert_eq!(entries[0].loc, "http://blog.gibson.sh/");
        assert_eq!(entries[0].lastmod, time("2026-06-02T23:30:20Z"));
        assert_eq!(
            entries[8].loc,
            "http://blog.gibson.sh/2015/07/18/comparing-png-compression-ratios-of-stb_image_write-lodepng-miniz-and-libpng/"
        );
        assert_eq!(entries[8].lastmod, time("2015-07-18T02:29:24Z"));
        assert_eq!(
            entries[18].loc,
            "http://blog.gibson.sh/2009/10/01/mcabber-settings-rebinding-pageup-down/"
        );
    }

    #[test]
    fn index_with_prefixes_entities_and_extensions() {
        let body = br#"<?xml version="1.0" encoding="UTF-8"?>
<!-- generated -->
<sm:sitemapindex xmlns:sm="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sm:sitemap>
    <sm:loc>
       https://e.x/sitemap.php?page=1&amp;lang=en&#38;x=&#x31;
    </sm:loc>
    <sm:lastmod>2004-10-01T18:23:17+00:00</sm:lastmod>
  </sm:sitemap>
  <sm:sitemap><sm:loc><![CDATA[https://e.x/s2.xml.gz]]></sm:loc><sm:lastmod>2005-01</sm:lastmod></sm:sitemap>
  <sm:sitemap><sm:lastmod>2005-01-01</sm:lastmod></sm:sitemap>
</sm:sitemapindex>"#;
        assert_eq!(
            parse_sitemap(body).unwrap(),
            Sitemap::Index(vec![
                SitemapEntry {
                    loc: "https://e.x/sitemap.php?page=1&lang=en&x=1".into(),
                    lastmod: time("2004-10-01T18:23:17Z"),
                },
                SitemapEntry {
                    loc: "https://e.x/s2.xml.gz".into(),
                    lastmod: time("2005-01-01T00:00:00Z"),
                },
            ])
        );
    }

    #[test]
    fn nested_extension_locs_and_alternates_are_ignored() {
        let body = br#"<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
  xmlns:image="http://www.google.com/schemas/sitemap-image/1.1"
  xmlns:xhtml="http://www.w3.org/1999/xhtml">
<url>
  <loc>https://e.x/a?x=1&y=2</loc>
  <xhtml:link rel="alternate" hreflang="de" href="https://e.x/de/a"/>
  <image:image><image:loc>https://e.x/a.jpg</image:loc></image:image>
  <changefreq>daily</changefreq><priority>0.8</priority>
  <lastmod>not a date</lastmod>
</url>
<url><loc>https://e.x/b</loc><lastmod>2004-11-23T14:59Z</lastmod></url>
<url/>
</urlset>"#;
        let entries = urls(parse_sitemap(body));
        assert_eq!(
            entries,
            vec![
                SitemapEntry {
                    loc: "https://e.x/a?x=1&y=2".into(),
                    lastmod: None
                },
                SitemapEntry {
                    loc: "https://e.x/b".into(),
                    lastmod: time("2004-11-23T14:59:00Z")
                },
            ]
        );
    }

    #[test]
    fn text_sitemap() {
        let body =
            b"\xef\xbb\xbfhttps://e.x/a\r\n\r\n  http://e.x/b?q=1  \n# comment\nftp://e.x/c\n\
                     not a url\nHTTPS://E.X/D\nhttps://e.x/with space\n";
        let locs: Vec<String> = urls(parse_sitemap(body))
            .into_iter()
            .map(|e| e.loc)
            .collect();
        assert_eq!(locs, ["https://e.x/a", "http://e.x/b?q=1", "HTTPS://E.X/D"]);
    }

    #[test]
    fn non_sitemaps_are_errors() {
        let err = parse_sitemap(b"<!DOCTYPE html><html><body>hi</body></html>").unwrap_err();
        assert_eq!(err, SitemapError::WrongRoot("html".into()));
        assert!(err.to_string().contains("root element is <html>"), "{err}");
        let err = parse_sitemap(b"{\"urls\": [\"https://e.x/\"]}").unwrap_err();
        assert!(matches!(err, SitemapError::NoUrls { .. }), "{err}");
        assert!(err.to_string().starts_with("not a sitemap"), "{err}");
        assert!(matches!(
            parse_sitemap(b"").unwrap_err(),
            SitemapError::NoUrls { .. }
        ));
        let err = parse_sitemap(b"<?xml version=\"1.0\"?><!-- nothing -->").unwrap_err();
        assert_eq!(err, SitemapError::NoRoot);
        let err = parse_sitemap(&[0x1f, 0x8b, 8, 0, 1, 2, 3]).unwrap_err();
        assert!(matches!(err, SitemapError::Gzip(_)), "{err}");
        assert!(err.to_string().contains("invalid gzip"), "{err}");
    }

    #[test]
    fn malformed_xml_is_an_error() {
        for body in [
            &b"<urlset><url><loc>https://e.x/a</loc></url><url><loc>https://e.x/b</lo"[..],
            b"<urlset><url><loc>https://e.x/a</loc></uxl></urlset>",
            b"<urlset><url><loc a=\"1>https://e.x/a</loc></url></urlset>",
        ] {
            let err = parse_sitemap(body).unwrap_err();
            assert!(matches!(err, SitemapError::Xml { .. }), "{err}");
            assert!(
                err.to_string().starts_with("sitemap: invalid XML at byte"),
                "{err}"
            );
        }
    }

    #[test]
    fn gzip_bomb_is_cut_at_50_mib() {
        // 60 concatenated gzip members of 1 MiB of blanks: 60 MiB once decompressed.
        let blanks = gzip(&vec![b' '; 1024 * 1024]);
        let mut body = gzip(b"<urlset><url><loc>https://e.x/a</loc></url><url><loc>https://e.x/b</loc></url><url><loc>");
        for _ in 0..60 {
            body.extend_from_slice(&blanks);
        }
        body.extend_from_slice(&gzip(b"https://e.x/never</loc></url></urlset>"));
        assert!(body.len() < 100_000, "{}", body.len());
        let entries = urls(parse_sitemap(&body));
        let locs: Vec<&str> = entries.iter().map(|e| e.loc.as_str()).collect();
        assert_eq!(locs, ["https://e.x/a", "https://e.x/b"]);
    }

    #[test]
    fn plain_body_cut_at_limit() {
        let body = b"<urlset><url><loc>https://e.x/a</loc></url><url><loc>https://e.x/b</loc></url></urlset>";
        let cut_inside_second = body.len() - 20;
        let entries = urls(parse_with_limits(body, cut_inside_second, 10));
        assert_eq!(entries.len(), 1);
        let text = b"https://e.x/1\nhttps://e.x/2\nhttps://e.x/3\n";
        let entries = urls(parse_with_limits(text, text.len() - 3, 10));
        assert_eq!(entries.len(), 2);
    }

    #[test]
    fn at_most_50000_entries() {
        let mut xml = String::from("<urlset>");
        let mut text = String::new();
        for i in 0..50_010 {
            xml.push_str(&format!("<url><loc>https://e.x/{i}</loc></url>"));
            text.push_str(&format!("https://e.x/{i}\n"));
        }
        xml.push_str("</urlset>");
        let entries = urls(parse_sitemap(xml.as_bytes()));
        assert_eq!(entries.len(), MAX_SITEMAP_ENTRIES);
        assert_eq!(entries[49_999].loc, "https://e.x/49999");
        assert_eq!(
            urls(parse_sitemap(text.as_bytes())).len(),
            MAX_SITEMAP_ENTRIES
        );
    }

    #[test]
    fn lastmod_formats() {
        let cases = [
            ("2005", "2005-01-01T00:00:00Z"),
            ("1997-07", "1997-07-01T00:00:00Z"),
            ("2005-01-01", "2005-01-01T00:00:00Z"),
            ("2004-12-23T18:00:15+00:00", "2004-12-23T18:00:15Z"),
            ("2004-11-23T14:59Z", "2004-11-23T14:59:00Z"),
            ("1997-07-16T19:20+01:00", "1997-07-16T18:20:00Z"),
            ("1997-07-16T19:20:30.45+01:00", "1997-07-16T18:20:30.450Z"),
            ("1997-07-16T19:20:30-0500", "1997-07-17T00:20:30Z"),
            ("2004-12-23T18:00:15", "2004-12-23T18:00:15Z"),
            (" 2016-11-21 ", "2016-11-21T00:00:00Z"),
            ("Thu, 23 Dec 2004 18:00:15 GMT", "2004-12-23T18:00:15Z"),
        ];
        for (input, expected) in cases {
            assert_eq!(parse_lastmod(input), time(expected), "{input}");
        }
        for bad in [
            "",
            "yesterday",
            "2005-13-01",
            "2004-12-23T25:00Z",
            "20",
            "2004-12-23Tfoo",
        ] {
            assert_eq!(parse_lastmod(bad), None, "{bad}");
        }
    }

    #[test]
    fn garbage_never_panics() {
        const ALPHABET: &[u8] = b"<urlset><sitemapindex></url><loc>&amp;&#x;<![CDATA[]]>lastmod2005-01T:Z+ \nhttps://\xff\x1f\x8b\"=/";
        let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let Some(valid) = fixture("sitemaps-org_sitemap.xml") else {
            return;
        };
        let Some(gz) = fixture("sitemaps-org_sitemap.xml.gz") else {
            return;
        };
        for round in 0..3000 {
            let bytes: Vec<u8> = match round % 4 {
                0 => (0..next() % 300).map(|_| next() as u8).collect(),
                1 => (0..next() % 300)
                    .map(|_| ALPHABET[(next() % ALPHABET.len() as u64) as usize])
                    .collect(),
                2 => {
                    let mut v = valid.clone();
                    for _ in 0..5 {
                        let i = (next() % v.len() as u64) as usize;
                        v[i] = ALPHABET[(next() % ALPHABET.len() as u64) as usize];
                    }
                    v.truncate((next() % v.len() as u64) as usize);
                    v
                }
                _ => {
                    let mut v = gz.clone();
                    let i = 10 + (next() % (v.len() as u64 - 10)) as usize;
                    v[i] ^= next() as u8 | 1;
                    v
                }
            };
            let _ = parse_sitemap(&bytes);
            let _ = parse_lastmod(&String::from_utf8_lossy(&bytes[..bytes.len().min(30)]));
        }
    }

    /// `cargo test --release sitemap::tests::bench -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn bench() {
        let mut xml =
            String::from("<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
        for i in 0..50_000 {
            xml.push_str(&format!(
                "<url><loc>https://example.com/articles/{i}/some-title-here</loc><lastmod>2024-05-0{}T10:00:00+00:00</lastmod></url>\n",
                i % 9 + 1
            ));
        }
        xml.push_str("</urlset>");
        let start = std::time::Instant::now();
        let n = urls(parse_sitemap(xml.as_bytes())).len();
        let elapsed = start.elapsed();
        eprintln!(
            "{n} entries, {:.1} MB in {elapsed:?} = {:.0} MB/s",
            xml.len() as f64 / 1e6,
            xml.len() as f64 / 1e6 / elapsed.as_secs_f64()
        );
    }
}
