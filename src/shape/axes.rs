//! Axis relations between shapes: picking one dim (permutes) and removing one (reductions,
//! broadcasting), and the relations of the ops that take axes: [`SumShape`], [`MeanShape`],
//! [`MaxShape`] (an axis in range; for `mean` and `max` a static axis that is not empty) and
//! [`PermuteShape`] (every axis in range, none listed twice).
//!
//! An axis out of range fails with "sum: axis 5 is out of range for a rank-3 tensor": the check
//! compares the axis with the rank through typenum and bounds the resulting bit with a guard
//! implemented only for `B1`, and the removed dim is computed behind a type-level `if` on the same
//! bit ([`AxisIf`]), so the range check is the only error.
//!
//! ```
//! use shapetorch::shape::{Axes3, Dim, MaxShape, PermuteShape, SumShape};
//! fn max1<B: shapetorch::shape::Dimension>(s: (B, Dim<10>)) -> (B,) {
//!     MaxShape::<1>::reduced(&s) // no bound needed: axis 1 is static and not empty
//! }
//! assert_eq!(max1((4usize, Dim)), (4,));
//! let p = PermuteShape::<Axes3<2, 0, 1>>::permuted(&(Dim::<2>, 3usize, Dim::<4>));
//! assert_eq!(p, (Dim::<4>, Dim::<2>, 3usize));
//! let _: (Dim<2>,) = SumShape::<1>::reduced(&(Dim::<2>, Dim::<0>)); // a sum may be empty
//! ```

use typenum::{Gr, IsGreater, IsLess, IsNotEqual, Le, NotEq, B0, B1, U0, U1, U2, U3, U4, U5};

use super::bridge::{Check, Holds, Num, ToUnsigned, Verdict};
use super::markers::{max, mean, permute, sum};
use super::{Dim, Dimension, Shape};

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

/// The first (batch) dim of a shape, which shape-keeping ops pass through unchanged.
///
/// Deliberately not a supertrait of the relations: a where-clause such as
/// `(B, C, H, W): Conv2dShape<..>` would then hide the impl below, and the batch of the output
/// type would stay `<(B, C, H, W) as BatchDim>::Batch` instead of `B`.
pub trait BatchDim {
    /// The batch dim's type (`usize` or `Dim<N>`).
    type Batch: Dimension;
    /// The batch dim's value.
    fn batch(&self) -> Self::Batch;
}

macro_rules! batch_dim {
    ($($d:ident),*) => {
        impl<A: Dimension, $($d: Dimension),*> BatchDim for (A, $($d,)*) {
            type Batch = A;
            #[inline]
            fn batch(&self) -> A {
                self.0
            }
        }
    };
}
batch_dim!();
batch_dim!(B);
batch_dim!(B, C);
batch_dim!(B, C, D);
batch_dim!(B, C, D, F);

// ---------------------------------------------------------------------------------------------
// A type-level `if` on "the axis is in range"
// ---------------------------------------------------------------------------------------------

/// Axis `I` of `Self` when `Bit` is `B1` (the axis is in range), dummies when it is `B0`: so that
/// an axis out of range fails only the range check, not also the dim's lookup.
#[doc(hidden)]
pub trait AxisIf<const I: usize, Bit> {
    /// The dim at axis `I`.
    type Dim: Dimension;
    /// The shape without axis `I`.
    type Rest: Shape;
    /// The dim's value.
    fn dim(&self) -> Self::Dim;
    /// The shape without axis `I`, as a value.
    fn rest(&self) -> Self::Rest;
}

impl<S: RemoveAxis<I>, const I: usize> AxisIf<I, B1> for S {
    type Dim = <S as SelectAxis<I>>::Dim;
    type Rest = <S as RemoveAxis<I>>::Output;
    #[inline]
    fn dim(&self) -> Self::Dim {
        self.select()
    }
    #[inline]
    fn rest(&self) -> Self::Rest {
        self.remove()
    }
}

impl<S, const I: usize> AxisIf<I, B0> for S {
    type Dim = usize;
    type Rest = ();
    fn dim(&self) -> usize {
        unreachable!("axis checked at compile time")
    }
    fn rest(&self) {}
}

// ---------------------------------------------------------------------------------------------
// Reductions over one axis
// ---------------------------------------------------------------------------------------------

