//! Store-and-forward: nothing lost while a database is down.
//!
//! Live, a reading for the remote databases (`--postgres`, `--influx`) is first committed to a
//! local spool, an SQLite database in WAL mode under the state directory ([`default_path`]),
//! and only then sent on. The meter thread does nothing but that local insert (about a
//! millisecond); a thread per remote database reads the spool after its own cursor and sends
//! what it finds in batches, oldest first, so a backlog left by an outage (or by a previous run
//! that was killed) goes out in order while new readings keep arriving behind it. A batch
//! moves the remote's cursor (table `cursors`) only once the database has acknowledged it; a
//! reading is deleted once every remote's cursor is past it. Because the cursor moves after
//! the acknowledgement, a crash between the two sends that batch again: the remote writes are
//! idempotent ([`super::remote`]), so it is in the database once all the same.
//!
//! A dead or slow database never blocks the meter: sending and its time-outs and retries
//! (after 1 s, doubling to every 10 s) happen on the remote's thread. The local insert's
//! fsync can itself take seconds behind a busy disk; the port is read and timed on a thread
//! of its own ([`crate::serial::read_loop`]), so that delays readings, not the stream.
//!
//! The spool is bounded (`--spool-max-rows`, a million readings, about 11 days at one a
//! second, some 100 MB): past that the oldest readings are dropped, with a warning naming how
//! many, so a database gone for good cannot fill the disk.
//!
//! A remote seen for the first time starts at the newest reading (the spool's older readings
//! were for the others); a remote no longer configured is forgotten, and what only it was
//! waiting for is pruned.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use rusqlite::{params, Connection, OptionalExtension};

use super::remote::{Remote, RemoteError, Row};
use super::{End, ReadingSink, SinkError};
use crate::estimate::Reading;
use crate::notice::Notice;

/// The default bound of the spool, in readings.
pub const MAX_ROWS: u64 = 1_000_000;
/// Readings per batch sent to a remote.
pub const BATCH: usize = 5_000;
/// The spool's bound and the remotes' batch size.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The most readings kept; past it the oldest are dropped.
    pub max_rows: u64,
    /// Readings per batch sent to a remote.
    pub batch: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_rows: MAX_ROWS, batch: BATCH }
    }
}

/// Retry intervals while a remote is down: a database back after an outage gets its backlog
/// within 10 s, and a dead one costs a failed connection every 10 s.
const RETRY_FIRST: Duration = Duration::from_secs(1);
const RETRY_MAX: Duration = Duration::from_secs(10);
/// How long the end of a session waits for the remotes to take what is left; the rest stays
/// in the spool for the next start.
const DRAIN: Duration = Duration::from_secs(10);

/// Columns added since the first spools, in order: a spool without them gets them on opening.
const ADDED_COLUMNS: [&str; 2] = ["bound_pct", "bound_below_pct"];

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS spool (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    meter        TEXT NOT NULL,
    unix_ms      INTEGER NOT NULL,
    t_s          REAL NOT NULL,
    duration_s   REAL NOT NULL,
    irms_a       REAL NOT NULL,
    va           REAL NOT NULL,
    watts        REAL NOT NULL,
    kwh          REAL NOT NULL,
    mains_hz     REAL,
    flags        TEXT NOT NULL,
    lost_samples INTEGER NOT NULL,
    clock_ppm    REAL,
    bound_pct    REAL,
    bound_below_pct REAL
);
CREATE TABLE IF NOT EXISTS cursors (
    sink    TEXT PRIMARY KEY,
    last_id INTEGER NOT NULL
);";

#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    #[error("spool {path}: {source}")]
    Db {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("spool {path}: {source}")]
    Dir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("spool {path}: a live reading without a wall-clock time")]
    NoTime { path: PathBuf },
    #[error(
        "no place for the spool of --postgres/--influx\nhelp: give --spool FILE or --state FILE (the spool goes \
         beside it), or set STATE_DIRECTORY or HOME"
    )]
    NoPlace,
}

impl From<SpoolError> for SinkError {
    fn from(e: SpoolError) -> Self {
        SinkError::new(e)
    }
}

