//! Axis relations between shapes: picking one dim (permutes) and removing one (reductions,
//! broadcasting).

use super::{Dimension, Shape};

/// Axis `I` of a shape, as a typed dim.
pub trait SelectAxis<const I: usize>: Shape {
    /// The dim at axis `I`.
    type Dim: Dimension;
    /// The value of the dim at axis `I`.
    fn select(&self) -> Self::Dim;
}

/// The shape with axis `I` removed: what a reduction over `I` leaves, and what broadcasting
/// along `I` starts from.
pub trait RemoveAxis<const I: usize>: SelectAxis<I> {
    /// The shape without axis `I`.
    type Output: Shape;
    /// This shape without axis `I`.
    fn remove(&self) -> Self::Output;
}

macro_rules! axis {
    ($i:tt; ($($d:ident),+); ($($keep:tt),*) -> $sel:ident; ($($out:ident),*)) => {
        impl<$($d: Dimension),+> SelectAxis<$i> for ($($d,)+) {
            type Dim = $sel;
            #[inline]
            fn select(&self) -> $sel {
                self.$i
            }
        }
        impl<$($d: Dimension),+> RemoveAxis<$i> for ($($d,)+) {
            type Output = ($($out,)*);
            #[inline]
            #[allow(clippy::unused_unit)]
            fn remove(&self) -> Self::Output {
                ($(self.$keep,)*)
            }
        }
    };
}
axis!(0; (A); () -> A; ());
axis!(0; (A, B); (1) -> A; (B));
axis!(1; (A, B); (0) -> B; (A));
axis!(0; (A, B, C); (1, 2) -> A; (B, C));
axis!(1; (A, B, C); (0, 2) -> B; (A, C));
axis!(2; (A, B, C); (0, 1) -> C; (A, B));
axis!(0; (A, B, C, D); (1, 2, 3) -> A; (B, C, D));
axis!(1; (A, B, C, D); (0, 2, 3) -> B; (A, C, D));
axis!(2; (A, B, C, D); (0, 1, 3) -> C; (A, B, D));
axis!(3; (A, B, C, D); (0, 1, 2) -> D; (A, B, C));
axis!(0; (A, B, C, D, F); (1, 2, 3, 4) -> A; (B, C, D, F));
axis!(1; (A, B, C, D, F); (0, 2, 3, 4) -> B; (A, C, D, F));
axis!(2; (A, B, C, D, F); (0, 1, 3, 4) -> C; (A, B, D, F));
axis!(3; (A, B, C, D, F); (0, 1, 2, 4) -> D; (A, B, C, F));
axis!(4; (A, B, C, D, F); (0, 1, 2, 3) -> F; (A, B, C, D));

/// Whether `axes` is a permutation of `0..axes.len()` (usable in `const` checks).
pub(crate) const fn is_permutation(axes: &[usize]) -> bool {
    let mut i = 0;
    while i < axes.len() {
        if axes[i] >= axes.len() {
            return false;
        }
        let mut j = i + 1;
        while j < axes.len() {
            if axes[i] == axes[j] {
                return false;
            }
            j += 1;
        }
        i += 1;
    }
    true
}
