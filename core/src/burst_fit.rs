//! Single cycles switched on from rest (a burst-fire heater's), fitted sample by sample
//! through the clamp model, where twelve samples a cycle show no waveform.
//!
//! **Why.** On the 9600-baud link a burst-fire heater's single on-cycle is six samples of
//! half-wave and a few of the clamp's kick after it. Two things went wrong there that the fast
//! link does not suffer (the loads goldens' single-cycle bursts, `golden/ACCURACY.md`):
//! - *The mains frequency.* A burst's period of `P` cycles puts a spectral line at every
//!   multiple of `f / P`, and their harmonic series are as strong as the fundamental's
//!   ([`crate::mains_hz`]): 11.9 A one on, nine off at 50 Hz was read at 60.002 Hz, 17-23 %
//!   low; 5.07 A one on, four off, at 60 Hz, 17-22 % low.
//! - *The grid.* At the right frequency the same windows still read 8-11 % low: the crossing
//!   the whole window's fold gives lay 10-40 degrees off, and a start from rest seen by
//!   twelve samples a cycle places it no better ([`crate::segment::rise_crossing`], which
//!   the fast link uses).
//!
//! **How.** Under a hypothesis of mains frequency `f` and source crossing `x` (cycles from
//! sample 0), every start from rest (a first sample above the no-current level after a whole
//! cycle at or below it) belongs to the cycle that began at the crossing before it, and every
//! sample from just before the start to two cycles after it is the clamp's response to one
//! sine cycle of some RMS `A` from the magnetizing current of rest, then a cycle of none (marched by
//! [`CtModel::march_cycle`], its kick included). The starts fall at different phases of the
//! sampling, so together they show that response at many phases: the `A` and `x` that explain
//! the samples best (least squared code residual) are the fit, and its residual says how well
//! the hypothesis holds. At a wrong frequency the half-wave and the kick are the wrong time
//! apart (a tenth of a cycle or more for each neighbouring line of a burst of up to ten
//! cycles): on the loads goldens' four single-cycle bursts the residual was 0.5-1.1 codes at
//! the mains frequency and 18-88 codes at its neighbours, and `A` within 0.5 % of the truth.
//!
//! **Where not.** A window whose samples the fit does not explain in full (any other load,
//! cycles on back to back, a heater that is not resistive) is left to the other methods:
//! [`Burst::window`] checks every sample of the window against the fitted cycles.

use crate::clamp_model::{CtModel, March};
use crate::load_shape::{unit_shape, Shape};
use crate::segment::starts_from_rest;

/// Points per simulated cycle of the response.
const POINTS: usize = 64;

/// Fewest starts from rest a fit needs: two fix a crossing, an RMS and the frequency's drift
/// (a heater one cycle on and fifteen off at 45 Hz starts two or three times a second).
pub const STARTS: usize = 2;

/// Most RMS code residual with which a fit counts as explaining its samples
/// ([`Fit::misfit`], [`Burst::window`]): [`EXPLAINED_CODES`] and [`EXPLAINED_SHARE`] of the
/// half-wave's height above the no-current level. ADC rounding is 0.3 codes; the loads
/// goldens' single-cycle bursts through the model's clamp were fitted to 0.5-1.1 codes, one
/// of 6.4 A through a calibrated 0.903 H clamp at 9600 baud to 4.8 (the identified model is
/// not the clamp); the neighbouring lines of a burst's spectrum left 18 codes or more, a
/// tenth of the height or more.
pub const EXPLAINED_CODES: f64 = 3.0;
/// See [`EXPLAINED_CODES`].
pub const EXPLAINED_SHARE: f64 = 0.03;

/// A fitted hypothesis: single sine cycles from rest at a mains frequency.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fit {
    /// The mains frequency, Hz.
    pub hz: f64,
    /// The source's upward zero crossing, cycles from sample 0 (in `[0, 1)`).
    pub crossing: f64,
    /// RMS of each on-cycle, A, as the model's clamp reads it.
    pub amps: f64,
    /// Root mean square of the code residual over the samples fitted (around the starts).
    pub residual: f64,
    /// Starts from rest fitted.
    pub starts: usize,
    /// The highest sample fitted above the no-current level, codes.
    pub height: f64,
}

impl Fit {
    /// The residual over what a fit that explains its samples may leave ([`EXPLAINED_CODES`]):
    /// 1 or less where the model holds.
    pub fn misfit(&self) -> f64 {
        self.residual / explained(self.height)
    }
}