/// Where the spool goes without `--spool`: beside the `--state` file, else in systemd's
/// `$STATE_DIRECTORY`, else `$XDG_STATE_HOME/ct-read` or `~/.local/state/ct-read`.
pub fn default_path(state: Option<&Path>) -> Result<PathBuf, SpoolError> {
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    let dir = match state {
        Some(s) => s.parent().map(|p| if p.as_os_str().is_empty() { Path::new(".") } else { p }.to_owned()),
        None => env("STATE_DIRECTORY")
            .or_else(|| env("XDG_STATE_HOME").map(|d| d.join("ct-read")))
            .or_else(|| env("HOME").map(|h| h.join(".local/state/ct-read"))),
    };
    Ok(dir.ok_or(SpoolError::NoPlace)?.join("spool.db"))
}

fn open_db(path: &Path) -> Result<Connection, SpoolError> {
    let db = |source| SpoolError::Db { path: path.to_owned(), source };
    let conn = Connection::open(path).map_err(db)?;
    conn.busy_timeout(Duration::from_secs(30)).map_err(db)?;
    conn.pragma_update(None, "journal_mode", "WAL").map_err(db)?;
    // FULL: a reading committed here survives a power cut too, since the spool is the only
    // copy until the remotes have it. One fsync a second is nothing.
    conn.pragma_update(None, "synchronous", "FULL").map_err(db)?;
    Ok(conn)
}

/// What the meter thread and the remotes' threads share.
struct Shared {
    stop: AtomicBool,
    /// Bumped at every new reading; the remotes wait on it when they have caught up.
    seq: Mutex<u64>,
    wake: Condvar,
}

impl Shared {
    fn notify(&self) {
        *self.seq.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        self.wake.notify_all();
    }

    /// Waits for a new reading, the stop, or `timeout`.
    fn wait(&self, seen: u64, timeout: Duration) -> u64 {
        let guard = self.seq.lock().unwrap_or_else(|e| e.into_inner());
        let (guard, _) = self
            .wake
            .wait_timeout_while(guard, timeout, |seq| *seq == seen && !self.stop.load(Ordering::Relaxed))
            .unwrap_or_else(|e| e.into_inner());
        *guard
    }

    /// Sleeps for `d`, or until the stop.
    fn sleep(&self, d: Duration) {
        let guard = self.seq.lock().unwrap_or_else(|e| e.into_inner());
        let _ = self.wake.wait_timeout_while(guard, d, |_| !self.stop.load(Ordering::Relaxed));
    }
}

type Log = Arc<dyn Fn(&Notice) + Send + Sync>;

/// The spool, as the sink of a live session for its remote databases.
pub struct Spool {
    path: PathBuf,
    meter: String,
    conn: Connection,
    max_rows: u64,
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
    log: Log,
    dropped: u64,
}

