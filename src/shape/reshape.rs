//! Reshape relations: [`ReshapeShape`] (the whole shape, element count kept), [`FlattenShape`]
//! (`[B, C, H, W] -> [B, C*H*W]`, the batch kept) and [`UnflattenShape`] (any per-sample
//! reshape that keeps the batch, such as `[B, 400] -> [B, 16, 5, 5]`). The element counts are
//! typenum products compared by the compiler; an error prints them in decimal when they are at
//! most 4096 (the dim table), else it names both shapes.
//!
//! ```
//! use shapetorch::shape::{Dim, FlattenShape, ReshapeShape, UnflattenShape};
//! fn flat<S: FlattenShape>(s: S) -> S::Output {
//!     s.flattened()
//! }
//! // a runtime batch stays; 16 * 5 * 5 = 400 is computed by the compiler
//! assert_eq!(flat((7usize, Dim::<16>, Dim::<5>, Dim::<5>)), (7, Dim::<400>));
//! fn unflat<S: UnflattenShape<D>, D>(s: S) -> D {
//!     s.unflattened()
//! }
//! let x: (usize, Dim<16>, Dim<25>) = unflat((7usize, Dim::<400>));
//! assert_eq!(x, (7, Dim, Dim));
//! fn fits<S: ReshapeShape<D>, D>() {}
//! fits::<(Dim<2>, Dim<3>), (Dim<6>,)>();
//! ```

use typenum::{Eq, IsEqual};

use super::bridge::{Check, Count, ElementCount, Holds, Many, TypeNumel, Verdict};
use super::markers::{reshape, unflatten};
use super::{ConstDim, Dim, Dimension, Shape};

/// Per op, the check that two element counts agree: a `()`-trait dispatching on the printable
/// counts ([`Count`]) to a guard that prints them (both at most 4096) or one that cannot (a
/// count above 4096, which typenum cannot show in decimal; the shapes are in the notes).
macro_rules! element_counts {
    (
        $counts:ident, $small:ident, $large:ident,
        small = $small_message:literal,
        large = $large_message:literal,
        label = $label:literal,
        note = $note:literal $(,)?
    ) => {
        #[doc = concat!("Dispatches the element-count check of `", stringify!($small), "`.")]
        #[doc(hidden)]
        pub trait $counts<CS, CD, Bit, Src, Dst> {}
        impl<T: ?Sized, const N: usize, const M: usize, Bit, Src, Dst>
            $counts<Dim<N>, Dim<M>, Bit, Src, Dst> for T
        where
            Bit: $small<N, M>,
        {
        }
        impl<T: ?Sized, CD, Bit, Src, Dst> $counts<Many, CD, Bit, Src, Dst> for T where
            Bit: $large<Src, Dst>
        {
        }
        impl<T: ?Sized, const N: usize, Bit, Src, Dst> $counts<Dim<N>, Many, Bit, Src, Dst> for T where
            Bit: $large<Src, Dst>
        {
        }

        #[doc = concat!("The element counts agree (`", stringify!($counts), "`), both at most 4096.")]
        #[doc(hidden)]
        #[diagnostic::on_unimplemented(message = $small_message, label = $label, note = $note)]
        pub trait $small<const N: usize, const M: usize> {}
        #[diagnostic::do_not_recommend]
        impl<const N: usize, const M: usize> $small<N, M> for Holds {}

        #[doc = concat!("The element counts agree (`", stringify!($counts), "`), one above 4096.")]
        #[diagnostic::on_unimplemented(message = $large_message, label = $label, note = $note)]
        pub trait $large<Src, Dst> {}
        #[diagnostic::do_not_recommend]
        impl<Src, Dst> $large<Src, Dst> for Holds {}
    };
}

element_counts!(
    ReshapeCounts,
    ReshapeCountsMatch,
    ReshapeFits,
    small = "reshape: the input has {N} elements but the target shape has {M}",
    large = "reshape: `{Src}` and `{Dst}` hold different numbers of elements (a count above 4096 is not printed)",
    label = "element counts differ",
    note = "a reshape keeps every element, so the products of the dims must be equal",
);

