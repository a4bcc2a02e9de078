//! Pooling and tiling shape relations: one named bound per op ([`MaxPool2dShape`],
//! [`AvgPool2dShape`], [`MaxPool1dShape`], [`AvgPool1dShape`], [`TileShape`]) whose associated
//! types are the output sizes, computed by the compiler, and whose checks fail with errors that
//! name the dims in words and decimal numbers.
//!
//! A pooling window of `K` taps with stride `S`, padding `P` (each side) and dilation `D` gives
//! `(W + 2P - D(K-1) - 1)/S + 1` outputs along an axis, the convolution's formula
//! ([`ConvOut`]); the window moves by the kernel size unless told otherwise, as in PyTorch
//! (`stride=None`). The hyper-parameters are types, per axis: [`Pool2d`] and [`Pool1d`]. Tiling
//! (the lecture's `tile`) cuts `[B, C, H, W]` into `KH x KW` tiles: `[B, C, H/KH, W/KW, KH*KW]`.
//!
//! ```
//! use shapetorch::shape::{Dim, Dimension, MaxPool2dShape, Pool2d, Pool2dOut, Pool2dSize, Tiled};
//! // 28 x 28 in 2 x 2 windows, stride 2: 14 x 14
//! let (h, w) = Pool2dSize::<Pool2d<2, 2>>::out_size(&(5usize, Dim::<6>, Dim::<28>, Dim::<28>));
//! let _: (Dim<14>, Dim<14>) = (h, w);
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
//! blanket impl over any input shape asks the hyper-parameters type for the output sizes
//! (`Pool2dSizeFor`, arithmetic only, the supertrait [`Pool2dSize`]) and for the checks (one
//! hidden check trait per op, whose impl holds the guards). Every guard is a marker trait with
//! const parameters implemented only for typenum's `B1`; its first parameter is a marker type
//! named after the op ([`max_pool2d`], ...), which the message prints: "max_pool2d: the window
//! (5 high) is taller than the input (4 high, padding 0)". Batch and channels may be any dims
//! (a runtime `usize` too); height and width must be static.

use std::fmt::Debug;
use std::ops::{BitAnd, Div, Mul, Rem};

use typenum::{
    And, Eq, Gr, IsEqual, IsGreater, IsLessOrEqual, LeEq, Max, Maximum, Mod, Prod, Quot,
};
use typenum::{B1, U0, U1, U2};

use super::bridge::{Num, ToDim, ToUnsigned};
use super::conv::{ConvOut, ConvOutDim};
use super::{ConstDim, Dim, Dimension, MulDims, SelectAxis};
use crate::shape::BatchDim;

// ---------------------------------------------------------------------------------------------
// Hyper-parameters
// ---------------------------------------------------------------------------------------------

/// 2-D pooling hyper-parameters as types, per axis, in PyTorch's order: window `KH x KW`,
/// stride `SH, SW` (by default the window's size, PyTorch's `stride=None`), padding `PH, PW`
/// (on each side; default 0) and dilation `DH, DW` (default 1). Trailing ones may be left out:
/// `Pool2d<2, 2>` is `max_pool2d(x, 2)`, `Pool2d<3, 3, 2, 2, 1, 1>` is
/// `max_pool2d(x, 3, stride=2, padding=1)`, `Pool2d<1, 5, 1, 1, 0, 2>` is
/// `avg_pool2d(x, (1, 5), stride=1, padding=(0, 2))`.
///
/// ```
/// use shapetorch::prelude::*;
/// let x = Tensor4::<f32, 2, 3, 9, 9>::zeros();
/// let _: Tensor4<f32, 2, 3, 4, 4> = x.max_pool2d_with(Pool2d::<3, 3, 2, 2>); // (9 - 3)/2 + 1
/// let _: Tensor4<f32, 2, 3, 5, 5> = x.max_pool2d_with(Pool2d::<3, 3, 2, 2, 1, 1>);
/// let _: Tensor4<f32, 2, 3, 9, 9> = x.avg_pool2d_with(Pool2d::<1, 5, 1, 1, 0, 2>);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pool2d<
    const KH: usize,
    const KW: usize,
    const SH: usize = KH,
    const SW: usize = KW,
    const PH: usize = 0,
    const PW: usize = 0,
    const DH: usize = 1,
    const DW: usize = 1,
>;

/// 1-D pooling hyper-parameters as types, in PyTorch's order: window `K`, stride `S` (by
/// default `K`), padding `P` (each side; default 0), dilation `D` (default 1):
/// `Pool1d<3, 2, 1>` is `max_pool1d(x, 3, stride=2, padding=1)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pool1d<const K: usize, const S: usize = K, const P: usize = 0, const D: usize = 1>;

