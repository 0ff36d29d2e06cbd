//! Notices as lines for a person (stderr), beside the readings on stdout; and the one rule for
//! how every line ct-read writes to stderr looks ([`LogStyle`]).
//!
//! On a terminal or into a file, a line is the notice's text. Under systemd, stderr is a
//! stream to journald, which keeps each line as an entry with a priority; sd-daemon(3)'s
//! convention is a `<N>` prefix with the syslog priority (`<3>` error, `<4>` warning, `<6>`
//! info), which journald strips and stores, so `journalctl -p warning` shows the warnings
//! and errors alone, coloured by priority. systemd tells a service that its stderr is that
//! stream with `JOURNAL_STREAM=DEVICE:INODE` (systemd.exec(5)); the prefixes are used only
//! when stderr is that very file, not merely when the variable is inherited by a program
//! whose stderr was redirected elsewhere. No line carries terminal escapes: ct-read's own
//! notices have none, and clap colours its messages only on a terminal.
//!
//! `--quiet` (for services) keeps only warnings and errors: a meter that runs for months
//! should not write a line per second into the journal (and onto an SD card).

use std::io::Write;
use std::time::SystemTime;

use super::{ReadingSink, SinkError};
use crate::estimate::Reading;
use crate::meter;
use crate::notice::{Level, Notice};

/// A line's syslog priority, as sd-daemon(3) numbers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Priority {
    Error = 3,
    Warning = 4,
    Info = 6,
}

impl From<Level> for Priority {
    fn from(l: Level) -> Self {
        match l {
            Level::Warning => Priority::Warning,
            Level::Info | Level::Note => Priority::Info,
        }
    }
}

/// How lines go to stderr: with sd-daemon priority prefixes or without, all or only
/// warnings and errors. Decided once, from the environment, by [`LogStyle::detect`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LogStyle {
    /// Prefix each line with `<N>` (stderr is journald's stream).
    pub journal: bool,
    /// Only warnings and errors.
    pub quiet: bool,
}

impl LogStyle {
    /// The style for this process's stderr: journal prefixes when `JOURNAL_STREAM` names
    /// the file stderr is.
    pub fn detect(quiet: bool) -> Self {
        let journal = std::env::var("JOURNAL_STREAM").ok().zip(stderr_id()).is_some_and(|(v, id)| is_stream(&v, id));
        LogStyle { journal, quiet }
    }

    /// The text as it is written (each line of it, newline-terminated), or `None` when quiet
    /// leaves it out.
    pub fn format(&self, priority: Priority, text: &str) -> Option<String> {
        if self.quiet && priority > Priority::Warning {
            return None;
        }
        let mut out = String::with_capacity(text.len() + 4);
        for line in text.lines() {
            if self.journal {
                out.push_str(&format!("<{}>", priority as u8));
            }
            out.push_str(line);
            out.push('\n');
        }
        Some(out)
    }

    /// Writes `text` to `w` in this style; a stream that cannot be written loses it (the
    /// log is no reason to stop metering).
    pub fn write(&self, w: &mut dyn Write, priority: Priority, text: &str) {
        if let Some(s) = self.format(priority, text) {
            let _ = w.write_all(s.as_bytes());
        }
    }
}

/// Whether `JOURNAL_STREAM`'s value `DEVICE:INODE` (decimal) is the file `(dev, ino)`.
fn is_stream(value: &str, (dev, ino): (u64, u64)) -> bool {
    value
        .split_once(':')
        .and_then(|(d, i)| Some((d.trim().parse::<u64>().ok()?, i.trim().parse::<u64>().ok()?)))
        .is_some_and(|v| v == (dev, ino))
}

/// Device and inode of the file stderr is open on.
fn stderr_id() -> Option<(u64, u64)> {
    use std::os::fd::AsFd;
    use std::os::unix::fs::MetadataExt;
    let fd = std::io::stderr().as_fd().try_clone_to_owned().ok()?;
    let m = std::fs::File::from(fd).metadata().ok()?;
    Some((m.dev(), m.ino()))
}

