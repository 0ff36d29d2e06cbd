//! `ct-sim`: the meter without hardware. The built-in virtual device (a simulated load, the
//! sensor, and the firmware's framing) and the bridge that runs the real firmware ELF in the
//! MSP430G2553 emulator, both behind a real pseudo-terminal.
//!
//! A load waveform (sine, switch-mode supply, phase-cut dimmer, optionally stepping) is turned
//! into the ADC-input voltage by the clamp's dynamic model ([`ct_core::clamp_model::CtModel`],
//! validated against the SPICE goldens: magnetising inductance, diode network, interface),
//! in its periodic steady state at each load level (the few-cycle transient after a step is
//! not modelled), quantised with ADC noise, and framed exactly as the firmware frames it:
//! same wire crate, same frame size, same Info/Status cadence. The bytes leave
//! through a pty at no more than the profile's line rate, and `ct-read` reads them through the
//! same serial-port code as hardware. [`PtyDevice::start_firmware`] puts the emulated firmware
//! (`ct_emu::fil::Session`) behind the same pty instead.
//!
//! # Why a crate of its own
//!
//! Rather than a module of `ct-host` behind a feature: the firmware-in-the-loop tests need the
//! emulator, the virtual device and the host's meter together. Here they reach all three
//! (`ct-emu`, this crate, `ct-core`) without a dependency cycle and without building
//! `ct-host`'s CLI, SQLite or plotting; before, `ct-emu`'s tests depended on `ct-host`, which
//! depended on `ct-emu`. Those tests (`sim/tests/firmware.rs`) and the firmware figures bench
//! live here. `ct-host` re-exports this crate as `ct_host::sim` behind its `sim` feature
//! (default-on, so `ct-read --simulate` works out of the box); with the feature off, `ct-host`
//! depends on neither `ct-emu` nor `ct-firmware-logic`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ct_wire::cadence::{Cadence, Due};
use ct_wire::command::{Command, CommandReceiver, KEEPALIVE_TIMEOUT_S};
use ct_wire::frame::{self, Frame};
use ct_wire::pack::pack4;
use ct_wire::{framing, AdcCal, AdcCalStatus, BuildProfile, Info, ResetCause, Status};

use ct_core::clamp_model::{CtModel, CtParams};
pub use ct_core::load_shape::{unit_shape, Shape};

/// Points per mains cycle of the precomputed ADC-input waveform.
const POINTS_PER_CYCLE: usize = 2048;

/// A firmware build profile: the firmware's own definition (`firmware/logic/src/profile.rs`),
/// so the virtual device samples, frames and describes itself exactly as that build does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DeviceProfile {
    pub firmware: &'static ct_firmware_logic::profile::Profile,
    pub build: BuildProfile,
    pub timer_clock_hz: u32,
    pub ticks_per_sample: u16,
    pub baud: u32,
}

impl DeviceProfile {
    /// 9600 baud through the LaunchPad's back-channel: 1 MHz / 1657 = 603.5 samples/s, a rate
    /// not synchronous with 50 or 60 Hz mains.
    pub const LAUNCHPAD: DeviceProfile = DeviceProfile::of(&ct_firmware_logic::profile::LAUNCHPAD);
    /// An external USB-UART: 1 MHz / 122 = 8196.7 samples/s (not a multiple of 50 or 60 Hz) at
    /// 250000 baud.
    pub const FAST: DeviceProfile = DeviceProfile::of(&ct_firmware_logic::profile::FAST);

    const fn of(p: &'static ct_firmware_logic::profile::Profile) -> Self {
        DeviceProfile {
            firmware: p,
            build: p.build,
            timer_clock_hz: p.timer_clock_hz(),
            ticks_per_sample: p.ticks_per_sample,
            baud: p.baud,
        }
    }

    pub fn sample_rate_hz(&self) -> f64 {
        self.timer_clock_hz as f64 / self.ticks_per_sample as f64
    }
}

/// The simulated load.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Load {
    /// RMS current before any step, A.
    pub amps: f64,
    pub mains_hz: f64,
    pub shape: Shape,
    /// `(time_s, amps)`: the RMS changes to `amps` at `time_s` (at the next zero crossing).
    pub step: Option<(f64, f64)>,
}

impl Load {
    /// Instantaneous current at time `t` seconds.
    pub fn current(&self, t: f64) -> f64 {
        let cycles = t * self.mains_hz;
        let rms = match self.step {
            Some((at, amps)) if cycles.floor() >= (at * self.mains_hz).ceil() => amps,
            _ => self.amps,
        };
        rms * unit_shape(self.shape, cycles.fract())
    }

