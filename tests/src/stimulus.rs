//! The source currents the SPICE generator fed ngspice for each golden case, reproduced from
//! `spice/gen/src/stimulus.rs` (a binary crate, so it cannot be a dependency), so that the
//! host's forward model of the clamp can be fed exactly what ngspice was fed and compared
//! with the golden waveforms. The reproduction is itself checked: each source's RMS must equal
//! the manifest's `true_rms_a`, which the generator computed from its own source.

use std::f64::consts::PI;

use crate::Case;

/// Primary current (A) of a steady-state golden case at time `t` (s); `None` for kinds not
/// reproduced here (the step).
pub fn source(case: &Case) -> Option<Box<dyn Fn(f64) -> f64>> {
    let hz = case.mains_hz;
    let period = 1.0 / hz;
    match case.kind.as_str() {
        "sine" | "zero" => {
            let a = case.true_rms_a * 2f64.sqrt();
            Some(Box::new(move |t| a * (2.0 * PI * hz * t).sin()))
        }
        "smps" => {
            let k = smps_knots(case.true_rms_a, hz, 400);
            Some(Box::new(move |t| pwl_eval(&k, period, t.rem_euclid(period))))
        }
        "dimmer" if case.case.starts_with("dimmer90") => {
            let k = dimmer_knots(case.true_rms_a, hz, 90.0, 400);
            Some(Box::new(move |t| pwl_eval(&k, period, t.rem_euclid(period))))
        }
        _ => None,
    }
}

/// A periodic piecewise-linear source (SPICE PWL with `r=0`) at time `t` within one period.
fn pwl_eval(knots: &[(f64, f64)], period: f64, t: f64) -> f64 {
    let Some(&(t0, a0)) = knots.first() else {
        return 0.0;
    };
    for pair in knots.windows(2) {
        let (ta, a) = pair[0];
        let (tb, b) = pair[1];
        if t >= ta && t <= tb {
            return lerp(ta, a, tb, b, t);
        }
    }
    let (tl, al) = knots[knots.len() - 1];
    if t >= tl {
        lerp(tl, al, t0 + period, a0, t)
    } else {
        a0
    }
}

fn lerp(ta: f64, a: f64, tb: f64, b: f64, t: f64) -> f64 {
    if tb <= ta {
        b
    } else {
        a + (b - a) * (t - ta) / (tb - ta)
    }
}

/// Exact RMS of a periodic piecewise-linear waveform.
pub fn pwl_cycle_rms(knots: &[(f64, f64)], period: f64) -> f64 {
    if knots.is_empty() {
        return 0.0;
    }
    let mut closed = knots.to_vec();
    closed.push((knots[0].0 + period, knots[0].1));
    let integral: f64 = closed
        .windows(2)
        .map(|p| (p[1].0 - p[0].0) * (p[0].1 * p[0].1 + p[0].1 * p[1].1 + p[1].1 * p[1].1) / 3.0)
        .sum();
    (integral / period).sqrt()
}

fn scale(knots: Vec<(f64, f64)>, hz: f64, irms: f64) -> Vec<(f64, f64)> {
    let rms = pwl_cycle_rms(&knots, 1.0 / hz);
    let k = if rms > 0.0 { irms / rms } else { 0.0 };
    knots.into_iter().map(|(t, a)| (t, a * k)).collect()
}

/// spice/gen/src/stimulus.rs `smps`: raised-cosine pulses at 0.22 and 0.72 of the cycle.
pub fn smps_knots(irms: f64, hz: f64, ppc: usize) -> Vec<(f64, f64)> {
    const CENTRE: f64 = 0.22;
    const WIDTH: f64 = 0.11;
    let period = 1.0 / hz;
    let pulse = |x: f64, c: f64| {
        let u = (x - c) / WIDTH;
        if u.abs() < 0.5 {
            0.5 * (1.0 + (2.0 * PI * u).cos())
        } else {
            0.0
        }
    };
    let knots = (0..ppc)
        .map(|k| {
            let x = k as f64 / ppc as f64;
            (x * period, pulse(x, CENTRE) - pulse(x, CENTRE + 0.5))
        })
        .collect();
    scale(knots, hz, irms)
}

/// spice/gen/src/stimulus.rs `dimmer`: a sine gated from `firing_deg` in each half-cycle,
/// with a 1 us firing edge.
pub fn dimmer_knots(irms: f64, hz: f64, firing_deg: f64, ppc: usize) -> Vec<(f64, f64)> {
    const EDGE_S: f64 = 1e-6;
    let period = 1.0 / hz;
    let alpha = firing_deg.to_radians();
    let gated = |theta: f64| -> f64 {
        if theta.rem_euclid(PI) >= alpha - 1e-12 {
            theta.sin()
        } else {
            0.0
        }
    };
    let mut knots: Vec<(f64, f64)> = Vec::with_capacity(ppc + 4);
    for k in 0..ppc {
        let theta = 2.0 * PI * k as f64 / ppc as f64;
        for fire in [alpha, PI + alpha] {
            let next = 2.0 * PI * (k + 1) as f64 / ppc as f64;
            if theta < fire && fire < next + 1e-12 && (fire - theta) > 1e-12 {
                knots.push((theta / (2.0 * PI) * period, gated(theta)));
                let t_fire = fire / (2.0 * PI) * period;
                knots.push((t_fire - EDGE_S, 0.0));
                knots.push((t_fire, gated(fire)));
            }
        }
        if knots.last().is_none_or(|&(t, _)| t < theta / (2.0 * PI) * period - 1e-15) {
            knots.push((theta / (2.0 * PI) * period, gated(theta)));
        }
    }
    knots.sort_by(|a, b| a.0.total_cmp(&b.0));
    knots.dedup_by(|a, b| (a.0 - b.0).abs() < 1e-15);
    scale(knots, hz, irms)
}
