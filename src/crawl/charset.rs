//! Decoding a fetched page to text. The order follows the HTML standard's encoding sniffing,
//! with one fix for a common real-world lie:
//!
//! 1. a byte-order mark;
//! 2. bytes that are valid UTF-8 and not plain ASCII are UTF-8, whatever the page declares
//!    (pages that declare `gb2312` or `iso-8859-1` but were re-saved as UTF-8 are common, and
//!    valid UTF-8 is very unlikely to be anything else by accident);
//! 3. the `charset` of the HTTP `Content-Type`;
//! 4. a `<meta charset>` or `<meta http-equiv="Content-Type">` in the first 1024 bytes;
//! 5. detection from the bytes (chardetng), for pages that declare nothing.
//!
//! Undecodable bytes become U+FFFD; a page is never rejected for its encoding.

use encoding_rs::Encoding;

/// The text of a page and the encoding it was read with.
pub fn decode_html(body: &[u8], content_type: Option<&str>) -> (String, &'static Encoding) {
    if let Some((enc, bom_len)) = Encoding::for_bom(body) {
        let (text, _) = enc.decode_without_bom_handling(&body[bom_len..]);
        return (text.into_owned(), enc);
    }
    if !body.is_ascii()
        && let Ok(s) = std::str::from_utf8(body)
    {
        return (s.to_string(), encoding_rs::UTF_8);
    }
    let declared = content_type
        .and_then(charset_param)
        .and_then(|l| Encoding::for_label(l.as_bytes()))
        .or_else(|| meta_charset(body));
    let enc = declared.unwrap_or_else(|| {
        let mut d = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
        d.feed(body, true);
        d.guess(None, chardetng::Utf8Detection::Deny)
    });
    // Per the HTML standard, a declared UTF-16 in a document without a BOM means UTF-8.
    let enc = if enc == encoding_rs::UTF_16LE || enc == encoding_rs::UTF_16BE {
        encoding_rs::UTF_8
    } else {
        enc
    };
    let (text, _, _) = enc.decode(body);
    (text.into_owned(), enc)
}

/// `charset=...` of a Content-Type value.
pub fn charset_param(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| v.trim().trim_matches(|c| c == '"' || c == '\'').to_string())
    })
}

/// The encoding a `<meta>` in the first 1024 bytes declares (a simplified prescan).
fn meta_charset(body: &[u8]) -> Option<&'static Encoding> {
    let head = &body[..body.len().min(1024)];
    let lower: Vec<u8> = head.iter().map(u8::to_ascii_lowercase).collect();
    let mut from = 0;
    while let Some(i) = find(&lower[from..], b"<meta") {
        let start = from + i;
        let end = lower[start..]
            .iter()
            .position(|&b| b == b'>')
            .map_or(lower.len(), |e| start + e);
        let tag = &lower[start..end];
        if let Some(j) = find(tag, b"charset") {
            let rest = &tag[j + 7..];
            let rest = rest
                .iter()
                .position(|&b| b == b'=')
                .map(|k| &rest[k + 1..])
                .unwrap_or(&[]);
            let value: Vec<u8> = rest
                .iter()
                .copied()
                .skip_while(|b| b.is_ascii_whitespace() || *b == b'"' || *b == b'\'')
                .take_while(|b| {
                    !b.is_ascii_whitespace() && !matches!(b, b'"' | b'\'' | b';' | b'/')
                })
                .collect();
            if let Some(enc) = Encoding::for_label(&value) {
                return Some(enc);
            }
        }
        from = end;
    }
    None
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Whether a Content-Type is a page the crawler reads (HTML or XHTML; an absent type is
/// sniffed by the caller).
pub fn is_html(content_type: Option<&str>) -> bool {
    match content_type {
        None => true,
        Some(ct) => {
            let mime = ct
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            mime == "text/html" || mime == "application/xhtml+xml"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_in_order() {
        // Windows-1251 declared in a meta tag.
        let (b, _, _) = encoding_rs::WINDOWS_1251.encode("Привет, мир");
        let mut page = b"<html><head><meta charset=\"windows-1251\"></head><body>".to_vec();
        page.extend_from_slice(&b);
        let (text, enc) = decode_html(&page, None);
        assert_eq!(enc, encoding_rs::WINDOWS_1251);
        assert!(text.contains("Привет, мир"));
        // ISO-8859-1 from the HTTP header (decoded as windows-1252, per the standard).
        let (text, _) = decode_html(
            b"<p>Caf\xe9 cr\xe8me</p>",
            Some("text/html; charset=ISO-8859-1"),
        );
        assert_eq!(text, "<p>Café crème</p>");
        // Declared gb2312, but the bytes are UTF-8.
        let page = "<meta charset=gb2312><p>腾讯新闻</p>".as_bytes();
        let (text, enc) = decode_html(page, None);
        assert_eq!(enc, encoding_rs::UTF_8);
        assert!(text.contains("腾讯新闻"));
        // A BOM wins.
        let (text, enc) = decode_html(b"\xef\xbb\xbf<p>x</p>", Some("text/html; charset=koi8-r"));
        assert_eq!((text.as_str(), enc), ("<p>x</p>", encoding_rs::UTF_8));
        // http-equiv form.
        let page = b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=koi8-r\"><p>\xf0\xd2\xc9\xd7\xc5\xd4</p>";
        let (text, enc) = decode_html(page, None);
        assert_eq!(enc, encoding_rs::KOI8_R);
        assert!(text.contains("Привет"), "{text}");
    }

    #[test]
    fn html_types() {
        assert!(is_html(Some("text/html; charset=utf-8")));
        assert!(is_html(Some("application/xhtml+xml")));
        assert!(!is_html(Some("application/pdf")));
        assert!(!is_html(Some("image/png")));
    }
}
