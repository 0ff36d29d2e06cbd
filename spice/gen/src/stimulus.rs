//! Primary-current waveforms fed to the simulated CT, and their true RMS.
//!
//! The true RMS written to the golden manifest comes from here, from the source definition
//! itself (analytic for sines, exact integration of the piecewise-linear source for the others),
//! never from the simulated sensor output: the golden tests compare the host's estimate against
//! what really flowed in the primary.

use std::f64::consts::PI;
use std::fmt::Write as _;

/// How long the rising edge of a phase-cut dimmer takes (a triac turns on in about a microsecond).
const DIMMER_EDGE_S: f64 = 1e-6;

/// One primary-current waveform.
#[derive(Debug, Clone, PartialEq)]
pub enum Stimulus {
    /// `irms * sqrt(2) * sin(2 pi f t)`: phase 0 at t = 0 and at every cycle boundary.
    Sine { irms: f64, hz: f64 },
    /// A waveform repeated every cycle, given as piecewise-linear knots `(t, amps)` with
    /// `0 <= t < 1/hz`; between knots the current is linear (exactly what SPICE's PWL does),
    /// and the last knot joins the first of the next cycle.
    Periodic { knots: Vec<(f64, f64)>, hz: f64 },
    /// A sine whose RMS steps from `before` to `after` at `step_s` (a cycle boundary).
    Step { before: f64, after: f64, hz: f64, step_s: f64 },
}

impl Stimulus {
    pub fn hz(&self) -> f64 {
        match self {
            Stimulus::Sine { hz, .. } | Stimulus::Periodic { hz, .. } | Stimulus::Step { hz, .. } => *hz,
        }
    }

    /// The RMS of the source over whole cycles (for `Step`, the RMS after the step).
    pub fn true_rms(&self) -> f64 {
        match self {
            Stimulus::Sine { irms, .. } => *irms,
            Stimulus::Periodic { knots, hz } => pwl_cycle_rms(knots, 1.0 / hz),
            Stimulus::Step { after, .. } => *after,
        }
    }

    /// The primary current at time `t`, as the SPICE source defines it.
    pub fn current_at(&self, t: f64) -> f64 {
        match self {
            Stimulus::Sine { irms, hz } => irms * 2f64.sqrt() * (2.0 * PI * hz * t).sin(),
            Stimulus::Periodic { knots, hz } => {
                let period = 1.0 / hz;
                pwl_eval(knots, period, t.rem_euclid(period))
            }
            Stimulus::Step { before, after, hz, step_s } => {
                let rms = if t < *step_s { *before } else { *after };
                rms * 2f64.sqrt() * (2.0 * PI * hz * t).sin()
            }
        }
    }

    /// SPICE current source(s) pushing the primary current into `node` (returning via ground),
    /// valid up to `stop_s`.
    pub fn spice_source(&self, node: &str, stop_s: f64) -> String {
        match self {
            Stimulus::Sine { irms, hz } => {
                format!("Ip 0 {node} SIN(0 {:.9e} {hz})\n", irms * 2f64.sqrt())
            }
            Stimulus::Step { before, after, hz, step_s } => {
                // Two sines: the second adds the difference from the step on, in phase, so the
                // total is one continuous sine whose amplitude changes at a zero crossing.
                format!(
                    "Ip 0 {node} SIN(0 {:.9e} {hz})\nIp2 0 {node} SIN(0 {:.9e} {hz} {step_s:.9e})\n",
                    before * 2f64.sqrt(),
                    (after - before) * 2f64.sqrt()
                )
            }
            Stimulus::Periodic { knots, hz } => {
                let period = 1.0 / hz;
                let mut out = format!("Ip 0 {node} PWL(\n");
                let mut cycle = 0u32;
                let mut on_line = 0;
                'tiles: loop {
                    let base = f64::from(cycle) * period;
                    for &(t, amps) in knots {
                        let at = base + t;
                        if at > stop_s {
                            // Close exactly at stop so the source is defined everywhere.
                            if on_line != 0 {
                                out.push('\n');
                            }
                            let _ = writeln!(out, "+ {stop_s:.9e} {:.9e}", self.current_at(stop_s));
                            break 'tiles;
                        }
                        if on_line == 0 {
                            out.push('+');
                        }
                        let _ = write!(out, " {at:.9e} {amps:.9e}");
                        on_line += 1;
                        if on_line == 6 {
                            out.push('\n');
                            on_line = 0;
                        }
                    }
                    cycle += 1;
                }
                out.push_str("+ )\n");
                out
            }
        }
    }
}

