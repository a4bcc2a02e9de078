// A chain of layers: conv -> relu -> MaxPool2d -> conv -> relu -> MaxPool2d -> Flatten gives
// 16 * 4 * 4 = 256 features per sample; a Linear that expects 250 fails on its own line.
use shapetorch::prelude::*;

fn main() {
    let x = Tensor::<f32, (usize, Dim<1>, Dim<28>, Dim<28>)>::zeros_shaped((8, Dim, Dim, Dim));
    let w1 = Tensor4::<f32, 6, 1, 5, 5>::zeros();
    let w2 = Tensor4::<f32, 16, 6, 5, 5>::zeros();
    let fc1 = Linear::<f32, 250, 120>::new(0);
    let h = MaxPool2d::<2, 2>.forward(x.conv2d(&w1, ConvParams::default()).relu());
    let h = MaxPool2d::<2, 2>.forward(h.conv2d(&w2, ConvParams::default()).relu());
    let _y = fc1.forward(Flatten.forward(h));
}
