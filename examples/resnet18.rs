//! A typed ResNet-18 for 3 x 32 x 32 images (CIFAR's size), written as a user would: one block
//! struct per kind of residual block, generic over its channels, reused across the four stages;
//! every size checked by the compiler. Runs a few SGD steps on random data and prints the time
//! of each (no data set: this example is the library's check that a deep typed model builds
//! quickly and trains; see `resnet_mnist` for one trained on real data).
//!
//! ```text
//! cargo run --release --example resnet18 -- [--steps N] [--batch-size B] [--threads T]
//! ```
//!
//! The model: a 3x3 stem to 64 channels; 8 basic blocks (two 3x3 convolutions with padding 1
//! and a residual sum), 64/128/256/512 channels, the first block of stages 2-4 halving the
//! height and width (3x3 stride 2) with a 1x1 stride-2 convolution on the shortcut; 4x4
//! average pooling; a linear layer 512 -> 10. No normalisation layers.

use std::time::Instant;

use shapetorch::prelude::*;

/// Stride 1, padding 1: a 3x3 convolution that keeps the height and width.
type Same = ConvParams<1, 1, 1>;
/// Stride 2, padding 1: a 3x3 convolution that halves them.
type Halve = ConvParams<2, 1, 1>;
/// Stride 2, no padding: the 1x1 convolution of a downsampling shortcut.
type Skip = ConvParams<2, 0, 1>;

shapetorch::model! {
    /// Two 3x3 convolutions on `C` channels plus the input: `relu(conv2(relu(conv1(x))) + x)`.
    pub struct Basic<const C: usize> {
        conv1: Conv2d<f32, C, C, 3, 3, Same>,
        conv2: Conv2d<f32, C, C, 3, 3, Same>,
    }
}

impl<const C: usize> Basic<C> {
    /// One relation: a 3x3 convolution of `X` keeps its shape (so the sum is defined).
    fn forward<X>(&self, x: Tensor<f32, X>) -> Tensor<f32, X>
    where
        X: Conv2dShape<C, 3, 3, Same, Output<C> = X>,
    {
        let h = self.conv1.forward(x.clone()).relu();
        let h = self.conv2.forward(h);
        (&h + &x).relu()
    }
}

shapetorch::model! {
    /// `C` channels in, `O` out, height and width halved: a 3x3 stride-2 convolution, a 3x3
    /// one, and a 1x1 stride-2 convolution on the shortcut.
    pub struct Down<const C: usize, const O: usize> {
        conv1: Conv2d<f32, C, O, 3, 3, Halve>,
        conv2: Conv2d<f32, O, O, 3, 3, Same>,
        shortcut: Conv2d<f32, C, O, 1, 1, Skip>,
    }
}

/// The shape a downsampling block gives `X`: the shortcut's.
type Halved<X, const O: usize> = Conv2dOut<X, O, 1, 1, Skip>;

impl<const C: usize, const O: usize> Down<C, O> {
    /// One relation per convolution; the main path's output is the shortcut's shape.
    fn forward<X>(&self, x: Tensor<f32, X>) -> Tensor<f32, Halved<X, O>>
    where
        X: Conv2dShape<C, 3, 3, Halve, Output<O> = Halved<X, O>> + Conv2dShape<C, 1, 1, Skip>,
        Halved<X, O>: Conv2dShape<O, 3, 3, Same, Output<O> = Halved<X, O>>,
    {
        let h = self.conv1.forward(x.clone()).relu();
        let h = self.conv2.forward(h);
        (&h + &self.shortcut.forward(x)).relu()
    }
}

shapetorch::model! {
    /// ResNet-18 for 3 x 32 x 32 inputs, 10 classes.
    pub struct ResNet18 {
        stem: Conv2d<f32, 3, 64, 3, 3, Same>,
        layer1a: Basic<64>,
        layer1b: Basic<64>,
        layer2a: Down<64, 128>,
        layer2b: Basic<128>,
        layer3a: Down<128, 256>,
        layer3b: Basic<256>,
        layer4a: Down<256, 512>,
        layer4b: Basic<512>,
        fc: Linear<f32, 512, 10>,
    }
}

