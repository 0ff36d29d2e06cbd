//! Golden waveforms from the SPICE models (`golden/data/`, written by `spicegen`), turned into
//! the ADC codes the firmware would stream at each link profile's sample rate, and the two
//! estimators compared on them: this project's and the naive one a user would otherwise pick.
//!
//! Everything a test compares against comes from `golden/data/manifest.csv`, whose true RMS
//! values are computed from the *source* current waveforms, never from the model's output.

use std::path::{Path, PathBuf};

pub mod loads;
pub mod random;
pub mod report;
pub mod stimulus;

/// The firmware's link profiles: name and sample rate (`ct_wire::profile`, which the firmware
/// builds from).
pub const PROFILES: [(&str, f64); 2] =
    [("launchpad", ct_wire::profile::LAUNCHPAD.rate_hz()), ("fast", ct_wire::profile::FAST.rate_hz())];

/// ADC full scale: the MSP430G2553's internal 2.5 V reference, 10 bits.
pub const ADC_REF_MV: f64 = 2500.0;

/// Seconds of steady-state waveform fed to the estimator per case (tiled from the golden's
/// whole cycles).
pub const STEADY_SECONDS: f64 = 5.0;

/// Sampling starts at this offset from the golden's phase 0, so no case is aligned with the
/// mains by luck.
pub const START_OFFSET_S: f64 = 0.001_234;

pub fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data")
}

#[derive(Debug, thiserror::Error)]
pub enum GoldenError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}: {msg}")]
    Invalid { path: PathBuf, line: usize, msg: String },
    /// The goldens lack a record a study needs, or the study failed on them.
    #[error("{0}")]
    Study(String),
}

/// One row of `manifest.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    pub case: String,
    pub file: String,
    pub kind: String,
    pub mains_hz: f64,
    pub points_per_cycle: usize,
    pub cycles: usize,
    pub true_rms_a: f64,
    /// For the step case: RMS before and after, and the cycle the step happens at.
    pub step: Option<(f64, f64, usize)>,
}

pub fn manifest() -> Result<Vec<Case>, GoldenError> {
    let path = golden_dir().join("manifest.csv");
    let text = std::fs::read_to_string(&path).map_err(|source| GoldenError::Io { path: path.clone(), source })?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        let bad = |msg: String| GoldenError::Invalid { path: path.clone(), line: i + 1, msg };
        let f: Vec<&str> = line.split(',').collect();
        if f.len() != 10 {
            return Err(bad(format!("expected 10 columns, found {}", f.len())));
        }
        let num = |s: &str| s.parse::<f64>().map_err(|_| bad(format!("`{s}` is not a number")));
        let step = if f[2] == "step" { Some((num(f[7])?, num(f[8])?, num(f[9])? as usize)) } else { None };
        out.push(Case {
            case: f[0].into(),
            file: f[1].into(),
            kind: f[2].into(),
            mains_hz: num(f[3])?,
            points_per_cycle: num(f[4])? as usize,
            cycles: num(f[5])? as usize,
            true_rms_a: num(f[6])?,
            step,
        });
    }
    Ok(out)
}

/// A golden waveform: ADC-input voltage, uniformly sampled at `points_per_cycle` per mains
/// cycle, starting at phase 0 of the source current.
#[derive(Debug, Clone)]
pub struct Waveform {
    pub mains_hz: f64,
    pub points_per_cycle: usize,
    pub millivolts: Vec<f64>,
    /// Steady-state files hold whole cycles and are tiled; the step file is played once.
    pub periodic: bool,
}

impl Waveform {
    pub fn load(case: &Case) -> Result<Self, GoldenError> {
        let path = golden_dir().join(&case.file);
        let text = std::fs::read_to_string(&path).map_err(|source| GoldenError::Io { path: path.clone(), source })?;
        let mut millivolts = Vec::new();
        for (i, l) in text.lines().enumerate() {
            if l.starts_with('#') || l.trim().is_empty() {
                continue;
            }
            let v: f64 = l.trim().parse().map_err(|_| GoldenError::Invalid {
                path: path.clone(),
                line: i + 1,
                msg: format!("`{l}` is not a voltage in mV"),
            })?;
            millivolts.push(v);
        }
        let want = case.points_per_cycle * case.cycles;
        if millivolts.len() != want {
            return Err(GoldenError::Invalid {
                path,
                line: 0,
                msg: format!(
                    "{} values, manifest says {} cycles x {} points",
                    millivolts.len(),
                    case.cycles,
                    case.points_per_cycle
                ),
            });
        }
        Ok(Waveform {
            mains_hz: case.mains_hz,
            points_per_cycle: case.points_per_cycle,
            millivolts,
            periodic: case.step.is_none(),
        })
    }

    /// Seconds of waveform available (unbounded for periodic ones).
    pub fn span_s(&self) -> f64 {
        if self.periodic {
            f64::INFINITY
        } else {
            self.millivolts.len() as f64 / self.points_per_cycle as f64 / self.mains_hz
        }
    }

    /// Voltage at time `t`, linearly interpolated between the golden's points.
    pub fn mv_at(&self, t: f64) -> f64 {
        let n = self.millivolts.len();
        let x = t * self.mains_hz * self.points_per_cycle as f64;
        let (i, frac) = (x.floor() as usize, x - x.floor());
        let (a, b) = if self.periodic {
            (self.millivolts[i % n], self.millivolts[(i + 1) % n])
        } else {
            (self.millivolts[i.min(n - 1)], self.millivolts[(i + 1).min(n - 1)])
        };
        a + (b - a) * frac
    }

    /// ADC10 codes at `rate_hz` for `seconds`: `round(1023 * V / Vref)`, clipped to 0..=1023
    /// (MSP430x2xx user's guide, ADC10 conversion formula).
    pub fn codes(&self, rate_hz: f64, seconds: f64) -> Vec<u16> {
        let n = (seconds * rate_hz).floor() as usize;
        (0..n)
            .map(|k| {
                let v = self.mv_at(START_OFFSET_S + k as f64 / rate_hz);
                (1023.0 * v / ADC_REF_MV).round().clamp(0.0, 1023.0) as u16
            })
            .collect()
    }
}

/// The naive method (EmonLib style): per window, remove the DC offset (the window's mean
/// code) and take the RMS of the raw codes; the caller multiplies by one constant.
pub fn naive_rms_codes(codes: &[u16], rate_hz: f64, window_s: f64) -> Vec<f64> {
    let len = (window_s * rate_hz).round() as usize;
    codes
        .chunks(len)
        .filter(|w| w.len() == len)
        .map(|w| {
            let mean = w.iter().map(|&c| c as f64).sum::<f64>() / w.len() as f64;
            (w.iter().map(|&c| (c as f64 - mean).powi(2)).sum::<f64>() / w.len() as f64).sqrt()
        })
        .collect()
}
