//! Neural-network ops built on tensors: the unroll view, convolution and the linear map
//! (pooling, softmax, dropout, embedding and losses follow). See `src/ops/README.md` for where each lives.

pub mod conv;
pub mod linear;
pub mod pool;
mod unroll;
