//! `Dropout`: the dropout layer, like `torch.nn.Dropout`, with its own seeded generator.

use std::sync::atomic::{AtomicU64, Ordering};

use super::{Forward, Init, Module, Visitor};
use crate::element::Element;
use crate::shape::Shape;
use crate::tensor::{Rng, Tensor};

/// Dropout with rate `PERCENT / 100`: in training mode zeroes each element with that
/// probability and scales the others by `1 / (1 - rate)`; the identity in evaluation mode
/// ([`Module::set_training`], [`ModuleExt::eval`](super::ModuleExt::eval)). See
/// [`Tensor::dropout`].
///
/// The rate is part of the type, like every hyper-parameter here (`Dropout` is PyTorch's
/// default 0.5, `Dropout<20>` is 0.2), so that a model declared with [`model!`](crate::model)
/// builds it with [`Init`]; a rate above 100 % does not build.
///
/// Reproducible: the layer holds a seed (drawn by [`Init`]) and counts its forward calls; call
/// `k` draws its mask from a generator seeded with the seed and `k`, so the same seed gives
/// the same masks in the same order, and every call a new mask. The counter is atomic because
/// `forward` takes `&self`.
///
/// ```
/// use shapetorch::prelude::*;
/// let mut drop = Dropout::<50>::with_seed(3);
/// let x = Tensor1::<f32, 6>::ones();
/// let y = drop.forward(x.clone());
/// assert!(y.as_slice().iter().all(|&v| v == 0.0 || v == 2.0));
/// drop.eval();
/// assert_eq!(drop.forward(x.clone()).to_vec(), x.to_vec());
/// ```
#[derive(Debug)]
pub struct Dropout<const PERCENT: u32 = 50> {
    seed: u64,
    calls: AtomicU64,
    training: bool,
}

impl<const PERCENT: u32> Dropout<PERCENT> {
    /// A layer in training mode whose masks come from `seed`.
    pub fn with_seed(seed: u64) -> Self {
        const {
            assert!(
                PERCENT <= 100,
                "Dropout<PERCENT>: the rate is PERCENT / 100, at most 100"
            )
        };
        Dropout {
            seed,
            calls: AtomicU64::new(0),
            training: true,
        }
    }

    /// The rate: the probability of zeroing an element in training.
    pub fn rate(&self) -> f64 {
        f64::from(PERCENT) / 100.0
    }

    /// Whether the layer is in training mode (drops) or evaluation mode (the identity).
    pub fn is_training(&self) -> bool {
        self.training
    }

    /// Evaluation mode: the identity. The same as [`ModuleExt::eval`](super::ModuleExt::eval)
    /// (which a model passes on to its layers), callable on the layer alone without naming an
    /// element type.
    pub fn eval(&mut self) {
        self.training = false;
    }

    /// Training mode: drops. The same as [`ModuleExt::train`](super::ModuleExt::train).
    pub fn train(&mut self) {
        self.training = true;
    }

    /// The generator of the next call's mask: seeded with the layer's seed plus the call
    /// number (its first draw, which the op uses as the mask's seed, mixes the two).
    fn next_rng(&self) -> Rng {
        let call = self.calls.fetch_add(1, Ordering::Relaxed);
        Rng::new(self.seed.wrapping_add(call))
    }
}

impl<const PERCENT: u32> Clone for Dropout<PERCENT> {
    /// The same seed, call count and mode: the clone draws the masks the original would.
    fn clone(&self) -> Self {
        Dropout {
            seed: self.seed,
            calls: AtomicU64::new(self.calls.load(Ordering::Relaxed)),
            training: self.training,
        }
    }
}

impl<const PERCENT: u32> Init for Dropout<PERCENT> {
    fn init(rng: &mut Rng) -> Self {
        Self::with_seed(rng.next_u64())
    }
}

impl<E: Element, const PERCENT: u32> Module<E> for Dropout<PERCENT> {
    /// No parameters; the seed and the call count are scalar state, which a checkpoint saves
    /// so that a resumed run draws the masks the uninterrupted one would.
    fn visit(&mut self, visitor: &mut Visitor<'_, E>) {
        visitor.scalar("seed", &mut self.seed);
        visitor.scalar("calls", self.calls.get_mut());
    }

    fn set_training(&mut self, training: bool) {
        self.training = training;
    }
}

impl<E: Element, S: Shape, const PERCENT: u32> Forward<Tensor<E, S>> for Dropout<PERCENT> {
    type Output = Tensor<E, S>;
    /// Any shape, unchanged.
    fn forward(&self, x: Tensor<E, S>) -> Tensor<E, S> {
        let y = if self.training {
            x.dropout(self.rate(), &mut self.next_rng(), true)
        } else {
            x
        };
        super::summary::note_output(self, y.dims().as_ref());
        y
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::ModuleExt;
    use crate::shape::Rank1;

    #[test]
    fn masks_repeat_from_the_seed_and_change_per_call() {
        let a = Dropout::<30>::with_seed(11);
        let b = a.clone();
        let x = Tensor::<f64, Rank1<32>>::ones();
        let (a1, a2) = (a.forward(x.clone()), a.forward(x.clone()));
        assert_ne!(a1.to_vec(), a2.to_vec());
        assert_eq!(b.forward(x.clone()).to_vec(), a1.to_vec());
        assert_eq!(b.forward(x.clone()).to_vec(), a2.to_vec());
        assert_ne!(
            Dropout::<30>::with_seed(12).forward(x.clone()).to_vec(),
            a1.to_vec()
        );
        let kept = 1.0 / (1.0 - 0.3);
        assert!(a1.as_slice().iter().all(|&v| v == 0.0 || v == kept));
        assert_eq!(a.rate(), 0.3);
    }

    crate::model! {
        /// A model with dropout between two layers, to check that modes reach the layer.
        struct Net {
            fc1: crate::nn::Linear<f64, 4, 16>,
            drop: Dropout<25>,
            fc2: crate::nn::Linear<f64, 16, 2>,
        }
    }

    #[test]
    fn a_model_passes_its_mode_to_the_layer() {
        let mut net = Net::new(3);
        assert_eq!(net.drop.rate(), 0.25);
        let x = Tensor::<f64, Rank1<4>>::ones().reshape::<crate::shape::Rank2<1, 4>>();
        let hidden = net.fc1.forward(x.clone()).relu();
        let dropped = net.drop.forward(hidden.clone());
        assert_ne!(dropped.to_vec(), hidden.to_vec());
        net.eval();
        assert!(!net.drop.is_training());
        assert_eq!(net.drop.forward(hidden.clone()).to_vec(), hidden.to_vec());
        net.train();
        assert!(net.drop.is_training());
        assert_eq!(net.parameter_names().len(), 4);
    }

    #[test]
    fn eval_mode_is_the_identity_and_train_mode_drops_again() {
        let mut drop = Dropout::<50>::new(1);
        let x = Tensor::<f32, Rank1<64>>::ones();
        ModuleExt::<f32>::eval(&mut drop);
        assert!(!drop.is_training());
        assert_eq!(drop.forward(x.clone()).to_vec(), x.to_vec());
        ModuleExt::<f32>::train(&mut drop);
        assert!(drop.forward(x.clone()).as_slice().contains(&0.0));
        drop.eval();
        assert_eq!(drop.forward(x.clone()).to_vec(), x.to_vec());
        drop.train();
        assert!(drop.is_training());
        let mut everything = Dropout::<100>::new(2);
        assert_eq!(everything.forward(x.clone()).to_vec(), vec![0.0; 64]);
        assert_eq!(ModuleExt::<f32>::parameter_count(&mut everything), 0);
    }
}
