//! Simulated waveforms and their uniform resampling.
//!
//! ngspice chooses its own time points (denser at diode turn-on), but the goldens and the
//! calibration need samples on an exact grid locked to the mains cycle. Linear interpolation
//! is enough because the runs cap the internal step at a small fraction of the sample period.

/// Named columns sharing one time axis.
#[derive(Debug, Clone, PartialEq)]
pub struct Trace {
    pub names: Vec<String>,
    pub time: Vec<f64>,
    pub columns: Vec<Vec<f64>>,
}

impl Trace {
    pub fn column(&self, name: &str) -> Option<&[f64]> {
        self.names.iter().position(|n| n == name).map(|k| self.columns[k].as_slice())
    }

    /// Values of column `name` at `t0 + k * dt` for `k` in `0..n`, linearly interpolated.
    /// Returns `None` if the column is missing or the grid leaves the simulated span.
    pub fn resample(&self, name: &str, t0: f64, dt: f64, n: usize) -> Option<Vec<f64>> {
        let col = self.column(name)?;
        let first = *self.time.first()?;
        let last = *self.time.last()?;
        let end = t0 + dt * (n.saturating_sub(1)) as f64;
        // Allow rounding slack of a nanosecond at the ends.
        if t0 < first - 1e-9 || end > last + 1e-9 {
            return None;
        }
        let mut out = Vec::with_capacity(n);
        let mut j = 0usize;
        for k in 0..n {
            let t = t0 + dt * k as f64;
            while j + 2 < self.time.len() && self.time[j + 1] < t {
                j += 1;
            }
            let (ta, tb) = (self.time[j], self.time[(j + 1).min(self.time.len() - 1)]);
            let (a, b) = (col[j], col[(j + 1).min(col.len() - 1)]);
            let v = if tb > ta {
                let x = ((t - ta) / (tb - ta)).clamp(0.0, 1.0);
                a + (b - a) * x
            } else {
                b
            };
            out.push(v);
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp() -> Trace {
        // Non-uniform time points on v = 2 t.
        let time = vec![0.0, 0.1, 0.15, 0.7, 1.0];
        let v = time.iter().map(|t| 2.0 * t).collect();
        Trace { names: vec!["v".into()], time, columns: vec![v] }
    }

    #[test]
    fn resamples_linear_signal_exactly() {
        let got = ramp().resample("v", 0.0, 0.25, 5).expect("in range");
        let want = [0.0, 0.5, 1.0, 1.5, 2.0];
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-12, "{got:?}");
        }
    }

    #[test]
    fn refuses_grid_outside_trace_or_unknown_column() {
        assert!(ramp().resample("v", 0.5, 0.25, 4).is_none());
        assert!(ramp().resample("w", 0.0, 0.1, 2).is_none());
    }
}
