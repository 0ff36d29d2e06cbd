//! A load that starts in a window's last partial cycle: what the whole-cycle span leaves out.
//!
//! **Why.** Every method reads a window over a whole number of mains cycles
//! ([`crate::estimate::half_wave_rms`] counts them from the window's first sample; the per-cycle
//! reconstruction gives a partial cycle its nearest whole cycle's mean square), and gives the
//! samples after that span, less than a cycle, the span's mean square. For a steady load that is
//! right to a fraction of a cycle's worth. For a load switched on in those last samples it is
//! not: on a fresh randomized set (seed 20261209), a thermostatic motor switching on with a
//! 3.6x inrush 7 ms before a window's end, after a second of nothing, read **0 A** (flagged only
//! `low`) where the window's true RMS was 0.83 A at 603.5 Sa/s (0.72 A at 8196.7 Sa/s), and the
//! record's energy lost 7 %.
//!
//! **Theory.** Behind the interface's in-line diode the samples show the positive half-cycles
//! only; a whole cycle's mean square is twice its samples' ([`crate::estimate::half_wave_rms`]).
//! Over less than a cycle, twice the tail's sum of squares (its *half-wave energy*) holds at
//! most one positive half-cycle's worth doubled, that is one cycle's energy of a steady load,
//! whatever the phases the tail covers. A tail holding more than [`ONSET_CYCLES`] cycles' worth
//! of the span's mean energy per cycle, and of its last whole cycle's (which a per-cycle reading
//! gives it: a step inside the span is that reading's, not this rule's), is therefore not the
//! span's load: the load changed in it.
//!
//! Its current is then counted from its first sample on (the first above every current of the
//! span's last cycle, or below every code of it: a negative half-cycle deeper than the old load's,
//! which the table reads as no current), at the mean square of the samples carrying current from
//! there (positive half-cycles: a half-cycle's mean square is its cycle's), in place of the span's.
//! Doubling the tail's samples instead (the half-wave rule over less than a cycle) counts a
//! positive half-cycle cut by the window's end twice: a mixture's window read +4.4 % that way
//! where it read +1.1 % before and +1.3 % so.
//!
//! **How wrong that can be.** Where the samples from the new load's first on hold a positive
//! half-cycle whole (a run over [`WHOLE_HALF`] of a cycle), its mean square is that half-cycle's
//! sampled; where they pass its crest, it is between that of the half-cycle and twice it (the
//! mean of `sin^2` over any part of a half-cycle holding its crest lies between 1/2 and 1), and a negative half-cycle before it that no code showed (behind an old load as deep)
//! is missed: the tail's mean square is known to a factor of two either way, and the reading
//! to within [`bound_of`]`(s)` for the tail's share `s` of it: 41 % where the tail holds
//! everything. Where the switch or the window's edge cuts every positive half-cycle the tail
//! holds, what shows may be a sliver of the load (at 603.5 Sa/s, one sample of 2 A at the end of
//! a positive half, then a whole negative half-cycle of 8 A unseen): the bound is then 100 %. A
//! start whose every sample falls in a negative half-cycle shows only where its codes go below
//! every one of the span's: the reading stays the span's and states 100 %. Behind an old load
//! whose negative half-cycles reach as deep, it is not seen at all (the reading stays the
//! span's, unflagged, as before).

/// A tail holding more than this many cycles' worth of the span's mean half-wave energy per
/// cycle is a load that started in it (a steady load's tail holds at most one).
pub const ONSET_CYCLES: f64 = 3.0;

/// A tail whose energy, counted over the whole window, is under this RMS (A) is left as the
/// span's: ignoring it moves the reading less than that, below the sensor's rated minimum.
pub const ONSET_MIN_A: f64 = 0.05;

/// A run of samples carrying current this long (cycles) is a positive half-cycle held whole:
/// a half-cycle less about one sample's worth at 603.5 Sa/s, where the samples nearest the
/// zero crossings can read no current.
pub const WHOLE_HALF: f64 = 0.4;

