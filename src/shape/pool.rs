//! Pooling and tiling shape relations: one named bound per op ([`MaxPool2dShape`],
//! [`AvgPool2dShape`], [`MaxPool1dShape`], [`AvgPool1dShape`], [`TileShape`]) whose output
//! shape ([`Pool2dOut`], [`Pool1dOut`], [`Tiled`]) is computed by the compiler, and whose checks
//! fail with errors that name the op, the dims in words and the numbers in decimal.
//!
//! A pooling window of `K` taps with stride `S`, padding `P` (each side) and dilation `D` gives
//! `(W + 2P - D(K-1) - 1)/S + 1` outputs along an axis, the convolution's formula
//! ([`WindowOut`](super::WindowOut)); the window moves by the kernel size unless told
//! otherwise, as in PyTorch (`stride=None`). The hyper-parameters are types, per axis:
//! [`Pool2d`] and [`Pool1d`].
//!
//! ```
//! use shapetorch::shape::{Dim, Dimension, MaxPool2dShape, Pool2d, Pool2dOut, Pool2dSize, Tiled};
//! // 28 x 28 in 2 x 2 windows, stride 2: 14 x 14
//! let y = Pool2dSize::<Pool2d<2, 2>>::pool2d_shape(&(5usize, Dim::<6>, Dim::<28>, Dim::<28>));
//! let _: (usize, Dim<6>, Dim<14>, Dim<14>) = y;
//! // 3 x 3 windows, stride 2, padding 1: (9 + 2 - 3)/2 + 1 = 5
//! let _: Pool2dOut<(usize, Dim<2>, Dim<9>, Dim<9>), Pool2d<3, 3, 2, 2, 1, 1>> =
//!     (7, Dim::<2>, Dim::<5>, Dim::<5>);
//! // tiles of 2 x 4: [B, C, 28/2, 28/4, 2*4]
//! let _: Tiled<(usize, Dim<3>, Dim<28>, Dim<28>), 2, 4> = (1, Dim::<3>, Dim::<14>, Dim::<7>, Dim::<8>);
//!
//! // One bound per op in generic code: 2 x 2 max pooling over any batch, channels, height, width.
//! fn out_shape<B: Dimension, C: Dimension, H: Dimension, W: Dimension>(
//! ) -> std::marker::PhantomData<Pool2dOut<(B, C, H, W), Pool2d<2, 2>>>
//! where
//!     (B, C, H, W): MaxPool2dShape<Pool2d<2, 2>>,
//! {
//!     std::marker::PhantomData
//! }
//! let _: std::marker::PhantomData<(usize, Dim<6>, Dim<12>, Dim<5>)> =
//!     out_shape::<usize, Dim<6>, Dim<24>, Dim<11>>();
//! ```
//!
//! The relations are built as the convolution's are (`src/shape/conv.rs` explains why): a
//! blanket impl over any input shape asks the hyper-parameters type for the output shape
//! (`Pool2dSizeFor`, arithmetic only, one associated type, the supertrait [`Pool2dSize`]) and
//! for the checks (one hidden check trait per op, whose impl lists the guards of `window.rs`
//! per axis: the window fits, stride and dilation, padding at most half the window, the
//! window not empty). Batch and channels may be any dims (a runtime `usize` too); height and
//! width must be static.

use super::bridge::Check;
use super::markers::{avg_pool1d, avg_pool2d, max_pool1d, max_pool2d, window};
use super::params::{Axis, Pool1d, Pool2d};
use super::window::{
    AxisDilated, AxisFits, AxisOut, AxisPadded, AxisUndilated, Height, NonEmpty1, NonEmpty2, Width,
    WindowNonEmpty, WindowNonZero,
};
use super::{Dim, Dimension, Shape};

// ---------------------------------------------------------------------------------------------
// 2-D pooling
// ---------------------------------------------------------------------------------------------

