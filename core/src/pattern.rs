//! A window whose load repeats every few mains cycles as a whole (a burst-fire heater's
//! pattern beside a steady load), folded and inverted over the whole pattern.
//!
//! **Why.** On the 9600-baud link a cycle's twelve samples show no waveform, so a window is
//! read from folds of its cycles ([`crate::segment`]): all of them, or each level class's.
//! A heater bursting two on, one off beside a fridge and a switch-mode supply makes levels
//! that do not part into classes (its off-cycles hold the other loads and its kick, its first
//! on-cycle the magnetizing transient), and the one fold of every cycle averages codes of
//! on- and off-cycles into a waveform that never flowed: households' such windows read 4-7 %
//! off (a fresh sweep of 60 s households at the grid's frequencies, `spicegen loads --sweep
//! households`; the randomized held-out household, five on, one off, 3-7 % low).
//!
//! **How.** A controller that fires whole cycles repeats its pattern exactly, every `P`
//! cycles, so the window is periodic at `f / P`: folded at that frequency over `P` cycles of
//! bins, each bin holds samples of one state only, and the fold is a waveform that flowed.
//! [`period`] finds `P` from the whole cycles' levels (each cycle's table mean square against
//! what the window's average waveform gives at its samples' phases, as the classes are
//! formed): the shortest length whose places in the pattern leave a small part of the
//! levels' variance. [`fold`] folds the window over it where every place of the pattern
//! sees the whole cycle, and the fold is inverted as one periodic waveform
//! ([`crate::inversion::Inverter::invert_periodic`]), its magnetizing current in the
//! pattern's periodic state. Its hidden half-cycles are mirrored
//! within their own mains cycle, so it needs where the cycles begin: the crossing of the
//! window's current, not the heater's switching instant where another load lags; on the
//! model's own codes (the test below), placing the cycles' start two bins (22 degrees)
//! either way moved the readings by 1 % at most. That crossing is the inverted pattern's own
//! ([`invert`]): the grid's, from a fold that mixes the pattern's states, lay up to 0.4
//! cycles off.
//!
//! **Where not.** A pattern that starts or stops inside the window does not repeat through it:
//! no period is found (the classes read it). Nor where the samples bunch on a dozen phases
//! (near 50.29 and 60.35 Hz at 603.5 Sa/s), or where the sampling itself repeats every few
//! cycles: each place of the pattern sees a few phases only, and [`fold`] refuses. Where a
//! cycle's samples show its waveform (the fast link), the cycles are read one by one through
//! the model instead.

use crate::fold::{covers_cycle, fold_at, Folded};
use crate::inversion::{Inverted, Inverter};

/// Bins per mains cycle of a pattern's fold: 11 degrees (a window's 600 samples over up to
/// [`MAX_PERIOD`] cycles of bins leave about two a bin at the longest pattern).
pub const BINS_PER_CYCLE: usize = 32;

/// The bin of a pattern's fold (of [`BINS_PER_CYCLE`] a cycle) where a cycle beginning at
/// `crossing` (cycles from sample 0) begins.
pub fn bin_of(crossing: f64) -> usize {
    ((crossing.rem_euclid(1.0) * BINS_PER_CYCLE as f64).round() as usize) % BINS_PER_CYCLE
}

/// Longest pattern looked for, in cycles.
pub const MAX_PERIOD: usize = 10;

/// A pattern's cycles, grouped by their place in it, must leave at most this share of the
/// variance of the window's cycle levels (by chance, groups of 50 cycles leave 80 % or more).
pub const SPREAD_SHARE: f64 = 0.25;

/// Least spread of the cycle levels (their variance over their mean squared) in which a
/// pattern is looked for: a steady load's levels wander by a few percent as the samples
/// walk across its waveform.
pub const LEAST_SPREAD: f64 = 0.01;

/// The pattern's length in cycles (2 to [`MAX_PERIOD`]), if the window's whole cycles'
/// `levels` (in order; `None` for a partial cycle) repeat every so many cycles through the
/// window: the length whose places in the pattern leave the least variance within them, where
/// that is at most [`SPREAD_SHARE`] of theirs all together, the shortest such.
pub fn period(levels: &[Option<f64>]) -> Option<usize> {
    let whole: Vec<(usize, f64)> = levels.iter().enumerate().filter_map(|(j, l)| l.map(|l| (j, l))).collect();
    let n = whole.len() as f64;
    let mean = whole.iter().map(|w| w.1).sum::<f64>() / n;
    let total = whole.iter().map(|w| (w.1 - mean).powi(2)).sum::<f64>();
    // (NaN levels: no pattern.)
    if whole.len() < 2 * MAX_PERIOD || total.is_nan() || total <= LEAST_SPREAD * mean * mean * n {
        return None;
    }
    let within = |p: usize| {
        let mut sums = vec![(0.0, 0.0, 0.0); p];
        for &(j, l) in &whole {
            let s = &mut sums[j % p];
            *s = (s.0 + l, s.1 + l * l, s.2 + 1.0);
        }
        sums.iter().filter(|s| s.2 > 0.0).map(|s| s.1 - s.0 * s.0 / s.2).sum::<f64>()
    };
    // The shortest: a pattern repeats at every multiple of its length too.
    (2..=MAX_PERIOD).find(|&p| within(p) <= SPREAD_SHARE * total)
}

