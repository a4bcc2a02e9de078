//! Convolution: `conv1d` and `conv2d` with PyTorch semantics, the teaching convention, and
//! their gradients, with every shape relation checked by the compiler.
//!
//! `output[b, o, t] = sum_{c, k} weight[o, c, k] * input[b, c, t*stride + k*dilation - padding]`
//! (zero outside the input), like `torch.nn.functional.conv1d(input, weight, bias, stride,
//! padding, dilation)`; conv2d does the same over height and width. Shapes in words:
//! - conv1d: input `[B, C, W]`, weight `[O, C, K]`, bias `[O]` → `[B, O, W_out]`
//! - conv2d: input `[B, C, H, W]`, weight `[O, C, KH, KW]`, bias `[O]` → `[B, O, H_out, W_out]`
//!
//! with `W_out = (W + 2P - D(K-1) - 1)/S + 1`, computed by the compiler from the
//! [`ConvParams`] (stride `S`, padding `P`, dilation `D`, in PyTorch's order), or per axis from
//! [`ConvParams2d`] (PyTorch's tuples, `padding=(0, 2)`). The batch `B` may be a runtime
//! `usize`.
//!
//! ```
//! use shapetorch::prelude::*;
//! let x = Tensor3::<f32, 2, 3, 28>::randn(0);
//! let w = Tensor3::<f32, 4, 3, 5>::randn(1);
//! let y: Tensor3<f32, 2, 4, 24> = x.conv1d(&w, ConvParams::<1, 0, 1>);
//! let y2: Tensor3<f32, 2, 4, 14> = x.conv1d(&w, ConvParams::<2, 2, 1>); // (28 + 4 - 4 - 1)/2 + 1
//! # let _ = (y, y2);
//! ```
//!
//! The teaching convention ([`conv1d_minitorch`](Tensor::conv1d_minitorch)) keeps the input's
//! width and anchors the kernel at the left: `output[t] = sum_k weight[k] * input[t + k]`, zero
//! past the end. It is the same kernel with `K - 1` zeros of padding on the right only, and the
//! same op with the hyper-parameters [`Minitorch`] instead of [`ConvParams`].
//!
//! Generic code (a layer generic over batch, height and width, or over channels) writes one
//! bound per call, the op's shape relation, and names the output with its alias:
//!
//! ```
//! use shapetorch::prelude::*;
//! type P = ConvParams<1, 0, 1>;
//! fn conv<B: Dimension, H: Dimension, W: Dimension>(
//!     x: &Tensor<f32, (B, Dim<1>, H, W)>,
//!     w: &Tensor4<f32, 6, 1, 5, 5>,
//! ) -> Tensor<f32, Conv2dOut<(B, Dim<1>, H, W), 6, 5, 5, P>>
//! where
//!     (B, Dim<1>, H, W): Conv2dShape<1, 5, 5, P>,
//! {
//!     x.conv2d(w, P::default())
//! }
//! let x = Tensor::<f32, (usize, Dim<1>, Dim<28>, Dim<28>)>::zeros_shaped((2, Dim, Dim, Dim));
//! let y: Tensor<f32, (usize, Dim<6>, Dim<24>, Dim<24>)> = conv(&x, &Tensor4::zeros());
//! # let _ = y;
//! ```
//!
//! Only the batch generic (`Tensor<f32, (B, Dim<1>, Dim<28>, Dim<28>)>`), or the channels as
//! const generics shared by input and weight, need no bound at all.
//!
//! Two kernels compute every convolution: a direct loop ([`direct`]) and the lecture's
//! unroll (im2col) followed by a matrix multiply ([`unroll`]); [`ConvAlgorithm`] picks
//! one per shape. Backward: the gradient of the input is the convolution of the upstream
//! gradient with the reversed kernel, anchored at the other end; the gradient of the weight
//! correlates the input with the upstream gradient; the bias's sums the upstream gradient.
//!
//! Files: [`geometry`](ConvGeometry) holds the run-time sizes; [`naive`] (the reference loops),
//! [`direct`] and [`unroll`] the kernels, each with forward, grad-input and grad-weight.

