//! Start-up, interrupt handlers and the main loop.

use core::cell::RefCell;

use critical_section::Mutex;
use embedded_hal::digital::{OutputPin, PinState};
use msp430::interrupt as cpu;
use msp430_rt::entry;
use msp430g2553::{Peripherals, TLV_CALIBRATION_DATA, WATCHDOG_TIMER};
use panic_msp430 as _;

use ct_firmware_logic::app::{Idle, Shared, Streamer};
use ct_firmware_logic::boot::{self, FAULT_BLINK};
use ct_firmware_logic::profile::{DcoCal, Profile};
use ct_firmware_logic::sampler::{FrameBuf, Sampler, FRAME_BUF_LEN};
use ct_firmware_logic::tlv::{self, Segment};
use ct_wire::cadence::Due;
use ct_wire::command::{Command, CommandReceiver};

use crate::drivers::{GreenLed, RedLed, Uart, UCA0TXIE};

/// The build profile, chosen by cargo feature: `--features fast` for an external USB-UART.
#[cfg(feature = "fast")]
const PROFILE: Profile = ct_firmware_logic::profile::FAST;
#[cfg(not(feature = "fast"))]
const PROFILE: Profile = ct_firmware_logic::profile::LAUNCHPAD;

// Register values (MSP430x2xx Family User's Guide SLAU144 and the G2553 data sheet); the bits
// are in `ct_firmware_logic::regs`, checked against the PAC's SVD by emu/tests/register_bits.rs.
use ct_firmware_logic::regs::{
    adc10ae0, adc10ctl0 as ctl0, adc10ctl1 as ctl1, bcsctl3, fctl3, ifg1, tacctl, tactl, wdtctl,
};

/// Watchdog clocked by ACLK, interval 32768 clocks (WDTIS = 0).
const WDTSSEL_ACLK: u16 = wdtctl::WDTSSEL;
/// BCSCTL3: ACLK from the VLO (4-20 kHz, typ. 12 kHz): the LaunchPad ships without the
/// 32 kHz crystal, and the VLO runs in LPM0. Watchdog period 32768 / VLO = 1.6-8 s.
const LFXT1S_VLO: u8 = bcsctl3::LFXT1S_2;
/// IFG1 flags cleared after reading the reset cause: WDTIFG, OFIFG, PORIFG, RSTIFG, NMIIFG.
const IFG1_RESET_FLAGS: u8 = ifg1::WDTIFG | ifg1::OFIFG | ifg1::PORIFG | ifg1::RSTIFG | ifg1::NMIIFG;

/// ADC10CTL0: VR+ = VREF+ (SREF_1), 64-clock sample time (ADC10SHT_3), 2.5 V reference on,
/// ADC on, interrupt on; ADC10SR = 0 (reference buffer for up to ~200 ksps).
///
/// ADC10CLK is ADC10OSC / 4 (ADC10CTL1 below). G2553 data sheet (SLAS735, 10-bit ADC
/// timing parameters): fADC10OSC 3.7-6.3 MHz; fADC10CLK 0.45-6.3 MHz with ADC10SR = 0 but
/// only 0.45-1.5 MHz with ADC10SR = 1. So ADC10SR must be 0 here (it was 1: the clock was out
/// of specification by up to 4.2x); the alternative, ADC10SR = 1 with ADC10OSC / 5
/// (0.74-1.26 MHz), would save reference-buffer current but stretch a conversion to up to
/// 104 us, most of the fast profile's 122 us period. (These SLAS735 figures are as quoted in
/// the project's issue #12; the data sheet table itself could not be retrieved to confirm
/// them. ct-emu rejects a conversion clocked outside them.)
///
/// Sample time: SLAU144 22.2.5.1 models the input as RI <= 2 kOhm in series with
/// CI <= 27 pF and asks for t_sample > (RS + RI) * ln(2^11) * CI (confirmed from the guide's
/// text), plus 800 ns with ADC10SR = 0 (the issue's figure; the x1xx guide's ADC10 chapter has
/// the same +800 ns for ADC10SR = 0 and +2.5 us for ADC10SR = 1). With the divider's Thevenin
/// resistance RS = 1.6 k || 3.3 k = 1.08 kOhm: (1.08 k + 2 k) * 7.62 * 27 pF + 0.8 us = 1.43 us.
/// But the sample time is set by the kickback, not by that: CI charges from the 10 nF at the pin
/// through RI alone (54 ns), its charge moves the pin by 27 pF / 10 nF = 0.27 % of the change
/// since the previous sample, and the divider restores it with tau = 1.08 kOhm * 10 nF =
/// 10.8 us. Undivided, 64 ADC10CLK (10.2-17.3 us) left 0.48-0.92 LSB after a full-scale step
/// between two samples (ngspice, spice/kickback.cir; up to 0.74 LSB on the goldens at 603.5
/// Sa/s); ADC10OSC / 4 makes them 40.6-69 us and leaves 0.056 LSB (spice/README.md, "The
/// sample-and-hold's kickback"). ADC10CLK is then 0.93-1.6 MHz, within the 0.45-6.3 MHz
/// allowed with ADC10SR = 0, and a conversion, (64 + 13) * 4 ADC10OSC clocks (SLAU144 22.2.5),
/// takes at most 83 us, within the fast profile's 122 us sample period.
const ADC10CTL0_VALUE: u16 =
    ctl0::SREF_1 | ctl0::ADC10SHT_3 | ctl0::REF2_5V | ctl0::REFON | ctl0::ADC10ON | ctl0::ADC10IE;
