// conv_transpose2d: output_padding 2 with stride 2 and dilation 1 (PyTorch: "output padding
// must be smaller than either stride or dilation").
use shapetorch::prelude::*;

fn main() {
    let x = Tensor4::<f32, 2, 8, 7, 7>::zeros();
    let w = Tensor4::<f32, 8, 4, 3, 3>::zeros();
    let _y = x.conv_transpose2d(&w, ConvTransposeParams::<2, 1, 2>);
}
