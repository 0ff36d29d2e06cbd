//! The session: frames in, readings and notices out.
//!
//! Ties the decoder's frames to the estimator. It learns the sample rate from Info frames,
//! refuses a calibration table made for another ADC set-up, extends the 32-bit sample index,
//! and turns index jumps (overruns, corruption, disconnects) and device resets into flagged
//! gaps, so that no reading silently spans missing data.

use ct_wire::{Frame, Info, ResetCause};

use crate::calibration::Calibration;
use crate::decoder::{DecodeError, Decoder, Malformed};
use crate::estimate::{Estimator, EstimatorConfig, Reading};

/// Something the user should know, other than a reading.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    /// The first Info frame, or one that changed.
    Device(Info),
    /// Samples arrived before any Info frame; they cannot be used without the sample rate.
    WaitingForInfo { discarded_samples: u64 },
    /// Bytes that did not form a valid frame were skipped (stream offset after them).
    Skipped { bytes: usize, reason: Malformed, offset: u64 },
    /// Samples missing from the stream (overrun, corruption or disconnect).
    Gap { lost_samples: u64, seconds: f64 },
    /// The device restarted (sample index went back, or Info says so).
    Reset { cause: Option<ResetCause> },
    /// The device's cumulative overrun counter grew.
    Overrun { dropped_total: u32, new: u32 },
}

/// An event for the output layer.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Reading(Reading),
    Notice(Notice),
}

/// Errors that make the stream unusable as configured.
#[derive(Debug, thiserror::Error)]
pub enum MeterError {
    #[error(
        "the calibration table {table} is for a {tbits}-bit ADC with a {tref} mV reference, but the device \
         reports {dbits} bits and {dref} mV"
    )]
    CalibrationMismatch { table: String, tbits: u8, tref: u16, dbits: u8, dref: u16 },
    #[error("the device reports an invalid sample rate ({clock} Hz / {ticks} ticks)")]
    BadRate { clock: u32, ticks: u16 },
    #[error("the device speaks wire protocol {got}; this ct-read understands {want}")]
    Protocol { got: u8, want: u8 },
}

/// Turns a byte stream into events.
pub struct Meter {
    cal: Calibration,
    cfg: EstimatorConfig,
    decoder: Decoder,
    info: Option<Info>,
    est: Option<Estimator>,
    /// Extended index of the next expected sample and the session time of that sample.
    next: Option<(u64, f64)>,
    /// The device's overrun counter from its last Status frame.
    dropped_total: Option<u32>,
    /// Unpacked samples of the frame being handled.
    codes: [u16; ct_wire::MAX_SAMPLES_PER_FRAME],
    waiting_discarded: u64,
    /// Session time at the end of the last sample seen, where a new segment continues.
    t_end: f64,
    kwh: f64,
}

impl Meter {
    pub fn new(cal: Calibration, cfg: EstimatorConfig) -> Self {
        Meter {
            cal,
            cfg,
            decoder: Decoder::new(),
            info: None,
            est: None,
            next: None,
            dropped_total: None,
            codes: [0; ct_wire::MAX_SAMPLES_PER_FRAME],
            waiting_discarded: 0,
            t_end: 0.0,
            kwh: 0.0,
        }
    }

    pub fn calibration(&self) -> &Calibration {
        &self.cal
    }

    pub fn info(&self) -> Option<&Info> {
        self.info.as_ref()
    }

    /// Energy so far, kWh.
    pub fn kwh(&self) -> f64 {
        self.est.as_ref().map_or(self.kwh, Estimator::kwh)
    }

    /// Feeds bytes from the line and reports everything they complete.
    pub fn bytes(&mut self, bytes: &[u8], out: &mut impl FnMut(Event)) -> Result<(), MeterError> {
        self.decoder.received(bytes);
        loop {
            // The frame borrows the decoder; copy out what is needed before handling it.
            let frame = match self.decoder.decode() {
                Ok(Frame::Info(i)) => Pending::Info(i),
                Ok(Frame::Status(s)) => Pending::Status(s),
                Ok(Frame::Samples(s)) => {
                    let n = ct_wire::pack::unpack_into(s.packed, &mut self.codes);
                    Pending::Samples(s.first_index, n)
                }
                Err(DecodeError::NeedMoreBytes) => return Ok(()),
                Err(DecodeError::Malformed { skipped, reason }) => {
                    let offset = self.decoder.stream_offset();
                    out(Event::Notice(Notice::Skipped { bytes: skipped, reason, offset }));
                    continue;
                }
            };
            self.frame(frame, out)?;
        }
    }

    /// The link went away (unplugged): finish the window in progress. Whatever comes next
    /// starts a new segment, its gap measured by `reconnected`.
    pub fn disconnected(&mut self, out: &mut impl FnMut(Event)) {
        if let Some(est) = &mut self.est {
            est.flush(&mut |r| out(Event::Reading(r)));
        }
        self.decoder = Decoder::new();
    }

    /// The link is back at session time `t_s` (host clock); the time in between is a gap.
    /// Session time never goes backwards, even if the device's clock ran fast.
    pub fn reconnected(&mut self, t_s: f64, out: &mut impl FnMut(Event)) {
        if let Some((_, t_next)) = self.next.take() {
            let t_s = t_s.max(t_next);
            let seconds = t_s - t_next;
            let lost = self.est.as_ref().map_or(0, |e| (seconds * e.rate_hz()).round() as u64);
            out(Event::Notice(Notice::Gap { lost_samples: lost, seconds }));
            if let Some(est) = &mut self.est {
                est.gap(lost, &mut |r| out(Event::Reading(r)));
            }
            self.t_end = t_s;
        }
    }

