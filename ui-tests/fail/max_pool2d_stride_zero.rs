// max_pool2d: a stride of 0 along the width.
use shapetorch::prelude::*;

fn main() {
    let x = Tensor4::<f32, 1, 2, 8, 8>::zeros();
    let _y = x.max_pool2d_with(Pool2d::<2, 2, 2, 0>);
}
