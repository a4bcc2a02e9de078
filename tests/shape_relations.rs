//! The ops added with the shape relations (`flatten`, `unflatten`, `linear`, `linear_bias`),
//! their values and gradients, the run-time checks left to dims the compiler cannot see (runtime
//! `usize`s), and generic code written on the relations computing what concrete code computes.
//!
//! The compile-time side (errors and their messages) is in `ui-tests/`.

use shapetorch::prelude::*;

/// Runs `gradcheck`, panicking with its message (op, index, expected, got) on failure.
fn check<S: Shape, O: Shape>(
    op: &str,
    x: &Tensor<f64, S>,
    f: impl Fn(&Tensor<f64, S>) -> Tensor<f64, O>,
) {
    if let Err(e) = gradcheck(op, x, f) {
        panic!("{e}");
    }
}

// ---------------------------------------------------------------------------------------------
// flatten and unflatten
// ---------------------------------------------------------------------------------------------

#[test]
fn flatten_keeps_the_order_and_a_runtime_batch() {
    let x = Tensor::<f64, (usize, Dim<2>, Dim<3>)>::from_fn_shaped((2, Dim, Dim), |[b, c, w]| {
        (100 * b + 10 * c + w) as f64
    });
    let y: Tensor<f64, (usize, Dim<6>)> = x.flatten();
    assert_eq!(y.dims(), [2, 6]);
    // y[b, c*3 + w] = x[b, c, w]
    assert_eq!(y[[1, 4]], x[[1, 1, 1]]);
    assert_eq!(y[[1, 4]], 111.0);
    let z: Tensor<f64, (usize, Dim<3>, Dim<2>)> = y.unflatten();
    assert_eq!(z.to_vec(), x.to_vec());
    // a static batch and rank 5
    let v = Tensor5::<f64, 2, 2, 3, 2, 2>::ones();
    let f: Tensor2<f64, 2, 24> = v.flatten();
    assert_eq!(f.to_vec(), vec![1.0; 48]);
}

#[test]
fn flatten_and_unflatten_gradients() {
    let x = Tensor::<f64, (usize, Dim<2>, Dim<2>, Dim<3>)>::randn_shaped(
        (3, Dim, Dim, Dim),
        1,
        0.0,
        1.0,
    );
    // multiply by a position-dependent constant so every gradient entry differs
    let scale =
        Tensor::<f64, (usize, Dim<12>)>::from_fn_shaped((3, Dim), |[b, i]| (b * 12 + i) as f64);
    check("flatten", &x, |x| &x.flatten() * &scale);
    let y = Tensor::<f64, (usize, Dim<12>)>::randn_shaped((3, Dim), 2, 0.0, 1.0);
    let back = Tensor::<f64, (usize, Dim<4>, Dim<3>)>::from_fn_shaped((3, Dim, Dim), |[b, r, c]| {
        (b * 12 + r * 3 + c) as f64
    });
    check("unflatten", &y, |y| {
        &y.unflatten::<(usize, Dim<4>, Dim<3>)>() * &back
    });
}

// ---------------------------------------------------------------------------------------------
// linear
// ---------------------------------------------------------------------------------------------

#[test]
fn linear_is_x_times_w_transposed_plus_b() {
    // x [2, 3], w [OUT = 2, IN = 3], b [2]
    let x = Tensor2::<f64, 2, 3>::from_slice(&[1.0, 2.0, 3.0, -1.0, 0.0, 2.0]).unwrap();
    let w = Tensor2::<f64, 2, 3>::from_slice(&[1.0, 0.0, -1.0, 0.5, 0.5, 0.5]).unwrap();
    let b = Tensor1::<f64, 2>::from_slice(&[10.0, 20.0]).unwrap();
    let y: Tensor2<f64, 2, 2> = x.linear_bias(&w, &b);
    // [1 - 3 + 10, 0.5*(1 + 2 + 3) + 20], [-1 - 2 + 10, 0.5*(-1 + 0 + 2) + 20]
    assert_eq!(y.to_vec(), vec![8.0, 23.0, 7.0, 20.5]);
    assert_eq!(x.linear(&w).to_vec(), x.matmul(&w.t()).to_vec());
    // a [B, T, IN] input maps its last dim
    let seq = Tensor3::<f64, 2, 2, 3>::from_fn(|[b, t, i]| (b * 6 + t * 3 + i) as f64);
    let out: Tensor3<f64, 2, 2, 2> = seq.linear_bias(&w, &b);
    let rows: Tensor2<f64, 4, 3> = seq.reshape();
    assert_eq!(out.to_vec(), rows.linear_bias(&w, &b).to_vec());
}

