//! Readings when the sample clock they are read at is off by what its measurement leaves
//! (`ct_core::sample_clock`: settled within 35 ppm): every loads golden and both randomized
//! halves, both profiles, read at the nominal rate and at ±`PPM` ppm, each reading judged by
//! the accuracy rule against the truth over its own span. The cycles per sample the
//! estimator sees do not change (the rate and the measured frequency scale together); what
//! does is where windows fall (a window's length in samples is rounded from the rate: 604
//! samples at 603.5 Sa/s, 603 at 35 ppm less) and the frequency search's grid. Also: the
//! largest change of a reading of the same samples (unflagged, flagged) and of a record's
//! energy: `cargo run -p ct-golden --release --example clock_sensitivity [PPM]`.

use ct_core::calibration::Calibration;
use ct_core::estimate::{Estimator, EstimatorConfig, Reading};
use ct_golden::loads::{loads_manifest, manifest_in, random_dir, read_case, LoadCase, ReadingError};
use ct_golden::random::{class, verdict, Verdict};

fn read(case: &LoadCase, profile: &str, ppm: f64) -> Vec<Reading> {
    let nominal = LoadCase::rate(profile).expect("profile");
    let cfg = EstimatorConfig { clamp_lm_h: (case.lm_h != 0.6).then_some(case.lm_h), ..EstimatorConfig::default() };
    let at_clock = |est: &mut Estimator| {
        if ppm != 0.0 {
            est.set_clock(nominal * (1.0 + ppm * 1e-6), Some(ppm));
        }
    };
    read_case(case, profile, &Calibration::builtin(), cfg, at_clock).unwrap_or_else(|e| {
        eprintln!("{}: {e}", case.case);
        std::process::exit(1)
    })
}

fn main() {
    let ppm: f64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(35.0);
    let mut cases = loads_manifest().expect("loads manifest");
    for half in ["dev", "heldout"] {
        cases.extend(manifest_in(&random_dir(half)).expect("randomized manifest"));
    }
    // (class, profile) -> (worst unflagged change, worst flagged change, worst energy change)
    let mut rows: std::collections::BTreeMap<(String, &str), (f64, f64, f64)> = Default::default();
    // Per clock offset and profile: readings judged, bounds broken, unflagged misses.
    let mut judged: std::collections::BTreeMap<(i64, &str), (usize, usize, usize)> = Default::default();
    for case in cases.iter().filter(|c| !ct_golden::loads::is_calibration_point(c)) {
        for profile in ["launchpad", "fast"] {
            let base = read(case, profile, 0.0);
            for (off, rs) in [(0.0, base.clone()), (ppm, read(case, profile, ppm)), (-ppm, read(case, profile, -ppm))] {
                let j = judged.entry((off as i64, profile)).or_default();
                for r in &rs {
                    // The reading's own span on the device's clock (the estimator's is off by `off`).
                    let k = 1.0 + off * 1e-6;
                    let (t0, t1) = ((r.t_s - r.duration_s) * k, r.t_s * k);
                    let e = ReadingError::of(case, r, t0, t1);
                    j.0 += 1;
                    let v = verdict(&case.kind, &e);
                    match v {
                        Verdict::FlagBoundBroken => j.1 += 1,
                        Verdict::Unflagged => j.2 += 1,
                        _ => {}
                    }
                    if matches!(v, Verdict::FlagBoundBroken | Verdict::Unflagged) {
                        eprintln!(
                            "{v:?}: {} {profile} at {off:+} ppm, {t0:.2}-{t1:.2} s: read {:.4} A, truth {:.4} A ({:+.2} %), flags [{}], bound {:?}",
                            case.case,
                            e.read_a,
                            e.truth_a,
                            e.rel().unwrap_or(f64::NAN) * 100.0,
                            e.flags.to_text(),
                            e.bound
                        );
                    }
                }
            }
            let row = rows.entry((class(case), profile)).or_default();
            // Readings of the same samples: the window's length in samples is rounded from the
            // rate, so at another clock the windows can fall elsewhere.
            let spans = |rs: &[Reading]| {
                let mut at = 0;
                rs.iter()
                    .map(|r| {
                        at += r.samples;
                        (at - r.samples, r.samples)
                    })
                    .collect::<Vec<_>>()
            };
            for moved in [read(case, profile, ppm), read(case, profile, -ppm)] {
                let (sa, sb) = (spans(&base), spans(&moved));
                let pairs =
                    base.iter().zip(&sa).filter_map(|(a, s)| sb.iter().position(|t| t == s).map(|i| (a, &moved[i])));
                for (a, b) in pairs {
                    if a.irms_a < 0.2 || a.flags.short {
                        continue;
                    }
                    let d = (b.irms_a / a.irms_a - 1.0).abs();
                    if std::env::var_os("CT_SHOW").is_some() && d > 0.05 {
                        eprintln!(
                            "{} {profile} {:.2}: {:.4} A [{}] {:?} hz {:?} -> {:.4} A [{}] {:?} hz {:?}",
                            case.case,
                            a.t_s,
                            a.irms_a,
                            a.flags.to_text(),
                            a.bound_pct,
                            a.hz,
                            b.irms_a,
                            b.flags.to_text(),
                            b.bound_pct,
                            b.hz
                        );
                    }
                    if a.flags.changing || a.flags.approx {
                        row.1 = row.1.max(d);
                    } else {
                        row.0 = row.0.max(d);
                    }
                }
                // A record's energy in ampere-samples, the same samples either way.
                let energy = |rs: &[Reading]| rs.iter().map(|r| r.irms_a * r.samples as f64).sum::<f64>();
                if energy(&base) > 0.0 {
                    row.2 = row.2.max((energy(&moved) / energy(&base) - 1.0).abs());
                }
            }
        }
    }
    println!("Every reading judged as `randomized_loads_are_right_or_say_so` judges it, at each clock:\n");
    println!("| clock | profile | readings | bound broken | unflagged miss |");
    println!("|---|---|---|---|---|");
    for ((off, profile), (n, broken, unflagged)) in &judged {
        println!("| {off:+} ppm | {profile} | {n} | {broken} | {unflagged} |");
    }
    println!(
        "\nReadings (>= 0.2 A) of the same samples read at the nominal clock and at ±{ppm} ppm, largest change:\n"
    );
    println!("| class | profile | unflagged reading | flagged reading | record energy |");
    println!("|---|---|---|---|---|");
    for ((class, profile), (u, f, e)) in &rows {
        println!("| {class} | {profile} | {:.2} % | {:.2} % | {:.2} % |", u * 100.0, f * 100.0, e * 100.0);
    }
}
