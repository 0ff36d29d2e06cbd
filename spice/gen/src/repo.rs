//! The repository files spicegen reads and writes, writing them, and the ngspice version
//! stamped into them. Shared by the commands and the studies they run.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

/// Where the products live, from the repository root.
pub struct Paths {
    pub spice: PathBuf,
    pub golden: PathBuf,
    /// The default multi-frequency table.
    pub table: PathBuf,
    pub figures: PathBuf,
    pub results: PathBuf,
    pub sensitivity: PathBuf,
}

impl Paths {
    pub fn new(root: &Path) -> Paths {
        Paths {
            spice: root.join("spice"),
            golden: root.join("golden/data"),
            table: root.join("calibration/efergy-default.csv"),
            figures: root.join("spice/figures"),
            results: root.join("spice/results.md"),
            sensitivity: root.join("spice/sensitivity.md"),
        }
    }
}

/// "ngspice NN" as `ngspice -v` states it (or just "ngspice"), for the products' headers.
pub fn ngspice_version() -> String {
    Command::new("ngspice")
        .arg("-v")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .find(|w| w.starts_with("ngspice-"))
                .map(|w| w.replace('-', " "))
        })
        .unwrap_or_else(|| "ngspice".into())
}

/// Writes `text` to `path`, creating its directory.
pub fn write(path: &Path, text: &str) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| dir.display().to_string())?;
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}