/// 2-D pooling's output shape for an input shape `Self` (`[B, C, H, W]`) and the
/// hyper-parameters `P` ([`Pool2d`]): arithmetic only, the supertrait of [`MaxPool2dShape`]
/// and [`AvgPool2dShape`].
pub trait Pool2dSize<P>: Shape {
    /// `[B, C, H_out, W_out]`.
    type Output: Shape;
    /// The output shape's value (batch and channels pass through).
    fn pool2d_shape(&self) -> Self::Output;
}

impl<X: Shape, P> Pool2dSize<P> for X
where
    P: Pool2dSizeFor<X>,
{
    type Output = <P as Pool2dSizeFor<X>>::Output;
    #[inline]
    fn pool2d_shape(&self) -> Self::Output {
        P::out_shape(self)
    }
}

/// [`Pool2dSize`], implemented per hyper-parameters type `Self`.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "2-D pooling: the compiler cannot see the height and width of `{X}`; in generic code, add the op's relation: `where {X}: MaxPool2dShape<{Self}>` (or `AvgPool2dShape`)"
)]
pub trait Pool2dSizeFor<X> {
    /// The output shape.
    type Output: Shape;
    /// The output shape's value.
    fn out_shape(x: &X) -> Self::Output;
}

impl<
        B: Dimension,
        C: Dimension,
        const H: usize,
        const W: usize,
        const KH: usize,
        const KW: usize,
        const SH: usize,
        const SW: usize,
        const PH: usize,
        const PW: usize,
        const DH: usize,
        const DW: usize,
    > Pool2dSizeFor<(B, C, Dim<H>, Dim<W>)> for Pool2d<KH, KW, SH, SW, PH, PW, DH, DW>
where
    Axis<SH, PH, DH>: AxisOut<H, KH>,
    Axis<SW, PW, DW>: AxisOut<W, KW>,
{
    type Output = (
        B,
        C,
        <Axis<SH, PH, DH> as AxisOut<H, KH>>::Output,
        <Axis<SW, PW, DW> as AxisOut<W, KW>>::Output,
    );
    fn out_shape(x: &(B, C, Dim<H>, Dim<W>)) -> Self::Output {
        (x.0, x.1, Default::default(), Default::default())
    }
}

/// A 2-D pooling's check (`$check`), implemented for [`Pool2d`] on a `[B, C, H, W]` input
/// with static height and width: per axis the window fits, the stride, the op's dilation rule
/// (`$dilation`), the padding; and the window is not empty.
macro_rules! pool2d_check {
    (
        $(#[$doc:meta])* $check:ident, $op:ident, $message:literal,
        $dil_h:ident[$($dh:tt),*], $dil_w:ident[$($dw:tt),*]
    ) => {
        $(#[$doc])*
        #[doc(hidden)]
        #[diagnostic::on_unimplemented(
            message = $message,
            label = "height or width not a `Dim<N>`"
        )]
        pub trait $check<X>: Pool2dSizeFor<X> {}

        impl<
                B: Dimension,
                C: Dimension,
                const H: usize,
                const W: usize,
                const KH: usize,
                const KW: usize,
                const SH: usize,
                const SW: usize,
                const PH: usize,
                const PW: usize,
                const DH: usize,
                const DW: usize,
            > $check<(B, C, Dim<H>, Dim<W>)> for Pool2d<KH, KW, SH, SW, PH, PW, DH, DW>
        where
            Self: Pool2dSizeFor<(B, C, Dim<H>, Dim<W>)>,
            (): NonEmpty2<KH, KW>,
            Check<<() as NonEmpty2<KH, KW>>::Bit, $op>: WindowNonEmpty<window, KH, KW>,
            Axis<SH, PH, DH>: AxisFits<$op, window, Height, H, KH>
                + AxisPadded<$op, window, KH>
                + $dil_h<$op $(, $dh)*>,
            Axis<SW, PW, DW>: AxisFits<$op, window, Width, W, KW>
                + AxisPadded<$op, window, KW>
                + $dil_w<$op $(, $dw)*>,
        {
        }
    };
}

