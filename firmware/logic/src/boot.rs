//! Start-up decisions: why the device reset, whether the DCO can be trusted, and how a fatal
//! fault shows on the red LED.

use ct_wire::ResetCause;

/// FCTL3 KEYV (bit 1): a flash controller register was written with a wrong key (causes a
/// PUC). Checked against the PAC's SVD with the other register bits (`crate::regs`).
pub use crate::regs::fctl3::KEYV as FCTL3_KEYV;
/// IFG1 flags (MSP430x2xx Family User's Guide, SLAU144, 10.3), from [`crate::regs`].
pub use crate::regs::ifg1::{PORIFG as IFG1_PORIFG, RSTIFG as IFG1_RSTIFG, WDTIFG as IFG1_WDTIFG};

/// Reset-cause byte for "no flag set" (a PUC from a brown-out without POR, or a jump to the
/// reset vector): sent as [`ResetCause::Other`] so the host shows it rather than guessing.
pub const RESET_CAUSE_UNKNOWN: u8 = 0xFF;

/// The reset cause from IFG1 and FCTL3, as read at boot (the firmware clears the flags
/// afterwards, so each boot reports its own cause).
///
/// Power-on wins (the other flags are undefined at power-up), then the RST pin (it clears
/// WDTIFG), then a flash key violation (reported by FCTL3, not IFG1), then the watchdog.
/// WDTIFG is also set by a write to WDTCTL without the password, which this firmware never
/// does, so it is reported as [`ResetCause::Watchdog`]: the main loop stalled (a panic
/// also ends in a watchdog reset, since the panic handler spins without servicing it).
pub fn reset_cause(ifg1: u8, fctl3: u16) -> ResetCause {
    if ifg1 & IFG1_PORIFG != 0 {
        ResetCause::PowerOn
    } else if ifg1 & IFG1_RSTIFG != 0 {
        ResetCause::ResetPin
    } else if fctl3 & FCTL3_KEYV != 0 {
        ResetCause::KeyViolation
    } else if ifg1 & IFG1_WDTIFG != 0 {
        ResetCause::Watchdog
    } else {
        ResetCause::Other(RESET_CAUSE_UNKNOWN)
    }
}

/// Why the firmware refuses to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// CALBC1_8MHZ or CALDCO_8MHZ reads 0xFF: info segment A was erased, so the DCO
    /// frequency, hence the sample rate and the baud rate, would be wrong.
    DcoCalibrationErased,
}

/// Checks the factory calibration pair for the DCO: `Ok((bcsctl1, dcoctl))` to load.
pub fn dco_calibration(calbc1: u8, caldco: u8) -> Result<(u8, u8), Fault> {
    if calbc1 == 0xFF || caldco == 0xFF {
        Err(Fault::DcoCalibrationErased)
    } else {
        Ok((calbc1, caldco))
    }
}

/// The red LED's fault pattern, one entry per 100 ms step, repeated: three short flashes,
/// then dark, unlike the steady or slow blinking of the LaunchPad's demo code.
pub const FAULT_BLINK: [bool; 12] = [true, false, true, false, true, false, false, false, false, false, false, false];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reset_cause_priorities() {
        assert_eq!(reset_cause(IFG1_PORIFG | IFG1_RSTIFG | IFG1_WDTIFG, 0), ResetCause::PowerOn);
        assert_eq!(reset_cause(IFG1_RSTIFG | IFG1_WDTIFG, FCTL3_KEYV), ResetCause::ResetPin);
        assert_eq!(reset_cause(IFG1_WDTIFG, FCTL3_KEYV), ResetCause::KeyViolation);
        assert_eq!(reset_cause(IFG1_WDTIFG, 0x9658), ResetCause::Watchdog);
        // FCTL3 as read after a key violation: 0x96 key byte, LOCKA, LOCK, WAIT and KEYV
        // (bit 1); EMEX (bit 5, 0x0020) is not a reset cause.
        assert_eq!(reset_cause(0, 0x9658 | 0x0002), ResetCause::KeyViolation);
        assert_eq!(reset_cause(IFG1_WDTIFG, 0x9658 | 0x0020), ResetCause::Watchdog);
        assert_eq!(reset_cause(0x02, 0), ResetCause::Other(RESET_CAUSE_UNKNOWN));
        for ifg1 in 0..=u8::MAX {
            let c = reset_cause(ifg1, 0);
            assert_eq!(ResetCause::from_byte(c.to_byte()), c, "survives the wire");
        }
    }

    #[test]
    fn erased_calibration_is_a_fault() {
        assert_eq!(dco_calibration(0x8D, 0x92), Ok((0x8D, 0x92)));
        assert_eq!(dco_calibration(0xFF, 0x92), Err(Fault::DcoCalibrationErased));
        assert_eq!(dco_calibration(0x8D, 0xFF), Err(Fault::DcoCalibrationErased));
    }

    #[test]
    fn fault_pattern_is_three_flashes_then_dark() {
        let on: Vec<usize> = (0..FAULT_BLINK.len()).filter(|&s| FAULT_BLINK[s]).collect();
        assert_eq!(on, [0, 2, 4]);
    }
}