/// Writes each notice as its `Display` line, in a [`LogStyle`]; readings are for the other
/// sinks.
pub struct LogSink<W: Write> {
    out: W,
    style: LogStyle,
    notes: bool,
    /// The meter says it is waiting for an Info frame with every Samples frame before one;
    /// a person needs to hear it once.
    waiting_told: bool,
}

impl<W: Write> LogSink<W> {
    pub fn new(out: W, style: LogStyle) -> Self {
        LogSink { out, style, notes: true, waiting_told: false }
    }

    /// Leaves out the [`Level::Note`]s, the hints for a person reading text output (with
    /// `--json` stdout is for a program, and whoever runs it knows its fields).
    pub fn without_notes(mut self) -> Self {
        self.notes = false;
        self
    }
}

impl<W: Write> ReadingSink for LogSink<W> {
    fn write(&mut self, _r: &Reading, _wall: Option<SystemTime>) -> Result<(), SinkError> {
        Ok(())
    }

    fn notice(&mut self, n: &Notice) {
        if n.level() == Level::Note && !self.notes {
            return;
        }
        if let Notice::Meter(meter::Notice::WaitingForInfo { .. }) = n {
            if std::mem::replace(&mut self.waiting_told, true) {
                return;
            }
        }
        self.style.write(&mut self.out, n.level().into(), &n.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waiting_is_told_once_and_notes_can_be_left_out() {
        let waiting = Notice::Meter(meter::Notice::WaitingForInfo { discarded_samples: 8 });
        let mut log = LogSink::new(Vec::new(), LogStyle::default()).without_notes();
        log.notice(&waiting);
        log.notice(&waiting);
        log.notice(&Notice::TotalEnergy { kwh: 1.0 });
        log.notice(&Notice::ApparentPower);
        log.notice(&Notice::CaptureDamage("t".into()));
        let text = String::from_utf8(log.out).unwrap();
        assert_eq!(text.lines().count(), 2, "{text}");
        assert!(text.starts_with("waiting for the device's Info frame"), "{text}");
        assert!(text.ends_with("warning: t\n"), "{text}");
    }

    /// Under journald every line, each line of a multi-line message too, carries its
    /// sd-daemon priority; quiet keeps warnings and errors only.
    #[test]
    fn journal_lines_carry_their_priority_and_quiet_keeps_warnings() {
        let journal = LogStyle { journal: true, quiet: false };
        let mut log = LogSink::new(Vec::new(), journal);
        log.notice(&Notice::Recording { path: "c.ctcap".into() });
        log.notice(&Notice::CaptureDamage("a\nb".into()));
        log.notice(&Notice::ApparentPower);
        let text = String::from_utf8(log.out).unwrap();
        assert_eq!(
            text,
            "<6>recording to c.ctcap\n<4>warning: a\n<4>warning: b\n<6>note: no --pf given: watts are apparent power \
             (V x A, power factor 1 assumed)\n"
        );
        assert_eq!(
            journal.format(Priority::Error, "Error: x\n\nCaused by: y").unwrap(),
            "<3>Error: x\n<3>\n<3>Caused by: y\n"
        );

        let quiet = LogStyle { journal: false, quiet: true };
        let mut log = LogSink::new(Vec::new(), quiet);
        log.notice(&Notice::Recording { path: "c.ctcap".into() });
        log.notice(&Notice::TotalEnergy { kwh: 1.0 });
        log.notice(&Notice::Silent { port: "p".into(), after: std::time::Duration::from_secs(5), baud: 9600 });
        let text = String::from_utf8(log.out).unwrap();
        assert!(text.starts_with("warning: no data from p for 5 s") && text.lines().count() == 1, "{text}");
        assert_eq!(quiet.format(Priority::Error, "Error: x").as_deref(), Some("Error: x\n"));
    }

    /// `JOURNAL_STREAM` counts only when it names the very file stderr is.
    #[test]
    fn the_journal_stream_is_told_by_device_and_inode() {
        assert!(is_stream("8:12345", (8, 12345)));
        assert!(!is_stream("8:12345", (8, 12346)));
        assert!(!is_stream("8:12345", (9, 12345)));
        assert!(!is_stream("garbage", (8, 12345)));
        assert!(!is_stream("", (0, 0)));
    }
}
