// A model whose linear layer expects 250 features, but the flattened conv output has 256.
use shapetorch::prelude::*;

shapetorch::model! {
    struct Net {
        conv: Conv2d<f32, 1, 16, 5, 5, ConvParams<2>>,
        fc: Linear<f32, 250, 10>,
    }
}

impl Net {
    fn forward(&self, x: Tensor<f32, (usize, Dim<1>, Dim<11>, Dim<11>)>) -> Tensor<f32, (usize, Dim<10>)> {
        let h = self.conv.forward(x).relu().flatten(); // [B, 16, 4, 4] -> [B, 256]
        self.fc.forward(h)
    }
}

fn main() {
    let net = Net::new(0);
    net.forward(Tensor::zeros_shaped((2, Dim, Dim, Dim)));
}
