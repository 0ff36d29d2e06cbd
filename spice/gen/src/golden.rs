//! The golden ADC-input waveforms in golden/data/: which cases, the file format, the manifest,
//! and comparing regenerated files with the committed ones.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{bail, Context, Result};

use crate::model::{Adc, ModelParams};
use crate::sim::{Job, Record, SETTLE_CYCLES};
use crate::stimulus::{self, Stimulus};

/// Sine amplitudes (A RMS) of the matrix: the rated range 0.2-95 A, the measured network's knee
/// (3.4 A primary) and the design notes' kink (73 A).
pub const SINE_AMPS: [f64; 11] = [0.2, 0.5, 1.0, 2.0, 3.4, 5.0, 10.0, 20.0, 40.0, 73.0, 95.0];
pub const MAINS: [f64; 2] = [50.0, 60.0];
/// Steady-state cases: whole cycles and samples per cycle.
pub const CYCLES: usize = 10;
pub const PPC: usize = 400;
/// The step case: cycles before and after, samples per cycle.
pub const STEP_CYCLES_EACH: usize = 50;
pub const STEP_PPC: usize = 200;
/// Largest difference (mV) `check` accepts between a regenerated and a committed golden sample:
/// a fifth of an LSB (2.44 mV); same-version ngspice reproduces them to the 0.01 mV printed.
pub const TOLERANCE_MV: f64 = 0.5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sine,
    Smps,
    Dimmer,
    Step,
    Zero,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Sine => "sine",
            Kind::Smps => "smps",
            Kind::Dimmer => "dimmer",
            Kind::Step => "step",
            Kind::Zero => "zero",
        }
    }
}

/// One golden case.
#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    pub kind: Kind,
    pub stimulus: Stimulus,
    pub cycles: usize,
    pub points_per_cycle: usize,
    /// For the step case: (RMS before, RMS after, first cycle after the step in the file).
    pub step: Option<(f64, f64, usize)>,
    pub note: String,
}

impl Case {
    pub fn file_name(&self) -> String {
        format!("{}.txt", self.name)
    }

    pub fn job(&self, params: ModelParams) -> Job {
        Job::new(params, self.stimulus.clone(), self.cycles, self.points_per_cycle)
    }

    /// True RMS of the source over the whole file.
    pub fn true_rms(&self) -> f64 {
        match self.step {
            Some((before, after, _)) => ((before * before + after * after) / 2.0).sqrt(),
            None => self.stimulus.true_rms(),
        }
    }
}

fn amps_label(a: f64) -> String {
    // 0.2 -> "0.2a", 10 -> "10a": readable and sorts sensibly enough.
    format!("{}a", a)
}

/// The whole matrix.
pub fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    for hz in MAINS {
        for a in SINE_AMPS {
            out.push(Case {
                name: format!("sine-{}hz-{}", hz, amps_label(a)),
                kind: Kind::Sine,
                stimulus: Stimulus::Sine { irms: a, hz },
                cycles: CYCLES,
                points_per_cycle: PPC,
                step: None,
                note: format!("sine, {a} A RMS"),
            });
        }
    }
    for a in [2.0, 8.0] {
        out.push(Case {
            name: format!("smps-50hz-{}", amps_label(a)),
            kind: Kind::Smps,
            stimulus: stimulus::smps(a, 50.0, PPC),
            cycles: CYCLES,
            points_per_cycle: PPC,
            step: None,
            note: "switch-mode supply input: raised-cosine pulse 0.11 cycle wide centred at 0.22 \
                   cycle, mirrored negative half-cycle, crest factor 3.5"
                .into(),
        });
    }
    out.push(Case {
        name: "dimmer90-50hz-4a".into(),
        kind: Kind::Dimmer,
        stimulus: stimulus::dimmer(4.0, 50.0, 90.0, PPC),
        cycles: CYCLES,
        points_per_cycle: PPC,
        step: None,
        note: "leading-edge phase-cut dimmer firing at 90 degrees, resistive load, 1 us edge".into(),
    });
    let step_s = f64::from(SETTLE_CYCLES + STEP_CYCLES_EACH as u32) / 50.0;
    out.push(Case {
        name: "step-50hz-2a-10a".into(),
        kind: Kind::Step,
        stimulus: Stimulus::Step { before: 2.0, after: 10.0, hz: 50.0, step_s },
        cycles: 2 * STEP_CYCLES_EACH,
        points_per_cycle: STEP_PPC,
        step: Some((2.0, 10.0, STEP_CYCLES_EACH)),
        note: "sine stepping from 2 A to 10 A RMS at a zero crossing (cycle boundary)".into(),
    });
    out.push(Case {
        name: "zero-50hz".into(),
        kind: Kind::Zero,
        stimulus: Stimulus::Sine { irms: 0.0, hz: 50.0 },
        cycles: CYCLES,
        points_per_cycle: PPC,
        step: None,
        note: "no primary current".into(),
    });
    out
}

/// The generator command recorded in every generated file.
pub const GENERATOR: &str = "cargo run -p spicegen --release -- all";

