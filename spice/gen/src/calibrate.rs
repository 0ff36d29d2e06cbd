//! Amplitude sweeps, table fitting, the table file's text and the simulate-then-invert
//! accuracy check.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};

use crate::model::{Adc, ModelParams};
use crate::repo::ngspice_version;
use crate::sim::{run_jobs, Job, Record};
use crate::stimulus::Stimulus;
use crate::table::{self, estimate_rms, Column, SweepPoint, Table};

/// Sweep amplitudes (A RMS): geometric from 0.05 A in 6 % steps up to 125 A, past the level
/// where the ADC clips (~100 A), plus 1 A steps from 96 to 110 A so the fit reaches as close to
/// full scale as possible before the table has to be extrapolated.
pub fn sweep_amplitudes() -> Vec<f64> {
    let mut a: Vec<f64> =
        (0..).map(|k| 0.05 * 1.06f64.powi(k)).take_while(|&a| a <= 125.0).chain((96..=110).map(f64::from)).collect();
    a.sort_by(f64::total_cmp);
    a
}

/// Samples per cycle used for fitting: fine enough to stand for asynchronous sampling.
pub const FIT_PPC: usize = 2000;

/// Mains frequencies of the default table's columns: the clamp's rated 45-65 Hz band in 5 Hz
/// steps. The host interpolates linearly between neighbouring columns; spice/results.md shows
/// the error that leaves midway between them.
pub const TABLE_HZ: [f64; 5] = [45.0, 50.0, 55.0, 60.0, 65.0];

/// Frequencies midway between the columns, where interpolation is checked.
pub fn midpoints(hz: &[f64]) -> Vec<f64> {
    hz.windows(2).map(|w| (w[0] + w[1]) / 2.0).collect()
}

/// A fitted table with the evidence behind it.
pub struct Fitted {
    pub hz: f64,
    pub table: Table,
    pub peak_matched: Vec<f64>,
    pub zero_v: f64,
    /// (A RMS, peak ADC volts) of every sweep amplitude.
    pub peaks: Vec<(f64, f64)>,
}

/// Simulate the sweep at `hz` and fit the table.
pub fn fit_table(spice_dir: &Path, params: ModelParams, adc: &Adc, hz: f64) -> Result<Fitted> {
    let mut amps = vec![0.0];
    amps.extend(sweep_amplitudes());
    let jobs: Vec<Job> = amps.iter().map(|&irms| Job::new(params, Stimulus::Sine { irms, hz }, 1, FIT_PPC)).collect();
    let records = run_jobs(spice_dir, &jobs, &format!("{hz} Hz sweep"))?;
    let zero = records.first().context("no zero-current run")?;
    let zero_v = zero.adc_v.iter().sum::<f64>() / zero.adc_v.len() as f64;
    let zero_code = adc.code(zero_v);
    let points: Vec<SweepPoint> = records[1..]
        .iter()
        .map(|r| SweepPoint { irms: r.stimulus.true_rms(), codes: r.adc_v.iter().map(|&v| adc.code(v)).collect() })
        .collect();
    let peaks = records[1..]
        .iter()
        .map(|r| {
            let pk = r.adc_v.iter().copied().fold(f64::MIN, f64::max);
            (r.stimulus.true_rms(), pk)
        })
        .collect();
    let table = table::fit(zero_code, adc.max_code(), &points).with_context(|| format!("fitting the {hz} Hz table"))?;
    let peak_matched = table::peak_matched(zero_code, adc.max_code(), &points);
    Ok(Fitted { hz, table, peak_matched, zero_v, peaks })
}

impl Fitted {
    pub fn column(&self) -> Column {
        Column { hz: self.hz, amps: self.table.amps.clone() }
    }
}

/// Fit one table column per frequency (in the order given, which must increase).
pub fn fit_tables(spice_dir: &Path, params: ModelParams, adc: &Adc, hz: &[f64]) -> Result<Vec<Fitted>> {
    hz.iter().map(|&f| fit_table(spice_dir, params, adc, f)).collect()
}

/// Host-style RMS of a record inverted through `amps`, over `[from, to)` cycles.
pub fn inverted_rms(amps: &[f64], adc: &Adc, rec: &Record, from: usize, to: usize) -> f64 {
    let n = rec.points_per_cycle;
    let codes: Vec<u32> = rec.adc_v[from * n..to * n].iter().map(|&v| adc.code(v)).collect();
    estimate_rms(amps, &codes)
}

/// Relative error (%) of the inverted RMS against the truth; `None` for zero truth.
pub fn error_pct(estimate: f64, truth: f64) -> Option<f64> {
    (truth > 0.0).then(|| (estimate / truth - 1.0) * 100.0)
}

/// Accuracy target (% of reading) the issue sets for a sine of `irms`.
pub fn target_pct(irms: f64) -> f64 {
    if irms >= 1.0 - 1e-9 {
        1.0
    } else if irms >= 0.5 - 1e-9 {
        2.0
    } else {
        5.0
    }
}

