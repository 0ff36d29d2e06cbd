//! Round trips and deliberate corruption: every single-bit flip, truncation and byte drop of a
//! valid frame must be rejected (CRC-16 detects all errors of up to 3 bits in frames this
//! short), never accepted as a different frame.

use ct_wire::frame::{Frame, FrameError};
use ct_wire::pack::pack4;
use ct_wire::{framing, AdcCal, AdcCalStatus, BuildProfile, Info, ResetCause, Samples, Status};
use proptest::prelude::*;

fn line_bytes(frame: &Frame) -> Vec<u8> {
    let mut out = vec![0u8; ct_wire::MAX_ENCODED_FRAME];
    let m = framing::encode_frame(frame, &mut out).unwrap();
    out.truncate(m);
    out
}

/// Decodes one line frame (delimiter included) to an owned result for comparison.
fn decode(line: &[u8]) -> Result<String, String> {
    let mut raw = vec![0u8; line.len()];
    let n = framing::decode(line, &mut raw).map_err(|e| e.to_string())?;
    Frame::parse(&raw[..n]).map(|f| format!("{f:?}")).map_err(|e| e.to_string())
}

fn arb_info() -> impl Strategy<Value = Info> {
    (
        any::<[u8; 3]>(),
        any::<u32>(),
        1u16..,
        any::<u16>(),
        any::<u32>(),
        any::<u8>(),
        any::<u8>(),
        any::<u8>(),
        any::<u8>(),
    )
        .prop_map(|(fw, clk, ticks, mv, baud, rc, bp, spf, flags)| Info {
            protocol_version: ct_wire::PROTOCOL_VERSION,
            firmware_version: fw,
            timer_clock_hz: clk,
            ticks_per_sample: ticks,
            adc_ref_mv: mv,
            adc_bits: 10,
            baud,
            reset_cause: ResetCause::from_byte(rc),
            build_profile: BuildProfile::from_byte(bp),
            samples_per_frame: spf,
            flags,
        })
}

proptest! {
    #[test]
    fn samples_roundtrip(first in any::<u32>(), codes in prop::collection::vec(0u16..1024, 1..=48usize)) {
        let codes: Vec<u16> = codes.iter().cycle().take(codes.len() * 4).copied().collect();
        let packed: Vec<u8> = codes.chunks(4).flat_map(|c| pack4(c.try_into().unwrap())).collect();
        let frame = Frame::Samples(Samples { first_index: first, packed: &packed });
        let line = line_bytes(&frame);
        prop_assert_eq!(line.iter().filter(|&&b| b == 0).count(), 1, "only the delimiter is zero");
        let mut raw = vec![0u8; line.len()];
        let n = framing::decode(&line, &mut raw).unwrap();
        match Frame::parse(&raw[..n]).unwrap() {
            Frame::Samples(s) => {
                prop_assert_eq!(s.first_index, first);
                prop_assert_eq!(s.iter().collect::<Vec<_>>(), codes);
            }
            other => prop_assert!(false, "decoded {:?}", other),
        }
    }

    #[test]
    fn info_and_status_roundtrip(info in arb_info(), d in any::<u32>(), hw in any::<u16>(), cap in any::<u16>(), up in any::<u32>()) {
        for frame in [Frame::Info(info), Frame::Status(Status { dropped_total: d, queue_high_water: hw, queue_capacity: cap, uptime_s: up })] {
            let line = line_bytes(&frame);
            prop_assert_eq!(decode(&line), Ok(format!("{frame:?}")));
        }
    }

    #[test]
    fn adc_cal_roundtrip(status in any::<u8>(), gain in any::<u16>(), offset in any::<i16>(), vref in any::<u16>()) {
        let frame = Frame::AdcCal(AdcCal { status: AdcCalStatus::from_byte(status), gain_factor: gain, offset, vref25_factor: vref });
        let line = line_bytes(&frame);
        prop_assert_eq!(decode(&line), Ok(format!("{frame:?}")));
    }

    /// Arbitrary bytes never panic the frame parser or the COBS decoder.
    #[test]
    fn arbitrary_bytes_never_panic(mut bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = Frame::parse(&bytes);
        bytes.push(0);
        let mut out = vec![0u8; bytes.len()];
        let _ = framing::decode(&bytes, &mut out);
    }
}

