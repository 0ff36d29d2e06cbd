//! Folding: a window's codes summed into phase bins of one mains cycle.
//!
//! Sample k of a stream at `rate_hz` has phase `frac(k * mains_hz / rate_hz)`. The fast stream
//! (~164 samples per 50 Hz cycle) fills every bin within a few cycles; the sub-sampled
//! LaunchPad stream (~12 per cycle) reaches the bins because its phases walk across the cycle
//! from one cycle to the next (1 MHz / 1657 is deliberately not a multiple of the mains), so a
//! second of it covers the cycle except near stroboscopic frequencies (50.29, 60.35 Hz), where
//! [`widest_gap`] tells how much is missing.

/// The fractional part of `x` (`x.fract()`, the same value for every `x` below 2^63 in
/// magnitude), without the call to the C library's `trunc` that `fract` becomes on a target
/// without SSE4.1: a phase is taken per sample in every fold and segmentation, and that call
/// was 4 % of the default method's CPU time at 8196.7 Sa/s (`perf`).
#[inline]
pub fn fract(x: f64) -> f64 {
    // `as i64` truncates toward zero, as `trunc` does, for |x| < 2^63; beyond (or NaN) fall back.
    if x.abs() < 9.0e18 {
        x - ((x as i64) as f64).copysign(x)
    } else {
        x.fract()
    }
}

/// `x as usize`, for an index that is then clamped below 2^63 (a phase bin, a cycle): the same
/// index after the clamp (0 for NaN and below zero), by one signed conversion where the
/// unsigned one takes two and a fix-up, per sample in every fold and segmentation.
#[inline]
pub fn index_at(x: f64) -> usize {
    x.max(0.0) as i64 as usize
}

/// The bin of the phase `fract(x)` among `bins`: `index_at(fract(x) * bins).min(bins - 1)`, the
/// same bin for every `x`. For the phase of a sample (`x` at least 0) among a power of two of
/// bins it is the whole part of `x * bins` modulo `bins`: `x - trunc(x)` is exact, and so is
/// scaling by a power of two, so `fract(x) * bins` is `x * bins - trunc(x) * bins` exactly,
/// and its whole part that of `x * bins` less a multiple of `bins`. One conversion, where
/// the fractional part took two more: a sample's bin is taken in every fold.
#[inline]
pub fn phase_bin(x: f64, bins: usize) -> usize {
    let y = x * bins as f64;
    if bins.is_power_of_two() && (0.0..4.0e18).contains(&y) {
        (y as i64 as usize) & (bins - 1)
    } else {
        index_at(fract(x) * bins as f64).min(bins - 1)
    }
}

/// [`phase_bin`] of sample `k`'s phase `k * step` for every sample of a fold, with what it
/// asks of `bins` asked once: the scaling by a power of two of bins moves out of the
/// per-sample loop (exact: a power of two scales without rounding, so every sample falls in
/// the same bin as [`phase_bin`] puts it).
#[derive(Debug, Clone, Copy)]
struct SampleBins {
    step: f64,
    bins: usize,
    /// `step * bins` and `bins - 1` for a power of two of bins.
    scaled: Option<(f64, usize)>,
}

impl SampleBins {
    fn new(step: f64, bins: usize) -> Self {
        Self { step, bins, scaled: bins.is_power_of_two().then(|| (step * bins as f64, bins - 1)) }
    }

    #[inline]
    fn of(&self, k: usize) -> usize {
        // (`k` is an index, below 2^63: the signed conversion is the same number.)
        let x = k as i64 as f64;
        if let Some((scale, mask)) = self.scaled {
            let y = x * scale;
            if (0.0..4.0e18).contains(&y) {
                return (y as i64 as usize) & mask;
            }
        }
        phase_bin(x * self.step, self.bins)
    }
}

