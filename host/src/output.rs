//! Where readings go: a text line for people, JSON lines and CSV for programs.
//!
//! The CSV sink appends to an existing file (header written once), refuses a file whose header
//! differs, and writes each row with a single `write` followed by a flush, so an interrupted
//! run leaves only whole rows; a torn last row left by a crash is cut off, with a warning,
//! before appending.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::estimate::Reading;

/// CSV columns, in order. Documented in the README.
pub const CSV_HEADER: &str = "time_utc,unix_ms,t_s,duration_s,irms_a,va,watts,kwh,mains_hz,flags,lost_samples";

/// `x` with `sig` significant digits: the estimator is good to about 1 %, so printing more
/// digits would claim precision it does not have.
pub fn significant(x: f64, sig: usize) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x:.0}");
    }
    let digits = x.abs().log10().floor() as i32 + 1;
    let decimals = (sig as i32 - digits).max(0) as usize;
    format!("{x:.decimals$}")
}

/// ISO 8601 UTC with milliseconds, e.g. `2026-11-21T08:00:01.250Z`.
pub fn iso_utc(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

fn unix_ms(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// Wall-clock time of a reading, when the session has one.
pub fn wall_time(start: Option<SystemTime>, r: &Reading) -> Option<SystemTime> {
    start.map(|s| s + Duration::from_secs_f64(r.t_s.max(0.0)))
}

/// The human line: time, A, W, kWh, Hz, flags.
pub fn text_line(r: &Reading, wall: Option<SystemTime>) -> String {
    let time = wall.map_or_else(|| format!("t={:>9.1} s", r.t_s), |w| iso_utc(w)[..19].to_string() + "Z");
    let hz = r.hz.map_or("  --.-- Hz".to_string(), |h| format!("{h:>6.2} Hz"));
    let flags = r.flags.to_text();
    format!(
        "{time}  {:>7} A  {:>7} W  {:>10} kWh  {hz}{}{flags}",
        significant(r.irms_a, 4),
        significant(r.watts, 4),
        format!("{:.5}", r.kwh),
        if flags.is_empty() { "" } else { "  " }
    )
}

/// One JSON object per reading.
pub fn json_line(r: &Reading, wall: Option<SystemTime>) -> String {
    let obj = serde_json::json!({
        "time_utc": wall.map(iso_utc),
        "unix_ms": wall.map(unix_ms),
        "t_s": r.t_s,
        "duration_s": r.duration_s,
        "irms_a": r.irms_a,
        "va": r.va,
        "watts": r.watts,
        "kwh": r.kwh,
        "mains_hz": r.hz,
        "flags": r.flags,
        "lost_samples": r.lost_samples,
        "samples": r.samples,
    });
    obj.to_string()
}

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
pub enum SinkError {
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

/// Appends readings to a CSV file.
pub struct CsvSink {
    path: PathBuf,
    file: File,
}

impl CsvSink {
    /// Opens (or creates) `path` for appending. Returns the sink and, if a torn last row was
    /// removed, how many bytes were cut.
    pub fn open(path: &Path) -> Result<(Self, Option<u64>), SinkError> {
        let io = |source| SinkError::Io { path: path.to_owned(), source };
        let mut file = OpenOptions::new().read(true).create(true).append(true).open(path).map_err(io)?;
        let mut text = String::new();
        file.read_to_string(&mut text).map_err(io)?;
        let mut cut = None;
        if text.is_empty() {
            file.write_all(format!("{CSV_HEADER}\n").as_bytes()).map_err(io)?;
        } else {
            let first = text.lines().next().unwrap_or_default();
            if first != CSV_HEADER {
                return Err(SinkError::HeaderMismatch { path: path.to_owned(), found: first.to_owned() });
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

    /// Appends one whole row with a single write, then flushes.
    pub fn write(&mut self, r: &Reading, wall: Option<SystemTime>) -> Result<(), SinkError> {
        let line = csv_row(r, wall) + "\n";
        self.file
            .write_all(line.as_bytes())
            .and_then(|_| self.file.flush())
            .map_err(|source| SinkError::Io { path: self.path.clone(), source })
    }

    /// Forces written rows to disk (on exit).
    pub fn sync(&mut self) -> Result<(), SinkError> {
        self.file.sync_data().map_err(|source| SinkError::Io { path: self.path.clone(), source })
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
        }
    }

    #[test]
    fn significant_digits() {
        assert_eq!(significant(4.98765, 4), "4.988");
        assert_eq!(significant(95.0123, 4), "95.01");
        assert_eq!(significant(1147.16, 4), "1147");
        assert_eq!(significant(0.2049, 4), "0.2049");
        assert_eq!(significant(0.0, 4), "0");
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
}
