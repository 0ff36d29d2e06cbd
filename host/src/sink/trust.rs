//! How far a reading can be trusted, as the sinks a person watches show it (Home Assistant over
//! MQTT, Prometheus): one error bound per reading (the wider side, and each side apart), the
//! sample clock's offset, and the flags by name.
//!
//! # Why a bound for every reading, not only the stated one
//! A reading states a bound of its own ([`Reading::bound_pct`]) only when it cannot promise
//! its usual target (flagged `changing` or `approx`, or a narrow waveform). A dashboard that
//! showed nothing the rest of the time would look broken, and a graph of it would be gaps; so
//! these sinks show what the reading is held to: its stated bound, else its usual target
//! ([`ct_core::bound::usual_target`], the one the record's energy bound uses too: 2 % from
//! 0.5 A, 5 % at 0.2-0.5 A). None where it is held to nothing relative: below the sensor's
//! rated 0.2 A, flagged `short` (too few cycles to state an accuracy), or `over_range` (the
//! current exceeded the clamp's range and the reading is only a lower bound).
//!
//! The flags' names are the core [`Flags`]' own field names (as the JSON object carries them),
//! taken from its serialization rather than typed again here.

use crate::estimate::{Flags, Reading};

/// The relative error (a fraction) the reading is held to: the wider side of
/// [`error_bounds`], one figure for a gauge or an entity's state.
pub fn error_bound(r: &Reading) -> Option<f64> {
    error_bounds(r).map(Bounds::wider)
}

/// How far above and below its truth a reading may be, fractions of the truth.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bounds {
    pub above: f64,
    pub below: f64,
}

impl Bounds {
    /// The wider side: one figure for a gauge or an entity's state.
    pub fn wider(self) -> f64 {
        self.above.max(self.below)
    }
}

/// The reading's bounds on each side: its stated bound ([`Reading::bound_pct`], and
/// [`Reading::bound_below_pct`] below where it states one apart: a window that showed only a
/// sliver of a new load may read it far lower than it draws, not as far higher), else the
/// usual target of its current on both; `None` where it is held to none (see the module's doc).
pub fn error_bounds(r: &Reading) -> Option<Bounds> {
    if r.flags.short || r.flags.over_range {
        return None;
    }
    match r.bound_pct {
        Some(pct) => Some(Bounds { above: pct / 100.0, below: r.bound_below_pct.unwrap_or(pct) / 100.0 }),
        None => ct_core::bound::usual_target(r.irms_a).map(|t| Bounds { above: t, below: t }),
    }
}

/// The sample clock's measured offset from its nominal rate, as a ratio (the device's rate is
/// the nominal times `1 + ratio`); `None` until the measurement settles.
pub fn clock_offset_ratio(r: &Reading) -> Option<f64> {
    r.clock_ppm.map(|ppm| ppm * 1e-6)
}

/// Each flag by its name in [`Flags`], with whether it is set, sorted by name.
pub fn flags(f: Flags) -> Vec<(String, bool)> {
    match serde_json::to_value(f) {
        Ok(serde_json::Value::Object(map)) => map.into_iter().map(|(k, v)| (k, v.as_bool() == Some(true))).collect(),
        _ => unreachable!("Flags serializes as an object of booleans"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(irms_a: f64, flags: Flags, bound_pct: Option<f64>) -> Reading {
        Reading {
            t_s: 1.0,
            duration_s: 1.0,
            samples: 8000,
            lost_samples: 0,
            irms_a,
            va: 230.0 * irms_a,
            watts: 230.0 * irms_a,
            kwh: 0.0,
            hz: Some(50.0),
            flags,
            zero_offset_codes: None,
            zero_corrected: true,
            clock_ppm: Some(-1500.0),
            bound_pct,
            bound_below_pct: None,
        }
    }

    /// The usual targets are the README's (*What it measures*: 2 % from 0.5 A, 5 % at 0.2-0.5 A,
    /// none below the rated 0.2 A); a stated bound wins; short and over-range readings have none.
    #[test]
    fn the_bound_is_the_stated_one_else_the_usual_target() {
        let clean = Flags::default();
        assert_eq!(error_bound(&reading(9.0, clean, None)), Some(0.02));
        assert_eq!(error_bound(&reading(0.3, clean, None)), Some(0.05));
        assert_eq!(error_bound(&reading(0.1, Flags { low: true, ..clean }, None)), None);
        let changing = Flags { changing: true, ..clean };
        assert_eq!(error_bound(&reading(9.0, changing, Some(14.5))), Some(0.145));
        // Two sides: the wider one.
        let sided = |below| Reading { bound_below_pct: Some(below), ..reading(9.0, changing, Some(14.5)) };
        assert_eq!(error_bound(&sided(60.0)), Some(0.6));
        assert_eq!(error_bound(&sided(10.0)), Some(0.145));
        // Each side apart.
        assert_eq!(error_bounds(&sided(60.0)), Some(Bounds { above: 0.145, below: 0.6 }));
        assert_eq!(error_bounds(&reading(9.0, changing, Some(14.5))), Some(Bounds { above: 0.145, below: 0.145 }));
        assert_eq!(error_bounds(&reading(0.3, clean, None)), Some(Bounds { above: 0.05, below: 0.05 }));
        assert_eq!(error_bound(&reading(9.0, Flags { short: true, ..clean }, None)), None);
        assert_eq!(error_bound(&reading(40.0, Flags { over_range: true, ..changing }, Some(9.0))), None);
        assert_eq!(clock_offset_ratio(&reading(9.0, clean, None)), Some(-0.0015));
    }

    /// Every field of `Flags` (one set at a time) comes out under its own name, and only it.
    #[test]
    fn flags_come_by_their_field_names() {
        let names = ["approx", "changing", "gap", "low", "over_range", "short"];
        assert_eq!(flags(Flags::default()).iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), names);
        assert!(flags(Flags::default()).iter().all(|(_, set)| !set));
        let f = Flags { approx: true, gap: true, ..Flags::default() };
        let set: Vec<String> = flags(f).into_iter().filter(|(_, s)| *s).map(|(n, _)| n).collect();
        assert_eq!(set, ["approx", "gap"]);
    }
}
