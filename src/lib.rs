//! hark: brand-reputation monitoring. Sources collect mentions, queries match them, a
//! classifier scores them, a tantivy index keeps them searchable.
//!
//! Stages: `sources` → `enrich` (matching, language, sentiment) → `index`, wired by
//! `pipeline` with bounded channels; `state` keeps what sources have seen.
pub mod alerts;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod crawl;
pub mod demo;
pub mod display;
pub mod enrich;
pub mod exclusions;
pub mod export;
pub mod feed;
pub mod fields;
pub mod fuzzing;
pub mod html;
pub mod http;
pub mod import;
pub mod index;
pub mod lang;
pub mod langid;
pub mod mention;
pub mod metrics;
pub mod pipeline;
pub mod query;
pub mod report;
pub mod saved;
pub mod sentiment;
pub mod serve;
pub mod shutdown;
pub mod sources;
pub mod state;
#[doc(hidden)]
pub mod testdata;
pub mod text;
pub mod timeutil;
pub mod triage;
pub mod users;
