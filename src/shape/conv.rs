//! Convolution shape relations: one named bound per op ([`Conv1dShape`], [`Conv2dShape`]) whose
//! associated types are the output sizes `(W + 2P - D(K-1) - 1)/S + 1`, computed by the
//! compiler, and whose checks (channels agree, kernel fits, stride, dilation and kernel at least
//! 1) fail with errors that name the dims in words and decimal numbers.
//!
//! ```
//! use shapetorch::shape::{Conv2dOut, Conv2dShape, ConvOutDim, ConvParams, Dim, Dimension};
//! // 28 wide, kernel 5, stride 1, padding 0, dilation 1 -> 24
//! let _: Dim<24> = ConvOutDim::<28, 5, 1, 0, 1>::default();
//! // 11 wide, kernel 4, stride 2, padding 1 -> (11 + 2 - 3 - 1)/2 + 1 = 5
//! let _: Dim<5> = ConvOutDim::<11, 4, 2, 1, 1>::default();
//!
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
//! - `P: Conv2dSizeFor<X, KH, KW>`: the output sizes, arithmetic only. [`Conv2dSize`] (a
//!   supertrait of the relation, so users still write one bound) names them; the checks are not
//!   proven a second time when a generic caller names the output.
//! - `P: Conv2dCheckFor<X, WC, KH, KW>`: the checks, today's guard bounds. Each guard is a marker
//!   trait with const parameters, implemented only for typenum's `B1`, whose
//!   `#[diagnostic::on_unimplemented]` message prints the numbers in decimal; rustc reports the
//!   innermost failing bound, so a bad shape in concrete code reads, in its first line,
//!   "convolution: input channels differ: the input has 3, the weight expects 5".
//!
//! Both are implemented per hyper-parameters type ([`ConvParams`], [`ConvParams2d`] with its
//! values per axis, [`Minitorch`]); a new one is added beside them without changing the
//! relations. Because `P` is the *self*
//! type, rustc does not look at these impls before the call's last argument has fixed `P`, so it
//! never guesses a weight's channel count from the input's (which would turn the channel
//! message into a bare "expected 3, found 5"). The check trait has the size trait as a
//! supertrait, so when both fail (a 3-D input, or a generic input without the bound) rustc
//! reports only the check: one error, whose note spells the where-clause to add.

use std::fmt::Debug;
use std::ops::{Add, BitAnd, Div, Mul, Sub};

use typenum::{
    Add1, And, Diff, Eq, Gr, GrEq, IsEqual, IsGreater, IsGreaterOrEqual, Max, Maximum, Prod, Quot,
    Sub1, Sum, B1, U0, U1, U2,
};

use super::bridge::{Num, ToDim, ToUnsigned};
use super::{Dim, Dimension};

// ---------------------------------------------------------------------------------------------
// Hyper-parameters
// ---------------------------------------------------------------------------------------------

/// Convolution hyper-parameters as types, in PyTorch's order: `ConvParams::<STRIDE, PADDING,
/// DILATION>`. Padding is the number of zeros on each side; stride and dilation apply to every
/// spatial axis. Trailing ones may be left out (`ConvParams::<2>` is stride 2, no padding,
/// dilation 1); `ConvParams::DEFAULT` and `ConvParams::default()` are `<1, 0, 1>`.
///
/// ```
/// use shapetorch::prelude::*;
/// let x = Tensor3::<f32, 2, 3, 10>::zeros();
/// let w = Tensor3::<f32, 4, 3, 3>::zeros();
/// let _: Tensor3<f32, 2, 4, 8> = x.conv1d(&w, ConvParams::default());
/// let _: Tensor3<f32, 2, 4, 8> = x.conv1d(&w, ConvParams::DEFAULT);
/// let _: Tensor3<f32, 2, 4, 4> = x.conv1d(&w, ConvParams::<2>); // (10 - 3)/2 + 1
/// let _: Tensor3<f32, 2, 4, 5> = x.conv1d(&w, ConvParams::<2, 1>); // (10 + 2 - 3)/2 + 1
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConvParams<const STRIDE: usize = 1, const PADDING: usize = 0, const DILATION: usize = 1>;

impl ConvParams {
    /// PyTorch's defaults: stride 1, no padding, dilation 1.
    pub const DEFAULT: ConvParams<1, 0, 1> = ConvParams;

