//! Steady-state simulations of the whole chain, resampled on a mains-locked grid.
//!
//! Every run first simulates `settle_cycles` whole cycles and discards them: the magnetizing
//! inductance picks up a DC current (the burden clamps the two half-cycles differently, so the
//! volt-seconds only balance once Lm carries an offset), and that takes several cycles to settle.
//! Sampling then starts exactly at a cycle boundary, i.e. at phase 0 of the source current.

use std::path::Path;

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

use crate::model::ModelParams;
use crate::ngspice::{simulate, Run};
use crate::stimulus::Stimulus;

/// Cycles simulated and thrown away before sampling. With the default coil the peak ADC voltage
/// stops changing (to 0.001 mV) after 6 cycles even at 95 A; 10 leaves margin, and every golden
/// record's first-to-last-cycle change is checked ([`Record::settling_mv`]).
pub const SETTLE_CYCLES: u32 = 10;

/// Internal time-step cap as a fraction of the mains period: 1/4000 (5 us at 50 Hz) keeps the
/// linear resampling error far below 0.01 mV.
pub const STEPS_PER_CYCLE: f64 = 4000.0;

/// Uniform samples of the interesting nodes over whole cycles.
#[derive(Debug, Clone)]
pub struct Record {
    pub stimulus: Stimulus,
    pub points_per_cycle: usize,
    pub cycles: usize,
    /// Primary current (A), from the simulator's sense source.
    pub primary_a: Vec<f64>,
    /// Voltage across the CT secondary network, hot - cold (V).
    pub ct_v: Vec<f64>,
    /// Voltage after the in-line diode (its cathode), to ground (V).
    pub diode_v: Vec<f64>,
    /// ADC input voltage (V).
    pub adc_v: Vec<f64>,
}

impl Record {
    /// Largest change of the ADC voltage between the first and last recorded cycle (mV): how far
    /// from steady state the record is. Meaningless for the step case.
    pub fn settling_mv(&self) -> f64 {
        let n = self.points_per_cycle;
        if self.cycles < 2 {
            return 0.0;
        }
        let last = (self.cycles - 1) * n;
        (0..n).map(|k| (self.adc_v[k] - self.adc_v[last + k]).abs() * 1000.0).fold(0.0, f64::max)
    }
}

/// What to simulate and how to sample it.
#[derive(Debug, Clone)]
pub struct Job {
    pub params: ModelParams,
    pub stimulus: Stimulus,
    pub settle_cycles: u32,
    pub cycles: usize,
    pub points_per_cycle: usize,
}

impl Job {
    pub fn new(params: ModelParams, stimulus: Stimulus, cycles: usize, ppc: usize) -> Job {
        Job { params, stimulus, settle_cycles: SETTLE_CYCLES, cycles, points_per_cycle: ppc }
    }
}

/// Simulate one job and resample it.
pub fn run_job(spice_dir: &Path, job: &Job) -> Result<Record> {
    let period = 1.0 / job.stimulus.hz();
    let t0 = f64::from(job.settle_cycles) * period;
    let n = job.cycles * job.points_per_cycle;
    let dt = period / job.points_per_cycle as f64;
    // One extra sample period so the last sample is strictly inside the run.
    let stop = t0 + (n as f64 + 1.0) * dt;
    let run =
        Run { params: job.params, stimulus: job.stimulus.clone(), stop_s: stop, max_step_s: period / STEPS_PER_CYCLE };
    let trace = simulate(spice_dir, &run).with_context(|| format!("simulating {:?}", job.stimulus_label()))?;
    let get = |name: &str| {
        trace.resample(name, t0, dt, n).with_context(|| format!("ngspice output lacks {name} over the sampling window"))
    };
    let hot = get("v(hot)")?;
    let cold = get("v(cold)")?;
    let rec = Record {
        stimulus: job.stimulus.clone(),
        points_per_cycle: job.points_per_cycle,
        cycles: job.cycles,
        primary_a: get("i(v.xct.vsense)")?,
        ct_v: hot.iter().zip(&cold).map(|(h, c)| h - c).collect(),
        diode_v: get("v(xif.d)")?,
        adc_v: get("v(adc)")?,
    };
    if rec.adc_v.iter().any(|v| !v.is_finite()) {
        bail!("non-finite ADC voltage in {}", job.stimulus_label());
    }
    Ok(rec)
}

impl Job {
    fn stimulus_label(&self) -> String {
        format!(
            "{:.4} A RMS at {} Hz ({})",
            self.stimulus.true_rms(),
            self.stimulus.hz(),
            match self.stimulus {
                Stimulus::Sine { .. } => "sine",
                Stimulus::Periodic { .. } => "periodic",
                Stimulus::Step { .. } => "step",
                Stimulus::Mix { .. } => "mix",
            }
        )
    }
}

/// Run many jobs on all cores, with a progress bar on stderr.
pub fn run_jobs(spice_dir: &Path, jobs: &[Job], what: &str) -> Result<Vec<Record>> {
    let bar = ProgressBar::new(jobs.len() as u64);
    if let Ok(style) = ProgressStyle::with_template("{msg:>24} [{bar:40}] {pos}/{len} ngspice runs ({elapsed})") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_owned());
    let out: Result<Vec<Record>> = jobs
        .par_iter()
        .map(|job| {
            let r = run_job(spice_dir, job);
            bar.inc(1);
            r
        })
        .collect();
    bar.finish();
    out
}
