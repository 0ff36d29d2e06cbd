//! A window's partial edge cycles: whether one holds a switch, and what its own samples hold.
//!
//! **Why.** The per-cycle reading ([`crate::estimate`]) reads a window cycle by cycle from the
//! source's zero crossings; its first and last cycles are partial, cut by the window's edges,
//! and each is given its whole neighbour's mean square. That is right for a load that did not
//! change there and wrong for one switched on (or off) within the partial cycle: a motor
//! started three quarters of a cycle before a window's end read 62 % low at 8196.7 Sa/s and
//! 61.5 % low at 603.5 Sa/s. Such a cycle is read from its own samples instead.
//!
//! **Theory.** Behind the interface's in-line diode the samples show the positive half-cycles
//! only; a half-wave-symmetric current is visible in exactly one of a sample and the one half
//! a cycle further in, so a partial cycle's full-wave energy is each of its samples' square
//! plus that of its mirror half a cycle towards the window's inside ([`mirrored`]). A switch
//! shows as that energy stepping by [`STEP_RESOLVED`] from the same sum one cycle further in
//! ([`edge_switch`]). Where the samples walk over the waveform, a dozen a
//! cycle (the 9600-baud link), a narrow pulse caught in one cycle and missed in the next
//! steps as much, so there a step is a switch only where the class's samples over the whole
//! window, folded by phase, do not show what the partial's hold either ([`unlike_its_fold`]).

use crate::fold;
use crate::segment::STEP_RESOLVED;

/// The full-wave energy (A² samples) of an edge's partial cycle `span` of `amps` (half-wave
/// currents, `cycle` samples a cycle) moved `by` samples towards the window's inside: each
/// sample's own square plus that of the sample half a cycle further in (a half-wave-symmetric
/// current is visible in exactly one of the two). `first`: the window's first cycle, else its
/// last. `None` where the sum would leave the window.
pub(crate) fn mirrored(amps: &[f32], span: std::ops::Range<usize>, first: bool, cycle: f64, by: usize) -> Option<f64> {
    let h = (0.5 * cycle).round() as usize;
    let square = |k: usize| f64::from(amps[k]) * f64::from(amps[k]);
    span.map(|k| {
        let (a, b) = if first { (k + by, k + by + h) } else { (k.checked_sub(by)?, k.checked_sub(by + h)?) };
        (b < amps.len()).then(|| square(a) + square(b))
    })
    .sum()
}

/// Whether an edge's partial cycle `span` holds a switch: its [`mirrored`] energy and the same one
/// cycle further in differ by [`STEP_RESOLVED`], and the larger is a fair share of what its whole
/// neighbour's mean square `neighbour` gives the span (a quarter: a steady load's few samples by a
/// zero crossing differ by their noise).
///
/// Why: a partial cycle is given its whole neighbour's mean square (`grid_rms` in
/// [`crate::estimate`]), right for a load that did not change and wrong for one switched on (or
/// off) within it; its samples show what flowed, and the mirrored half what the half-wave rectifier
/// hid. Through the clamp model at 8196.7 Sa/s (`model_sweep starts`), a motor of 8 A started with
/// a sevenfold inrush beside a 1.5 A load three quarters of a cycle before a window's end read 62 %
/// low; at 603.5 Sa/s, after nothing, 61.5 % low.
pub(crate) fn edge_switch(amps: &[f32], span: std::ops::Range<usize>, first: bool, cycle: f64, neighbour: f64) -> bool {
    let own = mirrored(amps, span.clone(), first, cycle, 0);
    let before = mirrored(amps, span.clone(), first, cycle, cycle.round() as usize);
    let (Some(own), Some(before)) = (own, before) else { return false };
    let fair = own.max(before) > 0.25 * neighbour * span.len() as f64;
    fair && (own > STEP_RESOLVED * before || before > STEP_RESOLVED * own)
}

