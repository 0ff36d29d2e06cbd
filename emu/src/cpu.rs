//! The MSP430 CPU (SLAU144 chapter 3): Format I (double-operand), Format II (single-operand)
//! and jump instructions with every addressing mode, the constant generators R2/R3, byte and
//! word operations and the status flags (3.4.6, instruction set description). Emulated
//! instructions (NOP, POP, RET, BR, CLR, INC, TST, SETC, EINT, ...) are encodings of these and
//! need no code of their own.

use crate::decode::{format1_cycles, format2_cycles, src_class, Loc, JUMP_CYCLES, RETI_CYCLES};
use crate::{Emu, EmuError, C, N, V, Z};

impl Emu {
    #[inline(always)]
    fn fetch(&mut self) -> u16 {
        let pc = self.r[0];
        let w = self.rd16(pc);
        self.r[0] = pc.wrapping_add(2);
        w
    }

    /// Register write (3.2): R3 discards, PC and SP keep bit 0 clear, byte results clear the
    /// high byte (3.4.1).
    #[inline(always)]
    fn set_reg(&mut self, reg: u8, v: u16, bw: bool) {
        let v = if bw { v & 0xFF } else { v };
        match reg {
            0 | 1 => self.r[reg as usize] = v & !1,
            3 => {}
            _ => self.r[reg as usize] = v,
        }
    }

    #[inline(always)]
    fn load_op(&mut self, loc: Loc, bw: bool) -> u16 {
        match loc {
            Loc::Reg(r) => {
                let v = self.r[r as usize];
                if bw {
                    v & 0xFF
                } else {
                    v
                }
            }
            Loc::Mem(a) => {
                if bw {
                    self.rd8(a) as u16
                } else {
                    self.rd16(a)
                }
            }
            Loc::Imm(v) => {
                if bw {
                    v & 0xFF
                } else {
                    v
                }
            }
        }
    }

    #[inline(always)]
    fn store(&mut self, loc: Loc, v: u16, bw: bool) {
        match loc {
            Loc::Reg(r) => self.set_reg(r, v, bw),
            Loc::Mem(a) => {
                if bw {
                    self.wr8(a, v as u8)
                } else {
                    self.wr16(a, v)
                }
            }
            Loc::Imm(_) => {}
        }
    }

    /// The source operand's location (table 3-3 addressing modes, table 3-2 constants).
    /// Fetches the extension word and performs the autoincrement.
    #[inline(always)]
    fn src_loc(&mut self, as_: u16, reg: u16, bw: bool) -> Loc {
        match (as_, reg) {
            (0, 3) => Loc::Imm(0),
            (0, _) => Loc::Reg(reg as u8),
            (1, 3) => Loc::Imm(1),
            (1, _) => {
                // Symbolic mode: relative to the extension word's address; absolute: R2 reads 0.
                let base = match reg {
                    0 => self.r[0],
                    2 => 0,
                    _ => self.r[reg as usize],
                };
                let x = self.fetch();
                Loc::Mem(base.wrapping_add(x))
            }
            (2, 2) => Loc::Imm(4),
            (2, 3) => Loc::Imm(2),
            (2, _) => Loc::Mem(self.r[reg as usize]),
            (_, 0) => Loc::Imm(self.fetch()),
            (_, 2) => Loc::Imm(8),
            (_, 3) => Loc::Imm(0xFFFF),
            _ => {
                let a = self.r[reg as usize];
                // Byte operations step by 1, word operations and SP by 2 (3.3.6).
                let step = if bw && reg != 1 { 1 } else { 2 };
                self.r[reg as usize] = a.wrapping_add(step);
                Loc::Mem(a)
            }
        }
    }

    #[inline(always)]
    fn set_flags(&mut self, c: bool, z: bool, n: bool, v: bool) {
        let mut sr = self.r[2] & !(C | Z | N | V);
        if c {
            sr |= C;
        }
        if z {
            sr |= Z;
        }
        if n {
            sr |= N;
        }
        if v {
            sr |= V;
        }
        self.r[2] = sr;
    }

    /// Executes one instruction; returns its MCLK cycles.
    pub(crate) fn exec(&mut self) -> Result<u32, EmuError> {
        let pc = self.r[0];
        self.pc_insn = pc;
        let op = self.fetch();
        let cycles = match op >> 12 {
            0 => {
                self.fault.get_or_insert(EmuError::Illegal { opcode: op, pc });
                0
            }
            1 => self.format2(op),
            2 | 3 => self.jump(op),
            _ => self.format1(op),
        };
        if let Some(e) = self.fault.take() {
            return Err(e);
        }
        Ok(cycles)
    }

    #[inline(always)]
    fn jump(&mut self, op: u16) -> u32 {
        let sr = self.r[2];
        let n = sr & N != 0;
        let v = sr & V != 0;
        let take = match (op >> 10) & 7 {
            0 => sr & Z == 0,
            1 => sr & Z != 0,
            2 => sr & C == 0,
            3 => sr & C != 0,
            4 => n,
            5 => n == v,
            6 => n != v,
            _ => true,
        };
        if take {
            let off = (((op & 0x3FF) << 6) as i16 >> 6) as u16;
            self.r[0] = self.r[0].wrapping_add(off.wrapping_mul(2));
        }
        JUMP_CYCLES
    }