/// ADC10CTL1: channel A4 (INCH_4), sample-and-hold source Timer_A OUT1 (SHS_1), ADC10OSC / 4
/// (the sample time, above), repeat-single-channel (CONSEQ_2): every rising edge of OUT1
/// starts one conversion.
const ADC10CTL1_VALUE: u16 = ctl1::INCH_4 | ctl1::SHS_1 | ctl1::ADC10SSEL_0 | ctl1::ADC10DIV_3 | ctl1::CONSEQ_2;

// TACTL (written in `main`): SMCLK (TASSEL_2), input divider from the profile (ID), up mode
// (MC_1), clear.

/// TACCTL1: output mode 7, reset/set: OUT1 rises when the timer reaches TACCR0 (once per
/// period) and falls at TACCR1.
const OUTMOD_RESET_SET: u16 = tacctl::OUTMOD_7;

/// The sampler the ADC interrupt shares with the main loop. `None` until `main` hands it the
/// two frame buffers.
static SAMPLER: Mutex<RefCell<Option<Sampler<'static>>>> = Mutex::new(RefCell::new(None));

/// The host's messages: the receive interrupt feeds each byte to ct-wire's matcher, which
/// keeps the latest message for the main loop (a Start until the loop takes it).
static RX: Mutex<RefCell<CommandReceiver>> = Mutex::new(RefCell::new(CommandReceiver::new()));

/// Critical-section access to [`SAMPLER`] for the streaming logic.
struct IsrShared;

impl Shared<'static> for IsrShared {
    fn with<R>(&self, f: impl FnOnce(&mut Sampler<'static>) -> R) -> R {
        critical_section::with(|cs| match SAMPLER.borrow_ref_mut(cs).as_mut() {
            Some(sampler) => f(sampler),
            // Installed before the first step, so unreachable; stop rather than stream
            // without a sampler, and let the watchdog reset the device.
            None => halt(),
        })
    }
}

/// Sleeps in LPM0 between polls.
struct Lpm0;

impl Idle for Lpm0 {
    fn wait_for<T>(&mut self, mut poll: impl FnMut() -> Option<T>) -> T {
        loop {
            cpu::disable();
            if let Some(t) = poll() {
                unsafe { cpu::enable() };
                return t;
            }
            // GIE | CPUOFF in one instruction: an interrupt that became pending after the
            // poll is taken right away, and if it is one the loop waits for (TX ready, frame
            // full) its stub clears CPUOFF in the saved SR, so the loop polls again instead
            // of sleeping through the event.
            unsafe { core::arch::asm!("bis.w #24, r2", "nop", options(nostack)) };
        }
    }
}

