//! Tensors: contiguous row-major storage with a typed shape, constructors, indexing and printing.
//!
//! ```
//! use shapetorch::prelude::*;
//! let x = Tensor2::<f32, 2, 3>::from_fn(|[i, j]| (3 * i + j) as f32);
//! assert_eq!(x[[1, 2]], 5.0);
//! assert_eq!(x.to_string(), "[[0, 1, 2],\n [3, 4, 5]]");
//! // The length is checked against the type's shape:
//! let err = Tensor2::<f32, 2, 3>::from_vec(vec![1.0; 5]).unwrap_err();
//! assert_eq!(err.to_string(), "from_vec: shape [2, 3] needs 6 elements, but 5 were given");
//! ```

mod concat;
mod display;
mod elementwise;
mod gemm;
mod grad;
mod index;
mod matmul;
mod random;
mod reduce;
mod views;

pub use crate::element::Element;
pub(crate) use gemm::{matmul_into, MatRef};
pub use index::{ClassLabels, Ids, IndexTensor, TokenIds};
pub use random::Rng;
pub(crate) use reduce::split_at_axis;

use std::sync::Arc;

use crate::autodiff::{BackwardFn, Gradients, Tape, TensorId, Trace};
use crate::error::{Error, Result};
use crate::memory::Buffer;
use crate::shape::{assert_same_dims, fmt_dims, ConstShape, Dim, Shape};

/// A tensor of elements `E` whose shape `S` is a type: `Tensor<f32, Rank4<64, 1, 28, 28>>`.
///
/// Storage is contiguous and row-major (NCHW for images), shared between clones. A tensor may be
/// traced on a [`Tape`] to take part in autodiff.
pub struct Tensor<E: Element, S: Shape> {
    shape: S,
    data: Arc<Buffer<E>>,
    id: TensorId,
    trace: Option<Trace<E>>,
}

impl<E: Element, S: Shape> Clone for Tensor<E, S> {
    /// Shares the data; the clone is the same value for autodiff (same id, same tape).
    fn clone(&self) -> Self {
        Tensor {
            shape: self.shape,
            data: Arc::clone(&self.data),
            id: self.id,
            trace: self.trace.clone(),
        }
    }
}

/// What a tensor's storage can be made from: a `Vec` (taken, not copied), a [`Buffer`], or
/// shared storage.
pub trait IntoStorage<E: Element> {
    /// The shared storage.
    fn into_storage(self) -> Arc<Buffer<E>>;
}

impl<E: Element> IntoStorage<E> for Vec<E> {
    fn into_storage(self) -> Arc<Buffer<E>> {
        Arc::new(Buffer::from(self))
    }
}

impl<E: Element> IntoStorage<E> for Buffer<E> {
    fn into_storage(self) -> Arc<Buffer<E>> {
        Arc::new(self)
    }
}

impl<E: Element> IntoStorage<E> for Arc<Buffer<E>> {
    fn into_storage(self) -> Arc<Buffer<E>> {
        self
    }
}

/// An input of an op, for [`Tensor::from_op`]: any tensor of element type `E`, whatever its
/// shape.
pub trait OpInput<E: Element> {
    /// The input's link to its tape, if it is traced.
    fn op_trace(&self) -> Option<&Trace<E>>;
    /// The input's id: where its gradient goes.
    fn op_id(&self) -> TensorId;
    /// The input's element count: the length its gradient must have.
    fn op_len(&self) -> usize;
}

impl<E: Element, S: Shape> OpInput<E> for Tensor<E, S> {
    fn op_trace(&self) -> Option<&Trace<E>> {
        self.trace.as_ref()
    }
    fn op_id(&self) -> TensorId {
        self.id
    }
    fn op_len(&self) -> usize {
        self.numel()
    }
}

/// An op's inputs as the tape records them: trace, id and element count (ops have a few).
type SmallTraces<'a, E> = Vec<(Option<&'a Trace<E>>, TensorId, usize)>;

/// A rank-0 tensor (a scalar).
pub type Tensor0<E> = Tensor<E, ()>;
/// A static rank-1 tensor `[A]`.
pub type Tensor1<E, const A: usize> = Tensor<E, (Dim<A>,)>;
/// A static rank-2 tensor `[A, B]`.
pub type Tensor2<E, const A: usize, const B: usize> = Tensor<E, (Dim<A>, Dim<B>)>;
/// A static rank-3 tensor `[A, B, C]`.
pub type Tensor3<E, const A: usize, const B: usize, const C: usize> =
    Tensor<E, (Dim<A>, Dim<B>, Dim<C>)>;
/// A static rank-4 tensor `[A, B, C, D]`.
pub type Tensor4<E, const A: usize, const B: usize, const C: usize, const D: usize> =
    Tensor<E, (Dim<A>, Dim<B>, Dim<C>, Dim<D>)>;
