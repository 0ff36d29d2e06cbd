//! The host's forward model of the clamp and interface (`ct_core::clamp_model::CtModel`,
//! which the default estimator inverts) against every steady-state SPICE golden: fed the source
//! current the generator fed ngspice, it must reproduce the golden ADC-input voltage. This ties
//! the host's physics to the SPICE netlists, so neither can drift alone.

use ct_core::clamp_model::{CtModel, CtParams};
use ct_golden::stimulus::source;
use ct_golden::{manifest, Waveform};

/// The sources chosen for each case are the ones the manifest describes: their RMS, over a
/// finely sampled cycle, is the manifest's.
#[test]
fn reproduced_sources_have_the_manifest_rms() {
    let mut checked = 0;
    for case in manifest().unwrap() {
        let Some(src) = source(&case) else { continue };
        let n = 200_000;
        let period = 1.0 / case.mains_hz;
        let ms = (0..n).map(|k| src.current_at((k as f64 + 0.5) * period / n as f64).powi(2)).sum::<f64>() / n as f64;
        let tol = 1e-3 * case.true_rms_a.max(1e-3);
        assert!((ms.sqrt() - case.true_rms_a).abs() < tol, "{}: {} vs {}", case.case, ms.sqrt(), case.true_rms_a);
        checked += 1;
    }
    assert_eq!(checked, 26, "every steady-state case is reproduced");
}

#[test]
fn forward_model_matches_spice_goldens() {
    let model = CtModel::new(CtParams::default()).unwrap();
    for case in manifest().unwrap() {
        let Some(src) = source(&case) else { continue };
        // The uniform grid turns the dimmer's 1 us firing edge into a ramp one step long:
        // make that step comparable (0.5 us) so the sample right after the edge compares.
        let substeps = if case.kind == "dimmer" { 100 } else { 8 };
        let golden = Waveform::load(&case).unwrap();
        let ppc = case.points_per_cycle;
        let l = ppc * substeps;
        let period = 1.0 / case.mains_hz;
        let is: Vec<f64> =
            (0..l).map(|n| src.current_at(n as f64 * period / l as f64) / CtParams::default().turns).collect();
        let ss = model.steady_state(&is, case.mains_hz);
        // Every golden cycle is the steady state; compare with their mean cycle.
        let (mut se, mut max) = (0.0, 0.0f64);
        for k in 0..ppc {
            let mean = (0..case.cycles).map(|c| golden.millivolts[c * ppc + k]).sum::<f64>() / case.cycles as f64;
            let e = ss.v_adc[k * substeps] * 1e3 - mean;
            se += e * e;
            max = max.max(e.abs());
        }
        let rms = (se / ppc as f64).sqrt();
        // 1 LSB = 2.44 mV; the largest differences sit on the steepest edges at 73-95 A.
        assert!(rms < 0.5 && max < 4.0, "{}: rms {rms:.3} mV, max {max:.3} mV", case.case);
    }
}
