// flatten computes the per-sample size: 16 * 5 * 5 = 400, declared as 256.
use shapetorch::prelude::*;

fn main() {
    let x = Tensor::<f32, (usize, Dim<16>, Dim<5>, Dim<5>)>::zeros_shaped((8, Dim, Dim, Dim));
    let _y: Tensor<f32, (usize, Dim<256>)> = x.flatten();
}