fn sample_frame_line() -> Vec<u8> {
    let codes: Vec<u16> = (0..112).map(|i| (i * 37 % 1024) as u16).collect();
    let packed: Vec<u8> = codes.chunks(4).flat_map(|c| pack4(c.try_into().unwrap())).collect();
    line_bytes(&Frame::Samples(Samples { first_index: 1234, packed: &packed }))
}

fn adc_cal_line() -> Vec<u8> {
    line_bytes(&Frame::AdcCal(AdcCal {
        status: AdcCalStatus::Valid,
        gain_factor: 0x7FE0,
        offset: -2,
        vref25_factor: 33423,
    }))
}

#[test]
fn every_single_bit_flip_is_rejected() {
    for good in [sample_frame_line(), adc_cal_line()] {
        every_flip_rejected(&good);
    }
}

fn every_flip_rejected(good: &[u8]) {
    let body = good.len() - 1; // never touch the delimiter: a flip there is a truncation
    let mut rejected = 0;
    for byte in 0..body {
        for bit in 0..8 {
            let mut bad = good.to_vec();
            bad[byte] ^= 1 << bit;
            if bad[byte] == 0 {
                // A flip to zero splits the frame at a new delimiter: check the first half.
                bad.truncate(byte + 1);
            }
            assert!(decode(&bad).is_err(), "flip of bit {bit} in byte {byte} accepted");
            rejected += 1;
        }
    }
    assert_eq!(rejected, body * 8);
}

#[test]
fn every_dropped_byte_and_truncation_is_rejected() {
    for good in [sample_frame_line(), adc_cal_line()] {
        every_drop_rejected(&good);
    }
}

fn every_drop_rejected(good: &[u8]) {
    for i in 0..good.len() - 1 {
        let mut bad = good.to_vec();
        bad.remove(i);
        assert!(decode(&bad).is_err(), "dropping byte {i} accepted");
        let mut cut = good[..i].to_vec();
        cut.push(0);
        assert!(decode(&cut).is_err(), "truncation to {i} bytes accepted");
    }
}

#[test]
fn wrong_lengths_are_named() {
    // A Status body one byte short, with a valid CRC: the length check must catch it.
    let mut raw = vec![0x03u8; 12];
    let n = ct_wire::frame::seal(&mut [0; 0], 0).unwrap_err();
    assert_eq!(n, FrameError::BufferTooSmall { needed: 2 });
    raw.extend([0, 0]);
    let len = raw.len() - 2;
    ct_wire::frame::seal(&mut raw, len).unwrap();
    assert_eq!(Frame::parse(&raw), Err(FrameError::BadLength { kind: 0x03, len: 11 }));
    // A Samples body whose packed part is not whole groups.
    let mut raw = vec![0x02, 0, 0, 0, 0, 1, 2, 3, 0, 0];
    ct_wire::frame::seal(&mut raw, 8).unwrap();
    assert_eq!(Frame::parse(&raw), Err(FrameError::BadLength { kind: 0x02, len: 7 }));
    // An ADC calibration body one byte long, one byte short.
    for (body, len) in [(vec![0u8; 8], 8), (vec![0u8; 6], 6)] {
        let mut raw = vec![0x04];
        raw.extend(body);
        raw.extend([0, 0]);
        ct_wire::frame::seal(&mut raw, 1 + len).unwrap();
        assert_eq!(Frame::parse(&raw), Err(FrameError::BadLength { kind: 0x04, len }));
    }
    // Unknown kind.
    let mut raw = vec![0x7E, 0, 0];
    ct_wire::frame::seal(&mut raw, 1).unwrap();
    assert_eq!(Frame::parse(&raw), Err(FrameError::UnknownKind { kind: 0x7E }));
}
