// sum over axis 3 of a rank-3 tensor: the axes are 0, 1 and 2.
use shapetorch::prelude::*;

fn main() {
    let x = Tensor3::<f32, 2, 3, 4>::zeros();
    let _s = x.sum::<3>();
}
