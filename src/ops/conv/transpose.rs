//! Transposed convolution: `conv_transpose1d` and `conv_transpose2d` with PyTorch's arguments
//! (stride, padding, output_padding, dilation, groups), and their gradients.
//!
//! A transposed convolution is the gradient of a convolution with respect to its input, run
//! forward: each input position spreads `weight` over a window of the output,
//!
//! `output[b, g·O/G + o, iy*S + ky*D - P, ix*S + kx*D - P] += input[b, c, iy, ix] * weight[c, o, ky, kx]`
//!
//! for input channel `c` in group `g`, like `torch.nn.functional.conv_transpose2d(input,
//! weight, stride=S, padding=P, output_padding=OP, groups=G, dilation=D)`. Shapes in words:
//! input `[B, C, H, W]`, weight `[C, O/G, KH, KW]` → `[B, O, H_out, W_out]` with
//! `H_out = (H - 1)·S - 2P + D·(KH - 1) + OP + 1`, computed by the compiler
//! ([`ConvTranspose2dShape`]).
//!
//! ```
//! use shapetorch::prelude::*;
//! let x = Tensor4::<f32, 2, 8, 7, 7>::randn(0);
//! let w = Tensor4::<f32, 8, 4, 3, 3>::randn(1); // [in_channels, out_channels, kh, kw]
//! // (7 - 1)*2 - 2*1 + (3 - 1) + 1 + 1 = 14
//! let y: Tensor4<f32, 2, 4, 14, 14> = x.conv_transpose2d(&w, ConvTransposeParams::<2, 1, 1>);
//! # let _ = y;
//! ```
//!
//! No kernel of its own: the convolution it transposes (input `[B, O, H_out, W_out]`, weight
//! `[C, O/G, KH, KW]` read as `[out_channels, in_channels / G, ..]`, output `[B, C, H, W]`)
//! has one [`GroupedPlan`], and
//! - the forward pass is that convolution's input gradient (`grad_input`),
//! - the input's gradient is that convolution's forward pass,
//! - the weight's gradient is that convolution's weight gradient with the roles swapped: the
//!   upstream gradient plays the convolution's input, this op's input its upstream gradient.

use super::{dims_of, dims_of_shape, ConvGeometry, GroupedPlan};
use crate::autodiff::Gradients;
use crate::memory::Buffer;
use crate::shape::{
    ConvTranspose1dOut, ConvTranspose1dShape, ConvTranspose1dSize, ConvTranspose2dOut,
    ConvTranspose2dShape, ConvTranspose2dSize, ConvTransposeChannels, Dim, Rank3, Rank4, Shape,
};
pub use crate::shape::{ConvTransposeHyperParams, ConvTransposeParams, ConvTransposeParams2d};
use crate::tensor::{Element, OpInput, Tensor};

/// The convolution a transposed convolution transposes: its input is the transposed op's
/// output `[B, O, OH, OW]`, its output the transposed op's input `[B, C, H, W]`.
///
/// `x` is the transposed op's input dims, `out` its output dims, `kernel` `[KH, KW]`.
fn transposed_geometry<P: ConvTransposeHyperParams>(
    [batch, in_channels, in_h, in_w]: [usize; 4],
    [_, out_channels, out_h, out_w]: [usize; 4],
    [kernel_h, kernel_w]: [usize; 2],
) -> ConvGeometry {
    let [stride_h, stride_w] = P::STRIDE;
    let [pad_top, pad_left] = P::PADDING;
    let [dilation_h, dilation_w] = P::DILATION;
    ConvGeometry {
        batch,
        in_channels: out_channels,
        out_channels: in_channels,
        in_h: out_h,
        in_w: out_w,
        kernel_h,
        kernel_w,
        out_h: in_h,
        out_w: in_w,
        stride_h,
        stride_w,
        pad_top,
        pad_left,
        dilation_h,
        dilation_w,
    }
}

/// The three passes of a transposed convolution, on the [`GroupedPlan`] of the convolution
/// it transposes.
#[derive(Clone, Copy, Debug)]
pub struct TransposedPlan {
    conv: GroupedPlan,
}

impl TransposedPlan {
    /// The plan for the transpose of the convolution `conv` (whole channel counts) in `groups`
    /// groups, in `E`.
    pub fn new<E: Element>(conv: &ConvGeometry, groups: usize) -> TransposedPlan {
        TransposedPlan {
            conv: GroupedPlan::new::<E>(conv, groups),
        }
    }

    /// The plan of the convolution it transposes.
    pub fn conv(&self) -> &GroupedPlan {
        &self.conv
    }

    /// Overwrites `output` (`[B, O, OH, OW]`) with the transposed convolution of `input`
    /// (`[B, C, H, W]`): the convolution's input gradient for an upstream gradient `input`.
    pub fn forward<E: Element>(&self, input: &[E], weight: &[E], output: &mut [E]) {
        output.fill(E::zero());
        self.conv.grad_input(input, weight, output);
    }

