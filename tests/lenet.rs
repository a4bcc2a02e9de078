//! LeNet as a user writes it (design.md §5): layers in a `model!` struct, a hand-written
//! forward, a run-time batch through the whole model, no where-clause; one training step.

use shapetorch::prelude::*;

shapetorch::model! {
    /// LeNet-5: two convolutions with max pooling, three linear layers.
    pub struct LeNet {
        conv1: Conv2d<f32, 1, 6, 5, 5>,   // in, out, kernel h, kernel w
        conv2: Conv2d<f32, 6, 16, 5, 5>,
        fc1: Linear<f32, 256, 120>,
        fc2: Linear<f32, 120, 84>,
        fc3: Linear<f32, 84, 10>,
    }
}

impl LeNet {
    // The batch is a runtime dim; every other size is checked by the compiler.
    fn forward(
        &self,
        x: Tensor<f32, (usize, Dim<1>, Dim<28>, Dim<28>)>,
    ) -> Tensor<f32, (usize, Dim<10>)> {
        let x = self.conv1.forward(x).relu().max_pool2d::<2, 2>(); // [B, 6, 12, 12]
        let x = self.conv2.forward(x).relu().max_pool2d::<2, 2>(); // [B, 16, 4, 4]
        let x = x.flatten(); // [B, 256], computed
        self.fc3
            .forward(self.fc2.forward(self.fc1.forward(x).relu()).relu())
    }
}

#[test]
fn lenet_trains_one_step_at_a_runtime_batch_size() {
    let mut model = LeNet::new(0);
    assert_eq!(
        model.parameter_count(),
        (6 * 25 + 6) + (16 * 6 * 25 + 16) + (256 * 120 + 120) + (120 * 84 + 84) + (84 * 10 + 10)
    );
    let tape = Tape::new();
    model.trace(&tape);
    let mut adam = Adam::new(1e-3);
    for batch in [5usize, 3] {
        let x = Tensor::<f32, (usize, Dim<1>, Dim<28>, Dim<28>)>::randn_shaped(
            (batch, Dim, Dim, Dim),
            batch as u64,
            0.0,
            1.0,
        );
        let labels = IndexTensor::<(usize,), 10>::from_fn_shaped((batch,), |[i]| i % 10).unwrap();
        let logits = model.forward(x.clone());
        assert_eq!(logits.dims(), [batch, 10]);
        let loss = logits.cross_entropy(&labels);
        let before = loss.item();
        assert!(before.is_finite());
        let grads = loss.backward();
        // every parameter got a gradient
        let mut with_gradient = 0;
        model.for_each_parameter(|name, p| {
            let g = grads
                .get_raw(p.id())
                .unwrap_or_else(|| panic!("{name} has no gradient"));
            assert!(g.iter().all(|v| v.is_finite()), "{name}");
            with_gradient += 1;
        });
        assert_eq!(with_gradient, 10);
        adam.step(&mut model, &grads);
        // the same batch again: the step lowered its loss
        let after = model.forward(x).cross_entropy(&labels).item();
        assert!(after < before, "batch {batch}: loss {before} -> {after}");
        tape.clear();
    }
}
