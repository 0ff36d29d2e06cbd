//! Readings straight into an SQLite database (`--sqlite FILE`), in the table of
//! `host/sql/readings.sql`: the same columns as the CSV, so both paths give the same rows.
//! The database is brought to this release's schema when it is opened ([`super::schema`]):
//! one written by an older release is upgraded in place, one by a newer release refused.
//!
//! The database is in WAL mode and every reading (live) or batch (export) is one transaction,
//! so a crash or `kill -9` leaves whole rows and a database that opens cleanly. Rows are
//! inserted with `INSERT OR IGNORE` on the (`meter`, `unix_ms`) key: re-exporting a capture,
//! or exporting one that was also logged, adds only readings the database does not have yet,
//! and several meters share one database.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use rusqlite::{params, Connection};

use super::format::{iso_utc, unix_ms};
use super::{End, ReadingSink, SinkError};
use crate::estimate::Reading;

#[derive(Debug, thiserror::Error)]
pub enum SqliteError {
    #[error("{path}: {source}")]
    Db {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("{path}: {source}")]
    Schema {
        path: PathBuf,
        #[source]
        source: super::schema::SchemaError,
    },
    #[error(
        "{path}: this input has no wall-clock times, so its readings have no key in the database\n\
         help: record with `ct-read record` (captures keep receive times), or use --csv"
    )]
    NoTime { path: PathBuf },
}

impl From<SqliteError> for SinkError {
    fn from(e: SqliteError) -> Self {
        SinkError::new(e)
    }
}

/// Appends readings to an SQLite database.
pub struct SqliteSink {
    path: PathBuf,
    /// The meter id written in every row.
    meter: String,
    conn: Connection,
    in_tx: bool,
    /// Rows per transaction (see [`SqliteSink::batched`]); 1 makes each its own.
    batch: u64,
    inserted: u64,
    skipped: u64,
}

impl SqliteSink {
    /// Opens (or creates) the database at `path` for the readings of meter `meter`.
    pub fn open(path: &Path, meter: &str) -> Result<Self, SqliteError> {
        let db = |source| SqliteError::Db { path: path.to_owned(), source };
        let mut conn = Connection::open(path).map_err(db)?;
        conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(db)?;
        // Before anything is written (WAL mode included): a database of a newer release is
        // refused untouched.
        super::schema::migrate_sqlite(&mut conn, meter)
            .map_err(|source| SqliteError::Schema { path: path.to_owned(), source })?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(db)?;
        // In WAL mode NORMAL still never corrupts the database; a power cut may lose the last
        // transactions, a killed process loses nothing.
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(db)?;
        Ok(SqliteSink {
            path: path.to_owned(),
            meter: meter.to_owned(),
            conn,
            in_tx: false,
            batch: 1,
            inserted: 0,
            skipped: 0,
        })
    }

    fn db(&self) -> impl Fn(rusqlite::Error) -> SqliteError + '_ {
        |source| SqliteError::Db { path: self.path.clone(), source }
    }

    /// Groups the following rows into one transaction until [`SqliteSink::commit`] (exports:
    /// one transaction per row would be a thousand times slower).
    pub fn begin(&mut self) -> Result<(), SqliteError> {
        if !self.in_tx {
            self.conn.execute_batch("BEGIN").map_err(self.db())?;
            self.in_tx = true;
        }
        Ok(())
    }

    pub fn commit(&mut self) -> Result<(), SqliteError> {
        if self.in_tx {
            self.conn.execute_batch("COMMIT").map_err(self.db())?;
            self.in_tx = false;
        }
        Ok(())
    }

    /// Commits every `rows` readings instead of each (exports: a transaction per row would
    /// be a thousand times slower, while committed batches survive an interruption and keep the
    /// WAL small).
    pub fn batched(mut self, rows: u64) -> Self {
        self.batch = rows.max(1);
        self
    }

    /// Rows inserted and rows skipped as already present.
    pub fn counts(&self) -> (u64, u64) {
        (self.inserted, self.skipped)
    }

    /// Commits and checkpoints the WAL into the database file (on exit).
    pub fn finish(&mut self) -> Result<(), SqliteError> {
        self.commit()?;
        self.conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").map_err(self.db())
    }
}