    /// Adds the gradient with respect to the input into `grad_input`: the convolution of the
    /// upstream gradient.
    pub fn grad_input<E: Element>(&self, grad_output: &[E], weight: &[E], grad_input: &mut [E]) {
        // the convolution overwrites its output; gradients add
        let mut conv = Buffer::for_overwrite(grad_input.len());
        self.conv.forward(grad_output, weight, &mut conv);
        grad_input
            .iter_mut()
            .zip(conv.iter())
            .for_each(|(g, &c)| *g += c);
    }

    /// Adds the gradient with respect to the weight into `grad_weight`: the convolution's
    /// weight gradient with the upstream gradient as its input and `input` as its upstream
    /// gradient.
    pub fn grad_weight<E: Element>(&self, grad_output: &[E], input: &[E], grad_weight: &mut [E]) {
        self.conv.grad_weight(input, grad_output, grad_weight);
    }
}

/// Runs a transposed convolution and records its backward pass: the shared body of both
/// public functions (conv_transpose1d is a conv_transpose2d of height 1).
fn conv_transpose_op<E: Element, Sx: Shape, Sw: Shape, Sb: Shape, So: Shape>(
    conv: ConvGeometry,
    groups: usize,
    input: &Tensor<E, Sx>,
    weight: &Tensor<E, Sw>,
    bias: Option<&Tensor<E, Sb>>,
    out_shape: So,
) -> Tensor<E, So> {
    debug_assert_eq!(conv.input_len(), out_shape.numel());
    let plan = TransposedPlan::new::<E>(&conv, groups);
    let mut output = Buffer::for_overwrite(conv.input_len());
    plan.forward(input.as_slice(), weight.as_slice(), &mut output);
    // the transposed op's output is the convolution's input: its channels and planes
    let (channels, plane) = (conv.in_channels, conv.in_plane().max(1));
    if let Some(bias) = bias {
        // output[b, o, ..] += bias[o]
        for (i, out_plane) in output.chunks_mut(plane).enumerate() {
            let b_o = bias.as_slice()[i % channels];
            out_plane.iter_mut().for_each(|v| *v += b_o);
        }
    }
    let (x_grad, w_grad) = (input.grad_id(), weight.grad_id());
    let b_grad = bias.and_then(Tensor::grad_id);
    let w = x_grad.map(|_| weight.storage());
    let x = w_grad.map(|_| input.storage());
    let (input_len, weight_len) = (conv.output_len(), plan.conv().weight_len());
    let inputs: Vec<&dyn OpInput<E>> = match bias {
        Some(bias) => vec![input, weight, bias],
        None => vec![input, weight],
    };
    Tensor::from_op(
        "conv_transpose",
        out_shape,
        output,
        &inputs,
        move |grad_out, grads: &mut Gradients<E>| {
            if let (Some(id), Some(w)) = (x_grad, &w) {
                plan.grad_input(grad_out, w, grads.accumulator(id, input_len));
            }
            if let (Some(id), Some(x)) = (w_grad, &x) {
                plan.grad_weight(grad_out, x, grads.accumulator(id, weight_len));
            }
            if let Some(id) = b_grad {
                // grad_bias[o] += sum_{b, oy, ox} grad_out[b, o, oy, ox]
                let grad_bias = grads.accumulator(id, channels);
                for (i, out_plane) in grad_out.chunks(plane).enumerate() {
                    grad_bias[i % channels] += out_plane.iter().copied().sum::<E>();
                }
            }
        },
    )
}

/// The transposed convolutions, on a tensor of any shape `S`, each bounded by its shape
/// relation ([`ConvTranspose1dShape`], [`ConvTranspose2dShape`]).
impl<E: Element, S: Shape> Tensor<E, S> {
    /// 1-D transposed convolution `[B, C, W] * [C, O/G, K] -> [B, O, W_out]`,
    /// `W_out = (W - 1)·S - 2P + D·(K - 1) + OP + 1`, like
    /// `torch.nn.functional.conv_transpose1d(input, weight, stride=S, padding=P,
    /// output_padding=OP, groups=G, dilation=D)` with `params` =
    /// [`ConvTransposeParams::<S, P, OP, D, G>`](ConvTransposeParams).
    ///
    /// Compile errors: the input is not 3-D; its channels differ from the weight's first dim
    /// or do not split into the groups; the output padding is not below the stride or the
    /// dilation; the padding crops the whole output; stride, dilation or kernel is zero.
    #[rustfmt::skip] // the signature on two lines: compile errors quote it
    pub fn conv_transpose1d<const WC: usize, const WO: usize, const K: usize, P: ConvTransposeHyperParams>(&self, weight: &Tensor<E, Rank3<WC, WO, K>>, _params: P) -> Tensor<E, ConvTranspose1dOut<S, WO, K, P>>
    where S: ConvTranspose1dShape<WC, WO, K, P>,
    {
        let out_shape = ConvTranspose1dSize::<WO, K, P>::conv_transpose1d_shape(self.shape());
        let [batch, channels, width] = dims_of::<_, _, 3>(self);
        let [_, out_channels, out_w] = dims_of_shape::<_, 3>(&out_shape);
        // a conv_transpose2d of height 1: one input row, one output row
        let mut conv = transposed_geometry::<P>([batch, channels, 1, width], [batch, out_channels, 1, out_w], [1, K]);
        (conv.stride_h, conv.pad_top, conv.dilation_h) = (1, 0, 1);
        conv_transpose_op::<E, _, _, (Dim<1>,), _>(conv, P::GROUPS, self, weight, None, out_shape)
    }