    /// PyTorch's defaults, `ConvParams::<1, 0, 1>`. This inherent function shadows
    /// `Default::default` for the bare path `ConvParams::default()`, whose const parameters
    /// Rust would otherwise not infer (it does not fall back to their defaults);
    /// `ConvParams::<2, 1, 1>::default()` still goes to the derived `Default`.
    #[allow(clippy::should_implement_trait)]
    pub const fn default() -> ConvParams<1, 0, 1> {
        ConvParams
    }
}

/// The teaching convention's hyper-parameters (`conv1d_minitorch`, `conv2d_minitorch`): the
/// output as large as the input, the kernel anchored at the top-left, zero past the bottom and
/// right edges. The same as stride 1, dilation 1 and `K - 1` zeros of padding after the input
/// only. Its relations accept a runtime height and width too.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Minitorch;

/// conv2d hyper-parameters per axis, as PyTorch's tuples give them, in PyTorch's order:
/// `ConvParams2d::<SH, SW, PH, PW, DH, DW>` is `conv2d(x, w, stride=(SH, SW), padding=(PH, PW),
/// dilation=(DH, DW))`. Trailing ones may be left out (defaults: stride 1, no padding, dilation
/// 1). The output height and width are computed by the compiler from each axis's own values.
///
/// Each axis runs with its own values, forward and backward: `padding=(0, 2)` keeps the width
/// of a `1 x 5` kernel, `stride=(1, 2)` halves the width only, `dilation=(3, 1)` spreads the
/// kernel's rows only.
///
/// ```
/// use shapetorch::prelude::*;
/// let x = Tensor4::<f32, 2, 3, 6, 9>::zeros();
/// let w = Tensor4::<f32, 4, 3, 1, 5>::zeros();
/// let y: Tensor4<f32, 2, 4, 6, 9> = x.conv2d(&w, ConvParams2d::<1, 1, 0, 2, 1, 1>);
/// let y2: Tensor4<f32, 2, 4, 6, 5> = x.conv2d(&w, ConvParams2d::<1, 2, 0, 2>); // (9 + 4 - 5)/2 + 1
/// let w3 = Tensor4::<f32, 4, 3, 2, 3>::zeros();
/// // height (6 - 3*(2 - 1) - 1)/1 + 1 = 3, width (9 - 3)/1 + 1 = 7
/// let y3: Tensor4<f32, 2, 4, 3, 7> = x.conv2d(&w3, ConvParams2d::<1, 1, 0, 0, 3, 1>);
/// # let _ = (y, y2, y3);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConvParams2d<
    const SH: usize = 1,
    const SW: usize = 1,
    const PH: usize = 0,
    const PW: usize = 0,
    const DH: usize = 1,
    const DW: usize = 1,
>;

/// Hyper-parameters of a convolution as the kernels need them at run time. Implemented by
/// [`ConvParams`], [`ConvParams2d`] and [`Minitorch`]; the shape relations ([`Conv1dShape`],
/// [`Conv2dShape`]) are implemented per hyper-parameters type.
pub trait ConvHyperParams: Copy + Debug + Default + Send + Sync + 'static {
    /// Step between output positions, in input positions, along every spatial axis (for
    /// [`ConvParams2d`], along the width).
    const STRIDE: usize;
    /// Zeros before the first row and column (top and left; for [`ConvParams2d`], left).
    const PADDING: usize;
    /// Step between kernel taps, in input positions (for [`ConvParams2d`], along the width).
    const DILATION: usize;
    /// conv2d's stride `[along the height, along the width]`.
    const STRIDE_HW: [usize; 2] = [Self::STRIDE; 2];
    /// conv2d's padding `[top and bottom, left and right]`.
    const PADDING_HW: [usize; 2] = [Self::PADDING; 2];
    /// conv2d's dilation `[along the height, along the width]`.
    const DILATION_HW: [usize; 2] = [Self::DILATION; 2];
}

impl<const S: usize, const P: usize, const D: usize> ConvHyperParams for ConvParams<S, P, D> {
    const STRIDE: usize = S;
    const PADDING: usize = P;
    const DILATION: usize = D;
}

