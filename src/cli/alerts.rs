//! `hark alerts list|test|backtest`.

use super::{Cli, load_config, usage};
use crate::alerts::deliver;
use crate::alerts::engine::Engine;
use crate::alerts::outbox::Outbox;
use crate::index::MentionIndex;
use crate::state::StateStore;
use crate::timeutil::parse_when;
use chrono::Utc;
use clap::{Args, Subcommand};
use std::io::Write;

#[derive(Args, Debug)]
pub struct AlertsArgs {
    #[command(subcommand)]
    pub command: AlertsCommand,
}

#[derive(Subcommand, Debug)]
pub enum AlertsCommand {
    /// Every alert raised, with its delivery state per channel.
    #[command(after_help = "Example:\n  hark alerts list --format json")]
    List {
        /// `table` for people, `json` for tools.
        #[arg(long, value_enum, default_value = "table")]
        format: ListFormat,
    },
    /// Send a clearly marked test alert on every channel of RULE.
    #[command(after_help = "Example:\n  hark alerts test acme-negative-spike")]
    Test {
        /// The alert rule's name (its file name without `.toml` unless it sets `name`).
        rule: String,
    },
    /// The alerts RULE would have raised over the indexed history (sends nothing).
    ///
    /// Replays the rule bucket by bucket, in the mentions' own published time, with the same
    /// detector and incident logic as `hark run`. Example:
    /// `hark alerts backtest acme-volume --since 30d --format table`
    #[command(
        after_help = "Examples:\n  hark alerts backtest acme-negative-spike --since 30d\n  hark alerts backtest acme-negative-spike --format jsonl > alerts.jsonl"
    )]
    Backtest {
        /// The alert rule's name (its file name without `.toml` unless it sets `name`).
        rule: String,
        /// Start of the replay: RFC 3339 time, date or duration back from now (e.g. 30d).
        /// Default: the oldest mention of the rule's query in the index.
        #[arg(long, value_name = "WHEN")]
        since: Option<String>,
        /// End of the replay (same forms). Default: the newest mention of the rule's query.
        #[arg(long, value_name = "WHEN")]
        until: Option<String>,
        /// `jsonl`: one JSON object per alert; `table`: when, observed vs expected, drivers.
        /// Default: table on a terminal, jsonl when piped.
        #[arg(long, value_enum)]
        format: Option<BacktestFormat>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BacktestFormat {
    Jsonl,
    Table,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    Table,
    Json,
}

fn find_rule<'a>(
    cfg: &'a crate::config::Config,
    name: &str,
) -> anyhow::Result<&'a crate::config::AlertRule> {
    cfg.alerts.iter().find(|r| r.name == name).ok_or_else(|| {
        let names: Vec<&str> = cfg.alerts.iter().map(|r| r.name.as_str()).collect();
        usage(format!(
            "no alert rule named `{name}`{}",
            crate::config::did_you_mean(name, &names)
        ))
    })
}

