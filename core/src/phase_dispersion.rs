//! A steady window's mains frequency, refined from its own samples by phase dispersion
//! minimisation.
//!
//! **Why.** On the 9600-baud link (twelve samples a cycle) a window's waveform is seen only by
//! folding its fifty cycles onto one ([`crate::fold`]), and a narrow waveform's fold is sharp
//! enough that a few hundredths of a hertz smear it: over a 1 s window, 0.02 Hz moves the last
//! cycle's samples 0.02 of a cycle (7 degrees) against the first's. The mains frequency is
//! measured from the spectrum ([`crate::mains_hz`]): the median of the last windows' values,
//! each pulled by switches and by harmonics aliased beside the fundamental. On a fresh
//! randomized set (seed 20261215) a household at 50.132 Hz was read at 50.113 and 50.097 Hz
//! for seconds, and its steady windows of a narrow waveform read 2.7-3.9 % off, unflagged;
//! at the true frequency, within 0.6 %.
//!
//! **How.** Fold the window's codes at a trial frequency and take them in order of phase: a
//! steady periodic signal folded at its own frequency puts like codes side by side, and the
//! sum of the squared steps between neighbours (the "string length" of phase dispersion
//! minimisation, Lafler and Kinman 1965, Stellingwerf 1978) is least there; a fold at another
//! frequency sets samples from cycles far apart in the window, at phases that drifted apart,
//! next to each other. Searched over ±[`SEARCH_HZ`] around the spectrum's value on a grid of
//! [`GRID_HZ`] (every fifth point first over a 1 s window, then the least one's
//! neighbourhood), then a parabola through the least point and its neighbours. (Phase bins, the
//! other form, were tried first: 48 bins of a 1 s window are 7.5 degrees wide, and a narrow
//! waveform at 47.3 Hz came out 0.01 Hz off.)
//!
//! **Where not.** A window whose load changed holds two waveforms at each phase, whatever the
//! frequency: its dispersion falls toward wherever the switch lines up with itself, often the
//! edge of the search (a household's switching windows went 0.06 Hz off). So only a window
//! the estimator found steady is refined, and a least point on the search's edge is refused.

/// How far from the spectrum's value the search goes: past the measured scatter of a
/// household's windows (0.02-0.035 Hz) with room.
pub const SEARCH_HZ: f64 = 0.06;
/// The search's grid.
pub const GRID_HZ: f64 = 0.002;

/// The phase dispersion of `codes` folded at `step` mains cycles a sample: the sum of the
/// squared steps between the codes taken in order of phase, round the cycle (the "string
/// length"): the samples of neighbouring phases come from cycles far apart in the window, so
/// a fold at the wrong frequency puts unlike codes side by side. `None` for a window of more
/// than [`MAX_FOLDED`] samples.
pub fn dispersion(codes: &[u16], step: f64) -> Option<f64> {
    Some(Folds::new(codes)?.dispersion(step))
}

/// One window's folds at one trial frequency after another: [`dispersion`] for a search.
///
/// Why: a search folds a window at 61 frequencies ([`refine`]), and sorting its samples by
/// phase anew each time was half of the default method's cost at 603.5 Sa/s (the household
/// record's changing windows are all searched, `estimate`'s refold). Between neighbouring
/// trials a sample's phase moves by at most its index times the change of `step` (0.002 Hz:
/// two thousandths of a cycle over a 1 s window, about one sample spacing), so the last
/// trial's order is nearly this one's and an insertion sort puts it right in a few moves a
/// sample. Where it does not (trials far apart), the sort starts over once the moves pass
/// [`Folds::MOVES_PER_SAMPLE`] a sample. Either way the same keys in the same order: the
/// dispersion is the same to the bit.
struct Folds<'a> {
    codes: &'a [u16],
    /// Each sample's key at the last trial, in order: its phase ([`fixed_phase`] times its
    /// index) in the top 32 bits, its code in the next 16 (so that like phases sort by code),
    /// its index in the low 16. One word a sample, so the sort moves half what a key and a
    /// separate index would, and a new trial's key needs only the word itself.
    folded: Vec<u64>,
}

