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

/// The page shell with the deployment's white-label settings (`[server]` `brand_name`,
/// `logo`, `accent_color`): the name escaped into the header and title, the logo as an
/// image served from `/assets/logo`, the colour in `/assets/theme.css` (the CSP allows own
/// stylesheets only, so no inline style).
fn branded_index(server: &crate::config::ServerConfig) -> String {
    let name = server
        .brand_name
        .as_deref()
        .map(crate::display::one_line)
        .filter(|n| !n.is_empty());
    let mut html = INDEX.replace(
        "<link rel=\"stylesheet\" href=\"/assets/style.css\">",
        "<link rel=\"stylesheet\" href=\"/assets/style.css\">\n<link rel=\"stylesheet\" href=\"/assets/theme.css\">",
    );
    if let Some(n) = &name {
        let esc = crate::display::html_escape(n);
        html = html
            .replace("<title>hark</title>", &format!("<title>{esc}</title>"))
            .replace(
                "<a class=\"brand\" href=\"/search\" data-nav=\"search\">hark</a>",
                &format!("<a class=\"brand\" href=\"/search\" data-nav=\"search\">{esc}</a>"),
            );
    }
    if server.logo.is_some() {
        html = html.replace(
            "<a class=\"brand\" href=\"/search\" data-nav=\"search\">",
            "<a class=\"brand\" href=\"/search\" data-nav=\"search\"><img class=\"brand-logo\" src=\"/assets/logo\" alt=\"\">",
        );
    }
    html
}

fn theme_css(server: &crate::config::ServerConfig) -> String {
    match &server.accent_color {
        // Validated when the config loads: '#' and 3 or 6 hex digits.
        Some(c) => format!(
            ":root{{--accent:{c}}}\n.brand-logo{{height:28px;width:auto;vertical-align:middle;margin-right:8px}}\n"
        ),
        None => {
            ".brand-logo{height:28px;width:auto;vertical-align:middle;margin-right:8px}\n".into()
        }
    }
}

fn branded(content_type: &'static str, body: String) -> axum::response::Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

async fn logo(
    axum::extract::State(app): axum::extract::State<Arc<AppState>>,
) -> axum::response::Response {
    let Some(p) = app
        .config
        .server
        .logo
        .as_ref()
        .map(|l| app.config.root.join(l))
    else {
        return axum::http::StatusCode::NOT_FOUND.into_response();
    };
    // Checked when the config loads: a .png, .jpg or .svg file.
    let mime = crate::display::image_mime(&p).unwrap_or("image/svg+xml");
    match tokio::fs::read(&p).await {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, mime),
                // An SVG logo is an image, never a document that runs anything.
                (
                    header::CONTENT_SECURITY_POLICY,
                    "default-src 'none'; style-src 'unsafe-inline'",
                ),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => {
            tracing::warn!(logo = %p.display(), error = %e, "web UI logo unreadable");
            axum::http::StatusCode::NOT_FOUND.into_response()
        }
    }
}

pub fn routes() -> Router<Arc<AppState>> {
    use axum::extract::State;
    use axum::routing::get;
    let index = |State(app): State<Arc<AppState>>| async move {
        branded(
            "text/html; charset=utf-8",
            branded_index(&app.config.server),
        )
    };
    Router::new()
        .route("/", get(index))
        .route("/search", get(index))
        .route("/dashboard", get(index))
        .route(
            "/assets/theme.css",
            get(|State(app): State<Arc<AppState>>| async move {
                branded("text/css; charset=utf-8", theme_css(&app.config.server))
            }),
        )
        .route("/assets/logo", get(logo))
        .route(
            "/assets/app.js",
            get(|| async { page("text/javascript; charset=utf-8", APP_JS) }),
        )
        .route(
            "/assets/style.css",
            get(|| async { page("text/css; charset=utf-8", STYLE) }),
        )
}
