// conv2d needs [batch, channels, height, width]; a 3-D [channels, height, width] image is not one.
use shapetorch::prelude::*;

fn main() {
    let x = Tensor3::<f32, 1, 28, 28>::zeros();
    let w = Tensor4::<f32, 6, 1, 5, 5>::zeros();
    let _y = x.conv2d(&w, ConvParams::<1, 0, 1>);
}
