//! The default method on the randomized loads goldens (`golden/data/loads-random/`, written by
//! `spicegen loads-random`): load parameters drawn from a seeded distribution, split before
//! anything was evaluated into a **dev** half (what fixes are checked on) and a **held-out**
//! half (only reported).
//!
//! Every reading is judged exactly as on the hand-written loads goldens ([`crate::loads`]:
//! the truth over the reading's own span, its [`target`]), and then by what it says of itself
//! ([`verdict`]): a reading outside its target must state a bound
//! (`ct_core::estimate::Reading::bound_pct`) that holds, and a record's energy must be within
//! 1 % or within the bound its readings' bounds give (`ct_core::bound::energy_bound_low` and `energy_bound_high`).
//! Clamps other than the model's are read after a two-point calibration with their own two
//! resistive records ([`calibrated`]), as a user would.

use ct_core::estimate::Method;

use crate::loads::{
    calibrated, evaluate, evaluate_table, is_calibration_point, manifest_in, random_dir, target, LoadCase,
    ReadingError, Row,
};
use crate::{GoldenError, PROFILES};

/// One half's rows: a case (not a calibration record) and its reading at one profile.
pub type HalfRows = Vec<(LoadCase, Row)>;

/// The halves of the set, by directory name.
pub const HALVES: [&str; 2] = ["dev", "heldout"];

/// Energy over a record: within 1 %.
pub const ENERGY_TARGET: f64 = 0.01;

/// What a reading is, judged against its target and against the bound it states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    /// Within its target.
    Meets,
    /// Flagged `short`: no accuracy stated.
    Short,
    /// Outside its target, and within the bound it states.
    Flagged,
    /// Outside its target and outside the bound it states.
    FlagBoundBroken,
    /// Outside its target and stating no bound: the worst kind of error.
    Unflagged,
}

/// The [`Verdict`] on reading `r` of a case of `kind`. Below 0.2 A true RMS there is no
/// relative target: a reading meets it under 0.25 A.
pub fn verdict(kind: &str, r: &ReadingError) -> Verdict {
    if r.flags.short {
        return Verdict::Short;
    }
    let miss = match (target(kind, r.truth_a, r.change), r.rel()) {
        (Some(t), Some(e)) => e.abs() > t,
        (Some(_), None) => true,
        (None, _) => r.read_a >= 0.25,
    };
    if !miss {
        return Verdict::Meets;
    }
    match r.within_bound() {
        None => Verdict::Unflagged,
        Some(true) => Verdict::Flagged,
        Some(false) => Verdict::FlagBoundBroken,
    }
}

/// The class a case is reported under: its kind, `clamp` for clamps other than the model's
/// (read after calibration), `household` for the long mixed records and `mixture` for the short.
pub fn class(case: &LoadCase) -> String {
    if case.lm_h != 0.6 {
        return "clamp (calibrated)".into();
    }
    match case.kind.as_str() {
        "household" if case.duration_s > 30.0 => "household (60 s)".into(),
        "household" => "mixture (8 s)".into(),
        "step" if step_rises(&case.params) => "step up".into(),
        "step" => "step down".into(),
        k => k.into(),
    }
}

/// Whether a step's parameters (`before=A after=B ...`) rise. The randomized sets name their
/// steps `step-up` and `step-down`, the loads goldens do not (`step-50hz-2a-15a` rises): the
/// levels are what tells.
fn step_rises(params: &str) -> bool {
    let level = |key: &str| {
        params.split_whitespace().find_map(|kv| kv.strip_prefix(key)?.strip_prefix('=')?.parse::<f64>().ok())
    };
    matches!((level("before"), level("after")), (Some(b), Some(a)) if a > b)
}

/// One half's cases, read by the default method at both rates: a row per case (not the
/// calibration records themselves) and profile. Clamps other than the model's are read
/// through the table two-point calibration identifies from their own resistive records.
pub fn evaluate_half(half: &str) -> Result<HalfRows, GoldenError> {
    evaluate_dir(&random_dir(half))
}

/// [`evaluate_half`] for a set anywhere, e.g. one `spicegen loads-random --seed S --out DIR`
/// made with a seed nobody has looked at (`cargo run -p ct-golden --release --example
/// random_set -- DIR/dev DIR/heldout`).
pub fn evaluate_dir(dir: &std::path::Path) -> Result<HalfRows, GoldenError> {
    evaluate_dir_at(dir, &PROFILES.map(|p| p.0))
}

