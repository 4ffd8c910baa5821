//! `kind = "ok"`: Odnoklassniki (OK.ru) group posts and their comments through the OK REST
//! API (`https://api.ok.ru/fb.do`): `mediatopic.getTopics` per group in `groups`, newest
//! first, then `discussions.getComments` for each recent post with comments.
//!
//! Credentials (all from the environment, named by `*_env` keys): the application's public
//! key (`key_env`), its secret key (`client_secret_env`) and an access token
//! (`token_env`). Register an application at <https://ok.ru/vitrine/myuploaded> ("OAuth"
//! section: application key and secret key by e-mail; the app settings page shows an
//! "eternal" access token for its owner), with the `VALUABLE_ACCESS` and `GROUP_CONTENT`
//! permissions.
//!
//! Every request is signed as the API requires: `sig` = MD5 of the request's parameters
//! (all but `access_token`, sorted by name, concatenated as `name=value`) followed by
//! MD5(`access_token` + secret key), in lowercase hex.
//!
//! Posts are read without a time filter (each poll sees the group's recent posts, so new
//! comments on them are found, as for Facebook); pages follow the `anchor` the answer gives
//! while `has_more` is true. OK writes comment dates as `YYYY-MM-DD HH:MM:SS` in Moscow time
//! (UTC+3), which hark converts to UTC. Texts lose OK's link markup
//! (`{group:ID}Name{group}` → `Name`). Errors come in 200 bodies (`error_code`): 102 and 103
//! (expired or invalid session) and 104 (bad signature) name the credentials; any other
//! code fails the request with OK's message. Ids: `ok:<topic id>`, `ok:<comment id>`.

use super::api::{Api, ApiRequest, BodySignal, Page, PageQuery, ShapeError, Stream, enc, pick};
use super::settings::{CheckContext, KindConfig, PAGING_KEYS, SourceConfig, yes};
use super::{BuildError, Source};
use crate::fields::{EnvVar, FieldError, clean_names};
use crate::http::redact::Secret;
use crate::mention::{Engagement, Mention};
use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Utc};
use md5::{Digest, Md5};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// `kind = "ok"` settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OkConfig {
    /// Group ids (the number in `https://ok.ru/group/<id>`).
    #[serde(default)]
    pub groups: Vec<String>,
    /// The environment variable holding the application's public key (required).
    pub key_env: Option<EnvVar>,
    /// The environment variable holding the application's secret key (required).
    pub client_secret_env: Option<EnvVar>,
    /// The environment variable holding the access token (required).
    pub token_env: Option<EnvVar>,
    /// Also read the comments of recent posts (default true).
    #[serde(default = "yes")]
    pub comments: bool,
}

impl Default for OkConfig {
    fn default() -> Self {
        OkConfig {
            groups: Vec::new(),
            key_env: None,
            client_secret_env: None,
            token_env: None,
            comments: true,
        }
    }
}

impl KindConfig for OkConfig {
    const NAME: &'static str = "ok";
    const PAGING: &'static [&'static str] = PAGING_KEYS;

    fn check(&mut self, _: &CheckContext<'_>) -> Result<(), FieldError> {
        clean_names(&mut self.groups, "");
        Ok(())
    }

    fn build(&self, c: &SourceConfig, terms: Vec<String>) -> Result<Box<dyn Source>, BuildError> {
        Ok(super::api_source(Odnoklassniki::new(c, self)?, c, terms))
    }
}

const BASE: &str = "https://api.ok.ru";
const MAX_PAGE: usize = 100;
const TOPIC_FIELDS: &str = "media_topic.ID,media_topic.CREATED_MS,media_topic.MEDIA,media_topic.AUTHOR_REF,media_topic.OWNER_REF,media_topic.LIKE_SUMMARY,media_topic.RESHARE_SUMMARY,media_topic.DISCUSSION_SUMMARY,group.UID,group.NAME,user.UID,user.NAME";

pub struct Odnoklassniki {
    groups: Vec<String>,
    app_key: Secret,
    secret: Secret,
    token: Secret,
    comments: bool,
}

