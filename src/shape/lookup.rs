//! Relations of lookups by index: an [`IndexTensor`](crate::tensor::IndexTensor)'s bound
//! against what it indexes (the class count of `nll_loss` and `cross_entropy`, the vocabulary of
//! `embedding`), and the shape a lookup gives: the ids' shape with one more dim ([`AppendDim`]).
//!
//! The bound checks are const-generic marker traits asked of `()`, implemented only when the
//! two numbers agree, so a mismatch is a compile error whose message prints both in decimal
//! ("nll_loss/cross_entropy: the input has 10 classes, the labels are indices below 5").
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
//! logits.cross_entropy(&labels); // the input has 10 classes, the labels are indices below 5
//! ```

use super::{Dimension, Shape};

/// `nll_loss` and `cross_entropy`: the labels are indices below the input's class count,
/// `N == C`. Implemented only for equal numbers.
#[diagnostic::on_unimplemented(
    message = "nll_loss/cross_entropy: the input has {C} classes, the labels are indices below {N}",
    label = "class counts differ",
    note = "labels for an input [batch, C] are an IndexTensor<(batch,), C>, with the same C"
)]
pub trait ClassesMatch<const C: usize, const N: usize> {}
impl<T: ?Sized, const C: usize> ClassesMatch<C, C> for T {}

/// `embedding`: the ids are indices below the table's row count (the vocabulary size),
/// `N == V`. Implemented only for equal numbers.
#[diagnostic::on_unimplemented(
    message = "embedding: the table has {V} rows, the ids are indices below {N}",
    label = "vocabulary sizes differ",
    note = "ids for a table [V, D] are an IndexTensor<_, V>, with the same V"
)]
pub trait VocabMatches<const V: usize, const N: usize> {}
impl<T: ?Sized, const V: usize> VocabMatches<V, V> for T {}

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
