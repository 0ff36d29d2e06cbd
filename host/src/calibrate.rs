//! User calibration: adjust a table from reference readings.
//!
//! A real clamp departs from the model (turns ratio 1350 vs 1410, magnetising inductance,
//! diode spread, bias drift). The user measures one or more loads with a trusted meter and
//! gives, for each, either a recording made meanwhile (`capture.bin=10.05`) or the reading
//! `ct-read` showed (`9.87=10.05`). The table's currents are then multiplied by a gain that
//! depends on the current level the base table reads: piecewise linear in log(current) through
//! the points' readings, constant outside them (one point: a plain scale factor). The gains are refined until
//! re-estimating every point with the new table reproduces its reference, and the residuals
//! are reported.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::calibration::{Calibration, MAGIC};
use crate::estimate::{Estimator, EstimatorConfig, Method};
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
    #[error("{0}: no usable reading (every window was flagged, or the recording is too short)")]
    NoReadings(String),
    #[error("two points at almost the same current ({0:.3} A and {1:.3} A) with different gains; keep one")]
    Conflicting(f64, f64),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// One point's outcome.
#[derive(Debug, Clone)]
pub struct Residual {
    pub point: Point,
    pub before_a: f64,
    pub after_a: f64,
}

/// The result: the new table and how well it reproduces each point.
pub struct Outcome {
    pub table: Calibration,
    pub text: String,
    pub residuals: Vec<Residual>,
}

/// Sample rate used to synthesise a sine for a bare reading (the fast profile's).
const SYNTH_RATE_HZ: f64 = 1_000_000.0 / 122.0;

/// What one point's evidence reads through a table.
struct Probe {
    point: Point,
    /// For a bare reading: the codes of a 50 Hz sine that reads `reading` through the base
    /// table (the sensor's response, which the new table must not change).
    codes: Option<Vec<u16>>,
}

impl Probe {
    /// The mean of the full, clean windows, and any warning about the recording (a torn
    /// capture tail that was skipped).
    fn read(
        &self,
        cal: &Calibration,
        cfg: EstimatorConfig,
        rate: Option<f64>,
    ) -> Result<(f64, Option<String>), CalibrateError> {
        let mut readings = Vec::new();
        let mut warning = None;
        let mut keep = |e: Event| {
            if let Event::Reading(r) = e {
                if r.duration_s >= 0.9 * cfg.window_s && !r.flags.gap && !r.flags.over_range {
                    readings.push(r.irms_a);
                }
            }
        };
        match (&self.point.evidence, &self.codes) {
            (Evidence::Recording(p), _) => {
                warning = replay::readings(p, cal.clone(), cfg, rate, &mut |_| true, &mut |e, _| keep(e))?;
            }
            (Evidence::Reading(_), Some(codes)) => {
                // A bare reading is modelled as a sine through the table, so the table alone
                // reads it (the fit method applies a table as the same ratio).
                let cfg = EstimatorConfig { method: Method::Table, ..cfg };
                let mut est = Estimator::new(cal, SYNTH_RATE_HZ, cfg);
                est.push(0.0, codes, &mut |r| keep(Event::Reading(r)));
            }
            (Evidence::Reading(_), None) => unreachable!("bare readings are synthesised in Probe::new"),
        }
        if readings.is_empty() {
            return Err(CalibrateError::NoReadings(self.label()));
        }
        Ok((readings.iter().sum::<f64>() / readings.len() as f64, warning))
    }

    fn new(point: Point, base: &Calibration, cfg: EstimatorConfig) -> Self {
        let codes = match point.evidence {
            Evidence::Reading(target) => Some(synth_sine_reading(base, cfg, target)),
            Evidence::Recording(_) => None,
        };
        Probe { point, codes }
    }

    fn label(&self) -> String {
        match &self.point.evidence {
            Evidence::Recording(p) => p.display().to_string(),
            Evidence::Reading(r) => format!("reading {r} A"),
        }
    }
}

