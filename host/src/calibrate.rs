//! User calibration from reference readings: the files and arguments around
//! [`ct_core::identify`], which holds the computation and its theory.
//!
//! The user measures one or more loads with a trusted meter and gives, for each, either a
//! recording made meanwhile (`capture.bin=10.05`) or the reading `ct-read` showed
//! (`9.87=10.05`). Two recordings of resistive loads at currents a factor of 2.5 or more
//! apart identify the clamp (magnetizing inductance and gain); otherwise the table is
//! rescaled by level-dependent gains. Either way every point is re-read through the new table
//! and the residuals are reported.

use std::path::{Path, PathBuf};

pub use ct_core::identify::Outcome;
use ct_core::identify::{self, BareReading, IdentifyError, LmFit, Reference};

use crate::calibration::Calibration;
use crate::estimate::EstimatorConfig;
use crate::meter::Event;
use crate::replay::{self, ReplayError};

/// One reference measurement.
#[derive(Debug, Clone, PartialEq)]
pub enum Evidence {
    /// A recording (byte stream or CSV of codes) made while the reference meter showed the
    /// given RMS current.
    Recording(PathBuf),
    /// The RMS current `ct-read` showed with the base table.
    Reading(f64),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub evidence: Evidence,
    /// The reference meter's RMS current, A.
    pub reference_a: f64,
}

