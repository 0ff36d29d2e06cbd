//! `ct-read plot`: PNG or SVG pictures of a recording, drawn with plotters.
//!
//! Three views:
//! - **raw**: the ADC codes and the primary current they invert to, over an interval;
//! - **folded**: one mains cycle rebuilt from many. The 9600-baud stream has about 12 samples
//!   per 50 Hz cycle, at a rate deliberately not synchronous with the mains, so successive
//!   cycles are sampled at different phases; placing each sample at its phase in the cycle
//!   shows the waveform. The phase comes from each second's own mains frequency
//!   ([`estimate_mains_hz`]) and its fundamental's phase, so mains drift over hours does not
//!   smear the picture, and the measured half-cycle is centred on 90 degrees;
//! - **trend**: the readings' current and power over the whole recording.
//!
//! Text uses the embedded DejaVu Sans subset of `ct_plotkit` (shared with spicegen's figures)
//! through plotters' `ab_glyph` feature: no system font library is needed (headless machines
//! and CI have none).

use std::path::Path;
use std::time::SystemTime;

use ct_plotkit::{register_font, write_png, FAMILY};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::calibration::{Calibration, TrackedLut};
use crate::estimate::{clamp_model_for, estimate_mains_hz, Estimator, EstimatorConfig, Reading};
use crate::fold::Folded;
use crate::inversion::Inverter;
use crate::meter::Event;
use crate::notice::Notice;
use crate::replay::{self, Progress, ReplayError};
use crate::sink::format::iso_utc;
use crate::timeline::Run;

const BLUE: RGBColor = RGBColor(31, 119, 180);
const RED: RGBColor = RGBColor(214, 39, 40);
const LIGHT: RGBColor = RGBColor(150, 190, 225);
const GREY: RGBColor = RGBColor(150, 150, 150);

#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    #[error(transparent)]
    Input(#[from] ReplayError),
    #[error("{path}: the output must end in .png or .svg")]
    Format { path: String },
    #[error("{path}: drawing failed: {msg}")]
    Draw { path: String, msg: String },
    #[error("{file}: no samples between {from} s and {to} s (the recording covers {span})")]
    Empty { file: String, from: f64, to: f64, span: String },
}

/// Which picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PlotKind {
    Raw,
    Folded,
    Trend,
}

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Line,
    /// Small dots (folded samples).
    Dots,
}

#[derive(Debug, Clone)]
pub struct Series {
    pub label: String,
    pub color: RGBColor,
    pub style: Style,
    pub points: Vec<(f64, f64)>,
}

/// One chart of a figure.
#[derive(Debug, Clone)]
pub struct Panel {
    pub title: String,
    pub x_desc: String,
    pub y_desc: String,
    pub series: Vec<Series>,
    /// Fixed x range (the folded view is always 0-360 degrees).
    pub x_range: Option<(f64, f64)>,
}

/// Reduces a long series to at most two points per pixel column (the min and max of the
/// column, in time order), which draws the same picture as every point.
pub fn envelope(points: &[(f64, f64)], columns: usize) -> Vec<(f64, f64)> {
    if points.len() <= 4 * columns || columns == 0 {
        return points.to_vec();
    }
    let (x0, x1) = (points[0].0, points[points.len() - 1].0);
    let width = (x1 - x0).max(f64::MIN_POSITIVE) / columns as f64;
    let mut out = Vec::with_capacity(2 * columns + 2);
    let mut col = None;
    let (mut lo, mut hi) = ((0.0, f64::MAX), (0.0, f64::MIN));
    for &(x, y) in points {
        let c = ((x - x0) / width) as usize;
        if col != Some(c) {
            if col.is_some() {
                push_pair(&mut out, lo, hi);
            }
            col = Some(c);
            lo = (x, f64::MAX);
            hi = (x, f64::MIN);
        }
        if y < lo.1 {
            lo = (x, y);
        }
        if y > hi.1 {
            hi = (x, y);
        }
    }
    push_pair(&mut out, lo, hi);
    out
}

