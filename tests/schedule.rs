//! Learning-rate schedules and gradient clipping against PyTorch: the values recorded by
//! `tests/data/schedule_reference.py` (PyTorch 2.15, float64) in
//! `tests/data/schedule_reference.json`, compared step by step.

use serde_json::Value;
use shapetorch::nn::Visitor;
use shapetorch::optim::{clip_grad_norm, AnnealStrategy};
use shapetorch::prelude::*;

fn reference() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/schedule_reference.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The schedule a JSON case describes: PyTorch's class and keyword arguments. Arguments the
/// case leaves out keep this library's defaults, so the cases check those too.
fn schedule(spec: &Value) -> Schedule {
    let args = &spec["args"];
    let f = |k: &str| args.get(k).map(|v| v.as_f64().unwrap());
    let n = |k: &str| args.get(k).map(|v| v.as_u64().unwrap() as usize);
    let b = |k: &str| args.get(k).map(|v| v.as_bool().unwrap());
    let list = |k: &str| -> Vec<usize> {
        let values = args[k].as_array().unwrap();
        values
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect()
    };
    match spec["kind"].as_str().unwrap() {
        "StepLR" => {
            let mut s = StepLR::new(n("step_size").unwrap());
            if let Some(g) = f("gamma") {
                s = s.gamma(g);
            }
            s.into()
        }
        "MultiStepLR" => {
            let mut s = MultiStepLR::new(list("milestones"));
            if let Some(g) = f("gamma") {
                s = s.gamma(g);
            }
            s.into()
        }
        "ExponentialLR" => ExponentialLR::new(f("gamma").unwrap()).into(),
        "CosineAnnealingLR" => {
            let mut s = CosineAnnealingLR::new(n("T_max").unwrap());
            if let Some(e) = f("eta_min") {
                s = s.eta_min(e);
            }
            s.into()
        }
        "LinearLR" => {
            let mut s = LinearLR::new();
            if let Some(x) = f("start_factor") {
                s = s.start_factor(x);
            }
            if let Some(x) = f("end_factor") {
                s = s.end_factor(x);
            }
            if let Some(x) = n("total_iters") {
                s = s.total_iters(x);
            }
            s.into()
        }
        "OneCycleLR" => {
            let max_lr = f("max_lr").unwrap();
            let mut s = match n("total_steps") {
                Some(total) => OneCycleLR::new(max_lr, total),
                None => OneCycleLR::with_epochs(
                    max_lr,
                    n("epochs").unwrap(),
                    n("steps_per_epoch").unwrap(),
                ),
            };
            if let Some(x) = f("pct_start") {
                s = s.pct_start(x);
            }
            if let Some(x) = args.get("anneal_strategy") {
                let strategy = match x.as_str().unwrap() {
                    "cos" => AnnealStrategy::Cos,
                    "linear" => AnnealStrategy::Linear,
                    other => panic!("anneal_strategy {other}"),
                };
                s = s.anneal_strategy(strategy);
            }
            if let Some(x) = b("cycle_momentum") {
                s = s.cycle_momentum(x);
            }
            if f("base_momentum").is_some() || f("max_momentum").is_some() {
                let base = f("base_momentum").unwrap_or(0.85);
                s = s.momentum_range(base, f("max_momentum").unwrap_or(0.95));
            }
            if let Some(x) = f("div_factor") {
                s = s.div_factor(x);
            }
            if let Some(x) = f("final_div_factor") {
                s = s.final_div_factor(x);
            }
            if let Some(x) = b("three_phase") {
                s = s.three_phase(x);
            }
            s.into()
        }
        "SequentialLR" => {
            let schedulers = args["schedulers"].as_array().unwrap();
            SequentialLR::new(
                schedulers.iter().map(schedule).collect(),
                list("milestones"),
            )
            .into()
        }
        other => panic!("no schedule {other}"),
    }
}

/// The optimiser of a case: SGD with momentum 0.9 or Adam (β1 0.9), as the script's.
fn optimizer(case: &Value) -> Box<dyn Optimizer<f64>> {
    let lr = case["lr"].as_f64().unwrap();
    match case["optimizer"].as_str().unwrap() {
        "sgd" => Box::new(Sgd::new(lr).momentum(0.9)),
        _ => Box::new(Adam::new(lr)),
    }
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

/// `got` equals PyTorch's `want` to 1e-13 relative (serde_json's float parsing may be one
/// ulp off the text; the schedules compute with PyTorch's operations in PyTorch's order).
fn assert_close(case: &str, what: &str, step: usize, got: f64, want: f64) {
    assert!(
        (got - want).abs() <= 1e-13 * want.abs() + 1e-300,
        "{case}: {what} at step {step}: PyTorch {want}, got {got}"
    );
}

/// The bits of PyTorch's `f64`s, as the script records them beside the values (parsing the
/// decimal text could be one ulp off).
fn bits(v: &Value) -> Vec<u64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap())
        .collect()
}

