//! `hark delete (--author A | --query Q | --before WHEN)... [--dry-run]`: erase mentions on
//! request (a person's data-erasure request, a leaked text) or clear old history.

use super::{Cli, load_config, usage};
use crate::index::MentionIndex;
use crate::index::erase::{self, Selection};
use crate::index::search::SEARCH_FIELDS;
use crate::query::{self, ParseOptions};
use crate::state::{StateStore, StateUpdate};
use crate::timeutil::parse_when;
use clap::Args;
use std::io::Write;

#[derive(Args, Debug)]
#[command(
    group = clap::ArgGroup::new("what").required(true).multiple(true).args(["author", "query", "before"]),
    after_help = "Examples:\n  hark delete --author \"Jane Doe\" --dry-run   # how many, and which\n  hark delete --author \"Jane Doe\"             # erase them, for good\n  hark delete --query '\"555-0100\"'\n  hark delete --before 2024-01-01\n\nConditions combine (all must hold). Erased mentions are recorded so that sources never\nstore them again. `hark run` holds the index while it runs: stop it first."
)]
pub struct DeleteArgs {
    /// Mentions by this author (exactly, ignoring case).
    #[arg(long, value_name = "NAME")]
    pub author: Option<String>,
    /// Mentions whose text matches this search (the match language, as `hark search`).
    #[arg(long, value_name = "Q")]
    pub query: Option<String>,
    /// Mentions published before WHEN (a date, an RFC 3339 time, or a duration back: 400d).
    #[arg(long, value_name = "WHEN")]
    pub before: Option<String>,
    /// Count and list what would be deleted; delete nothing.
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(cli: &Cli, a: &DeleteArgs) -> anyhow::Result<()> {
    let cfg = load_config(cli, false)?;
    let now = chrono::Utc::now();
    let expr = a
        .query
        .as_deref()
        .map(|q| {
            query::parse(
                q,
                &ParseOptions {
                    allow_fields: SEARCH_FIELDS,
                },
            )
            .map_err(|e| usage(format!("--query: column {}: {}", e.column, e.message)))
        })
        .transpose()?;
    let before = a
        .before
        .as_deref()
        .map(|w| parse_when(w, now).map_err(|e| usage(format!("--before: {e}"))))
        .transpose()?;
    if let Some(author) = &a.author
        && author.trim().is_empty()
    {
        return Err(usage("--author: empty name".to_string()));
    }
    let sel = Selection {
        author: a.author.clone(),
        expr,
        before,
    };
    let data = cfg.data_dir();
    let index = MentionIndex::open_or_create(&data.join("index"))?;
    let ids = erase::select(&index, &sel)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if a.dry_run {
        writeln!(
            out,
            "{}",
            serde_json::json!({"dry_run": true, "matched": ids.len(), "ids": ids})
        )?;
        return Ok(());
    }
    if !ids.is_empty() {
        let state = StateStore::open(&data.join("state.redb"))
            .map_err(|e| anyhow::anyhow!("{e} (is `hark run` running? stop it before deleting)"))?;
        erase::delete(&index, &ids).map_err(|e| {
            anyhow::anyhow!("cannot delete: {e} (is `hark run` running? stop it before deleting)")
        })?;
        // Recorded after the index commit: a crash in between leaves them deleted but not
        // yet barred from collection, and `hark delete` can simply be run again.
        let at = now.timestamp();
        let updates: Vec<StateUpdate> = ids
            .iter()
            .map(|id| StateUpdate::Erased { id: id.clone(), at })
            .collect();
        state.apply(&updates)?;
        tracing::info!(
            deleted = ids.len(),
            "mentions deleted and barred from collection"
        );
    }
    writeln!(
        out,
        "{}",
        serde_json::json!({"dry_run": false, "deleted": ids.len(), "ids": ids})
    )?;
    Ok(())
}
