// conv2d_bias: a bias of 6 entries for a weight with 16 output channels.
use shapetorch::prelude::*;

fn main() {
    let x = Tensor4::<f32, 2, 6, 12, 12>::zeros();
    let w = Tensor4::<f32, 16, 6, 5, 5>::zeros();
    let b = Tensor1::<f32, 6>::zeros();
    let _y = x.conv2d_bias(&w, &b, ConvParams::<1, 0, 1>);
}
