//! Host throughput: decode + inversion + RMS, in samples per second on one core.
//!
//! Runs the library pipeline with `--method table` (`Meter::bytes`: COBS/CRC decoding,
//! unpacking, table inversion, windowed half-wave RMS with frequency estimation) and, in the same run on the same bytes, a
//! straightforward baseline written the obvious way (byte-at-a-time COBS into a `Vec`, a
//! bit-serial CRC, per-sample binary search and interpolation in the table rows, RMS over a
//! `Vec<f64>`), and prints both and their ratio. Target: >= 100 million samples/s per core.
//! It then prints the cost of the default `--method invert`, which adds the clamp model's
//! inversion per window (reused while the load is steady).
//!
//! Run: `cargo bench -p ct-host --bench throughput`

use std::time::Instant;

use ct_host::calibration::Calibration;
use ct_host::estimate::{EstimatorConfig, Method};
use ct_host::meter::{Event, Meter};
use ct_host::sim::{DeviceProfile, Faults, Load, Shape, VirtualDevice};

fn main() {
    let seconds = 1250.0; // 10 million samples at 8 kSa/s
    let profile = DeviceProfile::FAST;
    let load = Load { amps: 12.0, mains_hz: 50.0, shape: Shape::Sine, step: None };
    let mut dev =
        VirtualDevice::new(profile, load, Calibration::builtin().full_scale_code(), 0.3, Faults::default(), 7);
    let mut stream = Vec::new();
    let samples = (seconds * profile.sample_rate_hz()) as u64;
    dev.run_until(samples, &mut stream);
    println!("stream: {} samples in {:.1} MB (fast profile, 1 s windows)", samples, stream.len() as f64 / 1e6);

    let cal = Calibration::builtin();
    let mut best_lib = f64::MAX;
    let mut best_base = f64::MAX;
    let mut lib_result = (0usize, 0.0);
    let mut base_result = (0usize, 0.0);
    for _ in 0..3 {
        let t = Instant::now();
        let cfg = EstimatorConfig { method: Method::Table, ..EstimatorConfig::default() };
        let mut meter = Meter::new(cal.clone(), cfg);
        let (mut n, mut sum) = (0usize, 0.0);
        meter
            .bytes(&stream, &mut |e| {
                if let Event::Reading(r) = e {
                    n += 1;
                    sum += r.irms_a;
                }
            })
            .unwrap();
        best_lib = best_lib.min(t.elapsed().as_secs_f64());
        lib_result = (n, sum / n as f64);

        let t = Instant::now();
        base_result = baseline::run(&stream, &cal, profile.sample_rate_hz());
        best_base = best_base.min(t.elapsed().as_secs_f64());
    }
    let lib_rate = samples as f64 / best_lib;
    let base_rate = samples as f64 / best_base;
    println!("library : {:>8.1} M samples/s  ({} readings, mean {:.4} A)", lib_rate / 1e6, lib_result.0, lib_result.1);
    println!(
        "baseline: {:>8.1} M samples/s  ({} readings, mean {:.4} A)",
        base_rate / 1e6,
        base_result.0,
        base_result.1
    );
    println!("ratio library/baseline: {:.1}x", lib_rate / base_rate);
    println!("a month of 8 kSa/s data (20.7 G samples) takes {:.0} s", 8000.0 * 86400.0 * 30.0 / lib_rate);
    println!("target >= 100 M samples/s per core: {}", if lib_rate >= 100e6 { "met" } else { "NOT met" });

    // The default method adds the model's inversion per window: measured on the first 20 s.
    let cut = stream.len() * 20 / seconds as usize;
    let cut = cut + stream[cut..].iter().position(|&b| b == 0).unwrap_or(0) + 1;
    let t = Instant::now();
    let mut meter = Meter::new(cal.clone(), EstimatorConfig::default());
    let mut n = 0usize;
    meter
        .bytes(&stream[..cut], &mut |e| {
            if let Event::Reading(_) = e {
                n += 1;
            }
        })
        .unwrap();
    let default_s = t.elapsed().as_secs_f64();
    println!(
        "library, --method invert (default): {:.2} M samples/s, {:.1} ms per 1 s window ({} windows); live use needs 1 window/s",
        20.0 * profile.sample_rate_hz() / default_s / 1e6,
        default_s * 1e3 / n.max(1) as f64,
        n
    );
}

/// The obvious implementation, for comparison only.
mod baseline {
    use ct_host::calibration::Calibration;

    fn crc16_bitwise(data: &[u8]) -> u16 {
        let mut crc = 0xFFFFu16;
        for &b in data {
            crc ^= (b as u16) << 8;
            for _ in 0..8 {
                crc = if crc & 0x8000 != 0 { (crc << 1) ^ 0x1021 } else { crc << 1 };
            }
        }
        crc
    }

    fn cobs_decode(frame: &[u8]) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < frame.len() {
            let code = frame[i] as usize;
            if code == 0 || i + code > frame.len() + 1 {
                return None;
            }
            for k in 1..code {
                out.push(*frame.get(i + k)?);
            }
            i += code;
            if code < 0xFF && i < frame.len() {
                out.push(0);
            }
        }
        Some(out)
    }

    pub fn run(stream: &[u8], cal: &Calibration, rate: f64) -> (usize, f64) {
        // Table rows as a user would keep them: (code, amps) pairs, searched per sample.
        let rows: Vec<(f64, f64)> =
            cal.lut_at(Some(50.0)).iter().enumerate().map(|(c, &a)| (c as f64, a as f64)).collect();
        let invert = |code: u16| -> f64 {
            let c = code as f64;
            let i = rows.partition_point(|r| r.0 <= c).saturating_sub(1);
            match rows.get(i + 1) {
                Some(&(c1, a1)) => rows[i].1 + (a1 - rows[i].1) * (c - rows[i].0) / (c1 - rows[i].0),
                None => rows[i].1,
            }
        };
        let window = rate.round() as usize;
        let mut amps: Vec<f64> = Vec::new();
        let (mut n, mut sum) = (0usize, 0.0);
        let mut frame = Vec::new();
        for &b in stream {
            if b != 0 {
                frame.push(b);
                continue;
            }
            let Some(raw) = cobs_decode(&frame) else {
                frame.clear();
                continue;
            };
            frame.clear();
            if raw.len() < 3 {
                continue;
            }
            let (payload, crc) = raw.split_at(raw.len() - 2);
            if crc16_bitwise(payload) != u16::from_le_bytes([crc[0], crc[1]]) || payload[0] != 2 {
                continue;
            }
            let packed = &payload[5..];
            let mut bits: u64 = 0;
            let mut nbits = 0;
            for &byte in packed {
                bits |= (byte as u64) << nbits;
                nbits += 8;
                while nbits >= 10 {
                    amps.push(invert((bits & 0x3FF) as u16));
                    bits >>= 10;
                    nbits -= 10;
                }
            }
            while amps.len() >= window {
                let w: Vec<f64> = amps.drain(..window).collect();
                let ms = w.iter().map(|a| a * a).sum::<f64>() / w.len() as f64;
                n += 1;
                sum += (2.0 * ms).sqrt();
            }
        }
        (n, sum / n as f64)
    }
}
