//! The subcommands of `ct-read`, one module each, as library functions: the binary parses
//! arguments and calls one of these, and tests (or a service embedding the meter) call them
//! in-process, with their own sinks and stop flag instead of a terminal and Ctrl-C.
//!
//! Each takes its options as a plain struct (already validated by whoever parsed them), the
//! calibration table and estimator settings, and where its output goes: a
//! [`ReadingSink`](crate::sink::ReadingSink) for readings and notices (`live`, `analyze`), or a
//! callback for the notices of commands that write files (`plot`, `export`, `calibrate`,
//! `virtual-device`). Commands that can run for long take an `&AtomicBool` that stops them
//! the way Ctrl-C does.

pub mod analyze;
pub mod calibrate;
#[cfg(feature = "sim")]
pub mod doctor;
pub mod energy;
pub mod export;
// Live reading falls back to the virtual device when no port is given, so it comes with it.
#[cfg(feature = "sim")]
pub mod live;
pub mod plot;
#[cfg(feature = "sim")]
pub mod virtual_device;

#[cfg(all(test, feature = "sim"))]
pub(crate) mod fixtures;

use std::path::PathBuf;

/// Why a command failed. Wrapped errors keep their own message and cause chain.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Sink(#[from] crate::sink::SinkError),
    #[error(transparent)]
    Serial(#[from] crate::serial::SerialError),
    #[error(transparent)]
    Capture(#[from] crate::capture::CaptureError),
    #[error(transparent)]
    Timeline(#[from] crate::timeline::TimelineError),
    #[error(transparent)]
    Replay(#[from] crate::replay::ReplayError),
    #[error(transparent)]
    Plot(#[from] crate::plot::PlotError),
    #[error(transparent)]
    Csv(#[from] crate::sink::csv::CsvError),
    #[error(transparent)]
    Sqlite(#[from] crate::sink::sqlite::SqliteError),
    #[error(transparent)]
    State(#[from] crate::lifetime::StateError),
    #[error(transparent)]
    Remote(#[from] crate::sink::remote::RemoteError),
    #[error(
        "{path}: this input has no wall-clock times, so its readings have no time in a database\n\
         help: record with `ct-read record` (captures keep receive times)"
    )]
    NoTime { path: PathBuf },
    #[error(transparent)]
    Calibrate(#[from] crate::calibrate::CalibrateError),
    #[error("reading {}", path.display())]
    ReadFirmware {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[cfg(feature = "sim")]
    #[error("loading {} into the emulator", path.display())]
    LoadFirmware {
        path: PathBuf,
        #[source]
        source: ct_emu::EmuError,
    },
    #[error("starting the virtual device")]
    StartDevice(#[source] std::io::Error),
    #[error("writing the output")]
    Output(#[source] std::io::Error),
    /// The input gave no reading at all: an empty file, or nothing the meter could decode. A
    /// command that silently produced nothing would look like a recording with no load.
    #[error("no samples in {}", path.display())]
    NoSamples { path: PathBuf },
}
