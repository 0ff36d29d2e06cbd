//! The mains frequency, from the ADC codes alone, over the last few seconds of the stream.
//!
//! # The measurement
//! The frequency is the peak of a Hann-windowed DFT between 45 and 65 Hz
//! ([`MAINS_HZ_RANGE`]): the fundamental lies below the Nyquist frequency of both link
//! profiles, so it is measured directly even when the waveform's shape is aliased. Any
//! monotonic function of the current (the codes, the table's amps) has the same fundamental.
//! Fast streams are first low-passed and decimated to about 500 values a second
//! ([`Decimator`]), which keeps the search at tens of microseconds a window.
//!
//! # Why a span of seconds, not the reading's window
//! A Hann window of `T` seconds cannot tell apart tones closer than its main lobe's half-width,
//! `2 / T`; a tone that close pulls the peak. Two such tones are common:
//! - **Aliased harmonics.** At a sample rate `fs`, harmonic `k` of a mains at `f` appears at
//!   `|k f − m fs|`; where `(k ∓ 1) f ≈ m fs` it lands next to the fundamental. On the
//!   9600-baud link (`fs` = 603.5 Sa/s = 12 × 50.29 Hz) harmonics 11 and 13 land at
//!   `f ± 12 (f − fs/12)`: 1.2 Hz away for a 50.19 Hz mains, inside a 1 s window's 2 Hz lobe.
//!   A switch-mode supply's harmonics are as strong as its fundamental: a fresh randomized set
//!   (seed 20261201) read a household's supply at 50.635 Hz for 50.194 Hz, and the reading
//!   came out 40 % high through a fold smeared by 0.44 cycles.
//! - **A load switching inside the window.** A tone present for part of the window, beside
//!   another at the same frequency but another phase, peaks tenths of a hertz off (the same
//!   set at 8196.7 Sa/s: 60.51 Hz for 60.256 Hz, its reading 22 % low).
//!
//! The mains frequency is the grid's, not the load's: it moves by hundredths of a hertz over
//! seconds. So the peak is searched over the last [`SPAN_S`] seconds of contiguous stream,
//! where aliases `12 |f − fs/12|` apart separate for `|f − fs/12|` above 0.04 Hz (within
//! 0.08 Hz the 9600-baud link's samples bunch on a dozen phases anyway,
//! [`crate::fold::phases_bunch`]), and a switch is a short part of the span. A frequency that
//! drifts is read at the span's centre: at 0.005 Hz/s (a grid under stress) that is 0.01 Hz
//! late, a tenth of a degree per cycle.
//!
//! [`resolves`] says whether the span a frequency was measured over tells it from every
//! aliased harmonic that can pull it: false means the reading built on it cannot be checked.

use std::collections::VecDeque;

/// Mains frequencies searched for (Hz).
pub const MAINS_HZ_RANGE: (f64, f64) = (45.0, 65.0);

/// Seconds of stream the frequency is measured over (see the module's doc).
pub const SPAN_S: f64 = 4.0;

/// Seconds a load present for part of a window must have been seen for, after its first
/// quarter, for its frequency to be measured over that part alone ([`active_run`]): over a
/// shorter run the inrush dominates (a motor on for a window's last 0.17 s, its inrush
/// decaying over 0.19 s, the loads goldens' `onoff-50hz-4.71a-irregular` at 8196.7 Sa/s:
/// 0.13 Hz off over that run, 0.04 Hz over the whole window). Over 0.2 s or more, on the
/// loads goldens and the committed and five fresh randomized and household sets at
/// 8196.7 Sa/s, 12 windows' values came nearer the truth (0.21 Hz off to 0.006 at most) and
/// none went further.
const MIN_RUN_S: f64 = 0.2;

/// Decimated values a second, about: the block rate of [`Decimator`].
const DECIMATED_RATE: f64 = 500.0;

/// Harmonics of the codes considered by [`resolves`]. The half-wave-rectified signal has
/// every harmonic; a switch-mode supply's fall slowly to about the 15th.
const HARMONICS: usize = 15;

/// Streaming low-pass and decimation by `block` (the fast stream's 8196.7 Sa/s by 16, to
/// 512.3 values a second): three cascaded moving sums of `block` samples (a CIC filter of order
/// three), one output per block. One moving sum (a block average) leaves a harmonic next to a
/// null of its response only 19 dB down (harmonic 9 of a 51.2 Hz mains, 461 Hz, folds onto
/// the fundamental at 512.3 values a second); three leave it 57 dB down. Computed as
/// Hogenauer's: three running sums at the full rate, three differences at the output rate, in
/// wrapping integers (the input in 1/65536ths), which are exact whatever the sums wrap to, so
/// the filter does not drift over months and costs three additions a sample.
#[derive(Debug, Clone)]
pub struct Decimator {
    block: usize,
    /// The running sums (integrators).
    sums: [i64; 3],
    /// The differences' delays (combs), at the output rate.
    delays: [i64; 3],
    /// Samples since the last output.
    phase: usize,
    /// Whether the filter holds samples (else the first one fills it, as if it had been
    /// constant before: the first blocks' outputs are then not lost to the filter's length).
    primed: bool,
}

/// The input's fixed-point scale.
const UNIT: f64 = 65_536.0;

/// `x` in the decimator's fixed point: `(x * UNIT).round()`, half away from zero, without the
/// C library's call that `round` becomes on a target without SSE4.1 (a call per sample: 1.5 %
/// of the default method's time at 8196.7 Sa/s). `y ± 0.5` is exact for `|y|` below 2^52.
fn to_fixed(x: f64) -> i64 {
    let y = x * UNIT;
    if y >= 0.0 {
        (y + 0.5) as i64
    } else {
        -((0.5 - y) as i64)
    }
}

impl Decimator {
    /// A decimator for a stream of `rate_hz`.
    pub fn new(rate_hz: f64) -> Self {
        let block = ((rate_hz / DECIMATED_RATE).floor() as usize).max(1);
        Decimator { block, sums: [0; 3], delays: [0; 3], phase: 0, primed: false }
    }

    /// Output values a second for a stream of `rate_hz`.
    pub fn out_rate(&self, rate_hz: f64) -> f64 {
        rate_hz / self.block as f64
    }

    /// [`resolves`] over `values` of its outputs, for a stream of `rate_hz`; always for a
    /// decimated stream (the filter took the harmonics out).
    fn resolves(&self, hz: f64, rate_hz: f64, values: usize) -> bool {
        let fs = self.out_rate(rate_hz);
        self.block > 1 || resolves(hz, fs, values as f64 / fs)
    }

    /// One input sample; the output if a block is complete.
    fn step(&mut self, v: i64) -> Option<f64> {
        self.sums[0] = self.sums[0].wrapping_add(v);
        self.sums[1] = self.sums[1].wrapping_add(self.sums[0]);
        self.sums[2] = self.sums[2].wrapping_add(self.sums[1]);
        self.phase += 1;
        if self.phase < self.block {
            return None;
        }
        self.phase = 0;
        let mut y = self.sums[2];
        for d in &mut self.delays {
            let prev = std::mem::replace(d, y);
            y = y.wrapping_sub(prev);
        }
        Some(y as f64 / (UNIT * (self.block * self.block * self.block) as f64))
    }

    /// Adds samples; every block completed appends its output.
    pub fn push<T: Copy + Into<f64>>(&mut self, x: &[T], out: &mut VecDeque<f64>) {
        if self.block == 1 {
            out.extend(x.iter().map(|&v| v.into()));
            return;
        }
        let fixed = |v: T| to_fixed(v.into());
        if let (Some(&first), false) = (x.first(), self.primed) {
            // Three blocks of the first value fill the filter.
            for _ in 0..3 * self.block {
                self.step(fixed(first));
            }
            self.primed = true;
        }
        for &v in x {
            if let Some(y) = self.step(fixed(v)) {
                out.push_back(y);
            }
        }
    }
}

/// The mains frequency of a stream, window by window (see the module's doc for why over more
/// than the window).
#[derive(Debug, Clone)]
pub struct MainsHz {
    rate_hz: f64,
    decimator: Decimator,
    /// Decimated values of the last [`SPAN_S`] seconds of contiguous stream.
    history: VecDeque<f64>,
    /// The last windows' frequencies, newest last, each with whether its window was steady
    /// ([`steady`]).
    recent: VecDeque<(f64, bool)>,
    /// Decimated values the last frequency was measured over.
    span: usize,
    /// The last window's frequency where its fold, not its spectrum, told it from an aliased
    /// harmonic beside it (see [`MainsHz::window_judged`]).
    folded: Option<f64>,
    /// Whether the last value stood on enough of the signal to be reported ([`MainsHz::told`]).
    told: bool,
}

