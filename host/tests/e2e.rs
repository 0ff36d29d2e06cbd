//! End-to-end: the `ct-read` binary reading the virtual device through a real pseudo-terminal
//! (the same serial-port code path as hardware), checked against the simulated load's true RMS.
//!
//! The expected currents are the loads the tests ask for: each load shape is defined with unit
//! RMS, which `sim::tests::unit_shapes_have_unit_rms` checks by numerical integration, so the
//! true RMS of `--sim-amps X` is X by construction, independent of the sensor path.
//! The virtual sensor is the host's own dynamic model of the clamp (the one the default
//! estimator inverts, checked against SPICE in `golden/tests/forward_model.rs`), so these tests
//! check the pipeline (framing, pty, decoding, estimation, outputs), not the sensor physics;
//! that is the job of the SPICE golden tests.

mod common;
#[path = "common/trust.rs"]
mod trust;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use common::{spawn_device, unplug_and_replug, BIN};

#[derive(Debug, Clone)]
struct R {
    t_s: f64,
    duration_s: f64,
    irms_a: f64,
    gap: bool,
    hz: Option<f64>,
    lost: u64,
}

fn parse_json_lines(stdout: &str) -> Vec<R> {
    stdout
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l}: {e}"));
            R {
                t_s: v["t_s"].as_f64().unwrap(),
                duration_s: v["duration_s"].as_f64().unwrap(),
                irms_a: v["irms_a"].as_f64().unwrap(),
                gap: v["flags"]["gap"].as_bool().unwrap(),
                hz: v["mains_hz"].as_f64(),
                lost: v["lost_samples"].as_u64().unwrap(),
            }
        })
        .collect()
}

fn run(args: &[&str]) -> (Vec<R>, String) {
    let out = Command::new(BIN).args(args).output().expect("run ct-read");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "ct-read {args:?} failed: {stderr}");
    (parse_json_lines(&String::from_utf8_lossy(&out.stdout)), stderr)
}

fn assert_close(r: &R, want: f64, tol: f64) {
    assert!((r.irms_a / want - 1.0).abs() <= tol, "reading {r:?} is not within {}% of {want} A", tol * 100.0);
}

#[test]
fn steady_load_and_step_fast_profile() {
    let (rs, _) = run(&[
        "--simulate",
        "--json",
        "--sim-profile",
        "fast",
        "--sim-speed",
        "8",
        "--duration",
        "2.5",
        "--sim-amps",
        "5",
        "--sim-step-at",
        "8",
        "--sim-step-amps",
        "20",
    ]);
    let before: Vec<_> = rs.iter().filter(|r| r.t_s <= 8.0).collect();
    let after: Vec<_> = rs.iter().filter(|r| r.t_s - r.duration_s >= 8.0).collect();
    assert!(before.len() >= 5 && after.len() >= 5, "too few readings: {rs:?}");
    for r in before.iter().filter(|r| r.duration_s > 0.9) {
        assert_close(r, 5.0, 0.01);
        assert!((r.hz.unwrap() - 50.0).abs() < 0.05, "{r:?}");
    }
    for r in after.iter().filter(|r| r.duration_s > 0.9) {
        assert_close(r, 20.0, 0.01);
    }
}

#[test]
fn subsampled_launchpad_profile_60hz() {
    let (rs, stderr) =
        run(&["--simulate", "--json", "--sim-speed", "10", "--duration", "2.5", "--sim-amps", "12", "--sim-hz", "60"]);
    assert!(stderr.contains("603.50 samples/s"), "{stderr}");
    let full: Vec<_> = rs.iter().filter(|r| r.duration_s > 0.9).collect();
    assert!(full.len() >= 10, "{rs:?}");
    for r in full {
        assert_close(r, 12.0, 0.01);
        assert!((r.hz.unwrap() - 60.0).abs() < 0.05, "{r:?}");
    }
}

#[test]
fn zero_current_reads_zero() {
    let (rs, _) = run(&[
        "--simulate",
        "--json",
        "--sim-profile",
        "fast",
        "--sim-speed",
        "8",
        "--duration",
        "1.5",
        "--sim-amps",
        "0",
    ]);
    assert!(rs.len() >= 5);
    for r in &rs {
        assert_eq!(r.irms_a, 0.0, "phantom current: {r:?}");
    }
}

