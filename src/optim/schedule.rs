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

use crate::element::Element;
use crate::error::{Error, Result};

use super::Optimizer;

/// Decays the learning rate by `gamma` every `step_size` steps: `torch.optim.lr_scheduler.
/// StepLR(optimizer, step_size, gamma=0.1)`. `lr = base_lr · gamma^(step / step_size)`.
#[derive(Clone, Debug, PartialEq)]
pub struct StepLR {
    /// The period of the decay, in steps (at least 1).
    pub step_size: usize,
    /// The factor (0.1).
    pub gamma: f64,
}

impl StepLR {
    /// Decay every `step_size` steps by PyTorch's default factor, 0.1.
    pub fn new(step_size: usize) -> Self {
        StepLR {
            step_size,
            gamma: 0.1,
        }
    }

    /// With the factor `gamma`.
    pub fn gamma(mut self, gamma: f64) -> Self {
        self.gamma = gamma;
        self
    }
}

/// Decays the learning rate by `gamma` at each milestone: `MultiStepLR(optimizer, milestones,
/// gamma=0.1)`. A milestone listed twice decays twice, as in PyTorch.
#[derive(Clone, Debug, PartialEq)]
pub struct MultiStepLR {
    /// The steps at which to decay.
    pub milestones: Vec<usize>,
    /// The factor (0.1).
    pub gamma: f64,
}

impl MultiStepLR {
    /// Decay at `milestones` by PyTorch's default factor, 0.1.
    pub fn new(milestones: impl Into<Vec<usize>>) -> Self {
        MultiStepLR {
            milestones: milestones.into(),
            gamma: 0.1,
        }
    }

    /// With the factor `gamma`.
    pub fn gamma(mut self, gamma: f64) -> Self {
        self.gamma = gamma;
        self
    }
}

/// Decays the learning rate by `gamma` every step: `ExponentialLR(optimizer, gamma)`.
#[derive(Clone, Debug, PartialEq)]
pub struct ExponentialLR {
    /// The factor per step.
    pub gamma: f64,
}

impl ExponentialLR {
    /// Decay by `gamma` every step.
    pub fn new(gamma: f64) -> Self {
        ExponentialLR { gamma }
    }
}

/// Cosine annealing from the base learning rate to `eta_min` over `t_max` steps (then back up,
/// periodically, as PyTorch's recursive form does): `CosineAnnealingLR(optimizer, T_max,
/// eta_min=0.0)`. `lr ≈ eta_min + (base_lr - eta_min) · (1 + cos(π · step / T_max)) / 2`.
#[derive(Clone, Debug, PartialEq)]
pub struct CosineAnnealingLR {
    /// PyTorch's `T_max`: the steps of a half period (at least 1).
    pub t_max: usize,
    /// The smallest learning rate (0).
    pub eta_min: f64,
}

impl CosineAnnealingLR {
    /// Anneal over `t_max` steps down to PyTorch's default `eta_min`, 0.
    pub fn new(t_max: usize) -> Self {
        CosineAnnealingLR {
            t_max,
            eta_min: 0.0,
        }
    }

    /// With the smallest learning rate `eta_min`.
    pub fn eta_min(mut self, eta_min: f64) -> Self {
        self.eta_min = eta_min;
        self
    }
}

/// Scales the learning rate by a factor that goes linearly from `start_factor` to
/// `end_factor` over `total_iters` steps (a warm-up): `LinearLR(optimizer, start_factor=1/3,
/// end_factor=1.0, total_iters=5)`.
#[derive(Clone, Debug, PartialEq)]
pub struct LinearLR {
    /// The factor at step 0, in (0, 1] (1/3).
    pub start_factor: f64,
    /// The factor from step `total_iters` on, in [0, 1] (1).
    pub end_factor: f64,
    /// The steps the change takes (5).
    pub total_iters: usize,
}

impl Default for LinearLR {
    /// PyTorch's defaults: from 1/3 to 1 over 5 steps.
    fn default() -> Self {
        LinearLR {
            start_factor: 1.0 / 3.0,
            end_factor: 1.0,
            total_iters: 5,
        }
    }
}

impl LinearLR {
    /// PyTorch's defaults: from 1/3 to 1 over 5 steps.
    pub fn new() -> Self {
        Self::default()
    }

    /// Starting at `start_factor` times the base learning rate.
    pub fn start_factor(mut self, start_factor: f64) -> Self {
        self.start_factor = start_factor;
        self
    }

    /// Ending at `end_factor` times the base learning rate.
    pub fn end_factor(mut self, end_factor: f64) -> Self {
        self.end_factor = end_factor;
        self
    }

