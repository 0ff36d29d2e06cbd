//! One JSON object per line, for programs reading stdout (`--json`).

use std::io::Write;
use std::time::SystemTime;

use super::format::{iso_utc, unix_ms};
use super::{OutputError, ReadingSink, SinkError};
use crate::estimate::Reading;

/// One JSON object per reading (no newline), of meter `meter`.
pub fn json_line(r: &Reading, wall: Option<SystemTime>, meter: &str) -> String {
    json_value(r, wall, meter).to_string()
}

/// The fields of [`json_line`], for sinks that add their own (MQTT adds the lifetime total).
/// `meter` is the node id every CSV and database row carries ([`super::Outputs::meter`]), so
/// a JSON line is attributed like a row.
pub fn json_value(r: &Reading, wall: Option<SystemTime>, meter: &str) -> serde_json::Value {
    serde_json::json!({
        "meter": meter,
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
        "bound_below_pct": r.bound_below_pct,
    })
}

/// JSON lines, flushed per reading; as for [`super::text::TextSink`], a write that fails is an
/// [`OutputError`].
pub struct JsonSink<W: Write> {
    out: W,
    meter: String,
}

impl<W: Write> JsonSink<W> {
    pub fn new(out: W, meter: &str) -> Self {
        JsonSink { out, meter: meter.to_owned() }
    }
}

impl<W: Write> ReadingSink for JsonSink<W> {
    fn write(&mut self, r: &Reading, wall: Option<SystemTime>) -> Result<(), SinkError> {
        writeln!(self.out, "{}", json_line(r, wall, &self.meter))
            .and_then(|()| self.out.flush())
            .map_err(OutputError)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each line names its meter, as a CSV or database row does, beside the reading's fields.
    #[test]
    fn lines_name_their_meter() {
        let r = Reading {
            t_s: 2.0,
            duration_s: 1.0,
            samples: 8000,
            lost_samples: 0,
            irms_a: 3.25,
            va: 747.5,
            watts: 747.5,
            kwh: 0.0002,
            hz: Some(50.0),
            flags: Default::default(),
            zero_offset_codes: None,
            zero_corrected: true,
            clock_ppm: Some(120.0),
            bound_pct: None,
            bound_below_pct: None,
        };
        let mut out = Vec::new();
        JsonSink::new(&mut out, "kitchen").write(&r, None).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.ends_with('\n') && text.lines().count() == 1, "{text:?}");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["meter"], "kitchen");
        assert_eq!(v["irms_a"], 3.25);
        assert_eq!(v["clock_ppm"], 120.0);
        assert!(v["bound_pct"].is_null());
        assert!(v["bound_below_pct"].is_null());
    }
}
