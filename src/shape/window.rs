//! The window algebra shared by every windowed op (conv1d, conv2d, the four poolings, tile):
//! the output size along one axis, computed by the compiler, and one family of guards, tagged
//! by the op, whose messages name the op and the numbers in decimal.
//!
//! Along one axis, a window of `K` taps with stride `S`, padding `P` (each side) and dilation
//! `D` over an input of `N` gives [`WindowOutDim`] `= (N + 2P - D(K-1) - 1)/S + 1` outputs: the
//! convolution's formula, and pooling's (PyTorch's floor mode).
//!
//! ```
//! use shapetorch::shape::{Dim, WindowOutDim};
//! // 28 wide, kernel 5, stride 1, padding 0, dilation 1 -> 24
//! let _: Dim<24> = WindowOutDim::<28, 5, 1, 0, 1>::default();
//! // 11 wide, kernel 4, stride 2, padding 1 -> (11 + 2 - 3 - 1)/2 + 1 = 5
//! let _: Dim<5> = WindowOutDim::<11, 4, 2, 1, 1>::default();
//! ```
//!
//! # How a check reads
//!
//! Each check is a typenum comparison whose bit ([`WindowOut::Fits`], ...) goes through
//! [`Check`]: `Holds` when it passed, the op's marker type (`conv2d`, `max_pool1d`, ...) when it
//! failed. A guard is a marker trait implemented for `Holds` only, with
//! `#[diagnostic::on_unimplemented]` printing its const parameters, so a failed check reads
//!
//! ```text
//! error[E0277]: conv2d: the kernel (3 high, dilation 1) is taller than the input (2 high, padding 0)
//!   = help: the trait `WindowFits<kernel, high, taller, 2, 3, 0, 1>` is not implemented for `conv2d`
//! ```
//!
//! The words come from marker types too: the window is a [`kernel`] (convolutions), a
//! [`window`] (pooling) or a [`tile`]; the axis is [`Height`] or [`Width`], whose words
//! ([`AxisWords`]) fill in "high ... taller" or "wide ... wider". The checks per axis are
//! written once, on [`Axis`] (stride, padding, dilation as const parameters), and each op's
//! check (in `conv.rs` and `pool.rs`) lists the ones it needs for each of its axes. The size
//! arithmetic never underflows or divides by zero (`max(S, 1)`, `max(K, 1)`), so a failed guard
//! is the only error a bad window produces.

use std::ops::{Add, BitAnd, Div, Mul, Sub};

use typenum::{
    Add1, And, Diff, Gr, GrEq, IsGreater, IsGreaterOrEqual, IsLessOrEqual, LeEq, Max, Maximum,
    Prod, Quot, Sub1, Sum, B1, U0, U1, U2,
};

use super::bridge::{Check, Holds, Num, ToDim, ToUnsigned, Verdict};
use super::markers::{height, high, taller, tile, wide, wider, width};
use super::params::Axis;
use super::{ConstDim, Dim};

// ---------------------------------------------------------------------------------------------
// Markers: the op, the window's name, the axis's words
// ---------------------------------------------------------------------------------------------

/// The height axis, for the checks per axis.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Height;
/// The width axis, for the checks per axis.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Width;

/// The words a message uses for an axis: "3 high", "taller", "the height".
pub trait AxisWords {
    /// `high` or `wide`.
    type Extent;
    /// `taller` or `wider`.
    type Larger;
    /// `height` or `width`.
    type Name;
}
impl AxisWords for Height {
    type Extent = high;
    type Larger = taller;
    type Name = height;
}
impl AxisWords for Width {
    type Extent = wide;
    type Larger = wider;
    type Name = width;
}

// ---------------------------------------------------------------------------------------------
// Output size along one axis
// ---------------------------------------------------------------------------------------------

/// A window's output size along one axis, computed by the compiler, for an input of
/// `Self` = `Dim<N>` and a window of `K` taps with stride `S`, padding `P` (each side) and
/// dilation `D`: `(N + 2P - D(K-1) - 1)/S + 1`, and the bits the guards read.
#[diagnostic::on_unimplemented(
    message = "the window arithmetic needs static numbers: an input of `{Self}`, a window of {K}, stride {S}, padding {P}, dilation {D}",
    label = "a generic number, or one above 4096",
    note = "in generic code, add the op's shape relation to the where-clause (it is named below: `required for .. to implement ..Shape`)"
)]
pub trait WindowOut<const K: usize, const S: usize, const P: usize, const D: usize> {
    /// The output size.
    type Output: ConstDim;
    /// typenum's `B1` when the dilated window fits in the padded input, else `B0`.
    type Fits: Verdict;
    /// `B1` when the stride is at least 1.
    type StrideOk: Verdict;
    /// `B1` when the dilation is at least 1.
    type DilationOk: Verdict;
}

