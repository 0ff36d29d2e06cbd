//! Serial ports: opening with helpful errors, and a read loop that survives unplugging.

use std::io::{ErrorKind, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serialport::SerialPort;

/// How long one read waits before the loop checks for Ctrl-C.
const READ_TIMEOUT: Duration = Duration::from_millis(100);
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
    /// Nothing arrived for a read timeout (lets the consumer check its own deadline).
    Idle,
}

/// Reads `path` until `stop` is set, reopening it whenever it disappears. The consumer returns
/// `false` to end the loop.
pub fn read_loop(
    path: &str,
    baud: u32,
    stop: &AtomicBool,
    mut consume: impl FnMut(LinkEvent<'_>) -> bool,
) -> Result<(), SerialError> {
    let mut port = open(path, baud)?;
    let mut buf = vec![0u8; 4096];
    while !stop.load(Ordering::Relaxed) {
        let err = match port.read(&mut buf) {
            Ok(0) => std::io::Error::new(ErrorKind::UnexpectedEof, "end of stream"),
            Ok(n) => {
                if !consume(LinkEvent::Bytes(&buf[..n])) {
                    return Ok(());
                }
                continue;
            }
            Err(e) if matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::Interrupted | ErrorKind::WouldBlock) => {
                continue
            }
            Err(e) => e,
        };
        if !consume(LinkEvent::Lost(err)) {
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
            if !consume(LinkEvent::Idle) {
                return Ok(());
            }
        };
        if !consume(LinkEvent::Back { after: lost_at.elapsed() }) {
            return Ok(());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
