//! Batch normalisation, `x.batch_norm(..)`, like `torch.nn.functional.batch_norm`: each
//! channel normalised by a mean and a variance, then scaled and shifted, with the gradients
//! of the input, the weight and the bias. The layers `BatchNorm1d` and `BatchNorm2d`
//! (`crate::nn`) are built on it.
//!
//! For an input `[B, C, ..]` (rank 2 to 5; `..` the spatial positions, `n = B * spatial`
//! values per channel):
//!
//! ```text
//! training:   mean[c] = 1/n sum x[b, c, s]      var[c] = 1/n sum (x[b, c, s] - mean[c])^2
//!             y[b, c, s] = (x[b, c, s] - mean[c]) / sqrt(var[c] + eps) * weight[c] + bias[c]
//!             running_mean = (1 - momentum) * running_mean + momentum * mean
//!             running_var  = (1 - momentum) * running_var  + momentum * var * n / (n - 1)
//! evaluation: y[b, c, s] = (x[b, c, s] - running_mean[c]) / sqrt(running_var[c] + eps)
//!                          * weight[c] + bias[c]
//! ```
//!
//! The variance that normalises is the biased one (divided by `n`); the running variance
//! tracks the unbiased one (`n - 1`), as PyTorch does. Shapes in words: the output has the
//! input's shape; `running_mean`, `running_var`, `weight` and `bias` are `[C]`, and the input's
//! channel dim must be `Dim<C>` (checked by the compiler: "batch_norm: the input has 6
//! channels, the running statistics, weight and bias have 8").
//!
//! ```
//! use shapetorch::prelude::*;
//! // one channel, four values: mean 2.5, variance 1.25
//! let x = Tensor3::<f64, 2, 1, 2>::from_slice(&[1.0, 2.0, 3.0, 4.0]).unwrap();
//! let (mut mean, mut var) = (Tensor1::<f64, 1>::zeros(), Tensor1::<f64, 1>::ones());
//! let y = x.batch_norm(Some(&mut mean), Some(&mut var), None, None, true, 0.1, 0.0);
//! let s = 1.25f64.sqrt();
//! assert_eq!(y.to_vec(), vec![-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s]);
//! assert_eq!(mean.to_vec(), vec![0.25]); // 0.9 * 0 + 0.1 * 2.5
//! assert!((var[[0]] - (0.9 + 0.1 * 5.0 / 3.0)).abs() < 1e-15); // unbiased: 5/3
//! ```
//!
//! Backward, per channel, with `xhat = (x - mean) / sqrt(var + eps)` and `g` the upstream
//! gradient: `grad_bias = sum g`, `grad_weight = sum g * xhat`, and in training
//!
//! ```text
//! grad_x = weight / sqrt(var + eps) * (g - 1/n sum g - xhat * 1/n sum g * xhat)
//! ```
//!
//! (the statistics depend on `x`), in evaluation `grad_x = weight / sqrt(running_var + eps) * g`.
//!
//! Fused: the forward pass reads the input twice for the statistics (the mean, then the
//! squares about it) and once to write the output; the backward pass reads it once for both
//! sums and once to write the input's gradient. Sums are kept in `f64`, as PyTorch's CPU
//! kernels keep them, and are the same on any number of threads ([`kernels`]).
//!
//! A batch that gives a channel only one value cannot be normalised in training (its variance
//! is 0, the running variance's `n - 1` is 0): the op panics with PyTorch's message, "expected
//! more than 1 value per channel when training, got input size [1, 8, 1, 1]", as the library
//! panics on other sizes known only at run time. In evaluation any batch works, 1 included.

pub mod kernels;

#[cfg(test)]
mod kernel_tests;

use crate::memory::Buffer;
use crate::shape::{BatchNormShape, Shape};
use crate::tensor::{Element, OpInput, Tensor, Tensor1};
use kernels::{Affine, GradCoefficients, NormGeometry};

/// The statistics a batch norm normalises with.
pub(crate) enum Statistics<'a, E> {
    /// The batch's (training); the running ones given are updated by `momentum`.
    Batch {
        /// The running mean, `[C]`, to update.
        running_mean: Option<&'a mut [E]>,
        /// The running (unbiased) variance, `[C]`, to update.
        running_var: Option<&'a mut [E]>,
        /// How far the running statistics move toward the batch's.
        momentum: f64,
    },
    /// The running ones (evaluation), `[C]` each.
    Running {
        /// The running mean.
        mean: &'a [E],
        /// The running variance.
        var: &'a [E],
    },
}