fn push_pair(out: &mut Vec<(f64, f64)>, lo: (f64, f64), hi: (f64, f64)) {
    if lo.0 <= hi.0 {
        out.extend([lo, hi]);
    } else {
        out.extend([hi, lo]);
    }
}

/// Samples of an interval: (session time, code) pairs, the sample rate, and where the
/// recording ends (session seconds).
type Interval = (Vec<(f64, u16)>, f64, f64);

/// Samples of `[from, to)` (session seconds) as times and codes, with the sample rate.
fn collect_samples(
    path: &Path,
    cal: &Calibration,
    rate: Option<f64>,
    from: f64,
    to: f64,
    progress: Progress<'_>,
    log: Log<'_>,
) -> Result<Interval, ReplayError> {
    let mut pts = Vec::new();
    let mut fs = 0.0;
    let mut end = 0.0f64;
    let tail = replay::samples(path, cal, rate, progress, &mut |n| log(&n.into()), &mut |run: Run<'_>, _| {
        fs = run.rate_hz;
        for (k, &c) in run.codes.iter().enumerate() {
            let t = run.t_s + k as f64 / run.rate_hz;
            if t >= from && t < to {
                pts.push((t, c));
            }
        }
        end = end.max(run.t_end());
        end < to
    })?;
    warn_tail(tail, log);
    Ok((pts, fs, end))
}

/// Where a picture's notices go: the meter's (gaps, restarts, corruption, as `analyze` tells
/// them) and a damaged capture's.
pub type Log<'a> = &'a mut dyn FnMut(&Notice);

fn warn_tail(tail: Option<String>, log: Log<'_>) {
    if let Some(t) = tail {
        log(&Notice::CaptureDamage(t));
    }
}

/// The raw view: codes and current over `[from, to)`.
#[allow(clippy::too_many_arguments)]
pub fn raw_panels(
    path: &Path,
    cal: &Calibration,
    rate: Option<f64>,
    from: f64,
    to: f64,
    columns: usize,
    progress: Progress<'_>,
    log: Log<'_>,
) -> Result<Vec<Panel>, PlotError> {
    let (pts, fs, end) = collect_samples(path, cal, rate, from, to, progress, log)?;
    if pts.is_empty() {
        return Err(empty(path, from, to, end));
    }
    let codes: Vec<u16> = pts.iter().map(|p| p.1).collect();
    let hz = estimate_mains_hz(&codes, fs, None);
    let lut = cal.lut_at(hz);
    let top = lut.len() - 1;
    let code_pts: Vec<(f64, f64)> = pts.iter().map(|&(t, c)| (t, c as f64)).collect();
    let amp_pts: Vec<(f64, f64)> = pts.iter().map(|&(t, c)| (t, lut[(c as usize).min(top)] as f64)).collect();
    let hz_text = hz.map_or("mains frequency unknown".to_string(), |h| format!("{h:.2} Hz mains"));
    Ok(vec![
        Panel {
            title: format!("ADC codes, {} samples at {fs:.1} Sa/s", pts.len()),
            x_desc: "time since start of recording (s)".into(),
            y_desc: "ADC code (10-bit)".into(),
            series: vec![Series {
                label: "code".into(),
                color: BLUE,
                style: Style::Line,
                points: envelope(&code_pts, columns),
            }],
            x_range: Some((from.max(pts[0].0), pts[pts.len() - 1].0)),
        },
        Panel {
            title: format!("Reconstructed primary current (measured half-cycle; table at {hz_text})"),
            x_desc: "time since start of recording (s)".into(),
            y_desc: "current (A)".into(),
            series: vec![Series {
                label: "primary current".into(),
                color: RED,
                style: Style::Line,
                points: envelope(&amp_pts, columns),
            }],
            x_range: Some((from.max(pts[0].0), pts[pts.len() - 1].0)),
        },
    ])
}

fn empty(path: &Path, from: f64, to: f64, end: f64) -> PlotError {
    PlotError::Empty { file: path.display().to_string(), from, to, span: format!("0 to {end:.1} s") }
}

/// Bins of the folded cycle.
const BINS: usize = 360;
/// Dots drawn at most (a random-looking subset: every k-th sample).
const MAX_DOTS: usize = 20_000;

