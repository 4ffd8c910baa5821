//! `kind = "facebook"`: posts of the Facebook pages in `pages` and the comments on them,
//! through the Graph API (`/{page}/feed`, `/{post}/comments`).
//!
//! Credentials: `token_env` names the variable holding an access token: a Page access token
//! of the brand's own page (Meta for Developers → an app with `pages_read_engagement` and
//! `pages_read_user_content`; Graph API Explorer → "Get Page Access Token"), or an app token
//! with "Page Public Content Access" for other public pages. It is sent as
//! `Authorization: Bearer`.
//!
//! One stream per page, newest posts first (25 a page by default, at most 100). The feed is
//! asked without a time filter, so each poll sees the page's recent posts again: posts
//! already delivered are not sent twice, but each recent post with comments gets a comment
//! stream (`filter=stream`, newest first) reaching back to the newest post known, which is
//! where complaints arrive, often days after the post. Comments carry `parent_id` (the
//! post, or the comment they answer). A post's likes are its reactions; comments and shares
//! come from their summaries. Usage headers throttle the source (see `meta.rs`). Ids:
//! `facebook:<post id>` (`PAGEID_POSTID`) and `facebook:<comment id>`.

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

/// `kind = "facebook"` settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FacebookConfig {
    /// Page ids or names.
    #[serde(default)]
    pub pages: Vec<String>,
    /// The environment variable holding the Graph API token (required).
    pub token_env: Option<EnvVar>,
    /// Also read the comments of recent posts (default true).
    #[serde(default = "yes")]
    pub comments: bool,
}

impl Default for FacebookConfig {
    fn default() -> Self {
        FacebookConfig {
            pages: Vec::new(),
            token_env: None,
            comments: true,
        }
    }
}

impl KindConfig for FacebookConfig {
    const NAME: &'static str = "facebook";
    const PAGING: &'static [&'static str] = PAGING_KEYS;

    fn check(&mut self, _: &CheckContext<'_>) -> Result<(), FieldError> {
        clean_names(&mut self.pages, "");
        Ok(())
    }

    fn build(&self, c: &SourceConfig, terms: Vec<String>) -> Result<Box<dyn Source>, BuildError> {
        Ok(super::api_source(Facebook::new(c, self)?, c, terms))
    }
}

const MAX_PAGE: usize = 100;
const POST_FIELDS: &str = "id,message,story,created_time,permalink_url,from{id,name},shares,reactions.summary(total_count).limit(0),comments.summary(total_count).limit(0)";
const COMMENT_FIELDS: &str =
    "id,message,created_time,permalink_url,from{id,name},like_count,comment_count,parent{id}";

pub struct Facebook {
    pages: Vec<String>,
    token: crate::http::redact::Secret,
    comments: bool,
}

impl Facebook {
    pub fn new(config: &SourceConfig, s: &FacebookConfig) -> Result<Facebook, BuildError> {
        let token = super::required_credential(
            config,
            "token_env",
            s.token_env.as_ref(),
            "a Graph API access token (a Page access token of your page, or an app token with Page Public Content Access)",
        )?;
        let pages: Vec<String> = s.pages.iter().map(|p| page_name(p)).collect();
        if pages.is_empty() {
            return Err(BuildError::Settings("`pages` is empty: list the Facebook pages to follow (ids or names, e.g. pages = [\"acme\"])".into()));
        }
        Ok(Facebook {
            pages,
            token,
            comments: s.comments,
        })
    }
}

/// A page id or name from `acme`, `@acme` or `https://www.facebook.com/acme/`.
fn page_name(s: &str) -> String {
    let s = s.trim().trim_start_matches('@');
    match url::Url::parse(s) {
        Ok(u) => u
            .path_segments()
            .and_then(|mut p| p.find(|x| !x.is_empty()).map(str::to_string))
            .unwrap_or_default(),
        Err(_) => s.trim_matches('/').to_string(),
    }
}

