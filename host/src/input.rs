//! Offline inputs other than captures: telling a raw byte stream from a CSV of raw ADC codes,
//! and the one parser of such a CSV ([`crate::replay`] dispatches every kind of recording).
//!
//! A CSV of codes carries no Info frame, so its sample rate comes from `--rate` (one `code`
//! per line) or from the time column (`t_s,code`), and its codes are taken to match the
//! calibration table's ADC. What the rows mean in time (gaps where `t_s` jumps) is the
//! timeline's business ([`crate::timeline::Timeline::code_row`]); this parser checks that the
//! file is one: consistent columns, codes within the ADC's range, `t_s` strictly increasing.
//!
//! Lines are split here rather than by the `csv` crate: the format is one or two numbers a
//! line, with no quoting, and errors must name the right line, which `csv`'s record positions
//! do not after a blank line or with CRLF line ends (rust-csv issues 184, 208 and 395).

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use crate::timeline::{check_rate, CodeRow, Num, RATE_RANGE_HZ};

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{file}:{line}: {msg}")]
    Invalid { file: String, line: u64, msg: String },
    #[error("{file}: {msg}")]
    Usage { file: String, msg: String },
    #[error("cannot read {file}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
}

/// What kind of file `bytes` looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// COBS frames as the device sends them.
    ByteStream,
    /// Text: `code` per line, or `t_s,code`.
    CodesCsv,
}

/// A wire stream has a 0x00 delimiter at least every 249 bytes; a CSV never has one, and is
/// UTF-8 text (a byte-order mark, or a non-ASCII name in a comment, included). Bytes without a
/// delimiter that are not text either (a wrong baud rate's noise) are still a byte stream, so
/// that the decoder says what is wrong with them.
pub fn sniff(bytes: &[u8]) -> InputKind {
    let head = &bytes[..bytes.len().min(4096)];
    let text = match std::str::from_utf8(head) {
        Ok(_) => true,
        // Only the 4 KB cut fell inside a character.
        Err(e) => e.error_len().is_none(),
    };
    if text && !head.is_empty() && !head.contains(&0) {
        InputKind::CodesCsv
    } else {
        InputKind::ByteStream
    }
}

/// Rows read ahead to learn the sample rate from the time column (their median step).
const RATE_ROWS: usize = 2001;

/// A CSV of codes, read row by row with bounded memory.
pub struct CodesCsv<R> {
    file: String,
    input: R,
    max_code: u16,
    rate_hz: f64,
    /// Rows read while learning the rate, not yet handed out.
    ahead: VecDeque<CodeRow>,
    /// Columns of the data rows (1 or 2), from the first one.
    columns: Option<usize>,
    /// Line and time of the last timed row.
    prev: Option<(u64, f64)>,
    line: u64,
    /// Bytes consumed so far.
    offset: u64,
    buf: Vec<u8>,
}

impl CodesCsv<BufReader<File>> {
    /// Opens `path`; `rate` is `--rate`, required for a CSV without a time column.
    pub fn open(path: &Path, max_code: u16, rate: Option<f64>) -> Result<Self, InputError> {
        let file = path.display().to_string();
        let f = File::open(path).map_err(|source| InputError::Io { file: file.clone(), source })?;
        CodesCsv::new(BufReader::new(f), file, max_code, rate)
    }
}

