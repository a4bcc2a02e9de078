//! Optimisers: [`Sgd`] (momentum, weight decay) and [`Adam`] (and AdamW), updating a model's
//! parameters in place from the gradients of one `backward()`, with PyTorch's update rules.
//!
//! State (momentum buffers, moment estimates) is kept per parameter, keyed by its name, so it
//! survives across steps and follows a parameter through save and load.
//!
//! ```
//! use shapetorch::prelude::*;
//!
//! shapetorch::model! {
//!     struct Regression { fc: Linear<f64, 1, 1> }
//! }
//!
//! // Fit y = 2x + 1 with Adam.
//! let mut model = Regression::new(0);
//! let tape = Tape::new();
//! model.trace(&tape);
//! let x = Tensor2::<f64, 4, 1>::from_slice(&[0.0, 1.0, 2.0, 3.0]).unwrap();
//! let y = Tensor2::<f64, 4, 1>::from_slice(&[1.0, 3.0, 5.0, 7.0]).unwrap();
//! let mut adam = Adam::new(0.1);
//! for _ in 0..300 {
//!     let loss = (&model.fc.forward(x.clone()) - &y).powi(2).mean_all();
//!     adam.step(&mut model, &loss.backward());
//! }
//! assert!((model.fc.weight[[0, 0]] - 2.0).abs() < 0.05);
//! ```

mod adam;
mod sgd;

pub use adam::Adam;
pub use sgd::Sgd;

use crate::autodiff::Gradients;
use crate::element::Element;
use crate::nn::{Module, ModuleExt};

/// `x`, or zero when it is subnormal (nonzero and below the smallest normal value: 1.2e-38 in
/// `f32`). Applied to the optimisers' moving averages.
///
/// Why: a parameter whose gradient has become zero (the weights of a unit whose ReLU never
/// fires) keeps a momentum or first moment that shrinks by the same factor every step, 0.9 for
/// Adam's default, and reaches the subnormal range within about 800 steps; x86 CPUs take some
/// 100 cycles for each arithmetic operation on a subnormal. Measured on LeNet-5 with Adam (one
/// thread): epochs after the first took 3.3-3.5 s instead of 2.8-2.9 s. A moment that small
/// changes its parameter by less than `lr · 1e-30`, far below the rounding of the parameter
/// itself: the trained values are PyTorch's to within float rounding either way.
#[inline(always)]
pub(crate) fn flush_subnormal<E: Element>(x: E) -> E {
    if x.abs() < E::min_positive_value() {
        E::zero()
    } else {
        x
    }
}

/// Updates a model's parameters from the gradients of one `backward()`.
pub trait Optimizer<E: Element> {
    /// One update of every parameter of `model` that has a gradient in `grads` (parameters the
    /// loss did not reach are left as they are, with their state).
    fn step<M: Module<E> + ?Sized>(&mut self, model: &mut M, grads: &Gradients<E>) {
        model.for_each_parameter(|name, param| {
            if let Some(grad) = grads.get_raw(param.id()) {
                self.update(name, param.values_mut(), grad);
            }
        });
    }

    /// Updates one parameter, `name`, from its gradient.
    fn update(&mut self, name: &str, param: &mut [E], grad: &[E]);
}

#[cfg(test)]
mod tests {
    use super::{Adam, Optimizer, Sgd};

    /// A parameter whose gradient becomes zero: its moments shrink every step, and must end
    /// at zero rather than in the slow subnormal range. Without the flush they would stay
    /// subnormal (nonzero, below `f32::MIN_POSITIVE`), which the test checks they are not.
    #[test]
    fn decaying_moments_end_at_zero_not_subnormal() {
        let subnormal = |x: f32| x != 0.0 && x.abs() < f32::MIN_POSITIVE;
        let mut adam = Adam::<f32>::new(1e-3);
        let mut sgd = Sgd::<f32>::new(1e-3).momentum(0.9);
        let (mut pa, mut ps) = ([1.0f32, 1.0], [1.0f32, 1.0]);
        adam.update("p", &mut pa, &[1e-3, 1e-3]);
        sgd.update("p", &mut ps, &[1e-3, 1e-3]);
        let mut seen_tiny = false;
        for _ in 0..2000 {
            adam.update("p", &mut pa, &[0.0, 1e-3]);
            sgd.update("p", &mut ps, &[0.0, 1e-3]);
            let state = &adam.state["p"];
            let values = state.m.iter().chain(&state.v).chain(&sgd.buffers["p"]);
            assert!(!values.clone().any(|&x| subnormal(x)), "a subnormal moment");
            seen_tiny |= state.m[0] == 0.0 && sgd.buffers["p"][0] == 0.0;
        }
        assert!(
            seen_tiny,
            "the first moment of the zero-gradient entry reached zero"
        );
        // the entry whose gradient stays keeps normal moments and keeps moving
        assert!(adam.state["p"].m[1] > 1e-4 && pa[1] < 0.99 && ps[1] < 1.0);
    }
}
