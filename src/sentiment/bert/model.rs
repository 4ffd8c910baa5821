//! The networks behind `model = "bert"`, built from rust-bert's layers:
//!
//! - [`HarkNet`]: hark's own classifier. A BERT encoder (all-MiniLM-L6-v2 by default) whose
//!   top layers were fine-tuned by `hark model train`, mean pooling, and a linear head. Only
//!   the fine-tuned layers and the head ship in `models/`; the rest comes from the base model.
//! - Any Hugging Face sequence-classification checkpoint of the BERT, DistilBERT or RoBERTa
//!   families, through rust-bert's `*ForSequenceClassification` models.

use super::BertError;
use rust_bert::Activation;
use rust_bert::bert::{BertConfig, BertEmbedding, BertEmbeddings, BertForSequenceClassification};
use rust_bert::distilbert::{DistilBertConfig, DistilBertModelClassifier};
use rust_bert::roberta::RobertaForSequenceClassification;
use std::collections::HashMap;
use std::path::Path;
use tch::{Kind, Tensor, nn};

/// Names of the variables of hark's own model, shared by training and loading.
pub mod names {
    pub const EMBEDDINGS: &str = "embeddings";
    pub const HEAD: &str = "head";
    /// The path of encoder layer `i` (`encoder.layer.{i}`, as in Hugging Face checkpoints).
    pub fn layer<'a>(p: &nn::Path<'a>, i: usize) -> nn::Path<'a> {
        p / "encoder" / "layer" / i.to_string()
    }
    use tch::nn;
}

/// One BERT encoder layer, with the variable names of Hugging Face checkpoints, computed the
/// cheap way: one fused matrix product for queries, keys and values, libtorch's fused
/// scaled-dot-product attention, and its one-pass GELU. (rust-bert's `BertLayer` does three
/// products, a hand-written attention and a five-operation GELU; on CPU that made it slower
/// than Python's transformers.)
pub struct EncoderLayer {
    query: nn::Linear,
    key: nn::Linear,
    value: nn::Linear,
    attention_out: nn::Linear,
    attention_norm: nn::LayerNorm,
    intermediate: nn::Linear,
    out: nn::Linear,
    out_norm: nn::LayerNorm,
    heads: i64,
    dropout: f64,
    attention_dropout: f64,
    gelu: &'static str,
    /// The dense layers for inference, made once (see [`EncoderLayer::prepare`]).
    infer: std::sync::OnceLock<Inference>,
}

impl EncoderLayer {
    pub fn new(p: &nn::Path, c: &BertConfig) -> EncoderLayer {
        let h = c.hidden_size;
        let lin = |p: nn::Path, i: i64, o: i64| nn::linear(p, i, o, Default::default());
        let norm = |p: nn::Path| {
            nn::layer_norm(
                p,
                vec![h],
                nn::LayerNormConfig {
                    eps: 1e-12,
                    ..Default::default()
                },
            )
        };
        let attention = p / "attention";
        let this = &attention / "self";
        let attention_output = &attention / "output";
        EncoderLayer {
            query: lin(&this / "query", h, h),
            key: lin(&this / "key", h, h),
            value: lin(&this / "value", h, h),
            attention_out: lin(&attention_output / "dense", h, h),
            attention_norm: norm(&attention_output / "LayerNorm"),
            intermediate: lin(p / "intermediate" / "dense", h, c.intermediate_size),
            out: lin(p / "output" / "dense", c.intermediate_size, h),
            out_norm: norm(p / "output" / "LayerNorm"),
            heads: c.num_attention_heads,
            dropout: c.hidden_dropout_prob,
            attention_dropout: c.attention_probs_dropout_prob,
            gelu: if matches!(c.hidden_act, Activation::gelu_new) {
                "tanh"
            } else {
                "none"
            },
            infer: std::sync::OnceLock::new(),
        }
    }