/// A window's codes folded into phase bins of the mains cycle. Phase 0 is the window's first
/// sample; nothing depends on where the cycle starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Folded {
    pub mains_hz: f64,
    /// Sum of the codes that fell in each bin.
    pub sum: Vec<f64>,
    /// How many codes fell in each bin (0: empty, which sub-sampled streams may leave).
    pub count: Vec<u32>,
    /// Sum of the squares of the codes that fell in each bin: their spread within the bin
    /// ([`crate::inversion::Inverter::invert`]). Kept by [`fold_at`] when asked; empty where
    /// the spread is not to be used.
    pub sum_sq: Vec<f64>,
    /// Highest code of the window.
    pub max_code: u16,
}

impl Folded {
    /// Mean code of bin `k`, `None` when empty.
    pub fn mean(&self, k: usize) -> Option<f64> {
        (self.count[k] > 0).then(|| self.sum[k] / f64::from(self.count[k]))
    }

    /// Every bin's mean, empty bins filled by linear interpolation between their filled
    /// neighbours (circularly): the cycle's waveform with each phase weighted equally, however
    /// unevenly the samples fell. `None` if no bin holds a sample.
    pub fn means_filled(&self) -> Option<Vec<f64>> {
        let n = self.count.len();
        let filled: Vec<usize> = (0..n).filter(|&k| self.count[k] > 0).collect();
        let first = *filled.first()?;
        let mut y: Vec<f64> = (0..n).map(|k| self.mean(k).unwrap_or(f64::NAN)).collect();
        let mut prev = *filled.last()?;
        for &k in filled.iter().chain(std::iter::once(&(first + n))) {
            let gap = (k + n - prev) % n;
            let gap = if gap == 0 { n } else { gap };
            let (a, b) = (y[prev], y[k % n]);
            for j in 1..gap {
                y[(prev + j) % n] = a + (b - a) * j as f64 / gap as f64;
            }
            prev = k % n;
        }
        Some(y)
    }

    /// The fold at half as many bins, for an even number of them: bin `b` holds what bins
    /// `2b` and `2b + 1` held. For codes (whole numbers, summed exactly below 2^53) and a
    /// power of two of bins, the fold of the same samples at half the bins to the bit: a
    /// phase's bin among `bins / 2` is its bin among `bins` halved ([`phase_bin`] is the whole
    /// part of the phase times the bins, and halving a power of two of them is exact), so each
    /// coarse bin holds the same codes, in another order that exact sums do not see.
    pub fn halved(&self) -> Folded {
        Folded {
            mains_hz: self.mains_hz,
            sum: self.sum.chunks_exact(2).map(|p| p[0] + p[1]).collect(),
            count: self.count.chunks_exact(2).map(|p| p[0] + p[1]).collect(),
            sum_sq: self.sum_sq.chunks_exact(2).map(|p| p[0] + p[1]).collect(),
            max_code: self.max_code,
        }
    }

    pub fn filled(&self) -> usize {
        self.count.iter().filter(|&&c| c > 0).count()
    }
}

/// Folds `codes`, sampled at `rate_hz`, into `bins` phase bins of one cycle at `mains_hz`:
/// sample k has phase `frac(k * mains_hz / rate_hz)`. Works the same for the fast stream
/// (~164 samples per 50 Hz cycle, each bin filled within a few cycles) and for the
/// sub-sampled LaunchPad stream (~12 per cycle, whose phases walk across the cycle from one
/// cycle to the next, so a second of them covers it). Folding over a non-integer number of
/// cycles only changes the bins' counts, which weight the fit.
pub fn fold(codes: &[u16], rate_hz: f64, mains_hz: f64, bins: usize) -> Folded {
    let mut folded = fold_indices(0..codes.len(), |k| f64::from(codes[k]), rate_hz, mains_hz, bins, false);
    folded.max_code = codes.iter().copied().max().unwrap_or(0);
    folded
}

