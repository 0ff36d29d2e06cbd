//! The model's own calibration table for a clamp that is not the built-in model: another
//! magnetizing inductance (an identified clamp, [`crate::identify`]) or another bias (a tracked
//! no-current level, [`crate::zero`]).
//!
//! **Why.** The built-in table was fitted to SPICE sines of the default clamp; every path that
//! reads through a table (the table method, the corrections the dynamic methods take against
//! the table, the approximations) needs the table that is right for sines of *this* clamp.
//!
//! **Theory.** A bias moves the whole signal, so the built-in table is first moved by the
//! difference of the two no-current levels (interpolated between codes). Then sines of both
//! clamps are simulated with the clamp model ([`CtModel`], checked against SPICE by the
//! golden tests) at levels 0.1-100 A, a factor of 1.25 apart, and the moved table is rescaled
//! by a gain that depends on the level it reads (linear in log level between the sines,
//! constant outside), refined until it reads each sine of this clamp as the built-in table
//! reads the built-in model's sine of the same current. The model's own departures from the
//! SPICE netlist cancel in that ratio.

use crate::calibration::Calibration;
use crate::clamp_model::{CtModel, CtParams};

/// The model's own table for a clamp of inductance `lm` (see [`model_table_for`]).
pub fn model_table(lm: f64) -> Calibration {
    model_table_for(CtParams { lm, ..CtParams::default() })
}

/// The model's own table for the clamp and interface `p` (its inductance and bias may differ
/// from the built-in model's): the built-in table moved by the difference of the two
/// no-current levels (a bias moves the whole signal), then rescaled, column by column, so
/// that it reads sines of that clamp (simulated by [`CtModel`]) as it reads the built-in
/// model's. The model's own departures from the SPICE netlist the built-in table was fitted
/// to cancel in that ratio.
pub fn model_table_for(p: CtParams) -> Calibration {
    // Built once per process per clamp (a few hundred milliseconds of simulation): every
    // estimator of a tracked bias or an identified clamp asks for the same few.
    static TABLES: std::sync::Mutex<Vec<(CtParams, Calibration)>> = std::sync::Mutex::new(Vec::new());
    let mut tables = TABLES.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((_, t)) = tables.iter().find(|(q, _)| *q == p) {
        return t.clone();
    }
    let builtin = Calibration::builtin();
    let columns = model_columns(&builtin, p);
    let mut meta = builtin.meta.clone();
    meta.insert("clamp_lm_h".into(), format!("{:.6}", p.lm));
    meta.insert("clamp_gain".into(), "1".into());
    if p.vbias != CtParams::default().vbias {
        meta.insert("bias_v".into(), format!("{:.4} (tracked from the no-current level)", p.vbias));
    }
    let text = Calibration::text(&meta, &builtin.frequencies(), &columns);
    let name = format!("the model's table for Lm {} H, bias {} V", p.lm, p.vbias);
    let table = Calibration::parse(&text, &name).expect("a rescaled valid table is valid");
    if tables.len() >= 16 {
        tables.remove(0);
    }
    tables.push((p, table.clone()));
    table
}

/// Sine levels the model table is fitted at, A RMS: 0.1 A to 100 A, a factor of 1.25 apart
/// (the gain between two levels is interpolated; the ones that clip are left out).
fn model_levels() -> impl Iterator<Item = f64> {
    (0..=31).map(|k| 0.1 * 1.25f64.powi(k))
}
/// Points per simulated cycle.
pub(crate) const MODEL_POINTS: usize = 400;

fn model_columns(builtin: &Calibration, p: CtParams) -> Vec<Vec<f64>> {
    let freqs = builtin.frequencies();
    let hzs: Vec<Option<f64>> = if freqs.is_empty() { vec![None] } else { freqs.iter().map(|&f| Some(f)).collect() };
    let own = CtModel::builtin();
    let clamp = CtModel::cached(p).unwrap_or_else(|_| own.clone());
    let shift = clamp.zero_level() - own.zero_level();
    hzs.iter()
        .map(|&hz| {
            let lut = builtin.lut_at(hz);
            let moved = shifted_lut(&lut, shift);
            let f = hz.unwrap_or(crate::calibration::UNKNOWN_MAINS_HZ);
            let points: Vec<(Vec<f64>, f64)> = model_levels()
                .filter_map(|a| {
                    let reference = table_reading(&lut, &sine_codes(own, a, f)?);
                    Some((sine_codes(&clamp, a, f)?, reference))
                })
                .collect();
            fit_column(&moved, &points)
        })
        .collect()
}

