//! Models built from layers train: a two-layer perceptron fits a synthetic task (its loss falls
//! more than tenfold in a few hundred Adam steps), and train/eval mode reaches every layer.

use shapetorch::prelude::*;

shapetorch::model! {
    /// Two layers: 2 → 32 → 1.
    struct TwoLayer {
        fc1: Linear<f64, 2, 32>,
        fc2: Linear<f64, 32, 1>,
    }
}

impl TwoLayer {
    fn forward<B: Dimension>(&self, x: Tensor<f64, (B, Dim<2>)>) -> Tensor<f64, (B, Dim<1>)> {
        self.fc2.forward(self.fc1.forward(x).tanh())
    }
}

#[test]
fn a_two_layer_model_fits_a_synthetic_task() {
    // y = sin(2 x0) * x1 on 256 random points in [-1, 1]²: not linear, so the hidden layer
    // must do the work.
    let n = 256;
    let x = Tensor::<f64, (usize, Dim<2>)>::rand_uniform_shaped((n, Dim), 1, -1.0, 1.0);
    let y = Tensor::<f64, (usize, Dim<1>)>::from_fn_shaped((n, Dim), |[i, _]| {
        (2.0 * x[[i, 0]]).sin() * x[[i, 1]]
    });
    let mut model = TwoLayer::new(3);
    let tape = Tape::new();
    model.trace(&tape);
    let mut adam = Adam::new(0.01);
    let mut losses = Vec::new();
    for _ in 0..300 {
        let loss = (&model.forward(x.clone()) - &y).powi(2).mean_all();
        losses.push(loss.item());
        adam.step(&mut model, &loss.backward());
    }
    let (first, last) = (losses[0], losses[299]);
    assert!(
        last < first / 10.0,
        "the loss fell from {first} to only {last}"
    );
    // Evaluation on the same inputs, with nothing recorded.
    let _no_grad = tape.no_grad();
    let pred = model.forward(x.clone());
    assert!(!pred.is_traced());
    let mse = (&pred - &y).powi(2).mean_all().item();
    assert!(
        (mse - last).abs() < last,
        "evaluation agrees with the last training loss"
    );
}
