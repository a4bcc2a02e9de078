// bmm: the left matrices' columns (3) differ from the right matrices' rows (4).
use shapetorch::prelude::*;

fn main() {
    let a = Tensor3::<f32, 8, 2, 3>::ones();
    let b = Tensor3::<f32, 8, 4, 5>::ones();
    let _c = a.bmm(&b);
}
