//! Wall-clock times for session times: one rule for live sessions and for replays of their
//! captures, so that a reading gets the same `unix_ms` from both.
//!
//! Session time (what the timeline computes from the sample count) is mapped to wall time
//! through the chunk of bytes being processed: a sample at session time `t` of a chunk whose
//! last sample ends at `t_end` and which was received at `recv` was taken at about
//! `recv - (t_end - t)`. Re-anchoring on every chunk keeps wall times on the host's clock
//! however far the device's runs from nominal (its DCO is good to ±3-6 %, up to 1.4 hours a
//! day) at the cost of the USB latency jitter, milliseconds; and every chunk's receive time is
//! also handed to the timeline, which measures the device's clock from them
//! ([`ct_core::sample_clock`]) so that, once that settles, session time (and with it
//! `t_s - t_end`, durations, the mains frequency and energy) is in true seconds. A live
//! session applies this to the chunks as the port
//! delivers them, and the capture records each of those chunks with the very receive time
//! used, so replaying the capture repeats the computation exactly; re-exporting a capture
//! gives the same timestamps too, which is what lets database exports deduplicate.

use std::ops::Range;
use std::time::SystemTime;

use crate::capture::from_unix_ns;
use crate::meter::{Event, Meter, Notice};
use crate::timeline::{Run, Step, Timeline, TimelineError};

/// Session time to wall time, from the chunk being processed.
#[derive(Debug, Clone, Copy, Default)]
pub struct Clock {
    /// Receive time of the chunk (unix ns) and session time at its last sample.
    anchor: Option<(i64, f64)>,
}

impl Clock {
    /// Unix nanoseconds at session time `t_s`.
    pub fn unix_ns(&self, t_s: f64) -> Option<i64> {
        self.anchor.map(|(ns, t_end)| ns + ((t_s - t_end) * 1e9).round() as i64)
    }

    pub fn wall(&self, t_s: f64) -> Option<SystemTime> {
        self.unix_ns(t_s).map(from_unix_ns)
    }

    /// Session time at unix nanoseconds `ns` (0 before any anchor).
    pub fn session_at(&self, ns: i64) -> f64 {
        self.anchor.map_or(0.0, |(a, t_end)| t_end + (ns - a) as f64 / 1e9)
    }

    /// A chunk received at `unix_ns` brought the timeline to `t_end` (none before any sample).
    fn received(&mut self, unix_ns: i64, t_end: Option<f64>) {
        if let Some(t_end) = t_end {
            self.anchor = Some((unix_ns, t_end));
        }
    }
}

/// What happened on the link, with the host's receive time: from a port as it happens, or
/// from a capture's records.
#[derive(Debug, Clone, Copy)]
pub enum Link<'a> {
    Bytes {
        unix_ns: i64,
        bytes: &'a [u8],
    },
    /// The port failed (unplugged).
    Lost,
    /// The port is open again.
    Back {
        unix_ns: i64,
    },
}

/// Keeps reading times strictly increasing (by at least 1 ms, the key's resolution): receive
/// jitter cannot reorder readings a window apart, but a recording whose device clock runs far
/// from the host's (the virtual device's `--sim-speed`) could, and the database key must stay
/// unique.
#[derive(Debug, Default)]
struct Monotonic {
    last_ns: Option<i64>,
}

impl Monotonic {
    fn next(&mut self, ns: Option<i64>) -> Option<SystemTime> {
        let ns = ns?;
        let ns = self.last_ns.map_or(ns, |l| ns.max(l + 1_000_000));
        self.last_ns = Some(ns);
        Some(from_unix_ns(ns))
    }
}

/// The meter with the host clock: readings with their wall time, live or replayed.
pub struct ClockedMeter {
    meter: Meter,
    clock: Clock,
    monotonic: Monotonic,
    /// Events of the chunk being processed: they are timed once the whole chunk is.
    pending: Vec<Event>,
}

impl ClockedMeter {
    pub fn new(meter: Meter) -> Self {
        ClockedMeter { meter, clock: Clock::default(), monotonic: Monotonic::default(), pending: Vec::new() }
    }

    pub fn meter(&self) -> &Meter {
        &self.meter
    }

