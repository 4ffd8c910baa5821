//! `hark serve`: the read-only HTTP API and the web UI, on the same axum server.
//!
//! Every endpoint reads the index through the same code as the CLI (`index::search`,
//! `index::stats`), so the API, the CLI and the reports agree. Parameters are validated
//! strictly: an unknown parameter or a malformed value is a 400 with a JSON body
//! `{"error": "...", "parameter": "..."}` (a query syntax error names its column); user input
//! never causes a 500.
//!
//! Auth: when a token is configured (`[server].token_env`), every request except `/healthz`
//! needs `Authorization: Bearer TOKEN` (or `?token=TOKEN`, for CSV download links), compared
//! in constant time. The CLI refuses to listen on a non-loopback address without a token.

pub mod api;
pub mod metrics;
pub mod settings;
pub mod ui;

use crate::config::Config;
use crate::index::MentionIndex;
use crate::state::StateStore;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// What the handlers share.
pub struct AppState {
    pub index: Arc<MentionIndex>,
    pub config: Arc<Config>,
    /// The state store (alert history).
    pub state: StateHandle,
    pub token: Option<String>,
    pub metrics: Arc<metrics::Metrics>,
    /// How edits (triage) reach the index.
    pub writes: MentionWrites,
    /// The users (from the state store), re-read every few seconds.
    pub users: UserCache,
    /// Web UI log-in sessions (in memory: a restart logs everyone out).
    pub sessions: Sessions,
}

/// A logged-in browser: who, and the CSRF token its writes must carry.
#[derive(Debug, Clone)]
pub struct Session {
    pub name: String,
    pub role: crate::users::Role,
    pub csrf: String,
    pub expires: std::time::Instant,
}

/// Session id (the `hark_session` cookie) → session.
#[derive(Default)]
pub struct Sessions {
    inner: std::sync::Mutex<std::collections::HashMap<String, Session>>,
}

/// How long a log-in lasts.
pub const SESSION_LIFETIME: std::time::Duration = std::time::Duration::from_secs(12 * 3600);
pub const SESSION_COOKIE: &str = "hark_session";

impl Sessions {
    /// A new session for `name`: (session id, CSRF token).
    pub fn open(&self, name: &str, role: crate::users::Role) -> (String, String) {
        let (sid, csrf) = (crate::users::new_token(), crate::users::new_token());
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let now = std::time::Instant::now();
        g.retain(|_, s| s.expires > now);
        g.insert(
            sid.clone(),
            Session {
                name: name.to_string(),
                role,
                csrf: csrf.clone(),
                expires: now + SESSION_LIFETIME,
            },
        );
        (sid, csrf)
    }

    pub fn get(&self, sid: &str) -> Option<Session> {
        let g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        g.get(sid)
            .filter(|s| s.expires > std::time::Instant::now())
            .cloned()
    }

    pub fn close(&self, sid: &str) {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(sid);
    }
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// Who is calling: resolved by `auth` for every request and passed to the handlers.
#[derive(Debug, Clone)]
pub struct Caller {
    pub name: String,
    pub role: crate::users::Role,
}

/// The users of the state store by token digest, re-read at most every 5 s (a standalone
/// `hark serve` opens the store only for that).
#[derive(Default)]
pub struct UserCache {
    inner: std::sync::Mutex<Option<(std::time::Instant, Arc<UserMap>)>>,
}

/// Token digest → (name, role).
pub type UserMap = std::collections::HashMap<String, (String, crate::users::Role)>;

impl UserCache {
    fn current(&self, state: &StateHandle) -> Arc<UserMap> {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((at, map)) = g.as_ref()
            && at.elapsed() < std::time::Duration::from_secs(5)
        {
            return map.clone();
        }
        let fresh = state
            .get()
            .and_then(|s| s.users().map_err(|e| e.to_string()))
            .inspect_err(|e| tracing::warn!(error = %e, "cannot re-read the users: the last known ones stay in force"))
            .ok()
            .map(|users| {
            Arc::new(
                users
                    .into_iter()
                    .map(|u| (u.token_sha256, (u.name, u.role)))
                    .collect::<UserMap>(),
            )
        });
        // The store unavailable for a moment (another process writing): keep what we had.
        let map = fresh
            .or_else(|| g.as_ref().map(|(_, m)| m.clone()))
            .unwrap_or_default();
        *g = Some((std::time::Instant::now(), map.clone()));
        map
    }
}

/// How the server writes edited mentions. The index has one writer at a time: in
/// `hark run --serve` it is the pipeline's, so edits go through its sink (and are committed
/// with its crash-safe order); a standalone `hark serve` opens one for the edit, which fails
/// clearly while a separate `hark run` holds the index.
#[derive(Clone)]
pub enum MentionWrites {
    Pipeline(tokio::sync::mpsc::Sender<crate::pipeline::Enriched>),
    Direct,
}

impl MentionWrites {
    /// Writes `mentions` and, once they are committed, `updates`; returns when both are
    /// durable, so that the next read sees them.
    pub async fn write(
        &self,
        index: &Arc<MentionIndex>,
        state: &Arc<StateStore>,
        mentions: Vec<crate::mention::Mention>,
        retract: Vec<String>,
        updates: Vec<crate::state::StateUpdate>,
    ) -> Result<(), EditError> {
        match self {
            MentionWrites::Pipeline(tx) => {
                let (done, wait) = tokio::sync::oneshot::channel();
                tx.send(crate::pipeline::Enriched {
                    mentions,
                    checkpoint: updates,
                    retract,
                    ack: Some(done),
                })
                .await
                .map_err(|_| EditError::ShuttingDown)?;
                wait.await.map_err(|_| EditError::NotCommitted)
            }
            MentionWrites::Direct => {
                // One edit at a time in this process: the index has one writer.
                static WRITING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
                let _one_at_a_time = WRITING.lock().await;
                let (index, state) = (index.clone(), state.clone());
                tokio::task::spawn_blocking(move || {
                    crate::triage::write_direct(&index, &state, &retract, &mentions, &updates)
                        .map_err(EditError::Direct)
                })
                .await
                .map_err(|e| EditError::Crashed(e.to_string()))?
            }
        }
    }
}

/// Why an edit of mentions (triage, deletion) was not stored.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("the pipeline is shutting down")]
    ShuttingDown,
    #[error("the edit was not committed (the pipeline stopped)")]
    NotCommitted,
    #[error(
        "{0} (a separate `hark run` holds the index: serve with `hark run --serve` to edit mentions)"
    )]
    Direct(#[source] crate::triage::TriageError),
    #[error("the edit failed: {0}")]
    Crashed(String),
}

