//! Detection quality and speed of `hark::alerts::detect` on simulated months of mentions.
//!
//!     cargo bench --bench detect_bench -- [--months N] [--scale X[,Y..]] [--min-share S]
//!                                         [--significance A] [--unweighted] [--diag] [--misses]
//!
//! For each volume profile (`--scale`, default 1,3,10), each burst size k in {2, 3, 5} and each
//! seed (`--months`, default 20 simulated months per size) it simulates 7 days of warm-up plus
//! 30 days of calm, seasonal background traffic of one brand:
//!
//! * volume: `scale` × 20–60 mentions/hour on weekdays (smooth daily curve, trough ~03:00 UTC,
//!   peak ~15:00), weekends ×0.72, a random day level (log-normal, sd 0.10) and a random hourly
//!   level (gamma, cv 0.16) on top of Poisson arrivals: bursty, over-dispersed counts;
//! * sentiment: each background mention takes the label of a random line of
//!   `../shared/data/sentiment/train.tsv` (~15.6 % negative);
//! * reach: log-normal, median 300, sd 2.0 in natural log (heavy tail, capped at 10^8);
//! * 6 negative bursts per month, of known start and size: extra negative mentions spread
//!   uniformly over one window (1 h), Poisson with mean (k − 1) × the seasonal expected negative
//!   volume of that hour, so the burst hour carries k× its expected negatives ("k× burst");
//! * volume bursts a `negative_spike` rule must ignore, kept ≥ 3 h away from the negative bursts:
//!   4 positive bursts (+3× positives for 2 h), 2 neutral bursts (+3× neutrals for 1 h) and one
//!   praise day (+2× positives for 24 h).
//!
//! It then runs the detector as `hark` would for a `negative_spike` rule: after every 5-minute
//! bucket, `test_window` with window = 1 h, baseline = 7 d, significance 0.001, min_count 5,
//! min_share 0.3, min_lift 1.5 (the gates of a default negative_spike rule; override the
//! first two with the flags above) and a 6 h cooldown (the default is 12 h; 6 h lets bursts
//! that fall close together each be scored). An alert within 2 h of a
//! burst start (the last window that still holds burst mentions ends 2 h after it) detects that
//! burst; any other alert is false. Prints per burst size: recall, precision, median delay
//! (minutes from burst start to the first alert), false alerts per simulated month, and the same
//! for an "oracle" that knows the true seasonal mean and the true dispersion of the random day
//! and hour levels (a practical upper bound for any test with the same gates and significance),
//! plus recall by expected negatives per window, and the time per `test_window` call.
//! `--unweighted` sets every reach weight to 1; `--diag` prints the forecast error and the
//! dispersion estimate against the truth; `--misses` prints every missed burst's test.
use hark::alerts::detect::*;
use std::hint::black_box;
use std::time::Instant;

use chrono::{DateTime, Duration, TimeZone, Utc};

struct Rng(u64);
impl Rng {
    fn next_u64(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: usize) -> usize {
        (self.f64() * n as f64) as usize % n.max(1)
    }
    fn normal(&mut self) -> f64 {
        let u1 = self.f64().max(1e-300);
        let u2 = self.f64();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
    fn poisson(&mut self, mut lambda: f64) -> u64 {
        let mut n = 0;
        while lambda > 0.0 {
            let l = lambda.min(30.0);
            lambda -= l;
            let limit = (-l).exp();
            let mut prod = self.f64();
            while prod > limit {
                n += 1;
                prod *= self.f64();
            }
        }
        n
    }
    /// Gamma(shape, 1), Marsaglia–Tsang (shape ≥ 1).
    fn gamma(&mut self, shape: f64) -> f64 {
        let d = shape - 1.0 / 3.0;
        let c = 1.0 / (9.0 * d).sqrt();
        loop {
            let x = self.normal();
            let v = (1.0 + c * x).powi(3);
            if v <= 0.0 {
                continue;
            }
            let u = self.f64();
            if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
                return d * v;
            }
        }
    }
    fn reach(&mut self) -> u64 {
        ((300f64.ln() + 2.0 * self.normal()).exp()).min(1e8) as u64
    }
}

