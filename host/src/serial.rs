//! Serial ports: opening with helpful errors, and a read loop that survives unplugging and
//! keeps asking the device to stream.

use std::io::{ErrorKind, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use ct_wire::command::{Command, KEEPALIVE_INTERVAL_MS};
use serialport::SerialPort;

/// How long one read waits before the loop checks for Ctrl-C (and tells its consumer
/// [`LinkEvent::Idle`]).
const READ_TIMEOUT: Duration = Duration::from_millis(100);
/// A port silent this long is reported: the firmware is not running, or the baud rate is wrong
/// (asked to stream, the firmware sends an Info frame at once and samples continuously).
pub const SILENT_AFTER: Duration = Duration::from_secs(5);
/// How often a vanished port is looked for again.
const REOPEN_EVERY: Duration = Duration::from_millis(250);

/// USB IDs of the LaunchPad's on-board debugger (eZ-FET lite / TI MSP-EXP430G2).
pub const LAUNCHPAD_USB: (u16, u16) = (0x0451, 0xF432);

#[derive(Debug, thiserror::Error)]
pub enum SerialError {
    #[error("serial port {path} does not exist.\n{available}")]
    Missing { path: String, available: String },
    #[error("cannot open serial port {path}: {source}{hint}")]
    Open {
        path: String,
        #[source]
        source: serialport::Error,
        hint: &'static str,
    },
}

/// A one-paragraph list of the ports present, for error messages.
pub fn describe_available_ports() -> String {
    match serialport::available_ports() {
        Ok(ports) if ports.is_empty() => {
            "No serial ports found. Is the LaunchPad plugged in? Without hardware, try `ct-read --simulate`.".into()
        }
        Ok(ports) => {
            let mut s = String::from("Available ports:");
            for p in ports {
                s.push_str("\n  ");
                s.push_str(&p.port_name);
                if let serialport::SerialPortType::UsbPort(u) = p.port_type {
                    s.push_str(&format!("  (USB {:04x}:{:04x} {})", u.vid, u.pid, u.product.unwrap_or_default()));
                }
            }
            s
        }
        Err(e) => format!("(could not list serial ports: {e})"),
    }
}

/// Finds an attached LaunchPad's application UART, if any.
pub fn find_launchpad() -> Option<String> {
    let ports = serialport::available_ports().ok()?;
    ports.into_iter().find_map(|p| match p.port_type {
        serialport::SerialPortType::UsbPort(u) if (u.vid, u.pid) == LAUNCHPAD_USB => Some(p.port_name),
        _ => None,
    })
}

/// A stable id for the meter on `path`: the USB serial number of its device where the port
/// is a USB one that has a serial number (the LaunchPad's debugger does: it survives moving
/// the board to another USB socket, where `/dev/ttyACM0` may become `ttyACM1`), else the
/// port's file name; either with characters other than `[A-Za-z0-9_-]` replaced by `_`. A
/// symlink (`/dev/serial/by-id/...`) is followed to find the port.
pub fn node_id(path: &str) -> String {
    let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.into());
    let serial = serialport::available_ports().ok().and_then(|ports| {
        ports.into_iter().find_map(|p| match p.port_type {
            serialport::SerialPortType::UsbPort(u)
                if std::fs::canonicalize(&p.port_name).ok().as_ref() == Some(&real) =>
            {
                u.serial_number.filter(|s| !s.trim().is_empty())
            }
            _ => None,
        })
    });
    let name = serial
        .unwrap_or_else(|| real.file_name().map_or_else(|| path.to_owned(), |n| n.to_string_lossy().into_owned()));
    crate::sink::prometheus::sanitize_node(&name)
}

/// Opens `path` at `baud` 8N1 with a short read timeout.
pub fn open(path: &str, baud: u32) -> Result<Box<dyn SerialPort>, SerialError> {
    if !std::path::Path::new(path).exists() {
        return Err(SerialError::Missing { path: path.into(), available: describe_available_ports() });
    }
    serialport::new(path, baud).timeout(READ_TIMEOUT).open().map_err(|source| SerialError::Open {
        path: path.into(),
        hint: open_hint(source.kind),
        source,
    })
}

