//! `ct-read plot`: a recording drawn to a PNG or SVG: raw codes and current, one mains cycle
//! folded from many, or the trend of current and power.

use std::path::PathBuf;

use super::Error;
use crate::calibration::Calibration;
use crate::estimate::EstimatorConfig;
use crate::notice::Notice;
use crate::plot::{self, PlotKind};

#[derive(Debug, Clone)]
pub struct PlotOptions {
    pub file: PathBuf,
    /// The picture, `.png` or `.svg`.
    pub output: PathBuf,
    pub kind: PlotKind,
    /// Start of the interval, seconds since the start of the recording.
    pub from: f64,
    /// End of the interval (raw: default 0.2 s after `from`; the others: the end).
    pub to: Option<f64>,
    /// Picture size in pixels.
    pub size: (u32, u32),
    /// Sample rate of a `code`-per-line CSV, in Hz.
    pub rate: Option<f64>,
    pub cal: Calibration,
    pub cfg: EstimatorConfig,
}

/// Draws the picture, telling `progress` the bytes read so far.
pub fn run(opts: &PlotOptions, progress: &mut dyn FnMut(u64), log: &mut dyn FnMut(&Notice)) -> Result<(), Error> {
    let (file, from, cal) = (&opts.file, opts.from, &opts.cal);
    // One data column per pixel column: the envelope of the samples under each keeps every
    // spike visible without drawing millions of points.
    let columns = opts.size.0 as usize;
    let mut progress = |pos| {
        progress(pos);
        true
    };
    let panels = match opts.kind {
        PlotKind::Raw => {
            let to = opts.to.unwrap_or(from + 0.2);
            plot::raw_panels(file, cal, opts.rate, from, to, columns, &mut progress)?
        }
        PlotKind::Folded => {
            plot::folded_panels(file, cal, opts.rate, from, opts.to.unwrap_or(f64::MAX), &mut progress)?
        }
        PlotKind::Trend => plot::trend_panels(
            file,
            cal.clone(),
            opts.cfg,
            opts.rate,
            from,
            opts.to.unwrap_or(f64::MAX),
            columns,
            &mut progress,
        )?,
    };
    plot::render(&opts.output, opts.size, &panels)?;
    log(&Notice::Wrote { path: opts.output.clone(), rows: None });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::fixtures::synthetic_capture;

    /// Each kind of picture of a capture is drawn, as a real PNG or SVG; a picture of an
    /// interval outside the recording is refused.
    #[test]
    fn every_kind_draws_a_capture() {
        let dir = tempfile::tempdir().unwrap();
        let cap = dir.path().join("c.ctcap");
        synthetic_capture(&cap, 5.0, 4.0, 1_790_000_000_000_000_000);
        for (kind, name) in
            [(PlotKind::Raw, "raw.png"), (PlotKind::Folded, "folded.svg"), (PlotKind::Trend, "trend.png")]
        {
            let output = dir.path().join(name);
            let opts = PlotOptions {
                file: cap.clone(),
                output: output.clone(),
                kind,
                from: 0.0,
                to: None,
                size: (400, 300),
                rate: None,
                cal: Calibration::builtin(),
                cfg: EstimatorConfig { method: crate::estimate::Method::Table, ..EstimatorConfig::default() },
            };
            let mut read = 0;
            let mut notices = Vec::new();
            run(&opts, &mut |pos| read = pos, &mut |n| notices.push(n.clone())).unwrap();
            let bytes = std::fs::read(&output).unwrap();
            if name.ends_with(".png") {
                assert!(bytes.starts_with(b"\x89PNG"), "{name}");
            } else {
                assert!(String::from_utf8_lossy(&bytes).contains("<svg"), "{name}");
            }
            assert!(read > 0, "{name}: no progress told");
            assert_eq!(notices, [Notice::Wrote { path: output, rows: None }]);
        }

        let opts = PlotOptions {
            file: cap,
            output: dir.path().join("late.png"),
            kind: PlotKind::Folded,
            from: 100.0,
            to: Some(101.0),
            size: (400, 300),
            rate: None,
            cal: Calibration::builtin(),
            cfg: EstimatorConfig::default(),
        };
        let e = run(&opts, &mut |_| {}, &mut |_| {}).unwrap_err().to_string();
        assert!(e.contains("no samples between 100 s and 101 s"), "{e}");
    }
}
