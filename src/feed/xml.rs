//! A forgiving XML reader for feeds: it builds an element tree from any text and never
//! rejects a document. Real feeds are full of what a conforming XML parser must refuse —
//! a bare `&` in a link, `&eacute;` that XML does not define, `&#X41;`, an unclosed tag, a
//! document cut off mid-item, namespaces that are used but never declared — and one such
//! byte makes a strict parser lose every entry. Here:
//!
//! - entity and character references are decoded with the HTML table; anything that is
//!   not a reference (a bare `&`, `&#xZZ;`) is kept as written;
//! - an end tag closes the matching open element (and whatever it left open); an end tag
//!   that matches nothing is ignored; a new `<item>`/`<entry>` closes an unclosed one;
//! - elements still open at the end of the document are marked [`Element::closed`]` =
//!   false`, so that the reader can drop an entry cut off mid-way and keep the rest;
//! - a prefix resolves through the declared namespaces, else through the usual prefix
//!   (`dc:`, `content:`, `media:`, ...), to a [`Vocab`]; names are compared lower-cased, so
//!   CDF's `<ITEM>` is an item.
//!
//! Cost is linear in the input: one pass, an explicit stack (never recursion), at most
//! [`MAX_DEPTH`] open elements, and an end tag is matched against the top
//! [`END_TAG_SEARCH`] of them only.

use std::ops::Range;

/// Elements nested deeper than this are read as text of their ancestor.
pub const MAX_DEPTH: usize = 256;
/// How far down the stack an end tag looks for its start tag.
const END_TAG_SEARCH: usize = 32;

/// The vocabulary an element belongs to, from its namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vocab {
    /// No namespace, or the default namespace of any RSS flavour (RSS 0.90, 1.0, Userland's
    /// RSS 2.0) or an unknown default namespace: the feed's own elements.
    Core,
    /// Atom 1.0 or 0.3.
    Atom,
    Dc,
    Content,
    Media,
    Itunes,
    Rdf,
    Xhtml,
    Other,
}

impl Vocab {
    fn of_uri(uri: &str) -> Option<Vocab> {
        let u = uri.trim().trim_end_matches('/').to_ascii_lowercase();
        Some(match u.as_str() {
            "http://www.w3.org/2005/atom"
            | "http://purl.org/atom/ns#"
            | "http://purl.org/atom/ns#draft-ietf-atompub-format-07" => Vocab::Atom,
            "http://purl.org/dc/elements/1.1" | "http://purl.org/dc/terms" => Vocab::Dc,
            "http://purl.org/rss/1.0/modules/content" => Vocab::Content,
            "http://search.yahoo.com/mrss" | "http://tools.search.yahoo.com/mrss" => Vocab::Media,
            "http://www.itunes.com/dtds/podcast-1.0.dtd"
            | "http://www.itunes.com/dtds/podcast-1.0.dtd#" => Vocab::Itunes,
            "http://www.w3.org/1999/02/22-rdf-syntax-ns#" => Vocab::Rdf,
            "http://www.w3.org/1999/xhtml" => Vocab::Xhtml,
            ""
            | "http://purl.org/rss/1.0"
            | "http://my.netscape.com/rdf/simple/0.9"
            | "http://backend.userland.com/rss2"
            | "http://backend.userland.com/rss"
            | "http://blogs.law.harvard.edu/tech/rss" => Vocab::Core,
            _ => return None,
        })
    }

    fn of_prefix(prefix: &str) -> Vocab {
        match prefix.to_ascii_lowercase().as_str() {
            "atom" | "atom03" | "atom10" => Vocab::Atom,
            "dc" | "dcterms" => Vocab::Dc,
            "content" => Vocab::Content,
            "media" => Vocab::Media,
            "itunes" => Vocab::Itunes,
            "rdf" => Vocab::Rdf,
            "xhtml" | "html" => Vocab::Xhtml,
            _ => Vocab::Other,
        }
    }
}

