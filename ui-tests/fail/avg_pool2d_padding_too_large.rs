// avg_pool2d: padding 2 on a 3 x 3 window; PyTorch allows at most 3/2 = 1.
use shapetorch::prelude::*;

fn main() {
    let x = Tensor4::<f32, 1, 2, 8, 8>::zeros();
    let _y = x.avg_pool2d_with(Pool2d::<3, 3, 1, 1, 2, 1>);
}
