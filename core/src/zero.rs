//! Zero tracking: the no-current level, measured from the signal where it shows, and the
//! shift that brings the stream back onto the table's.
//!
//! **Why.** The interface biases the clamp at about 0.8 V through an in-line diode. A bias
//! that drifts (supply, temperature, component spread) moves the whole signal: by the clamp
//! model, 50 mV of bias moves the no-current level by 12.0 codes and the peak of a 10 A sine
//! by 13.2 codes, and reads 10 A about 12 % off (`spice/sensitivity.md`, Vbias 0.75/0.85 V).
//! A gain calibration cannot remove an offset.
//!
//! **Theory.** A clamp passes no DC: with no primary current the ADC sees the bias level alone,
//! steady to within its noise, while any current of note swings the signal over many codes
//! (the negative half-cycle pulls it to the diode-off floor near code 0). So a window whose
//! codes stay within [`REST_SPAN`] codes of each other, above [`REST_FLOOR`], is *at rest* and
//! its mean code is the no-current level. The level's offset from the table's no-current code
//! (`Calibration::zero_code`) is the clamp model's no-current level moved by a bias change, so
//! the bias follows by solving the model for it ([`bias_for`], a secant search: the level
//! moves about 0.24 codes per mV). The estimator then reads through the model and table for
//! that bias (`crate::model_table::model_table_for`): a pure shift of the codes is not enough,
//! because the in-line diode's operating point moves too (shifted by the offset alone, 10 A
//! still read 3.7 % and 6.1 % high at 0.75 and 0.85 V). Where the load never rests (a clamp on
//! a whole house), nothing is observed and nothing is changed: the readings then carry no
//! offset (`None`).

/// Widest spread of codes (max - min) a window at rest may show: ADC noise and a current too
/// small to read (the squelch's 3 codes), not a waveform.
pub const REST_SPAN: u16 = 3;
/// Lowest code a rest level can sit at: below it the signal is at the diode-off floor, not at
/// the bias (the no-current level is near code 99 in the model).
pub const REST_FLOOR: u16 = 40;
/// Largest offset followed, codes (about 0.17 V of bias): beyond it the stream is not the
/// table's circuit drifted but another circuit, and following it would hide that.
pub const MAX_SHIFT: i32 = 40;

use crate::clamp_model::{CtModel, CtParams};

/// The tracked no-current level of one stream.
#[derive(Debug, Clone, Default)]
pub struct ZeroTracker {
    /// The last rest window's mean code.
    level: Option<f64>,
}

impl ZeroTracker {
    /// Looks at one window's codes; if it is at rest, its level becomes the tracked one.
    /// Returns whether it was at rest.
    pub fn observe(&mut self, codes: &[u16]) -> bool {
        let Some(level) = rest_level(codes) else { return false };
        self.level = Some(level);
        true
    }

    /// The no-current level last seen, in codes.
    pub fn level(&self) -> Option<f64> {
        self.level
    }
}

/// The bias of the interface `table` (a clamp model's parameters) at which its no-current
/// level reads `level` codes, given that the table made for `table` reads 0 A up to
/// `table_zero`; `None` if that is more than [`MAX_SHIFT`] codes away, which is no drift
/// of this circuit.
pub fn bias_for(level: f64, table_zero: u16, table: CtParams) -> Option<f64> {
    let offset = level - f64::from(table_zero);
    if offset.abs() > f64::from(MAX_SHIFT) {
        return None;
    }
    let at = |vbias: f64| CtModel::cached(CtParams { vbias, ..table }).map(|m| m.zero_level()).ok();
    let z0 = at(table.vbias)?;
    // The table's zero code is the model's level rounded by the ADC: the same rounding is
    // taken off the measured level.
    let target = z0 + offset - (f64::from(table_zero) - z0.round());
    let (mut x0, mut y0) = (table.vbias, z0);
    let mut x1 = table.vbias + (target - z0) / 241.0;
    for _ in 0..6 {
        let y1 = at(x1)?;
        if (y1 - target).abs() < 0.02 || y1 == y0 {
            break;
        }
        let next = x1 + (target - y1) * (x1 - x0) / (y1 - y0);
        (x0, y0, x1) = (x1, y1, next);
    }
    x1.is_finite().then_some(x1)
}

