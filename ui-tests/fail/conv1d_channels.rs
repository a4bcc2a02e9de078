// conv1d: the input has 3 channels, the weight expects 5.
use shapetorch::prelude::*;

fn main() {
    let x = Tensor3::<f32, 2, 3, 10>::zeros();
    let w = Tensor3::<f32, 4, 5, 3>::zeros();
    let _y = x.conv1d(&w, ConvParams::<1, 0, 1>);
}
