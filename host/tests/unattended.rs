//! ct-read as an unattended service, with the real binary: the shipped systemd unit checked
//! by `systemd-analyze verify`, the udev rule's syntax, the example config file, systemd's
//! notify protocol over a real `NOTIFY_SOCKET` (READY=1, and WATCHDOG=1 only while readings
//! flow), journald's priority prefixes, the state file's lock, and the lifetime energy across
//! SIGTERM and SIGKILL.

// Not every helper of the shared module is used here.
#[allow(dead_code)]
mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{spawn_device, BIN};
use ct_host::lifetime::{read_state, write_state};

/// Where Debian's systemd package puts it.
const SYSTEMD_ANALYZE: &str = "/usr/bin/systemd-analyze";

fn packaging(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../packaging").join(rel)
}

/// `systemd-analyze verify` on a unit file: its exit status and everything it said (it exits
/// 0 on many problems and only prints them, so both count).
fn verify(unit: &Path) -> (bool, String) {
    let out = Command::new(SYSTEMD_ANALYZE)
        .args(["verify", "--man=no"])
        .arg(unit)
        .output()
        .unwrap_or_else(|e| panic!("{SYSTEMD_ANALYZE}: {e} (Debian package systemd)"));
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), said)
}

/// The shipped unit, with ExecStart pointing at the binary built here (verify checks that the
/// program exists and is executable), passes `systemd-analyze verify` without a word; and the
/// check can fail: a copy with a misspelt key or a bad value is reported.
#[test]
fn the_systemd_unit_verifies() {
    let text = std::fs::read_to_string(packaging("systemd/ct-read.service")).unwrap();
    for needed in [
        "Type=notify",
        "WatchdogSec=",
        "Restart=on-failure",
        "DynamicUser=yes",
        "SupplementaryGroups=dialout",
        "StateDirectory=ct-read",
        "--state %S/ct-read/energy.json",
        "LoadCredential=ct-read.toml:/etc/ct-read.toml",
        "--config %d/ct-read.toml",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "NoNewPrivileges=yes",
        "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
    ] {
        assert!(text.lines().any(|l| l.contains(needed)), "the unit has no {needed}");
    }
    let dir = tempfile::tempdir().unwrap();
    let unit = dir.path().join("ct-read.service");
    let exec = text.lines().find(|l| l.starts_with("ExecStart=")).unwrap();
    let built = exec.replace("/usr/local/bin/ct-read", BIN);
    std::fs::write(&unit, text.replace(exec, &built)).unwrap();
    let (ok, said) = verify(&unit);
    assert!(ok && said.trim().is_empty(), "systemd-analyze verify:\n{said}");

    for (bad, expect) in [("WatchdogSec=30", "WatchdogSec=thirty"), ("Restart=on-failure", "Restrat=on-failure")] {
        let broken = dir.path().join("broken.service");
        std::fs::write(&broken, text.replace(exec, &built).replace(bad, expect)).unwrap();
        let (ok, said) = verify(&broken);
        assert!(!ok || !said.trim().is_empty(), "verify missed {expect}");
    }
}

/// One `KEY[{ATTR}]OP"VALUE"` of a udev rule line.
#[derive(Debug)]
struct UdevPair {
    key: String,
    attr: Option<String>,
    op: String,
    value: String,
}

/// Splits a rule line into its pairs the way udev(7) writes them: comma-separated
/// `KEY{attr}OP"value"`, operators `==`, `!=`, `=`, `+=`, `-=`, `:=`, values in double quotes.
fn udev_pairs(line: &str) -> Result<Vec<UdevPair>, String> {
    let mut pairs = Vec::new();
    let mut rest = line.trim();
    while !rest.is_empty() {
        let key_end = rest.find(|c: char| !(c.is_ascii_uppercase() || c == '_')).ok_or("a key without a value")?;
        let key = rest[..key_end].to_owned();
        rest = &rest[key_end..];
        let attr = match rest.strip_prefix('{') {
            Some(r) => {
                let close = r.find('}').ok_or("unclosed `{`")?;
                let a = r[..close].to_owned();
                rest = &r[close + 1..];
                Some(a)
            }
            None => None,
        };
        let op = ["==", "!=", "+=", "-=", ":=", "="]
            .into_iter()
            .find(|op| rest.starts_with(op))
            .ok_or_else(|| format!("no operator after {key}"))?;
        rest = rest[op.len()..].strip_prefix('"').ok_or_else(|| format!("{key}: the value is not quoted"))?;
        let close = rest.find('"').ok_or_else(|| format!("{key}: unclosed quote"))?;
        let value = rest[..close].to_owned();
        rest = rest[close + 1..].trim_start();
        if let Some(r) = rest.strip_prefix(',') {
            rest = r.trim_start();
        } else if !rest.is_empty() {
            return Err(format!("`{rest}`: pairs are separated by commas"));
        }
        pairs.push(UdevPair { key, attr, op: op.to_owned(), value });
    }
    Ok(pairs)
}

