//! `spicegen sensitivity`: runs the study of [`crate::sensitivity`] over every perturbed sensor
//! and writes spice/sensitivity.md (also run by `all`, after the table it reads is written).

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use ct_core::calibration::Calibration;
use ct_core::identify::{self, LmFit};
use rayon::prelude::*;

use crate::model::{Adc, ModelParams};
use crate::repo::{ngspice_version, Paths};
use crate::sensitivity::{
    evaluate, stimuli, target_for, variants, Calibrated, Outcome, Pass, Start, Variant, CAL_AMPS, CAL_AMPS_3,
    DISTORTED_TARGET_PCT, LOADS, PPC, RATE_HZ, RECORD_S, SENS_AMPS,
};
use crate::sim::{run_jobs, Job};

/// Run the study and write spice/sensitivity.md.
pub fn run(root: &Path) -> Result<()> {
    let p = Paths::new(root);
    let adc = Adc::default();
    let base = default_table(&p.table)?;
    let vars = variants(ModelParams::default());
    let stims = stimuli()?;
    let jobs: Vec<Job> =
        vars.iter().flat_map(|v| stims.iter().map(move |s| Job::new(v.params, s.clone(), 1, PPC))).collect();
    let records = run_jobs(&p.spice, &jobs, "sensitivity")?;
    let outcomes: Vec<Outcome> = vars
        .par_iter()
        .zip(records.par_chunks(stims.len()))
        .map(|(v, recs)| evaluate(recs, &base, &adc).with_context(|| format!("sensor `{}`", v.label)))
        .collect::<Result<_>>()?;
    let text = render(&vars, &outcomes);
    eprint!("{text}");
    std::fs::write(&p.sensitivity, text).with_context(|| p.sensitivity.display().to_string())
}

/// The default table as `ct-read` uses it (the committed file; when it is the one built in,
/// `Calibration::is_builtin` knows it by its content, and zero tracking rebuilds it for the
/// bias it finds).
fn default_table(path: &Path) -> Result<Calibration> {
    let cal = Calibration::load(path).with_context(|| "loading the default table")?;
    if !cal.is_builtin() {
        eprintln!(
            "{} differs from the table built into this spicegen: read as another table (zero tracking does not \
             correct it); rebuild and run again to study the built-in one",
            path.display()
        );
    }
    Ok(cal)
}

/// Column headers of the recordings with current: the sines, then the distorted loads.
fn headers() -> Vec<String> {
    SENS_AMPS.iter().map(|a| format!("{a} A")).chain(LOADS.iter().map(|l| l.0.to_owned())).collect()
}

type CalResult = std::result::Result<Calibrated, String>;

/// A report heading for `start`.
fn heading(start: Start) -> String {
    let t = start.title();
    t[..1].to_uppercase() + &t[1..]
}