/// Panics with PyTorch's message when a training batch gives a channel at most one value:
/// `op` names the op, `dims` the input.
pub(crate) fn check_values_per_channel(op: &str, dims: &[usize]) {
    if NormGeometry::of(dims).per_channel() == 1 {
        panic!(
            "{op}: expected more than 1 value per channel when training, got input size {dims:?}"
        );
    }
}

impl<E: Element, S: Shape> Tensor<E, S> {
    /// Batch normalisation, like `torch.nn.functional.batch_norm(input, running_mean,
    /// running_var, weight, bias, training, momentum, eps)`, argument for argument: see [the
    /// module docs](self) for the formulas. In training the batch's statistics normalise and
    /// the running ones (when given) are updated in place; in evaluation the running ones
    /// normalise (both must be given). `weight` and `bias` default to 1 and 0.
    ///
    /// Gradients: of the input, `weight` and `bias` (whichever are traced); the running
    /// statistics are state, not differentiated.
    ///
    /// Panics in training when the input has one value per channel (batch 1, no spatial dims
    /// or all of size 1), and in evaluation when a running statistic is `None` (PyTorch
    /// raises on both). Compile errors: the input is not `[B, Dim<C>, ..]` of rank 2 to 5.
    #[allow(clippy::too_many_arguments)] // PyTorch's argument list, in its order
    #[rustfmt::skip] // the signature's bound on one line: compile errors quote it
    pub fn batch_norm<const C: usize>(
        &self,
        running_mean: Option<&mut Tensor1<E, C>>,
        running_var: Option<&mut Tensor1<E, C>>,
        weight: Option<&Tensor1<E, C>>,
        bias: Option<&Tensor1<E, C>>,
        training: bool,
        momentum: f64,
        eps: f64,
    ) -> Self
    where S: BatchNormShape<C>,
    {
        let statistics = if training {
            Statistics::Batch {
                running_mean: running_mean.map(Tensor::data_mut),
                running_var: running_var.map(Tensor::data_mut),
                momentum,
            }
        } else {
            match (running_mean, running_var) {
                (Some(mean), Some(var)) => Statistics::Running {
                    mean: mean.as_slice(),
                    var: var.as_slice(),
                },
                _ => panic!(
                    "batch_norm: evaluation mode needs running_mean and running_var (None given)"
                ),
            }
        };
        batch_norm_op("batch_norm", self, statistics, weight, bias, eps)
    }
}

