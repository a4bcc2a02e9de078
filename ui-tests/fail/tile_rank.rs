// tile needs [batch, channels, height, width].
use shapetorch::prelude::*;

fn main() {
    let x = Tensor3::<f32, 1, 28, 28>::zeros();
    let _t = x.tile::<2, 2>();
}