impl Odnoklassniki {
    pub fn new(config: &SourceConfig, s: &OkConfig) -> Result<Odnoklassniki, BuildError> {
        let need = |setting, var, what| super::required_credential(config, setting, var, what);
        let app_key = need(
            "key_env",
            s.key_env.as_ref(),
            "the OK application's public key",
        )?;
        let secret = need(
            "client_secret_env",
            s.client_secret_env.as_ref(),
            "the OK application's secret key",
        )?;
        let token = need("token_env", s.token_env.as_ref(), "an OK access token")?;
        let groups: Vec<String> = s.groups.clone();
        if let Some(bad) = groups
            .iter()
            .find(|g| g.is_empty() || !g.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(BuildError::Settings(format!(
                "`groups`: `{bad}` is not an OK group id (digits: the number in https://ok.ru/group/<id>)"
            )));
        }
        if groups.is_empty() {
            return Err(BuildError::Settings(
                "`groups` is empty: list the OK group ids to follow".into(),
            ));
        }
        Ok(Odnoklassniki {
            groups,
            app_key,
            secret,
            token,
            comments: s.comments,
        })
    }

    /// The signed query string for `params` (the method's own parameters plus
    /// `application_key`, `format` and `method`).
    fn signed_query(&self, mut params: BTreeMap<&str, String>) -> String {
        params.insert("application_key", self.app_key.expose().to_string());
        params.insert("format", "json".into());
        let sig = signature(&params, self.token.expose(), self.secret.expose());
        let mut q: Vec<String> = params
            .iter()
            .map(|(k, v)| format!("{k}={}", enc(v)))
            .collect();
        q.push(format!("sig={sig}"));
        q.push(format!("access_token={}", enc(self.token.expose())));
        q.join("&")
    }
}

