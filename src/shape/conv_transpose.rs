//! Transposed-convolution shape relations: one named bound per op
//! ([`ConvTranspose1dShape`], [`ConvTranspose2dShape`]) whose output shape
//! ([`ConvTranspose1dOut`], [`ConvTranspose2dOut`]) is computed by the compiler, and whose
//! checks (the input's channels equal the weight's first dim and split into the groups; along
//! each axis an output of at least one position, the output padding below the stride or the
//! dilation, stride and dilation at least 1; the kernel not empty) fail with errors that name
//! the op and the numbers.
//!
//! ```
//! use shapetorch::shape::{ConvTranspose2dOut, ConvTranspose2dShape, ConvTransposeParams, Dim, Dimension};
//! // Generic code writes one bound per op: a 3x3 stride-2 transposed conv of 8 channels into 4.
//! type Up = ConvTransposeParams<2, 1, 1>;
//! fn out_shape<B: Dimension, H: Dimension, W: Dimension>(
//! ) -> std::marker::PhantomData<ConvTranspose2dOut<(B, Dim<8>, H, W), 4, 3, 3, Up>>
//! where
//!     (B, Dim<8>, H, W): ConvTranspose2dShape<8, 4, 3, 3, Up>,
//! {
//!     std::marker::PhantomData
//! }
//! let _: std::marker::PhantomData<(usize, Dim<4>, Dim<14>, Dim<10>)> =
//!     out_shape::<usize, Dim<7>, Dim<5>>();
//! ```
//!
//! Built like the convolution's relations (`conv.rs`): a blanket relation over the input
//! shape whose where-clause asks the hyper-parameters type for the size (arithmetic only, a
//! supertrait, so users write one bound) and for the checks. The weight is
//! `[in_channels, out_channels / groups, KH, KW]` (PyTorch's), so the relation names both of
//! its channel dims, `WC` and `WO`, and the output has `WO * groups` channels: the relation's
//! output is one associated type, `Output`, not generic over the output channels as a
//! convolution's is. With one group the output has `WO` channels and the input's channels are
//! compared with `WC` without typenum, so code generic over its channels needs no bound.

use super::bridge::Check;
use super::groups::{GroupKind, GroupTimes, InSplit};
use super::markers::{conv_transpose1d, conv_transpose2d, kernel};
use super::params::{
    ConvTransposeAxes, ConvTransposeHyperParams, ConvTransposeParams, ConvTransposeParams2d,
    TransposeAxis,
};
use super::window::{Height, NonEmpty1, NonEmpty2, Width, WindowNonEmpty, WindowNonZero};
use super::window_transpose::{TransposeAxisFits, TransposeAxisOut};
use super::{ConstDim, Dim, Dimension, Shape};

/// A transposed convolution's input channels equal its weight's first dim (a comparison of
/// two const generics, no typenum). Implemented for every `Self` when the numbers are equal;
/// asked of the op's marker.
#[diagnostic::on_unimplemented(
    message = "{Self}: input channels differ: the input has {X}, the weight expects {WC}",
    label = "channel counts differ",
    note = "a transposed convolution's weight is [in_channels, out_channels / groups, kernel...]; its first dim must equal the input's channel dim"
)]
pub trait TransposeChannelsEqual<const X: usize, const WC: usize> {}
impl<T: ?Sized, const X: usize> TransposeChannelsEqual<X, X> for T {}

/// The output channels of a transposed convolution with the hyper-parameters `Self` and a
/// weight `[_, WO, ..]`: `WO * groups` as a `Dim` (`Dim<WO>` with one group, for any `WO`).
/// The type of the bias of `conv_transpose1d_bias`, `conv_transpose2d_bias` and the layers.
pub trait ConvTransposeChannels<const WO: usize> {
    /// `Dim<WO * groups>`.
    type Channels: ConstDim;
}

