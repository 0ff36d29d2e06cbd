//! The line a person reads: time, A, W, kWh, Hz, flags.

use std::io::Write;
use std::time::SystemTime;

use super::format::{iso_utc, significant};
use super::{OutputError, ReadingSink, SinkError};
use crate::estimate::Reading;

/// The human line for one reading (no newline).
pub fn text_line(r: &Reading, wall: Option<SystemTime>) -> String {
    let time = wall.map_or_else(|| format!("t={:>9.1} s", r.t_s), |w| iso_utc(w)[..19].to_string() + "Z");
    let hz = r.hz.map_or("  --.-- Hz".to_string(), |h| format!("{h:>6.2} Hz"));
    let flags = r.flags.to_text();
    // The zero tracking's correction, once there is one to report (`ct_core::zero`).
    let zero = match r.zero_offset_codes.map(f64::round) {
        Some(o) if !r.zero_corrected => format!("  zero {o:+} codes (not corrected)"),
        Some(o) if o != 0.0 => format!("  zero {o:+} codes"),
        _ => String::new(),
    };
    format!(
        "{time}  {:>7} A  {:>7} W  {:>10} kWh  {hz}{}{flags}{zero}",
        significant(r.irms_a, 4),
        significant(r.watts, 4),
        format!("{:.5}", r.kwh),
        if flags.is_empty() { "" } else { "  " }
    )
}

/// Text lines on a terminal (or whatever `W` is), flushed per reading so a pipe sees each as
/// it comes. A write that fails is an [`OutputError`]: `> /dev/full` must not exit 0.
pub struct TextSink<W: Write> {
    out: W,
}

impl<W: Write> TextSink<W> {
    pub fn new(out: W) -> Self {
        TextSink { out }
    }
}

impl<W: Write> ReadingSink for TextSink<W> {
    fn write(&mut self, r: &Reading, wall: Option<SystemTime>) -> Result<(), SinkError> {
        writeln!(self.out, "{}", text_line(r, wall)).and_then(|()| self.out.flush()).map_err(OutputError)?;
        Ok(())
    }
}
