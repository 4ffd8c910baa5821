//! `kind = "googleplay"`: Google Play reviews of the apps in `apps` (package names), per
//! storefront in `countries` (default `us`), in `language` (default `en`).
//!
//! Google offers no public reviews API for other people's apps (the Play Developer API only
//! serves an app's own developer, and only the last week), so hark asks the Play Store web
//! app's own endpoint the way the established open-source scrapers do (google-play-scraper
//! for Python and Node): `POST https://play.google.com/_/PlayStoreUi/data/batchexecute` with
//! the `UsvDTd` (reviews) call, sorted newest first, up to 199 reviews a page, continuing
//! with the page token the answer carries. The answer is `)]}'` followed by a JSON envelope
//! whose payload is itself JSON text; [`Api::decode`] unwraps it.
//!
//! It is an unofficial endpoint: no key, no published limits. hark polls it gently (one
//! request a second per source, one stream at a time) and reports a changed format as an
//! error of that stream ("no reviews payload"), never as "no reviews". Each review keeps its
//! star rating (`engagement.rating`) and its "helpful" count as `likes`. Ids are
//! `googleplay:<review id>` (`gp:…`); the link opens the review on the app's page.
//! Developer replies are not collected (they are the brand's own words).

use super::api::{Api, ApiRequest, Page, PageQuery, ShapeError, Stream, enc, pick};
use super::settings::{CheckContext, KindConfig, PAGING_KEYS, SourceConfig};
use super::{BuildError, Source};
use crate::fields::{FieldError, clean_names};
use crate::mention::{Engagement, Mention};
use chrono::{TimeZone, Utc};
use serde::Deserialize;
use serde_json::{Value, json};
use std::time::Duration;

/// `kind = "googleplay"` settings.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GooglePlayConfig {
    /// Package names (the `id=` of the app's URL).
    #[serde(default)]
    pub apps: Vec<String>,
    /// Storefront countries (default `us`).
    #[serde(default)]
    pub countries: Vec<String>,
    /// The language reviews are asked in (default `en`).
    pub language: Option<String>,
}

impl KindConfig for GooglePlayConfig {
    const NAME: &'static str = "googleplay";
    const PAGING: &'static [&'static str] = PAGING_KEYS;

    fn check(&mut self, _: &CheckContext<'_>) -> Result<(), FieldError> {
        clean_names(&mut self.apps, "");
        self.apps = self
            .apps
            .iter()
            .map(|a| package_name(a))
            .collect::<Result<_, _>>()?;
        if let Some(l) = &mut self.language {
            *l = l.trim().to_string();
        }
        super::settings::check_countries(&mut self.countries)
    }

    fn build(&self, c: &SourceConfig, terms: Vec<String>) -> Result<Box<dyn Source>, BuildError> {
        Ok(super::api_source(GooglePlay::new(c, self)?, c, terms))
    }
}

const BASE: &str = "https://play.google.com";
/// The reviews call of the Play Store web app.
const RPC: &str = "UsvDTd";
/// Most reviews one call returns.
const MAX_PAGE: usize = 199;
/// Sort order "newest".
const SORT_NEWEST: u8 = 2;

pub struct GooglePlay {
    apps: Vec<String>,
    countries: Vec<String>,
    language: String,
}

impl GooglePlay {
    pub fn new(_config: &SourceConfig, s: &GooglePlayConfig) -> Result<GooglePlay, BuildError> {
        let apps: Vec<String> = s
            .apps
            .iter()
            .map(|a| package_name(a))
            .collect::<Result<_, _>>()?;
        if apps.is_empty() {
            return Err(BuildError::Settings("`apps` is empty: list the Google Play package names to follow (the `id=` of the app's URL, e.g. apps = [\"com.twitter.android\"])".into()));
        }
        let countries = if s.countries.is_empty() {
            vec!["us".to_string()]
        } else {
            s.countries.clone()
        };
        let language = s
            .language
            .clone()
            .filter(|l| !l.is_empty())
            .unwrap_or_else(|| "en".into());
        Ok(GooglePlay {
            apps,
            countries,
            language,
        })
    }
}

/// A package name from `com.example.app` or the app's Play Store URL (`…?id=com.example.app`).
fn package_name(s: &str) -> Result<String, FieldError> {
    let s = s.trim();
    let name = match url::Url::parse(s) {
        Ok(u) => u
            .query_pairs()
            .find(|(k, _)| k == "id")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default(),
        Err(_) => s.to_string(),
    };
    let ok = name.contains('.')
        && name
            .split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
    if ok {
        Ok(name)
    } else {
        Err(FieldError::invalid(
            "apps",
            format!(
                "`apps`: `{s}` is not a Google Play package name (the `id=` of the app's URL, e.g. \"com.twitter.android\")"
            ),
        ))
    }
}

/// The `f.req` form body of one reviews call.
fn request_body(app: &str, count: usize, token: Option<&str>) -> String {
    let inner = json!([
        null,
        null,
        [2, SORT_NEWEST, [count, null, token], null, []],
        [app, 7]
    ]);
    let outer = json!([[[RPC, inner.to_string(), null, "generic"]]]);
    format!("f.req={}", enc(&outer.to_string()))
}

