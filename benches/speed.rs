//! The performance table in one run: every shape of issue 9, forward and forward + backward
//! through the public API, and sgemm, each at 1 and 2 threads, printed one line per
//! measurement. `benches/torch_compare.py` runs this binary and the same work in PyTorch,
//! interleaved, and prints the ratios; criterion's `benches/conv.rs` and `benches/matmul.rs`
//! are the places to dig into one shape.
//!
//! ```text
//! cargo bench --bench speed                          # every case, 1 and 2 threads
//! cargo bench --bench speed -- --threads 2 --runs 40 --filter 56x56
//! cargo bench --bench speed -- --algorithms          # also every forced conv algorithm
//! cargo bench --bench speed -- --kernels             # also each kernel alone, on slices
//! cargo bench --bench speed -- --list                # the case names, one a line
//! cargo bench --bench speed -- --min                 # the fastest run, not the median
//! cargo bench --bench speed -- --threads 1 --cpu     # on-CPU time (1-thread pools): for a busy machine
//! cargo bench --bench speed -- --run-time-sizes      # direct kernels without compile-time sizes
//! cargo bench --bench speed -- --portable            # the kernels' baseline copies (no AVX-512)
//! ```
//!
//! Output lines are tab-separated: `case  pass  variant  threads  median_seconds  GFLOP/s`.
//! `pass` is `fwd` or `fwd+bwd` (the loss is `sum(y)`; the gradients of input and weight);
//! `variant` is `api` (the algorithm the library picks) or a forced [`ConvAlgorithm`].
//! FLOPs: `2·B·O·H_out·W_out·C·KH·KW` per forward, three times that for forward + backward;
//! `2·n³` per matmul. Each median is over `--runs` timed runs (default 21) after a warm-up,
//! each run timed on its own.
//!
//! Rayon pools of each thread count are built in this process (`ThreadPool::install`), so one
//! run measures both thread counts with the same binary. Only the tensors of the case being
//! timed are alive.

use std::hint::black_box;
use std::time::{Duration, Instant};

use shapetorch::ops::conv::{cpu::Isa, ConvAlgorithm, ConvGeometry, ConvOverride, ConvPlan};
use shapetorch::prelude::*;

/// One benchmark: a name, its FLOPs, and what builds its inputs and returns the closure that
/// runs it once (inputs are built only for the cases selected).
struct Case {
    name: String,
    pass: &'static str,
    variant: String,
    flop: f64,
    setup: Box<dyn Fn() -> Box<dyn FnMut()>>,
}

/// The conv cases of one shape: forward and forward + backward through the public API, with
/// the algorithm the library picks and (with `--algorithms`) with each one forced.
macro_rules! conv_cases {
    ($cases:ident, $all:expr, $name:literal, $x:ty, $w:ty, $macs:expr, |$xi:ident, $wi:ident| $conv:expr) => {{
        let flop = 2.0 * ($macs) as f64;
        let variants: Vec<Option<ConvAlgorithm>> = if $all {
            std::iter::once(None)
                .chain(ConvAlgorithm::ALL.iter().copied().map(Some))
                .collect()
        } else {
            vec![None]
        };
        for variant in variants {
            let label = variant.map_or("api".to_string(), |a| format!("{a:?}"));
            let force = move |f: &mut dyn FnMut()| match variant {
                Some(a) => a.force(|| f()),
                None => f(),
            };
            $cases.push(Case {
                name: $name.to_string(),
                pass: "fwd",
                variant: label.clone(),
                flop,
                setup: Box::new(move || {
                    let (x, w) = (<$x>::randn(1), <$w>::randn(2));
                    Box::new(move || {
                        force(&mut || {
                            let ($xi, $wi) = (black_box(&x), black_box(&w));
                            black_box($conv);
                        })
                    })
                }),
            });
            $cases.push(Case {
                name: $name.to_string(),
                pass: "fwd+bwd",
                variant: label,
                flop: 3.0 * flop,
                setup: Box::new(move || {
                    let (x, w) = (<$x>::randn(1), <$w>::randn(2));
                    Box::new(move || {
                        force(&mut || {
                            let tape = Tape::new();
                            let ($xi, $wi) = (&x.trace(&tape), &w.trace(&tape));
                            let grads = $conv.sum_all().backward();
                            black_box(grads.get_raw($xi.id()));
                            black_box(grads.get_raw($wi.id()));
                        })
                    })
                }),
            });
        }
    }};
}

