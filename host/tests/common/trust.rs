//! A recording whose readings show each case of how far a reading can be trusted, for the
//! sinks that show it (JSON lines, MQTT for Home Assistant, Prometheus): the virtual device
//! (fast profile) with its sample clock [`CLOCK_ERROR`] fast, through the bursty USB link,
//! under 9 A that falls to 3 A at 100.5 s. Before the clock measurement settles (about a
//! minute) readings carry no clock offset; after it, the offset; the window holding the fall
//! is flagged `changing` and states its own bound.

// Each test binary that includes this file uses its own part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use ct_host::calibration::Calibration;
use ct_host::capture;
use ct_host::estimate::{EstimatorConfig, Reading};
use ct_host::meter::Event;
use ct_host::sim::{DeviceProfile, Load, Shape, VirtualDevice};

/// The device's clock error: its sample rate is the nominal times 1.01.
pub const CLOCK_ERROR: f64 = 0.01;
/// The load before the fall, A: the unflagged readings' usual target there is 2 % (README,
/// *What it measures*: 2 % from 0.5 A).
pub const AMPS: f64 = 9.0;
const SECONDS: f64 = 106.0;

/// One reading of each case, with its wall time.
pub struct Cases {
    /// A capture of the whole run.
    pub capture: PathBuf,
    /// A full, unflagged reading before the clock settled.
    pub unsettled: (Reading, Option<SystemTime>),
    /// A full, unflagged reading after it settled, stating no bound of its own.
    pub settled: (Reading, Option<SystemTime>),
    /// The reading of the window holding the fall: `changing`, with its stated bound.
    pub bounded: (Reading, Option<SystemTime>),
}

/// Records the run into `dir` and replays it, as `ct-read analyze` does.
pub fn cases(dir: &Path) -> Cases {
    let load = Load { amps: AMPS, mains_hz: 50.0, shape: Shape::Sine, step: Some((100.5, 3.0)) };
    let chunks = VirtualDevice::clean(DeviceProfile::FAST, load, 5).with_clock_error(CLOCK_ERROR).usb_chunks(
        SECONDS,
        1_790_000_000_000_000_000,
        11,
    );
    let path = dir.join("trust.ctcap");
    capture::write_capture(&path, &[("source", "test".into())], chunks.iter().map(|(n, b)| (*n, b))).unwrap();
    let mut readings = Vec::new();
    ct_host::replay::readings(
        &path,
        Calibration::builtin(),
        EstimatorConfig::default(),
        None,
        &mut |_| true,
        &mut |e, wall| {
            if let Event::Reading(r) = e {
                readings.push((r, wall));
            }
        },
    )
    .unwrap();
    let clean = |r: &Reading| r.duration_s > 0.9 && r.flags == Default::default() && r.bound_pct.is_none();
    let find = |what: &str, ok: &dyn Fn(&Reading) -> bool| {
        readings.iter().find(|(r, _)| ok(r)).cloned().unwrap_or_else(|| panic!("no {what} reading among {readings:#?}"))
    };
    let cases = Cases {
        capture: path.clone(),
        unsettled: find("unsettled", &|r| clean(r) && r.clock_ppm.is_none() && r.t_s > 5.0),
        settled: find("settled", &|r| clean(r) && r.clock_ppm.is_some()),
        bounded: find("bounded", &|r| r.flags.changing && r.bound_pct.is_some()),
    };
    for (what, (r, _)) in [("unsettled", &cases.unsettled), ("settled", &cases.settled), ("bounded", &cases.bounded)] {
        eprintln!(
            "{what}: t {:.2} s, {:.3} A, clock {:?} ppm, bound {:?} %, flags `{}`",
            r.t_s,
            r.irms_a,
            r.clock_ppm,
            r.bound_pct,
            r.flags.to_text()
        );
    }
    cases
}
