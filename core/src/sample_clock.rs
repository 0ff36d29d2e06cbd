//! The device's sample clock measured against the host's, from when its samples arrive.
//!
//! The MSP430's sample rate is its DCO divided by a timer count; the calibrated DCO is good
//! to ±3 % over 0-85 °C or over its supply range, ±6 % over both (MSP430G2553 data sheet,
//! SLAS735, "Calibrated DCO frequencies, tolerance"). The Info frame states the nominal rate,
//! so a host that believed it would read 50 Hz mains as 51.5 Hz on a device 3 % slow, look
//! the table up at the wrong frequency and count energy over the wrong time. The host's own
//! clock (NTP-disciplined, a few ppm) is the better reference; this module measures the
//! device's rate against it.
//!
//! # The observations
//!
//! After each chunk of bytes the receiver knows how far the stream has come in device time
//! (`x`: samples received, lost ones included, over the nominal rate) and when the chunk
//! arrived (`y`, host time). If the device's clock runs at `1 + e` times nominal, then
//! `y = c + x / (1 + e) + d`, where `d` is everything between the last sample's conversion
//! and the read returning: the frame's time on the UART, the USB-serial bridge's buffering
//! (it sends in USB frames, in bursts), the host's scheduling, and the part of a frame that
//! already arrived but is not complete. The crucial property: **`d` is never negative** and
//! has a hard floor `d_min` (the frame's own transmission), but no useful upper bound or
//! symmetric distribution: it is bursty, and a busy host adds tens of milliseconds at a time.
//!
//! # Why the lower envelope, not least squares
//!
//! A least-squares line through `(x, y)` is thrown by the delay's distribution: a burst of
//! late chunks near either end tilts it, and its error shrinks only as `σ_d / (T √n)`.
//! Because `d ≥ d_min` everywhere, every observation lies on or above the line
//! `y = c + d_min + x / (1 + e)`: the true line is a *lower supporting line* of the point set.
//! The estimator (after Moon, Skelly and Towsley, "Estimation and removal of clock skew from
//! network delay measurements", 1999) takes the line below all points that is closest to them
//! on average: minimise `Σ (y_k - a - b x_k)` subject to `y_k ≥ a + b x_k`. That objective is
//! `n (ȳ - a - b x̄)`, so the optimum is the supporting line of the point set's **lower
//! convex hull** at `x = x̄`: the hull edge that spans the mean `x`. Only the few chunks that
//! arrived with nearly the least delay decide it; late ones, however late and however many,
//! never move it. Its slope error is about `(δ_i + δ_j) / (x_j - x_i)`, where `δ` is how far
//! the two supporting chunks were above the floor: it falls as `1 / T` (not `1 / √n`) and,
//! with many chunks, `δ` itself tends to 0.
//!
//! The hull is kept incrementally (Andrew's monotone chain: observations come in `x` order,
//! each is pushed once and popped at most once), so an observation costs O(1) amortised and
//! memory is the hull's vertices, a few dozen for random delays; it is thinned (every other
//! vertex dropped, which keeps it convex) past [`MAX_HULL`] vertices.
//!
//! # Drift, windows and breaks
//!
//! The DCO drifts with temperature, so the estimate should describe the recent past. Two
//! envelopes run staggered by [`HALF_WINDOW_S`]: each restarts when it spans twice that, and
//! the one spanning more answers, so the estimate always covers the last 10 to 20 minutes
//! once the stream is that old. Anything that breaks the relation between `x` and `y` (a
//! device restart, whose lost samples are unknown; a reconnection; the host clock stepping
//! back) starts both anew ([`SampleClock::restart`]).
//!
//! # When to trust it
//!
//! An estimate is [`settled`](ClockEstimate::settled) when it spans [`MIN_SPAN_S`] of device
//! time, rests on [`MIN_POINTS`] chunks or more, and its bound is within [`SETTLED_PPM`]. The
//! bound is the envelope's own consistency: the slopes of the hull edges at a quarter and at
//! three quarters of the span rest on other chunks than the chosen edge, and differ from it
//! by about its own error (and by any drift within the span); the larger difference, in ppm,
//! is the bound (0 when the chunks lie on one line). The edges adjacent to the chosen one
//! would not do: near the middle they can be short, their slopes noisy, and such a bound
//! overstated a 1 ppm error as 200 ppm. 100 ppm is 0.005 Hz at 50 Hz, below the
//! 0.01 Hz the readings print, and negligible for the table and for energy.

/// Each envelope restarts when it spans twice this (device seconds), the other having started
/// this long after it.
pub const HALF_WINDOW_S: f64 = 600.0;

/// The least span (device seconds) of a settled estimate.
pub const MIN_SPAN_S: f64 = 60.0;

/// The largest bound of a settled estimate, ppm.
pub const SETTLED_PPM: f64 = 100.0;

/// The fewest observations of a settled estimate.
pub const MIN_POINTS: u64 = 100;

/// Hull vertices kept at most.
pub const MAX_HULL: usize = 512;

