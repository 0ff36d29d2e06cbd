//! A cycle-counting MSP430G2553 emulator: the test bench that runs the real firmware ELF with
//! its ADC input fed from a waveform and its UART output captured, on a machine without a
//! LaunchPad. Not shipped in the firmware.
//!
//! Modelled (MSP430x2xx Family User's Guide SLAU144 and the G2553 data sheet SLAS735):
//! - the CPU: every MSP430 (non-X) instruction and addressing mode with the cycle counts of
//!   tables 3-14 to 3-16 ([`cpu`], [`decode`]), interrupts with the G2553 priorities, GIE,
//!   RETI and the low-power bits of SR;
//! - Basic Clock Module+ with the factory DCO calibration in info segment A ([`clock`]),
//!   Watchdog+ ([`wdt`]), Timer0_A3 ([`timer`]), ADC10 ([`adc`]), USCI_A0 UART transmitter
//!   and receiver ([`usci`]; a host's bytes go in with [`Emu::host_send`]), ports P1/P2 and the special function and flash control registers
//!   ([`memory`]); flash is read-only.
//!
//! Every access to a peripheral address that is not modelled ends the run with
//! [`EmuError::Unmodelled`]: a firmware that starts using a new peripheral fails loudly
//! instead of running against a silent stub.

pub mod adc;
pub mod asm;
pub mod clock;
pub mod cpu;
pub mod decode;
pub mod elf;
pub mod fil;
pub mod memory;
pub mod timer;
pub mod uart_rx;
pub mod usci;
pub mod wdt;

use adc::Adc10;
use clock::{Bcs, DcoCal, TimeBase};
use memory::{
    Ports, Sfr, FCTL3_KEYV, FCTL3_LOCK, FCTL3_WAIT, IE1_WDTIE, IFG1_OFIFG, IFG1_PORIFG, IFG1_RSTIFG, IFG1_WDTIFG,
    IFG2_UCA0RXIFG, IFG2_UCA0TXIFG, IFG2_UCB0TXIFG,
};
use timer::TimerA;
use usci::Usci;
use wdt::{Wdt, WdtExpiry};

/// Why a run stopped.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EmuError {
    #[error("access to unmodelled peripheral or register 0x{addr:04x} at pc 0x{pc:04x}")]
    Unmodelled { addr: u16, pc: u16 },
    #[error("access to vacant memory 0x{addr:04x} at pc 0x{pc:04x}")]
    Vacant { addr: u16, pc: u16 },
    #[error("write to flash 0x{addr:04x} at pc 0x{pc:04x} (flash programming is not modelled)")]
    FlashWrite { addr: u16, pc: u16 },
    #[error("illegal or MSP430X instruction 0x{opcode:04x} at pc 0x{pc:04x}")]
    Illegal { opcode: u16, pc: u16 },
    #[error("low-power mode with SR = 0x{sr:04x} at pc 0x{pc:04x}: only LPM0 (CPUOFF) is modelled")]
    UnmodelledLpm { sr: u16, pc: u16 },
    #[error(
        "WDTCTL = 0x{value:04x} at pc 0x{pc:04x} changes the watchdog's clock source (WDTSSEL) while it runs: \
         hold it (WDTHOLD) first (SLAU144, Watchdog Timer+)"
    )]
    WdtClockSwitch { value: u16, pc: u16 },
    #[error(
        "ADC10 conversion with ADC10CLK at {min_hz:.0}-{max_hz:.0} Hz, outside the data sheet's 0.45-{} MHz \
         for ADC10SR = {}",
        if *adc10sr { "1.5" } else { "6.3" },
        *adc10sr as u8
    )]
    AdcClock { min_hz: f64, max_hz: f64, adc10sr: bool },
    #[error("{0}")]
    Elf(String),
}

/// Status register bits (3.2.3).
pub const C: u16 = 0x0001;
pub const Z: u16 = 0x0002;
pub const N: u16 = 0x0004;
pub const GIE: u16 = 0x0008;
pub const CPUOFF: u16 = 0x0010;
pub const OSCOFF: u16 = 0x0020;
pub const SCG0: u16 = 0x0040;
pub const SCG1: u16 = 0x0080;
pub const V: u16 = 0x0100;

