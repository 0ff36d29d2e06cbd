//! ADC10 (SLAU144 chapter 22) as the firmware uses it: single-channel single conversion and
//! repeat-single-channel (CONSEQx 0 and 2), trigger from ADC10SC or a Timer_A output (SHSx),
//! the sample-and-hold timing (ADC10SHTx: 4/8/16/64 ADC10CLK, then 13 ADC10CLK conversion,
//! 22.2.5), VR+ = VCC or the internal 1.5/2.5 V reference (SREFx 0 and 1, 22.2.3), ADC10MEM,
//! ADC10IFG and its interrupt (reset when accepted, 22.2.7). The data transfer controller,
//! sequence modes, 2's-complement format and external references are reported as unmodelled.
//!
//! A conversion whose ADC10CLK may lie outside the data sheet's range for the ADC10SR setting
//! is an error ([`EmuError::AdcClock`]): 0.45-6.3 MHz with ADC10SR = 0, 0.45-1.5 MHz with
//! ADC10SR = 1 (reference buffer for <= ~50 ksps). Limits as quoted in the project's issue #12
//! from the G2553 data sheet (SLAS735, 10-bit ADC timing parameters, fADC10CLK); the SLAS735
//! table itself could not be retrieved here to confirm them. ADC10OSC counts with its whole
//! data-sheet range (3.7-6.3 MHz, same source), not just the typical 5 MHz the model runs
//! at: a setting is only valid if every device's oscillator gives a valid clock.

use crate::EmuError;

pub const ADC10DTC0: u16 = 0x0048;
pub const ADC10DTC1: u16 = 0x0049;
pub const ADC10AE0: u16 = 0x004A;
pub const ADC10CTL0: u16 = 0x01B0;
pub const ADC10CTL1: u16 = 0x01B2;
pub const ADC10MEM: u16 = 0x01B4;
pub const ADC10SA: u16 = 0x01BC;

pub const ADC10SC: u16 = 0x0001;
pub const ENC: u16 = 0x0002;
pub const ADC10IFG: u16 = 0x0004;
pub const ADC10IE: u16 = 0x0008;
pub const ADC10ON: u16 = 0x0010;
pub const REFON: u16 = 0x0020;
pub const REF2_5V: u16 = 0x0040;
pub const MSC: u16 = 0x0080;
/// Reference buffer for <= ~50 ksps: ADC10CLK must then be <= 1.5 MHz.
pub const ADC10SR: u16 = 0x0400;
pub const ADC10BUSY: u16 = 0x0001;

/// Typical ADC10OSC frequency (G2553 data sheet: 3.7-6.3 MHz).
pub const ADC10OSC_HZ: f64 = 5.0e6;
/// ADC10OSC range (G2553 data sheet fADC10OSC, as quoted in issue #12: 3.7-6.3 MHz).
pub const ADC10OSC_MIN_HZ: f64 = 3.7e6;
pub const ADC10OSC_MAX_HZ: f64 = 6.3e6;
/// fADC10CLK for the specified performance (same source): 0.45 MHz minimum; 6.3 MHz maximum
/// with ADC10SR = 0, 1.5 MHz with ADC10SR = 1.
pub const ADC10CLK_MIN_HZ: f64 = 0.45e6;
pub const ADC10CLK_MAX_HZ: f64 = 6.3e6;
pub const ADC10CLK_MAX_SR_HZ: f64 = 1.5e6;
/// Internal reference settling time t_REFON (G2553 data sheet: 30 us max).
pub const REF_SETTLE_S: f64 = 30e-6;
/// Supply voltage of the emulated board (LaunchPad USB supply).
pub const VCC: f64 = 3.6;

/// A conversion in progress.
#[derive(Clone, Copy, Debug)]
struct Conversion {
    /// Seconds at which the input is held (end of the sample time).
    hold_s: f64,
    /// Seconds and DCO cycle at which ADC10MEM is written.
    done_s: f64,
    done_cycle: u64,
    code: Option<u16>,
}

