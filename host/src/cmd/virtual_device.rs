//! `ct-read virtual-device`: the built-in virtual device alone, behind a pseudo-terminal
//! published at a path, for testing a logging set-up without hardware. Also the
//! [`Simulation`] that `live` reads when no hardware is attached.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::Error;
use crate::calibration::Calibration;
use crate::notice::Notice;
use crate::sim::{DeviceProfile, Faults, Load, PtyDevice, VirtualDevice};

/// The firmware build the virtual device imitates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SimProfile {
    Launchpad,
    Fast,
}

impl SimProfile {
    pub fn device(self) -> DeviceProfile {
        match self {
            SimProfile::Launchpad => DeviceProfile::LAUNCHPAD,
            SimProfile::Fast => DeviceProfile::FAST,
        }
    }

    /// The same build as the emulator runs it.
    pub fn emulator(self) -> ct_emu::fil::Profile {
        match self {
            SimProfile::Launchpad => ct_emu::fil::LAUNCHPAD,
            SimProfile::Fast => ct_emu::fil::FAST,
        }
    }
}

/// A virtual device as the commands start it: the load, the build, the line faults, and how
/// fast its clock runs.
#[derive(Debug, Clone)]
pub struct Simulation {
    pub load: Load,
    pub profile: SimProfile,
    /// ADC noise, standard deviation in LSB.
    pub noise_lsb: f64,
    pub faults: Faults,
    pub seed: u64,
    /// Simulated seconds per real second (tests run faster than real time).
    pub speed: f64,
}

impl Simulation {
    /// The device, clamping its codes at `full_scale_code` (that of the table the reader uses).
    pub fn device(&self, full_scale_code: u16) -> VirtualDevice {
        VirtualDevice::new(self.profile.device(), self.load, full_scale_code, self.noise_lsb, self.faults, self.seed)
    }

    /// The device behind a pty (also published at `link`, if given).
    pub fn start(&self, full_scale_code: u16, link: Option<&Path>) -> Result<PtyDevice, Error> {
        PtyDevice::start(self.device(full_scale_code), self.speed, link).map_err(Error::StartDevice)
    }

    /// The firmware ELF at `elf` in the MSP430G2553 emulator, its ADC fed by this simulation's
    /// load, behind a pty.
    pub fn start_firmware(&self, elf: &Path, full_scale_code: u16) -> Result<PtyDevice, Error> {
        let bytes = std::fs::read(elf).map_err(|source| Error::ReadFirmware { path: elf.to_owned(), source })?;
        let dev = self.device(full_scale_code);
        let session = ct_emu::fil::Session::new(&bytes, &self.profile.emulator(), dev.adc_millivolts())
            .map_err(|source| Error::LoadFirmware { path: elf.to_owned(), source })?;
        PtyDevice::start_firmware(session, self.speed, None).map_err(Error::StartDevice)
    }
}

/// What `virtual-device` runs.
#[derive(Debug, Clone)]
pub struct VirtualDeviceOptions {
    pub sim: Simulation,
    /// Where to create the symlink to the pseudo-terminal.
    pub link: PathBuf,
    /// Stop after this many seconds.
    pub duration: Option<f64>,
}

/// Runs the device until `stop` is set or the duration is over, then removes the link.
pub fn run(opts: &VirtualDeviceOptions, stop: &AtomicBool, log: &mut dyn FnMut(&Notice)) -> Result<(), Error> {
    let pty = opts.sim.start(Calibration::builtin().full_scale_code(), Some(&opts.link))?;
    log(&Notice::VirtualDeviceOn { path: pty.path().to_owned() });
    let started = Instant::now();
    // The device runs in its own thread; this one only waits for the end, polling because
    // the stop flag is set from a signal handler, which cannot wake a condition variable.
    while !stop.load(Ordering::Relaxed) && opts.duration.is_none_or(|d| started.elapsed().as_secs_f64() < d) {
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(pty);
    let _ = std::fs::remove_file(&opts.link);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::fixtures::simulation;
    use crate::meter::{Event, Meter};
    use std::io::{Read, Write};

    /// The device comes up at the link, a reader gets a stream the meter reads at the load's
    /// current, and setting the stop flag ends the command and removes the link.
    #[test]
    fn serves_the_load_at_the_link_until_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("ttyVIRT");
        let opts = VirtualDeviceOptions { sim: simulation(4.0, 8.0), link: link.clone(), duration: None };
        let stop = AtomicBool::new(false);
        std::thread::scope(|s| {
            let device = s.spawn(|| {
                let mut notices = Vec::new();
                run(&opts, &stop, &mut |n| notices.push(n.clone())).map(|_| notices)
            });
            let t = Instant::now();
            while !link.exists() {
                assert!(t.elapsed() < Duration::from_secs(10), "the device did not come up");
                std::thread::sleep(Duration::from_millis(10));
            }
            let mut port = crate::serial::open(link.to_str().unwrap(), 250_000).unwrap();
            // Like the firmware, the device streams only when asked (and for 5 s after).
            port.write_all(ct_wire::command::Command::Start.line()).unwrap();
            let mut meter = Meter::new(Calibration::builtin(), Default::default());
            let mut amps = Vec::new();
            let mut buf = [0u8; 4096];
            while amps.iter().filter(|&&(d, _)| d > 0.9).count() < 2 {
                assert!(t.elapsed() < Duration::from_secs(20), "no readings from the device");
                port.write_all(ct_wire::command::Command::KeepAlive.line()).unwrap();
                let n = port.read(&mut buf).unwrap_or(0);
                meter
                    .bytes(&buf[..n], &mut |e| {
                        if let Event::Reading(r) = e {
                            amps.push((r.duration_s, r.irms_a))
                        }
                    })
                    .unwrap();
            }
            stop.store(true, Ordering::Relaxed);
            let notices = device.join().unwrap().unwrap();
            assert!(matches!(&notices[..], [Notice::VirtualDeviceOn { path }] if *path == link), "{notices:?}");
            // Whole windows read the load's current.
            assert!(amps.iter().any(|&(d, _)| d > 0.9), "{amps:?}");
            for &(_, a) in amps.iter().filter(|&&(d, _)| d > 0.9) {
                assert!((a / 4.0 - 1.0).abs() < 0.01, "{amps:?}");
            }
        });
        assert!(!link.exists(), "the link outlived the device");
    }
}
