#!/usr/bin/env python3
"""Runs the firmware's boot path in `mspdebug sim`, asks it to stream, and checks its frames.

mspdebug's simulator models the MSP430 CPU but not the ADC10, USCI or clock module, so
interrupts are injected by hand. This script writes a factory-like TLV segment (DCO and ADC10
calibration, valid checksum) and PORIFG into the simulated memory and runs until the main loop first sleeps in LPM0 (waiting
for a full buffer of samples): the boot path must not have written to UCA0TXBUF (the device
is silent until a host asks, wire/SPEC.md "Host -> device messages"). It marks the UART's
transmit buffer as always free (IFG2.UCA0TXIFG) and stops at every write to UCA0TXBUF. Then
it injects, the way the CPU takes an interrupt (saved PC and SR on the stack, PC from the
vector), the receive interrupt once per byte of the host's lone delimiter and Start message
(the simulator has no UCA0RXBUF: the byte is put in the register the handler read it into,
right after the read), then 112 ADC10 interrupts (a value in ADC10MEM each): the main loop
wakes on the 112th, sees the Start, and must send a lone 0x00 delimiter (it ends any partial
frame a receiver holds from before a reset), then the COBS-encoded Info frame and its
delimiter, then the ADC calibration frame read from the TLV segment (the firmware verifies
the segment's checksum on the MSP430 instruction set), whose `kind || body || crc16` bytes
are computed here independently of ct-wire (layout from wire/SPEC.md, CRC-16/IBM-3740). After 112 more ADC10 interrupts the first
Samples frame must come out of the UART, decode (COBS, CRC) and carry first_index 0 (the
index restarts at the first start) and exactly the second batch of injected values. The simulator's tracer counts MCLK cycles
meanwhile, which gives the profile's CPU load (must stay below 85 %). That checks on the
MSP430 instruction set what the host tests check on x86_64: the peripheral register values
written (read back from the tracer's IO history),
the Info fields, the CRC, COBS, the UART driver, and the EABI helpers they use. It also
reports how deep the stack went (the simulator's RAM starts as 0xFF).

Usage: sim_boot.py <elf> <llvm-objdump -d output of it> <launchpad|fast> <_ebss address, hex>
"""
import re
import struct
import subprocess
import sys

PROFILES = {
    # timer clock, ticks per sample, baud, build-profile byte, MCLK
    "launchpad": (1_000_000, 1657, 9600, 1, 8_000_000),
    "fast": (1_000_000, 122, 250_000, 2, 16_000_000),
}


def tlv_segment():
    """Info segment A (the TLV segment, 0x10C0-0x10FF) as a G2553 leaves the factory; the
    simulator's flash is otherwise erased. From the G2553 data sheet (SLAS735, TLV tables):
    TAG_ADC10_1 0x10 and its length 0x10 at 0x10DA, CAL_ADC_GAIN_FACTOR at 0x10DC,
    CAL_ADC_OFFSET at 0x10DE, CAL_ADC_25VREF_FACTOR at 0x10E6; TAG_DCO_30 0x01, length 0x08 at
    0x10F6, then CALDCO_16MHZ, CALBC1_16MHZ, the 12 MHz and 8 MHz pairs (typical values).
    Checksum at 0x10C0 (SLAU144 24.3): the two's complement of the XOR of the 31 words
    0x10C2-0x10FE."""
    seg = bytearray(b"\xff" * 64)
    for addr, data in [(0x10DA, bytes([0x10, 0x10])), (0x10DC, struct.pack("<HhH", *ADC_CAL[1:3], 0x8000)),
                       (0x10E6, struct.pack("<H", ADC_CAL[3])),
                       (0x10F6, bytes([0x01, 0x08, 0x86, 0x8f, 0x9e, 0x8e, 0x92, 0x8d]))]:
        seg[addr - 0x10C0:addr - 0x10C0 + len(data)] = data
    x = 0
    for i in range(2, 64, 2):
        x ^= seg[i] | seg[i + 1] << 8
    seg[0:2] = struct.pack("<H", -x & 0xFFFF)
    return bytes(seg)


# What the firmware must send about that segment: status 0 (valid), gain 0x7FE0, offset -2,
# 2.5 V factor 33423 (a reference 2 % high).
ADC_CAL = (0, 0x7FE0, -2, 33423)
CALIBRATION = "mw 0x10c0 " + " ".join("0x%02x" % b for b in tlv_segment())