/// Pooling hyper-parameters as the kernels need them at run time, `[height, width]` (a 1-D
/// pooling is a 2-D one of height 1). Implemented by [`Pool2d`] and [`Pool1d`].
pub trait PoolHyperParams: Copy + Debug + Default + Send + Sync + 'static {
    /// The window's size, `[KH, KW]`.
    const KERNEL: [usize; 2];
    /// Step between windows, in input positions.
    const STRIDE: [usize; 2];
    /// Padding on each side (`-inf` for max pooling, counted zeros for average pooling).
    const PADDING: [usize; 2];
    /// Step between the taps of a window, in input positions.
    const DILATION: [usize; 2];
}

impl<
        const KH: usize,
        const KW: usize,
        const SH: usize,
        const SW: usize,
        const PH: usize,
        const PW: usize,
        const DH: usize,
        const DW: usize,
    > PoolHyperParams for Pool2d<KH, KW, SH, SW, PH, PW, DH, DW>
{
    const KERNEL: [usize; 2] = [KH, KW];
    const STRIDE: [usize; 2] = [SH, SW];
    const PADDING: [usize; 2] = [PH, PW];
    const DILATION: [usize; 2] = [DH, DW];
}

impl<const K: usize, const S: usize, const P: usize, const D: usize> PoolHyperParams
    for Pool1d<K, S, P, D>
{
    const KERNEL: [usize; 2] = [1, K];
    const STRIDE: [usize; 2] = [1, S];
    const PADDING: [usize; 2] = [0, P];
    const DILATION: [usize; 2] = [1, D];
}

// ---------------------------------------------------------------------------------------------
// Guards: one marker trait per check, shared by the pooling ops, whose message names the op
// ---------------------------------------------------------------------------------------------

/// Op markers: the first parameter of the pooling guards, printed by their messages.
macro_rules! op_marker {
    ($($name:ident),+) => {$(
        #[doc = concat!("Names `", stringify!($name), "` in the pooling guards' messages (a type that is never")]
        #[doc = "built: compile errors print its name, so one guard serves every pooling op)."]
        #[allow(non_camel_case_types)]
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        pub struct $name;
    )+};
}
op_marker!(max_pool2d, avg_pool2d, max_pool1d, avg_pool1d);

/// Whether the padding `Self` (`Dim<P>`) is at most half the window `K` (`2P <= K`, which is
/// `P <= K/2` rounded down), as a typenum bit.
pub trait PoolPadding<const K: usize> {
    /// `B1` when `2P <= K`.
    type Ok;
}

impl<const P: usize, const K: usize> PoolPadding<K> for Dim<P>
where
    Dim<P>: ToUnsigned,
    Dim<K>: ToUnsigned,
    Num<Dim<P>>: Mul<U2>,
    Prod<Num<Dim<P>>, U2>: IsLessOrEqual<Num<Dim<K>>>,
{
    type Ok = LeEq<Prod<Num<Dim<P>>, U2>, Num<Dim<K>>>;
}

/// pooling: the dilated window fits the padded input's height.
#[diagnostic::on_unimplemented(
    message = "{Op}: the window ({K} high) is taller than the input ({H} high, padding {P})",
    label = "window taller than the padded input",
    note = "with dilation {D} the window spans dilation*(K-1)+1 rows; the output height (H + 2*padding - dilation*(K-1) - 1)/stride + 1 would be below 1"
)]
pub trait PoolWindowFitsHeight<Op, const H: usize, const K: usize, const P: usize, const D: usize> {}
#[diagnostic::do_not_recommend]
impl<Op, const H: usize, const K: usize, const P: usize, const D: usize>
    PoolWindowFitsHeight<Op, H, K, P, D> for B1
{
}

/// pooling: the dilated window fits the padded input's width.
#[diagnostic::on_unimplemented(
    message = "{Op}: the window ({K} wide) is wider than the input ({W} wide, padding {P})",
    label = "window wider than the padded input",
    note = "with dilation {D} the window spans dilation*(K-1)+1 columns; the output width (W + 2*padding - dilation*(K-1) - 1)/stride + 1 would be below 1"
)]
pub trait PoolWindowFitsWidth<Op, const W: usize, const K: usize, const P: usize, const D: usize> {}
#[diagnostic::do_not_recommend]
impl<Op, const W: usize, const K: usize, const P: usize, const D: usize>
    PoolWindowFitsWidth<Op, W, K, P, D> for B1
{
}

/// pooling: the padding is at most half the window (PyTorch's rule), along each axis.
#[diagnostic::on_unimplemented(
    message = "{Op}: the padding ({P}) is more than half the window ({K})",
    label = "padding above half the window",
    note = "PyTorch requires padding <= kernel_size / 2 along each axis, so that every window holds an input element"
)]
pub trait PoolPaddingFits<Op, const P: usize, const K: usize> {}
#[diagnostic::do_not_recommend]
impl<Op, const P: usize, const K: usize> PoolPaddingFits<Op, P, K> for B1 {}

