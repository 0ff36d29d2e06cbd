//! Primary-current waveforms fed to the simulated CT, and their true RMS.
//!
//! The true RMS written to the golden manifest comes from here, from the source definition
//! itself (analytic for sines, exact integration of the piecewise-linear source for the others),
//! never from the simulated sensor output: the golden tests compare the host's estimate against
//! what really flowed in the primary.

use std::f64::consts::PI;
use std::fmt::Write as _;

pub mod exact;
pub mod loads;

/// How long the rising edge of a phase-cut dimmer takes (a triac turns on in about a microsecond).
pub const DIMMER_EDGE_S: f64 = 1e-6;

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
    /// Any non-periodic load current: a sum of components, each a product of piecewise-linear
    /// factors (envelopes, on/off gates) times a carrier (a mains-locked sine or a periodic
    /// piecewise-linear wave). ngspice gets exactly this (one PWL voltage source per factor and
    /// carrier, multiplied in a B source), and [`Stimulus::mean_square`] integrates it exactly.
    Mix { hz: f64, components: Vec<Component> },
}

/// A piecewise-linear function of time, as a SPICE PWL source defines it: linear between
/// knots, continuous.
#[derive(Debug, Clone, PartialEq)]
pub struct Pwl {
    /// `(t, value)` with strictly increasing `t`. One-shot (`period` `None`): the first value
    /// holds before the first knot and the last after the last. Periodic: `0 <= t < period`,
    /// and the last knot joins the first knot of the next period.
    pub knots: Vec<(f64, f64)>,
    pub period: Option<f64>,
}

impl Pwl {
    pub fn constant(v: f64) -> Pwl {
        Pwl { knots: vec![(0.0, v)], period: None }
    }

    pub fn one_shot(knots: Vec<(f64, f64)>) -> Pwl {
        Pwl { knots, period: None }
    }

    pub fn periodic(knots: Vec<(f64, f64)>, period: f64) -> Pwl {
        Pwl { knots, period: Some(period) }
    }

    /// Value at `t` (binary search).
    pub fn at(&self, t: f64) -> f64 {
        let k = &self.knots;
        let Some(&(t0, v0)) = k.first() else { return 0.0 };
        match self.period {
            None => {
                if t <= t0 {
                    return v0;
                }
                let (tl, vl) = k[k.len() - 1];
                if t >= tl {
                    return vl;
                }
                let i = k.partition_point(|&(tk, _)| tk <= t);
                let ((ta, a), (tb, b)) = (k[i - 1], k[i]);
                lerp(ta, a, tb, b, t)
            }
            Some(period) => {
                let x = t.rem_euclid(period);
                let (tl, vl) = k[k.len() - 1];
                if x >= tl {
                    return lerp(tl, vl, t0 + period, v0, x);
                }
                if x < t0 {
                    return lerp(tl - period, vl, t0, v0, x);
                }
                let i = k.partition_point(|&(tk, _)| tk <= x);
                let ((ta, a), (tb, b)) = (k[i - 1], k[i]);
                lerp(ta, a, tb, b, x)
            }
        }
    }

    /// Appends the knot times strictly inside `(a, b)`.
    pub fn breakpoints(&self, a: f64, b: f64, out: &mut Vec<f64>) {
        match self.period {
            None => out.extend(self.knots.iter().map(|k| k.0).filter(|&t| t > a && t < b)),
            Some(period) => {
                let mut n = (a / period).floor() - 1.0;
                loop {
                    let base = n * period;
                    if base >= b {
                        break;
                    }
                    out.extend(self.knots.iter().map(|k| base + k.0).filter(|&t| t > a && t < b));
                    n += 1.0;
                }
            }
        }
    }

