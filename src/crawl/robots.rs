//! robots.txt: parsing and matching per RFC 9309, with Google's documented tolerances.
//!
//! Parsing is line-based and never fails: whatever cannot be understood is skipped.
//! - The body is cut to its first 500 KiB (Google's limit), decoded as UTF-8 (lossily; a
//!   UTF-8 BOM is dropped and a UTF-16 BOM switches to UTF-16), split on LF, CRLF or CR;
//!   `#` starts a comment.
//! - `key: value` lines; keys are case-insensitive, `-`, `_` and spaces in them are
//!   ignored (`User-agent`, `useragent`, `user agent`), and Google's accepted misspellings
//!   of `disallow` (`dissallow`, `dissalow`, `disalow`, `diasllow`, `disallaw`) count.
//! - A group is one or more `user-agent` lines followed by rules (`allow`, `disallow`,
//!   `crawl-delay`); a `user-agent` line after a rule starts a new group. Rules before the
//!   first `user-agent` are ignored. `sitemap` lines belong to no group and may be anywhere.
//! - A body that is really an HTML/XML page (first non-blank character `<`) has no rules:
//!   everything is allowed.
//!
//! Matching (`is_allowed`): the crawler's product token (`hark` in `hark/0.1 (...)`) is
//! compared case-insensitively with each group's user-agent token (the leading
//! `[A-Za-z0-9_-]` run of the value, as Google does: `Googlebot-News/2` → `googlebot-news`).
//! All groups naming the token are combined; if none does, all `*` groups are combined.
//! Among the rules of the selected groups that match the path, the longest pattern wins and
//! `allow` wins a tie; no match means allowed. Patterns match from the start of the path;
//! `*` matches any run of bytes and a final `$` anchors the end. Both sides are normalised
//! for percent-encoding (escapes of unreserved characters decoded, other escapes
//! upper-cased, raw non-ASCII, control and space bytes escaped), so `/%7Efoo`, `/~foo`
//! match alike and a raw `ü` in a pattern matches `%C3%BC` in the URL. Empty
//! `allow:`/`disallow:` values are ignored (so `disallow:` alone allows everything).
//! `/robots.txt` itself is always allowed.
//!
//! Speed: patterns are normalised, split at `*` and sorted longest-first at parse time, so
//! a lookup stops at a group's first matching rule; a match is a prefix test plus a
//! left-to-right search per `*`-segment, with no allocation unless the path itself
//! needs percent-normalisation (lower-case hex or escaped unreserved characters).
//!
//! Limits: paths are compared as bytes (case-sensitive, as the RFC says); `crawl-delay`
//! (not part of RFC 9309) is read per group and, with several selected groups, the largest
//! wins; `host`, `clean-param`, `request-rate` and other extensions are ignored. A crawler
//! whose user-agent is `Mozilla/5.0 (compatible; hark/0.1)` has the product token
//! `Mozilla`: pass the crawler's own token first.

use std::borrow::Cow;
use std::collections::HashSet;
use std::time::Duration;

/// Google parses at most this much of a robots.txt; the rest is ignored.
pub const MAX_ROBOTS_BYTES: usize = 500 * 1024;

/// Parsed robots.txt rules of one host.
///
/// How to get one for an HTTP outcome (RFC 9309 §2.3.1):
/// - 2xx: [`Robots::parse`] the body;
/// - 4xx (including 404): [`Robots::allow_all`] — "unavailable", the crawler may crawl;
/// - 5xx or a network error: [`Robots::disallow_all`] — "unreachable", assume complete
///   disallow (Google switches to the last good copy or to allow-all after 30 days of
///   errors; that policy is the caller's);
/// - redirects: follow up to 5 hops, then treat as 4xx.
#[derive(Debug, Clone, Default)]
pub struct Robots {
    groups: Vec<Group>,
    agents: Vec<Agent>,
    sitemaps: Vec<String>,
    disallow_everything: bool,
}

/// One `user-agent` value and the group it opens.
#[derive(Debug, Clone)]
struct Agent {
    token: AgentToken,
    group: usize,
}

#[derive(Debug, Clone, PartialEq)]
enum AgentToken {
    Star,
    /// Lower-cased product token.
    Named(String),
}

#[derive(Debug, Clone, Default)]
struct Group {
    rules: Vec<Rule>,
    crawl_delay: Option<Duration>,
}

