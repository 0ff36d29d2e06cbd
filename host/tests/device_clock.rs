//! Issue 12.5: a device whose sample clock is off (a DCO 3 % fast, 5 % slow), read through a
//! bursty USB link (reads every 1-20 ms bringing what the bridge forwarded up to 20 ms
//! before). The host measures the clock from the receive times (`ct_core::sample_clock`) and,
//! once that settles, the readings and the mains frequency meet the usual targets: current
//! within 1 %, mains frequency within the 0.01 Hz the readings print, durations (and so
//! energy) in true seconds. The virtual device and the real firmware in the emulator both, live
//! (the meter fed chunk by chunk, as `ct-read` does) and replayed from a capture (`analyze`,
//! and the samples `export` and `plot` read).
//!
//! Settling times are printed (`cargo test -p ct-host --release --test device_clock --
//! --nocapture`).

use std::path::Path;

use ct_host::calibration::Calibration;
use ct_host::capture;
use ct_host::clock::{ClockedMeter, Link};
use ct_host::estimate::{EstimatorConfig, Reading};
use ct_host::meter::{Event, Meter, Notice};
use ct_host::sim::{emulated_usb_chunks, DeviceProfile, Load, Shape, VirtualDevice};
use ct_host::timeline::MAX_CLOCK_PPM;

/// Unix ns of the first read.
const T0_NS: i64 = 1_790_000_000_000_000_000;
const AMPS: f64 = 10.0;
const MAINS_HZ: f64 = 50.0;
/// The longest settling accepted, s of host time.
const SETTLE_MAX_S: f64 = 90.0;

fn load() -> Load {
    Load { amps: AMPS, mains_hz: MAINS_HZ, shape: Shape::Sine, step: None }
}

/// Readings with their wall times (Unix ns), and notices.
#[derive(Default)]
struct Outcome {
    readings: Vec<(Reading, i64)>,
    notices: Vec<Notice>,
}

fn meter_chunks(chunks: &[(i64, Vec<u8>)]) -> Outcome {
    let mut m = ClockedMeter::new(Meter::new(Calibration::builtin(), EstimatorConfig::default()));
    let mut o = Outcome::default();
    let mut out = |e: Event, wall: Option<std::time::SystemTime>| match e {
        Event::Reading(r) => {
            let ns = wall.expect("receive times give wall times").duration_since(std::time::UNIX_EPOCH).unwrap();
            o.readings.push((r, ns.as_nanos() as i64));
        }
        Event::Notice(n) => o.notices.push(n),
    };
    for (ns, bytes) in chunks {
        m.link(Link::Bytes { unix_ns: *ns, bytes }, &mut out).unwrap();
    }
    m.finish(&mut out);
    o
}

