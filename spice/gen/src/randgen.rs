//! Randomized loads goldens (`spicegen loads-random`): an independent check of the estimator on
//! load parameters nobody chose, drawn from a seeded distribution fixed before any result was
//! looked at (the distribution is this file; its text is [`DISTRIBUTION`], copied into the
//! generated README).
//!
//! Each *draw* `d` (0, 1, 2, ...) has its own generator, `XorShiftRng::seed_from_u64(seed ^
//! (d * 0x9E37_79B9_7F4A_7C15))`, so a draw's cases do not depend on how many draws there
//! are. Draw `d` is of class [`SLOTS`]`[(d / 2) % SLOTS.len()]` and goes to the **dev** half
//! when `d` is even, the **held-out** half when odd: both halves hold every class once per
//! round, decided before anything was evaluated. A draw gives one case, or four for a clamp
//! (two resistive calibration records and two loads of that clamp).
//!
//! The cases are [`crate::loadgen::LoadCase`]s of the kinds `spicegen::stimulus::loads::
//! load_case` builds, so their truth comes from the source definition exactly as for the
//! hand-written loads goldens.

use rand::{RngExt, SeedableRng};
use rand_xorshift::XorShiftRng;

use crate::loadgen::LoadCase;
use crate::model::ModelParams;

/// The seed of the committed set (`golden/data/loads-random/`).
pub const DEFAULT_SEED: u64 = 20_261_130;

/// Length of the long household records. Several minutes would be ~3.5 MB a minute of text at
/// 8196.7 Sa/s (and ngspice's output of a 5 us step holds ~1.3 GB a minute before resampling),
/// so one minute keeps a case at ~3.7 MB and its simulation at ~2 minutes of one core.
pub const HOUSEHOLD_S: f64 = 60.0;

/// The classes a draw can be, in order.
pub const SLOTS: [&str; 15] = [
    "burst",
    "burst",
    "burst-irregular",
    "onoff",
    "onoff",
    "step-up",
    "step-down",
    "dimmer",
    "dimmer-trailing",
    "smps",
    "sine",
    "mixture",
    "clamp",
    "clamp",
    "household",
];

/// The distribution, in words (written into the generated README).
pub const DISTRIBUTION: &str = "\
- **Mains** (per draw): with probability 0.3 uniform in 49.7-50.3 Hz, 0.3 uniform in 59.7-60.3 Hz, \
otherwise uniform in 45-65 Hz; rounded to 1 mHz.
- **Record start** (settling before record time 0): uniform 0.30-0.45 s (0.90-1.00 s for a clamp above 1 H).
- `burst`: integral-cycle heater, RMS log-uniform 1-20 A when conducting, on and off cycle counts \
each uniform 1-10; 3.3 s.
- `burst-irregular`: the same heater following an irregular pattern of 6 runs (on, off, ...), each \
uniform 1-10 cycles, repeated; 3.3 s.
- `onoff`: thermostatic motor load, running RMS log-uniform 0.5-12 A (at most 90 A / inrush), lagging \
10-60 deg, inrush 2-8x decaying with tau log-uniform 0.05-0.3 s; switching period log-uniform 0.5-10 s, \
duty 0.25-0.75, each on and off time jittered by x0.8-1.2, first switch-on 0.1 s to min(period, 2 s) \
into the record, on at any phase; 6 s.
- `step-up` / `step-down`: sine stepping between two levels each log-uniform 0.2-60 A (ratio >= 1.5), \
carrier phase uniform -90..90 deg, at 1-3 s into the record; 4 s.
- `dimmer` (leading edge) / `dimmer-trailing`: resistive load log-uniform 0.5-16 A uncut, angle uniform \
10-170 deg; 2.6 s.
- `smps`: switch-mode supply (crest factor 3.5) of RMS log-uniform 0.2-10 A; 2.6 s.
- `sine`: resistive load, RMS log-uniform 0.2-95 A; 2.6 s.
- `mixture` (8 s) and `household` (60 s): kind `household`: a fridge (running log-uniform 0.5-3 A, \
lagging 20-60 deg, inrush 3-8x, tau log-uniform 0.08-0.25 s; period log-uniform 1-4 s, 8-25 s for \
the household), a kettle (log-uniform 5-13 A; 1 boil of 1-3 s, 2 boils of 5-20 s for the household), a \
switch-mode supply stepping every 0.8-2.5 s (2-6 s for the household) through levels log-uniform 0.2-3 A, \
and a burst-fire heater (log-uniform 2-12 A, 1-5 cycles on / 1-5 off) switched on and off at random \
(on 0.5-2 s / off 0.5-2 s, 3-12 s / 3-12 s for the household).
- `clamp`: a clamp of magnetizing inductance log-uniform 0.3-5 H, with four records at the draw's \
mains frequency: two resistive calibration sines (`cal-lo` uniform 1.5-3 A, `cal-hi` uniform \
20-45 A, 2.05 s) and two loads read after calibrating with them: a leading-edge dimmer (log-uniform \
2-15 A uncut, angle uniform 30-150 deg) and a switch-mode supply (log-uniform 0.5-8 A), 2.6 s each.
- Every other case is of the model's clamp (0.6 H).";

