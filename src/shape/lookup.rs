//! The shape of a lookup by index: the ids' shape with one more dim ([`AppendDim`]), for
//! `embedding` (`[B, T]` ids → `[B, T, D]`) and `one_hot` (`[B, T]` ids → `[B, T, V]`).
//!
//! The other relation of a lookup is the ids' bound against what they index: the class count
//! of `nll_loss` and `cross_entropy`, the vocabulary of `embedding`, the class count of
//! `argmax`'s and `one_hot`'s results. Each is a guard whose message says "classes" or
//! "vocabulary" with both numbers ("cross_entropy: the labels are for 5 classes, the scores
//! have 10"). The ops take their ids as a generic argument bounded by the guard's relation
//! ([`ClassLabels`](crate::tensor::ClassLabels), [`TokenIds`](crate::tensor::TokenIds)): a guard with a single impl for equal numbers, asked while
//! the ids' type is still unknown, would let the compiler *infer* one count from the other and
//! report a bare `expected 10, found 5` instead.
//!
//! ```
//! use shapetorch::shape::{AppendDim, Dim};
//! let ids_shape: (usize, Dim<7>) = (4, Dim);
//! let out: (usize, Dim<7>, Dim<16>) = ids_shape.append(Dim::<16>);
//! assert_eq!(out, (4, Dim, Dim));
//! ```
//!
//! ```compile_fail
//! use shapetorch::prelude::*;
//! let logits = Tensor2::<f32, 2, 10>::zeros();
//! let labels = IndexTensor::<Rank1<2>, 5>::from_slice(&[1, 4]).unwrap();
//! logits.cross_entropy(&labels); // cross_entropy: the labels are for 5 classes, the scores have 10
//! ```

use super::{Dim, Dimension, Shape};

/// `Self` with the dim `D` appended last: the shape of a lookup of rows of `D` values at ids of
/// shape `Self` (`embedding`: `[B, T]` ids, rows of `D` → `[B, T, D]`), or of a one-hot
/// encoding. Implemented for shapes of rank 0 to 4.
pub trait AppendDim<D: Dimension>: Shape {
    /// The shape with `D` last.
    type Output: Shape;
    /// This shape with `d` last.
    fn append(&self, d: D) -> Self::Output;
}

macro_rules! append_dim {
    ($($d:ident $i:tt),*) => {
        impl<$($d: Dimension,)* D: Dimension> AppendDim<D> for ($($d,)*) {
            type Output = ($($d,)* D,);
            #[inline]
            fn append(&self, d: D) -> Self::Output {
                ($(self.$i,)* d,)
            }
        }
    };
}
append_dim!();
append_dim!(A 0);
append_dim!(A 0, B 1);
append_dim!(A 0, B 1, C 2);
append_dim!(A 0, B 1, C 2, F 3);

/// [`LabelClasses`] on the labels' bound as a dim.
#[doc(hidden)]
pub trait LabelsFor<Bound, const C: usize> {}
impl<T: ?Sized, const N: usize, const C: usize> LabelsFor<Dim<N>, C> for T where
    T: LabelClasses<N, C>
{
}

/// The labels' class count equals the scores'.
#[diagnostic::on_unimplemented(
    message = "{Self}: the labels are for {N} classes, the scores have {C}",
    label = "class counts differ",
    note = "the labels' `IndexTensor<_, N>` bounds their ids by the number of classes N; the scores are [batch, classes]"
)]
pub trait LabelClasses<const N: usize, const C: usize> {}
impl<T: ?Sized, const N: usize> LabelClasses<N, N> for T {}

/// [`Vocabulary`] on the ids' bound as a dim.
#[doc(hidden)]
pub trait VocabularyFor<Bound, const V: usize> {}
impl<T: ?Sized, const N: usize, const V: usize> VocabularyFor<Dim<N>, V> for T where
    T: Vocabulary<N, V>
{
}

/// The ids' vocabulary equals the table's rows.
#[diagnostic::on_unimplemented(
    message = "{Self}: the ids are for a vocabulary of {N}, the table has {V} rows",
    label = "vocabulary sizes differ",
    note = "the ids' `IndexTensor<_, N>` bounds them by the vocabulary N; the table is [vocabulary, dim]"
)]
pub trait Vocabulary<const N: usize, const V: usize> {}
impl<T: ?Sized, const N: usize> Vocabulary<N, N> for T {}

/// A result's class count equals the count it is computed from (`argmax` over an axis of `A`,
/// `one_hot` of ids below `A`).
#[diagnostic::on_unimplemented(
    message = "{Self}: the result is for {N} classes, but there are {A}",
    label = "class counts differ",
    note = "argmax over an axis of A elements gives ids below A; one_hot of ids below A gives A columns"
)]
pub trait ResultClasses<const A: usize, const N: usize> {}
impl<T: ?Sized, const N: usize> ResultClasses<N, N> for T {}

/// `argmax`'s class count `N` against the reduced axis `Axis` (`Dim<A>`, checked by the
/// compiler, or a runtime `usize`, checked when the op runs), asked of the op's marker.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "{Self}: the result is for {N} classes, but the axis is `{Axis}`",
    label = "class counts differ",
    note = "argmax over an axis of A elements gives ids below A"
)]
pub trait AxisClasses<Axis, const N: usize> {}
impl<T: ?Sized, const A: usize, const N: usize> AxisClasses<Dim<A>, N> for T where
    T: ResultClasses<A, N>
{
}
impl<T: ?Sized, const N: usize> AxisClasses<usize, N> for T {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shape::{Dim, Rank2, Rank3};

    fn same_type<T>(_: T, _: T) {}

    #[test]
    fn append_adds_the_dim_last() {
        same_type(<() as AppendDim<Dim<4>>>::append(&(), Dim), (Dim::<4>,));
        let ids: Rank2<2, 3> = Default::default();
        let out: Rank3<2, 3, 8> = ids.append(Dim::<8>);
        assert_eq!(out.dims(), [2, 3, 8]);
        let runtime = (5usize, Dim::<3>, Dim::<2>, 7usize).append(Dim::<9>);
        assert_eq!(runtime.dims(), [5, 3, 2, 7, 9]);
    }
}