/// Linear interpolation in a periodic knot list at `t` in `[0, period)`.
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
    // Between the last knot and the next cycle's first.
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

/// Exact RMS over one period of a periodic piecewise-linear waveform: on each segment
/// `mean(x^2) = (a^2 + a b + b^2) / 3`.
pub fn pwl_cycle_rms(knots: &[(f64, f64)], period: f64) -> f64 {
    if knots.is_empty() {
        return 0.0;
    }
    let mut closed: Vec<(f64, f64)> = knots.to_vec();
    closed.push((knots[0].0 + period, knots[0].1));
    let mut integral = 0.0;
    for pair in closed.windows(2) {
        let (ta, a) = pair[0];
        let (tb, b) = pair[1];
        integral += (tb - ta) * (a * a + a * b + b * b) / 3.0;
    }
    (integral / period).sqrt()
}

/// Input current of a switch-mode supply (bridge rectifier into a reservoir capacitor): a narrow
/// raised-cosine pulse each half-cycle, centred just before the voltage peak (at 0.22 of the
/// cycle, where the rectified mains rises above the capacitor voltage), 0.11 cycle wide, so the
/// crest factor is `1 / sqrt(0.75 * 0.11) = 3.5`; scaled so the RMS is exactly `irms`.
pub fn smps(irms: f64, hz: f64, points_per_cycle: usize) -> Stimulus {
    const CENTRE: f64 = 0.22;
    const WIDTH: f64 = 0.11;
    let period = 1.0 / hz;
    let shape = |x: f64| -> f64 {
        let pulse = |c: f64| {
            let u = (x - c) / WIDTH;
            if u.abs() < 0.5 {
                0.5 * (1.0 + (2.0 * PI * u).cos())
            } else {
                0.0
            }
        };
        pulse(CENTRE) - pulse(CENTRE + 0.5)
    };
    let knots: Vec<(f64, f64)> = (0..points_per_cycle)
        .map(|k| {
            let x = k as f64 / points_per_cycle as f64;
            (x * period, shape(x))
        })
        .collect();
    scale_to_rms(knots, hz, irms)
}

/// Current of a resistive load behind a leading-edge phase-cut dimmer firing at `firing_deg`
/// each half-cycle: zero until the triac fires, then the sine until the zero crossing. Scaled so
/// the RMS is exactly `irms` (for 90 degrees the peak is twice the RMS).
pub fn dimmer(irms: f64, hz: f64, firing_deg: f64, points_per_cycle: usize) -> Stimulus {
    let period = 1.0 / hz;
    let alpha = firing_deg.to_radians();
    let gated = |theta: f64| -> f64 {
        let half = theta.rem_euclid(PI);
        if half >= alpha - 1e-12 {
            theta.sin()
        } else {
            0.0
        }
    };
    let mut knots = Vec::with_capacity(points_per_cycle + 4);
    for k in 0..points_per_cycle {
        let theta = 2.0 * PI * k as f64 / points_per_cycle as f64;
        for fire in [alpha, PI + alpha] {
            let next = 2.0 * PI * (k + 1) as f64 / points_per_cycle as f64;
            // Insert the firing edge: zero until just before, full value at the firing angle.
            if theta < fire && fire < next + 1e-12 && (fire - theta) > 1e-12 {
                knots.push((theta / (2.0 * PI) * period, gated(theta)));
                let t_fire = fire / (2.0 * PI) * period;
                knots.push((t_fire - DIMMER_EDGE_S, 0.0));
                knots.push((t_fire, gated(fire)));
            }
        }
        if knots.last().is_none_or(|&(t, _)| t < theta / (2.0 * PI) * period - 1e-15) {
            knots.push((theta / (2.0 * PI) * period, gated(theta)));
        }
    }
    knots.sort_by(|a, b| a.0.total_cmp(&b.0));
    knots.dedup_by(|a, b| (a.0 - b.0).abs() < 1e-15);
    scale_to_rms(knots, hz, irms)
}

