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
    /// Who changed what, when (newest first, JSON lines).
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
            triage::write_direct(&index, &state, &mentions, &updates).map_err(|e| busy(&e))?;
            for m in &mentions {
                writeln!(out, "{}", serde_json::to_string(m)?)?;
            }
            Ok(())
        }
    }
}
