//! The transposed window's algebra (conv_transpose1d, conv_transpose2d): the output size along
//! one axis, computed by the compiler, and its guards, tagged by the op like `window.rs`'s.
//!
//! A transposed convolution spreads each input position over a window of the output: with
//! `K` taps, stride `S`, padding `P`, output padding `OP` and dilation `D`, an input of `N`
//! gives [`TransposeWindowOutDim`] `= (N - 1)S - 2P + D(K - 1) + OP + 1` outputs (PyTorch's
//! `ConvTranspose` formula): the input size of the convolution it transposes.
//!
//! ```
//! use shapetorch::shape::{Dim, TransposeWindowOutDim};
//! // 7 wide, kernel 3, stride 2, padding 1, output padding 1: 6*2 - 2 + 2 + 1 + 1 = 14
//! let _: Dim<14> = TransposeWindowOutDim::<7, 3, 2, 1, 1, 1>::default();
//! // the inverse of conv1d's (14 + 2 - 3)/2 + 1 = 7 (without the output padding: 13)
//! let _: Dim<13> = TransposeWindowOutDim::<7, 3, 2, 1, 0, 1>::default();
//! ```
//!
//! The checks along each axis: stride and dilation at least 1 (`window.rs`'s guards), the
//! output padding below the stride or the dilation ([`OutputPaddingBelow`], PyTorch's rule),
//! and an output of at least one position ([`TransposeFits`]: the padding crops no more than
//! the full output). The arithmetic never underflows (`max(N, 1) - 1`, `max(full, 2P + 1) -
//! 2P`), so a failed guard is the only error.

use std::ops::{Add, BitAnd, BitOr, Mul, Sub};

use typenum::{
    Add1, And, Diff, Gr, GrEq, IsGreater, IsGreaterOrEqual, IsLess, Le, Max, Maximum, Or, Prod,
    Sub1, Sum, B1, U0, U1, U2,
};

use super::bridge::{Check, Holds, Num, ToDim, ToUnsigned, Verdict};
use super::params::TransposeAxis;
use super::window::{AxisWords, DilationNonZero, StrideNonZero};
use super::{ConstDim, Dim};

/// `max(N, 1) - 1`.
type Before<N> = Sub1<Maximum<N, U1>>;
/// The dilated kernel's reach past its first tap, `D(max(K, 1) - 1)`.
type Reach<K, D> = Prod<D, Sub1<Maximum<K, U1>>>;
/// The full output before the padding is cropped: `(N - 1)S + D(K - 1) + OP + 1`.
type Full<N, K, S, OP, D> = Add1<Sum<Sum<Prod<Before<N>, S>, Reach<K, D>>, OP>>;
/// Both ends' padding, `2P`.
type TwoP<P> = Prod<P, U2>;

/// The transposed window's arithmetic on typenum numbers (`Self` is the input size `N`).
#[doc(hidden)]
pub trait TransposeArith<K, S, P, OP, D> {
    /// `max(full, 2P + 1) - 2P`: the output size when it is at least 1.
    type Out;
    /// `B1` when `N >= 1` and `full > 2P`.
    type Fits: Verdict;
    /// `B1` when `OP < S` or `OP < D`.
    type OutputPaddingOk: Verdict;
}

