//! `kind = "trustpilot"`: reviews of the business units in `businesses`, from Trustpilot's
//! public Business Units API (`GET /v1/business-units/{id}/reviews`, newest first, up to 100
//! a page), with an API key.
//!
//! Credentials: `key_env` names the variable holding the API key (Trustpilot Business →
//! Integrations → API: create an application; the key is its "API key"), sent as the
//! `apikey` header. A business unit id is the 24-hex-digit id Trustpilot gives a company;
//! `GET https://api.trustpilot.com/v1/business-units/find?name=example.com` with the key
//! answers it for a domain.
//!
//! One stream per business unit. The API has no time filter: a poll walks pages until it
//! reaches reviews at or before the cursor. Each review keeps its stars
//! (`engagement.rating`), its likes ("useful") and its language. Ids are
//! `trustpilot:<review id>`; the link is the review's page. Company replies are not collected
//! (they are the brand's own words). The same mapping reads the review objects of
//! Trustpilot's web pages (`rating`, `dates.publishedDate`, `likes`), which older exports
//! and scrapers hold.

use super::api::{Api, ApiRequest, Page, PageQuery, ShapeError, Stream, enc, pick};
use super::settings::{KindConfig, PAGING_KEYS, SourceConfig};
use super::{BuildError, Source};
use crate::fields::EnvVar;
use crate::mention::{Engagement, Mention};
use serde::Deserialize;
use serde_json::Value;

/// `kind = "trustpilot"` settings.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustpilotConfig {
    /// Business unit ids (24 hex digits).
    #[serde(default)]
    pub businesses: Vec<String>,
    /// The environment variable holding the API key (required).
    pub key_env: Option<EnvVar>,
}

impl KindConfig for TrustpilotConfig {
    const NAME: &'static str = "trustpilot";
    const PAGING: &'static [&'static str] = PAGING_KEYS;

    fn build(&self, c: &SourceConfig, terms: Vec<String>) -> Result<Box<dyn Source>, BuildError> {
        Ok(super::api_source(Trustpilot::new(c, self)?, c, terms))
    }
}

const BASE: &str = "https://api.trustpilot.com";
const MAX_PAGE: usize = 100;

pub struct Trustpilot {
    businesses: Vec<String>,
    key: crate::http::redact::Secret,
}

impl Trustpilot {
    pub fn new(config: &SourceConfig, s: &TrustpilotConfig) -> Result<Trustpilot, BuildError> {
        let key = super::required_credential(
            config,
            "key_env",
            s.key_env.as_ref(),
            "a Trustpilot API key (Trustpilot Business → Integrations → API)",
        )?;
        let mut businesses = Vec::new();
        for b in &s.businesses {
            let b = b.trim().to_ascii_lowercase();
            if b.len() != 24 || !b.bytes().all(|c| c.is_ascii_hexdigit()) {
                return Err(BuildError::Settings(format!(
                    "`businesses`: `{b}` is not a Trustpilot business unit id (24 hex digits); find a domain's id with GET {BASE}/v1/business-units/find?name={b} and your API key"
                )));
            }
            businesses.push(b);
        }
        if businesses.is_empty() {
            return Err(BuildError::Settings(
                "`businesses` is empty: list the Trustpilot business unit ids to follow".into(),
            ));
        }
        Ok(Trustpilot { businesses, key })
    }
}

impl Api for Trustpilot {
    fn kind(&self) -> &'static str {
        "trustpilot"
    }

    fn streams(&self, _terms: &[String]) -> Vec<Stream> {
        self.businesses
            .iter()
            .map(|b| Stream::new("reviews", b.clone()))
            .collect()
    }

    fn request(&self, q: &PageQuery<'_>) -> Result<ApiRequest, ShapeError> {
        ApiRequest::get(format!(
            "{BASE}/v1/business-units/{}/reviews?orderBy=createdat.desc&perPage={}&page={}",
            enc(&q.stream.arg),
            q.page_size.clamp(1, MAX_PAGE),
            q.page.unwrap_or("1"),
        ))
        .header("apikey", self.key.expose())
    }

    fn parse(&self, q: &PageQuery<'_>, body: &Value) -> Result<Page, ShapeError> {
        let reviews = body
            .get("reviews")
            .and_then(Value::as_array)
            .ok_or("no `reviews` array")?;
        let mut page = Page::default();
        page.map_items("review", reviews, map_review, |_, _| None);
        let has_next_link = body
            .get("links")
            .and_then(Value::as_array)
            .is_some_and(|l| l.iter().any(|l| l["rel"] == "next-page"));
        let full = reviews.len() >= q.page_size.clamp(1, MAX_PAGE);
        if !reviews.is_empty() && (has_next_link || full) {
            let current: u64 = q.page.and_then(|p| p.parse().ok()).unwrap_or(1);
            page.next = Some((current + 1).to_string());
        }
        Ok(page)
    }
}

