//! `hark search` and `hark stats`.

use super::output::{MentionFormat, write_mentions};
use super::{Cli, load_config, usage};
use crate::index::MentionIndex;
use crate::index::search::{SEARCH_FIELDS, SearchRequest, Sort, filter_query, search};
use crate::index::stats::{Interval, stats};
use crate::mention::Label;
use crate::query::{self, ParseOptions};
use crate::timeutil::parse_when;
use chrono::Utc;
use clap::Args;
use std::io::Write;

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  hark search --query acme --since 7d --sentiment negative\n  hark search 'outage AND source:reddit' --sort reach --limit 50\n  hark search --query acme --since 2026-11-01 --format csv > acme.csv"
)]
pub struct SearchArgs {
    /// Match-language expression, plus field:value (fields: id, query, source, kind, lang,
    /// sentiment, author, title, text, url).
    pub query_text: Option<String>,
    /// Only mentions of this monitored query.
    #[arg(long = "query", value_name = "NAME")]
    pub query_name: Option<String>,
    /// From this time on: RFC 3339, a date, or a duration back from now (7d, 36h).
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Before this time (same forms as --since).
    #[arg(long, value_name = "WHEN")]
    pub until: Option<String>,
    /// negative, neutral or positive.
    #[arg(long, value_name = "LABEL")]
    pub sentiment: Option<String>,
    /// A source name or source kind.
    #[arg(long, value_name = "NAME")]
    pub source: Option<String>,
    /// ISO 639-1 language code.
    #[arg(long, value_name = "CODE")]
    pub lang: Option<String>,
    /// Triage status: new, in_progress or handled.
    #[arg(long, value_name = "STATUS")]
    pub status: Option<String>,
    /// Only mentions with this triage tag.
    #[arg(long, value_name = "TAG")]
    pub tag: Option<String>,
    /// Only the mentions marked irrelevant (left out of everything else).
    #[arg(long)]
    pub irrelevant: bool,
    /// Order of the results.
    #[arg(long, value_enum, default_value = "newest")]
    pub sort: SortArg,
    /// At most this many mentions.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// Skip this many results (paging).
    #[arg(long, default_value_t = 0)]
    pub offset: usize,
    /// `table` for people; `json` (`{"total", "mentions"}`), `jsonl` or `csv` for tools.
    #[arg(long, value_enum, default_value = "table")]
    pub format: MentionFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SortArg {
    Newest,
    Oldest,
    Relevance,
    Reach,
}

impl From<SortArg> for Sort {
    fn from(s: SortArg) -> Sort {
        match s {
            SortArg::Newest => Sort::Newest,
            SortArg::Oldest => Sort::Oldest,
            SortArg::Relevance => Sort::Relevance,
            SortArg::Reach => Sort::Reach,
        }
    }
}

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  hark stats --query acme --since 7d --interval hour\n  hark stats --query acme --since 2026-11-01 --format json > acme.json"
)]
pub struct StatsArgs {
    /// Only mentions of this query (a name from queries/).
    #[arg(long = "query", value_name = "NAME")]
    pub query_name: Option<String>,
    /// Start: an RFC 3339 time, a date (2026-12-01) or a duration back from now (7d, 36h).
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// End (same forms as --since). Default: now.
    #[arg(long, value_name = "WHEN")]
    pub until: Option<String>,
    /// Bucket size.
    #[arg(long, value_enum, default_value = "day")]
    pub interval: IntervalArg,
    /// `table` (with sparklines and totals) or `json`. Default: table on a terminal, json
    /// when piped.
    #[arg(long, value_enum)]
    pub format: Option<StatsFormat>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum IntervalArg {
    Hour,
    Day,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StatsFormat {
    Json,
    Table,
}

/// Builds a search request from the CLI's (or the HTTP API's) string parameters.
#[allow(clippy::too_many_arguments)]
pub fn build_request(
    text: Option<&str>,
    query_name: Option<&str>,
    since: Option<&str>,
    until: Option<&str>,
    sentiment: Option<&str>,
    source: Option<&str>,
    lang: Option<&str>,
) -> anyhow::Result<SearchRequest> {
    let now = Utc::now();
    let expr = match text.map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => Some(
            query::parse(
                t,
                &ParseOptions {
                    allow_fields: SEARCH_FIELDS,
                },
            )
            .map_err(|e| {
                usage(format!(
                    "invalid search query: column {}: {}",
                    e.column, e.message
                ))
            })?,
        ),
        None => None,
    };
    let when = |v: Option<&str>, name: &str| -> anyhow::Result<_> {
        v.map(|s| parse_when(s, now).map_err(|e| usage(format!("--{name}: {e}"))))
            .transpose()
    };
    let sentiment = sentiment
        .map(|s| {
            Label::parse(s).ok_or_else(|| {
                usage(format!(
                    "--sentiment: `{s}` is not negative, neutral or positive"
                ))
            })
        })
        .transpose()?;
    Ok(SearchRequest {
        expr,
        query: query_name.map(str::to_string),
        since: when(since, "since")?,
        until: when(until, "until")?,
        sentiment,
        source: source.map(str::to_string),
        lang: lang.map(|l| l.to_ascii_lowercase()),
        ..Default::default()
    })
}

fn check_query_name(cfg: &crate::config::Config, name: Option<&str>) -> anyhow::Result<()> {
    if let Some(n) = name
        && !cfg.queries.is_empty()
        && cfg.query(n).is_none()
    {
        let names: Vec<&str> = cfg.queries.iter().map(|q| q.name.as_str()).collect();
        let mut msg = format!("--query: no query named `{n}`");
        msg.push_str(&crate::config::did_you_mean(n, &names));
        return Err(usage(msg));
    }
    Ok(())
}

/// A `--source` that names no configured source and no indexed mention is a typo, not an
/// empty result: said so, with the closest name.
fn check_source_name(
    cfg: &crate::config::Config,
    index: &MentionIndex,
    name: &str,
) -> anyhow::Result<()> {
    // `--source` matches a source name or a source kind.
    if cfg.sources.iter().any(|s| s.name == name)
        || crate::sources::KINDS.iter().any(|k| k.name == name)
    {
        return Ok(());
    }
    let any = SearchRequest {
        source: Some(name.to_string()),
        limit: 0,
        ..Default::default()
    };
    if search(index, &any)?.total > 0 {
        return Ok(());
    }
    let indexed = crate::index::analytics::top(index, &SearchRequest::default(), false, 1000)?;
    let mut names: Vec<&str> = cfg.sources.iter().map(|s| s.name.as_str()).collect();
    names.extend(indexed.iter().map(|(n, _, _)| n.as_str()));
    names.sort_unstable();
    names.dedup();
    let mut msg = format!("--source: no source named `{name}` in the config or the index");
    msg.push_str(&crate::config::did_you_mean(name, &names));
    if !names.is_empty() {
        msg.push_str(&format!(" (sources: {})", names.join(", ")));
    }
    Err(usage(msg))
}

pub fn run_search(cli: &Cli, a: &SearchArgs) -> anyhow::Result<()> {
    let cfg = load_config(cli, false)?;
    check_query_name(&cfg, a.query_name.as_deref())?;
    let mut req = build_request(
        a.query_text.as_deref(),
        a.query_name.as_deref(),
        a.since.as_deref(),
        a.until.as_deref(),
        a.sentiment.as_deref(),
        a.source.as_deref(),
        a.lang.as_deref(),
    )?;
    req.sort = a.sort.into();
    req.limit = a.limit;
    req.offset = a.offset;
    req.status = a
        .status
        .as_deref()
        .map(|s| {
            crate::triage::Status::parse(s).ok_or_else(|| {
                usage(format!(
                    "--status: `{s}` is not new, in_progress or handled"
                ))
            })
        })
        .transpose()?;
    req.tag = a.tag.clone();
    if a.irrelevant {
        req.relevance = crate::index::search::Relevance::Irrelevant;
    }
    let index = MentionIndex::open_existing(&cfg.data_dir().join("index"))?;
    let result = search(&index, &req)?;
    if result.total == 0
        && let Some(src) = a.source.as_deref()
    {
        check_source_name(&cfg, &index, src)?;
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    write_mentions(&mut out, &result, a.format)?;
    out.flush()?;
    Ok(())
}

pub fn run_stats(cli: &Cli, a: &StatsArgs) -> anyhow::Result<()> {
    let cfg = load_config(cli, false)?;
    check_query_name(&cfg, a.query_name.as_deref())?;
    let req = build_request(
        None,
        a.query_name.as_deref(),
        a.since.as_deref(),
        a.until.as_deref(),
        None,
        None,
        None,
    )?;
    let index = MentionIndex::open_existing(&cfg.data_dir().join("index"))?;
    let filter = filter_query(&index, &req)?;
    let interval = match a.interval {
        IntervalArg::Hour => Interval::Hour,
        IntervalArg::Day => Interval::Day,
    };
    let s = stats(
        &index,
        &*filter,
        a.query_name.as_deref(),
        req.since,
        req.until,
        interval,
    )?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let table = a.format.map_or_else(super::human::stdout_is_terminal, |f| {
        f == StatsFormat::Table
    });
    if table {
        super::human::write_stats_table(&mut out, &s)?;
    } else {
        serde_json::to_writer(&mut out, &s)?;
        writeln!(out)?;
    }
    Ok(())
}