/// A static rank-5 tensor `[A, B, C, D, F]`.
pub type Tensor5<
    E,
    const A: usize,
    const B: usize,
    const C: usize,
    const D: usize,
    const F: usize,
> = Tensor<E, (Dim<A>, Dim<B>, Dim<C>, Dim<D>, Dim<F>)>;

impl<E: Element, S: Shape> Tensor<E, S> {
    /// A tensor from its shape and row-major data of matching length.
    ///
    /// Panics when the lengths differ: every kernel trusts `data.len() == shape.numel()`, so
    /// this stays checked in release builds too.
    pub(crate) fn from_parts(shape: S, data: impl IntoStorage<E>) -> Self {
        let data = data.into_storage();
        assert_eq!(
            shape.numel(),
            data.len(),
            "tensor data does not fill shape {}",
            fmt_dims(shape.dims().as_ref())
        );
        Tensor {
            shape,
            data,
            id: TensorId::fresh(),
            trace: None,
        }
    }

    /// An op's result, recorded for autodiff: the way every op in this crate, and any op a
    /// user adds outside it, joins the tape.
    ///
    /// `data` is the output (row-major, filling `shape`); `inputs` are the tensors it was
    /// computed from; `backward` is called by `backward()` with the gradient of this output
    /// (`grad_output`, row-major) and must add each traced input's gradient into
    /// `grads.accumulator(input_id, input_len)`. When no input is traced (or the tape is in
    /// [`no_grad`](Tape::no_grad)), nothing is recorded and the closure is dropped. `op` names the
    /// op in error messages.
    ///
    /// Panics when the inputs are traced on two different tapes, or one was computed before
    /// the last `backward()` on its tape (see [the tape rules](crate::autodiff)). A backward
    /// closure that adds a gradient of the wrong length to one of its `inputs` panics in
    /// `backward()`, naming `op`: "the backward pass of `softplus` adds a gradient of 3
    /// elements to an input of 4 elements".
    ///
    /// A custom op, `softplus(x) = ln(1 + e^x)` with gradient `sigmoid(x)`:
    ///
    /// ```
    /// use shapetorch::prelude::*;
    ///
    /// fn softplus<S: Shape>(x: &Tensor<f64, S>) -> Tensor<f64, S> {
    ///     let y: Vec<f64> = x.as_slice().iter().map(|v| v.exp().ln_1p()).collect();
    ///     // keep only what the gradient needs: the input's values (shared, not copied)
    ///     let (x_id, x_values) = (x.id(), x.storage());
    ///     Tensor::from_op("softplus", *x.shape(), y, &[x], move |grad_y, grads| {
    ///         let grad_x = grads.accumulator(x_id, x_values.len());
    ///         for i in 0..x_values.len() {
    ///             // d/dx ln(1 + e^x) = 1 / (1 + e^-x)
    ///             grad_x[i] += grad_y[i] / (1.0 + (-x_values[i]).exp());
    ///         }
    ///     })
    /// }
    ///
    /// let x = Tensor1::<f64, 4>::randn(3);
    /// gradcheck("softplus", &x, softplus).unwrap();
    /// ```
    pub fn from_op(
        op: &'static str,
        shape: S,
        data: impl IntoStorage<E>,
        inputs: &[&dyn OpInput<E>],
        backward: impl FnOnce(&[E], &mut Gradients<E>) + Send + 'static,
    ) -> Self {
        let mut out = Self::from_parts(shape, data);
        if inputs.iter().any(|x| x.op_trace().is_some()) {
            let traces: SmallTraces<'_, E> = inputs
                .iter()
                .map(|x| (x.op_trace(), x.op_id(), x.op_len()))
                .collect();
            let backward: BackwardFn<E> = Box::new(backward);
            out.trace = Trace::record(op, &traces, (out.id, out.numel()), backward);
        }
        out
    }

    /// The shape's value (static dims are zero-sized; runtime dims hold their size).
    pub fn shape(&self) -> &S {
        &self.shape
    }

    /// The sizes of the dims, outermost first.
    pub fn dims(&self) -> S::Dims {
        self.shape.dims()
    }

    /// The number of elements.
    pub fn numel(&self) -> usize {
        self.data.len()
    }

    /// The elements, row-major.
    pub fn as_slice(&self) -> &[E] {
        &self.data
    }

