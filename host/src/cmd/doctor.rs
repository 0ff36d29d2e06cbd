//! `ct-read doctor`: a check a user runs once with the clamp installed, against the real port:
//! each finding a [`Check`] (what was checked, pass/warn/fail, what was found, and a one-line
//! remedy), so that the report, its tests and any later tooling match on kinds, not text.
//!
//! **Why a command of its own.** What goes wrong on a first set-up is rarely the meter's
//! arithmetic: the port cannot be opened (group `dialout`), ModemManager probes it with AT
//! commands, the name `/dev/ttyACM0` moves to `ttyACM1` after a replug, the firmware is an
//! old build, the DCO's calibration constants were erased (the sample rate then misses its
//! nominal by far more than the data sheet's ±3-6 %), the interface's bias moved the
//! no-current code, or the load is larger than the clamp's range. Each shows in the stream or
//! the system if someone looks; the live meter reports some of them as notices in passing,
//! the doctor looks at all of them on purpose and says what to do.
//!
//! **How.** The port checks ([`port_checks`]) read the system (the port's mode and group, the
//! user's groups, `/proc` for ModemManager, udev's database for `ID_MM_DEVICE_IGNORE`,
//! `/dev/serial/by-id`); each decision is a pure function of what was read, tested with given
//! metadata. The stream checks read the device for [`DoctorOptions::duration_s`] through the
//! same code as the live meter ([`ClockedMeter`] on [`serial::read_loop`]) and a second
//! [`Timeline`] for the raw codes; an [`Observer`] collects what the meter and the timeline
//! tell (Info frames, resets, overruns, gaps, the clock estimate, readings, code statistics)
//! and [`Observer::checks`] turns it into checks. The observer is fed [`Link`] events, so the
//! tests can hand it a virtual device's chunks with their receive times without waiting in
//! real time (the clock measurement needs about a minute of host time to settle,
//! [`ct_core::sample_clock`]).

use std::fmt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use super::virtual_device::Simulation;
use super::Error;
use crate::calibration::Calibration;
use crate::capture::unix_ns;
use crate::clock::{ClockedMeter, Link};
use crate::estimate::{EstimatorConfig, Reading};
use crate::meter::{Event, Meter, Notice};
use crate::sample_clock::{ClockEstimate, MIN_SPAN_S};
use crate::serial::{self, LinkEvent};
use crate::timeline::{Step, Timeline, TimelineError};
use ct_wire::{AdcCalStatus, Info, ResetCause};

/// The doctor's default run: the clock estimate settles in about 60-72 s of streaming
/// (`host/tests/device_clock.rs`), plus the first second before the stream starts.
pub const DEFAULT_DURATION_S: f64 = 75.0;

/// The udev rule that gives the port to group `dialout`, keeps ModemManager off it and makes
/// the stable name; the remedies name it.
pub const UDEV_RULE: &str = "packaging/udev/70-ct-read.rules";

/// The expected no-current code's tolerance, codes: the interface's bias resistors (1 %) and
/// diode spread move the level by a few codes (`spice/sensitivity.md`); the estimator tracks
/// such an offset ([`crate::zero`]), but beyond this it is worth knowing why.
pub const ZERO_TOLERANCE_CODES: f64 = 3.0;

/// The ADC noise (RMS, LSB) at rest below which the zero check passes, and above which it
/// fails: the ADC10's own noise is well under 1 LSB; a few LSB means pick-up on the clamp's
/// lead or a noisy supply, and squelches small currents.
pub const NOISE_PASS_LSB: f64 = 1.0;
pub const NOISE_FAIL_LSB: f64 = 2.0;

/// The calibrated DCO's tolerance (MSP430G2553 data sheet, SLAS735, "Calibrated DCO
/// frequencies, tolerance"): ±3 % over temperature or supply alone, ±6 % over both.
pub const DCO_TOLERANCE_PPM: f64 = 30_000.0;
pub const DCO_TOLERANCE_WIDE_PPM: f64 = 60_000.0;

/// Line load (bytes x 10 bits / baud) above which the link has no margin left.
pub const LINK_LOAD_PASS: f64 = 0.95;

/// How far the mains frequency may be from 50 or 60 Hz and still be mains: grids hold ±0.2 Hz
/// in normal operation and ±0.5 Hz at worst short of shedding load.
pub const MAINS_TOLERANCE_HZ: f64 = 0.5;

/// Outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Pass,
    /// Not checked in this run (the finding says why, the remedy how to check it).
    Skipped,
    Warn,
    Fail,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Pass => "pass",
            Status::Skipped => "skip",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
        })
    }
}

/// What a check looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Can this user open the port for reading and writing.
    PortAccess,
    /// Is ModemManager running, and does it leave the port alone.
    ModemManager,
    /// Is the port named through `/dev/serial/by-id`.
    StableName,
    /// Firmware and wire protocol version (the Info frame).
    Firmware,
    /// The device's last reset, and restarts during the run.
    ResetCause,
    /// The sample rate measured against the host's clock, against the nominal.
    SampleClock,
    /// Bytes per second against the line's capacity.
    LinkLoad,
    /// The device's overrun counter.
    Overruns,
    /// Samples lost or bytes corrupted on the line.
    LineErrors,
    /// The no-current code against the table's.
    ZeroLevel,
    /// The ADC noise at rest.
    ZeroNoise,
    /// The ADC reference's factory calibration (TLV).
    ReferenceCalibration,
    /// The mains frequency found in the current.
    MainsFrequency,
    /// Samples at the ADC's full scale.
    Clipping,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::PortAccess => "port access",
            Kind::ModemManager => "ModemManager",
            Kind::StableName => "stable port name",
            Kind::Firmware => "firmware",
            Kind::ResetCause => "reset cause",
            Kind::SampleClock => "sample clock",
            Kind::LinkLoad => "link load",
            Kind::Overruns => "overruns",
            Kind::LineErrors => "line errors",
            Kind::ZeroLevel => "zero-current code",
            Kind::ZeroNoise => "noise at rest",
            Kind::ReferenceCalibration => "reference calibration",
            Kind::MainsFrequency => "mains frequency",
            Kind::Clipping => "clipping",
        }
    }
}

/// One finding: what, how it went, what was seen, and what to do (none when it passed).
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub kind: Kind,
    pub status: Status,
    pub finding: String,
    pub remedy: Option<String>,
}

impl Check {
    fn pass(kind: Kind, finding: String) -> Self {
        Check { kind, status: Status::Pass, finding, remedy: None }
    }

    fn new(kind: Kind, status: Status, finding: String, remedy: &str) -> Self {
        Check { kind, status, finding, remedy: Some(remedy.to_owned()) }
    }
}

/// Every check of a run, port checks first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    pub checks: Vec<Check>,
}

impl Report {
    /// The check of `kind`, if it was made.
    pub fn get(&self, kind: Kind) -> Option<&Check> {
        self.checks.iter().find(|c| c.kind == kind)
    }

    /// The status of the check of `kind` (`None`: not in the report).
    pub fn status(&self, kind: Kind) -> Option<Status> {
        self.get(kind).map(|c| c.status)
    }