    /// The stacked query/key/value weight and bias.
    fn qkv(&self) -> (Tensor, Tensor) {
        let bias = |l: &nn::Linear| {
            l.bs.as_ref()
                .expect("BERT linears have biases")
                .shallow_clone()
        };
        (
            Tensor::cat(&[&self.query.ws, &self.key.ws, &self.value.ws], 0),
            Tensor::cat(&[bias(&self.query), bias(&self.key), bias(&self.value)], 0),
        )
    }

    /// Freezes the layer for inference: the query/key/value weights stacked once, and with
    /// `int8` every matrix product done by fbgemm on int8 weights (dynamic quantization: the
    /// activations are quantized per batch), which runs about twice as fast on CPUs with
    /// VNNI instructions.
    pub fn prepare(&self, int8: bool) {
        let _ = self.infer.set(tch::no_grad(|| {
            let (w, b) = self.qkv();
            let lin = |w: Tensor, b: Tensor| {
                if int8 {
                    Dense::int8(&w, b)
                } else {
                    Dense::F32 { w, b }
                }
            };
            let of = |l: &nn::Linear| {
                lin(
                    l.ws.shallow_clone(),
                    l.bs.as_ref().expect("bias").shallow_clone(),
                )
            };
            Inference {
                qkv: lin(w, b),
                attention_out: of(&self.attention_out),
                intermediate: of(&self.intermediate),
                out: of(&self.out),
            }
        }));
    }

    /// `x`: [batch, tokens, hidden]; `mask`: additive, [batch, 1, 1, tokens].
    pub fn forward(&self, x: &Tensor, mask: &Tensor, train: bool) -> Tensor {
        let (b, t, h) = x.size3().expect("[batch, tokens, hidden]");
        let inf = if train {
            None
        } else {
            if self.infer.get().is_none() {
                self.prepare(false);
            }
            self.infer.get()
        };
        let qkv = match inf {
            // Training updates the three weights separately: stack them per step.
            None => {
                let (w, bias) = self.qkv();
                x.linear(&w, Some(&bias))
            }
            Some(inf) => inf.qkv.apply(x),
        };
        // [batch, tokens, 3, heads, head_dim] → three [batch, heads, tokens, head_dim]
        let qkv = qkv
            .view([b, t, 3, self.heads, h / self.heads])
            .permute([2, 0, 3, 1, 4]);
        let (q, k, v) = (qkv.get(0), qkv.get(1), qkv.get(2));
        let p = if train { self.attention_dropout } else { 0.0 };
        let ctx = Tensor::scaled_dot_product_attention(&q, &k, &v, Some(mask), p, false, None)
            .transpose(1, 2)
            .reshape([b, t, h]);
        match inf {
            None => {
                let a = (ctx.apply(&self.attention_out).dropout(self.dropout, train) + x)
                    .apply(&self.attention_norm);
                let f = a
                    .apply(&self.intermediate)
                    .gelu(self.gelu)
                    .apply(&self.out)
                    .dropout(self.dropout, train);
                (f + a).apply(&self.out_norm)
            }
            Some(inf) => {
                let a = (inf.attention_out.apply(&ctx) + x).apply(&self.attention_norm);
                let f = inf.out.apply(&inf.intermediate.apply(&a).gelu(self.gelu));
                (f + a).apply(&self.out_norm)
            }
        }
    }
}

/// The dense layers of an [`EncoderLayer`] prepared for inference.
struct Inference {
    qkv: Dense,
    attention_out: Dense,
    intermediate: Dense,
    out: Dense,
}

/// A dense layer for inference: f32, or int8 weights for fbgemm.
enum Dense {
    F32 {
        w: Tensor,
        b: Tensor,
    },
    Int8 {
        q: Tensor,
        packed: Tensor,
        col_offsets: Tensor,
        scale: f64,
        zero_point: i64,
        b: Tensor,
    },
}

