// max over a static axis of size 0 has no answer: a compile error, not a panic.
use shapetorch::prelude::*;

fn main() {
    let x = Tensor3::<f32, 2, 0, 4>::zeros();
    let _m = x.max::<1>();
}
