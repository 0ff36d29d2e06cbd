//! Calibration tables: ADC code -> instantaneous primary current.
//!
//! The format is documented in `calibration/README.md`. Loading validates everything the
//! estimator relies on (coverage of every code, monotonic, finite, non-negative), because a
//! table that is silently wrong would make every reading silently wrong. Errors name the file
//! and line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// First line of every table.
pub const MAGIC: &str = "# ct-calibration v1";

/// The table the project ships, generated from the SPICE model (see `spice/README.md`).
pub const DEFAULT_TABLE: &str = include_str!("../../calibration/efergy-default.csv");
/// Name used in messages for [`DEFAULT_TABLE`].
pub const DEFAULT_TABLE_NAME: &str = "calibration/efergy-default.csv (built in)";

#[derive(Debug, thiserror::Error)]
pub enum CalibrationError {
    #[error("cannot read calibration table {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}:{line}: {msg}")]
    Invalid { file: String, line: usize, msg: String },
}

/// A validated calibration table, expanded to one entry per ADC code.
#[derive(Debug, Clone)]
pub struct Calibration {
    /// Where the table came from (file name), for messages.
    pub name: String,
    /// All `# key: value` metadata, in file order of keys (sorted).
    pub meta: BTreeMap<String, String>,
    pub adc_ref_mv: u16,
    pub adc_bits: u8,
    /// Amps for every code `0..2^adc_bits`, interpolated between table rows.
    lut: Vec<f32>,
    /// Highest code that maps to 0 A: the no-current level.
    zero_code: u16,
}