/// [`fold`] of only the samples `k` for which `keep(k)` holds (one level class of a window),
/// each at its phase in the whole window.
pub fn fold_where(codes: &[u16], rate_hz: f64, mains_hz: f64, bins: usize, keep: impl Fn(usize) -> bool) -> Folded {
    let mut folded = fold_values(codes.len(), |k| f64::from(codes[k]), rate_hz, mains_hz, bins, &keep);
    folded.max_code = codes.iter().enumerate().filter(|&(k, _)| keep(k)).map(|(_, &c)| c).max().unwrap_or(0);
    folded
}

/// [`fold_where`] of any per-sample value (`value(k)` for sample `k` of `n`), e.g. the table
/// currents' squares, for a mean square with every phase weighted equally (`max_code` 0).
pub fn fold_values(
    n: usize,
    value: impl Fn(usize) -> f64,
    rate_hz: f64,
    mains_hz: f64,
    bins: usize,
    keep: impl Fn(usize) -> bool,
) -> Folded {
    fold_indices((0..n).filter(|&k| keep(k)), value, rate_hz, mains_hz, bins, false)
}

/// [`fold_at`] of any per-sample value (`values[k]` for sample `k`: fractional codes), without
/// squares (`max_code` 0).
pub fn fold_values_at(values: &[f64], rate_hz: f64, mains_hz: f64, bins: usize, at: &[usize]) -> Folded {
    fold_indices(at.iter().copied(), |k| values[k], rate_hz, mains_hz, bins, false)
}

/// [`fold`] of the samples at indices `at` (increasing) only: a class's samples listed once
/// and folded at several resolutions without asking of every sample of the window again
/// whether it belongs. With `squares`, it keeps the codes' squares ([`Folded::sum_sq`]), for
/// a reading that counts the bins' spread.
pub fn fold_at(codes: &[u16], rate_hz: f64, mains_hz: f64, bins: usize, at: &[usize], squares: bool) -> Folded {
    let mut folded = fold_indices(at.iter().copied(), |k| f64::from(codes[k]), rate_hz, mains_hz, bins, squares);
    folded.max_code = at.iter().map(|&k| codes[k]).max().unwrap_or(0);
    folded
}

/// The fold of `value(k)` over the samples `k` of `at`, with their squares if `squares`.
fn fold_indices(
    at: impl Iterator<Item = usize>,
    value: impl Fn(usize) -> f64,
    rate_hz: f64,
    mains_hz: f64,
    bins: usize,
    squares: bool,
) -> Folded {
    let bins = bins.max(1);
    let mut sum = vec![0.0; bins];
    let mut count = vec![0u32; bins];
    let mut sum_sq = vec![0.0; if squares { bins } else { 0 }];
    let bin = SampleBins::new(mains_hz / rate_hz, bins);
    for k in at {
        let b = bin.of(k);
        let v = value(k);
        sum[b] += v;
        count[b] += 1;
        if squares {
            sum_sq[b] += v * v;
        }
    }
    Folded { mains_hz, sum, count, sum_sq, max_code: 0 }
}

/// Phase bins [`phases_bunch`] looks at: a hole of two of them is 15 degrees.
const COVERAGE_BINS: usize = 48;

/// Whether `n` samples taken `step` mains cycles apart (mains frequency over sample rate)
/// leave a hole of 15 degrees or more in the phases they cover.
///
/// Why: the 9600-baud link's rate is not synchronous with the mains, so over a window its
/// samples walk across the whole cycle, which is what lets a window of whole cycles stand for
/// the waveform. Near a frequency at which the rate is a small multiple of the mains
/// (603.5 / 12 = 50.29 Hz, 603.5 / 10 = 60.35 Hz) the walk is too slow: a 1 s window's samples
/// fall on a dozen phases only. No fold of them shows a distorted waveform, a correction found
/// elsewhere cannot be checked against it, and the table's RMS over a dozen phases of a
/// narrow pulse is whatever those phases catch (a 0.54 A switch-mode supply read 70 % high at
/// 50.293 Hz, on the randomized loads goldens' dev half).
pub fn phases_bunch(n: usize, step: f64) -> bool {
    phase_gap(n, step, COVERAGE_BINS) > 2
}

