//! The non-periodic load currents of `golden/data/loads/`, rebuilt from a manifest row.
//!
//! Every case is a [`Stimulus::Mix`] defined by its `kind`, the mains frequency and a
//! `params` string of `key=value` pairs separated by spaces (a value is a number, or a list of
//! numbers separated by `/`). The generator builds the source it gives ngspice from the very
//! same printed string with [`load_case`], so the test side rebuilds exactly what was simulated
//! and takes its true RMS over any span with [`Stimulus::mean_square`].
//!
//! Times in `params` are **simulation** seconds (ngspice's t = 0); a golden file's record starts
//! later, at the manifest's `record_start_s`. The sine carriers have phase 0 at t = 0 unless a
//! `phase` is given, so mains voltage zero crossings are at multiples of half a period.
//!
//! Switching edges take [`DIMMER_EDGE_S`] (1 us) everywhere, so every source is continuous.

use std::collections::BTreeMap;

use super::{smps, Carrier, Component, Pwl, Stimulus, DIMMER_EDGE_S};

const E: f64 = DIMMER_EDGE_S;

/// Knots per time constant of the decaying inrush envelope (the envelope *is* this PWL; the
/// exponential only places its knots), and how many time constants are drawn.
const INRUSH_KNOTS_PER_TAU: f64 = 8.0;
const INRUSH_TAUS: f64 = 8.0;

/// Points per cycle of the switch-mode supply's pulse shape (as the periodic goldens).
const SMPS_POINTS_PER_CYCLE: usize = 400;

pub type Params = BTreeMap<String, Vec<f64>>;

/// Parses `key=value key=v1/v2/v3 ...`.
pub fn parse_params(s: &str) -> Result<Params, String> {
    let mut out = Params::new();
    for tok in s.split_whitespace() {
        let (k, v) = tok.split_once('=').ok_or_else(|| format!("`{tok}` is not key=value"))?;
        let vals = v
            .split('/')
            .map(|x| x.parse::<f64>().map_err(|_| format!("{k}: `{x}` is not a number")))
            .collect::<Result<Vec<f64>, String>>()?;
        if out.insert(k.to_owned(), vals).is_some() {
            return Err(format!("{k} given twice"));
        }
    }
    Ok(out)
}

struct P<'a>(&'a Params);

impl P<'_> {
    fn list(&self, k: &str) -> Result<&[f64], String> {
        self.0.get(k).map(Vec::as_slice).ok_or_else(|| format!("missing parameter {k}"))
    }
    fn num(&self, k: &str) -> Result<f64, String> {
        match self.list(k)? {
            [x] => Ok(*x),
            v => Err(format!("{k}: expected one number, got {}", v.len())),
        }
    }
    fn num_or(&self, k: &str, default: f64) -> Result<f64, String> {
        if self.0.contains_key(k) {
            self.num(k)
        } else {
            Ok(default)
        }
    }
}

