//! The two build profiles: clocks, sample rate and UART divisors, and the Info frame that
//! reports them.
//!
//! SMCLK = 8 MHz in both profiles, from the DCO's factory calibration: it divides to an exact
//! 1 MHz timer clock (Timer_A input divider /8) and to an exact 250000 baud. MCLK (the CPU)
//! depends on the profile:
//! - launchpad: DCO at 8 MHz (`CALBC1_8MHZ`/`CALDCO_8MHZ`), MCLK = SMCLK = 8 MHz: about 7 %
//!   CPU load, and valid over the whole supply range (8 MHz needs >= 2.2 V);
//! - fast: DCO at 16 MHz (`CALBC1_16MHZ`/`CALDCO_16MHZ`), MCLK = 16 MHz, SMCLK = DCO / 2.
//!   At 8 MHz the CPU would be about 94 % busy (cycles counted in `mspdebug sim` by CI: the
//!   table-less CRC alone takes 42 600 cycles per frame); at 16 MHz about half that. 16 MHz
//!   needs VCC >= 3.3 V: the LaunchPad's USB supply gives 3.5-3.6 V.
//!
//! The sample rate is `timer_clock_hz / ticks_per_sample`, both sent in the Info frame, so the
//! host knows it up to the calibrated DCO's tolerance (+/-3 % over temperature or supply,
//! +/-6 % over both: SLAS735, as quoted in the README); the host measures the true rate
//! against its own clock from receive times (`ct_core::sample_clock`).
//!
//! The tick counts are chosen so that sampling is not synchronous with 50 Hz or 60 Hz mains:
//! the ratio of mains period to sample period must not be close to a fraction with a small
//! denominator, or the samples of one second would fall on a few phases of the mains cycle
//! only. The host folds the sub-sampled stream over many cycles and needs the phases spread
//! evenly; the tests check the largest phase gap over one second at 49.8-50.2 Hz and
//! 59.8-60.2 Hz.

use ct_wire::cadence::Cadence;
use ct_wire::profile as clock;
use ct_wire::{BuildProfile, Info, ResetCause, PROTOCOL_VERSION, SAMPLE_BITS};

use crate::regs::{bcsctl2, uca0};
use crate::sampler::SAMPLES_PER_FRAME;

/// SMCLK, the timer's and the UART's clock, in both profiles.
pub const SMCLK_HZ: u32 = 8_000_000;

/// Which factory DCO calibration a profile runs from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DcoCal {
    /// CALBC1_8MHZ / CALDCO_8MHZ: MCLK = SMCLK = DCO.
    Mhz8,
    /// CALBC1_16MHZ / CALDCO_16MHZ: MCLK = DCO, SMCLK = DCO / 2.
    Mhz16,
}

impl DcoCal {
    pub const fn mclk_hz(self) -> u32 {
        match self {
            DcoCal::Mhz8 => 8_000_000,
            DcoCal::Mhz16 => 16_000_000,
        }
    }

    /// BCSCTL2: MCLK = DCO undivided (SELM = 0, DIVM = 0); SMCLK = DCO divided so that it is
    /// SMCLK_HZ (DIVS in bits 2-1).
    pub const fn bcsctl2(self) -> u8 {
        match self {
            DcoCal::Mhz8 => bcsctl2::DIVS_0,
            DcoCal::Mhz16 => bcsctl2::DIVS_1,
        }
    }
}

/// The ADC10 reference: the internal 2.5 V (REF2_5V); the analogue front end in spice/ is
/// designed for a 0-2.5 V input range.
pub const ADC_REF_MV: u16 = 2500;

/// Major, minor, patch: the firmware crates' version (a test checks they agree).
pub const FIRMWARE_VERSION: [u8; 3] = [0, 1, 0];

/// USCI_A UART bit-rate settings (MSP430x2xx Family User's Guide, SLAU144, 15.3.10).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UartDivisor {
    /// UCA0BR1:UCA0BR0 (the prescaler; in oversampling mode the BITCLK16 divider).
    pub br: u16,
    /// Second-stage modulation UCBRSx, 0-7.
    pub brs: u8,
    /// First-stage modulation UCBRFx, 0-15 (oversampling mode only).
    pub brf: u8,
    /// UCOS16: oversampling mode.
    pub os16: bool,
}

