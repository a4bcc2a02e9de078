//! Activation layers: `ReLU`, `Sigmoid`, `Tanh`, for models written as a chain of layers.
//! They have no parameters and keep every shape.

use super::{Forward, Init, Module, Visitor};
use crate::element::Element;
use crate::shape::Shape;
use crate::tensor::{Rng, Tensor};

macro_rules! activation {
    ($(#[$doc:meta])* $name:ident, $method:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        pub struct $name;

        impl<E: Element, S: Shape> Forward<Tensor<E, S>> for $name {
            type Output = Tensor<E, S>;
            fn forward(&self, x: Tensor<E, S>) -> Tensor<E, S> {
                let y = x.$method();
                super::summary::note_output(self, y.dims().as_ref());
                y
            }
        }

        impl<E: Element> Module<E> for $name {
            fn visit(&mut self, _: &mut Visitor<'_, E>) {}
        }

        impl Init for $name {
            fn init(_: &mut Rng) -> Self {
                $name
            }
        }
    };
}

activation!(
    /// `max(x, 0)` elementwise, like `torch.nn.ReLU`.
    ReLU,
    relu
);
activation!(
    /// `1 / (1 + e^-x)` elementwise, like `torch.nn.Sigmoid`.
    Sigmoid,
    sigmoid
);
activation!(
    /// The hyperbolic tangent elementwise, like `torch.nn.Tanh`.
    Tanh,
    tanh
);
