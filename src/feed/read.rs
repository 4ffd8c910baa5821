//! Reading entries out of an XML feed's element tree ([`super::xml`]), one entry at a time.
//!
//! Names are matched by vocabulary and lower-cased local name, so RSS 0.9x/1.0/2.0 in any
//! default namespace, Atom 1.0 and 0.3, and CDF read through the same code:
//!
//! | field | read from, first found |
//! |---|---|
//! | title | `title`, `dc:title`, `media:title` |
//! | link | Atom `link` (alternate), RSS `link`, CDF `href`, permalink `guid`, `rdf:about` |
//! | content | `content`, `content:encoded`, `xhtml:body`, `fullitem` |
//! | summary | `summary`, `description`, `dc:description`, `abstract`, `itunes:summary`, `media:description` |
//! | author | `author` (its `name`), `dc:creator`, `itunes:author` |
//! | dates | `pubDate`, `published`, `issued`, `dc:date`, `created`; `updated`, `modified` |
//!
//! Text constructs follow Atom's `type` (`text`, `html`, `xhtml`, a MIME type) and Atom 0.3's
//! `mode` (`escaped`, `xml`, `base64`); a binary MIME type means base64. An element holding
//! naked markup (`<description><p>..</p></description>`) is read as that markup. Links
//! resolve against every `xml:base` above them, then the feed's URL.

use super::xml::{Doc, Element, Vocab};
use super::{Entry, Feed, FeedError, Format, Text, date};
use base64::Engine;
use url::Url;

/// Reads a feed from its (decoded) XML text.
pub fn parse(src: &str, base: &str) -> Result<Feed, FeedError> {
    let doc = super::xml::parse(src);
    let first = doc
        .root()
        .ok_or_else(|| FeedError::NotAFeed(snippet(src)))?;
    let is_root = |e: &Element| matches!(&*e.local, "rss" | "rdf" | "feed" | "channel");
    let root = if is_root(first) {
        first
    } else {
        // A feed wrapped in something else (an HTML error page around it, a SOAP envelope).
        *doc.find_all(first, is_root)
            .first()
            .ok_or_else(|| FeedError::NotAFeed(snippet(src)))?
    };
    let format = match &*root.local {
        "rss" => Format::Rss,
        "rdf" => Format::Rdf,
        "channel" => Format::Cdf,
        _ if root.attr("version") == Some("0.3")
            || root
                .attr("xmlns")
                .is_some_and(|n| n.contains("purl.org/atom")) =>
        {
            Format::Atom03
        }
        _ => Format::Atom,
    };
    let base = Url::parse(base).ok();
    let reader = Reader {
        doc: &doc,
        base: base.as_ref(),
    };
    let channel = if format == Format::Rss {
        doc.child(root, |e| is_core(e, "channel")).unwrap_or(root)
    } else {
        root
    };
    let atom = matches!(format, Format::Atom | Format::Atom03);
    let is_entry = |e: &Element| {
        if atom {
            &*e.local == "entry" && matches!(e.vocab, Vocab::Atom | Vocab::Core)
        } else {
            &*e.local == "item" && matches!(e.vocab, Vocab::Core | Vocab::Rdf | Vocab::Other)
        }
    };
    let mut feed = Feed {
        format,
        title: doc
            .child(channel, |e| is_core(e, "title"))
            .and_then(|t| reader.text(t, !atom))
            .map(|t| t.to_plain())
            .filter(|t| !t.is_empty()),
        language: doc
            .child(channel, |e| {
                is_core(e, "language") || e.is(Vocab::Dc, "language")
            })
            .map(|l| doc.text(l).trim().to_string())
            .or_else(|| root.attr("xml:lang").map(str::to_string))
            .filter(|l| !l.is_empty()),
        entries: Vec::new(),
        skipped: Vec::new(),
        repairs: Vec::new(),
    };
    if !root.closed {
        feed.repairs.push("document cut off before its end");
    }
    for (n, el) in doc.find_all(root, is_entry).into_iter().enumerate() {
        if !el.closed {
            feed.skipped.push(format!(
                "entry {} cut off by the end of the document",
                n + 1
            ));
            continue;
        }
        let entry = reader.entry(el, atom);
        if entry.is_empty() {
            feed.skipped.push(format!(
                "entry {} has no title, text, link, author or id",
                n + 1
            ));
            continue;
        }
        feed.entries.push(entry);
    }
    Ok(feed)
}

/// The feed's own element (no namespace, an RSS namespace, or Atom).
fn is_core(e: &Element, local: &str) -> bool {
    &*e.local == local && matches!(e.vocab, Vocab::Core | Vocab::Atom)
}

fn snippet(src: &str) -> String {
    let s: String = src.trim_start().chars().take(40).collect();
    format!("{s:?}")
}

struct Reader<'d, 'a> {
    doc: &'d Doc<'a>,
    base: Option<&'d Url>,
}