/// One element of the tree.
#[derive(Debug)]
pub struct Element {
    /// Local name, lower-cased.
    pub local: Box<str>,
    pub vocab: Vocab,
    /// Attributes as (lower-cased name as written, value with references decoded).
    pub attrs: Vec<(Box<str>, String)>,
    pub children: Vec<Child>,
    pub parent: Option<u32>,
    /// Byte range of the element's content (between its tags) in [`Doc::src`].
    pub inner: Range<usize>,
    /// False when the document ended before the element did.
    pub closed: bool,
    qname: Box<str>,
    ns_mark: usize,
}

#[derive(Debug)]
pub enum Child {
    Element(u32),
    Text(String),
}

impl Element {
    /// An attribute by name, with or without a prefix (`about` finds `rdf:about`).
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| &**n == name)
            .or_else(|| {
                self.attrs
                    .iter()
                    .find(|(n, _)| n.rsplit_once(':').is_some_and(|(_, l)| l == name))
            })
            .map(|(_, v)| v.as_str())
    }

    pub fn is(&self, vocab: Vocab, local: &str) -> bool {
        self.vocab == vocab && &*self.local == local
    }

    pub fn has_element_children(&self) -> bool {
        self.children.iter().any(|c| matches!(c, Child::Element(_)))
    }
}

/// A parsed document: its text and its elements (index 0 is the root when there is one).
pub struct Doc<'a> {
    pub src: &'a str,
    pub elems: Vec<Element>,
}

impl<'a> Doc<'a> {
    pub fn root(&self) -> Option<&Element> {
        self.elems.first()
    }

    pub fn get(&self, id: u32) -> &Element {
        &self.elems[id as usize]
    }

    /// Element children of `e`.
    pub fn children<'d>(&'d self, e: &'d Element) -> impl Iterator<Item = &'d Element> + 'd {
        e.children.iter().filter_map(|c| match c {
            Child::Element(i) => Some(self.get(*i)),
            Child::Text(_) => None,
        })
    }

    /// The first child element that satisfies `pred`.
    pub fn child<'d>(
        &'d self,
        e: &'d Element,
        pred: impl Fn(&Element) -> bool,
    ) -> Option<&'d Element> {
        self.children(e).find(|c| pred(c))
    }

    /// The element's own text (its text children joined; child elements' text is not
    /// included, see [`Doc::inner_markup`]).
    pub fn text(&self, e: &Element) -> String {
        let mut out = String::new();
        for c in &e.children {
            if let Child::Text(t) = c {
                out.push_str(t);
            }
        }
        out
    }

    /// All text below `e`, in document order (iterative).
    pub fn deep_text(&self, e: &Element) -> String {
        let mut out = String::new();
        let mut stack: Vec<std::slice::Iter<'_, Child>> = vec![e.children.iter()];
        while let Some(top) = stack.last_mut() {
            match top.next() {
                Some(Child::Text(t)) => out.push_str(t),
                Some(Child::Element(i)) => stack.push(self.get(*i).children.iter()),
                None => {
                    stack.pop();
                }
            }
        }
        out
    }

    /// The markup between the element's tags, as written.
    pub fn inner_markup(&self, e: &Element) -> &'a str {
        let r = e.inner.start.min(self.src.len())..e.inner.end.min(self.src.len());
        self.src.get(r).unwrap_or("")
    }

    /// Elements below `from` that satisfy `pred`, in document order, without looking inside
    /// a match (iterative).
    pub fn find_all<'d>(
        &'d self,
        from: &'d Element,
        pred: impl Fn(&Element) -> bool,
    ) -> Vec<&'d Element> {
        let mut found = Vec::new();
        let mut stack: Vec<std::slice::Iter<'_, Child>> = vec![from.children.iter()];
        while let Some(top) = stack.last_mut() {
            match top.next() {
                Some(Child::Element(i)) => {
                    let el = self.get(*i);
                    if pred(el) {
                        found.push(el);
                    } else {
                        stack.push(el.children.iter());
                    }
                }
                Some(Child::Text(_)) => {}
                None => {
                    stack.pop();
                }
            }
        }
        found
    }

    /// The `xml:base` values from the root down to `e`, outermost first.
    pub fn bases<'d>(&'d self, e: &'d Element) -> Vec<&'d str> {
        let mut out = Vec::new();
        let mut cur = Some(e);
        while let Some(el) = cur {
            if let Some(b) = el.attrs.iter().find(|(n, _)| &**n == "xml:base") {
                out.push(b.1.as_str());
            }
            cur = el.parent.map(|p| self.get(p));
        }
        out.reverse();
        out
    }
}