/// Whether an edge's partial cycle `span` of `amps` (half-wave currents at `rate_hz`, mains
/// at `hz`) holds [`STEP_RESOLVED`] more [`mirrored`] energy than the most the whole cycles
/// `runs` (its inner neighbour's class) show at its samples' phases, or that much less than
/// the least: the class's squares sorted into phase bins, and for each sample the
/// [`EDGE_ORDER`]th least and most of those in its bin and the two beside it.
///
/// Why: where the samples walk over the waveform, twelve a cycle (the 9600-baud link), the
/// energy of a few samples depends on where they fall: a narrow pulse caught by a partial
/// cycle's samples and missed one cycle further in looks like a switch to [`edge_switch`]
/// (a switch-mode supply alone at 56.6 Hz, SPICE record `r26-clamp-lm0.413-56.561hz-smps`:
/// its last window read +6.0 -> +6.9 %, the record's energy +0.99 -> +1.07 %, beyond its
/// 1 %). The class's samples over the window's cycles fall at every phase, the pulse where it
/// is, so they tell what the load that did not switch gives at those phases. Its least and
/// most, not its mean: a pulse narrower than a bin (0.015 of a cycle at 45.3 Hz) is caught at
/// its crest by a few of the bin's samples, and the bin's mean is a fraction of that.
pub(crate) fn unlike_its_fold(
    amps: &[f32],
    span: std::ops::Range<usize>,
    first: bool,
    (rate_hz, hz): (f64, f64),
    runs: &[std::ops::Range<usize>],
) -> bool {
    let Some(own) = mirrored(amps, span.clone(), first, rate_hz / hz, 0) else { return false };
    let bin = |k: usize| fold::phase_bin(k as f64 * hz / rate_hz, EDGE_FOLD_BINS);
    // The class's squares by phase bin.
    let mut by_bin: Vec<Vec<f64>> = vec![Vec::new(); EDGE_FOLD_BINS];
    for k in runs.iter().flat_map(|r| r.clone()) {
        by_bin[bin(k)].push(f64::from(amps[k]) * f64::from(amps[k]));
    }
    // What a sample's square may be, by its bin, from the class's samples in that bin and the
    // two beside it (its phase lies anywhere in its bin): their envelope, not their mean, as
    // a narrow pulse within a bin is caught at its crest by some samples and at its foot by
    // others; but the [`EDGE_ORDER`]th least and most, as one cycle of the class may hold
    // the switch's own first samples. Where too few fell (a class of a cycle or two: no walk
    // to see), nothing: the step [`edge_switch`] found stands.
    let ranges: Vec<(f64, f64)> = (0..EDGE_FOLD_BINS)
        .map(|b| {
            let mut near: Vec<f64> = [(b + EDGE_FOLD_BINS - 1) % EDGE_FOLD_BINS, b, (b + 1) % EDGE_FOLD_BINS]
                .iter()
                .flat_map(|&b| by_bin[b].iter().copied())
                .collect();
            if near.len() < 2 * EDGE_ORDER {
                return (0.0, 0.0);
            }
            near.sort_by(f64::total_cmp);
            (near[EDGE_ORDER - 1], near[near.len() - EDGE_ORDER])
        })
        .collect();
    let range = |k: usize| ranges[bin(k)];
    let h = (0.5 * rate_hz / hz).round() as usize;
    let (low, high) = span
        .flat_map(|k| [Some(k), if first { Some(k + h) } else { k.checked_sub(h) }])
        .flatten()
        .map(range)
        .fold((0.0, 0.0), |(l, u), (a, b)| (l + a, u + b));
    own > STEP_RESOLVED * high || low > STEP_RESOLVED * own
}

/// Phase bins of [`unlike_its_fold`]'s envelope: a 1 s window's class of 600 samples puts
/// about twenty in each, and a switch-mode supply's pulse (a tenth of the cycle) spans three.
const EDGE_FOLD_BINS: usize = 32;

