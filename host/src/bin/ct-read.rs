//! `ct-read`: live readings from an Efergy CT meter (or the built-in virtual device),
//! recording, and offline analysis, plots and exports of recordings. A thin layer over the
//! `ct_host` library.

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};

use ct_host::calibration::Calibration;
use ct_host::capture::{CaptureWriter, Kind};
use ct_host::estimate::{EstimatorConfig, Reading};
use ct_host::meter::{Event, Meter, Notice};
use ct_host::output::{self, CsvSink};
use ct_host::plot::PlotKind;
use ct_host::serial::{self, LinkEvent};
use ct_host::sim::{DeviceProfile, Faults, Load, PtyDevice, Shape, VirtualDevice};
use ct_host::sqlite::SqliteSink;

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
    /// Live readings as without a subcommand, and every byte from the device with its receive
    /// time appended to a capture file (for analyze, plot and export later).
    Record {
        /// The capture file (appended to if it exists).
        #[arg(short, long)]
        output: PathBuf,
        #[command(flatten)]
        live: LiveArgs,
    },
    /// Compute readings from a capture, a recorded byte stream or a CSV of raw ADC codes.
    Analyze {
        /// A capture (`ct-read record`), a recorded stream (`cat /dev/ttyACM0 > file`) or a CSV:
        /// `code` per line (with --rate) or `t_s,code`.
        file: PathBuf,
        /// Sample rate of a `code`-per-line CSV, in Hz.
        #[arg(long)]
        rate: Option<f64>,
        #[command(flatten)]
        est: EstimateArgs,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// Draw a recording to a PNG or SVG: raw codes and current, one mains cycle folded from
    /// many, or the trend of current and power.
    Plot {
        /// A capture, a recorded byte stream or a CSV of codes (as for analyze).
        file: PathBuf,
        /// Output picture, .png or .svg.
        #[arg(short, long)]
        output: PathBuf,
        /// raw: codes and current over --from..--to (default the first 0.2 s); folded: one
        /// mains cycle rebuilt from every sample in the interval (default all); trend: current
        /// and power of every reading (default all).
        #[arg(long, value_enum, default_value_t = PlotKind::Folded)]
        kind: PlotKind,
        /// Start of the interval, seconds since the start of the recording.
        #[arg(long, default_value_t = 0.0)]
        from: f64,
        /// End of the interval, seconds since the start of the recording.
        #[arg(long)]
        to: Option<f64>,
        /// Picture size in pixels, WIDTHxHEIGHT.
        #[arg(long, default_value = "1200x800", value_parser = parse_size)]
        size: (u32, u32),
        /// Sample rate of a `code`-per-line CSV, in Hz.
        #[arg(long)]
        rate: Option<f64>,
        #[command(flatten)]
        est: EstimateArgs,
    },
    /// Write the readings of a recording (one row per window, the live CSV format) or its raw
    /// samples (--raw, one row per sample) to CSV, and/or the readings to an SQLite database.
    Export {
        /// A capture, a recorded byte stream or a CSV of codes (as for analyze).
        file: PathBuf,
        /// CSV file to write (replaced when the export is complete).
        #[arg(long, required_unless_present = "sqlite")]
        csv: Option<PathBuf>,
        /// SQLite database to add the readings to (rows it already has are skipped).
        #[arg(long)]
        sqlite: Option<PathBuf>,
        /// One row per sample (time, index, code, amps) instead of one per reading.
        #[arg(long, requires = "csv", conflicts_with = "sqlite")]
        raw: bool,
        /// Sample rate of a `code`-per-line CSV, in Hz.
        #[arg(long)]
        rate: Option<f64>,
        #[command(flatten)]
        est: EstimateArgs,
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
    /// With --simulate: run this firmware ELF (firmware/target/msp430g2553/release/ct-firmware,
    /// built for --sim-profile) in the MSP430G2553 emulator on the virtual load, instead of
    /// the virtual device's own framing.
    #[arg(long, requires = "simulate", value_name = "ELF")]
    firmware: Option<PathBuf>,
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
    /// invert: the clamp's dynamic model run backwards per level class (default); fit: the
    /// same model fitted by least squares to the whole window (slow, wrong on loads that
    /// switch inside a window); table: per-sample table inversion only, exact for sinusoidal
    /// loads.
    #[arg(long, value_enum, default_value_t = ct_host::estimate::Method::Invert)]
    method: ct_host::estimate::Method,
    /// Your clamp's magnetizing inductance in henries, if you know it differs from the
    /// model's 0.6 H: the default method then undoes your clamp's own dynamics.
    #[arg(long, value_name = "HENRIES")]
    clamp_lm: Option<f64>,
}

#[derive(Args)]
struct OutputArgs {
    /// Append readings to this CSV file (header written once; each row written whole).
    #[arg(long)]
    csv: Option<PathBuf>,
    /// Add readings to this SQLite database (table `readings`, host/sql/readings.sql).
    #[arg(long)]
    sqlite: Option<PathBuf>,
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
        Ok(VirtualDevice::new(profile, load, cal.full_scale_code(), self.sim_noise, faults, self.sim_seed))
    }
}