/// pooling: the stride is at least 1, along each axis.
#[diagnostic::on_unimplemented(
    message = "{Op}: the stride is {S}; it must be at least 1",
    label = "stride of zero"
)]
pub trait PoolStrideNonZero<Op, const S: usize> {}
#[diagnostic::do_not_recommend]
impl<Op, const S: usize> PoolStrideNonZero<Op, S> for B1 {}

/// max pooling: the dilation is at least 1, along each axis.
#[diagnostic::on_unimplemented(
    message = "{Op}: the dilation is {D}; it must be at least 1",
    label = "dilation of zero"
)]
pub trait PoolDilationNonZero<Op, const D: usize> {}
#[diagnostic::do_not_recommend]
impl<Op, const D: usize> PoolDilationNonZero<Op, D> for B1 {}

/// average pooling: no dilation (PyTorch's `avg_pool2d` has none), asked of `()`.
#[diagnostic::on_unimplemented(
    message = "{Op}: the dilation is {D}; average pooling has no dilation (it must be 1)",
    label = "dilated average pooling",
    note = "PyTorch's avg_pool1d/avg_pool2d take no dilation; max pooling does"
)]
pub trait AvgPoolUndilated<Op, const D: usize> {}
impl<T: ?Sized, Op> AvgPoolUndilated<Op, 1> for T {}

/// 2-D pooling: the window has at least one row and one column.
#[diagnostic::on_unimplemented(
    message = "{Op}: the window is {KH} x {KW}; it needs at least 1 row and 1 column",
    label = "empty window"
)]
pub trait PoolWindowNonEmpty<Op, const KH: usize, const KW: usize> {}
#[diagnostic::do_not_recommend]
impl<Op, const KH: usize, const KW: usize> PoolWindowNonEmpty<Op, KH, KW> for B1 {}

/// 1-D pooling: the window has at least one tap.
#[diagnostic::on_unimplemented(
    message = "{Op}: the window is {K} wide; it needs at least 1 element",
    label = "empty window"
)]
pub trait PoolWindowNonZero<Op, const K: usize> {}
#[diagnostic::do_not_recommend]
impl<Op, const K: usize> PoolWindowNonZero<Op, K> for B1 {}

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

/// The bits of [`ConvOut`] (the output size along one axis) the guards read.
type Fits<const N: usize, const K: usize, const S: usize, const P: usize, const D: usize> =
    <Dim<N> as ConvOut<K, S, P, D>>::Fits;
type StrideOk<const N: usize, const K: usize, const S: usize, const P: usize, const D: usize> =
    <Dim<N> as ConvOut<K, S, P, D>>::StrideOk;
type DilationOk<const N: usize, const K: usize, const S: usize, const P: usize, const D: usize> =
    <Dim<N> as ConvOut<K, S, P, D>>::DilationOk;
type KernelOk<const N: usize, const K: usize, const S: usize, const P: usize, const D: usize> =
    <Dim<N> as ConvOut<K, S, P, D>>::KernelOk;
type PaddingOk<const P: usize, const K: usize> = <Dim<P> as PoolPadding<K>>::Ok;

// ---------------------------------------------------------------------------------------------
// 2-D pooling
// ---------------------------------------------------------------------------------------------

/// 2-D pooling's output height and width for an input shape `Self` (`[B, C, H, W]`) and the
/// hyper-parameters `P` ([`Pool2d`]): arithmetic only, the supertrait of [`MaxPool2dShape`]
/// and [`AvgPool2dShape`].
pub trait Pool2dSize<P> {
    /// The output height.
    type Height: Dimension;
    /// The output width.
    type Width: Dimension;
    /// The output height and width's values.
    fn out_size(&self) -> (Self::Height, Self::Width);
}

impl<X, P> Pool2dSize<P> for X
where
    P: Pool2dSizeFor<X>,
{
    type Height = <P as Pool2dSizeFor<X>>::Height;
    type Width = <P as Pool2dSizeFor<X>>::Width;
    #[inline]
    fn out_size(&self) -> (Self::Height, Self::Width) {
        P::out_size(self)
    }
}

/// [`Pool2dSize`], implemented per hyper-parameters type `Self`.
#[doc(hidden)]
pub trait Pool2dSizeFor<X> {
    /// The output height.
    type Height: Dimension;
    /// The output width.
    type Width: Dimension;
    /// The output height and width's values.
    fn out_size(x: &X) -> (Self::Height, Self::Width);
}

impl<
        B,
        C,
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
    Dim<H>: ConvOut<KH, SH, PH, DH>,
    Dim<W>: ConvOut<KW, SW, PW, DW>,
{
    type Height = ConvOutDim<H, KH, SH, PH, DH>;
    type Width = ConvOutDim<W, KW, SW, PW, DW>;
    fn out_size(_: &(B, C, Dim<H>, Dim<W>)) -> (Self::Height, Self::Width) {
        Default::default()
    }
}

