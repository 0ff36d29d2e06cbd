//! End-to-end tests of recording, re-processing and exporting: `ct-read record` through a real
//! pseudo-terminal (the virtual device), `analyze`/`plot`/`export` on the capture, the SQLite
//! sink, loading the exported CSV into SQLite and a real PostgreSQL server with the shipped
//! schema, and what survives SIGINT and SIGKILL.
mod common;
#[path = "common/pg.rs"]
mod pg;
use pg::PgServer;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use ct_host::calibration::Calibration;
use ct_host::capture::{self, CaptureReader, Kind};
use ct_host::sim::{DeviceProfile, Load, Shape, VirtualDevice};
use ct_host::sink::csv::CSV_HEADER;

use common::{spawn_device, unplug_and_replug, BIN};
const SCHEMA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/sql/readings.sql");

fn ct_read(args: &[&str]) -> (String, String) {
    let out = Command::new(BIN).args(args).output().expect("run ct-read");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "ct-read {args:?} failed: {stderr}");
    (String::from_utf8_lossy(&out.stdout).into_owned(), stderr)
}

fn json_lines(stdout: &str) -> Vec<serde_json::Value> {
    stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON {l}: {e}"))).collect()
}

/// A capture of `seconds` of the fast profile with receive times as a real recording would
/// have them: one chunk per 50 ms, stamped when its last sample was taken plus 3 ms latency.
fn synthetic_capture(path: &Path, amps: f64, seconds: f64, t0_ns: i64) {
    let load = Load { amps, mains_hz: 50.0, shape: Shape::Sine, step: None };
    let chunks = VirtualDevice::clean(DeviceProfile::FAST, load, 3).chunks(seconds, t0_ns);
    capture::write_capture(path, &[("source", "synthetic".into())], chunks).unwrap();
}

/// `record` from the virtual device until Ctrl-C: exits 0 with the capture synced; the capture
/// then gives the same kind of readings as live, with UTC times, through analyze, export and
/// all three plots.
#[test]
fn record_then_analyze_plot_and_export() {
    let dir = tempfile::tempdir().unwrap();
    let cap = dir.path().join("run.ctcap");
    let mut child = Command::new(BIN)
        .args(["record", "--simulate", "--json", "--sim-profile", "fast", "--sim-speed", "4", "--sim-amps", "6"])
        .args(["-o", cap.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut live = Vec::new();
    for _ in 0..6 {
        live.push(lines.next().unwrap().unwrap());
    }
    assert!(Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap().success());
    for l in lines {
        live.push(l.unwrap());
    }
    assert!(child.wait().unwrap().success());

    let mut r = CaptureReader::open(&cap).unwrap();
    let first = r.next_record().unwrap().unwrap();
    assert_eq!(first.kind, Kind::Session);
    assert!(String::from_utf8_lossy(first.payload).contains("source=virtual device"));
    // The live meter's id is kept, so the recording's rows are the same meter's.
    assert!(String::from_utf8_lossy(first.payload).contains("\nnode=virtual\n"), "{:?}", first.payload);
    while r.next_record().unwrap().is_some() {}
    assert_eq!(r.warning(), None);

    let (out, _) = ct_read(&["analyze", cap.to_str().unwrap(), "--json"]);
    let rs = json_lines(&out);
    assert!(rs.len() + 1 >= live.len(), "analyze gave {} readings, live {}", rs.len(), live.len());
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    for r in rs.iter().filter(|r| r["duration_s"].as_f64().unwrap() > 0.9) {
        assert!((r["irms_a"].as_f64().unwrap() / 6.0 - 1.0).abs() < 0.01, "{r}");
        let ms = r["unix_ms"].as_i64().expect("captures give readings a time");
        assert!((now_ms - ms).abs() < 60_000, "{r}");
        assert!(r["time_utc"].as_str().unwrap().ends_with('Z'));
    }

    for (kind, file) in [("raw", "raw.png"), ("folded", "folded.svg"), ("trend", "trend.png")] {
        let out = dir.path().join(file);
        ct_read(&["plot", cap.to_str().unwrap(), "-o", out.to_str().unwrap(), "--kind", kind]);
        let bytes = std::fs::read(&out).unwrap();
        if file.ends_with(".png") {
            assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() > 5_000, "{file}");
        } else {
            let text = String::from_utf8(bytes).unwrap();
            assert!(text.contains("<svg") && text.contains("phase in the mains cycle"), "{file}");
        }
    }

    let csv = dir.path().join("out.csv");
    ct_read(&["export", cap.to_str().unwrap(), "--csv", csv.to_str().unwrap()]);
    let text = std::fs::read_to_string(&csv).unwrap();
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows[0], CSV_HEADER);
    assert_eq!(rows.len() - 1, rs.len());
    for (row, r) in rows[1..].iter().zip(&rs) {
        let cols: Vec<&str> = row.split(',').collect();
        assert_eq!(cols.len(), CSV_HEADER.split(',').count(), "{row}");
        assert_eq!(cols[2], r["unix_ms"].as_i64().unwrap().to_string(), "live analyze and export agree");
        assert_eq!(cols[0], "virtual", "the recorded meter id is export's default: {row}");
    }

    let raw = dir.path().join("raw.csv");
    ct_read(&["export", cap.to_str().unwrap(), "--csv", raw.to_str().unwrap(), "--raw"]);
    let text = std::fs::read_to_string(&raw).unwrap();
    let mut rows = text.lines();
    assert_eq!(rows.next(), Some(ct_host::export::RAW_HEADER));
    let samples: Vec<Vec<&str>> = rows.map(|l| l.split(',').collect()).collect();
    assert!(samples.len() > 8000, "{}", samples.len());
    let peak = samples.iter().map(|c| c[5].parse::<f64>().unwrap()).fold(0.0, f64::max);
    assert!((peak / (6.0 * 2f64.sqrt()) - 1.0).abs() < 0.1, "peak {peak} A");
    for w in samples.windows(2).take(1000) {
        assert!(w[1][1].parse::<i64>().unwrap() > w[0][1].parse::<i64>().unwrap(), "unix_ns increases");
        assert_eq!(w[1][3].parse::<u64>().unwrap(), w[0][3].parse::<u64>().unwrap() + 1, "index");
    }
}