impl<P: ConvTransposeAxes, const WO: usize> ConvTransposeChannels<WO> for P
where
    P::Groups: GroupKind,
    <P::Groups as GroupKind>::Kind: GroupTimes<WO>,
{
    type Channels = <<P::Groups as GroupKind>::Kind as GroupTimes<WO>>::Channels;
}

// ---------------------------------------------------------------------------------------------
// conv_transpose1d
// ---------------------------------------------------------------------------------------------

/// conv_transpose1d's output shape for an input shape `Self` (`[B, C, W]`), a weight
/// `[_, WO, K]` and the hyper-parameters `P`: arithmetic only, the supertrait of
/// [`ConvTranspose1dShape`].
pub trait ConvTranspose1dSize<const WO: usize, const K: usize, P>: Shape {
    /// The output shape `[B, WO * groups, W_out]`.
    type Output: Shape;
    /// The output shape's value (the batch passes through).
    fn conv_transpose1d_shape(&self) -> Self::Output;
}

impl<X: Shape, const WO: usize, const K: usize, P> ConvTranspose1dSize<WO, K, P> for X
where
    P: ConvTranspose1dSizeFor<X, WO, K>,
{
    type Output = <P as ConvTranspose1dSizeFor<X, WO, K>>::Output;
    #[inline]
    fn conv_transpose1d_shape(&self) -> Self::Output {
        P::out_shape(self)
    }
}

/// [`ConvTranspose1dSize`], implemented per hyper-parameters type `Self`.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "conv_transpose1d: the compiler cannot see the channels and width of `{X}`; in generic code, add the op's relation: `where {X}: ConvTranspose1dShape<C, {WO}, {K}, {Self}>`"
)]
pub trait ConvTranspose1dSizeFor<X, const WO: usize, const K: usize> {
    /// The output shape.
    type Output: Shape;
    /// The output shape's value.
    fn out_shape(x: &X) -> Self::Output;
}

impl<
        B: Dimension,
        C,
        const W: usize,
        const WO: usize,
        const K: usize,
        const S: usize,
        const P: usize,
        const OP: usize,
        const D: usize,
        const G: usize,
    > ConvTranspose1dSizeFor<(B, C, Dim<W>), WO, K> for ConvTransposeParams<S, P, OP, D, G>
where
    TransposeAxis<S, P, OP, D>: TransposeAxisOut<W, K>,
    Dim<G>: GroupKind,
    <Dim<G> as GroupKind>::Kind: GroupTimes<WO>,
{
    type Output = (
        B,
        <<Dim<G> as GroupKind>::Kind as GroupTimes<WO>>::Channels,
        <TransposeAxis<S, P, OP, D> as TransposeAxisOut<W, K>>::Output,
    );
    fn out_shape(x: &(B, C, Dim<W>)) -> Self::Output {
        (x.0, Default::default(), Default::default())
    }
}

/// conv_transpose1d's checks, implemented per hyper-parameters type `Self`; its message is the
/// one for an input whose channels or width are not static.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "conv_transpose1d: the compiler cannot see the channels and width of `{X}`; in generic code, add the op's relation: `where {X}: ConvTranspose1dShape<{WC}, {WO}, {K}, {Self}>`",
    label = "channels or width not a `Dim<N>`"
)]
pub trait ConvTranspose1dCheckFor<X, const WC: usize, const WO: usize, const K: usize>:
    ConvTranspose1dSizeFor<X, WO, K>
{
}

impl<
        B: Dimension,
        const C: usize,
        const W: usize,
        const WC: usize,
        const WO: usize,
        const K: usize,
        const S: usize,
        const P: usize,
        const OP: usize,
        const D: usize,
        const G: usize,
    > ConvTranspose1dCheckFor<(B, Dim<C>, Dim<W>), WC, WO, K>
    for ConvTransposeParams<S, P, OP, D, G>
where
    Self: ConvTranspose1dSizeFor<(B, Dim<C>, Dim<W>), WO, K>,
    conv_transpose1d: TransposeChannelsEqual<C, WC>,
    Dim<G>: GroupKind,
    <Dim<G> as GroupKind>::Kind: InSplit<conv_transpose1d, C>,
    TransposeAxis<S, P, OP, D>: TransposeAxisFits<conv_transpose1d, Width, W, K>,
    (): NonEmpty1<K>,
    Check<<() as NonEmpty1<K>>::Bit, conv_transpose1d>: WindowNonZero<kernel, K>,
{
}