/// A table column read `shift` codes higher: entry `c` is the old one at `c - shift`,
/// interpolated (0 A below the first code, the last value above the end).
fn shifted_lut(lut: &[f32], shift: f64) -> Vec<f32> {
    if shift == 0.0 {
        return lut.to_vec();
    }
    let last = (lut.len() - 1) as f64;
    (0..lut.len())
        .map(|c| {
            let x = c as f64 - shift;
            if x <= 0.0 {
                return if x < 0.0 { 0.0 } else { lut[0] };
            }
            let x = x.min(last);
            let i = (x.floor() as usize).min(lut.len() - 2);
            let w = (x - i as f64) as f32;
            lut[i] + (lut[i + 1] - lut[i]) * w
        })
        .collect()
}

/// The unrounded ADC codes of one steady cycle of a sine of `rms` A at `hz` through `model`,
/// or `None` if it reaches full scale.
pub(crate) fn sine_codes(model: &CtModel, rms: f64, hz: f64) -> Option<Vec<f64>> {
    let full = f64::from(model.params().adc_full_scale);
    let codes = model.sine_codes(rms, hz, MODEL_POINTS);
    codes.iter().all(|&c| c < full - 1.0).then_some(codes)
}

/// What a table reads over whole cycles of unrounded codes: `sqrt(2 mean(table(code)^2))`
/// (the negative half reads 0 A), with the table linear between codes.
pub(crate) fn table_reading(lut: &[f32], codes: &[f64]) -> f64 {
    let at = |c: f64| {
        let c = c.clamp(0.0, (lut.len() - 1) as f64);
        let i = (c.floor() as usize).min(lut.len() - 2);
        let w = c - i as f64;
        f64::from(lut[i]) * (1.0 - w) + f64::from(lut[i + 1]) * w
    };
    (2.0 * codes.iter().map(|&c| at(c).powi(2)).sum::<f64>() / codes.len().max(1) as f64).sqrt()
}

/// A column rescaled by level-dependent gains until it reads each point's codes as its
/// reference (the knots' gains refined by their own remaining errors, as [`level_gains`]).
fn fit_column(lut: &[f32], points: &[(Vec<f64>, f64)]) -> Vec<f64> {
    let levels: Vec<f64> = points.iter().map(|(codes, _)| table_reading(lut, codes)).collect();
    let mut order: Vec<usize> = (0..points.len()).collect();
    order.sort_by(|&a, &b| levels[a].total_cmp(&levels[b]));
    let mut knots: Vec<(f64, f64)> = order.iter().map(|&i| (levels[i], points[i].1 / levels[i])).collect();
    let mut column = scale(lut, &knots);
    for _ in 0..12 {
        let col32: Vec<f32> = column.iter().map(|&a| a as f32).collect();
        let mut worst = 0.0f64;
        for (k, &i) in knots.iter_mut().zip(&order) {
            let (codes, reference) = &points[i];
            let e = reference / table_reading(&col32, codes);
            worst = worst.max((e - 1.0).abs());
            k.1 *= e;
        }
        if worst < 1e-4 {
            break;
        }
        column = scale(lut, &knots);
    }
    column
}

/// Gain at current level `a` (A RMS-equivalent, as the base table reads it) through knots
/// `(level, gain)` sorted by level: linear in log(level), constant outside.
pub(crate) fn gain_at(knots: &[(f64, f64)], a: f64) -> f64 {
    match knots {
        [] => 1.0,
        [(_, g)] => *g,
        _ => {
            if a <= knots[0].0 {
                return knots[0].1;
            }
            if a >= knots[knots.len() - 1].0 {
                return knots[knots.len() - 1].1;
            }
            let i = knots.partition_point(|k| k.0 <= a);
            let ((a0, g0), (a1, g1)) = (knots[i - 1], knots[i]);
            let w = (a.ln() - a0.ln()) / (a1.ln() - a0.ln());
            g0 + (g1 - g0) * w
        }
    }
}

