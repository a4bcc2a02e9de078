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

    /// `s` as `f32`s if this is `f32`. With [`as_f64`](Self::as_f64) and the `_mut` twins,
    /// generic code hands its slices to kernels compiled once inside the library for each
    /// element type. Why: a generic function is compiled in the crate that uses it, at that
    /// crate's opt-level, so a user's debug build would run the kernels unoptimised whatever
    /// `[profile.dev.package.shapetorch]` says.
    #[doc(hidden)]
    fn as_f32(s: &[Self]) -> Option<&[f32]>;
    /// `s` as `f32`s if this is `f32` (see [`as_f32`](Self::as_f32)).
    #[doc(hidden)]
    fn as_f32_mut(s: &mut [Self]) -> Option<&mut [f32]>;
    /// `s` as `f64`s if this is `f64` (see [`as_f32`](Self::as_f32)).
    #[doc(hidden)]
    fn as_f64(s: &[Self]) -> Option<&[f64]>;
    /// `s` as `f64`s if this is `f64` (see [`as_f32`](Self::as_f32)).
    #[doc(hidden)]
    fn as_f64_mut(s: &mut [Self]) -> Option<&mut [f64]>;
}

impl Element for f32 {
    #[inline(always)]
    fn of(value: f64) -> Self {
        value as f32
    }
    fn as_f32(s: &[Self]) -> Option<&[f32]> {
        Some(s)
    }
    fn as_f32_mut(s: &mut [Self]) -> Option<&mut [f32]> {
        Some(s)
    }
    fn as_f64(_: &[Self]) -> Option<&[f64]> {
        None
    }
    fn as_f64_mut(_: &mut [Self]) -> Option<&mut [f64]> {
        None
    }
}

impl Element for f64 {
    #[inline(always)]
    fn of(value: f64) -> Self {
        value
    }
    fn as_f32(_: &[Self]) -> Option<&[f32]> {
        None
    }
    fn as_f32_mut(_: &mut [Self]) -> Option<&mut [f32]> {
        None
    }
    fn as_f64(s: &[Self]) -> Option<&[f64]> {
        Some(s)
    }
    fn as_f64_mut(s: &mut [Self]) -> Option<&mut [f64]> {
        Some(s)
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