/// Relative volume by hour of day (UTC), interpolated linearly; min 0.45, max 1.35.
const DAILY: [f64; 24] = [
    0.55, 0.50, 0.46, 0.45, 0.47, 0.52, 0.62, 0.80, 0.98, 1.10, 1.18, 1.22, 1.25, 1.28, 1.32, 1.35,
    1.35, 1.30, 1.25, 1.18, 1.05, 0.90, 0.76, 0.64,
];
/// Monday..Sunday.
const WEEKLY: [f64; 7] = [1.05, 1.08, 1.08, 1.05, 1.0, 0.72, 0.72];
const BUCKET_MIN: i64 = 5;
const BPH: usize = 12; // buckets per hour
const BPD: usize = 288;
const WARM_DAYS: usize = 7;
const MONTH_DAYS: usize = 30;
const NEG_BURSTS: usize = 6;
const COOLDOWN_BUCKETS: usize = 72; // 6 h
const ATTRIB_MIN: f64 = 120.0;
/// Gamma shape of the random hourly level (cv = 1/sqrt(40) = 0.16).
const HOUR_SHAPE: f64 = 40.0;
/// Standard deviation of the log of the random day level.
const DAY_SD: f64 = 0.10;
/// The oracle's negative-binomial dispersion: that of the random day and hourly levels together,
/// (1 + 1/HOUR_SHAPE)·exp(DAY_SD²) − 1 ≈ 0.035.
fn oracle_alpha() -> f64 {
    (1.0 + 1.0 / HOUR_SHAPE) * (DAY_SD * DAY_SD).exp() - 1.0
}

#[derive(Clone, Copy, PartialEq)]
enum Label {
    Neg,
    Neu,
    Pos,
}

struct Month {
    buckets: Vec<Bucket>,
    /// Seasonal expected negatives per bucket, without the random day and hour levels: what
    /// "k× expected" refers to, and the oracle's mean.
    exp_neg: Vec<f64>,
    bursts: Vec<(f64, f64)>, // (start minute, expected negatives in the burst hour)
}

fn seasonal(i: usize) -> f64 {
    // Relative volume of bucket i (i = 0 is Monday 00:00 UTC) at its mid-time.
    let h = ((i % BPD) as f64 + 0.5) / BPH as f64;
    let h0 = h.floor() as usize % 24;
    let fr = h - h.floor();
    let d = DAILY[h0] * (1.0 - fr) + DAILY[(h0 + 1) % 24] * fr;
    d * WEEKLY[(i / BPD) % 7]
}

#[allow(clippy::needless_range_loop)]
fn simulate(seed: u64, k: f64, scale: f64, labels: &[Label], t0: DateTime<Utc>) -> Month {
    let mut rng = Rng(seed.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ 0x5151);
    let days = WARM_DAYS + MONTH_DAYS;
    let n = days * BPD;
    let per_bucket = 44.4 * scale / BPH as f64; // weekday 20..60 per hour at scale 1
    let (mut p_neg, mut p_pos) = (0.0, 0.0);
    for l in labels {
        match l {
            Label::Neg => p_neg += 1.0,
            Label::Pos => p_pos += 1.0,
            Label::Neu => {}
        }
    }
    p_neg /= labels.len() as f64;
    p_pos /= labels.len() as f64;
    let p_neu = 1.0 - p_neg - p_pos;

    let day_level: Vec<f64> = (0..days).map(|_| (DAY_SD * rng.normal()).exp()).collect();
    let hour_level: Vec<f64> = (0..days * 24)
        .map(|_| rng.gamma(HOUR_SHAPE) / HOUR_SHAPE)
        .collect();
    let mut buckets: Vec<Bucket> = (0..n)
        .map(|i| Bucket {
            start: t0 + Duration::minutes(BUCKET_MIN * i as i64),
            ..Default::default()
        })
        .collect();
    let mut exp_neg = vec![0.0; n];
    let add = |b: &mut Bucket, neg: bool, reach: u64| {
        b.total += 1;
        if neg {
            b.target += 1;
            b.target_weight += reach_weight(reach);
        }
    };
    for i in 0..n {
        let base = per_bucket * seasonal(i);
        let rate = base * day_level[i / BPD] * hour_level[i / BPH];
        exp_neg[i] = base * p_neg;
        for _ in 0..rng.poisson(rate) {
            let l = labels[rng.below(labels.len())];
            let r = rng.reach();
            add(&mut buckets[i], l == Label::Neg, r);
        }
    }

    // Negative bursts, one per slot of the evaluated month.
    let slot = MONTH_DAYS as f64 * 1440.0 / NEG_BURSTS as f64;
    let mut bursts = Vec::new();
    for s in 0..NEG_BURSTS {
        let lo = WARM_DAYS as f64 * 1440.0 + s as f64 * slot + 720.0;
        let start = lo + rng.f64() * (slot - 1440.0);
        let first = (start / BUCKET_MIN as f64) as usize;
        // Expected negatives in [start, start + 60 min).
        let mut e = 0.0;
        for j in first..=first + BPH {
            let b0 = j as f64 * BUCKET_MIN as f64;
            let overlap = (b0 + 5.0).min(start + 60.0) - b0.max(start);
            if overlap > 0.0 && j < n {
                e += exp_neg[j] * overlap / BUCKET_MIN as f64;
            }
        }
        for _ in 0..rng.poisson((k - 1.0) * e) {
            let t = start + 60.0 * rng.f64();
            let j = (t / BUCKET_MIN as f64) as usize;
            if j < n {
                let r = rng.reach();
                add(&mut buckets[j], true, r);
            }
        }
        bursts.push((start, e));
    }

    // Volume bursts the negative rule must ignore, kept 3 h away from negative bursts.
    let far = |t: f64, len: f64| {
        bursts
            .iter()
            .all(|&(b, _)| t > b + 180.0 || t + len < b - 180.0)
    };
    let events: [(Label, f64, f64, usize); 3] = [
        (Label::Pos, 3.0, 120.0, 4),
        (Label::Neu, 3.0, 60.0, 2),
        (Label::Pos, 2.0, 1440.0, 1),
    ];
    for (label, extra, len, count) in events {
        let share = if label == Label::Pos { p_pos } else { p_neu };
        let mut placed = 0;
        let mut tries = 0;
        while placed < count && tries < 1000 {
            tries += 1;
            let t = WARM_DAYS as f64 * 1440.0 + rng.f64() * (MONTH_DAYS as f64 * 1440.0 - len);
            if !far(t, len) {
                continue;
            }
            placed += 1;
            let b0 = (t / BUCKET_MIN as f64) as usize;
            let b1 = (((t + len) / BUCKET_MIN as f64) as usize).min(n);
            for j in b0..b1 {
                let m = rng.poisson(extra * per_bucket * seasonal(j) * share);
                for _ in 0..m {
                    buckets[j].total += 1;
                }
            }
        }
    }
    Month {
        buckets,
        exp_neg,
        bursts,
    }
}

