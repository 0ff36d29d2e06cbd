//! A minimal MSP430 instruction encoder (SLAU144 3.4.3 instruction formats), for the tests:
//! no msp430 assembler is installed on these machines (LLVM's tools ship without llvm-mc),
//! so test programs are written as encoded words.

/// An operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Opd {
    /// Rn.
    Reg(u8),
    /// X(Rn).
    Idx(u16, u8),
    /// Symbolic (PC-relative) to an absolute target address.
    Sym(u16),
    /// &ADDR.
    Abs(u16),
    /// @Rn.
    Ind(u8),
    /// @Rn+.
    Inc(u8),
    /// #N as an extension word (@PC+).
    Imm(u16),
    /// #N from the constant generators: 0, 1, 2, 4, 8 or 0xFFFF (table 3-2).
    Cg(u16),
}

/// Format I opcodes (bits 15-12).
pub mod op1 {
    pub const MOV: u16 = 0x4;
    pub const ADD: u16 = 0x5;
    pub const ADDC: u16 = 0x6;
    pub const SUBC: u16 = 0x7;
    pub const SUB: u16 = 0x8;
    pub const CMP: u16 = 0x9;
    pub const DADD: u16 = 0xA;
    pub const BIT: u16 = 0xB;
    pub const BIC: u16 = 0xC;
    pub const BIS: u16 = 0xD;
    pub const XOR: u16 = 0xE;
    pub const AND: u16 = 0xF;
}

/// Format II opcodes (bits 9-7).
pub mod op2 {
    pub const RRC: u16 = 0;
    pub const SWPB: u16 = 1;
    pub const RRA: u16 = 2;
    pub const SXT: u16 = 3;
    pub const PUSH: u16 = 4;
    pub const CALL: u16 = 5;
}

/// Code being assembled at `org`.
#[derive(Clone, Debug)]
pub struct Asm {
    pub org: u16,
    pub words: Vec<u16>,
}

impl Asm {
    pub fn new(org: u16) -> Self {
        Asm { org, words: Vec::new() }
    }

    /// Address of the next word.
    pub fn here(&self) -> u16 {
        self.org.wrapping_add(2 * self.words.len() as u16)
    }

    pub fn word(&mut self, w: u16) {
        self.words.push(w);
    }

    /// (As, register, extension word) of a source operand; `ext_at` is the extension word's
    /// address (for symbolic mode).
    fn src(o: Opd, ext_at: u16) -> (u16, u16, Option<u16>) {
        match o {
            Opd::Reg(r) => (0, r as u16, None),
            Opd::Idx(x, r) => (1, r as u16, Some(x)),
            Opd::Sym(t) => (1, 0, Some(t.wrapping_sub(ext_at))),
            Opd::Abs(a) => (1, 2, Some(a)),
            Opd::Ind(r) => (2, r as u16, None),
            Opd::Inc(r) => (3, r as u16, None),
            Opd::Imm(v) => (3, 0, Some(v)),
            Opd::Cg(v) => match v {
                0 => (0, 3, None),
                1 => (1, 3, None),
                2 => (2, 3, None),
                4 => (2, 2, None),
                8 => (3, 2, None),
                _ => (3, 3, None),
            },
        }
    }

    /// A Format I instruction. The destination must be Reg, Idx, Sym or Abs.
    pub fn fmt1(&mut self, opc: u16, byte: bool, src: Opd, dst: Opd) {
        let at = self.here();
        let (as_, sreg, sext) = Self::src(src, at.wrapping_add(2));
        let dext_at = at.wrapping_add(if sext.is_some() { 4 } else { 2 });
        let (ad, dreg, dext) = match dst {
            Opd::Reg(r) => (0, r as u16, None),
            Opd::Idx(x, r) => (1, r as u16, Some(x)),
            Opd::Sym(t) => (1, 0, Some(t.wrapping_sub(dext_at))),
            Opd::Abs(a) => (1, 2, Some(a)),
            other => panic!("not a destination: {other:?}"),
        };
        self.word(opc << 12 | sreg << 8 | ad << 7 | (byte as u16) << 6 | as_ << 4 | dreg);
        self.words.extend(sext);
        self.words.extend(dext);
    }

    /// A Format II instruction.
    pub fn fmt2(&mut self, opc: u16, byte: bool, o: Opd) {
        let at = self.here();
        let (as_, reg, ext) = Self::src(o, at.wrapping_add(2));
        self.word(0x1000 | opc << 7 | (byte as u16) << 6 | as_ << 4 | reg);
        self.words.extend(ext);
    }

    pub fn reti(&mut self) {
        self.word(0x1300);
    }

    /// A jump (condition 0-7: JNE, JEQ, JNC, JC, JN, JGE, JL, JMP) to `target`.
    pub fn jump(&mut self, cond: u16, target: u16) {
        let off = (target.wrapping_sub(self.here()).wrapping_sub(2) as i16) / 2;
        assert!((-512..512).contains(&off), "jump out of range");
        self.word(0x2000 | cond << 10 | (off as u16 & 0x3FF));
    }

    /// The words as little-endian bytes.
    pub fn bytes(&self) -> Vec<u8> {
        self.words.iter().flat_map(|w| w.to_le_bytes()).collect()
    }
}
