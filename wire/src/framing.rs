//! COBS framing: each frame on the line is `COBS(kind || body || crc16_le) || 0x00`.
//!
//! COBS guarantees the encoded bytes contain no zero, so `0x00` only ever delimits frames and a
//! receiver that starts mid-stream, or loses bytes, resynchronises at the next `0x00`.
//! The COBS codec itself is the `corncobs` crate.

pub use corncobs::{max_encoded_len, CobsError};

/// The frame delimiter.
pub const DELIMITER: u8 = 0x00;

/// COBS-encodes `raw` into `out`, delimiter included; returns the bytes written.
/// Returns `None` if `out` is shorter than `max_encoded_len(raw.len())`.
pub fn encode(raw: &[u8], out: &mut [u8]) -> Option<usize> {
    if out.len() < max_encoded_len(raw.len()) {
        return None;
    }
    Some(corncobs::encode_buf(raw, out))
}

/// Encodes a whole frame for the line (payload, CRC, COBS, delimiter) into `out`; returns the
/// bytes written. `out` of [`crate::MAX_ENCODED_FRAME`] bytes always suffices.
pub fn encode_frame(frame: &crate::Frame, out: &mut [u8]) -> Result<usize, crate::FrameError> {
    let mut raw = [0u8; crate::MAX_ENCODED_FRAME];
    let n = frame.encode(&mut raw)?;
    encode(&raw[..n], out).ok_or(crate::FrameError::BufferTooSmall { needed: max_encoded_len(n) })
}

/// COBS-encodes `raw` lazily, delimiter included: the firmware feeds its UART from this
/// without a second buffer.
pub fn encode_iter(raw: &[u8]) -> impl Iterator<Item = u8> + '_ {
    corncobs::encode_iter(raw)
}

/// Decodes one COBS frame into `out`; `encoded` must end with its `0x00` delimiter and `out`
/// must be at least `encoded.len()` long. Returns the decoded length.
pub fn decode(encoded: &[u8], out: &mut [u8]) -> Result<usize, CobsError> {
    if out.len() < encoded.len() || encoded.last() != Some(&DELIMITER) {
        return Err(CobsError::Truncated);
    }
    corncobs::decode_buf(encoded, out)
}
