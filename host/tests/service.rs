//! ct-read as a home service: Prometheus metrics scraped over real HTTP, by a test client and
//! by a real Prometheus server started here on loopback, and the lifetime energy across
//! restarts of the binary.

#[path = "common/trust.rs"]
mod trust;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use ct_host::calibration::Calibration;
use ct_host::cmd::live::{self, LiveOptions};
use ct_host::cmd::virtual_device::{SimProfile, Simulation};
use ct_host::estimate::{EstimatorConfig, Reading};
use ct_host::lifetime::{read_state, write_state};
use ct_host::notice::Notice;
use ct_host::sim::{Faults, Load, Shape};
use ct_host::sink::prometheus::PrometheusSink;
use ct_host::sink::{End, ReadingSink, SinkError};

const BIN: &str = env!("CARGO_BIN_EXE_ct-read");

/// Where Debian's `prometheus` package puts the server.
const PROMETHEUS: &str = "/usr/bin/prometheus";

fn options(amps: f64, state: &Path) -> LiveOptions {
    LiveOptions {
        port: None,
        simulate: true,
        firmware: None,
        sim: Simulation {
            load: Load { amps, mains_hz: 50.0, shape: Shape::Sine, step: None },
            profile: SimProfile::Fast,
            noise_lsb: 0.3,
            faults: Faults::default(),
            seed: 1,
            speed: 1.0,
        },
        baud: 250_000,
        duration: None,
        record: None,
        cal: Calibration::builtin(),
        cfg: EstimatorConfig::default(),
        state: Some(state.to_owned()),
        save_every: Duration::from_secs(60),
        node: None,
    }
}

/// The Prometheus sink, counting what it forwards and setting the stop flag after `stop_after`
/// readings (as Ctrl-C would).
struct Metered {
    prom: PrometheusSink,
    readings: Vec<(Reading, f64)>,
    stop_after: usize,
    stop: Arc<AtomicBool>,
}

impl ReadingSink for Metered {
    fn write(&mut self, r: &Reading, wall: Option<SystemTime>) -> Result<(), SinkError> {
        self.prom.write(r, wall)
    }
    fn write_with_lifetime(&mut self, r: &Reading, wall: Option<SystemTime>, kwh: f64) -> Result<(), SinkError> {
        self.readings.push((r.clone(), kwh));
        if self.readings.len() >= self.stop_after {
            self.stop.store(true, Ordering::Relaxed);
        }
        self.prom.write_with_lifetime(r, wall, kwh)
    }
    fn notice(&mut self, n: &Notice) {
        self.prom.notice(n)
    }
    fn finish(&mut self, end: End) -> Result<(), SinkError> {
        self.prom.finish(end)
    }
}

