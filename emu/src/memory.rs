//! The G2553 memory map (data sheet, memory organisation): special function registers
//! 0x0000-0x000F, 8-bit peripherals 0x0010-0x00FF, 16-bit peripherals 0x0100-0x01FF, RAM
//! 0x0200-0x03FF, information memory 0x1000-0x10FF, main flash 0xC000-0xFFFF. Flash and
//! information memory are read-only here (programming them is not modelled). Word accesses
//! ignore address bit 0 (3.4.1). Peripheral addresses without a model are errors.

use crate::adc::{ADC10AE0, ADC10CTL0, ADC10CTL1, ADC10DTC0, ADC10DTC1, ADC10MEM};
use crate::clock::{BCSCTL1, BCSCTL2, BCSCTL3, DCOCTL};
use crate::usci::{UCA0CTL0, UCA0RXBUF, UCA0TXBUF};
use crate::wdt::{WdtWrite, WDTCTL};
use crate::{Emu, EmuError, ResetKind};

/// Special function register bits (SLAU144; bit positions checked against the `msp430g2553`
/// PAC's SVD by tests/register_bits.rs).
pub const IE1_WDTIE: u8 = 0x01;
pub const IFG1_WDTIFG: u8 = 0x01;
pub const IFG1_OFIFG: u8 = 0x02;
pub const IFG1_PORIFG: u8 = 0x04;
pub const IFG1_RSTIFG: u8 = 0x08;
pub const IFG2_UCA0RXIFG: u8 = 0x01;
pub const IFG2_UCA0TXIFG: u8 = 0x02;
pub const IE2_UCA0RXIE: u8 = 0x01;
pub const IE2_UCA0TXIE: u8 = 0x02;
pub const IFG2_UCB0TXIFG: u8 = 0x08;

/// Flash controller registers (SLAU144 flash chapter): FCTL1..3 and their key. FCTL3 KEYV is
/// bit 1 (0x02); bit 5 (0x20) is EMEX.
pub const FCTL1: u16 = 0x0128;
pub const FCTL2: u16 = 0x012A;
pub const FCTL3: u16 = 0x012C;
/// The key in the upper byte of a write (FWKEY = 0xA5; reads give 0x96).
pub const FWKEY: u16 = 0xA500;
/// FCTL1 ERASE, MERAS, WRT, BLKWRT: flash programming, not modelled.
pub const FCTL1_PROGRAMMING: u8 = 0xC6;
pub const FCTL3_KEYV: u8 = 0x02;
pub const FCTL3_WAIT: u8 = 0x08;
pub const FCTL3_LOCK: u8 = 0x10;

/// IE1, IE2, IFG1, IFG2 (SLAU144 special function registers; G2553 data sheet table 11-14).
#[derive(Clone, Debug, Default)]
pub struct Sfr {
    pub ie1: u8,
    pub ie2: u8,
    pub ifg1: u8,
    pub ifg2: u8,
}

/// One digital I/O port (SLAU144 chapter 8).
#[derive(Clone, Debug, Default)]
pub struct Port {
    pub out: u8,
    pub dir: u8,
    pub ifg: u8,
    pub ies: u8,
    pub ie: u8,
    pub sel: u8,
    pub ren: u8,
    pub sel2: u8,
    /// Levels driven onto the pins from outside (inputs).
    pub input: u8,
}

impl Port {
    /// PxIN: output pins read their output level, inputs the external level (8.2.1).
    pub fn pin_in(&self) -> u8 {
        (self.out & self.dir) | (self.input & !self.dir)
    }

    /// The level of output pin `bit` (false if it is an input).
    pub fn driven_high(&self, bit: u8) -> bool {
        self.dir & self.out & (1 << bit) != 0
    }

    fn reset(&mut self) {
        // PxOUT is undefined after reset and kept; PxDIR/IFG/IE/SEL/SEL2/REN are 0 (8.3).
        *self = Port { out: self.out, input: self.input, ..Port::default() };
    }
}

#[derive(Clone, Debug, Default)]
pub struct Ports {
    pub p1: Port,
    pub p2: Port,
    /// P1OUT writes that changed P1.6 (the heartbeat LED), for tests.
    pub p1_6_toggles: u64,
}

impl Ports {
    pub fn reset(&mut self) {
        self.p1.reset();
        self.p2.reset();
    }
}

/// Which byte of the SFR / port a register address is.
fn port_reg(p: &mut Port, off: u16) -> &mut u8 {
    match off {
        1 => &mut p.out,
        2 => &mut p.dir,
        3 => &mut p.ifg,
        4 => &mut p.ies,
        5 => &mut p.ie,
        6 => &mut p.sel,
        _ => &mut p.ren,
    }
}

impl Emu {
    /// Byte read.
    #[inline(always)]
    pub(crate) fn rd8(&mut self, a: u16) -> u8 {
        if (0x0200..0x0400).contains(&a) || a >= 0xC000 {
            self.mem[a as usize]
        } else {
            self.rd8_slow(a)
        }
    }

