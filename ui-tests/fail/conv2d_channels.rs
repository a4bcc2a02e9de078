// conv2d: the input has 1 channel, the weight expects 3 (an RGB kernel on a grey image).
use shapetorch::prelude::*;

fn main() {
    let x = Tensor4::<f32, 8, 1, 28, 28>::zeros();
    let w = Tensor4::<f32, 6, 3, 5, 5>::zeros();
    let _y = x.conv2d(&w, ConvParams::<1, 0, 1>);
}
