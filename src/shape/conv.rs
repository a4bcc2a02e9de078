//! Convolution shape relations: one named bound per op ([`Conv1dShape`], [`Conv2dShape`])
//! whose output shape ([`Conv1dOut`], [`Conv2dOut`]) is computed by the compiler, and whose
//! checks (channels agree, kernel fits, stride and dilation at least 1, kernel not empty) fail
//! with errors that name the op, the dims in words and the numbers in decimal.
//!
//! ```
//! use shapetorch::shape::{Conv2dOut, Conv2dShape, ConvParams, Dim, Dimension};
//! // One bound per op in generic code: a 5x5 conv of 1 channel into 6, any batch, height, width.
//! type P = ConvParams<1, 0, 1>;
//! fn out_shape<B: Dimension, H: Dimension, W: Dimension>(
//! ) -> std::marker::PhantomData<Conv2dOut<(B, Dim<1>, H, W), 6, 5, 5, P>>
//! where
//!     (B, Dim<1>, H, W): Conv2dShape<1, 5, 5, P>,
//! {
//!     std::marker::PhantomData
//! }
//! let _: std::marker::PhantomData<(usize, Dim<6>, Dim<24>, Dim<20>)> =
//!     out_shape::<usize, Dim<28>, Dim<24>>();
//! ```
//!
//! # How a relation is built (and why this way)
//!
//! `X: Conv2dShape<WC, KH, KW, P>` has one blanket impl, for every `X`, whose where-clause asks
//! two things of the hyper-parameters type `P`:
//! - `P: Conv2dSizeFor<X, KH, KW>`: the output shape, arithmetic only. [`Conv2dSize`] (a
//!   supertrait of the relation, so users still write one bound) names it, as **one associated
//!   type** `Output<O>` (generic over the output channels `O`), never a tuple of projections:
//!   while rustc is still inferring a call's result, a tuple whose height is a projection is
//!   half known, and an unrelated where-clause of the caller (`(B, Dim<O>, Dim<12>, Dim<12>):
//!   FlattenShape`) would pin it; a single projection is either normalised or opaque.
//! - `P: Conv2dCheckFor<X, WC, KH, KW>`: the checks. Each is a guard from `window.rs` (a marker
//!   trait implemented only for a check that holds, whose message prints the numbers) written
//!   once per axis; rustc reports the innermost failing bound, so a bad shape in concrete code
//!   reads, in its first line, "conv2d: input channels differ: the input has 3, the weight
//!   expects 5". The checks are not proven a second time when a caller names the output.
//!
//! Both are implemented once for the hyper-parameters split per axis ([`ConvAxes`]:
//! [`ConvParams`], [`ConvParams2d`]) and once for [`Minitorch`]. Because `P` is the *self*
//! type, rustc does not look at these impls before the call's last argument has fixed `P`, so
//! it never guesses a weight's channel count from the input's (which would turn the channel
//! message into a bare "expected 3, found 5"). The check trait has the size trait as a
//! supertrait, so when both fail (a 3-D input, or a generic input without the bound) rustc
//! reports only the check: one error, whose note spells the where-clause to add.

use super::bridge::Check;
use super::markers::{conv1d, conv2d, kernel};
use super::params::{Axis, ConvAxes, ConvHyperParams, ConvParams, ConvParams2d, Minitorch};
use super::window::{
    AxisDilated, AxisFits, AxisOut, ChannelsEqual, ChannelsMatch, DimEq, Height, NonEmpty1,
    NonEmpty2, Width, WindowNonEmpty, WindowNonZero,
};
use super::{Dim, Dimension, Shape};

// ---------------------------------------------------------------------------------------------
// conv1d
// ---------------------------------------------------------------------------------------------

/// conv1d's output shape for an input shape `Self` (`[B, C, W]`), a kernel of `K` taps and the
/// hyper-parameters `P`: arithmetic only, the supertrait of [`Conv1dShape`].
pub trait Conv1dSize<const K: usize, P>: Shape {
    /// The output shape `[B, O, W_out]` for `O` output channels.
    type Output<const O: usize>: Shape;
    /// The output shape's value (the batch and a runtime width pass through).
    fn conv1d_shape<const O: usize>(&self) -> Self::Output<O>;
}