pub mod direct;
mod geometry;
#[cfg(test)]
mod kernel_tests;
pub mod naive;
pub mod unroll;

pub use geometry::ConvGeometry;

use std::cell::Cell;

use crate::autodiff::Gradients;
use crate::memory::Buffer;
use crate::shape::{
    BatchDim, BiasDims, Conv1dOut, Conv1dShape, Conv2dOut, Conv2dShape, Dim, Dimension, Rank3,
    Rank4, Shape,
};
pub use crate::shape::{ConvHyperParams, ConvParams, ConvParams2d, Minitorch};
use crate::tensor::{Element, OpInput, Tensor};

/// Which kernel computes a convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConvAlgorithm {
    /// The direct loop: best for few channels and small kernels.
    Direct,
    /// Unroll (im2col) then one matrix multiply per batch entry: best for many channels.
    Unroll,
}

thread_local! {
    /// The algorithm forced on this thread by [`ConvAlgorithm::force`], if any.
    static FORCED: Cell<Option<ConvAlgorithm>> = const { Cell::new(None) };
}

impl ConvAlgorithm {
    /// Runs `f` with every convolution started on this thread computed by `self`, whatever
    /// the shape (its backward pass too): for tests and benchmarks that compare the kernels.
    ///
    /// ```
    /// use shapetorch::prelude::*;
    /// use shapetorch::ops::conv::ConvAlgorithm;
    /// let x = Tensor3::<f64, 1, 2, 8>::randn(0);
    /// let w = Tensor3::<f64, 3, 2, 3>::randn(1);
    /// let direct = ConvAlgorithm::Direct.force(|| x.conv1d(&w, ConvParams::<1, 0, 1>));
    /// let unroll = ConvAlgorithm::Unroll.force(|| x.conv1d(&w, ConvParams::<1, 0, 1>));
    /// for (a, b) in direct.as_slice().iter().zip(unroll.as_slice()) {
    ///     assert!((a - b).abs() < 1e-12);
    /// }
    /// ```
    pub fn force<R>(self, f: impl FnOnce() -> R) -> R {
        /// Restores the previous choice even if `f` panics.
        struct Restore(Option<ConvAlgorithm>);
        impl Drop for Restore {
            fn drop(&mut self) {
                FORCED.set(self.0);
            }
        }
        let _restore = Restore(FORCED.replace(Some(self)));
        f()
    }

    /// The algorithm a convolution of geometry `g` runs with: the forced one, or the faster
    /// one for the shape.
    pub fn pick(g: &ConvGeometry) -> Self {
        FORCED.get().unwrap_or_else(|| Self::for_geometry(g))
    }

    /// The faster kernel for this shape, as measured (`benches/conv.rs` and the small-shape
    /// sweep in the README): unroll + GEMM wins from about 10^5 multiply-adds up, by 1.3x to
    /// 4x, on every shape measured; below that both take microseconds and the direct loop,
    /// which needs no scratch matrix, is as fast or faster.
    pub fn for_geometry(g: &ConvGeometry) -> Self {
        if g.macs() < 1 << 17 {
            ConvAlgorithm::Direct
        } else {
            ConvAlgorithm::Unroll
        }
    }

    fn forward<E: Element>(self, g: &ConvGeometry, input: &[E], weight: &[E], output: &mut [E]) {
        match self {
            ConvAlgorithm::Direct => direct::forward(g, input, weight, output),
            ConvAlgorithm::Unroll => unroll::forward(g, input, weight, output),
        }
    }

    fn grad_input<E: Element>(
        self,
        g: &ConvGeometry,
        grad_output: &[E],
        weight: &[E],
        grad_input: &mut [E],
    ) {
        match self {
            ConvAlgorithm::Direct => direct::grad_input(g, grad_output, weight, grad_input),
            ConvAlgorithm::Unroll => unroll::grad_input(g, grad_output, weight, grad_input),
        }
    }

    fn grad_weight<E: Element>(
        self,
        g: &ConvGeometry,
        grad_output: &[E],
        input: &[E],
        grad_weight: &mut [E],
    ) {
        match self {
            ConvAlgorithm::Direct => direct::grad_weight(g, grad_output, input, grad_weight),
            ConvAlgorithm::Unroll => unroll::grad_weight(g, grad_output, input, grad_weight),
        }
    }
}

