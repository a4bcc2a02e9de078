//! The MNIST models of `mnist_lenet.rs` and `predict.rs`: each a struct of layers with a
//! hand-written forward pass, every size checked by the compiler, the batch a run-time `usize`.

use shapetorch::prelude::*;

/// A batch of images: `[B, 1, 28, 28]`.
pub type Images = Tensor<f32, (usize, Dim<1>, Dim<28>, Dim<28>)>;
/// Class scores: `[B, 10]`.
pub type Scores = Tensor<f32, (usize, Dim<10>)>;

shapetorch::model! {
    /// The default: a LeNet-style network with 32 and 64 channels and a 1024 → 128 → 10 head.
    pub struct LeNet {
        conv1: Conv2d<f32, 1, 32, 5, 5>,
        conv2: Conv2d<f32, 32, 64, 5, 5>,
        fc1: Linear<f32, 1024, 128>,
        fc2: Linear<f32, 128, 10>,
    }
}

impl LeNet {
    /// `[B, 1, 28, 28]` → `[B, 10]` class scores (logits).
    pub fn forward(&self, x: Images) -> Scores {
        let x = self.conv1.forward(x).relu().max_pool2d::<2, 2>(); // [B, 32, 12, 12]
        let x = self.conv2.forward(x).relu().max_pool2d::<2, 2>(); // [B, 64, 4, 4]
        let x = x.flatten(); // [B, 1024], computed
        self.fc2.forward(self.fc1.forward(x).relu())
    }
}

shapetorch::model! {
    /// The classic LeNet-5: 6 and 16 channels, a 256 → 120 → 84 → 10 head.
    pub struct LeNet5 {
        conv1: Conv2d<f32, 1, 6, 5, 5>,
        conv2: Conv2d<f32, 6, 16, 5, 5>,
        fc1: Linear<f32, 256, 120>,
        fc2: Linear<f32, 120, 84>,
        fc3: Linear<f32, 84, 10>,
    }
}

impl LeNet5 {
    /// `[B, 1, 28, 28]` → `[B, 10]` class scores (logits).
    pub fn forward(&self, x: Images) -> Scores {
        let x = self.conv1.forward(x).relu().max_pool2d::<2, 2>(); // [B, 6, 12, 12]
        let x = self.conv2.forward(x).relu().max_pool2d::<2, 2>(); // [B, 16, 4, 4]
        let x = x.flatten(); // [B, 256]
        self.fc3
            .forward(self.fc2.forward(self.fc1.forward(x).relu()).relu())
    }
}

shapetorch::model! {
    /// The teaching library's MNIST network, in the lecture's convolution convention (output
    /// as large as the input, kernel anchored top-left): conv 1 → 4, conv 4 → 8 (3×3), average
    /// pooling 4×4, 392 → 64 → 10 with dropout 0.25, log-softmax (trained with NLL).
    pub struct MinitorchNet {
        conv1: Conv2d<f32, 1, 4, 3, 3, Minitorch>,
        conv2: Conv2d<f32, 4, 8, 3, 3, Minitorch>,
        fc1: Linear<f32, 392, 64>,
        dropout: Dropout<25>,
        fc2: Linear<f32, 64, 10>,
    }
}

impl MinitorchNet {
    /// `[B, 1, 28, 28]` → `[B, 10]` log-probabilities.
    pub fn forward(&self, x: Images) -> Scores {
        let x = self.conv1.forward(x).relu(); // [B, 4, 28, 28]
        let x = self.conv2.forward(x).relu(); // [B, 8, 28, 28]
        let x = x.avg_pool2d::<4, 4>().flatten(); // [B, 8, 7, 7] -> [B, 392]
        let x = self.dropout.forward(self.fc1.forward(x).relu());
        self.fc2.forward(x).log_softmax::<1>()
    }
}

/// The models by their names on the command line (`--model lenet|lenet5|minitorch`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ModelName {
    /// `LeNet`: 32/64 channels, 1024 → 128 → 10.
    Lenet,
    /// `LeNet5`: the classic 6/16 channels, 256 → 120 → 84 → 10.
    Lenet5,
    /// `MinitorchNet`: the lecture's network (its convolutions, average pooling, dropout).
    Minitorch,
}

impl ModelName {
    /// The name as written on the command line and in file names.
    pub fn as_str(self) -> &'static str {
        match self {
            ModelName::Lenet => LeNet::NAME,
            ModelName::Lenet5 => LeNet5::NAME,
            ModelName::Minitorch => MinitorchNet::NAME,
        }
    }
}

/// What training and prediction need of a model.
pub trait MnistModel: Module<f32> + Init {
    /// The model's name on the command line.
    const NAME: &'static str;
    /// Class scores (logits or log-probabilities) for a batch.
    fn scores(&self, x: Images) -> Scores;
    /// The training loss of a batch: cross-entropy (NLL of the log-softmax for MiniTorch).
    #[allow(dead_code)] // mnist_lenet trains with it; predict, which shares this file, does not
    fn loss(&self, x: Images, labels: &IndexTensor<(usize,), 10>) -> Tensor0<f32>;
}

impl MnistModel for LeNet {
    const NAME: &'static str = "lenet";
    fn scores(&self, x: Images) -> Scores {
        self.forward(x)
    }
    fn loss(&self, x: Images, labels: &IndexTensor<(usize,), 10>) -> Tensor0<f32> {
        self.forward(x).cross_entropy(labels)
    }
}

impl MnistModel for LeNet5 {
    const NAME: &'static str = "lenet5";
    fn scores(&self, x: Images) -> Scores {
        self.forward(x)
    }
    fn loss(&self, x: Images, labels: &IndexTensor<(usize,), 10>) -> Tensor0<f32> {
        self.forward(x).cross_entropy(labels)
    }
}

impl MnistModel for MinitorchNet {
    const NAME: &'static str = "minitorch";
    fn scores(&self, x: Images) -> Scores {
        self.forward(x)
    }
    fn loss(&self, x: Images, labels: &IndexTensor<(usize,), 10>) -> Tensor0<f32> {
        self.forward(x).nll_loss(labels)
    }
}