/// Garbage before the first frame, bit flips and dropped bytes: readings may be missing or
/// flagged, but none may be wrong.
#[test]
fn corrupted_stream_never_prints_a_wrong_reading() {
    for profile in ["fast", "launchpad"] {
        let speed = if profile == "fast" { "8" } else { "20" };
        let (rs, stderr) = run(&[
            "--simulate",
            "--json",
            "--sim-profile",
            profile,
            "--sim-speed",
            speed,
            "--duration",
            "3",
            "--sim-amps",
            "7.5",
            "--sim-garbage",
            "700",
            "--sim-bit-flip",
            "0.2",
            "--sim-byte-drop",
            "0.1",
        ]);
        assert!(stderr.contains("skipped"), "{profile}: corruption was not reported: {stderr}");
        assert!(rs.iter().any(|r| r.gap && r.lost > 0), "{profile}: no reading flagged as a gap: {rs:?}");
        assert!(rs.len() >= 5, "{profile}: {rs:?}");
        for r in &rs {
            assert_close(r, 7.5, 0.02);
        }
    }
}

#[test]
fn missing_port_lists_what_exists() {
    let out = Command::new(BIN).args(["/dev/ttyDOES-NOT-EXIST"]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("serial port /dev/ttyDOES-NOT-EXIST does not exist"), "{err}");
    assert!(err.contains("Available ports:") || err.contains("No serial ports found"), "{err}");
}

/// Options out of range are refused before anything runs, with the option, its range and the
/// value as typed (not 300 digits).
#[test]
fn estimation_options_out_of_range_are_refused() {
    for (args, want) in [
        // Checked by the options' value parsers (so a config file's value is named with its
        // line): clap's words around the range.
        (["--volts", "1e308"], "'--volts <VOLTS>': must be a mains voltage between 0 and 1000 V, got 1e308"),
        (["--window", "1e-300"], "'--window <WINDOW>': must be between 0.1 and 3600 s, got 1e-300"),
        (["--clamp-lm", "0"], "'--clamp-lm <HENRIES>': must be a magnetizing inductance between 0.05 and 100 H, got 0"),
        (["--pf", "1.5"], "'--pf <PF>': must be between 0 and 1, got 1.5"),
    ] {
        let out =
            Command::new(BIN).args(["analyze", "/dev/null"]).args(args).env("RUST_BACKTRACE", "0").output().unwrap();
        assert!(!out.status.success(), "{args:?} accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want), "{args:?}: {err}");
    }
}

/// Live and record options out of range are refused with the option and the value, and the
/// options the README uses are in `--help`.
#[test]
fn live_options_out_of_range_are_refused() {
    for (args, want) in [
        (&["--simulate", "--duration", "-1"][..], "invalid value '-1' for '--duration <DURATION>'"),
        (&["--simulate", "--duration", "NaN"], "must be a number of seconds above 0"),
        (&["--simulate", "--duration", "1e300"], "got 1e300"),
        (&["--simulate", "--baud", "0"], "invalid value '0' for '--baud <BAUD>'"),
        (&["virtual-device", "--link", "/tmp/ct-read-never", "--duration", "-5"], "invalid value '-5'"),
        (&["plot", "/dev/null", "-o", "/tmp/ct-read-never.png", "--kind", "raw", "--from=-5"], "--from -5: a time"),
    ] {
        let out = Command::new(BIN).args(args).env("RUST_BACKTRACE", "0").output().unwrap();
        assert!(!out.status.success(), "{args:?} accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want), "{args:?}: {err}");
    }
    let help = Command::new(BIN).arg("--help").output().unwrap();
    assert!(String::from_utf8_lossy(&help.stdout).contains("--sim-speed"), "--sim-speed is in the README");
}

/// An input without samples is an error saying so, not a silent exit 0.
#[test]
fn analyze_without_samples_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.csv");
    std::fs::write(&empty, "").unwrap();
    for file in [empty.to_str().unwrap(), "/dev/null"] {
        let out = Command::new(BIN).args(["analyze", file]).env("RUST_BACKTRACE", "0").output().unwrap();
        assert!(!out.status.success(), "{file}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&format!("no samples in {file}")), "{file}: {err}");
    }
}

/// Readings that cannot be written are an error (`> /dev/full` exits non-zero with a
/// message); a reader that went away (`| head`) ends the command quietly, with exit 0.
#[test]
fn stdout_write_errors_fail_and_a_closed_pipe_ends_quietly() {
    use ct_host::sim::{DeviceProfile, Load, Shape, VirtualDevice};
    let dir = tempfile::tempdir().unwrap();
    let load = Load { amps: 2.0, mains_hz: 50.0, shape: Shape::Sine, step: None };
    let bytes = VirtualDevice::clean(DeviceProfile::FAST, load, 5).stream(6.0);
    let bin = dir.path().join("stream.bin");
    std::fs::write(&bin, &bytes).unwrap();

    for json in [false, true] {
        let mut cmd = Command::new(BIN);
        cmd.args(["analyze", bin.to_str().unwrap(), "--method", "table"]).env("RUST_BACKTRACE", "0");
        if json {
            cmd.arg("--json");
        }
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
        let out = cmd.stdout(full).stderr(Stdio::piped()).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "json {json}: > /dev/full exited 0: {err}");
        assert!(err.contains("cannot write readings to the output"), "{err}");

        // The read end closed before anything is written: every write meets a closed pipe.
        let child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let mut child = child;
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "json {json}: a closed pipe is not a failure: {err}");
        assert!(!err.contains("Error"), "{err}");
    }
}

