//! A load whose level moves through a window, folded where a cycle's samples do not show its
//! waveform (the 9600-baud link's twelve a cycle): the level's trend is taken out first.
//!
//! Why. The fold ([`crate::fold`]) puts each sample at its phase in the mains cycle. At 603.5
//! Sa/s neighbouring phases are visited cycles apart (at 49.7 Hz 85 samples fall in seven
//! cycles, and the phase an 85th further on is seen a cycle earlier), and a rate a hair off
//! such a ratio splits each phase's samples between two bins, the window's early ones in one
//! and its late ones in the next. A steady load fills both alike. A load whose level moves (a
//! motor's inrush settling) gives each bin the level of *when* it was visited, and its fold is
//! ragged from bin to bin; inverted through the clamp model ([`crate::inversion`]) that
//! raggedness is not averaged away. A motor started 0.5 s before a window, a threefold inrush
//! decaying over 0.2 s at 49.7 Hz (its mean square from 1.36 to 1.0 of the running level
//! through the window, 11 % lower in the second half than the first: under
//! [`crate::segment::DRIFT`], so one steady class), was given a correction of 1.041 (mean
//! square) by its fold where the steady window after it gave 0.9996, and read 2.21 % high with
//! no flag (`model_sweep starts`).
//!
//! What. The trend of the class's level, `ln level = a + b t` over its cycles' levels against
//! the window's profile ([`crate::segment::Classes::cycle_level`]) by least squares, divides
//! each sample's table current (by its square root: the level is a mean square) before the
//! fold, and the quotient is taken back to a code through the same table ([`code_at`]): near
//! the in-line diode's knee the clamp is not linear in its codes, so scaling the codes
//! themselves bends the waveform (scaled and rounded to whole codes, that read the motor
//! above 0.87 % low). The correction is then the trend-free fold's over the trend-free table
//! currents, for every cycle alike: the waveform's shape held while its size moved. That
//! motor: +0.69 %.
//!
//! A line, not each cycle's own level: twelve samples a cycle give a level that scatters with
//! the phases they catch, and dividing by it put that scatter into the fold (over the steady
//! sweep at 603.5 Sa/s, 1140 -> 1018 of 1300 readings within target). And only where the level
//! moved ([`MOVED`]) and the waveform conducts widely (the estimator asks): a narrow pulse's
//! cycle levels swing over a factor of ten as the samples walk past it, and a line through
//! them is the walk's (a steady trailing edge conducting 10 degrees at 53.7 Hz read 56-62 %
//! high with it taken out). With both, the sweeps at 603.5 Sa/s: steady 1140 of 1300 within
//! target as before, bursts 1056 of 1056 as before, starts 594 -> 593 of 668 with no bound
//! broken (that motor's was the one); two readings of changing windows moved beyond their
//! 3 % target, to +3.1 and +3.8 % (bounds 102 and 15 %).

use std::ops::Range;

/// A class whose mean level in one half of the window is this many times that in the other
/// (mean square) is folded with its trend taken out: 2.5 % in RMS, a quarter of what makes it
/// drift ([`crate::segment::DRIFT`]): the motor above moved 11 %.
pub const MOVED: f64 = 1.05;

/// A level's trend in time: its logarithm a straight line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trend {
    /// d(ln level)/dt, per unit of the times fitted.
    slope: f64,
    /// The mean of the times fitted, where the trend is 1.
    centre: f64,
}

impl Trend {
    /// The least-squares line through `(t, ln level)` of the `(t, level)` given (levels not
    /// positive left out); `None` without two distinct times.
    pub fn fit(points: impl IntoIterator<Item = (f64, f64)>) -> Option<Trend> {
        let logs: Vec<(f64, f64)> = points.into_iter().filter(|p| p.1 > 0.0).map(|(t, l)| (t, l.ln())).collect();
        let n = logs.len() as f64;
        let centre = logs.iter().map(|p| p.0).sum::<f64>() / n;
        let mean = logs.iter().map(|p| p.1).sum::<f64>() / n;
        let sxx: f64 = logs.iter().map(|p| (p.0 - centre).powi(2)).sum();
        let sxy: f64 = logs.iter().map(|p| (p.0 - centre) * (p.1 - mean)).sum();
        (sxx > 0.0).then(|| Trend { slope: sxy / sxx, centre })
    }

    /// The trend's factor on the RMS at time `t`, against its centre.
    pub fn amplitude(&self, t: f64) -> f64 {
        (0.5 * self.slope * (t - self.centre)).exp()
    }
}

/// The (fractional) code at which the table `lut` (amps by code, never falling) reads `amps`:
/// linear between the two codes whose entries hold it, the first such pair; `None` at or
/// beyond the table's ends.
pub fn code_at(lut: &[f32], amps: f64) -> Option<f64> {
    let above = lut.partition_point(|&a| f64::from(a) <= amps);
    if above == 0 || above >= lut.len() {
        return None;
    }
    let (lo, hi) = (f64::from(lut[above - 1]), f64::from(lut[above]));
    Some((above - 1) as f64 + (amps - lo) / (hi - lo))
}