/// One mains cycle rebuilt from many (see the module doc).
pub struct Folder {
    cal: Calibration,
    lut: TrackedLut,
    rate_hz: f64,
    /// The block being collected: runs of (session time of first sample, codes).
    runs: Vec<(f64, std::ops::Range<usize>)>,
    codes: Vec<u16>,
    /// Frequency, centre time and fundamental phase of the last block folded.
    track: Option<(f64, f64, f64)>,
    sum: Vec<f64>,
    /// Sum of the raw codes per bin: the fold the clamp model is inverted on.
    code_sum: Vec<f64>,
    count: Vec<u64>,
    dots: Vec<(f32, f32)>,
    /// The readings of the same samples (the default method), for the view's RMS: the
    /// estimator, where its next sample is due, and the readings' sum of `irms^2 * duration`
    /// and duration.
    estimator: Option<(Estimator, f64)>,
    readings: (f64, f64),
    /// Every `stride`-th sample becomes a dot; `until_dot` counts down to the next.
    stride: u64,
    until_dot: u64,
    pub samples: u64,
    pub cycles: f64,
    pub skipped_blocks: u64,
    hz_sum: f64,
    blocks: u64,
}

impl Folder {
    pub fn new(cal: Calibration) -> Self {
        Folder {
            lut: TrackedLut::new(&cal),
            cal,
            rate_hz: 0.0,
            runs: Vec::new(),
            codes: Vec::new(),
            track: None,
            sum: vec![0.0; BINS],
            code_sum: vec![0.0; BINS],
            count: vec![0; BINS],
            dots: Vec::new(),
            estimator: None,
            readings: (0.0, 0.0),
            stride: 1,
            until_dot: 1,
            samples: 0,
            cycles: 0.0,
            skipped_blocks: 0,
            hz_sum: 0.0,
            blocks: 0,
        }
    }

    /// Adds a run of samples (only those at or after session time `from` and before `to`).
    pub fn push(&mut self, run: Run<'_>, from: f64, to: f64) {
        if run.rate_hz != self.rate_hz {
            self.fold_block();
            self.rate_hz = run.rate_hz;
        }
        let dt = 1.0 / run.rate_hz;
        let first = (((from - run.t_s) / dt).ceil().max(0.0) as usize).min(run.codes.len());
        let last = (((to - run.t_s) / dt).ceil().max(0.0) as usize).min(run.codes.len());
        if first >= last {
            return;
        }
        let start = self.codes.len();
        self.codes.extend_from_slice(&run.codes[first..last]);
        self.read(run.t_s + first as f64 * dt, &run.codes[first..last], run.rate_hz);
        self.runs.push((run.t_s + first as f64 * dt, start..self.codes.len()));
        if self.codes.len() as f64 >= self.rate_hz {
            self.fold_block();
        }
    }

    /// Feeds the estimator (a new one at a new rate; a hole in time ends its window).
    fn read(&mut self, t: f64, codes: &[u16], rate_hz: f64) {
        let readings = &mut self.readings;
        let mut add = |r: Reading| {
            readings.0 += r.irms_a * r.irms_a * r.duration_s;
            readings.1 += r.duration_s;
        };
        if self.estimator.as_ref().is_some_and(|(e, _)| e.rate_hz() != rate_hz) {
            if let Some((mut e, _)) = self.estimator.take() {
                e.flush(&mut add);
            }
        }
        let (est, next) =
            self.estimator.get_or_insert_with(|| (Estimator::new(&self.cal, rate_hz, EstimatorConfig::default()), t));
        if (t - *next).abs() > 0.5 / rate_hz {
            est.gap(0, &mut add);
        }
        est.push(t, codes, &mut add);
        *next = t + codes.len() as f64 / rate_hz;
    }

    /// Ends the view: folds what is collected and emits the estimator's last window.
    pub fn finish(&mut self) {
        self.fold_block();
        let readings = &mut self.readings;
        if let Some((e, _)) = self.estimator.as_mut() {
            e.flush(&mut |r: Reading| {
                readings.0 += r.irms_a * r.irms_a * r.duration_s;
                readings.1 += r.duration_s;
            });
        }
    }

