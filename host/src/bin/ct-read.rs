//! `ct-read`: live readings from an Efergy CT meter (or the built-in virtual device), and
//! offline analysis of recorded streams. A thin layer over the `ct_host` library.

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};

use ct_host::calibration::Calibration;
use ct_host::estimate::{EstimatorConfig, Reading};
use ct_host::meter::{Event, Meter, Notice};
use ct_host::output::{self, CsvSink};
use ct_host::serial::{self, LinkEvent};
use ct_host::sim::{DeviceProfile, Faults, Load, PtyDevice, Shape, VirtualDevice};

#[derive(Parser)]
#[command(name = "ct-read", version, about = "Trustworthy readings from an Efergy CT clamp on an MSP430 LaunchPad")]
#[command(
    args_conflicts_with_subcommands = true,
    after_help = "Without a PORT, ct-read uses an attached LaunchPad, or else the built-in virtual device."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Cmd>,
    #[command(flatten)]
    live: LiveArgs,
}

#[derive(Subcommand)]
enum Cmd {
    /// Compute readings from a recorded byte stream or a CSV of raw ADC codes.
    Analyze {
        /// A recorded stream (`cat /dev/ttyACM0 > file`) or a CSV: `code` per line (with
        /// --rate) or `t_s,code`.
        file: PathBuf,
        /// Sample rate of a `code`-per-line CSV, in Hz.
        #[arg(long)]
        rate: Option<f64>,
        #[command(flatten)]
        est: EstimateArgs,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// Adjust a calibration table from reference readings (a trusted meter at known loads)
    /// and write a new table, printing the residual error at each point.
    Calibrate {
        /// A reference point: FILE=AMPS (a recording made while the trusted meter read AMPS)
        /// or READING=AMPS (what ct-read showed with the base table). Repeat for more levels.
        #[arg(long = "point", required = true, value_name = "FILE|READING=AMPS")]
        points: Vec<ct_host::calibrate::Point>,
        /// Where to write the new table (replaced atomically).
        #[arg(short, long)]
        output: PathBuf,
        /// Sample rate of `code`-per-line CSV recordings, in Hz.
        #[arg(long)]
        rate: Option<f64>,
        #[command(flatten)]
        est: EstimateArgs,
    },
    /// Run only the virtual device, publishing its pseudo-terminal at a path (for testing a
    /// logging set-up without hardware).
    VirtualDevice {
        /// Where to create the symlink to the pseudo-terminal.
        #[arg(long)]
        link: PathBuf,
        /// Stop after this many seconds.
        #[arg(long)]
        duration: Option<f64>,
        #[command(flatten)]
        sim: SimArgs,
    },
}

#[derive(Args)]
struct LiveArgs {
    /// Serial port, e.g. /dev/ttyACM0.
    port: Option<String>,
    /// Read the built-in virtual device even if hardware is attached.
    #[arg(long, conflicts_with = "port")]
    simulate: bool,
    /// Line rate. The LaunchPad's /dev/ttyACM0 is fixed at 9600; use the fast firmware profile
    /// with an external USB-UART for more.
    #[arg(long, default_value_t = 9600)]
    baud: u32,
    /// Stop after this many seconds (default: run until Ctrl-C).
    #[arg(long)]
    duration: Option<f64>,
    #[command(flatten)]
    est: EstimateArgs,
    #[command(flatten)]
    out: OutputArgs,
    #[command(flatten)]
    sim: SimArgs,
}

#[derive(Args)]
struct EstimateArgs {
    /// Mains RMS voltage, for power and energy.
    #[arg(long, default_value_t = 230.0)]
    volts: f64,
    /// Power factor of the load; without it watts are apparent power (pf 1).
    #[arg(long)]
    pf: Option<f64>,
    /// Reading window in seconds (aligned to whole mains cycles inside).
    #[arg(long, default_value_t = 1.0)]
    window: f64,
    /// Calibration table (default: the built-in SPICE-derived table).
    #[arg(long)]
    calibration: Option<PathBuf>,
}

#[derive(Args)]
struct OutputArgs {
    /// Append readings to this CSV file (header written once; each row written whole).
    #[arg(long)]
    csv: Option<PathBuf>,
    /// Print one JSON object per reading instead of text lines.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct SimArgs {
    /// Virtual device: RMS current of the simulated load, A.
    #[arg(long, default_value_t = 5.0)]
    sim_amps: f64,
    /// Virtual device: mains frequency, Hz.
    #[arg(long, default_value_t = 50.0)]
    sim_hz: f64,
    /// Virtual device: load current shape.
    #[arg(long, value_enum, default_value_t = Shape::Sine)]
    sim_shape: Shape,
    /// Virtual device: time of a load step, s.
    #[arg(long, requires = "sim_step_amps")]
    sim_step_at: Option<f64>,
    /// Virtual device: RMS current after the step, A.
    #[arg(long)]
    sim_step_amps: Option<f64>,
    /// Virtual device: firmware profile (launchpad: 603.5 Sa/s at 9600 baud; fast: 8196.7 Sa/s at 250000 baud).
    #[arg(long, value_enum, default_value_t = SimProfile::Launchpad)]
    sim_profile: SimProfile,
    /// Virtual device: ADC noise, standard deviation in LSB.
    #[arg(long, default_value_t = 0.3)]
    sim_noise: f64,
    /// Virtual device: run the simulated clock this many times faster than real time.
    #[arg(long, default_value_t = 1.0, hide = true)]
    sim_speed: f64,
    /// Virtual device: random bytes before the first frame.
    #[arg(long, default_value_t = 0, hide = true)]
    sim_garbage: usize,
    /// Virtual device: probability per frame of a bit flip.
    #[arg(long, default_value_t = 0.0, hide = true)]
    sim_bit_flip: f64,
    /// Virtual device: probability per frame of a dropped byte.
    #[arg(long, default_value_t = 0.0, hide = true)]
    sim_byte_drop: f64,
    /// Virtual device: random seed.
    #[arg(long, default_value_t = 1, hide = true)]
    sim_seed: u64,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum SimProfile {
    Launchpad,
    Fast,
}

impl SimArgs {
    fn device(&self, cal: Calibration) -> Result<VirtualDevice> {
        if !(self.sim_amps >= 0.0 && self.sim_hz > 0.0 && self.sim_speed > 0.0) {
            bail!("--sim-amps must be >= 0, --sim-hz and --sim-speed > 0");
        }
        let load = Load {
            amps: self.sim_amps,
            mains_hz: self.sim_hz,
            shape: self.sim_shape,
            step: self.sim_step_at.zip(self.sim_step_amps),
        };
        let profile = match self.sim_profile {
            SimProfile::Launchpad => DeviceProfile::LAUNCHPAD,
            SimProfile::Fast => DeviceProfile::FAST,
        };
        let faults =
            Faults { garbage_before: self.sim_garbage, bit_flip: self.sim_bit_flip, byte_drop: self.sim_byte_drop };
        Ok(VirtualDevice::new(profile, load, cal, self.sim_noise, faults, self.sim_seed))
    }
}

impl EstimateArgs {
    fn config(&self) -> Result<EstimatorConfig> {
        if !(self.volts > 0.0 && self.volts.is_finite()) {
            bail!("--volts must be a positive voltage, got {}", self.volts);
        }
        if let Some(pf) = self.pf {
            if !(0.0..=1.0).contains(&pf) {
                bail!("--pf must be between 0 and 1, got {pf}");
            }
        }
        if !(self.window >= 0.1 && self.window <= 3600.0) {
            bail!("--window must be between 0.1 and 3600 s, got {}", self.window);
        }
        Ok(EstimatorConfig { window_s: self.window, volts: self.volts, pf: self.pf })
    }

