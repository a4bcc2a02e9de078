//! `ConvTranspose1d` and `ConvTranspose2d`: transposed convolution layers with a weight and a
//! bias, like `torch.nn.ConvTranspose1d` and `torch.nn.ConvTranspose2d`; stride, padding,
//! output padding, dilation and groups are the type parameter `P`.

use super::{uniform, Forward, Init, Module, Visitor};
use crate::element::Element;
use crate::ops::conv::{ConvTransposeHyperParams, ConvTransposeParams};
use crate::shape::{
    ConvTranspose1dOut, ConvTranspose1dShape, ConvTranspose2dOut, ConvTranspose2dShape,
    ConvTransposeChannels,
};
use crate::tensor::{Rng, Tensor, Tensor3, Tensor4};

/// A 1-D transposed convolution layer from `C` channels with kernel width `K`:
/// `[B, C, W] → [B, O, W_out]`, `W_out = (W - 1)·S - 2P + D·(K - 1) + OP + 1`, weight
/// `[C, WO, K]` (PyTorch's `[in_channels, out_channels / groups, K]`), bias `[O]`,
/// `O = WO · groups` ([`ConvTransposeChannels`]). `P` holds stride, padding, output padding,
/// dilation and groups ([`ConvTransposeParams`]).
///
/// Initialised as PyTorch does: weight and bias uniform in `[-1/sqrt(WO·K), 1/sqrt(WO·K))`
/// (PyTorch's fan-in of a transposed weight is its second dim times the kernel).
#[derive(Clone, Debug)]
pub struct ConvTranspose1d<
    E: Element,
    const C: usize,
    const WO: usize,
    const K: usize,
    P: ConvTransposeHyperParams + ConvTransposeChannels<WO> = ConvTransposeParams,
> {
    /// `[C, WO, K]`.
    pub weight: Tensor3<E, C, WO, K>,
    /// `[O]`, `O = WO · groups`.
    pub bias: Tensor<E, (P::Channels,)>,
    params: P,
}

impl<E: Element, const C: usize, const WO: usize, const K: usize, P> Init
    for ConvTranspose1d<E, C, WO, K, P>
where
    P: ConvTransposeHyperParams + ConvTransposeChannels<WO>,
{
    fn init(rng: &mut Rng) -> Self {
        let bound = 1.0 / ((WO * K).max(1) as f64).sqrt();
        ConvTranspose1d {
            weight: uniform(rng, bound),
            bias: uniform(rng, bound),
            params: P::default(),
        }
    }
}

impl<E: Element, const C: usize, const WO: usize, const K: usize, P> Module<E>
    for ConvTranspose1d<E, C, WO, K, P>
where
    P: ConvTransposeHyperParams + ConvTransposeChannels<WO>,
{
    fn visit(&mut self, visitor: &mut Visitor<'_, E>) {
        visitor.param("weight", &mut self.weight);
        visitor.param("bias", &mut self.bias);
    }
}

impl<E: Element, const C: usize, const WO: usize, const K: usize, P> ConvTranspose1d<E, C, WO, K, P>
where
    P: ConvTransposeHyperParams + ConvTransposeChannels<WO>,
{
    /// `[B, C, W] → [B, O, W_out]`.
    #[rustfmt::skip] // the signature on two lines: compile errors quote it
    pub fn forward<S>(&self, x: Tensor<E, S>) -> Tensor<E, ConvTranspose1dOut<S, WO, K, P>>
    where S: ConvTranspose1dShape<C, WO, K, P>,
    {
        let y = x.conv_transpose1d_bias(&self.weight, &self.bias, self.params);
        super::summary::note_output(self, y.dims().as_ref());
        y
    }
}

impl<E, S, const C: usize, const WO: usize, const K: usize, P> Forward<Tensor<E, S>>
    for ConvTranspose1d<E, C, WO, K, P>
where
    E: Element,
    P: ConvTransposeHyperParams + ConvTransposeChannels<WO>,
    S: ConvTranspose1dShape<C, WO, K, P>,
{
    type Output = Tensor<E, ConvTranspose1dOut<S, WO, K, P>>;
    fn forward(&self, x: Tensor<E, S>) -> Self::Output {
        ConvTranspose1d::forward(self, x)
    }
}

