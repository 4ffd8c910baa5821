//! Feed bytes to text. Feeds lie about their encoding in predictable ways, so the order is:
//!
//! 1. a byte-order mark (UTF-8, UTF-16), or UTF-16 recognised from `<?` without one;
//! 2. bytes that are valid UTF-8 and not plain ASCII are UTF-8, whatever is declared
//!    (re-saved feeds keep their old `encoding="iso-8859-1"`; valid UTF-8 is very unlikely
//!    to be anything else by accident);
//! 3. the declared charset: HTTP `Content-Type` first, else the XML declaration. Labels map
//!    the way browsers map them, so `iso-8859-1` and `us-ascii` read as Windows-1252 — the
//!    `0x92` apostrophe of a Windows editor becomes `’`, not a control character;
//! 4. a document that is meant to be UTF-8 (declared so, or undeclared) whose valid
//!    multi-byte sequences are at least as many as its invalid bytes is repaired segment by segment: its valid UTF-8 stays as it is and only each
//!    invalid byte is read as Windows-1252 (`Café` with one stray `0xE9` elsewhere must not
//!    turn into `CafÃ©`);
//! 5. other bytes with no usable declaration are a legacy encoding: detected (chardetng), which reads undeclared KOI8-R or GB2312 feeds
//!    that a declaration-only reader gets wrong.

use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252};

/// The decoded text and what was done to get it (for the repair log), empty when nothing
/// unusual was needed.
pub fn decode(body: &[u8], http_charset: Option<&str>) -> (String, Option<&'static str>) {
    let (text, repair) = decode_bytes(body, http_charset);
    if text.contains(|c: char| ('\u{80}'..='\u{9f}').contains(&c)) {
        return (
            demoronize(&text),
            repair.or(Some("C1 controls read as Windows-1252")),
        );
    }
    (text, repair)
}

/// C1 control characters (U+0080..U+009F) never occur in real text; they are Windows-1252
/// punctuation that went through a Latin-1 conversion (`don\u{92}t` is `don’t`).
fn demoronize(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{80}'..='\u{9f}' => WINDOWS_1252
                .decode_without_bom_handling(&[c as u8])
                .0
                .chars()
                .next()
                .filter(|d| *d != c)
                .unwrap_or(c),
            c => c,
        })
        .collect()
}

fn decode_bytes(body: &[u8], http_charset: Option<&str>) -> (String, Option<&'static str>) {
    if let Some((enc, bom)) = Encoding::for_bom(body) {
        let (text, _) = enc.decode_without_bom_handling(&body[bom..]);
        return (text.into_owned(), None);
    }
    if body.starts_with(b"<\0?\0") || body.starts_with(b"<\0\0\0") {
        return (
            UTF_16LE.decode_without_bom_handling(body).0.into_owned(),
            None,
        );
    }
    if body.starts_with(b"\0<\0?") {
        return (
            UTF_16BE.decode_without_bom_handling(body).0.into_owned(),
            None,
        );
    }
    if let Ok(s) = std::str::from_utf8(body) {
        return (s.to_string(), None);
    }
    // The bytes are not UTF-8, so a declaration of UTF-8 (or UTF-16, without its pattern)
    // is the one thing known to be wrong: the other declaration, if any, is used.
    let legacy = |e: &&'static Encoding| ![UTF_8, UTF_16LE, UTF_16BE].contains(e);
    let declared = http_charset
        .and_then(|c| Encoding::for_label(c.trim().as_bytes()))
        .filter(legacy)
        .or_else(|| xml_declared(body).filter(legacy));
    match declared {
        Some(enc) => (enc.decode_without_bom_handling(body).0.into_owned(), None),
        _ if mostly_utf8(body) => (
            repair_utf8(body),
            Some("invalid UTF-8 bytes read as Windows-1252"),
        ),
        _ => {
            let mut det = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
            det.feed(body, true);
            let enc = det.guess(None, chardetng::Utf8Detection::Deny);
            (
                enc.decode_without_bom_handling(body).0.into_owned(),
                Some("undeclared encoding detected"),
            )
        }
    }
}

/// The `encoding="..."` of an XML declaration at the start of the document.
fn xml_declared(body: &[u8]) -> Option<&'static Encoding> {
    let head = &body[..body.len().min(256)];
    let start = head.iter().position(|b| !b.is_ascii_whitespace())?;
    let head = &head[start..];
    if !head.starts_with(b"<?xml") {
        return None;
    }
    let end = head.windows(2).position(|w| w == b"?>")?;
    let decl = String::from_utf8_lossy(&head[..end]).to_ascii_lowercase();
    let rest = &decl[decl.find("encoding")? + 8..];
    let rest = rest.trim_start().strip_prefix('=')?.trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = rest[1..].split(quote).next()?;
    Encoding::for_label(value.trim().as_bytes())
}

