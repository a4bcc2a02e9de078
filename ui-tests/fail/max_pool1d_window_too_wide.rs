// max_pool1d: a window of 5 on an input 4 wide.
use shapetorch::prelude::*;

fn main() {
    let x = Tensor3::<f32, 2, 3, 4>::zeros();
    let _y = x.max_pool1d::<5>();
}