    /// RMS of the readings (the default method's) over the samples folded, weighted by their
    /// durations: what the view's title reports, so that it agrees with the readings.
    pub fn readings_rms(&self) -> Option<f64> {
        (self.readings.1 > 0.0).then(|| (self.readings.0 / self.readings.1).sqrt())
    }

    /// The source current of the folded cycle, the clamp model run backwards
    /// ([`ct_core::inversion`]): degrees at the bin centres and amps over the whole cycle (the
    /// hidden half from half-wave symmetry), and its RMS. `None` if too little of the cycle
    /// was seen.
    pub fn source_curve(&self) -> Option<(Vec<(f64, f64)>, f64)> {
        let hz = self.mean_hz()?;
        let folded = Folded {
            mains_hz: hz,
            sum: self.code_sum.clone(),
            count: self.count.iter().map(|&c| c.min(u64::from(u32::MAX)) as u32).collect(),
            // A recording's fold mixes its loads' levels in every bin: their spread is no
            // waveform within the bin, and the curve's RMS is a cross-check, not a reading.
            sum_sq: Vec::new(),
            max_code: 0,
        };
        // The model of the table's clamp, as the readings use (an identified clamp's
        // inductance, and its gain over the model).
        let inverter = Inverter::new(clamp_model_for(&self.cal, EstimatorConfig::default()));
        let gain = self.cal.clamp().map_or(1.0, |c| c.gain);
        let inv = inverter.invert(&folded)?;
        let curve = inv
            .primary_a
            .iter()
            .enumerate()
            .map(|(b, &a)| ((b as f64 + 0.5) * 360.0 / BINS as f64, gain * a))
            .collect();
        Some((curve, gain * inv.irms_a))
    }

    /// Folds the collected block with its own frequency and fundamental phase.
    pub fn fold_block(&mut self) {
        if self.codes.is_empty() {
            return;
        }
        let fs = self.rate_hz;
        let tc = (self.runs[0].0 + self.runs[self.runs.len() - 1].0) / 2.0;
        // Track the frequency from the fundamental's phase advance since the last block (a
        // phase-locked loop, finer than a search); search afresh at the start, after a gap,
        // every 100 blocks, and whenever the phase does not continue.
        let tracked = match self.track {
            Some((f0, tc0, phi0)) if tc - tc0 < 3.0 && !self.blocks.is_multiple_of(100) => {
                let phi = self.fundamental_phase(f0, tc);
                let advance = (phi - phi0 - f0 * (tc - tc0) + 0.5).rem_euclid(1.0) - 0.5;
                (advance.abs() < 0.1).then(|| (f0 + advance / (tc - tc0), phi))
            }
            _ => None,
        };
        let (f, phi) = match tracked {
            Some(fp) => fp,
            None => match estimate_mains_hz(&self.codes, fs, self.track.map(|t| t.0)) {
                Some(f) => (f, self.fundamental_phase(f, tc)),
                None => {
                    self.skipped_blocks += 1;
                    self.codes.clear();
                    self.runs.clear();
                    return;
                }
            },
        };
        self.track = Some((f, tc, phi));
        let lut = self.lut.at(&self.cal, Some(f));
        let top = lut.len() - 1;
        let step = f / fs;
        // Phase as a 32-bit fraction of a cycle: wrapping addition is the modulo, and the bin
        // is a multiply and a shift (the error over a block is below 1e-5 cycles).
        const ONE: f64 = 4_294_967_296.0;
        let dp = (step * ONE) as u32;
        for (t, r) in &self.runs {
            let mut p = ((f * (t - tc) + phi + 0.25).rem_euclid(1.0) * ONE) as u32;
            for &code in &self.codes[r.clone()] {
                let amps = lut[(code as usize).min(top)];
                let bin = ((p as u64 * BINS as u64) >> 32) as usize;
                self.sum[bin] += amps as f64;
                self.code_sum[bin] += f64::from(code);
                self.count[bin] += 1;
                self.until_dot -= 1;
                if self.until_dot == 0 {
                    self.until_dot = self.stride;
                    self.dots.push(((p as f64 * (360.0 / ONE)) as f32, amps));
                    if self.dots.len() >= 2 * MAX_DOTS {
                        let mut k = 0;
                        self.dots.retain(|_| {
                            k += 1;
                            k % 2 == 0
                        });
                        self.stride *= 2;
                    }
                }
                p = p.wrapping_add(dp);
            }
        }
        self.samples += self.codes.len() as u64;
        self.cycles += self.codes.len() as f64 * step;
        self.hz_sum += f;
        self.blocks += 1;
        self.codes.clear();
        self.runs.clear();
    }

