//! Calibration tables: ADC code -> instantaneous primary current.
//!
//! The format is documented in `calibration/README.md`. Loading validates everything the
//! estimator relies on (coverage of every code, monotonic, finite, non-negative), because a
//! table that is silently wrong would make every reading silently wrong. Errors name the file
//! and line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Frequency assumed for a window whose mains frequency could not be estimated.
pub const UNKNOWN_MAINS_HZ: f64 = 50.0;

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
    /// One column per mains frequency the table was made for (a single column without a
    /// frequency when the table does not depend on it).
    columns: Vec<Column>,
    /// Highest code that maps to 0 A in any column: the no-current level.
    zero_code: u16,
    /// The clamp a calibration identified, when the table was made for one (see [`Clamp`]).
    clamp: Option<Clamp>,
}

/// The user's clamp as `ct-read calibrate` identified it from reference recordings
/// (`crate::identify`): the metadata `clamp_lm_h` and `clamp_gain`.
///
/// Why both: the table's currents are the model's own table for a clamp of this magnetizing
/// inductance, times the gain; the dynamic methods run the model with `lm_h` and need the
/// table without the gain (the model's own) to take their corrections against.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Clamp {
    /// Magnetizing inductance, H.
    pub lm_h: f64,
    /// What the clamp reads above the model with that inductance (turns ratio, gain spread).
    pub gain: f64,
}

/// Magnetizing inductances a table may state, H: beyond this range no Efergy-like clamp is
/// known, and a value outside it is a typo.
pub const CLAMP_LM_RANGE_H: (f64, f64) = (0.05, 100.0);
/// Clamp gains a table may state: the turns ratio and burden of a clamp of the same family
/// are within a few percent of the model's, so anything beyond this is a wrong table.
pub const CLAMP_GAIN_RANGE: (f64, f64) = (0.5, 2.0);

