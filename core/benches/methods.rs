//! Cost of each estimation method per 1 s window, side by side on the same codes, at both
//! link rates, on a load that changes every window (so nothing can be reused from the last
//! window): `cargo bench -p ct-core --bench methods`.
//!
//! Timed by the thread's CPU time, as every cost bench is (`benches/common/cost.rs`).
//!
//! The codes are the clamp model's response (the same model the virtual device uses) to a
//! switch-mode supply whose level changes every second, with a resistive load switching on
//! and off in whole cycles (burst fire) inside every other window.

#[path = "common/cost.rs"]
mod cost;

use ct_core::calibration::Calibration;
use ct_core::clamp_model::{CtModel, CtParams};
use ct_core::estimate::{EstimatorConfig, Method};
use ct_core::load_shape::{unit_shape, Shape};

const SECONDS: usize = 60;

fn codes(rate: f64) -> Vec<u16> {
    let p = CtParams::default();
    let model = CtModel::new(p).expect("default parameters");
    let l = 1024;
    let hz = 50.0;
    let cycle = |smps_a: f64, heater_a: f64| -> Vec<f64> {
        let is: Vec<f64> = (0..l)
            .map(|k| {
                let ph = k as f64 / l as f64;
                (smps_a * unit_shape(Shape::Smps, ph) + heater_a * unit_shape(Shape::Sine, ph)) / p.turns
            })
            .collect();
        model.steady_state(&is, hz).v_adc
    };
    let mut out = Vec::new();
    for s in 0..SECONDS {
        let smps = 1.0 + 0.37 * (s % 7) as f64;
        let off = cycle(smps, 0.0);
        let on = cycle(smps, if s % 2 == 0 { 9.0 } else { 0.0 });
        let n0 = (s as f64 * rate) as usize;
        let n1 = ((s + 1) as f64 * rate) as usize;
        for k in n0..n1 {
            let t = k as f64 / rate;
            let ph = (t * hz).fract();
            let v = if ((t * hz) as usize).is_multiple_of(3) { &on } else { &off };
            out.push((1023.0 * v[(ph * l as f64) as usize] / 2.5).round().clamp(0.0, 1023.0) as u16);
        }
    }
    out
}

fn main() {
    let cal = Calibration::builtin();
    for (name, rate) in [("launchpad", 1e6 / 1657.0), ("fast", 1e6 / 122.0)] {
        let codes = codes(rate);
        let mut per_window = Vec::new();
        for method in [Method::Table, Method::Invert, Method::Fit] {
            let cfg = EstimatorConfig { method, ..EstimatorConfig::default() };
            // Best of three batches, each running the codes through enough estimators (made
            // beforehand) to take tens of milliseconds, as the kernel's CPU clock moves in
            // scheduler ticks.
            let runs = match method {
                Method::Table => 40,
                Method::Invert => 2,
                Method::Fit => 1,
            };
            let (ms, windows) = cost::ms_per_window(&cal, rate, cfg, &codes, runs, 3);
            per_window.push(ms);
            println!("{name:>9} ({rate:7.1} Sa/s) {method:?}: {ms:8.3} ms per 1 s window ({windows} windows)");
        }
        println!(
            "{name:>9}: invert / table = {:.1}x, fit / table = {:.1}x; a day of windows by invert: {:.0} s",
            per_window[1] / per_window[0],
            per_window[2] / per_window[0],
            per_window[1] * 86400.0 / 1e3
        );
    }
}