    /// The elements, row-major, for an in-place change that autodiff does not see: a
    /// parameter update (`w -= lr * grad`). Keeps this tensor's id and trace, so the next
    /// step's `grads.get(&w)` still finds it.
    ///
    /// Copy-on-write: when the storage is shared (a clone, or a backward closure that still
    /// needs the old values), it is copied first, so the others keep the old values. After a
    /// `backward()` nothing else holds a parameter's storage, and the update reuses it.
    ///
    /// ```
    /// use shapetorch::prelude::*;
    /// let tape = Tape::new();
    /// let mut w = Tensor1::<f32, 2>::from_slice(&[1.0, 2.0]).unwrap().trace(&tape);
    /// for _ in 0..3 {
    ///     let grads = (&w * &w).sum_all().backward();       // d/dw sum(w²) = 2w
    ///     let grad = grads.get_raw(w.id()).unwrap();
    ///     for (v, g) in w.data_mut().iter_mut().zip(grad) {
    ///         *v -= 0.25 * g;                                  // w ← w - 0.25·2w = w/2
    ///     }
    /// }
    /// assert_eq!(w.to_vec(), vec![0.125, 0.25]);
    /// ```
    pub fn data_mut(&mut self) -> &mut [E] {
        let buffer: &mut Buffer<E> = Arc::make_mut(&mut self.data);
        buffer
    }

    /// `self -= alpha * rhs`, in place, not recorded ([`data_mut`](Self::data_mut)): the plain
    /// gradient-descent update `w.sub_assign_scaled(&grad, lr)`.
    pub fn sub_assign_scaled(&mut self, rhs: &Tensor<E, S>, alpha: E) {
        assert_same_dims(
            "sub_assign_scaled",
            self.dims().as_ref(),
            rhs.dims().as_ref(),
        );
        for (v, &g) in self.data_mut().iter_mut().zip(rhs.as_slice()) {
            *v = *v - alpha * g;
        }
    }

    /// The shared storage, for a backward closure that needs this tensor's values (a clone
    /// of the handle, not of the data).
    pub fn storage(&self) -> Arc<Buffer<E>> {
        Arc::clone(&self.data)
    }

    /// The elements, row-major, copied into a `Vec`.
    pub fn to_vec(&self) -> Vec<E> {
        self.data.to_vec()
    }

    /// This tensor's autodiff identity.
    pub fn id(&self) -> TensorId {
        self.id
    }

    /// The tape this tensor is traced on, if any.
    pub fn tape(&self) -> Option<&Tape<E>> {
        self.trace.as_ref().map(Trace::tape)
    }

    /// Whether this tensor is traced (its gradient, or its inputs', will be computed).
    pub fn is_traced(&self) -> bool {
        self.trace.is_some()
    }

    /// The id to add this tensor's gradient to in a backward closure, when it is traced.
    pub(crate) fn grad_id(&self) -> Option<TensorId> {
        self.is_traced().then_some(self.id)
    }

    /// The same value, traced on `tape` as a leaf (a parameter or an input whose gradient you
    /// want): ops on it record their backward pass there, and `backward()` computes its
    /// gradient. Shares data and id with `self`, so `grads.get(&self)` finds the gradient too.
    /// A leaf stays valid across `backward()` calls: trace parameters once.
    ///
    /// On a tensor computed by ops on `tape` since its last `backward()`, `trace` keeps it in
    /// the computation (its gradient still flows to the inputs it was computed from) and asks
    /// the next `backward()` to keep its gradient for `grads.get`, like PyTorch's
    /// `retain_grad()`. (It used to make it a leaf with the id of an op's output, whose
    /// gradient the backward walk consumed: `grads.get` found nothing.) To cut such a tensor
    /// from its inputs instead, `detach()` it first.
    ///
    /// ```
    /// use shapetorch::prelude::*;
    /// let tape = Tape::new();
    /// let x = Tensor1::<f64, 2>::from_slice(&[1.0, 2.0]).unwrap().trace(&tape);
    /// let h = x.mul_scalar(3.0).trace(&tape); // computed: h = 3x
    /// let grads = (&h * &h).sum_all().backward(); // sum(h²)
    /// assert_eq!(grads.get(&h).unwrap().to_vec(), vec![6.0, 12.0]); // 2h
    /// assert_eq!(grads.get(&x).unwrap().to_vec(), vec![18.0, 36.0]); // 2h · 3
    /// ```
    pub fn trace(&self, tape: &Tape<E>) -> Self {
        let trace = self
            .trace
            .as_ref()
            .and_then(|t| t.retrace(self.id, tape))
            .unwrap_or_else(|| Trace::leaf(tape));
        Tensor {
            trace: Some(trace),
            ..self.clone()
        }
    }

    /// The same value (same id, shared data), not traced: ops on it record nothing. Unlike
    /// [`detach`](Self::detach), it keeps the id, so it is the same parameter for an
    /// optimiser.
    pub fn untraced(&self) -> Self {
        Tensor {
            trace: None,
            ..self.clone()
        }
    }

