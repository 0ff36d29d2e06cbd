//! Building the code -> instantaneous-primary-current calibration table, and the RMS estimator
//! the host applies with it.
//!
//! Why not a DC sweep: with a realistic magnetizing inductance the CT's gain depends on the
//! level and its output is phase-shifted and distorted, so the instantaneous ADC voltage is not
//! a function of the instantaneous primary current. What *is* well defined is the host's
//! estimator `Irms = sqrt(2 * mean(table[code]^2))` over whole cycles (the negative half reads
//! 0 A, so the mean is doubled). The table is therefore fitted so that this estimator returns
//! the true RMS for simulated sines at many amplitudes, at one mains frequency (one column of
//! the multi-frequency table; the default table has a column for each of 45, 50, 55, 60, 65 Hz):
//!
//! * the table is piecewise linear in the code between knots; the first knot is the zero-current
//!   code at 0 A (every code at or below it reads exactly 0 A);
//! * amplitudes are taken in increasing order and grouped by the highest code they reach; each
//!   group adds one knot at that code, whose value is the one (found by golden-section search,
//!   never below the previous knot, so the table is non-decreasing) that minimises the groups'
//!   squared relative RMS errors. Lower codes are fixed by then, so each amplitude's error
//!   depends on its own knot only: this is a sequential "shooting" fit, exact for each group
//!   with one amplitude and least-squares for groups sharing a code.
//! * above the last amplitude that does not clip, the table continues the last segment's slope
//!   (an honest linear extrapolation; the metadata says where it starts).
//!
//! The simple alternative (knot value = peak primary current at the peak code, i.e. peak
//! matching) ignores the phase shift and the changing waveform shape and is several percent off
//! at low currents; [`peak_matched`] keeps it for comparison in the README.

use std::fmt::Write as _;

use thiserror::Error;

#[derive(Debug, Error, PartialEq)]
pub enum TableError {
    #[error("no simulated amplitude rises above the zero-current code {0}: nothing to fit")]
    NothingToFit(u32),
    #[error("the fit needs at least two amplitudes between the zero code and full scale")]
    TooFewKnots,
}

/// One simulated amplitude: its true RMS and the ADC codes over whole steady-state cycles.
#[derive(Debug, Clone)]
pub struct SweepPoint {
    pub irms: f64,
    pub codes: Vec<u32>,
}

impl SweepPoint {
    fn peak_code(&self) -> u32 {
        self.codes.iter().copied().max().unwrap_or(0)
    }
}

/// The result of a fit: one value per code, plus where it stopped being fitted.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Amperes for every code `0..=max_code`.
    pub amps: Vec<f64>,
    pub zero_code: u32,
    /// Knots `(code, amps)` the table interpolates.
    pub knots: Vec<(u32, f64)>,
    /// Highest RMS whose samples were used in the fit.
    pub top_fitted_rms: f64,
}

impl Table {
    /// First code whose value is extrapolated rather than fitted (`None`: all fitted).
    pub fn extrapolated_from(&self) -> Option<u32> {
        let last = self.knots.last()?.0;
        let max = (self.amps.len() as u32).saturating_sub(1);
        (last < max).then_some(last + 1)
    }
}

/// The host's estimator: `sqrt(2 * mean(i^2))` with `i = table[code]`.
pub fn estimate_rms(amps: &[f64], codes: &[u32]) -> f64 {
    if codes.is_empty() {
        return 0.0;
    }
    let sum: f64 = codes
        .iter()
        .map(|&c| {
            let i = amps[(c as usize).min(amps.len() - 1)];
            i * i
        })
        .sum();
    (2.0 * sum / codes.len() as f64).sqrt()
}

/// Value of the piecewise-linear knot list at `code`: 0 at or below the first knot, linear
/// between knots, and the last segment's slope continued beyond the last knot.
fn knot_value(knots: &[(u32, f64)], code: u32) -> f64 {
    let Some(&(c0, _)) = knots.first() else {
        return 0.0;
    };
    if code <= c0 {
        return 0.0;
    }
    for pair in knots.windows(2) {
        let ((ca, a), (cb, b)) = (pair[0], pair[1]);
        if code <= cb {
            return a + (b - a) * f64::from(code - ca) / f64::from(cb - ca);
        }
    }
    match knots {
        [.., (ca, a), (cb, b)] => b + (b - a) * f64::from(code - cb) / f64::from(cb - ca),
        _ => 0.0,
    }
}