/// The stimulus of a loads case from its manifest row (`kind`, `mains_hz`, `params`).
///
/// Kinds and their parameters (currents in A RMS, angles in degrees, times in seconds):
/// - `sine`: `irms`; `smps`: `irms` (switch-mode supply pulses, [`smps`]);
/// - `burst`: `irms on off` — integral-cycle control: `on` whole cycles conducting, `off`
///   cycles blocked, switching at the zero crossings;
/// - `burst-irregular`: `irms runs until` — integral-cycle control following an irregular
///   pattern: `runs=a/b/c/...` are whole-cycle counts, alternately conducting and blocked
///   (starting conducting at t = 0), the pattern repeating until `until` seconds (then blocked);
/// - `dimmer`: `full fire` — leading-edge phase cut of a resistive load drawing `full` A RMS
///   uncut, firing at `fire` degrees of each half-cycle; `dimmer-trailing`: `full cut`,
///   conducting from each zero crossing to `cut` degrees; `dimmer-change`: `full fire=a/b at`,
///   leading edge at `a` degrees, then `b` from the first zero crossing at or after `at`;
/// - `onoff`: `irms phase inrush tau on=.. off=..` — a motor/compressor: sine with carrier
///   phase `phase`, switched on at each `on` instant (any phase) with an inrush envelope
///   `irms * (1 + (inrush - 1) exp(-t/tau))`, off at the first current zero crossing at or
///   after each `off` instant;
/// - `step`: `before after at phase`: the RMS changes at `at` (any phase, 1 us edge);
///   `ramp`: `from to start end`: the RMS changes linearly from `start` to `end`;
/// - `household`: a fridge (`fridge_*`, as `onoff`), a kettle (`kettle_a`, `kettle_on`,
///   `kettle_off` lists, on at any phase, off at a zero crossing), a switch-mode supply whose
///   RMS steps through `smps_a` (list) at `smps_at` (list), and a burst-fire heater
///   (`heater_a`, `heater_cycles=on/off`, `heater_on`, `heater_off` lists).
pub fn load_case(kind: &str, hz: f64, params: &str) -> Result<Stimulus, String> {
    let map = parse_params(params)?;
    let p = P(&map);
    let sine = |phase_deg: f64| Carrier::Sine { phase_deg };
    let components = match kind {
        "sine" => vec![Component::new(vec![Pwl::constant(p.num("irms")?)], sine(0.0))],
        "smps" => vec![smps_component(p.num("irms")?, hz, Pwl::constant(1.0))],
        "burst" => {
            let gate = burst_gate(hz, p.num("on")?, p.num("off")?)?;
            vec![Component::new(vec![Pwl::constant(p.num("irms")?), gate], sine(0.0))]
        }
        "burst-irregular" => {
            let gate = pattern_gate(hz, p.list("runs")?, p.num("until")?)?;
            vec![Component::new(vec![Pwl::constant(p.num("irms")?), gate], sine(0.0))]
        }
        "dimmer" => {
            vec![Component::new(vec![Pwl::constant(p.num("full")?), leading_gate(hz, p.num("fire")?)?], sine(0.0))]
        }
        "dimmer-trailing" => {
            vec![Component::new(vec![Pwl::constant(p.num("full")?), trailing_gate(hz, p.num("cut")?)?], sine(0.0))]
        }
        "dimmer-change" => {
            let full = p.num("full")?;
            let [a, b] = p.list("fire")? else { return Err("fire: expected two angles a/b".into()) };
            let at = next_zero_crossing(hz, 0.0, p.num("at")?);
            vec![
                Component::new(vec![steps(&[full, 0.0], &[at])?, leading_gate(hz, *a)?], sine(0.0)),
                Component::new(vec![steps(&[0.0, full], &[at])?, leading_gate(hz, *b)?], sine(0.0)),
            ]
        }
        "onoff" => vec![motor(&p, "", hz)?],
        "step" => {
            let env = steps(&[p.num("before")?, p.num("after")?], &[p.num("at")?])?;
            vec![Component::new(vec![env], sine(p.num_or("phase", 0.0)?))]
        }
        "ramp" => {
            let (start, end) = (p.num("start")?, p.num("end")?);
            if end <= start {
                return Err("ramp: end must be after start".into());
            }
            let env = Pwl::one_shot(vec![(start, p.num("from")?), (end, p.num("to")?)]);
            vec![Component::new(vec![env], sine(0.0))]
        }
        "household" => {
            let fridge = motor(&p, "fridge_", hz)?;
            let kettle_on = p.list("kettle_on")?;
            let kettle_off: Vec<f64> = p.list("kettle_off")?.iter().map(|&t| next_zero_crossing(hz, 0.0, t)).collect();
            let kettle = Component::new(vec![on_off(p.num("kettle_a")?, kettle_on, &kettle_off)?], sine(0.0));
            let mut levels = p.list("smps_a")?.to_vec();
            let at = p.list("smps_at")?;
            if levels.len() != at.len() + 1 {
                return Err("smps_a needs one level more than smps_at has instants".into());
            }
            levels.iter_mut().for_each(|a| *a = a.max(0.0));
            let smps_c = smps_component(1.0, hz, steps(&levels, at)?);
            let [on, off] = p.list("heater_cycles")? else { return Err("heater_cycles: expected on/off".into()) };
            let heater_on: Vec<f64> = p.list("heater_on")?.iter().map(|&t| next_zero_crossing(hz, 0.0, t)).collect();
            let heater_off: Vec<f64> = p.list("heater_off")?.iter().map(|&t| next_zero_crossing(hz, 0.0, t)).collect();
            let heater = Component::new(
                vec![on_off(p.num("heater_a")?, &heater_on, &heater_off)?, burst_gate(hz, *on, *off)?],
                sine(0.0),
            );
            vec![fridge, kettle, smps_c, heater]
        }
        _ => return Err(format!("unknown loads kind `{kind}`")),
    };
    Ok(Stimulus::Mix { hz, components })
}

