// reshape checks element counts at compile time, so every dim must be static; with a runtime
// batch dim, use `reshape_to`, checked when it runs.
use shapetorch::prelude::*;

fn main() {
    let x = Tensor::<f32, (usize, Dim<6>)>::zeros_shaped((4, Dim));
    let _y: Tensor<f32, (usize, Dim<2>, Dim<3>)> = x.reshape();
}
