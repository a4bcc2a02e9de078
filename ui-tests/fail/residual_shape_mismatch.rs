// A residual sum whose branch halves the height and width (a 3x3 convolution with stride 2)
// but whose shortcut is the input itself: [B, 8, 8, 8] + [B, 8, 16, 16] does not compile (the
// shortcut needs a 1x1 stride-2 convolution).
use shapetorch::prelude::*;

fn main() {
    let conv = Conv2d::<f32, 8, 8, 3, 3, ConvParams<2, 1, 1>>::new(0);
    let x = Tensor::<f32, (usize, Dim<8>, Dim<16>, Dim<16>)>::zeros_shaped((2, Dim, Dim, Dim));
    let h = conv.forward(x.clone());
    let _y = (&h + &x).relu();
}