/// The body of `batch_norm` and of the layers (`op` names the op in messages and on the
/// tape): normalises `x` (`[B, C, ..]`) with `statistics` (updating the running ones in
/// training), and records the backward pass, which keeps the input (when a gradient needs it)
/// and `2 * C` numbers.
/// `weight`, `bias` and the running statistics hold `C` values each, `C` the input's channels
/// (checked by the typed callers' relations; asserted here).
pub(crate) fn batch_norm_op<E: Element, S: Shape, Sc: Shape>(
    op: &'static str,
    x: &Tensor<E, S>,
    statistics: Statistics<'_, E>,
    weight: Option<&Tensor<E, Sc>>,
    bias: Option<&Tensor<E, Sc>>,
    eps: f64,
) -> Tensor<E, S> {
    let dims = x.dims();
    let g = NormGeometry::of(dims.as_ref());
    let c_len = g.channels;
    let training = matches!(statistics, Statistics::Batch { .. });
    let running_lengths = match &statistics {
        Statistics::Batch {
            running_mean,
            running_var,
            ..
        } => [running_mean.as_deref(), running_var.as_deref()].map(|r| r.map(<[E]>::len)),
        Statistics::Running { mean, var } => [Some(mean.len()), Some(var.len())],
    };
    let lengths = [weight.map(Tensor::numel), bias.map(Tensor::numel)];
    for len in lengths.into_iter().chain(running_lengths).flatten() {
        assert_eq!(len, c_len, "{op}: channels checked at compile time");
    }
    let n = g.per_channel();
    if training {
        check_values_per_channel(op, dims.as_ref());
    }
    let wide = |t: Option<&Tensor<E, Sc>>, default: f64| -> Vec<f64> {
        t.map_or(vec![default; c_len], |t| {
            t.as_slice()
                .iter()
                .map(|v| v.to_f64().unwrap_or(f64::NAN))
                .collect()
        })
    };
    let (w, b) = (wide(weight, 1.0), wide(bias, 0.0));

    // The mean subtracted and 1 / sqrt(var + eps), per channel.
    let to_f64 = |v: &E| v.to_f64().unwrap_or(f64::NAN);
    let invstd = |var: &[f64]| -> Vec<f64> { var.iter().map(|v| 1.0 / (v + eps).sqrt()).collect() };
    let (mean, invstd): (Vec<f64>, Vec<f64>) = match statistics {
        Statistics::Running { mean, var } => {
            let var: Vec<f64> = var.iter().map(to_f64).collect();
            (mean.iter().map(to_f64).collect(), invstd(&var))
        }
        // An empty batch: nothing to normalise, and the running statistics stay (PyTorch).
        Statistics::Batch { .. } if n == 0 => (vec![0.0; c_len], vec![1.0; c_len]),
        Statistics::Batch {
            running_mean,
            running_var,
            momentum: m,
        } => {
            let (mean, var) = kernels::mean_var(&g, x.as_slice());
            // running = (1 - m) running + m stat, the variance unbiased (n / (n - 1))
            if let Some(running_mean) = running_mean {
                for (r, &mean) in running_mean.iter_mut().zip(&mean) {
                    *r = E::of((1.0 - m) * to_f64(r) + m * mean);
                }
            }
            if let Some(running_var) = running_var {
                let unbiased = n as f64 / (n - 1) as f64;
                for (r, &var) in running_var.iter_mut().zip(&var) {
                    *r = E::of((1.0 - m) * to_f64(r) + m * var * unbiased);
                }
            }
            let invstd = invstd(&var);
            (mean, invstd)
        }
    };

    let affine: Vec<Affine<E>> = (0..c_len)
        .map(|c| Affine {
            center: E::of(mean[c]),
            scale: E::of(w[c] * invstd[c]),
            shift: E::of(b[c]),
        })
        .collect();
    let mut y = Buffer::for_overwrite(g.len());
    kernels::normalise(&g, x.as_slice(), &affine, &mut y);

    let (x_grad, w_grad) = (x.grad_id(), weight.and_then(Tensor::grad_id));
    let b_grad = bias.and_then(Tensor::grad_id);
    // The input is read by the weight's gradient, and by the input's in training.
    let keep_x = w_grad.is_some() || (training && x_grad.is_some());
    let x_kept = keep_x.then(|| x.storage());
    let mut inputs: Vec<&dyn OpInput<E>> = vec![x];
    inputs.extend(weight.map(|w| w as &dyn OpInput<E>));
    inputs.extend(bias.map(|b| b as &dyn OpInput<E>));
    Tensor::from_op(op, *x.shape(), y, &inputs, move |grad_y, grads| {
        let x = x_kept.as_deref().map(|x| &x[..]);
        // sum_g[c] = sum g, sum_gx[c] = sum g * (x - mean[c])
        let (sum_g, sum_gx) = kernels::grad_sums(&g, grad_y, x, &mean);
        if let Some(id) = b_grad {
            // grad_bias[c] += sum g
            for (gb, &s) in grads.accumulator(id, c_len).iter_mut().zip(&sum_g) {
                *gb += E::of(s);
            }
        }
        if let Some(id) = w_grad {
            // grad_weight[c] += sum g * xhat = sum_gx[c] / sqrt(var[c] + eps)
            let grad_w = grads.accumulator(id, c_len);
            for c in 0..c_len {
                grad_w[c] += E::of(sum_gx[c] * invstd[c]);
            }
        }
        if let Some(id) = x_grad {
            let n = n as f64;
            let coefficients: Vec<GradCoefficients<E>> = (0..c_len)
                .map(|c| {
                    // grad_x = a g - a/n sum g - a xhat/n sum g xhat, a = w / sqrt(var + eps):
                    // a g + beta (x - mean) + k, beta = -a invstd^2 sum_gx / n, k = -a sum_g / n
                    let a = w[c] * invstd[c];
                    let (beta, k) = if training {
                        (
                            -a * invstd[c] * invstd[c] * sum_gx[c] / n,
                            -a * sum_g[c] / n,
                        )
                    } else {
                        (0.0, 0.0)
                    };
                    GradCoefficients {
                        a: E::of(a),
                        beta: E::of(beta),
                        center: E::of(mean[c]),
                        k: E::of(k),
                    }
                })
                .collect();
            let x = if training { x } else { None };
            let grad_x = grads.accumulator(id, g.len());
            kernels::add_grad_input(&g, grad_y, x, &coefficients, grad_x);
        }
    })
}

