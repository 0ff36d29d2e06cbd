//! The main loop's streaming state machine, generic over the UART and the idle mechanism so
//! that the host tests run it with a mock UART and a scripted sample source.
//!
//! The device streams only while a host asks (ct-wire `command`, SPEC.md "Host -> device
//! messages"): the LaunchPad's USB bridge misbehaves when the target transmits while no
//! program has the port open. Sampling runs from boot (the ADC interrupt fills the frame
//! buffers, the main loop takes each full one), so the main loop wakes once a frame and
//! services the watchdog whether or not it streams; while idle it gives each buffer straight
//! back and sends nothing.
//!
//! Each [`Streamer::step`] handles one full buffer: idle, it checks the host's messages and
//! starts streaming on one; streaming, it seals the buffer with ct-wire's CRC, streams it
//! COBS-encoded byte by byte with `framing::encode_iter` (no second buffer: RAM is 512 B),
//! gives the buffer back, and sends whatever Info or Status frame the ct-wire [`Cadence`]
//! says is due, or stops once [`KEEPALIVE_TIMEOUT_S`] of samples passed without a message.
//! The device services the watchdog between steps, so a stalled stream resets the device
//! instead of hanging silently.

use ct_wire::cadence::{Cadence, Due};
use ct_wire::checksum::CRC_LEN;
use ct_wire::command::{Command, KEEPALIVE_TIMEOUT_S};
use ct_wire::frame::{seal, ADC_CAL_BODY_LEN, INFO_BODY_LEN, STATUS_BODY_LEN};
use ct_wire::{framing, FrameError, Status};
use embedded_hal_nb::serial;

use crate::profile::Profile;
use crate::sampler::{FrameBuf, Sampler, PAYLOAD_LEN, QUEUE_CAPACITY, SAMPLES_PER_FRAME};
use crate::tlv::{self, Segment};

/// Access to the sampler that the ADC interrupt shares with the main loop: on the device a
/// critical section around a static, on the host a `RefCell`.
pub trait Shared<'b> {
    fn with<R>(&self, f: impl FnOnce(&mut Sampler<'b>) -> R) -> R;
}

/// How the main loop waits.
pub trait Idle {
    /// Calls `poll` until it returns `Some`, sleeping between calls until an interrupt.
    ///
    /// On the device `poll` runs with interrupts disabled and the sleep re-enables them in
    /// the same instruction that enters LPM0, so an event that happens after a failed poll
    /// still wakes the CPU (no lost wake-up).
    fn wait_for<T>(&mut self, poll: impl FnMut() -> Option<T>) -> T;
}

/// Why a step failed. On the device the UART cannot fail and a frame error is impossible by
/// construction (the buffers are sized at compile time); either way the error stops the
/// watchdog service and the device resets, rather than streaming something wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepError<E> {
    Uart(E),
    Frame(FrameError),
}

/// Info frame: kind + body + CRC.
const INFO_RAW_LEN: usize = 1 + INFO_BODY_LEN + CRC_LEN;
/// Status frame: kind + body + CRC.
const STATUS_RAW_LEN: usize = 1 + STATUS_BODY_LEN + CRC_LEN;
/// ADC calibration frame: kind + body + CRC.
const ADC_CAL_RAW_LEN: usize = 1 + ADC_CAL_BODY_LEN + CRC_LEN;

/// Whole seconds since reset at sample index `next_index` (conversions since reset, dropped
/// ones included): exactly `floor(next_index * ticks_per_sample / timer_clock_hz)`, without
/// a timer of its own and without state. `next_index * ticks_per_sample` can exceed 32 bits,
/// so it is split at `timer_clock_hz`: the remainder part stays below
/// `timer_clock_hz * ticks_per_sample` < 2^32 for the profiles' 1 MHz and < 2^11 ticks.
/// (The index wraps after 2^32 samples, 82 days at 603.5 Sa/s, and uptime with it.)
pub fn uptime_s(next_index: u32, ticks_per_sample: u16, timer_clock_hz: u32) -> u32 {
    let ticks = ticks_per_sample as u32;
    let whole = next_index / timer_clock_hz;
    let rest = next_index % timer_clock_hz;
    whole.wrapping_mul(ticks) + rest * ticks / timer_clock_hz
}

/// Whether the device streams, and since when it has not heard from the host, in 2 bytes
/// (the state lives in `main`'s stack frame; RAM is 512 B): samples since the host's last
/// message while streaming (saturating below the two markers: the timeout is at most
/// 5 s x 8196 Sa/s = 40980 samples), or one of the two silent states.
type Link = u16;
/// Silent: no host has asked since reset.
const NEVER_STARTED: Link = u16::MAX;
/// Silent: the host stopped asking.
const STOPPED: Link = u16::MAX - 1;

