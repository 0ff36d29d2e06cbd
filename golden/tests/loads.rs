//! The host estimator on the loads goldens (`golden/data/loads/`): load classes it was never
//! tuned on. Prints, per case, profile and method, the worst reading's error against the true
//! RMS over that reading's own span, whether that reading contains a load change, and the
//! energy error over the record. Run with
//! `cargo test --release -p ct-golden --test loads -- --nocapture`.
//!
//! Asserted: every file loads, every reading lies inside its record, the truth is positive
//! exactly where current flows, and the default method is never silently wrong: a reading (of
//! the model's own clamp) that misses its accuracy target by more than a quarter of it carries
//! a `changing` or `approx` flag. The accuracy itself is in `golden/ACCURACY.md`.

use ct_core::estimate::EstimatorConfig;
use ct_core::estimate::Method;
use ct_golden::loads::{
    calibrated, calibrated_markdown, current_at, evaluate, evaluate_with, loads_manifest, loads_report, markdown,
    meets_or_says_so, target, LoadCase,
};

#[test]
fn estimator_on_unseen_loads() {
    let cases = loads_manifest().unwrap();
    for method in [Method::Invert, Method::Table] {
        let rows = loads_report(method).unwrap();
        println!("\n## method {method:?}\n\n{}", markdown(&rows));
        assert_eq!(rows.len(), 2 * cases.len());
        for row in &rows {
            let case: &LoadCase = cases.iter().find(|c| c.case == row.case).unwrap();
            assert!(!row.readings.is_empty(), "{} {}: no readings", row.case, row.profile);
            for r in &row.readings {
                assert!(
                    r.t0 >= 0.0 && r.t1 <= case.duration_s + 1e-9 && r.t1 > r.t0,
                    "{} {}: reading {}-{} outside the record 0-{}",
                    row.case,
                    row.profile,
                    r.t0,
                    r.t1,
                    case.duration_s
                );
                assert!(r.read_a.is_finite() && r.truth_a.is_finite());
                // Truth is positive exactly where current flows (checked every 50 us).
                let n = ((r.t1 - r.t0) / 50e-6) as usize;
                let flows = (0..n).any(|k| current_at(case, r.t0 + (k as f64 + 0.5) * 50e-6) != 0.0);
                assert_eq!(r.truth_a > 0.0, flows, "{} {} {}-{}", row.case, row.profile, r.t0, r.t1);
            }
        }
    }
}

#[test]
fn a_reading_that_misses_its_target_says_so() {
    let mut silent = Vec::new();
    for case in loads_manifest().unwrap().iter().filter(|c| c.lm_h == 0.6) {
        for profile in ["launchpad", "fast"] {
            let row = evaluate(case, profile, Method::Invert).unwrap();
            for r in &row.readings {
                let (Some(t), Some(e)) = (target(&case.kind, r.truth_a, r.change), r.rel()) else { continue };
                if e.abs() > 1.25 * t && !(r.flags.changing || r.flags.approx || r.flags.short) {
                    silent.push(format!(
                        "{} {profile} {:.2}-{:.2} s: {:+.2} % (target {} %)",
                        case.case,
                        r.t0,
                        r.t1,
                        e * 100.0,
                        t * 100.0
                    ));
                }
            }
        }
    }
    assert!(silent.is_empty(), "readings wrong without a flag:\n{}", silent.join("\n"));
}

