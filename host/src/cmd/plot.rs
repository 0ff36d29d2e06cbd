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

/// Draws the picture, telling `progress` the bytes read so far and `log` what `analyze` would
/// tell of the recording (gaps, restarts, corruption) and where the picture went.
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
            plot::raw_panels(file, cal, opts.rate, from, to, columns, &mut progress, log)?
        }
        PlotKind::Folded => {
            plot::folded_panels(file, cal, opts.rate, from, opts.to.unwrap_or(f64::MAX), &mut progress, log)?
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
            log,
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

    fn not_meter(notices: &mut Vec<Notice>, n: &Notice) {
        if !matches!(n, Notice::Meter(_)) {
            notices.push(n.clone());
        }
    }

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
            run(&opts, &mut |pos| read = pos, &mut |n| not_meter(&mut notices, n)).unwrap();
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

    /// Issue 11.6: every kind of picture, and both kinds of export, tell the recording's gaps,
    /// restarts and corruption as `analyze` does (before: only "wrote ..." though most samples
    /// were lost).
    #[test]
    fn plots_and_exports_tell_what_analyze_tells() {
        use crate::cmd::analyze::{self, AnalyzeOptions};
        use crate::cmd::export::{self, ExportOptions, ExportTo};
        use crate::cmd::fixtures::Collect;
        use crate::sim::{DeviceProfile, Faults, Load, VirtualDevice};
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("corrupt.bin");
        let load = Load { amps: 5.0, mains_hz: 50.0, shape: crate::sim::Shape::Sine, step: None };
        let faults = Faults { garbage_before: 0, bit_flip: 0.3, byte_drop: 0.1 };
        let cal = Calibration::builtin();
        let mut dev = VirtualDevice::new(DeviceProfile::FAST, load, cal.full_scale_code(), 0.3, faults, 7);
        let mut stream = Vec::new();
        dev.run_until(8200 * 4, &mut stream);
        std::fs::write(&file, &stream).unwrap();
        let cfg = EstimatorConfig { method: crate::estimate::Method::Table, ..EstimatorConfig::default() };
        let meter_notices =
            |v: &[Notice]| -> Vec<Notice> { v.iter().filter(|n| matches!(n, Notice::Meter(_))).cloned().collect() };

        let mut sink = Collect::default();
        analyze::run(&AnalyzeOptions { file: file.clone(), rate: None, cal: cal.clone(), cfg }, &mut sink).unwrap();
        let want = meter_notices(&sink.got.borrow().notices);
        assert!(want.iter().any(|n| n.to_string().contains("warning: gap of")), "{want:?}");
        assert!(want.iter().any(|n| n.to_string().contains("warning: skipped")), "{want:?}");

        for to in [
            ExportTo::Readings { csv: Some(dir.path().join("r.csv")), sqlite: None, remote: vec![] },
            ExportTo::Samples { csv: dir.path().join("s.csv") },
        ] {
            let opts = ExportOptions {
                file: file.clone(),
                to: to.clone(),
                meter: "m1".into(),
                rate: None,
                cal: cal.clone(),
                cfg,
            };
            let mut got = Vec::new();
            export::run(&opts, &std::sync::atomic::AtomicBool::new(false), &mut |_| {}, &mut |n| got.push(n.clone()))
                .unwrap();
            assert_eq!(meter_notices(&got), want, "{to:?}");
        }
        for kind in [PlotKind::Raw, PlotKind::Folded, PlotKind::Trend] {
            let opts = PlotOptions {
                file: file.clone(),
                output: dir.path().join("p.png"),
                kind,
                from: 0.0,
                to: Some(10.0),
                size: (400, 300),
                rate: None,
                cal: cal.clone(),
                cfg,
            };
            let mut got = Vec::new();
            run(&opts, &mut |_| {}, &mut |n| got.push(n.clone())).unwrap();
            assert_eq!(meter_notices(&got), want, "{kind:?}");
        }
    }
}