impl Spool {
    /// Opens (or creates) the spool at `path` for the readings of meter `meter`, and starts a
    /// thread for each remote, which first sends whatever the spool still holds for it.
    pub fn open(
        path: &Path,
        meter: &str,
        limits: Limits,
        remotes: Vec<Box<dyn Remote>>,
        log: impl Fn(&Notice) + Send + Sync + 'static,
    ) -> Result<Spool, SpoolError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| SpoolError::Dir { path: dir.to_owned(), source })?;
        }
        let mut conn = open_db(path)?;
        let db = |source| SpoolError::Db { path: path.to_owned(), source };
        conn.execute_batch(SCHEMA).map_err(db)?;
        // A spool written before readings stated their bound (or its low side apart) holds
        // readings still to send: the columns are added, theirs left empty.
        for column in ADDED_COLUMNS {
            if conn.prepare(&format!("SELECT {column} FROM spool LIMIT 0")).is_err() {
                conn.execute_batch(&format!("ALTER TABLE spool ADD COLUMN {column} REAL")).map_err(db)?;
            }
        }
        let names: Vec<String> = remotes.iter().map(|r| r.name()).collect();
        let tx = conn.transaction().map_err(db)?;
        {
            let known: Vec<String> = tx
                .prepare("SELECT sink FROM cursors")
                .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
                .map_err(db)?;
            for old in known.iter().filter(|k| !names.contains(k)) {
                tx.execute("DELETE FROM cursors WHERE sink = ?1", [old]).map_err(db)?;
            }
            for name in &names {
                tx.execute(
                    "INSERT OR IGNORE INTO cursors (sink, last_id) SELECT ?1, coalesce(max(id), 0) FROM spool",
                    [name],
                )
                .map_err(db)?;
            }
            prune(&tx).map_err(db)?;
        }
        tx.commit().map_err(db)?;
        let log: Log = Arc::new(log);
        let shared = Arc::new(Shared { stop: AtomicBool::new(false), seq: Mutex::new(0), wake: Condvar::new() });
        let mut threads = Vec::new();
        for remote in remotes {
            let name = remote.name();
            let backlog = backlog(&conn, &name).map_err(db)?;
            log(&Notice::Forwarding { sink: name.clone(), spool: path.to_owned(), backlog });
            let fwd = Forwarder {
                path: path.to_owned(),
                conn: open_db(path)?,
                name,
                remote,
                batch: limits.batch.max(1),
                shared: shared.clone(),
                log: log.clone(),
            };
            threads.push(
                std::thread::Builder::new()
                    .name("ct-read forward".into())
                    .spawn(move || fwd.run())
                    .map_err(|source| SpoolError::Dir { path: path.to_owned(), source })?,
            );
        }
        Ok(Spool {
            path: path.to_owned(),
            meter: meter.to_owned(),
            conn,
            max_rows: limits.max_rows.max(1),
            shared,
            threads,
            log,
            dropped: 0,
        })
    }

    fn db(&self) -> impl Fn(rusqlite::Error) -> SpoolError + '_ {
        |source| SpoolError::Db { path: self.path.clone(), source }
    }

    /// Commits one reading, dropping the oldest past the bound.
    pub fn push(&mut self, row: &Row) -> Result<(), SpoolError> {
        let tx = self.conn.transaction().map_err(|source| SpoolError::Db { path: self.path.clone(), source })?;
        tx.execute(
            "INSERT INTO spool (meter, unix_ms, t_s, duration_s, irms_a, va, watts, kwh, mains_hz, flags, lost_samples, \
             clock_ppm, bound_pct, bound_below_pct) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, \
             ?14)",
            params![
                row.meter,
                row.unix_ms,
                row.t_s,
                row.duration_s,
                row.irms_a,
                row.va,
                row.watts,
                row.kwh,
                row.mains_hz,
                row.flags,
                row.lost_samples,
                row.clock_ppm,
                row.bound_pct,
                row.bound_below_pct
            ],
        )
        .map_err(|source| SpoolError::Db { path: self.path.clone(), source })?;
        let (min, max): (i64, i64) = tx
            .query_row("SELECT min(id), max(id) FROM spool", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|source| SpoolError::Db { path: self.path.clone(), source })?;
        // Ids are consecutive: readings are only ever deleted from the oldest end.
        let over = (max - min + 1) as u64 - self.max_rows.min((max - min + 1) as u64);
        if over > 0 {
            tx.execute("DELETE FROM spool WHERE id < ?1", [min + over as i64])
                .map_err(|source| SpoolError::Db { path: self.path.clone(), source })?;
        }
        tx.commit().map_err(|source| SpoolError::Db { path: self.path.clone(), source })?;
        if over > 0 {
            // Once when it starts, then once an hour of one-second readings.
            if self.dropped == 0 || (self.dropped + over) / 3600 > self.dropped / 3600 {
                (self.log)(&Notice::SpoolFull {
                    path: self.path.clone(),
                    dropped: self.dropped + over,
                    max: self.max_rows,
                });
            }
            self.dropped += over;
        }
        self.shared.notify();
        Ok(())
    }

    /// Readings the spool holds for the remote named `name` (none if it has no cursor).
    pub fn backlog(&self, name: &str) -> Result<u64, SpoolError> {
        backlog(&self.conn, name).map_err(self.db())
    }

    /// Stops the remotes' threads, giving them up to `DRAIN` to send what is left; tells
    /// what stays in the spool for the next start.
    pub fn close(&mut self) -> Result<(), SpoolError> {
        self.shared.stop.store(true, Ordering::Relaxed);
        self.shared.notify();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        let waiting: Vec<(String, u64)> = self
            .conn
            .prepare("SELECT sink, (SELECT count(*) FROM spool WHERE id > last_id) FROM cursors")
            .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))?.collect())
            .map_err(self.db())?;
        for (sink, backlog) in waiting.into_iter().filter(|(_, n)| *n > 0) {
            (self.log)(&Notice::SpoolBacklog { sink, path: self.path.clone(), backlog });
        }
        self.conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").map_err(self.db())
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        self.shared.notify();
    }
}