    /// Over `total_iters` steps.
    pub fn total_iters(mut self, total_iters: usize) -> Self {
        self.total_iters = total_iters;
        self
    }
}

/// How [`OneCycleLR`] moves between two values (PyTorch's `anneal_strategy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnnealStrategy {
    /// `"cos"`: half a cosine (the default).
    Cos,
    /// `"linear"`: a straight line.
    Linear,
}

/// The 1cycle policy (Smith): the learning rate rises from `max_lr / div_factor` to `max_lr`
/// over the first `pct_start` of `total_steps`, then falls to `max_lr / div_factor /
/// final_div_factor`, while the momentum (SGD's momentum, Adam's β1) moves the other way
/// between `max_momentum` and `base_momentum`: `OneCycleLR(optimizer, max_lr, total_steps,
/// pct_start=0.3, anneal_strategy='cos', cycle_momentum=True, base_momentum=0.85,
/// max_momentum=0.95, div_factor=25.0, final_div_factor=1e4, three_phase=False)`. The
/// optimiser's own learning rate is not used. Stepping past `total_steps` is an error, as in
/// PyTorch.
#[derive(Clone, Debug, PartialEq)]
pub struct OneCycleLR {
    /// The peak learning rate.
    pub max_lr: f64,
    /// The steps of the cycle (at least 1).
    pub total_steps: usize,
    /// The share of the steps spent rising, in [0, 1] (0.3).
    pub pct_start: f64,
    /// Cosine or linear moves (cosine).
    pub anneal_strategy: AnnealStrategy,
    /// Whether to cycle the momentum (yes).
    pub cycle_momentum: bool,
    /// The momentum at the peak learning rate (0.85).
    pub base_momentum: f64,
    /// The momentum at the start and the end (0.95).
    pub max_momentum: f64,
    /// `initial_lr = max_lr / div_factor` (25).
    pub div_factor: f64,
    /// `min_lr = initial_lr / final_div_factor` (1e4).
    pub final_div_factor: f64,
    /// A third phase: rise, fall back to `initial_lr` symmetrically, then anneal to `min_lr`
    /// (no: two phases, fastai's default).
    pub three_phase: bool,
}

impl OneCycleLR {
    /// A cycle peaking at `max_lr` over `total_steps` steps, with PyTorch's defaults.
    pub fn new(max_lr: f64, total_steps: usize) -> Self {
        OneCycleLR {
            max_lr,
            total_steps,
            pct_start: 0.3,
            anneal_strategy: AnnealStrategy::Cos,
            cycle_momentum: true,
            base_momentum: 0.85,
            max_momentum: 0.95,
            div_factor: 25.0,
            final_div_factor: 1e4,
            three_phase: false,
        }
    }

    /// A cycle over `epochs · steps_per_epoch` steps (PyTorch's other way to give its length;
    /// saturates rather than overflows, which [`LrScheduler::new`] then reports as too long).
    pub fn with_epochs(max_lr: f64, epochs: usize, steps_per_epoch: usize) -> Self {
        Self::new(max_lr, epochs.saturating_mul(steps_per_epoch))
    }

    /// With the share of the steps spent rising.
    pub fn pct_start(mut self, pct_start: f64) -> Self {
        self.pct_start = pct_start;
        self
    }

    /// With linear or cosine moves.
    pub fn anneal_strategy(mut self, anneal_strategy: AnnealStrategy) -> Self {
        self.anneal_strategy = anneal_strategy;
        self
    }

    /// Cycling the momentum, or not.
    pub fn cycle_momentum(mut self, cycle_momentum: bool) -> Self {
        self.cycle_momentum = cycle_momentum;
        self
    }

    /// With the momenta at the peak (`base_momentum`) and at the ends (`max_momentum`).
    pub fn momentum_range(mut self, base_momentum: f64, max_momentum: f64) -> Self {
        self.base_momentum = base_momentum;
        self.max_momentum = max_momentum;
        self
    }

    /// With `div_factor` (`initial_lr = max_lr / div_factor`).
    pub fn div_factor(mut self, div_factor: f64) -> Self {
        self.div_factor = div_factor;
        self
    }

    /// With `final_div_factor` (`min_lr = initial_lr / final_div_factor`).
    pub fn final_div_factor(mut self, final_div_factor: f64) -> Self {
        self.final_div_factor = final_div_factor;
        self
    }

    /// With three phases instead of two.
    pub fn three_phase(mut self, three_phase: bool) -> Self {
        self.three_phase = three_phase;
        self
    }

