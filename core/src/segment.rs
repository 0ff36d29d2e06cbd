//! Level classes: which mains cycles of a window hold the same load, so that only those are
//! folded together.
//!
//! Why: folding averages codes at the same phase over the cycles folded. For a load that is
//! steady over the window that average is its waveform; for one that switches inside the
//! window (burst-fire heaters, thermostats, steps) it is a waveform that never flowed, and the
//! model inverted on it reads far off (a 50 % burst-fire heater read half of what it draws).
//!
//! How: each cycle's level is the mean square of its table currents. Sorted, the levels of a
//! steady load form one continuous run, however its waveform is sampled: at 603.5 Sa/s a
//! switch-mode supply's narrow pulse is caught by one or two of a cycle's twelve samples, and
//! its cycle levels wander over a factor of ten as the samples walk across the pulse, but
//! they wander continuously. A load that switches makes a gap in that run (off-cycles near
//! zero, a step's two levels). Classes are the runs between gaps wider than [`GAP`]: a
//! burst-fire heater's on-cycles form one class however they are interleaved with off-cycles.
//! A level held for too few cycles to fold is left to the caller. Slow changes (a ramp) make
//! no gap and are folded as one, which costs little: the levels folded together differ by
//! little.

/// A gap of at least this factor between consecutive sorted cycle levels (mean squares)
/// separates two classes: 41 % in RMS.
pub const GAP: f64 = 2.0;

/// The classes of one window.
#[derive(Debug, Clone, PartialEq)]
pub struct Classes {
    /// Class of each cycle (cycle `c` holds samples `k` with `floor(k * mains / rate) == c`).
    pub of_cycle: Vec<usize>,
    /// Mean square of the table currents of each class's whole cycles, A^2 (half-wave).
    pub level: Vec<f64>,
    /// Samples in each class.
    pub samples: Vec<usize>,
}

impl Classes {
    pub fn count(&self) -> usize {
        self.level.len()
    }
}

/// Cycle index of sample `k`.
#[inline]
pub fn cycle_of(k: usize, step: f64) -> usize {
    (k as f64 * step) as usize
}

/// Classifies the cycles of a window from `amps`, its samples' table currents, with
/// `step = mains_hz / rate_hz`.
pub fn classify(amps: &[f32], step: f64) -> Classes {
    let n = amps.len();
    if n == 0 || !(step > 0.0 && step < 0.5) {
        return Classes { of_cycle: vec![0], level: vec![0.0], samples: vec![n] };
    }
    let cycles = cycle_of(n - 1, step) + 1;
    let mut amps2 = vec![0.0; cycles];
    let mut samples = vec![0usize; cycles];
    for (k, &a) in amps.iter().enumerate() {
        let c = cycle_of(k, step);
        amps2[c] += f64::from(a) * f64::from(a);
        samples[c] += 1;
    }
    let level: Vec<f64> = amps2.iter().zip(&samples).map(|(&e, &n)| e / n.max(1) as f64).collect();
    // The window's last cycle is usually partial: its level is that of part of the waveform,
    // so it is not classed itself but joins the cycle before it.
    let whole = if cycles > 1 && (samples[cycles - 1] as f64) < 0.9 / step { cycles - 1 } else { cycles };
    let mut order: Vec<usize> = (0..whole).collect();
    order.sort_by(|&a, &b| level[a].total_cmp(&level[b]));
    let mut of_cycle = vec![0usize; cycles];
    let mut class = 0;
    for w in 0..whole {
        if w > 0 && level[order[w]] > GAP * level[order[w - 1]] {
            class += 1;
        }
        of_cycle[order[w]] = class;
    }
    if whole < cycles {
        of_cycle[cycles - 1] = of_cycle[cycles - 2];
    }
    // Levels over whole cycles only (the partial one would weigh some phases more); sample
    // counts over all.
    let (mut sums, mut whole_samples) = (vec![0.0; class + 1], vec![0usize; class + 1]);
    let mut class_samples = vec![0usize; class + 1];
    for c in 0..cycles {
        class_samples[of_cycle[c]] += samples[c];
        if c < whole {
            sums[of_cycle[c]] += amps2[c];
            whole_samples[of_cycle[c]] += samples[c];
        }
    }
    let level = sums.iter().zip(&whole_samples).map(|(&e, &n)| e / n.max(1) as f64).collect();
    Classes { of_cycle, level, samples: class_samples }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Half-wave sine codes of amplitude `amp(cycle)` codes above a zero of 100.
    fn codes(rate: f64, hz: f64, seconds: f64, amp: impl Fn(usize) -> f64) -> (Vec<u16>, Vec<f32>) {
        let n = (rate * seconds) as usize;
        let step = hz / rate;
        let codes: Vec<u16> = (0..n)
            .map(|k| {
                let ph = k as f64 * step;
                let a = amp(ph as usize);
                (100.0 + a * (std::f64::consts::TAU * ph).sin()).max(0.0).round() as u16
            })
            .collect();
        let amps = codes.iter().map(|&c| (f32::from(c) - 100.0).max(0.0) * 0.05).collect();
        (codes, amps)
    }

    #[test]
    fn a_steady_load_is_one_class_at_both_rates() {
        for rate in [1e6 / 122.0, 1e6 / 1657.0] {
            let (_, a) = codes(rate, 50.0, 1.0, |_| 300.0);
            let cl = classify(&a, 50.0 / rate);
            assert_eq!(cl.count(), 1, "{rate}: {cl:?}");
        }
    }

    /// Burst fire, one cycle on and one off: two classes, the on-cycles pooled.
    #[test]
    fn burst_fire_cycles_are_pooled_by_level() {
        for rate in [1e6 / 122.0, 1e6 / 1657.0] {
            let (_, a) = codes(rate, 50.0, 1.0, |cy| if cy % 2 == 0 { 300.0 } else { 0.0 });
            let cl = classify(&a, 50.0 / rate);
            assert_eq!(cl.count(), 2, "{rate}: {cl:?}");
            for (k, &class) in cl.of_cycle.iter().enumerate() {
                assert_eq!(class, if k % 2 == 0 { 1 } else { 0 }, "cycle {k}");
            }
        }
    }

    /// A step from 60 to 300 codes at cycle 20: two classes, split at the step (the cycle
    /// holding it may go either way).
    #[test]
    fn a_step_splits_the_window() {
        for rate in [1e6 / 122.0, 1e6 / 1657.0] {
            let (_, a) = codes(rate, 50.0, 1.0, |cy| if cy < 20 { 60.0 } else { 300.0 });
            let cl = classify(&a, 50.0 / rate);
            assert_eq!(cl.count(), 2, "{rate}: {cl:?}");
            assert!(cl.of_cycle[..20].iter().all(|&k| k == 0) && cl.of_cycle[21..].iter().all(|&k| k == 1));
        }
    }
}
