//! Stream decoder: bytes in, frames out.
//!
//! Modelled on defmt's stream decoder: feed whatever the port gave with
//! [`Decoder::received`], then call [`Decoder::decode`] until it says it needs more bytes.
//! "Need more bytes" and "malformed, resynchronised" are different answers: the first is
//! normal, the second means bytes were lost or corrupted and says how many were skipped.
//! Resynchronisation is free: COBS guarantees `0x00` only ever ends a frame.

use ct_wire::framing::{self, CobsError, DELIMITER};
use ct_wire::{Frame, FrameError, MAX_ENCODED_FRAME};

/// Why [`Decoder::decode`] returned no frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// No complete frame is buffered yet: feed more bytes.
    #[error("need more bytes")]
    NeedMoreBytes,
    /// Bytes were dropped because they did not form a valid frame; decoding resumes at the
    /// next delimiter.
    #[error("skipped {skipped} bytes: {reason}")]
    Malformed { skipped: usize, reason: Malformed },
}

/// What was wrong with skipped bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    /// COBS structure broken (a length byte pointing past the delimiter).
    Cobs,
    /// COBS was fine but the payload is not a valid frame (CRC, kind or length).
    Frame(FrameError),
    /// More bytes than any valid frame without a delimiter (noise, wrong baud rate).
    Overlong,
}

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Malformed::Cobs => f.write_str("broken COBS encoding"),
            Malformed::Frame(e) => write!(f, "{e}"),
            Malformed::Overlong => write!(f, "no frame delimiter within {MAX_ENCODED_FRAME} bytes (wrong baud rate?)"),
        }
    }
}

/// Incremental frame decoder with resynchronisation.
#[derive(Debug, Default)]
pub struct Decoder {
    /// Received bytes; `buf[start..]` is not yet decoded.
    buf: Vec<u8>,
    start: usize,
    /// Decoded payload of the frame most recently returned (frames borrow from it).
    scratch: Vec<u8>,
    /// Stream position (bytes) of `buf[0]`, for error offsets.
    consumed: u64,
    /// Stream position of the first byte of what `decode` returned last.
    frame_start: u64,
}

impl Decoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends bytes read from the line.
    pub fn received(&mut self, bytes: &[u8]) {
        if self.start > 0 && self.start == self.buf.len() {
            self.consumed += self.start as u64;
            self.buf.clear();
            self.start = 0;
        } else if self.start > 4096 && self.start * 2 > self.buf.len() {
            self.consumed += self.start as u64;
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Byte offset in the whole stream of the next byte to decode: where a reported problem
    /// ended.
    pub fn stream_offset(&self) -> u64 {
        self.consumed + self.start as u64
    }

    /// Stream offset of the first byte of the frame (or the malformed bytes) `decode` returned
    /// last, lone delimiters before it excluded: where an error in that frame is.
    pub fn frame_start(&self) -> u64 {
        self.frame_start
    }

    /// Bytes buffered but not yet decoded.
    pub fn pending(&self) -> usize {
        self.buf.len() - self.start
    }

    /// Decodes the next frame, if a whole one is buffered.
    pub fn decode(&mut self) -> Result<Frame<'_>, DecodeError> {
        loop {
            self.frame_start = self.consumed + self.start as u64;
            let rest = &self.buf[self.start..];
            let Some(len) = memchr::memchr(DELIMITER, rest) else {
                if rest.len() > MAX_ENCODED_FRAME {
                    // Keep the tail: it may be the start of a frame.
                    let skipped = rest.len() - MAX_ENCODED_FRAME;
                    self.start += skipped;
                    return Err(DecodeError::Malformed { skipped, reason: Malformed::Overlong });
                }
                return Err(DecodeError::NeedMoreBytes);
            };
            let encoded = &rest[..=len];
            self.start += len + 1;
            if len == 0 {
                // A lone delimiter (line idle, or the device flushing at boot) carries nothing.
                continue;
            }
            if len > MAX_ENCODED_FRAME {
                return Err(DecodeError::Malformed { skipped: len + 1, reason: Malformed::Overlong });
            }
            if self.scratch.len() < encoded.len() {
                self.scratch.resize(encoded.len().max(MAX_ENCODED_FRAME), 0);
            }
            let skipped = len + 1;
            let n = match framing::decode(encoded, &mut self.scratch) {
                Ok(n) => n,
                Err(CobsError::Truncated | CobsError::Corrupt) => {
                    return Err(DecodeError::Malformed { skipped, reason: Malformed::Cobs })
                }
            };
            return Frame::parse(&self.scratch[..n])
                .map_err(|e| DecodeError::Malformed { skipped, reason: Malformed::Frame(e) });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ct_wire::{Samples, Status};

    fn line(frame: &Frame) -> Vec<u8> {
        let mut out = vec![0u8; MAX_ENCODED_FRAME];
        let m = framing::encode_frame(frame, &mut out).unwrap();
        out.truncate(m);
        out
    }

    fn status(up: u32) -> Frame<'static> {
        Frame::Status(Status { dropped_total: 0, queue_high_water: 1, queue_capacity: 2, uptime_s: up })
    }

    #[test]
    fn need_more_bytes_until_delimiter() {
        let bytes = line(&status(7));
        let mut d = Decoder::new();
        for &b in &bytes[..bytes.len() - 1] {
            d.received(&[b]);
            assert_eq!(d.decode().unwrap_err(), DecodeError::NeedMoreBytes);
        }
        d.received(&bytes[bytes.len() - 1..]);
        assert_eq!(d.decode().unwrap(), status(7));
        assert_eq!(d.decode().unwrap_err(), DecodeError::NeedMoreBytes);
    }

    #[test]
    fn garbage_before_first_frame_is_reported_then_resyncs() {
        let mut d = Decoder::new();
        d.received(&[0x55, 0x13, 0x77, 0x00]);
        d.received(&line(&status(1)));
        match d.decode() {
            Err(DecodeError::Malformed { skipped: 4, .. }) => {}
            other => panic!("{other:?}"),
        }
        assert_eq!(d.decode().unwrap(), status(1));
    }

    #[test]
    fn corrupted_frame_is_skipped_and_next_decodes() {
        let packed = [1u8, 2, 3, 4, 5];
        let good = line(&Frame::Samples(Samples { first_index: 9, packed: &packed }));
        let mut bad = good.clone();
        bad[2] ^= 0x10; // the first_index byte, not a COBS code byte
        let mut d = Decoder::new();
        d.received(&bad);
        d.received(&good);
        assert!(matches!(
            d.decode(),
            Err(DecodeError::Malformed { reason: Malformed::Frame(FrameError::BadCrc { .. }), .. })
        ));
        assert!(matches!(d.decode(), Ok(Frame::Samples(s)) if s.first_index == 9));
        assert_eq!(d.stream_offset(), (bad.len() + good.len()) as u64);
    }

    #[test]
    fn endless_noise_without_delimiter_is_bounded() {
        let mut d = Decoder::new();
        d.received(&vec![0xA5; 10_000]);
        assert!(matches!(d.decode(), Err(DecodeError::Malformed { reason: Malformed::Overlong, .. })));
        assert_eq!(d.decode().unwrap_err(), DecodeError::NeedMoreBytes);
        assert!(d.pending() <= MAX_ENCODED_FRAME);
        d.received(&[0]);
        d.received(&line(&status(3)));
        assert!(matches!(d.decode(), Err(DecodeError::Malformed { .. })));
        assert_eq!(d.decode().unwrap(), status(3));
    }
}