/// Interrupt vectors of the G2553 (data sheet table 5), highest priority first.
pub mod vector {
    pub const RESET: u16 = 0xFFFE;
    pub const WDT: u16 = 0xFFF4;
    pub const TIMER0_A0: u16 = 0xFFF2;
    pub const TIMER0_A1: u16 = 0xFFF0;
    pub const USCIAB0RX: u16 = 0xFFEE;
    pub const USCIAB0TX: u16 = 0xFFEC;
    pub const ADC10: u16 = 0xFFEA;
    pub const PORT2: u16 = 0xFFE6;
    pub const PORT1: u16 = 0xFFE4;
}

/// A PUC and its cause.
#[derive(Clone, Debug, PartialEq)]
pub struct Reset {
    pub at_s: f64,
    pub cause: ResetKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResetKind {
    Watchdog,
    WatchdogPassword,
    FlashKey,
}

/// The analogue input: volts at channel `ch` (INCHx) at `t` seconds.
pub type Analog = Box<dyn FnMut(u8, f64) -> f64 + Send>;

/// Options for a new emulator.
#[derive(Clone, Debug)]
pub struct Config {
    /// Relative error of the factory-calibrated DCO frequencies.
    pub dco_error: f64,
    /// Write calibration constants into info segment A (false: erased, reads 0xFF).
    pub calibrated: bool,
    /// Fill RAM with this byte at power-on (for the stack high-water mark).
    pub ram_fill: u8,
}

impl Default for Config {
    fn default() -> Self {
        Config { dco_error: 0.0, calibrated: true, ram_fill: 0xCD }
    }
}

/// The emulated G2553.
pub struct Emu {
    /// R0 (PC) .. R15.
    pub r: [u16; 16],
    pub mem: Box<[u8; 0x1_0000]>,
    /// DCO cycles since power-on: the master time.
    pub now: u64,
    /// MCLK cycles the CPU executed (awake) and instructions executed.
    pub cpu_cycles: u64,
    pub instructions: u64,
    /// MCLK cycles spent in interrupt entry (6 each) for load figures.
    pub interrupts: u64,
    pub bcs: Bcs,
    pub tb: TimeBase,
    pub wdt: Wdt,
    pub timer: TimerA,
    pub adc: Adc10,
    pub usci: Usci,
    pub ports: Ports,
    pub sfr: Sfr,
    /// FCTL1..3 low bytes.
    pub fctl: [u8; 3],
    pub resets: Vec<Reset>,
    /// MCLK cycles spent in each interrupt handler (index (vector - 0xFFE0) / 2), from the
    /// acceptance (6 cycles) to its RETI included, for the CPU-load figures.
    pub isr_cycles: [u64; 16],
    /// Interrupts being handled: (vector index, SP after the entry pushes).
    isr_stack: Vec<(usize, u16)>,
    pub input: Analog,
    /// Address of the instruction being executed (for error reports).
    pub(crate) pc_insn: u16,
    pub(crate) fault: Option<EmuError>,
    next_event: u64,
    /// The pending interrupt vector with the highest priority, 0 if none.
    irq: u16,
    mclk_div: u64,
    smclk_div: u64,
}

impl Emu {
    /// A powered-up G2553 with erased main flash and calibrated info memory.
    pub fn new(cfg: &Config) -> Emu {
        let cal = clock::factory_calibration(cfg.dco_error);
        let bcs = Bcs::new(cal);
        let tb = TimeBase::new(bcs.dco_hz());
        let mut mem = Box::new([0u8; 0x1_0000]);
        mem[0x1000..0x1100].fill(0xFF);
        mem[0xC000..].fill(0xFF);
        mem[0x0200..0x0400].fill(cfg.ram_fill);
        if cfg.calibrated {
            write_calibration(&mut mem, &cal);
        }
        let mut e = Emu {
            r: [0; 16],
            mem,
            now: 0,
            cpu_cycles: 0,
            instructions: 0,
            interrupts: 0,
            bcs,
            tb,
            wdt: Wdt::new(0.0),
            timer: TimerA::new(),
            adc: Adc10::new(),
            usci: Usci::new(),
            ports: Ports::default(),
            sfr: Sfr::default(),
            fctl: [0, 0x42, FCTL3_LOCK | FCTL3_WAIT],
            resets: Vec::new(),
            isr_cycles: [0; 16],
            isr_stack: Vec::new(),
            input: Box::new(|_, _| 0.0),
            pc_insn: 0,
            fault: None,
            next_event: 0,
            irq: 0,
            mclk_div: 1,
            smclk_div: 1,
        };
        // Power-on: PORIFG, RSTIFG and OFIFG (no crystal has started) are set (SLAU144 2.2).
        e.sfr.ifg1 = IFG1_OFIFG | IFG1_PORIFG | IFG1_RSTIFG;
        e.puc_registers();
        e
    }

