//! The JSON API (documented in `openapi.json`, served at `/api/openapi.json`).

use super::AppState;
use crate::alerts::outbox::Outbox;
use crate::index::analytics::{share_of_voice, top};
use crate::index::search::{Relevance, SEARCH_FIELDS, SearchRequest, Sort, filter_query, search};
use crate::index::stats::{Interval, stats};
use crate::mention::{Label, Mention};
use crate::query::{self, ParseOptions};
use crate::timeutil::parse_when;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

pub fn routes() -> Router<Arc<AppState>> {
    use axum::routing::get;
    Router::new()
        .route("/api/search", get(search_handler))
        .route(
            "/api/mentions/{id}",
            get(mention_handler).patch(patch_mention_handler),
        )
        .route(
            "/api/mentions/bulk",
            axum::routing::post(bulk_mentions_handler),
        )
        .route("/api/audit", get(audit_handler))
        .route("/api/login", axum::routing::post(login_handler))
        .route("/api/delete", axum::routing::post(delete_handler))
        .route(
            "/api/queries/{name}/exclusions",
            get(exclusions_get_handler).post(exclusions_post_handler),
        )
        .route(
            "/api/saved-searches",
            get(saved_list_handler).post(saved_put_handler),
        )
        .route(
            "/api/saved-searches/{name}",
            axum::routing::delete(saved_delete_handler),
        )
        .route(
            "/api/saved-searches/{name}/alert",
            axum::routing::post(saved_alert_handler),
        )
        .route("/api/logout", axum::routing::post(logout_handler))
        .route("/api/stats", get(stats_handler))
        .route("/api/queries", get(queries_handler))
        .route("/api/alerts", get(alerts_handler))
        .route("/api/share-of-voice", get(share_handler))
        .route("/api/top", get(top_handler))
        .route("/api/openapi.json", get(openapi_handler))
}

/// A client error: 400 (or 404) with `{"error", "parameter"?, "column"?}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: Value,
}

impl ApiError {
    fn bad(parameter: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            body: json!({"error": message.into(), "parameter": parameter}),
        }
    }

    fn internal(e: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %e, "API request failed");
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            body: json!({"error": e.to_string()}),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body)).into_response()
    }
}

type Params = Query<HashMap<String, String>>;

/// Rejects parameters an endpoint does not know (a typo would otherwise be ignored).
fn only(p: &HashMap<String, String>, allowed: &[&str]) -> Result<(), ApiError> {
    for k in p.keys() {
        if k != "token" && !allowed.contains(&k.as_str()) {
            let mut msg = format!("unknown parameter `{k}` (known: {})", allowed.join(", "));
            msg.push_str(&crate::config::did_you_mean(k, allowed));
            return Err(ApiError::bad(k, msg));
        }
    }
    Ok(())
}

fn get<'a>(p: &'a HashMap<String, String>, k: &str) -> Option<&'a str> {
    p.get(k).map(|v| v.trim()).filter(|v| !v.is_empty())
}

fn when(p: &HashMap<String, String>, k: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
    get(p, k)
        .map(|v| parse_when(v, Utc::now()).map_err(|e| ApiError::bad(k, e.to_string())))
        .transpose()
}

fn number(
    p: &HashMap<String, String>,
    k: &str,
    default: usize,
    max: usize,
) -> Result<usize, ApiError> {
    match get(p, k) {
        None => Ok(default),
        Some(v) => match v.parse::<usize>() {
            Ok(n) if n <= max => Ok(n),
            Ok(_) => Err(ApiError::bad(k, format!("`{k}` is at most {max}"))),
            Err(_) => Err(ApiError::bad(
                k,
                format!("`{k}` must be a non-negative integer, not `{v}`"),
            )),
        },
    }
}

fn query_name(app: &AppState, p: &HashMap<String, String>) -> Result<Option<String>, ApiError> {
    let Some(n) = get(p, "query") else {
        return Ok(None);
    };
    if !app.config.queries.is_empty() && app.config.query(n).is_none() {
        let names: Vec<&str> = app.config.queries.iter().map(|q| q.name.as_str()).collect();
        let mut msg = format!("no query named `{n}`");
        msg.push_str(&crate::config::did_you_mean(n, &names));
        return Err(ApiError::bad("query", msg));
    }
    Ok(Some(n.to_string()))
}

