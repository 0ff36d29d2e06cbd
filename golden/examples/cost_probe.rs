//! The loads goldens' household record through one estimator, once: what a profiler looks at
//! where the cost bench (`cargo bench -p ct-golden --bench loads_cost`) repeats it. On machines
//! without hardware counters (`perf stat` says `<not supported>`), instruction counts from
//! callgrind are steady where timings are not:
//!
//! `valgrind --tool=callgrind --toggle-collect='*Estimator*push*' target/release/examples/cost_probe fast`
//!
//! Arguments: the profile (`fast`, the default, or `launchpad`), the method (`invert`, the
//! default, or `table`) and how many times to run the record (1 by default; each run through
//! an estimator made beforehand). A sampling profiler, which has no toggle, wants many runs so
//! that the model's set-up and the record's parsing do not dominate:
//!
//! `perf record -e cpu-clock -g target/release/examples/cost_probe fast invert 200`

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
    let case = loads_manifest().ok().and_then(|cases| cases.into_iter().find(|c| c.kind == "household"));
    let Some(case) = case else {
        eprintln!("no household record in the loads goldens' manifest");
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
    let cfg = EstimatorConfig { method, ..EstimatorConfig::default() };
    let mut estimators: Vec<Estimator> =
        (0..runs).map(|_| Estimator::new(&Calibration::builtin(), rate, cfg)).collect();
    let (mut windows, mut amp_seconds) = (0, 0.0);
    for est in &mut estimators {
        est.push(0.0, &codes, &mut |r| {
            windows += 1;
            amp_seconds += r.irms_a * r.duration_s;
        });
    }
    println!("{} {profile} {method:?}: {runs} runs, {windows} windows, {amp_seconds:.3} A s", case.case);
}
