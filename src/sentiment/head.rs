//! A linear classification head over dense sentence embeddings (the multilingual encoder's,
//! see `sentiment/e5`), and its blend with a language's n-gram model.
//!
//! Trained by `hark model train --kind e5`: softmax regression with class-balanced weights
//! and an L2 penalty, full-batch Adam from zero weights — deterministic, a second per
//! language. With a dev set, the L2 penalty and the blend weight are picked together: the
//! pair whose blend (what is shipped) has the best macro-averaged recall there.

use serde::{Deserialize, Serialize};

/// Negative, neutral, positive.
pub const CLASSES: usize = 3;

/// `softmax(scale · x · W + b)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearHead {
    /// Input features (the embedding's dimension).
    pub dim: usize,
    /// Embeddings are L2-normalised, so their entries are small: they are multiplied by this
    /// before the weights (it keeps the optimiser's step size meaningful).
    pub scale: f32,
    /// Row-major `dim × 3`.
    pub weights: Vec<f32>,
    pub bias: [f32; CLASSES],
    /// Share of this head in the blend with the language's n-gram model (1: head alone).
    pub blend: f32,
}

/// Training settings.
#[derive(Debug, Clone)]
pub struct HeadOptions {
    /// L2 penalties tried (the best on dev is kept; without dev, the first).
    pub l2: Vec<f32>,
    /// Blend weights tried on dev (without dev: 0.5).
    pub blends: Vec<f32>,
    pub iterations: usize,
    pub learning_rate: f32,
    pub scale: f32,
}

impl Default for HeadOptions {
    fn default() -> Self {
        HeadOptions {
            // The first is the one used without a dev set.
            l2: vec![1e-2, 3e-2, 1e-1, 3e-3, 1e-3, 1e-4],
            // 0.2, 0.25, … 1.0
            blends: (4..=20).map(|i| i as f32 / 20.0).collect(),
            iterations: 3000,
            learning_rate: 0.05,
            scale: 10.0,
        }
    }
}

/// Labelled embeddings: `x[i]` has class `y[i]` (0 negative, 1 neutral, 2 positive).
pub struct Examples<'a> {
    pub x: &'a [Vec<f32>],
    pub y: &'a [usize],
}

/// What training found, for the command's report.
#[derive(Debug, Clone, Serialize)]
pub struct HeadReport {
    pub examples: usize,
    pub l2: f32,
    pub blend: f32,
    /// Macro-averaged recall on dev: the head alone, the n-gram model alone, the blend.
    pub dev_head: Option<f64>,
    pub dev_ngram: Option<f64>,
    pub dev_blend: Option<f64>,
}

impl LinearHead {
    /// Whether the head reads embeddings of `dim` values: a heads file is outside input,
    /// and a mismatched one must not index out of its weights.
    pub fn fits(&self, dim: usize) -> bool {
        self.dim == dim
            && self.weights.len() == dim * CLASSES
            && (0.0..=1.0).contains(&self.blend)
            && self.weights.iter().chain(&self.bias).all(|w| w.is_finite())
            && self.scale.is_finite()
    }

    /// Class probabilities for one embedding.
    pub fn probs(&self, x: &[f32]) -> [f32; CLASSES] {
        let mut z = self.bias;
        for (i, &v) in x.iter().enumerate().take(self.dim) {
            let v = v * self.scale;
            let row = &self.weights[i * CLASSES..(i + 1) * CLASSES];
            for c in 0..CLASSES {
                z[c] += v * row[c];
            }
        }
        softmax(z)
    }

    /// The head's probabilities blended with the n-gram model's.
    pub fn blended(&self, x: &[f32], ngram: [f32; CLASSES]) -> [f32; CLASSES] {
        mix(self.probs(x), ngram, self.blend)
    }
}

fn mix(a: [f32; CLASSES], b: [f32; CLASSES], w: f32) -> [f32; CLASSES] {
    std::array::from_fn(|c| w * a[c] + (1.0 - w) * b[c])
}

fn softmax(mut z: [f32; CLASSES]) -> [f32; CLASSES] {
    let max = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for v in &mut z {
        *v = (*v - max).exp();
        sum += *v;
    }
    z.map(|v| v / sum)
}