    /// Copies the ELF's loadable segments into flash and resets the CPU.
    pub fn load(&mut self, image: &elf::Image) {
        for (addr, bytes) in &image.segments {
            let a = *addr as usize;
            self.mem[a..a + bytes.len()].copy_from_slice(bytes);
        }
        self.puc_registers();
    }

    /// Parses and loads an ELF file's bytes.
    pub fn load_elf(&mut self, data: &[u8]) -> Result<elf::Image, EmuError> {
        let image = elf::Image::parse(data).map_err(|e| EmuError::Elf(e.to_string()))?;
        self.load(&image);
        Ok(image)
    }

    pub fn seconds(&self) -> f64 {
        self.tb.secs(self.now)
    }

    pub fn mclk_hz(&self) -> f64 {
        self.tb.dco_hz() / self.mclk_div as f64
    }

    pub fn smclk_hz(&self) -> f64 {
        self.tb.dco_hz() / self.smclk_div as f64
    }

    pub fn sr(&self) -> u16 {
        self.r[2]
    }

    /// The PUC: CPU and peripheral registers to their reset values (RAM kept), PC from the
    /// reset vector (2.2.2).
    fn puc_registers(&mut self) {
        self.r = [0; 16];
        self.r[0] = self.peek16(vector::RESET);
        self.isr_stack.clear();
        self.bcs.reset();
        self.clocks_changed();
        let now_s = self.seconds();
        self.wdt = Wdt::new(now_s);
        self.timer = TimerA::new();
        self.adc.reset();
        self.usci.reset(now_s);
        self.ports.reset();
        self.sfr.ie1 = 0;
        self.sfr.ie2 = 0;
        // UCA0TXIFG and UCB0TXIFG are set by a PUC (15.4).
        self.sfr.ifg2 = IFG2_UCA0TXIFG | IFG2_UCB0TXIFG;
        // KEYV survives the PUC it caused, so that the firmware can read the cause.
        self.fctl = [0, 0x42, FCTL3_LOCK | FCTL3_WAIT | (self.fctl[2] & FCTL3_KEYV)];
        self.update();
    }

    fn puc(&mut self, cause: ResetKind) {
        self.resets.push(Reset { at_s: self.seconds(), cause });
        match cause {
            ResetKind::Watchdog | ResetKind::WatchdogPassword => self.sfr.ifg1 |= IFG1_WDTIFG,
            ResetKind::FlashKey => self.fctl[2] |= FCTL3_KEYV,
        }
        // The reset itself takes 4 cycles of the new MCLK (table 3-14, not counted here).
        self.puc_registers();
    }

    /// Re-derives the clock dividers and DCO frequency after a BCS+ change.
    pub(crate) fn clocks_changed(&mut self) {
        let hz = self.bcs.dco_hz();
        if hz != self.tb.dco_hz() {
            let now = self.now;
            // Bring the ACLK-clocked watchdog up to date at the old frequency.
            self.sync_wdt();
            self.tb.retune(now, hz);
        }
        self.mclk_div = self.bcs.mclk_div();
        let smclk_div = self.bcs.smclk_div();
        if smclk_div != self.smclk_div {
            self.sync_wdt();
            self.smclk_div = smclk_div;
            let tick = smclk_div << ((self.timer.ctl >> 6) & 3);
            self.timer.rebase(self.now, tick);
        }
    }

    fn wdt_src_hz(&self) -> f64 {
        if self.wdt.uses_aclk() {
            self.bcs.aclk_hz()
        } else {
            self.smclk_hz()
        }
    }

    pub(crate) fn sync_wdt(&mut self) {
        let (s, hz) = (self.seconds(), self.wdt_src_hz());
        self.wdt.sync(s, hz);
    }

