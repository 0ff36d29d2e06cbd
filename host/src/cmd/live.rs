//! `ct-read [PORT]` and `ct-read record`: live readings from a port, an attached LaunchPad or
//! the built-in virtual device; with a capture file, every chunk of bytes and every
//! unplug/replug also goes to it with its receive time (for analyze, plot and export later).

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant, SystemTime};

use super::virtual_device::Simulation;
use super::Error;
use crate::calibration::Calibration;
use crate::capture::{unix_ns, CaptureError, CaptureWriter, Kind};
use crate::clock::{ClockedMeter, Link};
use crate::estimate::EstimatorConfig;
use crate::lifetime::{Lifetime, Start, StateError};
use crate::meter::{Event, Meter};
use crate::notice::Notice;
use crate::serial::{self, LinkEvent};
use crate::sink::{End, ReadingSink, SinkError};

/// What a live session reads and how.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    /// The serial port; without one, an attached LaunchPad, or else the virtual device.
    pub port: Option<String>,
    /// Read the virtual device even if hardware is attached.
    pub simulate: bool,
    /// With the virtual device: run this firmware ELF in the emulator on its load instead of
    /// the device's own framing.
    pub firmware: Option<PathBuf>,
    pub sim: Simulation,
    pub baud: u32,
    /// Stop after this many seconds (else when the stop flag is set).
    pub duration: Option<f64>,
    /// Append every byte received, with its receive time, to this capture.
    pub record: Option<PathBuf>,
    pub cal: Calibration,
    pub cfg: EstimatorConfig,
    /// Keep the lifetime energy in this state file (read back at the start, written at most
    /// every `save_every` and at the end).
    pub state: Option<PathBuf>,
    /// [`crate::lifetime::SAVE_EVERY`] but in tests.
    pub save_every: Duration,
    /// The meter's id (its node id), kept in the capture's session record so that `export`
    /// and `analyze` write the recording's rows under the same meter as the live session.
    pub node: Option<String>,
}

/// The node id of the meter a session reads, for labels and topics: `virtual` for the
/// virtual device, else the USB serial number of the port's device, else the port's name
/// ([`serial::node_id`]).
pub fn node_id(opts: &LiveOptions) -> String {
    match (opts.simulate, opts.port.clone().or_else(serial::find_launchpad)) {
        (false, Some(port)) => serial::node_id(&port),
        _ => "virtual".into(),
    }
}

/// Reads until `stop` is set or the duration is over, sending readings and notices to
/// `sinks`, then finishes them. A session stopped by the flag ended normally: the sinks are
/// told [`End::Complete`]. Each reading goes with the lifetime energy
/// ([`ReadingSink::write_with_lifetime`]); with a state file, a file that cannot be read is
/// refused before anything runs, and the total is saved however the session ends.
pub fn run(opts: &LiveOptions, sinks: &mut dyn ReadingSink, stop: &AtomicBool) -> Result<(), Error> {
    let mut lifetime = match &opts.state {
        Some(path) => {
            let (lifetime, start) = Lifetime::open(path, opts.save_every)?;
            sinks.notice(&match start {
                Start::Loaded(kwh) => Notice::StateLoaded { path: path.clone(), kwh },
                Start::Created => Notice::StateCreated { path: path.clone() },
            });
            lifetime
        }
        None => Lifetime::in_memory(),
    };
    let res = session(opts, sinks, stop, &mut lifetime);
    // Whatever ended the session, the energy metered in it was used: keep it. The first
    // error is the one reported.
    let saved = lifetime.save();
    res?;
    Ok(saved?)
}

