//! USCI_A0 in UART mode, transmitter only (SLAU144 chapter 15).
//!
//! Bit timing (15.3.11, transmit bit timing): low-frequency mode
//! T_bit[i] = (UCBRx + m_UCBRSx[i]) / BRCLK; oversampling mode (UCOS16 = 1)
//! T_bit[i] = ((16 + m_UCBRSx[i]) * UCBRx + UCBRFx) / BRCLK, with the second-stage pattern
//! m_UCBRSx of table 15-2 applied from the start bit on. Writing UCA0TXBUF clears UCA0TXIFG;
//! the byte moves to the shift register when it is free, which sets UCA0TXIFG again
//! (15.3.8); UCBUSY is set while a character is on the line. The receiver, synchronous and
//! IrDA/auto-baud modes are not modelled. BRCLK must be SMCLK (UCSSELx = 2 or 3).

use crate::EmuError;

pub const UCA0ABCTL: u16 = 0x005D;
pub const UCA0CTL0: u16 = 0x0060;
pub const UCA0CTL1: u16 = 0x0061;
pub const UCA0BR0: u16 = 0x0062;
pub const UCA0BR1: u16 = 0x0063;
pub const UCA0MCTL: u16 = 0x0064;
pub const UCA0STAT: u16 = 0x0065;
pub const UCA0RXBUF: u16 = 0x0066;
pub const UCA0TXBUF: u16 = 0x0067;

pub const UCSWRST: u8 = 0x01;
pub const UCOS16: u8 = 0x01;
pub const UCBUSY: u8 = 0x01;

/// Table 15-2: UCBRSx modulation pattern, bit 0 (start bit) first. Deliberately transcribed
/// here and again in the firmware logic's tests (`profile.rs`): the emulator is the check on
/// the firmware's reading of SLAU144, so it must not share that reading.
const BRS_PATTERN: [[u8; 8]; 8] = [
    [0, 0, 0, 0, 0, 0, 0, 0],
    [0, 1, 0, 0, 0, 0, 0, 0],
    [0, 1, 0, 0, 0, 1, 0, 0],
    [0, 1, 0, 1, 0, 1, 0, 0],
    [0, 1, 0, 1, 0, 1, 0, 1],
    [0, 1, 1, 1, 0, 1, 0, 1],
    [0, 1, 1, 1, 0, 1, 1, 1],
    [0, 1, 1, 1, 1, 1, 1, 1],
];

/// A character put on the line.
#[derive(Clone, Debug, PartialEq)]
pub struct TxChar {
    pub byte: u8,
    /// Seconds at the start bit's falling edge.
    pub start_s: f64,
    /// Bit levels (start, data LSB first or MSB first, parity, stop) and their end times.
    pub bits: Vec<(bool, f64)>,
}

#[derive(Clone, Debug)]
pub struct Usci {
    pub ctl0: u8,
    pub ctl1: u8,
    pub br0: u8,
    pub br1: u8,
    pub mctl: u8,
    pub stat: u8,
    pub txbuf: Option<u8>,
    /// The character in the shift register: DCO cycle at which its last stop bit ends.
    shifting_until: Option<u64>,
    pub sent: Vec<TxChar>,
}

impl Usci {
    pub fn new() -> Self {
        Usci {
            ctl0: 0,
            ctl1: UCSWRST,
            br0: 0,
            br1: 0,
            mctl: 0,
            stat: 0,
            txbuf: None,
            shifting_until: None,
            sent: Vec::new(),
        }
    }

    /// PUC at `now_s`: the character on the line is cut off there (the pin returns to idle
    /// high); the characters sent so far are kept.
    pub fn reset(&mut self, now_s: f64) {
        if let Some(last) = self.sent.last_mut() {
            let mut start = last.start_s;
            let mut cut = Vec::with_capacity(last.bits.len() + 1);
            for &(level, end) in &last.bits {
                if end <= now_s {
                    cut.push((level, end));
                } else if start < now_s {
                    cut.push((level, now_s));
                    cut.push((true, end));
                } else {
                    cut.push((true, end));
                }
                start = end;
            }
            last.bits = cut;
        }
        let sent = std::mem::take(&mut self.sent);
        *self = Usci::new();
        self.sent = sent;
    }

    pub fn next_event(&self) -> u64 {
        self.shifting_until.unwrap_or(u64::MAX)
    }

    /// Bit durations in BRCLK cycles for a frame of `n` bits.
    pub fn bit_brclks(&self, n: usize) -> Vec<u64> {
        let br = self.br0 as u64 | (self.br1 as u64) << 8;
        let brs = ((self.mctl >> 1) & 7) as usize;
        let brf = (self.mctl >> 4) as u64;
        (0..n)
            .map(|i| {
                let m = BRS_PATTERN[brs][i % 8] as u64;
                if self.mctl & UCOS16 != 0 {
                    (16 + m) * br + brf
                } else {
                    br + m
                }
            })
            .collect()
    }