fn argmax(p: &[f32; CLASSES]) -> usize {
    (0..CLASSES).fold(0, |best, c| if p[c] > p[best] { c } else { best })
}

/// Macro-averaged recall of `predicted` against `truth` (classes that occur).
pub fn macro_recall(truth: &[usize], predicted: &[usize]) -> f64 {
    let mut recalls = Vec::new();
    for c in 0..CLASSES {
        let n = truth.iter().filter(|&&t| t == c).count();
        if n > 0 {
            let hit = truth
                .iter()
                .zip(predicted)
                .filter(|(t, p)| **t == c && **p == c)
                .count();
            recalls.push(hit as f64 / n as f64);
        }
    }
    if recalls.is_empty() {
        0.0
    } else {
        recalls.iter().sum::<f64>() / recalls.len() as f64
    }
}

/// Fits one head with penalty `l2`.
fn fit(train: &Examples<'_>, l2: f32, o: &HeadOptions) -> LinearHead {
    let dim = train.x.first().map_or(0, Vec::len);
    let n = train.x.len();
    let mut counts = [0usize; CLASSES];
    for &y in train.y {
        counts[y] += 1;
    }
    // Class-balanced weights: each class counts as much as the others in total.
    let class_weight: [f32; CLASSES] =
        std::array::from_fn(|c| n as f32 / (CLASSES as f32 * counts[c].max(1) as f32));
    let total: f32 = train.y.iter().map(|&y| class_weight[y]).sum();
    let mut head = LinearHead {
        dim,
        scale: o.scale,
        weights: vec![0.0; dim * CLASSES],
        bias: [0.0; CLASSES],
        blend: 1.0,
    };
    let (b1, b2, eps) = (0.9f32, 0.999f32, 1e-8f32);
    let mut m = vec![0.0f32; dim * CLASSES + CLASSES];
    let mut v = vec![0.0f32; dim * CLASSES + CLASSES];
    let mut grad = vec![0.0f32; dim * CLASSES + CLASSES];
    for step in 1..=o.iterations {
        grad.iter_mut().for_each(|g| *g = 0.0);
        for (x, &y) in train.x.iter().zip(train.y) {
            let p = head.probs(x);
            let w = class_weight[y] / total;
            let err: [f32; CLASSES] =
                std::array::from_fn(|c| w * (p[c] - if c == y { 1.0 } else { 0.0 }));
            for (i, &xi) in x.iter().enumerate().take(dim) {
                let xi = xi * o.scale;
                for c in 0..CLASSES {
                    grad[i * CLASSES + c] += xi * err[c];
                }
            }
            for c in 0..CLASSES {
                grad[dim * CLASSES + c] += err[c];
            }
        }
        for (g, w) in grad.iter_mut().zip(&head.weights) {
            *g += l2 * w;
        }
        let (c1, c2) = (1.0 - b1.powi(step as i32), 1.0 - b2.powi(step as i32));
        for k in 0..grad.len() {
            m[k] = b1 * m[k] + (1.0 - b1) * grad[k];
            v[k] = b2 * v[k] + (1.0 - b2) * grad[k] * grad[k];
            let delta = o.learning_rate * (m[k] / c1) / ((v[k] / c2).sqrt() + eps);
            if k < dim * CLASSES {
                head.weights[k] -= delta;
            } else {
                head.bias[k - dim * CLASSES] -= delta;
            }
        }
    }
    head
}

