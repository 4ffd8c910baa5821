//! One test per way a real feed used to be lost or misread (issue: lenient feeds).

use super::*;

fn feed(doc: &str) -> Feed {
    parse(doc.as_bytes(), "http://example.com/feeds/rss.xml", None).unwrap()
}

fn plain(t: &Option<Text>) -> String {
    t.as_ref().map(Text::to_plain).unwrap_or_default()
}

#[test]
fn atom_0_3_is_read() {
    let f = feed(
        r#"<feed version="0.3" xmlns="http://purl.org/atom/ns#"><title>T</title>
        <entry><title>Hello</title><link rel="alternate" type="text/html" href="/a/1"/>
        <id>tag:x,2004:1</id><issued>2004-01-02T03:04:05Z</issued><modified>2004-01-03T00:00:00Z</modified>
        <author><name>Ann</name><email>ann@example.com</email></author>
        <content type="text/html" mode="escaped">&lt;p&gt;Body &amp;amp; more&lt;/p&gt;</content></entry></feed>"#,
    );
    assert_eq!(f.format, Format::Atom03);
    let e = &f.entries[0];
    assert_eq!(plain(&e.title), "Hello");
    assert_eq!(e.link.as_deref(), Some("http://example.com/a/1"));
    assert_eq!(e.id.as_deref(), Some("tag:x,2004:1"));
    assert_eq!(e.author.as_deref(), Some("Ann"));
    assert_eq!(plain(&e.content), "Body & more");
    assert_eq!(
        e.published.unwrap().to_rfc3339(),
        "2004-01-02T03:04:05+00:00"
    );
}

#[test]
fn bare_ampersand_and_uppercase_hex_reference_keep_the_feed() {
    // `&#146;` is read as the HTML standard reads it (’), not as a C1 control.
    let f =
        feed("<rss><channel><item><description>don&#146;t</description></item></channel></rss>");
    assert_eq!(plain(&f.entries[0].summary), "don’t");
    let f = feed(
        r#"<rss version="2.0"><channel><item><title>Fish &#X41;nd chips &eacute;</title>
        <link>http://example.com/?a=1&b=2</link></item><item><title>second</title></item></channel></rss>"#,
    );
    assert_eq!(f.entries.len(), 2);
    assert_eq!(plain(&f.entries[0].title), "Fish And chips é");
    assert_eq!(
        f.entries[0].link.as_deref(),
        Some("http://example.com/?a=1&b=2")
    );
}

#[test]
fn one_odd_entry_does_not_reject_the_others() {
    let f = feed(
        r#"<feed xmlns="http://www.w3.org/2005/Atom">
        <entry><title type="">Empty type</title><id>1</id></entry>
        <entry><title>Binary</title><id>2</id><content type="application/octet-stream">RXhhbXBsZSA8Yj5BdG9tPC9iPg==</content></entry>
        <entry><title>XHTML</title><id>3</id><content type="application/xhtml+xml"><div xmlns="http://www.w3.org/1999/xhtml">Rich <b>text</b></div></content></entry>
        <entry><title>Plain</title><id>4</id><summary>Just &lt;b&gt; text</summary></entry>
        </feed>"#,
    );
    assert_eq!(f.entries.len(), 4);
    assert_eq!(plain(&f.entries[0].title), "Empty type");
    assert_eq!(plain(&f.entries[1].content), "Example Atom");
    assert_eq!(plain(&f.entries[2].content), "Rich text");
    // Atom's default type is text: the escaped tag is literal text.
    assert_eq!(plain(&f.entries[3].summary), "Just <b> text");
}

#[test]
fn rss_variants() {
    // No version attribute.
    assert_eq!(
        feed("<rss><channel><item><title>a</title></item></channel></rss>")
            .entries
            .len(),
        1
    );
    // Userland's default namespace.
    let f = feed(
        r#"<rss version="2.0" xmlns="http://backend.userland.com/rss2"><channel><item><title>u</title></item></channel></rss>"#,
    );
    assert_eq!(plain(&f.entries[0].title), "u");
    // RSS 1.0 item without <link>: kept, its rdf:about is the link.
    let f = feed(
        r#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
        <item rdf:about="http://example.com/1"><dc:title>Only dc</dc:title><dc:description>dc text</dc:description><dc:creator>Bob</dc:creator><dc:date>2004-05-06</dc:date></item></rdf:RDF>"#,
    );
    assert_eq!(f.format, Format::Rdf);
    let e = &f.entries[0];
    assert_eq!(
        (plain(&e.title), plain(&e.summary)),
        ("Only dc".into(), "dc text".into())
    );
    assert_eq!(e.link.as_deref(), Some("http://example.com/1"));
    assert_eq!(e.author.as_deref(), Some("Bob"));
    assert!(e.published.is_some());
}