impl<N, K, S, P, OP, D> TransposeArith<K, S, P, OP, D> for N
where
    N: Max<U1> + IsGreaterOrEqual<U1>,
    Maximum<N, U1>: Sub<B1>,
    Before<N>: Mul<S>,
    K: Max<U1>,
    Maximum<K, U1>: Sub<B1>,
    D: Mul<Sub1<Maximum<K, U1>>>,
    Prod<Before<N>, S>: Add<Reach<K, D>>,
    Sum<Prod<Before<N>, S>, Reach<K, D>>: Add<OP>,
    Sum<Sum<Prod<Before<N>, S>, Reach<K, D>>, OP>: Add<B1>,
    P: Mul<U2>,
    TwoP<P>: Add<B1>,
    Full<N, K, S, OP, D>: Max<Add1<TwoP<P>>> + IsGreater<TwoP<P>>,
    Maximum<Full<N, K, S, OP, D>, Add1<TwoP<P>>>: Sub<TwoP<P>>,
    GrEq<N, U1>: BitAnd<Gr<Full<N, K, S, OP, D>, TwoP<P>>>,
    And<GrEq<N, U1>, Gr<Full<N, K, S, OP, D>, TwoP<P>>>: Verdict,
    OP: IsLess<S> + IsLess<D>,
    Le<OP, S>: BitOr<Le<OP, D>>,
    Or<Le<OP, S>, Le<OP, D>>: Verdict,
{
    type Out = Diff<Maximum<Full<N, K, S, OP, D>, Add1<TwoP<P>>>, TwoP<P>>;
    type Fits = And<GrEq<N, U1>, Gr<Full<N, K, S, OP, D>, TwoP<P>>>;
    type OutputPaddingOk = Or<Le<OP, S>, Le<OP, D>>;
}

/// A transposed window's output size along one axis, computed by the compiler, for an input
/// of `Self` = `Dim<N>` and a window of `K` taps with stride `S`, padding `P`, output padding
/// `OP` and dilation `D`: `(N - 1)S - 2P + D(K - 1) + OP + 1`, and the bits the guards read.
#[diagnostic::on_unimplemented(
    message = "the transposed window arithmetic needs static numbers: an input of `{Self}`, a window of {K}, stride {S}, padding {P}, output padding {OP}, dilation {D}",
    label = "a generic number, or one above 4096",
    note = "in generic code, add the op's shape relation to the where-clause (it is named below: `required for .. to implement ..Shape`)"
)]
pub trait TransposeWindowOut<
    const K: usize,
    const S: usize,
    const P: usize,
    const OP: usize,
    const D: usize,
>
{
    /// The output size.
    type Output: ConstDim;
    /// `B1` when the output has at least one position.
    type Fits: Verdict;
    /// `B1` when the output padding is below the stride or the dilation.
    type OutputPaddingOk: Verdict;
    /// `B1` when the stride is at least 1.
    type StrideOk: Verdict;
    /// `B1` when the dilation is at least 1.
    type DilationOk: Verdict;
}

/// The typenum numbers of the window's settings, in the order [`TransposeArith`] takes them.
type Arith<
    const N: usize,
    const K: usize,
    const S: usize,
    const P: usize,
    const OP: usize,
    const D: usize,
> = <Num<Dim<N>> as TransposeArith<
    Num<Dim<K>>,
    Num<Dim<S>>,
    Num<Dim<P>>,
    Num<Dim<OP>>,
    Num<Dim<D>>,
>>::Out;

// `do_not_recommend`: a generic number here is reported as this trait, whose message says
// so, not as typenum's.
#[diagnostic::do_not_recommend]
impl<
        const N: usize,
        const K: usize,
        const S: usize,
        const P: usize,
        const OP: usize,
        const D: usize,
    > TransposeWindowOut<K, S, P, OP, D> for Dim<N>
where
    Dim<N>: ToUnsigned,
    Dim<K>: ToUnsigned,
    Dim<S>: ToUnsigned,
    Dim<P>: ToUnsigned,
    Dim<OP>: ToUnsigned,
    Dim<D>: ToUnsigned,
    Num<Dim<N>>: TransposeArith<Num<Dim<K>>, Num<Dim<S>>, Num<Dim<P>>, Num<Dim<OP>>, Num<Dim<D>>>,
    Arith<N, K, S, P, OP, D>: ToDim,
    Num<Dim<S>>: IsGreater<U0>,
    Num<Dim<D>>: IsGreater<U0>,
    Gr<Num<Dim<S>>, U0>: Verdict,
    Gr<Num<Dim<D>>, U0>: Verdict,
{
    type Output = <Arith<N, K, S, P, OP, D> as ToDim>::Output;
    type Fits = <Num<Dim<N>> as TransposeArith<
        Num<Dim<K>>,
        Num<Dim<S>>,
        Num<Dim<P>>,
        Num<Dim<OP>>,
        Num<Dim<D>>,
    >>::Fits;
    type OutputPaddingOk = <Num<Dim<N>> as TransposeArith<
        Num<Dim<K>>,
        Num<Dim<S>>,
        Num<Dim<P>>,
        Num<Dim<OP>>,
        Num<Dim<D>>,
    >>::OutputPaddingOk;
    type StrideOk = Gr<Num<Dim<S>>, U0>;
    type DilationOk = Gr<Num<Dim<D>>, U0>;
}