impl<R: BufRead> CodesCsv<R> {
    /// Reads the CSV from `input` (called `file` in errors) and learns its sample rate.
    pub fn new(input: R, file: String, max_code: u16, rate: Option<f64>) -> Result<Self, InputError> {
        let mut csv = CodesCsv {
            file,
            input,
            max_code,
            rate_hz: 0.0,
            ahead: VecDeque::new(),
            columns: None,
            prev: None,
            line: 0,
            offset: 0,
            buf: Vec::new(),
        };
        while csv.ahead.len() < RATE_ROWS {
            match csv.parse_row()? {
                Some(row) => csv.ahead.push_back(row),
                None => break,
            }
        }
        let usage = |msg: &str| InputError::Usage { file: csv.file.clone(), msg: msg.into() };
        let Some(first) = csv.ahead.front() else { return Err(usage("no samples")) };
        csv.rate_hz = match (first.t_s.is_some(), rate) {
            (_, Some(r)) if r > 0.0 && r.is_finite() => {
                check_rate(r).map_err(|e| usage(&format!("--rate {}: {e}", Num(r))))?;
                r
            }
            (_, Some(r)) => return Err(usage(&format!("--rate {} is not a sample rate in Hz", Num(r)))),
            (false, None) => return Err(usage("a CSV with one `code` per line needs the sample rate: add --rate HZ")),
            (true, None) => {
                let times: Vec<f64> = csv.ahead.iter().filter_map(|r| r.t_s).collect();
                let mut steps: Vec<f64> = times.windows(2).map(|w| w[1] - w[0]).collect();
                if steps.is_empty() {
                    return Err(usage("need at least two timed samples"));
                }
                steps.sort_by(f64::total_cmp);
                let step = steps[steps.len() / 2];
                let rate = 1.0 / step;
                if !rate.is_finite() {
                    return Err(usage(&format!("a median time step of {} s gives no sample rate", Num(step))));
                }
                check_rate(rate).map_err(|_| {
                    usage(&format!(
                        "the time column's median step of {} s means {} samples/s, outside the range the meter works \
                         with ({} to {} samples/s): is t_s in seconds?",
                        Num(step),
                        Num(rate),
                        RATE_RANGE_HZ.0,
                        RATE_RANGE_HZ.1
                    ))
                })?;
                rate
            }
        };
        Ok(csv)
    }

    /// The file's name, as errors give it.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The sample rate, given or learnt.
    pub fn rate_hz(&self) -> f64 {
        self.rate_hz
    }

    /// Bytes of the file consumed so far (for progress).
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The next row, checked; `None` at the end of the file.
    pub fn next_row(&mut self) -> Result<Option<CodeRow>, InputError> {
        match self.ahead.pop_front() {
            Some(row) => Ok(Some(row)),
            None => self.parse_row(),
        }
    }