/// One column of a table, expanded to every code.
#[derive(Debug, Clone, PartialEq)]
struct Column {
    hz: Option<f64>,
    /// Amps for every code `0..2^adc_bits`, interpolated between table rows.
    lut: Vec<f32>,
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
        Self::shared_builtin().clone()
    }

    /// The built-in table, parsed once per process (every estimator with a user table and
    /// every calibration compares with it or reads through it).
    fn shared_builtin() -> &'static Calibration {
        static TABLE: std::sync::OnceLock<Calibration> = std::sync::OnceLock::new();
        TABLE.get_or_init(|| {
            Self::parse(DEFAULT_TABLE, DEFAULT_TABLE_NAME).expect("the shipped table is validated by the test suite")
        })
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
        let mut freqs: Vec<f64> = Vec::new();
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
                let bad_header = || {
                    err(
                        n,
                        format!(
                            "expected the column header `code,amps` or `code,amps_50hz,amps_60hz,...`, found `{l}`"
                        ),
                    )
                };
                if cols.len() < 2 || cols[0] != "code" {
                    return Err(bad_header());
                }
                if cols[1..] != ["amps"] {
                    for c in &cols[1..] {
                        let hz = c
                            .strip_prefix("amps_")
                            .and_then(|c| c.strip_suffix("hz"))
                            .and_then(|f| f.parse::<f64>().ok())
                            .filter(|f| f.is_finite() && *f > 0.0)
                            .ok_or_else(bad_header)?;
                        if freqs.last().is_some_and(|&p| hz <= p) {
                            return Err(err(n, format!("column frequencies must increase: `{c}`")));
                        }
                        freqs.push(hz);
                    }
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
        let clamp = match (meta.get("clamp_lm_h"), meta.get("clamp_gain")) {
            (None, None) => None,
            (Some(lm), Some(gain)) => {
                let within = |v: &str, (lo, hi): (f64, f64)| v.parse::<f64>().ok().filter(|x| (lo..=hi).contains(x));
                let lm_h = within(lm, CLAMP_LM_RANGE_H).ok_or_else(|| {
                    err(header_line, format!("clamp_lm_h `{lm}` is not an inductance in {CLAMP_LM_RANGE_H:?} H"))
                })?;
                let gain = within(gain, CLAMP_GAIN_RANGE).ok_or_else(|| {
                    err(header_line, format!("clamp_gain `{gain}` is not a gain in {CLAMP_GAIN_RANGE:?}"))
                })?;
                Some(Clamp { lm_h, gain })
            }
            _ => return Err(err(header_line, "clamp_lm_h and clamp_gain go together; one is missing".into())),
        };

        let ncols = freqs.len().max(1);
        let mut rows: Vec<(u32, Vec<f64>)> = Vec::new();
        let mut last_line = header_line;
        for (n, l) in lines {
            last_line = n;
            if l.trim().is_empty() || l.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = l.split(',').map(str::trim).collect();
            if fields.len() != ncols + 1 {
                return Err(err(n, format!("expected {} columns, found {} in `{l}`", ncols + 1, fields.len())));
            }
            let code: u32 = fields[0].parse().map_err(|_| err(n, format!("code `{}` is not an integer", fields[0])))?;
            if code > max_code {
                return Err(err(n, format!("code {code} exceeds the {adc_bits}-bit maximum {max_code}")));
            }
            let mut amps = Vec::with_capacity(ncols);
            for (k, a) in fields[1..].iter().enumerate() {
                let v: f64 = a.parse().map_err(|_| err(n, format!("amps `{a}` is not a number")))?;
                if !v.is_finite() || v < 0.0 {
                    return Err(err(n, format!("amps {v} must be finite and >= 0")));
                }
                if let Some((_, prev)) = rows.last() {
                    if v < prev[k] {
                        return Err(err(
                            n,
                            format!("amps {v} decreases (previous row has {} A); the table must be monotonic", prev[k]),
                        ));
                    }
                }
                amps.push(v);
            }
            match rows.last() {
                Some(&(pc, _)) if code <= pc => {
                    return Err(err(n, format!("code {code} does not increase (previous row has {pc})")))
                }
                None if code != 0 => {
                    return Err(err(n, format!("the first row must be code 0 (found {code}) so every code is covered")))
                }
                _ => {}
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

        let columns: Vec<Column> = (0..ncols)
            .map(|k| Column {
                hz: freqs.get(k).copied(),
                lut: (0..=max_code)
                    .map(|code| {
                        let i = rows.partition_point(|&(c, _)| c <= code) - 1;
                        let (c0, a0) = (rows[i].0, rows[i].1[k]);
                        match rows.get(i + 1) {
                            Some((c1, a1)) => (a0 + (a1[k] - a0) * (code - c0) as f64 / (c1 - c0) as f64) as f32,
                            None => a0 as f32,
                        }
                    })
                    .collect(),
            })
            .collect();
        let zero_code =
            columns.iter().map(|c| c.lut.iter().rposition(|&a| a == 0.0).unwrap_or(0)).max().unwrap_or(0) as u16;
        Ok(Calibration { name: name.to_owned(), meta, adc_ref_mv, adc_bits, columns, zero_code, clamp })
    }

    /// The clamp this table was identified for, if a calibration identified one.
    pub fn clamp(&self) -> Option<Clamp> {
        self.clamp
    }

    /// The magnetizing inductance the table is right for, H: the identified clamp's, else the
    /// model's (every table without `clamp_lm_h` derives from the built-in one).
    pub fn lm_h(&self) -> f64 {
        self.clamp.map_or(crate::clamp_model::CtParams::default().lm, |c| c.lm_h)
    }

    /// For a table identified for a clamp: the model's own table for that clamp (this table
    /// without the clamp's gain), which the dynamic methods take their corrections against.
    pub fn model_table(&self) -> Option<Calibration> {
        let clamp = self.clamp?;
        let mut t = self.scaled(1.0 / clamp.gain);
        t.name = format!("{} (the model's own, without the gain {})", self.name, clamp.gain);
        Some(t)
    }

    /// Every current times `gain` (the clamp's gain, when it has one, times it too): a table
    /// for a clamp that reads `gain` times this one's.
    pub fn scaled(&self, gain: f64) -> Calibration {
        let mut t = self.clone();
        t.name = format!("{} x {gain}", self.name);
        t.clamp = self.clamp.map(|c| Clamp { gain: c.gain * gain, ..c });
        for c in &mut t.columns {
            c.lut.iter_mut().for_each(|a| *a *= gain as f32);
        }
        t
    }

    /// The text of a table in this format with `meta` and one column of amps per frequency in
    /// `freqs` (or a single frequency-independent column when `freqs` is empty), one row per
    /// code, ready to [`Calibration::parse`].
    pub fn text(meta: &BTreeMap<String, String>, freqs: &[f64], columns: &[Vec<f64>]) -> String {
        use std::fmt::Write as _;
        let mut text = String::new();
        let _ = writeln!(text, "{MAGIC}");
        for (k, v) in meta {
            let _ = writeln!(text, "# {k}: {v}");
        }
        let header: Vec<String> =
            if freqs.is_empty() { vec!["amps".into()] } else { freqs.iter().map(|f| format!("amps_{f}hz")).collect() };
        let _ = writeln!(text, "code,{}", header.join(","));
        for code in 0..columns.first().map_or(0, Vec::len) {
            let vals: Vec<String> = columns.iter().map(|col| format!("{:.5}", col[code])).collect();
            let _ = writeln!(text, "{code},{}", vals.join(","));
        }
        text
    }

    /// Whether this is the table built into the binary (the one the dynamic model matches).
    /// By content, not by name: the shipped file loaded with `--calibration` is the built-in
    /// table too (taken for a user table, it lost the model-based paths).
    pub fn is_builtin(&self) -> bool {
        let builtin = Self::shared_builtin();
        self.name == DEFAULT_TABLE_NAME
            || self.clamp.is_none() && self.adc_bits == builtin.adc_bits && self.columns == builtin.columns
    }

    /// Mains frequencies the table has columns for (empty: frequency-independent).
    pub fn frequencies(&self) -> Vec<f64> {
        self.columns.iter().filter_map(|c| c.hz).collect()
    }

    /// Instantaneous primary current for each ADC code (index = code) at mains frequency `hz`:
    /// linear interpolation between the two nearest columns, the nearest column outside their
    /// range; at 50 Hz when the frequency is unknown (a window too short or too small to tell).
    pub fn lut_at(&self, hz: Option<f64>) -> Vec<f32> {
        let first = &self.columns[0];
        let Some(_) = first.hz else { return first.lut.clone() };
        let hz = hz.unwrap_or(UNKNOWN_MAINS_HZ);
        let i = self.columns.partition_point(|c| c.hz.is_some_and(|f| f <= hz));
        if i == 0 {
            return first.lut.clone();
        }
        if i == self.columns.len() {
            return self.columns[i - 1].lut.clone();
        }
        let (a, b) = (&self.columns[i - 1], &self.columns[i]);
        let (fa, fb) = (a.hz.unwrap_or(hz), b.hz.unwrap_or(hz));
        let w = ((hz - fa) / (fb - fa)) as f32;
        a.lut.iter().zip(&b.lut).map(|(&x, &y)| x + (y - x) * w).collect()
    }

    /// Amps for one code at mains frequency `hz` (codes beyond the table read as full scale).
    pub fn amps(&self, code: u16, hz: Option<f64>) -> f32 {
        let lut = self.lut_at(hz);
        lut[(code as usize).min(lut.len() - 1)]
    }

    /// Highest code that reads 0 A: what the ADC sees with no current.
    pub fn zero_code(&self) -> u16 {
        self.zero_code
    }

    /// Full-scale code: samples here are clipped (over-range).
    pub fn full_scale_code(&self) -> u16 {
        (self.columns[0].lut.len() - 1) as u16
    }

    /// The code the sensor chain produces for an instantaneous current `amps` at mains
    /// frequency `hz`: the forward direction of the table, rounded to the nearer code as an
    /// ADC does (the virtual device's sensor model).
    pub fn code_for(&self, amps: f32, hz: Option<f64>) -> u16 {
        code_in(&self.lut_at(hz), amps, self.zero_code)
    }
}

/// How far the mains frequency may move before a [`TrackedLut`] is interpolated again, Hz: the
/// columns are 5 Hz apart, so 0.05 Hz moves an entry by at most a hundredth of the columns'
/// difference, far below the table's own accuracy.
pub const RETUNE_HZ: f64 = 0.05;

/// A table interpolated at the mains frequency, kept while the frequency stays within
/// [`RETUNE_HZ`]: interpolating every code of two columns per window would cost more than
/// inverting the window's samples. The estimator, the raw export and the folded plot read
/// samples through one each.
#[derive(Debug, Clone)]
pub struct TrackedLut {
    lut: Vec<f32>,
    hz: Option<f64>,
}

impl TrackedLut {
    pub fn new(cal: &Calibration) -> Self {
        TrackedLut { lut: cal.lut_at(None), hz: None }
    }

    /// The table at `hz` (a frequency not known: the 50 Hz column), interpolated again only
    /// if the frequency moved by more than [`RETUNE_HZ`] or became known or unknown.
    pub fn at(&mut self, cal: &Calibration, hz: Option<f64>) -> &[f32] {
        let stale = match (hz, self.hz) {
            (Some(a), Some(b)) => (a - b).abs() > RETUNE_HZ,
            (a, b) => a.is_some() != b.is_some(),
        };
        if stale && cal.frequencies().len() > 1 {
            self.lut = cal.lut_at(hz);
        }
        if stale {
            self.hz = hz;
        }
        &self.lut
    }

    /// The table as last interpolated.
    pub fn table(&self) -> &[f32] {
        &self.lut
    }

    /// The frequency it was last interpolated at.
    pub fn hz(&self) -> Option<f64> {
        self.hz
    }
}

/// [`Calibration::code_for`] on an already interpolated table (for per-sample use).
pub fn code_in(lut: &[f32], amps: f32, zero_code: u16) -> u16 {
    if amps <= 0.0 {
        return zero_code;
    }
    let i = lut.partition_point(|&a| a < amps);
    if i >= lut.len() {
        return (lut.len() - 1) as u16;
    }
    if i > 0 && (amps - lut[i - 1]) < (lut[i] - amps) {
        (i - 1) as u16
    } else {
        i as u16
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "# ct-calibration v1\n# sensor: s\n# circuit: c\n# adc_ref_mv: 2500\n# adc_bits: 2\n# source: hand\ncode,amps\n0,0\n1,0\n3,10\n";

    #[test]
    fn interpolates_and_finds_zero_level() {
        let c = Calibration::parse(GOOD, "t.csv").unwrap();
        assert_eq!(c.lut_at(None), vec![0.0, 0.0, 5.0, 10.0]);
        assert_eq!(c.lut_at(Some(60.0)), vec![0.0, 0.0, 5.0, 10.0]);
        assert_eq!(c.zero_code(), 1);
        assert_eq!(c.code_for(0.0, None), 1);
        assert_eq!(c.code_for(4.0, None), 2);
        assert_eq!(c.code_for(1.0, None), 1);
        assert_eq!(c.code_for(100.0, None), 3);
    }

    #[test]
    fn frequency_columns_interpolate() {
        let text = GOOD.replace("code,amps\n0,0\n1,0\n3,10\n", "code,amps_50hz,amps_60hz\n0,0,0\n1,0,0\n3,10,8\n");
        let c = Calibration::parse(&text, "t.csv").unwrap();
        assert_eq!(c.frequencies(), vec![50.0, 60.0]);
        assert_eq!(c.lut_at(Some(50.0))[3], 10.0);
        assert_eq!(c.lut_at(Some(55.0))[3], 9.0);
        assert_eq!(c.lut_at(Some(65.0))[3], 8.0);
        assert_eq!(c.lut_at(Some(45.0))[3], 10.0);
        assert_eq!(c.lut_at(None)[3], 10.0);
        let text = text.replace("amps_50hz,amps_60hz", "amps_40hz,amps_60hz");
        let c = Calibration::parse(&text, "t.csv").unwrap();
        assert_eq!(c.lut_at(None)[3], 9.0, "unknown frequency is taken as 50 Hz");
        let bad = text.replace("amps_60hz", "amps_40hz");
        assert_eq!(error_of(&bad), "t.csv:7: column frequencies must increase: `amps_40hz`");
        let bad = text.replace("3,10,8", "3,10");
        assert_eq!(error_of(&bad), "t.csv:10: expected 3 columns, found 2 in `3,10`");
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
            (GOOD.replace("3,10", "3;10"), "t.csv:10: expected 2 columns, found 1"),
            (GOOD.replace("3,10", "x,10"), "t.csv:10: code `x` is not an integer"),
        ];
        for (text, want) in cases {
            let got = error_of(&text);
            assert!(got.starts_with(want), "want `{want}`, got `{got}`");
        }
    }

    /// An identified clamp's metadata: both keys or neither, each in its range; the model's own
    /// table is the table without the gain.
    #[test]
    fn clamp_metadata_is_validated_and_divides_out() {
        let with = |extra: &str| GOOD.replace("# source: hand\n", &format!("# source: hand\n{extra}"));
        let c = Calibration::parse(&with("# clamp_lm_h: 2.5\n# clamp_gain: 1.25\n"), "t.csv").unwrap();
        assert_eq!(c.clamp(), Some(Clamp { lm_h: 2.5, gain: 1.25 }));
        assert_eq!(c.lm_h(), 2.5);
        let own = c.model_table().unwrap();
        assert_eq!(own.lut_at(None), vec![0.0, 0.0, 4.0, 8.0]);
        assert_eq!(own.clamp(), Some(Clamp { lm_h: 2.5, gain: 1.0 }));
        assert!(Calibration::parse(GOOD, "t.csv").unwrap().model_table().is_none());
        assert_eq!(Calibration::parse(GOOD, "t.csv").unwrap().lm_h(), 0.6);
        for (extra, want) in [
            ("# clamp_lm_h: 2.5\n", "t.csv:8: clamp_lm_h and clamp_gain go together"),
            ("# clamp_lm_h: 0\n# clamp_gain: 1\n", "t.csv:9: clamp_lm_h `0` is not an inductance"),
            ("# clamp_lm_h: 1\n# clamp_gain: 3\n", "t.csv:9: clamp_gain `3` is not a gain"),
        ] {
            let got = error_of(&with(extra));
            assert!(got.starts_with(want), "want `{want}`, got `{got}`");
        }
        // The writer's text reloads to the same table.
        let text = Calibration::text(&c.meta, &[], &[c.lut_at(None).iter().map(|&a| f64::from(a)).collect()]);
        assert_eq!(Calibration::parse(&text, "t.csv").unwrap().lut_at(None), c.lut_at(None));
    }

    /// The tracked table follows the frequency it was interpolated at, not the last one asked
    /// for: a slow drift (0.03 Hz a window) is followed once it adds up past 0.05 Hz (compared
    /// window to window, it never was).
    #[test]
    fn a_tracked_table_follows_a_slow_drift() {
        let text = GOOD.replace("code,amps\n0,0\n1,0\n3,10\n", "code,amps_50hz,amps_60hz\n0,0,0\n1,0,0\n3,10,8\n");
        let c = Calibration::parse(&text, "t.csv").unwrap();
        let mut t = TrackedLut::new(&c);
        assert_eq!(t.at(&c, Some(50.0))[3], 10.0);
        assert_eq!(t.at(&c, Some(50.03))[3], 10.0, "within 0.05 Hz: kept");
        assert!(t.at(&c, Some(50.06))[3] < 10.0, "0.06 Hz from where it was interpolated: again");
        assert_eq!(t.hz(), Some(50.06));
        assert_eq!(t.at(&c, None)[3], 10.0, "unknown: the 50 Hz column");
    }

    #[test]
    fn shipped_table_is_valid() {
        let c = Calibration::builtin();
        assert_eq!(c.lut_at(None).len(), 1 << c.adc_bits);
        assert!(
            c.amps(c.full_scale_code(), None) > 95.0 * std::f32::consts::SQRT_2,
            "table must reach the 95 A rms peak"
        );
    }
}
