#!/usr/bin/env bash
# Cargo runner (`cargo run --release` in firmware/): flashes the ELF that cargo passes as the
# first argument onto a LaunchPad through its on-board eZ-FET/RF2500 debugger. mspdebug
# treats each argument as a command, so the ELF path must go inside the "prog" command.
set -euo pipefail
elf="${1:?usage: flash.sh <firmware.elf>}"
exec mspdebug rf2500 "prog $elf"
