// mean over a static axis of size 0 is 0/0: a compile error, not a NaN.
use shapetorch::prelude::*;

fn main() {
    let x = Tensor2::<f32, 0, 3>::zeros();
    let _m = x.mean::<0>();
}
