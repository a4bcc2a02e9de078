//! Sgd and Adam against PyTorch: three steps of `torch.optim.SGD`/`Adam`/`AdamW` on a small
//! problem, the parameters after them computed by PyTorch 2.15 (float64) and written below.
//! The script that produced them is in the comment above `REFERENCE`.

use shapetorch::nn::Visitor;
use shapetorch::prelude::*;

/// Two parameters, `p` [2, 3] and `q` [2].
struct Params {
    p: Tensor2<f64, 2, 3>,
    q: Tensor1<f64, 2>,
}

impl Module<f64> for Params {
    fn visit(&mut self, visitor: &mut Visitor<'_, f64>) {
        visitor.param("p", &mut self.p);
        visitor.param("q", &mut self.q);
    }
}

/// `loss = sum(p³) + sum(q · p[:, 0]) + (step + 1) · sum(q²)`.
fn loss(m: &Params, step: usize) -> Tensor0<f64> {
    let e0 = Tensor2::<f64, 3, 1>::from_slice(&[1.0, 0.0, 0.0]).unwrap();
    let column: Tensor1<f64, 2> = m.p.matmul(&e0).reshape(); // p[:, 0]
    m.p.powi(3).sum_all()
        + (&m.q * &column).sum_all()
        + m.q.powi(2).sum_all().mul_scalar((step + 1) as f64)
}

/// Runs three steps of `opt` and returns `p` and `q`, flattened.
fn three_steps(mut opt: impl Optimizer<f64>) -> Vec<f64> {
    let tape = Tape::new();
    let mut m = Params {
        p: Tensor2::from_slice(&[0.5, -1.0, 2.0, 0.0, 3.0, -0.25]).unwrap(),
        q: Tensor1::from_slice(&[1.0, -2.0]).unwrap(),
    };
    m.trace(&tape);
    for step in 0..3 {
        let grads = loss(&m, step).backward();
        opt.step(&mut m, &grads);
    }
    [m.p.to_vec(), m.q.to_vec()].concat()
}

// import torch; torch.set_default_dtype(torch.float64)
// p = Parameter([[0.5, -1, 2], [0, 3, -0.25]]); q = Parameter([1, -2])
// for s in range(3): zero_grad; ((p**3).sum() + (q*p[:,0]).sum() + (q**2).sum()*(s+1)).backward(); step
const REFERENCE: [(&str, [f64; 8]); 6] = [
    (
        "SGD(lr=0.01)",
        [
            0.4499459287371864,
            -1.09565129733787,
            1.67955912604928,
            0.05835898370768,
            2.3179498162029297,
            -0.25571033217654554,
            0.870646841875,
            -1.76928788,
        ],
    ),
    (
        "SGD(lr=0.01, momentum=0.9, weight_decay=0.1)",
        [
            0.4030111820534632,
            -1.1712742103214184,
            1.3803995467404113,
            0.10958551883088,
            1.6762357573514088,
            -0.2592265928249718,
            0.7847647111999999,
            -1.622359838,
        ],
    ),
    (
        "SGD(lr=0.01, momentum=0.8, nesterov=True)",
        [
            0.3835548028089847,
            -1.2392214427113128,
            1.2854976271134162,
            0.13736860210860205,
            1.5243412185009049,
            -0.263829977933803,
            0.7207768104669999,
            -1.5055903562879998,
        ],
    ),
    (
        "Adam(lr=0.1)",
        [
            0.2048372194897941,
            -1.300214720742941,
            1.7014877284518328,
            0.29892764675904476,
            2.700868606075927,
            -0.5417546643047213,
            0.702748094878704,
            -1.7059991733937616,
        ],
    ),
    (
        "Adam(lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.2)",
        [
            0.3514436063862663,
            -1.1507345672248173,
            1.8505438709189574,
            0.14960266955925258,
            2.850349441608812,
            -0.40038309777303205,
            0.849833377089329,
            -1.8506599287519792,
        ],
    ),
    (
        "AdamW(lr=0.05, weight_decay=0.1)",
        [
            0.3442355035157737,
            -1.1345671026056323,
            1.8212772135641186,
            0.1490414491896593,
            2.80622768205838,
            -0.39467112469029264,
            0.8378126495731403,
            -1.824244157837989,
        ],
    ),
];

fn check(case: usize, got: Vec<f64>) {
    let (name, expected) = REFERENCE[case];
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        assert!(
            (g - e).abs() <= 1e-12 * e.abs().max(1.0),
            "{name}: value {i}: PyTorch {e}, got {g}"
        );
    }
}

#[test]
fn sgd_matches_pytorch() {
    check(0, three_steps(Sgd::new(0.01)));
    check(
        1,
        three_steps(Sgd::new(0.01).momentum(0.9).weight_decay(0.1)),
    );
    check(2, three_steps(Sgd::new(0.01).momentum(0.8).nesterov(true)));
}

