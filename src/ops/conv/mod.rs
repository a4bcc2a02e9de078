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
//! [`ConvParams2d`] (PyTorch's tuples, `stride=(1, 2)`, `padding=(0, 2)`). The batch `B` may be a runtime
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
//! Two families of kernels compute every convolution: direct loops (register-blocked for
//! stride 1, compiled for AVX-512 next to the baseline; plain loops for larger strides) and
//! im2col (the lecture's unroll, as a kernel) followed by matrix multiplies. A [`ConvPlan`],
//! made once per call and kept by the backward closure, picks one per pass and shape. Backward:
//! the gradient of the input is the convolution of the upstream gradient with the reversed
//! kernel, anchored at the other end; the gradient of the weight correlates the input with the
//! upstream gradient; the bias's sums the upstream gradient.
//!
//! Files, one idea each (`src/ops/README.md`): this one the typed API; `geometry.rs` the
//! run-time sizes ([`ConvGeometry`]); `plan.rs` the choice of kernels ([`ConvPlan`],
//! [`ConvOverride`]); [`naive`] the reference loops; `direct.rs` the blocked kernels' entry
//! points, `layout.rs` their layouts and copies, `micro.rs` their micro-kernels, [`cpu`] the
//! instruction sets they have copies for; `strided.rs` the loops for larger strides;
//! `im2col.rs` im2col + GEMM.

pub mod cpu;
mod depthwise;
mod direct;
mod geometry;
#[cfg(test)]
mod group_tests;
mod grouped;
mod im2col;
#[cfg(test)]
mod kernel_tests;
mod layout;
mod micro;
pub mod naive;
#[cfg(test)]
mod path_tests;
mod plan;
mod strided;
mod transpose;
mod winograd;
pub use transpose::{ConvTransposeHyperParams, ConvTransposeParams, ConvTransposeParams2d};

pub use geometry::ConvGeometry;
pub use grouped::{GroupKernel, GroupedPlan};
pub use layout::Layout;
pub use micro::{Blocking, Taps};
pub use plan::{Blocked, ConvAlgorithm, ConvOverride, ConvPass, ConvPlan, PassKernel};
pub use transpose::TransposedPlan;

use crate::autodiff::Gradients;
use crate::memory::Buffer;
use crate::shape::{
    Conv1dBiasDims, Conv1dGroups, Conv1dOut, Conv1dShape, Conv1dSize, Conv2dBiasDims, Conv2dGroups,
    Conv2dOut, Conv2dShape, Conv2dSize, Dim, Rank3, Rank4, Shape,
};
pub use crate::shape::{ConvHyperParams, ConvParams, ConvParams2d, Minitorch};
use crate::tensor::{Element, OpInput, Tensor};

/// Runs a convolution described by `g` and records its backward pass: the shared body of
/// every public conv function (conv1d is a conv2d of height 1).
fn conv_op<E: Element, Sx: Shape, Sw: Shape, Sb: Shape, So: Shape>(
    g: ConvGeometry,
    groups: usize,
    input: &Tensor<E, Sx>,
    weight: &Tensor<E, Sw>,
    bias: Option<&Tensor<E, Sb>>,
    out_shape: So,
) -> Tensor<E, So> {
    debug_assert_eq!(g.output_len(), out_shape.numel());
    let plan = GroupedPlan::new::<E>(&g, groups);
    // The kernels overwrite the whole output.
    let mut output = Buffer::for_overwrite(g.output_len());
    plan.forward(input.as_slice(), weight.as_slice(), &mut output);
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
                plan.grad_input(grad_out, w, grads.accumulator(id, g.input_len()));
            }
            if let (Some(id), Some(x)) = (w_grad, &x) {
                plan.grad_weight(grad_out, x, grads.accumulator(id, plan.weight_len()));
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
    dims_of_shape(x.shape())
}

/// A shape's dims as an array of `R` sizes (the relations have checked the rank).
fn dims_of_shape<S: Shape, const R: usize>(shape: &S) -> [usize; R] {
    shape
        .dims()
        .as_ref()
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
        // the height is 1: one output row, reading the one input row
        stride_h: 1,
        stride_w: P::STRIDE[1],
        pad_top: 0,
        pad_left: P::PADDING[1],
        dilation_h: 1,
        dilation_w: P::DILATION[1],
    }
}