    /// A periodic trapezoid (low, rising edge, high, falling edge, low: an on/off gate) as
    /// SPICE PULSE parameters `(v1, v2, td, tr, tf, pw, per)`. ngspice places a breakpoint at
    /// every corner of a PULSE, but not at the repeated knots of a `PWL(...) r=0`, and a gate's
    /// 1 us edges need them.
    pub fn as_pulse(&self) -> Option<[f64; 7]> {
        let period = self.period?;
        let mut k = self.knots.clone();
        k.push((period, self.at(0.0)));
        let lo = k[0].1;
        let hi = k.iter().map(|x| x.1).find(|&v| v != lo)?;
        if k.iter().any(|x| x.1 != lo && x.1 != hi) {
            return None;
        }
        let rises: Vec<usize> = (0..k.len() - 1).filter(|&i| k[i].1 == lo && k[i + 1].1 == hi).collect();
        let falls: Vec<usize> = (0..k.len() - 1).filter(|&i| k[i].1 == hi && k[i + 1].1 == lo).collect();
        let (&[r], &[f]) = (rises.as_slice(), falls.as_slice()) else { return None };
        if f <= r {
            return None;
        }
        let (td, tr, pw, tf) = (k[r].0, k[r + 1].0 - k[r].0, k[f].0 - k[r + 1].0, k[f + 1].0 - k[f].0);
        (tr > 0.0 && tf > 0.0 && pw > 0.0).then_some([lo, hi, td, tr, tf, pw, period])
    }

    /// A SPICE element named `name` driving `node` (to ground) with this function as its
    /// voltage, valid on `[0, stop_s]`: a PULSE source for a periodic trapezoid, a PWL source
    /// for a one-shot function, and for any other periodic one a B source evaluating `pwl()` at
    /// the phase `time/period - floor(time/period)` (ngspice's own `PWL(...) r=0` costs time
    /// proportional to the number of periods elapsed at every evaluation).
    fn spice_element(&self, name: &str, node: &str, stop_s: f64) -> String {
        if let Some(p) = self.as_pulse() {
            let f: Vec<String> = p.iter().map(|x| format!("{x:.15e}")).collect();
            return format!("V{name} {node} 0 PULSE({})", f.join(" "));
        }
        if let Some(period) = self.period {
            let mut knots = vec![(0.0, self.at(0.0))];
            knots.extend(self.knots.iter().copied().filter(|k| k.0 > 0.0));
            knots.push((period, self.at(0.0)));
            let f = 1.0 / period;
            let mut out = format!("B{name} {node} 0 V=pwl(time*{f:.17e}-floor(time*{f:.17e})");
            for (i, (t, v)) in knots.iter().enumerate() {
                if i % 4 == 0 {
                    out.push_str("\n+");
                }
                let _ = write!(out, ", {:.15e}, {v:.15e}", t / period);
            }
            out.push(')');
            return out;
        }
        format!("V{name} {node} 0 {}", self.spice_pwl(stop_s))
    }

    /// SPICE PWL source text of a one-shot function (without element name and nodes).
    fn spice_pwl(&self, stop_s: f64) -> String {
        // SPICE holds the first value before the first knot: start at 0 with the value there.
        let mut knots: Vec<(f64, f64)> = Vec::with_capacity(self.knots.len() + 2);
        knots.push((0.0, self.at(0.0)));
        knots.extend(self.knots.iter().copied().filter(|k| k.0 > 0.0));
        if knots.len() < 2 {
            knots.push((stop_s.max(1.0), knots[0].1));
        }
        let mut out = String::from("PWL(");
        for (i, (t, v)) in knots.iter().enumerate() {
            if i % 4 == 0 {
                out.push_str("\n+");
            }
            let _ = write!(out, " {t:.15e} {v:.15e}");
        }
        out.push_str(" )");
        out
    }
}

/// What a [`Component`]'s factors multiply.
#[derive(Debug, Clone, PartialEq)]
pub enum Carrier {
    /// `sqrt(2) * sin(2 pi hz t + phase_deg)` with the stimulus' `hz` (unit RMS).
    Sine { phase_deg: f64 },
    /// Any piecewise-linear wave (usually periodic: a switch-mode supply's pulses).
    Wave(Pwl),
}