fn backlog(conn: &Connection, name: &str) -> rusqlite::Result<u64> {
    conn.query_row("SELECT count(*) FROM spool WHERE id > (SELECT last_id FROM cursors WHERE sink = ?1)", [name], |r| {
        r.get::<_, i64>(0)
    })
    .map(|n| n as u64)
}

/// Deletes what every remote has.
fn prune(conn: &Connection) -> rusqlite::Result<()> {
    let min: Option<i64> = conn.query_row("SELECT min(last_id) FROM cursors", [], |r| r.get(0))?;
    conn.execute("DELETE FROM spool WHERE id <= ?1", [min.unwrap_or(i64::MAX)])?;
    Ok(())
}

impl ReadingSink for Spool {
    fn write(&mut self, r: &Reading, wall: Option<SystemTime>) -> Result<(), SinkError> {
        let wall = wall.ok_or_else(|| SpoolError::NoTime { path: self.path.clone() })?;
        Ok(self.push(&Row::new(&self.meter, r, wall))?)
    }

    fn finish(&mut self, _end: End) -> Result<(), SinkError> {
        Ok(self.close()?)
    }
}

/// One remote's thread.
struct Forwarder {
    path: PathBuf,
    conn: Connection,
    name: String,
    remote: Box<dyn Remote>,
    batch: usize,
    shared: Arc<Shared>,
    log: Log,
}