/// `B·O·OH·OW·C·KH·KW` for a stride-1, unpadded conv2d.
fn macs2d(b: usize, c: usize, h: usize, w: usize, o: usize, k: usize) -> usize {
    b * o * (h - k + 1) * (w - k + 1) * c * k * k
}

/// Each pass of one geometry, by each kernel family and by the plan's own choice (`auto`),
/// on slices allocated once (no tape, no allocation of results): `--kernels`. The plan is made
/// once, when the case is set up (under the run's override), as a convolution call makes it.
fn kernel_cases(cases: &mut Vec<Case>, name: &str, g: ConvGeometry) {
    let variants = ConvAlgorithm::ALL
        .iter()
        .copied()
        .chain([ConvAlgorithm::Auto]);
    for algorithm in variants {
        for (pass, sizes) in [
            (
                "kernel fwd",
                [g.input_len(), g.weight_len(), g.output_len()],
            ),
            ("kernel gx", [g.output_len(), g.weight_len(), g.input_len()]),
            ("kernel gw", [g.output_len(), g.input_len(), g.weight_len()]),
        ] {
            cases.push(Case {
                name: name.to_string(),
                pass,
                variant: format!("{algorithm:?}").to_lowercase(),
                flop: 2.0 * g.macs() as f64,
                setup: Box::new(move || {
                    let plan = ConvPlan::with::<f32>(&g, algorithm);
                    let mut rng = shapetorch::tensor::Rng::new(3);
                    let mut v =
                        |n: usize| -> Vec<f32> { (0..n).map(|_| rng.normal() as f32).collect() };
                    let (a, b, mut out) = (v(sizes[0]), v(sizes[1]), v(sizes[2]));
                    Box::new(move || {
                        let (a, b, out) = (black_box(&a), black_box(&b), black_box(&mut out));
                        match pass {
                            "kernel fwd" => plan.forward(a, b, out),
                            "kernel gx" => plan.grad_input(a, b, out),
                            _ => plan.grad_weight(a, b, out),
                        }
                    })
                }),
            });
        }
    }
}

/// A stride-1, unpadded conv2d geometry (conv1d: `h = k_h = 1`).
fn geometry(
    b: usize,
    c: usize,
    [h, w]: [usize; 2],
    o: usize,
    [kh, kw]: [usize; 2],
) -> ConvGeometry {
    ConvGeometry {
        batch: b,
        in_channels: c,
        out_channels: o,
        in_h: h,
        in_w: w,
        kernel_h: kh,
        kernel_w: kw,
        out_h: h - kh + 1,
        out_w: w - kw + 1,
        stride_h: 1,
        stride_w: 1,
        pad_top: 0,
        pad_left: 0,
        dilation_h: 1,
        dilation_w: 1,
    }
}

/// `g` (made by [`geometry`] for an input `2*padding` larger than the real one) with that
/// padding taken back off the input and the `stride` applied: PyTorch's output size.
fn strided(mut g: ConvGeometry, stride: usize, padding: usize) -> ConvGeometry {
    (g.in_h, g.in_w) = (g.in_h - 2 * padding, g.in_w - 2 * padding);
    (g.pad_top, g.pad_left) = (padding, padding);
    (g.stride_h, g.stride_w) = (stride, stride);
    let out = |n: usize, k: usize| ConvGeometry::out_size(n, k, stride, padding, 1).unwrap();
    (g.out_h, g.out_w) = (out(g.in_h, g.kernel_h), out(g.in_w, g.kernel_w));
    g
}

