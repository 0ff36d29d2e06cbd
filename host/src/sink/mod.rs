//! Where readings go. Every output is a [`ReadingSink`]: the text line and JSON on stdout,
//! notices on stderr, CSV files, SQLite, Prometheus metrics over HTTP, MQTT for Home Assistant,
//! and the [`spool`] that forwards to the remote databases (PostgreSQL, InfluxDB: each a
//! [`remote::Remote`]); [`FanOut`] sends each reading to all of those asked for. A new
//! destination is one more file here implementing one of the two traits, and every source
//! (live, analyze, export) feeds it unchanged. The databases' schema is [`schema`]'s.
//!
//! Readings arrive with the wall-clock time the source gives them (`None` for recordings
//! without receive times); the sinks format them through [`mod@format`], so the text line, the
//! JSON object, the CSV row and the database row of one reading agree.

pub mod csv;
pub mod format;
pub mod influx;
pub mod json;
pub mod log;
pub mod mqtt;
pub mod postgres;
pub mod prometheus;
pub mod remote;
pub mod schema;
pub mod spool;
pub mod sqlite;
pub mod systemd;
pub mod text;
pub mod trust;

use std::io::Write;
use std::path::PathBuf;
use std::time::SystemTime;

use crate::estimate::Reading;
use crate::notice::Notice;

/// How the input ended, for sinks whose result depends on it (an export's file is put in
/// place only when complete).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The input ended, or a live session was stopped: its normal end.
    Complete,
    /// Stopped (Ctrl-C) before the input ended.
    Interrupted,
}

/// A sink's failure. Each sink has its own error type (the path and cause it knows about);
/// this carries any of them, so that adding a sink does not touch the others.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct SinkError(Box<dyn std::error::Error + Send + Sync + 'static>);

impl SinkError {
    pub fn new(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        SinkError(Box::new(e))
    }

    /// The sink's own error, to match on.
    pub fn downcast_ref<E: std::error::Error + 'static>(&self) -> Option<&E> {
        self.0.downcast_ref()
    }
}

