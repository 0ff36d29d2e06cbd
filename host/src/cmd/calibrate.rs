//! `ct-read calibrate`: a calibration table adjusted to reference readings (a trusted meter at
//! known loads), written atomically, with the residual error at each point.
//!
//! The fitting is [`crate::calibrate`]'s; this is the command around it: the report and the
//! file.

use std::io::Write;
use std::path::PathBuf;

use super::Error;
use crate::calibrate::{Evidence, Outcome, Point};
use crate::calibration::Calibration;
use crate::estimate::EstimatorConfig;
use crate::notice::Notice;
use crate::sink::format::significant;

#[derive(Debug, Clone)]
pub struct CalibrateOptions {
    pub points: Vec<Point>,
    /// A recording of a resistive load whose waveform alone gives the clamp's inductance
    /// (the points, if any, then give its gain).
    pub resistive: Option<PathBuf>,
    /// Where to write the new table.
    pub output: PathBuf,
    /// Sample rate of `code`-per-line CSV recordings, in Hz.
    pub rate: Option<f64>,
    /// The table to adjust.
    pub base: Calibration,
    pub cfg: EstimatorConfig,
}

/// Fits the table, writes the residuals table to `out` and the new table to the output file.
pub fn run(opts: &CalibrateOptions, out: &mut dyn Write, log: &mut dyn FnMut(&Notice)) -> Result<Outcome, Error> {
    let name = opts.output.display().to_string();
    let mut cfg = opts.cfg;
    let mut shape = None;
    if let Some(path) = &opts.resistive {
        let fit = crate::calibrate::lm_from_recording(path, &opts.base, opts.rate)?;
        log(&Notice::Calibrating(format!(
            "{}: magnetizing inductance {:.3} H from the waveform's shape ({:.2}-{:.2} H)",
            path.display(),
            fit.lm_h,
            fit.range_h.0,
            fit.range_h.1
        )));
        cfg.clamp_lm_h = Some(fit.lm_h);
        shape = Some((fit, path.display().to_string()));
    }
    let outcome = match (&shape, opts.points.is_empty()) {
        // No reference meter: the inductance alone, gain 1.
        (Some((fit, label)), true) => ct_core::identify::waveform_table(fit, label, &name),
        _ => crate::calibrate::calibrate(&opts.base, &opts.points, cfg, opts.rate, &name, |msg| {
            log(&Notice::Calibrating(msg.to_owned()))
        })?,
    };
    // The table first: a reader of the residuals that goes away (`| head`, which ends the
    // command quietly) must not cost the table.
    crate::calibrate::write_table(&opts.output, &outcome.text)?;
    write_residuals(&opts.points, &outcome, out).map_err(Error::Output)?;
    log(&Notice::WroteTable { path: opts.output.clone() });
    Ok(outcome)
}

fn write_residuals(points: &[Point], outcome: &Outcome, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<40} {:>12} {:>14} {:>10} {:>14} {:>10}",
        "point", "reference A", "before A", "error", "after A", "residual"
    )?;
    for (point, r) in points.iter().zip(&outcome.residuals) {
        let label = match &point.evidence {
            Evidence::Recording(p) => p.display().to_string(),
            Evidence::Reading(a) => format!("reading {a} A"),
        };
        let err = |a: f64| format!("{:+.2} %", (a / r.reference_a - 1.0) * 100.0);
        writeln!(
            out,
            "{label:<40} {:>12} {:>14} {:>10} {:>14} {:>10}",
            significant(r.reference_a, 4),
            significant(r.before_a, 4),
            err(r.before_a),
            significant(r.after_a, 4),
            err(r.after_a)
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::fixtures::byte_stream;

    /// A recording that reads 3 % low against its reference: the new table reads it right, the
    /// residuals table says so, and the written file loads.
    #[test]
    fn a_recording_point_gives_a_table_that_reads_it_right() {
        let dir = tempfile::tempdir().unwrap();
        let rec = dir.path().join("at-4a.bin");
        std::fs::write(&rec, byte_stream(4.0, 8.0)).unwrap();
        let output = dir.path().join("mine.csv");
        let opts = CalibrateOptions {
            points: vec![Point { evidence: Evidence::Recording(rec.clone()), reference_a: 4.12 }],
            resistive: None,
            output: output.clone(),
            rate: None,
            base: Calibration::builtin(),
            cfg: EstimatorConfig::default(),
        };
        let mut table = Vec::new();
        let mut notices = Vec::new();
        let outcome = run(&opts, &mut table, &mut |n| notices.push(n.clone())).unwrap();
        let r = &outcome.residuals[0];
        assert!((r.before_a / 4.12 - 1.0).abs() > 0.02, "{r:?}");
        assert!((r.after_a / 4.12 - 1.0).abs() < 0.001, "{r:?}");
        let table = String::from_utf8(table).unwrap();
        let lines: Vec<&str> = table.lines().collect();
        assert!(lines[0].starts_with("point") && lines[0].ends_with("residual"), "{table}");
        assert!(lines[1].starts_with(&rec.display().to_string()) && lines[1].contains("-2."), "{table}");
        assert!(notices.iter().any(|n| matches!(n, Notice::Calibrating(m) if m.starts_with("round 1"))), "{notices:?}");
        assert_eq!(notices.last(), Some(&Notice::WroteTable { path: output.clone() }));
        let written = Calibration::load(&output).unwrap();
        assert_eq!(written.lut_at(Some(50.0)), outcome.table.lut_at(Some(50.0)));
    }
}
