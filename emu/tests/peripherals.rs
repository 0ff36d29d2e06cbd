//! Unit tests of the CPU details mspdebug cannot check and of the peripheral models, against
//! the behaviour the MSP430x2xx Family User's Guide (SLAU144) documents.

use ct_emu::asm::{op1, op2, Asm, Opd};
use ct_emu::{uart_rx, vector, Config, Emu, EmuError, ResetKind};

const CODE: u16 = 0xC000;

/// An emulator running `build`'s code from 0xC000 with SP at the top of RAM; `isr` (if any)
/// is placed after it, and vectors point at it.
/// An interrupt handler's code generator and its vector.
type Isr<'a> = (u16, &'a dyn Fn(&mut Asm));

fn emu(build: impl FnOnce(&mut Asm), isrs: &[Isr]) -> Emu {
    let mut a = Asm::new(CODE);
    build(&mut a);
    let mut vectors = Vec::new();
    for (v, f) in isrs {
        vectors.push((*v, a.here()));
        f(&mut a);
    }
    let mut e = Emu::new(&Config::default());
    e.load_bytes(CODE, &a.bytes());
    e.poke16(vector::RESET, CODE);
    for (v, at) in vectors {
        e.poke16(v, at);
    }
    e.r[0] = CODE;
    e.r[1] = 0x0400;
    e
}

fn mov(a: &mut Asm, v: u16, dst: Opd) {
    a.fmt1(op1::MOV, false, Opd::Imm(v), dst);
}

fn movb(a: &mut Asm, v: u16, addr: u16) {
    a.fmt1(op1::MOV, true, Opd::Imm(v), Opd::Abs(addr));
}

/// Loads the factory 8 MHz calibration (CALBC1_8MHZ at 0x10FD, CALDCO_8MHZ at 0x10FC).
fn dco_8mhz(a: &mut Asm) {
    a.fmt1(op1::MOV, true, Opd::Abs(0x10FD), Opd::Abs(0x0057));
    a.fmt1(op1::MOV, true, Opd::Abs(0x10FC), Opd::Abs(0x0056));
}

fn stop_wdt(a: &mut Asm) {
    mov(a, 0x5A80, Opd::Abs(0x0120));
}

fn jmp_self(a: &mut Asm) {
    let h = a.here();
    a.jump(7, h);
}

#[test]
fn dadd_follows_the_guides_decimal_examples() {
    // 3.4.6.16: DADD adds decimally with carry; C is set when the result exceeds 9999 (99).
    let mut e = emu(
        |a| {
            mov(a, 0x1234, Opd::Reg(4));
            mov(a, 0x5678, Opd::Reg(5));
            a.fmt1(op1::BIC, false, Opd::Cg(1), Opd::Reg(2)); // clrc
            a.fmt1(op1::DADD, false, Opd::Reg(4), Opd::Reg(5)); // 1234 + 5678 = 6912
            mov(a, 0x9999, Opd::Reg(6));
            a.fmt1(op1::DADD, false, Opd::Cg(1), Opd::Reg(6)); // 9999 + 1 = 0000, C
            mov(a, 0x0099, Opd::Reg(7));
            a.fmt1(op1::DADD, true, Opd::Cg(0), Opd::Reg(7)); // 99 + 0 + C = 00, C
        },
        &[],
    );
    e.hold_watchdog();
    for _ in 0..5 {
        e.step().unwrap();
    }
    assert_eq!(e.r[5], 0x6912);
    assert_eq!(e.r[2] & ct_emu::C, 0);
    e.step().unwrap();
    e.step().unwrap();
    assert_eq!(e.r[6], 0x0000);
    assert_ne!(e.r[2] & ct_emu::C, 0);
    assert_ne!(e.r[2] & ct_emu::Z, 0);
    e.step().unwrap();
    assert_eq!(e.r[7], 0x00);
    assert_ne!(e.r[2] & ct_emu::C, 0);
}