/// A load that started in a window's tail.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Onset {
    /// Where (samples from the window's first, fractional) the window's reading stops
    /// standing for its current: the later of the whole-cycle span's end and the new load's
    /// first sample.
    pub from: f64,
    /// The mean square (A^2) from `from` on: that of the samples carrying current there, which
    /// behind the diode are the positive half-cycles' (a half-cycle's mean square is its
    /// cycle's).
    pub mean_square: f64,
    /// No run of samples carrying current from the new load's first sample on spans
    /// [`WHOLE_HALF`] of a cycle, nor passes a crest: the tail holds no positive half-cycle
    /// whole (the window's edge or the switch cut it) and none of its crests, and its mean
    /// square is not known to a factor of two ([`bound_of`]).
    pub cut: bool,
}

impl Onset {
    /// The window's mean square with the tail counted as seen, from `reading` (A RMS), a
    /// reading whose mean square covers the span and gives the tail the same: over `n` samples.
    pub fn mean_square(&self, reading: f64, n: usize) -> f64 {
        (reading * reading * self.from + self.mean_square * (n as f64 - self.from)) / n as f64
    }

    /// The share of [`Onset::mean_square`] the tail's new load makes up.
    pub fn share(&self, reading: f64, n: usize) -> f64 {
        let ms = self.mean_square(reading, n);
        if ms > 0.0 {
            self.mean_square * (n as f64 - self.from) / n as f64 / ms
        } else {
            0.0
        }
    }
}

use crate::estimate::{sum_squares, whole_cycles};

/// Whether a load started in the samples of `amps` (the table's half-wave currents of one
/// window at `rate_hz`, `codes` the ADC codes they were read from) after its largest whole
/// number of cycles at `mains_hz`; `None` for a steady tail, an unknown frequency or a window
/// shorter than two cycles.
pub fn onset(amps: &[f32], codes: &[u16], rate_hz: f64, mains_hz: Option<f64>) -> Option<Onset> {
    let n = amps.len().min(codes.len());
    let (amps, codes) = (&amps[..n], &codes[..n]);
    let (cycles, span) = whole_cycles(n, rate_hz, mains_hz).filter(|&(cycles, _)| cycles >= 2.0)?;
    let per_cycle = span / cycles;
    let whole = span.floor() as usize;
    let frac = span - whole as f64;
    let sq = |a: f32| f64::from(a) * f64::from(a);
    let straddling = amps.get(whole).map_or(0.0, |&a| sq(a));
    let outside = amps.get(whole + 1..).map_or(0.0, sum_squares) + (1.0 - frac) * straddling;
    // The span's last whole cycle, which a per-cycle reading gives the tail.
    let first_of_last = (span - per_cycle).max(0.0).floor() as usize;
    let last = &amps[first_of_last..whole];
    let last_energy = 2.0 * sum_squares(last);
    let energy = 2.0 * outside;
    // (The span's mean is summed only where the last cycle's does not already decide: a
    // steady window is a pass over its tail and last cycle, not over all its samples.)
    let counts = energy > ONSET_CYCLES * last_energy && energy / n as f64 >= ONSET_MIN_A * ONSET_MIN_A && {
        let inside = sum_squares(&amps[..whole]) + frac * straddling;
        energy > ONSET_CYCLES * 2.0 * inside / cycles
    };
    if !counts {
        // A load whose samples in the tail all fall in negative half-cycles shows only by its
        // codes, below every one of the span's (whose phases a steady load's cycles walk
        // through): nothing of it can be counted, and the reading says so (100 %).
        let tail_low = codes[whole..n].iter().copied().min()?;
        let deeper = !codes[..whole].iter().any(|&c| c <= tail_low.saturating_add(LOW_MARGIN_CODES));
        return deeper.then_some(Onset { from: n as f64, mean_square: 0.0, cut: true });
    }
    // The new load's first sample: above every current of the last cycle, or below every code
    // of it (a negative half-cycle deeper than the old load's, which the table reads as none).
    let above = last.iter().copied().fold(0.0f32, f32::max);
    let low = codes[first_of_last..whole].iter().copied().min().unwrap_or(0).saturating_sub(LOW_MARGIN_CODES);
    let first = (whole..n).find(|&k| amps[k] > above || codes[k] < low)?;
    // From there, the samples carrying current and their longest run.
    let tail = &amps[first..n];
    let (mut sum, mut count, mut run, mut longest) = (0.0, 0usize, 0usize, 0usize);
    for &a in tail {
        if a > 0.0 {
            sum += sq(a);
            count += 1;
            run += 1;
        } else {
            run = 0;
        }
        longest = longest.max(run);
    }
    if count == 0 {
        return None;
    }
    // A crest seen: the largest sample carrying current has a lower one carrying current on
    // either side.
    let top = (0..tail.len()).max_by(|&i, &j| tail[i].total_cmp(&tail[j])).unwrap_or(0);
    let crest =
        top > 0 && top + 1 < tail.len() && tail[top - 1] > 0.0 && tail[top + 1] > 0.0 && tail[top + 1] < tail[top];
    Some(Onset {
        from: span.max(first as f64),
        mean_square: sum / count as f64,
        cut: (longest as f64) < WHOLE_HALF * per_cycle && !crest,
    })
}

