//! Data sets and batches: the MNIST IDX reader, the MNIST-1D generator, seeded mini-batches of
//! typed tensors.

mod batch;
pub mod mnist;
pub mod mnist1d;

pub use batch::{Batches, Mnist1dBatch, MnistBatch, MNIST_MEAN_STD};