impl<
        const SH: usize,
        const SW: usize,
        const PH: usize,
        const PW: usize,
        const DH: usize,
        const DW: usize,
    > ConvHyperParams for ConvParams2d<SH, SW, PH, PW, DH, DW>
{
    const STRIDE: usize = SW;
    const PADDING: usize = PW;
    const DILATION: usize = DW;
    const STRIDE_HW: [usize; 2] = [SH, SW];
    const PADDING_HW: [usize; 2] = [PH, PW];
    const DILATION_HW: [usize; 2] = [DH, DW];
}

impl ConvHyperParams for Minitorch {
    const STRIDE: usize = 1;
    const PADDING: usize = 0;
    const DILATION: usize = 1;
}

// ---------------------------------------------------------------------------------------------
// Output size along one axis
// ---------------------------------------------------------------------------------------------

/// Output size of a convolution along one axis, computed by the compiler, for an input of
/// `Self` = `Dim<W>` and a kernel of `K` taps with stride `S`, padding `P` (each side) and
/// dilation `D`: `(W + 2P - D(K-1) - 1)/S + 1`.
///
/// The arithmetic never underflows or divides by zero, so that the checks on the `Fits`,
/// `StrideOk`, `DilationOk` and `KernelOk` bits are the only errors a bad shape produces.
pub trait ConvOut<const K: usize, const S: usize, const P: usize, const D: usize> {
    /// The output size.
    type Output: Dimension + Default;
    /// typenum's `B1` when the dilated kernel fits in the padded input, else `B0`.
    type Fits;
    /// `B1` when the stride is at least 1.
    type StrideOk;
    /// `B1` when the dilation is at least 1.
    type DilationOk;
    /// `B1` when the kernel has at least 1 tap.
    type KernelOk;
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
    Num<Dim<K>>: Max<U1> + IsGreater<U0>,
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
    type KernelOk = Gr<Num<Dim<K>>, U0>;
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
/// The teaching-convention checks bound this bit rather than asking `ChannelsEqual<A, B>` of
/// `()`: their hyper-parameters are fixed before the weight is read, and with a single impl for
/// equal numbers the compiler would *infer* the weight's channels from the input's and report a
/// bare type mismatch (`expected 3, found 5`) instead of the check's message.
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

// ---------------------------------------------------------------------------------------------
// Guards: one marker trait per check, its message naming the dims in decimal
// ---------------------------------------------------------------------------------------------

/// conv: the input's channels equal the weight's input channels (asked of `()`, implemented
/// for equal numbers). Needs no typenum, so a layer generic over its channels needs no bound.
#[diagnostic::on_unimplemented(
    message = "convolution: input channels differ: the input has {X}, the weight expects {WC}",
    label = "channel counts differ",
    note = "the weight is [out_channels, in_channels, kernel...]; its second dim must equal the input's channel dim"
)]
pub trait ChannelsEqual<const X: usize, const WC: usize> {}
impl<T: ?Sized, const X: usize> ChannelsEqual<X, X> for T {}

/// conv (teaching convention): the input's channels equal the weight's input channels, on the
/// [`DimEq`] bit.
#[diagnostic::on_unimplemented(
    message = "convolution: input channels differ: the input has {X}, the weight expects {WC}",
    label = "channel counts differ",
    note = "the weight is [out_channels, in_channels, kernel...]; its second dim must equal the input's channel dim"
)]
pub trait ChannelsMatch<const X: usize, const WC: usize> {}
#[diagnostic::do_not_recommend]
impl<const X: usize, const WC: usize> ChannelsMatch<X, WC> for B1 {}

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

/// conv1d: the kernel has at least one tap (PyTorch raises on an empty kernel; the loops would
/// silently return zeros).
#[diagnostic::on_unimplemented(
    message = "convolution: the kernel is {K} wide; it needs at least 1 tap",
    label = "empty kernel",
    note = "the weight is [out_channels, in_channels, kernel_width]"
)]
pub trait KernelNonZero<const K: usize> {}
#[diagnostic::do_not_recommend]
impl<const K: usize> KernelNonZero<K> for B1 {}

/// conv2d: the kernel has at least one tap along each axis.
#[diagnostic::on_unimplemented(
    message = "convolution: the kernel is {KH} x {KW}; it needs at least 1 tap along each axis",
    label = "empty kernel",
    note = "the weight is [out_channels, in_channels, kernel_height, kernel_width]"
)]
pub trait KernelNonEmpty<const KH: usize, const KW: usize> {}
#[diagnostic::do_not_recommend]
impl<const KH: usize, const KW: usize> KernelNonEmpty<KH, KW> for B1 {}

