//! Shared by the firmware-in-the-loop tests and the figures bench: the release ELFs, and
//! decoding a run's bytes with the host's decoder and meter.
#![allow(dead_code)]

use ct_core::calibration::Calibration;
use ct_core::decoder::{DecodeError, Decoder};
use ct_core::estimate::{EstimatorConfig, Reading};
use ct_core::meter::{Event, Meter, Notice};
use ct_emu::fil::{self, Profile, Run};
use ct_wire::{Frame, Status};

/// The release ELF of `profile` ([`fil::ci_elf_path`]).
pub fn elf(profile: &Profile) -> Vec<u8> {
    fil::ci_elf(profile).unwrap_or_else(|e| panic!("{e}"))
}

/// What the host made of a run's line bytes.
#[derive(Default, Debug)]
pub struct Decoded {
    pub infos: Vec<ct_wire::Info>,
    pub adc_cals: Vec<ct_wire::AdcCal>,
    pub statuses: Vec<Status>,
    /// (first_index, codes) per Samples frame.
    pub samples: Vec<(u32, Vec<u16>)>,
    pub malformed: usize,
    pub readings: Vec<Reading>,
    pub notices: Vec<Notice>,
}

pub fn decode(run: &Run) -> Decoded {
    let mut d = Decoded::default();
    let mut dec = Decoder::new();
    dec.received(&run.bytes);
    loop {
        match dec.decode() {
            Ok(Frame::Info(i)) => d.infos.push(i),
            Ok(Frame::Status(s)) => d.statuses.push(s),
            Ok(Frame::AdcCal(c)) => d.adc_cals.push(c),
            Ok(Frame::Samples(s)) => d.samples.push((s.first_index, s.iter().collect())),
            Err(DecodeError::NeedMoreBytes) => break,
            Err(DecodeError::Malformed { .. }) => d.malformed += 1,
        }
    }
    let mut meter = Meter::new(Calibration::builtin(), EstimatorConfig::default());
    let mut events = Vec::new();
    meter.bytes(&run.bytes, &mut |e| events.push(e)).expect("meter accepts the stream");
    for e in events {
        match e {
            Event::Reading(r) => d.readings.push(r),
            Event::Notice(n) => d.notices.push(n),
        }
    }
    d
}
