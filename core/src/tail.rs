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
//! a positive half, then a whole negative half-cycle of 8 A unseen), and a start whose every
//! sample falls in a negative half-cycle shows only where its codes go below every one of the
//! span's (the reading stays the span's). Such a tail is `cut`, and its count may be off
//! either way beyond a factor of two: high, a sliver at a crest counted over the whole tail
//! (2 A switched on 0.3 of a 60.3 Hz cycle before the end, at 8196.7 Sa/s: +76 %), which the
//! reading states as 100 % ([`Onset::above`]); low, how low has only the meter's range to go
//! by: over the samples after the span the current was at most the largest the table reads
//! (beyond it the codes clip, and the next window says so), [`Onset::below`]. On a fresh
//! randomized set (seed 20261214) a household window at 48.608 Hz saw a sliver of a new load
//! in its last cycle: stated as 100 % below, it left the whole 60 s record's energy with no
//! bound on how low it read (-1.72 %). Behind an old load whose negative half-cycles reach as
//! deep, a start in its first negative half-cycle shows only where a tail sample fell to the
//! floor at a phase the steady span's samples never did ([`hidden_onset`], asked of steady
//! windows: told, it is `cut` and counts nothing). Where every sample after the start lies
//! where the old load reaches the floor itself, nothing shows: the reading stays the span's,
//! unflagged (an 8 A load beside 3 A switched on in a tail's last 40 %: up to 3.5 % low; the
//! next window reads it, and a record's energy misses under half a cycle of it).

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
    /// whole (the window's edge or the switch cut it) and none of its crests, and how little
    /// of its mean square it counted is not known ([`Onset::below`]).
    pub cut: bool,
    /// Where the whole-cycle span ends (samples from the window's first, fractional): the new
    /// load started after it.
    pub span_end: f64,
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

    /// How far above its truth the window's reading with the tail counted can be, relative to
    /// the truth, from the tail alone, for `reading` (A RMS) as in [`Onset::mean_square`]:
    /// [`bound_of`] where the tail showed a half-cycle whole or a crest, 100 % where it is
    /// `cut` (see the module).
    pub fn above(&self, reading: f64, n: usize) -> f64 {
        if self.cut {
            1.0
        } else {
            bound_of(self.share(reading, n))
        }
    }

    /// How far below its truth the window's reading with the tail counted can be, relative to
    /// the truth, from the tail alone, for `reading` (A RMS) as in [`Onset::mean_square`] and
    /// `top_amps` the largest current the table reads: [`bound_of`] where the tail showed a
    /// half-cycle whole or a crest; where it is `cut`, the truth's mean square is at most the
    /// one counted plus `top_amps` squared over every sample after the span (whatever the load
    /// drew there, it did not clip the codes), and the reading is low by at most one less the
    /// square root of their ratio. Below 1 however large the current may have been: a record
    /// holding such a window keeps a bound on how low its energy reads ([`crate::bound`]).
    pub fn below(&self, reading: f64, n: usize, top_amps: f64) -> f64 {
        let share = bound_of(self.share(reading, n));
        if !self.cut || n == 0 {
            return share;
        }
        let unseen = (n as f64 - self.span_end).max(0.0);
        range_below(self.mean_square(reading, n), unseen, n as f64, top_amps).map_or(share, |b| share.max(b))
    }
}

use crate::estimate::{sum_squares, whole_cycles};

/// Where a window of `n` samples at `rate_hz` holds its whole cycles at `mains_hz`, as both
/// tail tests ([`onset`], [`hidden_onset`]) read it; `None` for an unknown frequency or fewer
/// than two cycles.
struct Span {
    cycles: f64,
    /// Where the whole cycles end, samples from the window's first (fractional).
    span: f64,
    /// Samples a cycle.
    per_cycle: f64,
    /// The samples wholly within the span, and the first of its last whole cycle.
    whole: usize,
    first_of_last: usize,
}