/// The udev rule, checked against udev(7)'s grammar (this machine's udevadm, systemd 252,
/// has no `verify`; `udevadm test` needs the real device): every key is one udev knows, with
/// an operator it allows (match keys compare, assignment keys assign), quoted values, and
/// GOTOs that reach a LABEL. And what it must do: only on the tty of USB 0451:f432, matched
/// positively, give group dialout, set ID_MM_DEVICE_IGNORE=1 and add a /dev/serial/by-id name.
#[test]
fn the_udev_rule_is_well_formed_and_matches_the_launchpad() {
    // udev(7): keys that only match, keys that only assign, keys that do either.
    let matching = ["ACTION", "DEVPATH", "KERNEL", "KERNELS", "SUBSYSTEM", "SUBSYSTEMS", "DRIVER", "DRIVERS", "ATTR"];
    let matching_too = ["ATTRS", "TAG", "TAGS", "TEST", "PROGRAM", "RESULT", "CONST", "SYSCTL"];
    let assigning = ["OWNER", "GROUP", "MODE", "SYMLINK", "RUN", "LABEL", "GOTO", "IMPORT", "OPTIONS", "NAME"];
    let either = ["ENV", "TAG", "ATTR", "SECLABEL", "SYSCTL"];
    let with_attr = ["ATTR", "ATTRS", "ENV", "TEST", "IMPORT", "RUN", "SYSCTL", "SECLABEL", "CONST"];
    let compare = ["==", "!="];

    let text = std::fs::read_to_string(packaging("udev/70-ct-read.rules")).unwrap();
    let mut all = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let pairs = udev_pairs(line).unwrap_or_else(|e| panic!("line {}: {e}: {line}", n + 1));
        for p in &pairs {
            let known = matching.contains(&p.key.as_str())
                || matching_too.contains(&p.key.as_str())
                || assigning.contains(&p.key.as_str())
                || either.contains(&p.key.as_str());
            assert!(known, "line {}: udev has no key {}", n + 1, p.key);
            assert_eq!(p.attr.is_some(), with_attr.contains(&p.key.as_str()), "line {}: {}{{..}}", n + 1, p.key);
            let is_compare = compare.contains(&p.op.as_str());
            if matching.contains(&p.key.as_str()) && !either.contains(&p.key.as_str()) {
                assert!(is_compare, "line {}: {} only matches (==, !=), not {}", n + 1, p.key, p.op);
            }
            if assigning.contains(&p.key.as_str()) {
                assert!(!is_compare, "line {}: {} only assigns, not {}", n + 1, p.key, p.op);
            }
        }
        // Every line that assigns applies to the LaunchPad's tty only, matched positively (a
        // negated ATTRS{} would match the tty itself, which has no idVendor).
        let has = |key: &str, attr: Option<&str>, value: &str| {
            pairs.iter().any(|p| p.key == key && p.attr.as_deref() == attr && p.op == "==" && p.value == value)
        };
        assert!(
            has("SUBSYSTEM", None, "tty")
                && has("ATTRS", Some("idVendor"), "0451")
                && has("ATTRS", Some("idProduct"), "f432"),
            "line {}: not limited to the LaunchPad's tty: {line}",
            n + 1
        );
        all.extend(pairs);
    }
    let gotos: BTreeSet<&str> = all.iter().filter(|p| p.key == "GOTO").map(|p| p.value.as_str()).collect();
    let labels: BTreeSet<&str> = all.iter().filter(|p| p.key == "LABEL").map(|p| p.value.as_str()).collect();
    assert!(gotos.is_subset(&labels), "GOTO {gotos:?} without LABEL {labels:?}");

    let has = |key: &str, attr: Option<&str>, op: &str, value: &str| {
        all.iter().any(|p| p.key == key && p.attr.as_deref() == attr && p.op == op && p.value == value)
    };
    assert!(has("GROUP", None, "=", "dialout"));
    assert!(has("ENV", Some("ID_MM_DEVICE_IGNORE"), "=", "1"));
    assert!(all.iter().any(|p| p.key == "SYMLINK" && p.op == "+=" && p.value.starts_with("serial/by-id/")));
}