pool2d_check!(
    /// max_pool2d's checks.
    MaxPool2dCheckFor, max_pool2d,
    "2-D pooling: the compiler cannot see the height and width of `{X}`; in generic code, add the op's relation: `where {X}: MaxPool2dShape<{Self}>`",
    AxisDilated[H, KH], AxisDilated[W, KW]
);
pool2d_check!(
    /// avg_pool2d's checks (no dilation: it must be 1).
    AvgPool2dCheckFor, avg_pool2d,
    "2-D pooling: the compiler cannot see the height and width of `{X}`; in generic code, add the op's relation: `where {X}: AvgPool2dShape<{Self}>`",
    AxisUndilated[], AxisUndilated[]
);

/// The relation of `max_pool2d`: windows of the hyper-parameters `P` ([`Pool2d`]) fit an input
/// of shape `Self` (`[B, C, H, W]`, static height and width), and the output is [`Pool2dOut`].
/// Generic code writes this one bound per max_pool2d:
///
/// `where (B, C, H, W): MaxPool2dShape<Pool2d<2, 2>>`
///
/// Concrete code needs no bound; a bad shape fails with a message naming the dims
/// ("max_pool2d: the window (5 high, dilation 1) is taller than the input (4 high, padding 0)").
#[diagnostic::on_unimplemented(message = "max_pool2d: `{Self}` does not fit `{P}`")]
pub trait MaxPool2dShape<P>: Pool2dSize<P> {}

impl<X, P> MaxPool2dShape<P> for X
where
    X: Pool2dSize<P>,
    P: MaxPool2dCheckFor<X>,
{
}

/// The relation of `avg_pool2d`: as [`MaxPool2dShape`], and the dilation is 1 (average
/// pooling has none). Generic code writes `where (B, C, H, W): AvgPool2dShape<Pool2d<2, 2>>`.
#[diagnostic::on_unimplemented(message = "avg_pool2d: `{Self}` does not fit `{P}`")]
pub trait AvgPool2dShape<P>: Pool2dSize<P> {}

impl<X, P> AvgPool2dShape<P> for X
where
    X: Pool2dSize<P>,
    P: AvgPool2dCheckFor<X>,
{
}

/// The output shape of a 2-D pooling on an input `S` (`[B, C, H, W]`) with hyper-parameters
/// `P`: `[B, C, H_out, W_out]`.
pub type Pool2dOut<S, P> = <S as Pool2dSize<P>>::Output;

// ---------------------------------------------------------------------------------------------
// 1-D pooling
// ---------------------------------------------------------------------------------------------

/// 1-D pooling's output shape for an input shape `Self` (`[B, C, W]`) and the
/// hyper-parameters `P` ([`Pool1d`]): arithmetic only, the supertrait of [`MaxPool1dShape`]
/// and [`AvgPool1dShape`].
pub trait Pool1dSize<P>: Shape {
    /// `[B, C, W_out]`.
    type Output: Shape;
    /// The output shape's value (batch and channels pass through).
    fn pool1d_shape(&self) -> Self::Output;
}

impl<X: Shape, P> Pool1dSize<P> for X
where
    P: Pool1dSizeFor<X>,
{
    type Output = <P as Pool1dSizeFor<X>>::Output;
    #[inline]
    fn pool1d_shape(&self) -> Self::Output {
        P::out_shape(self)
    }
}

/// [`Pool1dSize`], implemented per hyper-parameters type `Self`.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "1-D pooling: the compiler cannot see the width of `{X}`; in generic code, add the op's relation: `where {X}: MaxPool1dShape<{Self}>` (or `AvgPool1dShape`)"
)]
pub trait Pool1dSizeFor<X> {
    /// The output shape.
    type Output: Shape;
    /// The output shape's value.
    fn out_shape(x: &X) -> Self::Output;
}