/// A torn or corrupt tail (a power cut mid-write) costs the last record only: every reader
/// warns and carries on, and recording again onto the file cuts the tail first.
#[test]
fn torn_capture_tail_is_skipped_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let cap = dir.path().join("c.ctcap");
    synthetic_capture(&cap, 4.0, 6.0, 1_790_000_000_000_000_000);
    let (whole, _) = ct_read(&["analyze", cap.to_str().unwrap(), "--json"]);
    let whole = json_lines(&whole);
    let mut bytes = std::fs::read(&cap).unwrap();
    let len = bytes.len();
    bytes.truncate(len - 100);
    bytes.extend_from_slice(&[0u8; 4096]);
    std::fs::write(&cap, &bytes).unwrap();
    let (out, err) = ct_read(&["analyze", cap.to_str().unwrap(), "--json"]);
    assert!(err.contains("c.ctcap: ignoring the last"), "{err}");
    let torn = json_lines(&out);
    assert!(torn.len() + 1 >= whole.len() && torn.len() <= whole.len(), "{} vs {}", torn.len(), whole.len());
    assert_eq!(torn[0], whole[0]);
    let table = dir.path().join("t.csv");
    let point = format!("{}=4.1", cap.display());
    let (_, err) = ct_read(&["calibrate", "--point", &point, "-o", table.to_str().unwrap(), "--method", "table"]);
    assert!(err.contains("warning: ") && err.contains("c.ctcap: ignoring the last"), "calibrate: {err}");
    let (_, err) = ct_read(&["plot", cap.to_str().unwrap(), "-o", dir.path().join("p.png").to_str().unwrap()]);
    assert!(err.contains("ignoring the last"), "{err}");
    let (_, err) = ct_read(&["export", cap.to_str().unwrap(), "--csv", dir.path().join("e.csv").to_str().unwrap()]);
    assert!(err.contains("ignoring the last"), "{err}");
}

