//! Batch normalisation's shape relations: the input's channel dim equals the layer's (or the
//! per-channel tensors') `C`, checked by the compiler; the output has the input's shape.
//!
//! - [`BatchNorm2dShape<C>`]: `[B, Dim<C>, H, W]`, like `torch.nn.BatchNorm2d(C)`;
//! - [`BatchNorm1dShape<C>`]: `[B, Dim<C>]` or `[B, Dim<C>, L]`, like `torch.nn.BatchNorm1d(C)`;
//! - [`BatchNormShape<C>`]: `[B, Dim<C>, ..]` of rank 2 to 5, like `F.batch_norm`.
//!
//! The batch and the other dims may be anything (a runtime `usize` too); only the channels
//! must be static, so code generic over the batch, the height and the width (or over the
//! channels, with the layer's `C` the input's) writes no bound:
//!
//! ```
//! use shapetorch::shape::{BatchNorm2dShape, Dim, Dimension};
//! fn normalisable<S: BatchNorm2dShape<C>, const C: usize>() {}
//! fn generic<B: Dimension, H: Dimension, W: Dimension, const C: usize>() {
//!     normalisable::<(B, Dim<C>, H, W), C>(); // no where-clause needed
//! }
//! generic::<usize, Dim<7>, usize, 8>();
//! ```
//!
//! A channel mismatch reads "batch_norm2d: the input has 6 channels, the layer has 8":
//!
//! ```compile_fail
//! use shapetorch::shape::{BatchNorm2dShape, Dim};
//! fn normalisable<S: BatchNorm2dShape<C>, const C: usize>() {}
//! normalisable::<(usize, Dim<6>, Dim<4>, Dim<4>), 8>();
//! ```
//!
//! The relations are built as the others are (`conv.rs` explains why): a blanket impl over
//! any `Self` asks a hidden check trait of `()`, implemented once per rank that the op takes,
//! whose where-clause holds the channel guard; the check's own message is the one for a
//! wrong rank or a channel dim that is not a `Dim<N>`. The channel guard compares two const
//! generics (no typenum), so it holds in generic code whenever the two are one parameter.

use super::markers::{batch_norm, batch_norm1d, batch_norm2d};
use super::{Dim, Dimension, Shape};

/// The input's channels equal a layer's (`Self` is the op: `batch_norm1d`, `batch_norm2d`).
/// Implemented for every `Self` when the numbers are equal.
#[diagnostic::on_unimplemented(
    message = "{Self}: the input has {X} channels, the layer has {C}",
    label = "channel counts differ",
    note = "the layer normalises each of its C channels: the input's channel dim (its second) must be C"
)]
pub trait LayerChannels<const X: usize, const C: usize> {}
impl<T: ?Sized, const C: usize> LayerChannels<C, C> for T {}

/// The input's channels equal the per-channel tensors' (`running_mean`, `running_var`,
/// `weight`, `bias`) of `F.batch_norm`. Implemented for every `Self` when the numbers are
/// equal.
#[diagnostic::on_unimplemented(
    message = "{Self}: the input has {X} channels, the running statistics, weight and bias have {C}",
    label = "channel counts differ",
    note = "running_mean, running_var, weight and bias hold one value per channel: [C] for an input [batch, C, ..]"
)]
pub trait StatChannels<const X: usize, const C: usize> {}
impl<T: ?Sized, const C: usize> StatChannels<C, C> for T {}

// ---------------------------------------------------------------------------------------------
// BatchNorm2d
// ---------------------------------------------------------------------------------------------

/// The relation of `BatchNorm2d<E, C>`: `Self` is `[B, Dim<C>, H, W]` (any batch, height and
/// width, static channels equal to `C`); the output has the same shape. Concrete code and
/// code generic over `B`, `H`, `W` need no bound.
pub trait BatchNorm2dShape<const C: usize>: Shape {}
impl<X: Shape, const C: usize> BatchNorm2dShape<C> for X where (): BatchNorm2dCheck<X, C> {}

/// [`BatchNorm2dShape`]'s check, asked of `()`; its message is the one for an input of another
/// rank, or whose channels are not a `Dim<N>`.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "batch_norm2d takes a 4-D input [batch, channels, height, width] with static channels (`Dim<{C}>`); the input is `{X}`",
    label = "not [batch, Dim<{C}>, height, width]",
    note = "BatchNorm1d takes [batch, channels] and [batch, channels, length]"
)]
pub trait BatchNorm2dCheck<X, const C: usize> {}
impl<T: ?Sized, B: Dimension, const X: usize, H: Dimension, W: Dimension, const C: usize>
    BatchNorm2dCheck<(B, Dim<X>, H, W), C> for T
