// tile: 3 x 4 tiles do not cut a 28 x 28 image (3 does not divide 28).
use shapetorch::prelude::*;

fn main() {
    let x = Tensor4::<f32, 1, 1, 28, 28>::zeros();
    let _t = x.tile::<3, 4>();
}