fn http_get(addr: SocketAddr, path: &str) -> String {
    let mut c = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connecting to {addr}: {e}"));
    write!(c, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut text = String::new();
    c.read_to_string(&mut text).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no HTTP answer: {text}"));
    assert!(head.starts_with("HTTP/1.") && head.contains(" 200 "), "GET {path}: {head}\n{body}");
    body.to_owned()
}

/// The value of the sample `name{node="virtual"}` in an exposition.
fn sample(metrics: &str, name: &str) -> f64 {
    let prefix = format!("{name}{{node=\"virtual\"}} ");
    let line = metrics.lines().find(|l| l.starts_with(&prefix)).unwrap_or_else(|| panic!("no {name} in\n{metrics}"));
    line[prefix.len()..].parse().unwrap()
}

/// After N readings of the virtual device, `/metrics` holds their figures: the last
/// reading's current and power, the count of readings, and the lifetime energy (the state
/// file's total plus the session's) in joules.
#[test]
fn metrics_scraped_over_http_match_the_readings() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("energy.json");
    write_state(&state, 2.0).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let prom = PrometheusSink::start("127.0.0.1:0", "virtual", 230.0).unwrap();
    let addr = prom.local_addr();
    let mut sink = Metered { prom, readings: Vec::new(), stop_after: 4, stop: stop.clone() };
    live::run(&options(3.0, &state), &mut sink, &stop).unwrap();

    let m = http_get(addr, "/metrics");
    let (last, _) = sink.readings.last().unwrap();
    assert_eq!(sample(&m, "ctmeter_readings_total"), sink.readings.len() as f64, "{m}");
    assert_eq!(sample(&m, "ctmeter_current_amperes"), last.irms_a);
    assert_eq!(sample(&m, "ctmeter_power_watts"), last.watts);
    assert_eq!(sample(&m, "ctmeter_apparent_power_voltamperes"), last.va);
    // The energy published is the total as written to the state file: during the session the
    // last save's (here the start's 2 kWh: the interval is a minute), at the end the final one.
    assert!(sink.readings.iter().all(|(_, published)| *published == 2.0), "{:?}", sink.readings);
    let kwh = read_state(&state).unwrap().unwrap();
    assert_eq!(sample(&m, "ctmeter_energy_joules_total"), kwh * 3.6e6);
    assert!(kwh > 2.0 && (kwh - 2.0 - last.kwh).abs() < 1e-12, "lifetime {kwh} = 2 kWh + session {}", last.kwh);
    assert_eq!(sample(&m, "ctmeter_assumed_voltage_volts"), 230.0);
    assert_eq!(sample(&m, "ctmeter_up"), 0.0, "the session has ended");
    let full: Vec<&Reading> = sink.readings.iter().map(|(r, _)| r).filter(|r| r.duration_s > 0.9).collect();
    assert!(full.iter().all(|r| (r.irms_a / 3.0 - 1.0).abs() < 0.01), "{full:?}");
    assert_eq!(read_state(&state).unwrap(), Some(kwh), "the total was saved at the end");
    assert!(http_get(addr, "/").contains("/metrics"));
}

/// The value of the sample `name{node="trust"...}` in an exposition, if there is one.
fn trust_sample(metrics: &str, name: &str, labels: &str) -> Option<f64> {
    let prefix = format!("{name}{{node=\"trust\"{labels}}} ");
    metrics.lines().find_map(|l| l.strip_prefix(&prefix)).map(|v| v.parse().unwrap())
}

/// How far each reading can be trusted, scraped over HTTP: a reading before the clock
/// measurement settled, one after, and one flagged `changing` with its stated bound (from a
/// recording of the virtual device 1 % fast under a load that falls, `common/trust.rs`). The
/// error bound is the usual 2 % target of 9 A where the reading states none and the stated
/// bound where it does; the clock offset absent before it settles, the device's 1 % after; the
/// flags one 0/1 series each.
#[test]
fn metrics_say_how_far_each_reading_can_be_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let cases = trust::cases(dir.path());
    let mut prom = PrometheusSink::start("127.0.0.1:0", "trust", 230.0).unwrap();
    let addr = prom.local_addr();
    let flag = |m: &str, f: &str| trust_sample(m, "ctmeter_reading_flag", &format!(",flag=\"{f}\""));

    let (r, wall) = &cases.unsettled;
    prom.write_with_lifetime(r, *wall, 1.0).unwrap();
    let m = http_get(addr, "/metrics");
    assert_eq!(trust_sample(&m, "ctmeter_reading_error_bound_ratio", ""), Some(0.02), "{m}");
    assert_eq!(trust_sample(&m, "ctmeter_sample_clock_offset_ratio", ""), None, "{m}");
    for f in ["over_range", "gap", "low", "changing", "approx", "short"] {
        assert_eq!(flag(&m, f), Some(0.0), "{f}: {m}");
    }

    let (r, wall) = &cases.settled;
    prom.write_with_lifetime(r, *wall, 1.0).unwrap();
    let m = http_get(addr, "/metrics");
    assert_eq!(trust_sample(&m, "ctmeter_reading_error_bound_ratio", ""), Some(0.02), "{m}");
    let clock = trust_sample(&m, "ctmeter_sample_clock_offset_ratio", "").expect("the settled clock");
    assert!((clock - trust::CLOCK_ERROR).abs() <= 1e-4, "{clock}");

    let (r, wall) = &cases.bounded;
    prom.write_with_lifetime(r, *wall, 1.0).unwrap();
    let m = http_get(addr, "/metrics");
    let stated = r.bound_pct.unwrap() / 100.0;
    let below = r.bound_below_pct.map_or(stated, |b| b / 100.0);
    // The README's floor of a stated bound: 8 %.
    assert!(stated >= 0.08, "{stated}");
    assert_eq!(trust_sample(&m, "ctmeter_reading_error_bound_ratio", ""), Some(stated.max(below)), "{m}");
    assert_eq!(trust_sample(&m, "ctmeter_reading_error_bound_above_ratio", ""), Some(stated), "{m}");
    assert_eq!(trust_sample(&m, "ctmeter_reading_error_bound_below_ratio", ""), Some(below), "{m}");
    assert_eq!(flag(&m, "changing"), Some(1.0), "{m}");
    assert_eq!(flag(&m, "over_range"), Some(0.0), "{m}");
    assert!(m.contains("# HELP ctmeter_reading_error_bound_ratio ") && m.contains("# HELP ctmeter_reading_flag "));
}