/// One flipped bit in the middle of a capture costs the record it is in and nothing more:
/// analyze reads on past it (the readings around it flagged `gap`), warns with the offset and
/// length skipped, and `record -o` onto the file keeps every valid record.
#[test]
fn a_flipped_bit_mid_capture_costs_one_record_and_recording_on_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let cap = dir.path().join("c.ctcap");
    synthetic_capture(&cap, 4.0, 15.0, 1_790_000_000_000_000_000);
    let (whole, _) = ct_read(&["analyze", cap.to_str().unwrap(), "--json"]);
    let whole = json_lines(&whole);
    let records = |path: &Path| {
        let mut r = CaptureReader::open(path).unwrap();
        let mut v = Vec::new();
        while let Some(rec) = r.next_record().unwrap() {
            v.push((rec.offset, rec.kind, rec.unix_ns, rec.payload.to_vec()));
        }
        v
    };
    let clean = records(&cap);
    let mut bytes = std::fs::read(&cap).unwrap();
    let mid = clean.len() / 2;
    let (offset, size) = (clean[mid].0, clean[mid + 1].0 - clean[mid].0);
    bytes[(offset + size / 2) as usize] ^= 0x04;
    std::fs::write(&cap, &bytes).unwrap();

    let kept = records(&cap);
    assert_eq!(kept.len(), clean.len() - 1);
    assert!(kept.iter().all(|r| r.0 != offset));
    let (out, err) = ct_read(&["analyze", cap.to_str().unwrap(), "--json"]);
    assert!(err.contains(&format!("warning: {}: skipped {size} bytes at offset {offset}: ", cap.display())), "{err}");
    assert!(!err.contains("ignoring the last"), "{err}");
    let damaged = json_lines(&out);
    assert!(damaged.len() + 1 >= whole.len(), "{} of {} readings", damaged.len(), whole.len());
    let gap: Vec<_> = damaged.iter().filter(|r| r["flags"]["gap"].as_bool().unwrap()).collect();
    assert!(!gap.is_empty() && gap.len() <= 2, "the lost record is a gap: {gap:?}");
    assert!(gap.iter().any(|r| r["lost_samples"].as_u64().unwrap() > 0), "{gap:?}");
    let end = |rs: &[serde_json::Value]| rs.last().unwrap()["t_s"].as_f64().unwrap();
    assert!((end(&damaged) - end(&whole)).abs() < 1e-6, "the readings go on to the end");

    let (_, err) = ct_read(&[
        "record",
        "--simulate",
        "--sim-profile",
        "fast",
        "--duration",
        "1",
        "--json",
        "-o",
        cap.to_str().unwrap(),
    ]);
    assert!(!err.contains("removed a torn tail"), "{err}");
    let after = std::fs::read(&cap).unwrap();
    assert_eq!(after[..bytes.len()], bytes[..], "recording on appends, and removes nothing");
    let appended = records(&cap);
    assert_eq!(appended[..kept.len()], kept[..]);
    assert_eq!(appended[kept.len()].1, Kind::Session);
}

