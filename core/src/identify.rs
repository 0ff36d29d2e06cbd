//! Calibration from reference points: identifying the user's clamp.
//!
//! A real clamp departs from the model. Its turns ratio and burden set a plain gain; its
//! magnetizing inductance Lm (the model's 0.6 H is derived, not measured; clamps of 0.3-5 H
//! are plausible) sets how much of the current the core shunts, which depends on the level
//! (the burden voltage, clamped by diodes, is not proportional to the current) and on the
//! waveform (the harmonics of a narrow pulse pass, the fundamental is shunted). A gain alone
//! cannot correct Lm: fitted at two sines it leaves switch-mode supplies 10-16 % wrong.
//!
//! **Theory.** Read each reference recording through the model with inductance `lm`
//! (the default method, [`Method::Invert`]), giving `r_i(lm)`; the gain each point asks for
//! is `g_i = reference_i / r_i(lm)`. With the right inductance every point asks for the same
//! gain, so `lm` minimises the spread of `ln g_i` and the gain is their geometric mean. Two
//! resistive points identify it when their currents differ enough (a factor of 2.5 or more):
//! the model reads a 2 A sine 64 % high and a 40 A sine 10 % high for a 2.9 H clamp taken
//! as 0.6 H, and the ratio moves monotonically with `lm` (`spice/sensitivity.md` and the
//! loads goldens measure it). The search is a log-spaced grid over 0.1-20 H refined by
//! golden-section search; the inductances whose spread stays within what two reference
//! meters good to 0.5 % allow are reported as the range. Above a few henries the readings
//! hardly depend on Lm any more, so a wide range there costs little.
//!
//! The table written for an identified clamp is the model's own table for that inductance
//! ([`crate::model_table`]: sines through the clamp model, read through the built-in table, and the
//! built-in table rescaled level by level until it reads them as it reads the built-in
//! model's), times the gain, with `clamp_lm_h` and `clamp_gain` in its metadata: the table
//! method and every table-based path are then right for sines of this clamp, and the dynamic
//! methods run the model with its inductance.
//!
//! Bare readings (`9.87=10.05`: what ct-read showed, without a recording) carry no waveform
//! and cannot identify anything but a gain; with them, or with a single recording, the table
//! is rescaled by a gain that depends on the level the base table reads (piecewise linear in
//! log current through the points, constant outside them), refined until re-reading every
//! point reproduces its reference.

use crate::calibration::{code_in, Calibration};
use crate::clamp_model::{CtModel, CtParams};
use crate::estimate::{golden_section_max, Estimator, EstimatorConfig, Method};
use crate::model_table::{model_table_for, scale};

/// One reference point: evidence of what the clamp saw, and the reference meter's RMS current.
pub trait Reference {
    type Error: From<IdentifyError>;
    /// How the point is named in messages.
    fn label(&self) -> String;
    /// The reference meter's RMS current, A.
    fn reference_a(&self) -> f64;
    /// Whether the evidence is the clamp's own signal (a recording), which can identify the
    /// clamp, rather than a bare reading.
    fn is_recording(&self) -> bool;
    /// The mean of the evidence's full, clean readings through `cal` with `cfg`.
    fn read(&self, cal: &Calibration, cfg: EstimatorConfig) -> Result<f64, Self::Error>;
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IdentifyError {
    #[error("{0}: no usable reading (every window was flagged, or the recording is too short)")]
    NoReadings(String),
    #[error("two points at almost the same current ({0:.3} A and {1:.3} A) with different gains; keep one")]
    Conflicting(f64, f64),
    #[error(
        "{0}: the waveform is sampled too coarsely to show its shape ({1:.0} samples a cycle; the 8196.7 Sa/s \
         link gives 164): record the resistive load with the fast firmware profile"
    )]
    Coarse(String, f64),
    #[error(
        "{0}: the waveform does not identify the inductance (its shape hardly changes with it: a load below \
         the clamp's knee, about 4 A, or not resistive); record a resistive load of 5 to 30 A"
    )]
    ShapeSilent(String),
}

/// The clamp as identified: inductance, gain, and how well they explain the points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LmFit {
    pub lm_h: f64,
    pub gain: f64,
    /// RMS deviation of the points' `ln g_i` from their mean at `lm_h` (0 for an exact fit).
    pub spread: f64,
    /// The inductances around `lm_h` whose spread stays within [`REFERENCE_ACCURACY`], H.
    pub range_h: (f64, f64),
    /// Whether Lm was identified (false: given with `--clamp-lm`).
    pub identified: bool,
}

