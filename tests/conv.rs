//! Convolution through the typed API: gradient checks by central differences, agreement with
//! plain loops written in this file (forward and backward) on shapes that reach both kernels, a
//! runtime batch dim, the lecture's hand case, the teaching convention as right padding, and
//! PyTorch's per-axis tuples (`ConvParams2d`: stride, padding and dilation each differing
//! between the height and the width).
//!
//! The golden values from PyTorch are in `tests/golden.rs`; the kernels against each other (no
//! typed API) in `src/ops/conv/kernel_tests.rs`.

use shapetorch::gradcheck::{gradcheck, GradcheckError};
use shapetorch::ops::conv::ConvAlgorithm;
use shapetorch::prelude::*;

/// An element type these tests run in, with its tolerance against the f64 plain loops.
trait Precision: Element {
    const NAME: &'static str;
    /// Agreement required: `|got - expected| <= TOL * max(1, |expected|)`.
    const TOL: f64;
    fn as_f64(self) -> f64;
}

impl Precision for f64 {
    const NAME: &'static str = "f64";
    const TOL: f64 = 1e-12;
    fn as_f64(self) -> f64 {
        self
    }
}

impl Precision for f32 {
    const NAME: &'static str = "f32";
    const TOL: f64 = 1e-4;
    fn as_f64(self) -> f64 {
        f64::from(self)
    }
}

/// `|got - expected| <= tol * max(1, |expected|)`; false when `got` is NaN.
fn agrees(expected: f64, got: f64, tol: f64) -> bool {
    (got - expected).abs() <= tol * expected.abs().max(1.0)
}

/// The multi-index of row-major offset `flat` in an array of `dims`.
fn unravel(dims: &[usize], mut flat: usize) -> Vec<usize> {
    let mut index = vec![0; dims.len()];
    for (i, d) in index.iter_mut().zip(dims).rev() {
        *i = flat % d;
        flat /= d;
    }
    index
}

/// The mismatches between `got` and `expected`, arrays of `dims` (at most five, then a count),
/// each naming the case, the field, the index, expected and got.
fn mismatches<E: Precision>(
    label: &str,
    field: &str,
    dims: &[usize],
    expected: &[f64],
    got: &[E],
) -> Vec<String> {
    let at = format!("{label} ({}) {field}", E::NAME);
    if expected.len() != got.len() {
        return vec![format!(
            "{at}: {} values expected, {} computed",
            expected.len(),
            got.len()
        )];
    }
    let bad: Vec<usize> = (0..got.len())
        .filter(|&i| {
            let (e, g) = (expected[i], got[i].as_f64());
            !agrees(e, g, E::TOL)
        })
        .collect();
    let mut out: Vec<String> = bad
        .iter()
        .take(5)
        .map(|&i| {
            format!(
                "{at}{:?}: expected {:e}, got {:e}, difference {:.2e}",
                unravel(dims, i),
                expected[i],
                got[i].as_f64(),
                got[i].as_f64() - expected[i]
            )
        })
        .collect();
    if bad.len() > 5 {
        out.push(format!("{at}: {} mismatches of {}", bad.len(), got.len()));
    }
    out
}

