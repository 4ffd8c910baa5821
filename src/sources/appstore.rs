//! `kind = "appstore"`: App Store customer reviews of the apps in `apps`, per storefront in
//! `countries` (default `us`), from Apple's public customer-reviews feed
//! (`https://itunes.apple.com/{country}/rss/customerreviews/page={n}/id={app}/sortby=mostrecent/json`;
//! no key).
//!
//! One stream per app and country. The feed is newest first, 50 reviews a page, and Apple
//! serves at most 10 pages (the 500 newest reviews); it has no time filter, so a poll walks
//! pages until it reaches reviews at or before the cursor. Each review keeps its star rating
//! (`engagement.rating`, 1–5), which sentiment takes into account (see
//! `sentiment::rating`), and its helpful votes as `likes`. Ids are `appstore:<review id>`.
//!
//! The feed's first entry used to be the app itself (no rating): such entries are not
//! reviews and are left out.

use super::api::{Api, ApiRequest, Page, PageQuery, ShapeError, Stream, pick};
use super::settings::{CheckContext, KindConfig, PAGES_AND_BACKFILL, SourceConfig};
use super::{BuildError, Source};
use crate::fields::{FieldError, clean_names};
use crate::mention::{Engagement, Mention};
use serde::Deserialize;
use serde_json::Value;

/// `kind = "appstore"` settings.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppStoreConfig {
    /// App ids (the digits after `id` in the app's URL).
    #[serde(default)]
    pub apps: Vec<String>,
    /// Storefront countries (default `us`).
    #[serde(default)]
    pub countries: Vec<String>,
}

impl KindConfig for AppStoreConfig {
    const NAME: &'static str = "appstore";
    const PAGING: &'static [&'static str] = PAGES_AND_BACKFILL;

    fn check(&mut self, _: &CheckContext<'_>) -> Result<(), FieldError> {
        clean_names(&mut self.apps, "");
        self.apps = self
            .apps
            .iter()
            .map(|a| app_id(a))
            .collect::<Result<_, _>>()?;
        super::settings::check_countries(&mut self.countries)
    }

    fn build(&self, c: &SourceConfig, terms: Vec<String>) -> Result<Box<dyn Source>, BuildError> {
        Ok(super::api_source(AppStore::new(c, self)?, c, terms))
    }
}

const BASE: &str = "https://itunes.apple.com";
/// Apple serves pages 1 to 10.
const LAST_PAGE: u64 = 10;
/// Reviews per page.
const PAGE_SIZE: usize = 50;

pub struct AppStore {
    apps: Vec<String>,
    countries: Vec<String>,
}

impl AppStore {
    pub fn new(_config: &SourceConfig, s: &AppStoreConfig) -> Result<AppStore, BuildError> {
        let apps: Vec<String> = s.apps.iter().map(|a| app_id(a)).collect::<Result<_, _>>()?;
        if apps.is_empty() {
            return Err(BuildError::Settings("`apps` is empty: list the App Store app ids to follow (the digits after `id` in the app's URL, e.g. apps = [\"284815942\"])".into()));
        }
        let countries = if s.countries.is_empty() {
            vec!["us".to_string()]
        } else {
            s.countries.clone()
        };
        Ok(AppStore { apps, countries })
    }
}

/// An app id from `284815942`, `id284815942` or the app's URL.
fn app_id(s: &str) -> Result<String, FieldError> {
    let tail = s.trim().trim_end_matches('/');
    let tail = tail
        .rsplit('/')
        .next()
        .unwrap_or(tail)
        .split('?')
        .next()
        .unwrap_or("");
    let digits = tail.trim_start_matches("id");
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(digits.to_string())
    } else {
        Err(FieldError::invalid(
            "apps",
            format!(
                "`apps`: `{s}` is not an App Store app id (the digits after `id` in the app's URL, e.g. \"284815942\")"
            ),
        ))
    }
}

impl Api for AppStore {
    fn kind(&self) -> &'static str {
        "appstore"
    }

    fn streams(&self, _terms: &[String]) -> Vec<Stream> {
        super::api::storefront_streams(&self.countries, &self.apps)
    }

    fn request(&self, q: &PageQuery<'_>) -> Result<ApiRequest, ShapeError> {
        let (cc, app) = super::api::storefront(q.stream)?;
        let page = q.page.unwrap_or("1");
        Ok(ApiRequest::get(format!(
            "{BASE}/{cc}/rss/customerreviews/page={page}/id={app}/sortby=mostrecent/json"
        )))
    }

    fn parse(&self, q: &PageQuery<'_>, body: &Value) -> Result<Page, ShapeError> {
        let feed = body.get("feed").ok_or("no `feed` object")?;
        let (cc, app) = super::api::storefront(q.stream)?;
        // One entry comes as an object, several as an array, none as no `entry` at all.
        let entries: &[Value] = match feed.get("entry") {
            None | Some(Value::Null) => &[],
            Some(Value::Array(a)) => a,
            Some(one) => std::slice::from_ref(one),
        };
        // The app itself (no rating, a name) is not a review.
        let reviews: Vec<Value> = entries
            .iter()
            .filter(|e| e.get("im:rating").is_some() || e.get("im:name").is_none())
            .cloned()
            .collect();
        let mut page = Page::default();
        page.map_items("review", &reviews, |e| map_review(e, cc, app), |_, _| None);
        let current: u64 = q.page.and_then(|p| p.parse().ok()).unwrap_or(1);
        if entries.len() >= PAGE_SIZE && current < LAST_PAGE {
            page.next = Some((current + 1).to_string());
        }
        Ok(page)
    }
}

