// unflatten from any shape, without its relation.
use shapetorch::prelude::*;

fn maps<S: Shape>(x: &Tensor<f32, S>) {
    let _y: Tensor<f32, (usize, Dim<16>, Dim<5>, Dim<5>)> = x.unflatten();
}

fn main() {}
