//! Golden byte vectors, checked in both directions.
//!
//! `golden/vectors.txt` is written by `golden/make_vectors.py`, an independent Python
//! implementation of SPEC.md (Python's `binascii.crc_hqx` for the CRC, textbook COBS), so
//! these tests compare two implementations, not the code with its own output.

use ct_wire::frame::Frame;
use ct_wire::pack::pack4;
use ct_wire::{framing, AdcCal, AdcCalStatus, BuildProfile, Info, ResetCause, Samples, Status};

fn vectors() -> Vec<(String, Vec<u8>)> {
    include_str!("../golden/vectors.txt")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(" | ").collect();
            assert_eq!(f.len(), 3, "malformed vector line: {l}");
            let hex = f[2].trim();
            let bytes = (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
            (f[0].to_string(), bytes)
        })
        .collect()
}

fn packed(codes: &[u16]) -> Vec<u8> {
    codes.chunks(4).flat_map(|c| pack4(c.try_into().unwrap())).collect()
}

/// The frames the vectors describe, built from their descriptions.
fn expected(name: &str, store: &mut Vec<u8>) -> Frame<'static> {
    let mut samples = |first_index: u32, codes: Vec<u16>| {
        *store = packed(&codes);
        let leaked: &'static [u8] = Box::leak(store.clone().into_boxed_slice());
        Frame::Samples(Samples { first_index, packed: leaked })
    };
    match name {
        "info_launchpad" => Frame::Info(Info {
            protocol_version: 1,
            firmware_version: [0, 1, 0],
            timer_clock_hz: 1_000_000,
            ticks_per_sample: 1657,
            adc_ref_mv: 2500,
            adc_bits: 10,
            baud: 9600,
            reset_cause: ResetCause::PowerOn,
            build_profile: BuildProfile::Launchpad,
            samples_per_frame: 112,
            flags: 0,
        }),
        "status" => {
            Frame::Status(Status { dropped_total: 3, queue_high_water: 17, queue_capacity: 32, uptime_s: 86400 })
        }
        "samples_four" => samples(0, vec![1023, 0, 341, 682]),
        "samples_zeros" => samples(256, vec![0; 8]),
        "samples_ramp_112" => samples(4294967184, (0..112).map(|i| (i * 9) % 1024).collect()),
        "adc_cal_valid" => {
            Frame::AdcCal(AdcCal { status: AdcCalStatus::Valid, gain_factor: 0x7FE0, offset: -2, vref25_factor: 33423 })
        }
        "adc_cal_bad_checksum" => Frame::AdcCal(AdcCal {
            status: AdcCalStatus::BadChecksum,
            gain_factor: 0xFFFF,
            offset: -1,
            vref25_factor: 0xFFFF,
        }),
        other => panic!("no expectation for vector {other}"),
    }
}

#[test]
fn encode_matches_golden_bytes() {
    let v = vectors();
    assert_eq!(v.len(), 7);
    for (name, line) in v {
        let frame = expected(&name, &mut Vec::new());
        let mut raw = [0u8; 300];
        let n = frame.encode(&mut raw).unwrap();
        let mut out = [0u8; 310];
        let m = framing::encode(&raw[..n], &mut out).unwrap();
        assert_eq!(&out[..m], &line[..], "vector {name}");
        // The lazy encoder the firmware uses must give the same bytes.
        let lazy: Vec<u8> = framing::encode_iter(&raw[..n]).collect();
        assert_eq!(lazy, line, "vector {name} (encode_iter)");
    }
}

#[test]
fn decode_matches_golden_frames() {
    for (name, line) in vectors() {
        let mut raw = vec![0u8; line.len()];
        let n = framing::decode(&line, &mut raw).unwrap();
        let frame = Frame::parse(&raw[..n]).unwrap();
        assert_eq!(frame, expected(&name, &mut Vec::new()), "vector {name}");
    }
}

#[test]
fn default_frame_meets_line_efficiency_target() {
    let e = ct_wire::line_efficiency(ct_wire::DEFAULT_SAMPLES_PER_FRAME);
    assert!(e >= 0.75, "efficiency {e}");
    // Independent arithmetic: 112 samples -> 5 + 140 + 2 = 147 raw bytes, +1 COBS +1 delimiter.
    assert!((e - 1120.0 / 1490.0).abs() < 1e-6);
}

#[test]
fn longest_frame_matches_spec() {
    // SPEC.md: 192 samples -> 5 + 240 + 2 = 247 raw bytes, + 1 COBS + 1 delimiter.
    assert_eq!(ct_wire::MAX_ENCODED_FRAME, 249);
}