#[test]
fn linear_gradients() {
    let x = Tensor::<f64, (usize, Dim<4>)>::randn_shaped((3, Dim), 3, 0.0, 1.0);
    let w = Tensor2::<f64, 2, 4>::randn(4);
    let b = Tensor1::<f64, 2>::randn(5);
    check("linear_bias, input", &x, |x| x.linear_bias(&w, &b));
    check("linear_bias, weight", &w, |w| x.linear_bias(w, &b));
    check("linear_bias, bias", &b, |b| x.linear_bias(&w, b));
    let seq = Tensor3::<f64, 2, 3, 4>::randn(6);
    check("linear [B, T, IN], input", &seq, |s| s.linear(&w));
}

#[test]
#[should_panic(expected = "linear: the input has 4 features, the layer expects 3")]
fn linear_checks_runtime_features_when_it_runs() {
    let x = Tensor::<f64, (Dim<2>, usize)>::zeros_shaped((Dim, 4));
    let w = Tensor2::<f64, 5, 3>::zeros();
    let _ = x.linear(&w);
}

// ---------------------------------------------------------------------------------------------
// Runtime checks of the relations
// ---------------------------------------------------------------------------------------------

#[test]
#[should_panic(
    expected = "conv1d: the bias length differs from the weight's output channels: 3 vs 4"
)]
fn conv_bias_of_runtime_length_is_checked_when_it_runs() {
    let x = Tensor3::<f64, 1, 2, 6>::zeros();
    let w = Tensor3::<f64, 4, 2, 3>::zeros();
    let b = Tensor::<f64, (usize,)>::zeros_shaped((3,));
    let _ = x.conv1d_bias(&w, &b, ConvParams::default());
}

#[test]
#[should_panic(expected = "max: axis 0 is empty (size 0)")]
fn max_over_an_empty_runtime_axis_panics_naming_op_and_axis() {
    let x = Tensor::<f64, (usize, Dim<3>)>::zeros_shaped((0, Dim));
    let _ = x.max::<0>();
}

/// `torch.mean(torch.zeros(0, 3), 0)` is `[nan, nan, nan]` (0/0), as `mean_all` of an empty
/// tensor; the elements that are not there get no gradient. (A static empty axis is a compile
/// error.)
#[test]
fn mean_over_an_empty_runtime_axis_is_nan_as_in_pytorch() {
    let tape = Tape::new();
    let x = Tensor::<f64, (usize, Dim<3>)>::zeros_shaped((0, Dim)).trace(&tape);
    let m = x.mean::<0>();
    assert_eq!(m.dims(), [3]);
    assert!(m.as_slice().iter().all(|v| v.is_nan()), "{:?}", m.to_vec());
    let grads = m.sum_all().backward();
    assert_eq!(grads.get(&x).unwrap().numel(), 0);
    // an empty outer axis: no slices, an empty result
    let y = Tensor::<f64, (Dim<2>, usize)>::zeros_shaped((Dim, 0));
    assert_eq!(y.mean::<0>().numel(), 0);
}

