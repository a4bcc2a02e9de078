//! Matrix multiply with the inner dim checked by type: `matmul` (2-D) and `bmm` (batched 3-D).
//!
//! ```
//! use shapetorch::prelude::*;
//! let a = Tensor2::<f32, 2, 3>::from_fn(|[i, j]| (3 * i + j) as f32);
//! let b = Tensor2::<f32, 3, 1>::ones();
//! let c: Tensor2<f32, 2, 1> = a.matmul(&b);
//! assert_eq!(c.to_vec(), vec![3.0, 12.0]);
//! ```
//!
//! `Tensor2<f32, 2, 3>` times `Tensor2<f32, 4, 1>` does not compile: "matmul: the left matrix
//! has 3 columns but the right matrix has 4 rows" (`ui-tests/fail/matmul_inner_dim.rs`).

use super::gemm::{matmul_into, MatRef};
use super::{Element, Tensor};
use crate::memory::Buffer;
use crate::shape::{BatchDims, Dimension, InnerDims, Shape};

impl<E: Element, M: Dimension, K: Dimension> Tensor<E, (M, K)> {
    /// The matrix product `(M, K) x (K, N) -> (M, N)`, like `torch.matmul` on 2-D tensors.
    pub fn matmul<K2: Dimension, N: Dimension>(&self, rhs: &Tensor<E, (K2, N)>) -> Tensor<E, (M, N)>
    where
        K: InnerDims<K2>,
    {
        let (m, n) = (self.shape().0, rhs.shape().1);
        let k = self.shape().1.check(&rhs.shape().0);
        let (mm, nn) = (m.size(), n.size());
        // numel() refuses an output whose size overflows (possible when K = 0)
        let mut out = Buffer::for_overwrite((m, n).numel());
        let (a, b) = (self.storage(), rhs.storage());
        // (M, K) x (K, N) -> (M, N)
        matmul_into(
            mm,
            k,
            nn,
            MatRef::row_major(&a, k),
            MatRef::row_major(&b, nn),
            &mut out,
            false,
            false,
        );
        let (a_grad, b_grad) = (self.grad_id(), rhs.grad_id());
        // grad_a reads b and grad_b reads a: keep each only if needed.
        let (a, b) = (b_grad.map(|_| a), a_grad.map(|_| b));
        Tensor::from_op("matmul", (m, n), out, &[self, rhs], move |grad_c, grads| {
            if let (Some(id), Some(b)) = (a_grad, &b) {
                // grad_a += grad_c · bᵀ: (M, N) x (N, K) -> (M, K)
                let grad_a = grads.accumulator(id, mm * k);
                let (gc, bt) = (MatRef::row_major(grad_c, nn), MatRef::transposed(b, nn));
                matmul_into(mm, nn, k, gc, bt, grad_a, true, false);
            }
            if let (Some(id), Some(a)) = (b_grad, &a) {
                // grad_b += aᵀ · grad_c: (K, M) x (M, N) -> (K, N)
                let grad_b = grads.accumulator(id, k * nn);
                let (at, gc) = (MatRef::transposed(a, k), MatRef::row_major(grad_c, nn));
                matmul_into(k, mm, nn, at, gc, grad_b, true, false);
            }
        })
    }
}

impl<E: Element, B: Dimension, M: Dimension, K: Dimension> Tensor<E, (B, M, K)> {
    /// The batched matrix product `(B, M, K) x (B, K, N) -> (B, M, N)`, like `torch.bmm`.
    pub fn bmm<B2: Dimension, K2: Dimension, N: Dimension>(
        &self,
        rhs: &Tensor<E, (B2, K2, N)>,
    ) -> Tensor<E, (B, M, N)>
    where
        K: InnerDims<K2>,
        B: BatchDims<B2>,
    {
        let (batch, m, n) = (self.shape().0, self.shape().1, rhs.shape().2);
        let bs = batch.check(&rhs.shape().0);
        let k = self.shape().2.check(&rhs.shape().1);
        let (mm, nn) = (m.size(), n.size());
        let (a, b) = (self.storage(), rhs.storage());
        let mut out = Buffer::for_overwrite((batch, m, n).numel());
        // (an empty matrix has no chunks to compute: chunks_mut(0) would panic)
        for (i, c) in out.chunks_mut((mm * nn).max(1)).enumerate() {
            let (ai, bi) = (&a[i * mm * k..][..mm * k], &b[i * k * nn..][..k * nn]);
            // (M, K) x (K, N) -> (M, N), one batch entry
            matmul_into(
                mm,
                k,
                nn,
                MatRef::row_major(ai, k),
                MatRef::row_major(bi, nn),
                c,
                false,
                false,
            );
        }
        let (a_grad, b_grad) = (self.grad_id(), rhs.grad_id());
        // grad_a reads b and grad_b reads a: keep each only if needed.
        let (a, b) = (b_grad.map(|_| a), a_grad.map(|_| b));
        Tensor::from_op(
            "bmm",
            (batch, m, n),
            out,
            &[self, rhs],
            move |grad_c, grads| {
                for i in 0..bs {
                    let gc = MatRef::row_major(&grad_c[i * mm * nn..][..mm * nn], nn);
                    if let (Some(id), Some(b)) = (a_grad, &b) {
                        // grad_a[i] += grad_c[i] · b[i]ᵀ: (M, N) x (N, K) -> (M, K)
                        let grad_a =
                            &mut grads.accumulator(id, bs * mm * k)[i * mm * k..][..mm * k];
                        let bt = MatRef::transposed(&b[i * k * nn..][..k * nn], nn);
                        matmul_into(mm, nn, k, gc, bt, grad_a, true, false);
                    }
                    if let (Some(id), Some(a)) = (b_grad, &a) {
                        // grad_b[i] += a[i]ᵀ · grad_c[i]: (K, M) x (M, N) -> (K, N)
                        let grad_b =
                            &mut grads.accumulator(id, bs * k * nn)[i * k * nn..][..k * nn];
                        let at = MatRef::transposed(&a[i * mm * k..][..mm * k], k);
                        matmul_into(k, mm, nn, at, gc, grad_b, true, false);
                    }
                }
            },
        )
    }
}
