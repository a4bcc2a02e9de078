// bmm: the batch sizes differ (8 vs 6).
use shapetorch::prelude::*;

fn main() {
    let a = Tensor3::<f32, 8, 2, 3>::ones();
    let b = Tensor3::<f32, 6, 3, 5>::ones();
    let _c = a.bmm(&b);
}
