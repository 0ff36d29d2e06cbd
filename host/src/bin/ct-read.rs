//! `ct-read`: live readings from an Efergy CT meter (or the built-in virtual device),
//! recording, and offline analysis, plots and exports of recordings.
//!
//! This file only parses and checks arguments and dispatches: each subcommand is a function of
//! `ct_host::cmd`, where it is tested in-process. What is left here is what only a terminal
//! has: Ctrl-C, the progress bar, stdout and stderr.
//!
//! The arguments' doc comments are their `--help` text, shown verbatim: URL forms such as
//! `mqtt://[user:password@]host[:port]` are written as a user types them, not as rustdoc
//! links, and `emon/ID/<key>` is not an HTML tag: hence the allowance below.
#![allow(rustdoc::broken_intra_doc_links, rustdoc::invalid_html_tags)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use ct_host::calibration::Calibration;
use ct_host::cmd::export::ExportTo;
use ct_host::cmd::virtual_device::{SimProfile, Simulation};
use ct_host::cmd::{analyze, calibrate, doctor, energy, export, live, plot, virtual_device};
use ct_host::estimate::EstimatorConfig;
use ct_host::notice::Notice;
use ct_host::plot::PlotKind;
use ct_host::sim::{Faults, Load, Shape};
use ct_host::sink::influx::InfluxConfig;
use ct_host::sink::log::{LogStyle, Priority};
use ct_host::sink::mqtt::{BrokerUrl, MqttConfig, MqttSink};
use ct_host::sink::prometheus::PrometheusSink;
use ct_host::sink::remote::{RemoteConfig, RemoteError};
use ct_host::sink::spool::{self, Spool};
use ct_host::sink::systemd::SystemdSink;
use ct_host::sink::{Outputs, ReadingSink};

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
        live: Box<LiveArgs>,
    },
    /// Compute readings from a capture, a recorded byte stream or a CSV of raw ADC codes.
    Analyze {
        /// A capture (`ct-read record`), a recorded stream (`cat /dev/ttyACM0 > file`) or a CSV:
        /// `code` per line (with --rate) or `t_s,code`.
        file: PathBuf,
        /// Sample rate of a `code`-per-line CSV, in Hz.
        #[arg(long)]
        rate: Option<f64>,
        /// The meter id written in every CSV and database row; default: the one a capture was
        /// recorded under (`ct-read record`), else `unknown`.
        #[arg(long, value_name = "ID", value_parser = parse_node)]
        node: Option<String>,
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
        #[arg(long, required_unless_present_any = ["sqlite", "postgres", "influx"])]
        csv: Option<PathBuf>,
        /// SQLite database to add the readings to (rows it already has are skipped).
        #[arg(long)]
        sqlite: Option<PathBuf>,
        /// The meter id written in every row (as the live meter's --node, so exported and
        /// live rows share one key); default: the one a capture was recorded under (`ct-read
        /// record`), else `unknown`.
        #[arg(long, value_name = "ID", value_parser = parse_node)]
        node: Option<String>,
        #[command(flatten)]
        remote: RemoteArgs,
        /// One row per sample (time, index, code, amps) instead of one per reading.
        #[arg(long, requires = "csv", conflicts_with_all = ["sqlite", "postgres", "influx"])]
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
        #[arg(long = "point", required_unless_present = "resistive", value_name = "FILE|READING=AMPS")]
        points: Vec<ct_host::calibrate::Point>,
        /// A recording of a resistive load of 5-30 A (a kettle, a heater) made with the fast
        /// link (8196.7 Sa/s): its waveform's shape alone gives the clamp's magnetizing
        /// inductance, with no reference meter. With --point as well, the points give the gain.
        #[arg(long, value_name = "FILE")]
        resistive: Option<PathBuf>,
        /// Where to write the new table (replaced atomically).
        #[arg(short, long)]
        output: PathBuf,
        /// Sample rate of `code`-per-line CSV recordings, in Hz.
        #[arg(long)]
        rate: Option<f64>,
        #[command(flatten)]
        est: EstimateArgs,
    },
    /// Show the lifetime energy a state file (--state) holds, or set it: a new meter, a total
    /// carried over from another, a reset. Stop any ct-read using the file first.
    Energy {
        /// The state file.
        #[arg(long)]
        state: PathBuf,
        /// Replace the total with this many kWh (0 resets it).
        #[arg(long, value_name = "KWH", value_parser = parse_kwh)]
        set: Option<f64>,
    },
    /// Check a set-up once, the clamp installed: the port (permissions, ModemManager, a stable
    /// name), the firmware, its reset cause, the sample clock measured against this host's,
    /// the link's load, overruns and line errors, the zero-current code and noise (with
    /// --no-load), the reference calibration, the mains frequency and clipping; each as
    /// pass/warn/fail with what to do. Exits with failure if a check failed.
    Doctor {
        /// Serial port, best a /dev/serial/by-id/ name.
        #[arg(required_unless_present = "simulate")]
        port: Option<String>,
        /// Check the built-in virtual device instead (with --firmware: the firmware in the
        /// emulator).
        #[arg(long, conflicts_with = "port")]
        simulate: bool,
        /// With --simulate: run this firmware ELF in the MSP430G2553 emulator.
        #[arg(long, requires = "simulate", value_name = "ELF")]
        firmware: Option<PathBuf>,
        /// Line rate (the LaunchPad's back-channel: 9600).
        #[arg(long, default_value_t = 9600, value_parser = clap::value_parser!(u32).range(BAUD_RANGE))]
        baud: u32,
        /// How long to read the device; the clock measurement needs about 75 s to settle.
        #[arg(long, default_value_t = doctor::DEFAULT_DURATION_S, value_parser = parse_duration)]
        duration: f64,
        /// The clamp is off the cable (or the load is off): check the zero-current code and
        /// the noise.
        #[arg(long)]
        no_load: bool,
        #[command(flatten)]
        est: EstimateArgs,
        #[command(flatten)]
        sim: SimArgs,
    },
    /// Run only the virtual device, publishing its pseudo-terminal at a path (for testing a
    /// logging set-up without hardware).
    VirtualDevice {
        /// Where to create the symlink to the pseudo-terminal.
        #[arg(long)]
        link: PathBuf,
        /// Stop after this many seconds.
        #[arg(long, allow_negative_numbers = true, value_parser = parse_duration)]
        duration: Option<f64>,
        #[command(flatten)]
        sim: SimArgs,
    },
}

