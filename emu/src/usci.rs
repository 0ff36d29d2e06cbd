//! USCI_A0 in UART mode (SLAU144 chapter 15): the transmitter, and the receiver for the bytes
//! a host sends.
//!
//! Bit timing (15.3.11, transmit bit timing): low-frequency mode
//! `T_bit[i] = (UCBRx + m_UCBRSx[i]) / BRCLK`; oversampling mode (UCOS16 = 1)
//! `T_bit[i] = ((16 + m_UCBRSx[i]) * UCBRx + UCBRFx) / BRCLK`, with the second-stage pattern
//! m_UCBRSx of table 15-2 applied from the start bit on. Writing UCA0TXBUF clears UCA0TXIFG;
//! the byte moves to the shift register when it is free, which sets UCA0TXIFG again
//! (15.3.8); UCBUSY is set while a character is on the line. BRCLK must be SMCLK (UCSSELx = 2
//! or 3).
//!
//! Receiver (15.3.6, 15.3.7, 15.3.12, 15.3.15.2): a host character sent at `baud` is sampled
//! at the USCI's own bit timing (the same table 15-2 pattern as transmit); when its stop bit,
//! 9.5 host bits after the start edge, falls outside the USCI's stop bit the character has a
//! framing error: with UCRXEIE = 0 (the only setting modelled) it is not loaded into
//! UCA0RXBUF and only UCFE and UCRXERR are set (15.3.6). Otherwise it is loaded when its stop
//! bit is sampled: UCA0RXIFG is set, and if UCA0RXIFG was still set (the previous character
//! not read) UCOE and UCRXERR are set and the previous character is lost (table 15-1).
//! Reading UCA0RXBUF clears UCA0RXIFG and the error flags UCFE, UCPE, UCOE, UCRXERR (15.4,
//! UCAxSTAT). Characters arrive only while UCSWRST = 0 and P1.1 is UCA0RXD (P1SEL.1 =
//! P1SEL2.1 = 1, data sheet port P1 function table); otherwise the USCI never sees them.
//! Setting UCSWRST clears UCA0RXIFG and UCA0RXIE (15.3.1). Parity, address and break
//! detection, and the majority vote of each bit, are not modelled.

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
/// UCA0STAT receive error bits (SLAU144 15.4.6): UCRXERR, UCOE, UCFE (UCPE 0x10 unmodelled).
pub const UCRXERR: u8 = 0x04;
pub const UCOE: u8 = 0x20;
pub const UCFE: u8 = 0x40;
/// UCA0CTL1 UCRXEIE: erroneous characters received into UCA0RXBUF (not modelled).
pub const UCRXEIE: u8 = 0x20;

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
    pub rxbuf: u8,
    /// Host characters on their way: (seconds at which the stop bit is sampled, byte, the
    /// host's baud rate), in time order.
    pub rx_line: std::collections::VecDeque<(f64, u8, f64)>,
    /// End of the last character the host put on the line, seconds.
    rx_line_end: f64,
    /// Host characters loaded into UCA0RXBUF, lost to a framing error, and not seen at all
    /// (USCI in reset or P1.1 not UCA0RXD).
    pub received: u64,
    pub rx_framing_errors: u64,
    pub rx_unseen: u64,
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
            rxbuf: 0,
            rx_line: std::collections::VecDeque::new(),
            rx_line_end: 0.0,
            received: 0,
            rx_framing_errors: 0,
            rx_unseen: 0,
        }
    }

    /// The host puts `bytes` on UCA0RXD at `baud`, 8N1 back to back, the first start bit at
    /// `at_s` or when the host's previous character ends, whichever is later.
    pub fn host_send(&mut self, at_s: f64, bytes: &[u8], baud: f64) {
        let bit = 1.0 / baud;
        let mut t = at_s.max(self.rx_line_end);
        for &b in bytes {
            self.rx_line.push_back((t + 9.5 * bit, b, baud));
            t += 10.0 * bit;
        }
        self.rx_line_end = t;
    }

    /// When the next host character's stop bit is sampled, seconds.
    pub fn rx_next_s(&self) -> Option<f64> {
        self.rx_line.front().map(|c| c.0)
    }

    /// The next host character reaches the receiver: returns true if it set UCA0RXIFG.
    /// `rxifg`: UCA0RXIFG before; `seen`: the receiver is on and P1.1 is UCA0RXD.
    pub fn rx_arrive(&mut self, rxifg: bool, seen: bool, smclk_hz: f64) -> bool {
        let Some((_, byte, baud)) = self.rx_line.pop_front() else { return false };
        if !seen || self.ctl1 & UCSWRST != 0 {
            self.rx_unseen += 1;
            return false;
        }
        // The USCI samples the stop bit in the middle of its own 10th bit (15.3.12): the
        // host's stop bit lasts from 9 to 10 host bits after the start edge.
        let lens = self.bit_brclks(10);
        let own: f64 = lens[..9].iter().sum::<u64>() as f64 + lens[9] as f64 / 2.0;
        let sample_s = own / smclk_hz;
        let bit = 1.0 / baud;
        if sample_s < 9.0 * bit || sample_s > 10.0 * bit {
            self.rx_framing_errors += 1;
            self.stat |= UCFE | UCRXERR;
            return false;
        }
        if rxifg {
            self.stat |= UCOE | UCRXERR;
        }
        self.rxbuf = byte;
        self.received += 1;
        true
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
        let (line, line_end) = (std::mem::take(&mut self.rx_line), self.rx_line_end);
        let (received, framing, unseen) = (self.received, self.rx_framing_errors, self.rx_unseen);
        *self = Usci::new();
        self.sent = sent;
        // The host goes on sending; the counts are the run's.
        (self.rx_line, self.rx_line_end) = (line, line_end);
        (self.received, self.rx_framing_errors, self.rx_unseen) = (received, framing, unseen);
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
            UCA0RXBUF => self.rxbuf,
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
                if (v & UCSWRST == 0 && ssel < 2) || v & UCRXEIE != 0 {
                    return unmodelled;
                }
                let was_reset = self.ctl1 & UCSWRST != 0;
                self.ctl1 = v;
                if v & UCSWRST != 0 {
                    // UCSWRST: the transmitter stops, UCAxTXIFG is set (15.3.1).
                    self.txbuf = None;
                    self.shifting_until = None;
                    self.stat &= !(UCBUSY | UCRXERR | UCOE | UCFE);
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
