//! URL canonicalisation, so that one page is one mention: the crawler keys its frontier, its
//! state and mention ids on the canonical form.
//!
//! - only `http` and `https`; scheme and host lower-cased, default ports and dot segments
//!   removed (the `url` crate's parser does these);
//! - the fragment is dropped;
//! - tracking parameters (`utm_*`, `fbclid`, `gclid`, `mc_cid`, ...) and session ids
//!   (`PHPSESSID`, `jsessionid`, `sid`/`s` as 32-hex tokens of phpBB and vBulletin, `;jsessionid=`
//!   path parameters) are removed: they make endless distinct URLs for the same page, a
//!   classic crawler trap;
//! - the remaining query parameters are sorted (stable for equal names), and an empty query is
//!   dropped.
//!
//! The page's `<link rel=canonical>` is honoured by the crawler on top of this.

use url::Url;

/// Query parameters that never change what a page shows.
const TRACKING: &[&str] = &[
    "fbclid",
    "gclid",
    "dclid",
    "gbraid",
    "wbraid",
    "msclkid",
    "yclid",
    "mc_cid",
    "mc_eid",
    "igshid",
    "_ga",
    "_gl",
    "_hsenc",
    "_hsmi",
    "mkt_tok",
    "oly_anon_id",
    "oly_enc_id",
    "vero_id",
    "spm",
    "ref_src",
    "cmpid",
    "phpsessid",
    "jsessionid",
    "sessionid",
    "session_id",
    "sessid",
    "cfid",
    "cftoken",
    "aspsessionid",
];

fn is_hex32(v: &str) -> bool {
    v.len() == 32 && v.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Whether a query parameter is tracking or a session id.
fn is_noise(name: &str, value: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.starts_with("utm_")
        || TRACKING.contains(&n.as_str())
        // phpBB's `sid` and vBulletin's `s` carry a 32-hex session id.
        || ((n == "sid" || n == "s") && is_hex32(value))
}

/// The canonical form of an absolute URL, or None for what the crawler never fetches
/// (other schemes, no host).
pub fn canonical(url: &Url) -> Option<Url> {
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return None;
    }
    let mut u = url.clone();
    u.set_fragment(None);
    // `;jsessionid=...` path parameters (Java servlets).
    let path = u.path().to_string();
    if let Some(i) = path.to_ascii_lowercase().find(";jsessionid=") {
        let rest = &path[i + 1..];
        let end = rest.find('/').map_or(path.len(), |j| i + 1 + j);
        let cleaned = format!("{}{}", &path[..i], &path[end..]);
        u.set_path(&cleaned);
    }
    if u.query().is_some() {
        let mut pairs: Vec<(String, String)> = u
            .query_pairs()
            .filter(|(k, v)| !is_noise(k, v))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        if pairs.is_empty() {
            u.set_query(None);
        } else {
            u.query_pairs_mut().clear().extend_pairs(pairs);
        }
    }
    Some(u)
}

/// Resolves `href` against `base` and canonicalises it; None for unusable links
/// (`javascript:`, `mailto:`, malformed).
pub fn resolve(base: &Url, href: &str) -> Option<Url> {
    let href = href.trim();
    if href.is_empty() || href.starts_with('#') {
        return None;
    }
    canonical(&base.join(href).ok()?)
}

/// A scope rule of the `allow` setting: a domain (`example.com`, which also covers its
/// subdomains) or a URL prefix (`https://example.com/forum/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Allow {
    Domain(String),
    Prefix(String),
}

/// An `allow` rule that is neither a domain nor an http(s) URL prefix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AllowError {
    #[error("`{rule}`: {message}")]
    BadUrl { rule: String, message: String },
    #[error("`{0}`: only http(s) URLs")]
    NotHttp(String),
    #[error(
        "`{0}` is neither a domain (example.com) nor a URL prefix (https://example.com/forum/)"
    )]
    Neither(String),
}