/// max_pool2d's checks, implemented per hyper-parameters type `Self`; its message is the one
/// for an input whose height or width is not static (`usize`, or a generic dim without the
/// bound).
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "max_pool2d needs a static height and width (`Dim<N>`); the input is `{X}`",
    label = "height or width not a `Dim<N>`",
    note = "in generic code, add the op's relation: `where {X}: MaxPool2dShape<{Self}>`"
)]
pub trait MaxPool2dCheckFor<X>: Pool2dSizeFor<X> {}

/// avg_pool2d's checks, implemented per hyper-parameters type `Self` (see
/// [`MaxPool2dCheckFor`]).
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "avg_pool2d needs a static height and width (`Dim<N>`); the input is `{X}`",
    label = "height or width not a `Dim<N>`",
    note = "in generic code, add the op's relation: `where {X}: AvgPool2dShape<{Self}>`"
)]
pub trait AvgPool2dCheckFor<X>: Pool2dSizeFor<X> {}

/// One 2-D check impl: the guards every 2-D pooling shares, plus the op's own (`$extra`).
macro_rules! pool2d_check {
    ($check:ident, $op:ident; $($extra:tt)*) => {
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
            Dim<H>: ConvOut<KH, SH, PH, DH>,
            Dim<W>: ConvOut<KW, SW, PW, DW>,
            KernelOk<H, KH, SH, PH, DH>: BitAnd<KernelOk<W, KW, SW, PW, DW>>,
            And<KernelOk<H, KH, SH, PH, DH>, KernelOk<W, KW, SW, PW, DW>>:
                PoolWindowNonEmpty<$op, KH, KW>,
            StrideOk<H, KH, SH, PH, DH>: PoolStrideNonZero<$op, SH>,
            StrideOk<W, KW, SW, PW, DW>: PoolStrideNonZero<$op, SW>,
            Dim<PH>: PoolPadding<KH>,
            Dim<PW>: PoolPadding<KW>,
            PaddingOk<PH, KH>: PoolPaddingFits<$op, PH, KH>,
            PaddingOk<PW, KW>: PoolPaddingFits<$op, PW, KW>,
            Fits<H, KH, SH, PH, DH>: PoolWindowFitsHeight<$op, H, KH, PH, DH>,
            Fits<W, KW, SW, PW, DW>: PoolWindowFitsWidth<$op, W, KW, PW, DW>,
            $($extra)*
        {
        }
    };
}

pool2d_check!(
    MaxPool2dCheckFor, max_pool2d;
    DilationOk<H, KH, SH, PH, DH>: PoolDilationNonZero<max_pool2d, DH>,
    DilationOk<W, KW, SW, PW, DW>: PoolDilationNonZero<max_pool2d, DW>,
);
pool2d_check!(
    AvgPool2dCheckFor, avg_pool2d;
    (): AvgPoolUndilated<avg_pool2d, DH> + AvgPoolUndilated<avg_pool2d, DW>,
);

/// The relation of `max_pool2d`: windows of the hyper-parameters `P` ([`Pool2d`]) fit an input
/// of shape `Self` (`[B, C, H, W]`, static height and width), and the output is [`Pool2dOut`].
/// Generic code writes this one bound per max_pool2d:
///
/// `where (B, C, H, W): MaxPool2dShape<Pool2d<2, 2>>`
///
/// Concrete code needs no bound; a bad shape fails with a message naming the dims ("max_pool2d:
/// the window (5 high) is taller than the input (4 high, padding 0)").
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
pub type Pool2dOut<S, P> = (
    <S as BatchDim>::Batch,
    <S as SelectAxis<1>>::Dim,
    <S as Pool2dSize<P>>::Height,
    <S as Pool2dSize<P>>::Width,
);

// ---------------------------------------------------------------------------------------------
// 1-D pooling
// ---------------------------------------------------------------------------------------------

/// 1-D pooling's output width for an input shape `Self` (`[B, C, W]`) and the hyper-parameters
/// `P` ([`Pool1d`]): arithmetic only, the supertrait of [`MaxPool1dShape`] and
/// [`AvgPool1dShape`].
pub trait Pool1dSize<P> {
    /// The output width.
    type Width: Dimension;
    /// The output width's value.
    fn out_width(&self) -> Self::Width;
}

impl<X, P> Pool1dSize<P> for X
where
    P: Pool1dSizeFor<X>,
{
    type Width = <P as Pool1dSizeFor<X>>::Width;
    #[inline]
    fn out_width(&self) -> Self::Width {
        P::out_width(self)
    }
}

/// [`Pool1dSize`], implemented per hyper-parameters type `Self`.
#[doc(hidden)]
pub trait Pool1dSizeFor<X> {
    /// The output width.
    type Width: Dimension;
    /// The output width's value.
    fn out_width(x: &X) -> Self::Width;
}

