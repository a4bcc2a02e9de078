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
