//! The mains frequency each reading of a randomized loads set reports (`Reading::hz`, which
//! `ct-read` sends to every sink) against the generator's: per profile, how many readings
//! report one and how many lie within 0.01, 0.05 and 0.5 Hz, then the worst beyond 0.05 Hz.
//! `cargo run -p ct-golden --release --example hz_scan -- DIR...` (directories holding a
//! manifest.csv from `spicegen loads-random` or `spicegen loads --sweep households`). The
//! committed sets are held to it by `reported_mains_frequencies_are_near_the_truth`
//! (`golden/tests/accuracy_report.rs`).

use std::path::PathBuf;
fn main() {
    let dirs: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    if dirs.is_empty() {
        eprintln!("usage: hz_scan DIR... (directories holding a manifest.csv from spicegen)");
        std::process::exit(2);
    }
    for dir in &dirs {
        let rows = match ct_golden::random::evaluate_dir(dir) {
            Ok(rows) => rows,
            Err(e) => {
                eprintln!("{}: {e}", dir.display());
                std::process::exit(1);
            }
        };
        for profile in ["launchpad", "fast"] {
            let (mut n, mut c1, mut c2, mut c3) = (0, 0, 0, 0);
            let mut worst: Vec<(f64, String)> = Vec::new();
            for (case, row) in rows.iter().filter(|(_, r)| r.profile == profile) {
                for r in &row.readings {
                    let Some(hz) = r.hz else { continue };
                    n += 1;
                    let d = (hz - case.mains_hz).abs();
                    c1 += usize::from(d <= 0.01);
                    c2 += usize::from(d <= 0.05);
                    c3 += usize::from(d <= 0.5);
                    if d > 0.05 {
                        worst.push((
                            d,
                            format!(
                                "{} {:.0}-{:.0} s hz {hz:.3} truth {} read {:.3} truth {:.3} {:?} bound {:?}",
                                case.case, r.t0, r.t1, case.mains_hz, r.read_a, r.truth_a, r.flags, r.bound
                            ),
                        ));
                    }
                }
            }
            println!(
                "{} {profile}: {n} readings with hz; within 0.01 Hz {c1}, 0.05 Hz {c2}, 0.5 Hz {c3}",
                dir.display()
            );
            worst.sort_by(|a, b| b.0.total_cmp(&a.0));
            for (d, w) in worst.iter().take(12) {
                println!("  {d:.3} Hz off: {w}");
            }
        }
    }
}