/// The reviews call's payload from a `batchexecute` answer: `)]}'`, then one JSON envelope
/// (or, in the chunked variant, lengths and envelopes in turn) holding
/// `["wrb.fr", "UsvDTd", "<payload as JSON text>", …]`.
pub fn unwrap_batchexecute(body: &[u8], rpc: &str) -> Result<Value, ShapeError> {
    let text = std::str::from_utf8(body).map_err(|_| "the answer is not UTF-8")?;
    let text = text.trim_start().strip_prefix(")]}'").unwrap_or(text);
    let mut error = None;
    for value in serde_json::Deserializer::from_str(text).into_iter::<Value>() {
        let value =
            value.map_err(|e| ShapeError::Unexpected(format!("the envelope is not JSON: {e}")))?;
        for entry in value.as_array().into_iter().flatten() {
            let Some(e) = entry.as_array() else { continue };
            match (
                e.first().and_then(Value::as_str),
                e.get(1).and_then(Value::as_str),
            ) {
                (Some("wrb.fr"), Some(id)) if id == rpc => {
                    return match e.get(2) {
                        Some(Value::String(payload)) => {
                            serde_json::from_str(payload).map_err(|e| {
                                ShapeError::Unexpected(format!(
                                    "the reviews payload is not JSON: {e}"
                                ))
                            })
                        }
                        _ => Err(ShapeError::Unexpected(format!(
                            "Google Play answered the `{rpc}` call without data (unknown app, or the request format changed)"
                        ))),
                    };
                }
                (Some("er"), _) => {
                    error = Some(ShapeError::Unexpected(format!(
                        "Google Play error: {entry}"
                    )))
                }
                _ => {}
            }
        }
    }
    Err(error.unwrap_or_else(|| {
        ShapeError::Unexpected(format!("no `{rpc}` (reviews) payload in the answer"))
    }))
}

impl Api for GooglePlay {
    fn kind(&self) -> &'static str {
        "googleplay"
    }

    fn streams(&self, _terms: &[String]) -> Vec<Stream> {
        super::api::storefront_streams(&self.countries, &self.apps)
    }

    fn request(&self, q: &PageQuery<'_>) -> Result<ApiRequest, ShapeError> {
        let (cc, app) = super::api::storefront(q.stream)?;
        Ok(ApiRequest::post(
            format!(
                "{BASE}/_/PlayStoreUi/data/batchexecute?hl={}&gl={}",
                enc(&self.language),
                enc(cc)
            ),
            "application/x-www-form-urlencoded;charset=UTF-8",
            request_body(app, q.page_size.clamp(1, MAX_PAGE), q.page),
        ))
    }

    fn decode(&self, body: &[u8]) -> Result<Value, ShapeError> {
        unwrap_batchexecute(body, RPC)
    }

    fn min_spacing(&self) -> Option<Duration> {
        Some(Duration::from_secs(1))
    }

    fn parse(&self, q: &PageQuery<'_>, body: &Value) -> Result<Page, ShapeError> {
        let (_, app) = super::api::storefront(q.stream)?;
        let mut page = Page::default();
        // An app without reviews answers `[null, …]` or `[]`.
        let reviews = match body.get(0) {
            None | Some(Value::Null) => return Ok(page),
            Some(Value::Array(a)) => a,
            Some(_) => return Err("the reviews payload is not a list".into()),
        };
        page.map_items("review", reviews, |r| map_review(r, app), |_, _| None);
        if !reviews.is_empty() {
            page.next = next_token(body);
        }
        Ok(page)
    }
}

/// The next page's token: `[null, "TOKEN"]` after the reviews list. Recorded answers put
/// it last (`[reviews, [null, token]]`); later ones add an element after it, which is why
/// google-play-scraper reads `[-2][-1]`. The first such pair after the list is taken.
fn next_token(payload: &Value) -> Option<String> {
    payload
        .as_array()?
        .iter()
        .skip(1)
        .filter_map(Value::as_array)
        .find_map(|pair| match pair.as_slice() {
            [Value::Null, .., Value::String(t)] if !t.is_empty() => Some(t.clone()),
            _ => None,
        })
}

