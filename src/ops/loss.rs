//! Losses, each averaged into a scalar, with their gradients.
//!
//! ```text
//! nll_loss(logp, labels)      = -1/B sum_b logp[b, labels[b]]
//! cross_entropy(x, labels)    = nll_loss(log_softmax(x, 1), labels)
//!                             =  1/B sum_b (ln sum_k e^x[b, k]  -  x[b, labels[b]])
//! mse_loss(y, target)         =  1/n sum_i (y_i - target_i)^2
//! binary_cross_entropy(p, t)  = -1/n sum_i (t_i ln p_i + (1 - t_i) ln(1 - p_i)),  each ln >= -100
//! ```
//!
//! Shapes in words: `nll_loss` and `cross_entropy` take scores `[B, C]` (log-probabilities or
//! logits; the batch `B` may be a runtime `usize`) and labels `IndexTensor<(B,), C>`, one class
//! index per row; `mse_loss` and `binary_cross_entropy` take two tensors of one shape. All give
//! a scalar, the mean over the batch (or over every element), like PyTorch's default
//! `reduction='mean'`: `F.nll_loss`, `F.cross_entropy`, `F.mse_loss`,
//! `F.binary_cross_entropy`. Class weights, `ignore_index` and label smoothing are not
//! supported.
//!
//! The class count is checked by the compiler: the labels' bound is the scores' `C`, so labels
//! below 5 for scores over 10 classes do not compile (``expected `10`, found `5` ``). So is a
//! static batch (the labels' batch dim has the scores' type); a runtime batch is checked when the
//! loss runs.
//!
//! ```
//! use shapetorch::prelude::*;
//! let tape = Tape::new();
//! let logits = Tensor2::<f64, 2, 3>::from_slice(&[2.0, 0.0, 0.0, 0.0, 0.0, 0.0])
//!     .unwrap()
//!     .trace(&tape);
//! let labels = IndexTensor::<Rank1<2>, 3>::from_slice(&[0, 2]).unwrap();
//! let loss = logits.cross_entropy(&labels);
//! // row 0: ln(e^2 + 2) - 2; row 1: ln 3 - 0
//! let expected = ((2f64.exp() + 2.0).ln() - 2.0 + 3f64.ln()) / 2.0;
//! assert!((loss.item() - expected).abs() < 1e-12);
//! // The same as the composed form:
//! let composed = logits.log_softmax::<1>().nll_loss(&labels);
//! assert!((composed.item() - expected).abs() < 1e-12);
//! let grad = loss.backward().get(&logits).unwrap(); // (softmax - one_hot) / B
//! assert!((grad[[1, 2]] - (1.0 / 3.0 - 1.0) / 2.0).abs() < 1e-12);
//! ```

use crate::memory::Buffer;
use crate::shape::markers::{cross_entropy, nll_loss};
use crate::shape::{assert_same_dims, Dim, Dimension, Shape};
use crate::tensor::{ClassLabels, Element, OpInput, Tensor};

/// The batch size shared by scores `[B, C]` and their labels `[B]`; panics naming both when a
/// runtime batch differs.
fn batch_of<B: Dimension>(op: &str, scores: &B, labels: &B) -> usize {
    let (b, l) = (scores.size(), labels.size());
    assert!(
        b == l,
        "{op}: the input has a batch of {b} rows, the labels a batch of {l}"
    );
    b
}

