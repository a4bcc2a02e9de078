// conv1d: a weight with a kernel of 0 taps (PyTorch raises; the loops would return 0).
use shapetorch::prelude::*;

fn main() {
    let x = Tensor3::<f32, 2, 3, 10>::zeros();
    let w = Tensor3::<f32, 4, 3, 0>::zeros();
    let _y = x.conv1d(&w, ConvParams::<1, 0, 1>);
}
