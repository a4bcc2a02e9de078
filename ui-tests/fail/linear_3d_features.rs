// linear on [batch, channels, features] whose last dim does not match: it maps the last dim,
// so the message says to flatten first.
use shapetorch::prelude::*;

fn main() {
    let x = Tensor::<f32, (usize, Dim<16>, Dim<16>)>::zeros_shaped((2, Dim, Dim));
    let w = Tensor2::<f32, 10, 256>::zeros();
    let _y = x.linear(&w);
}