    /// Word read.
    #[inline(always)]
    pub(crate) fn rd16(&mut self, a: u16) -> u16 {
        let a = a & !1;
        if (0x0200..0x0400).contains(&a) || a >= 0xC000 {
            u16::from_le_bytes([self.mem[a as usize], self.mem[a as usize + 1]])
        } else {
            self.rd16_slow(a)
        }
    }

    #[inline(always)]
    pub(crate) fn wr8(&mut self, a: u16, v: u8) {
        if (0x0200..0x0400).contains(&a) {
            self.mem[a as usize] = v;
        } else {
            self.wr8_slow(a, v);
        }
    }

    #[inline(always)]
    pub(crate) fn wr16(&mut self, a: u16, v: u16) {
        let a = a & !1;
        if (0x0200..0x0400).contains(&a) {
            self.mem[a as usize..a as usize + 2].copy_from_slice(&v.to_le_bytes());
        } else {
            self.wr16_slow(a, v);
        }
    }

    fn fail(&mut self, e: EmuError) {
        if self.fault.is_none() {
            self.fault = Some(e);
        }
    }

    fn unmodelled(&mut self, addr: u16) {
        let pc = self.pc_insn;
        self.fail(EmuError::Unmodelled { addr, pc });
    }

    #[cold]
    fn rd8_slow(&mut self, a: u16) -> u8 {
        match a {
            0x1000..=0x10FF => self.mem[a as usize],
            0x0000..=0x00FF => self.periph_rd8(a),
            0x0100..=0x01FF => {
                let w = self.periph_rd16(a & !1);
                if a & 1 == 0 {
                    w as u8
                } else {
                    (w >> 8) as u8
                }
            }
            _ => {
                let pc = self.pc_insn;
                self.fail(EmuError::Vacant { addr: a, pc });
                0
            }
        }
    }

    #[cold]
    fn rd16_slow(&mut self, a: u16) -> u16 {
        match a {
            0x1000..=0x10FF => u16::from_le_bytes([self.mem[a as usize], self.mem[a as usize + 1]]),
            0x0000..=0x00FF => {
                let lo = self.periph_rd8(a);
                let hi = self.periph_rd8(a + 1);
                u16::from_le_bytes([lo, hi])
            }
            0x0100..=0x01FF => self.periph_rd16(a),
            _ => {
                let pc = self.pc_insn;
                self.fail(EmuError::Vacant { addr: a, pc });
                0
            }
        }
    }

    #[cold]
    fn wr8_slow(&mut self, a: u16, v: u8) {
        match a {
            0x0000..=0x00FF => self.periph_wr8(a, v),
            // A byte write to a word module writes the low byte and clears the high byte.
            0x0100..=0x01FF => self.periph_wr16(a & !1, v as u16),
            0x1000..=0x10FF | 0xC000..=0xFFFF => {
                let pc = self.pc_insn;
                self.fail(EmuError::FlashWrite { addr: a, pc })
            }
            _ => {
                let pc = self.pc_insn;
                self.fail(EmuError::Vacant { addr: a, pc })
            }
        }
    }

    #[cold]
    fn wr16_slow(&mut self, a: u16, v: u16) {
        match a {
            0x0000..=0x00FF => {
                self.periph_wr8(a, v as u8);
                self.periph_wr8(a + 1, (v >> 8) as u8);
            }
            0x0100..=0x01FF => self.periph_wr16(a, v),
            0x1000..=0x10FF | 0xC000..=0xFFFF => {
                let pc = self.pc_insn;
                self.fail(EmuError::FlashWrite { addr: a, pc })
            }
            _ => {
                let pc = self.pc_insn;
                self.fail(EmuError::Vacant { addr: a, pc })
            }
        }
    }

    fn periph_rd8(&mut self, a: u16) -> u8 {
        let v = match a {
            0x0000 => self.sfr.ie1,
            0x0001 => self.sfr.ie2,
            0x0002 => self.sfr.ifg1,
            0x0003 => self.sfr.ifg2,
            0x0020 => self.ports.p1.pin_in(),
            0x0021..=0x0027 => *port_reg(&mut self.ports.p1, a - 0x20),
            0x0028 => self.ports.p2.pin_in(),
            0x0029..=0x002F => *port_reg(&mut self.ports.p2, a - 0x28),
            0x0041 => self.ports.p1.sel2,
            0x0042 => self.ports.p2.sel2,
            ADC10AE0 => self.adc.ae0,
            ADC10DTC0 | ADC10DTC1 => 0,
            DCOCTL | BCSCTL1 | BCSCTL2 | BCSCTL3 => self.bcs.read(a),
            UCA0CTL0..=UCA0TXBUF => {
                self.service_now();
                match self.usci.read(a, self.pc_insn) {
                    Ok(v) => {
                        if a == UCA0RXBUF {
                            // Reading UCA0RXBUF clears UCA0RXIFG (15.3.15.2) and the receive
                            // error flags (15.4.6).
                            self.sfr.ifg2 &= !IFG2_UCA0RXIFG;
                            self.usci.stat &= !(crate::usci::UCRXERR | crate::usci::UCOE | crate::usci::UCFE);
                            self.update();
                        }
                        v
                    }
                    Err(e) => {
                        self.fail(e);
                        0
                    }
                }
            }
            _ => {
                self.unmodelled(a);
                0
            }
        };
        v
    }

