//! 10-bit samples, four in five bytes.
//!
//! A group of four samples `s0..s3` is the 40-bit little-endian integer
//! `s0 | s1 << 10 | s2 << 20 | s3 << 30`, written as five bytes, least significant first.

use crate::SAMPLE_MAX;

/// Samples per packed group.
pub const GROUP_SAMPLES: usize = 4;
/// Bytes per packed group.
pub const GROUP_BYTES: usize = 5;

/// Packs four 10-bit samples. Bits above bit 9 are masked off, so callers must range-check
/// (the ADC10 cannot produce more than 10 bits).
pub fn pack4(s: [u16; 4]) -> [u8; 5] {
    let m = |v: u16| (v & SAMPLE_MAX) as u64;
    let v = m(s[0]) | m(s[1]) << 10 | m(s[2]) << 20 | m(s[3]) << 30;
    let b = v.to_le_bytes();
    [b[0], b[1], b[2], b[3], b[4]]
}

/// Packs four 10-bit samples with 16-bit operations only.
///
/// The MSP430 has no 64-bit registers and the 64-bit shift helpers use a special calling
/// convention, so the firmware uses this form; the host tests it against [`pack4`].
pub fn pack4_u16(s: [u16; 4]) -> [u8; 5] {
    let [a, b, c, d] = s.map(|v| v & SAMPLE_MAX);
    [a as u8, ((a >> 8) | (b << 2)) as u8, ((b >> 6) | (c << 4)) as u8, ((c >> 4) | (d << 6)) as u8, (d >> 2) as u8]
}

/// Unpacks one group of five bytes into four samples.
#[inline]
pub fn unpack4(b: &[u8; 5]) -> [u16; 4] {
    let v = u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], 0, 0, 0]);
    let m = SAMPLE_MAX as u64;
    [(v & m) as u16, (v >> 10 & m) as u16, (v >> 20 & m) as u16, (v >> 30 & m) as u16]
}

/// Unpacks whole groups of `packed` into `out`; returns the number of samples written.
/// Stops at whichever of the two runs out first. This is the host's hot path.
pub fn unpack_into(packed: &[u8], out: &mut [u16]) -> usize {
    let mut n = 0;
    for (g, o) in packed.chunks_exact(GROUP_BYTES).zip(out.chunks_exact_mut(GROUP_SAMPLES)) {
        o.copy_from_slice(&unpack4(g.try_into().expect("chunks_exact(5)")));
        n += GROUP_SAMPLES;
    }
    n
}

/// Iterator over the samples of a packed buffer (length a multiple of five).
pub fn unpack(packed: &[u8]) -> impl Iterator<Item = u16> + '_ {
    packed.chunks_exact(GROUP_BYTES).flat_map(|g| unpack4(g.try_into().expect("chunks_exact(5)")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    /// Hand-worked vector: 0x3FF,0x000,0x155,0x2AA.
    /// v = 0x3FF | 0x155<<20 | 0x2AA<<30 = 0xAA_9550_03FF -> LE bytes FF 03 50 95 AA.
    #[test]
    fn hand_worked_group() {
        let s = [0x3FF, 0x000, 0x155, 0x2AA];
        assert_eq!(pack4(s), [0xFF, 0x03, 0x50, 0x95, 0xAA]);
        assert_eq!(unpack4(&[0xFF, 0x03, 0x50, 0x95, 0xAA]), s);
    }

    proptest! {
        #[test]
        fn pack_roundtrip(s in prop::array::uniform4(0u16..=SAMPLE_MAX)) {
            prop_assert_eq!(unpack4(&pack4(s)), s);
        }

        #[test]
        fn unpack_into_matches_iterator(bytes in prop::collection::vec(any::<u8>(), 0..60)) {
            let mut out = [0u16; 48];
            let n = unpack_into(&bytes, &mut out);
            prop_assert_eq!(&out[..n], &unpack(&bytes).collect::<Vec<_>>()[..]);
        }

        #[test]
        fn sixteen_bit_packer_matches(s in prop::array::uniform4(any::<u16>())) {
            prop_assert_eq!(pack4_u16(s), pack4(s));
        }
    }
}
