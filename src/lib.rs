//! # shapetorch
//!
//! Tensors whose shapes are types. Batch, channels, height, width and kernel sizes are
//! type-level constants, so the compiler checks that shapes fit and computes derived ones, on
//! stable Rust.
//!
//! A guided tour:
//! - [`shape`]: dims (`Dim<N>` or a runtime `usize`), shapes as tuples, compile-time shape
//!   arithmetic through typenum, and the shape relations: one named bound per op
//!   ([`Conv2dShape`](shape::Conv2dShape), [`FlattenShape`](shape::FlattenShape), ...) that
//!   generic code writes, with aliases for the outputs ([`Conv2dOut`](shape::Conv2dOut), ...).
//! - [`tensor`]: the [`Tensor`] type, constructors, elementwise ops, reductions, `matmul`,
//!   `reshape`, `permute`, `broadcast`.
//! - [`autodiff`]: reverse mode: [`Tape`] (and its rules for training loops), `backward()`,
//!   typed [`Gradients`]; [`gradcheck`](gradcheck::gradcheck) checks any op's gradient.
//! - [`memory`]: the buffer pool that lets a training step reuse the previous step's memory.
//! - [`ops`]: the lecture's unroll view, convolution, the linear map, softmax, dropout,
//!   embedding lookups, losses.
//! - [`nn`]: layers, models ([`model!`]), parameters by name, train/eval mode.
//! - [`optim`]: `Sgd` and `Adam`, PyTorch's update rules.
//! - [`data`]: data sets: MNIST from its IDX files, the MNIST-1D generator.
//! - [`text`]: the MR tokenizer, vocabularies, GloVe vectors, padded id batches.
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
pub mod element;
pub mod error;
mod files;
pub mod gradcheck;
pub mod memory;
pub mod nn;
pub mod ops;
pub mod optim;
pub mod shape;
pub mod tensor;
pub mod text;

pub use autodiff::{Gradients, Tape};
pub use error::{Error, Result};
pub use tensor::Tensor;

/// Everything a model file needs: `use shapetorch::prelude::*;`.
pub mod prelude {
    pub use crate::autodiff::{Gradients, Tape};
    pub use crate::error::{Error, Result};
    pub use crate::gradcheck::gradcheck;
    pub use crate::nn::{AvgPool1d, AvgPool2d, Flatten, MaxPool1d, MaxPool2d};
    pub use crate::nn::{
        Conv1d, Conv2d, Dropout, Embedding, Forward, Init, Linear, Module, ModuleExt, ReLU,
        Sigmoid, Tanh,
    };
    pub use crate::ops::conv::{ConvParams, ConvParams2d, Minitorch};
    pub use crate::ops::pool::{Pool1d, Pool2d};
    pub use crate::optim::{Adam, Optimizer, Sgd};
    pub use crate::shape::{
        ConstDim, ConstShape, Dim, Dimension, Rank0, Rank1, Rank2, Rank3, Rank4, Rank5, Shape,
    };
    // The shape relations: one bound per op for generic code, and the output shapes' aliases.
    pub use crate::shape::{
        AddDims, Axes2, Axes3, Axes4, BatchDim, BatchDims, CatShape, Conv1dOut, Conv1dShape,
        Conv2dOut, Conv2dShape, ConvHyperParams, FlattenShape, Flattened, InnerDims, LinearOut,
        LinearShape, MaxOut, MaxShape, MeanOut, MeanShape, PermuteShape, Permuted, ReplaceLast,
        ReshapeShape, SumOut, SumShape, UnflattenShape,
    };
    pub use crate::shape::{
        AvgPool1dShape, AvgPool2dShape, MaxPool1dShape, MaxPool2dShape, Pool1dOut, Pool2dOut,
        PoolHyperParams, TileShape, Tiled,
    };
    pub use crate::tensor::{
        Element, IndexTensor, Rng, Tensor, Tensor0, Tensor1, Tensor2, Tensor3, Tensor4, Tensor5,
    };
}

/// The README's Rust snippets, compiled and run as doctests so they cannot go stale.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
