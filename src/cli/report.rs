//! `hark report --query NAME [--since WHEN] [--until WHEN] --out FILE.html|FILE.pdf`.

use super::{Cli, load_config, usage};
use crate::index::MentionIndex;
use crate::report::data::{ReportRequest, build};
use crate::state::StateStore;
use crate::timeutil::parse_when;
use chrono::Utc;
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  hark report --query acme --since 30d --out acme.pdf\n  hark report --query acme --compare globex,initech --since 2026-11-01 --until 2026-12-01 --out nov.html"
)]
pub struct ReportArgs {
    /// The monitored query the report is about.
    #[arg(
        long = "query",
        value_name = "NAME",
        required_unless_present = "schedule"
    )]
    pub query_name: Option<String>,
    /// Render what the scheduled report NAME (`[[reports]]` in hark.toml) would send now:
    /// its period, queries, format and branding (sends nothing).
    #[arg(long, value_name = "NAME", conflicts_with_all = ["query_name", "compare", "since", "until"])]
    pub schedule: Option<String>,
    /// Start of the period (RFC 3339, a date, or a duration back from now).
    #[arg(long, value_name = "WHEN", default_value = "30d")]
    pub since: String,
    /// End of the period, exclusive (default: now).
    #[arg(long, value_name = "WHEN")]
    pub until: Option<String>,
    /// Output file: .html (self-contained) or .pdf.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Competitor queries for share of voice: `--compare globex,initech`.
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    pub compare: Vec<String>,
    /// Report title (default "Reputation report: QUERY").
    #[arg(long)]
    pub title: Option<String>,
    /// The agency's name, shown in the header and footer.
    #[arg(long = "brand-name", value_name = "NAME")]
    pub brand_name: Option<String>,
    /// The agency's logo (PNG, JPEG, SVG, GIF or WebP; the PDF embeds JPEG only).
    #[arg(long, value_name = "FILE")]
    pub logo: Option<PathBuf>,
    /// The language of the report's own words, dates and numbers: en, fr, de, es or ru
    /// (mention text is never translated).
    #[arg(long, value_name = "CODE", default_value = "en", value_parser = parse_locale)]
    pub locale: crate::report::locale::Locale,
}

fn parse_locale(s: &str) -> Result<crate::report::locale::Locale, String> {
    crate::report::locale::Locale::parse(s)
        .ok_or_else(|| format!("`{s}`: use en, fr, de, es or ru"))
}

pub fn run(cli: &Cli, a: &ReportArgs) -> anyhow::Result<()> {
    let cfg = load_config(cli, false)?;
    if let Some(name) = &a.schedule {
        return run_schedule(&cfg, name, &a.out);
    }
    let query_name = a
        .query_name
        .clone()
        .expect("clap requires --query without --schedule");
    let names: Vec<&str> = cfg.queries.iter().map(|q| q.name.as_str()).collect();
    for n in std::iter::once(&query_name).chain(&a.compare) {
        if !names.contains(&n.as_str()) {
            let mut msg = format!("no query named `{n}`");
            msg.push_str(&crate::config::did_you_mean(n, &names));
            return Err(usage(msg));
        }
    }
    let now = Utc::now();
    let since = parse_when(&a.since, now).map_err(|e| usage(format!("--since: {e}")))?;
    let until = match &a.until {
        Some(u) => parse_when(u, now).map_err(|e| usage(format!("--until: {e}")))?,
        None => now,
    };
    if since >= until {
        return Err(usage("--until must be after --since"));
    }
    let ext = a
        .out
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if ext != "html" && ext != "htm" && ext != "pdf" {
        return Err(usage(format!(
            "--out: `{}` must end in .html or .pdf",
            a.out.display()
        )));
    }
    let logo = match &a.logo {
        None => None,
        Some(p) => {
            let bytes = std::fs::read(p)
                .map_err(|e| usage(format!("--logo: cannot read {}: {e}", p.display())))?;
            let mime = crate::display::image_mime(p)
                .ok_or_else(|| usage("--logo: use a .png, .jpg, .svg, .gif or .webp file"))?;
            crate::report::pdf::check_logo(mime, &bytes, ext == "pdf")
                .map_err(|e| usage(format!("--logo {}: {e}", p.display())))?;
            Some((mime.to_string(), bytes))
        }
    };
    let data_dir = cfg.data_dir();
    let index = MentionIndex::open_existing(&data_dir.join("index"))?;
    // The alert history is read when no other process holds the state store.
    let state = StateStore::open(&data_dir.join("state.redb")).ok();
    let req = ReportRequest {
        query: query_name.clone(),
        since,
        until,
        compare: a.compare.clone(),
        title: a.title.clone(),
        brand_name: a.brand_name.clone(),
        logo,
        query_terms: cfg
            .query(&query_name)
            .map(|q| crate::query::positive_terms(&q.expr))
            .unwrap_or_default(),
        display_names: ReportRequest::display_names_of(&cfg),
        locale: a.locale,
    };
    let data = build(&index, state.as_ref(), &req)?;
    let bytes = if ext == "pdf" {
        crate::report::pdf::render_pdf(&data)
    } else {
        crate::report::html::render_html(&data).into_bytes()
    };
    std::fs::write(&a.out, bytes)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", a.out.display()))?;
    println!("{}", a.out.display());
    Ok(())
}

/// `hark report --schedule NAME --out FILE`: what the scheduled report would send now.
fn run_schedule(
    cfg: &crate::config::Config,
    name: &str,
    out: &std::path::Path,
) -> anyhow::Result<()> {
    let r = cfg.reports.iter().find(|r| r.name == name).ok_or_else(|| {
        let names: Vec<&str> = cfg.reports.iter().map(|r| r.name.as_str()).collect();
        usage(format!(
            "--schedule: no [[reports]] named `{name}`{}",
            crate::config::did_you_mean(name, &names)
        ))
    })?;
    let want = out
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if want != r.format {
        return Err(usage(format!(
            "--out: report `{name}` is sent as {}; name the file .{}",
            r.format, r.format
        )));
    }
    let data_dir = cfg.data_dir();
    let index = MentionIndex::open_existing(&data_dir.join("index"))?;
    let state = StateStore::open(&data_dir.join("state.redb")).ok();
    let (occurrence, doc) =
        crate::report::send::render(&index, state.as_ref(), cfg, r, Utc::now())?;
    std::fs::write(out, &doc.bytes)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", out.display()))?;
    eprintln!(
        "{}: the report of the occurrence {} (\"{}\"), {} bytes",
        out.display(),
        crate::mention::format_time(&occurrence),
        doc.subject,
        doc.bytes.len()
    );
    println!("{}", out.display());
    Ok(())
}
