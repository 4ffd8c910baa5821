//! Forum thread pages turned into one record per post, by per-site rules: CSS selectors for
//! the post element and, inside it, the text, author, time and permalink; for the page, the
//! next-page link and the title. Presets cover the stock markup of phpBB 3 (prosilver),
//! vBulletin 3/4/5, XenForo 2 and Discourse's server-rendered crawler view; a source's config
//! can give its own [`RuleSpec`].
//!
//! **Selectors.** `post` is one selector list: every element it matches, in document order,
//! is a post. The other fields are comma-separated *alternatives tried in order*: the first
//! alternative that matches anything wins, and its first match is used (so
//! `p.author time, p.author` prefers the `<time>` and falls back to the paragraph). Per-post
//! fields are looked up inside the post element, and the post element itself counts: a
//! `[data-author]` rule can read the post's own attribute.
//!
//! **Text.** The text of the `text` element with the words of *others* removed: quoted posts
//! (`blockquote`, `.quote`, `.bbCodeBlock--quote`, vBulletin's `.bbcode_quote` and 3.x
//! "Quote:" boxes, Something Awful's `.bbc-block` quotes, Discourse's `aside.quote` and
//! link previews `.onebox`) and signatures (`.signature`, `.message-signature`, …) are
//! dropped, so a quote is not attributed to the quoter and a mention in someone's signature
//! does not count once per post. Also dropped: scripts, styles, edit notices (`.editedby`).
//! Blocks become line breaks, runs of spaces one space; entities are decoded by the parser.
//! A plain `blockquote` used for emphasis by the author is lost with the quotes.
//!
//! **Time.** From the time element's `datetime`, `data-time` (Unix seconds, XenForo),
//! `content` (`<meta itemprop=datePublished>`), `title`, or its text, the first that parses:
//! RFC 3339 / ISO 8601 (also `+0000` offsets), RFC 2822, and dates found anywhere in the text
//! in common forum forms: `Sun Jan 01, 2023 10:00 am`, `01-15-2023, 10:30 AM`,
//! `Jan 15th, 2023, 10:30 am`, `15 Jan 2023 10:30`, `March 12, 2020, 3:11am`,
//! `2023/01/15 10:30`, `15.01.2023 10:30`. Numeric dates with `-` or `/` are month first
//! unless the first number exceeds 12; with `.` they are day first. **Times without a zone
//! are taken as UTC** (forums render times in the viewer's zone, which for a logged-out
//! crawler is the board default — often not UTC; prefer attributes that carry a zone).
//! Relative dates ("Today, 10:30 AM", "2 hours ago") are not parsed.
//!
//! **Ids and links.** `native_id` is the digits of the post element's `id` (`p123`,
//! `post_123`, `post-123`, `js-post-123`, `post123`), else of `data-post-id`, `data-node-id`
//! or `data-content`. Discourse's crawler view only numbers posts (`post_3` is post number 3
//! of the topic). `permalink` is the permalink element's `href` resolved against the page URL,
//! else the page URL with the post element's id as fragment. Links are kept only when they
//! resolve to http(s); a next page equal to the page itself is dropped (no loops).
//!
//! **Cost.** One pass over each post's subtree per field, plus one document-wide pass for the
//! post list; no serialisation and re-parsing.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use regex::Regex;
use scraper::{ElementRef, Html, Node, Selector};
use std::sync::LazyLock;
use url::Url;

/// Selectors as written in a source's config (CSS, as the `scraper` crate understands them).
#[derive(Debug, Clone, Default, serde::Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Each match is one post.
    pub post: String,
    /// Inside a post: the body.
    pub text: String,
    /// Inside a post: the author's name (`data-author` or `content` attribute, else text).
    pub author: Option<String>,
    /// Inside a post: the time it was posted.
    pub time: Option<String>,
    /// Inside a post: a link to the post.
    pub permalink: Option<String>,
    /// On the page: the link to the next page of the thread.
    pub next_page: Option<String>,
    /// On the page: the thread's title (default: the document's `<title>`).
    pub title: Option<String>,
}

/// Compiled [`RuleSpec`].
#[derive(Debug, Clone)]
pub struct Rules {
    post: Selector,
    text: Alternatives,
    author: Option<Alternatives>,
    time: Option<Alternatives>,
    permalink: Option<Alternatives>,
    next_page: Option<Alternatives>,
    title: Option<Alternatives>,
}

/// Selectors tried in order; the first that matches wins.
#[derive(Debug, Clone)]
struct Alternatives(Vec<Selector>);

/// A forum rule that does not compile: the error names the field and the selector.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("rule `{field}`: empty selector")]
    Empty { field: String },
    #[error("rule `{field}`: empty alternative in `{list}`")]
    EmptyAlternative { field: String, list: String },
    #[error("rule `{field}`: invalid selector `{selector}`{context}: {message}")]
    Invalid {
        field: String,
        selector: String,
        /// " in `LIST`" when the selector is one alternative of a list.
        context: String,
        message: String,
    },
}

impl Rules {
    /// Compiles the selectors; the error names the field and the selector.
    pub fn compile(spec: &RuleSpec) -> Result<Rules, RuleError> {
        let optional = |field: &str, src: &Option<String>| {
            src.as_deref()
                .map(|s| compile_alternatives(field, s))
                .transpose()
        };
        // Each alternative of `post` is checked for a precise error message, then the list is
        // compiled as one selector (a union, in document order).
        compile_alternatives("post", &spec.post)?;
        let post = Selector::parse(&spec.post).map_err(|e| RuleError::Invalid {
            field: "post".into(),
            selector: spec.post.clone(),
            context: String::new(),
            message: e.to_string(),
        })?;
        Ok(Rules {
            post,
            text: compile_alternatives("text", &spec.text)?,
            author: optional("author", &spec.author)?,
            time: optional("time", &spec.time)?,
            permalink: optional("permalink", &spec.permalink)?,
            next_page: optional("next_page", &spec.next_page)?,
            title: optional("title", &spec.title)?,
        })
    }
}

