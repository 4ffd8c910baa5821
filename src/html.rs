//! HTML reduced to readable text: entities decoded, scripts and styles dropped, block
//! elements turned into line breaks so that words from adjacent paragraphs don't merge.
//!
//! # Hostile markup
//!
//! Mention bodies are attacker-controlled, so nothing here may cost more than linear time or
//! stack in the size of the input:
//! - the DOM is walked iteratively ([`walk`], used by every HTML walker), never recursively: 20,000 nested
//!   `<div>`s in one feed item used to overflow a tokio worker's stack and abort the daemon;
//! - html5ever's tree builder scans the stack of open elements for every start tag, so a
//!   document nested `d` levels deep costs `O(n·d)` (100,000 nested `<div>`s: 45 s of CPU).
//!   [`nesting_exceeds`] estimates the nesting in one linear pass over the raw text, and a
//!   document deeper than [`MAX_NESTING`] is not parsed at all: [`to_text`] strips its tags
//!   with a linear scanner instead ([`strip_tags`]), and the crawler skips the page with a
//!   logged, counted error. Real pages nest a few dozen levels.

use scraper::{ElementRef, Html, Node};

/// The deepest element nesting handed to the HTML parser (see the module docs).
pub const MAX_NESTING: usize = 512;

pub(crate) const BLOCKS: &[&str] = &[
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
    "dl",
    "figcaption",
    "aside",
    "details",
    "summary",
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
    if nesting_exceeds(input, MAX_NESTING) {
        tracing::debug!(
            bytes = input.len(),
            "HTML nested deeper than {MAX_NESTING} elements: tags stripped without parsing"
        );
        return normalise_ws(&strip_tags(input));
    }
    let doc = Html::parse_fragment(input);
    render_text(doc.tree.root(), |e| {
        if SKIP.contains(&e.value().name()) {
            Visit::Skip
        } else {
            Visit::Enter
        }
    })
}

/// What [`render_text`] does with an element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visit {
    /// Its text is part of the result.
    Enter,
    /// Left out.
    Skip,
    /// Left out, with a line break in its place (a quoted post between two paragraphs).
    SkipAsBreak,
}

/// One step of [`walk`].
#[derive(Debug, Clone, Copy)]
pub enum Step<'a> {
    /// A node is reached; the callback answers whether to walk into its children.
    Enter(ego_tree::NodeRef<'a, Node>),
    /// A node that was walked into is left, after its children.
    Leave(ego_tree::NodeRef<'a, Node>),
}

/// Walks the tree under `root` (included) in document order, without recursion: no input
/// depth can overflow the stack. Every walker of parsed HTML in hark (text rendering here,
/// the forum splitter, the crawler's article extraction) goes through it. `step` is called
/// with `Enter` for each node reached and `Leave` once each node it entered is done; a
/// subtree it declines is not visited at all.
pub fn walk<'a>(root: ego_tree::NodeRef<'a, Node>, mut step: impl FnMut(Step<'a>) -> bool) {
    let mut node = root;
    'down: loop {
        if step(Step::Enter(node)) {
            if let Some(child) = node.first_child() {
                node = child;
                continue 'down;
            }
            step(Step::Leave(node));
        }
        loop {
            if node.id() == root.id() {
                return;
            }
            if let Some(next) = node.next_sibling() {
                node = next;
                continue 'down;
            }
            let Some(parent) = node.parent() else {
                return;
            };
            node = parent;
            step(Step::Leave(node));
        }
    }
}

/// The text under `root`: text nodes in document order, block elements (and skipped
/// subtrees) as line breaks, table cells separated by a space, `<img alt>` kept, whitespace
/// normalised. `visit` decides, per element below `root`, whether its subtree is left out.
pub fn render_text(
    root: ego_tree::NodeRef<'_, Node>,
    visit: impl Fn(ElementRef<'_>) -> Visit,
) -> String {
    let mut out = String::new();
    walk(root, |step| match step {
        Step::Enter(node) => match node.value() {
            Node::Text(t) => {
                out.push_str(t);
                false
            }
            Node::Element(e) => {
                if node.id() != root.id() {
                    match visit(ElementRef::wrap(node).expect("element node")) {
                        Visit::Enter => {}
                        Visit::Skip => return false,
                        Visit::SkipAsBreak => {
                            out.push('\n');
                            return false;
                        }
                    }
                }
                let name = e.name();
                if BLOCKS.contains(&name) {
                    out.push('\n');
                }
                if name == "img"
                    && let Some(alt) = e.attr("alt").filter(|a| !a.trim().is_empty())
                {
                    out.push(' ');
                    out.push_str(alt);
                    out.push(' ');
                }
                true
            }
            Node::Document | Node::Fragment => true,
            _ => false,
        },
        Step::Leave(node) => {
            if let Node::Element(e) = node.value() {
                if BLOCKS.contains(&e.name()) {
                    out.push('\n');
                } else if matches!(e.name(), "td" | "th") {
                    out.push(' ');
                }
            }
            true
        }
    });
    normalise_ws(&out)
}

/// Elements that never hold children, and the ones whose end tag is usually left out and
/// that the parser closes by itself when a sibling starts (`<p>a<p>b` is two paragraphs,
/// not two levels): neither kind deepens the tree.
const NOT_NESTING: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr", "p", "li", "dt", "dd", "option", "tr", "td", "th", "tbody", "thead", "tfoot",
    "colgroup", "optgroup", "rb", "rt", "rp", "!doctype",
];