impl Calibration {
    /// Loads and validates a table from a file.
    pub fn load(path: &Path) -> Result<Self, CalibrationError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| CalibrationError::Io { path: path.to_owned(), source })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// The table built into the binary.
    pub fn builtin() -> Self {
        Self::parse(DEFAULT_TABLE, DEFAULT_TABLE_NAME).expect("the shipped table is validated by the test suite")
    }

    /// Parses and validates table text; `name` appears in error messages.
    pub fn parse(text: &str, name: &str) -> Result<Self, CalibrationError> {
        let err = |line: usize, msg: String| CalibrationError::Invalid { file: name.to_owned(), line, msg };
        let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l.trim_end_matches('\r')));

        match lines.next() {
            Some((_, l)) if l.trim() == MAGIC => {}
            Some((n, l)) => return Err(err(n, format!("expected `{MAGIC}` as the first line, found `{l}`"))),
            None => return Err(err(1, "empty file".into())),
        }

        let mut meta = BTreeMap::new();
        let mut header_line = None;
        for (n, l) in lines.by_ref() {
            if let Some(rest) = l.strip_prefix('#') {
                let Some((k, v)) = rest.split_once(':') else {
                    continue; // free-text comment
                };
                meta.insert(k.trim().to_owned(), v.trim().to_owned());
            } else if l.trim().is_empty() {
                continue;
            } else {
                let cols: Vec<&str> = l.split(',').map(str::trim).collect();
                if cols != ["code", "amps"] {
                    return Err(err(n, format!("expected the column header `code,amps`, found `{l}`")));
                }
                header_line = Some(n);
                break;
            }
        }
        let header_line = header_line.ok_or_else(|| err(text.lines().count(), "no `code,amps` header row".into()))?;

        for key in ["sensor", "circuit", "adc_ref_mv", "adc_bits", "source"] {
            if !meta.contains_key(key) {
                return Err(err(header_line, format!("missing required metadata `# {key}: ...`")));
            }
        }
        let adc_ref_mv: u16 = meta["adc_ref_mv"]
            .parse()
            .map_err(|_| err(header_line, format!("adc_ref_mv `{}` is not an integer in mV", meta["adc_ref_mv"])))?;
        let adc_bits: u8 = match meta["adc_bits"].parse() {
            Ok(b @ 1..=16) => b,
            _ => return Err(err(header_line, format!("adc_bits `{}` is not an integer in 1..=16", meta["adc_bits"]))),
        };
        let max_code = (1u32 << adc_bits) - 1;

        let mut rows: Vec<(u32, f64)> = Vec::new();
        let mut last_line = header_line;
        for (n, l) in lines {
            last_line = n;
            if l.trim().is_empty() || l.starts_with('#') {
                continue;
            }
            let (c, a) = l.split_once(',').ok_or_else(|| err(n, format!("expected `code,amps`, found `{l}`")))?;
            let code: u32 = c.trim().parse().map_err(|_| err(n, format!("code `{}` is not an integer", c.trim())))?;
            let amps: f64 = a.trim().parse().map_err(|_| err(n, format!("amps `{}` is not a number", a.trim())))?;
            if !amps.is_finite() || amps < 0.0 {
                return Err(err(n, format!("amps {amps} must be finite and >= 0")));
            }
            if code > max_code {
                return Err(err(n, format!("code {code} exceeds the {adc_bits}-bit maximum {max_code}")));
            }
            if let Some(&(pc, pa)) = rows.last() {
                if code <= pc {
                    return Err(err(n, format!("code {code} does not increase (previous row has {pc})")));
                }
                if amps < pa {
                    return Err(err(
                        n,
                        format!("amps {amps} decreases (previous row has {pa} A); the table must be monotonic"),
                    ));
                }
            } else if code != 0 {
                return Err(err(n, format!("the first row must be code 0 (found {code}) so every code is covered")));
            }
            rows.push((code, amps));
        }
        match rows.last() {
            None => return Err(err(last_line, "no table rows".into())),
            Some(&(c, _)) if c != max_code => {
                return Err(err(
                    last_line,
                    format!("the last row must be code {max_code} (found {c}) so every code is covered"),
                ))
            }
            _ => {}
        }

        let lut: Vec<f32> = (0..=max_code)
            .map(|code| {
                let i = rows.partition_point(|&(c, _)| c <= code) - 1;
                let (c0, a0) = rows[i];
                match rows.get(i + 1) {
                    Some(&(c1, a1)) => (a0 + (a1 - a0) * (code - c0) as f64 / (c1 - c0) as f64) as f32,
                    None => a0 as f32,
                }
            })
            .collect();
        let zero_code = lut.iter().rposition(|&a| a == 0.0).unwrap_or(0) as u16;
        Ok(Calibration { name: name.to_owned(), meta, adc_ref_mv, adc_bits, lut, zero_code })
    }

    /// Instantaneous primary current for each ADC code (index = code).
    pub fn lut(&self) -> &[f32] {
        &self.lut
    }

    /// Amps for one code (codes beyond the table read as full scale).
    pub fn amps(&self, code: u16) -> f32 {
        self.lut[(code as usize).min(self.lut.len() - 1)]
    }

    /// Highest code that reads 0 A: what the ADC sees with no current.
    pub fn zero_code(&self) -> u16 {
        self.zero_code
    }

    /// Full-scale code: samples here are clipped (over-range).
    pub fn full_scale_code(&self) -> u16 {
        (self.lut.len() - 1) as u16
    }

    /// Smallest code whose current is at least `amps` (the forward model used by the virtual
    /// device: the code the sensor chain produces for an instantaneous current).
    pub fn code_for(&self, amps: f32) -> u16 {
        if amps <= 0.0 {
            return self.zero_code;
        }
        let i = self.lut.partition_point(|&a| a < amps);
        if i >= self.lut.len() {
            return self.full_scale_code();
        }
        // Round to the nearer of the two neighbouring codes, as an ADC does.
        if i > 0 && (amps - self.lut[i - 1]) < (self.lut[i] - amps) {
            (i - 1) as u16
        } else {
            i as u16
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "# ct-calibration v1\n# sensor: s\n# circuit: c\n# adc_ref_mv: 2500\n# adc_bits: 2\n# source: hand\ncode,amps\n0,0\n1,0\n3,10\n";

    #[test]
    fn interpolates_and_finds_zero_level() {
        let c = Calibration::parse(GOOD, "t.csv").unwrap();
        assert_eq!(c.lut(), &[0.0, 0.0, 5.0, 10.0]);
        assert_eq!(c.zero_code(), 1);
        assert_eq!(c.code_for(0.0), 1);
        assert_eq!(c.code_for(4.0), 2);
        assert_eq!(c.code_for(1.0), 1);
        assert_eq!(c.code_for(100.0), 3);
    }

    fn error_of(text: &str) -> String {
        Calibration::parse(text, "t.csv").unwrap_err().to_string()
    }

    #[test]
    fn errors_name_file_and_line() {
        let text = GOOD.replace("1,0\n", "1,5\n").replace("3,10", "3,4");
        assert_eq!(error_of(&text), "t.csv:10: amps 4 decreases (previous row has 5 A); the table must be monotonic");
    }

    #[test]
    fn rejects_each_kind_of_bad_table() {
        let cases = [
            (GOOD.replace("# ct-calibration v1", "code,amps"), "t.csv:1: expected `# ct-calibration v1`"),
            (GOOD.replace("# source: hand\n", ""), "t.csv:6: missing required metadata `# source: ...`"),
            (GOOD.replace("adc_bits: 2", "adc_bits: 40"), "t.csv:7: adc_bits `40` is not an integer in 1..=16"),
            (GOOD.replace("3,10", "3,NaN"), "t.csv:10: amps NaN must be finite"),
            (GOOD.replace("3,10", "3,-1"), "t.csv:10: amps -1 must be finite"),
            (GOOD.replace("3,10", "2,10"), "t.csv:10: the last row must be code 3"),
            (GOOD.replace("0,0\n", ""), "t.csv:8: the first row must be code 0"),
            (GOOD.replace("1,0\n", "1,0\n1,2\n"), "t.csv:10: code 1 does not increase"),
            (GOOD.replace("3,10", "4,10"), "t.csv:10: code 4 exceeds the 2-bit maximum 3"),
            (GOOD.replace("3,10", "3;10"), "t.csv:10: expected `code,amps`"),
            (GOOD.replace("3,10", "x,10"), "t.csv:10: code `x` is not an integer"),
        ];
        for (text, want) in cases {
            let got = error_of(&text);
            assert!(got.starts_with(want), "want `{want}`, got `{got}`");
        }
    }

    #[test]
    fn shipped_table_is_valid() {
        let c = Calibration::builtin();
        assert_eq!(c.lut().len(), 1 << c.adc_bits);
        assert!(c.amps(c.full_scale_code()) > 95.0 * std::f32::consts::SQRT_2, "table must reach the 95 A rms peak");
    }
}
