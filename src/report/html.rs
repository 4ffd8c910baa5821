//! The HTML rendering of a reputation report: one self-contained file (inline CSS, inline
//! SVG charts, the logo as a `data:` URI), no scripts and no external requests.
//!
//! Every piece of text that comes from data is passed through [`esc`], which removes control
//! and bidi-override characters and escapes `& < > " ' = \``, so it is inert both in element
//! content and inside (quoted) attributes. Links are emitted only for `http(s)://` URLs.
//!
//! The formatting helpers here (`fmt_int`, `kpi_cards`, …) are shared with the PDF renderer so
//! that both show exactly the same figures.

use super::locale::tr;
use super::{Bucket, Kpis, ReportData};
use crate::mention::{Label, Mention};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use std::fmt::Write as _;

/// Longest excerpt of a mention's text, in characters (ellipsis included).
pub(crate) const EXCERPT_CHARS: usize = 280;

// ---------------------------------------------------------------------------------------------
// Shared text helpers (also used by pdf.rs)
// ---------------------------------------------------------------------------------------------

pub(crate) use crate::display::{excerpt, one_line as clean_text};

/// HTML-escapes cleaned text ([`crate::display::html_escape`] of [`clean_text`]).
pub(crate) fn esc(s: &str) -> String {
    crate::display::html_escape(&clean_text(s))
}

/// True for an absolute `http://` or `https://` URL without whitespace, control or invisible
/// characters: the only kind that is ever made a link (its text is escaped with [`esc`]).
pub(crate) fn is_http_url(u: &str) -> bool {
    let lower = u.get(..8).unwrap_or(u).to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &u[8..]
    } else if lower.starts_with("http://") {
        &u[7..]
    } else {
        return false;
    };
    !rest.is_empty()
        && !u
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || crate::display::is_invisible(c))
}

/// `1234567` → `"1,234,567"` (the separator of the locale in force, see [`super::locale`]).
pub(crate) fn fmt_int(n: u64) -> String {
    super::locale::int(n)
}

/// A signed number with 2 decimals: `+0.25`, `-0.10`, `0.00`.
pub(crate) fn fmt_signed(x: f64) -> String {
    if !x.is_finite() {
        return "n/a".into();
    }
    let r = (x * 100.0).round() / 100.0;
    if r == 0.0 {
        "0.00".into()
    } else {
        format!("{r:+.2}")
    }
}

/// A share in [0, 1] as a percentage with one decimal: `38.5 %`.
pub(crate) fn fmt_share(x: f64) -> String {
    if !x.is_finite() {
        return "n/a".into();
    }
    format!("{:.1} %", x * 100.0)
}

