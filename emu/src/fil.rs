//! Firmware in the loop: the release ELF runs with its ADC input (A4) fed from a waveform and
//! its UART line received at the nominal baud rate, as a host's USB-UART would; the host's
//! messages (ct-wire `command`) go to its UART receiver at the same rate.

use std::path::PathBuf;

use crate::elf::Image;
use crate::{uart_rx, Analog, Config, Emu, EmuError};

/// The two firmware build profiles (firmware/README.md), as the harness needs them: taken
/// from the firmware's own definitions (`ct_firmware_logic::profile`, whose sample clocks are
/// `ct_wire::profile`'s), so the receiver and the rate checks cannot drift from the build.
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

impl Profile {
    const fn of(name: &'static str, p: &ct_firmware_logic::profile::Profile) -> Profile {
        Profile { name, baud: p.baud as f64, rate_hz: p.sample_clock().rate_hz(), mclk_hz: p.dco.mclk_hz() as f64 }
    }
}

pub const LAUNCHPAD: Profile = Profile::of("launchpad", &ct_firmware_logic::profile::LAUNCHPAD);
pub const FAST: Profile = Profile::of("fast", &ct_firmware_logic::profile::FAST);
pub const PROFILES: [Profile; 2] = [LAUNCHPAD, FAST];

/// Where CI puts the release ELF of `profile`: `$CT_FIRMWARE_DIR/ct-firmware-<profile>.elf`,
/// by default firmware/target/ci/ (`.ci/firmware.sh` and `.ci/emu.sh` copy the two builds
/// there). Used by the tests and benches that run the real firmware, here and in `ct-sim`.
pub fn ci_elf_path(profile: &Profile) -> PathBuf {
    let dir = std::env::var_os("CT_FIRMWARE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../firmware/target/ci"));
    dir.join(format!("ct-firmware-{}.elf", profile.name))
}

/// The bytes of [`ci_elf_path`], or a message saying how to build them.
pub fn ci_elf(profile: &Profile) -> Result<Vec<u8>, String> {
    let p = ci_elf_path(profile);
    std::fs::read(&p)
        .map_err(|e| format!("{}: {e}; build the firmware first: bash .ci/emu.sh (or .ci/firmware.sh)", p.display()))
}

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

/// When [`run`]'s host sends its Start: once the firmware has set its UART up (within a
/// millisecond of power-up; bytes before that are not received, as on the chip).
pub const HOST_START_S: f64 = 0.05;

/// What a host that has the port open sends: a lone delimiter (ending whatever a receiver
/// holds) and Start.
pub fn host_start() -> Vec<u8> {
    let mut b = vec![ct_wire::framing::DELIMITER];
    b.extend_from_slice(ct_wire::command::Command::Start.line());
    b
}

/// Loads `elf`, lets `patch` modify the loaded image (for fault injection), then runs for
/// `seconds` with `mv_at(t)` millivolts on A4 (other channels read 0 V), with a host that
/// has the port open from power-up: it sends [`host_start`] at [`HOST_START_S`] and a
/// KeepAlive every second (`KEEPALIVE_INTERVAL_MS`) after it, as `ct-read` does.
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
    emu.host_send_at(HOST_START_S, &host_start(), profile.baud);
    let every = ct_wire::command::KEEPALIVE_INTERVAL_MS as f64 / 1000.0;
    for k in 1..=(seconds / every) as usize {
        emu.host_send_at(HOST_START_S + k as f64 * every, ct_wire::command::Command::KeepAlive.line(), profile.baud);
    }
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
    baud: f64,
}

impl Session {
    pub fn new(
        elf: &[u8],
        profile: &Profile,
        mv_at: impl FnMut(f64) -> f64 + Send + 'static,
    ) -> Result<Self, EmuError> {
        Session::with_config(elf, profile, &Config::default(), mv_at)
    }

    /// A session of an emulator made with `cfg`: e.g. its `dco_error`, a device whose
    /// calibrated DCO (and with it the sample clock and the baud rate) is that far off. The
    /// emulator's time ([`Emu::seconds`]) is true time, the host's; the firmware's is its DCO's.
    pub fn with_config(
        elf: &[u8],
        profile: &Profile,
        cfg: &Config,
        mut mv_at: impl FnMut(f64) -> f64 + Send + 'static,
    ) -> Result<Self, EmuError> {
        let mut emu = Emu::new(cfg);
        let image = emu.load_elf(elf)?;
        emu.input = Box::new(move |ch, t| if ch == ADC_CHANNEL { mv_at(t) / 1000.0 } else { 0.0 });
        Ok(Session { emu, image, rx: uart_rx::Receiver::new(profile.baud), baud: profile.baud })
    }

    /// The host sends `bytes` to the firmware's UART now (at the profile's baud rate).
    pub fn send(&mut self, bytes: &[u8]) {
        self.emu.host_send(bytes, self.baud);
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