/// A pre-processed `allow`/`disallow` pattern: `prefix*seg1*seg2...[$]`.
#[derive(Debug, Clone)]
struct Rule {
    allow: bool,
    /// Length of the normalised pattern, `*` and `$` included: the longest match wins.
    specificity: usize,
    /// Bytes the path must start with (the part before the first `*`).
    prefix: Vec<u8>,
    /// The parts after each `*`, in order (the last may be empty for a trailing `*`).
    segments: Vec<Vec<u8>>,
    /// The pattern ended in `$`: the last part must end the path.
    anchored: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Directive {
    UserAgent,
    Allow,
    Disallow,
    CrawlDelay,
    Sitemap,
}

impl Robots {
    /// Parses a robots.txt body (see the module doc); never fails.
    pub fn parse(body: &[u8]) -> Robots {
        let body = &body[..body.len().min(MAX_ROBOTS_BYTES)];
        // Sniffs a BOM (UTF-8 dropped, UTF-16 decoded), replaces invalid UTF-8 with U+FFFD.
        let (text, _, _) = encoding_rs::UTF_8.decode(body);
        if looks_like_markup(&text) {
            return Robots::allow_all();
        }
        let mut builder = Builder::default();
        for line in text.split(['\n', '\r']) {
            builder.add_line(line);
        }
        let mut robots = builder.robots;
        for group in &mut robots.groups {
            group
                .rules
                .sort_by_key(|r| (std::cmp::Reverse(r.specificity), !r.allow));
        }
        robots
    }

    /// No rules: everything may be crawled. Use it when robots.txt answered 4xx.
    pub fn allow_all() -> Robots {
        Robots::default()
    }

    /// Nothing but `/robots.txt` may be crawled. Use it when robots.txt answered 5xx or
    /// could not be fetched (RFC 9309: assume complete disallow).
    pub fn disallow_all() -> Robots {
        Robots {
            disallow_everything: true,
            ..Robots::default()
        }
    }

    /// Whether a crawler with this full User-Agent string (e.g. `hark/0.1 (+https://…)`)
    /// may fetch `path`: the URL's path plus `?query`, as sent in the request line
    /// (an empty path means `/`). See the module doc for the rules.
    pub fn is_allowed(&self, user_agent: &str, path: &str) -> bool {
        let path = if path.is_empty() { "/" } else { path };
        if is_robots_txt(path) {
            return true;
        }
        if self.disallow_everything {
            return false;
        }
        let path = normalize_path(path.as_bytes());
        let mut best: Option<(usize, bool)> = None;
        for group in self.selected_groups(product_token(user_agent)) {
            // Rules are sorted longest first, allow before disallow: the first match in a
            // group is that group's answer, and later rules cannot beat a longer one.
            for rule in &group.rules {
                if !rule.can_beat(best) {
                    break;
                }
                if rule.matches(&path) {
                    best = Some((rule.specificity, rule.allow));
                    break;
                }
            }
        }
        best.is_none_or(|(_, allow)| allow)
    }

    /// [`Robots::is_allowed`] for a URL (its path and query; scheme and host are the
    /// caller's business).
    pub fn is_allowed_url(&self, user_agent: &str, url: &url::Url) -> bool {
        self.is_allowed(
            user_agent,
            &url[url::Position::BeforePath..url::Position::AfterQuery],
        )
    }

    /// The `crawl-delay` of the group(s) that apply to this User-Agent (the largest if
    /// several combined groups give one); decimal seconds such as `0.5` are honoured.
    pub fn crawl_delay(&self, user_agent: &str) -> Option<Duration> {
        self.selected_groups(product_token(user_agent))
            .filter_map(|g| g.crawl_delay)
            .max()
    }

    /// `Sitemap:` URLs found anywhere in the file, in file order, without duplicates.
    pub fn sitemaps(&self) -> &[String] {
        &self.sitemaps
    }

    /// The groups naming `token`, or else the `*` groups.
    fn selected_groups<'a>(&'a self, token: &'a str) -> impl Iterator<Item = &'a Group> + 'a {
        let names_token = |a: &Agent| match &a.token {
            AgentToken::Named(name) => !token.is_empty() && name.eq_ignore_ascii_case(token),
            AgentToken::Star => false,
        };
        let specific = self.agents.iter().any(names_token);
        self.agents
            .iter()
            .filter(move |a| {
                if specific {
                    names_token(a)
                } else {
                    a.token == AgentToken::Star
                }
            })
            .map(|a| &self.groups[a.group])
    }
}

