//! Pooling and `tile` through the typed API: gradient checks by central differences, agreement
//! with plain loops written in this file (forward and backward, f64 and f32, static and
//! runtime batch and channels), pooling as `tile` + a reduction (values and gradients), and the
//! layers in a LeNet-style chain.
//!
//! The golden values from PyTorch are in `tests/golden.rs`; the kernels against plain loops on
//! random geometries and inside 2- and 3-thread pools in `src/ops/pool/kernel_tests.rs`.

use shapetorch::gradcheck::GradcheckError;
use shapetorch::ops::pool::PoolHyperParams;
use shapetorch::prelude::*;

/// Runs `gradcheck`, collecting its message on failure.
fn check<S: Shape, O: Shape>(
    failures: &mut Vec<String>,
    op: &str,
    x: &Tensor<f64, S>,
    f: impl Fn(&Tensor<f64, S>) -> Tensor<f64, O>,
) {
    if let Err(e) = gradcheck(op, x, f) {
        failures.push(GradcheckError::to_string(&e));
    }
}

fn assert_no_failures(what: &str, failures: Vec<String>) {
    assert!(
        failures.is_empty(),
        "{what}: {} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// `|got - expected| <= tol * max(1, |expected|)` for every element, or a message.
fn close(label: &str, expected: &[f64], got: &[f64], tol: f64) -> Result<(), String> {
    if expected.len() != got.len() {
        return Err(format!(
            "{label}: {} values expected, {} computed",
            expected.len(),
            got.len()
        ));
    }
    for (i, (e, g)) in expected.iter().zip(got).enumerate() {
        if !(e == g || (g - e).abs() <= tol * e.abs().max(1.0)) {
            return Err(format!("{label}[{i}]: expected {e}, got {g}"));
        }
    }
    Ok(())
}

fn to_f64<E: Element>(v: &[E]) -> Vec<f64> {
    v.iter().map(|x| x.to_f64().unwrap()).collect()
}

// ---------------------------------------------------------------------------------------------
// Gradient checks
// ---------------------------------------------------------------------------------------------

#[test]
fn max_pool2d_gradients_match_central_differences() {
    let mut f = Vec::new();
    let x = Tensor4::<f64, 2, 2, 6, 8>::randn(1);
    check(&mut f, "max_pool2d 2x2", &x, |x| x.max_pool2d::<2, 2>());
    check(&mut f, "max_pool2d 3x2", &x, |x| x.max_pool2d::<3, 2>());
    check(
        &mut f,
        "max_pool2d 3x3 stride 2 (overlapping), padding 1",
        &x,
        |x| x.max_pool2d_with(Pool2d::<3, 3, 2, 2, 1, 1>),
    );
    check(&mut f, "max_pool2d per axis, dilation (2, 1)", &x, |x| {
        x.max_pool2d_with(Pool2d::<2, 3, 1, 2, 1, 0, 2, 1>)
    });
    assert_no_failures("max_pool2d gradcheck", f);
}

#[test]
fn avg_pool2d_gradients_match_central_differences() {
    let mut f = Vec::new();
    let x = Tensor4::<f64, 2, 2, 6, 8>::randn(2);
    check(&mut f, "avg_pool2d 2x2", &x, |x| x.avg_pool2d::<2, 2>());
    check(&mut f, "avg_pool2d 3x3 stride 1 (overlapping)", &x, |x| {
        x.avg_pool2d_with(Pool2d::<3, 3, 1, 1>)
    });
    check(&mut f, "avg_pool2d 1x5, padding (0, 2)", &x, |x| {
        x.avg_pool2d_with(Pool2d::<1, 5, 1, 1, 0, 2>)
    });
    check(&mut f, "avg_pool2d 3x3 stride 2, padding 1", &x, |x| {
        x.avg_pool2d_with(Pool2d::<3, 3, 2, 2, 1, 1>)
    });
    assert_no_failures("avg_pool2d gradcheck", f);
}

#[test]
fn pool1d_gradients_match_central_differences() {
    let mut f = Vec::new();
    let x = Tensor3::<f64, 2, 3, 11>::randn(3);
    check(&mut f, "max_pool1d 2", &x, |x| x.max_pool1d::<2>());
    check(
        &mut f,
        "max_pool1d 3, stride 2, padding 1, dilation 2",
        &x,
        |x| x.max_pool1d_with(Pool1d::<3, 2, 1, 2>),
    );
    check(&mut f, "avg_pool1d 3", &x, |x| x.avg_pool1d::<3>());
    check(&mut f, "avg_pool1d 4, stride 3, padding 2", &x, |x| {
        x.avg_pool1d_with(Pool1d::<4, 3, 2>)
    });
    assert_no_failures("pool1d gradcheck", f);
}

#[test]
fn tile_gradient_matches_central_differences() {
    let mut f = Vec::new();
    let x = Tensor4::<f64, 2, 2, 6, 4>::randn(4);
    check(&mut f, "tile 2x2", &x, |x| x.tile::<2, 2>());
    check(&mut f, "tile 3x1", &x, |x| x.tile::<3, 1>());
    check(&mut f, "tile 6x4 (one tile)", &x, |x| x.tile::<6, 4>());
    check(&mut f, "tile 2x2 then max", &x, |x| {
        x.tile::<2, 2>().max::<4>()
    });
    assert_no_failures("tile gradcheck", f);
}

// ---------------------------------------------------------------------------------------------
// Plain loops
// ---------------------------------------------------------------------------------------------

/// Plain 2-D pooling of `x` (`[planes, h, w]`, row-major) with the hyper-parameters `P`, every
/// tap tested against the padding: `(values, gradient of sum(y * grad_y))`.
fn plain_pool<P: PoolHyperParams>(
    max: bool,
    [planes, h, w]: [usize; 3],
    x: &[f64],
    grad_y: &[f64],
) -> (Vec<f64>, Vec<f64>) {
    let ([kh, kw], [sh, sw], [ph, pw], [dh, dw]) = (P::KERNEL, P::STRIDE, P::PADDING, P::DILATION);
    let out =
        |n: usize, k: usize, s: usize, p: usize, d: usize| (n + 2 * p - d * (k - 1) - 1) / s + 1;
    let (oh, ow) = (out(h, kh, sh, ph, dh), out(w, kw, sw, pw, dw));
    let (mut y, mut grad_x) = (Vec::new(), vec![0.0; x.len()]);
    for p in 0..planes {
        for oy in 0..oh {
            for ox in 0..ow {
                let mut taps = Vec::new();
                for ky in 0..kh {
                    for kx in 0..kw {
                        let iy = (oy * sh + ky * dh) as isize - ph as isize;
                        let ix = (ox * sw + kx * dw) as isize - pw as isize;
                        if (0..h as isize).contains(&iy) && (0..w as isize).contains(&ix) {
                            taps.push((p * h + iy as usize) * w + ix as usize);
                        }
                    }
                }
                let g = grad_y[y.len()];
                if max {
                    let best = taps
                        .iter()
                        .copied()
                        .reduce(|b, i| if x[i] > x[b] { i } else { b });
                    let best = best.expect("a window with an input element");
                    y.push(x[best]);
                    grad_x[best] += g;
                } else {
                    let n = (kh * kw) as f64;
                    y.push(taps.iter().map(|&i| x[i]).sum::<f64>() / n);
                    taps.iter().for_each(|&i| grad_x[i] += g / n);
                }
            }
        }
    }
    (y, grad_x)
}

/// [`plain_pool`] for one hyper-parameters type.
type PlainPool = fn(bool, [usize; 3], &[f64], &[f64]) -> (Vec<f64>, Vec<f64>);

/// The typed op against the plain loops, in `E`: values and the input's gradient.
fn versus_plain_loops<E: Element, S: Shape, So: Shape>(
    label: &str,
    max: bool,
    plain: PlainPool,
    x: Tensor<f64, S>,
    op: impl Fn(&Tensor<E, S>) -> Tensor<E, So>,
) -> Result<(), String> {
    let tol = if size_of::<E>() == 4 { 1e-5 } else { 1e-12 };
    let tape = Tape::new();
    let xe = Tensor::<E, S>::from_dims(
        x.dims().as_ref(),
        x.as_slice().iter().map(|&v| E::of(v)).collect(),
    )
    .unwrap()
    .trace(&tape);
    let y = op(&xe);
    let grad_y = Tensor::<E, So>::randn_shaped(*y.shape(), 9, E::zero(), E::one());
    let grads = (&y * &grad_y).sum_all().backward();
    let dims = x.dims();
    let dims = dims.as_ref();
    let planes_hw = match *dims {
        [b, c, h, w] => [b * c, h, w],
        [b, c, w] => [b * c, 1, w],
        _ => unreachable!(),
    };
    // the plain loops on the values the typed op saw (rounded to E)
    let (y_plain, grad_plain) = plain(
        max,
        planes_hw,
        &to_f64(xe.as_slice()),
        &to_f64(grad_y.as_slice()),
    );
    close(&format!("{label} y"), &y_plain, &to_f64(y.as_slice()), tol)?;
    close(
        &format!("{label} grad_x"),
        &grad_plain,
        &to_f64(grads.get(&xe).unwrap().as_slice()),
        tol,
    )
}

/// `plain!(failures, label, x, max|avg, P, |x| call)`: the call against the plain loops with
/// the hyper-parameters `P`, in f64 and f32.
macro_rules! plain {
    ($failures:ident, $label:literal, $x:expr, $kind:ident, $p:ty, |$v:ident| $call:expr) => {{
        let max = stringify!($kind) == "max";
        for result in [
            versus_plain_loops::<f64, _, _>($label, max, plain_pool::<$p>, $x.clone(), |$v| $call),
            versus_plain_loops::<f32, _, _>($label, max, plain_pool::<$p>, $x.clone(), |$v| $call),
        ] {
            if let Err(e) = result {
                $failures.push(e);
            }
        }
    }};
}

#[test]
fn pooling_matches_plain_loops() {
    let mut f = Vec::new();
    let x = Tensor4::<f64, 3, 2, 9, 10>::randn(5);
    plain!(f, "max_pool2d 2x2", x, max, Pool2d<2, 2>, |x| x.max_pool2d::<2, 2>());
    plain!(f, "avg_pool2d 3x2", x, avg, Pool2d<3, 2>, |x| x.avg_pool2d::<3, 2>());
    type Overlap = Pool2d<3, 3, 2, 2, 1, 1>;
    plain!(f, "max_pool2d overlap", x, max, Overlap, |x| x
        .max_pool2d_with(Overlap::default()));
    plain!(f, "avg_pool2d overlap", x, avg, Overlap, |x| x
        .avg_pool2d_with(Overlap::default()));
    type Axes = Pool2d<2, 4, 3, 1, 1, 2, 2, 1>;
    plain!(f, "max_pool2d per axis", x, max, Axes, |x| x
        .max_pool2d_with(Axes::default()));
    type AvgAxes = Pool2d<1, 5, 1, 2, 0, 2>;
    plain!(f, "avg_pool2d 1x5 padding (0, 2)", x, avg, AvgAxes, |x| x
        .avg_pool2d_with(AvgAxes::default()));

    // runtime batch and channels
    let r =
        Tensor::<f64, (usize, usize, Dim<9>, Dim<10>)>::randn_shaped((2, 3, Dim, Dim), 6, 0.0, 1.0);
    plain!(f, "max_pool2d runtime batch and channels", r, max, Pool2d<2, 2>, |x| x.max_pool2d::<2, 2>());
    plain!(
        f,
        "avg_pool2d runtime batch and channels",
        r,
        avg,
        Overlap,
        |x| x.avg_pool2d_with(Overlap::default())
    );

    let s = Tensor::<f64, (usize, Dim<4>, Dim<13>)>::randn_shaped((3, Dim, Dim), 7, 0.0, 1.0);
    plain!(f, "max_pool1d 2", s, max, Pool1d<2>, |x| x
        .max_pool1d::<2>());
    plain!(f, "avg_pool1d 3 stride 2 padding 1", s, avg, Pool1d<3, 2, 1>, |x| x.avg_pool1d_with(Pool1d::<3, 2, 1>));
    plain!(f, "max_pool1d 3 stride 1 padding 1 dilation 3", s, max, Pool1d<3, 1, 1, 3>, |x| x.max_pool1d_with(Pool1d::<3, 1, 1, 3>));
    assert_no_failures("pooling against plain loops", f);
}

#[test]
fn a_runtime_batch_gives_the_static_batch_result() {
    let x = Tensor4::<f64, 3, 2, 8, 8>::randn(8);
    let r = Tensor::<f64, (usize, Dim<2>, Dim<8>, Dim<8>)>::from_dims(&[3, 2, 8, 8], x.to_vec())
        .unwrap();
    let y: Tensor<f64, (usize, Dim<2>, Dim<4>, Dim<4>)> = r.max_pool2d::<2, 2>();
    assert_eq!(y.to_vec(), x.max_pool2d::<2, 2>().to_vec());
    let t: Tensor<f64, (usize, Dim<2>, Dim<4>, Dim<2>, Dim<8>)> = r.tile::<2, 4>();
    assert_eq!(t.to_vec(), x.tile::<2, 4>().to_vec());
}

// ---------------------------------------------------------------------------------------------
// Pooling is tile + a reduction
// ---------------------------------------------------------------------------------------------

/// `tile::<KH, KW>()` then a reduction over the last axis gives the pooling's values and
/// gradients: `mean::<4>()` is `avg_pool2d`, `max::<4>()` is `max_pool2d`. (Each side is
/// computed after the other's `backward()`, as the tape's rules ask.)
macro_rules! tile_then_reduce {
    ($x:expr, $kh:literal, $kw:literal) => {{
        let x = $x;
        let run = |name: &str, f: &dyn Fn() -> Tensor<f64, _>| {
            let y = f();
            let grad_y = Tensor::randn_shaped(*y.shape(), 11, 0.0, 1.0);
            let grads = (&y * &grad_y).sum_all().backward();
            let grad_x = grads
                .get(&x)
                .unwrap_or_else(|| panic!("{name}: no gradient"));
            (y.to_vec(), grad_x.to_vec())
        };
        let max_tile = run("tile max", &|| x.tile::<$kh, $kw>().max::<4>());
        let max_pool = run("max_pool2d", &|| x.max_pool2d::<$kh, $kw>());
        let mean_tile = run("tile mean", &|| x.tile::<$kh, $kw>().mean::<4>());
        let avg_pool = run("avg_pool2d", &|| x.avg_pool2d::<$kh, $kw>());
        for (name, (tiled, pooled)) in [
            ("max", (max_tile, max_pool)),
            ("mean", (mean_tile, avg_pool)),
        ] {
            let label = format!("tile::<{}, {}>().{name}::<4>() on {:?}", $kh, $kw, x.dims());
            close(&label, &pooled.0, &tiled.0, 1e-12).unwrap();
            close(&format!("{label} gradient"), &pooled.1, &tiled.1, 1e-12).unwrap();
        }
    }};
}

#[test]
fn pooling_is_tile_then_a_reduction() {
    let tape = Tape::new();
    tile_then_reduce!(Tensor4::<f64, 2, 3, 8, 6>::randn(1).trace(&tape), 2, 2);
    tile_then_reduce!(Tensor4::<f64, 1, 2, 9, 8>::randn(2).trace(&tape), 3, 4);
    tile_then_reduce!(Tensor4::<f64, 2, 1, 28, 28>::randn(3).trace(&tape), 4, 4);
    tile_then_reduce!(Tensor4::<f64, 1, 1, 5, 7>::randn(4).trace(&tape), 5, 7); // one tile
                                                                                // ties: both send the gradient to the first maximum
    tile_then_reduce!(Tensor4::<f64, 1, 2, 4, 4>::full(1.5).trace(&tape), 2, 2);
    let r = Tensor::<f64, (usize, Dim<2>, Dim<6>, Dim<6>)>::randn_shaped(
        (3, Dim, Dim, Dim),
        5,
        0.0,
        1.0,
    );
    tile_then_reduce!(r.trace(&tape), 3, 2);
}

// ---------------------------------------------------------------------------------------------
// Layers
// ---------------------------------------------------------------------------------------------

shapetorch::model! {
    /// LeNet-style: conv → relu → pool → conv → relu → pool → flatten → linear, written with
    /// the layers; every size after the input is computed by the compiler.
    struct SmallLeNet {
        fc: Linear<f64, 256, 10>,
    }
}

impl SmallLeNet {
    fn forward<B: Dimension>(
        &self,
        x: Tensor<f64, (B, Dim<1>, Dim<28>, Dim<28>)>,
        w1: &Tensor4<f64, 6, 1, 5, 5>,
        w2: &Tensor4<f64, 16, 6, 5, 5>,
    ) -> Tensor<f64, (B, Dim<10>)> {
        let h = MaxPool2d::<2, 2>.forward(x.conv2d(w1, ConvParams::default()).relu()); // [B, 6, 12, 12]
        let h = MaxPool2d::<2, 2>.forward(h.conv2d(w2, ConvParams::default()).relu()); // [B, 16, 4, 4]
        self.fc.forward(Flatten.forward(h)) // 256
    }
}

#[test]
fn lenet_chain_of_layers_runs_with_a_runtime_batch() {
    let mut model = SmallLeNet::new(0);
    assert_eq!(model.parameter_names(), vec!["fc.weight", "fc.bias"]);
    let x = Tensor::<f64, (usize, Dim<1>, Dim<28>, Dim<28>)>::randn_shaped(
        (3, Dim, Dim, Dim),
        1,
        0.0,
        1.0,
    );
    let (w1, w2) = (Tensor4::randn(2), Tensor4::randn(3));
    let y = model.forward(x.clone(), &w1, &w2);
    assert_eq!(y.dims(), [3, 10]);
    // the same with the ops
    let h = x
        .conv2d(&w1, ConvParams::default())
        .relu()
        .max_pool2d::<2, 2>();
    let h = h
        .conv2d(&w2, ConvParams::default())
        .relu()
        .max_pool2d::<2, 2>();
    let z = h.flatten().linear_bias(&model.fc.weight, &model.fc.bias);
    assert_eq!(y.to_vec(), z.to_vec());
}