fn cases(all_algorithms: bool, kernels: bool) -> Vec<Case> {
    let mut cases = Vec::new();
    if kernels {
        for (name, g) in [
            (
                "conv2d x=[64,1,28,28] w=[6,1,5,5]",
                geometry(64, 1, [28, 28], 6, [5, 5]),
            ),
            (
                "conv2d x=[16,1,28,28] w=[4,1,3,3]",
                geometry(16, 1, [28, 28], 4, [3, 3]),
            ),
            (
                "conv2d x=[64,6,12,12] w=[16,6,5,5]",
                geometry(64, 6, [12, 12], 16, [5, 5]),
            ),
            (
                "conv2d x=[32,32,32,32] w=[64,32,3,3]",
                geometry(32, 32, [32, 32], 64, [3, 3]),
            ),
            (
                "conv2d x=[8,64,56,56] w=[64,64,3,3]",
                geometry(8, 64, [56, 56], 64, [3, 3]),
            ),
            (
                "conv1d x=[64,8,128] w=[16,8,5]",
                geometry(64, 8, [1, 128], 16, [1, 5]),
            ),
            // the main example's model (examples/common/mnist_models.rs, `LeNet`)
            (
                "conv2d x=[64,1,28,28] w=[32,1,5,5]",
                geometry(64, 1, [28, 28], 32, [5, 5]),
            ),
            (
                "conv2d x=[64,32,12,12] w=[64,32,5,5]",
                geometry(64, 32, [12, 12], 64, [5, 5]),
            ),
            // the other kernel sizes with a compile-time copy in the direct kernels
            (
                "conv2d x=[8,64,28,28] w=[64,64,1,1]",
                geometry(8, 64, [28, 28], 64, [1, 1]),
            ),
            (
                "conv2d x=[8,3,64,64] w=[16,3,7,7]",
                geometry(8, 3, [64, 64], 16, [7, 7]),
            ),
            // the ResNet-18 step's convolutions (batch 32, 3x32x32 inputs)
            (
                "resnet stem x=[32,3,32,32] w=[64,3,3,3] p1",
                strided(geometry(32, 3, [34, 34], 64, [3, 3]), 1, 1),
            ),
            (
                "resnet x=[32,64,32,32] w=[64,64,3,3] p1",
                strided(geometry(32, 64, [34, 34], 64, [3, 3]), 1, 1),
            ),
            (
                "resnet x=[32,128,16,16] w=[128,128,3,3] p1",
                strided(geometry(32, 128, [18, 18], 128, [3, 3]), 1, 1),
            ),
            (
                "resnet x=[32,256,8,8] w=[256,256,3,3] p1",
                strided(geometry(32, 256, [10, 10], 256, [3, 3]), 1, 1),
            ),
            (
                "resnet x=[32,512,4,4] w=[512,512,3,3] p1",
                strided(geometry(32, 512, [6, 6], 512, [3, 3]), 1, 1),
            ),
            (
                "resnet x=[32,64,32,32] w=[128,64,3,3] s2 p1",
                strided(geometry(32, 64, [34, 34], 128, [3, 3]), 2, 1),
            ),
            (
                "resnet x=[32,256,8,8] w=[512,256,3,3] s2 p1",
                strided(geometry(32, 256, [10, 10], 512, [3, 3]), 2, 1),
            ),
            (
                "resnet x=[32,64,32,32] w=[128,64,1,1] s2",
                strided(geometry(32, 64, [32, 32], 128, [1, 1]), 2, 0),
            ),
            (
                "resnet x=[32,256,8,8] w=[512,256,1,1] s2",
                strided(geometry(32, 256, [8, 8], 512, [1, 1]), 2, 0),
            ),
        ] {
            kernel_cases(&mut cases, name, g);
        }
    }
    conv_cases!(cases, all_algorithms, "conv2d x=[64,1,28,28] w=[6,1,5,5]",
        Tensor4<f32, 64, 1, 28, 28>, Tensor4<f32, 6, 1, 5, 5>, macs2d(64, 1, 28, 28, 6, 5),
        |x, w| x.conv2d(w, ConvParams::<1, 0, 1>));
    conv_cases!(cases, all_algorithms, "conv2d x=[16,1,28,28] w=[4,1,3,3]",
        Tensor4<f32, 16, 1, 28, 28>, Tensor4<f32, 4, 1, 3, 3>, macs2d(16, 1, 28, 28, 4, 3),
        |x, w| x.conv2d(w, ConvParams::<1, 0, 1>));
    conv_cases!(cases, all_algorithms, "conv2d x=[64,6,12,12] w=[16,6,5,5]",
        Tensor4<f32, 64, 6, 12, 12>, Tensor4<f32, 16, 6, 5, 5>, macs2d(64, 6, 12, 12, 16, 5),
        |x, w| x.conv2d(w, ConvParams::<1, 0, 1>));
    // the main example's second convolution (`LeNet` in examples/common/mnist_models.rs)
    conv_cases!(cases, all_algorithms, "conv2d x=[64,32,12,12] w=[64,32,5,5]",
        Tensor4<f32, 64, 32, 12, 12>, Tensor4<f32, 64, 32, 5, 5>, macs2d(64, 32, 12, 12, 64, 5),
        |x, w| x.conv2d(w, ConvParams::<1, 0, 1>));
    conv_cases!(cases, all_algorithms, "conv2d x=[32,32,32,32] w=[64,32,3,3]",
        Tensor4<f32, 32, 32, 32, 32>, Tensor4<f32, 64, 32, 3, 3>, macs2d(32, 32, 32, 32, 64, 3),
        |x, w| x.conv2d(w, ConvParams::<1, 0, 1>));
    conv_cases!(cases, all_algorithms, "conv2d x=[8,64,56,56] w=[64,64,3,3]",
        Tensor4<f32, 8, 64, 56, 56>, Tensor4<f32, 64, 64, 3, 3>, macs2d(8, 64, 56, 56, 64, 3),
        |x, w| x.conv2d(w, ConvParams::<1, 0, 1>));
    // a MobileNet-like depthwise 3x3 (MobileNetV2's expanded 56x56 stage: 144 channels,
    // groups = channels, padding 1): the depthwise loops, memory-bound
    conv_cases!(cases, all_algorithms, "dwconv2d x=[8,144,56,56] w=[144,1,3,3] p=1",
        Tensor4<f32, 8, 144, 56, 56>, Tensor4<f32, 144, 1, 3, 3>, 8 * 144 * 56 * 56 * 9,
        |x, w| x.conv2d(w, ConvParams::<1, 1, 1, 144>));
    conv_cases!(cases, all_algorithms, "conv1d x=[64,8,128] w=[16,8,5]",
        Tensor3<f32, 64, 8, 128>, Tensor3<f32, 16, 8, 5>, 64 * 16 * 124 * 8 * 5,
        |x, w| x.conv1d(w, ConvParams::<1, 0, 1>));
    fma_peak_case(&mut cases);
    matmul_case::<256>(&mut cases);
    matmul_case::<1024>(&mut cases);
    matmul_case::<2048>(&mut cases);
    max_pool_cases(&mut cases);
    lenet5_step_case(&mut cases);
    resnet18_step_case(&mut cases);
    cases
}

