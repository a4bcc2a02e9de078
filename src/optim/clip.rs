//! Gradient clipping by global norm, as `torch.nn.utils.clip_grad_norm_` and its two halves,
//! `get_total_norm` and `clip_grads_with_norm_`.
//!
//! The norm is taken over all of a model's gradients as if they were one vector (PyTorch
//! computes it as the norm of the per-tensor norms, and so does this):
//!
//! ```text
//! total_norm = ‖(‖g_1‖_p, ‖g_2‖_p, ...)‖_p          p = 2 (L2), ∞ (largest |g|), or any p > 0
//! clip_coef  = min(max_norm / (total_norm + 1e-6), 1)
//! g_i        = g_i · clip_coef                      for every gradient, in place
//! ```
//!
//! ```
//! use shapetorch::optim::clip_grad_norm;
//! use shapetorch::prelude::*;
//!
//! shapetorch::model! {
//!     struct Net { fc: Linear<f64, 2, 1> }
//! }
//! let mut net = Net::new(0);
//! let tape = Tape::new();
//! net.trace(&tape);
//! let x = Tensor2::<f64, 1, 2>::from_slice(&[30.0, 40.0]).unwrap();
//! let mut grads = net.fc.forward(x).sum_all().backward(); // weight's gradient (30, 40), bias's 1
//! let norm = clip_grad_norm(&mut net, &mut grads, 1.0, 2.0);
//! assert!((norm - (30f64 * 30.0 + 40.0 * 40.0 + 1.0).sqrt()).abs() < 1e-12);
//! let (w, b) = (grads.get(&net.fc.weight).unwrap(), grads.get(&net.fc.bias).unwrap());
//! let after = (w[[0, 0]].powi(2) + w[[0, 1]].powi(2) + b[[0]].powi(2)).sqrt();
//! assert!(after <= 1.0 && after > 1.0 - 1e-6); // scaled by 1 / (norm + 1e-6)
//! ```

use crate::autodiff::Gradients;
use crate::element::Element;
use crate::nn::{Module, ModuleExt};

/// The `p`-norm of the values (`p` > 0, or infinite: the largest magnitude), in `f64`.
fn vector_norm<E: Element>(values: impl Iterator<Item = E>, p: f64) -> f64 {
    let magnitudes = values.map(|v| v.to_f64().expect("a float converts to f64").abs());
    if p == f64::INFINITY {
        // NaN propagates, as in PyTorch (`f64::max` would skip it).
        magnitudes.fold(0.0, |m, v| if v > m || v.is_nan() { v } else { m })
    } else if p == 2.0 {
        magnitudes.map(|v| v * v).sum::<f64>().sqrt()
    } else if p == 1.0 {
        magnitudes.sum()
    } else {
        magnitudes.map(|v| v.powf(p)).sum::<f64>().powf(1.0 / p)
    }
}

/// The norm of all of `model`'s gradients in `grads` together, as one vector: PyTorch's
/// `torch.nn.utils.get_total_norm(grads, norm_type)`. `norm_type` is `2.0` for the L2 norm,
/// `f64::INFINITY` for the largest magnitude, or any `p > 0`. Parameters without a gradient
/// are left out; with none at all the norm is 0. A NaN or infinite gradient makes the norm
/// NaN or infinite (check it before clipping to skip such a step, as PyTorch's
/// `error_if_nonfinite` does).
///
/// Each gradient's norm is computed in `f64` and rounded to `E` (PyTorch's per-tensor norms
/// have the gradients' type), then the norm of those norms, rounded to `E`.
///
/// # Panics
///
/// When `norm_type` is not positive (PyTorch's 0 and -∞ "norms" are not offered).
pub fn get_total_norm<E: Element>(
    model: &mut dyn Module<E>,
    grads: &Gradients<E>,
    norm_type: f64,
) -> E {
    assert!(
        norm_type > 0.0,
        "get_total_norm: norm_type {norm_type} must be positive (2.0, f64::INFINITY, ...)"
    );
    let mut norms = Vec::new();
    model.for_each_parameter(|_, param| {
        if let Some(grad) = grads.get_raw(param.id()) {
            norms.push(E::of(vector_norm(grad.iter().copied(), norm_type)));
        }
    });
    E::of(vector_norm(norms.into_iter(), norm_type))
}

/// Scales `model`'s gradients in `grads` in place by `min(max_norm / (total_norm + 1e-6), 1)`:
/// PyTorch's `torch.nn.utils.clip_grads_with_norm_`, with the norm from [`get_total_norm`].
/// Every gradient is multiplied, by 1 when the norm is within `max_norm` (no change), as in
/// PyTorch; a NaN norm makes every gradient NaN.
pub fn clip_grads_with_norm<E: Element>(
    model: &mut dyn Module<E>,
    grads: &mut Gradients<E>,
    max_norm: f64,
    total_norm: E,
) {
    // PyTorch evaluates `max_norm / (total_norm + 1e-6)` on a tensor as
    // `(total_norm + 1e-6).reciprocal() * max_norm`; the same rounding here.
    let coef = (total_norm + E::of(1e-6)).recip() * E::of(max_norm);
    // clamp(coef, max = 1), NaN kept (`min` would drop it)
    let coef = if coef > E::one() { E::one() } else { coef };
    model.for_each_parameter(|_, param| {
        if let Some(grad) = grads.get_raw_mut(param.id()) {
            for g in grad {
                *g = *g * coef;
            }
        }
    });
}

/// Clips `model`'s gradients in `grads` to a global norm of at most `max_norm` and returns
/// their norm before clipping: PyTorch's `torch.nn.utils.clip_grad_norm_(model.parameters(),
/// max_norm, norm_type)`, i.e. [`get_total_norm`] then [`clip_grads_with_norm`] (see them for
/// `norm_type` and non-finite norms). Call it between `backward()` and the optimiser's step.
///
/// # Panics
///
/// When `norm_type` is not positive.
pub fn clip_grad_norm<E: Element>(
    model: &mut dyn Module<E>,
    grads: &mut Gradients<E>,
    max_norm: f64,
    norm_type: f64,
) -> E {
    let total_norm = get_total_norm(model, grads, norm_type);
    clip_grads_with_norm(model, grads, max_norm, total_norm);
    total_norm
}

#[cfg(test)]
mod tests {
    use super::vector_norm;

    #[test]
    fn norms_by_hand() {
        let v = [3.0f64, -4.0, 0.0];
        assert_eq!(vector_norm(v.into_iter(), 2.0), 5.0); // sqrt(9 + 16)
        assert_eq!(vector_norm(v.into_iter(), 1.0), 7.0); // 3 + 4
        assert_eq!(vector_norm(v.into_iter(), f64::INFINITY), 4.0); // max |v|
        let cube = vector_norm(v.into_iter(), 3.0); // (27 + 64)^(1/3)
        assert!((cube - 91f64.cbrt()).abs() < 1e-12);
        assert!(vector_norm([1.0, f64::NAN, 2.0].into_iter(), f64::INFINITY).is_nan());
        assert!(vector_norm([f64::NAN, 1.0].into_iter(), f64::INFINITY).is_nan());
        assert_eq!(vector_norm(std::iter::empty::<f64>(), 2.0), 0.0);
    }
}
