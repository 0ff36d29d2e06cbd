//! Notices as lines for a person (stderr), beside the readings on stdout.

use std::io::Write;
use std::time::SystemTime;

use super::{ReadingSink, SinkError};
use crate::estimate::Reading;
use crate::meter;
use crate::notice::{Level, Notice};

/// Writes each notice as its `Display` line; readings are for the other sinks.
pub struct LogSink<W: Write> {
    out: W,
    notes: bool,
    /// The meter says it is waiting for an Info frame with every Samples frame before one;
    /// a person needs to hear it once.
    waiting_told: bool,
}

impl<W: Write> LogSink<W> {
    pub fn new(out: W) -> Self {
        LogSink { out, notes: true, waiting_told: false }
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
        let _ = writeln!(self.out, "{n}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waiting_is_told_once_and_notes_can_be_left_out() {
        let waiting = Notice::Meter(meter::Notice::WaitingForInfo { discarded_samples: 8 });
        let mut log = LogSink::new(Vec::new()).without_notes();
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
}
