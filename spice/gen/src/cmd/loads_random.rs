//! `spicegen loads-random`: writes the randomized goldens of [`crate::randgen`] into
//! golden/data/loads-random/{dev,heldout}/, each half with its manifest and README.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context, Result};

use crate::cmd::loads::{readme_body, simulate_and_write};
use crate::loadgen::{manifest, LoadCase};
use crate::randgen::{cases, Half, DISTRIBUTION, SLOTS};

/// Draws `0..count` of `seed` into `out` (default golden/data/loads-random/).
pub fn run(root: &Path, seed: u64, count: usize, out: Option<&Path>) -> Result<()> {
    if count == 0 || count % 2 != 0 {
        bail!("--count must be even and positive (draws alternate between the dev and held-out halves), got {count}");
    }
    let started = Instant::now();
    let spice_dir = root.join("spice");
    let base = out.map_or_else(|| root.join("golden/data/loads-random"), Path::to_path_buf);
    let all = cases(seed, count);
    let mut bytes = 0;
    for half in [Half::Dev, Half::HeldOut] {
        let dir = base.join(half.dir());
        std::fs::create_dir_all(&dir).with_context(|| dir.display().to_string())?;
        let these: Vec<LoadCase> = all.iter().filter(|c| c.0 == half).map(|c| c.1.clone()).collect();
        bytes += simulate_and_write(&spice_dir, &dir, &these)?;
        std::fs::write(dir.join("manifest.csv"), manifest(&these)?)?;
        std::fs::write(dir.join("README.md"), readme(seed, count, half, &these))?;
    }
    eprintln!(
        "wrote {} cases ({:.1} MB) to {} in {:.0} s",
        all.len(),
        bytes as f64 / 1e6,
        base.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn readme(seed: u64, count: usize, half: Half, cases: &[LoadCase]) -> String {
    let (this, other) = match half {
        Half::Dev => ("dev", "heldout"),
        Half::HeldOut => ("held-out", "dev"),
    };
    let mut s = String::new();
    let _ = write!(
        s,
        "# Randomized loads goldens: the {this} half\n\n\
         **Generated; do not edit.** Regenerate with `cargo run -p spicegen --release -- loads-random --seed {seed} \
         --count {count}` (from the repository root, ngspice installed; writes this directory and `../{other}/`).\n\n\
         Load parameters nobody chose, to measure the estimator on what it was not developed on. The distribution \
         and the split were fixed before any result was looked at: draw `d` = 0..{count} is of class \
         `SLOTS[(d / 2) % {}]` (`spice/gen/src/randgen.rs`) and its own generator \
         (`XorShiftRng::seed_from_u64(seed ^ (d * 0x9E3779B97F4A7C15))`, seed **{seed}**); even draws are the \
         **dev** half (what fixes may be checked on), odd draws the **held-out** half (looked at only to report, \
         never to tune). Case names start with `r<d>`.\n\n\
         ## Distribution\n\n{DISTRIBUTION}\n\n",
        SLOTS.len()
    );
    s.push_str(&readme_body(cases));
    s
}
