// conv1d: a kernel of 5 taps on an input 4 wide, no padding.
use shapetorch::prelude::*;

fn main() {
    let x = Tensor3::<f32, 2, 3, 4>::zeros();
    let w = Tensor3::<f32, 4, 3, 5>::zeros();
    let _y = x.conv1d(&w, ConvParams::<1, 0, 1>);
}