element_counts!(
    UnflattenCounts,
    UnflattenCountsMatch,
    UnflattenFits,
    small = "unflatten: a sample has {N} elements but a target sample has {M}",
    large = "unflatten: samples `{Src}` and `{Dst}` hold different numbers of elements (a count above 4096 is not printed)",
    label = "per-sample element counts differ",
    note = "the batch dim stays; the dims after it must have equal products",
);

/// The relation of `reshape`: `Self` and `Dst` are static shapes (dims up to 4096) holding the
/// same number of elements. Generic code writes `where S: ReshapeShape<Dst>`.
///
/// Its own message is the one for a shape that is not static (`TypeNumel` fails inside it).
#[diagnostic::on_unimplemented(
    message = "reshape needs static shapes with dims up to 4096; `{Self}` is not one",
    label = "a runtime dim (`usize`) or a static dim above 4096",
    note = "with a runtime batch dim, use `flatten` or `unflatten` (they check the per-sample count); with other runtime dims, `reshape_to`, checked when it runs"
)]
pub trait ReshapeShape<Dst>: Shape {}

impl<S, Dst> ReshapeShape<Dst> for S
where
    S: Shape + TypeNumel,
    Dst: TypeNumel,
    S::Numel: IsEqual<Dst::Numel> + ElementCount,
    Dst::Numel: ElementCount,
    Eq<S::Numel, Dst::Numel>: Verdict,
    (): ReshapeCounts<
        Count<S::Numel>,
        Count<Dst::Numel>,
        Check<Eq<S::Numel, Dst::Numel>, reshape>,
        S,
        Dst,
    >,
{
}

/// The relation of `flatten`: `Self` is `[B, D1, ..]` of rank 3 to 5 with static dims after
/// the batch `B` (a runtime `usize` or a `Dim`), and [`Output`](Self::Output) is
/// `[B, D1 * ..]`, the product computed by the compiler (at most 4096). Like
/// `torch.flatten(x, 1)`. Generic code writes `where S: FlattenShape` and names the result
/// `S::Output` (or [`Flattened<S>`]).
pub trait FlattenShape: Shape {
    /// `[B, D1 * D2 * ..]`.
    type Output: Shape;
    /// The flattened shape's value (the batch dim's size passes through).
    fn flattened(&self) -> Self::Output;
}

impl<X: Shape> FlattenShape for X
where
    (): FlattenCheck<X>,
{
    type Output = <() as FlattenCheck<X>>::Output;
    #[inline]
    fn flattened(&self) -> Self::Output {
        <() as FlattenCheck<X>>::flatten(self)
    }
}

/// [`FlattenShape`] with its output as a parameter: the bound of `x.flatten()`, so that a
/// generic shape without the relation fails with the relation's message (E0277) rather than
/// "the method exists but its trait bounds were not satisfied" (E0599): method lookup does not
/// evaluate a bound whose output is still unknown. Implemented for every [`FlattenShape`].
pub trait FlattenTo<Out>: FlattenShape<Output = Out> {}
impl<S: FlattenShape> FlattenTo<S::Output> for S {}

/// The shape `flatten` gives `S`: `[B, D1 * D2 * ..]`.
pub type Flattened<S> = <S as FlattenShape>::Output;

/// `flatten`'s check, per rank, asked of `()`; its message is the one for an input that has
/// the wrong rank or a dim after the batch that is not static.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "flatten: `{X}` is not [batch, static dims..] of rank 3 to 5 with at most 4096 elements a sample",
    label = "not a shape flatten can compute",
    note = "in generic code, add the op's relation: `where {X}: FlattenShape`; a sample above 4096 elements (beyond static dims) takes `reshape_to` with a runtime dim"
)]
pub trait FlattenCheck<X> {
    /// `[B, D1 * D2 * ..]`.
    type Output: Shape;
    /// The flattened shape's value.
    fn flatten(x: &X) -> Self::Output;
}

