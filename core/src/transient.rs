//! Switching transients: the clamp's reading of a load that switches, predicted by the
//! model in time and divided out.
//!
//! Why: the magnetizing current needs a few milliseconds (Lm / R, 2-11 ms with the default
//! clamp, longer with a larger Lm) to reach its periodic state after the load changes. Until
//! then the visible half-cycle is not what the steady waveform shows: the first cycle of a
//! resistive load switched on at a zero crossing reads about a fifth low through the table. A
//! burst-fire heater (one cycle on, one off) is nothing but first cycles, and reads a quarter
//! low; no estimate that assumes each cycle is periodic can see that.
//!
//! How: the window's cycles are read in time order, each through the model from the
//! magnetizing current the cycles before it left (the first from the periodic state of its
//! own waveform). Cycle `j` carries its level class's waveform shape (unit RMS, from the
//! class's inversion, or a sine) at an RMS `a_j`, found by the secant method so that the table
//! reads the simulated cycle, at the phases the data were sampled at, as it read the data.
//! Then its end state starts the next cycle. A cycle whose predecessor's decay already
//! explains what it shows is off (`a_j = 0`). A load switched in from off starts where the
//! samples place its switch ([`switched_in_at`]; a relay or thermostat switches anywhere in
//! the cycle, a burst-fire controller at its start), and an inrush's level drifts within the
//! cycle ([`Cycle::drift`]). Cost: about one and a half model cycles of [`POINTS`] points per
//! cycle (each search starts from the last answer for the same pair of waveforms), none for a
//! settled load's cycles (`SETTLED`) or a cycle that repeats one marched before (a burst's,
//! from its second period: `SAME_ENTRY`), only for windows whose load changed.

use crate::clamp_model::{CtModel, March};

/// Points per simulated cycle.
pub const POINTS: usize = 64;

/// Relative agreement of predicted and observed table mean square for a cycle to count as
/// explained.
pub const MATCH: f64 = 0.03;

/// A cycle's secant ([`cycle_levels`]) stops within this share of [`MATCH`] of its reading:
/// 1.2 % of its mean square, 0.6 % of its RMS, of either sign from cycle to cycle. A fifth
/// instead cost 8 % more time on the household record at 8196.7 Sa/s and moved the nine
/// randomized sets' figures by no more than their noise (readings meeting target 1062 and
/// 1060 of 1223, mean energy error 0.363 and 0.350 %).
const CONVERGED: f64 = 0.4;

/// Marched cycles in a row whose answers repeat (their mean square over their reading within
/// the secant's stop of the last such cycle's) after which a load's state counts as settled:
/// its next cycles, of the same waveform and within [`MATCH`] of the reading before, are read
/// at that ratio without marching. The magnetizing current's transient lasts a few
/// milliseconds (Lm / R); three cycles are tens.
const SETTLED: usize = 3;

/// A cycle entered with a magnetizing current within this share of the window's peak
/// secondary current of one marched before (same waveforms, same reading) is read as that one
/// was: the difference moves its reading by about as much, a thousandth at most, and decays
/// within the cycle.
const SAME_ENTRY: f64 = 1e-3;

/// What [`cycle_levels`] learned from the last marched cycle of one pair of waveforms.
#[derive(Debug, Clone, Copy)]
struct Learned {
    /// The waveforms of the cycle before and of the cycle (by identity).
    key: (*const f64, *const f64),
    /// Its mean square over its reading, and its secant's slope: where the next such cycle's
    /// search starts.
    ratio: f64,
    slope: f64,
    /// The last such cycle that held its level through the cycle (no drift), to be read again.
    repeat: Option<Repeat>,
}

/// A marched cycle of [`cycle_levels`], kept to be read again.
#[derive(Debug, Clone, Copy)]
struct Repeat {
    /// Magnetizing current entering the cycle, and leaving it.
    im0: f64,
    end: f64,
    observed: f64,
    /// Its mean square over its reading, and whether the march reproduced the reading.
    ratio: f64,
    explained: bool,
}

/// Secant steps per cycle at most.
const STEPS: usize = 6;

/// What is known of one cycle of a switching load.
#[derive(Debug, Clone, Copy)]
pub struct Cycle<'a> {
    /// The table's mean square (half-wave reconstruction, A^2) of the cycle.
    pub observed: f64,
    /// The phases (in cycles) at which the cycle was sampled, so prediction and observation
    /// sample it alike (12 samples a cycle on the 9600-baud link).
    pub at: &'a [f64],
    /// Its waveform, unit RMS, at [`POINTS`] points of phase `k / POINTS` (phase 0 at the
    /// cycle's start).
    pub shape: &'a [f64],
    /// The table's mean square of that shape, settled, over its true mean square (1 for a
    /// sine, about 2 for a narrow pulse).
    pub gain: f64,
    /// The first estimate of its RMS (A).
    pub start: f64,
    /// Whether, and where, the load was switched in from off during the cycle
    /// ([`switched_in_at`]).
    pub switch_in: SwitchIn,
    /// How the load's mean square moves within the cycle: its natural log per cycle (0 for a
    /// level held through the cycle, negative for an inrush decaying).
    pub drift: f64,
    /// For a load switched in during the cycle's unseen half ([`SwitchIn::Unseen`]) beside
    /// one on throughout: that one's waveform (unit RMS, as `shape`) and RMS (A). `shape`
    /// and the level solved for are then the new load's.
    pub beside: Option<(&'a [f64], f64)>,
}

/// Where a load was switched in from off during a cycle.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SwitchIn {
    /// It was on through the whole cycle, or switched in where its waveform is near zero.
    None,
    /// At this phase (in cycles from the cycle's start), seen in the samples.
    At(f64),
    /// During the unseen half, before this phase: the cycle shows only the clamp's kick, the
    /// positive secondary current its magnetizing current drives as the unseen current
    /// returns to zero. When it was switched in is solved for ([`cycle_levels`]).
    Unseen { before: f64 },
}

impl SwitchIn {
    /// The phase (cycles) the load is on from, as far as the samples tell: where it was seen
    /// switched in, else the cycle's start (an unseen switch-in is solved for apart).
    pub fn on_from(self) -> f64 {
        match self {
            SwitchIn::At(x) => x,
            _ => 0.0,
        }
    }
}

