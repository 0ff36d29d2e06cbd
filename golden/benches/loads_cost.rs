//! Cost per 1 s window of each estimation method on the loads goldens' mixed household record
//! (`golden/data/loads/household-50hz-25s`: a fridge with inrush, a kettle, switch-mode
//! supplies and a burst-fire heater, changing every few seconds), side by side in one run:
//! `cargo bench -p ct-golden --bench loads_cost`.
//!
//! Timed by the thread's CPU time (Linux's `/proc/thread-self/schedstat`; wall time where that
//! is missing): on a machine shared with other work, wall time counts the waits for a core, and
//! the ratios of methods measured a few seconds apart swung by 2-4x with the load.

use std::time::Instant;

use ct_core::calibration::Calibration;
use ct_core::estimate::{Estimator, EstimatorConfig, Method};
use ct_golden::loads::{codes, loads_manifest, LoadCase};

fn main() {
    let cases = loads_manifest().expect("loads manifest");
    let case = cases.iter().find(|c| c.kind == "household").expect("the household record");
    for profile in ["launchpad", "fast"] {
        let rate = LoadCase::rate(profile).expect("profile");
        let codes = codes(case, profile).expect("codes");
        let mut per_window = Vec::new();
        for method in [Method::Table, Method::Invert, Method::Fit] {
            let cfg = EstimatorConfig { method, ..EstimatorConfig::default() };
            // Best of five batches: the figure is the cost, not the machine's noise. A batch
            // runs the record through enough estimators (made beforehand) to take tens of
            // milliseconds, as the kernel's CPU clock moves in scheduler ticks.
            let runs = match method {
                Method::Table => 100,
                Method::Invert => 5,
                Method::Fit => 1,
            };
            let mut best = f64::MAX;
            let mut windows = 0;
            for _ in 0..5 {
                let mut ests: Vec<Estimator> =
                    (0..runs).map(|_| Estimator::new(&Calibration::builtin(), rate, cfg)).collect();
                let mut count = 0;
                let t = seconds();
                for est in &mut ests {
                    est.push(0.0, &codes, &mut |_| count += 1);
                }
                best = best.min((seconds() - t) / runs as f64);
                windows = count / runs;
            }
            let ms = best * 1e3 / windows.max(1) as f64;
            per_window.push(ms);
            println!("household record, {profile:>9} ({rate:7.1} Sa/s) {method:?}: {ms:7.3} ms per 1 s window ({windows} windows)");
        }
        println!(
            "household record, {profile:>9}: invert / table = {:.1}x; a day of 1 s windows by invert: {:.0} s",
            per_window[1] / per_window[0],
            per_window[1] * 86.4
        );
    }
}

/// Seconds of CPU time this thread has run (as the kernel last accounted it, at a scheduler
/// tick or switch), or of wall time since the first call where the kernel does not say.
fn seconds() -> f64 {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map_or_else(|| START.get_or_init(Instant::now).elapsed().as_secs_f64(), |ns| ns * 1e-9)
}
