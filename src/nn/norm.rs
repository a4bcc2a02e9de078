//! `BatchNorm1d` and `BatchNorm2d`: batch normalisation layers, like `torch.nn.BatchNorm1d`
//! and `torch.nn.BatchNorm2d`, with an affine weight and bias, running statistics, and the
//! channels checked by the compiler.
//!
//! In training mode (the default) a layer normalises each channel with the batch's mean and
//! (biased) variance and moves its running statistics toward them: `running = (1 - momentum)
//! * running + momentum * batch`, the variance unbiased (`n / (n - 1)`), `momentum` 0.1 (or
//! `None`: the cumulative average over `num_batches_tracked` batches). In evaluation mode
//! ([`ModuleExt::eval`](super::ModuleExt::eval)) it normalises with the running statistics,
//! any batch size, 1 included. See [`Tensor::batch_norm`] for the formulas.
//!
//! ```
//! use shapetorch::prelude::*;
//! let mut bn = BatchNorm2d::<f32, 8>::new(0); // weight 1, bias 0, running mean 0, var 1
//! let x = Tensor::<f32, (usize, Dim<8>, Dim<4>, Dim<4>)>::randn_shaped((2, Dim, Dim, Dim), 1, 3.0, 2.0);
//! let y = bn.forward(x.clone()); // the batch's statistics: mean ~0, variance ~1
//! assert!(y.mean_all().item().abs() < 1e-5);
//! assert_eq!(bn.num_batches_tracked(), 1);
//! assert!((bn.running_mean().mean_all().item() - 0.3).abs() < 0.1); // 0.9 * 0 + 0.1 * ~3
//! bn.eval();
//! let one = Tensor::<f32, (usize, Dim<8>, Dim<4>, Dim<4>)>::zeros_shaped((1, Dim, Dim, Dim));
//! let z = bn.forward(one); // the running statistics: a batch of one works
//! assert_eq!(z.dims(), [1, 8, 4, 4]);
//! // saved as PyTorch's state_dict names them
//! let mut names = Vec::new();
//! bn.for_each_state_tensor(|name, _| names.push(name.to_string()));
//! bn.for_each_int_buffer(|name, _| names.push(name.to_string()));
//! assert_eq!(names, ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]);
//! ```
//!
//! The running statistics change in `forward(&self)`, as in PyTorch's `forward`: they sit
//! behind a mutex (one lock per call), so a model's `forward` keeps taking `&self`.

use std::sync::{Mutex, MutexGuard, PoisonError};

use super::{Forward, Init, Module, Visitor};
use crate::element::Element;
use crate::ops::batch_norm::{batch_norm_op, check_values_per_channel, Statistics};
use crate::shape::{BatchNorm1dShape, BatchNorm2dShape, Shape};
use crate::tensor::{Rng, Tensor, Tensor1};

/// A batch norm layer's state that `forward` changes: PyTorch's buffers.
#[derive(Clone, Debug)]
struct RunningStats<E: Element, const C: usize> {
    mean: Tensor1<E, C>,
    var: Tensor1<E, C>,
    num_batches_tracked: u64,
}

/// PyTorch's defaults.
const MOMENTUM: f64 = 0.1;
const EPS: f64 = 1e-5;

/// The forward pass both layers share: `op` names the layer's op in messages.
#[allow(clippy::too_many_arguments)] // the layer's fields, passed apart to borrow them apart
fn forward<E: Element, S: Shape, const C: usize>(
    op: &'static str,
    x: &Tensor<E, S>,
    weight: &Tensor1<E, C>,
    bias: &Tensor1<E, C>,
    running: &Mutex<RunningStats<E, C>>,
    momentum: Option<f64>,
    eps: f64,
    training: bool,
) -> Tensor<E, S> {
    if training {
        // before the lock and the count, so that a panic leaves the state as it was
        check_values_per_channel(op, x.dims().as_ref());
    }
    let mut running = lock(running);
    let RunningStats {
        mean,
        var,
        num_batches_tracked,
    } = &mut *running;
    let statistics = if training {
        *num_batches_tracked += 1;
        Statistics::Batch {
            running_mean: Some(mean.data_mut()),
            running_var: Some(var.data_mut()),
            // None: the cumulative average, 1/k for the k-th batch
            momentum: momentum.unwrap_or(1.0 / *num_batches_tracked as f64),
        }
    } else {
        Statistics::Running {
            mean: mean.as_slice(),
            var: var.as_slice(),
        }
    };
    batch_norm_op(op, x, statistics, Some(weight), Some(bias), eps)
}

