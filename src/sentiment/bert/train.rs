//! `hark model train`: fine-tunes the top layers of the base encoder plus a linear head on
//! labelled tweets, selects the best epoch on the dev set, and writes a model directory
//! (`manifest.json` + the fine-tuned weights in fp16).
//!
//! The frozen bottom of the encoder (embeddings and layers `0..first_tuned`) sees the same
//! inputs every epoch, so its output is computed once per training example and kept in
//! memory; each step then only runs, and back-propagates through, the tuned layers. With
//! four of six layers tuned this saves about a third of every epoch.

use super::model::{self, HarkNet, names};
use super::tokenizer::Tokenizer;
use super::{BaseModel, BertError, FORMAT, Manifest, pad_batch};
use crate::mention::Label;
use crate::sentiment::eval::{Example, LABELS, Metrics, label_counts, label_index};
use crate::sentiment::transformer::plan_batches;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use std::path::{Path, PathBuf};
use std::time::Instant;
use tch::{Device, Kind, Reduction, Tensor, nn, nn::OptimizerConfig};

#[derive(Debug, Clone)]
pub struct TrainOptions {
    pub data: PathBuf,
    pub dev: PathBuf,
    pub out: PathBuf,
    /// The base model directory (config.json, model.safetensors, vocab.txt).
    pub base: PathBuf,
    /// How the base model is recorded in the manifest.
    pub base_name: String,
    pub base_source: String,
    /// How many of the top encoder layers are fine-tuned (the rest stay frozen).
    pub tune_layers: usize,
    pub epochs: usize,
    pub batch_size: usize,
    /// Peak learning rate of the tuned layers (linear warm-up, then linear decay to 0).
    pub lr: f64,
    /// Peak learning rate of the head.
    pub head_lr: f64,
    pub weight_decay: f64,
    /// Fraction of the steps spent warming up.
    pub warmup: f64,
    pub max_tokens: usize,
    pub seed: u64,
    pub threads: usize,
    /// Train on the first N examples only (quick checks).
    pub limit: Option<usize>,
    /// Evaluate on the first N dev examples only.
    pub dev_limit: Option<usize>,
}

