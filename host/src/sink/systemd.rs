//! systemd's notify protocol for `Type=notify` services (sd_notify(3)): READY=1 once the
//! device streams, WATCHDOG=1 with every reading, STATUS= with the latest figures.
//!
//! Why pings come from readings and not from a timer: a timer thread would keep pinging
//! while the read loop hangs, the device is silent or the meter stopped producing readings,
//! which is exactly what the watchdog is for. Pinging only as readings are delivered means
//! that when no reading arrives for `WatchdogSec=`, systemd kills ct-read and
//! `Restart=on-failure` starts it again, reopening the port. A window longer than the
//! watchdog would be killed while healthy, so the sink warns when `WatchdogSec=` is under
//! three windows (a reading comes every `--window`, 1 s by default; the shipped unit has 30 s).
//!
//! READY=1 is sent with the first reading, not when the port opens: a service whose port
//! opens but whose device never streams stays "activating" and fails at `TimeoutStartSec=`.
//!
//! Without `NOTIFY_SOCKET` (not started by systemd) [`SystemdSink::from_env`] gives nothing
//! and nothing is sent. A datagram that cannot be sent is dropped: the manager that listens
//! for it is the one that acts on its absence.

use std::time::{Duration, SystemTime};

use sd_notify::NotifyState;

use super::{End, ReadingSink, SinkError};
use crate::estimate::Reading;
use crate::notice::Notice;

pub struct SystemdSink {
    ready: bool,
    watchdog: Option<Duration>,
}

impl SystemdSink {
    /// The sink when systemd (or another manager speaking its protocol) started this process
    /// (`NOTIFY_SOCKET` is set), with the warning for a watchdog shorter than three reading
    /// windows of `window_s` seconds.
    pub fn from_env(window_s: f64) -> Option<(Self, Option<Notice>)> {
        std::env::var_os("NOTIFY_SOCKET")?;
        let watchdog = sd_notify::watchdog_enabled();
        let warning = watchdog
            .filter(|w| w.as_secs_f64() < 3.0 * window_s)
            .map(|watchdog| Notice::WatchdogShort { watchdog, window_s });
        Some((SystemdSink { ready: false, watchdog }, warning))
    }

    fn send(&self, states: &[NotifyState]) {
        // Dropped if it cannot be sent: see the module doc.
        let _ = sd_notify::notify(states);
    }
}

impl ReadingSink for SystemdSink {
    fn write(&mut self, r: &Reading, wall: Option<SystemTime>) -> Result<(), SinkError> {
        self.write_with_lifetime(r, wall, f64::NAN)
    }

    fn write_with_lifetime(&mut self, r: &Reading, _wall: Option<SystemTime>, kwh: f64) -> Result<(), SinkError> {
        let status = if kwh.is_finite() {
            format!("metering: {:.2} A, {:.0} W, lifetime {kwh:.3} kWh", r.irms_a, r.watts)
        } else {
            format!("metering: {:.2} A, {:.0} W", r.irms_a, r.watts)
        };
        let mut states = vec![NotifyState::Status(&status)];
        if !std::mem::replace(&mut self.ready, true) {
            states.push(NotifyState::Ready);
        }
        if self.watchdog.is_some() {
            states.push(NotifyState::Watchdog);
        }
        self.send(&states);
        Ok(())
    }

    fn notice(&mut self, n: &Notice) {
        // What the service waits for, where `systemctl status` shows it; no ping.
        let status = match n {
            Notice::Lost { port, .. } => format!("waiting for {port} to come back"),
            Notice::Silent { port, .. } => format!("no data from {port}"),
            _ => return,
        };
        self.send(&[NotifyState::Status(&status)]);
    }

    fn finish(&mut self, _end: End) -> Result<(), SinkError> {
        self.send(&[NotifyState::Stopping]);
        Ok(())
    }
}