impl MainsHz {
    pub fn new(rate_hz: f64) -> Self {
        MainsHz {
            rate_hz,
            decimator: Decimator::new(rate_hz),
            history: VecDeque::new(),
            recent: VecDeque::new(),
            span: 0,
            folded: None,
            told: false,
        }
    }

    /// Forgets the stream so far (samples were lost: what follows is not contiguous with it).
    pub fn reset(&mut self) {
        *self = MainsHz::new(self.rate_hz);
    }

    /// The same stream's sample rate, measured: the span is counted at it from now on, and
    /// the frequencies found at the old rate are scaled to it.
    pub fn set_rate(&mut self, rate_hz: f64) {
        let ratio = rate_hz / self.rate_hz;
        self.recent.iter_mut().for_each(|(f, _)| *f *= ratio);
        self.rate_hz = rate_hz;
    }

    /// Adds a window's samples (contiguous with the last ones) and measures the frequency.
    /// `hint` is the previous window's frequency; `None` when the window is shorter than two
    /// mains cycles, or `signal` is false (a window with no current: its samples are kept
    /// in the span, but its noise's peak is no frequency).
    ///
    /// Each window's own peak is pulled where a load switched inside it; over a span, a
    /// switch pulls every window's peak that holds it (a household record at 8196.7 Sa/s
    /// read 50.105 Hz for 50.194 Hz after one, and a narrow supply's fold, smeared by 0.09
    /// cycles, 17 % low; at 603.5 Sa/s 50.016 Hz for 50 Hz, a kettle's window 20 % low). So a
    /// window is measured on its own where that tells its frequency from the aliased
    /// harmonics ([`resolves`]), over the span only where it does not, and the frequency is
    /// the median of the last [`MEDIAN_WINDOWS`] windows' values, which a switch in one or two
    /// of them does not move.
    pub fn window(&mut self, codes: &[u16], hint: Option<f64>, signal: bool) -> Option<f64> {
        self.window_judged(codes, hint, signal, &|_| None)
    }

    /// [`MainsHz::window`], with a judge of candidate frequencies: `misfit(f)`, how badly a
    /// model of the window at `f` explains its samples, in units of the most the model leaves
    /// where it holds (so 1 or less where it does; `None` where it cannot be fitted), such as
    /// [`crate::burst_fit`]'s residual over what it may leave
    /// ([`crate::burst_fit::Fit::misfit`]).
    pub fn window_judged(
        &mut self,
        codes: &[u16],
        hint: Option<f64>,
        signal: bool,
        misfit: &dyn Fn(f64) -> Option<f64>,
    ) -> Option<f64> {
        self.folded = None;
        self.told = false;
        // Where the spectrum leaves two candidates, the candidate a model explains the window
        // at decides ([`by_misfit`]); where the model holds at none, the window's half-waves
        // are timed against each ([`harmonic_start`]), where a half-wave spans enough samples
        // to be timed. The half-waves are found once, however many candidates are timed
        // against them.
        let rate_hz = self.rate_hz;
        let timed = rate_hz / MAINS_HZ_RANGE.1 >= LOBE_SAMPLES_PER_CYCLE;
        let half_waves = std::cell::OnceCell::new();
        let choose = |f: f64, close: &[f64]| {
            by_misfit(misfit, f, close).unwrap_or_else(|| {
                if timed {
                    by_lobes(half_waves.get_or_init(|| half_waves_of(codes)), rate_hz, f, close)
                } else {
                    f
                }
            })
        };
        let before = self.history.len();
        self.decimator.push(codes, &mut self.history);
        let latest = self.history.len() - before;
        let fs = self.decimator.out_rate(self.rate_hz);
        let keep = (SPAN_S * fs).round() as usize;
        while self.history.len() > keep.max(latest) {
            self.history.pop_front();
        }
        let all = self.history.make_contiguous();
        let own = &all[all.len() - latest..];
        if !signal {
            return None;
        }
        let harmonics = harmonics_seen(self.decimator.block, fs);
        let run = active_run(own);
        let share = run.as_ref().map_or(0.0, |r| r.len() as f64 / own.len() as f64);
        // A load present for less than half of the window, with no other window's value to
        // stand instead ([`MEDIAN_WINDOWS`]), is measured over the values it was present for
        // but their first quarter (a switch-on's inrush, decaying, pulls the peak too),
        // tapered on their own ([`active_run`]), where those last [`MIN_RUN_S`]; else as any
        // other window. Only where the stream is decimated: at 9600 baud so short a run
        // seldom tells the fundamental from the aliased harmonics ([`resolves`]), and where
        // it did (two records of the randomized sets) the readings moved by what the windows
        // after carry, not by the frequency: a motor's window 4 s on (`r08-onoff-2.417a` of
        // the randomized goldens' dev half) from +0.1 % to -5.1 % at the same frequency,
        // its first window's moved by 0.003 Hz.
        let partial = run
            .filter(|_| share < 0.5 && self.recent.is_empty() && self.decimator.block > 1)
            .map(|r| &own[r.start + r.len() / 4..r.end])
            .filter(|part| part.len() as f64 >= MIN_RUN_S * fs)
            .and_then(|part| Some((measure(part, part, fs, harmonics, hint, &choose)?, part.len())));
        // A load present for less than half of the window, no other window's value to stand
        // instead and too short a run to be measured on its own is seen through the Hann
        // window's falling flank alone: the value serves the window's reading (a frequency is
        // needed to fold it) but is not reported ([`MainsHz::told`]).
        self.told = !(share < 0.5 && self.recent.is_empty() && partial.is_none());
        let mut f = if let Some((f, len)) = partial {
            self.span = len;
            f
        } else {
            let alone = measure(own, own, fs, harmonics, hint, &choose)?;
            self.span = own.len();
            if self.decimator.resolves(alone, self.rate_hz, own.len()) {
                alone
            } else {
                self.span = all.len();
                measure(all, own, fs, harmonics, Some(alone), &choose).unwrap_or(alone)
            }
        };
        // Before the span holds [`SPAN_S`] seconds (a stream's first seconds), a value pulled
        // by an aliased harmonic has no others to be outvoted by in the median: where the
        // samples are not decimated, the frequencies it could have been pulled from are tried
        // by the fold ([`crate::phase_dispersion::sharper_among`]). Those over the window's own
        // span: a value the span did not resolve is its window's own harmonic series
        // ([`measure`]).
        if all.len() < keep && self.decimator.block == 1 {
            let pulled = pulled_from(f, fs, own.len() as f64 / fs);
            self.folded = crate::phase_dispersion::sharper_among(codes, self.rate_hz, f, pulled);
            f = self.folded.unwrap_or(f);
        }
        // A window whose load was present for less than half of it was seen through the
        // Hann window's flank: its value stands for itself when no other is known, and is
        // not kept.
        if share < 0.5 {
            if self.recent.is_empty() {
                return Some(f);
            }
        } else {
            self.recent.push_back((f, steady(own, (self.decimator.block > 1).then_some((f, fs)))));
            if self.recent.len() > MEDIAN_WINDOWS {
                self.recent.pop_front();
            }
        }
        // Windows whose load did not change tell the frequency best: where any of the last
        // ones did not, the median is theirs.
        let any_steady = self.recent.iter().any(|&(_, s)| s);
        let mut sorted: Vec<f64> = self.recent.iter().filter(|&&(_, s)| s || !any_steady).map(|&(f, _)| f).collect();
        sorted.sort_by(f64::total_cmp);
        // One window's value, its load changing, with no other to outvote it: it serves the
        // readings but is not reported ([`MainsHz::told`]).
        self.told &= any_steady || sorted.len() > 1;
        Some(sorted[sorted.len() / 2])
    }

    /// Whether the last window's value stood on enough of the signal to be reported as the
    /// mains frequency: not where a load was present for less than half of the window, no
    /// earlier window's value could stand instead, and its run was too short to be measured
    /// on its own (or the stream is not decimated, where no run is). On the randomized set of
    /// seed 20261243 (dev) a motor switched on 25 ms before its first window's end, with a
    /// 6.5x inrush, was measured at 58.9 Hz for 49.085 Hz at the fast link (57.97 Hz at
    /// 9600 baud); every other value of that set, of the committed randomized halves and of
    /// the households of seed 20261242 lay within 0.26 Hz of the truth.
    ///
    /// Nor where the value stands on one window whose load changed, no steady window and no
    /// other value beside it (a stream's first second with current, or a load that is mostly
    /// off): over the committed randomized halves and the fresh sets of seeds 20261254-57
    /// (18 770 readings with a frequency, both rates), values that stood on a steady window
    /// lay within 0.069 Hz of the truth and those on two or more changing windows within
    /// 0.15 Hz; the 86 that stood on one changing window up to 2.24 Hz off (a motor switching
    /// every 1.43 s at 63.847 Hz, seed 20261257, whose one such value was carried through
    /// windows where it was present for less than half: 61.608 Hz at 9600 baud, 64.911 Hz
    /// at the fast link), 15 of them beyond 0.1 Hz.
    pub fn told(&self) -> bool {
        self.told
    }

