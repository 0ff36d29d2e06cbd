//! Timer0_A3 (SLAU144 chapter 12) in the modes the firmware uses: stop, up and continuous
//! mode, compare mode with the output unit (all eight output modes, 12.2.5), CCIFG/TAIFG,
//! TAIV. Clocked from SMCLK through the input divider IDx. Capture mode, up/down mode and the
//! other clock sources are reported as unmodelled.
//!
//! The counter is computed lazily from DCO cycles: TAR increments once every
//! `smclk_div << ID` DCO cycles after the timer starts. Only the instants at which TAR becomes
//! TACCR0, TACCR1, TACCR2 or 0 are events; at them the flags and OUT bits change, and a
//! rising OUTx edge is reported to the ADC10 (SHSx, 22.2.5).

use crate::EmuError;

pub const TA0IV: u16 = 0x012E;
pub const TA0CTL: u16 = 0x0160;
pub const TA0CCTL0: u16 = 0x0162;
pub const TA0R: u16 = 0x0170;
pub const TA0CCR0: u16 = 0x0172;

pub const TAIFG: u16 = 0x0001;
pub const TAIE: u16 = 0x0002;
pub const TACLR: u16 = 0x0004;
pub const CCIFG: u16 = 0x0001;
pub const OUT: u16 = 0x0004;
pub const CCIE: u16 = 0x0010;
pub const CAP: u16 = 0x0100;

#[derive(Clone, Debug)]
pub struct TimerA {
    pub ctl: u16,
    pub cctl: [u16; 3],
    pub ccr: [u16; 3],
    /// TAR value at DCO cycle `t0` (a tick edge).
    tar0: u16,
    t0: u64,
    /// DCO cycles per timer tick.
    tick: u64,
    /// Ticks after `t0` already processed.
    done: u64,
    /// Rising edges of OUT0..2 since the last `take_edges` (time, channel).
    pub edges: Vec<(u64, u8)>,
}

impl TimerA {
    pub fn new() -> Self {
        TimerA { ctl: 0, cctl: [0; 3], ccr: [0; 3], tar0: 0, t0: 0, tick: 1, done: 0, edges: Vec::new() }
    }

    fn mode(&self) -> u16 {
        (self.ctl >> 4) & 3
    }

    /// TAR at `now`.
    pub fn tar(&self, now: u64) -> u16 {
        if self.mode() == 0 {
            return self.tar0;
        }
        let j = now.saturating_sub(self.t0) / self.tick;
        self.tar_after(j)
    }

    fn period(&self) -> u64 {
        if self.mode() == 1 {
            self.ccr[0] as u64 + 1
        } else {
            65536
        }
    }

    fn tar_after(&self, j: u64) -> u16 {
        ((self.tar0 as u64 + j) % self.period()) as u16
    }

    /// The next tick index > `self.done` at which TAR becomes one of the event values.
    fn next_tick(&self) -> Option<u64> {
        if self.mode() == 0 {
            return None;
        }
        let p = self.period();
        let cur = (self.tar0 as u64 + self.done) % p;
        let mut best = u64::MAX;
        for v in [self.ccr[0] as u64, self.ccr[1] as u64, self.ccr[2] as u64, 0] {
            if v >= p {
                continue;
            }
            let mut d = (v + p - cur) % p;
            if d == 0 {
                d = p;
            }
            best = best.min(d);
        }
        Some(self.done + best)
    }

    /// DCO cycle of the next event.
    pub fn next_event(&self) -> u64 {
        self.next_tick().map_or(u64::MAX, |j| self.t0 + j * self.tick)
    }

    /// Processes every event up to `now`.
    pub fn advance(&mut self, now: u64) {
        while let Some(j) = self.next_tick() {
            let t = self.t0 + j * self.tick;
            if t > now {
                break;
            }
            self.done = j;
            let v = self.tar_after(j);
            let up = self.mode() == 1;
            if v == 0 && !(up && self.ccr[0] == 0) {
                self.ctl |= TAIFG;
            }
            for ch in 0..3 {
                if self.cctl[ch] & CAP == 0 && v == self.ccr[ch] {
                    self.cctl[ch] |= CCIFG;
                    self.output(ch, true, t);
                }
            }
            if up && v == self.ccr[0] {
                for ch in 1..3 {
                    self.output(ch, false, t);
                }
            }
        }
    }

