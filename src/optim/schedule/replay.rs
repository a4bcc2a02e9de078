//! PyTorch's schedulers replayed: its parameter group, each scheduler's `last_epoch` and
//! `_step_count`, the constructors' initial steps, the chainable and closed-form formulas of
//! `torch/optim/lr_scheduler.py` (PyTorch 2.15) in PyTorch's order of operations, and the
//! checks its constructors make.

use super::kinds::{AnnealStrategy, OneCycleLR, Schedule};
use crate::error::{Error, Result};

/// One of the values `OneCycleLR` keeps in the parameter group.
#[derive(Clone, Copy, Debug)]
pub(super) enum GroupValue {
    InitialLr,
    MaxLr,
    MinLr,
    MaxMomentum,
    BaseMomentum,
}

/// A phase of `OneCycleLR`: where it ends, and the group values it moves between.
#[derive(Clone, Copy, Debug)]
pub(super) struct Phase {
    end_step: f64,
    lr: (GroupValue, GroupValue),
    momentum: (GroupValue, GroupValue),
}

/// PyTorch's parameter group, as far as the schedules read and write it (one group: our
/// optimisers have one learning rate).
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Group {
    pub(super) lr: f64,
    pub(super) initial_lr: Option<f64>,
    pub(super) max_lr: f64,
    pub(super) min_lr: f64,
    /// The momentum, once a schedule that cycles it has set it.
    pub(super) momentum: Option<f64>,
    pub(super) max_momentum: f64,
    pub(super) base_momentum: f64,
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
pub(super) struct Node {
    pub(super) schedule: Schedule,
    pub(super) base_lr: f64,
    pub(super) last_epoch: i64,
    pub(super) step_count: i64,
    /// `SequentialLR`'s schedulers.
    pub(super) children: Vec<Node>,
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
    pub(super) fn construct(
        schedule: &Schedule,
        group: &mut Group,
        has_momentum: bool,
    ) -> Result<Node> {
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
    pub(super) fn step_in(&mut self, group: &mut Group, initial: bool) -> Result<()> {
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
                let (all, count) = phases(s);
                let phases = &all[..count];
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
    pub(super) fn next_step_error(&self) -> Option<Error> {
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
    pub(super) fn for_each<'a>(&'a self, path: &str, f: &mut impl FnMut(&str, &'a Node)) {
        f(path, self);
        for (i, child) in self.children.iter().enumerate() {
            child.for_each(&format!("{path}.{i}"), f);
        }
    }

    /// [`for_each`](Self::for_each), mutably.
    pub(super) fn for_each_mut(&mut self, path: &str, f: &mut impl FnMut(&str, &mut Node)) {
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
            let (phases, n) = phases(s);
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

/// The phases as PyTorch lays them out (two, or three with `three_phase`; the array's unused
/// slot repeats the last, and the count says how many there are): each ends at a step (a
/// float, as in PyTorch) and moves between two of the group's values. An array, not a `Vec`:
/// it is built at every step.
fn phases(s: &OneCycleLR) -> ([Phase; 3], usize) {
    use GroupValue::*;
    let steps = s.total_steps as f64;
    let rise = Phase {
        end_step: s.pct_start * steps - 1.0,
        lr: (InitialLr, MaxLr),
        momentum: (MaxMomentum, BaseMomentum),
    };
    let last = steps - 1.0;
    if s.three_phase {
        let back = Phase {
            end_step: 2.0 * s.pct_start * steps - 2.0,
            lr: (MaxLr, InitialLr),
            momentum: (BaseMomentum, MaxMomentum),
        };
        let anneal = Phase {
            end_step: last,
            lr: (InitialLr, MinLr),
            momentum: (MaxMomentum, MaxMomentum),
        };
        ([rise, back, anneal], 3)
    } else {
        let fall = Phase {
            end_step: last,
            lr: (MaxLr, MinLr),
            momentum: (BaseMomentum, MaxMomentum),
        };
        ([rise, fall, fall], 2)
    }
}