impl<'a> Folds<'a> {
    /// Moves of an insertion sort past which a full sort is cheaper (a sort of 604 samples
    /// compares about ten times a sample).
    const MOVES_PER_SAMPLE: usize = 8;

    /// The folds of `codes`; `None` for a window of more than [`MAX_FOLDED`] samples.
    fn new(codes: &'a [u16]) -> Option<Self> {
        (codes.len() <= MAX_FOLDED).then_some(Folds { codes, folded: Vec::new() })
    }

    /// [`dispersion`] at `step`.
    fn dispersion(&mut self, step: f64) -> f64 {
        let codes = self.codes;
        let per_sample = fixed_phase(step);
        let phase = |k: u64| u64::from((k as u32).wrapping_mul(per_sample)) << 32;
        if self.folded.len() != codes.len() {
            self.folded = (0..codes.len() as u64).map(|k| phase(k) | u64::from(codes[k as usize]) << 16 | k).collect();
            self.folded.sort_unstable();
        } else {
            for x in &mut self.folded {
                *x = phase(*x & 0xffff) | (*x & 0xffff_ffff);
            }
            if !insertion_sort(&mut self.folded, Self::MOVES_PER_SAMPLE * codes.len()) {
                self.folded.sort_unstable();
            }
        }
        // Whole-number squares, summed exactly.
        let step_sq = |a: u64, b: u64| (i64::from((a >> 16) as u16) - i64::from((b >> 16) as u16)).pow(2);
        let wrap = match (self.folded.first(), self.folded.last()) {
            (Some(&a), Some(&b)) => step_sq(a, b),
            _ => 0,
        };
        (self.folded.windows(2).map(|w| step_sq(w[0], w[1])).sum::<i64>() + wrap) as f64
    }
}

/// The most samples a window may hold to be folded here: each sample's index must fit in the
/// low 16 bits of its sort key. That is 108 s at 603.5 Sa/s, over which a grid's frequency
/// moves by more than the refinement's precision anyway (hundredths of a hertz over seconds,
/// [`crate::mains_hz`]); a longer window keeps the spectrum's value.
pub const MAX_FOLDED: usize = 1 << 16;

/// A step of `step` cycles a sample as a phase step in units of 2^-32 of a cycle, whole
/// cycles dropped: sample `k`'s phase is then `k` times it, wrapping (exact modular
/// arithmetic, where `k step` in floating point would need its whole cycles taken off).
/// The step is rounded by at most 2^-33 of a cycle, so over a window of 65 536 samples a
/// phase moves by under 2^-17 of a cycle (a 1 s window at 603.5 Sa/s: 10^-7).
fn fixed_phase(step: f64) -> u32 {
    (step.rem_euclid(1.0) * PHASE_UNITS).round() as u64 as u32
}

/// Sorts `v` by its keys in place by insertion, unless that takes more than `budget` moves:
/// then `false`, `v` a permutation of what it was.
fn insertion_sort(v: &mut [u64], budget: usize) -> bool {
    let mut moves = 0;
    for i in 1..v.len() {
        let item = v[i];
        let mut j = i;
        while j > 0 && v[j - 1] > item {
            v[j] = v[j - 1];
            j -= 1;
        }
        v[j] = item;
        moves += i - j;
        if moves > budget {
            return false;
        }
    }
    true
}

/// [`dispersion`] where the samples sweep the cycle at least once ([`sweeps`]); infinite
/// where they do not, so that no search takes such a fold for a sharp one.
fn swept_dispersion(folds: &mut Folds, step: f64) -> f64 {
    if sweeps(folds.codes.len(), step) < 1.0 {
        f64::INFINITY
    } else {
        folds.dispersion(step)
    }
}