pub fn run(cli: &Cli, a: &AlertsArgs) -> anyhow::Result<()> {
    let cfg = load_config(cli, false)?;
    let data = cfg.data_dir();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match &a.command {
        AlertsCommand::List { format } => {
            let state = StateStore::open(&data.join("state.redb"))?;
            let alerts = Outbox::new(&state).list()?;
            match format {
                ListFormat::Json => {
                    for s in &alerts {
                        serde_json::to_writer(&mut out, s)?;
                        writeln!(out)?;
                    }
                }
                ListFormat::Table => {
                    writeln!(
                        out,
                        "{:<20}  {:<24}  {:<10}  {:>8}  {:>8}  {:<30}  DELIVERIES",
                        "FIRED", "RULE", "UPDATE", "OBSERVED", "EXPECTED", "ABOUT"
                    )?;
                    for s in &alerts {
                        let d: Vec<String> = s
                            .deliveries
                            .iter()
                            .map(|d| {
                                format!(
                                    "{} {:?} ({} attempts{})",
                                    d.channel.describe(),
                                    d.status,
                                    d.attempts,
                                    d.last_error
                                        .as_deref()
                                        .map(|e| format!(", last error: {e}"))
                                        .unwrap_or_default()
                                )
                                .to_lowercase()
                            })
                            .collect();
                        writeln!(
                            out,
                            "{:<20}  {:<24}  {:<10}  {:>8.1}  {:>8.1}  {:<30}  {}",
                            crate::mention::format_time(&s.alert.fired_at),
                            s.alert.rule,
                            s.alert.update,
                            s.alert.observed,
                            s.alert.expected,
                            crate::alerts::model::truncate_chars(
                                &s.alert.drivers_brief().unwrap_or_else(|| "–".into()),
                                30
                            ),
                            d.join("; ")
                        )?;
                    }
                }
            }
        }
        AlertsCommand::Test { rule } => {
            let rule = find_rule(&cfg, rule)?;
            if rule.channels.is_empty() {
                return Err(usage(format!(
                    "alert rule `{}` has no [[channels]]",
                    rule.name
                )));
            }
            let index = MentionIndex::open_or_create(&data.join("index"))?;
            let state = StateStore::open(&data.join("state.redb"))?;
            let engine = Engine {
                index: &index,
                state: &state,
                config: &cfg,
            };
            let alert = engine.test_alert(rule, Utc::now())?;
            let client = deliver::webhook_client(&cfg);
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let mut failed = 0;
            for (i, ch) in rule.channels.iter().enumerate() {
                let key = format!("{}/{i}", alert.id);
                match rt.block_on(deliver::send(&cfg, &client, ch, &alert, &key)) {
                    Ok(()) => writeln!(out, "{}: delivered", ch.describe())?,
                    Err(e) => {
                        failed += 1;
                        writeln!(out, "{}: FAILED: {}", ch.describe(), e.message)?;
                    }
                }
            }
            if failed > 0 {
                anyhow::bail!("{failed} of {} channels failed", rule.channels.len());
            }
        }
        AlertsCommand::Backtest {
            rule,
            since,
            until,
            format,
        } => {
            let rule = find_rule(&cfg, rule)?;
            let format = &format.unwrap_or(if super::human::stdout_is_terminal() {
                BacktestFormat::Table
            } else {
                BacktestFormat::Jsonl
            });
            let now = Utc::now();
            let when = |v: &Option<String>, flag: &str| -> anyhow::Result<Option<_>> {
                v.as_deref()
                    .map(|s| parse_when(s, now).map_err(|e| usage(format!("{flag}: {e}"))))
                    .transpose()
            };
            let (since, until) = (when(since, "--since")?, when(until, "--until")?);
            let index = MentionIndex::open_existing(&data.join("index"))?;
            let state = StateStore::open(&data.join("state.redb"))?;
            let engine = Engine {
                index: &index,
                state: &state,
                config: &cfg,
            };
            let Some((oldest, newest)) = engine.history_span(rule)? else {
                eprintln!(
                    "no indexed mention matches query `{}`: nothing to backtest",
                    rule.query
                );
                if *format == BacktestFormat::Table {
                    writeln!(out, "no alerts")?;
                }
                return Ok(());
            };
            let since = since.unwrap_or(oldest);
            let until = until.unwrap_or(newest);
            if until < since {
                return Err(usage("--until is before --since"));
            }
            let hits = engine.backtest(rule, since, until)?;
            eprintln!(
                "backtest of `{}` from {} to {}: {} alert(s)",
                rule.name,
                crate::mention::format_time(&since),
                crate::mention::format_time(&until),
                hits.len()
            );
            match format {
                BacktestFormat::Jsonl => {
                    for hit in &hits {
                        serde_json::to_writer(&mut out, hit)?;
                        writeln!(out)?;
                    }
                }
                BacktestFormat::Table => write_backtest_table(&mut out, &hits, &index)?,
            }
        }
    }
    Ok(())
}

/// `hark alerts backtest --format table`: one block per alert, for people.
fn write_backtest_table(
    out: &mut impl Write,
    hits: &[crate::alerts::engine::BacktestHit],
    index: &MentionIndex,
) -> anyhow::Result<()> {
    use crate::alerts::model::{one_line, truncate_chars};
    if hits.is_empty() {
        writeln!(out, "no alerts")?;
        return Ok(());
    }
    writeln!(
        out,
        "{:<20}  {:<9}  {:>9}  {:>9}  {:>6}  ABOUT",
        "FIRED (UTC)", "UPDATE", "OBSERVED", "EXPECTED", "LIFT"
    )?;
    for h in hits {
        let fired = h.fired_at.replace('T', " ");
        let fired = fired.trim_end_matches('Z');
        let lift = if h.expected > 0.0 {
            format!("{:.1}×", h.observed / h.expected)
        } else {
            "–".into()
        };
        let about: Vec<String> = h
            .drivers
            .iter()
            .map(|d| {
                format!(
                    "{} {:.0}%",
                    truncate_chars(&one_line(&d.term), 40),
                    d.share * 100.0
                )
            })
            .collect();
        writeln!(
            out,
            "{:<20}  {:<9}  {:>9}  {:>9.1}  {:>6}  {}",
            truncate_chars(fired, 20),
            h.update,
            h.observed_count,
            h.expected,
            lift,
            if about.is_empty() {
                "–".to_string()
            } else {
                about.join(", ")
            }
        )?;
        if let Some(by) = crate::alerts::drivers::driven_by_text(
            h.driving_source.as_ref(),
            h.driving_author.as_ref(),
        ) {
            writeln!(out, "{:<20}  driven by {by}", "")?;
        }
        // The top driving mention, as an example of what people were saying.
        if let Some(m) = h
            .mentions
            .first()
            .map(|id| index.get(id))
            .transpose()?
            .flatten()
        {
            let who = m.author.as_deref().unwrap_or(&m.source);
            let text = m
                .title
                .as_deref()
                .filter(|_| m.text.is_empty())
                .unwrap_or(&m.text);
            writeln!(
                out,
                "{:<20}  e.g. {}: \"{}\"",
                "",
                truncate_chars(&one_line(who), 24),
                truncate_chars(&one_line(text), 90)
            )?;
        }
    }
    Ok(())
}
