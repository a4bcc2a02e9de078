//! Pooling: `max_pool2d`, `avg_pool2d`, `max_pool1d`, `avg_pool1d` with PyTorch semantics, and
//! the lecture's `tile`, with their gradients and every shape relation checked by the compiler.
//!
//! `output[b, c, oy, ox] = max (or mean) over ky < KH, kx < KW of
//!     input[b, c, oy*SH + ky*DH - PH, ox*SW + kx*DW - PW]`,
//! like `torch.nn.functional.max_pool2d(input, (KH, KW), (SH, SW), (PH, PW), (DH, DW))` and
//! `avg_pool2d(input, (KH, KW), (SH, SW), (PH, PW))` (floor mode, `count_include_pad=True`):
//! padding counts as `-inf` for max pooling and as zeros, counted in the mean's `KH*KW`, for
//! average pooling. Shapes in words:
//! - 2-D: input `[B, C, H, W]` → `[B, C, H_out, W_out]`, `H_out = (H + 2PH - DH(KH-1) - 1)/SH + 1`
//!   (the same for the width), computed by the compiler;
//! - 1-D: input `[B, C, W]` → `[B, C, W_out]`;
//! - `tile::<KH, KW>()`: `[B, C, H, W]` → `[B, C, H/KH, W/KW, KH*KW]`, the last axis holding a
//!   tile's values row-major: `output[b, c, i, j, ky*KW + kx] = input[b, c, i*KH + ky, j*KW + kx]`.
//!
//! The window moves by its own size unless told otherwise (`stride=None` in PyTorch); the
//! hyper-parameters are types, per axis ([`Pool2d`], [`Pool1d`]). The batch and the channels
//! may be runtime `usize`s.
//!
//! ```
//! use shapetorch::prelude::*;
//! let x = Tensor4::<f32, 1, 1, 4, 4>::from_fn(|[_, _, i, j]| (4 * i + j) as f32);
//! let y: Tensor4<f32, 1, 1, 2, 2> = x.max_pool2d::<2, 2>(); // 2 x 2 windows, stride 2
//! assert_eq!(y.to_vec(), vec![5.0, 7.0, 13.0, 15.0]);
//! let m: Tensor4<f32, 1, 1, 2, 2> = x.avg_pool2d::<2, 2>();
//! assert_eq!(m.to_vec(), vec![2.5, 4.5, 10.5, 12.5]);
//! // overlapping windows, per-axis padding: the compiler computes (4 + 2 - 3)/1 + 1 = 4
//! let o: Tensor4<f32, 1, 1, 4, 2> = x.max_pool2d_with(Pool2d::<3, 3, 1, 2, 1, 1>);
//! // pooling is tile + a reduction over the last axis
//! let t: Tensor5<f32, 1, 1, 2, 2, 4> = x.tile::<2, 2>();
//! assert_eq!(t.max::<4>().to_vec(), y.to_vec());
//! # let _ = o;
//! ```
//!
//! Generic code (a layer generic over batch, channels, height and width) writes one bound per
//! call, the op's shape relation, and names the output with its alias:
//!
//! ```
//! use shapetorch::prelude::*;
//! fn pool<B: Dimension, C: Dimension, H: Dimension, W: Dimension>(
//!     x: &Tensor<f32, (B, C, H, W)>,
//! ) -> Tensor<f32, Pool2dOut<(B, C, H, W), Pool2d<2, 2>>>
//! where
//!     (B, C, H, W): MaxPool2dShape<Pool2d<2, 2>>,
//! {
//!     x.max_pool2d::<2, 2>()
//! }
//! let x = Tensor::<f32, (usize, Dim<6>, Dim<24>, Dim<24>)>::zeros_shaped((3, Dim, Dim, Dim));
//! let y: Tensor<f32, (usize, Dim<6>, Dim<12>, Dim<12>)> = pool(&x);
//! # let _ = y;
//! ```
//!
//! NaN as in PyTorch: a window holding a NaN pools to NaN, and its gradient goes to the last
//! NaN of the window (PyTorch's kernel takes a tap when `v > max || isnan(v)`); a window of
//! `-inf` gives `-inf`, its gradient going to its first tap.
//!
//! Backward: max pooling sends each output's gradient to the (first, in row-major window
//! order) maximum of its window, whose position the forward pass records; average pooling
//! spreads it evenly over the window's `KH*KW` taps (those in the padding are dropped). `tile`
//! is a permutation: its gradient is the permutation back.
//!
//! Files: [`kernels`] holds the run-time geometry ([`PoolGeometry`], per axis) and the
//! kernels, parallel over `(b, c)` planes above a work threshold.