/// Runs a convolution described by `g` and records its backward pass: the shared body of
/// every public conv function (conv1d is a conv2d of height 1).
fn conv_op<E: Element, Sx: Shape, Sw: Shape, Sb: Shape, So: Shape>(
    g: ConvGeometry,
    input: &Tensor<E, Sx>,
    weight: &Tensor<E, Sw>,
    bias: Option<&Tensor<E, Sb>>,
    out_shape: So,
) -> Tensor<E, So> {
    debug_assert_eq!(g.output_len(), out_shape.numel());
    let algorithm = ConvAlgorithm::pick(&g);
    // The kernels overwrite the whole output.
    let mut output = Buffer::for_overwrite(g.output_len());
    algorithm.forward(&g, input.as_slice(), weight.as_slice(), &mut output);
    let plane = g.out_h * g.out_w;
    if let Some(bias) = bias {
        // output[b, o, ..] += bias[o]
        for (i, out_plane) in output.chunks_mut(plane.max(1)).enumerate() {
            let b_o = bias.as_slice()[i % g.out_channels];
            out_plane.iter_mut().for_each(|v| *v += b_o);
        }
    }
    let (x_grad, w_grad) = (input.grad_id(), weight.grad_id());
    let b_grad = bias.and_then(Tensor::grad_id);
    // grad_input reads the weight, grad_weight the input: keep each only if needed.
    let w = x_grad.map(|_| weight.storage());
    let x = w_grad.map(|_| input.storage());
    let inputs: Vec<&dyn OpInput<E>> = match bias {
        Some(bias) => vec![input, weight, bias],
        None => vec![input, weight],
    };
    Tensor::from_op(
        "convolution",
        out_shape,
        output,
        &inputs,
        move |grad_out, grads: &mut Gradients<E>| {
            if let (Some(id), Some(w)) = (x_grad, &w) {
                algorithm.grad_input(&g, grad_out, w, grads.accumulator(id, g.input_len()));
            }
            if let (Some(id), Some(x)) = (w_grad, &x) {
                algorithm.grad_weight(&g, grad_out, x, grads.accumulator(id, g.weight_len()));
            }
            if let Some(id) = b_grad {
                // grad_bias[o] += sum_{b, oy, ox} grad_out[b, o, oy, ox]
                let grad_bias = grads.accumulator(id, g.out_channels);
                for (i, out_plane) in grad_out.chunks(plane.max(1)).enumerate() {
                    grad_bias[i % g.out_channels] += out_plane.iter().copied().sum::<E>();
                }
            }
        },
    )
}

/// The input's dims as an array of `R` sizes (the relations have checked the rank).
fn dims_of<E: Element, S: Shape, const R: usize>(x: &Tensor<E, S>) -> [usize; R] {
    let dims = x.dims();
    dims.as_ref()
        .try_into()
        .expect("convolution: rank checked at compile time")
}

/// The geometry of a conv1d (a conv2d of height 1) on an input `[B, C, W]`.
fn geometry_1d<P: ConvHyperParams>(
    [batch, in_channels, in_w]: [usize; 3],
    out_channels: usize,
    kernel_w: usize,
    out_w: usize,
) -> ConvGeometry {
    ConvGeometry {
        batch,
        in_channels,
        out_channels,
        in_h: 1,
        in_w,
        kernel_h: 1,
        kernel_w,
        out_h: 1,
        out_w,
        stride: P::STRIDE,
        pad_top: 0,
        pad_left: P::PADDING,
        dilation: P::DILATION,
    }
}