/// conv_transpose1d takes a 3-D input: asked of `()` by the impls for other ranks.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "conv_transpose1d takes a 3-D input [batch, channels, width]; the input is `{X}`",
    label = "not a 3-D input"
)]
pub trait ConvTranspose1dInputRank<X, const K: usize> {}

/// conv_transpose1d takes [`ConvTransposeParams`], not the per-axis
/// [`ConvTransposeParams2d`]: asked of `()` by the impls below, implemented by none.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "conv_transpose1d takes `ConvTransposeParams<STRIDE, PADDING, OUTPUT_PADDING, DILATION, GROUPS>`; `{P}` sets height and width apart, for conv_transpose2d",
    label = "per-axis hyper-parameters in a conv_transpose1d"
)]
pub trait ConvTranspose1dParamsPerAxis<X, P> {}

/// Implements the size and check traits of conv_transpose1d for [`ConvTransposeParams2d`],
/// each asking [`ConvTranspose1dParamsPerAxis`] of `()`.
macro_rules! transpose1d_per_axis {
    ($($p:ident),*) => {
        impl<X, const WO: usize, const K: usize, $(const $p: usize),*>
            ConvTranspose1dSizeFor<X, WO, K> for ConvTransposeParams2d<$($p),*>
        where
            (): ConvTranspose1dParamsPerAxis<X, Self>,
        {
            type Output = ();
            fn out_shape(_: &X) {
                unreachable!("conv_transpose1d: hyper-parameters checked at compile time")
            }
        }
        impl<X, const WC: usize, const WO: usize, const K: usize, $(const $p: usize),*>
            ConvTranspose1dCheckFor<X, WC, WO, K> for ConvTransposeParams2d<$($p),*>
        where
            (): ConvTranspose1dParamsPerAxis<X, Self>,
        {
        }
    };
}
transpose1d_per_axis!(SH, SW, PH, PW, OPH, OPW, DH, DW, G);

/// The relation of conv_transpose1d: an input of shape `Self` (`[B, C, W]`) fits a weight
/// `[WC, WO, K]` with hyper-parameters `P` ([`ConvTransposeParams`]), and the output is
/// [`ConvTranspose1dOut`]. Generic code writes this one bound per conv_transpose1d:
///
/// `where (B, Dim<C>, W): ConvTranspose1dShape<C, 4, 3, ConvTransposeParams<2, 1, 1>>`
#[diagnostic::on_unimplemented(
    message = "conv_transpose1d: `{Self}` does not fit a weight [{WC}, {WO}, {K}] with `{P}`"
)]
pub trait ConvTranspose1dShape<const WC: usize, const WO: usize, const K: usize, P>:
    ConvTranspose1dSize<WO, K, P>
{
}

impl<X, const WC: usize, const WO: usize, const K: usize, P> ConvTranspose1dShape<WC, WO, K, P>
    for X
where
    X: ConvTranspose1dSize<WO, K, P>,
    P: ConvTranspose1dCheckFor<X, WC, WO, K>,
{
}

/// The output shape of conv_transpose1d on an input `S` (`[B, C, W]`) with a weight
/// `[C, WO, K]` and hyper-parameters `P`: `[B, WO * groups, W_out]`.
pub type ConvTranspose1dOut<S, const WO: usize, const K: usize, P> =
    <S as ConvTranspose1dSize<WO, K, P>>::Output;

// ---------------------------------------------------------------------------------------------
// conv_transpose2d
// ---------------------------------------------------------------------------------------------