    /// The frame's bit levels: start, 7 or 8 data bits, parity, 1 or 2 stop bits (15.3.2).
    fn frame_bits(&self, byte: u8) -> Vec<bool> {
        let n = if self.ctl0 & 0x10 != 0 { 7 } else { 8 };
        let mut bits = vec![false];
        let msb = self.ctl0 & 0x20 != 0;
        for i in 0..n {
            let k = if msb { n - 1 - i } else { i };
            bits.push(byte >> k & 1 != 0);
        }
        if self.ctl0 & 0x80 != 0 {
            let ones = (byte & if n == 7 { 0x7F } else { 0xFF }).count_ones();
            let even = self.ctl0 & 0x40 != 0;
            bits.push((ones % 2 == 1) == even);
        }
        bits.push(true);
        if self.ctl0 & 0x08 != 0 {
            bits.push(true);
        }
        bits
    }

    /// Moves TXBUF into the shift register at DCO cycle `now`; returns true if it did.
    fn load(&mut self, now: u64, smclk_div: u64, secs: &dyn Fn(u64) -> f64) -> bool {
        let Some(byte) = self.txbuf.take() else { return false };
        let levels = self.frame_bits(byte);
        let lens = self.bit_brclks(levels.len());
        let mut t = now;
        let mut bits = Vec::with_capacity(levels.len());
        for (l, n) in levels.iter().zip(lens) {
            t += n.max(1) * smclk_div;
            bits.push((*l, secs(t)));
        }
        self.sent.push(TxChar { byte, start_s: secs(now), bits });
        self.shifting_until = Some(t);
        self.stat |= UCBUSY;
        true
    }

    /// The character on the line ended at its scheduled time; returns true if the next one
    /// was loaded (TXIFG is set again).
    pub fn advance(&mut self, now: u64, smclk_div: u64, secs: &dyn Fn(u64) -> f64) -> bool {
        match self.shifting_until {
            Some(t) if t <= now => {
                self.shifting_until = None;
                self.stat &= !UCBUSY;
                self.load(t, smclk_div, secs)
            }
            _ => false,
        }
    }

    pub fn read(&self, addr: u16, pc: u16) -> Result<u8, EmuError> {
        Ok(match addr {
            UCA0CTL0 => self.ctl0,
            UCA0CTL1 => self.ctl1,
            UCA0BR0 => self.br0,
            UCA0BR1 => self.br1,
            UCA0MCTL => self.mctl,
            UCA0STAT => self.stat,
            UCA0TXBUF => self.txbuf.unwrap_or(0),
            _ => return Err(EmuError::Unmodelled { addr, pc }),
        })
    }

    /// Writes a register. Returns Some(true) if TXIFG is to be set, Some(false) cleared.
    pub fn write(
        &mut self,
        addr: u16,
        v: u8,
        now: u64,
        smclk_div: u64,
        secs: &dyn Fn(u64) -> f64,
        pc: u16,
    ) -> Result<Option<bool>, EmuError> {
        let unmodelled = Err(EmuError::Unmodelled { addr, pc });
        match addr {
            UCA0CTL0 => {
                // UCMODEx != 0 (multiprocessor, auto-baud) and UCSYNC (SPI) are not modelled.
                if v & 0x07 != 0 {
                    return unmodelled;
                }
                self.ctl0 = v
            }
            UCA0CTL1 => {
                let ssel = v >> 6;
                if v & UCSWRST == 0 && ssel < 2 {
                    return unmodelled;
                }
                let was_reset = self.ctl1 & UCSWRST != 0;
                self.ctl1 = v;
                if v & UCSWRST != 0 {
                    // UCSWRST: the transmitter stops, UCAxTXIFG is set (15.3.1).
                    self.txbuf = None;
                    self.shifting_until = None;
                    self.stat &= !UCBUSY;
                    return Ok(Some(true));
                }
                if was_reset {
                    return Ok(Some(true));
                }
            }
            UCA0BR0 => self.br0 = v,
            UCA0BR1 => self.br1 = v,
            UCA0MCTL => self.mctl = v,
            UCA0STAT => self.stat = (self.stat & UCBUSY) | (v & !UCBUSY),
            UCA0TXBUF => {
                if self.ctl1 & UCSWRST != 0 {
                    return Ok(None);
                }
                self.txbuf = Some(v);
                if self.shifting_until.is_none() {
                    self.load(now, smclk_div, secs);
                    return Ok(Some(true));
                }
                return Ok(Some(false));
            }
            _ => return unmodelled,
        }
        Ok(None)
    }
}

impl Default for Usci {
    fn default() -> Self {
        Self::new()
    }
}
