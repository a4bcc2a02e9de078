//! The convolution kernels give one answer: hand-computed cases, then the plans forced to `direct`,
//! `im2col` and `winograd` and the per-pass choice (`auto`) against `naive` on named edge cases and
//! random geometries, in f64 and f32, for the forward pass and both gradients (which must add into
//! their buffers, not overwrite them). Then every branch that only large shapes, other thread
//! counts or other CPUs take: geometries above each threshold where work is split across threads,
//! inside 1-, 2- and 3-thread pools; the portable copies of the blocked kernels (the faster ones
//! overridden off); the run-time kernel-size loop next to each compile-time size; im2col's tiles
//! and Winograd's blocks cut small, so that they split batch entries and rows. `path_tests.rs`
//! forces the AVX2 copies and Winograd through each of their branches.

use super::cpu::Isa;
use super::{naive, ConvAlgorithm, ConvGeometry, ConvOverride, ConvPass, ConvPlan, PassKernel};
use crate::tensor::{Element, Rng};

/// A kernel's signature: `forward(g, input, weight, output)`,
/// `grad_input(g, grad_output, weight, grad_input)`, `grad_weight(g, grad_output, input, grad_weight)`.
type Kernel<E> = fn(&ConvGeometry, &[E], &[E], &mut [E]);

/// One implementation: its name and its three kernels.
struct Implementation<E> {
    name: &'static str,
    forward: Kernel<E>,
    grad_input: Kernel<E>,
    grad_weight: Kernel<E>,
}

fn implementations<E: Element>() -> [Implementation<E>; 5] {
    [
        Implementation {
            name: "naive",
            forward: naive::forward,
            grad_input: naive::grad_input,
            grad_weight: naive::grad_weight,
        },
        Implementation {
            name: "direct",
            forward: |g, x, w, y| ConvPlan::with::<E>(g, ConvAlgorithm::Direct).forward(x, w, y),
            grad_input: |g, gy, w, gx| {
                ConvPlan::with::<E>(g, ConvAlgorithm::Direct).grad_input(gy, w, gx)
            },
            grad_weight: |g, gy, x, gw| {
                ConvPlan::with::<E>(g, ConvAlgorithm::Direct).grad_weight(gy, x, gw)
            },
        },
        Implementation {
            name: "im2col",
            forward: |g, x, w, y| ConvPlan::with::<E>(g, ConvAlgorithm::Im2col).forward(x, w, y),
            grad_input: |g, gy, w, gx| {
                ConvPlan::with::<E>(g, ConvAlgorithm::Im2col).grad_input(gy, w, gx)
            },
            grad_weight: |g, gy, x, gw| {
                ConvPlan::with::<E>(g, ConvAlgorithm::Im2col).grad_weight(gy, x, gw)
            },
        },
        Implementation {
            name: "winograd",
            forward: |g, x, w, y| ConvPlan::with::<E>(g, ConvAlgorithm::Winograd).forward(x, w, y),
            grad_input: |g, gy, w, gx| {
                ConvPlan::with::<E>(g, ConvAlgorithm::Winograd).grad_input(gy, w, gx)
            },
            grad_weight: |g, gy, x, gw| {
                ConvPlan::with::<E>(g, ConvAlgorithm::Winograd).grad_weight(gy, x, gw)
            },
        },
        Implementation {
            name: "auto",
            forward: |g, x, w, y| ConvPlan::new::<E>(g).forward(x, w, y),
            grad_input: |g, gy, w, gx| ConvPlan::new::<E>(g).grad_input(gy, w, gx),
            grad_weight: |g, gy, x, gw| ConvPlan::new::<E>(g).grad_weight(gy, x, gw),
        },
    ]
}