/// `max_pool2d x=[64,6,24,24] k=2`: forward, and forward + backward (loss `sum(y)`).
fn max_pool_cases(cases: &mut Vec<Case>) {
    let name = "max_pool2d x=[64,6,24,24] k=2";
    cases.push(Case {
        name: name.into(),
        pass: "fwd",
        variant: "api".into(),
        flop: f64::NAN,
        setup: Box::new(|| {
            let x = Tensor4::<f32, 64, 6, 24, 24>::randn(1);
            Box::new(move || {
                black_box(black_box(&x).max_pool2d::<2, 2>());
            })
        }),
    });
    cases.push(Case {
        name: name.into(),
        pass: "fwd+bwd",
        variant: "api".into(),
        flop: f64::NAN,
        setup: Box::new(|| {
            let x = Tensor4::<f32, 64, 6, 24, 24>::randn(1);
            let tape = Tape::new();
            let x = x.trace(&tape);
            Box::new(move || {
                let grads = black_box(&x).max_pool2d::<2, 2>().sum_all().backward();
                black_box(grads);
            })
        }),
    });
}

shapetorch::model! {
    /// LeNet-5 as in `benches/torch_compare.py`.
    struct LeNet5 {
        conv1: Conv2d<f32, 1, 6, 5, 5>,
        conv2: Conv2d<f32, 6, 16, 5, 5>,
        fc1: Linear<f32, 256, 120>,
        fc2: Linear<f32, 120, 84>,
        fc3: Linear<f32, 84, 10>,
    }
}