fn scale_to_rms(knots: Vec<(f64, f64)>, hz: f64, irms: f64) -> Stimulus {
    let rms = pwl_cycle_rms(&knots, 1.0 / hz);
    let k = if rms > 0.0 { irms / rms } else { 0.0 };
    Stimulus::Periodic { knots: knots.into_iter().map(|(t, a)| (t, a * k)).collect(), hz }
}

/// Crest factor (peak / RMS) of a periodic stimulus.
pub fn crest_factor(s: &Stimulus) -> f64 {
    match s {
        Stimulus::Periodic { knots, .. } => {
            let peak = knots.iter().fold(0.0f64, |m, &(_, a)| m.max(a.abs()));
            peak / s.true_rms()
        }
        _ => 2f64.sqrt(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pwl_rms_of_sampled_sine_approaches_analytic() {
        let n = 400;
        let period = 0.02;
        let knots: Vec<(f64, f64)> = (0..n)
            .map(|k| {
                let x = k as f64 / n as f64;
                (x * period, 10.0 * (2.0 * PI * x).sin())
            })
            .collect();
        let rms = pwl_cycle_rms(&knots, period);
        // Linear segments lose ~h^2/12 of curvature: 2e-5 relative at 400 points.
        assert!((rms - 10.0 / 2f64.sqrt()).abs() < 1e-3, "{rms}");
        assert!((rms - 10.0 / 2f64.sqrt()).abs() > 0.0);
    }

    #[test]
    fn pwl_rms_of_square_and_triangle_is_exact() {
        // Triangle 0 -> 1 -> 0: RMS 1/sqrt(3).
        let tri = [(0.0, 0.0), (0.5, 1.0)];
        assert!((pwl_cycle_rms(&tri, 1.0) - 1.0 / 3f64.sqrt()).abs() < 1e-12);
        // Near-square wave +-2: RMS 2 (the 1e-9 edges change it negligibly).
        let sq = [(0.0, 2.0), (0.5 - 1e-9, 2.0), (0.5, -2.0), (1.0 - 1e-9, -2.0)];
        assert!((pwl_cycle_rms(&sq, 1.0) - 2.0).abs() < 1e-6);
    }

    #[test]
    fn dimmer_at_90_degrees_has_peak_twice_rms() {
        let s = dimmer(4.0, 50.0, 90.0, 400);
        assert!((s.true_rms() - 4.0).abs() < 1e-9);
        // Analytically the RMS of a sine cut at 90 degrees is peak/2; the PWL on 400 points is
        // within a fraction of a percent of that.
        let peak = crest_factor(&s) * 4.0;
        assert!((peak - 8.0).abs() / 8.0 < 5e-3, "peak {peak}");
        // Off before the firing angle, on after it.
        assert_eq!(s.current_at(0.004), 0.0);
        assert!(s.current_at(0.0051) > 7.0);
        assert!(s.current_at(0.0151) < -7.0);
    }

    #[test]
    fn smps_pulses_have_crest_factor_above_three() {
        let s = smps(2.0, 50.0, 400);
        assert!((s.true_rms() - 2.0).abs() < 1e-9);
        let cf = crest_factor(&s);
        assert!((3.0..4.0).contains(&cf), "crest factor {cf}");
        // Positive pulse in the first half, negative in the second, nothing at the zero crossing.
        assert!(s.current_at(0.0044) > 0.0);
        assert!(s.current_at(0.0144) < 0.0);
        assert_eq!(s.current_at(0.0), 0.0);
    }

    #[test]
    fn sine_rms_and_phase() {
        let s = Stimulus::Sine { irms: 5.0, hz: 60.0 };
        assert_eq!(s.true_rms(), 5.0);
        assert!(s.current_at(0.0).abs() < 1e-12);
        assert!((s.current_at(1.0 / 240.0) - 5.0 * 2f64.sqrt()).abs() < 1e-9);
    }

    #[test]
    fn pwl_source_text_covers_the_whole_run() {
        let s = smps(2.0, 50.0, 40);
        let text = s.spice_source("p", 0.05);
        assert!(text.starts_with("Ip 0 p PWL("));
        assert!(text.contains("5.000000000e-2"));
        assert!(text.trim_end().ends_with(')'));
    }
}