    /// The phases as PyTorch lays them out: each ends at a step (a float, as in PyTorch)
    /// and moves between two of the group's values.
    fn phases(&self) -> Vec<Phase> {
        use GroupValue::*;
        let steps = self.total_steps as f64;
        let rise = Phase {
            end_step: self.pct_start * steps - 1.0,
            lr: (InitialLr, MaxLr),
            momentum: (MaxMomentum, BaseMomentum),
        };
        let last = steps - 1.0;
        if self.three_phase {
            vec![
                rise,
                Phase {
                    end_step: 2.0 * self.pct_start * steps - 2.0,
                    lr: (MaxLr, InitialLr),
                    momentum: (BaseMomentum, MaxMomentum),
                },
                Phase {
                    end_step: last,
                    lr: (InitialLr, MinLr),
                    momentum: (MaxMomentum, MaxMomentum),
                },
            ]
        } else {
            vec![
                rise,
                Phase {
                    end_step: last,
                    lr: (MaxLr, MinLr),
                    momentum: (BaseMomentum, MaxMomentum),
                },
            ]
        }
    }
}

/// Runs the schedules in turn, switching at each milestone: `SequentialLR(optimizer,
/// schedulers, milestones)`. At a milestone the next schedule starts from its step 0 (PyTorch
/// computes that step with the schedule's closed form).
#[derive(Clone, Debug, PartialEq)]
pub struct SequentialLR {
    /// The schedules, in order (none of them a `SequentialLR`).
    pub schedulers: Vec<Schedule>,
    /// The steps at which the next schedule takes over: one fewer than the schedules,
    /// increasing.
    pub milestones: Vec<usize>,
}

impl SequentialLR {
    /// `schedulers` in turn, switching at `milestones`.
    pub fn new(schedulers: Vec<Schedule>, milestones: impl Into<Vec<usize>>) -> Self {
        SequentialLR {
            schedulers,
            milestones: milestones.into(),
        }
    }
}

/// Any of the schedules: what an [`LrScheduler`] runs.
#[derive(Clone, Debug, PartialEq)]
pub enum Schedule {
    /// [`StepLR`].
    StepLR(StepLR),
    /// [`MultiStepLR`].
    MultiStepLR(MultiStepLR),
    /// [`ExponentialLR`].
    ExponentialLR(ExponentialLR),
    /// [`CosineAnnealingLR`].
    CosineAnnealingLR(CosineAnnealingLR),
    /// [`LinearLR`].
    LinearLR(LinearLR),
    /// [`OneCycleLR`].
    OneCycleLR(OneCycleLR),
    /// [`SequentialLR`].
    SequentialLR(SequentialLR),
}

macro_rules! schedule_from {
    ($($kind:ident),*) => {$(
        impl From<$kind> for Schedule {
            fn from(schedule: $kind) -> Self {
                Schedule::$kind(schedule)
            }
        }
    )*};
}
schedule_from!(
    StepLR,
    MultiStepLR,
    ExponentialLR,
    CosineAnnealingLR,
    LinearLR,
    OneCycleLR,
    SequentialLR
);

impl Schedule {
    /// PyTorch's class name.
    pub fn name(&self) -> &'static str {
        match self {
            Schedule::StepLR(_) => "StepLR",
            Schedule::MultiStepLR(_) => "MultiStepLR",
            Schedule::ExponentialLR(_) => "ExponentialLR",
            Schedule::CosineAnnealingLR(_) => "CosineAnnealingLR",
            Schedule::LinearLR(_) => "LinearLR",
            Schedule::OneCycleLR(_) => "OneCycleLR",
            Schedule::SequentialLR(_) => "SequentialLR",
        }
    }

    /// The arguments as `(name, exact text)` pairs, PyTorch's names and order.
    fn arguments(&self) -> Vec<(&'static str, String)> {
        let f = |x: f64| format!("{x:?}");
        match self {
            Schedule::StepLR(s) => vec![
                ("step_size", s.step_size.to_string()),
                ("gamma", f(s.gamma)),
            ],
            Schedule::MultiStepLR(s) => {
                vec![
                    ("milestones", format!("{:?}", s.milestones)),
                    ("gamma", f(s.gamma)),
                ]
            }
            Schedule::ExponentialLR(s) => vec![("gamma", f(s.gamma))],
            Schedule::CosineAnnealingLR(s) => {
                vec![("T_max", s.t_max.to_string()), ("eta_min", f(s.eta_min))]
            }
            Schedule::LinearLR(s) => vec![
                ("start_factor", f(s.start_factor)),
                ("end_factor", f(s.end_factor)),
                ("total_iters", s.total_iters.to_string()),
            ],
            Schedule::OneCycleLR(s) => vec![
                ("max_lr", f(s.max_lr)),
                ("total_steps", s.total_steps.to_string()),
                ("pct_start", f(s.pct_start)),
                ("anneal_strategy", format!("{:?}", s.anneal_strategy)),
                ("cycle_momentum", s.cycle_momentum.to_string()),
                ("base_momentum", f(s.base_momentum)),
                ("max_momentum", f(s.max_momentum)),
                ("div_factor", f(s.div_factor)),
                ("final_div_factor", f(s.final_div_factor)),
                ("three_phase", s.three_phase.to_string()),
            ],
            Schedule::SequentialLR(s) => vec![("milestones", format!("{:?}", s.milestones))],
        }
    }
}

