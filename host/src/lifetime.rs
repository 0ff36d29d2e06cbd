//! Lifetime energy: the meter's total across sessions, kept in a state file (`--state FILE`).
//!
//! The estimator's `kwh` starts at zero with every session; Home Assistant's Energy dashboard
//! and a Prometheus counter want one total that only grows, for months, across restarts
//! (Home Assistant takes a drop as a new meter cycle). [`Lifetime`] adds each reading's
//! increase of the session energy to the total read back from the file, so the estimator's
//! semantics stay as they are and gaps (which add no session energy) add no lifetime energy.
//!
//! The file is a small JSON object written atomically (a temporary file beside it, fsync,
//! rename, fsync of the directory): a crash or power cut leaves the old total or the new one,
//! never a torn file. It is written at most once per [`SAVE_EVERY`] while readings arrive
//! (SD cards wear) and at the end of the session, so a `kill -9` loses at most that much
//! energy. A file that exists but cannot be read or parsed is an error naming it, never a
//! silent restart from zero: that would be a new meter cycle for everyone downstream.
//!
//! Two processes adding to one total would each write their own sum and lose the other's
//! energy, so a session holds an exclusive lock on `FILE.lock` beside the state file (an
//! advisory `flock`, std's [`File::try_lock`]; not on the state file itself, which every save
//! replaces by a rename). A second `ct-read --state FILE`, or `ct-read energy --set` while
//! one runs, is refused with [`StateError::Locked`]. The lock goes with the process, however
//! it ends (a `kill -9` included), so a stale lock file never blocks a restart.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use crate::estimate::Reading;

/// How often, at most, the total is written while a session runs.
pub const SAVE_EVERY: Duration = Duration::from_secs(60);

/// The value of the `format` field this version writes and reads.
const FORMAT: &str = "ct-read lifetime energy 1";

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("state file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "state file {path} is not a lifetime energy file ({why}); refusing to start the total from zero\nhelp: \
         restore it from a backup, or set the total explicitly with `ct-read energy --state {path} --set KWH`"
    )]
    Corrupt { path: PathBuf, why: String },
    #[error("lifetime energy must be a finite number of kWh >= 0, got {0}")]
    Invalid(f64),
    #[error(
        "state file {path} is in use by another ct-read (it holds {lock}); two meters adding to one total would \
         lose energy\nhelp: stop the other ct-read (`systemctl stop ct-read` if it is the service), or give this one \
         its own --state file"
    )]
    Locked { path: PathBuf, lock: PathBuf },
}

/// The lock a session holds on its state file while it runs: released when dropped, or when
/// the process ends however it ends.
#[derive(Debug)]
pub struct StateLock {
    _file: File,
}

