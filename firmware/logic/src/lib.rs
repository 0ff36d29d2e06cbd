//! The pure part of the MSP430G2553 firmware, compiled for the device and tested on the host.
//!
//! Everything here is free of registers and interrupts so that `cargo +stable test` can run
//! it on x86_64: the device binary (`firmware/src/main.rs`) only adds the register drivers,
//! the interrupt handlers and the start-up code around it.
//!
//! - [`mspabi`]: the MSP430 EABI integer helpers that LLVM calls on a CPU without a hardware
//!   multiplier (compiler-builtins has none for MSP430);
//! - [`sampler`]: what the ADC interrupt does with each conversion: packs it into one of two
//!   frame buffers, hands full buffers to the main loop and counts overruns;
//! - [`app`]: the main loop's streaming state machine, generic over an embedded-hal-nb UART;
//! - [`profile`]: the two build profiles' clock, sample-rate and baud-rate arithmetic;
//! - [`boot`]: reset cause, DCO calibration check and the fault LED pattern;
//! - [`tlv`]: the factory ADC calibration in the TLV segment, checked for the host;
//! - [`regs`]: the register bits the device code writes by hand, checked against the PAC's SVD.
#![cfg_attr(not(test), no_std)]

pub mod app;
pub mod boot;
pub mod mspabi;
pub mod profile;
pub mod regs;
pub mod sampler;
pub mod tlv;
