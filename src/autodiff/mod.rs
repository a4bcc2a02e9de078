//! Reverse-mode autodiff's core: tensor ids, the tape that records one backward closure per op,
//! and the gradient store that the backward walk fills. It works on ids and slices only; the
//! typed layer on top (`x.trace(&tape)`, `loss.backward()`, `grads.get(&w)`, custom ops) is in
//! [`crate::tensor`].
//!
//! Ownership in one paragraph: a [`Tape`] is a shared log. `w.trace(&tape)` marks `w` as a
//! tensor that wants a gradient; every op with a traced input appends its backward closure to
//! the log and hands the tape on to its output. `loss.backward()` takes the log, walks it from
//! the newest op to the oldest, and returns [`Gradients`], looked up by tensor
//! (`grads.get(&w)`). Tensors that were never traced (data, constants) get no gradient, and ops
//! on them only cost their forward pass.
//!
//! ## Tape rules
//!
//! - **Parameters live across steps.** A tensor traced with `trace` (a *leaf*) keeps its id
//!   and its tape for as long as it lives: trace the parameters once, update them in place
//!   (`w.data_mut()`, copy-on-write), and the same tape serves every step.
//! - **A tape is reusable.** `backward()` consumes the ops recorded so far and starts a new
//!   *generation*; the next step records on the same tape.
//! - **One backward per generation.** Two losses computed in one step share the ops they were
//!   built from: call `backward()` once on their sum (`(a + b).backward()`). A loss (or any
//!   tensor) computed before a `backward()` on its tape cannot be used after it: its ops are
//!   gone, and the op or the second `backward()` panics saying so (PyTorch raises "Trying to
//!   backward through the graph a second time" for the same mistake).
//! - **Evaluation without backward.** A forward pass with traced parameters and no backward
//!   works, but records its ops until the next `backward()` or [`Tape::clear`]. Wrap it in
//!   [`Tape::no_grad`] to record nothing (like `torch.no_grad()`): its results are untraced.
//! - **One tape per computation.** An op whose inputs are traced on two different tapes panics:
//!   trace everything one loss depends on on one tape, or `detach()` what should be a constant.
//! - **Intermediate gradients on request.** `h.trace(&tape)` on a tensor computed in this step
//!   keeps `h` in the computation and its gradient in the `Gradients` (`retain_grad()`).
//! - **Gradients are checked as they are added.** The tape keeps each op's name and its inputs'
//!   sizes; a backward pass (a custom op's, say) that adds a gradient of the wrong length
//!   panics at once, naming the op.
//!
//! ```
//! use shapetorch::prelude::*;
//! let tape = Tape::new();
//! let x = Tensor1::<f64, 3>::from_slice(&[1.0, 2.0, 3.0]).unwrap().trace(&tape);
//! let loss = (x.clone() * x.clone()).sum_all(); // sum of x², so d/dx = 2x
//! let grads = loss.backward();
//! assert_eq!(grads.get(&x).unwrap().to_vec(), vec![2.0, 4.0, 6.0]);
//! ```

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::element::Element;
use crate::memory::Buffer;

/// Identifies a tensor value; clones and traced copies share it, and an in-place update keeps
/// it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TensorId(u64);

impl TensorId {
    /// A fresh id, larger than every id made before it.
    pub fn fresh() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        TensorId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// One op's backward pass: given the gradient of its output, add to its inputs' gradients.
pub type BackwardFn<E> = Box<dyn FnOnce(&[E], &mut Gradients<E>) + Send>;

/// What the tape knows of one recorded op: its name and sizes, to check the gradients its
/// backward pass adds (and to name it when one is wrong), and the pass itself.
struct Entry<E: Element> {
    output: TensorId,
    /// Elements in the output: the length of the gradient the pass receives.
    output_len: usize,
    op: &'static str,
    /// Each traced input's id and element count: the length its gradient must have.
    inputs: Vec<(TensorId, usize)>,
    backward: BackwardFn<E>,
}

struct TapeState<E: Element> {
    /// Ops recorded since the last backward, oldest first.
    entries: Vec<Entry<E>>,
    /// Computed tensors of this generation whose gradient `backward()` keeps (they were passed
    /// to `trace`): `grads.get` finds it, as PyTorch's `retain_grad()`.
    retained: Vec<TensorId>,
    /// How many times the log was consumed (by `backward` or `clear`).
    generation: u64,
    /// Live [`NoGrad`] guards: while above 0, nothing is recorded.
    paused: usize,
}

/// The log of backward closures shared by every tensor computed from traced tensors.
pub struct Tape<E: Element>(Arc<Mutex<TapeState<E>>>);

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
        let state = self.lock();
        write!(
            f,
            "Tape({} ops, generation {})",
            state.entries.len(),
            state.generation
        )
    }
}

