// conv_transpose2d: a 7x7 input, 3x3 kernel, stride 2, padding 1, no output padding gives
// (7 - 1)*2 - 2 + 2 + 1 = 13, not the 14 the code declares (that needs output_padding=1).
use shapetorch::prelude::*;

fn main() {
    let x = Tensor4::<f32, 2, 8, 7, 7>::zeros();
    let w = Tensor4::<f32, 8, 4, 3, 3>::zeros();
    let _y: Tensor4<f32, 2, 4, 14, 14> = x.conv_transpose2d(&w, ConvTransposeParams::<2, 1, 0>);
}
