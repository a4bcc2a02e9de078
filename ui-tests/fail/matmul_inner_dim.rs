// matmul: the left matrix's columns (3) differ from the right matrix's rows (4).
use shapetorch::prelude::*;

fn main() {
    let a = Tensor2::<f32, 2, 3>::ones();
    let b = Tensor2::<f32, 4, 5>::ones();
    let _c = a.matmul(&b);
}
