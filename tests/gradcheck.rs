//! Gradient checks for every tensor op: `backward()` against central differences in f64
//! (`shapetorch::gradcheck`). Binary ops are checked in each operand, the other held
//! as a captured constant. Inputs stay away from kinks (`relu` at 0, ties in `max`, `log` and
//! negative powers near 0).

use shapetorch::gradcheck::GradcheckError;
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

/// Standard normal values of a static shape.
fn randn<S: ConstShape>(seed: u64) -> Tensor<f64, S> {
    Tensor::randn(seed)
}

/// Values in `[0.5, 2)` with alternating signs: away from 0 for `div`, `log` of `|x|`,
/// negative powers and `relu`.
fn away_from_zero<S: ConstShape>(seed: u64) -> Tensor<f64, S> {
    let mut values = Tensor::<f64, S>::rand_uniform(seed, 0.5, 2.0).to_vec();
    for v in values.iter_mut().skip(1).step_by(2) {
        *v = -*v;
    }
    Tensor::from_vec(values).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Unary and scalar ops
// ---------------------------------------------------------------------------------------------

#[test]
fn neg_method_and_operator() {
    let x = randn::<Rank2<2, 3>>(1);
    check("neg", &x, |x| x.neg());
    check("-&x", &x, |x| -x);
    check("-x", &x, |x| -(x.clone()));
}

#[test]
fn exp_and_log() {
    check("exp", &randn::<Rank2<2, 3>>(2), |x| x.exp());
    let positive = Tensor2::<f64, 2, 3>::rand_uniform(3, 0.2, 3.0);
    check("log", &positive, |x| x.log());
}

#[test]
fn relu_away_from_the_kink() {
    let x = away_from_zero::<Rank2<2, 4>>(4);
    assert!(x.as_slice().iter().any(|&v| v < 0.0) && x.as_slice().iter().any(|&v| v > 0.0));
    check("relu", &x, |x| x.relu());
}

#[test]
fn sigmoid_and_tanh() {
    let x = randn::<Rank2<3, 3>>(5).mul_scalar(2.0);
    check("sigmoid", &x, |x| x.sigmoid());
    check("tanh", &x, |x| x.tanh());
}

#[test]
fn powi_for_each_exponent() {
    let x = away_from_zero::<Rank1<6>>(6);
    for n in [-2, -1, 0, 1, 2, 3] {
        check(&format!("powi({n})"), &x, |x| x.powi(n));
    }
}

#[test]
fn powi_zero_at_zero() {
    // d/dx x^0 = 0, also at x = 0
    let x = Tensor1::<f64, 3>::from_slice(&[0.0, 1.5, -2.0]).unwrap();
    check("powi(0) at 0", &x, |x| x.powi(0));
    // x^2 and x^3 at 0 have finite gradients too
    check("powi(2) at 0", &x, |x| x.powi(2));
    check("powi(3) at 0", &x, |x| x.powi(3));
}

#[test]
fn scalar_ops() {
    let x = randn::<Rank2<2, 3>>(7);
    check("add_scalar", &x, |x| x.add_scalar(1.5));
    check("sub_scalar", &x, |x| x.sub_scalar(-0.5));
    check("mul_scalar", &x, |x| x.mul_scalar(-3.0));
    check("div_scalar", &x, |x| x.div_scalar(0.25));
}

// ---------------------------------------------------------------------------------------------
// Binary ops: both operands, every owned/borrowed combination
// ---------------------------------------------------------------------------------------------

/// Checks `a op b` in `a` (with `b` fixed) and in `b` (with `a` fixed), for all four
/// combinations of owned and borrowed operands, and `x op x`.
macro_rules! check_binary {
    ($name:literal, $op:tt, $a:expr, $b:expr) => {{
        let (a, b) = (&$a, &$b);
        check(concat!($name, " lhs, &a op &b"), a, |a| a $op b);
        check(concat!($name, " lhs, a op b"), a, |a| a.clone() $op b.clone());
        check(concat!($name, " lhs, a op &b"), a, |a| a.clone() $op b);
        check(concat!($name, " lhs, &a op b"), a, |a| a $op b.clone());
        check(concat!($name, " rhs, &a op &b"), b, |b| a $op b);
        check(concat!($name, " rhs, a op b"), b, |b| a.clone() $op b.clone());
        check(concat!($name, " rhs, a op &b"), b, |b| a.clone() $op b);
        check(concat!($name, " rhs, &a op b"), b, |b| a $op b.clone());
        check(concat!($name, " x op x"), b, |x| x $op x);
    }};
}

#[test]
fn add_both_operands() {
    check_binary!("add", +, randn::<Rank2<2, 3>>(10), randn::<Rank2<2, 3>>(11));
}

#[test]
fn sub_both_operands() {
    check_binary!("sub", -, randn::<Rank2<2, 3>>(12), randn::<Rank2<2, 3>>(13));
}

#[test]
fn mul_both_operands() {
    check_binary!("mul", *, randn::<Rank2<2, 3>>(14), randn::<Rank2<2, 3>>(15));
}

#[test]
fn div_both_operands() {
    check_binary!("div", /, randn::<Rank2<2, 3>>(16), away_from_zero::<Rank2<2, 3>>(17));
}

#[test]
fn binary_ops_on_a_runtime_batch() {
    type B2 = (usize, Dim<2>);
    let a = Tensor::<f64, B2>::randn_shaped((3, Dim), 18, 0.0, 1.0);
    let b = Tensor::<f64, B2>::rand_uniform_shaped((3, Dim), 19, 0.5, 2.0);
    check("mul runtime lhs", &a, |a| a * &b);
    check("mul runtime rhs", &b, |b| &a * b);
    check("div runtime lhs", &a, |a| a / &b);
    check("div runtime rhs", &b, |b| &a / b);
}

// ---------------------------------------------------------------------------------------------
// Reductions
// ---------------------------------------------------------------------------------------------

/// Checks `sum`, `mean` and `max` over each listed axis of `x`.
macro_rules! check_reductions {
    ($x:expr; $($axis:literal),+) => {{
        let x = &$x;
        $(
            check(&format!("sum::<{}> of {:?}", $axis, x.dims()), x, |x| x.sum::<$axis>());
            check(&format!("mean::<{}> of {:?}", $axis, x.dims()), x, |x| x.mean::<$axis>());
            check(&format!("max::<{}> of {:?}", $axis, x.dims()), x, |x| x.max::<$axis>());
        )+
        check(&format!("sum_all of {:?}", x.dims()), x, |x| x.sum_all());
        check(&format!("mean_all of {:?}", x.dims()), x, |x| x.mean_all());
    }};
}

#[test]
fn reductions_rank_1() {
    check_reductions!(randn::<Rank1<5>>(20); 0);
}

#[test]
fn reductions_rank_2() {
    check_reductions!(randn::<Rank2<3, 4>>(21); 0, 1);
}

#[test]
fn reductions_rank_3() {
    check_reductions!(randn::<Rank3<2, 3, 4>>(22); 0, 1, 2);
}

#[test]
fn reductions_rank_4() {
    check_reductions!(randn::<Rank4<2, 3, 2, 3>>(23); 0, 1, 2, 3);
}

#[test]
fn reductions_over_a_runtime_batch() {
    let x = Tensor::<f64, (usize, Dim<3>)>::randn_shaped((4, Dim), 24, 0.0, 1.0);
    check_reductions!(x; 0, 1);
}

// ---------------------------------------------------------------------------------------------
// matmul, bmm
// ---------------------------------------------------------------------------------------------

#[test]
fn matmul_both_operands() {
    let a = randn::<Rank2<2, 3>>(30);
    let b = randn::<Rank2<3, 4>>(31);
    check("matmul lhs", &a, |a| a.matmul(&b));
    check("matmul rhs", &b, |b| a.matmul(b));
    // the same tensor on both sides
    check("matmul x·x", &randn::<Rank2<3, 3>>(32), |x| x.matmul(x));
    // vectors: a row times a column, a column times a row
    let (row, col) = (randn::<Rank2<1, 3>>(33), randn::<Rank2<3, 1>>(34));
    check("matmul row·col lhs", &row, |r| r.matmul(&col));
    check("matmul row·col rhs", &col, |c| row.matmul(c));
    check("matmul col·row lhs", &col, |c| c.matmul(&row));
    check("matmul col·row rhs", &row, |r| col.matmul(r));
}

#[test]
fn matmul_with_runtime_dims() {
    let a = Tensor::<f64, (usize, usize)>::randn_shaped((3, 5), 35, 0.0, 1.0);
    let b = Tensor::<f64, (usize, usize)>::randn_shaped((5, 2), 36, 0.0, 1.0);
    check("matmul runtime lhs", &a, |a| a.matmul(&b));
    check("matmul runtime rhs", &b, |b| a.matmul(b));
}

#[test]
fn bmm_both_operands() {
    let a = randn::<Rank3<2, 2, 3>>(37);
    let b = randn::<Rank3<2, 3, 4>>(38);
    check("bmm lhs", &a, |a| a.bmm(&b));
    check("bmm rhs", &b, |b| a.bmm(b));
    check("bmm x·x", &randn::<Rank3<3, 2, 2>>(39), |x| x.bmm(x));
    let c = Tensor::<f64, (usize, Dim<3>, Dim<2>)>::randn_shaped((3, Dim, Dim), 40, 0.0, 1.0);
    let d = randn::<Rank3<3, 2, 3>>(41);
    check("bmm runtime batch lhs", &c, |c| c.bmm(&d));
    check("bmm runtime batch rhs", &d, |d| c.bmm(d));
}

// ---------------------------------------------------------------------------------------------
// Views
// ---------------------------------------------------------------------------------------------

#[test]
fn reshape_and_reshape_to() {
    let x = randn::<Rank2<2, 6>>(50);
    check("reshape [2, 6] -> [12]", &x, |x| x.reshape::<Rank1<12>>());
    check("reshape [2, 6] -> [3, 2, 2]", &x, |x| {
        x.reshape::<Rank3<3, 2, 2>>()
    });
    check("reshape_to [2, 6] -> [usize 4, 3]", &x, |x| {
        x.reshape_to::<(usize, Dim<3>)>((4, Dim))
    });
    let r = Tensor::<f64, (usize, Dim<4>)>::randn_shaped((3, Dim), 51, 0.0, 1.0);
    check("reshape_to [usize 3, 4] -> [2, 6]", &r, |r| {
        r.reshape_to::<Rank2<2, 6>>(Default::default())
    });
}

#[test]
fn transpose_and_permute_rank_2() {
    let x = randn::<Rank2<2, 3>>(52);
    check("t", &x, |x| x.t());
    check("permute<1, 0>", &x, |x| x.permute::<1, 0>());
    check("permute<0, 1>", &x, |x| x.permute::<0, 1>());
    let r = Tensor::<f64, (usize, Dim<3>)>::randn_shaped((2, Dim), 53, 0.0, 1.0);
    check("t runtime", &r, |r| r.t());
}

#[test]
fn permute_rank_3() {
    let x = randn::<Rank3<2, 3, 4>>(54);
    check("permute<0, 1, 2>", &x, |x| x.permute::<0, 1, 2>());
    check("permute<0, 2, 1>", &x, |x| x.permute::<0, 2, 1>());
    check("permute<1, 0, 2>", &x, |x| x.permute::<1, 0, 2>());
    check("permute<1, 2, 0>", &x, |x| x.permute::<1, 2, 0>());
    check("permute<2, 0, 1>", &x, |x| x.permute::<2, 0, 1>());
    check("permute<2, 1, 0>", &x, |x| x.permute::<2, 1, 0>());
}

#[test]
fn permute_rank_4() {
    let x = randn::<Rank4<2, 3, 2, 2>>(55);
    check("permute<0, 2, 3, 1>", &x, |x| x.permute::<0, 2, 3, 1>());
    check("permute<3, 2, 1, 0>", &x, |x| x.permute::<3, 2, 1, 0>());
    check("permute<1, 3, 0, 2>", &x, |x| x.permute::<1, 3, 0, 2>());
    check("permute<2, 0, 3, 1>", &x, |x| x.permute::<2, 0, 3, 1>());
}

#[test]
fn broadcast_along_each_axis() {
    let s = Tensor0::<f64>::scalar(0.7);
    check("broadcast [] -> [3]", &s, |s| s.broadcast::<0, Rank1<3>>());
    let v = randn::<Rank1<3>>(60);
    check("broadcast<0> [3] -> [2, 3]", &v, |v| {
        v.broadcast::<0, Rank2<2, 3>>()
    });
    check("broadcast<1> [3] -> [3, 2]", &v, |v| {
        v.broadcast::<1, Rank2<3, 2>>()
    });
    let m = randn::<Rank2<2, 3>>(61);
    check("broadcast<0> [2, 3] -> [2, 2, 3]", &m, |m| {
        m.broadcast::<0, Rank3<2, 2, 3>>()
    });
    check("broadcast<1> [2, 3] -> [2, 4, 3]", &m, |m| {
        m.broadcast::<1, Rank3<2, 4, 3>>()
    });
    check("broadcast<2> [2, 3] -> [2, 3, 2]", &m, |m| {
        m.broadcast::<2, Rank3<2, 3, 2>>()
    });
    let c = randn::<Rank3<2, 1, 3>>(62);
    check("broadcast<0> [2, 1, 3] -> [2, 2, 1, 3]", &c, |c| {
        c.broadcast::<0, Rank4<2, 2, 1, 3>>()
    });
    check("broadcast<1> [2, 1, 3] -> [2, 3, 1, 3]", &c, |c| {
        c.broadcast::<1, Rank4<2, 3, 1, 3>>()
    });
    check("broadcast<2> [2, 1, 3] -> [2, 1, 2, 3]", &c, |c| {
        c.broadcast::<2, Rank4<2, 1, 2, 3>>()
    });
    check("broadcast<3> [2, 1, 3] -> [2, 1, 3, 2]", &c, |c| {
        c.broadcast::<3, Rank4<2, 1, 3, 2>>()
    });
}

#[test]
fn broadcast_to_a_runtime_batch() {
    let bias = randn::<Rank1<3>>(63);
    check("broadcast_to<0> [3] -> [usize 4, 3]", &bias, |b| {
        b.broadcast_to::<0, (usize, Dim<3>)>((4, Dim))
    });
    let r = Tensor::<f64, (usize,)>::randn_shaped((3,), 64, 0.0, 1.0);
    check("broadcast_to<1> [usize 3] -> [usize 3, 2]", &r, |r| {
        r.broadcast_to::<1, (usize, Dim<2>)>((3, Dim))
    });
}

#[test]
fn unroll_rank_1_and_channels() {
    let x = randn::<Rank1<6>>(70);
    check("unroll<3> [6]", &x, |x| x.unroll::<3>());
    check("unroll<1> [6]", &x, |x| x.unroll::<1>());
    check("unroll<6> [6]", &x, |x| x.unroll::<6>());
    let c = randn::<Rank2<2, 5>>(71);
    check("unroll<2> [2, 5]", &c, |c| c.unroll::<2>());
    check("unroll<4> [2, 5]", &c, |c| c.unroll::<4>());
    let r = Tensor::<f64, (usize,)>::randn_shaped((4,), 72, 0.0, 1.0);
    check("unroll<2> [usize 4]", &r, |r| r.unroll::<2>());
    // unroll then matmul is a convolution: check input and weight through both ops
    let w = randn::<Rank2<4, 3>>(73);
    check("unroll conv input", &c, |c| c.unroll::<2>().matmul(&w));
    check("unroll conv weight", &w, |w| c.unroll::<2>().matmul(w));
}

// ---------------------------------------------------------------------------------------------
// Chains
// ---------------------------------------------------------------------------------------------

/// `sum(sigmoid(x·w + b))`, `b` broadcast over the rows.
fn linear_sigmoid(
    x: &Tensor2<f64, 4, 3>,
    w: &Tensor2<f64, 3, 2>,
    b: &Tensor1<f64, 2>,
) -> Tensor0<f64> {
    (x.matmul(w) + b.broadcast::<0, Rank2<4, 2>>())
        .sigmoid()
        .sum_all()
}

#[test]
fn chain_sigmoid_of_matmul_plus_broadcast_bias() {
    let (x, w, b) = (randn(80), randn(81), randn(82));
    check("chain wrt x", &x, |x| linear_sigmoid(x, &w, &b));
    check("chain wrt w", &w, |w| linear_sigmoid(&x, w, &b));
    check("chain wrt b", &b, |b| linear_sigmoid(&x, &w, b));
}

/// A longer chain where intermediate values are used twice and pass through every kind of op.
fn long_chain(x: &Tensor2<f64, 4, 3>, w: &Tensor2<f64, 3, 2>) -> Tensor0<f64> {
    let h = x.matmul(w);
    let soft = h.exp().add_scalar(1.0).log(); // softplus
    let y = (h.tanh() * &soft).t(); // [2, 4]
    let z: Tensor3<f64, 2, 2, 2> = y.reshape();
    let p = z.permute::<2, 0, 1>().powi(2);
    let q = (&p / &soft.reshape::<Rank3<2, 2, 2>>().add_scalar(0.5)).max::<1>();
    q.broadcast::<0, Rank3<3, 2, 2>>()
        .mean::<0>()
        .relu()
        .neg()
        .sum_all()
}

#[test]
fn long_chain_of_mixed_ops() {
    let (x, w) = (randn(83), randn(84));
    assert!(long_chain(&x, &w).item().is_finite());
    check("long chain wrt x", &x, |x| long_chain(x, &w));
    check("long chain wrt w", &w, |w| long_chain(&x, w));
}

/// A batch of runtime size through `tanh(x·w + b)` summed over the batch.
fn batch_net(
    x: &Tensor<f64, (usize, Dim<3>)>,
    w: &Tensor2<f64, 3, 2>,
    b: &Tensor1<f64, 2>,
) -> Tensor1<f64, 2> {
    let n = x.shape().0;
    (x.matmul(w) + b.broadcast_to::<0, (usize, Dim<2>)>((n, Dim)))
        .tanh()
        .sum::<0>()
}

#[test]
fn runtime_batch_through_matmul_broadcast_and_sum() {
    let (w, b) = (randn(90), randn(91));
    for batch in [1, 5] {
        let x = Tensor::<f64, (usize, Dim<3>)>::randn_shaped((batch, Dim), 92, 0.0, 1.0);
        check(&format!("batch {batch} wrt x"), &x, |x| {
            batch_net(x, &w, &b)
        });
        check(&format!("batch {batch} wrt w"), &w, |w| {
            batch_net(&x, w, &b)
        });
        check(&format!("batch {batch} wrt b"), &b, |b| {
            batch_net(&x, &w, b)
        });
    }
}

// ---------------------------------------------------------------------------------------------
// The checker itself
// ---------------------------------------------------------------------------------------------

#[test]
fn gradcheck_reports_a_wrong_gradient() {
    let x = Tensor1::<f64, 3>::from_slice(&[1.0, 2.0, 3.0]).unwrap();
    // f(x) = x·x, but the detached factor hides one of the two terms: backward gives x, the
    // central difference 2x (each times the checker's random weight r_0)
    let err: GradcheckError = gradcheck("half square", &x, |x| x.detach() * x).unwrap_err();
    assert_eq!(err.op, "half square");
    assert_eq!(err.index, vec![0]);
    assert!(err.expected.abs() > 1e-3, "{err}");
    assert!((err.got - err.expected / 2.0).abs() < 1e-6, "{err}");
    assert!(
        err.to_string()
            .starts_with("gradcheck half square: at index [0], central difference gives "),
        "{err}"
    );
    // no gradient at all where the function does depend on x
    let err = gradcheck("detached", &x, |x| x.detach().exp()).unwrap_err();
    assert_eq!(err.got, 0.0);
    assert!(err.expected.abs() > 1e-3, "{err}");
}

#[test]
fn gradcheck_names_the_multi_index() {
    // only element [1, 2] has a wrong gradient: backward sees x + c, the value is x + c·x[1,2]²
    let x = randn::<Rank2<2, 3>>(99).map_values(|v| v + 3.0);
    let err = gradcheck("one bad element", &x, |x| {
        let mask = Tensor2::<f64, 2, 3>::from_fn(|i| if i == [1, 2] { 1.0 } else { 0.0 });
        let bump = (&mask * x).detach() * &mask * x.detach();
        x + &bump
    })
    .unwrap_err();
    assert_eq!(err.index, vec![1, 2]);
}

// ---------------------------------------------------------------------------------------------
// Accumulation: every backward adds to a gradient that is already there
// ---------------------------------------------------------------------------------------------

/// `sum(op(x)) + sum(x²)`: the second term is recorded later, so its backward runs first and
/// `op`'s backward must add to the gradient it left, not overwrite it.
macro_rules! check_accumulates {
    ($x:expr, $($name:literal: $op:expr),+ $(,)?) => {{
        let x = &$x;
        $(
            check(concat!($name, " accumulates"), x, |x| {
                #[allow(clippy::redundant_closure_call)]
                let y = ($op)(x);
                y.sum_all() + x.powi(2).sum_all()
            });
        )+
    }};
}

#[test]
fn every_backward_adds_to_an_existing_gradient() {
    type M = Tensor2<f64, 3, 3>;
    let x = away_from_zero::<Rank2<3, 3>>(100);
    let c = randn::<Rank2<3, 3>>(101);
    check_accumulates!(x,
        "neg": |x: &M| x.neg(),
        "exp": |x: &M| x.exp(),
        "log": |x: &M| x.powi(2).log(),
        "relu": |x: &M| x.relu(),
        "sigmoid": |x: &M| x.sigmoid(),
        "tanh": |x: &M| x.tanh(),
        "powi": |x: &M| x.powi(3),
        "add_scalar": |x: &M| x.add_scalar(1.0),
        "mul_scalar": |x: &M| x.mul_scalar(2.0),
        "add lhs": |x: &M| x + &c,
        "sub rhs": |x: &M| &c - x,
        "mul lhs": |x: &M| x * &c,
        "div rhs": |x: &M| &c / x,
        "sum::<0>": |x: &M| x.sum::<0>(),
        "mean::<1>": |x: &M| x.mean::<1>(),
        "max::<1>": |x: &M| x.max::<1>(),
        "mean_all": |x: &M| x.mean_all(),
        "matmul lhs": |x: &M| x.matmul(&c),
        "matmul rhs": |x: &M| c.matmul(x),
        "reshape": |x: &M| x.reshape::<Rank1<9>>(),
        "t": |x: &M| x.t(),
        "broadcast": |x: &M| x.broadcast::<1, Rank3<3, 2, 3>>(),
        "unroll": |x: &M| x.unroll::<2>(),
    );
    type B = Tensor3<f64, 2, 2, 2>;
    let y = randn::<Rank3<2, 2, 2>>(102);
    let d = randn::<Rank3<2, 2, 2>>(103);
    check_accumulates!(y,
        "bmm lhs": |y: &B| y.bmm(&d),
        "bmm rhs": |y: &B| d.bmm(y),
        "permute": |y: &B| y.permute::<2, 0, 1>(),
    );
}
