//! `[server]` of hark.toml: where the API and web UI listen, who may use them, and the
//! white-label look (the config loader reads and checks it; `serve/` uses it).

use serde::Deserialize;
use std::path::PathBuf;

/// `[server]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    #[serde(default)]
    pub listen: Option<String>,
    /// Base URL of the web UI, used for links in alerts.
    #[serde(default)]
    pub public_url: Option<String>,
    /// Environment variable holding the API bearer token.
    #[serde(default)]
    pub token_env: Option<String>,
    /// White-label web UI: the name in the header and the page title (default "hark").
    #[serde(default)]
    pub brand_name: Option<String>,
    /// White-label web UI: a PNG, JPEG or SVG logo shown in the header (relative to
    /// hark.toml; checked when the config loads).
    #[serde(default)]
    pub logo: Option<PathBuf>,
    /// White-label web UI: the accent colour, `#rgb` or `#rrggbb`.
    #[serde(default)]
    pub accent_color: Option<String>,
}