    /// Whether any check failed.
    pub fn failed(&self) -> bool {
        self.checks.iter().any(|c| c.status == Status::Fail)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in &self.checks {
            writeln!(f, "{:<4}  {:<21}  {}", c.status, c.kind.name(), c.finding)?;
            if let Some(r) = &c.remedy {
                writeln!(f, "      {:<21}  -> {r}", "")?;
            }
        }
        Ok(())
    }
}

/// What the doctor reads and for how long.
#[derive(Debug, Clone)]
pub struct DoctorOptions {
    /// The serial port; without one, the virtual device (or `firmware` in the emulator).
    pub port: Option<String>,
    /// With the virtual device: run this firmware ELF in the emulator.
    pub firmware: Option<PathBuf>,
    pub sim: Simulation,
    pub baud: u32,
    /// How long to read the device, seconds (the clock needs [`DEFAULT_DURATION_S`]).
    pub duration_s: f64,
    /// The user took the clamp off the cable (or switched the load off): the codes are the
    /// no-current level and the ADC's noise.
    pub no_load: bool,
    pub cal: Calibration,
    pub cfg: EstimatorConfig,
}

/// Where the run is, told about once a second.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    pub elapsed_s: f64,
    pub duration_s: f64,
    /// The clock estimate so far, settled or not.
    pub clock: Option<ClockEstimate>,
    pub readings: usize,
}

/// Runs the port checks, then reads the device for the duration (or until `stop`), and
/// reports. A port that cannot be opened is a failed check, not an error: the report says
/// why and the stream checks are skipped.
pub fn run(opts: &DoctorOptions, stop: &AtomicBool, progress: &mut dyn FnMut(&Progress)) -> Result<Report, Error> {
    let full_scale = opts.cal.full_scale_code();
    let (path, _device) = match &opts.port {
        Some(p) => (p.clone(), None),
        None => {
            let pty = match &opts.firmware {
                Some(elf) => opts.sim.start_firmware(elf, full_scale)?,
                None => opts.sim.start(full_scale, None)?,
            };
            (pty.path().display().to_string(), Some(pty))
        }
    };
    let mut report = Report { checks: port_checks(&path, &System::default()) };
    let port = match serial::open(&path, opts.baud) {
        Ok(p) => p,
        Err(e) => {
            report.checks.push(Check::new(
                Kind::Firmware,
                Status::Fail,
                format!("no stream: {e}"),
                "fix the port checks above, then run the doctor again",
            ));
            return Ok(report);
        }
    };
    let mut obs = Observer::new(opts.cal.clone(), opts.cfg, opts.baud);
    let started = Instant::now();
    let mut told = 0u64;
    serial::read_loop(port, &path, opts.baud, stop, |ev, at| {
        let go = match ev {
            LinkEvent::Bytes(bytes) => obs.link(Link::Bytes { unix_ns: unix_ns(at.wall), bytes }),
            LinkEvent::Lost(_) => obs.link(Link::Lost),
            LinkEvent::Back { .. } => obs.link(Link::Back { unix_ns: unix_ns(at.wall) }),
            LinkEvent::Idle => true,
        };
        let elapsed = started.elapsed().as_secs_f64();
        if elapsed as u64 >= told {
            told = elapsed as u64 + 1;
            progress(&obs.progress(elapsed, opts.duration_s));
        }
        go && elapsed < opts.duration_s
    })?;
    report.checks.extend(obs.checks(opts.duration_s, opts.no_load));
    Ok(report)
}

/// Statistics of the raw codes (the no-current level and its noise, with no load).
#[derive(Debug, Clone, Copy, Default)]
struct CodeStats {
    n: u64,
    sum: f64,
    sum_sq: f64,
    min: u16,
    max: u16,
}

impl CodeStats {
    fn add(&mut self, codes: &[u16]) {
        for &c in codes {
            if self.n == 0 {
                (self.min, self.max) = (c, c);
            }
            self.n += 1;
            let x = f64::from(c);
            self.sum += x;
            self.sum_sq += x * x;
            self.min = self.min.min(c);
            self.max = self.max.max(c);
        }
    }

    fn mean(&self) -> f64 {
        self.sum / self.n as f64
    }

    fn std(&self) -> f64 {
        let m = self.mean();
        (self.sum_sq / self.n as f64 - m * m).max(0.0).sqrt()
    }
}

/// Codes from the first this many seconds of a stream are not used for the zero check: the
/// interface's coupling settles after power-up or after the clamp was moved.
const ZERO_SETTLE_S: f64 = 0.5;

/// What the stream showed, fed link event by link event.
pub struct Observer {
    meter: ClockedMeter,
    /// A second timeline for the raw codes (the meter hands on readings only).
    codes: Timeline,
    cal: Calibration,
    baud: u32,
    first_ns: Option<i64>,
    last_ns: Option<i64>,
    bytes: u64,
    info: Option<Info>,
    resets: Vec<Option<ResetCause>>,
    overrun_samples: u64,
    lost_samples: u64,
    skipped_bytes: u64,
    implausible: Option<ClockEstimate>,
    error: Option<TimelineError>,
    readings: Vec<Reading>,
    stats: CodeStats,
}

impl Observer {
    pub fn new(cal: Calibration, cfg: EstimatorConfig, baud: u32) -> Self {
        Observer {
            meter: ClockedMeter::new(Meter::new(cal.clone(), cfg)),
            codes: Timeline::new(&cal),
            cal,
            baud,
            first_ns: None,
            last_ns: None,
            bytes: 0,
            info: None,
            resets: Vec::new(),
            overrun_samples: 0,
            lost_samples: 0,
            skipped_bytes: 0,
            implausible: None,
            error: None,
            readings: Vec::new(),
            stats: CodeStats::default(),
        }
    }

    /// Handles one link event; `false` once the stream is unusable (the error is reported as
    /// a check).
    pub fn link(&mut self, link: Link<'_>) -> bool {
        if self.error.is_some() {
            return false;
        }
        if let Link::Bytes { unix_ns, bytes } = link {
            self.first_ns.get_or_insert(unix_ns);
            self.last_ns = Some(unix_ns);
            self.bytes += bytes.len() as u64;
            let stats = &mut self.stats;
            // Errors are the meter's to report: both timelines see the same frames.
            let _ = self.codes.bytes(bytes, &mut |step| {
                if let Step::Run(run) = step {
                    if run.t_s >= ZERO_SETTLE_S {
                        stats.add(run.codes);
                    }
                }
                true
            });
        }
        let (readings, info, resets) = (&mut self.readings, &mut self.info, &mut self.resets);
        let (overruns, lost, skipped, implausible) =
            (&mut self.overrun_samples, &mut self.lost_samples, &mut self.skipped_bytes, &mut self.implausible);
        let res = self.meter.link(link, &mut |e, _| match e {
            Event::Reading(r) => readings.push(r),
            Event::Notice(n) => match n {
                Notice::Device(i) => {
                    info.get_or_insert(i);
                }
                Notice::Reset { cause } => resets.push(cause),
                Notice::Overrun { new, .. } => *overruns += u64::from(new),
                Notice::Gap { lost_samples, .. } => *lost += lost_samples,
                Notice::Skipped { bytes, .. } => *skipped += bytes as u64,
                Notice::ClockImplausible { estimate } => *implausible = Some(estimate),
                _ => {}
            },
        });
        match res {
            Ok(()) => true,
            Err(e) => {
                self.error = Some(e);
                false
            }
        }
    }

