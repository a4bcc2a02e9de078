// One mistake, one error: a failed linear in a function with a declared return type.
use shapetorch::prelude::*;

fn head(x: Tensor<f32, (usize, Dim<256>)>, w: &Tensor2<f32, 10, 250>) -> Tensor<f32, (usize, Dim<10>)> {
    x.linear(w)
}

fn main() {
    let _ = head(Tensor::zeros_shaped((1, Dim)), &Tensor2::zeros());
}