/// Fit the table (see the module documentation). `max_code` is `2^bits - 1`; codes equal to it
/// are treated as clipped and such amplitudes are left out.
pub fn fit(zero_code: u32, max_code: u32, points: &[SweepPoint]) -> Result<Table, TableError> {
    let mut sorted: Vec<&SweepPoint> = points.iter().collect();
    sorted.sort_by(|a, b| a.irms.total_cmp(&b.irms));
    let mut knots: Vec<(u32, f64)> = vec![(zero_code, 0.0)];
    let mut top_fitted_rms = 0.0;
    let mut k = 0;
    while k < sorted.len() {
        let peak = sorted[k].peak_code();
        let mut group = vec![sorted[k]];
        k += 1;
        while k < sorted.len() && sorted[k].peak_code() == peak {
            group.push(sorted[k]);
            k += 1;
        }
        let &(last_code, last_amps) = knots.last().unwrap_or(&(zero_code, 0.0));
        group.retain(|p| p.irms > 0.0 && !p.codes.is_empty());
        if peak <= last_code || peak >= max_code || group.is_empty() {
            continue;
        }
        // Codes up to the last knot are fixed by now: sum their contribution once per point, and
        // keep only the counts of the codes the new segment spans.
        let fixed: Vec<f64> = (0..=last_code).map(|c| knot_value(&knots, c)).collect();
        let span = peak - last_code;
        let prepared: Vec<(f64, f64, Vec<f64>)> = group
            .iter()
            .map(|p| {
                let mut fixed_sum = 0.0;
                let mut counts = vec![0.0; span as usize];
                for &c in &p.codes {
                    if c <= last_code {
                        fixed_sum += fixed[c as usize] * fixed[c as usize];
                    } else {
                        counts[(c - last_code - 1) as usize] += 1.0;
                    }
                }
                (p.irms, fixed_sum, counts)
            })
            .collect();
        let objective = |y: f64| -> f64 {
            prepared
                .iter()
                .zip(&group)
                .map(|((irms, fixed_sum, counts), p)| {
                    let varying: f64 = counts
                        .iter()
                        .enumerate()
                        .map(|(k, n)| {
                            let i = last_amps + (y - last_amps) * (k + 1) as f64 / f64::from(span);
                            n * i * i
                        })
                        .sum();
                    let est = (2.0 * (fixed_sum + varying) / p.codes.len() as f64).sqrt();
                    let e = est / irms - 1.0;
                    e * e
                })
                .sum()
        };
        let peak_amps = group.iter().map(|p| p.irms * 2f64.sqrt()).fold(0.0, f64::max);
        let (lo, hi) = (last_amps, last_amps.max(peak_amps) * 4.0 + 1.0);
        let y = ct_core::estimate::golden_section_max(|x| -objective(x), lo, hi, 1e-9 * (1.0 + hi.abs()));
        knots.push((peak, y));
        top_fitted_rms = group.iter().map(|p| p.irms).fold(top_fitted_rms, f64::max);
    }
    if knots.len() == 1 {
        return Err(TableError::NothingToFit(zero_code));
    }
    if knots.len() < 3 {
        return Err(TableError::TooFewKnots);
    }
    let amps = (0..=max_code).map(|c| knot_value(&knots, c)).collect();
    Ok(Table { amps, zero_code, knots, top_fitted_rms })
}

/// The naive table: knot at each amplitude's peak code = its peak primary current.
pub fn peak_matched(zero_code: u32, max_code: u32, points: &[SweepPoint]) -> Vec<f64> {
    let mut sorted: Vec<&SweepPoint> = points.iter().collect();
    sorted.sort_by(|a, b| a.irms.total_cmp(&b.irms));
    let mut knots = vec![(zero_code, 0.0)];
    for p in sorted {
        let peak = p.peak_code();
        let &(last_code, last_amps) = knots.last().unwrap_or(&(zero_code, 0.0));
        if peak > last_code && peak < max_code {
            knots.push((peak, (p.irms * 2f64.sqrt()).max(last_amps)));
        }
    }
    (0..=max_code).map(|c| knot_value(&knots, c)).collect()
}