// ---------------------------------------------------------------------------------------------
// The batch dim
// ---------------------------------------------------------------------------------------------

/// The first (batch) dim of a shape, which shape-keeping ops pass through unchanged.
///
/// Deliberately not a supertrait of the relations: a where-clause such as
/// `(B, C, H, W): Conv2dShape<..>` would then hide the impl below, and the batch of the output
/// type would stay `<(B, C, H, W) as BatchDim>::Batch` instead of `B`.
pub trait BatchDim {
    /// The batch dim's type (`usize` or `Dim<N>`).
    type Batch: Dimension;
    /// The batch dim's value.
    fn batch(&self) -> Self::Batch;
}

macro_rules! batch_dim {
    ($($d:ident),*) => {
        impl<A: Dimension, $($d: Dimension),*> BatchDim for (A, $($d,)*) {
            type Batch = A;
            #[inline]
            fn batch(&self) -> A {
                self.0
            }
        }
    };
}
batch_dim!();
batch_dim!(B);
batch_dim!(B, C);
batch_dim!(B, C, D);
batch_dim!(B, C, D, F);

// ---------------------------------------------------------------------------------------------
// conv1d
// ---------------------------------------------------------------------------------------------

/// conv1d's output width for an input shape `Self` (`[B, C, W]`), a kernel of `K` taps and the
/// hyper-parameters `P`: arithmetic only, the supertrait of [`Conv1dShape`].
pub trait Conv1dSize<const K: usize, P> {
    /// The output width.
    type Width: Dimension;
    /// The output width's value (a runtime width passes through the teaching convention).
    fn out_width(&self) -> Self::Width;
}

impl<X, const K: usize, P> Conv1dSize<K, P> for X
where
    P: Conv1dSizeFor<X, K>,
{
    type Width = <P as Conv1dSizeFor<X, K>>::Width;
    #[inline]
    fn out_width(&self) -> Self::Width {
        P::out_width(self)
    }
}

/// [`Conv1dSize`], implemented per hyper-parameters type `Self`.
#[doc(hidden)]
pub trait Conv1dSizeFor<X, const K: usize> {
    /// The output width.
    type Width: Dimension;
    /// The output width's value.
    fn out_width(x: &X) -> Self::Width;
}

impl<B, C, const W: usize, const K: usize, const S: usize, const P: usize, const D: usize>
    Conv1dSizeFor<(B, C, Dim<W>), K> for ConvParams<S, P, D>
where
    Dim<W>: ConvOut<K, S, P, D>,
{
    type Width = <Dim<W> as ConvOut<K, S, P, D>>::Output;
    fn out_width(_: &(B, C, Dim<W>)) -> Self::Width {
        Default::default()
    }
}

impl<B, C, W: Dimension, const K: usize> Conv1dSizeFor<(B, C, W), K> for Minitorch {
    type Width = W;
    fn out_width(x: &(B, C, W)) -> W {
        x.2
    }
}

/// conv1d's checks, implemented per hyper-parameters type `Self`; its message is the one for
/// an input whose channels or width are not static (`usize`, or a generic dim without the
/// bound).
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "conv1d needs static channels and width (`Dim<N>`); the input is `{X}`",
    label = "channels or width not a `Dim<N>`",
    note = "in generic code, add the op's relation: `where {X}: Conv1dShape<{WC}, {K}, {Self}>`"
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
    (): ChannelsEqual<C, WC>,
    Dim<W>: ConvOut<K, S, P, D>,
    <Dim<W> as ConvOut<K, S, P, D>>::Fits: KernelFitsWidth<W, K, P, D>,
    <Dim<W> as ConvOut<K, S, P, D>>::StrideOk: StrideNonZero<S>,
    <Dim<W> as ConvOut<K, S, P, D>>::DilationOk: DilationNonZero<D>,
    <Dim<W> as ConvOut<K, S, P, D>>::KernelOk: KernelNonZero<K>,
{
}

impl<B: Dimension, const C: usize, W: Dimension, const WC: usize, const K: usize>
    Conv1dCheckFor<(B, Dim<C>, W), WC, K> for Minitorch