    /// Host seconds from the first chunk received to the last.
    fn receiving_s(&self) -> f64 {
        match (self.first_ns, self.last_ns) {
            (Some(a), Some(b)) => (b - a) as f64 / 1e9,
            _ => 0.0,
        }
    }

    fn progress(&self, elapsed_s: f64, duration_s: f64) -> Progress {
        Progress {
            elapsed_s,
            duration_s,
            clock: self.meter.meter().timeline().clock_estimate(),
            readings: self.readings.len(),
        }
    }

    /// The stream checks, for a run meant to last `duration_s`, with or without load.
    pub fn checks(mut self, duration_s: f64, no_load: bool) -> Vec<Check> {
        if self.error.is_none() {
            let readings = &mut self.readings;
            self.meter.finish(&mut |e, _| {
                if let Event::Reading(r) = e {
                    readings.push(r)
                }
            });
        }
        let mut out = vec![self.firmware()];
        let Some(info) = self.info.filter(|_| self.error.is_none()) else {
            let why = "not checked: no usable stream";
            for kind in [
                Kind::ResetCause,
                Kind::SampleClock,
                Kind::LinkLoad,
                Kind::Overruns,
                Kind::LineErrors,
                Kind::ZeroLevel,
                Kind::ZeroNoise,
                Kind::ReferenceCalibration,
                Kind::MainsFrequency,
                Kind::Clipping,
            ] {
                out.push(Check::new(kind, Status::Skipped, why.into(), "fix the firmware check first"));
            }
            return out;
        };
        out.push(reset_cause(info.reset_cause, &self.resets));
        let timeline = self.meter.meter().timeline();
        out.push(sample_clock(
            timeline.clock_estimate(),
            self.implausible,
            info.sample_rate_hz(),
            self.receiving_s(),
            duration_s,
        ));
        out.push(link_load(self.bytes, self.receiving_s(), self.baud));
        out.push(overruns(self.overrun_samples));
        let (dup, _) = timeline.duplicates();
        let (late, _) = timeline.late();
        let total = timeline.t_end().map_or(0, |t| (t * info.sample_rate_hz()) as u64);
        out.push(line_errors(
            self.lost_samples.saturating_sub(self.overrun_samples),
            total,
            self.skipped_bytes,
            dup + late,
        ));
        out.extend(zero(&self.stats, &self.readings, self.cal.zero_code(), no_load));
        out.push(reference_calibration(self.meter.meter()));
        out.push(mains_frequency(&self.readings, no_load));
        out.push(clipping(&self.readings));
        out
    }

    fn firmware(&self) -> Check {
        if let Some(TimelineError::Protocol { got, min, max }) = &self.error {
            return Check::new(
                Kind::Firmware,
                Status::Fail,
                format!("the device speaks wire protocol {got}; this ct-read speaks {min} to {max}"),
                "flash the firmware of this ct-read's version (firmware/: cargo run --release)",
            );
        }
        if let Some(e) = &self.error {
            return Check::new(
                Kind::Firmware,
                Status::Fail,
                format!("the stream is unusable: {e}"),
                "flash the firmware of this ct-read's version, or give the calibration table made for this device",
            );
        }
        match self.info {
            Some(i) => Check::pass(
                Kind::Firmware,
                format!(
                    "firmware {}.{}.{}, wire protocol {}, {:?} profile at {} baud{}",
                    i.firmware_version[0],
                    i.firmware_version[1],
                    i.firmware_version[2],
                    i.protocol_version,
                    i.build_profile,
                    i.baud,
                    if i.is_virtual() { " (virtual device)" } else { "" }
                ),
            ),
            None => Check::new(
                Kind::Firmware,
                Status::Fail,
                format!("no Info frame in {:.0} s ({} bytes received)", self.receiving_s(), self.bytes),
                "flash the firmware (firmware/: cargo run --release) and use its baud rate (LaunchPad: 9600)",
            ),
        }
    }
}

/// The reset cause of the Info frame, and restarts seen during the run.
pub fn reset_cause(cause: ResetCause, restarts: &[Option<ResetCause>]) -> Check {
    let k = Kind::ResetCause;
    let watchdog = |c: &Option<ResetCause>| matches!(c, Some(ResetCause::Watchdog | ResetCause::KeyViolation));
    if !restarts.is_empty() {
        return Check::new(
            k,
            if restarts.iter().any(watchdog) { Status::Fail } else { Status::Warn },
            format!("the device restarted {} time(s) during the run: {restarts:?}", restarts.len()),
            "check the USB cable and supply; a watchdog reset is a firmware bug: report it with a capture",
        );
    }
    match cause {
        ResetCause::PowerOn | ResetCause::ResetPin => Check::pass(k, format!("last reset: {cause:?}")),
        ResetCause::Watchdog => Check::new(
            k,
            Status::Fail,
            "last reset: the watchdog (the firmware's main loop stalled)".into(),
            "a firmware bug: report it with a capture (`ct-read record`), then power-cycle the board",
        ),
        ResetCause::KeyViolation => Check::new(
            k,
            Status::Fail,
            "last reset: a flash key violation (the firmware wrote a flash register wrongly)".into(),
            "a firmware bug: report it, then reflash (firmware/: cargo run --release)",
        ),
        ResetCause::Other(b) => Check::new(
            k,
            Status::Warn,
            format!("last reset: cause {b}, unknown to this ct-read"),
            "update ct-read to the firmware's version",
        ),
    }
}

/// The device's sample clock against the host's: settled, and within the DCO's tolerance.
pub fn sample_clock(
    estimate: Option<ClockEstimate>,
    implausible: Option<ClockEstimate>,
    nominal_hz: f64,
    receiving_s: f64,
    duration_s: f64,
) -> Check {
    let k = Kind::SampleClock;
    if let Some(e) = implausible {
        return Check::new(
            k,
            Status::Fail,
            format!("receive times put the clock {:+.0} ppm from nominal, beyond any DCO", e.ppm),
            "not a real board's clock: a sped-up virtual device, or bytes buffered and released in bulk",
        );
    }
    let run_longer = format!("run the doctor for at least {DEFAULT_DURATION_S:.0} s (--duration)");
    let Some(e) = estimate.filter(ClockEstimate::settled) else {
        let short = if duration_s < DEFAULT_DURATION_S { ", the run was too short" } else { "" };
        return Check::new(
            k,
            Status::Warn,
            format!(
                "not settled after {receiving_s:.0} s of stream{short} (needs {MIN_SPAN_S:.0} s and a bound within \
                 {:.0} ppm){}",
                crate::sample_clock::SETTLED_PPM,
                estimate.map_or(String::new(), |e| format!("; so far {:+.0} ± {:.0} ppm", e.ppm, e.bound_ppm))
            ),
            &run_longer,
        );
    };
    let finding = format!(
        "{:.2} samples/s measured, {nominal_hz:.2} nominal: {:+.0} ppm (± {:.0} ppm over {:.0} s)",
        nominal_hz * e.ratio(),
        e.ppm,
        e.bound_ppm,
        e.span_s
    );
    if e.ppm.abs() <= DCO_TOLERANCE_PPM {
        Check::pass(k, finding)
    } else if e.ppm.abs() <= DCO_TOLERANCE_WIDE_PPM {
        Check::new(
            k,
            Status::Warn,
            finding,
            "within the DCO's ±6 % only over temperature and supply: readings use the measured rate; check the supply",
        )
    } else {
        Check::new(
            k,
            Status::Fail,
            finding,
            "outside the DCO's ±6 %: check the board's supply (VCC) and report it with a capture (`ct-read record`)",
        )
    }
}

