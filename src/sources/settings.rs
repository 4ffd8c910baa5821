//! A `[[sources]]` entry as the sources use it, once the config loader has validated it
//! (`config.rs` reads the file and reports errors with file:line:col; [`crate::fields`]
//! reads each owner's keys).
//!
//! An entry has three parts: the keys every source takes ([`SourceConfig`]'s own fields),
//! the paging keys of the API pollers ([`Paging`]), and the kind's own settings, a struct in
//! the kind's file (`sources/reddit.rs` has `RedditConfig`) that implements [`KindConfig`].
//! [`KindSettings`] (in `sources/mod.rs`) is the enum of those structs, tagged by `kind`.

use super::{BuildError, KindSettings, Source};
use crate::fields::{FieldError, Period};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::time::Duration;

/// One `[[sources]]` entry, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceConfig {
    pub name: String,
    pub interval: Duration,
    pub base_url: Option<url::Url>,
    pub enabled: bool,
    /// Queries every item of this source belongs to, without term matching: the brand's own
    /// channels (its app's reviews, its page's comments), whose items rarely name it. Empty:
    /// items are matched against every query as usual.
    pub queries: Vec<String>,
    /// Paging of the API pollers (defaults for kinds that take none).
    pub paging: Paging,
    /// The kind and its own settings.
    pub settings: KindSettings,
}

impl SourceConfig {
    /// An entry with the defaults of every common key (polled every 15 minutes, enabled).
    pub fn new(name: &str, settings: impl Into<KindSettings>) -> SourceConfig {
        SourceConfig {
            name: name.to_string(),
            interval: Duration::from_secs(15 * 60),
            base_url: None,
            enabled: true,
            queries: Vec::new(),
            paging: Paging::default(),
            settings: settings.into(),
        }
    }

    /// The kind's name, as in `kind = "..."`.
    pub fn kind(&self) -> &'static str {
        self.settings.kind()
    }
}

/// What a kind's settings check may look at besides its own keys.
pub struct CheckContext<'a> {
    pub name: &'a str,
    pub base_url: Option<&'a url::Url>,
}

/// The settings of one source kind: a struct in the kind's file, read from the entry's
/// kind-specific keys (unknown keys are refused), checked, then used to build the source.
pub trait KindConfig: DeserializeOwned + Into<KindSettings> {
    /// The kind's name in `kind = "..."`.
    const NAME: &'static str;
    /// The [`Paging`] keys this kind takes.
    const PAGING: &'static [&'static str] = &[];

    /// Validates and normalises the settings at load time (a failure is a config error that
    /// names the key).
    fn check(&mut self, _at: &CheckContext<'_>) -> Result<(), FieldError> {
        Ok(())
    }

    /// Builds the source; an error (e.g. a credential missing from the environment)
    /// disables this source only.
    fn build(
        &self,
        source: &SourceConfig,
        terms: Vec<String>,
    ) -> Result<Box<dyn Source>, BuildError>;
}

/// The paging keys of the API pollers.
pub const PAGING_KEYS: &[&str] = &["max_pages", "page_size", "backfill"];
/// The paging keys of kinds whose API has a fixed page size.
pub const PAGES_AND_BACKFILL: &[&str] = &["max_pages", "backfill"];

/// How far an API poller pages (see `api.rs`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Paging {
    /// Pages walked per stream and poll.
    #[serde(default = "default_max_pages")]
    pub max_pages: usize,
    /// Items asked for per page (each kind caps it at its API's maximum).
    #[serde(default = "default_page_size")]
    pub page_size: usize,
    /// How far back the first poll of a stream reaches.
    #[serde(default = "default_backfill")]
    pub backfill: Period,
}

fn default_max_pages() -> usize {
    5
}
fn default_page_size() -> usize {
    100
}
fn default_backfill() -> Period {
    Period(Duration::from_secs(7 * 24 * 3600))
}

impl Default for Paging {
    fn default() -> Self {
        Paging {
            max_pages: default_max_pages(),
            page_size: default_page_size(),
            backfill: default_backfill(),
        }
    }
}

impl Paging {
    pub fn check(&self) -> Result<(), FieldError> {
        at_least_one("max_pages", self.max_pages)?;
        at_least_one("page_size", self.page_size)
    }
}

/// `key` must be at least 1.
pub fn at_least_one(key: &str, value: usize) -> Result<(), FieldError> {
    if value == 0 {
        return Err(FieldError::invalid(
            key,
            format!("`{key}` must be at least 1"),
        ));
    }
    Ok(())
}

/// serde's default for the `comments` / `latest` switches.
pub fn yes() -> bool {
    true
}

/// Storefront countries (`appstore`, `googleplay`): lowercase ISO 3166 alpha-2 codes
/// (none given means `us`, which the kinds apply).
pub fn check_countries(countries: &mut Vec<String>) -> Result<(), FieldError> {
    crate::fields::clean_names(countries, "");
    for c in countries.iter_mut() {
        *c = c.to_ascii_lowercase();
        if c.len() != 2 || !c.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(FieldError::invalid(
                "countries",
                format!(
                    "`countries`: `{c}` is not a two-letter country code (e.g. \"us\", \"de\")"
                ),
            ));
        }
    }
    Ok(())
}