    /// End of input: emit the partial window.
    pub fn finish(&mut self, out: &mut impl FnMut(Event)) {
        if let Some(est) = &mut self.est {
            est.flush(&mut |r| out(Event::Reading(r)));
        }
    }

    fn frame(&mut self, frame: Pending, out: &mut impl FnMut(Event)) -> Result<(), MeterError> {
        match frame {
            Pending::Info(info) => self.on_info(info, out),
            Pending::Status(s) => {
                if let Some(prev) = self.dropped_total {
                    if s.dropped_total > prev {
                        out(Event::Notice(Notice::Overrun {
                            dropped_total: s.dropped_total,
                            new: s.dropped_total - prev,
                        }));
                    }
                }
                self.dropped_total = Some(s.dropped_total);
                Ok(())
            }
            Pending::Samples(first_index, n) => {
                let codes = self.codes;
                self.on_samples(first_index, &codes[..n], out);
                Ok(())
            }
        }
    }

    fn on_info(&mut self, info: Info, out: &mut impl FnMut(Event)) -> Result<(), MeterError> {
        if info.protocol_version != ct_wire::PROTOCOL_VERSION {
            return Err(MeterError::Protocol { got: info.protocol_version, want: ct_wire::PROTOCOL_VERSION });
        }
        if info.adc_bits != self.cal.adc_bits || info.adc_ref_mv != self.cal.adc_ref_mv {
            return Err(MeterError::CalibrationMismatch {
                table: self.cal.name.clone(),
                tbits: self.cal.adc_bits,
                tref: self.cal.adc_ref_mv,
                dbits: info.adc_bits,
                dref: info.adc_ref_mv,
            });
        }
        if info.ticks_per_sample == 0 || info.timer_clock_hz == 0 {
            return Err(MeterError::BadRate { clock: info.timer_clock_hz, ticks: info.ticks_per_sample });
        }
        if self.info == Some(info) {
            return Ok(());
        }
        let rate_changed = self.info.is_none_or(|old| old.sample_rate_hz() != info.sample_rate_hz());
        self.info = Some(info);
        out(Event::Notice(Notice::Device(info)));
        if rate_changed {
            if let Some(mut old) = self.est.take() {
                old.flush(&mut |r| out(Event::Reading(r)));
                self.kwh = old.kwh();
            }
            let mut est = Estimator::new(&self.cal, info.sample_rate_hz(), self.cfg);
            est.set_kwh(self.kwh);
            self.est = Some(est);
            self.next = None;
        }
        Ok(())
    }

    fn on_samples(&mut self, first_index: u32, codes: &[u16], out: &mut impl FnMut(Event)) {
        let Some(est) = &mut self.est else {
            self.waiting_discarded += codes.len() as u64;
            out(Event::Notice(Notice::WaitingForInfo { discarded_samples: self.waiting_discarded }));
            return;
        };
        let rate = est.rate_hz();
        let (index, t) = match self.next {
            None => (first_index as u64, self.t_end),
            Some((next, t_next)) => {
                // Forward distance from the expected index, modulo 2^32.
                let ahead = first_index.wrapping_sub(next as u32);
                if ahead == 0 {
                    (next, t_next)
                } else if ahead < 1 << 31 {
                    let lost = ahead as u64;
                    est.gap(lost, &mut |r| out(Event::Reading(r)));
                    let seconds = lost as f64 / rate;
                    out(Event::Notice(Notice::Gap { lost_samples: lost, seconds }));
                    (next + lost, t_next + seconds)
                } else {
                    // The index went back: the device restarted. Its Info frame (sent at boot)
                    // may have been lost, so this is detected from the index alone.
                    est.gap(0, &mut |r| out(Event::Reading(r)));
                    out(Event::Notice(Notice::Reset { cause: None }));
                    self.dropped_total = None;
                    (first_index as u64, t_next)
                }
            }
        };
        est.push(t, codes, &mut |r| out(Event::Reading(r)));
        let n = codes.len() as u64;
        let t_after = t + n as f64 / rate;
        self.next = Some((index + n, t_after));
        self.t_end = t_after;
    }
}

/// A decoded frame, copied out of the decoder's buffer (samples go to `Meter::codes`).
enum Pending {
    Info(Info),
    Status(ct_wire::Status),
    /// First index and sample count.
    Samples(u32, usize),
}

#[cfg(test)]
mod tests {
    use super::*;
    use ct_wire::frame::INFO_FLAG_VIRTUAL;
    use ct_wire::pack::pack4;
    use ct_wire::{framing, BuildProfile, Samples};

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
        let lut = cal.lut_at(Some(50.0));
        let codes: Vec<u16> = (0..112u32)
            .map(|k| {
                let t = index.wrapping_add(k) as f64 / 8000.0;
                let a = 14.14 * (std::f64::consts::TAU * 50.0 * t).sin();
                crate::calibration::code_in(&lut, a as f32, cal.zero_code())
            })
            .collect();
        let packed: Vec<u8> = codes.chunks(4).flat_map(|c| pack4([c[0], c[1], c[2], c[3]])).collect();
        line(&Frame::Samples(Samples { first_index: index, packed: &packed }))
    }

    fn run(stream: &[u8]) -> (Vec<Reading>, Vec<Notice>, Result<(), MeterError>) {
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
}