impl<B, C, const W: usize, const K: usize, const S: usize, const P: usize, const D: usize>
    Pool1dSizeFor<(B, C, Dim<W>)> for Pool1d<K, S, P, D>
where
    Dim<W>: ConvOut<K, S, P, D>,
{
    type Width = ConvOutDim<W, K, S, P, D>;
    fn out_width(_: &(B, C, Dim<W>)) -> Self::Width {
        Default::default()
    }
}

/// max_pool1d's checks, implemented per hyper-parameters type `Self`; its message is the one
/// for an input whose width is not static.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "max_pool1d needs a static width (`Dim<N>`); the input is `{X}`",
    label = "width not a `Dim<N>`",
    note = "in generic code, add the op's relation: `where {X}: MaxPool1dShape<{Self}>`"
)]
pub trait MaxPool1dCheckFor<X>: Pool1dSizeFor<X> {}

/// avg_pool1d's checks, implemented per hyper-parameters type `Self`; its message is the one
/// for an input whose width is not static.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "avg_pool1d needs a static width (`Dim<N>`); the input is `{X}`",
    label = "width not a `Dim<N>`",
    note = "in generic code, add the op's relation: `where {X}: AvgPool1dShape<{Self}>`"
)]
pub trait AvgPool1dCheckFor<X>: Pool1dSizeFor<X> {}

/// One 1-D check impl: the guards every 1-D pooling shares, plus the op's own (`$extra`).
macro_rules! pool1d_check {
    ($check:ident, $op:ident; $($extra:tt)*) => {
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
            Dim<W>: ConvOut<K, S, P, D>,
            KernelOk<W, K, S, P, D>: PoolWindowNonZero<$op, K>,
            StrideOk<W, K, S, P, D>: PoolStrideNonZero<$op, S>,
            Dim<P>: PoolPadding<K>,
            PaddingOk<P, K>: PoolPaddingFits<$op, P, K>,
            Fits<W, K, S, P, D>: PoolWindowFitsWidth<$op, W, K, P, D>,
            $($extra)*
        {
        }
    };
}

