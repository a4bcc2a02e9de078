//! The linear map `y = x · Wᵀ + b`, like `torch.nn.functional.linear(input, weight, bias)`.
//!
//! Shapes in words: input `[B, IN]` (or `[B, T, IN]`), weight `[OUT, IN]`, bias `[OUT]`, output
//! `[B, OUT]` (or `[B, T, OUT]`). The batch (and length) may be runtime `usize`s. The relation
//! [`LinearShape`] checks that the input's last dim equals the weight's `IN`: a mismatch in
//! static dims is a compile error ("linear: the input has 256 features, the layer expects
//! 250"), in runtime ones a panic with the same words. Generic code needs no bound when the
//! input's features are the weight's own `Dim<IN>`.
//!
//! ```
//! use shapetorch::prelude::*;
//! let x = Tensor::<f64, (usize, Dim<3>)>::from_fn_shaped((2, Dim), |[b, i]| (b * 3 + i) as f64);
//! let w = Tensor2::<f64, 2, 3>::from_slice(&[1., 0., 0., 0., 1., 1.]).unwrap(); // [OUT, IN]
//! let b = Tensor1::<f64, 2>::from_slice(&[10., 20.]).unwrap();
//! let y: Tensor<f64, (usize, Dim<2>)> = x.linear_bias(&w, &b);
//! // row 0: x = [0, 1, 2] -> [0 + 10, 1 + 2 + 20]; row 1: x = [3, 4, 5] -> [3 + 10, 4 + 5 + 20]
//! assert_eq!(y.to_vec(), vec![10., 23., 13., 29.]);
//! ```
//!
//! Built from `reshape_to`, `t`, `matmul` and `broadcast_to`, so the gradients are theirs.

use crate::shape::{Dimension, LinearBiasDims, LinearOut, LinearShape, ReplaceLast, Shape};
use crate::tensor::{Element, Tensor};

impl<E: Element, S: Shape> Tensor<E, S> {
    /// `x · Wᵀ`: `[.., IN] x [OUT, IN] -> [.., OUT]`, like `torch.nn.functional.linear(x, w)`.
    pub fn linear<O: Dimension, K: Dimension>(
        &self,
        weight: &Tensor<E, (O, K)>,
    ) -> Tensor<E, LinearOut<S, O>>
    where
        S: LinearShape<K> + ReplaceLast<O>,
    {
        let dims = self.dims();
        let dims = dims.as_ref();
        let (features, k) = (dims[dims.len() - 1], weight.shape().1.size());
        assert!(
            features == k,
            "linear: the input has {features} features, the layer expects {k}"
        );
        let out = weight.shape().0;
        let rows = self.numel().checked_div(k).unwrap_or(0);
        // [rows, IN] x [IN, OUT] -> [rows, OUT]
        let x = self.reshape_to((rows, k));
        let w_t = weight.t().reshape_to((k, out));
        let y = x.matmul(&w_t);
        y.reshape_to(self.shape().replace_last(out))
    }

    /// `x · Wᵀ + b`: [`linear`](Self::linear) plus the bias `[OUT]` added to every row, like
    /// `torch.nn.functional.linear(x, w, b)`. A bias of the wrong length is a compile error
    /// (checked when the op runs if either length is a runtime `usize`).
    pub fn linear_bias<O: Dimension, K: Dimension, BL>(
        &self,
        weight: &Tensor<E, (O, K)>,
        bias: &Tensor<E, (BL,)>,
    ) -> Tensor<E, LinearOut<S, O>>
    where
        S: LinearShape<K> + ReplaceLast<O>,
        BL: LinearBiasDims<O>,
    {
        let out = weight.shape().0;
        bias.shape().0.check(&out);
        let y = self.linear(weight);
        let rows = if out.size() == 0 {
            0
        } else {
            y.numel() / out.size()
        };
        let flat = y.reshape_to((rows, out));
        let b = bias.reshape_to((out,)).broadcast_to::<0, _>((rows, out));
        (&flat + &b).reshape_to(*y.shape())
    }
}
