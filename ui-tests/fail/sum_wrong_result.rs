// Summing [2, 3] over axis 0 leaves [3], not [2].
use shapetorch::prelude::*;

fn main() {
    let x = Tensor2::<f32, 2, 3>::ones();
    let _s: Tensor1<f32, 2> = x.sum::<0>();
}
