// Generic over the channels, without flatten's relation: the product needs the compiler's
// arithmetic, so the relation must be written.
use shapetorch::prelude::*;

fn features<B: Dimension, const O: usize>(x: &Tensor<f32, (B, Dim<O>, Dim<12>, Dim<12>)>) {
    let _y = x.flatten();
}

fn main() {}
