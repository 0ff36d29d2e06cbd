//! The top-level flows: `all` (write every product), `check` (regenerate and compare) and
//! `table` (a table for another coil). `sensitivity` lives in [`crate::sensitivity`].

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

use crate::calibrate::{self, error_pct, inverted_rms, target_pct, Fitted, TABLE_HZ};
use crate::figures::{self, Series};
use crate::golden::{self, Case, Kind};
use crate::model::{Adc, ModelParams};
use crate::sim::{run_jobs, Job, Record};
use crate::stimulus::Stimulus;
use crate::table::{self, Column};

/// `check` accepts a regenerated table entry within this many amperes plus this fraction of the
/// committed value of the committed one.
const TABLE_TOL_A: f64 = 0.005;
const TABLE_TOL_REL: f64 = 0.005;
/// A golden record is steady if no sample changes by more than this between its first and last
/// cycle.
const SETTLE_LIMIT_MV: f64 = 0.5;
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

pub struct Paths {
    pub spice: PathBuf,
    pub golden: PathBuf,
    /// The default multi-frequency table.
    pub table: PathBuf,
    pub figures: PathBuf,
    pub results: PathBuf,
    pub sensitivity: PathBuf,
}

impl Paths {
    pub fn new(root: &Path) -> Paths {
        Paths {
            spice: root.join("spice"),
            golden: root.join("tests/golden"),
            table: root.join("calibration/efergy-default.csv"),
            figures: root.join("spice/figures"),
            results: root.join("spice/results.md"),
            sensitivity: root.join("spice/sensitivity.md"),
        }
    }
}

pub fn ngspice_version() -> String {
    Command::new("ngspice")
        .arg("-v")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .find(|w| w.starts_with("ngspice-"))
                .map(|w| w.replace('-', " "))
        })
        .unwrap_or_else(|| "ngspice".into())
}

/// Text of a table with one column per fit. `interpolation` states how well the host's
/// interpolation between the columns was found to work (or `None` for a single column).
fn table_csv(fits: &[Fitted], params: &ModelParams, adc: &Adc, command: &str, interpolation: Option<&str>) -> String {
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
    let sweep = calibrate::sweep_amplitudes();
    let mut method = format!(
        "each column fitted so that sqrt(2 * mean(amps[code]^2)) over whole cycles equals the \
         true RMS of simulated sines at that column's frequency, {} A to {:.0} A RMS (6 % steps, \
         1 A steps from 96 to 110 A, {} samples per cycle, code = round(1023 * V / Vref))",
        sweep[0],
        sweep.last().copied().unwrap_or(0.0),
        calibrate::FIT_PPC
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

/// Figures and their source records (extra runs at 50 Hz, 2 cycles shown).
const FIGURE_LOADS: [f64; 4] = [100.0, 20.0, 5.0, 1.0];

/// Sine amplitudes (A RMS) of the frequency-band check: the rated minimum, the low range where
/// the gain depends most on frequency, the knee region and full scale.
pub const BAND_AMPS: [f64; 5] = [0.2, 0.5, 2.0, 10.0, 95.0];
/// Amplitudes `check` re-runs at the midpoints between columns.
const CHECK_BAND_AMPS: [f64; 2] = [0.5, 10.0];

/// Regenerate everything.
pub fn all(root: &Path) -> Result<()> {
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
    crate::sensitivity::run(root)?;
    Ok(())
}

/// The fit at frequency `hz`.
fn fit_at(fits: &[Fitted], hz: f64) -> Result<&Fitted> {
    fits.iter().find(|f| f.hz == hz).with_context(|| format!("no {hz} Hz column among the fitted ones"))
}

/// Column frequencies and the midpoints between them, in increasing order.
fn band_frequencies() -> Vec<f64> {
    let mut f: Vec<f64> = TABLE_HZ.iter().copied().chain(calibrate::midpoints(&TABLE_HZ)).collect();
    f.sort_by(f64::total_cmp);
    f
}

struct Band {
    text: String,
    /// Worst |error| (%) midway between columns, from 0.5 A up.
    worst_mid_pct: f64,
    /// Every midpoint and column result within the accuracy targets.
    within_targets: bool,
}

/// Sines at `amps` and frequencies `hz` (columns and midpoints), inverted through the table
/// interpolated at each frequency exactly as the host does.
fn band_check(
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

/// Regenerate goldens (a subset unless `full`) and, with `full`, the tables; compare them with
/// the committed files, and check that the committed tables invert the regenerated waveforms
/// within the accuracy targets.
pub fn check(root: &Path, full: bool) -> Result<bool> {
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

fn write(path: &Path, text: &str) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| dir.display().to_string())?;
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

struct Verification {
    text: String,
    within_targets: bool,
}

/// The simulate-then-invert check: every golden record quantised, inverted through the table at
/// the case's mains frequency (and, for contrast, through the 50 Hz column alone, i.e. what a
/// single 50 Hz table would read), RMS estimated as the host does, compared with the source's
/// true RMS.
fn verify(cases: &[Case], records: &[Record], columns: &[Column], adc: &Adc) -> Verification {
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

/// Fit a table for one coil (e.g. with a magnetizing inductance measured on a real sensor), one
/// column per frequency in `hz`, write it to `out`, and print how well it inverts the matrix's
/// sine amplitudes at each column's frequency.
pub fn custom_table(root: &Path, lm_h: f64, rw_ohm: f64, hz: &[f64], out: &Path) -> Result<bool> {
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