/// The search command's parameters, as query parameters of the same names.
fn search_request(app: &AppState, p: &HashMap<String, String>) -> Result<SearchRequest, ApiError> {
    let expr = match get(p, "q") {
        None => None,
        Some(q) => Some(
            query::parse(
                q,
                &ParseOptions {
                    allow_fields: SEARCH_FIELDS,
                },
            )
            .map_err(|e| ApiError {
                status: StatusCode::BAD_REQUEST,
                body: json!({
                    "error": format!("invalid search query: column {}: {}", e.column, e.message),
                    "parameter": "q",
                    "column": e.column,
                }),
            })?,
        ),
    };
    let sentiment = get(p, "sentiment")
        .map(|s| {
            Label::parse(s).ok_or_else(|| {
                ApiError::bad(
                    "sentiment",
                    format!("`{s}` is not negative, neutral or positive"),
                )
            })
        })
        .transpose()?;
    let sort = match get(p, "sort") {
        None => Sort::Newest,
        Some(s) => Sort::parse(s).ok_or_else(|| {
            ApiError::bad(
                "sort",
                format!("`{s}` is not newest, oldest, relevance or reach"),
            )
        })?,
    };
    let lang = get(p, "lang").map(str::to_ascii_lowercase);
    if let Some(l) = &lang
        && (l.len() != 2 || !l.chars().all(|c| c.is_ascii_lowercase()))
    {
        return Err(ApiError::bad(
            "lang",
            format!("`{l}` is not an ISO 639-1 code"),
        ));
    }
    let since = when(p, "since")?;
    let until = when(p, "until")?;
    if let (Some(s), Some(u)) = (since, until)
        && s >= u
    {
        return Err(ApiError::bad("until", "`until` must be after `since`"));
    }
    let status = get(p, "status")
        .map(|s| {
            crate::triage::Status::parse(s).ok_or_else(|| {
                ApiError::bad(
                    "status",
                    format!("`{s}` is not new, in_progress or handled"),
                )
            })
        })
        .transpose()?;
    let relevance = match get(p, "irrelevant") {
        None | Some("false") => Relevance::Relevant,
        Some("true") => Relevance::Irrelevant,
        Some("any") => Relevance::Any,
        Some(v) => {
            return Err(ApiError::bad(
                "irrelevant",
                format!("`{v}` is not true, false or any"),
            ));
        }
    };
    Ok(SearchRequest {
        expr,
        query: query_name(app, p)?,
        since,
        until,
        sentiment,
        source: get(p, "source").map(str::to_string),
        lang,
        status,
        tag: get(p, "tag").map(str::to_string),
        relevance,
        sort,
        limit: number(p, "limit", 20, 10_000)?,
        offset: number(p, "offset", 0, 1_000_000)?,
    })
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(ApiError::internal)?
}

async fn search_handler(
    State(app): State<Arc<AppState>>,
    Query(p): Params,
) -> Result<Response, ApiError> {
    only(
        &p,
        &[
            "q",
            "query",
            "since",
            "until",
            "sentiment",
            "source",
            "lang",
            "status",
            "tag",
            "irrelevant",
            "sort",
            "limit",
            "offset",
            "format",
        ],
    )?;
    let req = search_request(&app, &p)?;
    let format = match get(&p, "format").unwrap_or("json") {
        "json" => crate::export::MentionFormat::Json,
        "csv" => crate::export::MentionFormat::Csv,
        "jsonl" => crate::export::MentionFormat::Jsonl,
        other => {
            return Err(ApiError::bad(
                "format",
                format!("`{other}` is not json, jsonl or csv"),
            ));
        }
    };
    let app2 = app.clone();
    let started = Instant::now();
    let body = blocking(move || {
        let result = search(&app2.index, &req).map_err(ApiError::internal)?;
        let mut out = Vec::new();
        crate::export::write_mentions(&mut out, &result, format).map_err(ApiError::internal)?;
        Ok(out)
    })
    .await?;
    app.metrics.observe_search(started.elapsed());
    Ok(match format {
        crate::export::MentionFormat::Csv => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"hark-mentions.csv\"",
                ),
            ],
            body,
        )
            .into_response(),
        crate::export::MentionFormat::Jsonl => {
            ([(header::CONTENT_TYPE, "application/x-ndjson")], body).into_response()
        }
        _ => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
    })
}

