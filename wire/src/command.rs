//! Host -> device messages: the host asks the device to stream and keeps asking.
//!
//! The LaunchPad's on-board debugger bridges the UART to USB, and it is known to misbehave
//! when the target transmits while no program has the port open. So the device is silent
//! until a host asks ([`Command::Start`]) and stops on its own when the host stops asking
//! ([`Command::KeepAlive`] at least every [`KEEPALIVE_TIMEOUT_S`]).
//!
//! Each message is framed exactly like the device's frames (SPEC.md, "Host -> device
//! messages"): `COBS(kind || crc16_le(kind)) || 0x00`, five bytes on the line. Both messages
//! are constants, and COBS encodes a payload in exactly one way, so a receiver checks a
//! message by comparing the bytes between two delimiters with the two constants: the same
//! check as decoding COBS and verifying the CRC, without a decoder on the device. Anything
//! else (a garbled byte, a terminal's or ModemManager's text, line noise) matches neither and
//! is ignored up to the next `0x00`.

use crate::checksum::{crc16, CRC_LEN};

/// Kind byte of [`Command::Start`]. Host -> device kinds have bit 7 set, device -> host kinds
/// not, so a message looped back to its sender is never taken for one of its own kind.
pub const KIND_START: u8 = 0x81;
/// Kind byte of [`Command::KeepAlive`].
pub const KIND_KEEPALIVE: u8 = 0x82;

/// Bytes of one message on the line, delimiter included.
pub const COMMAND_LINE_LEN: usize = 5;

/// `Start` on the line: COBS(0x81, CRC 0x6059 little-endian) and the delimiter.
pub const START_LINE: [u8; COMMAND_LINE_LEN] = [0x04, 0x81, 0x59, 0x60, 0x00];
/// `KeepAlive` on the line: COBS(0x82, CRC 0x503A little-endian) and the delimiter.
pub const KEEPALIVE_LINE: [u8; COMMAND_LINE_LEN] = [0x04, 0x82, 0x3A, 0x50, 0x00];

/// The device stops streaming once this many seconds of samples passed without a message.
pub const KEEPALIVE_TIMEOUT_S: u32 = 5;
/// How often a host sends [`Command::KeepAlive`]: four may be lost before the device stops.
pub const KEEPALIVE_INTERVAL_MS: u32 = 1000;

/// A host -> device message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// Start streaming (an idle device begins with an Info frame); a streaming device sends
    /// an Info frame after the frame in progress and goes on.
    Start,
    /// The host is still there. An idle device starts streaming, as on [`Command::Start`].
    KeepAlive,
}

impl Command {
    pub fn kind(self) -> u8 {
        match self {
            Command::Start => KIND_START,
            Command::KeepAlive => KIND_KEEPALIVE,
        }
    }

    /// The message's bytes on the line.
    pub fn line(self) -> &'static [u8; COMMAND_LINE_LEN] {
        match self {
            Command::Start => &START_LINE,
            Command::KeepAlive => &KEEPALIVE_LINE,
        }
    }

    /// Encodes the message from its definition (kind, CRC, COBS, delimiter) into `out`; the
    /// tests check that this equals [`Command::line`].
    pub fn encode(self, out: &mut [u8; COMMAND_LINE_LEN]) -> usize {
        let mut raw = [0u8; 1 + CRC_LEN];
        raw[0] = self.kind();
        let crc = crc16(&raw[..1]);
        raw[1..].copy_from_slice(&crc.to_le_bytes());
        corncobs::encode_buf(&raw, out)
    }
}

/// Marks a message longer than any command: discard up to the next delimiter.
const OVERLONG: u8 = u8::MAX;

/// Finds the host's messages in the received bytes, one byte at a time (the device calls it
/// from its receive interrupt), and keeps the latest for whoever acts on them: 6 bytes of
/// state, `Copy` so that the device keeps it in a `Cell` (no borrow flag).
#[derive(Clone, Copy, Debug)]
pub struct CommandReceiver {
    buf: [u8; COMMAND_LINE_LEN - 1],
    len: u8,
    pending: Option<Command>,
}

impl Default for CommandReceiver {
    fn default() -> Self {
        Self::new()
    }
}

impl CommandReceiver {
    pub const fn new() -> Self {
        CommandReceiver { buf: [0; COMMAND_LINE_LEN - 1], len: 0, pending: None }
    }

    /// Takes one received byte and keeps the message it completes, if any, for
    /// [`CommandReceiver::take`]. A Start not yet taken is kept over a later KeepAlive (it
    /// asks for more).
    pub fn receive(&mut self, byte: u8) {
        if let Some(c) = self.push(byte) {
            if self.pending != Some(Command::Start) {
                self.pending = Some(c);
            }
        }
    }

    /// The message kept by [`CommandReceiver::receive`] since the last call, if any.
    pub fn take(&mut self) -> Option<Command> {
        self.pending.take()
    }

    /// Takes one received byte; returns the message it completes, if any.
    pub fn push(&mut self, byte: u8) -> Option<Command> {
        if byte == crate::framing::DELIMITER {
            let got = match self.buf.get(..self.len as usize) {
                Some(b) if b == &START_LINE[..COMMAND_LINE_LEN - 1] => Some(Command::Start),
                Some(b) if b == &KEEPALIVE_LINE[..COMMAND_LINE_LEN - 1] => Some(Command::KeepAlive),
                _ => None,
            };
            self.len = 0;
            return got;
        }
        match self.buf.get_mut(self.len as usize) {
            Some(slot) if self.len != OVERLONG => {
                *slot = byte;
                self.len += 1;
            }
            _ => self.len = OVERLONG,
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_the_encoded_messages() {
        for c in [Command::Start, Command::KeepAlive] {
            let mut out = [0xAA; COMMAND_LINE_LEN];
            assert_eq!(c.encode(&mut out), COMMAND_LINE_LEN);
            assert_eq!(&out, c.line(), "{c:?}");
        }
    }

    #[test]
    fn receiver_finds_messages_between_noise() {
        let mut rx = CommandReceiver::new();
        let mut stream = std::vec::Vec::new();
        stream.extend_from_slice(b"AT+GCAP\r\n");
        stream.extend_from_slice(&START_LINE); // glued to the text: dropped with it
        stream.push(0); // a lone delimiter, as a host sends before Start
        stream.extend_from_slice(&START_LINE);
        stream.extend_from_slice(&[0x04, 0x81]); // cut short by a lost byte...
        stream.extend_from_slice(&KEEPALIVE_LINE); // ...glued to the next message: dropped
        stream.extend_from_slice(&KEEPALIVE_LINE);
        let got: std::vec::Vec<Command> = stream.iter().filter_map(|&b| rx.push(b)).collect();
        assert_eq!(got, [Command::Start, Command::KeepAlive]);
    }

    #[test]
    fn a_start_not_taken_is_kept_over_a_keepalive() {
        let mut rx = CommandReceiver::new();
        assert_eq!(rx.take(), None);
        START_LINE.iter().chain(&KEEPALIVE_LINE).for_each(|&b| rx.receive(b));
        assert_eq!(rx.take(), Some(Command::Start));
        assert_eq!(rx.take(), None);
        KEEPALIVE_LINE.iter().for_each(|&b| rx.receive(b));
        assert_eq!(rx.take(), Some(Command::KeepAlive));
    }
}
