//! Spike detection for `negative_spike` and `volume_spike` alert rules.
//!
//! A rule tests one `window` (e.g. the last hour) of a query's mentions against what the
//! `baseline` period before it (e.g. the 7 days before the window) predicts for that window.
//! The history arrives as fixed-width [`Bucket`]s (e.g. 5 minutes); [`test_window`] is cheap
//! enough (~10–20 µs for a 7-day baseline of 5-minute buckets) to run after every index commit for
//! every rule.
//!
//! # Method (the published parameters are the `pub const`s of this module)
//!
//! **Series.** Per bucket: `total` (all mentions of the query), `target` (negative mentions for
//! `negative_spike`, all mentions for `volume_spike`) and `target_weight` (sum of the damped
//! [`reach_weight`]s of the target mentions).
//!
//! **Expected count** of target mentions in the window (`expected_count`, `μ`), a multiplicative
//! seasonal model fitted on the baseline each call:
//!
//! `μ = level × window_len × time_of_day × day_of_week`
//!
//! * `level` — the baseline's mean target rate per bucket, with [`PRIOR_COUNT`] pseudo-mentions
//!   so an empty history still gives a positive (tiny) rate.
//! * `time_of_day` — the same clock-time slot on each earlier baseline day, divided by the mean
//!   rate of the 24 h centred on that slot (so day-to-day level changes do not leak into the
//!   shape). It is estimated on the *total* series (≈6× more mentions than negatives, hence far
//!   less noisy; shrunk to 1 with [`SHAPE_PRIOR_TOTAL`] pseudo-mentions) and the target series'
//!   own shape is shrunk towards it with [`SHAPE_PRIOR_TARGET`] pseudo-mentions, so a big brand
//!   uses its own negative-specific daily curve and a small one borrows the curve of all its
//!   mentions. A daily peak hour is therefore expected, not alerted.
//! * `day_of_week` — the 24 h centred on the window one week earlier (each complete earlier week
//!   in the baseline), relative to the baseline mean; again estimated on totals, target shrunk to
//!   it with [`DOW_PRIOR_TARGET`], and the whole factor shrunk towards 1 by
//!   `λ = weeks / (weeks + DOW_SHRINK)` because a single week is a noisy guide (weekends, holidays).
//!   Needs a baseline of ≥ 7.5 days; otherwise 1.
//!
//! **Robust baseline.** The fit is done twice. After the first pass every window-sized block of the
//! baseline whose count exceeds its prediction by more than
//! `OUTLIER_Z·sd + OUTLIER_MARGIN` (sd from the negative-binomial variance below; ≈ p < 1e-4) is
//! shrunk to its prediction (for the target and, separately, the total series), so an earlier
//! incident does not raise the bar for the next one or a praise day does not distort the curve.
//!
//! **Over-dispersion.** Counts are modelled as negative binomial, `Var = μ + α·μ²`. `α` is the
//! method-of-moments estimate `Σ((y−μ̂)² − μ̂) / Σ μ̂²` over the window-sized blocks of the (cleaned)
//! baseline, where each block's `μ̂` uses a leave-one-day-out time-of-day shape and no day-of-week
//! factor (so it also absorbs the day-to-day and estimation error of the forecast), plus the
//! level's own sampling variance `1/(baseline target count + 1)`, floored at [`MIN_DISPERSION`]
//! (no real baseline is known better than ±10 %) and capped at [`MAX_DISPERSION`].
//!
//! **Reach weighting.** The statistic is the reach-weighted count `W = Σ w` of the window's target
//! mentions. With per-mention weight mean `m1` and variance `σ²_w` (estimated from the baseline
//! buckets: `m1 = ΣV/ΣY`, `σ²_w = Σ(V − m1·Y)² / ΣY`, which is unaffected by count over-dispersion),
//! the compound sum has `E[W] = m1·μ` and `Var[W] = μ·m2 + α·m1²·μ²` with `m2 = σ²_w + m1²`.
//! Dividing by `s = m2/m1` gives `W/s` with mean `μ_eff = μ·m1²/m2` and variance
//! `μ_eff + α·μ_eff²` — exactly a negative binomial's first two moments (a quasi-negative-binomial
//! on weights). The p-value is the NB upper tail `P(X ≥ W/s)` with mean `μ_eff`, dispersion `α`,
//! evaluated with the continuous (incomplete-beta) extension of the NB distribution function. With
//! all weights equal it reduces to the exact count test. Because the weights are damped and bounded
//! (1..=8), a single huge account cannot trigger an alert on its own, while a burst from large
//! accounts is detected sooner than the same number of mentions from small ones.
//!
//! **Decision.** Fires iff the baseline history is long enough (≥ min(baseline, max(24 h,
//! 2 windows)); the history is taken to start at the first bucket passed), `observed_count ≥
//! min_count`, `share = observed_count / total_count ≥ min_share`, and `p_value < significance`.
//! `reason` says which condition decided.
//!
//! # Why this method
//! Counts per window are small (a few to a few dozen), so Gaussian z-scores and EWMA limits are
//! badly calibrated in the tail; an exact discrete tail probability is needed. Bursty traffic makes
//! Poisson tails far too optimistic, hence NB with a dispersion estimated from the query's own
//! history. Seasonality is handled in the expectation, not by widening the limits, so a daily
//! peak does not fire and a night-time burst is still seen. Benchmark (`benches/detect_bench.rs`):
//! see the numbers reported there.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