    fn calibration(&self) -> Result<Calibration> {
        match &self.calibration {
            Some(p) => Ok(Calibration::load(p)?),
            None => Ok(Calibration::builtin()),
        }
    }
}

/// Prints and stores events.
struct Sinks {
    json: bool,
    csv: Option<CsvSink>,
    /// Wall-clock time of session time 0, once known (live only).
    wall0: Option<SystemTime>,
    live: bool,
    waiting_told: bool,
    error: Option<anyhow::Error>,
}

impl Sinks {
    fn new(out: &OutputArgs, live: bool) -> Result<Self> {
        let csv = match &out.csv {
            Some(p) => {
                let (sink, cut) = CsvSink::open(p)?;
                if let Some(n) = cut {
                    eprintln!(
                        "warning: {}: removed a torn last row ({n} bytes) left by an interrupted run",
                        p.display()
                    );
                }
                Some(sink)
            }
            None => None,
        };
        Ok(Sinks { json: out.json, csv, wall0: None, live, waiting_told: false, error: None })
    }

    fn event(&mut self, e: Event) {
        match e {
            Event::Reading(r) => self.reading(&r),
            Event::Notice(n) => self.notice(n),
        }
    }

    fn reading(&mut self, r: &Reading) {
        if self.live && self.wall0.is_none() {
            self.wall0 = SystemTime::now().checked_sub(std::time::Duration::from_secs_f64(r.t_s));
        }
        let wall = output::wall_time(self.wall0, r);
        let line = if self.json { output::json_line(r, wall) } else { output::text_line(r, wall) };
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{line}");
        let _ = stdout.flush();
        if let Some(csv) = &mut self.csv {
            if let Err(e) = csv.write(r, wall) {
                self.error.get_or_insert(e.into());
            }
        }
    }

