// conv1d takes ConvParams<STRIDE, PADDING, DILATION>; ConvParams2d sets height and width apart.
use shapetorch::prelude::*;

fn main() {
    let x = Tensor3::<f32, 2, 3, 10>::zeros();
    let w = Tensor3::<f32, 4, 3, 3>::zeros();
    let _y = x.conv1d(&w, ConvParams2d::<1, 1, 0, 1>);
}
