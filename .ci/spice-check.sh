#!/usr/bin/env bash
# Regenerate a subset of the SPICE golden waveforms with ngspice and compare them with the
# committed ones (tolerance 0.5 mV); also check that the committed multi-frequency calibration
# table (calibration/efergy-default.csv, columns 45-65 Hz) loads under the host's rules and,
# interpolated at each case's frequency as the host does, inverts the regenerated waveforms and
# sines midway between its columns within the accuracy targets (~10 s after the build).
# ngspice comes from .ci/run.
# Full regeneration (every table column, every case, figures, spice/sensitivity.md) is
# `cargo run -p spicegen --release -- all`; `-- check --full` compares all of it (a few minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v ngspice >/dev/null || { echo "ngspice not installed (apt-get install ngspice)" >&2; exit 1; }
cargo run -q -p spicegen --release -- check