/// How this converter misses the ideal, and the factory calibration that measured it (the
/// G2553 stores it in its TLV segment: [`crate::write_adc_calibration`]).
///
/// A conversion gives `raw = ideal x (1 + gain_error) + offset_lsb`, where `ideal` is
/// 1023 x Vin / VR+ with the reference's true value, 2.5 V x (1 + vref25_error) when the
/// 2.5 V reference is used: a reference 2 % high reads every voltage 2 % low.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct AdcErrors {
    /// Relative error of the internal 2.5 V reference.
    pub vref25_error: f64,
    /// Relative gain error of the converter.
    pub gain_error: f64,
    /// Offset of the converter, LSB.
    pub offset_lsb: f64,
}

impl AdcErrors {
    /// The TLV words a factory calibration measures (SLAU144 24.2.2): CAL_ADC_GAIN_FACTOR =
    /// 2^15 / gain, CAL_ADC_OFFSET = the LSB to add after the gain correction,
    /// CAL_ADC_25VREF_FACTOR = VREF / 2.5 V x 2^15; rounded as stored.
    pub fn tlv_words(&self) -> (u16, i16, u16) {
        let gain = (32768.0 / (1.0 + self.gain_error)).round() as u16;
        let offset = (-self.offset_lsb / (1.0 + self.gain_error)).round() as i16;
        let vref = (32768.0 * (1.0 + self.vref25_error)).round() as u16;
        (gain, offset, vref)
    }
}

/// A finished conversion, for tests and figures.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    pub hold_s: f64,
    pub volts: f64,
    pub code: u16,
}

#[derive(Clone, Debug)]
pub struct Adc10 {
    pub ctl0: u16,
    pub ctl1: u16,
    pub mem: u16,
    pub ae0: u8,
    /// Single-conversion mode with a timer trigger waits for ENC to be toggled (22.2.6.1).
    armed: bool,
    conv: Option<Conversion>,
    pub osc_hz: f64,
    /// Conversions completed and triggers that came while busy (ignored).
    pub conversions: u64,
    pub missed_triggers: u64,
    /// Seconds at which REFON was set (None: off). The reference needs t_REFON <= 30 us to
    /// settle (G2553 data sheet, REF electrical characteristics); conversions held earlier are
    /// counted in `unsettled_conversions`.
    pub ref_on_s: Option<f64>,
    pub unsettled_conversions: u64,
    /// The converter's and reference's errors (none by default).
    pub errors: AdcErrors,
    /// The last conversions, if `record` is set.
    pub record: bool,
    pub samples: Vec<Sample>,
}

impl Adc10 {
    pub fn new() -> Self {
        Adc10 {
            ctl0: 0,
            ctl1: 0,
            mem: 0,
            ae0: 0,
            armed: false,
            conv: None,
            osc_hz: ADC10OSC_HZ,
            conversions: 0,
            missed_triggers: 0,
            ref_on_s: None,
            unsettled_conversions: 0,
            errors: AdcErrors::default(),
            record: false,
            samples: Vec::new(),
        }
    }

    /// PUC: registers to 0, statistics kept.
    pub fn reset(&mut self) {
        let (osc, conv, missed, record) = (self.osc_hz, self.conversions, self.missed_triggers, self.record);
        let unsettled = self.unsettled_conversions;
        *self = Adc10::new();
        (self.osc_hz, self.conversions, self.missed_triggers, self.record) = (osc, conv, missed, record);
        self.unsettled_conversions = unsettled;
    }

    pub fn shs(&self) -> u16 {
        (self.ctl1 >> 10) & 3
    }

    pub fn irq(&self) -> bool {
        self.ctl0 & (ADC10IE | ADC10IFG) == ADC10IE | ADC10IFG
    }

    pub fn accept(&mut self) {
        self.ctl0 &= !ADC10IFG;
    }