fn render(vars: &[Variant], outcomes: &[Outcome]) -> String {
    let hdr = headers().iter().map(|h| format!(" {h} |")).collect::<String>();
    let rule = "---|".repeat(headers().len());
    let desc = |amps: &[f64]| amps.iter().map(|a| format!("{a} A")).collect::<Vec<_>>().join(", ");
    let (cal2, cal3) = (desc(&CAL_AMPS), desc(&CAL_AMPS_3));
    let top = SENS_AMPS[SENS_AMPS.len() - 1];
    let mut s = format!(
        "# Sensitivity to the real sensor (generated)\n\nWritten by `cargo run -p spicegen --release -- \
         sensitivity` (also run by `all`; {}) from the committed netlists and the committed default \
         table; do not edit by hand. spice/README.md explains the model.\n\n\
         **How.** Each sensor below differs from the model in one respect. Its chain is simulated \
         at 50 Hz sines and with two distorted loads, the loads goldens' switch-mode supply \
         (`smps irms=3`, crest factor 3.5) and leading-edge dimmer firing at 90 degrees (`dimmer \
         full=5.656854 fire=90`, 4 A RMS), all through the same perturbed chain (10 cycles to \
         settle, then one cycle at {PPC} points). The cycle is tiled into {RECORD_S} s of ADC \
         codes at the fast link profile's {RATE_HZ:.1} Sa/s (asynchronous to the mains) and read \
         by ct-core's estimator exactly as `ct-read analyze` reads them: the default method \
         with the default table (calibration/efergy-default.csv, mains frequency estimated per \
         1 s window). Cells are the mean of the full windows, as errors in % of the true RMS. \
         Each sensor is then calibrated as `ct-read calibrate` does (`ct_core::identify::calibrate`) \
         from its own sine recordings at {cal2} (and at {cal3}) with their true currents, and \
         every recording is read again through the table written: the reference sines are right \
         by construction, the other sines and the distorted loads show what the identified \
         clamp stands for.\n\n\
         **Without a rest, and after a rest.** The estimator tracks the no-current level \
         (`ct_core::zero`): a 1 s window whose codes stay within 3 codes of each other (above \
         code 40) is at rest, its mean code is the no-current level, and when that level is a \
         code or more from the table's, the estimator solves the clamp model for the bias that \
         puts it there and reads through the model and table for that bias. It can only do so \
         once the load has rested for a whole window. So every recording is read twice: \
         *without a rest*, alone (a meter started with the load already on: it never sees the \
         no-current level); and *after a rest*, behind the same sensor's own {RECORD_S} s 0 A \
         recording, the estimator running continuously over both; the cells are then the mean \
         of the full windows after the rest (the window straddling the boundary left out). The \
         calibrations of each case read their reference recordings the same way. The 0 A \
         recording is itself at rest, so it reads the same in both cases.\n\n",
        ngspice_version()
    );
    let _ = write!(
        s,
        "## Readings with the default table\n\n`0 A` is what the host reads with no current (a \
         phantom reading if not 0); `offset`: the no-current level's offset from the table's that \
         zero tracking measured on the 0 A recording (the reading's `zero_offset_codes`, ADC \
         codes); † = samples clipped at full scale (over-range flag: the reading is a lower \
         bound); `gain asked`: reference / reading at {cal2}; last column: peak ADC input at \
         {top} A (2500 mV = full scale).\n"
    );
    for start in Start::ALL {
        let _ = write!(
            s,
            "\n### {}\n\n| sensor | 0 A | offset |{hdr} gain asked at {cal2} | peak at {top} A |\n\
             |---|---|---|{rule}---|---|\n",
            heading(start)
        );
        for (v, o) in vars.iter().zip(outcomes) {
            let p = o.pass(start);
            let offset = p.zero_offset.map_or("none".into(), |c| format!("{c:+.2}"));
            let _ = write!(s, "| {} | {:.3} A | {offset} |", v.label, p.zero_a);
            for (e, clipped) in &p.before {
                let _ = write!(s, " {}{} |", cell(*e), if *clipped { " †" } else { "" });
            }
            let gains = p.gains.iter().map(|g| format!("{g:.4}")).collect::<Vec<_>>().join(" / ");
            let _ = writeln!(s, " {gains} | {:.0} mV |", o.peak_mv);
        }
    }
    let _ = write!(
        s,
        "\n## What the reference points identify\n\nThe clamp `ct_core::identify` finds: the \
         magnetizing inductance Lm that makes every reference point ask for the same gain, the \
         range of Lm within which the points still agree to {} % (what two reference meters good \
         to that allow; where no Lm brings them that close, the range shrinks to the best fit \
         itself), the gain (the geometric mean of what the points ask at that Lm; the \
         model's turns ratio over the clamp's for a plain ratio departure) and how far the \
         points still disagree (RMS of their log gains, %). `true Lm` is the simulated clamp's; \
         for the other departures there is no true Lm beyond the model's 0.6 H, and what is \
         found is the Lm that best mimics them.\n",
        identify::REFERENCE_ACCURACY * 100.0
    );
    for start in Start::ALL {
        let _ = write!(
            s,
            "\n### {}\n\n| sensor | true Lm | {cal2}: Lm (range) | gain | spread | {cal3}: Lm (range) | gain | spread |\n\
             |---|---|---|---|---|---|---|---|\n",
            heading(start)
        );
        for (v, o) in vars.iter().zip(outcomes) {
            let p = o.pass(start);
            let _ = writeln!(
                s,
                "| {} | {} H | {} | {} |",
                v.label,
                v.params.lm_h,
                fit_cells(&p.after),
                fit_cells(&p.after3)
            );
        }
    }
    for (title, cal, pick) in [
        ("two-point", &cal2, (|p: &Pass| &p.after) as fn(&Pass) -> &CalResult),
        ("three-point", &cal3, |p: &Pass| &p.after3),
    ] {
        let _ = write!(
            s,
            "\n## After the {title} calibration ({cal})\n\nEvery recording read again through the \
             identified table (the estimator runs the model with the identified Lm). Targets: 1 % \
             on sines from 1 A, 2 % at 0.5 A, {DISTORTED_TARGET_PCT} % on the distorted loads; \
             **bold** = outside its target (a clipped reading is a lower bound and not judged).\n"
        );
        for start in Start::ALL {
            let _ = write!(s, "\n### {}\n\n| sensor |{hdr}\n|---|{rule}\n", heading(start));
            for (v, o) in vars.iter().zip(outcomes) {
                let p = o.pass(start);
                let _ = write!(s, "| {} |", v.label);
                match pick(p) {
                    Ok(c) => {
                        for (k, e) in c.errors.iter().enumerate() {
                            let clipped = p.before[k].1;
                            let text = format!("{}{}", cell(*e), if clipped { " †" } else { "" });
                            if !clipped && e.abs() > target_for(k) && *e > -99.99 {
                                let _ = write!(s, " **{text}** |");
                            } else {
                                let _ = write!(s, " {text} |");
                            }
                        }
                    }
                    Err(why) => {
                        let _ = write!(s, " calibration failed: {why} |{}", " |".repeat(headers().len() - 1));
                    }
                }
                s.push('\n');
            }
        }
    }
    s.push_str(&conclusion(vars, outcomes));
    s
}

