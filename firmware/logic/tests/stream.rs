//! The streaming state machine end to end on the host: a simulated clock drives a scripted
//! sample source through the sampler (as the ADC interrupt does) and a mock embedded-hal-nb
//! UART with the profile's byte time, and a scripted host whose messages (ct-wire `command`)
//! arrive between frames; the UART output is decoded with ct-wire (`framing::decode` +
//! `Frame::parse`) and checked: nothing is sent until the host asks; then the line starts
//! with one lone delimiter (ending any partial frame a receiver held from before a reset),
//! every frame decodes, Info comes first and at least every 10 s, Status about every second,
//! sample indices are continuous from 0, every sample has the value the source produced at
//! that index, and overruns are counted exactly; the stream stops once the host has been
//! silent for the keep-alive timeout and starts again (Info first) on its next message.

use std::cell::{Cell, RefCell};
use std::convert::Infallible;

use ct_firmware_logic::app::{Idle, Shared, Streamer};
use ct_firmware_logic::profile::{Profile, FAST, LAUNCHPAD};
use ct_firmware_logic::sampler::{FrameBuf, Sampler, FRAME_BUF_LEN, QUEUE_CAPACITY};
use ct_firmware_logic::tlv::{self, TLV_WORDS};
use ct_wire::command::{Command, KEEPALIVE_TIMEOUT_S};
use ct_wire::{framing, AdcCal, AdcCalStatus, BuildProfile, Frame, ResetCause, Status};
use embedded_hal_nb::serial::{ErrorType, Write};

/// The sample the scripted source produces at `index`: a pattern that differs between
/// neighbouring indices and covers all 10 bits, so a misplaced sample cannot go unnoticed.
fn source(index: u32) -> u16 {
    (index.wrapping_mul(797) ^ (index >> 10)) as u16 & 0x3FF
}

/// Simulated time in nanoseconds.
struct Sim<'b> {
    now: Cell<u64>,
    sample_ns: u64,
    next_sample_at: Cell<u64>,
    next_index: Cell<u32>,
    byte_ns: u64,
    tx_free_at: Cell<u64>,
    /// The UART stops accepting bytes during this window (a stalled receiver).
    stall: (u64, u64),
    sampler: RefCell<Sampler<'b>>,
    out: RefCell<Vec<u8>>,
}

impl<'b> Sim<'b> {
    fn new(p: &Profile, bufs: &'b mut [FrameBuf; 2], stall: (u64, u64), out: RefCell<Vec<u8>>) -> Self {
        let [a, b] = bufs;
        let sample_ns = p.ticks_per_sample as u64 * 1_000_000_000 / p.timer_clock_hz() as u64;
        Sim {
            now: Cell::new(0),
            sample_ns,
            next_sample_at: Cell::new(sample_ns),
            next_index: Cell::new(0),
            byte_ns: 10 * 1_000_000_000 / p.baud as u64,
            tx_free_at: Cell::new(0),
            stall,
            sampler: RefCell::new(Sampler::new(a, b)),
            out,
        }
    }

    fn tx_ready(&self) -> bool {
        let now = self.now.get();
        now >= self.tx_free_at.get() && !(self.stall.0..self.stall.1).contains(&now)
    }

    /// Moves time to the next event: a conversion, or the UART becoming ready.
    fn advance(&self) {
        let sample = self.next_sample_at.get();
        let mut tx = self.tx_free_at.get().max(self.now.get());
        if (self.stall.0..self.stall.1).contains(&tx) {
            tx = self.stall.1;
        }
        if !self.tx_ready() && tx < sample {
            self.now.set(tx);
        } else {
            self.now.set(sample);
            // The value depends on the index the sampler gives the conversion (the device
            // restarts it at 0 when the host first asks).
            let i = self.sampler.borrow().counters().next_index;
            self.next_index.set(self.next_index.get() + 1);
            self.sampler.borrow_mut().on_sample(source(i));
            self.next_sample_at.set(sample + self.sample_ns);
        }
    }
}

impl<'b> Shared<'b> for Sim<'b> {
    fn with<R>(&self, f: impl FnOnce(&mut Sampler<'b>) -> R) -> R {
        f(&mut self.sampler.borrow_mut())
    }
}

struct Uart<'s, 'b>(&'s Sim<'b>);

impl ErrorType for Uart<'_, '_> {
    type Error = Infallible;
}

impl Write<u8> for Uart<'_, '_> {
    fn write(&mut self, word: u8) -> nb::Result<(), Infallible> {
        if !self.0.tx_ready() {
            return Err(nb::Error::WouldBlock);
        }
        self.0.out.borrow_mut().push(word);
        self.0.tx_free_at.set(self.0.now.get() + self.0.byte_ns);
        Ok(())
    }

