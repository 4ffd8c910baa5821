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
    List {
        #[arg(long, value_enum, default_value = "table")]
        format: ListFormat,
    },
    /// Send a clearly marked test alert on every channel of RULE.
    Test { rule: String },
    /// Print, as JSON lines, the alerts RULE would have raised over the indexed history.
    Backtest {
        rule: String,
        #[arg(long, value_name = "WHEN")]
        since: Option<String>,
        #[arg(long, value_name = "WHEN")]
        until: Option<String>,
    },
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
                        "{:<20}  {:<24}  {:<10}  {:>8}  {:>8}  DELIVERIES",
                        "FIRED", "RULE", "UPDATE", "OBSERVED", "EXPECTED"
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
                            "{:<20}  {:<24}  {:<10}  {:>8.1}  {:>8.1}  {}",
                            crate::mention::format_time(&s.alert.fired_at),
                            s.alert.rule,
                            s.alert.update,
                            s.alert.observed,
                            s.alert.expected,
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
        AlertsCommand::Backtest { rule, since, until } => {
            let rule = find_rule(&cfg, rule)?;
            let now = Utc::now();
            let since = match since {
                Some(s) => parse_when(s, now).map_err(|e| usage(format!("--since: {e}")))?,
                None => now - chrono::Duration::days(30),
            };
            let until = match until {
                Some(s) => parse_when(s, now).map_err(|e| usage(format!("--until: {e}")))?,
                None => now,
            };
            let index = MentionIndex::open_existing(&data.join("index"))?;
            let state = StateStore::open(&data.join("state.redb"))?;
            let engine = Engine {
                index: &index,
                state: &state,
                config: &cfg,
            };
            for hit in engine.backtest(rule, since, until)? {
                serde_json::to_writer(&mut out, &hit)?;
                writeln!(out)?;
            }
        }
    }
    Ok(())
}
