//! Inputs and a recording sink for the commands' in-process tests.

use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

use super::virtual_device::{SimProfile, Simulation};
use crate::calibration::Calibration;
use crate::estimate::Reading;
use crate::notice::Notice;
use crate::sim::{Faults, Load, Shape, VirtualDevice};
use crate::sink::{End, ReadingSink, SinkError};

/// The fast profile on a sinusoidal `amps` load, its clock `speed` times real time.
pub fn simulation(amps: f64, speed: f64) -> Simulation {
    Simulation {
        load: Load { amps, mains_hz: 50.0, shape: Shape::Sine, step: None },
        profile: SimProfile::Fast,
        noise_lsb: 0.3,
        faults: Faults::default(),
        seed: 1,
        speed,
    }
}

fn device(amps: f64) -> VirtualDevice {
    simulation(amps, 1.0).device(Calibration::builtin().full_scale_code())
}

/// `seconds` of the fast profile's byte stream, as `cat /dev/ttyUSB0 > file` would save it.
pub fn byte_stream(amps: f64, seconds: f64) -> Vec<u8> {
    device(amps).stream(seconds)
}

/// A capture of `seconds` of the fast profile with receive times as a real recording would
/// have them: one chunk per 50 ms, stamped when its last sample was taken plus 3 ms latency.
pub fn synthetic_capture(path: &Path, amps: f64, seconds: f64, t0_ns: i64) {
    crate::capture::write_capture(path, &[("source", "synthetic".into())], device(amps).chunks(seconds, t0_ns))
        .unwrap();
}

/// What a [`Collect`] was given.
#[derive(Debug, Default)]
pub struct Got {
    pub readings: Vec<(Reading, Option<SystemTime>)>,
    pub notices: Vec<Notice>,
    pub finished: Option<End>,
}

#[derive(Debug, thiserror::Error)]
#[error("collector refused the reading")]
pub struct Refused;

/// Keeps everything it is given; optionally sets a stop flag after some readings (as a user
/// pressing Ctrl-C would), or refuses every reading.
#[derive(Default)]
pub struct Collect {
    pub got: Rc<RefCell<Got>>,
    pub stop_after: Option<(usize, Arc<AtomicBool>)>,
    pub fail_writes: bool,
}

impl Collect {
    pub fn stopping_after(readings: usize, stop: Arc<AtomicBool>) -> Self {
        Collect { stop_after: Some((readings, stop)), ..Collect::default() }
    }
}

impl ReadingSink for Collect {
    fn write(&mut self, r: &Reading, wall: Option<SystemTime>) -> Result<(), SinkError> {
        let mut got = self.got.borrow_mut();
        got.readings.push((r.clone(), wall));
        if let Some((n, stop)) = &self.stop_after {
            if got.readings.len() >= *n {
                stop.store(true, Ordering::Relaxed);
            }
        }
        if self.fail_writes {
            return Err(SinkError::new(Refused));
        }
        Ok(())
    }

    fn notice(&mut self, n: &Notice) {
        self.got.borrow_mut().notices.push(n.clone());
    }

    fn finish(&mut self, end: End) -> Result<(), SinkError> {
        self.got.borrow_mut().finished = Some(end);
        Ok(())
    }
}