    /// Recomputes the next peripheral event and the pending interrupt.
    pub(crate) fn update(&mut self) {
        let wdt = self.wdt.expiry_s(self.wdt_src_hz()).map_or(u64::MAX, |t| self.tb.cycle_at(t));
        let rx = self.usci.rx_next_s().map_or(u64::MAX, |t| self.tb.cycle_at(t));
        self.next_event =
            self.timer.next_event().min(self.adc.next_event()).min(self.usci.next_event()).min(wdt).min(rx);
        self.irq = self.pending_vector();
    }

    /// The highest-priority pending maskable interrupt (data sheet table 5).
    fn pending_vector(&self) -> u16 {
        let s = &self.sfr;
        if s.ifg1 & s.ie1 & IE1_WDTIE & IFG1_WDTIFG != 0 && self.wdt.is_interval_mode() {
            vector::WDT
        } else if self.timer.irq0() {
            vector::TIMER0_A0
        } else if self.timer.irq1() {
            vector::TIMER0_A1
        } else if s.ifg2 & s.ie2 & 0x05 != 0 {
            vector::USCIAB0RX
        } else if s.ifg2 & s.ie2 & 0x0A != 0 {
            vector::USCIAB0TX
        } else if self.adc.irq() {
            vector::ADC10
        } else if self.ports.p2.ifg & self.ports.p2.ie != 0 {
            vector::PORT2
        } else if self.ports.p1.ifg & self.ports.p1.ie != 0 {
            vector::PORT1
        } else {
            0
        }
    }

    /// Processes every peripheral event due at or before `self.now`.
    fn service(&mut self) {
        while self.next_event <= self.now {
            let now = self.now;
            let t_next = self.next_event;
            // Timer first: its OUTx edges trigger conversions.
            if self.timer.next_event() <= now {
                self.timer.advance(now);
                let edges = std::mem::take(&mut self.timer.edges);
                for (t, ch) in &edges {
                    // SHSx: 1 = TA0.1, 2 = TA0.0, 3 = TA0.2 (G2553 data sheet, ADC10 trigger table).
                    let want = match self.adc.shs() {
                        1 => 1,
                        2 => 0,
                        3 => 2,
                        _ => 9,
                    };
                    if *ch == want {
                        self.adc_trigger(*t);
                    }
                }
                self.timer.edges = edges;
                self.timer.edges.clear();
            }
            if self.adc.next_event() <= now {
                let done = self.adc.next_event();
                let again = self.adc.complete(&mut *self.input);
                if again.is_some() {
                    self.adc_trigger(done);
                }
            }
            while self.usci.rx_next_s().is_some_and(|t| self.tb.cycle_at(t) <= now) {
                // P1.1 is UCA0RXD with P1SEL.1 = P1SEL2.1 = 1 (data sheet, port P1 functions).
                let pin = self.ports.p1.sel & self.ports.p1.sel2 & 0x02 != 0;
                let rxifg = self.sfr.ifg2 & IFG2_UCA0RXIFG != 0;
                if self.usci.rx_arrive(rxifg, pin, self.smclk_hz()) {
                    self.sfr.ifg2 |= IFG2_UCA0RXIFG;
                }
            }
            if self.usci.next_event() <= now {
                let tb = self.tb.clone();
                if self.usci.advance(now, self.smclk_div, &|c| tb.secs(c)) {
                    self.sfr.ifg2 |= IFG2_UCA0TXIFG;
                }
            }
            let src = self.wdt_src_hz();
            if let Some(t) = self.wdt.expiry_s(src) {
                if self.tb.cycle_at(t) <= now {
                    self.wdt.sync(t, src);
                    match self.wdt.expire(t) {
                        WdtExpiry::Reset => self.puc(ResetKind::Watchdog),
                        WdtExpiry::Interval => self.sfr.ifg1 |= IFG1_WDTIFG,
                    }
                }
            }
            self.update();
            if self.next_event == t_next && t_next <= now {
                // Nothing advanced (cannot happen with consistent models): avoid a hang.
                break;
            }
        }
    }

    pub(crate) fn adc_trigger(&mut self, t: u64) {
        let (aclk, mclk, smclk) = (self.bcs.aclk_hz(), self.mclk_hz(), self.smclk_hz());
        let (clk, range) = (self.adc.clock(aclk, mclk, smclk), self.adc.clock_range(aclk, mclk, smclk));
        let tb = self.tb.clone();
        if let Err(e) = self.adc.trigger(tb.secs(t), clk, range, |s| tb.cycle_at(s)) {
            // Timer-triggered conversions start between instructions: `run_until` and `step`
            // report it after `service`.
            self.fault.get_or_insert(e);
        }
    }

