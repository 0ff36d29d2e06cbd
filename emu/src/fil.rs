//! Firmware in the loop: the release ELF runs with its ADC input (A4) fed from a waveform and
//! its UART line received at the nominal baud rate, as a host's USB-UART would.

use crate::elf::Image;
use crate::{uart_rx, Analog, Config, Emu, EmuError};

/// The two firmware build profiles (firmware/README.md).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Profile {
    pub name: &'static str,
    /// The baud rate the host's receiver uses.
    pub baud: f64,
    /// Timer clock / ticks per sample, as the Info frame states.
    pub rate_hz: f64,
    /// MCLK of the profile.
    pub mclk_hz: f64,
}

pub const LAUNCHPAD: Profile =
    Profile { name: "launchpad", baud: 9600.0, rate_hz: 1_000_000.0 / 1657.0, mclk_hz: 8_000_000.0 };
pub const FAST: Profile =
    Profile { name: "fast", baud: 250_000.0, rate_hz: 1_000_000.0 / 122.0, mclk_hz: 16_000_000.0 };
pub const PROFILES: [Profile; 2] = [LAUNCHPAD, FAST];

/// The analogue channel the firmware samples (INCH_4, P1.4).
pub const ADC_CHANNEL: u8 = 4;

/// The outcome of a run.
pub struct Run {
    pub emu: Emu,
    pub image: Image,
    /// Bytes as the host's receiver decoded them, and its framing errors.
    pub bytes: Vec<u8>,
    pub framing_errors: usize,
}

/// Loads `elf`, lets `patch` modify the loaded image (for fault injection), then runs for
/// `seconds` with `mv_at(t)` millivolts on A4 (other channels read 0 V).
pub fn run(
    elf: &[u8],
    profile: &Profile,
    seconds: f64,
    mut mv_at: impl FnMut(f64) -> f64 + Send + 'static,
    patch: impl FnOnce(&mut Emu, &Image),
) -> Result<Run, EmuError> {
    let mut emu = Emu::new(&Config::default());
    let image = emu.load_elf(elf)?;
    patch(&mut emu, &image);
    let input: Analog = Box::new(move |ch, t| if ch == ADC_CHANNEL { mv_at(t) / 1000.0 } else { 0.0 });
    emu.input = input;
    emu.adc.record = true;
    emu.run_seconds(seconds)?;
    let (bytes, framing_errors) = uart_rx::receive(&emu.usci.sent, profile.baud);
    Ok(Run { emu, image, bytes, framing_errors })
}

/// A running firmware whose line bytes are received as the simulated time advances, for a
/// live consumer (a host reading the emulated device like a serial port). The transmitted
/// characters are handed to the receiver and dropped once on the line, so memory stays
/// bounded over long runs.
pub struct Session {
    pub emu: Emu,
    pub image: Image,
    rx: uart_rx::Receiver,
}

impl Session {
    pub fn new(
        elf: &[u8],
        profile: &Profile,
        mut mv_at: impl FnMut(f64) -> f64 + Send + 'static,
    ) -> Result<Self, EmuError> {
        let mut emu = Emu::new(&Config::default());
        let image = emu.load_elf(elf)?;
        emu.input = Box::new(move |ch, t| if ch == ADC_CHANNEL { mv_at(t) / 1000.0 } else { 0.0 });
        Ok(Session { emu, image, rx: uart_rx::Receiver::new(profile.baud) })
    }

    /// Runs `seconds` more and returns the bytes received meanwhile.
    pub fn advance(&mut self, seconds: f64) -> Result<Vec<u8>, EmuError> {
        self.emu.run_seconds(seconds)?;
        let now = self.emu.seconds();
        let sent = &mut self.emu.usci.sent;
        // Characters still on the line stay until they end (a PUC may still cut them).
        let done = sent.iter().take_while(|c| c.bits.last().is_none_or(|b| b.1 <= now)).count();
        self.rx.feed(&sent[..done]);
        sent.drain(..done);
        Ok(self.rx.poll(now))
    }

    pub fn framing_errors(&self) -> usize {
        self.rx.framing_errors
    }
}

/// Replaces every occurrence of `pattern` in flash; returns how many.
pub fn patch_all_words(emu: &mut Emu, pattern: &[u16], replacement: &[u16]) -> usize {
    let mut n = 0;
    while patch_words(emu, pattern, replacement).is_some() {
        n += 1;
        if pattern == replacement {
            break;
        }
    }
    n
}

/// Finds the first occurrence of instruction words `pattern` in flash and replaces it.
/// For fault injection: e.g. the immediate of the write to UCA0BR0.
pub fn patch_words(emu: &mut Emu, pattern: &[u16], replacement: &[u16]) -> Option<u16> {
    let bytes: Vec<u8> = pattern.iter().flat_map(|w| w.to_le_bytes()).collect();
    let start = (0xC000..0xFFE0 - bytes.len()).step_by(2).find(|&a| emu.mem[a..a + bytes.len()] == bytes[..])?;
    for (i, w) in replacement.iter().enumerate() {
        emu.poke16((start + 2 * i) as u16, *w);
    }
    Some(start as u16)
}
