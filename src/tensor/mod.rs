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

mod display;
mod element;
mod elementwise;
mod gemm;
mod matmul;
mod random;
mod reduce;
mod views;

pub use element::Element;
pub(crate) use gemm::{matmul_into, MatRef};
pub use random::Rng;

use std::sync::Arc;

use crate::autodiff::{BackwardFn, Gradients, Tape, TensorId};
use crate::error::{Error, Result};
use crate::shape::{fmt_dims, ConstShape, Dim, Shape};

/// A tensor of elements `E` whose shape `S` is a type: `Tensor<f32, Rank4<64, 1, 28, 28>>`.
///
/// Storage is contiguous and row-major (NCHW for images), shared between clones. A tensor may be
/// traced on a [`Tape`] to take part in autodiff.
pub struct Tensor<E: Element, S: Shape> {
    shape: S,
    data: Arc<Vec<E>>,
    id: TensorId,
    tape: Option<Tape<E>>,
}

impl<E: Element, S: Shape> Clone for Tensor<E, S> {
    /// Shares the data; the clone is the same value for autodiff (same id, same tape).
    fn clone(&self) -> Self {
        Tensor {
            shape: self.shape,
            data: Arc::clone(&self.data),
            id: self.id,
            tape: self.tape.clone(),
        }
    }
}

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
    /// A tensor from its shape and row-major data of matching length (checked by callers).
    pub(crate) fn from_parts(shape: S, data: impl Into<Arc<Vec<E>>>) -> Self {
        let data = data.into();
        // Every kernel trusts `data.len() == shape.numel()`; keep it true in release builds too.
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
            tape: None,
        }
    }

    /// An op's result: if `tape` is set, records `backward` (given the gradient of the result,
    /// it adds into the inputs' gradients) and traces the result on it.
    pub(crate) fn from_op(
        shape: S,
        data: impl Into<Arc<Vec<E>>>,
        tape: Option<Tape<E>>,
        backward: impl FnOnce(&[E], &mut Gradients<E>) + Send + 'static,
    ) -> Self {
        let mut out = Self::from_parts(shape, data);
        if let Some(tape) = tape {
            let f: BackwardFn<E> = Box::new(backward);
            tape.push(out.id, f);
            out.tape = Some(tape);
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

    /// The shared storage (for backward closures that need this tensor's values).
    pub(crate) fn data_arc(&self) -> Arc<Vec<E>> {
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
        self.tape.as_ref()
    }

    /// The tape slot, for ops that join their inputs' tapes ([`Tape::join`]).
    pub(crate) fn tape_slot(&self) -> &Option<Tape<E>> {
        &self.tape
    }

    /// Whether this tensor is traced (its gradient, or its inputs', will be computed).
    pub fn is_traced(&self) -> bool {
        self.tape.is_some()
    }

    /// The same value, traced on `tape`: ops on it record their backward pass there, and
    /// `backward()` computes its gradient. Shares data and id with `self`, so
    /// `grads.get(&self)` finds the gradient too.
    pub fn trace(&self, tape: &Tape<E>) -> Self {
        Tensor {
            tape: Some(tape.clone()),
            ..self.clone()
        }
    }

    /// The same values, cut from the tape: no gradient flows through the result.
    pub fn detach(&self) -> Self {
        Tensor {
            shape: self.shape,
            data: Arc::clone(&self.data),
            id: TensorId::fresh(),
            tape: None,
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