/// One load of a [`Stimulus::Mix`]: the product of `factors` times `carrier`.
#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    pub factors: Vec<Pwl>,
    pub carrier: Carrier,
}

impl Component {
    pub fn new(factors: Vec<Pwl>, carrier: Carrier) -> Component {
        Component { factors, carrier }
    }

    fn at(&self, hz: f64, t: f64) -> f64 {
        let f: f64 = self.factors.iter().map(|p| p.at(t)).product();
        f * match &self.carrier {
            Carrier::Sine { phase_deg } => 2f64.sqrt() * (2.0 * PI * hz * t + phase_deg.to_radians()).sin(),
            Carrier::Wave(w) => w.at(t),
        }
    }

    fn breakpoints(&self, a: f64, b: f64, out: &mut Vec<f64>) {
        for f in &self.factors {
            f.breakpoints(a, b, out);
        }
        if let Carrier::Wave(w) = &self.carrier {
            w.breakpoints(a, b, out);
        }
    }
}

impl Stimulus {
    pub fn hz(&self) -> f64 {
        match self {
            Stimulus::Sine { hz, .. }
            | Stimulus::Periodic { hz, .. }
            | Stimulus::Step { hz, .. }
            | Stimulus::Mix { hz, .. } => *hz,
        }
    }

    /// Exact mean of the squared current over `[t0, t1]` (its square root is the true RMS over
    /// that span): closed form for sines; for piecewise-linear sources and mixes, segment by
    /// segment between every knot, each segment integrated exactly ([`exact`]). `t1 <= t0`
    /// gives the instantaneous square at `t0`.
    pub fn mean_square(&self, t0: f64, t1: f64) -> f64 {
        if t1 <= t0 {
            return self.current_at(t0).powi(2);
        }
        match self {
            Stimulus::Sine { irms, hz } => {
                // mean of 2 I^2 sin^2(w t) = I^2 (1 - mean cos(2 w t)).
                let w2 = 4.0 * PI * hz;
                let mean_cos = ((w2 * t1).sin() - (w2 * t0).sin()) / (w2 * (t1 - t0));
                irms * irms * (1.0 - mean_cos)
            }
            Stimulus::Step { before, after, hz, step_s } => {
                let part = |irms: f64, a: f64, b: f64| {
                    if b > a {
                        Stimulus::Sine { irms, hz: *hz }.mean_square(a, b) * (b - a)
                    } else {
                        0.0
                    }
                };
                (part(*before, t0, t1.min(*step_s)) + part(*after, t0.max(*step_s), t1)) / (t1 - t0)
            }
            Stimulus::Periodic { knots, hz } => {
                let c = Component::new(Vec::new(), Carrier::Wave(Pwl::periodic(knots.clone(), 1.0 / hz)));
                mix_mean_square(*hz, std::slice::from_ref(&c), t0, t1)
            }
            Stimulus::Mix { hz, components } => mix_mean_square(*hz, components, t0, t1),
        }
    }

