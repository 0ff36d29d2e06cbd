//! What the cost benchmarks share (`core/benches/methods.rs`, `golden/benches/loads_cost.rs`,
//! `host/benches/capture_export.rs`, the last two including this file by path): one clock and
//! one way of timing a method per window, so their figures compare.
//!
//! Timed by the thread's CPU time (Linux's `/proc/thread-self/schedstat`; wall time where that
//! is missing): on a machine shared with other work, wall time counts the waits for a core, and
//! the ratios of methods measured a few seconds apart swung by 2-4x with the load.

#![allow(dead_code)]

use std::time::Instant;

use ct_core::calibration::Calibration;
use ct_core::estimate::{Estimator, EstimatorConfig};

/// Seconds of CPU time this thread has run (as the kernel last accounted it, at a scheduler
/// tick or switch), or of wall time since the first call where the kernel does not say.
pub fn cpu_seconds() -> f64 {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map_or_else(|| START.get_or_init(Instant::now).elapsed().as_secs_f64(), |ns| ns * 1e-9)
}

/// Milliseconds of CPU time per reading window for `codes` at `rate` with `cfg`, and the
/// windows in the record: best of `batches` batches, each running the record through `runs`
/// estimators made beforehand. A batch should take tens of milliseconds, as the kernel's CPU
/// clock moves in scheduler ticks; the best batch is the cost, not the machine's noise.
pub fn ms_per_window(
    cal: &Calibration,
    rate: f64,
    cfg: EstimatorConfig,
    codes: &[u16],
    runs: usize,
    batches: usize,
) -> (f64, usize) {
    let (mut best, mut windows) = (f64::MAX, 0usize);
    for _ in 0..batches {
        let mut ests: Vec<Estimator> = (0..runs).map(|_| Estimator::new(cal, rate, cfg)).collect();
        let mut count = 0usize;
        let t = cpu_seconds();
        for est in &mut ests {
            est.push(0.0, codes, &mut |_| count += 1);
        }
        best = best.min((cpu_seconds() - t) / runs as f64);
        windows = count / runs;
    }
    (best * 1e3 / windows.max(1) as f64, windows)
}
