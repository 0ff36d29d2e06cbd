//! The line a person reads: time, A, W, kWh, Hz, flags, the reading's stated bound.

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
    // The bound a reading states for its own error, when it is not the usual target; the two
    // sides where it can read further high than low.
    let bound = match (r.bound_pct, r.bound_below_pct) {
        (Some(b), Some(below)) => format!(" +{b:.1}/-{below:.1} %"),
        (Some(b), None) => format!(" ±{b:.1} %"),
        (None, _) => String::new(),
    };
    format!(
        "{time}  {:>7} A  {:>7} W  {:>10} kWh  {hz}{}{flags}{bound}{zero}",
        significant(r.irms_a, 4),
        significant(r.watts, 4),
        format!("{:.5}", r.kwh),
        if flags.is_empty() && bound.is_empty() { "" } else { "  " }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estimate::Flags;

    fn reading(bound_pct: Option<f64>) -> Reading {
        Reading {
            t_s: 3.0,
            duration_s: 1.0,
            samples: 8197,
            lost_samples: 0,
            irms_a: 4.0,
            va: 920.0,
            watts: 920.0,
            kwh: 0.001,
            hz: Some(50.0),
            flags: Flags { changing: bound_pct.is_some(), ..Flags::default() },
            zero_offset_codes: None,
            zero_corrected: true,
            clock_ppm: None,
            bound_pct,
            bound_below_pct: None,
        }
    }

    /// The bound a reading states follows its flags; a reading stating none shows none, and
    /// JSON carries it as `bound_pct` (null for none).
    #[test]
    fn a_stated_bound_is_shown() {
        assert_eq!(
            text_line(&reading(Some(14.25)), None),
            "t=      3.0 s    4.000 A    920.0 W     0.00100 kWh   50.00 Hz  changing ±14.2 %"
        );
        let sided = Reading { bound_below_pct: Some(90.0), ..reading(Some(349.1)) };
        assert!(text_line(&sided, None).ends_with("changing +349.1/-90.0 %"), "{}", text_line(&sided, None));
        // A sliver of a new load in the window's tail: further low than high.
        let tail = Reading { bound_below_pct: Some(61.5), ..reading(Some(112.0)) };
        assert!(text_line(&tail, None).ends_with("changing +112.0/-61.5 %"), "{}", text_line(&tail, None));
        assert_eq!(text_line(&reading(None), None), "t=      3.0 s    4.000 A    920.0 W     0.00100 kWh   50.00 Hz");
        assert_eq!(super::super::json::json_value(&reading(Some(14.25)), None, "m")["bound_pct"], 14.25);
        assert!(super::super::json::json_value(&reading(None), None, "m")["bound_pct"].is_null());
    }
}
