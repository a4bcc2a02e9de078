//! The training step: parameters traced once keep their identity and their storage across
//! steps, the loss falls, and the tape rules (two losses, reuse after backward, evaluation,
//! two tapes, stale tensors) behave as `src/autodiff/mod.rs` documents.

use std::panic::{catch_unwind, AssertUnwindSafe};

use shapetorch::prelude::*;

type Input = Tensor<f32, (usize, Dim<1>, Dim<12>, Dim<12>)>;

/// A two-conv net: conv 1→4 (3×3, padding 1), ReLU, conv 4→1 (3×3, padding 1).
struct TwoConv {
    w1: Tensor4<f32, 4, 1, 3, 3>,
    b1: Tensor1<f32, 4>,
    w2: Tensor4<f32, 1, 4, 3, 3>,
}

impl TwoConv {
    fn new(seed: u64, scale: f32) -> Self {
        TwoConv {
            w1: Tensor4::randn(seed).mul_scalar(scale),
            b1: Tensor1::randn(seed + 1).mul_scalar(0.1),
            w2: Tensor4::randn(seed + 2).mul_scalar(scale),
        }
    }

    /// Traces every parameter on `tape`, once, before the first step.
    fn trace(&mut self, tape: &Tape<f32>) {
        self.w1 = self.w1.trace(tape);
        self.b1 = self.b1.trace(tape);
        self.w2 = self.w2.trace(tape);
    }

    fn forward(&self, x: &Input) -> Input {
        let h = x
            .conv2d_bias(&self.w1, &self.b1, ConvParams::<1, 1, 1>)
            .relu();
        h.conv2d(&self.w2, ConvParams::<1, 1, 1>)
    }

    /// The storage addresses of the parameters (to check that updates reuse them).
    fn addresses(&self) -> [*const f32; 3] {
        [
            self.w1.as_slice().as_ptr(),
            self.b1.as_slice().as_ptr(),
            self.w2.as_slice().as_ptr(),
        ]
    }
}

/// Mean squared error.
fn mse(y: &Input, target: &Input) -> Tensor0<f32> {
    (y - target).powi(2).mean_all()
}

#[test]
fn a_hundred_sgd_steps_reuse_the_parameters_and_the_loss_falls() {
    let x = Input::randn_shaped((8, Dim, Dim, Dim), 1, 0.0, 1.0);
    let teacher = TwoConv::new(100, 0.5);
    let target = teacher.forward(&x);

    let tape = Tape::new();
    let mut model = TwoConv::new(7, 0.3);
    model.trace(&tape);
    let ids = [model.w1.id(), model.b1.id(), model.w2.id()];
    let addresses = model.addresses();

    let lr = 0.05;
    let mut losses = Vec::new();
    for _ in 0..100 {
        let loss = mse(&model.forward(&x), &target);
        losses.push(loss.item());
        let mut grads = loss.backward();
        // The gradients move out of `grads` without a copy...
        let g1 = grads.take(&model.w1).expect("w1 has a gradient");
        let gb = grads.take(&model.b1).expect("b1 has a gradient");
        let g2 = grads.take(&model.w2).expect("w2 has a gradient");
        // ... and the parameters are updated in place, keeping their ids and their tape.
        model.w1.sub_assign_scaled(&g1, lr);
        model.b1.sub_assign_scaled(&gb, lr);
        model.w2.sub_assign_scaled(&g2, lr);
    }
    assert_eq!(ids, [model.w1.id(), model.b1.id(), model.w2.id()]);
    assert_eq!(
        addresses,
        model.addresses(),
        "every update reused the parameters' storage"
    );
    assert!(model.w1.is_traced() && model.w2.is_traced());
    let (first, last) = (losses[0], losses[99]);
    assert!(
        last < 0.2 * first,
        "the loss fell from {first} to only {last}: {losses:?}"
    );
    assert!(
        losses.windows(10).all(|w| w[9] < w[0]),
        "the loss did not keep falling: {losses:?}"
    );
    // The tape kept nothing from the last step.
    assert!(tape.is_empty());
    assert_eq!(tape.generation(), 100);
}

#[test]
fn taking_a_gradient_moves_its_buffer() {
    let tape = Tape::new();
    let w = Tensor1::<f64, 3>::from_slice(&[1.0, 2.0, 3.0])
        .unwrap()
        .trace(&tape);
    let mut grads = (&w * &w).sum_all().backward();
    let raw = grads.get_raw(w.id()).unwrap().as_ptr();
    let grad = grads.take(&w).unwrap();
    assert_eq!(grad.as_slice().as_ptr(), raw, "take() moved the buffer");
    assert_eq!(grad.to_vec(), vec![2.0, 4.0, 6.0]);
    assert!(grads.take(&w).is_none(), "a gradient is taken once");
}

#[test]
fn data_mut_copies_storage_that_is_still_shared() {
    let mut w = Tensor1::<f32, 2>::from_slice(&[1.0, 2.0]).unwrap();
    let old = w.clone();
    w.data_mut()[0] = 5.0;
    assert_eq!(
        old.to_vec(),
        vec![1.0, 2.0],
        "the clone keeps the old values"
    );
    assert_eq!(w.to_vec(), vec![5.0, 2.0]);
    assert_eq!(w.id(), old.id());
    let address = w.as_slice().as_ptr();
    drop(old);
    w.data_mut()[1] = 6.0;
    assert_eq!(
        w.as_slice().as_ptr(),
        address,
        "unshared storage is updated in place"
    );
}

