//! `spicegen check`: regenerates goldens (and with `--full` the table) in memory, fails on drift
//! from the committed files, or if the committed table misses the accuracy targets.

use std::path::Path;

use anyhow::{Context, Result};

use crate::calibrate::{self, TABLE_HZ};
use crate::golden::{self, Case};
use crate::model::{Adc, ModelParams};
use crate::repo::Paths;
use crate::report::{band_check, band_frequencies, verify, BAND_AMPS};
use crate::sim::{run_jobs, Job};
use crate::table;

/// `check` accepts a regenerated table entry within this many amperes plus this fraction of the
/// committed value of the committed one.
const TABLE_TOL_A: f64 = 0.005;
const TABLE_TOL_REL: f64 = 0.005;
/// Cases `check` regenerates by default (all of them with `--full`): the ends and the middle of
/// the range at both frequencies, and every non-sine kind.
const CHECK_CASES: [&str; 11] = [
    "sine-50hz-0.2a",
    "sine-50hz-1a",
    "sine-50hz-3.4a",
    "sine-50hz-20a",
    "sine-50hz-95a",
    "sine-60hz-0.5a",
    "sine-60hz-73a",
    "smps-50hz-8a",
    "dimmer90-50hz-4a",
    "step-50hz-2a-10a",
    "zero-50hz",
];

/// Amplitudes `check` re-runs at the midpoints between columns.
const CHECK_BAND_AMPS: [f64; 2] = [0.5, 10.0];

/// Regenerate goldens (a subset unless `full`) and, with `full`, the tables; compare them with
/// the committed files, and check that the committed tables invert the regenerated waveforms
/// within the accuracy targets.
pub fn run(root: &Path, full: bool) -> Result<bool> {
    let p = Paths::new(root);
    let params = ModelParams::default();
    let adc = Adc::default();
    let mut ok = true;

    // The committed table: valid for the host's loader, one column per TABLE_HZ frequency.
    let text = std::fs::read_to_string(&p.table).with_context(|| p.table.display().to_string())?;
    if let Err(e) = ct_core::calibration::Calibration::parse(&text, &p.table.display().to_string()) {
        ok = false;
        eprintln!("BAD   {e}");
    }
    let columns = table::parse_csv_columns(&text).map_err(|e| anyhow::anyhow!("{}: {e}", p.table.display()))?;
    let hz: Vec<f64> = columns.iter().map(|c| c.hz).collect();
    if hz != TABLE_HZ {
        ok = false;
        eprintln!("BAD   {}: columns for {hz:?} Hz, expected {TABLE_HZ:?}", p.table.display());
    }
    for c in &columns {
        if let Err(why) = table::validate(&c.amps, adc.max_code()) {
            ok = false;
            eprintln!("BAD   {} ({} Hz column): {why}", p.table.display(), c.hz);
        }
    }
    if ok {
        eprintln!("ok    {} ({} columns, valid for the host's loader)", p.table.display(), columns.len());
    }

    if full {
        let fits = calibrate::fit_tables(&p.spice, params, &adc, &TABLE_HZ)?;
        for fit in &fits {
            let Some(committed) = columns.iter().find(|c| c.hz == fit.hz) else { continue };
            let worst = committed
                .amps
                .iter()
                .zip(&fit.table.amps)
                .enumerate()
                .map(|(code, (a, b))| (code, (a - b).abs() - (TABLE_TOL_A + TABLE_TOL_REL * a.abs())))
                .fold((0, f64::MIN), |m, x| if x.1 > m.1 { x } else { m });
            if committed.amps.len() != fit.table.amps.len() || worst.1 > 0.0 {
                ok = false;
                eprintln!(
                    "DRIFT {} ({} Hz column): code {} differs by more than {TABLE_TOL_A} A + {} % (rows {} vs {})",
                    p.table.display(),
                    fit.hz,
                    worst.0,
                    TABLE_TOL_REL * 100.0,
                    committed.amps.len(),
                    fit.table.amps.len()
                );
            } else {
                eprintln!("ok    {} ({} Hz column regenerated)", p.table.display(), fit.hz);
            }
        }
    }

    let all_cases = golden::cases();
    let manifest_path = p.golden.join("manifest.csv");
    let committed = std::fs::read_to_string(&manifest_path).unwrap_or_default();
    if committed != golden::manifest(&all_cases) {
        ok = false;
        eprintln!("DRIFT {}: differs from the case matrix", manifest_path.display());
    }
    // Files not regenerated this time must still be complete.
    for case in all_cases.iter().filter(|c| !(full || CHECK_CASES.contains(&c.name.as_str()))) {
        let path = p.golden.join(case.file_name());
        let expected = case.cycles * case.points_per_cycle;
        let n = std::fs::read_to_string(&path)
            .map_err(anyhow::Error::from)
            .and_then(|t| golden::parse_values(&t))
            .map(|v| v.len());
        match n {
            Ok(n) if n == expected => {}
            Ok(n) => {
                ok = false;
                eprintln!("DRIFT {}: {n} samples, expected {expected}", path.display());
            }
            Err(e) => {
                ok = false;
                eprintln!("DRIFT {}: {e:#}", path.display());
            }
        }
    }
    let cases: Vec<Case> = all_cases.into_iter().filter(|c| full || CHECK_CASES.contains(&c.name.as_str())).collect();
    let jobs: Vec<Job> = cases.iter().map(|c| c.job(params)).collect();
    let records = run_jobs(&p.spice, &jobs, "golden waveforms")?;
    for (case, rec) in cases.iter().zip(&records) {
        let path = p.golden.join(case.file_name());
        let text = golden::render(case, rec, &params, &adc);
        match golden::compare(&path, &text) {
            Ok(d) if d <= golden::TOLERANCE_MV => {
                eprintln!("ok    {} (max difference {d:.2} mV)", path.display());
            }
            Ok(d) => {
                ok = false;
                eprintln!("DRIFT {}: max difference {d:.2} mV > {} mV", path.display(), golden::TOLERANCE_MV);
            }
            Err(e) => {
                ok = false;
                eprintln!("DRIFT {e:#}");
            }
        }
    }
    eprintln!(
        "compared {} regenerated golden files (tolerance {} mV){}",
        cases.len(),
        golden::TOLERANCE_MV,
        if full { format!(" and {} regenerated table columns", TABLE_HZ.len()) } else { String::new() }
    );

    let v = verify(&cases, &records, &columns, &adc);
    eprint!("{}", v.text);
    if !v.within_targets {
        ok = false;
        eprintln!("FAIL: the committed table misses an accuracy target at a golden case's mains frequency");
    }
    // Interpolation between the columns: every midpoint (and, with --full, every column and
    // amplitude of the band table).
    let (band_amps, band_hz) = if full {
        (BAND_AMPS.to_vec(), band_frequencies())
    } else {
        (CHECK_BAND_AMPS.to_vec(), calibrate::midpoints(&TABLE_HZ))
    };
    let band = band_check(&p.spice, params, &adc, &columns, &band_amps, &band_hz)?;
    eprint!("{}", band.text);
    if !band.within_targets {
        ok = false;
        eprintln!("FAIL: the committed table, interpolated between its columns, misses an accuracy target");
    }
    eprintln!("{}", if ok { "check passed" } else { "check FAILED" });
    Ok(ok)
}