/// Which half of the set a case belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Half {
    Dev,
    HeldOut,
}

impl Half {
    pub fn of_draw(d: usize) -> Half {
        if d % 2 == 0 {
            Half::Dev
        } else {
            Half::HeldOut
        }
    }

    /// Directory name of the half.
    pub fn dir(self) -> &'static str {
        match self {
            Half::Dev => "dev",
            Half::HeldOut => "heldout",
        }
    }
}

struct Draw {
    rng: XorShiftRng,
}

impl Draw {
    fn new(seed: u64, d: usize) -> Draw {
        Draw { rng: XorShiftRng::seed_from_u64(seed ^ (d as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)) }
    }
    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        self.rng.random_range(lo..hi)
    }
    fn log_uniform(&mut self, lo: f64, hi: f64) -> f64 {
        self.uniform(lo.ln(), hi.ln()).exp()
    }
    fn int(&mut self, lo: u32, hi: u32) -> u32 {
        self.rng.random_range(lo..=hi)
    }
    fn chance(&mut self, p: f64) -> bool {
        self.uniform(0.0, 1.0) < p
    }
    fn mains(&mut self) -> f64 {
        let hz = if self.chance(0.3) {
            self.uniform(49.7, 50.3)
        } else if self.chance(0.3 / 0.7) {
            self.uniform(59.7, 60.3)
        } else {
            self.uniform(45.0, 65.0)
        };
        round(hz, 3)
    }
}

/// `count` burst-fire heaters of single cycles (`spicegen loads --sweep single-cycle-bursts`),
/// each drawn as draw `d` is (its own generator from `seed`): mains as [`DISTRIBUTION`]'s,
/// RMS log-uniform 1-25 A when conducting, one cycle on and 2-15 off, 3.3 s. A solar
/// diverter's pattern; the randomized sets' bursts of 1-10 on and 1-10 off hold few. Then
/// `count / 4` more through clamps of Lm log-uniform 0.3-5 H, each with its two resistive
/// calibration records (1.5-3 A and 20-45 A, as the `clamp` class's).
pub fn single_cycle_bursts(seed: u64, count: usize) -> Vec<LoadCase> {
    one_on(seed ^ 0x5EED_0001, count, (1.0, 25.0), (2, 15))
}

/// `count` burst-fire heaters of one cycle on and one to three off (`spicegen loads --sweep
/// one-on-few-off`), drawn as [`single_cycle_bursts`]'s but for the rest (a heater at half,
/// a third, a quarter of its power, whose clamp's kick after each on-cycle has not died when
/// the next begins) and the RMS, log-uniform 1-40 A (the larger, the longer the kick): the
/// same `count / 4` through clamps of other inductances with their calibration records.
pub fn one_on_few_off(seed: u64, count: usize) -> Vec<LoadCase> {
    // The tag in high bits: `seed ^ 0x5EED_0002` made seed 20261218's draws those of
    // `single_cycle_bursts` at 20261217 (the two differ in the same low bits).
    one_on(seed ^ (0x5EED_0002 << 32), count, (1.0, 40.0), (1, 3))
}

/// `count` 60 s household records ([`DISTRIBUTION`]'s `household` kind) at a grid's own
/// frequency (`spicegen loads --sweep households`): half at 49.8-50.2 Hz, half at 59.8-60.2 Hz
/// (uniform, 1 mHz), the model's clamp. The committed set's one household a half falls where
/// the draw's 45-65 Hz put it (the dev half's at 50.293 Hz, where 603.5 Sa/s is twelve
/// samples a cycle to 3e-5 and a window's samples bunch on twelve phases); a household meter
/// sees a grid held within a fifth of a hertz of its nominal.
pub fn households(seed: u64, count: usize) -> Vec<LoadCase> {
    let lm0 = ModelParams::default().lm_h;
    (0..count)
        .map(|d| {
            let mut r = Draw::new(seed ^ (0x5EED_0003 << 32), d);
            let nominal = if d % 2 == 0 { 50.0 } else { 60.0 };
            let hz = round(nominal + r.uniform(-0.2, 0.2), 3);
            let start = round(r.uniform(0.30, 0.45), 4);
            let (params, note) = household(&mut r, start, start + HOUSEHOLD_S, true);
            case(format!("house-{d:02}-{hz}hz"), "household", hz, lm0, params, start, HOUSEHOLD_S, note)
        })
        .collect()
}