/// conv_transpose2d's output shape for an input shape `Self` (`[B, C, H, W]`), a weight
/// `[_, WO, KH, KW]` and the hyper-parameters `P`: arithmetic only, the supertrait of
/// [`ConvTranspose2dShape`].
pub trait ConvTranspose2dSize<const WO: usize, const KH: usize, const KW: usize, P>: Shape {
    /// The output shape `[B, WO * groups, H_out, W_out]`.
    type Output: Shape;
    /// The output shape's value (the batch passes through).
    fn conv_transpose2d_shape(&self) -> Self::Output;
}

impl<X: Shape, const WO: usize, const KH: usize, const KW: usize, P>
    ConvTranspose2dSize<WO, KH, KW, P> for X
where
    P: ConvTranspose2dSizeFor<X, WO, KH, KW>,
{
    type Output = <P as ConvTranspose2dSizeFor<X, WO, KH, KW>>::Output;
    #[inline]
    fn conv_transpose2d_shape(&self) -> Self::Output {
        P::out_shape(self)
    }
}

/// [`ConvTranspose2dSize`], implemented per hyper-parameters type `Self`.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "conv_transpose2d: the compiler cannot see the channels, height and width of `{X}`; in generic code, add the op's relation: `where {X}: ConvTranspose2dShape<C, {WO}, {KH}, {KW}, {Self}>`"
)]
pub trait ConvTranspose2dSizeFor<X, const WO: usize, const KH: usize, const KW: usize> {
    /// The output shape.
    type Output: Shape;
    /// The output shape's value.
    fn out_shape(x: &X) -> Self::Output;
}

impl<
        B: Dimension,
        C,
        const H: usize,
        const W: usize,
        const WO: usize,
        const KH: usize,
        const KW: usize,
        P,
    > ConvTranspose2dSizeFor<(B, C, Dim<H>, Dim<W>), WO, KH, KW> for P
where
    P: ConvTransposeAxes,
    P::Height: TransposeAxisOut<H, KH>,
    P::Width: TransposeAxisOut<W, KW>,
    P::Groups: GroupKind,
    <P::Groups as GroupKind>::Kind: GroupTimes<WO>,
{
    type Output = (
        B,
        <<P::Groups as GroupKind>::Kind as GroupTimes<WO>>::Channels,
        <P::Height as TransposeAxisOut<H, KH>>::Output,
        <P::Width as TransposeAxisOut<W, KW>>::Output,
    );
    fn out_shape(x: &(B, C, Dim<H>, Dim<W>)) -> Self::Output {
        (
            x.0,
            Default::default(),
            Default::default(),
            Default::default(),
        )
    }
}

/// conv_transpose2d's checks, implemented per hyper-parameters type `Self`; its message is the
/// one for an input whose channels, height or width are not static.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "conv_transpose2d: the compiler cannot see the channels, height and width of `{X}`; in generic code, add the op's relation: `where {X}: ConvTranspose2dShape<{WC}, {WO}, {KH}, {KW}, {Self}>`",
    label = "channels, height or width not a `Dim<N>`"
)]
pub trait ConvTranspose2dCheckFor<
    X,
    const WC: usize,
    const WO: usize,
    const KH: usize,
    const KW: usize,
>: ConvTranspose2dSizeFor<X, WO, KH, KW>
{
}

impl<
        B: Dimension,
        const C: usize,
        const H: usize,
        const W: usize,
        const WC: usize,
        const WO: usize,
        const KH: usize,
        const KW: usize,
        P,
    > ConvTranspose2dCheckFor<(B, Dim<C>, Dim<H>, Dim<W>), WC, WO, KH, KW> for P
where
    P: ConvTransposeAxes + ConvTranspose2dSizeFor<(B, Dim<C>, Dim<H>, Dim<W>), WO, KH, KW>,
    conv_transpose2d: TransposeChannelsEqual<C, WC>,
    P::Groups: GroupKind,
    <P::Groups as GroupKind>::Kind: InSplit<conv_transpose2d, C>,
    P::Height: TransposeAxisFits<conv_transpose2d, Height, H, KH>,
    P::Width: TransposeAxisFits<conv_transpose2d, Width, W, KW>,
    (): NonEmpty2<KH, KW>,
    Check<<() as NonEmpty2<KH, KW>>::Bit, conv_transpose2d>: WindowNonEmpty<kernel, KH, KW>,
{
}

