//! `ct-read export`: the readings of a recording to a CSV file and/or an SQLite database, or
//! its raw samples to CSV (`--raw`).
//!
//! Stopped early (Ctrl-C), an export keeps what it did: the CSV rows so far in `FILE.part`
//! (`FILE` itself, if any, untouched), and every committed batch in the database, so exporting
//! again adds just the readings still missing.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use super::Error;
use crate::calibration::Calibration;
use crate::estimate::EstimatorConfig;
use crate::export::RawCsv;
use crate::meter::Event;
use crate::notice::{Notice, Rows};
use crate::sink::csv::ReadingsCsv;
use crate::sink::remote::{Remote, RemoteConfig, Row};
use crate::sink::sqlite::SqliteSink;
use crate::sink::{End, ReadingSink, SinkError};

/// Readings per database transaction: progress survives an interruption, and the WAL stays
/// small, at a negligible cost next to one transaction per row.
const SQLITE_BATCH: u64 = 10_000;

/// Where an export goes.
#[derive(Debug, Clone, PartialEq)]
pub enum ExportTo {
    /// One row per reading (the live CSV format), to a CSV file, an SQLite database, remote
    /// databases (PostgreSQL, InfluxDB), or several of them.
    Readings { csv: Option<PathBuf>, sqlite: Option<PathBuf>, remote: Vec<RemoteConfig> },
    /// One row per sample (time, index, code, amps).
    Samples { csv: PathBuf },
}

#[derive(Debug, Clone)]
pub struct ExportOptions {
    pub file: PathBuf,
    pub to: ExportTo,
    /// The meter id written in every row.
    pub meter: String,
    /// Sample rate of a `code`-per-line CSV, in Hz.
    pub rate: Option<f64>,
    pub cal: Calibration,
    pub cfg: EstimatorConfig,
}