    /// Whether `hz`, as last measured, is told apart from every aliased harmonic next to it
    /// ([`resolves`]) over the span it was measured on, or by its window's fold (within
    /// [`crate::phase_dispersion::GRID_HZ`]); always, for a decimated stream.
    pub fn resolved(&self, hz: f64) -> bool {
        self.decimator.resolves(hz, self.rate_hz, self.span)
            || self.folded.is_some_and(|g| (g - hz).abs() <= crate::phase_dispersion::GRID_HZ)
    }
}

/// The run of `x` from its first to its last value that departs from its median by more
/// than a tenth of the most any does: where in a window a load was present (the codes of no
/// current are the median of a window that mostly had none). `None` where no value departs.
///
/// Why: the Hann window all but hides a span's ends, so a load switched on in a window's
/// last cycles is seen through the window's steep falling flank alone, which moves its peak
/// by hertz: a motor switched on 0.03 s before a window's end was read at 62.4 Hz for
/// 60.24 Hz, and its next window, through the median of the two, too (3 % low). Present for
/// the last 0.38 s of a window, a thermostatic motor's peak (randomized set of seed 20261239,
/// held out: 49.846 Hz, 6x inrush) lay 0.19-0.25 Hz high at either link; over the run but
/// its first quarter, tapered on its own, 0.006 Hz at the fast link (where that is used:
/// [`MainsHz::window_judged`]).
fn active_run(x: &[f64]) -> Option<std::ops::Range<usize>> {
    if x.is_empty() {
        return None;
    }
    let mut values = x.to_vec();
    let mid = *values.select_nth_unstable_by(x.len() / 2, f64::total_cmp).1;
    let most = x.iter().fold(0.0f64, |m, v| m.max((v - mid).abs()));
    let on = |v: &f64| (v - mid).abs() > 0.1 * most;
    Some(x.iter().position(on)?..x.iter().rposition(on)? + 1)
}

/// Whether the load seen in `x` held still: the variance of each quarter of `x` is within
/// [`STEADY`] of the largest, and, given the window's frequency and the values' rate
/// (`at`: `(f, fs)`), each quarter's fundamental is the same phasor within [`STEADY_PHASOR`]
/// of their mean.
///
/// Why: the median of a few windows' frequencies stands against a switch in one of them only
/// once there are three; at a stream's start there are one or two, and a switch-on's decaying
/// inrush pulls its window's peak (a fridge starting beside a switch-mode supply at
/// 8196.7 Sa/s: 50.132 Hz for 50.072 Hz), which the median of two kept for the next, steady
/// window, whose supply's fold it smeared by 0.06 cycles (9 % low, with no flag). And the
/// variance alone does not see one load handing over to another of about the same
/// fundamental at another phase: a fridge switching off as a switch-mode supply stepped
/// 0.28 -> 2.42 A mid-window (households seed 20261233, `house-01-60.099hz`, the fast link)
/// left the quarters' variances alike, while the phase jump pulled the window's peak to
/// 60.554 Hz for 60.099; taken as the only steady window among the last five, it set the
/// frequency of two windows (one read 20 % high). The phasors are asked only of a decimated
/// stream, whose harmonics the decimator took out: at 9600 baud a narrow waveform's
/// harmonics alias beside its fundamental and turn the quarters' phasors by themselves (the
/// loads goldens' steady 120-degree dimmer at 603.5 Sa/s, so judged, read +5.7 % in a window
/// that read -1.6 %).
fn steady(x: &[f64], at: Option<(f64, f64)>) -> bool {
    let q = x.len() / 4;
    if q < 2 {
        return false;
    }
    let variance = |part: &[f64]| {
        let mean = part.iter().sum::<f64>() / part.len() as f64;
        part.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / part.len() as f64
    };
    let v: Vec<f64> = x.chunks_exact(q).take(4).map(variance).collect();
    let (lo, hi) = v.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), &p| (lo.min(p), hi.max(p)));
    if lo < STEADY * hi {
        return false;
    }
    let Some((f, fs)) = at else { return true };
    // Each quarter's fundamental, Hann-tapered (its harmonics' leakage a few thousandths),
    // turned back to the phase of the window's first value: equal for a load that held still.
    let phasors: Vec<(f64, f64)> = x
        .chunks_exact(q)
        .take(4)
        .enumerate()
        .map(|(i, part)| {
            let (re, im) = dft_at(&hann(part), fs, f);
            let (s, c) = (std::f64::consts::TAU * f * (i * q) as f64 / fs).sin_cos();
            (re * c + im * s, im * c - re * s)
        })
        .collect();
    let mean = phasors.iter().fold((0.0, 0.0), |m, p| (m.0 + p.0 / 4.0, m.1 + p.1 / 4.0));
    let size = mean.0.hypot(mean.1);
    phasors.iter().all(|p| (p.0 - mean.0).hypot(p.1 - mean.1) <= STEADY_PHASOR * size)
}

/// The least ratio of one quarter-window's variance to another's in a steady window. A
/// quarter holds 12 to 16 mains cycles, cut anywhere in a cycle: a steady waveform's
/// quarters differ by a few percent.
const STEADY: f64 = 0.8;

/// How far a steady window's quarters' fundamentals may lie from their mean, as a share of
/// it: a phase 8.6 degrees apart (a measured frequency 0.01 Hz off turns the quarters'
/// phasors 0.9 degrees apart each), where a load handing over to another mid-window turns
/// it by tens of degrees.
const STEADY_PHASOR: f64 = 0.15;

/// Windows whose frequencies the stream's frequency is the median of.
pub const MEDIAN_WINDOWS: usize = 5;

/// The frequency of `x`, sampled at `rate_hz`, alone (no stream before it): for a capture's
/// block, a plot, a calibration record. `hint`: a frequency near the answer, if known.
pub fn estimate_mains_hz<T: Copy + Into<f64>>(x: &[T], rate_hz: f64, hint: Option<f64>) -> Option<f64> {
    let mut d = Decimator::new(rate_hz);
    let mut v = VecDeque::new();
    d.push(x, &mut v);
    let fs = d.out_rate(rate_hz);
    let a = v.make_contiguous();
    measure(a, a, fs, harmonics_seen(d.block, fs), hint, &|f, _| f)
}

/// The frequency over the span `all` (at `fs`) that ends with the window `own`; `None` when
/// the window is shorter than two mains cycles. `choose` as for [`harmonic_start`].
fn measure(
    all: &[f64],
    own: &[f64],
    fs: f64,
    harmonics: usize,
    hint: Option<f64>,
    choose: &dyn Fn(f64, &[f64]) -> f64,
) -> Option<f64> {
    if (own.len() as f64) < 2.0 * fs / MAINS_HZ_RANGE.0 {
        return None;
    }
    // Where to look: the hint (the last window's frequency), else the window's own harmonic
    // series ([`harmonic_start`]).
    let span = all.len() as f64 / fs;
    let hinted = hint.filter(|&h| (MAINS_HZ_RANGE.0..=MAINS_HZ_RANGE.1).contains(&h) && resolves(h, fs, span));
    if let Some(f) = hinted.and_then(|h| peak(all, fs, h)) {
        return Some(f);
    }
    let start = harmonic_start(own, fs, harmonics, choose)?;
    // A span too short to tell the fundamental from an aliased harmonic next to it would pull
    // its peak: the harmonic series, which counts that harmonic as its own, stands.
    if !resolves(start, fs, span) {
        return Some(start);
    }
    Some(peak(all, fs, start).unwrap_or(start))
}

/// Harmonics of the codes a stream seen at `fs` values a second (`block` samples to a value)
/// shows: every one up to [`HARMONICS`] when nothing was filtered (they alias, and are
/// counted where they alias to), else those below the decimated stream's Nyquist frequency.
fn harmonics_seen(block: usize, fs: f64) -> usize {
    if block == 1 {
        HARMONICS
    } else {
        ((fs / 2.0 / MAINS_HZ_RANGE.1).floor() as usize).clamp(1, HARMONICS)
    }
}