#[derive(Args)]
struct LiveArgs {
    /// Serial port, e.g. /dev/ttyACM0.
    port: Option<String>,
    /// Take options from this TOML file: `key = value` per line, the keys being the long
    /// options without `--` (`port` for the port); options on the command line win
    /// (packaging/ct-read.toml is an example).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
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
    #[arg(long, default_value_t = 9600, value_parser = clap::value_parser!(u32).range(BAUD_RANGE))]
    baud: u32,
    /// Stop after this many seconds (default: run until Ctrl-C).
    #[arg(long, allow_negative_numbers = true, value_parser = parse_duration)]
    duration: Option<f64>,
    /// Keep the lifetime energy in this file across restarts (under systemd, in its
    /// StateDirectory): read at the start, written at most every --save-interval (a minute) and
    /// on exit.
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
    /// How often, at most, the lifetime energy is written to the --state file while readings
    /// arrive, in seconds: a `kill -9` or a power cut loses at most this much energy (an SD
    /// card wears with every write).
    #[arg(long, value_name = "SECONDS", default_value = "60", value_parser = parse_duration, requires = "state")]
    save_interval: f64,
    /// For services: no reading lines on stdout (unless --json), and only warnings and errors
    /// on stderr.
    #[arg(long, short)]
    quiet: bool,
    /// Serve Prometheus metrics at http://ADDR:PORT/metrics (e.g. 127.0.0.1:9464, or
    /// 0.0.0.0:9464 for other machines).
    #[arg(long, value_name = "ADDR:PORT")]
    prometheus: Option<String>,
    /// Publish readings to this MQTT broker, with Home Assistant discovery:
    /// mqtt://[user:password@]host[:port] (port 1883), or mqtts://... for TLS (port 8883,
    /// the system's CA certificates). Topics ct-read/ID/status and ct-read/ID/state.
    #[arg(long, value_name = "URL")]
    mqtt: Option<String>,
    /// With an mqtts:// broker: trust the CA certificates in this PEM file (a broker with its
    /// own CA) instead of the system's.
    #[arg(long, value_name = "FILE", requires = "mqtt")]
    mqtt_ca: Option<PathBuf>,
    /// Home Assistant's MQTT discovery prefix.
    #[arg(long, value_name = "PREFIX", default_value = "homeassistant", requires = "mqtt")]
    mqtt_discovery_prefix: String,
    /// Also publish emonhub's layout, emon/ID/<key> as plain numbers (not retained), for
    /// emonhub/Emoncms set-ups.
    #[arg(long, requires = "mqtt")]
    mqtt_emon: bool,
    /// The meter's id in metric labels and MQTT topics (letters, digits, `_`, `-`); default:
    /// `virtual` for the virtual device, else the USB serial number of the port's device, else
    /// the port's name.
    #[arg(long, visible_alias = "mqtt-node", value_name = "ID", value_parser = parse_node)]
    node: Option<String>,
    #[command(flatten)]
    remote: RemoteArgs,
    /// The spool of --postgres/--influx: every reading is committed here first and kept until
    /// each database has it (default: spool.db beside --state, else in $STATE_DIRECTORY, else
    /// ~/.local/state/ct-read).
    #[arg(long, value_name = "FILE")]
    spool: Option<PathBuf>,
    /// The most readings the spool keeps while a database is down; past it the oldest are
    /// dropped, with a warning.
    #[arg(long, value_name = "N", default_value_t = ct_host::sink::spool::MAX_ROWS,
          value_parser = clap::value_parser!(u64).range(1..))]
    spool_max_rows: u64,
    #[command(flatten)]
    est: EstimateArgs,
    #[command(flatten)]
    out: OutputArgs,
    #[command(flatten)]
    sim: SimArgs,
}

