//! Training a model: optimisers ([`Sgd`] with momentum, [`Adam`] and AdamW) updating its
//! parameters in place from the gradients of one `backward()` with PyTorch's update rules;
//! learning-rate schedules ([`LrScheduler`] running PyTorch's [`StepLR`], [`CosineAnnealingLR`],
//! [`OneCycleLR`], ...); gradient clipping ([`clip_grad_norm`]); and resumable [`Checkpoint`]s.
//!
//! State (momentum buffers, moment estimates) is kept per parameter, keyed by its name, and
//! remembers the shape it was made for: an optimiser stepped on a parameter of another shape
//! under the same name fails instead of updating part of it.
//!
//! ```
//! use shapetorch::prelude::*;
//!
//! shapetorch::model! {
//!     struct Regression { fc: Linear<f64, 1, 1> }
//! }
//!
//! // Fit y = 2x + 1 with Adam, the learning rate annealed over the 300 steps.
//! let mut model = Regression::new(0);
//! let tape = Tape::new();
//! model.trace(&tape);
//! let x = Tensor2::<f64, 4, 1>::from_slice(&[0.0, 1.0, 2.0, 3.0]).unwrap();
//! let y = Tensor2::<f64, 4, 1>::from_slice(&[1.0, 3.0, 5.0, 7.0]).unwrap();
//! let mut adam = Adam::new(0.1);
//! let mut schedule = LrScheduler::new(&mut adam, CosineAnnealingLR::new(300)).unwrap();
//! for _ in 0..300 {
//!     let loss = (&model.fc.forward(x.clone()) - &y).powi(2).mean_all();
//!     adam.step(&mut model, &loss.backward());
//!     schedule.step(&mut adam);
//! }
//! assert!((model.fc.weight[[0, 0]] - 2.0).abs() < 0.05);
//! ```

mod adam;
pub mod checkpoint;
mod clip;
pub mod schedule;
mod sgd;

pub use adam::Adam;
pub use checkpoint::Checkpoint;
pub use clip::{clip_grad_norm, clip_grads_with_norm, get_total_norm};
pub use schedule::{
    AnnealStrategy, CosineAnnealingLR, ExponentialLR, LinearLR, LrScheduler, MultiStepLR,
    OneCycleLR, Schedule, SequentialLR, StepLR,
};
pub use sgd::Sgd;

use std::collections::{BTreeMap, HashMap};

use crate::autodiff::Gradients;
use crate::element::Element;
use crate::error::{Error, Result};
use crate::nn::{Module, ModuleExt, Parameter};

/// `x`, or zero when it is subnormal (nonzero and below the smallest normal value: 1.2e-38 in
/// `f32`). Applied to the optimisers' moving averages.
///
/// Why: a parameter whose gradient has become zero (the weights of a unit whose ReLU never
/// fires) keeps a momentum or first moment that shrinks by the same factor every step, 0.9 for
/// Adam's default, and reaches the subnormal range within about 800 steps; x86 CPUs take some
/// 100 cycles for each arithmetic operation on a subnormal. Measured on LeNet-5 with Adam (one
/// thread): epochs after the first took 3.3-3.5 s instead of 2.8-2.9 s. A moment that small
/// changes its parameter by less than `lr · 1e-30`, far below the rounding of the parameter
/// itself: the trained values are PyTorch's to within float rounding either way.
#[inline(always)]
pub(crate) fn flush_subnormal<E: Element>(x: E) -> E {
    if x.abs() < E::min_positive_value() {
        E::zero()
    } else {
        x
    }
}

/// Updates a model's parameters from the gradients of one `backward()`.
///
/// The trait is object safe: `Box<dyn Optimizer<f32>>` holds an optimiser chosen at run time.
pub trait Optimizer<E: Element> {
    /// One update of every parameter of `model` that has a gradient in `grads` (parameters the
    /// loss did not reach are left as they are, with their state).
    ///
    /// # Panics
    ///
    /// When [`try_step`](Self::try_step) fails: the optimiser's state for a parameter was made
    /// for another shape (one optimiser used on two models whose parameters share a name), or
    /// a gradient's length is not its parameter's. The message names the parameter and both
    /// shapes; nothing was updated. Use `try_step` to handle that as an error.
    fn step(&mut self, model: &mut dyn Module<E>, grads: &Gradients<E>) {
        if let Err(e) = self.try_step(model, grads) {
            panic!("{e}");
        }
    }

