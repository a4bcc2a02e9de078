//! Reverse-mode autodiff: the tape that records one backward closure per op, and the gradients
//! that `backward()` returns, each with its tensor's type.
//!
//! Ownership in one paragraph: a [`Tape`] is a shared log. `w.trace(&tape)` marks `w` as a
//! tensor that wants a gradient; every op with a traced input appends its backward closure to
//! the log and hands the tape on to its output. `loss.backward()` takes the log, walks it from
//! the newest op to the oldest, and returns [`Gradients`], looked up by tensor
//! (`grads.get(&w)`). Tensors that were never traced (data, constants) get no gradient, and ops
//! on them only cost their forward pass.
//!
//! ```
//! use shapetorch::prelude::*;
//! let tape = Tape::new();
//! let x = Tensor1::<f64, 3>::from_slice(&[1.0, 2.0, 3.0]).unwrap().trace(&tape);
//! let loss = (x.clone() * x.clone()).sum_all(); // sum of x², so d/dx = 2x
//! let grads = loss.backward();
//! assert_eq!(grads.get(&x).unwrap().to_vec(), vec![2.0, 4.0, 6.0]);
//! ```

mod gradcheck;

pub use gradcheck::{gradcheck, GradcheckError};

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::shape::Shape;
use crate::tensor::{Element, Tensor};

/// Identifies a tensor value; clones and traced copies share it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TensorId(u64);

impl TensorId {
    /// A fresh id, larger than every id made before it.
    pub(crate) fn fresh() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        TensorId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// One op's backward pass: given the gradient of its output, add to its inputs' gradients.
pub(crate) type BackwardFn<E> = Box<dyn FnOnce(&[E], &mut Gradients<E>) + Send>;

struct Entry<E: Element> {
    output: TensorId,
    backward: BackwardFn<E>,
}

/// The log of backward closures shared by every tensor computed from traced tensors.
pub struct Tape<E: Element>(Arc<Mutex<Vec<Entry<E>>>>);

impl<E: Element> Clone for Tape<E> {
    fn clone(&self) -> Self {
        Tape(Arc::clone(&self.0))
    }
}

impl<E: Element> Default for Tape<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: Element> std::fmt::Debug for Tape<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tape({} ops)", self.len())
    }
}

impl<E: Element> Tape<E> {
    /// An empty tape.
    pub fn new() -> Self {
        Tape(Arc::new(Mutex::new(Vec::new())))
    }

    /// The number of ops recorded and not yet replayed.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no op is recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Entry<E>>> {
        // A panic inside a backward closure poisons the lock; the log itself stays valid.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn push(&self, output: TensorId, backward: BackwardFn<E>) {
        self.lock().push(Entry { output, backward });
    }

    /// The tape of an op's output: the inputs' common tape, or none if no input is traced.
    ///
    /// Panics when inputs carry two different tapes: trace every tensor of one computation on
    /// the same tape.
    pub(crate) fn join(tapes: &[&Option<Tape<E>>]) -> Option<Tape<E>> {
        let mut joined: Option<&Tape<E>> = None;
        for tape in tapes.iter().filter_map(|t| t.as_ref()) {
            match joined {
                None => joined = Some(tape),
                Some(j) => assert!(
                    Arc::ptr_eq(&j.0, &tape.0),
                    "autodiff: an op got tensors traced on two different tapes; \
                     trace every tensor of one computation on the same tape"
                ),
            }
        }
        joined.cloned()
    }
}

/// Gradients from one `backward()`, keyed by tensor.
///
/// Holds the gradient of every traced tensor that the loss depends on and that no op produced
/// (parameters and traced inputs). Gradients of intermediate results are freed as soon as the
/// walk has passed them.
pub struct Gradients<E: Element> {
    grads: HashMap<TensorId, Vec<E>>,
}

impl<E: Element> std::fmt::Debug for Gradients<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Gradients({} tensors)", self.grads.len())
    }
}

impl<E: Element> Gradients<E> {
    /// The gradient of `tensor`, with its type, or `None` if the loss did not depend on it
    /// (or it was not traced).
    pub fn get<S: Shape>(&self, tensor: &Tensor<E, S>) -> Option<Tensor<E, S>> {
        let grad = self.grads.get(&tensor.id())?;
        Some(Tensor::from_parts(*tensor.shape(), grad.clone()))
    }

    /// The raw gradient of a tensor id, row-major.
    pub fn get_raw(&self, id: TensorId) -> Option<&[E]> {
        self.grads.get(&id).map(|g| g.as_slice())
    }

    /// The gradient buffer of `id` (zeros when new), for a backward kernel to add into.
    pub(crate) fn slot(&mut self, id: TensorId, len: usize) -> &mut [E] {
        let buf = self.grads.entry(id).or_insert_with(|| vec![E::zero(); len]);
        debug_assert_eq!(buf.len(), len);
        buf
    }

    /// Adds `delta` into the gradient of `id`.
    pub(crate) fn add(&mut self, id: TensorId, delta: &[E]) {
        for (g, d) in self.slot(id, delta.len()).iter_mut().zip(delta) {
            *g += *d;
        }
    }
}

impl<E: Element> Tensor<E, ()> {
    /// Replays the tape from this scalar back to the traced tensors; returns their gradients
    /// (d self / d tensor). Consumes the tape's log: a second `backward` finds it empty.
    pub fn backward(self) -> Gradients<E> {
        let mut grads = Gradients {
            grads: HashMap::new(),
        };
        grads.grads.insert(self.id(), vec![E::one()]);
        if let Some(tape) = self.tape() {
            let mut entries = std::mem::take(&mut *tape.lock());
            entries.sort_by_key(|e| e.output);
            for entry in entries.into_iter().rev() {
                // Every consumer of `entry.output` was recorded later, so its gradient is final.
                if let Some(grad_out) = grads.grads.remove(&entry.output) {
                    (entry.backward)(&grad_out, &mut grads);
                }
            }
        }
        grads
    }
}