/// First zero crossing of `sqrt2 sin(2 pi hz t + phase)` at or after `t`.
pub fn next_zero_crossing(hz: f64, phase_deg: f64, t: f64) -> f64 {
    // Zero where 2 hz t + phase/180 is an integer.
    let x = 2.0 * hz * t + phase_deg / 180.0;
    (x.ceil() - phase_deg / 180.0) / (2.0 * hz)
}

/// A level that steps from `levels[i]` to `levels[i + 1]` at `at[i]` (1 us edges).
pub fn steps(levels: &[f64], at: &[f64]) -> Result<Pwl, String> {
    if levels.len() != at.len() + 1 {
        return Err("steps: need one level more than instants".into());
    }
    let mut knots = Vec::new();
    for (i, &t) in at.iter().enumerate() {
        if knots.last().is_some_and(|&(tl, _): &(f64, f64)| t <= tl) {
            return Err("steps: instants must increase by more than the edge".into());
        }
        knots.push((t, levels[i]));
        knots.push((t + E, levels[i + 1]));
    }
    if knots.is_empty() {
        knots.push((0.0, levels[0]));
    }
    Ok(Pwl::one_shot(knots))
}

/// `irms` between each `on[i]` and `off[i]` (an `on` without an `off` stays on), else 0.
fn on_off(irms: f64, on: &[f64], off: &[f64]) -> Result<Pwl, String> {
    if off.len() > on.len() || on.len() > off.len() + 1 {
        return Err("on/off lists do not alternate".into());
    }
    let mut at = Vec::new();
    let mut levels = vec![0.0];
    for (i, &t) in on.iter().enumerate() {
        at.push(t);
        levels.push(irms);
        if let Some(&t_off) = off.get(i) {
            at.push(t_off);
            levels.push(0.0);
        }
    }
    steps(&levels, &at)
}

/// Integral-cycle gate: 1 for `on` whole cycles from t = 0, 0 for `off` cycles, repeating.
pub fn burst_gate(hz: f64, on: f64, off: f64) -> Result<Pwl, String> {
    if on < 1.0 || off < 1.0 || on.fract() != 0.0 || off.fract() != 0.0 {
        return Err("burst: on and off must be whole cycles >= 1".into());
    }
    let t_on = on / hz;
    Ok(Pwl::periodic(vec![(0.0, 0.0), (E, 1.0), (t_on, 1.0), (t_on + E, 0.0)], (on + off) / hz))
}

/// Integral-cycle gate following `runs` (whole cycles, alternately conducting and blocked,
/// starting conducting at t = 0), repeated until `until` s and blocked after: a one-shot
/// function, so ngspice gets a breakpoint at every edge (1 us, at a zero crossing).
pub fn pattern_gate(hz: f64, runs: &[f64], until: f64) -> Result<Pwl, String> {
    if runs.len() < 2 || runs.len() % 2 != 0 || runs.iter().any(|&r| r < 1.0 || r.fract() != 0.0) {
        return Err("burst-irregular: runs must be an even number (>= 2) of whole cycles >= 1".into());
    }
    if !(until > 0.0 && until * hz < 1e5) {
        return Err(format!("burst-irregular: until {until} s out of range"));
    }
    let (mut levels, mut at) = (vec![0.0], Vec::new());
    let mut cycles = 0.0;
    'pattern: loop {
        for (i, &r) in runs.iter().enumerate() {
            let t = cycles / hz;
            if t >= until {
                break 'pattern;
            }
            at.push(t);
            levels.push(if i % 2 == 0 { 1.0 } else { 0.0 });
            cycles += r;
        }
    }
    if levels.last() == Some(&1.0) {
        at.push(cycles / hz);
        levels.push(0.0);
    }
    steps(&levels, &at)
}