/// The streaming state machine.
///
/// Kept small because it lives in `main`'s stack frame: the Info frame is built from the
/// `'static` profile only while it is sent, the ADC calibration frame from the TLV segment
/// (`T`: on the device a zero-sized handle on the flash).
pub struct Streamer<T> {
    profile: &'static Profile,
    tlv: T,
    reset_cause: ct_wire::ResetCause,
    cadence: Cadence,
    link: Link,
    /// Index after the last sample handled: the next frame's first_index minus this is the
    /// number of samples dropped in between.
    sent_end: u32,
}

impl<T: Segment> Streamer<T> {
    pub fn new(profile: &'static Profile, reset_cause: ct_wire::ResetCause, tlv: T) -> Self {
        Streamer { profile, tlv, reset_cause, cadence: profile.cadence(), link: NEVER_STARTED, sent_end: 0 }
    }

    /// Whether the device is streaming (after a host message, until the keep-alive timeout).
    pub fn streaming(&self) -> bool {
        self.link < STOPPED
    }

    /// Handles one full buffer of samples; returns which extra frame went out (the device
    /// blinks its heartbeat on Status). `inbox` gives the host's latest message, if any
    /// arrived since the last call (Start wins over KeepAlive).
    ///
    /// Idle, the buffer goes straight back; a message starts the stream:
    /// - the first start since reset sends a lone delimiter, then the Info frame, and restarts
    ///   the sample index at 0 (the frame being filled is dropped), exactly as the device's
    ///   boot did when it streamed from power-up: the delimiter ends whatever partial frame a
    ///   receiver still holds from before a reset (watchdog, reset button, cut mid-frame), and
    ///   the host counts the samples before the first frame from index 0;
    /// - a later start (after a keep-alive timeout) sends the Info frame alone: the line was
    ///   idle after a whole frame, and the index runs on, so a host still reading sees the
    ///   samples it missed as a gap, and one that just opened the port sees a stream that
    ///   begins mid-way.
    ///
    /// Streaming, the Samples buffer goes back to the sampler as soon as its bytes are out;
    /// the extra frame is encoded on the stack (24 bytes at most). Holding the buffer through
    /// the extra frame instead would save that RAM but, with the table-less CRC taking about
    /// 5 ms per frame, leave no margin at 9600 baud (see the profile tests). A Start while
    /// streaming sends Info after this frame; then the stream stops if the host has been
    /// silent for [`KEEPALIVE_TIMEOUT_S`] of samples.
    pub fn step<'b, U, S, I>(
        &mut self,
        uart: &mut U,
        shared: &S,
        idle: &mut I,
        inbox: impl FnOnce() -> Option<Command>,
    ) -> Result<Due, StepError<U::Error>>
    where
        U: serial::Write<u8>,
        S: Shared<'b>,
        I: Idle,
    {
        let buf: &'b mut FrameBuf = idle.wait_for(|| shared.with(|s| s.take_ready()));
        // ct-wire's Samples header: kind byte, then first_index little-endian.
        let first_index = u32::from_le_bytes([buf[1], buf[2], buf[3], buf[4]]);
        // The schedule counts time, so dropped samples count too: a stalled line delays
        // neither Status, Info nor the keep-alive timeout beyond the stall itself.
        let end = first_index.wrapping_add(SAMPLES_PER_FRAME as u32);
        let elapsed = end.wrapping_sub(self.sent_end);
        self.sent_end = end;
        if !self.streaming() {
            shared.with(|s| s.release(buf));
            if inbox().is_none() {
                return Ok(Due::Nothing);
            }
            let lead = self.link == NEVER_STARTED;
            if lead {
                shared.with(|s| s.restart_index());
                self.sent_end = 0;
            }
            self.link = 0;
            self.cadence = self.profile.cadence();
            self.send_info(uart, idle, lead)?;
            self.send_adc_cal(uart, idle)?;
            return Ok(Due::Info);
        }
        let sent = send_samples(uart, idle, buf);
        shared.with(|s| s.release(buf));
        sent?;
        let message = inbox();
        let since_host = if message.is_some() { 0 } else { (self.link as u32).saturating_add(elapsed) };
        self.link = if since_host >= KEEPALIVE_TIMEOUT_S * self.profile.sample_rate_floor() {
            STOPPED
        } else {
            since_host as Link
        };
        let due = match (message, self.cadence.after_samples(elapsed)) {
            (Some(Command::Start), _) => {
                self.cadence = self.profile.cadence();
                Due::Info
            }
            (_, due) => due,
        };
        match due {
            Due::Info => {
                self.send_info(uart, idle, false)?;
                self.send_adc_cal(uart, idle)?;
            }
            Due::Status => self.send_status(uart, shared, idle)?,
            Due::Nothing => {}
        }
        Ok(due)
    }

    // Not inlined, here and in send_status: their temporaries then occupy the stack only
    // while they run, instead of permanently in `main`'s frame (RAM is 512 B).
    //
    // `lead`: send a lone delimiter first (at the first start). It goes out after the frame is encoded,
    // so the frame is in RAM by the first wait for the UART (.ci/firmware/sim_boot.py looks
    // for it there).
    #[inline(never)]
    fn send_info<U: serial::Write<u8>, I: Idle>(
        &mut self,
        uart: &mut U,
        idle: &mut I,
        lead: bool,
    ) -> Result<(), StepError<U::Error>> {
        let mut raw = [0u8; INFO_RAW_LEN];
        let len = self.profile.info(self.reset_cause).encode(&mut raw).map_err(StepError::Frame)?;
        if lead {
            send_byte(uart, idle, framing::DELIMITER).map_err(StepError::Uart)?;
        }
        send_raw(uart, idle, &raw[..len])
    }

    /// The ADC calibration frame (ct-wire protocol version 2), after every Info frame, so a
    /// host that reads Info has the calibration before the next Samples frame.
    #[inline(never)]
    fn send_adc_cal<U: serial::Write<u8>, I: Idle>(
        &mut self,
        uart: &mut U,
        idle: &mut I,
    ) -> Result<(), StepError<U::Error>> {
        let mut raw = [0u8; ADC_CAL_RAW_LEN];
        let len = tlv::adc_cal(&self.tlv).encode(&mut raw).map_err(StepError::Frame)?;
        send_raw(uart, idle, &raw[..len])
    }

    #[inline(never)]
    fn send_status<'b, U, S, I>(&mut self, uart: &mut U, shared: &S, idle: &mut I) -> Result<(), StepError<U::Error>>
    where
        U: serial::Write<u8>,
        S: Shared<'b>,
        I: Idle,
    {
        // Only the copy is in the critical section: the uptime divisions (about 1000 cycles)
        // would delay the ADC interrupt by most of a fast-profile sample period.
        let c = shared.with(|s| s.counters());
        let status = Status {
            dropped_total: c.dropped_total,
            queue_high_water: c.high_water,
            queue_capacity: QUEUE_CAPACITY,
            uptime_s: uptime_s(c.next_index, self.profile.ticks_per_sample, self.profile.timer_clock_hz()),
        };
        // Status::encode rather than Frame::encode: no 26-byte Frame temporary on what is
        // the deepest stack path of the firmware.
        let mut raw = [0u8; STATUS_RAW_LEN];
        let len = status.encode(&mut raw).map_err(StepError::Frame)?;
        send_raw(uart, idle, &raw[..len])
    }
}

