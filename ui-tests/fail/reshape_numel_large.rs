// Element counts above 4096 are compared but not printed: 64 * 784 = 50176 vs 64 * 28 * 27.
use shapetorch::prelude::*;

fn main() {
    let x = Tensor2::<f32, 64, 784>::zeros();
    let _y: Tensor3<f32, 64, 28, 27> = x.reshape();
}
