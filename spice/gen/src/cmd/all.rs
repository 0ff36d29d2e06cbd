//! `spicegen all`: the multi-frequency calibration table, the golden waveforms and their
//! manifest, the figures, spice/results.md, then spice/sensitivity.md (`cmd::sensitivity`).

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};

use crate::calibrate::{self, error_pct, inverted_rms, table_csv, Fitted, TABLE_HZ};
use crate::figures::{self, Series};
use crate::golden::{self, Case, Kind};
use crate::model::{Adc, ModelParams};
use crate::repo::{write, Paths};
use crate::report::{band_check, band_frequencies, verify, BAND_AMPS};
use crate::sim::{run_jobs, Job, Record};
use crate::stimulus::Stimulus;
use crate::table::{self, Column};

/// Figures and their source records (extra runs at 50 Hz, 2 cycles shown).
const FIGURE_LOADS: [f64; 4] = [100.0, 20.0, 5.0, 1.0];

/// Regenerate everything.
pub fn run(root: &Path) -> Result<()> {
    let p = Paths::new(root);
    let params = ModelParams::default();
    let adc = Adc::default();

    let fits = calibrate::fit_tables(&p.spice, params, &adc, &TABLE_HZ)?;
    let columns: Vec<Column> = fits.iter().map(Fitted::column).collect();
    let fit50 = fit_at(&fits, 50.0)?;
    let fit60 = fit_at(&fits, 60.0)?;

    // How well the host's interpolation between the columns works, before the table is written
    // (its metadata states the result).
    let band = band_check(&p.spice, params, &adc, &columns, &BAND_AMPS, &band_frequencies())?;
    eprint!("{}", band.text);
    let note = format!(
        "between columns the host's linear interpolation was checked midway ({}) with \
         simulated sines of {} A: worst error {:.2} % from 0.5 A up",
        calibrate::midpoints(&TABLE_HZ)
            .iter()
            .map(|f| format!("{} Hz", table::fmt_hz(*f)))
            .collect::<Vec<_>>()
            .join(", "),
        BAND_AMPS.iter().map(|a| format!("{a}")).collect::<Vec<_>>().join(", "),
        band.worst_mid_pct
    );
    write(&p.table, &table_csv(&fits, &params, &adc, golden::GENERATOR, Some(&note)))?;

    let cases = golden::cases();
    let jobs: Vec<Job> = cases.iter().map(|c| c.job(params)).collect();
    let records = run_jobs(&p.spice, &jobs, "golden waveforms")?;
    std::fs::create_dir_all(&p.golden).with_context(|| p.golden.display().to_string())?;
    for (case, rec) in cases.iter().zip(&records) {
        write(&p.golden.join(case.file_name()), &golden::render(case, rec, &params, &adc))?;
    }
    write(&p.golden.join("manifest.csv"), &golden::manifest(&cases))?;

    let verification = verify(&cases, &records, &columns, &adc);
    eprint!("{}", verification.text);
    let mut naive = String::from(
        "## Fitted table vs peak matching (50 Hz sines)\n\nThe same inversion with the naive \
         peak-matched table (knot at each amplitude's peak code = its peak current), for \
         comparison; it is not written out.\n\n| case | fitted | peak-matched |\n|---|---|---|\n",
    );
    for (case, rec) in cases.iter().zip(&records) {
        if case.kind == Kind::Sine && case.stimulus.hz() == 50.0 {
            let truth = case.true_rms();
            let f = inverted_rms(&fit50.table.amps, &adc, rec, 0, rec.cycles);
            let n = inverted_rms(&fit50.peak_matched, &adc, rec, 0, rec.cycles);
            let _ = writeln!(
                naive,
                "| {} | {:+.2} % | {:+.2} % |",
                case.name,
                error_pct(f, truth).unwrap_or(0.0),
                error_pct(n, truth).unwrap_or(0.0)
            );
        }
    }
    naive.push('\n');

    // Figures.
    std::fs::create_dir_all(&p.figures).with_context(|| p.figures.display().to_string())?;
    let fig_jobs: Vec<Job> =
        FIGURE_LOADS.iter().map(|&irms| Job::new(params, Stimulus::Sine { irms, hz: 50.0 }, 2, 400)).collect();
    let fig_records = run_jobs(&p.spice, &fig_jobs, "figure waveforms")?;
    for (irms, rec) in FIGURE_LOADS.iter().zip(&fig_records) {
        figures::waveforms(&p.figures.join(format!("waveforms-{irms}a.png")), &format!("{irms} A RMS, 50 Hz"), rec, 2)?;
    }
    let static_rec = static_transfer(&p.spice, params)?;
    transfer_figure(&p.figures.join("transfer.png"), &static_rec, fit50, fit60, &params)?;
    table_figure(&p.figures.join("table.png"), &fits)?;

    let op = operating_point(&cases, &records, fit50, &params, &adc);
    let results = format!(
        "# Simulation results (generated)\n\nWritten by `{}` from the committed netlists; do \
         not edit by hand. spice/README.md explains the model and the method. How readings move \
         when the real sensor departs from the model, and what a two-point user calibration \
         recovers: [sensitivity.md](sensitivity.md).\n\n{op}\n{}\n{}{naive}",
        golden::GENERATOR,
        verification.text,
        band.text
    );
    write(&p.results, &results)?;

    // The sensitivity study reads the table just written, as a user's host would.
    super::sensitivity::run(root)?;
    Ok(())
}

