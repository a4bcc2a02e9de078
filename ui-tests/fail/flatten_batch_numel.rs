// A runtime batch of [16, 5, 5] maps has 400 features per sample, not 256: `reshape_to` would
// compile and panic when it runs; `unflatten` (a batch-keeping reshape) fails the build.
use shapetorch::prelude::*;

fn main() {
    let x = Tensor::<f32, (usize, Dim<16>, Dim<5>, Dim<5>)>::zeros_shaped((8, Dim, Dim, Dim));
    let _y: Tensor<f32, (usize, Dim<256>)> = x.unflatten();
}
