//! Shape relations checked at compile time, each a marker trait whose error names the op and
//! the dims.
//!
//! A relation between two dims is a trait implemented for `Dim<N>` with itself (checked by the
//! compiler), and for any pairing with a runtime `usize` (checked when the op runs, with a panic
//! message naming the op and both sizes). Relations on typenum arithmetic (element counts) are
//! implemented only for typenum's `B1`, the result of a comparison that holds.

use typenum::B1;

use super::{fmt_dims, Dim, Dimension};

macro_rules! dim_relation {
    ($(#[$doc:meta])* $name:ident, $what:literal, $message:literal, $label:literal) => {
        $(#[$doc])*
        #[diagnostic::on_unimplemented(message = $message, label = $label)]
        pub trait $name<Rhs: Dimension>: Dimension {
            /// The common size; panics naming both sizes when a runtime dim disagrees.
            fn check(&self, rhs: &Rhs) -> usize {
                let (a, b) = (self.size(), rhs.size());
                assert!(a == b, concat!($what, ": {} vs {}"), a, b);
                a
            }
        }
        impl<const N: usize> $name<Dim<N>> for Dim<N> {}
        impl<const N: usize> $name<usize> for Dim<N> {}
        impl<const N: usize> $name<Dim<N>> for usize {}
        impl $name<usize> for usize {}
    };
}

dim_relation!(
    /// Two dims that must be equal (generic relation for ops without a message of their own).
    SameDim,
    "dimensions differ",
    "dimensions differ: `{Self}` vs `{Rhs}`",
    "these dimensions must be equal"
);

dim_relation!(
    /// matmul: the left matrix's columns equal the right matrix's rows.
    InnerDims,
    "matmul: the left matrix's columns and the right matrix's rows differ",
    "matmul: the left matrix has `{Self}` columns but the right matrix has `{Rhs}` rows",
    "inner dimensions differ"
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