/// A reduction's relation, its hidden check (per rank, asked of `()`), and its guards: the
/// axis is in range, and (`empty = ..`) a static axis is not empty.
macro_rules! reduction {
    (
        $(#[$doc:meta])*
        $rel:ident, $out:ident, $check:ident, $range:ident, $op:ident,
        generic = $generic_message:literal,
        range = $range_message:literal
        $(, empty = $pair:ident, $empty:ident, $empty_message:literal, $empty_note:literal)? $(,)?
    ) => {
        $(#[$doc])*
        pub trait $rel<const I: usize>: Shape {
            /// The shape without axis `I`.
            type Output: Shape;
            /// The shape without axis `I`, as a value.
            fn reduced(&self) -> Self::Output;
        }

        impl<S: Shape, const I: usize> $rel<I> for S
        where
            (): $check<S, I>,
        {
            type Output = <() as $check<S, I>>::Output;
            #[inline]
            fn reduced(&self) -> Self::Output {
                <() as $check<S, I>>::reduce(self)
            }
        }

        #[doc = concat!("The shape [`", stringify!($rel), "`] leaves.")]
        pub type $out<S, const I: usize> = <S as $rel<I>>::Output;

        #[doc = concat!("The check of [`", stringify!($rel), "`], per rank.")]
        #[doc(hidden)]
        #[diagnostic::on_unimplemented(message = $generic_message, label = "a generic shape, or not of rank 0 to 5")]
        pub trait $check<X, const I: usize> {
            /// The shape without axis `I`.
            type Output: Shape;
            /// The shape without axis `I`, as a value.
            fn reduce(x: &X) -> Self::Output;
        }

        /// Never met by a real axis (`usize::MAX`): it keeps the check undecided while method
        /// lookup does not know the axis yet, so that a generic shape without the relation fails
        /// with the message above (E0277), not "the method exists but its trait bounds were
        /// not satisfied" (E0599).
        #[diagnostic::do_not_recommend]
        impl<T: ?Sized, X> $check<X, { usize::MAX }> for T {
            type Output = ();
            fn reduce(_: &X) {
                panic!("an axis of usize::MAX is no axis")
            }
        }

        #[doc = concat!("The axis of [`", stringify!($rel), "`] is below the rank.")]
        #[doc(hidden)]
        #[diagnostic::on_unimplemented(
            message = $range_message,
            label = "axis out of range",
            note = "axes count from 0, outermost first"
        )]
        pub trait $range<const I: usize, const R: usize> {}
        #[diagnostic::do_not_recommend]
        impl<const I: usize, const R: usize> $range<I, R> for Holds {}

        $(
            #[doc = concat!("The axis of [`", stringify!($rel), "`] is not empty: checked here if static, when the op runs if not.")]
            #[doc(hidden)]
            #[diagnostic::on_unimplemented(
                message = "the reduced axis {I} is `{D}`, neither a static `Dim<N>` nor a runtime `usize`",
                label = "a generic dim",
                note = "in generic code, add the op's relation to the where-clause (`MaxShape<I>`, `MeanShape<I>`)"
            )]
            pub trait $pair<D, const I: usize> {}
            impl<T: ?Sized, const N: usize, const I: usize> $pair<Dim<N>, I> for T
            where
                Dim<N>: ToUnsigned,
                Num<Dim<N>>: IsGreater<U0>,
                Gr<Num<Dim<N>>, U0>: Verdict,
                Check<Gr<Num<Dim<N>>, U0>, $op>: $empty<I>,
            {
            }
            impl<T: ?Sized, const I: usize> $pair<usize, I> for T {}

            #[doc = concat!("The static axis of [`", stringify!($rel), "`] is not empty.")]
            #[doc(hidden)]
            #[diagnostic::on_unimplemented(
                message = $empty_message,
                label = "empty axis",
                note = $empty_note
            )]
            pub trait $empty<const I: usize> {}
            #[diagnostic::do_not_recommend]
            impl<const I: usize> $empty<I> for Holds {}
        )?

        reduction!(@rank $check, $range, $op, [$($pair)?]; 0, U0;);
        reduction!(@rank $check, $range, $op, [$($pair)?]; 1, U1; A);
        reduction!(@rank $check, $range, $op, [$($pair)?]; 2, U2; A, B);
        reduction!(@rank $check, $range, $op, [$($pair)?]; 3, U3; A, B, C);
        reduction!(@rank $check, $range, $op, [$($pair)?]; 4, U4; A, B, C, D);
        reduction!(@rank $check, $range, $op, [$($pair)?]; 5, U5; A, B, C, D, F);
    };
    (@rank $check:ident, $range:ident, $op:ident, [$($pair:ident)?]; $r:literal, $u:ident; $($d:ident),*) => {
        reduction!(@impl $check, $range, $op, [$($pair)?]; $r, $u; ($($d,)*); $($d),*);
    };
    (@impl $check:ident, $range:ident, $op:ident, [$($pair:ident)?]; $r:literal, $u:ident; $t:ty; $($d:ident),*) => {
        impl<T: ?Sized, $($d: Dimension,)* const I: usize> $check<$t, I> for T
        where
            Dim<I>: ToUnsigned,
            Num<Dim<I>>: IsLess<$u>,
            Le<Num<Dim<I>>, $u>: Verdict,
            Check<Le<Num<Dim<I>>, $u>, $op>: $range<I, $r>,
            $t: AxisIf<I, Le<Num<Dim<I>>, $u>>,
            $((): $pair<<$t as AxisIf<I, Le<Num<Dim<I>>, $u>>>::Dim, I>,)?
        {
            type Output = <$t as AxisIf<I, Le<Num<Dim<I>>, $u>>>::Rest;
            #[inline]
            fn reduce(x: &$t) -> Self::Output {
                x.rest()
            }
        }
    };
}