/// A window read by a fit ([`Burst::window`]): its mean square and how far its RMS may be
/// from the truth on either side.
///
/// **The bound.** The fit is accepted where the window's RMS code residual is within what a
/// fit may leave ([`EXPLAINED_CODES`]); so is the truth where the model holds (the loads
/// goldens' bursts through the model's clamp left 0.5-1.1 codes, ADC rounding 0.3). Every RMS
/// whose cycles, at the same crossing, leave more is refused by the samples: the truth lies
/// between the two RMS either side of the fit's where the residual reaches that allowance. The
/// mean squared residual is near a quadratic in the RMS's log distance from the fit's (a sum
/// of squares of codes about linear in the RMS), so one probe each side ([`PROBE`]) places
/// them. [`MODEL_SHARE`] is added for what the allowance does not hold of a clamp that is not
/// the model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Read {
    /// The window's mean square, A², as the model's clamp reads it.
    pub mean_square: f64,
    /// How far above its truth the RMS may be, relative to the truth.
    pub high: f64,
    /// How far below its truth the RMS may be, relative to the truth.
    pub low: f64,
}

/// How far (log of the RMS) from the fit's the residual is measured to place the bound's ends
/// ([`Read`]).
const PROBE: f64 = 0.05;

/// Added to the log distance of the bound's ends ([`Read`]): a clamp other than the model,
/// calibrated, was read by the fit within 0.5 % (`spicegen loads --sweep single-cycle-bursts`,
/// Lm 0.49-2 H); twice that.
pub const MODEL_SHARE: f64 = 0.01;

/// The most RMS code residual a fit of a half-wave `height` codes high may leave and count
/// as explaining its samples ([`EXPLAINED_CODES`]).
fn explained(height: f64) -> f64 {
    EXPLAINED_CODES + EXPLAINED_SHARE * height.max(0.0)
}

/// One window's codes, as a burst of single cycles from rest would be fitted to them.
pub struct Burst<'a> {
    model: &'a CtModel,
    /// The window's codes, every `keep`-th of them where there are more than [`FIT_RATE`] a
    /// second.
    codes: std::borrow::Cow<'a, [u16]>,
    rest: u16,
    /// The rate of `codes`.
    rate_hz: f64,
    /// The window's length in samples of `codes` (fractional where some were not kept).
    span: f64,
}

/// Samples a second, at most, a fit looks at: the fast link's 8196.7 are fitted at 1639 (33 a
/// cycle at 50 Hz, which show the half-wave and the kick; all of them cost five times as much
/// and show no more of either).
pub const FIT_RATE: f64 = 1400.0;

impl<'a> Burst<'a> {
    /// `codes` sampled at `rate_hz` (every `keep`-th kept where that is over [`FIT_RATE`]);
    /// `rest`, the highest code that shows no current. Crossings count from the first sample
    /// either way.
    pub fn new(model: &'a CtModel, codes: &'a [u16], rest: u16, rate_hz: f64) -> Self {
        let keep = ((rate_hz / FIT_RATE).floor() as usize).max(1);
        let span = codes.len() as f64 / keep as f64;
        let codes = if keep == 1 {
            std::borrow::Cow::Borrowed(codes)
        } else {
            std::borrow::Cow::Owned(codes.iter().step_by(keep).copied().collect())
        };
        Burst { model, codes, rest, rate_hz: rate_hz / keep as f64, span }
    }