/// `--csv /dev/stdout | cat`: the CSV goes down the pipe with the text lines (it used to read
/// the pipe first and block forever), and a sink on a device needs no sync.
#[test]
fn csv_to_dev_stdout_through_a_pipe() {
    use ct_host::sim::{DeviceProfile, Load, Shape, VirtualDevice};
    let dir = tempfile::tempdir().unwrap();
    let load = Load { amps: 2.0, mains_hz: 50.0, shape: Shape::Sine, step: None };
    let bytes = VirtualDevice::clean(DeviceProfile::FAST, load, 5).stream(4.0);
    let bin = dir.path().join("stream.bin");
    std::fs::write(&bin, &bytes).unwrap();
    for csv in ["/dev/stdout", "/dev/null"] {
        let mut child = Command::new(BIN)
            .args(["analyze", bin.to_str().unwrap(), "--method", "table", "--csv", csv])
            .env("RUST_BACKTRACE", "0")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let t = std::time::Instant::now();
        while child.try_wait().unwrap().is_none() {
            if t.elapsed() > std::time::Duration::from_secs(20) {
                child.kill().unwrap();
                panic!("--csv {csv} blocked");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let out = child.wait_with_output().unwrap();
        let (stdout, err) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "--csv {csv}: {err}");
        assert_eq!(stdout.contains(ct_host::sink::csv::CSV_HEADER), csv == "/dev/stdout", "{stdout}");
    }
}

/// Unplug (the device process dies, its pty vanishes) and replug (a new device at the same
/// path): the reader reports it, waits, reopens, and flags the gap.
#[test]
fn unplugged_device_is_reopened_with_the_gap_shown() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("ttyVIRT");
    let dev = spawn_device(&link);
    let reader = Command::new(BIN)
        .args([link.to_str().unwrap(), "--json", "--duration", "7"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut dev = unplug_and_replug(dev, &link);
    let out = reader.wait_with_output().unwrap();
    dev.kill().unwrap();
    let _ = dev.wait();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("warning: lost"), "{stderr}");
    assert!(stderr.contains("reconnected to"), "{stderr}");
    let rs = parse_json_lines(&String::from_utf8_lossy(&out.stdout));
    let first_gap = rs.iter().position(|r| r.gap).unwrap_or_else(|| panic!("no gap flagged: {rs:?}"));
    assert!(first_gap > 0 && first_gap < rs.len() - 1, "gap not between readings: {rs:?}");
    for r in rs.iter().filter(|r| r.duration_s > 0.9) {
        assert_close(r, 9.0, 0.01);
    }
}

/// Ctrl-C flushes the CSV and exits 0, leaving only whole rows.
#[test]
fn ctrl_c_flushes_and_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("r.csv");
    let mut child = Command::new(BIN)
        .args(["--simulate", "--sim-profile", "fast", "--sim-speed", "8", "--csv", csv.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait for the first printed reading, then interrupt.
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(first.contains(" A "), "{first}");
    let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    for _ in lines {}
    let status = child.wait().unwrap();
    assert!(status.success(), "exit status {status:?}");
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.ends_with('\n'));
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows[0], ct_host::sink::csv::CSV_HEADER);
    assert!(rows.len() >= 2, "{text}");
    for row in &rows[1..] {
        assert_eq!(row.split(',').count(), ct_host::sink::csv::CSV_HEADER.split(',').count(), "torn row {row}");
    }
}

