// Generic over the length, without conv1d's relation.
use shapetorch::prelude::*;

fn features<B: Dimension, W: Dimension>(x: &Tensor<f32, (B, Dim<4>, W)>, w: &Tensor3<f32, 8, 4, 3>) {
    let _y = x.conv1d(w, ConvParams::<1, 1, 1>);
}

fn main() {}