/// Lm searched, H: wider than any clamp of the family (0.3-5 H) so that a best fit at an
/// edge says the evidence is not explained by Lm.
pub const LM_SEARCH_H: (f64, f64) = (0.1, 20.0);
/// Points on the search grid (a factor of about 1.25 apart).
const GRID: usize = 25;
/// The smallest ratio between the highest and lowest reference current that identifies Lm.
pub const MIN_LEVEL_RATIO: f64 = 2.5;
/// What a reference meter is assumed good to, for the stated range of Lm.
pub const REFERENCE_ACCURACY: f64 = 0.005;

/// One point's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Residual {
    pub reference_a: f64,
    pub before_a: f64,
    pub after_a: f64,
}

/// The new table (not yet written), and how well it reproduces each point (in input order).
pub struct Outcome {
    pub table: Calibration,
    pub text: String,
    pub residuals: Vec<Residual>,
    /// The clamp, when its inductance was identified or given.
    pub clamp: Option<LmFit>,
}

/// Fits the user's clamp to the reference points and returns the new table. `progress` gets
/// one line per step, for the user.
pub fn calibrate<R: Reference>(
    base: &Calibration,
    points: &[R],
    cfg: EstimatorConfig,
    out_name: &str,
    mut progress: impl FnMut(&str),
) -> Result<Outcome, R::Error> {
    let before = points.iter().map(|p| p.read(base, cfg)).collect::<Result<Vec<f64>, _>>()?;
    let read_all = |table: &Calibration| points.iter().map(|p| p.read(table, cfg)).collect::<Result<Vec<f64>, _>>();
    let identified = match identifiable(points, cfg) {
        Ok(()) => {
            let fit = match cfg.clamp_lm_h {
                Some(lm) => fit_gain(points, cfg, lm)?,
                None => identify_lm(points, cfg)?,
            };
            let note = format!(
                "ct-read calibrate with {} reference recording(s): {}; {}",
                points.len(),
                labels(points),
                describe(&fit)
            );
            let (table, text) = clamp_table(&Calibration::builtin(), fit.lm_h, fit.gain, out_name, &note);
            let after = read_all(&table)?;
            match misread(points, &after, &fit) {
                None => {
                    progress(&describe(&fit));
                    Ok((table, text, Some(fit), after))
                }
                Some(why) => Err(why),
            }
        }
        Err(why) => Err(why),
    };
    let (table, text, clamp, after) = match identified {
        Ok(found) => found,
        Err(why) => {
            progress(&format!("the clamp's magnetizing inductance is not identified: {why}"));
            let (table, text) = level_gains(base, points, &before, cfg, out_name, &mut progress)?;
            let after = read_all(&table)?;
            (table, text, None, after)
        }
    };
    let residuals = points
        .iter()
        .zip(before.into_iter().zip(after))
        .map(|(p, (before_a, after_a))| Residual { reference_a: p.reference_a(), before_a, after_a })
        .collect();
    Ok(Outcome { table, text, residuals, clamp })
}

/// How far a point read through its clamp's table may be from its reference before the
/// identification is not believed: [`MISREAD_SPREADS`] times the spread the fit left between the
/// points, and at least [`MISREAD_FLOOR`].
///
/// Why: the table written for an identified clamp reads each point as the identification did,
/// to within the points' spread (a sensor departing from the model in its diodes or bias
/// leaves up to 6.8 % between them: `spice/sensitivity.md`). A point it misreads by far more
/// was not read alike by the two: its windows did not show the waveform the identification
/// ran the model over. At 603.5 Sa/s with the mains at 50.266 Hz (twelve samples a cycle and
/// a hair), every window of the randomized loads goldens' calibration records caught a
/// dozen phases only: the search ended at 0.125 H, its table read the 1.81 A point as 7.93 A,
/// and that clamp's switch-mode supply 470 % high.
pub const MISREAD_SPREADS: f64 = 3.0;
/// See [`MISREAD_SPREADS`].
pub const MISREAD_FLOOR: f64 = 0.02;

