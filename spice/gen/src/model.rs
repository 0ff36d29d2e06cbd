//! Circuit parameters of the simulated chain and the ADC that reads it.
//!
//! The defaults live here once, so the wrapper netlists, the golden headers and the calibration
//! metadata all name the same values. Where each default comes from is stated in
//! `spice/efergy_ct.sub`, `spice/interface.sub` and `spice/README.md`.

use std::fmt;

/// Parameters of the CT subcircuit (`EFERGY_CT`) and the interface (`INTERFACE`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelParams {
    /// Secondary turns (Efergy coil data).
    pub turns: f64,
    /// Magnetizing inductance in henries (derived from the 1410:1 measured ratio).
    pub lm_h: f64,
    /// Winding resistance in ohms (Efergy coil data).
    pub rw_ohm: f64,
    /// Burden resistor across the coil (teardown).
    pub rb_ohm: f64,
    /// Resistor in series with the second 1N4001 (teardown).
    pub rk_ohm: f64,
    /// Bias of the CT's cold end, volts (design notes).
    pub vbias_v: f64,
    /// Divider top resistor, ohms.
    pub r1_ohm: f64,
    /// Divider bottom resistor, ohms.
    pub r2_ohm: f64,
    /// Reservoir capacitor at the ADC input, farads.
    pub cadc_f: f64,
    /// Saturation-current multipliers of the 1N4001s, for part-to-part spread: the clamp (`Dc`)
    /// and kink (`Dk`) diodes in the CT, and the in-line diode (`Dl`) of the interface. All 1
    /// runs the committed netlists unchanged.
    pub is_scale: DiodeScale,
}

/// Saturation-current multipliers per 1N4001 role (see [`ModelParams::is_scale`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DiodeScale {
    pub clamp: f64,
    pub kink: f64,
    pub inline: f64,
}

impl DiodeScale {
    pub const NOMINAL: DiodeScale = DiodeScale { clamp: 1.0, kink: 1.0, inline: 1.0 };

    /// The same multiplier for every 1N4001 of the chain (the CT's two and the interface's one).
    pub fn all(k: f64) -> DiodeScale {
        DiodeScale { clamp: k, kink: k, inline: k }
    }

    pub fn is_nominal(&self) -> bool {
        *self == DiodeScale::NOMINAL
    }
}

impl Default for ModelParams {
    fn default() -> Self {
        ModelParams {
            turns: 1350.0,
            lm_h: 0.6,
            rw_ohm: 52.5,
            rb_ohm: 220.0,
            rk_ohm: 39.0,
            vbias_v: 0.8,
            r1_ohm: 1600.0,
            r2_ohm: 3300.0,
            cadc_f: 10e-9,
            is_scale: DiodeScale::NOMINAL,
        }
    }
}

impl ModelParams {
    /// Instance parameters for the `EFERGY_CT` subcircuit line.
    pub fn ct_instance_params(&self) -> String {
        format!("N={} Lm={} Rw={} Rb={} Rk={}", self.turns, self.lm_h, self.rw_ohm, self.rb_ohm, self.rk_ohm)
    }

    /// Instance parameters for the `INTERFACE` subcircuit line.
    pub fn interface_instance_params(&self) -> String {
        // Cadc in nanofarads: "1e-08" is valid SPICE too, but "10n" is what a reader expects.
        format!(
            "Vbias={} R1={} R2={} Cadc={}n",
            self.vbias_v,
            self.r1_ohm,
            self.r2_ohm,
            (self.cadc_f * 1e15).round() / 1e6
        )
    }

    /// Thevenin resistance the ADC input sees (divider only; the diode is in series with R1).
    pub fn thevenin_ohm(&self) -> f64 {
        self.r1_ohm * self.r2_ohm / (self.r1_ohm + self.r2_ohm)
    }

    /// Divider ratio from the in-line diode's cathode to the ADC pin.
    pub fn divider_ratio(&self) -> f64 {
        self.r2_ohm / (self.r1_ohm + self.r2_ohm)
    }
}

impl fmt::Display for ModelParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EFERGY_CT {}; INTERFACE {}", self.ct_instance_params(), self.interface_instance_params())?;
        let d = self.is_scale;
        if !d.is_nominal() {
            write!(f, "; 1N4001 Is x{} (clamp), x{} (kink), x{} (in-line)", d.clamp, d.kink, d.inline)?;
        }
        Ok(())
    }
}

/// The MSP430G2553 ADC10 as the firmware configures it: internal 2.5 V reference, 10 bits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Adc {
    pub vref_mv: u32,
    pub bits: u32,
}

impl Default for Adc {
    fn default() -> Self {
        Adc { vref_mv: 2500, bits: 10 }
    }
}

impl Adc {
    /// Highest code (1023 for 10 bits).
    pub fn max_code(&self) -> u32 {
        (1u32 << self.bits) - 1
    }

    /// Volts per code step in the TI transfer function `N = 1023 * Vin / Vref`.
    pub fn volts_per_code(&self) -> f64 {
        f64::from(self.vref_mv) / 1000.0 / f64::from(self.max_code())
    }

    /// The code an ideal ADC10 returns for `volts`: `round(1023 * Vin / Vref)`, clamped to the
    /// code range. TI specifies `N = 1023 * Vin / Vref`; rounding to nearest puts the code
    /// transitions half a step either side of each code's centre, as for an ideal converter.
    pub fn code(&self, volts: f64) -> u32 {
        let x = (volts / self.volts_per_code()).round();
        if x.is_nan() || x <= 0.0 {
            0
        } else if x >= f64::from(self.max_code()) {
            self.max_code()
        } else {
            x as u32
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adc_codes_round_to_nearest_and_clamp() {
        let adc = Adc::default();
        assert_eq!(adc.code(-0.1), 0);
        assert_eq!(adc.code(0.0), 0);
        assert_eq!(adc.code(2.5), 1023);
        assert_eq!(adc.code(3.3), 1023);
        let step = adc.volts_per_code();
        assert_eq!(adc.code(100.0 * step + 0.49 * step), 100);
        assert_eq!(adc.code(100.0 * step + 0.51 * step), 101);
    }

    #[test]
    fn instance_params_are_spice_syntax() {
        let p = ModelParams::default();
        assert_eq!(p.ct_instance_params(), "N=1350 Lm=0.6 Rw=52.5 Rb=220 Rk=39");
        assert_eq!(p.interface_instance_params(), "Vbias=0.8 R1=1600 R2=3300 Cadc=10n");
    }

    #[test]
    fn default_divider_has_stated_thevenin() {
        let p = ModelParams::default();
        assert!((p.thevenin_ohm() - 1077.55).abs() < 0.1);
        assert!((p.divider_ratio() - 0.673_469).abs() < 1e-5);
    }
}