/// The remote databases of live reading and `export`.
#[derive(Args)]
struct RemoteArgs {
    /// Send readings to this PostgreSQL database (table `readings`, created or upgraded):
    /// postgres://user[:password]@host[:port]/database.
    #[arg(long, value_name = "URL")]
    postgres: Option<String>,
    /// Send readings to InfluxDB as line protocol: http://HOST:8086/write?db=DB (1.x) or
    /// http://HOST:8086/api/v2/write?org=ORG&bucket=BUCKET (2.x, with a token).
    #[arg(long, value_name = "URL")]
    influx: Option<String>,
    /// The InfluxDB token (2.x; for 1.x, USER:PASSWORD). Better given in the environment,
    /// which `ps` does not show.
    #[arg(long, env = "INFLUX_TOKEN", hide_env_values = true, value_name = "TOKEN")]
    influx_token: Option<String>,
}

impl RemoteArgs {
    fn configs(&self) -> Result<Vec<RemoteConfig>> {
        let mut out = Vec::new();
        if let Some(url) = &self.postgres {
            out.push(RemoteConfig::Postgres { url: url.clone() });
        }
        if let Some(url) = &self.influx {
            out.push(RemoteConfig::Influx(InfluxConfig::parse(url, self.influx_token.clone())?));
        }
        Ok(out)
    }
}

