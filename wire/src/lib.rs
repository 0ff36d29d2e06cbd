//! Wire format shared by the firmware and the host.
//!
//! `no_std`, no allocation, no atomics: the same code packs frames on the MSP430G2553 and
//! unpacks them on the host, so the two sides cannot disagree. The byte-level specification,
//! with golden vectors that the tests check in both directions, is in `SPEC.md` next to this
//! crate.
//!
//! Layers, from the line inwards:
//! - [`framing`]: COBS with a `0x00` delimiter around `payload || crc16_le(payload)`;
//! - [`frame`]: the payload, one kind byte then a fixed little-endian layout per kind;
//! - [`pack`]: 10-bit ADC samples, four in five bytes;
//! - [`cadence`]: when the device sends Info and Status frames between sample frames;
//! - [`command`]: the host's messages to the device (start streaming, keep-alive).
//!
//! Beside them, [`profile`]: the two build profiles' sample clocks (1 MHz / 1657 and
//! 1 MHz / 122), defined once for the firmware and everything that samples at its rates.
#![no_std]
#![forbid(unsafe_code)]

#[cfg(test)]
extern crate std;

pub mod cadence;
pub mod checksum;
pub mod command;
pub mod frame;
pub mod framing;
pub mod pack;
pub mod profile;

pub use frame::{AdcCal, AdcCalStatus, BuildProfile, Frame, FrameError, Info, ResetCause, Samples, Status};

/// Version of this wire format, carried in every Info frame. Version 2 added the ADC
/// calibration frame; a version 1 device sends none (its readings use the nominal reference).
pub const PROTOCOL_VERSION: u8 = 2;

/// The oldest protocol version a host still reads.
pub const MIN_PROTOCOL_VERSION: u8 = 1;

/// Bits per ADC sample on the wire (the ADC10's resolution).
pub const SAMPLE_BITS: u32 = 10;

/// Largest valid sample code.
pub const SAMPLE_MAX: u16 = (1 << SAMPLE_BITS) - 1;

/// Samples per Samples frame at the default frame size.
///
/// 112 samples give a 147-byte payload (+1 COBS, +1 delimiter = 149 bytes on the line), so the
/// sample payload efficiency on an 8N1 link is 1120 / 1490 = 0.752 (the ceiling for 10-bit
/// samples is 0.8), while two frame buffers still fit in the G2553's 512 B of RAM.
pub const DEFAULT_SAMPLES_PER_FRAME: usize = 112;

/// Upper bound on samples per frame. Keeps every encoded frame below 254 payload bytes, so
/// COBS adds exactly one byte and a receiver can bound its buffer.
pub const MAX_SAMPLES_PER_FRAME: usize = 192;

/// Longest encoded frame on the line, delimiter included.
pub const MAX_ENCODED_FRAME: usize =
    corncobs::max_encoded_len(frame::samples_payload_len(MAX_SAMPLES_PER_FRAME) + checksum::CRC_LEN);

/// Sample payload bits / UART line bits (8N1: 10 line bits per byte) for a Samples frame of
/// `n` samples. `n` must be a multiple of 4.
pub fn line_efficiency(samples_per_frame: usize) -> f32 {
    let encoded = corncobs::max_encoded_len(frame::samples_payload_len(samples_per_frame) + checksum::CRC_LEN);
    (samples_per_frame as f32 * SAMPLE_BITS as f32) / (encoded as f32 * 10.0)
}