/// Checks a run of a device `error` off; returns the settling time (s of host time).
fn check(o: &Outcome, error: f64, what: &str) -> f64 {
    let true_ppm = error * 1e6;
    assert!(o.notices.contains(&Notice::ClockMeasuring), "{what}: {:?}", o.notices);
    let told: Vec<_> = o
        .notices
        .iter()
        .filter_map(|n| if let Notice::Clock { estimate, .. } = n { Some(*estimate) } else { None })
        .collect();
    assert_eq!(told.len(), 1, "{what}: {told:?}");
    assert!((told[0].ppm - true_ppm).abs() <= 100.0, "{what}: {:?}", told[0]);
    let full: Vec<&(Reading, i64)> = o.readings.iter().filter(|(r, _)| r.duration_s > 0.9).collect();
    let first = full.iter().position(|(r, _)| r.clock_ppm.is_some()).unwrap_or_else(|| panic!("{what}: never settled"));
    let settled_s = (full[first].1 - T0_NS) as f64 / 1e9;
    assert!(settled_s <= SETTLE_MAX_S, "{what}: settled after {settled_s:.1} s");
    assert!(full[first..].iter().all(|(r, _)| r.clock_ppm.is_some()), "{what}: the estimate was dropped");
    // Before: the nominal rate, and the mains frequency off by the clock's error (what the
    // measurement is for).
    for (r, _) in &full[..first] {
        let hz = r.hz.unwrap();
        assert!((hz * (1.0 + error) / MAINS_HZ - 1.0).abs() < 1e-3, "{what}: before settling {hz} Hz");
    }
    // After: the targets.
    for (r, _) in &full[first..] {
        let ppm = r.clock_ppm.unwrap();
        assert!((ppm - true_ppm).abs() <= 100.0, "{what}: clock {ppm} ppm, true {true_ppm}");
        let hz = r.hz.unwrap();
        assert!((hz - MAINS_HZ).abs() <= 0.005, "{what}: {hz} Hz at {} s", r.t_s);
        assert!((r.irms_a / AMPS - 1.0).abs() <= 0.01, "{what}: {} A", r.irms_a);
    }
    // Durations (which energy integrates) in true seconds: the settled readings' durations add
    // up to the host time they span, and their wall times advance by their durations.
    // Not the reading flushed when the stream ends: a partial window, stamped when the last
    // bytes arrived (seen 90 ms after its samples' end in the emulated launchpad at -3 %).
    let settled = &full[first + 1..full.len() - 1];
    let span_s = (settled.last().unwrap().1 - full[first].1) as f64 / 1e9;
    let dur: f64 = settled.iter().map(|(r, _)| r.duration_s).sum();
    // Each end's wall stamp carries the link's delivery jitter (a 1-20 ms poll after a 0-20 ms
    // delay): 45 ms for the two, beyond which a rate error of 0.05 % would show.
    assert!((dur - span_s).abs() < 5e-4 * span_s + 0.045, "{what}: {dur} s of readings over {span_s} s");
    for w in settled.windows(2) {
        let step = (w[1].1 - w[0].1) as f64 / 1e9;
        assert!(
            (step - w[1].0.duration_s).abs() < 0.06,
            "{what}: readings {step} s apart, {} s long",
            w[1].0.duration_s
        );
    }
    eprintln!(
        "{what}: clock measured at {:+.0} ppm (true {true_ppm:+.0}, bound {:.0}) after {settled_s:.0} s; {} settled \
         readings",
        told[0].ppm,
        told[0].bound_ppm,
        full.len() - first
    );
    settled_s
}

/// The virtual device 3 % fast and 5 % slow, both profiles: live, and replayed from a capture
/// (readings and samples alike).
#[test]
fn virtual_device_with_a_clock_3_percent_fast_and_5_percent_slow() {
    let dir = tempfile::tempdir().unwrap();
    for profile in [DeviceProfile::LAUNCHPAD, DeviceProfile::FAST] {
        for error in [0.03, -0.05] {
            let what = format!("virtual {:?} {:+}%", profile.build, error * 100.0);
            let dev = VirtualDevice::clean(profile, load(), 5).with_clock_error(error);
            let true_rate = dev.true_rate_hz();
            let chunks = { dev }.usb_chunks(150.0, T0_NS, 11);
            let live = meter_chunks(&chunks);
            check(&live, error, &what);

            let cap = dir.path().join("run.ctcap");
            capture::write_capture(&cap, &[("source", "test".into())], chunks.iter().map(|(n, b)| (*n, b))).unwrap();
            let mut replayed = Outcome::default();
            ct_host::replay::readings(
                &cap,
                Calibration::builtin(),
                EstimatorConfig::default(),
                None,
                &mut |_| true,
                &mut |e, wall| match e {
                    Event::Reading(r) => replayed.readings.push((r, ct_host::capture::unix_ns(wall.unwrap()))),
                    Event::Notice(n) => replayed.notices.push(n),
                },
            )
            .unwrap();
            assert_eq!(replayed.readings.len(), live.readings.len(), "{what}");
            for (k, (a, b)) in replayed.readings.iter().zip(&live.readings).enumerate() {
                assert_eq!(a, b, "{what}: analyze's reading {k} differs from live's");
            }
            check(&replayed, error, &format!("{what} replayed"));
            check_samples(&cap, true_rate, &what);
        }
    }
}

/// The samples `export` and `plot` read from a capture are timed by the measured rate too once
/// it settles.
fn check_samples(cap: &Path, true_rate: f64, what: &str) {
    let mut rates = Vec::new();
    let mut notices = Vec::new();
    ct_host::replay::samples(
        cap,
        &Calibration::builtin(),
        None,
        &mut |_| true,
        &mut |n| notices.push(n),
        &mut |run, _| {
            rates.push(run.rate_hz);
            true
        },
    )
    .unwrap();
    assert!(notices.iter().any(|n| matches!(n, Notice::Clock { .. })), "{what}: {notices:?}");
    let last = *rates.last().unwrap();
    assert!((last / true_rate - 1.0).abs() < 1e-4, "{what}: samples at {last} Sa/s, true {true_rate}");
}