def crc16(data):
    crc = 0xFFFF
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def expected_info(profile):
    clock, ticks, baud, build, _ = PROFILES[profile]
    # kind 0x01, protocol 2, firmware 0.1.0, timer clock, ticks, ref 2500 mV, 10 bits, baud,
    # reset cause 0 (power-on: PORIFG is set below), build profile, 112 samples/frame, flags 0
    payload = bytes([0x01, 2, 0, 1, 0]) + struct.pack("<IHHBIBBBB", clock, ticks, 2500, 10, baud, 0, build, 112, 0)
    return payload + struct.pack("<H", crc16(payload))


def expected_adc_cal():
    # kind 0x04 (wire/SPEC.md, "ADC calibration"): status, gain, offset, 2.5 V factor.
    payload = bytes([0x04, ADC_CAL[0]]) + struct.pack("<HhH", *ADC_CAL[1:])
    return payload + struct.pack("<H", crc16(payload))


def boot_line(profile):
    """What the firmware sends at its first start: a lone delimiter, then COBS(Info) and its
    delimiter, then COBS(ADC calibration) and its delimiter."""
    return b"\x00" + cobs(expected_info(profile)) + cobs(expected_adc_cal())


def host_start():
    """What a host sends to start the stream: a lone delimiter, then COBS(0x81 || crc16)."""
    payload = bytes([0x81])
    return b"\x00" + cobs(payload + struct.pack("<H", crc16(payload)))


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


def addresses(disasm):
    text = open(disasm).read()
    tx = re.search(r"^\s*([0-9a-f]+):\s+mov\.b\s+(r\d+), &103$", text, re.M)
    adc = re.search(r"^([0-9a-f]+) <ADC10>:$", text, re.M)
    adc_reti = re.search(r"^\s*([0-9a-f]+):\s+reti$", text[adc.end():] if adc else "", re.M)
    # The main loop's wait for a full buffer is the LPM0 entry inlined into main.
    main_at = text.index("<main>:")
    wait = re.search(r"^\s*([0-9a-f]+):\s+bis\s+#24, r2$", text[main_at:], re.M)
    rx = re.search(r"^([0-9a-f]+) <USCIAB0RX>:$", text, re.M)
    body = text[rx.end():] if rx else ""
    rx_read = re.search(r"^\s*[0-9a-f]+:\s+mov\.b\s+&102, (r\d+)\n\s*([0-9a-f]+):", body, re.M)
    rx_reti = re.search(r"^\s*([0-9a-f]+):\s+reti$", body, re.M)
    if not (tx and adc and adc_reti and wait and rx and rx_read and rx_reti):
        sys.exit("could not find the UCA0TXBUF write, the ADC10 stub and its reti, main's LPM0 entry, "
                 "or the USCIAB0RX handler's UCA0RXBUF read and reti")
    return (int(tx.group(1), 16), tx.group(2).upper(), int(adc.group(1), 16), int(adc_reti.group(1), 16),
            int(wait.group(1), 16), int(rx.group(1), 16), int(rx_read.group(2), 16), rx_read.group(1).upper(),
            int(rx_reti.group(1), 16))


def sim(cmds, timeout=120):
    return subprocess.run(["mspdebug", "sim"] + cmds, capture_output=True, text=True, timeout=timeout).stdout


def stops(out):
    """(PC, registers) at every stop, from the register dumps mspdebug prints."""
    result = []
    for block in re.finditer(r"\( PC: ([0-9a-f]+)\).*?\(R15: [0-9a-f]+\)", out, re.S):
        regs = {k.strip(): int(v, 16) for k, v in re.findall(r"\(\s*(\w+): ([0-9a-f]+)\)", block.group(0))}
        result.append((int(block.group(1), 16), regs))
    return result