/// conv_transpose2d takes a 4-D input: asked of `()` by the impls for other ranks.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "conv_transpose2d takes a 4-D input [batch, channels, height, width]; the input is `{X}`",
    label = "not a 4-D input"
)]
pub trait ConvTranspose2dInputRank<X, const KH: usize> {}

/// The relation of conv_transpose2d: an input of shape `Self` (`[B, C, H, W]`) fits a weight
/// `[WC, WO, KH, KW]` with hyper-parameters `P` ([`ConvTransposeParams`] or
/// [`ConvTransposeParams2d`]), and the output is [`ConvTranspose2dOut`]. Generic code writes
/// this one bound per conv_transpose2d:
///
/// `where (B, Dim<8>, H, W): ConvTranspose2dShape<8, 4, 3, 3, ConvTransposeParams<2, 1, 1>>`
#[diagnostic::on_unimplemented(
    message = "conv_transpose2d: `{Self}` does not fit a weight [{WC}, {WO}, {KH}, {KW}] with `{P}`"
)]
pub trait ConvTranspose2dShape<
    const WC: usize,
    const WO: usize,
    const KH: usize,
    const KW: usize,
    P,
>: ConvTranspose2dSize<WO, KH, KW, P>
{
}

impl<X, const WC: usize, const WO: usize, const KH: usize, const KW: usize, P>
    ConvTranspose2dShape<WC, WO, KH, KW, P> for X
where
    X: ConvTranspose2dSize<WO, KH, KW, P>,
    P: ConvTranspose2dCheckFor<X, WC, WO, KH, KW>,
{
}

/// The output shape of conv_transpose2d on an input `S` (`[B, C, H, W]`) with a weight
/// `[C, WO, KH, KW]` and hyper-parameters `P`: `[B, WO * groups, H_out, W_out]`.
pub type ConvTranspose2dOut<S, const WO: usize, const KH: usize, const KW: usize, P> =
    <S as ConvTranspose2dSize<WO, KH, KW, P>>::Output;

// ---------------------------------------------------------------------------------------------
// Inputs of the wrong rank
// ---------------------------------------------------------------------------------------------

/// Impls of the size and check traits for inputs of a wrong rank, each asking the rank trait
/// (implemented by nothing) of `()`: the error names the rank in one line.
macro_rules! wrong_rank {
    (conv_transpose1d; $($d:ident),*) => {
        impl<$($d,)* const WO: usize, const K: usize, P: ConvTransposeHyperParams>
            ConvTranspose1dSizeFor<($($d,)*), WO, K> for P
        where
            (): ConvTranspose1dInputRank<($($d,)*), K>,
        {
            type Output = ();
            fn out_shape(_: &($($d,)*)) {
                unreachable!("conv_transpose1d: rank checked at compile time")
            }
        }
        impl<$($d,)* const WC: usize, const WO: usize, const K: usize, P: ConvTransposeHyperParams>
            ConvTranspose1dCheckFor<($($d,)*), WC, WO, K> for P
        where
            (): ConvTranspose1dInputRank<($($d,)*), K>,
        {
        }
    };
    (conv_transpose2d; $($d:ident),*) => {
        impl<$($d,)* const WO: usize, const KH: usize, const KW: usize, P: ConvTransposeHyperParams>
            ConvTranspose2dSizeFor<($($d,)*), WO, KH, KW> for P
        where
            (): ConvTranspose2dInputRank<($($d,)*), KH>,
        {
            type Output = ();
            fn out_shape(_: &($($d,)*)) {
                unreachable!("conv_transpose2d: rank checked at compile time")
            }
        }
        impl<
                $($d,)*
                const WC: usize,
                const WO: usize,
                const KH: usize,
                const KW: usize,
                P: ConvTransposeHyperParams,
            > ConvTranspose2dCheckFor<($($d,)*), WC, WO, KH, KW> for P
        where
            (): ConvTranspose2dInputRank<($($d,)*), KH>,
        {
        }
    };
}

