//! Softmax and log-softmax along a typed axis, with their gradients.
//!
//! For every slice `x` along axis `I`, with `m = max_j x_j`:
//!
//! ```text
//! softmax(x)_k     = e^(x_k - m) / sum_j e^(x_j - m)
//! log_softmax(x)_k = x_k - m - ln(sum_j e^(x_j - m))
//! ```
//!
//! Subtracting the maximum changes nothing mathematically and keeps every exponent at or below
//! 0, so the sum lies in `[1, n]`: inputs of magnitude 1e4 give finite results, where a plain
//! `e^x` overflows above 88 (f32) or 709 (f64).
//!
//! Shapes in words: any shape in, the same shape out, each slice along axis `I` normalised to
//! sum to 1 (softmax) or to log-probabilities (log-softmax). The axis is a const generic,
//! checked against the rank by the compiler. Like `torch.softmax(x, dim=I)` and
//! `torch.log_softmax(x, dim=I)`.
//!
//! ```
//! use shapetorch::prelude::*;
//! let logits = Tensor2::<f32, 2, 3>::from_slice(&[1.0, 2.0, 3.0, 1e4, -1e4, 0.0]).unwrap();
//! let p = logits.softmax::<1>(); // each row sums to 1
//! assert!((p.as_slice()[..3].iter().sum::<f32>() - 1.0).abs() < 1e-6);
//! assert_eq!(&p.as_slice()[3..], &[1.0, 0.0, 0.0]); // no overflow at 1e4
//! let logp = logits.log_softmax::<1>();
//! assert_eq!(logp[[1, 1]], -2e4); // -1e4 - 1e4 - ln(1 + e^-2e4 + e^-1e4)
//! ```

use std::sync::Arc;

use crate::memory::Buffer;
use crate::shape::{SelectAxis, Shape};
use crate::tensor::{split_at_axis, Element, IntoStorage, Tensor};

/// A tensor seen as `[outer, n, inner]` around the normalised axis of size `n`: element
/// `[o, k, i]` lies at `(o * n + k) * inner + i`, and the kernels walk it block by block
/// (one `[n, inner]` block per outer index).
#[derive(Clone, Copy, Debug)]
struct AxisView {
    n: usize,
    inner: usize,
}

impl AxisView {
    fn of<S: Shape>(shape: &S, axis: usize) -> Self {
        let (_outer, n, inner) = split_at_axis(shape.dims().as_ref(), axis);
        AxisView { n, inner }
    }

    /// The length of one `[n, inner]` block (all slices of one outer index).
    fn block(&self) -> usize {
        self.n * self.inner
    }
}

impl<E: Element, S: Shape> Tensor<E, S> {
    /// Softmax along axis `I`: `e^(x_k - m) / sum_j e^(x_j - m)` for each slice, `m` its
    /// maximum. Like `torch.softmax(x, dim=I)`. The backward pass keeps the output only.
    pub fn softmax<const I: usize>(&self) -> Self
    where
        S: SelectAxis<I>,
    {
        let view = AxisView::of(self.shape(), I);
        let mut y = Buffer::for_overwrite(self.numel());
        normalise(self.as_slice(), &mut y, view, false);
        let y = y.into_storage();
        let (x_id, y_kept) = (self.id(), Arc::clone(&y));
        Tensor::from_op(
            "softmax",
            *self.shape(),
            y,
            &[self],
            move |grad_y, grads| {
                let grad_x = grads.accumulator(x_id, y_kept.len());
                softmax_grad_input(&y_kept, grad_y, grad_x, view);
            },
        )
    }

    /// Log-softmax along axis `I`: `x_k - m - ln(sum_j e^(x_j - m))` for each slice, `m` its
    /// maximum; more accurate than `softmax().log()` (no `ln` of a rounded-to-zero
    /// probability). Like `torch.log_softmax(x, dim=I)`. The backward pass keeps the output
    /// only.
    pub fn log_softmax<const I: usize>(&self) -> Self
    where
        S: SelectAxis<I>,
    {
        let view = AxisView::of(self.shape(), I);
        let mut y = Buffer::for_overwrite(self.numel());
        normalise(self.as_slice(), &mut y, view, true);
        let y = y.into_storage();
        let (x_id, y_kept) = (self.id(), Arc::clone(&y));
        Tensor::from_op(
            "log_softmax",
            *self.shape(),
            y,
            &[self],
            move |grad_y, grads| {
                let grad_x = grads.accumulator(x_id, y_kept.len());
                log_softmax_grad_input(&y_kept, grad_y, grad_x, view);
            },
        )
    }
}