impl LeNet5 {
    fn forward(
        &self,
        x: Tensor<f32, (usize, Dim<1>, Dim<28>, Dim<28>)>,
    ) -> Tensor<f32, (usize, Dim<10>)> {
        let x = self.conv1.forward(x).relu().max_pool2d::<2, 2>();
        let x = self.conv2.forward(x).relu().max_pool2d::<2, 2>().flatten();
        self.fc3
            .forward(self.fc2.forward(self.fc1.forward(x).relu()).relu())
    }
}

/// `lenet5 step b=64`: one training step of LeNet-5 on a batch of 64 (forward, cross-entropy,
/// backward, SGD with momentum 0.9), the parameters traced once and updated in place.
fn lenet5_step_case(cases: &mut Vec<Case>) {
    cases.push(Case {
        name: "lenet5 step b=64".into(),
        pass: "step",
        variant: "api".into(),
        flop: f64::NAN,
        setup: Box::new(|| {
            let mut model = LeNet5::new(0);
            let tape = Tape::new();
            model.trace(&tape);
            let mut sgd = Sgd::new(0.01).momentum(0.9);
            let x = Tensor::<f32, (usize, Dim<1>, Dim<28>, Dim<28>)>::randn_shaped(
                (64, Dim, Dim, Dim),
                1,
                0.0,
                1.0,
            );
            let labels = IndexTensor::<(usize,), 10>::from_fn_shaped((64,), |[i]| (i * 7) % 10)
                .expect("labels below 10");
            Box::new(move || {
                let loss = model.forward(black_box(x.clone())).cross_entropy(&labels);
                sgd.step(&mut model, &loss.backward());
            })
        }),
    });
}

/// 3x3 convolutions with padding 1: stride 1 keeps the plane, stride 2 halves it.
type Same = ConvParams<1, 1>;
type Halve = ConvParams<2, 1>;
/// The 1x1 shortcut of a block that halves the plane: stride 2, no padding.
type Shortcut = ConvParams<2, 0>;