/// A column with every current multiplied by the gain at its level. Instantaneous current `i`
/// is taken at level `i / sqrt(2)`, the RMS of a sine peaking there; the column stays
/// monotonic even where the gain falls with level.
pub(crate) fn scale(lut: &[f32], knots: &[(f64, f64)]) -> Vec<f64> {
    let mut prev = 0.0f64;
    lut.iter()
        .map(|&a| {
            let a = f64::from(a);
            prev = (a * gain_at(knots, a / std::f64::consts::SQRT_2)).max(prev);
            prev
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gain_interpolates_in_log_current() {
        let k = [(1.0, 1.1), (100.0, 0.9)];
        assert_eq!(gain_at(&k, 0.5), 1.1);
        assert!((gain_at(&k, 10.0) - 1.0).abs() < 1e-12);
        assert_eq!(gain_at(&k, 500.0), 0.9);
        assert_eq!(gain_at(&[(5.0, 1.03)], 50.0), 1.03);
    }

    /// The model's table for the model's own inductance is the built-in table (to the rescaling
    /// fit's tolerance), and for a clamp of 2.9 H it reads that clamp's sines right where the
    /// built-in table reads them far too high (checked against the model's sines directly,
    /// an independent forward simulation).
    #[test]
    fn model_table_reads_its_clamps_sines() {
        let builtin = Calibration::builtin();
        let same = model_table(0.6);
        let (a, b) = (builtin.lut_at(Some(50.0)), same.lut_at(Some(50.0)));
        let worst = a.iter().zip(&b).filter(|(x, _)| **x > 0.5).map(|(x, y)| (y / x - 1.0).abs()).fold(0.0, f32::max);
        assert!(worst < 0.002, "model table for 0.6 H departs from the built-in by {worst}");
        let t = model_table(2.9);
        let clamp = CtModel::with_lm(2.9).unwrap();
        for hz in [50.0, 60.0] {
            for a in [0.5, 3.0, 30.0] {
                let codes = sine_codes(&clamp, a, hz).unwrap();
                let own = table_reading(&builtin.lut_at(Some(hz)), &sine_codes(CtModel::builtin(), a, hz).unwrap());
                let new = table_reading(&t.lut_at(Some(hz)), &codes);
                let old = table_reading(&builtin.lut_at(Some(hz)), &codes);
                assert!((new / own - 1.0).abs() < 0.003, "{hz} Hz {a} A: {new} vs {own}");
                assert!(old / own - 1.0 > 0.05, "{hz} Hz {a} A: the built-in table should read it high ({old})");
            }
        }
    }

    /// A clamp whose bias is 50 mV off: its table is the built-in one moved by about 12 codes
    /// (0 A up to its own no-current level) and reads its sines right (checked against the
    /// model's sines directly).
    #[test]
    fn model_table_follows_a_bias() {
        let builtin = Calibration::builtin();
        for vbias in [0.75, 0.85] {
            let p = CtParams { vbias, ..CtParams::default() };
            let t = model_table_for(p);
            let clamp = CtModel::cached(p).unwrap();
            let moved = t.zero_code() as f64 - builtin.zero_code() as f64;
            assert!(
                (moved - (clamp.zero_level() - CtModel::builtin().zero_level())).abs() <= 1.0,
                "{vbias} V: {moved}"
            );
            for a in [0.5, 3.0, 10.0, 30.0] {
                let own = table_reading(&builtin.lut_at(Some(50.0)), &sine_codes(CtModel::builtin(), a, 50.0).unwrap());
                let new = table_reading(&t.lut_at(Some(50.0)), &sine_codes(&clamp, a, 50.0).unwrap());
                assert!((new / own - 1.0).abs() < 0.005, "{vbias} V {a} A: {new} vs {own}");
            }
        }
    }
}
