// A block generic over its stride, on a concrete input, without conv2d's relation.
use shapetorch::prelude::*;

fn downsample<const S: usize>(x: &Tensor4<f32, 2, 4, 8, 8>, w: &Tensor4<f32, 4, 4, 3, 3>) {
    let _y = x.conv2d(w, ConvParams::<S, 1, 1>);
}

fn main() {}