impl Dense {
    /// Per-tensor asymmetric int8 quantization of `w` ([out, in]), as fbgemm expects it:
    /// `col_offsets[i] = Σ_k q[i][k] − zero_point · in`.
    fn int8(w: &Tensor, b: Tensor) -> Dense {
        let (qmin, qmax) = (-128.0, 127.0);
        let min = w.min().double_value(&[]).min(0.0);
        let max = w.max().double_value(&[]).max(0.0);
        let scale = ((max - min) / (qmax - qmin)).max(f64::MIN_POSITIVE);
        let zero_point = (qmin - min / scale).round().clamp(qmin, qmax);
        let q = (w / scale + zero_point)
            .round()
            .clamp(qmin, qmax)
            .to_kind(Kind::Int8)
            .contiguous();
        let k = w.size()[1];
        let col_offsets =
            (q.to_kind(Kind::Int)
                .sum_dim_intlist([1i64].as_slice(), false, Kind::Int)
                - (zero_point as i64) * k)
                .to_kind(Kind::Int)
                .contiguous();
        let packed = q.fbgemm_pack_quantized_matrix();
        Dense::Int8 {
            q,
            packed,
            col_offsets,
            scale,
            zero_point: zero_point as i64,
            b,
        }
    }

    fn apply(&self, x: &Tensor) -> Tensor {
        match self {
            Dense::F32 { w, b } => x.linear(w, Some(b)),
            Dense::Int8 {
                q,
                packed,
                col_offsets,
                scale,
                zero_point,
                b,
            } => x.contiguous().fbgemm_linear_int8_weight_fp32_activation(
                q,
                packed,
                col_offsets,
                tch::Scalar::float(*scale),
                tch::Scalar::int(*zero_point),
                b,
            ),
        }
    }
}

/// hark's classifier: BERT encoder → mean pooling → dropout → linear head (3 classes).
pub struct HarkNet {
    pub embeddings: BertEmbeddings,
    pub layers: Vec<EncoderLayer>,
    pub head: nn::Linear,
    dropout: f64,
}

impl HarkNet {
    /// Builds the network with the embeddings and layers `0..first_tuned` under `frozen`,
    /// layers `first_tuned..` under `tuned` and the head under `head` (all may be one path;
    /// training keeps them apart to freeze and to give the head its own learning rate).
    pub fn new(
        frozen: &nn::Path,
        tuned: &nn::Path,
        head: &nn::Path,
        config: &BertConfig,
        first_tuned: usize,
        classes: i64,
    ) -> HarkNet {
        let embeddings = BertEmbeddings::new(frozen / names::EMBEDDINGS, config);
        let layers = (0..config.num_hidden_layers as usize)
            .map(|i| {
                let p = if i < first_tuned { frozen } else { tuned };
                EncoderLayer::new(&names::layer(p, i), config)
            })
            .collect();
        let head = nn::linear(
            head / names::HEAD,
            config.hidden_size,
            classes,
            Default::default(),
        );
        HarkNet {
            embeddings,
            layers,
            head,
            dropout: config.hidden_dropout_prob,
        }
    }

    /// Hidden states after the embeddings and layers `0..upto`.
    pub fn encode_prefix(&self, ids: &Tensor, mask: &Tensor, upto: usize) -> Tensor {
        let mut h = self
            .embeddings
            .forward_t(Some(ids), None, None, None, false)
            .expect("input ids are given");
        let ext = extended_mask(mask, h.kind());
        for layer in &self.layers[..upto] {
            h = layer.forward(&h, &ext, false);
        }
        h
    }

    /// Logits from the hidden states entering layer `from`.
    pub fn logits_from(&self, hidden: &Tensor, mask: &Tensor, from: usize, train: bool) -> Tensor {
        let ext = extended_mask(mask, hidden.kind());
        let mut h = hidden.shallow_clone();
        for layer in &self.layers[from..] {
            h = layer.forward(&h, &ext, train);
        }
        // Pooling and head in f32 whatever the encoder's precision.
        mean_pool(&h.to_kind(self.head.ws.kind()), mask)
            .dropout(self.dropout, train)
            .apply(&self.head)
    }

    /// Freezes every layer for inference (see [`EncoderLayer::prepare`]).
    pub fn prepare(&self, int8: bool) {
        for l in &self.layers {
            l.prepare(int8);
        }
    }

