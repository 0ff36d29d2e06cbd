//! Backfill speed of the remote databases: a day of one-second readings (86 400 rows) sent to a
//! real PostgreSQL and a real InfluxDB 1.x, both started here on loopback (as the tests start
//! them), the way a backlog leaves the spool after an outage. Prints figures; the target is
//! the whole day in under 30 s.
//!
//! Two figures per database: the sink alone (`Remote::send` in batches of the spool's batch
//! size), and the whole path (a spool holding the day, opened with the database as its remote,
//! timed until its backlog is empty: reading the spool, sending, acknowledging, pruning).
//!
//! `cargo bench -p ct-host --bench databases`. PostgreSQL runs with its default `fsync=on`;
//! InfluxDB 1.6 with its defaults.

#[path = "../tests/common/influx.rs"]
mod influx;
#[path = "../tests/common/pg.rs"]
mod pg;

use std::path::Path;
use std::time::{Duration, Instant};

use ct_host::sink::remote::{RemoteConfig, Row};
use ct_host::sink::spool::{self, Limits, Spool};

const DAY: i64 = 86_400;

/// A day of readings of meter `meter`, one a second from 2026-11-01 00:00 UTC.
fn day(meter: &str) -> Vec<Row> {
    let t0 = 1_793_491_200_000;
    (0..DAY)
        .map(|k| Row {
            meter: meter.into(),
            unix_ms: t0 + k * 1000,
            t_s: (k + 1) as f64,
            duration_s: 1.0,
            irms_a: 2.0 + (k % 600) as f64 / 100.0,
            va: 460.0 + (k % 600) as f64 * 2.3,
            watts: 460.0 + (k % 600) as f64 * 2.3,
            kwh: k as f64 * 0.0002,
            mains_hz: Some(50.0 + (k % 7) as f64 / 1000.0),
            flags: if k % 1000 == 0 { "gap".into() } else { String::new() },
            lost_samples: 0,
            clock_ppm: Some(-31.0),
            bound_pct: None,
            bound_below_pct: None,
        })
        .collect()
}

fn report(what: &str, rows: usize, secs: f64) {
    println!(
        "{what:<44} {rows} rows in {secs:6.2} s = {:>8.0} rows/s ({})",
        rows as f64 / secs,
        if secs < 30.0 { "a day in under 30 s" } else { "SLOWER than the 30 s target" }
    );
}

/// `Remote::send` in spool-sized batches.
fn direct(what: &str, config: &RemoteConfig, meter: &str) {
    let rows = day(meter);
    let mut remote = config.remote(meter).expect("remote");
    remote.open().expect("open");
    let t = Instant::now();
    for batch in rows.chunks(spool::BATCH) {
        remote.send(batch).expect("send");
    }
    report(what, rows.len(), t.elapsed().as_secs_f64());
}

/// A spool holding a day for `config`'s database, opened and timed until it is empty.
fn through_spool(what: &str, config: &RemoteConfig, meter: &str, dir: &Path) {
    let path = dir.join(format!("{meter}.db"));
    // The remote's cursor is made while the spool is empty, so the day is its backlog.
    let remote = config.remote(meter).expect("remote");
    let name = remote.name();
    Spool::open(&path, meter, Limits::default(), vec![remote], |_| {}).expect("spool").close().expect("close");
    let conn = rusqlite::Connection::open(&path).expect("spool db");
    conn.execute_batch("BEGIN").unwrap();
    {
        let mut stmt = conn
            .prepare(
                "INSERT INTO spool (meter, unix_ms, t_s, duration_s, irms_a, va, watts, kwh, mains_hz, flags, \
                 lost_samples) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )
            .unwrap();
        for r in day(meter) {
            stmt.execute(rusqlite::params![
                r.meter,
                r.unix_ms,
                r.t_s,
                r.duration_s,
                r.irms_a,
                r.va,
                r.watts,
                r.kwh,
                r.mains_hz,
                r.flags,
                r.lost_samples
            ])
            .unwrap();
        }
    }
    conn.execute_batch("COMMIT").unwrap();
    drop(conn);

    let t = Instant::now();
    let mut s = Spool::open(&path, meter, Limits::default(), vec![config.remote(meter).expect("remote")], |n| {
        if n.level() == ct_host::notice::Level::Warning {
            eprintln!("{n}");
        }
    })
    .expect("spool");
    assert_eq!(s.backlog(&name).unwrap(), DAY as u64);
    while s.backlog(&name).unwrap() > 0 {
        assert!(t.elapsed() < Duration::from_secs(600), "backfill stuck");
        std::thread::sleep(Duration::from_millis(20));
    }
    report(what, DAY as usize, t.elapsed().as_secs_f64());
    s.close().unwrap();
}

/// What the meter thread pays per live reading: one committed spool insert (WAL,
/// synchronous=FULL, so an fsync each).
fn spool_push(dir: &Path) {
    let mut s = Spool::open(&dir.join("push.db"), "push", Limits::default(), Vec::new(), |_| {}).expect("spool");
    let rows = day("push");
    let n = 2_000;
    let t = Instant::now();
    for r in &rows[..n] {
        s.push(r).expect("push");
    }
    let per = t.elapsed().as_secs_f64() / n as f64;
    println!("spool push (one committed reading, the meter thread's cost)  {:.2} ms per reading", per * 1e3);
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    spool_push(dir.path());
    // With fsync on, as a real server runs (the tests turn it off).
    match pg::PgServer::start_durable() {
        Some(server) => {
            let url = server.create_db("bench");
            let config = RemoteConfig::Postgres { url };
            direct("PostgreSQL, Remote::send (5000-row batches)", &config, "direct");
            through_spool("PostgreSQL, spool backlog to empty", &config, "spooled", dir.path());
            let n = server.psql_on("bench", &["-c", "SELECT count(*) FROM readings"]);
            assert_eq!(n.trim(), (2 * DAY).to_string(), "every row arrived");
        }
        None => println!("PostgreSQL: not installed, not measured"),
    }
    match influx::InfluxServer::start_or_skip("databases bench") {
        Some(server) => {
            server.query("", "CREATE DATABASE bench");
            let config = RemoteConfig::Influx(
                ct_host::sink::influx::InfluxConfig::parse(&server.write_url("bench"), None).unwrap(),
            );
            direct("InfluxDB 1.x, Remote::send (5000-row batches)", &config, "direct");
            through_spool("InfluxDB 1.x, spool backlog to empty", &config, "spooled", dir.path());
            let v = server.query("bench", "SELECT count(irms_a) FROM ct_meter");
            assert_eq!(v["results"][0]["series"][0]["values"][0][1], 2 * DAY, "every point arrived: {v}");
        }
        None => println!("InfluxDB: not installed, not measured"),
    }
}
