//! Stochastic gradient descent with momentum and weight decay, as `torch.optim.SGD`.

use super::{check_state, exact, flush_subnormal, Optimizer, OptimizerState, States};
use crate::element::Element;
use crate::error::Result;
use crate::nn::Parameter;

/// Stochastic gradient descent, PyTorch's rule (`torch.optim.SGD`, dampening 0):
///
/// ```text
/// g = grad + weight_decay · p
/// b = g                      on the first step,   b = momentum · b + g   after
/// g = g + momentum · b       with nesterov,       g = b                  without (momentum > 0)
/// p = p - lr · g
/// ```
#[derive(Clone, Debug)]
pub struct Sgd<E: Element> {
    /// The learning rate.
    pub lr: E,
    /// The momentum factor (0: plain SGD).
    pub momentum: E,
    /// L2 penalty added to the gradient.
    pub weight_decay: E,
    /// Nesterov momentum.
    pub nesterov: bool,
    /// The momentum buffer of each parameter, by name (PyTorch's `momentum_buffer`).
    pub(super) states: States<E, 1>,
}

impl<E: Element> Sgd<E> {
    /// Plain SGD with learning rate `lr` (no momentum, no weight decay).
    pub fn new(lr: E) -> Self {
        Sgd {
            lr,
            momentum: E::zero(),
            weight_decay: E::zero(),
            nesterov: false,
            states: States::new(["momentum_buffer"], false),
        }
    }

    /// With momentum.
    pub fn momentum(mut self, momentum: E) -> Self {
        self.momentum = momentum;
        self
    }

    /// With weight decay (an L2 penalty).
    pub fn weight_decay(mut self, weight_decay: E) -> Self {
        self.weight_decay = weight_decay;
        self
    }

    /// With Nesterov momentum.
    pub fn nesterov(mut self, nesterov: bool) -> Self {
        self.nesterov = nesterov;
        self
    }
}

impl<E: Element> Sgd<E> {
    /// The state without the parameters': kind and hyper-parameters.
    fn header(&self) -> OptimizerState<E> {
        OptimizerState {
            kind: "Sgd".into(),
            lr: self.lr,
            momentum: Some(self.momentum),
            hyperparameters: vec![
                ("weight_decay".into(), exact(self.weight_decay)),
                ("nesterov".into(), self.nesterov.to_string()),
            ],
            parameters: Default::default(),
        }
    }
}

impl<E: Element> Optimizer<E> for Sgd<E> {
    fn check(&self, name: &str, param: &dyn Parameter<E>) -> Result<()> {
        self.states.check(name, param)
    }

    fn update(&mut self, name: &str, param: &mut dyn Parameter<E>, grad: &[E]) {
        let (lr, mu, wd) = (self.lr, self.momentum, self.weight_decay);
        if mu == E::zero() {
            // No momentum buffer (PyTorch keeps none either); still, a buffer made for
            // another shape means another parameter.
            if let Err(e) = self.states.check(name, param) {
                panic!("{e}");
            }
            for (p, &g) in param.values_mut().iter_mut().zip(grad) {
                *p = *p - lr * (g + wd * *p);
            }
            return;
        }
        let (state, first) = self.states.get_or_insert(name, param);
        let [buffer] = &mut state.buffers;
        for ((p, &g), b) in param.values_mut().iter_mut().zip(grad).zip(buffer) {
            let g = g + wd * *p;
            // (a buffer that has decayed below the normal range is flushed to zero: slow)
            *b = flush_subnormal(if first { g } else { mu * *b + g });
            let step = if self.nesterov { g + mu * *b } else { *b };
            *p = *p - lr * step;
        }
    }

    fn lr(&self) -> E {
        self.lr
    }

    fn set_lr(&mut self, lr: E) {
        self.lr = lr;
    }

    fn momentum(&self) -> Option<E> {
        Some(self.momentum)
    }

    fn set_momentum(&mut self, momentum: E) {
        self.momentum = momentum;
    }

    fn state_dict(&self) -> OptimizerState<E> {
        OptimizerState {
            parameters: self.states.export(),
            ..self.header()
        }
    }

    fn check_state_dict(&self, state: &OptimizerState<E>) -> Result<()> {
        check_state(&self.header(), &self.states, state)
    }

    fn load_state_dict(&mut self, state: &OptimizerState<E>) -> Result<()> {
        self.check_state_dict(state)?;
        self.lr = state.lr;
        self.momentum = state.momentum.expect("checked: Sgd keeps a momentum");
        self.states.import(&state.parameters);
        Ok(())
    }
}