fn session(
    opts: &LiveOptions,
    sinks: &mut dyn ReadingSink,
    stop: &AtomicBool,
    lifetime: &mut Lifetime,
) -> Result<(), Error> {
    let hardware = if opts.simulate { None } else { opts.port.clone().or_else(serial::find_launchpad) };
    let full_scale = opts.cal.full_scale_code();
    let (path, device) = match hardware {
        Some(p) => (p, None),
        None => {
            let pty = match &opts.firmware {
                Some(elf) => {
                    let pty = opts.sim.start_firmware(elf, full_scale)?;
                    sinks.notice(&Notice::Emulating { elf: elf.clone(), profile: opts.sim.profile.emulator().name });
                    pty
                }
                None => opts.sim.start(full_scale, None)?,
            };
            sinks.notice(&Notice::VirtualDevice {
                path: pty.path().to_owned(),
                shape: opts.sim.load.shape,
                amps: opts.sim.load.amps,
                hz: opts.sim.load.mains_hz,
            });
            (pty.path().display().to_string(), Some(pty))
        }
    };
    if opts.cfg.pf.is_none() {
        sinks.notice(&Notice::ApparentPower);
    }
    // The port before the capture: a port that does not open must not leave a capture that
    // holds only a session record.
    let port = serial::open(&path, opts.baud)?;

    let mut capture = match &opts.record {
        Some(p) => {
            let meta = [
                ("ct-read", env!("CARGO_PKG_VERSION").to_string()),
                ("source", if device.is_some() { format!("virtual device ({path})") } else { path.clone() }),
                ("baud", opts.baud.to_string()),
            ];
            let node = opts.node.as_ref().map(|n| ("node", n.clone()));
            let meta: Vec<(&str, String)> = meta.into_iter().chain(node).collect();
            let (w, cut) = CaptureWriter::open(p, &meta)?;
            if let Some(bytes) = cut {
                sinks.notice(&Notice::TornCaptureTail { path: p.clone(), bytes });
            }
            sinks.notice(&Notice::Recording { path: p.clone() });
            Some(w)
        }
        None => None,
    };
    let mut capture_error: Option<CaptureError> = None;

    let mut meter = ClockedMeter::new(Meter::new(opts.cal.clone(), opts.cfg));
    let mut out = Out { sinks, error: None, lifetime, state_error: None };
    let started = Instant::now();
    let mut silence = serial::Silence::new(started);
    let mut fatal = None;
    serial::read_loop(port, &path, opts.baud, stop, |ev, at| {
        // One receive time, the reading thread's, for the capture and the clock: a replay of
        // the capture then times every reading exactly as it was timed here.
        let now = at.wall;
        if let Some(c) = &mut capture {
            let res = match &ev {
                LinkEvent::Bytes(b) => c.record(Kind::Bytes, now, b),
                LinkEvent::Lost(e) => c.record(Kind::Lost, now, e.to_string().as_bytes()),
                LinkEvent::Back { .. } => c.record(Kind::Back, now, &[]),
                LinkEvent::Idle => Ok(()),
            };
            if let Err(e) = res {
                capture_error.get_or_insert(e);
            }
        }
        let link = match ev {
            LinkEvent::Bytes(bytes) => {
                silence.heard(at.mono);
                Some(Link::Bytes { unix_ns: unix_ns(now), bytes })
            }
            LinkEvent::Lost(e) => {
                out.sinks.notice(&Notice::Lost { port: path.clone(), error: e.to_string() });
                Some(Link::Lost)
            }
            LinkEvent::Back { after } => {
                silence.heard(at.mono);
                out.sinks.notice(&Notice::Back { port: path.clone(), after });
                Some(Link::Back { unix_ns: unix_ns(now) })
            }
            LinkEvent::Idle => {
                if let Some(after) = silence.idle(at.mono) {
                    out.sinks.notice(&Notice::Silent { port: path.clone(), after, baud: opts.baud });
                }
                None
            }
        };
        if let Some(link) = link {
            if let Err(e) = meter.link(link, &mut |e, wall| out.event(e, wall)) {
                fatal = Some(e);
                return false;
            }
        }
        out.error.is_none()
            && out.state_error.is_none()
            && capture_error.is_none()
            && opts.duration.is_none_or(|d| started.elapsed().as_secs_f64() < d)
    })?;
    if let Some(c) = &mut capture {
        c.sync()?;
    }
    if let Some(e) = capture_error {
        return Err(e.into());
    }
    if let Some(e) = fatal {
        return Err(e.into());
    }
    if let Some(e) = out.state_error {
        return Err(e.into());
    }
    meter.finish(&mut |e, wall| out.event(e, wall));
    out.lifetime.save()?;
    out.sinks.notice(&Notice::TotalEnergy { kwh: meter.meter().kwh() });
    if let Some(path) = out.lifetime.path() {
        out.sinks.notice(&Notice::LifetimeEnergy { path: path.to_owned(), kwh: out.lifetime.kwh() });
    }
    let finished = out.sinks.finish(End::Complete);
    if let Some(e) = out.error {
        return Err(e.into());
    }
    Ok(finished?)
}

