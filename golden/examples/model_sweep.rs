//! The default method over broad sweeps of loads through the clamp model, whose truth is
//! known analytically (`ct_core::clamp_model::records`: the clamp marched forwards, never
//! inverted): each reading judged as the accuracy report judges one, within its target, or
//! outside it within the bound it states on its side, or **broken**; a reading flagged
//! `short` (a stream's last window, under ten cycles) states no accuracy, and one outside its
//! target is counted apart, as the loads goldens count it.
//!
//! - `steady`: leading-edge dimmers firing at 10-170 degrees and trailing-edge ones
//!   conducting 10-170 degrees of each half-cycle (steps of 10), and the switch-mode supply
//!   shape; 0.7, 2.5, 9 and 35 A uncut; 47.3, 50, 53.7, 59.9 and 63.4 Hz; 3 s each, every
//!   reading after the first (which begins from nothing known). Target: the usual one for
//!   the RMS (2 % for a distorted waveform from 0.5 A).
//! - `bursts`: burst-fire heaters of eleven on/off patterns (1/1 to 7/2 and 4/11 cycles), 0.7,
//!   3, 12 and 35 A, at 47.3, 53.7, 59.9 and 63.4 Hz, 5.3 s each (the last reading a partial
//!   window), every reading, its truth over its own samples. Target: at least 3 % where the
//!   reading says the load changed.
//! - `starts`: a motor started from rest (a fridge's compressor), 0.5, 2 and 8 A running,
//!   lagging 35 degrees, its inrush three or seven times that decaying over 0.06 or 0.2 s,
//!   alone or beside a steady 1.5 A (resistive, or a switch-mode supply), at 49.7 and
//!   60.2 Hz, started 0.03, 0.5, 0.93 and 0.985 of the way into the second window (the last
//!   two: its first 3.5 cycles, and its first three quarters of a cycle, the window's last);
//!   3.2 s each, every reading, its truth over its own samples. Target: at least 3 % where
//!   the reading says the load changed.
//!
//! Both at 603.5 and 8196.7 Sa/s, with the mains frequency the readings report against the
//! stimulus's. `cargo run -p ct-golden --release --example model_sweep [steady|bursts|starts]`
//! (all by default, several minutes; `MISSES=1` lists every reading outside its target,
//! `RATE=603.5` or `RATE=8196.7` sweeps at that rate only; `CASE=text`, only the bursts
//! and starts whose name holds `text`, for taking one apart);
//! exits 1 if a bound was broken.

use ct_core::bound::usual_target;
use ct_core::calibration::Calibration;
use ct_core::clamp_model::records::{
    burst_codes, burst_mean_square, cycle_rms, marched_codes, marched_mean_square, steady_codes,
};
use ct_core::estimate::{Estimator, EstimatorConfig, Reading};
use ct_core::load_shape::{leading_edge, trailing_edge, unit_shape, Shape};
use std::f64::consts::SQRT_2;

const RATES: [(&str, f64); 2] = [("603.5", 1e6 / 1657.0), ("8196.7", 1e6 / 122.0)];

/// Readings judged: all, within target, outside it within the bound stated (each listed
/// where `MISSES=1` is set), each broken; and the mains frequency they report against the
/// stimulus's.
#[derive(Default)]
struct Tally {
    readings: usize,
    meets: usize,
    bounded: Vec<String>,
    /// Outside target and flagged `short` (a stream's last window, under ten cycles): no
    /// accuracy is stated for such a reading, as the loads goldens do not judge one either.
    short: Vec<String>,
    broken: Vec<String>,
    /// Readings reporting a frequency, and how many of those within [`HZ_NEAR`].
    hz_reported: usize,
    hz_near: usize,
    /// The furthest reported frequency from the stimulus's, Hz, and its reading.
    hz_worst: (f64, String),
}

/// How near the stimulus's frequency a reported one counts as right, Hz.
const HZ_NEAR: f64 = 0.05;