/// Reads any text as an element tree (see the module docs).
pub fn parse(src: &str) -> Doc<'_> {
    let mut p = Parser {
        src,
        elems: Vec::new(),
        stack: Vec::new(),
        ns: Vec::new(),
    };
    p.run();
    let end = src.len();
    for &open in &p.stack {
        let e = &mut p.elems[open as usize];
        e.closed = false;
        e.inner.end = end;
    }
    Doc {
        src,
        elems: p.elems,
    }
}

struct Parser<'a> {
    src: &'a str,
    elems: Vec<Element>,
    stack: Vec<u32>,
    ns: Vec<(Box<str>, Box<str>)>,
}

impl<'a> Parser<'a> {
    fn run(&mut self) {
        let b = self.src.as_bytes();
        let mut i = 0;
        while i < b.len() {
            let lt = memchr::memchr(b'<', &b[i..]).map_or(b.len(), |p| i + p);
            if lt > i {
                self.text(&self.src[i..lt], true);
            }
            if lt >= b.len() {
                break;
            }
            let rest = &b[lt..];
            i = if rest.starts_with(b"<!--") {
                find(b, lt + 4, b"-->").map_or(b.len(), |e| e + 3)
            } else if rest.starts_with(b"<![CDATA[") {
                let end = find(b, lt + 9, b"]]>").unwrap_or(b.len());
                self.text(&self.src[lt + 9..end], false);
                (end + 3).min(b.len())
            } else if rest.starts_with(b"<!") {
                skip_declaration(b, lt)
            } else if rest.starts_with(b"<?") {
                find(b, lt + 2, b"?>").map_or(b.len(), |e| e + 2)
            } else if rest.starts_with(b"</") {
                match memchr::memchr(b'>', &b[lt..]) {
                    Some(gt) => {
                        let name = self.src[lt + 2..lt + gt].trim();
                        self.close(name, lt);
                        lt + gt + 1
                    }
                    None => b.len(),
                }
            } else {
                match self.start_tag(lt) {
                    Some(next) => next,
                    None => {
                        // Not a tag ("a < b", "<3"): the '<' is text.
                        self.text("<", false);
                        lt + 1
                    }
                }
            };
        }
    }

    fn text(&mut self, raw: &str, decode: bool) {
        let Some(&top) = self.stack.last() else {
            return;
        };
        let text = if decode {
            crate::html::decode_entities(raw)
        } else {
            raw.to_string()
        };
        let children = &mut self.elems[top as usize].children;
        match children.last_mut() {
            Some(Child::Text(t)) => t.push_str(&text),
            _ => children.push(Child::Text(text)),
        }
    }

