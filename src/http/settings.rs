//! `[http]` in hark.toml: how every outbound request is made (timeouts, retries, size
//! limits, per-host concurrency, the outbound policy switch). The config loader reads it; the
//! shared fetcher owns it.

use std::time::Duration;

/// Shared HTTP fetching settings (see [`super::Fetcher`]).
#[derive(Debug, Clone, PartialEq)]
pub struct HttpConfig {
    pub user_agent: String,
    pub connect_timeout: Duration,
    pub timeout: Duration,
    pub max_body_bytes: u64,
    pub max_redirects: usize,
    pub retries: u32,
    pub retry_base: Duration,
    /// A `Retry-After` longer than this is not waited for: the fetch fails and the source
    /// tries again on its next poll.
    pub max_retry_wait: Duration,
    pub per_host_concurrency: usize,
    /// Turns the outbound policy's address checks off (see `http/policy.rs`): for
    /// deployments that crawl an intranet.
    pub allow_private_networks: bool,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            user_agent: format!(
                "hark/{} (brand monitoring; +https://github.com/hark-serm/hark)",
                env!("CARGO_PKG_VERSION")
            ),
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            max_body_bytes: 10 * 1024 * 1024,
            max_redirects: 5,
            retries: 3,
            retry_base: Duration::from_millis(500),
            max_retry_wait: Duration::from_secs(120),
            per_host_concurrency: 2,
            allow_private_networks: false,
        }
    }
}