impl Tally {
    /// Judges reading `r` of truth `truth` A against `target` (a fraction), and the frequency
    /// it reports against `hz`.
    fn judge(&mut self, r: &Reading, truth: f64, target: f64, hz: f64, what: String) {
        let err = r.irms_a / truth - 1.0;
        self.readings += 1;
        let said = || {
            format!(
                "{what}: {:+.2} % at {}, bound on that side {}, flags {}",
                100.0 * err,
                r.hz.map_or("no frequency".to_string(), |f| format!("{f:.3} Hz")),
                r.bound_on_side(err).map_or("none".to_string(), |b| format!("{:.1} %", 100.0 * b)),
                r.flags.to_text()
            )
        };
        if err.abs() <= target {
            self.meets += 1;
        } else if r.bound_on_side(err).is_some_and(|b| err.abs() <= b) {
            self.bounded.push(said());
        } else if r.flags.short {
            self.short.push(said());
        } else {
            self.broken.push(said());
        }
        if let Some(f) = r.hz {
            self.hz_reported += 1;
            self.hz_near += usize::from((f - hz).abs() <= HZ_NEAR);
            if (f - hz).abs() > self.hz_worst.0.abs() {
                self.hz_worst = (f - hz, what);
            }
        }
    }

    /// Judges every reading of `codes` at `rate` (the last, partial window's too) against the
    /// RMS of `mean_square` (A²) over its own samples: the usual target, at least 3 % where the
    /// reading says the load changed; `what(i)` names reading `i`.
    fn judge_changing(
        &mut self,
        codes: &[u16],
        rate: f64,
        hz: f64,
        mean_square: impl Fn(std::ops::Range<usize>) -> f64,
        what: impl Fn(usize) -> String,
    ) {
        if std::env::var("CASE").is_ok_and(|c| !what(0).contains(&c)) {
            return;
        }
        let mut from = 0;
        for (i, r) in readings(codes, rate, true).iter().enumerate() {
            let span = from..(from + r.samples).min(codes.len());
            from = span.end;
            let truth = mean_square(span).sqrt();
            let Some(target) = usual_target(truth) else { continue };
            let target = if r.flags.changing { target.max(0.03) } else { target };
            self.judge(r, truth, target, hz, what(i));
        }
    }

    fn print(&self, sweep: &str, rate: &str) {
        println!(
            "{sweep} at {rate} Sa/s: {} readings, {} within target, {} outside it within their bound, {} outside it \
             flagged short (no accuracy stated), {} broken; frequency reported by {}, {} within {HZ_NEAR} Hz, the \
             furthest {:+.3} Hz ({})",
            self.readings,
            self.meets,
            self.bounded.len(),
            self.short.len(),
            self.broken.len(),
            self.hz_reported,
            self.hz_near,
            self.hz_worst.0,
            self.hz_worst.1
        );
        if std::env::var_os("MISSES").is_some() {
            for b in &self.bounded {
                println!("  outside target, within bound: {b}");
            }
            for b in &self.short {
                println!("  outside target, short: {b}");
            }
        }
        for b in &self.broken {
            println!("  BROKEN {b}");
        }
    }
}

fn readings(codes: &[u16], rate: f64, flush: bool) -> Vec<Reading> {
    let mut est = Estimator::new(&Calibration::builtin(), rate, EstimatorConfig::default());
    let mut out = Vec::new();
    est.push(0.0, codes, &mut |r| out.push(r));
    if flush {
        est.flush(&mut |r| out.push(r));
    }
    out
}

fn steady(rate: f64) -> Tally {
    let mut tally = Tally::default();
    for hz in [47.3, 50.0, 53.7, 59.9, 63.4] {
        for full in [0.7, 2.5, 9.0, 35.0] {
            let shapes = (1..18).flat_map(|i| [("leading", 10.0 * f64::from(i)), ("trailing", 10.0 * f64::from(i))]);
            for (kind, deg) in shapes.chain([("smps", 0.0)]) {
                let wave = |p: f64| match kind {
                    "leading" => full * SQRT_2 * leading_edge(deg, p),
                    "trailing" => full * SQRT_2 * trailing_edge(deg, p),
                    _ => full * unit_shape(Shape::Smps, p),
                };
                let truth = cycle_rms(wave);
                let Some(target) = usual_target(truth) else { continue };
                let codes = steady_codes(wave, hz, rate, 3.0 + 2.0 / rate);
                for (i, r) in readings(&codes, rate, false).iter().enumerate().skip(1) {
                    let what = if kind == "smps" {
                        "the switch-mode shape".to_string()
                    } else {
                        format!("{kind} edge at {deg} deg")
                    };
                    tally.judge(r, truth, target, hz, format!("{hz} Hz, {full} A uncut, {what}, reading {i}"));
                }
            }
        }
    }
    tally
}

