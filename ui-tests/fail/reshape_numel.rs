// reshape keeps every element: [2, 3] (6 elements) cannot become [4, 2] (8 elements).
use shapetorch::prelude::*;

fn main() {
    let x = Tensor2::<f32, 2, 3>::ones();
    let _y: Tensor2<f32, 4, 2> = x.reshape();
}
