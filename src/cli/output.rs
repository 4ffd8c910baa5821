//! Output helpers of the CLI; the mention formats themselves are in [`crate::export`].

pub use crate::export::{CSV_COLUMNS, MentionFormat, csv_record, csv_safe, write_mentions};

/// One line of at most `width` characters, control and invisible characters removed.
pub fn excerpt(s: &str, width: usize) -> String {
    crate::display::truncate_chars(&crate::display::one_line(s), width)
}

/// Writes `v` as one JSON line on stdout (a command's result).
pub fn print_json_line(v: &impl serde::Serialize) -> anyhow::Result<()> {
    use std::io::Write;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    serde_json::to_writer(&mut out, v)?;
    writeln!(out)?;
    Ok(())
}
