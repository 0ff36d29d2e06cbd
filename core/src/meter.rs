//! The meter: the sample timeline feeding the estimator.
//!
//! [`Timeline`] turns frames (or code rows) into timed runs of samples, breaks where samples
//! were lost, and notices; the meter hands the runs to an [`Estimator`] made for the timeline's
//! sample rate, ends its window at every break, so that no reading silently spans missing
//! data, carries the energy over when the rate changes, and tells it the measured rate when
//! the device's clock has been measured.

use crate::calibration::Calibration;
use crate::estimate::{Estimator, EstimatorConfig, Reading};
pub use crate::timeline::Notice;
use crate::timeline::{CodeRow, Step, Timeline, TimelineError};

/// An event for the output layer.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Reading(Reading),
    Notice(Notice),
}

/// Turns a byte stream (or code rows) into events.
pub struct Meter {
    timeline: Timeline,
    windows: Windows,
}

/// The estimator side of the meter, apart from the timeline so that both can be borrowed at
/// once.
struct Windows {
    cal: Calibration,
    cfg: EstimatorConfig,
    est: Option<Estimator>,
    /// Energy of estimators replaced by a rate change.
    kwh: f64,
}

impl Meter {
    pub fn new(cal: Calibration, cfg: EstimatorConfig) -> Self {
        Meter { timeline: Timeline::new(&cal), windows: Windows { cal, cfg, est: None, kwh: 0.0 } }
    }

    /// A meter for the rows of a CSV of codes taken at `rate_hz` ([`Meter::code_row`]).
    pub fn for_code_rows(cal: Calibration, cfg: EstimatorConfig, rate_hz: f64) -> Result<Self, TimelineError> {
        Ok(Meter {
            timeline: Timeline::for_code_rows(&cal, rate_hz)?,
            windows: Windows { cal, cfg, est: None, kwh: 0.0 },
        })
    }

    pub fn calibration(&self) -> &Calibration {
        &self.windows.cal
    }

    pub fn info(&self) -> Option<&ct_wire::Info> {
        self.timeline.info()
    }

    /// The timeline, for its session time ([`Timeline::t_end`]) and counts.
    pub fn timeline(&self) -> &Timeline {
        &self.timeline
    }

    /// Energy so far, kWh.
    pub fn kwh(&self) -> f64 {
        self.windows.est.as_ref().map_or(self.windows.kwh, Estimator::kwh)
    }

    /// Feeds bytes from the line and reports everything they complete.
    pub fn bytes(&mut self, bytes: &[u8], out: &mut impl FnMut(Event)) -> Result<(), TimelineError> {
        let w = &mut self.windows;
        self.timeline.bytes(bytes, &mut |step| w.step(step, out))?;
        Ok(())
    }

    /// Feeds one row of a CSV of codes (a meter made by [`Meter::for_code_rows`]).
    pub fn code_row(&mut self, row: CodeRow, out: &mut impl FnMut(Event)) {
        let w = &mut self.windows;
        self.timeline.code_row(row, &mut |step| w.step(step, out));
    }

    /// The link went away (unplugged): finish the window in progress. Whatever comes next
    /// starts a new segment, its gap measured by `reconnected`.
    pub fn disconnected(&mut self, out: &mut impl FnMut(Event)) {
        if let Some(est) = &mut self.windows.est {
            est.flush(&mut |r| out(Event::Reading(r)));
        }
        self.timeline.disconnected();
    }

    /// The bytes fed last were received at host time `host_ns` (Unix ns): the device's clock
    /// is measured from these ([`Timeline::received`]).
    pub fn received(&mut self, host_ns: i64, out: &mut impl FnMut(Event)) {
        let w = &mut self.windows;
        self.timeline.received(host_ns, &mut |step| w.step(step, out));
    }

    /// The link is back at session time `t_s` (host clock); the time in between is a gap.
    pub fn reconnected(&mut self, t_s: f64, out: &mut impl FnMut(Event)) {
        let w = &mut self.windows;
        self.timeline.reconnected(t_s, &mut |step| w.step(step, out));
    }

    /// End of input: emit the partial window.
    pub fn finish(&mut self, out: &mut impl FnMut(Event)) {
        let w = &mut self.windows;
        self.timeline.finish(&mut |step| w.step(step, out));
        if let Some(est) = &mut self.windows.est {
            est.flush(&mut |r| out(Event::Reading(r)));
        }
    }
}

