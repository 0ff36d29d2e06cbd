//! The clamp and its interface as a dynamic model: the steady-state response of the SPICE
//! netlist (spice/efergy_ct.sub + spice/interface.sub) to a periodic secondary source current.
//!
//! Why a dynamic model: the coil's magnetizing inductance Lm shunts and phase-shifts the
//! current it passes on, far more at 50 Hz than for the harmonics of narrow pulses, so no
//! memoryless table from ADC code to current can be right for every waveform shape. The model
//! integrates `Lm di_m/dt = v_b + Rw (i_s - i_m)` with the burden's nonlinear characteristic
//! `i_s - i_m = g(v_b)` solved at every instant (the knee diode, the clamp diode, the
//! interface's bias and in-line diode), and the ADC capacitor's lag behind the divider.
//! It is what the virtual device draws its codes from, what the waveform fit inverts, and what
//! the direct inversion ([`crate::inversion`]) runs backwards.

use std::sync::Arc;

/// Thermal voltage kT/q at SPICE's default temperature (27 degrees C), so the diode curves
/// match the goldens' simulator.
const VT: f64 = 1.380649e-23 * 300.15 / 1.602176634e-19;

/// A junction diode as SPICE models it (saturation current, emission coefficient, series
/// resistance); breakdown and capacitance are irrelevant at the few volts seen here.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Diode {
    pub is: f64,
    pub n: f64,
    pub rs: f64,
}

impl Diode {
    /// spice/models.lib: `.model D1N4001 D(Is=14.11n N=1.984 Rs=33.89m)`.
    pub const D1N4001: Diode = Diode { is: 14.11e-9, n: 1.984, rs: 33.89e-3 };

    /// Current through the diode in series with `r_ext` when `v` is across both, and the
    /// junction's small-signal resistance there. Solved for the junction voltage by Newton's
    /// method safeguarded by bisection: the residual is monotonic and bracketed by 0 and `v`.
    fn series(&self, v: f64, r_ext: f64) -> (f64, f64) {
        let nvt = self.n * VT;
        let r = r_ext + self.rs;
        let (mut lo, mut hi) = if v >= 0.0 { (0.0, v) } else { (v, 0.0) };
        let mut vj = if v > 0.0 { v.min(0.7) } else { v };
        for _ in 0..200 {
            let e = (vj / nvt).min(700.0).exp();
            let f = vj + r * self.is * (e - 1.0) - v;
            if f > 0.0 {
                hi = vj;
            } else {
                lo = vj;
            }
            let df = 1.0 + r * self.is * e / nvt;
            let mut next = vj - f / df;
            if !(next > lo && next < hi) {
                next = 0.5 * (lo + hi);
            }
            if (next - vj).abs() < 1e-14 {
                vj = next;
                break;
            }
            vj = next;
        }
        let e = (vj / nvt).min(700.0).exp();
        (self.is * (e - 1.0), nvt / (self.is * e))
    }
}

/// The CT and interface parameters: the `.subckt` parameters of spice/efergy_ct.sub and
/// spice/interface.sub (the golden headers state the values used).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CtParams {
    /// Secondary turns (one primary turn).
    pub turns: f64,
    /// Magnetizing inductance, H.
    pub lm: f64,
    /// Winding resistance, ohm.
    pub rw: f64,
    /// Burden resistor across the coil, ohm.
    pub rb: f64,
    /// Resistor in series with the knee diode, ohm.
    pub rk: f64,
    /// Bias of the cold end, V.
    pub vbias: f64,
    /// Output divider, ohm: in-line diode -> r1 -> ADC -> r2 -> ground.
    pub r1: f64,
    pub r2: f64,
    /// Capacitor at the ADC input, F.
    pub cadc: f64,
    pub diode: Diode,
    /// ADC reference, V, and full-scale code (`code = round(full_scale * V / vref)`).
    pub adc_ref_v: f64,
    pub adc_full_scale: u16,
}