/// A cycle's phase in the units [`dispersion`] sorts by.
const PHASE_UNITS: f64 = 4_294_967_296.0;

/// How many times over the phases of `n` samples `step` cycles apart sweep the cycle. Where
/// `step` is near `p / m` (a small whole number `m` of samples to `p` cycles) the samples
/// fall on `m` phases that each walk `n (m step - p) / m` of a cycle over the window: their
/// walks together cover `n |m step - p|` cycles, for the `m` that makes that least (up to
/// [`MAX_SAMPLES_PER_TURN`]).
///
/// Why: within one walk the samples keep their order of phase whatever the trial frequency,
/// so only where walks overlap does a wrong frequency put unlike codes side by side. Where
/// they do not cover the cycle (under one sweep: the 9600-baud link within about 0.1 Hz of
/// 50.29 or 60.35 Hz, where the window also has holes in its phases) the dispersion hardly
/// depends on the frequency, and its least is noise: a household at 60.279 Hz (0.71 sweeps)
/// refined there read steady windows 2.3-4.2 % off.
pub fn sweeps(n: usize, step: f64) -> f64 {
    (1..=MAX_SAMPLES_PER_TURN)
        .map(|m| {
            let x = m as f64 * step;
            n as f64 * (x - x.round()).abs()
        })
        .fold(f64::INFINITY, f64::min)
}

/// The most samples to a whole number of cycles [`sweeps`] looks at: 32 samples of the
/// 9600-baud link are two or three cycles.
pub const MAX_SAMPLES_PER_TURN: usize = 32;

/// The frequency near `hz` at which the window's `codes`, sampled at `rate_hz`, fold with the
/// least dispersion; `None` where the least lies on the search's edge, or beside a frequency
/// whose samples sweep the cycle less than once ([`sweeps`]; such frequencies are not tried),
/// or where `hz`'s own do (see the module), or for a window of more than [`MAX_FOLDED`]
/// samples.
pub fn refine(codes: &[u16], rate_hz: f64, hz: f64) -> Option<f64> {
    let n = codes.len();
    if sweeps(n, hz / rate_hz) < 1.0 {
        return None;
    }
    let steps = (SEARCH_HZ / GRID_HZ).round() as i64;
    let at = |i: i64| hz + i as f64 * GRID_HZ;
    let mut folds = Folds::new(codes)?;
    // A third of the folds over a 1 s window, whose dip is wider than [`COARSE`] trials
    // ([`sharper_among`]; the default method's readings of the committed goldens did not
    // move, the naive method's energy in two records by under 0.1 %). The dip narrows as the
    // window lengthens (a frequency off by `df` moves the last cycle's samples `df` times the
    // span against the first's), so the stride does too: every trial from five seconds.
    let span_s = n as f64 / rate_hz;
    let stride = ((COARSE as f64 / span_s.max(1.0)).floor() as usize).max(1);
    let trials = (2 * steps + 1) as usize;
    let (d, best, _) = strided_least(trials, stride, |i| swept_dispersion(&mut folds, at(i as i64 - steps) / rate_hz))?;
    Some(at(best as i64 - steps) + vertex(&d, best)? * GRID_HZ)
}

/// The least of `trials` folds (`fold(i)` for trial `i`) found by folding every `stride`th
/// trial, then each within `stride` of the least of those (the first of equals): the folds
/// (NaN where not folded), the least one's trial and the trials searched finely. `None` for
/// no trials. Where the dip is wider than the stride, the same least as folding every trial.
fn strided_least(
    trials: usize,
    stride: usize,
    mut fold: impl FnMut(usize) -> f64,
) -> Option<(Vec<f64>, usize, std::ops::RangeInclusive<usize>)> {
    let mut d = vec![f64::NAN; trials];
    for i in (0..trials).step_by(stride) {
        d[i] = fold(i);
    }
    let coarse = (0..trials).step_by(stride).min_by(|&a, &b| d[a].total_cmp(&d[b]))?;
    let fine = coarse.saturating_sub(stride)..=(coarse + stride).min(trials - 1);
    for i in fine.clone() {
        if d[i].is_nan() {
            d[i] = fold(i);
        }
    }
    let best = fine.clone().min_by(|&a, &b| d[a].total_cmp(&d[b]))?;
    Some((d, best, fine))
}

