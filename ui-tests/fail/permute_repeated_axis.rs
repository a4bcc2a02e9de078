// permute needs every axis exactly once: <0, 0, 2> repeats axis 0.
use shapetorch::prelude::*;

fn main() {
    let x = Tensor3::<f32, 2, 3, 4>::zeros();
    let _y = x.permute::<0, 0, 2>();
}
