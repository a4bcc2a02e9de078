//! Convolution: conv1d and conv2d kernels (naive reference, direct, unroll + matrix multiply).
#[doc(hidden)]
pub mod direct;
mod geometry;
#[cfg(test)]
mod kernel_tests;
#[doc(hidden)]
pub mod naive;
#[doc(hidden)]
pub mod unroll;
pub use geometry::ConvGeometry;

/// The three run-time kernels, for benches: `naive` (reference), `direct`, `unroll`.
#[doc(hidden)]
pub mod kernels {
    pub use super::{direct, naive, unroll};
}
