//! Cost per 1 s window of each estimation method on the loads goldens' mixed household record
//! (`golden/data/loads/household-50hz-25s`: a fridge with inrush, a kettle, switch-mode
//! supplies and a burst-fire heater, changing every few seconds), side by side in one run:
//! `cargo bench -p ct-golden --bench loads_cost`.

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
            // Best of five runs: the figure is the cost, not the machine's noise.
            let mut best = f64::MAX;
            let mut windows = 0;
            for _ in 0..5 {
                let mut est = Estimator::new(&Calibration::builtin(), rate, cfg);
                windows = 0;
                let t = Instant::now();
                est.push(0.0, &codes, &mut |_| windows += 1);
                best = best.min(t.elapsed().as_secs_f64());
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