/// The fit at frequency `hz`.
fn fit_at(fits: &[Fitted], hz: f64) -> Result<&Fitted> {
    fits.iter().find(|f| f.hz == hz).with_context(|| format!("no {hz} Hz column among the fitted ones"))
}

fn operating_point(cases: &[Case], records: &[Record], fit50: &Fitted, params: &ModelParams, adc: &Adc) -> String {
    let find = |name: &str| cases.iter().position(|c| c.name == name).map(|k| &records[k]);
    let peak = |r: Option<&Record>| r.map_or(f64::NAN, |r| r.adc_v.iter().copied().fold(f64::MIN, f64::max));
    let zero_code = fit50.table.zero_code;
    let pk95 = peak(find("sine-50hz-95a"));
    let pk02 = peak(find("sine-50hz-0.2a"));
    let pk1 = peak(find("sine-50hz-1a"));
    let pk95_60 = peak(find("sine-60hz-95a"));
    let mut s = String::from("## Operating point (default parameters, 50 Hz)\n\n| quantity | value |\n|---|---|\n");
    let mut row = |k: &str, v: String| {
        let _ = writeln!(s, "| {k} | {v} |");
    };
    row(
        "ADC reference",
        format!(
            "internal {:.1} V, {} bits, 1 code = {:.3} mV",
            f64::from(adc.vref_mv) / 1000.0,
            adc.bits,
            adc.volts_per_code() * 1000.0
        ),
    );
    row("bias", format!("{} V", params.vbias_v));
    row(
        "divider",
        format!(
            "R1 {} ohm / R2 {} ohm, ratio {:.4}, Thevenin {:.0} ohm, Cadc {} nF",
            params.r1_ohm,
            params.r2_ohm,
            params.divider_ratio(),
            params.thevenin_ohm(),
            params.cadc_f * 1e9
        ),
    );
    row("ADC input, no current", format!("{:.1} mV = code {zero_code}", fit50.zero_v * 1000.0));
    row("peak ADC input, 95 A RMS 50 Hz", format!("{:.1} mV = code {}", pk95 * 1000.0, adc.code(pk95)));
    row("peak ADC input, 95 A RMS 60 Hz", format!("{:.1} mV = code {}", pk95_60 * 1000.0, adc.code(pk95_60)));
    row(
        "peak ADC input, 1 A RMS",
        format!(
            "{:.1} mV = code {} ({} codes above zero)",
            pk1 * 1000.0,
            adc.code(pk1),
            adc.code(pk1) as i64 - i64::from(zero_code)
        ),
    );
    row(
        "peak ADC input, 0.2 A RMS",
        format!(
            "{:.1} mV = code {} ({} codes above zero)",
            pk02 * 1000.0,
            adc.code(pk02),
            adc.code(pk02) as i64 - i64::from(zero_code)
        ),
    );
    if let Some(c) = fit50.table.extrapolated_from() {
        row("table extrapolated from", format!("code {c} (above {:.1} A RMS)", fit50.table.top_fitted_rms));
    }
    s.push('\n');
    s
}