impl Api for Facebook {
    fn kind(&self) -> &'static str {
        "facebook"
    }

    fn streams(&self, _terms: &[String]) -> Vec<Stream> {
        self.pages
            .iter()
            .map(|p| Stream::new("feed", p.clone()))
            .collect()
    }

    fn request(&self, q: &PageQuery<'_>) -> Result<ApiRequest, ShapeError> {
        let after = q
            .page
            .map(|p| format!("&after={}", enc(p)))
            .unwrap_or_default();
        let limit = q.page_size.clamp(1, MAX_PAGE);
        let url = match q.stream.endpoint {
            "feed" => format!(
                "{GRAPH}/{}/feed?fields={}&limit={limit}{after}",
                enc(&q.stream.arg),
                enc(POST_FIELDS)
            ),
            "comments" => format!(
                "{GRAPH}/{}/comments?fields={}&filter=stream&order=reverse_chronological&limit={limit}{after}",
                enc(&q.stream.arg),
                enc(COMMENT_FIELDS)
            ),
            other => {
                return Err(ShapeError::Endpoint {
                    kind: "facebook",
                    endpoint: other.to_string(),
                });
            }
        };
        ApiRequest::get(url).bearer(self.token.expose())
    }

    fn parse(&self, q: &PageQuery<'_>, body: &Value) -> Result<Page, ShapeError> {
        let data = body
            .get("data")
            .and_then(Value::as_array)
            .ok_or("no `data` array")?;
        let mut page = Page::default();
        let feed = q.stream.endpoint == "feed";
        page.map_items(
            "item",
            data,
            |item| match feed {
                true => map_post(item, &q.stream.arg),
                false => map_comment(item, &q.stream.arg),
            },
            |item, m| {
                let has_comments =
                    pick::u64_at(item, "/comments/summary/total_count").is_none_or(|n| n > 0);
                (feed && self.comments && has_comments).then(|| {
                    Stream::new("comments", m.id.trim_start_matches("facebook:").to_string())
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

fn map_post(p: &Value, page: &str) -> Result<Mention, ShapeError> {
    let id = pick::need(pick::str_at(p, "/id"), "id")?;
    let published_at = pick::need(pick::time_at(p, "/created_time"), "created_time")?;
    let text = pick::str_at(p, "/message")
        .or_else(|| pick::str_at(p, "/story"))
        .unwrap_or_default();
    Ok(Mention {
        url: Some(
            pick::str_at(p, "/permalink_url")
                .unwrap_or_else(|| format!("https://www.facebook.com/{id}")),
        ),
        author: pick::str_at(p, "/from/name").or_else(|| Some(page.to_string())),
        text,
        engagement: Engagement {
            likes: pick::u64_at(p, "/reactions/summary/total_count"),
            shares: pick::u64_at(p, "/shares/count"),
            comments: pick::u64_at(p, "/comments/summary/total_count"),
            ..Default::default()
        },
        ..Mention::new(format!("facebook:{id}"), published_at)
    })
}

fn map_comment(c: &Value, post: &str) -> Result<Mention, ShapeError> {
    // Without `id` among the fields asked (older recordings), the permalink names the
    // comment: `?comment_id=C` for a comment, `?comment_id=C&reply_comment_id=R` for a reply
    // to comment C (`filter=stream` lists replies too).
    let from_link = pick::str_at(c, "/permalink_url")
        .and_then(|l| url::Url::parse(&l).ok())
        .map(|link| {
            let q = |name: &str| {
                link.query_pairs()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.into_owned())
            };
            (q("comment_id"), q("reply_comment_id"))
        });
    let post_no = post.rsplit('_').next().unwrap_or(post);
    let (id, parent) = match (pick::str_at(c, "/id"), from_link) {
        (Some(id), _) => (Some(id), pick::str_at(c, "/parent/id")),
        (None, Some((Some(comment), Some(reply)))) => (
            Some(format!("{post_no}_{reply}")),
            Some(format!("{post_no}_{comment}")),
        ),
        (None, Some((Some(comment), None))) => (Some(format!("{post_no}_{comment}")), None),
        _ => (None, None),
    };
    let id = pick::need(id, "id")?;
    let published_at = pick::need(pick::time_at(c, "/created_time"), "created_time")?;
    let parent = parent.unwrap_or_else(|| post.to_string());
    Ok(Mention {
        url: Some(
            pick::str_at(c, "/permalink_url")
                .unwrap_or_else(|| format!("https://www.facebook.com/{id}")),
        ),
        author: pick::str_at(c, "/from/name"),
        text: pick::str_at(c, "/message").unwrap_or_default(),
        engagement: Engagement {
            likes: pick::u64_at(c, "/like_count"),
            comments: pick::u64_at(c, "/comment_count"),
            ..Default::default()
        },
        parent_id: Some(format!("facebook:{parent}")),
        ..Mention::new(format!("facebook:{id}"), published_at)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api() -> Facebook {
        Facebook {
            pages: vec!["19292868552".into()],
            token: crate::http::redact::Secret::new("t"),
            comments: true,
        }
    }

    #[test]
    fn page_names_in_every_form() {
        assert_eq!(page_name("https://www.facebook.com/acme/"), "acme");
        assert_eq!(page_name("@acme"), "acme");
        assert_eq!(page_name("19292868552"), "19292868552");
    }

    #[test]
    fn maps_recorded_posts_and_comments() {
        let Some(feed) = crate::sources::api::fixture(
            "facebook",
            "page-feed_19292868552_default-fields_page1_2021.json",
        ) else {
            return;
        };
        let s = Stream::new("feed", "19292868552");
        let p = api().parse(&PageQuery::first_page(&s), &feed).unwrap();
        assert_eq!(p.items.len(), 5);
        let m = &p.items[0];
        assert_eq!(m.id, "facebook:19292868552_10158349356748553");
        assert_eq!(m.published_at.to_rfc3339(), "2021-07-09T19:09:52+00:00");
        assert_eq!(
            m.url.as_deref(),
            Some("https://www.facebook.com/19292868552/posts/10158349356748553/")
        );
        assert!(
            m.text
                .starts_with("Singaporean logistics company Ninja Van Singapore")
        );
        assert_eq!(m.engagement.likes, Some(125));
        assert_eq!(m.engagement.comments, Some(13));
        assert_eq!(m.engagement.shares, Some(10));
        assert_eq!(m.author.as_deref(), Some("19292868552"));
        assert_eq!(p.next.as_deref(), Some("after"));
        assert!(
            p.follow
                .contains(&Stream::new("comments", "19292868552_10158349356748553"))
        );

        let Some(comments) = crate::sources::api::fixture(
            "facebook",
            "comments_post-19292868552_10158407654328553_page1_2021.json",
        ) else {
            return;
        };
        let s = Stream::new("comments", "19292868552_10158407654328553");
        let p = api().parse(&PageQuery::first_page(&s), &comments).unwrap();
        assert_eq!(p.items.len(), 10);
        let c = &p.items[1];
        assert_eq!(c.id, "facebook:10158407654328553_10158407903973553");
        assert_eq!(
            c.parent_id.as_deref(),
            Some("facebook:19292868552_10158407654328553")
        );
        assert!(
            c.text
                .starts_with("Can someone from Instagram please assist me")
        );
        assert_eq!(c.published_at.to_rfc3339(), "2021-08-10T19:38:44+00:00");
        assert_eq!(c.engagement.comments, Some(2));
        assert!(p.follow.is_empty(), "comments have no follow-ups");
        // A reply (the permalink's `reply_comment_id`) hangs under its comment.
        let reply = &p.items[5];
        assert_eq!(reply.id, "facebook:10158407654328553_10158409983033553");
        assert_eq!(
            reply.parent_id.as_deref(),
            Some("facebook:10158407654328553_10158407903973553")
        );
        let ids: std::collections::HashSet<&str> = p.items.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids.len(), 10);

        let Some(node) =
            crate::sources::api::fixture("facebook", "comment-node_with-from_2021.json")
        else {
            return;
        };
        let c = map_comment(&node, "2954961744718970").unwrap();
        assert_eq!(c.id, "facebook:2954961744718970_2966313500250461");
        assert_eq!(c.author.as_deref(), Some("Kun Liu"));
        assert_eq!(c.text, "My Nice Car ");
    }
}
