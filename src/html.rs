//! HTML reduced to readable text: entities decoded, scripts and styles dropped, block
//! elements turned into line breaks so that words from adjacent paragraphs don't merge.

use scraper::{Html, Node};

const BLOCKS: &[&str] = &[
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "tr",
    "table",
    "section",
    "article",
    "header",
    "footer",
    "hr",
    "dd",
    "dt",
    "figcaption",
];
const SKIP: &[&str] = &[
    "script", "style", "noscript", "template", "head", "iframe", "svg",
];

/// Text content of an HTML fragment. Plain text without markup is returned unchanged
/// (whitespace normalised).
pub fn to_text(input: &str) -> String {
    if !input.contains('<') && !input.contains('&') {
        return normalise_ws(input);
    }
    let doc = Html::parse_fragment(input);
    let mut out = String::with_capacity(input.len());
    walk(doc.tree.root(), &mut out);
    normalise_ws(&out)
}

fn walk(node: ego_tree::NodeRef<'_, Node>, out: &mut String) {
    for child in node.children() {
        match child.value() {
            Node::Text(t) => out.push_str(t),
            Node::Element(e) => {
                let name = e.name();
                if SKIP.contains(&name) {
                    continue;
                }
                let block = BLOCKS.contains(&name);
                if block {
                    out.push('\n');
                }
                if name == "img"
                    && let Some(alt) = e.attr("alt").filter(|a| !a.trim().is_empty())
                {
                    out.push(' ');
                    out.push_str(alt);
                    out.push(' ');
                }
                walk(child, out);
                if block {
                    out.push('\n');
                } else if matches!(name, "td" | "th") {
                    out.push(' ');
                }
            }
            _ => walk(child, out),
        }
    }
}

/// Collapses runs of spaces, keeps single line breaks between paragraphs.
fn normalise_ws(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for line in s.lines() {
        let mut first = true;
        let mut line_out = String::new();
        for w in line.split_whitespace() {
            if !first {
                line_out.push(' ');
            }
            line_out.push_str(w);
            first = false;
        }
        if !line_out.is_empty() {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&line_out);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_tags_and_decodes_entities() {
        assert_eq!(
            to_text("<p>Fish &amp; chips</p><p>are <b>great</b></p>"),
            "Fish & chips\nare great"
        );
        assert_eq!(to_text("a<script>alert(1)</script>b"), "ab");
        assert_eq!(to_text("caf&eacute; &#8212; &lt;tag&gt;"), "café — <tag>");
    }

    #[test]
    fn plain_text_untouched() {
        assert_eq!(to_text("  just   words  "), "just words");
    }

    #[test]
    fn adjacent_blocks_do_not_merge_words() {
        assert_eq!(to_text("<div>one</div><div>two</div>"), "one\ntwo");
        assert_eq!(to_text("line<br>break"), "line\nbreak");
    }
}
