//! Integer tensors for ids and class labels: [`IndexTensor<S, N>`] holds indices below `N`,
//! checked when it is built, so the ops that use them (embedding lookups, `nll_loss`) cannot
//! index out of range, and the compiler checks `N` against the vocabulary or class count.
//!
//! ```
//! use shapetorch::prelude::*;
//! // Three class labels out of 10 classes, a runtime batch.
//! let labels = IndexTensor::<(usize,), 10>::from_vec_shaped((3,), vec![7, 0, 9]).unwrap();
//! assert_eq!(labels.as_slice(), &[7, 0, 9]);
//! // An id out of range is an error naming it, where it is, and the bound.
//! let err = IndexTensor::<Rank1<2>, 10>::from_slice(&[3, 12]).unwrap_err();
//! assert_eq!(
//!     err.to_string(),
//!     "from_slice: index 12 at [1] is out of range: the values must lie in 0..10"
//! );
//! ```

use std::fmt;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::shape::markers::embedding;
use crate::shape::{fmt_dims, ConstShape, Dim, Dimension, LabelsFor, Shape, VocabularyFor};

/// A tensor of indices (`usize`), each below `N`, with a typed shape `S`: class labels
/// (`IndexTensor<(usize,), 10>` for a batch of digit labels) or token ids
/// (`IndexTensor<(usize, Dim<50>), VOCAB>`), like PyTorch's int64 index tensors.
///
/// The bound is checked on construction (an out-of-range value is an [`Error`] naming it),
/// so every op that takes one can index with it freely. Storage is shared between clones;
/// index tensors take no part in autodiff.
pub struct IndexTensor<S: Shape, const N: usize> {
    shape: S,
    data: Arc<Vec<usize>>,
}

impl<S: Shape, const N: usize> Clone for IndexTensor<S, N> {
    fn clone(&self) -> Self {
        IndexTensor {
            shape: self.shape,
            data: Arc::clone(&self.data),
        }
    }
}

impl<S: Shape, const N: usize> IndexTensor<S, N> {
    /// The same ids with the bound `M`, sharing the storage. Called only where a trait bound
    /// has proven `M == N` at compile time (the class and vocabulary guards of
    /// `shape::lookup`), so every id stays below the new bound.
    pub(crate) fn rebound<const M: usize>(&self) -> IndexTensor<S, M> {
        debug_assert!(
            self.data.iter().all(|&i| i < M),
            "rebound: an id is not below {M}"
        );
        IndexTensor {
            shape: self.shape,
            data: Arc::clone(&self.data),
        }
    }

    /// `data` (row-major) in `shape`, or an error naming the first value `>= N` and its
    /// position, or both lengths when they differ.
    pub fn from_vec_shaped(shape: S, data: Vec<usize>) -> Result<Self> {
        Self::checked(shape, data, "from_vec")
    }

    /// Indices of any integer type (`u8` labels, `i64` ids) in `shape`; a negative value or
    /// one `>= N` is an error naming it and its position.
    pub fn from_ints_shaped<T>(shape: S, values: &[T]) -> Result<Self>
    where
        T: Copy + TryInto<usize> + Into<i128>,
    {
        let mut data = Vec::with_capacity(values.len());
        for (i, &v) in values.iter().enumerate() {
            match v.try_into() {
                Ok(u) => data.push(u),
                Err(_) => {
                    return Err(Self::out_of_range(&shape, "from_ints", i, v.into()));
                }
            }
        }
        Self::checked(shape, data, "from_ints")
    }

    /// A tensor whose sizes are given at run time (`dims`), checked against the type's static
    /// dims and rank, holding `data`.
    pub fn from_dims(dims: &[usize], data: Vec<usize>) -> Result<Self> {
        let shape = S::from_dims(dims).ok_or_else(|| Error::Shape {
            op: "from_dims",
            expected: std::any::type_name::<S>().replace("shapetorch::shape::", ""),
            found: dims.to_vec(),
        })?;
        Self::checked(shape, data, "from_dims")
    }

    /// The checked constructor behind every public one.
    fn checked(shape: S, data: Vec<usize>, op: &'static str) -> Result<Self> {
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
        if let Some(i) = data.iter().position(|&v| v >= N) {
            return Err(Self::out_of_range(&shape, op, i, data[i] as i128));
        }
        Ok(IndexTensor {
            shape,
            data: Arc::new(data),
        })
    }

    fn out_of_range(shape: &S, op: &'static str, flat: usize, value: i128) -> Error {
        Error::IndexOutOfRange {
            op,
            position: shape.unravel(flat).as_ref().to_vec(),
            value,
            bound: N,
        }
    }

