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
                Method::Invert => 20,
                Method::Fit => 1,
            };
            let (ms, windows) = cost::ms_per_window(&Calibration::builtin(), rate, cfg, &codes, runs, 5);
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
