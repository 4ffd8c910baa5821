//! `hark classify`: one text per stdin line → one result per stdout line, same order.

use super::{Cli, load_config, usage};
use crate::sentiment;
use clap::Args;
use std::io::{BufRead, Write};

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  echo 'Acme support is useless, never again' | hark classify\n  hark classify --query acme --format tsv < texts.txt\n  echo 'Ce service est nul' | hark classify --lang fr"
)]
pub struct ClassifyArgs {
    /// The model for English: lexicon (VADER) or bert. Default: [sentiment].model of the
    /// config. Other languages use their own models (see README: Sentiment by language).
    #[arg(long)]
    pub model: Option<String>,
    /// The language of every line (ISO 639-1). Default: detected per line.
    #[arg(long, value_name = "CODE")]
    pub lang: Option<String>,
    /// Score each line as a mention of this query: its own terms carry no sentiment.
    #[arg(long = "query", value_name = "NAME")]
    pub query_name: Option<String>,
    /// `jsonl` (label, score and class proportions) or `tsv` (label and score).
    #[arg(long, value_enum, default_value = "jsonl")]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Jsonl,
    Tsv,
}

pub fn run(cli: &Cli, a: &ClassifyArgs) -> anyhow::Result<()> {
    let cfg = load_config(cli, false)?;
    let model = a.model.clone().unwrap_or(cfg.sentiment.model.clone());
    let router = sentiment::load_router(&model, &cfg.sentiment, &cfg.root)
        .map_err(|e| usage(e.to_string()))?;
    let forced =
        match &a.lang {
            Some(l) => Some(crate::lang::normalise_hint(l).ok_or_else(|| {
                usage(format!("--lang: `{l}` is not an ISO 639-1 code such as fr"))
            })?),
            None => None,
        };
    let neutral = match &a.query_name {
        Some(name) => match cfg.query(name) {
            Some(q) => q.neutral_terms(),
            None => {
                let names: Vec<&str> = cfg.queries.iter().map(|q| q.name.as_str()).collect();
                let mut msg = format!(
                    "--query: no query named `{name}` in {}",
                    cfg.root.join(&cfg.storage.queries_dir).display()
                );
                msg.push_str(&crate::config::did_you_mean(name, &names));
                return Err(usage(msg));
            }
        },
        None => Vec::new(),
    };
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut lines = stdin.lock().split(b'\n');
    loop {
        // Chunks keep memory bounded on endless input; each is classified in one batch call.
        let mut chunk: Vec<String> = Vec::with_capacity(8192);
        for l in lines.by_ref().take(8192) {
            let mut bytes = l?;
            if bytes.last() == Some(&b'\r') {
                bytes.pop();
            }
            chunk.push(String::from_utf8_lossy(&bytes).into_owned());
        }
        if chunk.is_empty() {
            break;
        }
        let langs: Vec<Option<String>> = chunk
            .iter()
            .map(|t| forced.clone().or_else(|| crate::lang::detect(t, None)))
            .collect();
        let items: Vec<crate::sentiment::router::RouteItem<'_>> = chunk
            .iter()
            .zip(&langs)
            .map(|(t, l)| (t.as_str(), l.as_deref(), neutral.as_slice()))
            .collect();
        let results = router.classify_batch(&items);
        for (s, _model) in results {
            match a.format {
                Format::Jsonl => {
                    serde_json::to_writer(&mut out, &s)?;
                    out.write_all(b"\n")?;
                }
                Format::Tsv => writeln!(out, "{}\t{}", s.label, s.score)?,
            }
        }
    }
    out.flush()?;
    Ok(())
}
