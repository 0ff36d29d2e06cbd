//! Offline inputs other than captures: telling a raw byte stream from a CSV of raw ADC codes,
//! and estimating from such a CSV ([`crate::replay`] dispatches every kind of recording).
//!
//! A CSV of codes carries no Info frame, so its sample rate comes from `--rate` (one `code`
//! per line) or from the time column (`t_s,code`), and its codes are taken to match the
//! calibration table's ADC.

use crate::calibration::Calibration;
use crate::estimate::{Estimator, EstimatorConfig};
use crate::meter::Event;

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{file}:{line}: {msg}")]
    Invalid { file: String, line: usize, msg: String },
    #[error("{file}: {msg}")]
    Usage { file: String, msg: String },
}

/// What kind of file `bytes` looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// COBS frames as the device sends them.
    ByteStream,
    /// Text: `code` per line, or `t_s,code`.
    CodesCsv,
}

/// A wire stream has a 0x00 delimiter at least every few hundred bytes; a CSV never has one.
pub fn sniff(bytes: &[u8]) -> InputKind {
    let head = &bytes[..bytes.len().min(4096)];
    let text = head.iter().all(|&b| b == b'\n' || b == b'\r' || b == b'\t' || (0x20..0x7F).contains(&b));
    if text && !head.is_empty() {
        InputKind::CodesCsv
    } else {
        InputKind::ByteStream
    }
}