// The vector table (from the PAC) points at `ADC10` and `USCIAB0TX`. Waking the main loop
// means clearing the LPM bits in the SR saved on the stack, which Rust code cannot reach, so
// both handlers start in assembly. msp430-rt's `#[interrupt(wake_cpu)]` would do it too, but
// with a `jmp` to the handler body whose +-1 KB range the linker cannot always meet, and
// unconditionally: the ADC stub wakes the main loop only when a frame is ready (once per 112
// samples), which halves the interrupt's share of the CPU.
//
// ADC10: save the registers the EABI lets a C function clobber (R11-R15), call
// `adc10_sample`, and clear the LPM bits of the saved SR (10 bytes above the pushes) if it
// returns non-zero. USCIAB0TX: always wake, then branch to the Rust handler, which returns
// with `reti` itself.
core::arch::global_asm!(
    r#"
    .section .text.ADC10, "ax"
    .global ADC10
    .type ADC10, %function
ADC10:
    push r15
    push r14
    push r13
    push r12
    push r11
    call #adc10_sample
    tst r12
    jz 1f
    bic.b #0xF0, 10(r1)
1:
    pop r11
    pop r12
    pop r13
    pop r14
    pop r15
    reti

    .section .text.USCIAB0TX, "ax"
    .global USCIAB0TX
    .type USCIAB0TX, %function
USCIAB0TX:
    bic.b #0xF0, 0(r1)
    br #uart_tx_handler
"#
);

/// One conversion finished (ADC10MEM holds it until the next one): pack it. Returns non-zero
/// when a full frame waits for the main loop, which the stub above then wakes.
#[no_mangle]
extern "C" fn adc10_sample() -> u16 {
    // Reading ADC10MEM also clears ADC10IFG.
    let code = unsafe { (*msp430g2553::ADC10::ptr()).adc10mem.read().bits() };
    // Interrupts are already disabled in a handler; the critical section only proves it.
    // The main loop only borrows the sampler inside critical sections, which this handler
    // cannot interrupt, so the borrow always succeeds; `try_` keeps a panic path (and its
    // stack) out of the handler.
    critical_section::with(|cs| match SAMPLER.borrow(cs).try_borrow_mut() {
        Ok(mut slot) => match slot.as_mut() {
            Some(sampler) => sampler.on_sample(code) as u16,
            None => 0,
        },
        Err(_) => 0,
    })
}

/// The transmit buffer is free again: disable this interrupt (the flag stays set until the
/// next byte) and let the stub wake the main loop to send the next byte.
#[no_mangle]
extern "msp430-interrupt" fn uart_tx_handler() {
    let sfr = unsafe { &*msp430g2553::SPECIAL_FUNCTION::ptr() };
    sfr.ie2.modify(|r, w| unsafe { w.bits(r.bits() & !UCA0TXIE) });
}

/// A character from the host is in UCA0RXBUF (USCIAB0RX: UCA0RXIFG with UCA0RXIE set;
/// SLAU144 15.3.15.2). Reading UCA0RXBUF clears UCA0RXIFG (15.3.15.2), so the request ends
/// here; the byte goes to ct-wire's message matcher. The main loop needs no wake-up: it wakes
/// for every Samples frame and takes the message then (SPEC.md: within one frame period).
/// Higher priority than ADC10 (data sheet interrupt vector table), and about 60 cycles long,
/// far below the fast profile's 1952-cycle sample period.
#[no_mangle]
extern "msp430-interrupt" fn USCIAB0RX() {
    let byte = unsafe { (*msp430g2553::USCI_A0_UART_MODE::ptr()).uca0rxbuf.read().bits() };
    // The main loop borrows RX only inside critical sections, which this handler cannot
    // interrupt, so the borrow always succeeds; `try_` keeps a panic path out of the handler.
    critical_section::with(|cs| {
        if let Ok(mut rx) = RX.borrow(cs).try_borrow_mut() {
            rx.receive(byte);
        }
    });
}