/// The output size of a transposed window along one axis: input `N`, window `K`, stride `S`,
/// padding `P`, output padding `OP`, dilation `D`.
pub type TransposeWindowOutDim<
    const N: usize,
    const K: usize,
    const S: usize,
    const P: usize,
    const OP: usize,
    const D: usize,
> = <Dim<N> as TransposeWindowOut<K, S, P, OP, D>>::Output;

// ---------------------------------------------------------------------------------------------
// Guards
// ---------------------------------------------------------------------------------------------

/// The output padding is below the stride or the dilation along one axis (PyTorch's rule).
#[diagnostic::on_unimplemented(
    message = "{Self}: the output padding along the {Name} ({OP}) is not below the stride ({S}) or the dilation ({D})",
    label = "output padding too large",
    note = "output_padding picks one of the output sizes that the strided convolution maps back to the same input size, so PyTorch requires output_padding < stride or output_padding < dilation"
)]
pub trait OutputPaddingBelow<Name, const OP: usize, const S: usize, const D: usize> {}
#[diagnostic::do_not_recommend]
impl<Name, const OP: usize, const S: usize, const D: usize> OutputPaddingBelow<Name, OP, S, D>
    for Holds
{
}

/// A transposed window leaves at least one output position along one axis.
#[diagnostic::on_unimplemented(
    message = "{Self}: no output along the {Name}: (input {N} - 1)*stride {S} + dilation {D}*(kernel {K} - 1) + output padding {OP} + 1 is not above 2*padding {P}",
    label = "the padding crops the whole output",
    note = "the output size is (input - 1)*stride - 2*padding + dilation*(kernel - 1) + output_padding + 1, and must be at least 1"
)]
pub trait TransposeFits<
    Name,
    const N: usize,
    const K: usize,
    const S: usize,
    const P: usize,
    const OP: usize,
    const D: usize,
>
{
}
#[diagnostic::do_not_recommend]
impl<
        Name,
        const N: usize,
        const K: usize,
        const S: usize,
        const P: usize,
        const OP: usize,
        const D: usize,
    > TransposeFits<Name, N, K, S, P, OP, D> for Holds
{
}

// ---------------------------------------------------------------------------------------------
// Per axis, on `TransposeAxis<S, P, OP, D>`
// ---------------------------------------------------------------------------------------------

/// The output size along one axis whose settings are the [`TransposeAxis`] `Self`: an input
/// of `N`, a window of `K`.
pub trait TransposeAxisOut<const N: usize, const K: usize> {
    /// The output size.
    type Output: ConstDim;
}

impl<
        const N: usize,
        const K: usize,
        const S: usize,
        const P: usize,
        const OP: usize,
        const D: usize,
    > TransposeAxisOut<N, K> for TransposeAxis<S, P, OP, D>
where
    Dim<N>: TransposeWindowOut<K, S, P, OP, D>,
{
    type Output = <Dim<N> as TransposeWindowOut<K, S, P, OP, D>>::Output;
}

/// Along the axis `Along`, a transposed window of `K` taps over an input of `N` with the
/// settings of `Self` (a [`TransposeAxis`]) leaves an output, its output padding is below the
/// stride or the dilation, and stride and dilation are at least 1; failures name the op `Op`.
pub trait TransposeAxisFits<Op, Along, const N: usize, const K: usize> {}