impl<E: Element, B: Dimension, const C: usize> Tensor<E, (B, Dim<C>)> {
    /// The negative log-likelihood of the labels, averaged over the batch:
    /// `-1/B sum_b self[b, labels[b]]`, for log-probabilities `self` `[B, C]` (the output of
    /// [`log_softmax::<1>`](Tensor::log_softmax)) and labels `[B]` below `C`. Like
    /// `F.nll_loss(logp, labels)`. An empty batch gives NaN, as in PyTorch.
    ///
    /// Panics naming both sizes when a runtime batch differs from the labels'.
    #[rustfmt::skip] // the signature on two lines: compile errors quote it
    pub fn nll_loss<L>(&self, labels: &L) -> Tensor<E, ()>
    where L: ClassLabels<nll_loss, B, C>,
    {
        let labels = &labels.class_ids();
        let batch = batch_of("nll_loss", &self.shape().0, &labels.shape().0);
        let logp = self.as_slice();
        // loss = -1/B sum_b logp[b, labels[b]]
        let picked: E = (0..batch).map(|b| logp[b * C + labels.as_slice()[b]]).sum();
        let scale = E::one() / E::of(batch as f64);
        let loss = -picked * scale;
        // The gradient reads the labels only.
        let (logp_id, labels) = (self.id(), labels.clone());
        Tensor::from_op("nll_loss", (), vec![loss], &[self], move |grad_y, grads| {
            // grad_logp[b, labels[b]] -= grad / B
            let grad_logp = grads.accumulator(logp_id, batch * C);
            for (b, &label) in labels.as_slice().iter().enumerate() {
                grad_logp[b * C + label] += -grad_y[0] * scale;
            }
        })
    }

    /// Cross-entropy of logits `self` `[B, C]` against labels `[B]` below `C`, averaged over
    /// the batch: `nll_loss(log_softmax::<1>(self), labels)`, computed as one op,
    /// `1/B sum_b (m_b + ln sum_k e^(x[b, k] - m_b) - x[b, labels[b]])` with `m_b` the row's
    /// maximum (stable at any magnitude). Like `F.cross_entropy(logits, labels)`.
    ///
    /// The gradient is `(softmax(x) - one_hot(labels)) / B`. The backward pass keeps the logits
    /// (shared with `self`, not copied), two numbers per row (the maximum and the log of the
    /// sum) and the labels, and recomputes the softmax from them: no `[B, C]` buffer of
    /// probabilities is kept.
    ///
    /// Panics naming both sizes when a runtime batch differs from the labels'.
    #[rustfmt::skip] // the signature on two lines: compile errors quote it
    pub fn cross_entropy<L>(&self, labels: &L) -> Tensor<E, ()>
    where L: ClassLabels<cross_entropy, B, C>,
    {
        let labels = &labels.class_ids();
        let batch = batch_of("cross_entropy", &self.shape().0, &labels.shape().0);
        // Per row, the maximum m and ln sum_k e^(x[b, k] - m), kept apart: their sum rounds to
        // the spacing of m (about 1e-3 at 1e4 in f32), the differences below do not.
        let mut max = vec![E::zero(); batch];
        let mut log_sum = vec![E::zero(); batch];
        let mut total = E::zero();
        for (b, row) in self
            .as_slice()
            .chunks_exact(C.max(1))
            .take(batch)
            .enumerate()
        {
            max[b] = row.iter().copied().fold(E::neg_infinity(), E::max);
            log_sum[b] = row.iter().map(|&v| (v - max[b]).exp()).sum::<E>().ln();
            // loss_b = (m - x[b, label]) + ln sum_k e^(x[b, k] - m)
            total += (max[b] - row[labels.as_slice()[b]]) + log_sum[b];
        }
        let scale = E::one() / E::of(batch as f64);
        let (x_id, x, labels) = (self.id(), self.storage(), labels.clone());
        Tensor::from_op(
            "cross_entropy",
            (),
            vec![total * scale],
            &[self],
            move |grad_y, grads| {
                // grad_x[b, k] += grad / B * (softmax(x)[b, k] - [k == labels[b]])
                let g = grad_y[0] * scale;
                let grad_x = grads.accumulator(x_id, batch * C);
                let rows = grad_x
                    .chunks_exact_mut(C.max(1))
                    .zip(x.chunks_exact(C.max(1)));
                for (b, (grad_row, x_row)) in rows.enumerate() {
                    for (gx, &v) in grad_row.iter_mut().zip(x_row) {
                        *gx += g * ((v - max[b]) - log_sum[b]).exp();
                    }
                    grad_row[labels.as_slice()[b]] += -g;
                }
            },
        )
    }
}

