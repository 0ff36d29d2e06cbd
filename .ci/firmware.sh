#!/usr/bin/env bash
# Firmware CI, run from the repository root (called by .ci/run; mspdebug is installed there).
#
# 1. rustfmt, and host tests of the firmware's pure logic (stable toolchain, x86_64: EABI helpers
#    exhaustively, sampler, streaming state machine decoded with ct-wire, profiles);
# 2. release builds of both profiles (nightly, -Zbuild-std=core, custom target, rust-lld);
# 3. budgets per ELF: flash <= 8 KB, .data + .bss leaving >= 160 B of the 512 B RAM, and the
#    worst-case stack depth (from the disassembly) fitting in what is left, and no EABI
#    helper calling itself or another helper (.ci/firmware/stack.py);
# 4. the vector table: reset vector at 0xFFFE -> Reset, ADC10 and USCIAB0TX -> their stubs,
#    USCIAB0RX -> the receive handler;
# 5. `mspdebug sim "prog <elf>"` loads it, and the start-up code (Reset, .bss/.data, main)
#    runs to the erased-calibration fault handler (the simulator's info flash reads 0xFF);
#    with a factory-like TLV segment written in, the registers get the specified values,
#    nothing is sent until the host's Start goes in through injected receive interrupts, then
#    the Info frame and the ADC calibration frame (checksum verified) go out byte for byte, and 112 injected ADC10 interrupts (only the last one
#    waking the CPU) produce a correct first Samples frame; the simulator's cycle counts bound
#    the CPU load
#    (.ci/firmware/sim_boot.py).
set -euo pipefail

root="$(pwd)"
fw="$root/firmware"
[[ -f "$fw/Cargo.toml" ]] || { echo "firmware.sh: run from the repository root" >&2; exit 2; }

# RUSTUP_AUTO_INSTALL=0 on CI: install what the device build needs explicitly.
rustup component add rust-src llvm-tools --toolchain nightly

host="$(rustc +stable -vV | sed -n 's/^host: //p')"
tools="$(rustc +nightly --print sysroot)/lib/rustlib/$(rustc +nightly -vV | sed -n 's/^host: //p')/bin"
for t in llvm-size llvm-nm llvm-objdump; do
  [[ -x "$tools/$t" ]] || { echo "firmware.sh: $tools/$t missing (llvm-tools component)" >&2; exit 1; }
done

# Formatting of the firmware crates only: `cargo fmt --all` here would also format the root
# workspace through the ct-wire path dependency.
echo "== firmware: rustfmt"
rustup component add rustfmt --toolchain stable
(cd "$fw" && cargo +stable fmt -p ct-firmware -p ct-firmware-logic -- --check)

echo "== firmware: host tests (firmware/logic, stable, $host)"
(cd "$fw/logic" && cargo +stable test --target "$host")

out="$fw/target/ci"
mkdir -p "$out"

flash_budget=8192
ram=512
stack_min=160
fail=0

check_elf() {
  local profile="$1" elf="$2"
  echo "== firmware: $profile: $(basename "$elf")"
  "$tools/llvm-size" -A "$elf" | grep -E '^(\.vector_table|\.text|\.rodata|\.data|\.bss) '

  local flash static
  flash=$("$tools/llvm-size" -A "$elf" | awk '$1 ~ /^\.(vector_table|text|rodata|data)$/ { s += $2 } END { print s }')
  static=$("$tools/llvm-size" -A "$elf" | awk '$1 ~ /^\.(data|bss)$/ { s += $2 } END { print s }')
  echo "flash: $flash B of $flash_budget B budget (16384 B on the chip)"
  echo "RAM:   $static B static (.data + .bss), $((ram - static)) B left for the stack (>= $stack_min required)"
  if (( flash > flash_budget )); then
    echo "FAIL: $profile flash $flash B > $flash_budget B" >&2; fail=1
  fi
  if (( ram - static < stack_min )); then
    echo "FAIL: $profile leaves $((ram - static)) B for the stack, < $stack_min B" >&2; fail=1
  fi

  local dis="$out/$profile.s"
  "$tools/llvm-objdump" -d --no-show-raw-insn "$elf" > "$dis"
  if ! python3 "$root/.ci/firmware/stack.py" "$dis" "$((ram - static))"; then
    echo "FAIL: $profile stack or EABI helper check" >&2; fail=1
  fi

  # Vector table: little-endian words at 0xFFE0..0xFFFF.
  local words
  words=$("$tools/llvm-objdump" -s -j .vector_table "$elf" |
    awk '/^ ff[ef]0 / { for (i = 2; i <= 5; i++) printf "%s", $i } END { print "" }')
  vector() { # $1: vector address -> handler address (hex, lower case, 4 digits)
    local off=$(( ($1 - 0xFFE0) * 2 ))
    local w=${words:off:4}
    echo "${w:2:2}${w:0:2}"
  }
  symbol() { "$tools/llvm-nm" "$elf" | awk -v s="$1" '$3 == s { print substr($1, length($1) - 3) }'; }
  local name addr want got
  for pair in Reset:0xFFFE ADC10:0xFFEA USCIAB0TX:0xFFEC USCIAB0RX:0xFFEE; do
    name=${pair%%:*}; addr=${pair##*:}
    want=$(symbol "$name"); got=$(vector "$addr")
    if [[ -z "$want" || "$got" != "$want" ]]; then
      echo "FAIL: vector $addr = 0x$got, $name is at 0x${want:-missing}" >&2; fail=1
    else
      echo "vector $addr -> $name (0x$got)"
    fi
  done

  # The simulator loads the ELF and runs the start-up code into the fault handler.
  local fault sim
  fault=$("$tools/llvm-nm" -C "$elf" | awk '$3 == "ct_firmware::device::fault" { print $1 }')
  if [[ -z "$fault" ]]; then
    echo "FAIL: symbol ct_firmware::device::fault not found" >&2; fail=1; return
  fi
  fault=${fault: -4}
  sim=$(timeout 60 mspdebug sim "prog $elf" "setbreak 0x$fault" "run" "regs" 2>&1) || {
    echo "$sim" | tail -20 >&2; echo "FAIL: mspdebug sim" >&2; fail=1; return; }
  if grep -qi "( PC: 0*$fault)" <<<"$sim"; then
    echo "mspdebug sim: loaded; Reset -> main -> erased-calibration fault at 0x$fault"
  else
    echo "$sim" | tail -20 >&2
    echo "FAIL: mspdebug sim did not reach the fault handler at 0x$fault" >&2; fail=1
  fi

  # With calibration constants in place: the boot path up to the first UART wait, and the
  # Info frame it builds, byte for byte.
  # The top of the static data: .data may follow .bss.
  local ebss
  ebss=$("$tools/llvm-nm" "$elf" | awk '$3 == "_ebss" || $3 == "_edata" { print $1 }' | sort | tail -1)
  if ! python3 "$root/.ci/firmware/sim_boot.py" "$elf" "$dis" "$profile" "$ebss"; then
    echo "FAIL: $profile boot path in mspdebug sim" >&2; fail=1
  fi
}

for profile in launchpad fast; do
  features=()
  [[ $profile == fast ]] && features=(--features fast)
  echo "== firmware: build $profile (release)"
  (cd "$fw" && cargo +nightly build --release "${features[@]}")
  cp "$fw/target/msp430g2553/release/ct-firmware" "$out/ct-firmware-$profile.elf"
  check_elf "$profile" "$out/ct-firmware-$profile.elf"
done

if (( fail )); then
  echo "firmware: FAILED" >&2
  exit 1
fi
echo "firmware: all checks passed"