impl<
        Op,
        Along: AxisWords,
        const N: usize,
        const K: usize,
        const S: usize,
        const P: usize,
        const OP: usize,
        const D: usize,
    > TransposeAxisFits<Op, Along, N, K> for TransposeAxis<S, P, OP, D>
where
    Dim<N>: TransposeWindowOut<K, S, P, OP, D>,
    Check<<Dim<N> as TransposeWindowOut<K, S, P, OP, D>>::StrideOk, Op>: StrideNonZero<S>,
    Check<<Dim<N> as TransposeWindowOut<K, S, P, OP, D>>::DilationOk, Op>: DilationNonZero<D>,
    Check<<Dim<N> as TransposeWindowOut<K, S, P, OP, D>>::OutputPaddingOk, Op>:
        OutputPaddingBelow<Along::Name, OP, S, D>,
    Check<<Dim<N> as TransposeWindowOut<K, S, P, OP, D>>::Fits, Op>:
        TransposeFits<Along::Name, N, K, S, P, OP, D>,
{
}

#[cfg(test)]
mod tests {
    use super::*;
    use typenum::B0;

    /// PyTorch's formula on `usize`s, `None` below 1.
    fn formula(n: usize, k: usize, s: usize, p: usize, op: usize, d: usize) -> Option<usize> {
        let full = (n.checked_sub(1)? * s + d * (k - 1) + op + 1).checked_sub(2 * p)?;
        (full >= 1).then_some(full)
    }

    fn agrees<
        const N: usize,
        const K: usize,
        const S: usize,
        const P: usize,
        const OP: usize,
        const D: usize,
    >()
    where
        Dim<N>: TransposeWindowOut<K, S, P, OP, D>,
    {
        use crate::shape::Dimension;
        let typed = TransposeWindowOutDim::<N, K, S, P, OP, D>::default().size();
        assert_eq!(
            Some(typed),
            formula(N, K, S, P, OP, D),
            "{N} {K} {S} {P} {OP} {D}"
        );
        // below the stride, the convolution it transposes maps that size back to N
        if OP < S {
            let back = crate::ops::conv::ConvGeometry::out_size(typed, K, S, P, D);
            assert_eq!(back, Some(N), "{N} {K} {S} {P} {OP} {D}");
        }
    }

    #[test]
    fn type_level_output_size_matches_the_formula_and_inverts_the_convolution() {
        agrees::<7, 3, 2, 1, 1, 1>();
        agrees::<7, 3, 2, 1, 0, 1>();
        agrees::<5, 4, 1, 0, 0, 1>();
        agrees::<4, 3, 3, 2, 2, 1>();
        agrees::<6, 3, 2, 2, 1, 2>();
        agrees::<1, 1, 1, 0, 0, 1>();
        agrees::<9, 5, 1, 2, 0, 1>();
        agrees::<3, 2, 2, 0, 1, 3>();
        agrees::<3, 3, 1, 0, 1, 2>(); // OP = 1 not below S = 1, below D = 2
    }

    #[test]
    fn check_bits() {
        // (2 - 1)*1 + 0 + 0 + 1 = 2 is not above 2*1
        let _: B0 = <Dim<2> as TransposeWindowOut<1, 1, 1, 0, 1>>::Fits::default();
        let _: B1 = <Dim<2> as TransposeWindowOut<3, 1, 1, 0, 1>>::Fits::default();
        let _: B0 = <Dim<0> as TransposeWindowOut<3, 1, 0, 0, 1>>::Fits::default();
        let _: B0 = <Dim<4> as TransposeWindowOut<3, 2, 0, 2, 1>>::OutputPaddingOk::default();
        let _: B1 = <Dim<4> as TransposeWindowOut<3, 2, 0, 2, 3>>::OutputPaddingOk::default();
        let _: B0 = <Dim<4> as TransposeWindowOut<3, 0, 0, 0, 1>>::StrideOk::default();
    }
}