/// The padded input width `N + 2P`, as a typenum number.
type Padded<N, P> = Sum<N, Prod<P, U2>>;
/// The dilated window's span `D(max(K,1) - 1) + 1`, as a typenum number.
type Span<K, D> = Add1<Prod<D, Sub1<Maximum<K, U1>>>>;
/// `(max(N+2P, span) - span) / max(S, 1) + 1`: the output size, safe from underflow.
type OutSize<N, K, S, P, D> =
    Add1<Quot<Diff<Maximum<Padded<N, P>, Span<K, D>>, Span<K, D>>, Maximum<S, U1>>>;

// `do_not_recommend`: a generic number here (generic code without the op's relation) is
// reported as this trait, whose message says so, not as typenum's.
#[diagnostic::do_not_recommend]
impl<const N: usize, const K: usize, const S: usize, const P: usize, const D: usize>
    WindowOut<K, S, P, D> for Dim<N>
where
    Dim<N>: ToUnsigned,
    Dim<K>: ToUnsigned,
    Dim<S>: ToUnsigned,
    Dim<P>: ToUnsigned,
    Dim<D>: ToUnsigned,
    // N + 2P
    Num<Dim<P>>: Mul<U2>,
    Num<Dim<N>>: Add<Prod<Num<Dim<P>>, U2>>,
    // D(max(K, 1) - 1) + 1
    Num<Dim<K>>: Max<U1>,
    Maximum<Num<Dim<K>>, U1>: Sub<B1>,
    Num<Dim<D>>: Mul<Sub1<Maximum<Num<Dim<K>>, U1>>>,
    Prod<Num<Dim<D>>, Sub1<Maximum<Num<Dim<K>>, U1>>>: Add<B1>,
    // (max(padded, span) - span) / max(S, 1) + 1
    Padded<Num<Dim<N>>, Num<Dim<P>>>:
        Max<Span<Num<Dim<K>>, Num<Dim<D>>>> + IsGreaterOrEqual<Span<Num<Dim<K>>, Num<Dim<D>>>>,
    Maximum<Padded<Num<Dim<N>>, Num<Dim<P>>>, Span<Num<Dim<K>>, Num<Dim<D>>>>:
        Sub<Span<Num<Dim<K>>, Num<Dim<D>>>>,
    Num<Dim<S>>: Max<U1> + IsGreater<U0>,
    Num<Dim<D>>: IsGreater<U0>,
    Diff<
        Maximum<Padded<Num<Dim<N>>, Num<Dim<P>>>, Span<Num<Dim<K>>, Num<Dim<D>>>>,
        Span<Num<Dim<K>>, Num<Dim<D>>>,
    >: Div<Maximum<Num<Dim<S>>, U1>>,
    Quot<
        Diff<
            Maximum<Padded<Num<Dim<N>>, Num<Dim<P>>>, Span<Num<Dim<K>>, Num<Dim<D>>>>,
            Span<Num<Dim<K>>, Num<Dim<D>>>,
        >,
        Maximum<Num<Dim<S>>, U1>,
    >: Add<B1>,
    OutSize<Num<Dim<N>>, Num<Dim<K>>, Num<Dim<S>>, Num<Dim<P>>, Num<Dim<D>>>: ToDim,
    GrEq<Padded<Num<Dim<N>>, Num<Dim<P>>>, Span<Num<Dim<K>>, Num<Dim<D>>>>: Verdict,
    Gr<Num<Dim<S>>, U0>: Verdict,
    Gr<Num<Dim<D>>, U0>: Verdict,
{
    type Output =
        <OutSize<Num<Dim<N>>, Num<Dim<K>>, Num<Dim<S>>, Num<Dim<P>>, Num<Dim<D>>> as ToDim>::Output;
    type Fits = GrEq<Padded<Num<Dim<N>>, Num<Dim<P>>>, Span<Num<Dim<K>>, Num<Dim<D>>>>;
    type StrideOk = Gr<Num<Dim<S>>, U0>;
    type DilationOk = Gr<Num<Dim<D>>, U0>;
}