/// Reach at which a mention starts to weigh noticeably more than 1 (`reach_weight` = 1.30 here).
pub const REACH_SCALE: f64 = 100.0;
/// Reach values are clamped to this before weighting, so the weight is at most 8.
pub const REACH_CAP: f64 = 1e9;
/// Pseudo-count of target mentions added to the baseline (keeps the level > 0 on an empty history).
pub const PRIOR_COUNT: f64 = 0.5;
/// Prior mean reach weight of a target mention (used in proportion to `PRIOR_COUNT`).
pub const PRIOR_WEIGHT_MEAN: f64 = 1.5;
/// Prior variance of the reach weight of a target mention.
pub const PRIOR_WEIGHT_VAR: f64 = 0.25;
/// Pseudo-mentions shrinking the time-of-day factor of the total series to 1.
pub const SHAPE_PRIOR_TOTAL: f64 = 10.0;
/// Pseudo-mentions shrinking the target's time-of-day factor to the total series' factor.
pub const SHAPE_PRIOR_TARGET: f64 = 20.0;
/// Pseudo-mentions shrinking the target's day-of-week factor to the total series' factor.
pub const DOW_PRIOR_TARGET: f64 = 20.0;
/// Day-of-week shrinkage: factor = 1 + λ·(raw − 1), λ = weeks / (weeks + DOW_SHRINK).
pub const DOW_SHRINK: f64 = 0.5;
/// Lower bound of the negative-binomial dispersion α (coefficient of variation 10 %).
pub const MIN_DISPERSION: f64 = 0.01;
/// Upper bound of the negative-binomial dispersion α.
pub const MAX_DISPERSION: f64 = 10.0;
/// Baseline blocks above prediction + OUTLIER_Z·sd + OUTLIER_MARGIN are shrunk to the prediction.
pub const OUTLIER_Z: f64 = 4.0;
/// See [`OUTLIER_Z`].
pub const OUTLIER_MARGIN: f64 = 2.0;
/// At most this many buckets (baseline + window) are modelled; a longer baseline is truncated.
pub const MAX_BUCKETS: i64 = 1 << 20;

/// Damped reach weight of one mention:
///
/// `w = 1 + log10(1 + min(reach, REACH_CAP) / REACH_SCALE)`
///
/// 0 → 1.00, 100 → 1.30, 1 000 → 2.04, 10 k → 3.00, 100 k → 4.00, 1 M → 5.00, 100 M → 7.00;
/// always in `[1, 8]`. Logarithmic so that a 1M-follower account counts 5× a small one, not
/// 100 000×: one celebrity cannot make a spike alone, but a burst carried by large accounts stands
/// out sooner.
pub fn reach_weight(reach: u64) -> f64 {
    let r = (reach as f64).min(REACH_CAP);
    1.0 + (1.0 + r / REACH_SCALE).log10()
}

