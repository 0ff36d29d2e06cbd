//! Fuzzing of the CLI's inputs through its library entry points: byte streams, captures, CSVs
//! of codes and calibration tables, each a valid input damaged at random (bit flips, garbage
//! spliced in, bytes dropped, truncation, duplicated chunks, edited digits), fed to
//! `cmd::analyze`, `cmd::export` (readings and raw samples) and `calibrate`. No input may
//! panic or abort, and every reading must be finite.
//!
//! It runs on stable inside `cargo test` (no cargo-fuzz): a deterministic generator with a
//! fixed seed and a fixed number of cases per input kind, so CI spends a bounded time (a few
//! seconds in release) and a failure names the kind and case that reproduce it.
//! `CT_FUZZ_CASES=N` multiplies the cases by N for a longer local run, `CT_FUZZ_SEED` changes
//! the seed.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::SystemTime;

use ct_host::calibrate::{calibrate, Point};
use ct_host::calibration::Calibration;
use ct_host::capture;
use ct_host::cmd::analyze::{self, AnalyzeOptions};
use ct_host::cmd::export::{self, ExportOptions, ExportTo};
use ct_host::estimate::{EstimatorConfig, Method, Reading};
use ct_host::sim::{DeviceProfile, Faults, Load, Rng, Shape, VirtualDevice};
use ct_host::sink::{ReadingSink, SinkError};