/// [`evaluate_dir`] at the named link profiles only (of [`PROFILES`]): a change that only the
/// fast link's path takes is compared on a set in half the time.
pub fn evaluate_dir_at(dir: &std::path::Path, profiles: &[&str]) -> Result<HalfRows, GoldenError> {
    let cases = manifest_in(dir)?;
    let mut rows = Vec::new();
    for (profile, _) in PROFILES.into_iter().filter(|p| profiles.contains(&p.0)) {
        let mut tables: Vec<(f64, ct_core::calibration::Calibration)> = Vec::new();
        for case in cases.iter().filter(|c| !is_calibration_point(c)) {
            let row = if case.lm_h == 0.6 {
                evaluate(case, profile, Method::Invert)?
            } else {
                let i = match tables.iter().position(|t| t.0 == case.lm_h) {
                    Some(i) => i,
                    None => {
                        tables.push((case.lm_h, calibrated(&cases, case.lm_h, profile)?.table));
                        tables.len() - 1
                    }
                };
                evaluate_table(case, profile, &tables[i].1, ct_core::estimate::EstimatorConfig::default())?
            };
            rows.push((case.clone(), row));
        }
    }
    Ok(rows)
}

/// Counts and worst figures of a group of rows.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub readings: usize,
    pub meets: usize,
    pub short: usize,
    pub flagged: usize,
    pub bound_broken: usize,
    pub unflagged: usize,
    /// Worst relative error of a reading not flagged `short`, with its flags.
    pub worst: Option<(f64, String)>,
    /// Worst relative error among unflagged readings.
    pub worst_unflagged: Option<f64>,
    /// Worst energy error over a record.
    pub worst_energy: f64,
    pub records: usize,
    pub energy_misses: usize,
    /// Readings stating a bound, and of them those whose error is within it.
    pub bounded: usize,
    pub within_bound: usize,
    /// The bounds stated (fractions), for their median.
    pub bounds: Vec<f64>,
    /// Records whose energy is outside both 1 % and the bound its readings give.
    pub energy_beyond_bound: usize,
    /// Records whose readings bound nothing (a window of 100 % or more).
    pub energy_unbounded: usize,
    /// The energy bounds (fractions), for their median.
    pub energy_bounds: Vec<f64>,
}

impl Summary {
    /// Median of the stated bounds, if any.
    pub fn median_bound(&self) -> Option<f64> {
        median(&self.bounds)
    }
}

/// Median of `v` (the mean of the middle two for an even count).
pub fn median(v: &[f64]) -> Option<f64> {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    (n > 0).then(|| if n % 2 == 1 { v[n / 2] } else { 0.5 * (v[n / 2 - 1] + v[n / 2]) })
}

/// Whether a record's energy is within 1 % or within the bound its readings give.
pub fn energy_holds(row: &Row) -> bool {
    row.energy_error.is_nan()
        || row.energy_error.abs() <= ENERGY_TARGET
        || row.energy_bound.is_some_and(|b| row.energy_error.abs() <= b)
}

impl Summary {
    /// Counts `row`, a record of `case`.
    pub fn add(&mut self, case: &LoadCase, row: &Row) {
        self.records += 1;
        if row.energy_error.abs() > self.worst_energy.abs() {
            self.worst_energy = row.energy_error;
        }
        if row.energy_error.abs() > ENERGY_TARGET {
            self.energy_misses += 1;
        }
        if !energy_holds(row) {
            self.energy_beyond_bound += 1;
        }
        match row.energy_bound {
            Some(b) => self.energy_bounds.push(b),
            None => self.energy_unbounded += 1,
        }
        for r in &row.readings {
            self.readings += 1;
            if let (Some(b), false) = (r.bound, r.flags.short) {
                self.bounded += 1;
                self.bounds.push(b);
                if r.within_bound() == Some(true) {
                    self.within_bound += 1;
                }
            }
            let v = verdict(&case.kind, r);
            match v {
                Verdict::Meets => self.meets += 1,
                Verdict::Short => self.short += 1,
                Verdict::Flagged => self.flagged += 1,
                Verdict::FlagBoundBroken => self.bound_broken += 1,
                Verdict::Unflagged => self.unflagged += 1,
            }
            if v == Verdict::Short {
                continue;
            }
            let Some(e) = r.rel() else { continue };
            if self.worst.as_ref().is_none_or(|w| e.abs() > w.0.abs()) {
                self.worst = Some((e, r.flags.to_text().replace('|', ", ")));
            }
            if v == Verdict::Unflagged && self.worst_unflagged.is_none_or(|w: f64| e.abs() > w.abs()) {
                self.worst_unflagged = Some(e);
            }
        }
    }
}