/// Exports the recording, telling `progress` the bytes read so far and `log` what `analyze`
/// would tell of the recording (gaps, restarts, corruption) and where the rows went; stops
/// early, keeping what it did, once `stop` is set.
pub fn run(
    opts: &ExportOptions,
    stop: &AtomicBool,
    progress: &mut dyn FnMut(u64),
    log: &mut dyn FnMut(&Notice),
) -> Result<(), Error> {
    let mut progress = |pos| {
        progress(pos);
        !stop.load(Ordering::Relaxed)
    };
    let end = || if stop.load(Ordering::Relaxed) { End::Interrupted } else { End::Complete };
    let tail = match &opts.to {
        ExportTo::Samples { csv } => {
            let mut w = RawCsv::create(csv, opts.cal.clone())?;
            let mut error = None;
            let tail = crate::replay::samples(
                &opts.file,
                &opts.cal,
                opts.rate,
                &mut progress,
                &mut |n| log(&n.into()),
                &mut |run, clock| match w.run(run, clock) {
                    Ok(()) => true,
                    Err(e) => {
                        error = Some(e);
                        false
                    }
                },
            )?;
            if let Some(e) = error {
                return Err(e.into());
            }
            if end() == End::Interrupted {
                let part = w.keep_partial()?;
                log(&Notice::KeptPartial { part, path: csv.clone(), rows: Rows::Samples });
                return Ok(());
            }
            let rows = w.finish()?;
            log(&Notice::Wrote { path: csv.clone(), rows: Some((rows, Rows::Samples)) });
            if rows == 0 {
                return Err(Error::NoSamples { path: opts.file.clone() });
            }
            tail
        }
        ExportTo::Readings { csv, sqlite, remote } => {
            let mut remotes = Remotes::open(remote, &opts.meter)?;
            let mut w = csv.as_deref().map(|p| ReadingsCsv::create(p, &opts.meter)).transpose()?;
            let mut db = sqlite
                .as_deref()
                .map(|p| SqliteSink::open(p, &opts.meter).map(|db| db.batched(SQLITE_BATCH)))
                .transpose()?;
            let mut error: Option<SinkError> = None;
            let mut remote_error: Option<Error> = None;
            let mut readings = 0u64;
            let tail = crate::replay::readings(
                &opts.file,
                opts.cal.clone(),
                opts.cfg,
                opts.rate,
                &mut progress,
                &mut |e, wall| {
                    let r = match e {
                        Event::Reading(r) => r,
                        Event::Notice(n) => return log(&n.into()),
                    };
                    readings += 1;
                    if error.is_some() {
                        return;
                    }
                    if let Some(Err(e)) = w.as_mut().map(|w| w.write(&r, wall)) {
                        error.get_or_insert(e);
                    }
                    if let Some(Err(e)) = db.as_mut().map(|db| db.write(&r, wall)) {
                        error.get_or_insert(e);
                    }
                    if let Err(e) = remotes.push(&r, wall, &opts.file) {
                        remote_error.get_or_insert(e);
                    }
                },
            )?;
            if let Some(e) = remote_error {
                return Err(e);
            }
            remotes.flush()?;
            if let Some(e) = error {
                return Err(e.into());
            }
            let end = end();
            if let Some(w) = &mut w {
                w.finish(end)?;
                let (path, part) = w.paths();
                log(&match end {
                    End::Complete => Notice::Wrote { path: path.to_owned(), rows: Some((w.rows(), Rows::Readings)) },
                    End::Interrupted => {
                        Notice::KeptPartial { part: part.to_owned(), path: path.to_owned(), rows: Rows::Readings }
                    }
                });
            }
            if let (Some(db), Some(path)) = (&mut db, sqlite) {
                ReadingSink::finish(db, end)?;
                let (added, skipped) = db.counts();
                log(&Notice::DatabaseCounts { path: path.clone(), added, skipped });
                if end == End::Interrupted {
                    log(&Notice::DatabaseResumable);
                }
            }
            for (sink, sent, added) in remotes.counts() {
                log(&Notice::RemoteCounts { sink, sent, added: Some(added) });
            }
            if readings == 0 && end == End::Complete {
                return Err(Error::NoSamples { path: opts.file.clone() });
            }
            tail
        }
    };
    if let Some(t) = tail {
        log(&Notice::CaptureDamage(t));
    }
    Ok(())
}

/// The remote databases of an export, fed in batches of [`BATCH`](crate::sink::spool::BATCH).
struct Remotes {
    remotes: Vec<(Box<dyn Remote>, u64, u64)>,
    meter: String,
    batch: Vec<Row>,
}

impl Remotes {
    /// Connects to each (bringing schemas up to date): one that cannot be reached fails the
    /// export before anything is read.
    fn open(configs: &[RemoteConfig], meter: &str) -> Result<Self, Error> {
        let mut remotes = Vec::new();
        for c in configs {
            let mut r = c.remote(meter)?;
            r.open()?;
            remotes.push((r, 0, 0));
        }
        Ok(Remotes { remotes, meter: meter.to_owned(), batch: Vec::new() })
    }