    /// [`step`](Self::step), or an [`Error::OptimizerState`] (or [`Error::GradientLength`])
    /// naming the first parameter that does not fit, before any parameter or state changes.
    fn try_step(&mut self, model: &mut dyn Module<E>, grads: &Gradients<E>) -> Result<()> {
        // First pass: check every parameter, change nothing.
        let mut problem = None;
        model.for_each_parameter(|name, param| {
            if problem.is_some() {
                return;
            }
            if let Some(grad) = grads.get_raw(param.id()) {
                problem = if grad.len() != param.values().len() {
                    Some(Error::GradientLength {
                        parameter: name.to_string(),
                        expected: param.values().len(),
                        found: grad.len(),
                    })
                } else {
                    self.check(name, param).err()
                };
            }
        });
        if let Some(e) = problem {
            return Err(e);
        }
        model.for_each_parameter(|name, param| {
            if let Some(grad) = grads.get_raw(param.id()) {
                self.update(name, param, grad);
            }
        });
        Ok(())
    }

    /// Whether the state kept for `name` (if any) was made for a parameter of `param`'s shape.
    fn check(&self, name: &str, param: &dyn Parameter<E>) -> Result<()>;

    /// Updates one parameter, `name`, from its gradient (of the parameter's length).
    ///
    /// # Panics
    ///
    /// When [`check`](Self::check) fails for it.
    fn update(&mut self, name: &str, param: &mut dyn Parameter<E>, grad: &[E]);

    /// The learning rate.
    fn lr(&self) -> E;

    /// Sets the learning rate (what a [`LrScheduler`] does at every step).
    fn set_lr(&mut self, lr: E);

    /// The momentum that a schedule such as [`OneCycleLR`] cycles: SGD's `momentum`, Adam's
    /// β1 (PyTorch's `betas[0]`); `None` (the default) for an optimiser without one.
    fn momentum(&self) -> Option<E> {
        None
    }

    /// Sets the momentum (see [`momentum`](Self::momentum)); the default ignores it.
    fn set_momentum(&mut self, momentum: E) {
        let _ = momentum;
    }

    /// Everything a resumed run needs: the hyper-parameters and every parameter's state.
    fn state_dict(&self) -> OptimizerState<E>;

    /// Whether `state` was saved from an optimiser like this one: the same kind and
    /// hyper-parameters (the learning rate and momentum aside: those are state, which a
    /// schedule changes), and per-parameter state of the right names and lengths. The error
    /// names the first field that differs.
    fn check_state_dict(&self, state: &OptimizerState<E>) -> Result<()>;

    /// Restores `state` (learning rate, momentum and every parameter's state), after
    /// [`check_state_dict`](Self::check_state_dict); on an error nothing changes.
    fn load_state_dict(&mut self, state: &OptimizerState<E>) -> Result<()>;
}

/// An optimiser's state as a checkpoint stores it ([`Optimizer::state_dict`]).
#[derive(Clone, Debug, PartialEq)]
pub struct OptimizerState<E> {
    /// The optimiser's type: `Sgd`, `Adam`.
    pub kind: String,
    /// The learning rate.
    pub lr: E,
    /// The momentum a schedule may cycle (see [`Optimizer::momentum`]).
    pub momentum: Option<E>,
    /// The other hyper-parameters, by name, as exact decimal text (`("beta2", "0.999")`).
    pub hyperparameters: Vec<(String, String)>,
    /// The state of every parameter the optimiser has updated, by parameter name.
    pub parameters: BTreeMap<String, ParameterState<E>>,
}

/// One parameter's state in an [`OptimizerState`].
#[derive(Clone, Debug, PartialEq)]
pub struct ParameterState<E> {
    /// The parameter's shape, which each buffer has.
    pub dims: Vec<usize>,
    /// The steps taken (PyTorch's `step`), for optimisers that count them (Adam).
    pub step: Option<u64>,
    /// The buffers by PyTorch's names: `momentum_buffer`; `exp_avg`, `exp_avg_sq`.
    pub buffers: Vec<(String, Vec<E>)>,
}

/// A hyper-parameter as exact text: the shortest decimal that reads back to the same `f64`
/// (an `f32` widened to `f64` is exact, and so is narrowing it back).
pub(crate) fn exact<E: Element>(x: E) -> String {
    format!("{:?}", x.to_f64().expect("a float converts to f64"))
}