impl<X: Shape, const K: usize, P> Conv1dSize<K, P> for X
where
    P: Conv1dSizeFor<X, K>,
{
    type Output<const O: usize> = <P as Conv1dSizeFor<X, K>>::Output<O>;
    #[inline]
    fn conv1d_shape<const O: usize>(&self) -> Self::Output<O> {
        P::out_shape::<O>(self)
    }
}

/// [`Conv1dSize`], implemented per hyper-parameters type `Self`.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "conv1d: the compiler cannot see the channels and width of `{X}`; in generic code, add the op's relation: `where {X}: Conv1dShape<C, {K}, {Self}>`"
)]
pub trait Conv1dSizeFor<X, const K: usize> {
    /// The output shape.
    type Output<const O: usize>: Shape;
    /// The output shape's value.
    fn out_shape<const O: usize>(x: &X) -> Self::Output<O>;
}

impl<
        B: Dimension,
        C,
        const W: usize,
        const K: usize,
        const S: usize,
        const P: usize,
        const D: usize,
    > Conv1dSizeFor<(B, C, Dim<W>), K> for ConvParams<S, P, D>
where
    Axis<S, P, D>: AxisOut<W, K>,
{
    type Output<const O: usize> = (B, Dim<O>, <Axis<S, P, D> as AxisOut<W, K>>::Output);
    fn out_shape<const O: usize>(x: &(B, C, Dim<W>)) -> Self::Output<O> {
        (x.0, Dim, Default::default())
    }
}

impl<B: Dimension, C, W: Dimension, const K: usize> Conv1dSizeFor<(B, C, W), K> for Minitorch {
    type Output<const O: usize> = (B, Dim<O>, W);
    fn out_shape<const O: usize>(x: &(B, C, W)) -> Self::Output<O> {
        (x.0, Dim, x.2)
    }
}

/// conv1d's checks, implemented per hyper-parameters type `Self`; its message is the one for
/// an input whose channels or width are not static (`usize`, or a generic dim without the
/// bound).
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "conv1d: the compiler cannot see the channels and width of `{X}`; in generic code, add the op's relation: `where {X}: Conv1dShape<{WC}, {K}, {Self}>`",
    label = "channels or width not a `Dim<N>`"
)]
pub trait Conv1dCheckFor<X, const WC: usize, const K: usize>: Conv1dSizeFor<X, K> {}

impl<
        B: Dimension,
        const C: usize,
        const W: usize,
        const WC: usize,
        const K: usize,
        const S: usize,
        const P: usize,
        const D: usize,
    > Conv1dCheckFor<(B, Dim<C>, Dim<W>), WC, K> for ConvParams<S, P, D>
where
    Self: Conv1dSizeFor<(B, Dim<C>, Dim<W>), K>,
    conv1d: ChannelsEqual<C, WC>,
    Axis<S, P, D>: AxisFits<conv1d, kernel, Width, W, K> + AxisDilated<conv1d, W, K>,
    (): NonEmpty1<K>,
    Check<<() as NonEmpty1<K>>::Bit, conv1d>: WindowNonZero<kernel, K>,
{
}

// Its checks sit behind one bound, on one line (`rustfmt::skip`): see conv2d's.
#[rustfmt::skip]
impl<B: Dimension, const C: usize, W: Dimension, const WC: usize, const K: usize> Conv1dCheckFor<(B, Dim<C>, W), WC, K> for Minitorch where (): MinitorchCheck1d<C, WC, K> {}

/// The teaching convention's conv1d checks, asked of `()`: channels and kernel.
#[doc(hidden)]
pub trait MinitorchCheck1d<const C: usize, const WC: usize, const K: usize> {}
impl<T: ?Sized, const C: usize, const WC: usize, const K: usize> MinitorchCheck1d<C, WC, K> for T
where
    Dim<C>: DimEq<WC>,
    Check<<Dim<C> as DimEq<WC>>::Bit, conv1d>: ChannelsMatch<C, WC>,
    (): NonEmpty1<K>,
    Check<<() as NonEmpty1<K>>::Bit, conv1d>: WindowNonZero<kernel, K>,
{
}

