//! Shape relations checked at compile time, each a marker trait whose error names the op and
//! the dims.
//!
//! A relation between two dims is a trait implemented for every pair of [`Dimension`]s: two
//! static dims `Dim<N>` and `Dim<M>` are checked by the compiler, a pairing with a runtime
//! `usize` is checked when the op runs (`check`, with a panic message naming the op and both
//! sizes). Relations on typenum arithmetic (element counts) are implemented only for typenum's
//! `B1`, the result of a comparison that holds.
//!
//! How the messages stay short and print bare decimal numbers: the relation (say
//! `InnerDims`) is a blanket impl over any two dims that requires a hidden pair trait of `()`;
//! the pair trait sorts static from runtime dims and, for two static dims, requires a hidden
//! check trait with *const* parameters, `(): ColumnsMatchRows<N, M>`, implemented only for
//! `N == M`. rustc reports the innermost failing bound, whose `on_unimplemented` message can
//! print `{N}` as a number (`3`) rather than a type (`Dim<3>`). Every impl on the way is a
//! blanket impl over its `Self` type, so rustc finds no "similar impl" to list under the
//! message.
//!
//! ```
//! use shapetorch::shape::{Dim, InnerDims};
//! fn inner<A: InnerDims<B>, B: shapetorch::shape::Dimension>(a: A, b: B) -> usize {
//!     a.check(&b)
//! }
//! assert_eq!(inner(Dim::<3>, Dim::<3>), 3);
//! assert_eq!(inner(Dim::<3>, 3usize), 3); // a runtime dim is checked when the op runs
//! ```
//!
//! ```compile_fail
//! use shapetorch::shape::{Dim, InnerDims};
//! fn inner<A: InnerDims<B>, B: shapetorch::shape::Dimension>(_: A, _: B) {}
//! inner(Dim::<3>, Dim::<4>); // the left matrix has 3 columns but the right matrix has 4 rows
//! ```

use typenum::B1;

use super::{fmt_dims, Dim, Dimension};

macro_rules! dim_relation {
    (
        $(#[$doc:meta])*
        $name:ident, $pair:ident, $equal:ident,
        panic = $what:literal,
        message = $message:literal,
        label = $label:literal
        $(, note = $note:literal)? $(,)?
    ) => {
        $(#[$doc])*
        #[diagnostic::on_unimplemented(message = $what, label = $label $(, note = $note)?)]
        pub trait $name<Rhs: Dimension>: Dimension {
            /// The common size; panics naming both sizes when a runtime dim disagrees.
            fn check(&self, rhs: &Rhs) -> usize {
                let (a, b) = (self.size(), rhs.size());
                assert!(a == b, concat!($what, ": {} vs {}"), a, b);
                a
            }
        }
        impl<A: Dimension, B: Dimension> $name<B> for A where (): $pair<A, B> {}

        #[doc = concat!("Sorts the dims of [`", stringify!($name), "`] into static and runtime ones.")]
        #[doc(hidden)]
        pub trait $pair<A, B> {}
        impl<T: ?Sized, const N: usize, const M: usize> $pair<Dim<N>, Dim<M>> for T where
            (): $equal<N, M>
        {
        }
        impl<T: ?Sized, const N: usize> $pair<Dim<N>, usize> for T {}
        impl<T: ?Sized, const M: usize> $pair<usize, Dim<M>> for T {}
        impl<T: ?Sized> $pair<usize, usize> for T {}

        #[doc = concat!("The compile-time check of [`", stringify!($name), "`]: `N == M`.")]
        #[doc(hidden)]
        #[diagnostic::on_unimplemented(message = $message, label = $label $(, note = $note)?)]
        pub trait $equal<const N: usize, const M: usize> {}
        impl<T: ?Sized, const N: usize> $equal<N, N> for T {}
    };
}

dim_relation!(
    /// matmul and bmm: the left matrix's columns equal the right matrix's rows.
    InnerDims,
    InnerDimsPair,
    ColumnsMatchRows,
    panic = "matmul: the left matrix's columns and the right matrix's rows differ",
    message = "matmul: the left matrix has {N} columns but the right matrix has {M} rows",
    label = "inner dimensions differ",
    note = "a matrix product multiplies [M, K] by [K, N]: both must have the same K",
);

dim_relation!(
    /// bmm: both operands hold the same number of matrices.
    BatchDims,
    BatchDimsPair,
    BatchesMatch,
    panic = "bmm: the two operands hold different numbers of matrices",
    message = "bmm: the left operand holds a batch of {N} matrices but the right one holds {M}",
    label = "batch sizes differ",
    note = "a batched product multiplies [B, M, K] by [B, K, N]: both must have the same B",
);

dim_relation!(
    /// linear: the input's features equal the layer's in-features (the weight's columns).
    InFeatures,
    InFeaturesPair,
    FeaturesMatch,
    panic = "linear: the input's features and the layer's in-features differ",
    message = "linear: the input has {N} features, the layer expects {M}",
    label = "feature counts differ",
    note = "a linear layer maps [batch, in_features] to [batch, out_features] with a weight [out_features, in_features]",
);

/// reshape: source and target hold the same number of elements. Implemented only for typenum's
/// `B1`, the result of `IsEqual` on the two element counts when they agree.
#[diagnostic::on_unimplemented(
    message = "reshape: `{Src}` and `{Dst}` hold different numbers of elements",
    label = "element counts differ",
    note = "a reshape keeps every element, so the products of the dims must be equal"
)]
pub trait ReshapeFits<Src, Dst> {}

#[diagnostic::do_not_recommend]
impl<Src, Dst> ReshapeFits<Src, Dst> for B1 {}

/// Panics with the op's name and both shapes when runtime shapes differ.
pub(crate) fn assert_same_dims(op: &str, a: &[usize], b: &[usize]) {
    assert!(
        a == b,
        "{op}: shapes differ: {} vs {}",
        fmt_dims(a),
        fmt_dims(b)
    );
}