#[cfg(test)]
mod kernel_tests;
pub mod kernels;

pub use kernels::PoolGeometry;

use crate::memory::Buffer;
use crate::shape::{
    AvgPool1dShape, AvgPool2dShape, MaxPool1dShape, MaxPool2dShape, Pool1dOut, Pool1dSize,
    Pool2dOut, Pool2dSize, Shape, TileShape, TileSize, Tiled,
};
pub use crate::shape::{Pool1d, Pool2d, PoolHyperParams};
use crate::tensor::{Element, Tensor};

/// The geometry of a 2-D pooling with hyper-parameters `P` on an input `[B, C, H, W]` (or a
/// 1-D one on `[B, C, W]`, as height 1), with the output's dims the compiler computed.
fn geometry<P: PoolHyperParams>(dims: &[usize], out_dims: &[usize]) -> PoolGeometry {
    let (planes, in_h, in_w, out_h, out_w) = match (dims, out_dims) {
        (&[b, c, h, w], &[_, _, oh, ow]) => (b.checked_mul(c), h, w, oh, ow),
        (&[b, c, w], &[_, _, ow]) => (b.checked_mul(c), 1, w, 1, ow),
        _ => unreachable!("pooling: rank checked at compile time"),
    };
    let g = PoolGeometry {
        planes: planes.unwrap_or_else(|| panic!("pooling: the sizes {dims:?} overflow usize")),
        in_h,
        in_w,
        out_h,
        out_w,
        kernel: P::KERNEL,
        stride: P::STRIDE,
        padding: P::PADDING,
        dilation: P::DILATION,
    };
    debug_assert_eq!(g.out_sizes(), Some([out_h, out_w]), "{g:?}");
    g
}

/// Runs a max pooling described by `g` and records its backward pass, which keeps only the
/// argmax of each window.
fn max_pool_op<E: Element, Sx: Shape, So: Shape>(
    op: &'static str,
    g: PoolGeometry,
    input: &Tensor<E, Sx>,
    out_shape: So,
) -> Tensor<E, So> {
    debug_assert_eq!(g.output_len(), out_shape.numel());
    // The kernel overwrites the whole output and every argmax.
    let mut output = Buffer::for_overwrite(g.output_len());
    let mut argmax = vec![0u32; g.output_len()];
    kernels::max_forward(&g, input.as_slice(), &mut output, &mut argmax);
    let x_id = input.id();
    Tensor::from_op(op, out_shape, output, &[input], move |grad_out, grads| {
        let grad_input = grads.accumulator(x_id, g.input_len());
        kernels::max_backward(&g, grad_out, &argmax, grad_input);
    })
}

/// Runs an average pooling described by `g` and records its backward pass, which keeps only
/// the geometry.
fn avg_pool_op<E: Element, Sx: Shape, So: Shape>(
    op: &'static str,
    g: PoolGeometry,
    input: &Tensor<E, Sx>,
    out_shape: So,
) -> Tensor<E, So> {
    debug_assert_eq!(g.output_len(), out_shape.numel());
    let mut output = Buffer::for_overwrite(g.output_len());
    kernels::avg_forward(&g, input.as_slice(), &mut output);
    let x_id = input.id();
    Tensor::from_op(op, out_shape, output, &[input], move |grad_out, grads| {
        let grad_input = grads.accumulator(x_id, g.input_len());
        kernels::avg_backward(&g, grad_out, grad_input);
    })
}

