//! Re-processing a long capture: export its readings to CSV, and plot its folded cycle.
//!
//! Generates a capture of the fast profile (8196.7 samples/s, a 12 A sine with ADC noise)
//! with the virtual device, written as `ct-read record` would (one chunk per 100 ms, stamped
//! with its receive time), in a temporary directory that is deleted afterwards. Then times, on
//! one core, the same library calls `ct-read export --csv` and `ct-read plot --kind folded`
//! make, and prints the rates and what they mean for a 24-hour capture (targets: export < 30 s,
//! folded plot < 10 s). These are figures, not pass/fail.
//!
//! Run: `cargo bench -p ct-host --bench capture_export`
//! Duration: `CT_BENCH_HOURS` (default 0.25; `CT_BENCH_HOURS=24` writes the full ~950 MB
//! capture and takes a few minutes).

use std::time::Instant;

use ct_host::calibration::Calibration;
use ct_host::capture;
use ct_host::estimate::EstimatorConfig;
use ct_host::export::ReadingsCsv;
use ct_host::meter::Event;
use ct_host::sim::{DeviceProfile, Faults, Load, Shape, VirtualDevice};

fn main() {
    let hours: f64 = std::env::var("CT_BENCH_HOURS").ok().and_then(|h| h.parse().ok()).unwrap_or(0.25);
    let dir = tempfile::tempdir().expect("temp dir");
    let cap = dir.path().join("bench.ctcap");
    let profile = DeviceProfile::FAST;
    let rate = profile.sample_rate_hz();
    let load = Load { amps: 12.0, mains_hz: 50.0, shape: Shape::Sine, step: None };
    let mut dev = VirtualDevice::new(profile, load, Calibration::builtin(), 0.3, Faults::default(), 11);

    let t = Instant::now();
    let seconds = hours * 3600.0;
    let chunks = (seconds * 10.0).round() as u64;
    let t0_ns = 1_790_000_000_000_000_000i64;
    let gen = (1..=chunks).map(|k| {
        let mut buf = Vec::with_capacity(1200);
        dev.run_until((k as f64 * 0.1 * rate) as u64, &mut buf);
        (t0_ns + k as i64 * 100_000_000 + 2_000_000, buf)
    });
    capture::write_capture(&cap, &[("source", "bench".into())], gen).expect("write capture");
    let size = std::fs::metadata(&cap).expect("capture").len();
    let samples = (seconds * rate) as u64;
    println!(
        "capture: {hours} h of the fast profile, {samples} samples, {:.1} MB, generated in {:.1} s",
        size as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
    let scale = 24.0 / hours;

    let cfg = EstimatorConfig::default();
    let cal = Calibration::builtin();
    let csv = dir.path().join("readings.csv");
    let t = Instant::now();
    let mut w = ReadingsCsv::create(&csv).expect("csv");
    let mut mean = 0.0;
    ct_host::replay::readings(&cap, cal.clone(), cfg, None, &mut |_| {}, &mut |e, wall| {
        if let Event::Reading(r) = e {
            mean += r.irms_a;
            w.write(&r, wall).expect("write");
        }
    })
    .expect("replay");
    let rows = w.rows();
    w.finish().expect("finish");
    let export_s = t.elapsed().as_secs_f64();
    println!(
        "export readings to CSV: {export_s:.2} s, {rows} rows (mean {:.3} A), {:.1} M samples/s, {:.0} MB/s",
        mean / rows as f64,
        samples as f64 / export_s / 1e6,
        size as f64 / export_s / 1e6
    );
    println!(
        "  24 h capture: {:.1} s (target < 30 s: {})   [estimator: {cfg:?}]",
        export_s * scale,
        if export_s * scale < 30.0 { "met" } else { "NOT met" }
    );

    // Where the plot's time goes: reading and checking the records, then decoding the samples.
    let t = Instant::now();
    let mut r = capture::CaptureReader::open(&cap).expect("open");
    let mut bytes = 0usize;
    while let Some(rec) = r.next_record().expect("read") {
        bytes += rec.payload.len();
    }
    let read_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut n = 0usize;
    ct_host::replay::samples(&cap, None, &mut |_| {}, &mut |run, _| {
        n += run.len;
        true
    })
    .expect("samples");
    let decode_s = t.elapsed().as_secs_f64();
    println!(
        "  of which: read + CRC-32 the records {read_s:.2} s ({:.0} MB/s), + decode {n} samples {decode_s:.2} s",
        bytes as f64 / read_s / 1e6
    );

    let png = dir.path().join("folded.png");
    let t = Instant::now();
    let panels = ct_host::plot::folded_panels(&cap, &cal, None, 0.0, f64::MAX, &mut |_| {}).expect("fold");
    let fold_s = t.elapsed().as_secs_f64();
    ct_host::plot::render(&png, (1200, 800), &panels).expect("render");
    let plot_s = t.elapsed().as_secs_f64();
    println!("  fold {fold_s:.2} s, draw and encode the PNG {:.2} s", plot_s - fold_s);
    println!("plot folded view of the whole capture: {plot_s:.2} s, {:.1} M samples/s", samples as f64 / plot_s / 1e6);
    println!(
        "  24 h capture: {:.1} s (target < 10 s: {})",
        plot_s * scale,
        if plot_s * scale < 10.0 { "met" } else { "NOT met" }
    );
    println!("  {}", panels[0].title);
}
