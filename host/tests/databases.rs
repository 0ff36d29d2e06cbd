//! The databases readings go to, with real servers started here on loopback: schema migrations
//! of SQLite and PostgreSQL databases written by the first release; PostgreSQL and InfluxDB
//! from `export` and live through the spool, with their faults.

#[path = "common/influx.rs"]
mod influx;
#[path = "common/pg.rs"]
mod pg;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ct_host::capture;
use ct_host::sim::{DeviceProfile, Load, Shape, VirtualDevice};

use ct_host::sink::schema::{self, SchemaError};
use ct_host::sink::sqlite::{SqliteError, SqliteSink};
use influx::InfluxServer;
use pg::PgServer;

/// Written by the release before migrations (commit cc30350): `ct-read record` of the virtual
/// device at 4 A, then `ct-read export --sqlite --csv`; see `tests/fixtures/README.md`.
fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

type Row = (Option<String>, i64, f64, f64, f64, Option<f64>, Option<String>, i64);

/// The readings of an SQLite database of either schema, in time order, without the meter.
fn sqlite_readings(db: &Path) -> Vec<Row> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let rows = conn
        .prepare(
            "SELECT time_utc, unix_ms, t_s, irms_a, kwh, mains_hz, flags, lost_samples FROM readings ORDER BY unix_ms",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    rows
}

/// Everything in an SQLite database: its schema, its readings with their meters, and the
/// migrations record.
fn sqlite_dump(db: &Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut all = Vec::new();
    for q in [
        "SELECT type || ' ' || name || ' ' || coalesce(sql, '') FROM sqlite_master ORDER BY name",
        "SELECT meter || ' ' || unix_ms || ' ' || t_s || ' ' || irms_a FROM readings ORDER BY meter, unix_ms",
        "SELECT version || ' ' || name || ' ' || applied_at FROM schema_migrations ORDER BY version",
    ] {
        let mut stmt = conn.prepare(q).unwrap();
        all.extend(stmt.query_map([], |r| r.get::<_, String>(0)).unwrap().map(Result::unwrap));
    }
    all
}

/// An SQLite database of the first release is upgraded in place: every reading kept as it
/// was, given the upgrading meter's id; the migrations recorded; a second start changes
/// nothing; and a database marked with a newer schema is refused and left byte for byte.
#[test]
fn sqlite_database_of_the_first_release_is_upgraded_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("meter.db");
    std::fs::copy(fixture("readings-v0.db"), &db).unwrap();
    let before = sqlite_readings(&db);
    assert_eq!(before.len(), 10);

    let mut sink = SqliteSink::open(&db, "kitchen").unwrap();
    sink.finish().unwrap();
    drop(sink);
    assert_eq!(sqlite_readings(&db), before, "every reading kept, values unchanged");
    let conn = rusqlite::Connection::open(&db).unwrap();
    let meters: Vec<(String, i64)> = conn
        .prepare("SELECT meter, count(*) FROM readings GROUP BY meter")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(meters, [("kitchen".to_string(), 10)]);
    assert_eq!(schema::sqlite_versions(&conn).unwrap(), [1, 2, 3, 4, 5]);
    drop(conn);

    let once = sqlite_dump(&db);
    let mut sink = SqliteSink::open(&db, "garage").unwrap();
    sink.finish().unwrap();
    drop(sink);
    assert_eq!(sqlite_dump(&db), once, "a second start changes nothing");

    // Marked as written by a future release: refused, and the file is not touched.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute("INSERT INTO schema_migrations (version, name) VALUES (?1, 'future')", [schema::LATEST + 1]).unwrap();
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").unwrap();
    drop(conn);
    let bytes = std::fs::read(&db).unwrap();
    let e = SqliteSink::open(&db, "kitchen").err().expect("a newer schema is refused");
    assert!(
        matches!(&e, SqliteError::Schema { source: SchemaError::Newer { found, known }, .. }
            if *found == schema::LATEST + 1 && *known == schema::LATEST),
        "{e}"
    );
    let msg = e.to_string();
    let newer = format!(
        "the database is at schema version {}, newer than this ct-read's {}",
        schema::LATEST + 1,
        schema::LATEST
    );
    assert!(msg.contains(&format!("meter.db: {newer}")), "{msg}");
    assert_eq!(std::fs::read(&db).unwrap(), bytes, "the refused database is untouched");
}

