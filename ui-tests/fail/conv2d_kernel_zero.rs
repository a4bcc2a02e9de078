// conv2d: a weight with a kernel 0 high has no taps (PyTorch raises; the loops would return 0).
use shapetorch::prelude::*;

fn main() {
    let x = Tensor4::<f32, 2, 3, 10, 10>::zeros();
    let w = Tensor4::<f32, 4, 3, 0, 3>::zeros();
    let _y = x.conv2d(&w, ConvParams::<1, 0, 1>);
}
