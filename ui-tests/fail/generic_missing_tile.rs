// Generic over height and width, without tile's relation.
use shapetorch::prelude::*;

fn tiles<H: Dimension, W: Dimension>(x: &Tensor<f32, (usize, Dim<1>, H, W)>) {
    let _y = x.tile::<2, 2>();
}

fn main() {}