    /// Runs until DCO cycle `until` (or an error). Sleeping (CPUOFF) skips to the next event.
    pub fn run_until(&mut self, until: u64) -> Result<(), EmuError> {
        while self.now < until {
            if self.next_event <= self.now {
                self.service();
                if let Some(e) = self.fault.take() {
                    return Err(e);
                }
            }
            let sr = self.r[2];
            if self.irq != 0 && sr & GIE != 0 {
                self.take_interrupt();
                continue;
            }
            if sr & CPUOFF != 0 {
                if sr & (SCG1 | OSCOFF) != 0 {
                    return Err(EmuError::UnmodelledLpm { sr, pc: self.r[0] });
                }
                self.now = self.next_event.min(until).max(self.now);
                continue;
            }
            let cycles = self.exec()?;
            self.account(cycles);
        }
        Ok(())
    }

    /// Runs for `s` simulated seconds.
    pub fn run_seconds(&mut self, s: f64) -> Result<(), EmuError> {
        let end = self.seconds() + s;
        // In chunks: a DCO change moves the cycle at which `end` falls.
        loop {
            let until = self.tb.cycle_at(end);
            if self.now >= until {
                return Ok(());
            }
            self.run_until(until)?;
        }
    }

    /// Executes one instruction (or takes one pending interrupt) regardless of time; returns
    /// its MCLK cycles. For lockstep tests.
    pub fn step(&mut self) -> Result<u32, EmuError> {
        if self.next_event <= self.now {
            self.service();
            if let Some(e) = self.fault.take() {
                return Err(e);
            }
        }
        if self.irq != 0 && self.r[2] & GIE != 0 {
            return Ok(self.take_interrupt());
        }
        let c = self.exec()?;
        self.account(c);
        Ok(c)
    }

    #[inline(always)]
    fn account(&mut self, cycles: u32) {
        self.cpu_cycles += cycles as u64;
        self.instructions += 1;
        self.now += cycles as u64 * self.mclk_div;
        if let Some(&(v, sp)) = self.isr_stack.last() {
            self.isr_cycles[v] += cycles as u64;
            // The handler's RETI popped the frame the acceptance pushed.
            if self.r[1] == sp.wrapping_add(4) {
                self.isr_stack.pop();
            }
        }
    }

    /// Interrupt acceptance (3.2.6.1): push PC, push SR, clear SR except SCG0, auto-clear
    /// single-source flags, load the vector; 6 cycles (table 3-14).
    fn take_interrupt(&mut self) -> u32 {
        let v = self.irq;
        let sp = self.r[1].wrapping_sub(2);
        self.poke16(sp, self.r[0]);
        let sp = sp.wrapping_sub(2);
        self.poke16(sp, self.r[2]);
        self.r[1] = sp;
        self.r[2] &= SCG0;
        match v {
            vector::TIMER0_A0 => self.timer.accept0(),
            vector::ADC10 => self.adc.accept(),
            vector::WDT => self.sfr.ifg1 &= !IFG1_WDTIFG,
            _ => {}
        }
        self.r[0] = self.peek16(v);
        let idx = ((v - 0xFFE0) / 2) as usize;
        self.isr_cycles[idx] += 6;
        if self.isr_stack.len() < 16 {
            self.isr_stack.push((idx, sp));
        }
        self.interrupts += 1;
        self.cpu_cycles += 6;
        self.now += 6 * self.mclk_div;
        self.update();
        6
    }

    /// A host sends `bytes` to UCA0RXD at `baud` (8N1, back to back), starting now or when
    /// its previous bytes are out.
    pub fn host_send(&mut self, bytes: &[u8], baud: f64) {
        let now = self.seconds();
        self.usci.host_send(now, bytes, baud);
        self.update();
    }

    /// As [`Emu::host_send`], starting at `at_s` seconds (scheduled ahead).
    pub fn host_send_at(&mut self, at_s: f64, bytes: &[u8], baud: f64) {
        self.usci.host_send(at_s, bytes, baud);
        self.update();
    }