/// Unplug and replug while recording: the capture holds the loss and the return, and its
/// readings show the gap where the live ones did.
#[test]
fn recording_survives_unplug_and_replug() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("ttyVIRT");
    let cap = dir.path().join("r.ctcap");
    let dev = spawn_device(&link);
    let reader = Command::new(BIN)
        .args(["record", link.to_str().unwrap(), "-o", cap.to_str().unwrap(), "--json", "--duration", "7"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut dev = unplug_and_replug(dev, &link);
    let out = reader.wait_with_output().unwrap();
    dev.kill().unwrap();
    let _ = dev.wait();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let mut r = CaptureReader::open(&cap).unwrap();
    let mut kinds = Vec::new();
    while let Some(rec) = r.next_record().unwrap() {
        if kinds.last() != Some(&rec.kind) {
            kinds.push(rec.kind);
        }
    }
    assert_eq!(kinds, [Kind::Session, Kind::Bytes, Kind::Lost, Kind::Back, Kind::Bytes]);

    let (stdout, _) = ct_read(&["analyze", cap.to_str().unwrap(), "--json"]);
    let rs = json_lines(&stdout);
    let gap = rs.iter().position(|r| r["flags"]["gap"].as_bool().unwrap()).expect("a reading flagged gap");
    assert!(gap > 0 && gap < rs.len() - 1, "{rs:?}");
    let lost = rs[gap]["lost_samples"].as_u64().unwrap() as f64 / DeviceProfile::FAST.sample_rate_hz();
    assert!(lost > 1.0, "the gap covers the time unplugged: {lost} s");
    for r in rs.iter().filter(|r| r["duration_s"].as_f64().unwrap() > 0.9) {
        assert!((r["irms_a"].as_f64().unwrap() / 9.0 - 1.0).abs() < 0.01, "{r}");
    }
}

fn sqlite_rows(db: &Path) -> Vec<(i64, f64)> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let ok: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(ok, "ok");
    let mut stmt = conn.prepare("SELECT unix_ms, irms_a FROM readings ORDER BY unix_ms").unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().collect::<Result<_, _>>().unwrap()
}

/// `export --sqlite` twice adds each reading once (key: unix_ms); the rows equal the CSV's.
/// The CSV also loads unchanged into SQLite through the shipped schema with `.import`, when the
/// sqlite3 shell is installed.
#[test]
fn sqlite_export_is_idempotent_and_matches_the_csv() {
    let dir = tempfile::tempdir().unwrap();
    let cap = dir.path().join("c.ctcap");
    synthetic_capture(&cap, 7.0, 12.0, 1_790_000_000_000_000_000);
    let db = dir.path().join("m.db");
    let csv = dir.path().join("out.csv");
    let (_, err) = ct_read(&["export", cap.to_str().unwrap(), "--sqlite", db.to_str().unwrap()]);
    assert!(err.contains("added 12 readings, skipped 0"), "{err}");
    assert!(!err.contains("exporting"), "no progress bar when stderr is not a terminal: {err}");
    let (_, err) =
        ct_read(&["export", cap.to_str().unwrap(), "--sqlite", db.to_str().unwrap(), "--csv", csv.to_str().unwrap()]);
    assert!(err.contains("added 0 readings, skipped 12"), "{err}");
    let rows = sqlite_rows(&db);
    assert_eq!(rows.len(), 12);
    // The first window ends 1 s after the first sample; the chunk that completes it was
    // stamped 3 ms (latency) plus up to one frame (13.7 ms) later.
    assert!((1_790_000_001_003..=1_790_000_001_018).contains(&rows[0].0), "{rows:?}");
    let text = std::fs::read_to_string(&csv).unwrap();
    let csv_ms: Vec<i64> = text.lines().skip(1).map(|l| l.split(',').nth(2).unwrap().parse().unwrap()).collect();
    assert_eq!(csv_ms, rows.iter().map(|r| r.0).collect::<Vec<_>>());

    if Command::new("sqlite3").arg("--version").output().is_err() {
        eprintln!("NOTE: sqlite3 shell not installed: skipping the `.import` check (the rusqlite sink was checked)");
        return;
    }
    let db2 = dir.path().join("import.db");
    let out = Command::new("sqlite3")
        .arg(&db2)
        .arg(format!(".read {SCHEMA}"))
        .arg(format!(".import --csv --skip 1 {} readings", csv.display()))
        .arg("SELECT count(*), round(avg(irms_a), 1), substr(min(time_utc), 1, 21) FROM readings")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stdout.trim(), "12|7.0|2026-09-21T14:13:21.0", "{stdout}");
}

