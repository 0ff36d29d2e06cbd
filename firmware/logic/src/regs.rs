//! The register bits and field values the firmware writes by hand, named as in the
//! `msp430g2553` PAC's SVD (register, field, `_n` for a field value), in one place.
//!
//! The PAC's generated API only covers some of these as typed fields, and the firmware writes
//! whole registers with `bits()`, so the values are spelled out here. They are not taken on
//! trust: `emu/tests/register_bits.rs` reads the SVD shipped in the `msp430g2553` crate and
//! checks every constant below (and the emulator's own copies) against the field offsets and
//! widths there. Password and key values (0x5A, 0xA5) are not in the SVD; they come from the
//! MSP430x2xx Family User's Guide (SLAU144: WDTCTL in the Watchdog Timer+ chapter, FCTLx in
//! the flash chapter), and the test only checks that they sit in the WDTPW / FWKEY field.

/// WDTCTL (0x0120).
pub mod wdtctl {
    /// Password, upper byte (reads 0x69; any other written value causes a PUC).
    pub const WDTPW: u16 = 0x5A00;
    pub const WDTHOLD: u16 = 0x0080;
    pub const WDTCNTCL: u16 = 0x0008;
    /// Clock source ACLK (0: SMCLK).
    pub const WDTSSEL: u16 = 0x0004;
}

/// IFG1 (0x0002): reset-cause flags.
pub mod ifg1 {
    pub const WDTIFG: u8 = 0x01;
    pub const OFIFG: u8 = 0x02;
    pub const PORIFG: u8 = 0x04;
    pub const RSTIFG: u8 = 0x08;
    pub const NMIIFG: u8 = 0x10;
}

/// IE2 (0x0001) and IFG2 (0x0003): USCI_A0 receive and transmit.
pub mod ie2 {
    pub const UCA0RXIE: u8 = 0x01;
    pub const UCA0TXIE: u8 = 0x02;
}
pub mod ifg2 {
    pub const UCA0RXIFG: u8 = 0x01;
    pub const UCA0TXIFG: u8 = 0x02;
}

/// FCTL3 (0x012C).
pub mod fctl3 {
    /// Key, upper byte (reads 0x96; any other written value is a key violation: PUC, KEYV).
    pub const FWKEY: u16 = 0xA500;
    /// Flash security key violation (bit 1). Not 0x0020: that is EMEX (emergency exit).
    pub const KEYV: u16 = 0x0002;
    pub const LOCK: u16 = 0x0010;
}

/// BCSCTL3 (0x0053).
pub mod bcsctl3 {
    /// LFXT1Sx = 2: ACLK from the VLO (G2553).
    pub const LFXT1S_2: u8 = 0x20;
}

/// BCSCTL2 (0x0058).
pub mod bcsctl2 {
    /// DIVSx = 0: SMCLK = DCO / 1.
    pub const DIVS_0: u8 = 0x00;
    /// DIVSx = 1: SMCLK = DCO / 2.
    pub const DIVS_1: u8 = 0x02;
}

/// ADC10CTL0 (0x01B0).
pub mod adc10ctl0 {
    pub const ENC: u16 = 0x0002;
    pub const ADC10IE: u16 = 0x0008;
    pub const ADC10ON: u16 = 0x0010;
    pub const REFON: u16 = 0x0020;
    pub const REF2_5V: u16 = 0x0040;
    /// Reference buffer for <= ~50 ksps (less current), which limits ADC10CLK to 1.5 MHz.
    pub const ADC10SR: u16 = 0x0400;
    /// ADC10SHTx = 3: 64 ADC10CLK sample-and-hold time.
    pub const ADC10SHT_3: u16 = 0x1800;
    /// SREFx = 1: VR+ = VREF+, VR- = VSS.
    pub const SREF_1: u16 = 0x2000;
}

/// ADC10CTL1 (0x01B2).
pub mod adc10ctl1 {
    /// CONSEQx = 2: repeat single channel.
    pub const CONSEQ_2: u16 = 0x0004;
    /// ADC10SSELx = 0: ADC10OSC.
    pub const ADC10SSEL_0: u16 = 0x0000;
    /// ADC10DIVx = 3: ADC10CLK = source / 4 (ADC10DIVx is bits 7-5).
    pub const ADC10DIV_3: u16 = 0x0060;
    /// SHSx = 1: sample-and-hold from Timer_A OUT1.
    pub const SHS_1: u16 = 0x0400;
    /// INCHx = 4: channel A4 (P1.4).
    pub const INCH_4: u16 = 0x4000;
}

/// ADC10AE0 (0x004A): analogue enable per pin.
pub mod adc10ae0 {
    /// P1.4 = A4.
    pub const A4: u8 = 0x10;
}

/// TACTL (0x0160).
pub mod tactl {
    pub const TACLR: u16 = 0x0004;
    /// MCx = 1: up mode.
    pub const MC_1: u16 = 0x0010;
    /// IDx: input divider 2^ID, field at bit 6.
    pub const ID_SHIFT: u16 = 6;
    /// TASSELx = 2: SMCLK.
    pub const TASSEL_2: u16 = 0x0200;
}

/// TACCTLx (0x0162, 0x0164, 0x0166).
pub mod tacctl {
    /// OUTMODx = 7: reset/set.
    pub const OUTMOD_7: u16 = 0x00E0;
}

/// USCI_A0 in UART mode.
pub mod uca0 {
    /// UCA0CTL1: software reset.
    pub const UCSWRST: u8 = 0x01;
    /// UCA0CTL1: UCSSELx = 2, SMCLK.
    pub const UCSSEL_2: u8 = 0x80;
    /// UCA0STAT: transmitter or receiver busy.
    pub const UCBUSY: u8 = 0x01;
    /// UCA0MCTL: UCOS16 (bit 0), UCBRSx (bits 3-1), UCBRFx (bits 7-4).
    pub const UCOS16: u8 = 0x01;
    pub const UCBRS_SHIFT: u8 = 1;
    pub const UCBRF_SHIFT: u8 = 4;
}
