//! One JSON object per line, for programs reading stdout (`--json`).

use std::io::Write;
use std::time::SystemTime;

use super::format::{iso_utc, unix_ms};
use super::{OutputError, ReadingSink, SinkError};
use crate::estimate::Reading;

/// One JSON object per reading (no newline).
pub fn json_line(r: &Reading, wall: Option<SystemTime>) -> String {
    json_value(r, wall).to_string()
}

/// The fields of [`json_line`], for sinks that add their own (MQTT adds the lifetime total).
pub fn json_value(r: &Reading, wall: Option<SystemTime>) -> serde_json::Value {
    serde_json::json!({
        "time_utc": wall.map(iso_utc),
        "unix_ms": wall.map(unix_ms),
        "t_s": r.t_s,
        "duration_s": r.duration_s,
        "irms_a": r.irms_a,
        "va": r.va,
        "watts": r.watts,
        "kwh": r.kwh,
        "mains_hz": r.hz,
        "flags": r.flags,
        "lost_samples": r.lost_samples,
        "samples": r.samples,
        "zero_offset_codes": r.zero_offset_codes,
        "zero_corrected": r.zero_corrected,
        "clock_ppm": r.clock_ppm,
        "bound_pct": r.bound_pct,
    })
}

/// JSON lines, flushed per reading; as for [`super::text::TextSink`], a write that fails is an
/// [`OutputError`].
pub struct JsonSink<W: Write> {
    out: W,
}

impl<W: Write> JsonSink<W> {
    pub fn new(out: W) -> Self {
        JsonSink { out }
    }
}

impl<W: Write> ReadingSink for JsonSink<W> {
    fn write(&mut self, r: &Reading, wall: Option<SystemTime>) -> Result<(), SinkError> {
        writeln!(self.out, "{}", json_line(r, wall)).and_then(|()| self.out.flush()).map_err(OutputError)?;
        Ok(())
    }
}
