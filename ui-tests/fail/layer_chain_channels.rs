// A model whose second conv expects 8 input channels, but the first gives 6.
use shapetorch::prelude::*;

shapetorch::model! {
    struct Net {
        conv1: Conv2d<f32, 1, 6, 5, 5>,
        conv2: Conv2d<f32, 8, 16, 5, 5>,
    }
}

impl Net {
    fn forward(&self, x: Tensor<f32, (usize, Dim<1>, Dim<28>, Dim<28>)>) {
        let h = self.conv1.forward(x).relu();
        let _y = self.conv2.forward(h);
    }
}

fn main() {
    let net = Net::new(0);
    net.forward(Tensor::zeros_shaped((2, Dim, Dim, Dim)));
}