    /// Reads a start tag at `lt`; returns the position after it, or None when `<` does not
    /// start a tag.
    fn start_tag(&mut self, lt: usize) -> Option<usize> {
        let b = self.src.as_bytes();
        let name_start = lt + 1;
        let first = *b.get(name_start)?;
        if !(first.is_ascii_alphabetic() || first == b'_' || first >= 0x80) {
            return None;
        }
        let mut j = name_start;
        while j < b.len() && !b[j].is_ascii_whitespace() && b[j] != b'>' && b[j] != b'/' {
            j += 1;
        }
        let qname = &self.src[name_start..j];
        let mut attrs: Vec<(Box<str>, String)> = Vec::new();
        let mut self_closing = false;
        // Attributes.
        loop {
            while j < b.len() && b[j].is_ascii_whitespace() {
                j += 1;
            }
            if j >= b.len() {
                // Cut off inside a tag: the document ends here.
                return Some(b.len());
            }
            match b[j] {
                b'>' => {
                    j += 1;
                    break;
                }
                b'/' if b.get(j + 1) == Some(&b'>') => {
                    self_closing = true;
                    j += 2;
                    break;
                }
                b'/' | b'=' | b'"' | b'\'' => {
                    j += 1;
                    continue;
                }
                _ => {}
            }
            let n0 = j;
            while j < b.len() && !b[j].is_ascii_whitespace() && !matches!(b[j], b'=' | b'>' | b'/')
            {
                j += 1;
            }
            let name = self.src[n0..j].to_ascii_lowercase();
            while j < b.len() && b[j].is_ascii_whitespace() {
                j += 1;
            }
            let mut value = String::new();
            if b.get(j) == Some(&b'=') {
                j += 1;
                while j < b.len() && b[j].is_ascii_whitespace() {
                    j += 1;
                }
                match b.get(j) {
                    Some(&q) if q == b'"' || q == b'\'' => {
                        let end = memchr::memchr(q, &b[j + 1..]).map(|e| j + 1 + e)?;
                        value = crate::html::decode_entities(&self.src[j + 1..end]);
                        j = end + 1;
                    }
                    _ => {
                        let v0 = j;
                        while j < b.len() && !b[j].is_ascii_whitespace() && b[j] != b'>' {
                            j += 1;
                        }
                        value = crate::html::decode_entities(&self.src[v0..j]);
                    }
                }
            }
            if !name.is_empty() {
                attrs.push((name.into_boxed_str(), value));
            }
        }
        self.open(qname, attrs, j, self_closing);
        Some(j)
    }

    fn open(
        &mut self,
        qname: &str,
        attrs: Vec<(Box<str>, String)>,
        content_start: usize,
        self_closing: bool,
    ) {
        let (prefix, local) = match qname.split_once(':') {
            Some((p, l)) => (p, l),
            None => ("", qname),
        };
        let local = local.to_ascii_lowercase();
        // A new item or entry closes an unclosed one.
        if matches!(local.as_str(), "item" | "entry")
            && let Some(pos) = self
                .stack
                .iter()
                .rev()
                .take(8)
                .position(|&o| *self.elems[o as usize].local == *local)
        {
            let depth = self.stack.len() - 1 - pos;
            self.pop_to(depth, content_start);
        }
        if self.stack.len() >= MAX_DEPTH {
            return;
        }
        let ns_mark = self.ns.len();
        for (n, v) in &attrs {
            if &**n == "xmlns" {
                self.ns.push(("".into(), v.as_str().into()));
            } else if let Some(p) = n.strip_prefix("xmlns:") {
                self.ns.push((p.into(), v.as_str().into()));
            }
        }
        let vocab = self.resolve(prefix);
        let id = self.elems.len() as u32;
        let parent = self.stack.last().copied();
        self.elems.push(Element {
            local: local.into_boxed_str(),
            vocab,
            attrs,
            children: Vec::new(),
            parent,
            inner: content_start..content_start,
            closed: true,
            qname: qname.into(),
            ns_mark,
        });
        if let Some(p) = parent {
            self.elems[p as usize].children.push(Child::Element(id));
        } else if id != 0 {
            // A second top-level element: kept under the first root so nothing is lost.
            self.elems[id as usize].parent = Some(0);
            self.elems[0].children.push(Child::Element(id));
        }
        if self_closing {
            self.ns.truncate(ns_mark);
        } else {
            self.stack.push(id);
        }
    }

    fn resolve(&self, prefix: &str) -> Vocab {
        let lower = prefix.to_ascii_lowercase();
        match self
            .ns
            .iter()
            .rev()
            .find(|(p, _)| p.eq_ignore_ascii_case(&lower))
        {
            Some((_, uri)) => Vocab::of_uri(uri).unwrap_or(if prefix.is_empty() {
                Vocab::Core
            } else {
                Vocab::of_prefix(prefix)
            }),
            None if prefix.is_empty() => Vocab::Core,
            None => Vocab::of_prefix(prefix),
        }
    }

    fn close(&mut self, qname: &str, at: usize) {
        let depth = self
            .stack
            .iter()
            .rev()
            .take(END_TAG_SEARCH)
            .position(|&o| self.elems[o as usize].qname.eq_ignore_ascii_case(qname))
            .map(|pos| self.stack.len() - 1 - pos);
        if let Some(d) = depth {
            self.pop_to(d, at);
        }
    }

