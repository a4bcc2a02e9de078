// A reduction over any shape, without its relation.
use shapetorch::prelude::*;

fn total<S: Shape>(x: &Tensor<f32, S>) {
    let _y = x.sum::<1>();
}

fn main() {}
