//! The typed side of autodiff: `loss.backward()` and gradients with their tensor's type
//! (`grads.get(&w)`, `grads.take(&w)`).

use super::{Element, Tensor};
use crate::autodiff::Gradients;
use crate::shape::Shape;

impl<E: Element> Tensor<E, ()> {
    /// Replays the tape from this scalar back to the traced tensors; returns their gradients
    /// (d self / d tensor). Consumes the ops recorded on the tape so far and starts its next
    /// generation: a second loss computed before this call cannot be backpropagated after it
    /// (sum the losses first). See [the tape rules](crate::autodiff).
    pub fn backward(self) -> Gradients<E> {
        match &self.trace {
            Some(trace) => trace.backward(self.id),
            None => Gradients::seeded(self.id),
        }
    }
}

impl<E: Element> Gradients<E> {
    /// The gradient of `tensor`, with its type (a copy), or `None` if the loss did not depend
    /// on it (or it was not traced).
    pub fn get<S: Shape>(&self, tensor: &Tensor<E, S>) -> Option<Tensor<E, S>> {
        let grad = self.get_raw(tensor.id())?;
        check_len(grad.len(), tensor);
        Some(Tensor::from_parts(*tensor.shape(), grad.to_vec()))
    }

    /// Moves the gradient of `tensor` out, with its type and without a copy; `None` if the
    /// loss did not depend on it (or it was already taken).
    pub fn take<S: Shape>(&mut self, tensor: &Tensor<E, S>) -> Option<Tensor<E, S>> {
        let grad = self.take_raw(tensor.id())?;
        check_len(grad.len(), tensor);
        Some(Tensor::from_parts(*tensor.shape(), grad))
    }
}

/// Panics unless a gradient of `len` elements fits `tensor`: only a backward closure that
/// added to a tensor it did not list among its op's inputs can get this wrong (the inputs'
/// lengths are checked as the closures run).
fn check_len<E: Element, S: Shape>(len: usize, tensor: &Tensor<E, S>) {
    assert!(
        len == tensor.numel(),
        "grads: the gradient of a tensor of {} elements has {len}: a backward pass added a \
         gradient of the wrong length to it without listing it among its op's inputs",
        tensor.numel()
    );
}