/// The output size of a window along one axis: input `N`, window `K`, stride `S`, padding
/// `P`, dilation `D`.
pub type WindowOutDim<
    const N: usize,
    const K: usize,
    const S: usize,
    const P: usize,
    const D: usize,
> = <Dim<N> as WindowOut<K, S, P, D>>::Output;

/// The output size along one axis whose stride, padding and dilation are the [`Axis`]
/// `Self`: an input of `N`, a window of `K`.
pub trait AxisOut<const N: usize, const K: usize> {
    /// The output size.
    type Output: ConstDim;
}

impl<const N: usize, const K: usize, const S: usize, const P: usize, const D: usize> AxisOut<N, K>
    for Axis<S, P, D>
where
    Dim<N>: WindowOut<K, S, P, D>,
{
    type Output = <Dim<N> as WindowOut<K, S, P, D>>::Output;
}

/// The window has at least one tap along each of its two axes, as a typenum bit.
pub trait NonEmpty2<const KH: usize, const KW: usize> {
    /// `B1` when `KH >= 1` and `KW >= 1`.
    type Bit: Verdict;
}
impl<T: ?Sized, const KH: usize, const KW: usize> NonEmpty2<KH, KW> for T
where
    Dim<KH>: ToUnsigned,
    Dim<KW>: ToUnsigned,
    Num<Dim<KH>>: IsGreater<U0>,
    Num<Dim<KW>>: IsGreater<U0>,
    Gr<Num<Dim<KH>>, U0>: BitAnd<Gr<Num<Dim<KW>>, U0>>,
    And<Gr<Num<Dim<KH>>, U0>, Gr<Num<Dim<KW>>, U0>>: Verdict,
{
    type Bit = And<Gr<Num<Dim<KH>>, U0>, Gr<Num<Dim<KW>>, U0>>;
}

/// The window has at least one tap, as a typenum bit.
pub trait NonEmpty1<const K: usize> {
    /// `B1` when `K >= 1`.
    type Bit: Verdict;
}
impl<T: ?Sized, const K: usize> NonEmpty1<K> for T
where
    Dim<K>: ToUnsigned,
    Num<Dim<K>>: IsGreater<U0>,
    Gr<Num<Dim<K>>, U0>: Verdict,
{
    type Bit = Gr<Num<Dim<K>>, U0>;
}

// ---------------------------------------------------------------------------------------------
// Guards: one marker trait per check, implemented for `Holds` only, `Self` the op on failure
// ---------------------------------------------------------------------------------------------

/// The dilated window fits the padded input along one axis.
#[diagnostic::on_unimplemented(
    message = "{Self}: the {Word} ({K} {Extent}, dilation {D}) is {Larger} than the input ({N} {Extent}, padding {P})",
    label = "{Word} {Larger} than the padded input",
    note = "the output size (input + 2*padding - dilation*(K-1) - 1)/stride + 1 would be below 1"
)]
pub trait WindowFits<
    Word,
    Extent,
    Larger,
    const N: usize,
    const K: usize,
    const P: usize,
    const D: usize,
>
{
}
#[diagnostic::do_not_recommend]
impl<Word, Extent, Larger, const N: usize, const K: usize, const P: usize, const D: usize>
    WindowFits<Word, Extent, Larger, N, K, P, D> for Holds
{
}

/// The stride is at least 1.
#[diagnostic::on_unimplemented(
    message = "{Self}: the stride is {S}; it must be at least 1",
    label = "stride of zero"
)]
pub trait StrideNonZero<const S: usize> {}
#[diagnostic::do_not_recommend]
impl<const S: usize> StrideNonZero<S> for Holds {}

/// The dilation is at least 1 (convolutions, max pooling).
#[diagnostic::on_unimplemented(
    message = "{Self}: the dilation is {D}; it must be at least 1",
    label = "dilation of zero"
)]
pub trait DilationNonZero<const D: usize> {}
#[diagnostic::do_not_recommend]
impl<const D: usize> DilationNonZero<D> for Holds {}

