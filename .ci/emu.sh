#!/usr/bin/env bash
# Firmware in the loop (ct-emu), run from the repository root (called by .ci/run).
#
# Builds both firmware profiles with the firmware's own commands (incremental: quick when
# .ci/firmware.sh already built them), copies the ELFs to firmware/target/ci/ as
# ct-firmware-<profile>.elf (where the tests look), then runs the emulator's tests: the
# lockstep comparison with `mspdebug sim`, the peripheral unit tests, and the golden
# waveforms through the release ELFs into the host decoder. A minute or two.
set -euo pipefail

root="$(pwd)"
fw="$root/firmware"
[[ -f "$fw/Cargo.toml" && -d "$root/emu" ]] || { echo "emu.sh: run from the repository root" >&2; exit 2; }
command -v mspdebug >/dev/null || { echo "emu.sh: mspdebug is needed (apt-get install mspdebug)" >&2; exit 1; }

rustup component add rust-src llvm-tools --toolchain nightly

out="$fw/target/ci"
mkdir -p "$out"
for profile in launchpad fast; do
  features=()
  [[ $profile == fast ]] && features=(--features fast)
  echo "== emu: firmware $profile (release)"
  (cd "$fw" && cargo +nightly build --release "${features[@]}")
  cp "$fw/target/msp430g2553/release/ct-firmware" "$out/ct-firmware-$profile.elf"
done

echo "== emu: cargo test --release -p ct-emu"
CT_FIRMWARE_DIR="$out" cargo test --release -p ct-emu
