//! MSP430G2553 firmware of the Efergy CT meter.
//!
//! Timer_A0 output 1 triggers the ADC10 in hardware at a fixed rate per build profile (no
//! software-timed start, so no jitter); the ADC10 interrupt packs each conversion into a
//! frame buffer (`ct_firmware_logic::sampler`); while a host asks for it (its messages come
//! in on UCA0RXD, matched by the USCI receive interrupt), the main loop seals full buffers and
//! streams them as ct-wire frames over USCI_A0 (`ct_firmware_logic::app`), sleeping in LPM0
//! between events; with no host it sends nothing. The logic is host-tested in `logic/`; this file is the register-level glue.
//!
//! Pins: P1.4 = A4 analogue input, P1.2 = UCA0TXD, P1.1 = UCA0RXD (the host's start and keep-alive messages), P1.0 = red LED
//! (fault), P1.6 = green LED (heartbeat: toggles with every Status frame), P1.3 = button
//! (unused).
#![cfg_attr(target_arch = "msp430", no_std)]
#![cfg_attr(target_arch = "msp430", no_main)]
#![cfg_attr(target_arch = "msp430", feature(abi_msp430_interrupt, asm_experimental_arch))]

#[cfg(target_arch = "msp430")]
mod device;
#[cfg(target_arch = "msp430")]
mod drivers;
#[cfg(target_arch = "msp430")]
mod eabi;
#[cfg(target_arch = "msp430")]
mod start;

/// Built for the host by mistake (e.g. from outside firmware/): say how to build it instead
/// of failing obscurely.
#[cfg(not(target_arch = "msp430"))]
fn main() {
    eprintln!(
        "ct-firmware runs on the MSP430G2553 only: `cd firmware && cargo build --release`; \
         host tests: `cd firmware/logic && cargo +stable test --target x86_64-unknown-linux-gnu`"
    );
    std::process::exit(2);
}