#[derive(Default)]
struct Score {
    months: usize,
    bursts: usize,
    detected: usize,
    alerts: usize,
    true_alerts: usize,
    false_alerts: usize,
    delays: Vec<f64>,
    /// (expected negatives in burst hour, detected)
    by_volume: Vec<(f64, bool)>,
}

impl Score {
    fn add(&mut self, m: &Month, alerts: &[usize]) {
        self.months += 1;
        self.alerts += alerts.len();
        for &a in alerts {
            let t = (a + 1) as f64 * BUCKET_MIN as f64; // alert at the window end
            if m.bursts.iter().any(|&(s, _)| t >= s && t <= s + ATTRIB_MIN) {
                self.true_alerts += 1;
            } else {
                self.false_alerts += 1;
            }
        }
        for &(s, e) in &m.bursts {
            self.bursts += 1;
            let first = alerts
                .iter()
                .map(|&a| (a + 1) as f64 * BUCKET_MIN as f64)
                .find(|&t| t >= s && t <= s + ATTRIB_MIN);
            if let Some(t) = first {
                self.detected += 1;
                self.delays.push(t - s);
            }
            self.by_volume.push((e, first.is_some()));
        }
    }
    fn recall(&self) -> f64 {
        self.detected as f64 / self.bursts.max(1) as f64
    }
    fn precision(&self) -> f64 {
        if self.alerts == 0 {
            f64::NAN
        } else {
            self.true_alerts as f64 / self.alerts as f64
        }
    }
    fn fa_month(&self) -> f64 {
        self.false_alerts as f64 / self.months.max(1) as f64
    }
    fn median_delay(&mut self) -> f64 {
        if self.delays.is_empty() {
            return f64::NAN;
        }
        self.delays.sort_by(|a, b| a.total_cmp(b));
        let n = self.delays.len();
        if n % 2 == 1 {
            self.delays[n / 2]
        } else {
            0.5 * (self.delays[n / 2 - 1] + self.delays[n / 2])
        }
    }
}