fn compile_alternatives(field: &str, src: &str) -> Result<Alternatives, RuleError> {
    let parts = split_selector_list(src);
    if parts.iter().all(|p| p.trim().is_empty()) {
        return Err(RuleError::Empty {
            field: field.into(),
        });
    }
    parts
        .iter()
        .map(|part| {
            let part = part.trim();
            if part.is_empty() {
                return Err(RuleError::EmptyAlternative {
                    field: field.into(),
                    list: src.into(),
                });
            }
            Selector::parse(part).map_err(|e| RuleError::Invalid {
                field: field.into(),
                selector: part.into(),
                context: format!(" in `{src}`"),
                message: e.to_string(),
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Alternatives)
}

/// Splits a selector list at its top-level commas (not inside quotes, brackets or parentheses).
fn split_selector_list(src: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut quote, mut start) = (0i32, None::<char>, 0);
    let mut chars = src.char_indices();
    while let Some((i, c)) = chars.next() {
        match (quote, c) {
            (Some(_), '\\') => {
                chars.next();
            }
            (Some(q), _) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '(' | '[') => depth += 1,
            (None, ')' | ']') => depth -= 1,
            (None, ',') if depth <= 0 => {
                parts.push(&src[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&src[start..]);
    parts
}

/// Names of the presets, for configs and error messages.
pub const PRESETS: &[&str] = &["phpbb", "vbulletin", "xenforo", "discourse"];

fn spec(
    post: &str,
    text: &str,
    author: &str,
    time: &str,
    permalink: Option<&str>,
    next_page: &str,
    title: &str,
) -> RuleSpec {
    RuleSpec {
        post: post.into(),
        text: text.into(),
        author: Some(author.into()),
        time: Some(time.into()),
        permalink: permalink.map(Into::into),
        next_page: Some(next_page.into()),
        title: Some(title.into()),
    }
}

/// The rules for a forum software's stock templates, by name (see [`PRESETS`]).
pub fn preset(name: &str) -> Option<RuleSpec> {
    Some(match name {
        // prosilver, phpBB 3.0–3.3 (viewtopic_body.html): div.post#p123 > div.postbody >
        // p.author (3.2+: <time datetime>) and div.content; dl.postprofile holds the author.
        "phpbb" => spec(
            r#"div.post[id^="p"]"#,
            "div.postbody div.content, div.content",
            "dl.postprofile dt .username, dl.postprofile dt .username-coloured, \
             p.author .username, p.author .username-coloured, p.author strong",
            "p.author time, p.author",
            Some(r##"p.author a[href*="#p"], .postbody h3 a[href*="#p"]"##),
            r#".pagination a[rel~="next"], .pagination li.next a, a[rel~="next"], a.right-box"#,
            "h2.topic-title, h2 a[href*=\"viewtopic\"]",
        ),
        // vBulletin 4 (postbit_legacy): li.postcontainer#post_123 > … div#post_message_123 >
        // blockquote.postcontent; vBulletin 3: table.tborder#post123 with
        // div#post_message_123 and the date in the first td.thead; vBulletin 5:
        // li.b-post[data-node-id] with [itemprop=text].
        "vbulletin" => spec(
            r#"li.postcontainer[id^="post_"], table[id^="post"].tborder, li.b-post[data-node-id]"#,
            r#"blockquote.postcontent, div[id^="post_message_"], .b-post__content [itemprop="text"], .js-post__content-text"#,
            r#".username_container .username, a.bigusername, [itemprop="author"] .author, .b-post__author"#,
            r#".postdate .date, .postdate, td.thead, .b-post__timestamp time, time[datetime]"#,
            Some(r#"a.postcounter, a[id^="postcount"], a.b-post__count"#),
            r#"a[rel~="next"], a[title^="Next Page"]"#,
            ".threadtitle, td.navbar strong, h1.main-title",
        ),
        // XenForo 2 (post_macros): article.message--post[data-author]#js-post-123 with
        // header.message-attribution (time.u-dt) and .message-body .bbWrapper.
        "xenforo" => spec(
            "article.message--post",
            ".message-body .bbWrapper",
            "[data-author], .message-name .username",
            ".message-attribution-main time.u-dt, time.u-dt",
            Some(
                r#".message-attribution-main a[href], .message-attribution-opposite a[href*="post-"]"#,
            ),
            "a.pageNav-jump--next",
            "h1.p-title-value",
        ),
        // Discourse's crawler view (topics/show.html.erb for crawlers):
        // div.topic-body.crawler-post#post_N with span.creator [itemprop=name],
        // time[datetime] / meta[itemprop=datePublished] and div.post[itemprop=text]; the
        // next page is a[rel=next] in a navigation div that also has class crawler-post.
        "discourse" => spec(
            r#"div.crawler-post[id^="post_"]"#,
            r#"div.post[itemprop="text"], div.post[itemprop="articleBody"], [itemprop="text"], [itemprop="articleBody"]"#,
            r#"span.creator [itemprop="name"], span.creator a, [itemprop="author"] [itemprop="name"]"#,
            r#"time[datetime], meta[itemprop="datePublished"], .crawler-post-infos"#,
            None,
            r#"a[rel~="next"]"#,
            "#topic-title h1, h1",
        ),
        _ => return None,
    })
}

/// Which preset's markup the page has: from `<meta name=generator>`, then characteristic
/// ids on `<html>`/`<body>`, then characteristic post markup. One pass over the elements.
pub fn detect_preset(doc: &Html) -> Option<&'static str> {
    let mut by_markup: Option<&'static str> = None;
    let mut by_root: Option<&'static str> = None;
    for node in doc.tree.values() {
        let Node::Element(e) = node else { continue };
        match e.name() {
            "meta"
                if e.attr("name")
                    .is_some_and(|n| n.eq_ignore_ascii_case("generator")) =>
            {
                if let Some(found) = e.attr("content").and_then(preset_in_generator) {
                    return Some(found);
                }
            }
            "html" if e.id() == Some("XF") => by_root = by_root.or(Some("xenforo")),
            "body" => match e.id() {
                Some("phpbb") => by_root = by_root.or(Some("phpbb")),
                Some("vb-page-body") => by_root = by_root.or(Some("vbulletin")),
                _ => {}
            },
            name => {
                if by_markup.is_none() {
                    by_markup = preset_by_markup(name, e);
                }
            }
        }
    }
    by_root.or(by_markup)
}

fn preset_in_generator(content: &str) -> Option<&'static str> {
    let c = content.to_ascii_lowercase();
    [
        ("discourse", "discourse"),
        ("vbulletin", "vbulletin"),
        ("xenforo", "xenforo"),
        ("phpbb", "phpbb"),
    ]
    .into_iter()
    .find(|(needle, _)| c.contains(needle))
    .map(|(_, name)| name)
}

fn preset_by_markup(name: &str, e: &scraper::node::Element) -> Option<&'static str> {
    let has_class = |c: &str| e.classes().any(|x| x == c);
    match name {
        "div" if has_class("crawler-post") => Some("discourse"),
        "article" if has_class("message--post") => Some("xenforo"),
        "li" if has_class("postcontainer") => Some("vbulletin"),
        "dl" if has_class("postprofile") => Some("phpbb"),
        "div" if e.id().is_some_and(|id| id.starts_with("post_message_")) => Some("vbulletin"),
        _ => None,
    }
}

/// One post of a thread page.
#[derive(Debug, Clone, PartialEq)]
pub struct ForumPost {
    /// The forum's id of the post (digits), when the markup carries one.
    pub native_id: Option<String>,
    pub author: Option<String>,
    pub published: Option<DateTime<Utc>>,
    /// The post's own words (quotes and signature removed).
    pub text: String,
    /// Absolute link to the post.
    pub permalink: Option<String>,
}

/// What one page of a thread holds.
#[derive(Debug, Clone, PartialEq)]
pub struct ThreadPage {
    pub title: Option<String>,
    pub posts: Vec<ForumPost>,
    pub next_page: Option<Url>,
}

/// Extracts the posts, title and next page of a thread page. Posts whose text is empty
/// (after removing quotes and signatures) are kept: a post that only quotes is still a post.
pub fn extract_thread(doc: &Html, page_url: &Url, rules: &Rules) -> ThreadPage {
    let posts = doc
        .select(&rules.post)
        .filter(|post| !has_post_ancestor(*post, &rules.post))
        .map(|post| extract_post(post, page_url, rules))
        .collect();
    let root = doc.root_element();
    let title = rules
        .title
        .as_ref()
        .and_then(|t| first_match(root, t))
        .or_else(|| first_match(root, &DOC_TITLE))
        .and_then(|e| nonempty(attr_or_text(e, &["content"])));
    ThreadPage {
        title,
        posts,
        next_page: next_page(root, page_url, rules),
    }
}

static DOC_TITLE: LazyLock<Alternatives> =
    LazyLock::new(|| Alternatives(vec![Selector::parse("head title, title").expect("valid")]));
static LINK_NEXT: LazyLock<Alternatives> = LazyLock::new(|| {
    Alternatives(vec![
        Selector::parse(r#"link[rel~="next"]"#).expect("valid"),
    ])
});

/// A post nested in another post (a selector matching both a wrapper and its content) is
/// part of the outer one.
fn has_post_ancestor(post: ElementRef, selector: &Selector) -> bool {
    post.ancestors()
        .filter_map(ElementRef::wrap)
        .any(|a| selector.matches(&a))
}

fn extract_post(post: ElementRef, page_url: &Url, rules: &Rules) -> ForumPost {
    let element_id = post.value().id().filter(|id| !id.is_empty());
    let text = first_match(post, &rules.text)
        .map(post_text)
        .unwrap_or_default();
    let author = rules
        .author
        .as_ref()
        .and_then(|a| first_match(post, a))
        .and_then(|e| nonempty(attr_or_text(e, &["data-author", "content"])));
    let published = rules
        .time
        .as_ref()
        .and_then(|t| first_match(post, t))
        .and_then(element_time);
    let permalink = rules
        .permalink
        .as_ref()
        .and_then(|p| first_match(post, p))
        .and_then(|e| e.value().attr("href"))
        .and_then(|href| resolve_http(page_url, href))
        .or_else(|| {
            element_id.map(|id| {
                let mut u = page_url.clone();
                u.set_fragment(Some(id));
                u
            })
        })
        .map(String::from);
    ForumPost {
        native_id: native_id(post),
        author,
        published,
        text,
        permalink,
    }
}

/// The first element matched by the first alternative that matches anything, the scope
/// element itself included.
fn first_match<'a>(scope: ElementRef<'a>, alternatives: &Alternatives) -> Option<ElementRef<'a>> {
    alternatives.0.iter().find_map(|sel| {
        if sel.matches(&scope) {
            Some(scope)
        } else {
            scope.select(sel).next()
        }
    })
}

fn next_page(root: ElementRef, page_url: &Url, rules: &Rules) -> Option<Url> {
    let from_rule = rules
        .next_page
        .as_ref()
        .and_then(|n| first_match(root, n))
        .and_then(|e| e.value().attr("href"))
        .and_then(|href| resolve_http(page_url, href));
    from_rule
        .or_else(|| {
            first_match(root, &LINK_NEXT)
                .and_then(|e| e.value().attr("href"))
                .and_then(|href| resolve_http(page_url, href))
        })
        .filter(|next| next != page_url)
}

/// `href` resolved against `base`, when it is an http(s) URL.
fn resolve_http(base: &Url, href: &str) -> Option<Url> {
    let href = href.trim();
    if href.is_empty() {
        return None;
    }
    base.join(href)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
}

/// Digits of the post element's id or post-id attributes.
fn native_id(post: ElementRef) -> Option<String> {
    let e = post.value();
    [
        e.id(),
        e.attr("data-post-id"),
        e.attr("data-node-id"),
        e.attr("data-content"),
    ]
    .into_iter()
    .flatten()
    .find_map(last_digit_run)
}

/// The last run of ASCII digits in `s` (at most 32 of them).
fn last_digit_run(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let end = bytes.iter().rposition(u8::is_ascii_digit)? + 1;
    let start = bytes[..end]
        .iter()
        .rposition(|b| !b.is_ascii_digit())
        .map_or(0, |p| p + 1);
    (end - start <= 32).then(|| s[start..end].to_string())
}

/// The first of `attrs` present and non-blank on the element, else its text.
fn attr_or_text(e: ElementRef, attrs: &[&str]) -> String {
    attrs
        .iter()
        .filter_map(|a| e.value().attr(a))
        .find(|v| !v.trim().is_empty())
        .map(crate::html::normalise_ws)
        .unwrap_or_else(|| crate::html::normalise_ws(&e.text().collect::<String>()))
}

fn nonempty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

/// Time of a time-like element: machine-readable attributes first, then its text.
fn element_time(e: ElementRef) -> Option<DateTime<Utc>> {
    let v = e.value();
    if let Some(t) = v.attr("datetime").and_then(parse_forum_time) {
        return Some(t);
    }
    if let Some(t) = v.attr("data-time").and_then(parse_unix) {
        return Some(t);
    }
    for attr in ["content", "title"] {
        if let Some(t) = v.attr(attr).and_then(parse_forum_time) {
            return Some(t);
        }
    }
    parse_forum_time(&e.text().collect::<String>())
}

fn parse_unix(s: &str) -> Option<DateTime<Utc>> {
    let secs: i64 = s.trim().parse().ok()?;
    DateTime::from_timestamp(secs, 0).filter(|t| (1990..=2200).contains(&chrono::Datelike::year(t)))
}

const MONTH: &str = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?";
const CLOCK: &str =
    r"(?:,?\s*(?:at\s+|-\s*)?(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*([ap])\.?\s?m\b\.?)?)?";

/// Dates found inside text: (regex, which groups are year/month/day).
static DATE_PATTERNS: LazyLock<[(Regex, DateOrder); 4]> = LazyLock::new(|| {
    let re = |p: String| Regex::new(&format!("(?i){p}")).expect("valid date pattern");
    [
        (
            re(format!(
                r"\b(\d{{4}})[-/.](\d{{1,2}})[-/.](\d{{1,2}})(?:[T\s]{CLOCK_BARE})?"
            )),
            DateOrder::Ymd,
        ),
        (
            re(format!(
                r"\b{MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b{CLOCK}"
            )),
            DateOrder::MonthName,
        ),
        (
            re(format!(
                r"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+{MONTH},?\s+(\d{{4}})\b{CLOCK}"
            )),
            DateOrder::DayMonthName,
        ),
        (
            re(format!(
                r"\b(\d{{1,2}})([-/.])(\d{{1,2}})[-/.](\d{{4}})\b{CLOCK}"
            )),
            DateOrder::Numeric,
        ),
    ]
});
const CLOCK_BARE: &str = r"(\d{1,2}):(\d{2})(?::(\d{2}))?";

#[derive(Clone, Copy)]
enum DateOrder {
    Ymd,
    MonthName,
    DayMonthName,
    Numeric,
}

/// Parses a time as forums print it (see the module documentation); no zone means UTC.
pub fn parse_forum_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    // Bound the work on attacker-controlled text: a date is near the start of a time element.
    let s = match s.char_indices().nth(200) {
        Some((i, _)) => &s[..i],
        None => s,
    };
    if let Ok(t) = crate::timeutil::parse_timestamp(s) {
        return Some(t);
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%z",
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%z",
    ] {
        if let Ok(t) = DateTime::parse_from_str(s, fmt) {
            return Some(t.with_timezone(&Utc));
        }
    }
    DATE_PATTERNS.iter().find_map(|(re, order)| {
        re.captures_iter(s)
            .find_map(|c| date_from_captures(&c, *order))
    })
}

fn date_from_captures(c: &regex::Captures, order: DateOrder) -> Option<DateTime<Utc>> {
    let num = |i: usize| c.get(i).and_then(|m| m.as_str().parse::<u32>().ok());
    let month_name = |i: usize| c.get(i).and_then(|m| month_number(m.as_str()));
    // (year, month, day, index of the first clock group)
    let (year, month, day, clock) = match order {
        DateOrder::Ymd => (num(1)?, num(2)?, num(3)?, 4),
        DateOrder::MonthName => (num(3)?, month_name(1)?, num(2)?, 4),
        DateOrder::DayMonthName => (num(3)?, month_name(2)?, num(1)?, 4),
        DateOrder::Numeric => {
            let (a, b) = (num(1)?, num(3)?);
            let day_first = c.get(2).is_some_and(|m| m.as_str() == ".") || a > 12;
            let (m, d) = if day_first { (b, a) } else { (a, b) };
            (num(4)?, m, d, 5)
        }
    };
    if !(1970..=2200).contains(&year) {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(year as i32, month, day)?;
    let (mut hour, minute, second) = match num(clock) {
        Some(h) => (h, num(clock + 1)?, num(clock + 2).unwrap_or(0)),
        None => (0, 0, 0),
    };
    if let Some(ampm) = c.get(clock + 3) {
        if !(1..=12).contains(&hour) {
            return None;
        }
        let pm = ampm.as_str().eq_ignore_ascii_case("p");
        hour = match (hour, pm) {
            (12, false) => 0,
            (12, true) => 12,
            (h, true) => h + 12,
            (h, false) => h,
        };
    }
    let time = chrono::NaiveTime::from_hms_opt(hour, minute, second)?;
    Some(Utc.from_utc_datetime(&NaiveDateTime::new(date, time)))
}

fn month_number(name: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let prefix = name.get(..3)?.to_ascii_lowercase();
    MONTHS
        .iter()
        .position(|m| *m == prefix)
        .map(|i| i as u32 + 1)
}

const SKIPPED_TAGS: &[&str] = &[
    "script", "style", "noscript", "template", "iframe", "svg", "button", "select", "textarea",
];
/// Classes of quoted material and signatures inside a post body.
const SKIPPED_CLASSES: &[&str] = &[
    "quote",               // Discourse aside.quote, many themes
    "bbCodeQuote",         // XenForo 1
    "bbCodeBlock--quote",  // XenForo 2
    "bbCodeBlock--unfurl", // XenForo 2 link previews
    "bbcode_quote",        // vBulletin 4/5
    "onebox",              // Discourse link previews
    "signature",           // phpBB, vBulletin 4
    "signaturecontainer",  // vBulletin 4
    "message-signature",   // XenForo 2
    "b-post__signature",   // vBulletin 5
    "editedby",            // Something Awful / vBulletin edit notice
];

/// Whether `e` (not the root of the walk) is quoted material, a signature or not text.
fn is_skipped(e: ElementRef) -> bool {
    let v = e.value();
    let name = v.name();
    if SKIPPED_TAGS.contains(&name) || name == "blockquote" {
        return true;
    }
    if v.classes().any(|c| SKIPPED_CLASSES.contains(&c)) {
        return true;
    }
    if name != "div" {
        return false;
    }
    // Something Awful: div.bbc-block > h4 ("X posted:") + blockquote.
    if v.classes().any(|c| c == "bbc-block") {
        return e.child_elements().any(|c| c.value().name() == "blockquote");
    }
    // vBulletin 3: <div><div class="smallfont">Quote:</div><table>…</table></div>.
    let mut children = e.child_elements();
    matches!(
        (children.next(), children.next()),
        (Some(a), Some(b)) if a.value().name() == "div"
            && a.value().classes().any(|c| c == "smallfont")
            && b.value().name() == "table"
    )
}

/// The post body's own text (see the module documentation): quotes and signatures left
/// out, each leaving a line break; images' alt text too (forum emoji are images whose alt
/// is a `:shortcode:`).
fn post_text(root: ElementRef) -> String {
    use crate::html::Visit;
    crate::html::render_text(*root, |el| {
        if is_skipped(el) {
            Visit::SkipAsBreak
        } else if el.value().name() == "img" {
            Visit::Skip
        } else {
            Visit::Enter
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("test URL")
    }

    fn at(rfc3339: &str) -> Option<DateTime<Utc>> {
        Some(
            DateTime::parse_from_rfc3339(rfc3339)
                .expect("test time")
                .with_timezone(&Utc),
        )
    }

    fn post(
        id: Option<&str>,
        author: Option<&str>,
        published: &str,
        text: &str,
        permalink: Option<&str>,
    ) -> ForumPost {
        ForumPost {
            native_id: id.map(Into::into),
            author: author.map(Into::into),
            published: if published.is_empty() {
                None
            } else {
                at(published)
            },
            text: text.into(),
            permalink: permalink.map(Into::into),
        }
    }

    fn run_preset(name: &str, html: &str, page: &str) -> ThreadPage {
        let rules = Rules::compile(&preset(name).expect("preset")).expect("preset compiles");
        extract_thread(&Html::parse_document(html), &url(page), &rules)
    }

    /// phpBB 3.3, prosilver's viewtopic_body.html: one registered user, a moderator with a
    /// coloured name who quotes and has a signature, a guest.
    const PHPBB: &str = r##"<!DOCTYPE html>
<html dir="ltr" lang="en-gb">
<head>
<meta charset="utf-8" />
<title>Battery drains overnight - Acme Support Forum</title>
</head>
<body id="phpbb" class="nojs notouch section-viewtopic ltr ">
<div id="wrap" class="wrap">
<div id="page-body" class="page-body" role="main">
<h2 class="topic-title"><a href="./viewtopic.php?t=42">Battery drains overnight</a></h2>
<div class="action-bar bar-top">
  <div class="pagination">
    23 posts
    <ul>
      <li class="active"><span>1</span></li>
      <li><a class="button" href="./viewtopic.php?t=42&amp;start=10" role="button">2</a></li>
      <li class="arrow next"><a class="button button-icon-only" href="./viewtopic.php?t=42&amp;start=10" rel="next" role="button"><i class="icon fa-chevron-right fa-fw" aria-hidden="true"></i><span class="sr-only">Next</span></a></li>
    </ul>
  </div>
</div>
<div id="p101" class="post has-profile bg2">
  <div class="inner">
  <dl class="postprofile" id="profile101">
    <dt class="has-profile-rank has-avatar">
      <div class="avatar-container"><a href="./memberlist.php?mode=viewprofile&amp;u=54" class="avatar"><img class="avatar" src="./download/file.php?avatar=54.png" width="90" height="90" alt="User avatar" /></a></div>
      <a href="./memberlist.php?mode=viewprofile&amp;u=54" class="username">gadgetfan</a>
    </dt>
    <dd class="profile-rank">Registered User</dd>
    <dd class="profile-posts"><strong>Posts:</strong> <a href="./search.php?author_id=54&amp;sr=posts">12</a></dd>
    <dd class="profile-joined"><strong>Joined:</strong> Tue Mar 08, 2022 9:12 pm</dd>
  </dl>
  <div class="postbody">
    <div id="post_content101">
    <h3 class="first"><a href="./viewtopic.php?p=101#p101">Battery drains overnight</a></h3>
    <ul class="post-buttons">
      <li><a href="./posting.php?mode=quote&amp;p=101" title="Reply with quote" class="button button-icon-only"><i class="icon fa-quote-left fa-fw" aria-hidden="true"></i><span class="sr-only">Quote</span></a></li>
    </ul>
    <p class="author">
      <a class="unread" href="./viewtopic.php?p=101#p101" title="Post"><i class="icon fa-file fa-fw icon-lightgray icon-md" aria-hidden="true"></i><span class="sr-only">Post</span></a>
      <span class="responsive-hide">by <strong><a href="./memberlist.php?mode=viewprofile&amp;u=54" class="username">gadgetfan</a></strong> &raquo; </span><time datetime="2023-01-01T10:00:00+00:00">Sun Jan 01, 2023 10:00 am</time>
    </p>
    <div class="content">My Acme X2 loses 40% of its charge overnight since the last update.<br>Anyone else seeing this?</div>
    </div>
  </div>
  <div class="back2top"><a href="#top" class="top" title="Top"><span class="sr-only">Top</span></a></div>
  </div>
</div>
<hr class="divider" />
<div id="p102" class="post has-profile bg1">
  <div class="inner">
  <dl class="postprofile" id="profile102">
    <dt class="has-profile-rank no-avatar">
      <a href="./memberlist.php?mode=viewprofile&amp;u=2" style="color: #00AA00;" class="username-coloured">Moderator Mia</a>
    </dt>
    <dd class="profile-rank">Global Moderator</dd>
  </dl>
  <div class="postbody">
    <div id="post_content102">
    <h3><a href="./viewtopic.php?p=102#p102">Re: Battery drains overnight</a></h3>
    <p class="author">
      <a class="unread" href="./viewtopic.php?p=102#p102" title="Post"><span class="sr-only">Post</span></a>
      <span class="responsive-hide">by <strong><a href="./memberlist.php?mode=viewprofile&amp;u=2" style="color: #00AA00;" class="username-coloured">Moderator Mia</a></strong> &raquo; </span><time datetime="2023-01-01T11:30:00+00:00">Sun Jan 01, 2023 11:30 am</time>
    </p>
    <div class="content"><blockquote cite="./viewtopic.php?p=101#p101"><div><cite><a href="./memberlist.php?mode=viewprofile&amp;u=54">gadgetfan</a> wrote: <a href="./viewtopic.php?p=101#p101" data-post-id="101" onclick="if(document.getElementById(hash.substr(1)))href=hash">↑</a><span class="responsive-hide">Sun Jan 01, 2023 10:00 am</span></cite>My Acme X2 loses 40% of its charge overnight since the last update.</div></blockquote>Try disabling &quot;Background refresh&quot; &amp; reboot.</div>
    <div id="sig102" class="signature">Acme Community Team &ndash; read the rules first!</div>
    </div>
  </div>
  </div>
</div>
<hr class="divider" />
<div id="p103" class="post has-profile bg2">
  <div class="inner">
  <dl class="postprofile" id="profile103">
    <dt class="no-profile-rank no-avatar"><strong><span class="username">visitor_joe</span></strong></dt>
  </dl>
  <div class="postbody">
    <div id="post_content103">
    <h3><a href="./viewtopic.php?p=103#p103">Re: Battery drains overnight</a></h3>
    <p class="author">
      <a class="unread" href="./viewtopic.php?p=103#p103" title="Post"><span class="sr-only">Post</span></a>
      <span class="responsive-hide">by <strong><span class="username">visitor_joe</span></strong> &raquo; </span><time datetime="2023-01-02T09:05:00+01:00">Mon Jan 02, 2023 9:05 am</time>
    </p>
    <div class="content">Same here:<ul><li>Acme X2</li><li>firmware 3.1</li></ul></div>
    </div>
  </div>
  </div>
</div>
</div></div>
</body>
</html>"##;

    #[test]
    fn phpbb_preset() {
        let page = run_preset(
            "phpbb",
            PHPBB,
            "https://forum.example.com/viewtopic.php?t=42",
        );
        assert_eq!(page.title.as_deref(), Some("Battery drains overnight"));
        assert_eq!(
            page.next_page.map(String::from).as_deref(),
            Some("https://forum.example.com/viewtopic.php?t=42&start=10")
        );
        assert_eq!(
            page.posts,
            vec![
                post(
                    Some("101"),
                    Some("gadgetfan"),
                    "2023-01-01T10:00:00Z",
                    "My Acme X2 loses 40% of its charge overnight since the last update.\nAnyone else seeing this?",
                    Some("https://forum.example.com/viewtopic.php?p=101#p101"),
                ),
                post(
                    Some("102"),
                    Some("Moderator Mia"),
                    "2023-01-01T11:30:00Z",
                    "Try disabling \"Background refresh\" & reboot.",
                    Some("https://forum.example.com/viewtopic.php?p=102#p102"),
                ),
                post(
                    Some("103"),
                    Some("visitor_joe"),
                    "2023-01-02T08:05:00Z",
                    "Same here:\nAcme X2\nfirmware 3.1",
                    Some("https://forum.example.com/viewtopic.php?p=103#p103"),
                ),
            ]
        );
        assert_eq!(detect_preset(&Html::parse_document(PHPBB)), Some("phpbb"));
    }

    /// vBulletin 4.2, postbit_legacy: a signature, a quote (bbcode_quote), 12 AM.
    const VBULLETIN4: &str = r##"<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" dir="ltr" lang="en" id="vbulletin_html">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1" />
<meta name="generator" content="vBulletin 4.2.5" />
<title> Acme X2 firmware 3.1 thoughts?</title>
</head>
<body>
<div id="pagetitle" class="pagetitle"><h1>Thread: <span class="threadtitle"><a href="showthread.php?t=777" title="Reload this Page">Acme X2 firmware 3.1 thoughts?</a></span></h1></div>
<div id="pagination_top" class="pagination_top">
<form action="showthread.php?t=777&amp;page=2" method="get" class="pagination popupmenu nohovermenu">
<span><a href="javascript://" class="popupctrl">Page 1 of 3</a></span>
<span class="selected"><a href="javascript://" title="Results 1 to 10 of 25">1</a></span><span><a href="showthread.php?t=777&amp;page=2" title="Show results 11 to 20 of 25">2</a></span>
<span class="prev_next"><a rel="next" href="showthread.php?t=777&amp;page=2" title="Next Page - Results 11 to 20 of 25"><img src="images/pagination/next-right.png" alt="Next" /></a></span>
</form></div>
<div id="postlist" class="postlist restrain">
<ol id="posts" class="posts" start="1">
<li class="postbitlegacy postbitim postcontainer old" id="post_5001">
<div class="posthead">
  <span class="postdate old">
    <span class="date">01-15-2023,&nbsp;<span class="time">10:30 AM</span></span>
  </span>
  <span class="nodecontrols">
    <a name="post5001" href="showthread.php?t=777&amp;p=5001#post5001" class="postcounter">#1</a><a id="postcount5001" name="1"></a>
  </span>
</div>
<div class="postdetails">
  <div class="userinfo">
    <div class="username_container">
      <div class="popupmenu memberaction">
        <a class="username offline popupctrl" href="member.php?u=31" title="techie_tom is offline"><strong>techie_tom</strong></a>
        <ul class="popupbody popuphidden memberaction_body">
          <li class="left"><a href="member.php?u=31" class="siteicon_profile">View Profile</a></li>
        </ul>
      </div>
    </div>
    <span class="usertitle">Junior Member</span>
    <dl class="userinfo_extra"><dt>Join Date</dt> <dd>Mar 2021</dd><dt>Posts</dt> <dd>48</dd></dl>
  </div>
  <div class="postbody">
    <div class="postrow has_after_content">
      <h2 class="title icon">Acme X2 firmware 3.1 thoughts?</h2>
      <div class="content">
        <div id="post_message_5001">
          <blockquote class="postcontent restore ">
            Installed firmware 3.1 on my Acme X2 today.<br />
            The fan is much quieter now.
          </blockquote>
        </div>
      </div>
    </div>
    <div class="after_content">
      <blockquote class="signature restore"><div class="signaturecontainer">Tom's gear: Acme X2, Zeta Z9</div></blockquote>
    </div>
    <div class="cleardiv"></div>
  </div>
</div>
<div class="postfoot"><div class="textcontrols floatcontainer"><span class="postcontrols"><a id="qrwq_5001" class="newreply" href="newreply.php?do=newreply&amp;p=5001" rel="nofollow" title="Reply With Quote"><img id="quoteimg_5001" src="clear.gif" alt="Reply With Quote" /> Reply With Quote</a></span></div></div>
<hr />
</li>
<li class="postbitlegacy postbitim postcontainer old" id="post_5002">
<div class="posthead">
  <span class="postdate old"><span class="date">01-15-2023,&nbsp;<span class="time">02:05 PM</span></span></span>
  <span class="nodecontrols"><a name="post5002" href="showthread.php?t=777&amp;p=5002#post5002" class="postcounter">#2</a><a id="postcount5002" name="2"></a></span>
</div>
<div class="postdetails">
  <div class="userinfo">
    <div class="username_container">
      <div class="popupmenu memberaction">
        <a class="username online popupctrl" href="member.php?u=12" title="Quiet Quinn is online now"><strong>Quiet Quinn</strong></a>
      </div>
    </div>
  </div>
  <div class="postbody">
    <div class="postrow">
      <div class="content">
        <div id="post_message_5002">
          <blockquote class="postcontent restore ">
<div class="bbcode_container">
	<div class="bbcode_quote">
		<div class="quote_container">
			<div class="bbcode_quote_container"></div>
				<div class="bbcode_postedby">
					<img src="images/misc/quote_icon.png" alt="Quote" /> Originally Posted by <strong>techie_tom</strong>
					<a href="showthread.php?p=5001#post5001" rel="nofollow"><img class="inlineimg" src="images/buttons/viewpost-right.png" alt="View Post" /></a>
				</div>
				<div class="message">The fan is much quieter now.</div>
		</div>
	</div>
</div>Mine too, but battery life got worse.
          </blockquote>
        </div>
      </div>
    </div>
  </div>
</div>
</li>
<li class="postbitlegacy postbitim postcontainer old" id="post_5003">
<div class="posthead">
  <span class="postdate old"><span class="date">01-16-2023,&nbsp;<span class="time">12:00 AM</span></span></span>
  <span class="nodecontrols"><a name="post5003" href="showthread.php?t=777&amp;p=5003#post5003" class="postcounter">#3</a><a id="postcount5003" name="3"></a></span>
</div>
<div class="postdetails">
  <div class="userinfo">
    <div class="username_container">
      <div class="popupmenu memberaction">
        <a class="username offline popupctrl" href="member.php?u=99" title="ZetaFan is offline"><strong>ZetaFan</strong></a>
      </div>
    </div>
  </div>
  <div class="postbody">
    <div class="postrow">
      <div class="content">
        <div id="post_message_5003"><blockquote class="postcontent restore ">Midnight update: <b>3.1.1</b> fixed it for me &#9786;</blockquote></div>
      </div>
    </div>
  </div>
</div>
</li>
</ol>
</div>
</body>
</html>"##;

    #[test]
    fn vbulletin4_preset() {
        let page = run_preset(
            "vbulletin",
            VBULLETIN4,
            "https://gadgets.example.org/forum/showthread.php?t=777",
        );
        assert_eq!(
            page.title.as_deref(),
            Some("Acme X2 firmware 3.1 thoughts?")
        );
        assert_eq!(
            page.next_page.map(String::from).as_deref(),
            Some("https://gadgets.example.org/forum/showthread.php?t=777&page=2")
        );
        assert_eq!(
            page.posts,
            vec![
                post(
                    Some("5001"),
                    Some("techie_tom"),
                    "2023-01-15T10:30:00Z",
                    "Installed firmware 3.1 on my Acme X2 today.\nThe fan is much quieter now.",
                    Some("https://gadgets.example.org/forum/showthread.php?t=777&p=5001#post5001"),
                ),
                post(
                    Some("5002"),
                    Some("Quiet Quinn"),
                    "2023-01-15T14:05:00Z",
                    "Mine too, but battery life got worse.",
                    Some("https://gadgets.example.org/forum/showthread.php?t=777&p=5002#post5002"),
                ),
                post(
                    Some("5003"),
                    Some("ZetaFan"),
                    "2023-01-16T00:00:00Z",
                    "Midnight update: 3.1.1 fixed it for me ☺",
                    Some("https://gadgets.example.org/forum/showthread.php?t=777&p=5003#post5003"),
                ),
            ]
        );
        assert_eq!(
            detect_preset(&Html::parse_document(VBULLETIN4)),
            Some("vbulletin")
        );
    }

    /// vBulletin 3.8, postbit_legacy: date in the first td.thead, the signature beside the
    /// message, a "Quote:" box, no rel=next.
    const VBULLETIN3: &str = r##"<html dir="ltr" lang="en">
<head>
<meta name="generator" content="vBulletin 3.8.7" />
<title>Acme X2 vs Zeta Z9 - Gadget Forums</title>
</head>
<body>
<table class="tborder" cellpadding="6" cellspacing="1" border="0" width="100%" align="center"><tr>
<td class="navbar" style="font-size:10pt; padding-top:1px" colspan="3"><a href="showthread.php?t=88"><img class="inlineimg" src="images/misc/navbits_finallink_ltr.gif" alt="Reload this Page" border="0" /></a> <strong>Acme X2 vs Zeta Z9</strong></td>
</tr></table>
<div class="pagenav" align="right">
<table class="tborder" cellpadding="3" cellspacing="1" border="0"><tr>
	<td class="vbmenu_control" style="font-weight:normal">Page 1 of 2</td>
	<td class="alt2"><span class="smallfont" title="Showing results 1 to 15 of 20"><strong>1</strong></span></td>
	<td class="alt1"><a class="smallfont" href="showthread.php?t=88&amp;page=2" title="Show results 16 to 20 of 20">2</a></td>
	<td class="alt1"><a class="smallfont" href="showthread.php?t=88&amp;page=2" title="Next Page - Results 16 to 20 of 20">&gt;</a></td>
</tr></table>
</div>
<div id="posts">
<!-- post #9001 -->
<div id="edit9001" style="padding:0px 0px 6px 0px">
<table id="post9001" class="tborder" cellpadding="6" cellspacing="0" border="0" width="100%" align="center">
<tr>
	<td class="thead" style="font-weight:normal; border: 1px solid #D1D1E1; border-right: 0px">
		<a name="post9001"><img class="inlineimg" src="images/statusicon/post_old.gif" alt="Old" border="0" /></a>
		Jan 15th, 2023, 10:30 am
	</td>
	<td class="thead" style="font-weight:normal; border: 1px solid #D1D1E1; border-left: 0px" align="right">
		&nbsp;
		#<a href="showpost.php?p=9001&amp;postcount=1" target="new" rel="nofollow" id="postcount9001" name="1"><strong>1</strong></a>
	</td>
</tr>
<tr valign="top">
	<td class="alt2" width="175" style="border: 1px solid #D1D1E1; border-top: 0px; border-bottom: 0px">
		<div id="postmenu_9001">
			<a class="bigusername" href="member.php?u=7">old_timer</a>
			<script type="text/javascript"> vbmenu_register("postmenu_9001", true); </script>
		</div>
		<div class="smallfont">Senior Member</div>
	</td>
	<td class="alt1" id="td_post_9001" style="border-right: 1px solid #D1D1E1">
		<div class="smallfont"><strong>Acme X2 vs Zeta Z9</strong></div>
		<hr size="1" style="color:#D1D1E1; background-color:#D1D1E1" />
		<div id="post_message_9001">Which one has the better screen?</div>
		<div>__________________<br />old_timer's homepage: www.example.org</div>
	</td>
</tr>
</table>
</div>
<!-- / post #9001 -->
<div id="edit9002" style="padding:0px 0px 6px 0px">
<table id="post9002" class="tborder" cellpadding="6" cellspacing="0" border="0" width="100%" align="center">
<tr>
	<td class="thead">
		<a name="post9002"><img class="inlineimg" src="images/statusicon/post_old.gif" alt="Old" border="0" /></a>
		01-15-2023, 10:30 PM
	</td>
	<td class="thead" align="right">#<a href="showpost.php?p=9002&amp;postcount=2" target="new" rel="nofollow" id="postcount9002" name="2"><strong>2</strong></a></td>
</tr>
<tr valign="top">
	<td class="alt2" width="175"><div id="postmenu_9002"><a class="bigusername" href="member.php?u=8">screen_sam</a></div></td>
	<td class="alt1" id="td_post_9002">
		<div id="post_message_9002">
<div style="margin:20px; margin-top:5px; ">
	<div class="smallfont" style="margin-bottom:2px">Quote:</div>
	<table cellpadding="6" cellspacing="0" border="0" width="100%">
	<tr>
		<td class="alt2" style="border:1px inset">
				<div>Originally Posted by <strong>old_timer</strong> <a href="showthread.php?p=9001#post9001" rel="nofollow"><img class="inlineimg" src="images/buttons/viewpost.gif" border="0" alt="View Post" /></a></div>
				<div style="font-style:italic">Which one has the better screen?</div>
		</td>
	</tr>
	</table>
</div>The Zeta Z9, no contest.
		</div>
	</td>
</tr>
</table>
</div>
<div id="edit9003" style="padding:0px 0px 6px 0px">
<table id="post9003" class="tborder" cellpadding="6" cellspacing="0" border="0" width="100%" align="center">
<tr>
	<td class="thead"><a name="post9003"></a> 15 Jan 2023 23:59</td>
	<td class="thead" align="right">#<a href="showpost.php?p=9003&amp;postcount=3" target="new" rel="nofollow" id="postcount9003" name="3"><strong>3</strong></a></td>
</tr>
<tr valign="top">
	<td class="alt2" width="175"><div id="postmenu_9003"><a class="bigusername" href="member.php?u=9">night_owl</a></div></td>
	<td class="alt1" id="td_post_9003"><div id="post_message_9003">Agreed &mdash; the Z9 panel is brighter.</div></td>
</tr>
</table>
</div>
</div>
</body>
</html>"##;

    #[test]
    fn vbulletin3_preset() {
        let page = run_preset(
            "vbulletin",
            VBULLETIN3,
            "http://old.example.net/showthread.php?t=88",
        );
        assert_eq!(page.title.as_deref(), Some("Acme X2 vs Zeta Z9"));
        assert_eq!(
            page.next_page.map(String::from).as_deref(),
            Some("http://old.example.net/showthread.php?t=88&page=2")
        );
        assert_eq!(
            page.posts,
            vec![
                post(
                    Some("9001"),
                    Some("old_timer"),
                    "2023-01-15T10:30:00Z",
                    "Which one has the better screen?",
                    Some("http://old.example.net/showpost.php?p=9001&postcount=1"),
                ),
                post(
                    Some("9002"),
                    Some("screen_sam"),
                    "2023-01-15T22:30:00Z",
                    "The Zeta Z9, no contest.",
                    Some("http://old.example.net/showpost.php?p=9002&postcount=2"),
                ),
                post(
                    Some("9003"),
                    Some("night_owl"),
                    "2023-01-15T23:59:00Z",
                    "Agreed — the Z9 panel is brighter.",
                    Some("http://old.example.net/showpost.php?p=9003&postcount=3"),
                ),
            ]
        );
        assert_eq!(
            detect_preset(&Html::parse_document(VBULLETIN3)),
            Some("vbulletin")
        );
        // Without the generator meta, the message ids give it away.
        let bare = VBULLETIN3.replace(r#"<meta name="generator" content="vBulletin 3.8.7" />"#, "");
        assert_eq!(
            detect_preset(&Html::parse_document(&bare)),
            Some("vbulletin")
        );
    }

    /// XenForo 2.2, post_macros / message_macros: data-author, time.u-dt with data-time,
    /// bbCodeBlock--quote, aside.message-signature, a guest, a +0100 offset.
    const XENFORO: &str = r##"<!DOCTYPE html>
<html id="XF" lang="en-US" dir="LTR" data-app="public" data-template="thread_view" data-container-key="node-4" data-content-key="thread-321" data-logged-in="false" data-cookie-prefix="xf_" class="has-no-js template-thread_view">
<head>
<meta charset="utf-8" />
<title>Zeta Z9 overheating | Gadget Hub</title>
<link rel="canonical" href="https://hub.example.com/threads/zeta-z9-overheating.321/" />
<link rel="next" href="/threads/zeta-z9-overheating.321/page-2" />
</head>
<body data-template="thread_view">
<div class="p-body-header"><div class="p-title "><h1 class="p-title-value">Zeta Z9 overheating</h1></div></div>
<div class="block-outer"><div class="block-outer-main"><nav class="pageNavWrapper pageNavWrapper--mixed "><div class="pageNav  "><ul class="pageNav-main"><li class="pageNav-page pageNav-page--current "><a href="/threads/zeta-z9-overheating.321/">1</a></li><li class="pageNav-page "><a href="/threads/zeta-z9-overheating.321/page-2">2</a></li></ul><a href="/threads/zeta-z9-overheating.321/page-2" class="pageNav-jump pageNav-jump--next">Next</a></div></nav></div></div>
<div class="block-body js-replyNewMessageContainer">
<article class="message message--post js-post js-inlineModContainer  " data-author="Sam Sparks" data-content="post-1201" id="js-post-1201">
	<span class="u-anchorTarget" id="post-1201"></span>
	<div class="message-inner">
		<div class="message-cell message-cell--user">
			<section class="message-user" itemprop="author" itemscope itemtype="https://schema.org/Person">
				<div class="message-userDetails">
					<h4 class="message-name"><a href="/members/sam-sparks.77/" class="username " dir="auto" data-user-id="77" data-xf-init="member-tooltip" itemprop="name">Sam Sparks</a></h4>
					<h5 class="userTitle message-userTitle" dir="auto">Member</h5>
				</div>
			</section>
		</div>
		<div class="message-cell message-cell--main">
			<div class="message-main js-quickEditTarget">
				<header class="message-attribution message-attribution--split">
					<ul class="message-attribution-main listInline ">
						<li class="u-concealed">
							<a href="/threads/zeta-z9-overheating.321/post-1201" rel="nofollow" itemprop="url">
								<time class="u-dt" dir="auto" datetime="2023-01-15T10:30:00+0000" data-time="1673778600" data-date-string="Jan 15, 2023" data-time-string="10:30 AM" title="Jan 15, 2023 at 10:30 AM" itemprop="datePublished">Jan 15, 2023</time>
							</a>
						</li>
					</ul>
					<ul class="message-attribution-opposite message-attribution-opposite--list ">
						<li><a href="/threads/zeta-z9-overheating.321/post-1201" class="message-attribution-gadget" data-xf-init="share-tooltip" data-href="/posts/1201/share" aria-label="Share" rel="nofollow"><i class="fa--xf far fa-share-alt" aria-hidden="true"></i></a></li>
						<li><a href="/threads/zeta-z9-overheating.321/post-1201" rel="nofollow">#1</a></li>
					</ul>
				</header>
				<div class="message-content js-messageContent">
					<div class="message-userContent lbContainer js-lbContainer " data-lb-id="post-1201" data-lb-caption-desc="Sam Sparks &middot; Jan 15, 2023 at 10:30 AM">
						<article class="message-body js-selectToQuote">
							<div itemprop="text">
								<div class="bbWrapper">My Zeta Z9 gets hot while charging.<br />
Is that normal?</div>
							</div>
							<div class="js-selectToQuoteEnd">&nbsp;</div>
						</article>
					</div>
					<aside class="message-signature">
						<div class="bbWrapper">Sam &middot; owner of too many gadgets</div>
					</aside>
				</div>
				<footer class="message-footer"><div class="message-actionBar actionBar"><div class="actionBar-set actionBar-set--external"><a href="/threads/zeta-z9-overheating.321/reply?quote=1201" class="actionBar-action actionBar-action--reply" title="Reply, quoting this message" rel="nofollow" data-xf-click="quote" data-quote-href="/posts/1201/quote">Reply</a></div></div></footer>
			</div>
		</div>
	</div>
</article>
<article class="message message--post js-post js-inlineModContainer  " data-author="Dana Volt" data-content="post-1202" id="js-post-1202">
	<span class="u-anchorTarget" id="post-1202"></span>
	<div class="message-inner">
		<div class="message-cell message-cell--user"><section class="message-user"><div class="message-userDetails"><h4 class="message-name"><a href="/members/dana-volt.5/" class="username " dir="auto" data-user-id="5"><span class="username--staff">Dana Volt</span></a></h4></div></section></div>
		<div class="message-cell message-cell--main">
			<div class="message-main js-quickEditTarget">
				<header class="message-attribution message-attribution--split">
					<ul class="message-attribution-main listInline "><li class="u-concealed"><a href="/threads/zeta-z9-overheating.321/post-1202" rel="nofollow"><time class="u-dt" dir="auto" datetime="2023-01-15T12:05:00+0000" data-time="1673784300" data-date-string="Jan 15, 2023" data-time-string="12:05 PM" title="Jan 15, 2023 at 12:05 PM">Jan 15, 2023</time></a></li></ul>
					<ul class="message-attribution-opposite message-attribution-opposite--list "><li><a href="/threads/zeta-z9-overheating.321/post-1202" rel="nofollow">#2</a></li></ul>
				</header>
				<div class="message-content js-messageContent">
					<div class="message-userContent lbContainer js-lbContainer " data-lb-id="post-1202">
						<article class="message-body js-selectToQuote">
							<div itemprop="text">
								<div class="bbWrapper"><blockquote data-attributes="member: 77" data-quote="Sam Sparks" data-source="post: 1201" class="bbCodeBlock bbCodeBlock--expandable bbCodeBlock--quote js-expandWatch">
	<div class="bbCodeBlock-title">
		<a href="/goto/post?id=1201" class="bbCodeBlock-sourceJump" rel="nofollow" data-xf-click="attribution" data-content-selector="#post-1201">Sam Sparks said:</a>
	</div>
	<div class="bbCodeBlock-content">
		<div class="bbCodeBlock-expandContent js-expandContent ">My Zeta Z9 gets hot while charging.</div>
		<div class="bbCodeBlock-expandLink js-expandLink"><a role="button" tabindex="0">Click to expand...</a></div>
	</div>
</blockquote>Warm is normal, hot is not. Contact <b>Zeta</b> support.</div>
							</div>
						</article>
					</div>
				</div>
			</div>
		</div>
	</div>
</article>
<article class="message message--post js-post js-inlineModContainer  " data-author="Visitor" data-content="post-1203" id="js-post-1203">
	<span class="u-anchorTarget" id="post-1203"></span>
	<div class="message-inner">
		<div class="message-cell message-cell--user"><section class="message-user"><div class="message-userDetails"><h4 class="message-name"><span class="username " dir="auto" data-user-id="0">Visitor</span></h4><h5 class="userTitle message-userTitle" dir="auto">Guest</h5></div></section></div>
		<div class="message-cell message-cell--main">
			<div class="message-main js-quickEditTarget">
				<header class="message-attribution message-attribution--split">
					<ul class="message-attribution-main listInline "><li class="u-concealed"><a href="/threads/zeta-z9-overheating.321/post-1203" rel="nofollow"><time class="u-dt" dir="auto" datetime="2023-01-16T09:00:00+0100" data-time="1673856000" title="Jan 16, 2023 at 9:00 AM">Jan 16, 2023</time></a></li></ul>
				</header>
				<div class="message-content js-messageContent">
					<article class="message-body js-selectToQuote"><div itemprop="text"><div class="bbWrapper">Mine shuts down at 45&deg;C.</div></div></article>
					<div class="message-lastEdit">Last edited: <time class="u-dt" dir="auto" datetime="2023-01-16T10:00:00+0100" data-time="1673859600">Jan 16, 2023</time></div>
				</div>
			</div>
		</div>
	</div>
</article>
</div>
</body>
</html>"##;

    #[test]
    fn xenforo_preset() {
        let page = run_preset(
            "xenforo",
            XENFORO,
            "https://hub.example.com/threads/zeta-z9-overheating.321/",
        );
        assert_eq!(page.title.as_deref(), Some("Zeta Z9 overheating"));
        assert_eq!(
            page.next_page.map(String::from).as_deref(),
            Some("https://hub.example.com/threads/zeta-z9-overheating.321/page-2")
        );
        let link =
            |n: u32| format!("https://hub.example.com/threads/zeta-z9-overheating.321/post-{n}");
        assert_eq!(
            page.posts,
            vec![
                post(
                    Some("1201"),
                    Some("Sam Sparks"),
                    "2023-01-15T10:30:00Z",
                    "My Zeta Z9 gets hot while charging.\nIs that normal?",
                    Some(&link(1201)),
                ),
                post(
                    Some("1202"),
                    Some("Dana Volt"),
                    "2023-01-15T12:05:00Z",
                    "Warm is normal, hot is not. Contact Zeta support.",
                    Some(&link(1202)),
                ),
                post(
                    Some("1203"),
                    Some("Visitor"),
                    "2023-01-16T08:00:00Z",
                    "Mine shuts down at 45°C.",
                    Some(&link(1203)),
                ),
            ]
        );
        assert_eq!(
            detect_preset(&Html::parse_document(XENFORO)),
            Some("xenforo")
        );
    }

    /// Discourse's crawler view (what it serves to crawlers and without JavaScript).
    const DISCOURSE: &str = r##"<!DOCTYPE html>
<html lang="en" class="desktop-view not-mobile-device text-size-normal anon">
<head>
<meta charset="utf-8">
<title>Acme X2 battery drain after update - Support - Acme Community</title>
<meta name="generator" content="Discourse 3.2.0 - https://github.com/discourse/discourse version 7a1b3c9">
<link rel="canonical" href="https://community.acme.example/t/acme-x2-battery-drain-after-update/555" />
<link rel="next" href="/t/acme-x2-battery-drain-after-update/555?page=2">
</head>
<body class="crawler ">
<header><a href="/"><img src="/uploads/logo.png" alt="Acme Community" id="site-logo"></a></header>
<div id="main-outlet" class="wrap" role="main">
<div id="topic-title">
  <h1><a href="/t/acme-x2-battery-drain-after-update/555">Acme X2 battery drain after update</a></h1>
  <div class="topic-category" itemscope itemtype="http://schema.org/BreadcrumbList"><span itemprop="itemListElement" itemscope itemtype="http://schema.org/ListItem"><a href="/c/support/5" class="badge-wrapper bullet" itemprop="item"><span class="badge-category clear-badge"><span class="category-name" itemprop="name">Support</span></span></a><meta itemprop="position" content="1" /></span></div>
</div>
<div itemscope itemtype="http://schema.org/DiscussionForumPosting">
  <meta itemprop="headline" content="Acme X2 battery drain after update">
  <link itemprop="url" href="https://community.acme.example/t/acme-x2-battery-drain-after-update/555">
  <meta itemprop="datePublished" content="2023-01-15T10:30:00Z">
  <div id='post_1' class='topic-body crawler-post'>
    <div class='crawler-post-meta'>
      <span class="creator" itemprop="author" itemscope itemtype="http://schema.org/Person">
        <a itemprop="url" rel='nofollow' href='https://community.acme.example/u/battery_bob'><span itemprop='name'>battery_bob</span></a>
      </span>
      <link itemprop="mainEntityOfPage" href="https://community.acme.example/t/acme-x2-battery-drain-after-update/555">
      <span class="crawler-post-infos">
          <time datetime='2023-01-15T10:30:00Z' class='post-time'>
            January 15, 2023,  10:30am
          </time>
          <meta itemprop='dateModified' content='2023-01-15T10:31:12Z'>
        <span itemprop='position'>1</span>
      </span>
    </div>
    <div class='post' itemprop='text'>
      <p>Since the 3.1 update my Acme X2 loses 40% overnight.</p>
    </div>
    <div itemprop="interactionStatistic" itemscope itemtype="http://schema.org/InteractionCounter">
       <meta itemprop="interactionType" content="http://schema.org/LikeAction"/>
       <meta itemprop="userInteractionCount" content="3" />
       <span class='post-likes'>3 Likes</span>
    </div>
  </div>
  <div id='post_2' itemprop='comment' itemscope itemtype='http://schema.org/Comment' class='topic-body crawler-post'>
    <div class='crawler-post-meta'>
      <span class="creator" itemprop="author" itemscope itemtype="http://schema.org/Person">
        <a itemprop="url" rel='nofollow' href='https://community.acme.example/u/acme_staff'><span itemprop='name'>acme_staff</span></a>
        (Acme Support)
      </span>
      <span class="crawler-post-infos">
          <time itemprop='datePublished' datetime='2023-01-15T11:00:00Z' class='post-time'>January 15, 2023, 11:00am</time>
        <span itemprop='position'>2</span>
      </span>
    </div>
    <div class='post' itemprop='text'>
      <aside class="quote no-group" data-username="battery_bob" data-post="1" data-topic="555">
      <div class="title">
      <div class="quote-controls"></div>
      <img loading="lazy" alt="" width="24" height="24" src="https://community.acme.example/user_avatar/community.acme.example/battery_bob/48/1_2.png" class="avatar"> battery_bob:</div>
      <blockquote>
      <p>Since the 3.1 update my Acme X2 loses 40% overnight.</p>
      </blockquote>
      </aside>
      <p>Thanks for the report. A fix ships in 3.1.1 – see <a href="https://acme.example/notes">the release notes</a>.</p>
      <aside class="onebox allowlistedgeneric" data-onebox-src="https://acme.example/notes">
        <header class="source"><a href="https://acme.example/notes" target="_blank" rel="noopener">acme.example</a></header>
        <article class="onebox-body"><h3><a href="https://acme.example/notes">Release notes</a></h3><p>Acme X2 firmware history.</p></article>
      </aside>
    </div>
  </div>
  <div id='post_3' itemprop='comment' itemscope itemtype='http://schema.org/Comment' class='topic-body crawler-post'>
    <div class='crawler-post-meta'>
      <span class="creator" itemprop="author" itemscope itemtype="http://schema.org/Person">
        <a itemprop="url" rel='nofollow' href='https://community.acme.example/u/zeta_zoe'><span itemprop='name'>zeta_zoe</span></a>
      </span>
      <span class="crawler-post-infos">
          <meta itemprop='datePublished' content='2023-01-16T08:00:00Z'>
          January 16, 2023, 8:00am
        <span itemprop='position'>3</span>
      </span>
    </div>
    <div class='post' itemprop='text'>
      <p>Switched to a Zeta Z9 &amp; never looked back <img src="https://emoji.discourse-cdn.com/twitter/sunglasses.png?v=12" title=":sunglasses:" class="emoji" alt=":sunglasses:" loading="lazy" width="20" height="20"></p>
    </div>
  </div>
</div>
<div role='navigation' itemscope itemtype='http://schema.org/SiteNavigationElement' class="topic-body crawler-post">
  <span itemprop='name'><b><a rel="next" itemprop="url" href="/t/acme-x2-battery-drain-after-update/555?page=2">next page →</a></b></span>
</div>
</div>
</body>
</html>"##;

    #[test]
    fn discourse_preset() {
        let topic = "https://community.acme.example/t/acme-x2-battery-drain-after-update/555";
        let page = run_preset("discourse", DISCOURSE, topic);
        assert_eq!(
            page.title.as_deref(),
            Some("Acme X2 battery drain after update")
        );
        assert_eq!(
            page.next_page.map(String::from),
            Some(format!("{topic}?page=2"))
        );
        assert_eq!(
            page.posts,
            vec![
                post(
                    Some("1"),
                    Some("battery_bob"),
                    "2023-01-15T10:30:00Z",
                    "Since the 3.1 update my Acme X2 loses 40% overnight.",
                    Some(&format!("{topic}#post_1")),
                ),
                post(
                    Some("2"),
                    Some("acme_staff"),
                    "2023-01-15T11:00:00Z",
                    "Thanks for the report. A fix ships in 3.1.1 – see the release notes.",
                    Some(&format!("{topic}#post_2")),
                ),
                post(
                    Some("3"),
                    Some("zeta_zoe"),
                    "2023-01-16T08:00:00Z",
                    "Switched to a Zeta Z9 & never looked back",
                    Some(&format!("{topic}#post_3")),
                ),
            ]
        );
        assert_eq!(
            detect_preset(&Html::parse_document(DISCOURSE)),
            Some("discourse")
        );
        let bare = DISCOURSE.replace("<meta name=\"generator\"", "<meta name=\"x\"");
        assert_eq!(
            detect_preset(&Html::parse_document(&bare)),
            Some("discourse")
        );
    }

    #[test]
    fn custom_spec_for_a_home_made_board() {
        let toml_like: RuleSpec = serde_json::from_str(
            r##"{"post": "div.comment", "text": ".body", "author": ".who",
                 "time": "span.when", "permalink": "a.perma",
                 "next_page": "nav a.older", "title": "h1.thread"}"##,
        )
        .expect("spec parses");
        let rules = Rules::compile(&toml_like).expect("compiles");
        let html = r##"<html><head><title>ignored</title></head><body>
            <h1 class="thread">Best <em>budget</em> phone?</h1>
            <div class="comment" data-post-id="77"><span class="who"> Ann </span>
              <span class="when">Posted 15/01/2023 18:45</span>
              <div class="body"><p>The <b>Acme X2</b>.</p><div class="signature">Ann's blog</div></div>
              <a class="perma" href="/c/77">link</a></div>
            <div class="comment"><div class="body">No author, no time.</div></div>
            <nav><a class="older" href="?page=2">Older</a></nav>
        </body></html>"##;
        let page = extract_thread(
            &Html::parse_document(html),
            &url("https://blog.example/thread/9"),
            &rules,
        );
        assert_eq!(page.title.as_deref(), Some("Best budget phone?"));
        assert_eq!(
            page.next_page.map(String::from).as_deref(),
            Some("https://blog.example/thread/9?page=2")
        );
        assert_eq!(
            page.posts,
            vec![
                post(
                    Some("77"),
                    Some("Ann"),
                    "2023-01-15T18:45:00Z",
                    "The Acme X2.",
                    Some("https://blog.example/c/77"),
                ),
                post(None, None, "", "No author, no time.", None),
            ]
        );
        // Unknown keys are refused.
        let err = serde_json::from_str::<RuleSpec>(r#"{"post":"a","text":"b","body":"c"}"#);
        assert!(
            err.unwrap_err()
                .to_string()
                .contains("unknown field `body`")
        );
    }

    #[test]
    fn bad_selectors_name_the_field() {
        let mut spec = preset("phpbb").unwrap();
        spec.time = Some("p.author time, p.author[".into());
        let err = Rules::compile(&spec).unwrap_err().to_string();
        assert!(
            err.starts_with("rule `time`: invalid selector `p.author[`"),
            "{err}"
        );
        let err = Rules::compile(&RuleSpec {
            post: "div..post".into(),
            text: "p".into(),
            ..Default::default()
        })
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("rule `post`: invalid selector `div..post`"),
            "{err}"
        );
        let err = Rules::compile(&RuleSpec {
            post: "div".into(),
            text: "  ".into(),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(
            err,
            RuleError::Empty {
                field: "text".into()
            }
        );
        assert_eq!(err.to_string(), "rule `text`: empty selector");
        let err = Rules::compile(&RuleSpec {
            post: "div".into(),
            text: "p,,q".into(),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "rule `text`: empty alternative in `p,,q`");
        // Commas inside attribute values and :is() don't split.
        let ok = RuleSpec {
            post: r#"div[data-x="a,b"]"#.into(),
            text: ":is(p, q), r".into(),
            ..Default::default()
        };
        assert_eq!(split_selector_list(":is(p, q), r"), vec![":is(p, q)", " r"]);
        assert!(Rules::compile(&ok).is_ok());
        for name in PRESETS {
            assert!(Rules::compile(&preset(name).unwrap()).is_ok(), "{name}");
        }
        assert_eq!(preset("mybb"), None);
    }

    #[test]
    fn forum_times() {
        let t = |s: &str| parse_forum_time(s).map(|t| t.to_rfc3339());
        let utc = |s: &str| Some(format!("{s}+00:00"));
        assert_eq!(t("2023-01-15T10:30:00+0000"), utc("2023-01-15T10:30:00"));
        assert_eq!(
            t("2023-01-15T10:30:00.250+02:00"),
            Some("2023-01-15T08:30:00.250+00:00".into())
        );
        assert_eq!(
            t("Sun, 15 Jan 2023 10:30:00 -0500"),
            utc("2023-01-15T15:30:00")
        );
        assert_eq!(t("Sun Jan 01, 2023 10:00 am"), utc("2023-01-01T10:00:00"));
        assert_eq!(
            t("by admin » Sun Jan 01, 2023 12:15 pm"),
            utc("2023-01-01T12:15:00")
        );
        assert_eq!(t("Sun Jan 01, 2023 12:15 am"), utc("2023-01-01T00:15:00"));
        assert_eq!(t("01-15-2023, 10:30 AM"), utc("2023-01-15T10:30:00"));
        assert_eq!(t("15-01-2023, 10:30"), utc("2023-01-15T10:30:00"));
        assert_eq!(t("15.01.2023, 10:30"), utc("2023-01-15T10:30:00"));
        assert_eq!(t("01/02/2023"), utc("2023-01-02T00:00:00"));
        assert_eq!(t("Jan 15th, 2023, 10:30 am"), utc("2023-01-15T10:30:00"));
        assert_eq!(t("15 Jan 2023 10:30"), utc("2023-01-15T10:30:00"));
        assert_eq!(t("1st March 2021"), utc("2021-03-01T00:00:00"));
        assert_eq!(t("Jan 15, 2023 at 10:30 PM"), utc("2023-01-15T22:30:00"));
        assert_eq!(t("March 12, 2020, 3:11am"), utc("2020-03-12T03:11:00"));
        assert_eq!(
            t("September 3, 2019 - 11:02 p.m."),
            utc("2019-09-03T23:02:00")
        );
        assert_eq!(t("# ? Sep 20, 2012 11:16"), utc("2012-09-20T11:16:00"));
        assert_eq!(t("2023/01/15 10:30"), utc("2023-01-15T10:30:00"));
        assert_eq!(
            t("posted 2023-01-15 10:30:45 by x"),
            utc("2023-01-15T10:30:45")
        );
        for bad in [
            "",
            "Today, 10:30 AM",
            "2 hours ago",
            "Feb 30, 2023",
            "13:99",
            "01-15-2023, 13:30 PM",
            "Jan 15, 1066",
        ] {
            assert_eq!(t(bad), None, "{bad}");
        }
        assert_eq!(parse_unix("1673778600"), at("2023-01-15T10:30:00Z"));
        assert_eq!(parse_unix("99999999999999999"), None);
    }

    #[test]
    fn native_ids() {
        assert_eq!(last_digit_run("p123"), Some("123".into()));
        assert_eq!(last_digit_run("js-post-1201"), Some("1201".into()));
        assert_eq!(last_digit_run("post_message_9"), Some("9".into()));
        assert_eq!(last_digit_run("preview"), None);
        assert_eq!(last_digit_run(&"9".repeat(40)), None);
    }

    /// The Something Awful page, decoded; None when it is not available here (its licence
    /// forbids copying it into the repository).
    fn something_awful() -> Option<String> {
        let bytes = crate::testdata::fixture_bytes("html/somethingawful_forum-thread_cp1252.html")?;
        let (text, _, had_errors) = encoding_rs::WINDOWS_1252.decode(&bytes);
        assert!(!had_errors);
        Some(text.into_owned())
    }

    /// Something Awful's showthread.php is vBulletin-derived but reworked (table.post,
    /// dt.author, td.postbody, td.postdate): the vBulletin preset finds nothing, a custom spec
    /// fits.
    fn something_awful_spec() -> RuleSpec {
        RuleSpec {
            post: r#"table.post[id^="post"]"#.into(),
            text: "td.postbody".into(),
            author: Some("dt.author".into()),
            time: Some("td.postdate".into()),
            permalink: Some(r##"td.postdate a[href^="#post"]"##.into()),
            next_page: Some(r#"div.pages a[title="Next page"]"#.into()),
            title: Some("title".into()),
        }
    }

    #[test]
    fn something_awful_thread_page() {
        let Some(html) = something_awful() else {
            return;
        };
        let doc = Html::parse_document(&html);
        let page_url = url(
            "https://forums.somethingawful.com/showthread.php?threadid=3507451&perpage=40&pagenumber=5",
        );
        let vb = Rules::compile(&preset("vbulletin").unwrap()).unwrap();
        assert_eq!(extract_thread(&doc, &page_url, &vb).posts.len(), 0);
        assert_eq!(detect_preset(&doc), None);

        let rules = Rules::compile(&something_awful_spec()).unwrap();
        let page = extract_thread(&doc, &page_url, &rules);
        // 40 `<table class="post " id="post…">` in the file.
        assert_eq!(page.posts.len(), 40);
        assert_eq!(
            page.title.as_deref(),
            Some(
                "Canadian Politics Thread: Revenge of Trudeaumania: Brawl Me, Maybe - The Something Awful Forums"
            )
        );
        assert_eq!(
            page.next_page.map(String::from).as_deref(),
            Some(
                "https://forums.somethingawful.com/showthread.php?threadid=3507451&userid=0&perpage=40&pagenumber=6"
            )
        );
        let first = &page.posts[0];
        assert_eq!(
            first,
            &post(
                Some("407741839"),
                Some("Majuju"),
                "2012-09-20T11:16:00Z",
                // The quote of MikeSevigny's post ("BC's most evil premier") is gone.
                "Hey, now, there's a lot of room for debate on this one. Like, a lot. Which is kind of sad, the more I think about it.",
                Some(
                    "https://forums.somethingawful.com/showthread.php?threadid=3507451&perpage=40&pagenumber=5#post407741839"
                ),
            )
        );
        let summary: Vec<(Option<&str>, Option<&str>, Option<String>)> = page
            .posts
            .iter()
            .map(|p| {
                (
                    p.native_id.as_deref(),
                    p.author.as_deref(),
                    p.published.map(|t| t.to_rfc3339()),
                )
            })
            .collect();
        assert_eq!(
            summary[12],
            (
                Some("407751956"),
                Some("Dreylad"),
                Some("2012-09-20T16:36:00+00:00".into())
            )
        );
        assert_eq!(
            summary[14],
            (
                Some("407753032"),
                Some("angerbot"),
                Some("2012-09-20T17:09:00+00:00".into())
            )
        );
        assert_eq!(
            summary[39],
            (
                Some("407769816"),
                Some("Louis Riel"),
                Some("2012-09-21T03:19:00+00:00".into())
            )
        );
        assert!(
            page.posts
                .iter()
                .all(|p| p.author.is_some() && p.published.is_some())
        );
        // No post keeps the "X posted:" header of a quote.
        assert!(
            page.posts.iter().all(|p| !p.text.contains(" posted:")),
            "a quote header survived"
        );
    }

    #[test]
    fn spiceworks_page_is_not_a_thread() {
        // Despite its name the fixture is a Spiceworks news article (WordPress): no preset
        // recognises it and none finds posts in it.
        let Some(path) =
            crate::testdata::fixture_path("html/spiceworks-community_forum-thread.source.html")
        else {
            return;
        };
        let html = std::fs::read_to_string(path).expect("fixture");
        let doc = Html::parse_document(&html);
        assert_eq!(detect_preset(&doc), None);
        let page_url = url("https://www.spiceworks.com/marketing/marketing-strategy/news/");
        for name in PRESETS {
            let rules = Rules::compile(&preset(name).unwrap()).unwrap();
            assert_eq!(
                extract_thread(&doc, &page_url, &rules).posts.len(),
                0,
                "{name}"
            );
        }
    }

    #[test]
    fn hostile_input_does_not_panic() {
        let rules: Vec<Rules> = PRESETS
            .iter()
            .map(|n| Rules::compile(&preset(n).unwrap()).unwrap())
            .collect();
        let page_url = url("https://x.example/t/1");
        // Deep nesting inside a post body.
        let deep = format!(
            r#"<div id="p1" class="post"><div class="postbody"><div class="content">{}deep{}</div></div></div>"#,
            "<div><blockquote>".repeat(1500),
            "</blockquote></div>".repeat(1500)
        );
        let page = extract_thread(&Html::parse_document(&deep), &page_url, &rules[0]);
        assert_eq!(page.posts.len(), 1);
        assert_eq!(page.posts[0].text, "");
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let pieces = [
            "<div class=\"post\" id=\"p",
            "<time datetime=\"",
            "\">",
            "</div>",
            "<blockquote>",
            "<a rel=next href=\"",
            "javascript:x",
            "<li class=\"postcontainer\" id=\"post_",
            "99",
            "<article class=\"message--post\" data-author=\"",
            "Jan 32, 2023 25:61 pm",
            "&amp;",
            "<",
            "<div class=\"crawler-post\" id=\"post_",
            "<span class=\"creator\"><span itemprop=name>",
            "<div itemprop=text>",
            "-",
            "\u{0}",
            "é",
            "<table id=\"post1\" class=\"tborder\"><td class=thead>",
        ];
        for _ in 0..400 {
            let mut html = String::new();
            for _ in 0..40 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                html.push_str(pieces[(state % pieces.len() as u64) as usize]);
            }
            let doc = Html::parse_document(&html);
            let _ = detect_preset(&doc);
            for r in &rules {
                let page = extract_thread(&doc, &page_url, r);
                assert!(
                    page.next_page
                        .is_none_or(|u| u.scheme().starts_with("http"))
                );
            }
        }
    }

    /// Extraction speed, measured with
    /// `cargo test --release -- --ignored forum_extraction_speed --nocapture`.
    #[test]
    #[ignore]
    fn forum_extraction_speed() {
        let Some(html) = something_awful() else {
            return;
        };
        let rules = Rules::compile(&something_awful_spec()).unwrap();
        let page_url = url("https://forums.somethingawful.com/showthread.php?threadid=3507451");
        let rounds = 30;
        let start = std::time::Instant::now();
        let mut posts = 0;
        for _ in 0..rounds {
            let doc = Html::parse_document(&html);
            posts += extract_thread(&doc, &page_url, &rules).posts.len();
        }
        let total = start.elapsed().as_secs_f64();
        let start = std::time::Instant::now();
        for _ in 0..rounds {
            std::hint::black_box(Html::parse_document(&html));
        }
        let parse = start.elapsed().as_secs_f64();
        let mb = (html.len() * rounds) as f64 / 1e6;
        eprintln!(
            "SA page ({} KB, {posts} posts): parse+extract {:.1} MB/s, parse alone {:.1} MB/s, extract alone {:.2} ms/page",
            html.len() / 1000,
            mb / total,
            mb / parse,
            (total - parse) * 1000.0 / rounds as f64
        );
    }
}