/// Heaters of one cycle on and `off` (inclusive range) off, RMS log-uniform over `amps`, from
/// `seed`: see [`single_cycle_bursts`].
fn one_on(seed: u64, count: usize, amps_range: (f64, f64), off_range: (u32, u32)) -> Vec<LoadCase> {
    let lm0 = ModelParams::default().lm_h;
    let mut v = Vec::new();
    for d in 0..count + count / 4 {
        let mut r = Draw::new(seed, d);
        let hz = r.mains();
        let mut start = round(r.uniform(0.30, 0.45), 4);
        let a = amps(r.log_uniform(amps_range.0, amps_range.1));
        let off = r.int(off_range.0, off_range.1);
        let name = format!("single-{d:02}-burst-{a}a-1on{off}off-{hz}hz");
        let note = format!("burst-fire heater, {a} A conducting, 1 cycle on / {off} off");
        if d < count {
            v.push(case(name, "burst", hz, lm0, format!("irms={a} on=1 off={off}"), start, 3.3, note));
            continue;
        }
        let lm = round(r.log_uniform(0.3, 5.0), 3);
        if lm > 1.0 {
            start = round(r.uniform(0.9, 1.0), 4);
        }
        let base = format!("single-{d:02}-clamp-lm{lm}-{hz}hz");
        for (tag, irms) in [("lo", amps(r.uniform(1.5, 3.0))), ("hi", amps(r.uniform(20.0, 45.0)))] {
            let note = format!("{irms} A resistive calibration record, clamp Lm {lm} H");
            v.push(case(format!("{base}-cal-{tag}"), "sine", hz, lm, format!("irms={irms}"), start, 2.05, note));
        }
        let note = format!("{note}, clamp Lm {lm} H");
        v.push(case(
            format!("{base}-burst-{a}a-1on{off}off"),
            "burst",
            hz,
            lm,
            format!("irms={a} on=1 off={off}"),
            start,
            3.3,
            note,
        ));
    }
    v
}

/// `x` rounded to `digits` decimals (so that the printed parameters are the simulated ones).
fn round(x: f64, digits: i32) -> f64 {
    let k = 10f64.powi(digits);
    (x * k).round() / k
}

/// Amps to 4 significant digits.
fn amps(x: f64) -> f64 {
    let digits = 3 - x.abs().log10().floor() as i32;
    round(x, digits.max(0))
}

fn list(v: &[f64]) -> String {
    v.iter().map(f64::to_string).collect::<Vec<_>>().join("/")
}

/// Alternating on/off instants (simulation time) from `from` until `until`: on for
/// `on_s()` seconds, off for `off_s()` seconds.
fn events(
    r: &mut Draw,
    from: f64,
    until: f64,
    on_s: impl Fn(&mut Draw) -> f64,
    off_s: impl Fn(&mut Draw) -> f64,
) -> (Vec<f64>, Vec<f64>) {
    let (mut on, mut off) = (Vec::new(), Vec::new());
    let mut t = from;
    while t < until {
        on.push(round(t, 4));
        t += on_s(r);
        if t >= until {
            break;
        }
        off.push(round(t, 4));
        t += off_s(r);
    }
    (on, off)
}

#[allow(clippy::too_many_arguments)]
fn case(
    name: String,
    kind: &'static str,
    hz: f64,
    lm_h: f64,
    params: String,
    start: f64,
    dur: f64,
    note: String,
) -> LoadCase {
    LoadCase { name, kind, hz, lm_h, params, record_start_s: start, duration_s: dur, note }
}