/// The pooling ops, on a tensor of any shape `S`: each is bounded by its shape relation, so a
/// tensor of the wrong rank gets the relation's message ("2-D pooling takes a 4-D input
/// [batch, channels, height, width]") rather than "no method named `max_pool2d`", and generic
/// code writes one bound per call.
impl<E: Element, S: Shape> Tensor<E, S> {
    /// 2-D max pooling in `KH x KW` windows with stride `KH x KW` (no overlap, no padding):
    /// `[B, C, H, W] → [B, C, (H - KH)/KH + 1, (W - KW)/KW + 1]`, like
    /// `torch.nn.functional.max_pool2d(input, (KH, KW))`. The gradient goes to the first
    /// maximum of each window.
    ///
    /// Compile errors: the input is not 4-D; a window side is 0 or larger than the input.
    /// Generic code bounds the input shape with [`MaxPool2dShape<Pool2d<KH, KW>>`] and names
    /// the output [`Pool2dOut`].
    #[rustfmt::skip] // the signature on two lines: compile errors quote it
    pub fn max_pool2d<const KH: usize, const KW: usize>(&self) -> Tensor<E, Pool2dOut<S, Pool2d<KH, KW>>>
    where S: MaxPool2dShape<Pool2d<KH, KW>>,
    {
        self.max_pool2d_with(Pool2d::<KH, KW>)
    }

    /// 2-D max pooling with every hyper-parameter per axis, [`Pool2d<KH, KW, SH, SW, PH, PW,
    /// DH, DW>`](Pool2d): `output[b, c, oy, ox] = max_{ky, kx} input[b, c, oy*SH + ky*DH - PH,
    /// ox*SW + kx*DW - PW]`, padding counting as `-inf`. Like
    /// `torch.nn.functional.max_pool2d(input, (KH, KW), (SH, SW), (PH, PW), (DH, DW))`.
    ///
    /// Compile errors: the input is not 4-D; the dilated window is taller or wider than the
    /// padded input; padding above half the window (PyTorch's rule); a window side, stride or
    /// dilation of 0.
    #[rustfmt::skip] // the signature on two lines: compile errors quote it
    pub fn max_pool2d_with<P: PoolHyperParams>(&self, _params: P) -> Tensor<E, Pool2dOut<S, P>>
    where S: MaxPool2dShape<P>,
    {
        let out_shape = Pool2dSize::<P>::pool2d_shape(self.shape());
        let g = geometry::<P>(self.dims().as_ref(), out_shape.dims().as_ref());
        max_pool_op("max_pool2d", g, self, out_shape)
    }

    /// 2-D average pooling in `KH x KW` windows with stride `KH x KW`:
    /// `[B, C, H, W] → [B, C, (H - KH)/KH + 1, (W - KW)/KW + 1]`, like
    /// `torch.nn.functional.avg_pool2d(input, (KH, KW))`. Generic code bounds the input shape
    /// with [`AvgPool2dShape<Pool2d<KH, KW>>`] and names the output [`Pool2dOut`].
    #[rustfmt::skip] // the signature on two lines: compile errors quote it
    pub fn avg_pool2d<const KH: usize, const KW: usize>(&self) -> Tensor<E, Pool2dOut<S, Pool2d<KH, KW>>>
    where S: AvgPool2dShape<Pool2d<KH, KW>>,
    {
        self.avg_pool2d_with(Pool2d::<KH, KW>)
    }

    /// 2-D average pooling with stride and padding per axis, [`Pool2d<KH, KW, SH, SW, PH,
    /// PW>`](Pool2d): `output[b, c, oy, ox] = 1/(KH*KW) * sum_{ky, kx} input[b, c,
    /// oy*SH + ky - PH, ox*SW + kx - PW]`, padding counting as zeros (PyTorch's
    /// `count_include_pad=True`). Like `torch.nn.functional.avg_pool2d(input, (KH, KW), (SH, SW),
    /// (PH, PW))`.
    ///
    /// Compile errors: as [`max_pool2d_with`](Self::max_pool2d_with), and a dilation other
    /// than 1 (average pooling has none).
    #[rustfmt::skip] // the signature on two lines: compile errors quote it
    pub fn avg_pool2d_with<P: PoolHyperParams>(&self, _params: P) -> Tensor<E, Pool2dOut<S, P>>
    where S: AvgPool2dShape<P>,
    {
        let out_shape = Pool2dSize::<P>::pool2d_shape(self.shape());
        let g = geometry::<P>(self.dims().as_ref(), out_shape.dims().as_ref());
        avg_pool_op("avg_pool2d", g, self, out_shape)
    }

