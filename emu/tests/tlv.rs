//! The emulator's TLV segment (issue 12 item 6) as the firmware's logic reads it: a new
//! emulator holds an ideal ADC10 calibration with a valid checksum; `set_adc_errors` makes the
//! converter err and writes the words a factory calibration would have measured; one changed
//! byte breaks the checksum.

use ct_emu::adc::AdcErrors;
use ct_emu::{Config, Emu};
use ct_firmware_logic::tlv::{self, TLV_WORDS};
use ct_wire::{AdcCal, AdcCalStatus};

fn segment(e: &Emu) -> [u16; TLV_WORDS] {
    let mut w = [0u16; TLV_WORDS];
    for (i, x) in w.iter_mut().enumerate() {
        *x = e.peek16(tlv::TLV_START + 2 * i as u16);
    }
    w
}

#[test]
fn a_new_emulator_holds_an_ideal_valid_calibration() {
    let e = Emu::new(&Config::default());
    let c = tlv::adc_cal(&segment(&e));
    assert_eq!(c, AdcCal { status: AdcCalStatus::Valid, gain_factor: 0x8000, offset: 0, vref25_factor: 0x8000 });
    // The DCO constants are still where the firmware's boot reads them.
    assert_eq!(e.peek16(0x10F6), 0x0801, "TAG_DCO_30 and its length");
}

#[test]
fn adc_errors_are_written_as_their_calibration() {
    let mut e = Emu::new(&Config::default());
    // A 2.5 V reference 2 % high, a gain 0.1 % high, an offset of +1.5 LSB: the factory words
    // are round(1.02 x 2^15) = 33423, round(2^15 / 1.001) = 32735, round(-1.5 / 1.001) = -1.
    e.set_adc_errors(AdcErrors { vref25_error: 0.02, gain_error: 0.001, offset_lsb: 1.5 });
    let c = tlv::adc_cal(&segment(&e));
    assert_eq!(c, AdcCal { status: AdcCalStatus::Valid, gain_factor: 32735, offset: -1, vref25_factor: 33423 });
    e.mem[0x10E6] ^= 0x01;
    assert_eq!(tlv::adc_cal(&segment(&e)).status, AdcCalStatus::BadChecksum);
}