/// Trains, writes the best epoch's model to `opts.out`, and returns its manifest.
pub fn train(opts: &TrainOptions) -> Result<Manifest, BertError> {
    let started = Instant::now();
    tch::set_num_threads(opts.threads.max(1) as i32);
    tch::manual_seed(opts.seed as i64);
    let device = Device::cuda_if_available();
    let read = |p: &Path, limit: Option<usize>| -> Result<Vec<Example>, BertError> {
        let mut d =
            crate::sentiment::eval::read_tsv(p).map_err(|e| BertError::Other(e.to_string()))?;
        if let Some(n) = limit {
            d.truncate(n);
        }
        Ok(d)
    };
    let train_data = read(&opts.data, opts.limit)?;
    let dev_data = read(&opts.dev, opts.dev_limit)?;

    let config_path = super::require(&opts.base.join("config.json"))?;
    let config_text = std::fs::read_to_string(&config_path).map_err(|e| BertError::Config {
        path: config_path.clone(),
        message: e.to_string(),
    })?;
    let config = model::bert_config(&config_text, &config_path)?;
    let n_layers = config.num_hidden_layers as usize;
    if opts.tune_layers == 0 || opts.tune_layers > n_layers {
        return Err(BertError::Other(format!(
            "--tune-layers must be between 1 and {n_layers} (the base model's layers)"
        )));
    }
    let first_tuned = n_layers - opts.tune_layers;
    let base_weights = super::require(&opts.base.join("model.safetensors"))?;
    let base_sha = super::sha256_file(&base_weights).map_err(|e| BertError::Weights {
        path: base_weights.clone(),
        message: e.to_string(),
    })?;

    let frozen_vs = nn::VarStore::new(device);
    let tuned_vs = nn::VarStore::new(device);
    let net = HarkNet::new(
        &frozen_vs.root(),
        &tuned_vs.root(),
        &tuned_vs.root().set_group(1),
        &config,
        first_tuned,
        3,
    );
    let missing = model::load_into(&frozen_vs, &base_weights)?;
    if let Some(m) = missing.first() {
        return Err(BertError::Weights {
            path: base_weights,
            message: format!("the base model lacks `{m}`"),
        });
    }
    let missing = model::load_into(&tuned_vs, &base_weights)?;
    if missing.iter().any(|m| !m.starts_with(names::HEAD)) {
        return Err(BertError::Weights {
            path: base_weights,
            message: format!("the base model lacks {missing:?}"),
        });
    }
    let mut frozen_vs = frozen_vs;
    frozen_vs.freeze();

    let tokenizer = Tokenizer::from_dir(&opts.base, false)?;
    let pad_id = tokenizer.pad_id();
    let encode = |d: &[Example]| -> Vec<Vec<i64>> {
        use rayon::prelude::*;
        d.par_iter()
            .map(|e| tokenizer.encode(&e.text, opts.max_tokens))
            .collect()
    };
    let train_ids = encode(&train_data);
    let dev_ids = encode(&dev_data);
    let targets: Vec<i64> = train_data
        .iter()
        .map(|e| label_index(e.label) as i64)
        .collect();

    // The frozen prefix, once per training example.
    let t = Instant::now();
    let cached = cache_prefix(&net, &train_ids, first_tuned, pad_id, device);
    tracing::info!(
        examples = train_ids.len(),
        layers = first_tuned,
        seconds = format!("{:.0}", t.elapsed().as_secs_f64()),
        "frozen layers computed"
    );

    // Balanced class weights: macro-averaged recall counts every class the same.
    let counts = label_counts(&train_data);
    let n = train_data.len() as f64;
    let weights: Vec<f32> = counts
        .iter()
        .map(|&c| {
            if c == 0 {
                0.0
            } else {
                (n / (3.0 * c as f64)) as f32
            }
        })
        .collect();
    let class_weights = Tensor::from_slice(&weights).to_device(device);

    let mut opt = nn::AdamW::default()
        .wd(opts.weight_decay)
        .build(&tuned_vs, opts.lr)
        .map_err(|e| BertError::Other(format!("optimizer: {e}")))?;
    let batches_per_epoch = train_ids.len().div_ceil(opts.batch_size.max(1));
    let total_steps = (batches_per_epoch * opts.epochs).max(1);
    let warmup_steps = ((total_steps as f64 * opts.warmup) as usize).max(1);
    let mut rng = rand::rngs::StdRng::seed_from_u64(opts.seed);
    let lengths: Vec<usize> = train_ids.iter().map(Vec::len).collect();
    let mut step = 0usize;
    let mut best: Option<(Metrics, usize)> = None;
    let mut epochs_log = Vec::new();
    for epoch in 1..=opts.epochs {
        let t = Instant::now();
        let batches = shuffled_batches(&lengths, opts.batch_size.max(1), &mut rng);
        let mut loss_sum = 0.0;
        let mut seen = 0usize;
        for (b, batch) in batches.iter().enumerate() {
            let factor = if step < warmup_steps {
                (step + 1) as f64 / warmup_steps as f64
            } else {
                (total_steps - step) as f64 / (total_steps - warmup_steps).max(1) as f64
            };
            opt.set_lr_group(0, opts.lr * factor);
            opt.set_lr_group(1, opts.head_lr * factor);
            let rows: Vec<&Tensor> = batch.iter().map(|&i| &cached[i]).collect();
            let hidden = Tensor::pad_sequence(&rows, true, 0.0);
            let (_, mask) = pad_batch(batch.iter().map(|&i| train_ids[i].as_slice()), pad_id);
            let mask = mask.to_device(device);
            let target: Vec<i64> = batch.iter().map(|&i| targets[i]).collect();
            let target = Tensor::from_slice(&target).to_device(device);
            let logits = net.logits_from(&hidden, &mask, first_tuned, true);
            let loss = logits.cross_entropy_loss(
                &target,
                Some(&class_weights),
                Reduction::Mean,
                -100,
                0.0,
            );
            opt.backward_step_clip_norm(&loss, 1.0);
            loss_sum += loss.double_value(&[]) * batch.len() as f64;
            seen += batch.len();
            step += 1;
            if (b + 1) % 200 == 0 {
                let rate = seen as f64 / t.elapsed().as_secs_f64();
                tracing::info!(
                    epoch,
                    batch = b + 1,
                    of = batches.len(),
                    loss = format!("{:.4}", loss_sum / seen as f64),
                    per_second = format!("{rate:.0}"),
                    eta_s = format!("{:.0}", (train_ids.len() - seen) as f64 / rate),
                    "training"
                );
            }
        }
        let m = evaluate(&net, &dev_ids, &dev_data, pad_id, device);
        let secs = t.elapsed().as_secs_f64();
        tracing::info!(
            epoch,
            loss = format!("{:.4}", loss_sum / seen.max(1) as f64),
            dev_macro_recall = format!("{:.4}", m.macro_recall),
            dev_accuracy = format!("{:.4}", m.accuracy),
            seconds = format!("{secs:.0}"),
            "epoch done"
        );
        epochs_log.push(serde_json::json!({
            "epoch": epoch,
            "train_loss": loss_sum / seen.max(1) as f64,
            "dev_macro_recall": m.macro_recall,
            "dev_accuracy": m.accuracy,
            "dev_macro_f1": m.macro_f1,
            "seconds": secs,
        }));
        if best
            .as_ref()
            .is_none_or(|(b, _)| m.macro_recall > b.macro_recall)
        {
            save_weights(&tuned_vs, &opts.out)?;
            best = Some((m, epoch));
        }
    }
    let (dev_metrics, best_epoch) = best.expect("at least one epoch");

    let describe = |p: &Path, d: &[Example]| -> serde_json::Value {
        let c = label_counts(d);
        serde_json::json!({
            "file": p.file_name().map(|f| f.to_string_lossy().into_owned()),
            "sha256": super::sha256_file(p).ok(),
            "examples": d.len(),
            "labels": { "negative": c[0], "neutral": c[1], "positive": c[2] },
        })
    };
    let base_path = relative_base(&opts.out, &opts.base);
    let manifest = Manifest {
        format: FORMAT.into(),
        labels: LABELS.iter().map(Label::to_string).collect(),
        base: BaseModel {
            name: opts.base_name.clone(),
            source: opts.base_source.clone(),
            path: base_path,
            sha256: base_sha,
        },
        first_tuned,
        pooling: "mean".into(),
        max_tokens: opts.max_tokens,
        weights: WEIGHTS_FILE.into(),
        weights_dtype: "float16".into(),
        training: serde_json::json!({
            "data": describe(&opts.data, &train_data),
            "dev": describe(&opts.dev, &dev_data),
            "note": "trained on `data` only; `dev` selected the epoch",
            "trained_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "seconds": started.elapsed().as_secs_f64().round(),
            "threads": opts.threads,
            "device": format!("{device:?}"),
            "hark_version": env!("CARGO_PKG_VERSION"),
            "epochs": epochs_log,
            "best_epoch": best_epoch,
        }),
        hyper_parameters: serde_json::json!({
            "tune_layers": opts.tune_layers,
            "epochs": opts.epochs,
            "batch_size": opts.batch_size,
            "lr": opts.lr,
            "head_lr": opts.head_lr,
            "weight_decay": opts.weight_decay,
            "warmup": opts.warmup,
            "max_tokens": opts.max_tokens,
            "seed": opts.seed,
            "loss": "cross-entropy with balanced class weights",
            "class_weights": weights,
            "optimizer": "AdamW, gradient norm clipped at 1.0",
            "pooling": "mean",
            "dropout": config.hidden_dropout_prob,
        }),
        dev: serde_json::to_value(&dev_metrics).expect("metrics serialize"),
    };
    let text = serde_json::to_string_pretty(&manifest).expect("manifest serializes");
    std::fs::write(opts.out.join("manifest.json"), text + "\n").map_err(|e| {
        BertError::Other(format!("{}: {e}", opts.out.join("manifest.json").display()))
    })?;
    Ok(manifest)
}

