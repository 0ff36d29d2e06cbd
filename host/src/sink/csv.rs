//! Readings as CSV rows, the format documented in the README, in the two ways a file is
//! written.
//!
//! [`CsvSink`] (live `--csv`, `analyze --csv`) appends to an existing file (header written
//! once), refuses a file whose header differs, and writes each row with a single `write`
//! followed by a flush, so an interrupted run leaves only whole rows; a torn last row left by
//! a crash is cut off, with a warning, before appending.
//!
//! [`ReadingsCsv`] (`export --csv`) writes `FILE.part` and renames it over `FILE` when the
//! export is complete, so an interrupted export never leaves a file that looks finished.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::format::{iso_utc, unix_ms};
use super::{End, ReadingSink, SinkError};
use crate::estimate::Reading;

/// CSV columns, in order. Documented in the README.
pub const CSV_HEADER: &str = "time_utc,unix_ms,t_s,duration_s,irms_a,va,watts,kwh,mains_hz,flags,lost_samples";

/// One CSV row (no newline), columns as [`CSV_HEADER`].
pub fn csv_row(r: &Reading, wall: Option<SystemTime>) -> String {
    let mut w = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
    let rec = [
        wall.map(iso_utc).unwrap_or_default(),
        wall.map(|w| unix_ms(w).to_string()).unwrap_or_default(),
        format!("{:.3}", r.t_s),
        format!("{:.4}", r.duration_s),
        format!("{:.4}", r.irms_a),
        format!("{:.2}", r.va),
        format!("{:.2}", r.watts),
        format!("{:.7}", r.kwh),
        r.hz.map(|h| format!("{h:.3}")).unwrap_or_default(),
        r.flags.to_text(),
        r.lost_samples.to_string(),
    ];
    w.write_record(&rec).expect("writing to a Vec cannot fail");
    let mut s = String::from_utf8(w.into_inner().expect("Vec writer")).expect("CSV of UTF-8 fields");
    s.truncate(s.trim_end().len());
    s
}

#[derive(Debug, thiserror::Error)]
pub enum CsvError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path}:1: existing CSV header `{found}` differs from this version's `{CSV_HEADER}`\nhelp: write to a new file"
    )]
    HeaderMismatch { path: PathBuf, found: String },
}

impl From<CsvError> for SinkError {
    fn from(e: CsvError) -> Self {
        SinkError::new(e)
    }
}

/// Appends readings to a CSV file.
pub struct CsvSink {
    path: PathBuf,
    file: File,
}

impl CsvSink {
    /// Opens (or creates) `path` for appending. Returns the sink and, if a torn last row was
    /// removed, how many bytes were cut.
    pub fn open(path: &Path) -> Result<(Self, Option<u64>), CsvError> {
        let io = |source| CsvError::Io { path: path.to_owned(), source };
        let mut file = OpenOptions::new().read(true).create(true).append(true).open(path).map_err(io)?;
        let mut text = String::new();
        file.read_to_string(&mut text).map_err(io)?;
        let mut cut = None;
        if text.is_empty() {
            file.write_all(format!("{CSV_HEADER}\n").as_bytes()).map_err(io)?;
        } else {
            let first = text.lines().next().unwrap_or_default();
            if first != CSV_HEADER {
                return Err(CsvError::HeaderMismatch { path: path.to_owned(), found: first.to_owned() });
            }
            if !text.ends_with('\n') {
                let keep = text.rfind('\n').map_or(0, |i| i + 1) as u64;
                cut = Some(text.len() as u64 - keep);
                file.set_len(keep).map_err(io)?;
                file.seek(SeekFrom::End(0)).map_err(io)?;
            }
        }
        file.flush().map_err(io)?;
        Ok((CsvSink { path: path.to_owned(), file }, cut))
    }

    fn io(&self) -> impl Fn(std::io::Error) -> CsvError + '_ {
        |source| CsvError::Io { path: self.path.clone(), source }
    }
}

impl ReadingSink for CsvSink {
    /// Appends one whole row with a single write, then flushes.
    fn write(&mut self, r: &Reading, wall: Option<SystemTime>) -> Result<(), SinkError> {
        let line = csv_row(r, wall) + "\n";
        self.file.write_all(line.as_bytes()).and_then(|_| self.file.flush()).map_err(self.io())?;
        Ok(())
    }

    /// Forces written rows to disk.
    fn finish(&mut self, _end: End) -> Result<(), SinkError> {
        self.file.sync_data().map_err(self.io())?;
        Ok(())
    }
}

/// Where an export to `path` keeps its rows until it is complete: `FILE.part`.
pub fn part_path(path: &Path) -> PathBuf {
    let mut part = path.as_os_str().to_owned();
    part.push(".part");
    PathBuf::from(part)
}

/// A file written under a temporary name, `FILE.part`, and renamed to `FILE` when finished.
pub(crate) struct PartFile {
    path: PathBuf,
    pub(crate) part: PathBuf,
    pub(crate) w: BufWriter<File>,
}

