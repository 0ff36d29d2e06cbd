//! Everything `ct-read` tells its user besides readings: what the device is, gaps, restarts,
//! reconnects, torn files repaired, where results went.
//!
//! One enum with one `Display`, so the wording is written once and every place that shows a
//! notice (the terminal, and later a log line in a service or an MQTT status topic) shows the
//! same words. A notice's `Display` is the whole line a person reads, prefix included
//! (`warning: ...`); programs that need to tell kinds apart match on the variant or use
//! [`Notice::level`].

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::load_shape::Shape;
use crate::meter;

/// How much a notice matters, for sinks that filter or route by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// What is happening: the device, the files written.
    Info,
    /// A hint for a person reading the text output (apparent power, total energy); left out
    /// beside output meant for programs.
    Note,
    /// Something went wrong and was worked around; readings may be flagged.
    Warning,
}

/// What a written file holds, for the summaries of exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rows {
    Readings,
    Samples,
}

impl fmt::Display for Rows {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Rows::Readings => "readings",
            Rows::Samples => "samples",
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    /// The meter's own: device info, gaps, restarts, corrupt bytes, overruns.
    Meter(meter::Notice),
    /// No port was given and no LaunchPad found (or `--simulate`): the built-in device is read.
    VirtualDevice { path: PathBuf, shape: Shape, amps: f64, hz: f64 },
    /// The virtual device runs the real firmware in the emulator.
    Emulating { elf: PathBuf, profile: &'static str },
    /// `ct-read virtual-device`: where the device can be opened.
    VirtualDeviceOn { path: PathBuf },
    /// Without a power factor, watts are volt-amperes.
    ApparentPower,
    /// Readings are also recorded to a capture.
    Recording { path: PathBuf },
    /// The port failed (unplugged); reading resumes when it is back.
    Lost { port: String, error: String },
    /// The port is open again.
    Back { port: String, after: Duration },
    /// The port has sent nothing for `after` (it is open, but the device is silent).
    Silent { port: String, after: Duration, baud: u32 },
    /// The energy of the whole live session.
    TotalEnergy { kwh: f64 },
    /// The lifetime energy was read back from the state file.
    StateLoaded { path: PathBuf, kwh: f64 },
    /// There was no state file: one was created with 0 kWh.
    StateCreated { path: PathBuf },
    /// The lifetime energy at the end of a session, as saved.
    LifetimeEnergy { path: PathBuf, kwh: f64 },
    /// `ct-read energy --set`: the lifetime total was replaced.
    EnergySet { path: PathBuf, was: Option<f64>, kwh: f64 },
    /// Options were read from this config file (`--config`).
    ConfigFile { path: PathBuf },
    /// Prometheus metrics are served at this address.
    ServingMetrics { addr: std::net::SocketAddr },
    /// Readings are published to this MQTT broker (shown without its password).
    Mqtt { broker: String, node: String },
    /// The MQTT broker took the connection (again): discovery, status and the latest state
    /// were sent.
    MqttConnected { broker: String },
    /// The MQTT broker cannot be reached; metering goes on, and the connection is retried.
    MqttUnreachable { broker: String, error: String, retry: Duration },
    /// systemd's watchdog (`WatchdogSec=`) is pinged with each reading, and is shorter than
    /// three reading windows: a healthy meter may be killed.
    WatchdogShort { watchdog: Duration, window_s: f64 },
    /// A CSV's torn last row, left by a crash, was cut before appending.
    TornCsvRow { path: PathBuf, bytes: u64 },
    /// A capture's torn tail, left by a crash, was cut before appending.
    TornCaptureTail { path: PathBuf, bytes: u64 },
    /// Corrupt records of a capture were skipped, or it ends in a torn tail (the capture
    /// reader's words, one line per damaged span).
    CaptureDamage(String),
    /// Readings for a remote database go through the spool; `backlog` of them are waiting
    /// from before.
    Forwarding { sink: String, spool: PathBuf, backlog: u64 },
    /// A remote database cannot be reached; readings wait in the spool, sending is retried.
    SinkUnreachable { sink: String, error: String, backlog: u64 },
    /// A remote database that could not be reached took a batch again.
    SinkBack { sink: String, backlog: u64 },
    /// A remote database refuses for good (a newer schema, malformed writes): nothing more is
    /// sent to it in this session; its readings stay in the spool.
    SinkRefused { sink: String, error: String },
    /// The spool reached its bound: the oldest readings were dropped.
    SpoolFull { path: PathBuf, dropped: u64, max: u64 },
    /// At the end of a session: readings not yet sent to a remote stay in the spool.
    SpoolBacklog { sink: String, path: PathBuf, backlog: u64 },
    /// What an export sent to a remote database.
    RemoteCounts { sink: String, sent: u64, added: Option<u64> },
    /// A finished export or picture.
    Wrote { path: PathBuf, rows: Option<(u64, Rows)> },
    /// An interrupted export: the rows so far are in `part`; `path` is untouched (unless it is
    /// `part`: a pipe or device, written in place).
    KeptPartial { part: PathBuf, path: PathBuf, rows: Rows },
    /// What an export added to a database.
    DatabaseCounts { path: PathBuf, added: u64, skipped: u64 },
    /// An interrupted database export can be resumed by running it again.
    DatabaseResumable,
    /// Progress of `calibrate` (its own words).
    Calibrating(String),
    /// A calibration table was written.
    WroteTable { path: PathBuf },
}

impl Notice {
    pub fn level(&self) -> Level {
        match self {
            Notice::Meter(meter::Notice::Skipped { .. } | meter::Notice::Gap { .. })
            | Notice::Meter(meter::Notice::ClockImplausible { .. })
            | Notice::Meter(meter::Notice::Reset { .. } | meter::Notice::Overrun { .. })
            | Notice::Meter(meter::Notice::Duplicate { .. } | meter::Notice::Late { .. })
            | Notice::Lost { .. }
            | Notice::Silent { .. }
            | Notice::MqttUnreachable { .. }
            | Notice::WatchdogShort { .. }
            | Notice::SinkUnreachable { .. }
            | Notice::SinkRefused { .. }
            | Notice::SpoolFull { .. }
            | Notice::TornCsvRow { .. }
            | Notice::TornCaptureTail { .. }
            | Notice::CaptureDamage(_) => Level::Warning,
            Notice::Meter(meter::Notice::AdcCalibration(Some(c))) if c.correction().is_none() => Level::Warning,
            Notice::ApparentPower | Notice::TotalEnergy { .. } | Notice::LifetimeEnergy { .. } => Level::Note,
            _ => Level::Info,
        }
    }
}

impl From<meter::Notice> for Notice {
    fn from(n: meter::Notice) -> Self {
        Notice::Meter(n)
    }
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Notice::Meter(n) => meter_notice(n, f),
            Notice::VirtualDevice { path, shape, amps, hz } => write!(
                f,
                "no port given and no LaunchPad found: reading the built-in virtual device on {} ({} load, \
                 {amps} A at {hz} Hz)",
                path.display(),
                shape_text(*shape)
            ),
            Notice::Emulating { elf, profile } => {
                write!(f, "emulating {} ({profile} profile) on the virtual load", elf.display())
            }
            Notice::VirtualDeviceOn { path } => write!(f, "virtual device on {} (Ctrl-C to stop)", path.display()),
            Notice::ApparentPower => {
                f.write_str("note: no --pf given: watts are apparent power (V x A, power factor 1 assumed)")
            }
            Notice::Recording { path } => write!(f, "recording to {}", path.display()),
            Notice::Lost { port, error } => {
                write!(f, "warning: lost {port}: {error}; waiting for it to come back (Ctrl-C to stop)")
            }
            Notice::Back { port, after } => write!(f, "reconnected to {port} after {:.1} s", after.as_secs_f64()),
            Notice::Silent { port, after, baud } => write!(
                f,
                "warning: no data from {port} for {:.0} s: is the firmware running, is the baud rate right (reading \
                 at {baud})?",
                after.as_secs_f64()
            ),
            Notice::TotalEnergy { kwh } => write!(f, "total energy: {kwh:.5} kWh"),
            Notice::StateLoaded { path, kwh } => {
                write!(f, "lifetime energy: {kwh:.5} kWh so far, from {}", path.display())
            }
            Notice::StateCreated { path } => {
                write!(f, "lifetime energy: starting at 0 kWh in the new state file {}", path.display())
            }
            Notice::LifetimeEnergy { path, kwh } => {
                write!(f, "lifetime energy: {kwh:.5} kWh (saved in {})", path.display())
            }
            Notice::EnergySet { path, was, kwh } => match was {
                Some(was) => write!(f, "{}: lifetime energy set to {kwh} kWh (was {was} kWh)", path.display()),
                None => write!(f, "{}: lifetime energy set to {kwh} kWh (it held no readable total)", path.display()),
            },
            Notice::ConfigFile { path } => write!(f, "options from {}", path.display()),
            Notice::ServingMetrics { addr } => write!(f, "serving Prometheus metrics on http://{addr}/metrics"),
            Notice::Mqtt { broker, node } => write!(f, "publishing to MQTT broker {broker} as ct-read/{node}"),
            Notice::Forwarding { sink, spool, backlog } => write!(
                f,
                "sending readings to {sink} through the spool {} ({backlog} waiting from before)",
                spool.display()
            ),
            Notice::SinkUnreachable { sink, error, backlog } => write!(
                f,
                "warning: {sink} cannot be reached ({error}); metering goes on, readings wait in the spool \
                 ({backlog} now) and are sent, oldest first, when it is back"
            ),
            Notice::SinkBack { sink, backlog } => {
                write!(f, "{sink} is back: sending the {backlog} readings that waited, oldest first")
            }
            Notice::SinkRefused { sink, error } => write!(
                f,
                "warning: {sink}: {error}\nnothing more is sent to it in this session; its readings stay in the spool"
            ),
            Notice::SpoolFull { path, dropped, max } => write!(
                f,
                "warning: the spool {} is full ({max} readings): dropped the {dropped} oldest readings not yet in \
                 every database (raise --spool-max-rows, or bring the database back)",
                path.display()
            ),
            Notice::SpoolBacklog { sink, path, backlog } => write!(
                f,
                "{backlog} readings not yet in {sink} stay in the spool {}; they are sent at the next start",
                path.display()
            ),
            Notice::RemoteCounts { sink, sent, added } => match added {
                Some(added) => write!(f, "{sink}: sent {sent} readings, {added} new, {} already there", sent - added),
                None => write!(f, "{sink}: sent {sent} readings"),
            },
            Notice::MqttConnected { broker } => write!(f, "connected to MQTT broker {broker}"),
            Notice::MqttUnreachable { broker, error, retry } => write!(
                f,
                "MQTT broker {broker} unreachable ({error}); metering goes on, retrying in {} s",
                shown_secs(*retry)
            ),
            Notice::WatchdogShort { watchdog, window_s } => write!(
                f,
                "warning: systemd's watchdog ({:.0} s) is pinged with each reading and is shorter than three reading \
                 windows ({window_s} s each); raise WatchdogSec= or shorten --window",
                watchdog.as_secs_f64()
            ),
            Notice::TornCsvRow { path, bytes } => write!(
                f,
                "warning: {}: removed a torn last row ({bytes} bytes) left by an interrupted run",
                path.display()
            ),
            Notice::TornCaptureTail { path, bytes } => write!(
                f,
                "warning: {}: removed a torn tail ({bytes} bytes) left by an interrupted recording",
                path.display()
            ),
            Notice::CaptureDamage(t) => {
                for (k, line) in t.lines().enumerate() {
                    write!(f, "{}warning: {line}", if k == 0 { "" } else { "\n" })?;
                }
                Ok(())
            }
            Notice::Wrote { path, rows: None } => write!(f, "wrote {}", path.display()),
            Notice::Wrote { path, rows: Some((n, rows)) } => write!(f, "wrote {n} {rows} to {}", path.display()),
            Notice::KeptPartial { part, path, rows } if part == path => {
                write!(f, "interrupted: the {rows} so far went to {}", path.display())
            }
            Notice::KeptPartial { part, path, rows } => {
                write!(f, "interrupted: the {rows} so far are in {} ({} is unchanged)", part.display(), path.display())
            }
            Notice::DatabaseCounts { path, added, skipped } => {
                write!(f, "{}: added {added} readings, skipped {skipped} already present", path.display())
            }
            Notice::DatabaseResumable => {
                f.write_str("interrupted: exporting again adds the readings not yet in the database")
            }
            Notice::Calibrating(msg) => f.write_str(msg),
            Notice::WroteTable { path } => {
                let name = path.display();
                write!(f, "wrote {name}; use it with --calibration {name}")
            }
        }
    }
}