    /// True RMS current at time `t` (the step's level once it has happened): the reference the
    /// readings are checked against, from the load definition, not from the sensor path.
    pub fn rms_at(&self, t: f64) -> f64 {
        match self.step {
            Some((at, amps)) if (t * self.mains_hz).floor() >= (at * self.mains_hz).ceil() => amps,
            _ => self.amps,
        }
    }
}

/// One steady-state cycle of the unrounded ADC code for `load`'s shape at `rms` amps, through
/// the clamp `model`.
fn adc_cycle(load: &Load, rms: f64, model: &CtModel) -> Vec<f64> {
    let params = *model.params();
    let i_s: Vec<f64> = (0..POINTS_PER_CYCLE)
        .map(|k| rms * unit_shape(load.shape, k as f64 / POINTS_PER_CYCLE as f64) / params.turns)
        .collect();
    let full_scale = params.adc_full_scale as f64;
    model.steady_state(&i_s, load.mains_hz).v_adc.iter().map(|v| full_scale * v / params.adc_ref_v).collect()
}

/// A small deterministic PRNG (xorshift64*) for ADC noise and deliberate faults: the
/// simulation must be repeatable in tests.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform in `0..n` (0 when `n` is 0): which byte, frame or bit a fault hits.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
    /// Standard normal (Box-Muller).
    pub fn normal(&mut self) -> f64 {
        let u = self.uniform().max(1e-300);
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * self.uniform()).cos()
    }
}

/// How a host reads a device through a USB-serial bridge (the LaunchPad's debugger, an FTDI
/// cable), as the clock-measurement tests model it: the host polls every 1-20 ms and a read
/// returns what the bridge had forwarded, which is what the device sent up to 0-20 ms before
/// (USB frames, bursty: a burst held back comes with the next), never less than the read
/// before. Times are true (host) seconds; repeatable for a seed.
#[derive(Debug, Clone)]
pub struct UsbLink {
    rng: Rng,
    t: f64,
    sent_until: f64,
}

impl UsbLink {
    /// A host that opens the port at `open_s`.
    pub fn new(seed: u64, open_s: f64) -> Self {
        UsbLink { rng: Rng::new(seed), t: open_s, sent_until: open_s }
    }

    /// When the last read returned.
    pub fn now_s(&self) -> f64 {
        self.t
    }

    /// The next read: when it returns, and up to when the device's bytes have reached it.
    pub fn next_read(&mut self) -> (f64, f64) {
        self.t += 0.001 + 0.019 * self.rng.uniform();
        self.sent_until = self.sent_until.max(self.t - 0.020 * self.rng.uniform());
        (self.t, self.sent_until)
    }
}

/// The emulated firmware read as `ct-read` reads a board through a USB-serial bridge
/// ([`UsbLink`]): the host opens the port now (the session's time, true seconds since power-up),
/// sends [`ct_emu::fil::host_start`] and a KeepAlive every `KEEPALIVE_INTERVAL_MS` (wire/SPEC.md: the
/// firmware streams only while asked), and reads until `until_s`. Chunks are stamped (Unix ns)
/// `t0_ns` plus the true time of their read.
pub fn emulated_usb_chunks(
    s: &mut ct_emu::fil::Session,
    until_s: f64,
    t0_ns: i64,
    seed: u64,
) -> Result<Vec<(i64, Vec<u8>)>, ct_emu::EmuError> {
    use ct_emu::fil;
    let open_s = s.emu.seconds();
    let mut link = UsbLink::new(seed, open_s);
    let every = ct_wire::command::KEEPALIVE_INTERVAL_MS as f64 / 1000.0;
    s.send(&fil::host_start());
    let mut next_ask = open_s + every;
    let mut chunks = Vec::new();
    while link.now_s() < until_s {
        let (t, sent_until) = link.next_read();
        if t >= next_ask {
            s.send(Command::KeepAlive.line());
            next_ask += every;
        }
        let ahead = sent_until - s.emu.seconds();
        let bytes = if ahead > 0.0 { s.advance(ahead)? } else { Vec::new() };
        if !bytes.is_empty() {
            chunks.push((t0_ns + (t * 1e9) as i64, bytes));
        }
    }
    Ok(chunks)
}

/// Deliberate line faults, for testing that corruption never produces a wrong reading.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Faults {
    /// Random bytes sent before the first frame.
    pub garbage_before: usize,
    /// Probability per frame of flipping one random bit in it.
    pub bit_flip: f64,
    /// Probability per frame of dropping one random byte from it.
    pub byte_drop: f64,
}

/// Whether the virtual device streams (as the firmware's `app::Streamer`).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Link {
    /// Streams from power-up, as if a host had asked before the first frame: the offline
    /// streams (`stream`, `chunks`) that stand for a recording.
    Always,
    /// Silent until a host's message ([`VirtualDevice::on_request`]).
    NeverStarted,
    Stopped,
    /// Samples since the host's last message.
    Streaming(u64),
}