/// Whether the element nesting of `html` (start tags minus end tags, as a linear scan of the
/// raw text estimates it) ever goes beyond `limit`. Comments and the contents of `script`,
/// `style` and `textarea` are skipped; self-closing and void elements don't count.
pub fn nesting_exceeds(html: &str, limit: usize) -> bool {
    let b = html.as_bytes();
    let mut depth: usize = 0;
    let mut i = 0;
    while let Some(off) = memchr_lt(&b[i..]) {
        i += off + 1;
        if b[i..].starts_with(b"!--") {
            i = find(b, i + 3, b"-->").map_or(b.len(), |e| e + 3);
            continue;
        }
        let closing = b.get(i) == Some(&b'/');
        let start = if closing { i + 1 } else { i };
        let name_len = b[start..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b':' | b'!'))
            .count();
        if name_len == 0 || !b[start].is_ascii_alphabetic() && b[start] != b'!' {
            continue;
        }
        let name = html[start..start + name_len].to_ascii_lowercase();
        let end = find(b, start + name_len, b">").unwrap_or(b.len());
        if closing {
            if !NOT_NESTING.contains(&name.as_str()) {
                depth = depth.saturating_sub(1);
            }
            i = end;
            continue;
        }
        let self_closing = end > 0 && b.get(end - 1) == Some(&b'/');
        if matches!(
            name.as_str(),
            "script" | "style" | "textarea" | "title" | "xmp"
        ) {
            let closer = format!("</{name}");
            i = find_ignore_case(b, end, closer.as_bytes()).unwrap_or(b.len());
            continue;
        }
        if !self_closing && !NOT_NESTING.contains(&name.as_str()) {
            depth += 1;
            if depth > limit {
                return true;
            }
        }
        i = end;
    }
    false
}

fn memchr_lt(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b'<')
}

