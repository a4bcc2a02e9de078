// linear: a [B, 256] input into a layer that expects 250 features.
use shapetorch::prelude::*;

fn main() {
    let x = Tensor::<f32, (usize, Dim<256>)>::zeros_shaped((8, Dim));
    let w = Tensor2::<f32, 120, 250>::zeros();
    let _y = x.linear(&w);
}
