//! Grouped, depthwise and transposed convolutions through the typed API: gradients against
//! central differences in f64 (every input: x, weight, bias), the output shapes the compiler
//! computes, and the layers' PyTorch initialisation. (Values against PyTorch: `golden.rs`;
//! the kernels against plain loops on random shapes: `src/ops/conv/group_tests.rs`.)

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

#[test]
fn grouped_conv1d_gradients() {
    type P = ConvParams<2, 1, 1, 2>;
    let x = Tensor3::<f64, 2, 4, 9>::randn(1);
    let w = Tensor3::<f64, 6, 2, 3>::randn(2);
    let b = Tensor1::<f64, 6>::randn(3);
    let _: Tensor3<f64, 2, 6, 5> = x.conv1d(&w, P::default()); // (9 + 2 - 3)/2 + 1
    check("conv1d groups 2, x", &x, |x| {
        x.conv1d_bias(&w, &b, P::default())
    });
    check("conv1d groups 2, w", &w, |w| {
        x.conv1d_bias(w, &b, P::default())
    });
    check("conv1d groups 2, b", &b, |b| {
        x.conv1d_bias(&w, b, P::default())
    });
}

#[test]
fn grouped_conv2d_gradients() {
    type P = ConvParams2d<1, 2, 1, 0, 1, 2, 3>; // stride (1, 2), padding (1, 0), dilation (1, 2)
    let x = Tensor4::<f64, 1, 6, 5, 7>::randn(4);
    let w = Tensor4::<f64, 3, 2, 3, 2>::randn(5);
    let b = Tensor1::<f64, 3>::randn(6);
    let _: Tensor4<f64, 1, 3, 5, 3> = x.conv2d(&w, P::default());
    check("conv2d groups 3, x", &x, |x| {
        x.conv2d_bias(&w, &b, P::default())
    });
    check("conv2d groups 3, w", &w, |w| {
        x.conv2d_bias(w, &b, P::default())
    });
    check("conv2d groups 3, b", &b, |b| {
        x.conv2d_bias(&w, b, P::default())
    });
}

#[test]
fn depthwise_conv2d_gradients() {
    // groups = in_channels = 3, two filters per channel, stride 2, padding 1
    type P = ConvParams<2, 1, 1, 3>;
    let x = Tensor4::<f64, 2, 3, 7, 6>::randn(7);
    let w = Tensor4::<f64, 6, 1, 3, 3>::randn(8);
    let b = Tensor1::<f64, 6>::randn(9);
    let _: Tensor4<f64, 2, 6, 4, 3> = x.conv2d(&w, P::default());
    check("depthwise conv2d, x", &x, |x| {
        x.conv2d_bias(&w, &b, P::default())
    });
    check("depthwise conv2d, w", &w, |w| {
        x.conv2d_bias(w, &b, P::default())
    });
    check("depthwise conv2d, b", &b, |b| {
        x.conv2d_bias(&w, b, P::default())
    });
    // and the depthwise conv1d
    let x1 = Tensor3::<f64, 2, 4, 8>::randn(10);
    let w1 = Tensor3::<f64, 4, 1, 3>::randn(11);
    type Q = ConvParams<1, 1, 2, 4>;
    check("depthwise conv1d, x", &x1, |x| x.conv1d(&w1, Q::default()));
    check("depthwise conv1d, w", &w1, |w| x1.conv1d(w, Q::default()));
}

#[test]
fn conv_transpose1d_gradients() {
    // (6 - 1)*2 - 2*1 + 1*(3 - 1) + 1 + 1 = 12, out channels 2 * 2 groups
    type P = ConvTransposeParams<2, 1, 1, 1, 2>;
    let x = Tensor3::<f64, 2, 4, 6>::randn(12);
    let w = Tensor3::<f64, 4, 2, 3>::randn(13);
    let y: Tensor3<f64, 2, 4, 12> = x.conv_transpose1d(&w, P::default());
    assert_eq!(y.dims(), [2, 4, 12]);
    check("conv_transpose1d, x", &x, |x| {
        x.conv_transpose1d(&w, P::default())
    });
    check("conv_transpose1d, w", &w, |w| {
        x.conv_transpose1d(w, P::default())
    });
}

#[test]
fn conv_transpose2d_gradients() {
    // per axis: height (4 - 1)*2 - 2 + 2 + 1 + 1 = 8; width (3 - 1)*1 - 0 + 2*(2 - 1) + 1 + 1
    // = 6 (output padding 1 at stride 1: below the dilation 2)
    type P = ConvTransposeParams2d<2, 1, 1, 0, 1, 1, 1, 2>;
    let x = Tensor4::<f64, 2, 3, 4, 3>::randn(14);
    let w = Tensor4::<f64, 3, 2, 3, 2>::randn(15);
    let _: Tensor4<f64, 2, 2, 8, 6> = x.conv_transpose2d(&w, P::default());
    check("conv_transpose2d, x", &x, |x| {
        x.conv_transpose2d(&w, P::default())
    });
    check("conv_transpose2d, w", &w, |w| {
        x.conv_transpose2d(w, P::default())
    });
    // depthwise transposed (groups = channels)
    type Q = ConvTransposeParams<2, 1, 1, 1, 3>;
    let x = Tensor4::<f64, 1, 3, 3, 3>::randn(16);
    let w = Tensor4::<f64, 3, 1, 3, 3>::randn(17);
    let _: Tensor4<f64, 1, 3, 6, 6> = x.conv_transpose2d(&w, Q::default());
    check("depthwise conv_transpose2d, x", &x, |x| {
        x.conv_transpose2d(&w, Q::default())
    });
    check("depthwise conv_transpose2d, w", &w, |w| {
        x.conv_transpose2d(w, Q::default())
    });
}