/// The stream a text or JSON sink writes readings to (stdout) failed: a full disk under a
/// redirection, or a reader that went away (a closed pipe, [`std::io::ErrorKind::BrokenPipe`],
/// which the binary takes as the normal end of `| head`). Either ends the session: readings
/// nobody can see must not be computed on as if they were delivered.
#[derive(Debug, thiserror::Error)]
#[error("cannot write readings to the output")]
pub struct OutputError(#[source] pub std::io::Error);

impl From<OutputError> for SinkError {
    fn from(e: OutputError) -> Self {
        SinkError::new(e)
    }
}

/// A destination of readings.
pub trait ReadingSink {
    /// One reading, with its wall-clock time where the source has one. An error ends the
    /// session (after the other sinks have had the reading).
    fn write(&mut self, reading: &Reading, wall: Option<SystemTime>) -> Result<(), SinkError>;

    /// One reading of a live session, with the meter's lifetime energy in kWh as persisted
    /// ([`crate::lifetime::Lifetime::published_kwh`]): what a service publishes as a total
    /// that never goes down, even across a crash. Recordings have no lifetime total, so
    /// `analyze` and `export` call [`ReadingSink::write`]; only sinks that publish the total
    /// override this.
    fn write_with_lifetime(
        &mut self,
        reading: &Reading,
        wall: Option<SystemTime>,
        _lifetime_kwh: f64,
    ) -> Result<(), SinkError> {
        self.write(reading, wall)
    }

    /// Something the user should know. Most sinks store readings only and ignore notices.
    fn notice(&mut self, _notice: &Notice) {}

    /// The end of the input: make what was written durable (sync, commit, rename).
    fn finish(&mut self, _end: End) -> Result<(), SinkError> {
        Ok(())
    }
}

impl<S: ReadingSink + ?Sized> ReadingSink for Box<S> {
    fn write(&mut self, reading: &Reading, wall: Option<SystemTime>) -> Result<(), SinkError> {
        (**self).write(reading, wall)
    }

    fn write_with_lifetime(
        &mut self,
        reading: &Reading,
        wall: Option<SystemTime>,
        lifetime_kwh: f64,
    ) -> Result<(), SinkError> {
        (**self).write_with_lifetime(reading, wall, lifetime_kwh)
    }

    fn notice(&mut self, notice: &Notice) {
        (**self).notice(notice)
    }

    fn finish(&mut self, end: End) -> Result<(), SinkError> {
        (**self).finish(end)
    }
}

/// Several sinks as one. Each gets every reading even when an earlier one failed (a full disk
/// under the CSV must not silence the console or the database); the first error is returned.
#[derive(Default)]
pub struct FanOut {
    sinks: Vec<Box<dyn ReadingSink>>,
}

impl FanOut {
    pub fn new() -> Self {
        FanOut::default()
    }

    pub fn push(&mut self, sink: impl ReadingSink + 'static) {
        self.sinks.push(Box::new(sink));
    }

    pub fn len(&self) -> usize {
        self.sinks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sinks.is_empty()
    }
}

impl FanOut {
    fn each(&mut self, mut f: impl FnMut(&mut dyn ReadingSink) -> Result<(), SinkError>) -> Result<(), SinkError> {
        let mut first = Ok(());
        for s in &mut self.sinks {
            let res = f(s.as_mut());
            if first.is_ok() {
                first = res;
            }
        }
        first
    }
}

impl ReadingSink for FanOut {
    fn write(&mut self, reading: &Reading, wall: Option<SystemTime>) -> Result<(), SinkError> {
        self.each(|s| s.write(reading, wall))
    }

    fn write_with_lifetime(
        &mut self,
        reading: &Reading,
        wall: Option<SystemTime>,
        lifetime_kwh: f64,
    ) -> Result<(), SinkError> {
        self.each(|s| s.write_with_lifetime(reading, wall, lifetime_kwh))
    }

    fn notice(&mut self, notice: &Notice) {
        for s in &mut self.sinks {
            s.notice(notice);
        }
    }

    fn finish(&mut self, end: End) -> Result<(), SinkError> {
        self.each(|s| s.finish(end))
    }
}

/// The meter id of readings whose source names none: a recording analyzed or exported
/// without `--node`.
pub const UNNAMED_METER: &str = "unknown";

/// The outputs of `ct-read` live and `analyze`: readings as text or JSON, notices as text,
/// and the files asked for.
#[derive(Debug, Clone)]
pub struct Outputs {
    /// The meter id written in every CSV and database row and JSON line (live: the node id).
    pub meter: String,
    /// Append readings to this CSV file.
    pub csv: Option<PathBuf>,
    /// Add readings to this SQLite database.
    pub sqlite: Option<PathBuf>,
    /// JSON lines instead of text lines (and no notes for people among the notices).
    pub json: bool,
    /// How notices are written ([`log::LogStyle`]); quiet also leaves out the text lines of
    /// readings (a service's readings go to its other outputs, not into the journal).
    pub log: log::LogStyle,
}

impl Default for Outputs {
    fn default() -> Self {
        Outputs { meter: UNNAMED_METER.to_owned(), csv: None, sqlite: None, json: false, log: Default::default() }
    }
}

impl Outputs {
    /// Readings to `out`, notices to `log`, and the files, opened now so that a file that
    /// cannot be written is refused before anything runs.
    pub fn open(&self, out: impl Write + 'static, log: impl Write + 'static) -> Result<FanOut, SinkError> {
        let mut sinks = FanOut::new();
        if self.json {
            sinks.push(json::JsonSink::new(out, &self.meter));
            sinks.push(log::LogSink::new(log, self.log).without_notes());
        } else {
            if !self.log.quiet {
                sinks.push(text::TextSink::new(out));
            }
            sinks.push(log::LogSink::new(log, self.log));
        }
        if let Some(path) = &self.csv {
            let (csv, cut) = csv::CsvSink::open(path, &self.meter)?;
            if let Some(bytes) = cut {
                sinks.notice(&Notice::TornCsvRow { path: path.clone(), bytes });
            }
            sinks.push(csv);
        }
        if let Some(path) = &self.sqlite {
            sinks.push(sqlite::SqliteSink::open(path, &self.meter)?);
        }
        Ok(sinks)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::rc::Rc;

    /// Records what it is given, and fails its writes when told to.
    struct Probe {
        seen: Rc<RefCell<Vec<String>>>,
        fail: bool,
    }

    #[derive(Debug, thiserror::Error)]
    #[error("probe failed")]
    struct ProbeError;

    impl ReadingSink for Probe {
        fn write(&mut self, r: &Reading, _wall: Option<SystemTime>) -> Result<(), SinkError> {
            self.seen.borrow_mut().push(format!("reading {}", r.t_s));
            if self.fail {
                Err(SinkError::new(ProbeError))
            } else {
                Ok(())
            }
        }
        fn notice(&mut self, n: &Notice) {
            self.seen.borrow_mut().push(n.to_string());
        }
        fn finish(&mut self, end: End) -> Result<(), SinkError> {
            self.seen.borrow_mut().push(format!("{end:?}"));
            Ok(())
        }
    }

    #[test]
    fn fan_out_gives_every_sink_everything_and_returns_the_first_error() {
        let seen = Rc::new(RefCell::new(Vec::new()));
        let mut fan = FanOut::new();
        fan.push(Probe { seen: seen.clone(), fail: true });
        fan.push(Probe { seen: seen.clone(), fail: false });
        let r = Reading {
            t_s: 1.5,
            duration_s: 1.0,
            samples: 8000,
            lost_samples: 0,
            irms_a: 1.0,
            va: 230.0,
            watts: 230.0,
            kwh: 0.0,
            hz: None,
            flags: Default::default(),
            zero_offset_codes: None,
            zero_corrected: true,
            clock_ppm: None,
            bound_pct: None,
            bound_below_pct: None,
        };
        let e = fan.write(&r, None).unwrap_err();
        assert!(e.downcast_ref::<ProbeError>().is_some());
        fan.notice(&Notice::ApparentPower);
        fan.finish(End::Interrupted).unwrap();
        let seen = seen.borrow();
        assert_eq!(seen.iter().filter(|s| *s == "reading 1.5").count(), 2, "{seen:?}");
        assert_eq!(seen.iter().filter(|s| s.starts_with("note: no --pf")).count(), 2, "{seen:?}");
        assert_eq!(seen.iter().filter(|s| *s == "Interrupted").count(), 2, "{seen:?}");
    }
}