/// A PostgreSQL database made as the first release's README said (its `readings.sql`, which is
/// migration 0001 verbatim, then `\copy` of an exported CSV, the committed fixture) is upgraded
/// in place with every row; a second run changes nothing; a newer schema is refused unchanged.
#[test]
fn postgres_database_of_the_first_release_is_upgraded_in_place() {
    let Some(server) = PgServer::start_or_skip("postgres_database_of_the_first_release_is_upgraded_in_place") else {
        return;
    };
    let url = server.create_db("v0");
    let v0 = Path::new(env!("CARGO_MANIFEST_DIR")).join("sql/migrations/0001_readings.sql");
    server.psql_on("v0", &["-f", v0.to_str().unwrap()]);
    let copy = format!("\\copy readings FROM '{}' CSV HEADER", fixture("readings-v0.csv").display());
    server.psql_on("v0", &["-c", &copy]);
    let rows = "SELECT time_utc AT TIME ZONE 'UTC', unix_ms, t_s, irms_a, kwh, mains_hz, flags, lost_samples \
                FROM readings ORDER BY unix_ms";
    let before = server.psql_on("v0", &["-c", rows]);
    assert_eq!(before.lines().count(), 10, "{before}");

    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    assert_eq!(schema::migrate_postgres(&mut client, "kitchen").unwrap(), [1, 2, 3, 4, 5]);
    assert_eq!(server.psql_on("v0", &["-c", rows]), before, "every reading kept, values unchanged");
    assert_eq!(server.psql_on("v0", &["-c", "SELECT meter, count(*) FROM readings GROUP BY meter"]), "kitchen|10\n");
    let types = server.psql_on(
        "v0",
        &[
            "-c",
            "SELECT column_name || ':' || data_type FROM information_schema.columns \
                 WHERE table_name = 'readings' ORDER BY ordinal_position",
        ],
    );
    assert!(types.starts_with("meter:text\ntime_utc:timestamp with time zone\nunix_ms:bigint\n"), "{types}");

    let dump = "SELECT (SELECT string_agg(meter || unix_ms, ',' ORDER BY unix_ms) FROM readings), \
                (SELECT string_agg(version || name || applied_at, ',') FROM schema_migrations)";
    let once = server.psql_on("v0", &["-c", dump]);
    assert_eq!(schema::migrate_postgres(&mut client, "garage").unwrap(), Vec::<i64>::new());
    assert_eq!(server.psql_on("v0", &["-c", dump]), once, "a second run changes nothing");

    server.psql_on("v0", &["-c", &format!("INSERT INTO schema_migrations VALUES ({}, 'future')", schema::LATEST + 1)]);
    let marked = server.psql_on("v0", &["-c", dump]);
    let e = schema::migrate_postgres(&mut client, "kitchen").unwrap_err();
    assert!(matches!(e, SchemaError::Newer { found, .. } if found == schema::LATEST + 1), "{e}");
    assert_eq!(server.psql_on("v0", &["-c", dump]), marked, "the refused database is untouched");

    // ct-read itself, live and export, stops at start with the reason.
    let dir = tempfile::tempdir().unwrap();
    let spool = dir.path().join("spool.db");
    let cap = dir.path().join("c.ctcap");
    synthetic_capture(&cap, 7.0, 2.0, 1_790_000_000_000_000_000);
    for args in [
        vec!["--simulate", "--duration", "2", "--postgres", &url, "--spool", spool.to_str().unwrap()],
        vec!["export", cap.to_str().unwrap(), "--postgres", &url],
    ] {
        let out = Command::new(BIN).args(&args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}: {err}");
        let newer = format!(
            "the database is at schema version {}, newer than this ct-read's {}",
            schema::LATEST + 1,
            schema::LATEST
        );
        assert!(err.contains(&newer), "{args:?}: {err}");
    }
    assert_eq!(server.psql_on("v0", &["-c", dump]), marked, "the refused database is untouched");
}