/// One of the values `OneCycleLR` keeps in the parameter group.
#[derive(Clone, Copy, Debug)]
enum GroupValue {
    InitialLr,
    MaxLr,
    MinLr,
    MaxMomentum,
    BaseMomentum,
}

/// A phase of `OneCycleLR`: where it ends, and the group values it moves between.
#[derive(Clone, Copy, Debug)]
struct Phase {
    end_step: f64,
    lr: (GroupValue, GroupValue),
    momentum: (GroupValue, GroupValue),
}

/// PyTorch's parameter group, as far as the schedules read and write it (one group: our
/// optimisers have one learning rate).
#[derive(Clone, Debug, PartialEq)]
struct Group {
    lr: f64,
    initial_lr: Option<f64>,
    max_lr: f64,
    min_lr: f64,
    /// The momentum, once a schedule that cycles it has set it.
    momentum: Option<f64>,
    max_momentum: f64,
    base_momentum: f64,
}

impl Group {
    fn get(&self, value: GroupValue) -> f64 {
        match value {
            GroupValue::InitialLr => self.initial_lr.expect("OneCycleLR sets initial_lr"),
            GroupValue::MaxLr => self.max_lr,
            GroupValue::MinLr => self.min_lr,
            GroupValue::MaxMomentum => self.max_momentum,
            GroupValue::BaseMomentum => self.base_momentum,
        }
    }
}

/// One scheduler's running state: PyTorch's `base_lrs[0]`, `last_epoch` and `_step_count`
/// (and, for `SequentialLR`, its schedulers').
#[derive(Clone, Debug, PartialEq)]
struct Node {
    schedule: Schedule,
    base_lr: f64,
    last_epoch: i64,
    step_count: i64,
    /// `SequentialLR`'s schedulers.
    children: Vec<Node>,
}

/// Python's `bisect.bisect_right(a, x)` on an increasing list: how many entries are `<= x`.
fn bisect_right(a: &[usize], x: i64) -> usize {
    a.partition_point(|&m| (m as i64) <= x)
}

/// Python's `x ** n` for a float and an int (C's `pow`, as CPython calls it).
fn pow(x: f64, n: i64) -> f64 {
    x.powf(n as f64)
}

fn invalid(schedule: &'static str, message: String) -> Error {
    Error::Schedule { schedule, message }
}

impl Node {
    /// Builds the scheduler on `group` as PyTorch's constructor does (with `last_epoch=-1`),
    /// initial step included.
    fn construct(schedule: &Schedule, group: &mut Group, has_momentum: bool) -> Result<Node> {
        validate(schedule, has_momentum)?;
        if let Schedule::SequentialLR(s) = schedule {
            // The user built the schedulers on the optimiser first, in order.
            let mut children = Vec::with_capacity(s.schedulers.len());
            for child in &s.schedulers {
                children.push(Node::construct(child, group, has_momentum)?);
            }
            let mut node = Node {
                schedule: schedule.clone(),
                base_lr: 0.0, // SequentialLR has no base_lrs of its own
                last_epoch: 0,
                step_count: 0,
                children,
            };
            // Reset the learning rate, undo the schedulers' initial steps, and take the first
            // one's initial step again.
            group.lr = group.initial_lr.expect("the schedulers set initial_lr");
            for child in &mut node.children {
                child.last_epoch -= 1;
            }
            let first = bisect_right(&s.milestones, 0);
            node.children[first].initial_step(group)?;
            return Ok(node);
        }
        if let Schedule::OneCycleLR(s) = schedule {
            let initial_lr = s.max_lr / s.div_factor;
            group.initial_lr = Some(initial_lr);
            group.max_lr = s.max_lr;
            group.min_lr = initial_lr / s.final_div_factor;
            if s.cycle_momentum {
                group.momentum = Some(s.max_momentum);
                group.max_momentum = s.max_momentum;
                group.base_momentum = s.base_momentum;
            }
        }
        let base_lr = *group.initial_lr.get_or_insert(group.lr);
        let mut node = Node {
            schedule: schedule.clone(),
            base_lr,
            last_epoch: -1,
            step_count: 0,
            children: Vec::new(),
        };
        node.initial_step(group)?;
        Ok(node)
    }

