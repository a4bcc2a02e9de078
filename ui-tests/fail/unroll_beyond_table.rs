// unroll computes C*K = 5000*3 at compile time; 5000 is beyond the static dim table (4096).
use shapetorch::prelude::*;

fn main() {
    let x = Tensor2::<f32, 5000, 4>::zeros();
    let _u = x.unroll::<3>();
}
