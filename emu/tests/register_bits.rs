//! Every register bit and field value written by hand, in the firmware (`ct_firmware_logic::
//! regs`, the profiles' BCSCTL2 and UCA0MCTL values) and in the emulator (`ct_emu::{adc, wdt,
//! timer, usci, memory, clock}`), against the SVD the `msp430g2553` PAC is generated from
//! (`msp430g2553.svd`, shipped in the crate source that the firmware build downloads).
//!
//! Two hand-written copies of one wrong bit agree with each other: FCTL3 KEYV was 0x0020 in
//! both the firmware and the emulator, which is EMEX; the SVD has KEYV at bit 1. This test is
//! what catches that kind of mistake.
//!
//! The SVD is found from the `msp430g2553` version in firmware/Cargo.lock under
//! `$CARGO_HOME/registry/src/*/` (or given as `$CT_MSP430G2553_SVD`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use ct_emu::{adc, clock, memory, timer, usci, wdt};
use ct_firmware_logic::profile::{FAST, LAUNCHPAD};
use ct_firmware_logic::regs as fw;

#[derive(Clone, Copy, Debug)]
struct Field {
    offset: u32,
    width: u32,
}

#[derive(Debug, Default)]
struct Register {
    addr: u32,
    fields: HashMap<String, Field>,
}

/// (peripheral, register) -> register.
struct Svd(HashMap<(String, String), Register>);

fn number(s: &str) -> u32 {
    let s = s.trim();
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u32::from_str_radix(h, 16).unwrap(),
        None => s.parse().unwrap_or_else(|e| panic!("{s:?}: {e}")),
    }
}

/// The text of the first `<tag>...</tag>` in `s`.
fn tag<'a>(s: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let start = s.find(&open)? + open.len();
    let end = s[start..].find(&format!("</{tag}>"))? + start;
    Some(&s[start..end])
}

/// The bodies of the top-level `<tag ...>...</tag>` elements in `s` (not nested in each other).
fn elements<'a>(s: &'a str, tag: &str) -> Vec<&'a str> {
    let close = format!("</{tag}>");
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.find(&format!("<{tag}")) {
        let after = &rest[i + tag.len() + 1..];
        // `<peripheral>` or `<peripheral derivedFrom=...>`, not `<peripherals>`.
        if !after.starts_with('>') && !after.starts_with(' ') {
            rest = after;
            continue;
        }
        let end = after.find(&close).unwrap_or_else(|| panic!("unclosed <{tag}>"));
        out.push(&after[..end]);
        rest = &after[end + close.len()..];
    }
    out
}

impl Svd {
    fn parse(text: &str) -> Svd {
        let mut map = HashMap::new();
        for p in elements(text, "peripheral") {
            // Derived peripherals (TIMER1_A3) repeat another's registers at another base.
            let header = &p[..p.find('>').unwrap_or(0)];
            if header.contains("derivedFrom") {
                continue;
            }
            let pname = tag(p, "name").unwrap().trim().to_string();
            let base = number(tag(p, "baseAddress").unwrap());
            let regs = tag(p, "registers").unwrap_or("");
            for r in elements(regs, "register") {
                let rname = tag(r, "name").unwrap().trim().to_string();
                let addr = base + number(tag(r, "addressOffset").unwrap());
                let mut fields = HashMap::new();
                for f in elements(tag(r, "fields").unwrap_or(""), "field") {
                    // The field's own <name> comes before any enumerated value's.
                    let fname = tag(f, "name").unwrap().trim().to_string();
                    let field = Field {
                        offset: number(tag(f, "bitOffset").unwrap()),
                        width: number(tag(f, "bitWidth").unwrap()),
                    };
                    fields.insert(fname, field);
                }
                map.insert((pname.clone(), rname), Register { addr, fields });
            }
        }
        Svd(map)
    }

    fn register(&self, p: &str, r: &str) -> &Register {
        self.0.get(&(p.to_string(), r.to_string())).unwrap_or_else(|| panic!("SVD has no register {p}.{r}"))
    }

    fn field(&self, p: &str, r: &str, f: &str) -> Field {
        *self.register(p, r).fields.get(f).unwrap_or_else(|| panic!("SVD has no field {p}.{r}.{f}"))
    }

