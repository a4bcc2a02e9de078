// BatchNorm2d<16>: a 3x3 convolution to 8 channels, then a batch norm of 16 (a copied block
// whose convolution was changed, its norm not).
use shapetorch::prelude::*;

fn main() {
    let conv = Conv2d::<f32, 3, 8, 3, 3, ConvParams<1, 1, 1>>::new(0);
    let bn = BatchNorm2d::<f32, 16>::new(0);
    let x = Tensor::<f32, (usize, Dim<3>, Dim<32>, Dim<32>)>::zeros_shaped((2, Dim, Dim, Dim));
    let _y = bn.forward(conv.forward(x));
}