    fn notice(&mut self, n: Notice) {
        match n {
            Notice::Device(i) => eprintln!(
                "device: {} firmware {}.{}.{}{}, {:.2} samples/s, {} baud, ADC {}-bit / {} mV ref, last reset: {:?}",
                match i.build_profile {
                    ct_wire::BuildProfile::Launchpad => "launchpad-profile".to_string(),
                    ct_wire::BuildProfile::Fast => "fast-profile".to_string(),
                    ct_wire::BuildProfile::Other(b) => format!("profile-{b}"),
                },
                i.firmware_version[0],
                i.firmware_version[1],
                i.firmware_version[2],
                if i.is_virtual() { " (virtual device)" } else { "" },
                i.sample_rate_hz(),
                i.baud,
                i.adc_bits,
                i.adc_ref_mv,
                i.reset_cause
            ),
            Notice::WaitingForInfo { .. } if self.waiting_told => {}
            Notice::WaitingForInfo { .. } => {
                self.waiting_told = true;
                eprintln!("waiting for the device's Info frame (sent at boot and every 10 s) to learn its sample rate");
            }
            Notice::Skipped { bytes, reason, offset } => {
                eprintln!("warning: skipped {bytes} corrupt bytes ending at stream offset {offset}: {reason}")
            }
            Notice::Gap { lost_samples, seconds } => {
                eprintln!(
                    "warning: gap of {lost_samples} samples ({seconds:.3} s); affected readings are flagged `gap`"
                )
            }
            Notice::Reset { cause } => eprintln!("warning: the device restarted (cause: {cause:?})"),
            Notice::Overrun { dropped_total, new } => {
                eprintln!("warning: the device dropped {new} samples (overrun; {dropped_total} since reset)")
            }
        }
    }

