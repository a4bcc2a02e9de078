//! Adaptive pooling's shape relation: `[B, C, H, W]` → `[B, C, OH, OW]` for any input size,
//! the output size chosen by the caller ([`AdaptivePool2dShape`], output
//! [`AdaptivePool2dOut`]).
//!
//! The output does not depend on the input's height and width, so these may be runtime
//! `usize`s and generic code needs no bound on a `(B, C, H, W)` input:
//!
//! ```
//! use shapetorch::shape::{AdaptivePool2dOut, Dim, Dimension};
//! fn global<B: Dimension, C: Dimension, H: Dimension, W: Dimension>(
//! ) -> std::marker::PhantomData<AdaptivePool2dOut<(B, C, H, W), 1, 1>> {
//!     std::marker::PhantomData
//! }
//! let _: std::marker::PhantomData<(usize, Dim<64>, Dim<1>, Dim<1>)> =
//!     global::<usize, Dim<64>, Dim<7>, usize>();
//! ```
//!
//! Built as the other relations are (`conv.rs` explains why): a blanket impl over any `Self`
//! asks a hidden trait of `()` for the output, implemented for 4-D inputs only, so an input of
//! another rank gets that trait's message ("adaptive_avg_pool2d takes a 4-D input").

use super::{Dim, Dimension, Shape};

/// The relation of `adaptive_avg_pool2d::<OH, OW>()`: `Self` is `[B, C, H, W]` (any dims) and
/// the output is `[B, C, OH, OW]` ([`AdaptivePool2dOut`]).
pub trait AdaptivePool2dShape<const OH: usize, const OW: usize>: Shape {
    /// `[B, C, OH, OW]`.
    type Output: Shape;
    /// The output shape's value (batch and channels pass through).
    fn adaptive_pool2d_shape(&self) -> Self::Output;
}

impl<X: Shape, const OH: usize, const OW: usize> AdaptivePool2dShape<OH, OW> for X
where
    (): AdaptivePool2dFor<X, OH, OW>,
{
    type Output = <() as AdaptivePool2dFor<X, OH, OW>>::Output;
    #[inline]
    fn adaptive_pool2d_shape(&self) -> Self::Output {
        <() as AdaptivePool2dFor<X, OH, OW>>::out_shape(self)
    }
}

/// [`AdaptivePool2dShape`], asked of `()`: implemented for 4-D inputs.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "adaptive_avg_pool2d takes a 4-D input [batch, channels, height, width]; the input is `{X}`",
    label = "not a 4-D input"
)]
pub trait AdaptivePool2dFor<X, const OH: usize, const OW: usize> {
    /// The output shape.
    type Output: Shape;
    /// The output shape's value.
    fn out_shape(x: &X) -> Self::Output;
}

impl<
        T: ?Sized,
        B: Dimension,
        C: Dimension,
        H: Dimension,
        W: Dimension,
        const OH: usize,
        const OW: usize,
    > AdaptivePool2dFor<(B, C, H, W), OH, OW> for T
{
    type Output = (B, C, Dim<OH>, Dim<OW>);
    fn out_shape(x: &(B, C, H, W)) -> Self::Output {
        (x.0, x.1, Dim, Dim)
    }
}

/// The output shape of `adaptive_avg_pool2d::<OH, OW>()` on an input `S` (`[B, C, H, W]`):
/// `[B, C, OH, OW]`.
pub type AdaptivePool2dOut<S, const OH: usize, const OW: usize> =
    <S as AdaptivePool2dShape<OH, OW>>::Output;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_output_is_the_chosen_size_whatever_the_input() {
        let x = (3usize, Dim::<8>, 7usize, Dim::<5>);
        let y: (usize, Dim<8>, Dim<2>, Dim<3>) =
            AdaptivePool2dShape::<2, 3>::adaptive_pool2d_shape(&x);
        assert_eq!(y.dims(), [3, 8, 2, 3]);
    }
}