/// flatten: the per-sample size is at most 4096, so it has a `Dim`.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "flatten: a sample `{Sample}` has more than 4096 elements, beyond the static dims",
    label = "too many features for a static dim",
    note = "use `reshape_to` with a runtime (`usize`) dim: it checks the element count when it runs"
)]
pub trait FlattenFits<Sample, C> {
    /// The per-sample size as a `Dim`.
    type Dim: ConstDim;
}
impl<T: ?Sized, Sample, const N: usize> FlattenFits<Sample, Dim<N>> for T {
    type Dim = Dim<N>;
}

macro_rules! flatten_rank {
    ($($n:ident),+) => {
        // `do_not_recommend`: a dim the compiler cannot compute with (a generic one, or one
        // above 4096) is reported as this check, whose message names the relation to add.
        #[diagnostic::do_not_recommend]
        impl<T: ?Sized, B: Dimension, $(const $n: usize),+> FlattenCheck<(B, $(Dim<$n>,)+)> for T
        where
            ($(Dim<$n>,)+): TypeNumel,
            <($(Dim<$n>,)+) as TypeNumel>::Numel: ElementCount,
            (): FlattenFits<($(Dim<$n>,)+), Count<<($(Dim<$n>,)+) as TypeNumel>::Numel>>,
        {
            type Output = (
                B,
                <() as FlattenFits<($(Dim<$n>,)+), Count<<($(Dim<$n>,)+) as TypeNumel>::Numel>>>::Dim,
            );
            #[inline]
            fn flatten(x: &(B, $(Dim<$n>,)+)) -> Self::Output {
                (x.0, Default::default())
            }
        }
    };
}
flatten_rank!(C, W);
flatten_rank!(C, H, W);
flatten_rank!(C, D, H, W);

/// The relation of `unflatten`, a reshape that keeps the batch: `Self` is `[B, ..]` and `Dst`
/// is `[B, ..]` (the same first dim type, ranks 2 to 5, static dims after the batch), and a
/// sample holds the same number of elements in both. `[B, 400] -> [B, 16, 5, 5]` inverts
/// `flatten`; `[B, 16, 5, 5] -> [B, 16, 25]` is fine too. Generic code writes
/// `where S: UnflattenShape<Dst>`.
pub trait UnflattenShape<Dst>: Shape {
    /// The target shape's value (the batch dim's size passes through).
    fn unflattened(&self) -> Dst;
}

impl<X: Shape, Dst> UnflattenShape<Dst> for X
where
    (): UnflattenCheck<X, Dst>,
{
    #[inline]
    fn unflattened(&self) -> Dst {
        <() as UnflattenCheck<X, Dst>>::unflatten(self)
    }
}

/// `unflatten`'s check, per pair of ranks, asked of `()`; its message is the one for shapes
/// whose first dims differ, whose rank is outside 2 to 5, or whose dims after the batch are not
/// static.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "unflatten keeps the batch dim: `{X}` cannot become `{Dst}` (both need the same first dim, rank 2 to 5 and static dims after it; in generic code, add the op's relation: `where {X}: UnflattenShape<{Dst}>`)"
)]
pub trait UnflattenCheck<X, Dst> {
    /// The target shape's value.
    fn unflatten(x: &X) -> Dst;
}

/// Never a real target shape: while method lookup does not know `unflatten`'s target yet, it
/// keeps the check undecided, so that a generic input without the relation is reported once the
/// target is known, naming it (not as `S cannot become _`).
/// Two of them, so that the compiler never picks one: the target comes from the caller.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UnknownTarget<const N: usize>;

#[diagnostic::do_not_recommend]
impl<T: ?Sized, X> UnflattenCheck<X, UnknownTarget<0>> for T {
    fn unflatten(_: &X) -> UnknownTarget<0> {
        UnknownTarget
    }
}
#[diagnostic::do_not_recommend]
impl<T: ?Sized, X> UnflattenCheck<X, UnknownTarget<1>> for T {
    fn unflatten(_: &X) -> UnknownTarget<1> {
        UnknownTarget
    }
}