/// Trains a head; with `dev` (embeddings and the n-gram model's probabilities for the same
/// texts), picks the L2 penalty and then the blend weight with the best macro recall.
pub fn train(
    data: &Examples<'_>,
    dev: Option<(&Examples<'_>, &[[f32; CLASSES]])>,
    o: &HeadOptions,
) -> (LinearHead, HeadReport) {
    let Some((dev, ngram)) = dev else {
        let mut head = fit(data, o.l2.first().copied().unwrap_or(1e-3), o);
        head.blend = 0.5;
        let report = HeadReport {
            examples: data.x.len(),
            l2: o.l2.first().copied().unwrap_or(1e-3),
            blend: head.blend,
            dev_head: None,
            dev_ngram: None,
            dev_blend: None,
        };
        return (head, report);
    };
    let score = |pred: Vec<usize>| macro_recall(dev.y, &pred);
    // (blend score, head score, l2, blend weight, head); a tie keeps the earlier candidate.
    let mut best: Option<(f64, f64, f32, f32, LinearHead)> = None;
    for &l2 in &o.l2 {
        let head = fit(data, l2, o);
        let probs: Vec<[f32; CLASSES]> = dev.x.iter().map(|x| head.probs(x)).collect();
        let head_score = score(probs.iter().map(argmax).collect());
        for &w in &o.blends {
            let s = score(
                probs
                    .iter()
                    .zip(ngram)
                    .map(|(p, n)| argmax(&mix(*p, *n, w)))
                    .collect(),
            );
            if best.as_ref().is_none_or(|b| s > b.0) {
                best = Some((s, head_score, l2, w, head.clone()));
            }
        }
    }
    let (blend_score, head_score, l2, w, mut head) = best.expect("at least one L2 value and blend");
    let best_blend = (blend_score, w);
    head.blend = best_blend.1;
    let report = HeadReport {
        examples: data.x.len(),
        l2,
        blend: head.blend,
        dev_head: Some(head_score),
        dev_ngram: Some(score(ngram.iter().map(argmax).collect())),
        dev_blend: Some(best_blend.0),
    };
    (head, report)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three separable clusters on the unit circle, with a little deterministic jitter.
    fn clusters(n: usize) -> (Vec<Vec<f32>>, Vec<usize>) {
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..n {
            let c = i % 3;
            let angle = c as f32 * 2.1 + ((i * 7919) % 100) as f32 / 400.0;
            x.push(vec![angle.cos(), angle.sin(), 0.1]);
            y.push(c);
        }
        (x, y)
    }

    #[test]
    fn learns_separable_classes_deterministically() {
        let (x, y) = clusters(300);
        let o = HeadOptions {
            iterations: 300,
            ..Default::default()
        };
        let (a, _) = train(&Examples { x: &x, y: &y }, None, &o);
        let (b, _) = train(&Examples { x: &x, y: &y }, None, &o);
        assert_eq!(a, b, "same data, same head");
        let pred: Vec<usize> = x.iter().map(|v| argmax(&a.probs(v))).collect();
        assert!(macro_recall(&y, &pred) > 0.99);
        let p = a.probs(&x[0]);
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    }

    #[test]
    fn dev_picks_the_blend_that_helps() {
        let (x, y) = clusters(300);
        // An n-gram model that is always wrong: the blend should leave it out.
        let wrong: Vec<[f32; CLASSES]> = y
            .iter()
            .map(|&c| std::array::from_fn(|k| if k == (c + 1) % 3 { 0.9 } else { 0.05 }))
            .collect();
        let o = HeadOptions {
            iterations: 200,
            ..Default::default()
        };
        let data = Examples { x: &x, y: &y };
        let (head, report) = train(&data, Some((&data, &wrong)), &o);
        // Blends that give the wrong model the upper hand lose; of the ones that tie at
        // perfect recall the first is kept.
        assert!(head.blend >= 0.5, "{}", head.blend);
        let blended: Vec<usize> = x
            .iter()
            .zip(&wrong)
            .map(|(v, n)| argmax(&head.blended(v, *n)))
            .collect();
        assert!(macro_recall(&y, &blended) > 0.99);
        assert!(report.dev_ngram.unwrap() < 0.01);
        assert!(report.dev_blend.unwrap() > 0.99);
    }

    #[test]
    fn a_head_that_does_not_fit_is_refused() {
        let (x, y) = clusters(30);
        let o = HeadOptions {
            iterations: 10,
            ..Default::default()
        };
        let (mut head, _) = train(&Examples { x: &x, y: &y }, None, &o);
        assert!(head.fits(3));
        assert!(!head.fits(384));
        head.weights.pop();
        assert!(!head.fits(3));
    }

    #[test]
    fn macro_recall_averages_classes() {
        assert_eq!(
            macro_recall(&[0, 0, 1, 2], &[0, 1, 1, 2]),
            (0.5 + 1.0 + 1.0) / 3.0
        );
    }
}
