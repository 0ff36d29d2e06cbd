//! Re-processing recordings: readings and samples from a capture, a raw byte stream or a CSV of
//! codes, with wall-clock times where the recording has them.
//!
//! Every kind goes through the one [`Timeline`]; a capture's records are replayed as the link
//! events they recorded, through the same [`ClockedMeter`] (or [`ClockedRuns`]) a live session
//! uses, so a reading gets the same wall time as it got live ([`crate::clock`]).

use std::fs::File;
use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::calibration::Calibration;
use crate::capture::{self, CaptureError, CaptureReader, Kind};
use crate::clock::{Clock, ClockedMeter, ClockedRuns, Link};
use crate::estimate::EstimatorConfig;
use crate::input::{self, CodesCsv, InputError, InputKind};
use crate::meter::{Event, Meter, Notice};
use crate::timeline::{Run, Step, Timeline, TimelineError};

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error(transparent)]
    Capture(#[from] CaptureError),
    #[error(transparent)]
    Input(#[from] InputError),
    #[error("{file}: at byte {offset}: {source}")]
    Timeline {
        file: String,
        offset: u64,
        #[source]
        source: TimelineError,
    },
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// What an input file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Capture,
    ByteStream,
    CodesCsv,
}

/// Tells the format from the first bytes: the capture magic, else as `analyze` always did.
pub fn detect(path: &Path) -> Result<Format, ReplayError> {
    let io = |source| ReplayError::Io { path: path.to_owned(), source };
    let mut head = Vec::with_capacity(4096);
    File::open(path).map_err(io)?.take(4096).read_to_end(&mut head).map_err(io)?;
    if head.starts_with(&capture::MAGIC[..11]) {
        return Ok(Format::Capture);
    }
    Ok(match input::sniff(&head) {
        InputKind::ByteStream => Format::ByteStream,
        InputKind::CodesCsv => Format::CodesCsv,
    })
}

/// Progress: told the bytes of the input consumed so far; returns `false` to stop early (Ctrl-C),
/// which ends the input there as if the file ended.
pub type Progress<'a> = &'a mut dyn FnMut(u64) -> bool;

/// Code rows between progress reports.
const ROWS_PER_PROGRESS: u64 = 1 << 14;

/// Readings (and notices) of any input, with the wall time of each reading where known.
/// Returns the warning about a torn capture tail, if any.
///
/// Stopped early, the window in progress is not flushed: it is not a reading of the recording
/// (it would end at an arbitrary point and differ from the same window read in full).
pub fn readings(
    path: &Path,
    cal: Calibration,
    cfg: EstimatorConfig,
    rate: Option<f64>,
    progress: Progress<'_>,
    out: &mut impl FnMut(Event, Option<SystemTime>),
) -> Result<Option<String>, ReplayError> {
    let name = path.display().to_string();
    match detect(path)? {
        Format::Capture => {
            let mut reader = CaptureReader::open(path)?;
            let mut meter = ClockedMeter::new(Meter::new(cal, cfg));
            let read_all = capture_links(&mut reader, path, progress, &mut |link, offset| {
                meter.link(link, out).map_err(|source| ReplayError::Timeline { file: name.clone(), offset, source })?;
                Ok(true)
            })?;
            if !read_all {
                return Ok(None);
            }
            meter.finish(out);
            Ok(reader.warning())
        }
        Format::ByteStream => {
            out(Event::Notice(Notice::NominalClock), None);
            let mut meter = Meter::new(cal, cfg);
            let mut offset = 0u64;
            let mut failed = None;
            let mut stopped = false;
            stream_chunks(path, &mut |chunk| {
                if let Err(e) = meter.bytes(chunk, &mut |e| out(e, None)) {
                    failed = Some(e);
                    return false;
                }
                offset += chunk.len() as u64;
                stopped = !progress(offset);
                !stopped
            })?;
            if let Some(source) = failed {
                return Err(ReplayError::Timeline { file: name, offset: meter.timeline().frame_offset(), source });
            }
            if !stopped {
                meter.finish(&mut |e| out(e, None));
            }
            Ok(None)
        }
        Format::CodesCsv => {
            let csv = CodesCsv::open(path, cal.full_scale_code(), rate)?;
            codes_csv_readings(csv, cal, cfg, progress, out)?;
            Ok(None)
        }
    }
}

/// Readings of a CSV of codes (no wall times: the rows carry none; no receive times either, so
/// the rate is the one given or learnt from the time column, as told).
pub fn codes_csv_readings<R: BufRead>(
    mut csv: CodesCsv<R>,
    cal: Calibration,
    cfg: EstimatorConfig,
    progress: Progress<'_>,
    out: &mut impl FnMut(Event, Option<SystemTime>),
) -> Result<(), ReplayError> {
    let mut meter = Meter::for_code_rows(cal, cfg, csv.rate_hz()).map_err(|source| ReplayError::Timeline {
        file: csv.file().to_owned(),
        offset: 0,
        source,
    })?;
    out(Event::Notice(Notice::NominalClock), None);
    let mut rows = 0u64;
    while let Some(row) = csv.next_row()? {
        meter.code_row(row, &mut |e| out(e, None));
        rows += 1;
        if rows.is_multiple_of(ROWS_PER_PROGRESS) && !progress(csv.offset()) {
            return Ok(());
        }
    }
    if progress(csv.offset()) {
        meter.finish(&mut |e| out(e, None));
    }
    Ok(())
}

/// Every sample of any input, in runs, with the clock that gives their wall time (no anchor for
/// inputs without receive times). `out` returns `false` to stop early. `notice` is told the
/// timeline's notices (gaps, restarts, corruption), the same ones [`readings`] tells, so that
/// whatever reads samples says what was lost as the readings do. Returns the warning about a
/// torn capture tail, if any. `cal` is the table the samples are for: a device whose ADC
/// differs is refused, and a CSV's codes must be within its range.
pub fn samples(
    path: &Path,
    cal: &Calibration,
    rate: Option<f64>,
    progress: Progress<'_>,
    notice: &mut dyn FnMut(Notice),
    out: &mut impl FnMut(Run<'_>, &Clock) -> bool,
) -> Result<Option<String>, ReplayError> {
    let name = path.display().to_string();
    match detect(path)? {
        Format::Capture => {
            let mut reader = CaptureReader::open(path)?;
            let mut runs = ClockedRuns::new(Timeline::new(cal));
            let read_all = capture_links(&mut reader, path, progress, &mut |link, offset| {
                let go = runs.link(link, out);
                runs.take_notices().for_each(&mut *notice);
                go.map_err(|source| ReplayError::Timeline { file: name.clone(), offset, source })
            })?;
            Ok(if read_all { reader.warning() } else { None })
        }
        Format::ByteStream => {
            notice(Notice::NominalClock);
            let mut timeline = Timeline::new(cal);
            let clock = Clock::default();
            let mut offset = 0u64;
            let mut failed = None;
            stream_chunks(path, &mut |chunk| {
                offset += chunk.len() as u64;
                progress(offset)
                    && timeline.bytes(chunk, &mut runs_and_notices(out, notice, &clock)).unwrap_or_else(|e| {
                        failed = Some(e);
                        false
                    })
            })?;
            match failed {
                Some(source) => Err(ReplayError::Timeline { file: name, offset: timeline.frame_offset(), source }),
                None => Ok(None),
            }
        }
        Format::CodesCsv => {
            let mut csv = CodesCsv::open(path, cal.full_scale_code(), rate)?;
            let mut timeline = Timeline::for_code_rows(cal, csv.rate_hz()).map_err(|source| ReplayError::Timeline {
                file: name,
                offset: 0,
                source,
            })?;
            notice(Notice::NominalClock);
            let clock = Clock::default();
            let mut out = runs_and_notices(out, notice, &clock);
            let mut rows = 0u64;
            while let Some(row) = csv.next_row()? {
                rows += 1;
                if !timeline.code_row(row, &mut out)
                    || (rows.is_multiple_of(ROWS_PER_PROGRESS) && !progress(csv.offset()))
                {
                    return Ok(None);
                }
            }
            if progress(csv.offset()) {
                timeline.finish(&mut out);
            }
            Ok(None)
        }
    }
}

/// The timeline's runs, with a clock, to `out`, and its notices to `notice`; breaks and rate
/// changes are not samples (a run carries its own time and rate).
fn runs_and_notices<'a>(
    out: &'a mut impl FnMut(Run<'_>, &Clock) -> bool,
    notice: &'a mut dyn FnMut(Notice),
    clock: &'a Clock,
) -> impl FnMut(Step<'_>) -> bool + 'a {
    move |step| match step {
        Step::Run(run) => out(run, clock),
        Step::Notice(n) => {
            notice(n);
            true
        }
        Step::Rate(..) | Step::Clock { .. } | Step::Break { .. } => true,
    }
}

/// Replays a capture's records as the link events they recorded, each with its record's byte
/// offset: its first session starts the recording, and a later one (a recording appended to the
/// file) is a disconnection and a reconnection at its time. `f` returns `false` to stop, as
/// does `progress`; the result then is `false`.
fn capture_links(
    reader: &mut CaptureReader,
    path: &Path,
    progress: Progress<'_>,
    f: &mut impl FnMut(Link<'_>, u64) -> Result<bool, ReplayError>,
) -> Result<bool, ReplayError> {
    let io = |source| ReplayError::Io { path: path.to_owned(), source };
    let mut sessions = 0;
    while let Some(rec) = reader.next_record().map_err(io)? {
        let go = match rec.kind {
            Kind::Bytes => f(Link::Bytes { unix_ns: rec.unix_ns, bytes: rec.payload }, rec.offset)?,
            Kind::Lost => f(Link::Lost, rec.offset)?,
            Kind::Back => f(Link::Back { unix_ns: rec.unix_ns }, rec.offset)?,
            Kind::Session => {
                sessions += 1;
                sessions == 1 || (f(Link::Lost, rec.offset)? && f(Link::Back { unix_ns: rec.unix_ns }, rec.offset)?)
            }
        };
        if !go || !progress(reader.offset()) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Reads a file in 1 MiB chunks; `f` returns `false` to stop.
fn stream_chunks(path: &Path, f: &mut impl FnMut(&[u8]) -> bool) -> Result<(), ReplayError> {
    let io = |source| ReplayError::Io { path: path.to_owned(), source };
    let mut file = File::open(path).map_err(io)?;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io(e)),
        };
        if !f(&buf[..n]) {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> EstimatorConfig {
        EstimatorConfig { method: crate::estimate::Method::Table, ..EstimatorConfig::default() }
    }

    fn samples_error(path: &Path, cal: &Calibration) -> String {
        samples(path, cal, None, &mut |_| true, &mut |_| {}, &mut |_, _| true).unwrap_err().to_string()
    }

    fn readings_error(path: &Path, cal: &Calibration) -> String {
        readings(path, cal.clone(), cfg(), None, &mut |_| true, &mut |_, _| {}).unwrap_err().to_string()
    }

    /// `plot` and `export --raw` (samples) read a CSV of codes by the rules `analyze`
    /// (readings) does: before, they accepted a code above the ADC's range and a `t_s` going
    /// back.
    #[test]
    fn samples_and_readings_refuse_the_same_csv_rows() {
        let dir = tempfile::tempdir().unwrap();
        let cal = Calibration::builtin();
        for (text, want) in [
            ("t_s,code\n0.000,12\n0.001,2000\n", ":3: code `2000` is not an integer in 0..=1023"),
            ("t_s,code\n0.000,12\n0.002,13\n0.001,14\n", ":4: t_s 0.001 does not increase (line 3 has 0.002)"),
        ] {
            let path = dir.path().join("codes.csv");
            std::fs::write(&path, text).unwrap();
            let (s, r) = (samples_error(&path, &cal), readings_error(&path, &cal));
            assert!(s.ends_with(want), "{s}");
            assert_eq!(s, r);
        }
    }

    /// Samples of a device whose ADC is not the table's are refused, as its readings are
    /// (before, the samples were decoded regardless).
    #[test]
    fn samples_and_readings_refuse_a_device_for_another_adc() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stream.bin");
        std::fs::write(&path, crate::cmd::fixtures::byte_stream(2.0, 0.5)).unwrap();
        let text = crate::calibration::DEFAULT_TABLE.replace("# adc_ref_mv: 2500", "# adc_ref_mv: 3300");
        let cal = Calibration::parse(&text, "ref3300.csv").unwrap();
        let (s, r) = (samples_error(&path, &cal), readings_error(&path, &cal));
        // The boot Info frame follows the lone delimiter at byte 0.
        assert!(s.contains("stream.bin: at byte 1: the calibration table ref3300.csv"), "the boot Info frame: {s}");
        assert!(
            s.contains("is for a 10-bit ADC with a 3300 mV reference, but the device reports 10 bits and 2500 mV"),
            "{s}"
        );
        assert_eq!(s, r);
    }

    /// Issue 11.14: an error names the offending frame's own offset, not the start of the
    /// chunk read (an Info frame for another ADC well into the stream).
    #[test]
    fn an_error_points_at_its_frame() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stream.bin");
        let mut stream = crate::cmd::fixtures::byte_stream(2.0, 0.5);
        let at = stream.len();
        let info = ct_wire::Info {
            adc_ref_mv: 3300,
            ..crate::sim::DeviceProfile::FAST.firmware.info(ct_wire::ResetCause::PowerOn)
        };
        let mut line = vec![0; ct_wire::MAX_ENCODED_FRAME];
        let n = ct_wire::framing::encode_frame(&ct_wire::Frame::Info(info), &mut line).unwrap();
        stream.extend(&line[..n]);
        std::fs::write(&path, &stream).unwrap();
        let cal = Calibration::builtin();
        let (s, r) = (samples_error(&path, &cal), readings_error(&path, &cal));
        assert!(s.contains(&format!("stream.bin: at byte {at}: ")), "{at}: {s}");
        assert_eq!(s, r);
    }

    /// A hole in a CSV's time column is a gap notice and a flagged reading, and the samples
    /// after it start at their own time and index, in readings and samples alike.
    #[test]
    fn a_hole_in_a_csv_is_a_gap_for_readings_and_samples() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("codes.csv");
        let mut text = String::from("t_s,code\n");
        for k in (0..4000).filter(|k| !(1500..1600).contains(k)) {
            text.push_str(&format!("{:.3},{}\n", k as f64 / 1000.0, 100 + (k % 20) * 10));
        }
        std::fs::write(&path, text).unwrap();
        let (mut notices, mut flagged) = (Vec::new(), 0);
        readings(&path, Calibration::builtin(), cfg(), None, &mut |_| true, &mut |e, _| match e {
            Event::Notice(n) => notices.push(n),
            Event::Reading(r) => flagged += r.flags.gap as usize,
        })
        .unwrap();
        assert!(
            notices
                .iter()
                .any(|n| matches!(n, Notice::Gap { lost_samples: 100, seconds } if (seconds - 0.1).abs() < 1e-9)),
            "{notices:?}"
        );
        assert_eq!(flagged, 1);
        let mut runs = Vec::new();
        samples(&path, &Calibration::builtin(), None, &mut |_| true, &mut |_| {}, &mut |run, _| {
            runs.push((run.t_s, run.index, run.codes.len()));
            true
        })
        .unwrap();
        assert_eq!(runs[0], (0.0, 0, 1500));
        assert!((runs[1].0 - 1.6).abs() < 1e-9 && runs[1].1 == 1600, "{runs:?}");
        assert_eq!(runs.iter().map(|r| r.2).sum::<usize>(), 3900);
    }
}
