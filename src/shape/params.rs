//! The hyper-parameters of the windowed ops as types: [`ConvParams`], [`ConvParams2d`] and
//! [`Minitorch`] for convolutions, [`Pool2d`] and [`Pool1d`] for pooling, each in PyTorch's
//! order (kernel, stride, padding, dilation), and the run-time view of them the kernels read
//! ([`ConvHyperParams`], [`PoolHyperParams`]: one `[height, width]` array per setting).
//!
//! ```
//! use shapetorch::prelude::*;
//! type Same = ConvParams<1, 1>; // stride 1, padding 1, dilation 1
//! assert_eq!((Same::STRIDE, Same::PADDING, Same::DILATION), ([1, 1], [1, 1], [1, 1]));
//! type Tuples = ConvParams2d<1, 2, 0, 2>; // stride=(1, 2), padding=(0, 2)
//! assert_eq!((Tuples::STRIDE, Tuples::PADDING), ([1, 2], [0, 2]));
//! type Window = Pool2d<3, 3, 2, 2, 1, 1>; // max_pool2d(x, 3, stride=2, padding=1)
//! assert_eq!((Window::KERNEL, Window::STRIDE, Window::PADDING), ([3, 3], [2, 2], [1, 1]));
//! ```
//!
//! The compile-time checks read the same numbers per axis: a convolution's type names one
//! [`Axis`] (stride, padding, dilation) for the height and one for the width ([`ConvAxes`]), a
//! pooling's names them in its own parameters, and the checks in `window.rs` are written once
//! per axis for all of them.

use std::fmt::Debug;

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

/// The teaching convention's hyper-parameters (`conv1d_minitorch`, `conv2d_minitorch`): the
/// output as large as the input, the kernel anchored at the top-left, zero past the bottom and
/// right edges. The same as stride 1, dilation 1 and `K - 1` zeros of padding after the input
/// only. Its relations accept a runtime height and width too.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Minitorch;

/// Hyper-parameters of a convolution as the kernels need them at run time,
/// `[along the height, along the width]` (conv1d reads the width's). Implemented by
/// [`ConvParams`], [`ConvParams2d`] and [`Minitorch`].
pub trait ConvHyperParams: Copy + Debug + Default + Send + Sync + 'static {
    /// Step between output positions, in input positions.
    const STRIDE: [usize; 2];
    /// Zeros before the first row and column and after the last (for [`Minitorch`], none:
    /// its kernels read zeros past the end instead).
    const PADDING: [usize; 2];
    /// Step between kernel taps, in input positions.
    const DILATION: [usize; 2];
}

impl<const S: usize, const P: usize, const D: usize> ConvHyperParams for ConvParams<S, P, D> {
    const STRIDE: [usize; 2] = [S; 2];
    const PADDING: [usize; 2] = [P; 2];
    const DILATION: [usize; 2] = [D; 2];
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
    const STRIDE: [usize; 2] = [SH, SW];
    const PADDING: [usize; 2] = [PH, PW];
    const DILATION: [usize; 2] = [DH, DW];
}

impl ConvHyperParams for Minitorch {
    const STRIDE: [usize; 2] = [1; 2];
    const PADDING: [usize; 2] = [0; 2];
    const DILATION: [usize; 2] = [1; 2];
}

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

/// One axis of a window's hyper-parameters as a type: stride `S`, padding `P` (each side),
/// dilation `D`. The compile-time checks (`window.rs`) take their numbers from it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Axis<const S: usize, const P: usize, const D: usize>;

/// A convolution's hyper-parameters split per axis, for the compile-time checks: the [`Axis`]
/// of the height and of the width. Implemented by [`ConvParams`] and [`ConvParams2d`] (the
/// teaching convention, [`Minitorch`], has no window arithmetic: its output keeps the input's
/// size), so the convolution's checks are written once for both.
pub trait ConvAxes: ConvHyperParams {
    /// Stride, padding and dilation along the height.
    type Height;
    /// Stride, padding and dilation along the width.
    type Width;
}

impl<const S: usize, const P: usize, const D: usize> ConvAxes for ConvParams<S, P, D> {
    type Height = Axis<S, P, D>;
    type Width = Axis<S, P, D>;
}

impl<
        const SH: usize,
        const SW: usize,
        const PH: usize,
        const PW: usize,
        const DH: usize,
        const DW: usize,
    > ConvAxes for ConvParams2d<SH, SW, PH, PW, DH, DW>
{
    type Height = Axis<SH, PH, DH>;
    type Width = Axis<SW, PW, DW>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_time_values_are_per_axis() {
        type P = ConvParams2d<2, 3, 1, 0, 2, 1>;
        assert_eq!(
            (P::STRIDE, P::PADDING, P::DILATION),
            ([2, 3], [1, 0], [2, 1])
        );
        assert_eq!(<ConvParams<2, 1, 3>>::PADDING, [1, 1]);
        assert_eq!(Minitorch::STRIDE, [1, 1]);
        assert_eq!(ConvParams::default(), ConvParams::<1, 0, 1>);
        type Q = Pool1d<3, 2, 1, 2>;
        assert_eq!(
            (Q::KERNEL, Q::STRIDE, Q::PADDING, Q::DILATION),
            ([1, 3], [1, 2], [0, 1], [1, 2])
        );
        type R = Pool2d<2, 3>;
        assert_eq!(
            (R::KERNEL, R::STRIDE, R::PADDING, R::DILATION),
            ([2, 3], [2, 3], [0, 0], [1, 1])
        );
    }
}