/// One frequency column of a table: the mains frequency it was fitted at, and amps per code.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub hz: f64,
    pub amps: Vec<f64>,
}

/// Frequency as the column header writes it: `50`, `52.5`.
pub fn fmt_hz(hz: f64) -> String {
    if hz.fract() == 0.0 {
        format!("{hz:.0}")
    } else {
        format!("{hz}")
    }
}

/// Text of a multi-frequency table in the `ct-calibration v1` format (calibration/README.md):
/// header `code,amps_45hz,amps_50hz,...`, columns in increasing frequency, one row per code.
/// `meta` holds `(key, value)` pairs written after the required keys, in order.
pub fn to_csv(columns: &[Column], required: &[(&str, String)], meta: &[(&str, String)]) -> String {
    let mut out = String::from("# ct-calibration v1\n");
    for (k, v) in required.iter().chain(meta) {
        let _ = writeln!(out, "# {k}: {v}");
    }
    out.push_str("code");
    for c in columns {
        let _ = write!(out, ",amps_{}hz", fmt_hz(c.hz));
    }
    out.push('\n');
    let rows = columns.iter().map(|c| c.amps.len()).min().unwrap_or(0);
    for code in 0..rows {
        let _ = write!(out, "{code}");
        for c in columns {
            let a = c.amps[code];
            if a == 0.0 {
                out.push_str(",0");
            } else {
                let _ = write!(out, ",{a:.4}");
            }
        }
        out.push('\n');
    }
    out
}

/// The rules calibration/README.md sets for the rows of one column: one per code up to
/// `max_code`, finite, `>= 0`, non-decreasing.
pub fn validate(amps: &[f64], max_code: u32) -> Result<(), String> {
    if amps.len() != max_code as usize + 1 {
        return Err(format!("{} rows, expected {}", amps.len(), max_code + 1));
    }
    if let Some(c) = amps.iter().position(|a| !a.is_finite() || *a < 0.0) {
        return Err(format!("code {c}: amps must be finite and >= 0"));
    }
    if let Some(c) = amps.windows(2).position(|w| w[1] < w[0]) {
        return Err(format!("code {}: amps decrease", c + 1));
    }
    Ok(())
}

/// Reads the columns of a table written by [`to_csv`] (one row per code from 0; metadata is
/// skipped). The loader's own rules are checked separately, with the host's parser
/// (`ct_core::calibration`).
pub fn parse_csv_columns(text: &str) -> Result<Vec<Column>, String> {
    let mut columns: Option<Vec<Column>> = None;
    for (n, line) in text.lines().enumerate().map(|(i, l)| (i + 1, l.trim())) {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let Some(cols) = columns.as_mut() else {
            if fields.len() < 2 || fields[0] != "code" {
                return Err(format!("line {n}: expected a `code,amps_<f>hz,...` header, found `{line}`"));
            }
            let hz = fields[1..]
                .iter()
                .map(|f| f.strip_prefix("amps_").and_then(|f| f.strip_suffix("hz")).and_then(|f| f.parse::<f64>().ok()))
                .collect::<Option<Vec<f64>>>()
                .ok_or_else(|| format!("line {n}: columns must be named amps_<f>hz: `{line}`"))?;
            columns = Some(hz.into_iter().map(|hz| Column { hz, amps: Vec::new() }).collect());
            continue;
        };
        if fields.len() != cols.len() + 1 {
            return Err(format!("line {n}: expected {} fields, found {}", cols.len() + 1, fields.len()));
        }
        if fields[0].parse::<usize>().ok() != Some(cols[0].amps.len()) {
            return Err(format!("line {n}: code `{}` is not the next code {}", fields[0], cols[0].amps.len()));
        }
        for (c, f) in cols.iter_mut().zip(&fields[1..]) {
            c.amps.push(f.parse::<f64>().map_err(|_| format!("line {n}: `{f}` is not a number"))?);
        }
    }
    columns.ok_or_else(|| "no column header".into())
}