/// The shipped example config is accepted by ct-read as it is, and with every commented-out
/// option turned on (so an option renamed later breaks this test, not a user's service).
#[test]
fn the_example_config_is_accepted() {
    let example = packaging("ct-read.toml");
    let text = std::fs::read_to_string(&example).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let all_on: String = text
        .lines()
        .map(|l| match l.strip_prefix("# ") {
            Some(opt) if opt.split_once(" = ").is_some_and(|(k, _)| !k.contains(' ')) => opt,
            _ => l,
        })
        .map(|l| format!("{l}\n"))
        .collect();
    let uncommented = all_on.lines().filter(|l| !l.starts_with('#') && l.contains(" = ")).count();
    assert!(uncommented >= 12, "{all_on}");
    let full = dir.path().join("all-on.toml");
    std::fs::write(&full, &all_on).unwrap();

    // A broker that refuses (metering goes on), the files and the port on the command line:
    // it wins over the config, and --simulate over the configured port.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    for config in [example, full] {
        let out = Command::new(BIN)
            .arg("--config")
            .arg(&config)
            .args(["--simulate", "--sim-speed", "4", "--duration", "2", "--prometheus", "127.0.0.1:0"])
            .args(["--mqtt", &format!("mqtt://127.0.0.1:{closed}"), "--json"])
            .arg("--csv")
            .arg(dir.path().join("r.csv"))
            .arg("--sqlite")
            .arg(dir.path().join("r.sqlite"))
            .arg("--state")
            .arg(dir.path().join("energy.json"))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{}: {err}", config.display());
        assert!(err.contains(&format!("options from {}", config.display())), "{err}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.lines().count() >= 2, "no readings: {stdout}\n{err}");
    }
}

/// Messages on a `NOTIFY_SOCKET`, as systemd receives them.
struct Notify {
    sock: UnixDatagram,
    path: PathBuf,
}

impl Notify {
    fn bind(dir: &Path) -> Self {
        let path = dir.join("notify.sock");
        let sock = UnixDatagram::bind(&path).unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
        Notify { sock, path }
    }

    /// The messages that arrive within `d`, one `KEY=VALUE` line each.
    fn during(&self, d: Duration) -> Vec<String> {
        let end = Instant::now() + d;
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while Instant::now() < end {
            if let Ok(n) = self.sock.recv(&mut buf) {
                got.extend(String::from_utf8_lossy(&buf[..n]).lines().map(str::to_owned));
            }
        }
        got
    }

    /// Waits up to `limit` for a message `line`, returning all messages until then.
    fn until(&self, line: &str, limit: Duration) -> Vec<String> {
        let end = Instant::now() + limit;
        let mut got = Vec::new();
        while Instant::now() < end {
            got.extend(self.during(Duration::from_millis(100)));
            if got.iter().any(|l| l == line) {
                return got;
            }
        }
        panic!("no {line} within {limit:?}: {got:?}");
    }
}

fn signal(child: &Child, sig: &str) {
    assert!(Command::new("kill").args([sig, &child.id().to_string()]).status().unwrap().success());
}

/// systemd's notify protocol against the virtual device: READY=1 once readings come,
/// WATCHDOG=1 while they flow, none while the device is silent (SIGSTOP: open but sending
/// nothing, as a hung meter), pings again when it speaks again, STOPPING=1 on SIGTERM.
#[test]
fn ready_and_watchdog_follow_the_readings() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("tty");
    let mut device = spawn_device(&link);
    let notify = Notify::bind(dir.path());
    let mut meter = Command::new(BIN)
        .arg(&link)
        .args(["--baud", "250000", "--quiet"])
        .env("NOTIFY_SOCKET", &notify.path)
        .env("WATCHDOG_USEC", "20000000")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let first = notify.until("READY=1", Duration::from_secs(30));
    assert!(first.iter().any(|l| l.starts_with("STATUS=metering: ")), "{first:?}");
    let flowing = notify.during(Duration::from_secs(2));
    let pings = flowing.iter().filter(|l| *l == "WATCHDOG=1").count();
    assert!(pings >= 3, "{pings} pings in 2 s of readings: {flowing:?}");
    assert!(!flowing.contains(&"READY=1".to_owned()), "READY=1 is sent once");

    signal(&device, "-STOP");
    // Readings already on their way may still come in.
    notify.during(Duration::from_millis(1500));
    let silent = notify.during(Duration::from_secs(5));
    assert!(!silent.contains(&"WATCHDOG=1".to_owned()), "pinged while the device was silent: {silent:?}");

    signal(&device, "-CONT");
    notify.until("WATCHDOG=1", Duration::from_secs(30));

    signal(&meter, "-TERM");
    let last = notify.until("STOPPING=1", Duration::from_secs(10));
    assert!(last.len() < 1000, "{last:?}");
    let status = meter.wait().unwrap();
    let mut err = String::new();
    meter.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(status.success(), "{err}");
    // --quiet: warnings only (the silence was one).
    assert!(err.lines().all(|l| l.starts_with("warning: ")), "{err}");
    device.kill().unwrap();
    device.wait().unwrap();
}