/// The host's latest message since the last call, if any.
fn take_message() -> Option<Command> {
    critical_section::with(|cs| RX.borrow(cs).try_borrow_mut().ok().and_then(|mut rx| rx.take()))
}

/// The two Samples-frame buffers (294 B of the 512 B RAM), handed to the sampler once.
static mut BUFFERS: [FrameBuf; 2] = [[0; FRAME_BUF_LEN]; 2];

#[entry]
fn main() -> ! {
    let Some(p) = Peripherals::take() else { halt() };

    // Watchdog first: from ACLK = VLO, serviced only by the healthy main loop below. After the
    // PUC it runs from SMCLK; SLAU144 (Watchdog Timer+) says to hold it (WDTHOLD) before
    // changing its clock source, or the interval may come out wrong: hold, switch to ACLK,
    // then start it with a cleared counter (the first feed).
    p.SYSTEM_CLOCK.bcsctl3.write(|w| unsafe { w.bits(LFXT1S_VLO) });
    let wdt = &p.WATCHDOG_TIMER;
    wdt.wdtctl.write(|w| unsafe { w.bits(wdtctl::WDTPW | wdtctl::WDTHOLD) });
    wdt.wdtctl.write(|w| unsafe { w.bits(wdtctl::WDTPW | wdtctl::WDTHOLD | WDTSSEL_ACLK) });
    feed_watchdog(wdt);

    let ifg1 = p.SPECIAL_FUNCTION.ifg1.read().bits();
    let fctl3 = p.FLASH.fctl3.read().bits();
    let reset_cause = boot::reset_cause(ifg1, fctl3);
    p.SPECIAL_FUNCTION.ifg1.write(|w| unsafe { w.bits(ifg1 & !IFG1_RESET_FLAGS) });
    // Writing 0 clears KEYV; LOCK stays set (LOCKA toggles on 1, so it is written 0).
    p.FLASH.fctl3.write(|w| unsafe { w.bits(fctl3::FWKEY | fctl3::LOCK) });

    let mut red = RedLed::new(&p.PORT_1_2);
    let mut green = GreenLed::new(&p.PORT_1_2);

    let cal = &p.CALIBRATION_DATA;
    let (calbc1, caldco) = match PROFILE.dco {
        DcoCal::Mhz8 => (cal.calbc1_8mhz.read().bits(), cal.caldco_8mhz.read().bits()),
        DcoCal::Mhz16 => (cal.calbc1_16mhz.read().bits(), cal.caldco_16mhz.read().bits()),
    };
    match boot::dco_calibration(calbc1, caldco) {
        Ok((bcsctl1, dcoctl)) => {
            // TI's sequence: lowest DCO setting first, so no intermediate combination
            // overclocks the CPU.
            p.SYSTEM_CLOCK.dcoctl.write(|w| w.bits(0));
            p.SYSTEM_CLOCK.bcsctl1.write(|w| unsafe { w.bits(bcsctl1) });
            p.SYSTEM_CLOCK.dcoctl.write(|w| w.bits(dcoctl));
            // MCLK = DCO; SMCLK = DCO / 1 or / 2, 8 MHz either way (see the profile).
            p.SYSTEM_CLOCK.bcsctl2.write(|w| unsafe { w.bits(PROFILE.dco.bcsctl2()) });
        }
        Err(_) => fault(&p.WATCHDOG_TIMER, &mut red),
    }

    let mut uart = Uart::new(p.USCI_A0_UART_MODE, p.SPECIAL_FUNCTION, &p.PORT_1_2, &PROFILE);

    // SAFETY: the only reference ever made to BUFFERS; `main` runs once.
    let [a, b] = unsafe { &mut *core::ptr::addr_of_mut!(BUFFERS) };

    // Silent until the host asks (ct-wire `command`): the streamer sends Info at the start.
    let mut streamer = Streamer::new(&PROFILE, reset_cause, InfoFlash);

    critical_section::with(|cs| {
        SAMPLER.borrow_ref_mut(cs).replace(Sampler::new(a, b));
    });

    // ADC10: configure with ENC clear, then enable; conversions wait for Timer_A.
    let adc = &p.ADC10;
    adc.adc10ctl0.write(|w| unsafe { w.bits(0) });
    adc.adc10ctl1.write(|w| unsafe { w.bits(ADC10CTL1_VALUE) });
    adc.adc10ae0.write(|w| w.bits(adc10ae0::A4));
    adc.adc10ctl0.write(|w| unsafe { w.bits(ADC10CTL0_VALUE) });
    adc.adc10ctl0.write(|w| unsafe { w.bits(ADC10CTL0_VALUE | ctl0::ENC) });

    // Timer_A0 in up mode: period = ticks_per_sample timer clocks. The first trigger comes
    // one period after start (>= 122 us), after the 2.5 V reference has settled (30 us).
    let ta = &p.TIMER0_A3;
    ta.taccr0.write(|w| w.bits(PROFILE.ticks_per_sample - 1));
    ta.taccr1.write(|w| w.bits(PROFILE.ticks_per_sample / 2));
    ta.tacctl1.write(|w| unsafe { w.bits(OUTMOD_RESET_SET) });
    ta.tactl.write(|w| unsafe {
        w.bits(tactl::TASSEL_2 | ((PROFILE.timer_id as u16) << tactl::ID_SHIFT) | tactl::MC_1 | tactl::TACLR)
    });

    loop {
        match streamer.step(&mut uart, &IsrShared, &mut Lpm0, take_message) {
            Ok(due) => {
                feed_watchdog(&p.WATCHDOG_TIMER);
                if due == Due::Status {
                    green.toggle();
                }
            }
            // No error is possible (see StepError); if one were, stop servicing the
            // watchdog: it resets the device and the next Info reports Watchdog.
            Err(_) => halt(),
        }
    }
}