/// The device's ADC calibration in words: the factors applied, or why none is.
fn adc_calibration_text(c: Option<&ct_wire::AdcCal>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let Some(c) = c else {
        return f.write_str(
            "ADC calibration: none (protocol 1 firmware): codes read with the nominal 2.5 V reference, which a real \
             chip misses by up to a few percent",
        );
    };
    let words =
        format!("2.5 V reference x{:.5}, gain x{:.5}, offset {:+} LSB", c.vref25_ratio(), c.gain_ratio(), c.offset);
    let why = match c.status {
        ct_wire::AdcCalStatus::Valid => match c.correction() {
            Some(k) => {
                return write!(f, "ADC calibration (factory, checksum good): {words}: codes x{:.5} applied", k.scale)
            }
            None => "implausible for a factory trim",
        },
        ct_wire::AdcCalStatus::Erased => "the device's calibration segment is erased",
        ct_wire::AdcCalStatus::BadChecksum => "the device's calibration segment fails its checksum",
        ct_wire::AdcCalStatus::NoAdcTag => "the device's calibration segment has no ADC10 calibration",
        ct_wire::AdcCalStatus::Other(_) => "the device reports a calibration status this ct-read does not know",
    };
    write!(
        f,
        "warning: ADC calibration not applied ({why}; words {words}): codes read with the nominal 2.5 V reference"
    )
}