/// The reason the identified clamp is not believed (see [`MISREAD_SPREADS`]), if it is not.
fn misread<R: Reference>(points: &[R], after: &[f64], fit: &LmFit) -> Option<String> {
    let limit = (MISREAD_SPREADS * fit.spread).max(MISREAD_FLOOR);
    let (p, a) = points
        .iter()
        .zip(after)
        .max_by(|x, y| (x.1 / x.0.reference_a()).ln().abs().total_cmp(&(y.1 / y.0.reference_a()).ln().abs()))?;
    let off = a / p.reference_a() - 1.0;
    // (A reading that is not a number is not believed either.)
    let believed = off.abs() <= limit;
    (!believed).then(|| {
        format!(
            "the table of the clamp fitted ({:.3} H, gain {:.4}) reads {} as {a:.3} A for {} A ({:+.1} %, more than \
             the {:.1} % the points' spread allows): the recordings do not show the waveform the model was run over \
             (at 603.5 Sa/s, a mains frequency near 50.29 or 60.35 Hz leaves each window a dozen phases of the cycle); \
             record the resistive loads with the fast firmware profile, or again once the mains frequency has moved",
            fit.lm_h,
            fit.gain,
            p.label(),
            p.reference_a(),
            off * 100.0,
            limit * 100.0
        )
    })
}

fn labels<R: Reference>(points: &[R]) -> String {
    points.iter().map(|p| format!("{}={} A", p.label(), p.reference_a())).collect::<Vec<_>>().join(", ")
}

/// What the user is told about the clamp.
pub fn describe(fit: &LmFit) -> String {
    // Points that still disagree once the inductance and gain are fitted mean the clamp
    // departs from the model in more than those two (the sensitivity study: a diode's spread
    // or the bias leave 0.7-6.8 % between three points, the inductance and turns ratio at most
    // 0.2 %); readings away from the points may then be off by about as much.
    let departs = if fit.spread > REFERENCE_ACCURACY {
        format!(
            "; warning: the points disagree by {:.2} % after the fit, more than reference meters good to {} % \
             explain: the clamp departs from the model in more than its inductance and gain (a diode's spread, \
             the bias?), and readings away from the points may be off by about as much",
            fit.spread * 100.0,
            REFERENCE_ACCURACY * 100.0
        )
    } else {
        String::new()
    };
    if !fit.identified {
        return format!("clamp: magnetizing inductance {} H as given, gain {:.4}{departs}", fit.lm_h, fit.gain);
    }
    let edge = if fit.lm_h <= LM_SEARCH_H.0 * 1.01 || fit.lm_h >= LM_SEARCH_H.1 * 0.99 {
        " (at the edge of the search: the points are not explained by the inductance; check them)"
    } else {
        ""
    };
    format!(
        "clamp: magnetizing inductance {:.3} H identified ({:.2}-{:.2} H with reference meters good to {} %), \
         gain {:.4}, points agree within {:.2} %{edge}{departs}",
        fit.lm_h,
        fit.range_h.0,
        fit.range_h.1,
        REFERENCE_ACCURACY * 100.0,
        fit.gain,
        fit.spread * 100.0
    )
}

/// Whether the points can identify the clamp: all recordings, at least two, at currents a
/// factor [`MIN_LEVEL_RATIO`] apart (with `--clamp-lm` given, one recording is enough for
/// the gain).
fn identifiable<R: Reference>(points: &[R], cfg: EstimatorConfig) -> Result<(), String> {
    if let Some(p) = points.iter().find(|p| !p.is_recording()) {
        return Err(format!("{} is a bare reading, without the clamp's waveform", p.label()));
    }
    if cfg.clamp_lm_h.is_some() {
        return Ok(());
    }
    let refs = points.iter().map(Reference::reference_a);
    let (lo, hi) = refs.fold((f64::INFINITY, 0.0f64), |(lo, hi), a| (lo.min(a), hi.max(a)));
    if points.len() < 2 || hi < MIN_LEVEL_RATIO * lo {
        return Err(format!(
            "it takes two recordings of resistive loads whose currents differ by a factor of {MIN_LEVEL_RATIO} or more"
        ));
    }
    Ok(())
}

/// `ln g_i` of every point read through the model with inductance `lm` (built-in table).
fn log_gains<R: Reference>(points: &[R], cfg: EstimatorConfig, lm: f64) -> Result<Vec<f64>, R::Error> {
    let cal = Calibration::builtin();
    let cfg = EstimatorConfig { method: Method::Invert, clamp_lm_h: Some(lm), ..cfg };
    points.iter().map(|p| Ok((p.reference_a() / p.read(&cal, cfg)?).ln())).collect()
}