    /// Handles what happened on the link; `out` gets every event with the wall time of
    /// readings. A chunk that makes the stream unusable still delivers the events before the
    /// problem.
    pub fn link(
        &mut self,
        link: Link<'_>,
        out: &mut impl FnMut(Event, Option<SystemTime>),
    ) -> Result<(), TimelineError> {
        let pending = &mut self.pending;
        let res = match link {
            Link::Bytes { unix_ns, bytes } => {
                let res = self.meter.bytes(bytes, &mut |e| pending.push(e));
                self.clock.received(unix_ns, self.meter.timeline().t_end());
                if res.is_ok() {
                    self.meter.received(unix_ns, &mut |e| pending.push(e));
                }
                res
            }
            Link::Lost => {
                self.meter.disconnected(&mut |e| pending.push(e));
                Ok(())
            }
            Link::Back { unix_ns } => {
                self.meter.reconnected(self.clock.session_at(unix_ns), &mut |e| pending.push(e));
                Ok(())
            }
        };
        self.drain(out);
        res
    }

    /// End of input: the partial window.
    pub fn finish(&mut self, out: &mut impl FnMut(Event, Option<SystemTime>)) {
        let pending = &mut self.pending;
        self.meter.finish(&mut |e| pending.push(e));
        self.drain(out);
    }

    fn drain(&mut self, out: &mut impl FnMut(Event, Option<SystemTime>)) {
        for e in self.pending.drain(..) {
            let wall = match &e {
                Event::Reading(r) => self.monotonic.next(self.clock.unix_ns(r.t_s)),
                Event::Notice(_) => None,
            };
            out(e, wall);
        }
    }
}

/// The timeline with the host clock: runs of samples with the clock that times them.
pub struct ClockedRuns {
    timeline: Timeline,
    clock: Clock,
    /// Runs of the chunk being processed (session time, index, rate, range in `codes`): they
    /// are timed once the whole chunk is.
    runs: Vec<(f64, u64, f64, Range<usize>)>,
    codes: Vec<u16>,
    /// The timeline's notices (gaps, restarts, corruption) not yet taken.
    notices: Vec<Notice>,
}

impl ClockedRuns {
    pub fn new(timeline: Timeline) -> Self {
        ClockedRuns { timeline, clock: Clock::default(), runs: Vec::new(), codes: Vec::new(), notices: Vec::new() }
    }

    /// The notices of the links handled so far, in order: samples are told the same gaps,
    /// restarts and corruption as readings.
    pub fn take_notices(&mut self) -> std::vec::Drain<'_, Notice> {
        self.notices.drain(..)
    }

    /// Handles what happened on the link; `out` gets the runs it completed, and returns
    /// `false` to stop (the result is then `Ok(false)`).
    pub fn link(
        &mut self,
        link: Link<'_>,
        out: &mut impl FnMut(Run<'_>, &Clock) -> bool,
    ) -> Result<bool, TimelineError> {
        match link {
            Link::Bytes { unix_ns, bytes } => {
                let (runs, codes, notices) = (&mut self.runs, &mut self.codes, &mut self.notices);
                runs.clear();
                codes.clear();
                let res = self.timeline.bytes(bytes, &mut |step| {
                    match step {
                        Step::Run(run) => {
                            let start = codes.len();
                            codes.extend_from_slice(run.codes);
                            runs.push((run.t_s, run.index, run.rate_hz, start..codes.len()));
                        }
                        Step::Notice(n) => notices.push(n),
                        Step::Rate(..) | Step::Clock { .. } | Step::Break { .. } => {}
                    }
                    true
                });
                self.clock.received(unix_ns, self.timeline.t_end());
                if res.is_ok() {
                    self.timeline.received(unix_ns, &mut |step| {
                        if let Step::Notice(n) = step {
                            notices.push(n);
                        }
                        true
                    });
                }
                for (t_s, index, rate_hz, r) in &self.runs {
                    let run = Run { t_s: *t_s, index: *index, rate_hz: *rate_hz, codes: &self.codes[r.clone()] };
                    if !out(run, &self.clock) {
                        return Ok(false);
                    }
                }
                res
            }
            Link::Lost => {
                self.timeline.disconnected();
                Ok(true)
            }
            Link::Back { unix_ns } => {
                let notices = &mut self.notices;
                self.timeline.reconnected(self.clock.session_at(unix_ns), &mut |step| {
                    if let Step::Notice(n) = step {
                        notices.push(n);
                    }
                    true
                });
                Ok(true)
            }
        }
    }
}
