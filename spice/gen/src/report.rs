//! The two top-level flows: `all` (write every product) and `check` (regenerate and compare).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

use crate::calibrate::{self, error_pct, inverted_rms, target_pct, Fitted};
use crate::figures::{self, Series};
use crate::golden::{self, Case, Kind};
use crate::model::{Adc, ModelParams};
use crate::sim::{run_jobs, Job, Record};
use crate::stimulus::Stimulus;
use crate::table;

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

struct Paths {
    spice: PathBuf,
    golden: PathBuf,
    table50: PathBuf,
    table60: PathBuf,
    figures: PathBuf,
    results: PathBuf,
}

impl Paths {
    fn new(root: &Path) -> Paths {
        Paths {
            spice: root.join("spice"),
            golden: root.join("tests/golden"),
            table50: root.join("calibration/efergy-default.csv"),
            table60: root.join("calibration/efergy-default-60hz.csv"),
            figures: root.join("spice/figures"),
            results: root.join("spice/results.md"),
        }
    }
}

fn ngspice_version() -> String {
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

fn table_csv(f: &Fitted, params: &ModelParams, adc: &Adc, command: &str) -> String {
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
        ("source", format!("{command} ({}, {} Hz transient)", ngspice_version(), f.hz)),
    ];
    let extrapolated = match f.table.extrapolated_from() {
        Some(c) => format!(
            "codes {c}..{} are a linear extrapolation of the last fitted segment (the highest \
             unclipped simulated level is {:.1} A RMS)",
            adc.max_code(),
            f.table.top_fitted_rms
        ),
        None => "none".into(),
    };
    let meta = [
        ("zero_code", f.table.zero_code.to_string()),
        ("mains_hz", format!("{}", f.hz)),
        ("model", format!("spice/models.lib + spice/efergy_ct.sub + spice/interface.sub; {params}")),
        (
            "method",
            format!(
                "fitted so that sqrt(2 * mean(amps[code]^2)) over whole cycles equals the true \
                 RMS of simulated {} Hz sines from {} A to {:.0} A RMS (6 % steps, 1 A steps from 96 to 110 A, {} samples \
                 per cycle, code = round(1023 * V / Vref)); see spice/README.md",
                f.hz,
                calibrate::sweep_amplitudes()[0],
                calibrate::sweep_amplitudes().last().copied().unwrap_or(0.0),
                calibrate::FIT_PPC
            ),
        ),
        ("extrapolated", extrapolated),
    ];
    table::to_csv(&f.table.amps, &required, &meta)
}

/// Figures and their source records (extra runs at 50 Hz, 2 cycles shown).
const FIGURE_LOADS: [f64; 4] = [100.0, 20.0, 5.0, 1.0];

/// Variants for the sensitivity table: (label, params).
fn variants(base: ModelParams) -> Vec<(String, ModelParams)> {
    let mut v: Vec<(String, ModelParams)> =
        [0.3, 0.45, 0.9, 1.5, 5.0].iter().map(|&lm| (format!("Lm {lm} H"), ModelParams { lm_h: lm, ..base })).collect();
    v.push(("Rw 50.5 ohm".into(), ModelParams { rw_ohm: 50.5, ..base }));
    v.push(("Rw 54.5 ohm".into(), ModelParams { rw_ohm: 54.5, ..base }));
    v
}

const SENS_AMPS: [f64; 8] = [0.2, 0.5, 1.0, 3.4, 10.0, 40.0, 73.0, 95.0];