#[test]
fn permalink_guid_is_the_link_and_a_non_url_guid_is_not() {
    let f = feed(
        r#"<rss version="2.0"><channel>
        <item><guid>http://example.com/p/1</guid><description>a</description></item>
        <item><guid isPermaLink="false">http://example.com/p/2</guid><description>b</description></item>
        <item><guid>12345</guid><description>c</description></item></channel></rss>"#,
    );
    let links: Vec<Option<&str>> = f.entries.iter().map(|e| e.link.as_deref()).collect();
    assert_eq!(links, [Some("http://example.com/p/1"), None, None]);
}

#[test]
fn naked_markup_and_xhtml_bodies() {
    let f = feed(
        r#"<rss version="2.0" xmlns:xhtml="http://www.w3.org/1999/xhtml"><channel>
        <item><title>a</title><description><p>Naked <b>markup</b></p></description></item>
        <item><title>b</title><xhtml:body><p>Body text</p></xhtml:body></item>
        <item><title>c</title><fullitem>&lt;p&gt;Full item&lt;/p&gt;</fullitem></item></channel></rss>"#,
    );
    assert_eq!(plain(&f.entries[0].summary), "Naked markup");
    assert_eq!(plain(&f.entries[1].content), "Body text");
    assert_eq!(plain(&f.entries[2].content), "Full item");
}

#[test]
fn windows_1252_punctuation_in_declared_latin1() {
    let mut doc = b"<?xml version=\"1.0\" encoding=\"iso-8859-1\"?><rss version=\"2.0\"><channel><item><title>It".to_vec();
    doc.push(0x92);
    doc.extend_from_slice(b"s here</title></item></channel></rss>");
    let f = parse(&doc, "http://x/", None).unwrap();
    assert_eq!(plain(&f.entries[0].title), "It’s here");
}

#[test]
fn truncated_document_keeps_complete_entries_and_counts_the_cut_one() {
    let f = feed(
        r#"<rss version="2.0"><channel><item><title>one</title><guid>1</guid></item><item><title>tw"#,
    );
    assert_eq!(f.entries.len(), 1);
    assert_eq!(f.entries[0].id.as_deref(), Some("1"));
    assert_eq!(f.skipped.len(), 1, "{:?}", f.skipped);
    // An entry with nothing in it is skipped and counted too; one with only an author is
    // kept (feedparser keeps it; nothing is lost that could be kept).
    let f = feed(
        "<rss><channel><item><pubDate>x</pubDate></item><item><title>x</title></item><item><author>me@example.com (Example editor)</author></item></channel></rss>",
    );
    assert_eq!((f.entries.len(), f.skipped.len()), (2, 1));
    assert_eq!(f.entries[1].author.as_deref(), Some("Example editor"));
}

#[test]
fn xml_base_resolves_links() {
    let f = feed(
        r#"<feed xmlns="http://www.w3.org/2005/Atom" xml:base="http://base.example.org/root/">
        <entry xml:base="sub/"><title>x</title><link href="page.html"/></entry></feed>"#,
    );
    assert_eq!(
        f.entries[0].link.as_deref(),
        Some("http://base.example.org/root/sub/page.html")
    );
}

#[test]
fn rss_author_forms() {
    let f = feed(
        r#"<rss version="2.0"><channel><item><title>a</title><author>ann@example.com (Ann Example)</author></item>
        <item><title>b</title><author>Bob B &lt;bob@example.com&gt;</author></item>
        <item><title>c</title><dc:creator>Cy C (cy@example.com)</dc:creator></item></channel></rss>"#,
    );
    assert_eq!(f.entries[2].author.as_deref(), Some("Cy C"));
    assert_eq!(f.entries[0].author.as_deref(), Some("Ann Example"));
    assert_eq!(f.entries[1].author.as_deref(), Some("Bob B"));
}

