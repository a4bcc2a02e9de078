// conv2d: (28 + 2*1 - 3)/2 + 1 = 14 rows and columns, declared as 13.
use shapetorch::prelude::*;

fn main() {
    let x = Tensor4::<f32, 4, 1, 28, 28>::zeros();
    let w = Tensor4::<f32, 8, 1, 3, 3>::zeros();
    let _y: Tensor4<f32, 4, 8, 13, 13> = x.conv2d(&w, ConvParams::<2, 1, 1>);
}
