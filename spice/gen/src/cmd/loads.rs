//! `spicegen loads`: writes the goldens of [`crate::loadgen`] into golden/data/loads/, with
//! their manifest and README.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use rayon::prelude::*;

use crate::loadgen::{cases, manifest, run_case, LoadCase, Output, Sweep};

/// Generate everything into `golden/data/loads/` (or `out`; with `only`, just the cases
/// whose name contains it, and no manifest or README; with `sweep`, that sweep's cases, drawn
/// with its seed where it is drawn, instead of the goldens).
pub fn run(root: &Path, only: Option<&str>, out: Option<&Path>, sweep: Option<(Sweep, u64)>) -> Result<()> {
    let started = Instant::now();
    let spice_dir = root.join("spice");
    let dir = out.map_or_else(|| root.join("golden/data/loads"), Path::to_path_buf);
    std::fs::create_dir_all(&dir).with_context(|| dir.display().to_string())?;
    let all = sweep.map_or_else(cases, |(s, seed)| s.cases(seed));
    let manifest = manifest(&all)?;
    let cases: Vec<LoadCase> = all.iter().filter(|c| only.is_none_or(|o| c.name.contains(o))).cloned().collect();
    let bytes = simulate_and_write(&spice_dir, &dir, &cases)?;
    if only.is_none() {
        std::fs::write(dir.join("manifest.csv"), &manifest)?;
        if sweep.is_none() {
            std::fs::write(dir.join("README.md"), readme(&cases))?;
        }
    }
    eprintln!(
        "wrote {} cases ({:.1} MB) to {} in {:.0} s",
        cases.len(),
        bytes as f64 / 1e6,
        dir.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Simulates `cases` (longest first, on every core) and writes their files into `dir`;
/// returns the bytes written.
pub fn simulate_and_write(spice_dir: &Path, dir: &Path, cases: &[LoadCase]) -> Result<usize> {
    let mut order: Vec<usize> = (0..cases.len()).collect();
    order.sort_by(|&a, &b| cases[b].duration_s.total_cmp(&cases[a].duration_s));
    let outputs: Vec<(usize, Output)> = order
        .par_iter()
        .map(|&i| {
            let out = run_case(spice_dir, &cases[i])?;
            eprintln!(
                "{:<40} {:>6.1} s  {:>8} points  source error {:.2} of tolerance",
                cases[i].name, out.seconds, out.points, out.source_err
            );
            Ok((i, out))
        })
        .collect::<Result<_>>()?;
    let mut bytes = 0;
    for (_, out) in &outputs {
        for (name, text) in &out.files {
            let path = dir.join(name);
            std::fs::write(&path, text).with_context(|| path.display().to_string())?;
            bytes += text.len();
        }
    }
    Ok(bytes)
}

fn readme(cases: &[LoadCase]) -> String {
    let mut s = String::from(
        "# SPICE goldens of unseen load classes\n\n\
         **Generated; do not edit.** Regenerate with `cargo run -p spicegen --release -- loads` (from the \
         repository root, ngspice installed). The host estimator was never tuned on these: they measure how \
         it holds outside the periodic goldens of `golden/data/`.\n\n",
    );
    s.push_str(&readme_body(cases));
    s
}

/// The README's sections shared by every loads set: files, truth, manifest, and a row per case.
pub fn readme_body(cases: &[LoadCase]) -> String {
    let mut s = String::from(
        "## Files\n\n\
         Per case, two files of ADC-input voltages in **mV with 2 decimals**, one per firmware link profile, \
         sampled directly at its rate (no resampling by the tests):\n\n\
         - `<case>.launchpad.txt`: 1e6/1657 = 603.5 Sa/s;\n\
         - `<case>.fast.txt`: 1e6/122 = 8196.7 Sa/s.\n\n\
         Sample `k` is at record time `0.001234 + k / rate` s. Record time 0 is simulation time \
         `record_start_s` (manifest); the simulation before it (>= 10 mains cycles, >= 0.9 s for a clamp above 1 H) is \
         settling and discarded. Each file holds `floor((duration_s - 0.001234) * rate)` samples, so the last \
         sample's period ends inside the record. Headers are `# key: value` lines as in `golden/data/`.\n\n\
         ngspice runs the committed netlists (`spice/`) with the default parameters except `Lm` (manifest \
         column `lm_h`), with the internal step capped at 1/4000 of a mains cycle (5 us at 50 Hz) as for the \
         other goldens, and its output is interpolated linearly at the sample instants. The simulated primary \
         current was checked against the stimulus at every ngspice time point (within the simulator's \
         convergence tolerance, 2e-5 relative + 1 uA, beyond the 11-digit rounding of the printed times).\n\n\
         ## Truth\n\n\
         The true current comes from the **source definition**, never from the sensor model. Every case is a \
         sum of loads, each a product of piecewise-linear factors (envelopes, on/off gates) and a carrier (a \
         sine, or the switch-mode supply's periodic pulse shape). ngspice was given exactly that (a PWL or SIN \
         voltage source per factor, multiplied in a B source). `spicegen::stimulus::loads::load_case(kind, \
         mains_hz, params)` rebuilds it from the manifest row, and `Stimulus::mean_square(t0, t1)` integrates \
         its square exactly over any span: segment by segment between all knots, in closed form (polynomial x \
         sine products), with 16-point Gauss-Legendre on segments shorter than 0.5/(2 omega) where the closed \
         form would cancel (exact to rounding there). `true_rms_a` in the manifest is the RMS over the whole \
         record `[0, duration_s]`.\n\n\
         Parameter times (`at`, `on`, `off`, ...) are **simulation** seconds; subtract `record_start_s` for \
         record time. Sine carriers have phase 0 at simulation time 0 (voltage zero crossings at multiples of \
         half a cycle) unless `phase` is given. Every switching edge takes 1 us. The kinds and their parameters \
         are documented on `load_case`.\n\n\
         ## manifest.csv\n\n\
         `case,kind,mains_hz,lm_h,record_start_s,duration_s,first_sample_s,launchpad_file,launchpad_samples,\
         fast_file,fast_samples,true_rms_a,params` (`params`: space-separated `key=value`, lists `a/b/c`).\n\n\
         ## Cases\n\n| case | kind | Hz | Lm (H) | record (s) | what | params |\n|---|---|---|---|---|---|---|\n",
    );
    for c in cases {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | `{}` |",
            c.name, c.kind, c.hz, c.lm_h, c.duration_s, c.note, c.params
        );
    }
    s
}