/// Leading-edge phase-cut gate (period: half a cycle): 0 until `fire` degrees into each
/// half-cycle, then 1 until the zero crossing (the 1 us rising edge ends at the firing angle; the gate drops in the last
/// 1 us before the zero crossing, where the sine is zero to within 3e-4 of its peak).
pub fn leading_gate(hz: f64, fire_deg: f64) -> Result<Pwl, String> {
    let half = 0.5 / hz;
    let tf = fire_deg / 180.0 * half;
    if tf <= 2.0 * E || tf >= half - 2.0 * E {
        return Err(format!("dimmer: firing angle {fire_deg} out of range"));
    }
    Ok(Pwl::periodic(vec![(0.0, 0.0), (tf - E, 0.0), (tf, 1.0), (half - E, 1.0)], half))
}

/// Trailing-edge gate (period: half a cycle): 1 from each zero crossing (1 us rise) until `cut` degrees, then 0.
pub fn trailing_gate(hz: f64, cut_deg: f64) -> Result<Pwl, String> {
    let half = 0.5 / hz;
    let tc = cut_deg / 180.0 * half;
    if tc <= 2.0 * E || tc >= half - 2.0 * E {
        return Err(format!("dimmer: cut angle {cut_deg} out of range"));
    }
    Ok(Pwl::periodic(vec![(0.0, 0.0), (E, 1.0), (tc, 1.0), (tc + E, 0.0)], half))
}

/// A switch-mode supply (unit-RMS pulse shape of [`smps`]) scaled by `envelope` and `irms`.
fn smps_component(irms: f64, hz: f64, envelope: Pwl) -> Component {
    let Stimulus::Periodic { knots, .. } = smps(irms, hz, SMPS_POINTS_PER_CYCLE) else {
        unreachable!("smps is periodic")
    };
    Component::new(vec![envelope], Carrier::Wave(Pwl::periodic(knots, 1.0 / hz)))
}

/// A motor or compressor (`{prefix}irms`/`a`, `phase`, `inrush`, `tau`, `on`, `off`).
fn motor(p: &P<'_>, prefix: &str, hz: f64) -> Result<Component, String> {
    let key = |k: &str| format!("{prefix}{k}");
    let irms = if prefix.is_empty() { p.num("irms")? } else { p.num(&key("a"))? };
    let phase = p.num(&key("phase"))?;
    let (inrush, tau) = (p.num(&key("inrush"))?, p.num(&key("tau"))?);
    let on = p.list(&key("on"))?;
    let off: Vec<f64> = p.list(&key("off"))?.iter().map(|&t| next_zero_crossing(hz, phase, t)).collect();
    Ok(Component::new(vec![inrush_envelope(irms, inrush, tau, on, &off)?], Carrier::Sine { phase_deg: phase }))
}