/// Bytes received per second against the line's capacity (10 bits a byte, 8N1).
pub fn link_load(bytes: u64, receiving_s: f64, baud: u32) -> Check {
    let k = Kind::LinkLoad;
    if receiving_s < 2.0 {
        return Check::new(k, Status::Skipped, format!("{receiving_s:.1} s of stream: too short"), "run longer");
    }
    let load = bytes as f64 * 10.0 / (f64::from(baud) * receiving_s);
    let finding =
        format!("{:.0} bytes/s at {baud} baud: {:.0} % of the line", bytes as f64 / receiving_s, 100.0 * load);
    if load <= LINK_LOAD_PASS {
        Check::pass(k, finding)
    } else if load <= 1.0 {
        Check::new(
            k,
            Status::Warn,
            finding,
            "no margin left: a fast clock will overrun the UART; use the fast profile's link",
        )
    } else {
        Check::new(
            k,
            Status::Fail,
            finding,
            "more than the line can carry: the baud rate given is not the device's, or the device is a sped-up simulation",
        )
    }
}

/// The device's overrun counter (samples its queue dropped).
pub fn overruns(samples: u64) -> Check {
    if samples == 0 {
        Check::pass(Kind::Overruns, "the device dropped no samples".into())
    } else {
        Check::new(
            Kind::Overruns,
            Status::Fail,
            format!("the device dropped {samples} samples: its UART could not keep up"),
            "use the build profile made for the link (launchpad at 9600 baud, fast on an external USB-UART)",
        )
    }
}

/// Samples lost on the line (gaps not explained by overruns), bytes skipped as corrupt, and
/// frames dropped as duplicates or late.
pub fn line_errors(lost: u64, total: u64, skipped_bytes: u64, dropped_frames: u64) -> Check {
    let k = Kind::LineErrors;
    let finding = format!(
        "{lost} of {total} samples lost, {skipped_bytes} bytes skipped as corrupt, {dropped_frames} frames repeated"
    );
    if lost == 0 && skipped_bytes == 0 && dropped_frames == 0 {
        return Check::pass(k, finding);
    }
    let remedy = "a bad cable or hub, or another program reading the port: use a short cable, close other programs";
    let status = if (lost as f64) < 1e-4 * total as f64 { Status::Warn } else { Status::Fail };
    Check::new(k, status, finding, remedy)
}

/// The no-current level and noise: from the raw codes with no load, else from the readings'
/// zero tracking where the load rested.
fn zero(stats: &CodeStats, readings: &[Reading], table_zero: u16, no_load: bool) -> [Check; 2] {
    let want = f64::from(table_zero);
    if !no_load {
        let how = "run `ct-read doctor --no-load` with the clamp off the cable (or the load off)";
        let noise = Check::new(Kind::ZeroNoise, Status::Skipped, "measured only with --no-load".into(), how);
        let level = match readings.iter().rev().find_map(|r| r.zero_offset_codes) {
            Some(offset) => zero_level(want + offset, want, "where the load rested"),
            None => Check::new(Kind::ZeroLevel, Status::Skipped, "the load never rested in this run".into(), how),
        };
        return [level, noise];
    }
    if stats.n == 0 {
        let why = "no samples".to_owned();
        return [
            Check::new(Kind::ZeroLevel, Status::Skipped, why.clone(), "run longer"),
            Check::new(Kind::ZeroNoise, Status::Skipped, why, "run longer"),
        ];
    }
    // A current swings the codes over many codes, down to the diode-off floor.
    if stats.min < crate::zero::REST_FLOOR || f64::from(stats.max - stats.min) > 2.0 * f64::from(crate::zero::MAX_SHIFT)
    {
        let finding = format!("with --no-load the codes still span {}..{}: a current flows", stats.min, stats.max);
        let remedy = "take the clamp off the cable or switch the load off, then run again";
        return [
            Check::new(Kind::ZeroLevel, Status::Fail, finding.clone(), remedy),
            Check::new(Kind::ZeroNoise, Status::Skipped, finding, remedy),
        ];
    }
    let level = zero_level(stats.mean(), want, "with no load");
    let std = stats.std();
    let finding = format!("{std:.2} LSB RMS (codes {}..{})", stats.min, stats.max);
    let remedy =
        "pick-up on the clamp's lead or a noisy supply: route the lead away from mains wiring, try another USB port";
    let noise = if std <= NOISE_PASS_LSB {
        Check::pass(Kind::ZeroNoise, finding)
    } else {
        let status = if std <= NOISE_FAIL_LSB { Status::Warn } else { Status::Fail };
        Check::new(Kind::ZeroNoise, status, finding, remedy)
    };
    [level, noise]
}

/// The no-current level `level` against the table's `want`.
fn zero_level(level: f64, want: f64, how: &str) -> Check {
    let d = level - want;
    let finding = format!("code {level:.1} {how}, expected {want:.0} ± {ZERO_TOLERANCE_CODES:.0}: {d:+.1} codes");
    if d.abs() <= ZERO_TOLERANCE_CODES {
        Check::pass(Kind::ZeroLevel, finding)
    } else if d.abs() <= f64::from(crate::zero::MAX_SHIFT) {
        Check::new(
            Kind::ZeroLevel,
            Status::Warn,
            finding,
            "the interface's bias moved (readings are corrected when the load rests): check its supply and diode",
        )
    } else {
        Check::new(
            Kind::ZeroLevel,
            Status::Fail,
            finding,
            "not the table's circuit: check the interface's bias network and that the clamp's plug is in",
        )
    }
}