/// conv1d takes a 3-D input: asked of `()` by the impls for other ranks, implemented by none.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "conv1d takes a 3-D input [batch, channels, width]; the input is `{X}`",
    label = "not a 3-D input"
)]
pub trait Conv1dInputRank<X, const K: usize> {}

/// conv1d takes [`ConvParams`], not the per-axis [`ConvParams2d`]: asked of `()` by the impls
/// below, implemented by none.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "conv1d takes `ConvParams<STRIDE, PADDING, DILATION>`; `{P}` sets height and width apart, for conv2d",
    label = "per-axis hyper-parameters in a conv1d"
)]
pub trait Conv1dParamsPerAxis<X, P> {}

impl<
        X,
        const K: usize,
        const SH: usize,
        const SW: usize,
        const PH: usize,
        const PW: usize,
        const DH: usize,
        const DW: usize,
    > Conv1dSizeFor<X, K> for ConvParams2d<SH, SW, PH, PW, DH, DW>
where
    (): Conv1dParamsPerAxis<X, Self>,
{
    type Output<const O: usize> = ();
    fn out_shape<const O: usize>(_: &X) {
        unreachable!("conv1d: hyper-parameters checked at compile time")
    }
}

impl<
        X,
        const WC: usize,
        const K: usize,
        const SH: usize,
        const SW: usize,
        const PH: usize,
        const PW: usize,
        const DH: usize,
        const DW: usize,
    > Conv1dCheckFor<X, WC, K> for ConvParams2d<SH, SW, PH, PW, DH, DW>
where
    (): Conv1dParamsPerAxis<X, Self>,
{
}

/// The relation of conv1d: an input of shape `Self` (`[B, C, W]`) fits a weight `[_, WC, K]`
/// with hyper-parameters `P` ([`ConvParams`] or [`Minitorch`]), and the output is
/// [`Conv1dOut`]. Generic code writes this one bound per conv1d:
///
/// `where (B, Dim<C>, W): Conv1dShape<C, 5, ConvParams<1, 0, 1>>`
///
/// Concrete code needs no bound; a bad shape fails with a message naming the dims.
#[diagnostic::on_unimplemented(
    message = "conv1d: `{Self}` does not fit a weight [_, {WC}, {K}] with `{P}`"
)]
pub trait Conv1dShape<const WC: usize, const K: usize, P>: Conv1dSize<K, P> {}

impl<X, const WC: usize, const K: usize, P> Conv1dShape<WC, K, P> for X
where
    X: Conv1dSize<K, P>,
    P: Conv1dCheckFor<X, WC, K>,
{
}

/// The output shape of conv1d on an input `S` (`[B, C, W]`) with `O` output channels, a kernel
/// of `K` taps and hyper-parameters `P`: `[B, O, W_out]`.
pub type Conv1dOut<S, const O: usize, const K: usize, P> = <S as Conv1dSize<K, P>>::Output<O>;

// ---------------------------------------------------------------------------------------------
// conv2d
// ---------------------------------------------------------------------------------------------

/// conv2d's output shape for an input shape `Self` (`[B, C, H, W]`), a kernel `KH x KW` and the
/// hyper-parameters `P`: arithmetic only, the supertrait of [`Conv2dShape`].
pub trait Conv2dSize<const KH: usize, const KW: usize, P>: Shape {
    /// The output shape `[B, O, H_out, W_out]` for `O` output channels.
    type Output<const O: usize>: Shape;
    /// The output shape's value (the batch and a runtime height or width pass through).
    fn conv2d_shape<const O: usize>(&self) -> Self::Output<O>;
}

impl<X: Shape, const KH: usize, const KW: usize, P> Conv2dSize<KH, KW, P> for X
where
    P: Conv2dSizeFor<X, KH, KW>,
{
    type Output<const O: usize> = <P as Conv2dSizeFor<X, KH, KW>>::Output<O>;
    #[inline]
    fn conv2d_shape<const O: usize>(&self) -> Self::Output<O> {
        P::out_shape::<O>(self)
    }
}