    pub fn next_event(&self) -> u64 {
        self.conv.map_or(u64::MAX, |c| c.done_cycle)
    }

    /// ADC10CLK in Hz (ADC10SSELx: ADC10OSC, ACLK, MCLK, SMCLK; ADC10DIVx).
    fn clk_hz(&self, aclk: f64, mclk: f64, smclk: f64) -> f64 {
        let src = match (self.ctl1 >> 3) & 3 {
            0 => self.osc_hz,
            1 => aclk,
            2 => mclk,
            _ => smclk,
        };
        src / (((self.ctl1 >> 5) & 7) + 1) as f64
    }

    /// VR+ and VR-.
    fn refs(&self) -> (f64, f64) {
        let vref = if self.ctl0 & REF2_5V != 0 { 2.5 * (1.0 + self.errors.vref25_error) } else { 1.5 };
        match self.ctl0 >> 13 {
            0 => (VCC, 0.0),
            _ => (vref, 0.0),
        }
    }

    /// The range ADC10CLK can have with this setting: ADC10OSC over its data-sheet range, the
    /// other sources at their frequency; divided by ADC10DIVx.
    pub fn clock_range(&self, aclk: f64, mclk: f64, smclk: f64) -> (f64, f64) {
        let hz = self.clk_hz(aclk, mclk, smclk);
        if (self.ctl1 >> 3) & 3 == 0 {
            let div = (((self.ctl1 >> 5) & 7) + 1) as f64;
            ((ADC10OSC_MIN_HZ / div).min(hz), (ADC10OSC_MAX_HZ / div).max(hz))
        } else {
            (hz, hz)
        }
    }

    /// Rejects an ADC10CLK range outside the data sheet's for the ADC10SR setting.
    pub fn check_clock(&self, (min_hz, max_hz): (f64, f64)) -> Result<(), EmuError> {
        let adc10sr = self.ctl0 & ADC10SR != 0;
        let limit = if adc10sr { ADC10CLK_MAX_SR_HZ } else { ADC10CLK_MAX_HZ };
        if min_hz < ADC10CLK_MIN_HZ || max_hz > limit {
            return Err(EmuError::AdcClock { min_hz, max_hz, adc10sr });
        }
        Ok(())
    }

    /// A sample-and-hold trigger at `t_s` (DCO cycle via `cycle_at`), with ADC10CLK at
    /// `clk_hz` (and within `clk_range` on any device, see [`Adc10::clock_range`]).
    /// The trigger is synchronised to ADC10CLK, the input sampled for the sample time and
    /// converted in 13 ADC10CLK cycles (22.2.5.1, figure 22-3). A conversion clocked outside
    /// the data sheet's range for ADC10SR is an error and does not start.
    pub fn trigger(
        &mut self,
        t_s: f64,
        clk_hz: f64,
        clk_range: (f64, f64),
        cycle_at: impl Fn(f64) -> u64,
    ) -> Result<(), EmuError> {
        if self.conv.is_some() {
            self.missed_triggers += 1;
            return Ok(());
        }
        if self.ctl0 & (ENC | ADC10ON) != ENC | ADC10ON || !self.armed {
            return Ok(());
        }
        self.check_clock(clk_range)?;
        let period = 1.0 / clk_hz;
        let start = (t_s / period).ceil() * period;
        let sht = [4.0, 8.0, 16.0, 64.0][((self.ctl0 >> 11) & 3) as usize];
        let hold_s = start + sht * period;
        let done_s = hold_s + 13.0 * period;
        self.conv = Some(Conversion { hold_s, done_s, done_cycle: cycle_at(done_s), code: None });
        self.ctl1 |= ADC10BUSY;
        Ok(())
    }

