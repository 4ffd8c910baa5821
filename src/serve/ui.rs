//! The web UI: three static files compiled into the binary (no build chain, no CDN). The
//! page shell carries no data; the script fetches everything from the JSON API and inserts
//! mention text only as text nodes.

use super::AppState;
use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use std::sync::Arc;

const INDEX: &str = include_str!("ui/index.html");
const APP_JS: &str = include_str!("ui/app.js");
const STYLE: &str = include_str!("ui/style.css");

/// Headers every UI response carries: a strict Content-Security-Policy (own scripts and
/// styles only; inline SVG and data: images allowed), no sniffing, no framing.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

fn page(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
}

pub fn routes() -> Router<Arc<AppState>> {
    use axum::routing::get;
    let index = || async { page("text/html; charset=utf-8", INDEX) };
    Router::new()
        .route("/", get(index))
        .route("/search", get(index))
        .route("/dashboard", get(index))
        .route(
            "/assets/app.js",
            get(|| async { page("text/javascript; charset=utf-8", APP_JS) }),
        )
        .route(
            "/assets/style.css",
            get(|| async { page("text/css; charset=utf-8", STYLE) }),
        )
}
