//! What the calibration table can make of a waveform the samples do not show.
//!
//! Where a window's samples bunch on a dozen phases ([`crate::fold::phases_bunch`]) or its mains
//! frequency cannot be told from an aliased harmonic ([`crate::mains_hz::resolves`]), no fold
//! shows the waveform, no correction can be checked, and the reading is in effect the
//! table's. The table is right for a sine at its level; a narrow waveform it reads high, for
//! the clamp's magnetizing current takes little of a pulse's fast edges, and how much depends
//! on the level (the diodes) and on the clamp (its magnetizing inductance). By the model, a
//! switch-mode supply's pulses read up to 65 % high through the default clamp (0.6 H) at
//! 0.3 A, up to 170 % through a 0.3 H clamp, and under 20 % through a 2.9 H one.
//!
//! So what such a reading can be off by is a property of the clamp and the level, which the
//! model computes: [`worst_over_read`] marches each of a few reference waveforms narrower
//! than a household's to its periodic state and reads it through the table
//! ([`crate::transient::Settled`]), and returns the largest over-read. The bound a
//! bunched reading states ([`crate::bound::stated`]) covers it.
//!
//! Bunched samples add their own over-read: a bunch that falls on a pulse's crest reads the
//! crest as if it lasted a twelfth of the cycle, so [`worst_over_read`] reads the references
//! at the window's own sample phases ([`Sampling::Bunched`]), at every position against them.
//! A household at 50.275 Hz on the 9600-baud link (randomized set of seed 20261213) read a
//! 0.29 A switch-mode supply alone 98 % high; at uniform phases the model's figure was 65 %.
//!
//! Why a model figure and not a constant: a constant fitted on the randomized goldens (90 %)
//! held for the model's clamp and broke on a 0.395 H clamp's switch-mode supply at
//! 50.215 Hz, read 97 % high through the table (randomized set of seed 20261208).

use crate::clamp_model::CtModel;
use crate::transient::{Settled, POINTS};

/// Half-widths (cycles) of the reference switch-mode pulses: `cos^2` pulses centred on the
/// crests, as [`crate::load_shape::Shape::Smps`] (0.07) and narrower.
const PULSE_HALF_WIDTHS: [f64; 3] = [0.02, 0.04, 0.08];

/// Firing angles (degrees) of the reference leading-edge dimmers.
const FIRING_DEG: [f64; 3] = [120.0, 150.0, 165.0];

/// Levels, as fractions of the reading, at which the truth is sought: a table that reads a
/// waveform high read it at a lower level, where the over-read is larger.
const LEVELS: [f64; 3] = [1.0, 0.5, 1.0 / 3.0];

/// Points per cycle of the reference waveforms read at bunched phases: the narrowest pulse
/// (0.04 cycles wide) spans 20 of them, where [`POINTS`] has 2.5 across it and would miss or
/// hit its crest whole; a sample's phase is taken to the nearest (0.7 degrees).
const FINE_POINTS: usize = 512;

/// The reference waveforms, unit RMS at `points` points of phase `k / points` from the
/// upward zero crossing.
fn references(points: usize) -> Vec<Vec<f64>> {
    use std::f64::consts::PI;
    let unit = |v: Vec<f64>| {
        let rms = (v.iter().map(|x| x * x).sum::<f64>() / v.len() as f64).sqrt();
        v.into_iter().map(|x| x / rms).collect::<Vec<f64>>()
    };
    let phase = |k: usize| k as f64 / points as f64;
    let mut shapes = Vec::new();
    for w in PULSE_HALF_WIDTHS {
        let pulse = |d: f64| if d.abs() < w { (PI * d / (2.0 * w)).cos().powi(2) } else { 0.0 };
        shapes.push(unit((0..points).map(|k| pulse(phase(k) - 0.25) - pulse(phase(k) - 0.75)).collect()));
    }
    for firing in FIRING_DEG {
        shapes.push(unit((0..points).map(|k| crate::load_shape::leading_edge(firing, phase(k))).collect()));
    }
    shapes
}