impl Default for CtParams {
    /// The values the goldens were generated with (`# parameters:` line of golden/data/*.txt).
    fn default() -> Self {
        CtParams {
            turns: 1350.0,
            lm: 0.6,
            rw: 52.5,
            rb: 220.0,
            rk: 39.0,
            vbias: 0.8,
            r1: 1600.0,
            r2: 3300.0,
            cadc: 10e-9,
            diode: Diode::D1N4001,
            adc_ref_v: 2.5,
            adc_full_scale: 1023,
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    #[error("CT model parameter {name} = {value} must be finite and positive")]
    Parameter { name: &'static str, value: f64 },
}

/// Lowest and highest burden voltage tabulated, V: the clamp holds the hot end above about
/// -0.85 V even at 95 A, and 8 V is far beyond the ADC's full scale (about 3.6 V at the burden).
const VB_RANGE: (f64, f64) = (-1.2, 8.0);
/// Burden-voltage step of the tables, V. Linear interpolation of a diode exponential over this
/// step errs by (step / (n Vt))^2 / 8 ~ 1e-5 of the current.
const VB_STEP: f64 = 0.25e-3;

/// Static (memoryless) part of the model, tabulated over the burden voltage `v_b` (hot minus
/// cold): the current the burden network plus interface draws, the ADC voltage it produces when
/// the ADC capacitor is ignored, and that capacitor's time constant.
///
/// Its tables (1.2 MB) are shared by every clone: each estimator, its inverter and the
/// fitter hold a model of the clamp, and clones that copied the tables made an estimator's
/// construction take 1.0 ms (0.1 ms shared) and 1.2 MB a copy.
#[derive(Debug, Clone)]
pub struct CtModel {
    pub(crate) p: CtParams,
    /// Current into burden network + interface at `VB_RANGE.0 + k * VB_STEP`, strictly increasing.
    g: Arc<[f64]>,
    /// `VB_STEP / (g[k + 1] - g[k])`: the burden's incremental resistance over interval `k`,
    /// tabulated (the same division, once per model): a march asks for it at every point,
    /// and a division on its critical path was a tenth of its time.
    r: Arc<[f64]>,
    /// Quasi-static ADC voltage (divider output with Cadc ignored).
    vq: Arc<[f64]>,
    /// Current of the in-line diode in series with R1 at `X_RANGE.0 + k * VB_STEP` across both
    /// (hot node minus ADC node): what charges Cadc.
    fl: Arc<[f64]>,
    /// `index[m]`: the last entry of `g` at or below `index_lo + m * index_step` (a coarse
    /// inverse of `g` over the currents a clamp carries, so that a lookup by current searches
    /// a few entries, not all of them; `g` spans far more, up to a diode's 100 A at -1.2 V).
    index: Arc<[u32]>,
    index_lo: f64,
    index_step: f64,
    /// [`CtModel::rest_state`], once asked for.
    at_rest: std::sync::OnceLock<(f64, f64)>,
}

/// Range of the voltage across in-line diode + R1 tabulated (below it the diode is off).
const X_RANGE: (f64, f64) = (-0.5, 9.0);

/// One point of the static characteristic, interpolated at a burden current.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Static {
    /// Table entry below the point: where the next search near it starts.
    pub(crate) k: usize,
    pub(crate) vb: f64,
    /// dv_b / di_b: the burden's incremental resistance.
    pub(crate) r: f64,
    vq: f64,
}

/// Where an implicit step's search for its table interval starts ([`CtModel::implicit_step`]):
/// interval `k` and, where known, the reciprocal of the step's left side's slope over it,
/// `1 / (H(k + 1) - H(k))` (else 0). A step returns its own, for the next step at the same
/// `c`: that step's first guess, the root of this interval's line, then costs a
/// multiplication where a division's latency (the march's steps are a chain, each waiting on
/// the last) was most of the step's time. On straight stretches it is the root.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Near {
    pub(crate) k: usize,
    pub(crate) inv: f64,
}

impl Near {
    /// A search from interval `k`, its slope unknown.
    pub(crate) fn at(k: usize) -> Self {
        Self { k, inv: 0.0 }
    }
}

/// Guesses from the local slope before [`CtModel::vb_from_adc_near`] searches the whole table.
const GUESSES: usize = 3;

/// Interval changes at most in one implicit step before it bisects the table (a safeguard:
/// the step's left side is monotonic, so the intervals visited close in on the root within
/// two or three).
const STEP_ITERATIONS: usize = 12;

/// A shooting step below this (A of magnetizing current, a ten-thousandth of a microamp) ends
/// [`CtModel::periodic_start`]'s search.
const SHOOTING_TOLERANCE: f64 = 1e-10;

/// Whether a shooting step `step` after one of `last` leaves a next step far below
/// [`SHOOTING_TOLERANCE`], so the march that would take it can be skipped. Newton's method
/// converges quadratically near the root, `e' = K e^2`: the last two steps estimate
/// `K ~ |step| / last^2`, so the next would be about `|step|^3 / last^2`. Asked only where the
/// steps shrink at least a hundredfold (converging as Newton's do), and to a thousandth of the
/// tolerance. On the household record at 603.5 Sa/s, 204 of 270 searches marched a third
/// cycle whose step was about 1e-16 A, after a second of about 1e-9 A.
fn converged(step: f64, last: f64) -> bool {
    // (A NaN fails both comparisons.)
    let ratio = step.abs() / last.abs();
    ratio < 1e-2 && step.abs() * ratio * ratio < 1e-3 * SHOOTING_TOLERANCE
}

/// The model's periodic steady state over one cycle, at the instants of the source given.
#[derive(Debug, Clone, Default)]
pub struct SteadyState {
    /// Magnetizing current, A.
    pub i_m: Vec<f64>,
    /// Burden voltage (hot - cold), V.
    pub v_b: Vec<f64>,
    /// ADC-input voltage, V (with Cadc).
    pub v_adc: Vec<f64>,
}

/// Scratch for [`CtModel::march_cycle`], reused from cycle to cycle.
#[derive(Debug, Clone, Default)]
pub struct March {
    vq: Vec<f64>,
}

impl March {
    fn prepare(&mut self, l: usize) -> &mut [f64] {
        self.vq.resize(l, 0.0);
        &mut self.vq
    }

