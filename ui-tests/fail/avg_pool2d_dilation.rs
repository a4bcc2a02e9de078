// avg_pool2d has no dilation (PyTorch's takes none); max_pool2d does.
use shapetorch::prelude::*;

fn main() {
    let x = Tensor4::<f32, 1, 2, 8, 8>::zeros();
    let _y = x.avg_pool2d_with(Pool2d::<2, 2, 1, 1, 0, 0, 2, 2>);
}
