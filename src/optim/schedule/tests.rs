//! The schedules by hand (values worked out in the comments) and their errors; the
//! comparison with PyTorch at every step is `tests/schedule.rs`.

use super::*;
use crate::optim::{Adam, Sgd};

/// The learning rates of `steps` steps after construction (step 0 included).
fn lrs(schedule: impl Into<Schedule>, lr: f64, steps: usize) -> Vec<f64> {
    let mut sgd = Sgd::<f64>::new(lr).momentum(0.9);
    let mut s = LrScheduler::new(&mut sgd, schedule).unwrap();
    let mut out = vec![s.lr()];
    for _ in 0..steps {
        s.step(&mut sgd);
        assert_eq!(sgd.lr, s.lr());
        out.push(s.lr());
    }
    out
}

fn close(a: &[f64], b: &[f64]) {
    assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= 1e-12 * y.abs().max(1e-300),
            "step {i}: {x} vs {y}"
        );
    }
}

#[test]
fn step_decays_by_hand() {
    // 1, 1, 0.5, 0.5, 0.25: halved every 2 steps
    close(
        &lrs(StepLR::new(2).gamma(0.5), 1.0, 4),
        &[1.0, 1.0, 0.5, 0.5, 0.25],
    );
    // milestones 1 and 3 (3 listed twice: decays twice)
    close(
        &lrs(MultiStepLR::new([1, 3, 3]).gamma(0.5), 1.0, 4),
        &[1.0, 0.5, 0.5, 0.125, 0.125],
    );
    close(&lrs(ExponentialLR::new(0.5), 2.0, 2), &[2.0, 1.0, 0.5]);
}

#[test]
fn warm_up_and_cosine_by_hand() {
    // LinearLR 1/2 -> 1 over 2 steps: 0.5, 0.75, 1, 1
    close(
        &lrs(LinearLR::new().start_factor(0.5).total_iters(2), 1.0, 3),
        &[0.5, 0.75, 1.0, 1.0],
    );
    // cosine over 2 steps from 1 to 0: 1, (1 + cos(pi/2))/2 = 0.5, 0
    let c = lrs(CosineAnnealingLR::new(2), 1.0, 2);
    close(&c[..2], &[1.0, 0.5]);
    assert!(c[2].abs() < 1e-16);
}

#[test]
fn one_cycle_cycles_the_momentum_of_either_optimiser_and_stops_at_its_end() {
    let mut adam = Adam::<f64>::new(1.0);
    let mut s = LrScheduler::new(&mut adam, OneCycleLR::new(1.0, 10)).unwrap();
    // step 0: max_lr / 25, the momentum at its maximum
    assert!((adam.lr - 0.04).abs() < 1e-15 && (adam.beta1 - 0.95).abs() < 1e-15);
    for _ in 0..2 {
        s.step(&mut adam);
    }
    // step 2 = pct_start · 10 - 1: the peak, momentum at its base
    assert!((adam.lr - 1.0).abs() < 1e-15 && (adam.beta1 - 0.85).abs() < 1e-15);
    for _ in 2..10 {
        s.step(&mut adam);
    }
    let err = s.try_step(&mut adam).unwrap_err().to_string();
    assert!(err.contains("tried to step 11 times"), "{err}");
    assert_eq!(s.last_epoch(), 10, "the failed step changed nothing");
    let mut sgd = Sgd::<f64>::new(1.0);
    LrScheduler::new(&mut sgd, OneCycleLR::new(1.0, 10)).unwrap();
    assert_eq!(sgd.momentum, 0.95);
}

#[test]
#[should_panic(expected = "tried to step 3 times")]
fn stepping_one_cycle_past_its_end_panics() {
    let mut sgd = Sgd::<f64>::new(1.0);
    let mut s = LrScheduler::new(&mut sgd, OneCycleLR::new(1.0, 2)).unwrap();
    for _ in 0..3 {
        s.step(&mut sgd);
    }
}

#[test]
fn arguments_pytorch_rejects_or_that_divide_by_zero_are_errors() {
    let mut sgd = Sgd::<f64>::new(0.1);
    let mut err = |s: Schedule| LrScheduler::new(&mut sgd, s).unwrap_err().to_string();
    assert!(err(StepLR::new(0).into()).contains("step_size 0"));
    assert!(err(CosineAnnealingLR::new(0).into()).contains("T_max 0"));
    assert!(err(LinearLR::new().start_factor(0.0).into()).contains("start_factor 0"));
    assert!(err(LinearLR::new().end_factor(1.5).into()).contains("end_factor 1.5"));
    assert!(err(OneCycleLR::new(1.0, 0).into()).contains("total_steps 0"));
    assert!(err(OneCycleLR::new(1.0, 10).pct_start(1.5).into()).contains("pct_start 1.5"));
    assert!(err(OneCycleLR::new(1.0, 10).pct_start(0.1).into()).contains("first phase"));
    assert!(err(OneCycleLR::new(1.0, 10).pct_start(1.0).into()).contains("last phase"));
    let seq = |s: Vec<Schedule>, m: Vec<usize>| SequentialLR::new(s, m).into();
    assert!(err(seq(vec![], vec![])).contains("at least one"));
    let two = || vec![ExponentialLR::new(0.5).into(), StepLR::new(2).into()];
    assert!(err(seq(two(), vec![])).contains("2 schedulers and 0 milestones"));
    let three = vec![
        StepLR::new(1).into(),
        StepLR::new(1).into(),
        StepLR::new(1).into(),
    ];
    assert!(err(seq(three, vec![3, 3])).contains("must increase"));
    let nested = vec![StepLR::new(1).into(), seq(two(), vec![2])];
    assert!(err(seq(nested, vec![2])).contains("nest none"));
    let linear = vec![StepLR::new(1).into(), LinearLR::new().total_iters(0).into()];
    assert!(err(seq(linear, vec![2])).contains("total_iters 0"));
    assert_eq!(
        sgd.lr, 0.1,
        "a rejected schedule leaves the optimizer alone"
    );
}