impl<E: Element, S: Shape> Tensor<E, S> {
    /// The mean squared error `1/n sum_i (self_i - target_i)^2` over every element. Like
    /// `F.mse_loss(y, target)`. Both are differentiated: `grad_y = 2 (y - target) / n`, and
    /// its negative for the target. The backward pass keeps the difference `y - target`.
    ///
    /// Panics naming both shapes when runtime dims differ.
    pub fn mse_loss(&self, target: &Self) -> Tensor<E, ()> {
        assert_same_dims("mse_loss", self.dims().as_ref(), target.dims().as_ref());
        let n = self.numel();
        let mut diff = Buffer::for_overwrite(n);
        let mut total = E::zero();
        for ((d, &y), &t) in diff.iter_mut().zip(self.as_slice()).zip(target.as_slice()) {
            *d = y - t;
            total += *d * *d;
        }
        let scale = E::one() / E::of(n as f64);
        let (y_grad, t_grad) = (self.grad_id(), target.grad_id());
        Tensor::from_op(
            "mse_loss",
            (),
            vec![total * scale],
            &[self, target],
            move |grad_y, grads| {
                // grad_y[i] += 2 (y_i - t_i) / n * grad, grad_target[i] -= the same
                let g = grad_y[0] * scale * E::of(2.0);
                if let Some(id) = y_grad {
                    for (gy, &d) in grads.accumulator(id, n).iter_mut().zip(diff.iter()) {
                        *gy += g * d;
                    }
                }
                if let Some(id) = t_grad {
                    for (gt, &d) in grads.accumulator(id, n).iter_mut().zip(diff.iter()) {
                        *gt += -g * d;
                    }
                }
            },
        )
    }

