//! The small drivers the application needs, behind embedded-hal traits so that the
//! streaming logic (`ct_firmware_logic::app`) is generic and runs on the host with mocks.

use core::convert::Infallible;

use embedded_hal::digital::{ErrorType as PinErrorType, OutputPin};
use embedded_hal_nb::serial::{ErrorType, Write};
use msp430g2553::{PORT_1_2, SPECIAL_FUNCTION, USCI_A0_UART_MODE};

use ct_firmware_logic::profile::{Profile, SMCLK_HZ};

/// IFG2/IE2: USCI_A0 transmit flag / interrupt enable, receive interrupt enable; UCA0STAT
/// busy; UCA0CTL1 clock source SMCLK and software reset (bit values in
/// `ct_firmware_logic::regs`, checked against the SVD).
use ct_firmware_logic::regs::ie2::UCA0RXIE;
pub use ct_firmware_logic::regs::ie2::UCA0TXIE;
use ct_firmware_logic::regs::ifg2::UCA0TXIFG;
use ct_firmware_logic::regs::uca0::{UCBUSY, UCSSEL_2 as UCSSEL_SMCLK, UCSWRST};
/// P1.1 = UCA0RXD, P1.2 = UCA0TXD: both need P1SEL and P1SEL2 set (G2553 data sheet SLAS735,
/// port P1 pin functions table: P1SEL.x = 1 and P1SEL2.x = 1 select UCA0RXD/UCA0TXD).
const UART_PINS: u8 = 0x06;

/// USCI_A0 as an 8N1 UART: transmitter, and receiver for the host's messages.
///
/// Set up in SLAU144's order (15.3.1, USCI initialization and reset): UCSWRST set, registers
/// and ports configured, UCSWRST cleared, then interrupts enabled. UCSWRST clears UCA0RXIE,
/// so the receive interrupt is enabled after it (the `USCIAB0RX` handler in `device.rs`).
///
/// `write` never waits: it returns `WouldBlock` while the transmit buffer is full. After
/// each byte it enables the transmit interrupt, whose handler disables it again and wakes
/// the CPU, so the main loop can sleep in LPM0 until the buffer frees (see `device.rs`).
pub struct Uart {
    usci: USCI_A0_UART_MODE,
    sfr: SPECIAL_FUNCTION,
}

impl Uart {
    /// Configures the USCI for `profile`'s baud rate from SMCLK and takes P1.1/P1.2.
    pub fn new(usci: USCI_A0_UART_MODE, sfr: SPECIAL_FUNCTION, port: &PORT_1_2, profile: &Profile) -> Self {
        const _: () = assert!(SMCLK_HZ == 8_000_000, "the UART divisors assume 8 MHz SMCLK");
        let div = profile.uart;
        usci.uca0ctl1.write(|w| unsafe { w.bits(UCSSEL_SMCLK | UCSWRST) });
        usci.uca0ctl0.write(|w| unsafe { w.bits(0) });
        usci.uca0br0.write(|w| w.bits(div.br as u8));
        usci.uca0br1.write(|w| w.bits((div.br >> 8) as u8));
        usci.uca0mctl.write(|w| unsafe { w.bits(div.mctl()) });
        port.p1sel.modify(|r, w| unsafe { w.bits(r.bits() | UART_PINS) });
        port.p1sel2.modify(|r, w| unsafe { w.bits(r.bits() | UART_PINS) });
        usci.uca0ctl1.write(|w| unsafe { w.bits(UCSSEL_SMCLK) });
        // 15.3.15.2: UCA0RXIFG is set when a character is loaded into UCA0RXBUF, and with
        // UCA0RXIE (and GIE) it requests the USCIAB0RX interrupt. UCRXEIE stays 0, so a
        // character with a framing or parity error is not loaded at all (15.3.6): the
        // message it belonged to is incomplete and ignored.
        sfr.ie2.modify(|r, w| unsafe { w.bits(r.bits() | UCA0RXIE) });
        Uart { usci, sfr }
    }
}

impl ErrorType for Uart {
    /// Transmitting cannot fail on this UART.
    type Error = Infallible;
}

impl Write<u8> for Uart {
    fn write(&mut self, word: u8) -> nb::Result<(), Infallible> {
        if self.sfr.ifg2.read().bits() & UCA0TXIFG == 0 {
            return Err(nb::Error::WouldBlock);
        }
        self.usci.uca0txbuf.write(|w| w.bits(word));
        critical_section::with(|_| self.sfr.ie2.modify(|r, w| unsafe { w.bits(r.bits() | UCA0TXIE) }));
        Ok(())
    }

    fn flush(&mut self) -> nb::Result<(), Infallible> {
        if self.usci.uca0stat.read().bits() & UCBUSY != 0 {
            Err(nb::Error::WouldBlock)
        } else {
            Ok(())
        }
    }
}

/// An LED on port 1, active high (P1.0 red, P1.6 green on the LaunchPad). Zero-sized: it
/// owns one pin of P1OUT/P1DIR, which only the main loop writes.
pub struct Led<const BIT: u8> {
    _pin: (),
}

impl<const BIT: u8> Led<BIT> {
    /// Makes the pin an output, LED off. Borrowing the port proves it was taken.
    pub fn new(_port: &PORT_1_2) -> Self {
        let port = Self::port();
        port.p1out.modify(|r, w| unsafe { w.bits(r.bits() & !BIT) });
        port.p1dir.modify(|r, w| unsafe { w.bits(r.bits() | BIT) });
        Led { _pin: () }
    }

    fn port() -> &'static msp430g2553::port_1_2::RegisterBlock {
        // SAFETY: a static register block; this driver only touches its own bit.
        unsafe { &*PORT_1_2::ptr() }
    }

    pub fn toggle(&mut self) {
        Self::port().p1out.modify(|r, w| unsafe { w.bits(r.bits() ^ BIT) });
    }
}

impl<const BIT: u8> PinErrorType for Led<BIT> {
    type Error = Infallible;
}

impl<const BIT: u8> OutputPin for Led<BIT> {
    fn set_low(&mut self) -> Result<(), Infallible> {
        Self::port().p1out.modify(|r, w| unsafe { w.bits(r.bits() & !BIT) });
        Ok(())
    }

    fn set_high(&mut self) -> Result<(), Infallible> {
        Self::port().p1out.modify(|r, w| unsafe { w.bits(r.bits() | BIT) });
        Ok(())
    }
}

/// P1.0: red LED, the fault indicator.
pub type RedLed = Led<0x01>;
/// P1.6: green LED, the heartbeat.
pub type GreenLed = Led<0x40>;
