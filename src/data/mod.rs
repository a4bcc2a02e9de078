//! Data sets as plain bytes and floats: the MNIST IDX reader and the MNIST-1D generator.

pub mod mnist;
pub mod mnist1d;
