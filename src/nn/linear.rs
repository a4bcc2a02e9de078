//! `Linear`: the fully connected layer `y = x · Wᵀ + b`, like `torch.nn.Linear`.

use super::{uniform, Forward, Init, Module, Visitor};
use crate::element::Element;
use crate::shape::{Dim, LinearOut, LinearShape};
use crate::tensor::{Rng, Tensor, Tensor1, Tensor2};

/// A fully connected layer from `IN` to `OUT` features: `y = x · Wᵀ + b`, weight
/// `[OUT, IN]` and bias `[OUT]` (PyTorch's layout and names: `weight`, `bias`).
///
/// Initialised as PyTorch does: both uniform in `[-1/sqrt(IN), 1/sqrt(IN))`.
#[derive(Clone, Debug)]
pub struct Linear<E: Element, const IN: usize, const OUT: usize> {
    /// `[OUT, IN]`.
    pub weight: Tensor2<E, OUT, IN>,
    /// `[OUT]`.
    pub bias: Tensor1<E, OUT>,
}

impl<E: Element, const IN: usize, const OUT: usize> Init for Linear<E, IN, OUT> {
    fn init(rng: &mut Rng) -> Self {
        let bound = 1.0 / (IN.max(1) as f64).sqrt();
        Linear {
            weight: uniform(rng, bound),
            bias: uniform(rng, bound),
        }
    }
}

impl<E: Element, const IN: usize, const OUT: usize> Module<E> for Linear<E, IN, OUT> {
    fn visit(&mut self, visitor: &mut Visitor<'_, E>) {
        visitor.param("weight", &mut self.weight);
        visitor.param("bias", &mut self.bias);
    }
}

impl<E: Element, const IN: usize, const OUT: usize> Linear<E, IN, OUT> {
    /// `[B, IN] → [B, OUT]` (or `[B, T, IN] → [B, T, OUT]`). (An inherent method, so that a
    /// wrong input reports the linear map's own message at the call; [`Forward`] calls it.)
    #[rustfmt::skip] // the signature on two lines: compile errors quote it
    pub fn forward<S>(&self, x: Tensor<E, S>) -> Tensor<E, LinearOut<S, Dim<OUT>>>
    where S: LinearShape<Dim<IN>>,
    {
        x.linear_bias(&self.weight, &self.bias)
    }
}

impl<E: Element, S, const IN: usize, const OUT: usize> Forward<Tensor<E, S>> for Linear<E, IN, OUT>
where
    S: LinearShape<Dim<IN>>,
{
    type Output = Tensor<E, LinearOut<S, Dim<OUT>>>;
    fn forward(&self, x: Tensor<E, S>) -> Self::Output {
        Linear::forward(self, x)
    }
}