/// Where in a cycle a load was switched in from off, if its samples show it. `amps` are the
/// cycle's table readings and `phases` their phases, in time order; `shape` its waveform, as
/// in [`Cycle::shape`].
/// - [`SwitchIn::At`]: the first sample showing the load (over a tenth of the cycle's peak)
///   follows at least two that did not, where the waveform is above 15 % of its own peak:
///   the switch lies between that sample and the last of those.
/// - [`SwitchIn::Unseen`]: the first sample showing anything lies where the waveform is
///   negative: a kick from a load switched in during the unseen half.
/// - [`SwitchIn::None`] otherwise: on from the cycle's start, or switched in where the
///   waveform is near zero at the cycle's start (a zero crossing, where burst-fire control
///   switches).
///
/// Why: the model otherwise starts a load at the cycle's start (its source's upward zero
/// crossing). A motor switched in a quarter of the way into its visible half has no
/// magnetizing transient to speak of there (the current steps, and the clamp passes a step),
/// while one started at the crossing reads its first cycle about a fifth low; read as the
/// latter, the switched-in cycle of a motor with a 5x inrush was read a third high, and the
/// error rang through the next cycles. One switched in during the unseen half shows a kick
/// that a load on from the cycle's start at a low level was made to match; the next cycle
/// then read a third high.
///
/// Needs the cycle's waveform resolved (64 or more samples a cycle).
pub fn switched_in_at(amps: &[f32], phases: &[f64], shape: &[f64]) -> SwitchIn {
    let peak = amps.iter().copied().fold(0.0f32, f32::max);
    let smax = shape.iter().copied().fold(0.0, f64::max);
    if peak <= 0.0 || smax <= 0.0 {
        return SwitchIn::None;
    }
    let Some(i) = amps.iter().position(|&a| a > 0.1 * peak) else { return SwitchIn::None };
    let shape_at = |phase: f64| {
        let x = phase.rem_euclid(1.0) * POINTS as f64;
        let (i, f) = ((x as usize).min(POINTS - 1), x.fract());
        shape[i] * (1.0 - f) + shape[(i + 1) % POINTS] * f
    };
    if shape_at(phases[i]) < 0.0 && phases[i] > 0.5 {
        return SwitchIn::Unseen { before: phases[i] };
    }
    // At least two samples where the load would have shown and did not: one could be noise.
    let missed = (0..i).filter(|&k| shape_at(phases[k]) > 0.15 * smax).count();
    // The switch lies after the last of them: where the waveform is small just before the
    // first sample showing it (a switch late in the visible half, its waveform falling to
    // the crossing), the samples between could not have told. (Taken for on from the cycle's
    // start, such a motor's switched-in cycle was read a sine of half its level, and its
    // window 4 % high.)
    let Some(last) = (0..i).rev().find(|&k| shape_at(phases[k]) > 0.15 * smax) else { return SwitchIn::None };
    if missed < 2 || phases[last] >= phases[i] {
        return SwitchIn::None;
    }
    SwitchIn::At(0.5 * (phases[last] + phases[i]))
}

/// How much of point `k`'s step (phase `k / POINTS` to `(k + 1) / POINTS`) a load on from
/// phase `on.0` until phase `on.1` is on for: a switch is placed to a fraction of a point, or
/// one 64 points a cycle apart at a sine's peak is read 6 % off.
fn on_weight(k: usize, on: (f64, f64)) -> f64 {
    let (a, b) = (on.0 * POINTS as f64, on.1 * POINTS as f64);
    ((k as f64 + 1.0).min(b) - (k as f64).max(a)).clamp(0.0, 1.0)
}

/// A load on through the whole cycle.
const WHOLE: (f64, f64) = (0.0, 1.0);

/// The share of a unit-RMS `shape`'s mean square while on (`on`, as in [`on_weight`]), its
/// mean square drifting by `drift` ([`Cycle::drift`]).
fn share_on(shape: &[f64], on: (f64, f64), drift: f64) -> f64 {
    shape.iter().enumerate().map(|(k, s)| on_weight(k, on) * (envelope(k, drift) * s).powi(2)).sum::<f64>()
        / POINTS as f64
}

/// The amplitude at point `k` of a cycle whose mean square drifts by `drift` a cycle,
/// relative to the cycle's middle.
fn envelope(k: usize, drift: f64) -> f64 {
    if drift == 0.0 {
        1.0
    } else {
        (0.5 * drift * ((k as f64 + 0.5) / POINTS as f64 - 0.5)).exp()
    }
}

