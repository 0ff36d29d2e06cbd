//! Readings as CSV rows, the format documented in the README, in the two ways a file is
//! written.
//!
//! [`CsvSink`] (live `--csv`, `analyze --csv`) appends to an existing file (header written
//! once), refuses a file whose header differs, and writes each row with a single `write`
//! followed by a flush, so an interrupted run leaves only whole rows; a torn last row left by
//! a crash is cut off, with a warning, before appending.
//!
//! [`ReadingsCsv`] (`export --csv`) writes `FILE.part` and renames it over `FILE` when the
//! export is complete, so an interrupted export never leaves a file that looks finished; a
//! `FILE` that is a pipe or a device is written in place, never replaced.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::format::{iso_utc, unix_ms};
use super::{End, ReadingSink, SinkError};
use crate::estimate::Reading;
use crate::place::{PlaceError, Placement};

/// CSV columns, in order. Documented in the README. `meter` (the node id) and `unix_ms`
/// together are a reading's key, as in the databases.
pub const CSV_HEADER: &str =
    "meter,time_utc,unix_ms,t_s,duration_s,irms_a,va,watts,kwh,mains_hz,flags,lost_samples,clock_ppm,bound_pct,bound_below_pct";

/// One CSV row (no newline) of meter `meter`, columns as [`CSV_HEADER`].
pub fn csv_row(meter: &str, r: &Reading, wall: Option<SystemTime>) -> String {
    let mut w = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
    let rec = [
        meter.to_owned(),
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
        r.clock_ppm.map(|p| format!("{p:.0}")).unwrap_or_default(),
        r.bound_pct.map(|b| format!("{b:.1}")).unwrap_or_default(),
        r.bound_below_pct.map(|b| format!("{b:.1}")).unwrap_or_default(),
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
    #[error("{path}: the last line is longer than {max} bytes: not a CSV of readings\nhelp: write to a new file")]
    LongLastLine { path: PathBuf, max: u64 },
    #[error(transparent)]
    Place(#[from] PlaceError),
}

/// Checks that `r` (at its start) begins with this version's header line, or with a prefix of
/// it that ends the file (a header torn by a crash, cut with the torn row).
fn check_header(r: &mut File, path: &Path) -> Result<(), CsvError> {
    let mut head = Vec::with_capacity(CSV_HEADER.len() + 1);
    Read::by_ref(r)
        .take(CSV_HEADER.len() as u64 + 1)
        .read_to_end(&mut head)
        .map_err(|source| CsvError::Io { path: path.to_owned(), source })?;
    let want = format!("{CSV_HEADER}\n");
    if head == want.as_bytes() || (head.len() < want.len() && want.as_bytes().starts_with(&head)) {
        return Ok(());
    }
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    Err(CsvError::HeaderMismatch { path: path.to_owned(), found: String::from_utf8_lossy(line).into_owned() })
}

/// The length of the file up to and including its last newline (0 if the file has none), from
/// at most its last [`MAX_ROW`] bytes; `None` if those hold no newline in a longer file.
fn after_last_newline(r: &mut File, len: u64) -> std::io::Result<Option<u64>> {
    let from = len.saturating_sub(MAX_ROW);
    r.seek(SeekFrom::Start(from))?;
    let mut end = Vec::new();
    r.take(len - from).read_to_end(&mut end)?;
    Ok(match end.iter().rposition(|&b| b == b'\n') {
        Some(i) => Some(from + i as u64 + 1),
        None if from == 0 => Some(0),
        None => None,
    })
}

impl From<CsvError> for SinkError {
    fn from(e: CsvError) -> Self {
        SinkError::new(e)
    }
}

/// Appends readings to a CSV file.
pub struct CsvSink {
    path: PathBuf,
    meter: String,
    file: File,
    /// A regular file, which `finish` syncs (a pipe or device cannot be synced).
    regular: bool,
}

/// The longest row this sink writes is far below this; a last line longer than it is not a
/// torn row of ours.
const MAX_ROW: u64 = 64 * 1024;

impl CsvSink {
    /// Opens (or creates) `path` for appending. Returns the sink and, if a torn last row was
    /// removed, how many bytes were cut.
    ///
    /// Of an existing regular file only the header and the end are read, so appending to a file
    /// of any size costs no memory. Anything else (a pipe, `/dev/stdout`, a device) is a stream:
    /// it is never read (reading it would block, or never end), and it gets the header, as a
    /// new file does.
    pub fn open(path: &Path, meter: &str) -> Result<(Self, Option<u64>), CsvError> {
        let io = |source| CsvError::Io { path: path.to_owned(), source };
        let mut file = OpenOptions::new().create(true).append(true).open(path).map_err(io)?;
        let meta = file.metadata().map_err(io)?;
        let mut cut = None;
        let mut header = !meta.is_file() || meta.len() == 0;
        if !header {
            let mut r = File::open(path).map_err(io)?;
            check_header(&mut r, path)?;
            let keep = after_last_newline(&mut r, meta.len())
                .map_err(io)?
                .ok_or_else(|| CsvError::LongLastLine { path: path.to_owned(), max: MAX_ROW })?;
            if keep < meta.len() {
                cut = Some(meta.len() - keep);
                file.set_len(keep).map_err(io)?;
                header = keep == 0;
            }
        }
        if header {
            file.write_all(format!("{CSV_HEADER}\n").as_bytes()).map_err(io)?;
        }
        file.flush().map_err(io)?;
        Ok((CsvSink { path: path.to_owned(), meter: meter.to_owned(), file, regular: meta.is_file() }, cut))
    }

    fn io(&self) -> impl Fn(std::io::Error) -> CsvError + '_ {
        |source| CsvError::Io { path: self.path.clone(), source }
    }
}

impl ReadingSink for CsvSink {
    /// Appends one whole row with a single write, then flushes.
    fn write(&mut self, r: &Reading, wall: Option<SystemTime>) -> Result<(), SinkError> {
        let line = csv_row(&self.meter, r, wall) + "\n";
        self.file.write_all(line.as_bytes()).and_then(|_| self.file.flush()).map_err(self.io())?;
        Ok(())
    }

    /// Forces written rows to disk.
    fn finish(&mut self, _end: End) -> Result<(), SinkError> {
        if self.regular {
            self.file.sync_data().map_err(self.io())?;
        }
        Ok(())
    }
}

/// Where an export to `path` (a regular file) keeps its rows until it is complete: `FILE.part`.
pub fn part_path(path: &Path) -> PathBuf {
    let mut part = path.as_os_str().to_owned();
    part.push(".part");
    PathBuf::from(part)
}

/// A file written under a temporary name, `FILE.part`, and renamed to `FILE` when finished; or,
/// when `FILE` is a pipe or a device (which a rename would destroy), written in place
/// ([`crate::place`]).
pub(crate) struct PartFile {
    path: PathBuf,
    placement: Placement,
    /// Where the rows are written: `FILE.part`, or `FILE` itself in place.
    pub(crate) part: PathBuf,
    pub(crate) w: BufWriter<File>,
}

impl PartFile {
    pub(crate) fn create(path: &Path, header: &str) -> Result<Self, CsvError> {
        let placement = crate::place::placement(path, ".part")?;
        let (file, part) = crate::place::create(path, &placement)?;
        let err = |source| CsvError::Io { path: part.clone(), source };
        let mut w = BufWriter::with_capacity(1 << 20, file);
        writeln!(w, "{header}").map_err(err)?;
        Ok(PartFile { path: path.to_owned(), placement, part, w })
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
        if self.placement != Placement::InPlace {
            self.w.get_ref().sync_data().map_err(self.err())?;
        }
        Ok(crate::place::finish(&self.placement)?)
    }

    /// Flushes what was written and leaves it under the temporary name (an interrupted export);
    /// returns where it is (the path itself, written in place).
    pub(crate) fn keep_partial(&mut self) -> Result<&Path, CsvError> {
        self.w.flush().map_err(self.err())?;
        Ok(&self.part)
    }
}

/// Readings as CSV, with the columns of [`CSV_HEADER`] (the same as live `--csv`), replacing
/// `FILE` only when complete.
pub struct ReadingsCsv {
    file: PartFile,
    meter: String,
    rows: u64,
}

impl ReadingsCsv {
    pub fn create(path: &Path, meter: &str) -> Result<Self, CsvError> {
        Ok(ReadingsCsv { file: PartFile::create(path, CSV_HEADER)?, meter: meter.to_owned(), rows: 0 })
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
        let line = csv_row(&self.meter, r, wall);
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
            zero_corrected: true,
            clock_ppm: None,
            bound_pct: None,
            bound_below_pct: None,
        }
    }

    #[test]
    fn csv_appends_header_once_and_cuts_torn_rows() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.csv");
        {
            let (mut s, cut) = CsvSink::open(&p, "m1").unwrap();
            assert_eq!(cut, None);
            s.write(&reading(), None).unwrap();
        }
        // Simulate a crash mid-row.
        std::fs::OpenOptions::new().append(true).open(&p).unwrap().write_all(b"m1,,,3.000,1.0").unwrap();
        let (mut s, cut) = CsvSink::open(&p, "m1").unwrap();
        assert_eq!(cut, Some(14));
        s.write(&reading(), None).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0], CSV_HEADER);
        assert_eq!(lines[1], "m1,,,2.000,1.0000,4.9877,1147.16,1147.16,0.0003180,50.010,gap,0,,,");
        assert_eq!(lines[1], lines[2]);
    }

    /// A reading's stated bound is the last two columns, percent to a tenth: both sides where
    /// they differ, the low side empty where the bound holds on both.
    #[test]
    fn the_stated_bound_is_the_last_columns() {
        let r = Reading { bound_pct: Some(12.345), clock_ppm: Some(-31.2), ..reading() };
        assert_eq!(
            csv_row("m1", &r, None),
            "m1,,,2.000,1.0000,4.9877,1147.16,1147.16,0.0003180,50.010,gap,0,-31,12.3,"
        );
        let sided = Reading { bound_below_pct: Some(61.04), ..r };
        assert!(csv_row("m1", &sided, None).ends_with(",-31,12.3,61.0"));
        assert!(CSV_HEADER.ends_with(",clock_ppm,bound_pct,bound_below_pct"));
    }

    /// A pipe (a FIFO here; `/dev/stdout | cat` is the same) is written to, never read: it gets
    /// the header and the rows. Reading it first blocked forever.
    #[test]
    fn csv_to_a_pipe_is_written_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("rows.fifo");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
        };
        let (done, wait) = std::sync::mpsc::channel();
        let writer = fifo.clone();
        std::thread::spawn(move || {
            let (mut s, cut) = CsvSink::open(&writer, "m1").unwrap();
            s.write(&reading(), None).unwrap();
            s.finish(End::Complete).unwrap();
            done.send(cut).unwrap();
        });
        let cut = wait.recv_timeout(std::time::Duration::from_secs(10)).expect("CsvSink::open blocked on a pipe");
        assert_eq!(cut, None);
        let text = reader.join().unwrap();
        assert_eq!(
            text.lines().collect::<Vec<_>>(),
            [CSV_HEADER, "m1,,,2.000,1.0000,4.9877,1147.16,1147.16,0.0003180,50.010,gap,0,,,"]
        );
    }

    /// Appending to a large file reads only its header and its end: a torn header is replaced,
    /// a last line far longer than a row is refused rather than searched.
    #[test]
    fn csv_append_reads_only_the_header_and_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("big.csv");
        let row = csv_row("m1", &reading(), None) + "\n";
        let mut text = format!("{CSV_HEADER}\n");
        while text.len() < 4 << 20 {
            text.push_str(&row);
        }
        std::fs::write(&p, &text).unwrap();
        let (mut s, cut) = CsvSink::open(&p, "m1").unwrap();
        assert_eq!(cut, None);
        s.write(&reading(), None).unwrap();
        assert_eq!(std::fs::metadata(&p).unwrap().len(), (text.len() + row.len()) as u64);

        std::fs::write(&p, &CSV_HEADER[..9]).unwrap();
        let (_, cut) = CsvSink::open(&p, "m1").unwrap();
        assert_eq!(cut, Some(9));
        assert_eq!(std::fs::read_to_string(&p).unwrap(), format!("{CSV_HEADER}\n"));

        let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(&vec![b'x'; 100_000]).unwrap();
        let e = CsvSink::open(&p, "m1").err().unwrap();
        assert!(matches!(e, CsvError::LongLastLine { .. }), "{e}");
    }

    #[test]
    fn csv_refuses_foreign_header() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.csv");
        std::fs::write(&p, "a,b\n1,2\n").unwrap();
        let e = CsvSink::open(&p, "m1").err().unwrap().to_string();
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

        let mut w = ReadingsCsv::create(&p, "m1").unwrap();
        w.write(&reading(), None).unwrap();
        w.finish(End::Interrupted).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "old\n");
        assert_eq!(std::fs::read_to_string(&part).unwrap().lines().count(), 2);

        let mut w = ReadingsCsv::create(&p, "m1").unwrap();
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
