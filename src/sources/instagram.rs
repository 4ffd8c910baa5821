//! `kind = "instagram"`: Instagram posts found by hashtag, posts of named business or
//! creator accounts, and the brand's own posts with their comments, through the Instagram
//! Graph API.
//!
//! Credentials: `token_env` names the variable holding a user access token of the Facebook
//! user who manages the brand's Instagram professional account (an app with
//! `instagram_basic`, `instagram_manage_comments` and "Instagram Public Content Access" for
//! hashtags), and `account_id` is that Instagram account's id (Graph API Explorer:
//! `me/accounts?fields=instagram_business_account`). Every call is made as that account.
//!
//! Streams:
//! - per `tags` entry: `ig_hashtag_search` finds the hashtag's id, then its
//!   `recent_media` (posts of the last 24 hours, newest first) are read. Instagram allows 30
//!   distinct hashtags per account per 7 days, so only `tags` are searched, never the
//!   queries' terms.
//! - per `accounts` entry: business discovery
//!   (`/{account_id}?fields=business_discovery.username(NAME){…media{…}}`), newest first,
//!   with the account's followers as each post's audience.
//! - with `comments` (default true): the account's own media (`/{account_id}/media`) and,
//!   for each recent post with comments, its comments (`/{media}/comments`), with
//!   `parent_id` = the post. Instagram gives comments only on the account's own posts.
//!
//! Usage headers throttle the source (see `meta.rs`). Ids are `instagram:<media or comment
//! id>`.

use super::api::{Api, ApiRequest, Page, PageQuery, ShapeError, Stream, enc, pick};
use super::meta::{self, GRAPH};
use super::settings::{CheckContext, KindConfig, PAGING_KEYS, SourceConfig, yes};
use super::{BuildError, Source};
use crate::fields::{EnvVar, FieldError, clean_names};
use crate::mention::{Engagement, Mention};
use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde_json::Value;
use std::time::Duration;

/// `kind = "instagram"` settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstagramConfig {
    /// The id (digits) of the Instagram professional account the calls are made as
    /// (required).
    pub account_id: Option<String>,
    /// Hashtags whose recent media are read, `#` optional.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Business or creator accounts followed through business discovery, `@` optional.
    #[serde(default)]
    pub accounts: Vec<String>,
    /// The environment variable holding the Graph API token (required).
    pub token_env: Option<EnvVar>,
    /// Also read the comments of the account's own media (default true).
    #[serde(default = "yes")]
    pub comments: bool,
}

impl Default for InstagramConfig {
    fn default() -> Self {
        InstagramConfig {
            account_id: None,
            tags: Vec::new(),
            accounts: Vec::new(),
            token_env: None,
            comments: true,
        }
    }
}

impl KindConfig for InstagramConfig {
    const NAME: &'static str = "instagram";
    const PAGING: &'static [&'static str] = PAGING_KEYS;

    fn check(&mut self, _: &CheckContext<'_>) -> Result<(), FieldError> {
        clean_names(&mut self.tags, "#");
        clean_names(&mut self.accounts, "@");
        if let Some(a) = &mut self.account_id {
            *a = a.trim().to_string();
        }
        Ok(())
    }

    fn build(&self, c: &SourceConfig, terms: Vec<String>) -> Result<Box<dyn Source>, BuildError> {
        Ok(super::api_source(Instagram::new(c, self)?, c, terms))
    }
}

const MAX_PAGE: usize = 50;
const MEDIA_FIELDS: &str =
    "id,caption,media_type,comments_count,like_count,permalink,timestamp,username";

pub struct Instagram {
    account_id: String,
    token: crate::http::redact::Secret,
    tags: Vec<String>,
    accounts: Vec<String>,
    comments: bool,
}

impl Instagram {
    pub fn new(config: &SourceConfig, s: &InstagramConfig) -> Result<Instagram, BuildError> {
        let token = super::required_credential(
            config,
            "token_env",
            s.token_env.as_ref(),
            "a Graph API user access token of the Instagram professional account's manager",
        )?;
        let account_id = s
            .account_id
            .clone()
            .filter(|a| !a.is_empty() && a.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| BuildError::Settings("instagram needs `account_id`: the id (digits) of the Instagram professional account the calls are made as (Graph API Explorer: me/accounts?fields=instagram_business_account)".into()))?;
        Ok(Instagram {
            account_id,
            token,
            tags: s.tags.clone(),
            accounts: s.accounts.clone(),
            comments: s.comments,
        })
    }
}