/// Files without receive times keep the nominal rate and say so.
#[test]
fn a_raw_stream_keeps_the_nominal_rate_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("run.bin");
    let bytes = VirtualDevice::clean(DeviceProfile::FAST, load(), 5).with_clock_error(0.03).stream(10.0);
    std::fs::write(&raw, bytes).unwrap();
    let mut o = Outcome::default();
    ct_host::replay::readings(
        &raw,
        Calibration::builtin(),
        EstimatorConfig::default(),
        None,
        &mut |_| true,
        &mut |e, _| match e {
            Event::Reading(r) => o.readings.push((r, 0)),
            Event::Notice(n) => o.notices.push(n),
        },
    )
    .unwrap();
    assert!(o.notices.contains(&Notice::NominalClock), "{:?}", o.notices);
    assert!(!o.readings.is_empty() && o.readings.iter().all(|(r, _)| r.clock_ppm.is_none()));
}

/// Receive times from a device running 10 times faster than real time (the virtual device's
/// `--sim-speed 10`) are no DCO error: reported, not applied.
#[test]
fn a_sped_up_simulation_is_not_taken_for_a_clock_error() {
    let dev = VirtualDevice::clean(DeviceProfile::LAUNCHPAD, load(), 5).with_clock_error(9.0);
    let o = meter_chunks(&{ dev }.usb_chunks(20.0, T0_NS, 3));
    let implausible: Vec<_> = o.notices.iter().filter(|n| matches!(n, Notice::ClockImplausible { .. })).collect();
    assert_eq!(implausible.len(), 1, "{:?} {:?}", o.notices, o.readings.last());
    if let Notice::ClockImplausible { estimate } = implausible[0] {
        assert!(estimate.ppm > MAX_CLOCK_PPM, "{estimate:?}");
    }
    assert!(o.readings.iter().all(|(r, _)| r.clock_ppm.is_none()));
}

/// The real firmware in the emulator with its calibrated DCO 3 % fast and 3 % slow (its timer,
/// and so its sample rate, and its UART run from it), read through the same bursty link.
///
/// Not 5 % slow, as the virtual device above: the UART itself fails there. A receiver samples
/// a frame's stop bit 9.5 bit times after the start edge, so two ends whose clocks differ by
/// more than about 0.5 / 9.5 = 5.3 % (less the receiver's sampling granularity) lose bytes;
/// since the device only streams once it has received the host's Start, the fast profile's
/// 250000-baud receiver (16 BRCLK a bit) missed the Start at -5 % in the emulator and the
/// device stayed silent. The calibrated DCO is within 3 % over temperature or supply
/// (README), where both directions work.
#[test]
fn emulated_firmware_with_its_dco_3_percent_fast_and_3_percent_slow() {
    use ct_emu::fil::{self, Session};
    for profile in [fil::LAUNCHPAD, fil::FAST] {
        let elf = fil::ci_elf(&profile).unwrap_or_else(|e| panic!("{e}"));
        for error in [0.03, -0.03] {
            let what = format!("emulated {} {:+}%", profile.name, error * 100.0);
            let dev = VirtualDevice::clean(
                if profile == fil::LAUNCHPAD { DeviceProfile::LAUNCHPAD } else { DeviceProfile::FAST },
                load(),
                5,
            );
            let cfg = ct_emu::Config { dco_error: error, ..ct_emu::Config::default() };
            let mut s = Session::with_config(&elf, &profile, &cfg, dev.adc_millivolts()).unwrap();
            // The host opens the port once the firmware has set its UART up and asks as
            // ct-read does, through the bursty link.
            s.advance(fil::HOST_START_S).unwrap();
            let chunks = emulated_usb_chunks(&mut s, 130.0, T0_NS, 17).unwrap();
            assert_eq!(s.framing_errors(), 0, "{what}: framing errors at a {:+}% baud rate", error * 100.0);
            assert!(s.emu.resets.is_empty(), "{what}: {:?}", s.emu.resets);
            check(&meter_chunks(&chunks), error, &what);
        }
    }
}
