//! `spicegen`: regenerates the Efergy CT simulation products from the committed netlists.
//!
//! * `spicegen all` — calibration tables, golden waveforms, figures and spice/results.md;
//! * `spicegen check` — regenerates tables and goldens in memory and fails on drift from the
//!   committed files, or if the committed tables miss the accuracy targets.
//!
//! Everything goes through ngspice in batch mode; there are no hand steps.

mod calibrate;
mod figures;
mod golden;
mod model;
mod ngspice;
mod report;
mod sim;
mod stimulus;
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
    /// Regenerate everything: tables, goldens, manifest, figures, spice/results.md.
    All,
    /// Regenerate a subset of the goldens (all of them and both tables with --full), compare
    /// with the committed files, and check the committed tables' inversion accuracy.
    Check {
        /// Also regenerate both calibration tables and every golden case (slow).
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
        /// Mains frequency, Hz.
        #[arg(long, default_value_t = 50.0)]
        hz: f64,
        /// Output CSV (ct-calibration v1).
        #[arg(long)]
        out: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let root = cli.root.unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.."));
    // Canonical, so messages name files as a reader would (no "spice/gen/../..").
    let root = root.canonicalize().unwrap_or(root);
    let result = match cli.cmd {
        Cmd::All => report::all(&root).map(|()| true),
        Cmd::Check { full } => report::check(&root, full),
        Cmd::Table { lm, rw, hz, out } => report::custom_table(&root, lm, rw, hz, &out),
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