/// Accumulates groups line by line.
#[derive(Default)]
struct Builder {
    robots: Robots,
    /// The previous directive was a `user-agent` line: another one joins the same group.
    in_agent_lines: bool,
    seen_sitemaps: HashSet<String>,
}

impl Builder {
    fn add_line(&mut self, line: &str) {
        let line = match line.find('#') {
            Some(i) => &line[..i],
            None => line,
        };
        let Some((key, value)) = line.split_once(':') else {
            return;
        };
        let Some(directive) = directive(key) else {
            return;
        };
        let value = value.trim();
        match directive {
            Directive::UserAgent => self.add_agent(value),
            Directive::Allow | Directive::Disallow => {
                self.in_agent_lines = false;
                if let (Some(group), false) = (self.robots.groups.last_mut(), value.is_empty()) {
                    group
                        .rules
                        .push(Rule::new(value, directive == Directive::Allow));
                }
            }
            Directive::CrawlDelay => {
                self.in_agent_lines = false;
                if let Some(group) = self.robots.groups.last_mut() {
                    group.crawl_delay = group.crawl_delay.or_else(|| parse_delay(value));
                }
            }
            Directive::Sitemap => {
                if !value.is_empty() && self.seen_sitemaps.insert(value.to_string()) {
                    self.robots.sitemaps.push(value.to_string());
                }
            }
        }
    }

    fn add_agent(&mut self, value: &str) {
        if !self.in_agent_lines {
            self.robots.groups.push(Group::default());
            self.in_agent_lines = true;
        }
        let group = self.robots.groups.len() - 1;
        let token = if value.starts_with('*') {
            AgentToken::Star
        } else {
            let name = product_token(value);
            if name.is_empty() {
                return;
            }
            AgentToken::Named(name.to_ascii_lowercase())
        };
        self.robots.agents.push(Agent { token, group });
    }
}

impl Rule {
    fn new(pattern: &str, allow: bool) -> Rule {
        let mut normalized = Vec::with_capacity(pattern.len());
        normalize_into(pattern.as_bytes(), &mut normalized);
        let specificity = normalized.len();
        let anchored = normalized.last() == Some(&b'$');
        if anchored {
            normalized.pop();
        }
        let mut parts = normalized
            .split(|&b| b == b'*')
            .enumerate()
            // Drop empty parts between consecutive stars, but keep a trailing one.
            .filter(|(i, p)| *i == 0 || !p.is_empty())
            .map(|(_, p)| p.to_vec());
        let prefix = parts.next().unwrap_or_default();
        let mut segments: Vec<Vec<u8>> = parts.collect();
        if normalized.last() == Some(&b'*') && segments.last().is_none_or(|s| !s.is_empty()) {
            segments.push(Vec::new());
        }
        Rule {
            allow,
            specificity,
            prefix,
            segments,
            anchored,
        }
    }

    /// Whether this rule, if it matched, would replace the best `(specificity, allow)`
    /// match so far: it is longer, or as long and an allow over a disallow.
    fn can_beat(&self, best: Option<(usize, bool)>) -> bool {
        best.is_none_or(|(len, allow)| {
            self.specificity > len || (self.specificity == len && self.allow && !allow)
        })
    }

    /// Whether the (normalised) path matches this pattern.
    fn matches(&self, path: &[u8]) -> bool {
        let Some(mut rest) = path.strip_prefix(self.prefix.as_slice()) else {
            return false;
        };
        let Some((last, middle)) = self.segments.split_last() else {
            return !self.anchored || rest.is_empty();
        };
        // Leftmost matches leave the most room for the segments after them.
        for segment in middle {
            match find(rest, segment) {
                Some(i) => rest = &rest[i + segment.len()..],
                None => return false,
            }
        }
        if self.anchored {
            rest.ends_with(last)
        } else {
            find(rest, last).is_some()
        }
    }
}

/// Maps a (possibly misspelled) field name to its directive.
fn directive(key: &str) -> Option<Directive> {
    let mut buf = [0u8; 16];
    let mut len = 0;
    for b in key
        .trim()
        .bytes()
        .filter(|b| !matches!(b, b'-' | b'_' | b' ' | b'\t'))
    {
        *buf.get_mut(len)? = b.to_ascii_lowercase();
        len += 1;
    }
    match &buf[..len] {
        b"useragent" => Some(Directive::UserAgent),
        b"allow" => Some(Directive::Allow),
        b"disallow" | b"dissallow" | b"dissalow" | b"disalow" | b"diasllow" | b"disallaw" => {
            Some(Directive::Disallow)
        }
        b"crawldelay" => Some(Directive::CrawlDelay),
        b"sitemap" | b"sitemaps" => Some(Directive::Sitemap),
        _ => None,
    }
}