    /// [`conv_transpose1d`](Self::conv_transpose1d) plus a bias `[O]` (`O = WO * groups`,
    /// [`ConvTransposeChannels`]) added to every output position, like
    /// `torch.nn.functional.conv_transpose1d(input, weight, bias, ...)`.
    #[rustfmt::skip] // the signature on two lines: compile errors quote it
    pub fn conv_transpose1d_bias<const WC: usize, const WO: usize, const K: usize, P: ConvTransposeHyperParams + ConvTransposeChannels<WO>>(&self, weight: &Tensor<E, Rank3<WC, WO, K>>, bias: &Tensor<E, (P::Channels,)>, _params: P) -> Tensor<E, ConvTranspose1dOut<S, WO, K, P>>
    where S: ConvTranspose1dShape<WC, WO, K, P>,
    {
        let out_shape = ConvTranspose1dSize::<WO, K, P>::conv_transpose1d_shape(self.shape());
        let [batch, channels, width] = dims_of::<_, _, 3>(self);
        let [_, out_channels, out_w] = dims_of_shape::<_, 3>(&out_shape);
        let mut conv = transposed_geometry::<P>([batch, channels, 1, width], [batch, out_channels, 1, out_w], [1, K]);
        (conv.stride_h, conv.pad_top, conv.dilation_h) = (1, 0, 1);
        conv_transpose_op(conv, P::GROUPS, self, weight, Some(bias), out_shape)
    }

    /// 2-D transposed convolution `[B, C, H, W] * [C, O/G, KH, KW] -> [B, O, H_out, W_out]`,
    /// `H_out = (H - 1)·S - 2P + D·(KH - 1) + OP + 1`, like
    /// `torch.nn.functional.conv_transpose2d(input, weight, stride=S, padding=P,
    /// output_padding=OP, groups=G, dilation=D)` with `params` =
    /// [`ConvTransposeParams::<S, P, OP, D, G>`](ConvTransposeParams), or per axis with
    /// [`ConvTransposeParams2d`].
    ///
    /// Compile errors: as [`conv_transpose1d`](Self::conv_transpose1d), along each axis.
    #[rustfmt::skip] // the signature on two lines: compile errors quote it
    pub fn conv_transpose2d<const WC: usize, const WO: usize, const KH: usize, const KW: usize, P: ConvTransposeHyperParams>(&self, weight: &Tensor<E, Rank4<WC, WO, KH, KW>>, _params: P) -> Tensor<E, ConvTranspose2dOut<S, WO, KH, KW, P>>
    where S: ConvTranspose2dShape<WC, WO, KH, KW, P>,
    {
        let out_shape = ConvTranspose2dSize::<WO, KH, KW, P>::conv_transpose2d_shape(self.shape());
        let conv = transposed_geometry::<P>(dims_of(self), dims_of_shape(&out_shape), [KH, KW]);
        conv_transpose_op::<E, _, _, (Dim<1>,), _>(conv, P::GROUPS, self, weight, None, out_shape)
    }

    /// [`conv_transpose2d`](Self::conv_transpose2d) plus a bias `[O]` (`O = WO * groups`,
    /// [`ConvTransposeChannels`]) added to every output position, like
    /// `torch.nn.functional.conv_transpose2d(input, weight, bias, ...)`.
    #[rustfmt::skip] // the signature on two lines: compile errors quote it
    pub fn conv_transpose2d_bias<const WC: usize, const WO: usize, const KH: usize, const KW: usize, P: ConvTransposeHyperParams + ConvTransposeChannels<WO>>(&self, weight: &Tensor<E, Rank4<WC, WO, KH, KW>>, bias: &Tensor<E, (P::Channels,)>, _params: P) -> Tensor<E, ConvTranspose2dOut<S, WO, KH, KW, P>>
    where S: ConvTranspose2dShape<WC, WO, KH, KW, P>,
    {
        let out_shape = ConvTranspose2dSize::<WO, KH, KW, P>::conv_transpose2d_shape(self.shape());
        let conv = transposed_geometry::<P>(dims_of(self), dims_of_shape(&out_shape), [KH, KW]);
        conv_transpose_op(conv, P::GROUPS, self, weight, Some(bias), out_shape)
    }
}