/// The sinks of a live session and its lifetime total, keeping the first sink error and the
/// first state file error (either ends the session).
struct Out<'a> {
    sinks: &'a mut dyn ReadingSink,
    error: Option<SinkError>,
    lifetime: &'a mut Lifetime,
    state_error: Option<StateError>,
}

impl Out<'_> {
    fn event(&mut self, e: Event, wall: Option<SystemTime>) {
        match e {
            Event::Reading(r) => {
                self.lifetime.add(&r);
                if let Err(e) = self.lifetime.save_if_due(Instant::now()) {
                    self.state_error.get_or_insert(e);
                }
                if let Err(e) = self.sinks.write_with_lifetime(&r, wall, self.lifetime.published_kwh()) {
                    self.error.get_or_insert(e);
                }
            }
            Event::Notice(n) => self.sinks.notice(&n.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::fixtures::{simulation, Collect};
    use crate::estimate::Reading;
    use crate::meter;
    use std::sync::Arc;
    use std::time::Duration;

    fn options(amps: f64) -> LiveOptions {
        LiveOptions {
            port: None,
            simulate: true,
            firmware: None,
            sim: simulation(amps, 8.0),
            baud: 250_000,
            duration: None,
            record: None,
            cal: Calibration::builtin(),
            cfg: EstimatorConfig::default(),
            state: None,
            save_every: crate::lifetime::SAVE_EVERY,
            node: None,
        }
    }

    /// The virtual device read through its pty until the sink has seen four readings and sets
    /// the stop flag: the readings are the load's, timed by the host clock, and the session
    /// ends normally with the total energy.
    /// The readings `ct-read analyze` makes of a capture, with their wall times.
    fn replay(cap: PathBuf) -> Vec<(Reading, Option<SystemTime>)> {
        let mut sink = Collect::default();
        let analyze = crate::cmd::analyze::AnalyzeOptions {
            file: cap,
            rate: None,
            cal: Calibration::builtin(),
            cfg: EstimatorConfig::default(),
        };
        crate::cmd::analyze::run(&analyze, &mut sink).unwrap();
        let readings = sink.got.borrow().readings.clone();
        readings
    }

    #[test]
    fn reads_the_virtual_device_until_stopped() {
        let stop = Arc::new(AtomicBool::new(false));
        let mut sink = Collect::stopping_after(4, stop.clone());
        run(&options(6.0), &mut sink, &stop).unwrap();
        let got = sink.got.borrow();
        let full: Vec<&Reading> = got.readings.iter().map(|(r, _)| r).filter(|r| r.duration_s > 0.9).collect();
        assert!(full.len() >= 3, "{:?}", got.readings);
        for r in &full {
            assert!((r.irms_a / 6.0 - 1.0).abs() < 0.01, "{r:?}");
        }
        assert!(got.readings.iter().all(|(_, wall)| wall.is_some()), "live readings have wall times");
        let now = SystemTime::now();
        let last = got.readings.last().unwrap().1.unwrap();
        assert!(now.duration_since(last).unwrap_or_default() < Duration::from_secs(5), "{last:?} is not now");
        assert!(matches!(got.notices.first(), Some(Notice::VirtualDevice { amps, .. }) if *amps == 6.0));
        assert!(got.notices.contains(&Notice::ApparentPower));
        assert!(got.notices.iter().any(|n| matches!(n, Notice::Meter(meter::Notice::Device(i)) if i.is_virtual())));
        assert!(matches!(got.notices.last(), Some(Notice::TotalEnergy { kwh }) if *kwh > 0.0));
        assert_eq!(got.finished, Some(End::Complete));
    }

    /// `record`: the capture holds the session's bytes, and replaying it gives the readings the
    /// live session gave.
    #[test]
    fn records_a_capture_that_replays_to_the_same_readings() {
        let dir = tempfile::tempdir().unwrap();
        let cap = dir.path().join("live.ctcap");
        let stop = Arc::new(AtomicBool::new(false));
        let mut sink = Collect::stopping_after(3, stop.clone());
        let opts = LiveOptions { record: Some(cap.clone()), ..options(2.5) };
        run(&opts, &mut sink, &stop).unwrap();
        let live: Vec<f64> = sink.got.borrow().readings.iter().map(|(r, _)| r.irms_a).collect();
        assert!(sink.got.borrow().notices.contains(&Notice::Recording { path: cap.clone() }));

        let replayed: Vec<f64> = replay(cap).iter().map(|(r, _)| r.irms_a).collect();
        // The live session may stop before the capture's last chunk is read.
        assert!(replayed.len() >= live.len() - 1 && !live.is_empty(), "{live:?} vs {replayed:?}");
        assert_eq!(replayed[..live.len() - 1], live[..live.len() - 1]);
    }

    /// Issue 9: a reading gets the same wall time live as on replay of its capture (both map
    /// session time through the receive time of the chunk being processed; before, live used
    /// the time of its first reading plus session time, and the two drifted apart).
    #[test]
    fn live_and_replayed_readings_have_the_same_wall_times() {
        let dir = tempfile::tempdir().unwrap();
        let cap = dir.path().join("live.ctcap");
        let stop = Arc::new(AtomicBool::new(false));
        let mut sink = Collect::stopping_after(6, stop.clone());
        // At the virtual device's own pace, as hardware would send.
        let opts = LiveOptions { record: Some(cap.clone()), sim: simulation(3.0, 1.0), ..options(3.0) };
        run(&opts, &mut sink, &stop).unwrap();
        let live: Vec<(f64, Option<SystemTime>)> =
            sink.got.borrow().readings.iter().map(|(r, w)| (r.t_s, *w)).collect();

        let replayed: Vec<(f64, Option<SystemTime>)> = replay(cap).iter().map(|(r, w)| (r.t_s, *w)).collect();
        // The last live reading is the partial window flushed at the stop; the capture may
        // hold a chunk more.
        assert!(live.len() >= 6 && replayed.len() >= live.len() - 1, "{live:?} vs {replayed:?}");
        assert!(live.iter().all(|(_, w)| w.is_some()));
        assert_eq!(replayed[..live.len() - 1], live[..live.len() - 1]);
    }

    /// A port that sends nothing: `--duration` still ends the session on time (the read loop
    /// tells the session at every read time-out), and the sinks are finished.
    #[test]
    fn a_silent_port_ends_at_the_duration() {
        let (_master, slave) = serialport::TTYPort::pair().unwrap();
        let name = serialport::SerialPort::name(&slave).unwrap();
        drop(slave);
        let opts = LiveOptions { port: Some(name), simulate: false, duration: Some(0.5), ..options(1.0) };
        let stop = Arc::new(AtomicBool::new(false));
        let watchdog = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_secs(5));
                stop.store(true, std::sync::atomic::Ordering::Relaxed);
            })
        };
        let mut sink = Collect::default();
        let t = Instant::now();
        run(&opts, &mut sink, &stop).unwrap();
        assert!(t.elapsed() < Duration::from_secs(3), "--duration 0.5 took {:?} on a silent port", t.elapsed());
        assert_eq!(sink.got.borrow().finished, Some(End::Complete));
        drop(watchdog);
    }

    /// `record` on a port that does not exist fails before creating the capture.
    #[test]
    fn a_missing_port_leaves_no_capture() {
        let dir = tempfile::tempdir().unwrap();
        let cap = dir.path().join("r.ctcap");
        let opts = LiveOptions {
            port: Some(dir.path().join("ttyNONE").display().to_string()),
            simulate: false,
            record: Some(cap.clone()),
            ..options(1.0)
        };
        let e = run(&opts, &mut Collect::default(), &AtomicBool::new(false)).unwrap_err();
        assert!(matches!(e, Error::Serial(serial::SerialError::Missing { .. })), "{e}");
        assert!(!cap.exists(), "a stub capture was left");
    }

    /// A sink that fails ends the session with its error.
    #[test]
    fn a_failing_sink_ends_the_session_with_its_error() {
        let stop = AtomicBool::new(false);
        let mut sink = Collect { fail_writes: true, ..Collect::default() };
        let opts = LiveOptions { duration: Some(30.0), ..options(1.0) };
        let t = Instant::now();
        let e = run(&opts, &mut sink, &stop).unwrap_err();
        assert!(e.to_string().contains("collector refused"), "{e}");
        assert!(t.elapsed() < Duration::from_secs(20), "the session went on after the error");
        assert_eq!(sink.got.borrow().finished, Some(End::Complete), "the sinks are still finished");
    }
}
