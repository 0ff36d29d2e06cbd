//! Sample-level view of a byte stream: every ADC code with its session time, for plots and the
//! raw-samples export.
//!
//! [`crate::meter::Meter`] keeps samples to itself (it turns them into readings), so this
//! decodes the same frames with the same [`Decoder`] and keeps time exactly as the meter does:
//! session time starts at 0 with the first sample after an Info frame, a jump in the sample
//! index advances it by the missing samples, a device reset continues where the stream was,
//! and a reconnection moves it to the host time of the reconnection. Readings and samples of
//! one input therefore share one time axis.

use ct_wire::Frame;

use crate::decoder::{DecodeError, Decoder};

/// Consecutive samples without a gap between them.
#[derive(Debug, Clone, Copy)]
pub struct Run<'a> {
    /// Session time of the first sample, s.
    pub t_s: f64,
    /// Index of the first sample, counted from the first sample of the stream (gaps included).
    pub index: u64,
    pub rate_hz: f64,
    /// The codes; empty in timing-only mode.
    pub codes: &'a [u16],
    /// Samples in the run (equals `codes.len()` unless timing only).
    pub len: usize,
}

/// Frames in, timed runs of samples out.
pub struct SampleDecoder {
    decoder: Decoder,
    rate_hz: Option<f64>,
    /// Device index of the next expected sample, its stream index and session time.
    next: Option<(u32, u64, f64)>,
    /// Stream index of the next sample (gaps included).
    stream_index: u64,
    t_end: f64,
    seen_samples: bool,
    unpack: bool,
    codes: Vec<u16>,
}

impl SampleDecoder {
    /// `unpack: false` only keeps time (no codes), which costs a fraction of full decoding.
    pub fn new(unpack: bool) -> Self {
        SampleDecoder {
            decoder: Decoder::new(),
            rate_hz: None,
            next: None,
            stream_index: 0,
            t_end: 0.0,
            seen_samples: false,
            unpack,
            codes: vec![0; ct_wire::MAX_SAMPLES_PER_FRAME],
        }
    }

    /// Session time just after the last sample decoded.
    pub fn t_end(&self) -> f64 {
        self.t_end
    }

    /// Whether any sample has been timed yet.
    pub fn started(&self) -> bool {
        self.seen_samples
    }

    pub fn rate_hz(&self) -> Option<f64> {
        self.rate_hz
    }

    /// Feeds bytes; `out` gets each frame's samples and returns `false` to stop early.
    pub fn bytes(&mut self, bytes: &[u8], out: &mut impl FnMut(Run<'_>) -> bool) -> bool {
        self.decoder.received(bytes);
        loop {
            let (first, n) = match self.decoder.decode() {
                Ok(Frame::Info(i)) => {
                    let rate = i.sample_rate_hz();
                    if i.ticks_per_sample > 0 && i.timer_clock_hz > 0 && self.rate_hz != Some(rate) {
                        self.rate_hz = Some(rate);
                        self.next = None;
                    }
                    continue;
                }
                Ok(Frame::Status(_)) => continue,
                Ok(Frame::Samples(s)) => {
                    let n = if self.unpack {
                        ct_wire::pack::unpack_into(s.packed, &mut self.codes)
                    } else {
                        s.packed.len() / 5 * 4
                    };
                    (s.first_index, n)
                }
                Err(DecodeError::NeedMoreBytes) => return true,
                Err(DecodeError::Malformed { .. }) => continue,
            };
            let Some(rate) = self.rate_hz else { continue };
            let (t, index) = match self.next {
                None => (self.t_end, self.stream_index),
                Some((next, idx, t_next)) => {
                    let ahead = first.wrapping_sub(next);
                    if ahead == 0 {
                        (t_next, idx)
                    } else if ahead < 1 << 31 {
                        (t_next + ahead as f64 / rate, idx + ahead as u64)
                    } else {
                        (t_next, idx)
                    }
                }
            };
            self.seen_samples = true;
            self.next = Some((first.wrapping_add(n as u32), index + n as u64, t + n as f64 / rate));
            self.stream_index = index + n as u64;
            self.t_end = t + n as f64 / rate;
            let codes = if self.unpack { &self.codes[..n] } else { &[][..] };
            if !out(Run { t_s: t, index, rate_hz: rate, codes, len: n }) {
                return false;
            }
        }
    }

    /// The link went away: drop any partial frame.
    pub fn disconnected(&mut self) {
        self.decoder = Decoder::new();
    }

    /// The link is back at session time `t_s`; as the meter does, time never goes back.
    pub fn reconnected(&mut self, t_s: f64) {
        if let Some((_, idx, t_next)) = self.next.take() {
            let t = t_s.max(t_next);
            if let Some(rate) = self.rate_hz {
                self.stream_index = idx + ((t - t_next) * rate).round() as u64;
            }
            self.t_end = t;
        }
    }
}