where
    batch_norm2d: LayerChannels<X, C>,
{
}

// ---------------------------------------------------------------------------------------------
// BatchNorm1d
// ---------------------------------------------------------------------------------------------

/// The relation of `BatchNorm1d<E, C>`: `Self` is `[B, Dim<C>]` or `[B, Dim<C>, L]` (any
/// batch and length, static channels equal to `C`), as `torch.nn.BatchNorm1d` takes; the
/// output has the same shape. Concrete code and code generic over `B`, `L` need no bound.
pub trait BatchNorm1dShape<const C: usize>: Shape {}
impl<X: Shape, const C: usize> BatchNorm1dShape<C> for X where (): BatchNorm1dCheck<X, C> {}

/// [`BatchNorm1dShape`]'s check, asked of `()`; its message is the one for an input of another
/// rank, or whose channels are not a `Dim<N>`.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "batch_norm1d takes a 2-D input [batch, channels] or a 3-D one [batch, channels, length] with static channels (`Dim<{C}>`); the input is `{X}`",
    label = "not [batch, Dim<{C}>] or [batch, Dim<{C}>, length]",
    note = "BatchNorm2d takes [batch, channels, height, width]"
)]
pub trait BatchNorm1dCheck<X, const C: usize> {}
impl<T: ?Sized, B: Dimension, const X: usize, const C: usize> BatchNorm1dCheck<(B, Dim<X>), C> for T where
    batch_norm1d: LayerChannels<X, C>
{
}
impl<T: ?Sized, B: Dimension, const X: usize, L: Dimension, const C: usize>
    BatchNorm1dCheck<(B, Dim<X>, L), C> for T
where
    batch_norm1d: LayerChannels<X, C>,
{
}

// ---------------------------------------------------------------------------------------------
// F.batch_norm
// ---------------------------------------------------------------------------------------------

/// The relation of the functional `x.batch_norm(..)`: `Self` is `[B, Dim<C>, ..]` of rank 2 to
/// 5 (any batch and other dims, static channels equal to `C`, the length of the per-channel
/// tensors); the output has the same shape.
pub trait BatchNormShape<const C: usize>: Shape {}
impl<X: Shape, const C: usize> BatchNormShape<C> for X where (): BatchNormCheck<X, C> {}

/// [`BatchNormShape`]'s check, asked of `()`; its message is the one for an input of another
/// rank, or whose channels are not a `Dim<N>`.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "batch_norm takes an input [batch, channels, ..] of rank 2 to 5 with static channels (`Dim<{C}>`); the input is `{X}`",
    label = "not [batch, Dim<{C}>, ..]"
)]
pub trait BatchNormCheck<X, const C: usize> {}

/// [`BatchNormCheck`] for an input of rank 2 to 5 whose second dim is `Dim<X>`.
macro_rules! batch_norm_check {
    ($($d:ident),*) => {
        impl<T: ?Sized, B: Dimension, const X: usize, $($d: Dimension,)* const C: usize>
            BatchNormCheck<(B, Dim<X>, $($d,)*), C> for T
        where
            batch_norm: StatChannels<X, C>,
        {
        }
    };
}
batch_norm_check!();
batch_norm_check!(D2);
batch_norm_check!(D2, D3);
batch_norm_check!(D2, D3, D4);

#[cfg(test)]
mod tests {
    use super::*;

    fn norm2d<S: BatchNorm2dShape<C>, const C: usize>() {}
    fn norm1d<S: BatchNorm1dShape<C>, const C: usize>() {}
    fn norm<S: BatchNormShape<C>, const C: usize>() {}

    /// Generic over the batch, the spatial dims and the channels: no bound.
    fn generic<B: Dimension, H: Dimension, W: Dimension, const C: usize>() {
        norm2d::<(B, Dim<C>, H, W), C>();
        norm1d::<(B, Dim<C>), C>();
        norm1d::<(B, Dim<C>, W), C>();
        norm::<(B, Dim<C>, H, W, W), C>();
    }

    #[test]
    fn the_relations_hold_for_equal_channels_at_every_rank_they_take() {
        generic::<usize, Dim<5>, usize, 3>();
        norm2d::<(Dim<2>, Dim<8>, Dim<1>, Dim<1>), 8>();
        norm1d::<(usize, Dim<4>), 4>();
        norm1d::<(usize, Dim<4>, usize), 4>();
        norm::<(usize, Dim<4>), 4>();
        norm::<(usize, Dim<4>, Dim<2>, Dim<3>, Dim<5>), 4>();
    }
}
