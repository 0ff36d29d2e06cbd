//! The sample timeline: frames or code rows in, timed runs of samples and notices out.
//!
//! Every input (a serial port, a capture, a recorded byte stream, a CSV of codes) becomes
//! samples on one time axis by the rules written here once, so the meter's readings, the
//! plots and the raw-samples export of one recording agree on what was lost and when each
//! sample was taken:
//!
//! - the sample rate comes from Info frames (checked against the calibration table's ADC and
//!   this crate's protocol version), or is given for code rows;
//! - session time starts at 0 with the first sample and advances by the sample count, never
//!   by when bytes arrived: a jump in the 32-bit sample index (wrapping at 2^32) advances it
//!   by the missing samples, a device restart (index going back) continues where the stream
//!   was, and a reconnection moves it to the host time of the reconnection, never backwards;
//! - a Samples frame whose samples were all received already is a duplicate: it is dropped
//!   and counted, neither taken for a restart nor counted twice (`wire/SPEC.md`, "Receiver
//!   rules");
//! - every loss is a [`Step::Break`] (a reading must not span it) and a [`Notice`].
//!
//! The meter ([`crate::meter::Meter`]) is this timeline feeding an estimator; plots and the
//! raw export read its [`Run`]s directly.

use ct_wire::{Frame, Info, ResetCause};

use crate::calibration::Calibration;
use crate::decoder::{DecodeError, Decoder, Malformed};

/// Samples frames remembered to recognise a duplicate: 0.22 s of the fast link's default
/// frames and 3 s of the LaunchPad's. A frame repeated later than that is taken for a
/// restart.
pub const DUPLICATE_HORIZON: usize = 16;

/// Contiguous code rows are handed on in runs of at most this many samples.
const ROW_RUN: usize = 4096;

/// Something the user should know, other than a sample.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    /// The first Info frame, or one that changed.
    Device(Info),
    /// Samples arrived before any Info frame; they cannot be used without the sample rate.
    WaitingForInfo { discarded_samples: u64 },
    /// Bytes that did not form a valid frame were skipped (stream offset after them).
    Skipped { bytes: usize, reason: Malformed, offset: u64 },
    /// Samples missing from the stream (overrun, corruption, disconnect, or rows missing from
    /// a CSV's time column).
    Gap { lost_samples: u64, seconds: f64 },
    /// The device restarted (sample index went back, or Info says so).
    Reset { cause: Option<ResetCause> },
    /// The device's cumulative overrun counter grew.
    Overrun { dropped_total: u32, new: u32 },
    /// A Samples frame whose samples had all been received already was dropped.
    Duplicate { first_index: u32, samples: u64, frames_total: u64 },
}

/// Consecutive samples, with no gap between them.
#[derive(Debug, Clone, Copy)]
pub struct Run<'a> {
    /// Session time of the first sample, s.
    pub t_s: f64,
    /// Index of the first sample, counted from the first sample of the input (lost samples
    /// included, so a gap shows as a jump).
    pub index: u64,
    pub rate_hz: f64,
    pub codes: &'a [u16],
}

impl Run<'_> {
    /// Session time just after the last sample.
    pub fn t_end(&self) -> f64 {
        self.t_s + self.codes.len() as f64 / self.rate_hz
    }
}

/// What the timeline tells its reader, in stream order.
#[derive(Debug, Clone)]
pub enum Step<'a> {
    /// Samples, in order.
    Run(Run<'a>),
    /// Runs from here on are at this sample rate (the first Info frame, one that changed the
    /// rate, or the rate given for code rows).
    Rate(f64),
    /// Samples are missing before the next run (`lost` of them; 0 when unknown, as across a
    /// restart): a reading must not span it.
    Break {
        lost: u64,
    },
    Notice(Notice),
}

/// A row of a CSV of codes, already checked by its parser: codes within the ADC's range and
/// `t_s`, when present, strictly increasing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CodeRow {
    pub t_s: Option<f64>,
    pub code: u16,
}

/// Errors that make the input unusable as configured.
#[derive(Debug, thiserror::Error)]
pub enum TimelineError {
    #[error(
        "the calibration table {table} is for a {tbits}-bit ADC with a {tref} mV reference, but the device \
         reports {dbits} bits and {dref} mV"
    )]
    CalibrationMismatch { table: String, tbits: u8, tref: u16, dbits: u8, dref: u16 },
    #[error("the device reports an invalid sample rate ({clock} Hz / {ticks} ticks)")]
    BadRate { clock: u32, ticks: u16 },
    #[error("the device speaks wire protocol {got}; this ct-read understands {want}")]
    Protocol { got: u8, want: u8 },
    #[error("a sample rate of {0} Hz is not a positive number")]
    BadRowRate(f64),
}

