//! How readings move when the real sensor departs from the model, and what user calibration
//! recovers: the study behind `spicegen sensitivity` (`cmd::sensitivity`, also run by `all`),
//! which writes spice/sensitivity.md.
//!
//! Each perturbed chain (turns ratio, magnetizing inductance, winding resistance, 1N4001
//! saturation current, bias) is simulated at 50 Hz sines of several currents. One steady-state
//! cycle of each is tiled into a recording at the fast link profile's rate (1 MHz / 122 =
//! 8196.7 Sa/s, which is asynchronous to the mains) and written as a `t_s,code` CSV, which the
//! host library then reads exactly as `ct-read analyze` would: its estimator with the DEFAULT
//! table (`calibration/efergy-default.csv`, frequency estimated per window). Then each sensor
//! is calibrated as a user would, with `ct_host::calibrate::calibrate` and two of those
//! recordings with their known true currents as reference points, and every current is read
//! again through the new table.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use ct_core::calibration::Calibration;
use ct_core::estimate::EstimatorConfig;
use ct_core::meter::Event;
// The one use of `ct-host` left in spicegen (with `ct_host::replay::readings` below): the
// user calibration and the replay of a recording, until their pure parts are in `ct-core`.
use ct_host::calibrate::{calibrate, Evidence, Point};

use crate::calibrate::error_pct;
use crate::model::{Adc, DiodeScale, ModelParams};
use crate::sim::Record;

/// Currents studied (A RMS, 50 Hz sines); 0 A is added to show phantom readings.
pub const SENS_AMPS: [f64; 5] = [0.5, 2.0, 10.0, 40.0, 95.0];
/// The user calibration's reference loads (A RMS): one below and one well above the knee.
pub const CAL_AMPS: [f64; 2] = [2.0, 40.0];
/// A three-point calibration for comparison: a third load just above the knee, where the
/// two-point gain curve (linear in log current between the points) misses the shape.
pub const CAL_AMPS_3: [f64; 3] = [2.0, 10.0, 40.0];
/// Sample rate of the synthetic recordings: the fast link profile's 1 MHz / 122.
pub const RATE_HZ: f64 = ct_wire::profile::FAST.rate_hz();
/// Length of each recording: three of the host's default 1 s windows.
pub const RECORD_S: f64 = 3.0;
/// Samples per simulated cycle (one steady-state cycle per run, tiled).
pub const PPC: usize = 2000;
/// Mains frequency of the study.
pub const HZ: f64 = 50.0;

/// One perturbed sensor.
#[derive(Debug, Clone)]
pub struct Variant {
    pub label: String,
    pub params: ModelParams,
}

/// The sensors studied: the model itself first (the baseline), then one departure at a time.
pub fn variants(base: ModelParams) -> Vec<Variant> {
    let v = |label: &str, params: ModelParams| Variant { label: label.into(), params };
    let d = |s: DiodeScale| ModelParams { is_scale: s, ..base };
    let one = |clamp, kink, inline| d(DiodeScale { clamp, kink, inline });
    vec![
        v("model (N 1350, Lm 0.6 H, Rw 52.5 ohm, Vbias 0.8 V)", base),
        v("N 1410 (Efergy's measured 1410:1)", ModelParams { turns: 1410.0, ..base }),
        v("Lm 0.45 H", ModelParams { lm_h: 0.45, ..base }),
        v("Lm 0.9 H", ModelParams { lm_h: 0.9, ..base }),
        v("Lm 2.9 H (1410:1 measured through the 220 ohm)", ModelParams { lm_h: 2.9, ..base }),
        v("Rw 50.5 ohm", ModelParams { rw_ohm: 50.5, ..base }),
        v("Rw 54.5 ohm", ModelParams { rw_ohm: 54.5, ..base }),
        v("1N4001 Is x0.5, all three", d(DiodeScale::all(0.5))),
        v("1N4001 Is x2, all three", d(DiodeScale::all(2.0))),
        v("Is x0.5, clamp diode only", one(0.5, 1.0, 1.0)),
        v("Is x2, clamp diode only", one(2.0, 1.0, 1.0)),
        v("Is x0.5, kink diode only", one(1.0, 0.5, 1.0)),
        v("Is x2, kink diode only", one(1.0, 2.0, 1.0)),
        v("Is x0.5, in-line diode only", one(1.0, 1.0, 0.5)),
        v("Is x2, in-line diode only", one(1.0, 1.0, 2.0)),
        v("Vbias 0.75 V", ModelParams { vbias_v: 0.75, ..base }),
        v("Vbias 0.85 V", ModelParams { vbias_v: 0.85, ..base }),
    ]
}