fn meter_notice(n: &meter::Notice, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match n {
        meter::Notice::Device(i) => {
            let profile = match i.build_profile {
                ct_wire::BuildProfile::Launchpad => "launchpad-profile".to_string(),
                ct_wire::BuildProfile::Fast => "fast-profile".to_string(),
                ct_wire::BuildProfile::Other(b) => format!("profile-{b}"),
            };
            write!(
                f,
                "device: {profile} firmware {}.{}.{}{}, {:.2} samples/s, {} baud, ADC {}-bit / {} mV ref, last reset: \
                 {}",
                i.firmware_version[0],
                i.firmware_version[1],
                i.firmware_version[2],
                if i.is_virtual() { " (virtual device)" } else { "" },
                i.sample_rate_hz(),
                i.baud,
                i.adc_bits,
                i.adc_ref_mv,
                cause_text(i.reset_cause)
            )
        }
        meter::Notice::AdcCalibration(c) => adc_calibration_text(c.as_ref(), f),
        meter::Notice::WaitingForInfo { .. } => {
            f.write_str("waiting for the device's Info frame (sent at boot and every 10 s) to learn its sample rate")
        }
        meter::Notice::Skipped { bytes, reason, offset } => {
            write!(f, "warning: skipped {bytes} corrupt bytes ending at stream offset {offset}: {reason}")
        }
        meter::Notice::Gap { lost_samples, seconds } => {
            write!(f, "warning: gap of {lost_samples} samples ({seconds:.3} s); affected readings are flagged `gap`")
        }
        meter::Notice::Reset { cause: Some(cause) } => {
            write!(f, "warning: the device restarted ({}); the readings after it are flagged `gap`", cause_text(*cause))
        }
        meter::Notice::Reset { cause: None } => f.write_str(
            "warning: the device restarted (cause unknown: its boot Info frame was lost); the readings after it are \
             flagged `gap`",
        ),
        meter::Notice::Overrun { dropped_total, new } => {
            write!(f, "warning: the device dropped {new} samples (overrun; {dropped_total} since reset)")
        }
        meter::Notice::Duplicate { first_index, samples, frames_total } => write!(
            f,
            "warning: dropped a duplicated Samples frame ({samples} samples from index {first_index}, already \
             received; {frames_total} so far)"
        ),
        meter::Notice::Late { first_index, samples, frames_total } => write!(
            f,
            "warning: dropped a late Samples frame ({samples} samples from index {first_index}, already counted as \
             lost; {frames_total} so far)"
        ),
        meter::Notice::ClockMeasuring => f.write_str(
            "measuring the device's clock against this computer's (about a minute); until then readings use the \
             nominal sample rate, and the mains frequency can be off by as much as the clock (up to 6 %)",
        ),
        meter::Notice::Clock { estimate: e, rate_hz } => write!(
            f,
            "device clock: {:+.0} ppm ({:+.2} %) against this computer's, within {:.0} ppm over {:.0} s: {:.2} \
             samples/s; readings use it from here on",
            e.ppm,
            e.ppm / 1e4,
            e.bound_ppm.max(1.0),
            e.span_s,
            rate_hz
        ),
        meter::Notice::ClockImplausible { estimate: e } => write!(
            f,
            "warning: the receive times put the device's clock {:+.1} % from nominal, more than its DCO can be off \
             (6 %): they are not real time (a simulation sped up?); the nominal rate is kept",
            e.ppm / 1e4
        ),
        meter::Notice::NominalClock => f.write_str(
            "no receive times in this input: sample times come from the stated rate (the Info frame's, --rate or the \
             CSV's time column), not measured; a device's clock can miss its nominal rate by up to 6 %",
        ),
    }
}