/// Mean and RMS deviation of `x`.
fn mean_spread(x: &[f64]) -> (f64, f64) {
    let n = x.len().max(1) as f64;
    let mean = x.iter().sum::<f64>() / n;
    (mean, (x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt())
}

/// The gain of a clamp of inductance `lm`, given.
fn fit_gain<R: Reference>(points: &[R], cfg: EstimatorConfig, lm: f64) -> Result<LmFit, R::Error> {
    let (mean, spread) = mean_spread(&log_gains(points, cfg, lm)?);
    Ok(LmFit { lm_h: lm, gain: mean.exp(), spread, range_h: (lm, lm), identified: false })
}

/// The inductance that makes every point ask for the same gain (see the module doc).
pub fn identify_lm<R: Reference>(points: &[R], cfg: EstimatorConfig) -> Result<LmFit, R::Error> {
    let (lo, hi) = (LM_SEARCH_H.0.ln(), LM_SEARCH_H.1.ln());
    let grid: Vec<f64> = (0..GRID).map(|k| lo + (hi - lo) * k as f64 / (GRID - 1) as f64).collect();
    let spreads = grid
        .iter()
        .map(|&x| Ok(mean_spread(&log_gains(points, cfg, x.exp())?).1))
        .collect::<Result<Vec<f64>, R::Error>>()?;
    let best = (0..GRID).min_by(|&a, &b| spreads[a].total_cmp(&spreads[b])).unwrap_or(0);
    let (a, b) = (grid[best.saturating_sub(1)], grid[(best + 1).min(GRID - 1)]);
    // Golden-section search wants an infallible objective: the first error is kept and returned.
    let failed = std::cell::RefCell::new(None);
    let x = golden_section_max(
        |x| match log_gains(points, cfg, x.exp()) {
            Ok(g) => -mean_spread(&g).1,
            Err(e) => {
                failed.borrow_mut().get_or_insert(e);
                f64::NEG_INFINITY
            }
        },
        a,
        b,
        0.002,
    );
    if let Some(e) = failed.into_inner() {
        return Err(e);
    }
    let lm = x.exp();
    let (mean, spread) = mean_spread(&log_gains(points, cfg, lm)?);
    // The range: from the best fit outward along the grid to the first inductance whose
    // spread exceeds what the references allow, then bisected to the edge.
    let ok = |x: f64| -> Result<bool, R::Error> {
        Ok(mean_spread(&log_gains(points, cfg, x.exp())?).1 <= REFERENCE_ACCURACY)
    };
    let step = (hi - lo) / (GRID - 1) as f64;
    let edge = |dir: f64| -> Result<f64, R::Error> {
        let (mut inside, mut outside) = (x, x + dir * step);
        while ok(outside)? {
            inside = outside;
            outside += dir * step;
            if !(lo..=hi).contains(&outside) {
                return Ok(inside.clamp(lo, hi).exp());
            }
        }
        for _ in 0..6 {
            let mid = (inside + outside) / 2.0;
            if ok(mid)? {
                inside = mid;
            } else {
                outside = mid;
            }
        }
        Ok(inside.exp())
    };
    let range_h = (edge(-1.0)?, edge(1.0)?);
    Ok(LmFit { lm_h: lm, gain: mean.exp(), spread, range_h, identified: true })
}

/// The table for a clamp of inductance `lm` and `gain`: [`model_table`] times the gain, with
/// the clamp in its metadata.
fn clamp_table(builtin: &Calibration, lm: f64, gain: f64, name: &str, note: &str) -> (Calibration, String) {
    let model = model_table_for(CtParams { lm, ..CtParams::default() });
    let mut meta = builtin.meta.clone();
    meta.insert("source".into(), format!("{note} (base: {} from {})", builtin.name, builtin.meta["source"]));
    meta.insert("clamp_lm_h".into(), format!("{lm:.6}"));
    meta.insert("clamp_gain".into(), format!("{gain:.6}"));
    let freqs = model.frequencies();
    let hzs: Vec<Option<f64>> = if freqs.is_empty() { vec![None] } else { freqs.iter().map(|&f| Some(f)).collect() };
    let columns: Vec<Vec<f64>> =
        hzs.iter().map(|&hz| model.lut_at(hz).iter().map(|&a| f64::from(a) * gain).collect()).collect();
    let text = Calibration::text(&meta, &freqs, &columns);
    let table = Calibration::parse(&text, name).expect("a rescaled valid table is valid");
    (table, text)
}

/// The base table rescaled by gains that depend on the level it reads (module doc, last
/// paragraph): for bare readings and single recordings.
fn level_gains<R: Reference>(
    base: &Calibration,
    points: &[R],
    before: &[f64],
    cfg: EstimatorConfig,
    out_name: &str,
    progress: &mut impl FnMut(&str),
) -> Result<(Calibration, String), R::Error> {
    // The gain is a function of the level the *base* table reads, since that is what it is
    // looked up by: each knot sits at its point's reading before calibration.
    let mut order: Vec<usize> = (0..points.len()).collect();
    order.sort_by(|&a, &b| before[a].total_cmp(&before[b]));
    let mut knots: Vec<(f64, f64)> = order.iter().map(|&i| (before[i], points[i].reference_a() / before[i])).collect();
    for w in knots.windows(2) {
        if (w[1].0 / w[0].0 - 1.0).abs() < 0.02 && (w[1].1 / w[0].1 - 1.0).abs() > 0.005 {
            return Err(IdentifyError::Conflicting(w[0].0, w[1].0).into());
        }
    }
    // A table identified for a clamp keeps that clamp, so its gain over the model's table
    // must stay one number: the points' gains are then averaged (geometrically).
    if let Some(clamp) = base.clamp() {
        let g = (knots.iter().map(|k| k.1.ln()).sum::<f64>() / knots.len().max(1) as f64).exp();
        knots = vec![(1.0, g)];
        progress(&format!(
            "the base table is for a clamp of {} H: one gain for every level, on top of its own {}",
            clamp.lm_h, clamp.gain
        ));
    }
    let note = format!("ct-read calibrate with {} reference point(s): {}", points.len(), labels(points));
    let freqs = base.frequencies();
    let hzs: Vec<Option<f64>> = if freqs.is_empty() { vec![None] } else { freqs.iter().map(|&f| Some(f)).collect() };
    let mut meta = base.meta.clone();
    meta.insert("source".into(), format!("{note} (base: {} from {})", base.name, base.meta["source"]));
    let apply = |knots: &[(f64, f64)]| {
        let mut meta = meta.clone();
        if let Some(clamp) = base.clamp() {
            meta.insert("clamp_gain".into(), format!("{:.6}", clamp.gain * knots[0].1));
        }
        let columns: Vec<Vec<f64>> = hzs.iter().map(|&hz| scale(&base.lut_at(hz), knots)).collect();
        let text = Calibration::text(&meta, &freqs, &columns);
        let table = Calibration::parse(&text, out_name).expect("a scaled valid table is valid");
        (table, text)
    };
    let (mut table, mut text) = apply(&knots);
    for round in 1..=8 {
        let after = points.iter().map(|p| p.read(&table, cfg)).collect::<Result<Vec<f64>, _>>()?;
        let worst = points.iter().zip(&after).map(|(p, a)| (a / p.reference_a() - 1.0).abs()).fold(0.0, f64::max);
        progress(&format!("round {round}: worst residual {:.3} %", worst * 100.0));
        if worst < 0.0005 {
            break;
        }
        // Refine each knot by its own remaining error (the knots are independent enough).
        for (k, &i) in knots.iter_mut().zip(&order) {
            k.1 *= points[i].reference_a() / after[i];
        }
        (table, text) = apply(&knots);
    }
    Ok((table, text))
}

/// Samples a cycle a waveform must have for its shape to identify the inductance.
const SHAPE_SAMPLES_PER_CYCLE: f64 = 64.0;

/// The clamp's inductance from the waveform of a resistive load alone, with no reference
/// meter (the gain stays unknown: 1).
///
/// **Theory.** A resistive load draws a sine. Run backwards through the model with the right
/// inductance, the folded waveform gives back that sine; with another inductance the
/// magnetizing current is undone wrongly, and above the clamp's knee (where the burden is
/// nonlinear) what comes back is distorted. So the inductance is the one that minimises the
/// distortion (harmonics 2-7 over the fundamental) of the inverted current. On the loads
/// goldens at 8196.7 Sa/s, 10 A sines of clamps of 0.3-5 H come back with 0.03-0.06 %
/// distortion at their own inductance and 0.5-2 % a factor of 1.5 away; 2 A sines (below the
/// knee, where the clamp is linear) do not tell. Needs the fast link's resolution; the
/// inductances whose distortion stays within twice the minimum (plus 0.02 %, the
/// quantisation's floor) are the range stated.
pub fn lm_from_waveform(label: &str, codes: &[u16], rate_hz: f64) -> Result<LmFit, IdentifyError> {
    let hz = crate::estimate::estimate_mains_hz(codes, rate_hz, None)
        .ok_or_else(|| IdentifyError::ShapeSilent(label.into()))?;
    let per_cycle = rate_hz / hz;
    if per_cycle < SHAPE_SAMPLES_PER_CYCLE {
        return Err(IdentifyError::Coarse(label.into(), per_cycle));
    }
    let folded = crate::fold::fold(codes, rate_hz, hz, 256);
    let distortion = |ln_lm: f64| -> f64 {
        CtModel::with_lm(ln_lm.exp())
            .ok()
            .and_then(|m| crate::inversion::Inverter::new(m).invert(&folded))
            .map_or(f64::INFINITY, |inv| harmonic_distortion(&inv.primary_a))
    };
    let (lo, hi) = (LM_SEARCH_H.0.ln(), LM_SEARCH_H.1.ln());
    let grid: Vec<f64> = (0..GRID).map(|k| lo + (hi - lo) * k as f64 / (GRID - 1) as f64).collect();
    let values: Vec<f64> = grid.iter().map(|&x| distortion(x)).collect();
    let best = (0..GRID).min_by(|&a, &b| values[a].total_cmp(&values[b])).unwrap_or(0);
    let x = golden_section_max(|x| -distortion(x), grid[best.saturating_sub(1)], grid[(best + 1).min(GRID - 1)], 0.002);
    let min = distortion(x);
    // The shape tells only if the distortion rises well away from the minimum.
    let worst = values.iter().copied().filter(|v| v.is_finite()).fold(0.0, f64::max);
    if !min.is_finite() || worst < 5.0 * min + 0.002 {
        return Err(IdentifyError::ShapeSilent(label.into()));
    }
    // The range: from the best fit outward along the grid to the first inductance whose
    // distortion exceeds the bound, then bisected to the edge.
    let within = |x: f64| distortion(x) <= 2.0 * min + 2e-4;
    let step = (hi - lo) / (GRID - 1) as f64;
    let edge = |dir: f64| -> f64 {
        let (mut inside, mut outside) = (x, x + dir * step);
        while within(outside) {
            inside = outside;
            outside += dir * step;
            if !(lo..=hi).contains(&outside) {
                return inside.clamp(lo, hi).exp();
            }
        }
        for _ in 0..6 {
            let mid = (inside + outside) / 2.0;
            if within(mid) {
                inside = mid;
            } else {
                outside = mid;
            }
        }
        inside.exp()
    };
    let range_h = (edge(-1.0), edge(1.0));
    Ok(LmFit { lm_h: x.exp(), gain: 1.0, spread: min, range_h, identified: true })
}

/// Harmonics 2-7 of a cycle given at bin centres, over its fundamental (RMS ratio).
fn harmonic_distortion(p: &[f64]) -> f64 {
    let h = |k: usize| {
        let (a, b) = crate::fold::harmonic(p, k);
        a * a + b * b
    };
    ((2..=7).map(h).sum::<f64>() / h(1)).sqrt()
}

/// The table for a clamp of inductance `lm` found from a waveform alone (gain 1: no reference
/// meter), written as [`calibrate`] writes one.
pub fn waveform_table(fit: &LmFit, label: &str, out_name: &str) -> Outcome {
    let note = format!(
        "ct-read calibrate --resistive {label}: magnetizing inductance {:.3} H ({:.2}-{:.2} H) from the shape of a \
         resistive load's waveform, gain 1 (no reference meter)",
        fit.lm_h, fit.range_h.0, fit.range_h.1
    );
    let (table, text) = clamp_table(&Calibration::builtin(), fit.lm_h, 1.0, out_name, &note);
    Outcome { table, text, residuals: Vec::new(), clamp: Some(*fit) }
}

/// A recording held as ADC codes at one rate (a code CSV, a golden, a test's synthesis).
#[derive(Debug, Clone)]
pub struct Codes<'a> {
    pub label: String,
    pub rate_hz: f64,
    pub codes: &'a [u16],
    pub reference_a: f64,
}