/// Where between its neighbours the least `d[best]` of a search lies, in trials (within half
/// a trial): the vertex of the parabola through the three. `None` for a least on the
/// search's edge or beside a trial not folded (or not sweeping the cycle).
fn vertex(d: &[f64], best: usize) -> Option<f64> {
    if best == 0 || best == d.len() - 1 || !d[best - 1].is_finite() || !d[best + 1].is_finite() {
        return None;
    }
    let (l, m, r) = (d[best - 1], d[best], d[best + 1]);
    let curve = l - 2.0 * m + r;
    let shift = if curve > 0.0 { 0.5 * (l - r) / curve } else { 0.0 };
    Some(shift.clamp(-0.5, 0.5))
}

/// How much sharper than the best fold near the spectrum's value a fold at another
/// frequency must be to stand for the window's frequency ([`sharper_among`]): a steady
/// window folded at its own frequency leaves a few thousandths of the dispersion a fold
/// smeared over the cycle leaves, and a window whose load changed, a third or more wherever
/// it is folded (households of seeds 20261236 and the committed 25 s record, their first
/// windows at 9600 baud: 0.0005-0.002 steady, 0.2-0.4 changing).
pub const SHARPER: f64 = 0.1;

/// The one of `candidates` (Hz), each more than [`SEARCH_HZ`] from `hz`, that folds the
/// window's `codes` with under [`SHARPER`] times the dispersion of any frequency within
/// ±[`SEARCH_HZ`] of `hz` (or of a fold smeared over the cycle, twice the codes' variance a
/// sample, where that is less), at a least between two frequencies tried; `None` where none
/// does, or where no frequency near `hz` sweeps the cycle. Frequencies whose samples sweep
/// the cycle less than once ([`sweeps`]) are not tried; `candidates` come in order, on the
/// grid of [`GRID_HZ`].
///
/// Why: where a frequency was measured over a span too short to tell it from a harmonic
/// aliased beside it, the spectrum's peak lies between the two ([`crate::mains_hz`]), and
/// only the fold tells which frequency the samples repeat at: a household at 50.194 Hz
/// beside a narrow switch-mode supply was measured at 49.937 Hz in its first second, and its
/// samples fold a thousand times sharper at 50.194 Hz. Near the frequencies where the samples
/// bunch, a fold at the wrong frequency sweeps the cycle only once or twice and is less
/// smeared (a dimmer at 50.45 Hz folds at 50.19 Hz a sixth as sharp as at its own): there
/// the fold does not tell, and a window whose load changed folds about as sharply at a
/// frequency that barely sweeps the cycle as at its own, so a preference short of
/// [`SHARPER`] is no evidence either way.
pub fn sharper_among(codes: &[u16], rate_hz: f64, hz: f64, candidates: impl Iterator<Item = f64>) -> Option<f64> {
    let n = codes.len();
    let mut folds = Folds::new(codes)?;
    let mut at = |f: f64| swept_dispersion(&mut folds, f / rate_hz);
    let steps = (SEARCH_HZ / GRID_HZ).round() as i64;
    // Where no frequency near `hz` sweeps the cycle, the measured value cannot be folded to
    // be compared with: a candidate that barely sweeps it would be compared with a smeared
    // fold, which any waveform beats (a switch-mode supply at 50.264 Hz, 0.6 s at the end of
    // a record, folded ten times sharper at 50.149 Hz than smeared and read 8 % high).
    let near_hz = (-steps..=steps).map(|i| hz + i as f64 * GRID_HZ);
    if near_hz.clone().all(|f| sweeps(n, f / rate_hz) < 1.0) {
        return None;
    }
    let mean = codes.iter().map(|&c| f64::from(c)).sum::<f64>() / n.max(1) as f64;
    let smeared = 2.0 * codes.iter().map(|&c| (f64::from(c) - mean).powi(2)).sum::<f64>();
    // Every [`COARSE`]th candidate, then each within [`COARSE`] of the least of those.
    let freqs: Vec<f64> = candidates.filter(|&f| (f - hz).abs() > SEARCH_HZ).collect();
    let (d, best, fine) = strided_least(freqs.len(), COARSE, |i| at(freqs[i]))?;
    // A least beside a frequency not tried (one whose samples do not sweep the cycle, or the
    // candidates' end) is refused, as [`refine`] refuses one: a fold that sweeps the cycle
    // barely once keeps most samples in time order, and any waveform folds sharply there.
    let tried_beside = |j: Option<usize>| {
        j.filter(|j| fine.contains(j))
            .is_some_and(|j| d[j].is_finite() && (freqs[j] - freqs[best]).abs() < 1.5 * GRID_HZ)
    };
    let interior = tried_beside(best.checked_sub(1)) && tried_beside(Some(best + 1));
    // The folds near `hz` only where they could matter (the near ones are never less sharp
    // than a smeared fold is taken to be).
    if !interior || d[best] >= SHARPER * smeared {
        return None;
    }
    let near = near_hz.map(at).fold(smeared, f64::min);
    (d[best] < SHARPER * near).then_some(freqs[best])
}