    /// A tensor of `shape` whose element at each multi-index is `f(index)`, checked like
    /// [`from_vec_shaped`](Self::from_vec_shaped).
    pub fn from_fn_shaped(shape: S, mut f: impl FnMut(S::Dims) -> usize) -> Result<Self> {
        let data = (0..shape.numel()).map(|i| f(shape.unravel(i))).collect();
        Self::checked(shape, data, "from_fn")
    }

    /// The shape's value.
    pub fn shape(&self) -> &S {
        &self.shape
    }

    /// The sizes of the dims, outermost first.
    pub fn dims(&self) -> S::Dims {
        self.shape.dims()
    }

    /// The number of indices.
    pub fn numel(&self) -> usize {
        self.data.len()
    }

    /// The indices, row-major; each is below `N`.
    pub fn as_slice(&self) -> &[usize] {
        &self.data
    }

    /// The indices, row-major, copied into a `Vec`.
    pub fn to_vec(&self) -> Vec<usize> {
        self.data.to_vec()
    }

    /// The index at a multi-index, or `None` when out of bounds.
    pub fn get(&self, index: S::Dims) -> Option<usize> {
        self.shape.offset(index).map(|i| self.data[i])
    }

    /// The same indices in the shape `dst`; panics naming both shapes when the element counts
    /// differ.
    pub fn reshape_to<Dst: Shape>(&self, dst: Dst) -> IndexTensor<Dst, N> {
        assert!(
            dst.numel() == self.numel(),
            "reshape: {} has {} elements, {} has {}",
            fmt_dims(self.dims().as_ref()),
            self.numel(),
            fmt_dims(dst.dims().as_ref()),
            dst.numel()
        );
        IndexTensor {
            shape: dst,
            data: Arc::clone(&self.data),
        }
    }

    /// A tensor built from indices already known to be below `N` (ops that compute them,
    /// such as `argmax`).
    pub(crate) fn from_valid(shape: S, data: Vec<usize>) -> Self {
        assert_eq!(
            shape.numel(),
            data.len(),
            "index data does not fill its shape"
        );
        debug_assert!(data.iter().all(|&v| v < N));
        IndexTensor {
            shape,
            data: Arc::new(data),
        }
    }
}

impl<S: ConstShape, const N: usize> IndexTensor<S, N> {
    /// `data` (row-major), checked: its length, and every value below `N`.
    pub fn from_vec(data: Vec<usize>) -> Result<Self> {
        Self::from_vec_shaped(S::default(), data)
    }

    /// A copy of `data` (row-major), checked like [`from_vec`](Self::from_vec).
    pub fn from_slice(data: &[usize]) -> Result<Self> {
        Self::checked(S::default(), data.to_vec(), "from_slice")
    }

    /// Indices of any integer type, checked like
    /// [`from_ints_shaped`](Self::from_ints_shaped).
    pub fn from_ints<T>(values: &[T]) -> Result<Self>
    where
        T: Copy + TryInto<usize> + Into<i128>,
    {
        Self::from_ints_shaped(S::default(), values)
    }

    /// A tensor whose element at each multi-index is `f(index)`, checked.
    pub fn from_fn(f: impl FnMut(S::Dims) -> usize) -> Result<Self> {
        Self::from_fn_shaped(S::default(), f)
    }
}

impl<S: Shape, const N: usize> std::ops::Index<S::Dims> for IndexTensor<S, N> {
    type Output = usize;
    /// The index at a multi-index; panics naming the index and the shape when out of bounds.
    fn index(&self, index: S::Dims) -> &usize {
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

impl<S: Shape, const N: usize> fmt::Debug for IndexTensor<S, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "IndexTensor(shape {}, values below {N}: {:?})",
            fmt_dims(self.dims().as_ref()),
            self.data
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Ids as the argument of a lookup: the class and vocabulary checks (guards in shape/lookup.rs)
// ---------------------------------------------------------------------------------------------

/// The labels of scores `[B, C]`: an [`IndexTensor`] `[B]` of ids below `C`. The bound of
/// `nll_loss` and `cross_entropy` (`Op`) on their labels argument.
#[diagnostic::on_unimplemented(
    message = "{Op}: the labels must be an `IndexTensor<({B},), {C}>` (one class id below {C} for each of the batch's rows); they are `{Self}`",
    label = "not the labels of these scores"
)]
pub trait ClassLabels<Op, B: Dimension, const C: usize> {
    /// The class ids, one per row (the same storage).
    fn class_ids(&self) -> IndexTensor<(B,), C>;
}

