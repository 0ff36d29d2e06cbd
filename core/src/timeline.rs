//! The sample timeline: frames or code rows in, timed runs of samples and notices out.
//!
//! Every input (a serial port, a capture, a recorded byte stream, a CSV of codes) becomes
//! samples on one time axis by the rules written here once, so the meter's readings, the
//! plots and the raw-samples export of one recording agree on what was lost and when each
//! sample was taken:
//!
//! - the sample rate comes from Info frames (checked against the calibration table's ADC and
//!   the protocol versions this crate reads), or is given for code rows;
//! - the device's factory ADC calibration (protocol version 2's ADC calibration frame: the
//!   2.5 V reference's and the converter's trim from the G2553's TLV segment) is applied to
//!   every code of a Samples frame here, before anything else sees it: `code x
//!   CAL_ADC_25VREF_FACTOR / 2^15 x CAL_ADC_GAIN_FACTOR / 2^15 + CAL_ADC_OFFSET`
//!   ([`ct_wire::AdcCal::correction`]), in floating point, rounded back to a code (the
//!   re-rounding adds at most 0.5 LSB to a sample, like the converter's own quantisation).
//!   A version 1 device sends no calibration and a frame that fails its checks (erased or
//!   corrupt segment, implausible words) is not applied: the nominal reference is used, and
//!   said ([`Notice::AdcCalibration`]);
//! - session time starts at 0 with the first sample and advances by the sample count, never
//!   by when bytes arrived: a jump in the 32-bit sample index (wrapping at 2^32) advances it
//!   by the missing samples, a device restart (index going back) continues where the stream
//!   was, and a reconnection moves it to the host time of the reconnection, never backwards;
//! - a Samples frame whose samples were all received already is a duplicate: it is dropped
//!   and counted, neither taken for a restart nor counted twice (`wire/SPEC.md`, "Receiver
//!   rules");
//! - a Samples frame going back into samples reported lost a moment ago (a late copy of a
//!   frame lost on the line) is dropped and counted, not taken for a restart;
//! - every loss is a [`Step::Break`] (a reading must not span it) and a [`Notice`];
//! - the sample rate is the Info frame's nominal rate until the device's clock has been
//!   measured against the host's from the receive times the host reports
//!   ([`Timeline::received`], [`crate::sample_clock`]); from then on runs, session time and
//!   the estimator use the measured rate ([`Step::Clock`]). The measurement carries over a
//!   restart, a rate change and a reconnection (the same DCO) until a new one settles; inputs
//!   without receive times (raw byte streams, CSVs of codes) keep the nominal rate.
//!
//! The meter ([`crate::meter::Meter`]) is this timeline feeding an estimator; plots and the
//! raw export read its [`Run`]s directly.

use ct_wire::frame::AdcCorrection;
use ct_wire::{AdcCal, Frame, Info, ResetCause};

use crate::calibration::Calibration;
use crate::decoder::{DecodeError, Decoder, Malformed};
use crate::sample_clock::{self, ClockEstimate, SampleClock};

/// A settled clock estimate further than this from nominal (10 %; the DCO's tolerance is
/// ±6 %) is not a DCO's error: receive times that are not real time (a simulation run faster
/// than real time, a capture made up). It is reported and not applied.
pub const MAX_CLOCK_PPM: f64 = 100_000.0;

/// A new settled estimate is applied when it moved this far from the one in use, ppm.
const CLOCK_STEP_PPM: f64 = 10.0;

/// A new settled estimate is told when it moved this far from the one last told, ppm.
const CLOCK_NOTICE_PPM: f64 = 1000.0;

/// Samples frames remembered to recognise a duplicate: 0.22 s of the fast link's default
/// frames and 3 s of the LaunchPad's. A frame repeated later than that is taken for a
/// restart.
pub const DUPLICATE_HORIZON: usize = 16;

/// The sample rates the meter accepts, samples/s, for frames and code rows alike.
///
/// The low end: a 65 Hz mains cycle (the top of [`crate::estimate::MAINS_HZ_RANGE`]) must
/// have enough samples for the frequency search and the waveform correction; the slowest
/// device, the LaunchPad build at 603.5 samples/s, is the slowest rate they are validated at,
/// and below a few hundred samples/s a reading is meaningless (at 1 sample/s an 18.7 A load
/// read as 0 A). The high end: the MSP430's ADC10 converts at most 200 k samples/s, so a
/// faster rate is a unit mistake (a time column in the wrong unit, a timer clock misreported),
/// and a reading window holds `window_s x rate` samples, so a bound on the rate bounds its
/// memory (about 6 bytes a sample: 1.2 MB for a 1 s window at the top rate).
pub const RATE_RANGE_HZ: (f64, f64) = (500.0, 200_000.0);