/// One parameter's state inside an optimiser: the shape it was made for, the steps taken and
/// `N` buffers of the parameter's length.
#[derive(Clone, Debug)]
pub(crate) struct ParamState<E, const N: usize> {
    pub(crate) dims: Vec<usize>,
    pub(crate) step: u64,
    pub(crate) buffers: [Vec<E>; N],
}

/// Every parameter's state, by name, with the checks and conversions both optimisers share.
#[derive(Clone, Debug)]
pub(crate) struct States<E, const N: usize> {
    map: HashMap<String, ParamState<E, N>>,
    /// The buffers' names (PyTorch's): what a checkpoint calls them.
    names: [&'static str; N],
    /// Whether `step` is part of the saved state (Adam's is; SGD keeps none).
    counts_steps: bool,
}

impl<E: Element, const N: usize> States<E, N> {
    pub(crate) fn new(names: [&'static str; N], counts_steps: bool) -> Self {
        States {
            map: HashMap::new(),
            names,
            counts_steps,
        }
    }

    /// The state of `name`, if any.
    pub(crate) fn get(&self, name: &str) -> Option<&ParamState<E, N>> {
        self.map.get(name)
    }

    /// Whether the state of `name` (if any) was made for `param`'s shape.
    pub(crate) fn check(&self, name: &str, param: &dyn Parameter<E>) -> Result<()> {
        match self.map.get(name) {
            Some(state) if !param.has_dims(&state.dims) => Err(Error::OptimizerState {
                parameter: name.to_string(),
                state: state.dims.clone(),
                parameter_dims: param.dims(),
            }),
            _ => Ok(()),
        }
    }

    /// The state of `name`, and whether it was just created (zero buffers of `param`'s
    /// length). No allocation when it exists. Panics when it was made for another shape.
    pub(crate) fn get_or_insert(
        &mut self,
        name: &str,
        param: &dyn Parameter<E>,
    ) -> (&mut ParamState<E, N>, bool) {
        if let Err(e) = self.check(name, param) {
            panic!("{e}");
        }
        let new = !self.map.contains_key(name);
        if new {
            let len = param.values().len();
            let state = ParamState {
                dims: param.dims(),
                step: 0,
                buffers: std::array::from_fn(|_| vec![E::zero(); len]),
            };
            self.map.insert(name.to_string(), state);
        }
        (self.map.get_mut(name).expect("inserted above"), new)
    }

    /// The states as a checkpoint stores them.
    pub(crate) fn export(&self) -> BTreeMap<String, ParameterState<E>> {
        self.map
            .iter()
            .map(|(name, s)| {
                let buffers = self
                    .names
                    .iter()
                    .zip(&s.buffers)
                    .map(|(n, b)| (n.to_string(), b.clone()))
                    .collect();
                let step = self.counts_steps.then_some(s.step);
                let dims = s.dims.clone();
                (
                    name.clone(),
                    ParameterState {
                        dims,
                        step,
                        buffers,
                    },
                )
            })
            .collect()
    }

    /// Whether `saved` holds states of this kind: each with these buffers (in any order),
    /// of its shape's length, and a step count if this optimiser keeps one.
    pub(crate) fn check_import(&self, saved: &BTreeMap<String, ParameterState<E>>) -> Result<()> {
        for (name, s) in saved {
            let field = |what: &str| format!("optimizer.{name}.{what}");
            if s.step.is_some() != self.counts_steps {
                let (saved, here) = if self.counts_steps {
                    ("missing", "a count")
                } else {
                    ("a count", "absent")
                };
                return Err(mismatch(field("step"), saved, here));
            }
            let len = s.dims.iter().product::<usize>();
            for want in self.names {
                match s.buffers.iter().find(|(n, _)| n == want) {
                    None => return Err(mismatch(field(want), "missing", "a buffer")),
                    Some((_, values)) if values.len() != len => {
                        return Err(mismatch(
                            field(want),
                            format!("{} values", values.len()),
                            format!("{len} values (shape {:?})", s.dims),
                        ))
                    }
                    Some(_) => {}
                }
            }
            if let Some((n, _)) = s.buffers.iter().find(|(n, _)| !self.names.contains(&&**n)) {
                return Err(mismatch(field(n), "present", "absent"));
            }
        }
        Ok(())
    }

    /// Replaces every state with `saved` ([`check_import`](Self::check_import) passed).
    pub(crate) fn import(&mut self, saved: &BTreeMap<String, ParameterState<E>>) {
        let names = self.names;
        self.map = saved
            .iter()
            .map(|(name, s)| {
                let buffer = |want: &str| {
                    let found = s.buffers.iter().find(|(n, _)| n == want);
                    found.expect("checked before").1.clone()
                };
                let state = ParamState {
                    dims: s.dims.clone(),
                    step: s.step.unwrap_or(0),
                    buffers: names.map(buffer),
                };
                (name.clone(), state)
            })
            .collect();
    }
}

/// A [`Error::StateMismatch`] in state not (yet) tied to a file.
pub(crate) fn mismatch(field: String, saved: impl ToString, here: impl ToString) -> Error {
    Error::StateMismatch {
        file: "optimizer state".into(),
        field,
        saved: saved.to_string(),
        here: here.to_string(),
    }
}

/// The checks an optimiser's [`check_state_dict`](Optimizer::check_state_dict) shares: the
/// kind, then each hyper-parameter in order, then the per-parameter state.
pub(crate) fn check_state<E: Element, const N: usize>(
    here: &OptimizerState<E>,
    states: &States<E, N>,
    saved: &OptimizerState<E>,
) -> Result<()> {
    if saved.kind != here.kind {
        return Err(mismatch("optimizer".into(), &saved.kind, &here.kind));
    }
    let presence = |m: Option<E>| if m.is_some() { "present" } else { "absent" };
    if saved.momentum.is_some() != here.momentum.is_some() {
        return Err(mismatch(
            "optimizer.momentum".into(),
            presence(saved.momentum),
            presence(here.momentum),
        ));
    }
    for (name, value) in &here.hyperparameters {
        let found = saved.hyperparameters.iter().find(|(n, _)| n == name);
        match found {
            None => return Err(mismatch(format!("optimizer.{name}"), "missing", value)),
            Some((_, v)) if v != value => {
                return Err(mismatch(format!("optimizer.{name}"), v, value))
            }
            Some(_) => {}
        }
    }
    if let Some((name, v)) = saved
        .hyperparameters
        .iter()
        .find(|(n, _)| !here.hyperparameters.iter().any(|(h, _)| h == n))
    {
        return Err(mismatch(format!("optimizer.{name}"), v, "absent"));
    }
    states.check_import(&saved.parameters)
}

#[cfg(test)]
mod tests {
    use super::{Adam, Optimizer, Sgd};
    use crate::tensor::Tensor1;