impl Windows {
    fn step(&mut self, step: Step<'_>, out: &mut impl FnMut(Event)) -> bool {
        let mut emit = |r| out(Event::Reading(r));
        match step {
            Step::Run(run) => {
                if let Some(est) = &mut self.est {
                    est.push(run.t_s, run.codes, &mut emit);
                }
            }
            Step::Rate(rate, ppm) => {
                if let Some(mut old) = self.est.take() {
                    old.flush(&mut emit);
                    self.kwh = old.kwh();
                }
                let mut est = Estimator::new(&self.cal, rate, self.cfg);
                est.set_kwh(self.kwh);
                est.set_clock(rate, ppm);
                self.est = Some(est);
            }
            Step::Clock { rate_hz, ppm } => {
                if let Some(est) = &mut self.est {
                    est.set_clock(rate_hz, Some(ppm));
                }
            }
            Step::Break { lost } => {
                if let Some(est) = &mut self.est {
                    est.gap(lost, &mut emit);
                }
            }
            Step::Notice(n) => out(Event::Notice(n)),
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ct_wire::frame::INFO_FLAG_VIRTUAL;
    use ct_wire::pack::pack4;
    use ct_wire::{framing, BuildProfile, Samples};
    use ct_wire::{Frame, Info, ResetCause};

    fn info(ref_mv: u16) -> Info {
        Info {
            protocol_version: ct_wire::PROTOCOL_VERSION,
            firmware_version: [0, 1, 0],
            timer_clock_hz: 8000,
            ticks_per_sample: 1,
            adc_ref_mv: ref_mv,
            adc_bits: 10,
            baud: 250_000,
            reset_cause: ResetCause::PowerOn,
            build_profile: BuildProfile::Fast,
            samples_per_frame: 112,
            flags: INFO_FLAG_VIRTUAL,
        }
    }

    fn line(f: &Frame) -> Vec<u8> {
        let mut out = vec![0; ct_wire::MAX_ENCODED_FRAME];
        let n = framing::encode_frame(f, &mut out).unwrap();
        out.truncate(n);
        out
    }

    /// 112 samples of a half-wave sine (50 Hz at 8 kSa/s) starting at sample `index`.
    fn samples(index: u32, cal: &Calibration) -> Vec<u8> {
        samples_of(index, 14.14, cal)
    }

    /// The same with a peak of `peak_a` amperes.
    fn samples_of(index: u32, peak_a: f64, cal: &Calibration) -> Vec<u8> {
        let lut = cal.lut_at(Some(50.0));
        let codes: Vec<u16> = (0..112u32)
            .map(|k| {
                let t = index.wrapping_add(k) as f64 / 8000.0;
                let a = peak_a * (std::f64::consts::TAU * 50.0 * t).sin();
                crate::calibration::code_in(&lut, a as f32, cal.zero_code())
            })
            .collect();
        let packed: Vec<u8> = codes.chunks(4).flat_map(|c| pack4([c[0], c[1], c[2], c[3]])).collect();
        line(&Frame::Samples(Samples { first_index: index, packed: &packed }))
    }

    fn run(stream: &[u8]) -> (Vec<Reading>, Vec<Notice>, Result<(), TimelineError>) {
        // These samples come from the static table, so estimate with the table alone.
        let cfg = EstimatorConfig { method: crate::estimate::Method::Table, ..EstimatorConfig::default() };
        let mut m = Meter::new(Calibration::builtin(), cfg);
        let (mut rs, mut ns) = (Vec::new(), Vec::new());
        let res = m.bytes(stream, &mut |e| match e {
            Event::Reading(r) => rs.push(r),
            Event::Notice(n) => ns.push(n),
        });
        (rs, ns, res)
    }

    #[test]
    fn refuses_a_table_for_another_reference() {
        let (_, _, res) = run(&line(&Frame::Info(info(3300))));
        let e = res.unwrap_err().to_string();
        assert!(
            e.contains("for a 10-bit ADC with a 2500 mV reference, but the device reports 10 bits and 3300 mV"),
            "{e}"
        );
    }

    #[test]
    fn samples_before_info_are_discarded_and_said() {
        let cal = Calibration::builtin();
        let mut s = samples(0, &cal);
        s.extend(line(&Frame::Info(info(2500))));
        let (rs, ns, res) = run(&s);
        res.unwrap();
        assert!(rs.is_empty());
        assert_eq!(ns[0], Notice::WaitingForInfo { discarded_samples: 112 });
    }

    /// The 32-bit index wraps without a gap; a jump is a gap of exactly the missing samples;
    /// an index going back is a device reset.
    #[test]
    fn index_wrap_gap_and_reset() {
        let cal = Calibration::builtin();
        let mut s = line(&Frame::Info(info(2500)));
        let start = u32::MAX - 112 * 40 + 1;
        for k in 0..80u32 {
            s.extend(samples(start.wrapping_add(k * 112), &cal));
        }
        let (rs, ns, res) = run(&s);
        res.unwrap();
        assert!(ns.iter().all(|n| matches!(n, Notice::Device(_))), "wrap reported as trouble: {ns:?}");
        assert!(rs.iter().all(|r| !r.flags.gap));

        let mut s = line(&Frame::Info(info(2500)));
        for k in (0..200u32).filter(|k| *k != 50) {
            s.extend(samples(k * 112, &cal));
        }
        s.extend(samples(0, &cal));
        let (rs, ns, _) = run(&s);
        assert!(ns.contains(&Notice::Gap { lost_samples: 112, seconds: 112.0 / 8000.0 }), "{ns:?}");
        assert!(ns.contains(&Notice::Reset { cause: None }), "{ns:?}");
        assert_eq!(rs.iter().filter(|r| r.flags.gap).count(), 1, "{rs:?}");
        for r in rs.iter().filter(|r| r.duration_s > 0.9) {
            assert!((r.irms_a / 10.0 - 1.0).abs() < 0.01, "{r:?}");
        }
    }

    /// Readings, notices and energy of a whole stream, finished.
    fn run_to_end(stream: &[u8]) -> (Vec<Reading>, Vec<Notice>, f64) {
        let cfg = EstimatorConfig { method: crate::estimate::Method::Table, ..EstimatorConfig::default() };
        let mut m = Meter::new(Calibration::builtin(), cfg);
        let (mut rs, mut ns) = (Vec::new(), Vec::new());
        let mut out = |e| match e {
            Event::Reading(r) => rs.push(r),
            Event::Notice(n) => ns.push(n),
        };
        m.bytes(stream, &mut out).unwrap();
        m.finish(&mut out);
        (rs, ns, m.kwh())
    }

    /// Issue 11.3: 20 duplicated Samples frames in 60 s (some repeated at once, some a few
    /// frames late) are dropped and counted; they are not taken for restarts, and the energy
    /// and every reading are those of the clean stream (before: +6.1 % kWh and 20 restarts).
    #[test]
    fn duplicated_frames_are_dropped_not_counted_twice() {
        let cal = Calibration::builtin();
        let frames: Vec<Vec<u8>> = (0..60 * 8000 / 112).map(|k| samples(k * 112, &cal)).collect();
        let mut clean = line(&Frame::Info(info(2500)));
        let mut duplicated = clean.clone();
        for (k, f) in frames.iter().enumerate() {
            clean.extend(f);
            duplicated.extend(f);
            if k % 200 == 199 && k < 4000 {
                // Every other one comes three frames late.
                duplicated.extend(&frames[if k % 400 == 199 { k } else { k - 3 }]);
            }
        }
        let (clean_rs, clean_ns, clean_kwh) = run_to_end(&clean);
        let (rs, ns, kwh) = run_to_end(&duplicated);
        assert_eq!(kwh, clean_kwh);
        assert_eq!(rs, clean_rs);
        let dups: Vec<&Notice> = ns.iter().filter(|n| matches!(n, Notice::Duplicate { .. })).collect();
        assert_eq!(dups.len(), 20, "{ns:?}");
        assert_eq!(dups[19], &Notice::Duplicate { first_index: 3996 * 112, samples: 112, frames_total: 20 });
        let rest: Vec<&Notice> = ns.iter().filter(|n| !matches!(n, Notice::Duplicate { .. })).collect();
        assert_eq!(rest, clean_ns.iter().collect::<Vec<_>>());
    }

    /// Duplicates are recognised across the 2^32 index wrap, in both directions.
    #[test]
    fn duplicates_across_the_index_wrap() {
        let cal = Calibration::builtin();
        let mut s = line(&Frame::Info(info(2500)));
        let start = u32::MAX - 112 * 10 + 1;
        for k in 0..20u32 {
            s.extend(samples(start.wrapping_add(k * 112), &cal));
            if k == 10 || k == 11 {
                // The last frame before the wrap repeated after it, the first after it repeated.
                s.extend(samples(start.wrapping_add((k - 1) * 112), &cal));
            }
        }
        let (_, ns, _) = run_to_end(&s);
        let firsts: Vec<u32> = ns
            .iter()
            .filter_map(|n| match n {
                Notice::Duplicate { first_index, .. } => Some(*first_index),
                _ => None,
            })
            .collect();
        assert_eq!(firsts, [start.wrapping_add(9 * 112), start.wrapping_add(10 * 112)], "{ns:?}");
        assert!(!ns.iter().any(|n| matches!(n, Notice::Reset { .. } | Notice::Gap { .. })), "{ns:?}");
    }

    /// A device that restarts soon after the stream began repeats indices the receiver still
    /// remembers, but not their samples: a restart, not a duplicate.
    #[test]
    fn an_early_restart_is_not_a_duplicate() {
        let cal = Calibration::builtin();
        let mut s = line(&Frame::Info(info(2500)));
        for k in 0..5u32 {
            s.extend(samples(k * 112, &cal));
        }
        for k in 0..100u32 {
            s.extend(samples_of(k * 112, 5.0, &cal));
        }
        let (rs, ns, _) = run_to_end(&s);
        assert!(ns.contains(&Notice::Reset { cause: None }), "{ns:?}");
        assert!(!ns.iter().any(|n| matches!(n, Notice::Duplicate { .. })), "{ns:?}");
        assert!((rs.last().unwrap().irms_a / (5.0 / 2f64.sqrt()) - 1.0).abs() < 0.02, "{rs:?}");
    }

    /// An Info frame at `ticks` timer ticks a sample (8 kHz timer), after the given reset.
    fn info_at(ticks: u16, cause: ResetCause) -> Info {
        Info { ticks_per_sample: ticks, reset_cause: cause, ..info(2500) }
    }

    /// A device's restart: a lone delimiter, its boot Info, then frames from index 0.
    fn restart(stream: &mut Vec<u8>, info: Info, frames: u32, cal: &Calibration) {
        stream.push(0);
        stream.extend(line(&Frame::Info(info)));
        for k in 0..frames {
            stream.extend(samples(k * 112, cal));
        }
    }

    /// Issue 11.4 and 11.14: a restart is reported with the cause its boot Info gave, and
    /// the first reading after it is flagged `gap`, whether or not the rate changed (before,
    /// a rate change hid the restart, and the cause was `None` right after an Info that said
    /// `ResetPin`).
    #[test]
    fn a_restart_is_reported_at_the_same_rate_and_at_another() {
        let cal = Calibration::builtin();
        for ticks in [1, 2] {
            let mut s = line(&Frame::Info(info(2500)));
            for k in 0..200u32 {
                s.extend(samples(k * 112, &cal));
            }
            restart(&mut s, info_at(ticks, ResetCause::ResetPin), 200, &cal);
            let (rs, ns, _) = run_to_end(&s);
            let resets: Vec<_> = ns.iter().filter(|n| matches!(n, Notice::Reset { .. })).collect();
            assert_eq!(resets, [&Notice::Reset { cause: Some(ResetCause::ResetPin) }], "ticks {ticks}: {ns:?}");
            assert!(!ns.iter().any(|n| matches!(n, Notice::Gap { .. })), "nothing lost: {ns:?}");
            // 200 frames of 112 samples are 2.8 s: two whole readings and a short one, then
            // the restart: its first reading is flagged.
            let first_after = rs.iter().position(|r| r.t_s > 2.8 + 1e-9).unwrap();
            assert!(rs[first_after].flags.gap, "ticks {ticks}: {rs:?}");
            assert_eq!(rs.iter().filter(|r| r.flags.gap).count(), 1, "ticks {ticks}: {rs:?}");
        }
    }

    /// A rate change without a restart (the index continues) loses nothing and is no restart.
    #[test]
    fn a_rate_change_without_a_restart_is_no_restart() {
        let cal = Calibration::builtin();
        let mut s = line(&Frame::Info(info(2500)));
        for k in 0..100u32 {
            s.extend(samples(k * 112, &cal));
        }
        s.extend(line(&Frame::Info(info_at(2, ResetCause::PowerOn))));
        for k in 100..200u32 {
            s.extend(samples(k * 112, &cal));
        }
        let (rs, ns, _) = run_to_end(&s);
        assert!(!ns.iter().any(|n| matches!(n, Notice::Reset { .. } | Notice::Gap { .. })), "{ns:?}");
        assert!(rs.iter().all(|r| !r.flags.gap), "{rs:?}");
    }

    /// Issue 11.5: frames lost between the boot Info and the first good Samples frame are
    /// counted (the device counts from 0 after its boot Info), as are frames received before
    /// the first Info (they cannot be timed, so they count as lost).
    #[test]
    fn samples_lost_before_the_first_good_frame_are_counted() {
        let cal = Calibration::builtin();
        // The boot, then the first 10 frames corrupted.
        let mut s = vec![0];
        s.extend(line(&Frame::Info(info(2500))));
        for k in 0..300u32 {
            let mut f = samples(k * 112, &cal);
            if k < 10 {
                f[20] ^= 0x10;
            }
            s.extend(f);
        }
        let (rs, ns, _) = run_to_end(&s);
        assert!(ns.contains(&Notice::Gap { lost_samples: 1120, seconds: 1120.0 / 8000.0 }), "{ns:?}");
        assert!(rs[0].flags.gap && rs[0].lost_samples == 1120, "{:?}", rs[0]);
        assert!((rs[0].t_s - rs[0].duration_s - 0.14).abs() < 1e-9, "session time starts at the first sample sent");

        // Frames before the first Info: discarded, and counted as lost once it comes.
        let mut s = Vec::new();
        for k in 0..5u32 {
            s.extend(samples(k * 112, &cal));
        }
        s.extend(line(&Frame::Info(info(2500))));
        for k in 5..300u32 {
            s.extend(samples(k * 112, &cal));
        }
        let (rs, ns, _) = run_to_end(&s);
        assert!(ns.contains(&Notice::Gap { lost_samples: 560, seconds: 560.0 / 8000.0 }), "{ns:?}");
        assert!(rs[0].flags.gap && rs[0].lost_samples == 560, "{:?}", rs[0]);

        // A stream that begins mid-way (a partial frame skipped first) tells nothing about
        // what came before it.
        let mut s = samples(0, &cal)[60..].to_vec();
        s.extend(line(&Frame::Info(info(2500))));
        for k in 1000..1300u32 {
            s.extend(samples(k * 112, &cal));
        }
        let (rs, ns, _) = run_to_end(&s);
        assert!(!ns.iter().any(|n| matches!(n, Notice::Gap { .. })), "{ns:?}");
        assert!(!rs[0].flags.gap, "{:?}", rs[0]);
    }

    /// Issue 12.5: a device 2 % fast, its frames received with 0-20 ms of delay. Until the
    /// clock is measured readings use the nominal rate (50 Hz reads 51 Hz, `clock_ppm` empty);
    /// once it settles (60 s) they use the measured rate; a restart starts the measurement
    /// over but keeps the rate in use; an empty read is no observation.
    #[test]
    fn the_measured_clock_is_used_and_kept_across_a_restart() {
        let cal = Calibration::builtin();
        let cfg = EstimatorConfig { method: crate::estimate::Method::Table, ..EstimatorConfig::default() };
        let mut m = Meter::new(cal.clone(), cfg);
        let mut ev = Vec::new();
        let ratio = 1.02;
        let mut jitter = 0x2545_F491_4F6C_DD1Du64;
        let mut host_s = 0.0;
        let mut feed = |m: &mut Meter, bytes: &[u8], device_end: f64, ev: &mut Vec<Event>| {
            jitter ^= jitter << 13;
            jitter ^= jitter >> 7;
            jitter ^= jitter << 17;
            host_s = f64::max(host_s, device_end / ratio + (jitter % 20_000) as f64 * 1e-6);
            m.bytes(bytes, &mut |e| ev.push(e)).unwrap();
            m.received((host_s * 1e9) as i64, &mut |e| ev.push(e));
        };
        let split = |ev: &[Event]| {
            let rs: Vec<Reading> =
                ev.iter().filter_map(|e| if let Event::Reading(r) = e { Some(r.clone()) } else { None }).collect();
            let ns: Vec<Notice> =
                ev.iter().filter_map(|e| if let Event::Notice(n) = e { Some(n.clone()) } else { None }).collect();
            (rs, ns)
        };
        feed(&mut m, &line(&Frame::Info(info(2500))), 0.0, &mut ev);
        // The samples are of a 50 Hz sine at the nominal rate: at the true rate (2 % faster)
        // they are 51 Hz.
        for k in 0..(100 * 8000 / 112) as u32 {
            feed(&mut m, &samples(k * 112, &cal), (k + 1) as f64 * 112.0 / 8000.0, &mut ev);
        }
        let (rs, ns) = split(&ev);
        let settled = rs.iter().position(|r| r.clock_ppm.is_some()).expect("the clock settled");
        assert!(rs[..settled].iter().all(|r| (r.hz.unwrap() - 50.0).abs() < 0.01), "{:?}", rs[0]);
        let t_settle = rs[settled].t_s;
        assert!((55.0..75.0).contains(&t_settle), "settled at {t_settle} s");
        for r in &rs[settled + 1..] {
            assert!((r.clock_ppm.unwrap() - 20_000.0).abs() < 100.0, "{r:?}");
            assert!((r.hz.unwrap() - 51.0).abs() < 0.01, "{r:?}");
            assert!((r.duration_s - 1.0).abs() < 1e-3, "{r:?}");
        }
        assert!(ns.contains(&Notice::ClockMeasuring));
        assert_eq!(ns.iter().filter(|n| matches!(n, Notice::Clock { .. })).count(), 1, "{ns:?}");
        // An empty read changes nothing.
        let before = m.timeline().clock_estimate();
        m.received(1_000_000_000_000, &mut |e| ev.push(e));
        m.received(1_000_000_001_000, &mut |e| ev.push(e));
        assert_eq!(m.timeline().clock_estimate(), before);
        // A restart: the rate in use is kept while it is measured anew.
        let n_before = rs.len();
        let mut boot = vec![0];
        boot.extend(line(&Frame::Info(info(2500))));
        feed(&mut m, &boot, 100.0, &mut ev);
        for k in 0..(20 * 8000 / 112) as u32 {
            feed(&mut m, &samples(k * 112, &cal), 100.0 + (k + 1) as f64 * 112.0 / 8000.0, &mut ev);
        }
        let (rs, ns) = split(&ev);
        assert!(ns.iter().any(|n| matches!(n, Notice::Reset { .. })), "{ns:?}");
        assert!(rs.len() > n_before + 10);
        assert!(rs[n_before..].iter().all(|r| r.clock_ppm.is_some_and(|p| (p - 20_000.0).abs() < 100.0)));
        assert!(m.timeline().clock_estimate().is_some_and(|e| e.span_s < 21.0), "measured anew");
    }

    /// A late copy of a frame lost on the line (its first copy corrupted) comes back into
    /// samples already reported lost: it is dropped and counted, not taken for a restart
    /// (which would count its samples twice and lose the readings' alignment).
    #[test]
    fn a_late_copy_of_a_lost_frame_is_no_restart() {
        let cal = Calibration::builtin();
        let mut s = line(&Frame::Info(info(2500)));
        for k in 0..100u32 {
            let mut f = samples(k * 112, &cal);
            if k == 40 {
                f[30] ^= 1;
            }
            s.extend(f);
            if k == 43 {
                s.extend(samples(40 * 112, &cal));
            }
        }
        let (_, ns, _) = run_to_end(&s);
        assert!(!ns.iter().any(|n| matches!(n, Notice::Reset { .. })), "{ns:?}");
        assert!(ns.contains(&Notice::Late { first_index: 40 * 112, samples: 112, frames_total: 1 }), "{ns:?}");
        let lost: u64 =
            ns.iter().map(|n| if let Notice::Gap { lost_samples, .. } = n { *lost_samples } else { 0 }).sum();
        assert_eq!(lost, 112);
    }
}
