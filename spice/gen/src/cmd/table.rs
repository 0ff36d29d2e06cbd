//! `spicegen table`: a table for another coil, with its inversion errors.

use std::path::Path;

use anyhow::Result;

use crate::calibrate::{self, error_pct, inverted_rms, table_csv, target_pct};
use crate::golden;
use crate::model::{Adc, ModelParams};
use crate::repo::{write, Paths};
use crate::sim::{run_jobs, Job};
use crate::stimulus::Stimulus;
use crate::table;

/// Fit a table for one coil (e.g. with a magnetizing inductance measured on a real sensor), one
/// column per frequency in `hz`, write it to `out`, and print how well it inverts the matrix's
/// sine amplitudes at each column's frequency.
pub fn run(root: &Path, lm_h: f64, rw_ohm: f64, hz: &[f64], out: &Path) -> Result<bool> {
    if !(lm_h.is_finite() && lm_h > 0.0 && rw_ohm.is_finite() && rw_ohm >= 0.0) {
        anyhow::bail!("--lm must be > 0 H and --rw >= 0 ohm");
    }
    let mut hz = hz.to_vec();
    hz.sort_by(f64::total_cmp);
    hz.dedup();
    if hz.is_empty() || hz.iter().any(|f| !(40.0..=70.0).contains(f)) {
        anyhow::bail!("--hz {hz:?}: the sensor is rated for 45-65 Hz mains");
    }
    let p = Paths::new(root);
    let params = ModelParams { lm_h, rw_ohm, ..ModelParams::default() };
    let adc = Adc::default();
    let fits = calibrate::fit_tables(&p.spice, params, &adc, &hz)?;
    let hz_arg = hz.iter().map(|f| table::fmt_hz(*f)).collect::<Vec<_>>().join(",");
    let command = format!(
        "cargo run -p spicegen --release -- table --lm {lm_h} --rw {rw_ohm} --hz {hz_arg} --out {}",
        out.display()
    );
    write(out, &table_csv(&fits, &params, &adc, &command, None))?;
    let jobs: Vec<Job> = hz
        .iter()
        .flat_map(|&f| {
            golden::SINE_AMPS.iter().map(move |&irms| Job::new(params, Stimulus::Sine { irms, hz: f }, 2, 400))
        })
        .collect();
    let records = run_jobs(&p.spice, &jobs, "inversion check")?;
    let mut ok = true;
    eprintln!("wrote {} (zero code {})", out.display(), fits[0].table.zero_code);
    eprintln!("| sine | estimate | error | target |\n|---|---|---|---|");
    for (fi, fit) in fits.iter().enumerate() {
        for (ai, irms) in golden::SINE_AMPS.iter().enumerate() {
            let rec = &records[fi * golden::SINE_AMPS.len() + ai];
            let est = inverted_rms(&fit.table.amps, &adc, rec, 0, rec.cycles);
            let err = error_pct(est, *irms).unwrap_or(0.0);
            let target = target_pct(*irms);
            ok &= err.abs() <= target;
            eprintln!("| {irms} A, {} Hz | {est:.4} A | {err:+.2} % | {target} % |", table::fmt_hz(fit.hz));
        }
    }
    Ok(ok)
}