impl ResNet18 {
    /// Class scores `[B, 10]` of images `[B, 3, 32, 32]`.
    fn forward<B: Dimension>(
        &self,
        x: Tensor<f32, (B, Dim<3>, Dim<32>, Dim<32>)>,
    ) -> Tensor<f32, (B, Dim<10>)> {
        let x = self.stem.forward(x).relu(); // [B, 64, 32, 32]
        let x = self.layer1b.forward(self.layer1a.forward(x));
        let x = self.layer2b.forward(self.layer2a.forward(x)); // [B, 128, 16, 16]
        let x = self.layer3b.forward(self.layer3a.forward(x)); // [B, 256, 8, 8]
        let x = self.layer4b.forward(self.layer4a.forward(x)); // [B, 512, 4, 4]
        let x = x.avg_pool2d::<4, 4>().flatten(); // [B, 512]
        self.fc.forward(x)
    }
}

/// The command line: `--steps`, `--batch-size`, `--threads`.
fn args() -> (usize, usize, usize) {
    let (mut steps, mut batch, mut threads) = (3, 32, 1);
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = || -> usize {
            std::env::args()
                .skip_while(|a| a != &flag)
                .nth(1)
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| {
                    eprintln!("{flag} needs a number");
                    std::process::exit(2)
                })
        };
        match flag.as_str() {
            "--steps" => steps = value(),
            "--batch-size" => batch = value().max(1),
            "--threads" => threads = value().max(1),
            "--help" => {
                println!("resnet18 [--steps N (3)] [--batch-size B (32)] [--threads T (1)]");
                std::process::exit(0)
            }
            other => {
                eprintln!("unknown flag {other}; see --help");
                std::process::exit(2)
            }
        }
        it.next();
    }
    (steps, batch, threads)
}

fn main() {
    let (steps, batch, threads) = args();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        let mut model = ResNet18::new(0);
        println!("ResNet-18, {} parameters", model.parameter_count());
        let tape = Tape::new();
        model.trace(&tape);
        let mut sgd = Sgd::new(0.01).momentum(0.9);
        let x = Tensor::<f32, (usize, Dim<3>, Dim<32>, Dim<32>)>::randn_shaped(
            (batch, Dim, Dim, Dim),
            1,
            0.0,
            1.0,
        );
        let ids: Vec<usize> = (0..batch).map(|i| i % 10).collect();
        let labels = IndexTensor::<(usize,), 10>::from_vec_shaped((batch,), ids).unwrap();
        for step in 0..steps {
            let start = Instant::now();
            let loss = model.forward(x.clone()).cross_entropy(&labels);
            let value = loss.item();
            sgd.step(&mut model, &loss.backward());
            println!(
                "step {step}: loss {value:.4}, {:.0} ms",
                start.elapsed().as_secs_f64() * 1e3
            );
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_runs_and_the_loss_is_finite() {
        let mut model = ResNet18::new(0);
        assert_eq!(model.parameter_count(), 11_169_162); // conv weights and biases, fc
        let tape = Tape::new();
        model.trace(&tape);
        let x = Tensor::<f32, (usize, Dim<3>, Dim<32>, Dim<32>)>::randn_shaped(
            (2, Dim, Dim, Dim),
            1,
            0.0,
            1.0,
        );
        let labels = IndexTensor::<(usize,), 10>::from_vec_shaped((2,), vec![3, 7]).unwrap();
        let loss = model.forward(x).cross_entropy(&labels);
        assert!(loss.item().is_finite());
        let grads = loss.backward();
        assert!(grads.get(&model.layer4a.shortcut.weight).is_some());
    }
}