fn md5_hex(data: &[u8]) -> String {
    Md5::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// OK's request signature: MD5 of the sorted `name=value` pairs followed by
/// MD5(access token + application secret key).
pub fn signature(params: &BTreeMap<&str, String>, token: &str, secret: &str) -> String {
    let mut s = String::new();
    for (k, v) in params {
        if *k == "access_token" || *k == "session_key" || *k == "sig" {
            continue;
        }
        s.push_str(k);
        s.push('=');
        s.push_str(v);
    }
    s.push_str(&md5_hex(format!("{token}{secret}").as_bytes()));
    md5_hex(s.as_bytes())
}

/// OK's link markup in texts, `{group:123}Name{group}` / `{user:1}Name{user}`, as plain text.
pub fn strip_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let tag_end = after.find('}');
        let tag = tag_end.map(|e| &after[..e]);
        match tag {
            // An opening `{kind:id}` or closing `{kind}` tag: dropped.
            Some(t)
                if !t.is_empty()
                    && t.split(':').next().is_some_and(|k| {
                        !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphabetic())
                    })
                    && t.split_once(':')
                        .is_none_or(|(_, id)| id.bytes().all(|b| b.is_ascii_alphanumeric())) =>
            {
                rest = &after[t.len() + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The people and groups an answer's `entities` describe, by id.
fn names(body: &Value) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for kind in ["users", "groups"] {
        for e in body
            .pointer(&format!("/entities/{kind}"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(uid) = pick::str_at(e, "/uid").or_else(|| pick::str_at(e, "/id")) else {
                continue;
            };
            let name = pick::str_at(e, "/name").or_else(|| {
                let full = [
                    pick::str_at(e, "/first_name"),
                    pick::str_at(e, "/last_name"),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
                (!full.is_empty()).then_some(full)
            });
            if let Some(n) = name {
                out.insert(uid, n);
            }
        }
    }
    out
}

/// OK's `YYYY-MM-DD HH:MM:SS`, Moscow time.
fn moscow_time(s: &str) -> Option<DateTime<Utc>> {
    let naive = NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%d %H:%M:%S").ok()?;
    let msk = FixedOffset::east_opt(3 * 3600)?;
    Some(
        msk.from_local_datetime(&naive)
            .single()?
            .with_timezone(&Utc),
    )
}

impl Api for Odnoklassniki {
    fn kind(&self) -> &'static str {
        "ok"
    }

    fn streams(&self, _terms: &[String]) -> Vec<Stream> {
        self.groups
            .iter()
            .map(|g| Stream::new("topics", g.clone()))
            .collect()
    }

    fn request(&self, q: &PageQuery<'_>) -> Result<ApiRequest, ShapeError> {
        let mut p: BTreeMap<&str, String> = BTreeMap::new();
        p.insert("count", q.page_size.clamp(1, MAX_PAGE).to_string());
        if let Some(anchor) = q.page {
            p.insert("anchor", anchor.to_string());
            p.insert("direction", "FORWARD".into());
        }
        match q.stream.endpoint {
            "topics" => {
                p.insert("method", "mediatopic.getTopics".into());
                p.insert("gid", q.stream.arg.clone());
                p.insert("fields", TOPIC_FIELDS.into());
            }
            "comments" => {
                p.insert("method", "discussions.getComments".into());
                let (_, topic) = q
                    .stream
                    .arg
                    .split_once('/')
                    .ok_or("an ok comment stream is group/topic")?;
                p.insert("discussionId", topic.to_string());
                p.insert("discussionType", "GROUP_TOPIC".into());
            }
            other => {
                return Err(ShapeError::Endpoint {
                    kind: "ok",
                    endpoint: other.to_string(),
                });
            }
        }
        Ok(ApiRequest::get(format!(
            "{BASE}/fb.do?{}",
            self.signed_query(p)
        )))
    }

    fn parse(&self, q: &PageQuery<'_>, body: &Value) -> Result<Page, ShapeError> {
        let names = names(body);
        let mut page = Page::default();
        let list_key = if q.stream.endpoint == "comments" {
            "comments"
        } else {
            "media_topics"
        };
        // A group without posts (or a post without comments) may leave the list out.
        let list = pick::optional_list(body.get(list_key), list_key)?;
        let topics = q.stream.endpoint == "topics";
        page.map_items(
            list_key,
            list,
            |item| match topics {
                true => map_topic(item, &q.stream.arg, &names),
                false => map_comment(item, &q.stream.arg, &names),
            },
            |item, m| {
                let commented =
                    pick::u64_at(item, "/discussion_summary/comments_count").is_none_or(|n| n > 0);
                (topics && self.comments && commented).then(|| {
                    let topic = m.id.trim_start_matches("ok:");
                    Stream::new("comments", format!("{}/{topic}", q.stream.arg))
                })
            },
        );
        if !list.is_empty() && body.get("has_more").and_then(Value::as_bool) == Some(true) {
            page.next = pick::str_at(body, "/anchor");
        }
        Ok(page)
    }

    fn inspect(&self, body: &Value) -> BodySignal {
        let Some(code) = pick::u64_at(body, "/error_code") else {
            return BodySignal::Ok;
        };
        let msg = pick::str_at(body, "/error_msg").unwrap_or_else(|| "no message".into());
        match code {
            102 | 103 => BodySignal::Fail(format!(
                "OK rejected the access token (error {code}: {msg}); renew it and restart"
            )),
            104 => BodySignal::Fail(format!(
                "OK rejected the request signature (error 104: {msg}): check the application key and secret key"
            )),
            _ => BodySignal::Fail(format!("OK API error {code}: {msg}")),
        }
    }
}

fn map_topic(
    t: &Value,
    group: &str,
    names: &BTreeMap<String, String>,
) -> Result<Mention, ShapeError> {
    let id = pick::need(pick::str_at(t, "/id"), "id")?;
    let ms = pick::need(pick::u64_at(t, "/created_ms"), "created_ms")?;
    let published_at = pick::need(Utc.timestamp_millis_opt(ms as i64).single(), "created_ms")?;
    let text: Vec<String> = t
        .get("media")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|m| m["type"] == "text")
        .filter_map(|m| pick::str_at(m, "/text"))
        .map(|s| strip_markup(&s))
        .collect();
    let author = pick::str_at(t, "/author_ref")
        .and_then(|r| r.split_once(':').map(|(_, id)| id.to_string()))
        .and_then(|id| names.get(&id).cloned());
    Ok(Mention {
        url: Some(format!("https://ok.ru/group/{group}/topic/{id}")),
        author,
        text: text.join("\n\n"),
        engagement: Engagement {
            likes: pick::u64_at(t, "/like_summary/count"),
            shares: pick::u64_at(t, "/reshare_summary/count"),
            comments: pick::u64_at(t, "/discussion_summary/comments_count"),
            ..Default::default()
        },
        ..Mention::new(format!("ok:{id}"), published_at)
    })
}

fn map_comment(
    c: &Value,
    stream_arg: &str,
    names: &BTreeMap<String, String>,
) -> Result<Mention, ShapeError> {
    let (group, topic) = stream_arg.split_once('/').unwrap_or(("", stream_arg));
    let id = pick::need(pick::str_at(c, "/id"), "id")?;
    let published_at = pick::need(
        pick::str_at(c, "/date").and_then(|d| moscow_time(&d)),
        "date",
    )?;
    let parent = pick::str_at(c, "/reply_to_comment_id").unwrap_or_else(|| topic.to_string());
    Ok(Mention {
        url: Some(format!("https://ok.ru/group/{group}/topic/{topic}")),
        author: pick::str_at(c, "/author_id").and_then(|a| names.get(&a).cloned()),
        text: strip_markup(&pick::str_at(c, "/text").unwrap_or_default()),
        engagement: Engagement {
            likes: pick::u64_at(c, "/like_count"),
            ..Default::default()
        },
        parent_id: Some(format!("ok:{parent}")),
        ..Mention::new(format!("ok:{id}"), published_at)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_follows_the_documented_recipe() {
        // The recipe computed independently: md5("application_key=CBAformat=jsonmethod=users.getCurrentUser" + md5("tok" + "sec")).
        let mut p = BTreeMap::new();
        p.insert("method", "users.getCurrentUser".to_string());
        p.insert("format", "json".to_string());
        p.insert("application_key", "CBA".to_string());
        p.insert("access_token", "tok".to_string());
        let inner = md5_hex(b"toksec");
        let want = md5_hex(
            format!("application_key=CBAformat=jsonmethod=users.getCurrentUser{inner}").as_bytes(),
        );
        assert_eq!(signature(&p, "tok", "sec"), want);
        assert_eq!(md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
    }

    #[test]
    fn markup_and_names_from_a_recorded_discussion() {
        let Some(body) =
            crate::sources::api::fixture("ok", "discussions.get_group-topic_coca-cola_2014.json")
        else {
            return;
        };
        let msg = pick::str_at(&body, "/discussion/message").unwrap();
        assert_eq!(strip_markup(&msg), "Topic in the Кока-Кола group");
        let n = names(&body);
        assert_eq!(n["163873406852"], "Любовь Гуревич");
        assert_eq!(n["47241470410797"], "Кока-Кола");
        assert_eq!(
            moscow_time("2013-10-12 14:29:26").unwrap().to_rfc3339(),
            "2013-10-12T11:29:26+00:00"
        );
        // Braces that are not markup stay.
        assert_eq!(strip_markup("a {b c} {d"), "a {b c} {d");
        assert_eq!(strip_markup("{user:1}Ann{user}: hi"), "Ann: hi");
    }

    #[test]
    fn errors_in_bodies() {
        let api = Odnoklassniki {
            groups: vec!["1".into()],
            app_key: Secret::new("k"),
            secret: Secret::new("s"),
            token: Secret::new("t"),
            comments: true,
        };
        let sig = |v: Value| api.inspect(&v);
        assert_eq!(sig(serde_json::json!({"media_topics": []})), BodySignal::Ok);
        match sig(
            serde_json::json!({"error_code": 104, "error_msg": "PARAM_SIGNATURE : No signature specified", "error_data": null}),
        ) {
            BodySignal::Fail(m) => assert!(m.contains("secret key"), "{m}"),
            other => panic!("{other:?}"),
        }
        match sig(serde_json::json!({"error_code": 102, "error_msg": "PARAM_SESSION_EXPIRED"})) {
            BodySignal::Fail(m) => assert!(m.contains("access token"), "{m}"),
            other => panic!("{other:?}"),
        }
    }
}