impl Forwarder {
    fn batch(&self) -> rusqlite::Result<(i64, Vec<Row>)> {
        let cursor: i64 = self
            .conn
            .query_row("SELECT last_id FROM cursors WHERE sink = ?1", [&self.name], |r| r.get(0))
            .optional()?
            .unwrap_or(0);
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, meter, unix_ms, t_s, duration_s, irms_a, va, watts, kwh, mains_hz, flags, lost_samples, \
             clock_ppm, bound_pct, bound_below_pct FROM spool WHERE id > ?1 ORDER BY id LIMIT ?2",
        )?;
        let mut last = cursor;
        let rows = stmt
            .query_map(params![cursor, self.batch as i64], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    Row {
                        meter: r.get(1)?,
                        unix_ms: r.get(2)?,
                        t_s: r.get(3)?,
                        duration_s: r.get(4)?,
                        irms_a: r.get(5)?,
                        va: r.get(6)?,
                        watts: r.get(7)?,
                        kwh: r.get(8)?,
                        mains_hz: r.get(9)?,
                        flags: r.get(10)?,
                        lost_samples: r.get(11)?,
                        clock_ppm: r.get(12)?,
                        bound_pct: r.get(13)?,
                        bound_below_pct: r.get(14)?,
                    },
                ))
            })?
            .map(|r| {
                r.map(|(id, row)| {
                    last = id;
                    row
                })
            })
            .collect::<rusqlite::Result<Vec<Row>>>()?;
        Ok((last, rows))
    }

    fn acknowledge(&mut self, last: i64) -> rusqlite::Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute("UPDATE cursors SET last_id = ?2 WHERE sink = ?1 AND last_id < ?2", params![self.name, last])?;
        prune(&tx)?;
        tx.commit()
    }

    fn run(mut self) {
        let mut seen = 0;
        let mut retry = RETRY_FIRST;
        let mut down = false;
        let mut drain_until: Option<Instant> = None;
        loop {
            if self.shared.stop.load(Ordering::Relaxed) {
                let until = *drain_until.get_or_insert_with(|| Instant::now() + DRAIN);
                if down || Instant::now() >= until {
                    return;
                }
            }
            let (last, rows) = match self.batch() {
                Ok(b) => b,
                Err(e) => {
                    (self.log)(&Notice::SinkRefused {
                        sink: self.name.clone(),
                        error: format!("spool {}: {e}", self.path.display()),
                    });
                    return;
                }
            };
            if rows.is_empty() {
                if drain_until.is_some() {
                    return;
                }
                seen = self.shared.wait(seen, Duration::from_secs(1));
                continue;
            }
            match self.remote.send(&rows) {
                Ok(_) => {
                    if let Err(e) = self.acknowledge(last) {
                        (self.log)(&Notice::SinkRefused {
                            sink: self.name.clone(),
                            error: format!("spool {}: {e}", self.path.display()),
                        });
                        return;
                    }
                    if down {
                        down = false;
                        let backlog = backlog(&self.conn, &self.name).unwrap_or(0);
                        (self.log)(&Notice::SinkBack { sink: self.name.clone(), backlog });
                    }
                    retry = RETRY_FIRST;
                }
                Err(RemoteError::Retry(e)) => {
                    if !down {
                        down = true;
                        let backlog = backlog(&self.conn, &self.name).unwrap_or(0);
                        (self.log)(&Notice::SinkUnreachable {
                            sink: self.name.clone(),
                            error: super::remote::chain(&*e),
                            backlog,
                        });
                    }
                    self.shared.sleep(retry);
                    retry = (retry * 2).min(RETRY_MAX);
                }
                Err(RemoteError::Fatal(e)) => {
                    (self.log)(&Notice::SinkRefused { sink: self.name.clone(), error: super::remote::chain(&*e) });
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A remote that is up or down as the test says, and records the batches it took.
    #[derive(Clone, Default)]
    struct Fake {
        up: Arc<AtomicBool>,
        batches: Arc<Mutex<Vec<Vec<i64>>>>,
    }

    #[derive(Debug, thiserror::Error)]
    #[error("down")]
    struct Down;

    impl Remote for Fake {
        fn name(&self) -> String {
            "fake".into()
        }
        fn open(&mut self) -> Result<(), RemoteError> {
            Ok(())
        }
        fn send(&mut self, rows: &[Row]) -> Result<u64, RemoteError> {
            if !self.up.load(Ordering::Relaxed) {
                return Err(RemoteError::Retry(Box::new(Down)));
            }
            self.batches.lock().unwrap().push(rows.iter().map(|r| r.unix_ms).collect());
            Ok(rows.len() as u64)
        }
    }

    fn row(ms: i64) -> Row {
        Row {
            meter: "m1".into(),
            unix_ms: ms,
            t_s: ms as f64,
            duration_s: 1.0,
            irms_a: 1.0,
            va: 230.0,
            watts: 230.0,
            kwh: 0.0,
            mains_hz: Some(50.0),
            flags: String::new(),
            lost_samples: 0,
            clock_ppm: Some(-31.0),
            bound_pct: Some(12.5),
            bound_below_pct: Some(61.0),
        }
    }

    fn wait_for(what: &str, f: impl Fn() -> bool) {
        let t = Instant::now();
        while !f() {
            assert!(t.elapsed() < Duration::from_secs(20), "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// With the remote down, readings pile up to the bound and then the oldest are dropped with
    /// a warning naming how many; back, the remote gets what was kept, oldest first, in batches
    /// of the batch size, while new readings keep coming; then the spool is empty.
    #[test]
    fn bounded_backlog_sent_oldest_first_in_batches_then_pruned() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("spool.db");
        let fake = Fake::default();
        let notices = Arc::new(Mutex::new(Vec::new()));
        let seen = notices.clone();
        let limits = Limits { max_rows: 25, batch: 10 };
        let mut spool = Spool::open(&path, "m1", limits, vec![Box::new(fake.clone())], move |n| {
            seen.lock().unwrap().push(n.clone())
        })
        .unwrap();
        for ms in 1..=40 {
            spool.push(&row(ms)).unwrap();
        }
        assert_eq!(spool.backlog("fake").unwrap(), 25);
        let full: Vec<Notice> =
            notices.lock().unwrap().iter().filter(|n| matches!(n, Notice::SpoolFull { .. })).cloned().collect();
        assert_eq!(full, [Notice::SpoolFull { path: path.clone(), dropped: 1, max: 25 }]);
        assert!(fake.batches.lock().unwrap().is_empty());
        assert!(notices
            .lock()
            .unwrap()
            .iter()
            .any(|n| matches!(n, Notice::SinkUnreachable { backlog, .. } if *backlog > 0)));

        fake.up.store(true, Ordering::Relaxed);
        for ms in 41..=45 {
            spool.push(&row(ms)).unwrap();
        }
        wait_for("the backlog", || spool.backlog("fake").unwrap() == 0);
        let batches = fake.batches.lock().unwrap().clone();
        assert!(batches.iter().all(|b| !b.is_empty() && b.len() <= 10), "{batches:?}");
        let sent: Vec<i64> = batches.concat();
        // The new readings may still have pushed out the oldest while the remote was coming
        // back: whatever was dropped, the rest arrived once, in order.
        assert!(spool.dropped >= 15, "{}", spool.dropped);
        assert_eq!(
            sent,
            (spool.dropped as i64 + 1..=45).collect::<Vec<_>>(),
            "the oldest dropped, the rest once, in order"
        );
        let rows: i64 =
            Connection::open(&path).unwrap().query_row("SELECT count(*) FROM spool", [], |r| r.get(0)).unwrap();
        assert_eq!(rows, 0, "pruned once sent");
        spool.close().unwrap();
        assert!(notices.lock().unwrap().iter().any(|n| matches!(n, Notice::SinkBack { .. })));
    }

    /// A reading the remote did not acknowledge stays for the next start; a remote seen for
    /// the first time starts at the newest reading; one no longer configured is forgotten.
    #[test]
    fn what_a_remote_has_not_taken_waits_for_the_next_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("spool.db");
        let down = Fake::default();
        let mut spool = Spool::open(&path, "m1", Limits::default(), vec![Box::new(down)], |_| {}).unwrap();
        for ms in 1..=5 {
            spool.push(&row(ms)).unwrap();
        }
        spool.close().unwrap();
        drop(spool);

        let up = Fake { up: Arc::new(AtomicBool::new(true)), ..Fake::default() };
        let notices = Arc::new(Mutex::new(Vec::new()));
        let seen = notices.clone();
        let mut spool = Spool::open(&path, "m1", Limits::default(), vec![Box::new(up.clone())], move |n| {
            seen.lock().unwrap().push(n.clone())
        })
        .unwrap();
        assert_eq!(
            notices.lock().unwrap()[0],
            Notice::Forwarding { sink: "fake".into(), spool: path.clone(), backlog: 5 }
        );
        spool.push(&row(6)).unwrap();
        wait_for("the backlog", || up.batches.lock().unwrap().concat().len() == 6);
        assert_eq!(up.batches.lock().unwrap().concat(), [1, 2, 3, 4, 5, 6]);
        spool.close().unwrap();
    }

    /// A spool written before readings stated their bound keeps its readings and gets the
    /// columns: theirs empty, new ones with their bound.
    #[test]
    fn an_older_spool_gets_the_bound_columns() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("spool.db");
        let old = Connection::open(&path).unwrap();
        old.execute_batch(&SCHEMA.replace(",\n    bound_pct    REAL,\n    bound_below_pct REAL", "")).unwrap();
        old.execute(
            "INSERT INTO spool (meter, unix_ms, t_s, duration_s, irms_a, va, watts, kwh, flags, lost_samples) \
             VALUES ('m1', 1, 1, 1, 1, 230, 230, 0, '', 0)",
            [],
        )
        .unwrap();
        // A remote that has not taken it yet.
        old.execute("INSERT INTO cursors (sink, last_id) VALUES ('fake', 0)", []).unwrap();
        assert!(old.prepare("SELECT bound_pct FROM spool").is_err(), "the old schema has no bound column");
        drop(old);
        let mut spool = Spool::open(&path, "m1", Limits::default(), vec![Box::new(Fake::default())], |_| {}).unwrap();
        spool.push(&row(2)).unwrap();
        spool.close().unwrap();
        let bounds: Vec<(Option<f64>, Option<f64>)> = Connection::open(&path)
            .unwrap()
            .prepare("SELECT bound_pct, bound_below_pct FROM spool ORDER BY unix_ms")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(bounds, [(None, None), (Some(12.5), Some(61.0))]);
    }
}
