//! The report sections `all` writes into spice/results.md and `check` prints: the
//! simulate-then-invert verification of the golden records, and the frequency-band check of
//! the table's columns and the interpolation between them.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;

use crate::calibrate::{self, error_pct, inverted_rms, target_pct, TABLE_HZ};
use crate::golden::{Case, Kind};
use crate::model::{Adc, ModelParams};
use crate::sim::{run_jobs, Job, Record};
use crate::stimulus::Stimulus;
use crate::table::{self, Column};

/// A golden record is steady if no sample changes by more than this between its first and last
/// cycle.
const SETTLE_LIMIT_MV: f64 = 0.5;
/// Sine amplitudes (A RMS) of the frequency-band check: the rated minimum, the low range where
/// the gain depends most on frequency, the knee region and full scale.
pub const BAND_AMPS: [f64; 5] = [0.2, 0.5, 2.0, 10.0, 95.0];

/// Column frequencies and the midpoints between them, in increasing order.
pub fn band_frequencies() -> Vec<f64> {
    let mut f: Vec<f64> = TABLE_HZ.iter().copied().chain(calibrate::midpoints(&TABLE_HZ)).collect();
    f.sort_by(f64::total_cmp);
    f
}

/// The frequency-band check: its report section and verdicts.
pub struct Band {
    pub text: String,
    /// Worst |error| (%) midway between columns, from 0.5 A up.
    pub worst_mid_pct: f64,
    /// Every midpoint and column result within the accuracy targets.
    pub within_targets: bool,
}

/// Sines at `amps` and frequencies `hz` (columns and midpoints), inverted through the table
/// interpolated at each frequency exactly as the host does.
pub fn band_check(
    spice: &Path,
    params: ModelParams,
    adc: &Adc,
    columns: &[Column],
    amps: &[f64],
    hz: &[f64],
) -> Result<Band> {
    let jobs: Vec<Job> = hz
        .iter()
        .flat_map(|&f| amps.iter().map(move |&irms| Job::new(params, Stimulus::Sine { irms, hz: f }, 2, 400)))
        .collect();
    let records = run_jobs(spice, &jobs, "frequency band")?;
    let is_column = |f: f64| columns.iter().any(|c| c.hz == f);
    let mut s = String::from(
        "## Across the rated 45-65 Hz band: columns and interpolation\n\nSines at each column's \
         frequency and midway between columns (**bold**), 2 cycles at 400 samples per cycle, \
         inverted through the default table interpolated at the true frequency as the host \
         does (per code, a + (b - a) * (f - fa) / (fb - fa) between the bracketing columns). \
         Errors in % of the true RMS.\n\n| sine |",
    );
    for &f in hz {
        let label = format!("{} Hz", table::fmt_hz(f));
        let _ = write!(s, " {} |", if is_column(f) { label } else { format!("**{label}**") });
    }
    s.push_str("\n|---|");
    for _ in hz {
        s.push_str("---|");
    }
    s.push('\n');
    let (mut worst_mid, mut worst_col, mut within) = (0.0f64, 0.0f64, true);
    let luts: Vec<Vec<f64>> = hz.iter().map(|&f| table::at_hz(columns, f)).collect();
    for (ai, &irms) in amps.iter().enumerate() {
        let _ = write!(s, "| {irms} A |");
        for (fi, &f) in hz.iter().enumerate() {
            let rec = &records[fi * amps.len() + ai];
            let e = error_pct(inverted_rms(&luts[fi], adc, rec, 0, rec.cycles), irms).unwrap_or(0.0);
            within &= e.abs() <= target_pct(irms);
            if irms >= 0.5 - 1e-9 {
                if is_column(f) {
                    worst_col = worst_col.max(e.abs());
                } else {
                    worst_mid = worst_mid.max(e.abs());
                }
            }
            let _ = write!(s, " {} |", if is_column(f) { format!("{e:+.2}") } else { format!("**{e:+.2}**") });
        }
        s.push('\n');
    }
    let cols = if hz.iter().any(|&f| is_column(f)) {
        format!("{worst_col:.2} % at the column frequencies and ")
    } else {
        String::new()
    };
    let _ = writeln!(s, "\nFrom 0.5 A up the worst error is {cols}{worst_mid:.2} % midway between them.\n");
    Ok(Band { text: s, worst_mid_pct: worst_mid, within_targets: within })
}

/// The simulate-then-invert check: its report section and verdict.
pub struct Verification {
    pub text: String,
    pub within_targets: bool,
}

/// The simulate-then-invert check: every golden record quantised, inverted through the table at
/// the case's mains frequency (and, for contrast, through the 50 Hz column alone, i.e. what a
/// single 50 Hz table would read), RMS estimated as the host does, compared with the source's
/// true RMS.
pub fn verify(cases: &[Case], records: &[Record], columns: &[Column], adc: &Adc) -> Verification {
    let mut s = String::from(
        "## Simulate-then-invert check\n\nEach golden waveform (400 samples per cycle, 10 \
         cycles) quantised with code = round(1023 * V / 2.5 V), inverted through the default \
         table at the case's mains frequency (its 50 or 60 Hz column), Irms = sqrt(2 * \
         mean(i^2)). For contrast, the same through the 50 Hz column alone, which is what a \
         single 50 Hz table reads. Errors in % of the true RMS of the source.\n\n\
         | case | true RMS (A) | table at mains f (A) | error | 50 Hz column alone (A) | error | target |\n\
         |---|---|---|---|---|---|---|\n",
    );
    let col50 = table::at_hz(columns, 50.0);
    let mut within = true;
    for (case, rec) in cases.iter().zip(records) {
        let own_lut = table::at_hz(columns, case.stimulus.hz());
        let segments: Vec<(String, f64, usize, usize)> = match case.step {
            Some((before, after, k)) => vec![
                (format!("{} (cycles 0-{})", case.name, k), before, 0, k),
                // Skip 5 cycles after the step: the magnetizing current re-settles.
                (format!("{} (cycles {}-{})", case.name, k + 5, case.cycles), after, k + 5, case.cycles),
            ],
            None => vec![(case.name.clone(), case.true_rms(), 0, case.cycles)],
        };
        for (label, truth, from, to) in segments {
            let own = inverted_rms(&own_lut, adc, rec, from, to);
            let e50 = inverted_rms(&col50, adc, rec, from, to);
            let fmt_err = |e: f64| match error_pct(e, truth) {
                Some(x) => format!("{x:+.2} %"),
                None => "-".into(),
            };
            let target = if case.kind == Kind::Sine {
                let t = target_pct(truth);
                if error_pct(own, truth).is_some_and(|x| x.abs() > t) {
                    within = false;
                }
                format!("±{t} %")
            } else if case.kind == Kind::Zero {
                if own != 0.0 || e50 != 0.0 {
                    within = false;
                }
                "0 A".into()
            } else {
                "-".into()
            };
            let _ = writeln!(
                s,
                "| {label} | {truth:.3} | {own:.4} | {} | {e50:.4} | {} | {target} |",
                fmt_err(own),
                fmt_err(e50)
            );
        }
    }
    let settle = cases
        .iter()
        .zip(records)
        .filter(|(c, _)| c.kind != Kind::Step)
        .map(|(_, r)| r.settling_mv())
        .fold(0.0, f64::max);
    if settle > SETTLE_LIMIT_MV {
        within = false;
    }
    let _ = writeln!(
        s,
        "\nSteady state: the largest change of any sample between the first and the last \
         recorded cycle is {settle:.4} mV (limit {SETTLE_LIMIT_MV} mV).\n"
    );
    Verification { text: s, within_targets: within }
}