/// The running statistics, whether or not a panic poisoned the lock (the state is consistent
/// either way: it changes only after the checks that panic).
fn lock<E: Element, const C: usize>(
    running: &Mutex<RunningStats<E, C>>,
) -> MutexGuard<'_, RunningStats<E, C>> {
    running.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One batch norm layer type: the struct, its accessors, `Init`, `Module`, `Clone` and
/// [`Forward`] (bounded by `$relation`; the inherent `forward` is written out below the
/// invocations, so that a compile error quotes its two-line signature, not this macro).
macro_rules! batch_norm_layer {
    (
        $(#[$doc:meta])*
        $name:ident, $relation:ident
    ) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name<E: Element, const C: usize> {
            /// `[C]`, the scale (PyTorch's `weight`, gamma), initialised to 1.
            pub weight: Tensor1<E, C>,
            /// `[C]`, the shift (PyTorch's `bias`, beta), initialised to 0.
            pub bias: Tensor1<E, C>,
            /// How far the running statistics move toward each training batch's: 0.1, as
            /// PyTorch's `momentum`; `None` is the cumulative average (PyTorch's
            /// `momentum=None`).
            pub momentum: Option<f64>,
            /// Added to the variance before its square root: 1e-5.
            pub eps: f64,
            running: Mutex<RunningStats<E, C>>,
            training: bool,
        }

        impl<E: Element, const C: usize> $name<E, C> {
            /// The running mean, `[C]` (a copy-on-write share of the layer's).
            pub fn running_mean(&self) -> Tensor1<E, C> {
                lock(&self.running).mean.clone()
            }

            /// The running (unbiased) variance, `[C]`.
            pub fn running_var(&self) -> Tensor1<E, C> {
                lock(&self.running).var.clone()
            }

            /// The training batches seen (PyTorch's `num_batches_tracked`).
            pub fn num_batches_tracked(&self) -> u64 {
                lock(&self.running).num_batches_tracked
            }

            /// Whether the layer is in training mode (batch statistics) or evaluation mode
            /// (running statistics).
            pub fn is_training(&self) -> bool {
                self.training
            }

            /// Evaluation mode. The same as [`ModuleExt::eval`](super::ModuleExt::eval) (which
            /// a model passes on to its layers), callable on the layer alone without naming an
            /// element type.
            pub fn eval(&mut self) {
                self.training = false;
            }

            /// Training mode. The same as [`ModuleExt::train`](super::ModuleExt::train).
            pub fn train(&mut self) {
                self.training = true;
            }
        }

        impl<E: Element, const C: usize> Init for $name<E, C> {
            /// PyTorch's initialisation (no random draw): weight 1, bias 0, running mean 0,
            /// running variance 1, training mode.
            fn init(_: &mut Rng) -> Self {
                $name {
                    weight: Tensor1::ones(),
                    bias: Tensor1::zeros(),
                    momentum: Some(MOMENTUM),
                    eps: EPS,
                    running: Mutex::new(RunningStats {
                        mean: Tensor1::zeros(),
                        var: Tensor1::ones(),
                        num_batches_tracked: 0,
                    }),
                    training: true,
                }
            }
        }

        impl<E: Element, const C: usize> Module<E> for $name<E, C> {
            /// The parameters `weight` and `bias`; the buffers `running_mean`, `running_var`
            /// and the integer buffer `num_batches_tracked`, as PyTorch's `state_dict()`
            /// names them.
            fn visit(&mut self, visitor: &mut Visitor<'_, E>) {
                visitor.param("weight", &mut self.weight);
                visitor.param("bias", &mut self.bias);
                let running = self.running.get_mut().unwrap_or_else(PoisonError::into_inner);
                visitor.buffer("running_mean", &mut running.mean);
                visitor.buffer("running_var", &mut running.var);
                visitor.int_buffer("num_batches_tracked", &mut running.num_batches_tracked);
            }

            fn set_training(&mut self, training: bool) {
                self.training = training;
            }
        }

        impl<E: Element, const C: usize> Clone for $name<E, C> {
            /// The same parameters, running statistics, count and mode.
            fn clone(&self) -> Self {
                $name {
                    weight: self.weight.clone(),
                    bias: self.bias.clone(),
                    momentum: self.momentum,
                    eps: self.eps,
                    running: Mutex::new(lock(&self.running).clone()),
                    training: self.training,
                }
            }
        }

        impl<E: Element, S, const C: usize> Forward<Tensor<E, S>> for $name<E, C>
        where
            S: $relation<C>,
        {
            type Output = Tensor<E, S>;
            fn forward(&self, x: Tensor<E, S>) -> Tensor<E, S> {
                $name::forward(self, x)
            }
        }
    };
}