#[test]
fn media_rss_counters() {
    let f = feed(
        r#"<feed xmlns="http://www.w3.org/2005/Atom" xmlns:media="http://search.yahoo.com/mrss/"><entry><title>v</title>
        <media:group><media:description>About it</media:description><media:community><media:starRating count="12"/><media:statistics views="3400"/></media:community></media:group></entry></feed>"#,
    );
    let e = &f.entries[0];
    assert_eq!((e.views, e.likes), (Some(3400), Some(12)));
    assert_eq!(plain(&e.summary), "About it");
}

#[test]
fn json_feed() {
    let f = feed(
        r#"{"version":"https://jsonfeed.org/version/1.1","title":"J","items":[
        {"id":"1","url":"/p/1","title":"One","content_html":"<p>Hi</p>","authors":[{"name":"Cy"}],"date_published":"2024-01-02T03:04:05Z","_engagement":{"likes":5,"followers":900,"shares":"x"}},
        42, {"tags": ["x"]}]}"#,
    );
    assert_eq!(f.entries.len(), 1);
    assert_eq!(f.skipped.len(), 2);
    let e = &f.entries[0];
    assert_eq!(e.link.as_deref(), Some("http://example.com/p/1"));
    assert_eq!(
        (plain(&e.content), e.author.as_deref()),
        ("Hi".into(), Some("Cy"))
    );
    assert_eq!((e.likes, e.followers, e.shares), (Some(5), Some(900), None));
}

#[test]
fn not_a_feed_is_an_error_naming_what_it_is() {
    let e = parse(b"<html><body>Not found</body></html>", "http://x/", None).unwrap_err();
    assert!(e.to_string().contains("<html>"), "{e}");
    assert!(matches!(
        parse(b"  ", "http://x/", None),
        Err(FeedError::Empty)
    ));
}

mod properties {
    use super::super::*;
    use proptest::prelude::*;

    fn escape(s: &str) -> String {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    }

    proptest! {
        /// Any bytes: an answer (entries or an error), never a panic.
        #[test]
        fn any_bytes_are_read_or_refused(doc in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = parse(&doc, "http://x/", None);
        }

        /// Any markup-ish text (tags, entities, CDATA, quotes in random order).
        #[test]
        fn any_tag_soup_is_read(parts in proptest::collection::vec(
            prop_oneof![
                Just("<rss>"), Just("<item>"), Just("</item>"), Just("<title>"), Just("</title>"),
                Just("<![CDATA["), Just("]]>"), Just("&"), Just("&amp;"), Just("&#x"), Just("<!--"),
                Just("-->"), Just("<a href=\""), Just("\"/>"), Just("<feed xmlns=\"http://purl.org/atom/ns#\">"),
                Just("<entry>"), Just("<content type=\"xhtml\">"), Just("</content>"), Just("x y"), Just("é"),
            ], 0..60)) {
            let doc = parts.concat();
            if let Ok(f) = parse(doc.as_bytes(), "http://x/", None) {
                for e in &f.entries {
                    for t in [&e.title, &e.content, &e.summary].into_iter().flatten() {
                        let _ = t.to_plain();
                    }
                }
            }
        }

        /// A plain-text Atom title comes back as written, whatever characters it holds.
        #[test]
        fn text_titles_round_trip(title in "[^\\p{Cc}]{1,60}", n in 1usize..4) {
            let entries: String = (0..n)
                .map(|i| format!("<entry><id>{i}</id><title type=\"text\">{}</title></entry>", escape(&title)))
                .collect();
            let doc = format!("<feed xmlns=\"http://www.w3.org/2005/Atom\">{entries}</feed>");
            let f = parse(doc.as_bytes(), "http://x/", None).unwrap();
            prop_assert_eq!(f.entries.len(), n);
            let want = crate::html::normalise_ws(&title);
            for e in &f.entries {
                prop_assert_eq!(e.title.as_ref().map(Text::to_plain).unwrap_or_default(), want.clone());
            }
        }
    }
}