    /// The same values, cut from the tape: no gradient flows through the result.
    pub fn detach(&self) -> Self {
        Tensor {
            shape: self.shape,
            data: Arc::clone(&self.data),
            id: TensorId::fresh(),
            trace: None,
        }
    }

    /// The element at a multi-index, or `None` when out of bounds.
    pub fn get(&self, index: S::Dims) -> Option<E> {
        self.shape.offset(index).map(|i| self.data[i])
    }

    /// A tensor of `shape` whose element at each multi-index is `f(index)`.
    pub fn from_fn_shaped(shape: S, mut f: impl FnMut(S::Dims) -> E) -> Self {
        let data: Vec<E> = (0..shape.numel()).map(|i| f(shape.unravel(i))).collect();
        Self::from_parts(shape, data)
    }

    /// A tensor of `shape` filled with `value`.
    pub fn full_shaped(shape: S, value: E) -> Self {
        Self::from_parts(shape, vec![value; shape.numel()])
    }

    /// A tensor of `shape` filled with zeros.
    pub fn zeros_shaped(shape: S) -> Self {
        Self::full_shaped(shape, E::zero())
    }

    /// A tensor of `shape` filled with ones.
    pub fn ones_shaped(shape: S) -> Self {
        Self::full_shaped(shape, E::one())
    }

    /// A tensor of `shape` holding `data` (row-major); an error names both lengths if they
    /// differ.
    pub fn from_vec_shaped(shape: S, data: Vec<E>) -> Result<Self> {
        Self::from_data(shape, data, "from_vec")
    }

    /// `data` in `shape`, or an error naming `op`, the shape and both lengths.
    fn from_data(shape: S, data: Vec<E>, op: &'static str) -> Result<Self> {
        let dims = shape.dims().as_ref().to_vec();
        let Some(expected) = shape.try_numel() else {
            return Err(Error::TooLarge { op, dims });
        };
        if data.len() != expected {
            return Err(Error::Length {
                op,
                shape: dims,
                expected,
                found: data.len(),
            });
        }
        Ok(Self::from_parts(shape, data))
    }

    /// A tensor whose sizes are given at run time (`dims`), checked against the type's static
    /// dims and rank, holding `data`.
    pub fn from_dims(dims: &[usize], data: Vec<E>) -> Result<Self> {
        let shape = S::from_dims(dims).ok_or_else(|| Error::Shape {
            op: "from_dims",
            expected: std::any::type_name::<S>().replace("shapetorch::shape::", ""),
            found: dims.to_vec(),
        })?;
        Self::from_data(shape, data, "from_dims")
    }

    /// Applies `f` to every element (no autodiff: for building values, not for models).
    pub fn map_values(&self, f: impl Fn(E) -> E) -> Self {
        Self::from_parts(
            self.shape,
            self.data.iter().map(|&x| f(x)).collect::<Vec<E>>(),
        )
    }
}

impl<E: Element, S: ConstShape> Tensor<E, S> {
    /// A tensor whose element at each multi-index is `f(index)`.
    pub fn from_fn(f: impl FnMut(S::Dims) -> E) -> Self {
        Self::from_fn_shaped(S::default(), f)
    }

    /// A tensor filled with `value`.
    pub fn full(value: E) -> Self {
        Self::full_shaped(S::default(), value)
    }

    /// A tensor of zeros.
    pub fn zeros() -> Self {
        Self::zeros_shaped(S::default())
    }

    /// A tensor of ones.
    pub fn ones() -> Self {
        Self::ones_shaped(S::default())
    }

    /// A tensor holding `data` (row-major); an error names both lengths if they differ.
    pub fn from_vec(data: Vec<E>) -> Result<Self> {
        Self::from_vec_shaped(S::default(), data)
    }

    /// A tensor holding a copy of `data` (row-major); an error names both lengths if they
    /// differ.
    pub fn from_slice(data: &[E]) -> Result<Self> {
        Self::from_data(S::default(), data.to_vec(), "from_slice")
    }
}

impl<E: Element> Tensor<E, ()> {
    /// A scalar tensor.
    pub fn scalar(value: E) -> Self {
        Self::from_parts((), vec![value])
    }

    /// The value of a scalar tensor.
    pub fn item(&self) -> E {
        self.data[0]
    }
}

impl<E: Element, S: Shape> std::ops::Index<S::Dims> for Tensor<E, S> {
    type Output = E;
    /// The element at a multi-index; panics naming the index and the shape when out of bounds
    /// (use [`Tensor::get`] for an `Option`).
    fn index(&self, index: S::Dims) -> &E {
        match self.shape.offset(index) {
            Some(i) => &self.data[i],
            None => panic!(
                "index {:?} is out of bounds for shape {}",
                index.as_ref(),
                fmt_dims(self.dims().as_ref())
            ),
        }
    }
}