impl StateLock {
    /// Takes the lock of the state file at `path` (`path` with `.lock` appended), or says
    /// which file another process holds.
    pub fn take(path: &Path) -> Result<Self, StateError> {
        let mut name = path.as_os_str().to_owned();
        name.push(".lock");
        let lock = PathBuf::from(name);
        let io = |source| StateError::Io { path: lock.clone(), source };
        // flock needs no write access: a lock file left by another user (`sudo ct-read energy
        // --set` in a service's state directory) is locked through a read-only handle.
        let file = match OpenOptions::new().write(true).create(true).truncate(false).open(&lock) {
            Err(e) if e.kind() == ErrorKind::PermissionDenied => File::open(&lock),
            other => other,
        }
        .map_err(io)?;
        match file.try_lock() {
            Ok(()) => Ok(StateLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(StateError::Locked { path: path.to_owned(), lock }),
            Err(std::fs::TryLockError::Error(e)) => Err(io(e)),
        }
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct StateRecord {
    format: String,
    energy_kwh: f64,
    /// When it was written, for people reading the file.
    saved_utc: Option<String>,
}

/// The total in the state file at `path`, or `None` when there is no file.
pub fn read_state(path: &Path) -> Result<Option<f64>, StateError> {
    let text = match std::fs::read(path) {
        Ok(t) => t,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(StateError::Io { path: path.to_owned(), source }),
    };
    let corrupt = |why: String| StateError::Corrupt { path: path.to_owned(), why };
    let rec: StateRecord = serde_json::from_slice(&text).map_err(|e| corrupt(e.to_string()))?;
    if rec.format != FORMAT {
        return Err(corrupt(format!("format `{}`, expected `{FORMAT}`", rec.format)));
    }
    if !(rec.energy_kwh.is_finite() && rec.energy_kwh >= 0.0) {
        return Err(corrupt(format!("energy_kwh {}", rec.energy_kwh)));
    }
    Ok(Some(rec.energy_kwh))
}

/// Replaces the state file at `path` with `kwh`: temporary file, fsync, rename, fsync of the
/// directory (without the last, a power cut can undo the rename).
pub fn write_state(path: &Path, kwh: f64) -> Result<(), StateError> {
    if !(kwh.is_finite() && kwh >= 0.0) {
        return Err(StateError::Invalid(kwh));
    }
    let io = |source| StateError::Io { path: path.to_owned(), source };
    let rec = StateRecord {
        format: FORMAT.into(),
        energy_kwh: kwh,
        saved_utc: Some(crate::sink::format::iso_utc(SystemTime::now())),
    };
    let mut text = serde_json::to_string_pretty(&rec).expect("a record of plain fields");
    text.push('\n');
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut f = OpenOptions::new().write(true).create(true).truncate(true).open(&tmp).map_err(io)?;
    f.write_all(text.as_bytes()).and_then(|()| f.sync_all()).map_err(io)?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(io)?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    File::open(dir).and_then(|d| d.sync_all()).map_err(io)
}

/// The state file of a running session.
#[derive(Debug)]
struct Store {
    _lock: StateLock,
    path: PathBuf,
    every: Duration,
    saved_kwh: f64,
    saved_at: Instant,
}

/// The lifetime total of a session: the state file's total (or zero) plus the session's
/// energy so far.
#[derive(Debug)]
pub struct Lifetime {
    kwh: f64,
    /// The session energy of the last reading, to take each reading's increase.
    session_kwh: f64,
    store: Option<Store>,
}

/// How a session's lifetime total started, for the notice at the start.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Start {
    /// Read back from the state file.
    Loaded(f64),
    /// There was no state file: a new one was written with 0 kWh.
    Created,
}

impl Lifetime {
    /// A total kept in memory only, starting at zero (no `--state`).
    pub fn in_memory() -> Self {
        Lifetime { kwh: 0.0, session_kwh: 0.0, store: None }
    }

    /// The total of the state file at `path`, written back at most every `every`. A missing
    /// file is created now, so that a path that cannot be written fails before metering
    /// starts, not a minute into it.
    pub fn open(path: &Path, every: Duration) -> Result<(Self, Start), StateError> {
        let lock = StateLock::take(path)?;
        let (kwh, start) = match read_state(path)? {
            Some(kwh) => (kwh, Start::Loaded(kwh)),
            None => {
                write_state(path, 0.0)?;
                (0.0, Start::Created)
            }
        };
        let store = Store { _lock: lock, path: path.to_owned(), every, saved_kwh: kwh, saved_at: Instant::now() };
        Ok((Lifetime { kwh, session_kwh: 0.0, store: Some(store) }, start))
    }

    /// Adds the reading's increase of the session energy and returns the new total. A
    /// session energy that went down (which the meter never reports) adds nothing: the total
    /// never decreases.
    pub fn add(&mut self, r: &Reading) -> f64 {
        if r.kwh.is_finite() {
            let delta = r.kwh - self.session_kwh;
            if delta > 0.0 {
                self.kwh += delta;
            }
            self.session_kwh = r.kwh;
        }
        self.kwh
    }

    pub fn kwh(&self) -> f64 {
        self.kwh
    }

    /// The total as it may be published: with a state file, the total last written to it.
    /// A crash loses what was not written (at most the save interval's energy); a published
    /// total above what the restarted meter resumes from would then go down, which Prometheus
    /// takes for a counter reset (`increase()` then counts the whole lifetime total again)
    /// and Home Assistant for a new meter cycle. Without a state file, the running total.
    pub fn published_kwh(&self) -> f64 {
        self.store.as_ref().map_or(self.kwh, |s| s.saved_kwh)
    }

    /// The state file, if the total is kept in one.
    pub fn path(&self) -> Option<&Path> {
        self.store.as_ref().map(|s| s.path.as_path())
    }

    /// Writes the total if it grew and the last write is at least the interval old.
    pub fn save_if_due(&mut self, now: Instant) -> Result<(), StateError> {
        match &self.store {
            Some(s) if self.kwh > s.saved_kwh && now.duration_since(s.saved_at) >= s.every => self.save(),
            _ => Ok(()),
        }
    }

    /// Writes the total if it grew since the last write (the end of a session).
    pub fn save(&mut self) -> Result<(), StateError> {
        let kwh = self.kwh;
        match &mut self.store {
            Some(s) if kwh > s.saved_kwh => {
                write_state(&s.path, kwh)?;
                s.saved_kwh = kwh;
                s.saved_at = Instant::now();
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(kwh: f64) -> Reading {
        Reading {
            t_s: 1.0,
            duration_s: 1.0,
            samples: 8000,
            lost_samples: 0,
            irms_a: 1.0,
            va: 230.0,
            watts: 230.0,
            kwh,
            hz: None,
            flags: Default::default(),
            zero_offset_codes: None,
            zero_corrected: true,
            clock_ppm: None,
            bound_pct: None,
            bound_below_pct: None,
        }
    }

    #[test]
    fn a_missing_file_is_created_and_the_total_continues_across_sessions() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("energy.json");
        let (mut l, start) = Lifetime::open(&p, SAVE_EVERY).unwrap();
        assert_eq!(start, Start::Created);
        assert_eq!(read_state(&p).unwrap(), Some(0.0));
        l.add(&reading(0.5));
        assert_eq!(l.add(&reading(1.25)), 1.25);
        l.save().unwrap();
        // The session ends (and lets go of the file's lock); the next one starts.
        drop(l);
        let (mut l, start) = Lifetime::open(&p, SAVE_EVERY).unwrap();
        assert_eq!(start, Start::Loaded(1.25));
        // A new session's energy starts at zero again.
        assert_eq!(l.add(&reading(0.25)), 1.5);
        l.save().unwrap();
        assert_eq!(read_state(&p).unwrap(), Some(1.5));
        assert!(!dir.path().join("energy.json.tmp").exists());
    }

    #[test]
    fn the_total_never_decreases() {
        let mut l = Lifetime::in_memory();
        l.add(&reading(2.0));
        assert_eq!(l.add(&reading(1.0)), 2.0);
        assert_eq!(l.add(&reading(f64::NAN)), 2.0);
        assert_eq!(l.add(&reading(1.5)), 2.5);
    }

    #[test]
    fn writes_wait_for_the_interval() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("e.json");
        let (mut l, _) = Lifetime::open(&p, Duration::from_secs(60)).unwrap();
        l.add(&reading(1.0));
        l.save_if_due(Instant::now()).unwrap();
        assert_eq!(read_state(&p).unwrap(), Some(0.0), "written before the interval");
        l.save_if_due(Instant::now() + Duration::from_secs(61)).unwrap();
        assert_eq!(read_state(&p).unwrap(), Some(1.0));
    }

    #[test]
    fn a_corrupt_file_is_an_error_naming_it_and_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("e.json");
        for bad in ["", "{\"energy_kwh\": 3", "{\"format\":\"other\",\"energy_kwh\":1}"] {
            std::fs::write(&p, bad).unwrap();
            let e = Lifetime::open(&p, SAVE_EVERY).unwrap_err().to_string();
            assert!(e.contains(&p.display().to_string()) && e.contains("refusing to start the total from zero"), "{e}");
            assert_eq!(std::fs::read_to_string(&p).unwrap(), bad);
        }
        std::fs::write(&p, format!("{{\"format\":\"{FORMAT}\",\"energy_kwh\":-1}}")).unwrap();
        assert!(matches!(read_state(&p), Err(StateError::Corrupt { .. })));
        let e = Lifetime::open(&dir.path().join("no/such/dir/e.json"), SAVE_EVERY).unwrap_err().to_string();
        assert!(e.contains("no/such/dir/e.json"), "{e}");
    }

    /// The total read back is the very number written, to the last bit: a total one ulp lower
    /// after a restart is a decrease (found by the 20-restart test, at 0.0183 kWh).
    #[test]
    fn the_total_reads_back_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("e.json");
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..2000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Totals from a thousandth of a kWh to a hundred thousand kWh, every mantissa bit.
            let kwh = 10f64.powf((x % 8000) as f64 / 1000.0 - 3.0) * (1.0 + (x >> 11) as f64 / (1u64 << 53) as f64);
            write_state(&p, kwh).unwrap();
            assert_eq!(read_state(&p).unwrap().unwrap().to_bits(), kwh.to_bits(), "{kwh:e}");
        }
        write_state(&p, 0.018326481738886037).unwrap();
        assert_eq!(read_state(&p).unwrap(), Some(0.018326481738886037));
    }

