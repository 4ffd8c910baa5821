//! `hark import FILE`.

use super::{Cli, load_config, usage};
use crate::import::{Format, import_file};
use crate::index::MentionIndex;
use crate::pipeline::Runtime;
use clap::Args;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  hark import history.jsonl\n  hark import export-from-another-tool.csv\n\nDates (published_at) may be RFC 3339 times or plain dates (2026-12-01)."
)]
pub struct ImportArgs {
    /// The file to load: JSON lines (one mention per line) or CSV with a header row.
    pub file: PathBuf,
    /// Default: from the file extension (.csv → csv), else jsonl.
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    Jsonl,
    Csv,
}

pub fn run(cli: &Cli, a: &ImportArgs) -> anyhow::Result<()> {
    let cfg = load_config(cli, false)?;
    if !a.file.exists() {
        return Err(usage(format!("{}: no such file", a.file.display())));
    }
    let format = match a.format {
        Some(FormatArg::Csv) => Format::Csv,
        Some(FormatArg::Jsonl) => Format::Jsonl,
        None if a
            .file
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("csv")) =>
        {
            Format::Csv
        }
        None => Format::Jsonl,
    };
    let rt = Runtime::open(cfg)?;
    let index: Arc<MentionIndex> = rt.index.clone();
    let size = std::fs::metadata(&a.file).map(|m| m.len()).unwrap_or(0);
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(size),
        indicatif::ProgressDrawTarget::stderr(),
    );
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} importing [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    let progress = |done: u64| bar.set_position(done);
    let started = std::time::Instant::now();
    let summary = import_file(&a.file, format, &index, &rt.enricher, &progress)?;
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    tracing::info!(
        imported = summary.imported,
        failed = summary.failed,
        seconds = format!("{secs:.1}"),
        per_second = format!("{:.0}", summary.imported as f64 / secs.max(1e-9)),
        "import finished"
    );
    if summary.failed > 0 {
        eprintln!(
            "{} line(s) could not be imported (see the messages above); the rest were imported",
            summary.failed
        );
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    serde_json::to_writer(&mut out, &summary)?;
    writeln!(out)?;
    if summary.imported == 0 && summary.failed > 0 {
        anyhow::bail!(
            "nothing was imported: all {} line(s) failed",
            summary.failed
        );
    }
    Ok(())
}