/// Which of the least and most squares near a phase [`unlike_its_fold`] takes: the third,
/// past the two or three samples one cycle of the class puts in three bins.
const EDGE_ORDER: usize = 3;

#[cfg(test)]
mod tests {
    use super::*;

    /// [`unlike_its_fold`] at twelve samples a cycle (603.5 Sa/s, 45-65 Hz): a narrow pulse
    /// train (gaussian, 0.015-0.04 of a cycle wide, on the positive half only, as the
    /// half-wave rectifier passes it, at three phases) ending a window anywhere in a cycle:
    /// wherever [`edge_switch`], comparing the last partial cycle with the one before, takes
    /// it for a switch (the partial caught the pulse, the cycle before missed it), the class's
    /// fold gives the partial what it holds. A sine switched on within the last partial
    /// cycle, after nothing, is unlike the fold.
    #[test]
    fn a_narrow_pulse_caught_by_a_partial_cycle_is_not_a_switch_where_its_fold_holds_it() {
        let rate = 603.5;
        let (mut edge_alone, mut switches) = (0, 0);
        for hz in [45.3, 47.3, 50.0, 53.7, 56.561, 59.9, 63.4, 64.7] {
            let step = hz / rate;
            // Whole cycles of phase [i, i + 1) from sample 0.
            let cycle_start = |i: usize| (i as f64 / step).ceil() as usize;
            let runs_to = |whole: usize| (1..=whole).map(|i| cycle_start(i - 1)..cycle_start(i)).collect::<Vec<_>>();
            for (width, at) in [(0.015, 0.25), (0.025, 0.1), (0.025, 0.25), (0.025, 0.4), (0.04, 0.25)] {
                let pulse = |k: usize| {
                    let x = (fold::fract(k as f64 * step) - at) / width;
                    (20.0 * (-x * x).exp()) as f32
                };
                let amps: Vec<f32> = (0..603).map(pulse).collect();
                for n in 400..603 {
                    // The last, partial, cycle from `last`.
                    let whole = ((n - 1) as f64 * step).floor() as usize;
                    let last = cycle_start(whole);
                    if last == n || cycle_start(whole + 1) == n {
                        continue;
                    }
                    let runs = runs_to(whole);
                    let inner = runs.last().unwrap().clone();
                    let neighbour =
                        2.0 * inner.clone().map(|k| f64::from(amps[k]).powi(2)).sum::<f64>() / inner.len() as f64;
                    let window = &amps[..n];
                    if edge_switch(window, last..n, false, 1.0 / step, neighbour) {
                        edge_alone += 1;
                        assert!(
                            !unlike_its_fold(window, last..n, false, (rate, hz), &runs),
                            "{hz} Hz, pulse {width} wide at {at}, ending at {n}: taken for a switch"
                        );
                    }
                }
            }
            // A 5 A sine switched on at the last partial cycle's second sample, after nothing,
            // where the partial holds some of its positive half.
            let n = 603;
            let whole = ((n - 1) as f64 * step).floor() as usize;
            let on = cycle_start(whole) + 1;
            let sine: Vec<f32> = (0..n)
                .map(|k| {
                    let i = 7.07 * (std::f64::consts::TAU * k as f64 * step).sin();
                    if k < on {
                        0.0
                    } else {
                        i.max(0.0) as f32
                    }
                })
                .collect();
            if sine[on..].iter().any(|&a| a > 1.0) {
                switches += 1;
                let runs = runs_to(whole);
                assert!(
                    unlike_its_fold(&sine, cycle_start(whole)..n, false, (rate, hz), &runs),
                    "{hz} Hz: a switch missed"
                );
            }
        }
        assert!(edge_alone > 0, "edge_switch alone never took a pulse for a switch: the test shows nothing");
        assert!(switches > 0, "no sine switched on where its samples show it: the test shows nothing");
    }
}