/// A conv2d with PyTorch's symmetric padding (`[top, left]`, the same at the bottom/right), one
/// stride and one dilation for both axes.
#[allow(clippy::too_many_arguments)]
pub(super) fn conv2d(
    batch: usize,
    in_channels: usize,
    out_channels: usize,
    in_size: [usize; 2],
    kernel: [usize; 2],
    stride: usize,
    padding: [usize; 2],
    dilation: usize,
) -> ConvGeometry {
    let (stride, dilation) = ([stride; 2], [dilation; 2]);
    conv2d_axes(
        batch,
        in_channels,
        out_channels,
        in_size,
        kernel,
        stride,
        padding,
        dilation,
    )
}

/// A conv2d with PyTorch's tuples: stride, symmetric padding and dilation per axis, each
/// `[height, width]`.
#[allow(clippy::too_many_arguments)]
pub(super) fn conv2d_axes(
    batch: usize,
    in_channels: usize,
    out_channels: usize,
    [in_h, in_w]: [usize; 2],
    [kernel_h, kernel_w]: [usize; 2],
    [stride_h, stride_w]: [usize; 2],
    [pad_top, pad_left]: [usize; 2],
    [dilation_h, dilation_w]: [usize; 2],
) -> ConvGeometry {
    let out_h = ConvGeometry::out_size(in_h, kernel_h, stride_h, pad_top, dilation_h).unwrap();
    let out_w = ConvGeometry::out_size(in_w, kernel_w, stride_w, pad_left, dilation_w).unwrap();
    ConvGeometry {
        batch,
        in_channels,
        out_channels,
        in_h,
        in_w,
        kernel_h,
        kernel_w,
        out_h,
        out_w,
        stride_h,
        stride_w,
        pad_top,
        pad_left,
        dilation_h,
        dilation_w,
    }
}

/// A conv1d (`in_h = kernel_h = out_h = 1`, height stride and dilation 1) with PyTorch's
/// symmetric padding.
#[allow(clippy::too_many_arguments)]
pub(super) fn conv1d(
    batch: usize,
    in_channels: usize,
    out_channels: usize,
    len: usize,
    kernel: usize,
    stride: usize,
    pad: usize,
    dilation: usize,
) -> ConvGeometry {
    conv2d_axes(
        batch,
        in_channels,
        out_channels,
        [1, len],
        [1, kernel],
        [1, stride],
        [0, pad],
        [1, dilation],
    )
}

/// The teaching convention: no padding at the top/left, output as large as the input, zero
/// past the bottom/right end.
pub(super) fn teaching(mut g: ConvGeometry) -> ConvGeometry {
    (g.pad_top, g.pad_left, g.out_h, g.out_w) = (0, 0, g.in_h, g.in_w);
    g
}