const BIN: &str = env!("CARGO_BIN_EXE_ct-read");

fn ct_read(args: &[&str]) -> String {
    let out = Command::new(BIN).args(args).output().expect("run ct-read");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "ct-read {args:?} failed: {stderr}");
    stderr
}

/// A capture of `seconds` of the fast profile, one chunk per 50 ms stamped as a recording
/// would stamp it, from `t0_ns`.
fn synthetic_capture(path: &Path, amps: f64, seconds: f64, t0_ns: i64) {
    let load = Load { amps, mains_hz: 50.0, shape: Shape::Sine, step: None };
    let chunks = VirtualDevice::clean(DeviceProfile::FAST, load, 3).chunks(seconds, t0_ns);
    capture::write_capture(path, &[("source", "synthetic".into())], chunks).unwrap();
}

/// The CSV's whole rows as (unix_ms, irms_a), in file order (a row being written while a
/// live run goes on is left out).
fn csv_rows(csv: &Path) -> Vec<(i64, String)> {
    let text = std::fs::read_to_string(csv).unwrap();
    let whole = &text[..text.rfind('\n').map_or(0, |i| i + 1)];
    whole
        .lines()
        .skip(1)
        .map(|l| {
            let cols: Vec<&str> = l.split(',').collect();
            (cols[2].parse().unwrap(), cols[5].to_owned())
        })
        .collect()
}

/// The energy of a CSV's readings in kWh, summed from power and window length (the daily
/// energy of the README's Grafana queries, computed independently of any database).
fn csv_energy_kwh(csv: &Path) -> f64 {
    let text = std::fs::read_to_string(csv).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let cols: Vec<&str> = l.split(',').collect();
            cols[7].parse::<f64>().unwrap() * cols[4].parse::<f64>().unwrap() / 3.6e6
        })
        .sum()
}

/// The database's rows of `meter` as (unix_ms, irms_a to 4 decimals as the CSV writes it), in
/// time order; also checks that time_utc is unix_ms as a timestamp.
fn pg_rows(server: &PgServer, db: &str, meter: &str) -> Vec<(i64, String)> {
    let out = server.psql_on(
        db,
        &[
            "-c",
            &format!(
            "SELECT unix_ms, to_char(irms_a, 'FM990.0000'), (extract(epoch FROM time_utc) * 1000)::bigint = unix_ms \
             FROM readings WHERE meter = '{meter}' ORDER BY time_utc"
        ),
        ],
    );
    out.lines()
        .map(|l| {
            let cols: Vec<&str> = l.split('|').collect();
            assert_eq!(cols[2], "t", "time_utc is the reading's time: {l}");
            (cols[0].parse().unwrap(), cols[1].to_owned())
        })
        .collect()
}