/// Runs the detector and the oracle over the evaluated month; returns alert bucket indices.
fn run(
    m: &Month,
    p: &SpikeParams,
    calls: &mut u64,
    secs: &mut f64,
    diag: &mut Option<[f64; 6]>,
    misses: bool,
) -> (Vec<usize>, Vec<usize>) {
    let nw = (p.window.num_minutes() / BUCKET_MIN) as usize;
    let nb = (p.baseline.num_minutes() / BUCKET_MIN) as usize;
    let (mut alerts, mut oracle) = (Vec::new(), Vec::new());
    let (mut last, mut last_o) = (None::<usize>, None::<usize>);
    for i in WARM_DAYS * BPD - 1..m.buckets.len() {
        let end = m.buckets[i].start + p.bucket;
        let lo = (i + 1).saturating_sub(nb + nw);
        let t_start = Instant::now();
        let t = test_window(&m.buckets[lo..=i], end, p);
        *secs += t_start.elapsed().as_secs_f64();
        *calls += 1;
        if t.fired && last.is_none_or(|l| i - l >= COOLDOWN_BUCKETS) {
            alerts.push(i);
            last = Some(i);
        }
        // Oracle: NB test against the true seasonal mean and the true dispersion of the random
        // day and hour levels, same count/share gates.
        let w = &m.buckets[i + 1 - nw..=i];
        let cnt: u64 = w.iter().map(|b| b.target).sum();
        let tot: u64 = w.iter().map(|b| b.total).sum();
        let mu: f64 = m.exp_neg[i + 1 - nw..=i].iter().sum();
        let fired = cnt >= p.min_count
            && tot > 0
            && cnt as f64 / tot as f64 >= p.min_share
            && negbin_sf(cnt as f64, mu, oracle_alpha()) < p.significance;
        if let Some(d) = diag.as_mut() {
            d[0] += 1.0;
            let r = (t.expected_count / mu).ln();
            d[1] += r;
            d[2] += r * r;
            if let Some(a) = t
                .reason
                .split("dispersion ")
                .nth(1)
                .and_then(|x| x.parse::<f64>().ok())
            {
                d[3] += a;
            }
            let tm = (i + 1) as f64 * BUCKET_MIN as f64;
            if !m
                .bursts
                .iter()
                .any(|&(s, _)| tm >= s && tm <= s + ATTRIB_MIN)
            {
                let e = t.expected_count;
                let y = t.observed_count as f64;
                d[4] += (y - e) * (y - e) - e;
                d[5] += e * e;
            }
        }
        if fired && last_o.is_none_or(|l| i - l >= COOLDOWN_BUCKETS) {
            oracle.push(i);
            last_o = Some(i);
        }
    }
    if misses {
        for &(s, e) in &m.bursts {
            let hit = |v: &Vec<usize>| {
                v.iter().any(|&a| {
                    let t = (a + 1) as f64 * BUCKET_MIN as f64;
                    t >= s && t <= s + ATTRIB_MIN
                })
            };
            if !hit(&alerts) {
                let i = ((s + 60.0) / BUCKET_MIN as f64) as usize;
                let lo = (i + 1).saturating_sub(nb + nw);
                let t = test_window(&m.buckets[lo..=i], m.buckets[i].start + p.bucket, p);
                println!(
                    "  miss (oracle {}): day {} {:02}:{:02} e={:.1} | {}",
                    hit(&oracle),
                    (s / 1440.0) as usize % 7,
                    (s % 1440.0 / 60.0) as usize,
                    (s % 60.0) as usize,
                    e,
                    t.reason
                );
            }
        }
    }
    (alerts, oracle)
}

