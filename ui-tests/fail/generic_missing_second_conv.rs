// Two convs generic over height and width: the second needs its own relation on the first's
// output.
use shapetorch::prelude::*;
type P = ConvParams<1, 1, 1>;

fn block<B: Dimension, H: Dimension, W: Dimension>(
    x: &Tensor<f32, (B, Dim<3>, H, W)>,
    w1: &Tensor4<f32, 8, 3, 3, 3>,
    w2: &Tensor4<f32, 8, 8, 3, 3>,
) where
    (B, Dim<3>, H, W): Conv2dShape<3, 3, 3, P>,
{
    let _y = x.conv2d(w1, P::default()).relu().conv2d(w2, P::default());
}

fn main() {}