    /// The fit at mains `hz`; `None` with fewer than [`STARTS`] starts from rest.
    pub fn fit(&self, hz: f64) -> Option<Fit> {
        let step = hz / self.rate_hz;
        let starts = starts_from_rest(&self.codes, self.rest, (self.rate_hz / hz).ceil() as usize);
        if starts.len() < STARTS || !self.single(&starts, step) {
            return None;
        }
        // The first sample above rest comes after the crossing, by the diodes' hidden current
        // (a fifth of a cycle at most, at a few amperes) and a sample spacing: the crossing is
        // searched over that much before the starts' mean phase.
        let (s, c) = starts.iter().fold((0.0, 0.0), |(s, c), &k| {
            let a = std::f64::consts::TAU * k as f64 * step;
            (s + a.sin(), c + a.cos())
        });
        let mean = (s.atan2(c) / std::f64::consts::TAU).rem_euclid(1.0);
        // The RMS from 0.2 A to 51 A.
        let first = self.search(hz, &starts, (mean - SEARCH + 2.0 * GRID, SEARCH), (0.2, 51.2));
        // A frequency a few hundredths of a hertz off (the spectrum's, over a second) moves the
        // starts' own crossings along the window: fitted again where they say it is, while
        // that keeps improving. Each start's crossing is searched within [`DRIFT_CYCLES`] of
        // the fit's, so a larger drift over the window is measured short (a candidate 0.225 Hz
        // off, at 59.954 Hz for 59.729, came within 0.1 Hz in one step).
        let mut fit = first;
        for _ in 0..DRIFT_STEPS {
            let Some(drift) = self.drift(&fit, &starts).filter(|d| d.abs() >= DRIFT_MIN_HZ) else { break };
            if (fit.hz + drift - hz).abs() > DRIFT_MAX_HZ {
                break;
            }
            let amps = (fit.amps / CARRIED_AMPS, fit.amps * CARRIED_AMPS);
            let next = self.search(fit.hz + drift, &starts, (fit.crossing - SEARCH / 2.0, SEARCH), amps);
            if next.residual >= fit.residual {
                break;
            }
            fit = next;
        }
        Some(fit)
    }

    /// How far (Hz) `fit`'s frequency is from the one its starts keep: each start's own
    /// crossing (its samples alone, at the fit's RMS), regressed on its time. At a frequency
    /// `delta` below the source's, a crossing `t` seconds into the window appears `delta t`
    /// cycles early. `None` with starts over less than a tenth of a second.
    fn drift(&self, fit: &Fit, starts: &[usize]) -> Option<f64> {
        let (first, last) = (*starts.first()?, *starts.last()?);
        if ((last - first) as f64) < 0.1 * self.rate_hz {
            return None;
        }
        let step = fit.hz / self.rate_hz;
        let resp = self.response(fit.amps, fit.hz, &mut March::default());
        let points: Vec<(f64, f64)> = starts
            .iter()
            .map(|&s| {
                let own = self.around(&[s], step);
                let (x, _) = best_crossing(&own, &resp, (fit.crossing - DRIFT_CYCLES, 2.0 * DRIFT_CYCLES));
                (s as f64 / self.rate_hz, (x - fit.crossing + 0.5).rem_euclid(1.0) - 0.5)
            })
            .collect();
        let n = points.len() as f64;
        let (mt, mx) = points.iter().fold((0.0, 0.0), |(a, b), &(t, x)| (a + t / n, b + x / n));
        let (sxy, sxx) =
            points.iter().fold((0.0, 0.0), |(a, b), &(t, x)| (a + (t - mt) * (x - mx), b + (t - mt) * (t - mt)));
        Some(-sxy / sxx)
    }

    /// The last window's fit `before` (its crossing counted from this window's first sample),
    /// fitted again to this window's starts near its crossing and RMS, at its frequency: what
    /// a heater that goes on bursting costs a window, and a window with fewer than [`STARTS`]
    /// starts of its own is read by. The crossing carried over a second moves by the
    /// frequency's error times the second (0.004 cycles for 0.003 Hz at 11.9 A, 12 codes at
    /// the half-wave's steepest), so it is searched again. A window with no start of its own
    /// (the end of a cycle that began in the window before, its kick, rest) is offered the
    /// carried fit as it was, for [`Burst::window`] to check.
    pub fn refit(&self, before: &Fit) -> Option<Fit> {
        let starts = starts_from_rest(&self.codes, self.rest, (self.rate_hz / before.hz).ceil() as usize);
        if starts.is_empty() {
            return Some(*before);
        }
        if !self.single(&starts, before.hz / self.rate_hz) {
            return None;
        }
        let amps = (before.amps / CARRIED_AMPS, before.amps * CARRIED_AMPS);
        Some(self.search(before.hz, &starts, (before.crossing - CARRIED_CYCLES, 2.0 * CARRIED_CYCLES), amps))
    }

