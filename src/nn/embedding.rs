//! `Embedding`: a table of `V` vectors of `D` values looked up by integer ids, like
//! `torch.nn.Embedding(V, D)`.

use super::{Forward, Init, Module, Visitor};
use crate::element::Element;
use crate::shape::{AppendDim, Dim};
use crate::tensor::{IndexTensor, Rng, Tensor, Tensor2};

/// An embedding layer: ids below `V` (an [`IndexTensor`] of any shape up to rank 4) → their
/// rows of the weight `[V, D]`, shape `[ids..., D]`. See [`Tensor::embedding`].
///
/// Initialised as PyTorch does: every weight drawn from N(0, 1). The weight is named
/// `weight`, so PyTorch's `state_dict` names fit.
///
/// ```
/// use shapetorch::prelude::*;
/// let embed = Embedding::<f32, 100, 8>::new(0);
/// let ids = IndexTensor::<(usize, Dim<5>), 100>::from_vec_shaped((2, Dim), vec![1; 10]).unwrap();
/// let vectors: Tensor<f32, (usize, Dim<5>, Dim<8>)> = embed.forward(ids);
/// assert_eq!(vectors.dims(), [2, 5, 8]);
/// ```
#[derive(Clone, Debug)]
pub struct Embedding<E: Element, const V: usize, const D: usize> {
    /// `[V, D]`: row `v` is the vector of id `v`.
    pub weight: Tensor2<E, V, D>,
    /// Whether the table is frozen: saved and loaded, never traced, so never trained.
    frozen: bool,
}

impl<E: Element, const V: usize, const D: usize> Embedding<E, V, D> {
    /// A layer with a given table, like `torch.nn.Embedding.from_pretrained(weight, freeze)`:
    /// `frozen` keeps it out of training ([`ModuleExt::trace`](super::ModuleExt::trace)
    /// leaves it untraced), otherwise it is fine-tuned with the rest of the model.
    ///
    /// ```
    /// use shapetorch::prelude::*;
    /// let table = Tensor2::<f32, 3, 2>::from_slice(&[0., 0., 1., 2., 3., 4.]).unwrap();
    /// let mut embed = Embedding::from_pretrained(table, true);
    /// let tape = Tape::new();
    /// embed.trace(&tape);
    /// assert!(!embed.weight.is_traced());
    /// assert_eq!(embed.trainable_parameter_count(), 0);
    /// assert_eq!(embed.parameter_count(), 6);
    /// ```
    pub fn from_pretrained(weight: Tensor2<E, V, D>, frozen: bool) -> Self {
        Embedding { weight, frozen }
    }

    /// Whether the table is frozen.
    pub fn is_frozen(&self) -> bool {
        self.frozen
    }
}

impl<E: Element, const V: usize, const D: usize> Init for Embedding<E, V, D> {
    fn init(rng: &mut Rng) -> Self {
        Embedding {
            weight: Tensor::randn(rng.next_u64()),
            frozen: false,
        }
    }
}

impl<E: Element, const V: usize, const D: usize> Module<E> for Embedding<E, V, D> {
    fn visit(&mut self, visitor: &mut Visitor<'_, E>) {
        if self.frozen {
            visitor.frozen_param("weight", &mut self.weight);
        } else {
            visitor.param("weight", &mut self.weight);
        }
    }
}

impl<E: Element, S, const V: usize, const D: usize> Forward<IndexTensor<S, V>>
    for Embedding<E, V, D>
where
    S: AppendDim<Dim<D>>,
{
    type Output = Tensor<E, S::Output>;
    /// `[ids...] → [ids..., D]`.
    fn forward(&self, ids: IndexTensor<S, V>) -> Self::Output {
        let y = self.weight.embedding(&ids);
        super::summary::note_output(self, y.dims().as_ref());
        y
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autodiff::Tape;
    use crate::nn::ModuleExt;
    use crate::shape::Rank1;

    #[test]
    fn forward_looks_up_rows_and_trains_its_weight() {
        let mut embed = Embedding::<f64, 4, 3>::new(7);
        assert_eq!(embed.parameter_names(), vec!["weight"]);
        // N(0, 1): 12 draws, not all equal, none huge
        let w = embed.weight.to_vec();
        assert!(w.iter().all(|v| v.abs() < 6.0) && w[0] != w[1]);
        let tape = Tape::new();
        embed.trace(&tape);
        let ids = IndexTensor::<Rank1<3>, 4>::from_slice(&[3, 3, 0]).unwrap();
        let y = embed.forward(ids);
        assert_eq!(y.as_slice()[..3], w[9..12]);
        let grads = y.sum_all().backward();
        let grad = grads.get(&embed.weight).unwrap().to_vec();
        assert_eq!(grad, vec![1., 1., 1., 0., 0., 0., 0., 0., 0., 2., 2., 2.]);
    }
}