/// The stride of [`sharper_among`]'s first pass over its candidates, in [`GRID_HZ`] steps
/// (0.01 Hz): where candidates lie, a fold sweeps the cycle once or twice, and its least is
/// several hundredths of a hertz wide (households seed 20261236's first second: under 0.01 of
/// the smeared fold's dispersion from 50.188 to 50.210 Hz), so the stride cannot step over
/// it; a fifth of the folds (the first three windows of every 9600-baud stream fold up to
/// 230 times each, 0.3 ms a window over the loads goldens' 25 s household).
const COARSE: usize = 5;

#[cfg(test)]
mod tests {
    use super::*;

    const LAUNCHPAD: f64 = 1e6 / 1657.0;

    /// 1 s of a leading-edge dimmer's codes at 9600 baud: firing `fire` degrees into each
    /// half-cycle ([`crate::load_shape::leading_edge`]), the negative half clipped by the
    /// clamp's diode (rest 99).
    fn dimmer(hz: f64, fire: f64) -> Vec<u16> {
        dimmer_for(hz, fire, LAUNCHPAD as usize)
    }

    /// [`dimmer`] over `n` samples.
    fn dimmer_for(hz: f64, fire: f64, n: usize) -> Vec<u16> {
        (0..n)
            .map(|k| {
                let v = crate::load_shape::leading_edge(fire, (k as f64 * hz / LAUNCHPAD).fract());
                (99.0 + 400.0 * v.max(0.0)).round() as u16
            })
            .collect()
    }

    /// From wherever in the search the spectrum left it, the fold finds the frequency of a
    /// narrow waveform to a few thousandths of a hertz: the household's 0.02-0.035 Hz errors
    /// and more, at 50 and 60 Hz, away from the frequencies where the samples bunch.
    #[test]
    fn a_narrow_waveform_folds_sharpest_at_its_own_frequency() {
        for hz in [47.3, 50.132, 54.0, 59.7, 63.1] {
            for fire in [54.0, 108.0, 144.0] {
                let codes = dimmer(hz, fire);
                for off in [-0.045, -0.02, 0.0, 0.03, 0.05] {
                    let got = refine(&codes, LAUNCHPAD, hz + off).expect("an interior least");
                    assert!((got - hz).abs() < 0.003, "{hz} Hz firing at {fire}, from {off:+}: {got}");
                }
            }
        }
    }

