// Convolutions whose shapes fit: the compiler computes every output size.
use shapetorch::prelude::*;

fn main() {
    // LeNet's first two layers, with a runtime batch.
    let x = Tensor::<f32, (usize, Dim<1>, Dim<28>, Dim<28>)>::zeros_shaped((3, Dim, Dim, Dim));
    let w1 = Tensor4::<f32, 6, 1, 5, 5>::ones();
    let y1 = x.conv2d(&w1, ConvParams::<1, 0, 1>); // [3, 6, 24, 24]
    assert_eq!(y1.dims(), [3, 6, 24, 24]);
    let w2 = Tensor4::<f32, 16, 6, 5, 5>::ones();
    let b2 = Tensor1::<f32, 16>::full(0.5);
    let y2 = y1.conv2d_bias(&w2, &b2, ConvParams::<2, 2, 1>); // (24 + 4 - 5)/2 + 1 = 12
    assert_eq!(y2.dims(), [3, 16, 12, 12]);
    assert_eq!(y2.as_slice()[0], 0.5);

    // conv1d with stride, padding and dilation: (20 + 2*2 - 2*(5-1) - 1)/3 + 1 = 6
    let s = Tensor3::<f64, 4, 5, 20>::ones();
    let k = Tensor3::<f64, 6, 5, 5>::ones();
    let out: Tensor3<f64, 4, 6, 6> = s.conv1d(&k, ConvParams::<3, 2, 2>);
    assert_eq!(out.dims(), [4, 6, 6]);

    // The kernel as wide as the input: one output.
    let full: Tensor3<f64, 4, 6, 1> = s.conv1d(&Tensor3::<f64, 6, 5, 20>::ones(), ConvParams::<1, 0, 1>);
    assert_eq!(full.as_slice()[0], 100.0); // 5 channels x 20 taps of 1 x 1

    // The teaching convention keeps the width.
    let t: Tensor3<f64, 4, 6, 20> = s.conv1d_minitorch(&k);
    assert_eq!(t.as_slice()[0], 25.0); // 5 channels x 5 taps inside the input
    assert_eq!(t.as_slice()[19], 5.0); // the last position sees one tap per channel
}
