// conv2d with groups=4 on 6 input channels: 6 does not split into 4 groups.
use shapetorch::prelude::*;

fn main() {
    let x = Tensor4::<f32, 2, 6, 16, 16>::zeros();
    let w = Tensor4::<f32, 8, 2, 3, 3>::zeros();
    let _y = x.conv2d(&w, ConvParams::<1, 1, 1, 4>);
}