/// How the server reaches the state store (alert history).
///
/// redb lets one process at a time open a database. `hark run --serve` shares the store its
/// pipeline holds; a standalone `hark serve` opens it only for the request that needs it
/// and closes it straight after, so it never locks the team's CLI (`hark import`, `hark
/// alerts list`, `hark run --once`) out of the deployment.
#[derive(Clone)]
pub enum StateHandle {
    Shared(Arc<StateStore>),
    /// Requests served at the same time share one open store (redb refuses a second open in
    /// the same process); it closes when the last of them is done.
    OnDemand {
        path: std::path::PathBuf,
        open: Arc<std::sync::Mutex<std::sync::Weak<StateStore>>>,
    },
}

impl StateHandle {
    /// A store opened per request (see the type's docs).
    pub fn on_demand(path: std::path::PathBuf) -> StateHandle {
        StateHandle::OnDemand {
            path,
            open: Arc::default(),
        }
    }

    /// The store, for the duration of one request; an error says why it is unavailable (another
    /// process, such as `hark run`, holding it).
    pub fn get(&self) -> Result<Arc<StateStore>, String> {
        match self {
            StateHandle::Shared(s) => Ok(s.clone()),
            StateHandle::OnDemand { path, open } => {
                let mut current = open.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(s) = current.upgrade() {
                    return Ok(s);
                }
                // The store another request of this process just released may still be
                // closing (redb frees its lock when the last handle is dropped): a few short
                // retries tell that apart from another process holding it.
                let mut attempt = 0;
                let s = loop {
                    match StateStore::open(path) {
                        Ok(s) => break Arc::new(s),
                        Err(_) if attempt < 20 => {
                            attempt += 1;
                            std::thread::sleep(std::time::Duration::from_millis(25));
                        }
                        Err(e) => {
                            return Err(format!(
                                "the state store is unavailable: {e} (while `hark run` holds it, serve with `hark run --serve`)"
                            ));
                        }
                    }
                };
                *current = Arc::downgrade(&s);
                Ok(s)
            }
        }
    }
}

/// The router: API, UI, health and metrics.
pub fn router(app: Arc<AppState>) -> Router {
    Router::new()
        .merge(api::routes())
        .merge(ui::routes())
        .route("/metrics", axum::routing::get(metrics::handler))
        .layer(middleware::from_fn_with_state(app.clone(), auth))
        .route("/healthz", axum::routing::get(healthz))
        .with_state(app)
}

/// `GET /healthz`: 200 "ok" while the process can make progress; 503 with the reason when
/// the pipeline in this process cannot commit (e.g. its disk is full).
async fn healthz(State(app): State<Arc<AppState>>) -> Response {
    match app.metrics.unhealthy() {
        None => "ok\n".into_response(),
        Some(why) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("unhealthy: {why}\n"),
        )
            .into_response(),
    }
}

/// Constant-time equality (no early exit on the first differing byte).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = (a.len() ^ b.len()) as u8 | u8::from(a.len() != b.len());
    for (i, x) in a.iter().enumerate() {
        diff |= x ^ b.get(i % b.len().max(1)).copied().unwrap_or(0);
    }
    diff == 0
}

