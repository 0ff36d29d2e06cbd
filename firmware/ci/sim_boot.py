#!/usr/bin/env python3
"""Runs the firmware's boot path in `mspdebug sim` and checks the Info frame it builds.

mspdebug's simulator models the MSP430 CPU but not the ADC10, USCI or clock module, so only
the code before the first wait for hardware can run. This script writes valid DCO
calibration constants and PORIFG into the simulated memory, runs until the main loop first
sleeps in LPM0 (waiting for the UART to take the first byte of the boot Info frame), then
dumps RAM and looks for the Info frame's `kind || body || crc16` bytes, computed here
independently of ct-wire (layout from wire/SPEC.md, CRC-16/IBM-3740). A second run marks the
UART's transmit buffer as always free (IFG2.UCA0TXIFG) and stops at every write to UCA0TXBUF:
the bytes must be the COBS-encoded Info frame and its 0x00 delimiter. That checks on the
MSP430 instruction set what the host tests check on x86_64: register set-up up to the UART,
the Info fields, the CRC, COBS, the UART driver, and the EABI helpers they use. It also
reports how deep the stack went (the simulator's RAM starts as 0xFF).

Usage: sim_boot.py <elf> <llvm-objdump -d output of it> <launchpad|fast> <_ebss address, hex>
"""
import re
import struct
import subprocess
import sys

PROFILES = {
    # timer clock, ticks per sample, baud, build-profile byte
    "launchpad": (1_000_000, 1657, 9600, 1),
    "fast": (1_000_000, 122, 250_000, 2),
}


def crc16(data):
    crc = 0xFFFF
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def expected_info(profile):
    clock, ticks, baud, build = PROFILES[profile]
    # kind 0x01, protocol 1, firmware 0.1.0, timer clock, ticks, ref 2500 mV, 10 bits, baud,
    # reset cause 0 (power-on: PORIFG is set below), build profile, 112 samples/frame, flags 0
    payload = bytes([0x01, 1, 0, 1, 0]) + struct.pack("<IHHBIBBBB", clock, ticks, 2500, 10, baud, 0, build, 112, 0)
    return payload + struct.pack("<H", crc16(payload))


def cobs(raw):
    out, block = bytearray(), bytearray()
    for b in raw:
        if b == 0:
            out += bytes([len(block) + 1]) + block
            block = bytearray()
        else:
            block.append(b)
            if len(block) == 254:
                out += bytes([255]) + block
                block = bytearray()
    out += bytes([len(block) + 1]) + block
    return bytes(out) + b"\x00"


def uart_bytes(elf, disasm, count):
    """The first `count` bytes the firmware writes to UCA0TXBUF (0x0067) in the simulator."""
    m = re.search(r"^\s*([0-9a-f]+):\s+mov\.b\s+(r\d+), &103$", open(disasm).read(), re.M)
    if not m:
        sys.exit("no write to UCA0TXBUF (mov.b rN, &103) in the disassembly")
    addr, reg = m.group(1), m.group(2).upper()
    cmds = ["prog " + elf, "mw 0x10fc 0x92 0x8d", "mw 0x0002 0x04", "mw 0x0003 0x02", "setbreak 0x" + addr]
    cmds += ["run"] * count  # each stop at the breakpoint prints the registers
    out = subprocess.run(["mspdebug", "sim"] + cmds, capture_output=True, text=True, timeout=120).stdout
    return bytes(int(v, 16) & 0xFF for v in re.findall(r"\(\s*" + reg + r": ([0-9a-f]+)\)", out))


def main():
    elf, disasm, profile, ebss = sys.argv[1:5]
    ebss = int(ebss, 16)
    sleeps = [m.group(1) for m in re.finditer(r"^\s*([0-9a-f]+):\s+bis\s+#24, r2$", open(disasm).read(), re.M)]
    if not sleeps:
        sys.exit("no LPM0 entry (bis #24, r2) in the disassembly")
    cmds = ["prog " + elf, "mw 0x10fc 0x92 0x8d", "mw 0x0002 0x04"]
    cmds += ["setbreak 0x" + a for a in sleeps[:4]]
    cmds += ["run", "regs", "md 0x0200 512"]
    out = subprocess.run(["mspdebug", "sim"] + cmds, capture_output=True, text=True, timeout=60).stdout
    pc = re.search(r"\( PC: ([0-9a-f]+)\)", out)
    if not pc or pc.group(1).lstrip("0") not in [a.lstrip("0") for a in sleeps]:
        print(out[-2000:], file=sys.stderr)
        sys.exit("the boot path did not reach the first LPM0 sleep")
    ram = bytearray()
    for m in re.finditer(r"^\s+([0-9a-f]{5}):((?: [0-9a-f]{2})+)", out, re.M):
        addr = int(m.group(1), 16)
        if 0x0200 <= addr < 0x0400:
            ram += bytes(int(b, 16) for b in m.group(2).split())
    if len(ram) != 512:
        sys.exit(f"could not read the RAM dump ({len(ram)} bytes)")
    want = expected_info(profile)
    at = ram.find(want)
    if at < 0:
        sys.exit(f"Info frame {want.hex()} not found in RAM:\n{ram.hex()}")
    # Lowest stack byte written: the first non-0xFF byte above .bss (a lower bound of the
    # depth, for this path only; firmware/ci/stack.py gives the worst case).
    low = next((a for a in range(ebss, 0x400) if ram[a - 0x200] != 0xFF), 0x400)
    print(f"mspdebug sim boot: reached LPM0 at 0x{pc.group(1)}; Info frame {want.hex()} "
          f"built at 0x{0x200 + at:04x}; stack reached 0x{low:04x} ({0x400 - low} B deep)")
    line = cobs(want)
    sent = uart_bytes(elf, disasm, len(line))
    if sent != line:
        sys.exit(f"UART bytes {sent.hex()} != COBS(Info) + 0x00 {line.hex()}")
    print(f"mspdebug sim boot: UART sent {sent.hex()} = COBS(Info) + delimiter")


main()