/// The ADC's reference calibration: the factory's TLV words the firmware sends after each Info
/// frame (protocol 2), applied by the timeline to every code when they are plausible
/// ([`ct_wire::AdcCal::correction`]). Without them a reference a few percent off reads a few
/// percent off.
pub fn reference_calibration(meter: &Meter) -> Check {
    let k = Kind::ReferenceCalibration;
    let timeline = meter.timeline();
    match (timeline.adc_cal(), timeline.adc_correction()) {
        (Some(cal), Some(c)) => Check::new(
            k,
            Status::Pass,
            format!(
                "factory calibration applied: 2.5 V reference x{:.4}, gain x{:.4}, offset {:+} LSB (codes x{:.4})",
                cal.vref25_ratio(),
                cal.gain_ratio(),
                cal.offset,
                c.scale
            ),
            "",
        ),
        (Some(cal), None) => {
            let why = match cal.status {
                AdcCalStatus::Valid => "holds implausible factors (over 10 % from 1, or an offset over 64 LSB)",
                AdcCalStatus::Erased => "is erased",
                AdcCalStatus::BadChecksum => "fails its checksum",
                AdcCalStatus::NoAdcTag => "has no ADC10 calibration",
                AdcCalStatus::Other(_) => "has a status this ct-read does not know",
            };
            Check::new(
                k,
                Status::Fail,
                format!(
                    "the chip's TLV segment {why}: not applied, readings assume the nominal 2.5 V reference (a few % off)"
                ),
                "calibrate against a meter you trust (ct-read calibrate --point ...), or use a chip whose segment A is intact",
            )
        }
        (None, _) => Check::new(
            k,
            Status::Warn,
            "this firmware does not report its reference calibration: readings assume the nominal 2.5 V reference"
                .into(),
            "flash the firmware of this ct-read's version, which sends its TLV calibration (firmware/: cargo run --release)",
        ),
    }
}

/// The mains frequency found in the readings (their median).
pub fn mains_frequency(readings: &[Reading], no_load: bool) -> Check {
    let k = Kind::MainsFrequency;
    // Readings at the measured sample rate where there are any: before the clock settles a
    // device a few percent off reads the mains as far off.
    let measured = readings.iter().any(|r| r.hz.is_some() && r.clock_ppm.is_some());
    let mut hz: Vec<f64> = readings
        .iter()
        .filter(|r| !r.flags.short && (r.clock_ppm.is_some() || !measured))
        .filter_map(|r| r.hz)
        .collect();
    if hz.is_empty() {
        let why = if no_load { "no current with --no-load" } else { "no current large enough to tell" };
        return Check::new(
            k,
            Status::Skipped,
            why.into(),
            "run without --no-load with a load of 1 A or more switched on",
        );
    }
    hz.sort_by(f64::total_cmp);
    let median = hz[hz.len() / 2];
    let clock = if measured { "measured clock" } else { "nominal clock" };
    let finding = format!("{median:.2} Hz (median of {} readings, {clock})", hz.len());
    let nearest = if (median - 50.0).abs() < (median - 60.0).abs() { 50.0 } else { 60.0 };
    if (median - nearest).abs() <= MAINS_TOLERANCE_HZ {
        Check::pass(k, finding)
    } else if !measured && (median / nearest - 1.0).abs() * 1e6 <= DCO_TOLERANCE_WIDE_PPM {
        Check::new(k, Status::Warn, finding, "the clock was not measured yet: run for at least 75 s")
    } else {
        Check::new(
            k,
            Status::Fail,
            finding,
            "not 50 or 60 Hz: the device's clock is far off (see the sample clock) or the signal is not mains",
        )
    }
}

/// Readings with samples at the ADC's full scale.
pub fn clipping(readings: &[Reading]) -> Check {
    let n = readings.iter().filter(|r| r.flags.over_range).count();
    let finding = format!("{n} of {} readings reached the ADC's full scale", readings.len());
    if n == 0 {
        Check::pass(Kind::Clipping, finding)
    } else {
        Check::new(
            Kind::Clipping,
            Status::Fail,
            finding,
            "the current exceeds the meter's range: those readings are lower bounds; meter a smaller circuit",
        )
    }
}

/// Where the port checks look (the real system's paths by default; tests give their own).
#[derive(Debug, Clone)]
pub struct System {
    pub by_id: PathBuf,
    pub proc: PathBuf,
    pub udev_data: PathBuf,
    pub group_file: PathBuf,
}

impl Default for System {
    fn default() -> Self {
        System {
            by_id: "/dev/serial/by-id".into(),
            proc: "/proc".into(),
            udev_data: "/run/udev/data".into(),
            group_file: "/etc/group".into(),
        }
    }
}

/// The port's mode and owners, as `stat` gives them.
#[derive(Debug, Clone, PartialEq)]
pub struct PortMeta {
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// The group's name (`dialout`), where `/etc/group` has it.
    pub group: Option<String>,
}

/// Who runs the doctor.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub euid: u32,
    pub egid: u32,
    pub groups: Vec<u32>,
}

impl User {
    /// The running process's effective ids and supplementary groups (`/proc/self/status`).
    pub fn current(proc: &Path) -> Option<User> {
        let status = std::fs::read_to_string(proc.join("self/status")).ok()?;
        let field = |name: &str| status.lines().find_map(|l| l.strip_prefix(name)).map(str::split_whitespace);
        let nth = |name: &str, n: usize| field(name)?.nth(n)?.parse().ok();
        Some(User {
            euid: nth("Uid:", 1)?,
            egid: nth("Gid:", 1)?,
            groups: field("Groups:")?.filter_map(|g| g.parse().ok()).collect(),
        })
    }
}

/// The port checks for `path`: access, ModemManager, stable name.
pub fn port_checks(path: &str, sys: &System) -> Vec<Check> {
    let meta = std::fs::metadata(path);
    let access = match (&meta, User::current(&sys.proc)) {
        (Err(e), _) => Check::new(
            Kind::PortAccess,
            Status::Fail,
            format!("{path}: {e}"),
            "plug the LaunchPad in and use the name `ls /dev/serial/by-id` shows",
        ),
        (Ok(_), None) => Check::new(
            Kind::PortAccess,
            Status::Skipped,
            "could not read the user's groups".into(),
            "check `ls -l` on the port against `id`",
        ),
        (Ok(m), Some(user)) => {
            let meta =
                PortMeta { mode: m.mode(), uid: m.uid(), gid: m.gid(), group: group_name(&sys.group_file, m.gid()) };
            access(path, &meta, &user)
        }
    };
    let device = meta.as_ref().ok().filter(|m| m.file_type().is_char_device()).map(|m| m.rdev());
    let ignored = device.and_then(|rdev| mm_ignored(&sys.udev_data, rdev));
    vec![access, modem_manager(modem_manager_running(&sys.proc), ignored), stable_name(path, &sys.by_id)]
}

/// The name of group `gid` in a group file.
fn group_name(group_file: &Path, gid: u32) -> Option<String> {
    let text = std::fs::read_to_string(group_file).ok()?;
    text.lines().find_map(|l| {
        let mut f = l.split(':');
        let name = f.next()?;
        (f.nth(1)?.parse::<u32>().ok()? == gid).then(|| name.to_owned())
    })
}

/// Whether `user` may read and write a file of `meta` (the kernel's rule for permission
/// bits: owner, else group, else others; root may always).
pub fn access(path: &str, meta: &PortMeta, user: &User) -> Check {
    let bits = if user.euid == 0 {
        0o6
    } else if user.euid == meta.uid {
        meta.mode >> 6
    } else if user.egid == meta.gid || user.groups.contains(&meta.gid) {
        meta.mode >> 3
    } else {
        meta.mode
    } & 0o6;
    let group = meta.group.clone().unwrap_or_else(|| meta.gid.to_string());
    let finding = format!("{path}: mode {:03o}, group {group}", meta.mode & 0o777);
    if bits == 0o6 {
        return Check::pass(Kind::PortAccess, format!("{finding}: readable and writable"));
    }
    let in_group = user.groups.contains(&meta.gid) || user.egid == meta.gid;
    let remedy = if meta.mode & 0o060 == 0o060 && !in_group {
        format!("sudo usermod -aG {group} $USER, then log in again")
    } else {
        format!("install {UDEV_RULE} (group dialout, mode 0660), then replug")
    };
    Check {
        kind: Kind::PortAccess,
        status: Status::Fail,
        finding: format!("{finding}: not read/write for you"),
        remedy: Some(remedy),
    }
}

