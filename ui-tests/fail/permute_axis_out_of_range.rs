// permute on a rank-3 tensor: axis 5 does not exist.
use shapetorch::prelude::*;

fn main() {
    let x = Tensor3::<f32, 2, 3, 4>::zeros();
    let _y = x.permute::<0, 5, 1>();
}
