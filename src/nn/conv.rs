//! `Conv1d` and `Conv2d`: convolution layers with a weight and a bias, like `torch.nn.Conv1d`
//! and `torch.nn.Conv2d`; stride, padding and dilation are the type parameter `P`.

use super::{uniform, Forward, Init, Module, Visitor};
use crate::element::Element;
use crate::ops::conv::{ConvHyperParams, ConvParams};
use crate::shape::{Conv1dOut, Conv1dShape, Conv2dOut, Conv2dShape};
use crate::tensor::{Rng, Tensor, Tensor1, Tensor3, Tensor4};

/// A 1-D convolution layer from `C` to `O` channels with kernel width `K`:
/// `[B, C, W] → [B, O, W_out]`, weight `[O, C, K]`, bias `[O]`. `P` holds stride, padding and
/// dilation (`ConvParams<1, 0, 1>` by default, or `Minitorch` for the lecture's convention).
///
/// Initialised as PyTorch does: weight and bias uniform in `[-1/sqrt(C·K), 1/sqrt(C·K))`.
#[derive(Clone, Debug)]
pub struct Conv1d<
    E: Element,
    const C: usize,
    const O: usize,
    const K: usize,
    P: ConvHyperParams = ConvParams,
> {
    /// `[O, C, K]`.
    pub weight: Tensor3<E, O, C, K>,
    /// `[O]`.
    pub bias: Tensor1<E, O>,
    params: P,
}

impl<E: Element, const C: usize, const O: usize, const K: usize, P: ConvHyperParams> Init
    for Conv1d<E, C, O, K, P>
{
    fn init(rng: &mut Rng) -> Self {
        let bound = 1.0 / ((C * K).max(1) as f64).sqrt();
        Conv1d {
            weight: uniform(rng, bound),
            bias: uniform(rng, bound),
            params: P::default(),
        }
    }
}

impl<E: Element, const C: usize, const O: usize, const K: usize, P: ConvHyperParams> Module<E>
    for Conv1d<E, C, O, K, P>
{
    fn visit(&mut self, visitor: &mut Visitor<'_, E>) {
        visitor.param("weight", &mut self.weight);
        visitor.param("bias", &mut self.bias);
    }
}

impl<E: Element, const C: usize, const O: usize, const K: usize, P: ConvHyperParams>
    Conv1d<E, C, O, K, P>
{
    /// `[B, C, W] → [B, O, W_out]`. (An inherent method, so that a wrong input reports the
    /// convolution's own message at the call; [`Forward`] calls it.)
    #[rustfmt::skip] // the signature on two lines: compile errors quote it
    pub fn forward<S>(&self, x: Tensor<E, S>) -> Tensor<E, Conv1dOut<S, O, K, P>>
    where S: Conv1dShape<C, K, P>,
    {
        x.conv1d_bias(&self.weight, &self.bias, self.params)
    }
}

impl<E, S, const C: usize, const O: usize, const K: usize, P> Forward<Tensor<E, S>>
    for Conv1d<E, C, O, K, P>
where
    E: Element,
    P: ConvHyperParams,
    S: Conv1dShape<C, K, P>,
{
    type Output = Tensor<E, Conv1dOut<S, O, K, P>>;
    fn forward(&self, x: Tensor<E, S>) -> Self::Output {
        Conv1d::forward(self, x)
    }
}

/// A 2-D convolution layer from `C` to `O` channels with a `KH × KW` kernel:
/// `[B, C, H, W] → [B, O, H_out, W_out]`, weight `[O, C, KH, KW]`, bias `[O]`. `P` holds stride,
/// padding and dilation (`ConvParams<1, 0, 1>` by default).
///
/// Initialised as PyTorch does: weight and bias uniform in `[-1/sqrt(C·KH·KW), 1/sqrt(C·KH·KW))`.
///
/// ```
/// use shapetorch::prelude::*;
/// // 1 → 6 channels, 5×5, padding 2: the output keeps 28×28
/// let conv = Conv2d::<f32, 1, 6, 5, 5, ConvParams<1, 2>>::new(0);
/// let x = Tensor::<f32, (usize, Dim<1>, Dim<28>, Dim<28>)>::zeros_shaped((3, Dim, Dim, Dim));
/// let y: Tensor<f32, (usize, Dim<6>, Dim<28>, Dim<28>)> = conv.forward(x);
/// assert_eq!(y.dims(), [3, 6, 28, 28]);
/// ```
#[derive(Clone, Debug)]
pub struct Conv2d<
    E: Element,
    const C: usize,
    const O: usize,
    const KH: usize,
    const KW: usize,
    P: ConvHyperParams = ConvParams,