async fn mention_handler(
    State(app): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<axum::Json<Mention>, ApiError> {
    let app2 = app.clone();
    let found = blocking(move || {
        app2.index
            .get(&id)
            .map_err(ApiError::internal)?
            .ok_or_else(|| ApiError {
                status: StatusCode::NOT_FOUND,
                body: json!({"error": format!("no mention with id `{id}`")}),
            })
    })
    .await?;
    Ok(axum::Json(found))
}

/// `PATCH /api/mentions/{id}` with any of `{"status", "tags", "add_tags", "remove_tags",
/// "irrelevant", "sentiment"}`: the mention as it now is. A JSON body is required
/// (`Content-Type: application/json`), which a cross-site form cannot send.
async fn patch_mention_handler(
    State(app): State<Arc<AppState>>,
    caller: Option<axum::Extension<super::Caller>>,
    Path(id): Path<String>,
    body: Result<axum::Json<crate::triage::Change>, axum::extract::rejection::JsonRejection>,
) -> Result<axum::Json<Mention>, ApiError> {
    let change = change_from(body)?;
    let mut updated = triage_ids(&app, &by(&caller), vec![id], change).await?;
    Ok(axum::Json(updated.remove(0)))
}

/// The body of `POST /api/mentions/bulk`: the mentions (`ids`, or a `search` with the
/// parameters of `/api/search`) and the change.
#[derive(serde::Deserialize)]
struct Bulk {
    #[serde(default)]
    ids: Vec<String>,
    #[serde(default)]
    search: Option<HashMap<String, Value>>,
    #[serde(flatten)]
    change: crate::triage::Change,
}

/// Most mentions one bulk action changes.
const BULK_MAX: usize = 10_000;

async fn bulk_mentions_handler(
    State(app): State<Arc<AppState>>,
    caller: Option<axum::Extension<super::Caller>>,
    body: Result<axum::Json<Value>, axum::extract::rejection::JsonRejection>,
) -> Result<axum::Json<Value>, ApiError> {
    let axum::Json(v) = body.map_err(|e| ApiError::bad("body", e.body_text()))?;
    let bulk: Bulk = serde_json::from_value(v).map_err(|e| ApiError::bad("body", e.to_string()))?;
    let mut ids = bulk.ids;
    if let Some(s) = bulk.search {
        let p: HashMap<String, String> = s
            .into_iter()
            .map(|(k, v)| {
                let v = match v {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                (k, v)
            })
            .collect();
        let mut req = search_request(&app, &p)?;
        req.limit = BULK_MAX;
        req.offset = 0;
        let app2 = app.clone();
        let found = blocking(move || search(&app2.index, &req).map_err(ApiError::internal)).await?;
        if found.total > BULK_MAX {
            return Err(ApiError::bad(
                "search",
                format!(
                    "the search finds {} mentions; a bulk action changes at most {BULK_MAX}: narrow it",
                    found.total
                ),
            ));
        }
        ids.extend(found.mentions.into_iter().map(|m| m.id));
    }
    ids.sort();
    ids.dedup();
    if ids.is_empty() {
        return Ok(axum::Json(json!({"updated": 0, "ids": []})));
    }
    let updated = triage_ids(&app, &by(&caller), ids, bulk.change).await?;
    let ids: Vec<&str> = updated.iter().map(|m| m.id.as_str()).collect();
    Ok(axum::Json(json!({"updated": ids.len(), "ids": ids})))
}

/// The audit log's name for the caller.
fn by(caller: &Option<axum::Extension<super::Caller>>) -> String {
    caller
        .as_ref()
        .map_or_else(|| "api".to_string(), |c| c.name.clone())
}

fn change_from(
    body: Result<axum::Json<crate::triage::Change>, axum::extract::rejection::JsonRejection>,
) -> Result<crate::triage::Change, ApiError> {
    let axum::Json(change) = body.map_err(|e| ApiError::bad("body", e.body_text()))?;
    Ok(change)
}

/// Applies `change` to `ids` through the deployment's write path (see
/// [`super::MentionWrites`]) and returns the changed mentions.
async fn triage_ids(
    app: &Arc<AppState>,
    by: &str,
    ids: Vec<String>,
    change: crate::triage::Change,
) -> Result<Vec<Mention>, ApiError> {
    use crate::triage::TriageError;
    let state = app.state.get().map_err(|e| ApiError {
        status: StatusCode::CONFLICT,
        body: json!({"error": e}),
    })?;
    let app2 = app.clone();
    let st = state.clone();
    let by = by.to_string();
    let (mentions, updates) = blocking(move || {
        crate::triage::prepare(&app2.index, &st, &ids, &change, &by, Utc::now()).map_err(
            |e| match e {
                TriageError::Unknown(_) => ApiError {
                    status: StatusCode::NOT_FOUND,
                    body: json!({"error": e.to_string()}),
                },
                TriageError::Empty => ApiError::bad("body", e.to_string()),
                other => ApiError::internal(other),
            },
        )
    })
    .await?;
    app.writes
        .write(&app.index, &state, mentions.clone(), Vec::new(), updates)
        .await
        .map_err(|e| ApiError {
            status: StatusCode::CONFLICT,
            body: json!({"error": e.to_string()}),
        })?;
    Ok(mentions)
}

fn query_config(app: &AppState, name: &str) -> Result<crate::config::QueryConfig, ApiError> {
    app.config.query(name).cloned().ok_or_else(|| ApiError {
        status: StatusCode::NOT_FOUND,
        body: json!({"error": format!("no query named `{name}`")}),
    })
}

/// `GET /api/queries/{name}/exclusions`: words that set the mentions marked irrelevant
/// apart (`proposed`, with how many irrelevant and relevant mentions contain each), and the
/// `accepted` ones.
async fn exclusions_get_handler(
    State(app): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let q = query_config(&app, &name)?;
    let state = state_of(&app)?;
    let app2 = app.clone();
    blocking(move || {
        let proposed =
            crate::exclusions::propose(&app2.index, &q, 20).map_err(ApiError::internal)?;
        let mut accepted: Vec<String> = state
            .exclusions()
            .map_err(ApiError::internal)?
            .remove(&q.name)
            .map(|w| w.into_iter().collect())
            .unwrap_or_default();
        accepted.sort();
        Ok(axum::Json(
            json!({"query": q.name, "proposed": proposed, "accepted": accepted}),
        ))
    })
    .await
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ExclusionChange {
    #[serde(default)]
    accept: Vec<String>,
    #[serde(default)]
    remove: Vec<String>,
}

/// `POST /api/queries/{name}/exclusions` `{"accept": [...], "remove": [...]}`: the accepted
/// words after the change; they apply to mentions collected from the next `hark run` on.
async fn exclusions_post_handler(
    State(app): State<Arc<AppState>>,
    caller: Option<axum::Extension<super::Caller>>,
    Path(name): Path<String>,
    body: Result<axum::Json<ExclusionChange>, axum::extract::rejection::JsonRejection>,
) -> Result<axum::Json<Value>, ApiError> {
    let axum::Json(change) = body.map_err(|e| ApiError::bad("body", e.body_text()))?;
    let q = query_config(&app, &name)?;
    let state = state_of(&app)?;
    let by = by(&caller);
    blocking(move || {
        let words = crate::exclusions::apply_change(
            state.exclusions().map_err(ApiError::internal)?.remove(&q.name),
            &change.accept,
            &change.remove,
        )
        .map_err(|e| ApiError::bad("accept", e))?;
        let at = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        state
            .apply(&[
                crate::state::StateUpdate::Exclusions {
                    query: q.name.clone(),
                    words: words.clone(),
                },
                crate::state::StateUpdate::Audit(json!({"at": at, "by": by, "action": "exclusions", "query": q.name, "accept": change.accept, "remove": change.remove})),
            ])
            .map_err(ApiError::internal)?;
        Ok(axum::Json(json!({"query": q.name, "accepted": words})))
    })
    .await
}

fn state_of(app: &AppState) -> Result<Arc<crate::state::StateStore>, ApiError> {
    app.state.get().map_err(|e| ApiError {
        status: StatusCode::CONFLICT,
        body: json!({"error": e}),
    })
}

/// `GET /api/saved-searches`: `{"saved": [{name, params, by, at, alert?}]}`.
async fn saved_list_handler(
    State(app): State<Arc<AppState>>,
) -> Result<axum::Json<Value>, ApiError> {
    let state = state_of(&app)?;
    let saved = blocking(move || state.saved_searches().map_err(ApiError::internal)).await?;
    let shown: Vec<Value> = saved
        .iter()
        .map(|s| crate::saved::public_view(s, &app.config.queries))
        .collect();
    Ok(axum::Json(json!({"saved": shown})))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SavePut {
    name: String,
    /// The parameters of /api/search.
    search: HashMap<String, Value>,
}

fn string_params(p: HashMap<String, Value>) -> HashMap<String, String> {
    p.into_iter()
        .map(|(k, v)| {
            let v = match v {
                Value::String(s) => s,
                other => other.to_string(),
            };
            (k, v)
        })
        .filter(|(_, v)| !v.is_empty())
        .collect()
}

/// `POST /api/saved-searches` `{"name", "search": {…}}`: saves (or replaces) a search; its
/// parameters are checked as `/api/search` checks them.
async fn saved_put_handler(
    State(app): State<Arc<AppState>>,
    caller: Option<axum::Extension<super::Caller>>,
    body: Result<axum::Json<SavePut>, axum::extract::rejection::JsonRejection>,
) -> Result<axum::Json<Value>, ApiError> {
    let axum::Json(put) = body.map_err(|e| ApiError::bad("body", e.body_text()))?;
    if !crate::saved::valid_name(&put.name) {
        return Err(ApiError::bad(
            "name",
            "a name of letters, digits, spaces, - and _ (at most 64)",
        ));
    }
    let params = string_params(put.search);
    const KEYS: &[&str] = &[
        "q",
        "query",
        "since",
        "until",
        "sentiment",
        "source",
        "lang",
        "status",
        "tag",
        "irrelevant",
        "sort",
    ];
    only(&params, KEYS)?;
    search_request(&app, &params)?;
    let state = state_of(&app)?;
    let existing = {
        let st = state.clone();
        blocking(move || st.saved_searches().map_err(ApiError::internal)).await?
    };
    let at = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let saved = crate::saved::SavedSearch {
        name: put.name.trim().to_string(),
        params: params.into_iter().collect(),
        by: by(&caller),
        at: at.clone(),
        // Re-saving keeps the alert made from it.
        alert: existing
            .into_iter()
            .find(|s| s.name == put.name.trim())
            .and_then(|s| s.alert),
    };
    let out = crate::saved::public_view(&saved, &app.config.queries);
    let updates = vec![
        crate::state::StateUpdate::SavedPut(saved),
        crate::state::StateUpdate::Audit(
            json!({"at": at, "by": by(&caller), "action": "save_search", "name": put.name.trim()}),
        ),
    ];
    blocking(move || state.apply(&updates).map_err(ApiError::internal)).await?;
    Ok(axum::Json(out))
}

async fn saved_delete_handler(
    State(app): State<Arc<AppState>>,
    caller: Option<axum::Extension<super::Caller>>,
    Path(name): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let state = state_of(&app)?;
    let by = by(&caller);
    blocking(move || {
        if !state
            .saved_searches()
            .map_err(ApiError::internal)?
            .iter()
            .any(|s| s.name == name)
        {
            return Err(ApiError {
                status: StatusCode::NOT_FOUND,
                body: json!({"error": format!("no saved search named `{name}`")}),
            });
        }
        let at = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        state
            .apply(&[
                crate::state::StateUpdate::SavedRemove(name.clone()),
                crate::state::StateUpdate::Audit(
                    json!({"at": at, "by": by, "action": "delete_saved_search", "name": name}),
                ),
            ])
            .map_err(ApiError::internal)?;
        Ok(axum::Json(json!({"removed": name})))
    })
    .await
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct AlertMe {
    /// `keyword` (the search's text in its query) or `volume` (a volume spike of its query).
    kind: String,
    #[serde(default)]
    webhook: Option<String>,
    #[serde(default)]
    email: Vec<String>,
}

/// `POST /api/saved-searches/{name}/alert` `{"kind": "keyword"|"volume", "webhook"?,
/// "email"?}`: makes the saved search an alert rule, evaluated by `hark run` from its next
/// evaluation on (no file to edit).
async fn saved_alert_handler(
    State(app): State<Arc<AppState>>,
    caller: Option<axum::Extension<super::Caller>>,
    Path(name): Path<String>,
    body: Result<axum::Json<AlertMe>, axum::extract::rejection::JsonRejection>,
) -> Result<axum::Json<Value>, ApiError> {
    let axum::Json(req) = body.map_err(|e| ApiError::bad("body", e.body_text()))?;
    // Where alerts are sent is an admin's choice: a webhook is a request from this server
    // to any address.
    if (req.webhook.is_some() || !req.email.is_empty())
        && caller
            .as_ref()
            .is_some_and(|c| c.role != crate::users::Role::Admin)
    {
        return Err(ApiError {
            status: StatusCode::FORBIDDEN,
            body: json!({"error": "only an admin may send alerts to a webhook or e-mail; an editor may create the rule without channels"}),
        });
    }
    if !req.email.is_empty() && app.config.smtp.is_none() {
        return Err(ApiError::bad(
            "email",
            "e-mail alerts need an [smtp] section in hark.toml",
        ));
    }
    let state = state_of(&app)?;
    let by = by(&caller);
    let app2 = app.clone();
    blocking(move || {
        let mut saved = state
            .saved_searches()
            .map_err(ApiError::internal)?
            .into_iter()
            .find(|s| s.name == name)
            .ok_or_else(|| ApiError {
                status: StatusCode::NOT_FOUND,
                body: json!({"error": format!("no saved search named `{name}`")}),
            })?;
        let (rule, toml) = crate::saved::alert_rule(
            &saved,
            &req.kind,
            req.webhook.as_deref(),
            &req.email,
            &app2.config.queries,
        )
        .map_err(|e| ApiError::bad("kind", e))?;
        if app2.config.alerts.iter().any(|r| r.name == rule.name) {
            return Err(ApiError::bad(
                "name",
                format!("a rule file already defines `{}`", rule.name),
            ));
        }
        saved.alert = Some(crate::saved::SavedAlert {
            rule: rule.name.clone(),
            toml,
        });
        let at = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        state
            .apply(&[
                crate::state::StateUpdate::SavedPut(saved),
                crate::state::StateUpdate::Audit(json!({"at": at, "by": by, "action": "alert_from_search", "name": name, "rule": rule.name})),
            ])
            .map_err(ApiError::internal)?;
        Ok(axum::Json(
            json!({"rule": rule.name, "kind": rule.kind, "query": rule.query}),
        ))
    })
    .await
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct DeleteRequest {
    #[serde(default)]
    author: Option<String>,
    /// The match language, as `q` of /api/search.
    #[serde(default)]
    query: Option<String>,
    #[serde(default)]
    before: Option<String>,
    #[serde(default)]
    dry_run: bool,
}

/// `POST /api/delete` (admins): the API of `hark delete`: `{"author"|"query"|"before",
/// "dry_run"}` → `{"dry_run", "matched"|"deleted", "ids"}`. Erased mentions are never stored
/// again.
async fn delete_handler(
    State(app): State<Arc<AppState>>,
    caller: Option<axum::Extension<super::Caller>>,
    body: Result<axum::Json<DeleteRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<axum::Json<Value>, ApiError> {
    if caller
        .as_ref()
        .is_some_and(|c| c.role != crate::users::Role::Admin)
    {
        return Err(ApiError {
            status: StatusCode::FORBIDDEN,
            body: json!({"error": "only an admin may delete mentions"}),
        });
    }
    let axum::Json(d) = body.map_err(|e| ApiError::bad("body", e.body_text()))?;
    let expr = d
        .query
        .as_deref()
        .map(|q| {
            query::parse(
                q,
                &ParseOptions {
                    allow_fields: SEARCH_FIELDS,
                },
            )
            .map_err(|e| ApiError::bad("query", format!("column {}: {}", e.column, e.message)))
        })
        .transpose()?;
    let before = d
        .before
        .as_deref()
        .map(|w| parse_when(w, Utc::now()).map_err(|e| ApiError::bad("before", e.to_string())))
        .transpose()?;
    let sel = crate::index::erase::Selection {
        author: d.author.filter(|a| !a.trim().is_empty()),
        expr,
        before,
    };
    if sel.is_empty() {
        return Err(ApiError::bad(
            "body",
            "give at least one of author, query, before",
        ));
    }
    let app2 = app.clone();
    let ids = blocking(move || {
        crate::index::erase::select(&app2.index, &sel).map_err(ApiError::internal)
    })
    .await?;
    if d.dry_run || ids.is_empty() {
        return Ok(axum::Json(
            json!({"dry_run": d.dry_run, "matched": ids.len(), "ids": ids}),
        ));
    }
    let state = app.state.get().map_err(|e| ApiError {
        status: StatusCode::CONFLICT,
        body: json!({"error": e}),
    })?;
    let at = Utc::now();
    let mut updates: Vec<crate::state::StateUpdate> = ids
        .iter()
        .map(|id| crate::state::StateUpdate::Erased {
            id: id.clone(),
            at: at.timestamp(),
        })
        .collect();
    updates.push(crate::state::StateUpdate::Audit(json!({
        "at": at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "by": by(&caller),
        "action": "delete",
        "count": ids.len(),
        "ids": ids.iter().take(1000).collect::<Vec<_>>(),
    })));
    app.writes
        .write(&app.index, &state, Vec::new(), ids.clone(), updates)
        .await
        .map_err(|e| ApiError {
            status: StatusCode::CONFLICT,
            body: json!({"error": e.to_string()}),
        })?;
    Ok(axum::Json(
        json!({"dry_run": false, "deleted": ids.len(), "ids": ids}),
    ))
}

#[derive(serde::Deserialize)]
struct Login {
    name: String,
    password: String,
}

/// `POST /api/login` with `{"name", "password"}`: a session cookie (HttpOnly,
/// SameSite=Strict) and `{"name", "role", "csrf"}`; writes in the session need the `csrf`
/// value in `X-CSRF-Token`.
async fn login_handler(
    State(app): State<Arc<AppState>>,
    body: Result<axum::Json<Login>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let axum::Json(login) = body.map_err(|e| ApiError::bad("body", e.body_text()))?;
    let state = app.state.get().map_err(|e| ApiError {
        status: StatusCode::CONFLICT,
        body: json!({"error": e}),
    })?;
    let user = blocking(move || {
        let users = state.users().map_err(ApiError::internal)?;
        let found = users.into_iter().find(|u| u.name == login.name);
        // Verified even for an unknown name, so that timing does not tell names apart.
        let hash = found
            .as_ref()
            .and_then(|u| u.password_argon2.clone())
            .unwrap_or_else(|| crate::users::hash_password("not the password"));
        let ok = crate::users::verify_password(&login.password, &hash);
        Ok(found.filter(|u| ok && u.password_argon2.is_some()))
    })
    .await?
    .ok_or_else(|| ApiError {
        status: StatusCode::UNAUTHORIZED,
        body: json!({"error": "wrong name or password"}),
    })?;
    let (sid, csrf) = app.sessions.open(&user.name, user.role);
    let cookie = format!(
        "{}={sid}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
        super::SESSION_COOKIE,
        super::SESSION_LIFETIME.as_secs()
    );
    Ok((
        [(header::SET_COOKIE, cookie)],
        axum::Json(json!({"name": user.name, "role": user.role.as_str(), "csrf": csrf})),
    )
        .into_response())
}

/// `POST /api/logout`: ends the browser's session.
async fn logout_handler(
    State(app): State<Arc<AppState>>,
    headers: axum::http::HeaderMap,
) -> Response {
    if let Some(sid) = super::cookie(&headers, super::SESSION_COOKIE) {
        app.sessions.close(&sid);
    }
    (
        [(
            header::SET_COOKIE,
            format!(
                "{}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0",
                super::SESSION_COOKIE
            ),
        )],
        axum::Json(json!({"logged_out": true})),
    )
        .into_response()
}

/// `GET /api/audit?limit=N`: who changed what, when (newest first).
async fn audit_handler(
    State(app): State<Arc<AppState>>,
    Query(p): Params,
) -> Result<axum::Json<Value>, ApiError> {
    only(&p, &["limit"])?;
    let limit = number(&p, "limit", 100, 10_000)?;
    let state = app.state.get().map_err(|e| ApiError {
        status: StatusCode::CONFLICT,
        body: json!({"error": e}),
    })?;
    let entries = blocking(move || state.audit(limit).map_err(ApiError::internal)).await?;
    Ok(axum::Json(json!({"entries": entries})))
}

fn interval(p: &HashMap<String, String>) -> Result<Interval, ApiError> {
    match get(p, "interval").unwrap_or("day") {
        "day" => Ok(Interval::Day),
        "hour" => Ok(Interval::Hour),
        other => Err(ApiError::bad(
            "interval",
            format!("`{other}` is not hour or day"),
        )),
    }
}

async fn stats_handler(
    State(app): State<Arc<AppState>>,
    Query(p): Params,
) -> Result<axum::Json<Value>, ApiError> {
    only(
        &p,
        &[
            "query",
            "since",
            "until",
            "interval",
            "q",
            "sentiment",
            "source",
            "lang",
        ],
    )?;
    let mut req = search_request(&app, &p)?;
    req.sort = Sort::Newest;
    let iv = interval(&p)?;
    // Hourly buckets over years would be a huge answer: cap the bucket count.
    let span =
        req.until.unwrap_or_else(Utc::now) - req.since.unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
    if iv == Interval::Hour && span > chrono::Duration::days(400) {
        return Err(ApiError::bad(
            "interval",
            "hourly buckets are limited to 400 days: give `since` or use interval=day",
        ));
    }
    let app2 = app.clone();
    blocking(move || {
        let filter = filter_query(&app2.index, &req).map_err(ApiError::internal)?;
        let s = stats(
            &app2.index,
            &*filter,
            req.query.as_deref(),
            req.since,
            req.until,
            iv,
        )
        .map_err(ApiError::internal)?;
        serde_json::to_value(s)
            .map(axum::Json)
            .map_err(ApiError::internal)
    })
    .await
}

async fn queries_handler(State(app): State<Arc<AppState>>) -> axum::Json<Value> {
    axum::Json(Value::Array(
        app.config
            .queries
            .iter()
            .map(|q| {
                json!({
                    "name": q.name,
                    "match": q.match_text,
                    "languages": q.languages,
                    "sources": q.sources,
                    "search_terms": q.search_terms,
                })
            })
            .collect(),
    ))
}

async fn alerts_handler(
    State(app): State<Arc<AppState>>,
    Query(p): Params,
) -> Result<axum::Json<Value>, ApiError> {
    only(&p, &["query", "since", "until", "limit"])?;
    let q = query_name(&app, &p)?;
    let since = when(&p, "since")?;
    let until = when(&p, "until")?;
    let limit = number(&p, "limit", 100, 10_000)?;
    let handle = app.state.clone();
    blocking(move || {
        let state = handle.get().map_err(|e| ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            body: json!({ "error": e }),
        })?;
        let list = Outbox::new(&state).list().map_err(ApiError::internal)?;
        let items: Vec<Value> = list
            .into_iter()
            .rev()
            .filter(|s| q.as_deref().is_none_or(|q| s.alert.query == q))
            .filter(|s| since.is_none_or(|t| s.alert.fired_at >= t))
            .filter(|s| until.is_none_or(|t| s.alert.fired_at < t))
            .take(limit)
            .map(|s| {
                let a = &s.alert;
                json!({
                    "id": a.id, "incident": a.incident, "update": a.update,
                    "rule": a.rule, "query": a.query, "kind": a.kind,
                    "fired_at": crate::mention::format_time(&a.fired_at),
                    "window_start": crate::mention::format_time(&a.window_start),
                    "window_end": crate::mention::format_time(&a.window_end),
                    "observed": a.observed, "expected": a.expected, "p_value": a.p_value,
                    "summary": a.summary(),
                    "title": a.headline(),
                    "mentions": a.mentions.iter().map(|m| m.id.clone()).collect::<Vec<_>>(),
                    "drivers": a.drivers,
                    "driving_source": a.driving_source,
                    "driving_author": a.driving_author,
                    "deliveries": s.deliveries.iter().map(|d| json!({
                        "channel": d.channel.describe(),
                        "state": d.status,
                        "attempts": d.attempts,
                        "last_error": d.last_error,
                        "delivered_at": d.delivered_at.map(|t| crate::mention::format_time(&t)),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        Ok(axum::Json(Value::Array(items)))
    })
    .await
}

async fn share_handler(
    State(app): State<Arc<AppState>>,
    Query(p): Params,
) -> Result<axum::Json<Value>, ApiError> {
    only(&p, &["since", "until", "queries"])?;
    let since = when(&p, "since")?;
    let until = when(&p, "until")?;
    let names: Vec<String> = match get(&p, "queries") {
        Some(list) => {
            let names: Vec<String> = list
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect();
            for n in &names {
                if app.config.query(n).is_none() {
                    return Err(ApiError::bad("queries", format!("no query named `{n}`")));
                }
            }
            names
        }
        None => app.config.queries.iter().map(|q| q.name.clone()).collect(),
    };
    let app2 = app.clone();
    blocking(move || {
        let rows = share_of_voice(&app2.index, &names, since, until).map_err(ApiError::internal)?;
        Ok(axum::Json(json!({
            "since": since.map(|t| crate::mention::format_time(&t)),
            "until": until.map(|t| crate::mention::format_time(&t)),
            "queries": rows,
        })))
    })
    .await
}

async fn top_handler(
    State(app): State<Arc<AppState>>,
    Query(p): Params,
) -> Result<axum::Json<Value>, ApiError> {
    only(
        &p,
        &[
            "query",
            "since",
            "until",
            "by",
            "limit",
            "sentiment",
            "source",
            "lang",
            "q",
        ],
    )?;
    let by_authors = match get(&p, "by").unwrap_or("authors") {
        "authors" => true,
        "sources" => false,
        other => {
            return Err(ApiError::bad(
                "by",
                format!("`{other}` is not authors or sources"),
            ));
        }
    };
    let mut p2 = p.clone();
    p2.remove("by");
    let limit = number(&p, "limit", 10, 1000)?;
    p2.remove("limit");
    let req = search_request(&app, &p2)?;
    let app2 = app.clone();
    blocking(move || {
        let rows = top(&app2.index, &req, by_authors, limit).map_err(ApiError::internal)?;
        Ok(axum::Json(Value::Array(
            rows.into_iter()
                .map(|(name, mentions, reach)| json!({"name": name, "mentions": mentions, "reach": reach}))
                .collect(),
        )))
    })
    .await
}

async fn openapi_handler() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        include_str!("openapi.json"),
    )
}