    /// Binary cross-entropy of probabilities `self` against targets in `[0, 1]`, averaged over
    /// every element: `-1/n sum_i (t_i ln p_i + (1 - t_i) ln(1 - p_i))`, each logarithm
    /// clamped at -100 as in PyTorch (so `p = 0` or `1` gives a finite loss). Like
    /// `F.binary_cross_entropy(p, target)`.
    ///
    /// Gradients as PyTorch computes them: `grad_p = (p - t) / max(p (1 - p), 1e-12) / n`
    /// (finite at `p = 0` and `1`), `grad_t = (ln(1 - p) - ln p) / n` (infinite there, not
    /// clamped). The backward pass keeps the probabilities, and the targets when `p` is
    /// traced (both shared, not copied).
    ///
    /// Panics when a probability lies outside `[0, 1]` (or is NaN), naming it and its
    /// position, as PyTorch raises; and naming both shapes when runtime dims differ.
    pub fn binary_cross_entropy(&self, target: &Self) -> Tensor<E, ()> {
        assert_same_dims(
            "binary_cross_entropy",
            self.dims().as_ref(),
            target.dims().as_ref(),
        );
        let (zero, one) = (E::zero(), E::one());
        if let Some(i) = self
            .as_slice()
            .iter()
            .position(|p| !(zero..=one).contains(p))
        {
            panic!(
                "binary_cross_entropy: the input must hold probabilities in [0, 1]; it holds {} \
                 at {:?}",
                self.as_slice()[i],
                self.shape().unravel(i).as_ref()
            );
        }
        let clamp = E::of(-100.0);
        let total: E = self
            .as_slice()
            .iter()
            .zip(target.as_slice())
            .map(|(&p, &t)| {
                // -(t ln p + (1 - t) ln(1 - p)), each ln clamped at -100
                -(t * p.ln().max(clamp) + (one - t) * (-p).ln_1p().max(clamp))
            })
            .sum();
        let n = self.numel();
        let scale = one / E::of(n as f64);
        let (p_grad, t_grad) = (self.grad_id(), target.grad_id());
        let p = self.storage();
        let t = p_grad.map(|_| target.storage());
        let inputs: [&dyn OpInput<E>; 2] = [self, target];
        Tensor::from_op(
            "binary_cross_entropy",
            (),
            vec![total * scale],
            &inputs,
            move |grad_y, grads| {
                let g = grad_y[0] * scale;
                if let (Some(id), Some(t)) = (p_grad, &t) {
                    // grad_p[i] += grad / n * (p_i - t_i) / max(p_i (1 - p_i), 1e-12)
                    // PyTorch's constant is the f32 nearest 1e-12 (9.9999999600e-13), in
                    // both precisions
                    let eps = E::of(f64::from(1e-12f32));
                    let grad_p = grads.accumulator(id, n);
                    for ((gp, &p), &t) in grad_p.iter_mut().zip(p.iter()).zip(t.iter()) {
                        *gp += g * (p - t) / (p * (one - p)).max(eps);
                    }
                }
                if let Some(id) = t_grad {
                    // grad_t[i] += grad / n * (ln(1 - p_i) - ln p_i)
                    for (gt, &p) in grads.accumulator(id, n).iter_mut().zip(p.iter()) {
                        *gt += g * ((-p).ln_1p() - p.ln());
                    }
                }
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::prelude::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs().max(1.0)
    }

    #[test]
    fn nll_loss_hand_case() {
        // logp = [[-1, -2, -3], [-4, -5, -6]], labels [2, 0]: -(-3 + -4) / 2 = 3.5
        let tape = Tape::new();
        let logp = Tensor2::<f64, 2, 3>::from_slice(&[-1., -2., -3., -4., -5., -6.])
            .unwrap()
            .trace(&tape);
        let labels = IndexTensor::<Rank1<2>, 3>::from_slice(&[2, 0]).unwrap();
        let loss = logp.nll_loss(&labels);
        assert_eq!(loss.item(), 3.5);
        // d loss / d logp[b, labels[b]] = -1/2, 0 elsewhere
        let grad = loss.backward().get(&logp).unwrap();
        assert_eq!(grad.to_vec(), vec![0., 0., -0.5, -0.5, 0., 0.]);
    }

    #[test]
    fn cross_entropy_hand_case_and_gradient() {
        // logits [[0, 0], [ln 3, 0]], labels [1, 0]:
        // row 0: ln 2 - 0; row 1: ln(3 + 1) - ln 3; mean of both
        let tape = Tape::new();
        let x = Tensor2::<f64, 2, 2>::from_slice(&[0., 0., 3f64.ln(), 0.])
            .unwrap()
            .trace(&tape);
        let labels = IndexTensor::<Rank1<2>, 2>::from_slice(&[1, 0]).unwrap();
        let loss = x.cross_entropy(&labels);
        assert!(close(
            loss.item(),
            (2f64.ln() + 4f64.ln() - 3f64.ln()) / 2.0
        ));
        // (softmax - one_hot) / 2 = ([1/2, 1/2] - [0, 1]) / 2, ([3/4, 1/4] - [1, 0]) / 2
        let grad = loss.backward().get(&x).unwrap().to_vec();
        for (g, want) in grad.iter().zip([0.25, -0.25, -0.125, 0.125]) {
            assert!(close(*g, want), "{grad:?}");
        }
    }

    #[test]
    fn fused_cross_entropy_equals_log_softmax_then_nll_loss() {
        let x = Tensor::<f64, (usize, Dim<7>)>::randn_shaped((5, Dim), 11, 0.0, 3.0);
        let labels =
            IndexTensor::<(usize,), 7>::from_vec_shaped((5,), vec![6, 0, 3, 3, 1]).unwrap();
        let tape = Tape::new();
        let traced = x.trace(&tape);
        let fused = traced.cross_entropy(&labels);
        let fused_value = fused.item();
        let fused_grad = fused.backward().get(&traced).unwrap();
        let composed = traced.log_softmax::<1>().nll_loss(&labels);
        assert!(close(fused_value, composed.item()));
        let composed_grad = composed.backward().get(&traced).unwrap();
        for (a, b) in fused_grad.as_slice().iter().zip(composed_grad.as_slice()) {
            assert!(close(*a, *b), "{fused_grad} vs {composed_grad}");
        }
    }

    #[test]
    fn losses_match_central_differences() {
        let x = Tensor::<f64, (usize, Dim<4>)>::randn_shaped((3, Dim), 12, 0.0, 2.0);
        let labels = IndexTensor::<(usize,), 4>::from_vec_shaped((3,), vec![3, 3, 0]).unwrap();
        gradcheck("nll_loss", &x, |x| x.nll_loss(&labels)).unwrap();
        gradcheck("cross_entropy", &x, |x| x.cross_entropy(&labels)).unwrap();
        let target = Tensor3::<f64, 2, 3, 2>::randn(13);
        let y = Tensor3::<f64, 2, 3, 2>::randn(14);
        gradcheck("mse_loss wrt y", &y, |y| y.mse_loss(&target)).unwrap();
        gradcheck("mse_loss wrt target", &target, |t| y.mse_loss(t)).unwrap();
        let p = Tensor2::<f64, 3, 4>::rand_uniform(15, 0.05, 0.95);
        let t = Tensor2::<f64, 3, 4>::rand_uniform(16, 0.0, 1.0);
        gradcheck("binary_cross_entropy wrt p", &p, |p| {
            p.binary_cross_entropy(&t)
        })
        .unwrap();
        gradcheck("binary_cross_entropy wrt target", &t, |t| {
            p.binary_cross_entropy(t)
        })
        .unwrap();
    }

    #[test]
    fn mse_and_binary_cross_entropy_hand_cases() {
        // ((1 - 0)^2 + (2 - 4)^2) / 2 = 2.5
        let y = Tensor1::<f64, 2>::from_slice(&[1.0, 2.0]).unwrap();
        let t = Tensor1::<f64, 2>::from_slice(&[0.0, 4.0]).unwrap();
        assert_eq!(y.mse_loss(&t).item(), 2.5);
        // -(1 ln 0.5 + 0) / 2 - (0 + 1 ln(1 - 0.25)) / 2
        let p = Tensor1::<f64, 2>::from_slice(&[0.5, 0.25]).unwrap();
        let t = Tensor1::<f64, 2>::from_slice(&[1.0, 0.0]).unwrap();
        let bce = p.binary_cross_entropy(&t).item();
        assert!(close(bce, -(0.5f64.ln() + 0.75f64.ln()) / 2.0), "{bce}");
        // p = 0 with target 1: ln 0 is clamped at -100, so the loss is 100 (finite).
        let p = Tensor1::<f32, 1>::from_slice(&[0.0]).unwrap();
        let t = Tensor1::<f32, 1>::from_slice(&[1.0]).unwrap();
        assert_eq!(p.binary_cross_entropy(&t).item(), 100.0);
    }

    #[test]
    #[should_panic(
        expected = "binary_cross_entropy: the input must hold probabilities in [0, 1]; \
                               it holds 1.5 at [1]"
    )]
    fn binary_cross_entropy_rejects_values_outside_0_1() {
        let p = Tensor1::<f64, 2>::from_slice(&[0.5, 1.5]).unwrap();
        p.binary_cross_entropy(&Tensor1::zeros());
    }

    #[test]
    #[should_panic(
        expected = "cross_entropy: the input has a batch of 3 rows, the labels a batch of 2"
    )]
    fn a_runtime_batch_must_match_the_labels() {
        let x = Tensor::<f32, (usize, Dim<4>)>::zeros_shaped((3, Dim));
        let labels = IndexTensor::<(usize,), 4>::from_vec_shaped((2,), vec![0, 1]).unwrap();
        x.cross_entropy(&labels);
    }

    #[test]
    fn empty_batch_gives_nan_as_in_pytorch() {
        let x = Tensor::<f64, (usize, Dim<3>)>::zeros_shaped((0, Dim));
        let labels = IndexTensor::<(usize,), 3>::from_vec_shaped((0,), vec![]).unwrap();
        assert!(x.nll_loss(&labels).item().is_nan());
        assert!(x.cross_entropy(&labels).item().is_nan());
    }
}