/// The frequency whose harmonic series holds the most of `x`'s power, for a window with no
/// frequency to start from.
///
/// The strongest tone between 45 and 65 Hz need not be the fundamental: on the 9600-baud link
/// a narrow waveform's harmonics are as strong as its fundamental, and one can fold into the
/// range (a trailing-edge dimmer conducting 12.8 degrees at 59.736 Hz: harmonic 11, 657.1 Hz,
/// folds to 53.59 Hz, which a fresh randomized set's record was read at, 57 % high). Each of
/// the strongest tones in the range (local maxima of the single-tone spectrum) is a
/// candidate; the one whose harmonics 1..=`harmonics` (each where it aliases to: a sampled
/// DFT at `k f` is its alias's) hold the most power wins. A harmonic `k` of a wrong candidate
/// `f' = j f − m fs` collects only the true series' harmonics `j k`, fewer and weaker. The
/// series is also sharper than one tone (harmonic `k` resolves `f` `k` times finer), so it
/// is not pulled by an alias beside the fundamental.
///
/// A load switching with a period of `P` cycles (a burst-fire heater one cycle on, five off)
/// puts a spectral line at every multiple of `f / P`, and the series of the line
/// `f (P - 1) / P` holds as much as the fundamental's, or more: each on-cycle is an isolated
/// half-wave, whose spectrum falls with frequency (a randomized set's heater at 60.138 Hz,
/// one on, five off, was read at 50.115 Hz at 8196.7 Sa/s; one at 60.65 Hz, one on, four
/// off, at 48.52 Hz). Where candidates' series hold within [`AMBIGUOUS`] of the best,
/// `choose(best, others)` picks among them by the window's samples ([`by_lobes`],
/// [`by_misfit`]).
fn harmonic_start(x: &[f64], fs: f64, harmonics: usize, choose: &dyn Fn(f64, &[f64]) -> f64) -> Option<f64> {
    let n = x.len();
    if n < 4 {
        return None;
    }
    let w = hann(x);
    let (lo, hi) = MAINS_HZ_RANGE;
    let t = n as f64 / fs;
    let (step, grid) = tones(&w, fs);
    let mut maxima: Vec<(f64, f64)> = (0..grid.len())
        .filter(|&i| (i == 0 || grid[i].1 >= grid[i - 1].1) && (i + 1 == grid.len() || grid[i].1 >= grid[i + 1].1))
        .map(|i| grid[i])
        .collect();
    maxima.sort_by(|a, b| b.1.total_cmp(&a.1));
    maxima.truncate(CANDIDATES);
    // The series is searched on a grid a quarter of its finest lobe (`1 / (harmonics t)`)
    // around each candidate, then refined.
    let fine = 0.25 / (harmonics as f64 * t);
    // Harmonics above the Nyquist frequency fold onto lower ones (at `fs / m`, harmonics `k`
    // and `m - k` land together), and one within a main lobe of it meets its own mirror image:
    // counted, they would count one tone twice and favour exactly the frequencies where the
    // link's samples bunch (a 49.91 Hz load was read at 50.29 Hz). So the series holds those
    // a main lobe below it, as a mean (its length changes with `f`).
    let series = |f: f64| {
        let k_max = (((fs / 2.0 - 2.0 / t) / f).floor() as usize).clamp(1, harmonics);
        (1..=k_max).map(|k| power_at(&w, fs, k as f64 * f)).sum::<f64>() / k_max as f64
    };
    // Each candidate's best point of the series (the first of equals, as one search over
    // them all would keep).
    let found: Vec<(f64, f64)> = maxima
        .iter()
        .map(|&(c, _)| {
            let (a, b) = ((c - step).max(lo), (c + step).min(hi));
            let count = ((b - a) / fine).ceil().max(1.0) as usize;
            (0..=count)
                .map(|i| a + (b - a) * i as f64 / count as f64)
                .map(|f| (f, series(f)))
                .fold((f64::NAN, f64::MIN), |best, (f, p)| if p > best.1 { (f, p) } else { best })
        })
        .collect();
    let (mut f, top) = found.iter().copied().fold((f64::NAN, f64::MIN), |b, x| if x.1 > b.1 { x } else { b });
    if !f.is_finite() {
        return None;
    }
    let close: Vec<f64> = found.iter().filter(|x| x.1 >= AMBIGUOUS * top && x.0 != f).map(|x| x.0).collect();
    if !close.is_empty() {
        f = choose(f, &close);
    }
    Some(crate::estimate::golden_section_max(series, (f - fine).max(lo), (f + fine).min(hi), 1e-4))
}

/// The single-tone spectrum of the windowed `w` (at `fs`) over [`MAINS_HZ_RANGE`], on a grid
/// finer than half its main lobe (`2 / T`): the grid's step and `(frequency, power)` points.
fn tones(w: &[f64], fs: f64) -> (f64, Vec<(f64, f64)>) {
    let (lo, hi) = MAINS_HZ_RANGE;
    let step = (0.5 * fs / w.len() as f64).min(0.5);
    let steps = ((hi - lo) / step).ceil() as usize;
    let grid = (0..=steps)
        .map(|k| {
            let f = (lo + k as f64 * step).min(hi);
            (f, power_at(w, fs, f))
        })
        .collect();
    (step, grid)
}

/// Tones of the single-tone spectrum tried as the fundamental by [`harmonic_start`].
const CANDIDATES: usize = 4;

/// Candidates whose harmonic series hold at least this share of the best one's are timed
/// against the half-waves ([`harmonic_start`]). A steady load's other candidates (side lobes,
/// folded harmonics) hold a few percent; a burst's neighbouring lines, as much.
const AMBIGUOUS: f64 = 0.5;

/// How much better (share of the half-waves timed) another candidate must keep time with the
/// half-waves than the best series' to be taken.
const LOBES_MARGIN: f64 = 0.25;

/// The candidate of `close` the half-waves (`lobes`, at `rate_hz`) keep time with
/// ([`lobes_fit`]) if it does so clearly better than `best`, else `best`. Every candidate is
/// timed on the same runs of half-waves, split by [`RUN_GAP`] cycles of the longest
/// candidate's, so that their shares count the same half-waves.
fn by_lobes(lobes: &[(usize, usize)], rate_hz: f64, best: f64, close: &[f64]) -> f64 {
    let lowest = close.iter().fold(best, |m, &g| m.min(g));
    let gap = RUN_GAP * rate_hz / lowest;
    let Some(own) = lobes_fit(lobes, rate_hz / best, gap) else { return best };
    let timed = close.iter().filter_map(|&g| lobes_fit(lobes, rate_hz / g, gap).map(|fit| (g, fit)));
    match timed.max_by(|a, b| a.1.total_cmp(&b.1)) {
        Some((g, fit)) if fit >= own + LOBES_MARGIN => g,
        _ => best,
    }
}

/// The candidate, of `best` and `close`, a model explains the window at (misfit 1 or less,
/// [`MainsHz::window_judged`]) clearly better than at the others (under [`MISFIT_SHARE`] of
/// the next least misfit); `None` where the model holds at none (a burst of several cycles on,
/// which the single-cycle model does not describe) or at two alike.
///
/// Why: twelve samples a cycle time no half-wave, and a heater's single cycles between long
/// rests leave no two half-waves a cycle apart to time at any rate; but a model of the
/// window's load can be fitted at each candidate: a burst-fire heater's single cycles
/// ([`crate::burst_fit`]) left a residual of 0.5-1.1 codes at the mains frequency and 18-88
/// at its burst's neighbouring lines.
fn by_misfit(misfit: &dyn Fn(f64) -> Option<f64>, best: f64, close: &[f64]) -> Option<f64> {
    let mut fitted: Vec<(f64, f64)> =
        std::iter::once(best).chain(close.iter().copied()).filter_map(|g| misfit(g).map(|m| (g, m))).collect();
    fitted.sort_by(|a, b| a.1.total_cmp(&b.1));
    match fitted.as_slice() {
        [(g, m)] if *m <= 1.0 => Some(*g),
        [(g, m), (_, next), ..] if *m <= 1.0 && *m < MISFIT_SHARE * next => Some(*g),
        _ => None,
    }
}

/// How much better (ratio of misfits) a candidate must be explained than every other to be
/// taken ([`by_misfit`]).
const MISFIT_SHARE: f64 = 0.5;

/// Samples a cycle, at least, for [`lobes_fit`] to time half-waves: its tolerance,
/// [`LOBE_TOL`] of a cycle, must be a few samples.
const LOBE_SAMPLES_PER_CYCLE: f64 = 100.0;

/// How near (share of a cycle) a half-wave's timing must come to a whole number of cycles.
const LOBE_TOL: f64 = 0.03;