/// Codes of 5 s of a 50 Hz sine whose reading through `cal` is `target` A (by bisection on
/// the peak current), quantised through the table's forward direction.
fn synth_sine_reading(cal: &Calibration, cfg: EstimatorConfig, target: f64) -> Vec<u16> {
    let lut = cal.lut_at(Some(50.0));
    let codes_for = |rms: f64| -> Vec<u16> {
        (0..(5.0 * SYNTH_RATE_HZ) as usize)
            .map(|k| {
                let i =
                    rms * std::f64::consts::SQRT_2 * (std::f64::consts::TAU * 50.0 * k as f64 / SYNTH_RATE_HZ).sin();
                crate::calibration::code_in(&lut, i as f32, cal.zero_code())
            })
            .collect()
    };
    let cfg = EstimatorConfig { method: Method::Table, ..cfg };
    let read = |codes: &[u16]| {
        let mut est = Estimator::new(cal, SYNTH_RATE_HZ, cfg);
        let mut v = Vec::new();
        est.push(0.0, codes, &mut |r| v.push(r.irms_a));
        v.iter().sum::<f64>() / v.len().max(1) as f64
    };
    let (mut lo, mut hi) = (0.0, target * 4.0 + 1.0);
    for _ in 0..40 {
        let mid = (lo + hi) / 2.0;
        if read(&codes_for(mid)) < target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    codes_for((lo + hi) / 2.0)
}

/// Gain at current level `a` (A RMS-equivalent, as the base table reads it) through knots
/// `(level, gain)` sorted by level:
/// linear in log(level), constant outside.
fn gain_at(knots: &[(f64, f64)], a: f64) -> f64 {
    match knots {
        [] => 1.0,
        [(_, g)] => *g,
        _ => {
            if a <= knots[0].0 {
                return knots[0].1;
            }
            if a >= knots[knots.len() - 1].0 {
                return knots[knots.len() - 1].1;
            }
            let i = knots.partition_point(|k| k.0 <= a);
            let ((a0, g0), (a1, g1)) = (knots[i - 1], knots[i]);
            let w = (a.ln() - a0.ln()) / (a1.ln() - a0.ln());
            g0 + (g1 - g0) * w
        }
    }
}

/// The base table with every current multiplied by the gain at its level. Instantaneous
/// current `i` is taken at level `i / sqrt(2)`, the RMS of a sine peaking there.
fn apply(base: &Calibration, knots: &[(f64, f64)], name: &str, meta_note: &str) -> (Calibration, String) {
    let freqs = base.frequencies();
    let columns: Vec<Vec<f32>> =
        if freqs.is_empty() { vec![base.lut_at(None)] } else { freqs.iter().map(|&f| base.lut_at(Some(f))).collect() };
    let mut text = String::new();
    let _ = writeln!(text, "{MAGIC}");
    for (k, v) in &base.meta {
        let v = if k == "source" { format!("{meta_note} (base: {} from {v})", base.name) } else { v.clone() };
        let _ = writeln!(text, "# {k}: {v}");
    }
    let header: Vec<String> = if freqs.is_empty() {
        vec!["amps".into()]
    } else {
        freqs.iter().map(|f| format!("amps_{}hz", fmt_hz(*f))).collect()
    };
    let _ = writeln!(text, "code,{}", header.join(","));
    let mut prev = vec![0f64; columns.len()];
    for code in 0..columns[0].len() {
        let vals: Vec<String> = columns
            .iter()
            .zip(prev.iter_mut())
            .map(|(col, p)| {
                let a = col[code] as f64;
                // Keep the table monotonic even where the gain falls with level.
                let v = (a * gain_at(knots, a / std::f64::consts::SQRT_2)).max(*p);
                *p = v;
                format!("{v:.5}")
            })
            .collect();
        let _ = writeln!(text, "{code},{}", vals.join(","));
    }
    let table = Calibration::parse(&text, name).expect("a scaled valid table is valid");
    (table, text)
}

fn fmt_hz(f: f64) -> String {
    if f.fract() == 0.0 {
        format!("{f:.0}")
    } else {
        format!("{f}")
    }
}

/// Fits the gains and returns the new table (not yet written).
pub fn calibrate(
    base: &Calibration,
    points: &[Point],
    cfg: EstimatorConfig,
    rate: Option<f64>,
    out_name: &str,
    mut progress: impl FnMut(&str),
) -> Result<Outcome, CalibrateError> {
    let probes: Vec<Probe> = points.iter().cloned().map(|p| Probe::new(p, base, cfg)).collect();
    let mut before = Vec::with_capacity(probes.len());
    for p in &probes {
        let (reading, warning) = p.read(base, cfg, rate)?;
        if let Some(w) = warning {
            progress(&format!("warning: {w}"));
        }
        before.push(reading);
    }
    // The gain is a function of the level the *base* table reads, since that is what it is
    // looked up by: each knot sits at its point's reading before calibration.
    let mut order: Vec<usize> = (0..probes.len()).collect();
    order.sort_by(|&a, &b| before[a].total_cmp(&before[b]));
    let mut knots: Vec<(f64, f64)> =
        order.iter().map(|&i| (before[i], probes[i].point.reference_a / before[i])).collect();
    for w in knots.windows(2) {
        if (w[1].0 / w[0].0 - 1.0).abs() < 0.02 && (w[1].1 / w[0].1 - 1.0).abs() > 0.005 {
            return Err(CalibrateError::Conflicting(w[0].0, w[1].0));
        }
    }
    let note = format!(
        "ct-read calibrate with {} reference point(s): {}",
        points.len(),
        probes.iter().map(|p| format!("{}={} A", p.label(), p.point.reference_a)).collect::<Vec<_>>().join(", ")
    );
    let (mut table, mut text) = apply(base, &knots, out_name, &note);
    let mut after = Vec::new();
    for round in 1..=8 {
        after = probes.iter().map(|p| p.read(&table, cfg, rate).map(|r| r.0)).collect::<Result<Vec<f64>, _>>()?;
        let worst = probes.iter().zip(&after).map(|(p, a)| (a / p.point.reference_a - 1.0).abs()).fold(0.0, f64::max);
        progress(&format!("round {round}: worst residual {:.3} %", worst * 100.0));
        if worst < 0.0005 {
            break;
        }
        // Refine each knot by its own remaining error (the knots are independent enough).
        for (k, &i) in knots.iter_mut().zip(&order) {
            k.1 *= probes[i].point.reference_a / after[i];
        }
        (table, text) = apply(base, &knots, out_name, &note);
    }
    let residuals = probes
        .into_iter()
        .zip(before.into_iter().zip(after))
        .map(|(p, (before_a, after_a))| Residual { point: p.point, before_a, after_a })
        .collect();
    Ok(Outcome { table, text, residuals })
}

/// Writes the table atomically (temporary file, then rename), so an interrupted run never
/// leaves a half-written table where a good one was.
pub fn write_table(path: &Path, text: &str) -> Result<(), CalibrateError> {
    let err = |source| CalibrateError::Write { path: path.to_owned(), source };
    let tmp = path.with_extension("csv.tmp");
    std::fs::write(&tmp, text).map_err(err)?;
    std::fs::rename(&tmp, path).map_err(err)
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

    #[test]
    fn gain_interpolates_in_log_current() {
        let k = [(1.0, 1.1), (100.0, 0.9)];
        assert_eq!(gain_at(&k, 0.5), 1.1);
        assert!((gain_at(&k, 10.0) - 1.0).abs() < 1e-12);
        assert_eq!(gain_at(&k, 500.0), 0.9);
        assert_eq!(gain_at(&[(5.0, 1.03)], 50.0), 1.03);
    }

    /// A sensor that reads 4 % high at 2 A and 2 % low at 40 A (as a clamp with a different
    /// turns ratio and core might): two reference points bring both within 0.1 %, and a
    /// third level in between moves the right way.
    #[test]
    fn two_points_remove_a_level_dependent_error() {
        let base = Calibration::builtin();
        let cfg = EstimatorConfig::default();
        let points = vec![
            Point { evidence: Evidence::Reading(2.08), reference_a: 2.0 },
            Point { evidence: Evidence::Reading(39.2), reference_a: 40.0 },
        ];
        let out = calibrate(&base, &points, cfg, None, "new.csv", |_| {}).unwrap();
        for r in &out.residuals {
            assert!((r.after_a / r.point.reference_a - 1.0).abs() < 0.001, "{r:?}");
            assert!((r.before_a / r.point.reference_a - 1.0).abs() > 0.015, "{r:?}");
        }
        assert!(out.text.starts_with(MAGIC));
        assert!(out.text.contains("ct-read calibrate with 2 reference point(s)"));
        // The written text is a valid table, and reloads to the same thing.
        let again = Calibration::parse(&out.text, "new.csv").unwrap();
        assert_eq!(again.lut_at(Some(50.0)), out.table.lut_at(Some(50.0)));
    }
}
