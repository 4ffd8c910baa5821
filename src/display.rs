//! Text for people: one-line and multi-line cleaning, shortening, HTML escaping and the link
//! check — the one implementation every renderer uses (web UI data, reports, e-mails,
//! webhooks, CLI tables).
//!
//! Mention text, titles, author and source names come from the open web and are
//! attacker-controlled. Cleaning drops what can disguise text (control characters, bidi
//! overrides and isolates — "Trojan Source" — zero-width characters, soft hyphens);
//! [`html_escape`] makes the result inert in element content and quoted attributes; only
//! [`safe_link`] URLs ever become links.

/// Characters dropped from rendered text: bidi controls, zero-width characters, the BOM,
/// interlinear annotation marks and soft hyphens, which could make a rendered text read
/// differently from its bytes.
pub fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}' | '\u{00AD}')
}

/// One line: control and invisible characters removed, every run of whitespace (line breaks
/// included) one space, trimmed. For subjects, titles, names and table cells.
pub fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.chars() {
        if c.is_whitespace() || c == '\u{2028}' || c == '\u{2029}' {
            pending_space = true;
            continue;
        }
        if c.is_control() || is_invisible(c) {
            continue;
        }
        if pending_space && !out.is_empty() {
            out.push(' ');
        }
        pending_space = false;
        out.push(c);
    }
    out
}

/// Several lines: control characters other than newline and tab removed, invisible
/// characters removed. For multi-line excerpts.
pub fn multi_line(s: &str) -> String {
    s.chars()
        .filter(|&c| (c == '\n' || c == '\t' || !c.is_control()) && !is_invisible(c))
        .collect()
}

/// At most `max` characters, the last one an ellipsis when something was cut.
pub fn truncate_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// [`one_line`], then cut to at most `max` characters (an ellipsis included), at a word
/// boundary when one is reasonably close.
pub fn excerpt(s: &str, max: usize) -> String {
    let s = one_line(s);
    if max == 0 {
        return String::new();
    }
    if s.chars().count() <= max {
        return s;
    }
    let cut: String = s.chars().take(max - 1).collect();
    let cut = match cut.rfind(' ') {
        Some(i) if cut[..i].chars().count() >= max / 2 => cut[..i].to_string(),
        _ => cut,
    };
    let mut cut = cut.trim_end_matches([' ', ',', ';', ':', '.']).to_string();
    cut.push('…');
    cut
}

/// HTML-escapes `s`: safe in element content and in quoted attribute values. `=` and `` ` ``
/// are escaped too, so that even the inert text of an injection attempt carries no
/// `onerror=`-like substring.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '=' => out.push_str("&#61;"),
            '`' => out.push_str("&#96;"),
            c => out.push(c),
        }
    }
    out
}

/// The URL when it is an absolute `http`/`https` URL that is safe to put in a link (no
/// whitespace, quotes, angle brackets, backslashes, control or invisible characters, at most
/// 2048 bytes); `None` otherwise (`javascript:`, `data:`, relative links, …).
pub fn safe_link(url: &str) -> Option<&str> {
    let url = url.trim();
    let scheme_len = if starts_with_ignore_case(url, "https://") {
        8
    } else if starts_with_ignore_case(url, "http://") {
        7
    } else {
        return None;
    };
    // The scheme is ASCII, so `scheme_len` is a char boundary.
    let rest = &url[scheme_len..];
    let host_ok = !rest.is_empty() && !rest.starts_with('/');
    let chars_ok = url.chars().all(|c| {
        !c.is_control()
            && !c.is_whitespace()
            && !is_invisible(c)
            && !matches!(c, '"' | '\'' | '<' | '>' | '`' | '\\')
    });
    (host_ok && chars_ok && url.len() <= 2048).then_some(url)
}

fn starts_with_ignore_case(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len() && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

/// A row of block characters, one per value, scaled to the largest (zero is a space).
pub fn sparkline(values: &[u64]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = values.iter().copied().max().unwrap_or(0).max(1);
    values
        .iter()
        .map(|&v| {
            if v == 0 {
                ' '
            } else {
                BARS[((v * 7) / max) as usize]
            }
        })
        .collect()
}

/// The image type of a logo file from its extension: PNG, JPEG, SVG, GIF or WebP.
pub fn image_mime(path: &std::path::Path) -> Option<&'static str> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    Some(match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "svg" => "image/svg+xml",
        "gif" => "image/gif",
        "webp" => "image/webp",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleaning_drops_what_disguises_text() {
        assert_eq!(one_line(" a\u{202E}b \n\t c\u{200B}d\u{7} "), "ab cd");
        assert_eq!(multi_line("a\u{2066}\nb\u{0}\tc"), "a\nb\tc");
    }

    #[test]
    fn shortening() {
        assert_eq!(truncate_chars("héllo", 5), "héllo");
        assert_eq!(truncate_chars("héllo!", 5), "héll…");
        let e = excerpt(&"word ".repeat(100), 50);
        assert!(e.chars().count() <= 50 && e.ends_with("word…"), "{e}");
        assert_eq!(excerpt("x", 0), "");
    }

    #[test]
    fn escaping_and_links() {
        assert_eq!(
            html_escape("<a href=\"x\" onclick='y'>&`"),
            "&lt;a href&#61;&quot;x&quot; onclick&#61;&#39;y&#39;&gt;&amp;&#96;"
        );
        assert_eq!(
            safe_link(" https://a.example/x "),
            Some("https://a.example/x")
        );
        for bad in [
            "javascript:alert(1)",
            "https:///x",
            "http://a\u{202E}b",
            "https://a/\"x",
            "/relative",
        ] {
            assert_eq!(safe_link(bad), None, "{bad}");
        }
    }
}