shapetorch::model! {
    /// ResNet-18 for 3x32x32 inputs, without normalisation, as in `benches/torch_compare.py`:
    /// a 3x3 stem to 64 channels, 8 BasicBlocks (64, 64, 128, 128, 256, 256, 512, 512
    /// channels; the first of each pair after the first halves the plane with a stride-2 conv
    /// and a 1x1 stride-2 shortcut), 4x4 average pooling, a linear map to 10 classes. The
    /// fields are named `b<block>_<conv>`; `sc` is the shortcut.
    struct ResNet18 {
        stem: Conv2d<f32, 3, 64, 3, 3, Same>,
        b1_1: Conv2d<f32, 64, 64, 3, 3, Same>,
        b1_2: Conv2d<f32, 64, 64, 3, 3, Same>,
        b2_1: Conv2d<f32, 64, 64, 3, 3, Same>,
        b2_2: Conv2d<f32, 64, 64, 3, 3, Same>,
        b3_1: Conv2d<f32, 64, 128, 3, 3, Halve>,
        b3_2: Conv2d<f32, 128, 128, 3, 3, Same>,
        b3_sc: Conv2d<f32, 64, 128, 1, 1, Shortcut>,
        b4_1: Conv2d<f32, 128, 128, 3, 3, Same>,
        b4_2: Conv2d<f32, 128, 128, 3, 3, Same>,
        b5_1: Conv2d<f32, 128, 256, 3, 3, Halve>,
        b5_2: Conv2d<f32, 256, 256, 3, 3, Same>,
        b5_sc: Conv2d<f32, 128, 256, 1, 1, Shortcut>,
        b6_1: Conv2d<f32, 256, 256, 3, 3, Same>,
        b6_2: Conv2d<f32, 256, 256, 3, 3, Same>,
        b7_1: Conv2d<f32, 256, 512, 3, 3, Halve>,
        b7_2: Conv2d<f32, 512, 512, 3, 3, Same>,
        b7_sc: Conv2d<f32, 256, 512, 1, 1, Shortcut>,
        b8_1: Conv2d<f32, 512, 512, 3, 3, Same>,
        b8_2: Conv2d<f32, 512, 512, 3, 3, Same>,
        fc: Linear<f32, 512, 10>,
    }
}

/// A BasicBlock without normalisation: `relu(conv2(relu(conv1(x))) + shortcut(x))`, the
/// shortcut the identity when there is none.
macro_rules! basic_block {
    ($x:expr, $conv1:expr, $conv2:expr) => {{
        let x = $x;
        let y = $conv2.forward($conv1.forward(x.clone()).relu());
        (&y + &x).relu()
    }};
    ($x:expr, $conv1:expr, $conv2:expr, $shortcut:expr) => {{
        let x = $x;
        let y = $conv2.forward($conv1.forward(x.clone()).relu());
        (&y + &$shortcut.forward(x)).relu()
    }};
}

impl ResNet18 {
    fn forward(
        &self,
        x: Tensor<f32, (usize, Dim<3>, Dim<32>, Dim<32>)>,
    ) -> Tensor<f32, (usize, Dim<10>)> {
        let x = self.stem.forward(x).relu(); // [B, 64, 32, 32]
        let x = basic_block!(x, self.b1_1, self.b1_2);
        let x = basic_block!(x, self.b2_1, self.b2_2);
        let x = basic_block!(x, self.b3_1, self.b3_2, self.b3_sc); // [B, 128, 16, 16]
        let x = basic_block!(x, self.b4_1, self.b4_2);
        let x = basic_block!(x, self.b5_1, self.b5_2, self.b5_sc); // [B, 256, 8, 8]
        let x = basic_block!(x, self.b6_1, self.b6_2);
        let x = basic_block!(x, self.b7_1, self.b7_2, self.b7_sc); // [B, 512, 4, 4]
        let x = basic_block!(x, self.b8_1, self.b8_2);
        self.fc.forward(x.avg_pool2d::<4, 4>().flatten())
    }
}

/// FLOPs of one ResNet-18 training step on `batch` 3x32x32 inputs: each conv's forward
/// `O·OH·OW·C·KH·KW` multiply-adds, as many for the weight's gradient and for the input's
/// (but the stem's: the data needs none), the linear map likewise; two FLOPs each.
fn resnet18_step_flop(batch: usize) -> f64 {
    // (in channels, out channels, kernel side, output side), the stem first
    let convs = [
        (3, 64, 3, 32),
        (64, 64, 3, 32),
        (64, 64, 3, 32),
        (64, 64, 3, 32),
        (64, 64, 3, 32),
        (64, 128, 3, 16),
        (128, 128, 3, 16),
        (64, 128, 1, 16),
        (128, 128, 3, 16),
        (128, 128, 3, 16),
        (128, 256, 3, 8),
        (256, 256, 3, 8),
        (128, 256, 1, 8),
        (256, 256, 3, 8),
        (256, 256, 3, 8),
        (256, 512, 3, 4),
        (512, 512, 3, 4),
        (256, 512, 1, 4),
        (512, 512, 3, 4),
        (512, 512, 3, 4),
    ];
    let macs = |&(c, o, k, side): &(usize, usize, usize, usize)| o * side * side * c * k * k;
    let forward = convs.iter().map(macs).sum::<usize>() + 512 * 10;
    let stem = macs(&convs[0]);
    2.0 * (batch * (3 * forward - stem)) as f64
}