/// A clamp whose magnetizing inductance differs from the model's (0.3 to 5 H), read by the
/// default method told that inductance: the energy of every record (sines from 0.5 to 40 A, a
/// switch-mode supply, a dimmer) within 2 % at both rates, or, for a record none of whose
/// readings is held to the usual targets (all flagged `approx`: a narrow supply's current on
/// the 603.5 Sa/s link, whose readings move by ±3 % for ±0.0005 Hz of mains frequency), within
/// the energy bound those readings state. Without it the same records read 42 % low to 70 %
/// high (`golden/ACCURACY.md`).
#[test]
fn a_clamp_with_its_own_inductance_given_reads_right() {
    let mut wrong = Vec::new();
    for case in loads_manifest().unwrap().iter().filter(|c| c.lm_h != 0.6) {
        for profile in ["launchpad", "fast"] {
            let cfg = EstimatorConfig { clamp_lm_h: Some(case.lm_h), ..EstimatorConfig::default() };
            let row = evaluate_with(case, profile, cfg).unwrap();
            let all_approx = row.readings.iter().all(|r| r.flags.approx);
            let bounded = all_approx && row.energy_bound.is_some_and(|b| row.energy_error.abs() <= b);
            if row.energy_error.is_nan() || row.energy_error.abs() > 0.02 && !bounded {
                wrong.push(format!("{} {profile}: energy {:+.2} %", case.case, row.energy_error * 100.0));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// A clamp whose magnetizing inductance differs from the model's (0.3 to 5 H), calibrated as a
/// user would with two resistive recordings (its 2 A and 40 A sines, the stimulus's true RMS as
/// the reference meter): the inductance is identified within its stated range, and every record
/// of that clamp (sines from 0.5 to 40 A, a switch-mode supply, a dimmer at 90 degrees) then
/// meets the reading targets (or is flagged `approx` and within its stated bound) and its
/// energy is within 1 %, at both rates. Without calibration
/// the same records read 42 % low to 70 % high (`golden/ACCURACY.md`).
#[test]
fn two_resistive_points_calibrate_any_clamp() {
    let cases = loads_manifest().unwrap();
    let (_, rows) = calibrated_markdown(&cases).unwrap();
    assert!(rows.len() >= 50, "{} rows", rows.len());
    let wrong: Vec<String> = rows
        .iter()
        .filter(|(case, row)| !meets_or_says_so(case, row))
        .map(|(case, row)| {
            format!(
                "{} {}: worst {:?}, energy {:+.2} %",
                case.case,
                row.profile,
                row.worst().and_then(|r| r.rel()),
                row.energy_error * 100.0
            )
        })
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    for lm in [0.3, 0.45, 0.9, 2.9, 5.0] {
        for profile in ["launchpad", "fast"] {
            let fit = calibrated(&cases, lm, profile).unwrap().clamp.unwrap();
            assert!(fit.range_h.0 <= lm && lm <= fit.range_h.1, "{lm} H {profile}: {fit:?}");
        }
    }
}

/// The stretch goal of issue 10: with no reference meter, the waveform of one resistive load
/// (each clamp's 10 A sine, 2 s at 8196.7 Sa/s) identifies its magnetizing inductance within
/// the range it states, and the table written for it (gain 1: these clamps have the model's
/// turns ratio) reads every record of that clamp (sines 0.5-40 A, SMPS, dimmer) and its
/// energy within 1.5 % (the identification is 0-19 % off on 2 s records, which two reference
/// points bring to 1 %). Below the knee (2 A) the shape does not tell, and at 603.5 Sa/s it
/// is not resolved: both say so rather than guess.
#[test]
fn a_resistive_waveform_alone_identifies_the_inductance() {
    use ct_core::identify::{lm_from_waveform, waveform_table, IdentifyError};
    let cases = loads_manifest().unwrap();
    let rate = LoadCase::rate("fast").unwrap();
    let mut wrong = Vec::new();
    for lm in [0.3, 0.45, 0.9, 2.9, 5.0] {
        let find = |suffix: &str| cases.iter().find(|c| c.lm_h == lm && c.case.ends_with(suffix)).unwrap();
        let ten = find("sine-50hz-10a");
        let fit = lm_from_waveform(&ten.case, &ct_golden::loads::codes(ten, "fast").unwrap(), rate).unwrap();
        assert!(fit.range_h.0 <= lm && lm <= fit.range_h.1, "{lm} H: {fit:?}");
        let table = waveform_table(&fit, &ten.case, "shape.csv").table;
        for case in cases.iter().filter(|c| c.lm_h == lm) {
            let row = ct_golden::loads::evaluate_table(case, "fast", &table, EstimatorConfig::default()).unwrap();
            let worst = row.worst_full().and_then(|r| r.rel()).unwrap_or(f64::NAN);
            if !(worst.abs() <= 0.015 && row.energy_error.abs() <= 0.015) {
                wrong.push(format!(
                    "{}: worst {:?}, energy {:+.2} %",
                    case.case,
                    row.worst_full().and_then(|r| r.rel()),
                    row.energy_error * 100.0
                ));
            }
        }
        let two = find("sine-50hz-2a");
        let silent = lm_from_waveform(&two.case, &ct_golden::loads::codes(two, "fast").unwrap(), rate);
        assert!(matches!(silent, Err(IdentifyError::ShapeSilent(_))), "{lm} H at 2 A: {silent:?}");
        let slow = lm_from_waveform(
            &ten.case,
            &ct_golden::loads::codes(ten, "launchpad").unwrap(),
            LoadCase::rate("launchpad").unwrap(),
        );
        assert!(matches!(slow, Err(IdentifyError::Coarse(..))), "{slow:?}");
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// An irregular burst-fire heater at 58.2 Hz on the 9600-baud link (10.3 samples a cycle,
/// SPICE record `r04-burst-irregular-16.14a-58.229hz` of the randomized goldens' dev half):
/// the grid cycles straddling its switches form a small class that sees few phases, which
/// once collapsed the on- and off-cycles into one fold: a window read 24 % low and the record's
/// energy 11 % low. The off-cycles read zero where the on-cycles read the load
/// (`ct_core::segment`, an off class), so they stay apart: every reading within its target or
/// the bound it states, the energy within 3 % of the stimulus integrated (not the sensor model).
#[test]
fn an_irregular_burst_at_9600_baud_keeps_its_energy() {
    use ct_golden::loads::{evaluate, manifest_in, random_dir};
    let cases = manifest_in(&random_dir("dev")).unwrap();
    let case = cases.iter().find(|c| c.case == "r04-burst-irregular-16.14a-58.229hz").unwrap();
    let row = evaluate(case, "launchpad", Method::Invert).unwrap();
    assert!(row.readings.len() >= 3, "{:?}", row.readings);
    assert!(meets_or_says_so(case, &row), "{:?}", row.readings);
    assert!(row.energy_error.abs() <= 0.03, "energy {:+.2} %", 100.0 * row.energy_error);
}

/// Motors and compressors with a 4.6-6.1x inrush, switched on at arbitrary phases, at
/// 8196.7 Sa/s (the three `onoff` loads goldens): the transient model once started every load
/// at its cycle's start, so a motor switched in partway through its visible half read that
/// cycle a third high and the error rang through the next cycles; one switched in during its
/// unseen half showed only a kick, read as a small load on throughout. The records' energy
/// was 1.1 to 2.1 % high; placed where the samples show the switch
/// (`ct_core::transient::switched_in_at`), within 1 % of the stimulus integrated, every
/// reading within its target or the bound it states.
#[test]
fn motors_switched_on_at_any_phase_keep_their_energy_at_8_ksps() {
    let cases = loads_manifest().unwrap();
    let motors: Vec<&LoadCase> = cases.iter().filter(|c| c.kind == "onoff").collect();
    assert_eq!(motors.len(), 3);
    for case in motors {
        let row = evaluate(case, "fast", Method::Invert).unwrap();
        assert!(meets_or_says_so(case, &row), "{}: {:?}", case.case, row.readings);
        assert!(row.energy_error.abs() <= 0.01, "{}: energy {:+.2} %", case.case, 100.0 * row.energy_error);
    }
}

/// A heater bursting one cycle on, one off, at 8196.7 Sa/s, in the randomized goldens' dev
/// household record `r28-household-50.293hz`:
/// - beside a 0.23 A switch-mode supply alone (seconds 56-60): neither class had a settled
///   cycle to fold, and each borrowed the correction of another load seen earlier: four
///   readings 25 % low (flagged `approx`). Their shapes are now learned from the window
///   inverted in time (`ct_core::inversion::Inverter::invert_in_time`).
/// - beside a 6.1 A kettle (seconds 40-45): through the table the on-cycles read only 1.75
///   times the off-cycles in mean square, under the classes' gap, so the window was one
///   class read as if steady: five readings 5.7-6.4 % low. Now two classes
///   (`ct_core::segment::GAP_RESOLVED`).
///
/// Each of those readings within 2 % of the stimulus integrated and not approximate, and the
/// record's energy within 1 % (it was 2.5 % low).
#[test]
fn a_burst_of_single_cycles_beside_other_loads_reads_right_at_8_ksps() {
    use ct_golden::loads::{manifest_in, random_dir};
    let cases = manifest_in(&random_dir("dev")).unwrap();
    let case = cases.iter().find(|c| c.case == "r28-household-50.293hz").unwrap();
    let row = evaluate(case, "fast", Method::Invert).unwrap();
    for (from, to) in [(55.9, 60.1), (39.9, 45.1)] {
        let burst: Vec<_> = row.readings.iter().filter(|r| r.t0 >= from && r.t1 <= to).collect();
        assert!(burst.len() >= 4, "{:?}", row.readings);
        for r in burst {
            let err = r.rel().unwrap();
            assert!(
                err.abs() < 0.02 && !r.flags.approx,
                "{:.0}-{:.0} s: {:+.2} % {:?}",
                r.t0,
                r.t1,
                100.0 * err,
                r.flags
            );
        }
    }
    assert!(row.energy_error.abs() <= 0.01, "energy {:+.2} %", 100.0 * row.energy_error);
}

/// A fridge's inrush decaying beside a 1.1 A switch-mode supply, at 8196.7 Sa/s (seconds
/// 19-20 of the committed household record `household-50hz-25s`): the class drifts, so its
/// fold was taken for no waveform and a sine stood in, which left the table's excess on the
/// supply's pulses in: read 12.7 % high (within its 25 % bound). Its shape is now learned from
/// the window inverted in time, each cycle at unit RMS: within the 3 % of a changing reading.
#[test]
fn an_inrush_beside_a_supply_reads_right_at_8_ksps() {
    let cases = loads_manifest().unwrap();
    let case = cases.iter().find(|c| c.case == "household-50hz-25s").unwrap();
    let row = evaluate(case, "fast", Method::Invert).unwrap();
    let r = row.readings.iter().find(|r| (r.t0 - 19.0).abs() < 0.1).unwrap();
    let err = r.rel().unwrap();
    assert!(err.abs() < 0.03, "{:+.2} % {:?}", 100.0 * err, r.flags);
}

/// Burst-fire heaters on the 9600-baud link (the loads goldens' runs of three to eight whole
/// cycles): twelve samples a cycle walk across it slowly, so each phase of a whole-window fold
/// is seen by the few cycles whose samples pass it, on or off as the heater happened to be.
/// Folded whole, a 5-on/5-off heater's source crossing came out 0.46 cycles off, its on-runs
/// straddled the grid's cycles, were classed with their partial cycles, and every reading was
/// 5 % low (the record's energy -4.6 %; a 3-on/7-off one -1.2 %). The crossing and the
/// cycles' energy profile now come from the window's most loaded state alone
/// (`ct_core::segment::top_state`): each record's energy within 1 % of the stimulus
/// integrated, every reading within its target or the bound it states. (One-on/one-off
/// bursts have no run of a whole cycle to fold and are left to the whole window: see the
/// README's limitations.)
#[test]
fn bursts_of_whole_cycles_keep_their_energy_at_9600_baud() {
    let cases = loads_manifest().unwrap();
    let bursts: Vec<&LoadCase> = cases.iter().filter(|c| c.kind == "burst" && !c.params.contains("on=1 ")).collect();
    assert_eq!(bursts.len(), 6, "{:?}", bursts.iter().map(|c| &c.case).collect::<Vec<_>>());
    for case in bursts {
        let row = evaluate(case, "launchpad", Method::Invert).unwrap();
        assert!(meets_or_says_so(case, &row), "{}: {:?}", case.case, row.readings);
        assert!(row.energy_error.abs() <= 0.01, "{}: energy {:+.2} %", case.case, 100.0 * row.energy_error);
    }
}

/// Burst-fire heaters of single cycles between rests (the loads goldens' one on and three to
/// nine off, at 50, 59.97 and 60 Hz: a solar diverter's pattern), at both rates. On the
/// 9600-baud link the burst's neighbouring spectral lines were taken for the mains (60.002 Hz
/// for 50 Hz), and at the right frequency the whole window's fold put the grid tens of degrees
/// off: readings up to 22.8 % low, the records' energy up to 18.9 % low (flagged, within
/// their bounds). Fitted sample by sample through the clamp model (`ct_core::burst_fit`),
/// which also judges the frequency: every reading within the 3 % of a changing one and every
/// record's energy within 1 % of the stimulus integrated.
#[test]
fn single_cycles_between_rests_are_read_at_both_rates() {
    let cases = loads_manifest().unwrap();
    let singles: Vec<&LoadCase> = cases
        .iter()
        .filter(|c| c.kind == "burst" && c.params.contains("on=1 ") && !c.params.ends_with("off=1"))
        .collect();
    assert_eq!(singles.len(), 4, "{:?}", singles.iter().map(|c| &c.case).collect::<Vec<_>>());
    read_within(&singles, 0.03, 0.01);
}

/// Every reading of `cases` at both rates within `reading` (relative) of the truth over its
/// span and every record's energy within `energy` of the stimulus integrated.
fn read_within(cases: &[&LoadCase], reading: f64, energy: f64) {
    for case in cases {
        for profile in ["launchpad", "fast"] {
            let row = evaluate(case, profile, Method::Invert).unwrap();
            for r in &row.readings {
                let err = r.rel().unwrap();
                assert!(
                    err.abs() < reading,
                    "{} {profile} {:.2}-{:.2} s: {:+.2} %",
                    case.case,
                    r.t0,
                    r.t1,
                    100.0 * err
                );
            }
            assert!(
                row.energy_error.abs() <= energy,
                "{} {profile}: energy {:+.2} %",
                case.case,
                100.0 * row.energy_error
            );
        }
    }
}

/// Burst-fire heaters of one cycle on, one off (the loads goldens' 2.63 A at 50 Hz and 16.41 A
/// at 60 Hz: a heater at half power), at both rates. No whole cycle rests before an on-cycle
/// (the kick of the last one still decays), so the fit of single cycles from rest does not
/// apply; read through the classes, the records' energy was 1.0-1.9 % off and a 9600-baud
/// window 5.75 % low, the last 0.3 s of the 2.63 A record 9.9 % low. Fitted as one cycle in
/// every two from where the last left the clamp (`ct_core::burst_fit::Burst::fit_periodic`):
/// every reading within the 1 % of a steady load and every record's energy within 0.5 % of
/// the stimulus integrated.
#[test]
fn one_cycle_on_one_off_is_read_at_both_rates() {
    let cases = loads_manifest().unwrap();
    let halves: Vec<&LoadCase> = cases
        .iter()
        .filter(|c| c.kind == "burst" && c.params.contains("on=1 ") && c.params.ends_with("off=1"))
        .collect();
    assert_eq!(halves.len(), 2, "{:?}", halves.iter().map(|c| &c.case).collect::<Vec<_>>());
    read_within(&halves, 0.01, 0.005);
}

/// A switch-mode supply on a 0.413 H clamp at 56.561 Hz on the 9600-baud link (SPICE record
/// `r26-clamp-lm0.413-56.561hz-smps` of the randomized goldens' dev half, read through the
/// table its two resistive records calibrate): its pulse, narrower than the samples' spacing,
/// is missed for cycles on end as their phases walk past it. Those cycles once counted as the
/// load off, the fold of the others as its waveform: a reading 46 % high, the record's energy
/// 16 % high. Within 1 % of the stimulus integrated.
#[test]
fn a_narrow_pulse_missed_for_cycles_is_not_a_load_switching_at_9600_baud() {
    use ct_golden::loads::{manifest_in, random_dir};
    let cases = manifest_in(&random_dir("dev")).unwrap();
    let case = cases.iter().find(|c| c.case == "r26-clamp-lm0.413-56.561hz-smps").unwrap();
    let table = calibrated(&cases, case.lm_h, "launchpad").unwrap().table;
    let row = ct_golden::loads::evaluate_table(case, "launchpad", &table, EstimatorConfig::default()).unwrap();
    assert!(row.energy_error.abs() <= 0.01, "energy {:+.2} %", 100.0 * row.energy_error);
}

/// A 2.4 A motor with a 6.7x inrush, on for 0.4 s of a window and off for the rest, on the
/// 9600-baud link (SPICE record `r08-onoff-2.417a-0.96s-61.906hz` of the randomized goldens'
/// dev half, its window from 4 s). The fold of the whole window, the inrush with the settled
/// cycles, put the source's crossing 0.34 cycles from the carrier's (`phase=-31.1` in the
/// manifest: 0.979 of a cycle into the window); the motor's own settled cycles put it 0.03
/// cycles from it. Read on the whole window's crossing, every cycle held part of another
/// state: 8.2 % low. On the motor's, within the 3 % of a changing reading.
#[test]
fn a_window_is_read_on_its_deciding_loads_own_crossing_at_9600_baud() {
    use ct_golden::loads::{manifest_in, random_dir};
    let cases = manifest_in(&random_dir("dev")).unwrap();
    let case = cases.iter().find(|c| c.case == "r08-onoff-2.417a-0.96s-61.906hz").unwrap();
    let row = evaluate(case, "launchpad", Method::Invert).unwrap();
    let window = row.readings.iter().find(|r| (r.t0 - 4.0).abs() < 0.1).unwrap();
    let err = window.rel().unwrap();
    assert!(err.abs() < 0.03, "the window from 4 s: {:+.2} % {:?}", 100.0 * err, window.flags);
    assert!(meets_or_says_so(case, &row), "{:?}", row.readings);
}

/// A 2.9 A motor with a 5.8x inrush switched on at the start of a window, on the 9600-baud
/// link (SPICE record `r06-onoff-2.935a-3.34s-45.934hz` of the randomized goldens' dev half):
/// the window is one class whose level drifts as the inrush decays. Its twelve samples a
/// cycle give no waveform to march in time, and the fold of the whole decay, taken as its
/// waveform, gave a correction of 0.52 in mean square: the window read 27 % low and the
/// record's energy 8.4 % low. Folded over the cycles near the level it settled to, the window
/// is within the 3 % of a changing reading and the energy within 1.1 % of the stimulus
/// integrated (+1.03 %: the changing windows read 1.1-2.1 % high, and the settled last one,
/// -0.92 % before its steady windows were read at the frequency their samples fold at, no
/// longer offsets them at -0.13 %; [`ct_core::phase_dispersion`]).
#[test]
fn a_motor_starting_at_9600_baud_is_folded_where_it_settled() {
    use ct_golden::loads::{manifest_in, random_dir};
    let cases = manifest_in(&random_dir("dev")).unwrap();
    let case = cases.iter().find(|c| c.case == "r06-onoff-2.935a-3.34s-45.934hz").unwrap();
    let row = evaluate(case, "launchpad", Method::Invert).unwrap();
    let start = row.readings.iter().find(|r| (r.t0 - 1.0).abs() < 0.1).unwrap();
    let err = start.rel().unwrap();
    assert!(err.abs() < 0.03, "the switch-on window: {:+.2} % {:?}", 100.0 * err, start.flags);
    assert!(meets_or_says_so(case, &row), "{:?}", row.readings);
    assert!(row.energy_error.abs() <= 0.011, "energy {:+.2} %", 100.0 * row.energy_error);
}

/// Where a window's samples do not show its waveform, its reading is in effect the table's,
/// and the bound it states covers what the model says the table can read a narrow waveform
/// high by at that clamp and level (`ct_core::unseen`). Checked against SPICE: through each
/// clamp's own table (0.3 to 5 H, and the model's 0.6 H), every steady distorted record (a
/// switch-mode supply, dimmers from 30 to 150 degrees, 50 and 60 Hz) is read by the table
/// alone at 8196.7 Sa/s, where the table sees every phase, and its error (up to 87 %, a
/// switch-mode supply through a 0.3 H clamp) is within the model's part of the bound a reading
/// of the same level would state if its waveform were unseen.
#[test]
fn an_unseen_waveform_states_what_the_table_can_misread_it_by() {
    use ct_core::bound::{stated, Evidence, SPREAD_FACTOR};
    use ct_core::clamp_model::{CtModel, CtParams};
    use ct_core::model_table::model_table;
    let mut wrong = Vec::new();
    let mut checked = 0;
    for case in loads_manifest().unwrap().iter().filter(|c| c.kind == "smps" || c.kind == "dimmer") {
        let table = model_table(case.lm_h);
        let model = CtModel::new(CtParams { lm: case.lm_h, ..CtParams::default() }).unwrap();
        let lut = table.lut_at(Some(case.mains_hz));
        let cfg = EstimatorConfig { method: Method::Table, ..EstimatorConfig::default() };
        let row = ct_golden::loads::evaluate_table(case, "fast", &table, cfg).unwrap();
        for r in row.readings.iter().filter(|r| !r.flags.short) {
            let Some(e) = r.rel() else { continue };
            let unseen = ct_core::unseen::worst_over_read(
                &model,
                case.mains_hz,
                &lut,
                r.read_a,
                ct_core::unseen::Sampling::Uniform,
            );
            // The model's figure alone (without the floor every unseen reading states).
            let bound = SPREAD_FACTOR * unseen;
            assert!(stated(&Evidence { bunched: true, unseen_over_read: unseen, ..Evidence::default() }) >= bound);
            checked += 1;
            if e.abs() > bound {
                wrong.push(format!(
                    "{} {:.0}-{:.0} s: table {:+.1} %, bound {:.1} %",
                    case.case,
                    r.t0,
                    r.t1,
                    e * 100.0,
                    bound * 100.0
                ));
            }
        }
        println!("{}: table {:+.1} % over the record", case.case, row.energy_error * 100.0);
    }
    assert!(checked >= 30, "{checked} readings");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