impl std::str::FromStr for Point {
    type Err = String;
    /// `FILE=AMPS` or `READING=AMPS`.
    fn from_str(s: &str) -> Result<Self, String> {
        let (left, right) = s.rsplit_once('=').ok_or_else(|| format!("`{s}`: expected FILE=AMPS or READING=AMPS"))?;
        let reference_a: f64 = right
            .trim()
            .parse()
            .ok()
            .filter(|a: &f64| a.is_finite() && *a > 0.0)
            .ok_or_else(|| format!("`{s}`: reference `{right}` is not a positive current in A"))?;
        let evidence = match left.trim().parse::<f64>() {
            Ok(r) if r.is_finite() && r > 0.0 => Evidence::Reading(r),
            Ok(_) => return Err(format!("`{s}`: reading `{left}` is not a positive current in A")),
            Err(_) => Evidence::Recording(PathBuf::from(left)),
        };
        Ok(Point { evidence, reference_a })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CalibrateError {
    #[error(transparent)]
    Recording(#[from] ReplayError),
    #[error(transparent)]
    Points(#[from] IdentifyError),
    #[error(
        "point `{point}`: {} A is outside what the table measures ({} to {} A RMS)\nhelp: give currents in A \
         within that range",
        shown(*amps), shown(range.0), shown(range.1)
    )]
    OutOfRange { point: String, amps: f64, range: (f64, f64) },
    #[error(transparent)]
    Place(#[from] crate::place::PlaceError),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// One point's evidence as the computation reads it: a recording replayed from its file, or
/// a bare reading synthesised through the base table.
enum Probe {
    Recording { path: PathBuf, reference_a: f64, rate: Option<f64>, warning: std::cell::RefCell<Option<String>> },
    Reading(BareReading),
}

impl Reference for Probe {
    type Error = CalibrateError;
    fn label(&self) -> String {
        match self {
            Probe::Recording { path, .. } => path.display().to_string(),
            Probe::Reading(r) => r.label(),
        }
    }
    fn reference_a(&self) -> f64 {
        match self {
            Probe::Recording { reference_a, .. } => *reference_a,
            Probe::Reading(r) => r.reference_a(),
        }
    }
    fn is_recording(&self) -> bool {
        matches!(self, Probe::Recording { .. })
    }
    /// The mean of the recording's full, clean windows, as `ct-read analyze` reads them.
    fn read(&self, cal: &Calibration, cfg: EstimatorConfig) -> Result<f64, CalibrateError> {
        let Probe::Recording { path, rate, warning: told, .. } = self else {
            let Probe::Reading(r) = self else { unreachable!() };
            return Ok(r.read(cal, cfg)?);
        };
        let mut readings = Vec::new();
        let warning = replay::readings(path, cal.clone(), cfg, *rate, &mut |_| true, &mut |e, _| {
            if let Event::Reading(r) = e {
                if r.duration_s >= 0.9 * cfg.window_s && !r.flags.gap && !r.flags.over_range {
                    readings.push(r.irms_a);
                }
            }
        })?;
        // A torn capture tail is told once at the end, not at every reading of the search.
        if warning.is_some() {
            *told.borrow_mut() = warning;
        }
        if readings.is_empty() {
            return Err(IdentifyError::NoReadings(self.label()).into());
        }
        Ok(readings.iter().sum::<f64>() / readings.len() as f64)
    }
}

/// A current as typed, not as 300 digits.
fn shown(a: f64) -> String {
    if a.is_finite() && a != 0.0 && !(1e-3..1e6).contains(&a.abs()) {
        format!("{a:e}")
    } else {
        crate::sink::format::significant(a, 3)
    }
}

/// The RMS currents `cal` can tell apart, A: from a sine whose peak reaches the first code
/// above zero to one whose peak reaches full scale (at 50 Hz). A point outside it says nothing
/// about the table (a reading of 10 uA is below one ADC step) and would only drive the fit to
/// a table that reads every real load wrong.
pub fn measurable_range(cal: &Calibration) -> (f64, f64) {
    let lut = cal.lut_at(Some(50.0));
    let step = lut.get(usize::from(cal.zero_code()) + 1).copied().unwrap_or(f32::MAX);
    let full = lut.last().copied().unwrap_or(0.0);
    (f64::from(step) / std::f64::consts::SQRT_2, f64::from(full) / std::f64::consts::SQRT_2)
}

/// Refuses points the table cannot have measured: the reference meter's current, and a bare
/// reading, must be within [`measurable_range`].
fn check_points(base: &Calibration, points: &[Point]) -> Result<(), CalibrateError> {
    let range = measurable_range(base);
    for p in points {
        let reading = match p.evidence {
            Evidence::Reading(r) => Some(r),
            Evidence::Recording(_) => None,
        };
        for amps in reading.into_iter().chain([p.reference_a]) {
            if !(range.0..=range.1).contains(&amps) {
                let point = match &p.evidence {
                    Evidence::Reading(r) => format!("{}={}", shown(*r), shown(p.reference_a)),
                    Evidence::Recording(f) => format!("{}={}", f.display(), shown(p.reference_a)),
                };
                return Err(CalibrateError::OutOfRange { point, amps, range });
            }
        }
    }
    Ok(())
}

/// Identifies the clamp (or fits level gains) from the points (`ct_core::identify`) and
/// returns the new table (not yet written), with each point's residual in the order given.
pub fn calibrate(
    base: &Calibration,
    points: &[Point],
    cfg: EstimatorConfig,
    rate: Option<f64>,
    out_name: &str,
    mut progress: impl FnMut(&str),
) -> Result<Outcome, CalibrateError> {
    check_points(base, points)?;
    let probes: Vec<Probe> = points
        .iter()
        .map(|p| match p.evidence {
            Evidence::Recording(ref path) => {
                Probe::Recording { path: path.clone(), reference_a: p.reference_a, rate, warning: Default::default() }
            }
            Evidence::Reading(r) => Probe::Reading(BareReading::new(base, cfg, r, p.reference_a)),
        })
        .collect();
    let outcome = identify::calibrate(base, &probes, cfg, out_name, &mut progress)?;
    for p in &probes {
        if let Probe::Recording { warning, .. } = p {
            if let Some(w) = warning.take() {
                progress(&format!("warning: {w}"));
            }
        }
    }
    Ok(outcome)
}

/// The clamp's inductance from the waveform of a resistive load recorded in `path` (no
/// reference meter: [`identify::lm_from_waveform`]), read from its longest run of samples.
pub fn lm_from_recording(path: &Path, base: &Calibration, rate: Option<f64>) -> Result<LmFit, CalibrateError> {
    let mut longest: (f64, Vec<u16>) = (0.0, Vec::new());
    let mut current: (f64, Vec<u16>, u64) = (0.0, Vec::new(), 0);
    replay::samples(path, base, rate, &mut |_| true, &mut |_| {}, &mut |run, _| {
        // Runs that follow each other without a hole are one stretch of the waveform.
        if run.rate_hz != current.0 || run.index != current.2 {
            if current.1.len() > longest.1.len() {
                longest = (current.0, std::mem::take(&mut current.1));
            }
            current = (run.rate_hz, Vec::new(), run.index);
        }
        current.1.extend_from_slice(run.codes);
        current.2 = run.index + run.codes.len() as u64;
        true
    })?;
    if current.1.len() > longest.1.len() {
        longest = (current.0, current.1);
    }
    let label = path.display().to_string();
    if longest.1.is_empty() {
        return Err(IdentifyError::NoReadings(label).into());
    }
    Ok(identify::lm_from_waveform(&label, &longest.1, longest.0)?)
}

/// Writes the table atomically (temporary file, then rename), so an interrupted run never
/// leaves a half-written table where a good one was; a pipe or device is written in place,
/// never replaced ([`crate::place`]).
pub fn write_table(path: &Path, text: &str) -> Result<(), CalibrateError> {
    use std::io::Write;
    let placement = crate::place::placement(path, ".tmp")?;
    let (mut file, written) = crate::place::create(path, &placement)?;
    file.write_all(text.as_bytes()).map_err(|source| CalibrateError::Write { path: written, source })?;
    Ok(crate::place::finish(&placement)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_points() {
        assert_eq!(
            "9.87=10.05".parse::<Point>().unwrap(),
            Point { evidence: Evidence::Reading(9.87), reference_a: 10.05 }
        );
        assert_eq!(
            "cap.bin=2".parse::<Point>().unwrap(),
            Point { evidence: Evidence::Recording("cap.bin".into()), reference_a: 2.0 }
        );
        assert!("x".parse::<Point>().unwrap_err().contains("expected FILE=AMPS"));
        assert!("1=-2".parse::<Point>().unwrap_err().contains("not a positive current"));
    }

    /// Points below one ADC step or above full scale are refused with the range, before any
    /// fitting (`1e-5=1e-5` used to panic, then to write a table 25 % off at its own point).
    #[test]
    fn points_outside_the_measurable_range_are_refused() {
        let base = Calibration::builtin();
        let (lo, hi) = measurable_range(&base);
        assert!(lo > 0.01 && lo < 0.1 && hi > 90.0 && hi < 120.0, "{lo} {hi}");
        for point in ["1e-5=1e-5", "5=1e-5", "1e-5=5", "500=500", "rec.bin=0.001"] {
            let points = [point.parse::<Point>().unwrap()];
            let e = calibrate(&base, &points, EstimatorConfig::default(), None, "t.csv", |_| {}).err().unwrap();
            assert!(matches!(e, CalibrateError::OutOfRange { .. }), "{point}: {e}");
            assert!(e.to_string().contains("is outside what the table measures"), "{point}: {e}");
        }
        let e = calibrate(&base, &["1e-5=1e-5".parse().unwrap()], EstimatorConfig::default(), None, "t", |_| {})
            .err()
            .unwrap()
            .to_string();
        assert!(e.starts_with("point `1e-5=1e-5`: 1e-5 A is outside"), "{e}");
    }

    /// A code CSV (as `ct-read analyze` reads it) of 3 s of a `rms` A sine at the fast
    /// profile's rate from a clamp of inductance `lm`, simulated by the clamp model.
    fn clamp_csv(lm: f64, rms: f64) -> String {
        use ct_core::clamp_model::CtModel;
        let model = CtModel::with_lm(lm).unwrap();
        let rate = ct_wire::profile::FAST.rate_hz();
        let n = 400;
        let v = model.sine_codes(rms, 50.0, n);
        let mut text = String::from("t_s,code\n");
        for k in 0..(3.0 * rate) as usize {
            let x = ((k as f64 / rate * 50.0).fract() * n as f64) as usize % n;
            let code = v[x].round();
            text.push_str(&format!("{:.7},{code}\n", k as f64 / rate));
        }
        text
    }

    /// Two recordings of resistive loads (code CSVs) from a clamp of 2 H: the files identify
    /// the clamp, the messages say so, and the table written for it reads a third recording
    /// right where the built-in one reads it 5 % high or more.
    #[test]
    fn two_recorded_files_identify_the_clamp() {
        let dir = tempfile::tempdir().unwrap();
        let file = |name: &str, rms: f64| {
            let path = dir.path().join(name);
            std::fs::write(&path, clamp_csv(2.0, rms)).unwrap();
            path
        };
        let points = [(file("lamp.csv", 1.5), 1.5), (file("kettle.csv", 15.0), 15.0)]
            .map(|(path, reference_a)| Point { evidence: Evidence::Recording(path), reference_a });
        let mut said = Vec::new();
        let cfg = EstimatorConfig::default();
        let base = Calibration::builtin();
        let out = calibrate(&base, &points, cfg, None, "mine.csv", |m| said.push(m.to_owned())).unwrap();
        let fit = out.clamp.expect("identified");
        assert!(fit.range_h.0 <= 2.0 && 2.0 <= fit.range_h.1, "{fit:?}");
        assert!(said.iter().any(|m| m.contains("magnetizing inductance") && m.contains("identified")), "{said:?}");
        assert!(out.text.contains("# clamp_lm_h: ") && out.text.contains("# clamp_gain: "));
        let third = file("heater.csv", 6.0);
        let read = |cal: &Calibration| {
            Probe::Recording { path: third.clone(), reference_a: 6.0, rate: None, warning: Default::default() }
                .read(cal, cfg)
                .unwrap()
        };
        let (before, after) = (read(&base), read(&out.table));
        assert!(before / 6.0 - 1.0 > 0.05, "the built-in model reads {before} A");
        assert!((after / 6.0 - 1.0).abs() < 0.005, "the identified clamp reads {after} A");
    }

    /// A recording of one resistive load above the knee identifies the inductance from its
    /// waveform alone; one below it says it cannot.
    #[test]
    fn a_resistive_recording_alone_gives_the_inductance() {
        let dir = tempfile::tempdir().unwrap();
        let kettle = dir.path().join("kettle.csv");
        std::fs::write(&kettle, clamp_csv(2.0, 12.0)).unwrap();
        let fit = lm_from_recording(&kettle, &Calibration::builtin(), None).unwrap();
        assert!(fit.range_h.0 <= 2.0 && 2.0 <= fit.range_h.1 && fit.range_h.1 < 4.0, "{fit:?}");
        let lamp = dir.path().join("lamp.csv");
        std::fs::write(&lamp, clamp_csv(2.0, 1.0)).unwrap();
        let e = lm_from_recording(&lamp, &Calibration::builtin(), None).unwrap_err();
        assert!(matches!(e, CalibrateError::Points(IdentifyError::ShapeSilent(_))), "{e}");
    }
}