#[derive(Args)]
struct EstimateArgs {
    /// Mains RMS voltage, for power and energy.
    #[arg(long, default_value_t = 230.0, value_parser = parse_volts)]
    volts: f64,
    /// Power factor of the load; without it watts are apparent power (pf 1).
    #[arg(long, value_parser = parse_pf)]
    pf: Option<f64>,
    /// Reading window in seconds (aligned to whole mains cycles inside).
    #[arg(long, default_value_t = 1.0, value_parser = parse_window)]
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
    #[arg(long, value_name = "HENRIES", value_parser = parse_clamp_lm)]
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
    #[arg(long, default_value_t = 1.0)]
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

impl SimArgs {
    fn simulation(&self) -> Result<Simulation> {
        if !(self.sim_amps >= 0.0 && self.sim_hz > 0.0 && self.sim_speed > 0.0) {
            bail!("--sim-amps must be >= 0, --sim-hz and --sim-speed > 0");
        }
        Ok(Simulation {
            load: Load {
                amps: self.sim_amps,
                mains_hz: self.sim_hz,
                shape: self.sim_shape,
                step: self.sim_step_at.zip(self.sim_step_amps),
            },
            profile: self.sim_profile,
            noise_lsb: self.sim_noise,
            faults: Faults {
                garbage_before: self.sim_garbage,
                bit_flip: self.sim_bit_flip,
                byte_drop: self.sim_byte_drop,
            },
            seed: self.sim_seed,
            speed: self.sim_speed,
        })
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

/// The estimation options' ranges, checked as they are parsed: clap then names the option,
/// and a value from a config file is named with its file and line.
fn parse_volts(s: &str) -> Result<f64, String> {
    number(s)
        .filter(|v| *v > 0.0 && *v <= 1000.0)
        .map_err(|v| format!("must be a mains voltage between 0 and 1000 V, got {v}"))
}

fn parse_pf(s: &str) -> Result<f64, String> {
    number(s).filter(|v| (0.0..=1.0).contains(v)).map_err(|v| format!("must be between 0 and 1, got {v}"))
}

fn parse_window(s: &str) -> Result<f64, String> {
    number(s).filter(|v| (0.1..=3600.0).contains(v)).map_err(|v| format!("must be between 0.1 and 3600 s, got {v}"))
}

fn parse_clamp_lm(s: &str) -> Result<f64, String> {
    number(s)
        .filter(|v| (0.05..=100.0).contains(v))
        .map_err(|v| format!("must be a magnetizing inductance between 0.05 and 100 H, got {v}"))
}

/// A number typed as an option's value; what is not a number, or is refused by `filter`, is
/// given back as it is to be shown.
struct Typed(Option<f64>, String);

fn number(s: &str) -> Typed {
    match s.trim().parse::<f64>() {
        Ok(v) => Typed(Some(v), shown(v)),
        Err(_) => Typed(None, format!("`{s}`, not a number")),
    }
}

impl Typed {
    fn filter(self, ok: impl Fn(&f64) -> bool) -> Result<f64, String> {
        match self.0 {
            Some(v) if ok(&v) => Ok(v),
            _ => Err(self.1),
        }
    }
}

impl EstimateArgs {
    fn config(&self) -> Result<EstimatorConfig> {
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

impl OutputArgs {
    /// The outputs, rows written as meter `meter` (else [`ct_host::sink::UNNAMED_METER`]).
    fn outputs(&self, meter: Option<&str>, log: LogStyle) -> Outputs {
        Outputs {
            meter: meter.unwrap_or(ct_host::sink::UNNAMED_METER).to_owned(),
            csv: self.csv.clone(),
            sqlite: self.sqlite.clone(),
            json: self.json,
            log,
        }
    }
}

/// Line rates a serial port can be opened at: from the slowest UART rate in use to above the
/// fastest USB-UART bridges.
const BAUD_RANGE: std::ops::RangeInclusive<i64> = 50..=12_000_000;

/// The longest `--duration`: ten years, far beyond any session, and far inside what a
/// `Duration` holds.
const MAX_DURATION_S: f64 = 10.0 * 365.25 * 86_400.0;

/// A `--duration`: a positive, finite number of seconds.
fn parse_duration(s: &str) -> Result<f64, String> {
    let v: f64 = s.trim().parse().map_err(|_| format!("`{s}` is not a number of seconds"))?;
    if v > 0.0 && v <= MAX_DURATION_S {
        Ok(v)
    } else {
        Err(format!("must be a number of seconds above 0 and at most {MAX_DURATION_S} (ten years), got {}", shown(v)))
    }
}

/// An `energy --set`: a finite number of kWh, not negative.
fn parse_kwh(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("`{s}` is not a number of kWh >= 0")),
    }
}

/// The meter id a capture was recorded under (its first session record's `node`), when it is
/// a capture and the id is one `--node` would take.
fn recorded_node(file: &std::path::Path) -> Option<String> {
    ct_host::capture::session_meta(file)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == "node")
        .and_then(|(_, v)| parse_node(&v).ok())
}

/// A `--node`: what Prometheus labels and MQTT topics can carry unchanged.
fn parse_node(s: &str) -> Result<String, String> {
    if !s.is_empty() && s.len() <= 64 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        Ok(s.to_owned())
    } else {
        Err(format!("`{s}`: use 1 to 64 letters, digits, `_` or `-`"))
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        // `ct-read ... | head`: the reader has all it wanted; ending is not a failure.
        Err(e) if closed_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            // stderr may be what failed: nothing more to tell then, but no panic either.
            LogStyle::detect(false).write(&mut std::io::stderr(), Priority::Error, &format!("Error: {e:?}"));
            ExitCode::FAILURE
        }
    }
}