pool1d_check!(
    MaxPool1dCheckFor, max_pool1d;
    DilationOk<W, K, S, P, D>: PoolDilationNonZero<max_pool1d, D>,
);
pool1d_check!(
    AvgPool1dCheckFor, avg_pool1d;
    (): AvgPoolUndilated<avg_pool1d, D>,
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
pub type Pool1dOut<S, P> = (
    <S as BatchDim>::Batch,
    <S as SelectAxis<1>>::Dim,
    <S as Pool1dSize<P>>::Width,
);

// ---------------------------------------------------------------------------------------------
// Inputs of the wrong rank
// ---------------------------------------------------------------------------------------------

/// Impls of the size and check traits of one hyper-parameters type for inputs of a wrong rank,
/// each asking the rank trait (implemented by nothing) of `()`.
macro_rules! pool_wrong_rank {
    ($params:ty; [$($pc:ident),*]; $size:ident, $rank:ident, [$check1:ident, $check2:ident];
     $assoc:tt; $($d:ident),*) => {
        impl<$($d,)* $(const $pc: usize),*> $size<($($d,)*)> for $params
        where
            (): $rank<($($d,)*), Self>,
        {
            pool_wrong_rank!(@assoc $assoc; ($($d,)*));
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
    (@assoc 2; $x:ty) => {
        type Height = usize;
        type Width = usize;
        fn out_size(_: &$x) -> (usize, usize) {
            panic!(
                "pooling: the input's rank is checked at compile time, except for a window of \
                 usize::MAX"
            )
        }
    };
    (@assoc 1; $x:ty) => {
        type Width = usize;
        fn out_width(_: &$x) -> usize {
            panic!(
                "pooling: the input's rank is checked at compile time, except for a window of \
                 usize::MAX"
            )
        }
    };
}

macro_rules! pool2d_wrong_ranks {
    ($($($d:ident),*;)+) => {$(
        pool_wrong_rank!(
            Pool2d<KH, KW, SH, SW, PH, PW, DH, DW>; [KH, KW, SH, SW, PH, PW, DH, DW];
            Pool2dSizeFor, Pool2dInputRank, [MaxPool2dCheckFor, AvgPool2dCheckFor]; 2; $($d),*
        );
    )+};
}
pool2d_wrong_ranks!(; X0; X0, X1; X0, X1, X2; X0, X1, X2, X3, X4;);

macro_rules! pool1d_wrong_ranks {
    ($($($d:ident),*;)+) => {$(
        pool_wrong_rank!(
            Pool1d<K, S, P, D>; [K, S, P, D];
            Pool1dSizeFor, Pool1dInputRank, [MaxPool1dCheckFor, AvgPool1dCheckFor]; 1; $($d),*
        );
    )+};
}
pool1d_wrong_ranks!(; X0; X0, X1; X0, X1, X2, X3; X0, X1, X2, X3, X4;);

// ---------------------------------------------------------------------------------------------
// tile
// ---------------------------------------------------------------------------------------------

/// `Self` (`Dim<N>`) cut into tiles of `K`: the number of tiles `N / K` and whether `K`
/// divides `N`, as a typenum bit (safe from a division by zero: `K = 0` counts as 1 here, and
/// is reported by its own check).
pub trait TileAxis<const K: usize> {
    /// `N / K`.
    type Tiles: ConstDim;
    /// `B1` when `N % K == 0`.
    type Divides;
    /// `B1` when `K >= 1`.
    type NonZero;
}

impl<const N: usize, const K: usize> TileAxis<K> for Dim<N>
where
    Dim<N>: ToUnsigned,
    Dim<K>: ToUnsigned,
    Num<Dim<K>>: Max<U1> + IsGreater<U0>,
    Num<Dim<N>>: Div<Maximum<Num<Dim<K>>, U1>> + Rem<Maximum<Num<Dim<K>>, U1>>,
    Quot<Num<Dim<N>>, Maximum<Num<Dim<K>>, U1>>: ToDim,
    Mod<Num<Dim<N>>, Maximum<Num<Dim<K>>, U1>>: IsEqual<U0>,
{
    type Tiles = <Quot<Num<Dim<N>>, Maximum<Num<Dim<K>>, U1>> as ToDim>::Output;
    type Divides = Eq<Mod<Num<Dim<N>>, Maximum<Num<Dim<K>>, U1>>, U0>;
    type NonZero = Gr<Num<Dim<K>>, U0>;
}

/// tile: the tile height divides the input height.
#[diagnostic::on_unimplemented(
    message = "tile: the tile height {K} does not divide the input height {H}",
    label = "tile height does not divide the height",
    note = "tile cuts [B, C, H, W] into [B, C, H/kh, W/kw, kh*kw] with no remainder; pad or crop the input, or pool with a stride (max_pool2d_with, avg_pool2d_with)"
)]
pub trait TileDividesHeight<const H: usize, const K: usize> {}
#[diagnostic::do_not_recommend]
impl<const H: usize, const K: usize> TileDividesHeight<H, K> for B1 {}

/// tile: the tile width divides the input width.
#[diagnostic::on_unimplemented(
    message = "tile: the tile width {K} does not divide the input width {W}",
    label = "tile width does not divide the width",
    note = "tile cuts [B, C, H, W] into [B, C, H/kh, W/kw, kh*kw] with no remainder; pad or crop the input, or pool with a stride (max_pool2d_with, avg_pool2d_with)"
)]
pub trait TileDividesWidth<const W: usize, const K: usize> {}
#[diagnostic::do_not_recommend]
impl<const W: usize, const K: usize> TileDividesWidth<W, K> for B1 {}

/// tile: the tile has at least one row and one column.
#[diagnostic::on_unimplemented(
    message = "tile: the tile is {KH} x {KW}; it needs at least 1 row and 1 column",
    label = "empty tile"
)]
pub trait TileNonEmpty<const KH: usize, const KW: usize> {}
#[diagnostic::do_not_recommend]
impl<const KH: usize, const KW: usize> TileNonEmpty<KH, KW> for B1 {}

/// tile takes a 4-D input: asked of `()` by the impls for other ranks, implemented by none.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "tile takes a 4-D input [batch, channels, height, width]; the input is `{X}`",
    label = "not a 4-D input"
)]
pub trait TileInputRank<X, const KH: usize, const KW: usize> {}
/// Never met by a real tile (0 x 0, an error on a 4-D input); see the impl of
/// [`Pool2dInputRank`]. (Not `usize::MAX` as there: `tile`'s last axis, `KH*KW`, must stay
/// computable for method lookup to go on.)
#[diagnostic::do_not_recommend]
impl<X> TileInputRank<X, 0, 0> for () {}

/// tile's output height and width for an input shape `Self` (`[B, C, H, W]`) and tiles
/// `KH x KW`: arithmetic only, the supertrait of [`TileShape`]. (The last axis, `KH*KW`,
/// depends on the tile only: [`Tiled`] names it without this trait, so generic code sees a
/// static size there.)
pub trait TileSize<const KH: usize, const KW: usize> {
    /// `H / KH`.
    type Height: Dimension;
    /// `W / KW`.
    type Width: Dimension;
    /// The two sizes' values.
    fn tiled_size(&self) -> (Self::Height, Self::Width);
}

impl<X, const KH: usize, const KW: usize> TileSize<KH, KW> for X
where
    (): TileSizeFor<X, KH, KW>,
{
    type Height = <() as TileSizeFor<X, KH, KW>>::Height;
    type Width = <() as TileSizeFor<X, KH, KW>>::Width;
    #[inline]
    fn tiled_size(&self) -> (Self::Height, Self::Width) {
        <() as TileSizeFor<X, KH, KW>>::size(self)
    }
}