    fn format2(&mut self, op: u16) -> u32 {
        let opc = (op >> 7) & 7;
        let bw = op & 0x40 != 0;
        let as_ = (op >> 4) & 3;
        let reg = op & 0xF;
        if opc == 6 {
            // RETI: SR from the stack, then PC (3.2.6.2, table 3-14: 5 cycles).
            let sp = self.r[1];
            let sr = self.rd16(sp);
            let pc = self.rd16(sp.wrapping_add(2));
            self.r[1] = sp.wrapping_add(4);
            self.r[2] = sr;
            self.r[0] = pc & !1;
            return RETI_CYCLES;
        }
        if opc == 7 {
            let pc = self.pc_insn;
            self.fault.get_or_insert(EmuError::Illegal { opcode: op, pc });
            return 0;
        }
        let class = src_class(as_, reg);
        let immediate = as_ == 3 && reg == 0;
        let word = !bw || opc == 1 || opc == 3 || opc == 5;
        let loc = self.src_loc(as_, reg, !word);
        let cycles = format2_cycles(opc, class, immediate);
        let val = self.load_op(loc, !word);
        let (mask, msb) = if word { (0xFFFFu16, 0x8000u16) } else { (0xFF, 0x80) };
        match opc {
            0 => {
                // RRC: C -> MSB, LSB -> C; V reset.
                let cin = if self.r[2] & C != 0 { msb } else { 0 };
                let r = (val >> 1) | cin;
                self.set_flags(val & 1 != 0, r & mask == 0, r & msb != 0, false);
                self.store(loc, r, !word);
            }
            1 => self.store(loc, val.rotate_left(8), false),
            2 => {
                // RRA: MSB kept, LSB -> C; V reset.
                let r = (val >> 1) | (val & msb);
                self.set_flags(val & 1 != 0, r & mask == 0, r & msb != 0, false);
                self.store(loc, r, !word);
            }
            3 => {
                // SXT: C = result not zero, V reset.
                let r = val as u8 as i8 as i16 as u16;
                self.set_flags(r != 0, r == 0, r & 0x8000 != 0, false);
                self.store(loc, r, false);
            }
            4 => {
                let sp = self.r[1].wrapping_sub(2);
                self.r[1] = sp;
                if bw {
                    self.wr8(sp, val as u8);
                } else {
                    self.wr16(sp, val);
                }
            }
            _ => {
                // CALL: the return address (after the extension word) is pushed.
                let sp = self.r[1].wrapping_sub(2);
                self.r[1] = sp;
                let ret = self.r[0];
                self.wr16(sp, ret);
                self.r[0] = val & !1;
            }
        }
        cycles
    }

    fn format1(&mut self, op: u16) -> u32 {
        let opc = op >> 12;
        let sreg = (op >> 8) & 0xF;
        let ad = (op >> 7) & 1;
        let bw = op & 0x40 != 0;
        let as_ = (op >> 4) & 3;
        let dreg = op & 0xF;
        let class = src_class(as_, sreg);
        let sloc = self.src_loc(as_, sreg, bw);
        let s = self.load_op(sloc, bw);
        let dloc = if ad == 0 {
            Loc::Reg(dreg as u8)
        } else {
            let base = match dreg {
                0 => self.r[0],
                2 => 0,
                _ => self.r[dreg as usize],
            };
            let x = self.fetch();
            Loc::Mem(base.wrapping_add(x))
        };
        let cycles = format1_cycles(class, ad == 1, ad == 0 && dreg == 0);
        if opc == 4 {
            // MOV does not read its destination.
            self.store(dloc, s, bw);
            return cycles;
        }
        let d = self.load_op(dloc, bw);
        let (mask, msb) = if bw { (0xFFu32, 0x80u32) } else { (0xFFFF, 0x8000) };
        let carry = (self.r[2] & C) as u32;
        let (s32, d32) = (s as u32, d as u32);
        let arith = |a: u32, b: u32, cin: u32| {
            let full = a + b + cin;
            let r = full & mask;
            (r, full > mask, (a ^ r) & (b ^ r) & msb != 0)
        };
        let (r, write) = match opc {
            5..=9 => {
                let (b, cin) = match opc {
                    5 => (s32, 0),
                    6 => (s32, carry),
                    7 => (!s32 & mask, carry),
                    _ => (!s32 & mask, 1),
                };
                let (r, c, v) = arith(d32, b, cin);
                self.set_flags(c, r == 0, r & msb != 0, v);
                (r, opc != 9)
            }
            0xA => {
                // DADD: decimal addition with carry, digit by digit (3.4.6.16; V is undefined
                // there and cleared here).
                let digits = if bw { 2 } else { 4 };
                let mut c = carry;
                let mut r = 0u32;
                for i in 0..digits {
                    let mut t = ((d32 >> (4 * i)) & 0xF) + ((s32 >> (4 * i)) & 0xF) + c;
                    c = 0;
                    if t > 9 {
                        t -= 10;
                        c = 1;
                    }
                    r |= (t & 0xF) << (4 * i);
                }
                self.set_flags(c != 0, r == 0, r & msb != 0, false);
                (r, true)
            }
            0xB => {
                let r = s32 & d32;
                self.set_flags(r != 0, r == 0, r & msb != 0, false);
                (r, false)
            }
            0xC => (d32 & !s32 & mask, true),
            0xD => (d32 | s32, true),
            0xE => {
                let r = s32 ^ d32;
                self.set_flags(r != 0, r == 0, r & msb != 0, s32 & d32 & msb != 0);
                (r, true)
            }
            _ => {
                let r = s32 & d32;
                self.set_flags(r != 0, r == 0, r & msb != 0, false);
                (r, true)
            }
        };
        if write {
            self.store(dloc, r as u16, bw);
        }
        cycles
    }
}