/// The half-waves of a window's `codes`, as (first sample, peak sample): runs of codes above a
/// twentieth of the way from the window's median (no current, where the load is off most of
/// the time) to its peak, of which only those rising to a quarter of the way count. None
/// where the codes hardly move (under 8 codes from median to peak).
fn half_waves_of(codes: &[u16]) -> Vec<(usize, usize)> {
    let mut lobes = Vec::new();
    if codes.is_empty() {
        return lobes;
    }
    let mut sorted = codes.to_vec();
    let mid = sorted.len() / 2;
    let median = f64::from(*sorted.select_nth_unstable(mid).1);
    let peak = f64::from(codes.iter().copied().max().unwrap_or(0));
    if peak - median < 8.0 {
        return lobes;
    }
    let (edge, tall) = (median + 0.05 * (peak - median), median + 0.25 * (peak - median));
    let mut k = 0;
    while k < codes.len() {
        if f64::from(codes[k]) <= edge {
            k += 1;
            continue;
        }
        let start = k;
        let mut top = (k, codes[k]);
        while k < codes.len() && f64::from(codes[k]) > edge {
            if codes[k] > top.1 {
                top = (k, codes[k]);
            }
            k += 1;
        }
        if f64::from(top.1) >= tall {
            lobes.push((start, top.0));
        }
    }
    lobes
}

/// The share of a window's half-waves ([`half_waves_of`]) that keep a mains cycle of
/// `period` samples: each but its run's first starts a whole number of cycles (to
/// [`LOBE_TOL`] of one) after the half-wave before it starts, or, starting within
/// [`RUN_SPAN`] cycles of its run's first start, starts or peaks a whole number of cycles
/// after it. A run begins with a half-wave that starts more than `run_gap` samples after the
/// last one did (a start from rest), or with the window's first. `None` where no half-wave
/// follows another in its run.
///
/// Physics: a load on for whole cycles starts at the source's zero crossing, and from rest
/// the clamp holds no magnetizing current to move that start. The first cycle leaves the
/// magnetizing current offset, so the half-waves after it start early (a seventh of a cycle
/// at 2.5-16 A through the model), but each a cycle after the last. When the source stops,
/// the clamp's kick (its magnetizing current, now flowing through the burden) peaks right
/// then: a whole number of cycles after the run started (one for a single on-cycle: 135-136
/// samples for 136.3, two randomized sets' heaters at 8196.7 Sa/s). A half-wave's peak is
/// timed from the run's start alone, not from the half-wave before: a heater's second
/// on-cycle in ten at 50 Hz peaks 0.99 of a 45 Hz cycle after the first started, and its
/// kick 1.02 after the second started, so timed so it kept time with 45 Hz better than with
/// 50 Hz, and every reading of it was folded at 45 Hz (3.8 % high at 5 A). A wrong
/// candidate a sixth or a tenth away from the mains keeps time with neither.
fn lobes_fit(lobes: &[(usize, usize)], period: f64, run_gap: f64) -> Option<f64> {
    if lobes.len() < 2 || period.is_nan() || period <= 0.0 {
        return None;
    }
    let keeps_time = |d: usize| {
        let cycles = d as f64 / period;
        let whole = cycles.round();
        whole >= 1.0 && (cycles - whole).abs() <= LOBE_TOL
    };
    let (mut counted, mut kept) = (0usize, 0usize);
    let mut run = lobes[0].0;
    for w in lobes.windows(2) {
        let (last, (start, peak)) = (w[0].0, w[1]);
        if (start - last) as f64 > run_gap {
            run = start;
            continue;
        }
        let from_run = (start - run) as f64 <= RUN_SPAN * period && (keeps_time(start - run) || keeps_time(peak - run));
        counted += 1;
        kept += usize::from(keeps_time(start - last) || from_run);
    }
    (counted > 0).then(|| kept as f64 / counted as f64)
}

/// Cycles between two half-waves' starts past which the later one starts a run of its own
/// ([`by_lobes`]): an on-cycle two cycles after the last (one on, one off) stays in its run,
/// one after two cycles or more at rest starts one.
const RUN_GAP: f64 = 2.5;

/// Cycles from a run's start within which its half-waves are timed ([`lobes_fit`]): the
/// tolerance of a whole number of cycles holds a candidate's error over a few cycles, not
/// over a window of fifty.
const RUN_SPAN: f64 = 3.5;

/// `x` less its mean, through a Hann window.
fn hann(x: &[f64]) -> Vec<f64> {
    let n = x.len();
    let mean = x.iter().sum::<f64>() / n as f64;
    x.iter()
        .enumerate()
        .map(|(i, v)| {
            let hann = 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / (n - 1) as f64).cos();
            hann * (v - mean)
        })
        .collect()
}

/// Whether a frequency `hz` measured over `span_s` seconds of a stream seen at `fs` values a
/// second is told apart from every harmonic up to `HARMONICS` that folds near it: each
/// lands further from it than the Hann main lobe's half-width, `2 / span_s`.
pub fn resolves(hz: f64, fs: f64, span_s: f64) -> bool {
    alias_clearance(hz, fs) > 2.0 / span_s
}

/// The frequencies on a grid of [`crate::phase_dispersion::GRID_HZ`] that a peak at `hz`,
/// measured over `span_s` seconds at `fs`, may have been pulled from: those an aliased
/// harmonic lands beside, within the Hann main lobe's half-width (`2 / span_s`, so not
/// [`resolves`]), and nearer `hz` than that harmonic is to them (two tones within a lobe
/// peak between them).
fn pulled_from(hz: f64, fs: f64, span_s: f64) -> impl Iterator<Item = f64> {
    let grid = crate::phase_dispersion::GRID_HZ;
    let reach = 2.0 / span_s;
    let (lo, hi) = ((hz - reach).max(MAINS_HZ_RANGE.0), (hz + reach).min(MAINS_HZ_RANGE.1));
    let count = ((hi - lo) / grid).floor().max(0.0) as usize;
    (0..=count)
        .map(move |i| lo + i as f64 * grid)
        .filter(move |&f| !resolves(f, fs, span_s) && (f - hz).abs() < alias_clearance(f, fs))
}

/// How close (Hz) the nearest harmonic 2..=`HARMONICS` of `hz` folds to `hz` at `fs`.
pub fn alias_clearance(hz: f64, fs: f64) -> f64 {
    (2..=HARMONICS)
        .map(|k| {
            let x = k as f64 * hz;
            let folded = (x - fs * (x / fs).round()).abs();
            (folded - hz).abs()
        })
        .fold(f64::INFINITY, f64::min)
}

/// The Hann-windowed DFT's peak of `x` at `fs` within ±0.5 Hz of `near` (and
/// [`MAINS_HZ_RANGE`]); `None` if the peak there is no main lobe (see below).
fn peak(x: &[f64], fs: f64, near: f64) -> Option<f64> {
    let n = x.len();
    if n < 4 {
        return None;
    }
    let w = hann(x);
    let power = |f: f64| power_at(&w, fs, f);
    let (lo, hi) = MAINS_HZ_RANGE;
    let t = n as f64 / fs;
    // A grid finer than half the main lobe (2 / T), then golden-section refinement: the
    // bracket can hold two peaks (an aliased harmonic beside the fundamental), which a
    // golden-section search alone could settle between.
    let step = (0.5 / t).min(0.5);
    let (a, b) = ((near - 0.5).max(lo), (near + 0.5).min(hi));
    let steps = ((b - a) / step).ceil().max(1.0) as usize;
    let (mut best_f, mut best_p) = (a, f64::MIN);
    for k in 0..=steps {
        let f = (a + k as f64 * (b - a) / steps as f64).min(b);
        let p = power(f);
        if p > best_p {
            best_f = f;
            best_p = p;
        }
    }
    let g = (b - a) / steps as f64;
    let f = crate::estimate::golden_section_max(power, (best_f - g).max(a), (best_f + g).min(b), 1e-3);
    // Mains frequency drifts by hundredths of a hertz per second, so the last value is refined
    // within +-0.5 Hz. The bracket alone can hold a sidelobe of a tone outside it, which a
    // wrong hint (left by a window with almost no signal) would then lock onto for good (a
    // 50 Hz load once read at 45.56 Hz that way): the peak found must hold a main lobe's share
    // of the energy. A tone's Hann peak is a third of `n * sum(w^2)`, a narrow pulse train's
    // fundamental a few percent of that; a sidelobe (-31 dB) a few ten-thousandths. A result
    // at the bracket's edge also means the hint was wrong.
    let energy = n as f64 * w.iter().map(|v| v * v).sum::<f64>();
    let inside = (f - a > 0.01 || a <= lo) && (b - f > 0.01 || b >= hi);
    (inside && power(f) >= 0.01 * energy).then_some(f)
}

/// `|DFT(w)(f)|²` ([`dft_at`]).
fn power_at(w: &[f64], fs: f64, f: f64) -> f64 {
    let (re, im) = dft_at(w, fs, f);
    re * re + im * im
}

