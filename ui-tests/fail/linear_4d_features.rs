// linear on a 4-D [batch, channels, height, width] input: flatten first.
use shapetorch::prelude::*;

fn main() {
    let x = Tensor4::<f32, 8, 16, 4, 4>::zeros();
    let w = Tensor2::<f32, 120, 256>::zeros();
    let _y = x.linear(&w);
}
