//! The main loop's streaming state machine, generic over the UART and the idle mechanism so
//! that the host tests run it with a mock UART and a scripted sample source.
//!
//! One [`Streamer::step`] sends one Samples frame: it waits (asleep) for a full buffer from
//! the [`Sampler`], seals it with ct-wire's CRC, streams it COBS-encoded byte by byte with
//! `framing::encode_iter` (no second buffer: RAM is 512 B) and gives the buffer back. Before
//! the first frame it sends Info, and after each frame whatever Info or Status frame the
//! ct-wire [`Cadence`] says is due. The device services the watchdog between steps, so a
//! stalled stream resets the device instead of hanging silently.

use ct_wire::cadence::{Cadence, Due};
use ct_wire::checksum::CRC_LEN;
use ct_wire::frame::{seal, INFO_BODY_LEN, STATUS_BODY_LEN};
use ct_wire::{framing, Frame, FrameError, Info, Status};
use embedded_hal_nb::serial;

use crate::profile::Profile;
use crate::sampler::{Counters, FrameBuf, Sampler, PAYLOAD_LEN, QUEUE_CAPACITY, SAMPLES_PER_FRAME};

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

/// Seconds since reset, counted from the sample index so it needs no timer of its own:
/// exact, because every sample is `ticks_per_sample` ticks of a `timer_clock_hz` clock.
#[derive(Clone, Debug)]
struct Uptime {
    last_index: u32,
    /// Timer ticks not yet counted as a whole second (< timer_clock_hz).
    ticks: u32,
    seconds: u32,
}

impl Uptime {
    /// Advances to sample index `next_index` (wrapping: the index wraps after 2^32 samples).
    fn advance(&mut self, next_index: u32, ticks_per_sample: u16, timer_clock_hz: u32) -> u32 {
        let samples = next_index.wrapping_sub(self.last_index);
        self.last_index = next_index;
        // Called about once a second, so samples * ticks_per_sample (about timer_clock_hz per
        // second) stays far below 2^32.
        self.ticks = self
            .ticks
            .saturating_add(samples.wrapping_mul(ticks_per_sample as u32));
        while self.ticks >= timer_clock_hz {
            self.ticks -= timer_clock_hz;
            self.seconds = self.seconds.wrapping_add(1);
        }
        self.seconds
    }
}

/// The streaming state machine.
pub struct Streamer {
    info: Info,
    cadence: Cadence,
    ticks_per_sample: u16,
    timer_clock_hz: u32,
    uptime: Uptime,
    /// Index after the last sample sent: the next frame's first_index minus this is the
    /// number of samples dropped in between.
    sent_end: u32,
}

impl Streamer {
    pub fn new(profile: &Profile, reset_cause: ct_wire::ResetCause) -> Self {
        Streamer {
            info: profile.info(reset_cause),
            cadence: profile.cadence(),
            ticks_per_sample: profile.ticks_per_sample,
            timer_clock_hz: profile.timer_clock_hz(),
            uptime: Uptime {
                last_index: 0,
                ticks: 0,
                seconds: 0,
            },
            sent_end: 0,
        }
    }

    /// Sends one Samples frame, preceded by Info at boot and followed by a due Info/Status.
    pub fn step<'b, U, S, I>(
        &mut self,
        uart: &mut U,
        shared: &S,
        idle: &mut I,
    ) -> Result<(), StepError<U::Error>>
    where
        U: serial::Write<u8>,
        S: Shared<'b>,
        I: Idle,
    {
        if self.cadence.boot() {
            self.send_info(uart, idle)?;
        }
        let buf: &'b mut FrameBuf = idle.wait_for(|| shared.with(|s| s.take_ready()));
        let first_index = u32::from_le_bytes([buf[1], buf[2], buf[3], buf[4]]);
        let sent = send_samples(uart, idle, buf);
        shared.with(|s| s.release(buf));
        sent?;
        // The schedule counts time, so dropped samples count too: a stalled line delays
        // neither Status nor Info beyond the stall itself.
        let end = first_index.wrapping_add(SAMPLES_PER_FRAME as u32);
        let elapsed = end.wrapping_sub(self.sent_end);
        self.sent_end = end;
        match self.cadence.after_samples(elapsed) {
            Due::Info => self.send_info(uart, idle),
            Due::Status => {
                let counters = shared.with(|s| s.counters());
                self.send_status(uart, idle, counters)
            }
            Due::Nothing => Ok(()),
        }
    }

    fn send_info<U: serial::Write<u8>, I: Idle>(
        &mut self,
        uart: &mut U,
        idle: &mut I,
    ) -> Result<(), StepError<U::Error>> {
        let mut raw = [0u8; INFO_RAW_LEN];
        let len = Frame::Info(self.info)
            .encode(&mut raw)
            .map_err(StepError::Frame)?;
        send_raw(uart, idle, &raw[..len])
    }

    fn send_status<U: serial::Write<u8>, I: Idle>(
        &mut self,
        uart: &mut U,
        idle: &mut I,
        c: Counters,
    ) -> Result<(), StepError<U::Error>> {
        let status = Status {
            dropped_total: c.dropped_total,
            queue_high_water: c.high_water,
            queue_capacity: QUEUE_CAPACITY,
            uptime_s: self
                .uptime
                .advance(c.next_index, self.ticks_per_sample, self.timer_clock_hz),
        };
        let mut raw = [0u8; STATUS_RAW_LEN];
        let len = Frame::Status(status)
            .encode(&mut raw)
            .map_err(StepError::Frame)?;
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
fn send_raw<U: serial::Write<u8>, I: Idle>(
    uart: &mut U,
    idle: &mut I,
    raw: &[u8],
) -> Result<(), StepError<U::Error>> {
    for byte in framing::encode_iter(raw) {
        idle.wait_for(|| match uart.write(byte) {
            Ok(()) => Some(Ok(())),
            Err(nb::Error::WouldBlock) => None,
            Err(nb::Error::Other(e)) => Some(Err(StepError::Uart(e))),
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uptime_counts_whole_seconds_exactly() {
        let mut u = Uptime {
            last_index: 0,
            ticks: 0,
            seconds: 0,
        };
        // 603.5 Sa/s: 1207 samples are 1.999999 s, 1208 are 2.001656 s.
        assert_eq!(u.advance(603, 1657, 1_000_000), 0);
        assert_eq!(u.advance(1207, 1657, 1_000_000), 1);
        assert_eq!(u.advance(1208, 1657, 1_000_000), 2);
        assert_eq!(u.ticks, 1208 * 1657 - 2_000_000);
        // Across the 2^32 wrap of the sample index.
        let mut w = Uptime {
            last_index: u32::MAX - 10,
            ticks: 0,
            seconds: 7,
        };
        assert_eq!(w.advance(8197 - 11, 122, 1_000_000), 8, "8197 samples of 122 us");
    }
}