    /// A parameter whose gradient becomes zero: its moments shrink every step, and must end
    /// at zero rather than in the slow subnormal range. Without the flush they would stay
    /// subnormal (nonzero, below `f32::MIN_POSITIVE`), which the test checks they are not.
    #[test]
    fn decaying_moments_end_at_zero_not_subnormal() {
        let subnormal = |x: f32| x != 0.0 && x.abs() < f32::MIN_POSITIVE;
        let mut adam = Adam::<f32>::new(1e-3);
        let mut sgd = Sgd::<f32>::new(1e-3).momentum(0.9);
        let mut pa = Tensor1::<f32, 2>::ones();
        let mut ps = Tensor1::<f32, 2>::ones();
        adam.update("p", &mut pa, &[1e-3, 1e-3]);
        sgd.update("p", &mut ps, &[1e-3, 1e-3]);
        let mut seen_tiny = false;
        for _ in 0..2000 {
            adam.update("p", &mut pa, &[0.0, 1e-3]);
            sgd.update("p", &mut ps, &[0.0, 1e-3]);
            let state = adam.states.get("p").unwrap();
            let momentum = &sgd.states.get("p").unwrap().buffers[0];
            let [m, v] = &state.buffers;
            let values = m.iter().chain(v).chain(momentum);
            assert!(!values.clone().any(|&x| subnormal(x)), "a subnormal moment");
            seen_tiny |= m[0] == 0.0 && momentum[0] == 0.0;
        }
        assert!(
            seen_tiny,
            "the first moment of the zero-gradient entry reached zero"
        );
        // the entry whose gradient stays keeps normal moments and keeps moving
        let m = &adam.states.get("p").unwrap().buffers[0];
        assert!(m[1] > 1e-4 && pa[[1]] < 0.99 && ps[[1]] < 1.0);
    }
}