/// The named edge cases.
fn edge_cases() -> Vec<(&'static str, ConvGeometry)> {
    vec![
        ("odd sizes", conv2d(2, 3, 5, [7, 9], [3, 3], 1, [1, 1], 1)),
        ("K = 1", conv2d(2, 4, 3, [5, 6], [1, 1], 1, [0, 0], 1)),
        (
            "K = W (and H)",
            conv2d(2, 2, 3, [5, 7], [5, 7], 1, [0, 0], 1),
        ),
        ("stride 2", conv2d(2, 3, 2, [9, 8], [3, 3], 2, [1, 1], 1)),
        ("stride 3", conv2d(1, 2, 3, [10, 11], [3, 2], 3, [2, 1], 1)),
        ("dilation 2", conv2d(2, 2, 3, [9, 9], [3, 3], 1, [2, 2], 2)),
        (
            "stride 2, dilation 2",
            conv2d(2, 3, 2, [11, 10], [3, 3], 2, [1, 0], 2),
        ),
        (
            "padding > K/2",
            conv2d(1, 2, 2, [4, 5], [3, 3], 1, [3, 2], 1),
        ),
        (
            "padding > K, stride 2",
            conv2d(2, 1, 2, [3, 4], [2, 2], 2, [3, 3], 1),
        ),
        (
            "teaching",
            teaching(conv2d(2, 3, 2, [6, 6], [3, 3], 1, [0, 0], 1)),
        ),
        (
            "teaching, stride 2",
            teaching(conv2d(1, 2, 2, [7, 6], [3, 2], 2, [0, 0], 1)),
        ),
        ("teaching conv1d", teaching(conv1d(3, 2, 4, 10, 4, 1, 0, 1))),
        (
            "B = 1, C = 1, O = 1",
            conv2d(1, 1, 1, [5, 5], [2, 3], 1, [0, 1], 1),
        ),
        ("C = 1", conv2d(3, 1, 4, [8, 6], [3, 3], 1, [1, 1], 1)),
        ("conv1d", conv1d(3, 4, 5, 17, 5, 1, 2, 1)),
        (
            "conv1d, stride 2, dilation 2",
            conv1d(2, 3, 2, 16, 3, 2, 1, 2),
        ),
        ("conv1d, stride 3", conv1d(2, 2, 3, 20, 4, 3, 0, 1)),
        (
            "LeNet layer 1",
            conv2d(2, 1, 6, [28, 28], [5, 5], 1, [0, 0], 1),
        ),
        // output channels filling whole vectors (16 lanes), and not quite
        ("O = 16", conv2d(2, 3, 16, [7, 6], [3, 3], 1, [1, 1], 1)),
        ("O = 13", conv2d(2, 2, 13, [6, 9], [2, 3], 1, [1, 0], 2)),
        ("O = 40, conv1d", conv1d(3, 3, 40, 20, 5, 1, 2, 1)),
        (
            "O = 64, C = 9",
            conv2d(1, 9, 64, [5, 5], [3, 3], 1, [0, 0], 1),
        ),
        (
            "O = 70, 1x1",
            conv2d(2, 5, 70, [4, 3], [1, 1], 1, [0, 0], 1),
        ),
        // the weight's gradient by channel in groups of 2 entries (the transposed upstream
        // gradient, 1678 positions x 32 lanes an entry, kept under 128 Ki elements), the last
        // group short, so the reused buffer still holds the previous group's values past it
        (
            "O = 28, 40x40, groups of 2",
            conv2d(3, 2, 28, [40, 40], [3, 3], 1, [1, 1], 1),
        ),
        // stride and dilation per axis (PyTorch's tuples)
        (
            "stride (1, 2)",
            conv2d_axes(2, 3, 2, [7, 10], [3, 2], [1, 2], [1, 0], [1, 1]),
        ),
        (
            "stride (3, 1)",
            conv2d_axes(1, 2, 3, [11, 6], [2, 3], [3, 1], [0, 1], [1, 1]),
        ),
        (
            "dilation (3, 1)",
            conv2d_axes(2, 2, 3, [9, 7], [2, 3], [1, 1], [0, 1], [3, 1]),
        ),
        (
            "dilation (1, 2), padding (2, 0)",
            conv2d_axes(2, 3, 2, [6, 11], [3, 3], [1, 1], [2, 0], [1, 2]),
        ),
        (
            "stride (2, 1), dilation (1, 2), padding (0, 2)",
            conv2d_axes(2, 2, 4, [8, 9], [3, 3], [2, 1], [0, 2], [1, 2]),
        ),
        (
            "stride (1, 3), dilation (2, 1), padding (1, 0)",
            conv2d_axes(1, 3, 2, [7, 13], [2, 4], [1, 3], [1, 0], [2, 1]),
        ),
        (
            "teaching, stride (2, 1)",
            teaching(conv2d_axes(2, 2, 3, [7, 6], [3, 2], [2, 1], [0, 0], [1, 1])),
        ),
    ]
}

