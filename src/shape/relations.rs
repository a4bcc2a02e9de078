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

use super::{fmt_dims, Dim, Dimension, Shape};

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
    /// conv with a bias: the bias has one entry per output channel.
    BiasDims,
    BiasDimsPair,
    BiasMatchesChannels,
    panic = "convolution: the bias length differs from the weight's output channels",
    message = "convolution: the bias has {N} entries but the weight has {M} output channels",
    label = "bias length differs from out_channels",
);

dim_relation!(
    /// linear with a bias: the bias has one entry per output feature.
    LinearBiasDims,
    LinearBiasDimsPair,
    LinearBiasMatchesOutputs,
    panic = "linear: the bias length differs from the weight's output features",
    message = "linear: the bias has {N} entries but the weight has {M} output features",
    label = "bias length differs from out_features",
);

/// The relation of `linear` (`x · Wᵀ`, `W` of shape `[out_features, K]`): `Self` is
/// `[batch, in_features]` or `[batch, length, in_features]` and its last dim equals `K`,
/// checked by the compiler when both are static, when the op runs if either is a runtime
/// `usize`. The output is [`LinearOut`]. Generic code writes
/// `where (B, X): LinearShape<Dim<IN>>` (no bound is needed when `X` is `Dim<IN>` itself).
pub trait LinearShape<K>: Shape {}

impl<S: Shape, K> LinearShape<K> for S where (): LinearCheck<S, K> {}

/// The shape `linear` gives an input `S` with a weight of `O` output features: `S` with its
/// last dim replaced by `O`.
pub type LinearOut<S, O> = <S as ReplaceLast<O>>::Output;

/// `Self` with its last dim replaced by `O`.
pub trait ReplaceLast<O>: Shape {
    /// The shape with `O` last.
    type Output: Shape;
    /// The shape with `o` last, as a value.
    fn replace_last(&self, o: O) -> Self::Output;
}

macro_rules! replace_last {
    ($($d:ident),*) => {
        impl<$($d: Dimension,)* L: Dimension, O: Dimension> ReplaceLast<O> for ($($d,)* L,) {
            type Output = ($($d,)* O,);
            #[inline]
            #[allow(non_snake_case)]
            fn replace_last(&self, o: O) -> Self::Output {
                let ($($d,)* _,) = *self;
                ($($d,)* o,)
            }
        }
    };
}
replace_last!();
replace_last!(A);
replace_last!(A, B);
replace_last!(A, B, C);
replace_last!(A, B, C, D);

/// `linear`'s check, per rank and per kind of the two feature dims, asked of `()`; its message
/// is the one for an input of the wrong rank.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "linear takes a 2-D [batch, in_features] or 3-D [batch, length, in_features] input; the input is `{X}`",
    label = "not a 2-D or 3-D input",
    note = "in generic code, add the op's relation: `where {X}: LinearShape<{K}>`"
)]
pub trait LinearCheck<X, K> {}

/// linear: the input's features equal the weight's input features.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "linear: the input has {N} features, the layer expects {M}",
    label = "feature counts differ",
    note = "the weight is [out_features, in_features]; its second dim must equal the input's last dim"
)]
pub trait FeaturesEqual<const N: usize, const M: usize> {}
impl<T: ?Sized, const N: usize> FeaturesEqual<N, N> for T {}

macro_rules! linear_check {
    ($($d:ident),+) => {
        impl<T: ?Sized, $($d: Dimension,)+ const N: usize, const M: usize>
            LinearCheck<($($d,)+ Dim<N>), Dim<M>> for T
        where
            (): FeaturesEqual<N, M>,
        {
        }
        impl<T: ?Sized, $($d: Dimension,)+ const N: usize> LinearCheck<($($d,)+ Dim<N>), usize>
            for T
        {
        }
        impl<T: ?Sized, $($d: Dimension,)+ const M: usize> LinearCheck<($($d,)+ usize), Dim<M>>
            for T
        {
        }
        impl<T: ?Sized, $($d: Dimension,)+> LinearCheck<($($d,)+ usize), usize> for T {}
    };
}
linear_check!(A);
linear_check!(A, B);

/// Panics with the op's name and both shapes when runtime shapes differ.
pub(crate) fn assert_same_dims(op: &str, a: &[usize], b: &[usize]) {
    assert!(
        a == b,
        "{op}: shapes differ: {} vs {}",
        fmt_dims(a),
        fmt_dims(b)
    );
}