/// 0 A until each `on[i]`, then (1 us edge) `irms * (1 + (inrush - 1) exp(-(t - on)/tau))`,
/// drawn with knots every tau/8 for 8 tau and linear after, until `off[i]` (1 us edge to 0).
pub fn inrush_envelope(irms: f64, inrush: f64, tau: f64, on: &[f64], off: &[f64]) -> Result<Pwl, String> {
    if off.len() > on.len() || on.len() > off.len() + 1 {
        return Err("on/off lists do not alternate".into());
    }
    if tau <= 0.0 {
        return Err("tau must be positive".into());
    }
    let level = |x: f64| irms * (1.0 + (inrush - 1.0) * (-x / tau).exp());
    let mut knots: Vec<(f64, f64)> = Vec::new();
    for (i, &t_on) in on.iter().enumerate() {
        if knots.last().is_some_and(|&(tl, _)| t_on <= tl) {
            return Err("on/off instants must increase".into());
        }
        let t_off = off.get(i).copied();
        knots.push((t_on, 0.0));
        let n = (INRUSH_TAUS * INRUSH_KNOTS_PER_TAU) as usize;
        for k in 0..=n {
            let x = k as f64 * tau / INRUSH_KNOTS_PER_TAU;
            let t = t_on + E + x;
            if t_off.is_some_and(|to| t >= to) {
                break;
            }
            knots.push((t, level(x)));
        }
        if let Some(to) = t_off {
            knots.push((to, level(to - t_on - E)));
            knots.push((to + E, 0.0));
        }
    }
    if knots.is_empty() {
        knots.push((0.0, 0.0));
    }
    Ok(Pwl::one_shot(knots))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_parse_and_reject_junk() {
        let p = parse_params("irms=2.5 on=1/2.25").expect("parses");
        assert_eq!(p["irms"], vec![2.5]);
        assert_eq!(p["on"], vec![1.0, 2.25]);
        assert!(parse_params("irms").is_err());
        assert!(parse_params("irms=x").is_err());
        assert!(parse_params("a=1 a=2").is_err());
        assert!(load_case("nope", 50.0, "").is_err());
        assert!(load_case("sine", 50.0, "amps=3").is_err());
    }

    #[test]
    fn zero_crossings_follow_the_carrier_phase() {
        assert!((next_zero_crossing(50.0, 0.0, 0.0101) - 0.02).abs() < 1e-15);
        assert!((next_zero_crossing(50.0, 0.0, 0.02) - 0.02).abs() < 1e-15);
        let t = next_zero_crossing(60.0, -37.0, 1.2345);
        assert!((1.2345..1.2345 + 1.0 / 120.0).contains(&t));
        assert!((2.0 * std::f64::consts::PI * 60.0 * t - 37f64.to_radians()).sin().abs() < 1e-9);
    }

    #[test]
    fn burst_conducts_whole_cycles() {
        let s = load_case("burst", 50.0, "irms=10 on=3 off=7").expect("builds");
        // Over whole bursts the RMS is sqrt(duty) * irms (the 1 us edges sit at zero crossings).
        let ms = s.mean_square(0.0, 2.0);
        assert!((ms - 30.0).abs() < 1e-6, "{ms}");
        assert!(s.current_at(0.045).abs() > 1.0);
        assert_eq!(s.current_at(0.075), 0.0);
    }

    #[test]
    fn an_irregular_burst_conducts_its_runs() {
        // 2 on, 1 off, 1 on, 3 off: 3 of every 7 cycles conduct.
        let s = load_case("burst-irregular", 50.0, "irms=4 runs=2/1/1/3 until=1.4").expect("builds");
        let ms = s.mean_square(0.0, 1.4);
        assert!((ms - 16.0 * 3.0 / 7.0).abs() < 1e-6, "{ms}");
        assert!(s.current_at(0.025).abs() > 1.0);
        assert_eq!(s.current_at(0.045), 0.0);
        assert!(s.current_at(0.065).abs() > 1.0);
        assert_eq!(s.current_at(0.085), 0.0);
        assert_eq!(s.current_at(1.45), 0.0);
        assert!(load_case("burst-irregular", 50.0, "irms=4 runs=2/1/1 until=1").is_err());
        assert!(load_case("burst-irregular", 50.0, "irms=4 runs=2/0.5 until=1").is_err());
    }

    #[test]
    fn dimmer_at_90_degrees_keeps_half_the_power() {
        let s = load_case("dimmer", 50.0, "full=4").err();
        assert!(s.is_some());
        let s = load_case("dimmer", 50.0, "full=4 fire=90").expect("builds");
        let ms = s.mean_square(0.0, 1.0);
        assert!((ms / 16.0 - 0.5).abs() < 1e-4, "{ms}");
        assert_eq!(s.current_at(0.004), 0.0);
        assert!(s.current_at(0.0051) > 5.0);
        let tr = load_case("dimmer-trailing", 50.0, "full=4 cut=90").expect("builds");
        assert!((tr.mean_square(0.0, 1.0) / 16.0 - 0.5).abs() < 1e-4);
        assert!(tr.current_at(0.004) > 5.0);
        assert_eq!(tr.current_at(0.0051), 0.0);
    }

    #[test]
    fn inrush_starts_high_and_decays_to_the_running_current() {
        let s = load_case("onoff", 50.0, "irms=2 phase=-30 inrush=5 tau=0.1 on=1.003 off=3").expect("builds");
        assert_eq!(s.mean_square(0.0, 1.0), 0.0);
        let first = s.mean_square(1.003, 1.023).sqrt();
        assert!(first > 8.0 && first < 10.0, "{first}");
        let later = s.mean_square(2.0, 2.5).sqrt();
        assert!((later - 2.0).abs() < 0.01, "{later}");
        assert_eq!(s.current_at(3.05), 0.0);
    }
}