/// A random small geometry: conv1d or conv2d, kernel 1..=5, stride 1..=3 and dilation 1..=2
/// drawn per axis (conv1d: 1 along the height), padding 0..=K (PyTorch's output size), or the
/// teaching convention one time in four.
fn random_geometry(rng: &mut Rng) -> ConvGeometry {
    loop {
        let is_1d = rng.below(4) == 0;
        let (in_h, kernel_h) = if is_1d {
            (1, 1)
        } else {
            (1 + rng.below(9), 1 + rng.below(5))
        };
        let (in_w, kernel_w) = (1 + rng.below(13), 1 + rng.below(5));
        let (stride_h, dilation_h) = if is_1d {
            (1, 1)
        } else {
            (1 + rng.below(3), 1 + rng.below(2))
        };
        let (stride_w, dilation_w) = (1 + rng.below(3), 1 + rng.below(2));
        let pad_top = if is_1d { 0 } else { rng.below(kernel_h + 1) };
        let pad_left = rng.below(kernel_w + 1);
        let mut g = ConvGeometry {
            batch: 1 + rng.below(3),
            in_channels: 1 + rng.below(4),
            out_channels: 1 + rng.below(4),
            in_h,
            in_w,
            kernel_h,
            kernel_w,
            out_h: 0,
            out_w: 0,
            stride_h,
            stride_w,
            pad_top,
            pad_left,
            dilation_h,
            dilation_w,
        };
        if rng.below(4) == 0 {
            // teaching: out = in (for stride > 1, one output per stride), zero past the end
            (g.pad_top, g.pad_left) = (0, 0);
            (g.out_h, g.out_w) = (in_h.div_ceil(stride_h), in_w.div_ceil(stride_w));
            return g;
        }
        let out_h = ConvGeometry::out_size(in_h, kernel_h, stride_h, pad_top, dilation_h);
        let out_w = ConvGeometry::out_size(in_w, kernel_w, stride_w, pad_left, dilation_w);
        if let (Some(out_h), Some(out_w)) = (out_h, out_w) {
            (g.out_h, g.out_w) = (out_h, out_w);
            return g;
        }
    }
}

fn random_vec<E: Element>(rng: &mut Rng, len: usize) -> Vec<E> {
    (0..len).map(|_| E::of(rng.normal())).collect()
}

/// Panics unless `max |got - expected| <= tol * max |expected|` (relative to the largest
/// value, so sums that cancel to near zero do not fail on rounding), naming the worst element.
fn assert_close<E: Element>(what: &str, g: &ConvGeometry, got: &[E], expected: &[E], tol: f64) {
    assert_eq!(got.len(), expected.len(), "{what}: lengths differ");
    let scale = expected
        .iter()
        .map(|e| e.abs().to_f64().unwrap())
        .fold(0.0, f64::max);
    let (worst, error) = got
        .iter()
        .zip(expected)
        .map(|(g, e)| (*g - *e).abs().to_f64().unwrap())
        .enumerate()
        .fold(
            (0, 0.0),
            |best, (i, err)| if err > best.1 { (i, err) } else { best },
        );
    assert!(
        error <= tol * scale.max(f64::MIN_POSITIVE),
        "{what}: element {worst}: expected {}, got {} (error {error:e}, scale {scale:e}) for {g:?}",
        expected[worst],
        got[worst],
    );
}

/// Random operands of one geometry and the naive kernels' answers.
pub(super) struct Reference<E> {
    input: Vec<E>,
    weight: Vec<E>,
    grad_output: Vec<E>,
    start_grad_input: Vec<E>,
    start_grad_weight: Vec<E>,
    output: Vec<E>,
    /// `start_grad_input` plus the gradient.
    grad_input: Vec<E>,
    /// `start_grad_weight` plus the gradient.
    grad_weight: Vec<E>,
}

