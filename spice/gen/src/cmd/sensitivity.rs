//! `spicegen sensitivity`: runs the study of [`crate::sensitivity`] over every perturbed sensor
//! and writes spice/sensitivity.md (also run by `all`, after the table it reads is written).

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use ct_core::calibration::Calibration;
use rayon::prelude::*;

use crate::model::{Adc, ModelParams};
use crate::repo::{ngspice_version, Paths};
use crate::sensitivity::{
    evaluate, variants, Outcome, Variant, CAL_AMPS, CAL_AMPS_3, HZ, PPC, RATE_HZ, RECORD_S, SENS_AMPS,
};
use crate::sim::{run_jobs, Job};
use crate::stimulus::Stimulus;

/// Run the study and write spice/sensitivity.md.
pub fn run(root: &Path) -> Result<()> {
    let p = Paths::new(root);
    let adc = Adc::default();
    let base = Calibration::load(&p.table).with_context(|| "loading the default table")?;
    let vars = variants(ModelParams::default());
    let amps: Vec<f64> = std::iter::once(0.0).chain(SENS_AMPS).collect();
    let jobs: Vec<Job> = vars
        .iter()
        .flat_map(|v| amps.iter().map(move |&irms| Job::new(v.params, Stimulus::Sine { irms, hz: HZ }, 1, PPC)))
        .collect();
    let records = run_jobs(&p.spice, &jobs, "sensitivity")?;
    let tmp = tempfile::tempdir().context("temporary directory for the recordings")?;
    let outcomes: Vec<Outcome> = vars
        .par_iter()
        .enumerate()
        .map(|(k, v)| {
            let dir = tmp.path().join(format!("v{k}"));
            std::fs::create_dir_all(&dir).with_context(|| dir.display().to_string())?;
            evaluate(v, &records[k * amps.len()..(k + 1) * amps.len()], &base, &adc, &dir)
                .with_context(|| format!("sensor `{}`", v.label))
        })
        .collect::<Result<_>>()?;
    let text = render(&vars, &outcomes);
    eprint!("{text}");
    std::fs::write(&p.sensitivity, text).with_context(|| p.sensitivity.display().to_string())
}