/// [`Conv2dSize`], implemented per hyper-parameters type `Self`.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "conv2d: the compiler cannot see the channels, height and width of `{X}`; in generic code, add the op's relation: `where {X}: Conv2dShape<C, {KH}, {KW}, {Self}>`"
)]
pub trait Conv2dSizeFor<X, const KH: usize, const KW: usize> {
    /// The output shape.
    type Output<const O: usize>: Shape;
    /// The output shape's value.
    fn out_shape<const O: usize>(x: &X) -> Self::Output<O>;
}

impl<B: Dimension, C, const H: usize, const W: usize, const KH: usize, const KW: usize, P>
    Conv2dSizeFor<(B, C, Dim<H>, Dim<W>), KH, KW> for P
where
    P: ConvAxes,
    P::Height: AxisOut<H, KH>,
    P::Width: AxisOut<W, KW>,
{
    type Output<const O: usize> = (
        B,
        Dim<O>,
        <P::Height as AxisOut<H, KH>>::Output,
        <P::Width as AxisOut<W, KW>>::Output,
    );
    fn out_shape<const O: usize>(x: &(B, C, Dim<H>, Dim<W>)) -> Self::Output<O> {
        (x.0, Dim, Default::default(), Default::default())
    }
}

impl<B: Dimension, C, H: Dimension, W: Dimension, const KH: usize, const KW: usize>
    Conv2dSizeFor<(B, C, H, W), KH, KW> for Minitorch
{
    type Output<const O: usize> = (B, Dim<O>, H, W);
    fn out_shape<const O: usize>(x: &(B, C, H, W)) -> Self::Output<O> {
        (x.0, Dim, x.2, x.3)
    }
}

/// conv2d's checks, implemented per hyper-parameters type `Self`; its message is the one for
/// an input whose channels, height or width are not static (`usize`, or a generic dim without
/// the bound).
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "conv2d: the compiler cannot see the channels, height and width of `{X}`; in generic code, add the op's relation: `where {X}: Conv2dShape<{WC}, {KH}, {KW}, {Self}>`",
    label = "channels, height or width not a `Dim<N>`"
)]
pub trait Conv2dCheckFor<X, const WC: usize, const KH: usize, const KW: usize>:
    Conv2dSizeFor<X, KH, KW>
{
}

impl<
        B: Dimension,
        const C: usize,
        const H: usize,
        const W: usize,
        const WC: usize,
        const KH: usize,
        const KW: usize,
        P,
    > Conv2dCheckFor<(B, Dim<C>, Dim<H>, Dim<W>), WC, KH, KW> for P
where
    P: ConvAxes + Conv2dSizeFor<(B, Dim<C>, Dim<H>, Dim<W>), KH, KW>,
    conv2d: ChannelsEqual<C, WC>,
    P::Height: AxisFits<conv2d, kernel, Height, H, KH> + AxisDilated<conv2d, H, KH>,
    P::Width: AxisFits<conv2d, kernel, Width, W, KW> + AxisDilated<conv2d, W, KW>,
    (): NonEmpty2<KH, KW>,
    Check<<() as NonEmpty2<KH, KW>>::Bit, conv2d>: WindowNonEmpty<kernel, KH, KW>,
{
}

// Its checks sit behind one bound, on one line (`rustfmt::skip`): the compiler quotes this impl
// to a user whose generic input fits no convention, and the quote stays short.
#[rustfmt::skip]
impl<B: Dimension, const C: usize, H: Dimension, W: Dimension, const WC: usize, const KH: usize, const KW: usize> Conv2dCheckFor<(B, Dim<C>, H, W), WC, KH, KW> for Minitorch where (): MinitorchCheck2d<C, WC, KH, KW> {}

/// The teaching convention's conv2d checks, asked of `()`: channels and kernel.
#[doc(hidden)]
pub trait MinitorchCheck2d<const C: usize, const WC: usize, const KH: usize, const KW: usize> {}
impl<T: ?Sized, const C: usize, const WC: usize, const KH: usize, const KW: usize>
    MinitorchCheck2d<C, WC, KH, KW> for T