    fn flush(&mut self) -> nb::Result<(), Infallible> {
        if self.0.tx_ready() {
            Ok(())
        } else {
            Err(nb::Error::WouldBlock)
        }
    }
}

struct Sleep<'s, 'b>(&'s Sim<'b>);

impl Idle for Sleep<'_, '_> {
    fn wait_for<T>(&mut self, mut poll: impl FnMut() -> Option<T>) -> T {
        loop {
            if let Some(t) = poll() {
                return t;
            }
            self.0.advance();
        }
    }
}

/// A TLV segment with a valid checksum: ADC10 tag and length at 0x10DA (word 13), gain
/// 0x7FE0, offset -2, 2.5 V reference factor 33423 (2 % high).
fn factory_tlv() -> [u16; TLV_WORDS] {
    let mut seg = [0xFFFFu16; TLV_WORDS];
    seg[13..20].copy_from_slice(&[0x1010, 0x7FE0, (-2i16) as u16, 0x8000, 0x8000, 0x8000, 33423]);
    seg[0] = tlv::checksum(&seg);
    seg
}

/// The ADC calibration frame the streamer must send after every Info frame.
const FACTORY_CAL: AdcCal =
    AdcCal { status: AdcCalStatus::Valid, gain_factor: 0x7FE0, offset: -2, vref25_factor: 33423 };

/// What a run produced, decoded.
enum Decoded {
    Info(ct_wire::Info),
    AdcCal(AdcCal),
    Samples { first: u32, values: Vec<u16> },
    Status(Status),
}

/// The host's message before step `step` (steps count from 0), if any.
type Host = dyn Fn(usize) -> Option<Command>;

/// A host that sends Start before the first step and KeepAlive before every fifth.
fn keeps_asking(step: usize) -> Option<Command> {
    match step {
        0 => Some(Command::Start),
        s if s % 5 == 0 => Some(Command::KeepAlive),
        _ => None,
    }
}

/// Runs `frames` steps of the streamer with `host`; returns the raw line, each step's end
/// time and its `Due`.
fn run_raw(p: &'static Profile, frames: usize, stall: (u64, u64), host: &Host) -> (Vec<u8>, Vec<(u64, bool)>) {
    let mut bufs = [[0u8; FRAME_BUF_LEN]; 2];
    let out = RefCell::new(Vec::new());
    let mut streamer = Streamer::new(p, ResetCause::Watchdog, factory_tlv());
    let sim = Sim::new(p, &mut bufs, stall, out);
    let mut uart = Uart(&sim);
    let mut idle = Sleep(&sim);
    let mut steps = Vec::new();
    for k in 0..frames {
        streamer.step(&mut uart, &sim, &mut idle, || host(k)).unwrap();
        steps.push((sim.now.get(), streamer.streaming()));
    }
    let line = sim.out.borrow().clone();
    (line, steps)
}

fn decode(line: &[u8]) -> Vec<Decoded> {
    let mut decoded = Vec::new();
    for encoded in line.split_inclusive(|&b| b == framing::DELIMITER) {
        let mut raw = vec![0u8; encoded.len()];
        let n = framing::decode(encoded, &mut raw).expect("COBS decodes");
        decoded.push(match Frame::parse(&raw[..n]).expect("frame parses, CRC good") {
            Frame::Info(i) => Decoded::Info(i),
            Frame::Samples(s) => Decoded::Samples { first: s.first_index, values: s.iter().collect() },
            Frame::Status(s) => Decoded::Status(s),
            Frame::AdcCal(c) => Decoded::AdcCal(c),
        });
    }
    decoded
}

/// Runs `frames` Samples frames with a host that keeps asking and decodes the line output.
/// The first step only starts the stream (its frame is dropped), so this runs one more.
fn run(p: &'static Profile, frames: usize, stall: (u64, u64)) -> (Vec<Decoded>, Vec<u64>) {
    let (line, steps) = run_raw(p, frames + 1, stall, &keeps_asking);
    assert_eq!(line.last(), Some(&framing::DELIMITER), "output ends on a frame boundary");
    // One lone delimiter before the first Info, and no other empty frame (it would not parse).
    assert_eq!(line.first(), Some(&framing::DELIMITER), "the line starts with a lone delimiter");
    (decode(&line[1..]), steps[1..].iter().map(|s| s.0).collect())
}