/// The virtual sensor and firmware: produces the byte stream a device would send.
pub struct VirtualDevice {
    profile: DeviceProfile,
    load: Load,
    /// The highest code the ADC can give (codes are clamped to it, as the converter does).
    full_scale_code: u16,
    /// One cycle of the ADC code (unrounded) before and after the load step.
    cycle_before: Vec<f64>,
    cycle_after: Vec<f64>,
    noise_lsb: f64,
    faults: Faults,
    rng: Rng,
    cadence: Cadence,
    spf: usize,
    /// Conversions since power-up (the time base of the waveform).
    next_index: u64,
    /// The conversion the wire index counts from (the first start, as the firmware).
    index_base: u64,
    codes: Vec<u16>,
    booted: bool,
    /// The sample clock's relative error: samples are taken at the nominal rate times
    /// `1 + clock_error` of true (host) time, as by a DCO that far off ([`Self::with_clock_error`]).
    clock_error: f64,
    /// The 2.5 V reference's relative error ([`Self::with_reference_error`]).
    vref_error: f64,
    /// What the firmware's TLV check found ([`Self::with_adc_cal_status`]).
    adc_cal_status: AdcCalStatus,
    link: Link,
    rx: CommandReceiver,
    /// What the Info frame states, where a fault knob changed it (`None`: the profile's).
    protocol_version: Option<u8>,
    reset_cause: ResetCause,
    /// Samples the device drops (overruns) before each Status frame, and its counter.
    overrun_per_status: u32,
    dropped_total: u32,
}

impl VirtualDevice {
    /// `full_scale_code` is the ADC's top code, the only thing the device needs from a
    /// calibration table: its codes are clamped there, as the converter's are.
    pub fn new(
        profile: DeviceProfile,
        load: Load,
        full_scale_code: u16,
        noise_lsb: f64,
        faults: Faults,
        seed: u64,
    ) -> Self {
        VirtualDevice {
            profile,
            load,
            cycle_before: adc_cycle(&load, load.amps, CtModel::builtin()),
            cycle_after: adc_cycle(&load, load.step.map_or(load.amps, |s| s.1), CtModel::builtin()),
            full_scale_code,
            noise_lsb,
            faults,
            rng: Rng::new(seed),
            cadence: Cadence::new(profile.sample_rate_hz() as u32),
            spf: ct_wire::DEFAULT_SAMPLES_PER_FRAME,
            next_index: 0,
            index_base: 0,
            codes: Vec::with_capacity(ct_wire::DEFAULT_SAMPLES_PER_FRAME),
            booted: false,
            clock_error: 0.0,
            vref_error: 0.0,
            adc_cal_status: AdcCalStatus::Valid,
            link: Link::Always,
            rx: CommandReceiver::new(),
            protocol_version: None,
            reset_cause: ResetCause::PowerOn,
            overrun_per_status: 0,
            dropped_total: 0,
        }
    }

    /// The same device with the interface biased at `vbias` volts instead of the model's
    /// 0.8 V: a drifted bias, which moves the no-current code (by about 0.24 codes per mV,
    /// `ct_core::zero`) and the whole waveform with it. A bias the clamp model rejects is
    /// its error.
    pub fn with_bias(mut self, vbias: f64) -> Result<Self, ct_core::clamp_model::ModelError> {
        let model = CtModel::new(CtParams { vbias, ..CtParams::default() })?;
        self.cycle_before = adc_cycle(&self.load, self.load.amps, &model);
        self.cycle_after = adc_cycle(&self.load, self.load.step.map_or(self.load.amps, |s| s.1), &model);
        Ok(self)
    }

    /// The same device stating wire protocol `version` in its Info frame (an old or newer
    /// firmware); its frames are otherwise unchanged.
    pub fn with_protocol_version(mut self, version: u8) -> Self {
        self.protocol_version = Some(version);
        self
    }

    /// The same device reporting `cause` as its last reset (a watchdog reset: the firmware's
    /// main loop stalled).
    pub fn with_reset_cause(mut self, cause: ResetCause) -> Self {
        self.reset_cause = cause;
        self
    }

    /// The same device overrunning: after each Status frame its queue drops `samples`
    /// conversions (their indices are never sent) and its overrun counter, which the next
    /// Status frame reports, grows by as many, as the firmware's sampler does when the UART
    /// falls behind.
    pub fn with_overruns(mut self, samples: u32) -> Self {
        self.overrun_per_status = samples;
        self
    }

