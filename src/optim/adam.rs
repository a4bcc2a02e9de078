//! Adam and AdamW, as `torch.optim.Adam` and `torch.optim.AdamW`.

use std::collections::HashMap;

use super::{flush_subnormal, Optimizer};
use crate::element::Element;

/// Adam (Kingma & Ba), PyTorch's rule (`torch.optim.Adam`; with `decoupled_weight_decay`,
/// `torch.optim.AdamW`). At step `t` (from 1), for each parameter `p` with gradient `grad`:
///
/// ```text
/// p = p · (1 - lr · weight_decay)          AdamW only
/// g = grad + weight_decay · p              Adam only (an L2 penalty)
/// m = β1 · m + (1 - β1) · g
/// v = β2 · v + (1 - β2) · g²
/// p = p - lr · (m / (1 - β1^t)) / (sqrt(v / (1 - β2^t)) + eps)
/// ```
#[derive(Clone, Debug)]
pub struct Adam<E: Element> {
    /// The learning rate.
    pub lr: E,
    /// β1: the decay of the first-moment estimate (0.9).
    pub beta1: E,
    /// β2: the decay of the second-moment estimate (0.999).
    pub beta2: E,
    /// Added to the denominator for stability (1e-8).
    pub eps: E,
    /// Weight decay (0).
    pub weight_decay: E,
    /// Decay the weights directly (AdamW) instead of adding an L2 term to the gradient.
    pub decoupled_weight_decay: bool,
    /// The state of each parameter, by name.
    pub(super) state: HashMap<String, Moments<E>>,
}

/// Adam's state for one parameter.
#[derive(Clone, Debug)]
pub(super) struct Moments<E> {
    /// Steps this parameter was updated (PyTorch counts per parameter too).
    pub(super) t: i32,
    /// First-moment estimate.
    pub(super) m: Vec<E>,
    /// Second-moment estimate.
    pub(super) v: Vec<E>,
}

impl<E: Element> Adam<E> {
    /// Adam with learning rate `lr` and PyTorch's defaults: β = (0.9, 0.999), eps 1e-8, no
    /// weight decay.
    pub fn new(lr: E) -> Self {
        Adam {
            lr,
            beta1: E::of(0.9),
            beta2: E::of(0.999),
            eps: E::of(1e-8),
            weight_decay: E::zero(),
            decoupled_weight_decay: false,
            state: HashMap::new(),
        }
    }

    /// AdamW: Adam with decoupled weight decay (PyTorch's default for AdamW is 0.01).
    pub fn adamw(lr: E, weight_decay: E) -> Self {
        Adam {
            weight_decay,
            decoupled_weight_decay: true,
            ..Self::new(lr)
        }
    }

    /// With betas `(β1, β2)`.
    pub fn betas(mut self, beta1: E, beta2: E) -> Self {
        self.beta1 = beta1;
        self.beta2 = beta2;
        self
    }

    /// With `eps`.
    pub fn eps(mut self, eps: E) -> Self {
        self.eps = eps;
        self
    }

    /// With weight decay as an L2 penalty (Adam's; see [`adamw`](Self::adamw) for the
    /// decoupled kind).
    pub fn weight_decay(mut self, weight_decay: E) -> Self {
        self.weight_decay = weight_decay;
        self
    }

    /// How many times the parameter `name` was updated.
    pub fn steps(&self, name: &str) -> i32 {
        self.state.get(name).map_or(0, |s| s.t)
    }
}

impl<E: Element> Optimizer<E> for Adam<E> {
    fn update(&mut self, name: &str, param: &mut [E], grad: &[E]) {
        let (b1, b2, lr, eps, wd) = (self.beta1, self.beta2, self.lr, self.eps, self.weight_decay);
        let one = E::one();
        let state = self
            .state
            .entry(name.to_string())
            .or_insert_with(|| Moments {
                t: 0,
                m: vec![E::zero(); grad.len()],
                v: vec![E::zero(); grad.len()],
            });
        state.t += 1;
        let (t, m, v) = (state.t, &mut state.m, &mut state.v);
        let bias1 = one - b1.powi(t);
        let bias2_sqrt = (one - b2.powi(t)).sqrt();
        let step = lr / bias1;
        // One element's update, PyTorch's order of operations: denom = sqrt(v)/sqrt(1 - β2^t)
        // + eps, p -= (lr / (1 - β1^t)) · m / denom. Moments that have decayed below the
        // normal range are flushed to zero (slow on x86).
        let update = |p: &mut E, g: E, m: &mut E, v: &mut E| {
            *m = flush_subnormal(b1 * *m + (one - b1) * g);
            *v = flush_subnormal(b2 * *v + (one - b2) * g * g);
            let denom = v.sqrt() / bias2_sqrt + eps;
            *p = *p - step * *m / denom;
        };
        // Zipped slices, no indexing: no bounds checks, and the loop vectorises.
        let elements = param
            .iter_mut()
            .zip(grad)
            .zip(m.iter_mut().zip(v.iter_mut()));
        if self.decoupled_weight_decay {
            let shrink = one - lr * wd;
            for ((p, &g), (m, v)) in elements {
                *p = *p * shrink;
                update(p, g, m, v);
            }
        } else {
            for ((p, &g), (m, v)) in elements {
                let g = g + wd * *p;
                update(p, g, m, v);
            }
        }
    }
}