/// `export --postgres`: the columns arrive typed (timestamptz, double precision, bigint) with
/// the CSV's values; two meters' readings of the same times share the database; exporting
/// again adds nothing.
#[test]
fn postgres_export_types_values_and_two_meters() {
    let Some(server) = PgServer::start_or_skip("postgres_export_types_values_and_two_meters") else { return };
    let url = server.create_db("energy");
    let dir = tempfile::tempdir().unwrap();
    let cap = dir.path().join("c.ctcap");
    synthetic_capture(&cap, 7.0, 6.0, 1_790_000_000_000_000_000);
    for node in ["kitchen", "garage"] {
        let csv = dir.path().join(format!("{node}.csv"));
        let err = ct_read(&[
            "export",
            cap.to_str().unwrap(),
            "--node",
            node,
            "--postgres",
            &url,
            "--csv",
            csv.to_str().unwrap(),
        ]);
        assert!(
            err.contains(&format!("postgres://postgres@127.0.0.1:{}/energy: sent 6 readings, 6 new", server.port)),
            "{err}"
        );
        let want = csv_rows(&csv);
        assert_eq!(want.len(), 6);
        assert_eq!(pg_rows(&server, "energy", node), want, "{node}");
        assert!(want.iter().all(|(_, a)| (a.parse::<f64>().unwrap() - 7.0).abs() < 0.01), "a 7 A load: {want:?}");
    }
    let types = server.psql_on(
        "energy",
        &[
            "-c",
            "SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY ordinal_position) \
                 FROM information_schema.columns WHERE table_name = 'readings'",
        ],
    );
    assert_eq!(
        types.trim(),
        "meter text, time_utc timestamp with time zone, unix_ms bigint, t_s double precision, \
         duration_s double precision, irms_a double precision, va double precision, watts double precision, \
         kwh double precision, mains_hz double precision, flags text, lost_samples bigint, clock_ppm double precision, \
         bound_pct double precision, bound_below_pct double precision"
    );
    // The README's daily energy query.
    let daily = server.psql_on(
        "energy",
        &[
            "-c",
            "SELECT meter, date_trunc('day', time_utc) AS day, sum(watts * duration_s) / 3.6e6 AS kwh \
                 FROM readings GROUP BY 1, 2 ORDER BY 2",
        ],
    );
    let want = csv_energy_kwh(&dir.path().join("kitchen.csv"));
    assert_eq!(daily.lines().count(), 2, "{daily}");
    for l in daily.lines() {
        let kwh: f64 = l.rsplit('|').next().unwrap().parse().unwrap();
        assert!((kwh / want - 1.0).abs() < 1e-4, "{l} vs {want} kWh from the CSV (rounded to 0.1 ms, 0.01 W)");
    }
    let hz =
        server.psql_on("energy", &["-c", "SELECT count(*), round(min(mains_hz)::numeric, 3), round(max(mains_hz)::numeric, 3), count(flags) FROM readings"]);
    // The frequency within a millihertz (it is measured, not a copy of the nominal 50 Hz).
    assert_eq!(hz.trim(), "12|50.000|50.000|0", "every window of a clean 50 Hz load, no flags (NULL)");
    let err = ct_read(&["export", cap.to_str().unwrap(), "--node", "kitchen", "--postgres", &url]);
    assert!(err.contains("sent 6 readings, 0 new, 6 already there"), "{err}");
    assert_eq!(server.psql_on("energy", &["-c", "SELECT count(*) FROM readings"]).trim(), "12");

    // The README's TimescaleDB steps before create_hypertable: the key gains time_utc, and a
    // repeated write still adds nothing.
    server.psql_on(
        "energy",
        &[
            "-c",
            "ALTER TABLE readings ALTER COLUMN time_utc SET NOT NULL, \
                 DROP CONSTRAINT readings_meter_unix_ms_key, \
                 ADD CONSTRAINT readings_meter_unix_ms_key UNIQUE (meter, unix_ms, time_utc)",
        ],
    );
    let err = ct_read(&["export", cap.to_str().unwrap(), "--node", "kitchen", "--postgres", &url]);
    assert!(err.contains("sent 6 readings, 0 new, 6 already there"), "{err}");
    assert_eq!(server.psql_on("energy", &["-c", "SELECT count(*) FROM readings"]).trim(), "12");
}

/// Live `--postgres`: every reading of the session (the CSV of the same run) arrives once, in
/// time order, through the spool, which is empty at the end.
#[test]
fn live_postgres_gets_every_reading_once() {
    let Some(server) = PgServer::start_or_skip("live_postgres_gets_every_reading_once") else { return };
    let url = server.create_db("live");
    let dir = tempfile::tempdir().unwrap();
    let (csv, spool) = (dir.path().join("live.csv"), dir.path().join("spool.db"));
    let err = ct_read(&[
        "--simulate",
        "--sim-profile",
        "fast",
        "--sim-speed",
        "8",
        "--window",
        "0.2",
        "--duration",
        "4",
        "--node",
        "live1",
        "--postgres",
        &url,
        "--spool",
        spool.to_str().unwrap(),
        "--csv",
        csv.to_str().unwrap(),
    ]);
    assert!(err.contains("sending readings to postgres://postgres@127.0.0.1:"), "{err}");
    let want = csv_rows(&csv);
    assert!(want.len() >= 30, "{}", want.len());
    assert_eq!(pg_rows(&server, "live", "live1"), want);
    assert_eq!(spool_count(&spool), 0, "the spool is pruned once the database has everything");
}