/// Text of a table with one column per fit. `interpolation` states how well the host's
/// interpolation between the columns was found to work (or `None` for a single column).
pub fn table_csv(
    fits: &[Fitted],
    params: &ModelParams,
    adc: &Adc,
    command: &str,
    interpolation: Option<&str>,
) -> String {
    let hz_list = fits.iter().map(|f| table::fmt_hz(f.hz)).collect::<Vec<_>>().join(", ");
    let required = [
        (
            "sensor",
            format!(
                "Efergy Smart CT ({} turns, Lm {} H, Rw {} ohm, {} ohm || 1N4001 + {} ohm)",
                params.turns, params.lm_h, params.rw_ohm, params.rb_ohm, params.rk_ohm
            ),
        ),
        (
            "circuit",
            format!(
                "spice/interface.sub ({} V bias, in-line 1N4001, divider {} ohm / {} ohm, {} nF)",
                params.vbias_v,
                params.r1_ohm,
                params.r2_ohm,
                params.cadc_f * 1e9
            ),
        ),
        ("adc_ref_mv", adc.vref_mv.to_string()),
        ("adc_bits", adc.bits.to_string()),
        ("source", format!("{command} ({}, {hz_list} Hz transients)", ngspice_version())),
    ];
    let extrapolated = fits
        .iter()
        .map(|f| match f.table.extrapolated_from() {
            Some(c) => format!(
                "{} Hz codes {c}..{} (above {:.1} A RMS)",
                table::fmt_hz(f.hz),
                adc.max_code(),
                f.table.top_fitted_rms
            ),
            None => format!("{} Hz none", table::fmt_hz(f.hz)),
        })
        .collect::<Vec<_>>()
        .join("; ");
    let zero_code = fits.iter().map(|f| f.table.zero_code).max().unwrap_or(0);
    let mains = if fits.len() > 1 {
        format!(
            "{hz_list} (one column each; the host interpolates linearly between the two columns \
             bracketing the mains frequency it estimates, and uses the nearest column outside \
             {}-{} Hz)",
            table::fmt_hz(fits[0].hz),
            table::fmt_hz(fits[fits.len() - 1].hz)
        )
    } else {
        format!("{hz_list} (a single column: the host uses it at every frequency)")
    };
    let sweep = sweep_amplitudes();
    let mut method = format!(
        "each column fitted so that sqrt(2 * mean(amps[code]^2)) over whole cycles equals the \
         true RMS of simulated sines at that column's frequency, {} A to {:.0} A RMS (6 % steps, \
         1 A steps from 96 to 110 A, {} samples per cycle, code = round(1023 * V / Vref))",
        sweep[0],
        sweep.last().copied().unwrap_or(0.0),
        FIT_PPC
    );
    if let Some(note) = interpolation {
        let _ = write!(method, "; {note}");
    }
    method.push_str("; see spice/README.md");
    let meta = [
        ("zero_code", zero_code.to_string()),
        ("mains_hz", mains),
        ("model", format!("spice/models.lib + spice/efergy_ct.sub + spice/interface.sub; {params}")),
        ("method", method),
        (
            "extrapolated",
            format!(
                "a linear extrapolation of the last fitted segment, above the highest unclipped level: {extrapolated}"
            ),
        ),
    ];
    let columns: Vec<Column> = fits.iter().map(Fitted::column).collect();
    table::to_csv(&columns, &required, &meta)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweep_spans_below_rated_minimum_to_past_full_scale() {
        let a = sweep_amplitudes();
        assert!(a[0] <= 0.05 + 1e-12);
        assert!(*a.last().expect("non-empty") > 118.0);
        assert!(a.windows(2).all(|w| w[1] > w[0] && w[1] / w[0] <= 1.06 + 1e-9));
        assert!(a.contains(&100.0));
    }

    #[test]
    fn columns_cover_the_rated_band_in_increasing_order() {
        assert_eq!(TABLE_HZ.first(), Some(&45.0));
        assert_eq!(TABLE_HZ.last(), Some(&65.0));
        assert!(TABLE_HZ.windows(2).all(|w| w[1] > w[0]));
        assert_eq!(midpoints(&TABLE_HZ), vec![47.5, 52.5, 57.5, 62.5]);
    }

    #[test]
    fn targets_follow_the_issue() {
        assert_eq!(target_pct(95.0), 1.0);
        assert_eq!(target_pct(1.0), 1.0);
        assert_eq!(target_pct(0.5), 2.0);
        assert_eq!(target_pct(0.2), 5.0);
        assert_eq!(error_pct(1.01, 1.0).map(|e| (e - 1.0).abs() < 1e-9), Some(true));
        assert_eq!(error_pct(0.0, 0.0), None);
    }
}