impl<E: Element> Reference<E> {
    pub(super) fn new(g: &ConvGeometry, seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let input = random_vec::<E>(&mut rng, g.input_len());
        let weight = random_vec::<E>(&mut rng, g.weight_len());
        let grad_output = random_vec::<E>(&mut rng, g.output_len());
        let start_grad_input = random_vec::<E>(&mut rng, g.input_len());
        let start_grad_weight = random_vec::<E>(&mut rng, g.weight_len());
        // naive, from zero buffers (the forward from garbage: it must overwrite)
        let mut output = vec![E::of(7.0); g.output_len()];
        naive::forward(g, &input, &weight, &mut output);
        let mut grad_input = vec![E::zero(); g.input_len()];
        naive::grad_input(g, &grad_output, &weight, &mut grad_input);
        let mut grad_weight = vec![E::zero(); g.weight_len()];
        naive::grad_weight(g, &grad_output, &input, &mut grad_weight);
        let plus = |start: &[E], delta: &[E]| -> Vec<E> {
            start.iter().zip(delta).map(|(&s, &d)| s + d).collect()
        };
        Reference {
            grad_input: plus(&start_grad_input, &grad_input),
            grad_weight: plus(&start_grad_weight, &grad_weight),
            input,
            weight,
            grad_output,
            start_grad_input,
            start_grad_weight,
            output,
        }
    }

    /// Every implementation's forward, grad_input and grad_weight against the reference. The
    /// gradients start from non-zero buffers: each kernel must return `start + gradient`.
    pub(super) fn check(&self, case: &str, g: &ConvGeometry, tol: f64) {
        for kernels in implementations::<E>() {
            let name = kernels.name;
            let mut got = vec![E::of(-3.0); g.output_len()];
            (kernels.forward)(g, &self.input, &self.weight, &mut got);
            assert_close(
                &format!("{case}: {name}::forward"),
                g,
                &got,
                &self.output,
                tol,
            );

            let mut got = self.start_grad_input.clone();
            (kernels.grad_input)(g, &self.grad_output, &self.weight, &mut got);
            let what = format!("{case}: {name}::grad_input (added to a non-zero buffer)");
            assert_close(&what, g, &got, &self.grad_input, tol);

            let mut got = self.start_grad_weight.clone();
            (kernels.grad_weight)(g, &self.grad_output, &self.input, &mut got);
            let what = format!("{case}: {name}::grad_weight (added to a non-zero buffer)");
            assert_close(&what, g, &got, &self.grad_weight, tol);
        }
    }
}

/// Every implementation's forward, grad_input and grad_weight against the naive reference.
fn check_against_naive<E: Element>(case: &str, g: &ConvGeometry, seed: u64, tol: f64) {
    Reference::<E>::new(g, seed).check(case, g, tol);
}

#[test]
fn lecture_conv1d_by_hand() {
    // input [1, 2, 3, 4, 5, 6], weight [5, 2, 3], teaching convention: output as long as the
    // input, the kernel anchored at the left, zero past the right end (right padding 2).
    let g = teaching(conv1d(1, 1, 1, 6, 3, 1, 0, 1));
    let input = [1., 2., 3., 4., 5., 6.];
    let weight = [5., 2., 3.];
    #[rustfmt::skip]
    let expected_output = [
        5. * 1. + 2. * 2. + 3. * 3., // 18
        5. * 2. + 2. * 3. + 3. * 4., // 28
        5. * 3. + 2. * 4. + 3. * 5., // 38
        5. * 4. + 2. * 5. + 3. * 6., // 48
        5. * 5. + 2. * 6. + 3. * 0., // 37: the last tap reads past the end
        5. * 6. + 2. * 0. + 3. * 0., // 30
    ];
    assert_eq!(expected_output, [18., 28., 38., 48., 37., 30.]);

    // Upstream gradient 1 at output 0 and 2 at output 5, added to a buffer of 100s.
    let grad_output = [1., 0., 0., 0., 0., 2.];
    // grad_input[i] = sum_k weight[k] * grad_output[i - k]: the reversed kernel. Output 0 read
    // inputs 0, 1, 2 with weights 5, 2, 3; output 5 read input 5 with weight 5.
    let expected_grad_input = [100. + 5., 100. + 2., 100. + 3., 100., 100., 100. + 2. * 5.];
    // grad_weight[k] = sum_t grad_output[t] * input[t + k]
    #[rustfmt::skip]
    let expected_grad_weight = [
        100. + 1. * 1. + 2. * 6., // tap 0: output 0 read input[0], output 5 read input[5]
        100. + 1. * 2. + 2. * 0., // tap 1: output 5 read past the end
        100. + 1. * 3. + 2. * 0.,
    ];
    for kernels in implementations::<f64>() {
        let mut output = [0.0; 6];
        (kernels.forward)(&g, &input, &weight, &mut output);
        assert_eq!(output, expected_output, "{}", kernels.name);
        let mut grad_input = [100.0; 6];
        (kernels.grad_input)(&g, &grad_output, &weight, &mut grad_input);
        assert_eq!(grad_input, expected_grad_input, "{}", kernels.name);
        let mut grad_weight = [100.0; 3];
        (kernels.grad_weight)(&g, &grad_output, &input, &mut grad_weight);
        assert_eq!(grad_weight, expected_grad_weight, "{}", kernels.name);
    }
}

