// One mistake, one error: a window taller than the input, then flatten and linear on the
// result, get no follow-on errors.
use shapetorch::prelude::*;

fn main() {
    let x = Tensor4::<f32, 2, 3, 4, 8>::zeros();
    let fc = Tensor2::<f32, 10, 12>::zeros();
    let _y = x.max_pool2d::<5, 2>().flatten().linear(&fc);
}