#[cfg(test)]
mod tests {
    use crate::prelude::*;

    /// The hand case: one channel of four values, spelled out.
    #[test]
    fn hand_case_training_and_evaluation() {
        let tape = Tape::new();
        let x = Tensor3::<f64, 2, 1, 2>::from_slice(&[1.0, 2.0, 3.0, 4.0])
            .unwrap()
            .trace(&tape);
        let w = Tensor1::<f64, 1>::from_slice(&[2.0]).unwrap().trace(&tape);
        let b = Tensor1::<f64, 1>::from_slice(&[0.5]).unwrap().trace(&tape);
        let (mut mean, mut var) = (Tensor1::<f64, 1>::zeros(), Tensor1::<f64, 1>::ones());
        let y = x.batch_norm(
            Some(&mut mean),
            Some(&mut var),
            Some(&w),
            Some(&b),
            true,
            0.1,
            0.0,
        );
        // mean 2.5, biased variance (2.25 + 0.25 + 0.25 + 2.25)/4 = 1.25
        let s = 1.25f64.sqrt();
        let xhat = [-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s];
        for (got, xh) in y.as_slice().iter().zip(xhat) {
            assert!((got - (2.0 * xh + 0.5)).abs() < 1e-14, "{y}");
        }
        // running: 0.9 * 0 + 0.1 * 2.5; 0.9 * 1 + 0.1 * (5/4 * 4/3)
        assert!((mean[[0]] - 0.25).abs() < 1e-15);
        assert!((var[[0]] - (0.9 + 0.1 * 5.0 / 3.0)).abs() < 1e-15);
        // loss = sum(y * [1, 0, 0, 0]): grad_bias = 1, grad_weight = xhat[0],
        // grad_x[i] = w/s * ([i == 0] - 1/4 - xhat[i] * xhat[0] / 4)
        let g = Tensor3::<f64, 2, 1, 2>::from_slice(&[1.0, 0.0, 0.0, 0.0]).unwrap();
        let grads = (&y * &g).sum_all().backward();
        assert!((grads.get(&b).unwrap()[[0]] - 1.0).abs() < 1e-14);
        assert!((grads.get(&w).unwrap()[[0]] - xhat[0]).abs() < 1e-14);
        let gx = grads.get(&x).unwrap();
        for i in 0..4 {
            let one = if i == 0 { 1.0 } else { 0.0 };
            let expected = 2.0 / s * (one - 0.25 - xhat[i] * xhat[0] / 4.0);
            assert!((gx.as_slice()[i] - expected).abs() < 1e-14, "{gx}");
        }

        // evaluation: (x - 0.25) / sqrt(var + 0) * 2 + 0.5, grad_x = 2 / sqrt(var) * g
        let x = x.untraced().trace(&tape);
        let y = x.batch_norm(
            Some(&mut mean),
            Some(&mut var),
            Some(&w),
            Some(&b),
            false,
            0.1,
            0.0,
        );
        let sd = var[[0]].sqrt();
        for (got, x) in y.as_slice().iter().zip([1.0, 2.0, 3.0, 4.0]) {
            assert!((got - ((x - 0.25) / sd * 2.0 + 0.5)).abs() < 1e-14);
        }
        let grads = (&y * &g).sum_all().backward();
        assert_eq!(grads.get(&x).unwrap().to_vec()[1..], [0.0; 3]);
        assert!((grads.get(&x).unwrap()[[0, 0, 0]] - 2.0 / sd).abs() < 1e-14);
        assert!((grads.get(&w).unwrap()[[0]] - 0.75 / sd).abs() < 1e-14);
        // evaluation leaves the running statistics alone
        assert!((mean[[0]] - 0.25).abs() < 1e-15);
    }

