//! The part of `spicegen` other crates use: the primary-current waveforms the goldens were made
//! from, so the golden tests can feed the host's own clamp model exactly what ngspice was fed.

pub mod stimulus;