impl UartDivisor {
    /// The UCA0MCTL value: UCBRFx in bits 7-4, UCBRSx in bits 3-1, UCOS16 in bit 0.
    pub const fn mctl(&self) -> u8 {
        (self.brf << uca0::UCBRF_SHIFT) | (self.brs << uca0::UCBRS_SHIFT) | (self.os16 as u8 * uca0::UCOS16)
    }
}

/// One build profile: which link the stream is sized for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Profile {
    pub build: BuildProfile,
    pub dco: DcoCal,
    /// Timer_A input divider as a power of two (the ID field): the timer counts SMCLK / 2^id.
    pub timer_id: u8,
    /// Timer_A period in up mode (TACCR0 = ticks - 1); one ADC trigger per period.
    pub ticks_per_sample: u16,
    pub baud: u32,
    pub uart: UartDivisor,
}

/// The LaunchPad's `/dev/ttyACM0` back-channel, fixed at 9600 baud 8N1 (960 bytes/s).
///
/// 1 MHz / 1657 = 603.5 Sa/s: a 112-sample frame (149 bytes on the line, 155.2 ms, plus
/// about 5 ms to compute its CRC) every 185.6 ms: the buffer is free again 25 ms before the
/// other one fills, an Info frame (26 bytes, every 10 s) delays the loop by 2 ms at most,
/// and on average the line is 86 % busy. 50/603.5 = 0.08285 and 60/603.5 = 0.09942 have large
/// continued-fraction terms early (12; 14 and 10; 17), so one second of samples covers the
/// mains cycle evenly. 9600 baud from 8 MHz: oversampling, UCBR = 52, UCBRF = 1 (833 clocks
/// per bit, +0.04 %).
pub const LAUNCHPAD: Profile = Profile {
    build: BuildProfile::Launchpad,
    dco: DcoCal::Mhz8,
    timer_id: 3,
    ticks_per_sample: clock::LAUNCHPAD.ticks_per_sample,
    baud: 9600,
    uart: UartDivisor { br: 52, brs: 0, brf: 1, os16: true },
};

/// An external USB-UART at 250000 baud (FT232R, CP2102 and CH340 all support it) on
/// P1.1/P1.2.
///
/// 1 MHz / 122 = 8196.7 Sa/s, the full waveform (164 samples per 50 Hz cycle); 10.9 kB/s of
/// a 25 kB/s line. 122 rather than 125 ticks: 8000 Sa/s would repeat the same 160 phases of
/// every 50 Hz cycle. 250000 baud = 8 MHz / 32 exactly: oversampling, UCBR = 2, UCBRF = 0.
pub const FAST: Profile = Profile {
    build: BuildProfile::Fast,
    dco: DcoCal::Mhz16,
    timer_id: 3,
    ticks_per_sample: clock::FAST.ticks_per_sample,
    baud: 250_000,
    uart: UartDivisor { br: 2, brs: 0, brf: 0, os16: true },
};

// The tick counts come from `ct_wire::profile`, the one definition every host-side user of
// these rates shares; the timer clock is derived here from SMCLK and must agree with it.
const _: () = assert!(LAUNCHPAD.timer_clock_hz() == clock::LAUNCHPAD.timer_clock_hz);
const _: () = assert!(FAST.timer_clock_hz() == clock::FAST.timer_clock_hz);

impl Profile {
    /// The sample clock as `ct_wire::profile` defines it (the Info frame's two fields).
    pub const fn sample_clock(&self) -> clock::SampleClock {
        clock::SampleClock { timer_clock_hz: self.timer_clock_hz(), ticks_per_sample: self.ticks_per_sample }
    }

    pub const fn timer_clock_hz(&self) -> u32 {
        SMCLK_HZ >> self.timer_id
    }

    /// Sample rate in whole Hz, rounded down (what [`Cadence`] counts time in).
    pub const fn sample_rate_floor(&self) -> u32 {
        self.timer_clock_hz() / self.ticks_per_sample as u32
    }

    /// The Info/Status schedule for this profile's sample rate.
    pub const fn cadence(&self) -> Cadence {
        Cadence::new(self.sample_rate_floor())
    }