    fn periph_rd16(&mut self, a: u16) -> u16 {
        let now = self.now;
        match a {
            WDTCTL => self.wdt.read(),
            FCTL1 | FCTL2 | FCTL3 => 0x9600 | self.fctl[((a - FCTL1) / 2) as usize] as u16,
            0x012E | 0x0160..=0x0176 => match self.timer.read(a, now) {
                Some(v) => {
                    self.update();
                    v
                }
                None => {
                    self.unmodelled(a);
                    0
                }
            },
            ADC10CTL0 | ADC10CTL1 | ADC10MEM => {
                self.service_now();
                self.adc.read(a).unwrap_or(0)
            }
            _ => {
                self.unmodelled(a);
                0
            }
        }
    }

    /// Events due now are applied before a peripheral register is read.
    fn service_now(&mut self) {
        if self.next_event <= self.now {
            self.service();
        }
    }

    fn periph_wr8(&mut self, a: u16, v: u8) {
        let pc = self.pc_insn;
        match a {
            0x0000 => self.sfr.ie1 = v,
            0x0001 => self.sfr.ie2 = v,
            0x0002 => self.sfr.ifg1 = v,
            0x0003 => self.sfr.ifg2 = v,
            0x0021 => {
                if (self.ports.p1.out ^ v) & 0x40 != 0 {
                    self.ports.p1_6_toggles += 1;
                }
                self.ports.p1.out = v
            }
            0x0022..=0x0027 => *port_reg(&mut self.ports.p1, a - 0x20) = v,
            0x0029..=0x002F => *port_reg(&mut self.ports.p2, a - 0x28) = v,
            0x0041 => self.ports.p1.sel2 = v,
            0x0042 => self.ports.p2.sel2 = v,
            ADC10AE0 => self.adc.ae0 = v,
            // The DTC is not modelled: only "off" (0) may be written.
            ADC10DTC0 | ADC10DTC1 if v == 0 => {}
            DCOCTL | BCSCTL1 | BCSCTL2 | BCSCTL3 => {
                self.service_now();
                match self.bcs.write(a, v, pc) {
                    Ok(()) => self.clocks_changed(),
                    Err(e) => self.fail(e),
                }
            }
            UCA0CTL0..=UCA0TXBUF => {
                self.service_now();
                let tb = self.tb.clone();
                if a == crate::usci::UCA0CTL1 && v & crate::usci::UCSWRST != 0 {
                    // Setting UCSWRST resets UCA0RXIE, UCA0TXIE and UCA0RXIFG (15.3.1).
                    self.sfr.ie2 &= !(IE2_UCA0RXIE | IE2_UCA0TXIE);
                    self.sfr.ifg2 &= !IFG2_UCA0RXIFG;
                }
                match self.usci.write(a, v, self.now, self.smclk_div, &|c| tb.secs(c), pc) {
                    Ok(Some(true)) => self.sfr.ifg2 |= IFG2_UCA0TXIFG,
                    Ok(Some(false)) => self.sfr.ifg2 &= !IFG2_UCA0TXIFG,
                    Ok(None) => {}
                    Err(e) => self.fail(e),
                }
            }
            _ => self.unmodelled(a),
        }
        self.update();
    }

    fn periph_wr16(&mut self, a: u16, v: u16) {
        let pc = self.pc_insn;
        let now = self.now;
        match a {
            WDTCTL => {
                self.service_now();
                let (s, hz) = (self.seconds(), self.wdt_src_hz());
                match self.wdt.write(v, s, hz) {
                    WdtWrite::Ok => {}
                    WdtWrite::Violation => self.puc(ResetKind::WatchdogPassword),
                    WdtWrite::ClockSwitchWhileRunning => self.fail(EmuError::WdtClockSwitch { value: v, pc }),
                }
            }
            FCTL1 | FCTL2 | FCTL3 => {
                if v & 0xFF00 != FWKEY {
                    self.puc(ResetKind::FlashKey);
                    return;
                }
                let i = ((a - FCTL1) / 2) as usize;
                // FCTL1 WRT/ERASE/MERAS/BLKWRT (flash programming) are not modelled.
                if a == FCTL1 && v as u8 & FCTL1_PROGRAMMING != 0 {
                    self.unmodelled(a);
                }
                // FCTL3: KEYV (bit 1) is cleared by writing 0; ACCVIFG likewise.
                self.fctl[i] = v as u8;
            }
            0x0160..=0x0176 => {
                let div = self.smclk_div;
                if let Err(e) = self.timer.write(a, v, now, div, pc) {
                    self.fail(e);
                }
            }
            ADC10CTL0 | ADC10CTL1 => {
                self.service_now();
                let now_s = self.seconds();
                match self.adc.write(a, v, now_s, pc) {
                    Ok(true) => self.adc_trigger(now),
                    Ok(false) => {}
                    Err(e) => self.fail(e),
                }
            }
            _ => self.unmodelled(a),
        }
        self.update();
    }
}