def first_samples_frame(elf, disasm, profile):
    """Runs boot, injects the host's Start and 2 x 112 ADC10 interrupts; returns (the
    second batch of injected values, UART bytes sent at the start, UART bytes of the first
    Samples frame, MCLK cycles per sample in the interrupt, cycles from the 112th sample's
    `reti` to the first byte, cycles per further byte), counted by the simulator's tracer.

    The main loop sleeps in LPM0 while a frame fills: the first interrupt is injected at its
    `bis #GIE|CPUOFF, SR` (saved PC = the next instruction, saved SR = GIE|CPUOFF), and the
    run stops at the handler's `reti`. While no handler has woken the CPU (CPUOFF still set
    in the saved SR), returning would just sleep again until the next interrupt, which would
    push the same PC and SR: so the next interrupt is injected right there, on the same
    stack. The 112th ADC10 interrupt must wake the CPU (CPUOFF cleared); then `reti` runs and
    the main loop handles the frame."""
    tx, reg, adc, adc_reti, wait, rx, rx_after, rx_reg, rx_reti = addresses(disasm)
    setup = ["prog " + elf, "simio add tracer t 4096", CALIBRATION, "mw 0x0002 0x04", "mw 0x0003 0x02",
             "setbreak 0x%x" % tx, "setbreak 0x%x" % wait, "setbreak 0x%x" % adc_reti,
             "setbreak 0x%x" % rx_after, "setbreak 0x%x" % rx_reti]
    # Phase 1: boot to the first wait for a buffer, to learn the stack pointer there.
    boot = sim(setup + ["run", "simio info t", "md 0x0000 4"])
    first = stops(boot)
    if [pc_ for pc_, _ in first] != [wait]:
        sys.exit(f"the boot path must reach its wait for a full buffer without sending: stops {first}")
    check_registers(boot, profile)
    # The special function registers are plain memory to the simulator (its tracer does not
    # see them): IE2 must have UCA0RXIE (bit 0) set, UCA0TXIE (bit 1) clear while idle.
    sfr = re.search(r"^\s+00000: ([0-9a-f]{2}) ([0-9a-f]{2})", boot, re.M)
    if not sfr or int(sfr.group(2), 16) & 0x03 != 0x01:
        sys.exit(f"IE2 after boot: {sfr.group(2) if sfr else '?'}, want UCA0RXIE set (SLAU144 15.3.1, enabled "
                 "after UCSWRST is cleared)")
    print("mspdebug sim: IE2.UCA0RXIE set after boot")
    sp = first[-1][1]["SP"] - 4
    pc = wait + 4
    frame = ["mw 0x%x 0x18 0x00 0x%02x 0x%02x" % (sp, pc & 0xFF, pc >> 8), "set SP 0x%x" % sp]
    host = host_start()
    # The commands, and the PC of the register dump each prints (every `run` stops at a
    # breakpoint; every `set` prints the registers too): the run is checked stop by stop.
    cmds, dumps = list(setup), []
    at = [None]

    def run(expect):
        cmds.append("run")
        dumps.append(expect)
        at[0] = expect

    def set_(what, pc_=None):
        cmds.append("set " + what)
        if pc_ is not None:
            at[0] = pc_
        dumps.append(at[0])

    def frame():
        cmds.append("mw 0x%x 0x18 0x00 0x%02x 0x%02x" % (sp, pc & 0xFF, pc >> 8))
        set_("SP 0x%x" % sp)

    def adc_batch(values, trace):
        for v in values:
            set_("SR 0")
            set_("PC 0x%x" % adc, adc)
            cmds.append("mw 0x01b4 0x%02x 0x%02x" % (v & 0xFF, v >> 8))
            if trace:
                cmds.append("simio config t clear")
            run(adc_reti)
            if trace:
                cmds.append("simio info t")
            cmds.append("md 0x%x 2" % sp)

    batch1 = [(i * 211 + 5) % 1024 for i in range(112)]
    values = [(i * 389 + 7) % 1024 for i in range(112)]
    start_len = len(boot_line(profile))
    run(wait)
    frame()
    for b in host:
        set_("SR 0")
        set_("PC 0x%x" % rx, rx)
        run(rx_after)
        set_("%s 0x%02x" % (rx_reg, b))
        run(rx_reti)
    adc_batch(batch1, False)
    start_at = len(dumps)
    for _ in range(start_len):  # reti, wake, start: lone delimiter + Info
        run(tx)
    run(wait)  # then the wait for the next frame, with the same stack pointer
    wait2 = len(dumps) - 1
    frame()
    adc_batch(values, True)
    samples_at = len(dumps)
    for _ in range(149):  # reti, wake, seal, the frame's bytes
        cmds.append("simio config t clear")
        run(tx)
        cmds.append("simio info t")
    out = sim(cmds, timeout=300)
    seen = stops(out)
    if [pc_ for pc_, _ in seen] != dumps:
        bad = next(i for i, (x, y) in enumerate(zip([p_ for p_, _ in seen] + [None] * len(dumps), dumps)) if x != y)
        sys.exit(f"stop {bad}: at {seen[bad][0] if bad < len(seen) else None}, expected {dumps[bad]:#x}")
    regs = [r for _, r in seen]
    saved_sr = [int(m.group(1), 16) for m in re.finditer(r"^\s+%05x: ([0-9a-f]{2}) [0-9a-f]{2}" % sp, out, re.M)]
    if saved_sr != ([0x18] * 111 + [0x08]) * 2:
        sys.exit(f"the stub must wake the CPU on the 112th sample only; saved SR after each: {saved_sr}")
    if regs[wait2]["SP"] - 4 != sp:
        sys.exit("the main loop waits for the second frame with another stack pointer")
    start_line = bytes(r[reg] & 0xFF for r in regs[start_at:start_at + start_len])
    line = bytes(r[reg] & 0xFF for r in regs[samples_at:])
    mclk = [int(c) for c in re.findall(r"^MCLK:\s+(\d+)", out, re.M)]
    if len(mclk) != 112 + 1 + 148:
        sys.exit(f"expected {112 + 1 + 148} cycle counts from the tracer, got {len(mclk)}")
    return values, start_line, line, sum(mclk[:112]) / 112, mclk[112], sum(mclk[113:]) / 148


