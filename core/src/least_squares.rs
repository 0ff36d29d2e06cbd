//! Dense symmetric positive-definite solves for the least-squares fits (the Levenberg-Marquardt
//! normal equations of the waveform fit, the clamp identification's Gauss-Newton steps).
//!
//! Cholesky: `M = L L^T`, then two triangular solves. The systems are small (at most ~100
//! unknowns) and damped to positive definiteness by the caller, so a plain dense factorisation
//! is the right tool; a matrix that is not positive definite is reported, not patched.

/// Solves `m z = g` for symmetric positive definite `m` (n x n, row-major, overwritten by its
/// Cholesky factor). `None` if `m` is not positive definite.
pub fn cholesky_solve(m: &mut [f64], g: &[f64], n: usize) -> Option<Vec<f64>> {
    for i in 0..n {
        for k in 0..=i {
            let mut sum = m[i * n + k];
            for p in 0..k {
                sum -= m[i * n + p] * m[k * n + p];
            }
            if i == k {
                if sum.is_nan() || sum <= 0.0 {
                    return None;
                }
                m[i * n + i] = sum.sqrt();
            } else {
                m[i * n + k] = sum / m[k * n + k];
            }
        }
    }
    let mut z = g.to_vec();
    for i in 0..n {
        let mut sum = z[i];
        for p in 0..i {
            sum -= m[i * n + p] * z[p];
        }
        z[i] = sum / m[i * n + i];
    }
    for i in (0..n).rev() {
        let mut sum = z[i];
        for p in i + 1..n {
            sum -= m[p * n + i] * z[p];
        }
        z[i] = sum / m[i * n + i];
    }
    Some(z)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 3x3 system with a hand-computed solution: M = [[4,2,0],[2,5,1],[0,1,3]], z = [1,-1,2]
    /// gives g = M z = [2,-1,5].
    #[test]
    fn solves_a_known_system() {
        let mut m = vec![4.0, 2.0, 0.0, 2.0, 5.0, 1.0, 0.0, 1.0, 3.0];
        let z = cholesky_solve(&mut m, &[2.0, -1.0, 5.0], 3).unwrap();
        for (a, b) in z.iter().zip([1.0, -1.0, 2.0]) {
            assert!((a - b).abs() < 1e-12, "{z:?}");
        }
    }

    #[test]
    fn rejects_an_indefinite_matrix() {
        let mut m = vec![1.0, 2.0, 2.0, 1.0];
        assert!(cholesky_solve(&mut m, &[1.0, 1.0], 2).is_none());
        let mut m = vec![f64::NAN, 0.0, 0.0, 1.0];
        assert!(cholesky_solve(&mut m, &[1.0, 1.0], 2).is_none());
    }
}