/// Whether the error is stdout's reader having gone away (told by the I/O error's kind, not
/// its text).
fn closed_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe))
}

fn run() -> Result<()> {
    // Options from --config FILE go in before the command line's, which win.
    let (args, config) = ct_host::config::with_config(&Cli::command(), std::env::args_os().collect())?;
    let matches = Cli::command().try_get_matches_from(args).unwrap_or_else(|e| {
        // A rule between options (one requires another) broken with the config file's options:
        // say where they came from, since the user did not type them all.
        if let Some(file) = config.filter(|_| e.use_stderr()) {
            let _ = e.print();
            eprintln!("note: with the options from {} before the command line's", file.display());
            std::process::exit(e.exit_code());
        }
        e.exit()
    });
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    match cli.command {
        Some(Cmd::Record { output, live: args }) => live(&args, Some(output)),
        Some(Cmd::Analyze { file, rate, node, est, out }) => {
            let node = node.or_else(|| recorded_node(&file));
            let opts = analyze::AnalyzeOptions { file, rate, cfg: est.config()?, cal: est.calibration()? };
            let mut sinks =
                out.outputs(node.as_deref(), LogStyle::detect(false)).open(std::io::stdout(), std::io::stderr())?;
            Ok(analyze::run(&opts, &mut sinks)?)
        }
        Some(Cmd::Plot { file, output, kind, from, to, size, rate, est }) => {
            let opts = plot::PlotOptions {
                cfg: est.config()?,
                cal: est.calibration()?,
                file,
                output,
                kind,
                from,
                to,
                size,
                rate,
            };
            // Session time starts at 0: a negative start is no part of any recording (it once
            // made the raw view stop after 0.2 s and claim the recording was that short).
            if !(from.is_finite() && from >= 0.0) {
                bail!("--from {from}: a time in seconds from the start of the recording (0 or more)");
            }
            if to.is_some_and(|t| t <= from) {
                bail!("--to must be after --from");
            }
            let bar = progress_bar(&opts.file, "reading");
            let res = plot::run(&opts, &mut progress_fn(&bar), &mut |n| bar.suspend(|| log(n)));
            bar.finish_and_clear();
            Ok(res?)
        }
        Some(Cmd::Export { file, csv, sqlite, node, remote, raw, rate, est }) => {
            let to = match (raw, csv) {
                (true, Some(csv)) => ExportTo::Samples { csv },
                (true, None) => unreachable!("clap: --raw requires --csv"),
                (false, csv) => ExportTo::Readings { csv, sqlite, remote: remote.configs()? },
            };
            let meter =
                node.or_else(|| recorded_node(&file)).unwrap_or_else(|| ct_host::sink::UNNAMED_METER.to_owned());
            let opts = export::ExportOptions { to, meter, rate, cfg: est.config()?, cal: est.calibration()?, file };
            // Ctrl-C stops reading; what was exported so far is kept.
            let stop = stop_flag()?;
            let bar = progress_bar(&opts.file, "exporting");
            let res = export::run(&opts, &stop, &mut progress_fn(&bar), &mut |n| bar.suspend(|| log(n)));
            bar.finish_and_clear();
            Ok(res?)
        }
        Some(Cmd::Energy { state, set }) => {
            energy::run(&energy::EnergyOptions { state, set }, &mut std::io::stdout(), &mut log)?;
            Ok(())
        }
        Some(Cmd::VirtualDevice { link, duration, sim }) => {
            let opts = virtual_device::VirtualDeviceOptions { sim: sim.simulation()?, link, duration };
            let stop = stop_flag()?;
            Ok(virtual_device::run(&opts, &stop, &mut log)?)
        }
        Some(Cmd::Doctor { port, simulate: _, firmware, baud, duration, no_load, est, sim }) => {
            let opts = doctor::DoctorOptions {
                port,
                firmware,
                sim: sim.simulation()?,
                baud,
                duration_s: duration,
                no_load,
                cal: est.calibration()?,
                cfg: est.config()?,
            };
            doctor_run(&opts)
        }
        Some(Cmd::Calibrate { points, resistive, output, rate, est }) => {
            let opts = calibrate::CalibrateOptions {
                points,
                resistive,
                output,
                rate,
                cfg: est.config()?,
                base: est.calibration()?,
            };
            calibrate::run(&opts, &mut std::io::stdout(), &mut log)?;
            Ok(())
        }
        None => live(&cli.live, None),
    }
}