reduction!(
    /// The relation of `sum::<I>()`: axis `I` is below the rank; the result is the shape
    /// without it ([`SumOut`]). A sum over an empty axis is fine (0).
    SumShape,
    SumOut,
    SumCheck,
    SumAxisInRange,
    sum,
    generic = "sum: `{X}` has no axis {I} that the compiler can see; in generic code, add the op's relation: `where {X}: SumShape<{I}>`",
    range = "sum: axis {I} is out of range for a rank-{R} tensor",
);

reduction!(
    /// The relation of `mean::<I>()`: axis `I` is below the rank and, if static, not empty
    /// (an empty runtime axis panics when the op runs); the result is the shape without it
    /// ([`MeanOut`]).
    MeanShape,
    MeanOut,
    MeanCheck,
    MeanAxisInRange,
    mean,
    generic = "mean: `{X}` has no axis {I} that the compiler can see; in generic code, add the op's relation: `where {X}: MeanShape<{I}>`",
    range = "mean: axis {I} is out of range for a rank-{R} tensor",
    empty = MeanAxisPair,
    MeanAxisNotEmpty,
    "mean: axis {I} is empty (size 0); the mean of no elements is 0/0",
    "PyTorch returns NaN here; `sum` over an empty axis is fine (0)",
);

reduction!(
    /// The relation of `max::<I>()`: axis `I` is below the rank and, if static, not empty (an
    /// empty runtime axis panics when the op runs); the result is the shape without it
    /// ([`MaxOut`]).
    MaxShape,
    MaxOut,
    MaxCheck,
    MaxAxisInRange,
    max,
    generic = "max: `{X}` has no axis {I} that the compiler can see; in generic code, add the op's relation: `where {X}: MaxShape<{I}>`",
    range = "max: axis {I} is out of range for a rank-{R} tensor",
    empty = MaxAxisPair,
    MaxAxisNotEmpty,
    "max: axis {I} is empty (size 0); there is no maximum of no elements",
    "PyTorch raises here too; `sum` over an empty axis is fine (0)",
);

// ---------------------------------------------------------------------------------------------
// Permutations
// ---------------------------------------------------------------------------------------------

/// The axes of a rank-2 permute, `permute::<P0, P1>()`: output axis `i` is input axis `Pi`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Axes2<const P0: usize, const P1: usize>;
/// The axes of a rank-3 permute, `permute::<P0, P1, P2>()`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Axes3<const P0: usize, const P1: usize, const P2: usize>;
/// The axes of a rank-4 permute, `permute::<P0, P1, P2, P3>()`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Axes4<const P0: usize, const P1: usize, const P2: usize, const P3: usize>;