#[test]
fn adam_and_adamw_match_pytorch() {
    check(3, three_steps(Adam::new(0.1)));
    check(
        4,
        three_steps(Adam::new(0.05).betas(0.8, 0.99).eps(1e-6).weight_decay(0.2)),
    );
    check(5, three_steps(Adam::adamw(0.05, 0.1)));
}

#[test]
fn adam_counts_steps_per_parameter_and_skips_parameters_without_gradient() {
    let tape = Tape::new();
    let mut m = Params {
        p: Tensor2::ones(),
        q: Tensor1::ones(),
    };
    m.trace(&tape);
    let mut adam = Adam::new(0.1);
    // Only p is in this loss: q keeps its value and has taken no step.
    let grads = m.p.sum_all().backward();
    adam.step(&mut m, &grads);
    assert_eq!(adam.steps("p"), 1);
    assert_eq!(adam.steps("q"), 0);
    assert_eq!(m.q.to_vec(), vec![1.0, 1.0]);
    // Adam's first step moves every element by lr against the gradient's sign.
    assert!(m.p.as_slice().iter().all(|&v| (v - 0.9).abs() < 1e-9));
}

#[test]
fn an_update_keeps_the_parameters_storage() {
    let tape = Tape::new();
    let mut m = Params {
        p: Tensor2::ones(),
        q: Tensor1::ones(),
    };
    m.trace(&tape);
    let address = m.p.as_slice().as_ptr();
    let mut sgd = Sgd::new(0.1).momentum(0.9);
    for step in 0..5 {
        let grads = loss(&m, step).backward();
        sgd.step(&mut m, &grads);
    }
    assert_eq!(m.p.as_slice().as_ptr(), address);
}

shapetorch::model! {
    /// `fc.weight` is [3, 2].
    struct Narrow { fc: Linear<f64, 2, 3> }
}

shapetorch::model! {
    /// `fc.weight` is [3, 4]: the same name as `Narrow`'s, another shape.
    struct Wide { fc: Linear<f64, 4, 3> }
}

/// One step of `opt` on `model` (loss: the sum of its outputs on ones).
fn step_on<M: Module<f64>, const I: usize>(
    opt: &mut impl Optimizer<f64>,
    model: &mut M,
    forward: impl Fn(&M, Tensor2<f64, 1, I>) -> Tensor2<f64, 1, 3>,
) {
    let tape = Tape::new();
    model.trace(&tape);
    let grads = forward(model, Tensor2::ones()).sum_all().backward();
    opt.step(model, &grads);
}

/// Issue 17: one optimizer used on two models whose parameters share a name but not a shape
/// used to update 6 of `Wide`'s 12 weights with `Narrow`'s moments, silently. Now `step`
/// panics naming the parameter and both shapes.
#[test]
#[should_panic(
    expected = "its state for `fc.weight` was made for shape [3, 2], but the parameter has shape [3, 4]"
)]
fn adam_state_of_another_shape_panics_naming_the_parameter() {
    let mut adam = Adam::new(0.1);
    step_on(&mut adam, &mut Narrow::new(0), |m, x| m.fc.forward(x));
    step_on(&mut adam, &mut Wide::new(0), |m, x| m.fc.forward(x));
}

#[test]
#[should_panic(
    expected = "its state for `fc.weight` was made for shape [3, 2], but the parameter has shape [3, 4]"
)]
fn sgd_momentum_of_another_shape_panics_naming_the_parameter() {
    let mut sgd = Sgd::new(0.1).momentum(0.9);
    step_on(&mut sgd, &mut Narrow::new(0), |m, x| m.fc.forward(x));
    step_on(&mut sgd, &mut Wide::new(0), |m, x| m.fc.forward(x));
}

/// `try_step` returns the error instead, and changes nothing: not `fc.bias` either, whose
/// shape is the same in both models.
#[test]
fn try_step_on_state_of_another_shape_is_an_error_and_changes_nothing() {
    let mut adam = Adam::new(0.1);
    step_on(&mut adam, &mut Narrow::new(0), |m, x| m.fc.forward(x));
    let mut wide = Wide::new(0);
    let tape = Tape::new();
    wide.trace(&tape);
    let x = Tensor2::<f64, 1, 4>::ones();
    let grads = wide.fc.forward(x).sum_all().backward();
    let (weight, bias) = (wide.fc.weight.to_vec(), wide.fc.bias.to_vec());
    let err = adam.try_step(&mut wide, &grads).unwrap_err();
    assert_eq!(
        err,
        Error::OptimizerState {
            parameter: "fc.weight".into(),
            state: vec![3, 2],
            parameter_dims: vec![3, 4],
        }
    );
    assert_eq!(wide.fc.weight.to_vec(), weight);
    assert_eq!(wide.fc.bias.to_vec(), bias);
    assert_eq!((adam.steps("fc.weight"), adam.steps("fc.bias")), (1, 1));
    // a fresh optimiser steps the wide model
    let mut fresh = Adam::new(0.1);
    fresh.try_step(&mut wide, &grads).unwrap();
    assert_ne!(wide.fc.weight.to_vec(), weight);
}
