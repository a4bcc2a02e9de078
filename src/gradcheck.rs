//! Central-difference gradient checking in f64: the test every op's backward pass must pass.

use std::fmt;

use crate::autodiff::Tape;
use crate::shape::{fmt_dims, Shape};
use crate::tensor::Tensor;

/// A gradient that disagrees with its central-difference estimate.
#[derive(Debug, Clone, PartialEq)]
pub struct GradcheckError {
    /// The op (or test case) checked.
    pub op: String,
    /// The multi-index of the first element that disagrees.
    pub index: Vec<usize>,
    /// The central-difference estimate.
    pub expected: f64,
    /// The gradient from `backward()`.
    pub got: f64,
}

impl fmt::Display for GradcheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "gradcheck {}: at index {}, central difference gives {:.9e}, backward gives {:.9e}",
            self.op,
            fmt_dims(&self.index),
            self.expected,
            self.got
        )
    }
}

impl std::error::Error for GradcheckError {}

/// Checks the gradient of `f` at `x` against central differences.
///
/// The scalar checked is `sum(f(x) * r)` for a fixed random `r` (so every output element
/// weighs differently, like PyTorch's `grad_out`). Each element of `x` is moved by `±h`,
/// `h = 1e-6`; the estimate and the backward gradient must agree to `1e-6 + 1e-5·|estimate|`.
/// Keep `x` away from kinks (`relu` at 0, ties in `max`).
///
/// ```
/// use shapetorch::prelude::*;
/// let x = Tensor1::<f64, 4>::randn(1);
/// gradcheck("tanh", &x, |x| x.tanh()).unwrap();
/// ```
pub fn gradcheck<S: Shape, O: Shape>(
    op: &str,
    x: &Tensor<f64, S>,
    f: impl Fn(&Tensor<f64, S>) -> Tensor<f64, O>,
) -> Result<(), GradcheckError> {
    const H: f64 = 1e-6;
    let y = f(x);
    let weights = Tensor::randn_shaped(*y.shape(), 0x5eed, 0.0, 1.0);
    let loss = |x: &Tensor<f64, S>| -> f64 {
        f(x).as_slice()
            .iter()
            .zip(weights.as_slice())
            .map(|(a, b)| a * b)
            .sum()
    };

    let tape = Tape::new();
    let traced = x.trace(&tape);
    let grads = (f(&traced) * weights.clone()).sum_all().backward();
    let analytic = grads
        .get(&traced)
        .map(|g| g.to_vec())
        .unwrap_or(vec![0.0; x.numel()]);

    let mut moved = x.to_vec();
    for i in 0..x.numel() {
        let orig = moved[i];
        moved[i] = orig + H;
        let plus = loss(&Tensor::from_parts(*x.shape(), moved.clone()));
        moved[i] = orig - H;
        let minus = loss(&Tensor::from_parts(*x.shape(), moved.clone()));
        moved[i] = orig;
        let expected = (plus - minus) / (2.0 * H);
        let got = analytic[i];
        if (expected - got).abs() > 1e-6 + 1e-5 * expected.abs() || !got.is_finite() {
            return Err(GradcheckError {
                op: op.to_string(),
                index: x.shape().unravel(i).as_ref().to_vec(),
                expected,
                got,
            });
        }
    }
    Ok(())
}