pub const WEIGHTS_FILE: &str = "weights.safetensors";

/// The tuned layers and the head, in fp16 (half the size, no measurable loss).
fn save_weights(vs: &nn::VarStore, out: &Path) -> Result<(), BertError> {
    std::fs::create_dir_all(out)
        .map_err(|e| BertError::Other(format!("{}: {e}", out.display())))?;
    let mut named: Vec<(String, Tensor)> = vs
        .variables()
        .into_iter()
        .map(|(n, t)| (n, t.detach().to_kind(Kind::Half).to_device(Device::Cpu)))
        .collect();
    named.sort_by(|a, b| a.0.cmp(&b.0));
    let path = out.join(WEIGHTS_FILE);
    Tensor::write_safetensors(&named, &path).map_err(|e| BertError::Weights {
        path,
        message: e.to_string(),
    })
}

/// The base model's path as the manifest records it: relative to the model directory when
/// both are in the same tree, so a checkout can move.
fn relative_base(out: &Path, base: &Path) -> String {
    let abs = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let (out_abs, base_abs) = (abs(out), base_abs_no_links(base));
    let common = out_abs
        .components()
        .zip(base_abs.components())
        .take_while(|(a, b)| a == b)
        .count();
    if common == 0 {
        return base_abs.display().to_string();
    }
    let mut rel = PathBuf::new();
    for _ in out_abs.components().skip(common) {
        rel.push("..");
    }
    for c in base_abs.components().skip(common) {
        rel.push(c);
    }
    rel.display().to_string()
}