/// A measured value (alerts): no decimals when whole, else up to 2.
pub(crate) fn fmt_value(x: f64) -> String {
    if !x.is_finite() {
        "n/a".into()
    } else if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{x:.0}")
    } else {
        let s = format!("{x:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// `2026-11-26 08:30 UTC`.
pub(crate) fn fmt_time(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// An x-axis label for a bucket.
pub(crate) fn bucket_label(b: &Bucket, interval: &str) -> String {
    use chrono::Datelike;
    let date = super::locale::short_date(b.start.month(), b.start.day());
    if interval == "hour" {
        format!("{date} {}", b.start.format("%H:00"))
    } else {
        date
    }
}

/// Every how many buckets an x-axis label goes, for at most `max_labels` labels at round
/// steps (hours: 1, 2, 3, 4, 6, 12, 24…; days: 1, 2, 3, 7, 14, 28…).
pub(crate) fn label_every(n: usize, interval: &str, max_labels: usize) -> usize {
    let min = n.div_ceil(max_labels.max(1)).max(1);
    let steps: &[usize] = if interval == "hour" {
        &[1, 2, 3, 4, 6, 12, 24]
    } else {
        &[1, 2, 3, 7, 14, 28]
    };
    let last = *steps.last().expect("non-empty");
    steps
        .iter()
        .copied()
        .find(|s| *s >= min)
        .unwrap_or_else(|| min.div_ceil(last) * last)
}

/// Percentage change of a count: `+12 %`, `-5 %`, `±0 %`; `new` when the previous was 0.
pub(crate) fn fmt_change(cur: u64, prev: u64) -> String {
    if prev == 0 {
        return if cur == 0 {
            "±0 %".into()
        } else {
            super::locale::tr("new").into()
        };
    }
    let pct = ((cur as f64 - prev as f64) / prev as f64 * 100.0).round();
    if pct == 0.0 {
        "±0 %".into()
    } else {
        format!("{pct:+.0} %")
    }
}

/// A nice upper bound and step for a y axis starting at 0.
pub(crate) fn nice_axis(max: u64) -> (u64, u64) {
    if max == 0 {
        return (4, 1);
    }
    let raw = (max as f64 / 4.0).max(1.0);
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag)
        .max(1.0) as u64;
    let top = max.div_ceil(step) * step;
    (top, step)
}

/// One KPI card, as both renderers show it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct KpiCard {
    pub label: &'static str,
    pub value: String,
    pub note: String,
}

impl ReportData {
    /// "previous 30 days", "previous 24 hours" or "previous period".
    pub fn previous_period_phrase(&self) -> String {
        use super::locale::{fill, tr};
        let secs = (self.until - self.since).num_seconds();
        if secs > 0 && secs % 86_400 == 0 {
            let d = secs / 86_400;
            if d == 1 {
                tr("previous day").into()
            } else {
                fill("previous {n} days", &[("n", &d.to_string())])
            }
        } else if secs > 0 && secs % 3_600 == 0 {
            let h = secs / 3_600;
            if h == 1 {
                tr("previous hour").into()
            } else {
                fill("previous {n} hours", &[("n", &h.to_string())])
            }
        } else {
            tr("previous period").into()
        }
    }

    /// "2026-10-27 00:00 – 2026-11-26 00:00 UTC".
    pub fn period_label(&self) -> String {
        format!(
            "{} – {} UTC",
            self.since.format("%Y-%m-%d %H:%M"),
            self.until.format("%Y-%m-%d %H:%M")
        )
    }

    /// The KPI cards, in display order, with their exact texts.
    pub(crate) fn kpi_cards(&self) -> Vec<KpiCard> {
        let (c, p) = (&self.current, &self.previous);
        let vs = self.previous_period_phrase();
        let vs_note = |change: String| {
            super::locale::fill(
                "{change} vs {period}",
                &[("change", &change), ("period", &vs)],
            )
        };
        let share_card = |label, n: u64| KpiCard {
            label,
            value: fmt_share(c.share(n)),
            note: super::locale::fill("{n} mentions", &[("n", &fmt_int(n))]),
        };
        let mut cards = vec![
            KpiCard {
                label: "Mentions",
                value: fmt_int(c.mentions),
                note: vs_note(fmt_change(c.mentions, p.mentions)),
            },
            KpiCard {
                label: "Reach",
                value: fmt_int(c.reach),
                note: vs_note(fmt_change(c.reach, p.reach)),
            },
            KpiCard {
                label: "Net sentiment",
                value: fmt_signed(c.net_sentiment()),
                note: vs_note(net_change(c, p)),
            },
            share_card("Negative", c.negative),
            share_card("Neutral", c.neutral),
            share_card("Positive", c.positive),
        ];
        // Shown only when some mentions could not be scored (a language without a
        // classifier), so that the shares above visibly do not add up to 100 %.
        if c.unscored > 0 {
            cards.push(share_card("Not scored", c.unscored));
        }
        cards
    }
}

fn net_change(c: &Kpis, p: &Kpis) -> String {
    let d = c.net_sentiment() - p.net_sentiment();
    let s = fmt_signed(d);
    if s == "0.00" { "±0.00".into() } else { s }
}

/// A mention's reach as shown.
pub(crate) fn mention_reach(m: &Mention) -> u64 {
    m.reach.unwrap_or_else(|| m.engagement.reach())
}

/// A mention's author as shown.
pub(crate) fn mention_author(m: &Mention) -> String {
    match m.author.as_deref().map(clean_text) {
        Some(a) if !a.is_empty() => a,
        _ => super::locale::tr("unknown author").into(),
    }
}

/// A mention's source as shown.
pub(crate) fn mention_source(m: &Mention) -> String {
    let s = clean_text(&m.source);
    if s.is_empty() {
        clean_text(&m.source_kind)
    } else {
        s
    }
}

/// A mention's sentiment as shown: `negative -0.71`.
pub(crate) fn mention_sentiment(m: &Mention) -> String {
    match &m.sentiment {
        Some(s) => format!("{} {}", s.label, fmt_signed(s.score)),
        None => "unscored".into(),
    }
}

/// The title to show separately (None when absent or repeated at the start of the text).
pub(crate) fn mention_title(m: &Mention) -> Option<String> {
    let t = m.title.as_deref()?;
    let t = clean_text(t);
    if t.is_empty() || clean_text(&m.text).starts_with(&t) {
        None
    } else {
        Some(excerpt(&t, 160))
    }
}

// ---------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------

const CSS: &str = r#"
:root{--neg:#d64545;--neu:#9aa0a6;--pos:#2e9e5b;--ink:#1f2933;--muted:#5f6b7a;--line:#e4e7eb;--bg:#f5f7fa;--accent:#3b5bdb}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--ink);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:980px;margin:0 auto;padding:24px 16px}
.top{display:flex;gap:16px;align-items:flex-start;justify-content:space-between;flex-wrap:wrap}
.logo{max-height:64px;max-width:220px;object-fit:contain}
h1{font-size:1.6em;line-height:1.25;margin:0 0 6px;overflow-wrap:anywhere}
h2{font-size:1.15em;margin:0 0 12px}
.brand{font-weight:600;color:var(--accent);margin:0 0 4px}
.summary{margin:0;padding-left:1.2em}.summary li{margin:4px 0;overflow-wrap:anywhere}
.topics{margin:6px 0;overflow-wrap:anywhere}
.f-reach{fill:var(--accent);opacity:.75}
.meta{color:var(--muted);margin:2px 0;overflow-wrap:anywhere}
section{background:#fff;border:1px solid var(--line);border-radius:8px;padding:16px;margin:16px 0}
.kpis{display:grid;grid-template-columns:repeat(3,1fr);gap:12px}
.kpi{border:1px solid var(--line);border-radius:6px;padding:10px 12px}
.kpi .l{color:var(--muted);font-size:.85em;text-transform:uppercase;letter-spacing:.03em}
.kpi .v{font-size:1.6em;font-weight:700;font-variant-numeric:tabular-nums}
.kpi .c{color:var(--muted);font-size:.85em}
.kpi.neg .v{color:var(--neg)}.kpi.pos .v{color:var(--pos)}
.chart{overflow-x:auto}
.chart svg{width:100%;min-width:540px;height:auto;display:block}
.sov-row{margin:0 0 12px}.sov-l{overflow-wrap:anywhere}
.sov-bar{display:block;width:100%;height:14px;margin-top:3px}
svg text{font-family:inherit;fill:var(--ink)}
svg .ax{stroke:#9aa5b1;stroke-width:1}
svg .grid{stroke:var(--line);stroke-width:1}
svg .f-neg{fill:var(--neg)}svg .f-neu{fill:var(--neu)}svg .f-pos{fill:var(--pos)}
svg .f-q{fill:var(--accent)}svg .f-c{fill:#91a7ff}
.legend{display:flex;gap:16px;flex-wrap:wrap;font-size:.9em;margin-top:8px}
.sw{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:6px;vertical-align:-1px}
.sw.neg{background:var(--neg)}.sw.neu{background:var(--neu)}.sw.pos{background:var(--pos)}
.scroll{overflow-x:auto}
table{width:100%;border-collapse:collapse}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:top;overflow-wrap:anywhere}
th{font-size:.85em;color:var(--muted);font-weight:600}
.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.bar{height:10px;background:var(--accent);border-radius:2px;min-width:1px}
td.b{width:30%}
.mention{border-left:4px solid var(--neu);padding:6px 12px;margin:12px 0;break-inside:avoid}
.mention.neg{border-color:var(--neg)}.mention.pos{border-color:var(--pos)}
.m-meta{font-size:.85em;color:var(--muted);overflow-wrap:anywhere}
.m-meta b{color:var(--ink)}
.m-title{font-weight:600;margin-top:4px;overflow-wrap:anywhere}
.m-text{margin:4px 0;overflow-wrap:anywhere}
.url{font-size:.85em;word-break:break-all;color:var(--muted)}
.url a{color:var(--accent)}
.empty{color:var(--muted);font-style:italic;margin:0}
footer{color:var(--muted);font-size:.85em;text-align:center;padding:16px 0 32px;overflow-wrap:anywhere}
@media (max-width:600px){
body{font-size:14px}main{padding:12px 8px}section{padding:12px;margin:12px 0}
h1{font-size:1.3em}.kpis{grid-template-columns:repeat(2,1fr);gap:8px}.kpi .v{font-size:1.3em}
.logo{max-height:48px}
}
@page{size:A4;margin:14mm}
@media print{
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
body{background:#fff;font-size:10.5pt}
main{max-width:none;padding:0}
section{border:none;border-radius:0;padding:0;margin:0 0 14pt}
.kpis-s,.chart-s{break-inside:avoid}
h2{break-after:avoid}
.chart,.scroll{overflow:visible}.chart svg{min-width:0}
tr{break-inside:avoid}
a{color:inherit;text-decoration:none}
footer{padding:8pt 0 0}
}
"#;

/// The report as one self-contained HTML document.
pub fn render_html(d: &ReportData) -> String {
    let _locale = super::locale::scope(d.locale);
    let mut h = String::with_capacity(64 * 1024);
    let title = esc(&d.title);
    let brand = d.brand_name.as_deref().map(esc).filter(|b| !b.is_empty());

    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n",
        d.locale.code()
    );
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    // Defence in depth: even if something slipped through, nothing may load or run.
    h.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'\">\n",
    );
    h.push_str("<meta name=\"referrer\" content=\"no-referrer\">\n");
    let _ = writeln!(h, "<title>{title}</title>");
    let _ = writeln!(h, "<style>{CSS}</style>\n</head>\n<body>\n<main>");

    // Header.
    h.push_str("<header class=\"top\">\n<div>\n");
    if let Some(b) = &brand {
        let _ = writeln!(h, "<p class=\"brand\">{b}</p>");
    }
    let _ = writeln!(h, "<h1>{title}</h1>");
    let _ = writeln!(
        h,
        "<p class=\"meta\">{}<b>{}</b></p>",
        crate::display::html_escape(tr("Query: ")),
        esc(&d.query)
    );
    let _ = writeln!(
        h,
        "<p class=\"meta\">{}{}</p>",
        crate::display::html_escape(tr("Period: ")),
        esc(&d.period_label())
    );
    let _ = writeln!(
        h,
        "<p class=\"meta\">{}{}</p>",
        crate::display::html_escape(tr("Generated: ")),
        esc(&fmt_time(&d.generated_at))
    );
    h.push_str("</div>\n");
    if let Some(uri) = logo_data_uri(d) {
        let alt = brand.clone().unwrap_or_else(|| "Logo".into());
        let _ = writeln!(h, "<img class=\"logo\" src=\"{uri}\" alt=\"{alt}\">");
    }
    h.push_str("</header>\n");

    // Executive summary.
    if !d.insights.summary.is_empty() {
        let _ = write!(
            h,
            "<section class=\"summary-s\">\n<h2>{}</h2>\n<ul class=\"summary\">\n",
            esc(tr("Executive summary"))
        );
        for line in &d.insights.summary {
            let _ = writeln!(h, "<li>{}</li>", esc(line));
        }
        h.push_str("</ul>\n</section>\n");
    }

    // KPIs.
    let _ = write!(
        h,
        "<section class=\"kpis-s\" aria-label=\"{0}\">\n<h2>{0}</h2>\n<div class=\"kpis\">\n",
        esc(tr("Key figures"))
    );
    for card in d.kpi_cards() {
        let class = match card.label {
            "Negative" => " neg",
            "Positive" => " pos",
            _ => "",
        };
        let _ = writeln!(
            h,
            "<div class=\"kpi{class}\"><div class=\"l\">{}</div><div class=\"v\">{}</div><div class=\"c\">{}</div></div>",
            esc(tr(card.label)),
            esc(&card.value),
            esc(&card.note)
        );
    }
    h.push_str("</div>\n</section>\n");

    volume_chart(&mut h, d);
    reach_chart(&mut h, d);
    key_topics(&mut h, d);
    // Share of voice compares queries: only with --compare.
    if d.share_of_voice.len() > 1 {
        share_of_voice(&mut h, d);
    }
    sources(&mut h, d);
    mentions(&mut h, "Top negative mentions", "neg", &d.top_negative);
    mentions(&mut h, "Top positive mentions", "pos", &d.top_positive);
    authors(&mut h, d);
    alerts(&mut h, d);

    h.push_str("<footer>");
    if let Some(b) = &brand {
        let _ = write!(h, "{b} · ");
    }
    let _ = write!(h, "{title} · generated {}", esc(&fmt_time(&d.generated_at)));
    h.push_str("</footer>\n</main>\n</body>\n</html>\n");
    h
}

/// The logo as a `data:` URI, for raster/SVG image types only (anything else is dropped).
/// An SVG logo shown through `<img>` can neither run scripts nor load resources.
fn logo_data_uri(d: &ReportData) -> Option<String> {
    let (mime, bytes) = d.logo.as_ref()?;
    if bytes.is_empty() {
        return None;
    }
    let mime = mime.trim().to_ascii_lowercase();
    let mime = match mime.split(';').next().unwrap_or("").trim() {
        "image/png" => "image/png",
        "image/jpeg" | "image/jpg" | "image/pjpeg" => "image/jpeg",
        "image/svg+xml" | "image/svg" => "image/svg+xml",
        "image/gif" => "image/gif",
        "image/webp" => "image/webp",
        _ => return None,
    };
    let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
    Some(format!("data:{mime};base64,{b64}"))
}

fn volume_chart(h: &mut String, d: &ReportData) {
    let _ = write!(
        h,
        "<section class=\"chart-s\">\n<h2>{}</h2>\n",
        esc(tr("Volume by sentiment"))
    );
    if d.series.is_empty() {
        let _ = write!(
            h,
            "<p class=\"empty\">{}</p>\n</section>\n",
            esc(tr("No data for this period."))
        );
        return;
    }
    let (w, ht) = (720.0_f64, 280.0_f64);
    let (ml, mr, mt, mb) = (52.0, 10.0, 12.0, 34.0);
    let (pw, ph) = (w - ml - mr, ht - mt - mb);
    let max = d
        .series
        .iter()
        .map(|b| b.negative + b.neutral + b.positive)
        .max()
        .unwrap_or(0);
    let (top, step) = nice_axis(max);
    let n = d.series.len();
    let slot = pw / n as f64;
    let bw = (slot * 0.78).max(0.5);
    let y = |v: u64| mt + ph - v as f64 / top as f64 * ph;

    let _ = writeln!(
        h,
        "<div class=\"chart\"><svg viewBox=\"0 0 {w} {ht}\" role=\"img\" aria-label=\"Volume by sentiment per {}\" font-size=\"11\">",
        esc(&d.interval)
    );
    y_grid(h, ml, pw, (top, step), &y, fmt_int);
    for (i, b) in d.series.iter().enumerate() {
        let x = ml + slot * i as f64 + (slot - bw) / 2.0;
        let _ = write!(
            h,
            "<g><title>{}: {} negative, {} neutral, {} positive</title>",
            esc(&bucket_label(b, &d.interval)),
            b.negative,
            b.neutral,
            b.positive
        );
        let mut base = 0;
        for (count, class) in [
            (b.negative, "f-neg"),
            (b.neutral, "f-neu"),
            (b.positive, "f-pos"),
        ] {
            if count > 0 {
                let (y1, y0) = (y(base + count), y(base));
                let _ = write!(
                    h,
                    "<rect class=\"{class}\" x=\"{x:.2}\" y=\"{y1:.2}\" width=\"{bw:.2}\" height=\"{:.2}\"/>",
                    (y0 - y1).max(0.0)
                );
            }
            base += count;
        }
        h.push_str("</g>\n");
    }
    // Axes and date labels (at most ~10 of them).
    let _ = writeln!(
        h,
        "<line class=\"ax\" x1=\"{ml}\" x2=\"{ml}\" y1=\"{mt}\" y2=\"{:.1}\"/><line class=\"ax\" x1=\"{ml}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\"/>",
        mt + ph,
        ml + pw,
        mt + ph,
        mt + ph
    );
    let max_labels = if d.interval == "hour" { 7 } else { 10 };
    let every = label_every(n, &d.interval, max_labels);
    for (i, b) in d.series.iter().enumerate().step_by(every) {
        let cx = ml + slot * (i as f64 + 0.5);
        let _ = writeln!(
            h,
            "<line class=\"ax\" x1=\"{cx:.1}\" x2=\"{cx:.1}\" y1=\"{:.1}\" y2=\"{:.1}\"/><text x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            mt + ph,
            mt + ph + 4.0,
            mt + ph + 18.0,
            esc(&bucket_label(b, &d.interval))
        );
    }
    h.push_str("</svg></div>\n");
    h.push_str(
        "<div class=\"legend\"><span><i class=\"sw neg\"></i>Negative</span><span><i class=\"sw neu\"></i>Neutral</span><span><i class=\"sw pos\"></i>Positive</span></div>\n</section>\n",
    );
}

/// Horizontal grid lines with their values, every `step` up to `top`, for a chart whose
/// plot starts at `ml` and is `pw` wide.
fn y_grid(
    h: &mut String,
    ml: f64,
    pw: f64,
    (top, step): (u64, u64),
    y: &dyn Fn(u64) -> f64,
    label: impl Fn(u64) -> String,
) {
    let mut v = 0;
    while v <= top {
        let yy = y(v);
        let _ = writeln!(
            h,
            "<line class=\"grid\" x1=\"{ml}\" x2=\"{:.1}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            ml + pw,
            ml - 6.0,
            yy + 4.0,
            label(v)
        );
        v += step.max(1);
    }
}

/// Reach over time: one bar per bucket (the summed potential reach of its mentions).
fn reach_chart(h: &mut String, d: &ReportData) {
    if d.series.iter().all(|b| b.reach == 0) {
        return;
    }
    let _ = write!(
        h,
        "<section class=\"chart-s\">\n<h2>{}</h2>\n",
        esc(tr("Reach over time"))
    );
    let (w, ht) = (720.0_f64, 160.0_f64);
    let (ml, mr, mt, mb) = (52.0, 10.0, 10.0, 28.0);
    let (pw, ph) = (w - ml - mr, ht - mt - mb);
    let max = d.series.iter().map(|b| b.reach).max().unwrap_or(0);
    let (top, step) = nice_axis(max);
    let n = d.series.len();
    let slot = pw / n as f64;
    let bw = (slot * 0.78).max(0.5);
    let y = |v: u64| mt + ph - v as f64 / top as f64 * ph;
    let _ = writeln!(
        h,
        "<div class=\"chart\"><svg viewBox=\"0 0 {w} {ht}\" role=\"img\" aria-label=\"Reach per {}\" font-size=\"11\">",
        esc(&d.interval)
    );
    y_grid(h, ml, pw, (top, step), &y, |v| fmt_value(v as f64));
    for (i, b) in d.series.iter().enumerate().filter(|(_, b)| b.reach > 0) {
        let x = ml + slot * i as f64 + (slot - bw) / 2.0;
        let (y1, y0) = (y(b.reach), y(0));
        let _ = writeln!(
            h,
            "<rect class=\"f-reach\" x=\"{x:.2}\" y=\"{y1:.2}\" width=\"{bw:.2}\" height=\"{:.2}\"><title>{}: reach {}</title></rect>",
            (y0 - y1).max(0.0),
            esc(&bucket_label(b, &d.interval)),
            fmt_int(b.reach)
        );
    }
    let every = label_every(n, &d.interval, if d.interval == "hour" { 7 } else { 10 });
    for (i, b) in d.series.iter().enumerate().step_by(every) {
        let cx = ml + slot * (i as f64 + 0.5);
        let _ = writeln!(
            h,
            "<text x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            mt + ph + 18.0,
            esc(&bucket_label(b, &d.interval))
        );
    }
    h.push_str("</svg></div>\n</section>\n");
}

/// "“outage” 30 %, “refund” 12 %" — the terms of a topic list with their shares.
pub(crate) fn topic_list(t: &[crate::alerts::drivers::Driver]) -> String {
    t.iter()
        .map(|d| format!("“{}” {:.0} %", clean_text(&d.term), d.share * 100.0))
        .collect::<Vec<_>>()
        .join(", ")
}

fn key_topics(h: &mut String, d: &ReportData) {
    let i = &d.insights;
    if i.topics.is_empty() && i.negative_topics.is_empty() {
        return;
    }
    let _ = write!(
        h,
        "<section class=\"topics-s\">\n<h2>{}</h2>\n",
        esc(tr("Key topics"))
    );
    for (label, list) in [
        ("Characteristic of this period", &i.topics),
        ("In negative mentions", &i.negative_topics),
    ] {
        if !list.is_empty() {
            let _ = writeln!(
                h,
                "<p class=\"topics\"><b>{label}:</b> {}</p>",
                esc(&topic_list(list))
            );
        }
    }
    h.push_str("<p class=\"empty\">Share of mentions containing each phrase; phrases at least twice as common as in the three periods before.</p>\n</section>\n");
}

fn share_of_voice(h: &mut String, d: &ReportData) {
    let _ = write!(
        h,
        "<section class=\"chart-s\">\n<h2>{}</h2>\n",
        esc(tr("Share of voice"))
    );
    if d.share_of_voice.is_empty() {
        let _ = write!(
            h,
            "<p class=\"empty\">{}</p>\n</section>\n",
            esc(tr("No comparison data."))
        );
        return;
    }
    let (total, max) = d.share_of_voice_scale();
    // One row per query: the figures as text (so that it reflows on phones), then the bar
    // as a small inline SVG stretched to the row's width.
    h.push_str("<div class=\"sov\">\n");
    for (i, s) in d.share_of_voice.iter().enumerate() {
        let width = s.mentions as f64 / max as f64 * 100.0;
        let width = if s.mentions > 0 { width.max(0.3) } else { 0.0 };
        let share = if total == 0 {
            0.0
        } else {
            s.mentions as f64 / total as f64
        };
        let class = if i == 0 { "f-q" } else { "f-c" };
        let _ = writeln!(
            h,
            "<div class=\"sov-row\"><div class=\"sov-l\"><b>{}</b> — {} mentions · {} · net {}</div><svg class=\"sov-bar\" viewBox=\"0 0 100 10\" preserveAspectRatio=\"none\" aria-hidden=\"true\"><rect class=\"{class}\" width=\"{width:.2}\" height=\"10\"/></svg></div>",
            esc(&s.query),
            fmt_int(s.mentions),
            esc(&fmt_share(share)),
            esc(&fmt_signed(s.net_sentiment)),
        );
    }
    h.push_str("</div>\n</section>\n");
}

fn sources(h: &mut String, d: &ReportData) {
    let _ = write!(h, "<section>\n<h2>{}</h2>\n", esc(tr("Sources")));
    if d.sources.is_empty() {
        let _ = write!(
            h,
            "<p class=\"empty\">{}</p>\n</section>\n",
            esc(tr("No sources."))
        );
        return;
    }
    let total: u64 = d.sources.iter().map(|s| s.1).sum();
    let max = d.sources.iter().map(|s| s.1).max().unwrap_or(0).max(1);
    let _ = write!(
        h,
        "<div class=\"scroll\"><table>\n<thead><tr><th>{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"b\"></th></tr></thead>\n<tbody>\n",
        esc(tr("Source")),
        esc(tr("Mentions")),
        esc(tr("Share"))
    );
    for (name, n) in &d.sources {
        let share = if total == 0 {
            0.0
        } else {
            *n as f64 / total as f64
        };
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"b\"><div class=\"bar\" style=\"width:{:.1}%\"></div></td></tr>",
            esc(name),
            fmt_int(*n),
            esc(&fmt_share(share)),
            *n as f64 / max as f64 * 100.0
        );
    }
    h.push_str("</tbody></table></div>\n</section>\n");
}

fn mentions(h: &mut String, heading: &'static str, class: &str, list: &[Mention]) {
    let _ = writeln!(h, "<section>\n<h2>{}</h2>", esc(tr(heading)));
    if list.is_empty() {
        let _ = write!(
            h,
            "<p class=\"empty\">{}</p>\n</section>\n",
            esc(tr("No mentions."))
        );
        return;
    }
    for m in list {
        let class = match m.sentiment.as_ref().map(|s| s.label) {
            Some(Label::Negative) => "neg",
            Some(Label::Positive) => "pos",
            Some(Label::Neutral | Label::Unscored) => "neu",
            None => class,
        };
        let _ = writeln!(
            h,
            "<article class=\"mention {class}\">\n<div class=\"m-meta\"><b>{}</b> · {} · {} · reach {} · sentiment {}</div>",
            esc(&mention_author(m)),
            esc(&mention_source(m)),
            esc(&fmt_time(&m.published_at)),
            fmt_int(mention_reach(m)),
            esc(&mention_sentiment(m))
        );
        if let Some(t) = mention_title(m) {
            let _ = writeln!(h, "<div class=\"m-title\">{}</div>", esc(&t));
        }
        let text = excerpt(&m.text, EXCERPT_CHARS);
        if !text.is_empty() {
            let _ = writeln!(h, "<p class=\"m-text\">{}</p>", esc(&text));
        }
        if let Some(u) = m.url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
            if is_http_url(u) {
                let _ = writeln!(
                    h,
                    "<div class=\"url\"><a href=\"{}\" rel=\"noopener noreferrer nofollow\" target=\"_blank\">{}</a></div>",
                    esc(u),
                    esc(&excerpt(u, 120))
                );
            } else {
                let _ = writeln!(
                    h,
                    "<div class=\"url\">{} (not linked)</div>",
                    esc(&excerpt(u, 120))
                );
            }
        }
        h.push_str("</article>\n");
    }
    h.push_str("</section>\n");
}

fn authors(h: &mut String, d: &ReportData) {
    let _ = write!(h, "<section>\n<h2>{}</h2>\n", esc(tr("Top authors")));
    if d.top_authors.is_empty() {
        let _ = write!(
            h,
            "<p class=\"empty\">{}</p>\n</section>\n",
            esc(tr("No authors."))
        );
        return;
    }
    let _ = write!(
        h,
        "<div class=\"scroll\"><table>\n<thead><tr><th class=\"n\">#</th><th>{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th></tr></thead>\n<tbody>\n",
        esc(tr("Author")),
        esc(tr("Mentions")),
        esc(tr("Reach"))
    );
    for (i, a) in d.top_authors.iter().enumerate() {
        let _ = writeln!(
            h,
            "<tr><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            i + 1,
            esc(&a.name),
            fmt_int(a.mentions),
            fmt_int(a.reach)
        );
    }
    h.push_str("</tbody></table></div>\n</section>\n");
}

fn alerts(h: &mut String, d: &ReportData) {
    let _ = write!(
        h,
        "<section>\n<h2>{}</h2>\n",
        esc(tr("Alerts in this period"))
    );
    if d.alerts.is_empty() {
        let _ = write!(
            h,
            "<p class=\"empty\">{}</p>\n</section>\n",
            esc(tr("No alerts."))
        );
        return;
    }
    let _ = write!(
        h,
        "<div class=\"scroll\"><table>\n<thead><tr><th>{}</th><th>{}</th><th>{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th>Summary</th></tr></thead>\n<tbody>\n",
        esc(tr("Fired (UTC)")),
        esc(tr("Rule")),
        esc(tr("Kind")),
        esc(tr("Observed")),
        esc(tr("Expected"))
    );
    for a in &d.alerts {
        let _ = writeln!(
            h,
            "<tr><td class=\"n\">{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
            esc(&a.fired_at.format("%Y-%m-%d %H:%M").to_string()),
            esc(&a.rule),
            esc(&a.kind),
            esc(&fmt_value(a.observed)),
            esc(&fmt_value(a.expected)),
            esc(&a.summary)
        );
    }
    h.push_str("</tbody></table></div>\n</section>\n");
}

// ---------------------------------------------------------------------------------------------
// Tests (the fixture is shared with pdf.rs)
// ---------------------------------------------------------------------------------------------

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::mention::{Engagement, Sentiment};
    use crate::report::{AlertLine, Author, Share};
    use chrono::{Duration, TimeZone};

    pub const HOSTILE_SCRIPT: &str = "<script>alert(1)</script>";
    pub const HOSTILE_IMG: &str = "<img src=x onerror=alert(1)>";
    pub const TOP_NEG_TEXT: &str =
        "Café Zürich — “quoted” service was awful, we waited 45 minutes & nobody cared.";

    fn t(s: &str) -> DateTime<Utc> {
        crate::timeutil::parse_timestamp(s).unwrap()
    }

    fn mention(i: usize, label: Label, score: f64, text: &str, url: &str, reach: u64) -> Mention {
        Mention {
            id: format!("web:{i}"),
            queries: vec!["acme".into()],
            source: if i.is_multiple_of(2) {
                "reddit-main".into()
            } else {
                "news<b>feed</b>".into()
            },
            source_kind: "reddit".into(),
            url: if url.is_empty() {
                None
            } else {
                Some(url.into())
            },
            author: Some(format!("author{i}")),
            title: None,
            text: text.into(),
            published_at: Utc
                .with_ymd_and_hms(2026, 11, 1 + i as u32, 9, 30, 0)
                .unwrap(),
            fetched_at: None,
            lang: Some("en".into()),
            sentiment: Some(Sentiment {
                label,
                score,
                model: "lexicon".into(),
            }),
            engagement: Engagement::default(),
            reach: Some(reach),
            duplicates: Vec::new(),
            triage: None,
            parent_id: None,
        }
    }

    /// A long, hostile report: 90 day buckets, 3 share-of-voice rows, 5+5 mentions.
    pub fn fixture() -> ReportData {
        let since = t("2026-10-27T00:00:00Z");
        let series: Vec<Bucket> = (0..90)
            .map(|i| Bucket {
                start: since + Duration::days(i),
                negative: (i as u64 * 7) % 13,
                neutral: 10 + (i as u64 * 3) % 17,
                positive: (i as u64 * 5) % 11,
                reach: 1000 + i as u64,
            })
            .collect();
        let long = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ".repeat(20);
        let mut neg = vec![
            mention(
                1,
                Label::Negative,
                -0.91,
                TOP_NEG_TEXT,
                "https://example.com/a?x=1&y=2",
                98_765,
            ),
            mention(
                2,
                Label::Negative,
                -0.8,
                HOSTILE_SCRIPT,
                "javascript:alert(1)",
                50_000,
            ),
            mention(
                3,
                Label::Negative,
                -0.7,
                HOSTILE_IMG,
                "JaVaScRiPt:alert(document.cookie)",
                40_000,
            ),
            mention(
                4,
                Label::Negative,
                -0.6,
                &long,
                "http://example.org/\"onmouseover=alert(1)",
                30_000,
            ),
            mention(
                5,
                Label::Negative,
                -0.5,
                "Bell\u{7} and \u{202E}override and ESC\u{1b}[31m",
                "data:text/html,<script>alert(1)</script>",
                20_000,
            ),
        ];
        neg[0].title = Some("Terrible <b>visit</b>".into());
        neg[1].author = Some("\"><script>alert(2)</script>".into());
        let pos = vec![
            mention(
                6,
                Label::Positive,
                0.9,
                "Привет, отличный сервис! Grüße aus München.",
                "https://example.net/p",
                70_000,
            ),
            mention(
                7,
                Label::Positive,
                0.8,
                "Great 'stuff' \"here\"",
                "",
                60_000,
            ),
            mention(
                8,
                Label::Positive,
                0.7,
                &long,
                "ftp://example.com/file",
                50_000,
            ),
            mention(
                9,
                Label::Positive,
                0.6,
                "Nice",
                "https://example.com/9",
                40_000,
            ),
            mention(
                10,
                Label::Positive,
                0.5,
                "Also nice",
                " https://example.com/space",
                30_000,
            ),
        ];
        ReportData {
            title: "Reputation report: acme <script>alert(1)</script>".into(),
            brand_name: Some("Agency & Co's \"Best\"".into()),
            logo: Some(("image/png".into(), b"\x89PNG\r\n\x1a\nfakepng".to_vec())),
            query: "acme OR \"acme inc\"".into(),
            since,
            until: t("2026-11-26T00:00:00Z"),
            generated_at: t("2026-11-26T08:30:00Z"),
            current: Kpis {
                mentions: 1234,
                reach: 5_678_901,
                negative: 300,
                neutral: 634,
                positive: 300 + 12,
                unscored: 0,
            },
            previous: Kpis {
                mentions: 1100,
                reach: 6_000_000,
                negative: 400,
                neutral: 500,
                positive: 200,
                unscored: 0,
            },
            series,
            interval: "day".into(),
            share_of_voice: vec![
                Share {
                    query: "acme".into(),
                    mentions: 1234,
                    reach: 5_678_901,
                    net_sentiment: 0.0097,
                },
                Share {
                    query: "globex <img src=x onerror=alert(1)>".into(),
                    mentions: 800,
                    reach: 1_000_000,
                    net_sentiment: -0.25,
                },
                Share {
                    query: "Café Zürich".into(),
                    mentions: 400,
                    reach: 300_000,
                    net_sentiment: 0.4,
                },
            ],
            sources: vec![
                ("reddit-main".into(), 700),
                ("news<b>feed</b>".into(), 400),
                ("x".into(), 134),
            ],
            top_positive: pos,
            top_negative: neg,
            top_authors: (1..=10)
                .map(|i| Author {
                    name: format!("author{i} <i>x</i>"),
                    mentions: 20 - i,
                    reach: 10_000 * (20 - i),
                })
                .collect(),
            alerts: (0..12)
                .map(|i| AlertLine {
                    fired_at: since + Duration::hours(i * 37),
                    rule: format!("neg-spike-{i}"),
                    kind: "spike".into(),
                    observed: 47.0,
                    expected: 6.2,
                    summary: format!(
                        "47 negative mentions in 1h, 6.2 expected <script>x</script> #{i}"
                    ),
                })
                .collect(),
            locale: Default::default(),
            insights: crate::report::insights::Insights {
                summary: vec![
                    "acme was mentioned 1,234 times (+12 % compared with the previous period).".into(),
                    "The largest incident was on 3 Nov 2026: 85 negative mentions in one day, about “<b>outage</b>”.".into(),
                ],
                topics: vec![crate::alerts::drivers::Driver {
                    term: "new app".into(),
                    share: 0.12,
                    baseline_share: 0.01,
                }],
                negative_topics: vec![crate::alerts::drivers::Driver {
                    term: "outage <i>".into(),
                    share: 0.3,
                    baseline_share: 0.02,
                }],
            },
        }
    }

    /// A report with nothing in it.
    pub fn empty_fixture() -> ReportData {
        let mut d = fixture();
        d.logo = None;
        d.brand_name = None;
        d.current = Kpis::default();
        d.previous = Kpis::default();
        d.series.clear();
        d.share_of_voice.clear();
        d.sources.clear();
        d.top_negative.clear();
        d.top_positive.clear();
        d.top_authors.clear();
        d.alerts.clear();
        d.insights = Default::default();
        d
    }

    #[test]
    fn formatting_helpers() {
        assert_eq!(fmt_int(0), "0");
        assert_eq!(fmt_int(999), "999");
        assert_eq!(fmt_int(1000), "1,000");
        assert_eq!(fmt_int(5_678_901), "5,678,901");
        assert_eq!(fmt_signed(0.0097), "+0.01");
        assert_eq!(fmt_signed(-0.001), "0.00");
        assert_eq!(fmt_signed(-0.25), "-0.25");
        assert_eq!(fmt_change(1234, 1100), "+12 %");
        assert_eq!(fmt_change(5_678_901, 6_000_000), "-5 %");
        assert_eq!(fmt_change(3, 0), "new");
        assert_eq!(fmt_change(0, 0), "±0 %");
        assert_eq!(fmt_share(0.25), "25.0 %");
        assert_eq!(fmt_value(47.0), "47");
        assert_eq!(fmt_value(6.25), "6.25");
        assert_eq!(nice_axis(23), (30, 10));
        assert_eq!(nice_axis(38), (40, 10));
        assert_eq!(nice_axis(170), (200, 50));
        assert_eq!(nice_axis(0), (4, 1));
        assert_eq!(nice_axis(3), (3, 1));
        assert_eq!(label_every(90, "day", 10), 14);
        assert_eq!(label_every(7, "day", 10), 1);
        assert_eq!(label_every(72, "hour", 7), 12);
        assert_eq!(label_every(400, "day", 10), 56);
        assert!(is_http_url("https://x.y/z"));
        assert!(is_http_url("HTTP://x"));
        assert!(!is_http_url("javascript:alert(1)"));
        assert!(!is_http_url(" https://x"));
        assert!(!is_http_url("https://"));
        assert!(!is_http_url("https://x\ny"));
        assert_eq!(clean_text(" a\u{7}b\n\n c\u{202E}d "), "ab cd");
    }

    #[test]
    fn excerpts_are_at_most_280_chars() {
        let long = "word ".repeat(200);
        let e = excerpt(&long, EXCERPT_CHARS);
        assert!(e.chars().count() <= EXCERPT_CHARS, "{}", e.chars().count());
        assert!(e.chars().count() > 250);
        assert!(e.ends_with('…'));
        let unbroken = "é".repeat(400);
        assert_eq!(excerpt(&unbroken, 280).chars().count(), 280);
        assert_eq!(excerpt("short", 280), "short");
    }

    #[test]
    fn unscored_mentions_get_a_card_and_stay_out_of_net_sentiment() {
        let mut d = fixture();
        assert!(!d.kpi_cards().iter().any(|c| c.label == "Not scored"));
        d.current.unscored = 200;
        d.current.mentions += 200;
        let cards = d.kpi_cards();
        let card = cards
            .iter()
            .find(|c| c.label == "Not scored")
            .expect("a card");
        assert_eq!(card.note, "200 mentions");
        // Net sentiment over the 1,234 scored mentions, as before the unscored ones came.
        assert!((d.current.net_sentiment() - 12.0 / 1234.0).abs() < 1e-9);
    }

    #[test]
    fn kpi_cards_have_the_expected_texts() {
        let cards = fixture().kpi_cards();
        let texts: Vec<(&str, &str, &str)> = cards
            .iter()
            .map(|c| (c.label, c.value.as_str(), c.note.as_str()))
            .collect();
        assert_eq!(
            texts,
            vec![
                ("Mentions", "1,234", "+12 % vs previous 30 days"),
                ("Reach", "5,678,901", "-5 % vs previous 30 days"),
                ("Net sentiment", "+0.01", "+0.19 vs previous 30 days"),
                ("Negative", "24.3 %", "300 mentions"),
                ("Neutral", "51.4 %", "634 mentions"),
                ("Positive", "25.3 %", "312 mentions"),
            ]
        );
    }

    #[test]
    fn html_contains_kpis_charts_and_sections_in_order() {
        let h = render_html(&fixture());
        assert!(h.starts_with("<!DOCTYPE html>"));
        for needle in [
            "<div class=\"v\">1,234</div>",
            "<div class=\"v\">5,678,901</div>",
            "<div class=\"v\">+0.01</div>",
            "<div class=\"v\">24.3 %</div>",
            "+12 % vs previous 30 days",
            "-5 % vs previous 30 days",
            "+0.19 vs previous 30 days",
            "Period: 2026-10-27 00:00 – 2026-11-26 00:00 UTC",
            "Generated: 2026-11-26 08:30 UTC",
            "<svg viewBox",
            "class=\"f-neg\"",
            "class=\"f-neu\"",
            "class=\"f-pos\"",
            ">Oct 27</text>",
            "<b>acme</b> — 1,234 mentions · 50.7 % · net +0.01</div>",
            "@media print",
            "@media (max-width:600px)",
            "name=\"viewport\"",
            "Café Zürich — “quoted” service",
            "Привет, отличный сервис!",
        ] {
            assert!(h.contains(needle), "missing {needle:?}");
        }
        assert!(!h.contains("No alerts."));
        assert!(h.contains("neg-spike-11"));
        // Sections in the required order.
        let order = [
            "<h1>",
            "Key figures",
            "Volume by sentiment",
            "Share of voice",
            "<h2>Sources",
            "Top negative mentions",
            "Top positive mentions",
            "Top authors",
            "Alerts in this period",
            "<footer>Agency &amp; Co&#39;s &quot;Best&quot; · ",
        ];
        let pos: Vec<usize> = order
            .iter()
            .map(|s| h.find(s).unwrap_or_else(|| panic!("missing {s}")))
            .collect();
        assert!(pos.windows(2).all(|w| w[0] < w[1]), "{pos:?}");
        // 90 buckets → 90 bar groups (each with a tooltip); 7 date labels on each of the
        // volume and reach charts.
        assert_eq!(h.matches("<g><title>").count(), 90);
        assert_eq!(h.matches("<svg class=\"sov-bar\"").count(), 3);
        assert!(h.contains("<h2>Reach over time</h2>"));
        assert_eq!(
            h.matches("class=\"f-reach\"").count(),
            fixture().series.iter().filter(|b| b.reach > 0).count()
        );
        assert_eq!(
            h.matches("text-anchor=\"middle\"").count(),
            14,
            "every 14 days of 90, on two charts"
        );
        assert!(h.contains(">Nov 10</text>") && h.contains(">Jan 19</text>"));
    }

    #[test]
    fn html_is_inert_against_hostile_data() {
        let h = render_html(&fixture());
        let lower = h.to_ascii_lowercase();
        assert!(!lower.contains("<script"), "script tag");
        assert!(!lower.contains("onerror="), "onerror");
        assert!(!lower.contains("onmouseover="), "onmouseover");
        assert!(!lower.contains("href=\"javascript:"), "js href");
        assert!(!lower.contains("href=\"data:"), "data href");
        assert!(!lower.contains("<img src=x"), "img injection");
        assert!(!h.contains('\u{7}') && !h.contains('\u{1b}') && !h.contains('\u{202E}'));
        // Escaped forms are present.
        assert!(h.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(h.contains("&lt;img src&#61;x onerror&#61;alert(1)&gt;"));
        assert!(h.contains("&quot;&gt;&lt;script&gt;alert(2)&lt;/script&gt;"));
        assert!(h.contains("<div class=\"url\">javascript:alert(1) (not linked)</div>"));
        assert!(h.contains("<div class=\"url\">ftp://example.com/file (not linked)</div>"));
        assert!(h.contains("Great &#39;stuff&#39; &quot;here&quot;"));
        assert!(h.contains("news&lt;b&gt;feed&lt;/b&gt;"));
        // The only links are the http(s) mention URLs, escaped inside the attribute.
        let hrefs: Vec<&str> = h
            .split("href=\"")
            .skip(1)
            .map(|s| &s[..s.find('"').unwrap()])
            .collect();
        assert_eq!(
            hrefs,
            vec![
                "https://example.com/a?x&#61;1&amp;y&#61;2",
                "http://example.org/&quot;onmouseover&#61;alert(1)",
                "https://example.net/p",
                "https://example.com/9",
                "https://example.com/space",
            ]
        );
        // Every http(s) occurrence belongs to one of those links (href or its visible text).
        for (i, _) in lower.match_indices("http") {
            let rest = &h[i..];
            if !(rest.starts_with("http://") || rest.starts_with("https://")) {
                continue; // e.g. http-equiv
            }
            let token = &rest[..rest.find(['"', '<', ' ']).unwrap_or(rest.len())];
            let token = token.trim_end_matches('…');
            assert!(
                hrefs.iter().any(|u| u.starts_with(token)),
                "stray URL {token}"
            );
        }
        // No resource is loaded from anywhere: every src= is a data: URI.
        for (i, _) in lower.match_indices("src=\"") {
            assert!(
                lower[i + 5..].starts_with("data:image/png;base64,"),
                "{}",
                &h[i..i + 40]
            );
        }
        assert_eq!(lower.matches("src=\"").count(), 1);
        assert!(!lower.contains("url("), "no CSS url()");
        assert!(!lower.contains("@import"));
        assert!(!lower.contains("<link"));
        assert!(
            !lower.contains("<iframe") && !lower.contains("<object") && !lower.contains("<embed")
        );
    }

    #[test]
    fn logo_types_are_whitelisted() {
        let mut d = fixture();
        d.logo = Some(("text/html".into(), b"<script>alert(1)</script>".to_vec()));
        let h = render_html(&d);
        assert!(!h.contains("<img"));
        d.logo = Some(("image/svg+xml".into(), b"<svg/>".to_vec()));
        assert!(render_html(&d).contains("src=\"data:image/svg+xml;base64,PHN2Zy8+\""));
    }

    #[test]
    fn hourly_series_gets_hour_labels() {
        let mut d = fixture();
        d.until = d.since + Duration::hours(72);
        d.interval = "hour".into();
        d.series.truncate(72);
        for (i, b) in d.series.iter_mut().enumerate() {
            b.start = d.since + Duration::hours(i as i64);
        }
        let h = render_html(&d);
        assert!(h.contains(">Oct 27 00:00</text>"));
        assert!(
            h.contains(">Oct 27 12:00</text>"),
            "every 12th of 72 buckets is labelled"
        );
        assert_eq!(
            h.matches("text-anchor=\"middle\"").count(),
            12,
            "6 labels on each chart"
        );
        assert!(h.contains("+12 % vs previous 3 days"));
    }

    #[test]
    fn summary_and_topics_are_rendered_escaped() {
        let h = render_html(&fixture());
        assert!(h.contains("<h2>Executive summary</h2>"));
        assert!(h.contains(
            "<li>acme was mentioned 1,234 times (+12 % compared with the previous period).</li>"
        ));
        assert!(
            h.contains("about “&lt;b&gt;outage&lt;/b&gt;”"),
            "summary text is escaped"
        );
        assert!(h.contains("<b>In negative mentions:</b> “outage &lt;i&gt;” 30 %"));
        assert!(!h.contains("<b>outage</b>") && !h.contains("outage <i>"));
        // With --compare, share of voice is there.
        assert!(h.contains("Share of voice"));
    }

    #[test]
    fn empty_report_renders_placeholders() {
        let h = render_html(&empty_fixture());
        for s in [
            "No data for this period.",
            "No sources.",
            "No mentions.",
            "No authors.",
            "No alerts.",
        ] {
            assert!(h.contains(s), "{s}");
        }
        assert!(h.contains("<div class=\"v\">0</div>"));
        assert!(h.contains("<div class=\"v\">0.00</div>"));
        // Share of voice only compares: without --compare there is no such section.
        assert!(!h.contains("Share of voice"));
        assert!(!h.contains("Executive summary") && !h.contains("Key topics"));
        assert!(h.contains("±0 % vs previous 30 days"));
        assert!(!h.contains("<img"));
    }

    #[test]
    fn html_renders_fast() {
        let d = fixture();
        let start = std::time::Instant::now();
        for _ in 0..10 {
            std::hint::black_box(render_html(&d));
        }
        let per = start.elapsed() / 10;
        eprintln!("per render: {per:?}");
        // Generous for unoptimised test builds on a busy machine; release is far below.
        assert!(per < std::time::Duration::from_millis(50), "{per:?}");
    }
}