#[test]
fn padded_conv2d_by_hand() {
    // input [[1, 2], [3, 4]], weight [[1, 0], [0, 1]], padding 1 on every side: a 3x3 output,
    // output[oy, ox] = 1 * input[oy - 1, ox - 1] + 1 * input[oy, ox], zero outside.
    let g = conv2d(1, 1, 1, [2, 2], [2, 2], 1, [1, 1], 1);
    #[rustfmt::skip]
    let expected = [
        0. + 1., 0. + 2., 0. + 0.,
        0. + 3., 1. + 4., 2. + 0.,
        0. + 0., 3. + 0., 4. + 0.,
    ];
    for kernels in implementations::<f64>() {
        let mut output = [0.0; 9];
        (kernels.forward)(&g, &[1., 2., 3., 4.], &[1., 0., 0., 1.], &mut output);
        assert_eq!(output, expected, "{}", kernels.name);
    }
}

#[test]
fn edge_cases_agree_with_naive() {
    for (seed, (case, g)) in edge_cases().into_iter().enumerate() {
        check_against_naive::<f64>(case, &g, seed as u64, 1e-12);
        check_against_naive::<f32>(case, &g, seed as u64, 1e-4);
    }
}

#[test]
fn random_geometries_agree_with_naive() {
    let mut rng = Rng::new(2024);
    for seed in 0..300 {
        let g = random_geometry(&mut rng);
        check_against_naive::<f64>("random", &g, seed, 1e-12);
        check_against_naive::<f32>("random", &g, seed, 1e-4);
    }
}

/// A rayon pool of `threads` threads.
pub(super) fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a rayon pool")
}

/// Geometries above every threshold at which work is split across threads: 2^20
/// multiply-adds for the kernels (`ConvGeometry::worth_threads`), 2^18 for the GEMM, 2^16
/// elements for the padded copies. With stride, padding, dilation (the same along both axes,
/// and differing between them), the teaching convention, conv1d, 1x1 and 7-wide kernels, output
/// channels that fill vectors (16, 32) and not, and a batch smaller than the threads (the GEMM
/// split instead of the batch).
fn parallel_geometries() -> Vec<(&'static str, ConvGeometry)> {
    vec![
        (
            "3x3, padding 1, O = 16",
            conv2d(4, 8, 16, [20, 20], [3, 3], 1, [1, 1], 1),
        ),
        (
            "stride 2, dilation 2",
            conv2d(3, 16, 12, [30, 28], [3, 3], 2, [2, 2], 2),
        ),
        ("conv1d 1x7, O = 20", conv1d(8, 8, 20, 200, 7, 1, 3, 1)),
        (
            "LeNet layer 1",
            conv2d(16, 1, 6, [28, 28], [5, 5], 1, [0, 0], 1),
        ),
        (
            "batch 2, O = 32",
            conv2d(2, 16, 32, [16, 16], [3, 3], 1, [1, 1], 1),
        ),
        (
            "teaching 5x5",
            teaching(conv2d(4, 4, 8, [24, 24], [5, 5], 1, [0, 0], 1)),
        ),
        (
            "1x1, C = 64",
            conv2d(4, 64, 24, [14, 14], [1, 1], 1, [0, 0], 1),
        ),
        (
            "stride (1, 2), dilation (2, 1), padding (2, 0)",
            conv2d_axes(3, 16, 12, [24, 40], [3, 3], [1, 2], [2, 0], [2, 1]),
        ),
        (
            "batch 2, stride (2, 1)",
            conv2d_axes(2, 16, 32, [20, 16], [3, 3], [2, 1], [1, 1], [1, 1]),
        ),
        (
            "dilation (1, 3), padding (1, 3)",
            conv2d_axes(4, 8, 16, [20, 22], [3, 3], [1, 1], [1, 3], [1, 3]),
        ),
        // a group of one entry each for the weight's gradient by channel
        (
            "O = 28, 48x48",
            conv2d(4, 2, 28, [48, 48], [3, 3], 1, [1, 1], 1),
        ),
    ]
}

