#!/usr/bin/env bash
# Firmware in the loop (ct-emu), run from the repository root (called by .ci/run).
#
# Builds both firmware profiles with the firmware's own commands (incremental: quick when
# .ci/firmware.sh already built them), copies the ELFs to firmware/target/ci/ as
# ct-firmware-<profile>.elf (where the tests look), then runs the emulator's tests (ct-emu:
# the lockstep comparison with `mspdebug sim`, the peripheral unit tests, the register bits)
# and the simulator's (ct-sim: the golden waveforms through the release ELFs into the host
# decoder, the virtual device). A minute or two.
set -euo pipefail

root="$(pwd)"
fw="$root/firmware"
[[ -f "$fw/Cargo.toml" && -d "$root/emu" ]] || { echo "emu.sh: run from the repository root" >&2; exit 2; }
command -v mspdebug >/dev/null || { echo "emu.sh: mspdebug is needed (apt-get install mspdebug)" >&2; exit 1; }

rustup component add rust-src llvm-tools --toolchain nightly

out="$fw/target/ci"
mkdir -p "$out"
# Sources the ELFs are built from: when .ci/firmware.sh has just built and copied both (as in
# .ci/run), nothing here is newer and the two feature-switching rebuilds are skipped.
sources=("$fw/src" "$fw/logic/src" "$fw/Cargo.toml" "$fw/Cargo.lock" "$fw/logic/Cargo.toml" "$fw/memory.x" "$fw/msp430g2553.json" "$fw/.cargo" "$fw/build.rs" "$fw/rust-toolchain.toml" "$root/wire/src" "$root/wire/Cargo.toml")
for profile in launchpad fast; do
  elf="$out/ct-firmware-$profile.elf"
  if [[ -f $elf && -z $(find "${sources[@]}" -newer "$elf" -print -quit) ]]; then
    echo "== emu: firmware $profile: $elf is up to date"
    continue
  fi
  features=()
  [[ $profile == fast ]] && features=(--features fast)
  echo "== emu: firmware $profile (release)"
  (cd "$fw" && cargo +nightly build --release "${features[@]}")
  cp "$fw/target/msp430g2553/release/ct-firmware" "$elf"
done

echo "== emu: cargo test --release -p ct-emu -p ct-sim"
CT_FIRMWARE_DIR="$out" cargo test --release -p ct-emu -p ct-sim