where
    Dim<C>: DimEq<WC>,
    Check<<Dim<C> as DimEq<WC>>::Bit, conv2d>: ChannelsMatch<C, WC>,
    (): NonEmpty2<KH, KW>,
    Check<<() as NonEmpty2<KH, KW>>::Bit, conv2d>: WindowNonEmpty<kernel, KH, KW>,
{
}

/// conv2d takes a 4-D input: asked of `()` by the impls for other ranks, implemented by none.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "conv2d takes a 4-D input [batch, channels, height, width]; the input is `{X}`",
    label = "not a 4-D input"
)]
pub trait Conv2dInputRank<X, const KH: usize> {}

/// The relation of conv2d: an input of shape `Self` (`[B, C, H, W]`) fits a weight
/// `[_, WC, KH, KW]` with hyper-parameters `P` ([`ConvParams`], [`ConvParams2d`] or
/// [`Minitorch`]), and the output is [`Conv2dOut`]. Generic code writes this one bound per
/// conv2d:
///
/// `where (B, Dim<1>, H, W): Conv2dShape<1, 5, 5, ConvParams<1, 0, 1>>`
///
/// Concrete code needs no bound; a bad shape fails with a message naming the dims. The output
/// of one generic conv2d feeds the next: bound `Conv2dOut<(B, Dim<1>, H, W), 6, 5, 5, P>:
/// Conv2dShape<6, ..>` for the second.
#[diagnostic::on_unimplemented(
    message = "conv2d: `{Self}` does not fit a weight [_, {WC}, {KH}, {KW}] with `{P}`"
)]
pub trait Conv2dShape<const WC: usize, const KH: usize, const KW: usize, P>:
    Conv2dSize<KH, KW, P>
{
}

impl<X, const WC: usize, const KH: usize, const KW: usize, P> Conv2dShape<WC, KH, KW, P> for X
where
    X: Conv2dSize<KH, KW, P>,
    P: Conv2dCheckFor<X, WC, KH, KW>,
{
}

/// The output shape of conv2d on an input `S` (`[B, C, H, W]`) with `O` output channels, a
/// `KH x KW` kernel and hyper-parameters `P`: `[B, O, H_out, W_out]`.
pub type Conv2dOut<S, const O: usize, const KH: usize, const KW: usize, P> =
    <S as Conv2dSize<KH, KW, P>>::Output<O>;

// ---------------------------------------------------------------------------------------------
// Inputs of the wrong rank
// ---------------------------------------------------------------------------------------------

/// Impls of the size and check traits for inputs of a wrong rank, for every hyper-parameters
/// type `P` of the op, each asking the rank trait (implemented by nothing) of `()`: the error
/// then names the rank in one line, rather than listing the impls that exist for the right
/// rank.
macro_rules! wrong_rank {
    (conv1d for $bound:path; $($d:ident),*) => {
        impl<$($d,)* const K: usize, P: $bound> Conv1dSizeFor<($($d,)*), K> for P
        where
            (): Conv1dInputRank<($($d,)*), K>,
        {
            type Output<const O: usize> = ();
            fn out_shape<const O: usize>(_: &($($d,)*)) {
                unreachable!("conv1d: rank checked at compile time")
            }
        }
        impl<$($d,)* const WC: usize, const K: usize, P: $bound> Conv1dCheckFor<($($d,)*), WC, K>
            for P
        where
            (): Conv1dInputRank<($($d,)*), K>,
        {
        }
    };
    (conv2d; $($d:ident),*) => {
        impl<$($d,)* const KH: usize, const KW: usize, P: ConvHyperParams>
            Conv2dSizeFor<($($d,)*), KH, KW> for P
        where
            (): Conv2dInputRank<($($d,)*), KH>,
        {
            type Output<const O: usize> = ();
            fn out_shape<const O: usize>(_: &($($d,)*)) {
                unreachable!("conv2d: rank checked at compile time")
            }
        }
        impl<$($d,)* const WC: usize, const KH: usize, const KW: usize, P: ConvHyperParams>
            Conv2dCheckFor<($($d,)*), WC, KH, KW> for P
        where
            (): Conv2dInputRank<($($d,)*), KH>,
        {
        }
    };
}