where
    Dim<C>: DimEq<WC>,
    <Dim<C> as DimEq<WC>>::Bit: ChannelsMatch<C, WC>,
    Dim<K>: ToUnsigned,
    Num<Dim<K>>: IsGreater<U0>,
    Gr<Num<Dim<K>>, U0>: KernelNonZero<K>,
{
}

/// conv1d takes a 3-D input: asked of `()` by the impls for other ranks, implemented by none.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "conv1d takes a 3-D input [batch, channels, width]; the input is `{X}`",
    label = "not a 3-D input"
)]
pub trait Conv1dInputRank<X, const K: usize> {}

/// The relation of conv1d: an input of shape `Self` (`[B, C, W]`) fits a weight
/// `[_, WC, K]` with hyper-parameters `P` ([`ConvParams`] or [`Minitorch`]), and the output is
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
pub type Conv1dOut<S, const O: usize, const K: usize, P> = (
    <S as BatchDim>::Batch,
    Dim<O>,
    <S as Conv1dSize<K, P>>::Width,
);

// ---------------------------------------------------------------------------------------------
// conv2d
// ---------------------------------------------------------------------------------------------

/// conv2d's output height and width for an input shape `Self` (`[B, C, H, W]`), a kernel
/// `KH x KW` and the hyper-parameters `P`: arithmetic only, the supertrait of [`Conv2dShape`].
pub trait Conv2dSize<const KH: usize, const KW: usize, P> {
    /// The output height.
    type Height: Dimension;
    /// The output width.
    type Width: Dimension;
    /// The output height and width's values.
    fn out_size(&self) -> (Self::Height, Self::Width);
}

impl<X, const KH: usize, const KW: usize, P> Conv2dSize<KH, KW, P> for X
where
    P: Conv2dSizeFor<X, KH, KW>,
{
    type Height = <P as Conv2dSizeFor<X, KH, KW>>::Height;
    type Width = <P as Conv2dSizeFor<X, KH, KW>>::Width;
    #[inline]
    fn out_size(&self) -> (Self::Height, Self::Width) {
        P::out_size(self)
    }
}