    /// Closes the open elements from the top of the stack down to index `depth`.
    fn pop_to(&mut self, depth: usize, at: usize) {
        while self.stack.len() > depth {
            let id = self.stack.pop().expect("non-empty");
            let e = &mut self.elems[id as usize];
            e.inner.end = at;
            self.ns.truncate(e.ns_mark);
        }
    }
}

fn find(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(hay.get(from..)?, needle).map(|p| from + p)
}

/// Skips `<!DOCTYPE ...>` (with an internal subset in brackets) or any other `<!...>`.
fn skip_declaration(b: &[u8], lt: usize) -> usize {
    let mut depth = 0usize;
    let mut j = lt + 2;
    while j < b.len() {
        match b[j] {
            b'[' => depth += 1,
            b']' => depth = depth.saturating_sub(1),
            b'>' if depth == 0 => return j + 1,
            _ => {}
        }
        j += 1;
    }
    b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(doc: &Doc) -> Vec<String> {
        doc.elems
            .iter()
            .map(|e| format!("{:?}:{}", e.vocab, e.local))
            .collect()
    }

    #[test]
    fn bare_ampersands_and_html_entities_are_text() {
        let doc =
            parse("<rss><link>http://x/?a=1&b=2</link><t>caf&eacute; &#X41; &#xZZ; AT&T</t></rss>");
        let root = doc.root().unwrap();
        let texts: Vec<String> = doc.children(root).map(|e| doc.text(e)).collect();
        assert_eq!(texts, ["http://x/?a=1&b=2", "café A &#xZZ; AT&T"]);
    }

    #[test]
    fn namespaces_resolve_by_uri_then_by_prefix() {
        let doc = parse(
            r#"<rss xmlns:d="http://purl.org/dc/elements/1.1/"><d:creator/><dc:date/><media:content/><x:y/></rss>"#,
        );
        assert_eq!(
            names(&doc),
            [
                "Core:rss",
                "Dc:creator",
                "Dc:date",
                "Media:content",
                "Other:y"
            ]
        );
        let doc = parse(r#"<feed xmlns="http://purl.org/atom/ns#"><entry/></feed>"#);
        assert_eq!(names(&doc), ["Atom:feed", "Atom:entry"]);
        let doc = parse(r#"<rss xmlns="http://backend.userland.com/rss2"><ITEM/></rss>"#);
        assert_eq!(names(&doc), ["Core:rss", "Core:item"]);
    }

    #[test]
    fn unclosed_and_truncated_elements() {
        let doc =
            parse("<rss><channel><item><title>one</item><item><title>two</title><item><title>thr");
        let items: Vec<&Element> = doc.find_all(doc.root().unwrap(), |e| &*e.local == "item");
        assert_eq!(items.len(), 3);
        assert!(items[0].closed && items[1].closed && !items[2].closed);
        assert_eq!(doc.deep_text(items[1]), "two");
        // A stray end tag is ignored.
        let doc = parse("<a><b>x</c>y</b></a>");
        assert_eq!(doc.deep_text(doc.root().unwrap()), "xy");
    }

    #[test]
    fn inner_markup_and_cdata() {
        let doc = parse("<d><p>Hi <b>there</b></p><![CDATA[<i>&amp;</i>]]></d>");
        let d = doc.root().unwrap();
        assert_eq!(
            doc.inner_markup(d),
            "<p>Hi <b>there</b></p><![CDATA[<i>&amp;</i>]]>"
        );
        assert_eq!(doc.text(d), "<i>&amp;</i>");
    }

    #[test]
    fn deep_nesting_is_linear_and_bounded() {
        let n = 100_000;
        let src = format!("<rss>{}{}</rss>", "<div>".repeat(n), "</div>".repeat(n));
        let doc = parse(&src);
        assert!(doc.elems.len() <= MAX_DEPTH + 1);
    }

    #[test]
    fn a_lone_less_than_is_text() {
        let doc = parse("<t>a < b <3</t>");
        assert_eq!(doc.text(doc.root().unwrap()), "a < b <3");
    }
}