/// Seals a full buffer (its header and samples were written by the sampler) and sends it.
fn send_samples<U: serial::Write<u8>, I: Idle>(
    uart: &mut U,
    idle: &mut I,
    buf: &mut FrameBuf,
) -> Result<(), StepError<U::Error>> {
    let len = seal(&mut buf[..], PAYLOAD_LEN).map_err(StepError::Frame)?;
    send_raw(uart, idle, &buf[..len])
}

/// Streams `COBS(raw) || 0x00`, sleeping whenever the UART's transmit buffer is full.
fn send_raw<U: serial::Write<u8>, I: Idle>(uart: &mut U, idle: &mut I, raw: &[u8]) -> Result<(), StepError<U::Error>> {
    for byte in framing::encode_iter(raw) {
        send_byte(uart, idle, byte).map_err(StepError::Uart)?;
    }
    Ok(())
}

/// Writes one byte to the UART, sleeping while its transmit buffer is full.
///
/// Returns the UART's own error, not a `StepError`: on the device that is `Infallible`, so
/// the result needs no memory (a `StepError` result is returned through the stack and
/// copied at each `?`).
fn send_byte<U: serial::Write<u8>, I: Idle>(uart: &mut U, idle: &mut I, byte: u8) -> Result<(), U::Error> {
    idle.wait_for(|| match uart.write(byte) {
        Ok(()) => Some(Ok(())),
        Err(nb::Error::WouldBlock) => None,
        Err(nb::Error::Other(e)) => Some(Err(e)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uptime_is_exact() {
        // 603.5 Sa/s: 1207 samples are 1.999999 s, 1208 are 2.001656 s.
        assert_eq!(uptime_s(1207, 1657, 1_000_000), 1);
        assert_eq!(uptime_s(1208, 1657, 1_000_000), 2);
        for ticks in [122u16, 1657, 2047] {
            for i in (0..u32::MAX - 9_999_999).step_by(9_999_991).chain([u32::MAX]) {
                let exact = (i as u64 * ticks as u64 / 1_000_000) as u32;
                assert_eq!(uptime_s(i, ticks, 1_000_000), exact, "index {i}, {ticks} ticks");
            }
        }
    }
}
