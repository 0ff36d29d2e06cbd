//! Single cycles switched on from rest (a burst-fire heater's), or one in every few cycles,
//! fitted sample by sample through the clamp model, where twelve samples a cycle show no
//! waveform.
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
//! **Runs in every few.** A heater on one cycle in two (half power) rests less than a cycle
//! between on-cycles, and the clamp's kick after each still decays when the next begins (at
//! 16 A for most of the off-cycle): no start from rest. Burst controllers also switch runs of
//! cycles (two on, two off; three on, one off), where the first cycle of a run starts from
//! the kick of the last and the classes' one mean square per level blurs them. Where the
//! window's level classes show `on` cycles in every `P` (2 to 16) throughout
//! ([`crate::segment::Classes::on_every`]), the hypothesis is `on` sine cycles and `P - on`
//! of none repeated for ever, marched through the model from its periodic state
//! ([`Burst::fit_periodic`]); every sample of the window is compared at once, the crossing
//! searched over the whole period where it is short (the classes' grid put a one-on, one-off
//! heater's 0.6 cycles off at 9600 baud). The loads goldens' two such heaters were read 1-1.9 %
//! off in energy by the classes (one window 5.75 % low) and within 0.4 % so
//! (`golden/FRESH_SETS.md`); model_sweep's two-on, two-off and three-on, one-off heaters at
//! 47.3 Hz, 603.5 Sa/s, 13-30 % low by the classes, within 0.6 %. Two quick refusals keep the
//! cost down where the hypothesis is plainly wrong: `Burst::rests_between` (a run pattern with two
//! or more cycles off needs half-cycles at rest between runs) and `PROMISING` (after the
//! coarse crossing grid, a best residual far beyond [`EXPLAINED_CODES`]).
//!
//! **Where not.** A window whose samples the fit does not explain in full (any other load,
//! cycles on back to back, a heater that is not resistive) is left to the other methods:
//! [`Burst::window`] and [`Burst::window_periodic`] check every sample of the window against
//! the fitted cycles.

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

/// A fitted hypothesis: runs of `on` sine cycles that recur one run in every `period` cycles,
/// each from where the last one's kick left the clamp ([`Burst::fit_periodic`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PeriodicFit {
    /// The mains frequency, Hz.
    pub hz: f64,
    /// The source's upward zero crossing that begins a run of on-cycles, cycles from sample 0
    /// (in `[0, period)`).
    pub crossing: f64,
    /// RMS of each on-cycle, A, as the model's clamp reads it.
    pub amps: f64,
    /// Cycles on in a row at the start of each period.
    pub on: usize,
    /// Cycles from one run's start to the next.
    pub period: usize,
    /// Root mean square of the code residual over the window's samples that show current.
    pub residual: f64,
    /// The highest sample above the no-current level, codes.
    pub height: f64,
}

impl PeriodicFit {
    /// The residual over what a fit that explains its samples may leave, as [`Fit::misfit`].
    pub fn misfit(&self) -> f64 {
        self.residual / explained(self.height)
    }
}

