// Generic over height and width, without conv2d's relation: the error names the relation to add.
use shapetorch::prelude::*;

fn features<B: Dimension, H: Dimension, W: Dimension>(
    x: &Tensor<f32, (B, Dim<1>, H, W)>,
    w: &Tensor4<f32, 6, 1, 5, 5>,
) {
    let _y = x.conv2d(w, ConvParams::<1, 0, 1>);
}

fn main() {}
