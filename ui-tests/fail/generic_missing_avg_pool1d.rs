// Generic over the length, without avg_pool1d's relation.
use shapetorch::prelude::*;

fn pool<B: Dimension, W: Dimension>(x: &Tensor<f32, (B, Dim<4>, W)>) {
    let _y = x.avg_pool1d_with(Pool1d::<3, 2, 1>);
}

fn main() {}
