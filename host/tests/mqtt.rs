//! ct-read publishing to a real MQTT broker: Debian's mosquitto, started here on a free
//! loopback port, read back with its own client (`mosquitto_sub`). Discovery configs field by
//! field, the retained state and status, a broker killed and restarted mid-session, Home
//! Assistant's birth message, the device unplugged and plugged back, and the last will when
//! ct-read is killed.

mod common;
#[path = "common/trust.rs"]
mod trust;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use ct_host::calibration::Calibration;
use ct_host::cmd::live::{self, LiveOptions};
use ct_host::cmd::virtual_device::{SimProfile, Simulation};
use ct_host::estimate::{EstimatorConfig, Reading};
use ct_host::lifetime::write_state;
use ct_host::sim::{Faults, Load, Shape};
use ct_host::sink::mqtt::{BrokerUrl, MqttConfig, MqttSink};
use ct_host::sink::{FanOut, ReadingSink, SinkError};
use serde_json::Value;

use common::{spawn_device, unplug_and_replug, BIN};

/// Where Debian's packages put the broker and its clients.
const MOSQUITTO: &str = "/usr/sbin/mosquitto";
const SUB: &str = "/usr/bin/mosquitto_sub";
const PUB: &str = "/usr/bin/mosquitto_pub";

fn require_mosquitto() {
    for p in [MOSQUITTO, SUB, PUB] {
        assert!(
            Path::new(p).exists(),
            "{p} is missing: these tests need a real MQTT broker and its clients; install them with \
             `sudo apt-get install -y mosquitto mosquitto-clients` (bash .ci/run does)"
        );
    }
}

/// A mosquitto on a fixed loopback port, which can be killed and started again on it.
struct Broker {
    port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl Broker {
    fn new() -> Self {
        require_mosquitto();
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("mosquitto.conf"),
            format!("listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"),
        )
        .unwrap();
        Broker { port, dir, child: None }
    }

    fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }

    fn launch(&mut self) {
        let child = Command::new(MOSQUITTO)
            .arg("-c")
            .arg(self.dir.path().join("mosquitto.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        let t = Instant::now();
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(t.elapsed() < Duration::from_secs(10), "mosquitto did not listen on {}", self.port);
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `kill -9`: the broker vanishes without a word, its retained messages with it
    /// (`persistence false`).
    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// The retained messages under `filter` now: topic -> payload.
    fn retained(&self, filter: &str) -> BTreeMap<String, String> {
        let out = Command::new(SUB)
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-t", filter, "-v", "--retained-only", "-W", "1"])
            .output()
            .unwrap();
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .filter_map(|l| l.split_once(' ').map(|(t, p)| (t.to_owned(), p.to_owned())))
            .collect()
    }

    /// Waits until the retained messages under `filter` satisfy `ok`, and returns them.
    fn wait_retained(
        &self,
        filter: &str,
        what: &str,
        ok: impl Fn(&BTreeMap<String, String>) -> bool,
    ) -> BTreeMap<String, String> {
        let t = Instant::now();
        loop {
            let got = self.retained(filter);
            if ok(&got) {
                return got;
            }
            assert!(t.elapsed() < Duration::from_secs(20), "no {what} on {filter} after 20 s: {got:#?}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn publish(&self, args: &[&str]) {
        let st = Command::new(PUB).args(["-h", "127.0.0.1", "-p", &self.port.to_string()]).args(args).status().unwrap();
        assert!(st.success(), "mosquitto_pub {args:?}");
    }

    /// A subscriber that keeps every message of `topic`, in order.
    fn watch(&self, topic: &str) -> Watch {
        let mut child = Command::new(SUB)
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-t", topic])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let out = child.stdout.take().unwrap();
        let s = seen.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                s.lock().unwrap().push(line);
            }
        });
        Watch { child, seen }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.kill();
    }
}

struct Watch {
    child: Child,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Watch {
    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }

    fn wait_for(&self, what: &str, ok: impl Fn(&[String]) -> bool) {
        let t = Instant::now();
        while !ok(&self.seen()) {
            assert!(t.elapsed() < Duration::from_secs(20), "{what}: saw {:?}", self.seen());
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn options(port: &Path, state: &Path) -> LiveOptions {
    LiveOptions {
        port: Some(port.display().to_string()),
        simulate: false,
        firmware: None,
        sim: Simulation {
            load: Load { amps: 9.0, mains_hz: 50.0, shape: Shape::Sine, step: None },
            profile: SimProfile::Fast,
            noise_lsb: 0.3,
            faults: Faults::default(),
            seed: 1,
            speed: 1.0,
        },
        baud: 9600,
        duration: None,
        record: None,
        cal: Calibration::builtin(),
        cfg: EstimatorConfig::default(),
        state: Some(state.to_owned()),
        save_every: Duration::from_secs(60),
        node: None,
    }
}

/// Counts the readings metered, to show metering goes on whatever the broker does.
struct Count(Arc<AtomicUsize>);

impl ReadingSink for Count {
    fn write(&mut self, _r: &Reading, _wall: Option<SystemTime>) -> Result<(), SinkError> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

fn wait_count(count: &AtomicUsize, n: usize, what: &str) {
    let t = Instant::now();
    while count.load(Ordering::Relaxed) < n {
        assert!(t.elapsed() < Duration::from_secs(20), "{what}: only {} readings", count.load(Ordering::Relaxed));
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

/// The 10 discovery configs, checked field by field against Home Assistant's MQTT discovery
/// schema (sensor and binary_sensor), for node `node` under `prefix`.
fn check_discovery(got: &BTreeMap<String, String>, prefix: &str, node: &str) {
    /// component, key, unit, device class, state class.
    type Entity = (&'static str, &'static str, Option<&'static str>, Option<&'static str>, Option<&'static str>);
    let expect: [Entity; 10] = [
        ("sensor", "current", Some("A"), Some("current"), Some("measurement")),
        ("sensor", "power", Some("W"), Some("power"), Some("measurement")),
        ("sensor", "apparent_power", Some("VA"), Some("apparent_power"), Some("measurement")),
        ("sensor", "energy", Some("kWh"), Some("energy"), Some("total_increasing")),
        ("sensor", "mains_frequency", Some("Hz"), Some("frequency"), Some("measurement")),
        ("sensor", "lost_samples", None, None, Some("total_increasing")),
        ("sensor", "error_bound", Some("%"), None, Some("measurement")),
        ("sensor", "clock_offset", Some("ppm"), None, Some("measurement")),
        ("sensor", "flags", None, None, None),
        ("binary_sensor", "over_range", None, Some("problem"), None),
    ];
    assert_eq!(got.len(), expect.len(), "{got:#?}");
    for (component, key, unit, class, state_class) in expect {
        let topic = format!("{prefix}/{component}/{node}/{key}/config");
        let c = json(got.get(&topic).unwrap_or_else(|| panic!("no {topic} in {got:#?}")));
        let s = |f: &str| c.get(f).and_then(Value::as_str).map(str::to_owned);
        assert_eq!(s("unit_of_measurement").as_deref(), unit, "{topic}: {c}");
        assert_eq!(s("device_class").as_deref(), class, "{topic}: {c}");
        assert_eq!(s("state_class").as_deref(), state_class, "{topic}: {c}");
        assert_eq!(s("unique_id"), Some(format!("ct-read_{node}_{key}")), "{topic}");
        assert_eq!(s("state_topic"), Some(format!("ct-read/{node}/state")), "{topic}");
        assert_eq!(s("availability_topic"), Some(format!("ct-read/{node}/status")), "{topic}");
        assert_eq!(s("payload_available").as_deref(), Some("online"));
        assert_eq!(s("payload_not_available").as_deref(), Some("offline"));
        assert!(s("value_template").is_some_and(|t| t.contains("value_json.")), "{topic}: {c}");
        assert!(c["expire_after"].as_u64().is_some_and(|s| s >= 5), "{topic}: {c}");
        assert!(c.get("object_id").is_none(), "{topic}: object_id is deprecated");
        let name = s("name").unwrap();
        if key != "lost_samples" {
            assert!(name.contains("clamp"), "{topic}: the name must say it comes from a clamp: {name}");
        }
        if ["power", "apparent_power", "energy"].contains(&key) {
            assert!(name.contains("estimated"), "{topic}: {name}");
        }
        let d = &c["device"];
        assert_eq!(d["identifiers"], serde_json::json!([format!("ct-read_{node}")]), "{topic}: {c}");
        for f in ["name", "model", "sw_version"] {
            assert!(d[f].as_str().is_some_and(|v| !v.is_empty()), "{topic}: device.{f}: {c}");
        }
        assert_eq!(c["origin"]["name"], "ct-read", "{topic}: {c}");
        assert!(c["origin"]["sw_version"].is_string(), "{topic}: {c}");
    }
    for key in ["lost_samples", "error_bound", "clock_offset", "flags"] {
        let c = json(&got[&format!("{prefix}/sensor/{node}/{key}/config")]);
        assert_eq!(c["entity_category"], "diagnostic", "{key}: {c}");
    }
}

/// The retained state: the `--json` fields of a reading of the 9 A load plus the lifetime
/// total (the state file's, at least the 2 kWh it started with).
fn check_state(s: &str) -> Value {
    let v = json(s);
    for f in [
        "time_utc",
        "unix_ms",
        "t_s",
        "duration_s",
        "irms_a",
        "va",
        "watts",
        "kwh",
        "mains_hz",
        "flags",
        "lost_samples",
        "samples",
        "zero_offset_codes",
        "zero_corrected",
        "lifetime_kwh",
        "lost_samples_total",
        "meter",
        "clock_ppm",
        "bound_pct",
        "error_bound_pct",
        "flags_text",
    ] {
        assert!(v.get(f).is_some(), "no {f} in the state {s}");
    }
    assert!(v["lifetime_kwh"].as_f64().is_some_and(|k| k >= 2.0), "{s}");
    let short = v["flags"]["short"].as_bool().unwrap_or(false);
    assert!(short || v["irms_a"].as_f64().is_some_and(|a| (a / 9.0 - 1.0).abs() < 0.02), "{s}");
    v
}

/// One live session of a device plugged in as a port: published while the broker is down at
/// first, restarted (kill -9) mid-session and after Home Assistant's restart, through an
/// unplug and replug; every time the retained messages end up current, and metering never
/// pauses.
#[test]
fn a_live_session_keeps_the_broker_current_through_outages_and_unplugging() {
    let mut broker = Broker::new();
    let dir = tempfile::tempdir().unwrap();
    let link: PathBuf = dir.path().join("ttyCT");
    let state = dir.path().join("energy.json");
    write_state(&state, 2.0).unwrap();
    let device = spawn_device(&link);

    let count = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let node = "t1";
    let mut config = MqttConfig::new(BrokerUrl::parse(&broker.url()).unwrap(), node);
    config.keep_alive = Duration::from_secs(5);
    let mqtt = MqttSink::start(config, |_| {}).unwrap();
    let session = {
        let (stop, opts, count) = (stop.clone(), options(&link, &state), count.clone());
        std::thread::spawn(move || {
            let mut sinks = FanOut::new();
            sinks.push(Count(count));
            sinks.push(mqtt);
            live::run(&opts, &mut sinks, &stop).map_err(|e| e.to_string())
        })
    };

    // No broker yet: metering goes on.
    wait_count(&count, 3, "metering with the broker down");
    broker.launch();
    let retained = broker.wait_retained("#", "discovery, status and state", |m| {
        m.len() == 12 && m.get("ct-read/t1/status").is_some_and(|s| s == "online")
    });
    check_discovery(
        &retained
            .iter()
            .filter(|(t, _)| t.starts_with("homeassistant/"))
            .map(|(t, p)| (t.clone(), p.clone()))
            .collect(),
        "homeassistant",
        node,
    );
    let before = check_state(&retained["ct-read/t1/state"]);

    // kill -9 of the broker mid-session: its retained messages are gone with it; on its
    // return, ct-read sends them all again, the state newer than before the outage.
    broker.kill();
    let n = count.load(Ordering::Relaxed);
    wait_count(&count, n + 2, "metering while the broker is down");
    broker.launch();
    let t0 = before["t_s"].as_f64().unwrap();
    let retained = broker.wait_retained("#", "everything again after the broker restart", |m| {
        m.len() == 12
            && m.get("ct-read/t1/state").is_some_and(|s| json(s)["t_s"].as_f64().unwrap() > t0)
            && m.get("ct-read/t1/status").is_some_and(|s| s == "online")
    });
    check_discovery(
        &retained
            .iter()
            .filter(|(t, _)| t.starts_with("homeassistant/"))
            .map(|(t, p)| (t.clone(), p.clone()))
            .collect(),
        "homeassistant",
        node,
    );
    check_state(&retained["ct-read/t1/state"]);

    // A config deleted (an empty retained message), then Home Assistant's birth message:
    // the discovery is sent again.
    let power = "homeassistant/sensor/t1/power/config";
    broker.publish(&["-r", "-n", "-t", power]);
    broker.wait_retained("homeassistant/#", "the deletion", |m| m.len() == 9);
    broker.publish(&["-t", "homeassistant/status", "-m", "online"]);
    broker.wait_retained("homeassistant/#", "discovery after homeassistant/status online", |m| {
        m.contains_key(power) && m.len() == 10
    });

    // Unplugged: offline; plugged back: online once readings resume.
    let status = broker.watch("ct-read/t1/status");
    status.wait_for("the retained online", |s| s.last().is_some_and(|l| l == "online"));
    let mut device = unplug_and_replug(device, &link);
    status.wait_for("offline on unplugging, online after replugging", |s| {
        s.iter().position(|l| l == "offline").is_some_and(|i| s[i..].iter().any(|l| l == "online"))
    });

    stop.store(true, Ordering::Relaxed);
    session.join().unwrap().unwrap();
    status.wait_for("offline at the end", |s| s.last().is_some_and(|l| l == "offline"));
    let end = broker.retained("ct-read/t1/#");
    assert_eq!(end.get("ct-read/t1/status").map(String::as_str), Some("offline"), "{end:#?}");
    check_state(&end["ct-read/t1/state"]);
    let _ = device.kill();
    let _ = device.wait();
}

/// The binary with `--mqtt`, a custom discovery prefix and the emonhub layout; killed with
/// SIGKILL, its last will tells Home Assistant it is offline.
#[test]
fn the_binary_publishes_emon_values_and_its_last_will_says_offline_when_killed() {
    let mut broker = Broker::new();
    broker.launch();
    let emon = broker.watch("emon/lw/#");
    let bound = broker.watch("emon/lw/error_bound");
    let mut child = Command::new(BIN)
        .args(["--simulate", "--sim-amps", "4", "--node", "lw", "--duration", "120", "--mqtt-emon"])
        .args(["--mqtt", &broker.url(), "--mqtt-discovery-prefix", "ha2"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let retained = broker.wait_retained("#", "discovery under ha2 and state", |m| {
        m.len() == 12 && m.get("ct-read/lw/status").is_some_and(|s| s == "online")
    });
    check_discovery(
        &retained.iter().filter(|(t, _)| t.starts_with("ha2/")).map(|(t, p)| (t.clone(), p.clone())).collect(),
        "ha2",
        "lw",
    );
    let state = json(&retained["ct-read/lw/state"]);
    assert!(state["lifetime_kwh"].is_number(), "{state}");

    // emonhub's layout: plain numbers, several per reading, none retained.
    emon.wait_for("emon values", |s| s.len() >= 10);
    assert!(emon.seen().iter().all(|v| v.parse::<f64>().is_ok()), "{:?}", emon.seen());
    assert!(broker.retained("emon/#").is_empty(), "emon values must not be retained");
    // The bound a reading is held to, percent: a steady 4 A sine's usual target, 2 %.
    bound.wait_for("the emon error bound", |s| !s.is_empty());
    assert!(bound.seen().iter().any(|v| v.parse::<f64>().is_ok_and(|b| b == 2.0)), "{:?}", bound.seen());

    let _ = child.kill();
    let _ = child.wait();
    broker.wait_retained("ct-read/lw/status", "the last will", |m| {
        m.get("ct-read/lw/status").is_some_and(|s| s == "offline")
    });
}

/// Runs `openssl` with `args` in `dir`.
fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("/usr/bin/openssl").current_dir(dir).args(args).output().unwrap();
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A CA (`NAME.pem`, `NAME.key`) made here, valid for two days.
fn make_ca(dir: &Path, name: &str) {
    let subj = format!("/CN=ct-read test {name}");
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            &subj,
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.pem"),
        ],
    );
}

/// `mqtts://` against a real mosquitto with TLS on loopback, its certificates made here by
/// openssl: with `--mqtt-ca` naming the broker's CA, ct-read publishes over TLS (read back
/// over TLS by mosquitto_sub); with another CA, the handshake fails with an error that says
/// why, and metering goes on for the whole session all the same.
#[test]
fn mqtts_with_the_brokers_ca_and_with_a_wrong_one() {
    require_mosquitto();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    make_ca(d, "ca");
    make_ca(d, "other-ca");
    openssl(
        d,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ],
    );
    std::fs::write(
        d.join("server.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        d,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "server.ext",
            "-out",
            "server.pem",
        ],
    );
    // mosquitto started as root reads its key after dropping to its own user.
    use std::os::unix::fs::PermissionsExt;
    for (path, mode) in [(d.to_owned(), 0o755), (d.join("server.key"), 0o644)] {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let conf = d.join("mosquitto.conf");
    std::fs::write(
        &conf,
        format!(
            "listener {port} 127.0.0.1\ncafile {0}/ca.pem\ncertfile {0}/server.pem\nkeyfile {0}/server.key\n\
             allow_anonymous true\npersistence false\n",
            d.display()
        ),
    )
    .unwrap();
    let mut broker =
        Command::new(MOSQUITTO).arg("-c").arg(&conf).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let t = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(t.elapsed() < Duration::from_secs(10), "mosquitto did not listen on {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
    let url = format!("mqtts://127.0.0.1:{port}");
    let run = |ca: &str, node: &str| {
        Command::new(BIN)
            .args(["--simulate", "--sim-speed", "4", "--duration", "4", "--json", "--node", node])
            .args(["--mqtt", &url, "--mqtt-ca"])
            .arg(d.join(ca))
            .output()
            .unwrap()
    };
    let retained = |node: &str| {
        let out = Command::new(SUB)
            .args(["-h", "127.0.0.1", "-p", &port.to_string(), "--cafile"])
            .arg(d.join("ca.pem"))
            // The broker's name is checked by ct-read's own connection; mosquitto_sub's check
            // of an IP address against the certificate is stricter than needed here.
            .args(["--insecure", "-t", &format!("ct-read/{node}/#"), "-v", "--retained-only", "-W", "2"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };

    let good = run("ca.pem", "tls");
    let err = String::from_utf8_lossy(&good.stderr);
    assert!(good.status.success(), "{err}");
    assert!(err.contains(&format!("connected to MQTT broker mqtts://127.0.0.1:{port}")), "{err}");
    let got = retained("tls");
    let state = got.lines().find_map(|l| l.strip_prefix("ct-read/tls/state ")).unwrap_or_else(|| panic!("{got}"));
    let state: Value = serde_json::from_str(state).unwrap();
    assert!((state["irms_a"].as_f64().unwrap() / 5.0 - 1.0).abs() < 0.02, "{state}");
    assert!(got.contains("ct-read/tls/status offline"), "a clean stop says offline: {got}");

    let wrong = run("other-ca.pem", "wrongca");
    let err = String::from_utf8_lossy(&wrong.stderr);
    assert!(wrong.status.success(), "a broker that cannot be trusted must not stop the meter: {err}");
    let readings = String::from_utf8_lossy(&wrong.stdout).lines().count();
    assert!(readings >= 12, "metering went on: {readings} readings in 4 s at 4x");
    let told = err.lines().find(|l| l.contains("unreachable")).unwrap_or_else(|| panic!("{err}"));
    assert!(told.contains("certificate") && told.contains("metering goes on"), "{told}");
    assert!(!err.contains("connected to MQTT broker"), "{err}");
    assert_eq!(retained("wrongca"), "", "nothing was published");

    let _ = broker.kill();
    let _ = broker.wait();
}

/// Renders a discovery config's `value_template` with `state` as `value_json`, as Home
/// Assistant does, with the engine it uses: Jinja2 (Debian's python3-jinja2).
fn render(template: &str, state: &Value) -> String {
    use std::io::Write;
    let script = "import sys, json, jinja2\nd = json.load(sys.stdin)\n\
                  sys.stdout.write(jinja2.Environment().from_string(d['t']).render(value_json=d['s']))";
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 (with python3-jinja2: `apt-get install -y python3-jinja2`; bash .ci/run does)");
    let input = serde_json::json!({"t": template, "s": state}).to_string();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "rendering {template}: {err}");
    String::from_utf8(out.stdout).unwrap()
}

/// How far each reading can be trusted, as Home Assistant gets it through a real broker: a
/// reading before the clock measurement settled, one after, and one flagged `changing` with
/// its stated bound (from a recording of the virtual device 1 % fast under a load that
/// falls, `common/trust.rs`). Each is published, read back from the broker, and the
/// discovery's templates rendered on it with Jinja2: the error bound is the usual 2 % target
/// of 9 A where the reading states none and the stated bound where it does, the clock offset
/// `None` (Home Assistant's unknown) before it settles and the device's 1 % (10000 ppm) after,
/// the flags by name, and every state names its meter.
#[test]
fn home_assistant_sees_how_far_each_reading_can_be_trusted() {
    let mut broker = Broker::new();
    broker.launch();
    let dir = tempfile::tempdir().unwrap();
    let cases = trust::cases(dir.path());
    let node = "trust";
    let mut mqtt = MqttSink::start(MqttConfig::new(BrokerUrl::parse(&broker.url()).unwrap(), node), |_| {}).unwrap();
    let configs = broker.wait_retained("homeassistant/#", "the discovery", |m| m.len() == 10);
    let template = |key: &str| {
        let topic = format!("homeassistant/sensor/{node}/{key}/config");
        json(&configs[&topic])["value_template"].as_str().unwrap().to_owned()
    };
    let mut published = |r: &Reading, wall| {
        mqtt.write_with_lifetime(r, wall, 1.0).unwrap();
        let state = broker.wait_retained(&format!("ct-read/{node}/state"), "the reading's state", |m| {
            m.values().any(|s| json(s)["t_s"].as_f64() == Some(r.t_s))
        });
        json(state.values().next().unwrap())
    };
    let number = |s: String| s.parse::<f64>().unwrap_or_else(|_| panic!("not a number: {s:?}"));
    // The error bound entity's attributes, each side apart, as Home Assistant renders them
    // from the state topic.
    let bound_config = json(&configs[&format!("homeassistant/sensor/{node}/error_bound/config")]);
    assert_eq!(bound_config["json_attributes_topic"], format!("ct-read/{node}/state"), "{bound_config}");
    let attributes_template = bound_config["json_attributes_template"].as_str().unwrap().to_owned();
    let sides = |state: &Value| {
        let a = json(&render(&attributes_template, state));
        (a["above_pct"].as_f64(), a["below_pct"].as_f64())
    };

    for (what, (r, wall)) in [("before the clock settled", &cases.unsettled), ("after", &cases.settled)] {
        let state = published(r, *wall);
        assert_eq!(state["meter"], node, "{what}: {state}");
        assert!(state["bound_pct"].is_null(), "{what}: {state}");
        assert_eq!(number(render(&template("error_bound"), &state)), 2.0, "{what}: {state}");
        assert_eq!(sides(&state), (Some(2.0), Some(2.0)), "{what}: {state}");
        assert_eq!(render(&template("flags"), &state), "clean", "{what}: {state}");
        let clock = render(&template("clock_offset"), &state);
        if what == "after" {
            let ppm = number(clock);
            assert!((ppm - trust::CLOCK_ERROR * 1e6).abs() <= 100.0, "{what}: {ppm} ppm");
        } else {
            assert_eq!(clock, "None", "{what}: {state}");
        }
        assert_eq!(number(render(&template("current"), &state)), r.irms_a, "{what}");
    }

    let (r, wall) = &cases.bounded;
    let state = published(r, *wall);
    let stated = r.bound_pct.unwrap();
    // The README's floor of a stated bound: 8 %.
    assert!(stated >= 8.0, "{stated} %");
    let below = r.bound_below_pct.unwrap_or(stated);
    assert_eq!(number(render(&template("error_bound"), &state)), stated.max(below), "{state}");
    assert_eq!(sides(&state), (Some(stated), Some(below)), "{state}");
    // A reading that states how low it can be apart (a sliver of a new load seen in its last
    // samples): the entity shows the wider side, the attributes each.
    let sided = Reading { bound_below_pct: Some(60.0), t_s: r.t_s + 1.0, ..r.clone() };
    let state = published(&sided, *wall);
    assert_eq!(number(render(&template("error_bound"), &state)), 60.0, "{state}");
    assert_eq!(sides(&state), (Some(stated), Some(60.0)), "{state}");
    assert!(render(&template("flags"), &state).split('|').any(|f| f == "changing"), "{state}");
    assert_eq!(state["flags"]["changing"], true, "{state}");
    mqtt.finish(ct_host::sink::End::Complete).unwrap();
}
