//! Re-processing recordings: readings and samples from a capture, a raw byte stream or a CSV of
//! codes, with wall-clock times where the recording has them.
//!
//! A capture stamps every chunk of bytes with the host's receive time. Session time (what the
//! meter computes from the sample index) is mapped to wall time through the chunk being
//! processed: a sample that ends at session time `t_end` of a chunk received at `recv` was taken
//! at about `recv - (t_end - t)`. Re-anchoring on every chunk follows the device clock's drift
//! against the host's (the LaunchPad's DCO is good to about 1 %, 15 minutes a day), at the cost
//! of the USB latency jitter, milliseconds. The mapping is deterministic, so re-exporting a
//! capture gives the same timestamps, which is what lets database exports deduplicate.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::calibration::Calibration;
use crate::capture::{self, CaptureError, CaptureReader, Kind};
use crate::estimate::EstimatorConfig;
use crate::input::{self, InputError, InputKind};
use crate::meter::{Event, Meter, MeterError};
use crate::samples::{Run, SampleDecoder};

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error(transparent)]
    Capture(#[from] CaptureError),
    #[error(transparent)]
    Input(#[from] InputError),
    #[error("{file}: at byte {offset}: {source}")]
    Meter {
        file: String,
        offset: u64,
        #[source]
        source: MeterError,
    },
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}:{line}: {msg}")]
    Invalid { file: String, line: usize, msg: String },
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

/// Session time to wall time, from the chunk being processed.
#[derive(Debug, Clone, Copy, Default)]
pub struct Clock {
    /// Receive time of the chunk (unix ns) and session time at its last sample.
    anchor: Option<(i64, f64)>,
}

impl Clock {
    /// Unix nanoseconds at session time `t_s`.
    pub fn unix_ns(&self, t_s: f64) -> Option<i64> {
        self.anchor.map(|(ns, t_end)| ns + ((t_s - t_end) * 1e9).round() as i64)
    }

    pub fn wall(&self, t_s: f64) -> Option<SystemTime> {
        self.unix_ns(t_s).map(capture::from_unix_ns)
    }

    /// Session time at unix nanoseconds `ns` (0 before any anchor).
    fn session_at(&self, ns: i64) -> f64 {
        self.anchor.map_or(0.0, |(a, t_end)| t_end + (ns - a) as f64 / 1e9)
    }
}

/// Keeps reading times strictly increasing (by at least 1 ms, the key's resolution): receive
/// jitter cannot reorder readings a window apart, but a recording whose device clock runs far
/// from the host's (the virtual device's `--sim-speed`) could, and the database key must stay
/// unique.
#[derive(Debug, Default)]
struct Monotonic {
    last_ns: Option<i64>,
}

impl Monotonic {
    fn next(&mut self, ns: Option<i64>) -> Option<SystemTime> {
        let ns = ns?;
        let ns = self.last_ns.map_or(ns, |l| ns.max(l + 1_000_000));
        self.last_ns = Some(ns);
        Some(capture::from_unix_ns(ns))
    }
}

/// Progress: told the bytes of the input consumed so far; returns `false` to stop early (Ctrl-C),
/// which ends the input there as if the file ended.
pub type Progress<'a> = &'a mut dyn FnMut(u64) -> bool;

/// Readings (and notices) of any input, with the wall time of each reading where known.
/// Returns the warning about a torn capture tail, if any.
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
            let mut meter = Meter::new(cal, cfg);
            let mut timing = SampleDecoder::new(false);
            let mut clock = Clock::default();
            let mut sessions = 0;
            let mut monotonic = Monotonic::default();
            let io = |source| ReplayError::Io { path: path.to_owned(), source };
            while let Some(rec) = reader.next_record().map_err(io)? {
                if rec.kind == Kind::Bytes {
                    timing.bytes(rec.payload, &mut |_| true);
                    if timing.started() {
                        clock.anchor = Some((rec.unix_ns, timing.t_end()));
                    }
                }
                let c = clock;
                let mut emit = |e: Event| {
                    let wall = match &e {
                        Event::Reading(r) => monotonic.next(c.unix_ns(r.t_s)),
                        Event::Notice(_) => None,
                    };
                    out(e, wall)
                };
                match rec.kind {
                    Kind::Bytes => {
                        meter.bytes(rec.payload, &mut emit).map_err(|source| ReplayError::Meter {
                            file: name.clone(),
                            offset: rec.offset,
                            source,
                        })?;
                    }
                    Kind::Lost => {
                        meter.disconnected(&mut emit);
                        timing.disconnected();
                    }
                    Kind::Session if sessions == 0 => sessions += 1,
                    Kind::Back | Kind::Session => {
                        if rec.kind == Kind::Session {
                            sessions += 1;
                            meter.disconnected(&mut emit);
                            timing.disconnected();
                        }
                        let t = c.session_at(rec.unix_ns);
                        meter.reconnected(t, &mut emit);
                        timing.reconnected(t);
                    }
                }
                if !progress(reader.offset()) {
                    // Stopped early: the window in progress is not a reading of the recording
                    // (it would end at an arbitrary point and differ from the same window read
                    // in full), so it is not flushed.
                    return Ok(None);
                }
            }
            let c = clock;
            meter.finish(&mut |e| {
                let wall = match &e {
                    Event::Reading(r) => monotonic.next(c.unix_ns(r.t_s)),
                    Event::Notice(_) => None,
                };
                out(e, wall)
            });
            Ok(reader.warning())
        }
        Format::ByteStream => {
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
                return Err(ReplayError::Meter { file: name, offset, source });
            }
            if !stopped {
                meter.finish(&mut |e| out(e, None));
            }
            Ok(None)
        }
        Format::CodesCsv => {
            let bytes = std::fs::read(path).map_err(|source| ReplayError::Io { path: path.to_owned(), source })?;
            let text = String::from_utf8_lossy(&bytes);
            input::analyze_codes_csv(&text, &name, cal, cfg, rate, &mut |e| out(e, None))?;
            Ok(None)
        }
    }
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