    /// PyTorch's `_initial_step`.
    fn initial_step(&mut self, group: &mut Group) -> Result<()> {
        self.step_count = 0;
        self.step_in(group, true)
    }

    /// PyTorch's `step()` (`initial`: inside `_initial_step`).
    fn step_in(&mut self, group: &mut Group, initial: bool) -> Result<()> {
        if let Schedule::SequentialLR(s) = &self.schedule {
            self.last_epoch += 1;
            let i = bisect_right(&s.milestones, self.last_epoch);
            let child = &mut self.children[i];
            if i > 0 && s.milestones[i - 1] as i64 == self.last_epoch {
                return child.update_lr(group, Some(0), false);
            }
            return child.step_in(group, false);
        }
        self.step_count += 1;
        self.update_lr(group, None, initial)
    }

    /// PyTorch's `_update_lr(epoch)`: the next step's learning rate by the chainable formula,
    /// or the closed form at `epoch` when there is one.
    fn update_lr(&mut self, group: &mut Group, epoch: Option<i64>, initial: bool) -> Result<()> {
        let lr = match epoch {
            None => {
                self.last_epoch += 1;
                self.chainable_lr(group, initial)?
            }
            Some(epoch) => {
                self.last_epoch = epoch;
                match self.closed_form_lr() {
                    Some(lr) => lr,
                    None => self.chainable_lr(group, initial)?,
                }
            }
        };
        group.lr = lr;
        Ok(())
    }

    /// PyTorch's `get_lr()`: from the group's current learning rate.
    fn chainable_lr(&self, group: &mut Group, initial: bool) -> Result<f64> {
        let (epoch, lr, base_lr) = (self.last_epoch, group.lr, self.base_lr);
        Ok(match &self.schedule {
            Schedule::StepLR(s) => {
                if epoch == 0 || epoch % s.step_size as i64 != 0 {
                    lr
                } else {
                    lr * s.gamma
                }
            }
            Schedule::MultiStepLR(s) => {
                let count = s.milestones.iter().filter(|&&m| m as i64 == epoch).count();
                if count == 0 {
                    lr
                } else {
                    lr * pow(s.gamma, count as i64)
                }
            }
            Schedule::ExponentialLR(s) => {
                if initial {
                    lr
                } else {
                    lr * s.gamma
                }
            }
            Schedule::CosineAnnealingLR(s) => {
                let (t_max, eta_min, pi) = (s.t_max as i64, s.eta_min, std::f64::consts::PI);
                if initial {
                    lr
                } else if self.step_count == 1 && epoch > 0 {
                    eta_min
                        + (base_lr - eta_min) * (1.0 + (epoch as f64 * pi / t_max as f64).cos())
                            / 2.0
                } else if (epoch - 1 - t_max).rem_euclid(2 * t_max) == 0 {
                    lr + (base_lr - eta_min) * (1.0 - (pi / t_max as f64).cos()) / 2.0
                } else {
                    (1.0 + (pi * epoch as f64 / t_max as f64).cos())
                        / (1.0 + (pi * (epoch - 1) as f64 / t_max as f64).cos())
                        * (lr - eta_min)
                        + eta_min
                }
            }
            Schedule::LinearLR(s) => {
                let (start, end, total) = (s.start_factor, s.end_factor, s.total_iters as i64);
                if epoch == 0 {
                    lr * start
                } else if initial || epoch > total {
                    lr
                } else {
                    lr * (1.0
                        + (end - start)
                            / (total as f64 * start + (epoch - 1) as f64 * (end - start)))
                }
            }
            Schedule::OneCycleLR(s) => {
                if epoch > s.total_steps as i64 {
                    return Err(invalid(
                        "OneCycleLR",
                        format!(
                            "tried to step {epoch} times; the specified number of total steps \
                             is {}",
                            s.total_steps
                        ),
                    ));
                }
                let anneal = |start: f64, end: f64, pct: f64| match s.anneal_strategy {
                    AnnealStrategy::Cos => {
                        end + (start - end) / 2.0 * ((std::f64::consts::PI * pct).cos() + 1.0)
                    }
                    AnnealStrategy::Linear => (end - start) * pct + start,
                };
                let phases = s.phases();
                let mut start_step = 0.0;
                let step = epoch as f64;
                let mut found = None;
                for (i, phase) in phases.iter().enumerate() {
                    if step <= phase.end_step || i == phases.len() - 1 {
                        let pct = (step - start_step) / (phase.end_step - start_step);
                        let lr = anneal(group.get(phase.lr.0), group.get(phase.lr.1), pct);
                        let momentum = anneal(
                            group.get(phase.momentum.0),
                            group.get(phase.momentum.1),
                            pct,
                        );
                        found = Some((lr, momentum));
                        break;
                    }
                    start_step = phase.end_step;
                }
                let (lr, momentum) = found.expect("the last phase always matches");
                if s.cycle_momentum {
                    group.momentum = Some(momentum);
                }
                lr
            }
            Schedule::SequentialLR(_) => unreachable!("SequentialLR steps its schedulers"),
        })
    }

