//! The factory calibration of the ADC10 and its 2.5 V reference, read from the G2553's TLV
//! segment (information memory segment A, 0x10C0-0x10FF), checked, and sent to the host as
//! ct-wire's ADC calibration frame: integers on the MCU, floats on the host.
//!
//! Layout (MSP430G2x53 data sheet, SLAS735, the TLV tables "tags used by the ADC
//! calibration" and "labels used by the ADC calibration": label offsets from the tag address;
//! MSP430x2xx Family User's Guide, SLAU144, chapter 24 "TLV Structure"). SLAS735's own tables
//! were not in the document stores searched (TI's document viewer had SLAS541 and SLAU144
//! pages, no G2x53 data sheet page), so the addresses were checked against these instead
//! (issue #12 review, 2026-11-30):
//!
//! - TI's own device header `msp430g2553.h` ("Texas Instruments, Version 1.2", © 2020, the
//!   msp430-gcc support-files style with `sfr_b`; read in a public copy): `TAG_ADC10_1 (0x10)`,
//!   and the labels as byte offsets from the tag: `CAL_ADC_GAIN_FACTOR (0x0002)`,
//!   `CAL_ADC_OFFSET (0x0004)`, `CAL_ADC_15VREF_FACTOR (0x0006)`, `CAL_ADC_25VREF_FACTOR
//!   (0x000C)`, `CAL_ADC_25T85 (0x0010)`.
//! - The tag's address: `TLV_ADC10_1_TAG_ 0x10DA` (mspgcc-era G2553 header) and IAR's
//!   `io430g2553.h` (`TLV_ADC10_1_TAG @ 0x10DA`, `TLV_CHECKSUM @ 0x10C0`, `TLV_DCO_30_TAG @
//!   0x10F6`); the PAC's SVD below says the same.
//! - SLAS541 (F261x data sheet, TI document viewer, "TLV" table): tag at 0x10DA (ADC12 tag
//!   0x08 there) with the very same label offsets, 0x0002 to 0x0010.
//!
//! All agree with the table below, which is what this module reads:
//!
//! | address | word | content |
//! |---|---|---|
//! | 0x10C0 | 0 | TLV checksum |
//! | 0x10DA | 13 | TAG_ADC10_1 (low byte, 0x10), its length (high byte, 0x10 = 16 bytes) |
//! | 0x10DC | 14 | CAL_ADC_GAIN_FACTOR (tag + 0x02) |
//! | 0x10DE | 15 | CAL_ADC_OFFSET (tag + 0x04, two's complement, LSB) |
//! | 0x10E0 | 16 | CAL_ADC_15VREF_FACTOR (tag + 0x06) |
//! | 0x10E2, 0x10E4 | 17, 18 | CAL_ADC_15T30, CAL_ADC_15T85 |
//! | 0x10E6 | 19 | CAL_ADC_25VREF_FACTOR (tag + 0x0C) |
//! | 0x10E8, 0x10EA | 20, 21 | CAL_ADC_25T30, CAL_ADC_25T85 |
//! | 0x10F6 | 27 | TAG_DCO_30 (0x01), length 0x08; the DCO constants follow |
//!
//! The PAC's SVD (`msp430g2553`, peripheral TLV_CALIBRATION_DATA) places the segment at
//! 0x10C0 with TLV_CHECKSUM at offset 0, TLV_ADC10_1_TAG / _LEN at 0x1A / 0x1B and
//! TLV_DCO_30_TAG / _LEN at 0x36 / 0x37; it has no names for the calibration words.
//!
//! Checksum (SLAU144 24.3, "Checking Integrity of SegmentA"): "The 64-byte SegmentA contains
//! a 2-byte checksum of the data stored at 0x10C2 up to 0x10FF at addresses 0x10C0 and
//! 0x10C1. The checksum is a bit-wise XOR of 31 words stored in the twos-complement data
//! format", and TI's example there is titled "calculating the 2's complement of the 31 words
//! at 0x10C2 - 0x10FE": the XOR of the 31 words plus the stored word is 0 modulo 2^16. (The
//! text above was read from TI's online SLAU144K; its assembly listing could not be retrieved
//! in full, so the "XOR, then add the checksum, zero is good" reading rests on that text.)
//!
//! Applying the words (SLAU144 24.2.2, the ADC calibration data; its 24.2.2.4 and 24.2.2.5
//! give the gain/offset rule and a worked example): multiply by CAL_ADC_25VREF_FACTOR / 2^15
//! for conversions with the 2.5 V reference, by CAL_ADC_GAIN_FACTOR / 2^15, then add
//! CAL_ADC_OFFSET. That is the host's job (`ct_wire::AdcCal::correction`).
//!
//! The words are read from flash each time the frame is built (after every Info frame), not
//! copied at boot: nothing is kept in RAM (the stack has 4 B to spare), and the frame always
//! tells what the flash holds.

use ct_wire::{AdcCal, AdcCalStatus};

/// Address of the TLV segment (information memory segment A).
pub const TLV_START: u16 = 0x10C0;
/// Words in the segment (64 bytes).
pub const TLV_WORDS: usize = 32;
/// Word index of the ADC10 tag and length (0x10DA).
pub const ADC10_TAG_WORD: usize = (0x10DA - TLV_START as usize) / 2;
/// TAG_ADC10_1 (low byte) and its length, 16 bytes (high byte), as one little-endian word.
pub const ADC10_TAG_AND_LEN: u16 = 0x1010;
/// Word index of CAL_ADC_GAIN_FACTOR (0x10DC).
pub const GAIN_FACTOR_WORD: usize = ADC10_TAG_WORD + 1;
/// Word index of CAL_ADC_OFFSET (0x10DE).
pub const OFFSET_WORD: usize = ADC10_TAG_WORD + 2;
/// Word index of CAL_ADC_25VREF_FACTOR (0x10E6).
pub const VREF25_FACTOR_WORD: usize = ADC10_TAG_WORD + 6;

