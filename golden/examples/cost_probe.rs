//! The loads goldens' household record through one estimator, once: what a profiler looks at
//! where the cost bench (`cargo bench -p ct-golden --bench loads_cost`) repeats it. On machines
//! without hardware counters (`perf stat` says `<not supported>`), instruction counts from
//! callgrind are steady where timings are not:
//!
//! `valgrind --tool=callgrind --toggle-collect='*Estimator*push*' target/release/examples/cost_probe fast`
//!
//! Arguments: the profile (`fast`, the default, or `launchpad`), the method (`invert`, the
//! default, or `table`), how many times to run the record (1 by default; each run through
//! an estimator made beforehand) and which of the loads goldens' records (the household by
//! default; another's name, e.g. `burst-50hz-11.9a-1on9off`, for what its windows cost). It
//! prints the CPU time per window of the runs (the estimators made beforehand not counted).
//! With a fifth argument `loop`, each run is the record's first two seconds (a whole number
//! of bursts for the loads goldens' heaters) repeated for a minute, and only its windows after
//! the first two are timed: what a heater that goes on bursting costs a window, its first
//! fit apart. The cost bench's figures (`loads_cost`) are the ones to quote; this one runs a
//! build at a time, so compare builds by alternating them. A sampling profiler, which has no toggle, wants many runs so
//! that the model's set-up and the record's parsing do not dominate:
//!
//! `perf record -e cpu-clock -g target/release/examples/cost_probe fast invert 200`

#[path = "../../core/benches/common/cost.rs"]
mod cost;

use ct_core::calibration::Calibration;
use ct_core::estimate::{Estimator, EstimatorConfig, Method};
use ct_golden::loads::{codes, loads_manifest, LoadCase};

fn main() {
    let profile = std::env::args().nth(1).unwrap_or_else(|| "fast".into());
    let method = match std::env::args().nth(2).as_deref() {
        None | Some("invert") => Method::Invert,
        Some("table") => Method::Table,
        Some(other) => {
            eprintln!("unknown method {other:?}: invert or table");
            std::process::exit(2);
        }
    };
    let Some(rate) = LoadCase::rate(&profile) else {
        eprintln!("unknown profile {profile:?}: fast or launchpad");
        std::process::exit(2);
    };
    let name = std::env::args().nth(4);
    let wanted = |c: &LoadCase| name.as_deref().map_or(c.kind == "household", |n| c.case == n);
    let case = loads_manifest().ok().and_then(|cases| cases.into_iter().find(wanted));
    let Some(case) = case else {
        eprintln!("no record {} in the loads goldens' manifest", name.as_deref().unwrap_or("of the household"));
        std::process::exit(1);
    };
    let codes = match codes(&case, &profile) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{}: {e}", case.case);
            std::process::exit(1);
        }
    };
    let runs = match std::env::args().nth(3).map(|r| r.parse::<usize>()) {
        None => 1,
        Some(Ok(r)) if r > 0 => r,
        Some(_) => {
            eprintln!("the number of runs must be a whole number above 0");
            std::process::exit(2);
        }
    };
    let looped = std::env::args().nth(5).as_deref() == Some("loop");
    let codes = if looped {
        let two = ((2.0 * rate) as usize).min(codes.len());
        codes[..two].repeat(30)
    } else {
        codes
    };
    // Windows skipped before the timing starts.
    let skip = if looped { 2 } else { 0 };
    let cfg = EstimatorConfig { method, ..EstimatorConfig::default() };
    let mut estimators: Vec<Estimator> =
        (0..runs).map(|_| Estimator::new(&Calibration::builtin(), rate, cfg)).collect();
    let (mut windows, mut timed, mut amp_seconds, mut cpu) = (0, 0, 0.0, 0.0);
    for est in &mut estimators {
        let (mut seen, mut from) = (0usize, cost::cpu_seconds());
        est.push(0.0, &codes, &mut |r| {
            windows += 1;
            seen += 1;
            amp_seconds += r.irms_a * r.duration_s;
            if seen == skip {
                from = cost::cpu_seconds();
            }
        });
        cpu += cost::cpu_seconds() - from;
        timed += seen.saturating_sub(skip);
    }
    println!(
        "{} {profile} {method:?}: {runs} runs, {windows} windows, {amp_seconds:.3} A s; {:.3} ms CPU a window over {timed}",
        case.case,
        1e3 * cpu / timed.max(1) as f64
    );
}