impl<E: Element> PartialEq for Tape<E> {
    /// Two handles of one tape.
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl<E: Element> Tape<E> {
    /// An empty tape.
    pub fn new() -> Self {
        Tape(Arc::new(Mutex::new(TapeState {
            entries: Vec::new(),
            retained: Vec::new(),
            generation: 0,
            paused: 0,
        })))
    }

    /// The number of ops recorded and not yet replayed.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether no op is recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many times the recorded ops were consumed (by `backward()` or [`clear`](Self::clear)).
    pub fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// Drops every recorded op (and what its closure kept alive) without computing gradients,
    /// as a `backward()` would; tensors computed before it can no longer be used in ops.
    pub fn clear(&self) {
        let dropped = {
            let mut state = self.lock();
            state.generation += 1;
            state.retained.clear();
            std::mem::take(&mut state.entries)
        };
        drop(dropped); // outside the lock: closures drop tensors' buffers
    }

    /// Stops recording until the guard is dropped, like `with torch.no_grad():`. Ops on
    /// tensors traced on this tape compute their values only; their results are untraced.
    ///
    /// ```
    /// use shapetorch::prelude::*;
    /// let tape = Tape::new();
    /// let w = Tensor1::<f32, 3>::ones().trace(&tape);
    /// {
    ///     let _no_grad = tape.no_grad();
    ///     let y = w.exp();
    ///     assert!(!y.is_traced());
    /// }
    /// assert!(tape.is_empty());
    /// assert!(w.exp().is_traced());
    /// ```
    pub fn no_grad(&self) -> NoGrad<E> {
        self.lock().paused += 1;
        NoGrad(self.clone())
    }

    fn lock(&self) -> MutexGuard<'_, TapeState<E>> {
        // A panic inside a backward closure poisons the lock; the log itself stays valid.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records `entry`; returns its output's trace, or `None` (and records nothing) while a
    /// [`NoGrad`] guard lives.
    fn record(&self, entry: Entry<E>) -> Option<Trace<E>> {
        let mut state = self.lock();
        if state.paused > 0 {
            return None;
        }
        state.entries.push(entry);
        Some(Trace {
            tape: self.clone(),
            made_in: Some(state.generation),
        })
    }

    /// Keeps the gradient of the computed tensor `id` in the next `backward()`'s result.
    fn retain(&self, id: TensorId) {
        let mut state = self.lock();
        if !state.retained.contains(&id) {
            state.retained.push(id);
        }
    }
}

/// While it lives, its tape records nothing ([`Tape::no_grad`]).
#[must_use = "recording resumes as soon as the guard is dropped"]
pub struct NoGrad<E: Element>(Tape<E>);

impl<E: Element> Drop for NoGrad<E> {
    fn drop(&mut self) {
        self.0.lock().paused -= 1;
    }
}

/// A tensor's link to its tape: which tape, and for a tensor made by an op, the generation it
/// was made in (a leaf, traced with `trace`, is valid in every generation).
#[derive(Clone)]
pub struct Trace<E: Element> {
    tape: Tape<E>,
    made_in: Option<u64>,
}

impl<E: Element> Trace<E> {
    /// The trace of a leaf: a tensor that wants its gradient (a parameter or a traced input).
    pub(crate) fn leaf(tape: &Tape<E>) -> Self {
        Trace {
            tape: tape.clone(),
            made_in: None,
        }
    }

