//! The linear map `y = x · Wᵀ + b`, like `torch.nn.functional.linear(input, weight, bias)`, with
//! its gradients; the weight is stored `[out_features, in_features]` as in PyTorch, so weights
//! move between the two unchanged.
//!
//! Shapes in words: input `[B, IN]` (or `[B, T, IN]`), weight `[OUT, IN]`, bias `[OUT]`, output
//! `[B, OUT]` (or `[B, T, OUT]`). The batch (and length) may be runtime `usize`s. The relation
//! [`LinearShape`](crate::shape::LinearShape) checks that the input's last dim equals the weight's `IN`: a mismatch in
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
//! One fused op on the GEMM: every row of the input (all leading dims flattened) times `Wᵀ`,
//! read in place from the row-major weight, with the bias written into the output first.

use crate::autodiff::Gradients;
use crate::memory::Buffer;
use crate::shape::{Dimension, LinearBiasDims, LinearTo, Shape};
use crate::tensor::{matmul_into, Element, MatRef, OpInput, Tensor};

impl<E: Element, S: Shape> Tensor<E, S> {
    /// `x · Wᵀ`: `[.., IN] x [OUT, IN] -> [.., OUT]`, like `torch.nn.functional.linear(x, w)`.
    #[rustfmt::skip] // the signature on two lines: compile errors quote it
    pub fn linear<O: Dimension, K: Dimension, Out: Shape>(&self, weight: &Tensor<E, (O, K)>) -> Tensor<E, Out>
    where S: LinearTo<K, O, Out>,
    {
        let out_shape = self.shape().linear_shape(weight.shape().0);
        linear_op(self, weight, None::<&Tensor<E, (O,)>>, out_shape)
    }

    /// `x · Wᵀ + b`: [`linear`](Self::linear) plus the bias `[OUT]` added to every row, like
    /// `torch.nn.functional.linear(x, w, b)`. A bias of the wrong length is a compile error
    /// (checked when the op runs if either length is a runtime `usize`).
    #[rustfmt::skip] // the signature on two lines: compile errors quote it
    pub fn linear_bias<O: Dimension, K: Dimension, BL, Out: Shape>(&self, weight: &Tensor<E, (O, K)>, bias: &Tensor<E, (BL,)>) -> Tensor<E, Out>
    where S: LinearTo<K, O, Out>, BL: LinearBiasDims<O>,
    {
        bias.shape().0.check(&weight.shape().0);
        let out_shape = self.shape().linear_shape(weight.shape().0);
        linear_op(self, weight, Some(bias), out_shape)
    }
}