    /// The strided search finds the least every trial finds: the same frequency, to the bit,
    /// as a search folding at all 61 trials (the same [`vertex`] through the same folds).
    #[test]
    fn the_strided_search_finds_what_every_trial_finds() {
        let every = |codes: &[u16], hz: f64| {
            let steps = (SEARCH_HZ / GRID_HZ).round() as i64;
            let at = |i: i64| hz + i as f64 * GRID_HZ;
            let d: Vec<f64> = (-steps..=steps)
                .map(|i| {
                    let step = at(i) / LAUNCHPAD;
                    if sweeps(codes.len(), step) < 1.0 {
                        f64::INFINITY
                    } else {
                        dispersion(codes, step).unwrap()
                    }
                })
                .collect();
            let best = (0..d.len()).min_by(|&a, &b| d[a].total_cmp(&d[b])).unwrap();
            Some(at(best as i64 - steps) + vertex(&d, best)? * GRID_HZ)
        };
        let mut compared = 0;
        for hz in [47.3, 50.132, 54.0, 59.7, 63.1] {
            for fire in [54.0, 108.0, 144.0] {
                let codes = dimmer(hz, fire);
                for off in [-0.055, -0.045, -0.02, 0.0, 0.013, 0.03, 0.05] {
                    let (got, want) = (refine(&codes, LAUNCHPAD, hz + off), every(&codes, hz + off));
                    assert_eq!(got.map(f64::to_bits), want.map(f64::to_bits), "{hz} Hz firing at {fire}, from {off:+}");
                    compared += usize::from(want.is_some());
                }
            }
        }
        assert!(compared >= 60, "{compared} searches found a least");
    }

    /// The sweeps of the 9600-baud link's 1 s window: 1.9 at 50.132 Hz (twelve samples to a
    /// cycle), 0.71 at 60.279 Hz (ten), none at 603.5 / 12 Hz, many at 47.3 Hz; and a window
    /// at 60.279 Hz is not refined.
    #[test]
    fn samples_that_walk_too_slowly_are_not_refined() {
        let n = LAUNCHPAD.round() as usize;
        let at = |hz: f64| sweeps(n, hz / LAUNCHPAD);
        assert!((at(50.132) - 604.0 * (12.0 * 50.132 / LAUNCHPAD - 1.0).abs()).abs() < 1e-9);
        assert!((1.8..2.0).contains(&at(50.132)), "{}", at(50.132));
        assert!((0.65..0.75).contains(&at(60.279)), "{}", at(60.279));
        assert!(at(LAUNCHPAD / 12.0) < 1e-9);
        assert!(at(47.3) > 10.0);
        assert_eq!(refine(&dimmer(60.279, 108.0), LAUNCHPAD, 60.279), None);
    }