#[test]
fn parallel_branches_agree_with_naive() {
    for (seed, (case, g)) in parallel_geometries().into_iter().enumerate() {
        assert!(g.macs() >= 1 << 20, "{case}: below the threshold");
        let reference = Reference::<f32>::new(&g, seed as u64);
        for threads in [1, 2, 3] {
            pool(threads).install(|| {
                // one thread: the same geometries on the caller's thread alone
                let split = threads > 1;
                assert_eq!(g.worth_threads(), split, "{case}: split across threads?");
                reference.check(&format!("{case}, {threads} threads"), &g, 1e-4);
            });
        }
    }
    // f64 too, whose blocks of 16 lanes take two registers each
    let (case, g) = &parallel_geometries()[0];
    let reference = Reference::<f64>::new(g, 99);
    pool(2).install(|| reference.check(&format!("{case}, f64, 2 threads"), g, 1e-12));
}

/// Runs `f` with the blocked kernels' copies limited to `isa`.
pub(super) fn with_isa<R>(isa: Isa, f: impl FnOnce() -> R) -> R {
    let settings = ConvOverride {
        isa: Some(isa),
        ..ConvOverride::current()
    };
    settings.run(f)
}

#[test]
fn the_portable_copies_agree_with_naive() {
    // the blocked kernels' baseline copies, which CPUs without AVX2 run
    with_isa(Isa::Portable, || {
        for (seed, (case, g)) in edge_cases().into_iter().enumerate() {
            check_against_naive::<f32>(&format!("{case}, portable"), &g, seed as u64, 1e-4);
            check_against_naive::<f64>(&format!("{case}, portable"), &g, seed as u64, 1e-12);
        }
        let mut rng = Rng::new(7);
        for seed in 0..60 {
            let g = random_geometry(&mut rng);
            check_against_naive::<f32>("random, portable", &g, seed, 1e-4);
        }
    });
    let (case, g) = &parallel_geometries()[2];
    let reference = Reference::<f32>::new(g, 5);
    pool(2).install(|| {
        with_isa(Isa::Portable, || {
            reference.check(&format!("{case}, portable, 2 threads"), g, 1e-4)
        })
    });
}

#[test]
fn compile_time_and_run_time_kernel_sizes_agree() {
    // the sizes with a compile-time copy, conv1d's among them, and one without
    for (seed, [kh, kw]) in [
        [1, 1],
        [3, 3],
        [5, 5],
        [7, 7],
        [1, 3],
        [1, 5],
        [1, 7],
        [2, 3],
    ]
    .into_iter()
    .enumerate()
    {
        let g = conv2d(2, 3, 5, [9, 11], [kh, kw], 1, [kh / 2, kw / 2], 1);
        let reference = Reference::<f32>::new(&g, seed as u64);
        reference.check(&format!("{kh}x{kw}"), &g, 1e-4);
        let run_time = ConvOverride {
            run_time_sizes: true,
            ..ConvOverride::default()
        };
        run_time.run(|| reference.check(&format!("{kh}x{kw}, run-time size"), &g, 1e-4));
    }
}