/// A free TCP port on loopback (bound and released: the server started next takes it).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A Prometheus server that is killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One value from Prometheus' HTTP API, or `None` while the query has no result.
fn query(api: SocketAddr, promql: &str) -> Option<f64> {
    let q: String = promql
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"_-.".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let body = http_get(api, &format!("/api/v1/query?query={q}"));
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["status"], "success", "{body}");
    let result = v["data"]["result"].as_array()?.first()?.clone();
    assert_eq!(result["metric"]["node"], "virtual", "{body}");
    result["value"][1].as_str()?.parse().ok()
}

/// A real Prometheus server scrapes the exporter every second while the virtual device is
/// read; its HTTP API then returns the current and the lifetime energy counter it stored,
/// equal to what the session computed. Proves the exposition parses in Prometheus itself
/// (names, types, units, labels), not only in our own reading of it.
#[test]
fn a_real_prometheus_server_scrapes_the_metrics() {
    assert!(
        Path::new(PROMETHEUS).exists(),
        "{PROMETHEUS} is missing: install the Prometheus server with `apt-get install -y prometheus` (Debian package \
         `prometheus`; .ci/run installs it)"
    );
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("energy.json");
    write_state(&state, 1.5).unwrap();
    let prom = PrometheusSink::start("127.0.0.1:0", "virtual", 230.0).unwrap();
    let target = prom.local_addr();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: ctmeter\n    \
             static_configs:\n      - targets: ['{target}']\n"
        ),
    )
    .unwrap();
    let api: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let log = std::fs::File::create(dir.path().join("prometheus.log")).unwrap();
    let _server = Server(
        Command::new(PROMETHEUS)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
            .arg(format!("--web.listen-address={api}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {PROMETHEUS}: {e}")),
    );
    let log = || std::fs::read_to_string(dir.path().join("prometheus.log")).unwrap_or_default();
    let t = Instant::now();
    while TcpStream::connect(api).is_err() || !ready(api) {
        assert!(t.elapsed() < Duration::from_secs(30), "Prometheus did not start:\n{}", log());
        std::thread::sleep(Duration::from_millis(100));
    }

    // Prometheus applies new targets a few seconds after it starts: meter once it scrapes.
    let t = Instant::now();
    while query(api, "ctmeter_up") != Some(0.0) {
        assert!(t.elapsed() < Duration::from_secs(30), "Prometheus did not scrape the exporter:\n{}", log());
        std::thread::sleep(Duration::from_millis(200));
    }

    // About 6 s of readings: several scrapes while they flow.
    let stop = Arc::new(AtomicBool::new(false));
    let mut sink = Metered { prom, readings: Vec::new(), stop_after: 6, stop: stop.clone() };
    live::run(&options(4.0, &state), &mut sink, &stop).unwrap();
    // The session's final total, as written to the state file (what is published at the end).
    let kwh = read_state(&state).unwrap().unwrap();

    // A scrape after the end sees `up` 0 and the final counts.
    let t = Instant::now();
    while query(api, "ctmeter_up") != Some(0.0)
        || query(api, "ctmeter_readings_total") != Some(sink.readings.len() as f64)
    {
        assert!(t.elapsed() < Duration::from_secs(20), "Prometheus saw no scrape after the end:\n{}", log());
        std::thread::sleep(Duration::from_millis(200));
    }
    let joules = query(api, "ctmeter_energy_joules_total").expect("the energy counter is stored");
    assert!((joules / (kwh * 3.6e6) - 1.0).abs() < 1e-12, "stored {joules} J, the session ended at {kwh} kWh");
    let amps = query(api, "ctmeter_current_amperes").expect("the current is stored");
    assert!((amps / 4.0 - 1.0).abs() < 0.02, "{amps} A");
    let scrapes = query(api, "count_over_time(ctmeter_up[1m])").unwrap();
    assert!(scrapes >= 3.0, "only {scrapes} scrapes");
    let during = query(api, "max_over_time(ctmeter_up[1m])").unwrap();
    assert_eq!(during, 1.0, "a scrape while readings flowed saw up 1");
    let info = query(api, "ctmeter_build_info").unwrap();
    assert_eq!(info, 1.0);
    // How far the readings could be trusted: 4 A of a sine, unflagged, held to the usual 2 %
    // (README); one 0/1 series per flag, none set.
    let bound = query(api, "max_over_time(ctmeter_reading_error_bound_ratio[1m])").expect("the bound is stored");
    assert_eq!(bound, 0.02);
    assert_eq!(query(api, "count by (node) (ctmeter_reading_flag)"), Some(6.0));
    assert_eq!(query(api, "max by (node) (max_over_time(ctmeter_reading_flag[1m]))"), Some(0.0));
}

