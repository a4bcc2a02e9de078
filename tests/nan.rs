//! NaN as PyTorch treats it: every reduction, pooling, activation and loss against PyTorch's
//! own results on slices and windows with the NaN first, in the middle, last, twice, and on
//! windows of `-inf` (`tests/data/nan_reference.json`, written by
//! `tests/data/nan_reference.py`), forward and backward, in f64 and f32. Dropout, whose mask
//! PyTorch draws from its own generator, is checked by its rule: a dropped NaN stays NaN.
//!
//! PyTorch's rules, as the file shows them: `max(x, dim)` and `argmax` stop at the first NaN
//! (its index, and the gradient, go there); max pooling keeps a NaN once it has one and moves
//! to each later NaN (the gradient goes to the last NaN of the window); `relu(NaN)` is NaN and
//! passes the gradient; sums, means, softmax and the losses propagate NaN.

use serde_json::Value;
use shapetorch::prelude::*;

/// One array of the file; `"nan"`, `"inf"` and `"-inf"` stand for what JSON cannot hold.
struct Array {
    shape: Vec<usize>,
    data: Vec<f64>,
}

struct Case {
    name: String,
    x: Array,
    y: Array,
    grad_x: Array,
    index: Option<Vec<usize>>,
}

fn value(v: &Value) -> f64 {
    match v {
        Value::String(s) if s == "nan" => f64::NAN,
        Value::String(s) if s == "inf" => f64::INFINITY,
        Value::String(s) if s == "-inf" => f64::NEG_INFINITY,
        v => v.as_f64().expect("a number or nan/inf/-inf"),
    }
}