fn bursts(rate: f64) -> Tally {
    let mut tally = Tally::default();
    let patterns = [(1, 1), (1, 3), (1, 7), (2, 2), (2, 5), (2, 9), (3, 1), (3, 4), (5, 3), (7, 2), (4, 11)];
    for (on, off) in patterns {
        for hz in [47.3, 53.7, 59.9, 63.4] {
            for amps in [0.7, 3.0, 12.0, 35.0] {
                let codes = burst_codes(hz, amps, on, off, rate, 5.3);
                // The sine's on-cycles at the reading's own samples.
                let truth = |span| burst_mean_square(hz, amps, on, off, rate, span);
                tally.judge_changing(&codes, rate, hz, truth, |i| {
                    format!("{on} on, {off} off, {hz} Hz, {amps} A, reading {i}")
                });
            }
        }
    }
    tally
}

/// A motor starting from rest (a fridge's compressor, a pump): running `amps` RMS lagging
/// [`START_LAG_DEG`], its envelope `1 + (inrush - 1) exp(-t / tau)` from the instant `on` s,
/// beside a steady load drawing `beside(phase)` A; the primary current at cycle `c`, `phase`.
fn motor_start(
    hz: f64,
    amps: f64,
    inrush: f64,
    tau: f64,
    on: f64,
    beside: impl Fn(f64) -> f64,
) -> impl Fn(usize, f64) -> f64 {
    move |c, phase| {
        let t = (c as f64 + phase) / hz;
        let lag = START_LAG_DEG.to_radians();
        let motor = if t < on { 0.0 } else { amps * (1.0 + (inrush - 1.0) * (-(t - on) / tau).exp()) };
        SQRT_2 * motor * (std::f64::consts::TAU * phase - lag).sin() + beside(phase)
    }
}

/// The steady loads a motor starts beside: nothing, 1.5 A resistive, and a 1.5 A switch-mode
/// supply (its narrow pulses, caught and missed by twelve samples a cycle, are what a switch
/// in a window's edge cycle must not be confused with at 9600 baud).
#[derive(Clone, Copy)]
enum Beside {
    Nothing,
    Resistive,
    SwitchMode,
}

impl Beside {
    const ALL: [Beside; 3] = [Beside::Nothing, Beside::Resistive, Beside::SwitchMode];

    /// How a reading names it.
    fn label(self) -> &'static str {
        match self {
            Beside::Nothing => "0 A",
            Beside::Resistive => "1.5 A",
            Beside::SwitchMode => "1.5 A switch-mode",
        }
    }

    /// Its current at `phase`, A.
    fn current(self, phase: f64) -> f64 {
        match self {
            Beside::Nothing => 0.0,
            Beside::Resistive => 1.5 * SQRT_2 * (std::f64::consts::TAU * phase).sin(),
            Beside::SwitchMode => 1.5 * unit_shape(Shape::Smps, phase),
        }
    }
}

/// The running motor's lag, degrees (a compressor's, between the randomized sets' 10-60).
const START_LAG_DEG: f64 = 35.0;

fn starts(rate: f64) -> Tally {
    let mut tally = Tally::default();
    for hz in [49.7, 60.2] {
        for amps in [0.5, 2.0, 8.0] {
            for (inrush, tau) in [(3.0, 0.06), (3.0, 0.2), (7.0, 0.06), (7.0, 0.2)] {
                // Where in the window (1 s) the motor starts: early, mid-window, and in its last
                // few cycles, where the window holds only the inrush's first cycles.
                for into in [0.03, 0.5, 0.93, 0.985] {
                    for beside in Beside::ALL {
                        let current = motor_start(hz, amps, inrush, tau, 1.0 + into, |p| beside.current(p));
                        let codes = marched_codes(hz, &current, rate, 3.2);
                        let truth = |span| marched_mean_square(hz, &current, rate, span);
                        tally.judge_changing(&codes, rate, hz, truth, |i| {
                            format!("{amps} A x{inrush} tau {tau} s on at {into} of window 1 beside {}, {hz} Hz, reading {i}", beside.label())
                        });
                    }
                }
            }
        }
    }
    tally
}

fn main() {
    let which = std::env::args().nth(1);
    let mut broken = 0;
    for (name, sweep) in [("steady", steady as fn(f64) -> Tally), ("bursts", bursts), ("starts", starts)] {
        if which.as_deref().is_some_and(|w| w != name) {
            continue;
        }
        for (label, rate) in RATES {
            if std::env::var("RATE").is_ok_and(|r| r != label) {
                continue;
            }
            let tally = sweep(rate);
            tally.print(name, label);
            broken += tally.broken.len();
        }
    }
    if broken > 0 {
        std::process::exit(1);
    }
}