/// Whether a process named ModemManager runs (a scan of `proc`'s process directories).
pub fn modem_manager_running(proc: &Path) -> bool {
    let Ok(dir) = std::fs::read_dir(proc) else { return false };
    dir.flatten()
        .filter(|e| e.file_name().to_string_lossy().bytes().all(|b| b.is_ascii_digit()))
        .any(|e| std::fs::read_to_string(e.path().join("comm")).is_ok_and(|c| c.trim_end() == "ModemManager"))
}

/// Whether udev marked the character device `rdev` with `ID_MM_DEVICE_IGNORE=1` (its database
/// entry `c<major>:<minor>`); `None` where udev has no entry (a pty, or no udev).
pub fn mm_ignored(udev_data: &Path, rdev: u64) -> Option<bool> {
    let major = ((rdev >> 8) & 0xfff) | ((rdev >> 32) & !0xfff);
    let minor = (rdev & 0xff) | ((rdev >> 12) & !0xff);
    let entry = std::fs::read_to_string(udev_data.join(format!("c{major}:{minor}"))).ok()?;
    Some(entry.lines().any(|l| l == "E:ID_MM_DEVICE_IGNORE=1"))
}

/// ModemManager probes serial ports it does not know to be something else with AT commands,
/// garbling the stream after every plug-in.
pub fn modem_manager(running: bool, ignored: Option<bool>) -> Check {
    let k = Kind::ModemManager;
    match (running, ignored) {
        (false, _) => Check::pass(k, "ModemManager is not running".into()),
        (true, Some(true)) => Check::pass(k, "ModemManager runs but ignores this port (ID_MM_DEVICE_IGNORE)".into()),
        (true, _) => Check::new(
            k,
            Status::Warn,
            "ModemManager runs and may probe this port with AT commands".into(),
            &format!("install {UDEV_RULE} (sets ID_MM_DEVICE_IGNORE), or: sudo systemctl disable --now ModemManager"),
        ),
    }
}