/// [`Conv2dSize`], implemented per hyper-parameters type `Self`.
#[doc(hidden)]
pub trait Conv2dSizeFor<X, const KH: usize, const KW: usize> {
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
        const S: usize,
        const P: usize,
        const D: usize,
    > Conv2dSizeFor<(B, C, Dim<H>, Dim<W>), KH, KW> for ConvParams<S, P, D>
where
    Dim<H>: ConvOut<KH, S, P, D>,
    Dim<W>: ConvOut<KW, S, P, D>,
{
    type Height = <Dim<H> as ConvOut<KH, S, P, D>>::Output;
    type Width = <Dim<W> as ConvOut<KW, S, P, D>>::Output;
    fn out_size(_: &(B, C, Dim<H>, Dim<W>)) -> (Self::Height, Self::Width) {
        Default::default()
    }
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
    > Conv2dSizeFor<(B, C, Dim<H>, Dim<W>), KH, KW> for ConvParams2d<SH, SW, PH, PW, DH, DW>
where
    Dim<H>: ConvOut<KH, SH, PH, DH>,
    Dim<W>: ConvOut<KW, SW, PW, DW>,
{
    type Height = <Dim<H> as ConvOut<KH, SH, PH, DH>>::Output;
    type Width = <Dim<W> as ConvOut<KW, SW, PW, DW>>::Output;
    fn out_size(_: &(B, C, Dim<H>, Dim<W>)) -> (Self::Height, Self::Width) {
        Default::default()
    }
}

impl<B, C, H: Dimension, W: Dimension, const KH: usize, const KW: usize>
    Conv2dSizeFor<(B, C, H, W), KH, KW> for Minitorch
{
    type Height = H;
    type Width = W;
    fn out_size(x: &(B, C, H, W)) -> (H, W) {
        (x.2, x.3)
    }
}

/// conv2d's checks, implemented per hyper-parameters type `Self`; its message is the one for
/// an input whose channels, height or width are not static (`usize`, or a generic dim without
/// the bound).
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "conv2d needs static channels, height and width (`Dim<N>`); the input is `{X}`",
    label = "channels, height or width not a `Dim<N>`",
    note = "in generic code, add the op's relation: `where {X}: Conv2dShape<{WC}, {KH}, {KW}, {Self}>`"
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
        const S: usize,
        const P: usize,
        const D: usize,
    > Conv2dCheckFor<(B, Dim<C>, Dim<H>, Dim<W>), WC, KH, KW> for ConvParams<S, P, D>
where
    Self: Conv2dSizeFor<(B, Dim<C>, Dim<H>, Dim<W>), KH, KW>,
    (): ChannelsEqual<C, WC>,
    Dim<H>: ConvOut<KH, S, P, D>,
    Dim<W>: ConvOut<KW, S, P, D>,
    <Dim<H> as ConvOut<KH, S, P, D>>::Fits: KernelFitsHeight<H, KH, P, D>,
    <Dim<W> as ConvOut<KW, S, P, D>>::Fits: KernelFitsWidth<W, KW, P, D>,
    <Dim<W> as ConvOut<KW, S, P, D>>::StrideOk: StrideNonZero<S>,
    <Dim<W> as ConvOut<KW, S, P, D>>::DilationOk: DilationNonZero<D>,
    <Dim<H> as ConvOut<KH, S, P, D>>::KernelOk: BitAnd<<Dim<W> as ConvOut<KW, S, P, D>>::KernelOk>,
    And<<Dim<H> as ConvOut<KH, S, P, D>>::KernelOk, <Dim<W> as ConvOut<KW, S, P, D>>::KernelOk>:
        KernelNonEmpty<KH, KW>,
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
        const SH: usize,
        const SW: usize,
        const PH: usize,
        const PW: usize,
        const DH: usize,
        const DW: usize,
    > Conv2dCheckFor<(B, Dim<C>, Dim<H>, Dim<W>), WC, KH, KW>
    for ConvParams2d<SH, SW, PH, PW, DH, DW>
where
    Self: Conv2dSizeFor<(B, Dim<C>, Dim<H>, Dim<W>), KH, KW>,
    (): ChannelsEqual<C, WC>,
    Dim<H>: ConvOut<KH, SH, PH, DH>,
    Dim<W>: ConvOut<KW, SW, PW, DW>,
    <Dim<H> as ConvOut<KH, SH, PH, DH>>::Fits: KernelFitsHeight<H, KH, PH, DH>,
    <Dim<W> as ConvOut<KW, SW, PW, DW>>::Fits: KernelFitsWidth<W, KW, PW, DW>,
    <Dim<H> as ConvOut<KH, SH, PH, DH>>::StrideOk: StrideNonZero<SH>,
    <Dim<W> as ConvOut<KW, SW, PW, DW>>::StrideOk: StrideNonZero<SW>,
    <Dim<H> as ConvOut<KH, SH, PH, DH>>::DilationOk: DilationNonZero<DH>,
    <Dim<W> as ConvOut<KW, SW, PW, DW>>::DilationOk: DilationNonZero<DW>,
    <Dim<H> as ConvOut<KH, SH, PH, DH>>::KernelOk:
        BitAnd<<Dim<W> as ConvOut<KW, SW, PW, DW>>::KernelOk>,
    And<
        <Dim<H> as ConvOut<KH, SH, PH, DH>>::KernelOk,
        <Dim<W> as ConvOut<KW, SW, PW, DW>>::KernelOk,
    >: KernelNonEmpty<KH, KW>,
{
}

impl<
        B: Dimension,
        const C: usize,
        H: Dimension,
        W: Dimension,
        const WC: usize,
        const KH: usize,
        const KW: usize,
    > Conv2dCheckFor<(B, Dim<C>, H, W), WC, KH, KW> for Minitorch
where
    Dim<C>: DimEq<WC>,
    <Dim<C> as DimEq<WC>>::Bit: ChannelsMatch<C, WC>,
    Dim<KH>: ToUnsigned,
    Dim<KW>: ToUnsigned,
    Num<Dim<KH>>: IsGreater<U0>,
    Num<Dim<KW>>: IsGreater<U0>,
    Gr<Num<Dim<KH>>, U0>: BitAnd<Gr<Num<Dim<KW>>, U0>>,
    And<Gr<Num<Dim<KH>>, U0>, Gr<Num<Dim<KW>>, U0>>: KernelNonEmpty<KH, KW>,
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
/// `[_, WC, KH, KW]` with hyper-parameters `P` ([`ConvParams`] or [`Minitorch`]), and the output
/// is [`Conv2dOut`]. Generic code writes this one bound per conv2d:
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
pub type Conv2dOut<S, const O: usize, const KH: usize, const KW: usize, P> = (
    <S as BatchDim>::Batch,
    Dim<O>,
    <S as Conv2dSize<KH, KW, P>>::Height,
    <S as Conv2dSize<KH, KW, P>>::Width,
);

// ---------------------------------------------------------------------------------------------
// Inputs of the wrong rank
// ---------------------------------------------------------------------------------------------

/// Impls of the size and check traits for inputs of a wrong rank, each asking the rank trait
/// (implemented by nothing) of `()`: the error then names the rank in one line, rather than
/// listing the impls that exist for the right rank.
macro_rules! wrong_rank {
    ($params:ty; [$($pc:ident),*]; $($d:ident),*) => {
        wrong_rank!(@1d $params; [$($pc),*]; $($d),*);
        wrong_rank!(@2d $params; [$($pc),*]; $($d),*);
    };
    (@1d $params:ty; [$($pc:ident),*]; X0, X1, X2) => {};
    (@1d $params:ty; [$($pc:ident),*]; $($d:ident),*) => {
        impl<$($d,)* const K: usize $(, const $pc: usize)*> Conv1dSizeFor<($($d,)*), K> for $params
        where
            (): Conv1dInputRank<($($d,)*), K>,
        {
            type Width = usize;
            fn out_width(_: &($($d,)*)) -> usize {
                unreachable!("conv1d: rank checked at compile time")
            }
        }
        impl<$($d,)* const WC: usize, const K: usize $(, const $pc: usize)*>
            Conv1dCheckFor<($($d,)*), WC, K> for $params
        where
            (): Conv1dInputRank<($($d,)*), K>,
        {
        }
    };
    (@2d $params:ty; [$($pc:ident),*]; X0, X1, X2, X3) => {};
    (@2d $params:ty; [$($pc:ident),*]; $($d:ident),*) => {
        impl<$($d,)* const KH: usize, const KW: usize $(, const $pc: usize)*>
            Conv2dSizeFor<($($d,)*), KH, KW> for $params
        where
            (): Conv2dInputRank<($($d,)*), KH>,
        {
            type Height = usize;
            type Width = usize;
            fn out_size(_: &($($d,)*)) -> (usize, usize) {
                unreachable!("conv2d: rank checked at compile time")
            }
        }
        impl<$($d,)* const WC: usize, const KH: usize, const KW: usize $(, const $pc: usize)*>
            Conv2dCheckFor<($($d,)*), WC, KH, KW> for $params
        where
            (): Conv2dInputRank<($($d,)*), KH>,
        {
        }
    };
}
wrong_rank!(ConvParams<S, P, D>; [S, P, D]; );
wrong_rank!(ConvParams<S, P, D>; [S, P, D]; X0);
wrong_rank!(ConvParams<S, P, D>; [S, P, D]; X0, X1);
wrong_rank!(ConvParams<S, P, D>; [S, P, D]; X0, X1, X2);
wrong_rank!(ConvParams<S, P, D>; [S, P, D]; X0, X1, X2, X3);
wrong_rank!(ConvParams<S, P, D>; [S, P, D]; X0, X1, X2, X3, X4);
wrong_rank!(@2d ConvParams2d<SH, SW, PH, PW, DH, DW>; [SH, SW, PH, PW, DH, DW]; );
wrong_rank!(@2d ConvParams2d<SH, SW, PH, PW, DH, DW>; [SH, SW, PH, PW, DH, DW]; X0);
wrong_rank!(@2d ConvParams2d<SH, SW, PH, PW, DH, DW>; [SH, SW, PH, PW, DH, DW]; X0, X1);
wrong_rank!(@2d ConvParams2d<SH, SW, PH, PW, DH, DW>; [SH, SW, PH, PW, DH, DW]; X0, X1, X2);
wrong_rank!(@2d ConvParams2d<SH, SW, PH, PW, DH, DW>; [SH, SW, PH, PW, DH, DW]; X0, X1, X2, X3, X4);
wrong_rank!(Minitorch; []; );
wrong_rank!(Minitorch; []; X0);
wrong_rank!(Minitorch; []; X0, X1);
wrong_rank!(Minitorch; []; X0, X1, X2);
wrong_rank!(Minitorch; []; X0, X1, X2, X3);
wrong_rank!(Minitorch; []; X0, X1, X2, X3, X4);

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
    type Width = usize;
    fn out_width(_: &X) -> usize {
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
    fn check_bits_are_false_for_bad_hyper_parameters() {
        let _: B0 = <Dim<3> as ConvOut<5, 1, 0, 1>>::Fits::default();
        let _: B1 = <Dim<3> as ConvOut<5, 1, 1, 1>>::Fits::default();
        let _: B0 = <Dim<8> as ConvOut<3, 0, 0, 1>>::StrideOk::default();
        let _: B0 = <Dim<8> as ConvOut<3, 1, 0, 0>>::DilationOk::default();
        let _: B0 = <Dim<8> as ConvOut<0, 1, 0, 1>>::KernelOk::default();
        let _: B1 = <Dim<8> as ConvOut<1, 1, 0, 1>>::KernelOk::default();
    }

    fn same<T>(_: T, _: T) {}

    #[test]
    fn relation_outputs_are_the_computed_shapes() {
        type P = ConvParams<2, 1, 1>;
        let x = (7usize, Dim::<3>, Dim::<28>, Dim::<20>);
        // (28 + 2 - 3)/2 + 1 = 14, (20 + 2 - 3)/2 + 1 = 10
        let (h, w) = Conv2dSize::<3, 3, P>::out_size(&x);
        same((h, w), (Dim::<14>, Dim::<10>));
        let y: Conv2dOut<(usize, Dim<3>, Dim<28>, Dim<20>), 8, 3, 3, P> = (x.0, Dim, h, w);
        same(y, (7usize, Dim::<8>, Dim::<14>, Dim::<10>));
        // the teaching convention keeps the size, runtime ones too
        let m = (2usize, Dim::<3>, 9usize);
        assert_eq!(Conv1dSize::<4, Minitorch>::out_width(&m), 9);
        let z: Conv1dOut<(Dim<2>, Dim<3>, Dim<9>), 4, 4, ConvParams> = Default::default();
        same(z, (Dim::<2>, Dim::<4>, Dim::<6>));
    }

    /// A function generic over batch, height and width, with one bound.
    fn generic_out<B: Dimension, H: Dimension, W: Dimension>(
        x: (B, Dim<1>, H, W),
    ) -> Conv2dOut<(B, Dim<1>, H, W), 6, 5, 5, ConvParams>
    where
        (B, Dim<1>, H, W): Conv2dShape<1, 5, 5, ConvParams>,
    {
        let (h, w) = x.out_size();
        (x.0, Dim, h, w)
    }

    #[test]
    fn per_axis_params_compute_each_axis_on_its_own() {
        // height (6 + 0 - 1)/1 + 1 = 6, width (9 + 4 - 5)/1 + 1 = 9
        let x = (2usize, Dim::<3>, Dim::<6>, Dim::<9>);
        same(
            Conv2dSize::<1, 5, ConvParams2d<1, 1, 0, 2, 1, 1>>::out_size(&x),
            (Dim::<6>, Dim::<9>),
        );
        // height (7 + 2 - 5)/2 + 1 = 3 (dilation 2), width (8 - 2)/3 + 1 = 3
        let y: Conv2dOut<(usize, Dim<2>, Dim<7>, Dim<8>), 4, 3, 2, ConvParams2d<2, 3, 1, 0, 2, 1>> =
            (1, Dim, Dim, Dim);
        same(y, (1usize, Dim::<4>, Dim::<3>, Dim::<3>));
        type P = ConvParams2d<2, 3, 1, 0, 2, 1>;
        assert_eq!(
            (P::STRIDE_HW, P::PADDING_HW, P::DILATION_HW),
            ([2, 3], [1, 0], [2, 1])
        );
        assert_eq!(<ConvParams<2, 1, 3>>::PADDING_HW, [1, 1]);
    }

    #[test]
    fn generic_code_names_the_output_through_one_bound() {
        let y = generic_out((3usize, Dim, Dim::<28>, Dim::<32>));
        same(y, (3usize, Dim::<6>, Dim::<24>, Dim::<28>));
        assert_eq!(ConvParams::default(), ConvParams::<1, 0, 1>);
    }
}