/// An absolute path that keeps the last symlink (models/base/NAME links into a virtualenv).
fn base_abs_no_links(p: &Path) -> PathBuf {
    match (p.parent(), p.file_name()) {
        (Some(parent), Some(name)) => std::fs::canonicalize(if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        })
        .map(|d| d.join(name))
        .unwrap_or_else(|_| p.to_path_buf()),
        _ => p.to_path_buf(),
    }
}

/// Runs the frozen bottom of the encoder over every example, in length-sorted batches, and
/// keeps each example's unpadded hidden states.
fn cache_prefix(
    net: &HarkNet,
    ids: &[Vec<i64>],
    upto: usize,
    pad_id: i64,
    device: Device,
) -> Vec<Tensor> {
    let lengths: Vec<usize> = ids.iter().map(Vec::len).collect();
    let mut out: Vec<Option<Tensor>> = (0..ids.len()).map(|_| None).collect();
    tch::no_grad(|| {
        for batch in plan_batches(&lengths, 8192, 128) {
            let (t, mask) = pad_batch(batch.iter().map(|&i| ids[i].as_slice()), pad_id);
            let h = net.encode_prefix(&t.to_device(device), &mask.to_device(device), upto);
            for (r, &i) in batch.iter().enumerate() {
                out[i] = Some(h.get(r as i64).narrow(0, 0, lengths[i] as i64).copy());
            }
        }
    });
    out.into_iter()
        .map(|t| t.expect("every example cached"))
        .collect()
}

/// Batches of similar length (little padding) in random order, different every epoch:
/// examples are shuffled, cut into windows of 50 batches, sorted by length inside a window.
fn shuffled_batches(lengths: &[usize], size: usize, rng: &mut impl rand::Rng) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.shuffle(rng);
    let mut batches = Vec::new();
    for window in order.chunks(size * 50) {
        let mut w = window.to_vec();
        w.sort_by_key(|&i| lengths[i]);
        batches.extend(w.chunks(size).map(<[usize]>::to_vec));
    }
    batches.shuffle(rng);
    batches
}

/// Dev-set metrics of the network in eval mode.
fn evaluate(
    net: &HarkNet,
    ids: &[Vec<i64>],
    data: &[Example],
    pad_id: i64,
    device: Device,
) -> Metrics {
    let lengths: Vec<usize> = ids.iter().map(Vec::len).collect();
    let mut predicted = vec![Label::Neutral; ids.len()];
    tch::no_grad(|| {
        for batch in plan_batches(&lengths, 4096, 128) {
            let (t, mask) = pad_batch(batch.iter().map(|&i| ids[i].as_slice()), pad_id);
            let logits = net.logits(&t.to_device(device), &mask.to_device(device));
            let arg: Vec<i64> =
                Vec::<i64>::try_from(logits.argmax(-1, false).to_device(Device::Cpu))
                    .expect("int tensor");
            for (&i, a) in batch.iter().zip(arg) {
                predicted[i] = LABELS[a as usize];
            }
        }
    });
    let gold: Vec<Label> = data.iter().map(|e| e.label).collect();
    Metrics::compute(&gold, &predicted)
}