/// A number as a user typed it, not as 300 digits: scientific notation when very large or
/// very small.
fn shown(v: f64) -> String {
    if v.is_finite() && v != 0.0 && !(1e-3..1e6).contains(&v.abs()) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

impl EstimateArgs {
    fn config(&self) -> Result<EstimatorConfig> {
        if !(self.volts > 0.0 && self.volts <= 1000.0) {
            bail!("--volts must be a mains voltage between 0 and 1000 V, got {}", shown(self.volts));
        }
        if let Some(pf) = self.pf {
            if !(0.0..=1.0).contains(&pf) {
                bail!("--pf must be between 0 and 1, got {}", shown(pf));
            }
        }
        if !(self.window >= 0.1 && self.window <= 3600.0) {
            bail!("--window must be between 0.1 and 3600 s, got {}", shown(self.window));
        }
        if let Some(lm) = self.clamp_lm {
            if !(0.05..=100.0).contains(&lm) {
                bail!("--clamp-lm must be a magnetizing inductance between 0.05 and 100 H, got {}", shown(lm));
            }
        }
        Ok(EstimatorConfig {
            window_s: self.window,
            volts: self.volts,
            pf: self.pf,
            method: self.method,
            clamp_lm_h: self.clamp_lm,
        })
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
    sqlite: Option<SqliteSink>,
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
        let sqlite = out.sqlite.as_deref().map(SqliteSink::open).transpose()?;
        Ok(Sinks { json: out.json, csv, sqlite, wall0: None, live, waiting_told: false, error: None })
    }

    /// A live event: readings are timed by the host clock.
    fn event(&mut self, e: Event) {
        match e {
            Event::Reading(r) => {
                if self.live && self.wall0.is_none() {
                    self.wall0 = SystemTime::now().checked_sub(Duration::from_secs_f64(r.t_s));
                }
                let wall = output::wall_time(self.wall0, &r);
                self.reading(&r, wall)
            }
            Event::Notice(n) => self.notice(n),
        }
    }

    /// An event of a recording, with the wall time the recording gives the reading.
    fn event_at(&mut self, e: Event, wall: Option<SystemTime>) {
        match e {
            Event::Reading(r) => self.reading(&r, wall),
            Event::Notice(n) => self.notice(n),
        }
    }

    fn reading(&mut self, r: &Reading, wall: Option<SystemTime>) {
        let line = if self.json { output::json_line(r, wall) } else { output::text_line(r, wall) };
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{line}");
        let _ = stdout.flush();
        if let Some(csv) = &mut self.csv {
            if let Err(e) = csv.write(r, wall) {
                self.error.get_or_insert(e.into());
            }
        }
        if let Some(db) = &mut self.sqlite {
            if let Err(e) = db.write(r, wall) {
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
        if let Some(db) = &mut self.sqlite {
            db.finish()?;
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
        Some(Cmd::Record { output, live: args }) => live(&args, Some(&output)),
        Some(Cmd::Analyze { file, rate, est, out }) => analyze(file, rate, &est, &out),
        Some(Cmd::Plot { file, output, kind, from, to, size, rate, est }) => {
            plot(&file, &output, kind, from, to, size, rate, &est)
        }
        Some(Cmd::Export { file, csv, sqlite, raw, rate, est }) => {
            export(&file, csv.as_deref(), sqlite.as_deref(), raw, rate, &est)
        }
        Some(Cmd::VirtualDevice { link, duration, sim }) => virtual_device(&link, duration, &sim),
        Some(Cmd::Calibrate { points, output, rate, est }) => calibrate(&points, &output, rate, &est),
        None => live(&cli.live, None),
    }
}

fn stop_flag() -> Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    let s = stop.clone();
    ctrlc::set_handler(move || s.store(true, Ordering::Relaxed)).context("installing the Ctrl-C handler")?;
    Ok(stop)
}

/// Live readings; with `record`, every chunk of bytes and every unplug/replug also goes to the
/// capture file with its receive time.
fn live(args: &LiveArgs, record: Option<&std::path::Path>) -> Result<()> {
    let cfg = args.est.config()?;
    let cal = args.est.calibration()?;
    let stop = stop_flag()?;
    let mut sinks = Sinks::new(&args.out, true)?;

    let hardware = if args.simulate { None } else { args.port.clone().or_else(serial::find_launchpad) };
    let (path, _device) = match hardware {
        Some(p) => (p, None),
        None => {
            let dev = args.sim.device(cal.clone())?;
            let pty = match &args.firmware {
                Some(elf) => {
                    let bytes = std::fs::read(elf).with_context(|| format!("reading {}", elf.display()))?;
                    let profile = match args.sim.sim_profile {
                        SimProfile::Launchpad => ct_emu::fil::LAUNCHPAD,
                        SimProfile::Fast => ct_emu::fil::FAST,
                    };
                    let session = ct_emu::fil::Session::new(&bytes, &profile, dev.adc_millivolts())
                        .with_context(|| format!("loading {} into the emulator", elf.display()))?;
                    eprintln!("emulating {} ({} profile) on the virtual load", elf.display(), profile.name);
                    PtyDevice::start_firmware(session, args.sim.sim_speed, None)
                }
                None => PtyDevice::start(dev, args.sim.sim_speed, None),
            }
            .context("starting the virtual device")?;
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

    let mut capture = match record {
        Some(p) => {
            let meta = [
                ("ct-read", env!("CARGO_PKG_VERSION").to_string()),
                ("source", if _device.is_some() { format!("virtual device ({path})") } else { path.clone() }),
                ("baud", args.baud.to_string()),
            ];
            let (w, cut) = CaptureWriter::open(p, &meta)?;
            if let Some(n) = cut {
                eprintln!("warning: {}: removed a torn tail ({n} bytes) left by an interrupted recording", p.display());
            }
            eprintln!("recording to {}", p.display());
            Some(w)
        }
        None => None,
    };
    let mut capture_error = None;

    let mut meter = Meter::new(cal, cfg);
    let started = Instant::now();
    let mut fatal = None;
    serial::read_loop(&path, args.baud, &stop, |ev| {
        if let Some(c) = &mut capture {
            let now = SystemTime::now();
            let res = match &ev {
                LinkEvent::Bytes(b) => c.record(Kind::Bytes, now, b),
                LinkEvent::Lost(e) => c.record(Kind::Lost, now, e.to_string().as_bytes()),
                LinkEvent::Back { .. } => c.record(Kind::Back, now, &[]),
                LinkEvent::Idle => Ok(()),
            };
            if let Err(e) = res {
                capture_error.get_or_insert(e);
            }
        }
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
        sinks.error.is_none()
            && capture_error.is_none()
            && args.duration.is_none_or(|d| started.elapsed().as_secs_f64() < d)
    })?;
    if let Some(c) = &mut capture {
        c.sync()?;
    }
    if let Some(e) = capture_error {
        return Err(e.into());
    }
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
    let tail = ct_host::replay::readings(&file, cal, cfg, rate, &mut |_| true, &mut |e, wall| sinks.event_at(e, wall))?;
    if let Some(t) = tail {
        eprintln!("warning: {t}");
    }
    sinks.finish()
}

fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s.split_once(['x', 'X']).ok_or_else(|| format!("`{s}` is not WIDTHxHEIGHT"))?;
    let n = |v: &str| v.trim().parse::<u32>().ok().filter(|v| (100..=10_000).contains(v));
    match (n(w), n(h)) {
        (Some(w), Some(h)) => Ok((w, h)),
        _ => Err(format!("`{s}`: width and height must be 100..10000 pixels")),
    }
}

/// A progress bar over the bytes of `file` on stderr; hidden when stderr is not a terminal.
fn progress_bar(file: &std::path::Path, what: &str) -> indicatif::ProgressBar {
    let len = std::fs::metadata(file).map_or(0, |m| m.len());
    let bar = indicatif::ProgressBar::with_draw_target(Some(len), indicatif::ProgressDrawTarget::stderr());
    let style = indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {bytes}/{total_bytes} ({eta} left)")
        .expect("valid template")
        .progress_chars("=> ");
    bar.set_style(style);
    bar.set_message(what.to_string());
    bar
}

/// Updates `bar` at most once per MiB of input (the callback runs per record), and asks the
/// reader to stop once `stop` is set (Ctrl-C).
fn progress_fn<'a>(bar: &'a indicatif::ProgressBar, stop: Option<&'a AtomicBool>) -> impl FnMut(u64) -> bool + 'a {
    let mut last = 0u64;
    move |pos| {
        if pos >= last + (1 << 20) {
            last = pos;
            bar.set_position(pos);
        }
        stop.is_none_or(|s| !s.load(Ordering::Relaxed))
    }
}

#[allow(clippy::too_many_arguments)]
fn plot(
    file: &std::path::Path,
    output: &std::path::Path,
    kind: PlotKind,
    from: f64,
    to: Option<f64>,
    size: (u32, u32),
    rate: Option<f64>,
    est: &EstimateArgs,
) -> Result<()> {
    use ct_host::plot;
    let cfg = est.config()?;
    let cal = est.calibration()?;
    if to.is_some_and(|t| t <= from) {
        bail!("--to must be after --from");
    }
    let columns = size.0 as usize;
    let bar = progress_bar(file, "reading");
    let mut progress = progress_fn(&bar, None);
    let panels = match kind {
        PlotKind::Raw => {
            let to = to.unwrap_or(from + 0.2);
            plot::raw_panels(file, &cal, rate, from, to, columns, &mut progress)?
        }
        PlotKind::Folded => plot::folded_panels(file, &cal, rate, from, to.unwrap_or(f64::MAX), &mut progress)?,
        PlotKind::Trend => {
            plot::trend_panels(file, cal, cfg, rate, from, to.unwrap_or(f64::MAX), columns, &mut progress)?
        }
    };
    bar.finish_and_clear();
    plot::render(output, size, &panels)?;
    eprintln!("wrote {}", output.display());
    Ok(())
}

fn export(
    file: &std::path::Path,
    csv: Option<&std::path::Path>,
    sqlite: Option<&std::path::Path>,
    raw: bool,
    rate: Option<f64>,
    est: &EstimateArgs,
) -> Result<()> {
    use ct_host::export::{RawCsv, ReadingsCsv};
    let cfg = est.config()?;
    let cal = est.calibration()?;
    // Ctrl-C stops reading; what was exported so far is kept (see the end).
    let stop = stop_flag()?;
    let bar = progress_bar(file, "exporting");
    let mut progress = progress_fn(&bar, Some(&stop));
    let interrupted = || stop.load(Ordering::Relaxed);
    let mut error: Option<anyhow::Error> = None;
    let tail = if raw {
        let out = csv.expect("clap: --raw requires --csv");
        let mut w = RawCsv::create(out, cal)?;
        let tail = ct_host::replay::samples(file, rate, &mut progress, &mut |run, clock| match w.run(run, clock) {
            Ok(()) => true,
            Err(e) => {
                error = Some(e.into());
                false
            }
        })?;
        if let Some(e) = error {
            return Err(e);
        }
        bar.finish_and_clear();
        if interrupted() {
            let part = w.keep_partial()?;
            eprintln!("interrupted: the samples so far are in {} ({} is unchanged)", part.display(), out.display());
            return Ok(());
        }
        let rows = w.finish()?;
        eprintln!("wrote {rows} samples to {}", out.display());
        tail
    } else {
        let mut w = csv.map(ReadingsCsv::create).transpose()?;
        let mut db = sqlite.map(SqliteSink::open).transpose()?;
        if let Some(db) = &mut db {
            db.begin()?;
        }
        let mut rows = 0u64;
        let tail = ct_host::replay::readings(file, cal, cfg, rate, &mut progress, &mut |e, wall| {
            let Event::Reading(r) = e else { return };
            if error.is_some() {
                return;
            }
            rows += 1;
            if let Some(w) = &mut w {
                if let Err(e) = w.write(&r, wall) {
                    error = Some(e.into());
                }
            }
            if let Some(db) = &mut db {
                let res = db.write(&r, wall).and_then(|_| {
                    // Commit in batches: progress survives an interruption, and the WAL stays small.
                    if rows.is_multiple_of(10_000) {
                        db.commit()?;
                        db.begin()?;
                    }
                    Ok(())
                });
                if let Err(e) = res {
                    error = Some(e.into());
                }
            }
        })?;
        if let Some(e) = error {
            return Err(e);
        }
        bar.finish_and_clear();
        if let Some(w) = w {
            let out = csv.expect("csv given");
            if interrupted() {
                let part = w.keep_partial()?;
                eprintln!(
                    "interrupted: the readings so far are in {} ({} is unchanged)",
                    part.display(),
                    out.display()
                );
            } else {
                w.finish()?;
                eprintln!("wrote {rows} readings to {}", out.display());
            }
        }
        if let Some(db) = &mut db {
            db.finish()?;
            let (added, skipped) = db.counts();
            eprintln!(
                "{}: added {added} readings, skipped {skipped} already present",
                sqlite.expect("sqlite given").display()
            );
            if interrupted() {
                eprintln!("interrupted: exporting again adds the readings not yet in the database");
            }
        }
        tail
    };
    if let Some(t) = tail {
        eprintln!("warning: {t}");
    }
    Ok(())
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