impl ReadingSink for SqliteSink {
    /// Inserts one reading unless a row with its time is already there. Outside
    /// `begin`/`commit` (and unbatched) it is its own transaction.
    fn write(&mut self, r: &Reading, wall: Option<SystemTime>) -> Result<(), SinkError> {
        let Some(wall) = wall else { return Err(SqliteError::NoTime { path: self.path.clone() }.into()) };
        if self.batch > 1 {
            self.begin()?;
        }
        let ms = unix_ms(wall);
        let flags = r.flags.to_text();
        let mut stmt = self
            .conn
            .prepare_cached(
                "INSERT OR IGNORE INTO readings (meter, time_utc, unix_ms, t_s, duration_s, irms_a, va, watts, \
                 kwh, mains_hz, flags, lost_samples, clock_ppm, bound_pct, bound_below_pct) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            )
            .map_err(self.db())?;
        let n = stmt
            .execute(params![
                self.meter,
                iso_utc(wall),
                ms,
                r.t_s,
                r.duration_s,
                r.irms_a,
                r.va,
                r.watts,
                r.kwh,
                r.hz,
                (!flags.is_empty()).then_some(flags),
                r.lost_samples as i64,
                r.clock_ppm.map(f64::round),
                r.bound_pct,
                r.bound_below_pct,
            ])
            .map_err(|source| SqliteError::Db { path: self.path.clone(), source })?;
        drop(stmt);
        if n == 1 {
            self.inserted += 1;
        } else {
            self.skipped += 1;
        }
        if self.batch > 1 && (self.inserted + self.skipped).is_multiple_of(self.batch) {
            self.commit()?;
        }
        Ok(())
    }

    fn finish(&mut self, _end: End) -> Result<(), SinkError> {
        Ok(SqliteSink::finish(self)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estimate::Flags;
    use std::time::{Duration, UNIX_EPOCH};

    fn reading(t_s: f64) -> Reading {
        Reading {
            t_s,
            duration_s: 1.0,
            samples: 8000,
            lost_samples: 0,
            irms_a: 4.98,
            va: 1145.4,
            watts: 1145.4,
            kwh: 0.0003,
            hz: if t_s > 1.5 { Some(50.01) } else { None },
            flags: Flags { gap: t_s > 2.5, ..Flags::default() },
            zero_offset_codes: None,
            zero_corrected: true,
            clock_ppm: None,
            bound_pct: None,
            bound_below_pct: None,
        }
    }

    #[test]
    fn rows_are_keyed_by_meter_and_time_and_not_duplicated() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.db");
        let t0 = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        // Twice for each of two meters, at the same times.
        for meter in ["kitchen", "garage", "kitchen", "garage"] {
            let mut s = SqliteSink::open(&p, meter).unwrap();
            s.begin().unwrap();
            for k in 1..=3 {
                s.write(&reading(k as f64), Some(t0 + Duration::from_secs(k))).unwrap();
            }
            s.finish().unwrap();
        }
        let conn = Connection::open(&p).unwrap();
        type Row = (String, String, i64, Option<f64>, Option<String>);
        let rows: Vec<Row> = conn
            .prepare("SELECT meter, time_utc, unix_ms, mains_hz, flags FROM readings ORDER BY meter, unix_ms")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(rows.len(), 6);
        assert_eq!(
            rows[0],
            ("garage".to_string(), "2027-01-15T08:00:01.000Z".to_string(), 1_800_000_001_000, None, None)
        );
        assert_eq!(rows[3].0, "kitchen");
        assert_eq!(rows[3].2, 1_800_000_001_000);
        assert_eq!(rows[5].3, Some(50.01));
        assert_eq!(rows[5].4.as_deref(), Some("gap"));
        let e = SqliteSink::open(&p, "kitchen").unwrap().write(&reading(1.0), None).unwrap_err().to_string();
        assert!(e.contains("m.db: this input has no wall-clock times"), "{e}");
    }

    /// A database of the first release (migration 1's table, no `clock_ppm`) gets the column,
    /// keeps its rows, and takes readings with a measured clock.
    #[test]
    fn an_older_database_gets_the_clock_column() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("old.db");
        let conn = Connection::open(&p).unwrap();
        conn.execute_batch(include_str!("../../sql/migrations/0001_readings.sql")).unwrap();
        conn.execute("INSERT INTO readings (t_s, duration_s, irms_a, va, watts, kwh, lost_samples, unix_ms) VALUES (1, 1, 1, 1, 1, 1, 0, 5)", []).unwrap();
        drop(conn);
        let t0 = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let mut s = SqliteSink::open(&p, "kitchen").unwrap();
        s.write(&Reading { clock_ppm: Some(30012.4), ..reading(2.0) }, Some(t0)).unwrap();
        s.finish().unwrap();
        let conn = Connection::open(&p).unwrap();
        let ppm: Vec<Option<f64>> = conn
            .prepare("SELECT clock_ppm FROM readings ORDER BY unix_ms")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(ppm, [None, Some(30012.0)]);
    }
}
