//! Every reading of the loads cases (randomized or not) whose name holds a text, at one
//! profile, beside its truth and the evidence its bound was stated from (`ct_core::bound`):
//! `cargo run -p ct-golden --release --example explain -- DIR CASE-TEXT PROFILE [LM_H]`, with
//! `LM_H` the clamp's inductance if the estimator is to be told it, and `PPM=N` in the
//! environment to read at a clock measured N ppm off nominal. A clamp other than the built-in
//! one is read through the table its calibration records give, as `random_set` reads it. How
//! a reading outside its bound is taken apart.

use ct_core::calibration::Calibration;
use ct_core::estimate::{Estimator, EstimatorConfig};
use ct_golden::loads::{calibrated, codes, is_calibration_point, manifest_in, true_rms, LoadCase, WINDOW_S};

fn main() {
    use std::io::Write as _;
    // A closed pipe (`| head`) ends the output quietly.
    let mut out = std::io::stdout().lock();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (dir, name, profile, lm) = match args.as_slice() {
        [d, n, p] => (d, n, p, None),
        [d, n, p, lm] => (d, n, p, lm.parse::<f64>().ok()),
        _ => {
            eprintln!("usage: explain DIR CASE-TEXT PROFILE [LM_H]");
            std::process::exit(2);
        }
    };
    let profile: &'static str = if profile == "fast" { "fast" } else { "launchpad" };
    // `PPM=35` reads the samples as if the device's clock had been measured that far off
    // nominal, as `clock_sensitivity` does: the windows fall elsewhere.
    let ppm = std::env::var("PPM").ok().and_then(|p| p.parse::<f64>().ok());
    let cases = match manifest_in(std::path::Path::new(dir)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{dir}: {e}");
            std::process::exit(1);
        }
    };
    for case in cases.iter().filter(|c| c.case.contains(name.as_str())) {
        let rate = LoadCase::rate(profile).unwrap();
        let codes = match codes(case, profile) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("{}: {e}", case.case);
                std::process::exit(1);
            }
        };
        let cfg = EstimatorConfig { window_s: WINDOW_S, clamp_lm_h: lm, ..EstimatorConfig::default() };
        let table = if case.lm_h == 0.6 || is_calibration_point(case) {
            Calibration::builtin()
        } else {
            match calibrated(&cases, case.lm_h, profile) {
                Ok(outcome) => outcome.table,
                Err(e) => {
                    eprintln!("{}: {e}", case.case);
                    std::process::exit(1);
                }
            }
        };
        let mut est = Estimator::new(&table, rate, cfg);
        if let Some(ppm) = ppm {
            est.set_clock(rate * (1.0 + ppm * 1e-6), Some(ppm));
        }
        if writeln!(out, "{} {profile}", case.case).is_err() {
            return;
        }
        let mut rows = Vec::new();
        let mut on = |r: ct_core::estimate::Reading, e: ct_core::bound::Evidence| rows.push((r, e));
        let mut t = case.first_sample_s;
        for chunk in codes.chunks(64) {
            let mut got = Vec::new();
            est.push(t, chunk, &mut |r| got.push(r));
            for r in got {
                on(r, *est.evidence());
            }
            t += chunk.len() as f64 / rate;
        }
        let mut got = Vec::new();
        est.flush(&mut |r| got.push(r));
        for r in got {
            on(r, *est.evidence());
        }
        for (r, e) in rows {
            let (t0, t1) = (r.t_s - r.duration_s, r.t_s);
            let truth = true_rms(case, t0, t1);
            if writeln!(
                out,
                "{t0:6.2}-{t1:6.2} read {:8.4} truth {:8.4} err {:+7.2} % bound {:>11} hz {:7.3} {:<16} | table {:+6.1} % static {:+6.1} % unres {:.2} gap {:3.0} cond {:.2} bunched {} narrow {:.2} over {:.2}",
                r.irms_a,
                truth,
                100.0 * (r.irms_a / truth - 1.0),
                // The low side where it is stated apart (`/` then how far below the truth).
                match (r.bound_pct, r.bound_below_pct) {
                    (Some(b), Some(l)) => format!("{b:.1}/{l:.1}"),
                    (Some(b), None) => format!("{b:.1}"),
                    _ => "-".into(),
                },
                r.hz.unwrap_or(0.0),
                r.flags.to_text(),
                100.0 * (e.table / e.reading - 1.0),
                100.0 * (e.static_over_read - 1.0),
                e.unresolved,
                e.gap_deg,
                e.conduction,
                e.bunched,
                e.narrow_as_table,
                e.unseen_over_read
            )
            .is_err()
            {
                return;
            }
        }
    }
}
