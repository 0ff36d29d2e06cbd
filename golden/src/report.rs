//! The accuracy report: every golden case at both link profiles, this project's error beside
//! the naive method's, against the targets of the SPICE issue.

use ct_core::calibration::Calibration;
use ct_core::estimate::{Estimator, EstimatorConfig, Method, Reading};

use crate::{naive_rms_codes, Case, GoldenError, Waveform, PROFILES, START_OFFSET_S, STEADY_SECONDS};

/// Window length for the step case, whose golden holds only 1 s before and 1 s after the step.
pub const STEP_WINDOW_S: f64 = 0.5;

/// The case the naive method is calibrated on (one linear constant, as a user would do with
/// a clamp meter at one load).
pub const NAIVE_CALIBRATION_CASE: &str = "sine-50hz-10a";

/// Accuracy target for a case: relative (fraction) or, for zero current, absolute amps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    Relative(f64),
    AbsoluteAmps(f64),
}

impl Target {
    pub fn for_case(case: &Case) -> Target {
        match case.kind.as_str() {
            "zero" => Target::AbsoluteAmps(0.05),
            "sine" if case.true_rms_a < 0.3 => Target::Relative(0.05),
            "sine" if case.true_rms_a < 1.0 => Target::Relative(0.02),
            "sine" => Target::Relative(0.01),
            _ => Target::Relative(0.02),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Target::Relative(f) => format!("<= {:.0} %", f * 100.0),
            Target::AbsoluteAmps(a) => format!("< {a} A"),
        }
    }
}

/// One window's comparison.
#[derive(Debug, Clone, Copy)]
pub struct WindowError {
    pub truth_a: f64,
    pub ours_a: f64,
}

impl WindowError {
    pub fn rel(&self) -> f64 {
        if self.truth_a == 0.0 {
            0.0
        } else {
            self.ours_a / self.truth_a - 1.0
        }
    }
}

/// Results for one case at one profile.
#[derive(Debug, Clone)]
pub struct ProfileResult {
    pub profile: &'static str,
    /// The default method (the clamp model inverted per level class).
    pub ours: Vec<WindowError>,
    /// The dynamic-model fit over the whole window (`--method fit`).
    pub fit: Vec<WindowError>,
    /// The table-only method (`--method table`).
    pub table: Vec<WindowError>,
    /// The naive estimate per window (same windows' truths), in amps.
    pub naive: Vec<WindowError>,
}

impl ProfileResult {
    /// The window with the largest error (relative, or absolute for zero current).
    pub fn worst(errors: &[WindowError]) -> Option<WindowError> {
        errors.iter().copied().max_by(|a, b| {
            let key = |e: &WindowError| if e.truth_a == 0.0 { e.ours_a.abs() } else { e.rel().abs() };
            key(a).total_cmp(&key(b))
        })
    }

    pub fn meets(errors: &[WindowError], target: Target) -> bool {
        !errors.is_empty()
            && errors.iter().all(|e| match target {
                Target::Relative(f) => e.rel().abs() <= f,
                Target::AbsoluteAmps(a) => e.ours_a.abs() < a,
            })
    }
}

#[derive(Debug, Clone)]
pub struct CaseResult {
    pub case: Case,
    pub target: Target,
    pub profiles: Vec<ProfileResult>,
}