    /// The RMS within `amps` (A, lowest and highest) and the crossing within `x` (cycles,
    /// from and over) that fit the samples around `starts` best: for each RMS the crossing on
    /// a grid ([`best_crossing`]); the RMS on a log grid of 17, then a golden section between
    /// the best point's neighbours (a carried fit's narrow range by the golden section alone).
    fn search(&self, hz: f64, starts: &[usize], x: (f64, f64), amps: (f64, f64)) -> Fit {
        let step = hz / self.rate_hz;
        let samples = self.around(starts, step);
        let mut march = March::default();
        let mut at = |a: f64| {
            let resp = self.response(a, hz, &mut march);
            best_crossing(&samples, &resp, x)
        };
        let (mut lo, mut hi) = (amps.0.ln(), amps.1.ln());
        // A wide range on a grid first (the residual has false minima there); a carried one's
        // (within [`CARRIED_AMPS`]) by the golden section alone.
        if hi - lo > 2.0 * CARRIED_AMPS.ln() + 1e-9 {
            let grid: Vec<f64> = (0..=16).map(|i| lo + (hi - lo) * i as f64 / 16.0).collect();
            let scores: Vec<f64> = grid.iter().map(|&a| at(a.exp()).1).collect();
            let i = (0..grid.len()).min_by(|&a, &b| scores[a].total_cmp(&scores[b])).unwrap_or(0);
            (lo, hi) = (grid[i.saturating_sub(1)], grid[(i + 1).min(grid.len() - 1)]);
        }
        let (ln_amps, _) = golden_min(|a| at(a.exp()).1, lo, hi, AMPS_TOL);
        let amps = ln_amps.exp();
        let (crossing, r) = at(amps);
        let height = samples.iter().fold(0.0f64, |h, p| h.max(p.code - self.zero()));
        Fit { hz, crossing, amps, residual: (r / samples.len().max(1) as f64).sqrt(), starts: starts.len(), height }
    }

    /// The window's mean square (A², as the model's clamp reads it), to its last sample, and
    /// how far the fit's RMS may be from the truth ([`Read`]), if `fit` explains every sample
    /// of the window: each start's cycle and, where the window opens on current, the cycle
    /// that began before it, at the fit's RMS, and nothing else, to within what a fit may
    /// leave ([`EXPLAINED_CODES`]). A cycle the window cuts counts for the part inside: the
    /// heater draws the same current in every cycle it is on, and whether it is on shows in
    /// the cycle's first samples.
    pub fn window(&self, fit: &Fit) -> Option<Read> {
        let span = self.span;
        let step = fit.hz / self.rate_hz;
        let cycle = self.rate_hz / fit.hz;
        let mut march = March::default();
        let resp = self.response(fit.amps, fit.hz, &mut march);
        let on = self.on_cycles(fit, &resp);
        // The window's mean squared residual at the RMS `resp` was marched at, the cycles and
        // crossing kept.
        let mean_sq = |resp: &[f64]| self.mean_square_residual(&on, resp, fit);
        let allowed = explained(fit.height).powi(2);
        let at_fit = mean_sq(&resp).filter(|&m| m <= allowed)?;
        // Each on-cycle's share of a sine cycle's energy inside the span: the integral of
        // 2 sin^2(2 pi u) over the cycle's part inside, in cycles, `u - sin(4 pi u) / 4 pi`.
        let integral = |u: f64| u - (2.0 * std::f64::consts::TAU * u).sin() / (2.0 * std::f64::consts::TAU);
        let end = span * step - fit.crossing;
        let energy: f64 = on
            .iter()
            .map(|&n| {
                let (a, b) = ((-fit.crossing - n).clamp(0.0, 1.0), (end - n).clamp(0.0, 1.0));
                if b > a {
                    integral(b) - integral(a)
                } else {
                    0.0
                }
            })
            .sum();
        // The RMS the samples allow: the window's mean squared residual grows about as the
        // square of the RMS's log distance from the fit's ([`Read`]), measured at
        // [`PROBE`] either side and extrapolated to where it reaches what a fit may leave.
        let mut reach = |sign: f64| {
            let probe = self.response(fit.amps * (sign * PROBE).exp(), fit.hz, &mut march);
            let rise = mean_sq(&probe).map_or(0.0, |m| m - at_fit);
            if rise > 0.0 {
                PROBE * ((allowed - at_fit) / rise).sqrt()
            } else {
                f64::INFINITY
            }
        };
        let (up, down) = (reach(1.0), reach(-1.0));
        Some(Read {
            mean_square: fit.amps * fit.amps * energy * cycle / span,
            high: (MODEL_SHARE + down).exp_m1(),
            low: -(-(MODEL_SHARE + up)).exp_m1(),
        })
    }