/// Readings still in the spool.
fn spool_count(spool: &Path) -> i64 {
    rusqlite::Connection::open(spool).unwrap().query_row("SELECT count(*) FROM spool", [], |r| r.get(0)).unwrap()
}

/// The InfluxDB points of `meter` as (time in ms, irms_a as the CSV writes it), in time order.
fn influx_rows(server: &InfluxServer, db: &str, meter: &str) -> Vec<(i64, String)> {
    server
        .values(db, &format!("SELECT irms_a FROM ct_meter WHERE meter = '{meter}'"))
        .iter()
        .map(|r| (r[0].as_i64().unwrap(), format!("{:.4}", r[1].as_f64().unwrap())))
        .collect()
}

/// `export --influx` into a real InfluxDB 1.x: one point per reading at the reading's time, the
/// fields typed (floats, the flags a string, lost samples an integer), two meters told apart
/// by their tag; exporting again leaves one point per reading.
#[test]
fn influx_export_fields_types_and_two_meters() {
    let Some(server) = InfluxServer::start_or_skip("influx_export_fields_types_and_two_meters") else { return };
    server.query("", "CREATE DATABASE energy");
    let dir = tempfile::tempdir().unwrap();
    let cap = dir.path().join("c.ctcap");
    synthetic_capture(&cap, 7.0, 6.0, 1_790_000_000_000_000_000);
    let url = server.write_url("energy");
    for node in ["kitchen", "garage"] {
        let csv = dir.path().join(format!("{node}.csv"));
        let err = ct_read(&[
            "export",
            cap.to_str().unwrap(),
            "--node",
            node,
            "--influx",
            &url,
            "--csv",
            csv.to_str().unwrap(),
        ]);
        assert!(err.contains("/write?db=energy: sent 6 readings"), "{err}");
        let want = csv_rows(&csv);
        assert_eq!(want.len(), 6);
        assert_eq!(influx_rows(&server, "energy", node), want, "{node}");
    }
    // The README's Grafana queries (with $timeFilter as Grafana fills it in, days in UTC).
    let day = "time >= '2026-09-21T00:00:00Z' AND time < '2026-09-22T00:00:00Z'";
    let daily = server.query(
        "energy",
        &format!(
            "SELECT sum(\"e\") / 3600000 FROM (SELECT \"watts\" * \"duration_s\" AS \"e\" FROM \"ct_meter\" \
             WHERE {day}) WHERE {day} GROUP BY time(1d), \"meter\""
        ),
    );
    let want = csv_energy_kwh(&dir.path().join("kitchen.csv"));
    let series = daily["results"][0]["series"].as_array().unwrap();
    assert_eq!(series.len(), 2, "{daily}");
    for s in series {
        let kwh = s["values"][0][1].as_f64().unwrap();
        // The CSV rounds duration_s to 0.1 ms: 1e-4 of a second.
        assert!((kwh / want - 1.0).abs() < 1e-4, "{kwh} kWh vs {want} from the CSV: {s}");
        assert_eq!(s["values"].as_array().unwrap().len(), 1, "one day: {s}");
    }
    let power = server.values(
        "energy",
        &format!("SELECT mean(\"watts\") FROM \"ct_meter\" WHERE {day} AND meter = 'kitchen' GROUP BY time(1d)"),
    );
    assert!((power[0][1].as_f64().unwrap() / (7.0 * 230.0) - 1.0).abs() < 0.01, "{power:?}");
    let mut fields: Vec<String> = server
        .values("energy", "SHOW FIELD KEYS FROM ct_meter")
        .iter()
        .map(|r| format!("{} {}", r[0].as_str().unwrap(), r[1].as_str().unwrap()))
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        [
            "duration_s float",
            "flags string",
            "irms_a float",
            "kwh float",
            "lost_samples integer",
            "mains_hz float",
            "va float",
            "watts float"
        ]
    );
    let meters: Vec<String> = server
        .values("energy", "SHOW TAG VALUES FROM ct_meter WITH KEY = meter")
        .iter()
        .map(|r| r[1].to_string())
        .collect();
    assert_eq!(meters, ["\"garage\"", "\"kitchen\""]);
    let one = server.values("energy", "SELECT * FROM ct_meter WHERE meter = 'kitchen' LIMIT 1");
    let cols = server.query("energy", "SELECT * FROM ct_meter LIMIT 1")["results"][0]["series"][0]["columns"].clone();
    let at = |name: &str| &one[0][cols.as_array().unwrap().iter().position(|c| c == name).unwrap()];
    assert_eq!(at("flags"), "");
    assert_eq!(at("lost_samples"), 0);
    let hz = at("mains_hz").as_f64().unwrap();
    assert!((hz - 50.0).abs() < 1e-3, "mains_hz {hz}: a clean 50 Hz load");

    ct_read(&["export", cap.to_str().unwrap(), "--node", "kitchen", "--influx", &url]);
    let counts = server.query("energy", "SELECT count(irms_a) FROM ct_meter GROUP BY meter");
    let series = counts["results"][0]["series"].as_array().unwrap();
    assert_eq!(series.len(), 2, "{counts}");
    for s in series {
        assert_eq!(s["values"][0][1], 6, "a repeated export leaves one point per reading: {s}");
    }
}