    /// The output unit (12.2.5.1, table 12-2): `equx` = the timer reached TACCRx, otherwise
    /// it reached TACCR0 (up mode), which matters to the modes 2, 3, 6, 7.
    fn output(&mut self, ch: usize, equx: bool, t: u64) {
        let c = self.cctl[ch];
        let old = c & OUT != 0;
        let mode = (c >> 5) & 7;
        let new = match (mode, equx) {
            (0, _) => old,
            (1, true) | (3, true) => true,
            (5, true) | (7, true) => false,
            (2, true) | (4, true) | (6, true) => !old,
            (2, false) | (3, false) => false,
            (6, false) | (7, false) => true,
            _ => old,
        };
        if new != old {
            self.cctl[ch] ^= OUT;
            if new {
                self.edges.push((t, ch as u8));
            }
        }
    }

    /// Timer0_A3 CC0 interrupt request (vector 0xFFF2).
    pub fn irq0(&self) -> bool {
        self.cctl[0] & (CCIE | CCIFG) == CCIE | CCIFG
    }

    /// Timer0_A3 CC1/CC2/TAIFG request (vector 0xFFF0).
    pub fn irq1(&self) -> bool {
        self.cctl[1] & (CCIE | CCIFG) == CCIE | CCIFG
            || self.cctl[2] & (CCIE | CCIFG) == CCIE | CCIFG
            || self.ctl & (TAIE | TAIFG) == TAIE | TAIFG
    }

    /// CCIFG0 is reset when its interrupt is accepted (12.2.6.1).
    pub fn accept0(&mut self) {
        self.cctl[0] &= !CCIFG;
    }

    /// Restarts the tick count at `now` from the current TAR (clock or divider changed).
    pub fn rebase(&mut self, now: u64, tick: u64) {
        self.advance(now);
        let tar = self.tar(now);
        self.tar0 = tar;
        self.t0 = now;
        self.done = 0;
        self.tick = tick.max(1);
    }

    /// Reads a word register (addresses 0x012E, 0x0160-0x0176).
    pub fn read(&mut self, addr: u16, now: u64) -> Option<u16> {
        self.advance(now);
        Some(match addr {
            TA0IV => {
                // Highest pending of CC1, CC2, TAIFG; reading resets it (12.2.6.2).
                if self.cctl[1] & (CCIE | CCIFG) == CCIE | CCIFG {
                    self.cctl[1] &= !CCIFG;
                    2
                } else if self.cctl[2] & (CCIE | CCIFG) == CCIE | CCIFG {
                    self.cctl[2] &= !CCIFG;
                    4
                } else if self.ctl & (TAIE | TAIFG) == TAIE | TAIFG {
                    self.ctl &= !TAIFG;
                    10
                } else {
                    0
                }
            }
            TA0CTL => self.ctl,
            0x0162 | 0x0164 | 0x0166 => self.cctl[((addr - 0x0162) / 2) as usize],
            TA0R => self.tar(now),
            0x0172 | 0x0174 | 0x0176 => self.ccr[((addr - 0x0172) / 2) as usize],
            _ => return None,
        })
    }

    /// Writes a word register; `tick` = DCO cycles per SMCLK cycle (the timer's source).
    pub fn write(&mut self, addr: u16, v: u16, now: u64, smclk_div: u64, pc: u16) -> Result<(), EmuError> {
        self.advance(now);
        let unmodelled = Err(EmuError::Unmodelled { addr, pc });
        match addr {
            TA0CTL => {
                let tassel = (v >> 8) & 3;
                let mc = (v >> 4) & 3;
                if mc == 3 || (mc != 0 && tassel != 2) {
                    return unmodelled;
                }
                let tar = if v & TACLR != 0 { 0 } else { self.tar(now) };
                self.ctl = v & !TACLR;
                self.tar0 = tar;
                self.t0 = now;
                self.done = 0;
                self.tick = smclk_div << ((v >> 6) & 3);
            }
            0x0162 | 0x0164 | 0x0166 => {
                if v & CAP != 0 {
                    return unmodelled;
                }
                self.cctl[((addr - 0x0162) / 2) as usize] = v & !0x0008;
            }
            TA0R => {
                self.tar0 = v;
                self.t0 = now;
                self.done = 0;
            }
            0x0172 | 0x0174 | 0x0176 => {
                self.ccr[((addr - 0x0172) / 2) as usize] = v;
                // Keep processed ticks; events are recomputed from the new compare values.
                let tar = self.tar(now);
                let j = now.saturating_sub(self.t0) / self.tick;
                self.t0 += j * self.tick;
                self.tar0 = tar;
                self.done = 0;
            }
            _ => return unmodelled,
        }
        Ok(())
    }
}

impl Default for TimerA {
    fn default() -> Self {
        Self::new()
    }
}
