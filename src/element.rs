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
        /// The type's name in weight files (safetensors' dtype).
        const DTYPE: safetensors::Dtype;
        /// Bytes per element.
        const BYTES: usize;
        /// The element stored little-endian in `bytes` (`BYTES` long).
        fn from_le_slice(bytes: &[u8]) -> Self;
        /// Appends the element, little-endian.
        fn write_le(self, out: &mut Vec<u8>);
    }

    macro_rules! sealed {
        ($t:ty, $dtype:ident) => {
            impl Sealed for $t {
                fn pool() -> &'static Pool<$t> {
                    static POOL: LazyLock<Pool<$t>> = LazyLock::new(Pool::default);
                    &POOL
                }
                const DTYPE: safetensors::Dtype = safetensors::Dtype::$dtype;
                const BYTES: usize = size_of::<$t>();
                fn from_le_slice(bytes: &[u8]) -> Self {
                    let mut b = [0u8; size_of::<$t>()];
                    b.copy_from_slice(bytes);
                    <$t>::from_le_bytes(b)
                }
                fn write_le(self, out: &mut Vec<u8>) {
                    out.extend_from_slice(&self.to_le_bytes());
                }
            }
        };
    }
    sealed!(f32, F32);
    sealed!(f64, F64);
}