/// The table at mains frequency `hz` as the host computes it (`Calibration::lut_at`): per
/// code, linear between the two columns bracketing `hz`, `a + (b - a) * (f - fa) / (fb - fa)`,
/// and the nearest column outside their range.
pub fn at_hz(columns: &[Column], hz: f64) -> Vec<f64> {
    let i = columns.partition_point(|c| c.hz <= hz);
    if i == 0 {
        return columns.first().map(|c| c.amps.clone()).unwrap_or_default();
    }
    if i == columns.len() {
        return columns[i - 1].amps.clone();
    }
    let (a, b) = (&columns[i - 1], &columns[i]);
    let w = (hz - a.hz) / (b.hz - a.hz);
    a.amps.iter().zip(&b.amps).map(|(x, y)| x + (y - x) * w).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    /// A made-up sensor: zero level at code 100, 20 codes per amp on the positive half, a soft
    /// knee (gain halves above 10 A), flat below zero. Sampled at 2000 points per cycle.
    fn synthetic(irms: f64) -> SweepPoint {
        let n = 2000;
        let codes = (0..n)
            .map(|k| {
                let i = irms * 2f64.sqrt() * (2.0 * PI * k as f64 / n as f64).sin();
                let v = if i <= 0.0 {
                    100.0
                } else if i < 10.0 {
                    100.0 + 20.0 * i
                } else {
                    300.0 + 10.0 * (i - 10.0)
                };
                (v.round() as u32).min(1023)
            })
            .collect();
        SweepPoint { irms, codes }
    }

    fn sweep() -> Vec<SweepPoint> {
        (0..120).map(|k| 0.1 * 1.06f64.powi(k)).take_while(|&a| a < 80.0).map(synthetic).collect()
    }

    #[test]
    fn fitted_table_is_monotone_zero_below_zero_code_and_complete() {
        let t = fit(100, 1023, &sweep()).expect("fits");
        assert_eq!(t.amps.len(), 1024);
        assert!(t.amps[..=100].iter().all(|&a| a == 0.0));
        assert!(t.amps[101] > 0.0);
        assert!(t.amps.windows(2).all(|w| w[1] >= w[0]));
        assert!(t.amps.iter().all(|a| a.is_finite()));
    }

    #[test]
    fn fitted_table_recovers_the_synthetic_transfer() {
        let t = fit(100, 1023, &sweep()).expect("fits");
        // Code 300 is 10 A on the made-up curve, 500 is 30 A.
        assert!((t.amps[300] - 10.0).abs() < 0.15, "{}", t.amps[300]);
        assert!((t.amps[500] - 30.0).abs() < 0.3, "{}", t.amps[500]);
        // And the estimator is right at amplitudes between the fitted ones.
        for irms in [0.5, 1.0, 3.3, 7.77, 20.0, 45.0] {
            let p = synthetic(irms);
            let est = estimate_rms(&t.amps, &p.codes);
            assert!((est / irms - 1.0).abs() < 0.01, "{irms}: {est}");
        }
    }

    #[test]
    fn extrapolates_above_the_last_unclipped_amplitude() {
        let t = fit(100, 1023, &sweep()).expect("fits");
        let from = t.extrapolated_from().expect("top codes are extrapolated");
        assert!(from > 500 && from < 1023);
        // Linear continuation: equal steps above the last knot.
        let d1 = t.amps[1022] - t.amps[1021];
        let d2 = t.amps[1023] - t.amps[1022];
        assert!((d1 - d2).abs() < 1e-9 && d1 > 0.0);
    }

    #[test]
    fn refuses_sweeps_that_never_leave_the_zero_code() {
        let flat = vec![SweepPoint { irms: 1.0, codes: vec![100; 50] }];
        assert_eq!(fit(100, 1023, &flat), Err(TableError::NothingToFit(100)));
    }

    #[test]
    fn estimator_doubles_the_half_wave_mean() {
        // Identity table on a half-wave-rectified sine of peak 100 codes: RMS = 100/sqrt(2).
        let amps: Vec<f64> = (0..1024).map(f64::from).collect();
        let n = 10_000;
        let codes: Vec<u32> = (0..n)
            .map(|k| {
                let s = (2.0 * PI * k as f64 / n as f64).sin();
                (100.0 * s.max(0.0)).round() as u32
            })
            .collect();
        let est = estimate_rms(&amps, &codes);
        assert!((est - 100.0 / 2f64.sqrt()).abs() < 0.05, "{est}");
    }

    #[test]
    fn validate_enforces_the_loader_rules() {
        let t = fit(100, 1023, &sweep()).expect("fits");
        assert_eq!(validate(&t.amps, 1023), Ok(()));
        assert!(validate(&t.amps[..1000], 1023).is_err());
        let mut dip = t.amps.clone();
        dip[500] = dip[499] - 1.0;
        assert_eq!(validate(&dip, 1023), Err("code 500: amps decrease".into()));
        let mut neg = t.amps.clone();
        neg[0] = -0.1;
        assert!(validate(&neg, 1023).is_err());
    }

    fn required(bits: u32) -> Vec<(&'static str, String)> {
        vec![
            ("sensor", "x".into()),
            ("circuit", "y".into()),
            ("adc_ref_mv", "2500".into()),
            ("adc_bits", bits.to_string()),
            ("source", "test".into()),
        ]
    }

    #[test]
    fn csv_round_trips_and_has_required_header() {
        let cols = vec![
            Column { hz: 45.0, amps: vec![0.0, 0.0, 1.25, 2.5] },
            Column { hz: 52.5, amps: vec![0.0, 0.0, 1.0, 2.25] },
        ];
        let text = to_csv(&cols, &required(2), &[("zero_code", "1".into())]);
        assert!(text.starts_with("# ct-calibration v1\n# sensor: x\n"));
        assert!(text.contains(
            "\n# zero_code: 1\ncode,amps_45hz,amps_52.5hz\n0,0,0\n1,0,0\n2,1.2500,1.0000\n3,2.5000,2.2500\n"
        ));
        assert_eq!(parse_csv_columns(&text), Ok(cols));
        assert!(parse_csv_columns("code,amps_50hz\n1,0\n").is_err());
        assert!(parse_csv_columns("code,amps\n0,0\n").is_err());
    }

    /// What `to_csv` writes for fitted tables is what the host loads: every column obeys the
    /// loader's rules (checked by the host's own parser, `ct_core::calibration`), and the host's
    /// interpolation between columns is the one [`at_hz`] replicates.
    #[test]
    fn written_tables_load_in_the_host_and_interpolate_the_same() {
        let a = fit(100, 1023, &sweep()).expect("fits").amps;
        // A second column as a lower-gain sensor would need (more amps per code).
        let b: Vec<f64> = a.iter().map(|x| x * 0.87).collect();
        let c: Vec<f64> = a.iter().map(|x| x * 0.8).collect();
        let cols = vec![Column { hz: 45.0, amps: a }, Column { hz: 55.0, amps: b }, Column { hz: 65.0, amps: c }];
        for col in &cols {
            assert_eq!(validate(&col.amps, 1023), Ok(()));
        }
        let text = to_csv(&cols, &required(10), &[("zero_code", "100".into())]);
        let cal = ct_core::calibration::Calibration::parse(&text, "t.csv").expect("the host loads it");
        assert_eq!(cal.frequencies(), vec![45.0, 55.0, 65.0]);
        assert_eq!(cal.zero_code(), 100);
        let parsed = parse_csv_columns(&text).expect("parses");
        for hz in [40.0, 45.0, 47.5, 52.5, 55.0, 61.0, 65.0, 70.0] {
            let ours = at_hz(&parsed, hz);
            let host = cal.lut_at(Some(hz));
            assert_eq!(ours.len(), host.len());
            for (code, (o, h)) in ours.iter().zip(&host).enumerate() {
                assert!((o - f64::from(*h)).abs() <= 1e-5 * (1.0 + o.abs()), "{hz} Hz code {code}: {o} vs {h}");
            }
        }
        // Midway between two columns is their mean; outside the range, the nearest column.
        assert!((at_hz(&parsed, 50.0)[500] - 0.935 * parsed[0].amps[500]).abs() < 1e-3);
        assert_eq!(at_hz(&parsed, 30.0), parsed[0].amps);
        assert_eq!(at_hz(&parsed, 99.0), parsed[2].amps);
        // A column that decreases is refused by the host too.
        let mut bad = cols.clone();
        bad[1].amps[600] = bad[1].amps[599] - 1.0;
        assert!(validate(&bad[1].amps, 1023).is_err());
        let err = ct_core::calibration::Calibration::parse(&to_csv(&bad, &required(10), &[]), "t.csv").unwrap_err();
        assert!(err.to_string().contains("must be monotonic"), "{err}");
    }
}