/// The forward kernel: softmax (`log == false`) or log-softmax of every slice of `x` along the
/// axis of `view`, into `y`.
///
/// Works one `[n, inner]` block at a time, a row of `inner` values per step along the axis, so
/// the inner loops run over contiguous memory whatever the axis (a plain loop down a column
/// would stride by `inner`).
fn normalise<E: Element>(x: &[E], y: &mut [E], view: AxisView, log: bool) {
    let inner = view.inner;
    if view.block() == 0 {
        return; // no elements
    }
    let mut max = vec![E::zero(); inner];
    let mut sum = vec![E::zero(); inner];
    for (x, y) in x
        .chunks_exact(view.block())
        .zip(y.chunks_exact_mut(view.block()))
    {
        // max[i] = max_k x[k, i]
        max.copy_from_slice(&x[..inner]);
        for row in x.chunks_exact(inner).skip(1) {
            for (m, &v) in max.iter_mut().zip(row) {
                *m = m.max(v);
            }
        }
        // y[k, i] = e^(x[k, i] - max[i]); sum[i] = sum_k y[k, i]
        sum.fill(E::zero());
        for (x_row, y_row) in x.chunks_exact(inner).zip(y.chunks_exact_mut(inner)) {
            for i in 0..inner {
                y_row[i] = (x_row[i] - max[i]).exp();
                sum[i] += y_row[i];
            }
        }
        if log {
            // y[k, i] = (x[k, i] - max[i]) - ln sum[i]: the difference first, exact for values
            // close to the maximum, so that log-probabilities near 0 keep their precision at
            // magnitude 1e4 (max[i] + ln sum[i] would round to the spacing of 1e4 first)
            for s in sum.iter_mut() {
                *s = s.ln();
            }
            for (x_row, y_row) in x.chunks_exact(inner).zip(y.chunks_exact_mut(inner)) {
                for i in 0..inner {
                    y_row[i] = (x_row[i] - max[i]) - sum[i];
                }
            }
        } else {
            // y[k, i] /= sum[i]
            for s in sum.iter_mut() {
                *s = E::one() / *s;
            }
            for y_row in y.chunks_exact_mut(inner) {
                for (v, &r) in y_row.iter_mut().zip(&sum) {
                    *v = *v * r;
                }
            }
        }
    }
}

/// Softmax's backward kernel: `grad_x[k] += y[k] * (grad_y[k] - sum_j grad_y[j] * y[j])` along
/// each slice (the Jacobian `diag(y) - y yᵀ` applied to `grad_y`).
fn softmax_grad_input<E: Element>(y: &[E], grad_y: &[E], grad_x: &mut [E], view: AxisView) {
    let inner = view.inner;
    if view.block() == 0 {
        return;
    }
    let mut dot = vec![E::zero(); inner];
    let blocks = y
        .chunks_exact(view.block())
        .zip(grad_y.chunks_exact(view.block()))
        .zip(grad_x.chunks_exact_mut(view.block()));
    for ((y, grad_y), grad_x) in blocks {
        // dot[i] = sum_k grad_y[k, i] * y[k, i]
        dot.fill(E::zero());
        for (y_row, g_row) in y.chunks_exact(inner).zip(grad_y.chunks_exact(inner)) {
            for i in 0..inner {
                dot[i] += g_row[i] * y_row[i];
            }
        }
        let rows = y
            .chunks_exact(inner)
            .zip(grad_y.chunks_exact(inner))
            .zip(grad_x.chunks_exact_mut(inner));
        for ((y_row, g_row), gx_row) in rows {
            for i in 0..inner {
                gx_row[i] += y_row[i] * (g_row[i] - dot[i]);
            }
        }
    }
}