/// Average pooling has no dilation (PyTorch's `avg_pool1d`/`avg_pool2d` take none): `D == 1`,
/// implemented for every `Self` at 1.
#[diagnostic::on_unimplemented(
    message = "{Self}: the dilation is {D}; average pooling has no dilation (it must be 1)",
    label = "dilated average pooling",
    note = "PyTorch's avg_pool1d/avg_pool2d take no dilation; max pooling does"
)]
pub trait Undilated<const D: usize> {}
impl<T: ?Sized> Undilated<1> for T {}

/// The padding is at most half the window (PyTorch's rule for pooling), along one axis.
#[diagnostic::on_unimplemented(
    message = "{Self}: the padding ({P}) is more than half the {Word} ({K})",
    label = "padding above half the {Word}",
    note = "PyTorch requires padding <= kernel_size / 2 along each axis, so that every window holds an input element"
)]
pub trait PaddingAtMostHalf<Word, const P: usize, const K: usize> {}
#[diagnostic::do_not_recommend]
impl<Word, const P: usize, const K: usize> PaddingAtMostHalf<Word, P, K> for Holds {}

/// A 2-D window has at least one row and one column.
#[diagnostic::on_unimplemented(
    message = "{Self}: the {Word} is {KH} x {KW}; it needs at least 1 row and 1 column",
    label = "empty {Word}"
)]
pub trait WindowNonEmpty<Word, const KH: usize, const KW: usize> {}
#[diagnostic::do_not_recommend]
impl<Word, const KH: usize, const KW: usize> WindowNonEmpty<Word, KH, KW> for Holds {}

/// A 1-D window has at least one tap.
#[diagnostic::on_unimplemented(
    message = "{Self}: the {Word} is {K} wide; it needs at least 1 tap",
    label = "empty {Word}"
)]
pub trait WindowNonZero<Word, const K: usize> {}
#[diagnostic::do_not_recommend]
impl<Word, const K: usize> WindowNonZero<Word, K> for Holds {}

/// A convolution's input channels equal its weight's (a comparison of two const generics, no
/// typenum, so a block generic over its channels needs no bound). Implemented for every `Self`
/// when the numbers are equal; asked of the op's marker.
#[diagnostic::on_unimplemented(
    message = "{Self}: input channels differ: the input has {X}, the weight expects {WC}",
    label = "channel counts differ",
    note = "the weight is [out_channels, in_channels, kernel...]; its second dim must equal the input's channel dim"
)]
pub trait ChannelsEqual<const X: usize, const WC: usize> {}
impl<T: ?Sized, const X: usize> ChannelsEqual<X, X> for T {}

/// The same check as [`ChannelsEqual`] on a typenum bit, for the teaching convention: its
/// hyper-parameters are fixed before the weight is read, and with [`ChannelsEqual`]'s single
/// impl for equal numbers the compiler would *infer* the weight's channels from the input's
/// and report a bare type mismatch (`expected 3, found 5`) instead of the message.
#[diagnostic::on_unimplemented(
    message = "{Self}: input channels differ: the input has {X}, the weight expects {WC}",
    label = "channel counts differ",
    note = "the weight is [out_channels, in_channels, kernel...]; its second dim must equal the input's channel dim"
)]
pub trait ChannelsMatch<const X: usize, const WC: usize> {}
#[diagnostic::do_not_recommend]
impl<const X: usize, const WC: usize> ChannelsMatch<X, WC> for Holds {}

/// Whether `Self` (`Dim<A>`) equals `B`, as a typenum bit (`B1` or `B0`), for [`ChannelsMatch`].
pub trait DimEq<const B: usize> {
    /// `B1` when the dims are equal.
    type Bit: Verdict;
}
impl<const A: usize, const B: usize> DimEq<B> for Dim<A>
where
    Dim<A>: ToUnsigned,
    Dim<B>: ToUnsigned,
    Num<Dim<A>>: typenum::IsEqual<Num<Dim<B>>>,
    typenum::Eq<Num<Dim<A>>, Num<Dim<B>>>: Verdict,
{
    type Bit = typenum::Eq<Num<Dim<A>>, Num<Dim<B>>>;
}

/// A tile divides the input along one axis.
#[diagnostic::on_unimplemented(
    message = "{Self}: the tile {Name} {K} does not divide the input {Name} {N}",
    label = "the tile {Name} does not divide the {Name}",
    note = "tile cuts [B, C, H, W] into [B, C, H/kh, W/kw, kh*kw] with no remainder; pad or crop the input, or pool with a stride (max_pool2d_with, avg_pool2d_with)"
)]
pub trait TileDivides<Name, const N: usize, const K: usize> {}
#[diagnostic::do_not_recommend]
impl<Name, const N: usize, const K: usize> TileDivides<Name, N, K> for Holds {}