#[test]
fn sum_over_an_empty_axis_is_zero() {
    let x = Tensor2::<f64, 0, 3>::zeros();
    assert_eq!(x.sum::<0>().to_vec(), vec![0.0; 3]);
    let y = Tensor::<f64, (usize, Dim<2>)>::zeros_shaped((0, Dim));
    assert_eq!(y.sum::<0>().to_vec(), vec![0.0; 2]);
}

// ---------------------------------------------------------------------------------------------
// Generic code on the relations computes what concrete code does
// ---------------------------------------------------------------------------------------------

type P = ConvParams<2, 1, 1>;
/// A 2-channel input of any batch, height and width.
type Input<B, H, W> = (B, Dim<2>, H, W);

/// conv2d generic over batch, height and width: one bound.
fn conv_any_size<B: Dimension, H: Dimension, W: Dimension>(
    x: &Tensor<f64, Input<B, H, W>>,
    w: &Tensor4<f64, 3, 2, 3, 3>,
) -> Tensor<f64, Conv2dOut<Input<B, H, W>, 3, 3, 3, P>>
where
    Input<B, H, W>: Conv2dShape<2, 3, 3, P>,
{
    x.conv2d(w, P::default())
}

/// conv1d, flatten, linear generic over the batch and the channels: one bound per op.
fn conv_flatten_linear<B: Dimension, const C: usize>(
    x: &Tensor<f64, (B, Dim<C>, Dim<8>)>,
    w: &Tensor3<f64, 4, C, 3>,
    fc: &Tensor2<f64, 2, 32>,
) -> Tensor<f64, (B, Dim<2>)> {
    // no bound: the channels are one const shared by input and weight, the sizes are static
    x.conv1d(w, ConvParams::<1, 1, 1>)
        .relu()
        .flatten()
        .linear(fc)
}

#[test]
fn generic_code_agrees_with_concrete_code() {
    let x = Tensor4::<f64, 2, 2, 9, 7>::randn(7);
    let w = Tensor4::<f64, 3, 2, 3, 3>::randn(8);
    let concrete: Tensor4<f64, 2, 3, 5, 4> = x.conv2d(&w, P::default());
    let generic: Tensor4<f64, 2, 3, 5, 4> = conv_any_size(&x, &w);
    assert_eq!(generic.to_vec(), concrete.to_vec());

    let s = Tensor::<f64, (usize, Dim<3>, Dim<8>)>::randn_shaped((2, Dim, Dim), 9, 0.0, 1.0);
    let k = Tensor3::<f64, 4, 3, 3>::randn(10);
    let fc = Tensor2::<f64, 2, 32>::randn(11);
    let y = conv_flatten_linear(&s, &k, &fc);
    let by_hand = s
        .conv1d(&k, ConvParams::<1, 1, 1>)
        .relu()
        .reshape_to((2usize, Dim::<32>))
        .matmul(&fc.t());
    // the same sums, accumulated in another order by the fused linear kernel
    for (a, b) in y.as_slice().iter().zip(by_hand.as_slice()) {
        assert!((a - b).abs() <= 1e-12 * b.abs().max(1.0), "{a} vs {b}");
    }
}

#[test]
fn minitorch_params_are_the_teaching_convention() {
    let x = Tensor4::<f64, 1, 2, 5, 6>::randn(12);
    let w = Tensor4::<f64, 3, 2, 2, 3>::randn(13);
    let a = x.conv2d_minitorch(&w);
    let b: Tensor4<f64, 1, 3, 5, 6> = x.conv2d(&w, Minitorch);
    assert_eq!(a.to_vec(), b.to_vec());
    // a runtime width gives the same values as a static one
    let s = Tensor3::<f64, 1, 2, 7>::randn(14);
    let k = Tensor3::<f64, 2, 2, 3>::randn(15);
    let dynamic = s.reshape_to((Dim::<1>, Dim::<2>, 7usize));
    assert_eq!(
        dynamic.conv1d_minitorch(&k).to_vec(),
        s.conv1d_minitorch(&k).to_vec()
    );
}
