// Elementwise ops need one shape: [2, 3] + [3, 2] does not compile.
use shapetorch::prelude::*;

fn main() {
    let a = Tensor2::<f32, 2, 3>::ones();
    let b = Tensor2::<f32, 3, 2>::ones();
    let _c = &a + &b;
}