/// Whether `path` is, or its target has, a name in `by_id` (`/dev/serial/by-id`), which
/// survives replugging where `/dev/ttyACM0` may come back as `ttyACM1`.
pub fn stable_name(path: &str, by_id: &Path) -> Check {
    let k = Kind::StableName;
    if Path::new(path).parent() == Some(by_id) {
        return Check::pass(k, format!("{path} is a stable name"));
    }
    let target = std::fs::canonicalize(path).ok();
    let alias = std::fs::read_dir(by_id).ok().and_then(|d| {
        d.flatten().map(|e| e.path()).find(|p| target.is_some() && std::fs::canonicalize(p).ok() == target)
    });
    match alias {
        Some(a) => Check::new(
            k,
            Status::Warn,
            format!("{path} may change name on a replug; {} is the same port", a.display()),
            &format!("use {}", a.display()),
        ),
        None => Check::new(
            k,
            Status::Warn,
            format!("{path} has no name in {}", by_id.display()),
            &format!("install {UDEV_RULE} (makes /dev/serial/by-id/ct-meter-SERIAL), then replug"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::fixtures::simulation;
    use crate::cmd::virtual_device::SimProfile;
    use crate::sim::{DeviceProfile, Faults, Load, PtyDevice, Shape, VirtualDevice};

    /// Unix ns of the first read.
    const T0_NS: i64 = 1_790_000_000_000_000_000;

    fn load(amps: f64, mains_hz: f64) -> Load {
        Load { amps, mains_hz, shape: Shape::Sine, step: None }
    }

    /// A LaunchPad-profile device (603.5 Sa/s: cheap to read for a minute) on `load`.
    fn device(load: Load) -> VirtualDevice {
        VirtualDevice::clean(DeviceProfile::LAUNCHPAD, load, 1)
    }

    /// The stream checks of `seconds` of `dev` as a host reads it through a USB bridge (bursty
    /// receive times, `VirtualDevice::usb_chunks`), without waiting in real time.
    fn observe(mut dev: VirtualDevice, seconds: f64, no_load: bool) -> Report {
        let baud = dev.profile().baud;
        let mut obs = Observer::new(Calibration::builtin(), EstimatorConfig::default(), baud);
        for (ns, bytes) in dev.usb_chunks(seconds, T0_NS, 7) {
            if !obs.link(Link::Bytes { unix_ns: ns, bytes: &bytes }) {
                break;
            }
        }
        Report { checks: obs.checks(seconds, no_load) }
    }

    fn statuses(r: &Report, kinds: &[Kind]) -> Vec<(Kind, Option<Status>)> {
        kinds.iter().map(|&k| (k, r.status(k))).collect()
    }

    /// A clean device read for 80 s: every stream check passes, but the zero checks (the load
    /// never rests; they need --no-load); the reference calibration is the device's, applied.
    #[test]
    fn a_clean_device_passes() {
        let r = observe(device(load(5.0, 50.0)), 80.0, false);
        let pass = [
            Kind::Firmware,
            Kind::ResetCause,
            Kind::SampleClock,
            Kind::LinkLoad,
            Kind::Overruns,
            Kind::LineErrors,
            Kind::MainsFrequency,
            Kind::Clipping,
        ];
        assert_eq!(statuses(&r, &pass), pass.map(|k| (k, Some(Status::Pass))), "{r}");
        assert_eq!(r.status(Kind::ZeroLevel), Some(Status::Skipped), "{r}");
        assert_eq!(r.status(Kind::ZeroNoise), Some(Status::Skipped), "{r}");
        assert_eq!(r.status(Kind::ReferenceCalibration), Some(Status::Pass), "{r}");
        assert!(!r.failed());
        // The LaunchPad profile's designed load: 86 % of 9600 baud.
        assert!(r.get(Kind::LinkLoad).unwrap().finding.contains("86 %"), "{r}");
    }

    /// A DCO 8 % fast is outside the data sheet's ±6 %: a failure; 4.5 % is a warning. The
    /// mains frequency, read at the measured rate, is still 50 Hz.
    #[test]
    fn a_clock_far_off_fails_and_a_clock_somewhat_off_warns() {
        for (error, want) in [(0.08, Status::Fail), (-0.045, Status::Warn), (0.02, Status::Pass)] {
            let r = observe(device(load(5.0, 50.0)).with_clock_error(error), 80.0, false);
            assert_eq!(r.status(Kind::SampleClock), Some(want), "{error}: {r}");
            assert_eq!(r.status(Kind::MainsFrequency), Some(Status::Pass), "{error}: {r}");
        }
    }

    /// A run shorter than the clock needs: not settled, a warning telling to run longer; a
    /// device sending twice as fast as its Info frame says (a sped-up simulation): a failure,
    /// and more bytes than the line carries.
    #[test]
    fn a_short_run_is_not_settled_and_a_sped_up_device_fails() {
        let r = observe(device(load(5.0, 50.0)), 20.0, false);
        assert_eq!(r.status(Kind::SampleClock), Some(Status::Warn), "{r}");
        assert!(r.get(Kind::SampleClock).unwrap().finding.contains("too short"), "{r}");
        let r = observe(device(load(5.0, 50.0)).with_clock_error(1.0), 80.0, false);
        assert_eq!(r.status(Kind::SampleClock), Some(Status::Fail), "{r}");
        assert_eq!(r.status(Kind::LinkLoad), Some(Status::Fail), "{r}");
    }

    /// With no load, the no-current code and the noise: the clean device passes both; a bias
    /// of 0.85 V (12 codes up) warns, 1.0 V (beyond the offset the estimator follows) fails;
    /// 3 LSB of noise fails; a current still flowing fails.
    #[test]
    fn the_zero_checks_fail_on_a_moved_bias_on_noise_and_on_a_current() {
        let zero = [Kind::ZeroLevel, Kind::ZeroNoise];
        let r = observe(device(load(0.0, 50.0)), 10.0, true);
        assert_eq!(statuses(&r, &zero), zero.map(|k| (k, Some(Status::Pass))), "{r}");
        let r = observe(device(load(0.0, 50.0)).with_bias(0.85).unwrap(), 10.0, true);
        assert_eq!(r.status(Kind::ZeroLevel), Some(Status::Warn), "{r}");
        let r = observe(device(load(0.0, 50.0)).with_bias(1.0).unwrap(), 10.0, true);
        assert_eq!(r.status(Kind::ZeroLevel), Some(Status::Fail), "{r}");
        let noisy = VirtualDevice::new(DeviceProfile::LAUNCHPAD, load(0.0, 50.0), 1023, 3.0, Faults::default(), 1);
        let r = observe(noisy, 10.0, true);
        assert_eq!(r.status(Kind::ZeroLevel), Some(Status::Pass), "{r}");
        assert_eq!(r.status(Kind::ZeroNoise), Some(Status::Fail), "{r}");
        let r = observe(device(load(5.0, 50.0)), 10.0, true);
        assert_eq!(r.status(Kind::ZeroLevel), Some(Status::Fail), "{r}");
        assert!(r.get(Kind::ZeroLevel).unwrap().finding.contains("a current flows"), "{r}");
    }

    /// Mains at 45 Hz is no grid's; a current beyond the ADC's range clips.
    #[test]
    fn odd_mains_and_clipping_fail() {
        let r = observe(device(load(5.0, 45.0)), 10.0, false);
        assert_eq!(r.status(Kind::MainsFrequency), Some(Status::Fail), "{r}");
        let r = observe(device(load(200.0, 50.0)), 10.0, false);
        assert_eq!(r.status(Kind::Clipping), Some(Status::Fail), "{r}");
    }

    /// A device that overruns, a line that drops bytes, an old protocol, a watchdog reset.
    #[test]
    fn overruns_line_errors_protocol_and_reset_cause_fail() {
        let r = observe(device(load(5.0, 50.0)).with_overruns(20), 10.0, false);
        assert_eq!(r.status(Kind::Overruns), Some(Status::Fail), "{r}");
        let faults = Faults { byte_drop: 0.3, ..Faults::default() };
        let lossy = VirtualDevice::new(DeviceProfile::LAUNCHPAD, load(5.0, 50.0), 1023, 0.3, faults, 1);
        let r = observe(lossy, 10.0, false);
        assert_eq!(r.status(Kind::LineErrors), Some(Status::Fail), "{r}");
        assert_eq!(r.status(Kind::Overruns), Some(Status::Pass), "{r}");
        let r = observe(device(load(5.0, 50.0)).with_protocol_version(ct_wire::PROTOCOL_VERSION + 1), 10.0, false);
        assert_eq!(r.status(Kind::Firmware), Some(Status::Fail), "{r}");
        assert!(r.checks.iter().filter(|c| c.kind != Kind::Firmware).all(|c| c.status == Status::Skipped), "{r}");
        let r = observe(device(load(5.0, 50.0)).with_reset_cause(ResetCause::Watchdog), 10.0, false);
        assert_eq!(r.status(Kind::ResetCause), Some(Status::Fail), "{r}");
        assert_eq!(r.status(Kind::Firmware), Some(Status::Pass), "{r}");
    }

    /// The reference calibration: applied and shown (a reference 2 % high), refused when the
    /// chip's TLV segment failed its checksum, and missing from a protocol 1 firmware.
    #[test]
    fn the_reference_calibration_is_applied_refused_or_missing() {
        let r = observe(device(load(5.0, 50.0)).with_reference_error(0.02), 10.0, false);
        let c = r.get(Kind::ReferenceCalibration).unwrap();
        assert_eq!(c.status, Status::Pass, "{r}");
        assert!(c.finding.contains("reference x1.0200"), "{r}");
        let r = observe(device(load(5.0, 50.0)).with_adc_cal_status(ct_wire::AdcCalStatus::BadChecksum), 10.0, false);
        assert_eq!(r.status(Kind::ReferenceCalibration), Some(Status::Fail), "{r}");
        let r = observe(device(load(5.0, 50.0)).with_protocol_version(1), 10.0, false);
        assert_eq!(r.status(Kind::ReferenceCalibration), Some(Status::Warn), "{r}");
        assert_eq!(r.status(Kind::Firmware), Some(Status::Pass), "{r}");
    }

    fn options(port: Option<String>, duration_s: f64) -> DoctorOptions {
        DoctorOptions {
            port,
            firmware: None,
            sim: simulation(5.0, 1.0),
            baud: 250_000,
            duration_s,
            no_load: false,
            cal: Calibration::builtin(),
            cfg: EstimatorConfig::default(),
        }
    }

    /// The whole command on a real pty, a virtual device behind it reporting a watchdog reset,
    /// at its true pace: the port checks run on the pty (readable and writable; no stable
    /// name; ModemManager as this machine has it), the device's fault fails its check, the
    /// clock is not settled in 4 s, and progress is told every second.
    #[test]
    fn the_command_reads_a_pty_and_reports_the_devices_fault() {
        let dev = simulation(5.0, 1.0)
            .device(Calibration::builtin().full_scale_code())
            .with_reset_cause(ResetCause::Watchdog);
        let pty = PtyDevice::start(dev, 1.0, None).unwrap();
        let path = pty.path().display().to_string();
        let mut ticks = Vec::new();
        let r = run(&options(Some(path), 4.0), &AtomicBool::new(false), &mut |p| ticks.push(p.elapsed_s)).unwrap();
        assert_eq!(r.status(Kind::PortAccess), Some(Status::Pass), "{r}");
        assert_eq!(r.status(Kind::StableName), Some(Status::Warn), "{r}");
        let mm = modem_manager(modem_manager_running(Path::new("/proc")), None);
        assert_eq!(r.get(Kind::ModemManager), Some(&mm), "{r}");
        assert_eq!(r.status(Kind::Firmware), Some(Status::Pass), "{r}");
        assert_eq!(r.status(Kind::ResetCause), Some(Status::Fail), "{r}");
        assert_eq!(r.status(Kind::SampleClock), Some(Status::Warn), "{r}");
        assert_eq!(r.status(Kind::Clipping), Some(Status::Pass), "{r}");
        assert!(ticks.len() >= 3, "progress {ticks:?}");
    }

    /// The real firmware in the emulator behind a pty, no load and 3 LSB of ADC noise, read
    /// with --no-load: the firmware is reported (not virtual), and the noise fails its check.
    #[test]
    fn the_emulated_firmware_with_a_noisy_adc_fails_the_noise_check() {
        let elf = ct_emu::fil::ci_elf_path(&ct_emu::fil::FAST);
        assert!(elf.exists(), "{} is missing: build the firmware (bash .ci/firmware.sh)", elf.display());
        let sim = Simulation { noise_lsb: 3.0, profile: SimProfile::Fast, ..simulation(0.0, 1.0) };
        let opts = DoctorOptions { firmware: Some(elf), sim, no_load: true, ..options(None, 4.0) };
        let r = run(&opts, &AtomicBool::new(false), &mut |_| {}).unwrap();
        let fw = r.get(Kind::Firmware).unwrap();
        assert_eq!(fw.status, Status::Pass, "{r}");
        assert!(!fw.finding.contains("virtual"), "{r}");
        assert_eq!(r.status(Kind::ResetCause), Some(Status::Pass), "{r}");
        assert_eq!(r.status(Kind::ZeroLevel), Some(Status::Pass), "{r}");
        assert_eq!(r.status(Kind::ZeroNoise), Some(Status::Fail), "{r}");
    }

    /// A port that does not exist: its access check fails and the stream is not read.
    #[test]
    fn a_missing_port_fails_the_access_check() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ttyNONE").display().to_string();
        let r = run(&options(Some(path), 1.0), &AtomicBool::new(false), &mut |_| {}).unwrap();
        assert_eq!(r.status(Kind::PortAccess), Some(Status::Fail), "{r}");
        assert_eq!(r.status(Kind::Firmware), Some(Status::Fail), "{r}");
    }

    /// Permissions: the kernel's rule decided from given metadata (the tests may run as root,
    /// who can open anything, so a real file without permissions cannot show the failure
    /// there): not in the port's group fails naming the group; in it, or owner, or root,
    /// passes; a mode the group cannot use names the udev rule. A real file with mode 000 is
    /// then checked for whoever runs the test.
    #[test]
    fn access_is_decided_by_mode_owner_and_groups() {
        let port = PortMeta { mode: 0o20660, uid: 0, gid: 20, group: Some("dialout".into()) };
        let user = User { euid: 1000, egid: 1000, groups: vec![1000, 24] };
        let c = access("/dev/ttyACM0", &port, &user);
        assert_eq!(c.status, Status::Fail);
        assert!(c.remedy.as_deref().unwrap().contains("usermod -aG dialout"), "{c:?}");
        assert_eq!(access("p", &port, &User { groups: vec![1000, 20], ..user.clone() }).status, Status::Pass);
        assert_eq!(access("p", &port, &User { euid: 0, egid: 0, groups: vec![] }).status, Status::Pass);
        let owned = PortMeta { mode: 0o20600, uid: 1000, ..port.clone() };
        assert_eq!(access("p", &owned, &user).status, Status::Pass);
        let c = access("p", &PortMeta { mode: 0o20600, ..port }, &User { groups: vec![20], ..user });
        assert_eq!(c.status, Status::Fail);
        assert!(c.remedy.as_deref().unwrap().contains(UDEV_RULE), "{c:?}");

        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("ttyLOCKED");
        std::fs::write(&file, b"").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o000)).unwrap();
        let me = User::current(Path::new("/proc")).unwrap();
        let got = port_checks(file.to_str().unwrap(), &System::default());
        let want = if me.euid == 0 { Status::Pass } else { Status::Fail };
        assert_eq!(got[0].kind, Kind::PortAccess);
        assert_eq!(got[0].status, want, "euid {}: {:?}", me.euid, got[0]);
    }

    /// ModemManager: found by a process named so in a proc directory; passes when not running
    /// or when udev marked the port ignored (its database entry for the device numbers).
    #[test]
    fn modem_manager_is_found_and_its_ignore_flag_read() {
        let proc = tempfile::tempdir().unwrap();
        for (pid, comm) in [("1", "systemd\n"), ("self", "ModemManager\n"), ("42", "bash\n")] {
            std::fs::create_dir(proc.path().join(pid)).unwrap();
            std::fs::write(proc.path().join(pid).join("comm"), comm).unwrap();
        }
        assert!(!modem_manager_running(proc.path()), "`self` is no process id");
        std::fs::create_dir(proc.path().join("977")).unwrap();
        std::fs::write(proc.path().join("977/comm"), "ModemManager\n").unwrap();
        assert!(modem_manager_running(proc.path()));

        let udev = tempfile::tempdir().unwrap();
        // /dev/ttyACM0 is character device 166:0.
        let rdev = 166u64 << 8;
        assert_eq!(mm_ignored(udev.path(), rdev), None);
        std::fs::write(udev.path().join("c166:0"), "E:ID_VENDOR_ID=0451\nE:ID_MM_DEVICE_IGNORE=1\n").unwrap();
        assert_eq!(mm_ignored(udev.path(), rdev), Some(true));
        std::fs::write(udev.path().join("c166:0"), "E:ID_VENDOR_ID=0451\n").unwrap();
        assert_eq!(mm_ignored(udev.path(), rdev), Some(false));

        assert_eq!(modem_manager(false, None).status, Status::Pass);
        assert_eq!(modem_manager(true, Some(true)).status, Status::Pass);
        assert_eq!(modem_manager(true, Some(false)).status, Status::Warn);
        assert_eq!(modem_manager(true, None).status, Status::Warn);
    }

    /// A stable name: a path in by-id passes; a pty that has a by-id alias warns naming it;
    /// one without warns naming the udev rule.
    #[test]
    fn stable_names_are_found_through_by_id() {
        let pty = PtyDevice::start(device(load(1.0, 50.0)), 1.0, None).unwrap();
        let by_id = tempfile::tempdir().unwrap();
        let path = pty.path().display().to_string();
        let c = stable_name(&path, by_id.path());
        assert_eq!(c.status, Status::Warn);
        assert!(c.remedy.as_deref().unwrap().contains(UDEV_RULE), "{c:?}");
        let alias = by_id.path().join("ct-meter-0123ABCD");
        std::os::unix::fs::symlink(pty.path(), &alias).unwrap();
        let c = stable_name(&path, by_id.path());
        assert_eq!(c.status, Status::Warn);
        assert!(c.remedy.as_deref().unwrap().contains("ct-meter-0123ABCD"), "{c:?}");
        assert_eq!(stable_name(alias.to_str().unwrap(), by_id.path()).status, Status::Pass);
    }
}