fn live(args: &LiveArgs, record: Option<PathBuf>) -> Result<()> {
    let mut opts = live::LiveOptions {
        cfg: args.est.config()?,
        cal: args.est.calibration()?,
        sim: args.sim.simulation()?,
        port: args.port.clone(),
        simulate: args.simulate,
        firmware: args.firmware.clone(),
        baud: args.baud,
        duration: args.duration,
        record,
        state: args.state.clone(),
        save_every: std::time::Duration::from_secs_f64(args.save_interval),
        node: None,
    };
    // Ctrl-C and SIGTERM (a service being stopped) both end the session normally, saving the
    // lifetime energy.
    let stop = stop_flag()?;
    // The meter's one id: MQTT topics, Prometheus labels, and the meter column of every row.
    let node = args.node.clone().unwrap_or_else(|| live::node_id(&opts));
    opts.node = Some(node.clone());
    let mut sinks =
        args.out.outputs(Some(&node), LogStyle::detect(args.quiet)).open(std::io::stdout(), std::io::stderr())?;
    if let Some(path) = &args.config {
        sinks.notice(&Notice::ConfigFile { path: path.clone() });
    }
    // Under systemd (Type=notify): ready with the first reading, the watchdog fed by readings.
    if let Some((systemd, warning)) = SystemdSink::from_env(opts.cfg.window_s) {
        if let Some(w) = warning {
            sinks.notice(&w);
        }
        sinks.push(systemd);
    }
    if let Some(url) = &args.mqtt {
        let mut config = MqttConfig::new(BrokerUrl::parse(url)?, &node);
        config.discovery_prefix = args.mqtt_discovery_prefix.clone();
        config.emon = args.mqtt_emon;
        config.ca = args.mqtt_ca.clone();
        config.window_s = opts.cfg.window_s;
        config.pf_given = opts.cfg.pf.is_some();
        sinks.notice(&Notice::Mqtt { broker: config.broker.display(), node: config.node.clone() });
        sinks.push(MqttSink::start(config, log)?);
    }
    if let Some(addr) = &args.prometheus {
        let prom = PrometheusSink::start(addr, &node, opts.cfg.volts)?;
        sinks.notice(&Notice::ServingMetrics { addr: prom.local_addr() });
        sinks.push(prom);
    }
    let remote = args.remote.configs()?;
    if !remote.is_empty() {
        let path = match &args.spool {
            Some(p) => p.clone(),
            None => spool::default_path(args.state.as_deref())?,
        };
        let mut remotes = Vec::new();
        for c in &remote {
            let mut r = c.remote(&node)?;
            // A database that refuses for good (a newer schema) stops the start; one that is
            // down is waited for, readings kept in the spool.
            if let Err(RemoteError::Fatal(e)) = r.open() {
                return Err(anyhow::Error::from(RemoteError::Fatal(e)));
            }
            remotes.push(r);
        }
        let limits = spool::Limits { max_rows: args.spool_max_rows, ..spool::Limits::default() };
        sinks.push(Spool::open(&path, &node, limits, remotes, log)?);
    }
    Ok(live::run(&opts, &mut sinks, &stop)?)
}