/// One review, in the API's shape (`stars`, `createdAt`, `numberOfLikes`) or the web
/// pages' (`rating`, `dates.publishedDate`, `likes`).
pub fn map_review(r: &Value) -> Result<Mention, ShapeError> {
    let id = pick::need(pick::str_at(r, "/id"), "id")?;
    let published_at = pick::need(
        pick::time_at(r, "/createdAt").or_else(|| pick::time_at(r, "/dates/publishedDate")),
        "createdAt",
    )?;
    let rating = pick::u64_at(r, "/stars")
        .or_else(|| pick::u64_at(r, "/rating"))
        .filter(|s| (1..=5).contains(s))
        .map(|s| s as u8);
    let rating = pick::need(rating, "stars")?;
    let lang = pick::str_at(r, "/language")
        .map(|l| l.to_ascii_lowercase())
        .filter(|l| l.len() == 2 && l.bytes().all(|b| b.is_ascii_lowercase()));
    Ok(Mention {
        url: Some(format!("https://www.trustpilot.com/reviews/{id}")),
        author: pick::str_at(r, "/consumer/displayName"),
        title: pick::str_at(r, "/title"),
        text: pick::str_at(r, "/text").unwrap_or_default(),
        lang,
        engagement: Engagement {
            likes: pick::u64_at(r, "/numberOfLikes").or_else(|| pick::u64_at(r, "/likes")),
            rating: Some(rating),
            ..Default::default()
        },
        ..Mention::new(format!("trustpilot:{id}"), published_at)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_the_web_pages_recorded_reviews() {
        // Recorded review objects of trustpilot.com's pages (NPOSL-3.0: read from
        // ../shared, not copied here).
        let Some(v) = crate::sources::api::fixture(
            "trustpilot",
            "next-data_review_bhphotovideo_reviews_3pages-60_2023-12.json",
        ) else {
            return;
        };
        let all: Vec<Mention> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|r| map_review(r).unwrap())
            .collect();
        assert_eq!(all.len(), 60);
        let m = &all[0];
        assert_eq!(m.id, "trustpilot:65718f1ba9549dd90f396b4a");
        assert_eq!(m.author.as_deref(), Some("Dean"));
        assert_eq!(
            m.title.as_deref(),
            Some("I can find what I need very easily")
        );
        assert!(
            m.text
                .starts_with("I can find what I need very easily. This is vastly")
        );
        assert_eq!(m.published_at.to_rfc3339(), "2023-12-07T11:23:40+00:00");
        assert_eq!(m.engagement.rating, Some(5));
        assert_eq!(m.engagement.likes, Some(0));
        assert_eq!(m.lang.as_deref(), Some("en"));
        assert_eq!(
            m.url.as_deref(),
            Some("https://www.trustpilot.com/reviews/65718f1ba9549dd90f396b4a")
        );
    }

    #[test]
    fn business_unit_ids_are_checked() {
        let mut s = TrustpilotConfig {
            businesses: vec!["www.example.com".into()],
            // Any variable that is set will do as the key here.
            key_env: Some(EnvVar("PATH".into())),
        };
        let c = SourceConfig::new("tp", s.clone());
        let e = Trustpilot::new(&c, &s).err().unwrap().to_string();
        assert!(
            e.contains("24 hex digits") && e.contains("business-units/find?name=www.example.com"),
            "{e}"
        );
        s.businesses = vec!["46A6A7B5000064000500E0C3".into()];
        assert_eq!(
            Trustpilot::new(&c, &s).unwrap().businesses,
            ["46a6a7b5000064000500e0c3"]
        );
        s.key_env = Some(EnvVar("HARK_TEST_TP_KEY_UNSET".into()));
        assert!(
            Trustpilot::new(&c, &s)
                .err()
                .unwrap()
                .to_string()
                .contains("HARK_TEST_TP_KEY_UNSET")
        );
    }
}