> {
    /// `[O, C, KH, KW]`.
    pub weight: Tensor4<E, O, C, KH, KW>,
    /// `[O]`.
    pub bias: Tensor1<E, O>,
    params: P,
}

impl<
        E: Element,
        const C: usize,
        const O: usize,
        const KH: usize,
        const KW: usize,
        P: ConvHyperParams,
    > Init for Conv2d<E, C, O, KH, KW, P>
{
    fn init(rng: &mut Rng) -> Self {
        let bound = 1.0 / ((C * KH * KW).max(1) as f64).sqrt();
        Conv2d {
            weight: uniform(rng, bound),
            bias: uniform(rng, bound),
            params: P::default(),
        }
    }
}

impl<
        E: Element,
        const C: usize,
        const O: usize,
        const KH: usize,
        const KW: usize,
        P: ConvHyperParams,
    > Module<E> for Conv2d<E, C, O, KH, KW, P>
{
    fn visit(&mut self, visitor: &mut Visitor<'_, E>) {
        visitor.param("weight", &mut self.weight);
        visitor.param("bias", &mut self.bias);
    }
}

impl<
        E: Element,
        const C: usize,
        const O: usize,
        const KH: usize,
        const KW: usize,
        P: ConvHyperParams,
    > Conv2d<E, C, O, KH, KW, P>
{
    /// `[B, C, H, W] → [B, O, H_out, W_out]`. (An inherent method, so that a wrong input
    /// reports the convolution's own message at the call; [`Forward`] calls it.)
    #[rustfmt::skip] // the signature on two lines: compile errors quote it
    pub fn forward<S>(&self, x: Tensor<E, S>) -> Tensor<E, Conv2dOut<S, O, KH, KW, P>>
    where S: Conv2dShape<C, KH, KW, P>,
    {
        x.conv2d_bias(&self.weight, &self.bias, self.params)
    }
}

impl<E, S, const C: usize, const O: usize, const KH: usize, const KW: usize, P>
    Forward<Tensor<E, S>> for Conv2d<E, C, O, KH, KW, P>
where
    E: Element,
    P: ConvHyperParams,
    S: Conv2dShape<C, KH, KW, P>,
{
    type Output = Tensor<E, Conv2dOut<S, O, KH, KW, P>>;
    fn forward(&self, x: Tensor<E, S>) -> Self::Output {
        Conv2d::forward(self, x)
    }
}

#[cfg(test)]
mod tests {
    use crate::prelude::*;

    #[test]
    fn layers_match_the_functional_ops_and_pytorch_init_bounds() {
        let conv = Conv2d::<f64, 2, 3, 3, 3, ConvParams<2, 1>>::new(1);
        let bound = 1.0 / (2.0 * 9.0f64).sqrt();
        assert!(conv.weight.as_slice().iter().all(|v| v.abs() <= bound));
        assert!(conv.bias.as_slice().iter().all(|v| v.abs() <= bound));
        let x = Tensor4::<f64, 2, 2, 7, 7>::randn(2);
        let y: Tensor4<f64, 2, 3, 4, 4> = conv.forward(x.clone());
        let direct = x.conv2d_bias(&conv.weight, &conv.bias, ConvParams::<2, 1>);
        assert_eq!(y.to_vec(), direct.to_vec());

        let mut conv1 = Conv1d::<f64, 3, 4, 5, Minitorch>::new(3);
        let s = Tensor::<f64, (usize, Dim<3>, Dim<10>)>::randn_shaped((2, Dim, Dim), 4, 0.0, 1.0);
        let y: Tensor<f64, (usize, Dim<4>, Dim<10>)> = conv1.forward(s.clone());
        assert_eq!(
            y.to_vec(),
            s.conv1d_bias(&conv1.weight, &conv1.bias, Minitorch)
                .to_vec()
        );
        assert_eq!(conv1.parameter_names(), vec!["weight", "bias"]);
    }
}