/// Bit for bit: the schedules compute with PyTorch's operations, in PyTorch's order, on the
/// same libm (`cos`, `pow`).
#[test]
fn every_schedule_gives_pytorchs_learning_rate_and_momentum_at_every_step() {
    let reference = reference();
    let cases = reference["schedules"].as_array().unwrap();
    assert!(cases.len() >= 20);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let (lrs, momenta) = (bits(&case["lr_bits"]), bits(&case["momentum_bits"]));
        assert_eq!(lrs.len(), case["steps"].as_u64().unwrap() as usize + 1);
        let mut opt = optimizer(case);
        let mut s = LrScheduler::new(&mut *opt, schedule(&case["schedule"]))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        for step in 0..lrs.len() {
            if step > 0 {
                s.step(&mut *opt);
            }
            let (lr, want) = (s.lr(), f64::from_bits(lrs[step]));
            assert_eq!(
                lr.to_bits(),
                lrs[step],
                "{name}: lr at step {step}: PyTorch {want}, got {lr}"
            );
            assert_eq!(opt.lr(), lr, "{name}: the optimizer's lr at step {step}");
            let (m, want) = (opt.momentum().unwrap(), f64::from_bits(momenta[step]));
            assert_eq!(
                m.to_bits(),
                momenta[step],
                "{name}: momentum at step {step}: PyTorch {want}, got {m}"
            );
            assert_eq!(s.last_epoch(), step as i64);
        }
    }
}

#[test]
fn an_f32_optimizer_gets_the_schedule_rounded_to_f32() {
    let reference = reference();
    let case = &reference["schedules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "sequential_warm_up_cosine")
        .unwrap()
        .clone();
    let lrs = floats(&case["lrs"]);
    let mut sgd = Sgd::<f32>::new(0.1).momentum(0.9);
    let mut s = LrScheduler::new(&mut sgd, schedule(&case["schedule"])).unwrap();
    for (step, &want) in lrs.iter().enumerate() {
        if step > 0 {
            s.step(&mut sgd);
        }
        assert_eq!(sgd.lr, s.lr() as f32);
        // the base is 0.1f32 widened: 1.5e-8 relative from PyTorch's 0.1
        assert!(((sgd.lr as f64) - want).abs() <= 1e-7 * want, "step {step}");
    }
}

/// Parameters p [3, 2], q [3], r [2, 2] with gradients, and s [2] without (as the script's).
struct Four {
    p: Tensor2<f64, 3, 2>,
    q: Tensor1<f64, 3>,
    r: Tensor2<f64, 2, 2>,
    s: Tensor1<f64, 2>,
}

impl Module<f64> for Four {
    fn visit(&mut self, visitor: &mut Visitor<'_, f64>) {
        visitor.param("p", &mut self.p);
        visitor.param("q", &mut self.q);
        visitor.param("r", &mut self.r);
        visitor.param("s", &mut self.s);
    }
}

#[test]
fn clipping_gives_pytorchs_norm_and_clipped_gradients() {
    let reference = reference();
    let cases = reference["clipping"].as_array().unwrap();
    assert!(cases.len() >= 7);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let grad = |k: &str| floats(&case["grads"][k]);
        let tape = Tape::new();
        let mut m = Four {
            p: Tensor2::zeros(),
            q: Tensor1::zeros(),
            r: Tensor2::zeros(),
            s: Tensor1::ones(),
        };
        m.trace(&tape);
        // d/dx sum(x · c) = c: the gradients are the recorded ones, exactly
        let loss = (&m.p * &Tensor2::from_slice(&grad("p")).unwrap()).sum_all()
            + (&m.q * &Tensor1::from_slice(&grad("q")).unwrap()).sum_all()
            + (&m.r * &Tensor2::from_slice(&grad("r")).unwrap()).sum_all();
        let mut grads = loss.backward();
        let norm_type = match &case["norm_type"] {
            Value::String(s) if s == "inf" => f64::INFINITY,
            v => v.as_f64().unwrap(),
        };
        let max_norm = case["max_norm"].as_f64().unwrap();
        let norm = clip_grad_norm(&mut m, &mut grads, max_norm, norm_type);
        assert_close(
            name,
            "total norm",
            0,
            norm,
            case["total_norm"].as_f64().unwrap(),
        );
        let clipped = [
            grads.get(&m.p).unwrap().to_vec(),
            grads.get(&m.q).unwrap().to_vec(),
            grads.get(&m.r).unwrap().to_vec(),
        ];
        for (k, got) in ["p", "q", "r"].iter().zip(clipped) {
            let want = floats(&case["clipped"][*k]);
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                assert_close(name, &format!("clipped {k}"), i, *g, *w);
            }
        }
        assert!(grads.get(&m.s).is_none(), "s has no gradient and gets none");
    }
}

/// A gradient holding infinity: the norm is infinite, the coefficient 0, and the gradients
/// become 0 (NaN where infinite), as in PyTorch (`error_if_nonfinite=False`); a NaN makes
/// everything NaN. Callers check the returned norm to skip such a step.
#[test]
fn a_non_finite_gradient_gives_a_non_finite_norm_as_in_pytorch() {
    for (bad, norm_type) in [
        (f64::INFINITY, 2.0),
        (f64::NAN, 2.0),
        (f64::NAN, f64::INFINITY),
    ] {
        let tape = Tape::new();
        let mut m = Four {
            p: Tensor2::zeros(),
            q: Tensor1::zeros(),
            r: Tensor2::zeros(),
            s: Tensor1::zeros(),
        };
        m.trace(&tape);
        let c = Tensor1::<f64, 3>::from_slice(&[1.0, bad, 2.0]).unwrap();
        let mut grads = (&m.q * &c).sum_all().backward();
        let norm = clip_grad_norm(&mut m, &mut grads, 1.0, norm_type);
        let q = grads.get(&m.q).unwrap().to_vec();
        if bad.is_nan() {
            assert!(norm.is_nan() && q.iter().all(|g| g.is_nan()), "{q:?}");
        } else {
            assert_eq!(norm, f64::INFINITY);
            assert!(q[0] == 0.0 && q[1].is_nan() && q[2] == 0.0, "{q:?}");
        }
    }
}
