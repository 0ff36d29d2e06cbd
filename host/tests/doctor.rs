//! `ct-read doctor` as a user runs it: the binary parses, runs the checks on the virtual
//! device behind a pty, prints one line per check on stdout, and exits with failure exactly
//! when a check failed. The checks themselves are tested in-process (`host/src/cmd/doctor.rs`).

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_ct-read");

/// The status word of the line of check `name`, from the report on stdout.
fn status(stdout: &str, name: &str) -> Option<String> {
    stdout.lines().find(|l| l.get(6..).is_some_and(|rest| rest.starts_with(name))).map(|l| l[..4].trim().to_owned())
}

fn doctor(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN)
        .args(["doctor", "--simulate", "--sim-profile", "fast", "--baud", "250000", "--duration", "3"])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// A clean virtual device: no check fails (the clock is not settled in 3 s, a warning), the
/// command succeeds. Mains at 45 Hz: the mains check fails and so does the command.
#[test]
fn the_exit_status_follows_the_failed_checks() {
    let (ok, stdout, stderr) = doctor(&["--sim-amps", "5"]);
    assert!(ok, "{stdout}\n{stderr}");
    assert_eq!(status(&stdout, "firmware").as_deref(), Some("pass"), "{stdout}");
    assert_eq!(status(&stdout, "sample clock").as_deref(), Some("WARN"), "{stdout}");
    assert_eq!(status(&stdout, "mains frequency").as_deref(), Some("pass"), "{stdout}");
    assert!(!stdout.contains("FAIL"), "{stdout}");

    let (ok, stdout, stderr) = doctor(&["--sim-amps", "5", "--sim-hz", "45"]);
    assert!(!ok, "{stdout}\n{stderr}");
    assert_eq!(status(&stdout, "mains frequency").as_deref(), Some("FAIL"), "{stdout}");
    assert!(stderr.contains("1 check(s) failed"), "{stderr}");
}

/// Without a port or --simulate, clap refuses (a doctor must not quietly check the virtual
/// device instead of the board).
#[test]
fn a_port_is_required() {
    let out = Command::new(BIN).arg("doctor").output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("<PORT>"), "{err}");
}