/// The window's `codes` (at `rate_hz`, mains `hz`) folded over a pattern of `p` cycles, with
/// the codes' squares, [`BINS_PER_CYCLE`] bins a cycle; `None` unless every cycle of the
/// pattern is seen over the whole of it (half its bins filled, no hole over a sixteenth of
/// a cycle, as a class's fold needs). That also tells a pattern from the sampling's own: at a
/// rate near a whole number of samples per few cycles (603.5 Sa/s at 56.56 Hz: 32 samples in
/// three cycles) a steady narrow waveform's cycle levels repeat with the phases its samples
/// hit, and each place of such a pattern sees a few phases only.
pub fn fold(codes: &[u16], rate_hz: f64, hz: f64, p: usize) -> Option<Folded> {
    let all: Vec<usize> = (0..codes.len()).collect();
    let f = fold_at(codes, rate_hz, hz / p as f64, BINS_PER_CYCLE * p, &all, true);
    f.count.chunks_exact(BINS_PER_CYCLE).all(covers_cycle).then_some(f)
}

/// Most times [`invert`] moves the cycles' start.
pub const MOST_MOVES: usize = 3;

/// The pattern `folded` over `p` cycles, inverted with its cycles beginning where its own
/// inverted current crosses zero: first from `crossing` (cycles from sample 0), then from the
/// crossing of that inversion's mains fundamental ([`crate::fold::rising_crossing`]), until the
/// start stays in its bin (at most [`MOST_MOVES`] times).
///
/// **Why.** The hidden half of a bin is mirrored from half a cycle away in the same cycle
/// ([`Inverter::invert_periodic`]): with the start a quarter cycle off, a heater's hidden
/// negative half is partly taken from an off-cycle's, and lost. The estimator's grid crossing
/// comes from a fold of the window at one cycle, which averages the pattern's on- and
/// off-cycles: for a heater one on, two off beside a 0.5 A switch-mode supply at 603.5 Sa/s
/// (households seed 20261231), it lay 0.2-0.4 cycles from the source's in four windows of
/// six, which read 8-22 % low. The fundamental of an inversion is far less sensitive to where
/// the cycles were begun than its RMS: begun at each of the 32 bins of the cycle, the
/// inversion's crossing lay 17.0 to 18.0 bins in (the source's: 17.9), and one move onto it
/// read those windows within 2 %.
pub fn invert(inverter: &Inverter, folded: &Folded, p: usize, crossing: f64) -> Option<Inverted> {
    let mut start = bin_of(crossing);
    let mut inverted = inverter.invert_periodic(folded, p, start)?;
    for _ in 0..MOST_MOVES {
        let own = bin_of(crate::fold::rising_crossing(&inverted.primary_a, p));
        if own == start {
            break;
        }
        let Some(moved) = inverter.invert_periodic(folded, p, own) else { break };
        (start, inverted) = (own, moved);
    }
    Some(inverted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clamp_model::{CtModel, CtParams};

    /// A heater of `heater` A RMS on in the cycles of `on` (a pattern of `on.len()` cycles),
    /// beside a steady `base` A RMS lagging by 30 degrees: primary amps at `t` cycles.
    fn source(on: &[bool], heater: f64, base: f64) -> impl Fn(f64) -> f64 + '_ {
        move |t: f64| {
            let cycle = t.floor().rem_euclid(on.len() as f64) as usize;
            let w = std::f64::consts::TAU * t;
            let h = if on[cycle] { heater * w.sin() } else { 0.0 };
            h + base * (w - 30f64.to_radians()).sin()
        }
    }

    /// Codes of the model clamp's periodic steady state under the pattern, at 603.5 Sa/s for
    /// a second, sample 0 at 0.123 of the pattern, and the source's RMS (summed at 4096 points a
    /// cycle, not through the model).
    fn pattern_codes(model: &CtModel, on: &[bool], heater: f64, base: f64, hz: f64) -> (Vec<u16>, f64) {
        let p = on.len() as f64;
        let f = source(on, heater, base);
        let codes = crate::inversion::tests::codes(model, |u| f(u * p), hz / p, 1e6 / 1657.0, 1.0);
        let m = 4096 * on.len();
        let ms = (0..m).map(|n| f(n as f64 * p / m as f64).powi(2)).sum::<f64>() / m as f64;
        (codes, ms.sqrt())
    }

    /// Read from the fold of its whole pattern, a heater two on, one off (or five on, one off;
    /// one on, one off) beside a fridge-like load is within 1 % of the source's RMS; the fold
    /// of one cycle, which averages on- and off-cycles, is not.
    #[test]
    fn a_pattern_beside_a_steady_load_is_read_from_the_fold_of_the_whole_pattern() {
        let inv = Inverter::with_params(CtParams::default()).unwrap();
        let rate = 1e6 / 1657.0;
        for (on, heater, base) in [
            (&[true, true, false][..], 5.8, 1.8),
            (&[true, true, true, true, true, false][..], 4.0, 1.5),
            (&[true, false][..], 7.0, 2.0),
        ] {
            for hz in [49.94, 59.94] {
                let (codes, truth) = pattern_codes(inv.model(), on, heater, base, hz);
                let p = on.len();
                let folded = fold(&codes, rate, hz, p).expect("every cycle of the pattern seen");
                // The source's cycles begin 0.123 of the pattern before sample 0.
                let start_bin = bin_of(-0.123 * p as f64);
                let read = inv.invert_periodic(&folded, p, start_bin).unwrap().irms_a;
                let one = inv.invert(&fold(&codes, rate, hz, 1).unwrap()).unwrap().irms_a;
                println!(
                    "{p} cycles at {hz} Hz: pattern {:+.2} %, one cycle {:+.2} %",
                    100.0 * (read / truth - 1.0),
                    100.0 * (one / truth - 1.0)
                );
                assert!((read / truth - 1.0).abs() < 0.01, "pattern fold read {read} for {truth}");
                assert!((one / truth - 1.0).abs() > 0.02, "one-cycle fold read {one} for {truth}");
            }
        }
    }

    /// Begun a third of a cycle either way from the source's crossing, the pattern's
    /// inversion finds the crossing itself and reads within 1 %; inverted where it was begun,
    /// it reads a heater one on, two off (as households seed 20261231's beside a switch-mode
    /// supply) over 10 % low.
    #[test]
    fn a_pattern_begun_off_its_crossing_is_read_from_its_own() {
        let inv = Inverter::with_params(CtParams::default()).unwrap();
        let rate = 1e6 / 1657.0;
        for (on, heater, base) in [
            (&[true, false, false][..], 7.0, 0.5),
            (&[true, true, false][..], 5.8, 1.8),
            (&[true, false][..], 7.0, 2.0),
        ] {
            for hz in [49.94, 59.94] {
                let (codes, truth) = pattern_codes(inv.model(), on, heater, base, hz);
                let p = on.len();
                let folded = fold(&codes, rate, hz, p).expect("every cycle of the pattern seen");
                let mut worst_begun: f64 = 0.0;
                for off in [-0.33, 0.33] {
                    let crossing = -0.123 * p as f64 + off;
                    let read = invert(&inv, &folded, p, crossing).unwrap().irms_a;
                    let begun = inv.invert_periodic(&folded, p, bin_of(crossing)).unwrap().irms_a;
                    println!(
                        "{p} cycles at {hz} Hz, begun {off:+} cycles off: {:+.2} %, where begun {:+.2} %",
                        100.0 * (read / truth - 1.0),
                        100.0 * (begun / truth - 1.0)
                    );
                    assert!((read / truth - 1.0).abs() < 0.01, "read {read} for {truth}");
                    worst_begun = worst_begun.max((begun / truth - 1.0).abs());
                }
                if on == [true, false, false] {
                    assert!(worst_begun > 0.1, "where begun, off by {worst_begun} only");
                }
            }
        }
    }

    /// A pattern is found in cycle levels that repeat, at its length; not in a steady load's
    /// levels wandering with the sampled phases, nor in levels that change once (a step).
    #[test]
    fn period_is_found_where_levels_repeat_and_only_there() {
        let repeat = |pattern: &[f64], n: usize| -> Vec<Option<f64>> {
            (0..n).map(|j| Some(pattern[j % pattern.len()] * (1.0 + 0.02 * ((j * 7919) % 13) as f64 / 13.0))).collect()
        };
        assert_eq!(period(&repeat(&[1.0, 1.0, 0.2], 50)), Some(3));
        assert_eq!(period(&repeat(&[1.0, 0.7, 1.1, 1.0, 1.0, 0.25], 50)), Some(6));
        assert_eq!(period(&repeat(&[1.0, 0.3], 50)), Some(2));
        // A steady load: a slow walk of a few percent.
        let steady: Vec<Option<f64>> = (0..50).map(|j| Some(1.0 + 0.2 * (j as f64 / 8.0).sin())).collect();
        assert_eq!(period(&steady), None);
        // A step half-way.
        let step: Vec<Option<f64>> = (0..50).map(|j| Some(if j < 25 { 1.0 } else { 3.0 })).collect();
        assert_eq!(period(&step), None);
        // Too few cycles to tell.
        assert_eq!(period(&repeat(&[1.0, 1.0, 0.2], 12)), None);
    }

    /// Folding at 56.561 Hz, 32 samples of 603.5 Sa/s fall in three cycles, so each place of a
    /// three-cycle pattern sees a few phases only: no fold.
    #[test]
    fn a_pattern_the_sampling_makes_is_not_folded() {
        let rate = 1e6 / 1657.0;
        let codes = vec![300u16; rate as usize];
        assert!(fold(&codes, rate, 56.561, 3).is_none());
        assert!(fold(&codes, rate, 49.94, 3).is_some());
    }
}