/// The household-kind parameters over `[start, end]` (simulation time); `long` for the
/// household record, else a short mixture.
fn household(r: &mut Draw, start: f64, end: f64, long: bool) -> (String, String) {
    let fridge_a = amps(r.log_uniform(0.5, 3.0));
    let phase = -round(r.uniform(20.0, 60.0), 1);
    let inrush = round(r.uniform(3.0, 8.0), 2);
    let tau = round(r.log_uniform(0.08, 0.25), 4);
    let period = if long { r.log_uniform(8.0, 25.0) } else { r.log_uniform(1.0, 4.0) };
    let duty = r.uniform(0.3, 0.6);
    let first = start + r.uniform(0.1, period.min(3.0));
    let (fon, foff) =
        events(r, first, end, |r| duty * period * r.uniform(0.8, 1.2), |r| (1.0 - duty) * period * r.uniform(0.8, 1.2));
    let kettle_a = amps(r.log_uniform(5.0, 13.0));
    let (mut kon, mut koff) = (Vec::new(), Vec::new());
    let boils = if long { 2 } else { 1 };
    let span = (end - start) / boils as f64;
    for b in 0..boils {
        let len = if long { r.uniform(5.0, 20.0) } else { r.uniform(1.0, 3.0) };
        let t = start + b as f64 * span + r.uniform(0.2, (span - len - 0.2).max(0.3));
        kon.push(round(t, 4));
        koff.push(round(t + len, 4));
    }
    let (mut smps_at, mut smps_a) = (Vec::new(), vec![amps(r.log_uniform(0.2, 3.0))]);
    let mut t = start;
    loop {
        t += if long { r.uniform(2.0, 6.0) } else { r.uniform(0.8, 2.5) };
        if t >= end {
            break;
        }
        smps_at.push(round(t, 4));
        smps_a.push(amps(r.log_uniform(0.2, 3.0)));
    }
    let heater_a = amps(r.log_uniform(2.0, 12.0));
    let (hc_on, hc_off) = (r.int(1, 5), r.int(1, 5));
    let (lo, hi) = if long { (3.0, 12.0) } else { (0.5, 2.0) };
    let hfirst = start + r.uniform(0.1, hi);
    let (hon, hoff) = events(r, hfirst, end, |r| r.uniform(lo, hi), |r| r.uniform(lo, hi));
    // The supply steps at least once (every 0.8-2.5 s of an 8 s record or longer).
    let off_or_after = |v: Vec<f64>| if v.is_empty() { vec![round(end + 1.0, 4)] } else { v };
    let params = format!(
        "fridge_a={fridge_a} fridge_phase={phase} fridge_inrush={inrush} fridge_tau={tau} fridge_on={} fridge_off={} \
         kettle_a={kettle_a} kettle_on={} kettle_off={} smps_a={} smps_at={} heater_a={heater_a} \
         heater_cycles={hc_on}/{hc_off} heater_on={} heater_off={}",
        list(&fon),
        list(&off_or_after(foff)),
        list(&kon),
        list(&koff),
        list(&smps_a),
        list(&smps_at),
        list(&hon),
        list(&off_or_after(hoff)),
    );
    let note = format!(
        "fridge {fridge_a} A (inrush {inrush}x, {} starts), kettle {kettle_a} A ({} boils), switch-mode supply \
         through {} levels, burst-fire heater {heater_a} A ({hc_on} on / {hc_off} off, {} starts)",
        fon.len(),
        kon.len(),
        smps_a.len(),
        hon.len()
    );
    (params, note)
}

