//! Learning-rate schedules: PyTorch's `StepLR`, `MultiStepLR`, `ExponentialLR`,
//! `CosineAnnealingLR`, `LinearLR` (warm-up), `OneCycleLR` (with momentum cycling) and
//! `SequentialLR`, giving PyTorch's learning rate at every step.
//!
//! A schedule is described by a value named and built like its PyTorch class (same arguments,
//! same defaults: `StepLR::new(30).gamma(0.5)` is `StepLR(optimizer, step_size=30, gamma=0.5)`)
//! and run by an [`LrScheduler`], which drives an optimiser's learning rate (and momentum, for
//! `OneCycleLR`). As in PyTorch, building the scheduler sets the optimiser's learning rate for
//! the first step, and `step` is called after each `optimizer.step`:
//!
//! ```
//! use shapetorch::prelude::*;
//!
//! let mut sgd = Sgd::<f64>::new(0.1).momentum(0.9);
//! // 5 steps of linear warm-up from 0.01, then cosine annealing over 95 steps.
//! let warm_up_then_cosine = SequentialLR::new(
//!     vec![
//!         LinearLR::new().start_factor(0.1).total_iters(5).into(),
//!         CosineAnnealingLR::new(95).into(),
//!     ],
//!     vec![5],
//! );
//! let mut schedule = LrScheduler::new(&mut sgd, warm_up_then_cosine).unwrap();
//! assert!((schedule.lr() - 0.01).abs() < 1e-12);
//! for _ in 0..5 {
//!     // ... loss.backward(); sgd.step(&mut model, &grads);
//!     schedule.step(&mut sgd);
//! }
//! assert!((schedule.lr() - 0.1).abs() < 1e-12); // warmed up
//! assert_eq!(sgd.lr, schedule.lr());
//! ```
//!
//! # How the values are computed
//!
//! Exactly as PyTorch 2.15's `torch.optim.lr_scheduler` computes them, in `f64`: each step
//! uses the scheduler's *chainable* formula on the previous learning rate (`CosineAnnealingLR`'s
//! recursive form, not its closed form), `SequentialLR` restarts the next schedule at each
//! milestone with its closed form, and the schedule keeps PyTorch's parameter-group values
//! (`lr`, `initial_lr`, `OneCycleLR`'s `max_lr`, `min_lr` and momenta) as PyTorch does, quirks
//! included: the schedules of a `SequentialLR` are built in order on the same group, as a
//! PyTorch user builds them before passing them in. The optimiser receives the learning rate
//! rounded to its element type; an `f32` optimiser's starting learning rate is widened to
//! `f64` exactly (0.1f32 is 0.10000000149…).
//!
//! Arguments PyTorch rejects are an [`Error::Schedule`], and so are those for which PyTorch
//! would divide by zero at some step (`StepLR` with step size 0, `CosineAnnealingLR` with
//! `T_max` 0, a `OneCycleLR` phase of no steps, `LinearLR` with `total_iters` 0 after a
//! milestone), and `SequentialLR` milestones that do not increase or hold a `SequentialLR`.

mod kinds;
mod replay;
#[cfg(test)]
mod tests;

pub use kinds::{
    AnnealStrategy, CosineAnnealingLR, ExponentialLR, LinearLR, MultiStepLR, OneCycleLR, Schedule,
    SequentialLR, StepLR,
};

use replay::{Group, Node};

use super::Optimizer;
use crate::element::Element;
use crate::error::{Error, Result};

/// Runs a [`Schedule`] on an optimiser: PyTorch's `LRScheduler`.
///
/// Build it once the optimiser exists (it sets the optimiser's learning rate, and for
/// `OneCycleLR` its momentum, for the first step), then call [`step`](Self::step) after every
/// optimiser step. The scheduler owns the learning rate from then on: it keeps it in `f64` and
/// writes it into the optimiser at every step.
#[derive(Clone, Debug, PartialEq)]
pub struct LrScheduler {
    root: Node,
    group: Group,
}

impl LrScheduler {
    /// Starts `schedule` on `optimizer`: its base learning rate is the optimiser's (except
    /// for `OneCycleLR`, whose own arguments set it), and the optimiser gets the learning rate
    /// (and momentum) of step 0. An [`Error::Schedule`] for arguments PyTorch rejects; the
    /// optimiser is then unchanged.
    pub fn new<E: Element>(
        optimizer: &mut dyn Optimizer<E>,
        schedule: impl Into<Schedule>,
    ) -> Result<Self> {
        let schedule = schedule.into();
        let mut group = Group {
            lr: optimizer.lr().to_f64().expect("a float converts to f64"),
            initial_lr: None,
            max_lr: f64::NAN,
            min_lr: f64::NAN,
            momentum: None,
            max_momentum: f64::NAN,
            base_momentum: f64::NAN,
        };
        let root = Node::construct(&schedule, &mut group, optimizer.momentum().is_some())?;
        let scheduler = LrScheduler { root, group };
        scheduler.apply(optimizer);
        Ok(scheduler)
    }

    /// One step of the schedule (call it after each optimiser step), and the optimiser's
    /// learning rate (and momentum) set to the new values.
    ///
    /// # Panics
    ///
    /// When [`try_step`](Self::try_step) fails: a `OneCycleLR` stepped past `total_steps`.
    pub fn step<E: Element>(&mut self, optimizer: &mut dyn Optimizer<E>) {
        if let Err(e) = self.try_step(optimizer) {
            panic!("{e}");
        }
    }