    /// 1-D max pooling in windows of `K` with stride `K`: `[B, C, W] → [B, C, (W - K)/K + 1]`,
    /// like `torch.nn.functional.max_pool1d(input, K)`. Generic code bounds the input shape
    /// with [`MaxPool1dShape<Pool1d<K>>`] and names the output [`Pool1dOut`].
    #[rustfmt::skip] // the signature on two lines: compile errors quote it
    pub fn max_pool1d<const K: usize>(&self) -> Tensor<E, Pool1dOut<S, Pool1d<K>>>
    where S: MaxPool1dShape<Pool1d<K>>,
    {
        self.max_pool1d_with(Pool1d::<K>)
    }

    /// 1-D max pooling with [`Pool1d<K, S, P, D>`](Pool1d): `output[b, c, o] = max_k
    /// input[b, c, o*S + k*D - P]`, like `torch.nn.functional.max_pool1d(input, K, S, P, D)`.
    #[rustfmt::skip] // the signature on two lines: compile errors quote it
    pub fn max_pool1d_with<P: PoolHyperParams>(&self, _params: P) -> Tensor<E, Pool1dOut<S, P>>
    where S: MaxPool1dShape<P>,
    {
        let out_shape = Pool1dSize::<P>::pool1d_shape(self.shape());
        let g = geometry::<P>(self.dims().as_ref(), out_shape.dims().as_ref());
        max_pool_op("max_pool1d", g, self, out_shape)
    }

    /// 1-D average pooling in windows of `K` with stride `K`: `[B, C, W] → [B, C, (W - K)/K +
    /// 1]`, like `torch.nn.functional.avg_pool1d(input, K)`. Generic code bounds the input
    /// shape with [`AvgPool1dShape<Pool1d<K>>`] and names the output [`Pool1dOut`].
    #[rustfmt::skip] // the signature on two lines: compile errors quote it
    pub fn avg_pool1d<const K: usize>(&self) -> Tensor<E, Pool1dOut<S, Pool1d<K>>>
    where S: AvgPool1dShape<Pool1d<K>>,
    {
        self.avg_pool1d_with(Pool1d::<K>)
    }

    /// 1-D average pooling with [`Pool1d<K, S, P>`](Pool1d): `output[b, c, o] = 1/K * sum_k
    /// input[b, c, o*S + k - P]`, padding counted as zeros, like
    /// `torch.nn.functional.avg_pool1d(input, K, S, P)`.
    #[rustfmt::skip] // the signature on two lines: compile errors quote it
    pub fn avg_pool1d_with<P: PoolHyperParams>(&self, _params: P) -> Tensor<E, Pool1dOut<S, P>>
    where S: AvgPool1dShape<P>,
    {
        let out_shape = Pool1dSize::<P>::pool1d_shape(self.shape());
        let g = geometry::<P>(self.dims().as_ref(), out_shape.dims().as_ref());
        avg_pool_op("avg_pool1d", g, self, out_shape)
    }

