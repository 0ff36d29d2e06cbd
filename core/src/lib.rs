//! The meter's computation, with no I/O: what turns the device's bytes into readings.
//!
//! ```text
//! bytes -> decoder (COBS frames) -> meter (timeline: rate, gaps, restarts, session time)
//!       -> estimate (windows: mains frequency, RMS by the chosen method, power, energy, flags)
//! ```
//!
//! The estimation rests on one model of the clamp ([`clamp_model`]) and on algorithms kept one
//! per module, each with its theory and tests: [`fold`] (codes into phase bins), [`segment`]
//! (a window's cycles into level classes, switches), [`inversion`] (the clamp model run
//! backwards over a folded cycle), [`transient`] (a switching load read through the model in
//! time), [`least_squares`] (the dense solver), [`waveform_fit`] (the clamp model fitted to a
//! folded window), and the static [`calibration`] table. Sources (serial ports, captures, the
//! virtual device) and sinks (text, CSV, databases) live in `ct-host`, on top of this crate;
//! spicegen and the golden tests use it directly.

pub mod calibration;
pub mod clamp_model;
pub mod decoder;
pub mod estimate;
pub mod fold;
pub mod identify;
pub mod inversion;
pub mod least_squares;
pub mod load_shape;
pub mod meter;
pub mod model_table;
pub mod samples;
pub mod segment;
pub mod transient;
pub mod waveform_fit;
pub mod zero;
