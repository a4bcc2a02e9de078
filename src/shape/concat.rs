//! Concatenation's shape relation: two shapes that agree outside axis `I` join into one whose
//! axis `I` is the sum, computed by the compiler for static dims.

use std::ops::Add;

use typenum::Sum;

use super::bridge::{DimOf, Num, ToDim, ToUnsigned};
use super::{Dim, Dimension, Shape};

/// `Self + Rhs` as a dim: two static dims add at compile time (`Dim<3> + Dim<4>` is
/// `Dim<7>`), two runtime ones at run time.
#[diagnostic::on_unimplemented(
    message = "cat: the joined axis is `{Self}` in one tensor and `{Rhs}` in the other; both must be static (`Dim<N>`) or both runtime (`usize`)",
    label = "cannot add these dims"
)]
pub trait AddDims<Rhs: Dimension>: Dimension {
    /// The sum.
    type Output: Dimension;
    /// The sum's value.
    fn add_dims(self, rhs: Rhs) -> Self::Output;
}

impl<const A: usize, const B: usize> AddDims<Dim<B>> for Dim<A>
where
    Dim<A>: ToUnsigned,
    Dim<B>: ToUnsigned,
    Num<Dim<A>>: Add<Num<Dim<B>>>,
    Sum<Num<Dim<A>>, Num<Dim<B>>>: ToDim,
{
    type Output = DimOf<Sum<Num<Dim<A>>, Num<Dim<B>>>>;
    fn add_dims(self, _: Dim<B>) -> Self::Output {
        Default::default()
    }
}

impl AddDims<usize> for usize {
    type Output = usize;
    fn add_dims(self, rhs: usize) -> usize {
        self + rhs
    }
}

/// `cat::<I>`: `Self` and `Rhs` have the same rank and the same dims outside axis `I`; the
/// result has `Self`'s dims with axis `I` the sum of both. For generic code:
/// `where S: CatShape<I, Rhs>`.
#[diagnostic::on_unimplemented(
    message = "cat: `{Self}` and `{Rhs}` must have the same rank and the same dims except along axis {I}",
    label = "shapes do not join along axis {I}"
)]
pub trait CatShape<const I: usize, Rhs: Shape>: Shape {
    /// The joined shape.
    type Output: Shape;
    /// The joined shape's value, or `None` when a runtime dim outside axis `I` differs.
    fn cat_shape(&self, rhs: &Rhs) -> Option<Self::Output>;
}

// The impls below are written out per rank and axis: rhs shape equals self's except at axis I.
macro_rules! cat_impls {
    ($($i:tt: ($($before:ident),*) $cat:ident ($($after:ident),*);)+) => {$(
        impl<$($before: Dimension,)* $cat: Dimension, R: Dimension, $($after: Dimension),*>
            CatShape<$i, ($($before,)* R, $($after,)*)> for ($($before,)* $cat, $($after,)*)
        where
            $cat: AddDims<R>,
        {
            type Output = ($($before,)* <$cat as AddDims<R>>::Output, $($after,)*);
            #[allow(non_snake_case)]
            fn cat_shape(&self, rhs: &($($before,)* R, $($after,)*)) -> Option<Self::Output> {
                let (a, b) = (self.dims(), rhs.dims());
                let (a, b) = (a.as_ref(), b.as_ref());
                if (0..a.len()).any(|k| k != $i && a[k] != b[k]) {
                    return None;
                }
                let ($($before,)* $cat, $($after,)*) = *self;
                let r = Dimension::from_size(b[$i]).expect("the rhs's own dim");
                Some(($($before,)* $cat.add_dims(r), $($after,)*))
            }
        }
    )+};
}

cat_impls! {
    0: () A ();
    0: () A (B);
    1: (A) B ();
    0: () A (B, C);
    1: (A) B (C);
    2: (A, B) C ();
    0: () A (B, C, D);
    1: (A) B (C, D);
    2: (A, B) C (D);
    3: (A, B, C) D ();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joined_shapes_add_the_axis_and_check_the_others() {
        let a = (Dim::<2>, Dim::<3>);
        let joined: (Dim<2>, Dim<7>) =
            CatShape::<1, _>::cat_shape(&a, &(Dim::<2>, Dim::<4>)).unwrap();
        assert_eq!(joined.dims(), [2, 7]);
        let runtime = (5usize, Dim::<3>);
        assert_eq!(
            CatShape::<0, _>::cat_shape(&runtime, &(2usize, Dim::<3>)).map(|s| s.dims()),
            Some([7, 3])
        );
        let batch = (5usize, Dim::<3>);
        assert_eq!(
            CatShape::<1, _>::cat_shape(&batch, &(4usize, Dim::<3>)),
            None
        );
    }
}