/// Quasi-static transfer: an ideal CT (Lm 1 MH, no shunting) driven by a 1 Hz triangle, so the
/// diode network's kink shows without the magnetizing inductance's dynamics.
fn static_transfer(spice: &Path, params: ModelParams) -> Result<Record> {
    let ideal = ModelParams { lm_h: 1e6, ..params };
    let tri = Stimulus::Periodic { knots: vec![(0.0, 0.0), (0.25, 150.0), (0.75, -150.0)], hz: 1.0 };
    let mut job = Job::new(ideal, tri, 1, 4000);
    job.settle_cycles = 0;
    crate::sim::run_job(spice, &job)
}

fn transfer_figure(path: &Path, st: &Record, fit50: &Fitted, fit60: &Fitted, params: &ModelParams) -> Result<()> {
    let sorted = |xs: &[f64], ys: &[f64], xscale: f64| -> Vec<(f64, f64)> {
        let mut v: Vec<(f64, f64)> = xs.iter().zip(ys).map(|(x, y)| (x * xscale, *y)).collect();
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
        v
    };
    let ma = 1000.0 / params.turns;
    let ct = sorted(&st.primary_a, &st.ct_v, ma);
    let vline = |x: f64| vec![(x, -1.0), (x, 4.2)];
    let panel1 = vec![
        Series { label: "V at CT, quasi-static (no Lm)".into(), points: ct },
        Series { label: "measured knee, +2.5 mA (modelled)".into(), points: vline(2.5) },
        Series { label: "design notes' kink, -52 mA (not reproduced)".into(), points: vline(-52.0) },
    ];
    let static_adc = sorted(&st.primary_a, &st.adc_v, 1.0).into_iter().filter(|p| p.0 >= -20.0).collect::<Vec<_>>();
    let peaks = |f: &Fitted| -> Vec<(f64, f64)> {
        f.peaks.iter().map(|&(rms, v)| (rms * 2f64.sqrt(), v)).filter(|p| p.0 <= 150.0).collect()
    };
    let panel2 = vec![
        Series { label: "quasi-static, ideal CT".into(), points: static_adc.clone() },
        Series { label: "peak at 50 Hz vs peak primary (Lm 0.6 H)".into(), points: peaks(fit50) },
        Series { label: "peak at 60 Hz vs peak primary (Lm 0.6 H)".into(), points: peaks(fit60) },
    ];
    let zoom = |v: Vec<(f64, f64)>| v.into_iter().filter(|p| p.0 <= 8.0).collect::<Vec<_>>();
    let panel3 = vec![
        Series { label: "quasi-static, ideal CT".into(), points: zoom(static_adc) },
        Series { label: "peak at 50 Hz (Lm 0.6 H)".into(), points: zoom(peaks(fit50)) },
        Series { label: "peak at 60 Hz (Lm 0.6 H)".into(), points: zoom(peaks(fit60)) },
    ];
    figures::stacked(
        path,
        320,
        &[
            (
                "Secondary network: V(hot - cold) vs secondary current".into(),
                "secondary current (mA)".into(),
                "V".into(),
                panel1,
            ),
            (
                "ADC input vs primary current (instantaneous / peak)".into(),
                "primary current (A)".into(),
                "V".into(),
                panel2,
            ),
            (
                "Same, 0-8 A (the measured knee at 3.4 A primary)".into(),
                "primary current (A)".into(),
                "V".into(),
                panel3,
            ),
        ],
    )
}

fn table_figure(path: &Path, fits: &[Fitted]) -> Result<()> {
    let pts = |v: &[f64]| -> Vec<(f64, f64)> { v.iter().enumerate().map(|(c, &a)| (c as f64, a)).collect() };
    let mut series: Vec<Series> = fits
        .iter()
        .map(|f| Series { label: format!("fitted, {} Hz column", table::fmt_hz(f.hz)), points: pts(&f.table.amps) })
        .collect();
    if let Some(f50) = fits.iter().find(|f| f.hz == 50.0) {
        series.push(Series { label: "peak-matched, 50 Hz (not used)".into(), points: pts(&f50.peak_matched) });
    }
    figures::stacked(
        path,
        380,
        &[(
            "calibration/efergy-default.csv: ADC code -> instantaneous primary current".into(),
            "ADC code".into(),
            "A".into(),
            series,
        )],
    )
}