/// Every sample of any input, in runs, with the clock that gives their wall time (no anchor for
/// inputs without receive times). `out` returns `false` to stop early. Returns the warning
/// about a torn capture tail, if any.
pub fn samples(
    path: &Path,
    rate: Option<f64>,
    progress: Progress<'_>,
    out: &mut impl FnMut(Run<'_>, &Clock) -> bool,
) -> Result<Option<String>, ReplayError> {
    match detect(path)? {
        Format::Capture => {
            let mut reader = CaptureReader::open(path)?;
            let mut dec = SampleDecoder::new(true);
            let mut clock = Clock::default();
            let mut sessions = 0;
            // A chunk's runs wait until the whole chunk is decoded: their clock is anchored on
            // the chunk's last sample. One decoder does both (half the work of two).
            let mut runs: Vec<(f64, u64, f64, std::ops::Range<usize>)> = Vec::new();
            let mut codes: Vec<u16> = Vec::new();
            let io = |source| ReplayError::Io { path: path.to_owned(), source };
            while let Some(rec) = reader.next_record().map_err(io)? {
                match rec.kind {
                    Kind::Bytes => {
                        runs.clear();
                        codes.clear();
                        dec.bytes(rec.payload, &mut |run| {
                            let start = codes.len();
                            codes.extend_from_slice(run.codes);
                            runs.push((run.t_s, run.index, run.rate_hz, start..codes.len()));
                            true
                        });
                        if dec.started() {
                            clock.anchor = Some((rec.unix_ns, dec.t_end()));
                        }
                        for (t_s, index, rate_hz, r) in &runs {
                            let run = Run {
                                t_s: *t_s,
                                index: *index,
                                rate_hz: *rate_hz,
                                codes: &codes[r.clone()],
                                len: r.len(),
                            };
                            if !out(run, &clock) {
                                return Ok(None);
                            }
                        }
                    }
                    Kind::Lost => dec.disconnected(),
                    Kind::Session if sessions == 0 => sessions += 1,
                    Kind::Back | Kind::Session => {
                        if rec.kind == Kind::Session {
                            sessions += 1;
                            dec.disconnected();
                        }
                        dec.reconnected(clock.session_at(rec.unix_ns));
                    }
                }
                if !progress(reader.offset()) {
                    return Ok(None);
                }
            }
            Ok(reader.warning())
        }
        Format::ByteStream => {
            let mut dec = SampleDecoder::new(true);
            let clock = Clock::default();
            let mut offset = 0u64;
            stream_chunks(path, &mut |chunk| {
                offset += chunk.len() as u64;
                progress(offset) && dec.bytes(chunk, &mut |run| out(run, &clock))
            })?;
            Ok(None)
        }
        Format::CodesCsv => {
            codes_csv_samples(path, rate, out)?;
            Ok(None)
        }
    }
}

/// Samples of a CSV of codes (`code` per line with a rate, or `t_s,code`), the same files
/// `analyze` accepts; a time step over 1.5 sample periods starts a new run.
fn codes_csv_samples(
    path: &Path,
    rate: Option<f64>,
    out: &mut impl FnMut(Run<'_>, &Clock) -> bool,
) -> Result<(), ReplayError> {
    let text = std::fs::read_to_string(path).map_err(|source| ReplayError::Io { path: path.to_owned(), source })?;
    let file = path.display().to_string();
    let err = |line: usize, msg: String| ReplayError::Invalid { file: file.clone(), line, msg };
    let mut rows: Vec<(Option<f64>, u16)> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let l = raw.trim();
        if l.is_empty() || l.starts_with('#') || l == "code" || l == "t_s,code" {
            continue;
        }
        let cols: Vec<&str> = l.split(',').map(str::trim).collect();
        let (t, c) = match cols[..] {
            [c] => (None, c),
            [t, c] => (Some(t.parse::<f64>().map_err(|_| err(i + 1, format!("t_s `{t}` is not a number")))?), c),
            _ => return Err(err(i + 1, format!("expected `code` or `t_s,code`, found `{l}`"))),
        };
        let code = c.parse::<u16>().map_err(|_| err(i + 1, format!("code `{c}` is not an integer")))?;
        rows.push((t, code));
    }
    let timed = rows.first().is_some_and(|r| r.0.is_some());
    let rate = match rate {
        Some(r) if r > 0.0 => r,
        _ if timed && rows.len() > 1 => {
            let mut dts: Vec<f64> =
                rows.windows(2).take(2000).map(|w| w[1].0.unwrap_or(0.0) - w[0].0.unwrap_or(0.0)).collect();
            dts.sort_by(f64::total_cmp);
            1.0 / dts[dts.len() / 2]
        }
        _ => {
            return Err(ReplayError::Invalid {
                file,
                line: 1,
                msg: "a CSV with one `code` per line needs the sample rate: add --rate HZ".into(),
            })
        }
    };
    let clock = Clock::default();
    let t0 = rows.first().and_then(|r| r.0).unwrap_or(0.0);
    let mut codes = Vec::new();
    let mut run_t = 0.0;
    let mut run_index = 0u64;
    let mut prev_t: Option<f64> = None;
    for (k, &(t, code)) in rows.iter().enumerate() {
        let t = t.map_or(k as f64 / rate, |t| t - t0);
        if prev_t.is_some_and(|p| t - p > 1.5 / rate) && !codes.is_empty() {
            let len = codes.len();
            if !out(Run { t_s: run_t, index: run_index, rate_hz: rate, codes: &codes, len }, &clock) {
                return Ok(());
            }
            codes.clear();
        }
        if codes.is_empty() {
            run_t = t;
            run_index = (t * rate).round() as u64;
        }
        codes.push(code);
        prev_t = Some(t);
    }
    if !codes.is_empty() {
        let len = codes.len();
        out(Run { t_s: run_t, index: run_index, rate_hz: rate, codes: &codes, len }, &clock);
    }
    Ok(())
}