/// Log-softmax's backward kernel: `grad_x[k] += grad_y[k] - softmax(x)[k] * sum_j grad_y[j]`
/// along each slice, with `softmax(x) = e^y` recomputed from the kept output.
fn log_softmax_grad_input<E: Element>(y: &[E], grad_y: &[E], grad_x: &mut [E], view: AxisView) {
    let inner = view.inner;
    if view.block() == 0 {
        return;
    }
    let mut total = vec![E::zero(); inner];
    let blocks = y
        .chunks_exact(view.block())
        .zip(grad_y.chunks_exact(view.block()))
        .zip(grad_x.chunks_exact_mut(view.block()));
    for ((y, grad_y), grad_x) in blocks {
        // total[i] = sum_k grad_y[k, i]
        total.fill(E::zero());
        for g_row in grad_y.chunks_exact(inner) {
            for (t, &g) in total.iter_mut().zip(g_row) {
                *t += g;
            }
        }
        let rows = y
            .chunks_exact(inner)
            .zip(grad_y.chunks_exact(inner))
            .zip(grad_x.chunks_exact_mut(inner));
        for ((y_row, g_row), gx_row) in rows {
            for i in 0..inner {
                gx_row[i] += g_row[i] - y_row[i].exp() * total[i];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::prelude::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs().max(1.0)
    }

    #[test]
    fn softmax_and_log_softmax_match_hand_values() {
        // softmax([1, 2, 3]) = [e^-2, e^-1, e^0] / (e^-2 + e^-1 + 1)
        let x = Tensor1::<f64, 3>::from_slice(&[1.0, 2.0, 3.0]).unwrap();
        let z = (-2f64).exp() + (-1f64).exp() + 1.0;
        let expected = [(-2f64).exp() / z, (-1f64).exp() / z, 1.0 / z];
        let p = x.softmax::<0>();
        for (got, want) in p.as_slice().iter().zip(expected) {
            assert!(close(*got, want), "{got} vs {want}");
        }
        // log_softmax([1, 2, 3]) = [1, 2, 3] - 3 - ln z
        let logp = x.log_softmax::<0>();
        for (k, got) in logp.as_slice().iter().enumerate() {
            assert!(close(*got, k as f64 - 2.0 - z.ln()), "{got}");
        }
        // Along axis 0 of [[0, 0], [ln 3, 0]]: columns [1/4, 3/4] and [1/2, 1/2].
        let x = Tensor2::<f64, 2, 2>::from_slice(&[0.0, 0.0, 3f64.ln(), 0.0]).unwrap();
        let p = x.softmax::<0>().to_vec();
        for (got, want) in p.iter().zip([0.25, 0.5, 0.75, 0.5]) {
            assert!(close(*got, want), "{p:?}");
        }
    }

    #[test]
    fn log_softmax_is_the_log_of_softmax_along_every_axis() {
        let x = Tensor3::<f64, 2, 3, 4>::randn(1).mul_scalar(3.0);
        fn agree<S: Shape>(a: &Tensor<f64, S>, b: &Tensor<f64, S>) {
            for (u, v) in a.as_slice().iter().zip(b.as_slice()) {
                assert!(close(*u, *v), "{u} vs {v}");
            }
        }
        agree(&x.log_softmax::<0>(), &x.softmax::<0>().log());
        agree(&x.log_softmax::<1>(), &x.softmax::<1>().log());
        agree(&x.log_softmax::<2>(), &x.softmax::<2>().log());
        // Every slice along the axis sums to 1.
        let sums = x.softmax::<1>().sum::<1>();
        assert!(sums.as_slice().iter().all(|&s| close(s, 1.0)), "{sums}");
    }

    #[test]
    fn gradients_match_central_differences_along_every_axis() {
        let x = Tensor3::<f64, 2, 3, 4>::randn(2);
        gradcheck("softmax::<0>", &x, |x| x.softmax::<0>()).unwrap();
        gradcheck("softmax::<1>", &x, |x| x.softmax::<1>()).unwrap();
        gradcheck("softmax::<2>", &x, |x| x.softmax::<2>()).unwrap();
        gradcheck("log_softmax::<0>", &x, |x| x.log_softmax::<0>()).unwrap();
        gradcheck("log_softmax::<1>", &x, |x| x.log_softmax::<1>()).unwrap();
        gradcheck("log_softmax::<2>", &x, |x| x.log_softmax::<2>()).unwrap();
        let batch = Tensor::<f64, (usize, Dim<5>)>::randn_shaped((3, Dim), 3, 0.0, 2.0);
        gradcheck("softmax, runtime batch", &batch, |x| x.softmax::<1>()).unwrap();
        gradcheck("log_softmax, runtime batch", &batch, |x| {
            x.log_softmax::<1>()
        })
        .unwrap();
        let one = Tensor1::<f64, 1>::from_slice(&[0.3]).unwrap();
        gradcheck("softmax of one value", &one, |x| x.softmax::<0>()).unwrap();
    }

    /// Rows of magnitude 1e4 (a plain `e^x` overflows at 88 in f32, 709 in f64).
    fn stable_at_1e4<E: Element>() {
        let tape = Tape::new();
        let values = [1e4, -1e4, 0.0, 1e4, 1e4 - 1.0, -1e4, -1e4, -1e4 + 0.5];
        let x = Tensor2::<E, 3, 3>::from_fn(|[i, j]| E::of(values[(3 * i + j) % 8])).trace(&tape);
        let p = x.softmax::<1>();
        let logp = x.log_softmax::<1>();
        for row in 0..3 {
            let sum = (0..3).map(|j| p[[row, j]]).sum::<E>();
            assert!(
                (sum - E::one()).abs() < E::of(1e-6),
                "row {row} sums to {sum}"
            );
            let exp_sum = (0..3).map(|j| logp[[row, j]].exp()).sum::<E>();
            assert!(
                (exp_sum - E::one()).abs() < E::of(1e-6),
                "row {row}: {exp_sum}"
            );
        }
        assert!(p.as_slice().iter().all(|v| v.is_finite()), "{p}");
        assert!(logp.as_slice().iter().all(|v| v.is_finite()), "{logp}");
        // [1e4, -1e4, 0]: all the mass on the first, log-probabilities 0, -2e4, -1e4.
        assert_eq!(p[[0, 0]], E::one());
        assert_eq!(logp[[0, 1]], E::of(-2e4));
        let weights = Tensor2::<E, 3, 3>::from_fn(|[i, j]| E::of((i + 2 * j) as f64 - 2.0));
        let loss = (&p * &weights).sum_all() + (&logp * &weights).sum_all();
        let grad = loss.backward().get(&x).unwrap();
        assert!(grad.as_slice().iter().all(|v| v.is_finite()), "{grad}");
    }

    #[test]
    fn softmax_and_log_softmax_are_stable_at_magnitude_1e4() {
        stable_at_1e4::<f32>();
        stable_at_1e4::<f64>();
    }
}
