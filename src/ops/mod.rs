//! Neural-network ops built on tensors: the unroll view, convolution, the linear map, softmax
//! and log-softmax, dropout, embedding lookups, losses, pooling and batch normalisation. Each is a method on
//! [`Tensor`](crate::Tensor) (`x.softmax::<1>()`, `logits.cross_entropy(&labels)`,
//! `table.embedding(&ids)`); see `src/ops/README.md` for where each lives.

pub mod batch_norm;
pub mod conv;
mod dropout;
mod embedding;
pub mod linear;
mod loss;
mod parallel;
pub mod pool;
mod softmax;
mod unroll;
