//! Helpers shared by the integration tests that drive the `ct-read` binary.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_ct-read");

/// Starts `ct-read virtual-device` (fast profile, 9 A, 4x real time) publishing its pty at
/// `link`, and waits until the link exists: a stand-in for plugging a device in.
pub fn spawn_device(link: &Path) -> Child {
    let child = Command::new(BIN)
        .args(["virtual-device", "--link", link.to_str().unwrap(), "--sim-profile", "fast", "--sim-speed", "4"])
        .args(["--sim-amps", "9"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while !link.exists() {
        assert!(t.elapsed() < Duration::from_secs(10), "virtual device did not come up");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

/// Unplugs `device` after 2.5 s of reading (kills it, so its pty vanishes) and plugs a new one
/// in at the same `link` 1.5 s later; returns the new device.
pub fn unplug_and_replug(mut device: Child, link: &Path) -> Child {
    std::thread::sleep(Duration::from_millis(2500));
    device.kill().unwrap();
    device.wait().unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    spawn_device(link)
}