batch_norm_layer!(
    /// Batch normalisation over `C` channels of a `[B, C, H, W]` input, like
    /// `torch.nn.BatchNorm2d(C)`: weight and bias `[C]`, running mean and variance `[C]`,
    /// momentum 0.1, eps 1e-5 (see [the module docs](self)). The input's channels must be `C`,
    /// checked by the compiler ("batch_norm2d: the input has 6 channels, the layer has 8"); the
    /// batch, height and width may be anything, runtime sizes included, and generic code
    /// over them writes no bound.
    BatchNorm2d,
    BatchNorm2dShape
);

batch_norm_layer!(
    /// Batch normalisation over `C` channels of a `[B, C]` or `[B, C, L]` input, like
    /// `torch.nn.BatchNorm1d(C)` (see [`BatchNorm2d`] and [the module docs](self)). The
    /// input's channels must be `C`, checked by the compiler ("batch_norm1d: the input has 6
    /// channels, the layer has 8").
    BatchNorm1d,
    BatchNorm1dShape
);

impl<E: Element, const C: usize> BatchNorm2d<E, C> {
    /// `[B, C, H, W]` → the same shape: normalised per channel with the batch's statistics
    /// (training, which updates the running ones) or the running ones (evaluation). (An
    /// inherent method, so that a wrong input reports the layer's own message at the call;
    /// [`Forward`] calls it.)
    ///
    /// Panics in training when the input has one value per channel (batch 1 and a 1 x 1
    /// plane), with PyTorch's message.
    #[rustfmt::skip] // the signature on two lines: compile errors quote it
    pub fn forward<S>(&self, x: Tensor<E, S>) -> Tensor<E, S>
    where S: BatchNorm2dShape<C>,
    {
        let running = &self.running;
        let (momentum, eps) = (self.momentum, self.eps);
        let y = forward("batch_norm2d", &x, &self.weight, &self.bias, running, momentum, eps, self.training);
        super::summary::note_output(self, y.dims().as_ref());
        y
    }
}

impl<E: Element, const C: usize> BatchNorm1d<E, C> {
    /// `[B, C]` or `[B, C, L]` → the same shape: normalised per channel as
    /// [`BatchNorm2d::forward`] does.
    ///
    /// Panics in training when the input has one value per channel (batch 1 and no length,
    /// or length 1), with PyTorch's message.
    #[rustfmt::skip] // the signature on two lines: compile errors quote it
    pub fn forward<S>(&self, x: Tensor<E, S>) -> Tensor<E, S>
    where S: BatchNorm1dShape<C>,
    {
        let running = &self.running;
        let (momentum, eps) = (self.momentum, self.eps);
        let y = forward("batch_norm1d", &x, &self.weight, &self.bias, running, momentum, eps, self.training);
        super::summary::note_output(self, y.dims().as_ref());
        y
    }
}

#[cfg(test)]
mod tests {
    use crate::prelude::*;

    #[test]
    fn the_layer_is_the_functional_op_with_its_running_statistics() {
        let tape = Tape::new();
        let mut bn = BatchNorm2d::<f64, 3>::new(0);
        bn.weight = Tensor1::from_slice(&[1.5, 0.5, -1.0]).unwrap();
        bn.bias = Tensor1::from_slice(&[0.1, 0.2, 0.3]).unwrap();
        bn.trace(&tape);
        let x = Tensor::<f64, (usize, Dim<3>, Dim<2>, Dim<5>)>::randn_shaped(
            (4, Dim, Dim, Dim),
            7,
            1.0,
            2.0,
        );
        let (mut mean, mut var) = (Tensor1::<f64, 3>::zeros(), Tensor1::<f64, 3>::ones());
        for step in 1..=3 {
            let y = bn.forward(x.clone());
            let f = x.batch_norm(
                Some(&mut mean),
                Some(&mut var),
                Some(&bn.weight),
                Some(&bn.bias),
                true,
                0.1,
                1e-5,
            );
            assert_eq!(y.to_vec(), f.to_vec());
            assert_eq!(bn.running_mean().to_vec(), mean.to_vec());
            assert_eq!(bn.running_var().to_vec(), var.to_vec());
            assert_eq!(bn.num_batches_tracked(), step);
        }
        bn.eval();
        let y = bn.forward(x.clone());
        let f = x.batch_norm(
            Some(&mut mean),
            Some(&mut var),
            Some(&bn.weight),
            Some(&bn.bias),
            false,
            0.1,
            1e-5,
        );
        assert_eq!(y.to_vec(), f.to_vec());
        assert_eq!(bn.num_batches_tracked(), 3, "evaluation counts no batch");
        let grads = y.sum_all().backward();
        assert!(grads.get(&bn.weight).is_some() && grads.get(&bn.bias).is_some());
    }