/// `resnet18 step b=32`: one training step of [`ResNet18`] on a batch of 32 (forward,
/// cross-entropy, backward, SGD with momentum 0.9), the parameters traced once and updated in
/// place ([`resnet18_step_flop`]).
fn resnet18_step_case(cases: &mut Vec<Case>) {
    const BATCH: usize = 32;
    cases.push(Case {
        name: format!("resnet18 step b={BATCH}"),
        pass: "step",
        variant: "api".into(),
        flop: resnet18_step_flop(BATCH),
        setup: Box::new(|| {
            let mut model = ResNet18::new(0);
            let tape = Tape::new();
            model.trace(&tape);
            let mut sgd = Sgd::new(0.01).momentum(0.9);
            let x = Tensor::<f32, (usize, Dim<3>, Dim<32>, Dim<32>)>::randn_shaped(
                (BATCH, Dim, Dim, Dim),
                1,
                0.0,
                1.0,
            );
            let labels = IndexTensor::<(usize,), 10>::from_fn_shaped((BATCH,), |[i]| (i * 7) % 10)
                .expect("labels below 10");
            Box::new(move || {
                let loss = model.forward(black_box(x.clone())).cross_entropy(&labels);
                sgd.step(&mut model, &loss.backward());
            })
        }),
    });
}

/// `fma peak`: the machine's multiply-add peak on the pool's threads, for the fraction of it
/// the other cases reach: on each thread, 12 independent chains of 8-lane f32 multiply-adds (AVX2 + FMA: two
/// multiply-add units of 4-cycle latency need 8 in flight), `2^24` steps of each. Timed like
/// the other cases, so `--cpu` and the load apply to it too. Prints nothing on a CPU without
/// AVX2 and FMA.
fn fma_peak_case(cases: &mut Vec<Case>) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        const STEPS: usize = 1 << 24;
        const CHAINS: usize = 12;
        // (the cases are made inside the pool that runs them)
        let threads = rayon::current_num_threads();
        cases.push(Case {
            name: "fma peak".into(),
            pass: "fwd",
            variant: "api".into(),
            flop: (threads * 2 * 8 * CHAINS * STEPS) as f64,
            setup: Box::new(|| {
                Box::new(|| {
                    // every thread of the pool runs the chains
                    rayon::broadcast(|_| {
                        // SAFETY: the CPU has AVX2 and FMA (checked above).
                        black_box(unsafe { fma_chains::<CHAINS>(STEPS, black_box(0.999_999)) });
                    });
                })
            }),
        });
    }
}

/// `CHAINS` accumulators, each multiplied by `a` and added 1e-7 to, `steps` times.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn fma_chains<const CHAINS: usize>(steps: usize, a: f32) -> f32 {
    use std::arch::x86_64::*;
    let (a, b) = (_mm256_set1_ps(a), _mm256_set1_ps(1e-7));
    let mut acc = [_mm256_set1_ps(1.0); CHAINS];
    for _ in 0..steps {
        for acc in &mut acc {
            *acc = _mm256_fmadd_ps(*acc, a, b);
        }
    }
    let mut sum = _mm256_setzero_ps();
    for acc in acc {
        sum = _mm256_add_ps(sum, acc);
    }
    let mut lanes = [0.0f32; 8];
    // SAFETY: writes the 8 floats of `lanes`.
    unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), sum) };
    lanes.iter().sum()
}

