//! Basic Clock Module+ (SLAU144 chapter 5) and the time base.
//!
//! The emulator's master clock is the DCO: every other time is counted in DCO cycles
//! (`u64`), because MCLK and SMCLK are the DCO divided by DIVM/DIVS (5.2.1) and the CPU,
//! Timer_A and USCI are clocked from them. The independent oscillators (VLO for ACLK, ADC10OSC)
//! are converted through [`TimeBase`], which also survives DCO frequency changes.

use crate::EmuError;

/// Register addresses (G2553 data sheet, table 16: special function registers / BCS+).
pub const DCOCTL: u16 = 0x0056;
pub const BCSCTL1: u16 = 0x0057;
pub const BCSCTL2: u16 = 0x0058;
pub const BCSCTL3: u16 = 0x0053;

/// VLO typical frequency (G2553 data sheet: fVLO 4-20 kHz, typical 12 kHz).
pub const VLO_HZ: f64 = 12_000.0;
/// LFXT1 with a 32768 Hz watch crystal (LFXT1S = 0).
pub const LFXT1_HZ: f64 = 32_768.0;

/// Factory DCO calibration for one frequency: the CALBC1_xMHZ / CALDCO_xMHZ pair and the
/// frequency it gives (5.2.5.2: the constants are measured per device at 25 °C).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DcoCal {
    pub nominal_hz: f64,
    pub calbc1: u8,
    pub caldco: u8,
    /// Actual frequency reached with this pair (the device's calibration error included).
    pub actual_hz: f64,
}

/// Typical DCO frequencies at DCOx = 3, RSELx = 0..15 (G2553 data sheet, "DCO frequency"
/// table: fDCO(0,3) 0.1 MHz ... fDCO(15,3) 15.25 MHz), with the data sheet's step ratios
/// S_DCO = 1.08 per DCOx step.
const F_RSEL_DCO3: [f64; 16] = [
    0.10e6, 0.14e6, 0.20e6, 0.28e6, 0.39e6, 0.54e6, 0.80e6, 1.10e6, 1.60e6, 2.30e6, 3.40e6, 4.25e6, 5.80e6, 7.80e6,
    10.6e6, 15.25e6,
];

/// Frequency of the DCO from RSELx, DCOx and MODx with the data sheet's typical curve.
/// The modulator mixes fDCO and fDCO+1 over 32 DCOCLK cycles (SLAU144 5.2.5.3):
/// f = 32 * fDCO * fDCO+1 / (MOD * fDCO + (32 - MOD) * fDCO+1).
pub fn dco_model_hz(bcsctl1: u8, dcoctl: u8) -> f64 {
    let rsel = (bcsctl1 & 0x0F) as usize;
    let dco = (dcoctl >> 5) as i32;
    let modx = (dcoctl & 0x1F) as f64;
    let f = |d: i32| F_RSEL_DCO3[rsel] * 1.08f64.powi(d - 3);
    if dco == 7 {
        // MODx has no effect at DCOx = 7 (5.2.5.3).
        return f(7);
    }
    let (a, b) = (f(dco), f(dco + 1));
    32.0 * a * b / (modx * a + (32.0 - modx) * b)
}

/// The nearest register pair to `hz` under [`dco_model_hz`]: how a calibration would choose it.
fn nearest_pair(hz: f64) -> (u8, u8) {
    let mut best = (0u8, 0u8, f64::MAX);
    for rsel in 0..16u8 {
        for dcoctl in 0..=255u8 {
            if dcoctl >> 5 == 7 && dcoctl & 0x1F != 0 {
                continue;
            }
            let e = (dco_model_hz(0x80 | rsel, dcoctl) - hz).abs();
            if e < best.2 {
                best = (0x80 | rsel, dcoctl, e);
            }
        }
    }
    (best.0, best.1)
}

/// Calibration constants for info segment A (0x10F8-0x10FF; SLAU144 24.2.2, G2553 data sheet
/// TLV table) for 16, 12, 8 and 1 MHz. The pairs are those the DCO model puts nearest the
/// target (values like a real G2553's, e.g. CALBC1_16MHZ = 0x8F); `error` is the relative
/// frequency error of the calibrated DCO (0 = exact, as calibrated at 25 °C).
pub fn factory_calibration(error: f64) -> [DcoCal; 4] {
    [16e6, 12e6, 8e6, 1e6].map(|hz| {
        let (calbc1, caldco) = nearest_pair(hz);
        DcoCal { nominal_hz: hz, calbc1, caldco, actual_hz: hz * (1.0 + error) }
    })
}

