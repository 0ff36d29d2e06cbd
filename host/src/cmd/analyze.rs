//! `ct-read analyze`: the readings of a recording (a capture, a recorded byte stream or a CSV
//! of codes), with the wall-clock times the recording gives them, to the same sinks as live.

use std::path::PathBuf;

use super::Error;
use crate::calibration::Calibration;
use crate::estimate::EstimatorConfig;
use crate::meter::Event;
use crate::notice::Notice;
use crate::sink::{End, ReadingSink};

#[derive(Debug, Clone)]
pub struct AnalyzeOptions {
    pub file: PathBuf,
    /// Sample rate of a `code`-per-line CSV, in Hz.
    pub rate: Option<f64>,
    pub cal: Calibration,
    pub cfg: EstimatorConfig,
}

/// Reads the whole recording into `sinks` and finishes them. A sink error is returned after
/// the recording has been read (the other sinks still get every reading); a recording that
/// gave no reading at all is [`Error::NoSamples`].
pub fn run(opts: &AnalyzeOptions, sinks: &mut dyn ReadingSink) -> Result<(), Error> {
    let mut error = None;
    let mut readings = 0u64;
    let tail = crate::replay::readings(
        &opts.file,
        opts.cal.clone(),
        opts.cfg,
        opts.rate,
        &mut |_| true,
        &mut |e, wall| match e {
            Event::Reading(r) => {
                readings += 1;
                if let Err(e) = sinks.write(&r, wall) {
                    error.get_or_insert(e);
                }
            }
            Event::Notice(n) => sinks.notice(&n.into()),
        },
    )?;
    if let Some(t) = tail {
        sinks.notice(&Notice::CaptureDamage(t));
    }
    let finished = sinks.finish(End::Complete);
    if let Some(e) = error {
        return Err(e.into());
    }
    finished?;
    if readings == 0 {
        return Err(Error::NoSamples { path: opts.file.clone() });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::fixtures::{byte_stream, synthetic_capture, Collect};
    use crate::meter;
    use crate::sink::Outputs;

    fn options(file: PathBuf) -> AnalyzeOptions {
        AnalyzeOptions { file, rate: None, cal: Calibration::builtin(), cfg: EstimatorConfig::default() }
    }

    /// A recorded byte stream has no receive times: readings of the load's current, without
    /// wall times, and the device's Info as a notice.
    #[test]
    fn a_byte_stream_reads_the_load_without_times() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("stream.bin");
        std::fs::write(&file, byte_stream(3.3, 12.0)).unwrap();
        let mut sink = Collect::default();
        run(&options(file), &mut sink).unwrap();
        let got = sink.got.borrow();
        let full: Vec<_> = got.readings.iter().filter(|(r, _)| r.duration_s > 0.9).collect();
        assert!(full.len() >= 10, "{:?}", got.readings);
        for (r, wall) in full {
            assert!((r.irms_a / 3.3 - 1.0).abs() < 0.01, "{r:?}");
            assert_eq!(*wall, None);
        }
        assert!(got.notices.iter().any(|n| matches!(n, Notice::Meter(meter::Notice::Device(_)))));
        assert_eq!(got.finished, Some(End::Complete));
    }

    /// A capture's readings carry wall times from its receive times, and go to the CSV the
    /// outputs ask for, one row per reading after the header.
    #[test]
    fn a_capture_gives_timed_readings_to_the_csv() {
        let dir = tempfile::tempdir().unwrap();
        let cap = dir.path().join("c.ctcap");
        let t0_ns = 1_790_000_000_000_000_000;
        synthetic_capture(&cap, 7.0, 6.0, t0_ns);
        let csv = dir.path().join("r.csv");
        let outputs = Outputs { csv: Some(csv.clone()), ..Outputs::default() };
        let mut sinks = outputs.open(std::io::sink(), std::io::sink()).unwrap();
        run(&options(cap.clone()), &mut sinks).unwrap();
        let text = std::fs::read_to_string(&csv).unwrap();
        let rows: Vec<&str> = text.lines().skip(1).collect();
        assert!(rows.len() >= 5, "{text}");
        assert!(rows.iter().all(|r| r.starts_with("unknown,2026-09-21T")), "{text}");

        let mut sink = Collect::default();
        run(&options(cap), &mut sink).unwrap();
        let got = sink.got.borrow();
        assert_eq!(got.readings.len(), rows.len());
        let t0 = crate::capture::from_unix_ns(t0_ns);
        for (r, wall) in &got.readings {
            let at = wall.unwrap().duration_since(t0).unwrap().as_secs_f64();
            assert!((at - r.t_s).abs() < 0.1, "{r:?} at {at}");
        }
    }

    /// An empty file, or one with nothing the meter can read, is an error saying so (it used to
    /// give no reading and exit 0).
    #[test]
    fn an_input_without_samples_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.bin");
        std::fs::write(&empty, b"").unwrap();
        for file in [empty, PathBuf::from("/dev/null")] {
            let e = run(&options(file.clone()), &mut Collect::default()).unwrap_err();
            assert!(matches!(&e, Error::NoSamples { path } if *path == file), "{e}");
            assert_eq!(e.to_string(), format!("no samples in {}", file.display()));
        }
    }

    /// A bad row of a code CSV is an error naming the file and line, and nothing is finished.
    #[test]
    fn a_bad_code_row_names_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("codes.csv");
        std::fs::write(&file, "t_s,code\n0.0,12\n0.001,abc\n").unwrap();
        let mut sink = Collect::default();
        let e = run(&options(file), &mut sink).unwrap_err().to_string();
        assert!(e.contains("codes.csv:3: code `abc` is not an integer in 0..=1023"), "{e}");
        assert_eq!(sink.got.borrow().finished, None);
    }
}