    /// The Info frame this firmware sends for this profile.
    pub const fn info(&self, reset_cause: ResetCause) -> Info {
        Info {
            protocol_version: PROTOCOL_VERSION,
            firmware_version: FIRMWARE_VERSION,
            timer_clock_hz: self.timer_clock_hz(),
            ticks_per_sample: self.ticks_per_sample,
            adc_ref_mv: ADC_REF_MV,
            adc_bits: SAMPLE_BITS as u8,
            baud: self.baud,
            reset_cause,
            build_profile: self.build,
            samples_per_frame: SAMPLES_PER_FRAME as u8,
            flags: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ct_wire::checksum::CRC_LEN;
    use ct_wire::frame::{samples_payload_len, INFO_BODY_LEN, STATUS_BODY_LEN};
    use ct_wire::framing::max_encoded_len;

    const PROFILES: [Profile; 2] = [LAUNCHPAD, FAST];

    /// Line bytes of a frame whose payload (kind byte included) is `payload` bytes.
    fn line_bytes(payload: usize) -> usize {
        max_encoded_len(payload + CRC_LEN)
    }

    /// UCBRSx modulation patterns, bit i of the frame uses entry i % 8 (SLAU144 table 15-2).
    const UCBRS_PATTERN: [[u32; 8]; 8] = [
        [0, 0, 0, 0, 0, 0, 0, 0],
        [0, 1, 0, 0, 0, 0, 0, 0],
        [0, 1, 0, 0, 0, 1, 0, 0],
        [0, 1, 0, 1, 0, 1, 0, 0],
        [0, 1, 0, 1, 0, 1, 0, 1],
        [0, 1, 1, 1, 0, 1, 0, 1],
        [0, 1, 1, 1, 0, 1, 1, 1],
        [0, 1, 1, 1, 1, 1, 1, 1],
    ];

    /// Worst transmit bit-edge error over an 8N1 character, in fractions of a bit, following
    /// the user guide's timing model: a bit lasts UCBR (low-frequency mode) or
    /// 16 * UCBR + UCBRF (oversampling) BRCLK cycles, plus the UCBRS modulation bit.
    fn worst_tx_error(p: &Profile) -> f64 {
        let ideal = SMCLK_HZ as f64 / p.baud as f64;
        let base = if p.uart.os16 { 16 * p.uart.br as u32 + p.uart.brf as u32 } else { p.uart.br as u32 };
        let mut t = 0u32;
        let mut worst: f64 = 0.0;
        for bit in 0..10 {
            t += base + UCBRS_PATTERN[p.uart.brs as usize][bit % 8];
            let err = (t as f64 - (bit + 1) as f64 * ideal) / ideal;
            worst = worst.max(err.abs());
        }
        worst
    }

    #[test]
    fn uart_divisors_are_within_one_percent_of_a_bit() {
        for p in PROFILES {
            assert!(p.uart.brs <= 7 && p.uart.brf <= 15 && p.uart.br >= 1);
            assert!(!p.uart.os16 || SMCLK_HZ / p.baud >= 16, "oversampling needs N >= 16");
            let e = worst_tx_error(&p);
            assert!(e < 0.01, "{:?}: worst bit error {:.3} %", p.build, e * 100.0);
        }
        assert_eq!(worst_tx_error(&FAST), 0.0, "250000 baud is 8 MHz / 32 exactly");
        assert_eq!(LAUNCHPAD.uart.mctl(), 0x11);
        assert_eq!(FAST.uart.mctl(), 0x01);
    }

    #[test]
    fn smclk_is_8_mhz_in_both_profiles() {
        for p in PROFILES {
            let divs = (p.dco.bcsctl2() >> 1) & 3;
            assert_eq!(p.dco.mclk_hz() >> divs, SMCLK_HZ, "{:?}", p.build);
        }
    }

    #[test]
    fn info_reports_the_exact_rate() {
        let i = LAUNCHPAD.info(ResetCause::PowerOn);
        assert_eq!((i.timer_clock_hz, i.ticks_per_sample), (1_000_000, 1657));
        assert!((i.sample_rate_hz() - 603.500_301_75).abs() < 1e-6);
        assert_eq!(LAUNCHPAD.sample_rate_floor(), 603);
        let f = FAST.info(ResetCause::Watchdog);
        assert_eq!((f.timer_clock_hz, f.ticks_per_sample), (1_000_000, 122));
        assert!(f.sample_rate_hz() >= 8000.0);
        assert!(f.baud >= 115_200);
        assert_eq!((f.adc_ref_mv, f.adc_bits, f.samples_per_frame), (2500, 10, 112));
        assert_eq!(f.build_profile, BuildProfile::Fast);
        assert_eq!(f.reset_cause, ResetCause::Watchdog);
    }

    #[test]
    fn firmware_version_matches_the_crate() {
        let v: Vec<u8> = env!("CARGO_PKG_VERSION").split('.').map(|p| p.parse().unwrap()).collect();
        assert_eq!(v, FIRMWARE_VERSION);
    }

    /// CPU cycles per byte of ct-wire's table-less CRC-16 on the device (the bit loop of
    /// `frame::seal` in the release disassembly is about 20 instructions per bit, ~255 cycles
    /// per byte); rounded up.
    const SEAL_CYCLES_PER_BYTE: f64 = 300.0;

    /// The double buffer never overruns: the buffer being sent is released as soon as its
    /// bytes are out, so sealing plus sending one Samples frame (`held`) must take less than
    /// the frame period in which the sampler fills the other buffer. An Info frame (at most
    /// one per frame, every 10 s) may make the main loop start the next frame late by `lag`;
    /// that frame must still be released in time, and frames followed by at most a Status
    /// must let the loop catch up. The long-run line load must leave headroom.
    #[test]
    fn line_budget_is_gap_free() {
        let samples = line_bytes(samples_payload_len(SAMPLES_PER_FRAME));
        assert_eq!(samples, 149);
        let info = line_bytes(1 + INFO_BODY_LEN);
        let status = line_bytes(1 + STATUS_BODY_LEN);
        assert_eq!((info, status), (26, 17));
        for p in PROFILES {
            let seal = (samples_payload_len(SAMPLES_PER_FRAME) as f64) * SEAL_CYCLES_PER_BYTE / p.dco.mclk_hz() as f64;
            let rate = p.timer_clock_hz() as f64 / p.ticks_per_sample as f64;
            let bytes_per_s = p.baud as f64 / 10.0;
            let period = SAMPLES_PER_FRAME as f64 / rate;
            let held = seal + samples as f64 / bytes_per_s;
            let lag = (held + info as f64 / bytes_per_s - period).max(0.0);
            let name = p.build;
            assert!(held + lag < 0.9 * period, "{name:?}: held {held:.4} s + lag {lag:.4} s, period {period:.4} s");
            assert!(held + status as f64 / bytes_per_s < period, "{name:?}: the loop never catches up");
            let load = (samples as f64 / period + status as f64 + info as f64 / 10.0) / bytes_per_s;
            assert!(load < 0.9, "{name:?}: line {:.1} % busy", load * 100.0);
        }
    }

    /// Largest gap between the mains phases hit by one second of samples, in units of the
    /// even spacing 1/N. Synchronous sampling (600 Sa/s at 50 Hz) gives N/12 = 50.
    fn worst_phase_gap(rate: f64, mains: f64) -> f64 {
        let n = rate as usize;
        let mut phases: Vec<f64> = (0..n).map(|k| (k as f64 * mains / rate).fract()).collect();
        phases.sort_by(f64::total_cmp);
        let wrap = 1.0 - phases[n - 1] + phases[0];
        let inner = phases.windows(2).map(|w| w[1] - w[0]).fold(wrap, f64::max);
        inner * n as f64
    }

    #[test]
    fn sampling_is_not_synchronous_with_mains() {
        assert!(worst_phase_gap(600.0, 50.0) > 40.0, "the check detects synchronism");
        for p in PROFILES {
            let rate = p.timer_clock_hz() as f64 / p.ticks_per_sample as f64;
            for mains in [49.8, 50.0, 50.2, 59.8, 60.0, 60.2] {
                let gap = worst_phase_gap(rate, mains);
                assert!(gap < 4.0, "{:?} at {mains} Hz: phase gap {gap:.2}", p.build);
            }
        }
    }
}