    /// Phase (cycles) at session time `tc` of the block's fundamental at `f`: the block is
    /// correlated with e^{-i 2 pi f (t - tc)}, a rotating phasor per run. With `x ~ A cos(2 pi f
    /// (t - tc) + 2 pi phi)` this is `phi`; referred to the block's centre it is insensitive to a
    /// small error in `f`.
    fn fundamental_phase(&self, f: f64, tc: f64) -> f64 {
        let fs = self.rate_hz;
        // Fast streams are averaged in blocks down to about 500 values per second first (as
        // the frequency estimator does): a boxcar referred to its centre shifts no phase, and
        // the correlation then costs a sixteenth.
        let block = ((fs / 500.0).floor() as usize).max(1);
        let mean = self.codes.iter().map(|&c| c as f64).sum::<f64>() / self.codes.len() as f64;
        let (mut re, mut im) = (0.0, 0.0);
        for (t, r) in &self.runs {
            let codes = &self.codes[r.clone()];
            let add = |k0: usize, chunk: &[u16]| {
                let v = chunk.iter().map(|&c| c as f64).sum::<f64>() / chunk.len() as f64 - mean;
                let tk = t + (k0 as f64 + (chunk.len() - 1) as f64 / 2.0) / fs;
                let (s, c) = (-std::f64::consts::TAU * f * (tk - tc)).sin_cos();
                (v * c, v * s)
            };
            let whole = codes.len() / block * block;
            let step = block as f64 / fs;
            let (ds, dc) = (-std::f64::consts::TAU * f * step).sin_cos();
            if whole > 0 {
                let t0 = t + (block - 1) as f64 / 2.0 / fs;
                let (mut s, mut c) = (-std::f64::consts::TAU * f * (t0 - tc)).sin_cos();
                for chunk in codes[..whole].chunks_exact(block) {
                    let v = chunk.iter().map(|&x| x as u32).sum::<u32>() as f64 / block as f64 - mean;
                    re += v * c;
                    im += v * s;
                    let nc = c * dc - s * ds;
                    s = s * dc + c * ds;
                    c = nc;
                }
            }
            if whole < codes.len() {
                let (a, b) = add(whole, &codes[whole..]);
                re += a;
                im += b;
            }
        }
        im.atan2(re) / std::f64::consts::TAU
    }

    /// Mean current in each 1-degree bin (degrees at the bin centre; empty bins left out).
    pub fn mean_curve(&self) -> Vec<(f64, f64)> {
        (0..BINS)
            .filter(|&b| self.count[b] > 0)
            .map(|b| ((b as f64 + 0.5) * 360.0 / BINS as f64, self.sum[b] / self.count[b] as f64))
            .collect()
    }

    pub fn dots(&self) -> Vec<(f64, f64)> {
        self.dots.iter().map(|&(p, a)| (p as f64, a as f64)).collect()
    }

    /// Mean of the blocks' mains frequencies.
    pub fn mean_hz(&self) -> Option<f64> {
        (self.blocks > 0).then(|| self.hz_sum / self.blocks as f64)
    }

    /// RMS of the full-wave current the folded half-cycle implies (`sqrt(2 mean(i^2))` over the
    /// bins), a cross-check against the readings.
    pub fn rms(&self) -> f64 {
        let c = self.mean_curve();
        (2.0 * c.iter().map(|p| p.1 * p.1).sum::<f64>() / BINS as f64).sqrt()
    }
}

