//! Spike detection on real brand-volume series with labelled incidents
//! (`../shared/data/volume/`, NAB `realTweets`; see its README).
//!
//!     cargo bench --bench volume_eval -- [--dir DIR] [--window 1h] [--baseline 7d]
//!                                        [--cooldown 12h] [--sensitivity medium]
//!                                        [--significance A] [--min-lift L]
//!                                        [--list] [--dump FILE]
//!
//! Each row `timestamp,value` (5 minutes) becomes `value` mentions spread evenly over its five
//! minutes (as `scripts/bench_volume.sh` imports them), and a `volume_spike` rule is replayed
//! with [`hark::alerts::engine::backtest_spikes`] — the same code `hark alerts backtest` runs —
//! over each whole series. An alert inside a labelled window catches that incident; any
//! other alert (new or follow-up) after the first 15 % of the series is false (the baseline is
//! still being learnt before). Prints per series and in total:
//! incidents caught, alerts outside incidents, median delay from window start to the first
//! alert, and the replay time. `--list` prints every alert with its test.
//!
//! This reads the shared data from its place; nothing of it is copied into the repository.
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use hark::alerts::detect::{Sensitivity, SpikeParams};
use hark::alerts::engine::{Point, backtest_spikes, replay_spike_tests};
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

fn parse_dur(s: &str) -> Duration {
    let d = hark::timeutil::parse_duration(s).unwrap_or_else(|e| panic!("{s}: {e}"));
    Duration::from_std(d).unwrap()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1).cloned())
    };
    let dir = PathBuf::from(arg("--dir").unwrap_or_else(|| "../shared/data/volume".into()));
    if !dir.join("windows.json").exists() {
        println!("SKIPPED: {} absent", dir.display());
        return;
    }
    let sensitivity: Sensitivity = arg("--sensitivity")
        .map(|s| s.parse().expect("--sensitivity low|medium|high"))
        .unwrap_or_default();
    let mut p = SpikeParams::volume(sensitivity);
    if let Some(w) = arg("--window") {
        p.window = parse_dur(&w);
    }
    if let Some(b) = arg("--baseline") {
        p.baseline = parse_dur(&b);
    }
    if let Some(s) = arg("--significance") {
        p.significance = s.parse().unwrap();
    }
    if let Some(s) = arg("--min-lift") {
        p.min_lift = s.parse().unwrap();
    }
    let preset = hark::alerts::detect::Preset::of(false, sensitivity);
    let cooldown = arg("--cooldown")
        .map(|c| parse_dur(&c))
        .unwrap_or(Duration::hours(preset.cooldown_hours));
    let list = args.iter().any(|a| a == "--list");
    // `--dump FILE`: every step's test as CSV (series, window end, observed, expected,
    // dispersion, p-value, label: 1 inside an incident, 0 outside, -1 in the first 15 %).
    let mut dump = arg("--dump").map(|f| {
        let mut w = std::io::BufWriter::new(std::fs::File::create(f).unwrap());
        writeln!(w, "series,end,observed,expected,dispersion,p,label").unwrap();
        w
    });

    let windows: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("windows.json")).unwrap()).unwrap();
    let mut names: Vec<&String> = windows.as_object().unwrap().keys().collect();
    names.sort();
    let (mut caught_all, mut incidents_all, mut false_all) = (0, 0, 0);
    let mut delays_all = Vec::new();
    println!(
        "volume_spike, window {} min, baseline {} h, cooldown {} h, sensitivity {sensitivity:?}, significance {:e}, min_lift {}",
        p.window.num_minutes(),
        p.baseline.num_hours(),
        cooldown.num_hours(),
        p.significance,
        p.min_lift
    );
    for name in names {
        let path = dir.join(format!("{name}.csv"));
        let text = std::fs::read_to_string(&path).unwrap();
        let mut points = Vec::new();
        let (mut first, mut last) = (i64::MAX, i64::MIN);
        for line in text.lines().skip(1) {
            let (ts, v) = line.split_once(',').unwrap();
            let t = NaiveDateTime::parse_from_str(ts, "%Y-%m-%d %H:%M:%S")
                .unwrap()
                .and_utc()
                .timestamp();
            let n: u64 = v.trim().parse().unwrap();
            for k in 0..n {
                points.push(Point {
                    t: t + ((k as f64 + 0.5) * 300.0 / n as f64) as i64,
                    code: 1,
                    reach: 0,
                });
            }
            first = first.min(t);
            last = last.max(t + 300);
        }
        points.sort_by_key(|q| q.t);
        let labelled: Vec<(DateTime<Utc>, DateTime<Utc>)> = windows[name]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| {
                let a = w[0].as_str().unwrap().parse().unwrap();
                let b = w[1].as_str().unwrap().parse().unwrap();
                (a, b)
            })
            .collect();
        // The whole series is replayed (the detector refuses to fire until it has a day of
        // history); alerts in the first 15 % are not counted as false (the baseline is being
        // learnt there), incidents are all counted.
        let begin = DateTime::from_timestamp(first, 0).unwrap();
        let start = DateTime::from_timestamp(first + (last - first) * 15 / 100, 0).unwrap();
        let end = DateTime::from_timestamp(last, 0).unwrap();
        let t0 = Instant::now();
        let hits = backtest_spikes(&points, false, &p, cooldown, begin, end);
        let took = t0.elapsed();
        if let Some(w) = dump.as_mut() {
            replay_spike_tests(&points, false, &p, begin, end, |t| {
                let e = t.window_end;
                let label = if labelled.iter().any(|(a, b)| e >= *a && e <= *b) {
                    1
                } else if e < start {
                    -1
                } else {
                    0
                };
                writeln!(
                    w,
                    "{name},{},{},{:.3},{:.4},{:.3e},{label}",
                    e.timestamp(),
                    t.observed_count,
                    t.expected_count,
                    t.dispersion,
                    t.p_value
                )
                .unwrap();
            });
        }
        let mut caught = vec![None; labelled.len()];
        let mut false_alerts = 0;
        for h in &hits {
            let inside = labelled
                .iter()
                .position(|(a, b)| h.fired_at >= *a && h.fired_at <= *b);
            match inside {
                Some(i) => {
                    if caught[i].is_none() {
                        caught[i] = Some(h.fired_at - labelled[i].0);
                    }
                }
                None if h.fired_at >= start => false_alerts += 1,
                None => {}
            }
            if list {
                println!(
                    "  {name} {} {:<9} {} {}",
                    h.fired_at.format("%a %Y-%m-%d %H:%M"),
                    h.update,
                    if inside.is_some() {
                        "INCIDENT"
                    } else {
                        "false   "
                    },
                    h.test.reason
                );
            }
        }
        let counted: Vec<usize> = (0..labelled.len()).collect();
        let n_caught = counted.iter().filter(|&&i| caught[i].is_some()).count();
        let delays: Vec<i64> = counted
            .iter()
            .filter_map(|&i| caught[i].map(|d| d.num_minutes()))
            .collect();
        delays_all.extend(&delays);
        println!(
            "{name:<5} {:>9} mentions  incidents caught {n_caught}/{}  alerts outside incidents {false_alerts:>3}  delays (min) {delays:?}  replay {:.2} s",
            points.len(),
            counted.len(),
            took.as_secs_f64()
        );
        caught_all += n_caught;
        incidents_all += counted.len();
        false_all += false_alerts;
    }
    delays_all.sort();
    let median = delays_all.get(delays_all.len() / 2).copied().unwrap_or(0);
    println!(
        "TOTAL incidents caught {caught_all}/{incidents_all}  alerts outside incidents {false_all}  median delay from window start {median} min"
    );
}