impl Span {
    fn of(n: usize, rate_hz: f64, mains_hz: Option<f64>) -> Option<Span> {
        let (cycles, span) = whole_cycles(n, rate_hz, mains_hz).filter(|&(cycles, _)| cycles >= 2.0)?;
        let per_cycle = span / cycles;
        let first_of_last = (span - per_cycle).max(0.0).floor() as usize;
        Some(Span { cycles, span, per_cycle, whole: span.floor() as usize, first_of_last })
    }
}

/// Whether a load started in the samples of `amps` (the table's half-wave currents of one
/// window at `rate_hz`, `codes` the ADC codes they were read from) after its largest whole
/// number of cycles at `mains_hz`; `None` for a steady tail, an unknown frequency or a window
/// shorter than two cycles.
pub fn onset(amps: &[f32], codes: &[u16], rate_hz: f64, mains_hz: Option<f64>) -> Option<Onset> {
    let n = amps.len().min(codes.len());
    let (amps, codes) = (&amps[..n], &codes[..n]);
    let Span { cycles, span, per_cycle, whole, first_of_last } = Span::of(n, rate_hz, mains_hz)?;
    let frac = span - whole as f64;
    let sq = |a: f32| f64::from(a) * f64::from(a);
    let straddling = amps.get(whole).map_or(0.0, |&a| sq(a));
    let outside = amps.get(whole + 1..).map_or(0.0, sum_squares) + (1.0 - frac) * straddling;
    // The span's last whole cycle, which a per-cycle reading gives the tail.
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
        // through): nothing of it can be counted, and the reading says so (`cut`: 100 % above,
        // the range below).
        let tail_low = codes[whole..n].iter().copied().min()?;
        let deeper = !codes[..whole].iter().any(|&c| c <= tail_low.saturating_add(LOW_MARGIN_CODES));
        return deeper.then_some(Onset { from: n as f64, mean_square: 0.0, cut: true, span_end: span });
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
        span_end: span,
    })
}

/// A load switched on in a negative half-cycle in a steady window's tail: [`onset`] finds a
/// start by the currents the tail shows, and by codes below every one of the span's; behind an
/// old load whose negative half-cycles reach the floor too, neither shows one whose every
/// sample in the tail falls in its first negative half-cycle. Such a start still shows where
/// a sample of the tail fell to the floor (at most [`LOW_MARGIN_CODES`] above the span's last
/// cycle's lowest code: behind the in-line diode, a negative current deeper than the
/// interface passes) at a phase where the span's samples showed no such current: every one of
/// them within [`FELL_PHASE`] of its phase, and there must be [`FELL_SEEN`] or more, lay more
/// than [`FELL_FROM`] of the span's code range above the floor. On households seed 20261227 a
/// heater switched on 5 ms before a steady window's end, in its negative half-cycle, read
/// 5.1 % low at 603.5 Sa/s and 3.6 % at 8196.7 Sa/s, unflagged.
///
/// A steady waveform cannot fall so: its samples near a phase where it reaches the floor reach
/// it too, however steep its edge (a supply's pulse, a dimmer's), as the sampling's phases walk
/// over the window's cycles (at 603.5 Sa/s about ten tracks a cycle, each moving up to 18
/// degrees a cycle). A load that changed in the window's last cycles can (the clamp's
/// magnetizing current settling after a motor starts or stops moves its samples for several
/// cycles): the caller asks this of steady windows only, whose cycles are one load. Nothing of
/// the new load is counted (its first half-cycle is hidden): the reading stays the span's,
/// `cut`, its bound the range's ([`Onset::below`]). `None` where nothing fell, for an unknown
/// frequency or a window shorter than two cycles.
pub fn hidden_onset(codes: &[u16], rate_hz: f64, mains_hz: Option<f64>) -> Option<Onset> {
    let n = codes.len();
    let Span { span, per_cycle, whole, first_of_last, .. } = Span::of(n, rate_hz, mains_hz)?;
    let floor = codes[first_of_last..whole].iter().copied().min()?.saturating_add(LOW_MARGIN_CODES);
    let before = &codes[..whole];
    let top = before.iter().copied().max().unwrap_or(0);
    let above = floor.saturating_add((FELL_FROM * f64::from(top.saturating_sub(floor))) as u16);
    // The span's samples a whole number of cycles before sample `k` within FELL_PHASE of its
    // phase, the nearest cycles first: `j` cycles back lies between two samples, and those
    // within the phase are taken.
    let reach = FELL_PHASE * per_cycle;
    let near = |k: usize| {
        (1..=(k as f64 / per_cycle) as usize).flat_map(move |j| {
            let back = k as f64 - j as f64 * per_cycle;
            let lo = (back - reach).ceil().max(0.0) as usize;
            let hi = ((back + reach).floor() as usize).min(whole.saturating_sub(1));
            lo..=hi
        })
    };
    let fell = |k: usize| {
        let mut seen = 0;
        codes[k] <= floor
            && near(k).take(FELL_LOOK).all(|i| {
                seen += 1;
                before[i] > above
            })
            && seen >= FELL_SEEN
    };
    (top > above && (whole..n).any(fell)).then_some(Onset {
        from: n as f64,
        mean_square: 0.0,
        cut: true,
        span_end: span,
    })
}