impl<
        B: Dimension,
        C: Dimension,
        const W: usize,
        const K: usize,
        const S: usize,
        const P: usize,
        const D: usize,
    > Pool1dSizeFor<(B, C, Dim<W>)> for Pool1d<K, S, P, D>
where
    Axis<S, P, D>: AxisOut<W, K>,
{
    type Output = (B, C, <Axis<S, P, D> as AxisOut<W, K>>::Output);
    fn out_shape(x: &(B, C, Dim<W>)) -> Self::Output {
        (x.0, x.1, Default::default())
    }
}

/// A 1-D pooling's check (`$check`), implemented for [`Pool1d`] on a `[B, C, W]` input with a
/// static width: the window fits, the stride, the op's dilation rule, the padding, the window
/// not empty.
macro_rules! pool1d_check {
    ($(#[$doc:meta])* $check:ident, $op:ident, $message:literal, $dilation:ident[$($dargs:tt),*]) => {
        $(#[$doc])*
        #[doc(hidden)]
        #[diagnostic::on_unimplemented(
            message = $message,
            label = "width not a `Dim<N>`"
        )]
        pub trait $check<X>: Pool1dSizeFor<X> {}

        impl<
                B: Dimension,
                C: Dimension,
                const W: usize,
                const K: usize,
                const S: usize,
                const P: usize,
                const D: usize,
            > $check<(B, C, Dim<W>)> for Pool1d<K, S, P, D>
        where
            Self: Pool1dSizeFor<(B, C, Dim<W>)>,
            (): NonEmpty1<K>,
            Check<<() as NonEmpty1<K>>::Bit, $op>: WindowNonZero<window, K>,
            Axis<S, P, D>: AxisFits<$op, window, Width, W, K>
                + AxisPadded<$op, window, K>
                + $dilation<$op $(, $dargs)*>,
        {
        }
    };
}

pool1d_check!(
    /// max_pool1d's checks.
    MaxPool1dCheckFor, max_pool1d,
    "1-D pooling: the compiler cannot see the width of `{X}`; in generic code, add the op's relation: `where {X}: MaxPool1dShape<{Self}>`",
    AxisDilated[W, K]
);
pool1d_check!(
    /// avg_pool1d's checks (no dilation: it must be 1).
    AvgPool1dCheckFor, avg_pool1d,
    "1-D pooling: the compiler cannot see the width of `{X}`; in generic code, add the op's relation: `where {X}: AvgPool1dShape<{Self}>`",
    AxisUndilated[]
);

/// The relation of `max_pool1d`: windows of the hyper-parameters `P` ([`Pool1d`]) fit an input
/// of shape `Self` (`[B, C, W]`, static width), and the output is [`Pool1dOut`]. Generic code
/// writes `where (B, C, W): MaxPool1dShape<Pool1d<2>>`.
#[diagnostic::on_unimplemented(message = "max_pool1d: `{Self}` does not fit `{P}`")]
pub trait MaxPool1dShape<P>: Pool1dSize<P> {}

impl<X, P> MaxPool1dShape<P> for X
where
    X: Pool1dSize<P>,
    P: MaxPool1dCheckFor<X>,
{
}

/// The relation of `avg_pool1d`: as [`MaxPool1dShape`], and the dilation is 1. Generic code
/// writes `where (B, C, W): AvgPool1dShape<Pool1d<2>>`.
#[diagnostic::on_unimplemented(message = "avg_pool1d: `{Self}` does not fit `{P}`")]
pub trait AvgPool1dShape<P>: Pool1dSize<P> {}

impl<X, P> AvgPool1dShape<P> for X
where
    X: Pool1dSize<P>,
    P: AvgPool1dCheckFor<X>,
{
}

/// The output shape of a 1-D pooling on an input `S` (`[B, C, W]`) with hyper-parameters `P`:
/// `[B, C, W_out]`.
pub type Pool1dOut<S, P> = <S as Pool1dSize<P>>::Output;

