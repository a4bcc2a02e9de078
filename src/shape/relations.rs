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
    /// conv1d with a bias: the bias has one entry per output channel.
    Conv1dBiasDims,
    Conv1dBiasDimsPair,
    Conv1dBiasMatchesChannels,
    panic = "conv1d: the bias length differs from the weight's output channels",
    message = "conv1d: the bias has {N} entries but the weight has {M} output channels",
    label = "bias length differs from out_channels",
);

dim_relation!(
    /// conv2d with a bias: the bias has one entry per output channel.
    Conv2dBiasDims,
    Conv2dBiasDimsPair,
    Conv2dBiasMatchesChannels,
    panic = "conv2d: the bias length differs from the weight's output channels",
    message = "conv2d: the bias has {N} entries but the weight has {M} output channels",
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

/// The relation of `linear` (`x · Wᵀ`, `W` of shape `[out_features, K]`): `Self` is any shape
/// of rank 1 to 5 (`[batch, in_features]`, `[batch, length, in_features]`, ...) whose last dim
/// equals `K`, checked by the compiler when both are static, when the op runs if either is a
/// runtime `usize`, as `torch.nn.functional.linear` maps the last dim. The output is
/// [`LinearOut`]. Generic code writes `where S: LinearShape<Dim<IN>>` (no bound is needed when
/// the input is `(B, Dim<IN>)` with the weight's own `Dim<IN>`).
pub trait LinearShape<K>: ReplaceLast {}

impl<S: LastDim, K> LinearShape<K> for S where (): LinearPair<S::Last, K, S::Depth> {}

/// The shape `linear` gives an input `S` with a weight of `O` output features: `S` with its
/// last dim replaced by `O`.
pub type LinearOut<S, O> = <S as ReplaceLast>::Output<O>;

/// [`LinearShape`] with its output as a parameter: the bound of `x.linear(&w)`, so that a
/// generic shape without the relation fails with the relation's message (E0277) rather than
/// "the method exists but its trait bounds were not satisfied" (E0599). Implemented for every
/// [`LinearShape`].
#[diagnostic::on_unimplemented(
    message = "linear: the compiler cannot see the last dim of `{Self}`; in generic code, add the op's relation: `where {Self}: LinearShape<Dim<IN>>`"
)]
pub trait LinearTo<K, O: Dimension, Out>: LinearShape<K> {
    /// The output shape's value, `Self` with `o` last.
    fn linear_shape(&self, o: O) -> Out;
}
impl<S: LinearShape<K>, K, O: Dimension> LinearTo<K, O, LinearOut<S, O>> for S {
    #[inline]
    fn linear_shape(&self, o: O) -> LinearOut<S, O> {
        self.replace_last(o)
    }
}

/// `Self` with its last dim replaced by another: the shape of a `linear`, the supertrait of
/// [`LinearShape`] (so generic code names the output without a second bound).
pub trait ReplaceLast: Shape {
    /// The shape with `O` last.
    type Output<O: Dimension>: Shape;
    /// The shape with `o` last, as a value.
    fn replace_last<O: Dimension>(&self, o: O) -> Self::Output<O>;
}

/// A shape's last dim, and whether it has more than two dims (`linear` then maps the last dim
/// at every position of the others, and its message says so).
#[doc(hidden)]
pub trait LastDim: ReplaceLast {
    /// The last dim.
    type Last: Dimension;
    /// [`Flat`] for rank 1 and 2, [`Deep`] above.
    type Depth;
}

/// A shape of rank 1 or 2 (for `linear`'s message).
#[doc(hidden)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flat;
/// A shape of rank 3 or more (for `linear`'s message).
#[doc(hidden)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Deep;

macro_rules! replace_last {
    ($depth:ident; $($d:ident),*) => {
        impl<$($d: Dimension,)* L: Dimension> ReplaceLast for ($($d,)* L,) {
            type Output<O: Dimension> = ($($d,)* O,);
            #[inline]
            #[allow(non_snake_case)]
            fn replace_last<O: Dimension>(&self, o: O) -> Self::Output<O> {
                let ($($d,)* _,) = *self;
                ($($d,)* o,)
            }
        }
        // `do_not_recommend`: a generic shape is not listed against these impls; the message
        // of `LinearTo` says what to add.
        #[diagnostic::do_not_recommend]
        impl<$($d: Dimension,)* L: Dimension> LastDim for ($($d,)* L,) {
            type Last = L;
            type Depth = $depth;
        }
    };
}
replace_last!(Flat;);
replace_last!(Flat; A);
replace_last!(Deep; A, B);
replace_last!(Deep; A, B, C);
replace_last!(Deep; A, B, C, D);

/// `linear`'s check on the input's last dim `L` and the weight's input features `K`, asked of
/// `()`: two static dims are compared by the compiler, a runtime `usize` when the op runs.
#[doc(hidden)]
pub trait LinearPair<L, K, Depth> {}

/// linear on a 1-D or 2-D input: its features equal the weight's input features.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "linear: the input has {N} features, the layer expects {M}",
    label = "feature counts differ",
    note = "the weight is [out_features, in_features]; its second dim must equal the input's last dim"
)]
pub trait FeaturesEqual<const N: usize, const M: usize> {}
impl<T: ?Sized, const N: usize> FeaturesEqual<N, N> for T {}

/// linear on an input of rank 3 or more: the last dim equals the weight's input features.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "linear: the input's last dim has {N} features, the layer expects {M}",
    label = "feature counts differ",
    note = "linear maps the last dim at every position of the others; to use a whole sample as the features, flatten it first: `x.flatten()` gives [batch, features]"
)]
pub trait LastDimFeaturesEqual<const N: usize, const M: usize> {}
impl<T: ?Sized, const N: usize> LastDimFeaturesEqual<N, N> for T {}

impl<T: ?Sized, const N: usize, const M: usize> LinearPair<Dim<N>, Dim<M>, Flat> for T where
    (): FeaturesEqual<N, M>
{
}
impl<T: ?Sized, const N: usize, const M: usize> LinearPair<Dim<N>, Dim<M>, Deep> for T where
    (): LastDimFeaturesEqual<N, M>
{
}
impl<T: ?Sized, const N: usize, Depth> LinearPair<Dim<N>, usize, Depth> for T {}
impl<T: ?Sized, const M: usize, Depth> LinearPair<usize, Dim<M>, Depth> for T {}
impl<T: ?Sized, Depth> LinearPair<usize, usize, Depth> for T {}

/// Panics with the op's name and both shapes when runtime shapes differ.
pub(crate) fn assert_same_dims(op: &str, a: &[usize], b: &[usize]) {
    assert!(
        a == b,
        "{op}: shapes differ: {} vs {}",
        fmt_dims(a),
        fmt_dims(b)
    );
}