/// The phase (cycles) within which the span's samples stand for a tail sample's
/// ([`hidden_onset`]): two degrees.
pub const FELL_PHASE: f64 = 2.0 / 360.0;

/// The span's samples near a tail sample's phase needed to tell that it fell
/// ([`hidden_onset`]), and the most looked at.
pub const FELL_SEEN: usize = 2;
const FELL_LOOK: usize = 12;

/// The share of the span's code range above the floor its samples near a tail sample's phase
/// must each lie beyond for that sample at the floor to show a load switched on
/// ([`hidden_onset`]).
pub const FELL_FROM: f64 = 0.1;

/// Codes below the lowest of the last whole cycle's by more than this are a current the old
/// load never drew (ADC noise and the squelch's 3 codes aside).
pub const LOW_MARGIN_CODES: u16 = 3;

/// The relative error a reading whose tail makes up `share` of its mean square can carry from
/// the tail alone: its mean square known to within a factor of two either way where the tail
/// holds a positive half-cycle of the new load whole or its crest (see the module; where
/// neither, [`Onset::above`] and [`Onset::below`]).
pub fn bound_of(share: f64) -> f64 {
    let s = share.clamp(0.0, 1.0);
    ((1.0 + s).sqrt() - 1.0).max(1.0 - (1.0 - 0.5 * s).sqrt())
}

/// A load that ran through the hidden half-cycle a window begins with and stopped early in
/// the positive half-cycle after it: the mirror, at a window's head, of a start in its tail.
///
/// **Why.** Where a window begins in a negative half-cycle, the in-line diode hides the
/// current until the source's next upward crossing; a load switched off a sliver after it
/// shows only as that sliver and the clamp's kick after it, and every method reads the
/// window as the load after the switch (the reading is the sliver's and the kick's, and its
/// whole cycles'). On a fresh randomized set (seed 20261234) a 32.6 A load switched off to
/// 0.70 A 11 ms into a window at 8196.7 Sa/s, its first 72 samples hidden and then one
/// sample of 17 A before the kick: read -48.3 % for a stated 33.7 %.
///
/// **Test.** The window's first sample carrying current (above [`HEAD_FLOOR`] of the
/// largest current of its first cycle) comes a quarter of a cycle or more into it, the
/// half-cycle from there was cut (its mean square under [`HEAD_WHOLE`] of its peak's square)
/// and holds a current more than [`HEAD_ABOVE`] times any the window holds from a cycle after
/// it on: the load dropped there. A steady load's first half-cycle is its later ones'; a load
/// switched on there is below them; one that stopped after a positive half-cycle seen whole
/// gives the partial cycle before it that half-cycle's mean square.
///
/// **How low.** What the hidden samples carried is not seen: as for a cut tail
/// ([`Onset::below`]), over them the current was at most the largest the table reads. Returns
/// how many samples are hidden, `None` where the test does not hold or the frequency is
/// unknown.
pub fn hidden_head(amps: &[f32], rate_hz: f64, mains_hz: Option<f64>) -> Option<usize> {
    let step = mains_hz? / rate_hz;
    if !(step > 0.0 && step < 0.5) {
        return None;
    }
    let cycle = (1.0 / step).round() as usize;
    if amps.len() < 3 * cycle {
        return None;
    }
    let largest = |x: &[f32]| x.iter().copied().fold(0f32, f32::max);
    let first_cycle = largest(&amps[..cycle]);
    let first = amps[..cycle].iter().position(|&a| a > HEAD_FLOOR * first_cycle)?;
    if first * 4 < cycle {
        return None;
    }
    let visible = &amps[first..first + cycle / 2];
    let (half, after) = (largest(visible), largest(&amps[first + cycle..]));
    // A positive half-cycle seen whole is its cycle's: the partial cycle before it is given
    // its mean square, and nothing is lost.
    let mean_square = visible.iter().map(|&a| f64::from(a).powi(2)).sum::<f64>() / visible.len() as f64;
    let cut = mean_square < HEAD_WHOLE * f64::from(half).powi(2);
    (cut && half > HEAD_ABOVE * after).then_some(first)
}