/// One time bucket of the query's history (bucket width = `SpikeParams::bucket`).
///
/// `target` = negative mentions for `negative_spike` (all mentions for `volume_spike`);
/// `target_weight` = sum of [`reach_weight`] over them.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Bucket {
    pub start: DateTime<Utc>,
    pub total: u64,
    pub target: u64,
    pub target_weight: f64,
}

/// Parameters of one spike test (from the alert rule plus the bucket width of the history).
#[derive(Debug, Clone, PartialEq)]
pub struct SpikeParams {
    /// The tested window `[window_end - window, window_end)`; rounded to whole buckets (≥ 1).
    pub window: Duration,
    /// History before the window that predicts it; rounded to whole buckets.
    pub baseline: Duration,
    /// Width of a [`Bucket`].
    pub bucket: Duration,
    /// Fire only if the tail probability is below this.
    pub significance: f64,
    /// Fire only if the window has at least this many target mentions.
    pub min_count: u64,
    /// Fire only if target / total mentions in the window is at least this.
    pub min_share: f64,
}

impl Default for SpikeParams {
    /// window 1 h, baseline 7 d, bucket 5 min, significance 0.001, min_count 5, min_share 0.3.
    fn default() -> Self {
        SpikeParams {
            window: Duration::hours(1),
            baseline: Duration::days(7),
            bucket: Duration::minutes(5),
            significance: 0.001,
            min_count: 5,
            min_share: 0.3,
        }
    }
}

/// Result of [`test_window`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpikeTest {
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    /// Reach-weighted target mentions in the window.
    pub observed: f64,
    /// Reach-weighted target mentions the baseline predicts for the window.
    pub expected: f64,
    /// Target mentions in the window.
    pub observed_count: u64,
    /// Target mentions the baseline predicts for the window.
    pub expected_count: f64,
    /// All mentions of the query in the window.
    pub total_count: u64,
    /// `observed_count / total_count` (0 when the window is empty).
    pub share: f64,
    /// `P(X ≥ observed)` under the baseline's prediction (see the module docs).
    pub p_value: f64,
    pub fired: bool,
    /// Why it fired or not, human readable.
    pub reason: String,
}