/// The mean code of a window at rest (see the module doc), or `None` if it is not.
pub fn rest_level(codes: &[u16]) -> Option<f64> {
    let (&first, rest) = codes.split_first()?;
    let (lo, hi) = rest.iter().fold((first, first), |(lo, hi), &c| (lo.min(c), hi.max(c)));
    (hi - lo <= REST_SPAN && lo >= REST_FLOOR)
        .then(|| codes.iter().map(|&c| f64::from(c)).sum::<f64>() / codes.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The clamp model's no-current code at a bias, unrounded (an independent forward
    /// simulation of the interface, not this module).
    fn zero_code_at(vbias: f64) -> f64 {
        let m = CtModel::new(CtParams { vbias, ..CtParams::default() }).unwrap();
        let p = *m.params();
        m.steady_state(&[0.0; 64], 50.0).v_adc[0] * f64::from(p.adc_full_scale) / p.adc_ref_v
    }

    #[test]
    fn the_bias_follows_from_the_rest_level() {
        let table_zero = zero_code_at(0.8).round() as u16;
        for vbias in [0.72, 0.75, 0.85, 0.9] {
            let level = zero_code_at(vbias);
            // ADC noise of about half a code around the level.
            let codes: Vec<u16> =
                (0..600).map(|k| (level + 0.5 * ((k * 7919) % 13) as f64 / 13.0 - 0.25).round() as u16).collect();
            let mut z = ZeroTracker::default();
            assert_eq!(z.level(), None, "nothing observed yet");
            assert!(z.observe(&codes));
            let got = bias_for(z.level().unwrap(), table_zero, CtParams::default()).unwrap();
            assert!((got - vbias).abs() < 0.003, "{vbias} V: {got} V");
        }
        assert_eq!(bias_for(200.0, table_zero, CtParams::default()), None, "101 codes is another circuit");
    }

    #[test]
    fn a_waveform_is_not_rest_and_leaves_the_level_alone() {
        let mut z = ZeroTracker::default();
        assert!(z.observe(&[111; 100]));
        assert_eq!(z.level(), Some(111.0));
        // A current's half-wave: from the diode-off floor to well above the level.
        let wave: Vec<u16> = (0..120).map(|k| if k % 12 < 6 { 99 + (k % 12) as u16 * 20 } else { 2 }).collect();
        assert!(!z.observe(&wave));
        // The floor alone (a disconnected clamp input reads near 0) is not the bias level.
        assert!(!z.observe(&[1; 100]));
        assert_eq!(z.level(), Some(111.0));
        assert_eq!(rest_level(&[]), None);
    }

    /// A clamp whose bias drifted to 0.75 or 0.85 V (simulated by the clamp model), read by the
    /// default estimator with the built-in table: 10 A reads about 12 % off until the load has
    /// rested once, then within 1 %, and the readings report the offset.
    #[test]
    fn a_drifted_bias_reads_right_after_the_load_rests() {
        use crate::calibration::Calibration;
        use crate::estimate::{Estimator, EstimatorConfig};
        let rate = ct_wire::profile::FAST.rate_hz();
        for vbias in [0.75, 0.85] {
            let m = CtModel::new(CtParams { vbias, ..CtParams::default() }).unwrap();
            let n = 400;
            let v = m.sine_codes(10.0, 50.0, n);
            let sine: Vec<u16> = (0..(2.0 * rate) as usize)
                .map(|k| v[((k as f64 / rate * 50.0).fract() * n as f64) as usize % n].round() as u16)
                .collect();
            let rest = vec![m.zero_level().round() as u16; (2.0 * rate) as usize];
            let read = |parts: &[&[u16]]| {
                let mut est = Estimator::new(&Calibration::builtin(), rate, EstimatorConfig::default());
                let mut r = Vec::new();
                for part in parts {
                    est.push(0.0, part, &mut |x| r.push(x));
                }
                r
            };
            let before = read(&[&sine]);
            assert!(
                before.iter().all(|r| (r.irms_a / 10.0 - 1.0).abs() > 0.08 && r.zero_offset_codes.is_none()),
                "{vbias} V: {before:?}"
            );
            let after = read(&[&rest, &sine]);
            assert_eq!(after[0].irms_a, 0.0, "the rest window reads no current");
            let offset = after[0].zero_offset_codes.unwrap();
            assert!((offset.abs() - 12.0).abs() < 1.5, "{vbias} V: offset {offset}");
            for r in &after[2..] {
                assert!((r.irms_a / 10.0 - 1.0).abs() < 0.01, "{vbias} V: {} A", r.irms_a);
            }
        }
    }

    /// A table not made from the model (here the built-in one rescaled by 2 %, as a level-gain
    /// calibration makes) cannot be rebuilt at another bias: the offset is reported and the
    /// readings say they are not corrected, rather than being moved by a shift that reads
    /// worse than nothing. The shipped table loaded from its file is the built-in one.
    #[test]
    fn another_tables_offset_is_reported_not_corrected() {
        use crate::calibration::{Calibration, DEFAULT_TABLE};
        use crate::estimate::{Estimator, EstimatorConfig};
        let rate = ct_wire::profile::FAST.rate_hz();
        let rest = vec![111u16; (2.0 * rate) as usize];
        let read = |cal: &Calibration| {
            let mut est = Estimator::new(cal, rate, EstimatorConfig::default());
            let mut r = Vec::new();
            est.push(0.0, &rest, &mut |x| r.push(x));
            r
        };
        let user = Calibration::builtin().scaled(1.02);
        let r = read(&user);
        assert_eq!(r[0].zero_offset_codes, Some(12.0));
        assert!(!r[0].zero_corrected);
        let shipped = Calibration::parse(DEFAULT_TABLE, "calibration/efergy-default.csv").unwrap();
        assert!(shipped.is_builtin());
        let r = read(&shipped);
        assert_eq!(r[0].zero_offset_codes, Some(12.0));
        assert!(r[0].zero_corrected && r[0].irms_a == 0.0);
    }
}
