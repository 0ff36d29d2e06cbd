//! Folding: a window's codes summed into phase bins of one mains cycle.
//!
//! Sample k of a stream at `rate_hz` has phase `frac(k * mains_hz / rate_hz)`. The fast stream
//! (~164 samples per 50 Hz cycle) fills every bin within a few cycles; the sub-sampled
//! LaunchPad stream (~12 per cycle) reaches the bins because its phases walk across the cycle
//! from one cycle to the next (1 MHz / 1657 is deliberately not a multiple of the mains), so a
//! second of it covers the cycle except near stroboscopic frequencies (50.29, 60.35 Hz), where
//! [`widest_gap`] tells how much is missing.

/// A window's codes folded into phase bins of the mains cycle. Phase 0 is the window's first
/// sample; nothing depends on where the cycle starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Folded {
    pub mains_hz: f64,
    /// Sum of the codes that fell in each bin.
    pub sum: Vec<f64>,
    /// How many codes fell in each bin (0: empty, which sub-sampled streams may leave).
    pub count: Vec<u32>,
    /// Highest code of the window.
    pub max_code: u16,
}

impl Folded {
    /// Mean code of bin `k`, `None` when empty.
    pub fn mean(&self, k: usize) -> Option<f64> {
        (self.count[k] > 0).then(|| self.sum[k] / f64::from(self.count[k]))
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
    let bins = bins.max(1);
    let mut sum = vec![0.0; bins];
    let mut count = vec![0u32; bins];
    let step = mains_hz / rate_hz;
    let mut max_code = 0;
    for (k, &c) in codes.iter().enumerate() {
        let phase = (k as f64 * step).fract();
        let b = ((phase * bins as f64) as usize).min(bins - 1);
        sum[b] += f64::from(c);
        count[b] += 1;
        max_code = max_code.max(c);
    }
    Folded { mains_hz, sum, count, max_code }
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

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn widest_gap_between_filled_bins() {
        assert_eq!(widest_gap(&[1, 1, 1, 1]), 1);
        assert_eq!(widest_gap(&[1, 0, 0, 1, 1, 0]), 3);
        assert_eq!(widest_gap(&[0, 1, 1, 0, 0, 0]), 5);
        assert_eq!(widest_gap(&[0, 0, 1, 0]), 4);
        assert_eq!(widest_gap(&[0, 0, 0]), 3);
    }
}