/// The widest hole, in bins of `bins` to the cycle, that `n` samples taken `step` mains
/// cycles apart leave in the phases they cover ([`widest_gap`]: 1 when every bin is hit).
pub fn phase_gap(n: usize, step: f64, bins: usize) -> usize {
    // Steps shorter than a bin visit every bin of a cycle they go round (the fast stream's,
    // 164 a cycle): nothing to count.
    if step > 0.0 && step <= 0.9 / bins as f64 && n > 1 && (n - 1) as f64 * step >= 1.0 {
        return 1;
    }
    // Only which bins are hit matters, and once every one is, nothing more can change: the
    // fast stream's 8197 samples fill 360 bins within its first few dozen cycles, and walking
    // the rest was a twentieth of the default method's time at 8196.7 Sa/s (`perf`).
    let mut count = vec![0u32; bins];
    let (mut phase, mut filled) = (0.0f64, 0);
    // The walk is a chain, each phase waiting on the last: for a step in [0, 1) the phase
    // stays below 2, where `fract` is one subtraction of 1 (exact) or none, chosen.
    let simple = (0.0..1.0).contains(&step);
    for _ in 0..n {
        let b = &mut count[index_at(phase * bins as f64).min(bins - 1)];
        if *b == 0 {
            filled += 1;
            if filled == bins {
                return 1;
            }
        }
        *b += 1;
        let next = phase + step;
        phase = if !simple {
            fract(next)
        } else if next >= 1.0 {
            next - 1.0
        } else {
            next
        };
    }
    widest_gap(&count)
}

/// Whether a fold's bin counts (one cycle's) see enough of the cycle to be inverted: half its
/// bins filled, and no hole wider than a sixteenth of it (a few cycles of the sub-sampled
/// stream leave twelve clusters of phases). What a level class's fold and each cycle of a
/// pattern's fold ([`crate::pattern::fold`]) must show.
pub fn covers_cycle(count: &[u32]) -> bool {
    let bins = count.len();
    count.iter().filter(|&&n| n > 0).count() * 2 >= bins && widest_gap(count) * 16 <= bins
}

/// Bins from one filled bin to the next, at most, around the cycle (1 when all are filled,
/// the number of bins when one or none is).
pub fn widest_gap(count: &[u32]) -> usize {
    let n = count.len();
    let Some(first) = count.iter().position(|&c| c > 0) else {
        return n.max(1);
    };
    let (mut widest, mut last) = (1, first);
    for k in 1..=n {
        let i = (first + k) % n;
        if count[i] > 0 {
            let d = (i + n - last) % n;
            widest = widest.max(if d == 0 { n } else { d });
            last = i;
        }
    }
    widest
}

/// Harmonic `k` of one folded cycle given at bin centres (bin `i` at phase `(i + 0.5) / n`):
/// the sums `(sum p sin, sum p cos)` of `k` times the phase, so that `p ~ R sin(2 pi k theta +
/// psi)` gives `psi = atan2(cos sum, sin sum)`. The inverted cycle's zero crossing and its
/// distortion both read it.
pub fn harmonic(cycle: &[f64], k: usize) -> (f64, f64) {
    let n = cycle.len() as f64;
    cycle.iter().enumerate().fold((0.0, 0.0), |(a, b), (i, &v)| {
        let (s, c) = (std::f64::consts::TAU * k as f64 * (i as f64 + 0.5) / n).sin_cos();
        (a + v * s, b + v * c)
    })
}