/// [`TileSize`], asked of `()`.
#[doc(hidden)]
pub trait TileSizeFor<X, const KH: usize, const KW: usize> {
    /// `H / KH`.
    type Height: Dimension;
    /// `W / KW`.
    type Width: Dimension;
    /// The two sizes' values.
    fn size(x: &X) -> (Self::Height, Self::Width);
}

impl<T: ?Sized, B, C, const H: usize, const W: usize, const KH: usize, const KW: usize>
    TileSizeFor<(B, C, Dim<H>, Dim<W>), KH, KW> for T
where
    Dim<H>: TileAxis<KH>,
    Dim<W>: TileAxis<KW>,
{
    type Height = <Dim<H> as TileAxis<KH>>::Tiles;
    type Width = <Dim<W> as TileAxis<KW>>::Tiles;
    fn size(_: &(B, C, Dim<H>, Dim<W>)) -> (Self::Height, Self::Width) {
        Default::default()
    }
}

/// tile's checks, asked of `()`; its message is the one for an input whose height or width is
/// not static.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "tile needs a static height and width (`Dim<N>`); the input is `{X}`",
    label = "height or width not a `Dim<N>`",
    note = "in generic code, add the op's relation: `where {X}: TileShape<{KH}, {KW}>`"
)]
pub trait TileCheck<X, const KH: usize, const KW: usize>: TileSizeFor<X, KH, KW> {}

impl<
        T: ?Sized,
        B: Dimension,
        C: Dimension,
        const H: usize,
        const W: usize,
        const KH: usize,
        const KW: usize,
    > TileCheck<(B, C, Dim<H>, Dim<W>), KH, KW> for T
where
    T: TileSizeFor<(B, C, Dim<H>, Dim<W>), KH, KW>,
    Dim<H>: TileAxis<KH>,
    Dim<W>: TileAxis<KW>,
    <Dim<H> as TileAxis<KH>>::NonZero: BitAnd<<Dim<W> as TileAxis<KW>>::NonZero>,
    And<<Dim<H> as TileAxis<KH>>::NonZero, <Dim<W> as TileAxis<KW>>::NonZero>: TileNonEmpty<KH, KW>,
    <Dim<H> as TileAxis<KH>>::Divides: TileDividesHeight<H, KH>,
    <Dim<W> as TileAxis<KW>>::Divides: TileDividesWidth<W, KW>,
{
}

macro_rules! tile_wrong_ranks {
    ($($($d:ident),*;)+) => {$(
        impl<T: ?Sized, $($d,)* const KH: usize, const KW: usize> TileSizeFor<($($d,)*), KH, KW>
            for T
        where
            (): TileInputRank<($($d,)*), KH, KW>,
        {
            type Height = usize;
            type Width = usize;
            fn size(_: &($($d,)*)) -> (usize, usize) {
                panic!(
                    "tile takes a 4-D input [batch, channels, height, width] and tiles of at \
                     least 1 x 1 (checked at compile time, except for 0 x 0 tiles on another rank)"
                )
            }
        }
        impl<T: ?Sized, $($d,)* const KH: usize, const KW: usize> TileCheck<($($d,)*), KH, KW>
            for T
        where
            (): TileInputRank<($($d,)*), KH, KW>,
        {
        }
    )+};
}
tile_wrong_ranks!(; X0; X0, X1; X0, X1, X2; X0, X1, X2, X3, X4;);

/// The relation of `tile::<KH, KW>()`: `KH` divides the height and `KW` the width of an input
/// of shape `Self` (`[B, C, H, W]`, static height and width), and the output is [`Tiled`],
/// `[B, C, H/KH, W/KW, KH*KW]`. Generic code writes `where (B, C, H, W): TileShape<2, 2>`.
#[diagnostic::on_unimplemented(message = "tile: `{Self}` does not cut into {KH} x {KW} tiles")]
pub trait TileShape<const KH: usize, const KW: usize>: TileSize<KH, KW> {}

impl<X, const KH: usize, const KW: usize> TileShape<KH, KW> for X
where
    X: TileSize<KH, KW>,
    (): TileCheck<X, KH, KW>,
{
}

/// The output shape of `tile::<KH, KW>()` on an input `S` (`[B, C, H, W]`):
/// `[B, C, H/KH, W/KW, KH*KW]`.
pub type Tiled<S, const KH: usize, const KW: usize> = (
    <S as BatchDim>::Batch,
    <S as SelectAxis<1>>::Dim,
    <S as TileSize<KH, KW>>::Height,
    <S as TileSize<KH, KW>>::Width,
    <Dim<KH> as MulDims<Dim<KW>>>::Output,
);

