//! Readings into PostgreSQL (`--postgres postgres://user@host/db`), in the table of
//! `host/sql/readings.sql` with typed timestamps (`time_utc timestamptz`).
//!
//! The synchronous `postgres` client. On (re)connecting, the schema is brought up to date
//! ([`super::schema`]); a database of a newer release is refused. A batch is one statement,
//! `INSERT ... SELECT * FROM unnest($1::text[], ...) ON CONFLICT DO NOTHING`:
//! fifteen array parameters whatever the batch size (a multi-row `VALUES` list would hit the
//! 65 535-parameter limit at 5 000 rows), atomic, and repeatable without duplicates. No
//! conflict target is named: a row that breaks any unique key is skipped, so the table may be
//! made a TimescaleDB hypertable, whose unique key must include its time column (README: the
//! key becomes (meter, unix_ms, time_utc), the same key since time_utc is unix_ms as a time).

use std::str::FromStr;
use std::time::{Duration, SystemTime};

use postgres::{Client, Config, NoTls};

use super::remote::{Remote, RemoteError, Row};
use super::schema::{self, SchemaError};

#[derive(Debug, thiserror::Error)]
pub enum PostgresError {
    #[error("--postgres {url}: not a PostgreSQL URL (postgres://user[:password]@host[:port]/database): {source}")]
    Url {
        url: String,
        #[source]
        source: postgres::Error,
    },
    #[error("PostgreSQL {db}: {source}")]
    Db {
        db: String,
        #[source]
        source: postgres::Error,
    },
    #[error("PostgreSQL {db}: {source}")]
    Schema {
        db: String,
        #[source]
        source: SchemaError,
    },
}

const INSERT: &str = "INSERT INTO readings (meter, time_utc, unix_ms, t_s, duration_s, irms_a, va, watts, kwh, \
     mains_hz, flags, lost_samples, clock_ppm, bound_pct, bound_below_pct) \
     SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::int8[], $4::float8[], $5::float8[], $6::float8[], \
     $7::float8[], $8::float8[], $9::float8[], $10::float8[], $11::text[], $12::int8[], $13::float8[], \
     $14::float8[], $15::float8[]) \
     ON CONFLICT DO NOTHING";

/// A PostgreSQL database, connected on first use and again after a failure.
pub struct PostgresRemote {
    config: Config,
    shown: String,
    meter: String,
    client: Option<Client>,
}

impl PostgresRemote {
    pub fn new(url: &str, meter: &str) -> Result<Self, PostgresError> {
        let mut config = Config::from_str(url).map_err(|source| PostgresError::Url { url: url.to_owned(), source })?;
        // A dead server or network must not hold a batch for minutes: give up and retry.
        config.connect_timeout(Duration::from_secs(5));
        config.keepalives_idle(Duration::from_secs(30));
        config.application_name("ct-read");
        let shown = shown(&config);
        Ok(PostgresRemote { config, shown, meter: meter.to_owned(), client: None })
    }

    fn client(&mut self) -> Result<&mut Client, PostgresError> {
        if self.client.as_ref().is_none_or(|c| c.is_closed()) {
            let db = || self.shown.clone();
            let mut client = self.config.connect(NoTls).map_err(|source| PostgresError::Db { db: db(), source })?;
            schema::migrate_postgres(&mut client, &self.meter)
                .map_err(|source| PostgresError::Schema { db: db(), source })?;
            self.client = Some(client);
        }
        Ok(self.client.as_mut().expect("connected above"))
    }

    fn insert(&mut self, rows: &[Row]) -> Result<u64, PostgresError> {
        let client = self.client()?;
        let meter: Vec<&str> = rows.iter().map(|r| r.meter.as_str()).collect();
        let time: Vec<SystemTime> = rows.iter().map(Row::time).collect();
        let ms: Vec<i64> = rows.iter().map(|r| r.unix_ms).collect();
        let col = |f: fn(&Row) -> f64| rows.iter().map(f).collect::<Vec<f64>>();
        let hz: Vec<Option<f64>> = rows.iter().map(|r| r.mains_hz).collect();
        let flags: Vec<Option<&str>> = rows.iter().map(|r| Some(r.flags.as_str()).filter(|f| !f.is_empty())).collect();
        let lost: Vec<i64> = rows.iter().map(|r| r.lost_samples).collect();
        let ppm: Vec<Option<f64>> = rows.iter().map(|r| r.clock_ppm).collect();
        let bound: Vec<Option<f64>> = rows.iter().map(|r| r.bound_pct).collect();
        let below: Vec<Option<f64>> = rows.iter().map(|r| r.bound_below_pct).collect();
        let (t_s, duration_s, irms_a) = (col(|r| r.t_s), col(|r| r.duration_s), col(|r| r.irms_a));
        let (va, watts, kwh) = (col(|r| r.va), col(|r| r.watts), col(|r| r.kwh));
        let res = client.execute(
            INSERT,
            &[
                &meter,
                &time,
                &ms,
                &t_s,
                &duration_s,
                &irms_a,
                &va,
                &watts,
                &kwh,
                &hz,
                &flags,
                &lost,
                &ppm,
                &bound,
                &below,
            ],
        );
        res.map_err(|source| PostgresError::Db { db: self.shown.clone(), source })
    }

    fn classify(&mut self, e: PostgresError) -> RemoteError {
        match e {
            PostgresError::Schema { source: SchemaError::Newer { .. }, .. } => RemoteError::Fatal(Box::new(e)),
            e => {
                // Whatever broke, the next attempt starts from a new connection.
                self.client = None;
                RemoteError::Retry(Box::new(e))
            }
        }
    }
}

impl From<PostgresError> for RemoteError {
    fn from(e: PostgresError) -> Self {
        RemoteError::Fatal(Box::new(e))
    }
}

impl Remote for PostgresRemote {
    fn name(&self) -> String {
        self.shown.clone()
    }

    fn open(&mut self) -> Result<(), RemoteError> {
        self.client().map(|_| ()).map_err(|e| self.classify(e))
    }

    fn send(&mut self, rows: &[Row]) -> Result<u64, RemoteError> {
        if rows.is_empty() {
            return Ok(0);
        }
        self.insert(rows).map_err(|e| self.classify(e))
    }
}

/// The database as `postgres://user@host:port/db`, without the password.
fn shown(c: &Config) -> String {
    let host = match c.get_hosts().first() {
        Some(postgres::config::Host::Tcp(h)) => h.clone(),
        Some(postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    let port = c.get_ports().first().copied().unwrap_or(5432);
    format!("postgres://{}@{host}:{port}/{}", c.get_user().unwrap_or(""), c.get_dbname().unwrap_or(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_is_shown_without_its_password_and_a_bad_one_is_refused() {
        let r = PostgresRemote::new("postgres://meter:s3cret@db.lan:5433/energy", "m1").unwrap();
        assert_eq!(r.name(), "postgres://meter@db.lan:5433/energy");
        let e = PostgresRemote::new("postgres://meter@db.lan:notaport/energy", "m1").err().unwrap();
        assert!(matches!(e, PostgresError::Url { .. }), "{e}");
    }
}
