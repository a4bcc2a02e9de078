//! A typed ResNet-18 for 3 x 32 x 32 images (CIFAR's size), written as a user would: one block
//! struct per kind of residual block, generic over its channels, reused across the four stages;
//! every size checked by the compiler. Runs a few SGD steps on random data and prints the time
//! of each (no data set: this example is the library's check that a deep typed model builds
//! quickly and trains).
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

use clap::Parser;
use cli::Failure;
use shapetorch::nn::summary::note_output;
use shapetorch::prelude::*;

#[path = "common/cli.rs"]
mod cli;

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
        let y = (&h + &x).relu();
        note_output(self, y.dims().as_ref()); // the block's row in a model summary
        y
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
        let y = (&h + &self.shortcut.forward(x)).relu();
        note_output(self, y.dims().as_ref());
        y
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

/// A typed ResNet-18 (3 x 32 x 32 inputs, 10 classes) taking a few SGD steps on random data,
/// each step timed.
#[derive(Parser, Debug)]
#[command(name = "resnet18")]
struct Cli {
    /// SGD steps to take (at least 1)
    #[arg(long, default_value_t = 3, value_parser = cli::at_least_one)]
    steps: usize,
    /// Images per step (at least 1)
    #[arg(long, default_value_t = 32, value_parser = cli::at_least_one)]
    batch_size: usize,
    /// Threads (1 to 1024)
    #[arg(long, default_value_t = 1, value_parser = cli::threads)]
    threads: usize,
}

fn main() {
    let o = Cli::parse();
    cli::exit_on("resnet18", run(&o));
}

/// Builds the model, prints its summary and takes `o.steps` steps.
fn run(o: &Cli) -> Result<(), Failure> {
    cli::use_threads(Some(o.threads))?;
    let mut model = ResNet18::new(0);
    let summary = Summary::new(&mut model, |model| {
        model.forward(Tensor::zeros_shaped((1, Dim, Dim, Dim)));
    });
    println!("{summary}");
    let tape = Tape::new();
    model.trace(&tape);
    let mut sgd = Sgd::new(0.01).momentum(0.9);
    let batch = o.batch_size;
    let x = Tensor::<f32, (usize, Dim<3>, Dim<32>, Dim<32>)>::randn_shaped(
        (batch, Dim, Dim, Dim),
        1,
        0.0,
        1.0,
    );
    let ids: Vec<usize> = (0..batch).map(|i| i % 10).collect();
    let labels = IndexTensor::<(usize,), 10>::from_vec_shaped((batch,), ids)?;
    for step in 0..o.steps {
        let start = Instant::now();
        let loss = model.forward(x.clone()).cross_entropy(&labels);
        let value = loss.item();
        sgd.step(&mut model, &loss.backward());
        println!(
            "step {step}: loss {value:.4}, {:.0} ms",
            start.elapsed().as_secs_f64() * 1e3
        );
    }
    Ok(())
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