/// Two meters' readings of the same times share one database without collision (key: meter,
/// unix_ms), and each CSV row starts with its meter's id (`--node`).
#[test]
fn two_meters_export_into_one_sqlite_database() {
    let dir = tempfile::tempdir().unwrap();
    let cap = dir.path().join("c.ctcap");
    synthetic_capture(&cap, 7.0, 5.0, 1_790_000_000_000_000_000);
    let db = dir.path().join("m.db");
    for node in ["kitchen", "garage"] {
        let csv = dir.path().join(format!("{node}.csv"));
        let (_, err) = ct_read(&[
            "export",
            cap.to_str().unwrap(),
            "--node",
            node,
            "--sqlite",
            db.to_str().unwrap(),
            "--csv",
            csv.to_str().unwrap(),
        ]);
        assert!(err.contains("added 5 readings, skipped 0"), "{err}");
        let text = std::fs::read_to_string(&csv).unwrap();
        assert_eq!(text.lines().skip(1).filter(|l| l.starts_with(&format!("{node},2026-"))).count(), 5, "{text}");
    }
    let conn = rusqlite::Connection::open(&db).unwrap();
    let per_meter: Vec<(String, i64, i64)> = conn
        .prepare("SELECT meter, count(*), count(DISTINCT unix_ms) FROM readings GROUP BY meter ORDER BY meter")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(per_meter, [("garage".to_string(), 5, 5), ("kitchen".to_string(), 5, 5)]);
}