/// `analyze` reads a recorded byte stream (as `cat /dev/ttyACM0 > file` would save it, here
/// written by the virtual device) and a `t_s,code` CSV, through the same estimator.
#[test]
fn analyze_recorded_stream_and_codes_csv() {
    use ct_host::sim::{DeviceProfile, Load, Shape, VirtualDevice};
    let dir = tempfile::tempdir().unwrap();
    let load = Load { amps: 3.3, mains_hz: 50.0, shape: Shape::Sine, step: None };
    let bytes = VirtualDevice::clean(DeviceProfile::LAUNCHPAD, load, 5).stream(12.0);
    let bin = dir.path().join("capture.bin");
    std::fs::write(&bin, &bytes).unwrap();
    let (rs, _) = run(&["analyze", bin.to_str().unwrap(), "--json"]);
    assert!(rs.len() >= 10, "{rs:?}");
    for r in rs.iter().filter(|r| r.duration_s > 0.9) {
        assert_close(r, 3.3, 0.01);
    }

    // The same kind of signal as raw codes with timestamps: a half-wave whose codes come from
    // the table's forward direction.
    let cal = ct_host::calibration::Calibration::builtin();
    let mut csv = String::from("t_s,code\n");
    for k in 0..8000 * 3 {
        let t = k as f64 / 8000.0;
        let a = 6.0 * std::f64::consts::SQRT_2 * (std::f64::consts::TAU * 50.0 * t).sin();
        csv.push_str(&format!("{t:.6},{}\n", cal.code_for(a as f32, Some(50.0))));
    }
    let path = dir.path().join("codes.csv");
    std::fs::write(&path, csv).unwrap();
    // Codes from the static table: estimate with the table alone.
    let (rs, _) = run(&["analyze", path.to_str().unwrap(), "--json", "--method", "table"]);
    assert_eq!(rs.iter().filter(|r| r.duration_s > 0.9).count(), 3, "{rs:?}");
    for r in &rs {
        assert_close(r, 6.0, 0.01);
    }

    // A bad row is an error naming the file and line.
    std::fs::write(&path, "t_s,code\n0.0,12\n0.001,abc\n").unwrap();
    let out = Command::new(BIN).args(["analyze", path.to_str().unwrap()]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("codes.csv:3: code `abc` is not an integer in 0..=1023"), "{err}");
}

/// `--simulate --firmware ELF`: the real firmware image runs in the emulator behind the pty,
/// its ADC fed by the virtual load, and `ct-read` reads it like hardware. Needs the release
/// ELFs that `.ci/firmware.sh` (or `.ci/emu.sh`) leaves in firmware/target/ci/.
#[test]
fn real_firmware_in_the_emulator_through_a_pty() {
    let dir = std::env::var("CT_FIRMWARE_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../firmware/target/ci"));
    let elf = dir.join("ct-firmware-fast.elf");
    assert!(elf.exists(), "{} is missing: run `bash .ci/firmware.sh` first", elf.display());
    let (rs, stderr) = run(&[
        "--simulate",
        "--json",
        "--firmware",
        elf.to_str().unwrap(),
        "--sim-profile",
        "fast",
        "--sim-amps",
        "10",
        "--duration",
        "4",
    ]);
    assert!(stderr.contains("8196.72 samples/s"), "{stderr}");
    let full: Vec<_> = rs.iter().filter(|r| r.duration_s > 0.9).collect();
    assert!(full.len() >= 2, "{rs:?}\n{stderr}");
    for r in full {
        assert_close(r, 10.0, 0.01);
    }
}