    /// The same device with its sample clock `error` off (0.03: 3 % fast), as a real board's
    /// DCO is (±3-6 %, MSP430G2553 data sheet): its Info frame still states the nominal rate,
    /// its samples are taken at the true one, and the load is sampled in true time.
    pub fn with_clock_error(mut self, error: f64) -> Self {
        self.clock_error = error;
        self
    }

    /// The same device with its 2.5 V reference `error` off (0.02: 2 % high), as a real
    /// G2553's is by a few percent: its codes are the true ones divided by `1 + error` (a
    /// higher reference reads every voltage lower), and its ADC calibration frame carries the
    /// factory's measurement of it, CAL_ADC_25VREF_FACTOR = round((1 + error) x 2^15).
    pub fn with_reference_error(mut self, error: f64) -> Self {
        self.vref_error = error;
        self
    }

    /// The same device with a TLV segment the firmware found `status` (erased, a bad
    /// checksum, ...): its calibration frame says so and the host must not apply it.
    pub fn with_adc_cal_status(mut self, status: AdcCalStatus) -> Self {
        self.adc_cal_status = status;
        self
    }

    /// The ADC calibration frame this device sends after every Info frame (protocol 2): the
    /// reference as measured ([`Self::with_reference_error`]), an ideal gain and offset, and
    /// the TLV check's outcome ([`Self::with_adc_cal_status`], good by default).
    pub fn adc_cal(&self) -> AdcCal {
        AdcCal {
            status: self.adc_cal_status,
            gain_factor: 0x8000,
            offset: 0,
            vref25_factor: (32768.0 * (1.0 + self.vref_error)).round() as u16,
        }
    }

    /// Samples per second of true (host) time.
    pub fn true_rate_hz(&self) -> f64 {
        self.profile.sample_rate_hz() * (1.0 + self.clock_error)
    }

    /// As the firmware behind a port: silent until the host asks (a Start or KeepAlive
    /// message, [`VirtualDevice::receive`]), streaming until it has been silent for
    /// `KEEPALIVE_TIMEOUT_S` of samples (wire/SPEC.md, "Host -> device messages"). Without
    /// this the device streams from power-up, as a recording does.
    pub fn on_request(mut self) -> Self {
        self.link = Link::NeverStarted;
        self
    }