    /// A one-bit field's mask.
    fn bit(&self, p: &str, r: &str, f: &str) -> u32 {
        let fd = self.field(p, r, f);
        assert_eq!(fd.width, 1, "{p}.{r}.{f} is {} bits wide", fd.width);
        1 << fd.offset
    }

    /// Field `f` = `v`, in place.
    fn value(&self, p: &str, r: &str, f: &str, v: u32) -> u32 {
        let fd = self.field(p, r, f);
        assert!(v < 1 << fd.width, "{v} does not fit {p}.{r}.{f} ({} bits)", fd.width);
        v << fd.offset
    }

    fn mask(&self, p: &str, r: &str, f: &str) -> u32 {
        let fd = self.field(p, r, f);
        ((1u32 << fd.width) - 1) << fd.offset
    }

    fn addr(&self, p: &str, r: &str) -> u32 {
        self.register(p, r).addr
    }
}

fn svd_path() -> PathBuf {
    if let Some(p) = std::env::var_os("CT_MSP430G2553_SVD") {
        return PathBuf::from(p);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let lock = std::fs::read_to_string(root.join("firmware/Cargo.lock")).expect("firmware/Cargo.lock");
    let version = lock
        .split("[[package]]")
        .find(|p| p.contains("name = \"msp430g2553\""))
        .and_then(|p| p.lines().find_map(|l| l.strip_prefix("version = \"")))
        .and_then(|v| v.strip_suffix('"'))
        .expect("msp430g2553 in firmware/Cargo.lock")
        .to_string();
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cargo"));
    let src = cargo_home.join("registry/src");
    let dirs = std::fs::read_dir(&src).unwrap_or_else(|e| panic!("{}: {e}", src.display()));
    for d in dirs.flatten() {
        let p = d.path().join(format!("msp430g2553-{version}")).join("msp430g2553.svd");
        if p.is_file() {
            return p;
        }
    }
    panic!(
        "msp430g2553-{version}/msp430g2553.svd not found under {}: build the firmware first \
         (bash .ci/firmware.sh, or `cargo fetch` in firmware/), or set CT_MSP430G2553_SVD",
        src.display()
    );
}

fn svd() -> Svd {
    let path = svd_path();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Svd::parse(&text)
}

/// Collects mismatches so that one run lists them all.
#[derive(Default)]
struct Check(Vec<String>);

impl Check {
    fn eq(&mut self, what: &str, hand: u32, svd: u32) {
        if hand != svd {
            self.0.push(format!("{what}: written by hand as {hand:#06x}, the SVD says {svd:#06x}"));
        }
    }

    fn done(self) {
        assert!(self.0.is_empty(), "register bits disagree with the PAC's SVD:\n  {}", self.0.join("\n  "));
    }
}

const SFR: &str = "SPECIAL_FUNCTION";
const WDT: &str = "WATCHDOG_TIMER";
const FLASH: &str = "FLASH";
const BCS: &str = "SYSTEM_CLOCK";
const ADC: &str = "ADC10";
const TA: &str = "TIMER0_A3";
const UCA: &str = "USCI_A0_UART_MODE";

#[test]
fn the_firmwares_register_bits_match_the_svd() {
    let s = svd();
    let mut c = Check::default();
    // Watchdog.
    c.eq("fw WDTCTL.WDTHOLD", fw::wdtctl::WDTHOLD as u32, s.bit(WDT, "WDTCTL", "WDTHOLD"));
    c.eq("fw WDTCTL.WDTCNTCL", fw::wdtctl::WDTCNTCL as u32, s.bit(WDT, "WDTCTL", "WDTCNTCL"));
    c.eq("fw WDTCTL.WDTSSEL", fw::wdtctl::WDTSSEL as u32, s.bit(WDT, "WDTCTL", "WDTSSEL"));
    c.eq("fw WDTPW in the WDTPW field", fw::wdtctl::WDTPW as u32 & !s.mask(WDT, "WDTCTL", "WDTPW"), 0);
    // Reset cause and UART flags.
    c.eq("fw IFG1.WDTIFG", fw::ifg1::WDTIFG as u32, s.bit(SFR, "IFG1", "WDTIFG"));
    c.eq("fw IFG1.OFIFG", fw::ifg1::OFIFG as u32, s.bit(SFR, "IFG1", "OFIFG"));
    c.eq("fw IFG1.PORIFG", fw::ifg1::PORIFG as u32, s.bit(SFR, "IFG1", "PORIFG"));
    c.eq("fw IFG1.RSTIFG", fw::ifg1::RSTIFG as u32, s.bit(SFR, "IFG1", "RSTIFG"));
    c.eq("fw IFG1.NMIIFG", fw::ifg1::NMIIFG as u32, s.bit(SFR, "IFG1", "NMIIFG"));
    c.eq("fw IE2.UCA0TXIE", fw::ie2::UCA0TXIE as u32, s.bit(SFR, "IE2", "UCA0TXIE"));
    c.eq("fw IE2.UCA0RXIE", fw::ie2::UCA0RXIE as u32, s.bit(SFR, "IE2", "UCA0RXIE"));
    c.eq("fw IFG2.UCA0RXIFG", fw::ifg2::UCA0RXIFG as u32, s.bit(SFR, "IFG2", "UCA0RXIFG"));
    c.eq("fw IFG2.UCA0TXIFG", fw::ifg2::UCA0TXIFG as u32, s.bit(SFR, "IFG2", "UCA0TXIFG"));
    // Flash controller: the reset cause reads KEYV.
    c.eq("fw FCTL3.KEYV", fw::fctl3::KEYV as u32, s.bit(FLASH, "FCTL3", "KEYV"));
    c.eq("fw boot::FCTL3_KEYV", ct_firmware_logic::boot::FCTL3_KEYV as u32, s.bit(FLASH, "FCTL3", "KEYV"));
    c.eq("fw FCTL3.LOCK", fw::fctl3::LOCK as u32, s.bit(FLASH, "FCTL3", "LOCK"));
    c.eq("fw FWKEY in the FWKEY field", fw::fctl3::FWKEY as u32 & !s.mask(FLASH, "FCTL3", "FWKEY"), 0);
    // Clocks.
    c.eq("fw BCSCTL3.LFXT1S = 2", fw::bcsctl3::LFXT1S_2 as u32, s.value(BCS, "BCSCTL3", "LFXT1S", 2));
    c.eq("fw BCSCTL2.DIVS = 0", fw::bcsctl2::DIVS_0 as u32, s.value(BCS, "BCSCTL2", "DIVS", 0));
    c.eq("fw BCSCTL2.DIVS = 1", fw::bcsctl2::DIVS_1 as u32, s.value(BCS, "BCSCTL2", "DIVS", 1));
    c.eq("launchpad BCSCTL2 (SMCLK = DCO)", LAUNCHPAD.dco.bcsctl2() as u32, s.value(BCS, "BCSCTL2", "DIVS", 0));
    c.eq("fast BCSCTL2 (SMCLK = DCO / 2)", FAST.dco.bcsctl2() as u32, s.value(BCS, "BCSCTL2", "DIVS", 1));
    // ADC10.
    c.eq("fw ADC10CTL0.ENC", fw::adc10ctl0::ENC as u32, s.bit(ADC, "ADC10CTL0", "ENC"));
    c.eq("fw ADC10CTL0.ADC10IE", fw::adc10ctl0::ADC10IE as u32, s.bit(ADC, "ADC10CTL0", "ADC10IE"));
    c.eq("fw ADC10CTL0.ADC10ON", fw::adc10ctl0::ADC10ON as u32, s.bit(ADC, "ADC10CTL0", "ADC10ON"));
    c.eq("fw ADC10CTL0.REFON", fw::adc10ctl0::REFON as u32, s.bit(ADC, "ADC10CTL0", "REFON"));
    c.eq("fw ADC10CTL0.REF2_5V", fw::adc10ctl0::REF2_5V as u32, s.bit(ADC, "ADC10CTL0", "REF2_5V"));
    c.eq("fw ADC10CTL0.ADC10SR", fw::adc10ctl0::ADC10SR as u32, s.bit(ADC, "ADC10CTL0", "ADC10SR"));
    c.eq("fw ADC10CTL0.ADC10SHT = 3", fw::adc10ctl0::ADC10SHT_3 as u32, s.value(ADC, "ADC10CTL0", "ADC10SHT", 3));
    c.eq("fw ADC10CTL0.SREF = 1", fw::adc10ctl0::SREF_1 as u32, s.value(ADC, "ADC10CTL0", "SREF", 1));
    c.eq("fw ADC10CTL1.CONSEQ = 2", fw::adc10ctl1::CONSEQ_2 as u32, s.value(ADC, "ADC10CTL1", "CONSEQ", 2));
    c.eq("fw ADC10CTL1.ADC10SSEL = 0", fw::adc10ctl1::ADC10SSEL_0 as u32, s.value(ADC, "ADC10CTL1", "ADC10SSEL", 0));
    c.eq("fw ADC10CTL1.ADC10DIV = 3", fw::adc10ctl1::ADC10DIV_3 as u32, s.value(ADC, "ADC10CTL1", "ADC10DIV", 3));
    c.eq("fw ADC10CTL1.SHS = 1", fw::adc10ctl1::SHS_1 as u32, s.value(ADC, "ADC10CTL1", "SHS", 1));
    c.eq("fw ADC10CTL1.INCH = 4", fw::adc10ctl1::INCH_4 as u32, s.value(ADC, "ADC10CTL1", "INCH", 4));
    c.eq("fw ADC10AE0 bit 4 (A4)", fw::adc10ae0::A4 as u32, s.value(ADC, "ADC10AE0", "ADC10AE0", 1 << 4));
    // Timer_A.
    c.eq("fw TACTL.TACLR", fw::tactl::TACLR as u32, s.bit(TA, "TACTL", "TACLR"));
    c.eq("fw TACTL.MC = 1", fw::tactl::MC_1 as u32, s.value(TA, "TACTL", "MC", 1));
    c.eq("fw TACTL.ID offset", fw::tactl::ID_SHIFT as u32, s.field(TA, "TACTL", "ID").offset);
    c.eq("fw TACTL.TASSEL = 2", fw::tactl::TASSEL_2 as u32, s.value(TA, "TACTL", "TASSEL", 2));
    c.eq("fw TACCTL1.OUTMOD = 7", fw::tacctl::OUTMOD_7 as u32, s.value(TA, "TACCTL1", "OUTMOD", 7));
    // USCI_A0 UART.
    c.eq("fw UCA0CTL1.UCSWRST", fw::uca0::UCSWRST as u32, s.bit(UCA, "UCA0CTL1", "UCSWRST"));
    c.eq("fw UCA0CTL1.UCSSEL = 2", fw::uca0::UCSSEL_2 as u32, s.value(UCA, "UCA0CTL1", "UCSSEL", 2));
    c.eq("fw UCA0STAT.UCBUSY", fw::uca0::UCBUSY as u32, s.bit(UCA, "UCA0STAT", "UCBUSY"));
    c.eq("fw UCA0MCTL.UCOS16", fw::uca0::UCOS16 as u32, s.bit(UCA, "UCA0MCTL", "UCOS16"));
    c.eq("fw UCA0MCTL.UCBRS offset", fw::uca0::UCBRS_SHIFT as u32, s.field(UCA, "UCA0MCTL", "UCBRS").offset);
    c.eq("fw UCA0MCTL.UCBRF offset", fw::uca0::UCBRF_SHIFT as u32, s.field(UCA, "UCA0MCTL", "UCBRF").offset);
    for p in [LAUNCHPAD, FAST] {
        let u = p.uart;
        let want = s.value(UCA, "UCA0MCTL", "UCBRF", u.brf as u32)
            | s.value(UCA, "UCA0MCTL", "UCBRS", u.brs as u32)
            | s.value(UCA, "UCA0MCTL", "UCOS16", u.os16 as u32);
        c.eq(&format!("{:?} UCA0MCTL", p.build), u.mctl() as u32, want);
    }
    c.done();
}

/// Issue 12 item 6: the TLV segment's layout the firmware reads (ct_firmware_logic::tlv) and
/// the emulator writes, against the SVD's TLV_CALIBRATION_DATA block (it names only the
/// checksum and the tags; the calibration words' addresses are the data sheet's).
#[test]
fn the_tlv_layout_matches_the_svd() {
    use ct_firmware_logic::tlv;
    let s = svd();
    let mut c = Check::default();
    const TLV: &str = "TLV_CALIBRATION_DATA";
    c.eq("TLV checksum address", tlv::TLV_START as u32, s.addr(TLV, "TLV_CHECKSUM"));
    c.eq("ADC10 tag address", tlv::TLV_START as u32 + 2 * tlv::ADC10_TAG_WORD as u32, s.addr(TLV, "TLV_ADC10_1_TAG"));
    c.eq(
        "ADC10 length address",
        tlv::TLV_START as u32 + 2 * tlv::ADC10_TAG_WORD as u32 + 1,
        s.addr(TLV, "TLV_ADC10_1_LEN"),
    );
    c.eq("DCO tag address (emu writes it)", 0x10F6, s.addr(TLV, "TLV_DCO_30_TAG"));
    c.done();
}

#[test]
fn the_emulators_register_bits_and_addresses_match_the_svd() {
    let s = svd();
    let mut c = Check::default();
    // Watchdog.
    c.eq("emu WDTCTL address", wdt::WDTCTL as u32, s.addr(WDT, "WDTCTL"));
    c.eq("emu WDTCTL.WDTHOLD", wdt::WDTHOLD as u32, s.bit(WDT, "WDTCTL", "WDTHOLD"));
    c.eq("emu WDTCTL.WDTTMSEL", wdt::WDTTMSEL as u32, s.bit(WDT, "WDTCTL", "WDTTMSEL"));
    c.eq("emu WDTCTL.WDTCNTCL", wdt::WDTCNTCL as u32, s.bit(WDT, "WDTCTL", "WDTCNTCL"));
    c.eq("emu WDTCTL.WDTSSEL", wdt::WDTSSEL as u32, s.bit(WDT, "WDTCTL", "WDTSSEL"));
    // Special function registers.
    c.eq("emu IE1.WDTIE", memory::IE1_WDTIE as u32, s.bit(SFR, "IE1", "WDTIE"));
    c.eq("emu IFG1.WDTIFG", memory::IFG1_WDTIFG as u32, s.bit(SFR, "IFG1", "WDTIFG"));
    c.eq("emu IFG1.OFIFG", memory::IFG1_OFIFG as u32, s.bit(SFR, "IFG1", "OFIFG"));
    c.eq("emu IFG1.PORIFG", memory::IFG1_PORIFG as u32, s.bit(SFR, "IFG1", "PORIFG"));
    c.eq("emu IFG1.RSTIFG", memory::IFG1_RSTIFG as u32, s.bit(SFR, "IFG1", "RSTIFG"));
    c.eq("emu IFG2.UCA0TXIFG", memory::IFG2_UCA0TXIFG as u32, s.bit(SFR, "IFG2", "UCA0TXIFG"));
    c.eq("emu IFG2.UCA0RXIFG", memory::IFG2_UCA0RXIFG as u32, s.bit(SFR, "IFG2", "UCA0RXIFG"));
    c.eq("emu IFG2.UCB0TXIFG", memory::IFG2_UCB0TXIFG as u32, s.bit(SFR, "IFG2", "UCB0TXIFG"));
    // Flash controller.
    c.eq("emu FCTL1 address", memory::FCTL1 as u32, s.addr(FLASH, "FCTL1"));
    c.eq("emu FCTL2 address", memory::FCTL2 as u32, s.addr(FLASH, "FCTL2"));
    c.eq("emu FCTL3 address", memory::FCTL3 as u32, s.addr(FLASH, "FCTL3"));
    c.eq("emu FCTL3.KEYV", memory::FCTL3_KEYV as u32, s.bit(FLASH, "FCTL3", "KEYV"));
    c.eq("emu FCTL3.WAIT", memory::FCTL3_WAIT as u32, s.bit(FLASH, "FCTL3", "WAIT"));
    c.eq("emu FCTL3.LOCK", memory::FCTL3_LOCK as u32, s.bit(FLASH, "FCTL3", "LOCK"));
    c.eq("emu FWKEY in the FWKEY field", memory::FWKEY as u32 & !s.mask(FLASH, "FCTL1", "FWKEY"), 0);
    let programming =
        ["ERASE", "MERAS", "WRT", "BLKWRT"].iter().map(|f| s.bit(FLASH, "FCTL1", f)).fold(0, |a, b| a | b);
    c.eq("emu FCTL1 ERASE | MERAS | WRT | BLKWRT", memory::FCTL1_PROGRAMMING as u32, programming);
    // Clocks.
    c.eq("emu DCOCTL address", clock::DCOCTL as u32, s.addr(BCS, "DCOCTL"));
    c.eq("emu BCSCTL1 address", clock::BCSCTL1 as u32, s.addr(BCS, "BCSCTL1"));
    c.eq("emu BCSCTL2 address", clock::BCSCTL2 as u32, s.addr(BCS, "BCSCTL2"));
    c.eq("emu BCSCTL3 address", clock::BCSCTL3 as u32, s.addr(BCS, "BCSCTL3"));
    // ADC10.
    for (a, r) in [
        (adc::ADC10DTC0, "ADC10DTC0"),
        (adc::ADC10DTC1, "ADC10DTC1"),
        (adc::ADC10AE0, "ADC10AE0"),
        (adc::ADC10CTL0, "ADC10CTL0"),
        (adc::ADC10CTL1, "ADC10CTL1"),
        (adc::ADC10MEM, "ADC10MEM"),
        (adc::ADC10SA, "ADC10SA"),
    ] {
        c.eq(&format!("emu {r} address"), a as u32, s.addr(ADC, r));
    }
    for (v, f) in [
        (adc::ADC10SC, "ADC10SC"),
        (adc::ENC, "ENC"),
        (adc::ADC10IFG, "ADC10IFG"),
        (adc::ADC10IE, "ADC10IE"),
        (adc::ADC10ON, "ADC10ON"),
        (adc::REFON, "REFON"),
        (adc::REF2_5V, "REF2_5V"),
        (adc::MSC, "MSC"),
        (adc::ADC10SR, "ADC10SR"),
    ] {
        c.eq(&format!("emu ADC10CTL0.{f}"), v as u32, s.bit(ADC, "ADC10CTL0", f));
    }
    c.eq("emu ADC10CTL1.ADC10BUSY", adc::ADC10BUSY as u32, s.bit(ADC, "ADC10CTL1", "ADC10BUSY"));
    // Timer0_A3 (the SVD calls its registers TAxxx).
    for (a, r) in [
        (timer::TA0IV, "TAIV"),
        (timer::TA0CTL, "TACTL"),
        (timer::TA0CCTL0, "TACCTL0"),
        (timer::TA0R, "TAR"),
        (timer::TA0CCR0, "TACCR0"),
    ] {
        c.eq(&format!("emu {r} address"), a as u32, s.addr(TA, r));
    }
    c.eq("emu TACTL.TAIFG", timer::TAIFG as u32, s.bit(TA, "TACTL", "TAIFG"));
    c.eq("emu TACTL.TAIE", timer::TAIE as u32, s.bit(TA, "TACTL", "TAIE"));
    c.eq("emu TACTL.TACLR", timer::TACLR as u32, s.bit(TA, "TACTL", "TACLR"));
    for (v, f) in [(timer::CCIFG, "CCIFG"), (timer::OUT, "OUT"), (timer::CCIE, "CCIE"), (timer::CAP, "CAP")] {
        c.eq(&format!("emu TACCTLx.{f}"), v as u32, s.bit(TA, "TACCTL0", f));
    }
    // USCI_A0 UART.
    for (a, r) in [
        (usci::UCA0ABCTL, "UCA0ABCTL"),
        (usci::UCA0CTL0, "UCA0CTL0"),
        (usci::UCA0CTL1, "UCA0CTL1"),
        (usci::UCA0BR0, "UCA0BR0"),
        (usci::UCA0BR1, "UCA0BR1"),
        (usci::UCA0MCTL, "UCA0MCTL"),
        (usci::UCA0STAT, "UCA0STAT"),
        (usci::UCA0RXBUF, "UCA0RXBUF"),
        (usci::UCA0TXBUF, "UCA0TXBUF"),
    ] {
        c.eq(&format!("emu {r} address"), a as u32, s.addr(UCA, r));
    }
    c.eq("emu UCA0CTL1.UCSWRST", usci::UCSWRST as u32, s.bit(UCA, "UCA0CTL1", "UCSWRST"));
    c.eq("emu UCA0MCTL.UCOS16", usci::UCOS16 as u32, s.bit(UCA, "UCA0MCTL", "UCOS16"));
    c.eq("emu UCA0STAT.UCBUSY", usci::UCBUSY as u32, s.bit(UCA, "UCA0STAT", "UCBUSY"));
    c.done();
}
