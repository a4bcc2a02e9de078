//! Adam and AdamW, as `torch.optim.Adam` and `torch.optim.AdamW`.

use super::{check_state, exact, flush_subnormal, Optimizer, OptimizerState, States};
use crate::element::Element;
use crate::error::Result;
use crate::nn::Parameter;

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
    /// The state of each parameter, by name: the step count `t` (PyTorch counts per
    /// parameter too) and the moments `m`, `v` (PyTorch's `exp_avg`, `exp_avg_sq`).
    pub(super) states: States<E, 2>,
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
            states: States::new(["exp_avg", "exp_avg_sq"], true),
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
    pub fn steps(&self, name: &str) -> u64 {
        self.states.get(name).map_or(0, |s| s.step)
    }

    /// The state without the parameters': kind and hyper-parameters.
    fn header(&self) -> OptimizerState<E> {
        OptimizerState {
            kind: "Adam".into(),
            lr: self.lr,
            momentum: Some(self.beta1),
            hyperparameters: vec![
                ("beta2".into(), exact(self.beta2)),
                ("eps".into(), exact(self.eps)),
                ("weight_decay".into(), exact(self.weight_decay)),
                (
                    "decoupled_weight_decay".into(),
                    self.decoupled_weight_decay.to_string(),
                ),
            ],
            parameters: Default::default(),
        }
    }
}

impl<E: Element> Optimizer<E> for Adam<E> {
    fn check(&self, name: &str, param: &dyn Parameter<E>) -> Result<()> {
        self.states.check(name, param)
    }

    fn update(&mut self, name: &str, param: &mut dyn Parameter<E>, grad: &[E]) {
        let (b1, b2, lr, eps, wd) = (self.beta1, self.beta2, self.lr, self.eps, self.weight_decay);
        let one = E::one();
        let (state, _) = self.states.get_or_insert(name, param);
        state.step += 1;
        let t = i32::try_from(state.step).unwrap_or(i32::MAX);
        let [m, v] = &mut state.buffers;
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
            .values_mut()
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

    fn lr(&self) -> E {
        self.lr
    }

    fn set_lr(&mut self, lr: E) {
        self.lr = lr;
    }

    /// β1 (PyTorch's `betas[0]`), which [`OneCycleLR`](super::OneCycleLR) cycles.
    fn momentum(&self) -> Option<E> {
        Some(self.beta1)
    }

    fn set_momentum(&mut self, momentum: E) {
        self.beta1 = momentum;
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
        self.beta1 = state.momentum.expect("checked: Adam keeps a β1");
        self.states.import(&state.parameters);
        Ok(())
    }
}