/// Regenerate everything.
pub fn all(root: &Path) -> Result<()> {
    let p = Paths::new(root);
    let params = ModelParams::default();
    let adc = Adc::default();

    let fit50 = calibrate::fit_table(&p.spice, params, &adc, 50.0)?;
    let fit60 = calibrate::fit_table(&p.spice, params, &adc, 60.0)?;
    write(&p.table50, &table_csv(&fit50, &params, &adc, golden::GENERATOR))?;
    write(&p.table60, &table_csv(&fit60, &params, &adc, golden::GENERATOR))?;

    let cases = golden::cases();
    let jobs: Vec<Job> = cases.iter().map(|c| c.job(params)).collect();
    let records = run_jobs(&p.spice, &jobs, "golden waveforms")?;
    std::fs::create_dir_all(&p.golden).with_context(|| p.golden.display().to_string())?;
    for (case, rec) in cases.iter().zip(&records) {
        write(&p.golden.join(case.file_name()), &golden::render(case, rec, &params, &adc))?;
    }
    write(&p.golden.join("manifest.csv"), &golden::manifest(&cases))?;

    let verification = verify(&cases, &records, &fit50.table.amps, &fit60.table.amps, &adc);
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

    // Sensitivity to the coil parameters, inverted with the default 50 Hz table.
    let vars = variants(params);
    let sens_jobs: Vec<Job> = vars
        .iter()
        .flat_map(|(_, vp)| SENS_AMPS.iter().map(move |&irms| Job::new(*vp, Stimulus::Sine { irms, hz: 50.0 }, 2, 400)))
        .collect();
    let sens_records = run_jobs(&p.spice, &sens_jobs, "sensitivity")?;
    let sensitivity = sensitivity_text(&vars, &sens_records, &fit50, &adc);
    eprint!("{sensitivity}");

    // Figures.
    std::fs::create_dir_all(&p.figures).with_context(|| p.figures.display().to_string())?;
    let fig_jobs: Vec<Job> =
        FIGURE_LOADS.iter().map(|&irms| Job::new(params, Stimulus::Sine { irms, hz: 50.0 }, 2, 400)).collect();
    let fig_records = run_jobs(&p.spice, &fig_jobs, "figure waveforms")?;
    for (irms, rec) in FIGURE_LOADS.iter().zip(&fig_records) {
        figures::waveforms(&p.figures.join(format!("waveforms-{irms}a.png")), &format!("{irms} A RMS, 50 Hz"), rec, 2)?;
    }
    let static_rec = static_transfer(&p.spice, params)?;
    transfer_figure(&p.figures.join("transfer.png"), &static_rec, &fit50, &fit60, &params)?;
    table_figure(&p.figures.join("table.png"), &fit50, &fit60)?;

    let op = operating_point(&cases, &records, &fit50, &params, &adc);
    let results = format!(
        "# Simulation results (generated)\n\nWritten by `{}` from the committed netlists; do \
         not edit by hand. spice/README.md explains the model and the method.\n\n{op}\n{}\n{naive}{sensitivity}",
        golden::GENERATOR,
        verification.text
    );
    write(&p.results, &results)?;
    Ok(())
}

