//! The two build profiles' sample clocks: the one definition of the rates 1 MHz / 1657 and
//! 1 MHz / 122.
//!
//! A host reading a stream never needs these: every Info frame states the timer clock and the
//! ticks per sample. They live here, beside [`BuildProfile`], for everything that must know
//! them without a stream and cannot depend on the firmware's crates: the firmware itself
//! (`firmware/logic/src/profile.rs` sets its Timer_A period from [`SampleClock::ticks_per_sample`]
//! and checks its timer clock against [`SampleClock::timer_clock_hz`]), the emulator's
//! firmware-in-the-loop profiles, spicegen's goldens and the golden tests, which sample at
//! these rates. Why these tick counts (sampling asynchronous with 50 and 60 Hz mains) is
//! explained in `firmware/logic/src/profile.rs` and firmware/README.md.

use crate::BuildProfile;

/// A sample clock: `timer_clock_hz / ticks_per_sample` samples per second.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SampleClock {
    pub timer_clock_hz: u32,
    pub ticks_per_sample: u16,
}

impl SampleClock {
    /// Samples per second, exact up to the accuracy of the timer clock.
    pub const fn rate_hz(&self) -> f64 {
        self.timer_clock_hz as f64 / self.ticks_per_sample as f64
    }
}

/// The LaunchPad's 9600-baud back-channel: 1 MHz / 1657 = 603.5 Sa/s.
pub const LAUNCHPAD: SampleClock = SampleClock { timer_clock_hz: 1_000_000, ticks_per_sample: 1657 };

/// An external USB-UART at 250000 baud: 1 MHz / 122 = 8196.7 Sa/s.
pub const FAST: SampleClock = SampleClock { timer_clock_hz: 1_000_000, ticks_per_sample: 122 };

impl BuildProfile {
    /// The sample clock this build runs at; `None` for a profile this crate does not know.
    pub const fn sample_clock(self) -> Option<SampleClock> {
        match self {
            BuildProfile::Launchpad => Some(LAUNCHPAD),
            BuildProfile::Fast => Some(FAST),
            BuildProfile::Other(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_the_documented_ones() {
        assert!((LAUNCHPAD.rate_hz() - 603.500_301_75).abs() < 1e-6);
        assert!((FAST.rate_hz() - 8_196.721_311).abs() < 1e-6);
        assert_eq!(BuildProfile::Launchpad.sample_clock(), Some(LAUNCHPAD));
        assert_eq!(BuildProfile::Fast.sample_clock(), Some(FAST));
        assert_eq!(BuildProfile::Other(9).sample_clock(), None);
    }
}