/// Tests the window `[window_end - window, window_end)` against the history before it.
///
/// `buckets` are sorted by start and cover at least `baseline + window` before `window_end` where
/// data exists (missing buckets = zero counts; the history is taken to start at the first bucket
/// given, so pass a zero bucket at the start of collection for a new query). Buckets outside
/// `[window_end - window - baseline, window_end)` are ignored. Never panics.
pub fn test_window(buckets: &[Bucket], window_end: DateTime<Utc>, p: &SpikeParams) -> SpikeTest {
    let mut out = SpikeTest {
        window_start: window_end,
        window_end,
        observed: 0.0,
        expected: 0.0,
        observed_count: 0,
        expected_count: 0.0,
        total_count: 0,
        share: 0.0,
        p_value: 1.0,
        fired: false,
        reason: String::new(),
    };
    let bucket_ms = p.bucket.num_milliseconds();
    if bucket_ms <= 0 {
        out.reason = "not fired: invalid bucket width".into();
        return out;
    }
    let nw = ((p.window.num_milliseconds() as f64 / bucket_ms as f64).round() as i64)
        .clamp(1, MAX_BUCKETS / 2);
    let nb = ((p.baseline.num_milliseconds() as f64 / bucket_ms as f64).round() as i64)
        .clamp(0, MAX_BUCKETS - nw);
    let (Some(window_start), Some(origin)) = (
        window_end.checked_sub_signed(Duration::milliseconds(nw * bucket_ms)),
        window_end.checked_sub_signed(Duration::milliseconds((nw + nb) * bucket_ms)),
    ) else {
        out.reason = "not fired: window out of the representable time range".into();
        return out;
    };
    out.window_start = window_start;
    let (nw, nb) = (nw as usize, nb as usize);
    let n = nb + nw;

    // Dense series over [origin, window_end).
    let mut tot = vec![0.0f64; n];
    let mut tgt = vec![0.0f64; n];
    let mut wgt = vec![0.0f64; n];
    let first = buckets.partition_point(|b| b.start < origin);
    let origin_ms = origin.timestamp_millis();
    let mut hist_start = nb; // first index with data
    if let Some(b0) = buckets.first() {
        let off = b0.start.timestamp_millis().saturating_sub(origin_ms);
        hist_start = if off <= 0 {
            0
        } else {
            ((off / bucket_ms) as usize).min(nb)
        };
    }
    let (mut obs_count, mut tot_count) = (0u64, 0u64);
    for b in &buckets[first..] {
        if b.start >= window_end {
            break;
        }
        let off = b.start.timestamp_millis().saturating_sub(origin_ms);
        if off < 0 {
            continue;
        }
        let i = (off / bucket_ms) as usize;
        if i >= n {
            continue;
        }
        let total = b.total.max(b.target);
        let w = if b.target_weight.is_finite() && b.target_weight >= 0.0 {
            b.target_weight
        } else {
            b.target as f64
        };
        tot[i] += total as f64;
        tgt[i] += b.target as f64;
        wgt[i] += w;
        if i >= nb {
            obs_count = obs_count.saturating_add(b.target);
            tot_count = tot_count.saturating_add(total);
        }
    }
    let observed_w: f64 = wgt[nb..].iter().sum();
    out.observed = observed_w;
    out.observed_count = obs_count;
    out.total_count = tot_count;
    out.share = if tot_count > 0 {
        (obs_count as f64 / tot_count as f64).min(1.0)
    } else {
        0.0
    };

    let day = ((86_400_000.0 / bucket_ms as f64).round() as usize).max(1);
    let hist_len = nb - hist_start;
    let min_hist = nb.min(day.max(2 * nw));
    if nb == 0 || hist_len < min_hist.max(1) {
        let m = Fit::new(&tot, &tgt, hist_start, nb, nw, day)
            .window_mean(nb)
            .0;
        out.expected_count = m;
        out.expected = m * PRIOR_WEIGHT_MEAN;
        out.reason = format!(
            "not fired: insufficient history ({:.1} h of baseline, need {:.1} h)",
            hist_len as f64 * bucket_ms as f64 / 3.6e6,
            min_hist.max(1) as f64 * bucket_ms as f64 / 3.6e6
        );
        return out;
    }

    // Pass 1: fit on raw data, shrink outlying baseline blocks to their prediction.
    {
        let fit = Fit::new(&tot, &tgt, hist_start, nb, nw, day);
        let blocks = fit.blocks();
        for &(s, mu_t, mu_y) in &blocks {
            let y = fit.sum_y(s, s + nw);
            let lim =
                mu_y + OUTLIER_Z * (mu_y * (1.0 + MIN_DISPERSION * mu_y)).sqrt() + OUTLIER_MARGIN;
            if y > lim && y > 0.0 {
                let f = mu_y / y;
                for i in s..s + nw {
                    let removed = tgt[i] * (1.0 - f);
                    tgt[i] -= removed;
                    wgt[i] *= f;
                    tot[i] = (tot[i] - removed).max(tgt[i]);
                }
            }
            let t = fit.sum_t(s, s + nw);
            let lim_t =
                mu_t + OUTLIER_Z * (mu_t * (1.0 + MIN_DISPERSION * mu_t)).sqrt() + OUTLIER_MARGIN;
            if t > lim_t && t > 0.0 {
                let f = mu_t / t;
                for i in s..s + nw {
                    tot[i] = (tot[i] * f).max(tgt[i]);
                }
            }
        }
    }

    // Pass 2: final fit.
    let fit = Fit::new(&tot, &tgt, hist_start, nb, nw, day);
    let (mu, _) = fit.window_mean(nb);
    let (mut num, mut den) = (0.0, 0.0);
    for &(s, _, mu_y) in &fit.blocks() {
        let y = fit.sum_y(s, s + nw);
        num += (y - mu_y) * (y - mu_y) - mu_y;
        den += mu_y * mu_y;
    }
    let sum_y_hist = fit.sum_y(hist_start, nb);
    let alpha_resid = if den > 0.0 { (num / den).max(0.0) } else { 0.0 };
    let alpha = (alpha_resid + 1.0 / (sum_y_hist + 1.0)).clamp(MIN_DISPERSION, MAX_DISPERSION);

    // Reach-weight moments of one target mention.
    let sum_v_hist: f64 = wgt[hist_start..nb].iter().sum();
    let m1 = (sum_v_hist + PRIOR_COUNT * PRIOR_WEIGHT_MEAN) / (sum_y_hist + PRIOR_COUNT);
    let mut ss = 0.0;
    for i in hist_start..nb {
        if tgt[i] > 0.0 {
            let d = wgt[i] - m1 * tgt[i];
            ss += d * d;
        }
    }
    let var_w = (ss + PRIOR_COUNT * PRIOR_WEIGHT_VAR) / (sum_y_hist + PRIOR_COUNT);
    let s_scale = (m1 + var_w / m1).max(1e-9);
    let expected_w = mu * m1;
    out.expected_count = mu;
    out.expected = expected_w;
    let p_value = negbin_sf(observed_w / s_scale, expected_w / s_scale, alpha);
    out.p_value = p_value;

    let sig = if p.significance.is_finite() {
        p.significance
    } else {
        0.0
    };
    let stats = format!(
        "{} target mentions (weighted {:.1}) vs {:.2} expected (weighted {:.1}), share {:.0}% of {}, p={:.2e}, dispersion {:.3}",
        obs_count,
        observed_w,
        mu,
        expected_w,
        out.share * 100.0,
        tot_count,
        p_value,
        alpha
    );
    out.reason = if obs_count < p.min_count {
        format!(
            "not fired: count {} < min_count {}; {}",
            obs_count, p.min_count, stats
        )
    } else if !(out.share >= p.min_share) && p.min_share > 0.0 {
        format!(
            "not fired: share {:.1}% < min_share {:.1}%; {}",
            out.share * 100.0,
            p.min_share * 100.0,
            stats
        )
    } else if !(p_value < sig) {
        format!(
            "not fired: p={:.2e} ≥ significance {:.1e}; {}",
            p_value, sig, stats
        )
    } else {
        out.fired = true;
        format!(
            "fired: p={:.2e} < significance {:.1e}; {}",
            p_value, sig, stats
        )
    };
    out
}

