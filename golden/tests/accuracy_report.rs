//! Keeps `golden/ACCURACY.md` in step with the code, the table and the goldens (a snapshot with
//! an overwrite switch): it is regenerated here and must match the committed file.
//! Regenerate with `UPDATE_GOLDEN=1 cargo test -p ct-golden --test accuracy_report`.

use ct_core::calibration::{Calibration, DEFAULT_TABLE_NAME};
use ct_core::estimate::Method;
use ct_golden::loads::{
    calibrated_markdown, comparison_markdown, known_lm_markdown, loads_manifest, loads_report, WINDOW_S,
};
use ct_golden::manifest;
use ct_golden::random::{evaluate_dir, evaluate_half, failures, HalfRows, HALVES};
use ct_golden::report::{evaluate, markdown};
use std::sync::OnceLock;

/// Both halves of the randomized loads goldens read by the default method, once for both tests.
fn random_rows() -> &'static [(&'static str, HalfRows)] {
    static ROWS: OnceLock<Vec<(&'static str, HalfRows)>> = OnceLock::new();
    ROWS.get_or_init(|| HALVES.iter().map(|&h| (h, evaluate_half(h).unwrap())).collect())
}

/// The records fresh sets found wrong (`golden/data/loads-found/`) read as the randomized
/// halves are, once for both tests that judge them.
fn found_rows() -> &'static HalfRows {
    static ROWS: OnceLock<HalfRows> = OnceLock::new();
    ROWS.get_or_init(|| evaluate_dir(&ct_golden::golden_dir().join("loads-found")).unwrap())
}

/// The loads goldens (`golden/data/loads/`) read by the default method, once for both tests.
fn loads_invert() -> &'static [ct_golden::loads::Row] {
    static ROWS: OnceLock<Vec<ct_golden::loads::Row>> = OnceLock::new();
    ROWS.get_or_init(|| loads_report(Method::Invert).unwrap())
}

/// [`loads_invert`]'s rows of the model's own clamp (other clamps are read uncalibrated there,
/// with no target), paired with their cases.
fn loads_rows() -> HalfRows {
    let cases = loads_manifest().unwrap();
    loads_invert()
        .iter()
        .filter_map(|row| cases.iter().find(|c| c.case == row.case && c.lm_h == 0.6).map(|c| (c.clone(), row.clone())))
        .collect()
}

/// The randomized loads goldens (`golden/data/loads-random/`, dev and held-out halves) and the
/// loads goldens: every reading within its target or within the bound it states
/// (`ct_core::estimate::Reading::bound_pct`; `short` readings state none), and every record's
/// energy within 1 % or within the bound its readings' bounds give
/// (`ct_core::bound::energy_bound_low` and `energy_bound_high`).
#[test]
fn randomized_loads_are_right_or_say_so() {
    let mut wrong = Vec::new();
    for (half, rows) in random_rows() {
        assert!(rows.len() >= 30, "{half}: {} rows", rows.len());
        wrong.extend(failures(rows).into_iter().map(|f| format!("{half}: {f}")));
    }
    let loads = loads_rows();
    assert!(loads.len() >= 30, "loads: {} rows", loads.len());
    wrong.extend(failures(&loads).into_iter().map(|f| format!("loads: {f}")));
    assert!(wrong.is_empty(), "{} failures:\n{}", wrong.len(), wrong.join("\n"));
}

/// Records that fresh randomized sets (made after the code was written, read once) found read
/// wrong, kept with their manifest rows in `golden/data/loads-found/`: every reading within its
/// target or its bound, every record's energy within 1 % or its bound, as above. Each of them
/// failed that before the change that fixed it (see `golden/FRESH_SETS.md`).
#[test]
fn records_fresh_sets_found_wrong_are_right_or_say_so() {
    let rows = found_rows();
    // Twenty records (the other twelve are six clamps' calibration points), both profiles.
    assert_eq!(rows.len(), 40, "{} rows", rows.len());
    let wrong = failures(rows);
    assert!(wrong.is_empty(), "{} failures:\n{}", wrong.len(), wrong.join("\n"));
}

/// The mains frequency every reading reports (`Reading::hz`, which `ct-read` sends to every
/// sink) lies within [`REPORTED_HZ_TOL`] of the generator's, over the randomized halves, the
/// loads goldens of the model's clamp and the records fresh sets found wrong (among them a
/// motor switched on 25 ms before its first window's end, whose frequency was reported 9.8 Hz
/// off before `MainsHz::told`). The worst on the committed and fresh sets was 0.25 Hz, a
/// record's first window where loads switched with nothing before them to measure against.
#[test]
fn reported_mains_frequencies_are_near_the_truth() {
    let loads = loads_rows();
    let all = random_rows().iter().flat_map(|(_, rows)| rows.iter()).chain(&loads).chain(found_rows());
    let (mut reported, mut off) = (0, Vec::new());
    for (case, row) in all {
        for r in &row.readings {
            let Some(hz) = r.hz else { continue };
            reported += 1;
            if (hz - case.mains_hz).abs() > REPORTED_HZ_TOL {
                off.push(format!(
                    "{} {} {:.0}-{:.0} s: {hz:.3} Hz for {}",
                    case.case, row.profile, r.t0, r.t1, case.mains_hz
                ));
            }
        }
    }
    assert!(reported > 1000, "{reported} readings reported a frequency");
    assert!(off.is_empty(), "{} of {reported} off by more than {REPORTED_HZ_TOL} Hz:\n{}", off.len(), off.join("\n"));
}