async fn auth(State(app): State<Arc<AppState>>, mut req: Request, next: Next) -> Response {
    use crate::users::Role;
    let users = {
        let app = app.clone();
        tokio::task::spawn_blocking(move || app.users.current(&app.state))
            .await
            .unwrap_or_default()
    };
    let auth_on = app.token.is_some() || !users.is_empty();
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .map(str::to_string);
    let from_query = req.uri().query().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "token")
            .map(|(_, v)| v.into_owned())
    });
    let given = bearer.or(from_query);
    let bearer_given = given.is_some();
    let caller = given.and_then(|g| {
        if app
            .token
            .as_deref()
            .is_some_and(|t| constant_time_eq(g.as_bytes(), t.as_bytes()))
        {
            return Some(Caller {
                name: "token".into(),
                role: Role::Admin,
            });
        }
        users
            .get(&crate::users::token_digest(&g))
            .map(|(name, role)| Caller {
                name: name.clone(),
                role: *role,
            })
    });
    // A logged-in browser: its session cookie, and for a write its CSRF token (a cookie is
    // sent by the browser whatever page asks; the CSRF token only by hark's own page).
    let mut session = None;
    let caller = match caller {
        Some(c) => Some(c),
        None if !bearer_given => cookie(req.headers(), SESSION_COOKIE)
            .and_then(|sid| app.sessions.get(&sid))
            .map(|s| {
                let c = Caller {
                    name: s.name.clone(),
                    role: s.role,
                };
                session = Some(s);
                c
            }),
        None => None,
    };
    // The UI's page shell and assets carry no data; the page asks for the token itself.
    let path = req.uri().path().to_string();
    let public = (!path.starts_with("/api/") && path != "/metrics") || path == "/api/login";
    let caller = match caller {
        Some(c) => c,
        // No token and no users: a loopback-only deployment, open as before.
        None if !auth_on => Caller {
            name: "local".into(),
            role: Role::Admin,
        },
        None if public => return next.run(req).await,
        None => {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                axum::Json(serde_json::json!({"error": "missing or wrong bearer token"})),
            )
                .into_response();
        }
    };
    let writes = !matches!(
        *req.method(),
        axum::http::Method::GET | axum::http::Method::HEAD
    );
    if writes
        && let Some(s) = &session
        && path != "/api/logout"
    {
        let sent = req
            .headers()
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !constant_time_eq(sent.as_bytes(), s.csrf.as_bytes()) {
            return (
                StatusCode::FORBIDDEN,
                axum::Json(
                    serde_json::json!({"error": "missing or wrong CSRF token (X-CSRF-Token)"}),
                ),
            )
                .into_response();
        }
    }
    let account = path == "/api/login" || path == "/api/logout";
    if writes && path.starts_with("/api/") && !account && !caller.role.can_write() {
        return (
            StatusCode::FORBIDDEN,
            axum::Json(serde_json::json!({"error": format!(
                "{} `{}` may not change data (an editor or admin may)",
                caller.role.as_str(),
                caller.name
            )})),
        )
            .into_response();
    }
    req.extensions_mut().insert(caller);
    next.run(req).await
}

/// Serves until `shutdown` resolves.
/// [`serve`] until SIGINT or SIGTERM (the standalone `hark serve` and `hark demo --serve`).
pub async fn serve_until_signal(
    listener: tokio::net::TcpListener,
    app: Arc<AppState>,
) -> std::io::Result<()> {
    let (tx, mut rx) = tokio::sync::watch::channel(false);
    tokio::spawn(crate::shutdown::forward_signals(tx));
    serve(listener, app, async move {
        let _ = rx.changed().await;
    })
    .await
}

pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Arc<AppState>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(app))
        .with_graceful_shutdown(shutdown)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_comparison() {
        assert!(constant_time_eq(b"s3cret", b"s3cret"));
        assert!(!constant_time_eq(b"s3cret", b"s3creT"));
        assert!(!constant_time_eq(b"s3cret", b"s3cret!"));
        assert!(!constant_time_eq(b"", b"x"));
        assert!(constant_time_eq(b"", b""));
    }
}

#[cfg(test)]
mod state_handle_tests {
    use super::*;

    /// Two requests at once (say `/api/alerts` and `/metrics`) share the store; once both
    /// are done it is closed, so another process can open it.
    #[test]
    fn concurrent_requests_share_one_open_store_and_release_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.redb");
        let h = StateHandle::on_demand(path.clone());
        let a = h.get().unwrap();
        let b = h.get().expect("a second request in the same process");
        assert!(Arc::ptr_eq(&a, &b));
        drop((a, b));
        let other = StateStore::open(&path).expect("closed after the requests");
        drop(other);
        assert!(h.get().is_ok());
    }
}