/// Time-of-day factor from `c` observed vs `e` expected-at-day-level mentions in the slot and
/// `wc` vs `we` in the slot widened by half a window on each side, over `nd` days: the slot's own
/// ratio where it differs from the widened one by more than its noise (a sharp daily peak), else
/// the smoother widened ratio (positive-part James–Stein weight). Shrunk to `prior` with
/// `kappa` pseudo-mentions.
fn blend(c: f64, e: f64, wc: f64, we: f64, nd: f64, kappa: f64, prior: f64) -> f64 {
    let sn = (c + kappa * prior) / (e + kappa);
    let sw = (wc + kappa * prior) / (we + kappa);
    let var_n = sn / (e + kappa) + MIN_DISPERSION * sn * sn / nd;
    let diff2 = (sn - sw) * (sn - sw);
    let w = if diff2 > 0.0 {
        (1.0 - var_n / diff2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    w * sn + (1.0 - w) * sw
}

/// Seasonal fit of the baseline `[h, end)` (dense series, window starts at `end`).
struct Fit {
    pt: Vec<f64>,
    py: Vec<f64>,
    h: usize,
    end: usize,
    nw: usize,
    day: usize,
    rate_t: f64,
    rate_y: f64,
}

impl Fit {
    fn new(tot: &[f64], tgt: &[f64], h: usize, end: usize, nw: usize, day: usize) -> Fit {
        fn prefix(x: &[f64]) -> Vec<f64> {
            let mut p = vec![0.0; x.len() + 1];
            let mut acc = 0.0;
            for (o, v) in p[1..].iter_mut().zip(x) {
                acc += v;
                *o = acc;
            }
            p
        }
        let pt = prefix(tot);
        let py = prefix(tgt);
        let len = (end - h).max(1) as f64;
        let rate_t = (pt[end] - pt[h]) / len;
        let rate_y = (py[end] - py[h] + PRIOR_COUNT) / len;
        Fit {
            pt,
            py,
            h,
            end,
            nw,
            day,
            rate_t,
            rate_y,
        }
    }
    fn sum_t(&self, a: usize, b: usize) -> f64 {
        self.pt[b] - self.pt[a]
    }
    fn sum_y(&self, a: usize, b: usize) -> f64 {
        self.py[b] - self.py[a]
    }

    /// Time-of-day factors (total, target) of the slot starting at `s`. With `loo`, days after
    /// the slot are used too (leave-one-day-out for baseline blocks); otherwise only earlier days.
    fn shape(&self, s: usize, loo: bool) -> (f64, f64) {
        let (nw, day) = (self.nw, self.day);
        if nw >= day {
            return (1.0, 1.0);
        }
        let m = nw / 2;
        let (mut ct, mut et, mut cy, mut ey) = (0.0, 0.0, 0.0, 0.0);
        let (mut wct, mut wet, mut wcy, mut wey) = (0.0, 0.0, 0.0, 0.0);
        let mut nd = 0usize;
        let mut visit = |sd: usize| {
            let c = sd + nw / 2;
            let a = c.saturating_sub(day / 2).max(self.h);
            let b = (c + day - day / 2).min(self.end);
            if b <= a {
                return;
            }
            let l = (b - a) as f64;
            let (rt, ry) = (self.sum_t(a, b) / l, self.sum_y(a, b) / l);
            ct += self.sum_t(sd, sd + nw);
            cy += self.sum_y(sd, sd + nw);
            et += rt * nw as f64;
            ey += ry * nw as f64;
            let wa = sd.saturating_sub(m).max(self.h);
            let wb = (sd + nw + m).min(self.end);
            wct += self.sum_t(wa, wb);
            wcy += self.sum_y(wa, wb);
            wet += rt * (wb - wa) as f64;
            wey += ry * (wb - wa) as f64;
            nd += 1;
        };
        let mut d = day;
        while d <= s && s - d >= self.h {
            visit(s - d);
            d += day;
        }
        if loo {
            let mut sd = s + day;
            while sd + nw <= self.end {
                visit(sd);
                sd += day;
            }
        }
        let nd = nd.max(1) as f64;
        let st = blend(ct, et, wct, wet, nd, SHAPE_PRIOR_TOTAL, 1.0);
        let sy = blend(cy, ey, wcy, wey, nd, SHAPE_PRIOR_TARGET, st);
        (st, sy)
    }

    /// Day-of-week factor (target) for a window starting at `s`, from the same 24 h one or more
    /// weeks earlier.
    fn dow(&self, s: usize) -> f64 {
        let (day, week) = (self.day, 7 * self.day);
        let c = s + self.nw / 2;
        // Same-weekday ranges (t, y) and the mean of the same clock-time range over all days.
        let (mut t, mut y, mut mt, mut my, mut weeks) = (0.0, 0.0, 0.0, 0.0, 0usize);
        let mut k = week;
        while k <= c {
            let ck = c - k;
            let a = ck.saturating_sub(day / 2).max(self.h);
            let b = (ck + day - day / 2).min(self.end);
            if b < a + day / 2 {
                break; // less than half a day of that weekday in the history
            }
            // The same clock-time range on every day of the history (including this one).
            let (mut st, mut sy, mut nd) = (0.0, 0.0, 0usize);
            let mut a2 = a - ((a - self.h) / day) * day;
            while a2 + (b - a) <= self.end {
                st += self.sum_t(a2, a2 + (b - a));
                sy += self.sum_y(a2, a2 + (b - a));
                nd += 1;
                a2 += day;
            }
            if nd < 2 {
                break;
            }
            t += self.sum_t(a, b);
            y += self.sum_y(a, b);
            mt += st / nd as f64;
            my += sy / nd as f64;
            weeks += 1;
            k += week;
        }
        if weeks == 0 || mt <= 0.0 {
            return 1.0;
        }
        let w = weeks as f64;
        let ft = t / mt;
        let fy = (y + DOW_PRIOR_TARGET * ft) / (my + DOW_PRIOR_TARGET);
        let lambda = w / (w + DOW_SHRINK);
        (1.0 + lambda * (fy - 1.0)).max(0.0)
    }

    /// Expected target count (and total count) for the window starting at `s` (= `end`).
    fn window_mean(&self, s: usize) -> (f64, f64) {
        let (st, sy) = self.shape(s, false);
        let f = self.dow(s);
        let nw = self.nw as f64;
        (self.rate_y * nw * sy * f, self.rate_t * nw * st * f)
    }

    /// Window-sized blocks of the baseline, ending at the window start: (start, μ_total, μ_target)
    /// with leave-one-day-out time-of-day factors and no day-of-week factor.
    fn blocks(&self) -> Vec<(usize, f64, f64)> {
        let mut v = Vec::with_capacity((self.end - self.h) / self.nw + 1);
        let nw = self.nw as f64;
        let mut e = self.end;
        while e >= self.h + self.nw {
            let s = e - self.nw;
            let (st, sy) = self.shape(s, true);
            v.push((s, self.rate_t * nw * st, self.rate_y * nw * sy));
            e = s;
        }
        v
    }
}

// ---------------------------------------------------------------------------------------------
// Special functions.

/// Upper tail `P(X ≥ x)` of a negative binomial with mean `mean` and dispersion `alpha`
/// (`Var = mean + alpha·mean²`; `alpha = 0` is Poisson), continuous in `x` via the regularized
/// incomplete beta (`I_{mean/(r+mean)}(x, r)`, `r = 1/alpha`) or, for Poisson, the regularized
/// lower incomplete gamma `P(x, mean)`. Exact at integer `x`. Returns 1 for `x ≤ 0`, 0 when
/// `mean ≤ 0 < x`; never NaN.
pub fn negbin_sf(x: f64, mean: f64, alpha: f64) -> f64 {
    if x.is_nan() || x <= 0.0 {
        return 1.0;
    }
    if !(mean > 0.0) || x.is_infinite() {
        return 0.0;
    }
    let mean = mean.min(1e300);
    let alpha = if alpha.is_finite() && alpha > 0.0 {
        alpha.min(1e12)
    } else {
        0.0
    };
    let r = 1.0 / alpha;
    let v = if alpha < 1e-10 || r > 1e6 * (x + mean) {
        gamma_p(x, mean)
    } else {
        beta_inc(x, r, mean / (r + mean))
    };
    if v.is_nan() { 1.0 } else { v.clamp(0.0, 1.0) }
}

/// `ln Γ(x)` for `x > 0` (Lanczos, g = 7, n = 9; ~1e-15 relative).
pub fn ln_gamma(x: f64) -> f64 {
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        let s = (std::f64::consts::PI * x).sin();
        return (std::f64::consts::PI / s).abs().ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + 7.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// Standard normal upper tail `P(Z > z)`.
fn normal_sf(z: f64) -> f64 {
    0.5 * erfc(z / std::f64::consts::SQRT_2)
}

/// Complementary error function (W. J. Cody's rational approximations, ~1e-15 relative).
fn erfc(x: f64) -> f64 {
    if x.is_nan() {
        return 1.0;
    }
    if x < 0.0 {
        return 2.0 - erfc(-x);
    }
    if x < 0.5 {
        // erf series is accurate here.
        let x2 = x * x;
        let mut term = x;
        let mut sum = x;
        let mut k = 0.0;
        while term.abs() > 1e-17 * sum.abs() {
            k += 1.0;
            term *= -x2 / k;
            sum += term / (2.0 * k + 1.0);
            if k > 60.0 {
                break;
            }
        }
        return 1.0 - 2.0 / std::f64::consts::PI.sqrt() * sum;
    }
    if x > 27.0 {
        return 0.0;
    }
    // Continued fraction (Lentz) for erfc, converges well for x ≥ 0.5.
    // erfc(x) = exp(-x²)/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...))))
    let tiny = 1e-300;
    let mut f = x;
    let mut c = x;
    let mut d = 0.0;
    for i in 1..500 {
        let a = i as f64 * 0.5;
        d = x + a * d;
        if d.abs() < tiny {
            d = tiny;
        }
        c = x + a / c;
        if c.abs() < tiny {
            c = tiny;
        }
        d = 1.0 / d;
        let delta = c * d;
        f *= delta;
        if (delta - 1.0).abs() < 1e-16 {
            break;
        }
    }
    (-x * x).exp() / std::f64::consts::PI.sqrt() / f
}

/// Regularized lower incomplete gamma `P(a, x)`.
fn gamma_p(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if a > 1e7 {
        // Wilson–Hilferty.
        let z = ((x / a).cbrt() - (1.0 - 1.0 / (9.0 * a))) / (1.0 / (9.0 * a)).sqrt();
        return 1.0 - normal_sf(z);
    }
    let ln_pre = a * x.ln() - x - ln_gamma(a);
    let max_iter = 200 + (20.0 * a.sqrt()) as usize + (2.0 * x) as usize;
    if x < a + 1.0 {
        let (mut ap, mut del, mut sum) = (a, 1.0 / a, 1.0 / a);
        for _ in 0..max_iter {
            ap += 1.0;
            del *= x / ap;
            sum += del;
            if del.abs() < sum.abs() * 1e-16 {
                break;
            }
        }
        (sum.ln() + ln_pre).exp().min(1.0)
    } else {
        let tiny = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / tiny;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..max_iter {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < tiny {
                d = tiny;
            }
            c = b + an / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            let del = d * c;
            h *= del;
            if (del - 1.0).abs() < 1e-16 {
                break;
            }
        }
        (1.0 - (ln_pre.exp() * h)).max(0.0)
    }
}

/// Regularized incomplete beta `I_x(a, b)`.
fn beta_inc(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    if a + b > 1e8 {
        // Normal approximation of the beta (parameters this large only arise for enormous counts).
        let m = a / (a + b);
        let sd = (a * b / ((a + b) * (a + b) * (a + b + 1.0))).sqrt();
        return 1.0 - normal_sf((x - m) / sd);
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    if x < (a + 1.0) / (a + b + 2.0) {
        (ln_front.exp() * beta_cf(a, b, x) / a).clamp(0.0, 1.0)
    } else {
        (1.0 - ln_front.exp() * beta_cf(b, a, 1.0 - x) / b).clamp(0.0, 1.0)
    }
}

/// Continued fraction for the incomplete beta (modified Lentz).
fn beta_cf(a: f64, b: f64, x: f64) -> f64 {
    let tiny = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < tiny {
        d = tiny;
    }
    d = 1.0 / d;
    let mut h = d;
    let max_iter = 200 + (10.0 * a.max(b).sqrt()) as usize;
    for m in 1..=max_iter {
        let m = m as f64;
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        if d.abs() < tiny {
            d = tiny;
        }
        c = 1.0 + aa / c;
        if c.abs() < tiny {
            c = tiny;
        }
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        if d.abs() < tiny {
            d = tiny;
        }
        c = 1.0 + aa / c;
        if c.abs() < tiny {
            c = tiny;
        }
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}
