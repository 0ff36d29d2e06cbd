//! CRC-16 over each frame's payload.
//!
//! CRC-16/IBM-3740 (a.k.a. CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection): a non-zero
//! initial value catches frames that lost leading zero bytes. The device uses the table-less
//! form (no 512-byte table in 16 KB of flash); the host enables `fast-crc` for a slice-by-16
//! table. Both compute the same function.

use crc::{Crc, CRC_16_IBM_3740};

/// Bytes the CRC adds to each payload (little-endian, after the payload).
pub const CRC_LEN: usize = 2;

#[cfg(not(feature = "fast-crc"))]
static CRC: Crc<u16, crc::NoTable> = Crc::<u16, crc::NoTable>::new(&CRC_16_IBM_3740);
#[cfg(feature = "fast-crc")]
static CRC: Crc<u16, crc::Table<16>> = Crc::<u16, crc::Table<16>>::new(&CRC_16_IBM_3740);

/// CRC-16/IBM-3740 of `bytes`.
pub fn crc16(bytes: &[u8]) -> u16 {
    CRC.checksum(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The catalogue check value of CRC-16/IBM-3740 for ASCII "123456789" is 0x29B1.
    #[test]
    fn catalogue_check_value() {
        assert_eq!(crc16(b"123456789"), 0x29B1);
    }
}