/// Codes below the lowest of the last whole cycle's by more than this are a current the old
/// load never drew (ADC noise and the squelch's 3 codes aside).
pub const LOW_MARGIN_CODES: u16 = 3;

/// The relative error a reading whose tail makes up `share` of its mean square can carry from
/// the tail alone: its mean square known to within a factor of two either way where the tail
/// holds a positive half-cycle of the new load whole or its crest (see the module). Where
/// neither (`cut`), a sliver of it may be all that shows of a half-cycle or more: the reading
/// is then anything from nothing to twice its truth, 100 %.
pub fn bound_of(share: f64, cut: bool) -> f64 {
    if cut {
        return 1.0;
    }
    let s = share.clamp(0.0, 1.0);
    ((1.0 + s).sqrt() - 1.0).max(1.0 - (1.0 - 0.5 * s).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sine at `a` A RMS from `from` seconds on (0 before), sampled at `rate` for `secs`.
    fn switched_on(a: f64, hz: f64, rate: f64, from: f64, secs: f64) -> Vec<f64> {
        let n = (secs * rate).round() as usize;
        (0..n)
            .map(|k| {
                let t = k as f64 / rate;
                if t >= from {
                    a * std::f64::consts::SQRT_2 * (std::f64::consts::TAU * hz * t).sin()
                } else {
                    0.0
                }
            })
            .collect()
    }

    /// What the table reads of `current` (negative half-cycles as none), and codes like the
    /// interface's: the no-current level at 99, negative currents pulling to the floor.
    fn read(current: &[f64]) -> (Vec<f32>, Vec<u16>) {
        let amps = current.iter().map(|&i| i.max(0.0) as f32).collect();
        let codes = current
            .iter()
            .map(|&i| (99.0 + if i >= 0.0 { 20.0 * i } else { 60.0 * i }).clamp(0.0, 1023.0) as u16)
            .collect();
        (amps, codes)
    }

    /// The exact RMS over `secs` of a sine of `a` A RMS switched on at `from`.
    fn truth(a: f64, hz: f64, from: f64, secs: f64) -> f64 {
        let w = std::f64::consts::TAU * hz;
        let e = |t: f64| t / 2.0 - (2.0 * w * t).sin() / (4.0 * w);
        (2.0 * a * a * (e(secs) - e(from)) / secs).sqrt()
    }

    #[test]
    fn a_steady_load_s_tail_is_the_span_s() {
        // Every phase the tail can end on, at both links' rates, for a sine and a narrow
        // pulse (a supply's: most of its energy in a tenth of the cycle).
        for rate in [603.5, 8196.7] {
            for hz in [49.7, 50.0, 50.29, 59.9, 60.35, 62.8] {
                for k in 0..40 {
                    let secs = 1.0 + k as f64 / 40.0 / hz;
                    let sine = switched_on(10.0, hz, rate, 0.0, secs);
                    let (amps, codes) = read(&sine);
                    assert_eq!(onset(&amps, &codes, rate, Some(hz)), None, "sine {rate} {hz} {k}");
                    let pulse: Vec<f64> = sine.iter().map(|&v| if v.abs() > 13.0 { v * 3.0 } else { 0.0 }).collect();
                    let (amps, codes) = read(&pulse);
                    assert_eq!(onset(&amps, &codes, rate, Some(hz)), None, "pulse {rate} {hz} {k}");
                }
            }
        }
    }

    #[test]
    fn a_load_starting_in_the_tail_is_counted_within_its_bound() {
        // Switched on at every phase of the last partial cycle after nothing, and after a
        // small load: the reading with the tail counted is within the stated bound of the
        // truth wherever the tail shows the load (where it does not, nothing is found).
        let (mut seen, mut uncut, mut unseen) = (0, 0, 0);
        for rate in [603.5, 8196.7] {
            for hz in [50.0, 62.836] {
                let secs = 1.0;
                let span_end = (hz as usize) as f64 / hz;
                for k in 0..20 {
                    let from = span_end + (secs - span_end) * k as f64 / 20.0;
                    for small in [0.0, 0.3] {
                        let on = switched_on(8.0, hz, rate, from, secs);
                        let base = switched_on(small, hz, rate, 0.0, secs);
                        let current: Vec<f64> = on.iter().zip(&base).map(|(a, b)| a + b).collect();
                        let (amps, codes) = read(&current);
                        let t = (truth(8.0, hz, from, secs).powi(2) + small * small).sqrt();
                        let Some(o) = onset(&amps, &codes, rate, Some(hz)) else {
                            // Nothing of the load in the tail's samples.
                            let tail_max =
                                on[(span_end * rate) as usize + 1..].iter().fold(0.0f64, |m, &v| m.max(v.abs()));
                            assert!(tail_max < 1.0, "missed an onset: {rate} {hz} {k} {small}");
                            continue;
                        };
                        unseen += usize::from(o.mean_square == 0.0);
                        seen += 1;
                        let read = o.mean_square(small, amps.len()).sqrt();
                        let err = (read / t - 1.0).abs();
                        let bound = bound_of(o.share(small, amps.len()), o.cut);
                        assert!(err <= bound, "{rate} {hz} {k} {small}: read {read} truth {t} bound {bound}");
                        uncut += usize::from(!o.cut);
                        // Without it, the reading is the small load's, far off.
                        assert!((small / t - 1.0).abs() > 0.1);
                    }
                }
            }
        }
        assert!(
            seen >= 40 && uncut >= 10 && unseen >= 4,
            "only {seen} onsets seen, {uncut} whole, {unseen} by codes alone"
        );
    }

    #[test]
    fn the_bound_covers_a_factor_of_two_in_the_tail() {
        assert!((bound_of(1.0, false) - (2f64.sqrt() - 1.0)).abs() < 1e-12);
        assert_eq!(bound_of(0.0, false), 0.0);
        assert_eq!(bound_of(0.1, true), 1.0);
        for s in [0.1, 0.5, 0.9] {
            // The tail's mean square halved or doubled: the reading moves within the bound.
            let (a, t): (f64, f64) = (1.0 - s, s);
            for truth in [a + 0.5 * t, a + 2.0 * t] {
                assert!((truth.sqrt() - 1.0).abs() <= bound_of(s, false) + 1e-12);
            }
        }
    }
}