    #[test]
    fn gradients_match_central_differences() {
        let x = Tensor4::<f64, 3, 2, 2, 3>::randn(1);
        let w = Tensor1::<f64, 2>::from_slice(&[1.5, -0.7]).unwrap();
        let b = Tensor1::<f64, 2>::from_slice(&[0.3, 0.1]).unwrap();
        let train = |x: &Tensor4<f64, 3, 2, 2, 3>, w: &Tensor1<f64, 2>, b: &Tensor1<f64, 2>| {
            x.batch_norm(None, None, Some(w), Some(b), true, 0.1, 1e-5)
        };
        gradcheck("batch_norm, training, x", &x, |x| train(x, &w, &b)).unwrap();
        gradcheck("batch_norm, training, weight", &w, |w| train(&x, w, &b)).unwrap();
        gradcheck("batch_norm, training, bias", &b, |b| train(&x, &w, b)).unwrap();
        let (mean, var) = (
            Tensor1::<f64, 2>::from_slice(&[0.2, -0.1]).unwrap(),
            Tensor1::<f64, 2>::from_slice(&[0.8, 1.3]).unwrap(),
        );
        let eval = |x: &Tensor4<f64, 3, 2, 2, 3>, w: &Tensor1<f64, 2>, b: &Tensor1<f64, 2>| {
            let (mut m, mut v) = (mean.clone(), var.clone());
            x.batch_norm(
                Some(&mut m),
                Some(&mut v),
                Some(w),
                Some(b),
                false,
                0.1,
                1e-5,
            )
        };
        gradcheck("batch_norm, evaluation, x", &x, |x| eval(x, &w, &b)).unwrap();
        gradcheck("batch_norm, evaluation, weight", &w, |w| eval(&x, w, &b)).unwrap();
        gradcheck("batch_norm, evaluation, bias", &b, |b| eval(&x, &w, b)).unwrap();
        // rank 2 and 3, a runtime batch, no affine parameters
        let x2 = Tensor::<f64, (usize, Dim<3>)>::randn_shaped((5, Dim), 2, 0.0, 1.0);
        gradcheck("batch_norm, [B, C]", &x2, |x| {
            x.batch_norm::<3>(None, None, None, None, true, 0.1, 1e-5)
        })
        .unwrap();
        let x3 = Tensor::<f64, (usize, Dim<2>, Dim<4>)>::randn_shaped((2, Dim, Dim), 3, 1.0, 2.0);
        gradcheck("batch_norm, [B, C, L]", &x3, |x| {
            let (mut m, mut v) = (mean.clone(), var.clone());
            x.batch_norm(Some(&mut m), Some(&mut v), Some(&w), None, true, 0.1, 1e-5)
        })
        .unwrap();
    }

    #[test]
    #[should_panic(
        expected = "batch_norm: expected more than 1 value per channel when training, got input size [1, 3, 1, 1]"
    )]
    fn a_training_batch_of_one_value_per_channel_panics_with_pytorchs_message() {
        let x = Tensor::<f32, (usize, Dim<3>, Dim<1>, Dim<1>)>::ones_shaped((1, Dim, Dim, Dim));
        let _ = x.batch_norm::<3>(None, None, None, None, true, 0.1, 1e-5);
    }

    #[test]
    fn one_value_per_channel_is_fine_in_evaluation_and_an_empty_batch_in_training() {
        let (mut mean, mut var) = (Tensor1::<f32, 3>::full(1.0), Tensor1::<f32, 3>::full(4.0));
        let x =
            Tensor::<f32, (usize, Dim<3>)>::from_vec_shaped((1, Dim), vec![1.0, 3.0, 5.0]).unwrap();
        let y = x.batch_norm(Some(&mut mean), Some(&mut var), None, None, false, 0.1, 0.0);
        assert_eq!(y.to_vec(), vec![0.0, 1.0, 2.0]); // (x - 1) / 2
        let empty = Tensor::<f32, (usize, Dim<3>, Dim<2>)>::zeros_shaped((0, Dim, Dim));
        let y = empty.batch_norm(Some(&mut mean), Some(&mut var), None, None, true, 0.1, 0.0);
        assert_eq!(y.dims(), [0, 3, 2]);
        assert_eq!((mean.to_vec(), var.to_vec()), (vec![1.0; 3], vec![4.0; 3]));
    }

    #[test]
    #[should_panic(expected = "batch_norm: evaluation mode needs running_mean and running_var")]
    fn evaluation_without_running_statistics_panics() {
        let x = Tensor2::<f32, 4, 3>::ones();
        let _ = x.batch_norm::<3>(None, None, None, None, false, 0.1, 1e-5);
    }
}
