// conv1d_minitorch (the teaching convention): channels must agree here too.
use shapetorch::prelude::*;

fn main() {
    let x = Tensor3::<f32, 1, 2, 6>::zeros();
    let w = Tensor3::<f32, 3, 4, 3>::zeros();
    let _y = x.conv1d_minitorch(&w);
}