/// How far a reported mains frequency may lie from the truth, Hz ([`reported_mains_frequencies_are_near_the_truth`]).
const REPORTED_HZ_TOL: f64 = 0.3;

#[test]
fn committed_accuracy_report_is_current() {
    let results = evaluate(&Calibration::builtin(), &manifest().unwrap()).unwrap();
    let mut report = markdown(&results, DEFAULT_TABLE_NAME);
    let cases = loads_manifest().unwrap();
    let invert = loads_invert().to_vec();
    let [fit, table] = [Method::Fit, Method::Table].map(|m| loads_report(m).unwrap());
    report.push_str(&format!(
        "\n## Loads it was not built on\n\n\
         The SPICE goldens of `golden/data/loads/` (burst-fire heaters, motors switching with inrush, steps, a \
         ramp, dimmers from 30 to 150 degrees, clamps with another magnetizing inductance, a mixed household \
         record), sampled by ngspice at both rates, read in {WINDOW_S} s windows (the record's last, shorter \
         window included). Each reading is compared with the true RMS of the source over that reading's own \
         span (exact integration of the stimulus, never the sensor model); `*` marks a reading whose span holds a \
         load change (the RMS of its cycles varies by more than 3 %). *Energy* is over the whole record. Targets: \
         1 % from 1 A (2 % at 0.5-1 A, 5 % at 0.2-0.5 A), 2 % for distorted currents, 3 % for a reading that holds \
         a change, 1 % for energy. The clamps with another Lm are read with the default model and table, before \
         any calibration (no target).\n\n{}",
        comparison_markdown(&cases, [&invert, &fit, &table])
    ));
    report.push_str(&format!(
        "\n### Clamps with another magnetizing inductance, told it\n\n\
         The same cases with the inductance given (`ct-read --clamp-lm H`): the model is run backwards with it; \
         the table stays the built-in one (0.6 H), as the baseline the inversion corrects.\n\n{}",
        known_lm_markdown(&cases).unwrap()
    ));
    report.push_str(&format!(
        "\n### Clamps with another magnetizing inductance, calibrated with two resistive recordings\n\n\
         How a user gets there: `ct-read calibrate --point 2a.csv=2.00 --point 40a.csv=40.0` with recordings \
         of two resistive loads and a reference meter's readings. Here each clamp's 2 A and 40 A sine records \
         at the same rate are the points, their true RMS the reference (`ct_golden::loads::calibrated`, the \
         computation of `ct-read calibrate`); the inductance identified (and the range of inductances that \
         references good to 0.5 % allow) and the gain are shown, then every record of that clamp is read \
         through the new table by the default method. The records' last 0.05 s is a reading flagged `short` (no \
         accuracy stated) and left out of *worst* and *meets*; *meets* counts a reading within the bound it states \
         (`bound_pct`) as meeting its target, and a record's energy within the bound its readings give.\n\n{}",
        calibrated_markdown(&cases).unwrap().0
    ));
    report.push_str(
        "\n## Randomized loads\n\n\
         The SPICE goldens of `golden/data/loads-random/` (`spicegen loads-random`, seed 20261130): burst-fire heaters \
         (regular and irregular patterns), thermostatic motor loads with inrush, steps up and down, leading- and \
         trailing-edge dimmers at 10-170 degrees, switch-mode supplies, sines, short mixtures and a 60 s household \
         record, at mains frequencies of 45-65 Hz, and clamps of 0.3-5 H read after a two-point calibration with \
         their own resistive records; parameters drawn from the distribution stated in the set's READMEs, fixed \
         before any result was seen. The **dev** half is what fixes were checked on; the **held-out** half was only \
         ever reported. Default method, 1 s windows; the targets as above. A reading flagged `changing` or `approx` \
         states a bound on its own error (`bound_pct`, `ct_core::bound`: the spread between the estimator's \
         reconstructions of the window, the share of its energy read with a borrowed correction, the hole in the \
         phases its samples cover; where they bunch on a dozen phases, 90 % or what the table and the bunches can \
         read a narrow waveform high by; where single cycles from rest were fitted sample by sample, \
         `ct_core::burst_fit`, the RMS either side of the fit's at which its samples are no longer explained), \
         fitted on the **dev** half and the loads goldens only; a record's energy \
         bound, on the side its error fell, is the sum of its readings' bounds on that side (or targets) weighted \
         by energy (`ct_core::bound::energy_bound_low` and `energy_bound_high`). A reading outside its target must state a bound that holds; \
         *bound broken* and *unflagged miss* fail `randomized_loads_are_right_or_say_so` (`cargo test --release -p \
         ct-golden --test accuracy_report`), and so does a record's energy outside both 1 % and its bound. *Within \
         it* is the coverage: of the readings stating a bound, those whose error is within it (whether or not \
         they are within their target).\n",
    );
    for (half, rows) in random_rows() {
        report.push_str(&format!("\n### {half}\n\n{}", ct_golden::random::markdown(rows)));
    }
    report.push_str(&format!(
        "\n### The loads goldens, by the same rule\n\nThe records of `golden/data/loads/` of the model's own clamp \
         (the table *Loads it was not built on* above), default method.\n\n{}",
        ct_golden::random::markdown(&loads_rows())
    ));
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ACCURACY.md");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &report).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == report,
        "golden/ACCURACY.md is stale: run `UPDATE_GOLDEN=1 cargo test -p ct-golden --test accuracy_report`"
    );
}
