//! Credentials kept out of logs, errors, summaries and API answers.
//!
//! Secrets reach hark in three shapes, and each has one way out to text:
//! - **values read from the environment** (API tokens and keys, the SMTP password, webhook
//!   signing secrets, the server's API token) are held as [`Secret`], whose `Display` and
//!   `Debug` print `[redacted]`; the value is read only where it is sent;
//! - **credentials inside request URLs** (YouTube's `key=`, VK's `access_token=`, any
//!   `token`, `signature`, `password`… parameter, and `user:password@`) are masked by
//!   [`url`] wherever a URL is logged or put into an error;
//! - **webhook URLs**, whose path *is* the credential (Slack `/services/T…/B…/XXXX`,
//!   Discord `/api/webhooks/ID/TOKEN`, Teams `webhook.office.com/…`): [`webhook`] shows the
//!   scheme and host only.

use std::fmt;
use url::Url;

/// A credential: prints as `[redacted]`; [`Secret::expose`] gives the value to the code
/// that sends it.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Secret {
        Secret(s.to_string())
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Secret {
        Secret(s)
    }
}

/// Query parameter names whose values are credentials (compared lower-case, `-` as `_`).
const CREDENTIAL_PARAMS: &[&str] = &[
    "key",
    "api_key",
    "apikey",
    "access_token",
    "refresh_token",
    "id_token",
    "token",
    "auth",
    "authorization",
    "client_secret",
    "secret",
    "password",
    "passwd",
    "pass",
    "pwd",
    "sig",
    "signature",
    "session",
    "sessionid",
    "x_amz_signature",
    "x_amz_credential",
    "x_amz_security_token",
    "code",
];

fn is_credential_param(name: &str) -> bool {
    let n = name.to_ascii_lowercase().replace('-', "_");
    CREDENTIAL_PARAMS.contains(&n.as_str()) || n.ends_with("_token") || n.ends_with("_key")
}

/// A Telegram Bot API path segment, `bot<digits>:<secret>`: the bot's token.
fn is_bot_token_segment(seg: &str) -> bool {
    seg.strip_prefix("bot")
        .and_then(|t| t.split_once(':'))
        .is_some_and(|(id, secret)| {
            !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) && !secret.is_empty()
        })
}

/// `u` with credential query values, a Telegram bot token in the path and any
/// `user:password@` replaced by `REDACTED`.
pub fn url(u: &Url) -> String {
    let has_cred_param = u.query_pairs().any(|(k, _)| is_credential_param(&k));
    let has_bot_token = u
        .path_segments()
        .is_some_and(|mut s| s.any(is_bot_token_segment));
    if !has_cred_param && !has_bot_token && u.password().is_none() && u.username().is_empty() {
        return u.to_string();
    }
    let mut r = u.clone();
    if has_bot_token {
        let path: Vec<String> = u
            .path_segments()
            .into_iter()
            .flatten()
            .map(|s| {
                if is_bot_token_segment(s) {
                    "botREDACTED".to_string()
                } else {
                    s.to_string()
                }
            })
            .collect();
        r.set_path(&path.join("/"));
    }
    if !r.username().is_empty() {
        let _ = r.set_username("REDACTED");
    }
    if r.password().is_some() {
        let _ = r.set_password(Some("REDACTED"));
    }
    if has_cred_param {
        let pairs: Vec<(String, String)> = u
            .query_pairs()
            .map(|(k, v)| {
                let v = if is_credential_param(&k) {
                    "REDACTED".to_string()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        r.query_pairs_mut().clear().extend_pairs(pairs);
    }
    r.to_string()
}

/// [`url`] for a URL held as text (one that does not parse is shown without its query).
pub fn url_str(s: &str) -> String {
    match Url::parse(s) {
        Ok(u) => url(&u),
        Err(_) => s.split('?').next().unwrap_or("").to_string(),
    }
}

/// A webhook URL as it may be shown: scheme, host and port, the path (which carries the
/// token) elided.
pub fn webhook(s: &str) -> String {
    match Url::parse(s) {
        Ok(u) => {
            let mut out = format!("{}://{}", u.scheme(), u.host_str().unwrap_or(""));
            if let Some(p) = u.port() {
                out.push_str(&format!(":{p}"));
            }
            if u.path() != "/" || u.query().is_some() {
                out.push_str("/…");
            }
            out
        }
        Err(_) => "[unparseable URL]".to_string(),
    }
}

/// Removes every occurrence of the secrets' values from `text` (an error message from a
/// library that quoted a request, say).
pub fn scrub(text: &str, secrets: &[&Secret]) -> String {
    let mut out = text.to_string();
    for s in secrets {
        if s.0.len() >= 4 {
            out = out.replace(s.expose(), "[redacted]");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_credentials_are_masked() {
        let u = Url::parse(
            "https://www.googleapis.com/youtube/v3/search?part=snippet&q=acme&key=AIzaSECRET",
        )
        .unwrap();
        let r = url(&u);
        assert!(!r.contains("AIzaSECRET"), "{r}");
        assert!(r.contains("q=acme") && r.contains("key=REDACTED"), "{r}");
        let vk = Url::parse(
            "https://api.vk.com/method/newsfeed.search?q=x&access_token=vk1.a.SECRET&v=5.199",
        )
        .unwrap();
        assert!(!url(&vk).contains("SECRET"));
        let basic = Url::parse("https://bob:hunter2@example.com/feed").unwrap();
        assert!(!url(&basic).contains("hunter2") && !url(&basic).contains("bob"));
        let plain = Url::parse("https://example.com/a?page=2").unwrap();
        assert_eq!(url(&plain), "https://example.com/a?page=2");
        let bot = Url::parse(
            "https://api.telegram.org/bot123456:AAH-Secret_x/getUpdates?offset=5&timeout=0",
        )
        .unwrap();
        assert_eq!(
            url(&bot),
            "https://api.telegram.org/botREDACTED/getUpdates?offset=5&timeout=0"
        );
        let not_a_token = Url::parse("https://example.com/bots/robot:x").unwrap();
        assert_eq!(url(&not_a_token), "https://example.com/bots/robot:x");
    }

    #[test]
    fn webhook_paths_are_hidden() {
        assert_eq!(
            webhook("https://hooks.slack.com/services/T000/B000/XXXXSECRET"),
            "https://hooks.slack.com/…"
        );
        assert_eq!(
            webhook("http://127.0.0.1:9000/hook?token=abc"),
            "http://127.0.0.1:9000/…"
        );
    }

    #[test]
    fn secrets_print_redacted() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s} {s:?}"), "[redacted] [redacted]");
        assert_eq!(s.expose(), "hunter2");
        assert_eq!(
            scrub("auth failed for hunter2", &[&s]),
            "auth failed for [redacted]"
        );
    }
}
