// reshape compares element counts at compile time, through typenum; a dim of 5000 is beyond the
// static dim table (0..=4096), so this reshape needs runtime dims (`reshape_to`).
use shapetorch::prelude::*;

fn main() {
    let x = Tensor2::<f32, 5000, 2>::zeros();
    let _y: Tensor2<f32, 10, 1000> = x.reshape();
}