/// A table per half: a row per class and profile with the reading counts by [`Verdict`], the
/// readings stating a bound (`changing`/`approx`, not `short`) with the share of them whose
/// error is within it (coverage) and the median bound, the worst reading (with its flags), the
/// worst unflagged one, and the record energies: the worst error, how many are over 1 %, the
/// median bound the readings give and how many break it.
pub fn markdown(rows: &[(LoadCase, Row)]) -> String {
    let mut classes: Vec<String> = rows.iter().map(|(c, _)| class(c)).collect();
    classes.sort();
    classes.dedup();
    let mut s = String::from(
        "| class | profile | records | readings | meet target | `short` | outside target, within bound | \
         **bound broken** | **unflagged miss** | stating a bound | within it | median bound | worst reading (flags) | \
         worst unflagged miss | worst energy | energy > 1 % | median energy bound | **energy beyond bound** |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    let pct = |e: f64| format!("{:+.2} %", e * 100.0);
    let bound = |b: Option<f64>| b.map_or("-".into(), |b| format!("{:.1} %", b * 100.0));
    for class_name in classes.iter().map(String::as_str).chain(["all"]) {
        for (profile, _) in PROFILES {
            let mut sum = Summary::default();
            for (case, row) in
                rows.iter().filter(|(c, r)| (class_name == "all" || class(c) == class_name) && r.profile == profile)
            {
                sum.add(case, row);
            }
            let coverage = if sum.bounded == 0 {
                "-".to_string()
            } else {
                format!(
                    "{}/{} ({:.0} %)",
                    sum.within_bound,
                    sum.bounded,
                    100.0 * sum.within_bound as f64 / sum.bounded as f64
                )
            };
            let energy_bound = match (median(&sum.energy_bounds), sum.energy_unbounded) {
                (m, 0) => bound(m),
                (m, n) => format!("{} ({n} unbounded)", bound(m)),
            };
            s.push_str(&format!(
                "| {class_name} | {profile} | {} | {} | {} | {} | {} | {} | {} | {} | {coverage} | {} | {} | {} | {} | {} | \
                 {energy_bound} | {} |\n",
                sum.records,
                sum.readings,
                sum.meets,
                sum.short,
                sum.flagged,
                sum.bound_broken,
                sum.unflagged,
                sum.bounded,
                bound(sum.median_bound()),
                sum.worst.as_ref().map_or("-".into(), |(e, f)| if f.is_empty() {
                    pct(*e)
                } else {
                    format!("{} ({f})", pct(*e))
                }),
                sum.worst_unflagged.map_or("-".into(), pct),
                pct(sum.worst_energy),
                sum.energy_misses,
                sum.energy_beyond_bound,
            ));
        }
    }
    s
}

/// Every reading that is outside its target and states no bound, or states one that does not
/// hold, and every record whose energy is outside both 1 % and the bound its readings give:
/// one line each; empty when all hold.
pub fn failures(rows: &[(LoadCase, Row)]) -> Vec<String> {
    let mut out = Vec::new();
    for (case, row) in rows {
        for r in &row.readings {
            let v = verdict(&case.kind, r);
            if matches!(v, Verdict::Unflagged | Verdict::FlagBoundBroken) {
                out.push(format!(
                    "{v:?}: {} {} {:.2}-{:.2} s: read {:.4} A, truth {:.4} A ({}), target {:?}, flags [{}], bound {}, change {}",
                    case.case,
                    row.profile,
                    r.t0,
                    r.t1,
                    r.read_a,
                    r.truth_a,
                    r.rel().map_or("-".into(), |e| format!("{:+.2} %", e * 100.0)),
                    target(&case.kind, r.truth_a, r.change),
                    r.flags.to_text(),
                    r.bound.map_or("-".into(), |b| format!("{:.1} %", b * 100.0)),
                    r.change
                ));
            }
        }
        if !energy_holds(row) {
            out.push(format!(
                "Energy: {} {}: {:+.2} % (bound {})",
                case.case,
                row.profile,
                row.energy_error * 100.0,
                row.energy_bound.map_or("-".into(), |b| format!("{:.1} %", b * 100.0))
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loads::{codes, millivolts, true_rms};

    /// A step is classed by its levels: the randomized sets' names agree with them, and the
    /// loads goldens' rising step (`step-50hz-2a-15a`, once classed `step down` by its name)
    /// rises.
    #[test]
    fn steps_are_classed_by_their_levels() {
        assert!(step_rises("before=2.04 after=14.87 at=3.1374 phase=0"));
        assert!(!step_rises("before=15.2 after=1.97 at=2.91137 phase=0"));
        assert!(!step_rises("at=2 phase=0"));
        for half in HALVES {
            for c in manifest_in(&random_dir(half)).expect("manifest loads").iter().filter(|c| c.kind == "step") {
                assert_eq!(class(c) == "step up", c.case.contains("step-up"), "{}", c.case);
            }
        }
        let loads = crate::loads::loads_manifest().expect("loads manifest");
        let up = loads.iter().find(|c| c.case == "step-50hz-2a-15a").expect("the rising step");
        assert_eq!(class(up), "step up");
    }

    /// Both halves load: every file holds one sample per sample period of its record, and the
    /// manifest's whole-record RMS is the exact RMS of the rebuilt stimulus.
    #[test]
    fn both_halves_load_and_their_truth_is_the_stimulus() {
        for half in HALVES {
            let cases = manifest_in(&random_dir(half)).expect("manifest loads");
            assert!(cases.len() >= 20, "{half}: {} cases", cases.len());
            for c in &cases {
                let rms = true_rms(c, 0.0, c.duration_s);
                assert!((rms - c.true_rms_a).abs() <= 5e-7 + 1e-9 * rms, "{}: {rms} vs {}", c.case, c.true_rms_a);
                for (profile, rate) in PROFILES {
                    let mv = millivolts(c, profile).expect("file loads");
                    let want = ((c.duration_s - c.first_sample_s) * rate).floor() as usize;
                    assert_eq!(mv.len(), want, "{} {profile}", c.case);
                    assert_eq!(codes(c, profile).expect("codes").len(), want);
                }
            }
            // Every clamp other than the model's has its two calibration records.
            for c in cases.iter().filter(|c| c.lm_h != 0.6) {
                let cal = cases.iter().filter(|k| k.lm_h == c.lm_h && is_calibration_point(k)).count();
                assert_eq!(cal, 2, "{}", c.case);
            }
        }
    }

    #[test]
    fn a_miss_without_a_flag_is_the_worst_verdict() {
        let r = |read_a: f64, flags: ct_core::estimate::Flags| ReadingError {
            t0: 0.0,
            t1: 1.0,
            truth_a: 10.0,
            read_a,
            change: false,
            flags,
            bound: (flags.changing || flags.approx).then_some(0.1),
            below: None,
            hz: None,
        };
        let none = ct_core::estimate::Flags::default();
        let changing = ct_core::estimate::Flags { changing: true, ..none };
        let approx = ct_core::estimate::Flags { approx: true, ..none };
        let short = ct_core::estimate::Flags { short: true, ..none };
        assert_eq!(verdict("sine", &r(10.05, none)), Verdict::Meets);
        assert_eq!(verdict("sine", &r(10.2, none)), Verdict::Unflagged);
        assert_eq!(verdict("sine", &r(10.2, changing)), Verdict::Flagged);
        assert_eq!(verdict("sine", &r(11.5, changing)), Verdict::FlagBoundBroken);
        assert_eq!(verdict("sine", &r(10.9, approx)), Verdict::Flagged);
        assert_eq!(verdict("sine", &r(8.5, approx)), Verdict::FlagBoundBroken);
        assert_eq!(verdict("sine", &r(20.0, short)), Verdict::Short);
        // A distorted load's target is 2 %.
        assert_eq!(verdict("smps", &r(10.15, none)), Verdict::Meets);
    }
}