fn find(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    if from >= hay.len() {
        return None;
    }
    hay[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

fn find_ignore_case(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    if from >= hay.len() {
        return None;
    }
    hay[from..]
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
        .map(|p| p + from)
}

/// Text of `html` without parsing it: tags removed (block tags become line breaks), comments
/// and `script`/`style` contents dropped, character references decoded. Linear time; used
/// for documents too deeply nested to parse.
pub fn strip_tags(html: &str) -> String {
    let b = html.as_bytes();
    let mut text = String::with_capacity(html.len() / 2);
    let mut i = 0;
    let mut copied = 0;
    while let Some(off) = memchr_lt(&b[i..]) {
        let lt = i + off;
        text.push_str(&html[copied..lt]);
        i = lt + 1;
        if b[i..].starts_with(b"!--") {
            i = find(b, i + 3, b"-->").map_or(b.len(), |e| e + 3);
            copied = i;
            continue;
        }
        let closing = b.get(i) == Some(&b'/');
        let start = if closing { i + 1 } else { i };
        let name_len = b[start..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric())
            .count();
        if name_len == 0 || !(b[start].is_ascii_alphabetic() || b[start] == b'!') {
            // A lone `<` (as in "a < b") is text.
            text.push('<');
            copied = i;
            continue;
        }
        let name = html[start..start + name_len].to_ascii_lowercase();
        let end = find(b, start, b">").map_or(b.len(), |e| e + 1);
        i = end;
        if !closing && matches!(name.as_str(), "script" | "style") {
            let closer = format!("</{name}");
            let close = find_ignore_case(b, end, closer.as_bytes()).unwrap_or(b.len());
            i = find(b, close, b">").map_or(b.len(), |e| e + 1);
        }
        if BLOCKS.contains(&name.as_str()) {
            text.push('\n');
        }
        copied = i;
    }
    text.push_str(&html[copied.min(html.len())..]);
    decode_entities(&text)
}

/// Decodes numeric character references and the common named ones; anything else is kept
/// as written.
pub fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let end = after
            .char_indices()
            .take(32)
            .find(|(_, c)| *c == ';')
            .map(|(i, _)| i);
        let decoded = end.and_then(|e| decode_entity(&after[..e]).map(|c| (c, e)));
        match decoded {
            Some((c, e)) => {
                out.push(c);
                rest = &after[e + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn decode_entity(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse::<u32>().ok()?,
        };
        // As the HTML standard reads them: `&#146;` is Windows-1252's ’, not a C1 control.
        if (0x80..=0x9F).contains(&code) {
            return Some(
                markup5ever::data::C1_REPLACEMENTS[(code - 0x80) as usize].unwrap_or('\u{FFFD}'),
            );
        }
        return Some(
            char::from_u32(code)
                .filter(|c| *c != '\0')
                .unwrap_or('\u{FFFD}'),
        );
    }
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        // The HTML standard's table (2,231 names), which feeds and API bodies use freely.
        _ => markup5ever::data::NAMED_ENTITIES
            .get(format!("{name};").as_str())
            .and_then(|&(c, _)| char::from_u32(c)),
    }
}

/// Collapses runs of spaces, keeps single line breaks between paragraphs.
pub(crate) fn normalise_ws(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for line in s.lines() {
        let mut words = line.split_whitespace();
        let Some(first) = words.next() else { continue };
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(first);
        for w in words {
            out.push(' ');
            out.push_str(w);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walk_visits_in_order_and_skips_declined_subtrees() {
        let doc = Html::parse_fragment("<div><p>a<b>b</b></p><nav>x<i>y</i></nav>c</div>");
        let mut log = Vec::new();
        walk(doc.tree.root(), |step| match step {
            Step::Enter(n) => match n.value() {
                Node::Element(e) => {
                    log.push(format!("<{}>", e.name()));
                    e.name() != "nav"
                }
                Node::Text(t) => {
                    log.push(t.to_string());
                    false
                }
                _ => true,
            },
            Step::Leave(n) => {
                if let Node::Element(e) = n.value() {
                    log.push(format!("</{}>", e.name()));
                }
                true
            }
        });
        // The declined <nav> is neither walked into nor left.
        assert_eq!(
            log.join(""),
            "<html><div><p>a<b>b</b></p><nav>c</div></html>"
        );
    }

    #[test]
    fn walk_survives_any_depth() {
        // Built directly (the parser itself refuses such depth, see `nesting_exceeds`).
        let mut tree = ego_tree::Tree::new(Node::Fragment);
        let mut id = tree.root().id();
        for _ in 0..200_000 {
            id = tree.get_mut(id).unwrap().append(Node::Fragment).id();
        }
        let (mut entered, mut left) = (0, 0);
        walk(tree.root(), |step| {
            match step {
                Step::Enter(_) => entered += 1,
                Step::Leave(_) => left += 1,
            }
            true
        });
        assert_eq!((entered, left), (200_001, 200_001));
    }

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

    #[test]
    fn image_alt_text_and_table_cells() {
        assert_eq!(
            to_text("<table><tr><td>a</td><td>b</td></tr></table><img alt='logo'>"),
            "a b\nlogo"
        );
    }

    #[test]
    fn nesting_estimate() {
        assert!(!nesting_exceeds("<div><p>a<p>b<p>c</div>", 1));
        assert!(nesting_exceeds("<div><div>x</div></div>", 1));
        assert!(!nesting_exceeds(&"<p>para".repeat(10_000), 10));
        assert!(!nesting_exceeds(
            &"<li>item<br><img src=x>".repeat(10_000),
            10
        ));
        assert!(!nesting_exceeds(&"<div>x</div>".repeat(10_000), 1));
        assert!(!nesting_exceeds(&"<div/>".repeat(10_000), 1));
        assert!(!nesting_exceeds(
            "<script>if (a<b) { '<div><div><div>' }</script>",
            1
        ));
        assert!(!nesting_exceeds("<!-- <div><div><div> -->", 1));
        assert!(nesting_exceeds(&"<b>".repeat(600), MAX_NESTING));
        assert!(!nesting_exceeds("a < b and 1<2", 0));
    }

    #[test]
    fn stripping_without_a_parser() {
        assert_eq!(
            normalise_ws(&strip_tags(
                "<div><p>Fish &amp; chips</p><script>x<y</script><!-- c --><p>a < b &#x41;&bogus;</p></div>"
            )),
            "Fish & chips\na < b A&bogus;"
        );
    }

    /// Regression (hardening #1): an RSS description nesting 20,000 `<div>`s overflowed the
    /// stack of the recursive walker and aborted the daemon.
    #[test]
    fn deeply_nested_feed_item_does_not_overflow_the_stack() {
        let body = format!(
            "{}Acme broke my router{}",
            "<div>".repeat(20_000),
            "</div>".repeat(20_000)
        );
        // A thread with a small stack, like a tokio worker's.
        let on_small_stack = |body: String| {
            std::thread::Builder::new()
                .stack_size(256 * 1024)
                .spawn(move || to_text(&body))
                .unwrap()
                .join()
                .expect("no stack overflow")
        };
        assert_eq!(on_small_stack(body), "Acme broke my router");
        // Just under the limit it is parsed, iteratively, on the same small stack.
        let body = format!(
            "{}<b>Acme</b> broke my router",
            "<div>".repeat(MAX_NESTING - 10)
        );
        assert_eq!(on_small_stack(body), "Acme broke my router");
    }
}
