//! The schedules as values: PyTorch's scheduler classes with their constructor arguments
//! and defaults (the optimiser aside), and [`Schedule`], any one of them.

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
    /// saturates rather than overflows, which [`LrScheduler::new`](super::LrScheduler::new) then reports as too long).
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

/// Any of the schedules: what an [`LrScheduler`](super::LrScheduler) runs.
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
    pub(super) fn arguments(&self) -> Vec<(&'static str, String)> {
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