/// The cases of draw `d`.
pub fn draw(seed: u64, d: usize) -> Vec<LoadCase> {
    let lm0 = ModelParams::default().lm_h;
    let slot = SLOTS[(d / 2) % SLOTS.len()];
    let mut r = Draw::new(seed, d);
    let hz = r.mains();
    let start = round(r.uniform(0.30, 0.45), 4);
    let name = |what: &str| format!("r{d:02}-{what}-{hz}hz");
    match slot {
        "burst" => {
            let a = amps(r.log_uniform(1.0, 20.0));
            let (on, off) = (r.int(1, 10), r.int(1, 10));
            vec![case(
                name(&format!("burst-{a}a-{on}on{off}off")),
                "burst",
                hz,
                lm0,
                format!("irms={a} on={on} off={off}"),
                start,
                3.3,
                format!("burst-fire heater, {a} A conducting, {on} cycles on / {off} off"),
            )]
        }
        "burst-irregular" => {
            let a = amps(r.log_uniform(1.0, 20.0));
            let runs: Vec<f64> = (0..6).map(|_| f64::from(r.int(1, 10))).collect();
            vec![case(
                name(&format!("burst-irregular-{a}a")),
                "burst-irregular",
                hz,
                lm0,
                format!("irms={a} runs={} until={}", list(&runs), round(start + 3.4, 4)),
                start,
                3.3,
                format!("burst-fire heater, {a} A conducting, irregular runs {}", list(&runs)),
            )]
        }
        "onoff" => {
            let inrush = round(r.uniform(2.0, 8.0), 2);
            let a = amps(r.log_uniform(0.5, 12.0).min(90.0 / inrush));
            let phase = -round(r.uniform(10.0, 60.0), 1);
            let tau = round(r.log_uniform(0.05, 0.3), 4);
            let period = r.log_uniform(0.5, 10.0);
            let duty = r.uniform(0.25, 0.75);
            let end = start + 6.0;
            let first = start + r.uniform(0.1, period.min(2.0));
            let (on, off) = events(
                &mut r,
                first,
                end,
                |r| duty * period * r.uniform(0.8, 1.2),
                |r| (1.0 - duty) * period * r.uniform(0.8, 1.2),
            );
            let off = if off.is_empty() { vec![round(end + 1.0, 4)] } else { off };
            vec![case(
                name(&format!("onoff-{a}a-{:.2}s", period)),
                "onoff",
                hz,
                lm0,
                format!("irms={a} phase={phase} inrush={inrush} tau={tau} on={} off={}", list(&on), list(&off)),
                start,
                6.0,
                format!(
                    "thermostatic motor {a} A running (lagging {}), {inrush}x inrush, tau {tau} s, period {period:.2} s, duty {duty:.2}",
                    -phase
                ),
            )]
        }
        "step-up" | "step-down" => {
            let (mut a, mut b);
            loop {
                a = amps(r.log_uniform(0.2, 60.0));
                b = amps(r.log_uniform(0.2, 60.0));
                if a.max(b) >= 1.5 * a.min(b) {
                    break;
                }
            }
            let (before, after) = if slot == "step-up" { (a.min(b), a.max(b)) } else { (a.max(b), a.min(b)) };
            let phase = round(r.uniform(-90.0, 90.0), 1);
            let at = round(start + r.uniform(1.0, 3.0), 5);
            vec![case(
                name(&format!("{slot}-{before}a-{after}a")),
                "step",
                hz,
                lm0,
                format!("before={before} after={after} at={at} phase={phase}"),
                start,
                4.0,
                format!(
                    "sine stepping {before} -> {after} A at {:.4} s into the record (carrier phase {phase})",
                    at - start
                ),
            )]
        }
        "dimmer" | "dimmer-trailing" => {
            let full = amps(r.log_uniform(0.5, 16.0));
            let deg = round(r.uniform(10.0, 170.0), 1);
            let (key, what) =
                if slot == "dimmer" { ("fire", "leading edge firing") } else { ("cut", "trailing edge cutting") };
            vec![case(
                name(&format!("{slot}{deg}-{full}afull")),
                if slot == "dimmer" { "dimmer" } else { "dimmer-trailing" },
                hz,
                lm0,
                format!("full={full} {key}={deg}"),
                start,
                2.6,
                format!("{what} at {deg} deg, resistive load of {full} A uncut"),
            )]
        }
        "smps" | "sine" => {
            let a = if slot == "smps" { amps(r.log_uniform(0.2, 10.0)) } else { amps(r.log_uniform(0.2, 95.0)) };
            vec![case(
                name(&format!("{slot}-{a}a")),
                if slot == "smps" { "smps" } else { "sine" },
                hz,
                lm0,
                format!("irms={a}"),
                start,
                2.6,
                format!("{a} A RMS {}", if slot == "smps" { "switch-mode supply" } else { "resistive load" }),
            )]
        }
        "mixture" | "household" => {
            let long = slot == "household";
            let dur = if long { HOUSEHOLD_S } else { 8.0 };
            let (params, note) = household(&mut r, start, start + dur, long);
            vec![case(name(slot), "household", hz, lm0, params, start, dur, note)]
        }
        "clamp" => {
            let lm = round(r.log_uniform(0.3, 5.0), 3);
            let start = if lm > 1.0 { round(r.uniform(0.9, 1.0), 4) } else { start };
            let lo = amps(r.uniform(1.5, 3.0));
            let hi = amps(r.uniform(20.0, 45.0));
            let full = amps(r.log_uniform(2.0, 15.0));
            let fire = round(r.uniform(30.0, 150.0), 1);
            let smps = amps(r.log_uniform(0.5, 8.0));
            let base = format!("r{d:02}-clamp-lm{lm}-{hz}hz");
            vec![
                case(
                    format!("{base}-cal-lo"),
                    "sine",
                    hz,
                    lm,
                    format!("irms={lo}"),
                    start,
                    2.05,
                    format!("{lo} A resistive calibration record, clamp Lm {lm} H"),
                ),
                case(
                    format!("{base}-cal-hi"),
                    "sine",
                    hz,
                    lm,
                    format!("irms={hi}"),
                    start,
                    2.05,
                    format!("{hi} A resistive calibration record, clamp Lm {lm} H"),
                ),
                case(
                    format!("{base}-dimmer{fire}"),
                    "dimmer",
                    hz,
                    lm,
                    format!("full={full} fire={fire}"),
                    start,
                    2.6,
                    format!("leading-edge dimmer at {fire} deg, {full} A uncut, clamp Lm {lm} H"),
                ),
                case(
                    format!("{base}-smps"),
                    "smps",
                    hz,
                    lm,
                    format!("irms={smps}"),
                    start,
                    2.6,
                    format!("{smps} A switch-mode supply, clamp Lm {lm} H"),
                ),
            ]
        }
        other => unreachable!("slot {other}"),
    }
}