/// A window's first visible half-cycle whose mean square is under this share of its peak's
/// square was cut ([`hidden_head`]): a half-sine seen whole holds a half.
pub const HEAD_WHOLE: f64 = 0.25;

/// A current below this share of the largest of a window's first cycle is none, for
/// [`hidden_head`] (the codes' noise about the no-current level).
pub const HEAD_FLOOR: f32 = 0.05;

/// A window's first visible half-cycle holding a current this many times any the window
/// holds a cycle later dropped its load there ([`hidden_head`]): a steady load's cycles
/// reach the same peak, and one narrow pulse caught by one cycle's samples and not the
/// next's reaches no more than the others' peaks allow at the fast link.
pub const HEAD_ABOVE: f32 = 3.0;

/// How far below its truth a window's reading `reading` (A RMS, `n` samples) can be when
/// its first `hidden` samples were hidden behind the in-line diode ([`hidden_head`]) and the
/// load there was at most `top_amps`: one less the square root of the reading's mean square
/// over it plus `top_amps` squared over those samples, as for a cut tail.
pub fn head_below(reading: f64, n: usize, hidden: usize, top_amps: f64) -> f64 {
    range_below(reading * reading, hidden as f64, n.max(1) as f64, top_amps).unwrap_or(0.0)
}

/// How far below its truth a window's reading of mean square `counted` can be when `unseen`
/// of its `n` samples may have carried any current up to `top_amps` (beyond it the codes
/// clip): one less the square root of `counted` over `counted` plus `top_amps` squared over
/// those samples. `None` where both are nothing. What a cut tail ([`Onset::below`]) and a
/// hidden head ([`head_below`]) state.
fn range_below(counted: f64, unseen: f64, n: f64, top_amps: f64) -> Option<f64> {
    let unseen = top_amps * top_amps * unseen / n;
    (counted + unseen > 0.0).then(|| 1.0 - (counted / (counted + unseen)).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Table currents of a window beginning `begin` of a cycle into the source's cycle: a
    /// 32 A load to `off_at` of the cycle after the first upward crossing (its positive
    /// half-cycles only, as the in-line diode shows them), a kick of 17 A decaying over 2 ms
    /// after it if it stops, then 0.7 A (or the 32 A throughout where `off_at` is `None`).
    fn head_window(rate: f64, hz: f64, begin: f64, off_at: Option<f64>) -> (Vec<f32>, f64) {
        let n = rate as usize;
        let mut truth = 0.0;
        let amps = (0..n)
            .map(|k| {
                let ph = begin + k as f64 * hz / rate;
                let off = off_at.map(|o| 1.0 + o);
                let (a, kick) = match off {
                    Some(o) if ph >= o => (0.7, 17.0 * (-(ph - o) / hz / 2e-3).exp()),
                    _ => (32.0, 0.0),
                };
                let i = a * std::f64::consts::SQRT_2 * (std::f64::consts::TAU * ph).sin();
                truth += i * i;
                (i.max(0.0) + kick) as f32
            })
            .collect();
        (amps, (truth / n as f64).sqrt())
    }

    /// A load switched off a sliver into the first positive half-cycle after the hidden one
    /// a window begins with is found, and the bound below it states holds the truth; the same
    /// load steady, a window beginning in a positive half-cycle, and a switch-off late in
    /// the window's first whole cycle are not taken for it.
    #[test]
    fn a_load_stopped_after_a_hidden_head_is_found_and_bounded() {
        let (rate, hz) = (1e6 / 122.0, 50.293);
        let top = 95.0;
        let (amps, truth) = head_window(rate, hz, 0.55, Some(0.08));
        let hidden = hidden_head(&amps, rate, Some(hz)).expect("the head");
        let cycle = rate / hz;
        assert!((hidden as f64 - 0.45 * cycle).abs() <= 2.0, "hidden {hidden} of a cycle of {cycle}");
        // What every method reads there: the visible samples' half-wave RMS.
        let read = (2.0 * amps.iter().map(|&a| f64::from(a).powi(2)).sum::<f64>() / amps.len() as f64).sqrt();
        assert!(read < 0.7 * truth, "the case: read {read} for {truth}");
        let below = head_below(read, amps.len(), hidden, top);
        assert!(1.0 - read / truth <= below, "low by {} for {below}", 1.0 - read / truth);
        for (what, begin, off) in
            [("steady", 0.55, None), ("from a positive half", 0.1, Some(0.08)), ("late", 0.55, Some(0.9))]
        {
            let (amps, _) = head_window(rate, hz, begin, off);
            assert_eq!(hidden_head(&amps, rate, Some(hz)), None, "{what}");
        }
    }

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

    /// The largest current [`read`] tells: at code 1023.
    const TOP_A: f64 = (1023.0 - 99.0) / 20.0;

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
                        let above = o.above(small, amps.len());
                        let below = o.below(small, amps.len(), TOP_A);
                        assert!(
                            read <= t * (1.0 + above) && read >= t * (1.0 - below),
                            "{rate} {hz} {k} {small}: read {read} truth {t} bound +{above}/-{below}"
                        );
                        // Unless nothing at all was counted (then the reading is 0).
                        assert!(below < 1.0 || read == 0.0, "a cut tail still bounds how low it reads");
                        if !o.cut {
                            assert_eq!(below, above, "a factor of two either way");
                        }
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

    /// A steady old load (a 3 A sine a motor's 40 degrees late, its negative half-cycles
    /// reaching the floor) and an 8 A load switched on at its own downward zero crossing in
    /// the last partial cycle, so that the tail holds only its first negative half-cycle:
    /// nothing the tail shows is new by current or by a code below the span's, and the hidden
    /// start is told where a sample fell to the floor at a phase the old load never took there.
    /// Wherever told, the truth lies within the stated bound of the span's reading; a steady
    /// load of any shape, ending at any phase, is never taken for one. A start whose every
    /// sample falls where the old load reaches the floor itself cannot show at all.
    #[test]
    fn a_start_hidden_in_a_negative_half_cycle_is_told_against_a_steady_span() {
        let lag = 40f64.to_radians();
        let (mut told, mut hidden) = (0, 0);
        for rate in [603.5f64, 8196.7] {
            for hz in [50.0f64, 59.93, 62.8] {
                let w = std::f64::consts::TAU * hz;
                // A window ending 0.9 of a cycle after its last whole one.
                let n = ((50.9 / hz) * rate).round() as usize;
                let secs = n as f64 / rate;
                let span_end = whole_cycles(n, rate, Some(hz)).expect("cycles").1 / rate;
                let old = |t: f64| 3.0 * std::f64::consts::SQRT_2 * (w * t - lag).sin();
                for k in 0..16 {
                    // The new load's downward zero crossing, within the tail: its negative
                    // half-cycle (half a period) runs past the window's end.
                    let on = span_end + (secs - span_end) * k as f64 / 16.0;
                    let new_peak = 8.0 * std::f64::consts::SQRT_2;
                    let current: Vec<f64> = (0..n)
                        .map(|i| {
                            let t = i as f64 / rate;
                            old(t) - if t >= on { new_peak * (w * (t - on)).sin() } else { 0.0 }
                        })
                        .collect();
                    if on + 0.5 / hz < secs {
                        // The new load's positive half-cycle shows in the tail: [`onset`]'s.
                        continue;
                    }
                    hidden += 1;
                    let (amps, codes) = read(&current);
                    assert_eq!(onset(&amps, &codes, rate, Some(hz)), None, "{rate} {hz} {k}: shown");
                    // The span's reading (the old load's) against the window's truth.
                    let reading = 3.0;
                    let e = |t: f64| t / 2.0 - (2.0 * w * t).sin() / (4.0 * w);
                    let extra = 2.0 * 64.0 * (e(secs - on) - e(0.0));
                    let cross = 2.0 * 3.0 * 8.0 * {
                        // The mean of -old * new over the tail, summed numerically.
                        let m = 2000;
                        (0..m)
                            .map(|i| {
                                let t = on + (secs - on) * (i as f64 + 0.5) / m as f64;
                                -(w * t - lag).sin() * (w * (t - on)).sin()
                            })
                            .sum::<f64>()
                            * (secs - on)
                            / m as f64
                    };
                    let truth = ((9.0 * secs + extra + cross) / secs).sqrt();
                    let Some(o) = hidden_onset(&codes, rate, Some(hz)) else {
                        // Missed only where every sample after the start lies where the old
                        // load itself reaches the floor: the tail's last 40 % (on this grid,
                        // up to 3.5 % low).
                        assert!(k >= 10, "{rate} {hz} {k}: missed a start early in the tail");
                        continue;
                    };
                    told += 1;
                    assert!(o.cut && o.mean_square == 0.0 && o.from == n as f64);
                    let below = o.below(reading, n, TOP_A);
                    assert!(
                        reading >= truth * (1.0 - below) && reading <= truth * (1.0 + o.above(reading, n)),
                        "{rate} {hz} {k}: read {reading} truth {truth} below {below}"
                    );
                }
                // Steady loads: a late sine, a supply's pulse, a dimmer's cut sine.
                for shape in 0..3 {
                    for k in 0..40 {
                        let secs = 1.0 + k as f64 / 40.0 / hz;
                        let n = (secs * rate).round() as usize;
                        let current: Vec<f64> = (0..n)
                            .map(|i| {
                                let x = w * i as f64 / rate;
                                match shape {
                                    0 => old(i as f64 / rate),
                                    1 => 30.0 * (x.sin().abs() > 0.95) as u8 as f64 * x.sin().signum(),
                                    _ => 10.0 * x.sin() * ((x % std::f64::consts::PI) > 2.0) as u8 as f64,
                                }
                            })
                            .collect();
                        let (_, codes) = read(&current);
                        assert_eq!(hidden_onset(&codes, rate, Some(hz)), None, "steady {shape} {rate} {hz} {k}");
                    }
                }
            }
        }
        assert!(hidden >= 48 && told >= 20, "told {told} of {hidden} hidden starts");
    }

    #[test]
    fn the_bound_covers_a_factor_of_two_in_the_tail() {
        assert!((bound_of(1.0) - (2f64.sqrt() - 1.0)).abs() < 1e-12);
        assert_eq!(bound_of(0.0), 0.0);
        for s in [0.1, 0.5, 0.9] {
            // The tail's mean square halved or doubled: the reading moves within the bound.
            let (a, t): (f64, f64) = (1.0 - s, s);
            for truth in [a + 0.5 * t, a + 2.0 * t] {
                assert!((truth.sqrt() - 1.0).abs() <= bound_of(s) + 1e-12);
            }
        }
        // A cut tail: the truth's mean square at most the one counted plus the range's over
        // the samples after the span. 1 A^2 counted over 100 samples, 2 after the span at up
        // to 10 A: a truth of at most sqrt(1 + 100 * 2 / 100) A, the reading 1 - 1/sqrt(3) low.
        let cut = Onset { from: 99.0, mean_square: 1.0, cut: true, span_end: 98.0 };
        assert!((cut.below(1.0, 100, 10.0) - (1.0 - 3f64.sqrt().recip())).abs() < 1e-12);
        assert_eq!(Onset { cut: false, ..cut }.below(1.0, 100, 10.0), bound_of(0.01));
    }
}