/// The hyper-parameters conv1d takes: [`ConvParams`] and [`Minitorch`] (not [`ConvParams2d`],
/// which has its own message).
#[doc(hidden)]
pub trait Conv1dParams: ConvHyperParams {}
impl<const S: usize, const P: usize, const D: usize> Conv1dParams for ConvParams<S, P, D> {}
impl Conv1dParams for Minitorch {}

wrong_rank!(conv1d for Conv1dParams; );
wrong_rank!(conv1d for Conv1dParams; X0);
wrong_rank!(conv1d for Conv1dParams; X0, X1);
wrong_rank!(conv1d for Conv1dParams; X0, X1, X2, X3);
wrong_rank!(conv1d for Conv1dParams; X0, X1, X2, X3, X4);
wrong_rank!(conv2d; );
wrong_rank!(conv2d; X0);
wrong_rank!(conv2d; X0, X1);
wrong_rank!(conv2d; X0, X1, X2);
wrong_rank!(conv2d; X0, X1, X2, X3, X4);

#[cfg(test)]
mod tests {
    use super::*;

    fn same<T>(_: T, _: T) {}

    #[test]
    fn relation_outputs_are_the_computed_shapes() {
        type P = ConvParams<2, 1, 1>;
        let x = (7usize, Dim::<3>, Dim::<28>, Dim::<20>);
        // (28 + 2 - 3)/2 + 1 = 14, (20 + 2 - 3)/2 + 1 = 10
        let y: Conv2dOut<(usize, Dim<3>, Dim<28>, Dim<20>), 8, 3, 3, P> =
            Conv2dSize::<3, 3, P>::conv2d_shape::<8>(&x);
        same(y, (7usize, Dim::<8>, Dim::<14>, Dim::<10>));
        // the teaching convention keeps the size, runtime ones too
        let m = (2usize, Dim::<3>, 9usize);
        assert_eq!(
            Conv1dSize::<4, Minitorch>::conv1d_shape::<5>(&m),
            (2, Dim, 9)
        );
        let z: Conv1dOut<(Dim<2>, Dim<3>, Dim<9>), 4, 4, ConvParams> = Default::default();
        same(z, (Dim::<2>, Dim::<4>, Dim::<6>));
    }

    #[test]
    fn per_axis_params_compute_each_axis_on_its_own() {
        // height (6 + 0 - 1)/1 + 1 = 6, width (9 + 4 - 5)/1 + 1 = 9
        let x = (2usize, Dim::<3>, Dim::<6>, Dim::<9>);
        same(
            Conv2dSize::<1, 5, ConvParams2d<1, 1, 0, 2, 1, 1>>::conv2d_shape::<4>(&x),
            (2usize, Dim::<4>, Dim::<6>, Dim::<9>),
        );
        // height (7 + 2 - 5)/2 + 1 = 3 (dilation 2), width (8 - 2)/3 + 1 = 3
        let y: Conv2dOut<(usize, Dim<2>, Dim<7>, Dim<8>), 4, 3, 2, ConvParams2d<2, 3, 1, 0, 2, 1>> =
            (1, Dim, Dim, Dim);
        same(y, (1usize, Dim::<4>, Dim::<3>, Dim::<3>));
    }

    /// A function generic over batch, height and width, with one bound.
    fn generic_out<B: Dimension, H: Dimension, W: Dimension>(
        x: (B, Dim<1>, H, W),
    ) -> Conv2dOut<(B, Dim<1>, H, W), 6, 5, 5, ConvParams>
    where
        (B, Dim<1>, H, W): Conv2dShape<1, 5, 5, ConvParams>,
    {
        x.conv2d_shape::<6>()
    }

    #[test]
    fn generic_code_names_the_output_through_one_bound() {
        let y = generic_out((3usize, Dim, Dim::<28>, Dim::<32>));
        same(y, (3usize, Dim::<6>, Dim::<24>, Dim::<28>));
    }
}