/// `x · Wᵀ (+ b)` and its backward pass: the body of both public functions.
fn linear_op<E: Element, S: Shape, O: Dimension, K: Dimension, BL: Dimension, Out: Shape>(
    x: &Tensor<E, S>,
    weight: &Tensor<E, (O, K)>,
    bias: Option<&Tensor<E, (BL,)>>,
    out_shape: Out,
) -> Tensor<E, Out> {
    let dims = x.dims();
    let dims = dims.as_ref();
    let (features, k, m) = (
        dims[dims.len() - 1],
        weight.shape().1.size(),
        weight.shape().0.size(),
    );
    assert!(
        features == k,
        "linear: the input has {features} features, the layer expects {k}"
    );
    // n rows of k features each: every leading dim is a batch dim
    let n = x
        .numel()
        .checked_div(k)
        .unwrap_or(dims[..dims.len() - 1].iter().product());
    let mut y = Buffer::for_overwrite(out_shape.numel());
    if let Some(bias) = bias {
        // y[r, o] = bias[o], then y += x · Wᵀ
        for row in y.chunks_exact_mut(m.max(1)) {
            row.copy_from_slice(bias.as_slice());
        }
    }
    // (N, IN) x (IN, OUT) -> (N, OUT), Wᵀ read in place from the row-major [OUT, IN] weight
    matmul_into(
        n,
        k,
        m,
        MatRef::row_major(x.as_slice(), k),
        MatRef::transposed(weight.as_slice(), k),
        &mut y,
        bias.is_some(),
        false,
    );
    let (x_grad, w_grad) = (x.grad_id(), weight.grad_id());
    let b_grad = bias.and_then(Tensor::grad_id);
    // grad_x reads W and grad_W reads x: keep each only if needed.
    let w = x_grad.map(|_| weight.storage());
    let x_kept = w_grad.map(|_| x.storage());
    let inputs: Vec<&dyn OpInput<E>> = match bias {
        Some(bias) => vec![x, weight, bias],
        None => vec![x, weight],
    };
    Tensor::from_op(
        "linear",
        out_shape,
        y,
        &inputs,
        move |grad_y, grads: &mut Gradients<E>| {
            let grad_y_mat = MatRef::row_major(grad_y, m);
            if let (Some(id), Some(w)) = (x_grad, &w) {
                // grad_x += grad_y · W: (N, OUT) x (OUT, IN) -> (N, IN)
                let grad_x = grads.accumulator(id, n * k);
                matmul_into(
                    n,
                    m,
                    k,
                    grad_y_mat,
                    MatRef::row_major(w, k),
                    grad_x,
                    true,
                    false,
                );
            }
            if let (Some(id), Some(x)) = (w_grad, &x_kept) {
                // grad_W += grad_yᵀ · x: (OUT, N) x (N, IN) -> (OUT, IN)
                let grad_w = grads.accumulator(id, m * k);
                let (grad_y_t, x) = (MatRef::transposed(grad_y, m), MatRef::row_major(x, k));
                matmul_into(m, n, k, grad_y_t, x, grad_w, true, false);
            }
            if let Some(id) = b_grad {
                // grad_b[o] += sum_r grad_y[r, o]
                let grad_b = grads.accumulator(id, m);
                for row in grad_y.chunks_exact(m.max(1)) {
                    for (g, &gy) in grad_b.iter_mut().zip(row) {
                        *g += gy;
                    }
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use crate::prelude::*;

    #[test]
    fn linear_matches_hand_values_and_its_gradients_match_central_differences() {
        // y = x·Wᵀ + b with x = [[1, 2]], W = [[3, 4], [5, 6], [7, 8]], b = [1, 1, 1]
        let x = Tensor2::<f64, 1, 2>::from_slice(&[1.0, 2.0]).unwrap();
        let w = Tensor2::<f64, 3, 2>::from_slice(&[3., 4., 5., 6., 7., 8.]).unwrap();
        let b = Tensor1::<f64, 3>::ones();
        let y = x.linear_bias(&w, &b);
        assert_eq!(
            y.to_vec(),
            vec![1. * 3. + 2. * 4. + 1., 5. + 12. + 1., 7. + 16. + 1.]
        );
        let x = Tensor::<f64, (usize, Dim<4>)>::randn_shaped((5, Dim), 1, 0.0, 1.0);
        let w = Tensor2::<f64, 3, 4>::randn(2);
        let b = Tensor1::<f64, 3>::randn(3);
        gradcheck("linear wrt x", &x, |x| x.linear_bias(&w, &b)).unwrap();
        gradcheck("linear wrt w", &w, |w| x.linear_bias(w, &b)).unwrap();
        gradcheck("linear wrt b", &b, |b| x.linear_bias(&w, b)).unwrap();
        gradcheck("linear without bias", &w, |w| x.linear(w)).unwrap();
        // an empty batch: an empty output, and zero gradients
        let none = Tensor::<f64, (usize, Dim<4>)>::zeros_shaped((0, Dim));
        assert_eq!(none.linear_bias(&w, &b).dims(), [0, 3]);
        gradcheck("linear, empty batch", &w, |w| none.linear_bias(w, &b)).unwrap();
    }
}