impl Reader<'_, '_> {
    fn entry(&self, el: &Element, atom: bool) -> Entry {
        let doc = self.doc;
        let first = |pred: &dyn Fn(&Element) -> bool| doc.child(el, pred);
        let nonempty = |s: String| {
            let t = s.trim().to_string();
            (!t.is_empty()).then_some(t)
        };
        let title = [
            first(&|e| is_core(e, "title")),
            first(&|e| e.is(Vocab::Dc, "title")),
            self.media(el, "title"),
        ]
        .into_iter()
        .flatten()
        // Atom's own titles default to text; RSS's and the extensions' hold HTML.
        .find_map(|t| self.text(t, !atom || !is_core(t, "title")));
        let content = [
            first(&|e| is_core(e, "content")).and_then(|c| self.text(c, !atom)),
            first(&|e| e.is(Vocab::Content, "encoded")).and_then(|c| self.html(c)),
            first(&|e| e.is(Vocab::Xhtml, "body") || is_core(e, "body")).map(|c| self.markup(c)),
            first(&|e| is_core(e, "fullitem")).and_then(|c| self.html(c)),
        ]
        .into_iter()
        .flatten()
        .next();
        // RSS's main text is `description`; Atom's is `summary`.
        let (main, other) = if atom {
            ("summary", "description")
        } else {
            ("description", "summary")
        };
        let summary = [
            first(&|e| is_core(e, main)).and_then(|s| self.text(s, !atom)),
            first(&|e| is_core(e, other)).and_then(|s| self.text(s, true)),
            first(&|e| e.is(Vocab::Dc, "description")).and_then(|s| self.html(s)),
            first(&|e| is_core(e, "abstract")).and_then(|s| self.html(s)),
            first(&|e| e.is(Vocab::Itunes, "summary")).and_then(|s| self.html(s)),
            self.media(el, "description")
                .and_then(|s| self.text(s, false)),
        ]
        .into_iter()
        .flatten()
        .next();
        let guid = first(&|e| is_core(e, "guid"));
        let link = self
            .atom_link(el)
            .or_else(|| {
                let l = first(&|e| is_core(e, "link") && e.attr("href").is_none())?;
                let href = nonempty(doc.text(l))?;
                Some(self.resolve(l, &href))
            })
            .or_else(|| {
                el.attr("href")
                    .filter(|h| !h.trim().is_empty())
                    .map(|h| self.resolve(el, h.trim()))
            })
            .or_else(|| {
                let g = guid?;
                let permalink = g
                    .attr("ispermalink")
                    .is_none_or(|v| !v.trim().eq_ignore_ascii_case("false"));
                let text = doc.text(g).trim().to_string();
                (permalink && is_web_url(&text)).then(|| self.resolve(g, &text))
            })
            .or_else(|| {
                el.attr("about")
                    .filter(|a| is_web_url(a))
                    .map(|a| a.trim().to_string())
            });
        // `rdf:about` is a link, not an id: ids derived from link and title stay what they
        // were for RSS 1.0 feeds hark has stored before.
        let id = first(&|e| is_core(e, "id"))
            .or(guid)
            .and_then(|i| nonempty(doc.text(i)));
        let date_of = |names: &[(Vocab, &str)]| {
            names.iter().find_map(|(v, n)| {
                let e = first(&|e| {
                    &*e.local == *n
                        && (e.vocab == *v || (*v == Vocab::Core && e.vocab == Vocab::Atom))
                })?;
                date::parse(&doc.text(e))
            })
        };
        let published = date_of(&[
            (Vocab::Core, "pubdate"),
            (Vocab::Core, "published"),
            (Vocab::Core, "issued"),
            (Vocab::Dc, "date"),
            (Vocab::Core, "created"),
            (Vocab::Dc, "created"),
            (Vocab::Dc, "issued"),
        ]);
        let updated = date_of(&[
            (Vocab::Core, "updated"),
            (Vocab::Core, "modified"),
            (Vocab::Dc, "modified"),
        ])
        .or_else(|| el.attr("lastmod").and_then(date::parse));
        let (views, likes) = self.media_stats(el);
        Entry {
            id,
            title,
            link,
            content,
            summary,
            author: self.author(el),
            published,
            updated,
            views,
            likes,
            ..Entry::default()
        }
    }

    /// A text construct (see the module docs); None when it is empty. `html_default` is the
    /// reading of an element without `type`: HTML in RSS, text in Atom.
    fn text(&self, el: &Element, html_default: bool) -> Option<Text> {
        let ty = el.attr("type").unwrap_or("").trim().to_ascii_lowercase();
        let mode = el.attr("mode").unwrap_or("").trim().to_ascii_lowercase();
        if ty == "xhtml" || ty.ends_with("xhtml+xml") || el.has_element_children() {
            return Some(self.markup(el)).filter(|t| !t.value.trim().is_empty());
        }
        let raw = self.doc.text(el);
        let textual = ty.is_empty()
            || ty.starts_with("text")
            || ty.contains("html")
            || ty.ends_with("xml")
            || ty == "escaped";
        if mode == "base64" || !textual {
            let compact: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
            if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(compact.as_bytes())
            {
                let value = String::from_utf8_lossy(&bytes).into_owned();
                return Some(Text { value, html: true }).filter(|t| !t.value.trim().is_empty());
            }
        }
        if raw.trim().is_empty() {
            return None;
        }
        let html = match ty.as_str() {
            "" => html_default || mode == "escaped",
            "text" | "text/plain" => false,
            _ => true,
        };
        Some(Text { value: raw, html })
    }