/// Every case of draws `0..count`, with its half.
pub fn cases(seed: u64, count: usize) -> Vec<(Half, LoadCase)> {
    (0..count).flat_map(|d| draw(seed, d).into_iter().map(move |c| (Half::of_draw(d), c))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_reproducible_and_independent_of_the_count() {
        let a = cases(DEFAULT_SEED, 2 * SLOTS.len());
        let b = cases(DEFAULT_SEED, 2 * SLOTS.len() + 4);
        assert_eq!(
            a.len()
                + draw(DEFAULT_SEED, 30).len()
                + draw(DEFAULT_SEED, 31).len()
                + draw(DEFAULT_SEED, 32).len()
                + draw(DEFAULT_SEED, 33).len(),
            b.len()
        );
        for ((ha, ca), (hb, cb)) in a.iter().zip(&b) {
            assert_eq!(ha, hb);
            assert_eq!((&ca.name, &ca.params), (&cb.name, &cb.params));
        }
        assert_ne!(cases(DEFAULT_SEED + 1, 4)[0].1.params, a[0].1.params);
    }

    #[test]
    fn every_case_builds_within_its_ranges_and_stays_small() {
        let all = cases(DEFAULT_SEED, 2 * SLOTS.len());
        let mut names: Vec<&str> = all.iter().map(|c| c.1.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all.len());
        for half in [Half::Dev, Half::HeldOut] {
            let n = all.iter().filter(|c| c.0 == half).count();
            assert!(n >= 20, "{half:?}: {n} cases");
        }
        for (_, c) in &all {
            let s = c.stimulus().expect("builds");
            assert!((45.0..=65.0).contains(&c.hz), "{}", c.name);
            assert!((0.3..=5.0).contains(&c.lm_h), "{}", c.name);
            assert!(c.record_start_s * c.hz >= 10.0, "{}", c.name);
            let rms = s.mean_square(c.record_start_s, c.record_start_s + c.duration_s).sqrt();
            assert!(rms > 0.01, "{}: {rms}", c.name);
            // Every file stays a few MB: ~7.2 bytes per sample.
            assert!(c.duration_s * 8196.7 * 7.2 < 4.5e6, "{}", c.name);
        }
        let seconds: f64 = all.iter().map(|c| c.1.duration_s).sum();
        assert!(seconds * (603.5 + 8196.7) * 7.2 < 20e6, "{seconds} s of records");
    }

    /// The households sweep's records lie within a fifth of a hertz of 50 and 60 Hz, half
    /// each, build, settle ten cycles and hold current.
    #[test]
    fn households_are_at_the_grid_s_frequencies() {
        let h = households(20_261_220, 4);
        assert_eq!(h.len(), 4);
        for (d, c) in h.iter().enumerate() {
            let nominal = if d % 2 == 0 { 50.0 } else { 60.0 };
            assert!((c.hz - nominal).abs() <= 0.2, "{}", c.name);
            assert_eq!(c.duration_s, HOUSEHOLD_S);
            assert!(c.record_start_s * c.hz >= 10.0, "{}", c.name);
            let s = c.stimulus().expect("builds");
            assert!(s.mean_square(c.record_start_s, c.record_start_s + c.duration_s) > 0.01, "{}", c.name);
        }
        assert_ne!(households(20_261_221, 1)[0].params, h[0].params);
    }
}