    /// Writes bytes anywhere in the memory image (flash included), without side effects.
    pub fn load_bytes(&mut self, addr: u16, bytes: &[u8]) {
        let a = addr as usize;
        let n = bytes.len().min(0x1_0000 - a);
        self.mem[a..a + n].copy_from_slice(&bytes[..n]);
    }

    /// Stops the watchdog (as `WDTCTL = WDTPW | WDTHOLD` would), for compute-only tests.
    /// Gives the ADC10 these errors and writes the factory calibration that measured them
    /// into the TLV segment (a device whose 2.5 V reference is off, as calibrated).
    pub fn set_adc_errors(&mut self, errors: adc::AdcErrors) {
        self.adc.errors = errors;
        write_adc_calibration(&mut self.mem, &errors);
    }

    pub fn hold_watchdog(&mut self) {
        self.sync_wdt();
        self.wdt.ctl |= wdt::WDTHOLD;
        self.update();
    }

    /// Direct memory access without side effects (RAM, flash, info memory only).
    pub fn peek16(&self, a: u16) -> u16 {
        let a = (a & !1) as usize;
        u16::from_le_bytes([self.mem[a], self.mem[a + 1]])
    }

    pub fn poke16(&mut self, a: u16, v: u16) {
        let a = (a & !1) as usize;
        self.mem[a..a + 2].copy_from_slice(&v.to_le_bytes());
    }

    /// The lowest RAM address whose `fill` byte was overwritten: the stack high-water mark
    /// when RAM was painted at power-on, scanning down from the top of RAM to `from`.
    pub fn stack_low_water(&self, from: u16, fill: u8) -> u16 {
        let mut lowest = 0x0400u16;
        for a in (from..0x0400).rev() {
            if self.mem[a as usize] != fill {
                lowest = a;
            }
        }
        lowest
    }
}

/// Info segment A (SLAU144 24.2.2; G2553 data sheet, TLV): the DCO calibration tag at 0x10F6
/// (TAG_DCO_30 = 0x01, length 8) and CALDCO/CALBC1 for 16, 12, 8, 1 MHz at 0x10F8-0x10FF,
/// and the ADC10 calibration of an ideal converter ([`write_adc_calibration`]).
fn write_calibration(mem: &mut [u8; 0x1_0000], cal: &[DcoCal; 4]) {
    mem[0x10F6] = 0x01;
    mem[0x10F7] = 0x08;
    for (i, c) in cal.iter().enumerate() {
        mem[0x10F8 + 2 * i] = c.caldco;
        mem[0x10F9 + 2 * i] = c.calbc1;
    }
    write_adc_calibration(mem, &adc::AdcErrors::default());
}

/// The ADC10 part of the TLV segment for a converter with `errors` (G2553 data sheet SLAS735,
/// TLV tables): TAG_ADC10_1 = 0x10 and its length 0x10 at 0x10DA, CAL_ADC_GAIN_FACTOR at
/// 0x10DC, CAL_ADC_OFFSET at 0x10DE, CAL_ADC_15VREF_FACTOR at 0x10E0 (ideal: the 1.5 V
/// reference is not modelled off), CAL_ADC_25VREF_FACTOR at 0x10E6; then the segment's
/// checksum at 0x10C0: the two's complement of the XOR of the words at 0x10C2-0x10FE
/// (SLAU144 24.3). Temperature-sensor words stay erased (0xFFFF).
pub fn write_adc_calibration(mem: &mut [u8; 0x1_0000], errors: &adc::AdcErrors) {
    let (gain, offset, vref25) = errors.tlv_words();
    mem[0x10DA] = 0x10;
    mem[0x10DB] = 0x10;
    mem[0x10DC..0x10DE].copy_from_slice(&gain.to_le_bytes());
    mem[0x10DE..0x10E0].copy_from_slice(&offset.to_le_bytes());
    mem[0x10E0..0x10E2].copy_from_slice(&0x8000u16.to_le_bytes());
    mem[0x10E6..0x10E8].copy_from_slice(&vref25.to_le_bytes());
    let x = (0x10C2..0x1100).step_by(2).fold(0u16, |x, a| x ^ u16::from_le_bytes([mem[a], mem[a + 1]]));
    mem[0x10C0..0x10C2].copy_from_slice(&x.wrapping_neg().to_le_bytes());
}
