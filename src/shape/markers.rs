//! The marker types that compile errors print: the op whose check failed (`conv2d`,
//! `max_pool1d`, `sum`, `cross_entropy`, ...) and the words of its message (a `kernel` or a
//! `window`, `3 high`, `taller`). Never built; each is a unit struct whose name is its only use.
//!
//! A failed check's typenum bit becomes the op's marker ([`Check`](super::Check)), and the guard
//! that fails prints it as its `{Self}`: "conv2d: the kernel (3 high, dilation 1) is taller than
//! the input (2 high, padding 0)", with the help line "the trait `WindowFits<kernel, high,
//! taller, 2, 3, 0, 1>` is not implemented for `conv2d`". The names must stay unique among the
//! types a user's crate can see (and not `#[doc(hidden)]`), so that rustc prints them bare.

/// Unit structs whose only use is their name in compile errors.
macro_rules! markers {
    ($($(#[$doc:meta])* $name:ident),+ $(,)?) => {$(
        $(#[$doc])*
        #[allow(non_camel_case_types)]
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        pub struct $name;
    )+};
}

markers!(
    /// The op `conv1d`.
    conv1d,
    /// The op `conv2d`.
    conv2d,
    /// The op `max_pool1d`.
    max_pool1d,
    /// The op `max_pool2d`.
    max_pool2d,
    /// The op `avg_pool1d`.
    avg_pool1d,
    /// The op `avg_pool2d`.
    avg_pool2d,
    /// The op `tile` (and its window, a tile).
    tile,
    /// The op `sum`.
    sum,
    /// The op `mean`.
    mean,
    /// The op `max`.
    max,
    /// The op `permute`.
    permute,
    /// The op `reshape`.
    reshape,
    /// The op `unflatten`.
    unflatten,
    /// The op `nll_loss`.
    nll_loss,
    /// The op `cross_entropy`.
    cross_entropy,
    /// The op `embedding`.
    embedding,
    /// The op `argmax`.
    argmax,
    /// The op `one_hot`.
    one_hot,
    /// A convolution's window.
    kernel,
    /// A pooling's window.
    window,
    /// "3 high".
    high,
    /// "taller".
    taller,
    /// "the height".
    height,
    /// "3 wide".
    wide,
    /// "wider".
    wider,
    /// "the width".
    width,
);