/// Whether `rate_hz` is within [`RATE_RANGE_HZ`].
pub fn check_rate(rate_hz: f64) -> Result<(), TimelineError> {
    if rate_hz.is_finite() && (RATE_RANGE_HZ.0..=RATE_RANGE_HZ.1).contains(&rate_hz) {
        Ok(())
    } else {
        Err(TimelineError::RateOutOfRange { rate_hz: Num(rate_hz) })
    }
}

/// A number for a message: plain when it reads well, in scientific notation when plain
/// digits would run to dozens (`1e300`, `1e-12`), so that no message prints 300 digits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Num(pub f64);

impl std::fmt::Display for Num {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Six significant digits at most: 1/3 is 0.333333, not 0.3333333333333333.
        let x: f64 = format!("{:.5e}", self.0).parse().unwrap_or(self.0);
        if x == 0.0 || !x.is_finite() || (1e-4..1e9).contains(&x.abs()) {
            write!(f, "{x}")
        } else {
            write!(f, "{x:e}")
        }
    }
}

/// Contiguous code rows are handed on in runs of at most this many samples.
const ROW_RUN: usize = 4096;

/// Something the user should know, other than a sample.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    /// The first Info frame, or one that changed.
    Device(Info),
    /// The device's ADC calibration, when it first comes or changes: `Some` from a protocol
    /// version 2 device's ADC calibration frame (applied only if
    /// [`AdcCal::correction`] accepts it), `None` for a version 1 device, which sends none
    /// (its codes are read with the nominal reference).
    AdcCalibration(Option<AdcCal>),
    /// Samples arrived before any Info frame; they cannot be used without the sample rate.
    WaitingForInfo { discarded_samples: u64 },
    /// Bytes that did not form a valid frame were skipped (stream offset after them).
    Skipped { bytes: usize, reason: Malformed, offset: u64 },
    /// Samples missing from the stream (overrun, corruption, disconnect, or rows missing from
    /// a CSV's time column).
    Gap { lost_samples: u64, seconds: f64 },
    /// The device restarted (its sample index went back). `cause` is the reset cause of the
    /// Info frame received since the last Samples frame (the boot Info), `None` when that
    /// frame was lost.
    Reset { cause: Option<ResetCause> },
    /// The device's cumulative overrun counter grew.
    Overrun { dropped_total: u32, new: u32 },
    /// A Samples frame whose samples had all been received already was dropped.
    Duplicate { first_index: u32, samples: u64, frames_total: u64 },
    /// A Samples frame that came back to samples already reported lost (a late or repeated
    /// copy of a frame lost on the line) was dropped.
    Late { first_index: u32, samples: u64, frames_total: u64 },
    /// Receive times came: the device's clock is being measured; until it settles, readings
    /// use the nominal rate (their `clock_ppm` is `None`). Told once.
    ClockMeasuring,
    /// The device's sample clock was measured against the host's (first, or moved by
    /// `CLOCK_NOTICE_PPM` (1000 ppm) since last told): the rate used from here on.
    Clock { estimate: ClockEstimate, rate_hz: f64 },
    /// The receive times put the device's clock further from nominal than a DCO can be
    /// ([`MAX_CLOCK_PPM`]): the nominal rate is kept. Told once.
    ClockImplausible { estimate: ClockEstimate },
    /// The input has no receive times (a raw byte stream, a CSV of codes): sample times come
    /// from the nominal rate, which the device's clock may miss by its tolerance.
    NominalClock,
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
    /// rate, or the rate given for code rows); the clock's measured offset, ppm, when it is
    /// applied to the nominal rate.
    Rate(f64, Option<f64>),
    /// The same device's sample rate, measured ([`crate::sample_clock`]): runs from here on
    /// are at `rate_hz`, `ppm` from the nominal; nothing else about the stream changed.
    Clock {
        rate_hz: f64,
        ppm: f64,
    },
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
    #[error("the device speaks wire protocol {got}; this ct-read understands {min} to {max}")]
    Protocol { got: u8, min: u8, max: u8 },
    #[error(
        "a sample rate of {rate_hz} samples/s is outside the range the meter works with ({} to {} samples/s)",
        RATE_RANGE_HZ.0,
        RATE_RANGE_HZ.1
    )]
    RateOutOfRange { rate_hz: Num },
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
    /// The device's ADC calibration as last told (`Some(None)`: a version 1 device, none),
    /// and the correction applied to codes from it.
    adc_cal: Option<Option<AdcCal>>,
    correction: Option<AdcCorrection>,
    /// The nominal sample rate (Info frame, or given for code rows).
    rate_hz: Option<f64>,
    /// The device's clock against the host's.
    clock: SampleClock,
    /// Device time (nominal seconds, lost samples included) since the start: the clock's
    /// abscissa.
    device_s: f64,
    /// The clock estimate in use (settled), and the one last told.
    applied: Option<ClockEstimate>,
    told_ppm: Option<f64>,
    measuring_told: bool,
    implausible_told: bool,
    /// Bytes were fed since the last receive time: an empty read is no observation (a capture
    /// does not record it, and its replay must measure the same).
    fed: bool,
    /// A rate given for code rows, not yet told as [`Step::Rate`].
    rate_untold: bool,
    /// Device index of the next expected sample; `None` at the start and after a
    /// reconnection, where the next frame continues the timeline whatever its index.
    next: Option<u32>,
    /// The device index of the stream's first sample, where known: 0 when the stream begins
    /// with the device's boot (a lone delimiter, then an Info frame), else the first index of
    /// the first Samples frame decoded (even one discarded for want of an Info frame). The
    /// samples from it to the first frame accepted are lost, and counted.
    origin: Option<u32>,
    /// Whether anything but lone delimiters was decoded or skipped yet (the boot signature
    /// must be the stream's very start).
    anything_decoded: bool,
    /// The reset cause of an Info frame decoded since the last Samples frame: the boot Info,
    /// if the next Samples frame shows a restart.
    info_since_samples: Option<ResetCause>,
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
    late_frames: u64,
    late_samples: u64,
    /// The last [`DUPLICATE_HORIZON`] gaps in the device index (first index, samples), a ring
    /// at `gaps_next`: a frame going back into one of them is late, not a restart.
    gaps: [(u32, u32); DUPLICATE_HORIZON],
    gaps_next: usize,
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
            adc_cal: None,
            correction: None,
            rate_hz: None,
            clock: SampleClock::default(),
            device_s: 0.0,
            applied: None,
            told_ppm: None,
            measuring_told: false,
            implausible_told: false,
            fed: false,
            rate_untold: false,
            next: None,
            origin: None,
            anything_decoded: false,
            info_since_samples: None,
            stream_index: 0,
            t_end: 0.0,
            started: false,
            dropped_total: None,
            waiting_discarded: 0,
            duplicate_frames: 0,
            duplicate_samples: 0,
            late_frames: 0,
            late_samples: 0,
            gaps: [(0, 0); DUPLICATE_HORIZON],
            gaps_next: 0,
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
        check_rate(rate_hz)?;
        let mut t = Timeline::new(cal);
        t.rate_hz = Some(rate_hz);
        t.rate_untold = true;
        Ok(t)
    }

    /// The device's last Info frame.
    pub fn info(&self) -> Option<&Info> {
        self.info.as_ref()
    }

    /// The device's ADC calibration frame as last received (`None`: none yet, or a protocol
    /// version 1 device), whether or not it is applied.
    pub fn adc_cal(&self) -> Option<&AdcCal> {
        self.adc_cal.as_ref().and_then(|c| c.as_ref())
    }

    /// The correction applied to the device's codes (`None`: nominal reference).
    pub fn adc_correction(&self) -> Option<AdcCorrection> {
        self.correction
    }

    /// The sample rate in use: the nominal one times the measured clock's ratio, once applied.
    pub fn rate_hz(&self) -> Option<f64> {
        self.rate_hz.map(|r| r * self.ratio())
    }

    /// The device's clock estimate in use, if one has settled.
    pub fn clock(&self) -> Option<ClockEstimate> {
        self.applied
    }

    /// The latest estimate of the device's clock, settled or not.
    pub fn clock_estimate(&self) -> Option<ClockEstimate> {
        self.clock.estimate()
    }

    fn ratio(&self) -> f64 {
        self.applied.map_or(1.0, |e| e.ratio())
    }

    fn ppm(&self) -> Option<f64> {
        self.applied.map(|e| e.ppm)
    }

    /// The bytes fed last were received at host time `host_ns` (Unix ns): an observation of
    /// the device's clock. Once the estimate settles, and whenever it moves, runs from here on
    /// are at the measured rate ([`Step::Clock`]).
    pub fn received(&mut self, host_ns: i64, out: &mut impl FnMut(Step<'_>) -> bool) -> bool {
        let Some(nominal) = self.rate_hz.filter(|_| self.started && std::mem::take(&mut self.fed)) else { return true };
        self.clock.observe(self.device_s, host_ns);
        let mut go = true;
        if !std::mem::replace(&mut self.measuring_told, true) && self.applied.is_none() {
            go &= out(Step::Notice(Notice::ClockMeasuring));
        }
        let Some(e) = self.clock.estimate() else { return go };
        // Far off is far off whatever the bound (which, in ppm, grows with the ratio).
        if e.ppm.abs() > MAX_CLOCK_PPM && e.span_s >= sample_clock::MIN_SPAN_S && e.points >= sample_clock::MIN_POINTS {
            if !std::mem::replace(&mut self.implausible_told, true) {
                go &= out(Step::Notice(Notice::ClockImplausible { estimate: e }));
            }
            return go;
        }
        if !e.settled() || e.ppm.abs() > MAX_CLOCK_PPM {
            return go;
        }
        if self.applied.is_some_and(|a| (a.ppm - e.ppm).abs() < CLOCK_STEP_PPM) {
            return go;
        }
        self.applied = Some(e);
        let rate_hz = nominal * e.ratio();
        go &= out(Step::Clock { rate_hz, ppm: e.ppm });
        if self.told_ppm.is_none_or(|t| (t - e.ppm).abs() >= CLOCK_NOTICE_PPM) {
            self.told_ppm = Some(e.ppm);
            go &= out(Step::Notice(Notice::Clock { estimate: e, rate_hz }));
        }
        go
    }

    /// Session time just after the last sample handed on, once there was one: what a host
    /// clock anchors on.
    pub fn t_end(&self) -> Option<f64> {
        self.started.then_some(self.t_end)
    }

    /// Byte offset in the stream (since the start, or the last disconnection) of the first
    /// byte of the frame handled last: where an error was found.
    pub fn frame_offset(&self) -> u64 {
        self.frame_offset
    }

    /// Duplicated frames dropped so far, and their samples.
    pub fn duplicates(&self) -> (u64, u64) {
        (self.duplicate_frames, self.duplicate_samples)
    }

    /// Late frames dropped so far (their samples were reported lost), and their samples.
    pub fn late(&self) -> (u64, u64) {
        (self.late_frames, self.late_samples)
    }

    /// Feeds bytes from the line and hands on every step they complete. `out` returns `false`
    /// to stop at the end of the frame it was told about (the rest stays buffered); the
    /// result is then `Ok(false)`.
    pub fn bytes(&mut self, bytes: &[u8], out: &mut impl FnMut(Step<'_>) -> bool) -> Result<bool, TimelineError> {
        self.decoder.received(bytes);
        self.fed |= !bytes.is_empty();
        loop {
            // The frame borrows the decoder; copy out what is needed before handling it.
            let frame = match self.decoder.decode() {
                Ok(Frame::Info(i)) => Pending::Info(i),
                Ok(Frame::Status(s)) => Pending::Status(s.dropped_total),
                Ok(Frame::AdcCal(c)) => Pending::AdcCal(c),
                Ok(Frame::Samples(s)) => {
                    let n = ct_wire::pack::unpack_into(s.packed, &mut self.codes);
                    if let Some(c) = self.correction {
                        for code in &mut self.codes[..n] {
                            *code = c.apply(f64::from(*code)).round().clamp(0.0, f64::from(ct_wire::SAMPLE_MAX)) as u16;
                        }
                    }
                    Pending::Samples(s.first_index, n)
                }
                Err(DecodeError::NeedMoreBytes) => return Ok(true),
                Err(DecodeError::Malformed { skipped, reason }) => {
                    let offset = self.decoder.stream_offset();
                    Pending::Skipped(Notice::Skipped { bytes: skipped, reason, offset })
                }
            };
            let at = self.decoder.frame_start();
            // The device's boot (a lone delimiter, then Info) is only recognised at the very
            // start of the stream: anything skipped before it means the stream began mid-way.
            if matches!(frame, Pending::Info(_)) && !self.anything_decoded && at > 0 {
                self.origin = Some(0);
            }
            self.frame_offset = at;
            self.anything_decoded = true;
            let go = match frame {
                Pending::Info(info) => self.on_info(info, out)?,
                Pending::Status(dropped_total) => self.on_status(dropped_total, out),
                Pending::AdcCal(c) => self.on_adc_cal(Some(c), out),
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
        // The samples missed are estimated from host time: device time is no longer exact.
        self.clock.restart();
        let t = t_s.max(self.t_end);
        let seconds = t - self.t_end;
        let lost = self.rate_hz().map_or(0, |r| (seconds * r).round() as u64);
        self.t_end = t;
        self.stream_index += lost;
        out(Step::Notice(Notice::Gap { lost_samples: lost, seconds })) & out(Step::Break { lost })
    }

    /// One row of a CSV of codes (a timeline made by [`Timeline::for_code_rows`]). A step in
    /// `t_s` of 1.5 sample periods or more is a gap of the rows missing; the run after it
    /// starts at the row's own time.
    pub fn code_row(&mut self, row: CodeRow, out: &mut impl FnMut(Step<'_>) -> bool) -> bool {
        let Some(rate) = self.rate_hz() else { return true };
        let mut go = true;
        if std::mem::take(&mut self.rate_untold) {
            go &= out(Step::Rate(rate, self.ppm()));
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
        let Some(rate) = self.rate_hz().filter(|_| !self.row_codes.is_empty()) else { return true };
        let n = self.row_codes.len();
        let go =
            out(Step::Run(Run { t_s: self.t_end, index: self.stream_index, rate_hz: rate, codes: &self.row_codes }));
        self.advance(n, rate);
        self.row_codes.clear();
        go
    }

    /// `n` samples taken at `rate` (the rate in use) were handed on.
    fn advance(&mut self, n: usize, rate: f64) {
        self.stream_index += n as u64;
        self.t_end += n as f64 / rate;
        self.device_s += n as f64 / rate * self.ratio();
        self.started = true;
    }

    fn on_info(&mut self, info: Info, out: &mut impl FnMut(Step<'_>) -> bool) -> Result<bool, TimelineError> {
        if !(ct_wire::MIN_PROTOCOL_VERSION..=ct_wire::PROTOCOL_VERSION).contains(&info.protocol_version) {
            return Err(TimelineError::Protocol {
                got: info.protocol_version,
                min: ct_wire::MIN_PROTOCOL_VERSION,
                max: ct_wire::PROTOCOL_VERSION,
            });
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
        check_rate(info.sample_rate_hz())?;
        self.info_since_samples = Some(info.reset_cause);
        if self.info == Some(info) {
            return Ok(true);
        }
        let rate = info.sample_rate_hz();
        let rate_changed = self.rate_hz != Some(rate);
        self.info = Some(info);
        let mut go = out(Step::Notice(Notice::Device(info)));
        if info.protocol_version < 2 {
            // Version 1 devices send no ADC calibration: the nominal reference.
            go &= self.on_adc_cal(None, out);
        }
        if rate_changed {
            // The index is still followed across the change, so that a restart at another
            // rate is told by the next Samples frame going back, as at the same rate.
            self.rate_hz = Some(rate);
            self.forget_recent();
            go &= out(Step::Rate(rate * self.ratio(), self.ppm()));
        }
        Ok(go)
    }

    /// A device's ADC calibration (`None`: a version 1 device): applied to the codes of the
    /// Samples frames after it when [`AdcCal::correction`] accepts it; told when it changes.
    fn on_adc_cal(&mut self, cal: Option<AdcCal>, out: &mut impl FnMut(Step<'_>) -> bool) -> bool {
        if self.adc_cal == Some(cal) {
            return true;
        }
        self.adc_cal = Some(cal);
        self.correction = cal.and_then(|c| c.correction());
        out(Step::Notice(Notice::AdcCalibration(cal)))
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
        let origin = *self.origin.get_or_insert(first);
        let boot_cause = self.info_since_samples.take();
        let Some(rate) = self.rate_hz() else {
            self.waiting_discarded += n as u64;
            return out(Step::Notice(Notice::WaitingForInfo { discarded_samples: self.waiting_discarded }));
        };
        let mut go = true;
        if !self.started {
            // Samples sent before the first one accepted, where the stream tells how many.
            go &= self.lost(origin, first.wrapping_sub(origin), rate, out);
        }
        if let Some(next) = self.next {
            // Forward distance from the expected index, modulo 2^32.
            match first.wrapping_sub(next) {
                0 => {}
                ahead if ahead < 1 << 31 => go &= self.lost(next, ahead, rate, out),
                _ if self.was_received(first, n) => {
                    self.duplicate_frames += 1;
                    self.duplicate_samples += n as u64;
                    return out(Step::Notice(Notice::Duplicate {
                        first_index: first,
                        samples: n as u64,
                        frames_total: self.duplicate_frames,
                    }));
                }
                _ if boot_cause.is_none() && self.in_recent_gap(first, n) => {
                    // A frame the link delayed or repeated, whose first copy was lost: its
                    // samples were reported lost already and the readings around them are
                    // out, so it is dropped (not taken for a restart).
                    self.late_frames += 1;
                    self.late_samples += n as u64;
                    return out(Step::Notice(Notice::Late {
                        first_index: first,
                        samples: n as u64,
                        frames_total: self.late_frames,
                    }));
                }
                _ => {
                    // The index went back: the device restarted. Its boot Info frame may have
                    // been lost, so this is detected from the index alone; when it arrived, it
                    // gives the cause, and the device counts from 0 after it, so frames lost
                    // between it and this one are counted too. The samples lost just before
                    // the restart cannot be known.
                    go &= out(Step::Break { lost: 0 });
                    go &= out(Step::Notice(Notice::Reset { cause: boot_cause }));
                    // The samples lost across it are unknown: device time is no longer exact.
                    self.clock.restart();
                    if boot_cause.is_some() {
                        go &= self.lost(0, first, rate, out);
                    }
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

    /// `d` samples sent were never received (none if `d` is 0 or not a forward distance):
    /// a break and a gap, and session time moves over them.
    fn lost(&mut self, from: u32, d: u32, rate: f64, out: &mut impl FnMut(Step<'_>) -> bool) -> bool {
        if d == 0 || d >= 1 << 31 {
            return true;
        }
        self.gaps[self.gaps_next] = (from, d);
        self.gaps_next = (self.gaps_next + 1) % DUPLICATE_HORIZON;
        let lost = d as u64;
        let seconds = lost as f64 / rate;
        self.stream_index += lost;
        self.t_end += seconds;
        self.device_s += seconds * self.ratio();
        out(Step::Break { lost }) & out(Step::Notice(Notice::Gap { lost_samples: lost, seconds }))
    }

    /// Whether the frame in `self.codes[..n]`, starting at device index `first`, is one of
    /// the frames accepted recently: same index, same samples. Comparing the samples, not only
    /// the index, keeps a device that restarts soon after the stream began from being taken
    /// for a repetition of its first frames.
    fn was_received(&self, first: u32, n: usize) -> bool {
        self.recent.iter().any(|f| f.n == n && f.first == first && f.codes[..n] == self.codes[..n])
    }

    /// Whether the samples `first..first + n` all lie in one of the gaps remembered.
    fn in_recent_gap(&self, first: u32, n: usize) -> bool {
        self.gaps.iter().any(|&(from, len)| len > 0 && first.wrapping_sub(from) as u64 + n as u64 <= len as u64)
    }

    fn forget_recent(&mut self) {
        self.gaps.fill((0, 0));
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
    AdcCal(AdcCal),
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
        Clock(f64),
        Break(u64),
        Notice(Notice),
    }

    fn told(steps: &mut Vec<Told>) -> impl FnMut(Step<'_>) -> bool + '_ {
        |s| {
            steps.push(match s {
                Step::Run(r) => Told::Run(r.t_s, r.index, r.codes.len()),
                Step::Rate(r, _) => Told::Rate(r),
                Step::Clock { rate_hz, .. } => Told::Clock(rate_hz),
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
        let mut tl = Timeline::for_code_rows(&Calibration::builtin(), 1000.0).unwrap();
        let mut steps = Vec::new();
        let mut out = told(&mut steps);
        for _ in 0..10 {
            tl.code_row(CodeRow { t_s: None, code: 7 }, &mut out);
        }
        tl.finish(&mut out);
        drop(out);
        assert_eq!(steps, [Told::Rate(1000.0), Told::Run(0.0, 0, 10)]);
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(Timeline::for_code_rows(&Calibration::builtin(), bad).is_err(), "{bad}");
        }
    }

    /// A reconnection moves session time to the host's time of it, never backwards, and
    /// counts the samples in between as lost.
    #[test]
    fn reconnection_is_a_gap_in_host_time() {
        let mut tl = Timeline::for_code_rows(&Calibration::builtin(), 1000.0).unwrap();
        let mut steps = Vec::new();
        let mut out = told(&mut steps);
        for _ in 0..1000 {
            tl.code_row(CodeRow { t_s: None, code: 7 }, &mut out);
        }
        tl.finish(&mut out);
        // Rows never set the device index, so a reconnection has nothing to place.
        assert!(tl.reconnected(5.0, &mut out));
        assert_eq!(tl.t_end(), Some(1.0));
    }

    /// Issue 11.2: rates the meter cannot work with are refused, for code rows and Info
    /// frames alike, with a message that prints no 300-digit number; the range's ends are
    /// accepted.
    #[test]
    fn rates_outside_the_range_are_refused() {
        let cal = Calibration::builtin();
        for bad in [1.0, 8.0, 1e-9, 499.0, 200_001.0, 1e12, 1e300] {
            let e = Timeline::for_code_rows(&cal, bad).err().unwrap();
            assert!(matches!(e, TimelineError::RateOutOfRange { .. }), "{bad}: {e}");
            assert!(e.to_string().len() < 120, "{e}");
        }
        assert_eq!(
            Timeline::for_code_rows(&cal, 1e300).err().unwrap().to_string(),
            "a sample rate of 1e300 samples/s is outside the range the meter works with (500 to 200000 samples/s)"
        );
        for ok in [RATE_RANGE_HZ.0, 603.5, RATE_RANGE_HZ.1] {
            Timeline::for_code_rows(&cal, ok).unwrap();
        }
        // An Info frame with a 4 GHz timer (the case that tried to allocate 8 GB).
        let info = ct_wire::Info {
            protocol_version: ct_wire::PROTOCOL_VERSION,
            firmware_version: [0, 1, 0],
            timer_clock_hz: 4_000_000_000,
            ticks_per_sample: 1,
            adc_ref_mv: cal.adc_ref_mv,
            adc_bits: cal.adc_bits,
            baud: 250_000,
            reset_cause: ResetCause::PowerOn,
            build_profile: ct_wire::BuildProfile::Fast,
            samples_per_frame: 112,
            flags: 0,
        };
        let mut line = vec![0; ct_wire::MAX_ENCODED_FRAME];
        let n = ct_wire::framing::encode_frame(&Frame::Info(info), &mut line).unwrap();
        let mut tl = Timeline::new(&cal);
        let e = tl.bytes(&line[..n], &mut |_| true).unwrap_err();
        assert!(matches!(e, TimelineError::RateOutOfRange { rate_hz: Num(r) } if r == 4e9), "{e}");
        assert_eq!(tl.frame_offset(), 0);
    }

    #[test]
    fn numbers_in_messages_stay_short() {
        assert_eq!(Num(0.125).to_string(), "0.125");
        assert_eq!(Num(8000.0).to_string(), "8000");
        assert_eq!(Num(1e300).to_string(), "1e300");
        assert_eq!(Num(1e-12).to_string(), "1e-12");
        assert_eq!(Num(-4e9).to_string(), "-4e9");
        assert_eq!(Num(f64::NAN).to_string(), "NaN");
        assert_eq!(Num(1.0 / 3.0).to_string(), "0.333333");
        assert_eq!(Num(1e-12 * 0.9999999999999998).to_string(), "1e-12");
    }

    fn line(frame: &Frame) -> Vec<u8> {
        let mut out = vec![0; ct_wire::MAX_ENCODED_FRAME];
        let n = ct_wire::framing::encode_frame(frame, &mut out).unwrap();
        out.truncate(n);
        out
    }

    fn launchpad_info(protocol_version: u8) -> Info {
        let cal = Calibration::builtin();
        Info {
            protocol_version,
            firmware_version: [0, 2, 0],
            timer_clock_hz: 1_000_000,
            ticks_per_sample: 1657,
            adc_ref_mv: cal.adc_ref_mv,
            adc_bits: cal.adc_bits,
            baud: 9600,
            reset_cause: ResetCause::PowerOn,
            build_profile: ct_wire::BuildProfile::Launchpad,
            samples_per_frame: 4,
            flags: 0,
        }
    }

    /// Runs `frames` through a timeline; returns the codes of its runs, its notices about
    /// the ADC calibration, and the timeline.
    fn codes_after(frames: &[Frame]) -> (Vec<u16>, Vec<Notice>, Timeline) {
        let mut tl = Timeline::new(&Calibration::builtin());
        let (mut codes, mut notices) = (Vec::new(), Vec::new());
        for f in frames {
            tl.bytes(&line(f), &mut |s| {
                match s {
                    Step::Run(r) => codes.extend_from_slice(r.codes),
                    Step::Notice(n @ Notice::AdcCalibration(_)) => notices.push(n),
                    _ => {}
                }
                true
            })
            .unwrap();
        }
        (codes, notices, tl)
    }

    const RAW: [u16; 4] = [0, 100, 500, 1010];

    fn samples(packed: &[u8]) -> Frame<'_> {
        Frame::Samples(ct_wire::Samples { first_index: 0, packed })
    }

    /// Issue 12 item 6: a version 2 device's ADC calibration is applied to its codes. A
    /// reference 2 % high (factor 33423 = round(1.02 x 2^15)) with gain factor 0x7FE0
    /// (32736) and offset -2 LSB: code x 33423/32768 x 32736/32768 - 2, by hand:
    /// 0 -> -2 -> 0 (clamped), 100 -> 99.90 -> 100, 500 -> 507.496 -> 507,
    /// 1010 -> 1027.19 -> 1023 (clamped to the ADC's top).
    #[test]
    fn a_valid_adc_calibration_corrects_the_codes() {
        let packed = ct_wire::pack::pack4(RAW);
        let cal =
            AdcCal { status: ct_wire::AdcCalStatus::Valid, gain_factor: 0x7FE0, offset: -2, vref25_factor: 33423 };
        let frames = [Frame::Info(launchpad_info(2)), Frame::AdcCal(cal), samples(&packed)];
        let (codes, notices, tl) = codes_after(&frames);
        assert_eq!(codes, [0, 100, 507, 1023]);
        assert_eq!(notices, [Notice::AdcCalibration(Some(cal))]);
        assert_eq!(tl.adc_cal(), Some(&cal));
        let c = tl.adc_correction().unwrap();
        assert!((c.scale - 1.019989 * 0.999023).abs() < 1e-5, "{c:?}");
    }

    /// A frame saying the segment's checksum failed is told and not applied; so is one with
    /// words no factory trim gives, even with a good status.
    #[test]
    fn an_untrusted_adc_calibration_is_told_and_not_applied() {
        let packed = ct_wire::pack::pack4(RAW);
        let bad =
            AdcCal { status: ct_wire::AdcCalStatus::BadChecksum, gain_factor: 0x8000, offset: 0, vref25_factor: 33423 };
        let wild =
            AdcCal { status: ct_wire::AdcCalStatus::Valid, gain_factor: 0x8000, offset: 0, vref25_factor: 0xFFFF };
        for cal in [bad, wild] {
            let frames = [Frame::Info(launchpad_info(2)), Frame::AdcCal(cal), samples(&packed)];
            let (codes, notices, tl) = codes_after(&frames);
            assert_eq!(codes, RAW, "{cal:?}");
            assert_eq!(notices, [Notice::AdcCalibration(Some(cal))]);
            assert_eq!(tl.adc_correction(), None);
        }
    }

    /// A version 1 device (no ADC calibration frame) is still read, with the nominal
    /// reference, and said; a version this host does not know is refused by name.
    #[test]
    fn version_1_devices_are_read_with_the_nominal_reference() {
        let packed = ct_wire::pack::pack4(RAW);
        let (codes, notices, tl) = codes_after(&[Frame::Info(launchpad_info(1)), samples(&packed)]);
        assert_eq!(codes, RAW);
        assert_eq!(notices, [Notice::AdcCalibration(None)]);
        assert_eq!((tl.adc_cal(), tl.adc_correction()), (None, None));
        let mut tl = Timeline::new(&Calibration::builtin());
        let e = tl.bytes(&line(&Frame::Info(launchpad_info(3))), &mut |_| true).unwrap_err();
        assert!(matches!(e, TimelineError::Protocol { got: 3, min: 1, max: 2 }), "{e}");
    }
}
