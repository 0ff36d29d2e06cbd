#!/usr/bin/env bash
# Regenerate a subset of the SPICE golden waveforms with ngspice and compare them with the
# committed ones (tolerance 0.5 mV); also check that the committed calibration tables invert the
# regenerated waveforms within the accuracy targets. ngspice comes from .ci/run.
# Full regeneration (both tables, every case, figures) is `cargo run -p spicegen --release -- all`;
# `-- check --full` compares all of it (a few minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v ngspice >/dev/null || { echo "ngspice not installed (apt-get install ngspice)" >&2; exit 1; }
cargo run -q -p spicegen --release -- check