impl Reference for Codes<'_> {
    type Error = IdentifyError;
    fn label(&self) -> String {
        self.label.clone()
    }
    fn reference_a(&self) -> f64 {
        self.reference_a
    }
    fn is_recording(&self) -> bool {
        true
    }
    fn read(&self, cal: &Calibration, cfg: EstimatorConfig) -> Result<f64, IdentifyError> {
        mean_reading(cal, cfg, self.rate_hz, self.codes).ok_or_else(|| IdentifyError::NoReadings(self.label()))
    }
}

/// The mean of the full, clean readings of `codes` (no gap, not over range), if any.
pub fn mean_reading(cal: &Calibration, cfg: EstimatorConfig, rate_hz: f64, codes: &[u16]) -> Option<f64> {
    let mut v = Vec::new();
    let mut keep = |r: crate::estimate::Reading| {
        if r.duration_s >= 0.9 * cfg.window_s && !r.flags.gap && !r.flags.over_range {
            v.push(r.irms_a);
        }
    };
    let mut est = Estimator::new(cal, rate_hz, cfg);
    est.push(0.0, codes, &mut keep);
    est.flush(&mut keep);
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// Sample rate used to synthesise a sine for a bare reading (the fast profile's).
const SYNTH_RATE_HZ: f64 = ct_wire::profile::FAST.rate_hz();

/// A bare reading (`9.87=10.05`): what ct-read showed with the base table, modelled as the
/// codes of a 50 Hz sine that the base table reads so, so that a new table is judged by what
/// it reads from the same sensor response.
#[derive(Debug, Clone)]
pub struct BareReading {
    pub reading_a: f64,
    pub reference_a: f64,
    codes: Vec<u16>,
}

impl BareReading {
    pub fn new(base: &Calibration, cfg: EstimatorConfig, reading_a: f64, reference_a: f64) -> Self {
        BareReading { reading_a, reference_a, codes: synth_sine_reading(base, cfg, reading_a) }
    }
}

impl Reference for BareReading {
    type Error = IdentifyError;
    fn label(&self) -> String {
        format!("reading {} A", self.reading_a)
    }
    fn reference_a(&self) -> f64 {
        self.reference_a
    }
    fn is_recording(&self) -> bool {
        false
    }
    fn read(&self, cal: &Calibration, cfg: EstimatorConfig) -> Result<f64, IdentifyError> {
        // The table alone reads it (the dynamic methods apply a table as the same ratio).
        let cfg = EstimatorConfig { method: Method::Table, ..cfg };
        mean_reading(cal, cfg, SYNTH_RATE_HZ, &self.codes).ok_or_else(|| IdentifyError::NoReadings(self.label()))
    }
}

/// Codes of 5 s of a 50 Hz sine whose reading through `cal` is `target` A (by bisection on
/// the peak current), quantised through the table's forward direction.
fn synth_sine_reading(cal: &Calibration, cfg: EstimatorConfig, target: f64) -> Vec<u16> {
    let lut = cal.lut_at(Some(50.0));
    let codes_for = |rms: f64| -> Vec<u16> {
        (0..(5.0 * SYNTH_RATE_HZ) as usize)
            .map(|k| {
                let i =
                    rms * std::f64::consts::SQRT_2 * (std::f64::consts::TAU * 50.0 * k as f64 / SYNTH_RATE_HZ).sin();
                code_in(&lut, i as f32, cal.zero_code())
            })
            .collect()
    };
    let cfg = EstimatorConfig { method: Method::Table, ..cfg };
    let read = |codes: &[u16]| mean_reading(cal, cfg, SYNTH_RATE_HZ, codes).unwrap_or(0.0);
    let (mut lo, mut hi) = (0.0, target * 4.0 + 1.0);
    for _ in 0..40 {
        let mid = (lo + hi) / 2.0;
        if read(&codes_for(mid)) < target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    codes_for((lo + hi) / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clamp_model::CtModel;
    use crate::model_table::{sine_codes, MODEL_POINTS};

    /// A sensor that reads 4 % high at 2 A and 2 % low at 40 A (as a clamp with a different
    /// turns ratio and core might), given as bare readings: two reference points bring both
    /// within 0.1 %.
    #[test]
    fn two_bare_readings_remove_a_level_dependent_error() {
        let base = Calibration::builtin();
        let cfg = EstimatorConfig::default();
        let points = vec![BareReading::new(&base, cfg, 2.08, 2.0), BareReading::new(&base, cfg, 39.2, 40.0)];
        let out = calibrate(&base, &points, cfg, "new.csv", |_| {}).unwrap();
        assert!(out.clamp.is_none(), "bare readings cannot identify the clamp");
        for r in &out.residuals {
            assert!((r.after_a / r.reference_a - 1.0).abs() < 0.001, "{r:?}");
            assert!((r.before_a / r.reference_a - 1.0).abs() > 0.015, "{r:?}");
        }
        assert!(out.text.contains("ct-read calibrate with 2 reference point(s)"));
        let again = Calibration::parse(&out.text, "new.csv").unwrap();
        assert_eq!(again.lut_at(Some(50.0)), out.table.lut_at(Some(50.0)));
    }

    /// Codes of a 3 s recording at `rate` of a sine of `rms` A at `hz` through `clamp` (its
    /// periodic state, as the model's table is made from).
    fn sine_record(clamp: &CtModel, rms: f64, hz: f64, rate: f64) -> Vec<u16> {
        let cycle = sine_codes(clamp, rms, hz).unwrap();
        (0..(3.0 * rate) as usize)
            .map(|k| {
                let x = (k as f64 / rate * hz).fract() * MODEL_POINTS as f64;
                cycle[(x as usize).min(MODEL_POINTS - 1)].round() as u16
            })
            .collect()
    }

    /// Recordings of sines from a 2.9 H clamp with a 3 % higher gain (simulated by the model
    /// directly, at the fast profile's rate): two points identify the inductance within the
    /// stated range and the gain within 0.3 %, and a third level reads right after.
    #[test]
    fn two_recordings_identify_a_clamp() {
        let clamp = CtModel::with_lm(2.9).unwrap();
        let rate = SYNTH_RATE_HZ;
        let record = |rms: f64| sine_record(&clamp, rms / 1.03, 50.0, rate);
        let (two, forty, ten) = (record(2.0), record(40.0), record(10.0));
        fn point(codes: &[u16], a: f64) -> Codes<'_> {
            Codes { label: format!("{a} A"), rate_hz: SYNTH_RATE_HZ, codes, reference_a: a }
        }
        let points = [point(&two, 2.0), point(&forty, 40.0)];
        let cfg = EstimatorConfig::default();
        let out = calibrate(&Calibration::builtin(), &points, cfg, "new.csv", |_| {}).unwrap();
        let fit = out.clamp.expect("identified");
        assert!(fit.range_h.0 <= 2.9 && 2.9 <= fit.range_h.1, "{fit:?}");
        assert!((fit.lm_h / 2.9 - 1.0).abs() < 0.35, "{fit:?}");
        assert!((fit.gain / 1.03 - 1.0).abs() < 0.003, "{fit:?}");
        assert_eq!(out.table.clamp().map(|c| c.gain), Some((fit.gain * 1e6).round() / 1e6));
        for r in &out.residuals {
            assert!((r.after_a / r.reference_a - 1.0).abs() < 0.003, "{r:?}");
            assert!((r.before_a / r.reference_a - 1.0).abs() > 0.05, "{r:?}");
        }
        let ten = mean_reading(&out.table, cfg, rate, &ten).unwrap();
        assert!((ten / 10.0 - 1.0).abs() < 0.005, "10 A reads {ten}");
    }

    /// Recordings whose windows catch a dozen phases of the cycle (603.5 Sa/s, the mains at
    /// 50.266 Hz: twelve samples a cycle and a hair) do not show the waveform the search runs
    /// the model over. The clamp it fits best is not believed where its table misreads a
    /// point far beyond the points' spread: the table is fitted level by level instead, and
    /// reproduces the points.
    #[test]
    fn recordings_that_hide_the_waveform_fall_back_to_level_gains() {
        let clamp = CtModel::with_lm(0.981).unwrap();
        let (rate, hz) = (ct_wire::profile::LAUNCHPAD.rate_hz(), 50.266);
        assert!(crate::fold::phases_bunch(rate as usize, hz / rate), "the case is one of bunched phases");
        let (lo, hi) = (sine_record(&clamp, 1.8, hz, rate), sine_record(&clamp, 36.0, hz, rate));
        let points = [
            Codes { label: "1.8 A".into(), rate_hz: rate, codes: &lo, reference_a: 1.8 },
            Codes { label: "36 A".into(), rate_hz: rate, codes: &hi, reference_a: 36.0 },
        ];
        let mut said = Vec::new();
        let out = calibrate(&Calibration::builtin(), &points, EstimatorConfig::default(), "new.csv", |m| {
            said.push(m.to_owned())
        })
        .unwrap();
        for r in &out.residuals {
            assert!((r.after_a / r.reference_a - 1.0).abs() < 0.005, "{r:?} ({said:?})");
        }
        assert!(out.clamp.is_none(), "{:?}", out.clamp);
        assert!(
            said.iter().any(|m| m.contains("not identified") && m.contains("do not show the waveform")),
            "{said:?}"
        );
    }

    /// Points the fit explains say nothing more; points it cannot say the clamp departs from
    /// the model in more than its inductance and gain.
    #[test]
    fn points_that_still_disagree_are_told() {
        let fit = LmFit { lm_h: 0.9, gain: 1.01, spread: 0.001, range_h: (0.85, 0.95), identified: true };
        assert!(!describe(&fit).contains("warning"), "{}", describe(&fit));
        let fit = LmFit { spread: 0.03, ..fit };
        let text = describe(&fit);
        assert!(text.contains("warning: the points disagree by 3.00 %"), "{text}");
        assert!(describe(&LmFit { identified: false, ..fit }).contains("warning"));
    }
}