/// Seconds, decimals allowed (`10`, `0.5`, `2.5 seconds`); negative or absurd values are
/// ignored.
fn parse_delay(value: &str) -> Option<Duration> {
    let seconds: f64 = value.split_whitespace().next()?.parse().ok()?;
    if !seconds.is_finite() || seconds < 0.0 {
        return None;
    }
    Duration::try_from_secs_f64(seconds).ok()
}

/// The product token of a User-Agent: its leading run of `[A-Za-z0-9_-]`
/// (`hark/0.1 (…)` → `hark`).
fn product_token(user_agent: &str) -> &str {
    let ua = user_agent.trim_start();
    let end = ua
        .bytes()
        .position(|b| !(b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        .unwrap_or(ua.len());
    &ua[..end]
}

/// An HTML (or XML) page served as robots.txt.
fn looks_like_markup(text: &str) -> bool {
    text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
        .starts_with('<')
}

fn is_robots_txt(path: &str) -> bool {
    let path = path.split_once('?').map_or(path, |(p, _)| p);
    path == "/robots.txt"
}

/// The path in normalised form, borrowed when it is already normal (the common case).
fn normalize_path(path: &[u8]) -> Cow<'_, [u8]> {
    if is_normalized(path) {
        Cow::Borrowed(path)
    } else {
        let mut out = Vec::with_capacity(path.len() + 8);
        normalize_into(path, &mut out);
        Cow::Owned(out)
    }
}

/// Percent-encoding normal form: `%XX` of an unreserved character decoded, other `%xx`
/// upper-cased, bytes that must be escaped (non-ASCII, controls, space) escaped. A `%`
/// not followed by two hex digits stays as it is.
fn normalize_into(input: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < input.len() {
        let b = input[i];
        if b == b'%'
            && let Some(value) = escaped_byte(input, i)
        {
            if is_unreserved(value) {
                out.push(value);
            } else {
                push_escaped(out, value);
            }
            i += 3;
            continue;
        }
        if must_escape(b) {
            push_escaped(out, b);
        } else {
            out.push(b);
        }
        i += 1;
    }
}

/// Whether `normalize_into` would leave `input` unchanged.
fn is_normalized(input: &[u8]) -> bool {
    input.iter().enumerate().all(|(i, &b)| {
        if must_escape(b) {
            return false;
        }
        if b != b'%' {
            return true;
        }
        match escaped_byte(input, i) {
            Some(value) => {
                !is_unreserved(value) && !input[i + 1..i + 3].iter().any(u8::is_ascii_lowercase)
            }
            None => true,
        }
    })
}

/// The byte encoded by the `%XX` at `input[i]`, if it is one.
fn escaped_byte(input: &[u8], i: usize) -> Option<u8> {
    let hi = hex_value(*input.get(i + 1)?)?;
    let lo = hex_value(*input.get(i + 2)?)?;
    Some(hi << 4 | lo)
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn push_escaped(out: &mut Vec<u8>, b: u8) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.extend_from_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

fn must_escape(b: u8) -> bool {
    b <= b' ' || b >= 0x7f
}

/// First occurrence of `needle` in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let Some((&first, rest)) = needle.split_first() else {
        return Some(0);
    };
    if haystack.len() < needle.len() {
        return None;
    }
    let last_start = haystack.len() - needle.len();
    let mut i = 0;
    while i <= last_start {
        let offset = haystack[i..=last_start].iter().position(|&b| b == first)?;
        i += offset;
        if &haystack[i + 1..i + needle.len()] == rest {
            return Some(i);
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const HARK: &str = "hark/0.1 (brand monitoring; +https://example.org/hark)";

    /// The parsed `fixtures/robots/NAME`; None when it is not available here.
    fn fixture(name: &str) -> Option<Robots> {
        Some(Robots::parse(&crate::testdata::fixture_bytes(&format!(
            "robots/{name}"
        ))?))
    }

    fn check(robots: &Robots, ua: &str, cases: &[(&str, bool)]) {
        for &(path, allowed) in cases {
            assert_eq!(robots.is_allowed(ua, path), allowed, "{ua} {path}");
        }
    }

    #[test]
    fn github() {
        let Some(r) = fixture("github.com.robots.txt") else {
            return;
        };
        check(
            &r,
            HARK,
            &[
                ("/humans.txt", true),
                ("/", false),
                ("/rust-lang/rust", false),
                ("/robots.txt", true),
            ],
        );
        check(
            &r,
            "Googlebot/2.1 (+http://www.google.com/bot.html)",
            &[
                ("/rust-lang/rust", true),
                ("/rust-lang/rust/tree/master", true),
                ("/rust-lang/rust/tree/beta", false),
                ("/rust-lang/rust/blob/master/README.md", true),
                ("/x/y.git", false),
                ("/x/y.git/info", true),
                ("/search?q=rust", false),
                ("/rust-lang/rust/issues?q=is%3Aopen", false),
                ("/images/modules/explore/spotlight/a.mp4", false),
                ("/images/modules/explore/spotlight/a.mp4?x", true),
            ],
        );
        check(&r, "twitterbot", &[("/rust-lang/rust/stargazers", false)]);
        assert!(r.sitemaps().is_empty());
        assert_eq!(r.crawl_delay(HARK), None);
    }

    #[test]
    fn wikipedia_bom_utf8_patterns_and_no_crawl_delay() {
        let Some(r) = fixture("en.wikipedia.org.robots.txt") else {
            return;
        };
        check(
            &r,
            HARK,
            &[
                ("/wiki/Main_Page", true),
                ("/w/index.php?title=X&action=edit", false),
                ("/w/load.php?modules=site", true),
                ("/w/api.php?action=mobileview&page=X", true),
                ("/w/api.php?action=query", false),
                ("/api/rest_v1/?doc", true),
                ("/api/rest_v1/page/X", false),
                ("/wiki/Special:Random", false),
                ("/wiki/Special%3ARandom", false),
                ("/wiki/Special%3aRandom", false),
                // Raw "ö" in the file matches the escaped form in the URL.
                ("/wiki/Wikipedia:L%C3%B6schkandidaten/1", false),
                ("/wiki/Wikipedia:Qualit%c3%a4tssicherung/x", false),
                ("/wiki/Wikipedia:Qualität", true),
                ("/wiki/%D8%AE%D8%A7%D8%B5:Search", false),
            ],
        );
        check(&r, "MJ12bot/v1.4.8", &[("/wiki/Main_Page", false)]);
        check(&r, "wget/1.21", &[("/", false)]);
        // "Mediapartners-Google*" names the token mediapartners-google.
        check(&r, "Mediapartners-Google", &[("/wiki/X", false)]);
        // An empty Disallow allows everything, even what `*` forbids.
        check(&r, "IsraBot", &[("/w/index.php", true), ("/trap/", true)]);
        // The file only mentions Crawl-delay in a comment.
        assert_eq!(r.crawl_delay(HARK), None);
        assert!(r.sitemaps().is_empty());
    }

    #[test]
    fn stackoverflow() {
        let Some(r) = fixture("stackoverflow.com.robots.txt") else {
            return;
        };
        check(
            &r,
            HARK,
            &[
                ("/questions/123/some-title", true),
                ("/posts/123", false),
                ("/posts", true),
                ("/users/123?tab=accounts", false),
                ("/users/123?tab=profile", true),
                ("/questions/tagged/rust+async", false),
                ("/questions/tagged/rust%20async", false),
                ("/questions/tagged/rust", true),
                ("/search?q=x", false),
                ("/r/1/ivc/x", false),
            ],
        );
        // "Yahoo Pipes 1.0" names the token "yahoo".
        check(&r, "Yahoo Pipes 1.0", &[("/", false)]);
        check(
            &r,
            "Googlebot-Image/1.0",
            &[("/search?q=x", true), ("/users/flair/1", false)],
        );
        // Googlebot is not Googlebot-Image: it gets the `*` group.
        check(&r, "Googlebot/2.1", &[("/search?q=x", false)]);
        assert_eq!(r.sitemaps(), ["https://stackoverflow.com/sitemap.xml"]);
    }

    #[test]
    fn store_usps_utf16_with_bom_is_parsed() {
        let Some(r) = fixture("store.usps.com.robots.txt") else {
            return;
        };
        check(
            &r,
            HARK,
            &[
                ("/store/cart/", false),
                ("/store/browse/emailafriend.jsp", false),
                ("/store/product/stamps", true),
            ],
        );
        assert_eq!(r.sitemaps(), ["https://store.usps.com/store/siteindex.xml"]);
    }

    #[test]
    fn invalid_utf8_is_decoded_lossily() {
        let r = Robots::parse(b"User-agent: *\nDisallow: /caf\xe9\xff/\nDisallow: /x\n");
        check(&r, HARK, &[("/x", false), ("/y", true)]);
    }

    #[test]
    fn twitter_crawl_delay_and_wildcards() {
        let Some(r) = fixture("twitter.com.robots.txt") else {
            return;
        };
        check(
            &r,
            HARK,
            &[
                ("/jack", true),
                ("/jack/followers", false),
                ("/search?q=%23rust", true),
                ("/search?q=rust", false),
                ("/jack?lang=en", true),
                ("/search/x/grid", false),
                ("/i/hello", false),
            ],
        );
        check(&r, "Googlebot", &[("/?_escaped_fragment_=x", true)]);
        assert_eq!(r.crawl_delay(HARK), Some(Duration::from_secs(1)));
        assert_eq!(r.crawl_delay("Googlebot"), None);
        assert_eq!(r.sitemaps(), ["https://twitter.com/sitemap.xml"]);
    }

    #[test]
    fn aao_bom_crlf_sitemaps() {
        let Some(r) = fixture("www.aao.org.robots.txt") else {
            return;
        };
        assert_eq!(
            r.sitemaps(),
            [
                "https://www.aao.org/sitemap.xml",
                "https://www.aao.org/sitemap_lms.xml",
                "https://isrs.org/sitemap.xml"
            ]
        );
        check(
            &r,
            HARK,
            &[
                ("/admin/x", false),
                ("/SearchResults.aspx?q=1", false),
                ("/searchresults.aspx", true),
                ("/eye-health", true),
            ],
        );
        check(&r, "aao-appliance", &[("/admin/", false), ("/eye", true)]);
    }

    #[test]
    fn google() {
        let Some(r) = fixture("www.google.com.robots.txt") else {
            return;
        };
        check(
            &r,
            HARK,
            &[
                ("/search?q=x", false),
                ("/search/about", true),
                ("/?hl=en", true),
                ("/?hl=en&x=1", false),
                ("/?hl=en&gws_rd=ssl", true),
                ("/?hl=en&a=1&gws_rd=ssl", false),
                ("/?q=x", false),
                ("/alerts/", true),
                ("/alerts/x", false),
                ("/alerts/manage?x", true),
                ("/m/finance", true),
                ("/m/x", false),
                ("/maps/d/viewer", true),
                ("/maps?q=x", false),
            ],
        );
        // Twitterbot's own group only allows /imgres, so the `*` group does not apply.
        check(
            &r,
            "Twitterbot/1.0",
            &[("/imgres", true), ("/search", true)],
        );
        check(
            &r,
            "AdsBot-Google",
            &[("/maps/api/js?x", true), ("/maps/api/js/x", false)],
        );
        assert_eq!(r.sitemaps(), ["https://www.google.com/sitemap.xml"]);
    }

    #[test]
    fn reddit() {
        let Some(r) = fixture("www.reddit.com.robots.txt") else {
            return;
        };
        check(
            &r,
            HARK,
            &[
                ("/r/rust/", true),
                ("/r/rust/.json", false),
                ("/r/rust/submit", false),
                ("/r/rust/submit?x=1", true),
                ("/sitemaps/a.xml", true),
                ("/r/rust/top.xml", false),
                ("/api/v1/me", false),
                ("/login", false),
            ],
        );
        check(
            &r,
            "bender",
            &[("/my_shiny_metal_ass", false), ("/api", true)],
        );
        check(&r, "GORT/1.0", &[("/earth", false), ("/mars", true)]);
        check(&r, "008/0.83", &[("/", false)]);
    }

    #[test]
    fn html_page_allows_everything() {
        let Some(r) = fixture("ccli.com.robots.txt") else {
            return;
        };
        check(&r, HARK, &[("/", true), ("/anything?x", true)]);
        assert!(r.sitemaps().is_empty());
        let r = Robots::parse(b"<!DOCTYPE html>\n<p>\nUser-agent: *\nDisallow: /\n");
        check(&r, HARK, &[("/", true)]);
    }

    #[test]
    fn status_based_constructors() {
        check(&Robots::allow_all(), HARK, &[("/", true), ("/x", true)]);
        check(
            &Robots::disallow_all(),
            HARK,
            &[("/", false), ("/x", false), ("/robots.txt", true)],
        );
    }

    #[test]
    fn longest_match_wins_and_allow_wins_ties() {
        let r = Robots::parse(
            b"User-agent: *\nAllow: /p\nDisallow: /\nDisallow: /folder/\nAllow: /folder/page\n\
              Allow: /tie\nDisallow: /tie\nDisallow: /page.htm\nAllow: /page\n",
        );
        check(
            &r,
            HARK,
            &[
                ("/p", true),
                ("/x", false),
                ("/folder/page", true),
                ("/folder/other", false),
                ("/tie", true),
                // RFC 9309 §2.2.2: `/page` (allow) vs `/page.htm` (disallow) → longer wins.
                ("/page.htm", false),
                ("/page.html", false),
                ("/page", true),
            ],
        );
    }

    #[test]
    fn wildcards_and_end_anchor() {
        let r = Robots::parse(
            b"user-agent: *\ndisallow: /*.php$\ndisallow: /fish*\ndisallow: /a*b*c\n\
              allow: /$\ndisallow: /\n",
        );
        let r2 = Robots::parse(b"user-agent: *\ndisallow: /*.php$\ndisallow: /fish*\n");
        check(
            &r2,
            HARK,
            &[("/x.php", false), ("/x.php?a", true), ("/x.php5", true)],
        );
        check(
            &r2,
            HARK,
            &[("/fish", false), ("/fishheads/x", false), ("/Fish", true)],
        );
        check(&r, HARK, &[("/", true), ("/x", false)]);
        let r3 = Robots::parse(b"user-agent: *\ndisallow: /a*b*c\ndisallow: /q*$\n");
        check(
            &r3,
            HARK,
            &[
                ("/a-b-c", false),
                ("/acb", true),
                ("/abbc", false),
                ("/q", false),
            ],
        );
        let r4 = Robots::parse(b"user-agent: *\ndisallow: /*/x$\n");
        check(&r4, HARK, &[("/a/x/b/x", false), ("/a/x/b", true)]);
    }

    #[test]
    fn percent_encoding_is_normalised_on_both_sides() {
        // RFC 9309 §2.2.2 examples.
        let r = Robots::parse(
            "user-agent: *\ndisallow: /foo/bar?baz=quz\ndisallow: /foo/bar/ツ\n\
             disallow: /foo/bar/%62%61%7A\ndisallow: /a%3cd\n"
                .as_bytes(),
        );
        check(
            &r,
            HARK,
            &[
                ("/foo/bar?baz=quz", false),
                ("/foo/bar/%E3%83%84", false),
                ("/foo/bar/%e3%83%84", false),
                ("/foo/bar/ツ", false),
                ("/foo/bar/baz", false),
                ("/a%3Cd", false),
                ("/foo/bar", true),
            ],
        );
    }

    #[test]
    fn groups_with_the_same_agent_are_combined() {
        let r = Robots::parse(
            b"user-agent: hark\ndisallow: /a\n\nuser-agent: other\ndisallow: /o\n\n\
              user-agent: Hark\ndisallow: /b\ncrawl-delay: 2.5\n\nuser-agent: *\ndisallow: /\n",
        );
        check(
            &r,
            HARK,
            &[("/a", false), ("/b", false), ("/o", true), ("/c", true)],
        );
        assert_eq!(r.crawl_delay(HARK), Some(Duration::from_millis(2500)));
        check(&r, "somebot", &[("/c", false)]);
        assert_eq!(r.crawl_delay("somebot"), None);
    }

    #[test]
    fn several_agents_share_one_group() {
        let r = Robots::parse(
            b"User-agent: a\nUser-agent: HARK\nDisallow: /x\nUser-agent: b\nDisallow: /y\n",
        );
        check(&r, HARK, &[("/x", false), ("/y", true)]);
        check(&r, "a", &[("/x", false)]);
        check(&r, "b", &[("/x", true), ("/y", false)]);
    }

    #[test]
    fn product_token_matching() {
        assert_eq!(product_token(HARK), "hark");
        assert_eq!(product_token("  Googlebot-News/1"), "Googlebot-News");
        assert_eq!(product_token("/x"), "");
        let r = Robots::parse(b"User-agent: hark-extra\nDisallow: /\n");
        // Token match is exact, not a prefix match.
        check(&r, HARK, &[("/", true)]);
        // An empty crawler token only gets the `*` groups.
        let r = Robots::parse(b"User-agent: *\nDisallow: /s\n");
        check(&r, "", &[("/s", false), ("", true)]);
    }

    #[test]
    fn tolerant_syntax() {
        let r = Robots::parse(
            b"\xef\xbb\xbf  USERAGENT : hark # us\r\n\r\nDissallow:/a # no\r  allow :/a/b\r\n\
              user agent: other\ndisallow: /z\nrandom-key: /b\nSITE-MAP: https://e.x/s.xml\n\
              Disallow /nocolon\n",
        );
        check(
            &r,
            HARK,
            &[
                ("/a", false),
                ("/a/b", true),
                ("/b", true),
                ("/nocolon", true),
            ],
        );
        check(&r, "other", &[("/z", false), ("/a", true)]);
        assert_eq!(r.sitemaps(), ["https://e.x/s.xml"]);
        // Rules before any user-agent line are ignored.
        let r = Robots::parse(b"Disallow: /\nCrawl-delay: 9\n");
        check(&r, HARK, &[("/", true)]);
        assert_eq!(r.crawl_delay(HARK), None);
    }

    #[test]
    fn crawl_delay_values() {
        let delay = |v: &str| {
            Robots::parse(format!("User-agent: *\nCrawl-delay: {v}\n").as_bytes()).crawl_delay(HARK)
        };
        assert_eq!(delay("10"), Some(Duration::from_secs(10)));
        assert_eq!(delay("0.5"), Some(Duration::from_millis(500)));
        assert_eq!(delay("3 seconds"), Some(Duration::from_secs(3)));
        assert_eq!(delay("-1"), None);
        assert_eq!(delay("NaN"), None);
        assert_eq!(delay("inf"), None);
        assert_eq!(delay("1e300"), None);
        assert_eq!(delay("soon"), None);
    }

    #[test]
    fn only_first_500_kib_is_parsed() {
        let mut body = b"User-agent: *\n".to_vec();
        while body.len() < MAX_ROBOTS_BYTES {
            body.extend_from_slice(b"Disallow: /filler\n");
        }
        body.extend_from_slice(b"Disallow: /late\n");
        let r = Robots::parse(&body);
        check(&r, HARK, &[("/filler", false), ("/late", true)]);
    }

    #[test]
    fn url_helper_uses_path_and_query() {
        let r = Robots::parse(b"User-agent: *\nDisallow: /*?sort=\n");
        let url = url::Url::parse("https://e.x/a/b?sort=new#frag").unwrap();
        assert!(!r.is_allowed_url(HARK, &url));
        let url = url::Url::parse("https://e.x/a/b#?sort=").unwrap();
        assert!(r.is_allowed_url(HARK, &url));
    }

    #[test]
    fn garbage_never_panics() {
        const ALPHABET: &[u8] =
            b"User-agent:*Disallow:Allow:/$%2A%zz\n\r#Crawl-delay: 1.5Sitemap\xff\xfe\xc3\xa9<\t ";
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..2000 {
            let len = (next() % 400) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    let r = next();
                    if round % 3 == 0 {
                        r as u8
                    } else {
                        ALPHABET[(r % ALPHABET.len() as u64) as usize]
                    }
                })
                .collect();
            let r = Robots::parse(&bytes);
            let path_len = (next() % 40) as usize;
            let path: Vec<u8> = (0..path_len)
                .map(|_| ALPHABET[(next() % ALPHABET.len() as u64) as usize])
                .collect();
            let path = String::from_utf8_lossy(&path);
            let _ = r.is_allowed(HARK, &path);
            let _ = r.is_allowed(&String::from_utf8_lossy(&bytes), &path);
            let _ = r.crawl_delay(HARK);
        }
    }

    /// `cargo test --release robots::tests::bench -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn bench() {
        let Some(r) = fixture("www.google.com.robots.txt") else {
            return;
        };
        let paths = [
            "/search?q=x",
            "/maps/d/viewer",
            "/books?id=1&q=x",
            "/some/long/article/path-here",
        ];
        let start = std::time::Instant::now();
        let n = 1_000_000;
        let mut allowed = 0;
        for i in 0..n {
            allowed += usize::from(r.is_allowed(HARK, paths[i % paths.len()]));
        }
        let per = start.elapsed() / n as u32;
        eprintln!("is_allowed on google.com (~250 rules): {per:?}/call ({allowed})");
        let Some(body) = crate::testdata::fixture_bytes("robots/github.com.robots.txt") else {
            return;
        };
        let start = std::time::Instant::now();
        for _ in 0..1000 {
            std::hint::black_box(Robots::parse(&body));
        }
        eprintln!(
            "parse github.com (31 KB): {:?}/parse",
            start.elapsed() / 1000
        );
    }
}