/// Phase (mains cycles from the first bin's start, in [0, 1)) of the upward zero crossing
/// of the mains fundamental of a waveform given at bin centres over `cycles` mains cycles
/// (harmonic `cycles` of the fold): where a source's cycles begin.
pub fn rising_crossing(waveform: &[f64], cycles: usize) -> f64 {
    let (a, b) = harmonic(waveform, cycles);
    // The fundamental is R sin(2 pi cycles theta + psi), psi = atan2(b, a), theta in folds:
    // rising through zero where cycles theta = -psi / 2 pi, modulo whole mains cycles.
    (-b.atan2(a) / std::f64::consts::TAU).rem_euclid(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The phase bin is the fractional part's, for any value and number of bins.
    #[test]
    fn phase_bin_is_the_fractional_parts() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut values = vec![0.0, -0.0, 1.0, 0.999_999_999_999_999_9, 1e15 + 0.5, 1e17, 4e15, -0.25, -3.7];
        values.extend([f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e300, -1e300, f64::MIN_POSITIVE]);
        for i in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let k = (x >> 40) as f64;
            values.push(match i % 3 {
                0 => k * (50.0 / 8196.721311475409),
                1 => k * (60.35 / 603.5) + 0.37,
                _ => (x >> 11) as f64 / (1u64 << 53) as f64 * 2f64.powi(i % 80 - 20),
            });
        }
        for &v in &values {
            for bins in [1, 2, 48, 64, 128, 256, 360, 1024] {
                assert_eq!(phase_bin(v, bins), index_at(fract(v) * bins as f64).min(bins - 1), "{v} in {bins}");
            }
        }
    }

    /// The index is the unsigned conversion's, once clamped, for any value.
    #[test]
    fn index_at_is_the_clamped_conversion() {
        let top = 255;
        for x in [0.0, -0.0, 0.5, 1.0, 254.99999999999997, 255.0, 300.7, -1.0, -1e300, 1e19, 1e300, f64::NAN]
            .into_iter()
            .chain((-2000..2000).map(|k| k as f64 * 0.173))
            .chain([f64::INFINITY, f64::NEG_INFINITY])
        {
            assert_eq!(index_at(x).min(top), (x as usize).min(top), "{x}");
        }
    }

    /// The fractional part is `f64::fract`'s, for phases and beyond.
    #[test]
    fn fract_is_f64_fract() {
        for k in -4000..4000 {
            for x in [k as f64 * 0.37, k as f64 * 1e-3 + 1e-12, k as f64 * 1e12 + 0.5, -0.0] {
                assert_eq!(fract(x).to_bits(), x.fract().to_bits(), "{x}");
            }
        }
        for x in [f64::NAN, 1e300, -1e300, 2f64.powi(62) + 1024.0] {
            assert_eq!(fract(x).is_nan(), x.fract().is_nan(), "{x}");
            if !x.is_nan() {
                assert_eq!(fract(x).to_bits(), x.fract().to_bits(), "{x}");
            }
        }
    }

    #[test]
    fn phases_bunch_near_a_submultiple_of_the_slow_rate_only() {
        let (slow, fast) = (1e6 / 1657.0, 1e6 / 122.0);
        // 603.5 / 12 = 50.29 Hz and 603.5 / 10 = 60.35 Hz: a 1 s window covers a dozen phases.
        assert!(phases_bunch(603, 50.293 / slow));
        assert!(phases_bunch(603, 60.35 / slow));
        // 0.2 Hz away the walk covers the cycle within the window.
        for hz in [50.0, 50.1, 49.8, 60.0, 59.9, 45.0, 65.0] {
            assert!(!phases_bunch(603, hz / slow), "{hz} Hz");
        }
        for hz in [50.293, 60.35, 50.0, 45.0, 65.0] {
            assert!(!phases_bunch(8197, hz / fast), "{hz} Hz");
        }
        // Fewer samples than a cycle leave a hole at any rate; one more than a cycle's, none.
        assert!(phases_bunch(100, 50.0 / fast));
        assert!(phases_bunch(120, 50.0 / fast));
        assert!(!phases_bunch(166, 50.0 / fast));
    }

    /// The fast stream fills every bin evenly within a second; the sub-sampled one (12 samples
    /// per cycle) still reaches nearly every bin because its phases walk from cycle to cycle.
    /// Each sample lands in the bin of its phase.
    #[test]
    fn folding_covers_the_cycle_at_both_rates() {
        for (rate, hz, min_filled) in [(1e6 / 122.0, 50.0, 256), (1e6 / 122.0, 60.0, 256), (1e6 / 1657.0, 50.0, 200)] {
            let n = rate as usize;
            // Code = 100 + bin of the sample's phase, so every bin's mean is exact.
            let codes: Vec<u16> = (0..n).map(|k| 100 + ((k as f64 * (hz / rate)).fract() * 256.0) as u16).collect();
            let f = fold(&codes, rate, hz, 256);
            assert!(f.filled() >= min_filled, "rate {rate} hz {hz}: {} bins filled", f.filled());
            for k in 0..256 {
                if let Some(m) = f.mean(k) {
                    assert_eq!(m, 100.0 + k as f64);
                }
            }
            assert_eq!(f.count.iter().sum::<u32>() as usize, n);
        }
    }

    /// A fold halved is the fold of the same samples at half the bins, to the bit, at both
    /// rates and for a subset of the samples (a class's).
    #[test]
    fn a_halved_fold_is_the_fold_at_half_the_bins() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for (rate, hz) in [(1e6 / 122.0, 50.0), (1e6 / 122.0, 60.13), (1e6 / 1657.0, 50.293), (1e6 / 1657.0, 49.9)] {
            let n = rate as usize;
            let codes: Vec<u16> = (0..n)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    (x >> 48) as u16
                })
                .collect();
            let at: Vec<usize> = (0..n).filter(|k| k % 7 != 3).collect();
            let mut finer = fold_at(&codes, rate, hz, 256, &at, true);
            for bins in [128, 64, 32] {
                let halved = finer.halved();
                assert_eq!(halved, fold_at(&codes, rate, hz, bins, &at, true), "{rate} Sa/s, {hz} Hz, {bins} bins");
                finer = halved;
            }
        }
    }

    #[test]
    fn widest_gap_between_filled_bins() {
        assert_eq!(widest_gap(&[1, 1, 1, 1]), 1);
        assert_eq!(widest_gap(&[1, 0, 0, 1, 1, 0]), 3);
        assert_eq!(widest_gap(&[0, 1, 1, 0, 0, 0]), 5);
        assert_eq!(widest_gap(&[0, 0, 1, 0]), 4);
        assert_eq!(widest_gap(&[0, 0, 0]), 3);
    }

    #[test]
    fn empty_bins_are_interpolated_around_the_cycle() {
        let f = Folded {
            mains_hz: 50.0,
            sum: vec![0.0, 10.0, 0.0, 0.0, 40.0, 0.0],
            count: vec![0, 1, 0, 0, 1, 0],
            sum_sq: Vec::new(),
            max_code: 40,
        };
        let y = f.means_filled().unwrap();
        assert_eq!(y, vec![20.0, 10.0, 20.0, 30.0, 40.0, 30.0]);
    }

    /// A cycle of `2 sin(2 pi theta + 0.3)` has harmonic 1 of amplitude `n` at phase 0.3, and
    /// no harmonic 2.
    #[test]
    fn harmonic_of_a_sine() {
        let n = 256;
        let cycle: Vec<f64> =
            (0..n).map(|i| 2.0 * (std::f64::consts::TAU * (i as f64 + 0.5) / n as f64 + 0.3).sin()).collect();
        let (a, b) = harmonic(&cycle, 1);
        assert!(((a * a + b * b).sqrt() / n as f64 - 1.0).abs() < 1e-12);
        assert!((b.atan2(a) - 0.3).abs() < 1e-12);
        let (a2, b2) = harmonic(&cycle, 2);
        assert!(a2.hypot(b2) < 1e-9);
    }
}