fn ready(api: SocketAddr) -> bool {
    let Ok(mut c) = TcpStream::connect(api) else { return false };
    let _ = write!(c, "GET /-/ready HTTP/1.0\r\n\r\n");
    let mut text = String::new();
    let _ = c.read_to_string(&mut text);
    text.contains(" 200 ")
}

/// `ct-read --state`: SIGTERM ends a session normally; the next one continues the total, which
/// never goes down across restarts.
#[test]
fn the_lifetime_total_continues_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("energy.json");
    let mut last = 0.0;
    for k in 0..5 {
        let child = Command::new(BIN)
            .args(["--simulate", "--sim-profile", "fast", "--sim-speed", "4", "--sim-amps", "10", "--state"])
            .arg(&state)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(1500));
        // SIGTERM, as systemd stops a service.
        let pid = child.id().to_string();
        assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "run {k}: {err}");
        assert!(err.contains(if k == 0 { "new state file" } else { "kWh so far, from" }), "run {k}: {err}");
        let kwh = read_state(&state).unwrap().unwrap();
        assert!(kwh > last, "run {k}: {kwh} kWh after {last} kWh\n{err}");
        assert!(err.contains(&format!("lifetime energy: {kwh:.5} kWh (saved in")), "{err}");
        last = kwh;
    }
    std::fs::write(&state, "{not json").unwrap();
    let out = Command::new(BIN).args(["--simulate", "--duration", "1", "--state"]).arg(&state).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("energy.json") && err.contains("refusing"), "{err}");
    assert_eq!(std::fs::read_to_string(&state).unwrap(), "{not json", "a corrupt state file is left alone");
}
