//! Convolution shape relations: the output size `(W + 2P - D(K-1) - 1)/S + 1` computed by the
//! compiler, and the checks (channels agree, kernel fits, stride and dilation at least 1) whose
//! errors name the dims in words and decimal numbers.
//!
//! ```
//! use shapetorch::shape::{ConvOut, ConvOutDim, Dim};
//! // 28 wide, kernel 5, stride 1, padding 0, dilation 1 -> 24
//! let _: Dim<24> = ConvOutDim::<28, 5, 1, 0, 1>::default();
//! // 11 wide, kernel 4, stride 2, padding 1 -> (11 + 2 - 3 - 1)/2 + 1 = 5
//! let _: Dim<5> = ConvOutDim::<11, 4, 2, 1, 1>::default();
//! ```

use std::ops::{Add, Div, Mul, Sub};

use typenum::{
    Add1, Diff, Eq, Gr, GrEq, IsEqual, IsGreater, IsGreaterOrEqual, Max, Maximum, Prod, Quot, Sub1,
    Sum, B1, U0, U1, U2,
};

use super::bridge::{Num, ToDim, ToUnsigned};
use super::{Dim, Dimension};

/// Output size of a convolution along one axis, computed by the compiler, for an input of
/// `Self` = `Dim<W>` and a kernel of `K` taps with stride `S`, padding `P` (each side) and
/// dilation `D`: `(W + 2P - D(K-1) - 1)/S + 1`.
///
/// The arithmetic never underflows or divides by zero, so that the checks below (on the
/// `Fits`, `StrideOk` and `DilationOk` bits) are the only errors a bad shape produces.
pub trait ConvOut<const K: usize, const S: usize, const P: usize, const D: usize> {
    /// The output size.
    type Output: Dimension + Default;
    /// typenum's `B1` when the dilated kernel fits in the padded input, else `B0`.
    type Fits;
    /// `B1` when the stride is at least 1.
    type StrideOk;
    /// `B1` when the dilation is at least 1.
    type DilationOk;
}

/// The padded input width `W + 2P`, as a typenum number.
type Padded<W, P> = Sum<W, Prod<P, U2>>;
/// The dilated kernel's span `D(max(K,1) - 1) + 1`, as a typenum number.
type Span<K, D> = Add1<Prod<D, Sub1<Maximum<K, U1>>>>;
/// `(max(W+2P, span) - span) / max(S, 1) + 1`: the output size, safe from underflow.
type OutSize<W, K, S, P, D> =
    Add1<Quot<Diff<Maximum<Padded<W, P>, Span<K, D>>, Span<K, D>>, Maximum<S, U1>>>;

impl<const W: usize, const K: usize, const S: usize, const P: usize, const D: usize>
    ConvOut<K, S, P, D> for Dim<W>
where
    Dim<W>: ToUnsigned,
    Dim<K>: ToUnsigned,
    Dim<S>: ToUnsigned,
    Dim<P>: ToUnsigned,
    Dim<D>: ToUnsigned,
    // W + 2P
    Num<Dim<P>>: Mul<U2>,
    Num<Dim<W>>: Add<Prod<Num<Dim<P>>, U2>>,
    // D(max(K, 1) - 1) + 1
    Num<Dim<K>>: Max<U1>,
    Maximum<Num<Dim<K>>, U1>: Sub<B1>,
    Num<Dim<D>>: Mul<Sub1<Maximum<Num<Dim<K>>, U1>>>,
    Prod<Num<Dim<D>>, Sub1<Maximum<Num<Dim<K>>, U1>>>: Add<B1>,
    // (max(padded, span) - span) / max(S, 1) + 1
    Padded<Num<Dim<W>>, Num<Dim<P>>>:
        Max<Span<Num<Dim<K>>, Num<Dim<D>>>> + IsGreaterOrEqual<Span<Num<Dim<K>>, Num<Dim<D>>>>,
    Maximum<Padded<Num<Dim<W>>, Num<Dim<P>>>, Span<Num<Dim<K>>, Num<Dim<D>>>>:
        Sub<Span<Num<Dim<K>>, Num<Dim<D>>>>,
    Num<Dim<S>>: Max<U1> + IsGreater<U0>,
    Num<Dim<D>>: IsGreater<U0>,
    Diff<
        Maximum<Padded<Num<Dim<W>>, Num<Dim<P>>>, Span<Num<Dim<K>>, Num<Dim<D>>>>,
        Span<Num<Dim<K>>, Num<Dim<D>>>,
    >: Div<Maximum<Num<Dim<S>>, U1>>,
    Quot<
        Diff<
            Maximum<Padded<Num<Dim<W>>, Num<Dim<P>>>, Span<Num<Dim<K>>, Num<Dim<D>>>>,
            Span<Num<Dim<K>>, Num<Dim<D>>>,
        >,
        Maximum<Num<Dim<S>>, U1>,
    >: Add<B1>,
    OutSize<Num<Dim<W>>, Num<Dim<K>>, Num<Dim<S>>, Num<Dim<P>>, Num<Dim<D>>>: ToDim,
{
    type Output =
        <OutSize<Num<Dim<W>>, Num<Dim<K>>, Num<Dim<S>>, Num<Dim<P>>, Num<Dim<D>>> as ToDim>::Output;
    type Fits = GrEq<Padded<Num<Dim<W>>, Num<Dim<P>>>, Span<Num<Dim<K>>, Num<Dim<D>>>>;
    type StrideOk = Gr<Num<Dim<S>>, U0>;
    type DilationOk = Gr<Num<Dim<D>>, U0>;
}