/// Issue 11.2: inputs at sample rates the meter cannot work with (a time column in
/// milliseconds, `--rate 1`, `--rate 1e12`, an Info frame with a 4 GHz timer, time steps of
/// 1e-12 s, two rows a billion seconds apart) end at once with an error saying so, and a
/// billion-second hole in a CSV at a good rate is read as a gap: each within a second and
/// 50 MB of data memory (the limit is set on the process, so an allocation of the rate's size
/// fails the test rather than the machine). Before: one-sample readings, `0 A low`, aborts
/// allocating 8 GB, and a spin at 100 % CPU.
#[test]
fn sample_rates_the_meter_cannot_use_end_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: String| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    let rows = |step: f64, n: usize| -> String {
        std::iter::once("t_s,code\n".to_string())
            .chain((0..n).map(|k| format!("{:e},{}\n", k as f64 * step, 300 + k % 7)))
            .collect()
    };
    let ms = write("ms.csv", rows(1000.0 / 8000.0, 48_000));
    let tiny = write("tiny.csv", rows(1e-12, 5000));
    let two = write("two.csv", "0,99\n1e9,300\n".into());
    let codes = write("codes.csv", (0..24_000).map(|k| format!("{}\n", 300 + k % 7)).collect());
    let hole = write("hole.csv", {
        let mut t = rows(1e-3, 3000);
        t.extend((0..3000).map(|k| format!("{:.3},{}\n", 1e9 + k as f64 * 1e-3, 300 + k % 7)));
        t
    });
    let info = ct_wire::Info {
        timer_clock_hz: 4_000_000_000,
        ticks_per_sample: 1,
        ..ct_host::sim::DeviceProfile::FAST.firmware.info(ct_wire::ResetCause::PowerOn)
    };
    let mut line = vec![0; ct_wire::MAX_ENCODED_FRAME];
    let n = ct_wire::framing::encode_frame(&ct_wire::Frame::Info(info), &mut line).unwrap();
    let ghz = dir.path().join("ghz.bin");
    std::fs::write(&ghz, &line[..n]).unwrap();
    let ghz = ghz.display().to_string();
    let outside = "outside the range the meter works with (500 to 200000 samples/s)";
    for (args, want) in [
        (vec![ms.as_str()], "median step of 0.125 s means 8 samples/s, outside"),
        (vec![codes.as_str(), "--rate", "1"], outside),
        (vec![codes.as_str(), "--rate", "1e12"], "a sample rate of 1e12 samples/s is outside"),
        (vec![ghz.as_str()], "a sample rate of 4e9 samples/s is outside"),
        (vec![tiny.as_str()], "median step of 1e-12 s means 1e12 samples/s, outside"),
        (vec![two.as_str()], "median step of 1e9 s means 1e-9 samples/s, outside"),
        (vec![hole.as_str()], "warning: gap of 999999997000 samples"),
    ] {
        let start = std::time::Instant::now();
        let out = Command::new("sh")
            .arg("-c")
            .arg("ulimit -d 51200 && exec \"$0\" analyze \"$@\"")
            .arg(BIN)
            .args(&args)
            .env("RUST_BACKTRACE", "0")
            .output()
            .unwrap();
        let took = start.elapsed().as_secs_f64();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want), "{args:?}: {err}");
        assert_eq!(out.status.success(), want.starts_with("warning"), "{args:?}: {err}");
        assert!(!err.contains("memory allocation"), "{args:?}: {err}");
        assert!(took < if cfg!(debug_assertions) { 5.0 } else { 1.0 }, "{args:?} took {took} s");
    }
}

/// `--json` lines say how far each reading can be trusted and whose they are, end to end
/// through the binary: `analyze` of a recording of the virtual device 1 % fast under a load
/// that falls (`common/trust.rs`). A reading before the clock measurement settled has
/// `clock_ppm` null, one after has the device's 1 % (10000 ppm); one stating no bound has
/// `bound_pct` null, the window holding the fall is `changing` with its bound. Every line
/// names its meter: `--node`'s, else `unknown` (as the CSV and database rows).
#[test]
fn json_lines_carry_the_meter_the_clock_and_the_bound() {
    let dir = tempfile::tempdir().unwrap();
    let cases = trust::cases(dir.path());
    let cap = cases.capture.to_str().unwrap();
    let lines = |args: &[&str]| -> Vec<serde_json::Value> {
        let out = Command::new(BIN).args(["analyze", cap, "--json"]).args(args).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    };
    let named = lines(&["--node", "kitchen"]);
    assert!(named.len() > 100 && named.iter().all(|v| v["meter"] == "kitchen"), "{:?}", named.first());
    assert!(lines(&[]).iter().all(|v| v["meter"] == ct_host::sink::UNNAMED_METER));
    let at = |t_s: f64| {
        named.iter().find(|v| v["t_s"].as_f64() == Some(t_s)).unwrap_or_else(|| panic!("no line at {t_s} s"))
    };

    let v = at(cases.unsettled.0.t_s);
    assert!(v["clock_ppm"].is_null() && v["bound_pct"].is_null(), "{v}");
    let v = at(cases.settled.0.t_s);
    let ppm = v["clock_ppm"].as_f64().unwrap_or_else(|| panic!("{v}"));
    assert!((ppm - trust::CLOCK_ERROR * 1e6).abs() <= 100.0, "{v}");
    assert!(v["bound_pct"].is_null(), "{v}");
    assert!((v["irms_a"].as_f64().unwrap() / trust::AMPS - 1.0).abs() <= 0.01, "{v}");
    let v = at(cases.bounded.0.t_s);
    assert_eq!(v["flags"]["changing"], true, "{v}");
    // The README's floor of a stated bound: 8 %.
    assert!(v["bound_pct"].as_f64().is_some_and(|b| b >= 8.0), "{v}");
}
