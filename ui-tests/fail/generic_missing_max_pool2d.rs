// Generic over height and width, without max_pool2d's relation.
use shapetorch::prelude::*;

fn pool<B: Dimension, C: Dimension, H: Dimension, W: Dimension>(x: &Tensor<f32, (B, C, H, W)>) {
    let _y = x.max_pool2d::<2, 2>();
}

fn main() {}
