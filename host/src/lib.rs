//! Host side of the Efergy CT meter: the sources, sinks and commands around the pure
//! computation of `ct-core` (whose modules are re-exported here under their own names).
//!
//! Bytes from the serial port go through [`decoder::Decoder`] (COBS frames, resync on
//! corruption) into [`timeline::Timeline`] (sample rate from Info frames, gaps, resets,
//! duplicates, session time), which [`meter::Meter`] feeds to an [`estimate::Estimator`] that
//! inverts each sample through a [`calibration::Calibration`] table and
//! reports RMS current, power, energy and mains frequency per window. `sim` is the built-in
//! virtual device and the emulated firmware (the `ct-sim` crate, re-exported with the default
//! `sim` feature); [`serial`] the port handling; [`input`] reads recorded streams and CSV
//! files of raw codes. [`capture`] is the recording format (bytes with receive times),
//! [`clock`] the one rule that gives readings their wall-clock time, live or replayed, and
//! [`replay`] re-processes any recording (readings, or the timeline's runs of samples).
//!
//! Readings go to [`sink`]s (text, JSON, CSV, SQLite, each a [`sink::ReadingSink`]); everything
//! else the user is told is a [`notice::Notice`]. [`plot`] draws recordings and [`export`]
//! writes their raw samples. [`cmd`] holds each `ct-read` subcommand as a library function, so
//! the binary only parses arguments and the commands are tested in-process.

pub use ct_core::{
    calibration, clamp_model, decoder, estimate, fold, identify, inversion, load_shape, meter, sample_clock, segment,
    timeline, transient, waveform_fit, zero,
};

pub mod calibrate;
pub mod capture;
pub mod clock;
pub mod cmd;
pub mod config;
pub mod export;
pub mod input;
pub mod lifetime;
pub mod notice;
pub mod place;
pub mod plot;
pub mod replay;
pub mod serial;
#[cfg(feature = "sim")]
pub use ct_sim as sim;
pub mod sink;