/// Parses a CSV of codes and estimates from it.
pub fn analyze_codes_csv(
    text: &str,
    name: &str,
    cal: Calibration,
    cfg: EstimatorConfig,
    rate: Option<f64>,
    out: &mut impl FnMut(Event),
) -> Result<(), InputError> {
    let err = |line: usize, msg: String| InputError::Invalid { file: name.to_owned(), line, msg };
    let max_code = cal.full_scale_code();
    let mut rows: Vec<(usize, Option<f64>, u16)> = Vec::new();
    let mut columns = None;
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let l = raw.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = l.split(',').map(str::trim).collect();
        if columns.is_none() && (cols == ["code"] || cols == ["t_s", "code"]) {
            columns = Some(cols.len());
            continue;
        }
        let want = *columns.get_or_insert(cols.len());
        if cols.len() != want || !(1..=2).contains(&cols.len()) {
            return Err(err(n, format!("expected {} column(s) (`code` or `t_s,code`), found `{l}`", want.clamp(1, 2))));
        }
        let code_txt = cols[cols.len() - 1];
        let code: u16 = code_txt
            .parse()
            .ok()
            .filter(|&c| c <= max_code)
            .ok_or_else(|| err(n, format!("code `{code_txt}` is not an integer in 0..={max_code}")))?;
        let t = if cols.len() == 2 {
            let t: f64 = cols[0]
                .parse()
                .ok()
                .filter(|t: &f64| t.is_finite())
                .ok_or_else(|| err(n, format!("t_s `{}` is not a number", cols[0])))?;
            if let Some(&(pl, Some(pt), _)) = rows.last() {
                if t <= pt {
                    return Err(err(n, format!("t_s {t} does not increase (line {pl} has {pt})")));
                }
            }
            Some(t)
        } else {
            None
        };
        rows.push((n, t, code));
    }
    if rows.is_empty() {
        return Err(InputError::Usage { file: name.to_owned(), msg: "no samples".into() });
    }
    let timed = rows[0].1.is_some();
    let rate = match (timed, rate) {
        (false, Some(r)) if r > 0.0 && r.is_finite() => r,
        (false, _) => {
            return Err(InputError::Usage {
                file: name.to_owned(),
                msg: "a CSV with one `code` per line needs the sample rate: add --rate HZ".into(),
            })
        }
        (true, Some(r)) => r,
        (true, None) => {
            let mut dts: Vec<f64> = rows.windows(2).take(2000).map(|w| w[1].1.unwrap() - w[0].1.unwrap()).collect();
            if dts.is_empty() {
                return Err(InputError::Usage { file: name.to_owned(), msg: "need at least two timed samples".into() });
            }
            dts.sort_by(f64::total_cmp);
            1.0 / dts[dts.len() / 2]
        }
    };

    let mut est = Estimator::new(&cal, rate, cfg);
    let mut emit = |r| out(Event::Reading(r));
    let t0 = rows[0].1.unwrap_or(0.0);
    let mut run: Vec<u16> = Vec::new();
    let mut run_t = t0;
    let mut prev_t: Option<f64> = None;
    for &(_, t, code) in &rows {
        if let (Some(t), Some(pt)) = (t, prev_t) {
            let missing = ((t - pt) * rate).round() as i64 - 1;
            if missing > 0 {
                est.push(run_t - t0, &run, &mut emit);
                run.clear();
                est.gap(missing as u64, &mut emit);
                run_t = t;
            }
        }
        if run.is_empty() {
            run_t = t.unwrap_or(run_t);
        }
        prev_t = t;
        run.push(code);
    }
    est.push(run_t - t0, &run, &mut emit);
    est.flush(&mut emit);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estimate::Reading;

    fn table() -> Calibration {
        Calibration::parse(
            "# ct-calibration v1\n# sensor: s\n# circuit: c\n# adc_ref_mv: 2500\n# adc_bits: 10\n# source: t\ncode,amps\n0,0\n100,0\n1023,92.3\n",
            "t.csv",
        )
        .unwrap()
    }

    fn readings(text: &str, rate: Option<f64>) -> Result<Vec<Reading>, String> {
        let mut v = Vec::new();
        let cfg = EstimatorConfig { method: crate::estimate::Method::Table, ..EstimatorConfig::default() };
        analyze_codes_csv(text, "in.csv", table(), cfg, rate, &mut |e| {
            if let Event::Reading(r) = e {
                v.push(r)
            }
        })
        .map_err(|e| e.to_string())?;
        Ok(v)
    }

    #[test]
    fn sniffs_text_and_streams() {
        assert_eq!(sniff(b"code\n512\n"), InputKind::CodesCsv);
        assert_eq!(sniff(&[0x02, 0x01, 0x00, 0x05]), InputKind::ByteStream);
    }

    #[test]
    fn code_rows_need_a_rate_and_valid_codes() {
        assert_eq!(
            readings("code\n1\n2\n", None).unwrap_err(),
            "in.csv: a CSV with one `code` per line needs the sample rate: add --rate HZ"
        );
        assert_eq!(
            readings("code\n1\n2000\n", Some(1000.0)).unwrap_err(),
            "in.csv:3: code `2000` is not an integer in 0..=1023"
        );
        assert_eq!(
            readings("t_s,code\n0.1,5\n0.1,6\n", None).unwrap_err(),
            "in.csv:3: t_s 0.1 does not increase (line 2 has 0.1)"
        );
        assert_eq!(
            readings("1,2\n3\n", None).unwrap_err(),
            "in.csv:2: expected 2 column(s) (`code` or `t_s,code`), found `3`"
        );
    }

    #[test]
    fn timed_rows_find_rate_and_gaps() {
        // 1000 Sa/s of a 50 Hz half-wave sine whose peak is code 1023 (92.3 A), with a hole.
        let mut text = String::from("t_s,code\n");
        for k in (0..3000).filter(|k| !(1200..1300).contains(k)) {
            let t = k as f64 / 1000.0;
            let amps = (92.3 * (std::f64::consts::TAU * 50.0 * t).sin()).max(0.0);
            let code = if amps > 0.0 { 100.0 + amps / 92.3 * 923.0 } else { 100.0 };
            text.push_str(&format!("{t:.3},{}\n", code.round() as u16));
        }
        let r = readings(&text, None).unwrap();
        assert!(r.iter().any(|r| r.flags.gap && r.lost_samples == 100), "{r:?}");
        let full: Vec<_> = r.iter().filter(|r| r.samples == 1000).collect();
        assert!(!full.is_empty());
        for r in full {
            assert!((r.irms_a / (92.3 / 2f64.sqrt()) - 1.0).abs() < 0.01, "{r:?}");
        }
    }
}