    /// PyTorch's `_get_closed_form_lr()`, for the schedulers that have one.
    fn closed_form_lr(&self) -> Option<f64> {
        let (epoch, base_lr) = (self.last_epoch, self.base_lr);
        Some(match &self.schedule {
            Schedule::StepLR(s) => base_lr * pow(s.gamma, epoch.div_euclid(s.step_size as i64)),
            Schedule::MultiStepLR(s) => {
                let passed = s.milestones.iter().filter(|&&m| m as i64 <= epoch).count();
                base_lr * pow(s.gamma, passed as i64)
            }
            Schedule::ExponentialLR(s) => base_lr * pow(s.gamma, epoch),
            Schedule::CosineAnnealingLR(s) => {
                let pi = std::f64::consts::PI;
                s.eta_min
                    + (base_lr - s.eta_min) * (1.0 + (pi * epoch as f64 / s.t_max as f64).cos())
                        / 2.0
            }
            Schedule::LinearLR(s) => {
                let passed = (s.total_iters as i64).min(epoch);
                base_lr
                    * (s.start_factor
                        + (s.end_factor - s.start_factor) * passed as f64 / s.total_iters as f64)
            }
            Schedule::OneCycleLR(_) | Schedule::SequentialLR(_) => return None,
        })
    }

    /// The error the next step would raise (stepping `OneCycleLR` past its end), found
    /// before anything changes.
    fn next_step_error(&self) -> Option<Error> {
        match &self.schedule {
            Schedule::SequentialLR(s) => {
                let epoch = self.last_epoch + 1;
                let i = bisect_right(&s.milestones, epoch);
                if i > 0 && s.milestones[i - 1] as i64 == epoch {
                    None // the next schedule starts at its step 0
                } else {
                    self.children[i].next_step_error()
                }
            }
            Schedule::OneCycleLR(s) if self.last_epoch + 1 > s.total_steps as i64 => Some(invalid(
                "OneCycleLR",
                format!(
                    "tried to step {} times; the specified number of total steps is {}",
                    self.last_epoch + 1,
                    s.total_steps
                ),
            )),
            _ => None,
        }
    }

    /// Calls `f` with the node's path (`schedule`, `schedule.0`, ...) and the node, depth first.
    fn for_each<'a>(&'a self, path: &str, f: &mut impl FnMut(&str, &'a Node)) {
        f(path, self);
        for (i, child) in self.children.iter().enumerate() {
            child.for_each(&format!("{path}.{i}"), f);
        }
    }

    /// [`for_each`](Self::for_each), mutably.
    fn for_each_mut(&mut self, path: &str, f: &mut impl FnMut(&str, &mut Node)) {
        f(path, self);
        for (i, child) in self.children.iter_mut().enumerate() {
            child.for_each_mut(&format!("{path}.{i}"), f);
        }
    }
}

