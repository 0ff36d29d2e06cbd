//! Operand decoding and the instruction cycle tables (SLAU144 3.4.4, tables 3-14 to 3-16).

/// How an operand is reached, for the cycle tables: register mode (including the constant
/// generator's values, which cost nothing, 3.2.4), indirect, indirect autoincrement or
/// immediate, and indexed/symbolic/absolute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    Reg,
    Ind,
    IndInc,
    Idx,
}

/// A decoded operand location.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loc {
    Reg(u8),
    Mem(u16),
    /// An immediate or constant-generator value.
    Imm(u16),
}

/// The source class of As/register (R2 with As = 2, 3 and R3 are constants: 3.2.4, table 3-2).
#[inline(always)]
pub fn src_class(as_: u16, reg: u16) -> Class {
    match (as_, reg) {
        (0, _) => Class::Reg,
        (_, 3) => Class::Reg,
        (2 | 3, 2) => Class::Reg,
        (1, _) => Class::Idx,
        (2, _) => Class::Ind,
        _ => Class::IndInc,
    }
}

/// Format I (double-operand) cycles, table 3-16. Destination: register, PC, or memory
/// (indexed, symbolic, absolute).
#[inline(always)]
pub fn format1_cycles(src: Class, dst_mem: bool, dst_pc: bool) -> u32 {
    match (src, dst_mem, dst_pc) {
        (Class::Reg, false, false) => 1,
        (Class::Reg, false, true) => 2,
        (Class::Reg, true, _) => 4,
        (Class::Ind, false, _) => 2,
        (Class::Ind, true, _) => 5,
        (Class::IndInc, false, false) => 2,
        (Class::IndInc, false, true) => 3,
        (Class::IndInc, true, _) => 5,
        (Class::Idx, false, _) => 3,
        (Class::Idx, true, _) => 6,
    }
}

/// Format II (single-operand) cycles, table 3-15: RRA/RRC/SWPB/SXT, PUSH, CALL.
#[inline(always)]
pub fn format2_cycles(op: u16, class: Class, immediate: bool) -> u32 {
    let (rr, push, call) = match class {
        Class::Reg => (1, 3, 4),
        Class::Ind => (3, 4, 4),
        Class::IndInc if immediate => (3, 4, 5),
        Class::IndInc => (3, 5, 5),
        Class::Idx => (4, 5, 5),
    };
    match op {
        4 => push,
        5 => call,
        _ => rr,
    }
}

/// Jumps take 2 cycles whether taken or not (table 3-14 note / 3.4.4.1).
pub const JUMP_CYCLES: u32 = 2;
/// RETI: 5 cycles (table 3-14).
pub const RETI_CYCLES: u32 = 5;
/// Interrupt acceptance: 6 cycles (table 3-14).
pub const INTERRUPT_CYCLES: u32 = 6;