/// The relation of `permute`: every axis of `A` ([`Axes2`], [`Axes3`], [`Axes4`]) is below the
/// rank of `Self`, and none is listed twice; the result ([`Permuted`]) has dim `i` = dim `Pi` of
/// `Self`.
pub trait PermuteShape<A>: Shape {
    /// The permuted shape.
    type Output: Shape;
    /// The permuted shape's value.
    fn permuted(&self) -> Self::Output;
}

impl<S: Shape, A> PermuteShape<A> for S
where
    (): PermuteCheck<S, A>,
{
    type Output = <() as PermuteCheck<S, A>>::Output;
    #[inline]
    fn permuted(&self) -> Self::Output {
        <() as PermuteCheck<S, A>>::permute(self)
    }
}

/// The shape `permute` gives `S` for the axes `A`.
pub type Permuted<S, A> = <S as PermuteShape<A>>::Output;

/// The check of [`PermuteShape`], per rank.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "permute: `{A}` does not fit `{X}`; in generic code add `where {X}: PermuteShape<{A}>`",
    label = "axes and rank differ, or not a tuple shape"
)]
pub trait PermuteCheck<X, A> {
    /// The permuted shape.
    type Output: Shape;
    /// The permuted shape's value.
    fn permute(x: &X) -> Self::Output;
}

/// permute: an axis is below the rank.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "permute: axis {I} is out of range for a rank-{R} tensor",
    label = "axis out of range",
    note = "axes count from 0, outermost first"
)]
pub trait PermuteAxisInRange<const I: usize, const R: usize> {}
#[diagnostic::do_not_recommend]
impl<const I: usize, const R: usize> PermuteAxisInRange<I, R> for Holds {}

/// permute: no axis is listed twice.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "permute: axis {I} is listed twice; each axis must appear exactly once",
    label = "repeated axis"
)]
pub trait PermuteAxisOnce<const I: usize> {}
#[diagnostic::do_not_recommend]
impl<const I: usize> PermuteAxisOnce<I> for Holds {}

/// One `PermuteCheck` impl: the shape's dims, the axes, the rank, and the pairs of positions
/// that must differ.
macro_rules! permute_rank {
    (
        $axes:ident, $r:literal, $u:ident;
        ($($d:ident),+); ($($p:ident),+); $(($a:ident, $b:ident)),+
    ) => {
        permute_rank!(@impl $axes, $r, $u; ($($d,)+); ($($d),+); ($($p),+); $(($a, $b)),+);
    };
    (
        @impl $axes:ident, $r:literal, $u:ident; $t:ty;
        ($($d:ident),+); ($($p:ident),+); $(($a:ident, $b:ident)),+
    ) => {
        impl<T: ?Sized, $($d: Dimension,)+ $(const $p: usize),+> PermuteCheck<$t, $axes<$($p),+>>
            for T
        where
            $(
                Dim<$p>: ToUnsigned,
                Num<Dim<$p>>: IsLess<$u>,
                Le<Num<Dim<$p>>, $u>: Verdict,
                Check<Le<Num<Dim<$p>>, $u>, permute>: PermuteAxisInRange<$p, $r>,
                $t: AxisIf<$p, Le<Num<Dim<$p>>, $u>>,
            )+
            $(
                Num<Dim<$a>>: IsNotEqual<Num<Dim<$b>>>,
                NotEq<Num<Dim<$a>>, Num<Dim<$b>>>: Verdict,
                Check<NotEq<Num<Dim<$a>>, Num<Dim<$b>>>, permute>: PermuteAxisOnce<$a>,
            )+
        {
            type Output = ($(<$t as AxisIf<$p, Le<Num<Dim<$p>>, $u>>>::Dim,)+);
            #[inline]
            fn permute(x: &$t) -> Self::Output {
                ($(AxisIf::<$p, Le<Num<Dim<$p>>, $u>>::dim(x),)+)
            }
        }
    };
}
permute_rank!(Axes2, 2, U2; (A, B); (P0, P1); (P0, P1));
permute_rank!(Axes3, 3, U3; (A, B, C); (P0, P1, P2); (P0, P1), (P0, P2), (P1, P2));
permute_rank!(
    Axes4, 4, U4; (A, B, C, D); (P0, P1, P2, P3);
    (P0, P1), (P0, P2), (P0, P3), (P1, P2), (P1, P3), (P2, P3)
);
