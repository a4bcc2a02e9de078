// conv2d: a 3x3 kernel on an input 2 high.
use shapetorch::prelude::*;

fn main() {
    let x = Tensor4::<f32, 2, 3, 2, 10>::zeros();
    let w = Tensor4::<f32, 4, 3, 3, 3>::zeros();
    let _y = x.conv2d(&w, ConvParams::<1, 0, 1>);
}