/// The geometry of a conv2d on an input `[B, C, H, W]`: stride, padding and dilation per axis
/// (the same along both for [`ConvParams`], PyTorch's tuples for [`ConvParams2d`]).
fn geometry_2d<P: ConvHyperParams>(
    [batch, in_channels, in_h, in_w]: [usize; 4],
    out_channels: usize,
    [kernel_h, kernel_w]: [usize; 2],
    [out_h, out_w]: [usize; 2],
) -> ConvGeometry {
    let [stride_h, stride_w] = P::STRIDE;
    let [pad_top, pad_left] = P::PADDING;
    let [dilation_h, dilation_w] = P::DILATION;
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
        stride_h,
        stride_w,
        pad_top,
        pad_left,
        dilation_h,
        dilation_w,
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
    #[rustfmt::skip] // the signature on two lines: compile errors quote it
    #[allow(clippy::multiple_bound_locations)] // the group check on a line of its own
    pub fn conv1d<const O: usize, const WC: usize, const K: usize, P: ConvHyperParams>(&self, weight: &Tensor<E, Rank3<O, WC, K>>, _params: P) -> Tensor<E, Conv1dOut<S, O, K, P>>
    where S: Conv1dShape<WC, K, P>,
          P: Conv1dGroups<O>,
    {
        let out_shape = Conv1dSize::<K, P>::conv1d_shape::<O>(self.shape());
        let g = geometry_1d::<P>(dims_of(self), O, K, dims_of_shape::<_, 3>(&out_shape)[2]);
        conv_op::<E, _, _, (Dim<O>,), _>(g, P::GROUPS, self, weight, None, out_shape)
    }

    /// [`conv1d`](Self::conv1d) plus a bias `[O]` added to every output position, like
    /// `torch.nn.functional.conv1d(input, weight, bias, ...)`. A bias of the wrong length is a
    /// compile error (checked when the op runs if its length is a runtime `usize`).
    #[rustfmt::skip] // the signature on two lines: compile errors quote it
    #[allow(clippy::multiple_bound_locations)] // the group check on a line of its own
    pub fn conv1d_bias<const O: usize, const WC: usize, const K: usize, BL, P: ConvHyperParams>(&self, weight: &Tensor<E, Rank3<O, WC, K>>, bias: &Tensor<E, (BL,)>, _params: P) -> Tensor<E, Conv1dOut<S, O, K, P>>
    where S: Conv1dShape<WC, K, P>, BL: Conv1dBiasDims<Dim<O>>,
          P: Conv1dGroups<O>,
    {
        bias.shape().0.check(&Dim::<O>);
        let out_shape = Conv1dSize::<K, P>::conv1d_shape::<O>(self.shape());
        let g = geometry_1d::<P>(dims_of(self), O, K, dims_of_shape::<_, 3>(&out_shape)[2]);
        conv_op(g, P::GROUPS, self, weight, Some(bias), out_shape)
    }

    /// The teaching convention: `[B, C, W] * [O, C, K] -> [B, O, W]`, the output as wide as the
    /// input, the kernel anchored at the left, zero past the end:
    /// `output[b, o, t] = sum_{c, k} weight[o, c, k] * input[b, c, t + k]`.
    /// Equals [`conv1d`](Self::conv1d) on the input padded with `K - 1` zeros on the right;
    /// the same as `conv1d(weight, Minitorch)`. The width may be a runtime `usize`.
    #[rustfmt::skip] // the signature on two lines: compile errors quote it
    pub fn conv1d_minitorch<const O: usize, const WC: usize, const K: usize>(&self, weight: &Tensor<E, Rank3<O, WC, K>>) -> Tensor<E, Conv1dOut<S, O, K, Minitorch>>
    where S: Conv1dShape<WC, K, Minitorch>,
    {
        self.conv1d(weight, Minitorch)
    }

    /// 2-D convolution `[B, C, H, W] * [O, C, KH, KW] -> [B, O, H_out, W_out]`, like
    /// `torch.nn.functional.conv2d(input, weight, stride=S, padding=P, dilation=D)` with
    /// `params` = [`ConvParams::<S, P, D>`](ConvParams) (or [`Minitorch`]), or with PyTorch's
    /// tuples, `stride=(SH, SW), padding=(PH, PW), dilation=(DH, DW)`, with
    /// [`ConvParams2d::<SH, SW, PH, PW, DH, DW>`](ConvParams2d) (each axis with its own
    /// values: `ConvParams2d::<1, 2>` is `stride=(1, 2)`).
    ///
    /// Compile errors: the input is not 4-D; the weight's in-channels differ from the input's;
    /// the dilated kernel is taller or wider than the padded input; stride, dilation or a kernel
    /// side is zero. Generic code bounds the input shape with [`Conv2dShape`] and names the
    /// output [`Conv2dOut`].
    #[rustfmt::skip] // the signature on two lines: compile errors quote it
    #[allow(clippy::multiple_bound_locations)] // the group check on a line of its own
    pub fn conv2d<const O: usize, const WC: usize, const KH: usize, const KW: usize, P: ConvHyperParams>(&self, weight: &Tensor<E, Rank4<O, WC, KH, KW>>, _params: P) -> Tensor<E, Conv2dOut<S, O, KH, KW, P>>
    where S: Conv2dShape<WC, KH, KW, P>,
          P: Conv2dGroups<O>,
    {
        let out_shape = Conv2dSize::<KH, KW, P>::conv2d_shape::<O>(self.shape());
        let [_, _, out_h, out_w] = dims_of_shape(&out_shape);
        let g = geometry_2d::<P>(dims_of(self), O, [KH, KW], [out_h, out_w]);
        conv_op::<E, _, _, (Dim<O>,), _>(g, P::GROUPS, self, weight, None, out_shape)
    }

    /// [`conv2d`](Self::conv2d) plus a bias `[O]` added to every output position, like
    /// `torch.nn.functional.conv2d(input, weight, bias, ...)`. A bias of the wrong length is a
    /// compile error (checked when the op runs if its length is a runtime `usize`).
    #[rustfmt::skip] // the signature on two lines: compile errors quote it
    #[allow(clippy::multiple_bound_locations)] // the group check on a line of its own
    pub fn conv2d_bias<const O: usize, const WC: usize, const KH: usize, const KW: usize, BL, P: ConvHyperParams>(&self, weight: &Tensor<E, Rank4<O, WC, KH, KW>>, bias: &Tensor<E, (BL,)>, _params: P) -> Tensor<E, Conv2dOut<S, O, KH, KW, P>>
    where S: Conv2dShape<WC, KH, KW, P>, BL: Conv2dBiasDims<Dim<O>>,
          P: Conv2dGroups<O>,
    {
        bias.shape().0.check(&Dim::<O>);
        let out_shape = Conv2dSize::<KH, KW, P>::conv2d_shape::<O>(self.shape());
        let [_, _, out_h, out_w] = dims_of_shape(&out_shape);
        let g = geometry_2d::<P>(dims_of(self), O, [KH, KW], [out_h, out_w]);
        conv_op(g, P::GROUPS, self, weight, Some(bias), out_shape)
    }

    /// The teaching convention in 2-D: `[B, C, H, W] * [O, C, KH, KW] -> [B, O, H, W]`, the
    /// kernel anchored at the top-left, zero past the bottom and right edges:
    /// `output[b, o, i, j] = sum_{c, ki, kj} weight[o, c, ki, kj] * input[b, c, i + ki, j + kj]`.
    /// The same as `conv2d(weight, Minitorch)`.
    #[rustfmt::skip] // the signature on two lines: compile errors quote it
    pub fn conv2d_minitorch<const O: usize, const WC: usize, const KH: usize, const KW: usize>(&self, weight: &Tensor<E, Rank4<O, WC, KH, KW>>) -> Tensor<E, Conv2dOut<S, O, KH, KW, Minitorch>>
    where S: Conv2dShape<WC, KH, KW, Minitorch>,
    {
        self.conv2d(weight, Minitorch)
    }
}