/// One HTTP request as a loopback listener received it.
#[derive(Debug)]
struct Request {
    line: String,
    headers: Vec<String>,
    body: String,
}

/// An HTTP listener on a free loopback port that answers every request `204 No Content` (as
/// InfluxDB answers a write) and hands each request to the returned channel.
fn http_recorder() -> (u16, std::sync::mpsc::Receiver<Request>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { return };
            let tx = tx.clone();
            std::thread::spawn(move || {
                let mut r = BufReader::new(conn.try_clone().unwrap());
                let mut w = conn;
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let mut headers = Vec::new();
                    loop {
                        let mut h = String::new();
                        r.read_line(&mut h).unwrap();
                        if h.trim().is_empty() {
                            break;
                        }
                        headers.push(h.trim().to_owned());
                    }
                    let len = headers
                        .iter()
                        .find_map(|h| {
                            h.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap())
                        })
                        .unwrap_or(0);
                    let mut body = vec![0; len];
                    r.read_exact(&mut body).unwrap();
                    // Recorded before the answer: once answered, ct-read may exit and the test
                    // look at what was recorded.
                    let _ = tx.send(Request {
                        line: line.trim().to_owned(),
                        headers,
                        body: String::from_utf8(body).unwrap(),
                    });
                    w.write_all(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n").unwrap();
                }
            });
        }
    });
    (port, rx)
}