/// The output size of a convolution along one axis: input `W`, kernel `K`, stride `S`,
/// padding `P`, dilation `D`.
pub type ConvOutDim<
    const W: usize,
    const K: usize,
    const S: usize,
    const P: usize,
    const D: usize,
> = <Dim<W> as ConvOut<K, S, P, D>>::Output;

/// Whether `Self` (`Dim<A>`) equals `B`, as a typenum bit (`B1` or `B0`).
///
/// The checks below bound this bit rather than asking `ChannelsMatch<A, A>` of `A` and `B`
/// directly: with a single impl for equal numbers, the compiler would *infer* `B = A` and then
/// report a bare type mismatch (`expected 3, found 5`) instead of the check's message.
pub trait DimEq<const B: usize> {
    /// `B1` when the dims are equal.
    type Bit;
}

impl<const A: usize, const B: usize> DimEq<B> for Dim<A>
where
    Dim<A>: ToUnsigned,
    Dim<B>: ToUnsigned,
    Num<Dim<A>>: IsEqual<Num<Dim<B>>>,
{
    type Bit = Eq<Num<Dim<A>>, Num<Dim<B>>>;
}

/// conv: the input's channels equal the weight's input channels.
#[diagnostic::on_unimplemented(
    message = "convolution: input channels differ: the input has {X}, the weight expects {WC}",
    label = "channel counts differ",
    note = "the weight is [out_channels, in_channels, kernel...]; its second dim must equal the input's channel dim"
)]
pub trait ChannelsMatch<const X: usize, const WC: usize> {}
#[diagnostic::do_not_recommend]
impl<const X: usize, const WC: usize> ChannelsMatch<X, WC> for B1 {}

/// conv: the bias has one entry per output channel.
#[diagnostic::on_unimplemented(
    message = "convolution: the bias has {BL} entries but the weight has {O} output channels",
    label = "bias length differs from out_channels"
)]
pub trait BiasMatches<const BL: usize, const O: usize> {}
#[diagnostic::do_not_recommend]
impl<const BL: usize, const O: usize> BiasMatches<BL, O> for B1 {}

/// conv: the dilated kernel fits the padded input's width.
#[diagnostic::on_unimplemented(
    message = "convolution: the kernel ({K} wide, dilation {D}) is wider than the input ({W} wide, padding {P})",
    label = "kernel wider than the padded input",
    note = "the output width (W + 2*padding - dilation*(K-1) - 1)/stride + 1 would be below 1"
)]
pub trait KernelFitsWidth<const W: usize, const K: usize, const P: usize, const D: usize> {}
#[diagnostic::do_not_recommend]
impl<const W: usize, const K: usize, const P: usize, const D: usize> KernelFitsWidth<W, K, P, D>
    for B1
{
}

/// conv2d: the dilated kernel fits the padded input's height.
#[diagnostic::on_unimplemented(
    message = "convolution: the kernel ({K} high, dilation {D}) is taller than the input ({H} high, padding {P})",
    label = "kernel taller than the padded input",
    note = "the output height (H + 2*padding - dilation*(K-1) - 1)/stride + 1 would be below 1"
)]
pub trait KernelFitsHeight<const H: usize, const K: usize, const P: usize, const D: usize> {}
#[diagnostic::do_not_recommend]
impl<const H: usize, const K: usize, const P: usize, const D: usize> KernelFitsHeight<H, K, P, D>
    for B1
{
}

/// conv: the stride is at least 1.
#[diagnostic::on_unimplemented(
    message = "convolution: the stride is {S}; it must be at least 1",
    label = "stride of zero"
)]
pub trait StrideNonZero<const S: usize> {}
#[diagnostic::do_not_recommend]
impl<const S: usize> StrideNonZero<S> for B1 {}

/// conv: the dilation is at least 1.
#[diagnostic::on_unimplemented(
    message = "convolution: the dilation is {D}; it must be at least 1",
    label = "dilation of zero"
)]
pub trait DilationNonZero<const D: usize> {}
#[diagnostic::do_not_recommend]
impl<const D: usize> DilationNonZero<D> for B1 {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::conv::ConvGeometry;
    use typenum::B0;

    /// The type-level size equals the run-time function on the same numbers.
    fn agrees<const W: usize, const K: usize, const S: usize, const P: usize, const D: usize>()
    where
        Dim<W>: ConvOut<K, S, P, D>,
    {
        let typed = ConvOutDim::<W, K, S, P, D>::default().size();
        assert_eq!(
            Some(typed),
            ConvGeometry::out_size(W, K, S, P, D),
            "W={W} K={K} S={S} P={P} D={D}"
        );
    }

    #[test]
    fn type_level_output_size_matches_runtime_formula() {
        agrees::<28, 5, 1, 0, 1>();
        agrees::<12, 5, 1, 0, 1>();
        agrees::<11, 4, 2, 1, 1>();
        agrees::<10, 3, 1, 0, 2>();
        agrees::<7, 3, 3, 2, 1>();
        agrees::<5, 5, 1, 0, 1>();
        agrees::<56, 3, 1, 1, 1>();
        agrees::<1, 1, 1, 0, 1>();
        agrees::<3, 5, 1, 1, 1>();
    }

    #[test]
    fn fits_bit_is_false_for_a_kernel_wider_than_the_input() {
        let _: B0 = <Dim<3> as ConvOut<5, 1, 0, 1>>::Fits::default();
        let _: B1 = <Dim<3> as ConvOut<5, 1, 1, 1>>::Fits::default();
        let _: B0 = <Dim<8> as ConvOut<3, 0, 0, 1>>::StrideOk::default();
        let _: B0 = <Dim<8> as ConvOut<3, 1, 0, 0>>::DilationOk::default();
    }
}
