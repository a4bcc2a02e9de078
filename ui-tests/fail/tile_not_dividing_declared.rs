// One mistake, one error: a tile that does not divide the height, its output declared.
use shapetorch::prelude::*;

fn main() {
    let x = Tensor4::<f32, 1, 1, 28, 28>::zeros();
    let _t: Tensor5<f32, 1, 1, 9, 7, 12> = x.tile::<3, 4>();
}