fn array(v: &Value) -> Array {
    let shape: Vec<usize> = v["shape"]
        .as_array()
        .expect("a shape")
        .iter()
        .map(|d| d.as_u64().expect("a dim") as usize)
        .collect();
    let data: Vec<f64> = v["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(value)
        .collect();
    assert_eq!(shape.iter().product::<usize>(), data.len());
    Array { shape, data }
}

/// The case whose `op` is `op`.
fn case(op: &str) -> Case {
    let text = include_str!("data/nan_reference.json");
    let file: Value = serde_json::from_str(text).expect("valid JSON");
    let c = file["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .find(|c| c["op"] == op)
        .unwrap_or_else(|| panic!("no case {op} in nan_reference.json"));
    Case {
        name: c["name"].as_str().expect("a name").to_string(),
        x: array(&c["x"]),
        y: array(&c["y"]),
        grad_x: array(&c["grad_x"]),
        index: c.get("index").map(|i| {
            i["data"]
                .as_array()
                .expect("index data")
                .iter()
                .map(|v| v.as_u64().expect("an index") as usize)
                .collect()
        }),
    }
}

/// `got` equals `expected` value for value: NaN where NaN, infinities exactly, numbers within
/// `tol * max(1, |expected|)`. Panics naming the case, the part and the first difference.
fn assert_same<E: Element>(name: &str, part: &str, expected: &Array, dims: &[usize], got: &[E]) {
    assert_eq!(dims, expected.shape, "{name}: shape of {part}");
    let tol = if size_of::<E>() == 4 { 1e-6 } else { 1e-12 };
    for (i, (&e, &g)) in expected.data.iter().zip(got).enumerate() {
        let g = g.to_f64().unwrap();
        let same = if e.is_nan() {
            g.is_nan()
        } else if e.is_infinite() {
            g == e
        } else {
            (g - e).abs() <= tol * e.abs().max(1.0) && g.is_sign_negative() == e.is_sign_negative()
        };
        assert!(
            same,
            "{name} ({}): {part}[{i}] is {g}, PyTorch gives {e}\n  got      {got:?}\n  expected {:?}",
            std::any::type_name::<E>(),
            expected.data
        );
    }
}

/// Runs `op` on the case's input (traced, of shape `S` built from the file's sizes) and
/// compares its result and the gradient of `sum(y)` with PyTorch's.
fn check<E: Element, S: Shape, So: Shape>(c: &Case, op: impl Fn(&Tensor<E, S>) -> Tensor<E, So>) {
    let tape = Tape::new();
    let data = c.x.data.iter().map(|&v| E::of(v)).collect();
    let x = Tensor::<E, S>::from_dims(&c.x.shape, data)
        .unwrap_or_else(|e| panic!("{}: {e}", c.name))
        .trace(&tape);
    let y = op(&x);
    assert_same(&c.name, "y", &c.y, y.dims().as_ref(), y.as_slice());
    let grads = y.sum_all().backward();
    let grad = grads.get(&x).unwrap_or_else(|| x.map_values(|_| E::zero()));
    assert_same(
        &c.name,
        "grad_x",
        &c.grad_x,
        grad.dims().as_ref(),
        grad.as_slice(),
    );
}

/// [`check`] in f64 and in f32.
macro_rules! check_both {
    ($c:expr, $shape:ty, |$x:ident| $op:expr) => {{
        let c = &$c;
        check::<f64, $shape, _>(c, |$x| $op);
        check::<f32, $shape, _>(c, |$x| $op);
    }};
}

type Rows = (usize, Dim<3>);

#[test]
fn max_over_an_axis_takes_the_first_nan_and_sends_it_the_gradient() {
    check_both!(case("max1"), Rows, |x| x.max::<1>());
    check_both!(case("max0"), (Dim<3>, usize), |x| x.max::<0>());
}

#[test]
fn argmax_points_at_the_first_nan() {
    let c = case("argmax1");
    let x = Tensor::<f64, Rows>::from_dims(&c.x.shape, c.x.data.clone()).unwrap();
    assert_eq!(x.argmax::<1, 3>().to_vec(), c.index.unwrap(), "{}", c.name);
    // the f32 copy too (argmax has no gradient)
    let x32 =
        Tensor::<f32, Rows>::from_dims(&c.x.shape, c.x.data.iter().map(|&v| v as f32).collect())
            .unwrap();
    assert_eq!(x32.argmax::<1, 3>().to_vec(), x.argmax::<1, 3>().to_vec());
    // and max's own indices agree: the gradient of max went to them
    let m = case("max1");
    assert_eq!(m.index.unwrap(), x.argmax::<1, 3>().to_vec());
}

#[test]
fn max_pooling_keeps_a_nan_and_sends_the_gradient_to_the_last_one() {
    type Seq = (Dim<1>, usize, Dim<3>);
    check_both!(case("max_pool1d_3"), Seq, |x| x.max_pool1d::<3>());
    check_both!(case("max_pool1d_2_1_1"), Seq, |x| x
        .max_pool1d_with(Pool1d::<2, 1, 1>));
    type Planes = (Dim<1>, usize, Dim<2>, Dim<2>);
    check_both!(case("max_pool2d_2"), Planes, |x| x.max_pool2d::<2, 2>());
    type Planes3 = (Dim<1>, usize, Dim<3>, Dim<3>);
    check_both!(case("max_pool2d_3_1_1"), Planes3, |x| x
        .max_pool2d_with(Pool2d::<3, 3, 1, 1, 1, 1>));
}

#[test]
fn average_pooling_sums_and_means_propagate_nan() {
    check_both!(case("avg_pool1d_2"), (Dim<1>, usize, Dim<3>), |x| x
        .avg_pool1d_with(Pool1d::<2, 1, 1>));
    check_both!(case("sum1"), Rows, |x| x.sum::<1>());
    check_both!(case("mean1"), Rows, |x| x.mean::<1>());
    check_both!(case("sum_all"), Rows, |x| x.sum_all());
    check_both!(case("mean_all"), Rows, |x| x.mean_all());
}

#[test]
fn activations_pass_nan_through_and_relu_passes_its_gradient() {
    check_both!(case("relu"), (usize,), |x| x.relu());
    check_both!(case("sigmoid"), (usize,), |x| x.sigmoid());
    check_both!(case("tanh"), (usize,), |x| x.tanh());
}

#[test]
fn softmax_and_the_losses_make_a_slice_with_a_nan_all_nan() {
    check_both!(case("softmax1"), Rows, |x| x.softmax::<1>());
    check_both!(case("log_softmax1"), Rows, |x| x.log_softmax::<1>());
    let labels = |n: usize| {
        IndexTensor::<(usize,), 3>::from_vec_shaped((n,), (0..n).map(|i| i % 3).collect()).unwrap()
    };
    check_both!(case("cross_entropy"), Rows, |x| x
        .cross_entropy(&labels(x.dims()[0])));
    check_both!(case("nll_loss"), Rows, |x| x.nll_loss(&labels(x.dims()[0])));
}

/// PyTorch's dropout multiplies by the mask (`F.dropout` of NaN gives NaN at every position,
/// dropped or kept, and a dropped infinity becomes NaN); its gradient is the mask times
/// `1 / (1 - p)`, finite. The mask here comes from this crate's generator, so the check is the
/// rule, position by position, with the mask read off a finite twin of the input.
#[test]
fn dropout_keeps_nan_where_it_drops_and_its_gradient_stays_finite() {
    let nan = f64::NAN;
    let inf = f64::INFINITY;
    let values: Vec<f64> = (0..64)
        .map(|i| match i % 4 {
            0 => nan,
            1 => inf,
            2 => -inf,
            _ => 1.5,
        })
        .collect();
    for p in [0.5, 1.0] {
        let tape = Tape::new();
        let x = Tensor::<f64, (usize,)>::from_vec_shaped((64,), values.clone())
            .unwrap()
            .trace(&tape);
        let ones = Tensor::<f64, (usize,)>::ones_shaped((64,));
        // the same seed draws the same mask: 0 where dropped, 1/(1-p) where kept
        let mask = ones.dropout(p, &mut Rng::new(3), true);
        let y = x.dropout(p, &mut Rng::new(3), true);
        let grad = y.sum_all().backward().get(&x).unwrap();
        let dropped = mask.as_slice().iter().filter(|&&m| m == 0.0).count();
        assert!(dropped > 10, "p = {p}: {dropped} dropped");
        for (i, &x) in values.iter().enumerate() {
            let (y, m, g) = (y.as_slice()[i], mask.as_slice()[i], grad.as_slice()[i]);
            let expected = x * m; // NaN * 0 = NaN, inf * 0 = NaN, 1.5 * 0 = 0
            assert!(
                (y.is_nan() && expected.is_nan()) || y == expected,
                "p = {p}, [{i}]: dropout({x}) = {y}, expected {expected} (mask {m})"
            );
            assert_eq!(g, m, "p = {p}, [{i}]: the gradient is the mask");
        }
        if p == 1.0 {
            // everything dropped: NaN and the infinities become NaN, numbers 0
            assert!(y.as_slice().iter().step_by(4).all(|v| v.is_nan()));
            assert!(y.as_slice()[3..].iter().step_by(4).all(|&v| v == 0.0));
        }
    }
}