    /// Samples the input of the conversion in progress (called at its completion).
    pub fn complete(&mut self, volts_at: &mut dyn FnMut(u8, f64) -> f64) -> Option<f64> {
        let mut c = self.conv.take()?;
        let (vp, vm) = self.refs();
        let ch = (self.ctl1 >> 12) as u8;
        let v = volts_at(ch, c.hold_s);
        if self.ctl0 >> 13 == 1 && self.ref_on_s.is_none_or(|t| c.hold_s < t + REF_SETTLE_S) {
            self.unsettled_conversions += 1;
        }
        // N = 1023 * (Vin - VR-) / (VR+ - VR-), rounded, clipped to 0..1023 (22.2.1), with
        // the converter's gain and offset errors.
        let ideal = 1023.0 * (v - vm) / (vp - vm);
        let raw = ideal * (1.0 + self.errors.gain_error) + self.errors.offset_lsb;
        let code = raw.round().clamp(0.0, 1023.0) as u16;
        c.code = Some(code);
        self.mem = code;
        self.ctl0 |= ADC10IFG;
        self.ctl1 &= !ADC10BUSY;
        self.conversions += 1;
        if self.record {
            self.samples.push(Sample { hold_s: c.hold_s, volts: v, code });
        }
        if (self.ctl1 >> 1) & 3 == 0 && self.shs() != 0 {
            self.armed = false;
        }
        // Repeat mode with MSC and ADC10SC: the next conversion follows at once (22.2.6.3).
        let repeat = (self.ctl1 >> 1) & 3 == 2 && self.shs() == 0 && self.ctl0 & MSC != 0;
        repeat.then_some(c.done_s)
    }

    pub fn read(&mut self, addr: u16) -> Option<u16> {
        Some(match addr {
            ADC10CTL0 => self.ctl0,
            ADC10CTL1 => self.ctl1,
            ADC10MEM => self.mem,
            _ => return None,
        })
    }

    /// Writes ADC10CTL0/1 at `now_s`. Returns true if the write started a conversion (ADC10SC).
    pub fn write(&mut self, addr: u16, v: u16, now_s: f64, pc: u16) -> Result<bool, EmuError> {
        let unmodelled = Err(EmuError::Unmodelled { addr, pc });
        match addr {
            ADC10CTL0 => {
                let enc_before = self.ctl0 & ENC != 0;
                // With ENC = 1 only ENC, ADC10SC, ADC10IFG and ADC10IE can change (22.3.1).
                let v = if enc_before { (self.ctl0 & !0x000F) | (v & 0x000F) } else { v };
                let sref = v >> 13;
                if sref > 1 || v & 0x0300 != 0 {
                    // External references, REFOUT, REFBURST.
                    return unmodelled;
                }
                if sref == 1 && v & REFON == 0 && v & ENC != 0 {
                    return unmodelled;
                }
                if v & REFON == 0 {
                    self.ref_on_s = None;
                } else if self.ref_on_s.is_none() {
                    self.ref_on_s = Some(now_s);
                }
                self.ctl0 = v & !ADC10SC;
                if v & ENC != 0 && !enc_before {
                    self.armed = true;
                }
                if v & ENC == 0 {
                    self.armed = false;
                }
                Ok(v & (ADC10SC | ENC) == ADC10SC | ENC && self.shs() == 0)
            }
            ADC10CTL1 => {
                if self.ctl0 & ENC != 0 {
                    return Ok(false);
                }
                let conseq = (v >> 1) & 3;
                if conseq == 1 || conseq == 3 || v & 0x0300 != 0 {
                    // Sequence modes, 2's-complement format, inverted sample-and-hold signal.
                    return unmodelled;
                }
                self.ctl1 = (v & !ADC10BUSY) | (self.ctl1 & ADC10BUSY);
                Ok(false)
            }
            _ => unmodelled,
        }
    }

    /// The clock to use for a trigger now.
    pub fn clock(&self, aclk: f64, mclk: f64, smclk: f64) -> f64 {
        self.clk_hz(aclk, mclk, smclk)
    }
}

impl Default for Adc10 {
    fn default() -> Self {
        Self::new()
    }
}