/// Where a window's samples fall in the mains cycle, for [`worst_over_read`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sampling {
    /// Spread over the whole cycle: the table reads the waveform's mean square.
    Uniform,
    /// `samples` samples a phase `step` (cycles) apart, which bunch on a few phases
    /// ([`crate::fold::phases_bunch`]): a narrow pulse reads by where the bunches fall on it.
    Bunched { samples: usize, step: f64 },
}

/// The largest relative over-read (table RMS over true RMS, less one; 0 if none reads high)
/// of the reference narrow waveforms through the table `lut` and the clamp `model` at
/// `mains_hz`, for a reading of `reading_a` A RMS taken at the phases `sampling` says.
///
/// Bunched samples read a pulse as the bunches nearest its crest show it, which can be more
/// than the pulse's mean square: a pulse `2w` cycles wide (`cos^2`) seen at its crest by one of
/// twelve point-like bunches reads a mean square of `1 / 12` per crest against the pulse's
/// `3w / 4`, `(1/9w)^(1/2)` times its RMS (2.4 for `w = 0.02`) before the clamp's part. The
/// waveform's position against the bunches is unknown, so each is tried, a point of
/// `FINE_POINTS` apart. The under-read (the bunches miss the pulse) is what
/// [`crate::bound::UNREADABLE`] covers.
pub fn worst_over_read(model: &CtModel, mains_hz: f64, lut: &[f32], reading_a: f64, sampling: Sampling) -> f64 {
    if !(reading_a > 0.0 && mains_hz > 0.0) {
        return 0.0;
    }
    // Each sample's phase, to the nearest of `points` points, as a share of the samples, and
    // how many positions of the waveform against them to try.
    let (points, weights, shifts): (usize, Vec<(usize, f64)>, usize) = match sampling {
        Sampling::Uniform => (POINTS, (0..POINTS).map(|k| (k, 1.0 / POINTS as f64)).collect(), 1),
        Sampling::Bunched { samples, step } => {
            let mut share = vec![0.0; FINE_POINTS];
            for k in 0..samples {
                let x = (k as f64 * step).rem_euclid(1.0) * FINE_POINTS as f64;
                share[(x.round() as usize) % FINE_POINTS] += 1.0 / samples as f64;
            }
            (FINE_POINTS, share.into_iter().enumerate().filter(|&(_, w)| w > 0.0).collect(), FINE_POINTS)
        }
    };
    let shapes = references(points);
    let mut worst = 0.0_f64;
    for level in LEVELS {
        for shape in &shapes {
            let settled = Settled::new(model, mains_hz, shape, level * reading_a);
            let squares = settled.point_squares(lut);
            let rms = settled.rms();
            for shift in 0..shifts {
                let ms: f64 = weights.iter().map(|&(i, w)| w * squares[(i + shift) % points]).sum();
                let over = (2.0 * ms).sqrt() / rms - 1.0;
                if over.is_finite() {
                    worst = worst.max(over);
                }
            }
        }
    }
    worst
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clamp_model::CtParams;
    use crate::model_table::model_table;

    /// The over-read falls as the clamp's magnetizing inductance grows (the table's error is
    /// the magnetizing current's) and as the level grows towards the diodes' straight part,
    /// and a sine through the same table reads right: the figure is the narrow shapes', not
    /// the table's offset.
    #[test]
    fn narrow_waveforms_read_high_through_a_clamp_with_little_inductance() {
        let at = |lm: f64, amps: f64| {
            let model = CtModel::new(CtParams { lm, ..CtParams::default() }).expect("model");
            let lut = model_table(lm).lut_at(Some(50.0));
            worst_over_read(&model, 50.0, &lut, amps, Sampling::Uniform)
        };
        let (low, model_clamp, high) = (at(0.3, 1.0), at(0.6, 1.0), at(2.9, 1.0));
        assert!(low > 1.2 && model_clamp > 0.4 && high < 0.15, "{low} {model_clamp} {high}");
        assert!(low > model_clamp && model_clamp > high);
        assert!(at(0.6, 0.5) >= at(0.6, 20.0));
        let model = CtModel::new(CtParams::default()).expect("model");
        let lut = model_table(0.6).lut_at(Some(50.0));
        let sine: Vec<f64> = (0..POINTS)
            .map(|k| std::f64::consts::SQRT_2 * (std::f64::consts::TAU * k as f64 / POINTS as f64).sin())
            .collect();
        for amps in [0.3, 3.0, 30.0] {
            assert!((crate::transient::settled_gain(&model, 50.0, &lut, &sine, amps).sqrt() - 1.0).abs() < 0.01);
        }
        assert_eq!(worst_over_read(&model, 50.0, &lut, 0.0, Sampling::Uniform), 0.0);
    }

    /// Bunched samples read a narrow pulse by where the bunches fall on it: at 50.275 Hz and
    /// 603.5 Sa/s (the 9600-baud link; twelve bunches, each about 6 degrees wide), the
    /// narrowest reference pulse (half-width 0.02 cycles), sampled without any clamp at the
    /// best of 1200 positions, reads 2.07 times its RMS (`(1/9w)^(1/2) = 2.36` with
    /// point-like bunches, the module's doc); through a clamp whose own part is small (2.9 H:
    /// 4 % at uniform phases) the figure is that one's, times at most that part. Uniform
    /// phases show none of it, and a sine reads right at any position of the bunches.
    #[test]
    fn bunched_samples_read_a_narrow_pulse_by_where_they_fall() {
        let (hz, rate, n, w) = (50.275, 603.5, 603, 0.02);
        let pulse = |d: f64| {
            let d = (d + 0.5).rem_euclid(1.0) - 0.5;
            if d.abs() < w {
                (std::f64::consts::PI * d / (2.0 * w)).cos().powi(2)
            } else {
                0.0
            }
        };
        let sampled = (0..1200)
            .map(|s| {
                let ms = (0..n).map(|k| pulse(k as f64 * hz / rate + s as f64 / 1200.0 - 0.25).powi(2)).sum::<f64>();
                (2.0 * ms / n as f64 / (1.5 * w)).sqrt() - 1.0
            })
            .fold(0.0, f64::max);
        assert!((sampled - 1.07).abs() < 0.01, "{sampled}");
        let model = CtModel::new(CtParams { lm: 2.9, ..CtParams::default() }).expect("model");
        let lut = model_table(2.9).lut_at(Some(hz));
        let uniform = worst_over_read(&model, hz, &lut, 1.0, Sampling::Uniform);
        let seen = worst_over_read(&model, hz, &lut, 1.0, Sampling::Bunched { samples: n, step: hz / rate });
        assert!(uniform < 0.15, "{uniform}");
        assert!(seen >= sampled - 0.02 && seen <= (1.0 + sampled) * (1.0 + uniform) - 1.0 + 0.02, "{seen} {sampled}");
        let sine: Vec<f64> = (0..FINE_POINTS)
            .map(|k| std::f64::consts::SQRT_2 * (std::f64::consts::TAU * k as f64 / FINE_POINTS as f64).sin())
            .collect();
        let settled = Settled::new(&model, hz, &sine, 3.0);
        let squares = settled.point_squares(&lut);
        for s in 0..12 {
            let ms = (0..n)
                .map(|k| squares[((k as f64 * hz / rate + s as f64 / 144.0).fract() * FINE_POINTS as f64) as usize])
                .sum::<f64>();
            let g = (2.0 * ms / n as f64).sqrt() / 3.0;
            assert!((g - 1.0).abs() < 0.02, "shift {s}: {g}");
        }
    }
}