    /// An element that always holds HTML (`description`, `content:encoded`).
    fn html(&self, el: &Element) -> Option<Text> {
        if el.has_element_children() {
            return Some(self.markup(el)).filter(|t| !t.value.trim().is_empty());
        }
        let raw = self.doc.text(el);
        (!raw.trim().is_empty()).then_some(Text {
            value: raw,
            html: true,
        })
    }

    /// The markup inside an element, as HTML (CDATA markers dropped).
    fn markup(&self, el: &Element) -> Text {
        let inner = self.doc.inner_markup(el);
        let value = if inner.contains("<![CDATA[") {
            inner.replace("<![CDATA[", "").replace("]]>", "")
        } else {
            inner.to_string()
        };
        Text { value, html: true }
    }

    /// `media:<local>` directly in the entry or in its `media:group`.
    fn media<'e>(&'e self, el: &'e Element, local: &str) -> Option<&'e Element> {
        let doc = self.doc;
        doc.child(el, |e| e.is(Vocab::Media, local)).or_else(|| {
            doc.children(el)
                .filter(|g| g.vocab == Vocab::Media && matches!(&*g.local, "group" | "content"))
                .find_map(|g| doc.child(g, |e| e.is(Vocab::Media, local)))
        })
    }

    fn media_stats(&self, el: &Element) -> (Option<u64>, Option<u64>) {
        let doc = self.doc;
        let (mut views, mut likes) = (None, None);
        for c in doc.find_all(el, |e| e.is(Vocab::Media, "community")) {
            for s in doc.children(c) {
                let num = |a: &str| s.attr(a).and_then(|v| v.trim().parse::<u64>().ok());
                if s.is(Vocab::Media, "statistics") {
                    views = views.or(num("views"));
                    likes = likes.or(num("favorites"));
                } else if s.is(Vocab::Media, "starrating") {
                    likes = likes.or(num("count"));
                }
            }
        }
        (views, likes)
    }

    /// The alternate (or untyped) Atom link's `href`, resolved.
    fn atom_link(&self, el: &Element) -> Option<String> {
        self.doc
            .children(el)
            .filter(|e| is_core(e, "link"))
            .filter(|e| {
                e.attr("rel")
                    .is_none_or(|r| r.trim().eq_ignore_ascii_case("alternate"))
            })
            .find_map(|e| {
                let href = e.attr("href")?.trim();
                (!href.is_empty()).then(|| self.resolve(e, href))
            })
    }

    fn author(&self, el: &Element) -> Option<String> {
        let doc = self.doc;
        let name = doc
            .children(el)
            .filter(|e| {
                is_core(e, "author")
                    || e.is(Vocab::Dc, "creator")
                    || e.is(Vocab::Dc, "author")
                    || e.is(Vocab::Itunes, "author")
            })
            .find_map(|a| {
                let raw = if a.has_element_children() {
                    doc.child(a, |n| is_core(n, "name"))
                        .map(|n| doc.text(n))
                        .or_else(|| doc.child(a, |n| is_core(n, "email")).map(|n| doc.text(n)))?
                } else {
                    doc.text(a)
                };
                let name = person_name(&raw);
                (!name.is_empty()).then_some(name)
            })?;
        Some(crate::html::to_text(&name)).filter(|n| !n.is_empty())
    }

    /// `href` resolved against the `xml:base`s above `el` and the feed's URL; kept as
    /// written when it cannot be resolved.
    fn resolve(&self, el: &Element, href: &str) -> String {
        let Some(mut url) = self.base.cloned() else {
            return href.to_string();
        };
        for b in self.doc.bases(el) {
            if let Ok(u) = url.join(b.trim()) {
                url = u;
            }
        }
        url.join(href)
            .map(String::from)
            .unwrap_or_else(|_| href.to_string())
    }
}

fn is_web_url(s: &str) -> bool {
    let s = s.trim().as_bytes();
    s.len() > 8
        && (s[..7].eq_ignore_ascii_case(b"http://") || s[..8].eq_ignore_ascii_case(b"https://"))
}

/// A person's name from RSS's `email (Name)`, `Name (email)` and `Name <email>` forms; a
/// bare address is kept.
fn person_name(raw: &str) -> String {
    let s = raw.trim();
    if let Some(open) = s.find('(')
        && s.ends_with(')')
    {
        let (before, inside) = (s[..open].trim(), s[open + 1..s.len() - 1].trim());
        // `email (Name)` or `Name (email)`.
        let name = if before.contains('@') {
            inside
        } else if inside.contains('@') {
            before
        } else {
            ""
        };
        if !name.is_empty() {
            return name.to_string();
        }
    }
    if let Some(lt) = s.find('<')
        && s.ends_with('>')
        && s[lt..].contains('@')
    {
        let name = s[..lt].trim().trim_matches('"').trim();
        if !name.is_empty() {
            return name.to_string();
        }
    }
    s.to_string()
}