fn seed() -> u64 {
    std::env::var("CT_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5EED_C7C7)
}

fn cases(base: usize) -> usize {
    base * std::env::var("CT_FUZZ_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(1)
}

/// Damages `bytes` in one to four places.
fn mutate(rng: &mut Rng, bytes: &mut Vec<u8>) {
    for _ in 0..1 + rng.below(4) {
        if bytes.is_empty() {
            bytes.push(rng.next_u64() as u8);
            continue;
        }
        let at = rng.below(bytes.len());
        match rng.below(6) {
            0 => bytes[at] ^= 1 << rng.below(8),
            1 => {
                let junk: Vec<u8> = (0..rng.below(64)).map(|_| rng.next_u64() as u8).collect();
                bytes.splice(at..at, junk);
            }
            2 => {
                let n = rng.below(64).min(bytes.len() - at);
                bytes.drain(at..at + n);
            }
            3 => bytes.truncate(at),
            4 => {
                let n = rng.below(512).min(bytes.len() - at);
                let dup = bytes[at..at + n].to_vec();
                bytes.splice(at..at, dup);
            }
            _ => bytes[at] = rng.next_u64() as u8,
        }
    }
}

/// A sink that checks every reading is finite.
#[derive(Default)]
struct Check {
    readings: usize,
}

impl ReadingSink for Check {
    fn write(&mut self, r: &Reading, _wall: Option<SystemTime>) -> Result<(), SinkError> {
        assert!(
            r.irms_a.is_finite() && r.irms_a >= 0.0 && r.watts.is_finite() && r.kwh.is_finite(),
            "a reading that is not finite: {r:?}"
        );
        self.readings += 1;
        Ok(())
    }
}

fn cfg() -> EstimatorConfig {
    EstimatorConfig { method: Method::Table, ..EstimatorConfig::default() }
}

/// Every command that reads a recording, on `file`: errors are fine, panics are not.
fn read_every_way(file: &Path, out: &Path, cal: &Calibration, rate: Option<f64>) {
    let opts = AnalyzeOptions { file: file.to_owned(), rate, cal: cal.clone(), cfg: cfg() };
    let _ = analyze::run(&opts, &mut Check::default());
    for to in [
        ExportTo::Readings { csv: Some(out.to_owned()), sqlite: None, remote: vec![] },
        ExportTo::Samples { csv: out.to_owned() },
    ] {
        let opts = ExportOptions { file: file.to_owned(), to, meter: "m1".into(), rate, cal: cal.clone(), cfg: cfg() };
        let _ = export::run(&opts, &AtomicBool::new(false), &mut |_| {}, &mut |_| {});
    }
}

/// Runs `case` for each case number, reporting the input kind and case of a panic.
fn each_case(kind: &str, n: usize, mut case: impl FnMut(&mut Rng)) {
    for k in 0..cases(n) {
        let mut rng = Rng::new(seed() ^ (k as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        rng.next_u64();
        if let Err(p) = catch_unwind(AssertUnwindSafe(|| case(&mut rng))) {
            let msg = p.downcast_ref::<String>().cloned().or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()));
            panic!("{kind} case {k} (CT_FUZZ_SEED={}) panicked: {}", seed(), msg.unwrap_or_default());
        }
    }
}

fn stream(profile: DeviceProfile, seconds: f64, shape: Shape) -> Vec<u8> {
    let load = Load { amps: 4.0, mains_hz: 50.0, shape, step: None };
    let mut dev =
        VirtualDevice::new(profile, load, Calibration::builtin().full_scale_code(), 0.3, Faults::default(), 7);
    let mut out = Vec::new();
    dev.run_until((seconds * profile.sample_rate_hz()) as u64, &mut out);
    out
}

#[test]
fn byte_streams() {
    let dir = tempfile::tempdir().unwrap();
    let (file, out) = (dir.path().join("s.bin"), dir.path().join("out.csv"));
    let clean = [stream(DeviceProfile::FAST, 2.5, Shape::Smps), stream(DeviceProfile::LAUNCHPAD, 4.0, Shape::Dimmer)];
    let cal = Calibration::builtin();
    each_case("byte stream", 120, |rng| {
        let mut bytes = clean[rng.below(2)].clone();
        mutate(rng, &mut bytes);
        std::fs::write(&file, &bytes).unwrap();
        read_every_way(&file, &out, &cal, None);
    });
}

#[test]
fn captures() {
    let dir = tempfile::tempdir().unwrap();
    let (file, out) = (dir.path().join("c.ctcap"), dir.path().join("out.csv"));
    let bytes = stream(DeviceProfile::FAST, 3.0, Shape::Sine);
    let chunks: Vec<(i64, &[u8])> =
        bytes.chunks(997).enumerate().map(|(k, c)| (1_790_000_000_000_000_000 + k as i64 * 50_000_000, c)).collect();
    capture::write_capture(&file, &[("source", "fuzz".into())], chunks.iter().copied()).unwrap();
    let clean = std::fs::read(&file).unwrap();
    let cal = Calibration::builtin();
    each_case("capture", 120, |rng| {
        let mut bytes = clean.clone();
        // Keep the magic line most of the time, so the records are what is fuzzed.
        let head = if rng.below(8) == 0 { 0 } else { capture::MAGIC.len() };
        let mut body = bytes.split_off(head);
        mutate(rng, &mut body);
        bytes.extend_from_slice(&body);
        std::fs::write(&file, &bytes).unwrap();
        read_every_way(&file, &out, &cal, None);
        let _ = capture::CaptureWriter::open(&file, &[("source", "fuzz".into())]);
    });
}

#[test]
fn code_csvs() {
    let dir = tempfile::tempdir().unwrap();
    let (file, out) = (dir.path().join("codes.csv"), dir.path().join("out.csv"));
    let cal = Calibration::builtin();
    let rate = DeviceProfile::FAST.sample_rate_hz();
    let sine = |k: usize| {
        let t = k as f64 / rate;
        cal.code_for((5.0 * 2f64.sqrt() * (std::f64::consts::TAU * 50.0 * t).sin()) as f32, Some(50.0))
    };
    let n = (2.0 * rate) as usize;
    let timed: String = std::iter::once("t_s,code\n".to_string())
        .chain((0..n).map(|k| format!("{:.7},{}\n", k as f64 / rate, sine(k))))
        .collect();
    let bare: String = std::iter::once("code\n".to_string()).chain((0..n).map(|k| format!("{}\n", sine(k)))).collect();
    each_case("code CSV", 120, |rng| {
        let timed_csv = rng.below(2) == 0;
        let mut bytes = if timed_csv { timed.clone() } else { bare.clone() }.into_bytes();
        // Edited digits and lines, the damage a CSV gets; the times stay within the sample
        // rates the meter works with.
        for _ in 0..1 + rng.below(6) {
            let at = rng.below(bytes.len());
            match rng.below(5) {
                0 if bytes[at].is_ascii_digit() => bytes[at] = b'0' + rng.below(10) as u8,
                1 => {
                    let end = bytes[at..].iter().position(|&b| b == b'\n').map_or(bytes.len(), |p| at + p + 1);
                    bytes.drain(at..end);
                }
                2 => bytes.insert(at, b",;x-. \n\r"[rng.below(8)]),
                3 => bytes.truncate(at),
                _ => bytes.splice(at..at, "\u{feff}é#".bytes()).for_each(drop),
            }
        }
        std::fs::write(&file, &bytes).unwrap();
        let rate = (!timed_csv || rng.below(4) == 0).then_some(rate);
        read_every_way(&file, &out, &cal, rate);
    });
}

#[test]
fn calibration_tables() {
    let dir = tempfile::tempdir().unwrap();
    let (file, out, table) = (dir.path().join("s.bin"), dir.path().join("out.csv"), dir.path().join("t.csv"));
    std::fs::write(&file, stream(DeviceProfile::FAST, 1.5, Shape::Sine)).unwrap();
    let text = ct_host::calibration::DEFAULT_TABLE.to_string();
    each_case("calibration table", 40, |rng| {
        let mut bytes = text.clone().into_bytes();
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(bytes.len());
            match rng.below(4) {
                0 if bytes[at].is_ascii_digit() => bytes[at] = b'0' + rng.below(10) as u8,
                1 => {
                    let end = bytes[at..].iter().position(|&b| b == b'\n').map_or(bytes.len(), |p| at + p + 1);
                    bytes.drain(at..end);
                }
                2 => bytes.splice(at..at, ["NaN", "-", "1e308", ",", "\n"][rng.below(5)].bytes()).for_each(drop),
                _ => bytes[at] = rng.next_u64() as u8,
            }
        }
        std::fs::write(&table, &bytes).unwrap();
        let Ok(cal) = Calibration::load(&table) else { return };
        read_every_way(&file, &out, &cal, None);
        let points: Vec<Point> = ["4=4.2", "20=19"].iter().map(|p| p.parse().unwrap()).collect();
        let _ = calibrate(&cal, &points[..1 + rng.below(2)], cfg(), None, "t.csv", |_| {});
    });
}