fn render(vars: &[Variant], outcomes: &[Outcome]) -> String {
    let amps_hdr = SENS_AMPS.iter().map(|a| format!(" {a} A |")).collect::<String>();
    let rule = "---|".repeat(SENS_AMPS.len());
    let mut s = format!(
        "# Sensitivity to the real sensor (generated)\n\nWritten by `cargo run -p spicegen --release -- \
         sensitivity` (also run by `all`; {}) from the committed netlists and the committed default \
         table; do not edit by hand. spice/README.md explains the model.\n\n\
         **How.** Each sensor below differs from the model in one respect. Its chain is simulated \
         at 50 Hz sines (10 cycles to settle, then one cycle at {PPC} points); the cycle is tiled \
         into {RECORD_S} s of ADC codes at the fast link profile's {RATE_HZ:.1} Sa/s (asynchronous \
         to the mains), written as a `t_s,code` CSV and read by the host library exactly as \
         `ct-read analyze` does: `ct_host`'s estimator with the default table \
         (calibration/efergy-default.csv, mains frequency estimated per 1 s window). Cells are the \
         mean of the full windows.\n\n",
        ngspice_version()
    );
    let _ = write!(
        s,
        "## Readings with the default table\n\nError in % of the true RMS; `0 A` is what the \
         host reads with no current (a phantom reading if not 0); † = samples clipped at full \
         scale (over-range flag); last column: peak ADC input at {} A (2500 mV = full \
         scale).\n\n| sensor | 0 A |{amps_hdr} peak at {} A |\n|---|---|{rule}---|\n",
        SENS_AMPS[SENS_AMPS.len() - 1],
        SENS_AMPS[SENS_AMPS.len() - 1]
    );
    for (v, o) in vars.iter().zip(outcomes) {
        let _ = write!(s, "| {} | {:.3} A |", v.label, o.zero_a);
        for (e, clipped) in &o.before {
            let _ = write!(s, " {}{} |", cell(*e), if *clipped { " †" } else { "" });
        }
        let _ = writeln!(s, " {:.0} mV |", o.peak_mv);
    }
    let desc = |amps: &[f64]| amps.iter().map(|a| format!("{a} A")).collect::<Vec<_>>().join(", ");
    let cal_desc = desc(&CAL_AMPS);
    let _ = write!(
        s,
        "\n## After a two-point user calibration ({cal_desc})\n\nEach sensor calibrated as a \
         user would with `ct-read calibrate`: `ct_host::calibrate::calibrate` with the default \
         table as the base and two reference points, the recordings at {cal_desc} \
         (`Evidence::Recording`) with their true currents. It scales the table by a gain that is \
         piecewise linear in log(current) through the points and constant outside them. Then \
         every recording is read again through the new table. Error in % of the true RMS; \
         `gain` = reference / reading before, at each point.\n\n| sensor |{amps_hdr} gain at {cal_desc} |\n|---|{rule}---|\n"
    );
    for (v, o) in vars.iter().zip(outcomes) {
        let _ = write!(s, "| {} |", v.label);
        row(&mut s, &o.after);
        let gains = o.gains.iter().map(|g| format!("{g:.4}")).collect::<Vec<_>>().join(" / ");
        let _ = writeln!(s, " {gains} |");
    }
    let cal3 = desc(&CAL_AMPS_3);
    let _ = write!(
        s,
        "\n## After a three-point user calibration ({cal3})\n\nThe same with a third reference \
         point above the knee.\n\n| sensor |{amps_hdr}\n|---|{rule}\n"
    );
    for (v, o) in vars.iter().zip(outcomes) {
        let _ = write!(s, "| {} |", v.label);
        row(&mut s, &o.after3);
        s.push('\n');
    }
    // Readings squelched to 0 A (the signal stays within a few codes of the table's zero code)
    // are reported separately from the errors.
    let worst = |errs: Vec<f64>| errs.into_iter().filter(|e| *e > -99.99).map(f64::abs).fold(0.0, f64::max);
    let perturbed = || outcomes.iter().skip(1);
    let worst_before = worst(perturbed().flat_map(|o| o.before.iter().map(|b| b.0)).collect());
    let worst_after = worst(perturbed().flat_map(|o| o.after.clone().unwrap_or_default()).collect());
    let worst_after3 = worst(perturbed().flat_map(|o| o.after3.clone().unwrap_or_default()).collect());
    let zeroed: Vec<String> = vars
        .iter()
        .zip(outcomes)
        .flat_map(|(v, o)| {
            SENS_AMPS
                .iter()
                .zip(&o.before)
                .filter(|(_, b)| b.0 <= -99.99)
                .map(move |(a, _)| format!("{} at {a} A", v.label))
        })
        .collect();
    let worst_phantom = outcomes.iter().map(|o| o.zero_a).fold(0.0, f64::max);
    let _ = writeln!(
        s,
        "\nOver the perturbed sensors, the worst error from {} A up (readings of 0 A left out) is \
         {worst_before:.1} % with the default table, {worst_after:.1} % after the two-point and \
         {worst_after3:.1} % after the three-point calibration. Read as 0 A with the default table \
         (squelched: the signal stays within a few codes of the table's zero code): {}. The \
         largest reading with no current is {worst_phantom:.3} A (a gain calibration cannot \
         remove an offset).",
        SENS_AMPS[0],
        if zeroed.is_empty() { "none".to_owned() } else { zeroed.join("; ") }
    );
    s
}

/// An error cell; a reading of 0 A is named as such rather than shown as -100 %.
fn cell(e: f64) -> String {
    if e <= -99.99 {
        "reads 0".into()
    } else {
        format!("{e:+.2}")
    }
}

fn row(s: &mut String, errs: &std::result::Result<Vec<f64>, String>) {
    match errs {
        Ok(errs) => {
            for e in errs {
                let _ = write!(s, " {} |", cell(*e));
            }
        }
        Err(why) => {
            let _ = write!(s, " calibration failed: {why} |{}", " |".repeat(SENS_AMPS.len() - 1));
        }
    }
}