macro_rules! unflatten_ranks {
    ([$($n:ident),+] -> [$($m:ident),+]) => {
        impl<T: ?Sized, B: Dimension, $(const $n: usize,)+ $(const $m: usize),+>
            UnflattenCheck<(B, $(Dim<$n>,)+), (B, $(Dim<$m>,)+)> for T
        where
            ($(Dim<$n>,)+): TypeNumel,
            ($(Dim<$m>,)+): TypeNumel,
            <($(Dim<$n>,)+) as TypeNumel>::Numel:
                IsEqual<<($(Dim<$m>,)+) as TypeNumel>::Numel> + ElementCount,
            <($(Dim<$m>,)+) as TypeNumel>::Numel: ElementCount,
            Eq<<($(Dim<$n>,)+) as TypeNumel>::Numel, <($(Dim<$m>,)+) as TypeNumel>::Numel>: Verdict,
            (): UnflattenCounts<
                Count<<($(Dim<$n>,)+) as TypeNumel>::Numel>,
                Count<<($(Dim<$m>,)+) as TypeNumel>::Numel>,
                Check<
                    Eq<<($(Dim<$n>,)+) as TypeNumel>::Numel, <($(Dim<$m>,)+) as TypeNumel>::Numel>,
                    unflatten,
                >,
                ($(Dim<$n>,)+),
                ($(Dim<$m>,)+),
            >,
        {
            #[inline]
            fn unflatten(x: &(B, $(Dim<$n>,)+)) -> (B, $(Dim<$m>,)+) {
                (x.0, $(Dim::<$m>,)+)
            }
        }
    };
    ($src:tt -> $($dst:tt),+) => {
        $(unflatten_ranks!($src -> $dst);)+
    };
}
unflatten_ranks!([N1] -> [M1], [M1, M2], [M1, M2, M3], [M1, M2, M3, M4]);
unflatten_ranks!([N1, N2] -> [M1], [M1, M2], [M1, M2, M3], [M1, M2, M3, M4]);
unflatten_ranks!([N1, N2, N3] -> [M1], [M1, M2], [M1, M2, M3], [M1, M2, M3, M4]);
unflatten_ranks!([N1, N2, N3, N4] -> [M1], [M1, M2], [M1, M2, M3], [M1, M2, M3, M4]);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shape::{Rank2, Rank4};

    fn same<T>(_: T, _: T) {}
    fn reshapes<S: ReshapeShape<D>, D>() {}

    #[test]
    fn flatten_multiplies_the_dims_after_the_batch() {
        same(
            (5usize, Dim::<16>, Dim::<5>, Dim::<5>).flattened(),
            (5usize, Dim::<400>),
        );
        same(
            (Dim::<2>, Dim::<3>, Dim::<7>).flattened(),
            (Dim::<2>, Dim::<21>),
        );
        let x: Flattened<(usize, Dim<2>, Dim<3>, Dim<4>, Dim<5>)> = (1, Dim);
        same(x, (1usize, Dim::<120>));
    }

    #[test]
    fn unflatten_keeps_the_batch() {
        let y: (usize, Dim<16>, Dim<5>, Dim<5>) = (9usize, Dim::<400>).unflattened();
        assert_eq!(y.0, 9);
        let z: (Dim<3>, Dim<16>, Dim<25>) = (Dim::<3>, Dim::<16>, Dim::<5>, Dim::<5>).unflattened();
        same(z, (Dim, Dim, Dim));
    }

    #[test]
    fn reshape_compares_large_counts() {
        reshapes::<Rank2<64, 784>, (Dim<64>, Dim<28>, Dim<28>)>();
        reshapes::<Rank4<1, 2, 3, 4>, (Dim<24>,)>();
    }
}