/// The header lines every golden file shares: the ADC, the netlist and its parameters, and the
/// command that wrote the file.
pub fn chain_header(h: &mut impl FnMut(&str, String), adc: &Adc, params: &ModelParams, generator: &str) {
    h(
        "adc",
        format!(
            "MSP430G2553 ADC10, internal {:.1} V reference, {} bits: code = round(1023 * V / Vref)",
            f64::from(adc.vref_mv) / 1000.0,
            adc.bits
        ),
    );
    h("netlist", "spice/models.lib + spice/efergy_ct.sub (EFERGY_CT) + spice/interface.sub (INTERFACE)".into());
    h("parameters", params.to_string());
    h("generator", generator.into());
}

/// Text of one golden file.
pub fn render(case: &Case, rec: &Record, params: &ModelParams, adc: &Adc) -> String {
    let mut s = String::new();
    let mut h = |k: &str, v: String| {
        let _ = writeln!(s, "# {k}: {v}");
    };
    h("case", case.name.clone());
    h("kind", case.kind.as_str().into());
    h("mains_hz", format!("{}", case.stimulus.hz()));
    h("points_per_cycle", case.points_per_cycle.to_string());
    h("cycles", case.cycles.to_string());
    h("samples", (case.cycles * case.points_per_cycle).to_string());
    h("quantity", "ADC input voltage".into());
    h("unit", "mV".into());
    h("true_rms_a", format!("{:.6}", case.true_rms()));
    if let Some((before, after, cycle)) = case.step {
        h("true_rms_before_a", format!("{before:.6}"));
        h("true_rms_after_a", format!("{after:.6}"));
        h("step_cycle", cycle.to_string());
    }
    h("stimulus", case.note.clone());
    if case.true_rms() > 0.0 {
        h("crest_factor", format!("{:.3}", stimulus::crest_factor(&case.stimulus)));
    }
    h(
        "start",
        format!(
            "sample 0 is at phase 0 of the source current, after {SETTLE_CYCLES} simulated \
             cycles were discarded"
        ),
    );
    chain_header(&mut h, adc, params, GENERATOR);
    for v in &rec.adc_v {
        let _ = writeln!(s, "{:.2}", v * 1000.0);
    }
    s
}

/// Samples (mV) of a golden file.
pub fn parse_values(text: &str) -> Result<Vec<f64>> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.starts_with('#') && !l.trim().is_empty())
        .map(|(n, l)| l.trim().parse::<f64>().with_context(|| format!("line {}: '{l}' is not a number", n + 1)))
        .collect()
}

/// Manifest text: one row per case.
pub fn manifest(cases: &[Case]) -> String {
    let mut s = String::from(
        "case,file,kind,mains_hz,points_per_cycle,cycles,true_rms_a,true_rms_before_a,\
         true_rms_after_a,step_cycle\n",
    );
    for c in cases {
        let (b, a, k) = match c.step {
            Some((b, a, k)) => (format!("{b:.6}"), format!("{a:.6}"), k.to_string()),
            None => (String::new(), String::new(), String::new()),
        };
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{:.6},{b},{a},{k}",
            c.name,
            c.file_name(),
            c.kind.as_str(),
            c.stimulus.hz(),
            c.points_per_cycle,
            c.cycles,
            c.true_rms()
        );
    }
    s
}

/// Compare regenerated text with the committed file; returns the largest difference (mV).
pub fn compare(committed: &Path, regenerated: &str) -> Result<f64> {
    let old = std::fs::read_to_string(committed)
        .with_context(|| format!("reading committed golden {}", committed.display()))?;
    let a = parse_values(&old).with_context(|| committed.display().to_string())?;
    let b = parse_values(regenerated)?;
    if a.len() != b.len() {
        bail!("{}: {} samples committed, {} regenerated", committed.display(), a.len(), b.len());
    }
    Ok(a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_has_every_required_case() {
        let cs = cases();
        assert_eq!(cs.iter().filter(|c| c.kind == Kind::Sine).count(), 22);
        assert_eq!(cs.iter().filter(|c| c.kind == Kind::Smps).count(), 2);
        assert!(cs.iter().any(|c| c.name == "sine-60hz-0.2a"));
        assert!(cs.iter().any(|c| c.name == "sine-50hz-95a"));
        let step = cs.iter().find(|c| c.kind == Kind::Step).expect("step case");
        assert_eq!(step.cycles, 100);
        assert_eq!(step.points_per_cycle, 200);
        // Names are unique (they are file names).
        let mut names: Vec<_> = cs.iter().map(|c| c.name.clone()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), cs.len());
    }

    #[test]
    fn manifest_rms_comes_from_the_source() {
        let cs = cases();
        let m = manifest(&cs);
        assert!(m.contains("sine-50hz-3.4a,sine-50hz-3.4a.txt,sine,50,400,10,3.400000,,,\n"));
        // Whole-file RMS of the 2 A -> 10 A step over 50 + 50 cycles is sqrt(52).
        assert!(
            m.contains(&format!("step-50hz-2a-10a.txt,step,50,200,100,{:.6},2.000000,10.000000,50\n", 52f64.sqrt()))
        );
        assert!(m.contains("smps-50hz-8a.txt,smps,50,400,10,8.000000,"));
    }

    #[test]
    fn parses_values_and_rejects_junk() {
        assert_eq!(parse_values("# a: b\n1.50\n-2.25\n").expect("parses"), vec![1.5, -2.25]);
        assert!(parse_values("# a: b\n1.5\nx\n").is_err());
    }
}