    /// The cycles (numbers from `fit`'s crossing) on in the window: each start's and, where
    /// the window opens on current, the cycle that began before it (or in its first samples,
    /// without a whole cycle at rest before it): whichever of the two cycles that can hold the
    /// first such sample explains the samples before the first start better (`resp`, the
    /// fit's response).
    fn on_cycles(&self, fit: &Fit, resp: &[f64]) -> Vec<f64> {
        let step = fit.hz / self.rate_hz;
        let starts = starts_from_rest(&self.codes, self.rest, (self.rate_hz / fit.hz).ceil() as usize);
        let mut on: Vec<f64> = starts.iter().map(|&s| (s as f64 * step - fit.crossing).floor()).collect();
        let first = starts.first().copied().unwrap_or(self.codes.len());
        if let Some(k) = self.codes[..first.saturating_sub(2)].iter().position(|&c| c > self.rest) {
            let n = (k as f64 * step - fit.crossing).floor();
            let cost = |n: f64| self.misfit(&[n], resp, fit, 0..first.saturating_sub(2)).0;
            on.insert(0, if cost(n - 1.0) < cost(n) { n - 1.0 } else { n });
        }
        on
    }

    /// The window's mean squared code residual against the cycles `on` at the response `resp`
    /// (where the data or the cycles show current); `None` where neither does anywhere.
    fn mean_square_residual(&self, on: &[f64], resp: &[f64], fit: &Fit) -> Option<f64> {
        let (sq, count) = self.misfit(on, resp, fit, 0..self.codes.len());
        (count > 0).then(|| sq / count as f64)
    }

    /// Squared code residual over the samples of `range` where the data or the cycles `on`
    /// (cycle numbers from the fit's crossing, in order) show current, and how many those are.
    fn misfit(&self, on: &[f64], resp: &[f64], fit: &Fit, range: std::ops::Range<usize>) -> (f64, usize) {
        let step = fit.hz / self.rate_hz;
        let zero = resp[resp.len() - 1];
        let (mut sq, mut count) = (0.0, 0usize);
        // `on` is in order and the samples are: the cycles that may hold a sample (those that
        // began less than two cycles before it) start at `first`, which only moves on.
        let mut first = 0;
        for k in range {
            let u = k as f64 * step - fit.crossing;
            while first < on.len() && u - on[first] >= 2.0 {
                first += 1;
            }
            let predicted = on[first..]
                .iter()
                .map(|&n| u - n)
                .take_while(|&tau| tau >= 0.0)
                .filter(|tau| (0.0..2.0).contains(tau))
                .map(|tau| at(resp, tau) - zero)
                .sum::<f64>()
                + zero;
            let code = f64::from(self.codes[k]);
            if code > f64::from(self.rest) || predicted > f64::from(self.rest) {
                sq += (code - predicted).powi(2);
                count += 1;
            }
        }
        (sq, count)
    }

    /// Whether every start's run looks like a single cycle, before anything is fitted (a
    /// burst of several cycles on, which the model here does not describe, costs nothing
    /// then): a second cycle on shows its negative half as the first does, at the diodes'
    /// floor, far below the no-current level, where a single cycle's kick holds the signal
    /// above it. Looked for 1.3 to 1.65 cycles after the start's first sample (its crossing
    /// is up to 0.3 cycles before that sample, so this is 1.3 to 1.95 cycles after it).
    fn single(&self, starts: &[usize], step: f64) -> bool {
        let floor = 0.5 * f64::from(self.rest);
        starts.iter().all(|&s| {
            let from = s + (1.3 / step).ceil() as usize;
            let to = (s + (1.65 / step).floor() as usize + 1).min(self.codes.len());
            self.codes.get(from..to).is_none_or(|run| run.iter().all(|&c| f64::from(c) >= floor))
        })
    }

    /// The samples a fit compares (at `step` cycles a sample): for each start from rest, from
    /// two samples before it to two cycles after it (not past the next start).
    fn around(&self, starts: &[usize], step: f64) -> Vec<Point> {
        let mut out = Vec::new();
        for (j, &s) in starts.iter().enumerate() {
            let end = starts.get(j + 1).copied().unwrap_or(self.codes.len()).min(s + (2.0 / step) as usize);
            out.extend((s.saturating_sub(2)..end).map(|k| Point {
                start: s as f64 * step,
                at: k as f64 * step,
                code: f64::from(self.codes[k]),
            }));
        }
        out
    }

