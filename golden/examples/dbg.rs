use ct_core::estimate::{EstimatorConfig, Method};
use ct_golden::loads::*;
fn main() {
    let cases = loads_manifest().unwrap();
    let want: Vec<String> = std::env::args().skip(1).collect();
    for case in cases.iter().filter(|c| want.iter().any(|w| c.case.contains(w.as_str()))) {
        for profile in ["launchpad", "fast"] {
            for method in [Method::Invert, Method::Table] {
                let row = evaluate_with(case, profile, EstimatorConfig { method, ..Default::default() }).unwrap();
                println!(
                    "{} {profile} {method:?} energy {:+.2}%: {}",
                    case.case,
                    row.energy_error * 100.0,
                    row.readings
                        .iter()
                        .map(|e| format!("{:+.2}%[{}]", e.rel().unwrap_or(f64::NAN) * 100.0, e.flags.to_text()))
                        .collect::<Vec<_>>()
                        .join(" ")
                );
            }
        }
    }
}