    /// Bytes from the host; a message among them is acted on at the next frame boundary, as
    /// the firmware does.
    pub fn receive(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.rx.receive(b);
        }
    }

    /// Whether the device is streaming now.
    pub fn streaming(&self) -> bool {
        matches!(self.link, Link::Always | Link::Streaming(_))
    }

    pub fn profile(&self) -> DeviceProfile {
        self.profile
    }

    /// The firmware's Info frame for this profile after a power-on reset, flagged as coming
    /// from the virtual device.
    pub fn info(&self) -> Info {
        let info = self.profile.firmware.info(self.reset_cause);
        Info {
            flags: info.flags | frame::INFO_FLAG_VIRTUAL,
            protocol_version: self.protocol_version.unwrap_or(info.protocol_version),
            ..info
        }
    }

    /// The ADC-input voltage in mV of the load at time `t` (sensor model plus the ADC noise as
    /// a voltage), for the emulated firmware (`ct-read --simulate --firmware`), which samples
    /// and quantises it itself.
    pub fn adc_millivolts(&self) -> impl FnMut(f64) -> f64 + Send + 'static {
        let (before, after, load) = (self.cycle_before.clone(), self.cycle_after.clone(), self.load);
        // The inverse of `adc_cycle`'s volts-to-code scaling.
        let params = CtParams::default();
        let mv_per_code = 1000.0 * params.adc_ref_v / params.adc_full_scale as f64;
        let (noise, mut rng) = (self.noise_lsb, self.rng.clone());
        move |t| {
            let cycle = if load.rms_at(t) == load.amps { &before } else { &after };
            let x = (t * load.mains_hz).fract() * POINTS_PER_CYCLE as f64;
            let i = x as usize % POINTS_PER_CYCLE;
            let (a, b) = (cycle[i], cycle[(i + 1) % POINTS_PER_CYCLE]);
            (a + (b - a) * x.fract() + noise * rng.normal()) * mv_per_code
        }
    }

    /// The ADC code for the load at time `t`: the model's steady-state cycle at the load
    /// level in force, interpolated, plus noise, rounded.
    fn sample(&mut self, t: f64) -> u16 {
        let cycle = if self.load.rms_at(t) == self.load.amps { &self.cycle_before } else { &self.cycle_after };
        let x = (t * self.load.mains_hz).fract() * POINTS_PER_CYCLE as f64;
        let i = x as usize % POINTS_PER_CYCLE;
        let (a, b) = (cycle[i], cycle[(i + 1) % POINTS_PER_CYCLE]);
        let code = (a + (b - a) * x.fract()) / (1.0 + self.vref_error) + self.noise_lsb * self.rng.normal();
        code.round().clamp(0.0, self.full_scale_code as f64) as u16
    }

    /// A device as the tests and benches use it: a 10-bit ADC (full scale 1023), 0.3 LSB of
    /// noise, no faults.
    pub fn clean(profile: DeviceProfile, load: Load, seed: u64) -> Self {
        let full_scale = ct_core::clamp_model::CtParams::default().adc_full_scale;
        VirtualDevice::new(profile, load, full_scale, 0.3, Faults::default(), seed)
    }

    /// The byte stream of the first `seconds` of samples, as `cat /dev/ttyACM0 > file` saves it.
    pub fn stream(&mut self, seconds: f64) -> Vec<u8> {
        let mut out = Vec::new();
        self.run_until((seconds * self.profile.sample_rate_hz()) as u64, &mut out);
        out
    }

    /// The first `seconds` as a real recording would have received them: one chunk of bytes
    /// per 50 ms, stamped (Unix ns) when its last sample was taken, from `t0_ns`, plus 3 ms of
    /// latency: the records of a synthetic capture.
    pub fn chunks(&mut self, seconds: f64, t0_ns: i64) -> Vec<(i64, Vec<u8>)> {
        let rate = self.true_rate_hz();
        let mut chunks = Vec::new();
        let mut t = 0.05;
        while t <= seconds + 1e-9 {
            let mut buf = Vec::new();
            self.run_until((t * rate) as u64, &mut buf);
            chunks.push((t0_ns + (t * 1e9) as i64 + 3_000_000, buf));
            t += 0.05;
        }
        chunks
    }

    /// The first `seconds` (true time) as a host reads them through a USB-serial bridge
    /// ([`UsbLink`]); a poll that finds nothing returns no chunk. Chunks are stamped (Unix ns)
    /// from `t0_ns` when the read returned. Repeatable for a `seed`.
    pub fn usb_chunks(&mut self, seconds: f64, t0_ns: i64, seed: u64) -> Vec<(i64, Vec<u8>)> {
        let mut link = UsbLink::new(seed, 0.0);
        let rate = self.true_rate_hz();
        let mut chunks = Vec::new();
        while link.now_s() <= seconds {
            let (t, sent_until) = link.next_read();
            let mut buf = Vec::new();
            self.run_until((sent_until * rate) as u64, &mut buf);
            if !buf.is_empty() {
                chunks.push((t0_ns + (t * 1e9) as i64, buf));
            }
        }
        chunks
    }

    /// Appends to `out` every frame completed by the samples taken up to `until_sample`.
    pub fn run_until(&mut self, until_sample: u64, out: &mut Vec<u8>) {
        if !self.booted && self.link == Link::Always {
            self.booted = true;
            self.start(true, out);
        }
        let rate = self.profile.sample_rate_hz();
        let true_rate = self.true_rate_hz();
        let timeout = KEEPALIVE_TIMEOUT_S as u64 * self.profile.firmware.sample_rate_floor() as u64;
        while self.next_index + (self.spf - self.codes.len()) as u64 <= until_sample {
            while self.codes.len() < self.spf {
                let t = (self.next_index + self.codes.len() as u64) as f64 / true_rate;
                let c = self.sample(t);
                self.codes.push(c);
            }
            let first = self.next_index;
            self.next_index += self.spf as u64;
            let since_host = match self.link {
                Link::Always => None,
                Link::Streaming(n) => Some(n),
                Link::NeverStarted | Link::Stopped => {
                    // Idle: the frame is dropped; a message starts the stream.
                    self.codes.clear();
                    if self.rx.take().is_some() {
                        let first_start = self.link == Link::NeverStarted;
                        if first_start {
                            // The wire index counts from the next conversion, as the
                            // firmware's does from its first start.
                            self.index_base = self.next_index;
                        }
                        self.link = Link::Streaming(0);
                        self.start(first_start, out);
                    }
                    continue;
                }
            };
            let packed: Vec<u8> = self.codes.chunks_exact(4).flat_map(|c| pack4([c[0], c[1], c[2], c[3]])).collect();
            let samples = ct_wire::Samples { first_index: (first - self.index_base) as u32, packed: &packed };
            self.emit(&Frame::Samples(samples), out);
            self.codes.clear();
            let mut due = self.cadence.after_samples(self.spf as u32);
            if let Some(n) = since_host {
                let message = self.rx.take();
                let n = if message.is_some() { 0 } else { n + self.spf as u64 };
                self.link = if n >= timeout { Link::Stopped } else { Link::Streaming(n) };
                if message == Some(Command::Start) {
                    self.cadence = Cadence::new(rate as u32);
                    due = Due::Info;
                }
            }
            match due {
                Due::Info => self.emit_info(out),
                Due::Status => {
                    let status = Status {
                        dropped_total: self.dropped_total,
                        queue_high_water: 1,
                        queue_capacity: ct_firmware_logic::sampler::QUEUE_CAPACITY,
                        uptime_s: ((self.next_index - self.index_base) as f64 / rate) as u32,
                    };
                    self.emit(&Frame::Status(status), out);
                    // The overrun fault: conversions dropped before the next frame, counted in
                    // the next Status.
                    self.dropped_total = self.dropped_total.wrapping_add(self.overrun_per_status);
                    self.next_index += u64::from(self.overrun_per_status);
                }
                Due::Nothing => {}
            }
        }
    }

    /// Starts the stream: the garbage fault (once), then (first start since power-up) a lone
    /// delimiter, so a receiver drops any partial frame it holds from before a reset, then
    /// the Info frame; the Info/Status schedule starts over.
    fn start(&mut self, first: bool, out: &mut Vec<u8>) {
        if first {
            for _ in 0..self.faults.garbage_before {
                out.push(self.rng.next_u64() as u8);
            }
            out.push(framing::DELIMITER);
        }
        self.cadence = Cadence::new(self.profile.sample_rate_hz() as u32);
        self.emit_info(out);
    }

    /// The Info frame, then the ADC calibration frame (protocol version 2), as the firmware.
    fn emit_info(&mut self, out: &mut Vec<u8>) {
        let info = self.info();
        self.emit(&Frame::Info(info), out);
        // A version 1 firmware had no calibration frame.
        if info.protocol_version >= 2 {
            let cal = self.adc_cal();
            self.emit(&Frame::AdcCal(cal), out);
        }
    }

    fn emit(&mut self, frame: &Frame, out: &mut Vec<u8>) {
        let start = out.len();
        out.resize(start + ct_wire::MAX_ENCODED_FRAME, 0);
        let m = framing::encode_frame(frame, &mut out[start..]).expect("every frame fits MAX_ENCODED_FRAME");
        out.truncate(start + m);
        let body = m - 1; // never corrupt the delimiter itself
        if self.rng.uniform() < self.faults.bit_flip {
            let i = start + (self.rng.next_u64() as usize) % body;
            out[i] ^= 1 << (self.rng.next_u64() % 8);
        }
        if self.rng.uniform() < self.faults.byte_drop {
            let i = start + (self.rng.next_u64() as usize) % body;
            out.remove(i);
        }
    }
}