/// `seconds` of ADC codes at `rate` Sa/s from one steady-state cycle (`rec`, starting at phase
/// 0), linearly interpolated at each sample's phase: the stream an asynchronous ADC would
/// produce from a steady load.
pub fn tile_codes(adc_v: &[f64], hz: f64, adc: &Adc, rate: f64, seconds: f64) -> Vec<u16> {
    let n = adc_v.len();
    (0..(seconds * rate).round() as usize)
        .map(|k| {
            let x = (k as f64 / rate * hz).fract() * n as f64;
            let i = (x.floor() as usize).min(n - 1);
            let w = x - i as f64;
            let v = adc_v[i] * (1.0 - w) + adc_v[(i + 1) % n] * w;
            adc.code(v) as u16
        })
        .collect()
}

/// The `t_s,code` CSV `ct-read analyze` reads (host/src/input.rs).
pub fn codes_csv(codes: &[u16], rate: f64) -> String {
    let mut s = String::from("t_s,code\n");
    for (k, c) in codes.iter().enumerate() {
        let _ = writeln!(s, "{:.7},{c}", k as f64 / rate);
    }
    s
}

/// What the host reads from a recording: the mean of its full windows, and whether any sample
/// was clipped at full scale.
fn host_reading(cal: &Calibration, path: &Path, cfg: EstimatorConfig) -> Result<(f64, bool)> {
    let mut v = Vec::new();
    let mut clipped = false;
    ct_host::replay::readings(path, cal.clone(), cfg, None, &mut |_| true, &mut |e, _| {
        if let Event::Reading(r) = e {
            if r.duration_s >= 0.9 * cfg.window_s {
                v.push(r.irms_a);
                clipped |= r.flags.over_range;
            }
        }
    })
    .with_context(|| format!("reading {}", path.display()))?;
    anyhow::ensure!(!v.is_empty(), "{}: no full window", path.display());
    Ok((v.iter().sum::<f64>() / v.len() as f64, clipped))
}

/// One sensor's outcome.
pub struct Outcome {
    /// Reading at 0 A (phantom current).
    pub zero_a: f64,
    /// Error (%) at each of [`SENS_AMPS`] with the default table, and whether it clipped.
    pub before: Vec<(f64, bool)>,
    /// Error (%) at each current after the two-point calibration, or why it failed.
    pub after: std::result::Result<Vec<f64>, String>,
    /// The same after the three-point calibration.
    pub after3: std::result::Result<Vec<f64>, String>,
    /// Calibration gains at the reference points (reference / reading before).
    pub gains: Vec<f64>,
    /// Peak ADC input at the highest current, mV.
    pub peak_mv: f64,
}

