// max_pool2d: a 5 x 2 window on an input 4 high.
use shapetorch::prelude::*;

fn main() {
    let x = Tensor4::<f32, 2, 3, 4, 10>::zeros();
    let _y = x.max_pool2d::<5, 2>();
}
