// linear over any input shape, without its relation.
use shapetorch::prelude::*;

fn head<S: Shape>(x: &Tensor<f32, S>, w: &Tensor2<f32, 10, 64>) {
    let _y = x.linear(w);
}

fn main() {}