/// The geometry of a conv2d on an input `[B, C, H, W]`. Padding may differ between the axes
/// ([`ConvParams2d`]); stride and dilation may not yet, since [`ConvGeometry`] has one of each
/// for both axes: that panics here.
fn geometry_2d<P: ConvHyperParams>(
    [batch, in_channels, in_h, in_w]: [usize; 4],
    out_channels: usize,
    [kernel_h, kernel_w]: [usize; 2],
    [out_h, out_w]: [usize; 2],
) -> ConvGeometry {
    let ([sh, sw], [dh, dw], [pad_top, pad_left]) = (P::STRIDE_HW, P::DILATION_HW, P::PADDING_HW);
    assert!(
        sh == sw && dh == dw,
        "conv2d: a stride ({sh}, {sw}) or dilation ({dh}, {dw}) that differs between height and \
         width is not yet supported by the kernels (they take one stride and one dilation for \
         both axes); padding may differ per axis"
    );
    ConvGeometry {
        batch,
        in_channels,
        out_channels,
        in_h,
        in_w,
        kernel_h,
        kernel_w,
        out_h,
        out_w,
        stride: sh,
        pad_top,
        pad_left,
        dilation: dh,
    }
}

/// The convolutions, on a tensor of any shape `S`: each is bounded by its shape relation
/// ([`Conv1dShape`], [`Conv2dShape`]), so a tensor of the wrong rank gets the relation's
/// message ("conv2d takes a 4-D input [batch, channels, height, width]") rather than "no method
/// named `conv2d`", and generic code writes one bound per call.
impl<E: Element, S: Shape> Tensor<E, S> {
    /// 1-D convolution `[B, C, W] * [O, C, K] -> [B, O, W_out]`, like
    /// `torch.nn.functional.conv1d(input, weight, stride=S, padding=P, dilation=D)` with
    /// `params` = [`ConvParams::<S, P, D>`](ConvParams) (or [`Minitorch`]).
    ///
    /// Compile errors: the input is not 3-D; the weight's in-channels differ from the input's;
    /// the dilated kernel is wider than the padded input; stride, dilation or kernel is zero.
    /// Generic code bounds the input shape with [`Conv1dShape`] and names the output
    /// [`Conv1dOut`].
    pub fn conv1d<const O: usize, const WC: usize, const K: usize, P: ConvHyperParams>(
        &self,
        weight: &Tensor<E, Rank3<O, WC, K>>,
        _params: P,
    ) -> Tensor<E, Conv1dOut<S, O, K, P>>
    where
        S: BatchDim + Conv1dShape<WC, K, P>,
    {
        let out_w = self.shape().out_width();
        let g = geometry_1d::<P>(dims_of(self), O, K, out_w.size());
        let out_shape = (self.shape().batch(), Dim, out_w);
        conv_op::<E, _, _, (Dim<O>,), _>(g, self, weight, None, out_shape)
    }

    /// [`conv1d`](Self::conv1d) plus a bias `[O]` added to every output position, like
    /// `torch.nn.functional.conv1d(input, weight, bias, ...)`. A bias of the wrong length is a
    /// compile error (checked when the op runs if its length is a runtime `usize`).
    pub fn conv1d_bias<const O: usize, const WC: usize, const K: usize, BL, P: ConvHyperParams>(
        &self,
        weight: &Tensor<E, Rank3<O, WC, K>>,
        bias: &Tensor<E, (BL,)>,
        _params: P,
    ) -> Tensor<E, Conv1dOut<S, O, K, P>>
    where
        S: BatchDim + Conv1dShape<WC, K, P>,
        BL: BiasDims<Dim<O>>,
    {
        bias.shape().0.check(&Dim::<O>);
        let out_w = self.shape().out_width();
        let g = geometry_1d::<P>(dims_of(self), O, K, out_w.size());
        let out_shape = (self.shape().batch(), Dim, out_w);
        conv_op(g, self, weight, Some(bias), out_shape)
    }

    /// The teaching convention: `[B, C, W] * [O, C, K] -> [B, O, W]`, the output as wide as the
    /// input, the kernel anchored at the left, zero past the end:
    /// `output[b, o, t] = sum_{c, k} weight[o, c, k] * input[b, c, t + k]`.
    /// Equals [`conv1d`](Self::conv1d) on the input padded with `K - 1` zeros on the right;
    /// the same as `conv1d(weight, Minitorch)`. The width may be a runtime `usize`.
    pub fn conv1d_minitorch<const O: usize, const WC: usize, const K: usize>(
        &self,
        weight: &Tensor<E, Rank3<O, WC, K>>,
    ) -> Tensor<E, Conv1dOut<S, O, K, Minitorch>>
    where
        S: BatchDim + Conv1dShape<WC, K, Minitorch>,
    {
        self.conv1d(weight, Minitorch)
    }

