//! The linear (fully connected) map `y = x · Wᵀ + b`, with its gradients; the weight is stored
//! `[out_features, in_features]` as in PyTorch, so weights move between the two unchanged.
//!
//! Shapes in words: input `[B, IN]`, weight `[OUT, IN]`, bias `[OUT]` → `[B, OUT]`, like
//! `torch.nn.functional.linear(input, weight, bias)`. The batch `B` may be a runtime `usize`;
//! the input's features are checked against `IN` by the compiler ("linear: the input has 256
//! features, the layer expects 250").
//!
//! ```
//! use shapetorch::prelude::*;
//! let x = Tensor2::<f32, 2, 3>::from_slice(&[1., 2., 3., 4., 5., 6.]).unwrap();
//! let w = Tensor2::<f32, 1, 3>::from_slice(&[1., 0., -1.]).unwrap();   // [OUT, IN]
//! let b = Tensor1::<f32, 1>::from_slice(&[0.5]).unwrap();
//! let y: Tensor2<f32, 2, 1> = x.linear(&w, Some(&b));
//! assert_eq!(y.to_vec(), vec![1. - 3. + 0.5, 4. - 6. + 0.5]);
//! ```

use crate::autodiff::Gradients;
use crate::memory::Buffer;
use crate::shape::{Dim, Dimension, InFeatures, Shape};
use crate::tensor::{matmul_into, Element, MatRef, OpInput, Tensor};

impl<E: Element, B: Dimension, F: Dimension> Tensor<E, (B, F)> {
    /// `x · Wᵀ + b` for a weight `[OUT, IN]` and an optional bias `[OUT]`: `[B, IN] → [B, OUT]`.
    pub fn linear<const OUT: usize, const IN: usize>(
        &self,
        weight: &Tensor<E, (Dim<OUT>, Dim<IN>)>,
        bias: Option<&Tensor<E, (Dim<OUT>,)>>,
    ) -> Tensor<E, (B, Dim<OUT>)>
    where
        F: InFeatures<Dim<IN>>,
    {
        self.shape().1.check(&Dim::<IN>);
        let batch = self.shape().0;
        let (n, k, m) = (batch.size(), IN, OUT);
        let mut y = Buffer::for_overwrite((batch, Dim::<OUT>).numel());
        if let Some(bias) = bias {
            // y[b, o] = bias[o], then y += x · Wᵀ
            for row in y.chunks_exact_mut(m.max(1)) {
                row.copy_from_slice(bias.as_slice());
            }
        }
        // (B, IN) x (IN, OUT) -> (B, OUT), Wᵀ read in place from the row-major [OUT, IN] weight
        matmul_into(
            n,
            k,
            m,
            MatRef::row_major(self.as_slice(), k),
            MatRef::transposed(weight.as_slice(), k),
            &mut y,
            bias.is_some(),
            false,
        );
        let (x_grad, w_grad) = (self.grad_id(), weight.grad_id());
        let b_grad = bias.and_then(Tensor::grad_id);
        // grad_x reads W and grad_W reads x: keep each only if needed.
        let w = x_grad.map(|_| weight.storage());
        let x = w_grad.map(|_| self.storage());
        let inputs: Vec<&dyn OpInput<E>> = match bias {
            Some(bias) => vec![self, weight, bias],
            None => vec![self, weight],
        };
        Tensor::from_op(
            "linear",
            (batch, Dim),
            y,
            &inputs,
            move |grad_y, grads: &mut Gradients<E>| {
                let grad_y_mat = MatRef::row_major(grad_y, m);
                if let (Some(id), Some(w)) = (x_grad, &w) {
                    // grad_x += grad_y · W: (B, OUT) x (OUT, IN) -> (B, IN)
                    let grad_x = grads.accumulator(id, n * k);
                    let w = MatRef::row_major(w, k);
                    matmul_into(n, m, k, grad_y_mat, w, grad_x, true, false);
                }
                if let (Some(id), Some(x)) = (w_grad, &x) {
                    // grad_W += grad_yᵀ · x: (OUT, B) x (B, IN) -> (OUT, IN)
                    let grad_w = grads.accumulator(id, m * k);
                    let (grad_y_t, x) = (MatRef::transposed(grad_y, m), MatRef::row_major(x, k));
                    matmul_into(m, n, k, grad_y_t, x, grad_w, true, false);
                }
                if let Some(id) = b_grad {
                    // grad_b[o] += sum_b grad_y[b, o]
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
        let y = x.linear(&w, Some(&b));
        assert_eq!(
            y.to_vec(),
            vec![1. * 3. + 2. * 4. + 1., 5. + 12. + 1., 7. + 16. + 1.]
        );
        let x = Tensor::<f64, (usize, Dim<4>)>::randn_shaped((5, Dim), 1, 0.0, 1.0);
        let w = Tensor2::<f64, 3, 4>::randn(2);
        let b = Tensor1::<f64, 3>::randn(3);
        gradcheck("linear wrt x", &x, |x| x.linear(&w, Some(&b))).unwrap();
        gradcheck("linear wrt w", &w, |w| x.linear(w, Some(&b))).unwrap();
        gradcheck("linear wrt b", &b, |b| x.linear(&w, Some(b))).unwrap();
        gradcheck("linear without bias", &w, |w| x.linear(w, None)).unwrap();
    }
}