/// The folded view over `[from, to)`.
pub fn folded_panels(
    path: &Path,
    cal: &Calibration,
    rate: Option<f64>,
    from: f64,
    to: f64,
    progress: Progress<'_>,
    log: Log<'_>,
) -> Result<Vec<Panel>, PlotError> {
    let mut folder = Folder::new(cal.clone());
    let mut end = 0.0f64;
    let tail = replay::samples(path, cal, rate, progress, &mut |n| log(&n.into()), &mut |run: Run<'_>, _| {
        folder.push(run, from, to);
        end = end.max(run.t_end());
        end < to
    })
    .map_err(PlotError::from)?;
    warn_tail(tail, log);
    folder.finish();
    if folder.samples == 0 {
        return Err(empty(path, from, to, end));
    }
    let span = format!("{:.1}-{:.1} s", from, end.min(to));
    let hz = folder.mean_hz().map_or(String::new(), |h| format!(", mains {h:.3} Hz"));
    let source = folder.source_curve();
    let rms = match (folder.readings_rms(), &source) {
        (Some(r), Some((_, s))) => format!("readings' RMS {r:.3} A (drawn cycle {s:.3} A)"),
        (Some(r), None) => format!("readings' RMS {r:.3} A"),
        (None, _) => format!("RMS through the table {:.3} A", folder.rms()),
    };
    let mut series = vec![
        Series { label: "samples, through the table".into(), color: LIGHT, style: Style::Dots, points: folder.dots() },
        Series {
            label: "mean per degree, through the table".into(),
            color: GREY,
            style: Style::Line,
            points: folder.mean_curve(),
        },
    ];
    if let Some((curve, _)) = source {
        series.push(Series {
            label: "source current, the clamp model run backwards".into(),
            color: RED,
            style: Style::Line,
            points: curve,
        });
    }
    Ok(vec![Panel {
        title: format!("{} samples folded over {:.0} cycles ({span}{hz}); {rms}", folder.samples, folder.cycles),
        x_desc: "phase in the mains cycle (°)".into(),
        y_desc: "primary current (A)".into(),
        series,
        x_range: Some((0.0, 360.0)),
    }])
}

/// The trend view: current and power of every reading in `[from, to)`.
#[allow(clippy::too_many_arguments)]
pub fn trend_panels(
    path: &Path,
    cal: Calibration,
    cfg: EstimatorConfig,
    rate: Option<f64>,
    from: f64,
    to: f64,
    columns: usize,
    progress: Progress<'_>,
    log: Log<'_>,
) -> Result<Vec<Panel>, PlotError> {
    let mut pts: Vec<(f64, f64, f64)> = Vec::new();
    let mut start: Option<SystemTime> = None;
    let mut end = 0.0f64;
    let tail = replay::readings(path, cal, cfg, rate, progress, &mut |e, wall| match e {
        Event::Notice(n) => log(&n.into()),
        Event::Reading(r) => {
            if start.is_none() {
                start = wall.and_then(|w| w.checked_sub(std::time::Duration::from_secs_f64(r.t_s)));
            }
            end = end.max(r.t_s);
            if r.t_s >= from && r.t_s < to {
                pts.push((r.t_s, r.irms_a, r.watts));
            }
        }
    })?;
    warn_tail(tail, log);
    if pts.is_empty() {
        return Err(empty(path, from, to, end));
    }
    let span = pts[pts.len() - 1].0 - pts[0].0;
    let (unit, div) = if span > 7200.0 {
        ("h", 3600.0)
    } else if span > 120.0 {
        ("min", 60.0)
    } else {
        ("s", 1.0)
    };
    let x_desc = match start {
        Some(s) => format!("time since {} UTC ({unit})", &iso_utc(s)[..19].replace('T', " ")),
        None => format!("time since start of recording ({unit})"),
    };
    let amps: Vec<(f64, f64)> = pts.iter().map(|p| (p.0 / div, p.1)).collect();
    let watts: Vec<(f64, f64)> = pts.iter().map(|p| (p.0 / div, p.2)).collect();
    let power = if cfg.pf.is_some() { "real power" } else { "apparent power (pf 1)" };
    Ok(vec![
        Panel {
            title: format!("RMS current, {} readings of {} s", pts.len(), cfg.window_s),
            x_desc: x_desc.clone(),
            y_desc: "current (A)".into(),
            series: vec![Series {
                label: "Irms".into(),
                color: BLUE,
                style: Style::Line,
                points: envelope(&amps, columns),
            }],
            x_range: None,
        },
        Panel {
            title: format!("Power at {} V, {power}", cfg.volts),
            x_desc,
            y_desc: "power (W)".into(),
            series: vec![Series {
                label: "W".into(),
                color: RED,
                style: Style::Line,
                points: envelope(&watts, columns),
            }],
            x_range: None,
        },
    ])
}

