use ct_core::calibration::Calibration;
use ct_core::estimate::{Estimator, EstimatorConfig, Method};
use ct_golden::loads::{codes, loads_manifest, LoadCase};

fn main() {
    let profile = std::env::args().nth(1).unwrap_or("fast".into());
    let method = if std::env::args().nth(2).as_deref() == Some("table") { Method::Table } else { Method::Invert };
    let cases = loads_manifest().unwrap();
    let case = cases.iter().find(|c| c.kind == "household").unwrap();
    let rate = LoadCase::rate(&profile).unwrap();
    let codes = codes(case, &profile).unwrap();
    let cfg = EstimatorConfig { method, ..EstimatorConfig::default() };
    let mut est = Estimator::new(&Calibration::builtin(), rate, cfg);
    let mut n = 0;
    let mut sum = 0.0;
    est.push(0.0, &codes, &mut |r| {
        n += 1;
        sum += r.irms_a;
    });
    println!("{n} windows, sum {sum}");
}
