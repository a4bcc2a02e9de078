// A pooling layer whose window (5 x 2) is taller than what reaches it (4 x 4).
use shapetorch::prelude::*;

fn main() {
    let x = Tensor::<f32, (usize, Dim<16>, Dim<4>, Dim<4>)>::zeros_shaped((2, Dim, Dim, Dim));
    let _y = MaxPool2d::<5, 2>.forward(x);
}