fn main() {
    let mut months = 20usize;
    let mut scales = vec![1.0, 3.0, 10.0];
    let mut significance = 0.001;
    let mut unweighted = false;
    let mut min_share = SpikeParams::default().min_share;
    let mut diag: Option<[f64; 6]> = None;
    let mut misses = false;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let next = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--months" => {
                months = next.parse().expect("--months N");
                i += 1;
            }
            "--scale" => {
                scales = next
                    .split(',')
                    .map(|s| s.parse().expect("--scale X[,Y]"))
                    .collect();
                i += 1;
            }
            "--unweighted" => unweighted = true,
            "--min-share" => {
                min_share = next.parse().expect("--min-share S");
                i += 1;
            }
            "--diag" => diag = Some([0.0; 6]),
            "--misses" => misses = true,
            "--significance" => {
                significance = next.parse().expect("--significance A");
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/data/sentiment/train.tsv"
    );
    let data = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    let labels: Vec<Label> = data
        .lines()
        .filter_map(|l| match l.split('\t').next() {
            Some("negative") => Some(Label::Neg),
            Some("neutral") => Some(Label::Neu),
            Some("positive") => Some(Label::Pos),
            _ => None,
        })
        .collect();
    let neg_share =
        labels.iter().filter(|&&l| l == Label::Neg).count() as f64 / labels.len() as f64;
    println!(
        "labels from {path}: {} texts, negative share {:.3}; {} simulated months per burst size",
        labels.len(),
        neg_share,
        months
    );
    let t0 = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap(); // a Monday
    // The gates of a default (`sensitivity = "medium"`) negative_spike rule.
    let preset = Preset::of(true, Sensitivity::Medium);
    let p = SpikeParams {
        significance,
        min_share,
        min_count: preset.min_count,
        min_lift: preset.min_lift,
        ..SpikeParams::default()
    };
    let (mut calls, mut secs) = (0u64, 0.0f64);
    for &scale in &scales {
        println!(
            "\nprofile: {:.0}-{:.0} mentions/hour on weekdays (scale {scale}); expected negatives per 1 h window {:.1}-{:.1}",
            20.0 * scale,
            60.0 * scale,
            44.4 * scale * 0.45 * 0.72 * neg_share,
            44.4 * scale * 1.35 * 1.08 * neg_share
        );
        println!(
            "{:>5} {:>7} {:>9} {:>13} {:>9} | {:>13} {:>16} | recall by expected negatives/window: <5, 5-10, >=10",
            "burst",
            "recall",
            "precision",
            "median_delay",
            "FA/month",
            "oracle_recall",
            "oracle_FA/month"
        );
        let mut all_fa = (0usize, 0usize);
        for &k in &[2.0, 3.0, 5.0] {
            let (mut s, mut o) = (Score::default(), Score::default());
            for seed in 0..months as u64 {
                let mut m = simulate(seed * 7919 + 17, k, scale, &labels, t0);
                if unweighted {
                    for b in &mut m.buckets {
                        b.target_weight = b.target as f64;
                    }
                }
                let (a, b) = run(&m, &p, &mut calls, &mut secs, &mut diag, misses);
                s.add(&m, &a);
                o.add(&m, &b);
            }
            all_fa.0 += s.false_alerts;
            all_fa.1 += s.months;
            let strata = |sc: &Score| {
                let mut out = String::new();
                for (lo, hi) in [(0.0, 5.0), (5.0, 10.0), (10.0, f64::INFINITY)] {
                    let v: Vec<bool> = sc
                        .by_volume
                        .iter()
                        .filter(|x| x.0 >= lo && x.0 < hi)
                        .map(|x| x.1)
                        .collect();
                    if v.is_empty() {
                        out += "    -   ";
                    } else {
                        out += &format!(
                            " {:.2}({:>3})",
                            v.iter().filter(|&&x| x).count() as f64 / v.len() as f64,
                            v.len()
                        );
                    }
                }
                out
            };
            println!(
                "{:>4}x {:>7.3} {:>9.3} {:>10.0} min {:>9.2} | {:>13.3} {:>16.2} |{}  oracle:{}",
                k,
                s.recall(),
                s.precision(),
                s.median_delay(),
                s.fa_month(),
                o.recall(),
                o.fa_month(),
                strata(&s),
                strata(&o)
            );
        }
        println!(
            "false alerts per simulated month (all runs of this profile): {:.2}",
            all_fa.0 as f64 / all_fa.1.max(1) as f64
        );
        if let Some(d) = diag.as_mut() {
            let m = d[1] / d[0];
            println!(
                "diag: ln(expected/true) mean {:.3} sd {:.3}; mean dispersion {:.3}; realized dispersion of the forecast {:.3}",
                m,
                (d[2] / d[0] - m * m).sqrt(),
                d[3] / d[0],
                d[4] / d[5]
            );
            *d = [0.0; 6];
        }
    }
    println!(
        "\ntest_window: {} calls in the simulations, {:.0} ns per call",
        calls,
        secs * 1e9 / calls.max(1) as f64
    );

    // Micro-benchmark: one call on a full 7 d + 1 h history of 5-minute buckets.
    let m = simulate(1, 3.0, 1.0, &labels, t0);
    let nb = 7 * BPD + BPH;
    let i0 = 20 * BPD;
    let reps = 20_000;
    let t = Instant::now();
    let mut fired = 0;
    for r in 0..reps {
        let i = i0 + r % BPD;
        let res = test_window(
            black_box(&m.buckets[i + 1 - nb..=i]),
            m.buckets[i].start + p.bucket,
            &p,
        );
        fired += res.fired as usize;
    }
    let el = t.elapsed();
    black_box(fired);
    println!(
        "test_window micro-benchmark ({} buckets per call): {:.0} ns per call",
        nb,
        el.as_nanos() as f64 / reps as f64
    );
}