/// Converts between DCO cycles and seconds across DCO frequency changes.
#[derive(Clone, Debug)]
pub struct TimeBase {
    base_cycle: u64,
    base_s: f64,
    dco_hz: f64,
}

impl TimeBase {
    pub fn new(dco_hz: f64) -> Self {
        TimeBase { base_cycle: 0, base_s: 0.0, dco_hz }
    }
    pub fn dco_hz(&self) -> f64 {
        self.dco_hz
    }
    /// Seconds at DCO cycle `c` (c >= the last change).
    pub fn secs(&self, c: u64) -> f64 {
        self.base_s + (c as f64 - self.base_cycle as f64) / self.dco_hz
    }
    /// The first DCO cycle at or after `t` seconds.
    pub fn cycle_at(&self, t: f64) -> u64 {
        let dc = ((t - self.base_s) * self.dco_hz).ceil();
        self.base_cycle + dc.max(0.0) as u64
    }
    /// The DCO changes frequency at cycle `now`.
    pub fn retune(&mut self, now: u64, dco_hz: f64) {
        self.base_s = self.secs(now);
        self.base_cycle = now;
        self.dco_hz = dco_hz;
    }
}

/// The BCS+ registers (reset values: SLAU144 5.3, DCOCTL 0x60, BCSCTL1 0x87, BCSCTL2 0,
/// BCSCTL3 0x05).
#[derive(Clone, Debug)]
pub struct Bcs {
    pub dcoctl: u8,
    pub bcsctl1: u8,
    pub bcsctl2: u8,
    pub bcsctl3: u8,
    pub cal: [DcoCal; 4],
}

impl Bcs {
    pub fn new(cal: [DcoCal; 4]) -> Self {
        Bcs { dcoctl: 0x60, bcsctl1: 0x87, bcsctl2: 0, bcsctl3: 0x05, cal }
    }

    pub fn reset(&mut self) {
        *self = Bcs::new(self.cal);
    }

    /// The DCO frequency: a calibrated pair gives its calibrated frequency (that is what the
    /// factory calibration guarantees), any other setting the typical model.
    pub fn dco_hz(&self) -> f64 {
        for c in &self.cal {
            if c.calbc1 & 0x0F == self.bcsctl1 & 0x0F && c.caldco == self.dcoctl {
                return c.actual_hz;
            }
        }
        dco_model_hz(self.bcsctl1, self.dcoctl)
    }

    /// DCO cycles per MCLK cycle (DIVMx, BCSCTL2 bits 5-4).
    pub fn mclk_div(&self) -> u64 {
        1 << ((self.bcsctl2 >> 4) & 3)
    }

    /// DCO cycles per SMCLK cycle (DIVSx, BCSCTL2 bits 2-1).
    pub fn smclk_div(&self) -> u64 {
        1 << ((self.bcsctl2 >> 1) & 3)
    }

    /// ACLK in Hz: LFXT1 (LFXT1Sx = 0, a 32768 Hz crystal) or the VLO (LFXT1Sx = 2), divided by
    /// DIVAx (BCSCTL1 bits 5-4).
    pub fn aclk_hz(&self) -> f64 {
        let src = if (self.bcsctl3 >> 4) & 3 == 2 { VLO_HZ } else { LFXT1_HZ };
        src / (1u32 << ((self.bcsctl1 >> 4) & 3)) as f64
    }

    pub fn read(&self, addr: u16) -> u8 {
        match addr {
            DCOCTL => self.dcoctl,
            BCSCTL1 => self.bcsctl1,
            BCSCTL2 => self.bcsctl2,
            _ => self.bcsctl3,
        }
    }

    /// Writes a register. MCLK/SMCLK from LFXT1/VLO (SELMx >= 2, SELS = 1), the external DCO
    /// resistor (DCOR) and LFXT1 modes other than the 32 kHz crystal and the VLO are not
    /// modelled.
    pub fn write(&mut self, addr: u16, v: u8, pc: u16) -> Result<(), EmuError> {
        match addr {
            DCOCTL => self.dcoctl = v,
            BCSCTL1 => self.bcsctl1 = v,
            BCSCTL2 => {
                if v & 0xC9 != 0 {
                    return Err(EmuError::Unmodelled { addr, pc });
                }
                self.bcsctl2 = v
            }
            _ => {
                if (v >> 4) & 3 == 1 || (v >> 4) & 3 == 3 || v & 0xC0 != 0 {
                    return Err(EmuError::Unmodelled { addr, pc });
                }
                self.bcsctl3 = v
            }
        }
        Ok(())
    }
}
