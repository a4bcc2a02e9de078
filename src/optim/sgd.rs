//! Stochastic gradient descent with momentum and weight decay, as `torch.optim.SGD`.

use std::collections::HashMap;

use super::{flush_subnormal, Optimizer};
use crate::element::Element;

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
    /// The momentum buffer of each parameter, by name.
    pub(super) buffers: HashMap<String, Vec<E>>,
}

impl<E: Element> Sgd<E> {
    /// Plain SGD with learning rate `lr` (no momentum, no weight decay).
    pub fn new(lr: E) -> Self {
        Sgd {
            lr,
            momentum: E::zero(),
            weight_decay: E::zero(),
            nesterov: false,
            buffers: HashMap::new(),
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

impl<E: Element> Optimizer<E> for Sgd<E> {
    fn update(&mut self, name: &str, param: &mut [E], grad: &[E]) {
        let (lr, mu, wd) = (self.lr, self.momentum, self.weight_decay);
        if mu == E::zero() {
            for (p, &g) in param.iter_mut().zip(grad) {
                *p = *p - lr * (g + wd * *p);
            }
            return;
        }
        let mut first = false;
        let buffer = self.buffers.entry(name.to_string()).or_insert_with(|| {
            first = true;
            vec![E::zero(); grad.len()]
        });
        for ((p, &g), b) in param.iter_mut().zip(grad).zip(buffer.iter_mut()) {
            let g = g + wd * *p;
            // (a buffer that has decayed below the normal range is flushed to zero: slow)
            *b = flush_subnormal(if first { g } else { mu * *b + g });
            let step = if self.nesterov { g + mu * *b } else { *b };
            *p = *p - lr * step;
        }
    }
}