/// Read access to the TLV segment: the flash itself on the device, an array in the tests.
pub trait Segment {
    /// Word `i` (0..32) of the segment, little-endian, at `TLV_START + 2 i`.
    fn word(&self, i: usize) -> u16;
}

impl Segment for [u16; TLV_WORDS] {
    fn word(&self, i: usize) -> u16 {
        self[i]
    }
}

/// The checksum a segment must hold in its word 0: the two's complement of the XOR of
/// words 1..32.
pub fn checksum(seg: &impl Segment) -> u16 {
    (1..TLV_WORDS).fold(0u16, |x, i| x ^ seg.word(i)).wrapping_neg()
}

/// The ADC calibration frame's content: the three words, and whether to trust them.
///
/// Erased (every word 0xFFFF) is told apart from corrupted, so the host can say which; a
/// good checksum without the ADC10 tag and length at 0x10DA is a segment of another layout.
#[inline(never)]
pub fn adc_cal(seg: &impl Segment) -> AdcCal {
    let status = if (0..TLV_WORDS).all(|i| seg.word(i) == 0xFFFF) {
        AdcCalStatus::Erased
    } else if checksum(seg) != seg.word(0) {
        AdcCalStatus::BadChecksum
    } else if seg.word(ADC10_TAG_WORD) != ADC10_TAG_AND_LEN {
        AdcCalStatus::NoAdcTag
    } else {
        AdcCalStatus::Valid
    };
    AdcCal {
        status,
        gain_factor: seg.word(GAIN_FACTOR_WORD),
        offset: seg.word(OFFSET_WORD) as i16,
        vref25_factor: seg.word(VREF25_FACTOR_WORD),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A segment as a G2553 leaves the factory, built here from the data sheet's addresses
    /// (byte addresses, not the module's word indices): ADC10 tag 0x10 and length 0x10 at
    /// 0x10DA/0x10DB, gain 0x7FE0 at 0x10DC, offset -2 at 0x10DE, 2.5 V factor 33423 (2 %
    /// high) at 0x10E6, the DCO tag 0x01 / length 0x08 at 0x10F6 and typical DCO constants.
    fn factory() -> [u16; TLV_WORDS] {
        let mut bytes = [0xFFu8; 64];
        let mut put = |addr: usize, b: &[u8]| bytes[addr - 0x10C0..addr - 0x10C0 + b.len()].copy_from_slice(b);
        put(0x10DA, &[0x10, 0x10]);
        put(0x10DC, &0x7FE0u16.to_le_bytes());
        put(0x10DE, &(-2i16).to_le_bytes());
        put(0x10E0, &32900u16.to_le_bytes());
        put(0x10E6, &33423u16.to_le_bytes());
        put(0x10F6, &[0x01, 0x08, 0x86, 0x8F, 0x9E, 0x8E, 0x92, 0x8D, 0xA6, 0x86]);
        let mut w = [0u16; TLV_WORDS];
        for (i, c) in bytes.chunks(2).enumerate() {
            w[i] = u16::from_le_bytes([c[0], c[1]]);
        }
        // Checksum by the rule as stated in SLAU144 (XOR of the 31 words, two's complement),
        // written out independently of `checksum`.
        let mut x = 0u32;
        for &v in &w[1..] {
            x ^= v as u32;
        }
        w[0] = ((0x1_0000 - x) & 0xFFFF) as u16;
        w
    }

    #[test]
    fn factory_segment_is_valid_with_its_words() {
        let seg = factory();
        assert_eq!(seg[0].wrapping_add(seg[1..].iter().fold(0, |x, &v| x ^ v)), 0, "TI's check: XOR + checksum = 0");
        let c = adc_cal(&seg);
        assert_eq!(c, AdcCal { status: AdcCalStatus::Valid, gain_factor: 0x7FE0, offset: -2, vref25_factor: 33423 });
    }

    #[test]
    fn erased_segment_is_reported_as_erased() {
        let c = adc_cal(&[0xFFFF; TLV_WORDS]);
        assert_eq!(c.status, AdcCalStatus::Erased);
        assert_eq!(c.correction(), None);
    }

    #[test]
    fn every_single_bit_flip_breaks_the_checksum() {
        let good = factory();
        for i in 0..TLV_WORDS {
            for bit in 0..16 {
                let mut seg = good;
                seg[i] ^= 1 << bit;
                assert_eq!(adc_cal(&seg).status, AdcCalStatus::BadChecksum, "word {i} bit {bit}");
            }
        }
    }

    #[test]
    fn only_dco_constants_written_is_a_bad_checksum() {
        // What mspdebug's simulator holds after .ci/firmware/sim_boot.py writes the DCO pairs.
        let mut seg = [0xFFFFu16; TLV_WORDS];
        seg[28..31].copy_from_slice(&[0x8F86, 0x8E9E, 0x8D92]);
        assert_eq!(adc_cal(&seg).status, AdcCalStatus::BadChecksum);
    }

    #[test]
    fn a_good_checksum_without_the_adc10_tag_is_not_trusted() {
        let mut seg = factory();
        seg[ADC10_TAG_WORD] = 0x1008; // ADC12_1's tag value (0x08) with length 16
        seg[0] = checksum(&seg);
        assert_eq!(adc_cal(&seg).status, AdcCalStatus::NoAdcTag);
        let mut seg = factory();
        seg[ADC10_TAG_WORD] = 0x0E10; // right tag, wrong length
        seg[0] = checksum(&seg);
        assert_eq!(adc_cal(&seg).status, AdcCalStatus::NoAdcTag);
    }
}