#[test]
fn cycle_counts_follow_tables_3_15_and_3_16() {
    // (instruction, expected cycles) for the cases mspdebug counts differently.
    type Case = (Box<dyn Fn(&mut Asm)>, u32, &'static str);
    let cases: Vec<Case> = vec![
        (Box::new(|a| a.fmt1(op1::MOV, false, Opd::Cg(8), Opd::Reg(5))), 1, "mov #8, r5 (constant generator)"),
        (Box::new(|a| a.fmt1(op1::MOV, false, Opd::Imm(0x1234), Opd::Reg(5))), 2, "mov #N, r5"),
        (Box::new(|a| a.fmt1(op1::ADD, false, Opd::Cg(1), Opd::Abs(0x0300))), 4, "add #1, &EDE"),
        (Box::new(|a| a.fmt1(op1::MOV, false, Opd::Idx(2, 4), Opd::Idx(4, 4))), 6, "mov x(r4), y(r4)"),
        (Box::new(|a| a.fmt1(op1::MOV, false, Opd::Inc(1), Opd::Reg(0))), 3, "ret"),
        (Box::new(|a| a.fmt2(op2::RRA, false, Opd::Ind(4))), 3, "rra @r4"),
        (Box::new(|a| a.fmt2(op2::RRC, false, Opd::Inc(4))), 3, "rrc @r4+"),
        (Box::new(|a| a.fmt2(op2::SXT, false, Opd::Idx(0, 4))), 4, "sxt 0(r4)"),
        (Box::new(|a| a.fmt2(op2::PUSH, false, Opd::Cg(4))), 3, "push #4 (constant generator)"),
        (Box::new(|a| a.fmt2(op2::PUSH, false, Opd::Imm(0x1234))), 4, "push #N"),
        (Box::new(|a| a.fmt2(op2::PUSH, false, Opd::Inc(4))), 5, "push @r4+"),
        (Box::new(|a| a.fmt2(op2::CALL, false, Opd::Imm(0xC100))), 5, "call #N"),
        (Box::new(|a| a.fmt2(op2::CALL, false, Opd::Reg(9))), 4, "call r9"),
        (Box::new(|a| a.reti()), 5, "reti"),
        (Box::new(|a| a.jump(0, 0xC000)), 2, "jne"),
    ];
    for (build, want, what) in cases {
        let mut e = emu(|a| build(a), &[]);
        e.hold_watchdog();
        e.r[4] = 0x0300;
        e.r[9] = 0xC100;
        e.poke16(0x03FE, 0xC000);
        e.r[1] = 0x03FC;
        assert_eq!(e.step().unwrap(), want, "{what}");
    }
}

/// Timer0_A3 CCR0 interrupt in up mode: period TACCR0 + 1 timer clocks (12.2.3.1), 6-cycle
/// interrupt entry, LPM0 left by clearing CPUOFF in the stacked SR, RETI.
#[test]
fn timer_up_mode_interrupt_wakes_lpm0() {
    let isr = |a: &mut Asm| {
        a.fmt1(op1::ADD, false, Opd::Cg(1), Opd::Reg(10));
        a.fmt1(op1::BIC, false, Opd::Imm(0x10), Opd::Idx(0, 1)); // wake: clear CPUOFF on the stack
        a.reti();
    };
    let mut e = emu(
        |a| {
            stop_wdt(a);
            dco_8mhz(a);
            mov(a, 999, Opd::Abs(0x0172)); // TACCR0: 1000 ticks
            mov(a, 0x0010, Opd::Abs(0x0162)); // TACCTL0 = CCIE
            mov(a, 0x0200 | 0x00C0 | 0x0010 | 0x0004, Opd::Abs(0x0160)); // SMCLK/8, up, clear
            let top = a.here();
            a.fmt1(op1::BIS, false, Opd::Imm(0x18), Opd::Reg(2)); // GIE | CPUOFF
            a.fmt1(op1::ADD, false, Opd::Cg(1), Opd::Reg(11)); // counts wake-ups
            a.jump(7, top);
        },
        &[(vector::TIMER0_A0, &isr)],
    );
    e.run_seconds(0.0105).unwrap();
    // 8 MHz / 8 / 1000 = 1 kHz: 10 interrupts in 10.5 ms (the first after 1000 ticks + 1).
    assert_eq!(e.r[10], 10, "interrupts");
    assert_eq!(e.r[11], 10, "wake-ups");
    assert_eq!(e.interrupts, 10);
    // Sleeping most of the time: a few dozen cycles per period.
    assert!(e.cpu_cycles < 10 * 60 + 200, "cpu cycles {}", e.cpu_cycles);
}

/// Watchdog+ (10.2): expiry in watchdog mode is a PUC with WDTIFG set; a wrong password is a
/// PUC too; interval mode sets WDTIFG and requests the WDT interrupt.
#[test]
fn watchdog_resets_and_interval_mode() {
    // PUC default: SMCLK (~1.1 MHz DCO) / 32768: about 30 ms.
    let mut e = emu(jmp_self, &[]);
    e.run_seconds(0.1).unwrap();
    assert!(e.resets.len() >= 2, "{:?}", e.resets);
    assert_eq!(e.resets[0].cause, ResetKind::Watchdog);
    let t = e.resets[0].at_s;
    let want = 32768.0 / ct_emu::clock::dco_model_hz(0x87, 0x60);
    assert!((t / want - 1.0).abs() < 1e-3, "first reset at {t} s, want {want}");
    assert_eq!(e.sfr.ifg1 & 0x01, 0x01, "WDTIFG");
    assert_eq!(e.r[0], CODE + 2 - 2, "restarted from the reset vector");

    // Wrong password.
    let mut e = emu(|a| mov(a, 0x1234, Opd::Abs(0x0120)), &[]);
    e.run_seconds(0.001).unwrap();
    assert_eq!(e.resets.first().map(|r| r.cause), Some(ResetKind::WatchdogPassword));

    // Interval mode, ACLK = VLO, /64: 64 / 12 kHz = 5.33 ms per WDTIFG.
    let isr = |a: &mut Asm| {
        a.fmt1(op1::ADD, false, Opd::Cg(1), Opd::Reg(10));
        a.reti();
    };
    let mut e = emu(
        |a| {
            movb(a, 0x20, 0x0053); // BCSCTL3: LFXT1S = VLO
            stop_wdt(a); // held while its clock source changes
            mov(a, 0x5A80 | 0x0010 | 0x0004 | 0x0003, Opd::Abs(0x0120));
            mov(a, 0x5A00 | 0x0010 | 0x0008 | 0x0004 | 0x0003, Opd::Abs(0x0120));
            a.fmt1(op1::BIS, true, Opd::Cg(1), Opd::Abs(0x0000)); // IE1 WDTIE
            a.fmt1(op1::BIS, false, Opd::Cg(8), Opd::Reg(2)); // eint
            jmp_self(a);
        },
        &[(vector::WDT, &isr)],
    );
    e.run_seconds(0.1).unwrap();
    assert!(e.resets.is_empty());
    assert_eq!(e.r[10], (0.1 / (64.0 / 12_000.0)) as u16, "interval interrupts in 100 ms");
    assert_eq!(e.sfr.ifg1 & 0x01, 0, "WDTIFG reset when the interrupt is accepted");
}

/// Watchdog+ clock source (SLAU144, Watchdog Timer+: hold the WDT+ before changing its clock
/// source): a WDTSSEL change while the watchdog runs is an error, also when the same write
/// sets WDTHOLD; hold, switch, start is accepted and counts ACLK from then on.
#[test]
fn watchdog_clock_source_changes_only_while_held() {
    for (value, what) in [(0x5A0C_u16, "switch while running"), (0x5A84, "hold and switch in one write")] {
        let mut e = emu(|a| mov(a, value, Opd::Abs(0x0120)), &[]);
        assert_eq!(e.run_seconds(0.001), Err(EmuError::WdtClockSwitch { value, pc: CODE }), "{what}");
    }
    let mut e = emu(
        |a| {
            movb(a, 0x20, 0x0053); // BCSCTL3: LFXT1S = VLO
            mov(a, 0x5A80, Opd::Abs(0x0120)); // hold
            mov(a, 0x5A84, Opd::Abs(0x0120)); // switch to ACLK
            mov(a, 0x5A0C, Opd::Abs(0x0120)); // start, counter cleared
            jmp_self(a);
        },
        &[],
    );
    e.run_seconds(2.0).unwrap();
    assert!(e.wdt.uses_aclk());
    assert!(e.resets.is_empty(), "{:?}", e.resets);
    // 32768 VLO clocks at 12 kHz: 2.73 s.
    e.run_seconds(1.0).unwrap();
    assert_eq!(e.resets.len(), 1);
    let t = e.resets[0].at_s;
    assert!((t - 32768.0 / ct_emu::clock::VLO_HZ).abs() < 1e-3, "reset at {t} s");
}

/// Basic Clock Module+: the calibration constants in info segment A give the calibrated
/// frequencies; DIVS divides SMCLK.
#[test]
fn dco_calibration_and_dividers() {
    let e = Emu::new(&Config::default());
    let cal = ct_emu::clock::factory_calibration(0.0);
    for (i, c) in cal.iter().enumerate() {
        assert_eq!(e.mem[0x10F8 + 2 * i], c.caldco);
        assert_eq!(e.mem[0x10F9 + 2 * i], c.calbc1);
        assert!(c.calbc1 != 0xFF && c.caldco != 0xFF);
        // The typical-curve model agrees with the calibrated frequency within 1 %.
        let model = ct_emu::clock::dco_model_hz(c.calbc1, c.caldco);
        assert!((model / c.nominal_hz - 1.0).abs() < 0.01, "{} Hz: model {model}", c.nominal_hz);
    }
    let mut e = emu(
        |a| {
            stop_wdt(a);
            a.fmt1(op1::MOV, true, Opd::Abs(0x10F9), Opd::Abs(0x0057)); // CALBC1_16MHZ
            a.fmt1(op1::MOV, true, Opd::Abs(0x10F8), Opd::Abs(0x0056));
            movb(a, 0x02, 0x0058); // DIVS = /2
            jmp_self(a);
        },
        &[],
    );
    e.run_seconds(0.001).unwrap();
    assert_eq!(e.mclk_hz(), 16e6);
    assert_eq!(e.smclk_hz(), 8e6);
    // Unmodelled clock sources are reported.
    let mut e = emu(|a| movb(a, 0xC0, 0x0058), &[]);
    assert_eq!(e.run_seconds(0.001), Err(EmuError::Unmodelled { addr: 0x0058, pc: CODE }));
}

/// USCI_A0 UART (15.3.10-15.3.11): 9600 baud from 8 MHz with UCOS16, UCBR = 52, UCBRF = 1 is
/// 833 clocks per bit; TXIFG clears on a write and sets when the byte moves on; a receiver at
/// 9600 baud decodes the bytes; at a divisor 10 % off it does not.
#[test]
fn uart_bit_timing_and_flags() {
    let send = |br: u16| {
        let mut e = emu(
            |a| {
                stop_wdt(a);
                dco_8mhz(a);
                movb(a, 0x81, 0x0061); // UCSSEL_2 | UCSWRST
                movb(a, br, 0x0062);
                movb(a, 0, 0x0063);
                movb(a, 0x11, 0x0064); // UCBRF = 1, UCOS16
                movb(a, 0x80, 0x0061); // release
                for b in [0x55u16, 0x00, 0xFF, 0xA7] {
                    let wait = a.here();
                    a.fmt1(op1::BIT, true, Opd::Cg(2), Opd::Abs(0x0003)); // UCA0TXIFG
                    a.jump(1, wait); // jz wait
                    movb(a, b, 0x0067);
                }
                jmp_self(a);
            },
            &[],
        );
        e.run_seconds(0.01).unwrap();
        e
    };
    let e = send(52);
    assert_eq!(e.usci.sent.len(), 4);
    let c = &e.usci.sent[0];
    assert_eq!(c.bits.len(), 10);
    let bit = (c.bits[0].1 - c.start_s) * 8e6;
    assert!((bit - 833.0).abs() < 1e-6, "{bit} clocks per bit");
    // Back to back: the second character starts when the first one's stop bit ends.
    assert!((e.usci.sent[1].start_s - c.bits[9].1).abs() < 1e-12);
    assert_eq!(uart_rx::receive(&e.usci.sent, 9600.0), (vec![0x55, 0x00, 0xFF, 0xA7], 0));
    let e = send(47);
    let (bytes, errors) = uart_rx::receive(&e.usci.sent, 9600.0);
    assert!(errors > 0 || bytes != vec![0x55, 0x00, 0xFF, 0xA7], "{bytes:02x?}");
}

/// UART receive (SLAU144 15.3.6, 15.3.15.2; data sheet port P1 functions): with P1.1 as
/// UCA0RXD and UCA0RXIE set, each host byte sets UCA0RXIFG and requests USCIAB0RX; the handler
/// reads UCA0RXBUF (clearing the flag) and stores it. Bytes arrive only with P1SEL.1 and
/// P1SEL2.1 both set and the USCI out of reset; bytes sent at a rate 10 % off are framing
/// errors (not loaded, UCFE and UCRXERR set); a byte not read before the next one is an
/// overrun (UCOE) and is lost.
#[test]
fn uart_receive_flags_interrupt_and_errors() {
    let rx = |sel2: u8, enable_irq: bool| {
        let mut e = emu(
            |a| {
                stop_wdt(a);
                dco_8mhz(a);
                movb(a, 0x81, 0x0061); // UCSSEL_2 | UCSWRST
                movb(a, 52, 0x0062);
                movb(a, 0, 0x0063);
                movb(a, 0x11, 0x0064); // UCBRF = 1, UCOS16: 9600 baud from 8 MHz
                movb(a, 0x06, 0x0026); // P1SEL: P1.1, P1.2
                movb(a, sel2 as u16, 0x0041); // P1SEL2
                movb(a, 0x80, 0x0061); // release
                mov(a, 0x0300, Opd::Reg(4)); // store pointer
                if enable_irq {
                    movb(a, 0x01, 0x0001); // IE2 = UCA0RXIE
                    a.fmt1(op1::BIS, false, Opd::Cg(8), Opd::Reg(2)); // GIE
                }
                jmp_self(a);
            },
            &[(vector::USCIAB0RX, &|a: &mut Asm| {
                a.fmt1(op1::MOV, true, Opd::Abs(0x0066), Opd::Idx(0, 4)); // UCA0RXBUF -> @R4
                a.fmt1(op1::ADD, false, Opd::Cg(1), Opd::Reg(4));
                a.reti();
            })],
        );
        e.run_seconds(0.001).unwrap();
        e
    };
    // Received and stored through the interrupt, in order; the flag is clear after each read.
    let mut e = rx(0x06, true);
    e.host_send(&[0x04, 0x81, 0x59, 0x60, 0x00], 9600.0);
    e.run_seconds(0.01).unwrap();
    assert_eq!(&e.mem[0x0300..0x0305], &[0x04, 0x81, 0x59, 0x60, 0x00]);
    assert_eq!(e.r[4], 0x0305);
    assert_eq!((e.usci.received, e.usci.rx_framing_errors, e.usci.rx_unseen), (5, 0, 0));
    assert_eq!(e.sfr.ifg2 & 0x01, 0, "UCA0RXIFG cleared by reading UCA0RXBUF");
    assert_eq!(e.usci.stat & 0x64, 0, "no error flags");
    // P1.1 not UCA0RXD (P1SEL2.1 clear): the USCI never sees the line.
    let mut e = rx(0x04, true);
    e.host_send(&[0x55, 0xAA], 9600.0);
    e.run_seconds(0.01).unwrap();
    assert_eq!((e.usci.received, e.usci.rx_unseen, e.r[4]), (0, 2, 0x0300));
    // 10 % fast: the stop bit is sampled in the next start bit: framing errors, nothing stored.
    let mut e = rx(0x06, true);
    e.host_send(&[0x55, 0xAA], 10_560.0);
    e.run_seconds(0.01).unwrap();
    assert_eq!((e.usci.received, e.usci.rx_framing_errors, e.r[4]), (0, 2, 0x0300));
    assert_eq!(e.usci.stat & 0x44, 0x44, "UCFE and UCRXERR");
    // No interrupt and nobody reading: the second byte overruns the first.
    let mut e = rx(0x06, false);
    e.host_send(&[0x11, 0x22], 9600.0);
    e.run_seconds(0.01).unwrap();
    assert_eq!(e.sfr.ifg2 & 0x01, 0x01, "UCA0RXIFG set");
    assert_eq!((e.usci.rxbuf, e.usci.stat & 0x24), (0x22, 0x24), "UCOE and UCRXERR, the later byte kept");
}

/// ADC10 (22.2): ADC10SC start, sample-and-hold + 13-clock conversion from ADC10OSC, code =
/// 1023 * V / VREF+ with the 2.5 V reference, ADC10IFG; Timer_A OUT1 (SHS_1) triggers in
/// repeat-single-channel mode at the timer's rate.
#[test]
fn adc10_conversion_timing_and_triggers() {
    let mut e = emu(
        |a| {
            stop_wdt(a);
            dco_8mhz(a);
            mov(a, 0x4000, Opd::Abs(0x01B2)); // INCH_4, SHS_0, single
            mov(a, 0x2000 | 0x1800 | 0x0040 | 0x0020 | 0x0010, Opd::Abs(0x01B0));
            mov(a, 0x2000 | 0x1800 | 0x0040 | 0x0020 | 0x0010 | 0x0003, Opd::Abs(0x01B0)); // ENC|SC
            jmp_self(a);
        },
        &[],
    );
    e.input = Box::new(|ch, _| if ch == 4 { 1.25 } else { 0.0 });
    e.adc.record = true;
    e.run_seconds(0.001).unwrap();
    assert_eq!(e.adc.conversions, 1);
    assert_eq!(e.adc.mem, 512, "1023 * 1.25 / 2.5 rounded");
    assert_ne!(e.adc.ctl0 & 0x0004, 0, "ADC10IFG");
    // 64 sample + 13 conversion clocks of the 5 MHz ADC10OSC after the trigger.
    let s = e.adc.samples[0];
    let trigger_s = 5.0 * (1.0 / 1.1e6); // roughly: after a few instructions
    assert!(s.hold_s > 64.0 / 5e6 && s.hold_s < trigger_s + 64.0 / 5e6 + 1e-4);

    // Timer-triggered: TACCR0 = 99 (100 us at 1 MHz), CCR1 reset/set, SHS_1, CONSEQ_2.
    let mut e = emu(
        |a| {
            stop_wdt(a);
            dco_8mhz(a);
            mov(a, 0x4000 | 0x0400 | 0x0004, Opd::Abs(0x01B2));
            mov(a, 0x2000 | 0x1800 | 0x0040 | 0x0020 | 0x0010, Opd::Abs(0x01B0));
            mov(a, 0x2000 | 0x1800 | 0x0040 | 0x0020 | 0x0010 | 0x0002, Opd::Abs(0x01B0));
            mov(a, 99, Opd::Abs(0x0172));
            mov(a, 50, Opd::Abs(0x0174));
            mov(a, 0x00E0, Opd::Abs(0x0164));
            mov(a, 0x0200 | 0x00C0 | 0x0010 | 0x0004, Opd::Abs(0x0160));
            jmp_self(a);
        },
        &[],
    );
    e.input = Box::new(|_, t| 2.5 * (t * 100.0).fract());
    e.adc.record = true;
    e.run_seconds(0.01).unwrap();
    let s = &e.adc.samples;
    assert!(s.len() >= 99 && s.len() <= 100, "{} conversions in 10 ms", s.len());
    for w in s.windows(2) {
        let dt = w[1].hold_s - w[0].hold_s;
        assert!((dt - 100e-6).abs() < 0.21e-6, "sample spacing {dt}");
    }
    assert_eq!(e.adc.missed_triggers, 0);
}

/// ADC10CLK range (G2553 data sheet SLAS735 fADC10CLK, as quoted in issue #12): 0.45-6.3 MHz
/// with ADC10SR = 0, 0.45-1.5 MHz with ADC10SR = 1; ADC10OSC counts with its whole 3.7-6.3 MHz
/// range. A conversion clocked outside it is an error.
#[test]
fn adc10_clock_must_suit_adc10sr() {
    // (ADC10CTL0 extra bits, ADC10CTL1 clock bits, expected error (min, max, ADC10SR)).
    type Case = (u16, u16, Option<(f64, f64, bool)>);
    let osc = (3.7e6, 6.3e6);
    let cases: [Case; 6] = [
        (0, 0, None),                                             // ADC10OSC / 1, ADC10SR = 0
        (0x0400, 0, Some((osc.0, osc.1, true))),                  // ADC10OSC / 1, ADC10SR = 1
        (0x0400, 4 << 5, None),                                   // ADC10OSC / 5: 0.74-1.26 MHz
        (0x0400, 3 << 5, Some((osc.0 / 4.0, osc.1 / 4.0, true))), // / 4: up to 1.575 MHz
        (0, 3 << 3, Some((8e6, 8e6, false))),                     // SMCLK = 8 MHz / 1
        (0, 1 << 3, Some((32768.0, 32768.0, false))),             // ACLK (LFXT1, 32 kHz)
    ];
    for (ctl0, clk, want) in cases {
        let mut e = emu(
            |a| {
                stop_wdt(a);
                dco_8mhz(a);
                mov(a, 0x4000 | clk, Opd::Abs(0x01B2)); // INCH_4, SHS_0, single
                mov(a, 0x2000 | 0x1800 | 0x0040 | 0x0020 | 0x0010 | ctl0, Opd::Abs(0x01B0));
                mov(a, 0x2000 | 0x1800 | 0x0040 | 0x0020 | 0x0010 | ctl0 | 0x0003, Opd::Abs(0x01B0)); // ENC|SC
                jmp_self(a);
            },
            &[],
        );
        let got = e.run_seconds(0.01);
        match want {
            None => {
                assert_eq!(got, Ok(()), "ADC10CTL0 |= {ctl0:#x}, ADC10CTL1 |= {clk:#x}");
                assert_eq!(e.adc.conversions, 1);
            }
            Some((min, max, sr)) => match got {
                Err(EmuError::AdcClock { min_hz, max_hz, adc10sr }) => {
                    assert!((min_hz - min).abs() < 1.0 && (max_hz - max).abs() < 1.0, "{min_hz}-{max_hz} Hz");
                    assert_eq!(adc10sr, sr);
                    assert_eq!(e.adc.conversions, 0, "no conversion starts");
                }
                other => panic!("ADC10CTL0 |= {ctl0:#x}, ADC10CTL1 |= {clk:#x}: {other:?}"),
            },
        }
    }
}

#[test]
fn unmodelled_peripherals_are_errors() {
    // Timer1_A3 (0x0180) and USCI_B0 (0x0068) are not modelled; nor is the ADC10 DTC.
    for (addr, byte) in [(0x0180u16, false), (0x0068, true), (0x01BC, false)] {
        let mut e = emu(
            |a| {
                a.fmt1(op1::MOV, byte, Opd::Abs(addr), Opd::Reg(5));
            },
            &[],
        );
        assert_eq!(e.run_seconds(0.001), Err(EmuError::Unmodelled { addr, pc: CODE }));
    }
    let mut e = emu(|a| movb(a, 1, 0x0049), &[]);
    assert_eq!(e.run_seconds(0.001), Err(EmuError::Unmodelled { addr: 0x0049, pc: CODE }));
    // Writing flash without the flash controller is an error too.
    let mut e = emu(|a| mov(a, 0, Opd::Abs(0xE000)), &[]);
    assert_eq!(e.run_seconds(0.001), Err(EmuError::FlashWrite { addr: 0xE000, pc: CODE }));
}

#[test]
fn bad_elf_input_is_an_error_not_a_panic() {
    let mut e = Emu::new(&Config::default());
    assert!(matches!(e.load_elf(b""), Err(EmuError::Elf(_))));
    assert!(matches!(e.load_elf(&[0x7F, b'E', b'L', b'F', 1, 1, 1, 0]), Err(EmuError::Elf(_))));
    let mut junk = vec![0u8; 4096];
    for (i, b) in junk.iter_mut().enumerate() {
        *b = (i * 7919 % 251) as u8;
    }
    junk[..4].copy_from_slice(b"\x7FELF");
    assert!(e.load_elf(&junk).is_err());
    // A truncated real ELF.
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../firmware/target/ci/ct-firmware-launchpad.elf");
    if let Ok(data) = std::fs::read(path) {
        for cut in [52, 100, 1000, data.len() / 2] {
            let _ = e.load_elf(&data[..cut]);
        }
        // Corrupted headers and tables: errors or a loaded image, never a panic.
        let mut x = 0x1234_5678u32;
        for _ in 0..3000 {
            let mut d = data.clone();
            for _ in 0..4 {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                let at = (x as usize) % d.len().min(4096);
                d[at] = (x >> 24) as u8;
            }
            let _ = ct_emu::elf::Image::parse(&d);
        }
    }
}

/// Timer_A continuous mode (12.2.3.2): TAIFG every 65536 ticks; TAIV (12.2.6.2) reads the
/// highest pending CC1/CC2/TAIFG source and resets it; output mode 4 (toggle) toggles OUT1
/// each time TAR reaches TACCR1.
#[test]
fn timer_continuous_mode_taiv_and_toggle_output() {
    let mut e = emu(
        |a| {
            stop_wdt(a);
            dco_8mhz(a);
            mov(a, 1000, Opd::Abs(0x0174)); // TACCR1
            mov(a, 0x0080 | 0x0010, Opd::Abs(0x0164)); // OUTMOD_4 (toggle), CCIE
            mov(a, 0x0200 | 0x0020 | 0x0004 | 0x0002, Opd::Abs(0x0160)); // SMCLK/1, continuous, TAIE
            jmp_self(a);
        },
        &[],
    );
    // 65536 ticks of 8 MHz = 8.192 ms: after 10 ms TAR wrapped once and passed TACCR1 twice.
    e.run_seconds(0.010).unwrap();
    let out1 = e.timer.cctl[1] & 0x0004 != 0;
    assert!(!out1, "OUT1 toggled twice");
    assert_ne!(e.timer.ctl & 0x0001, 0, "TAIFG");
    let mut iv = Vec::new();
    let now = e.now;
    for _ in 0..3 {
        iv.push(e.timer.read(0x012E, now).unwrap());
    }
    assert_eq!(iv, vec![2, 10, 0], "TAIV: CCR1 first, then TAIFG, then nothing");
    let tar = e.timer.read(0x0170, now).unwrap() as f64;
    let want = (e.seconds() * 8e6) % 65536.0;
    assert!((tar - want).abs() < 200.0, "TAR {tar}, about {want}");
}

/// POP.B is MOV.B @SP+, dst and moves SP by 2 (3.4.6, POP: "SP + 2 -> SP"), unlike other
/// byte autoincrements (by 1); mspdebug moves SP by 1 there, so the lockstep test avoids it.
#[test]
fn pop_byte_moves_sp_by_two() {
    let mut e = emu(
        |a| {
            a.fmt1(op1::MOV, true, Opd::Inc(1), Opd::Reg(5)); // pop.b r5
            a.fmt1(op1::MOV, true, Opd::Inc(6), Opd::Reg(7)); // mov.b @r6+, r7
        },
        &[],
    );
    e.hold_watchdog();
    e.r[1] = 0x03F0;
    e.r[6] = 0x0300;
    e.poke16(0x03F0, 0xA5C3);
    e.step().unwrap();
    assert_eq!((e.r[5], e.r[1]), (0x00C3, 0x03F2));
    e.step().unwrap();
    assert_eq!(e.r[6], 0x0301);
}