/// A measured clock: the device's sample rate is its nominal rate times `1 + ppm / 1e6`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClockEstimate {
    /// The device's clock against the host's, parts per million (+30000: 3 % fast).
    pub ppm: f64,
    /// The estimate's bound, ppm (see the module's doc).
    pub bound_ppm: f64,
    /// Device seconds the fit spans.
    pub span_s: f64,
    /// Observations the fit rests on.
    pub points: u64,
}

impl ClockEstimate {
    /// True sample rate / nominal sample rate.
    pub fn ratio(&self) -> f64 {
        1.0 + self.ppm * 1e-6
    }

    pub fn settled(&self) -> bool {
        self.span_s >= MIN_SPAN_S && self.bound_ppm <= SETTLED_PPM && self.points >= MIN_POINTS
    }
}

/// The lower convex hull of one stretch of observations.
#[derive(Debug, Clone)]
struct Envelope {
    /// Device time (s) and host time (ns) of the first observation: the origin of the rest.
    x0: f64,
    y0_ns: i64,
    /// Vertices (device s, host s) relative to the origin, in increasing `x`.
    hull: Vec<(f64, f64)>,
    sum_x: f64,
    n: u64,
    span_s: f64,
}

impl Envelope {
    fn new(x: f64, y_ns: i64) -> Self {
        Envelope { x0: x, y0_ns: y_ns, hull: vec![(0.0, 0.0)], sum_x: 0.0, n: 1, span_s: 0.0 }
    }

    fn add(&mut self, x: f64, y_ns: i64) {
        let p = (x - self.x0, (y_ns - self.y0_ns) as f64 * 1e-9);
        self.sum_x += p.0;
        self.n += 1;
        self.span_s = self.span_s.max(p.0);
        if let Some(&last) = self.hull.last() {
            if p.0 <= last.0 {
                // No new samples since the last chunk: it arrived later, so it lies above.
                if p.1 >= last.1 {
                    return;
                }
                self.hull.pop();
            }
        }
        while self.hull.len() >= 2 {
            let (a, b) = (self.hull[self.hull.len() - 2], self.hull[self.hull.len() - 1]);
            // Pop `b` unless a -> b -> p turns left (b strictly below the chord a-p).
            if (b.0 - a.0) * (p.1 - a.1) - (b.1 - a.1) * (p.0 - a.0) <= 0.0 {
                self.hull.pop();
            } else {
                break;
            }
        }
        self.hull.push(p);
        if self.hull.len() > MAX_HULL {
            let last = self.hull.len() - 1;
            let kept: Vec<(f64, f64)> =
                self.hull.iter().enumerate().filter(|&(j, _)| j % 2 == 0 || j == last).map(|(_, &v)| v).collect();
            self.hull = kept;
        }
    }

    fn fit(&self) -> Option<ClockEstimate> {
        if self.hull.len() < 2 {
            return None;
        }
        // The edge [i, i + 1] spanning `x`.
        let edge = |x: f64| self.hull.partition_point(|v| v.0 <= x).clamp(1, self.hull.len() - 1) - 1;
        let ppm_at = |x: f64| {
            let i = edge(x);
            let (a, b) = (self.hull[i], self.hull[i + 1]);
            (b.0 - a.0) / (b.1 - a.1) * 1e6 - 1e6
        };
        let ppm = ppm_at(self.sum_x / self.n as f64);
        if !ppm.is_finite() || ppm <= -1e6 {
            return None;
        }
        let bound = (ppm_at(0.25 * self.span_s) - ppm).abs().max((ppm_at(0.75 * self.span_s) - ppm).abs());
        Some(ClockEstimate { ppm, bound_ppm: bound, span_s: self.span_s, points: self.n })
    }
}

/// The device clock's estimator: observations in, [`ClockEstimate`] out.
#[derive(Debug, Clone, Default)]
pub struct SampleClock {
    /// The older envelope, and the younger one started [`HALF_WINDOW_S`] after it.
    old: Option<Envelope>,
    young: Option<Envelope>,
    /// The last observation, held until one at another host time comes: chunks received at
    /// the same instant (a capture record split in two) are one observation, the last.
    pending: Option<(f64, i64)>,
}

impl SampleClock {
    /// The stream reached device time `device_s` (samples over the nominal rate, lost ones
    /// included) by a chunk received at host time `host_ns`.
    pub fn observe(&mut self, device_s: f64, host_ns: i64) {
        match self.pending.replace((device_s, host_ns)) {
            Some((_, ns)) if ns == host_ns => {}
            Some((_, ns)) if host_ns < ns => {
                // The host's clock stepped back: what was measured is not on the same line.
                self.restart();
                self.pending = Some((device_s, host_ns));
            }
            Some((x, ns)) => self.commit(x, ns),
            None => {}
        }
    }

    fn commit(&mut self, device_s: f64, host_ns: i64) {
        let Some(old) = &mut self.old else {
            self.old = Some(Envelope::new(device_s, host_ns));
            return;
        };
        old.add(device_s, host_ns);
        match &mut self.young {
            Some(young) => young.add(device_s, host_ns),
            None if old.span_s >= HALF_WINDOW_S => self.young = Some(Envelope::new(device_s, host_ns)),
            None => {}
        }
        if old.span_s >= 2.0 * HALF_WINDOW_S {
            self.old = self.young.take();
            self.young = Some(Envelope::new(device_s, host_ns));
        }
    }