    fn parse_row(&mut self) -> Result<Option<CodeRow>, InputError> {
        loop {
            self.buf.clear();
            let n = self
                .input
                .read_until(b'\n', &mut self.buf)
                .map_err(|source| InputError::Io { file: self.file.clone(), source })?;
            if n == 0 {
                return Ok(None);
            }
            self.offset += n as u64;
            self.line += 1;
            let line = self.line;
            let text = String::from_utf8_lossy(&self.buf);
            // A byte-order mark, as some spreadsheets write, is not part of the first row.
            let l = text.trim().trim_start_matches('\u{feff}');
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            let err = |msg: String| InputError::Invalid { file: self.file.clone(), line, msg };
            let cols: Vec<&str> = l.split(',').map(str::trim).collect();
            if self.columns.is_none() && (cols == ["code"] || cols == ["t_s", "code"]) {
                self.columns = Some(cols.len());
                continue;
            }
            let want = *self.columns.get_or_insert(cols.len());
            if cols.len() != want || !(1..=2).contains(&cols.len()) {
                return Err(err(format!(
                    "expected {} column(s) (`code` or `t_s,code`), found `{l}`",
                    want.clamp(1, 2)
                )));
            }
            let code_txt = cols[cols.len() - 1];
            let max = self.max_code;
            let code: u16 = code_txt
                .parse()
                .ok()
                .filter(|&c| c <= max)
                .ok_or_else(|| err(format!("code `{code_txt}` is not an integer in 0..={max}")))?;
            let t_s = match cols[..] {
                [t, _] => {
                    let t: f64 = t
                        .parse()
                        .ok()
                        .filter(|t: &f64| t.is_finite())
                        .ok_or_else(|| err(format!("t_s `{t}` is not a number")))?;
                    if let Some((pl, pt)) = self.prev {
                        if t <= pt {
                            return Err(err(format!("t_s {} does not increase (line {pl} has {})", Num(t), Num(pt))));
                        }
                    }
                    self.prev = Some((line, t));
                    Some(t)
                }
                _ => None,
            };
            return Ok(Some(CodeRow { t_s, code }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calibration::Calibration;
    use crate::estimate::{EstimatorConfig, Reading};
    use crate::meter::Event;

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
        let cal = table();
        let csv =
            CodesCsv::new(text.as_bytes(), "in.csv".into(), cal.full_scale_code(), rate).map_err(|e| e.to_string())?;
        crate::replay::codes_csv_readings(csv, cal, cfg, &mut |_| true, &mut |e, _| {
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

    /// A `--rate` that is no sample rate is refused, also for a CSV whose time column would
    /// give one (before, a timed CSV used it as given).
    #[test]
    fn a_rate_that_is_no_rate_is_refused() {
        assert_eq!(
            readings("t_s,code\n0,5\n0.001,6\n", Some(-5.0)).unwrap_err(),
            "in.csv: --rate -5 is not a sample rate in Hz"
        );
        assert_eq!(readings("code\n5\n", Some(f64::NAN)).unwrap_err(), "in.csv: --rate NaN is not a sample rate in Hz");
    }

    /// Errors name the file's own line, after comments, blank lines and CRLF line ends (which
    /// the `csv` crate's record positions miscount).
    #[test]
    fn errors_name_the_right_line() {
        assert_eq!(
            readings("# c\r\n\r\nt_s,code\r\n\r\n0.000,5\r\n  \r\n0.001,x\r\n", None).unwrap_err(),
            "in.csv:7: code `x` is not an integer in 0..=1023"
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

    /// Issue 11.13: a CSV with a byte-order mark or a non-ASCII byte in its first 4 KB is
    /// text, read as codes (before: taken for a byte stream, no readings); noise without a
    /// delimiter that is not text is still a byte stream.
    #[test]
    fn text_with_a_bom_or_non_ascii_is_a_csv() {
        let bom = "\u{feff}t_s,code\n0.000,5\n0.001,6\n0.002,7\n";
        assert_eq!(sniff(bom.as_bytes()), InputKind::CodesCsv);
        let accented = "# mesuré à Zürich\ncode\n512\n";
        assert_eq!(sniff(accented.as_bytes()), InputKind::CodesCsv);
        // A multi-byte character cut by the 4 KB mark.
        let long = format!("# {}\ncode\n5\n", "é".repeat(3000));
        assert_eq!(sniff(long.as_bytes()), InputKind::CodesCsv);
        assert_eq!(sniff(&[0xFF, 0xFE, 0x80, 0x81, 0x12]), InputKind::ByteStream);
        assert_eq!(sniff(b"code\n5\n\x00"), InputKind::ByteStream);
        let csv = CodesCsv::new(bom.as_bytes(), "bom.csv".into(), 1023, None).unwrap();
        assert_eq!(csv.rate_hz(), 1000.0);
    }

    /// Issue 11.2: a sample rate the meter cannot work with is refused with a message that
    /// says why and what to check: `t_s` in milliseconds, `--rate 1`, `--rate 1e12`, steps of
    /// 1e-12 s, or two rows a billion seconds apart.
    #[test]
    fn rates_the_meter_cannot_use_are_refused() {
        let ms: String = std::iter::once("t_s,code\n".to_string())
            .chain((0..100).map(|k| format!("{},5\n", k as f64 * 0.125)))
            .collect();
        assert_eq!(
            readings(&ms, None).unwrap_err(),
            "in.csv: the time column's median step of 0.125 s means 8 samples/s, outside the range the meter works \
             with (500 to 200000 samples/s): is t_s in seconds?"
        );
        assert_eq!(
            readings("code\n5\n6\n", Some(1.0)).unwrap_err(),
            "in.csv: --rate 1: a sample rate of 1 samples/s is outside the range the meter works with (500 to 200000 \
             samples/s)"
        );
        assert!(readings("code\n5\n", Some(1e12)).unwrap_err().contains("--rate 1e12: a sample rate of 1e12"));
        let tiny: String = std::iter::once("t_s,code\n".to_string())
            .chain((0..100).map(|k| format!("{:e},5\n", k as f64 * 1e-12)))
            .collect();
        let e = readings(&tiny, None).unwrap_err();
        assert!(e.contains("e-12 s means 1") && e.contains("e12 samples/s, outside"), "{e}");
        let e = readings("0,99\n1e9,300\n", None).unwrap_err();
        assert!(e.contains("median step of 1e9 s means 1e-9 samples/s"), "{e}");
    }
}