    /// The tape.
    pub(crate) fn tape(&self) -> &Tape<E> {
        &self.tape
    }

    /// Traces, on `tape`, the tensor `id` that carries this trace: what `tensor.trace(&tape)`
    /// does. A leaf, or a tensor of an earlier generation or another tape, becomes a leaf of
    /// `tape` (`None` here: the caller makes the leaf). A tensor computed on `tape` in this
    /// generation keeps its trace, so its gradient still flows to its inputs, and `tape` keeps
    /// its gradient for `grads.get` too (`Some`, the same trace).
    pub(crate) fn retrace(&self, id: TensorId, tape: &Tape<E>) -> Option<Trace<E>> {
        let computed_now = self.tape == *tape && self.made_in == Some(tape.generation());
        computed_now.then(|| {
            tape.retain(id);
            self.clone()
        })
    }

    /// Records an op with these inputs (each one's trace, id and element count) and returns
    /// its output's trace: `None` when no input is traced (the op costs its forward pass only)
    /// or the tape is paused. The tape keeps `op`, the output's length and the traced inputs'
    /// lengths, to check the gradients `backward` adds.
    ///
    /// Panics, naming `op`, when the inputs carry two different tapes, or when one was made
    /// before its tape's last `backward()` (its ops are gone, so no gradient could reach it).
    pub(crate) fn record(
        op: &'static str,
        inputs: &[(Option<&Trace<E>>, TensorId, usize)],
        (output, output_len): (TensorId, usize),
        backward: BackwardFn<E>,
    ) -> Option<Trace<E>> {
        let traced = || {
            inputs
                .iter()
                .filter_map(|(trace, id, len)| trace.map(|t| (t, *id, *len)))
        };
        let mut tape: Option<&Tape<E>> = None;
        for (trace, _, _) in traced() {
            match tape {
                None => tape = Some(&trace.tape),
                Some(t) => assert!(
                    *t == trace.tape,
                    "autodiff: {op} got tensors traced on two different tapes; \
                     trace every tensor of one computation on the same tape \
                     (or detach() the one that should be a constant)"
                ),
            }
        }
        let tape = tape?;
        let generation = tape.generation();
        for (trace, _, _) in traced() {
            if let Some(made_in) = trace.made_in {
                assert!(
                    made_in == generation,
                    "autodiff: {op} got a tensor computed before the last backward() on its \
                     tape, which consumed the ops that made it; recompute it after backward(), \
                     or detach() it to use its values as a constant"
                );
            }
        }
        tape.record(Entry {
            output,
            output_len,
            op,
            inputs: traced().map(|(_, id, len)| (id, len)).collect(),
            backward,
        })
    }