fn assert_close<E: Precision>(label: &str, expected: &[f64], got: &[E]) {
    let errors = mismatches(label, "", &[got.len()], expected, got);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

fn to_f64<E: Precision>(values: &[E]) -> Vec<f64> {
    values.iter().map(|v| v.as_f64()).collect()
}

/// Panics listing every failure, if any.
fn assert_no_failures(what: &str, failures: Vec<String>) {
    assert!(
        failures.is_empty(),
        "{what}: {} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// Plain loops: the definition, written out, with its gradients
// ---------------------------------------------------------------------------------------------

/// The sizes of one convolution for the plain loops. Conv1d has `h = kh = oh = 1`,
/// `pad_top = 0` and height stride and dilation 1; the teaching convention has no padding and
/// `oh, ow = h, w` (reads past the end are zero).
#[derive(Clone, Copy, Debug)]
struct Sizes {
    rank1: bool,
    b: usize,
    c: usize,
    h: usize,
    w: usize,
    o: usize,
    kh: usize,
    kw: usize,
    oh: usize,
    ow: usize,
    stride_h: usize,
    stride_w: usize,
    pad_top: usize,
    pad_left: usize,
    dilation_h: usize,
    dilation_w: usize,
    bias: bool,
}

/// PyTorch's output size: `(n + 2p - d(k-1) - 1)/s + 1`.
fn out_size(n: usize, k: usize, s: usize, p: usize, d: usize) -> usize {
    (n + 2 * p - d * (k - 1) - 1) / s + 1
}

impl Sizes {
    fn conv1d(
        [b, c, w]: [usize; 3],
        [o, k]: [usize; 2],
        [stride, padding, dilation]: [usize; 3],
        bias: bool,
    ) -> Sizes {
        Sizes {
            rank1: true,
            b,
            c,
            h: 1,
            w,
            o,
            kh: 1,
            kw: k,
            oh: 1,
            ow: out_size(w, k, stride, padding, dilation),
            stride_h: 1,
            stride_w: stride,
            pad_top: 0,
            pad_left: padding,
            dilation_h: 1,
            dilation_w: dilation,
            bias,
        }
    }

    fn conv1d_minitorch([b, c, w]: [usize; 3], [o, k]: [usize; 2]) -> Sizes {
        Sizes {
            ow: w,
            ..Sizes::conv1d([b, c, w], [o, k], [1, 0, 1], false)
        }
    }

    fn conv2d(
        x: [usize; 4],
        w: [usize; 3],
        [stride, padding, dilation]: [usize; 3],
        bias: bool,
    ) -> Sizes {
        Sizes::conv2d_hw(x, w, [stride; 2], [padding; 2], [dilation; 2], bias)
    }

    /// conv2d with PyTorch's tuples, `ConvParams2d<SH, SW, PH, PW, DH, DW>`: stride, padding
    /// and dilation per axis, each `[height, width]`.
    fn conv2d_hw(
        [b, c, h, w]: [usize; 4],
        [o, kh, kw]: [usize; 3],
        [stride_h, stride_w]: [usize; 2],
        [pad_top, pad_left]: [usize; 2],
        [dilation_h, dilation_w]: [usize; 2],
        bias: bool,
    ) -> Sizes {
        Sizes {
            rank1: false,
            b,
            c,
            h,
            w,
            o,
            kh,
            kw,
            oh: out_size(h, kh, stride_h, pad_top, dilation_h),
            ow: out_size(w, kw, stride_w, pad_left, dilation_w),
            stride_h,
            stride_w,
            pad_top,
            pad_left,
            dilation_h,
            dilation_w,
            bias,
        }
    }

    fn conv2d_minitorch([b, c, h, w]: [usize; 4], [o, kh, kw]: [usize; 3]) -> Sizes {
        Sizes {
            oh: h,
            ow: w,
            ..Sizes::conv2d([b, c, h, w], [o, kh, kw], [1, 0, 1], false)
        }
    }

    /// The dims of x, w and y, in this order.
    fn dims(&self) -> [Vec<usize>; 3] {
        if self.rank1 {
            [
                vec![self.b, self.c, self.w],
                vec![self.o, self.c, self.kw],
                vec![self.b, self.o, self.ow],
            ]
        } else {
            [
                vec![self.b, self.c, self.h, self.w],
                vec![self.o, self.c, self.kh, self.kw],
                vec![self.b, self.o, self.oh, self.ow],
            ]
        }
    }

    /// Every product of the convolution: `(x index, w index, y index)` for
    /// `y[b, o, oy, ox] += w[o, c, ky, kx] * x[b, c, oy*sh + ky*dh - pt, ox*sw + kx*dw - pl]`
    /// whenever the x position is inside the input (outside it, x is zero); `sh`, `sw` are the
    /// stride along the height and width, `dh`, `dw` the dilation, `pt`, `pl` the padding at
    /// the top and left.
    fn products(&self) -> Vec<(usize, usize, usize)> {
        let inside = |pos: isize, n: usize| (0..n as isize).contains(&pos);
        let mut out = Vec::new();
        for b in 0..self.b {
            for o in 0..self.o {
                for oy in 0..self.oh {
                    for ox in 0..self.ow {
                        for c in 0..self.c {
                            for ky in 0..self.kh {
                                for kx in 0..self.kw {
                                    let iy = (oy * self.stride_h + ky * self.dilation_h) as isize
                                        - self.pad_top as isize;
                                    let ix = (ox * self.stride_w + kx * self.dilation_w) as isize
                                        - self.pad_left as isize;
                                    if !inside(iy, self.h) || !inside(ix, self.w) {
                                        continue;
                                    }
                                    let (iy, ix) = (iy as usize, ix as usize);
                                    let xi = ((b * self.c + c) * self.h + iy) * self.w + ix;
                                    let wi = ((o * self.c + c) * self.kh + ky) * self.kw + kx;
                                    let yi = ((b * self.o + o) * self.oh + oy) * self.ow + ox;
                                    out.push((xi, wi, yi));
                                }
                            }
                        }
                    }
                }
            }
        }
        out
    }

    /// `y = conv(x, w) + bias`.
    fn forward(&self, x: &[f64], w: &[f64], bias: &[f64]) -> Vec<f64> {
        let plane = self.oh * self.ow;
        let mut y = vec![0.0; self.b * self.o * plane];
        for (xi, wi, yi) in self.products() {
            y[yi] += w[wi] * x[xi];
        }
        if self.bias {
            for (i, v) in y.iter_mut().enumerate() {
                *v += bias[(i / plane) % self.o]; // y[b, o, ..] += bias[o]
            }
        }
        y
    }

    /// The gradients of `sum(y * grad_y)`: each product `w * x` sends `grad_y * x` to `w` and
    /// `grad_y * w` to `x`; the bias gets the sum of `grad_y` over batch and positions.
    fn backward(&self, x: &[f64], w: &[f64], grad_y: &[f64]) -> [Vec<f64>; 3] {
        let mut grad_x = vec![0.0; x.len()];
        let mut grad_w = vec![0.0; w.len()];
        let mut grad_b = vec![0.0; self.o];
        for (xi, wi, yi) in self.products() {
            grad_x[xi] += grad_y[yi] * w[wi];
            grad_w[wi] += grad_y[yi] * x[xi];
        }
        let plane = self.oh * self.ow;
        for (i, g) in grad_y.iter().enumerate() {
            grad_b[(i / plane) % self.o] += g;
        }
        [grad_x, grad_w, grad_b]
    }
}

/// Runs `op` (the typed API) on random `x`, `w`, `bias`, traced on one tape, and compares its
/// output and its gradients of `sum(y * grad_out)` with the plain loops. Returns the mismatches.
fn versus_plain_loops<E: Precision, Sx: ConstShape, Sw: ConstShape, const O: usize, Sy: Shape>(
    label: &str,
    s: Sizes,
    op: impl Fn(&Tensor<E, Sx>, &Tensor<E, Sw>, &Tensor1<E, O>) -> Tensor<E, Sy>,
) -> Vec<String> {
    let tape = Tape::new();
    let x = Tensor::<E, Sx>::randn(10).trace(&tape);
    let w = Tensor::<E, Sw>::randn(20).trace(&tape);
    let bias = Tensor1::<E, O>::randn(30).trace(&tape);
    let y = op(&x, &w, &bias);
    let grad_out = Tensor::<E, Sy>::randn_shaped(*y.shape(), 40, E::zero(), E::one());
    let grads = (&y * &grad_out).sum_all().backward();

    let mut errors = Vec::new();
    let [x_dims, w_dims, y_dims] = s.dims();
    let typed = [x.dims().as_ref(), w.dims().as_ref(), y.dims().as_ref()].map(<[usize]>::to_vec);
    if typed != [x_dims, w_dims, y_dims.clone()] {
        errors.push(format!(
            "{label}: the types give x, w, y dims {typed:?}, the sizes {:?}",
            s.dims()
        ));
        return errors;
    }
    let (xs, ws, bs) = (
        to_f64(x.as_slice()),
        to_f64(w.as_slice()),
        to_f64(bias.as_slice()),
    );
    let [grad_x, grad_w, grad_b] = s.backward(&xs, &ws, &to_f64(grad_out.as_slice()));
    let y_expected = s.forward(&xs, &ws, &bs);
    errors.extend(mismatches(label, "y", &y_dims, &y_expected, y.as_slice()));
    let fields = [
        ("grad_x", x.id(), x.dims().as_ref().to_vec(), grad_x),
        ("grad_w", w.id(), w.dims().as_ref().to_vec(), grad_w),
    ];
    let bias_field = s.bias.then(|| ("grad_b", bias.id(), vec![O], grad_b));
    for (field, id, dims, expected) in fields.into_iter().chain(bias_field) {
        match grads.get_raw(id) {
            Some(got) => errors.extend(mismatches(label, field, &dims, &expected, got)),
            None => errors.push(format!("{label} ({}): no {field}", E::NAME)),
        }
    }
    errors
}

/// `plain_loops!(failures, label, sizes, x: shape, w: shape, O = o, |x, w, b| call)`: compares
/// the typed call with the plain loops in f64 and f32, once with each kernel forced (so both
/// are checked on every shape, whichever the heuristic would pick), pushing every mismatch onto
/// `failures`.
macro_rules! plain_loops {
    ($failures:ident, $label:literal, $sizes:expr,
     x: $xs:ty, w: $ws:ty, O = $o:literal, |$x:ident, $w:ident, $b:ident| $call:expr) => {{
        let s: Sizes = $sizes;
        fn run<E: Precision>(s: Sizes) -> Vec<String> {
            #[allow(unused_variables)]
            let op = |$x: &Tensor<E, $xs>, $w: &Tensor<E, $ws>, $b: &Tensor1<E, $o>| $call;
            versus_plain_loops::<E, $xs, $ws, $o, _>($label, s, op)
        }
        for algorithm in [ConvAlgorithm::Direct, ConvAlgorithm::Im2col] {
            let found = algorithm.force(|| [run::<f64>(s), run::<f32>(s)].concat());
            $failures.extend(found.into_iter().map(|e| format!("[{algorithm:?}] {e}")));
        }
    }};
}

#[test]
fn conv1d_matches_plain_loops() {
    let mut failures = Vec::new();
    plain_loops!(failures, "conv1d K=1, B=1",
        Sizes::conv1d([1, 1, 7], [1, 1], [1, 0, 1], false),
        x: Rank3<1, 1, 7>, w: Rank3<1, 1, 1>, O = 1,
        |x, w, b| x.conv1d(w, ConvParams::<1, 0, 1>));
    plain_loops!(failures, "conv1d_bias K=W",
        Sizes::conv1d([2, 3, 9], [2, 9], [1, 0, 1], true),
        x: Rank3<2, 3, 9>, w: Rank3<2, 3, 9>, O = 2,
        |x, w, b| x.conv1d_bias(w, b, ConvParams::<1, 0, 1>));
    plain_loops!(failures, "conv1d_bias stride 2, padding 2 > K/2, odd W",
        Sizes::conv1d([3, 2, 13], [4, 3], [2, 2, 1], true),
        x: Rank3<3, 2, 13>, w: Rank3<4, 2, 3>, O = 4,
        |x, w, b| x.conv1d_bias(w, b, ConvParams::<2, 2, 1>));
    plain_loops!(failures, "conv1d_bias stride 3, padding 1, dilation 2, 8 channels",
        Sizes::conv1d([2, 8, 11], [8, 4], [3, 1, 2], true),
        x: Rank3<2, 8, 11>, w: Rank3<8, 8, 4>, O = 8,
        |x, w, b| x.conv1d_bias(w, b, ConvParams::<3, 1, 2>));
    plain_loops!(failures, "conv1d 16 -> 12 channels, padding 1, B=1",
        Sizes::conv1d([1, 16, 10], [12, 3], [1, 1, 1], false),
        x: Rank3<1, 16, 10>, w: Rank3<12, 16, 3>, O = 12,
        |x, w, b| x.conv1d(w, ConvParams::<1, 1, 1>));
    plain_loops!(failures, "conv1d dilation 2, padding 3, 2 channels",
        Sizes::conv1d([2, 2, 5], [3, 2], [1, 3, 2], false),
        x: Rank3<2, 2, 5>, w: Rank3<3, 2, 2>, O = 3,
        |x, w, b| x.conv1d(w, ConvParams::<1, 3, 2>));
    assert_no_failures("conv1d against plain loops", failures);
}

#[test]
fn conv1d_minitorch_matches_plain_loops() {
    let mut failures = Vec::new();
    plain_loops!(failures, "conv1d_minitorch",
        Sizes::conv1d_minitorch([2, 3, 8], [2, 4]),
        x: Rank3<2, 3, 8>, w: Rank3<2, 3, 4>, O = 2,
        |x, w, b| x.conv1d_minitorch(w));
    plain_loops!(failures, "conv1d_minitorch K=W, B=1",
        Sizes::conv1d_minitorch([1, 2, 5], [3, 5]),
        x: Rank3<1, 2, 5>, w: Rank3<3, 2, 5>, O = 3,
        |x, w, b| x.conv1d_minitorch(w));
    plain_loops!(failures, "conv1d_minitorch 8 channels",
        Sizes::conv1d_minitorch([2, 8, 9], [8, 5]),
        x: Rank3<2, 8, 9>, w: Rank3<8, 8, 5>, O = 8,
        |x, w, b| x.conv1d_minitorch(w));
    assert_no_failures("conv1d_minitorch against plain loops", failures);
}

#[test]
fn conv2d_matches_plain_loops() {
    let mut failures = Vec::new();
    plain_loops!(failures, "conv2d_bias odd sizes, stride 2, padding 1, KH != KW",
        Sizes::conv2d([2, 3, 7, 5], [2, 3, 2], [2, 1, 1], true),
        x: Rank4<2, 3, 7, 5>, w: Rank4<2, 3, 3, 2>, O = 2,
        |x, w, b| x.conv2d_bias(w, b, ConvParams::<2, 1, 1>));
    plain_loops!(failures, "conv2d stride 2, padding 3 > K/2, B=1",
        Sizes::conv2d([1, 1, 4, 4], [2, 2, 3], [2, 3, 1], false),
        x: Rank4<1, 1, 4, 4>, w: Rank4<2, 1, 2, 3>, O = 2,
        |x, w, b| x.conv2d(w, ConvParams::<2, 3, 1>));
    plain_loops!(failures, "conv2d_bias K = H x W",
        Sizes::conv2d([3, 2, 5, 6], [3, 5, 6], [1, 0, 1], true),
        x: Rank4<3, 2, 5, 6>, w: Rank4<3, 2, 5, 6>, O = 3,
        |x, w, b| x.conv2d_bias(w, b, ConvParams::<1, 0, 1>));
    plain_loops!(failures, "conv2d_bias dilation 2, padding 2, 4 -> 8 channels",
        Sizes::conv2d([1, 4, 9, 8], [8, 3, 3], [1, 2, 2], true),
        x: Rank4<1, 4, 9, 8>, w: Rank4<8, 4, 3, 3>, O = 8,
        |x, w, b| x.conv2d_bias(w, b, ConvParams::<1, 2, 2>));
    plain_loops!(failures, "conv2d 1x1, 32 -> 8 channels",
        Sizes::conv2d([2, 32, 3, 5], [8, 1, 1], [1, 0, 1], false),
        x: Rank4<2, 32, 3, 5>, w: Rank4<8, 32, 1, 1>, O = 8,
        |x, w, b| x.conv2d(w, ConvParams::<1, 0, 1>));
    plain_loops!(failures, "conv2d stride 2, 4 -> 10 channels, odd sizes",
        Sizes::conv2d([2, 4, 7, 9], [10, 3, 3], [2, 0, 1], false),
        x: Rank4<2, 4, 7, 9>, w: Rank4<10, 4, 3, 3>, O = 10,
        |x, w, b| x.conv2d(w, ConvParams::<2, 0, 1>));
    assert_no_failures("conv2d against plain loops", failures);
}

#[test]
fn conv2d_minitorch_matches_plain_loops() {
    let mut failures = Vec::new();
    plain_loops!(failures, "conv2d_minitorch",
        Sizes::conv2d_minitorch([2, 2, 6, 5], [3, 3, 2]),
        x: Rank4<2, 2, 6, 5>, w: Rank4<3, 2, 3, 2>, O = 3,
        |x, w, b| x.conv2d_minitorch(w));
    plain_loops!(failures, "conv2d_minitorch 4 -> 9 channels",
        Sizes::conv2d_minitorch([1, 4, 6, 7], [9, 3, 3]),
        x: Rank4<1, 4, 6, 7>, w: Rank4<9, 4, 3, 3>, O = 9,
        |x, w, b| x.conv2d_minitorch(w));
    assert_no_failures("conv2d_minitorch against plain loops", failures);
}

// ---------------------------------------------------------------------------------------------
// Gradient checks: central differences in f64, with respect to input, weight and bias
// ---------------------------------------------------------------------------------------------

fn collect(failures: &mut Vec<String>, result: Result<(), GradcheckError>) {
    if let Err(e) = result {
        failures.push(e.to_string());
    }
}

/// Gradient checks of `conv1d` and `conv1d_bias` with respect to x, w and b, for
/// `x [B, C, W]`, `w [O, C, K]`, `ConvParams::<S, P, D>`.
macro_rules! gradcheck_conv1d {
    ($failures:ident, $label:literal, x [$b:literal, $c:literal, $w:literal],
     w [$o:literal, $k:literal], <$s:literal, $p:literal, $d:literal>) => {{
        let x = Tensor3::<f64, $b, $c, $w>::randn(1);
        let w = Tensor3::<f64, $o, $c, $k>::randn(2);
        let bias = Tensor1::<f64, $o>::randn(3);
        let params = ConvParams::<$s, $p, $d>;
        let f = &mut $failures;
        collect(
            f,
            gradcheck(concat!("conv1d ", $label, ", input"), &x, |x| {
                x.conv1d(&w, params)
            }),
        );
        collect(
            f,
            gradcheck(concat!("conv1d ", $label, ", weight"), &w, |w| {
                x.conv1d(w, params)
            }),
        );
        let name = concat!("conv1d_bias ", $label);
        collect(f, gradcheck(name, &x, |x| x.conv1d_bias(&w, &bias, params)));
        collect(f, gradcheck(name, &w, |w| x.conv1d_bias(w, &bias, params)));
        collect(f, gradcheck(name, &bias, |b| x.conv1d_bias(&w, b, params)));
    }};
}

/// Gradient checks of `conv2d` and `conv2d_bias` with respect to x, w and b, for
/// `x [B, C, H, W]`, `w [O, C, KH, KW]` and the hyper-parameters `params` (a value:
/// `ConvParams::<S, P, D>`, `ConvParams2d::<SH, SW, PH, PW, DH, DW>`).
macro_rules! gradcheck_conv2d_with {
    ($failures:ident, $label:literal, x [$b:literal, $c:literal, $h:literal, $w:literal],
     w [$o:literal, $kh:literal, $kw:literal], $params:expr) => {{
        let x = Tensor4::<f64, $b, $c, $h, $w>::randn(1);
        let w = Tensor4::<f64, $o, $c, $kh, $kw>::randn(2);
        let bias = Tensor1::<f64, $o>::randn(3);
        let params = $params;
        let f = &mut $failures;
        collect(
            f,
            gradcheck(concat!("conv2d ", $label, ", input"), &x, |x| {
                x.conv2d(&w, params)
            }),
        );
        collect(
            f,
            gradcheck(concat!("conv2d ", $label, ", weight"), &w, |w| {
                x.conv2d(w, params)
            }),
        );
        let name = concat!("conv2d_bias ", $label);
        collect(f, gradcheck(name, &x, |x| x.conv2d_bias(&w, &bias, params)));
        collect(f, gradcheck(name, &w, |w| x.conv2d_bias(w, &bias, params)));
        collect(f, gradcheck(name, &bias, |b| x.conv2d_bias(&w, b, params)));
    }};
}

/// [`gradcheck_conv2d_with!`] for `ConvParams::<S, P, D>`.
macro_rules! gradcheck_conv2d {
    ($failures:ident, $label:literal, x [$b:literal, $c:literal, $h:literal, $w:literal],
     w [$o:literal, $kh:literal, $kw:literal], <$s:literal, $p:literal, $d:literal>) => {
        gradcheck_conv2d_with!($failures, $label, x [$b, $c, $h, $w], w [$o, $kh, $kw],
            ConvParams::<$s, $p, $d>)
    };
}

#[test]
fn conv1d_gradients_match_central_differences() {
    let mut failures = Vec::new();
    gradcheck_conv1d!(failures, "K=3", x [2, 2, 7], w [3, 3], <1, 0, 1>);
    gradcheck_conv1d!(failures, "stride 2, padding 1", x [1, 2, 8], w [2, 3], <2, 1, 1>);
    gradcheck_conv1d!(failures, "dilation 2, padding 1", x [2, 1, 9], w [2, 3], <1, 1, 2>);
    gradcheck_conv1d!(failures, "K=1", x [1, 3, 5], w [2, 1], <1, 0, 1>);
    gradcheck_conv1d!(failures, "K=W", x [2, 2, 6], w [3, 6], <1, 0, 1>);
    // C*K = 32 and O = 8: the im2col kernel
    gradcheck_conv1d!(failures, "8 ch, stride 2, padding 2", x [1, 8, 6], w [8, 4], <2, 2, 1>);
    assert_no_failures("conv1d gradcheck", failures);
}

#[test]
fn conv2d_gradients_match_central_differences() {
    let mut failures = Vec::new();
    gradcheck_conv2d!(failures, "3x2", x [1, 2, 5, 4], w [2, 3, 2], <1, 0, 1>);
    gradcheck_conv2d!(failures, "stride 2, padding 1", x [2, 1, 6, 5], w [2, 3, 3], <2, 1, 1>);
    gradcheck_conv2d!(failures, "dilation 2, padding 1", x [1, 2, 6, 6], w [2, 2, 3], <1, 1, 2>);
    gradcheck_conv2d!(failures, "1x1", x [1, 3, 3, 4], w [2, 1, 1], <1, 0, 1>);
    gradcheck_conv2d!(failures, "K = H x W", x [1, 2, 4, 3], w [3, 4, 3], <1, 0, 1>);
    // C*KH*KW = 36 and O = 8: the im2col kernel
    gradcheck_conv2d!(failures, "4 -> 8 ch, padding 1", x [1, 4, 5, 5], w [8, 3, 3], <1, 1, 1>);
    assert_no_failures("conv2d gradcheck", failures);
}

#[test]
fn minitorch_gradients_match_central_differences() {
    let mut failures = Vec::new();
    let f = &mut failures;

    let x = Tensor3::<f64, 2, 2, 7>::randn(1);
    let w = Tensor3::<f64, 3, 2, 3>::randn(2);
    collect(
        f,
        gradcheck("conv1d_minitorch, input", &x, |x| x.conv1d_minitorch(&w)),
    );
    collect(
        f,
        gradcheck("conv1d_minitorch, weight", &w, |w| x.conv1d_minitorch(w)),
    );

    let x = Tensor3::<f64, 1, 2, 5>::randn(3);
    let w = Tensor3::<f64, 2, 2, 5>::randn(4);
    collect(
        f,
        gradcheck("conv1d_minitorch K=W, input", &x, |x| {
            x.conv1d_minitorch(&w)
        }),
    );
    collect(
        f,
        gradcheck("conv1d_minitorch K=W, weight", &w, |w| {
            x.conv1d_minitorch(w)
        }),
    );

    let x = Tensor3::<f64, 1, 8, 5>::randn(5); // im2col kernel
    let w = Tensor3::<f64, 8, 8, 4>::randn(6);
    collect(
        f,
        gradcheck("conv1d_minitorch 8 ch, input", &x, |x| {
            x.conv1d_minitorch(&w)
        }),
    );
    collect(
        f,
        gradcheck("conv1d_minitorch 8 ch, weight", &w, |w| {
            x.conv1d_minitorch(w)
        }),
    );

    let x = Tensor4::<f64, 1, 2, 5, 4>::randn(7);
    let w = Tensor4::<f64, 2, 2, 3, 2>::randn(8);
    collect(
        f,
        gradcheck("conv2d_minitorch, input", &x, |x| x.conv2d_minitorch(&w)),
    );
    collect(
        f,
        gradcheck("conv2d_minitorch, weight", &w, |w| x.conv2d_minitorch(w)),
    );

    let x = Tensor4::<f64, 1, 1, 3, 3>::randn(9);
    let w = Tensor4::<f64, 2, 1, 1, 1>::randn(10);
    collect(
        f,
        gradcheck("conv2d_minitorch 1x1, input", &x, |x| {
            x.conv2d_minitorch(&w)
        }),
    );
    collect(
        f,
        gradcheck("conv2d_minitorch 1x1, weight", &w, |w| {
            x.conv2d_minitorch(w)
        }),
    );

    let x = Tensor4::<f64, 1, 4, 4, 4>::randn(11); // im2col kernel
    let w = Tensor4::<f64, 8, 4, 3, 3>::randn(12);
    collect(
        f,
        gradcheck("conv2d_minitorch 4 -> 8 ch, input", &x, |x| {
            x.conv2d_minitorch(&w)
        }),
    );
    collect(
        f,
        gradcheck("conv2d_minitorch 4 -> 8 ch, weight", &w, |w| {
            x.conv2d_minitorch(w)
        }),
    );

    assert_no_failures("minitorch gradcheck", failures);
}

// ---------------------------------------------------------------------------------------------
// A runtime batch dim
// ---------------------------------------------------------------------------------------------

#[test]
fn runtime_batch_gives_the_static_batch_result() {
    type Batch1d = (usize, Dim<3>, Dim<10>);
    let w = Tensor3::<f32, 5, 3, 3>::randn(2);
    let bias = Tensor1::<f32, 5>::randn(3);
    let x_static = Tensor3::<f32, 4, 3, 10>::randn(1);
    let x_runtime = Tensor::<f32, Batch1d>::from_dims(&[4, 3, 10], x_static.to_vec()).unwrap();

    let y_static: Tensor3<f32, 4, 5, 10> = x_static.conv1d(&w, ConvParams::<1, 1, 1>);
    let y_runtime: Tensor<f32, (usize, Dim<5>, Dim<10>)> =
        x_runtime.conv1d(&w, ConvParams::<1, 1, 1>);
    assert_eq!(y_runtime.dims(), [4, 5, 10]);
    assert_close(
        "conv1d, runtime batch 4",
        &to_f64(y_static.as_slice()),
        y_runtime.as_slice(),
    );

    // conv1d_bias, stride 2, and the gradients, with the runtime batch
    let (tape_s, tape_r) = (Tape::new(), Tape::new());
    let (xs, ws, bs) = (
        x_static.trace(&tape_s),
        w.trace(&tape_s),
        bias.trace(&tape_s),
    );
    let (xr, wr, br) = (
        x_runtime.trace(&tape_r),
        w.trace(&tape_r),
        bias.trace(&tape_r),
    );
    let ys: Tensor3<f32, 4, 5, 5> = xs.conv1d_bias(&ws, &bs, ConvParams::<2, 1, 1>);
    let yr: Tensor<f32, (usize, Dim<5>, Dim<5>)> = xr.conv1d_bias(&wr, &br, ConvParams::<2, 1, 1>);
    assert_close(
        "conv1d_bias, runtime batch",
        &to_f64(ys.as_slice()),
        yr.as_slice(),
    );
    let gs = ys.mul_scalar(0.5).sum_all().backward();
    let gr = yr.mul_scalar(0.5).sum_all().backward();
    let grad = |g: &Gradients<f32>, id| to_f64(g.get_raw(id).expect("a gradient"));
    assert_close(
        "grad_x, runtime batch",
        &grad(&gs, xs.id()),
        &grad(&gr, xr.id()),
    );
    assert_close(
        "grad_w, runtime batch",
        &grad(&gs, ws.id()),
        &grad(&gr, wr.id()),
    );
    assert_close(
        "grad_b, runtime batch",
        &grad(&gs, bs.id()),
        &grad(&gr, br.id()),
    );

    // A smaller batch (the last one of an epoch): the first two samples, same results.
    let x_two =
        Tensor::<f32, Batch1d>::from_dims(&[2, 3, 10], x_static.as_slice()[..60].to_vec()).unwrap();
    let y_two = x_two.conv1d(&w, ConvParams::<1, 1, 1>);
    assert_eq!(y_two.dims(), [2, 5, 10]);
    assert_close(
        "conv1d, runtime batch 2",
        &to_f64(&y_static.as_slice()[..100]),
        y_two.as_slice(),
    );
    let y_two = x_two.conv1d_minitorch(&w);
    let y_static_mt: Tensor3<f32, 4, 5, 10> = x_static.conv1d_minitorch(&w);
    let first_two = &y_static_mt.as_slice()[..100];
    assert_close(
        "conv1d_minitorch, runtime batch 2",
        &to_f64(first_two),
        y_two.as_slice(),
    );

    // conv2d with a runtime batch
    let x2 = Tensor4::<f32, 3, 2, 6, 5>::randn(4);
    let w2 = Tensor4::<f32, 4, 2, 3, 3>::randn(5);
    let x2_runtime =
        Tensor::<f32, (usize, Dim<2>, Dim<6>, Dim<5>)>::from_dims(&[3, 2, 6, 5], x2.to_vec())
            .unwrap();
    let y2: Tensor4<f32, 3, 4, 3, 3> = x2.conv2d(&w2, ConvParams::<2, 1, 1>);
    let y2_runtime: Tensor<f32, (usize, Dim<4>, Dim<3>, Dim<3>)> =
        x2_runtime.conv2d(&w2, ConvParams::<2, 1, 1>);
    assert_close(
        "conv2d, runtime batch",
        &to_f64(y2.as_slice()),
        y2_runtime.as_slice(),
    );
}

// ---------------------------------------------------------------------------------------------
// Hand cases
// ---------------------------------------------------------------------------------------------

#[test]
fn lecture_hand_case_conv1d() {
    let tape = Tape::new();
    let x = Tensor3::<f64, 1, 1, 6>::from_slice(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
        .unwrap()
        .trace(&tape);
    let w = Tensor3::<f64, 1, 1, 3>::from_slice(&[5.0, 2.0, 3.0])
        .unwrap()
        .trace(&tape);

    // The teaching convention: output[t] = 5*input[t] + 2*input[t+1] + 3*input[t+2], zero past
    // the end.
    let y: Tensor3<f64, 1, 1, 6> = x.conv1d_minitorch(&w);
    let expected = [
        5.0 * 1.0 + 2.0 * 2.0 + 3.0 * 3.0, // output[0] = 18
        5.0 * 2.0 + 2.0 * 3.0 + 3.0 * 4.0, // output[1] = 28
        5.0 * 3.0 + 2.0 * 4.0 + 3.0 * 5.0, // output[2] = 38
        5.0 * 4.0 + 2.0 * 5.0 + 3.0 * 6.0, // output[3] = 48
        5.0 * 5.0 + 2.0 * 6.0 + 3.0 * 0.0, // output[4] = 37
        5.0 * 6.0 + 2.0 * 0.0 + 3.0 * 0.0, // output[5] = 30
    ];
    assert_eq!(expected, [18.0, 28.0, 38.0, 48.0, 37.0, 30.0]);
    assert_eq!(y.to_vec(), expected);

    // The gradients of sum(output): input[i] is read by every tap k with t = i - k in 0..6,
    // so grad_input[i] sums those weights; grad_weight[k] sums the inputs tap k reads.
    let grads = y.sum_all().backward();
    let grad_x = [
        5.0,             // input[0]: only output[0], tap 0
        5.0 + 2.0,       // input[1]: output[1] tap 0, output[0] tap 1
        5.0 + 2.0 + 3.0, // input[2..6]: all three taps
        5.0 + 2.0 + 3.0,
        5.0 + 2.0 + 3.0,
        5.0 + 2.0 + 3.0,
    ];
    let grad_w = [
        1.0 + 2.0 + 3.0 + 4.0 + 5.0 + 6.0, // tap 0 reads input[0..6]: 21
        2.0 + 3.0 + 4.0 + 5.0 + 6.0,       // tap 1 reads input[1..6]: 20
        3.0 + 4.0 + 5.0 + 6.0,             // tap 2 reads input[2..6]: 18
    ];
    assert_eq!(grads.get(&x).unwrap().to_vec(), grad_x);
    assert_eq!(grads.get(&w).unwrap().to_vec(), grad_w);

    // PyTorch's convention with padding 2 on both sides: output[t] = sum_k w[k] * input[t+k-2],
    // 6 + 4 - 2 = 8 outputs; the last six are the teaching convention's.
    let y: Tensor3<f64, 1, 1, 8> = x.detach().conv1d(&w.detach(), ConvParams::<1, 2, 1>);
    let padded = [
        5.0 * 0.0 + 2.0 * 0.0 + 3.0 * 1.0, // output[0] = 3
        5.0 * 0.0 + 2.0 * 1.0 + 3.0 * 2.0, // output[1] = 8
    ];
    assert_eq!(padded, [3.0, 8.0]);
    assert_eq!(y.as_slice()[..2], padded);
    assert_eq!(y.as_slice()[2..], expected);

    // With a bias of 1, every output moves by 1; stride 2 keeps outputs 0, 2, 4, 6.
    let bias = Tensor1::<f64, 1>::from_slice(&[1.0]).unwrap();
    let y: Tensor3<f64, 1, 1, 4> =
        x.detach()
            .conv1d_bias(&w.detach(), &bias, ConvParams::<2, 2, 1>);
    assert_eq!(y.to_vec(), [3.0 + 1.0, 18.0 + 1.0, 38.0 + 1.0, 37.0 + 1.0]);
}

#[test]
fn hand_case_conv2d() {
    // input          weight
    // [[1, 2, 3],    [[1,  0],
    //  [4, 5, 6],     [0, -1]]
    //  [7, 8, 9]]
    let x = Tensor4::<f64, 1, 1, 3, 3>::from_fn(|[_, _, i, j]| (3 * i + j + 1) as f64);
    let w = Tensor4::<f64, 1, 1, 2, 2>::from_slice(&[1.0, 0.0, 0.0, -1.0]).unwrap();

    // Teaching convention: output[i, j] = input[i, j] - input[i+1, j+1], zero past the edges.
    let y: Tensor4<f64, 1, 1, 3, 3> = x.conv2d_minitorch(&w);
    #[rustfmt::skip]
    let expected = [
        1.0 - 5.0, 2.0 - 6.0, 3.0 - 0.0, // row 0: -4, -4, 3
        4.0 - 8.0, 5.0 - 9.0, 6.0 - 0.0, // row 1: -4, -4, 6
        7.0 - 0.0, 8.0 - 0.0, 9.0 - 0.0, // row 2: nothing below
    ];
    assert_eq!(y.to_vec(), expected);

    // PyTorch's convention, no padding: the top-left 2x2 of the above.
    let y: Tensor4<f64, 1, 1, 2, 2> = x.conv2d(&w, ConvParams::<1, 0, 1>);
    assert_eq!(y.to_vec(), [-4.0, -4.0, -4.0, -4.0]);

    // Stride 2, padding 1, dilation 2: the taps are 2 apart, (3 + 2 - 3)/2 + 1 = 2 outputs a side,
    // output[i, j] = input[2i-1, 2j-1] - input[2i+1, 2j+1], zero outside.
    let y: Tensor4<f64, 1, 1, 2, 2> = x.conv2d(&w, ConvParams::<2, 1, 2>);
    #[rustfmt::skip]
    let expected = [
        0.0 - 5.0, // output[0, 0] = input[-1, -1] - input[1, 1]
        0.0 - 0.0, // output[0, 1] = input[-1, 1] - input[1, 3]
        0.0 - 0.0, // output[1, 0] = input[1, -1] - input[3, 1]
        5.0 - 0.0, // output[1, 1] = input[1, 1] - input[3, 3]
    ];
    assert_eq!(y.to_vec(), expected);
}

// ---------------------------------------------------------------------------------------------
// The teaching convention is conv with K-1 zeros on the right (and bottom)
// ---------------------------------------------------------------------------------------------

/// `x` with zeros appended along the last axis up to `WP`.
fn pad_right<const B: usize, const C: usize, const W: usize, const WP: usize>(
    x: &Tensor3<f64, B, C, W>,
) -> Tensor3<f64, B, C, WP> {
    Tensor::from_fn(|[b, c, t]: [usize; 3]| if t < W { x[[b, c, t]] } else { 0.0 })
}

/// `x` with zeros appended along the last two axes up to `HP x WP`.
fn pad_bottom_right<
    const B: usize,
    const C: usize,
    const H: usize,
    const W: usize,
    const HP: usize,
    const WP: usize,
>(
    x: &Tensor4<f64, B, C, H, W>,
) -> Tensor4<f64, B, C, HP, WP> {
    Tensor::from_fn(|[b, c, i, j]: [usize; 4]| if i < H && j < W { x[[b, c, i, j]] } else { 0.0 })
}

/// conv1d_minitorch(x, w) equals conv1d(x padded with K-1 zeros on the right, w), and so do the
/// gradients (the input's is the padded input's, cut back to width W).
macro_rules! minitorch_is_padded_conv1d {
    (x [$b:literal, $c:literal, $w:literal], w [$o:literal, $k:literal], padded $wp:literal) => {{
        let label = concat!("conv1d_minitorch x [", $b, ", ", $c, ", ", $w, "], K ", $k);
        assert_eq!($wp, $w + $k - 1);
        let (tape, tape_padded) = (Tape::new(), Tape::new());
        let x = Tensor3::<f64, $b, $c, $w>::randn(1).trace(&tape);
        let w = Tensor3::<f64, $o, $c, $k>::randn(2).trace(&tape);
        let xp = pad_right::<$b, $c, $w, $wp>(&x).trace(&tape_padded);
        let wp = w.detach().trace(&tape_padded);
        let y: Tensor3<f64, $b, $o, $w> = x.conv1d_minitorch(&w);
        let y_padded: Tensor3<f64, $b, $o, $w> = xp.conv1d(&wp, ConvParams::<1, 0, 1>);
        assert_close(label, &y_padded.to_vec(), y.as_slice());
        let grad_out = Tensor3::<f64, $b, $o, $w>::randn(3);
        let g = (&y * &grad_out).sum_all().backward();
        let gp = (&y_padded * &grad_out).sum_all().backward();
        let gxp = gp.get(&xp).unwrap();
        let cut = Tensor3::<f64, $b, $c, $w>::from_fn(|[b, c, t]| gxp[[b, c, t]]);
        assert_close(label, &cut.to_vec(), g.get(&x).unwrap().as_slice());
        assert_close(
            label,
            &gp.get(&wp).unwrap().to_vec(),
            g.get(&w).unwrap().as_slice(),
        );
    }};
}

#[test]
fn conv1d_minitorch_is_conv1d_with_right_padding() {
    minitorch_is_padded_conv1d!(x [2, 3, 7], w [4, 3], padded 9);
    minitorch_is_padded_conv1d!(x [1, 8, 6], w [8, 4], padded 9); // im2col kernel
    minitorch_is_padded_conv1d!(x [2, 1, 5], w [2, 5], padded 9); // K = W
}

/// conv2d_minitorch(x, w) equals conv2d(x padded with KH-1 zero rows at the bottom and KW-1
/// zero columns on the right, w), gradients included.
macro_rules! minitorch_is_padded_conv2d {
    (x [$b:literal, $c:literal, $h:literal, $w:literal], w [$o:literal, $kh:literal, $kw:literal],
     padded [$hp:literal, $wp:literal]) => {{
        let label = concat!(
            "conv2d_minitorch x [",
            $b,
            ", ",
            $c,
            ", ",
            $h,
            ", ",
            $w,
            "]"
        );
        assert_eq!(($hp, $wp), ($h + $kh - 1, $w + $kw - 1));
        let (tape, tape_padded) = (Tape::new(), Tape::new());
        let x = Tensor4::<f64, $b, $c, $h, $w>::randn(1).trace(&tape);
        let w = Tensor4::<f64, $o, $c, $kh, $kw>::randn(2).trace(&tape);
        let xp = pad_bottom_right::<$b, $c, $h, $w, $hp, $wp>(&x).trace(&tape_padded);
        let wp = w.detach().trace(&tape_padded);
        let y: Tensor4<f64, $b, $o, $h, $w> = x.conv2d_minitorch(&w);
        let y_padded: Tensor4<f64, $b, $o, $h, $w> = xp.conv2d(&wp, ConvParams::<1, 0, 1>);
        assert_close(label, &y_padded.to_vec(), y.as_slice());
        let grad_out = Tensor4::<f64, $b, $o, $h, $w>::randn(3);
        let g = (&y * &grad_out).sum_all().backward();
        let gp = (&y_padded * &grad_out).sum_all().backward();
        let gxp = gp.get(&xp).unwrap();
        let cut = Tensor4::<f64, $b, $c, $h, $w>::from_fn(|[b, c, i, j]| gxp[[b, c, i, j]]);
        assert_close(label, &cut.to_vec(), g.get(&x).unwrap().as_slice());
        assert_close(
            label,
            &gp.get(&wp).unwrap().to_vec(),
            g.get(&w).unwrap().as_slice(),
        );
    }};
}

#[test]
fn conv2d_minitorch_is_conv2d_with_bottom_right_padding() {
    minitorch_is_padded_conv2d!(x [2, 2, 5, 6], w [3, 3, 2], padded [7, 7]);
    minitorch_is_padded_conv2d!(x [1, 4, 4, 5], w [8, 3, 3], padded [6, 7]); // im2col kernel
}

// ---------------------------------------------------------------------------------------------
// Per-axis hyper-parameters (ConvParams2d): stride, padding and dilation may each differ
// between the height and the width, like PyTorch's tuples
// ---------------------------------------------------------------------------------------------

#[test]
fn conv2d_padding_per_axis_matches_plain_loops() {
    let mut failures = Vec::new();
    plain_loops!(failures, "conv2d_bias 1x5 kernel, padding (0, 2): the width kept",
        Sizes::conv2d_hw([2, 3, 6, 9], [4, 1, 5], [1, 1], [0, 2], [1, 1], true),
        x: Rank4<2, 3, 6, 9>, w: Rank4<4, 3, 1, 5>, O = 4,
        |x, w, b| x.conv2d_bias(w, b, ConvParams2d::<1, 1, 0, 2, 1, 1>));
    plain_loops!(failures, "conv2d stride 2, padding (1, 0)",
        Sizes::conv2d_hw([1, 2, 7, 8], [3, 3, 2], [2, 2], [1, 0], [1, 1], false),
        x: Rank4<1, 2, 7, 8>, w: Rank4<3, 2, 3, 2>, O = 3,
        |x, w, b| x.conv2d(w, ConvParams2d::<2, 2, 1, 0>));
    plain_loops!(failures, "conv2d dilation 2, padding (2, 3), 8 -> 8 channels",
        Sizes::conv2d_hw([1, 8, 6, 5], [8, 3, 3], [1, 1], [2, 3], [2, 2], false),
        x: Rank4<1, 8, 6, 5>, w: Rank4<8, 8, 3, 3>, O = 8,
        |x, w, b| x.conv2d(w, ConvParams2d::<1, 1, 2, 3, 2, 2>));
    assert_no_failures("conv2d with padding per axis against plain loops", failures);
}

#[test]
fn conv2d_padding_per_axis_gradients_match_central_differences() {
    let mut failures = Vec::new();
    let x = Tensor4::<f64, 2, 2, 4, 7>::randn(1);
    let w = Tensor4::<f64, 3, 2, 1, 5>::randn(2);
    let bias = Tensor1::<f64, 3>::randn(3);
    let params = ConvParams2d::<1, 1, 0, 2>;
    let name = "conv2d_bias padding (0, 2)";
    collect(
        &mut failures,
        gradcheck(name, &x, |x| x.conv2d_bias(&w, &bias, params)),
    );
    collect(
        &mut failures,
        gradcheck(name, &w, |w| x.conv2d_bias(w, &bias, params)),
    );
    collect(
        &mut failures,
        gradcheck(name, &bias, |b| x.conv2d_bias(&w, b, params)),
    );
    assert_no_failures("conv2d per-axis gradcheck", failures);
}

/// Equal per-axis values are exactly `ConvParams`.
#[test]
fn conv2d_params2d_with_equal_axes_is_conv_params() {
    let x = Tensor4::<f64, 2, 3, 9, 9>::randn(1);
    let w = Tensor4::<f64, 4, 3, 3, 3>::randn(2);
    let a = x.conv2d(&w, ConvParams::<2, 1, 2>);
    let b: Tensor4<f64, 2, 4, 4, 4> = x.conv2d(&w, ConvParams2d::<2, 2, 1, 1, 2, 2>);
    assert_eq!(a.to_vec(), b.to_vec());
}

/// `gradcheck_per_kernel!(failures, { gradcheck_conv2d_with!(found, ..); .. })`: runs the
/// checks (which push onto `found`) once with each convolution kernel forced, so that both are
/// checked whatever the shape would pick, and pushes their failures, each naming the kernel,
/// onto `failures`.
macro_rules! gradcheck_per_kernel {
    ($failures:ident, $found:ident, $checks:block) => {
        for algorithm in ConvAlgorithm::ALL {
            let mut $found = Vec::new();
            algorithm.force(|| $checks);
            $failures.extend($found.into_iter().map(|e| format!("[{algorithm:?}] {e}")));
        }
    };
}

#[test]
fn conv2d_stride_per_axis_matches_plain_loops() {
    let mut failures = Vec::new();
    // the shape is computed per axis: (6 - 2)/1 + 1 = 5 high, (8 - 2)/2 + 1 = 4 wide
    let y: Tensor4<f32, 1, 1, 5, 4> = Tensor4::<f32, 1, 1, 6, 8>::zeros()
        .conv2d(&Tensor4::<f32, 1, 1, 2, 2>::zeros(), ConvParams2d::<1, 2>);
    assert_eq!(y.to_vec(), vec![0.0; 20]);
    plain_loops!(failures, "conv2d stride (1, 2), 2x2 kernel",
        Sizes::conv2d_hw([1, 1, 6, 8], [1, 2, 2], [1, 2], [0, 0], [1, 1], false),
        x: Rank4<1, 1, 6, 8>, w: Rank4<1, 1, 2, 2>, O = 1,
        |x, w, b| x.conv2d(w, ConvParams2d::<1, 2>));
    plain_loops!(failures, "conv2d stride (1, 2), 3x2 kernel",
        Sizes::conv2d_hw([2, 3, 6, 9], [4, 3, 2], [1, 2], [0, 0], [1, 1], false),
        x: Rank4<2, 3, 6, 9>, w: Rank4<4, 3, 3, 2>, O = 4,
        |x, w, b| x.conv2d(w, ConvParams2d::<1, 2>));
    plain_loops!(failures, "conv2d_bias stride (3, 1), 2x3 kernel",
        Sizes::conv2d_hw([1, 2, 10, 7], [3, 2, 3], [3, 1], [0, 0], [1, 1], true),
        x: Rank4<1, 2, 10, 7>, w: Rank4<3, 2, 2, 3>, O = 3,
        |x, w, b| x.conv2d_bias(w, b, ConvParams2d::<3, 1>));
    plain_loops!(failures, "conv2d stride (2, 1), 8 -> 8 channels",
        Sizes::conv2d_hw([2, 8, 7, 6], [8, 3, 3], [2, 1], [0, 0], [1, 1], false),
        x: Rank4<2, 8, 7, 6>, w: Rank4<8, 8, 3, 3>, O = 8,
        |x, w, b| x.conv2d(w, ConvParams2d::<2, 1>));
    assert_no_failures("conv2d with stride per axis against plain loops", failures);
}

#[test]
fn conv2d_stride_per_axis_gradients_match_central_differences() {
    let mut failures = Vec::new();
    gradcheck_per_kernel!(failures, found, {
        gradcheck_conv2d_with!(found, "stride (1, 2)", x [2, 2, 5, 8], w [3, 3, 2],
            ConvParams2d::<1, 2>);
        gradcheck_conv2d_with!(found, "stride (3, 1)", x [1, 2, 8, 5], w [2, 2, 2],
            ConvParams2d::<3, 1>);
    });
    assert_no_failures("conv2d stride per axis gradcheck", failures);
}

#[test]
fn conv2d_dilation_per_axis_matches_plain_loops() {
    let mut failures = Vec::new();
    // (6 - 3*(2-1) - 1)/1 + 1 = 3 high, (8 - 1*(2-1) - 1)/1 + 1 = 7 wide
    let y: Tensor4<f32, 1, 1, 3, 7> = Tensor4::<f32, 1, 1, 6, 8>::zeros().conv2d(
        &Tensor4::<f32, 1, 1, 2, 2>::zeros(),
        ConvParams2d::<1, 1, 0, 0, 3, 1>,
    );
    assert_eq!(y.to_vec(), vec![0.0; 21]);
    plain_loops!(failures, "conv2d dilation (3, 1), 2x2 kernel",
        Sizes::conv2d_hw([1, 1, 6, 8], [1, 2, 2], [1, 1], [0, 0], [3, 1], false),
        x: Rank4<1, 1, 6, 8>, w: Rank4<1, 1, 2, 2>, O = 1,
        |x, w, b| x.conv2d(w, ConvParams2d::<1, 1, 0, 0, 3, 1>));
    plain_loops!(failures, "conv2d dilation (3, 1), 2x3 kernel",
        Sizes::conv2d_hw([2, 2, 8, 6], [3, 2, 3], [1, 1], [0, 0], [3, 1], false),
        x: Rank4<2, 2, 8, 6>, w: Rank4<3, 2, 2, 3>, O = 3,
        |x, w, b| x.conv2d(w, ConvParams2d::<1, 1, 0, 0, 3, 1>));
    plain_loops!(failures, "conv2d_bias dilation (1, 2), 4 -> 8 channels",
        Sizes::conv2d_hw([1, 4, 5, 9], [8, 3, 3], [1, 1], [0, 0], [1, 2], true),
        x: Rank4<1, 4, 5, 9>, w: Rank4<8, 4, 3, 3>, O = 8,
        |x, w, b| x.conv2d_bias(w, b, ConvParams2d::<1, 1, 0, 0, 1, 2>));
    assert_no_failures(
        "conv2d with dilation per axis against plain loops",
        failures,
    );
}

#[test]
fn conv2d_dilation_per_axis_gradients_match_central_differences() {
    let mut failures = Vec::new();
    gradcheck_per_kernel!(failures, found, {
        gradcheck_conv2d_with!(found, "dilation (3, 1)", x [1, 2, 7, 5], w [2, 2, 3],
            ConvParams2d::<1, 1, 0, 0, 3, 1>);
        gradcheck_conv2d_with!(found, "dilation (1, 2)", x [2, 1, 4, 7], w [2, 2, 2],
            ConvParams2d::<1, 1, 0, 0, 1, 2>);
    });
    assert_no_failures("conv2d dilation per axis gradcheck", failures);
}

#[test]
fn conv2d_stride_padding_and_dilation_per_axis_match_plain_loops() {
    let mut failures = Vec::new();
    plain_loops!(failures, "conv2d_bias stride (2, 1), padding (0, 2), dilation (1, 2)",
        Sizes::conv2d_hw([2, 3, 7, 8], [4, 3, 3], [2, 1], [0, 2], [1, 2], true),
        x: Rank4<2, 3, 7, 8>, w: Rank4<4, 3, 3, 3>, O = 4,
        |x, w, b| x.conv2d_bias(w, b, ConvParams2d::<2, 1, 0, 2, 1, 2>));
    plain_loops!(failures, "conv2d stride (1, 3), padding (2, 0), dilation (2, 1)",
        Sizes::conv2d_hw([1, 2, 6, 13], [3, 2, 4], [1, 3], [2, 0], [2, 1], false),
        x: Rank4<1, 2, 6, 13>, w: Rank4<3, 2, 2, 4>, O = 3,
        |x, w, b| x.conv2d(w, ConvParams2d::<1, 3, 2, 0, 2, 1>));
    plain_loops!(failures, "conv2d stride (3, 2), padding (1, 2), dilation (1, 3), 6 -> 5 ch",
        Sizes::conv2d_hw([2, 6, 9, 11], [5, 3, 2], [3, 2], [1, 2], [1, 3], false),
        x: Rank4<2, 6, 9, 11>, w: Rank4<5, 6, 3, 2>, O = 5,
        |x, w, b| x.conv2d(w, ConvParams2d::<3, 2, 1, 2, 1, 3>));
    assert_no_failures(
        "conv2d with stride, padding and dilation per axis against plain loops",
        failures,
    );
}

#[test]
fn conv2d_stride_padding_and_dilation_per_axis_gradients_match_central_differences() {
    let mut failures = Vec::new();
    gradcheck_per_kernel!(failures, found, {
        gradcheck_conv2d_with!(found, "stride (2, 1), padding (0, 2), dilation (1, 2)",
            x [1, 2, 6, 7], w [3, 3, 3], ConvParams2d::<2, 1, 0, 2, 1, 2>);
        gradcheck_conv2d_with!(found, "stride (1, 3), padding (2, 0), dilation (2, 1)",
            x [2, 1, 5, 10], w [2, 2, 3], ConvParams2d::<1, 3, 2, 0, 2, 1>);
    });
    assert_no_failures(
        "conv2d stride, padding and dilation per axis gradcheck",
        failures,
    );
}

/// Sizes of 0 through the typed API (the kernels' own property test, over random geometries
/// with about a third of the sizes 0, is `zero_sizes_run_every_algorithm_and_agree_with_naive`
/// in `src/ops/conv/path_tests.rs`): a runtime batch (0 one time in three) and, in the types,
/// input and output channels and plane sides of 0 or more, under a 3x3 kernel with padding 2
/// (so an empty plane still has an output, of zeros) and a 1-D kernel of 3; each algorithm
/// forced. The output has PyTorch's dims, is zero wherever it sums over no channel or no
/// input, and the gradient checks run backward through it.
#[test]
fn zero_size_convolutions_run_every_algorithm() {
    /// conv2d of a `[b, C, H, W]` input (runtime batch) with an `[O, C, 3, 3]` weight.
    macro_rules! conv2d_case {
        ($b:expr, $seed:expr, $what:expr, C $c:literal, O $o:literal, H $h:literal, W $w:literal) => {{
            let what = format!("conv2d {} -> {}, {}x{}, {}", $c, $o, $h, $w, $what);
            let x = Tensor::<f64, (usize, Dim<$c>, Dim<$h>, Dim<$w>)>::randn_shaped(
                ($b, Dim, Dim, Dim),
                $seed,
                0.0,
                1.0,
            );
            let w = Tensor4::<f64, $o, $c, 3, 3>::randn($seed + 1);
            let conv =
                |x: &Tensor<f64, (usize, Dim<$c>, Dim<$h>, Dim<$w>)>,
                 w: &Tensor4<f64, $o, $c, 3, 3>| { x.conv2d(w, ConvParams::<1, 2, 1>) };
            let y = conv(&x, &w);
            assert_eq!(y.dims(), [$b, $o, $h + 2, $w + 2], "{what}: dims");
            if $c * $h * $w == 0 {
                assert!(y.as_slice().iter().all(|&v| v == 0.0), "{what}: not zero");
            }
            gradcheck(&format!("{what}, input"), &x, |x| conv(x, &w))
                .unwrap_or_else(|e| panic!("{e}"));
            gradcheck(&format!("{what}, weight"), &w, |w| conv(&x, w))
                .unwrap_or_else(|e| panic!("{e}"));
        }};
    }
    /// conv1d of a `[b, C, W]` input (runtime batch) with an `[O, C, 3]` weight.
    macro_rules! conv1d_case {
        ($b:expr, $seed:expr, $what:expr, C $c:literal, O $o:literal, W $w:literal) => {{
            let what = format!("conv1d {} -> {}, {}, {}", $c, $o, $w, $what);
            let x = Tensor::<f64, (usize, Dim<$c>, Dim<$w>)>::randn_shaped(
                ($b, Dim, Dim),
                $seed,
                0.0,
                1.0,
            );
            let w = Tensor3::<f64, $o, $c, 3>::randn($seed + 1);
            let conv = |x: &Tensor<f64, (usize, Dim<$c>, Dim<$w>)>, w: &Tensor3<f64, $o, $c, 3>| {
                x.conv1d(w, ConvParams::<1, 2, 1>)
            };
            let y = conv(&x, &w);
            assert_eq!(y.dims(), [$b, $o, $w + 2], "{what}: dims");
            if $c * $w == 0 {
                assert!(y.as_slice().iter().all(|&v| v == 0.0), "{what}: not zero");
            }
            gradcheck(&format!("{what}, input"), &x, |x| conv(x, &w))
                .unwrap_or_else(|e| panic!("{e}"));
            gradcheck(&format!("{what}, weight"), &w, |w| conv(&x, w))
                .unwrap_or_else(|e| panic!("{e}"));
        }};
    }
    let mut rng = Rng::new(170);
    for round in 0..6u64 {
        let b = match rng.below(3) {
            0 => 0,
            _ => 1 + rng.below(2),
        };
        for algorithm in [ConvAlgorithm::Auto].iter().chain(&ConvAlgorithm::ALL) {
            let what = format!("{algorithm:?}, batch {b}");
            let seed = 1000 + 10 * round;
            algorithm.force(|| {
                conv2d_case!(b, seed, what, C 2, O 3, H 3, W 4);
                conv2d_case!(b, seed, what, C 0, O 3, H 3, W 4);
                conv2d_case!(b, seed, what, C 2, O 0, H 3, W 4);
                conv2d_case!(b, seed, what, C 2, O 3, H 0, W 4);
                conv2d_case!(b, seed, what, C 2, O 3, H 3, W 0);
                conv2d_case!(b, seed, what, C 0, O 0, H 0, W 0);
                conv1d_case!(b, seed, what, C 3, O 2, W 5);
                conv1d_case!(b, seed, what, C 0, O 2, W 5);
                conv1d_case!(b, seed, what, C 3, O 0, W 5);
                conv1d_case!(b, seed, what, C 3, O 2, W 0);
            });
        }
    }
}