/// Runs every case of the manifest at both profiles.
pub fn evaluate(cal: &Calibration, cases: &[Case]) -> Result<Vec<CaseResult>, GoldenError> {
    // The naive constant per profile: amps per raw code RMS at the calibration case.
    let mut naive_k = Vec::new();
    let cal_case = cases.iter().find(|c| c.case == NAIVE_CALIBRATION_CASE).expect("calibration case in manifest");
    let cal_wave = Waveform::load(cal_case)?;
    for (_, rate) in PROFILES {
        let raw = naive_rms_codes(&cal_wave.codes(rate, STEADY_SECONDS), rate, 1.0);
        naive_k.push(cal_case.true_rms_a / (raw.iter().sum::<f64>() / raw.len() as f64));
    }

    let mut out = Vec::new();
    for case in cases {
        let wave = Waveform::load(case)?;
        let mut profiles = Vec::new();
        for (p, &(name, rate)) in PROFILES.iter().enumerate() {
            let (window_s, seconds) = match case.step {
                Some(_) => (STEP_WINDOW_S, wave.span_s() - START_OFFSET_S),
                None => (1.0, STEADY_SECONDS),
            };
            let codes = wave.codes(rate, seconds);
            let run = |method| {
                let cfg = EstimatorConfig { window_s, method, ..EstimatorConfig::default() };
                let mut est = Estimator::new(cal, rate, cfg);
                let mut readings: Vec<Reading> = Vec::new();
                est.push(START_OFFSET_S, &codes, &mut |r| readings.push(r));
                readings
            };
            let readings = run(Method::Invert);
            let fit_readings = run(Method::Fit);
            let table_readings = run(Method::Table);
            let naive = naive_rms_codes(&codes, rate, window_s);
            let truth = |start: f64, end: f64| -> Option<f64> {
                match case.step {
                    None => Some(case.true_rms_a),
                    Some((before, after, cycle)) => {
                        let t_step = cycle as f64 / case.mains_hz;
                        if end <= t_step {
                            Some(before)
                        } else if start >= t_step {
                            Some(after)
                        } else {
                            None // straddles the step: neither value is the truth
                        }
                    }
                }
            };
            let mut ours = Vec::new();
            let mut table = Vec::new();
            let mut fit = Vec::new();
            let mut naive_e = Vec::new();
            for (i, ((r, rt), rf)) in readings.iter().zip(&table_readings).zip(&fit_readings).enumerate() {
                let Some(t) = truth(r.t_s - r.duration_s, r.t_s) else { continue };
                ours.push(WindowError { truth_a: t, ours_a: r.irms_a });
                fit.push(WindowError { truth_a: t, ours_a: rf.irms_a });
                table.push(WindowError { truth_a: t, ours_a: rt.irms_a });
                if let Some(&n) = naive.get(i) {
                    naive_e.push(WindowError { truth_a: t, ours_a: n * naive_k[p] });
                }
            }
            profiles.push(ProfileResult { profile: name, ours, fit, table, naive: naive_e });
        }
        out.push(CaseResult { case: case.clone(), target: Target::for_case(case), profiles });
    }
    Ok(out)
}

fn fmt_err(e: Option<WindowError>) -> String {
    match e {
        None => "n/a".into(),
        Some(e) if e.truth_a == 0.0 => format!("{:.3} A", e.ours_a),
        Some(e) => format!("{:+.2} %", e.rel() * 100.0),
    }
}

/// The report as markdown (the committed `golden/ACCURACY.md`).
pub fn markdown(results: &[CaseResult], table_name: &str) -> String {
    let mut s = String::new();
    s.push_str("# Accuracy report\n\n");
    s.push_str("Generated by `UPDATE_GOLDEN=1 cargo test -p ct-golden --test accuracy_report`; do not edit.\n\n");
    s.push_str(&format!(
        "Every SPICE golden waveform (`golden/data/`) is sampled at each firmware link profile's rate \
         (launchpad: 1 MHz / 1657 = 603.5 Sa/s over 9600 baud; fast: 1 MHz / 122 = 8196.7 Sa/s), quantised \
         by the ADC10 formula with the 2.5 V reference, and estimated over 1 s windows ({STEP_WINDOW_S} s for the \
         step, whose windows straddling the step are left out). Each cell is the **worst window** of \
         {STEADY_SECONDS} s. Truth: the manifest's RMS of the source current. Calibration table: `{table_name}`.\n\n"
    ));
    s.push_str(&format!(
        "*Naive* is what a user would otherwise do (EmonLib style): remove the DC offset, take the RMS of the raw \
         codes, and multiply by one constant calibrated at a single load (`{NAIVE_CALIBRATION_CASE}`, separately \
         per profile).\n\n"
    ));
    s.push_str(
        "*Invert* is the default method (`--method invert`: the clamp's dynamic model run backwards over each level \
         class of the window's cycles); *fit* is `--method fit` (the model fitted by least squares to the whole \
         window's folded waveform, ~100x slower); *table* is `--method table` (each sample inverted through the \
         calibration table, exact only for sinusoidal currents). The last column judges the default method.\n\n",
    );
    s.push_str(
        "| case | true RMS | target | invert, launchpad | fit, launchpad | table, launchpad | naive, launchpad \
         | invert, fast | fit, fast | table, fast | naive, fast | meets target |\n",
    );
    s.push_str("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for r in results {
        let cells: Vec<String> = r
            .profiles
            .iter()
            .flat_map(|p| {
                [p.ours.as_slice(), p.fit.as_slice(), p.table.as_slice(), p.naive.as_slice()]
                    .map(|e| fmt_err(ProfileResult::worst(e)))
            })
            .collect();
        let truth = match r.case.step {
            Some((b, a, _)) => format!("{b} A -> {a} A"),
            None => format!("{} A", r.case.true_rms_a),
        };
        let ok = r.profiles.iter().all(|p| ProfileResult::meets(&p.ours, r.target));
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            r.case.case,
            truth,
            r.target.describe(),
            cells.join(" | "),
            if ok { "yes" } else { "**no**" }
        ));
    }
    s
}
