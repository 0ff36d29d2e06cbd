//! The meter's computation, with no I/O: what turns the device's bytes into readings.
//!
//! ```text
//! bytes -> decoder (COBS frames) -> timeline (rate, gaps, restarts, duplicates, session time)
//! code rows ----------------------------^   |-> runs of samples: plots, the raw export
//!                                           '-> meter: estimate (windows: mains frequency, RMS
//!                                               by the chosen method, power, energy, flags)
//! ```
//!
//! Every source (a serial port, a capture, a recorded stream, a CSV of codes) goes through the
//! one [`timeline::Timeline`], so readings, plots and exports of one recording share one time
//! axis and one account of what was lost.
//!
//! The estimation rests on one model of the clamp ([`clamp_model`]) and on algorithms kept one
//! per module, each with its theory and tests: [`fold`] (codes into phase bins), [`segment`]
//! (a window's cycles into level classes, switches), [`tail`] (a load that started in a window's
//! last partial cycle), [`partial_start`] (such a cycle read
//! through the model in time), [`inversion`] (the clamp model run
//! backwards over a folded cycle), [`level_trend`] (a moving level taken out before a
//! fold of twelve samples a cycle), [`transient`] (a switching load read through the model in
//! time), [`burst_fit`] (a burst-fire heater's single cycles, from rest or one in every few, fitted
//! sample by sample),
//! [`least_squares`] (the dense solver), [`waveform_fit`] (the clamp model fitted to a
//! folded window), the static [`calibration`] table, [`unseen`] (what that table can make of a waveform the
//! samples do not show), [`sample_clock`] (the device's
//! sample rate measured from receive times) and [`mains_hz`] (the mains frequency, over the
//! last seconds of the stream). Sources (serial ports, captures, the
//! virtual device) and sinks (text, CSV, databases) live in `ct-host`, on top of this crate;
//! spicegen and the golden tests use it directly.

pub mod bound;
pub mod burst_fit;
pub mod calibration;
pub mod clamp_model;
pub mod decoder;
mod edge;
pub mod estimate;
pub mod fold;
pub mod identify;
pub mod inversion;
pub mod least_squares;
pub mod level_trend;
pub mod load_shape;
pub mod mains_hz;
pub mod meter;
pub mod model_table;
pub mod partial_start;
pub mod pattern;
pub mod phase_dispersion;
pub mod sample_clock;
pub mod segment;
pub mod tail;
pub mod timeline;
pub mod transient;
pub mod unseen;
pub mod waveform_fit;
pub mod zero;
