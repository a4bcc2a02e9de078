//! Neural-network ops built on tensors: the unroll view and convolution (pooling, softmax,
//! dropout, embedding and losses follow). See `src/ops/README.md` for where each lives.

pub mod conv;
mod unroll;