    pub fn logits(&self, ids: &Tensor, mask: &Tensor) -> Tensor {
        let h = self.encode_prefix(ids, mask, 0);
        self.logits_from(&h, mask, 0, false)
    }
}

/// `(1 - mask) * -10000` broadcast over heads and query positions, as BERT expects.
fn extended_mask(mask: &Tensor, kind: Kind) -> Tensor {
    ((mask.ones_like() - mask) * -10000.0)
        .unsqueeze(1)
        .unsqueeze(1)
        .to_kind(kind)
}

/// Mean of the token vectors where `mask` is 1 (sentence-transformers' pooling).
pub fn mean_pool(hidden: &Tensor, mask: &Tensor) -> Tensor {
    let m = mask.unsqueeze(-1).to_kind(hidden.kind());
    (hidden * &m).sum_dim_intlist([1i64].as_slice(), false, hidden.kind())
        / m.sum_dim_intlist([1i64].as_slice(), false, hidden.kind())
            .clamp_min(1e-9)
}

/// A Hugging Face sequence classifier loaded through rust-bert.
pub enum HfNet {
    Bert(BertForSequenceClassification),
    DistilBert(DistilBertModelClassifier),
    Roberta(RobertaForSequenceClassification),
}

impl HfNet {
    pub fn logits(&self, ids: &Tensor, mask: &Tensor) -> Tensor {
        match self {
            HfNet::Bert(m) => {
                m.forward_t(Some(ids), Some(mask), None, None, None, false)
                    .logits
            }
            HfNet::DistilBert(m) => {
                m.forward_t(Some(ids), Some(mask), None, false)
                    .expect("input ids are given")
                    .logits
            }
            HfNet::Roberta(m) => {
                m.forward_t(Some(ids), Some(mask), None, None, None, false)
                    .logits
            }
        }
    }
}

/// The architecture named by a Hugging Face `config.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Bert,
    DistilBert,
    Roberta,
}

impl Family {
    pub fn of(config: &serde_json::Value) -> Option<Family> {
        let model_type = config["model_type"].as_str().unwrap_or("");
        let arch = config["architectures"][0].as_str().unwrap_or("");
        match (model_type, arch) {
            ("bert", _) => Some(Family::Bert),
            ("distilbert", _) => Some(Family::DistilBert),
            // XLM-R and CamemBERT share RoBERTa's layers but use SentencePiece vocabularies,
            // which are not supported.
            ("roberta", _) => Some(Family::Roberta),
            ("", a) if a.starts_with("DistilBert") => Some(Family::DistilBert),
            ("", a) if a.starts_with("Roberta") => Some(Family::Roberta),
            ("", a) if a.starts_with("Bert") => Some(Family::Bert),
            _ => None,
        }
    }
}

/// Builds the rust-bert model for a Hugging Face config under `p`.
pub fn build_hf(
    p: &nn::Path,
    family: Family,
    config_text: &str,
    config_path: &Path,
) -> Result<HfNet, BertError> {
    let bad = |e: String| BertError::Config {
        path: config_path.to_path_buf(),
        message: e,
    };
    Ok(match family {
        Family::Bert | Family::Roberta => {
            let mut c: BertConfig =
                serde_json::from_str(config_text).map_err(|e| bad(e.to_string()))?;
            c.output_attentions = Some(false);
            c.output_hidden_states = Some(false);
            if family == Family::Bert {
                HfNet::Bert(
                    BertForSequenceClassification::new(p, &c).map_err(|e| bad(e.to_string()))?,
                )
            } else {
                HfNet::Roberta(
                    RobertaForSequenceClassification::new(p, &c).map_err(|e| bad(e.to_string()))?,
                )
            }
        }
        Family::DistilBert => {
            let mut v: serde_json::Value =
                serde_json::from_str(config_text).map_err(|e| bad(e.to_string()))?;
            // Fields rust-bert requires that some exported configs leave out.
            for (k, d) in [
                ("tie_weights_", serde_json::json!(true)),
                ("qa_dropout", serde_json::json!(0.1)),
                ("seq_classif_dropout", serde_json::json!(0.2)),
                ("sinusoidal_pos_embds", serde_json::json!(false)),
                ("activation", serde_json::json!("gelu")),
                ("initializer_range", serde_json::json!(0.02)),
            ] {
                if v.get(k).is_none() {
                    v[k] = d;
                }
            }
            let c: DistilBertConfig = serde_json::from_value(v).map_err(|e| bad(e.to_string()))?;
            HfNet::DistilBert(
                DistilBertModelClassifier::new(p, &c).map_err(|e| bad(e.to_string()))?,
            )
        }
    })
}

