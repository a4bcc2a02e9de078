// conv1d_bias: a bias of 5 entries for a weight with 4 output channels.
use shapetorch::prelude::*;

fn main() {
    let x = Tensor3::<f32, 2, 3, 10>::zeros();
    let w = Tensor3::<f32, 4, 3, 5>::zeros();
    let b = Tensor1::<f32, 5>::zeros();
    let _y = x.conv1d_bias(&w, &b, ConvParams::<1, 0, 1>);
}