/// Checks the invariants of a decoded stream; returns (samples delivered, gaps seen).
fn check_stream(p: &'static Profile, decoded: &[Decoded]) -> (u64, u64) {
    let rate = p.timer_clock_hz() as f64 / p.ticks_per_sample as f64;
    let Decoded::Info(info) = &decoded[0] else {
        panic!("the first frame is not Info");
    };
    assert_eq!(*info, p.info(ResetCause::Watchdog));
    let (mut expected, mut delivered, mut gaps) = (0u32, 0u64, 0u64);
    let (mut last_info_at, mut last_status_at) = (0u32, 0u32);
    let mut last_uptime = 0;
    for (k, d) in decoded.iter().enumerate() {
        let after_info = k > 0 && matches!(decoded[k - 1], Decoded::Info(_));
        assert_eq!(matches!(d, Decoded::AdcCal(_)), after_info, "frame {k}: ADC calibration exactly after each Info");
        match d {
            Decoded::AdcCal(c) => assert_eq!(*c, FACTORY_CAL),
            Decoded::Info(i) => {
                assert_eq!(i, info);
                assert!(expected - last_info_at <= 10 * rate as u32, "Info gap");
                last_info_at = expected;
            }
            Decoded::Samples { first, values } => {
                assert_eq!(values.len(), 112);
                assert!(*first >= expected, "indices never go back");
                gaps += (*first - expected) as u64;
                for (k, v) in values.iter().enumerate() {
                    assert_eq!(*v, source(first + k as u32), "sample {}", first + k as u32);
                }
                expected = first + values.len() as u32;
                delivered += values.len() as u64;
            }
            Decoded::Status(s) => {
                assert!(expected - last_status_at <= 2 * rate as u32, "Status gap");
                last_status_at = expected;
                assert!(s.dropped_total as u64 >= gaps, "drops already seen are counted");
                assert_eq!(s.queue_capacity, QUEUE_CAPACITY);
                assert!(s.queue_high_water <= s.queue_capacity);
                assert!(s.uptime_s >= last_uptime);
                last_uptime = s.uptime_s;
                let t = expected as f64 / rate;
                assert!((s.uptime_s as f64 - t).abs() < 2.0, "uptime {} s at {t:.1} s of samples", s.uptime_s);
            }
        }
    }
    (delivered, gaps)
}

fn statuses(decoded: &[Decoded]) -> Vec<Status> {
    decoded
        .iter()
        .filter_map(|d| match d {
            Decoded::Status(s) => Some(*s),
            _ => None,
        })
        .collect()
}

/// Silent until the host asks; then exactly one lone delimiter, the Info frame and its
/// delimiter, and nothing else until the next full frame. A receiver holding part of a frame
/// cut off by a reset drops it at the lone delimiter, so that Info (with the reset cause)
/// decodes on its own.
#[test]
fn silent_until_asked_then_a_lone_delimiter_and_info() {
    for p in [&LAUNCHPAD, &FAST] {
        let (line, steps) = run_raw(p, 20, (0, 0), &|k| (k == 19).then_some(Command::Start));
        assert!(steps[..19].iter().all(|s| !s.1), "not streaming before the request");
        assert!(steps[19].1, "streaming after it");
        assert_eq!(line[0], framing::DELIMITER, "lone delimiter first");
        assert_ne!(line[1], framing::DELIMITER, "only one");
        assert_eq!(line.iter().filter(|&&b| b == framing::DELIMITER).count(), 3, "then two frames");
        assert_eq!(line.last(), Some(&framing::DELIMITER));
        match &decode(&line[1..])[..] {
            [Decoded::Info(i), Decoded::AdcCal(c)] => {
                assert_eq!(*i, p.info(ResetCause::Watchdog));
                assert_eq!(*c, FACTORY_CAL);
            }
            _ => panic!("first start did not send exactly Info and the ADC calibration"),
        }
    }
}

