//! When a device sends Info and Status frames between Samples frames.
//!
//! The firmware and the host's virtual device both follow this schedule, so the virtual device
//! emits the same frame sequence as the real one. Time is counted in samples (the device's only
//! clock that matters), so the schedule is exact and needs no timer of its own.

/// Which frame the device should send next, after the Samples frame it just finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Due {
    Nothing,
    Status,
    Info,
}

/// Decides when Info (at each start of streaming, then every `10 s - one largest frame` of
/// samples) and Status (every second of samples) frames are due. The device sends the Info
/// frame that starts a stream itself, then makes a new `Cadence`. 12 bytes (the periods are
/// derived from the rate when needed): it lives in the firmware's main stack frame.
#[derive(Clone, Debug)]
pub struct Cadence {
    /// Samples per second, rounded down (at least 1).
    rate: u32,
    since_info: u32,
    since_status: u32,
}

impl Cadence {
    /// `sample_rate_floor` is the sample rate in whole Hz, rounded down. Info is due once
    /// 10 s minus one largest frame have passed, so that even after the frame in flight the
    /// gap never exceeds the spec's 10 s; Status about every second.
    pub const fn new(sample_rate_floor: u32) -> Self {
        let rate = if sample_rate_floor == 0 { 1 } else { sample_rate_floor };
        Cadence { rate, since_info: 0, since_status: 0 }
    }

    /// Call after each Samples frame of `n` samples; at most one extra frame is due at a time
    /// (Info wins; a Status left pending goes out after the next Samples frame).
    pub fn after_samples(&mut self, n: u32) -> Due {
        self.since_info = self.since_info.saturating_add(n);
        self.since_status = self.since_status.saturating_add(n);
        let info_period = (self.rate * 10).saturating_sub(crate::MAX_SAMPLES_PER_FRAME as u32);
        if self.since_info >= info_period {
            self.since_info = 0;
            Due::Info
        } else if self.since_status >= self.rate {
            self.since_status = 0;
            Due::Status
        } else {
            Due::Nothing
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Info (after the one that starts the stream) at least every 10 s of samples; Status
    /// about once a second.
    #[test]
    fn info_every_ten_seconds_status_every_second() {
        let rate = 600;
        let mut c = Cadence::new(rate);
        let (mut t, mut last_info, mut statuses) = (0u32, 0u32, 0u32);
        for _ in 0..(60 * rate / 112) {
            t += 112;
            match c.after_samples(112) {
                Due::Info => {
                    assert!(t - last_info <= 10 * rate, "Info gap {} samples", t - last_info);
                    last_info = t;
                }
                Due::Status => statuses += 1,
                Due::Nothing => {}
            }
        }
        assert!(t - last_info <= 10 * rate);
        // 60 s: about 60 Status frames, minus the slots Info took.
        assert!((50..=60).contains(&statuses), "{statuses} status frames in 60 s");
    }
}
