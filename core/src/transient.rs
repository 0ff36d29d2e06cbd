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
//! explains what it shows is off (`a_j = 0`). Cost: a few model cycles of [`POINTS`] points
//! per cycle, only for windows whose load changed.

use crate::clamp_model::{CtModel, March};

/// Points per simulated cycle.
pub const POINTS: usize = 64;

/// Relative agreement of predicted and observed table mean square for a cycle to count as
/// explained.
pub const MATCH: f64 = 0.03;

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
}

/// Levels, cycle by cycle, of a switching load, read through the table `lut`. Returns each
/// cycle's RMS (A), and whether the model, at that level, reads the cycle as the data do
/// (within [`MATCH`] of its level, or of the mean level if that is higher): a cycle it
/// cannot reproduce (a motor switched on mid-cycle, which no whole-cycle level describes) is
/// better left to the caller.
pub fn cycle_levels(model: &CtModel, mains_hz: f64, lut: &[f32], cycles: &[Cycle]) -> (Vec<f64>, Vec<bool>) {
    let p = *model.params();
    let lsb_per_v = f64::from(p.adc_full_scale) / p.adc_ref_v;
    let n = cycles.len();
    let mean = cycles.iter().map(|c| c.observed).sum::<f64>() / n.max(1) as f64;
    let mut march = March::default();
    let mut is = vec![0.0; POINTS];
    let (mut levels, mut explained) = (vec![0.0; n], vec![false; n]);
    if n == 0 {
        return (levels, explained);
    }
    let fill = |is: &mut [f64], j: usize, a: f64| {
        for (v, s) in is.iter_mut().zip(cycles[j].shape) {
            *v = a * s / p.turns;
        }
    };
    fill(&mut is, 0, cycles[0].start);
    let mut im = model.periodic_start(&is, mains_hz, &mut march);
    let mut points = Vec::new();
    for j in 0..n {
        let Cycle { observed, at, gain, start, .. } = cycles[j];
        points_at(at, &mut points);
        // The table's reading of cycle j at RMS `a`, and the magnetizing current it leaves.
        let mut read = |a: f64| -> (f64, f64) {
            fill(&mut is, j, a);
            let end = model.march_cycle(&is, mains_hz, im, &mut march);
            (table_reading(march.adc_v(), &points, lut, lsb_per_v), end)
        };
        let tolerance = MATCH * observed.max(mean);
        // Secant on the mean square, from the settled guess; the first slope is the settled
        // one, `gain` (a cycle just after a switch reads differently, which the secant
        // learns).
        let mut ms0 = start * start;
        let (mut p0, mut end) = read(ms0.sqrt());
        let mut slope = gain;
        for _ in 0..STEPS {
            if (p0 - observed).abs() <= 0.2 * tolerance {
                break;
            }
            let ms1 = (ms0 + (observed - p0) / slope).max(0.0);
            let (p1, e1) = read(ms1.sqrt());
            if (ms1 - ms0).abs() > 1e-12 * ms0.max(1e-12) {
                slope = ((p1 - p0) / (ms1 - ms0)).clamp(0.05 * gain, 5.0 * gain);
            }
            let stuck = ms1 == 0.0 && p1 >= observed;
            ms0 = ms1;
            p0 = p1;
            end = e1;
            if stuck {
                break;
            }
        }
        levels[j] = ms0.sqrt();
        explained[j] = (p0 - observed).abs() <= tolerance || (ms0 == 0.0 && p0 >= observed);
        im = end;
    }
    (levels, explained)
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
/// classes' levels cycle by cycle, and each class's level is moved (secant) until the table's
/// readings of its cycles, summed, match the data's. `class_of[j]` is cycle `j`'s class.
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
    let mut last: Vec<Option<(f64, f64)>> = vec![None; classes];
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
        let mut done = true;
        for k in 0..classes {
            // Against the class's own readings, or its share of the window's if that is larger.
            let scale = observed[k].max(total * count[k] as f64 / n.max(1) as f64);
            let miss = (predicted[k] - observed[k]).abs();
            // A class at level zero whose cycles read more than observed is off: the decay of
            // the cycles before it explains (more than) what it shows.
            let off = ms[k] == 0.0 && predicted[k] >= observed[k];
            matched[k] = count[k] == 0 || miss <= MATCH * scale || off;
            done &= count[k] == 0 || miss <= 0.2 * MATCH * scale || off;
        }
        if iteration == 2 * STEPS || done {
            break;
        }
        for k in 0..classes {
            if count[k] == 0 {
                continue;
            }
            let settled = gain[k] * count[k] as f64;
            let slope = match last[k] {
                Some((m0, p0)) if (ms[k] - m0).abs() > 1e-12 * ms[k].max(1e-12) => {
                    ((predicted[k] - p0) / (ms[k] - m0)).clamp(0.05 * settled, 5.0 * settled)
                }
                _ => settled,
            };
            last[k] = Some((ms[k], predicted[k]));
            ms[k] = (ms[k] + (observed[k] - predicted[k]) / slope).max(0.0);
        }
    }
    (0..classes).map(|k| matched[k].then(|| ms[k].sqrt())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calibration::Calibration;
    use crate::clamp_model::CtParams;

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

    /// Burst fire, one cycle on and one off, through the model in time: the table alone
    /// reads the on-cycles low; the levels found here are the source's.
    #[test]
    fn burst_fire_levels_are_recovered() {
        let model = CtModel::new(CtParams::default()).unwrap();
        let hz = 50.0;
        let lut = Calibration::builtin().lut_at(Some(hz));
        let sine: Vec<f64> =
            (0..POINTS).map(|k| 2f64.sqrt() * (std::f64::consts::TAU * k as f64 / POINTS as f64).sin()).collect();
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
            .map(|j| Cycle { observed: observed[j], at: at[j], shape: shapes[j], gain: 1.0, start: start[j] })
            .collect();
        let (a, explained) = cycle_levels(&model, hz, &lut, &cycles);
        assert!(explained.iter().all(|&e| e), "{explained:?}");
        let rms = (a.iter().map(|a| a * a).sum::<f64>() / n as f64).sqrt();
        assert!((rms / true_rms - 1.0).abs() < 0.005, "{rms} vs {true_rms}: {a:?}");
    }
}
