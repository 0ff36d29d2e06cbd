//! Databases on the network (PostgreSQL, InfluxDB): what they are sent and how they fail.
//!
//! A remote database is not a [`super::ReadingSink`]: it can be down for an hour, and the meter
//! must neither block on it nor lose the readings meanwhile. Live, readings go to the local
//! spool first ([`super::spool`]), and a thread per remote sends them on in batches with
//! [`Remote::send`]; `export` sends its batches directly. Either way a batch may be sent twice
//! (sent, then the acknowledgement lost), so every remote write is idempotent: PostgreSQL
//! inserts with `ON CONFLICT DO NOTHING` on (meter, unix_ms), and InfluxDB keeps one point per
//! series and timestamp, a repeat overwriting it with the same values.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::format::unix_ms;
use crate::estimate::Reading;

/// One reading as the databases store it: the columns of `host/sql/readings.sql`.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub meter: String,
    pub unix_ms: i64,
    pub t_s: f64,
    pub duration_s: f64,
    pub irms_a: f64,
    pub va: f64,
    pub watts: f64,
    pub kwh: f64,
    pub mains_hz: Option<f64>,
    /// The reading's flags as in the CSV (`gap`, `low`, ... joined by `|`), empty for none.
    pub flags: String,
    pub lost_samples: i64,
    /// The device's sample clock against the host's (ppm, rounded), `None` while the nominal
    /// rate was used.
    pub clock_ppm: Option<f64>,
    /// The bound the reading states for its own error, percent (`None`: its usual target).
    pub bound_pct: Option<f64>,
    /// How far below its truth it can be, percent, where that differs from `bound_pct`.
    pub bound_below_pct: Option<f64>,
}

impl Row {
    pub fn new(meter: &str, r: &Reading, wall: SystemTime) -> Row {
        Row {
            meter: meter.to_owned(),
            unix_ms: unix_ms(wall),
            t_s: r.t_s,
            duration_s: r.duration_s,
            irms_a: r.irms_a,
            va: r.va,
            watts: r.watts,
            kwh: r.kwh,
            mains_hz: r.hz,
            flags: r.flags.to_text(),
            lost_samples: r.lost_samples as i64,
            clock_ppm: r.clock_ppm.map(f64::round),
            bound_pct: r.bound_pct,
            bound_below_pct: r.bound_below_pct,
        }
    }

    /// The reading's time (the end of its window), to the millisecond.
    pub fn time(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.unix_ms.max(0) as u64)
    }
}

/// Why a batch did not arrive.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// The database is down, unreachable or timed out: the batch is kept and sent again later.
    #[error(transparent)]
    Retry(Box<dyn std::error::Error + Send + Sync>),
    /// Retrying cannot help (a database of a newer schema, a write the server rejects as
    /// malformed): sending to this database stops; the readings stay in the spool.
    #[error(transparent)]
    Fatal(Box<dyn std::error::Error + Send + Sync>),
}

/// A database on the network.
pub trait Remote: Send {
    /// What to call it in notices (its URL without a password); also its key in the spool.
    fn name(&self) -> String;

    /// Connects (and brings the schema up to date, where there is one); `send` connects by
    /// itself too, so this only tells early whether the database is there.
    fn open(&mut self) -> Result<(), RemoteError>;

    /// Writes the rows, oldest first, all or none; returns how many were new to the database
    /// (rows it had already are skipped), where it can tell.
    fn send(&mut self, rows: &[Row]) -> Result<u64, RemoteError>;
}

/// A remote database as the command line names it, to open for a meter.
#[derive(Debug, Clone, PartialEq)]
pub enum RemoteConfig {
    /// `--postgres URL`.
    Postgres { url: String },
    /// `--influx URL` and its options.
    Influx(super::influx::InfluxConfig),
}

impl RemoteConfig {
    /// The database for the readings of meter `meter` (not connected yet).
    pub fn remote(&self, meter: &str) -> Result<Box<dyn Remote>, RemoteError> {
        Ok(match self {
            RemoteConfig::Postgres { url } => Box::new(super::postgres::PostgresRemote::new(url, meter)?),
            RemoteConfig::Influx(c) => Box::new(super::influx::InfluxRemote::new(c.clone())),
        })
    }
}

/// An error with its causes, `outer: inner: ...`, for a one-line notice.
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let s = c.to_string();
        if !text.contains(&s) {
            text.push_str(": ");
            text.push_str(&s);
        }
        cause = c.source();
    }
    text
}