// ---------------------------------------------------------------------------------------------
// The checks per axis, written once on `Axis<S, P, D>`
// ---------------------------------------------------------------------------------------------

/// Along the axis `Along` ([`Height`] or [`Width`]), the `Word` of `K` taps fits an input of
/// `N` with the stride, padding and dilation of `Self` (an [`Axis`]), and the stride is at
/// least 1; failures name the op `Op`.
pub trait AxisFits<Op, Word, Along, const N: usize, const K: usize> {}

impl<
        Op,
        Word,
        Along: AxisWords,
        const N: usize,
        const K: usize,
        const S: usize,
        const P: usize,
        const D: usize,
    > AxisFits<Op, Word, Along, N, K> for Axis<S, P, D>
where
    Dim<N>: WindowOut<K, S, P, D>,
    Check<<Dim<N> as WindowOut<K, S, P, D>>::Fits, Op>:
        WindowFits<Word, Along::Extent, Along::Larger, N, K, P, D>,
    Check<<Dim<N> as WindowOut<K, S, P, D>>::StrideOk, Op>: StrideNonZero<S>,
{
}

/// The dilation of `Self` (an [`Axis`]) is at least 1 (convolutions, max pooling); a failure
/// names the op `Op`.
pub trait AxisDilated<Op, const N: usize, const K: usize> {}

impl<Op, const N: usize, const K: usize, const S: usize, const P: usize, const D: usize>
    AxisDilated<Op, N, K> for Axis<S, P, D>
where
    Dim<N>: WindowOut<K, S, P, D>,
    Check<<Dim<N> as WindowOut<K, S, P, D>>::DilationOk, Op>: DilationNonZero<D>,
{
}

/// The dilation of `Self` (an [`Axis`]) is 1 (average pooling); a failure names the op `Op`.
pub trait AxisUndilated<Op> {}

impl<Op, const S: usize, const P: usize, const D: usize> AxisUndilated<Op> for Axis<S, P, D> where
    Op: Undilated<D>
{
}

/// The padding of `Self` (an [`Axis`]) is at most half the `Word` of `K` taps (`2P <= K`,
/// pooling); a failure names the op `Op`.
pub trait AxisPadded<Op, Word, const K: usize> {}

impl<Op, Word, const K: usize, const S: usize, const P: usize, const D: usize>
    AxisPadded<Op, Word, K> for Axis<S, P, D>
where
    Dim<P>: ToUnsigned,
    Dim<K>: ToUnsigned,
    Num<Dim<P>>: Mul<U2>,
    Prod<Num<Dim<P>>, U2>: IsLessOrEqual<Num<Dim<K>>>,
    LeEq<Prod<Num<Dim<P>>, U2>, Num<Dim<K>>>: Verdict,
    Check<LeEq<Prod<Num<Dim<P>>, U2>, Num<Dim<K>>>, Op>: PaddingAtMostHalf<Word, P, K>,
{
}

/// `Self` (`Dim<N>`) cut into tiles of `K`: the number of tiles `N / K` and whether `K`
/// divides `N`, as a typenum bit (safe from a division by zero: `K = 0` counts as 1 here, and
/// is reported by its own check).
pub trait TileAxis<const K: usize> {
    /// `N / K`.
    type Tiles: ConstDim;
    /// `B1` when `N % K == 0`.
    type Divides: Verdict;
}

impl<const N: usize, const K: usize> TileAxis<K> for Dim<N>
where
    Dim<N>: ToUnsigned,
    Dim<K>: ToUnsigned,
    Num<Dim<K>>: Max<U1>,
    Num<Dim<N>>: Div<Maximum<Num<Dim<K>>, U1>> + std::ops::Rem<Maximum<Num<Dim<K>>, U1>>,
    Quot<Num<Dim<N>>, Maximum<Num<Dim<K>>, U1>>: ToDim,
    typenum::Mod<Num<Dim<N>>, Maximum<Num<Dim<K>>, U1>>: typenum::IsEqual<U0>,
    typenum::Eq<typenum::Mod<Num<Dim<N>>, Maximum<Num<Dim<K>>, U1>>, U0>: Verdict,
{
    type Tiles = <Quot<Num<Dim<N>>, Maximum<Num<Dim<K>>, U1>> as ToDim>::Output;
    type Divides = typenum::Eq<typenum::Mod<Num<Dim<N>>, Maximum<Num<Dim<K>>, U1>>, U0>;
}