# Costs the simulated run does not include: taking an interrupt and its reti (6 + 5 cycles),
# and per line byte the transmit interrupt (entry, stub, handler, reti: ~30) plus the failed
# poll and LPM0 entry before it (~40): the simulated UART is always ready.
INTERRUPT_ENTRY = 11
PER_BYTE_WAIT = 80


def cpu_load(profile, per_sample, seal, per_byte):
    clock, ticks, baud, _, mclk = PROFILES[profile]
    rate = clock / ticks
    frames = rate / 112
    line_bytes = frames * 149 + 17 + 26 / 10
    cycles = rate * (per_sample + INTERRUPT_ENTRY) + frames * seal + line_bytes * (per_byte + PER_BYTE_WAIT)
    return cycles / mclk


def check_registers(out, profile):
    """The last value the boot path wrote to each peripheral register (from the tracer's IO
    history) against the values the MSP430x2xx Family User's Guide calls for."""
    clock, ticks, baud, _, mclk = PROFILES[profile]
    written = {}
    for addr, val in re.findall(r"write\.[bw] => 0x([0-9a-f]{4}) 0x([0-9a-f]+)", out):
        written[int(addr, 16)] = int(val, 16)
    fast = profile == "fast"
    want = {
        0x0053: (0x20, "BCSCTL3: ACLK from VLO"),
        0x0120: (0x5A0C, "WDTCTL: running, ACLK, /32768, counter cleared"),
        0x012C: (0xA510, "FCTL3: KEYV cleared, locked"),
        0x0057: (0x8F if fast else 0x8D, "BCSCTL1 from CALBC1_16MHZ/_8MHZ"),
        0x0056: (0x86 if fast else 0x92, "DCOCTL from CALDCO_16MHZ/_8MHZ"),
        0x0058: (0x02 if fast else 0x00, "BCSCTL2: SMCLK = 8 MHz"),
        0x0061: (0x80, "UCA0CTL1: SMCLK, out of reset"),
        0x0060: (0x00, "UCA0CTL0: 8N1 UART"),
        0x0062: (2 if fast else 52, "UCA0BR0"),
        0x0063: (0, "UCA0BR1"),
        0x0064: (0x01 if fast else 0x11, "UCA0MCTL"),
        0x01B2: (0x4464, "ADC10CTL1: A4, SHS_1 (Timer_A OUT1), ADC10OSC / 4, repeat single channel"),
        0x004A: (0x10, "ADC10AE0: P1.4 analogue"),
        0x01B0: (0x387A, "ADC10CTL0: VREF+ 2.5 V on, 64-clock sample, ADC10SR = 0, IE, ENC"),
        0x0172: (ticks - 1, "TACCR0: period"),
        0x0174: (ticks // 2, "TACCR1: OUT1 falls mid-period"),
        0x0164: (0x00E0, "TACCTL1: OUTMOD_7 reset/set"),
        0x0160: (0x02D4, "TACTL: SMCLK / 8, up mode, cleared"),
    }
    bad = [f"{name} @0x{a:04x}: wrote {written.get(a, 'nothing')!r}, want 0x{v:x}"
           for a, (v, name) in want.items() if written.get(a) != v]
    if bad:
        sys.exit("register set-up:\n  " + "\n  ".join(bad))
    print(f"mspdebug sim: {len(want)} clock, watchdog, UART, ADC10 and Timer_A register values as specified")


def check_samples_frame(values, line):
    if not line.endswith(b"\x00"):
        sys.exit(f"no complete frame on the UART: {line.hex()}")
    raw = cobs_decode(line[:-1])
    payload, crc = raw[:-2], struct.unpack("<H", raw[-2:])[0]
    if crc != crc16(payload):
        sys.exit(f"Samples frame CRC {crc:#06x} != {crc16(payload):#06x}")
    kind, first_index = payload[0], struct.unpack("<I", payload[1:5])[0]
    packed = payload[5:]
    got = []
    for g in range(0, len(packed), 5):
        v = int.from_bytes(packed[g:g + 5], "little")
        got += [(v >> (10 * k)) & 0x3FF for k in range(4)]
    if (kind, first_index, got) != (0x02, 0, values):
        sys.exit(f"Samples frame kind {kind}, first_index {first_index}, samples {got} != {values}")


def cobs_decode(enc):
    out, i = bytearray(), 0
    while i < len(enc):
        code = enc[i]
        out += enc[i + 1:i + code]
        i += code
        if code < 255 and i < len(enc):
            out.append(0)
    return bytes(out)


def main():
    elf, disasm, profile, ebss = sys.argv[1:5]
    ebss = int(ebss, 16)
    sleeps = [m.group(1) for m in re.finditer(r"^\s*([0-9a-f]+):\s+bis\s+#24, r2$", open(disasm).read(), re.M)]
    if not sleeps:
        sys.exit("no LPM0 entry (bis #24, r2) in the disassembly")
    cmds = ["prog " + elf, CALIBRATION, "mw 0x0002 0x04"]
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
    # Lowest stack byte written: the first non-0xFF byte above .bss (a lower bound of the
    # depth, for this path only; .ci/firmware/stack.py gives the worst case).
    low = next((a for a in range(ebss, 0x400) if ram[a - 0x200] != 0xFF), 0x400)
    print(f"mspdebug sim boot: reached LPM0 at 0x{pc.group(1)}; stack reached 0x{low:04x} ({0x400 - low} B deep)")
    values, sent, frame, per_sample, seal, per_byte = first_samples_frame(elf, disasm, profile)
    line = boot_line(profile)
    if sent != line:
        sys.exit(f"UART bytes at the start {sent.hex()} != 0x00 + COBS(Info) + 0x00 + COBS(AdcCal) + 0x00 {line.hex()}")
    print(f"mspdebug sim: silent after boot; host Start {host_start().hex()} through the receive interrupt -> "
          f"UART sent {sent.hex()} = lone delimiter + COBS(Info) + delimiter + COBS(ADC calibration from the "
          f"TLV segment, checksum verified on the MSP430) + delimiter")
    check_samples_frame(values, frame)
    print(f"mspdebug sim: 112 injected ADC10 interrupts -> Samples frame of {len(frame)} line bytes, "
          "CRC good, first_index 0, samples as injected")
    load = cpu_load(profile, per_sample, seal, per_byte)
    print(f"mspdebug sim: the ADC10 stub wakes the CPU on the 112th sample only; cycles: {per_sample:.0f} per "
          f"sample (interrupt), {seal} from the frame's last sample to its first byte (wake, CRC), "
          f"{per_byte:.0f} per line byte: "
          f"CPU load {load * 100:.0f} % at {PROFILES[profile][4] // 1_000_000} MHz")
    if load > 0.85:
        sys.exit(f"CPU load {load * 100:.0f} % leaves too little headroom")


main()
