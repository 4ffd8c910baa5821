//! What the `facebook` and `instagram` kinds share: Meta's Graph API (version, paging,
//! the usage headers that announce throttling, the token).
//!
//! Throttling: every Graph response says how much of the app's (`X-App-Usage`), the page's
//! (`X-Page-Usage`) or the business's (`X-Business-Use-Case-Usage`) hourly budget is used,
//! in percent, and, once throttled, `estimated_time_to_regain_access` in minutes. hark
//! pauses the source at 90 % (the rest of the hour's budget is left for the brand's other
//! tools) and for the announced time when there is one.

use super::api::pick;
use reqwest::header::HeaderMap;
use serde_json::Value;
use std::time::Duration;

/// The Graph API version hark speaks.
pub const GRAPH: &str = "https://graph.facebook.com/v19.0";

/// Usage at or above this share of the budget pauses the source.
const PAUSE_AT_PERCENT: f64 = 90.0;
/// How long to pause when the budget is nearly spent and no time is announced (the window
/// is a rolling hour).
const PAUSE: Duration = Duration::from_secs(10 * 60);

/// How long to pause after a response, from Meta's usage headers.
pub fn usage_wait(headers: &HeaderMap) -> Option<Duration> {
    let json = |name: &str| -> Option<Value> {
        serde_json::from_str(headers.get(name)?.to_str().ok()?).ok()
    };
    let mut wait: Option<Duration> = None;
    let mut consider = |usage: &Value| {
        let announced = pick::u64_at(usage, "/estimated_time_to_regain_access").unwrap_or(0);
        let used = ["call_count", "total_time", "total_cputime"]
            .iter()
            .filter_map(|k| usage.get(*k).and_then(Value::as_f64))
            .fold(0.0_f64, f64::max);
        let w = if announced > 0 {
            Some(Duration::from_secs(announced.saturating_mul(60)))
        } else if used >= PAUSE_AT_PERCENT {
            Some(PAUSE)
        } else {
            None
        };
        if let Some(w) = w {
            wait = Some(wait.map_or(w, |x| x.max(w)));
        }
    };
    for name in ["x-app-usage", "x-page-usage", "x-ad-account-usage"] {
        if let Some(v) = json(name) {
            consider(&v);
        }
    }
    // `{"<business id>": [{"type": "pages", "call_count": 28, …}, …]}`
    if let Some(Value::Object(by_business)) = json("x-business-use-case-usage") {
        for list in by_business.values() {
            for u in list.as_array().into_iter().flatten() {
                consider(u);
            }
        }
    }
    wait
}

/// The token of the next page: `paging.cursors.after` where `paging.next` says there is
/// one (`ptr` points at the `paging` object).
pub fn next_page(body: &Value, ptr: &str) -> Option<String> {
    let paging = body.pointer(ptr)?;
    paging.get("next")?;
    pick::str_at(paging, "/cursors/after")
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn usage_headers_pause_near_the_budget() {
        assert_eq!(
            usage_wait(&headers(&[(
                "x-app-usage",
                r#"{"call_count":28,"total_time":25,"total_cputime":25}"#
            )])),
            None
        );
        assert_eq!(
            usage_wait(&headers(&[(
                "x-app-usage",
                r#"{"call_count":95,"total_time":25,"total_cputime":25}"#
            )])),
            Some(PAUSE)
        );
        let buc = r#"{"112233": [{"type": "pages", "call_count": 100, "total_cputime": 40, "total_time": 30, "estimated_time_to_regain_access": 17}]}"#;
        assert_eq!(
            usage_wait(&headers(&[("x-business-use-case-usage", buc)])),
            Some(Duration::from_secs(17 * 60))
        );
        // An absurd announced time does not overflow (the poll then ends: longer than a poll waits).
        let huge = r#"{"1": [{"call_count": 100, "estimated_time_to_regain_access": 18446744073709551615}]}"#;
        assert!(usage_wait(&headers(&[("x-business-use-case-usage", huge)])).is_some());
        // Unreadable headers are ignored, not fatal.
        assert_eq!(usage_wait(&headers(&[("x-app-usage", "n/a")])), None);
    }

    #[test]
    fn next_page_needs_a_next_link() {
        let v: Value =
            serde_json::json!({"paging": {"cursors": {"after": "A"}, "next": "https://…"}});
        assert_eq!(next_page(&v, "/paging").as_deref(), Some("A"));
        let last: Value = serde_json::json!({"paging": {"cursors": {"after": "A"}}});
        assert_eq!(next_page(&last, "/paging"), None);
    }
}