impl PartFile {
    pub(crate) fn create(path: &Path, header: &str) -> Result<Self, CsvError> {
        let part = part_path(path);
        let err = |source| CsvError::Io { path: part.clone(), source };
        let mut w = BufWriter::with_capacity(1 << 20, File::create(&part).map_err(err)?);
        writeln!(w, "{header}").map_err(err)?;
        Ok(PartFile { path: path.to_owned(), part, w })
    }

    pub(crate) fn err(&self) -> impl Fn(std::io::Error) -> CsvError + '_ {
        |source| CsvError::Io { path: self.part.clone(), source }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Makes the file durable and gives it its name.
    pub(crate) fn finish(&mut self) -> Result<(), CsvError> {
        self.w.flush().map_err(self.err())?;
        self.w.get_ref().sync_data().map_err(self.err())?;
        std::fs::rename(&self.part, &self.path).map_err(|source| CsvError::Io { path: self.path.clone(), source })
    }

    /// Flushes what was written and leaves it under the temporary name (an interrupted export).
    pub(crate) fn keep_partial(&mut self) -> Result<&Path, CsvError> {
        self.w.flush().map_err(self.err())?;
        Ok(&self.part)
    }
}

/// Readings as CSV, with the columns of [`CSV_HEADER`] (the same as live `--csv`), replacing
/// `FILE` only when complete.
pub struct ReadingsCsv {
    file: PartFile,
    rows: u64,
}

impl ReadingsCsv {
    pub fn create(path: &Path) -> Result<Self, CsvError> {
        Ok(ReadingsCsv { file: PartFile::create(path, CSV_HEADER)?, rows: 0 })
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The file the export is for, and where the rows wait until it is complete.
    pub fn paths(&self) -> (&Path, &Path) {
        (self.file.path(), &self.file.part)
    }
}

impl ReadingSink for ReadingsCsv {
    fn write(&mut self, r: &Reading, wall: Option<SystemTime>) -> Result<(), SinkError> {
        self.rows += 1;
        let line = csv_row(r, wall);
        writeln!(self.file.w, "{line}").map_err(self.file.err())?;
        Ok(())
    }

    /// Complete: renamed over `FILE`. Interrupted: the rows so far stay in `FILE.part`.
    fn finish(&mut self, end: End) -> Result<(), SinkError> {
        match end {
            End::Complete => self.file.finish()?,
            End::Interrupted => {
                self.file.keep_partial()?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estimate::Flags;

    fn reading() -> Reading {
        Reading {
            t_s: 2.0,
            duration_s: 1.0,
            samples: 8000,
            lost_samples: 0,
            irms_a: 4.98765,
            va: 1147.16,
            watts: 1147.16,
            kwh: 0.000318,
            hz: Some(50.01),
            flags: Flags { gap: true, ..Flags::default() },
            zero_offset_codes: None,
        }
    }

    #[test]
    fn csv_appends_header_once_and_cuts_torn_rows() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.csv");
        {
            let (mut s, cut) = CsvSink::open(&p).unwrap();
            assert_eq!(cut, None);
            s.write(&reading(), None).unwrap();
        }
        // Simulate a crash mid-row.
        std::fs::OpenOptions::new().append(true).open(&p).unwrap().write_all(b",,3.000,1.0").unwrap();
        let (mut s, cut) = CsvSink::open(&p).unwrap();
        assert_eq!(cut, Some(11));
        s.write(&reading(), None).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0], CSV_HEADER);
        assert_eq!(lines[1], ",,2.000,1.0000,4.9877,1147.16,1147.16,0.0003180,50.010,gap,0");
        assert_eq!(lines[1], lines[2]);
    }

    #[test]
    fn csv_refuses_foreign_header() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.csv");
        std::fs::write(&p, "a,b\n1,2\n").unwrap();
        let e = CsvSink::open(&p).err().unwrap().to_string();
        assert!(e.contains("r.csv:1: existing CSV header `a,b` differs"), "{e}");
    }

    /// An export replaces its file only when complete; interrupted, the rows stay in
    /// `FILE.part` and an older `FILE` is left alone.
    #[test]
    fn an_export_replaces_its_file_only_when_complete() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.csv");
        std::fs::write(&p, "old\n").unwrap();
        let part = dir.path().join("r.csv.part");

        let mut w = ReadingsCsv::create(&p).unwrap();
        w.write(&reading(), None).unwrap();
        w.finish(End::Interrupted).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "old\n");
        assert_eq!(std::fs::read_to_string(&part).unwrap().lines().count(), 2);

        let mut w = ReadingsCsv::create(&p).unwrap();
        w.write(&reading(), None).unwrap();
        w.write(&reading(), None).unwrap();
        assert_eq!(w.rows(), 2);
        w.finish(End::Complete).unwrap();
        assert!(!part.exists());
        let text = std::fs::read_to_string(&p).unwrap();
        assert_eq!(text.lines().next(), Some(CSV_HEADER));
        assert_eq!(text.lines().count(), 3);
    }
}