/// Along the axis `Along`, tiles of `K` divide an input of `N`; a failure names `tile`.
pub trait AxisTiles<Along, const N: usize, const K: usize> {}

impl<Along: AxisWords, const N: usize, const K: usize> AxisTiles<Along, N, K> for tile
where
    Dim<N>: TileAxis<K>,
    Check<<Dim<N> as TileAxis<K>>::Divides, tile>: TileDivides<Along::Name, N, K>,
{
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::conv::ConvGeometry;
    use crate::shape::markers::{conv2d, kernel, max_pool2d, window};
    use typenum::B0;

    /// The type-level size equals the kernels' run-time function on the same numbers.
    fn agrees<const N: usize, const K: usize, const S: usize, const P: usize, const D: usize>()
    where
        Dim<N>: WindowOut<K, S, P, D>,
    {
        use crate::shape::Dimension;
        let typed = WindowOutDim::<N, K, S, P, D>::default().size();
        assert_eq!(
            Some(typed),
            ConvGeometry::out_size(N, K, S, P, D),
            "N={N} K={K} S={S} P={P} D={D}"
        );
        // pooling also asks for padding at most half the window (PyTorch's rule)
        let pool = crate::ops::pool::PoolGeometry::out_size(N, K, S, P, D);
        assert_eq!(
            pool,
            (2 * P <= K).then_some(typed),
            "N={N} K={K} S={S} P={P} D={D}"
        );
    }

    #[test]
    fn type_level_output_size_matches_the_kernels() {
        agrees::<28, 5, 1, 0, 1>();
        agrees::<12, 5, 1, 0, 1>();
        agrees::<11, 4, 2, 1, 1>();
        agrees::<10, 3, 1, 0, 2>();
        agrees::<7, 3, 3, 2, 1>();
        agrees::<5, 5, 1, 0, 1>();
        agrees::<56, 3, 1, 1, 1>();
        agrees::<1, 1, 1, 0, 1>();
        agrees::<3, 5, 1, 1, 1>();
        agrees::<28, 2, 2, 0, 1>();
        agrees::<9, 3, 2, 0, 1>();
        agrees::<8, 2, 1, 1, 2>();
        agrees::<11, 3, 2, 1, 2>();
        agrees::<9, 4, 3, 2, 1>();
    }

    #[test]
    fn check_bits_are_false_for_bad_hyper_parameters() {
        let _: B0 = <Dim<3> as WindowOut<5, 1, 0, 1>>::Fits::default();
        let _: B1 = <Dim<3> as WindowOut<5, 1, 1, 1>>::Fits::default();
        let _: B0 = <Dim<8> as WindowOut<3, 0, 0, 1>>::StrideOk::default();
        let _: B0 = <Dim<8> as WindowOut<3, 1, 0, 0>>::DilationOk::default();
        let _: B0 = <() as NonEmpty2<0, 3>>::Bit::default();
        let _: B1 = <() as NonEmpty2<1, 3>>::Bit::default();
        let _: B0 = <() as NonEmpty1<0>>::Bit::default();
        let _: B0 = <Dim<28> as TileAxis<3>>::Divides::default();
        let _: B1 = <Dim<28> as TileAxis<7>>::Divides::default();
        let _: Dim<4> = <Dim<28> as TileAxis<7>>::Tiles::default();
    }

    #[test]
    fn a_verdict_is_holds_or_the_op() {
        let _: Holds = Check::<B1, conv2d>::default();
        let _: conv2d = Check::<B0, conv2d>::default();
    }

    fn fits<A: AxisFits<conv2d, kernel, Width, N, K>, const N: usize, const K: usize>() {}
    fn padded<A: AxisPadded<max_pool2d, window, K>, const K: usize>() {}

    #[test]
    fn the_checks_per_axis_hold_for_good_windows() {
        fits::<Axis<1, 0, 1>, 28, 5>();
        fits::<Axis<2, 1, 3>, 5, 3>(); // 5 + 2 >= 3*2 + 1
        padded::<Axis<2, 1, 1>, 2>();
        padded::<Axis<1, 0, 1>, 1>();
    }
}
