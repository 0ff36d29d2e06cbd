//! The source current of each steady-state golden case, as the SPICE generator defined it
//! (`spicegen::stimulus`, the same code that wrote the SPICE sources), so the host's forward
//! model of the clamp can be fed exactly what ngspice was fed.

use spicegen::stimulus::{self, Stimulus};

use crate::Case;

/// Points per cycle of the generator's piecewise-linear sources (`spice/gen/src/golden.rs`).
const SOURCE_POINTS_PER_CYCLE: usize = 400;

/// The source of a steady-state case; `None` for kinds without one here (the step).
pub fn source(case: &Case) -> Option<Stimulus> {
    let (irms, hz) = (case.true_rms_a, case.mains_hz);
    match case.kind.as_str() {
        "sine" | "zero" => Some(Stimulus::Sine { irms, hz }),
        "smps" => Some(stimulus::smps(irms, hz, SOURCE_POINTS_PER_CYCLE)),
        "dimmer" if case.case.starts_with("dimmer90") => {
            Some(stimulus::dimmer(irms, hz, 90.0, SOURCE_POINTS_PER_CYCLE))
        }
        _ => None,
    }
}