// Blanket over the labels' type (their bound comes from `Ids`): a mismatch is reported as
// the guard alone, without a quote of this impl.
impl<L, Op, B: Dimension, const C: usize> ClassLabels<Op, B, C> for L
where
    L: Ids<Shape = (B,)>,
    Op: LabelsFor<L::Bound, C>,
{
    fn class_ids(&self) -> IndexTensor<(B,), C> {
        self.rebound_to()
    }
}

/// An [`IndexTensor`]'s shape and bound as types, for the lookup checks.
#[doc(hidden)]
pub trait Ids {
    /// The ids' shape.
    type Shape: Shape;
    /// `Dim<N>` for ids below `N`.
    type Bound;
    /// The same ids with the bound `M` (called only where `M` is proven equal to the bound).
    fn rebound_to<const M: usize>(&self) -> IndexTensor<Self::Shape, M>;
}

#[diagnostic::do_not_recommend]
impl<S: Shape, const N: usize> Ids for IndexTensor<S, N> {
    type Shape = S;
    type Bound = Dim<N>;
    fn rebound_to<const M: usize>(&self) -> IndexTensor<S, M> {
        self.rebound()
    }
}

/// Token ids for a table of `V` rows: an [`IndexTensor`] of any shape with ids below `V`. The
/// bound of `embedding` on its ids argument.
#[diagnostic::on_unimplemented(
    message = "embedding: the ids must be an `IndexTensor<_, {V}>` (ids below the table's {V} rows); they are `{Self}`",
    label = "not ids for this table"
)]
pub trait TokenIds<const V: usize> {
    /// The ids' shape.
    type Shape: Shape;
    /// The ids (the same storage).
    fn token_ids(&self) -> IndexTensor<Self::Shape, V>;
}

impl<L: Ids, const V: usize> TokenIds<V> for L
where
    embedding: VocabularyFor<L::Bound, V>,
{
    type Shape = L::Shape;
    fn token_ids(&self) -> IndexTensor<L::Shape, V> {
        self.rebound_to()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shape::{Dim, Rank2};

    #[test]
    fn values_at_or_above_the_bound_are_errors_naming_value_position_and_bound() {
        let err = IndexTensor::<Rank2<2, 3>, 5>::from_slice(&[0, 1, 2, 3, 4, 5]).unwrap_err();
        assert_eq!(
            err,
            Error::IndexOutOfRange {
                op: "from_slice",
                position: vec![1, 2],
                value: 5,
                bound: 5
            }
        );
        let ok = IndexTensor::<Rank2<2, 3>, 5>::from_slice(&[0, 1, 2, 3, 4, 4]).unwrap();
        assert_eq!(ok[[1, 1]], 4);
        assert_eq!(ok.get([2, 0]), None);
    }

    #[test]
    fn negative_and_wide_integers_are_checked() {
        let err = IndexTensor::<(usize,), 100>::from_ints_shaped((3,), &[5i64, -1, 7]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "from_ints: index -1 at [1] is out of range: the values must lie in 0..100"
        );
        let labels =
            IndexTensor::<(usize, Dim<2>), 10>::from_ints_shaped((2, Dim), &[1u8, 9, 0, 3])
                .unwrap();
        assert_eq!(labels.to_vec(), vec![1, 9, 0, 3]);
        let err = IndexTensor::<(usize,), 10>::from_ints_shaped((2,), &[1u8, 10]).unwrap_err();
        assert!(err.to_string().contains("index 10 at [1]"), "{err}");
    }

    #[test]
    fn lengths_and_runtime_dims_are_checked() {
        let err = IndexTensor::<Rank2<2, 3>, 5>::from_vec(vec![0; 5]).unwrap_err();
        assert!(matches!(
            err,
            Error::Length {
                expected: 6,
                found: 5,
                ..
            }
        ));
        let err = IndexTensor::<(usize, Dim<3>), 5>::from_dims(&[2, 4], vec![0; 8]).unwrap_err();
        assert!(matches!(err, Error::Shape { .. }));
        let ids = IndexTensor::<(usize, Dim<3>), 5>::from_dims(&[2, 3], vec![1; 6]).unwrap();
        let flat = ids.reshape_to((6usize,));
        assert_eq!(flat.dims(), [6]);
        let from_fn = IndexTensor::<Rank2<2, 2>, 4>::from_fn(|[i, j]| 2 * i + j).unwrap();
        assert_eq!(from_fn.to_vec(), vec![0, 1, 2, 3]);
        assert!(IndexTensor::<Rank2<2, 2>, 3>::from_fn(|[i, j]| 2 * i + j).is_err());
    }
}
