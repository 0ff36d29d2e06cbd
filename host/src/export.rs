//! `ct-read export --raw`: the raw samples of a recording as CSV, one row per sample (the
//! readings' CSV is [`crate::sink::csv::ReadingsCsv`]).
//!
//! Like every export it is written to `FILE.part` and renamed over `FILE` when complete, so an
//! interrupted export never leaves a file that looks finished.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::calibration::{Calibration, TrackedLut};
use crate::capture::from_unix_ns;
use crate::clock::Clock;
use crate::estimate::estimate_mains_hz;
use crate::sink::csv::{CsvError, PartFile};
use crate::sink::format::iso_utc;
use crate::timeline::Run;

/// Columns of the raw-samples export, documented in the README.
pub const RAW_HEADER: &str = "time_utc,unix_ns,t_s,index,code,amps";

/// Raw samples as CSV, columns [`RAW_HEADER`]: the ISO time and unix nanoseconds (empty for
/// inputs without receive times), session time, sample index (counting lost samples, so gaps
/// show as jumps), ADC code, and the primary current it inverts to.
///
/// The current depends on the mains frequency (the clamp's gain does), so samples are
/// collected in blocks of about a second whose frequency is estimated first, as the readings do.
pub struct RawCsv {
    file: PartFile,
    cal: Calibration,
    lut: TrackedLut,
    rate_hz: f64,
    /// Session time, index, code, unix ns of the block's samples.
    block: Vec<(f64, u64, u16, Option<i64>)>,
    codes: Vec<u16>,
    rows: u64,
    line: String,
    /// Last time written: times never go backwards (see [`RawCsv::run`]).
    last_ns: i64,
}

impl RawCsv {
    pub fn create(path: &Path, cal: Calibration) -> Result<Self, CsvError> {
        Ok(RawCsv {
            file: PartFile::create(path, RAW_HEADER)?,
            lut: TrackedLut::new(&cal),
            cal,
            rate_hz: 0.0,
            block: Vec::new(),
            codes: Vec::new(),
            rows: 0,
            line: String::new(),
            last_ns: i64::MIN,
        })
    }

    /// Adds a run. Each sample's time comes from the chunk that brought it; the next chunk's
    /// latency may differ by a few milliseconds, so a time that would go back is moved to
    /// 1 ns after the previous one.
    pub fn run(&mut self, run: Run<'_>, clock: &Clock) -> Result<(), CsvError> {
        if run.rate_hz != self.rate_hz {
            self.flush()?;
            self.rate_hz = run.rate_hz;
        }
        for (k, &code) in run.codes.iter().enumerate() {
            let t = run.t_s + k as f64 / run.rate_hz;
            let ns = clock.unix_ns(t).map(|ns| {
                self.last_ns = ns.max(self.last_ns.saturating_add(1));
                self.last_ns
            });
            self.block.push((t, run.index + k as u64, code, ns));
        }
        if self.block.len() as f64 >= self.rate_hz {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), CsvError> {
        if self.block.is_empty() {
            return Ok(());
        }
        self.codes.clear();
        self.codes.extend(self.block.iter().map(|s| s.2));
        let hz = estimate_mains_hz(&self.codes, self.rate_hz, self.lut.hz());
        // A block whose frequency cannot be told (no signal) keeps the last one's table.
        let lut = match hz {
            Some(_) => self.lut.at(&self.cal, hz),
            None => self.lut.table(),
        };
        use std::fmt::Write as _;
        let top = lut.len() - 1;
        for &(t, index, code, ns) in &self.block {
            self.line.clear();
            if let Some(ns) = ns {
                let _ = write!(self.line, "{},{ns},", iso_utc(from_unix_ns(ns)));
            } else {
                self.line.push_str(",,");
            }
            let amps = lut[(code as usize).min(top)];
            let _ = writeln!(self.line, "{t:.6},{index},{code},{amps:.4}");
            self.file
                .w
                .write_all(self.line.as_bytes())
                .map_err(|source| CsvError::Io { path: self.file.part.clone(), source })?;
        }
        self.rows += self.block.len() as u64;
        self.block.clear();
        Ok(())
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    pub fn finish(mut self) -> Result<u64, CsvError> {
        self.flush()?;
        let rows = self.rows;
        self.file.finish()?;
        Ok(rows)
    }

    /// Ends an interrupted export: the rows so far stay in `FILE.part`, whose path is returned.
    pub fn keep_partial(mut self) -> Result<PathBuf, CsvError> {
        self.flush()?;
        Ok(self.file.keep_partial()?.to_owned())
    }
}
