//! Exact integrals of `p(u) * cos(k u)` and `p(u) * sin(k u)` over `[0, h]` for a polynomial
//! `p`: the building block of [`super::Stimulus::mean_square`].
//!
//! On a piece where every piecewise-linear factor is linear, a load current is
//! `P0(u) + A(u) sin(w u) + B(u) cos(w u)` with polynomials `P0`, `A`, `B` (products of the
//! linear pieces), so its square integrates in closed form: repeated integration by parts,
//! `int p e^{iku} du = [e^{iku} sum_j (-1)^j p^(j)(u) / (ik)^(j+1)]`.
//!
//! That closed form cancels badly when `k h` is small (a 1 us edge: `k h ~ 6e-4`), so there the
//! integral is taken with 16-point Gauss-Legendre instead, which is exact to rounding on such a
//! piece: it integrates polynomials up to degree 31 exactly, the integrand is a polynomial of
//! degree <= 8 times `cos(k u)` with `|k u| <= 0.5`, and the Taylor remainder of the cosine at
//! the degree the rule still covers is below `0.5^24 / 24! ~ 1e-31`.

/// Below this `|k| h` the closed form is replaced by Gauss-Legendre (see the module docs).
const CLOSED_FORM_MIN_KH: f64 = 0.5;

/// Polynomial in `u`, lowest degree first.
pub type Poly = Vec<f64>;

pub fn mul(a: &[f64], b: &[f64]) -> Poly {
    if a.is_empty() || b.is_empty() {
        return Vec::new();
    }
    let mut out = vec![0.0; a.len() + b.len() - 1];
    for (i, x) in a.iter().enumerate() {
        for (j, y) in b.iter().enumerate() {
            out[i + j] += x * y;
        }
    }
    out
}

/// `a += k * b`.
pub fn add_scaled(a: &mut Poly, b: &[f64], k: f64) {
    if a.len() < b.len() {
        a.resize(b.len(), 0.0);
    }
    for (x, y) in a.iter_mut().zip(b) {
        *x += k * y;
    }
}

pub fn eval(p: &[f64], u: f64) -> f64 {
    p.iter().rev().fold(0.0, |acc, c| acc * u + c)
}

fn derivative(p: &[f64]) -> Poly {
    p.iter().enumerate().skip(1).map(|(i, c)| c * i as f64).collect()
}

/// `int_0^h p(u) du`, exactly.
pub fn integral(p: &[f64], h: f64) -> f64 {
    p.iter().enumerate().rev().fold(0.0, |acc, (i, c)| acc * h + c / (i + 1) as f64) * h
}

/// `(int_0^h p(u) cos(k u) du, int_0^h p(u) sin(k u) du)`.
pub fn trig_integral(p: &[f64], k: f64, h: f64) -> (f64, f64) {
    if p.is_empty() || h <= 0.0 {
        return (0.0, 0.0);
    }
    if k == 0.0 {
        return (integral(p, h), 0.0);
    }
    if (k * h).abs() < CLOSED_FORM_MIN_KH {
        return trig_gauss_legendre(p, k, h);
    }
    trig_closed_form(p, k, h)
}

fn trig_gauss_legendre(p: &[f64], k: f64, h: f64) -> (f64, f64) {
    gauss_legendre(h, |u| {
        let v = eval(p, u);
        let (s, c) = (k * u).sin_cos();
        (v * c, v * s)
    })
}

fn trig_closed_form(p: &[f64], k: f64, h: f64) -> (f64, f64) {
    // E(u) = sum_j (-1)^j p^(j)(u) / (ik)^(j+1); the integral is E(h) e^{ikh} - E(0).
    // 1 / (ik) = -i / k.
    let inv = (0.0, -1.0 / k);
    let cmul = |a: (f64, f64), b: (f64, f64)| (a.0 * b.0 - a.1 * b.1, a.0 * b.1 + a.1 * b.0);
    let mut e_h = (0.0, 0.0);
    let mut e_0 = (0.0, 0.0);
    let mut d: Poly = p.to_vec();
    let mut factor = inv;
    let mut sign = 1.0;
    while !d.is_empty() {
        let (vh, v0) = (sign * eval(&d, h), sign * d[0]);
        e_h = (e_h.0 + factor.0 * vh, e_h.1 + factor.1 * vh);
        e_0 = (e_0.0 + factor.0 * v0, e_0.1 + factor.1 * v0);
        d = derivative(&d);
        factor = cmul(factor, inv);
        sign = -sign;
    }
    let (s, c) = (k * h).sin_cos();
    let total = cmul(e_h, (c, s));
    (total.0 - e_0.0, total.1 - e_0.1)
}