/// The checks PyTorch's constructors make, and those of steps that would divide by zero.
fn validate(schedule: &Schedule, has_momentum: bool) -> Result<()> {
    let name = schedule.name();
    match schedule {
        Schedule::StepLR(s) if s.step_size == 0 => Err(invalid(
            name,
            "step_size 0: the period must be at least 1 step".into(),
        )),
        Schedule::CosineAnnealingLR(s) if s.t_max == 0 => Err(invalid(
            name,
            "T_max 0: the half period must be at least 1 step".into(),
        )),
        Schedule::LinearLR(s) if !(s.start_factor > 0.0 && s.start_factor <= 1.0) => Err(invalid(
            name,
            format!("start_factor {} is not in (0, 1]", s.start_factor),
        )),
        Schedule::LinearLR(s) if !(s.end_factor >= 0.0 && s.end_factor <= 1.0) => Err(invalid(
            name,
            format!("end_factor {} is not in [0, 1]", s.end_factor),
        )),
        Schedule::OneCycleLR(s) => {
            if s.total_steps == 0 {
                return Err(invalid(
                    name,
                    "total_steps 0: expected at least 1 step".into(),
                ));
            }
            if s.total_steps as u64 > 1 << 52 {
                return Err(invalid(
                    name,
                    format!("total_steps {} is more than 2^52", s.total_steps),
                ));
            }
            if !(s.pct_start >= 0.0 && s.pct_start <= 1.0) {
                return Err(invalid(
                    name,
                    format!("pct_start {} is not in [0, 1]", s.pct_start),
                ));
            }
            if s.cycle_momentum && !has_momentum {
                return Err(invalid(
                    name,
                    "cycle_momentum needs an optimizer with a momentum or β1".into(),
                ));
            }
            let phases = s.phases();
            let n = phases.len();
            // PyTorch divides by each phase's length when it runs it: the first at step 0
            // (in the constructor), the last at step total_steps.
            if phases[0].end_step == 0.0 {
                return Err(invalid(
                    name,
                    format!(
                        "pct_start {} · total_steps {} = 1 gives a first phase of no steps \
                         (PyTorch divides by zero)",
                        s.pct_start, s.total_steps
                    ),
                ));
            }
            if phases[n - 1].end_step == phases[n - 2].end_step {
                return Err(invalid(
                    name,
                    format!(
                        "pct_start {} with total_steps {} leaves the last phase no steps \
                         (PyTorch divides by zero at step {})",
                        s.pct_start, s.total_steps, s.total_steps
                    ),
                ));
            }
            Ok(())
        }
        Schedule::SequentialLR(s) => {
            if s.schedulers.is_empty() {
                return Err(invalid(name, "expects at least one scheduler".into()));
            }
            if s.milestones.len() + 1 != s.schedulers.len() {
                return Err(invalid(
                    name,
                    format!(
                        "expects one milestone fewer than schedulers, got {} schedulers and {} \
                         milestones",
                        s.schedulers.len(),
                        s.milestones.len()
                    ),
                ));
            }
            if let Some(w) = s.milestones.windows(2).find(|w| w[0] >= w[1]) {
                return Err(invalid(
                    name,
                    format!(
                        "milestones {:?} must increase ({} then {})",
                        s.milestones, w[0], w[1]
                    ),
                ));
            }
            for (i, child) in s.schedulers.iter().enumerate() {
                match child {
                    Schedule::SequentialLR(_) => {
                        return Err(invalid(
                            name,
                            format!("scheduler {i} is a SequentialLR; nest none"),
                        ))
                    }
                    Schedule::LinearLR(l) if i > 0 && l.total_iters == 0 => {
                        return Err(invalid(
                            name,
                            format!(
                                "scheduler {i}, a LinearLR with total_iters 0, starts at a \
                                 milestone, where PyTorch divides by total_iters"
                            ),
                        ))
                    }
                    _ => {}
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::{Adam, Sgd};

    /// The learning rates of `steps` steps after construction (step 0 included).
    fn lrs(schedule: impl Into<Schedule>, lr: f64, steps: usize) -> Vec<f64> {
        let mut sgd = Sgd::<f64>::new(lr).momentum(0.9);
        let mut s = LrScheduler::new(&mut sgd, schedule).unwrap();
        let mut out = vec![s.lr()];
        for _ in 0..steps {
            s.step(&mut sgd);
            assert_eq!(sgd.lr, s.lr());
            out.push(s.lr());
        }
        out
    }

    fn close(a: &[f64], b: &[f64]) {
        assert_eq!(a.len(), b.len());
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!(
                (x - y).abs() <= 1e-12 * y.abs().max(1e-300),
                "step {i}: {x} vs {y}"
            );
        }
    }

    #[test]
    fn step_decays_by_hand() {
        // 1, 1, 0.5, 0.5, 0.25: halved every 2 steps
        close(
            &lrs(StepLR::new(2).gamma(0.5), 1.0, 4),
            &[1.0, 1.0, 0.5, 0.5, 0.25],
        );
        // milestones 1 and 3 (3 listed twice: decays twice)
        close(
            &lrs(MultiStepLR::new([1, 3, 3]).gamma(0.5), 1.0, 4),
            &[1.0, 0.5, 0.5, 0.125, 0.125],
        );
        close(&lrs(ExponentialLR::new(0.5), 2.0, 2), &[2.0, 1.0, 0.5]);
    }

    #[test]
    fn warm_up_and_cosine_by_hand() {
        // LinearLR 1/2 -> 1 over 2 steps: 0.5, 0.75, 1, 1
        close(
            &lrs(LinearLR::new().start_factor(0.5).total_iters(2), 1.0, 3),
            &[0.5, 0.75, 1.0, 1.0],
        );
        // cosine over 2 steps from 1 to 0: 1, (1 + cos(pi/2))/2 = 0.5, 0
        let c = lrs(CosineAnnealingLR::new(2), 1.0, 2);
        close(&c[..2], &[1.0, 0.5]);
        assert!(c[2].abs() < 1e-16);
    }

    #[test]
    fn one_cycle_cycles_the_momentum_of_either_optimiser_and_stops_at_its_end() {
        let mut adam = Adam::<f64>::new(1.0);
        let mut s = LrScheduler::new(&mut adam, OneCycleLR::new(1.0, 10)).unwrap();
        // step 0: max_lr / 25, the momentum at its maximum
        assert!((adam.lr - 0.04).abs() < 1e-15 && (adam.beta1 - 0.95).abs() < 1e-15);
        for _ in 0..2 {
            s.step(&mut adam);
        }
        // step 2 = pct_start · 10 - 1: the peak, momentum at its base
        assert!((adam.lr - 1.0).abs() < 1e-15 && (adam.beta1 - 0.85).abs() < 1e-15);
        for _ in 2..10 {
            s.step(&mut adam);
        }
        let err = s.try_step(&mut adam).unwrap_err().to_string();
        assert!(err.contains("tried to step 11 times"), "{err}");
        assert_eq!(s.last_epoch(), 10, "the failed step changed nothing");
        let mut sgd = Sgd::<f64>::new(1.0);
        LrScheduler::new(&mut sgd, OneCycleLR::new(1.0, 10)).unwrap();
        assert_eq!(sgd.momentum, 0.95);
    }

    #[test]
    #[should_panic(expected = "tried to step 3 times")]
    fn stepping_one_cycle_past_its_end_panics() {
        let mut sgd = Sgd::<f64>::new(1.0);
        let mut s = LrScheduler::new(&mut sgd, OneCycleLR::new(1.0, 2)).unwrap();
        for _ in 0..3 {
            s.step(&mut sgd);
        }
    }

    #[test]
    fn arguments_pytorch_rejects_or_that_divide_by_zero_are_errors() {
        let mut sgd = Sgd::<f64>::new(0.1);
        let mut err = |s: Schedule| LrScheduler::new(&mut sgd, s).unwrap_err().to_string();
        assert!(err(StepLR::new(0).into()).contains("step_size 0"));
        assert!(err(CosineAnnealingLR::new(0).into()).contains("T_max 0"));
        assert!(err(LinearLR::new().start_factor(0.0).into()).contains("start_factor 0"));
        assert!(err(LinearLR::new().end_factor(1.5).into()).contains("end_factor 1.5"));
        assert!(err(OneCycleLR::new(1.0, 0).into()).contains("total_steps 0"));
        assert!(err(OneCycleLR::new(1.0, 10).pct_start(1.5).into()).contains("pct_start 1.5"));
        assert!(err(OneCycleLR::new(1.0, 10).pct_start(0.1).into()).contains("first phase"));
        assert!(err(OneCycleLR::new(1.0, 10).pct_start(1.0).into()).contains("last phase"));
        let seq = |s: Vec<Schedule>, m: Vec<usize>| SequentialLR::new(s, m).into();
        assert!(err(seq(vec![], vec![])).contains("at least one"));
        let two = || vec![ExponentialLR::new(0.5).into(), StepLR::new(2).into()];
        assert!(err(seq(two(), vec![])).contains("2 schedulers and 0 milestones"));
        let three = vec![
            StepLR::new(1).into(),
            StepLR::new(1).into(),
            StepLR::new(1).into(),
        ];
        assert!(err(seq(three, vec![3, 3])).contains("must increase"));
        let nested = vec![StepLR::new(1).into(), seq(two(), vec![2])];
        assert!(err(seq(nested, vec![2])).contains("nest none"));
        let linear = vec![StepLR::new(1).into(), LinearLR::new().total_iters(0).into()];
        assert!(err(seq(linear, vec![2])).contains("total_iters 0"));
        assert_eq!(
            sgd.lr, 0.1,
            "a rejected schedule leaves the optimizer alone"
        );
    }
}