#[test]
fn a_backward_closure_keeps_the_old_values_of_an_updated_parameter() {
    // y = w·x recorded, then w changed before backward: d/dx uses the w of the forward pass.
    let tape = Tape::new();
    let mut w = Tensor1::<f64, 2>::from_slice(&[3.0, 4.0])
        .unwrap()
        .trace(&tape);
    let x = Tensor1::<f64, 2>::from_slice(&[1.0, 1.0])
        .unwrap()
        .trace(&tape);
    let loss = (&w * &x).sum_all();
    w.data_mut().fill(0.0);
    let grads = loss.backward();
    assert_eq!(grads.get(&x).unwrap().to_vec(), vec![3.0, 4.0]);
}

/// The panic message of `f`.
fn panic_message(f: impl FnOnce()) -> String {
    let err = catch_unwind(AssertUnwindSafe(f)).expect_err("expected a panic");
    err.downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[test]
fn two_losses_on_one_tape_backward_once_on_their_sum() {
    let tape = Tape::new();
    let w = Tensor1::<f64, 2>::from_slice(&[1.0, 2.0])
        .unwrap()
        .trace(&tape);
    let a = (&w * &w).sum_all(); // d/dw = 2w
    let b = w.mul_scalar(3.0).sum_all(); // d/dw = 3
    let grads = (a + b).backward();
    assert_eq!(grads.get(&w).unwrap().to_vec(), vec![5.0, 7.0]);
}

#[test]
fn a_second_backward_on_a_consumed_tape_says_what_to_do() {
    let tape = Tape::new();
    let w = Tensor1::<f64, 2>::ones().trace(&tape);
    let a = w.exp().sum_all();
    let b = w.mul_scalar(2.0).sum_all();
    let grads = a.backward();
    assert!(grads.get(&w).is_some());
    let msg = panic_message(|| {
        b.backward();
    });
    assert!(
        msg.contains("computed before an earlier backward() on the same tape")
            && msg.contains("(a + b).backward()"),
        "{msg}"
    );
}

#[test]
fn a_tensor_from_before_backward_cannot_join_a_new_op() {
    let tape = Tape::new();
    let w = Tensor1::<f64, 2>::ones().trace(&tape);
    let hidden = w.exp();
    let _ = hidden.sum_all().backward();
    let msg = panic_message(|| {
        let _ = hidden.mul_scalar(2.0);
    });
    assert!(
        msg.contains("mul_scalar got a tensor computed before the last backward()")
            && msg.contains("detach()"),
        "{msg}"
    );
    // Detached, its values are a constant again.
    let y = (&hidden.detach() * &w).sum_all();
    assert_eq!(
        y.backward().get(&w).unwrap().to_vec(),
        vec![std::f64::consts::E; 2]
    );
}

#[test]
fn a_tape_is_reused_across_steps_and_leaves_stay_traced() {
    let tape = Tape::new();
    let w = Tensor1::<f64, 1>::from_slice(&[2.0]).unwrap().trace(&tape);
    for step in 0..3 {
        assert_eq!(tape.generation(), step);
        let grads = w.powi(3).sum_all().backward(); // 3w² = 12
        assert_eq!(grads.get(&w).unwrap().to_vec(), vec![12.0]);
    }
}

#[test]
fn evaluation_without_backward_works_and_no_grad_records_nothing() {
    let tape = Tape::new();
    let w = Tensor1::<f64, 2>::from_slice(&[1.0, -1.0])
        .unwrap()
        .trace(&tape);
    // Without no_grad: the forward pass works and its ops wait on the tape.
    let eval = w.relu().sum_all();
    assert_eq!(eval.item(), 1.0);
    assert_eq!(tape.len(), 2);
    // A training step afterwards is unaffected by them (they get no gradient) and drops them.
    let grads = w.exp().sum_all().backward();
    assert_eq!(
        grads.get(&w).unwrap().to_vec(),
        vec![1f64.exp(), (-1f64).exp()]
    );
    assert!(tape.is_empty());
    // With no_grad: nothing recorded, results untraced.
    {
        let _no_grad = tape.no_grad();
        let eval = w.relu().sum_all();
        assert!(!eval.is_traced());
        assert!(tape.is_empty());
    }
    assert!(w.relu().is_traced(), "recording resumes after the guard");
    // clear() drops recorded ops without a backward.
    tape.clear();
    assert!(tape.is_empty());
}

#[test]
fn two_tapes_in_one_op_say_what_to_do() {
    let (t1, t2) = (Tape::new(), Tape::new());
    let a = Tensor1::<f64, 2>::ones().trace(&t1);
    let b = Tensor1::<f64, 2>::ones().trace(&t2);
    let msg = panic_message(|| {
        let _ = &a * &b;
    });
    assert!(
        msg.contains("mul got tensors traced on two different tapes") && msg.contains("detach()"),
        "{msg}"
    );
}