/// A fit carried from one window to the next, its crossing counted from the next window's
/// first sample ([`Burst::refit`], [`Burst::refit_periodic`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Carried {
    Single(Fit),
    Periodic(PeriodicFit),
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
/// of squares of codes about linear in the RMS), so one probe each side (`PROBE`) places
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
        let ln_amps = least_ln_amps(|a| at(a.exp()).1, (amps.0.ln(), amps.1.ln()), 16);
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
        let energy = on_energy(on.iter().copied(), -fit.crossing, span * step - fit.crossing);
        let mean_square = fit.amps * fit.amps * energy * cycle / span;
        Some(bounded(mean_square, at_fit, allowed, |sign| {
            mean_sq(&self.response(fit.amps * (sign * PROBE).exp(), fit.hz, &mut march))
        }))
    }

    /// Runs of `on` sine cycles that recur one run in every `period` cycles, fitted to every
    /// sample of the window (see the module's doc): near `crossing` (a run's start, cycles
    /// from sample 0) and `amps` (RMS while on, A), as the window's classes placed them.
    /// `None` where nothing can be fitted (no samples, no cycle off, no guess).
    pub fn fit_periodic(&self, hz: f64, on: usize, period: usize, crossing: f64, amps: f64) -> Option<PeriodicFit> {
        if on == 0 || on >= period || amps.is_nan() || amps <= 0.0 || !self.rests_between(hz, on, period) {
            return None;
        }
        let step = hz / self.rate_hz;
        let p = period as f64;
        // The crossing on a coarse grid over the whole period where that is short, else over
        // [`PERIODIC_SEARCH`] either side of the classes' (their grid, from twelve samples a
        // cycle, put a one-on, one-off heater's 0.6 cycles off and a two-on, nine-off
        // heater's 0.67), each at the response's best scale, that at the guessed RMS scaled
        // (one march; the clamp's response is near proportional to the current over the
        // factor of two searched).
        let reach = if period <= PERIODIC_WHOLE { p / 2.0 } else { PERIODIC_SEARCH };
        let resp = self.periodic_response(amps, hz, on, period, &mut March::default());
        let coarse = (self.codes.len() / COARSE_SAMPLES).max(1);
        let points = (2.0 * reach / COARSE).ceil() as usize;
        let x_of = |i: usize| crossing - reach + i as f64 * COARSE;
        let (x0, best) = (0..=points)
            .map(|i| (x_of(i), self.scaled_score(&resp, step, x_of(i), coarse)))
            .min_by(|a, b| a.1.total_cmp(&b.1))?;
        // A hypothesis whose best there leaves more than [`PROMISING`] times what a fit may
        // leave is not searched further (see there).
        if best > PROMISING * explained(self.height()).powi(2) {
            return None;
        }
        // Then the RMS over a factor of two either side of the guess: the table reads a single
        // cycle's RMS 16-26 % low, its kick read as current.
        Some(self.search_periodic(hz, on, period, x0, ((amps / 2.0).ln(), (amps * 2.0).ln())))
    }

    /// How well runs of cycles in every few explain the window at mains frequency `hz`
    /// ([`PeriodicFit::misfit`], 1 or less where they do): the first of the patterns its
    /// cycles show at `hz` ([`crate::segment::Classes::on_every`]; the cycles cut from its
    /// first sample, their levels the table currents `table` gives each code) whose fit explains
    /// every sample; `None` where none does. What [`crate::mains_hz`] judges frequencies the
    /// spectrum cannot tell apart by where single cycles from rest ([`Burst::fit`]) explain
    /// nothing: a run of `K` cycles in every `P` puts lines every `f / P` nearly as strong as
    /// the mains's (two on, nine off: the next 4 % weaker), and at 9600 baud, where no
    /// half-wave can be timed, such a heater at 47.3 Hz was read at 51.6 Hz, 4-33 % low.
    pub fn periodic_misfit_at(&self, hz: f64, table: &[f32]) -> Option<f64> {
        let top = table.len().checked_sub(1)?;
        let amps: Vec<f32> = self.codes.iter().map(|&c| table[usize::from(c).min(top)]).collect();
        let cycles = crate::segment::Cycles::new(amps.len(), hz / self.rate_hz, 0.0);
        crate::segment::classify(&amps, &cycles).on_every().into_iter().find_map(|o| {
            let fit = self.fit_periodic(hz, o.on, o.period, o.first as f64, (2.0 * o.mean_square).sqrt())?;
            self.window_periodic(&fit).map(|_| fit.misfit())
        })
    }

    /// Whether the window rests as often as runs of `on` cycles in every `period` would leave
    /// it at rest: of its stretches of half a cycle (from its first sample, wherever the
    /// cycles begin), `2 (period - on) - 3` in every whole `period` show no current beyond
    /// what a fit may leave ([`EXPLAINED_CODES`]), but one (a run's kick takes the cycle
    /// after it, and a stretch may straddle a half-cycle's start). On the 9600-baud link
    /// another load's narrow pulse is missed by some cycles' twelve samples, so none is let
    /// off. Looked at before anything is marched: another load on beside the heater shows in
    /// every half-cycle, and the fit, which describes nothing else on, would be refused after
    /// all its marches (the loads goldens' household, a heater two on, three off beside a
    /// supply and a fridge: offered every window as two on, three off, and as three on, two
    /// off, its first cycle read low; each refused every time, 2-2.5 ms a window where the
    /// marches were made). True where no rest is to be expected (three on, one off).
    fn rests_between(&self, hz: f64, on: usize, period: usize) -> bool {
        let Some(quiet_each) = (2 * period).checked_sub(2 * on + 3).filter(|&q| q > 0) else {
            return !self.codes.is_empty();
        };
        let half = self.rate_hz / hz / 2.0;
        let loud = f64::from(self.rest) + explained(self.height());
        let stretches = (self.codes.len() as f64 / half).floor() as usize;
        let quiet = (0..stretches)
            .filter(|&i| {
                let (from, to) = ((i as f64 * half) as usize, ((i + 1) as f64 * half) as usize);
                self.codes[from..to.min(self.codes.len())].iter().all(|&c| f64::from(c) <= loud)
            })
            .count();
        quiet + 1 >= quiet_each * (stretches / (2 * period))
    }

    /// The last window's periodic fit `before` (its crossing counted from this window's first
    /// sample), fitted again near its crossing and RMS: what a heater that goes on bursting
    /// costs a window after its first.
    ///
    /// Near a fit, the RMS and the crossing hardly trade off (a half-wave scaled or moved), so
    /// each is searched at the other's last value, in turn: the crossing at the carried RMS,
    /// the RMS at that crossing, the crossing again (a fifth of the evaluations of
    /// `Burst::search_periodic`, which searches the crossing for every RMS it tries).
    pub fn refit_periodic(&self, before: &PeriodicFit) -> PeriodicFit {
        let (hz, on, period) = (before.hz, before.on, before.period);
        let step = hz / self.rate_hz;
        let mut march = March::default();
        let resp = self.periodic_response(before.amps, hz, on, period, &mut march);
        let x = self.best_periodic_crossing(&resp, step, before.crossing).0;
        let near = CARRIED_AMPS.ln();
        let ln_amps = before.amps.ln();
        let score_at =
            |a: f64| self.periodic_score(&self.periodic_response(a.exp(), hz, on, period, &mut march), step, x);
        let ln_amps = least_ln_amps(score_at, (ln_amps - near, ln_amps + near), 8);
        let resp = self.periodic_response(ln_amps.exp(), hz, on, period, &mut march);
        let (x, residual) = self.best_periodic_crossing(&resp, step, x);
        self.periodic_fit(hz, on, period, x, ln_amps.exp(), residual)
    }

    /// The crossing within [`COARSE`] of `x0` that fits `resp` best, and its mean squared
    /// residual: a grid of [`GRID`], then a golden section within a grid step either side of
    /// its least point.
    fn best_periodic_crossing(&self, resp: &[f64], step: f64, x0: f64) -> (f64, f64) {
        let x_of = |i: f64| x0 - COARSE + i * GRID;
        let points = (2.0 * COARSE / GRID).ceil() as usize;
        let (u, r) = least_on_grid(points, 0.05, |u| self.periodic_score(resp, step, x_of(u)));
        (x_of(u), r)
    }

    /// A [`PeriodicFit`] of what was found, its residual a mean square.
    fn periodic_fit(&self, hz: f64, on: usize, period: usize, x: f64, amps: f64, residual: f64) -> PeriodicFit {
        let height = self.height();
        PeriodicFit { hz, crossing: x.rem_euclid(period as f64), amps, on, period, residual: residual.sqrt(), height }
    }

    /// The RMS within `ln_amps` (logs of the lowest and highest, A) and for each the crossing
    /// within [`COARSE`] of `x0` (cycles from sample 0) that fit every sample best, as
    /// [`Burst::search`] does: the RMS on a log grid of 9, then a golden section between the
    /// best point's neighbours ([`Burst::best_periodic_crossing`] for each).
    fn search_periodic(&self, hz: f64, on: usize, period: usize, x0: f64, ln_amps: (f64, f64)) -> PeriodicFit {
        let step = hz / self.rate_hz;
        let mut march = March::default();
        let mut at = |ln_amps: f64| {
            let resp = self.periodic_response(ln_amps.exp(), hz, on, period, &mut march);
            self.best_periodic_crossing(&resp, step, x0)
        };
        let ln_amps = least_ln_amps(|a| at(a).1, ln_amps, 8);
        let (x, residual) = at(ln_amps);
        self.periodic_fit(hz, on, period, x, ln_amps.exp(), residual)
    }

    /// [`Burst::periodic_misfit`] as a mean square (infinite where no sample shows current),
    /// at a crossing `x` anywhere.
    fn periodic_score(&self, resp: &[f64], step: f64, x: f64) -> f64 {
        let (sq, count) = self.periodic_misfit(resp, step, x.rem_euclid(((resp.len() - 1) / POINTS) as f64));
        if count == 0 {
            f64::INFINITY
        } else {
            sq / count as f64
        }
    }

    /// [`Burst::periodic_score`] with the response's excursion from the no-current level
    /// scaled as fits best (by a half to two), over every `stride`-th sample.
    fn scaled_score(&self, resp: &[f64], step: f64, x: f64, stride: usize) -> f64 {
        let (mut de, mut ee, mut dd, mut count) = (0.0, 0.0, 0.0, 0usize);
        for (d, e) in self.showing_current(resp, step, x, stride) {
            (de, ee, dd, count) = (de + d * e, ee + e * e, dd + d * d, count + 1);
        }
        if count == 0 || ee <= 0.0 {
            return f64::INFINITY;
        }
        let scale = (de / ee).clamp(0.5, 2.0);
        (dd - 2.0 * scale * de + scale * scale * ee).max(0.0) / count as f64
    }

    /// [`Burst::window`] for a [`PeriodicFit`]: the window's mean square and its bound, if the
    /// fit explains every sample of the window to what a fit may leave.
    pub fn window_periodic(&self, fit: &PeriodicFit) -> Option<Read> {
        let step = fit.hz / self.rate_hz;
        let mut march = March::default();
        let mean_sq = |resp: &[f64]| {
            let (sq, count) = self.periodic_misfit(resp, step, fit.crossing);
            (count > 0).then(|| sq / count as f64)
        };
        let allowed = explained(fit.height).powi(2);
        let at_fit = mean_sq(&self.periodic_response(fit.amps, fit.hz, fit.on, fit.period, &mut march))
            .filter(|&m| m <= allowed)?;
        // The runs of on-cycles begin every `period` cycles from the crossing, before the
        // window's first sample (one cut by it) to its end.
        let p = fit.period as f64;
        let (from, end) = (-fit.crossing, self.span * step - fit.crossing);
        let first = (from / p).floor() as i64 - 1;
        let last = (end / p).ceil() as i64;
        let cycles = (first..=last).flat_map(|m| (0..fit.on).map(move |i| m as f64 * p + i as f64));
        let energy = on_energy(cycles, from, end);
        let mean_square = fit.amps * fit.amps * energy * (self.rate_hz / fit.hz) / self.span;
        Some(bounded(mean_square, at_fit, allowed, |sign| {
            mean_sq(&self.periodic_response(fit.amps * (sign * PROBE).exp(), fit.hz, fit.on, fit.period, &mut march))
        }))
    }

    /// Squared code residual over the window's samples where the data or `resp` (a
    /// [`Burst::periodic_response`] starting at sample phase `x`, at `step` cycles a sample)
    /// show current, and how many those are.
    fn periodic_misfit(&self, resp: &[f64], step: f64, x: f64) -> (f64, usize) {
        self.showing_current(resp, step, x, 1).fold((0.0, 0), |(sq, count), (d, e)| (sq + (d - e).powi(2), count + 1))
    }

    /// Every `stride`-th sample's code and `resp`'s prediction of it (interpolated; `resp`
    /// starting at sample phase `x`, at `step` cycles a sample), each above the no-current
    /// level, where either shows current.
    fn showing_current<'r>(
        &'r self,
        resp: &'r [f64],
        step: f64,
        x: f64,
        stride: usize,
    ) -> impl Iterator<Item = (f64, f64)> + 'r {
        // `resp` holds its first point again at its end, for the interpolation across.
        let n = resp.len() - 1;
        let rest = f64::from(self.rest);
        // Each sample's place in `resp`, in points, moved on a sample at a time (over a window,
        // the sum drifts by some 1e-12 points from the product).
        let (points, per_sample) = (n as f64, (stride * POINTS) as f64 * step);
        let mut y = (-x).rem_euclid((n / POINTS) as f64) * POINTS as f64;
        self.codes.iter().step_by(stride).filter_map(move |&c| {
            while y >= points {
                y -= points;
            }
            let i = (y as usize).min(n - 1);
            let predicted = resp[i] + (y - i as f64) * (resp[i + 1] - resp[i]);
            y += per_sample;
            let code = f64::from(c);
            (code > rest || predicted > rest).then_some((code - rest, predicted - rest))
        })
    }

    /// The model clamp's codes (unrounded) over `period` cycles, [`POINTS`] a cycle, of `on`
    /// sine cycles of RMS `amps` and `period - on` of none, repeated for ever: the run begins
    /// where the last one's kick left the magnetizing current (its periodic steady state),
    /// not at rest. The first point again at the end.
    fn periodic_response(&self, amps: f64, hz: f64, on: usize, period: usize, march: &mut March) -> Vec<f64> {
        let p = self.model.params();
        let lsb_per_v = f64::from(p.adc_full_scale) / p.adc_ref_v;
        let mut is = vec![0.0; period * POINTS];
        for (k, v) in is.iter_mut().take(on * POINTS).enumerate() {
            *v = amps * unit_shape(Shape::Sine, (k % POINTS) as f64 / POINTS as f64) / p.turns;
        }
        let over = hz / period as f64;
        let im = self.model.periodic_start(&is, over, march);
        self.model.march_cycle(&is, over, im, march);
        let v = march.adc_v();
        v.iter().chain(v.first()).map(|v| v * lsb_per_v).collect()
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

    /// The window's highest sample above the model's no-current level, codes: what a fit of
    /// the whole window may leave is measured against it ([`explained`]).
    fn height(&self) -> f64 {
        self.codes.iter().map(|&c| f64::from(c) - self.zero()).fold(0.0, f64::max)
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

/// The energy of sine cycles beginning at `on` (cycles), in cycles of a whole cycle's, over
/// the part of each between `from` and `end`: the integral of `2 sin^2(2 pi u)` over a
/// cycle's part inside, `u - sin(4 pi u) / 4 pi` between its ends.
fn on_energy(on: impl Iterator<Item = f64>, from: f64, end: f64) -> f64 {
    let integral = |u: f64| u - (2.0 * std::f64::consts::TAU * u).sin() / (2.0 * std::f64::consts::TAU);
    on.map(|n| {
        let (a, b) = ((from - n).clamp(0.0, 1.0), (end - n).clamp(0.0, 1.0));
        if b > a {
            integral(b) - integral(a)
        } else {
            0.0
        }
    })
    .sum()
}

/// A fit's [`Read`]: `mean_square`, and the RMS the samples allow either side of the fit's.
/// The window's mean squared residual (`at_fit` at the fit) grows about as the square of the
/// RMS's log distance from the fit's: `probe(sign)` gives it at [`PROBE`] either side, and
/// each end is extrapolated to where it reaches `allowed`, what a fit may leave.
fn bounded(mean_square: f64, at_fit: f64, allowed: f64, mut probe: impl FnMut(f64) -> Option<f64>) -> Read {
    let mut reach = |sign: f64| {
        let rise = probe(sign).map_or(0.0, |m| m - at_fit);
        if rise > 0.0 {
            PROBE * ((allowed - at_fit) / rise).sqrt()
        } else {
            f64::INFINITY
        }
    };
    let (up, down) = (reach(1.0), reach(-1.0));
    Read { mean_square, high: (MODEL_SHARE + down).exp_m1(), low: -(-(MODEL_SHARE + up)).exp_m1() }
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
    let x_of = |i: f64| (x.0 + i * GRID).rem_euclid(1.0);
    let (u, r) = least_on_grid((x.1 / GRID).ceil() as usize, 0.02, |u| residual(samples, resp, x_of(u)));
    (x_of(u), r)
}

/// The least point of `score(u)` over the steps `u` of a grid, `0..=points`, refined by a
/// golden section to `tol` steps within a step either side of it, and its value: what the
/// crossing's searches share ([`best_crossing`], [`Burst::best_periodic_crossing`]).
fn least_on_grid(points: usize, tol: f64, score: impl Fn(f64) -> f64) -> (f64, f64) {
    let (i, best) =
        (0..=points).map(|i| (i, score(i as f64))).min_by(|a, b| a.1.total_cmp(&b.1)).unwrap_or((0, f64::INFINITY));
    let (u, r) = golden_min(&score, i as f64 - 1.0, i as f64 + 1.0, tol);
    if r < best {
        (u, r)
    } else {
        (i as f64, best)
    }
}

/// The log of the RMS within `ln_amps` (lowest, highest) whose `score` is least: a range wider
/// than a carried one's (within [`CARRIED_AMPS`]) on a log grid of `grid` steps first (the
/// residual has false minima there), narrowed to its least point's neighbours; then a golden
/// section to [`AMPS_TOL`]. What the RMS's searches share ([`Burst::search`],
/// [`Burst::search_periodic`], [`Burst::refit_periodic`]).
fn least_ln_amps(mut score: impl FnMut(f64) -> f64, ln_amps: (f64, f64), grid: usize) -> f64 {
    let (mut lo, mut hi) = ln_amps;
    if hi - lo > 2.0 * CARRIED_AMPS.ln() + 1e-9 {
        let points: Vec<f64> = (0..=grid).map(|i| lo + (hi - lo) * i as f64 / grid as f64).collect();
        let scores: Vec<f64> = points.iter().map(|&a| score(a)).collect();
        let i = (0..points.len()).min_by(|&a, &b| scores[a].total_cmp(&scores[b])).unwrap_or(0);
        (lo, hi) = (points[i.saturating_sub(1)], points[(i + 1).min(grid)]);
    }
    golden_min(score, lo, hi, AMPS_TOL).0
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
/// How far (factor) a carried RMS is searched either side ([`Burst::refit`],
/// [`Burst::refit_periodic`]), or the first fit's RMS at the frequency its starts keep
/// ([`Burst::fit`]).
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
/// How far (cycles) either side of the crossing the window's classes place a periodic fit's
/// crossing is searched where the period is long ([`Burst::fit_periodic`]): a whole cycle.
/// The classes' grid, placed by the whole window's fold, put two on, nine off at 49.9 Hz,
/// 6 A, 9600 baud 0.67 cycles early (a run read as its first cycle low, its second high and
/// the kick after it); searched 0.6 either side, it was refused and read 13.5 % low.
const PERIODIC_SEARCH: f64 = 1.0;
/// Periods this short or shorter have their crossing searched over the whole period
/// ([`Burst::fit_periodic`]): the classes' grid put a one-on, one-off heater's 0.6 cycles off.
const PERIODIC_WHOLE: usize = 4;
/// The coarse grid a periodic fit's crossing is first searched on, cycles.
const COARSE: f64 = 0.025;
/// About how many of the window's samples the coarse grid and the check against [`PROMISING`]
/// score (every so many): half a 9600-baud window's, six a cycle, which still tell a run's
/// place to the grid's step. Over all of them the household record's windows cost a tenth
/// more time at 9600 baud and a third more at the fast link, on a heater beside a supply
/// refused every window (`golden/COST_HISTORY.md`, 2026-12-06); the committed sets' readings
/// moved by 0.02 % at most.
const COARSE_SAMPLES: usize = 300;
/// How many times what a fit may leave (in mean square, [`EXPLAINED_CODES`]) a periodic
/// hypothesis may leave at its best coarse crossing and scale and still be searched
/// ([`Burst::fit_periodic`]). Over the burst sweep's windows the fits that explained their
/// samples left at most 8.7 times that at the guessed RMS or 30 % either side (the check
/// before the scale was fitted); the loads goldens' household at 9600 baud, a heater two on,
/// three off beside a supply, offered as such and as three on, two off, 60-96 times,
/// refused after a search of 3 ms each time before this check.
const PROMISING: f64 = 16.0;
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

    /// Runs of cycles in every few judge a window's mains frequency against the lines either
    /// side of it that their period puts nearly as strong in the spectrum (`f / P` apart):
    /// through the model at 9600 baud, a second's window of each burst is explained at its
    /// frequency (misfit 1 or less) and at neither neighbour, or at half the explanation at
    /// best ([`crate::mains_hz`] takes a candidate explained twice as well as the next).
    #[test]
    fn runs_of_cycles_judge_the_mains_frequency_against_their_lines() {
        let model = CtModel::builtin();
        let cal = crate::calibration::Calibration::builtin();
        let cases = [
            (47.3, 0.7, 2, 9),
            (47.3, 3.0, 2, 9),
            (47.3, 12.0, 2, 9),
            (49.9, 6.0, 2, 9),
            (47.3, 3.0, 2, 2),
            (59.9, 12.0, 3, 1),
        ];
        for (hz, amps, on, off) in cases {
            let codes = burst_codes(hz, amps, on, off, RATE, 2.0);
            let n = RATE as usize;
            let burst = Burst::new(model, &codes[n / 3..n / 3 + n], rest(), RATE);
            let at = |f: f64| burst.periodic_misfit_at(f, &cal.lut_at(Some(f)));
            let own = at(hz).unwrap_or_else(|| panic!("{hz} Hz {amps} A, {on} on, {off} off: not explained"));
            assert!(own <= 1.0, "{hz} Hz {amps} A, {on} on, {off} off: misfit {own}");
            for line in [hz - hz / (on + off) as f64, hz + hz / (on + off) as f64] {
                let other = at(line);
                assert!(
                    other.is_none_or(|m| m >= 2.0 * own),
                    "{hz} Hz {amps} A, {on} on, {off} off: at {line} Hz {other:?} for {own}"
                );
            }
        }
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

    /// One cycle on in every two or three, from the model's own march carried from cycle to
    /// cycle (`records::burst_codes`, 512 points a cycle, rounded to codes): the kick of each
    /// on-cycle still decays when the next begins, so there is no start from rest; and runs
    /// of two and three cycles, whose first cycle starts from rest but whose second is no
    /// single cycle's rest (two on, two off at 47.3 Hz; two on, nine off at 49.9 Hz, where a
    /// run's samples fall on nearly the same phases run after run and the classes read it
    /// 40 % low; three on, one off). Fitted as runs every `period` from a guess of the RMS
    /// 25 % low and of the crossing a third of a cycle late (time 0 is a run's upward zero
    /// crossing). The RMS within 0.5 %,
    /// the crossing within 0.01 cycles, the window's mean square within 1 % of the stimulus's
    /// over the same span (summed on a fine grid), the truth within the bound; carried to the
    /// next second and fitted again there, the same; and a second load on throughout is no
    /// such burst.
    #[test]
    fn runs_of_cycles_in_every_few_are_fitted_from_where_the_last_left() {
        let model = CtModel::builtin();
        let cases = [
            (50.0, 2.63, 1, 1),
            (60.0, 16.41, 1, 1),
            (50.0, 30.0, 1, 1),
            (60.0, 8.0, 1, 2),
            (47.3, 3.0, 2, 2),
            (49.9, 3.0, 2, 9),
            (47.3, 12.0, 3, 1),
        ];
        for (hz, amps, on, off) in cases {
            let period = on + off;
            let p = period as f64;
            let codes = burst_codes(hz, amps, on, off, RATE, 2.5);
            let n = RATE as usize;
            let near = |x: f64, want: f64| ((x - want + p / 2.0).rem_euclid(p) - p / 2.0).abs() < 0.01;
            // The stimulus's mean square over samples `from..from + n`.
            let truth = |from: usize| {
                let steps = 200_000;
                let (t0, t1) = (from as f64 / RATE, (from + n) as f64 / RATE);
                (0..steps)
                    .map(|i| {
                        let u = (t0 + (t1 - t0) * (i as f64 + 0.5) / steps as f64) * hz;
                        if (u.floor() as i64).rem_euclid(period as i64) < on as i64 {
                            2.0 * (amps * (std::f64::consts::TAU * u).sin()).powi(2)
                        } else {
                            0.0
                        }
                    })
                    .sum::<f64>()
                    / steps as f64
            };
            let burst = Burst::new(model, &codes[..n], rest(), RATE);
            if off == 1 || on > 1 {
                assert!(burst.fit(hz).is_none(), "{hz} Hz {amps} A: single cycles from rest?");
            }
            let fit = burst.fit_periodic(hz, on, period, 0.33, 0.75 * amps).expect("fits");
            assert!((fit.amps / amps - 1.0).abs() < 0.005 && near(fit.crossing, 0.0), "{hz} Hz {amps} A: {fit:?}");
            let read = burst.window_periodic(&fit).expect("explained");
            let want = truth(0);
            assert!((read.mean_square / want - 1.0).abs() < 0.01, "{hz} Hz {amps} A: {read:?} against {want}");
            let ratio = amps / fit.amps;
            assert!(ratio < 1.0 / (1.0 - read.low) && ratio > 1.0 / (1.0 + read.high), "{read:?}, {fit:?}");
            let later = Burst::new(model, &codes[n..2 * n], rest(), RATE);
            let moved = (fit.crossing - n as f64 * hz / RATE).rem_euclid(p);
            let again = later.refit_periodic(&PeriodicFit { crossing: moved, ..fit });
            assert!((again.amps / amps - 1.0).abs() < 0.005, "{hz} Hz {amps} A later: {again:?}");
            assert!(near(again.crossing, (-(n as f64) * hz / RATE).rem_euclid(p)), "{again:?}");
            let read = later.window_periodic(&again).expect("explained");
            assert!((read.mean_square / truth(n) - 1.0).abs() < 0.01, "{hz} Hz {amps} A later: {read:?}");
            let other: Vec<u16> =
                codes[..n].iter().enumerate().map(|(k, &c)| c + if k % 12 < 4 { 40 } else { 0 }).collect();
            let noisy = Burst::new(model, &other, rest(), RATE);
            let refused = noisy
                .fit_periodic(hz, on, period, 0.33, 0.75 * amps)
                .is_none_or(|f| noisy.window_periodic(&f).is_none());
            assert!(refused, "{hz} Hz {amps} A with another load");
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