/// InfluxDB 2.x has no Debian package: its write request is checked against a loopback
/// listener instead. The path and query the 2.x API documents (`/api/v2/write?org=&bucket=`,
/// with `precision=ms`), the token from `INFLUX_TOKEN` as `Authorization: Token ...`, and one
/// line per reading in the body.
#[test]
fn influx_v2_write_request() {
    let (port, requests) = http_recorder();
    let dir = tempfile::tempdir().unwrap();
    let cap = dir.path().join("c.ctcap");
    synthetic_capture(&cap, 7.0, 6.0, 1_790_000_000_000_000_000);
    let url = format!("http://127.0.0.1:{port}/api/v2/write?org=home&bucket=meter");
    let out = Command::new(BIN)
        .args(["export", cap.to_str().unwrap(), "--node", "kitchen", "--influx", &url])
        .env("INFLUX_TOKEN", "s3cret==")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let got: Vec<Request> = requests.try_iter().collect();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0].line, "GET /ping HTTP/1.1");
    let write = &got[1];
    assert_eq!(write.line, "POST /api/v2/write?org=home&bucket=meter&precision=ms HTTP/1.1");
    assert!(write.headers.iter().any(|h| h == "Authorization: Token s3cret=="), "{:?}", write.headers);
    assert!(got[0].headers.iter().any(|h| h == "Authorization: Token s3cret=="), "{:?}", got[0].headers);
    let lines: Vec<&str> = write.body.lines().collect();
    assert_eq!(lines.len(), 6, "{}", write.body);
    for l in &lines {
        assert!(
            l.starts_with("ct_meter,meter=kitchen irms_a=7.0") || l.starts_with("ct_meter,meter=kitchen irms_a=6.99"),
            "{l}"
        );
        assert!(l.contains(",flags=\"\",lost_samples=0i 17900000"), "{l}");
    }

    let out = Command::new(BIN)
        .args(["export", cap.to_str().unwrap(), "--influx", &url])
        .env_remove("INFLUX_TOKEN")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("InfluxDB 2.x needs a token"));

    // INFLUX_TOKEN in the environment of a user who does not write to InfluxDB changes nothing.
    let csv = dir.path().join("out.csv");
    let out = Command::new(BIN)
        .args(["export", cap.to_str().unwrap(), "--csv", csv.to_str().unwrap()])
        .env("INFLUX_TOKEN", "s3cret==")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(requests.try_iter().next().is_none());
}

/// Live reading of the virtual device (fast profile at 4x, 0.5 s windows: 8 readings a second)
/// as meter `node`, with a CSV of the same run, its stderr to `log`.
fn spawn_live(node: &str, csv: &Path, spool: &Path, log: &Path, duration_s: u32, remote: &[&str]) -> Child {
    Command::new(BIN)
        .args(["--simulate", "--sim-profile", "fast", "--sim-speed", "4", "--window", "0.5"])
        .args(["--duration", &duration_s.to_string(), "--node", node])
        .args(["--csv", csv.to_str().unwrap(), "--spool", spool.to_str().unwrap()])
        .args(remote)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap()
}

fn wait_ok(mut child: Child, log: &Path) -> String {
    let status = child.wait().unwrap();
    let err = std::fs::read_to_string(log).unwrap();
    assert!(status.success(), "ct-read: {status:?}\n{err}");
    err
}

/// The meter never waited on the database: readings kept coming, at most 2 s apart (they are
/// 0.125 s apart in this run).
fn assert_no_stall(rows: &[(i64, String)]) {
    let gap = rows.windows(2).map(|w| w[1].0 - w[0].0).max().unwrap();
    assert!(gap < 2_000, "readings stalled for {gap} ms");
}

/// PostgreSQL stopped for 30 s in the middle of a live run, then started again: metering goes
/// on, the readings wait in the spool and are sent oldest first when it is back. At the end
/// every reading of the run (its CSV) is in the database exactly once, in time order, and the
/// spool is empty.
#[test]
fn postgres_down_for_30_s_loses_nothing() {
    let Some(server) = PgServer::start_or_skip("postgres_down_for_30_s_loses_nothing") else { return };
    let url = server.create_db("outage");
    let dir = tempfile::tempdir().unwrap();
    let (csv, spool, log) = (dir.path().join("live.csv"), dir.path().join("spool.db"), dir.path().join("log"));
    let child = spawn_live("m1", &csv, &spool, &log, 50, &["--postgres", &url]);
    std::thread::sleep(Duration::from_secs(8));
    let before = pg_rows(&server, "outage", "m1").len();
    assert!(before >= 20, "readings arrive live: {before}");
    server.stop();
    std::thread::sleep(Duration::from_secs(30));
    let during = csv_rows(&csv).len();
    server.start_again();
    let err = wait_ok(child, &log);
    assert!(err.contains("cannot be reached") && err.contains("readings wait in the spool"), "{err}");
    assert!(err.contains("is back: sending the"), "{err}");
    let want = csv_rows(&csv);
    assert!(during >= before + 200, "the meter went on during the outage: {before} then {during}");
    assert_no_stall(&want);
    assert_eq!(pg_rows(&server, "outage", "m1"), want);
    assert_eq!(spool_count(&spool), 0);
}