    /// The lecture's `tile`: cuts every `[H, W]` plane into `KH x KW` tiles,
    /// `[B, C, H, W] → [B, C, H/KH, W/KW, KH*KW]`, with
    /// `output[b, c, i, j, ky*KW + kx] = input[b, c, i*KH + ky, j*KW + kx]`. Compiles only when
    /// `KH` divides `H` and `KW` divides `W` ("tile: the tile height 3 does not divide the input
    /// height 28"). Pooling is a tile and a reduction over the last axis:
    /// `x.tile::<2, 2>().max::<4>()` is `x.max_pool2d::<2, 2>()`, `.mean::<4>()` is
    /// `avg_pool2d` (with NaN in a tile both give NaN, but as in PyTorch the gradient goes to
    /// the tile's first NaN through `max`, to its last through `max_pool2d`). Generic code
    /// bounds the input shape with [`TileShape<KH, KW>`] and names the output [`Tiled`].
    #[rustfmt::skip] // the signature on two lines: compile errors quote it
    pub fn tile<const KH: usize, const KW: usize>(&self) -> Tensor<E, Tiled<S, KH, KW>>
    where S: TileShape<KH, KW>,
    {
        let out_shape = TileSize::<KH, KW>::tiled_shape(self.shape());
        let dims = self.dims();
        let [b, c, h, w]: [usize; 4] = dims.as_ref().try_into().expect("tile: rank checked");
        let t = kernels::Tiling {
            planes: b * c,
            in_h: h,
            in_w: w,
            kernel: [KH, KW],
        };
        let input = self.as_slice();
        let mut output = Buffer::for_overwrite(input.len());
        t.for_each_pair(|o, i| output[o] = input[i]);
        let x_id = self.id();
        Tensor::from_op(
            "tile",
            out_shape,
            output,
            &[self],
            move |grad_out, grads| {
                let grad_input = grads.accumulator(x_id, grad_out.len());
                t.for_each_pair(|o, i| grad_input[i] += grad_out[o]);
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::prelude::*;

    /// The lecture-style hand case: a 4 x 4 plane, 2 x 2 windows, each output spelled out.
    #[test]
    fn hand_case_max_and_avg_2x2() {
        #[rustfmt::skip]
        let x = Tensor4::<f64, 1, 1, 4, 4>::from_slice(&[
            1., 2., 5., 3.,
            4., 0., 1., 1.,
            7., 8., 2., 2.,
            6., 9., 3., 4.,
        ]).unwrap();
        let tape = Tape::new();
        let xt = x.trace(&tape);
        let y = xt.max_pool2d::<2, 2>();
        // max(1, 2, 4, 0) = 4, max(5, 3, 1, 1) = 5, max(7, 8, 6, 9) = 9, max(2, 2, 3, 4) = 4
        assert_eq!(y.to_vec(), vec![4., 5., 9., 4.]);
        let grads = y.sum_all().backward();
        #[rustfmt::skip]
        assert_eq!(grads.get(&xt).unwrap().to_vec(), vec![
            0., 0., 1., 0.,
            1., 0., 0., 0.,
            0., 0., 0., 0.,
            0., 1., 0., 1.,
        ]);
        let m = xt.avg_pool2d::<2, 2>();
        // (1 + 2 + 4 + 0)/4, (5 + 3 + 1 + 1)/4, (7 + 8 + 6 + 9)/4, (2 + 2 + 3 + 4)/4
        assert_eq!(m.to_vec(), vec![1.75, 2.5, 7.5, 2.75]);
        let grads = m.sum_all().backward();
        assert_eq!(grads.get(&xt).unwrap().to_vec(), vec![0.25; 16]);
    }

    /// Padding counts as -inf for max, as a counted zero for the average.
    #[test]
    fn hand_case_padding_1d() {
        let x = Tensor3::<f64, 1, 1, 4>::from_slice(&[-1., -2., -3., -4.]).unwrap();
        // windows of 2, stride 2, padding 1: [pad, -1], [-2, -3], [-4, pad]
        let y = x.max_pool1d_with(Pool1d::<2, 2, 1>);
        assert_eq!(y.to_vec(), vec![-1., -2., -4.]);
        let m = x.avg_pool1d_with(Pool1d::<2, 2, 1>);
        assert_eq!(
            m.to_vec(),
            vec![(0. - 1.) / 2., (-2. - 3.) / 2., (-4. + 0.) / 2.]
        );
    }

    /// Ties: the first maximum in row-major window order gets the gradient, as in PyTorch.
    #[test]
    fn max_pool_gradient_goes_to_the_first_maximum() {
        let tape = Tape::new();
        let x = Tensor4::<f64, 1, 1, 2, 2>::full(3.0).trace(&tape);
        let grads = x.max_pool2d::<2, 2>().sum_all().backward();
        assert_eq!(grads.get(&x).unwrap().to_vec(), vec![1., 0., 0., 0.]);
    }

    #[test]
    fn tile_lays_each_tile_out_row_major() {
        let x = Tensor4::<f64, 1, 1, 2, 4>::from_fn(|[_, _, i, j]| (4 * i + j) as f64);
        let t: Tensor5<f64, 1, 1, 1, 2, 4> = x.tile::<2, 2>();
        // tile (0, 0) holds x[0, 0], x[0, 1], x[1, 0], x[1, 1]; tile (0, 1) the next two columns
        assert_eq!(t.to_vec(), vec![0., 1., 4., 5., 2., 3., 6., 7.]);
    }
}