/// Restarts the watchdog interval (1.6-8 s from the VLO). Keeps WDTSSEL = ACLK: the clock
/// source never changes here (only while held, at boot).
fn feed_watchdog(wdt: &WATCHDOG_TIMER) {
    wdt.wdtctl.write(|w| unsafe { w.bits(wdtctl::WDTPW | wdtctl::WDTCNTCL | WDTSSEL_ACLK) });
}

/// The TLV segment in information flash, read in place (zero-sized: no RAM).
struct InfoFlash;

impl Segment for InfoFlash {
    fn word(&self, i: usize) -> u16 {
        // The PAC's TLV_CALIBRATION_DATA block (0x10C0; emu/tests/register_bits.rs checks
        // ct-firmware-logic's layout against its SVD).
        let words = TLV_CALIBRATION_DATA::PTR as *const u16;
        // SAFETY: i < 32 (tlv::TLV_WORDS) keeps the read inside the 64-byte segment, which is
        // always mapped and readable; volatile, because the compiler must not assume flash
        // contents it did not write.
        unsafe { words.add(i % tlv::TLV_WORDS).read_volatile() }
    }
}

/// Erased DCO calibration (the profile's pair reads 0xFF): the sample and baud rates would be
/// wrong, so nothing is streamed.
/// The watchdog is stopped (a reset cannot restore the constants, and a reset loop would
/// hide the pattern) and the red LED flashes three times every 1.2 s, forever.
///
/// Never inlined: CI runs the start-up code in `mspdebug sim`, whose flash reads 0xFF, and
/// checks that it stops here.
#[inline(never)]
fn fault(wdt: &WATCHDOG_TIMER, red: &mut RedLed) -> ! {
    wdt.wdtctl.write(|w| unsafe { w.bits(wdtctl::WDTPW | wdtctl::WDTHOLD) });
    loop {
        for &on in FAULT_BLINK.iter() {
            let _ = red.set_state(PinState::from(on));
            // About 100 ms at the uncalibrated DCO (~1.1 MHz): 4 cycles per iteration.
            for _ in 0..27_000u16 {
                msp430::asm::nop();
            }
        }
    }
}

/// Stops with interrupts disabled; the running watchdog then resets the device.
fn halt() -> ! {
    cpu::disable();
    loop {
        msp430::asm::barrier();
    }
}