/// What to do about a port that exists but would not open, told by the error's kind (its text
/// is the OS's and changes with the platform and locale).
fn open_hint(kind: serialport::ErrorKind) -> &'static str {
    match kind {
        serialport::ErrorKind::Io(ErrorKind::PermissionDenied) => {
            "\nhelp: add yourself to the `dialout` group (sudo usermod -aG dialout $USER) and log in again"
        }
        // serialport reports a port held exclusively by another process (TIOCEXCL's EBUSY, or
        // a flock that would block) as NoDevice; at open time, after the path was found, that
        // is what it means.
        serialport::ErrorKind::NoDevice => {
            "\nhelp: another program (a terminal, mspdebug, ModemManager) has the port open"
        }
        _ => "",
    }
}

/// What the read loop tells its consumer.
pub enum LinkEvent<'a> {
    Bytes(&'a [u8]),
    /// The port failed (unplugged); the loop now waits for it to come back.
    Lost(std::io::Error),
    /// The port is open again after `Lost`.
    Back {
        after: Duration,
    },
    /// Nothing arrived for a read timeout, or the port is still gone (lets the consumer check
    /// its own deadline and notice a silent port).
    Idle,
}

/// Asks the device on `port` to stream: `start` sends a lone delimiter (ending whatever the
/// device's receiver holds, e.g. a terminal's or ModemManager's text) and Start, otherwise
/// KeepAlive (wire/SPEC.md, "Host -> device messages"). A failed write is left to the next
/// read to report: a vanished port fails there too.
fn ask(port: &mut dyn SerialPort, start: bool) {
    let result = if start {
        port.write_all(&[ct_wire::framing::DELIMITER]).and_then(|()| port.write_all(Command::Start.line()))
    } else {
        port.write_all(Command::KeepAlive.line())
    };
    let _ = result.and_then(|()| port.flush());
}

/// How many events the reading thread may hold for a consumer that is behind (a disk or a
/// database stalling a sink): at the fast link's ~100 reads a second, a couple of minutes of
/// the stream, at most 64 MiB of 4 KiB reads. Past that the reading thread waits too.
const QUEUE: usize = 16_384;

/// When the reading thread received an event: the wall time times the samples (and the
/// capture's record), the monotonic time measures silences.
#[derive(Debug, Clone, Copy)]
pub struct Received {
    pub wall: SystemTime,
    pub mono: Instant,
}

/// An event as it crosses from the reading thread to the consumer.
enum Owned {
    Bytes(Vec<u8>),
    Lost(std::io::Error),
    Back { after: Duration },
    Idle,
}

