//! The shape of a lookup by index: the ids' shape with one more dim ([`AppendDim`]), for
//! `embedding` (`[B, T]` ids → `[B, T, D]`) and `one_hot` (`[B, T]` ids → `[B, T, V]`).
//!
//! The other relation of a lookup, the ids' bound against what they index (the class count of
//! `nll_loss` and `cross_entropy`, the vocabulary of `embedding`), needs no trait: the ops take
//! an `IndexTensor<_, C>` with the scores' own `C` (the table's own `V`), so a mismatch is a
//! type mismatch naming both numbers (``expected `10`, found `5` ``). A marker trait with its
//! own message was tried (`where (): ClassesMatch<C, N>`): rustc infers `N` from its one impl
//! before it reads the argument, so the message never shows.
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
//! logits.cross_entropy(&labels); // expected `10`, found `5`
//! ```

use super::{Dimension, Shape};

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