    /// A window measured between its frequency and a harmonic aliased beside it (0.26 Hz
    /// below, as a household's first second at 50.194 Hz was, or 0.4 Hz above) is told by its
    /// fold from a list of candidates holding its frequency, or not told; never told wrong.
    /// One measured right is left, and so is one whose load changed halfway (two waveforms
    /// at every phase).
    #[test]
    fn a_pulled_frequency_is_told_by_the_fold_and_a_right_one_is_left() {
        let grid = |lo: f64, hi: f64| (0..=((hi - lo) / GRID_HZ) as usize).map(move |i| lo + i as f64 * GRID_HZ);
        let mut told = 0;
        for hz in [50.1, 50.194, 50.45, 57.0, 60.1] {
            for fire in [54.0, 108.0, 144.0] {
                let codes = dimmer(hz, fire);
                for pulled in [hz - 0.26, hz + 0.4] {
                    if let Some(got) = sharper_among(&codes, LAUNCHPAD, pulled, grid(hz - 0.5, hz + 0.5)) {
                        assert!((got - hz).abs() < 0.003, "{hz} Hz firing at {fire}, read at {pulled}: {got}");
                        told += 1;
                    }
                }
                assert_eq!(sharper_among(&codes, LAUNCHPAD, hz, grid(hz - 0.5, hz + 0.5)), None, "{hz} {fire}");
            }
            let (a, b) = (dimmer(hz, 54.0), dimmer(hz, 144.0));
            let changed: Vec<u16> = a[..a.len() / 2].iter().chain(&b[b.len() / 2..]).copied().collect();
            assert_eq!(sharper_among(&changed, LAUNCHPAD, hz - 0.26, grid(hz - 0.5, hz + 0.5)), None, "{hz}");
        }
        // Away from the bunching frequencies, the fold tells (the household's case among them).
        assert!(told >= 20, "{told} of 30 told");
        // Measured where the samples bunch (603.5 / 12 Hz), nothing near the value folds to be
        // compared with, and a candidate that barely sweeps the cycle is not taken for it: a
        // record's last 0.6 s of a narrow waveform at 50.264 Hz.
        for fire in [54.0, 108.0, 144.0] {
            let codes = &dimmer(50.264, fire)[..364];
            let got = sharper_among(codes, LAUNCHPAD, LAUNCHPAD / 12.0, grid(49.8, 50.8));
            assert_eq!(got, None, "firing at {fire}");
        }
    }

    /// A search's folds, each sorted from the last one's order, give the dispersion a sort of
    /// the samples' phases anew gives (the definition, written out here), to the bit: over a
    /// search's neighbouring trials, and over trials far apart (where the insertion gives up).
    #[test]
    fn a_search_folds_as_a_fresh_sort_does() {
        let fresh = |codes: &[u16], step: f64| {
            let per_sample = fixed_phase(step);
            let mut v: Vec<(u32, u16)> =
                codes.iter().enumerate().map(|(k, &c)| ((k as u32).wrapping_mul(per_sample), c)).collect();
            v.sort();
            let sq = |a: u16, b: u16| (f64::from(a) - f64::from(b)).powi(2);
            v.windows(2).map(|w| sq(w[0].1, w[1].1)).sum::<f64>() + sq(v[0].1, v[v.len() - 1].1)
        };
        for (hz, fire) in [(50.132, 108.0), (47.3, 144.0), (60.1, 54.0)] {
            let codes = dimmer(hz, fire);
            let mut folds = Folds::new(&codes).expect("a 1 s window is folded");
            let near = (-30..=30).map(|i| hz + 0.002 * f64::from(i));
            let far = [45.0, 65.0, 50.0, 61.3];
            for f in near.chain(far) {
                assert_eq!(
                    folds.dispersion(f / LAUNCHPAD).to_bits(),
                    fresh(&codes, f / LAUNCHPAD).to_bits(),
                    "{hz} at {f}"
                );
            }
        }
    }

    /// The dispersion grows on either side of the true frequency, the further the more.
    #[test]
    fn the_dispersion_grows_as_the_fold_smears() {
        let codes = dimmer(50.132, 108.0);
        let at = |hz: f64| dispersion(&codes, hz / LAUNCHPAD).expect("a 1 s window is folded");
        assert!(at(50.132) < at(50.142) && at(50.142) < at(50.162) && at(50.132) < at(50.112));
    }

    /// A window too long for its samples' indices to fit their keys is not folded (and so not
    /// refined) rather than folded wrong.
    #[test]
    fn a_window_too_long_to_fold_keeps_the_spectrum_s_value() {
        let codes = dimmer_for(50.132, 108.0, MAX_FOLDED + 1);
        assert_eq!(dispersion(&codes, 50.132 / LAUNCHPAD), None);
        assert_eq!(refine(&codes, LAUNCHPAD, 50.13), None);
        let fits = &codes[..MAX_FOLDED];
        assert!(dispersion(fits, 50.132 / LAUNCHPAD).is_some());
        assert!(refine(fits, LAUNCHPAD, 50.13).is_some_and(|f| (f - 50.132).abs() < 0.002));
    }
}