impl Allow {
    pub fn parse(s: &str) -> Result<Allow, AllowError> {
        let s = s.trim();
        if s.contains("://") {
            let u = Url::parse(s).map_err(|e| AllowError::BadUrl {
                rule: s.into(),
                message: e.to_string(),
            })?;
            let c = canonical(&u).ok_or_else(|| AllowError::NotHttp(s.into()))?;
            Ok(Allow::Prefix(c.as_str().to_string()))
        } else if !s.is_empty() && !s.contains('/') {
            Ok(Allow::Domain(
                s.trim_start_matches('.').to_ascii_lowercase(),
            ))
        } else {
            Err(AllowError::Neither(s.into()))
        }
    }

    pub fn covers(&self, url: &Url) -> bool {
        match self {
            Allow::Domain(d) => url.host_str().is_some_and(|h| {
                let h = h.to_ascii_lowercase();
                h == *d || (h.ends_with(d.as_str()) && h[..h.len() - d.len()].ends_with('.'))
            }),
            Allow::Prefix(p) => url.as_str().starts_with(p.as_str()),
        }
    }
}

/// Signs of a crawler trap in a URL: very long, very many parameters, or a path segment
/// repeated many times (`/a/b/a/b/a/b/...`).
pub fn looks_like_trap(url: &Url) -> bool {
    if url.as_str().len() > 1024 || url.query_pairs().count() > 12 {
        return true;
    }
    let segs: Vec<&str> = url.path().split('/').filter(|s| !s.is_empty()).collect();
    if segs.len() > 20 {
        return true;
    }
    let mut counts = std::collections::HashMap::new();
    segs.iter().any(|s| {
        let c = counts.entry(*s).or_insert(0);
        *c += 1;
        *c > 3
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> String {
        canonical(&Url::parse(s).unwrap())
            .map(|u| u.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn canonical_forms() {
        assert_eq!(
            c("HTTP://Example.COM:80/a/./b/../c?utm_source=x&b=2&a=1#frag"),
            "http://example.com/a/c?a=1&b=2"
        );
        assert_eq!(
            c("https://example.com:443/?utm_medium=y"),
            "https://example.com/"
        );
        assert_eq!(
            c("https://f.example/viewtopic.php?t=5&sid=0123456789abcdef0123456789abcdef"),
            "https://f.example/viewtopic.php?t=5"
        );
        assert_eq!(
            c("https://f.example/showthread.php?s=0123456789abcdef0123456789abcdef&t=9"),
            "https://f.example/showthread.php?t=9"
        );
        // A short `s` is a real parameter (a search), kept.
        assert_eq!(
            c("https://f.example/search?s=acme"),
            "https://f.example/search?s=acme"
        );
        assert_eq!(
            c("https://j.example/app/page;jsessionid=ABC123?x=1"),
            "https://j.example/app/page?x=1"
        );
        assert_eq!(c("mailto:a@b.c"), "");
        assert_eq!(c("ftp://example.com/x"), "");
    }

    #[test]
    fn resolve_and_scope() {
        let base = Url::parse("https://blog.example.com/2026/post.html").unwrap();
        assert_eq!(
            resolve(&base, "../about?fbclid=1").unwrap().as_str(),
            "https://blog.example.com/about"
        );
        assert!(resolve(&base, "javascript:void(0)").is_none());
        assert!(resolve(&base, "#top").is_none());
        let d = Allow::parse("example.com").unwrap();
        assert!(d.covers(&base));
        assert!(!d.covers(&Url::parse("https://badexample.com/").unwrap()));
        let p = Allow::parse("https://blog.example.com/2026/").unwrap();
        assert!(p.covers(&base));
        assert!(!p.covers(&Url::parse("https://blog.example.com/2025/x").unwrap()));
        assert!(Allow::parse("example.com/forum").is_err());
    }

    #[test]
    fn traps() {
        assert!(looks_like_trap(
            &Url::parse("https://e.com/cal/2026/cal/2027/cal/2028/cal/2029/cal/x").unwrap()
        ));
        assert!(!looks_like_trap(
            &Url::parse("https://e.com/forum/t/acme-outage/123?page=2").unwrap()
        ));
    }
}