// ---------------------------------------------------------------------------------------------
// Inputs of the wrong rank
// ---------------------------------------------------------------------------------------------

/// 2-D pooling takes a 4-D input: asked of `()` by the impls for other ranks, implemented by
/// none.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "2-D pooling takes a 4-D input [batch, channels, height, width]; the input is `{X}`",
    label = "not a 4-D input"
)]
pub trait Pool2dInputRank<X, P> {}
/// Never met by a real pooling (a window of `usize::MAX`): it keeps the rank check undecided
/// while `x.max_pool2d::<KH, KW>()`'s sizes are still unknown to method lookup, so that a wrong
/// rank fails with the message above (E0277) instead of "the method exists but its trait
/// bounds were not satisfied" (E0599).
#[diagnostic::do_not_recommend]
impl<X> Pool2dInputRank<X, Pool2d<{ usize::MAX }, { usize::MAX }>> for () {}

/// 1-D pooling takes a 3-D input: asked of `()` by the impls for other ranks, implemented by
/// none.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "1-D pooling takes a 3-D input [batch, channels, width]; the input is `{X}`",
    label = "not a 3-D input"
)]
pub trait Pool1dInputRank<X, P> {}
/// Never met by a real pooling; see the impl of [`Pool2dInputRank`].
#[diagnostic::do_not_recommend]
impl<X> Pool1dInputRank<X, Pool1d<{ usize::MAX }>> for () {}

/// Impls of one hyper-parameters type's size and check traits for inputs of a wrong rank,
/// each asking the rank trait (implemented by nothing) of `()`.
macro_rules! pool_wrong_rank {
    ($params:ty; [$($pc:ident),*]; $size:ident, $rank:ident, [$check1:ident, $check2:ident];
     $($d:ident),*) => {
        impl<$($d,)* $(const $pc: usize),*> $size<($($d,)*)> for $params
        where
            (): $rank<($($d,)*), Self>,
        {
            type Output = ();
            fn out_shape(_: &($($d,)*)) {
                panic!(
                    "pooling: the input's rank is checked at compile time, except for a window of \
                     usize::MAX"
                )
            }
        }
        impl<$($d,)* $(const $pc: usize),*> $check1<($($d,)*)> for $params where
            (): $rank<($($d,)*), Self>
        {
        }
        impl<$($d,)* $(const $pc: usize),*> $check2<($($d,)*)> for $params where
            (): $rank<($($d,)*), Self>
        {
        }
    };
}

/// Never met by a real pooling (a window of `usize::MAX`): for a 4-D input whose height or
/// width method lookup cannot see (generic code without the relation), it keeps the check
/// undecided while `x.max_pool2d::<KH, KW>()`'s sizes are still unknown, so that the call fails
/// with the check's message naming the relation (E0277), not E0599.
macro_rules! pool_generic_dims {
    ($params:ty; [$($pc:ident),*]; $size:ident, [$check1:ident, $check2:ident]; $($d:ident),*) => {
        #[diagnostic::do_not_recommend]
        impl<$($d,)* $(const $pc: usize),*> $size<($($d,)*)> for $params {
            type Output = ();
            fn out_shape(_: &($($d,)*)) {
                panic!("pooling: a window of usize::MAX is no window")
            }
        }
        #[diagnostic::do_not_recommend]
        impl<$($d,)* $(const $pc: usize),*> $check1<($($d,)*)> for $params {}
        #[diagnostic::do_not_recommend]
        impl<$($d,)* $(const $pc: usize),*> $check2<($($d,)*)> for $params {}
    };
}
pool_generic_dims!(
    Pool2d<{ usize::MAX }, { usize::MAX }, SH, SW, PH, PW, DH, DW>; [SH, SW, PH, PW, DH, DW];
    Pool2dSizeFor, [MaxPool2dCheckFor, AvgPool2dCheckFor]; B, C, H, W
);
pool_generic_dims!(
    Pool1d<{ usize::MAX }, S, P, D>; [S, P, D];
    Pool1dSizeFor, [MaxPool1dCheckFor, AvgPool1dCheckFor]; B, C, W
);