/// The Lm (range), gain and spread cells of one calibration.
fn fit_cells(c: &CalResult) -> String {
    match c {
        Ok(Calibrated { clamp: Some(LmFit { lm_h, gain, spread, range_h, .. }), .. }) => {
            format!("{lm_h:.3} H ({:.2}-{:.2} H) | {gain:.4} | {:.2} %", range_h.0, range_h.1, spread * 100.0)
        }
        Ok(Calibrated { clamp: None, .. }) => "not identified | | ".into(),
        Err(why) => format!("failed: {why} | | "),
    }
}

/// Worst |error| (%) of one calibration over the sines (clipped and squelched readings left
/// out) and over each distorted load, and whether every judged reading meets its target.
struct Worst {
    sines: f64,
    loads: Vec<f64>,
    within: bool,
}

fn worst(errors: &[f64], before: &[(f64, bool)]) -> Worst {
    let judged = |k: &usize| !before[*k].1 && errors[*k] > -99.99;
    let n = SENS_AMPS.len();
    let sines = (0..n).filter(judged).map(|k| errors[k].abs()).fold(0.0, f64::max);
    let loads = (n..errors.len()).map(|k| errors[k].abs()).collect();
    let within = (0..errors.len()).filter(judged).all(|k| errors[k].abs() <= target_for(k));
    Worst { sines, loads, within }
}

/// "sines x %, SMPS 3 A y %, dimmer 90° 4 A z %".
fn fmt_worst(w: &Worst) -> String {
    let loads = LOADS.iter().zip(&w.loads).map(|(l, e)| format!("{} {e:.1} %", l.0)).collect::<Vec<_>>().join(", ");
    format!("sines {:.1} %, {loads}", w.sines)
}