/// A virtual device running in a thread behind a pseudo-terminal.
pub struct PtyDevice {
    path: PathBuf,
    /// Held open so that bytes sent before the reader opens the port wait in the pty's buffer
    /// (as they would in a USB-serial adapter's), instead of being discarded.
    _slave: serialport::TTYPort,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl PtyDevice {
    /// Starts the device; `speed` > 1 runs the simulated clock faster than real time (tests);
    /// `link` additionally publishes the pty under a stable path (a symlink), as udev does.
    /// Like the firmware, it is silent until the reader asks (ct-wire `command`, which
    /// `ct-read` sends) and stops when the reader stops asking.
    pub fn start(dev: VirtualDevice, speed: f64, link: Option<&Path>) -> std::io::Result<Self> {
        let rate = dev.true_rate_hz();
        let mut dev = dev.on_request();
        Self::start_with(
            move |now, host, buf| {
                dev.receive(host);
                dev.run_until((now * rate) as u64, buf);
                true
            },
            speed,
            link,
        )
    }

    /// Starts the real firmware ELF in the MSP430G2553 emulator (`ct_emu`) with `session`'s
    /// ADC input; the bytes its UART sends, received at the profile's baud rate, go to the pty,
    /// and the bytes the reader writes go to the firmware's UART receiver.
    /// An emulation error ends the stream with a message.
    pub fn start_firmware(mut session: ct_emu::fil::Session, speed: f64, link: Option<&Path>) -> std::io::Result<Self> {
        Self::start_with(
            move |now, host, buf| {
                if !host.is_empty() {
                    session.send(host);
                }
                let ahead = now - session.emu.seconds();
                if ahead <= 0.0 {
                    return true;
                }
                match session.advance(ahead) {
                    Ok(bytes) => {
                        buf.extend(bytes);
                        true
                    }
                    Err(e) => {
                        eprintln!("emulated firmware stopped: {e}");
                        false
                    }
                }
            },
            speed,
            link,
        )
    }

    /// Runs `produce(simulated seconds, bytes from the reader, bytes to send)` every 10 ms in a
    /// thread and writes what it appends to the pty; `produce` returns false to stop.
    fn start_with(
        mut produce: impl FnMut(f64, &[u8], &mut Vec<u8>) -> bool + Send + 'static,
        speed: f64,
        link: Option<&Path>,
    ) -> std::io::Result<Self> {
        use serialport::SerialPort as _;
        let (mut master, slave) = serialport::TTYPort::pair().map_err(std::io::Error::other)?;
        let pts = slave.name().ok_or_else(|| std::io::Error::other("pty has no name"))?;
        let path = match link {
            Some(link) => {
                let _ = std::fs::remove_file(link);
                std::os::unix::fs::symlink(&pts, link)?;
                link.to_owned()
            }
            None => PathBuf::from(pts),
        };
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let thread = std::thread::spawn(move || {
            use serialport::SerialPort;
            let _ = master.set_timeout(Duration::from_millis(50));
            let start = Instant::now();
            let mut buf = Vec::new();
            let mut host = vec![0u8; 256];
            while !stop2.load(Ordering::Relaxed) {
                let now = start.elapsed().as_secs_f64() * speed;
                let n = match master.bytes_to_read() {
                    Ok(0) | Err(_) => 0,
                    Ok(_) => std::io::Read::read(&mut master, &mut host).unwrap_or(0),
                };
                let more = produce(now, &host[..n], &mut buf);
                if !buf.is_empty() {
                    // Like a UART with nobody listening, bytes the other side does not take
                    // are lost, not queued forever.
                    let _ = master.write_all(&buf);
                    buf.clear();
                }
                if !more {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        });
        Ok(PtyDevice { path, _slave: slave, stop, thread: Some(thread) })
    }

    /// Path to open with the normal serial code.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for PtyDevice {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ct_core::calibration::Calibration;

    /// As the firmware at boot: the garbage (if any), one lone delimiter, then the Info frame.
    #[test]
    fn boot_sends_a_lone_delimiter_then_info() {
        for garbage_before in [0, 5] {
            let load = Load { amps: 1.0, mains_hz: 50.0, shape: Shape::Sine, step: None };
            let faults = Faults { garbage_before, ..Faults::default() };
            let mut dev = VirtualDevice::new(
                DeviceProfile::LAUNCHPAD,
                load,
                Calibration::builtin().full_scale_code(),
                0.3,
                faults,
                1,
            );
            let mut out = Vec::new();
            dev.run_until(0, &mut out);
            let boot = &out[garbage_before..];
            assert_eq!(boot[0], framing::DELIMITER, "lone delimiter first");
            assert_ne!(boot[1], framing::DELIMITER, "only one");
            assert_eq!(boot.iter().filter(|&&b| b == framing::DELIMITER).count(), 3, "then two frames");
            let mut raw = vec![0u8; boot.len()];
            let n = framing::decode(&boot[1..], &mut raw).unwrap();
            assert!(matches!(Frame::parse(&raw[..n]), Ok(Frame::Info(_))));
            let next = boot[1..].iter().position(|&b| b == 0).unwrap() + 2;
            let n = framing::decode(&boot[next..], &mut raw).unwrap();
            assert!(matches!(Frame::parse(&raw[..n]), Ok(Frame::AdcCal(_))), "the ADC calibration after Info");
        }
    }

    /// Behind a port the virtual device behaves as the firmware: silent until asked; the first
    /// start sends a lone delimiter and Info, then Samples from index 0; KEEPALIVE_TIMEOUT_S
    /// of samples after the last message it stops; a later message restarts it with Info
    /// alone and the index running on.
    #[test]
    fn on_request_streams_only_while_asked() {
        use ct_wire::command::{Command, KEEPALIVE_TIMEOUT_S};
        let load = Load { amps: 1.0, mains_hz: 50.0, shape: Shape::Sine, step: None };
        let profile = DeviceProfile::LAUNCHPAD;
        let rate = profile.sample_rate_hz();
        let mut dev = VirtualDevice::clean(profile, load, 1).on_request();
        let at = |s: f64| (s * rate) as u64;
        let mut out = Vec::new();
        dev.run_until(at(3.0), &mut out);
        assert!(out.is_empty() && !dev.streaming(), "silent until asked");
        dev.receive(&[0]);
        dev.receive(Command::Start.line());
        dev.run_until(at(4.0), &mut out);
        assert_eq!(out[0], framing::DELIMITER);
        let parse = |bytes: &[u8]| -> Vec<(u8, u32)> {
            bytes
                .split_inclusive(|&b| b == 0)
                .filter(|f| f.len() > 1)
                .map(|f| {
                    let mut raw = vec![0u8; f.len()];
                    let n = framing::decode(f, &mut raw).unwrap();
                    match Frame::parse(&raw[..n]).unwrap() {
                        Frame::Info(_) => (1, 0),
                        Frame::Samples(s) => (2, s.first_index),
                        Frame::Status(_) => (3, 0),
                        Frame::AdcCal(_) => (4, 0),
                    }
                })
                .collect()
        };
        let frames = parse(&out[1..]);
        assert_eq!(frames[0].0, 1, "Info first");
        assert_eq!(frames[1], (4, 0), "then the ADC calibration");
        assert_eq!(frames[2], (2, 0), "then Samples from index 0");
        let before = frames.iter().filter(|f| f.0 == 2).count();
        // No more messages: the stream stops 5 s of samples after the Start was taken.
        out.clear();
        dev.run_until(at(15.0), &mut out);
        assert!(!dev.streaming());
        let samples = before + parse(&out).iter().filter(|f| f.0 == 2).count();
        let want = (KEEPALIVE_TIMEOUT_S as f64 * rate / 112.0).ceil() as usize;
        assert!(samples.abs_diff(want) <= 1, "{samples} frames after the last message, ~{want} expected");
        let last = parse(&out).iter().rev().find(|f| f.0 == 2).unwrap().1;
        // A KeepAlive restarts it: Info alone, the index ran on.
        out.clear();
        dev.receive(Command::KeepAlive.line());
        dev.run_until(at(17.0), &mut out);
        assert_ne!(out[0], framing::DELIMITER);
        let frames = parse(&out);
        assert_eq!(frames[0].0, 1, "Info first");
        assert_eq!(frames[1].0, 4, "then the ADC calibration");
        assert!(frames[2].0 == 2 && frames[2].1 > last + 112, "index ran on: {:?} after {last}", frames[2]);
    }

    /// A virtual device whose 2.5 V reference is 2 % high reads 2 % low without its
    /// calibration, and right with it: the meter applies the ADC calibration frame. The
    /// uncorrected figure is the same stream with the calibration frames removed.
    #[test]
    fn a_reference_2_percent_high_is_corrected_by_its_calibration_frame() {
        use ct_core::meter::{Event, Meter};
        let load = Load { amps: 20.0, mains_hz: 50.0, shape: Shape::Sine, step: None };
        let read = |bytes: &[u8]| {
            let mut m = Meter::new(Calibration::builtin(), Default::default());
            let mut amps = Vec::new();
            m.bytes(bytes, &mut |e| {
                if let Event::Reading(r) = e {
                    if r.duration_s > 0.9 {
                        amps.push(r.irms_a);
                    }
                }
            })
            .unwrap();
            amps.iter().sum::<f64>() / amps.len() as f64
        };
        let stream = |err: f64| {
            let mut dev = VirtualDevice::new(DeviceProfile::FAST, load, 1023, 0.3, Faults::default(), 7)
                .with_reference_error(err);
            assert_eq!(dev.adc_cal().vref25_factor, (32768.0 * (1.0 + err)).round() as u16);
            let mut out = Vec::new();
            dev.run_until((4.5 * DeviceProfile::FAST.sample_rate_hz()) as u64, &mut out);
            out
        };
        let ideal = read(&stream(0.0));
        let off = stream(0.02);
        let corrected = read(&off);
        // The same bytes without the ADC calibration frames (kind 0x04), as a version 1 host
        // would have read them.
        let stripped: Vec<u8> = off
            .split_inclusive(|&b| b == 0)
            .filter(|f| {
                let mut raw = vec![0u8; f.len()];
                !matches!(framing::decode(f, &mut raw).map(|n| Frame::parse(&raw[..n])), Ok(Ok(Frame::AdcCal(_))))
            })
            .flatten()
            .copied()
            .collect();
        let uncorrected = read(&stripped);
        let rel = |a: f64| a / ideal - 1.0;
        assert!(
            rel(corrected).abs() < 0.003,
            "corrected {corrected} A vs {ideal} A ({:+.3} %)",
            rel(corrected) * 100.0
        );
        assert!(
            rel(uncorrected) < -0.015,
            "uncorrected {uncorrected} A vs {ideal} A ({:+.3} %)",
            rel(uncorrected) * 100.0
        );
    }

    #[test]
    fn device_stream_fits_the_line_rate() {
        for profile in [DeviceProfile::LAUNCHPAD, DeviceProfile::FAST] {
            let load = Load { amps: 10.0, mains_hz: 50.0, shape: Shape::Sine, step: None };
            let mut dev =
                VirtualDevice::new(profile, load, Calibration::builtin().full_scale_code(), 0.3, Faults::default(), 1);
            let mut out = Vec::new();
            let seconds = 30.0;
            dev.run_until((seconds * profile.sample_rate_hz()) as u64, &mut out);
            let bytes_per_s = out.len() as f64 / seconds;
            assert!(bytes_per_s < profile.baud as f64 / 10.0, "{profile:?}: {bytes_per_s} B/s");
        }
    }
}