/// Reads `port` (opened by [`open`] from `path`) until `stop` is set, reopening it whenever it
/// disappears, and hands each event with its receive time to `consume` on the calling thread.
/// The device streams only while asked: the loop sends Start when the port opens (and
/// reopens) and KeepAlive every `KEEPALIVE_INTERVAL_MS`. The consumer returns `false` to end
/// the loop; it hears at least every `READ_TIMEOUT` (plus one reopen attempt), whether or not
/// bytes arrive.
///
/// The port is read, timed and kept alive on a thread of its own: a consumer held up for
/// seconds (an fsync behind a busy disk, the spool's commit) must not stop the keep-alives
/// (the device stops streaming after `KEEPALIVE_TIMEOUT_S`), overflow the kernel's buffer or
/// time the samples that waited by when they were finally read. Events queue for it (up to
/// `QUEUE`) and are handed on in order; once `stop` is set, what was already read is still
/// handed on.
pub fn read_loop(
    port: Box<dyn SerialPort>,
    path: &str,
    baud: u32,
    stop: &AtomicBool,
    mut consume: impl FnMut(LinkEvent<'_>, Received) -> bool,
) -> Result<(), SerialError> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<(Owned, Received)>(QUEUE);
    std::thread::scope(|s| {
        let reader = std::thread::Builder::new()
            .name("ct-read port".into())
            .spawn_scoped(s, move || {
                read_port(port, path, baud, stop, |ev| {
                    let at = Received { wall: SystemTime::now(), mono: Instant::now() };
                    tx.send((ev, at)).is_ok()
                })
            })
            .expect("a thread for the port");
        for (ev, at) in rx.iter() {
            let bytes;
            let ev = match ev {
                Owned::Bytes(b) => {
                    bytes = b;
                    LinkEvent::Bytes(&bytes)
                }
                Owned::Lost(e) => LinkEvent::Lost(e),
                Owned::Back { after } => LinkEvent::Back { after },
                Owned::Idle => LinkEvent::Idle,
            };
            if !consume(ev, at) {
                break;
            }
        }
        // Dropping the receiver ends the reading thread at its next event (a read time-out
        // at most).
        drop(rx);
        reader.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// The reading thread of [`read_loop`]: `emit` returns `false` once nobody listens.
fn read_port(
    mut port: Box<dyn SerialPort>,
    path: &str,
    baud: u32,
    stop: &AtomicBool,
    mut emit: impl FnMut(Owned) -> bool,
) -> Result<(), SerialError> {
    let mut buf = vec![0u8; 4096];
    let every = Duration::from_millis(KEEPALIVE_INTERVAL_MS as u64);
    ask(port.as_mut(), true);
    let mut asked = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        if asked.elapsed() >= every {
            ask(port.as_mut(), false);
            asked = Instant::now();
        }
        let err = match port.read(&mut buf) {
            Ok(0) => std::io::Error::new(ErrorKind::UnexpectedEof, "end of stream"),
            Ok(n) => {
                if !emit(Owned::Bytes(buf[..n].to_vec())) {
                    return Ok(());
                }
                continue;
            }
            Err(e) if matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock) => {
                if !emit(Owned::Idle) {
                    return Ok(());
                }
                continue;
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => e,
        };
        if !emit(Owned::Lost(err)) {
            return Ok(());
        }
        drop(port);
        let lost_at = Instant::now();
        port = loop {
            if stop.load(Ordering::Relaxed) {
                return Ok(());
            }
            std::thread::sleep(REOPEN_EVERY);
            if let Ok(p) = open(path, baud) {
                break p;
            }
            if !emit(Owned::Idle) {
                return Ok(());
            }
        };
        ask(port.as_mut(), true);
        asked = Instant::now();
        if !emit(Owned::Back { after: lost_at.elapsed() }) {
            return Ok(());
        }
    }
    Ok(())
}

/// Tells when a port has been silent for [`SILENT_AFTER`]: once per silence, so a port that
/// never sends is reported once, and one that stops again after sending is reported again.
#[derive(Debug, Clone, Copy)]
pub struct Silence {
    since: Instant,
    told: bool,
}

impl Silence {
    pub fn new(now: Instant) -> Self {
        Silence { since: now, told: false }
    }

    /// Bytes arrived (or the port was reopened) at `now`.
    pub fn heard(&mut self, now: Instant) {
        *self = Silence::new(now);
    }

    /// Nothing arrived up to `now`: how long the port has been silent, the first time that is
    /// [`SILENT_AFTER`] or more since it was last heard.
    pub fn idle(&mut self, now: Instant) -> Option<Duration> {
        let silent = now.saturating_duration_since(self.since);
        (silent >= SILENT_AFTER && !std::mem::replace(&mut self.told, true)).then_some(silent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silence_is_told_once_per_silence() {
        let t0 = Instant::now();
        let mut s = Silence::new(t0);
        assert_eq!(s.idle(t0 + Duration::from_secs(4)), None);
        assert_eq!(s.idle(t0 + Duration::from_secs(5)), Some(Duration::from_secs(5)));
        assert_eq!(s.idle(t0 + Duration::from_secs(9)), None);
        s.heard(t0 + Duration::from_secs(10));
        assert_eq!(s.idle(t0 + Duration::from_secs(14)), None);
        assert_eq!(s.idle(t0 + Duration::from_secs(16)), Some(Duration::from_secs(6)));
    }

    /// A port that sends nothing: the loop tells its consumer `Idle` at every read time-out
    /// (before, it told nothing, and `--duration` never ended on a silent port).
    #[test]
    fn a_silent_port_gives_idle_events() {
        let (_master, slave) = serialport::TTYPort::pair().unwrap();
        let name = serialport::SerialPort::name(&slave).unwrap();
        drop(slave);
        let port = open(&name, 9600).unwrap();
        let (stop, done) = (AtomicBool::new(false), AtomicBool::new(false));
        let mut idles = 0;
        std::thread::scope(|s| {
            // Ends the loop after 3 s if the events do not.
            s.spawn(|| {
                let t = Instant::now();
                while !done.load(Ordering::Relaxed) && t.elapsed() < Duration::from_secs(3) {
                    std::thread::sleep(Duration::from_millis(20));
                }
                stop.store(true, Ordering::Relaxed);
            });
            read_loop(port, &name, 9600, &stop, |ev, _| {
                if matches!(ev, LinkEvent::Idle) {
                    idles += 1;
                }
                idles < 3
            })
            .unwrap();
            done.store(true, Ordering::Relaxed);
        });
        assert_eq!(idles, 3, "a silent port must give Idle events");
    }

    /// The loop asks the device to stream: a lone delimiter and Start as soon as it runs,
    /// then a KeepAlive about every second (read here from the pty's other side).
    #[test]
    fn the_loop_sends_start_then_keepalives() {
        let (mut master, slave) = serialport::TTYPort::pair().unwrap();
        let name = serialport::SerialPort::name(&slave).unwrap();
        drop(slave);
        let port = open(&name, 9600).unwrap();
        let stop = AtomicBool::new(false);
        let started = Instant::now();
        let mut got = Vec::new();
        // Read while the loop still holds the port (once it closes, the master reads EPIPE).
        read_loop(port, &name, 9600, &stop, |_, _| {
            if started.elapsed() < Duration::from_millis(2500) {
                return true;
            }
            let mut b = [0u8; 64];
            while master.bytes_to_read().unwrap() > 0 {
                let n = master.read(&mut b).unwrap();
                got.extend_from_slice(&b[..n]);
            }
            false
        })
        .unwrap();
        let mut want = vec![0u8];
        want.extend_from_slice(Command::Start.line());
        want.extend_from_slice(Command::KeepAlive.line());
        want.extend_from_slice(Command::KeepAlive.line());
        assert_eq!(got, want, "Start, then one KeepAlive a second for 2.5 s");
    }

    /// A consumer held up for a second (a sink stuck behind a busy disk) does not hold up the
    /// port: what the device sends meanwhile is read, and timed, as it comes, then handed on
    /// in order. (Read on the consumer's thread, nothing was read during the second, and every
    /// byte sent in it was timed at its end.)
    #[test]
    fn a_held_up_consumer_does_not_hold_up_the_port() {
        let (mut master, slave) = serialport::TTYPort::pair().unwrap();
        let name = serialport::SerialPort::name(&slave).unwrap();
        drop(slave);
        let port = open(&name, 9600).unwrap();
        let (stop, done) = (AtomicBool::new(false), AtomicBool::new(false));
        let mut got: Vec<(u8, Instant)> = Vec::new();
        let mut held: Option<(Instant, Instant)> = None;
        std::thread::scope(|s| {
            s.spawn(|| {
                for i in 1..=30u8 {
                    std::io::Write::write_all(&mut master, &[i]).unwrap();
                    std::thread::sleep(Duration::from_millis(50));
                }
                while !done.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(20));
                }
            });
            read_loop(port, &name, 9600, &stop, |ev, at| {
                if let LinkEvent::Bytes(b) = ev {
                    got.extend(b.iter().map(|&x| (x, at.mono)));
                    if held.is_none() {
                        let from = Instant::now();
                        std::thread::sleep(Duration::from_secs(1));
                        held = Some((from, Instant::now()));
                    }
                }
                got.last().is_none_or(|&(x, _)| x < 30)
            })
            .unwrap();
            done.store(true, Ordering::Relaxed);
        });
        let (from, to) = held.unwrap();
        let bytes: Vec<u8> = got.iter().map(|&(x, _)| x).collect();
        assert_eq!(bytes, (1..=30).collect::<Vec<u8>>(), "every byte, in order");
        let during = got.iter().filter(|&&(_, t)| t > from + Duration::from_millis(100) && t < to).count();
        assert!(during >= 10, "{during} bytes read while the consumer was held up");
    }

    #[test]
    fn open_hints_follow_the_error_kind() {
        assert!(open_hint(serialport::ErrorKind::Io(ErrorKind::PermissionDenied)).contains("dialout"));
        assert!(open_hint(serialport::ErrorKind::NoDevice).contains("has the port open"));
        assert_eq!(open_hint(serialport::ErrorKind::Io(ErrorKind::NotFound)), "");
        assert_eq!(open_hint(serialport::ErrorKind::Unknown), "");
    }

    /// A port held exclusively (as ct-read and most terminals hold it) gets the busy hint.
    #[test]
    fn a_port_held_by_another_program_gets_the_busy_hint() {
        let (_master, slave) = serialport::TTYPort::pair().unwrap();
        let name = serialport::SerialPort::name(&slave).unwrap();
        let _held = open(&name, 9600).unwrap();
        let Err(err) = open(&name, 9600) else { panic!("a second exclusive open succeeded") };
        let err = err.to_string();
        assert!(err.contains("has the port open"), "{err}");
    }
}