impl Api for Instagram {
    fn kind(&self) -> &'static str {
        "instagram"
    }

    fn streams(&self, _terms: &[String]) -> Vec<Stream> {
        let mut s: Vec<Stream> = self
            .tags
            .iter()
            .map(|t| Stream::new("hashtag", t.to_lowercase()))
            .collect();
        s.extend(
            self.accounts
                .iter()
                .map(|a| Stream::new("account", a.clone())),
        );
        if self.comments {
            s.push(Stream::new("media", self.account_id.clone()));
        }
        s
    }

    fn request(&self, q: &PageQuery<'_>) -> Result<ApiRequest, ShapeError> {
        let limit = q.page_size.clamp(1, MAX_PAGE);
        let after = q
            .page
            .map(|p| format!("&after={}", enc(p)))
            .unwrap_or_default();
        let me = &self.account_id;
        let arg = enc(&q.stream.arg);
        let url = match q.stream.endpoint {
            "hashtag" => format!("{GRAPH}/ig_hashtag_search?user_id={me}&q={arg}"),
            "recent_media" => format!(
                "{GRAPH}/{arg}/recent_media?user_id={me}&fields={}&limit={limit}{after}",
                enc(MEDIA_FIELDS)
            ),
            "account" => {
                // Business discovery pages inside the field expansion.
                let paging = q.page.map(|p| format!(".after({p})")).unwrap_or_default();
                let fields = format!(
                    "business_discovery.username({}){{username,followers_count,media{paging}.limit({limit}){{{MEDIA_FIELDS}}}}}",
                    q.stream.arg
                );
                format!("{GRAPH}/{me}?fields={}", enc(&fields))
            }
            "media" => format!(
                "{GRAPH}/{me}/media?fields={}&limit={limit}{after}",
                enc(MEDIA_FIELDS)
            ),
            "comments" => format!(
                "{GRAPH}/{arg}/comments?fields={}&limit={limit}{after}",
                enc("id,text,timestamp,username,like_count,parent_id")
            ),
            other => {
                return Err(ShapeError::Endpoint {
                    kind: "instagram",
                    endpoint: other.to_string(),
                });
            }
        };
        ApiRequest::get(url).bearer(self.token.expose())
    }

    fn parse(&self, q: &PageQuery<'_>, body: &Value) -> Result<Page, ShapeError> {
        let mut page = Page::default();
        match q.stream.endpoint {
            "hashtag" => {
                let id = pick::str_at(body, "/data/0/id").ok_or_else(|| {
                    ShapeError::Unexpected(format!("Instagram knows no hashtag #{}", q.stream.arg))
                })?;
                page.follow.push(Stream::new("recent_media", id));
                return Ok(page);
            }
            "account" => {
                let bd = body
                    .get("business_discovery")
                    .ok_or("no `business_discovery` object")?;
                let followers = pick::u64_at(bd, "/followers_count");
                let data = bd
                    .pointer("/media/data")
                    .and_then(Value::as_array)
                    .ok_or("no `business_discovery.media.data` array")?;
                let owner = pick::str_at(bd, "/username").unwrap_or_else(|| q.stream.arg.clone());
                page.map_items(
                    "media",
                    data,
                    |item| {
                        let mut m = map_media(item, followers)?;
                        m.author.get_or_insert_with(|| owner.clone());
                        Ok(m)
                    },
                    |_, _| None,
                );
                if !data.is_empty() {
                    page.next = meta::next_page(bd, "/media/paging")
                        .or_else(|| pick::str_at(bd, "/media/paging/cursors/after"));
                }
                return Ok(page);
            }
            _ => {}
        }
        let data = body
            .get("data")
            .and_then(Value::as_array)
            .ok_or("no `data` array")?;
        let endpoint = q.stream.endpoint;
        page.map_items(
            "item",
            data,
            |item| match endpoint {
                "comments" => map_comment(item, &q.stream.arg),
                _ => map_media(item, None),
            },
            |item, m| {
                let commented = pick::u64_at(item, "/comments_count").is_none_or(|n| n > 0);
                (endpoint == "media" && commented).then(|| {
                    Stream::new(
                        "comments",
                        m.id.trim_start_matches("instagram:").to_string(),
                    )
                })
            },
        );
        if !data.is_empty() {
            page.next = meta::next_page(body, "/paging");
        }
        Ok(page)
    }

    fn usage_wait(&self, headers: &HeaderMap) -> Option<Duration> {
        meta::usage_wait(headers)
    }
}