/// A transposed convolution undoes the shape of the strided convolution it transposes:
/// `conv2d(conv_transpose2d(x))` has `x`'s shape, and `<conv2d(y), x> = <y, conv_transpose2d(x)>`.
#[test]
fn conv_transpose2d_is_the_adjoint_of_conv2d() {
    let x = Tensor4::<f64, 2, 4, 7, 7>::randn(18);
    let y = Tensor4::<f64, 2, 6, 14, 14>::randn(19);
    let w = Tensor4::<f64, 4, 3, 3, 3>::randn(20); // conv: [O = 4, C/G = 3]; transposed: [C, O/G]
    let up: Tensor4<f64, 2, 6, 14, 14> =
        x.conv_transpose2d(&w, ConvTransposeParams::<2, 1, 1, 1, 2>);
    let down: Tensor4<f64, 2, 4, 7, 7> = y.conv2d(&w, ConvParams::<2, 1, 1, 2>);
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(a, b)| a * b).sum::<f64>();
    let (lhs, rhs) = (
        dot(down.as_slice(), x.as_slice()),
        dot(y.as_slice(), up.as_slice()),
    );
    assert!(
        (lhs - rhs).abs() < 1e-9 * lhs.abs().max(1.0),
        "{lhs} vs {rhs}"
    );
}

#[test]
fn grouped_layers_have_pytorch_init_and_match_the_functional_op() {
    // Conv2d's C is the weight's: in_channels / groups (PyTorch's weight [O, C/G, KH, KW]),
    // so its init bound 1/sqrt(C/G·KH·KW) is PyTorch's
    type Depthwise = ConvParams<1, 1, 1, 8>;
    let conv = Conv2d::<f64, 1, 16, 3, 3, Depthwise>::new(1);
    let bound = 1.0 / 9.0f64.sqrt();
    assert!(conv.weight.as_slice().iter().all(|v| v.abs() <= bound));
    assert!(conv.weight.as_slice().iter().any(|v| v.abs() > bound / 2.0));
    assert!(conv.bias.as_slice().iter().all(|v| v.abs() <= bound));
    let x = Tensor4::<f64, 2, 8, 6, 6>::randn(2);
    let y: Tensor4<f64, 2, 16, 6, 6> = conv.forward(x.clone());
    let direct = x.conv2d_bias(&conv.weight, &conv.bias, Depthwise::default());
    assert_eq!(y.to_vec(), direct.to_vec());

    let conv1 = Conv1d::<f64, 2, 6, 3, ConvParams<1, 0, 1, 3>>::new(3);
    let x = Tensor3::<f64, 1, 6, 5>::randn(4);
    let y: Tensor3<f64, 1, 6, 3> = conv1.forward(x.clone());
    let direct = x.conv1d_bias(&conv1.weight, &conv1.bias, ConvParams::<1, 0, 1, 3>);
    assert_eq!(y.to_vec(), direct.to_vec());
}

#[test]
fn conv_transpose_bias_gradients_and_layers() {
    // groups 2: bias over 3 * 2 output channels
    type P = ConvTransposeParams<2, 1, 1, 1, 2>;
    let x = Tensor4::<f64, 1, 4, 3, 3>::randn(21);
    let w = Tensor4::<f64, 4, 3, 3, 3>::randn(22);
    let b = Tensor1::<f64, 6>::randn(23);
    let y: Tensor4<f64, 1, 6, 6, 6> = x.conv_transpose2d_bias(&w, &b, P::default());
    let without = x.conv_transpose2d(&w, P::default());
    for (i, (with, without)) in y.as_slice().iter().zip(without.as_slice()).enumerate() {
        assert!(
            (with - without - b.as_slice()[i / 36]).abs() < 1e-12,
            "element {i}"
        );
    }
    check("conv_transpose2d_bias, b", &b, |b| {
        x.conv_transpose2d_bias(&w, b, P::default())
    });
    check("conv_transpose2d_bias, x", &x, |x| {
        x.conv_transpose2d_bias(&w, &b, P::default())
    });

    // the layers: PyTorch's bound 1/sqrt(WO·KH·KW), the functional op with their parameters
    let up = ConvTranspose2d::<f64, 4, 3, 3, 3, P>::new(1);
    let bound = 1.0 / 27.0f64.sqrt();
    assert!(up.weight.as_slice().iter().all(|v| v.abs() <= bound));
    assert!(up.weight.as_slice().iter().any(|v| v.abs() > bound / 2.0));
    assert!(up.bias.as_slice().iter().all(|v| v.abs() <= bound));
    assert_eq!(up.bias.dims(), [6]);
    let y: Tensor4<f64, 1, 6, 6, 6> = up.forward(x.clone());
    assert_eq!(
        y.to_vec(),
        x.conv_transpose2d_bias(&up.weight, &up.bias, P::default())
            .to_vec()
    );
    let mut up1 = ConvTranspose1d::<f64, 2, 5, 4, ConvTransposeParams<3>>::new(2);
    let x1 = Tensor::<f64, (usize, Dim<2>, Dim<4>)>::randn_shaped((3, Dim, Dim), 3, 0.0, 1.0);
    let y1: Tensor<f64, (usize, Dim<5>, Dim<13>)> = up1.forward(x1); // (4 - 1)*3 + 3 + 1
    assert_eq!(y1.dims(), [3, 5, 13]);
    assert_eq!(up1.parameter_names(), vec!["weight", "bias"]);
}