/// Whether the bytes hold at least as many well-formed multi-byte UTF-8 sequences as invalid bytes:
/// UTF-8 with some damage, rather than a legacy encoding in which a few byte pairs happen
/// to form UTF-8 (KOI8-R's "ъё" in "подъём" is a valid UTF-8 pair).
fn mostly_utf8(body: &[u8]) -> bool {
    let (mut valid, mut invalid) = (0usize, 0usize);
    let mut rest = body;
    loop {
        let (ok, bad) = match std::str::from_utf8(rest) {
            Ok(s) => (s, 0),
            Err(e) => {
                let ok = std::str::from_utf8(&rest[..e.valid_up_to()]).expect("checked valid");
                (ok, e.error_len().unwrap_or(rest.len() - e.valid_up_to()))
            }
        };
        valid += ok.chars().filter(|c| !c.is_ascii()).count();
        invalid += bad;
        if bad == 0 {
            return valid >= invalid;
        }
        rest = &rest[ok.len() + bad..];
    }
}

/// UTF-8 with each invalid byte read as Windows-1252.
fn repair_utf8(body: &[u8]) -> String {
    let mut out = String::with_capacity(body.len() + 16);
    let mut rest = body;
    loop {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                out.push_str(s);
                return out;
            }
            Err(e) => {
                let valid = e.valid_up_to();
                out.push_str(std::str::from_utf8(&rest[..valid]).expect("checked valid"));
                let bad = e.error_len().unwrap_or(rest.len() - valid);
                out.push_str(
                    &WINDOWS_1252
                        .decode_without_bom_handling(&rest[valid..valid + bad])
                        .0,
                );
                rest = &rest[valid + bad..];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_latin1_reads_windows_1252_punctuation() {
        let doc = b"<?xml version='1.0' encoding='iso-8859-1'?><rss>it\x92s caf\xe9</rss>";
        assert_eq!(
            decode(doc, None).0,
            "<?xml version='1.0' encoding='iso-8859-1'?><rss>it’s café</rss>"
        );
    }

    #[test]
    fn one_invalid_byte_is_repaired_in_place() {
        let doc = "<rss><title>Café</title><x>bad \u{0}</x></rss>".replace('\u{0}', "");
        let mut bytes = doc.into_bytes();
        bytes.insert(bytes.len() - 10, 0xE9);
        let (text, repair) = decode(&bytes, None);
        assert!(text.contains("Café"), "{text}");
        assert!(text.contains("bad é"), "{text}");
        assert!(repair.is_some());
    }

    #[test]
    fn a_wrong_http_utf8_falls_back_to_the_xml_declaration() {
        let doc = b"<?xml version='1.0' encoding='iso-8859-1'?><rss>caf\xe9</rss>";
        assert!(decode(doc, Some("utf-8")).0.ends_with("<rss>café</rss>"));
    }

    #[test]
    fn valid_utf8_wins_over_a_wrong_declaration() {
        let doc = "<?xml version=\"1.0\" encoding=\"windows-1251\"?><rss>Привет</rss>";
        assert!(decode(doc.as_bytes(), Some("koi8-r")).0.contains("Привет"));
    }

    #[test]
    fn undeclared_legacy_bytes_are_detected() {
        let (bytes, _, _) = encoding_rs::KOI8_R.encode(
            "<rss><item><title>Ужасный сервис, никогда больше не буду покупать</title></item></rss>",
        );
        let (text, repair) = decode(&bytes, None);
        assert!(text.contains("Ужасный сервис"), "{text}");
        assert_eq!(repair, Some("undeclared encoding detected"));
    }

    /// KOI8-R's "ъё" is a valid UTF-8 pair: one such pair must not make a KOI8-R feed
    /// read as damaged UTF-8.
    #[test]
    fn a_legacy_text_with_an_accidental_utf8_pair_is_still_detected() {
        let (bytes, _, _) = encoding_rs::KOI8_R.encode(
            "<rss><item><title>Подъём цен на бельё: покупатели недовольны сервисом магазина</title></item></rss>",
        );
        assert!(std::str::from_utf8(&bytes).is_err());
        let (text, _) = decode(&bytes, None);
        assert!(text.contains("Подъём цен на бельё"), "{text}");
    }

    #[test]
    fn c1_controls_become_punctuation() {
        assert_eq!(decode("don\u{92}t".as_bytes(), None).0, "don’t");
    }

    #[test]
    fn utf16_without_bom() {
        let s: Vec<u8> = "<?xml version=\"1.0\"?><rss>é</rss>"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        assert!(decode(&s, None).0.ends_with("<rss>é</rss>"));
    }
}
