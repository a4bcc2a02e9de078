//! A user-defined op outside the crate, recorded with `Tensor::from_op` exactly like the
//! built-in ones: forward values, a backward closure that adds into its inputs' gradients,
//! checked by central differences.

use shapetorch::prelude::*;

/// `hypot(a, b) = sqrt(a² + b²)`, elementwise, with
/// `d/da = a / hypot`, `d/db = b / hypot`.
fn hypot<S: Shape>(a: &Tensor<f64, S>, b: &Tensor<f64, S>) -> Tensor<f64, S> {
    let y: Vec<f64> = a
        .as_slice()
        .iter()
        .zip(b.as_slice())
        .map(|(a, b)| a.hypot(*b))
        .collect();
    // What the backward pass reads: both inputs and the output (shared handles, no copies).
    let (a_values, b_values) = (a.storage(), b.storage());
    let (a_id, b_id) = (
        a.is_traced().then_some(a.id()),
        b.is_traced().then_some(b.id()),
    );
    let y_values = y.clone();
    Tensor::from_op("hypot", *a.shape(), y, &[a, b], move |grad_y, grads| {
        let len = grad_y.len();
        if let Some(id) = a_id {
            let grad_a = grads.accumulator(id, len);
            for i in 0..len {
                grad_a[i] += grad_y[i] * a_values[i] / y_values[i];
            }
        }
        if let Some(id) = b_id {
            let grad_b = grads.accumulator(id, len);
            for i in 0..len {
                grad_b[i] += grad_y[i] * b_values[i] / y_values[i];
            }
        }
    })
}

#[test]
fn a_custom_op_has_correct_values_and_gradients_in_each_input() {
    let a = Tensor2::<f64, 2, 3>::from_slice(&[3.0, 5.0, -8.0, 1.0, 2.0, 0.5]).unwrap();
    let b = Tensor2::<f64, 2, 3>::from_slice(&[4.0, 12.0, 15.0, -1.0, 0.3, 2.0]).unwrap();
    assert_eq!(hypot(&a, &b).to_vec()[..3], [5.0, 13.0, 17.0]);
    gradcheck("hypot in a", &a, |a| hypot(a, &b)).unwrap();
    gradcheck("hypot in b", &b, |b| hypot(&a, b)).unwrap();
}

#[test]
fn a_custom_op_composes_with_built_in_ops_on_one_tape() {
    let tape = Tape::new();
    let a = Tensor1::<f64, 2>::from_slice(&[3.0, 6.0])
        .unwrap()
        .trace(&tape);
    let b = Tensor1::<f64, 2>::from_slice(&[4.0, 8.0]).unwrap(); // a constant
    let loss = hypot(&a.mul_scalar(2.0), &b).sum_all(); // sqrt(4a² + b²)
    assert!(loss.is_traced());
    let grads = loss.backward();
    // d/da sqrt(4a² + b²) = 4a / sqrt(4a² + b²): 12/sqrt(52), 24/sqrt(208)
    let g = grads.get(&a).unwrap().to_vec();
    assert!((g[0] - 12.0 / 52f64.sqrt()).abs() < 1e-12, "{g:?}");
    assert!((g[1] - 24.0 / 208f64.sqrt()).abs() < 1e-12, "{g:?}");
    // Untraced inputs record nothing, as for built-in ops.
    assert!(!hypot(&b, &b).is_traced());
    assert!(tape.is_empty());
}

/// A custom op whose backward pass adds a gradient one element short: `backward()` stops in
/// that pass, naming the op and both lengths (it used to go on, and a later op or
/// `grads.get` panicked without saying which op was wrong).
fn sum_with_a_short_gradient<S: Shape>(x: &Tensor<f64, S>) -> Tensor<f64, ()> {
    let (x_id, len) = (x.id(), x.numel());
    let total = x.as_slice().iter().sum::<f64>();
    Tensor::from_op("short_sum", (), vec![total], &[x], move |grad_y, grads| {
        for g in grads.accumulator(x_id, len - 1) {
            *g += grad_y[0];
        }
    })
}

#[test]
#[should_panic(
    expected = "autodiff: the backward pass of `short_sum` adds a gradient of 2 elements to an \
                input of 3 elements"
)]
fn a_custom_op_with_a_gradient_of_the_wrong_length_is_named_when_backward_runs() {
    let tape = Tape::new();
    let x = Tensor1::<f64, 3>::ones().trace(&tape);
    sum_with_a_short_gradient(&x).backward();
}

#[test]
#[should_panic(expected = "the backward pass of `short_sum` adds a gradient of 2 elements")]
fn the_wrong_length_is_caught_on_a_computed_input_too() {
    let tape = Tape::new();
    let x = Tensor1::<f64, 3>::ones().trace(&tape);
    // the wrong gradient would reach `exp`'s backward pass, a built-in op
    sum_with_a_short_gradient(&x.exp()).backward();
}

/// `trace()` on a computed tensor: its gradient is kept for `grads.get` and still flows to
/// the tensors it was computed from (PyTorch's `retain_grad()`). It used to be lost: the
/// tensor kept the id of its op's output, whose gradient the backward walk consumes.
#[test]
fn trace_on_a_computed_tensor_keeps_its_gradient_and_the_inputs_gradients() {
    let tape = Tape::new();
    let x = Tensor1::<f64, 3>::from_slice(&[0.5, -1.0, 2.0])
        .unwrap()
        .trace(&tape);
    let h = x.exp().trace(&tape);
    let loss = (&h * &h).sum_all(); // sum(e^2x)
    let grads = loss.backward();
    let h_values = h.to_vec();
    let grad_h = grads.get(&h).expect("the computed tensor's gradient");
    let grad_x = grads.get(&x).expect("the input's gradient");
    for (i, &h) in h_values.iter().enumerate() {
        // d/dh sum(h²) = 2h; d/dx = 2h · e^x = 2h²
        assert!((grad_h.as_slice()[i] - 2.0 * h).abs() < 1e-12);
        assert!((grad_x.as_slice()[i] - 2.0 * h * h).abs() < 1e-12);
    }
    // the next step starts afresh: a tensor of the last step traced again is a plain leaf
    let again = h.trace(&tape);
    let grads = again.sum_all().backward();
    assert_eq!(grads.get(&again).unwrap().to_vec(), vec![1.0; 3]);
    assert!(grads.get(&x).is_none());
    // untraced values computed from constants become leaves, as before
    let c = Tensor1::<f64, 3>::ones().exp().trace(&tape);
    let grads = c.mul_scalar(2.0).sum_all().backward();
    assert_eq!(grads.get(&c).unwrap().to_vec(), vec![2.0; 3]);
}