pub fn evaluate(v: &Variant, records: &[Record], base: &Calibration, adc: &Adc, dir: &Path) -> Result<Outcome> {
    let cfg = EstimatorConfig::default();
    let mut paths: Vec<PathBuf> = Vec::new();
    for (k, rec) in records.iter().enumerate() {
        let path = dir.join(format!("rec-{k}.csv"));
        let codes = tile_codes(&rec.adc_v, HZ, adc, RATE_HZ, RECORD_S);
        std::fs::write(&path, codes_csv(&codes, RATE_HZ)).with_context(|| path.display().to_string())?;
        paths.push(path);
    }
    let zero_a = host_reading(base, &paths[0], cfg)?.0;
    let mut before = Vec::new();
    let mut readings = Vec::new();
    for (a, path) in SENS_AMPS.iter().zip(&paths[1..]) {
        let (r, clipped) = host_reading(base, path, cfg)?;
        readings.push(r);
        before.push((error_pct(r, *a).unwrap_or(0.0), clipped));
    }
    let gains = CAL_AMPS
        .iter()
        .map(|&a| {
            let k = SENS_AMPS.iter().position(|&s| s == a).unwrap_or(0);
            a / readings[k]
        })
        .collect();
    let recalibrated = |cal_amps: &[f64]| -> std::result::Result<Vec<f64>, String> {
        let points: Vec<Point> = cal_amps
            .iter()
            .map(|&a| {
                let k = SENS_AMPS.iter().position(|&s| s == a).expect("calibration currents are among SENS_AMPS");
                Point { evidence: Evidence::Recording(paths[k + 1].clone()), reference_a: a }
            })
            .collect();
        let out =
            calibrate(base, &points, cfg, None, &format!("{}.csv", v.label), |_| {}).map_err(|e| e.to_string())?;
        SENS_AMPS
            .iter()
            .zip(&paths[1..])
            .map(|(a, path)| host_reading(&out.table, path, cfg).map(|(r, _)| error_pct(r, *a).unwrap_or(0.0)))
            .collect::<Result<Vec<f64>>>()
            .map_err(|e| format!("{e:#}"))
    };
    let after = recalibrated(&CAL_AMPS);
    let after3 = recalibrated(&CAL_AMPS_3);
    let peak_mv = records.last().map_or(f64::NAN, |r| r.adc_v.iter().copied().fold(f64::MIN, f64::max) * 1000.0);
    Ok(Outcome { zero_a, before, after, after3, gains, peak_mv })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiled_recording_follows_the_cycle_at_the_sample_phases() {
        let adc = Adc::default();
        // A cycle whose ADC input ramps 0 -> 2.5 V: code = 1023 * phase.
        let n = 1000;
        let ramp: Vec<f64> = (0..n).map(|k| 2.5 * k as f64 / n as f64).collect();
        let codes = tile_codes(&ramp, 50.0, &adc, RATE_HZ, 0.1);
        assert_eq!(codes.len(), (0.1 * RATE_HZ).round() as usize);
        for (k, &c) in codes.iter().enumerate().take(400) {
            let phase = (k as f64 / RATE_HZ * 50.0).fract();
            // Near the wrap the interpolation runs down to the next cycle's start.
            if phase < 0.999 {
                assert!((f64::from(c) - 1023.0 * phase).abs() <= 1.0, "{k}: {c} at phase {phase}");
            }
        }
    }

    #[test]
    fn recordings_are_csv_the_host_reads() {
        let base = Calibration::builtin();
        let adc = Adc::default();
        // A made-up half-wave signal well above the zero code; the host must read it back at
        // the fast profile's rate from the time column.
        let n = 400;
        let cycle: Vec<f64> = (0..n)
            .map(|k| {
                let s = (std::f64::consts::TAU * k as f64 / n as f64).sin();
                0.2411 + 0.5 * s.max(0.0)
            })
            .collect();
        let codes = tile_codes(&cycle, 50.0, &adc, RATE_HZ, 2.0);
        let text = codes_csv(&codes, RATE_HZ);
        assert!(text.starts_with("t_s,code\n0.0000000,"));
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("r.csv");
        std::fs::write(&path, text).expect("write");
        let (a, clipped) = host_reading(&base, &path, EstimatorConfig::default()).expect("reads");
        assert!(a > 1.0 && !clipped, "{a}");
    }

    #[test]
    fn variants_start_with_the_model_and_change_one_thing_each() {
        let base = ModelParams::default();
        let v = variants(base);
        assert_eq!(v[0].params, base);
        for x in &v[1..] {
            assert_ne!(x.params, base, "{}", x.label);
        }
        assert!(v.iter().any(|x| x.params.turns == 1410.0));
        assert!(v.iter().any(|x| x.params.lm_h == 2.9));
        assert!(v.iter().any(|x| x.params.is_scale == DiodeScale::all(2.0)));
        assert!(v.iter().any(|x| x.params.vbias_v == 0.85));
        assert!(CAL_AMPS.iter().chain(&CAL_AMPS_3).all(|a| SENS_AMPS.contains(a)));
    }
}
