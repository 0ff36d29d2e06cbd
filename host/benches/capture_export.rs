//! Re-processing a long capture: export its readings to CSV, and plot its folded cycle.
//!
//! Generates a capture of the fast profile (8196.7 samples/s, a 12 A sine with ADC noise)
//! with the virtual device, written as `ct-read record` would (one chunk per 100 ms, stamped
//! with its receive time), in a temporary directory that is deleted afterwards. Then times, on
//! one core, the same library calls `ct-read export --csv` and `ct-read plot --kind folded`
//! make, and prints the rates and what they mean for a 24-hour capture (targets: export < 30 s,
//! folded plot < 10 s). These are figures, not pass/fail.
//!
//! Readings are exported over the whole capture with `--method table` (per-sample inversion)
//! and with the default `--method invert` (the clamp's dynamic model run backwards when the load
//! changes and its correction reused while it does not).
//!
//! Times are the thread's CPU time (Linux's `/proc/thread-self/schedstat`; wall time where that
//! is missing), which is what "on one core" means on a machine shared with other work, where
//! wall time also counts the waits for a core.
//!
//! Run: `cargo bench -p ct-host --bench capture_export`
//! Duration: `CT_BENCH_HOURS` (default 0.25; `CT_BENCH_HOURS=24` writes the full ~950 MB
//! capture and takes a few minutes).

use std::path::Path;

#[path = "../../core/benches/common/cost.rs"]
mod cost;

use ct_host::calibration::Calibration;
use ct_host::capture;
use ct_host::estimate::{EstimatorConfig, Method};
use ct_host::meter::Event;
use ct_host::sim::{DeviceProfile, Faults, Load, Shape, VirtualDevice};
use ct_host::sink::csv::ReadingsCsv;
use ct_host::sink::{End, ReadingSink};

fn main() {
    let hours: f64 = std::env::var("CT_BENCH_HOURS").ok().and_then(|h| h.parse().ok()).unwrap_or(0.25);
    let dir = tempfile::tempdir().expect("temp dir");
    let cap = dir.path().join("bench.ctcap");
    let rate = DeviceProfile::FAST.sample_rate_hz();

    let t = Clock::start();
    let size = synthetic_capture(&cap, hours);
    let samples = (hours * 3600.0 * rate) as u64;
    println!(
        "capture: {hours} h of the fast profile, {samples} samples, {:.1} MB, generated in {:.1} s",
        size as f64 / 1e6,
        t.elapsed()
    );
    let scale = 24.0 / hours;
    let cal = Calibration::builtin();

    // `ct-read export --method table`: per-sample table inversion, for bulk re-processing.
    let table = EstimatorConfig { method: Method::Table, ..EstimatorConfig::default() };
    let export_s = export(&cap, &dir.path().join("readings.csv"), table, samples, size);
    println!(
        "  24 h capture with --method table: {:.1} s (target < 30 s: {})",
        export_s * scale,
        if export_s * scale < 30.0 { "met" } else { "NOT met" }
    );
    // The default method inverts the clamp's dynamic model, once per change of the load (and at
    // least every 300 windows), reusing its correction in between.
    let default_s = export(&cap, &dir.path().join("default.csv"), EstimatorConfig::default(), samples, size);
    println!(
        "  24 h capture with the default --method invert: {:.1} s (target < 30 s: {})",
        default_s * scale,
        if default_s * scale < 30.0 { "met" } else { "NOT met" }
    );

    // Where the plot's time goes: reading and checking the records, then decoding the samples.
    let t = Clock::start();
    let mut r = capture::CaptureReader::open(&cap).expect("open");
    let mut bytes = 0usize;
    while let Some(rec) = r.next_record().expect("read") {
        bytes += rec.payload.len();
    }
    let read_s = t.elapsed();
    let t = Clock::start();
    let mut n = 0usize;
    ct_host::replay::samples(&cap, &Calibration::builtin(), None, &mut |_| true, &mut |_| {}, &mut |run, _| {
        n += run.codes.len();
        true
    })
    .expect("samples");
    let decode_s = t.elapsed();
    println!(
        "  of which: read + CRC-32 the records {read_s:.2} s ({:.0} MB/s), + decode {n} samples {decode_s:.2} s",
        bytes as f64 / read_s / 1e6
    );

    let png = dir.path().join("folded.png");
    let t = Clock::start();
    let panels =
        ct_host::plot::folded_panels(&cap, &cal, None, 0.0, f64::MAX, &mut |_| true, &mut |_| {}).expect("fold");
    let fold_s = t.elapsed();
    ct_host::plot::render(&png, (1200, 800), &panels).expect("render");
    let plot_s = t.elapsed();
    println!("  fold {fold_s:.2} s, draw and encode the PNG {:.2} s", plot_s - fold_s);
    println!("plot folded view of the whole capture: {plot_s:.2} s, {:.1} M samples/s", samples as f64 / plot_s / 1e6);
    // Drawing costs the same for any length: only reading and folding scale with the hours.
    let plot_24h = fold_s * scale + (plot_s - fold_s);
    println!("  24 h capture: {plot_24h:.1} s (target < 10 s: {})", if plot_24h < 10.0 { "met" } else { "NOT met" });
    println!("  {}", panels[0].title);
}