/// Regenerate goldens (a subset unless `full`) and, with `full`, the tables; compare them with
/// the committed files, and check that the committed tables invert the regenerated waveforms
/// within the accuracy targets.
pub fn check(root: &Path, full: bool) -> Result<bool> {
    let p = Paths::new(root);
    let params = ModelParams::default();
    let adc = Adc::default();
    let mut ok = true;

    let read_table = |path: &Path| -> Result<Vec<f64>> {
        let text = std::fs::read_to_string(path).with_context(|| path.display().to_string())?;
        table::parse_csv_amps(&text).with_context(|| format!("{}: not a code,amps table", path.display()))
    };
    let amps50 = read_table(&p.table50)?;
    let amps60 = read_table(&p.table60)?;
    for (path, amps) in [(&p.table50, &amps50), (&p.table60, &amps60)] {
        if let Err(why) = table::validate(amps, adc.max_code()) {
            ok = false;
            eprintln!("BAD   {}: {why}", path.display());
        }
    }

    if full {
        let fit50 = calibrate::fit_table(&p.spice, params, &adc, 50.0)?;
        let fit60 = calibrate::fit_table(&p.spice, params, &adc, 60.0)?;
        for (path, committed, fit) in [(&p.table50, &amps50, &fit50), (&p.table60, &amps60, &fit60)] {
            let worst = committed
                .iter()
                .zip(&fit.table.amps)
                .enumerate()
                .map(|(code, (a, b))| (code, (a - b).abs() - (TABLE_TOL_A + TABLE_TOL_REL * a.abs())))
                .fold((0, f64::MIN), |m, x| if x.1 > m.1 { x } else { m });
            if committed.len() != fit.table.amps.len() || worst.1 > 0.0 {
                ok = false;
                eprintln!(
                    "DRIFT {}: code {} differs by more than {TABLE_TOL_A} A + {} % (rows {} vs {})",
                    path.display(),
                    worst.0,
                    TABLE_TOL_REL * 100.0,
                    committed.len(),
                    fit.table.amps.len()
                );
            } else {
                eprintln!("ok    {} (regenerated)", path.display());
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
        if full { " and 2 regenerated tables" } else { "" }
    );

    let v = verify(&cases, &records, &amps50, &amps60, &adc);
    eprint!("{}", v.text);
    if !v.within_targets {
        ok = false;
        eprintln!("FAIL: a committed table misses an accuracy target at its own mains frequency");
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

/// The simulate-then-invert check: every golden record quantised, inverted through both tables,
/// RMS estimated as the host does, compared with the source's true RMS.
fn verify(cases: &[Case], records: &[Record], amps50: &[f64], amps60: &[f64], adc: &Adc) -> Verification {
    let mut s = String::from(
        "## Simulate-then-invert check\n\nEach golden waveform (400 samples per cycle, 10 \
         cycles) quantised with code = round(1023 * V / 2.5 V), inverted through a table, \
         Irms = sqrt(2 * mean(i^2)). Errors in % of the true RMS of the source.\n\n\
         | case | true RMS (A) | 50 Hz table (A) | error | 60 Hz table (A) | error | target |\n\
         |---|---|---|---|---|---|---|\n",
    );
    let mut within = true;
    for (case, rec) in cases.iter().zip(records) {
        let segments: Vec<(String, f64, usize, usize)> = match case.step {
            Some((before, after, k)) => vec![
                (format!("{} (cycles 0-{})", case.name, k), before, 0, k),
                // Skip 5 cycles after the step: the magnetizing current re-settles.
                (format!("{} (cycles {}-{})", case.name, k + 5, case.cycles), after, k + 5, case.cycles),
            ],
            None => vec![(case.name.clone(), case.true_rms(), 0, case.cycles)],
        };
        for (label, truth, from, to) in segments {
            let e50 = inverted_rms(amps50, adc, rec, from, to);
            let e60 = inverted_rms(amps60, adc, rec, from, to);
            let fmt_err = |e: f64| match error_pct(e, truth) {
                Some(x) => format!("{x:+.2} %"),
                None => "-".into(),
            };
            let target = if case.kind == Kind::Sine {
                let t = target_pct(truth);
                let own = if case.stimulus.hz() == 50.0 { e50 } else { e60 };
                if error_pct(own, truth).is_some_and(|x| x.abs() > t) {
                    within = false;
                }
                format!("±{t} % (own table)")
            } else if case.kind == Kind::Zero {
                if e50 != 0.0 || e60 != 0.0 {
                    within = false;
                }
                "0 A".into()
            } else {
                "-".into()
            };
            let _ = writeln!(
                s,
                "| {label} | {truth:.3} | {e50:.4} | {} | {e60:.4} | {} | {target} |",
                fmt_err(e50),
                fmt_err(e60)
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

fn sensitivity_text(vars: &[(String, ModelParams)], records: &[Record], fit50: &Fitted, adc: &Adc) -> String {
    let mut s = String::from(
        "## Sensitivity to the coil parameters\n\nThe default 50 Hz table (Lm 0.6 H, Rw 52.5 \
         ohm) applied to a sensor whose coil differs; 50 Hz sines, 2 cycles at 400 samples per \
         cycle. Error of the inverted RMS in %; last column: peak ADC input at 95 A RMS \
         (2500 mV = full scale).\n\n| coil |",
    );
    for a in SENS_AMPS {
        let _ = write!(s, " {a} A |");
    }
    s.push_str(" peak at 95 A |\n|---|");
    for _ in 0..=SENS_AMPS.len() {
        s.push_str("---|");
    }
    s.push('\n');
    for (k, (label, _)) in vars.iter().enumerate() {
        let _ = write!(s, "| {label} |");
        let recs = &records[k * SENS_AMPS.len()..(k + 1) * SENS_AMPS.len()];
        let mut peak95 = 0.0;
        for (a, rec) in SENS_AMPS.iter().zip(recs) {
            let est = inverted_rms(&fit50.table.amps, adc, rec, 0, rec.cycles);
            let _ = write!(s, " {:+.1} |", error_pct(est, *a).unwrap_or(0.0));
            if *a == 95.0 {
                peak95 = rec.adc_v.iter().copied().fold(f64::MIN, f64::max) * 1000.0;
            }
        }
        let _ = writeln!(s, " {peak95:.0} mV |");
    }
    s.push('\n');
    s
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

fn table_figure(path: &Path, fit50: &Fitted, fit60: &Fitted) -> Result<()> {
    let pts = |v: &[f64]| -> Vec<(f64, f64)> { v.iter().enumerate().map(|(c, &a)| (c as f64, a)).collect() };
    figures::stacked(
        path,
        380,
        &[(
            "Calibration tables: ADC code -> instantaneous primary current".into(),
            "ADC code".into(),
            "A".into(),
            vec![
                Series {
                    label: "fitted, 50 Hz (calibration/efergy-default.csv)".into(),
                    points: pts(&fit50.table.amps),
                },
                Series {
                    label: "fitted, 60 Hz (calibration/efergy-default-60hz.csv)".into(),
                    points: pts(&fit60.table.amps),
                },
                Series { label: "peak-matched, 50 Hz (not used)".into(), points: pts(&fit50.peak_matched) },
            ],
        )],
    )
}

/// Fit a table for one coil (e.g. with a magnetizing inductance measured on a real sensor), write
/// it to `out`, and print how well it inverts the matrix's sine amplitudes at that frequency.
pub fn custom_table(root: &Path, lm_h: f64, rw_ohm: f64, hz: f64, out: &Path) -> Result<bool> {
    if !(lm_h.is_finite() && lm_h > 0.0 && rw_ohm.is_finite() && rw_ohm >= 0.0) {
        anyhow::bail!("--lm must be > 0 H and --rw >= 0 ohm");
    }
    if !(40.0..=70.0).contains(&hz) {
        anyhow::bail!("--hz {hz}: the sensor is rated for 45-65 Hz mains");
    }
    let p = Paths::new(root);
    let params = ModelParams { lm_h, rw_ohm, ..ModelParams::default() };
    let adc = Adc::default();
    let fit = calibrate::fit_table(&p.spice, params, &adc, hz)?;
    let command =
        format!("cargo run -p spicegen --release -- table --lm {lm_h} --rw {rw_ohm} --hz {hz} --out {}", out.display());
    write(out, &table_csv(&fit, &params, &adc, &command))?;
    let jobs: Vec<Job> =
        golden::SINE_AMPS.iter().map(|&irms| Job::new(params, Stimulus::Sine { irms, hz }, 2, 400)).collect();
    let records = run_jobs(&p.spice, &jobs, "inversion check")?;
    let mut ok = true;
    eprintln!("wrote {} (zero code {})", out.display(), fit.table.zero_code);
    eprintln!("| {hz} Hz sine | estimate | error | target |\n|---|---|---|---|");
    for (irms, rec) in golden::SINE_AMPS.iter().zip(&records) {
        let est = inverted_rms(&fit.table.amps, &adc, rec, 0, rec.cycles);
        let err = error_pct(est, *irms).unwrap_or(0.0);
        let target = target_pct(*irms);
        ok &= err.abs() <= target;
        eprintln!("| {irms} A | {est:.4} A | {err:+.2} % | {target} % |");
    }
    Ok(ok)
}