#[test]
fn gemm_blocks_that_split_entries_and_rows_agree_with_naive() {
    // im2col's tiles of 1, 7 and 50 output positions; Winograd's blocks of one row of tiles,
    // of a few rows, of rows from two batch entries
    for columns in [1, 7, 50] {
        let blocks = ConvOverride {
            gemm_columns: Some(columns),
            ..ConvOverride::default()
        };
        blocks.run(|| {
            for (seed, (case, g)) in edge_cases().into_iter().enumerate() {
                let case = format!("{case}, GEMMs of {columns} columns");
                check_against_naive::<f64>(&case, &g, seed as u64, 1e-12);
            }
        });
    }
}

#[test]
fn the_per_pass_choice_follows_the_measurements() {
    use ConvAlgorithm::{Direct, Im2col};
    let big = conv2d(8, 64, 64, [56, 56], [3, 3], 1, [0, 0], 1);
    let lenet = conv2d(64, 1, 6, [28, 28], [5, 5], 1, [0, 0], 1);
    let strided = conv2d(8, 64, 64, [56, 56], [3, 3], 2, [1, 1], 1);
    // stride 2 along one axis only: still the skipped positions' zeros for direct
    let strided_w = conv2d_axes(8, 64, 64, [56, 56], [3, 3], [1, 2], [1, 1], [1, 1]);
    // stride 1, dilation per axis: the register-blocked kernels take it
    let dilated_h = conv2d_axes(8, 64, 64, [56, 56], [3, 3], [1, 1], [2, 1], [2, 1]);
    let mid = conv2d(64, 6, 16, [12, 12], [5, 5], 1, [0, 0], 1);
    let tiny = conv2d(1, 2, 3, [6, 6], [3, 3], 1, [0, 0], 1);
    /// The family the plan picks for pass `p` of `g` in `E`.
    fn family<E: Element>(g: &ConvGeometry, p: ConvPass) -> ConvAlgorithm {
        match ConvPlan::new::<E>(g).kernel(p) {
            PassKernel::Im2col { .. } => Im2col,
            PassKernel::Winograd { .. } => ConvAlgorithm::Winograd,
            PassKernel::Blocked(_) | PassKernel::Strided => Direct,
        }
    }
    let pass = |g: &ConvGeometry, p| family::<f32>(g, p);
    assert_eq!(pass(&tiny, ConvPass::Forward), Direct);
    assert_eq!(pass(&strided, ConvPass::Forward), Im2col);
    assert_eq!(pass(&strided, ConvPass::GradInput), Im2col);
    for p in [ConvPass::Forward, ConvPass::GradInput, ConvPass::GradWeight] {
        assert_eq!(pass(&strided_w, p), Im2col, "{p:?}");
    }
    if Isa::detected() == Isa::Avx512 {
        assert_eq!(pass(&big, ConvPass::Forward), Direct);
        assert_eq!(pass(&dilated_h, ConvPass::Forward), Direct);
        assert_eq!(pass(&big, ConvPass::GradInput), Direct);
        // many output channels: the GEMM on Intel, the direct kernel on AMD
        let many_channels = if Isa::amd() { Direct } else { Im2col };
        assert_eq!(pass(&big, ConvPass::GradWeight), many_channels);
        assert_eq!(pass(&lenet, ConvPass::GradWeight), Direct);
        assert_eq!(pass(&mid, ConvPass::Forward), Direct);
        assert_eq!(pass(&mid, ConvPass::GradInput), Im2col);
        assert_eq!(pass(&mid, ConvPass::GradWeight), Direct);
        // f64: the GEMM
        assert_eq!(family::<f64>(&big, ConvPass::Forward), Im2col);
    }
    // without AVX-512, the GEMM crate's AVX2 kernel beats the portable copies
    with_isa(Isa::Portable, || {
        assert_eq!(pass(&big, ConvPass::Forward), Im2col)
    });
}
