#!/usr/bin/env python3
"""Worst-case stack depth of the firmware, from its disassembly.

RAM is 512 B and the buffers take most of it, so the stack must be known, not hoped for.
For each function: bytes pushed + `sub #N, r1` + 2 for the return address; the call graph
comes from `call #addr`. Worst case = deepest path from `main` (entered with `br`, no return
address) + the deepest interrupt handler (4 bytes of PC/SR + its own frames; interrupts do
not nest: handlers run with GIE clear).

It also checks that the MSP430 EABI helpers (`__mspabi_*`) are leaves: a helper that calls a
helper (itself, through an operator LLVM lowered to a libcall) would recurse on the device.

Usage: stack.py <llvm-objdump -d output> <ram budget in bytes>. Fails (exit 1) on recursion,
indirect calls, a helper that calls anything, or when the worst case exceeds the budget.
"""
import re
import sys

FUNC = re.compile(r"^([0-9a-f]+) <(.+)>:$")
INSN = re.compile(r"^\s*([0-9a-f]+):\s+(\S+)\s*(.*)$")

def parse(path):
    funcs, order = {}, []
    cur = None
    for line in open(path):
        line = line.rstrip("\n")
        m = FUNC.match(line)
        if m:
            cur = {"addr": int(m.group(1), 16), "name": m.group(2), "push": 0, "sub": 0,
                   "calls": set(), "indirect": False}
            funcs[cur["addr"]] = cur
            order.append(cur)
            continue
        m = INSN.match(line)
        if not m or cur is None:
            continue
        op, args = m.group(2), m.group(3)
        if op == "push":
            cur["push"] += 2
        elif op == "sub" and args.endswith(", r1"):
            n = re.match(r"#(\d+),", args)
            if n:
                cur["sub"] += int(n.group(1))
        elif op == "call":
            t = re.match(r"#(\d+)$", args)
            if t:
                cur["calls"].add(int(t.group(1)))
            else:
                cur["indirect"] = True
    return funcs, order

def depth(funcs, addr, stack, memo):
    if addr in memo:
        return memo[addr]
    f = funcs.get(addr)
    if f is None:
        sys.exit(f"call to unknown address {addr:#x}")
    if addr in stack:
        sys.exit("recursion: " + " -> ".join(funcs[a]["name"] for a in stack + [addr]))
    if f["indirect"]:
        sys.exit(f"indirect call in {f['name']}: stack depth unknown")
    own = f["push"] + f["sub"]
    worst, path = 0, []
    for c in sorted(f["calls"]):
        d, p = depth(funcs, c, stack + [addr], memo)
        d += 2  # return address
        if d > worst:
            worst, path = d, p
    memo[addr] = (own + worst, [f["name"]] + path)
    return memo[addr]

def main():
    funcs, order = parse(sys.argv[1])
    budget = int(sys.argv[2])
    helpers = [f for f in order if f["name"].startswith("__mspabi_")]
    for f in helpers:
        if f["calls"] or f["indirect"]:
            sys.exit(f"EABI helper {f['name']} calls another function")
    print(f"EABI helpers: {len(helpers)} linked ({', '.join(f['name'] for f in helpers)}), all leaves")
    by_name = {f["name"]: a for a, f in funcs.items()}
    memo = {}
    main_depth, main_path = depth(funcs, by_name["main"], [], memo)
    isr_worst, isr_path = 0, []
    # The ADC10 stub pushes and calls; the USCIAB0TX stub branches to its Rust handler;
    # USCIAB0RX is a Rust handler itself.
    for name in ("ADC10", "uart_tx_handler", "USCIAB0RX"):
        d, p = depth(funcs, by_name[name], [], memo)
        d += 4  # PC and SR, pushed by the interrupt itself
        if d > isr_worst:
            isr_worst, isr_path = d, p
    total = main_depth + isr_worst
    print(f"stack: main path {main_depth} B ({' > '.join(n[:48] for n in main_path)})")
    print(f"stack: + interrupt {isr_worst} B ({' > '.join(n[:48] for n in isr_path)})")
    print(f"stack: worst case {total} B of {budget} B left after .data/.bss")
    if total > budget:
        sys.exit(f"stack overflow risk: {total} B > {budget} B")

main()
