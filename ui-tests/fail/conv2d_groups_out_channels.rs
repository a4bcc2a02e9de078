// conv2d with groups=4: 8 input channels split (2 a group), but 6 output channels do not.
use shapetorch::prelude::*;

fn main() {
    let x = Tensor4::<f32, 2, 8, 16, 16>::zeros();
    let w = Tensor4::<f32, 6, 2, 3, 3>::zeros();
    let _y = x.conv2d(&w, ConvParams::<1, 1, 1, 4>);
}
