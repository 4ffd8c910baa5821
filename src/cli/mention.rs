//! `hark mention set ID… [--status S] [--tag T]… [--irrelevant|--relevant] [--sentiment LABEL]`
//! and `hark mention audit`: the team's triage from the command line.

use super::{Cli, load_config, usage};
use crate::index::MentionIndex;
use crate::mention::Label;
use crate::state::StateStore;
use crate::triage::{self, Change, Status};
use clap::{Args, Subcommand};
use std::io::Write;

#[derive(Args, Debug)]
pub struct MentionArgs {
    #[command(subcommand)]
    pub command: MentionCommand,
}

#[derive(Subcommand, Debug)]
pub enum MentionCommand {
    /// Triage mentions: status, tags, irrelevant, corrected sentiment.
    #[command(
        after_help = "Examples:\n  hark mention set reddit:t3_abc --status handled --tag refund\n  hark mention set x:1 x:2 --irrelevant          # the other Acme: left out of counts and alerts\n  hark mention set vk:1_2 --sentiment negative   # correct the model\n  hark mention set vk:1_2 --sentiment model      # back to the model's answer\n\nDecisions are kept in the state store and survive re-collection and index rebuilds.\n`hark run` holds the index while it runs: use the web UI or API of `hark run --serve`."
    )]
    Set(SetArgs),
    /// Words that set a query's irrelevant mentions apart; accept some to keep future
    /// mentions containing them out of the query (from the next `hark run`).
    #[command(
        after_help = "Examples:\n  hark mention exclusions acme                       # proposals, and what is accepted\n  hark mention exclusions acme --accept cartoon --accept coyote"
    )]
    Exclusions {
        /// The monitored query.
        query: String,
        /// Accept a word (repeatable).
        #[arg(long, value_name = "WORD")]
        accept: Vec<String>,
        /// Remove an accepted word (repeatable).
        #[arg(long, value_name = "WORD")]
        remove: Vec<String>,
    },
    /// Who changed what, when (newest first, JSON lines).
    #[command(after_help = "Example:\n  hark mention audit --limit 20")]
    Audit {
        /// At most this many entries.
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
}

#[derive(Args, Debug)]
pub struct SetArgs {
    /// Mention ids (as `hark search --format json` shows them).
    #[arg(required = true)]
    pub ids: Vec<String>,
    /// new, in_progress or handled.
    #[arg(long, value_name = "STATUS")]
    pub status: Option<String>,
    /// Add a tag (repeatable).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// Remove a tag (repeatable).
    #[arg(long = "untag", value_name = "TAG")]
    pub untags: Vec<String>,
    /// Mark irrelevant: left out of searches, counts, charts, alerts and reports.
    #[arg(long, conflicts_with = "relevant")]
    pub irrelevant: bool,
    /// Undo --irrelevant.
    #[arg(long)]
    pub relevant: bool,
    /// negative, neutral or positive; `model` goes back to the classifier's answer.
    #[arg(long, value_name = "LABEL")]
    pub sentiment: Option<String>,
}

fn who() -> String {
    std::env::var("USER")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .map(|u| format!("cli:{u}"))
        .unwrap_or_else(|| "cli".into())
}

pub fn run(cli: &Cli, a: &MentionArgs) -> anyhow::Result<()> {
    let cfg = load_config(cli, false)?;
    let data = cfg.data_dir();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match &a.command {
        MentionCommand::Exclusions {
            query,
            accept,
            remove,
        } => {
            let q = cfg.query(query).cloned().ok_or_else(|| {
                let names: Vec<&str> = cfg.queries.iter().map(|q| q.name.as_str()).collect();
                usage(format!(
                    "no query named `{query}`{}",
                    crate::config::did_you_mean(query, &names)
                ))
            })?;
            let index = MentionIndex::open_existing(&data.join("index"))?;
            let state = StateStore::open(&data.join("state.redb"))?;
            let current = state.exclusions()?.remove(&q.name);
            let accepted = if accept.is_empty() && remove.is_empty() {
                let mut v: Vec<String> = current.unwrap_or_default().into_iter().collect();
                v.sort();
                v
            } else {
                let words =
                    crate::exclusions::apply_change(current, accept, remove).map_err(usage)?;
                state.apply(&[
                    crate::state::StateUpdate::Exclusions {
                        query: q.name.clone(),
                        words: words.clone(),
                    },
                    crate::state::StateUpdate::Audit(serde_json::json!({
                        "at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                        "by": who(), "action": "exclusions", "query": q.name,
                        "accept": accept, "remove": remove,
                    })),
                ])?;
                words
            };
            let proposed = crate::exclusions::propose(&index, &q, 20)?;
            writeln!(
                out,
                "{}",
                serde_json::json!({"query": q.name, "proposed": proposed, "accepted": accepted})
            )?;
            Ok(())
        }
        MentionCommand::Audit { limit } => {
            let state = StateStore::open(&data.join("state.redb"))?;
            for e in state.audit(*limit)? {
                writeln!(out, "{e}")?;
            }
            Ok(())
        }
        MentionCommand::Set(s) => {
            let status = s
                .status
                .as_deref()
                .map(|v| {
                    Status::parse(v).ok_or_else(|| {
                        usage(format!(
                            "--status: `{v}` is not new, in_progress or handled"
                        ))
                    })
                })
                .transpose()?;
            let sentiment = match s.sentiment.as_deref() {
                None => None,
                Some("model") => Some(None),
                Some(v) => match Label::parse(v) {
                    Some(l) if l != Label::Unscored => Some(Some(l)),
                    _ => {
                        return Err(usage(format!(
                            "--sentiment: `{v}` is not negative, neutral, positive or model"
                        )));
                    }
                },
            };
            let change = Change {
                status,
                add_tags: s.tags.clone(),
                remove_tags: s.untags.clone(),
                irrelevant: if s.irrelevant {
                    Some(true)
                } else if s.relevant {
                    Some(false)
                } else {
                    None
                },
                sentiment,
                ..Default::default()
            };
            if change.is_empty() {
                return Err(usage(
                    "nothing to change: give --status, --tag, --untag, --irrelevant, --relevant or --sentiment"
                        .to_string(),
                ));
            }
            let index = MentionIndex::open_existing(&data.join("index"))?;
            let busy = |e: &dyn std::fmt::Display| {
                anyhow::anyhow!(
                    "{e} (is `hark run` running? it holds the index: use the web UI or API of `hark run --serve`, or stop it)"
                )
            };
            let state = StateStore::open(&data.join("state.redb")).map_err(|e| busy(&e))?;
            let (mentions, updates) =
                triage::prepare(&index, &state, &s.ids, &change, &who(), chrono::Utc::now())
                    .map_err(|e| match e {
                        triage::TriageError::Unknown(_) | triage::TriageError::Empty => {
                            usage(e.to_string())
                        }
                        other => anyhow::Error::new(other),
                    })?;
            triage::write_direct(&index, &state, &[], &mentions, &updates).map_err(|e| busy(&e))?;
            for m in &mentions {
                writeln!(out, "{}", serde_json::to_string(m)?)?;
            }
            Ok(())
        }
    }
}
