//! The default method on a randomized loads set made elsewhere (`spicegen loads-random --seed S
//! --out DIR`), judged as `randomized_loads_are_right_or_say_so` judges the committed halves:
//! the per-class table, then every reading outside its target without a bound or outside its
//! own bound, and every record energy outside both 1 % and its bound.
//!
//! A set made with a fresh seed is the honest check of a change tuned on the committed dev
//! half: `cargo run -p ct-golden --release --example random_set -- DIR/dev DIR/heldout`.
//! With `RECORDS=1` in the environment it also lists each record's energy error and bound,
//! which is how a change in a class's worst energy is traced to its record; with
//! `READINGS=1`, every reading (its span, truth, reading, error, bound and flags), one a
//! line, which is how two builds are compared reading by reading on the same set. With
//! `PROFILE=fast` (or `launchpad`), only that link profile's readings.

use std::path::PathBuf;

use ct_golden::random::{evaluate_dir_at, failures, markdown};
use ct_golden::PROFILES;

fn main() {
    let dirs: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    if dirs.is_empty() {
        eprintln!("usage: random_set DIR... (directories holding a manifest.csv from spicegen loads-random)");
        std::process::exit(2);
    }
    let only = std::env::var("PROFILE").ok();
    let profiles: Vec<&str> =
        PROFILES.iter().map(|p| p.0).filter(|p| only.as_deref().is_none_or(|o| o == *p)).collect();
    if profiles.is_empty() {
        eprintln!("PROFILE={}: no such link profile (launchpad or fast)", only.unwrap_or_default());
        std::process::exit(2);
    }
    let mut failed = 0;
    for dir in &dirs {
        let rows = match evaluate_dir_at(dir, &profiles) {
            Ok(rows) => rows,
            Err(e) => {
                eprintln!("{}: {e}", dir.display());
                std::process::exit(1);
            }
        };
        println!("## {}\n\n{}", dir.display(), markdown(&rows));
        if std::env::var_os("RECORDS").is_some() {
            for (_, row) in &rows {
                let bound = row.energy_bound.map_or("-".to_string(), |b| format!("{:.1} %", 100.0 * b));
                println!(
                    "record {} {}: energy {:+.2} %, bound {bound}",
                    row.case,
                    row.profile,
                    100.0 * row.energy_error
                );
            }
            println!();
        }
        if std::env::var_os("READINGS").is_some() {
            for (_, row) in &rows {
                for r in &row.readings {
                    let error = r.rel().map_or("-".to_string(), |e| format!("{:+.3} %", 100.0 * e));
                    let bound = r.bound.map_or("-".to_string(), |b| format!("{:.1} %", 100.0 * b));
                    println!(
                        "reading {} {} {:.3}-{:.3} s: truth {:.4} A, read {:.4} A, error {error}, bound {bound}, change {}, {:?}",
                        row.case, row.profile, r.t0, r.t1, r.truth_a, r.read_a, r.change, r.flags
                    );
                }
            }
            println!();
        }
        let f = failures(&rows);
        for line in &f {
            println!("- {line}");
        }
        println!("\n{} failures\n", f.len());
        failed += f.len();
    }
    std::process::exit(if failed == 0 { 0 } else { 1 });
}
