// Grouped, depthwise and transposed convolutions whose shapes the compiler computes.
use shapetorch::prelude::*;

fn main() {
    let x = Tensor4::<f32, 2, 8, 16, 16>::zeros();
    // groups=4: weight [out_channels, in_channels / 4, 3, 3]
    let g: Tensor4<f32, 2, 12, 16, 16> =
        x.conv2d(&Tensor4::<f32, 12, 2, 3, 3>::zeros(), ConvParams::<1, 1, 1, 4>);
    // depthwise, stride 2: (16 + 2 - 3)/2 + 1 = 8
    let d: Tensor4<f32, 2, 8, 8, 8> =
        x.conv2d(&Tensor4::<f32, 8, 1, 3, 3>::zeros(), ConvParams::<2, 1, 1, 8>);
    // transposed, stride 2, output padding 1: back to 16
    let u: Tensor4<f32, 2, 8, 16, 16> = d.conv_transpose2d(
        &Tensor4::<f32, 8, 4, 3, 3>::zeros(),
        ConvTransposeParams::<2, 1, 1, 1, 2>,
    );
    let layer = Conv2d::<f32, 1, 8, 3, 3, ConvParams<1, 1, 1, 8>>::new(0);
    let l: Tensor4<f32, 2, 8, 16, 16> = layer.forward(u);
    assert_eq!((g.dims(), l.dims()), ([2, 12, 16, 16], [2, 8, 16, 16]));
}