/// A 2-D transposed convolution layer from `C` channels with a `KH × KW` kernel:
/// `[B, C, H, W] → [B, O, H_out, W_out]`, `H_out = (H - 1)·S - 2P + D·(KH - 1) + OP + 1`,
/// weight `[C, WO, KH, KW]` (PyTorch's `[in_channels, out_channels / groups, KH, KW]`), bias
/// `[O]`, `O = WO · groups`. `P` holds stride, padding, output padding, dilation and groups
/// ([`ConvTransposeParams`], or per axis `ConvTransposeParams2d`).
///
/// Initialised as PyTorch does: weight and bias uniform in
/// `[-1/sqrt(WO·KH·KW), 1/sqrt(WO·KH·KW))`.
///
/// ```
/// use shapetorch::prelude::*;
/// // 16 → 8 channels, 3×3, stride 2, padding 1, output padding 1: doubles 7×7 to 14×14
/// let up = ConvTranspose2d::<f32, 16, 8, 3, 3, ConvTransposeParams<2, 1, 1>>::new(0);
/// let x = Tensor::<f32, (usize, Dim<16>, Dim<7>, Dim<7>)>::zeros_shaped((3, Dim, Dim, Dim));
/// let y: Tensor<f32, (usize, Dim<8>, Dim<14>, Dim<14>)> = up.forward(x);
/// assert_eq!(y.dims(), [3, 8, 14, 14]);
/// ```
#[derive(Clone, Debug)]
pub struct ConvTranspose2d<
    E: Element,
    const C: usize,
    const WO: usize,
    const KH: usize,
    const KW: usize,
    P: ConvTransposeHyperParams + ConvTransposeChannels<WO> = ConvTransposeParams,
> {
    /// `[C, WO, KH, KW]`.
    pub weight: Tensor4<E, C, WO, KH, KW>,
    /// `[O]`, `O = WO · groups`.
    pub bias: Tensor<E, (P::Channels,)>,
    params: P,
}

impl<E: Element, const C: usize, const WO: usize, const KH: usize, const KW: usize, P> Init
    for ConvTranspose2d<E, C, WO, KH, KW, P>
where
    P: ConvTransposeHyperParams + ConvTransposeChannels<WO>,
{
    fn init(rng: &mut Rng) -> Self {
        let bound = 1.0 / ((WO * KH * KW).max(1) as f64).sqrt();
        ConvTranspose2d {
            weight: uniform(rng, bound),
            bias: uniform(rng, bound),
            params: P::default(),
        }
    }
}

impl<E: Element, const C: usize, const WO: usize, const KH: usize, const KW: usize, P> Module<E>
    for ConvTranspose2d<E, C, WO, KH, KW, P>
where
    P: ConvTransposeHyperParams + ConvTransposeChannels<WO>,
{
    fn visit(&mut self, visitor: &mut Visitor<'_, E>) {
        visitor.param("weight", &mut self.weight);
        visitor.param("bias", &mut self.bias);
    }
}

impl<E: Element, const C: usize, const WO: usize, const KH: usize, const KW: usize, P>
    ConvTranspose2d<E, C, WO, KH, KW, P>
where
    P: ConvTransposeHyperParams + ConvTransposeChannels<WO>,
{
    /// `[B, C, H, W] → [B, O, H_out, W_out]`.
    #[rustfmt::skip] // the signature on two lines: compile errors quote it
    pub fn forward<S>(&self, x: Tensor<E, S>) -> Tensor<E, ConvTranspose2dOut<S, WO, KH, KW, P>>
    where S: ConvTranspose2dShape<C, WO, KH, KW, P>,
    {
        let y = x.conv_transpose2d_bias(&self.weight, &self.bias, self.params);
        super::summary::note_output(self, y.dims().as_ref());
        y
    }
}

impl<E, S, const C: usize, const WO: usize, const KH: usize, const KW: usize, P>
    Forward<Tensor<E, S>> for ConvTranspose2d<E, C, WO, KH, KW, P>
where
    E: Element,
    P: ConvTransposeHyperParams + ConvTransposeChannels<WO>,
    S: ConvTranspose2dShape<C, WO, KH, KW, P>,
{
    type Output = Tensor<E, ConvTranspose2dOut<S, WO, KH, KW, P>>;
    fn forward(&self, x: Tensor<E, S>) -> Self::Output {
        ConvTranspose2d::forward(self, x)
    }
}