wrong_rank!(conv_transpose1d; );
wrong_rank!(conv_transpose1d; X0);
wrong_rank!(conv_transpose1d; X0, X1);
wrong_rank!(conv_transpose1d; X0, X1, X2, X3);
wrong_rank!(conv_transpose1d; X0, X1, X2, X3, X4);
wrong_rank!(conv_transpose2d; );
wrong_rank!(conv_transpose2d; X0);
wrong_rank!(conv_transpose2d; X0, X1);
wrong_rank!(conv_transpose2d; X0, X1, X2);
wrong_rank!(conv_transpose2d; X0, X1, X2, X3, X4);

#[cfg(test)]
mod tests {
    use super::*;

    fn same<T>(_: T, _: T) {}

    #[test]
    fn outputs_are_the_computed_shapes() {
        // (7 - 1)*2 - 2 + 2 + 1 + 1 = 14 and (5 - 1)*2 - 2 + 2 + 1 + 1 = 10; 3 * 2 groups
        type P = ConvTransposeParams<2, 1, 1, 1, 2>;
        let x = (3usize, Dim::<4>, Dim::<7>, Dim::<5>);
        let y: ConvTranspose2dOut<(usize, Dim<4>, Dim<7>, Dim<5>), 3, 3, 3, P> =
            ConvTranspose2dSize::<3, 3, 3, P>::conv_transpose2d_shape(&x);
        same(y, (3usize, Dim::<6>, Dim::<14>, Dim::<10>));
        // per axis: height (4 - 1)*1 + 1*(2 - 1) + 1 = 5 (output padding 0), width
        // (6 - 1)*3 - 0 + 2*(3 - 1) + 2 + 1 = 22
        type Q = ConvTransposeParams2d<1, 3, 0, 0, 0, 2, 1, 2>;
        let z: ConvTranspose2dOut<(Dim<1>, Dim<2>, Dim<4>, Dim<6>), 5, 2, 3, Q> =
            Default::default();
        same(z, (Dim::<1>, Dim::<5>, Dim::<5>, Dim::<22>));
        let w: ConvTranspose1dOut<(usize, Dim<2>, Dim<9>), 4, 5, ConvTransposeParams> =
            (1, Dim, Dim);
        same(w, (1usize, Dim::<4>, Dim::<13>));
    }

    /// Generic over batch, height and width: one bound.
    fn generic_out<B: Dimension, H: Dimension, W: Dimension>(
        x: (B, Dim<8>, H, W),
    ) -> ConvTranspose2dOut<(B, Dim<8>, H, W), 4, 3, 3, ConvTransposeParams<2, 1, 1>>
    where
        (B, Dim<8>, H, W): ConvTranspose2dShape<8, 4, 3, 3, ConvTransposeParams<2, 1, 1>>,
    {
        x.conv_transpose2d_shape()
    }

    /// Generic over the channels, one group: no bound.
    fn generic_channels<const C: usize, const O: usize>(
        x: (usize, Dim<C>, Dim<7>, Dim<7>),
    ) -> (usize, Dim<O>, Dim<14>, Dim<14>) {
        fn out<
            S: ConvTranspose2dShape<C, O, 3, 3, ConvTransposeParams<2, 1, 1>>,
            const C: usize,
            const O: usize,
        >(
            x: S,
        ) -> S::Output {
            x.conv_transpose2d_shape()
        }
        out::<_, C, O>(x)
    }

    #[test]
    fn generic_code_names_the_output_through_one_bound() {
        same(
            generic_out((2usize, Dim, Dim::<7>, Dim::<3>)),
            (2usize, Dim::<4>, Dim::<14>, Dim::<6>),
        );
        same(
            generic_channels::<5, 9>((2, Dim, Dim, Dim)),
            (2usize, Dim::<9>, Dim::<14>, Dim::<14>),
        );
    }
}