    /// Walks the ops recorded in this generation from the newest to the oldest, starting from
    /// `loss` (gradient 1), and returns the gradients of every traced tensor the loss depends
    /// on. Consumes the recorded ops and starts the next generation; the log keeps its capacity.
    pub(crate) fn backward(&self, loss: TensorId) -> Gradients<E> {
        let (mut entries, retained) = {
            let mut state = self.tape.lock();
            if let Some(made_in) = self.made_in {
                assert!(
                    made_in == state.generation,
                    "backward: this loss was computed before an earlier backward() on the same \
                     tape consumed its ops; to combine two losses, call backward() once on their \
                     sum ((a + b).backward()), or recompute the loss"
                );
            }
            state.generation += 1;
            (
                std::mem::take(&mut state.entries),
                std::mem::take(&mut state.retained),
            )
        };
        let mut grads = Gradients::seeded(loss);
        // Ids grow with creation, so sorting restores creation order (a no-op for one thread).
        entries.sort_by_key(|e| e.output);
        for entry in entries.drain(..).rev() {
            // Every consumer of `entry.output` was recorded later, so its gradient is final.
            let Some(grad_out) = grads.grads.remove(&entry.output) else {
                continue;
            };
            // A closure that added to a tensor it did not list as an input is caught here.
            assert_eq!(
                grad_out.len(),
                entry.output_len,
                "autodiff: the gradient of the output of `{}` has {} elements, the output has \
                 {}: the backward pass of an op that used it added a gradient of the wrong length",
                entry.op,
                grad_out.len(),
                entry.output_len
            );
            if retained.contains(&entry.output) {
                grads
                    .grads
                    .insert(entry.output, Buffer::from(grad_out.to_vec()));
            }
            grads.running = Some((entry.op, entry.inputs));
            (entry.backward)(&grad_out, &mut grads);
            grads.running = None;
        }
        let mut state = self.tape.lock();
        if state.entries.is_empty() {
            state.entries = entries; // empty, with the capacity the next step needs
        }
        grads
    }
}

/// Gradients from one `backward()`, keyed by tensor id.
///
/// Holds the gradient of every traced tensor that the loss depends on and that no op produced
/// (parameters and traced inputs), and of every computed tensor passed to `trace` in the
/// step. Gradients of other intermediate results are freed as soon as the walk has passed
/// them. Typed access (`grads.get(&w)`, `grads.take(&w)`) is in
/// [`crate::tensor`].
pub struct Gradients<E: Element> {
    grads: HashMap<TensorId, Buffer<E>>,
    /// While an op's backward pass runs: its name and its traced inputs' ids and lengths, which
    /// [`accumulator`](Self::accumulator) checks.
    running: Option<(&'static str, Vec<(TensorId, usize)>)>,
}

impl<E: Element> std::fmt::Debug for Gradients<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Gradients({} tensors)", self.grads.len())
    }
}

impl<E: Element> Gradients<E> {
    /// The gradients of a `backward()` from `loss`: d loss / d loss = 1.
    pub(crate) fn seeded(loss: TensorId) -> Self {
        let mut grads = HashMap::new();
        grads.insert(loss, Buffer::from(vec![E::one()]));
        Gradients {
            grads,
            running: None,
        }
    }

    /// The raw gradient of a tensor id, row-major.
    pub fn get_raw(&self, id: TensorId) -> Option<&[E]> {
        self.grads.get(&id).map(|g| &g[..])
    }

    /// Removes and returns the raw gradient of a tensor id (no copy).
    pub fn take_raw(&mut self, id: TensorId) -> Option<Buffer<E>> {
        self.grads.remove(&id)
    }

    /// The number of tensors with a gradient.
    pub fn len(&self) -> usize {
        self.grads.len()
    }

    /// Whether no tensor has a gradient.
    pub fn is_empty(&self) -> bool {
        self.grads.is_empty()
    }

    /// The gradient buffer of `id` for a backward closure to add into: zeros of length `len`
    /// the first time, the sum so far after that.
    ///
    /// Panics, naming the op whose backward pass is running, when `len` is not the element
    /// count of the input `id` (as recorded with the op), or when an earlier call gave `id`
    /// another length: a bug in a backward closure, caught where it happens rather than in a
    /// later op.
    pub fn accumulator(&mut self, id: TensorId, len: usize) -> &mut [E] {
        let op = self.running.as_ref().map_or("an op", |(op, _)| *op);
        if let Some((_, inputs)) = &self.running {
            if let Some(&(_, expected)) = inputs.iter().find(|(input, _)| *input == id) {
                assert!(
                    expected == len,
                    "autodiff: the backward pass of `{op}` adds a gradient of {len} elements to \
                     an input of {expected} elements"
                );
            }
        }
        let buf = self.grads.entry(id).or_insert_with(|| Buffer::zeroed(len));
        assert!(
            buf.len() == len,
            "autodiff: the backward pass of `{op}` adds a gradient of {len} elements to a \
             tensor whose gradient has {} elements",
            buf.len()
        );
        buf
    }

    /// Adds `delta` into the gradient of `id`.
    pub fn add(&mut self, id: TensorId, delta: &[E]) {
        for (g, d) in self.accumulator(id, delta.len()).iter_mut().zip(delta) {
            *g += *d;
        }
    }
}