    fn finish(&mut self) -> Result<()> {
        if let Some(csv) = &mut self.csv {
            csv.sync()?;
        }
        match self.error.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Some(Cmd::Analyze { file, rate, est, out }) => analyze(file, rate, &est, &out),
        Some(Cmd::VirtualDevice { link, duration, sim }) => virtual_device(&link, duration, &sim),
        Some(Cmd::Calibrate { points, output, rate, est }) => calibrate(&points, &output, rate, &est),
        None => live(&cli.live),
    }
}

fn stop_flag() -> Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    let s = stop.clone();
    ctrlc::set_handler(move || s.store(true, Ordering::Relaxed)).context("installing the Ctrl-C handler")?;
    Ok(stop)
}

fn live(args: &LiveArgs) -> Result<()> {
    let cfg = args.est.config()?;
    let cal = args.est.calibration()?;
    let stop = stop_flag()?;
    let mut sinks = Sinks::new(&args.out, true)?;

    let hardware = if args.simulate { None } else { args.port.clone().or_else(serial::find_launchpad) };
    let (path, _device) = match hardware {
        Some(p) => (p, None),
        None => {
            let dev = args.sim.device(cal.clone())?;
            let pty = PtyDevice::start(dev, args.sim.sim_speed, None).context("starting the virtual device")?;
            eprintln!(
                "no port given and no LaunchPad found: reading the built-in virtual device on {} ({:?} load, {} A at {} Hz)",
                pty.path().display(),
                args.sim.sim_shape,
                args.sim.sim_amps,
                args.sim.sim_hz
            );
            (pty.path().display().to_string(), Some(pty))
        }
    };
    if args.est.pf.is_none() && !args.out.json {
        eprintln!("note: no --pf given: watts are apparent power (V x A, power factor 1 assumed)");
    }

    let mut meter = Meter::new(cal, cfg);
    let started = Instant::now();
    let mut fatal = None;
    serial::read_loop(&path, args.baud, &stop, |ev| {
        match ev {
            LinkEvent::Bytes(b) => {
                if let Err(e) = meter.bytes(b, &mut |e| sinks.event(e)) {
                    fatal = Some(e);
                    return false;
                }
            }
            LinkEvent::Lost(e) => {
                eprintln!("warning: lost {path}: {e}; waiting for it to come back (Ctrl-C to stop)");
                meter.disconnected(&mut |e| sinks.event(e));
            }
            LinkEvent::Back { after } => {
                eprintln!("reconnected to {path} after {:.1} s", after.as_secs_f64());
                let t =
                    sinks.wall0.and_then(|w| SystemTime::now().duration_since(w).ok()).map_or(0.0, |d| d.as_secs_f64());
                meter.reconnected(t, &mut |e| sinks.event(e));
            }
            LinkEvent::Idle => {}
        }
        sinks.error.is_none() && args.duration.is_none_or(|d| started.elapsed().as_secs_f64() < d)
    })?;
    if let Some(e) = fatal {
        return Err(e.into());
    }
    meter.finish(&mut |e| sinks.event(e));
    if !args.out.json {
        eprintln!("total energy: {:.5} kWh", meter.kwh());
    }
    sinks.finish()
}

fn analyze(file: PathBuf, rate: Option<f64>, est: &EstimateArgs, out: &OutputArgs) -> Result<()> {
    let cfg = est.config()?;
    let cal = est.calibration()?;
    let mut sinks = Sinks::new(out, false)?;
    ct_host::input::analyze_file(&file, cal, cfg, rate, &mut |e| sinks.event(e))?;
    sinks.finish()
}

fn virtual_device(link: &std::path::Path, duration: Option<f64>, args: &SimArgs) -> Result<()> {
    let dev = args.device(Calibration::builtin())?;
    let stop = stop_flag()?;
    let pty = PtyDevice::start(dev, args.sim_speed, Some(link)).context("starting the virtual device")?;
    eprintln!("virtual device on {} (Ctrl-C to stop)", pty.path().display());
    let started = Instant::now();
    while !stop.load(Ordering::Relaxed) && duration.is_none_or(|d| started.elapsed().as_secs_f64() < d) {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    drop(pty);
    let _ = std::fs::remove_file(link);
    Ok(())
}

fn calibrate(
    points: &[ct_host::calibrate::Point],
    output: &std::path::Path,
    rate: Option<f64>,
    est: &EstimateArgs,
) -> Result<()> {
    let cfg = est.config()?;
    let base = est.calibration()?;
    let name = output.display().to_string();
    let outcome = ct_host::calibrate::calibrate(&base, points, cfg, rate, &name, |msg| eprintln!("{msg}"))?;
    println!(
        "{:<40} {:>12} {:>14} {:>10} {:>14} {:>10}",
        "point", "reference A", "before A", "error", "after A", "residual"
    );
    for r in &outcome.residuals {
        let label = match &r.point.evidence {
            ct_host::calibrate::Evidence::Recording(p) => p.display().to_string(),
            ct_host::calibrate::Evidence::Reading(a) => format!("reading {a} A"),
        };
        let err = |a: f64| format!("{:+.2} %", (a / r.point.reference_a - 1.0) * 100.0);
        println!(
            "{label:<40} {:>12} {:>14} {:>10} {:>14} {:>10}",
            output::significant(r.point.reference_a, 4),
            output::significant(r.before_a, 4),
            err(r.before_a),
            output::significant(r.after_a, 4),
            err(r.after_a)
        );
    }
    ct_host::calibrate::write_table(output, &outcome.text)?;
    eprintln!("wrote {name}; use it with --calibration {name}");
    Ok(())
}