    /// The relation between device and host time broke (a restart, a reconnection): measure
    /// anew.
    pub fn restart(&mut self) {
        *self = SampleClock::default();
    }

    /// The estimate of the envelope spanning more, once it has two hull vertices.
    pub fn estimate(&self) -> Option<ClockEstimate> {
        self.old.as_ref().and_then(Envelope::fit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// xorshift64*, uniform in [0, 1).
    struct Rng(u64);
    impl Rng {
        fn uniform(&mut self) -> f64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// Chunks from a device whose clock is `ppm` off, read every 1-20 ms with 0-20 ms of
    /// extra delay and, once a second, a burst held back 100 ms: the estimate's error after
    /// `seconds`.
    fn error_after(ppm: f64, seconds: f64, seed: u64) -> (f64, ClockEstimate) {
        let mut rng = Rng(seed);
        let mut clock = SampleClock::default();
        let host = 1_700_000_000.0;
        let ratio = 1.0 + ppm * 1e-6;
        let mut t = 0.0;
        let mut recv = 0.0f64;
        while t < seconds {
            t += 0.001 + 0.019 * rng.uniform();
            let mut delay = 0.003 + 0.020 * rng.uniform() * rng.uniform();
            if t.fract() < 0.02 {
                delay += 0.1;
            }
            // Device time reached at host time t: t * ratio, in whole 112-sample frames; reads
            // return in order, so a chunk held back delays those after it too.
            let frames = (t * ratio * 8196.7 / 112.0).floor();
            recv = recv.max(host + t + delay);
            clock.observe(frames * 112.0 / 8196.7, (recv * 1e9) as i64);
        }
        let e = clock.estimate().unwrap();
        (e.ppm - ppm, e)
    }

    /// 3 % fast and 5 % slow clocks are measured within the settled bound once settled, with
    /// bursty delays of 3-23 ms and 100 ms holds; the bound covers the error.
    #[test]
    fn measures_fast_and_slow_clocks_through_jitter() {
        for ppm in [30_000.0, -50_000.0, 0.0] {
            for seed in 1..6 {
                let (err, e) = error_after(ppm, 120.0, seed);
                assert!(e.settled(), "{ppm} ppm seed {seed}: {e:?}");
                assert!(err.abs() <= SETTLED_PPM, "{ppm} ppm seed {seed}: error {err} ppm, {e:?}");
                assert!(err.abs() <= e.bound_ppm.max(5.0), "{ppm} ppm seed {seed}: error {err} ppm, {e:?}");
            }
        }
    }

    /// Ten seconds are not enough: the estimate does not claim to be settled.
    #[test]
    fn not_settled_early() {
        let (_, e) = error_after(30_000.0, 10.0, 7);
        assert!(!e.settled(), "{e:?}");
    }

    /// Late chunks never move the envelope: a long burst of 200 ms delays in the middle
    /// changes nothing, where least squares would tilt.
    #[test]
    fn late_bursts_do_not_move_it() {
        let mut clock = SampleClock::default();
        let mut late = SampleClock::default();
        for k in 0..12_000u64 {
            let x = k as f64 * 0.01 * 1.03;
            let y = (k as f64 * 0.01 * 1e9) as i64 + if k % 7 == 0 { 0 } else { 2_000_000 };
            clock.observe(x, y);
            let extra = if (4000..6000).contains(&k) { 200_000_000 } else { 0 };
            late.observe(x, y + extra);
        }
        let (a, b) = (clock.estimate().unwrap(), late.estimate().unwrap());
        assert!((a.ppm - 30_000.0).abs() < 1.0, "{a:?}");
        assert!((b.ppm - 30_000.0).abs() < 1.0, "{b:?}");
    }

    /// The windows follow a clock that drifts: after 40 minutes at +1 % then 40 at +2 %, the
    /// estimate is the new rate; memory stays bounded; a host clock going back restarts.
    #[test]
    fn follows_drift_and_restarts() {
        let mut clock = SampleClock::default();
        let mut rng = Rng(3);
        let (mut x, mut y) = (0.0, 0.0);
        for k in 0..480_000u64 {
            let ratio = if k < 240_000 { 1.01 } else { 1.02 };
            y += 0.01;
            x += 0.01 * ratio;
            clock.observe(x, ((y + 0.01 * rng.uniform()) * 1e9) as i64);
            assert!(clock.old.as_ref().map_or(0, |o| o.hull.len()) <= MAX_HULL);
        }
        let e = clock.estimate().unwrap();
        assert!((e.ppm - 20_000.0).abs() < SETTLED_PPM, "{e:?}");
        assert!(e.span_s <= 2.0 * HALF_WINDOW_S * 1.02 + 1.0, "{e:?}");
        clock.observe(x + 0.01, ((y - 5.0) * 1e9) as i64);
        assert!(clock.estimate().is_none());
    }
}