#[cfg(test)]
mod tests {
    use super::*;
    use typenum::B0;

    fn same<T>(_: T, _: T) {}

    #[test]
    fn pool_output_sizes_follow_pytorch() {
        // stride = kernel by default
        let (h, w) = Pool2dSize::<Pool2d<2, 3>>::out_size(&(1usize, 4usize, Dim::<8>, Dim::<9>));
        same((h, w), (Dim::<4>, Dim::<3>));
        // overlapping: (9 - 3)/2 + 1 = 4
        let y: Pool2dOut<(Dim<2>, Dim<2>, Dim<9>, Dim<9>), Pool2d<3, 3, 2, 2>> = Default::default();
        same(y, (Dim::<2>, Dim::<2>, Dim::<4>, Dim::<4>));
        // per axis: height (5 + 0 - 1)/1 + 1 = 5, width (10 + 4 - 5)/2 + 1 = 5
        let y: Pool2dOut<(usize, Dim<2>, Dim<5>, Dim<10>), Pool2d<1, 5, 1, 2, 0, 2>> =
            (3, Dim, Dim, Dim);
        same(y, (3usize, Dim::<2>, Dim::<5>, Dim::<5>));
        // dilation 2: span 5, (8 + 2 - 5)/1 + 1 = 6
        let (h, _) = Pool2dSize::<Pool2d<3, 3, 1, 1, 1, 1, 2, 2>>::out_size(&(
            Dim::<1>, Dim::<1>, Dim::<8>, Dim::<8>,
        ));
        same(h, Dim::<6>);
        let z: Pool1dOut<(usize, Dim<3>, Dim<11>), Pool1d<3, 2, 1, 2>> = (1, Dim, Dim);
        same(z, (1usize, Dim::<3>, Dim::<5>)); // (11 + 2 - 5)/2 + 1
    }

    /// The type-level size equals the kernels' run-time function on the same numbers.
    fn agrees<const W: usize, const K: usize, const S: usize, const P: usize, const D: usize>()
    where
        Dim<W>: ConvOut<K, S, P, D>,
    {
        let (_, typed) = Pool2dSize::<Pool2d<1, K, 1, S, 0, P, 1, D>>::out_size(&(
            1usize, 1usize, Dim::<1>, Dim::<W>,
        ));
        assert_eq!(
            Some(typed.size()),
            crate::ops::pool::PoolGeometry::out_size(W, K, S, P, D),
            "W={W} K={K} S={S} P={P} D={D}"
        );
    }

    #[test]
    fn type_level_output_size_matches_the_kernels() {
        agrees::<28, 2, 2, 0, 1>();
        agrees::<9, 3, 2, 0, 1>();
        agrees::<7, 3, 2, 1, 1>();
        agrees::<8, 2, 1, 1, 2>();
        agrees::<11, 3, 2, 1, 2>();
        agrees::<9, 4, 3, 2, 1>();
        agrees::<5, 5, 1, 0, 1>();
        agrees::<1, 1, 1, 0, 1>();
    }

    #[test]
    fn padding_bit_is_two_p_at_most_k() {
        let _: B1 = <Dim<1> as PoolPadding<3>>::Ok::default();
        let _: B1 = <Dim<1> as PoolPadding<2>>::Ok::default();
        let _: B0 = <Dim<2> as PoolPadding<3>>::Ok::default();
        let _: B0 = <Dim<1> as PoolPadding<1>>::Ok::default();
        let _: B1 = <Dim<0> as PoolPadding<1>>::Ok::default();
    }

    #[test]
    fn tile_sizes_and_bits() {
        let t: Tiled<(usize, Dim<3>, Dim<28>, Dim<28>), 2, 4> = (5, Dim, Dim, Dim, Dim);
        same(t, (5usize, Dim::<3>, Dim::<14>, Dim::<7>, Dim::<8>));
        let _: B0 = <Dim<28> as TileAxis<3>>::Divides::default();
        let _: B1 = <Dim<28> as TileAxis<7>>::Divides::default();
        let _: B0 = <Dim<28> as TileAxis<0>>::NonZero::default();
    }

    /// Generic over every dim, one bound; the channels pass through as the type they are.
    fn generic_pool<B: Dimension, C: Dimension, H: Dimension, W: Dimension>(
        x: (B, C, H, W),
    ) -> Pool2dOut<(B, C, H, W), Pool2d<2, 2>>
    where
        (B, C, H, W): MaxPool2dShape<Pool2d<2, 2>> + AvgPool2dShape<Pool2d<2, 2>>,
    {
        let (h, w) = x.out_size();
        (x.0, x.1, h, w)
    }

    #[test]
    fn generic_code_names_the_output_through_one_bound() {
        let y = generic_pool((3usize, 6usize, Dim::<24>, Dim::<11>));
        same(y, (3usize, 6usize, Dim::<12>, Dim::<5>));
    }
}