/// The ADC a calibration table was made for: what every Info frame must report.
#[derive(Debug, Clone)]
struct Adc {
    table: String,
    bits: u8,
    ref_mv: u16,
}

/// Frames or code rows in, [`Step`]s out.
pub struct Timeline {
    decoder: Decoder,
    /// Stream offset of the frame being handled, for errors.
    frame_offset: u64,
    adc: Adc,
    info: Option<Info>,
    rate_hz: Option<f64>,
    /// A rate given for code rows, not yet told as [`Step::Rate`].
    rate_untold: bool,
    /// Device index of the next expected sample; `None` at the start, after a rate change and
    /// after a reconnection, where the next frame continues the timeline whatever its index.
    next: Option<u32>,
    /// Input index of the next sample.
    stream_index: u64,
    /// Session time just after the last sample (where the next one is taken).
    t_end: f64,
    started: bool,
    /// The device's overrun counter from its last Status frame.
    dropped_total: Option<u32>,
    waiting_discarded: u64,
    duplicate_frames: u64,
    duplicate_samples: u64,
    /// Unpacked samples of the frame being handled.
    codes: [u16; ct_wire::MAX_SAMPLES_PER_FRAME],
    /// The last [`DUPLICATE_HORIZON`] Samples frames accepted, a ring at `recent_next`.
    recent: Box<[RecentFrame]>,
    recent_next: usize,
    /// Code rows: time of the first row (session time 0) and of the previous row.
    row_t0: Option<f64>,
    row_prev: Option<f64>,
    /// Code rows waiting to be handed on as one run.
    row_codes: Vec<u16>,
}

impl Timeline {
    /// A timeline for frames from a device, whose Info frames must match `cal`'s ADC.
    pub fn new(cal: &Calibration) -> Self {
        Timeline {
            decoder: Decoder::new(),
            frame_offset: 0,
            adc: Adc { table: cal.name.clone(), bits: cal.adc_bits, ref_mv: cal.adc_ref_mv },
            info: None,
            rate_hz: None,
            rate_untold: false,
            next: None,
            stream_index: 0,
            t_end: 0.0,
            started: false,
            dropped_total: None,
            waiting_discarded: 0,
            duplicate_frames: 0,
            duplicate_samples: 0,
            codes: [0; ct_wire::MAX_SAMPLES_PER_FRAME],
            recent: vec![RecentFrame::EMPTY; DUPLICATE_HORIZON].into_boxed_slice(),
            recent_next: 0,
            row_t0: None,
            row_prev: None,
            row_codes: Vec::new(),
        }
    }

    /// A timeline for code rows taken at `rate_hz` (they carry no Info frame; their codes are
    /// taken to be `cal`'s ADC's).
    pub fn for_code_rows(cal: &Calibration, rate_hz: f64) -> Result<Self, TimelineError> {
        if !(rate_hz.is_finite() && rate_hz > 0.0) {
            return Err(TimelineError::BadRowRate(rate_hz));
        }
        let mut t = Timeline::new(cal);
        t.rate_hz = Some(rate_hz);
        t.rate_untold = true;
        Ok(t)
    }

    /// The device's last Info frame.
    pub fn info(&self) -> Option<&Info> {
        self.info.as_ref()
    }

    pub fn rate_hz(&self) -> Option<f64> {
        self.rate_hz
    }

    /// Session time just after the last sample handed on, once there was one: what a host
    /// clock anchors on.
    pub fn t_end(&self) -> Option<f64> {
        self.started.then_some(self.t_end)
    }

    /// Byte offset in the stream (since the start, or the last disconnection) where decoding
    /// of the frame handled last began (an empty frame before it included): where an error
    /// was found.
    pub fn frame_offset(&self) -> u64 {
        self.frame_offset
    }

    /// Duplicated frames dropped so far, and their samples.
    pub fn duplicates(&self) -> (u64, u64) {
        (self.duplicate_frames, self.duplicate_samples)
    }

