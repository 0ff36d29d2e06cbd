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
//! steps as much, so there a step is a switch only where the class's fold over the whole
//! window does not give the partial's samples what they hold either ([`unlike_its_fold`]).

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
/// at `hz`) holds [`STEP_RESOLVED`] more or less [`mirrored`] energy than the fold of
/// the whole cycles `runs` (its inner neighbour's class) gives at its samples' phases.
///
/// Why: where the samples walk over the waveform, twelve a cycle (the 9600-baud link), the
/// energy of a few samples depends on where they fall: a narrow pulse caught by a partial
/// cycle's samples and missed one cycle further in looks like a switch to [`edge_switch`]
/// (a switch-mode supply alone at 56.6 Hz, SPICE record `r26-clamp-lm0.413-56.561hz-smps`:
/// its last window read +6.0 -> +6.9 %, the record's energy +0.99 -> +1.07 %, beyond its
/// 1 %). The class's fold over the window's cycles holds its waveform at every phase, the
/// pulse where it is, so it tells what the load that did not switch gives at those phases.
pub(crate) fn unlike_its_fold(
    amps: &[f32],
    span: std::ops::Range<usize>,
    first: bool,
    (rate_hz, hz): (f64, f64),
    runs: &[std::ops::Range<usize>],
) -> bool {
    let Some(own) = mirrored(amps, span.clone(), first, rate_hz / hz, 0) else { return false };
    let mut keep = vec![false; amps.len()];
    runs.iter().flat_map(|r| r.clone()).for_each(|k| keep[k] = true);
    let square = |k: usize| f64::from(amps[k]) * f64::from(amps[k]);
    let folded = fold::fold_values(amps.len(), square, rate_hz, hz, EDGE_FOLD_BINS, |k| keep[k]);
    let Some(mean) = folded.means_filled() else { return false };
    // The least and most of the bin a sample falls in and its two neighbours: on a steep
    // edge a sample's square lies anywhere between them, not at its bin's mean.
    let range = |k: usize| {
        let b = fold::phase_bin(k as f64 * hz / rate_hz, EDGE_FOLD_BINS);
        let near = [mean[(b + EDGE_FOLD_BINS - 1) % EDGE_FOLD_BINS], mean[b], mean[(b + 1) % EDGE_FOLD_BINS]];
        (near.iter().copied().fold(f64::INFINITY, f64::min), near.iter().copied().fold(0.0, f64::max))
    };
    let h = (0.5 * rate_hz / hz).round() as usize;
    let (low, high) = span
        .flat_map(|k| [Some(k), if first { Some(k + h) } else { k.checked_sub(h) }])
        .flatten()
        .map(range)
        .fold((0.0, 0.0), |(l, u), (a, b)| (l + a, u + b));
    own > STEP_RESOLVED * high || low > STEP_RESOLVED * own
}

/// Phase bins of [`unlike_its_fold`]'s fold: a 1 s window's class of 600 samples puts about
/// twenty in each, and a switch-mode supply's pulse (a tenth of the cycle) spans three.
const EDGE_FOLD_BINS: usize = 32;

#[cfg(test)]
mod tests {
    use super::*;

    /// [`unlike_its_fold`] at twelve samples a cycle: a narrow pulse train (a tenth of a
    /// cycle wide, on the positive half only, as the half-wave rectifier passes it) ending a
    /// window anywhere in a cycle: wherever [`edge_switch`], comparing the last partial cycle
    /// with the one before, takes it for a switch (the partial caught the pulse, the cycle
    /// before missed it), the class's fold gives the partial what it holds. A sine switched on
    /// within the last partial cycle, after nothing, is unlike the fold.
    #[test]
    fn a_narrow_pulse_caught_by_a_partial_cycle_is_not_a_switch_where_its_fold_holds_it() {
        let (rate, hz) = (603.5, 56.561);
        let step = hz / rate;
        let pulse = |k: usize| {
            let x = (fold::fract(k as f64 * step) - 0.25) / 0.025;
            (20.0 * (-x * x).exp()) as f32
        };
        let amps: Vec<f32> = (0..603).map(pulse).collect();
        let mut edge_alone = 0;
        for n in 400..603 {
            // Whole cycles of phase [i, i + 1) from sample 0; the last, partial, from `last`.
            let cycle_start = |i: usize| (i as f64 / step).ceil() as usize;
            let whole = ((n - 1) as f64 * step).floor() as usize;
            let last = cycle_start(whole);
            if last == n || cycle_start(whole + 1) == n {
                continue;
            }
            let runs: Vec<_> = (1..=whole).map(|i| cycle_start(i - 1)..cycle_start(i)).collect();
            let neighbour = 2.0 * runs.last().unwrap().clone().map(|k| f64::from(amps[k]).powi(2)).sum::<f64>()
                / runs.last().unwrap().len() as f64;
            let window = &amps[..n];
            if edge_switch(window, last..n, false, 1.0 / step, neighbour) {
                edge_alone += 1;
                assert!(
                    !unlike_its_fold(window, last..n, false, (rate, hz), &runs),
                    "ending at {n}: taken for a switch"
                );
            }
        }
        assert!(edge_alone > 0, "edge_switch alone never took the pulse for a switch: the test shows nothing");
        // A 5 A sine switched on at the last partial cycle's second sample, after nothing.
        let n = 603;
        let whole = ((n - 1) as f64 * step).floor() as usize;
        let cycle_start = |i: usize| (i as f64 / step).ceil() as usize;
        let on = cycle_start(whole) + 1;
        let sine: Vec<f32> = (0..n)
            .map(
                |k| if k < on { 0.0 } else { (7.07 * (std::f64::consts::TAU * k as f64 * step).sin()).max(0.0) as f32 },
            )
            .collect();
        let runs: Vec<_> = (1..=whole).map(|i| cycle_start(i - 1)..cycle_start(i)).collect();
        assert!(unlike_its_fold(&sine, cycle_start(whole)..n, false, (rate, hz), &runs));
    }
}
