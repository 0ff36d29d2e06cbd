//! Golden bytes of the host -> device messages (SPEC.md, "Host -> device messages").
//!
//! Computed independently of ct-wire, with Python's `binascii.crc_hqx(payload, 0xFFFF)` for
//! CRC-16/IBM-3740 and textbook COBS, as `golden/make_vectors.py` computes the device's frames:
//! Start: payload 81, CRC 0x6059 -> line 04 81 59 60 00;
//! KeepAlive: payload 82, CRC 0x503A -> line 04 82 3a 50 00.

use ct_wire::checksum::crc16;
use ct_wire::command::{Command, CommandReceiver, COMMAND_LINE_LEN};
use ct_wire::framing;

const GOLDEN: [(Command, [u8; COMMAND_LINE_LEN]); 2] =
    [(Command::Start, [0x04, 0x81, 0x59, 0x60, 0x00]), (Command::KeepAlive, [0x04, 0x82, 0x3a, 0x50, 0x00])];

#[test]
fn messages_encode_to_the_golden_bytes() {
    for (c, line) in GOLDEN {
        let mut out = [0u8; COMMAND_LINE_LEN];
        assert_eq!(c.encode(&mut out), COMMAND_LINE_LEN);
        assert_eq!(out, line, "{c:?}");
        assert_eq!(c.line(), &line, "{c:?}");
    }
}

#[test]
fn golden_bytes_decode_with_the_frame_codec() {
    for (c, line) in GOLDEN {
        let mut raw = [0u8; COMMAND_LINE_LEN];
        let n = framing::decode(&line, &mut raw).unwrap();
        assert_eq!(n, 3);
        assert_eq!(raw[0], c.kind());
        assert_eq!(u16::from_le_bytes([raw[1], raw[2]]), crc16(&raw[..1]));
    }
}

/// Every single-bit error in a message makes it match nothing: the device ignores it (the
/// next message, a second later, is whole). A flipped bit that creates a 0x00 splits it in
/// two, neither of which matches either.
#[test]
fn any_flipped_bit_is_ignored() {
    for (_, line) in GOLDEN {
        for byte in 0..COMMAND_LINE_LEN {
            for bit in 0..8 {
                let mut bad = line;
                bad[byte] ^= 1 << bit;
                let mut rx = CommandReceiver::new();
                let got: Vec<Command> = bad.iter().filter_map(|&b| rx.push(b)).collect();
                assert!(got.is_empty(), "{bad:02x?} taken for {got:?}");
                // The receiver is back in sync for the next message.
                let next: Vec<Command> = GOLDEN[1].1.iter().filter_map(|&b| rx.push(b)).collect();
                if bad[COMMAND_LINE_LEN - 1] == 0 {
                    assert_eq!(next, [Command::KeepAlive], "after {bad:02x?}");
                }
            }
        }
    }
}
