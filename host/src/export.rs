//! `ct-read export`: readings (one row per window, the live CSV format) or raw samples (one row
//! per sample) of a recording as CSV.
//!
//! An export is written to `FILE.part` and renamed over `FILE` when complete, so an
//! interrupted export never leaves a file that looks finished.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::calibration::Calibration;
use crate::capture::from_unix_ns;
use crate::estimate::{estimate_mains_hz, Reading};
use crate::output::{csv_row, iso_utc, CSV_HEADER};
use crate::replay::Clock;
use crate::samples::Run;

/// Columns of the raw-samples export, documented in the README.
pub const RAW_HEADER: &str = "time_utc,unix_ns,t_s,index,code,amps";

#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub struct ExportError {
    path: PathBuf,
    #[source]
    source: std::io::Error,
}

/// A CSV file written under a temporary name and renamed when finished.
struct PartFile {
    path: PathBuf,
    part: PathBuf,
    w: BufWriter<File>,
}

impl PartFile {
    fn create(path: &Path, header: &str) -> Result<Self, ExportError> {
        let mut part = path.as_os_str().to_owned();
        part.push(".part");
        let part = PathBuf::from(part);
        let err = |source| ExportError { path: part.clone(), source };
        let mut w = BufWriter::with_capacity(1 << 20, File::create(&part).map_err(err)?);
        writeln!(w, "{header}").map_err(err)?;
        Ok(PartFile { path: path.to_owned(), part, w })
    }

    fn err(&self) -> impl Fn(std::io::Error) -> ExportError + '_ {
        |source| ExportError { path: self.part.clone(), source }
    }

    fn finish(mut self) -> Result<(), ExportError> {
        self.w.flush().map_err(self.err())?;
        self.w.get_ref().sync_data().map_err(self.err())?;
        std::fs::rename(&self.part, &self.path).map_err(|source| ExportError { path: self.path.clone(), source })
    }

    /// Flushes what was written and leaves it under the temporary name (an interrupted export).
    fn keep_partial(mut self) -> Result<PathBuf, ExportError> {
        self.w.flush().map_err(self.err())?;
        Ok(self.part)
    }
}

/// Readings as CSV, with the columns of [`CSV_HEADER`] (the same as live `--csv`).
pub struct ReadingsCsv {
    file: PartFile,
    rows: u64,
}

impl ReadingsCsv {
    pub fn create(path: &Path) -> Result<Self, ExportError> {
        Ok(ReadingsCsv { file: PartFile::create(path, CSV_HEADER)?, rows: 0 })
    }

    pub fn write(&mut self, r: &Reading, wall: Option<SystemTime>) -> Result<(), ExportError> {
        self.rows += 1;
        let line = csv_row(r, wall);
        writeln!(self.file.w, "{line}").map_err(self.file.err())
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    pub fn finish(self) -> Result<(), ExportError> {
        self.file.finish()
    }

    /// Ends an interrupted export: the rows so far stay in `FILE.part`, whose path is returned.
    pub fn keep_partial(self) -> Result<PathBuf, ExportError> {
        self.file.keep_partial()
    }
}

/// Raw samples as CSV, columns [`RAW_HEADER`]: the ISO time and unix nanoseconds (empty for
/// inputs without receive times), session time, sample index (counting lost samples, so gaps
/// show as jumps), ADC code, and the primary current it inverts to.
///
/// The current depends on the mains frequency (the clamp's gain does), so samples are
/// collected in blocks of about a second whose frequency is estimated first, as the readings do.
pub struct RawCsv {
    file: PartFile,
    cal: Calibration,
    lut: Vec<f32>,
    lut_hz: Option<f64>,
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
    pub fn create(path: &Path, cal: Calibration) -> Result<Self, ExportError> {
        Ok(RawCsv {
            file: PartFile::create(path, RAW_HEADER)?,
            lut: cal.lut_at(None),
            cal,
            lut_hz: None,
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
    pub fn run(&mut self, run: Run<'_>, clock: &Clock) -> Result<(), ExportError> {
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

    fn flush(&mut self) -> Result<(), ExportError> {
        if self.block.is_empty() {
            return Ok(());
        }
        self.codes.clear();
        self.codes.extend(self.block.iter().map(|s| s.2));
        let hz = estimate_mains_hz(&self.codes, self.rate_hz, self.lut_hz);
        if hz.is_some() && (self.lut_hz.is_none() || (hz.unwrap() - self.lut_hz.unwrap()).abs() > 0.05) {
            self.lut = self.cal.lut_at(hz);
            self.lut_hz = hz;
        }
        use std::fmt::Write as _;
        let top = self.lut.len() - 1;
        for &(t, index, code, ns) in &self.block {
            self.line.clear();
            if let Some(ns) = ns {
                let _ = write!(self.line, "{},{ns},", iso_utc(from_unix_ns(ns)));
            } else {
                self.line.push_str(",,");
            }
            let amps = self.lut[(code as usize).min(top)];
            let _ = writeln!(self.line, "{t:.6},{index},{code},{amps:.4}");
            self.file
                .w
                .write_all(self.line.as_bytes())
                .map_err(|source| ExportError { path: self.file.part.clone(), source })?;
        }
        self.rows += self.block.len() as u64;
        self.block.clear();
        Ok(())
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    pub fn finish(mut self) -> Result<u64, ExportError> {
        self.flush()?;
        let rows = self.rows;
        self.file.finish()?;
        Ok(rows)
    }

    /// Ends an interrupted export: the rows so far stay in `FILE.part`, whose path is returned.
    pub fn keep_partial(mut self) -> Result<PathBuf, ExportError> {
        self.flush()?;
        self.file.keep_partial()
    }
}
