// avg_pool1d needs [batch, channels, width]; a [batch, width] input is not one.
use shapetorch::prelude::*;

fn main() {
    let x = Tensor2::<f32, 8, 50>::zeros();
    let _y = x.avg_pool1d::<2>();
}