/// The exported CSV loads unchanged into PostgreSQL with the shipped schema and
/// `\copy readings FROM 'out.csv' CSV HEADER`: empty fields become NULL, times become
/// timestamps, and loading it again is refused by the key instead of duplicating rows.
#[test]
fn exported_csv_loads_into_postgresql() {
    let Some(server) = PgServer::start_or_skip("exported_csv_loads_into_postgresql") else { return };
    let dir = tempfile::tempdir().unwrap();
    let cap = dir.path().join("c.ctcap");
    synthetic_capture(&cap, 0.0, 3.0, 1_790_000_000_000_000_000);
    let mut bytes = std::fs::read(&cap).unwrap();
    let tail = dir.path().join("t.ctcap");
    synthetic_capture(&tail, 7.0, 5.0, 1_790_000_003_050_000_000);
    bytes.extend_from_slice(&std::fs::read(&tail).unwrap()[capture::MAGIC.len()..]);
    std::fs::write(&cap, bytes).unwrap();
    let csv = dir.path().join("out.csv");
    ct_read(&["export", cap.to_str().unwrap(), "--csv", csv.to_str().unwrap()]);
    let n_rows = std::fs::read_to_string(&csv).unwrap().lines().count() - 1;
    assert!(n_rows >= 7, "{n_rows}");

    server.psql(&["-f", SCHEMA]);
    let copy = format!("\\copy readings FROM '{}' CSV HEADER", csv.display());
    server.psql(&["-c", &copy]);
    let got = server.psql(&[
        "-c",
        "SELECT count(*), count(mains_hz), count(*) FILTER (WHERE flags = 'low'), \
         round(max(irms_a)::numeric, 1), min(time_utc) AT TIME ZONE 'UTC' FROM readings",
    ]);
    let cols: Vec<&str> = got.trim().split('|').collect();
    assert_eq!(cols[0], n_rows.to_string(), "{got}");
    assert!(cols[1].parse::<usize>().unwrap() >= 4, "zero-current windows have no frequency (NULL): {got}");
    assert!(cols[2].parse::<usize>().unwrap() >= 2, "{got}");
    assert_eq!(cols[3], "7.0", "{got}");
    assert!(cols[4].starts_with("2026-09-21 14:13:21.0"), "{got}");
    let out = Command::new(server.bin.join("psql"))
        .args(["-X", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-p", &server.port.to_string()])
        .args(["-c", &copy])
        .output()
        .unwrap();
    assert!(!out.status.success(), "a second load must be refused by the unix_ms key");
    assert!(String::from_utf8_lossy(&out.stderr).contains("duplicate key"));
}

/// SIGKILL in the middle of live reading with --csv and --sqlite: the CSV holds whole rows (a
/// torn last row is cut when it is opened again) and the database opens cleanly with every
/// committed reading.
#[test]
fn sigkill_leaves_whole_rows_in_csv_and_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("live.csv");
    let db = dir.path().join("live.db");
    let mut child = Command::new(BIN)
        .args(["--simulate", "--sim-profile", "fast", "--sim-speed", "8", "--window", "0.1"])
        .args(["--csv", csv.to_str().unwrap(), "--sqlite", db.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for _ in 0..25 {
        lines.next().unwrap().unwrap();
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let text = std::fs::read_to_string(&csv).unwrap();
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows[0], CSV_HEADER);
    let whole = if text.ends_with('\n') { rows.len() } else { rows.len() - 1 };
    assert!(whole >= 20, "{text}");
    for row in &rows[1..whole] {
        assert_eq!(row.split(',').count(), CSV_HEADER.split(',').count(), "torn row {row}");
        assert!(row.starts_with("virtual,"), "the virtual device's node id is the meter: {row}");
    }
    let (_, cut) = ct_host::sink::csv::CsvSink::open(&csv, "virtual").unwrap();
    assert_eq!(cut.is_some(), whole < rows.len());

    let db_rows = sqlite_rows(&db);
    assert!(db_rows.len() + 1 >= whole - 1 && db_rows.len() <= whole, "{} vs {}", db_rows.len(), whole - 1);
    for (_, a) in &db_rows {
        assert!((a / 5.0 - 1.0).abs() < 0.05, "{a}");
    }
    // It takes more rows after the crash.
    ct_host::sink::sqlite::SqliteSink::open(&db, "virtual").unwrap().finish().unwrap();
}

/// Recordings without receive times still plot and export: a raw byte stream (as `cat
/// /dev/ttyACM0 > file` saves it) and a `t_s,code` CSV. Their rows have no time, and the SQLite
/// sink, which needs one for its key, says so.
#[test]
fn byte_streams_and_code_csvs_plot_and_export_without_times() {
    let dir = tempfile::tempdir().unwrap();
    let load = Load { amps: 5.0, mains_hz: 50.0, shape: Shape::Sine, step: None };
    let bytes = VirtualDevice::clean(DeviceProfile::LAUNCHPAD, load, 9).stream(6.0);
    let bin = dir.path().join("stream.bin");
    std::fs::write(&bin, &bytes).unwrap();
    let mut codes = String::from("t_s,code\n");
    for k in 0..8000 * 3 {
        let t = k as f64 / 8000.0;
        let a = 5.0 * std::f64::consts::SQRT_2 * (std::f64::consts::TAU * 50.0 * t).sin();
        codes.push_str(&format!("{t:.6},{}\n", Calibration::builtin().code_for(a as f32, Some(50.0))));
    }
    let csv_in = dir.path().join("codes.csv");
    std::fs::write(&csv_in, codes).unwrap();

    for input in [&bin, &csv_in] {
        let name = input.file_name().unwrap().to_str().unwrap();
        for kind in ["raw", "folded", "trend"] {
            let png = dir.path().join(format!("{name}-{kind}.png"));
            ct_read(&["plot", input.to_str().unwrap(), "-o", png.to_str().unwrap(), "--kind", kind]);
            assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG"), "{name} {kind}");
        }
        let out = dir.path().join(format!("{name}-readings.csv"));
        ct_read(&["export", input.to_str().unwrap(), "--csv", out.to_str().unwrap(), "--method", "table"]);
        let text = std::fs::read_to_string(&out).unwrap();
        let rows: Vec<&str> = text.lines().skip(1).collect();
        assert!(rows.len() >= 3, "{name}: {text}");
        for row in rows.iter().filter(|r| r.split(',').nth(4).unwrap().parse::<f64>().unwrap() > 0.9) {
            assert!(row.starts_with("unknown,,,"), "{name}: no time without receive times: {row}");
            let irms: f64 = row.split(',').nth(5).unwrap().parse().unwrap();
            assert!((irms / 5.0 - 1.0).abs() < 0.01, "{name}: {row}");
        }
        let raw = dir.path().join(format!("{name}-raw.csv"));
        ct_read(&["export", input.to_str().unwrap(), "--csv", raw.to_str().unwrap(), "--raw"]);
        let text = std::fs::read_to_string(&raw).unwrap();
        assert!(text.lines().nth(1).unwrap().starts_with(",,0.000000,0,"), "{name}: {}", text.lines().nth(1).unwrap());

        let db = dir.path().join("no-time.db");
        let out = Command::new(BIN)
            .args(["export", input.to_str().unwrap(), "--sqlite", db.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("no-time.db: this input has no wall-clock times"), "{err}");
    }
}

/// An export stopped halfway (the stop flag Ctrl-C sets, set here from the progress callback
/// when half the capture is read, so the test never races the export): the readings so far
/// committed to SQLite and kept in `FILE.part` (the CSV itself untouched); exporting again
/// completes the database without duplicating a row.
#[test]
fn interrupted_export_keeps_what_it_did_and_resumes() {
    use ct_host::cmd::export::{self, ExportOptions, ExportTo};
    use ct_host::estimate::EstimatorConfig;
    use std::sync::atomic::{AtomicBool, Ordering};

    let dir = tempfile::tempdir().unwrap();
    let cap = dir.path().join("c.ctcap");
    synthetic_capture(&cap, 7.0, 60.0, 1_790_000_000_000_000_000);
    let db = dir.path().join("m.db");
    let csv = dir.path().join("out.csv");
    let half = std::fs::metadata(&cap).unwrap().len() / 2;
    let opts = ExportOptions {
        file: cap.clone(),
        to: ExportTo::Readings { csv: Some(csv.clone()), sqlite: Some(db.clone()), remote: vec![] },
        meter: "unknown".into(),
        rate: None,
        cal: Calibration::builtin(),
        cfg: EstimatorConfig::default(),
    };
    let stop = AtomicBool::new(false);
    let mut notices = Vec::new();
    export::run(
        &opts,
        &stop,
        &mut |pos| {
            if pos >= half {
                stop.store(true, Ordering::Relaxed);
            }
        },
        &mut |n| notices.push(n.to_string()),
    )
    .unwrap();
    assert!(notices.iter().any(|n| n.starts_with("interrupted: the readings so far are in")), "{notices:?}");
    assert!(notices.iter().any(|n| n.contains("exporting again adds the readings")), "{notices:?}");
    assert!(!csv.exists(), "an interrupted export must not look finished");
    let part = std::fs::read_to_string(dir.path().join("out.csv.part")).unwrap();
    let first = sqlite_rows(&db).len();
    assert!((20..40).contains(&first), "{first} rows committed of 60");
    assert_eq!(part.lines().count() - 1, first, "the CSV has the committed rows");

    let (_, err) = ct_read(&["export", cap.to_str().unwrap(), "--sqlite", db.to_str().unwrap(), "--method", "table"]);
    assert!(err.contains(&format!("skipped {first} already present")), "{err}");
    let rows = sqlite_rows(&db);
    assert_eq!(rows.len(), 60);
    assert!(rows.windows(2).all(|w| w[1].0 - w[0].0 > 900), "one row per window");
}

/// A capture made while a trusted meter read the load is a calibration point like any
/// recording.
#[test]
fn calibrate_takes_a_capture_as_a_point() {
    let dir = tempfile::tempdir().unwrap();
    let cap = dir.path().join("kettle.ctcap");
    synthetic_capture(&cap, 9.0, 5.0, 1_790_000_000_000_000_000);
    let table = dir.path().join("mine.csv");
    let point = format!("{}=9.45", cap.display());
    let (stdout, _) = ct_read(&["calibrate", "--point", &point, "-o", table.to_str().unwrap(), "--method", "table"]);
    assert!(stdout.contains("kettle.ctcap"), "{stdout}");
    let (out, _) = ct_read(&[
        "analyze",
        cap.to_str().unwrap(),
        "--json",
        "--method",
        "table",
        "--calibration",
        table.to_str().unwrap(),
    ]);
    for r in json_lines(&out).iter().filter(|r| r["duration_s"].as_f64().unwrap() > 0.9) {
        assert!((r["irms_a"].as_f64().unwrap() / 9.45 - 1.0).abs() < 0.002, "{r}");
    }
}