/// influxd killed (SIGKILL) in the middle of a live run and started again 10 s later: every
/// reading of the run is in it once, in time order.
#[test]
fn influxd_killed_loses_nothing() {
    let Some(mut server) = InfluxServer::start_or_skip("influxd_killed_loses_nothing") else { return };
    server.query("", "CREATE DATABASE outage");
    let dir = tempfile::tempdir().unwrap();
    let (csv, spool, log) = (dir.path().join("live.csv"), dir.path().join("spool.db"), dir.path().join("log"));
    let url = server.write_url("outage");
    let child = spawn_live("m1", &csv, &spool, &log, 25, &["--influx", &url]);
    std::thread::sleep(Duration::from_secs(5));
    assert!(influx_rows(&server, "outage", "m1").len() >= 10, "readings arrive live");
    server.kill();
    std::thread::sleep(Duration::from_secs(10));
    server.start_again();
    let err = wait_ok(child, &log);
    assert!(err.contains("cannot be reached") && err.contains("is back"), "{err}");
    let want = csv_rows(&csv);
    assert_no_stall(&want);
    assert_eq!(influx_rows(&server, "outage", "m1"), want);
    assert_eq!(spool_count(&spool), 0);
}

/// ct-read SIGKILLed while its database is down and a backlog waits in the spool; started
/// again once the database is back, it sends the backlog first, then its new readings. Every
/// reading of both runs is in the database once, in time order. (The one reading being
/// written at the kill may be in the CSV but not yet committed to the spool: the CSV is
/// written first. It is then in neither the spool nor the database, and is allowed for.)
#[test]
fn sigkill_with_a_backlog_then_restart_loses_nothing() {
    let Some(server) = PgServer::start_or_skip("sigkill_with_a_backlog_then_restart_loses_nothing") else { return };
    let url = server.create_db("killed");
    server.stop();
    let dir = tempfile::tempdir().unwrap();
    let (csv, spool, log) = (dir.path().join("live.csv"), dir.path().join("spool.db"), dir.path().join("log"));
    let mut child = spawn_live("m1", &csv, &spool, &log, 600, &["--postgres", &url]);
    let t = Instant::now();
    while !csv.exists() || csv_rows(&csv).len() < 40 {
        assert!(t.elapsed() < Duration::from_secs(30), "no readings");
        std::thread::sleep(Duration::from_millis(100));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let first_run = csv_rows(&csv);
    let backlog = spool_count(&spool) as usize;
    assert!(backlog + 1 >= first_run.len() && backlog <= first_run.len(), "{backlog} of {}", first_run.len());

    server.start_again();
    let err = wait_ok(spawn_live("m1", &csv, &spool, &log, 4, &["--postgres", &url]), &log);
    assert!(err.contains(&format!("({backlog} waiting from before)")), "{err}");
    let want = csv_rows(&csv);
    assert!(want.len() >= first_run.len() + 20, "{} then {}", first_run.len(), want.len());
    let got = pg_rows(&server, "killed", "m1");
    let missing: Vec<&(i64, String)> = want.iter().filter(|r| !got.contains(r)).collect();
    assert!(missing.is_empty() || (missing.len() == 1 && *missing[0] == first_run[first_run.len() - 1]), "{missing:?}");
    assert_eq!(got.len() + missing.len(), want.len(), "nothing twice, nothing else");
    assert!(got.windows(2).all(|w| w[0].0 < w[1].0), "in time order");
    assert_eq!(spool_count(&spool), 0);
}