    /// The model's no-current level, codes (unrounded).
    fn zero(&self) -> f64 {
        self.model.rest_state().0
    }

    /// The model clamp's codes (unrounded) for one sine cycle of RMS `amps` from rest and a
    /// cycle of none, at [`POINTS`] points a cycle, and the no-current level as a last point.
    ///
    /// From rest is not from no magnetizing current ([`CtModel::rest_state`]): started from
    /// none, the fits of the model's own bursts read 0.4-0.7 % high.
    fn response(&self, amps: f64, hz: f64, march: &mut March) -> Vec<f64> {
        let p = self.model.params();
        let lsb_per_v = f64::from(p.adc_full_scale) / p.adc_ref_v;
        let sine: Vec<f64> =
            (0..POINTS).map(|k| amps * unit_shape(Shape::Sine, k as f64 / POINTS as f64) / p.turns).collect();
        let mut out = Vec::with_capacity(2 * POINTS + 1);
        let im = self.model.march_cycle(&sine, hz, self.model.rest_state().1, march);
        out.extend(march.adc_v().iter().map(|v| v * lsb_per_v));
        self.model.march_cycle(&[0.0; POINTS], hz, im, march);
        out.extend(march.adc_v().iter().map(|v| v * lsb_per_v));
        out.push(self.zero());
        out
    }
}

/// `resp` (two cycles of [`POINTS`], then the no-current level) at `tau` cycles, linearly
/// interpolated; the no-current level outside the two cycles.
fn at(resp: &[f64], tau: f64) -> f64 {
    if !(0.0..2.0).contains(&tau) {
        return resp[resp.len() - 1];
    }
    let x = tau * POINTS as f64;
    let i = (x as usize).min(2 * POINTS - 1);
    let next = if i + 1 < 2 * POINTS { resp[i + 1] } else { resp[2 * POINTS] };
    resp[i] + (x - i as f64) * (next - resp[i])
}

/// A sample a fit compares: its start's phase and its own (cycles from sample 0), its code.
#[derive(Debug, Clone, Copy)]
struct Point {
    start: f64,
    at: f64,
    code: f64,
}

/// Squared residual of `samples` against `resp` for crossing `x`: each start's samples
/// against the cycle that began at the crossing before the start.
fn residual(samples: &[Point], resp: &[f64], x: f64) -> f64 {
    // The cycle is the same for a start's samples, which come together: found once a start.
    let mut last = (f64::NAN, 0.0);
    samples
        .iter()
        .map(|p| {
            if p.start != last.0 {
                last = (p.start, floor(p.start - x));
            }
            (p.code - at(resp, p.at - x - last.1)).powi(2)
        })
        .sum()
}

/// `v.floor()` without the C library's call that `floor` becomes on a target without SSE4.1
/// (a tenth of a fit's time): exact for `|v|` below 2^52.
fn floor(v: f64) -> f64 {
    let t = v as i64 as f64;
    if t > v {
        t - 1.0
    } else {
        t
    }
}

/// The crossing within `x` (from, over: cycles) that fits `resp` best, and its squared
/// residual: a grid of [`GRID`], then a golden section within a grid step either side of the
/// least point. (A parabola through the grid's least point and its neighbours left the
/// residual jagged in the RMS, and the RMS's search in a false minimum: a fast-link window
/// of 12 A one on, four off at 60 Hz fitted 2.2 % high, 2.2 codes off.)
fn best_crossing(samples: &[Point], resp: &[f64], x: (f64, f64)) -> (f64, f64) {
    let points = (x.1 / GRID).ceil() as usize;
    let x_of = |i: f64| (x.0 + i * GRID).rem_euclid(1.0);
    let r: Vec<f64> = (0..=points).map(|i| residual(samples, resp, x_of(i as f64))).collect();
    let Some((i, &best)) = r.iter().enumerate().min_by(|a, b| a.1.total_cmp(b.1)) else {
        return (x_of(0.0), f64::INFINITY);
    };
    let at = |u: f64| residual(samples, resp, x_of(u));
    let (u, r) = golden_min(at, i as f64 - 1.0, i as f64 + 1.0, 0.02);
    if r < best {
        (x_of(u), r)
    } else {
        (x_of(i as f64), best)
    }
}

/// The least point of `f` over `[lo, hi]` by golden section, to `tol`, and its value
/// ([`crate::estimate::golden_section_max`] of `-f`).
fn golden_min(mut f: impl FnMut(f64) -> f64, lo: f64, hi: f64, tol: f64) -> (f64, f64) {
    let u = crate::estimate::golden_section_max(|u| -f(u), lo, hi, tol);
    (u, f(u))
}