    /// The RMS of the source over whole cycles (for `Step`, the RMS after the step).
    pub fn true_rms(&self) -> f64 {
        match self {
            Stimulus::Sine { irms, .. } => *irms,
            Stimulus::Periodic { knots, hz } => pwl_cycle_rms(knots, 1.0 / hz),
            Stimulus::Step { after, .. } => *after,
            Stimulus::Mix { hz, .. } => self.mean_square(0.0, 1.0 / hz).sqrt(),
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
            Stimulus::Mix { hz, components } => components.iter().map(|c| c.at(*hz, t)).sum(),
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
            Stimulus::Mix { hz, components } => {
                // One PWL/SIN voltage source per factor and carrier (node sC_J / sC_c), and a B
                // source summing their products.
                let mut out = String::new();
                let mut terms = Vec::new();
                for (c, comp) in components.iter().enumerate() {
                    let mut nodes = Vec::new();
                    for (j, f) in comp.factors.iter().enumerate() {
                        let _ =
                            writeln!(out, "{}", f.spice_element(&format!("s{c}_{j}"), &format!("s{c}_{j}"), stop_s));
                        nodes.push(format!("v(s{c}_{j})"));
                    }
                    match &comp.carrier {
                        Carrier::Sine { phase_deg } => {
                            let _ =
                                writeln!(out, "Vs{c}_c s{c}_c 0 SIN(0 {:.17e} {hz} 0 0 {phase_deg:.15e})", 2f64.sqrt());
                        }
                        Carrier::Wave(w) => {
                            let _ =
                                writeln!(out, "{}", w.spice_element(&format!("s{c}_c"), &format!("s{c}_c"), stop_s));
                        }
                    }
                    nodes.push(format!("v(s{c}_c)"));
                    terms.push(nodes.join("*"));
                }
                let _ = writeln!(out, "Bp 0 {node} I=0\n+ + {}", terms.join("\n+ + "));
                out
            }
        }
    }
}

/// Exact `mean(i^2)` over `[t0, t1]` of a sum of components (see [`exact`]).
fn mix_mean_square(hz: f64, components: &[Component], t0: f64, t1: f64) -> f64 {
    let mut cuts = vec![t0, t1];
    for c in components {
        c.breakpoints(t0, t1, &mut cuts);
    }
    cuts.sort_by(f64::total_cmp);
    cuts.dedup();
    let w = 2.0 * PI * hz;
    let mut total = 0.0;
    for pair in cuts.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let h = b - a;
        if h <= 0.0 {
            continue;
        }
        // On [a, b] every factor is linear: i(u) = P0(u) + A(u) sin(w u) + B(u) cos(w u).
        let lin = |p: &Pwl| -> exact::Poly {
            let (va, vb) = (p.at(a), p.at(b));
            vec![va, (vb - va) / h]
        };
        let (mut p0, mut pa, mut pb) = (Vec::new(), Vec::new(), Vec::new());
        for c in components {
            let mut poly: exact::Poly = vec![1.0];
            for f in &c.factors {
                poly = exact::mul(&poly, &lin(f));
            }
            match &c.carrier {
                Carrier::Wave(wv) => exact::add_scaled(&mut p0, &exact::mul(&poly, &lin(wv)), 1.0),
                Carrier::Sine { phase_deg } => {
                    // sqrt2 sin(w (a + u) + phi) = sqrt2 (sin(w u) cos(psi) + cos(w u) sin(psi)).
                    let (s, co) = (w * a + phase_deg.to_radians()).sin_cos();
                    exact::add_scaled(&mut pa, &poly, 2f64.sqrt() * co);
                    exact::add_scaled(&mut pb, &poly, 2f64.sqrt() * s);
                }
            }
        }
        // i^2 = P0^2 + (A^2 + B^2)/2 + (B^2 - A^2)/2 cos(2wu) + A B sin(2wu)
        //       + 2 P0 A sin(wu) + 2 P0 B cos(wu).
        let (aa, bb, ab) = (exact::mul(&pa, &pa), exact::mul(&pb, &pb), exact::mul(&pa, &pb));
        let mut flat = exact::mul(&p0, &p0);
        exact::add_scaled(&mut flat, &aa, 0.5);
        exact::add_scaled(&mut flat, &bb, 0.5);
        let mut cos2 = bb.clone();
        exact::add_scaled(&mut cos2, &aa, -1.0);
        total += exact::integral(&flat, h);
        total += 0.5 * exact::trig_integral(&cos2, 2.0 * w, h).0;
        total += exact::trig_integral(&ab, 2.0 * w, h).1;
        total += 2.0 * exact::trig_integral(&exact::mul(&p0, &pa), w, h).1;
        total += 2.0 * exact::trig_integral(&exact::mul(&p0, &pb), w, h).0;
    }
    total / (t1 - t0)
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
        Stimulus::Mix { .. } => f64::NAN,
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
