// conv1d: 10 - 5 + 1 = 6 outputs, declared as 7.
use shapetorch::prelude::*;

fn main() {
    let x = Tensor3::<f32, 2, 3, 10>::zeros();
    let w = Tensor3::<f32, 4, 3, 5>::zeros();
    let _y: Tensor3<f32, 2, 4, 7> = x.conv1d(&w, ConvParams::<1, 0, 1>);
}