/// 16-point Gauss-Legendre over `[0, h]` of a pair of functions.
fn gauss_legendre(h: f64, f: impl Fn(f64) -> (f64, f64)) -> (f64, f64) {
    let (nodes, weights) = gl16();
    let mut acc = (0.0, 0.0);
    for (x, w) in nodes.iter().zip(weights) {
        let (a, b) = f(0.5 * h * (x + 1.0));
        acc.0 += w * a;
        acc.1 += w * b;
    }
    (acc.0 * 0.5 * h, acc.1 * 0.5 * h)
}

/// Nodes and weights of 16-point Gauss-Legendre on [-1, 1] (Newton on the Legendre polynomial).
fn gl16() -> &'static ([f64; 16], [f64; 16]) {
    static GL: std::sync::OnceLock<([f64; 16], [f64; 16])> = std::sync::OnceLock::new();
    GL.get_or_init(|| {
        const N: usize = 16;
        // P_N(z) and its derivative, by the three-term recurrence.
        let legendre = |z: f64| {
            let (mut p1, mut p2) = (1.0, 0.0);
            for j in 0..N {
                let p3 = p2;
                p2 = p1;
                p1 = ((2 * j + 1) as f64 * z * p2 - j as f64 * p3) / (j + 1) as f64;
            }
            (p1, N as f64 * (z * p1 - p2) / (z * z - 1.0))
        };
        let mut x = [0.0; N];
        let mut w = [0.0; N];
        for i in 0..N {
            let mut z = (std::f64::consts::PI * (i as f64 + 0.75) / (N as f64 + 0.5)).cos();
            for _ in 0..100 {
                let (p, dp) = legendre(z);
                let dz = p / dp;
                z -= dz;
                if dz.abs() < 1e-16 {
                    let (_, dp) = legendre(z);
                    x[i] = z;
                    w[i] = 2.0 / ((1.0 - z * z) * dp * dp);
                    break;
                }
            }
        }
        (x, w)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauss_legendre_weights_sum_to_two_and_integrate_degree_31() {
        let (x, w) = gl16();
        assert!((w.iter().sum::<f64>() - 2.0).abs() < 1e-14);
        let got: f64 = x.iter().zip(w).map(|(x, w)| w * x.powi(30)).sum();
        assert!((got - 2.0 / 31.0).abs() < 1e-14, "{got}");
    }

    #[test]
    fn closed_form_matches_known_integrals() {
        // int_0^pi u sin(u) du = pi; int_0^pi u^2 cos(u) du = -2 pi.
        let pi = std::f64::consts::PI;
        let (c, s) = trig_integral(&[0.0, 1.0], 1.0, pi);
        assert!((s - pi).abs() < 1e-12 && (c + 2.0).abs() < 1e-12, "{c} {s}");
        let (c, _) = trig_integral(&[0.0, 0.0, 1.0], 1.0, pi);
        assert!((c + 2.0 * pi).abs() < 1e-12, "{c}");
        // Both branches agree where they meet (and well beyond: Gauss-Legendre is still exact
        // to rounding at k h = 2).
        let p = [0.3, -1.2, 2.0, 0.7, -0.4];
        for kh in [CLOSED_FORM_MIN_KH, 2.0] {
            let (k, h) = (100.0, kh / 100.0);
            let a = trig_closed_form(&p, k, h);
            let b = trig_gauss_legendre(&p, k, h);
            assert!((a.0 - b.0).abs() < 1e-14 && (a.1 - b.1).abs() < 1e-14, "{a:?} {b:?}");
        }
    }

    #[test]
    fn polynomial_integral_is_exact() {
        assert!((integral(&[1.0, 2.0, 3.0], 2.0) - (2.0 + 4.0 + 8.0)).abs() < 1e-12);
        assert_eq!(mul(&[1.0, 1.0], &[1.0, -1.0]), vec![1.0, 0.0, -1.0]);
    }
}