    fn push(
        &mut self,
        r: &crate::estimate::Reading,
        wall: Option<std::time::SystemTime>,
        file: &std::path::Path,
    ) -> Result<(), Error> {
        if self.remotes.is_empty() {
            return Ok(());
        }
        let wall = wall.ok_or_else(|| Error::NoTime { path: file.to_owned() })?;
        self.batch.push(Row::new(&self.meter, r, wall));
        if self.batch.len() >= crate::sink::spool::BATCH {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), Error> {
        for (remote, sent, added) in &mut self.remotes {
            *added += remote.send(&self.batch)?;
            *sent += self.batch.len() as u64;
        }
        self.batch.clear();
        Ok(())
    }

    /// Each remote's name, readings sent and readings new to it.
    fn counts(&self) -> Vec<(String, u64, u64)> {
        self.remotes.iter().map(|(r, sent, added)| (r.name(), *sent, *added)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::fixtures::synthetic_capture;
    use crate::sink::csv::part_path;
    use rusqlite::Connection;
    use std::path::Path;

    fn options(file: PathBuf, to: ExportTo) -> ExportOptions {
        ExportOptions {
            file,
            to,
            meter: "m1".into(),
            rate: None,
            cal: Calibration::builtin(),
            cfg: EstimatorConfig::default(),
        }
    }

    /// Keeps the export's own notices; the meter's are the recording's (tested apart).
    fn not_meter(notices: &mut Vec<Notice>, n: &Notice) {
        if !matches!(n, Notice::Meter(_)) {
            notices.push(n.clone());
        }
    }

    fn db_rows(db: &Path) -> i64 {
        Connection::open(db).unwrap().query_row("SELECT count(*) FROM readings", [], |r| r.get(0)).unwrap()
    }

    /// A complete export: the CSV in place (no `.part` left), the same readings in a new
    /// SQLite file, and exporting again skips every row.
    #[test]
    fn readings_to_csv_and_a_new_sqlite_file() {
        let dir = tempfile::tempdir().unwrap();
        let cap = dir.path().join("c.ctcap");
        synthetic_capture(&cap, 5.0, 8.0, 1_790_000_000_000_000_000);
        let (csv, db) = (dir.path().join("out.csv"), dir.path().join("m.db"));
        let to = ExportTo::Readings { csv: Some(csv.clone()), sqlite: Some(db.clone()), remote: vec![] };
        let mut notices = Vec::new();
        run(&options(cap.clone(), to), &AtomicBool::new(false), &mut |_| {}, &mut |n| not_meter(&mut notices, n))
            .unwrap();
        let rows = std::fs::read_to_string(&csv).unwrap().lines().count() as u64 - 1;
        assert!(rows >= 7, "{rows}");
        assert!(!part_path(&csv).exists());
        assert_eq!(db_rows(&db) as u64, rows);
        assert_eq!(
            notices,
            [
                Notice::Wrote { path: csv, rows: Some((rows, Rows::Readings)) },
                Notice::DatabaseCounts { path: db.clone(), added: rows, skipped: 0 }
            ]
        );

        let mut notices = Vec::new();
        let to = ExportTo::Readings { csv: None, sqlite: Some(db.clone()), remote: vec![] };
        run(&options(cap, to), &AtomicBool::new(false), &mut |_| {}, &mut |n| not_meter(&mut notices, n)).unwrap();
        assert_eq!(notices, [Notice::DatabaseCounts { path: db, added: 0, skipped: rows }]);
    }

    /// Stopped halfway (the flag set from the progress callback, as Ctrl-C would): the CSV rows
    /// so far are in `FILE.part`, `FILE` is untouched, the database has committed the same
    /// readings, and the notices say so.
    #[test]
    fn an_interrupted_export_keeps_its_rows_in_the_part_file() {
        let dir = tempfile::tempdir().unwrap();
        let cap = dir.path().join("c.ctcap");
        synthetic_capture(&cap, 5.0, 20.0, 1_790_000_000_000_000_000);
        let half = std::fs::metadata(&cap).unwrap().len() / 2;
        let (csv, db) = (dir.path().join("out.csv"), dir.path().join("m.db"));
        std::fs::write(&csv, "an older export\n").unwrap();
        let stop = AtomicBool::new(false);
        let mut notices = Vec::new();
        let to = ExportTo::Readings { csv: Some(csv.clone()), sqlite: Some(db.clone()), remote: vec![] };
        run(
            &options(cap, to),
            &stop,
            &mut |pos| {
                if pos >= half {
                    stop.store(true, Ordering::Relaxed)
                }
            },
            &mut |n| not_meter(&mut notices, n),
        )
        .unwrap();
        assert_eq!(std::fs::read_to_string(&csv).unwrap(), "an older export\n");
        let part = part_path(&csv);
        let rows = std::fs::read_to_string(&part).unwrap().lines().count() as u64 - 1;
        assert!((5..19).contains(&rows), "{rows} rows of about 20");
        assert_eq!(db_rows(&db) as u64, rows);
        assert_eq!(
            notices,
            [
                Notice::KeptPartial { part, path: csv, rows: Rows::Readings },
                Notice::DatabaseCounts { path: db, added: rows, skipped: 0 },
                Notice::DatabaseResumable
            ]
        );
    }

    /// A FIFO is written in place and stays a FIFO (a rename used to replace it with a regular
    /// file); a symlink's target is replaced and the link kept; a directory is refused.
    #[test]
    fn an_export_never_replaces_what_is_not_a_regular_file() {
        use std::os::unix::fs::FileTypeExt;
        let dir = tempfile::tempdir().unwrap();
        let cap = dir.path().join("c.ctcap");
        synthetic_capture(&cap, 5.0, 3.0, 1_790_000_000_000_000_000);
        let fifo = dir.path().join("rows.fifo");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
        };
        let to = ExportTo::Readings { csv: Some(fifo.clone()), sqlite: None, remote: vec![] };
        let mut notices = Vec::new();
        run(&options(cap.clone(), to), &AtomicBool::new(false), &mut |_| {}, &mut |n| not_meter(&mut notices, n))
            .unwrap();
        let text = reader.join().unwrap();
        assert_eq!(text.lines().next(), Some(crate::sink::csv::CSV_HEADER));
        let rows = text.lines().count() as u64 - 1;
        assert!(rows >= 2, "{text}");
        assert!(std::fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo(), "the FIFO was replaced");
        assert!(!part_path(&fifo).exists());
        assert_eq!(notices, [Notice::Wrote { path: fifo, rows: Some((rows, Rows::Readings)) }]);

        let real = dir.path().join("real.csv");
        std::fs::write(&real, "old\n").unwrap();
        let link = dir.path().join("link.csv");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let to = ExportTo::Samples { csv: link.clone() };
        run(&options(cap.clone(), to), &AtomicBool::new(false), &mut |_| {}, &mut |_| {}).unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link was replaced");
        assert!(std::fs::read_to_string(&real).unwrap().starts_with(crate::export::RAW_HEADER));

        let to = ExportTo::Readings { csv: Some(dir.path().to_owned()), sqlite: None, remote: vec![] };
        let e = run(&options(cap, to), &AtomicBool::new(false), &mut |_| {}, &mut |_| {}).unwrap_err();
        assert!(e.to_string().contains("is a directory; refusing to replace it"), "{e}");
    }

    /// Raw samples: one row per sample, complete or interrupted.
    #[test]
    fn samples_to_csv_complete_and_interrupted() {
        let dir = tempfile::tempdir().unwrap();
        let cap = dir.path().join("c.ctcap");
        synthetic_capture(&cap, 5.0, 2.0, 1_790_000_000_000_000_000);
        let csv = dir.path().join("raw.csv");
        let to = ExportTo::Samples { csv: csv.clone() };
        let mut notices = Vec::new();
        run(&options(cap.clone(), to.clone()), &AtomicBool::new(false), &mut |_| {}, &mut |n| {
            not_meter(&mut notices, n)
        })
        .unwrap();
        let text = std::fs::read_to_string(&csv).unwrap();
        assert_eq!(text.lines().next(), Some(crate::export::RAW_HEADER));
        let rows = text.lines().count() as u64 - 1;
        // Two seconds of the fast profile, in whole frames.
        assert!((15_000..=16_400).contains(&rows), "{rows}");
        assert_eq!(notices, [Notice::Wrote { path: csv.clone(), rows: Some((rows, Rows::Samples)) }]);

        std::fs::remove_file(&csv).unwrap();
        let mut notices = Vec::new();
        run(&options(cap, to), &AtomicBool::new(true), &mut |_| {}, &mut |n| not_meter(&mut notices, n)).unwrap();
        assert!(!csv.exists());
        assert_eq!(notices, [Notice::KeptPartial { part: part_path(&csv), path: csv, rows: Rows::Samples }]);
    }
}