    /// 2-D convolution `[B, C, H, W] * [O, C, KH, KW] -> [B, O, H_out, W_out]`, like
    /// `torch.nn.functional.conv2d(input, weight, stride=S, padding=P, dilation=D)` with
    /// `params` = [`ConvParams::<S, P, D>`](ConvParams) (or [`Minitorch`]), or with PyTorch's
    /// tuples, `stride=(SH, SW), padding=(PH, PW), dilation=(DH, DW)`, with
    /// [`ConvParams2d::<SH, SW, PH, PW, DH, DW>`](ConvParams2d) (a stride or dilation that
    /// differs between the axes panics: the kernels do not support it yet).
    ///
    /// Compile errors: the input is not 4-D; the weight's in-channels differ from the input's;
    /// the dilated kernel is taller or wider than the padded input; stride, dilation or a kernel
    /// side is zero. Generic code bounds the input shape with [`Conv2dShape`] and names the
    /// output [`Conv2dOut`].
    pub fn conv2d<
        const O: usize,
        const WC: usize,
        const KH: usize,
        const KW: usize,
        P: ConvHyperParams,
    >(
        &self,
        weight: &Tensor<E, Rank4<O, WC, KH, KW>>,
        _params: P,
    ) -> Tensor<E, Conv2dOut<S, O, KH, KW, P>>
    where
        S: BatchDim + Conv2dShape<WC, KH, KW, P>,
    {
        let (out_h, out_w) = self.shape().out_size();
        let out = [out_h.size(), out_w.size()];
        let g = geometry_2d::<P>(dims_of(self), O, [KH, KW], out);
        let out_shape = (self.shape().batch(), Dim, out_h, out_w);
        conv_op::<E, _, _, (Dim<O>,), _>(g, self, weight, None, out_shape)
    }

    /// [`conv2d`](Self::conv2d) plus a bias `[O]` added to every output position, like
    /// `torch.nn.functional.conv2d(input, weight, bias, ...)`. A bias of the wrong length is a
    /// compile error (checked when the op runs if its length is a runtime `usize`).
    pub fn conv2d_bias<
        const O: usize,
        const WC: usize,
        const KH: usize,
        const KW: usize,
        BL,
        P: ConvHyperParams,
    >(
        &self,
        weight: &Tensor<E, Rank4<O, WC, KH, KW>>,
        bias: &Tensor<E, (BL,)>,
        _params: P,
    ) -> Tensor<E, Conv2dOut<S, O, KH, KW, P>>
    where
        S: BatchDim + Conv2dShape<WC, KH, KW, P>,
        BL: BiasDims<Dim<O>>,
    {
        bias.shape().0.check(&Dim::<O>);
        let (out_h, out_w) = self.shape().out_size();
        let out = [out_h.size(), out_w.size()];
        let g = geometry_2d::<P>(dims_of(self), O, [KH, KW], out);
        let out_shape = (self.shape().batch(), Dim, out_h, out_w);
        conv_op(g, self, weight, Some(bias), out_shape)
    }

    /// The teaching convention in 2-D: `[B, C, H, W] * [O, C, KH, KW] -> [B, O, H, W]`, the
    /// kernel anchored at the top-left, zero past the bottom and right edges:
    /// `output[b, o, i, j] = sum_{c, ki, kj} weight[o, c, ki, kj] * input[b, c, i + ki, j + kj]`.
    /// The same as `conv2d(weight, Minitorch)`.
    pub fn conv2d_minitorch<const O: usize, const WC: usize, const KH: usize, const KW: usize>(
        &self,
        weight: &Tensor<E, Rank4<O, WC, KH, KW>>,
    ) -> Tensor<E, Conv2dOut<S, O, KH, KW, Minitorch>>
    where
        S: BatchDim + Conv2dShape<WC, KH, KW, Minitorch>,
    {
        self.conv2d(weight, Minitorch)
    }
}