/// `sgemm n³`: `(n, n) x (n, n)` through `Tensor::matmul`, forward only.
fn matmul_case<const N: usize>(cases: &mut Vec<Case>) {
    cases.push(Case {
        name: format!("sgemm {N}^3"),
        pass: "fwd",
        variant: "api".to_string(),
        flop: 2.0 * (N as f64).powi(3),
        setup: Box::new(|| {
            let (a, b) = (
                Tensor2::<f32, N, N>::randn(1),
                Tensor2::<f32, N, N>::randn(2),
            );
            Box::new(move || {
                black_box(black_box(&a).matmul(black_box(&b)));
            })
        }),
    });
}

/// The time this thread has run on a CPU, for `--cpu` (`clock_gettime(CLOCK_THREAD_CPUTIME_ID)`,
/// nanosecond resolution; `/proc/thread-self/schedstat` only updates at scheduler ticks).
fn thread_cpu_time() -> Duration {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid, writable timespec; the call writes only into it.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    assert_eq!(status, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// How a run is timed: wall clock, or (with `--cpu`) the calling thread's on-CPU time, which
/// other processes' load does not inflate; meaningful for one thread only.
#[derive(Clone, Copy)]
struct Clock {
    cpu: bool,
}

impl Clock {
    fn time(self, f: &mut dyn FnMut()) -> Duration {
        if self.cpu {
            let t = thread_cpu_time();
            f();
            thread_cpu_time() - t
        } else {
            let t = Instant::now();
            f();
            t.elapsed()
        }
    }
}

/// The median (or with `min`, the shortest) time of `runs` runs of `f`, after a warm-up of at
/// least 3 runs and 0.2 s.
fn median_time(f: &mut dyn FnMut(), runs: usize, min: bool, clock: Clock) -> Duration {
    let start = Instant::now();
    let mut warm = 0;
    while warm < 3 || start.elapsed() < Duration::from_millis(200) {
        f();
        warm += 1;
    }
    let mut times: Vec<Duration> = (0..runs).map(|_| clock.time(f)).collect();
    times.sort();
    if min {
        times[0]
    } else {
        times[times.len() / 2]
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1).cloned())
    };
    let threads: Vec<usize> = value("--threads")
        .unwrap_or_else(|| "1,2".into())
        .split(',')
        .map(|t| t.parse().expect("--threads takes a list like 1,2"))
        .collect();
    let runs: usize = value("--runs").map_or(21, |r| r.parse().expect("--runs takes a number"));
    let filter = value("--filter").unwrap_or_default();
    let min = args.iter().any(|a| a == "--min");
    let cpu = args.iter().any(|a| a == "--cpu");
    let all_algorithms = args.iter().any(|a| a == "--algorithms");
    let kernels = args.iter().any(|a| a == "--kernels");
    let run_time = args.iter().any(|a| a == "--run-time-sizes");
    let portable = args.iter().any(|a| a == "--portable");
    let selected = || {
        let mut cases = cases(all_algorithms, kernels);
        cases.retain(|c| format!("{} {} {}", c.name, c.pass, c.variant).contains(&filter));
        cases
    };
    if args.iter().any(|a| a == "--list") {
        for c in selected() {
            println!("{}\t{}\t{}", c.name, c.pass, c.variant);
        }
        return;
    }
    for &t in &threads {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build()
            .expect("a rayon pool");
        // On-CPU time measures one thread's work only: other pools keep the wall clock.
        let clock = Clock { cpu: cpu && t == 1 };
        // The tensors are built and used on the pool's thread (a traced tensor is not `Send`).
        pool.install(|| {
            for case in selected() {
                let settings = ConvOverride {
                    run_time_sizes: run_time,
                    isa: portable.then_some(Isa::Portable),
                    ..ConvOverride::default()
                };
                let time = settings.run(|| {
                    let mut run = (case.setup)();
                    median_time(&mut run, runs, min, clock)
                });
                let s = time.as_secs_f64();
                println!(
                    "{}\t{}\t{}\t{t}\t{s:.6e}\t{:.1}",
                    case.name,
                    case.pass,
                    case.variant,
                    case.flop / s / 1e9
                );
            }
        });
    }
}
