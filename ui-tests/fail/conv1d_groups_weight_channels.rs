// conv1d with groups=4 on 8 channels: 2 channels a group, but the weight was written for 8
// (the weight of the same conv without groups).
use shapetorch::prelude::*;

fn main() {
    let x = Tensor3::<f32, 2, 8, 32>::zeros();
    let w = Tensor3::<f32, 8, 8, 3>::zeros();
    let _y = x.conv1d(&w, ConvParams::<1, 1, 1, 4>);
}
