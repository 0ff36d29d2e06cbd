//! Watchdog timer+ (SLAU144 chapter 10).
//!
//! WDTCTL (0x0120) is password protected: reads give 0x69 in the high byte, writes need 0x5A
//! or cause a PUC (10.2.1). In watchdog mode (WDTTMSEL = 0) the expiry of the selected
//! interval causes a PUC and sets WDTIFG (10.2.3); in interval-timer mode it sets WDTIFG,
//! which requests the WDT interrupt if WDTIE is set and is reset when it is accepted (10.2.4).
//! The counter is kept as elapsed time of the clock source, so a clock change keeps the count.
//!
//! Changing the clock source (WDTSSEL) while the counter runs is reported: the Watchdog Timer+
//! chapter of SLAU144 says to hold the WDT+ (WDTHOLD) before changing the clock source, or
//! the interval may come out wrong. So a write is rejected if the WDT was running (WDTHOLD
//! = 0 before it) and WDTSSEL changes, even if the same write sets WDTHOLD: hold, switch,
//! then start, in three writes. (The guide's companion note, change the interval WDTISx
//! together with WDTCNTCL, is not checked.)

/// The WDTCTL address.
pub const WDTCTL: u16 = 0x0120;
pub const WDTHOLD: u8 = 0x80;
pub const WDTTMSEL: u8 = 0x10;
pub const WDTCNTCL: u8 = 0x08;
pub const WDTSSEL: u8 = 0x04;

/// What a write did.
#[derive(Debug, PartialEq, Eq)]
pub enum WdtWrite {
    Ok,
    /// Wrong password: PUC (10.2.1).
    Violation,
    /// WDTSSEL changed while the WDT was running (not halted by WDTHOLD); the write is not
    /// applied.
    ClockSwitchWhileRunning,
}

/// What an expiry did.
#[derive(Debug, PartialEq, Eq)]
pub enum WdtExpiry {
    /// Watchdog mode: PUC with WDTIFG.
    Reset,
    /// Interval mode: WDTIFG set.
    Interval,
}

#[derive(Clone, Debug)]
pub struct Wdt {
    /// WDTCTL low byte (WDTCNTCL always reads 0).
    pub ctl: u8,
    /// Source clocks counted up to `at_s`.
    count: f64,
    at_s: f64,
}

impl Wdt {
    /// PUC state: watchdog mode, SMCLK, /32768, running (WDTCTL = 0x6900).
    pub fn new(now_s: f64) -> Self {
        Wdt { ctl: 0, count: 0.0, at_s: now_s }
    }

    pub fn read(&self) -> u16 {
        0x6900 | (self.ctl & !WDTCNTCL) as u16
    }

    /// Interval in source clocks (WDTISx: 32768, 8192, 512, 64).
    pub fn interval(&self) -> f64 {
        [32768.0, 8192.0, 512.0, 64.0][(self.ctl & 3) as usize]
    }

    pub fn uses_aclk(&self) -> bool {
        self.ctl & WDTSSEL != 0
    }

    pub fn is_interval_mode(&self) -> bool {
        self.ctl & WDTTMSEL != 0
    }

    fn running(&self) -> bool {
        self.ctl & WDTHOLD == 0
    }

    /// Brings the count up to `now_s` at `src_hz`.
    pub fn sync(&mut self, now_s: f64, src_hz: f64) {
        if self.running() {
            self.count += (now_s - self.at_s) * src_hz;
        }
        self.at_s = now_s;
    }

    pub fn write(&mut self, v: u16, now_s: f64, src_hz: f64) -> WdtWrite {
        if v >> 8 != 0x5A {
            return WdtWrite::Violation;
        }
        let b = v as u8;
        if self.running() && (b ^ self.ctl) & WDTSSEL != 0 {
            return WdtWrite::ClockSwitchWhileRunning;
        }
        self.sync(now_s, src_hz);
        if b & WDTCNTCL != 0 {
            self.count = 0.0;
        }
        self.ctl = b & !WDTCNTCL;
        WdtWrite::Ok
    }

    /// Seconds at which the interval ends, if running (`src_hz` after the last sync).
    pub fn expiry_s(&self, src_hz: f64) -> Option<f64> {
        self.running().then(|| self.at_s + (self.interval() - self.count).max(0.0) / src_hz)
    }

    /// The interval ended at `t_s`.
    pub fn expire(&mut self, t_s: f64) -> WdtExpiry {
        self.count = 0.0;
        self.at_s = t_s;
        if self.is_interval_mode() {
            WdtExpiry::Interval
        } else {
            WdtExpiry::Reset
        }
    }
}