/// A BERT config for hark's own model, read from the base model's `config.json`.
pub fn bert_config(text: &str, path: &Path) -> Result<BertConfig, BertError> {
    let mut c: BertConfig = serde_json::from_str(text).map_err(|e| BertError::Config {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    c.output_attentions = Some(false);
    c.output_hidden_states = Some(false);
    if !matches!(
        c.hidden_act,
        Activation::gelu | Activation::gelu_new | Activation::relu
    ) {
        tracing::warn!(activation = ?c.hidden_act, "unusual activation in the base model's config");
    }
    Ok(c)
}

/// Copies the tensors of a safetensors/PyTorch file into the variables of `vs` that it names,
/// converting to each variable's dtype (so fp16 files load into an f32 model). Returns the
/// names of the variables the file did not have. Safetensors files are memory-mapped and
/// copied one tensor at a time, so loading costs no second copy of the model in memory.
pub fn load_into(vs: &nn::VarStore, file: &Path) -> Result<Vec<String>, BertError> {
    let err = |message: String| BertError::Weights {
        path: file.to_path_buf(),
        message,
    };
    let mut missing = Vec::new();
    let copy = |name: &str, var: &mut Tensor, src: Tensor| -> Result<(), BertError> {
        if src.size() != var.size() {
            return Err(err(format!(
                "`{name}` has shape {:?}, the model expects {:?}",
                src.size(),
                var.size()
            )));
        }
        tch::no_grad(|| var.copy_(&src.to_kind(var.kind()).to_device(var.device())));
        Ok(())
    };
    if file.extension().and_then(|e| e.to_str()) == Some("safetensors") {
        let f = std::fs::File::open(file).map_err(|e| err(e.to_string()))?;
        // SAFETY: the file is only read, and only while this function runs.
        let map = unsafe { memmap2::Mmap::map(&f) }.map_err(|e| err(e.to_string()))?;
        let st = safetensors::SafeTensors::deserialize(&map).map_err(|e| err(e.to_string()))?;
        for (name, mut var) in vs.variables() {
            match st.tensor(&name) {
                Ok(view) => {
                    let kind = match view.dtype() {
                        safetensors::Dtype::F32 => Kind::Float,
                        safetensors::Dtype::F16 => Kind::Half,
                        safetensors::Dtype::BF16 => Kind::BFloat16,
                        safetensors::Dtype::F64 => Kind::Double,
                        other => return Err(err(format!("`{name}` has dtype {other:?}"))),
                    };
                    let shape: Vec<i64> = view.shape().iter().map(|&d| d as i64).collect();
                    let src = Tensor::f_from_data_size(view.data(), &shape, kind)
                        .map_err(|e| err(e.to_string()))?;
                    copy(&name, &mut var, src)?;
                }
                Err(_) => missing.push(name),
            }
        }
    } else {
        let tensors: HashMap<String, Tensor> = Tensor::loadz_multi(file)
            .map_err(|e| err(e.to_string()))?
            .into_iter()
            .collect();
        for (name, mut var) in vs.variables() {
            match tensors.get(&name) {
                Some(src) => copy(&name, &mut var, src.shallow_clone())?,
                None => missing.push(name),
            }
        }
    }
    missing.sort();
    Ok(missing)
}
