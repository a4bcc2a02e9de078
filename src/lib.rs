//! # shapetorch
//!
//! Tensors whose shapes are types. Batch, channels, height, width and kernel sizes are
//! type-level constants, so the compiler checks that shapes fit and computes derived ones, on
//! stable Rust.
//!
//! A guided tour:
//! - [`shape`]: dims (`Dim<N>` or a runtime `usize`), shapes as tuples, compile-time shape
//!   arithmetic through typenum.
//! - [`tensor`]: the [`Tensor`] type, constructors, elementwise ops, reductions, `matmul`,
//!   `reshape`, `permute`, `broadcast`.
//! - [`autodiff`]: reverse mode: [`Tape`], `backward()`, typed [`Gradients`], and
//!   [`gradcheck`](autodiff::gradcheck).
//! - [`ops`]: the lecture's unroll view and convolution.
//! - [`data`]: data sets: MNIST from its IDX files, the MNIST-1D generator.
//!
//! ```
//! use shapetorch::prelude::*;
//! let tape = Tape::new();
//! let w = Tensor2::<f64, 2, 3>::from_fn(|[i, j]| (i + j) as f64).trace(&tape);
//! let x = Tensor2::<f64, 3, 1>::ones();
//! let y: Tensor2<f64, 2, 1> = w.matmul(&x);       // the inner 3 is checked by the compiler
//! let grads = y.sum_all().backward();
//! let grad_w: Tensor2<f64, 2, 3> = grads.get(&w).unwrap(); // a gradient has its tensor's type
//! assert_eq!(grad_w.to_vec(), vec![1.0; 6]);
//! ```
#![warn(missing_docs)]

pub mod autodiff;
pub mod data;
pub mod error;
pub mod ops;
pub mod shape;
pub mod tensor;

pub use autodiff::{Gradients, Tape};
pub use error::{Error, Result};
pub use tensor::Tensor;

/// Everything a model file needs: `use shapetorch::prelude::*;`.
pub mod prelude {
    pub use crate::autodiff::{gradcheck, Gradients, Tape};
    pub use crate::error::{Error, Result};
    pub use crate::ops::conv::ConvParams;
    pub use crate::shape::{
        ConstDim, ConstShape, Dim, Dimension, Rank0, Rank1, Rank2, Rank3, Rank4, Rank5, Shape,
    };
    pub use crate::tensor::{
        Element, Tensor, Tensor0, Tensor1, Tensor2, Tensor3, Tensor4, Tensor5,
    };
}

/// The README's Rust snippets, compiled and run as doctests so they cannot go stale.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
