//! Cost per 1 s window of each estimation method on the loads goldens' mixed household record
//! (`golden/data/loads/household-50hz-25s`: a fridge with inrush, a kettle, switch-mode
//! supplies and a burst-fire heater, changing every few seconds), side by side in one run:
//! `cargo bench -p ct-golden --bench loads_cost`.
//!
//! Timed by the thread's CPU time, as every cost bench is (`core/benches/common/cost.rs`).

#[path = "../../core/benches/common/cost.rs"]
mod cost;

use ct_core::calibration::Calibration;
use ct_core::estimate::{EstimatorConfig, Method};
use ct_golden::loads::{codes, loads_manifest, LoadCase};

/// Batches of each of table and invert, in turns.
const BATCHES: usize = 15;

fn main() {
    let cases = loads_manifest().expect("loads manifest");
    let case = cases.iter().find(|c| c.kind == "household").expect("the household record");
    for profile in ["launchpad", "fast"] {
        let rate = LoadCase::rate(profile).expect("profile");
        let codes = codes(case, profile).expect("codes");
        // Table and invert timed in turns, a batch of each at a time, the best of each kept:
        // on a virtual machine whose host takes cycles from it (half, at times, on the
        // machines these figures come from), a batch of one timed a few seconds after the
        // other's put the ratio anywhere from 9x to 13x run to run.
        let methods = [(Method::Table, 100), (Method::Invert, 20)];
        let mut per_window = [f64::MAX; 2];
        let mut windows = 0;
        for _ in 0..BATCHES {
            for (best, &(method, runs)) in per_window.iter_mut().zip(&methods) {
                let cfg = EstimatorConfig { method, ..EstimatorConfig::default() };
                let (ms, count) = cost::ms_per_window(&Calibration::builtin(), rate, cfg, &codes, runs, 1);
                *best = best.min(ms);
                windows = count;
            }
        }
        let report = |method: Method, ms: f64, windows: usize| {
            println!("household record, {profile:>9} ({rate:7.1} Sa/s) {method:?}: {ms:7.3} ms per 1 s window ({windows} windows)");
        };
        for (&ms, (method, _)) in per_window.iter().zip(methods) {
            report(method, ms, windows);
        }
        let cfg = EstimatorConfig { method: Method::Fit, ..EstimatorConfig::default() };
        let (ms, windows) = cost::ms_per_window(&Calibration::builtin(), rate, cfg, &codes, 1, 5);
        report(Method::Fit, ms, windows);
        println!(
            "household record, {profile:>9}: invert / table = {:.1}x; a day of 1 s windows by invert: {:.0} s",
            per_window[1] / per_window[0],
            per_window[1] * 86.4
        );
    }
}