fn map_media(m: &Value, followers: Option<u64>) -> Result<Mention, ShapeError> {
    let id = pick::need(pick::str_at(m, "/id"), "id")?;
    let published_at = pick::need(pick::time_at(m, "/timestamp"), "timestamp")?;
    Ok(Mention {
        url: pick::str_at(m, "/permalink"),
        author: pick::str_at(m, "/username"),
        text: pick::str_at(m, "/caption").unwrap_or_default(),
        engagement: Engagement {
            likes: pick::u64_at(m, "/like_count"),
            comments: pick::u64_at(m, "/comments_count"),
            followers,
            ..Default::default()
        },
        ..Mention::new(format!("instagram:{id}"), published_at)
    })
}

fn map_comment(c: &Value, media: &str) -> Result<Mention, ShapeError> {
    let id = pick::need(pick::str_at(c, "/id"), "id")?;
    let published_at = pick::need(pick::time_at(c, "/timestamp"), "timestamp")?;
    let parent = pick::str_at(c, "/parent_id").unwrap_or_else(|| media.to_string());
    Ok(Mention {
        author: pick::str_at(c, "/username"),
        text: pick::need(pick::str_at(c, "/text"), "text")?,
        engagement: Engagement {
            likes: pick::u64_at(c, "/like_count"),
            ..Default::default()
        },
        parent_id: Some(format!("instagram:{parent}")),
        ..Mention::new(format!("instagram:{id}"), published_at)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api() -> Instagram {
        Instagram {
            account_id: "17841406338772941".into(),
            token: crate::http::redact::Secret::new("t"),
            tags: vec!["developers".into()],
            accounts: vec!["facebookfordevelopers".into()],
            comments: true,
        }
    }

    #[test]
    fn hashtag_search_leads_to_recent_media() {
        let Some(found) =
            crate::sources::api::fixture("instagram", "ig_hashtag_search_q-developers_2021.json")
        else {
            return;
        };
        let s = Stream::new("hashtag", "developers");
        let p = api().parse(&PageQuery::first_page(&s), &found).unwrap();
        assert!(p.items.is_empty());
        assert_eq!(p.follow, [Stream::new("recent_media", "17841562426109234")]);
        let req = api().request(&PageQuery::first_page(&p.follow[0])).unwrap();
        assert!(
            req.url
                .contains("/17841562426109234/recent_media?user_id=17841406338772941")
        );
        // An unknown hashtag is an error of that stream, not "no posts".
        let e = api()
            .parse(&PageQuery::first_page(&s), &serde_json::json!({"data": []}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("#developers"), "{e}");
    }

    #[test]
    fn maps_business_discovery_and_comments() {
        let Some(bd) = crate::sources::api::fixture(
            "instagram",
            "business_discovery_media_facebookfordevelopers_page1_2021-08.json",
        ) else {
            return;
        };
        let s = Stream::new("account", "facebookfordevelopers");
        let p = api().parse(&PageQuery::first_page(&s), &bd).unwrap();
        assert_eq!(p.items.len(), 2);
        let m = &p.items[0];
        assert_eq!(m.id, "instagram:17885103395504675");
        assert_eq!(
            m.url.as_deref(),
            Some("https://www.instagram.com/p/CSr71Gzlqo4/")
        );
        assert_eq!(m.published_at.to_rfc3339(), "2021-08-17T19:00:42+00:00");
        assert_eq!(m.engagement.likes, Some(87));
        assert_eq!(m.engagement.comments, Some(11));
        assert_eq!(m.author.as_deref(), Some("facebookfordevelopers"));
        assert!(m.text.starts_with("To attract new players"));
        assert_eq!(p.next.as_deref(), Some("after"));
        let req = api()
            .request(&PageQuery {
                page: Some("after"),
                ..PageQuery::first_page(&s)
            })
            .unwrap();
        assert!(
            req.url.contains(&enc("media.after(after).limit(50)")),
            "{}",
            req.url
        );

        let Some(comments) =
            crate::sources::api::fixture("instagram", "media_comments_page1_2021.json")
        else {
            return;
        };
        let s = Stream::new("comments", "17846368219941692");
        let p = api().parse(&PageQuery::first_page(&s), &comments).unwrap();
        assert_eq!(p.items.len(), 2);
        assert_eq!(p.items[0].id, "instagram:17858154961981086");
        assert_eq!(p.items[0].text, "Beautiful!");
        assert_eq!(
            p.items[0].parent_id.as_deref(),
            Some("instagram:17846368219941692")
        );
        assert_eq!(
            p.items[0].published_at.to_rfc3339(),
            "2020-06-01T10:56:52+00:00"
        );
    }
}