    /// [`step`](Self::step), or an [`Error::Schedule`] (with nothing changed) when a
    /// `OneCycleLR` would step past `total_steps`.
    pub fn try_step<E: Element>(&mut self, optimizer: &mut dyn Optimizer<E>) -> Result<()> {
        if let Some(e) = self.root.next_step_error() {
            return Err(e);
        }
        self.root.step_in(&mut self.group, false)?;
        self.apply(optimizer);
        Ok(())
    }

    /// Writes the current learning rate (and the momentum, when the schedule cycles it) into
    /// `optimizer`.
    pub fn apply<E: Element>(&self, optimizer: &mut dyn Optimizer<E>) {
        optimizer.set_lr(E::of(self.group.lr));
        if let Some(momentum) = self.group.momentum {
            optimizer.set_momentum(E::of(momentum));
        }
    }

    /// The learning rate for the next optimiser step, in `f64` (PyTorch's `get_last_lr()[0]`).
    pub fn lr(&self) -> f64 {
        self.group.lr
    }

    /// The momentum for the next step, when the schedule cycles it (`OneCycleLR`).
    pub fn momentum(&self) -> Option<f64> {
        self.group.momentum
    }

    /// The steps taken (PyTorch's `last_epoch`: 0 after construction).
    pub fn last_epoch(&self) -> i64 {
        self.root.last_epoch
    }

    /// The schedule being run.
    pub fn schedule(&self) -> &Schedule {
        &self.root.schedule
    }

    /// What a checkpoint compares: the schedule's kind and arguments, and the values fixed at
    /// construction (base learning rates, `OneCycleLR`'s group values), as `(field, text)`.
    pub(crate) fn config_fields(&self) -> Vec<(String, String)> {
        let f = |x: f64| format!("{x:?}");
        let mut fields = Vec::new();
        self.root.for_each("schedule", &mut |path, node| {
            fields.push((path.to_string(), node.schedule.name().to_string()));
            for (name, value) in node.schedule.arguments() {
                fields.push((format!("{path}.{name}"), value));
            }
            if node.children.is_empty() {
                fields.push((format!("{path}.base_lr"), f(node.base_lr)));
            }
        });
        let g = &self.group;
        let initial_lr = g.initial_lr.expect("every schedule sets initial_lr");
        fields.push(("schedule.initial_lr".into(), f(initial_lr)));
        // OneCycleLR's entries (NaN, and left out, when no OneCycleLR set them)
        for (name, value) in [
            ("max_lr", g.max_lr),
            ("min_lr", g.min_lr),
            ("max_momentum", g.max_momentum),
            ("base_momentum", g.base_momentum),
        ] {
            if !value.is_nan() {
                fields.push((format!("schedule.{name}"), f(value)));
            }
        }
        fields
    }

    /// What a checkpoint restores: the learning rate, the momentum, and each scheduler's
    /// `last_epoch` and `_step_count`, as `(field, text)`.
    pub(crate) fn state_fields(&self) -> Vec<(String, String)> {
        let mut fields = vec![
            ("schedule.lr".to_string(), format!("{:?}", self.group.lr)),
            (
                "schedule.momentum".to_string(),
                self.group
                    .momentum
                    .map_or("none".into(), |m| format!("{m:?}")),
            ),
        ];
        self.root.for_each("schedule", &mut |path, node| {
            fields.push((format!("{path}.last_epoch"), node.last_epoch.to_string()));
            fields.push((format!("{path}.step_count"), node.step_count.to_string()));
        });
        fields
    }

    /// Restores the state that [`state_fields`](Self::state_fields) wrote, looked up with
    /// `get`; the configuration must have been compared already. Checks every field before
    /// changing anything; errors name the field (their file is filled in by the caller).
    pub(crate) fn load_state(&mut self, get: &dyn Fn(&str) -> Option<String>) -> Result<()> {
        let field = |name: &str| {
            get(name).ok_or_else(|| Error::StateFormat {
                file: String::new(),
                field: name.to_string(),
                message: "missing".into(),
            })
        };
        let bad = |name: &str, value: &str| Error::StateFormat {
            file: String::new(),
            field: name.to_string(),
            message: format!("`{value}` is not a valid value"),
        };
        let lr_text = field("schedule.lr")?;
        let lr: f64 = lr_text.parse().map_err(|_| bad("schedule.lr", &lr_text))?;
        let momentum_text = field("schedule.momentum")?;
        let momentum = match momentum_text.as_str() {
            "none" => None,
            text => Some(
                text.parse::<f64>()
                    .map_err(|_| bad("schedule.momentum", text))?,
            ),
        };
        if momentum.is_some() != self.group.momentum.is_some() {
            return Err(Error::StateMismatch {
                file: String::new(),
                field: "schedule.momentum".into(),
                saved: momentum_text,
                here: if momentum.is_some() {
                    "none"
                } else {
                    "a momentum"
                }
                .into(),
            });
        }
        let mut counts = Vec::new();
        let mut problem = None;
        self.root.for_each("schedule", &mut |path, _| {
            for what in ["last_epoch", "step_count"] {
                let name = format!("{path}.{what}");
                match field(&name) {
                    Ok(text) => match text.parse::<i64>() {
                        Ok(v) => counts.push(v),
                        Err(_) => problem = problem.take().or(Some(bad(&name, &text))),
                    },
                    Err(e) => problem = problem.take().or(Some(e)),
                }
            }
        });
        if let Some(e) = problem {
            return Err(e);
        }
        self.group.lr = lr;
        self.group.momentum = momentum;
        let mut counts = counts.into_iter();
        self.root.for_each_mut("schedule", &mut |_, node| {
            node.last_epoch = counts.next().expect("counted above");
            node.step_count = counts.next().expect("counted above");
        });
        Ok(())
    }
}