macro_rules! pool2d_wrong_ranks {
    ($($($d:ident),*;)+) => {$(
        pool_wrong_rank!(
            Pool2d<KH, KW, SH, SW, PH, PW, DH, DW>; [KH, KW, SH, SW, PH, PW, DH, DW];
            Pool2dSizeFor, Pool2dInputRank, [MaxPool2dCheckFor, AvgPool2dCheckFor]; $($d),*
        );
    )+};
}
pool2d_wrong_ranks!(; X0; X0, X1; X0, X1, X2; X0, X1, X2, X3, X4;);

macro_rules! pool1d_wrong_ranks {
    ($($($d:ident),*;)+) => {$(
        pool_wrong_rank!(
            Pool1d<K, S, P, D>; [K, S, P, D];
            Pool1dSizeFor, Pool1dInputRank, [MaxPool1dCheckFor, AvgPool1dCheckFor]; $($d),*
        );
    )+};
}
pool1d_wrong_ranks!(; X0; X0, X1; X0, X1, X2, X3; X0, X1, X2, X3, X4;);

#[cfg(test)]
mod tests {
    use super::*;

    fn same<T>(_: T, _: T) {}

    #[test]
    fn pool_output_sizes_follow_pytorch() {
        // stride = kernel by default
        let y = Pool2dSize::<Pool2d<2, 3>>::pool2d_shape(&(1usize, 4usize, Dim::<8>, Dim::<9>));
        same(y, (1usize, 4usize, Dim::<4>, Dim::<3>));
        // overlapping: (9 - 3)/2 + 1 = 4
        let y: Pool2dOut<(Dim<2>, Dim<2>, Dim<9>, Dim<9>), Pool2d<3, 3, 2, 2>> = Default::default();
        same(y, (Dim::<2>, Dim::<2>, Dim::<4>, Dim::<4>));
        // per axis: height (5 + 0 - 1)/1 + 1 = 5, width (10 + 4 - 5)/2 + 1 = 5
        let y: Pool2dOut<(usize, Dim<2>, Dim<5>, Dim<10>), Pool2d<1, 5, 1, 2, 0, 2>> =
            (3, Dim, Dim, Dim);
        same(y, (3usize, Dim::<2>, Dim::<5>, Dim::<5>));
        // dilation 2: span 5, (8 + 2 - 5)/1 + 1 = 6
        let y = Pool2dSize::<Pool2d<3, 3, 1, 1, 1, 1, 2, 2>>::pool2d_shape(&(
            Dim::<1>, Dim::<1>, Dim::<8>, Dim::<8>,
        ));
        same(y, (Dim::<1>, Dim::<1>, Dim::<6>, Dim::<6>));
        let z: Pool1dOut<(usize, Dim<3>, Dim<11>), Pool1d<3, 2, 1, 2>> = (1, Dim, Dim);
        same(z, (1usize, Dim::<3>, Dim::<5>)); // (11 + 2 - 5)/2 + 1
    }

    /// Generic over every dim, one bound; the channels pass through as the type they are.
    fn generic_pool<B: Dimension, C: Dimension, H: Dimension, W: Dimension>(
        x: (B, C, H, W),
    ) -> Pool2dOut<(B, C, H, W), Pool2d<2, 2>>
    where
        (B, C, H, W): MaxPool2dShape<Pool2d<2, 2>> + AvgPool2dShape<Pool2d<2, 2>>,
    {
        Pool2dSize::<Pool2d<2, 2>>::pool2d_shape(&x)
    }

    #[test]
    fn generic_code_names_the_output_through_one_bound() {
        let y = generic_pool((3usize, 6usize, Dim::<24>, Dim::<11>));
        same(y, (3usize, 6usize, Dim::<12>, Dim::<5>));
    }
}