/// Levels, cycle by cycle, of a switching load, read through the table `lut`. Returns each
/// cycle's RMS (A), whether the model, at that level, reads the cycle as the data do (within
/// [`MATCH`] of its level, or of the mean level if that is higher): a cycle it cannot
/// reproduce (a motor switched on mid-cycle, which no whole-cycle level describes) is better
/// left to the caller; and the magnetizing current entering the last cycle and leaving it (a
/// partial cycle after them is read from there: [`crate::partial_start`]). `from_rest`: the samples before the first
/// cycle showed no current for a whole cycle, so it starts with no magnetizing current; else
/// from the periodic state of its own waveform. A burst-fire heater's single cycle after nine
/// off, read from its periodic state, left a quarter of its mean square to the kick after it
/// (2 A uncut, one cycle on, nine off, 50 Hz, through the model at 8196.7 Sa/s: its window 4 %
/// low).
pub fn cycle_levels(
    model: &CtModel,
    mains_hz: f64,
    lut: &[f32],
    cycles: &[Cycle],
    from_rest: bool,
) -> (Vec<f64>, Vec<bool>, (f64, f64)) {
    let p = *model.params();
    let lsb_per_v = f64::from(p.adc_full_scale) / p.adc_ref_v;
    let n = cycles.len();
    let mean = cycles.iter().map(|c| c.observed).sum::<f64>() / n.max(1) as f64;
    let mut march = March::default();
    let mut is = vec![0.0; POINTS];
    let (mut levels, mut explained) = (vec![0.0; n], vec![false; n]);
    if n == 0 {
        return (levels, explained, (0.0, 0.0));
    }
    let mut unit = Vec::with_capacity(POINTS);
    unit_of(&mut unit, &cycles[0], p.turns);
    fill(&mut is, &unit, cycles[0].start, WHOLE);
    let mut im = if from_rest { 0.0 } else { model.periodic_start(&is, mains_hz, &mut march) };
    let mut points = Vec::new();
    // Per pair of waveforms (the cycle before's, the cycle's, by identity): what the last such
    // marched cycle left.
    let mut learned: Vec<Learned> = Vec::new();
    // Marched cycles in a row whose answer repeated the last of their pair's (the state had
    // settled), and the last cycle read without marching, if the march has not resumed.
    let (mut settled_run, mut skipped, mut last_marched) = (0usize, None::<usize>, 0usize);
    // The magnetizing current entering the cycle before, if it was marched or repeated (a
    // cycle read without marching entered where it ended, as the cycle after it enters).
    let mut prev_entry: Option<f64> = None;
    // The scale of the window's magnetizing currents (its largest cycle's peak, as a secondary
    // current).
    let entry_scale = (2.0 * cycles.iter().map(|c| c.observed).fold(0.0, f64::max)).sqrt() / p.turns;
    for j in 0..n {
        let Cycle { observed, at, gain, start, shape, switch_in, drift, beside } = cycles[j];
        let tolerance = MATCH * observed.max(mean);
        let key = (j > 0 && switch_in == SwitchIn::None && cycles[j - 1].switch_in == SwitchIn::None)
            .then(|| (cycles[j - 1].shape.as_ptr(), shape.as_ptr()));
        let last = key.and_then(|k| learned.iter().find(|m| m.key == k)).copied();
        let memo = last.map(|m| (m.ratio, m.slope));
        // A settled load's cycle, like the one before it: read as its settled cycles were,
        // without marching it (what the march gives there, to within the secant's stop).
        if let Some((ratio, _)) = memo.filter(|_| {
            settled_run >= SETTLED
                && drift == 0.0
                && std::ptr::eq(cycles[j - 1].shape, shape)
                && (observed / cycles[j - 1].observed - 1.0).abs() <= MATCH
        }) {
            levels[j] = (ratio * observed * share_on(shape, WHOLE, drift)).sqrt();
            explained[j] = true;
            skipped = Some(j);
            prev_entry = None;
            continue;
        }
        // Marching again after skipped cycles: from their state, the last marched cycle's
        // (settled: it ended as it began) scaled to the last skipped cycle's level.
        if let Some(s) = skipped.take() {
            if levels[last_marched] > 0.0 {
                im *= levels[s] / levels[last_marched];
            }
        }
        // A cycle like one marched before in this window: the same pair of waveforms, entered
        // with the same magnetizing current (to [`SAME_ENTRY`] of the window's peak) and read
        // alike (to the secant's stop). The march is a function of those, so it would give
        // that cycle's answer and end state again: they are taken without marching. A burst's
        // cycles repeat so from its second period on; no cycle of a burst of single cycles
        // follows one of its own waveform, so none counts as settled (`SETTLED`).
        let entered = |r: &Repeat| {
            (r.im0 - im).abs() <= SAME_ENTRY * entry_scale
                && observed > 0.0
                && (observed / r.observed - 1.0).abs() <= CONVERGED * MATCH
        };
        if let Some(r) = last.and_then(|m| m.repeat).filter(|r| drift == 0.0 && entered(r)) {
            levels[j] = (r.ratio * observed).sqrt();
            explained[j] = r.explained;
            prev_entry = Some(im);
            im = r.end;
            settled_run = 0;
            last_marched = j;
            continue;
        }
        points_at(at, &mut points);
        unit_of(&mut unit, &cycles[j], p.turns);
        let im0 = im;
        // The table's reading of cycle j at RMS `a` while on from phase `on_from`, and the
        // magnetizing current it leaves.
        let mut read = |a: f64, on_from: f64| -> (f64, f64) {
            fill(&mut is, &unit, a, (on_from, 1.0));
            if let Some((old, o)) = beside {
                for (v, u) in is.iter_mut().zip(old) {
                    *v += o * u / p.turns;
                }
            }
            let end = model.march_cycle(&is, mains_hz, im0, &mut march);
            (table_reading(march.adc_v(), &points, lut, lsb_per_v), end)
        };
        if let (SwitchIn::Unseen { before }, Some(next)) = (switch_in, cycles.get(j + 1)) {
            // The load at the next cycle's first estimate (taken a cycle's drift back),
            // switched in at the phase in the unseen half whose kick the table reads as the
            // data do: a later switch leaves less magnetizing current, so less kick
            // (bisection). A kick larger than the earliest switch gives is read as that
            // switch, and a cycle whose last sample or two caught the next cycle's rise (no
            // kick) as a switch at its end: the cycle counts as explained either way, for
            // nothing better describes it. (In the one case taken apart, the inrush sweep's
            // phase 11, SPICE's kick was about 1.5 times what the model gives for the true
            // switch and level.)
            // (Beside a load on throughout, the next cycle's estimate holds that one too.)
            let o = beside.map_or(0.0, |(_, o)| o);
            let a = (next.start * next.start - o * o).max(0.0).sqrt() * (-0.5 * drift).exp();
            let (mut lo, mut hi) = (0.5, before);
            for _ in 0..12 {
                let mid = 0.5 * (lo + hi);
                if read(a, mid).0 > observed {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            let x = 0.5 * (lo + hi);
            let (_, end) = read(a, x);
            levels[j] = match beside {
                None => a * share_on(shape, (x, 1.0), drift).sqrt(),
                Some((old, o)) => {
                    let on = |k: usize| on_weight(k, (x, 1.0)) * a * envelope(k, drift) * shape[k];
                    ((0..POINTS).map(|k| (o * old[k] + on(k)).powi(2)).sum::<f64>() / POINTS as f64).sqrt()
                }
            };
            explained[j] = true;
            prev_entry = None;
            im = end;
            settled_run = 0;
            last_marched = j;
            continue;
        }
        // The share of the cycle's unit mean square after its switch-in (1 if on throughout):
        // the level solved for is the load's while on, the cycle's RMS that times its root.
        let on_from = switch_in.on_from();
        let on_share = share_on(shape, (on_from, 1.0), drift);
        // Secant on the mean square, from the settled guess; the first slope is the settled
        // one, `gain` (a cycle just after a switch reads differently, which the secant
        // learns). A cycle whose waveform and whose predecessor's waveform (the same slices:
        // the same class, or a sine standing in) were seen together before starts from the
        // last such cycle's answer instead, its mean square over its reading and its slope: a
        // settled load's cycles differ by their samples' noise, and a heater's off-cycle
        // after an on-cycle (a reading that is mostly the clamp's kick) is the same every
        // time. On the household record at 8196.7 Sa/s the settled guess was met at once by
        // one cycle in nine, at 2.5 marches a cycle; so started, 1.5.
        let (ms0, slope) = match memo {
            Some((ratio, slope)) => (ratio * observed, slope),
            None => (start * start, gain),
        };
        let Solved { ms: ms0, reading: p0, mut end, slope } =
            secant(|ms| read(ms.sqrt(), on_from), observed, tolerance, gain, ms0, slope);
        last_marched = j;
        // Settled: the answer repeats, and the magnetizing current ends the cycle where it
        // began it (a large load's decaying tail under a small one repeats the answer to a
        // percent from cycle to cycle while it still decays: a step from 36 A to 0.32 A,
        // so skipped, read its record 1.8 % higher).
        let periodic = (end - im0).abs() <= 0.01 * end.abs().max(im0.abs());
        let repeated = periodic
            && memo
                .is_some_and(|(ratio, _)| observed > 0.0 && (ms0 / observed / ratio - 1.0).abs() <= CONVERGED * MATCH);
        settled_run = if repeated { settled_run + 1 } else { 0 };
        levels[j] = (ms0 * on_share).sqrt();
        explained[j] = (p0 - observed).abs() <= tolerance || (ms0 == 0.0 && p0 >= observed);
        // Off, and showing less of the clamp's kick than the cycle before, read as on
        // throughout, leaves: that load stopped in its unseen half ([`switched_out`]).
        if ms0 == 0.0 && p0 > observed + tolerance && j > 0 && levels[j - 1] > 0.0 {
            let prev = &cycles[j - 1];
            let tolerances = (MATCH * prev.observed.max(mean), tolerance);
            if let Some(out) = switched_out(
                model,
                mains_hz,
                lut,
                prev,
                prev_entry.unwrap_or(im0),
                levels[j - 1],
                &cycles[j],
                tolerances,
            ) {
                levels[j - 1] = out.level;
                explained[j - 1] = out.explained;
                explained[j] = out.next_explained;
                end = out.end;
            }
        }
        prev_entry = Some(im0);
        if let (Some(key), true) = (key, observed > 0.0) {
            let ratio = ms0 / observed;
            let repeat = if drift == 0.0 {
                Some(Repeat { im0, end, observed, ratio, explained: explained[j] })
            } else {
                last.and_then(|m| m.repeat)
            };
            let m = Learned { key, ratio, slope, repeat };
            match learned.iter_mut().find(|q| q.key == key) {
                Some(q) => *q = m,
                None => learned.push(m),
            }
        }
        im = end;
    }
    // Cycles read without marching at the end: their state, as where the march resumes.
    if let Some(s) = skipped.filter(|_| levels[last_marched] > 0.0) {
        im *= levels[s] / levels[last_marched];
    }
    // The last cycle's entry, where it was marched or repeated; else it was settled, and
    // entered as it left.
    (levels, explained, (prev_entry.unwrap_or(im), im))
}

/// What [`secant`] found: a cycle's mean square while on, the table's reading of it and the
/// magnetizing current it leaves, and the last slope.
pub(crate) struct Solved {
    pub(crate) ms: f64,
    reading: f64,
    end: f64,
    pub(crate) slope: f64,
}

/// The mean square at which `read` (the table's mean square of a cycle marched at that mean
/// square while on, and the magnetizing current it leaves) reads `observed`, by the secant
/// method from `ms` and `slope`, to [`CONVERGED`] of `tolerance`, in at most [`STEPS`]
/// steps; the slope is kept within a factor 20 of the settled one, `gain`. A mean square
/// that would go below zero stops at zero: a reading the cycle's kick alone exceeds is off.
pub(crate) fn secant(
    mut read: impl FnMut(f64) -> (f64, f64),
    observed: f64,
    tolerance: f64,
    gain: f64,
    mut ms: f64,
    mut slope: f64,
) -> Solved {
    let (mut reading, mut end) = read(ms);
    for _ in 0..STEPS {
        if (reading - observed).abs() <= CONVERGED * tolerance {
            break;
        }
        let ms1 = (ms + (observed - reading) / slope).max(0.0);
        let (p1, e1) = read(ms1);
        if (ms1 - ms).abs() > 1e-12 * ms.max(1e-12) {
            slope = ((p1 - reading) / (ms1 - ms)).clamp(0.05 * gain, 5.0 * gain);
        }
        let stuck = ms1 == 0.0 && p1 >= observed;
        (ms, reading, end) = (ms1, p1, e1);
        if stuck {
            break;
        }
    }
    Solved { ms, reading, end, slope }
}

/// The phase (in cycles) where a unit `shape`'s positive lobe ends: its first fall to zero
/// after its peak, interpolated between points. `None` if it does not fall to zero.
fn visible_end(shape: &[f64]) -> Option<f64> {
    let peak = (0..shape.len()).max_by(|&a, &b| shape[a].total_cmp(&shape[b]))?;
    let k = (peak + 1..shape.len()).find(|&k| shape[k] <= 0.0)?;
    let (a, b) = (shape[k - 1], shape[k]);
    Some((k as f64 - 1.0 + a / (a - b)) / shape.len() as f64)
}

/// Cycle `c`'s secondary current at unit RMS (its shape, drifting) for a clamp of `turns`,
/// into `unit`.
fn unit_of(unit: &mut Vec<f64>, c: &Cycle, turns: f64) {
    unit.clear();
    unit.extend(c.shape.iter().enumerate().map(|(k, s)| envelope(k, c.drift) * s / turns));
}

/// `unit` at RMS `a` while the load is on over phases `on` ([`on_weight`]), into `is`.
fn fill(is: &mut [f64], unit: &[f64], a: f64, on: (f64, f64)) {
    for (k, (v, u)) in is.iter_mut().zip(unit).enumerate() {
        *v = on_weight(k, on) * a * u;
    }
}

/// What [`switched_out`] found.
struct SwitchedOut {
    /// The cycle's RMS (A), and whether the model so reads it as the data do.
    level: f64,
    explained: bool,
    /// Whether the off cycle after it reads as the data do, and the magnetizing current it
    /// leaves.
    next_explained: bool,
    end: f64,
}

/// A load's last cycle `prev` (entered with magnetizing current `entry`, read as on throughout
/// at RMS `level`) before an off cycle `next` that shows less of the clamp's kick than that
/// leaves, read again as switched out at the phase in its unseen half whose kick the table
/// reads in `next` as the data do (bisection: a stop nearer the visible half's end leaves
/// less magnetizing current to drive the kick, none at that end). `tolerances` are
/// [`MATCH`]'s for the two cycles.
///
/// Why: a contact or a triac stops a load at a current zero, as often at the end of the
/// visible half as at the end of the hidden one. A load that stopped at the visible half's end
/// shows the same visible half as one on through the cycle, and read as on throughout its
/// last cycle counts a hidden half-cycle it never drew, half that cycle's mean square. The
/// cycle after tells them apart: a load that conducted through its hidden half leaves the
/// magnetizing current that drives a kick into the next cycle, one stopped at the visible
/// half's end leaves none. A lagging 2.4 A load at 61.9 Hz switched out so inside a window at
/// 8196.7 Sa/s was read 0.4-1.5 % high (a third of a window's load-on cycles), one stopped at
/// the hidden half's end within 0.2 %.
#[allow(clippy::too_many_arguments)]
fn switched_out(
    model: &CtModel,
    mains_hz: f64,
    lut: &[f32],
    prev: &Cycle,
    entry: f64,
    level: f64,
    next: &Cycle,
    tolerances: (f64, f64),
) -> Option<SwitchedOut> {
    if matches!(prev.switch_in, SwitchIn::Unseen { .. }) {
        return None;
    }
    let on_from = prev.switch_in.on_from();
    let lobe_end = visible_end(prev.shape).filter(|&x| x > on_from)?;
    let p = *model.params();
    let lsb_per_v = f64::from(p.adc_full_scale) / p.adc_ref_v;
    let mut unit = Vec::with_capacity(POINTS);
    unit_of(&mut unit, prev, p.turns);
    let (mut at_prev, mut at_next) = (Vec::new(), Vec::new());
    points_at(prev.at, &mut at_prev);
    points_at(next.at, &mut at_next);
    let (mut march, mut is, off) = (March::default(), vec![0.0; POINTS], [0.0; POINTS]);
    let ms_on = level * level / share_on(prev.shape, (on_from, 1.0), prev.drift);
    // The load on until `until`: its level matched to `prev`'s reading, then the next cycle
    // marched off: the mean square while on, whether matched, the next cycle's reading and
    // the magnetizing current it leaves.
    let mut stopped_at = |until: f64| {
        let solved = secant(
            |ms| {
                fill(&mut is, &unit, ms.sqrt(), (on_from, until));
                let end = model.march_cycle(&is, mains_hz, entry, &mut march);
                (table_reading(march.adc_v(), &at_prev, lut, lsb_per_v), end)
            },
            prev.observed,
            tolerances.0,
            prev.gain,
            ms_on,
            prev.gain,
        );
        let end = model.march_cycle(&off, mains_hz, solved.end, &mut march);
        (solved, table_reading(march.adc_v(), &at_next, lut, lsb_per_v), end)
    };
    let (mut lo, mut hi) = (lobe_end, 1.0);
    let mut found = stopped_at(lo);
    let mut until = lo;
    if found.1 < next.observed {
        // The stop whose kick reads nearest the data's, of either end of the bracket: the
        // kick grows fastest as the stop nears the hidden half's end (a 6.5 A heater's next
        // cycle read 8.65 at 0.9943 of its cycle and 9.01 at 0.9962, the data 8.93).
        let mut above = None;
        for _ in 0..8 {
            let mid = 0.5 * (lo + hi);
            let tried = stopped_at(mid);
            if tried.1 > next.observed {
                hi = mid;
                above = Some(tried);
            } else {
                lo = mid;
                found = tried;
            }
        }
        until = lo;
        if let Some(a) = above.filter(|a| a.1 - next.observed < next.observed - found.1) {
            (found, until) = (a, hi);
        }
    }
    let (solved, reading, end) = found;
    Some(SwitchedOut {
        level: (solved.ms * share_on(prev.shape, (on_from, until), prev.drift)).sqrt(),
        explained: (solved.reading - prev.observed).abs() <= tolerances.0,
        next_explained: (reading - next.observed).abs() <= tolerances.1 || reading >= next.observed,
        end,
    })
}

/// What the table reads of `shape` (unit RMS at [`POINTS`] points) flowing at `rms` A for
/// ever, in mean square over `rms^2`: [`Cycle::gain`] of a waveform known only from a
/// window's inversion in time, not from a fold (1 for a sine, about 2 for a narrow pulse).
pub fn settled_gain(model: &CtModel, mains_hz: f64, lut: &[f32], shape: &[f64], rms: f64) -> f64 {
    let settled = Settled::new(model, mains_hz, shape, rms);
    let squares = settled.point_squares(lut);
    2.0 * squares.iter().sum::<f64>() / squares.len().max(1) as f64 / (rms * rms)
}

/// One cycle of a waveform flowing for ever through the clamp, as the ADC sees it, point by
/// point: what the table reads at each phase ([`Settled::point_squares`]). Samples spread over
/// the cycle read the mean of those; samples that bunch on a dozen phases read a narrow pulse
/// by where the bunches fall on it ([`crate::unseen`]).
#[derive(Debug, Clone)]
pub struct Settled {
    adc_v: Vec<f64>,
    rms: f64,
    lsb_per_v: f64,
}

impl Settled {
    /// Marches `shape` (unit RMS at any number of points: [`POINTS`], or more for a narrow
    /// waveform read at a few phases) at `rms` A to its periodic state.
    pub fn new(model: &CtModel, mains_hz: f64, shape: &[f64], rms: f64) -> Self {
        let p = *model.params();
        let is: Vec<f64> = shape.iter().map(|s| rms * s / p.turns).collect();
        let mut march = March::default();
        let im = model.periodic_start(&is, mains_hz, &mut march);
        model.march_cycle(&is, mains_hz, im, &mut march);
        Self { adc_v: march.adc_v().to_vec(), rms, lsb_per_v: f64::from(p.adc_full_scale) / p.adc_ref_v }
    }

    /// The square of what the table reads (A) of a sample at each point: the half-wave
    /// reconstruction's mean square is twice their mean over the samples.
    pub fn point_squares(&self, lut: &[f32]) -> Vec<f64> {
        let top = lut.len().saturating_sub(1);
        self.adc_v.iter().map(|v| f64::from(lut[code_at(v * self.lsb_per_v, top)]).powi(2)).collect()
    }

    /// The RMS (A) the waveform was marched at.
    pub fn rms(&self) -> f64 {
        self.rms
    }
}

/// Where the phases `at` fall among a cycle's [`POINTS`] points: the point before each and
/// the fraction of the way to the next, for [`table_reading`]. A cycle is read several times
/// (the secant's steps, the class levels' passes) at the same phases, so this is done once.
fn points_at(at: &[f64], out: &mut Vec<(usize, f64)>) {
    out.clear();
    out.extend(at.iter().map(|&phase| {
        let x = phase * POINTS as f64;
        let i = (x as usize).min(POINTS - 1);
        (i, x - i as f64)
    }));
}

/// The table's mean square (half-wave reconstruction) of a simulated cycle `v` (ADC volts at
/// [`POINTS`] points) read at the phases placed by [`points_at`].
fn table_reading(v: &[f64], at: &[(usize, f64)], lut: &[f32], lsb_per_v: f64) -> f64 {
    let top = lut.len().saturating_sub(1);
    let sum: f64 = at
        .iter()
        .map(|&(i, f)| {
            let v1 = if i + 1 < POINTS { v[i + 1] } else { v[i] };
            let code = code_at((v[i] + (v1 - v[i]) * f) * lsb_per_v, top);
            f64::from(lut[code]).powi(2)
        })
        .sum();
    2.0 * sum / at.len().max(1) as f64
}

/// The table entry of ADC voltage `x` in codes: `x.round().clamp(0.0, top as f64) as usize`
/// (the same entry for every `x`), without the C library's `round` that the method becomes on
/// a target without SSE4.1, and without a branch on which way a code rounds (which is as
/// good as random): a call per sample per reading of a cycle.
#[inline]
fn code_at(x: f64, top: usize) -> usize {
    // Below one half (or NaN): entry 0. Above, `x + 0.5` is exact or rounds within the same
    // whole number (it could round up to one only from just below one half).
    if x.is_nan() || x < 0.5 {
        return 0;
    }
    ((x + 0.5) as usize).min(top)
}

/// Two cycles of one class and shape whose magnetizing currents at the start differ by at
/// most this fraction of the window's largest class level (as a secondary current) are
/// read alike. That error is at most about this fraction of that level in any cycle's
/// reading, and decays with the magnetizing current after it: nothing a reading shows.
const SAME_START: f64 = 1e-7;

/// One cycle of [`class_levels`]'s march, kept to be read again by a cycle of the same class
/// that starts from the same state.
#[derive(Debug, Default)]
struct Marched<'a> {
    class: usize,
    shape: &'a [f64],
    start: f64,
    end: f64,
    v: Vec<f64>,
}

/// Levels per level class of a switching load, for a stream whose single cycles do not show
/// their waveform (12 samples a cycle on the 9600-baud link): one reading per cycle could be
/// matched by any shape at some level, and matching cycle by cycle then swings from cycle to
/// cycle. Here each class has one level, the whole window is marched in time with the
/// classes' levels cycle by cycle, and the levels are moved together (Broyden's method)
/// until the table's readings of each class's cycles, summed, match the
/// data's. `class_of[j]` is cycle `j`'s class.
/// Returns each class's RMS (A), `None` for a class whose sum could not be matched within
/// [`MATCH`].
pub fn class_levels(
    model: &CtModel,
    mains_hz: f64,
    lut: &[f32],
    cycles: &[Cycle],
    class_of: &[usize],
    classes: usize,
) -> Vec<Option<f64>> {
    let p = *model.params();
    let lsb_per_v = f64::from(p.adc_full_scale) / p.adc_ref_v;
    let n = cycles.len();
    let mut observed = vec![0.0; classes];
    let mut count = vec![0usize; classes];
    let mut gain = vec![1.0; classes];
    for (c, &k) in cycles.iter().zip(class_of) {
        observed[k] += c.observed;
        count[k] += 1;
        gain[k] = c.gain;
    }
    let mut ms: Vec<f64> = (0..classes).map(|k| observed[k] / (gain[k] * count[k].max(1) as f64)).collect();
    // The classes' levels move together (Broyden's method): a class's kick moves the next
    // class's readings, and classes each moved on its own by a secant through its last two
    // passes (as this was solved before 2026-12-06) could swing for every pass allowed (the
    // household record at 603.5 Sa/s: five of twenty windows ran nine to thirteen passes, a
    // class's level 88 -> 407 -> 112 -> 0 A^2, half the marches). Together, each window matched
    // within five passes, and a third fewer cycles were marched. The solver's inverse Jacobian
    // (row-major; at first each class's settled slope's inverse alone: what its level reads
    // settled) and the last pass's levels and misses.
    let settled_inverse = |h: &mut Vec<f64>| {
        h.clear();
        h.resize(classes * classes, 0.0);
        for k in 0..classes {
            h[k * classes + k] = 1.0 / (gain[k] * count[k].max(1) as f64);
        }
    };
    let mut inverse = Vec::new();
    settled_inverse(&mut inverse);
    let mut last: Option<(Vec<f64>, Vec<f64>)> = None;
    let mut march = March::default();
    let mut is = vec![0.0; POINTS];
    let total: f64 = observed.iter().sum();
    let mut matched = vec![false; classes];
    let mut memo: Vec<Marched> = Vec::new();
    let points: Vec<Vec<(usize, f64)>> = cycles
        .iter()
        .map(|c| {
            let mut p = Vec::new();
            points_at(c.at, &mut p);
            p
        })
        .collect();
    for iteration in 0..=2 * STEPS {
        let fill = |is: &mut [f64], j: usize, ms: &[f64]| {
            let a = ms[class_of[j]].max(0.0).sqrt();
            for (v, s) in is.iter_mut().zip(cycles[j].shape) {
                *v = a * s / p.turns;
            }
        };
        let mut predicted = vec![0.0; classes];
        fill(&mut is, 0, &ms);
        let mut im = model.periodic_start(&is, mains_hz, &mut march);
        // Cycles marched in this pass, by class and starting state (see [`SAME_START`]).
        let tolerance = SAME_START * ms.iter().fold(0.0f64, |m, &x| m.max(x)).sqrt() / p.turns;
        let mut used = 0;
        for j in 0..n {
            let k = class_of[j];
            let hit = memo[..used]
                .iter()
                .position(|m| m.class == k && (m.start - im).abs() <= tolerance && m.shape == cycles[j].shape);
            let i = match hit {
                Some(i) => i,
                None => {
                    fill(&mut is, j, &ms);
                    let end = model.march_cycle(&is, mains_hz, im, &mut march);
                    if used == memo.len() {
                        memo.push(Marched::default());
                    }
                    let m = &mut memo[used];
                    m.class = k;
                    m.start = im;
                    m.end = end;
                    m.shape = cycles[j].shape;
                    m.v.clear();
                    m.v.extend_from_slice(march.adc_v());
                    used += 1;
                    used - 1
                }
            };
            im = memo[i].end;
            predicted[k] += table_reading(&memo[i].v, &points[j], lut, lsb_per_v);
        }
        // A class at level zero whose cycles read more than observed is off: the decay of the
        // cycles before it explains (more than) what it shows.
        let off: Vec<bool> = (0..classes).map(|k| ms[k] == 0.0 && predicted[k] >= observed[k]).collect();
        let mut done = true;
        for k in 0..classes {
            // Against the class's own readings, or its share of the window's if that is larger.
            let scale = observed[k].max(total * count[k] as f64 / n.max(1) as f64);
            let miss = (predicted[k] - observed[k]).abs();
            matched[k] = count[k] == 0 || miss <= MATCH * scale || off[k];
            done &= count[k] == 0 || miss <= 0.2 * MATCH * scale || off[k];
        }
        if iteration == 2 * STEPS || done {
            break;
        }
        // What each class's readings miss by; none for a class with no cycles, or one that is
        // off (it can go no lower).
        let miss: Vec<f64> =
            (0..classes).map(|k| if count[k] == 0 || off[k] { 0.0 } else { predicted[k] - observed[k] }).collect();
        if let Some((ms0, miss0)) = last.take() {
            broyden_update(&mut inverse, &ms0, &ms, &miss0, &miss).unwrap_or_else(|| settled_inverse(&mut inverse));
        }
        let next: Vec<f64> = (0..classes)
            .map(|k| (ms[k] - (0..classes).map(|i| inverse[k * classes + i] * miss[i]).sum::<f64>()).max(0.0))
            .collect();
        last = Some((std::mem::replace(&mut ms, next), miss));
    }
    (0..classes).map(|k| matched[k].then(|| ms[k].sqrt())).collect()
}

/// Broyden's ("good") update of an inverse Jacobian `h` (n x n, row-major) after a step
/// from `x0` to `x1` moved the residual from `r0` to `r1`: the least change to the Jacobian
/// that maps the step onto the residual's change, applied to its inverse by Sherman-Morrison,
/// `h += (s - h y) (s^T h) / (s^T h y)` with `s = x1 - x0`, `y = r1 - r0`. `None` where
/// that denominator is too small for the update to be trusted (the caller starts again).
fn broyden_update(h: &mut [f64], x0: &[f64], x1: &[f64], r0: &[f64], r1: &[f64]) -> Option<()> {
    let n = x0.len();
    let s: Vec<f64> = x1.iter().zip(x0).map(|(a, b)| a - b).collect();
    let y: Vec<f64> = r1.iter().zip(r0).map(|(a, b)| a - b).collect();
    let hy: Vec<f64> = (0..n).map(|i| (0..n).map(|j| h[i * n + j] * y[j]).sum()).collect();
    let sth: Vec<f64> = (0..n).map(|j| (0..n).map(|i| s[i] * h[i * n + j]).sum()).collect();
    let denominator: f64 = s.iter().zip(&hy).map(|(a, b)| a * b).sum();
    let size = s.iter().map(|v| v * v).sum::<f64>().sqrt() * hy.iter().map(|v| v * v).sum::<f64>().sqrt();
    // (A NaN fails the comparison too.)
    if denominator.abs().partial_cmp(&(1e-6 * size)) != Some(std::cmp::Ordering::Greater) {
        return None;
    }
    for i in 0..n {
        for j in 0..n {
            h[i * n + j] += (s[i] - hy[i]) * sth[j] / denominator;
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calibration::Calibration;
    use crate::clamp_model::CtParams;

    /// Broyden's update maps the last step's change of residual back onto the step (the
    /// secant condition `h y = s`, checked directly), and on a linear system whose unknowns
    /// move each other's residuals (as classes' kicks do) it finds the root from the
    /// diagonal's inverse alone in at most `2 n` steps (Gay 1979), where moving each unknown
    /// by its own diagonal swings.
    #[test]
    fn broyden_steps_solve_coupled_levels() {
        // Residual `a x - b`, the root `x* = (1, 2, 3)` (so `b = a x*`, written out).
        let a = [[1.0, 0.6, 0.0], [0.9, 1.0, 0.5], [0.0, 1.2, 1.0]];
        let root = [1.0, 2.0, 3.0];
        let residual = |x: &[f64]| -> Vec<f64> {
            (0..3).map(|i| (0..3).map(|j| a[i][j] * (x[j] - root[j])).sum::<f64>()).collect()
        };
        let diagonal = |h: &mut Vec<f64>| {
            *h = vec![0.0; 9];
            (0..3).for_each(|i| h[i * 3 + i] = 1.0 / a[i][i]);
        };
        let step = |h: &[f64], x: &[f64], r: &[f64]| -> Vec<f64> {
            (0..3).map(|i| x[i] - (0..3).map(|j| h[i * 3 + j] * r[j]).sum::<f64>()).collect()
        };
        let error = |x: &[f64]| x.iter().zip(root).map(|(v, t)| (v - t).abs()).fold(0.0, f64::max);
        // The diagonal alone, every step: it does not converge.
        let (mut h, mut x) = (Vec::new(), vec![0.0; 3]);
        diagonal(&mut h);
        for _ in 0..6 {
            x = step(&h, &x, &residual(&x));
        }
        assert!(error(&x) > 0.5, "the diagonal alone reached {x:?}");
        // Broyden.
        let mut x = vec![0.0; 3];
        let mut r = residual(&x);
        for _ in 0..6 {
            let next = step(&h, &x, &r);
            let r1 = residual(&next);
            if r1.iter().all(|v| v.abs() < 1e-12) {
                x = next;
                break;
            }
            broyden_update(&mut h, &x, &next, &r, &r1).expect("a step that moved the residual");
            let s: Vec<f64> = next.iter().zip(&x).map(|(p, q)| p - q).collect();
            let y: Vec<f64> = r1.iter().zip(&r).map(|(p, q)| p - q).collect();
            for i in 0..3 {
                let hy: f64 = (0..3).map(|j| h[i * 3 + j] * y[j]).sum();
                assert!((hy - s[i]).abs() <= 1e-9 * s.iter().fold(1.0f64, |m, v| m.max(v.abs())), "h y = s");
            }
            (x, r) = (next, r1);
        }
        assert!(error(&x) < 1e-9, "Broyden reached {x:?}");
        // No update from a step that did not move.
        let before = h.clone();
        assert_eq!(broyden_update(&mut h, &x, &x, &r, &r), None);
        assert_eq!(h, before);
    }

    /// The entry looked up is the rounded, clamped code's, halves and negatives included.
    #[test]
    fn code_at_is_the_rounded_code() {
        let top = 1023;
        let round = |x: f64| x.round().clamp(0.0, top as f64) as usize;
        for k in -4000..8000 {
            for x in [k as f64 * 0.25, k as f64 * 0.1 + 1e-12, k as f64 * 0.5 - 1e-13] {
                assert_eq!(code_at(x, top), round(x), "{x}");
            }
        }
        for x in
            [0.5 - f64::EPSILON / 4.0, 0.5, 1.5 - f64::EPSILON, 1022.5, 1023.4999999999999, f64::NAN, 1e300, -1e300]
        {
            assert_eq!(code_at(x, top), round(x), "{x}");
        }
    }

    /// The table is made for settled sines, so it reads one at its own mean square; a
    /// switch-mode supply's narrow pulse it reads high (the loads goldens' table method: +13
    /// to +40 % in RMS on distorted currents).
    #[test]
    fn settled_gain_is_one_for_a_sine_and_more_for_a_pulse() {
        let model = CtModel::builtin();
        let lut = Calibration::builtin().lut_at(Some(50.0));
        for amps in [1.0, 5.0, 20.0] {
            let g = settled_gain(model, 50.0, &lut, &unit_sine(), amps);
            assert!((g - 1.0).abs() < 0.02, "sine at {amps} A: {g}");
        }
        let pulse: Vec<f64> = (0..POINTS)
            .map(|k| crate::load_shape::unit_shape(crate::load_shape::Shape::Smps, k as f64 / POINTS as f64))
            .collect();
        let rms = (pulse.iter().map(|v| v * v).sum::<f64>() / POINTS as f64).sqrt();
        let pulse: Vec<f64> = pulse.iter().map(|v| v / rms).collect();
        let g = settled_gain(model, 50.0, &lut, &pulse, 3.0);
        assert!(g > 1.25 && g < 4.0, "pulse: {g}");
    }

    /// A unit-RMS sine at [`POINTS`] points from its upward zero crossing.
    fn unit_sine() -> Vec<f64> {
        (0..POINTS).map(|k| 2f64.sqrt() * (std::f64::consts::TAU * k as f64 / POINTS as f64).sin()).collect()
    }

    /// A 10 A sine off for three cycles, switched in at phase `at` of the fourth and on until
    /// the `n`th, through the model in time at 1024 points a cycle, read by the table at each
    /// point as the data would be: per cycle, the table's amps and mean square, and the
    /// source's RMS.
    fn switched_in(at: f64, n: usize) -> (Vec<Vec<f32>>, Vec<f64>, Vec<f64>) {
        gated(|j, k| j > 3 || (j == 3 && k as f64 >= at * 1024.0), n, 0.0)
    }

    /// A 10 A sine on while `on(cycle, point)`, `n` cycles of 1024 points, its magnetizing
    /// current `im` at the start, read as [`switched_in`] reads.
    fn gated(on: impl Fn(usize, usize) -> bool, n: usize, im: f64) -> (Vec<Vec<f32>>, Vec<f64>, Vec<f64>) {
        let model = CtModel::new(CtParams::default()).unwrap();
        let turns = model.params().turns;
        let lut = Calibration::builtin().lut_at(Some(50.0));
        let l = 1024;
        let is: Vec<f64> = (0..n * l)
            .map(|i| {
                let (j, k) = (i / l, i % l);
                if on(j, k) {
                    10.0 * 2f64.sqrt() * (std::f64::consts::TAU * k as f64 / l as f64).sin() / turns
                } else {
                    0.0
                }
            })
            .collect();
        let mut march = March::default();
        let mut im = im;
        let mut amps = Vec::new();
        for cycle in is.chunks_exact(l) {
            im = model.march_cycle(cycle, 50.0, im, &mut march);
            amps.push(march.adc_v().iter().map(|&v| lut[code_at(v * 1023.0 / 2.5, 1023)]).collect::<Vec<f32>>());
        }
        let observed =
            amps.iter().map(|a| 2.0 * a.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / l as f64).collect();
        let truth = (0..n)
            .map(|j| {
                let ms = (0..l).filter(|&k| on(j, k)).map(|k| (is[j * l + k] * turns).powi(2)).sum::<f64>() / l as f64;
                ms.sqrt()
            })
            .collect();
        (amps, observed, truth)
    }

    /// The levels [`cycle_levels`] finds for [`switched_in`]'s cycles, cycle `cycle` told
    /// `switch_in`.
    fn levels_of(observed: &[f64], cycle: usize, switch_in: SwitchIn) -> Vec<f64> {
        let model = CtModel::new(CtParams::default()).unwrap();
        let lut = Calibration::builtin().lut_at(Some(50.0));
        let sine = unit_sine();
        let phases: Vec<f64> = (0..1024).map(|k| k as f64 / 1024.0).collect();
        let cycles: Vec<Cycle> = observed
            .iter()
            .enumerate()
            .map(|(j, &o)| Cycle {
                observed: o,
                at: &phases,
                shape: &sine,
                gain: 1.0,
                start: o.sqrt(),
                switch_in: if j == cycle { switch_in } else { SwitchIn::None },
                drift: 0.0,
                beside: None,
            })
            .collect();
        cycle_levels(&model, 50.0, &lut, &cycles, false).0
    }

    /// A load switched in at any phase, through the model in time: in its visible half the
    /// samples place the switch within a sample (in the last nine degrees before the
    /// crossing, where the waveform is under 15 % of its peak, within a percent of the
    /// cycle: such a switch was once read as on from the cycle's start); in its unseen half
    /// they show the clamp's
    /// kick before the cycle ends. Read as so switched, the record's energy is the source's
    /// within 1 %; read as a load on from the cycle's start, it is up to 7 % high.
    #[test]
    fn switches_in_at_any_phase_are_placed_and_read() {
        let sine = unit_sine();
        let phases: Vec<f64> = (0..1024).map(|k| k as f64 / 1024.0).collect();
        let energy = |l: &[f64]| l.iter().map(|a| a * a).sum::<f64>();
        let mut worst_blind = 0.0f64;
        for at in [0.05, 0.1, 0.2, 0.3, 0.4, 0.45, 0.48, 0.6, 0.7, 0.8, 0.9] {
            let (amps, observed, truth) = switched_in(at, 10);
            assert_eq!(switched_in_at(&amps[2], &phases, &sine), SwitchIn::None, "an off cycle");
            assert_eq!(switched_in_at(&amps[5], &phases, &sine), SwitchIn::None, "an on cycle");
            let found = switched_in_at(&amps[3], &phases, &sine);
            match found {
                // Late in the visible half the waveform is too small to show where it
                // began: the switch is placed after the last sample that would have.
                SwitchIn::At(x) if at < 0.5 => {
                    let within = if at < 0.46 { 2.0 / 1024.0 } else { 0.01 };
                    assert!((x - at).abs() < within, "{at}: {x}");
                }
                SwitchIn::Unseen { before } if at > 0.5 => assert!(before > at && before < 1.0, "{at}: {before}"),
                other => panic!("{at}: {other:?}"),
            }
            let seen = levels_of(&observed, 3, found);
            let blind = levels_of(&observed, 3, SwitchIn::None);
            let error = energy(&seen) / energy(&truth) - 1.0;
            assert!(error.abs() < 0.01, "{at}: {seen:?} vs {truth:?}");
            worst_blind = worst_blind.max((energy(&blind) / energy(&truth) - 1.0).abs());
        }
        assert!(worst_blind > 0.05, "{worst_blind}");
    }

    /// A load on from before the record until phase `until` of its fourth cycle, then off for
    /// six, through the model in time (from its periodic state): stopped at the end of its
    /// visible half (a current zero, where a contact or a triac lets go), at the end of its
    /// hidden half, or between, its last cycle is read as the source's within 1 % of the
    /// record's energy: the kick the cycle after shows, or does not, places the stop. Read
    /// as on through that cycle, a stop at the visible half's end was 11 % high.
    #[test]
    fn a_load_switched_out_in_its_hidden_half_is_read_so() {
        let model = CtModel::new(CtParams::default()).unwrap();
        let turns = model.params().turns;
        let sine: Vec<f64> =
            (0..1024).map(|k| 10.0 * 2f64.sqrt() * (std::f64::consts::TAU * k as f64 / 1024.0).sin() / turns).collect();
        let im = model.periodic_start(&sine, 50.0, &mut March::default());
        let energy = |l: &[f64]| l.iter().map(|a| a * a).sum::<f64>();
        for until in [0.5, 0.6, 0.75, 0.9, 1.0] {
            let (_, observed, truth) = gated(|j, k| j < 3 || (j == 3 && (k as f64) < until * 1024.0), 10, im);
            let levels = levels_of(&observed, 0, SwitchIn::None);
            let error = energy(&levels) / energy(&truth) - 1.0;
            assert!(error.abs() < 0.01, "{until}: {levels:?} vs {truth:?}");
            assert!((levels[3] / truth[3] - 1.0).abs() < 0.05, "{until}: cycle 3 {} vs {}", levels[3], truth[3]);
        }
    }

    /// A load on for forty cycles after its switch: once its state has settled, its cycles are
    /// read without marching them ([`SETTLED`]); every cycle from the third after the switch
    /// is its source's RMS within 0.3 %, as the marched ones are.
    #[test]
    fn a_settled_load_is_read_as_marched() {
        let (_, observed, truth) = switched_in(0.3, 44);
        let levels = levels_of(&observed, 3, SwitchIn::At(0.3));
        for j in 6..44 {
            assert!((levels[j] / truth[j] - 1.0).abs() < 0.003, "cycle {j}: {} vs {}", levels[j], truth[j]);
        }
    }

    /// Burst fire, one cycle on and one off, through the model in time: the table alone
    /// reads the on-cycles low; the levels found here are the source's.
    #[test]
    fn burst_fire_levels_are_recovered() {
        let model = CtModel::new(CtParams::default()).unwrap();
        let hz = 50.0;
        let lut = Calibration::builtin().lut_at(Some(hz));
        let sine = unit_sine();
        let n = 20;
        let truth: Vec<f64> = (0..n).map(|j| if j % 2 == 0 { 10.0 } else { 0.0 }).collect();
        // The "data": the same model in time, read by the table at finer resolution.
        let l = 1024;
        let mut is = vec![0.0; n * l];
        for j in 0..n {
            for k in 0..l {
                is[j * l + k] = truth[j] * 2f64.sqrt() * (std::f64::consts::TAU * k as f64 / l as f64).sin() / 1350.0;
            }
        }
        let mut march = March::default();
        let mut im = model.periodic_start(&is[..l], hz, &mut march);
        let mut v = Vec::new();
        for cycle in is.chunks_exact(l) {
            im = model.march_cycle(cycle, hz, im, &mut march);
            v.extend_from_slice(march.adc_v());
        }
        let observed: Vec<f64> = (0..n)
            .map(|j| {
                2.0 * v[j * l..(j + 1) * l]
                    .iter()
                    .map(|&v| f64::from(lut[((v * 1023.0 / 2.5).round() as usize).min(1023)]).powi(2))
                    .sum::<f64>()
                    / l as f64
            })
            .collect();
        let table_rms = (observed.iter().sum::<f64>() / n as f64).sqrt();
        let true_rms = (truth.iter().map(|a| a * a).sum::<f64>() / n as f64).sqrt();
        assert!(table_rms / true_rms < 0.9, "the table alone reads it low: {table_rms} vs {true_rms}");
        let shapes: Vec<&[f64]> = vec![&sine; n];
        let start: Vec<f64> = observed.iter().map(|o| o.sqrt()).collect();
        let phases: Vec<f64> = (0..l).map(|k| k as f64 / l as f64).collect();
        let at: Vec<&[f64]> = vec![&phases; n];
        let cycles: Vec<Cycle> = (0..n)
            .map(|j| Cycle {
                observed: observed[j],
                at: at[j],
                shape: shapes[j],
                gain: 1.0,
                start: start[j],
                switch_in: SwitchIn::None,
                drift: 0.0,
                beside: None,
            })
            .collect();
        let (a, explained, _) = cycle_levels(&model, hz, &lut, &cycles, false);
        assert!(explained.iter().all(|&e| e), "{explained:?}");
        let rms = (a.iter().map(|a| a * a).sum::<f64>() / n as f64).sqrt();
        assert!((rms / true_rms - 1.0).abs() < 0.005, "{rms} vs {true_rms}: {a:?}");
    }
}