/// A short wait in seconds as a person reads it: tenths below 10 s (the first MQTT retry
/// comes after 0.5 s, which whole seconds showed as "0 s"), whole seconds above.
fn shown_secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 10.0 {
        format!("{s:.1}")
    } else {
        format!("{s:.0}")
    }
}

/// A reset cause in words (the wire's names are not a user's).
fn cause_text(c: ct_wire::ResetCause) -> String {
    match c {
        ct_wire::ResetCause::PowerOn => "power-on".into(),
        ct_wire::ResetCause::ResetPin => "reset pin".into(),
        ct_wire::ResetCause::Watchdog => "watchdog".into(),
        ct_wire::ResetCause::KeyViolation => "flash key violation".into(),
        ct_wire::ResetCause::Other(b) => format!("reset cause {b}, unknown to this ct-read"),
    }
}

/// A load shape as `--shape` spells it.
fn shape_text(s: Shape) -> &'static str {
    match s {
        Shape::Sine => "sine",
        Shape::Smps => "smps",
        Shape::Dimmer => "dimmer",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_say_so_and_notes_are_notes() {
        let gap = Notice::Meter(meter::Notice::Gap { lost_samples: 12, seconds: 0.5 });
        assert_eq!(gap.level(), Level::Warning);
        assert_eq!(gap.to_string(), "warning: gap of 12 samples (0.500 s); affected readings are flagged `gap`");
        assert_eq!(Notice::TotalEnergy { kwh: 0.25 }.to_string(), "total energy: 0.25000 kWh");
        assert_eq!(Notice::TotalEnergy { kwh: 0.25 }.level(), Level::Note);
        let part = Notice::KeptPartial { part: "r.csv.part".into(), path: "r.csv".into(), rows: Rows::Samples };
        assert_eq!(part.to_string(), "interrupted: the samples so far are in r.csv.part (r.csv is unchanged)");
        let wrote = Notice::Wrote { path: "r.csv".into(), rows: Some((3, Rows::Readings)) };
        assert_eq!(wrote.to_string(), "wrote 3 readings to r.csv");
    }

    #[test]
    fn a_short_retry_is_not_zero_seconds() {
        let n = |ms| Notice::MqttUnreachable {
            broker: "mqtt://h".into(),
            error: "refused".into(),
            retry: Duration::from_millis(ms),
        };
        assert!(n(500).to_string().ends_with("retrying in 0.5 s"), "{}", n(500));
        assert!(n(30_000).to_string().ends_with("retrying in 30 s"), "{}", n(30_000));
    }

    /// A dropped duplicate frame is a warning that says what was dropped and why.
    #[test]
    fn a_duplicate_frame_is_a_warning() {
        let dup = Notice::Meter(meter::Notice::Duplicate { first_index: 4480, samples: 112, frames_total: 3 });
        assert_eq!(dup.level(), Level::Warning);
        assert_eq!(
            dup.to_string(),
            "warning: dropped a duplicated Samples frame (112 samples from index 4480, already received; 3 so far)"
        );
    }

    /// Issue 11.14: no internal type name (`Some(ResetPin)`, `None`, `Smps`) in a message.
    #[test]
    fn messages_say_words_not_type_names() {
        let pin = Notice::Meter(meter::Notice::Reset { cause: Some(ct_wire::ResetCause::ResetPin) });
        assert_eq!(
            pin.to_string(),
            "warning: the device restarted (reset pin); the readings after it are flagged `gap`"
        );
        let lost = Notice::Meter(meter::Notice::Reset { cause: None }).to_string();
        assert!(
            lost.starts_with("warning: the device restarted (cause unknown: its boot Info frame was lost)"),
            "{lost}"
        );
        let dev = Notice::VirtualDevice { path: "/dev/pts/3".into(), shape: Shape::Smps, amps: 5.0, hz: 50.0 };
        assert!(dev.to_string().contains("(smps load, 5 A at 50 Hz)"), "{dev}");
        let info = ct_wire::Info {
            protocol_version: 1,
            firmware_version: [0, 1, 0],
            timer_clock_hz: 1_000_000,
            ticks_per_sample: 122,
            adc_ref_mv: 2500,
            adc_bits: 10,
            baud: 250_000,
            reset_cause: ct_wire::ResetCause::Watchdog,
            build_profile: ct_wire::BuildProfile::Fast,
            samples_per_frame: 112,
            flags: 0,
        };
        let text = Notice::Meter(meter::Notice::Device(info)).to_string();
        assert!(text.ends_with("last reset: watchdog"), "{text}");
        let cal = ct_wire::AdcCal {
            status: ct_wire::AdcCalStatus::Valid,
            gain_factor: 0x8000,
            offset: -2,
            vref25_factor: 33423,
        };
        let good = Notice::Meter(meter::Notice::AdcCalibration(Some(cal)));
        assert_eq!(good.level(), Level::Info);
        assert_eq!(
            good.to_string(),
            "ADC calibration (factory, checksum good): 2.5 V reference x1.01999, gain x1.00000, offset -2 LSB: codes \
             x1.01999 applied"
        );
        let bad = Notice::Meter(meter::Notice::AdcCalibration(Some(ct_wire::AdcCal {
            status: ct_wire::AdcCalStatus::BadChecksum,
            ..cal
        })));
        assert_eq!(bad.level(), Level::Warning);
        assert!(bad.to_string().contains("not applied (the device's calibration segment fails its checksum"), "{bad}");
        let none = Notice::Meter(meter::Notice::AdcCalibration(None));
        assert!(none.to_string().contains("nominal 2.5 V reference"), "{none}");
    }
}