fn map_review(r: &Value, app: &str) -> Result<Mention, ShapeError> {
    let id = pick::need(pick::str_at(r, "/0"), "review id")?;
    let secs = pick::need(r.pointer("/5/0").and_then(Value::as_i64), "time")?;
    let published_at = pick::need(Utc.timestamp_opt(secs, 0).single(), "time")?;
    let rating = pick::u64_at(r, "/2")
        .filter(|s| (1..=5).contains(s))
        .map(|s| s as u8);
    let rating = pick::need(rating, "rating")?;
    Ok(Mention {
        url: Some(format!(
            "https://play.google.com/store/apps/details?id={}&reviewId={}",
            enc(app),
            enc(&id)
        )),
        author: pick::str_at(r, "/1/0"),
        // A rating without words is still a review: its stars carry the sentiment.
        text: pick::str_at(r, "/4").unwrap_or_default(),
        engagement: Engagement {
            likes: pick::u64_at(r, "/6"),
            rating: Some(rating),
            ..Default::default()
        },
        ..Mention::new(format!("googleplay:{id}"), published_at)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECORDED: &str =
        "googleplay/batchexecute_UsvDTd_com.twitter.android_most-relevant_40reviews_2021.txt";

    #[test]
    fn package_names_in_every_form() {
        assert_eq!(
            package_name("com.twitter.android").unwrap(),
            "com.twitter.android"
        );
        assert_eq!(
            package_name("https://play.google.com/store/apps/details?id=com.whatsapp&hl=en")
                .unwrap(),
            "com.whatsapp"
        );
        assert!(package_name("twitter").is_err());
        assert!(package_name("com..x").is_err());
    }

    #[test]
    fn the_request_is_the_scrapers_form_body() {
        let body = request_body("com.x", 100, None);
        let decoded: String = url::form_urlencoded::parse(body.as_bytes())
            .find(|(k, _)| k == "f.req")
            .unwrap()
            .1
            .into_owned();
        let outer: Value = serde_json::from_str(&decoded).unwrap();
        assert_eq!(outer[0][0][0], "UsvDTd");
        let inner: Value = serde_json::from_str(outer[0][0][1].as_str().unwrap()).unwrap();
        assert_eq!(
            inner,
            json!([
                null,
                null,
                [2, 2, [100, null, null], null, []],
                ["com.x", 7]
            ])
        );
        let next = request_body("com.x", 100, Some("TOKEN"));
        assert!(next.contains("TOKEN"));
    }

    #[test]
    fn maps_recorded_reviews() {
        let Some(bytes) = crate::testdata::fixture_bytes(RECORDED) else {
            return;
        };
        let api = GooglePlay {
            apps: vec!["com.twitter.android".into()],
            countries: vec!["us".into()],
            language: "en".into(),
        };
        let body = api.decode(&bytes).unwrap();
        let s = Stream::new("reviews", "us/com.twitter.android");
        let p = api.parse(&PageQuery::first_page(&s), &body).unwrap();
        assert_eq!(p.items.len(), 40);
        assert!(p.skipped.is_empty(), "{:?}", p.skipped);
        assert!(p.next.as_deref().is_some_and(|t| t.starts_with("CsIBCr8B")));
        let m = &p.items[1];
        let id = "gp:AOqpTOEAwZX1e7CUex4D06PVP2O7i9ENYHktm-BqxQUyEtyOuPyXioDPQm7tuB7N7wEVIhwUHxxfu65kXETAXw";
        assert_eq!(m.id, format!("googleplay:{id}"));
        assert_eq!(m.author.as_deref(), Some("Crazy Diamond"));
        assert_eq!(m.engagement.rating, Some(2));
        assert_eq!(m.engagement.likes, Some(2092));
        assert_eq!(m.published_at.timestamp(), 1610165728);
        assert!(m.text.starts_with("Twitter is just very buggy application"));
        assert!(m.text.contains("\"Twitter isn't responding\""));
        assert_eq!(
            m.url.as_deref(),
            Some(format!("https://play.google.com/store/apps/details?id=com.twitter.android&reviewId=gp%3A{}", &id[3..]).as_str())
        );
    }

    #[test]
    fn the_next_token_in_either_layout() {
        let old = json!([[["gp:1"]], [null, "TOK"]]);
        assert_eq!(next_token(&old).as_deref(), Some("TOK"));
        let newer = json!([[["gp:1"]], [null, "TOK2"], [true, 1]]);
        assert_eq!(next_token(&newer).as_deref(), Some("TOK2"));
        assert_eq!(next_token(&json!([[["gp:1"]], null])), None);
        assert_eq!(next_token(&json!([[["gp:1"]]])), None);
    }

    #[test]
    fn envelopes_that_carry_no_reviews_are_errors_not_empty_pages() {
        let api = GooglePlay {
            apps: vec![],
            countries: vec![],
            language: "en".into(),
        };
        // No data for the call: an error, never "no reviews".
        let e = api
            .decode(
                br#")]}'

[["wrb.fr","UsvDTd",null,null,null,[3],"generic"],["di",20]]"#,
            )
            .unwrap_err()
            .to_string();
        assert!(e.contains("without data"), "{e}");
        assert!(api.decode(b"<html>sorry</html>").is_err());
        // The chunked variant: lengths between envelopes.
        let chunked = b")]}'\n\n58\n[[\"wrb.fr\",\"UsvDTd\",\"[null,[null,null]]\",null,null,null,\"generic\"]]\n25\n[[\"di\",20]]";
        let v = api.decode(chunked).unwrap();
        let s = Stream::new("reviews", "us/com.x");
        let p = api.parse(&PageQuery::first_page(&s), &v).unwrap();
        assert!(p.items.is_empty() && p.next.is_none());
    }
}