/// How far before the starts' mean phase the crossing is searched, cycles: the diodes hide up
/// to a fifth of a cycle of a small current's rise, the sampling adds up to a sample spacing
/// (0.083 cycles at 603.5 Sa/s), the starts scatter by as much about their mean.
const SEARCH: f64 = 0.4;
/// The crossing's search grid, cycles (3.6 degrees), each least point refined by a golden
/// section ([`best_crossing`]).
const GRID: f64 = 0.01;
/// How far (cycles) a carried crossing is searched either side ([`Burst::refit`]): a
/// frequency 0.02 Hz off moves it that much in a second.
const CARRIED_CYCLES: f64 = 0.02;
/// How far (factor) a carried RMS is searched either side ([`Burst::refit`]), or the first
/// fit's RMS at the frequency its starts keep ([`Burst::fit`]).
const CARRIED_AMPS: f64 = 1.1;
/// How far (cycles) each start's own crossing is searched from the fit's ([`Burst::drift`]).
const DRIFT_CYCLES: f64 = 0.1;
/// Least drift (Hz) the fit is done again for: 0.002 Hz moves a crossing 0.002 cycles in a
/// second, under a code at the half-wave's steepest below 10 A.
const DRIFT_MIN_HZ: f64 = 0.002;
/// Most drift (Hz) from the frequency asked for taken as the fit's: a spectrum over a second
/// placed a burst's line up to 0.225 Hz off (at the search's edge, 65 Hz, beside it); the
/// burst's next line is 2.8 Hz away or more.
const DRIFT_MAX_HZ: f64 = 0.4;
/// How closely (relative) the RMS is searched: a tenth of a changing reading's target.
const AMPS_TOL: f64 = 3e-3;
/// Fits again at the frequency the starts keep, at most ([`Burst::fit`]).
const DRIFT_STEPS: usize = 3;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clamp_model::records::burst_codes;

    const RATE: f64 = 603.5;

    fn rest() -> u16 {
        CtModel::builtin().zero_level().round() as u16 + crate::estimate::SQUELCH_CODES
    }

    /// The model's own burst (an independent march of the same clamp, `records::burst_codes`,
    /// 512 points a cycle, rounded to codes): the fit finds its RMS and its crossing (time 0
    /// is an upward zero crossing), and the mains frequency's neighbouring lines fit far worse.
    #[test]
    fn a_burst_of_single_cycles_is_fitted_at_its_own_frequency() {
        let model = CtModel::builtin();
        for (hz, amps, off) in [(50.0, 11.9, 9), (50.0, 5.07, 4), (60.0, 3.42, 5), (59.97, 7.7, 3), (50.0, 2.0, 6)] {
            let codes = burst_codes(hz, amps, 1, off, RATE, 1.0);
            let burst = Burst::new(model, &codes, rest(), RATE);
            let fit = burst.fit(hz).expect("starts from rest");
            assert!((fit.amps / amps - 1.0).abs() < 0.005, "{hz} Hz {amps} A: {fit:?}");
            let off_by = (fit.crossing + 0.5).rem_euclid(1.0) - 0.5;
            assert!(off_by.abs() < 0.01, "{hz} Hz {amps} A: {fit:?}");
            assert!(fit.residual < 1.0, "{fit:?}");
            let line = hz / (1 + off) as f64;
            for other in [hz - line, hz + line] {
                let worse = burst.fit(other).expect("the same starts");
                assert!(worse.residual > 5.0 * fit.residual.max(1.0), "{other} Hz: {worse:?} against {fit:?}");
            }
        }
    }

    /// A frequency a few hundredths of a hertz off, as the spectrum gives one over a second:
    /// the starts' own crossings drift along the window, and the fit is made again where they
    /// say; and a fit carried to a window with a single start of its own is fitted again there
    /// ([`Burst::refit`]), its crossing moved by the window's length.
    #[test]
    fn the_frequency_its_starts_keep_and_a_carried_fit() {
        let model = CtModel::builtin();
        let (hz, amps) = (49.915, 2.7);
        let codes = burst_codes(hz, amps, 1, 15, RATE, 2.0);
        for off in [-0.06, -0.03, 0.03, 0.06] {
            let fit = Burst::new(model, &codes, rest(), RATE).fit(hz + off).expect("starts from rest");
            assert!((fit.hz - hz).abs() < 0.004, "{off:+} Hz: {fit:?}");
            assert!((fit.amps / amps - 1.0).abs() < 0.005, "{off:+} Hz: {fit:?}");
        }
        // The first second fitted, the next 0.3 s (one start) fitted from it.
        let n = RATE as usize;
        let first = Burst::new(model, &codes[..n], rest(), RATE).fit(hz).expect("fits");
        let later = &codes[n..n + 181];
        let carried = Fit { crossing: (first.crossing - n as f64 * hz / RATE).rem_euclid(1.0), ..first };
        let burst = Burst::new(model, later, rest(), RATE);
        assert!(burst.fit(hz).is_none(), "a single start is too few for a fit of its own");
        let refit = burst.refit(&carried).expect("one start");
        let want = (-(n as f64) * hz / RATE).rem_euclid(1.0);
        let off_by = (refit.crossing - want + 0.5).rem_euclid(1.0) - 0.5;
        assert!(off_by.abs() < 0.01 && (refit.amps / amps - 1.0).abs() < 0.01, "{refit:?}, crossing {want}");
        assert!(burst.window(&refit).is_some());
    }

    /// The bound's ends are where the window's residual reaches what a fit may leave: marched
    /// again at each end's RMS (not extrapolated), the residual is that allowance to within a
    /// fifth; the truth lies between them; and they are a few times tighter than the 33-45 %
    /// the reconstructions' spread gave these windows.
    #[test]
    fn the_bound_ends_where_the_samples_are_no_longer_explained() {
        let model = CtModel::builtin();
        for (hz, amps, off) in [(50.0, 11.9, 9), (60.0, 3.42, 5), (50.0, 2.0, 6), (59.97, 25.0, 3)] {
            let codes = burst_codes(hz, amps, 1, off, RATE, 1.0);
            let burst = Burst::new(model, &codes, rest(), RATE);
            let fit = burst.fit(hz).expect("fits");
            let read = burst.window(&fit).expect("explained");
            let (down, up) = ((1.0 + read.high).ln() - MODEL_SHARE, -(1.0 - read.low).ln() - MODEL_SHARE);
            assert!(amps / fit.amps < (up + MODEL_SHARE).exp(), "{hz} Hz {amps} A: {read:?}, {fit:?}");
            assert!(amps / fit.amps > (-down - MODEL_SHARE).exp(), "{hz} Hz {amps} A: {read:?}, {fit:?}");
            assert!(read.high < 0.25 && read.low < 0.25, "{hz} Hz {amps} A: {read:?}");
            let resp = burst.response(fit.amps, hz, &mut March::default());
            let on = burst.on_cycles(&fit, &resp);
            let allowed = explained(fit.height).powi(2);
            for end in [fit.amps * up.exp(), fit.amps * (-down).exp()] {
                let resp = burst.response(end, hz, &mut March::default());
                let m = burst.mean_square_residual(&on, &resp, &fit).expect("samples");
                assert!((m / allowed - 1.0).abs() < 0.2, "{hz} Hz {amps} A at {end} A: {m} against {allowed}");
            }
        }
    }

    /// The window's mean square: the on-cycles' energy over the span, to within the fit's 1 %;
    /// and a window with current the fitted cycles do not explain (a second load on all the
    /// time) is refused.
    #[test]
    fn the_window_is_read_only_where_every_sample_is_explained() {
        let model = CtModel::builtin();
        let (hz, amps, off) = (50.0, 8.0, 4);
        let codes = burst_codes(hz, amps, 1, off, RATE, 1.0);
        let burst = Burst::new(model, &codes, rest(), RATE);
        let fit = burst.fit(hz).expect("fits");
        let ms = burst.window(&fit).expect("explained").mean_square;
        // Ten on-cycles in fifty: a fifth of the time at `amps`.
        let want = amps * amps / (1 + off) as f64;
        assert!((ms / want - 1.0).abs() < 0.02, "{ms} against {want}");
        let mut other = codes.clone();
        for (k, c) in other.iter_mut().enumerate() {
            if k % 12 < 4 {
                *c += 40;
            }
        }
        let noisy = Burst::new(model, &other, rest(), RATE);
        assert!(noisy.fit(hz).is_none_or(|f| noisy.window(&f).is_none()));
    }
}