/// Under journald (JOURNAL_STREAM naming the file stderr is), every stderr line carries its
/// sd-daemon priority; without it, or when it names another file, none does; no line has a
/// terminal escape when stderr is not a terminal. An error is priority 3.
#[test]
fn journald_lines_carry_priorities() {
    let dir = tempfile::tempdir().unwrap();
    let run = |journal: Option<&str>, args: &[&str]| -> String {
        let log = dir.path().join("stderr.log");
        let file = std::fs::File::create(&log).unwrap();
        let meta = file.metadata().unwrap();
        let mut cmd = Command::new(BIN);
        cmd.args(args).stdout(Stdio::null()).stderr(file).env_remove("JOURNAL_STREAM");
        match journal {
            Some("this") => cmd.env("JOURNAL_STREAM", format!("{}:{}", meta.dev(), meta.ino())),
            Some(other) => cmd.env("JOURNAL_STREAM", other),
            None => &mut cmd,
        };
        cmd.status().unwrap();
        std::fs::read_to_string(&log).unwrap()
    };
    let live = ["--simulate", "--sim-speed", "4", "--duration", "1.5"];
    let journal = run(Some("this"), &live);
    assert!(journal.lines().count() >= 3, "{journal}");
    for line in journal.lines() {
        let ok = line.starts_with("<6>") || line.starts_with("<4>warning: ");
        assert!(ok, "{line:?} in\n{journal}");
    }
    assert!(journal.contains("<6>device: "), "{journal}");

    for env in [None, Some("1:2")] {
        let plain = run(env, &live);
        assert!(plain.lines().count() >= 3 && !plain.contains('<'), "{plain}");
        assert!(!plain.contains('\u{1b}'), "escape codes in {plain:?}");
    }

    let err = run(Some("this"), &["energy", "--state", dir.path().join("missing.json").to_str().unwrap()]);
    assert!(err.starts_with("<3>Error: ") && err.lines().all(|l| l.starts_with("<3>")), "{err}");
    let bad = run(None, &["--baud", "nine"]);
    assert!(bad.contains("invalid value") && !bad.contains('\u{1b}'), "{bad:?}");
}

