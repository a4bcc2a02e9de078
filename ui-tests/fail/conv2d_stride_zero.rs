// conv2d: a stride of 0.
use shapetorch::prelude::*;

fn main() {
    let x = Tensor4::<f32, 2, 3, 10, 10>::zeros();
    let w = Tensor4::<f32, 4, 3, 3, 3>::zeros();
    let _y = x.conv2d(&w, ConvParams::<0, 0, 1>);
}