    /// A second session on the same state file is refused while the first holds it, and
    /// gets it once the first has ended.
    #[test]
    fn a_second_session_on_the_same_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("e.json");
        let (first, _) = Lifetime::open(&p, SAVE_EVERY).unwrap();
        let e = Lifetime::open(&p, SAVE_EVERY).unwrap_err();
        match &e {
            StateError::Locked { path, lock } => {
                assert_eq!(path, &p);
                assert_eq!(lock, &dir.path().join("e.json.lock"));
            }
            other => panic!("{other:?}"),
        }
        assert!(e.to_string().contains("in use by another ct-read"), "{e}");
        assert!(matches!(StateLock::take(&p), Err(StateError::Locked { .. })));
        drop(first);
        Lifetime::open(&p, SAVE_EVERY).unwrap();
    }

    /// With a state file, the published total is the one written: it lags the running total
    /// until the next save, and never exceeds what a restart resumes from.
    #[test]
    fn the_published_total_is_the_persisted_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let (mut l, _) = Lifetime::open(&path, Duration::from_secs(3600)).unwrap();
        l.add(&reading(0.5));
        assert_eq!((l.kwh(), l.published_kwh()), (0.5, 0.0));
        l.save().unwrap();
        assert_eq!(l.published_kwh(), 0.5);
        assert_eq!(read_state(&path).unwrap(), Some(l.published_kwh()));
        let mut m = Lifetime::in_memory();
        m.add(&reading(0.25));
        assert_eq!(m.published_kwh(), 0.25);
    }
}