/// A window's samples with a trend taken out: codes (fractional) for the fold, and the table
/// currents they stand for.
#[derive(Debug, Clone)]
pub struct LevelFree {
    pub codes: Vec<f64>,
    pub amps: Vec<f32>,
}

/// `codes` and their table currents `amps` (through `lut`) with `trend` taken out of each run of
/// samples of `runs` (its samples, and the time its level was taken at); the other samples,
/// those that show no current and those whose quotient lies beyond the table, as they were.
pub fn level_free(
    codes: &[u16],
    amps: &[f32],
    lut: &[f32],
    runs: impl IntoIterator<Item = (Range<usize>, f64)>,
    trend: &Trend,
) -> LevelFree {
    let mut free = LevelFree { codes: codes.iter().map(|&c| f64::from(c)).collect(), amps: amps.to_vec() };
    for (run, t) in runs {
        let gain = trend.amplitude(t);
        for k in run.filter(|&k| amps[k] > 0.0) {
            let a = f64::from(amps[k]) / gain;
            if let Some(code) = code_at(lut, a) {
                free.codes[k] = code;
                free.amps[k] = a as f32;
            }
        }
    }
    free
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calibration::{code_in, Calibration};

    #[test]
    fn the_trend_of_an_exponential_level_is_its_rate() {
        // ln level = 2 - 0.1 t over t = 3..13: the line exactly, centred at t = 8.
        let trend = Trend::fit((3..=13).map(|t| (f64::from(t), (2.0 - 0.1 * f64::from(t)).exp()))).unwrap();
        assert!((trend.amplitude(8.0) - 1.0).abs() < 1e-12);
        assert!((trend.amplitude(10.0) - (-0.1f64).exp()).abs() < 1e-12, "{}", trend.amplitude(10.0));
        assert!(Trend::fit([(1.0, 2.0), (1.0, 3.0)]).is_none());
    }

    #[test]
    fn code_at_inverts_the_table() {
        let lut = Calibration::builtin().lut_at(None);
        let mut checked = 0;
        for c in 1..lut.len() - 2 {
            let (a, b) = (f64::from(lut[c]), f64::from(lut[c + 1]));
            if lut[c - 1] < lut[c] && a < b {
                assert!((code_at(&lut, a).unwrap() - c as f64).abs() < 1e-9, "code {c}");
                assert!((code_at(&lut, 0.5 * (a + b)).unwrap() - (c as f64 + 0.5)).abs() < 1e-6, "code {c}");
                // The ADC's forward direction, rounding, lands on the nearer code.
                assert_eq!(usize::from(code_in(&lut, (0.25 * a + 0.75 * b) as f32, 0)), c + 1);
                checked += 1;
            }
        }
        assert!(checked > 500, "{checked}");
        assert_eq!(code_at(&lut, f64::from(lut[lut.len() - 1]) + 1.0), None);
    }

    #[test]
    fn a_level_free_decaying_sine_is_the_sine_at_its_centre_level() {
        // A sine through the table whose mean square falls by a tenth each cycle: with the
        // trend of its cycles' own levels taken out, every cycle carries the middle cycle's
        // amplitude (to the table's resolution, a code's step).
        let cal = Calibration::builtin();
        let lut = cal.lut_at(None);
        let (per_cycle, cycles) = (40, 9);
        let peak = |j: usize| 10.0 * (0.9f64).powf(0.5 * j as f64);
        let amps_of = |j: usize, k: usize| peak(j) * (std::f64::consts::TAU * k as f64 / per_cycle as f64).sin();
        let true_amps: Vec<f32> =
            (0..cycles).flat_map(|j| (0..per_cycle).map(move |k| amps_of(j, k).max(0.0) as f32)).collect();
        let codes: Vec<u16> = true_amps.iter().map(|&a| code_in(&lut, a, cal.zero_code())).collect();
        let table: Vec<f32> = codes.iter().map(|&c| lut[usize::from(c)]).collect();
        let level =
            |j: usize| table[j * per_cycle..(j + 1) * per_cycle].iter().map(|a| f64::from(*a).powi(2)).sum::<f64>();
        let trend = Trend::fit((0..cycles).map(|j| (j as f64, level(j)))).unwrap();
        let runs = (0..cycles).map(|j| (j * per_cycle..(j + 1) * per_cycle, j as f64));
        let free = level_free(&codes, &table, &lut, runs, &trend);
        let step = f64::from(lut[usize::from(code_in(&lut, 10.0, 0))] - lut[usize::from(code_in(&lut, 10.0, 0)) - 1]);
        for j in 0..cycles {
            for k in 0..per_cycle {
                let want = (peak(4) * (std::f64::consts::TAU * k as f64 / per_cycle as f64).sin()).max(0.0);
                let got = f64::from(free.amps[j * per_cycle + k]);
                assert!((got - want).abs() <= 1.5 * step, "cycle {j} sample {k}: {got} for {want}");
                if got > 0.0 {
                    let back = f64::from(lut[free.codes[j * per_cycle + k].floor() as usize]);
                    assert!(
                        back <= got + 1e-6,
                        "cycle {j} sample {k}: code {} reads {back}",
                        free.codes[j * per_cycle + k]
                    );
                }
            }
        }
    }
}