/// The three stages of a pass: the default table, after two points, after three; each as
/// the errors of every recording with current, if the calibration succeeded.
fn stages(p: &Pass) -> [(&'static str, Option<Vec<f64>>); 3] {
    [
        ("with the default table", Some(p.before.iter().map(|b| b.0).collect())),
        ("after two points", p.after.as_ref().ok().map(|c| c.errors.clone())),
        ("after three points", p.after3.as_ref().ok().map(|c| c.errors.clone())),
    ]
}

/// What the study measured, in words: generated so that it stays true when the numbers move.
fn conclusion(vars: &[Variant], outcomes: &[Outcome]) -> String {
    let mut s = String::from("\n## What two and three resistive points identify\n");
    for start in Start::ALL {
        let passes: Vec<&Pass> = outcomes.iter().map(|o| o.pass(start)).collect();
        let _ = write!(s, "\n### {}\n\n{}", heading(start), points_conclusion(vars, &passes));
    }
    s.push_str(&tracking_conclusion(vars, outcomes));
    s
}

fn list(v: &[String]) -> String {
    if v.is_empty() {
        "none".to_owned()
    } else {
        v.join("; ")
    }
}

/// What two and three points identify, read one way.
fn points_conclusion(vars: &[Variant], passes: &[&Pass]) -> String {
    let model = ModelParams::default();
    let perturbed = || vars.iter().zip(passes.iter().copied()).skip(1);
    let lm_only = |v: &Variant| ModelParams { lm_h: model.lm_h, ..v.params } == model;
    // The worst of one calibration (`pick`) over the perturbed sensors that `keep` selects.
    let overall = |keep: &dyn Fn(&Variant) -> bool, pick: &dyn Fn(&Pass) -> Option<Vec<f64>>| -> String {
        let chosen: Vec<&Pass> = perturbed().filter(|(v, _)| keep(v)).map(|(_, p)| p).collect();
        let ws: Vec<Worst> = chosen.iter().filter_map(|p| pick(p).map(|e| worst(&e, &p.before))).collect();
        if ws.len() < chosen.len() {
            return "(a calibration failed)".into();
        }
        fmt_worst(&Worst {
            sines: ws.iter().map(|w| w.sines).fold(0.0, f64::max),
            loads: (0..LOADS.len()).map(|k| ws.iter().map(|w| w.loads[k]).fold(0.0, f64::max)).collect(),
            within: ws.iter().all(|w| w.within),
        })
    };
    let before = |p: &Pass| Some(p.before.iter().map(|b| b.0).collect());
    let after2 = |p: &Pass| p.after.as_ref().ok().map(|c| c.errors.clone());
    let after3 = |p: &Pass| p.after3.as_ref().ok().map(|c| c.errors.clone());
    let all = |_: &Variant| true;
    let inductances =
        perturbed().filter(|(v, _)| lm_only(v)).map(|(v, _)| format!("{}", v.params.lm_h)).collect::<Vec<_>>();

    let mut s = String::new();
    let _ = writeln!(
        s,
        "Worst errors (clipped and squelched readings left out). Clamps that differ from the model \
         only in Lm ({} H): with the default table {}; after the two-point calibration {}; after \
         the three-point calibration {}. Over every perturbed sensor: with the default table {}; \
         after two points {}; after three points {}.\n",
        inductances.join(", "),
        overall(&lm_only, &before),
        overall(&lm_only, &after2),
        overall(&lm_only, &after3),
        overall(&all, &before),
        overall(&all, &after2),
        overall(&all, &after3),
    );
    // Per sensor: absorbed (every judged reading within target after two points) or not.
    let mut absorbed = Vec::new();
    let mut left = Vec::new();
    for (v, p) in perturbed() {
        let (Ok(c2), Ok(c3)) = (&p.after, &p.after3) else {
            left.push(format!("{}: a calibration failed", v.label));
            continue;
        };
        let (w2, w3) = (worst(&c2.errors, &p.before), worst(&c3.errors, &p.before));
        let lm = |c: &Calibrated| c.clamp.map_or("no Lm".into(), |f| format!("Lm {:.2} H", f.lm_h));
        if w2.within {
            let gain = c2.clamp.map_or("-".into(), |f| format!("{:.4}", f.gain));
            absorbed.push(format!("{}: {}, gain {gain}", v.label, lm(c2)));
        } else {
            left.push(format!(
                "{}, taken for {}: after two points {}; after three {}{}",
                v.label,
                lm(c2),
                fmt_worst(&w2),
                fmt_worst(&w3),
                if w3.within { " (within target)" } else { "" }
            ));
        }
    }
    let _ = writeln!(
        s,
        "**Absorbed** by the identified Lm and gain (every judged reading within its target after \
         the two-point calibration, distorted loads included): {}.\n",
        list(&absorbed)
    );
    let _ = writeln!(
        s,
        "**Not absorbed** (some reading outside its target after two points; the worst errors \
         after two and three points):\n"
    );
    for l in &left {
        let _ = writeln!(s, "- {l}");
    }
    // Whether the points themselves tell: two points always fit two unknowns; a third can
    // disagree with the best Lm and gain, which `ct-read calibrate` reports as the spread.
    let spread = |p: &Pass, three: bool| {
        let c = if three { &p.after3 } else { &p.after };
        c.as_ref().ok().and_then(|c| c.clamp).map_or(f64::NAN, |f| f.spread * 100.0)
    };
    let max2 = perturbed().map(|(_, p)| spread(p, false)).fold(0.0, f64::max);
    let accuracy = identify::REFERENCE_ACCURACY * 100.0;
    let (flagged, quiet): (Vec<_>, Vec<_>) = perturbed().partition(|(_, p)| spread(p, true) > accuracy);
    let list_spread = |v: &[(&Variant, &Pass)]| {
        v.iter().map(|(v, p)| format!("{} {:.2} %", v.label, spread(p, true))).collect::<Vec<_>>()
    };
    let _ = writeln!(
        s,
        "\n**Whether the points tell.** Two points never reveal a departure that is not Lm: two \
         points fit two unknowns, and their spread is at most {max2:.2} % for every sensor. With \
         three points the spread exceeds the {accuracy} % the reference meters are assumed good to \
         for: {}; it stays within it for: {}.",
        list(&list_spread(&flagged)),
        list(&list_spread(&quiet))
    );
    let flagged_cells = |pred: fn(&(f64, bool)) -> bool| -> Vec<String> {
        perturbed()
            .flat_map(|(v, p)| {
                headers()
                    .into_iter()
                    .zip(&p.before)
                    .filter(move |(_, b)| pred(b))
                    .map(move |(h, _)| format!("{} at {h}", v.label))
            })
            .collect()
    };
    let clipped = flagged_cells(|b| b.1);
    let zeroed = flagged_cells(|b| b.0 <= -99.99);
    let phantoms: Vec<String> =
        perturbed().filter(|(_, p)| p.zero_a >= 0.001).map(|(v, p)| format!("{} {:.3} A", v.label, p.zero_a)).collect();
    let _ = writeln!(
        s,
        "\nClipped at full scale (left out above): {}. Read as 0 A with the default table \
         (squelched: the signal stays within a few codes of the table's zero code): {}. Readings \
         with no current of 1 mA or more: {}.",
        list(&clipped),
        list(&zeroed),
        list(&phantoms)
    );
    s
}

/// What zero tracking changes: the offsets it measures, and for the sensors whose no-current
/// level moved, the worst errors without and after a rest at every stage.
fn tracking_conclusion(vars: &[Variant], outcomes: &[Outcome]) -> String {
    let perturbed = || vars.iter().zip(outcomes).skip(1);
    // The estimator follows a level a code or more from the table's.
    let moved = |o: &Outcome| o.rested.zero_offset.is_some_and(|c| c.abs() >= 1.0);
    let offsets: Vec<String> = perturbed()
        .filter(|(_, o)| o.rested.zero_offset.is_some_and(|c| c.abs() >= 0.1))
        .map(|(v, o)| format!("{} {:+.2}", v.label, o.rested.zero_offset.unwrap_or(0.0)))
        .collect();
    let unseen: Vec<&str> = vars
        .iter()
        .zip(outcomes)
        .filter(|(_, o)| o.rested.zero_offset.is_none())
        .map(|(v, _)| v.label.as_str())
        .collect();
    let phantom = |start: Start| outcomes.iter().map(|o| o.pass(start).zero_a).fold(0.0, f64::max);
    let mut s = String::from("\n## What zero tracking does\n\n");
    let _ = writeln!(
        s,
        "**Offsets measured at rest** (codes; the estimator follows one of a code or more): {}; \
         every other sensor within 0.1 code{}. The largest reading with no current is {:.3} A \
         without a rest and {:.3} A after one (the 0 A recording is its own rest: its first window \
         already sets the level).\n",
        list(&offsets),
        if unseen.is_empty() { String::new() } else { format!(" (no rest seen: {})", unseen.join(", ")) },
        phantom(Start::Cold),
        phantom(Start::Rested),
    );
    let _ = writeln!(
        s,
        "**Sensors whose no-current level moved** (worst errors, clipped and squelched readings \
         left out, without a rest → after a rest):\n"
    );
    let mut any = false;
    for (v, o) in perturbed().filter(|(_, o)| moved(o)) {
        any = true;
        let parts: Vec<String> = stages(&o.cold)
            .into_iter()
            .zip(stages(&o.rested))
            .map(|((name, cold), (_, rested))| match (cold, rested) {
                (Some(c), Some(r)) => {
                    let (wc, wr) = (worst(&c, &o.cold.before), worst(&r, &o.rested.before));
                    let loads = LOADS
                        .iter()
                        .zip(wc.loads.iter().zip(&wr.loads))
                        .map(|(l, (a, b))| format!("{} {a:.1} → {b:.1} %", l.0))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let verdict = if wr.within { " (within target)" } else { "" };
                    format!("{name}: sines {:.1} → {:.1} %, {loads}{verdict}", wc.sines, wr.sines)
                }
                _ => format!("{name}: a calibration failed"),
            })
            .collect();
        let offset = o.rested.zero_offset.unwrap_or(0.0);
        let _ = writeln!(s, "- {} (offset {offset:+.2} codes): {}.", v.label, parts.join("; "));
    }
    if !any {
        s.push_str("- none\n");
    }
    // Where a rest made a judged reading worse by more than half a point and left it outside
    // its target: what tracking costs, if anything.
    let mut worse = Vec::new();
    let mut unmoved_diff = 0.0f64;
    for (v, o) in perturbed() {
        for ((name, cold), (_, rested)) in stages(&o.cold).into_iter().zip(stages(&o.rested)) {
            let (Some(c), Some(r)) = (cold, rested) else { continue };
            for (k, h) in headers().iter().enumerate() {
                let judged = !o.cold.before[k].1 && !o.rested.before[k].1 && c[k] > -99.99 && r[k] > -99.99;
                if !judged {
                    continue;
                }
                if !moved(o) {
                    unmoved_diff = unmoved_diff.max((r[k] - c[k]).abs());
                }
                if r[k].abs() > c[k].abs() + 0.5 && r[k].abs() > target_for(k) {
                    worse.push(format!("{} at {h} {name}: {:+.2} → {:+.2} %", v.label, c[k], r[k]));
                }
            }
        }
    }
    let _ = writeln!(
        s,
        "\nFor the sensors whose level moved less than a code, readings after a rest differ from \
         those without by at most {unmoved_diff:.2} points (clipped and squelched readings left out). \
         Readings a rest made worse by more than half a point and left outside their target: {}.",
        list(&worse)
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