/// The host stops asking: the device stops after the keep-alive timeout (counted in samples),
/// on a frame boundary; the host's next message restarts it with Info alone (no lone
/// delimiter, the line is between frames) and the index runs on, so the pause shows as a gap
/// of exactly the samples not sent. A Start while streaming adds an Info frame and the
/// stream goes on without a gap.
#[test]
fn stops_after_the_keepalive_timeout_and_restarts_on_request() {
    let p = &LAUNCHPAD;
    let per_s = 603.5 / 112.0;
    let quiet_from = 20; // last message before step 20
    let again = 100; // ~18.6 s: the host comes back
    let start_again = 130; // a Start while streaming
    let host = move |k: usize| match k {
        0 => Some(Command::Start),
        k if k < quiet_from && k % 5 == 0 => Some(Command::KeepAlive),
        k if k == again => Some(Command::KeepAlive),
        k if k > again && k % 5 == 0 => Some(Command::KeepAlive),
        k if k == start_again => Some(Command::Start),
        _ => None,
    };
    let (line, steps) = run_raw(p, 160, (0, 0), &host);
    let stopped = steps.iter().position(|s| !s.1).expect("the stream stopped");
    // Last message at step 15; the timeout is KEEPALIVE_TIMEOUT_S of samples after it.
    let silent_frames = stopped - 15;
    let want = (KEEPALIVE_TIMEOUT_S as f64 * per_s).ceil() as usize;
    assert_eq!(silent_frames, want, "stopped {silent_frames} frames after the last message");
    assert!(steps[stopped..again].iter().all(|s| !s.1), "stays stopped");
    assert!(steps[again..].iter().all(|s| s.1), "restarted by the keep-alive");
    assert_eq!(line.iter().filter(|&&b| b == framing::DELIMITER).count(), line.split_inclusive(|&b| b == 0).count());
    let decoded = decode(&line[1..]);
    // Frames: up to the stop, then Info, then samples continuing the index.
    let mut last_end = 0u32;
    let (mut infos_after_restart, mut restarts) = (0, 0);
    let mut seen_restart = false;
    for d in &decoded {
        match d {
            Decoded::Samples { first, values } => {
                if *first != last_end {
                    restarts += 1;
                    assert!(seen_restart, "a gap without a restart Info");
                    let expected_gap = (again - stopped) as u32 * 112;
                    assert!(
                        (*first - last_end).abs_diff(expected_gap) <= 112,
                        "gap {} samples, {} frames were not sent",
                        *first - last_end,
                        again - stopped
                    );
                }
                for (k, v) in values.iter().enumerate() {
                    assert_eq!(*v, source(first + k as u32));
                }
                last_end = first + values.len() as u32;
            }
            Decoded::Info(i) => {
                assert_eq!(*i, p.info(ResetCause::Watchdog));
                if last_end > 0 && restarts == 0 && !seen_restart {
                    seen_restart = true;
                    infos_after_restart += 1;
                }
            }
            Decoded::AdcCal(c) => assert_eq!(*c, FACTORY_CAL),
            Decoded::Status(_) => {}
        }
    }
    assert_eq!(restarts, 1, "one resumption, with its gap");
    assert_eq!(infos_after_restart, 1);
    // The Start while streaming: an Info right after the frame of step `start_again`, and
    // the index goes on without a gap after it (checked above: only one jump).
    let infos = decoded.iter().filter(|d| matches!(d, Decoded::Info(_))).count();
    assert!(infos >= 3, "first start, resumption, Start while streaming: {infos} Info frames");
}

#[test]
fn launchpad_streams_a_minute_without_gaps() {
    let frames = (60.0 * 603.5 / 112.0) as usize;
    let (decoded, _) = run(&LAUNCHPAD, frames, (0, 0));
    let (delivered, gaps) = check_stream(&LAUNCHPAD, &decoded);
    assert_eq!(delivered, frames as u64 * 112);
    assert_eq!(gaps, 0);
    let st = statuses(&decoded);
    assert!((50..=60).contains(&st.len()), "{} Status frames in a minute", st.len());
    assert!(st.iter().all(|s| s.dropped_total == 0));
    let hw = st.last().unwrap().queue_high_water;
    assert!((112..QUEUE_CAPACITY).contains(&hw), "high water {hw}");
    let infos = decoded.iter().filter(|d| matches!(d, Decoded::Info(_))).count();
    assert_eq!(infos, 1 + 6, "at the start, then every 10 s");
    match &decoded[0] {
        Decoded::Info(i) => assert_eq!(i.build_profile, BuildProfile::Launchpad),
        _ => unreachable!(),
    }
}

#[test]
fn fast_profile_streams_without_gaps() {
    let frames = (10.0 * 8196.7 / 112.0) as usize;
    let (decoded, _) = run(&FAST, frames, (0, 0));
    let (delivered, gaps) = check_stream(&FAST, &decoded);
    assert_eq!((delivered, gaps), (frames as u64 * 112, 0));
    assert!(statuses(&decoded).iter().all(|s| s.dropped_total == 0));
}

/// A receiver that stops reading for 0.5 s: conversions are dropped while both buffers are
/// busy, the Status frames count every one of them, the next Samples frame's first_index
/// jumps by exactly the number dropped, and the stream continues gap-free afterwards.
#[test]
fn a_stalled_line_drops_samples_visibly() {
    let stall = (3_000_000_000, 3_500_000_000);
    let frames = (12.0 * 603.5 / 112.0) as usize;
    let (decoded, _) = run(&LAUNCHPAD, frames, stall);
    let (_, gaps) = check_stream(&LAUNCHPAD, &decoded);
    assert!(gaps > 100, "a 0.5 s stall at 603 Sa/s loses samples; saw {gaps}");
    let last = *statuses(&decoded).last().unwrap();
    assert_eq!(last.dropped_total as u64, gaps, "every dropped sample is counted once");
    assert_eq!(last.queue_high_water, QUEUE_CAPACITY, "both buffers were full");
    let jumps = decoded
        .windows(2)
        .filter(|w| matches!(w, [Decoded::Samples { first: a, values }, Decoded::Samples { first: b, .. }] if *b != a + values.len() as u32))
        .count();
    assert!(jumps <= 1, "one gap, not scattered losses");
}
