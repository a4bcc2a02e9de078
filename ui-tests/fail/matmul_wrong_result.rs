// [2, 3] x [3, 5] is [2, 5]; declaring [2, 4] is an error naming both widths.
use shapetorch::prelude::*;

fn main() {
    let a = Tensor2::<f32, 2, 3>::ones();
    let b = Tensor2::<f32, 3, 5>::ones();
    let _c: Tensor2<f32, 2, 4> = a.matmul(&b);
}