    /// Feeds bytes from the line and hands on every step they complete. `out` returns `false`
    /// to stop at the end of the frame it was told about (the rest stays buffered); the
    /// result is then `Ok(false)`.
    pub fn bytes(&mut self, bytes: &[u8], out: &mut impl FnMut(Step<'_>) -> bool) -> Result<bool, TimelineError> {
        self.decoder.received(bytes);
        loop {
            self.frame_offset = self.decoder.stream_offset();
            // The frame borrows the decoder; copy out what is needed before handling it.
            let frame = match self.decoder.decode() {
                Ok(Frame::Info(i)) => Pending::Info(i),
                Ok(Frame::Status(s)) => Pending::Status(s.dropped_total),
                Ok(Frame::Samples(s)) => {
                    let n = ct_wire::pack::unpack_into(s.packed, &mut self.codes);
                    Pending::Samples(s.first_index, n)
                }
                Err(DecodeError::NeedMoreBytes) => return Ok(true),
                Err(DecodeError::Malformed { skipped, reason }) => {
                    let offset = self.decoder.stream_offset();
                    Pending::Skipped(Notice::Skipped { bytes: skipped, reason, offset })
                }
            };
            let go = match frame {
                Pending::Info(info) => self.on_info(info, out)?,
                Pending::Status(dropped_total) => self.on_status(dropped_total, out),
                Pending::Samples(first_index, n) => self.on_samples(first_index, n, out),
                Pending::Skipped(n) => out(Step::Notice(n)),
            };
            if !go {
                return Ok(false);
            }
        }
    }

    /// The link went away (unplugged): a partial frame is dropped. Whatever comes next is
    /// placed by [`Timeline::reconnected`].
    pub fn disconnected(&mut self) {
        self.decoder = Decoder::new();
    }

    /// The link is back at session time `t_s` (host clock); the time in between is a gap.
    /// Session time never goes backwards, even if the device's clock ran fast.
    pub fn reconnected(&mut self, t_s: f64, out: &mut impl FnMut(Step<'_>) -> bool) -> bool {
        if self.next.take().is_none() {
            return true;
        }
        let t = t_s.max(self.t_end);
        let seconds = t - self.t_end;
        let lost = self.rate_hz.map_or(0, |r| (seconds * r).round() as u64);
        self.t_end = t;
        self.stream_index += lost;
        out(Step::Notice(Notice::Gap { lost_samples: lost, seconds })) & out(Step::Break { lost })
    }

    /// One row of a CSV of codes (a timeline made by [`Timeline::for_code_rows`]). A step in
    /// `t_s` of 1.5 sample periods or more is a gap of the rows missing; the run after it
    /// starts at the row's own time.
    pub fn code_row(&mut self, row: CodeRow, out: &mut impl FnMut(Step<'_>) -> bool) -> bool {
        let Some(rate) = self.rate_hz else { return true };
        let mut go = true;
        if std::mem::take(&mut self.rate_untold) {
            go &= out(Step::Rate(rate));
        }
        if let Some(t) = row.t_s {
            let t0 = *self.row_t0.get_or_insert(t);
            if let Some(prev) = self.row_prev {
                let missing = ((t - prev) * rate).round() - 1.0;
                if missing >= 1.0 {
                    go &= self.flush_rows(out);
                    let lost = missing as u64;
                    go &= out(Step::Break { lost });
                    go &= out(Step::Notice(Notice::Gap { lost_samples: lost, seconds: lost as f64 / rate }));
                    self.stream_index += lost;
                    self.t_end = (t - t0).max(self.t_end);
                }
            }
            self.row_prev = Some(t);
        }
        self.row_codes.push(row.code);
        if self.row_codes.len() == ROW_RUN {
            go &= self.flush_rows(out);
        }
        go
    }

    /// End of input: hands on the code rows still held.
    pub fn finish(&mut self, out: &mut impl FnMut(Step<'_>) -> bool) -> bool {
        self.flush_rows(out)
    }

    fn flush_rows(&mut self, out: &mut impl FnMut(Step<'_>) -> bool) -> bool {
        let Some(rate) = self.rate_hz.filter(|_| !self.row_codes.is_empty()) else { return true };
        let n = self.row_codes.len();
        let go =
            out(Step::Run(Run { t_s: self.t_end, index: self.stream_index, rate_hz: rate, codes: &self.row_codes }));
        self.advance(n, rate);
        self.row_codes.clear();
        go
    }

    fn advance(&mut self, n: usize, rate: f64) {
        self.stream_index += n as u64;
        self.t_end += n as f64 / rate;
        self.started = true;
    }

    fn on_info(&mut self, info: Info, out: &mut impl FnMut(Step<'_>) -> bool) -> Result<bool, TimelineError> {
        if info.protocol_version != ct_wire::PROTOCOL_VERSION {
            return Err(TimelineError::Protocol { got: info.protocol_version, want: ct_wire::PROTOCOL_VERSION });
        }
        if info.adc_bits != self.adc.bits || info.adc_ref_mv != self.adc.ref_mv {
            return Err(TimelineError::CalibrationMismatch {
                table: self.adc.table.clone(),
                tbits: self.adc.bits,
                tref: self.adc.ref_mv,
                dbits: info.adc_bits,
                dref: info.adc_ref_mv,
            });
        }
        if info.ticks_per_sample == 0 || info.timer_clock_hz == 0 {
            return Err(TimelineError::BadRate { clock: info.timer_clock_hz, ticks: info.ticks_per_sample });
        }
        if self.info == Some(info) {
            return Ok(true);
        }
        let rate = info.sample_rate_hz();
        let rate_changed = self.rate_hz != Some(rate);
        self.info = Some(info);
        let mut go = out(Step::Notice(Notice::Device(info)));
        if rate_changed {
            self.rate_hz = Some(rate);
            self.next = None;
            self.forget_recent();
            go &= out(Step::Rate(rate));
        }
        Ok(go)
    }

    fn on_status(&mut self, dropped_total: u32, out: &mut impl FnMut(Step<'_>) -> bool) -> bool {
        let prev = self.dropped_total.replace(dropped_total);
        match prev {
            Some(prev) if dropped_total > prev => {
                out(Step::Notice(Notice::Overrun { dropped_total, new: dropped_total - prev }))
            }
            _ => true,
        }
    }

    fn on_samples(&mut self, first: u32, n: usize, out: &mut impl FnMut(Step<'_>) -> bool) -> bool {
        let Some(rate) = self.rate_hz else {
            self.waiting_discarded += n as u64;
            return out(Step::Notice(Notice::WaitingForInfo { discarded_samples: self.waiting_discarded }));
        };
        let mut go = true;
        if let Some(next) = self.next {
            // Forward distance from the expected index, modulo 2^32.
            match first.wrapping_sub(next) {
                0 => {}
                ahead if ahead < 1 << 31 => {
                    let lost = ahead as u64;
                    let seconds = lost as f64 / rate;
                    go &= out(Step::Break { lost });
                    go &= out(Step::Notice(Notice::Gap { lost_samples: lost, seconds }));
                    self.stream_index += lost;
                    self.t_end += seconds;
                }
                _ if self.was_received(first, n) => {
                    self.duplicate_frames += 1;
                    self.duplicate_samples += n as u64;
                    return out(Step::Notice(Notice::Duplicate {
                        first_index: first,
                        samples: n as u64,
                        frames_total: self.duplicate_frames,
                    }));
                }
                _ => {
                    // The index went back: the device restarted. Its Info frame (sent at boot)
                    // may have been lost, so this is detected from the index alone.
                    go &= out(Step::Break { lost: 0 });
                    go &= out(Step::Notice(Notice::Reset { cause: None }));
                    self.dropped_total = None;
                    self.forget_recent();
                }
            }
        }
        let slot = &mut self.recent[self.recent_next];
        slot.first = first;
        slot.n = n;
        slot.codes[..n].copy_from_slice(&self.codes[..n]);
        self.recent_next = (self.recent_next + 1) % DUPLICATE_HORIZON;
        go &= out(Step::Run(Run { t_s: self.t_end, index: self.stream_index, rate_hz: rate, codes: &self.codes[..n] }));
        self.next = Some(first.wrapping_add(n as u32));
        self.advance(n, rate);
        go
    }

    /// Whether the frame in `self.codes[..n]`, starting at device index `first`, is one of
    /// the frames accepted recently: same index, same samples. Comparing the samples, not only
    /// the index, keeps a device that restarts soon after the stream began from being taken
    /// for a repetition of its first frames.
    fn was_received(&self, first: u32, n: usize) -> bool {
        self.recent.iter().any(|f| f.n == n && f.first == first && f.codes[..n] == self.codes[..n])
    }

    fn forget_recent(&mut self) {
        self.recent.fill(RecentFrame::EMPTY);
    }
}

/// A Samples frame accepted, remembered to recognise its duplicate.
#[derive(Clone)]
struct RecentFrame {
    first: u32,
    /// Samples; 0 for an empty slot.
    n: usize,
    codes: [u16; ct_wire::MAX_SAMPLES_PER_FRAME],
}

impl RecentFrame {
    const EMPTY: RecentFrame = RecentFrame { first: 0, n: 0, codes: [0; ct_wire::MAX_SAMPLES_PER_FRAME] };
}

/// A decoded frame, copied out of the decoder's buffer (samples go to `Timeline::codes`).
enum Pending {
    Info(Info),
    /// The overrun counter.
    Status(u32),
    /// First index and sample count.
    Samples(u32, usize),
    Skipped(Notice),
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a timeline told, runs summarised as (t_s, index, samples).
    #[derive(Debug, PartialEq)]
    enum Told {
        Run(f64, u64, usize),
        Rate(f64),
        Break(u64),
        Notice(Notice),
    }

    fn told(steps: &mut Vec<Told>) -> impl FnMut(Step<'_>) -> bool + '_ {
        |s| {
            steps.push(match s {
                Step::Run(r) => Told::Run(r.t_s, r.index, r.codes.len()),
                Step::Rate(r) => Told::Rate(r),
                Step::Break { lost } => Told::Break(lost),
                Step::Notice(n) => Told::Notice(n),
            });
            true
        }
    }

    /// Timed rows: the rate is told first; a hole in the time column is a break and a gap
    /// notice, and the run after it starts at its own time and index; contiguous rows come in
    /// runs of at most `ROW_RUN`.
    #[test]
    fn code_rows_with_a_hole() {
        // Times in binary fractions of a second, so that the arithmetic is exact.
        let mut tl = Timeline::for_code_rows(&Calibration::builtin(), 1024.0).unwrap();
        let mut steps = Vec::new();
        let mut out = told(&mut steps);
        for k in (0..6000u32).filter(|k| !(1200..1300).contains(k)) {
            assert!(tl.code_row(CodeRow { t_s: Some(8.0 + k as f64 / 1024.0), code: 100 }, &mut out));
        }
        assert!(tl.finish(&mut out));
        drop(out);
        let t = |k: usize| k as f64 / 1024.0;
        assert_eq!(
            steps,
            [
                Told::Rate(1024.0),
                Told::Run(0.0, 0, 1200),
                Told::Break(100),
                Told::Notice(Notice::Gap { lost_samples: 100, seconds: t(100) }),
                Told::Run(t(1300), 1300, ROW_RUN),
                Told::Run(t(1300 + ROW_RUN), 1300 + ROW_RUN as u64, 6000 - 1300 - ROW_RUN),
            ]
        );
        assert_eq!(tl.t_end(), Some(t(6000)));
    }

    /// Untimed rows are contiguous at the given rate; a rate that is no rate is refused.
    #[test]
    fn untimed_rows_and_bad_rates() {
        let mut tl = Timeline::for_code_rows(&Calibration::builtin(), 50.0).unwrap();
        let mut steps = Vec::new();
        let mut out = told(&mut steps);
        for _ in 0..10 {
            tl.code_row(CodeRow { t_s: None, code: 7 }, &mut out);
        }
        tl.finish(&mut out);
        drop(out);
        assert_eq!(steps, [Told::Rate(50.0), Told::Run(0.0, 0, 10)]);
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(Timeline::for_code_rows(&Calibration::builtin(), bad).is_err(), "{bad}");
        }
    }

    /// A reconnection moves session time to the host's time of it, never backwards, and
    /// counts the samples in between as lost.
    #[test]
    fn reconnection_is_a_gap_in_host_time() {
        let mut tl = Timeline::for_code_rows(&Calibration::builtin(), 100.0).unwrap();
        let mut steps = Vec::new();
        let mut out = told(&mut steps);
        for _ in 0..100 {
            tl.code_row(CodeRow { t_s: None, code: 7 }, &mut out);
        }
        tl.finish(&mut out);
        // Rows never set the device index, so a reconnection has nothing to place.
        assert!(tl.reconnected(5.0, &mut out));
        assert_eq!(tl.t_end(), Some(1.0));
    }
}
