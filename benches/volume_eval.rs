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
//! still being learnt before). Prints per series and in total: incidents caught, alerts outside
//! incidents, median delay from window start to the first alert, and the replay time.
//! `--list` prints every alert with its test; `--dump FILE` writes every step's test as CSV.
//!
//! This reads the shared data from its place; nothing of it is copied into the repository.
use chrono::Duration;
use hark::alerts::detect::{Preset, Sensitivity, SpikeParams};
use hark::alerts::engine::{backtest_spikes, replay_spike_tests};
use hark::alerts::evaluate::{Score, incident_windows, score, volume_series};
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
    let cooldown = arg("--cooldown")
        .map(|c| parse_dur(&c))
        .unwrap_or(Duration::hours(
            Preset::of(false, sensitivity).cooldown_hours,
        ));
    let list = args.iter().any(|a| a == "--list");
    let mut dump = arg("--dump").map(|f| {
        let mut w = std::io::BufWriter::new(std::fs::File::create(f).unwrap());
        writeln!(w, "series,end,observed,expected,dispersion,p,label").unwrap();
        w
    });

    let windows =
        incident_windows(&std::fs::read_to_string(dir.join("windows.json")).unwrap()).unwrap();
    println!(
        "volume_spike, window {} min, baseline {} h, cooldown {} h, sensitivity {sensitivity:?}, significance {:e}, min_lift {}",
        p.window.num_minutes(),
        p.baseline.num_hours(),
        cooldown.num_hours(),
        p.significance,
        p.min_lift
    );
    let mut total = Score::default();
    for (name, labelled) in &windows {
        let path = dir.join(format!("{name}.csv"));
        let s = volume_series(&std::fs::read_to_string(&path).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        // The whole series is replayed (the detector refuses to fire until it has a day of
        // history); alerts in the first 15 % are not counted as false.
        let learn_until = s.first + (s.last - s.first) * 15 / 100;
        let t0 = Instant::now();
        let hits = backtest_spikes(&s.points, false, &p, cooldown, s.first, s.last);
        let took = t0.elapsed();
        if let Some(w) = dump.as_mut() {
            replay_spike_tests(&s.points, false, &p, s.first, s.last, |t| {
                let e = t.window_end;
                let label = if labelled.iter().any(|(a, b)| e >= *a && e <= *b) {
                    1
                } else if e < learn_until {
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
        if list {
            for h in &hits {
                let inside = labelled
                    .iter()
                    .any(|(a, b)| h.fired_at >= *a && h.fired_at <= *b);
                println!(
                    "  {name} {} {:<9} {} {}",
                    h.fired_at.format("%a %Y-%m-%d %H:%M"),
                    h.update,
                    if inside { "INCIDENT" } else { "false   " },
                    h.test.reason
                );
            }
        }
        let fired: Vec<_> = hits.iter().map(|h| h.fired_at).collect();
        let sc = score(&fired, labelled, learn_until);
        println!(
            "{name:<5} {:>9} mentions  incidents caught {}/{}  alerts outside incidents {:>3}  delays (min) {:?}  replay {:.2} s",
            s.points.len(),
            sc.caught,
            sc.incidents,
            sc.false_alerts,
            sc.delays
                .iter()
                .map(|d| d.num_minutes())
                .collect::<Vec<_>>(),
            took.as_secs_f64()
        );
        total.add(&sc);
    }
    println!(
        "TOTAL incidents caught {}/{}  alerts outside incidents {}  median delay from window start {} min",
        total.caught,
        total.incidents,
        total.false_alerts,
        total.median_delay().num_minutes()
    );
}
