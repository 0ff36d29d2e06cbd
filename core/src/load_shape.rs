//! Load current shapes with unit RMS: what the virtual device draws and what the estimator's
//! own tests feed the clamp model. Pure functions of the phase, so every user sees the same
//! waveform.

/// Shape of the simulated load current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Shape {
    /// A resistive load: a pure sine.
    Sine,
    /// A switch-mode power supply: narrow peaks at the voltage crests (crest factor ~3.2).
    Smps,
    /// A leading-edge phase-cut dimmer firing at 90 degrees.
    Dimmer,
}

/// The load shapes with unit RMS, as a function of the phase in cycles `p` in `[0, 1)`.
pub fn unit_shape(shape: Shape, p: f64) -> f64 {
    use std::f64::consts::{PI, SQRT_2, TAU};
    match shape {
        Shape::Sine => SQRT_2 * (TAU * p).sin(),
        Shape::Smps => {
            // A cos^2 pulse of half-width W cycles centred on each crest: the diode-bridge
            // current of a capacitor-input supply. Its mean square is 2 * (3/8) * 2W = 1.5 W,
            // so the peak that gives unit RMS is sqrt(1 / (1.5 W)).
            const W: f64 = 0.07;
            let peak = (1.0 / (1.5 * W)).sqrt();
            let pulse = |d: f64| {
                if d.abs() < W {
                    (PI * d / (2.0 * W)).cos().powi(2)
                } else {
                    0.0
                }
            };
            peak * (pulse(p - 0.25) - pulse(p - 0.75))
        }
        Shape::Dimmer => {
            // Conducts from 90 degrees to the zero crossing in each half-cycle: exactly half of
            // each half-sine's energy, so a full sine scaled by 2 has unit RMS.
            let in_half = (2.0 * p).fract();
            if in_half >= 0.5 {
                2.0 * (TAU * p).sin()
            } else {
                0.0
            }
        }
    }
}

/// A leading-edge phase-cut dimmer's current at phase `p` (cycles) as a fraction of the
/// uncut sine's peak: the sine from `firing_deg` degrees after each zero crossing to the next
/// one, nothing before.
pub fn leading_edge(firing_deg: f64, p: f64) -> f64 {
    if (p * 360.0) % 180.0 >= firing_deg {
        (std::f64::consts::TAU * p).sin()
    } else {
        0.0
    }
}

/// A trailing-edge phase-cut dimmer's current at phase `p` (cycles) as a fraction of the
/// uncut sine's peak: the sine from each zero crossing to `conduct_deg` degrees after it,
/// nothing after.
pub fn trailing_edge(conduct_deg: f64, p: f64) -> f64 {
    if (p * 360.0) % 180.0 < conduct_deg {
        (std::f64::consts::TAU * p).sin()
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A trailing edge conducting `d` degrees is the mirror of a leading edge firing at
    /// `180 - d` (equal mean squares); conducting the whole half-cycle it is the sine.
    #[test]
    fn a_trailing_edge_mirrors_a_leading_one() {
        let n = 100_000;
        let ms = |f: &dyn Fn(f64) -> f64| (0..n).map(|k| f(k as f64 / n as f64).powi(2)).sum::<f64>() / n as f64;
        for d in [20.0, 55.7, 90.0, 150.0] {
            let (t, l) = (ms(&|p| trailing_edge(d, p)), ms(&|p| leading_edge(180.0 - d, p)));
            assert!((t - l).abs() < 1e-4, "{d}: {t} {l}");
        }
        assert!((ms(&|p| trailing_edge(180.0, p)) - 0.5).abs() < 1e-6);
    }

    /// Each unit shape has RMS 1, by numerical integration over one cycle.
    #[test]
    fn unit_shapes_have_unit_rms() {
        for shape in [Shape::Sine, Shape::Smps, Shape::Dimmer] {
            let n = 200_000;
            let ms: f64 =
                (0..n).map(|k| unit_shape(shape, (k as f64 + 0.5) / n as f64).powi(2)).sum::<f64>() / n as f64;
            assert!((ms.sqrt() - 1.0).abs() < 1e-4, "{shape:?}: rms {}", ms.sqrt());
        }
        let crest = (0..1000).map(|k| unit_shape(Shape::Smps, k as f64 / 1000.0).abs()).fold(0.0, f64::max);
        assert!(crest >= 3.0, "SMPS crest factor {crest}");
    }
}