fn bounds(p: &Panel) -> (f64, f64, f64, f64) {
    let mut b = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for s in &p.series {
        for &(x, y) in &s.points {
            b = (b.0.min(x), b.1.max(x), b.2.min(y), b.3.max(y));
        }
    }
    if let Some((x0, x1)) = p.x_range {
        b.0 = x0;
        b.1 = x1;
    }
    if b.1 <= b.0 {
        b.1 = b.0 + 1.0;
    }
    let pad = (b.3 - b.2).abs().max(0.01) * 0.05;
    (b.0, b.1, b.2.min(0.0) - pad, b.3 + pad)
}

fn draw_panel<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, p: &Panel) -> Result<(), String> {
    let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let (x0, x1, y0, y1) = bounds(p);
    let mut chart = ChartBuilder::on(area)
        .caption(&p.title, (FAMILY, 16))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(62)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(e)?;
    chart
        .configure_mesh()
        .x_desc(&p.x_desc)
        .y_desc(&p.y_desc)
        .label_style((FAMILY, 13))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(e)?;
    for s in &p.series {
        let color = s.color;
        let anno = match s.style {
            Style::Line => {
                chart.draw_series(LineSeries::new(s.points.iter().copied(), color.stroke_width(1))).map_err(e)?
            }
            Style::Dots => {
                chart.draw_series(s.points.iter().map(|&pt| Circle::new(pt, 1, color.filled()))).map_err(e)?
            }
        };
        anno.label(s.label.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(3)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font((FAMILY, 13))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(e)?;
    Ok(())
}

fn draw_all<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, panels: &[Panel]) -> Result<(), String> {
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let areas = root.split_evenly((panels.len().max(1), 1));
    for (area, p) in areas.iter().zip(panels) {
        draw_panel(area, p)?;
    }
    root.present().map_err(|e| e.to_string())
}

/// Draws the panels stacked, `size` pixels, into a PNG or SVG chosen by the extension.
pub fn render(path: &Path, size: (u32, u32), panels: &[Panel]) -> Result<(), PlotError> {
    let name = path.display().to_string();
    let draw = |msg: String| PlotError::Draw { path: name.clone(), msg };
    register_font().map_err(draw)?;
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("svg") => draw_all(SVGBackend::new(path, size).into_drawing_area(), panels).map_err(draw),
        Some("png") => {
            let (w, h) = size;
            let mut rgb = vec![0u8; (w * h * 3) as usize];
            draw_all(BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area(), panels).map_err(draw)?;
            write_png(path, &rgb, w, h).map_err(|e| draw(e.to_string()))
        }
        _ => Err(PlotError::Format { path: name }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code folded, in runs of 112 samples as the device's frames bring them.
    fn fold_all(cal: &Calibration, codes: &[u16], fs: f64) -> Folder {
        let mut folder = Folder::new(cal.clone());
        for (k, chunk) in codes.chunks(112).enumerate() {
            let run = Run { t_s: (k * 112) as f64 / fs, index: (k * 112) as u64, rate_hz: fs, codes: chunk };
            folder.push(run, 0.0, f64::MAX);
        }
        folder.finish();
        folder
    }

    /// Ten minutes of the 603.5 Sa/s stream (12 samples a cycle) of a 6 A sine whose mains
    /// frequency drifts from 49.9 to 50.1 Hz: the folded cycle is the half-sine, centred on 90
    /// degrees, with the right RMS, not smeared by the drift.
    #[test]
    fn folding_rebuilds_the_cycle_under_drifting_mains() {
        let cal = Calibration::builtin();
        let fs = ct_wire::profile::LAUNCHPAD.rate_hz();
        let n = (600.0 * fs) as usize;
        let mut phase = 0.0f64;
        let codes: Vec<u16> = (0..n)
            .map(|k| {
                let t = k as f64 / fs;
                let f = 49.9 + 0.2 * t / 600.0;
                phase += f / fs;
                let a = 6.0 * 2f64.sqrt() * (std::f64::consts::TAU * phase).sin();
                cal.code_for(a as f32, Some(f))
            })
            .collect();
        let folder = fold_all(&cal, &codes, fs);
        assert_eq!(folder.samples, n as u64);
        assert!((folder.rms() / 6.0 - 1.0).abs() < 0.01, "rms {}", folder.rms());
        let readings = folder.readings_rms().unwrap();
        assert!((readings / 6.0 - 1.0).abs() < 0.01, "readings {readings}");
        let curve = folder.mean_curve();
        let peak = curve.iter().cloned().fold((0.0, 0.0), |m, p| if p.1 > m.1 { p } else { m });
        let above: Vec<f64> = curve.iter().filter(|p| p.1 > peak.1 / 2.0).map(|p| p.0).collect();
        let centre = (above[0] + above[above.len() - 1]) / 2.0;
        assert!((centre - 90.0).abs() <= 2.0, "half-cycle centred at {centre} degrees, crest at {}", peak.0);
        assert!((peak.1 / (6.0 * 2f64.sqrt()) - 1.0).abs() < 0.03, "crest {} A", peak.1);
        assert!(curve.iter().filter(|p| p.0 > 185.0 && p.0 < 355.0).all(|p| p.1 < 0.05), "{curve:?}");
    }

    /// A switch-mode supply: the table alone reads its folded half-cycle well high (the
    /// magnetizing decay after each pulse drawn as current); the view draws the source current
    /// the readings come from, and its title's RMS is the readings' (both against the 3 A the
    /// load shape was scaled to).
    #[test]
    fn the_folded_view_shows_the_current_the_readings_come_from() {
        use crate::clamp_model::{CtModel, CtParams};
        use crate::load_shape::{unit_shape, Shape};
        let p = CtParams::default();
        let model = CtModel::new(p).unwrap();
        let l = 2048;
        let is: Vec<f64> = (0..l).map(|k| 3.0 * unit_shape(Shape::Smps, k as f64 / l as f64) / p.turns).collect();
        let v = model.steady_state(&is, 50.0).v_adc;
        let fs = ct_wire::profile::FAST.rate_hz();
        let codes: Vec<u16> = (0..(5.0 * fs) as usize)
            .map(|k| (1023.0 * v[((k as f64 * 50.0 / fs).fract() * l as f64) as usize % l] / 2.5).round() as u16)
            .collect();
        let folder = fold_all(&Calibration::builtin(), &codes, fs);
        assert!(folder.rms() / 3.0 - 1.0 > 0.05, "the table alone reads {} A", folder.rms());
        let (curve, source) = folder.source_curve().unwrap();
        assert!((source / 3.0 - 1.0).abs() < 0.02, "source current {source} A");
        let readings = folder.readings_rms().unwrap();
        assert!((readings / 3.0 - 1.0).abs() < 0.02, "readings {readings} A");
        // The whole cycle: the hidden half is the mirror, so the curve goes negative.
        assert!(curve.iter().any(|p| p.1 < -1.0) && curve.iter().any(|p| p.1 > 1.0));
    }

    #[test]
    fn envelope_keeps_extremes_per_column() {
        let pts: Vec<(f64, f64)> =
            (0..10_000).map(|k| (k as f64, if k == 5_001 { 9.0 } else { (k % 7) as f64 })).collect();
        let e = envelope(&pts, 100);
        assert!(e.len() <= 202, "{}", e.len());
        assert!(e.contains(&(5_001.0, 9.0)));
        assert!(e.windows(2).all(|w| w[0].0 <= w[1].0));
    }
}
