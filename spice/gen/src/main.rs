//! `spicegen`: regenerates the Efergy CT simulation products from the committed netlists.
//!
//! * `spicegen all` — the multi-frequency calibration table, golden waveforms, figures,
//!   spice/results.md and spice/sensitivity.md;
//! * `spicegen check` — regenerates goldens (and with `--full` the table) in memory and fails on
//!   drift from the committed files, or if the committed table misses the accuracy targets;
//! * `spicegen sensitivity` — how readings with the default table move when the sensor departs
//!   from the model, and what two or three resistive reference points identify and recover
//!   (spice/sensitivity.md);
//! * `spicegen table` — a table for another coil;
//! * `spicegen loads` — goldens of non-periodic and unseen load classes (golden/data/loads/);
//! * `spicegen loads-random` — the same classes with randomized parameters, split into a dev and
//!   a held-out half (golden/data/loads-random/).
//!
//! Each subcommand is a module of [`cmd`]. Everything goes through ngspice in batch mode; there
//! are no hand steps.

mod calibrate;
mod cmd;
mod figures;
mod golden;
mod loadgen;
mod model;
mod ngspice;
mod randgen;
mod repo;
mod report;
mod sensitivity;
mod sim;
use spicegen::stimulus;
mod table;
mod trace;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(version, about = "Regenerate the Efergy CT SPICE goldens, calibration and figures")]
struct Cli {
    /// Repository root (defaults to the one this binary was built from).
    #[arg(long, global = true)]
    root: Option<PathBuf>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Regenerate everything: table, goldens, manifest, figures, spice/results.md,
    /// spice/sensitivity.md.
    All,
    /// Regenerate a subset of the goldens (all of them and the table with --full), compare
    /// with the committed files, and check the committed table's inversion accuracy.
    Check {
        /// Also regenerate every column of the calibration table and every golden case (slow).
        #[arg(long)]
        full: bool,
    },
    /// Fit a table for another coil (e.g. a magnetizing inductance measured at mains frequency)
    /// and print its inversion errors; writes only the file given.
    Table {
        /// Magnetizing inductance, henries.
        #[arg(long, default_value_t = 0.6)]
        lm: f64,
        /// Winding resistance, ohms.
        #[arg(long, default_value_t = 52.5)]
        rw: f64,
        /// Mains frequencies, Hz, one table column each (comma-separated).
        #[arg(long, value_delimiter = ',', default_values_t = [45.0, 50.0, 55.0, 60.0, 65.0])]
        hz: Vec<f64>,
        /// Output CSV (ct-calibration v1).
        #[arg(long)]
        out: PathBuf,
    },
    /// Simulate perturbed sensors (turns ratio, Lm, Rw, diode spread, bias) at sines, a
    /// switch-mode supply and a dimmer, read them with the default table as the host does,
    /// identify each clamp from two and from three sines, write spice/sensitivity.md.
    Sensitivity,
    /// Goldens of load classes the estimator has not seen (burst-fire, inrush, steps, ramps,
    /// dimmers, other Lm, a mixed household record), sampled at both firmware rates, into
    /// golden/data/loads/.
    Loads {
        /// Only the cases whose name contains this (no manifest or README is written).
        #[arg(long)]
        only: Option<String>,
        /// Output directory instead of golden/data/loads/.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Instead of the goldens, a sweep over where in the cycle a load switches (needs
        /// --out; each about 2 minutes): `step-phases`, a step up and a step down at each of 16
        /// phases; `inrush-phases`, a motor switched on and off at each of 16 phases, with and
        /// without inrush; `single-cycle-bursts`, 16 heaters of single cycles at drawn
        /// frequencies, currents and rests, and 4 more through clamps of other inductances
        /// with their calibration records; `one-on-few-off`, the same with one to three
        /// cycles off and 1-40 A; `households`, four 60 s household records at 49.8-50.2 and
        /// 59.8-60.2 Hz (about 4 minutes each).
        #[arg(long, value_enum, requires = "out")]
        sweep: Option<loadgen::Sweep>,
        /// Seed of a drawn sweep's draws (`single-cycle-bursts`, `one-on-few-off`,
        /// `households`; others are fixed).
        #[arg(long, default_value_t = randgen::DEFAULT_SEED, requires = "sweep")]
        seed: u64,
    },
    /// Loads goldens with parameters drawn from a seeded distribution (spice/gen/src/randgen.rs),
    /// even draws into dev/, odd into heldout/ of golden/data/loads-random/.
    LoadsRandom {
        /// Seed of the draws.
        #[arg(long, default_value_t = randgen::DEFAULT_SEED)]
        seed: u64,
        /// Number of draws (even: they alternate between the halves).
        #[arg(long, default_value_t = 2 * randgen::SLOTS.len())]
        count: usize,
        /// Output directory instead of golden/data/loads-random/.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let root = cli.root.unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.."));
    // Canonical, so messages name files as a reader would (no "spice/gen/../..").
    let root = root.canonicalize().unwrap_or(root);
    let result = match cli.cmd {
        Cmd::All => cmd::all::run(&root).map(|()| true),
        Cmd::Check { full } => cmd::check::run(&root, full),
        Cmd::Table { lm, rw, hz, out } => cmd::table::run(&root, lm, rw, &hz, &out),
        Cmd::Sensitivity => cmd::sensitivity::run(&root).map(|()| true),
        Cmd::Loads { only, out, sweep, seed } => {
            cmd::loads::run(&root, only.as_deref(), out.as_deref(), sweep.map(|s| (s, seed))).map(|()| true)
        }
        Cmd::LoadsRandom { seed, count, out } => {
            cmd::loads_random::run(&root, seed, count, out.as_deref()).map(|()| true)
        }
    };
    match result.context("spicegen failed") {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