/// `ct-read doctor`: a progress bar over the run's seconds on stderr (with the clock estimate
/// so far), then the report on stdout.
fn doctor_run(opts: &doctor::DoctorOptions) -> Result<()> {
    if opts.no_load {
        eprintln!("The clamp must be off the cable (or the load switched off) for the whole run.");
    } else {
        eprintln!("A load of 1 A or more on the clamped cable shows the mains frequency; --no-load checks the zero.");
    }
    let stop = stop_flag()?;
    let bar =
        indicatif::ProgressBar::with_draw_target(Some(opts.duration_s as u64), indicatif::ProgressDrawTarget::stderr());
    bar.set_style(
        indicatif::ProgressStyle::with_template("checking [{bar:40}] {pos}/{len} s  {msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let report = doctor::run(opts, &stop, &mut |p| {
        bar.set_position(p.elapsed_s as u64);
        bar.set_message(match p.clock {
            Some(c) => format!("clock {:+.0} ± {:.0} ppm, {} readings", c.ppm, c.bound_ppm, p.readings),
            None => format!("{} readings", p.readings),
        });
    });
    bar.finish_and_clear();
    let report = report?;
    print!("{report}");
    let failed = report.checks.iter().filter(|c| c.status == doctor::Status::Fail).count();
    if failed > 0 {
        bail!("{failed} check(s) failed");
    }
    Ok(())
}

/// Notices of the commands without reading sinks, one line each on stderr (a stderr that
/// cannot be written to loses them, rather than aborting the command).
fn log(n: &Notice) {
    LogStyle::detect(false).write(&mut std::io::stderr(), n.level().into(), &n.to_string());
}

fn stop_flag() -> Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    let s = stop.clone();
    ctrlc::set_handler(move || s.store(true, Ordering::Relaxed)).context("installing the Ctrl-C handler")?;
    Ok(stop)
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
fn progress_bar(file: &Path, what: &str) -> indicatif::ProgressBar {
    let len = std::fs::metadata(file).map_or(0, |m| m.len());
    let bar = indicatif::ProgressBar::with_draw_target(Some(len), indicatif::ProgressDrawTarget::stderr());
    let style = indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {bytes}/{total_bytes} ({eta} left)")
        .expect("valid template")
        .progress_chars("=> ");
    bar.set_style(style);
    bar.set_message(what.to_string());
    bar
}

/// Updates `bar` at most once per MiB of input (the commands tell progress per record).
fn progress_fn(bar: &indicatif::ProgressBar) -> impl FnMut(u64) + '_ {
    let mut last = 0u64;
    move |pos| {
        if pos >= last + (1 << 20) {
            last = pos;
            bar.set_position(pos);
        }
    }
}