/// `DFT(w)(f)`, its real and imaginary parts, at the phase of `w`'s first value.
///
/// Goertzel's recurrence, `s_m = y_m + 2 cos(w) s_{m-1} - s_{m-2}`, one multiply and two adds a
/// value, after which `sum_m y_m e^{-i w m} = e^{-i w (M-1)} (s_{M-1} - e^{-i w} s_{M-2})`. Each
/// step waits on the last, so four recurrences run side by side, lane `l` over values
/// `l, l + 4, ...` at `4 w`, their sums turned by `e^{-i w l}` and added. (Rotating a phasor
/// through every value, as this was done before, costs four multiplies and four adds a value.)
/// Its rounding grows with the values' count squared where `4 w` nears a whole turn: for the
/// few thousand values of a span, some 10^-12 of the result (`the_dft_is_the_sum_it_stands_for`).
fn dft_at(w: &[f64], fs: f64, f: f64) -> (f64, f64) {
    const LANES: usize = 4;
    let w1 = std::f64::consts::TAU * f / fs;
    let wl = LANES as f64 * w1;
    let (sin_l, cos_l) = wl.sin_cos();
    let coeff = 2.0 * cos_l;
    let (mut s1, mut s2) = ([0.0f64; LANES], [0.0f64; LANES]);
    let step = |y: f64, s1: &mut f64, s2: &mut f64| {
        let s0 = y + coeff * *s1 - *s2;
        *s2 = std::mem::replace(s1, s0);
    };
    let chunks = w.chunks_exact(LANES);
    let tail = chunks.remainder();
    let whole = chunks.len();
    for v in chunks {
        for k in 0..LANES {
            step(v[k], &mut s1[k], &mut s2[k]);
        }
    }
    let (mut re, mut im) = (0.0, 0.0);
    for k in 0..LANES {
        let mut m = whole;
        if let Some(&y) = tail.get(k) {
            step(y, &mut s1[k], &mut s2[k]);
            m += 1;
        }
        if m == 0 {
            continue;
        }
        let (zr, zi) = (s1[k] - cos_l * s2[k], sin_l * s2[k]);
        let (ps, pc) = (wl * (m - 1) as f64 + w1 * k as f64).sin_cos();
        re += zr * pc + zi * ps;
        im += zi * pc - zr * ps;
    }
    (re, im)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The recurrence gives the DFT's defining sum, `sum_n w_n e^{-i 2 pi f n / fs}` (each
    /// term's sine and cosine taken afresh here), to 1e-10 of the values' total size: at
    /// lengths that leave each lane's tail, and at frequencies where the lanes' step `4 w`
    /// nears a whole turn or a half (where the recurrence's rounding grows most).
    #[test]
    fn the_dft_is_the_sum_it_stands_for() {
        let fs = 603.5;
        for n in [1, 2, 3, 5, 7, 604, 2414, 2417] {
            let w: Vec<f64> = (0..n).map(|k| ((k * 7919 % 1000) as f64 / 500.0 - 1.0) + 0.3).collect();
            let size: f64 = w.iter().map(|v| v.abs()).sum();
            for f in [45.0, 50.0, 60.35, 150.875, 150.876, 75.4375, 301.75, 1.0e-3] {
                let (re, im) = dft_at(&w, fs, f);
                let (mut er, mut ei) = (0.0, 0.0);
                for (k, v) in w.iter().enumerate() {
                    let (s, c) = (std::f64::consts::TAU * f * k as f64 / fs).sin_cos();
                    er += v * c;
                    ei -= v * s;
                }
                assert!(
                    (re - er).abs() <= 1e-10 * size && (im - ei).abs() <= 1e-10 * size,
                    "{n} at {f}: {re} {im} against {er} {ei}"
                );
            }
        }
    }

    /// The judge of candidates the spectrum cannot tell apart: the one a model explains the
    /// window at (misfit 1 or less), clearly better than every other; nothing where the model
    /// holds at none or at two alike, or cannot be fitted.
    #[test]
    fn a_candidate_is_taken_only_where_the_model_holds_there_alone() {
        let judge = |table: &'static [(f64, f64)]| {
            move |f: f64| table.iter().find(|&&(g, _)| (g - f).abs() < 1e-9).map(|&(_, m)| m)
        };
        let (best, close) = (60.0, [50.0, 55.0]);
        assert_eq!(by_misfit(&judge(&[(60.0, 6.0), (50.0, 0.1), (55.0, 9.0)]), best, &close), Some(50.0));
        assert_eq!(by_misfit(&judge(&[(60.0, 0.2), (50.0, 6.0), (55.0, 9.0)]), best, &close), Some(60.0));
        // Nowhere within the model's reach (a burst of several cycles on).
        assert_eq!(by_misfit(&judge(&[(60.0, 8.0), (50.0, 2.0), (55.0, 9.0)]), best, &close), None);
        // Two alike.
        assert_eq!(by_misfit(&judge(&[(60.0, 0.5), (50.0, 0.4), (55.0, 9.0)]), best, &close), None);
        // Only one could be fitted, and the model holds there.
        assert_eq!(by_misfit(&judge(&[(50.0, 0.3)]), best, &close), Some(50.0));
        assert_eq!(by_misfit(&judge(&[]), best, &close), None);
    }

    /// `seconds` of codes at `rate` of a half-wave pulse train at `hz`: 600 codes while the
    /// phase (in cycles) is in `[from, to)`, the no-current level 100 else; `phase0` shifts it.
    fn pulses(hz: f64, rate: f64, seconds: f64, from: f64, to: f64, phase0: f64) -> Vec<u16> {
        (0..(seconds * rate).round() as usize)
            .map(|k| {
                let p = (k as f64 * hz / rate + phase0).rem_euclid(1.0);
                if (from..to).contains(&p) {
                    600
                } else {
                    100
                }
            })
            .collect()
    }

    /// A burst-fire heater, `on` cycles on and `off` off, through the clamp model
    /// ([`crate::clamp_model::records::burst_codes`]) at `per_cycle` samples a cycle of
    /// 8196.7 Sa/s: the ADC codes of `seconds` of it, the rate and the mains frequency.
    fn burst_codes(per_cycle: usize, on: usize, off: usize, amps: f64, seconds: usize) -> (Vec<u16>, f64, f64) {
        let rate = 1e6 / 122.0;
        let hz = rate / per_cycle as f64;
        let mut codes = crate::clamp_model::records::burst_codes(hz, amps, on, off, rate, seconds as f64);
        // Whole windows of `rate as usize` samples, as [`window_by_window`] reads them.
        codes.truncate(seconds * rate as usize);
        (codes, rate, hz)
    }

    /// A burst of single cycles puts a line at every multiple of `f / P` (`P` cycles to its
    /// period), and on the fast link the series of the line below the mains holds as much as
    /// the mains': the half-waves' timing (the clamp's kick peaking one cycle after each
    /// on-cycle starts) tells them apart. Checked where the sixth or fifth line below lies in
    /// the range (60 Hz, one on and five or four off; 50 Hz, one on and nine off), and on
    /// bursts whose candidates are not in doubt.
    #[test]
    fn a_burst_of_single_cycles_is_read_at_its_mains_frequency() {
        let bursts = [(136, 1, 5), (136, 1, 4), (135, 1, 6), (164, 1, 9), (164, 1, 4), (136, 2, 4), (164, 3, 7)];
        // Two cycles on: the second on-cycle's half-wave starts a seventh of a cycle early
        // (the first left the clamp's magnetizing current offset), so the half-waves keep
        // time with the line below the mains (45 Hz for 50, 54 for 60, eight off).
        let pairs = [(164, 2, 8), (136, 2, 8), (164, 2, 3), (136, 2, 6), (150, 2, 7), (164, 4, 6)];
        for (per_cycle, on, off) in bursts.into_iter().chain(pairs) {
            for amps in [2.5, 5.0, 16.0] {
                let (codes, rate, hz) = burst_codes(per_cycle, on, off, amps, 4);
                let got = window_by_window(&codes, rate as usize, rate);
                for f in got {
                    assert!((f - hz).abs() < 0.05, "{on} on, {off} off at {hz:.3} Hz, {amps} A: read {f:.3} Hz");
                }
            }
        }
    }

    /// Half-waves timed against a candidate's cycle: a load on every cycle keeps time with
    /// its own period and not with one a tenth longer; the two-on, eight-off heater's
    /// half-waves as the model gives them at 50 Hz and 8196.7 Sa/s (the second starting 22
    /// samples early, the kick peaking two cycles after the first start) keep time with
    /// 50 Hz no worse than with 45 Hz; half-waves each starting a run time nothing.
    #[test]
    fn half_waves_keep_time_from_their_run_s_start() {
        let period = 163.9;
        let gap = RUN_GAP * 182.1;
        let steady: Vec<(usize, usize)> =
            (0..20).map(|j| ((j as f64 * period) as usize, (j as f64 * period) as usize + 40)).collect();
        assert_eq!(lobes_fit(&steady, period, gap), Some(1.0));
        assert_eq!(lobes_fit(&steady, 1.1 * period, gap), Some(0.0));
        let burst = [(2, 24), (142, 182), (306, 328), (1641, 1664), (1781, 1822), (1945, 1967)];
        let (at_50, at_45) = (lobes_fit(&burst, period, gap).unwrap(), lobes_fit(&burst, 182.1, gap).unwrap());
        assert!(at_50 >= at_45, "{at_50} {at_45}");
        assert_eq!(by_lobes(&burst, 1e6 / 122.0, 50.0, &[45.0, 55.0]), 50.0);
        assert_eq!(lobes_fit(&[(0, 20), (2000, 2020), (4000, 4020)], period, gap), None);
    }

    /// The frequency of each window of `n` samples of `x` at `rate`, as a stream is read
    /// (each window hinted with the last one's).
    fn window_by_window(x: &[u16], n: usize, rate: f64) -> Vec<f64> {
        let mut m = MainsHz::new(rate);
        let mut last = None;
        let mut got = Vec::new();
        for w in x.chunks(n) {
            let f = m.window(w, last, true).unwrap();
            got.push(f);
            last = Some(f);
        }
        got
    }

    const LAUNCHPAD: f64 = 1e6 / 1657.0;
    const FAST: f64 = 1e6 / 122.0;

    /// The fixed point rounds as `f64::round` does, halves and negatives included.
    #[test]
    fn fixed_point_rounds_half_away_from_zero() {
        for k in -40_000..40_000 {
            for x in
                [k as f64 / 131_072.0, k as f64 * 0.37 / 65_536.0, k as f64 / 65_536.0 + 1e-9, 1023.0 - k as f64 * 1e-3]
            {
                assert_eq!(to_fixed(x), (x * UNIT).round() as i64, "{x}");
            }
        }
    }

    /// The frequencies a peak may have been pulled from are those an alias lands beside,
    /// within the main lobe, nearer than the alias.
    #[test]
    fn a_peak_is_pulled_only_from_where_an_alias_lands_within_its_lobe() {
        // The household of seed 20261236: 50.194 Hz, measured at 49.937 Hz over its first
        // second (harmonic 13 lands 1.18 Hz below it).
        let from: Vec<f64> = pulled_from(49.937, LAUNCHPAD, 1.0).collect();
        assert!(from.iter().any(|&f| (f - 50.194).abs() < 0.0015), "{from:?}");
        for &f in &from {
            assert!(alias_clearance(f, LAUNCHPAD) < 2.0 && (f - 49.937).abs() < alias_clearance(f, LAUNCHPAD));
        }
        // Over the whole span, only frequencies within 0.042 Hz of 603.5 / 12 Hz are
        // unresolved.
        let bunch = LAUNCHPAD / 12.0;
        assert!(pulled_from(49.937, LAUNCHPAD, SPAN_S).all(|f| (f - bunch).abs() < 0.042));
    }

    /// Where harmonics fold, by hand: at 603.5 Sa/s, harmonics 11 and 13 of 50.194 Hz fold
    /// to 603.5 - 552.13 = 51.37 Hz and 652.52 - 603.5 = 49.02 Hz, 1.17 Hz from it; harmonic
    /// 11 of 59.736 Hz (657.10 Hz) to 53.60 Hz.
    #[test]
    fn harmonics_fold_where_arithmetic_says() {
        assert!((alias_clearance(50.194, LAUNCHPAD) - 12.0 * (LAUNCHPAD / 12.0 - 50.194)).abs() < 1e-9);
        assert!((alias_clearance(50.194, LAUNCHPAD) - 1.176).abs() < 0.01);
        assert!(!resolves(50.194, LAUNCHPAD, 1.0) && resolves(50.194, LAUNCHPAD, SPAN_S));
        // Exactly on a dozen samples a cycle nothing separates them.
        assert!(alias_clearance(LAUNCHPAD / 12.0, LAUNCHPAD) < 1e-9);
    }

    /// A trailing-edge dimmer conducting 12.8 degrees of each half-cycle (2.57 A when fully
    /// on), through the clamp model: its strongest tone in 45-65 Hz is harmonic 11 folded to
    /// 53.6 Hz, which the single-tone peak takes; the harmonic series finds the fundamental.
    #[test]
    fn a_folded_harmonic_is_not_taken_for_the_fundamental() {
        use crate::clamp_model::{CtModel, CtParams};
        let hz = 59.736;
        let p = CtParams::default();
        let l = 4096;
        let cut = 12.8 / 360.0;
        let is: Vec<f64> = (0..l)
            .map(|k| {
                let ph = k as f64 / l as f64;
                let on = ph < cut || (0.5..0.5 + cut).contains(&ph);
                if on {
                    2.572 * std::f64::consts::SQRT_2 * (std::f64::consts::TAU * ph).sin() / p.turns
                } else {
                    0.0
                }
            })
            .collect();
        let v = CtModel::new(p).unwrap().steady_state(&is, hz).v_adc;
        let x: Vec<u16> = (0..LAUNCHPAD.round() as usize)
            .map(|j| (1023.0 * v[((j as f64 * hz / LAUNCHPAD).fract() * l as f64) as usize % l] / 2.5).round() as u16)
            .collect();
        let vals: Vec<f64> = x.iter().map(|&c| f64::from(c)).collect();
        let (_, grid) = tones(&hann(&vals), LAUNCHPAD);
        let strongest = grid.iter().max_by(|a, b| a.1.total_cmp(&b.1)).unwrap().0;
        let single = peak(&vals, LAUNCHPAD, strongest).unwrap();
        assert!((single - (11.0 * hz - LAUNCHPAD)).abs() < 0.1, "the trap: {single}");
        // Within 0.02 Hz: 7 degrees of phase walk over the second (the single-tone refinement
        // still feels the strong tone 6 Hz away), against 6 Hz for the trap.
        let got = estimate_mains_hz(&x, LAUNCHPAD, None).unwrap();
        assert!((got - hz).abs() < 0.02, "{got}");
        let mut m = MainsHz::new(LAUNCHPAD);
        let got = m.window(&x, None, true).unwrap();
        assert!((got - hz).abs() < 0.02, "{got}");
    }

    /// A switch-mode supply's current pulses near the peak at 50.194 Hz: over one second its
    /// aliased harmonics 11 and 13 pull the peak; over the span they do not, and the first
    /// window says its frequency is unresolved.
    #[test]
    fn aliased_harmonics_beside_the_fundamental_need_the_span() {
        let hz = 50.194;
        let x = pulses(hz, LAUNCHPAD, 6.0, 0.2, 0.3, 0.37);
        let n = LAUNCHPAD.round() as usize;
        let mut m = MainsHz::new(LAUNCHPAD);
        let mut last = None;
        for (i, w) in x.chunks(n).enumerate() {
            let f = m.window(w, last, true).unwrap();
            if i == 0 {
                assert!(!m.resolved(f), "the first second cannot tell: {f}");
            }
            if i >= 3 {
                assert!(m.resolved(f));
                assert!((f - hz).abs() < 0.005, "window {i}: {f}");
            }
            last = Some(f);
        }
    }

    /// At 8196.7 Sa/s a load switching on mid-window beside another at another phase pulls
    /// that window's own peak; the median of the last windows does not move.
    #[test]
    fn a_switch_inside_a_window_does_not_move_the_decimated_frequency() {
        let hz = 60.256;
        let rate = FAST;
        let n = rate.round() as usize;
        let base = pulses(hz, rate, 8.0, 0.2, 0.3, 0.0);
        // A second, wider current from 6.42 s on, its pulses a quarter cycle later.
        let on = (6.42 * rate) as usize;
        let x: Vec<u16> = base
            .iter()
            .enumerate()
            .map(|(k, &c)| {
                let p = (k as f64 * hz / rate).rem_euclid(1.0);
                if k >= on && (0.45..0.7).contains(&p) {
                    c + 300
                } else {
                    c
                }
            })
            .collect();
        let own = estimate_mains_hz(&x[6 * n..7 * n], rate, Some(hz)).unwrap();
        assert!((own - hz).abs() > 0.02, "the trap: the switch's own window reads {own}");
        let got = window_by_window(&x, n, rate);
        assert!(got.iter().all(|f| (f - hz).abs() < 0.01), "{got:?} (the switch's own window: {own})");
    }

    /// A stream that starts with a load switching on and its inrush decaying (a fridge beside
    /// a supply, at 8196.7 Sa/s): the first window's own peak is pulled, and the median of
    /// two windows was the larger, the pulled one, for the steady second window too, whose
    /// supply's fold it then smeared. The steady window's own frequency stands.
    #[test]
    fn a_steady_window_after_an_inrush_keeps_its_own_frequency() {
        let rate = FAST;
        let n = rate.round() as usize;
        for (hz, inrush_at) in [(50.072, 0.21), (59.788, 0.35), (55.3, 0.6)] {
            let base = pulses(hz, rate, 3.0, 0.2, 0.3, 0.0);
            // The second load: wider pulses a quarter cycle later, 7 times their settled
            // height when switched on, decaying with a time constant of 0.1 s to nothing.
            let x: Vec<u16> = base
                .iter()
                .enumerate()
                .map(|(k, &c)| {
                    let t = k as f64 / rate;
                    let p = (k as f64 * hz / rate).rem_euclid(1.0);
                    if t >= inrush_at && (0.45..0.7).contains(&p) {
                        c + (60.0 * 7.0 * (-(t - inrush_at) / 0.1).exp()).round() as u16
                    } else {
                        c
                    }
                })
                .collect();
            let own = estimate_mains_hz(&x[..n], rate, Some(hz)).unwrap();
            assert!((own - hz).abs() > 0.02, "the trap: the inrush's own window reads {own}");
            let got = window_by_window(&x, n, rate);
            assert!(
                got[1..].iter().all(|f| (f - hz).abs() < 0.01),
                "{hz} Hz: {got:?} (the inrush's own window: {own})"
            );
        }
    }

    /// At 8196.7 Sa/s a load switched on in a window's last cycles, after windows with no
    /// current: that window's own peak, seen through the Hann window's flank, is hertz off,
    /// and is not kept for the next window, whose load is on throughout.
    #[test]
    fn a_load_seen_in_a_window_s_last_cycles_does_not_set_the_next() {
        let hz = 60.242;
        let rate = FAST;
        // Quiet (the no-current level, 100) until 2.2 cycles before the second window's end.
        let (got, told) = told_by_window(&switched_on(hz, rate, 2.0 - 2.2 / hz), rate);
        assert!(got[1].is_some_and(|f| (f - hz).abs() > 0.5), "the trap: the switch's own window reads {got:?}");
        assert!(got[2..].iter().all(|f| f.is_some_and(|f| (f - hz).abs() < 0.01)), "{got:?}");
        // That window's value is not reported; every later one is.
        assert_eq!(told[1..], [false, true, true], "{got:?}");
    }

    /// Four seconds of half-wave pulses at `hz` switched on at `on_s` seconds, the
    /// no-current level (100) before.
    fn switched_on(hz: f64, rate: f64, on_s: f64) -> Vec<u16> {
        let on = on_s * rate;
        pulses(hz, rate, 4.0, 0.0, 0.45, 0.0)
            .into_iter()
            .enumerate()
            .map(|(k, c)| if (k as f64) < on { 100 } else { c })
            .collect()
    }

    /// `x` through [`MainsHz::window`] in 1 s windows, the first taken as having no current:
    /// each window's value and whether it was told.
    fn told_by_window(x: &[u16], rate: f64) -> (Vec<Option<f64>>, Vec<bool>) {
        let mut m = MainsHz::new(rate);
        let mut last = None;
        let (mut got, mut told) = (Vec::new(), Vec::new());
        for (i, w) in x.chunks(rate.round() as usize).enumerate() {
            let f = m.window(w, last, i > 0);
            got.push(f);
            told.push(m.told());
            last = f.or(last);
        }
        (got, told)
    }

    /// A load switched on 0.3 s into a stream's second window (no current before) and steady
    /// after: the switch-on window's value, the only one, its load changing, is not
    /// reported; once a steady window stands beside it, the value is.
    #[test]
    fn one_changing_window_s_value_alone_is_not_reported() {
        let hz = 57.31;
        let rate = FAST;
        let (got, told) = told_by_window(&switched_on(hz, rate, 1.3), rate);
        assert!(got[1..].iter().all(|f| f.is_some_and(|f| (f - hz).abs() < 0.05)), "{got:?}");
        assert_eq!(told[1..], [false, true, true], "{got:?}");
    }

    /// A stream whose load is present for less than half of its first windows (a
    /// thermostatic motor switched on late in one, off early in another, with no current
    /// between): each such window's own peak, seen through the Hann window's flank and pulled
    /// by the inrush, lay 0.2-0.25 Hz off on a randomized set's motor (seed 20261239); over
    /// the run the load was present for, but its first quarter (at least [`MIN_RUN_S`]),
    /// within 0.02 Hz.
    #[test]
    fn a_load_present_for_part_of_a_window_is_measured_over_that_part() {
        let rate = FAST;
        let n = rate.round() as usize;
        for (hz, on, off) in [(49.846, 0.62, 1.3), (60.31, 0.55, 1.42), (55.7, 0.7, 1.32)] {
            // Half-wave pulses, seven times their settled height at the switch, decaying with
            // a time constant of 0.05 s; the no-current level, 100, before `on` and after
            // `off` (seconds), over two windows.
            let x: Vec<u16> = pulses(hz, rate, 2.0, 0.0, 0.45, 0.0)
                .into_iter()
                .enumerate()
                .map(|(k, c)| {
                    let t = k as f64 / rate;
                    if !(on..off).contains(&t) || c == 100 {
                        return 100;
                    }
                    let kick = 1.0 + 6.0 * (-(t - on) / 0.05).exp();
                    (100.0 + f64::from(c - 100) * kick / 7.0).round() as u16
                })
                .collect();
            let own = estimate_mains_hz(&x[..n], rate, None).unwrap();
            assert!((own - hz).abs() > 0.1, "the trap: the switch-on window's own peak reads {own}");
            let mut m = MainsHz::new(rate);
            let got: Vec<(f64, bool)> = x.chunks(n).map(|w| (m.window(w, None, true).unwrap(), m.told())).collect();
            assert!(
                got.iter().all(|&(f, told)| (f - hz).abs() < 0.02 && told),
                "{hz} Hz: {got:?} (the whole first window: {own})"
            );
        }
    }

    /// One load handing over mid-window to another of the same fundamental 70 degrees later
    /// (decimated values, 512 a second at 60.1 Hz) keeps the quarters' variances alike but not
    /// their phasors: not steady where the phasors are asked, steady by the variances alone.
    /// A steady sine, measured 0.01 Hz off, is steady either way.
    #[test]
    fn a_load_handing_over_at_another_phase_is_not_steady() {
        let (fs, f) = (512.3, 60.1);
        let wave = |k: usize, phase: f64| (std::f64::consts::TAU * f * k as f64 / fs + phase).sin();
        let handover: Vec<f64> = (0..512).map(|k| wave(k, if k < 256 { 0.0 } else { 70f64.to_radians() })).collect();
        let still: Vec<f64> = (0..512).map(|k| wave(k, 0.3)).collect();
        assert!(steady(&handover, None), "the trap: the variances alone call it steady");
        assert!(!steady(&handover, Some((f, fs))));
        assert!(steady(&still, Some((f + 0.01, fs))));
    }

    /// The decimator passes the fundamental and holds a tone next to its first null
    /// (harmonic 9 of 51.2 Hz, 461 Hz, at 16 samples a value of 8196.7 Sa/s) to the order-three
    /// sinc's gain, (sin(pi f B / fs) / (B sin(pi f / fs)))^3: 0.0025 (a block average: 0.136).
    #[test]
    fn the_decimator_is_a_third_order_sinc() {
        let (rate, b) = (FAST, 16.0);
        let gain = |f: f64| {
            let x = std::f64::consts::PI * f / rate;
            ((x * b).sin() / (b * x.sin())).powi(3)
        };
        for f in [51.2, 461.0] {
            let x: Vec<u16> = (0..(4.0 * rate) as usize)
                .map(|k| (500.0 + 400.0 * (std::f64::consts::TAU * f * k as f64 / rate).sin()).round() as u16)
                .collect();
            let mut d = Decimator::new(rate);
            let mut out = VecDeque::new();
            d.push(&x, &mut out);
            let v: Vec<f64> = out.iter().skip(10).copied().collect();
            let mean = v.iter().sum::<f64>() / v.len() as f64;
            let amp = (2.0 * v.iter().map(|y| (y - mean).powi(2)).sum::<f64>() / v.len() as f64).sqrt();
            assert!((amp / 400.0 - gain(f).abs()).abs() < 0.01 * gain(51.2), "{f} Hz: {amp} vs {}", 400.0 * gain(f));
        }
    }
}