/// Writes `hours` of a 12 A sine on the fast profile as `ct-read record` would (one chunk per
/// 100 ms, stamped 2 ms after its last sample); returns the file size.
fn synthetic_capture(path: &Path, hours: f64) -> u64 {
    let profile = DeviceProfile::FAST;
    let rate = profile.sample_rate_hz();
    let load = Load { amps: 12.0, mains_hz: 50.0, shape: Shape::Sine, step: None };
    let mut dev =
        VirtualDevice::new(profile, load, Calibration::builtin().full_scale_code(), 0.3, Faults::default(), 11);
    let chunks = (hours * 36_000.0).round() as u64;
    let t0_ns = 1_790_000_000_000_000_000i64;
    let gen = (1..=chunks).map(|k| {
        let mut buf = Vec::with_capacity(1200);
        dev.run_until((k as f64 * 0.1 * rate) as u64, &mut buf);
        (t0_ns + k as i64 * 100_000_000 + 2_000_000, buf)
    });
    capture::write_capture(path, &[("source", "bench".into())], gen).expect("write capture");
    std::fs::metadata(path).expect("capture").len()
}

/// `ct-read export --csv`: readings of the capture to CSV; prints and returns the seconds taken.
fn export(cap: &Path, csv: &Path, cfg: EstimatorConfig, samples: u64, size: u64) -> f64 {
    let t = Clock::start();
    let mut w = ReadingsCsv::create(csv, "bench").expect("csv");
    let mut mean = 0.0;
    ct_host::replay::readings(cap, Calibration::builtin(), cfg, None, &mut |_| true, &mut |e, wall| {
        if let Event::Reading(r) = e {
            mean += r.irms_a;
            w.write(&r, wall).expect("write");
        }
    })
    .expect("replay");
    let rows = w.rows();
    w.finish(End::Complete).expect("finish");
    let s = t.elapsed();
    println!(
        "export readings to CSV ({:?}): {s:.2} s, {rows} rows (mean {:.3} A), {:.1} M samples/s, {:.0} MB/s",
        cfg.method,
        mean / rows as f64,
        samples as f64 / s / 1e6,
        size as f64 / s / 1e6
    );
    s
}

/// A stopwatch of the thread's CPU time (as the kernel last accounted it, at a scheduler tick
/// or switch: every span timed here is long against that), or of wall time where the kernel
/// does not say.
struct Clock(f64);

impl Clock {
    fn start() -> Self {
        Clock(Self::now())
    }

    fn elapsed(&self) -> f64 {
        Self::now() - self.0
    }

    fn now() -> f64 {
        cost::cpu_seconds()
    }
}
