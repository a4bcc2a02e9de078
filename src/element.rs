//! Element types: `f32` and `f64`, sealed so that every kernel (the GEMM among them) knows them all.

use std::fmt::{Debug, Display};
use std::iter::Sum;

use num_traits::Float;

/// A tensor element: `f32` or `f64`.
///
/// The trait is sealed (no other crate can implement it): the matrix multiply hands raw
/// pointers to the `gemm` crate, which supports exactly these two types.
pub trait Element:
    sealed::Sealed
    + Float
    + Sum
    + Default
    + Debug
    + Display
    + Send
    + Sync
    + std::ops::AddAssign
    + 'static
{
    /// `value` converted to this type (for literals in kernels and tests).
    fn of(value: f64) -> Self;
}

impl Element for f32 {
    #[inline(always)]
    fn of(value: f64) -> Self {
        value as f32
    }
}

impl Element for f64 {
    #[inline(always)]
    fn of(value: f64) -> Self {
        value
    }
}

pub(crate) mod sealed {
    use std::sync::LazyLock;

    use crate::memory::Pool;

    /// Implemented only for the element types this crate supports; carries what the crate
    /// keeps per element type.
    pub trait Sealed: Sized {
        /// The pool of free buffers of this type ([`crate::memory`]).
        fn pool() -> &'static Pool<Self>;
    }

    impl Sealed for f32 {
        fn pool() -> &'static Pool<f32> {
            static POOL: LazyLock<Pool<f32>> = LazyLock::new(Pool::default);
            &POOL
        }
    }

    impl Sealed for f64 {
        fn pool() -> &'static Pool<f64> {
            static POOL: LazyLock<Pool<f64>> = LazyLock::new(Pool::default);
            &POOL
        }
    }
}