    #[test]
    fn parameters_buffers_and_the_count_are_visited_apart() {
        let mut bn = BatchNorm1d::<f32, 4>::new(0);
        assert_eq!(bn.parameter_names(), vec!["weight", "bias"]);
        assert_eq!(bn.parameter_count(), 8, "buffers are not parameters");
        let mut buffers = Vec::new();
        bn.for_each_state_tensor(|name, p| buffers.push((name.to_string(), p.values().to_vec())));
        assert_eq!(buffers[2], ("running_mean".to_string(), vec![0.0; 4]));
        assert_eq!(buffers[3], ("running_var".to_string(), vec![1.0; 4]));
        let mut scalars = 0;
        bn.for_each_scalar(|_, _| scalars += 1);
        assert_eq!(
            scalars, 0,
            "the count is an integer buffer, not checkpoint-only state"
        );
        // Tracing leaves the buffers untraced: they get no gradient.
        let tape = Tape::new();
        bn.trace(&tape);
        let x = Tensor::<f32, (usize, Dim<4>, usize)>::randn_shaped((3, Dim, 2), 1, 0.0, 1.0);
        let _ = bn.forward(x).sum_all().backward();
        assert!(!bn.running_mean().is_traced());
        // A clone carries the state; the original and the clone then go their own ways.
        let clone = bn.clone();
        assert_eq!(clone.num_batches_tracked(), 1);
        assert_eq!(clone.running_var().to_vec(), bn.running_var().to_vec());
    }

    #[test]
    fn momentum_none_is_the_cumulative_average() {
        let mut bn = BatchNorm1d::<f64, 1>::new(0);
        bn.momentum = None;
        for (k, values) in [[1.0, 3.0], [5.0, 7.0], [0.0, 0.0]].iter().enumerate() {
            let x =
                Tensor::<f64, (usize, Dim<1>)>::from_vec_shaped((2, Dim), values.to_vec()).unwrap();
            let _ = bn.forward(x);
            // means 2, 6, 0: running averages 2, 4, 8/3 (1/k weights)
            let expected = [2.0, 4.0, 8.0 / 3.0][k];
            assert!((bn.running_mean()[[0]] - expected).abs() < 1e-12, "{k}");
        }
    }

    #[test]
    #[should_panic(
        expected = "batch_norm2d: expected more than 1 value per channel when training, got input size [1, 2, 1, 1]"
    )]
    fn a_training_batch_of_one_value_per_channel_panics() {
        let bn = BatchNorm2d::<f32, 2>::new(0);
        let x = Tensor::<f32, (usize, Dim<2>, Dim<1>, Dim<1>)>::ones_shaped((1, Dim, Dim, Dim));
        let _ = bn.forward(x);
    }

    #[test]
    fn the_panic_leaves_the_state_and_evaluation_takes_a_batch_of_one() {
        let mut bn = BatchNorm1d::<f32, 2>::new(0);
        let one =
            Tensor::<f32, (usize, Dim<2>)>::from_vec_shaped((1, Dim), vec![3.0, -1.0]).unwrap();
        let result =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| bn.forward(one.clone())));
        assert!(result.is_err());
        assert_eq!(bn.num_batches_tracked(), 0);
        bn.eval();
        let y = bn.forward(one); // (x - 0) / sqrt(1 + 1e-5)
        assert!((y[[0, 0]] - 3.0 / (1.0f32 + 1e-5).sqrt()).abs() < 1e-6);
    }
}