/// A second ct-read on the same state file is refused with the reason, and the first keeps
/// metering into it.
#[test]
fn a_second_meter_on_the_same_state_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("energy.json");
    let mut first = Command::new(BIN)
        .args(["--simulate", "--sim-speed", "4", "--quiet", "--state"])
        .arg(&state)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while !dir.path().join("energy.json.lock").exists() || read_state(&state).ok().flatten().is_none() {
        assert!(t.elapsed() < Duration::from_secs(10), "the first ct-read did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = Command::new(BIN).args(["--simulate", "--duration", "1", "--state"]).arg(&state).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("energy.json is in use by another ct-read"), "{err}");
    let set = Command::new(BIN).args(["energy", "--set", "5", "--state"]).arg(&state).output().unwrap();
    assert!(!set.status.success() && String::from_utf8_lossy(&set.stderr).contains("in use"));
    signal(&first, "-TERM");
    assert!(first.wait().unwrap().success());
    assert!(read_state(&state).unwrap().unwrap() > 0.0, "the first one kept its total");
}

/// The virtual device's load in these runs: 10 A at 230 V (apparent power), 4x real time.
const WATTS: f64 = 2300.0;
const SPEED: f64 = 4.0;

fn metered(state: &Path, save_interval: &str, extra: &[&str]) -> Child {
    Command::new(BIN)
        .args(["--simulate", "--sim-profile", "fast", "--sim-amps", "10", "--sim-speed", "4"])
        .args(["--save-interval", save_interval, "--json", "--state"])
        .arg(state)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The session energy (kWh) of the last JSON reading ct-read wrote before it ended.
fn last_session_kwh(child: &mut Child) -> f64 {
    let out = BufReader::new(child.stdout.take().unwrap());
    let mut last = 0.0;
    for line in out.lines() {
        let v: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
        last = v["kwh"].as_f64().unwrap();
    }
    last
}

/// SIGKILL loses at most the save interval's energy: with `--save-interval 1`, the total in
/// the state file after `kill -9` is short of what the session metered (the JSON readings'
/// session energy) by no more than one interval's worth, though the session metered several.
#[test]
fn sigkill_loses_at_most_the_save_interval() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("energy.json");
    write_state(&state, 1.0).unwrap();
    let mut child = metered(&state, "1", &[]);
    std::thread::sleep(Duration::from_secs(6));
    signal(&child, "-KILL");
    let session = last_session_kwh(&mut child);
    child.wait().unwrap();
    let kept = read_state(&state).unwrap().unwrap() - 1.0;
    // One interval of wall time is SPEED seconds of session time; plus the reading window
    // being written when the save came, and half a second of scheduling slack.
    let one_interval_kwh = WATTS * (SPEED * 1.0 + 1.0 + 0.5 * SPEED) / 3.6e6;
    assert!(session > 2.0 * one_interval_kwh, "the session metered only {session} kWh");
    assert!(kept <= session + 1e-12, "kept {kept} kWh of {session} metered");
    assert!(session - kept <= one_interval_kwh, "lost {} kWh of {session}: over one interval", session - kept);
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `ctmeter_energy_joules_total` from `/metrics`, or `None` while ct-read is not serving.
fn published_joules(addr: SocketAddr) -> Option<f64> {
    let mut c = TcpStream::connect(addr).ok()?;
    write!(c, "GET /metrics HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut text = String::new();
    c.read_to_string(&mut text).ok()?;
    let prefix = "ctmeter_energy_joules_total{node=\"virtual\"} ";
    text.lines().find_map(|l| l.strip_prefix(prefix)).and_then(|v| v.parse().ok())
}

/// 20 restarts, SIGTERM and SIGKILL in turn, with Prometheus scraped every 100 ms: the
/// published lifetime total never goes down, within a run or across runs, and ends above
/// where it started; the state file's total never goes down either.
#[test]
fn the_published_total_never_decreases_across_20_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("energy.json");
    let mut published: Vec<(usize, f64)> = Vec::new();
    let mut saved = vec![0.0];
    for k in 0..20 {
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let mut child = metered(&state, "0.5", &["--prometheus", &addr.to_string()]);
        let end = Instant::now() + Duration::from_millis(2000);
        while Instant::now() < end {
            if let Some(j) = published_joules(addr) {
                published.push((k, j));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        signal(&child, if k % 2 == 0 { "-TERM" } else { "-KILL" });
        drop(child.stdout.take());
        child.wait().unwrap();
        saved.push(read_state(&state).unwrap().unwrap());
    }
    // Every run's figures are seen (a run publishes once its first reading is in).
    let runs: BTreeSet<usize> = published.iter().map(|(k, _)| *k).collect();
    assert!(runs.len() >= 18 && published.len() >= 60, "{published:?}");
    for w in published.windows(2) {
        assert!(w[1].1 >= w[0].1, "published total went down: {:?} then {:?}", w[0], w[1]);
    }
    for w in saved.windows(2) {
        assert!(w[1] >= w[0], "saved total went down: {saved:?}");
    }
    let last = published.last().unwrap().1;
    assert!(last > published[0].1 && last > 0.0, "{published:?}");
}

/// A mistake in a config file stops ct-read before anything runs, naming the file and line;
/// a rule between options broken by the file's options (`mqtt-emon` without `mqtt`) names the
/// file too.
#[test]
fn config_mistakes_are_told_with_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("meter.toml");
    let run = |text: &str| {
        std::fs::write(&cfg, text).unwrap();
        let out = Command::new(BIN).arg("--config").arg(&cfg).args(["--simulate", "--duration", "1"]).output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (code, err) = run("volts = 230\nbuad = 9600\n");
    assert_eq!(code, Some(1), "{err}");
    assert!(err.starts_with(&format!("Error: config file {}:2: `buad`: not an option", cfg.display())), "{err}");
    let (code, err) = run("\nvolts = 2300.5\n");
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains(":2: `volts`:"), "{err}");
    let (code, err) = run("mqtt-emon = true\n");
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--mqtt <URL>") && err.contains(&format!("options from {}", cfg.display())), "{err}");
}
