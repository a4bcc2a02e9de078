// conv2d with PyTorch's tuples: padding (0, 1) makes the input 6 wide, too narrow for a kernel 7 wide.
use shapetorch::prelude::*;

fn main() {
    let x = Tensor4::<f32, 1, 1, 4, 4>::zeros();
    let w = Tensor4::<f32, 2, 1, 1, 7>::zeros();
    let _y = x.conv2d(&w, ConvParams2d::<1, 1, 0, 1>);
}
