// max_pool2d needs [batch, channels, height, width]; a [channels, height, width] image is not one.
use shapetorch::prelude::*;

fn main() {
    let x = Tensor3::<f32, 6, 24, 24>::zeros();
    let _y = x.max_pool2d::<2, 2>();
}