fn map_review(e: &Value, country: &str, app: &str) -> Result<Mention, ShapeError> {
    let id = pick::need(pick::str_at(e, "/id/label"), "id")?;
    let published_at = pick::need(pick::time_at(e, "/updated/label"), "updated")?;
    let rating = pick::u64_at(e, "/im:rating/label")
        .filter(|r| (1..=5).contains(r))
        .map(|r| r as u8);
    let rating = pick::need(rating, "im:rating")?;
    let text = pick::str_at(e, "/content/label").unwrap_or_default();
    let title = pick::str_at(e, "/title/label");
    if text.is_empty() && title.is_none() {
        return Err("neither `title` nor `content`".into());
    }
    Ok(Mention {
        url: Some(format!(
            "https://apps.apple.com/{country}/app/id{app}?see-all=reviews"
        )),
        author: pick::str_at(e, "/author/name/label"),
        title,
        text,
        engagement: Engagement {
            likes: pick::u64_at(e, "/im:voteSum/label"),
            rating: Some(rating),
            ..Default::default()
        },
        ..Mention::new(format!("appstore:{id}"), published_at)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_ids_in_every_form() {
        assert_eq!(app_id("284815942").unwrap(), "284815942");
        assert_eq!(app_id("id284815942").unwrap(), "284815942");
        assert_eq!(
            app_id("https://apps.apple.com/us/app/google/id284815942?l=en").unwrap(),
            "284815942"
        );
        assert!(app_id("com.google.app").is_err());
    }

    #[test]
    fn maps_recorded_reviews() {
        let Some(body) = crate::sources::api::fixture(
            "appstore",
            "customerreviews_json_us_id284815942_mostHelpful_2022-06.json",
        ) else {
            return;
        };
        let api = AppStore {
            apps: vec!["284815942".into()],
            countries: vec!["us".into()],
        };
        let s = Stream::new("reviews", "us/284815942");
        let p = api.parse(&PageQuery::first_page(&s), &body).unwrap();
        assert_eq!(p.items.len(), 50);
        assert!(p.skipped.is_empty(), "{:?}", p.skipped);
        assert_eq!(p.next.as_deref(), Some("2"));
        let m = &p.items[0];
        assert_eq!(m.id, "appstore:8044879566");
        assert_eq!(m.author.as_deref(), Some("Lantana, FL"));
        assert_eq!(m.title.as_deref(), Some("Usually interesting reading but"));
        assert!(
            m.text
                .starts_with("A huge bug is that when I click on that I’m not interested")
        );
        assert_eq!(m.published_at.to_rfc3339(), "2021-11-20T17:25:34+00:00");
        assert_eq!(m.engagement.rating, Some(4));
        assert_eq!(m.engagement.likes, Some(263));
        assert_eq!(
            m.url.as_deref(),
            Some("https://apps.apple.com/us/app/id284815942?see-all=reviews")
        );
        // Every star rating is kept.
        let ratings: std::collections::BTreeSet<u8> =
            p.items.iter().filter_map(|m| m.engagement.rating).collect();
        assert!(ratings.contains(&1) && ratings.contains(&5), "{ratings:?}");
    }

    #[test]
    fn single_entry_and_no_entry() {
        let api = AppStore {
            apps: vec!["1".into()],
            countries: vec!["us".into()],
        };
        let s = Stream::new("reviews", "us/1");
        let one = serde_json::json!({"feed": {"entry": {
            "id": {"label": "7"}, "updated": {"label": "2026-01-02T03:04:05-07:00"},
            "im:rating": {"label": "1"}, "content": {"label": "Crashes &amp; burns"},
            "author": {"name": {"label": "Ann"}}
        }}});
        let p = api.parse(&PageQuery::first_page(&s), &one).unwrap();
        assert_eq!(p.items.len(), 1);
        assert_eq!(p.items[0].engagement.rating, Some(1));
        assert_eq!(p.next, None);
        let none = serde_json::json!({"feed": {"id": {"label": "x"}}});
        assert!(
            api.parse(&PageQuery::first_page(&s), &none)
                .unwrap()
                .items
                .is_empty()
        );
        assert!(
            api.parse(&PageQuery::first_page(&s), &serde_json::json!({}))
                .is_err()
        );
        // A rating outside 1–5 is schema drift: that review is skipped.
        let bad = serde_json::json!({"feed": {"entry": [{
            "id": {"label": "8"}, "updated": {"label": "2026-01-02T03:04:05Z"},
            "im:rating": {"label": "9"}, "content": {"label": "x"}
        }]}});
        assert_eq!(
            api.parse(&PageQuery::first_page(&s), &bad)
                .unwrap()
                .skipped
                .len(),
            1
        );
    }
}