    /// Quasi-static ADC voltage at each point of the last cycle marched.
    pub fn adc_v(&self) -> &[f64] {
        &self.vq
    }
}

/// Per-point quantities of one steady-state solution that the fit's Jacobian needs.
#[derive(Debug, Clone, Default)]
pub(crate) struct Trace {
    pub(crate) im: Vec<f64>,
    /// Incremental resistance seen by the magnetizing branch: r_burden + Rw.
    pub(crate) rr: Vec<f64>,
    pub(crate) vb: Vec<f64>,
    pub(crate) vq: Vec<f64>,
    /// Small-signal gain from the burden current to the ADC voltage's equilibrium (dv/di_b),
    /// and the ADC capacitor's time constant, at the solution.
    pub(crate) q: Vec<f64>,
    pub(crate) tau: Vec<f64>,
    /// d i_m[n+1] / d i_m[n], and its running product from point 0 (`acum[n]` = product of the
    /// first n factors).
    pub(crate) a: Vec<f64>,
    pub(crate) acum: Vec<f64>,
    /// ADC voltage with Cadc.
    pub(crate) v: Vec<f64>,
    /// Magnetizing current at point 0 (a warm start for the next solve).
    pub(crate) im0: f64,
}

impl CtModel {
    pub fn new(p: CtParams) -> Result<Self, ModelError> {
        for (name, value) in [
            ("turns", p.turns),
            ("lm", p.lm),
            ("rw", p.rw),
            ("rb", p.rb),
            ("rk", p.rk),
            ("r1", p.r1),
            ("r2", p.r2),
            ("diode.is", p.diode.is),
            ("diode.n", p.diode.n),
            ("adc_ref_v", p.adc_ref_v),
        ] {
            if !(value.is_finite() && value > 0.0) {
                return Err(ModelError::Parameter { name, value });
            }
        }
        for (name, value) in [("vbias", p.vbias), ("cadc", p.cadc), ("diode.rs", p.diode.rs)] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(ModelError::Parameter { name, value });
            }
        }
        let n = ((VB_RANGE.1 - VB_RANGE.0) / VB_STEP).round() as usize + 1;
        let (mut g, mut vq) = (Vec::with_capacity(n), Vec::with_capacity(n));
        let d = p.diode;
        for k in 0..n {
            let vb = VB_RANGE.0 + k as f64 * VB_STEP;
            let (ik, _) = d.series(vb, p.rk);
            let (ic, _) = d.series(-vb, 0.0);
            // The interface's own current is taken quasi-static here: Cadc's charging current
            // (at most ~25 uA) is negligible against the burden's.
            let (il, _) = d.series(p.vbias + vb, p.r1 + p.r2);
            g.push(vb / p.rb + ik - ic + il);
            vq.push(il * p.r2);
        }
        let nx = ((X_RANGE.1 - X_RANGE.0) / VB_STEP).round() as usize + 1;
        let fl: Arc<[f64]> = (0..nx).map(|k| d.series(X_RANGE.0 + k as f64 * VB_STEP, p.r1).0).collect();
        const INDEX: usize = 8192;
        let (index_lo, index_hi) = (g[0].max(-0.5), g[g.len() - 1].min(0.5));
        let index_step = (index_hi - index_lo) / INDEX as f64;
        let index: Arc<[u32]> = (0..=INDEX)
            .map(|m| g.partition_point(|&x| x <= index_lo + m as f64 * index_step).saturating_sub(1) as u32)
            .collect();
        let r: Arc<[f64]> = g.windows(2).map(|w| VB_STEP / (w[1] - w[0])).collect();
        Ok(CtModel {
            p,
            g: g.into(),
            r,
            vq: vq.into(),
            fl,
            index,
            index_lo,
            index_step,
            at_rest: std::sync::OnceLock::new(),
        })
    }

    /// The model at the default parameters, built once per process and shared: building one
    /// solves the diodes at some 75 000 burden voltages (tens of milliseconds), which every
    /// estimator, fitter, plot and virtual device would otherwise repeat.
    pub fn builtin() -> &'static CtModel {
        static MODEL: std::sync::OnceLock<CtModel> = std::sync::OnceLock::new();
        MODEL.get_or_init(|| match CtModel::new(CtParams::default()) {
            Ok(m) => m,
            // The defaults are valid by construction (checked by the tests).
            Err(e) => unreachable!("default CT parameters rejected: {e}"),
        })
    }

    /// The model with the default parameters but magnetizing inductance `lm` H (see
    /// [`CtModel::cached`]).
    pub fn with_lm(lm: f64) -> Result<CtModel, ModelError> {
        CtModel::cached(CtParams { lm, ..CtParams::default() })
    }

    /// The model for `p`: the built-in one for the defaults, else built once per process per
    /// parameter set and cloned (a calibration's search, the estimators of an identified clamp
    /// and a tracked bias ask for the same few).
    pub fn cached(p: CtParams) -> Result<CtModel, ModelError> {
        if p == CtParams::default() {
            return Ok(CtModel::builtin().clone());
        }
        static MODELS: std::sync::Mutex<Vec<(CtParams, CtModel)>> = std::sync::Mutex::new(Vec::new());
        let mut models = MODELS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((_, m)) = models.iter().find(|(q, _)| *q == p) {
            return Ok(m.clone());
        }
        let m = CtModel::new(p)?;
        // A bounded cache: a search visits a few dozen parameter sets once each.
        if models.len() >= 64 {
            models.remove(0);
        }
        models.push((p, m.clone()));
        Ok(m)
    }

    /// The unrounded ADC codes of one steady cycle of a sine of `rms` A (primary) at `hz`, at
    /// `points` equally spaced instants from its upward zero crossing: the sensor's response
    /// to a resistive load, which model tables, calibrations and tests simulate alike.
    pub fn sine_codes(&self, rms: f64, hz: f64, points: usize) -> Vec<f64> {
        let p = &self.p;
        let i_s: Vec<f64> = (0..points)
            .map(|k| {
                rms * std::f64::consts::SQRT_2 * (std::f64::consts::TAU * k as f64 / points as f64).sin() / p.turns
            })
            .collect();
        let lsb_per_v = f64::from(p.adc_full_scale) / p.adc_ref_v;
        self.steady_state(&i_s, hz).v_adc.iter().map(|v| v * lsb_per_v).collect()
    }

    /// The unrounded ADC code with no primary current: the bias level through the in-line
    /// diode and divider.
    pub fn zero_level(&self) -> f64 {
        self.steady_state(&[0.0; 8], 50.0).v_adc[0] * f64::from(self.p.adc_full_scale) / self.p.adc_ref_v
    }

    /// The no-current level (unrounded codes, [`CtModel::zero_level`]) and the magnetizing
    /// current at rest, A: the interface's bias drives a direct current through the coil,
    /// which the magnetizing inductance carries (-59 uA in the built-in model), and a cycle
    /// switched on from rest starts from it. Solved once per model (two solves, a third of a
    /// millisecond: [`crate::burst_fit`] asks every window that rests).
    pub fn rest_state(&self) -> (f64, f64) {
        *self.at_rest.get_or_init(|| {
            // At rest the current is direct: the same whatever the frequency it is solved at.
            let im = self.periodic_start(&[0.0; 64], 50.0, &mut March::default());
            (self.zero_level(), im)
        })
    }

    pub fn params(&self) -> &CtParams {
        &self.p
    }

    /// The static characteristic at burden current `ib` (linear interpolation in the tables,
    /// linear extrapolation beyond them).
    pub(crate) fn at_current(&self, ib: f64) -> Static {
        let g = &self.g;
        // The coarse index narrows the search to the table entries between two of its steps.
        let u = (ib - self.index_lo) / self.index_step;
        let k = if !(u >= 0.0 && u < (self.index.len() - 1) as f64) {
            g.partition_point(|&x| x <= ib)
        } else {
            let m = u as usize;
            let (lo, hi) = (self.index[m] as usize, self.index[m + 1] as usize + 1);
            lo + g[lo..hi.min(g.len())].partition_point(|&x| x <= ib)
        };
        self.static_at(ib, k.saturating_sub(1))
    }

    /// The characteristic interpolated between entries `k` and `k + 1` (clamped to the table).
    fn static_at(&self, ib: f64, k: usize) -> Static {
        let g = &self.g;
        let k = k.min(g.len() - 2);
        let g0 = g[k];
        let frac = (ib - g0) * self.r[k] * (1.0 / VB_STEP);
        Static {
            k,
            vb: VB_RANGE.0 + (k as f64 + frac) * VB_STEP,
            r: self.r[k],
            vq: self.vq[k] + frac * (self.vq[k + 1] - self.vq[k]),
        }
    }

    /// The implicit trapezoidal step of the magnetizing current,
    /// `x = im + c (u0 + v_b(i_b) + rw i_b)` with `i_b = is1 - x`, its search for the table
    /// interval starting at entry `near`. Returns the new magnetizing current and the
    /// characteristic at its burden current.
    ///
    /// How: with `A = 1 + c rw`, the step is `A i_b + c v_b = T`, `T = is1 - im - c u0`. Over the
    /// table's uniform burden voltages `v_k` the left side, `H(k) = A g[k] + c v_k`, is linear
    /// between entries and increasing, so the root lies in the interval `k` where
    /// `H(k) <= T < H(k + 1)` (the first and last extending for ever), at the fraction
    /// `(T - H(k)) / (H(k + 1) - H(k))` of it. The interval is found by Newton's method on the
    /// entry index: from an interval, its line's root names the next. The march's consecutive
    /// points lie near each other, and where the characteristic is straight (the diodes off,
    /// most of a cycle) the first line's root is the root; where a diode bends it, two or
    /// three lines close in on it (the index is monotone in `T`, and a convex or concave
    /// stretch is approached from one side after the first step).
    ///
    /// Why not Newton on the current itself, looking the characteristic up by current after
    /// each step: each step then searched the table by current (guesses from the local
    /// slope, a gallop where they failed) and interpolated the whole point twice, a third of
    /// the default method's time at 8196.7 Sa/s; here each interval tried reads two entries of
    /// one table (about 2.5 a step on the household record). Side by side on that record
    /// (`loads_cost` bench), the default method's cost per window went 0.575 -> 0.54 ms at
    /// 8196.7 Sa/s and 0.450 -> 0.383 ms at 603.5 Sa/s, its readings unchanged.
    ///
    /// Inlined into its marches: called, its seven words of result went through the stack,
    /// a store and a load on the chain of every step (0.700-0.750 -> 0.658-0.667 ms a
    /// window at 603.5 Sa/s, `loads_cost` side by side).
    #[inline(always)]
    pub(crate) fn implicit_step(&self, im: f64, u0: f64, is1: f64, c: f64, near: Near) -> (f64, Static, Near) {
        let g = &self.g;
        let last = g.len() - 2;
        let a = 1.0 + c * self.p.rw;
        let cv = c * VB_STEP;
        // `T` less `c v_0`: `H(k) - c v_0 = A g[k] + k c VB_STEP`.
        let t = is1 - im - c * u0 - c * VB_RANGE.0;
        // (Entries are below 2^53: the signed conversions give the same numbers, in one
        // instruction each where the unsigned take a few.)
        let h = |k: usize| a * g[k] + k as i64 as f64 * cv;
        // Interval `k` holds the root (the first and last extending for ever).
        let holds = |k: usize, h0: f64, h1: f64| (k == 0 || h0 <= t) && (k == last || t < h1);
        let mut k = near.k.min(last);
        if near.inv > 0.0 {
            k = crate::fold::index_at(k as i64 as f64 + (t - h(k)) * near.inv).min(last);
        }
        let (mut h0, mut h1) = (h(k), h(k + 1));
        for _ in 0..STEP_ITERATIONS {
            if holds(k, h0, h1) {
                break;
            }
            k = crate::fold::index_at(k as i64 as f64 + (t - h0) / (h1 - h0)).min(last);
            (h0, h1) = (h(k), h(k + 1));
        }
        if !holds(k, h0, h1) {
            // The safeguard: the last entry at or below `T`, by bisection.
            let (mut lo, mut hi) = (0, last + 1);
            while lo < hi {
                let mid = (lo + hi) / 2;
                if h(mid) <= t {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            k = lo.saturating_sub(1).min(last);
            (h0, h1) = (h(k), h(k + 1));
        }
        let f = (t - h0) / (h1 - h0);
        // (Beside the quotient, not from it: the step's own numbers stay those of the division.)
        let inv = 1.0 / (h1 - h0);
        let s = Static {
            k,
            vb: VB_RANGE.0 + (k as i64 as f64 + f) * VB_STEP,
            r: self.r[k],
            vq: self.vq[k] + f * (self.vq[k + 1] - self.vq[k]),
        };
        (is1 - (g[k] + f * (g[k + 1] - g[k])), s, Near { k, inv })
    }

    /// The ADC capacitor's longer time constant, s: discharging through R2 alone, as it does
    /// where the in-line diode cuts off (R2 Cadc, 33 us; charging through R1 too, 11 us). The
    /// inversion takes the divider as quasi-static: a current edge is read that much late.
    pub fn adc_lag_s(&self) -> f64 {
        self.p.r2 * self.p.cadc
    }

    /// Quasi-static ADC voltage (ADC capacitor ignored) at burden voltage `vb`.
    pub(crate) fn quasi_static_adc(&self, vb: f64) -> f64 {
        let x = ((vb - VB_RANGE.0) / VB_STEP).clamp(0.0, (self.vq.len() - 1) as f64);
        let k = (x as usize).min(self.vq.len() - 2);
        self.vq[k] + (x - k as f64) * (self.vq[k + 1] - self.vq[k])
    }

    /// In-line diode + R1 current at `x` volts across them, and its slope.
    #[inline]
    fn inline_diode(&self, x: f64) -> (f64, f64) {
        let u = (x - X_RANGE.0) / VB_STEP;
        let last = self.fl.len() - 2;
        let k = if u <= 0.0 { 0 } else { (u as usize).min(last) };
        let slope = (self.fl[k + 1] - self.fl[k]) / VB_STEP;
        (self.fl[k] + (u - k as f64) * VB_STEP * slope, slope)
    }

    /// Burden voltage that produces quasi-static ADC voltage `v` (`None` where the in-line diode
    /// is cut off and the ADC voltage says nothing).
    pub(crate) fn vb_from_adc(&self, v: f64) -> Option<f64> {
        self.vb_from_adc_near(v, &mut 0)
    }

    /// [`CtModel::vb_from_adc`], its table entry searched first from `near` (then left there
    /// for the next): the bins of a folded cycle ask for voltages near each other, so a few
    /// guesses from the local slope replace most of the binary searches over the whole table.
    pub(crate) fn vb_from_adc_near(&self, v: f64, near: &mut usize) -> Option<f64> {
        let vq = &self.vq;
        if v.is_nan() || v <= 1e-3 || v > vq[vq.len() - 1] {
            return None;
        }
        let last = vq.len() - 2;
        // The entry is the last one at or below `v` (clamped to the last interval): where
        // `vq[k] <= v < vq[k + 1]`, `k` is it (`vq` never decreases).
        let mut k = (*near).min(last);
        let mut guesses = 0;
        while !(vq[k] <= v && v < vq[k + 1]) {
            if guesses == GUESSES {
                k = vq.partition_point(|&x| x <= v).saturating_sub(1).min(last);
                break;
            }
            guesses += 1;
            k = crate::fold::index_at(k as f64 + (v - vq[k]) / (vq[k + 1] - vq[k])).min(last);
        }
        *near = k;
        let frac = (v - vq[k]) / (vq[k + 1] - vq[k]);
        Some(VB_RANGE.0 + (k as f64 + frac) * VB_STEP)
    }

    pub(crate) fn current_at_vb(&self, vb: f64) -> f64 {
        let x = ((vb - VB_RANGE.0) / VB_STEP).clamp(0.0, (self.g.len() - 1) as f64);
        let k = (x as usize).min(self.g.len() - 2);
        let frac = x - k as f64;
        self.g[k] + frac * (self.g[k + 1] - self.g[k])
    }

    /// Periodic steady state for the secondary source current `i_s` (amps), given at `L =
    /// i_s.len()` equally spaced instants over one cycle of `mains_hz` and linear in between
    /// (exactly what a SPICE PWL source with those knots does).
    ///
    /// Physics: the ideal source feeds the magnetizing inductance and, through the winding
    /// resistance, the burden; `Lm di_m/dt = v_b + Rw (i_s - i_m)` with `i_s - i_m = g(v_b)`.
    /// Integrated by the trapezoidal rule (implicit, each step solved by Newton's method); the
    /// cycle-start value of `i_m` that makes the cycle periodic is found by Newton's method on
    /// the one-cycle map (shooting), usually in 2-3 cycles. The ADC capacitor is a 12-33 us
    /// lag behind the quasi-static divider output, integrated exactly for a linear input per
    /// step.
    pub fn steady_state(&self, i_s: &[f64], mains_hz: f64) -> SteadyState {
        let mut t = Trace::default();
        self.solve(i_s, mains_hz, 0.0, 3e-6, &mut t);
        SteadyState { i_m: t.im, v_b: t.vb, v_adc: t.v }
    }

    /// The magnetizing current at the start of a cycle of `is` repeated for ever (its periodic
    /// steady state): where a march through cycles that need not repeat starts.
    pub fn periodic_start(&self, is: &[f64], mains_hz: f64, march: &mut March) -> f64 {
        let vq = march.prepare(is.len());
        if is.is_empty() {
            return 0.0;
        }
        let c = 1.0 / (mains_hz * is.len() as f64) / (2.0 * self.p.lm);
        let (mut im, mut last) = (0.0, None);
        for _ in 0..20 {
            let (end, slope) = self.march::<true>(is, c, self.p.rw, im, vq);
            let step = (end - im) / (1.0 - slope);
            im += step;
            if step.abs() < SHOOTING_TOLERANCE || last.is_some_and(|last| converged(step, last)) {
                break;
            }
            last = Some(step);
        }
        im
    }

    /// One cycle of `is` (which need not repeat: a load switching, starting, settling) from
    /// magnetizing current `im0`: returns the magnetizing current at its end; the
    /// quasi-static ADC voltage at each point (the ADC capacitor's 12-33 us lag ignored) is
    /// left in `march.adc_v()`.
    pub fn march_cycle(&self, is: &[f64], mains_hz: f64, im0: f64, march: &mut March) -> f64 {
        let vq = march.prepare(is.len());
        if is.is_empty() {
            return im0;
        }
        let c = 1.0 / (mains_hz * is.len() as f64) / (2.0 * self.p.lm);
        self.march::<false>(is, c, self.p.rw, im0, vq).0
    }

    /// Solves the periodic steady state into `t`, starting the shooting from `im0`, with ADC
    /// capacitor steps of at most `cadc_step` seconds.
    pub(crate) fn solve(&self, is: &[f64], hz: f64, im0: f64, cadc_step: f64, t: &mut Trace) {
        let l = is.len();
        for v in [&mut t.im, &mut t.rr, &mut t.vb, &mut t.vq, &mut t.q, &mut t.tau, &mut t.a, &mut t.acum, &mut t.v] {
            v.clear();
            v.resize(l, 0.0);
        }
        if l == 0 {
            return;
        }
        let h = 1.0 / (hz * l as f64);
        let c = h / (2.0 * self.p.lm);
        let rw = self.p.rw;
        let mut x = im0;
        // The trace of the last cycle run is kept: it starts from a value within 0.1 nA of the
        // periodic one (a millionth of an LSB's worth of current).
        for attempt in 0..20 {
            let (end, slope) = self.cycle(is, c, rw, x, t);
            let step = (end - x) / (1.0 - slope);
            if step.abs() < 1e-10 || attempt == 19 {
                break;
            }
            x += step;
        }
        t.im0 = x;
        self.filter_cadc(h, cadc_step, t);
    }

    /// One cycle from `im0`, recording the trace; returns `i_m` after the cycle and its
    /// derivative with respect to `im0`.
    fn cycle(&self, is: &[f64], c: f64, rw: f64, im0: f64, t: &mut Trace) -> (f64, f64) {
        let l = is.len();
        let mut im = im0;
        let mut s = self.at_current(is[0] - im);
        let mut near = Near::at(s.k);
        let mut prod = 1.0;
        for n in 0..l {
            t.im[n] = im;
            t.rr[n] = s.r + rw;
            t.vb[n] = s.vb;
            t.vq[n] = s.vq;
            t.acum[n] = prod;
            let u0 = s.vb + rw * (is[n] - im);
            let is1 = is[(n + 1) % l];
            // The implicit trapezoidal step, its first guess the root of the last step's
            // interval's line ([`Near`]): no search for a guess, and on straight stretches
            // the root itself.
            let (x, s1, next) = self.implicit_step(im, u0, is1, c, near);
            near = next;
            let a = (1.0 - c * (s.r + rw)) / (1.0 + c * (s1.r + rw));
            t.a[n] = a;
            prod *= a;
            im = x;
            s = s1;
        }
        (im, prod)
    }

    /// [`CtModel::cycle`] recording only the quasi-static ADC voltage into `vq` (what a march
    /// through cycles reads), and the derivative only if `SLOPE` (else 1): the same steps, to
    /// the bit, without the stores and the division per point that only a fit's Jacobian needs.
    fn march<const SLOPE: bool>(&self, is: &[f64], c: f64, rw: f64, im0: f64, vq: &mut [f64]) -> (f64, f64) {
        let l = is.len();
        let mut im = im0;
        let mut s = self.at_current(is[0] - im);
        let mut prod = 1.0;
        let mut near = Near::at(s.k);
        for n in 0..l {
            vq[n] = s.vq;
            let u0 = s.vb + rw * (is[n] - im);
            let is1 = if n + 1 < l { is[n + 1] } else { is[0] };
            let (x, s1, next) = self.implicit_step(im, u0, is1, c, near);
            near = next;
            if SLOPE {
                prod *= (1.0 - c * (s.r + rw)) / (1.0 + c * (s1.r + rw));
            }
            im = x;
            s = s1;
        }
        (im, prod)
    }

    /// The ADC capacitor: `Cadc dv/dt = F(Vbias + v_b - v) - v / R2`, F the in-line diode in
    /// series with R1. Nonlinear on purpose: on a falling edge the diode cuts off and Cadc
    /// discharges through R2 alone (33 us), a longer lag than any linearisation around the
    /// quasi-static point gives (1 us of timing, 2-3 mV at the steepest edges at 73 A).
    /// Trapezoidal steps of at most `max_step` (3 us, a tenth of the time constant, for
    /// validation; the fit uses coarser ones), `v_b` linear in between. Started 300 us before
    /// the cycle's end, which makes it periodic (its memory is tens of microseconds).
    fn filter_cadc(&self, h: f64, max_step: f64, t: &mut Trace) {
        let l = t.vq.len();
        let (c, g2, vbias) = (self.p.cadc, 1.0 / self.p.r2, self.p.vbias);
        if c == 0.0 {
            for n in 0..l {
                let (_, fp) = self.inline_diode(vbias + t.vb[n] - t.vq[n]);
                t.v[n] = t.vq[n];
                t.q[n] = fp / (fp + g2) * (t.rr[n] - self.p.rw);
                t.tau[n] = 0.0;
            }
            return;
        }
        let m = (h / max_step).ceil().max(1.0) as usize;
        let hs = h / m as f64;
        let k = hs / (2.0 * c);
        let warm = ((300e-6 / h).ceil() as usize).min(l);
        let mut v = t.vq[l - warm];
        for pass in 0..2 {
            let from = if pass == 0 { l - warm + 1 } else { 0 };
            for n in from..l {
                let prev = if n == 0 { l - 1 } else { n - 1 };
                let (h0, h1) = (vbias + t.vb[prev], vbias + t.vb[n]);
                for sub in 0..m {
                    let ha = h0 + (h1 - h0) * sub as f64 / m as f64;
                    let hb = h0 + (h1 - h0) * (sub + 1) as f64 / m as f64;
                    let f0 = self.inline_diode(ha - v).0 - v * g2;
                    let mut v1 = v + 2.0 * k * f0;
                    for _ in 0..8 {
                        let (fa, fp) = self.inline_diode(hb - v1);
                        let res = v1 - v - k * (f0 + fa - v1 * g2);
                        let dv = res / (1.0 + k * (fp + g2));
                        v1 -= dv;
                        if dv.abs() < 1e-13 {
                            break;
                        }
                    }
                    v = v1;
                }
                if pass == 1 {
                    t.v[n] = v;
                    let (_, fp) = self.inline_diode(vbias + t.vb[n] - v);
                    t.q[n] = fp / (fp + g2) * (t.rr[n] - self.p.rw);
                    t.tau[n] = c / (fp + g2);
                }
            }
        }
    }
}

/// One step of a first-order lag toward `u` (linear over the step), solved exactly: the
/// linearised ADC capacitor in the fit's Jacobian.
#[inline]
pub(crate) fn cadc_step(h: f64, tau0: f64, tau1: f64, u0: f64, u1: f64, v0: f64) -> f64 {
    let tau = 0.5 * (tau0 + tau1);
    if tau <= 0.0 {
        return u1;
    }
    let a = (-h / tau).exp();
    u1 + (v0 - u0) * a - (u1 - u0) * (tau / h) * (1.0 - a)
}

/// Records of the model clamp's ADC codes for loads whose truth is known analytically: the
/// estimator's own tests and the model sweeps (`golden/examples/model_sweep.rs`) read them.
/// Independent of the estimator: the clamp is marched forwards, never inverted.
pub mod records {
    use super::{CtModel, CtParams};

    /// `seconds` of ADC codes at `rate` of the model clamp (without its ADC capacitor) carrying
    /// a burst-fire heater at `hz`: `amps` RMS sine cycles, `on` of them then `off` none, from
    /// an upward zero crossing at time 0, the magnetizing current carried from cycle to cycle.
    ///
    /// # Panics
    /// If `on + off` is 0.
    pub fn burst_codes(hz: f64, amps: f64, on: usize, off: usize, rate: f64, seconds: f64) -> Vec<u16> {
        burst_beside_codes(hz, amps, on, off, |_| 0.0, rate, seconds)
    }

    /// [`burst_codes`] with a steady load beside the heater: `beside(phase)` A through every
    /// cycle (its magnetizing current starting from none, so the first cycles settle).
    ///
    /// # Panics
    /// If `on + off` is 0.
    pub fn burst_beside_codes(
        hz: f64,
        amps: f64,
        on: usize,
        off: usize,
        beside: impl Fn(f64) -> f64,
        rate: f64,
        seconds: f64,
    ) -> Vec<u16> {
        let heater = |c: usize| if c % (on + off) < on { amps } else { 0.0 };
        marched_codes(hz, |c, phase| burst_current(heater(c), &beside, phase), rate, seconds)
    }

    /// Points a cycle of [`marched_codes`]'s march.
    const MARCH_POINTS: usize = 512;

    /// `seconds` of ADC codes at `rate` of the model clamp (without its ADC capacitor) carrying
    /// the primary current `current(cycle, phase)` A (cycle `c` of `hz` from time 0, phase in
    /// [0, 1)): marched cycle by cycle from no magnetizing current, at 512 points
    /// a cycle, linear in between; sample `j` reads the point at or before its instant.
    pub fn marched_codes(hz: f64, current: impl Fn(usize, f64) -> f64, rate: f64, seconds: f64) -> Vec<u16> {
        use super::March;
        let p = CtParams::default();
        let model = CtModel::new(p).unwrap();
        let l = MARCH_POINTS;
        let (mut march, mut im, mut v) = (March::default(), 0.0, Vec::new());
        let mut is = vec![0.0; l];
        for c in 0..(seconds * hz).ceil() as usize + 1 {
            for (k, x) in is.iter_mut().enumerate() {
                *x = current(c, k as f64 / l as f64) / p.turns;
            }
            im = model.march_cycle(&is, hz, im, &mut march);
            v.extend_from_slice(march.adc_v());
        }
        let (full, lsb_per_v) = (f64::from(p.adc_full_scale), f64::from(p.adc_full_scale) / p.adc_ref_v);
        (0..(seconds * rate) as usize)
            .map(|j| (lsb_per_v * v[marched_point(j, hz, rate)]).round().clamp(0.0, full) as u16)
            .collect()
    }

    /// The march point (cycles times [`MARCH_POINTS`] plus the point) sample `j` at `rate` reads.
    fn marched_point(j: usize, hz: f64, rate: f64) -> usize {
        (j as f64 * hz / rate * MARCH_POINTS as f64) as usize
    }

    /// The mean square (A²) of [`marched_codes`]'s primary current over the samples `span` at
    /// `rate`, each at the march point it reads (a reading's truth over its own samples).
    pub fn marched_mean_square(
        hz: f64,
        current: impl Fn(usize, f64) -> f64,
        rate: f64,
        span: std::ops::Range<usize>,
    ) -> f64 {
        let n = span.len().max(1) as f64;
        span.map(|j| marched_point(j, hz, rate))
            .map(|x| current(x / MARCH_POINTS, (x % MARCH_POINTS) as f64 / MARCH_POINTS as f64).powi(2))
            .sum::<f64>()
            / n
    }

    /// The mean square (A²) of the primary current [`burst_codes`] carries, over the samples
    /// `span` at `rate`: its sine's on-cycles at the samples' instants (each reading's truth
    /// over its own samples).
    pub fn burst_mean_square(
        hz: f64,
        amps: f64,
        on: usize,
        off: usize,
        rate: f64,
        span: std::ops::Range<usize>,
    ) -> f64 {
        burst_beside_mean_square(hz, amps, on, off, |_| 0.0, rate, span)
    }

    /// [`burst_mean_square`] of [`burst_beside_codes`]'s current, the load beside included.
    pub fn burst_beside_mean_square(
        hz: f64,
        amps: f64,
        on: usize,
        off: usize,
        beside: impl Fn(f64) -> f64,
        rate: f64,
        span: std::ops::Range<usize>,
    ) -> f64 {
        let n = span.len().max(1) as f64;
        span.map(|k| k as f64 / rate)
            .map(|t| {
                let heater = if ((t * hz).floor() as usize) % (on + off) < on { amps } else { 0.0 };
                burst_current(heater, &beside, (t * hz).fract()).powi(2)
            })
            .sum::<f64>()
            / n
    }

    /// The primary current (A) at `phase` of a cycle of [`burst_beside_codes`]: the heater's
    /// sine at `heater` A RMS (0 off) and the load beside it.
    fn burst_current(heater: f64, beside: &impl Fn(f64) -> f64, phase: f64) -> f64 {
        heater * std::f64::consts::SQRT_2 * (std::f64::consts::TAU * phase).sin() + beside(phase)
    }

    /// The RMS (A) of the primary current `wave(phase)` A over its cycle, at 4096 points.
    pub fn cycle_rms(wave: impl Fn(f64) -> f64) -> f64 {
        let l = 4096;
        ((0..l).map(|k| wave(k as f64 / l as f64).powi(2)).sum::<f64>() / l as f64).sqrt()
    }

    /// `seconds` of ADC codes at `rate` of the model clamp's steady response (its ADC
    /// capacitor included) to the primary current `wave(phase)` A at `hz`, from phase 0, on
    /// the default 10-bit, 2.5 V converter.
    pub fn steady_codes(wave: impl Fn(f64) -> f64, hz: f64, rate: f64, seconds: f64) -> Vec<u16> {
        let p = CtParams::default();
        let l = 2048;
        let is: Vec<f64> = (0..l).map(|k| wave(k as f64 / l as f64) / p.turns).collect();
        let v = CtModel::new(p).unwrap().steady_state(&is, hz).v_adc;
        (0..(seconds * rate) as usize)
            .map(|j| {
                let x = (j as f64 * hz / rate).fract() * l as f64;
                (1023.0 * v[x as usize % l] / 2.5).round() as u16
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The next state of a xorshift64 generator (13, 7, 17): test inputs, not statistics.
    fn xorshift(x: &mut u64) -> u64 {
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        *x
    }

    /// The implicit step solves its equation, `x = im + c (u0 + v_b + rw i_b)` with
    /// `i_b = is1 - x` on the characteristic, in the table interval a bisection of the whole
    /// table finds, whatever entry its search starts from and whatever slope it is told
    /// there: for steps across the table, from the diodes' knees to beyond its ends.
    #[test]
    fn the_implicit_step_solves_its_equation_from_any_starting_entry() {
        let m = CtModel::builtin();
        let (g, rw) = (&m.g, m.p.rw);
        let n = g.len();
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for i in 0..20_000 {
            xorshift(&mut x);
            let im = ((x >> 8) % 2_000) as f64 * 1e-6 - 1e-3;
            let u0 = ((x >> 24) % 4_000) as f64 * 1e-3 - 1.0;
            let c = [1e-5, 1e-4, 1e-3][i % 3];
            let is1 = match i % 4 {
                0 => ((x >> 32) % 2_000_000) as f64 * 1e-6 - 1.0,
                1 => ((x >> 32) % 20_000) as f64 * 1e-7 - 1e-3,
                2 => g[(x as usize) % n] + im,
                _ => g[0] - 1.0 + ((x >> 40) % 3) as f64 * (g[n - 1] - g[0] + 1.0),
            };
            let near = (x >> 20) as usize % (n + 10);
            let (xm, s, carried) = m.implicit_step(im, u0, is1, c, Near::at(near));
            let ib = is1 - xm;
            // The interval: the last entry at or below the burden current (the first and last
            // intervals extend for ever).
            let want_k = g.partition_point(|&v| v <= ib).saturating_sub(1).min(n - 2);
            assert!(s.k.abs_diff(want_k) <= 1, "interval {} for {want_k} (is1 {is1}, from {near})", s.k);
            let vb = VB_RANGE.0 + (s.k as f64 + (ib - g[s.k]) / (g[s.k + 1] - g[s.k])) * VB_STEP;
            let residual = xm - im - c * (u0 + vb + rw * ib);
            // (Rounding: the sums carry currents of up to a few amps, and tens of amps beyond the
            // table's ends.)
            let scale = 1e-11 * (1.0 + is1.abs() + im.abs() + ib.abs());
            assert!(residual.abs() <= scale, "residual {residual:e} (is1 {is1}, from {near})");
            assert!((s.vb - vb).abs() <= 1e-9, "{} vs {vb}", s.vb);
            // From the root's interval with its slope, and from the random entry with a slope
            // that is not its own (a step at another `c`, or from elsewhere): the same root.
            let slope = carried.inv * [0.01, 0.7, 1.3, 100.0][(x >> 50) as usize % 4];
            for from in [carried, Near::at(s.k), Near { k: near, inv: slope }] {
                let again = m.implicit_step(im, u0, is1, c, from);
                assert!(
                    (again.0 - xm).abs() <= 1e-15 * (1.0 + xm.abs()),
                    "from {near}: {xm}, from {from:?}: {}",
                    again.0
                );
            }
        }
    }

    /// The voltage found from a nearby entry is the full search's, from any starting entry.
    #[test]
    fn adc_search_from_a_nearby_entry_agrees_with_the_full_search() {
        let m = CtModel::builtin();
        let n = m.vq.len();
        let full = |v: f64| {
            let vq = &m.vq;
            if v.is_nan() || v <= 1e-3 || v > vq[n - 1] {
                return None;
            }
            let k = vq.partition_point(|&x| x <= v).saturating_sub(1).min(n - 2);
            Some(VB_RANGE.0 + (k as f64 + (v - vq[k]) / (vq[k + 1] - vq[k])) * VB_STEP)
        };
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for i in 0..20_000 {
            xorshift(&mut x);
            let v = match i % 3 {
                0 => (x % 3_000_000) as f64 * 1e-6,
                1 => m.vq[(x as usize) % n],
                _ => [f64::NAN, 1e-3, m.vq[n - 1], m.vq[n - 1] + 1e-9, -1.0][(x % 5) as usize],
            };
            let mut near = (x >> 20) as usize % (n + 10);
            let got = m.vb_from_adc_near(v, &mut near);
            assert_eq!(got.map(f64::to_bits), full(v).map(f64::to_bits), "v {v}");
        }
    }

    /// The periodic start is periodic: a cycle marched from it ends where it began, to well
    /// under the shooting's tolerance, for sources from a few milliamps to the clamp's range,
    /// sines and narrow (a late-firing dimmer's, a rectifier's) waveforms, at 45-65 Hz, where
    /// the diodes make the one-cycle map nonlinear and its search stops on the predicted next
    /// step ([`converged`]). A search stopped after its first step (as a rule asked without
    /// the last step's size would) ends a 0.7 A sine's cycle 2.5e-11 A away.
    #[test]
    fn the_periodic_start_ends_its_own_cycle() {
        let m = CtModel::builtin();
        let turns = m.params().turns;
        let mut march = March::default();
        for amps in [0.05, 0.7, 3.0, 15.0, 60.0] {
            for hz in [45.0, 50.0, 60.0, 65.0] {
                for shape in 0..3 {
                    let is: Vec<f64> = (0..64)
                        .map(|k| {
                            let x = 2.0 * std::f64::consts::PI * k as f64 / 64.0;
                            let w = match shape {
                                0 => x.sin(),
                                1 if x.rem_euclid(std::f64::consts::PI) > 2.4 => 2.0 * x.sin(),
                                2 => x.sin().powi(9) * 2.5,
                                _ => 0.0,
                            };
                            amps * std::f64::consts::SQRT_2 * w / turns
                        })
                        .collect();
                    let im = m.periodic_start(&is, hz, &mut march);
                    let end = m.march_cycle(&is, hz, im, &mut march);
                    assert!((end - im).abs() < 1e-11, "{amps} A, {hz} Hz, shape {shape}: {im} -> {end}");
                }
            }
        }
    }

    /// The stop on the predicted next step: a Newton-like collapse stops, a merely shrinking
    /// step (linear convergence) does not, and neither does a NaN.
    #[test]
    fn the_shooting_stops_where_the_next_step_would_be_negligible() {
        assert!(converged(6e-10, 3e-4));
        assert!(converged(-1e-9, 2e-5));
        assert!(!converged(1e-9, 1e-8));
        assert!(!converged(2e-6, 1e-4));
        assert!(!converged(f64::NAN, 1e-3));
        assert!(!converged(1e-9, f64::NAN));
    }

    #[test]
    fn default_parameters_are_valid_and_bad_ones_rejected() {
        assert!(CtModel::new(CtParams::default()).is_ok());
        let bad = CtParams { lm: 0.0, ..CtParams::default() };
        assert!(matches!(CtModel::new(bad), Err(ModelError::Parameter { name: "lm", .. })));
        let bad = CtParams { r2: f64::NAN, ..CtParams::default() };
        assert!(CtModel::new(bad).is_err());
    }
}
