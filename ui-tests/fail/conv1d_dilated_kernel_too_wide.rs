// conv1d: 3 taps dilated by 4 span 9 positions; the input is 6 wide with 1 of padding (8).
use shapetorch::prelude::*;

fn main() {
    let x = Tensor3::<f32, 1, 2, 6>::zeros();
    let w = Tensor3::<f32, 2, 2, 3>::zeros();
    let _y = x.conv1d(&w, ConvParams::<1, 1, 4>);
}
