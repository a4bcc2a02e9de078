//! The functional ops together, as a sentence classifier uses them: `max` and `mean` over a
//! sentence's length axis (the lecture's reduction `[B, C, T] → [B, C]`) with their gradients,
//! `argmax` on ties, and a few training steps of embedding → dropout → max over the length →
//! linear → cross-entropy, whose loss falls.
//!
//! Each op's own hand cases and gradient checks are beside it in `src/ops/`, its PyTorch values
//! in `tests/golden.rs`.

use shapetorch::prelude::*;

/// A batch of sentences: `[B, C, T]`, the batch at run time, `C` channels, `T` positions.
type Sentences = Tensor<f64, (usize, Dim<2>, Dim<3>)>;

#[test]
fn max_and_mean_over_the_length_reduce_a_sentence_to_a_vector() {
    // sentence 0: channel 0 = [1, 5, 2], channel 1 = [-1, -3, -2]
    // sentence 1: channel 0 = [4, 4, 0], channel 1 = [0, 9, 3]
    let tape = Tape::new();
    let x = Sentences::from_dims(
        &[2, 2, 3],
        vec![1., 5., 2., -1., -3., -2., 4., 4., 0., 0., 9., 3.],
    )
    .unwrap()
    .trace(&tape);
    let max: Tensor<f64, (usize, Dim<2>)> = x.max::<2>();
    assert_eq!(max.to_vec(), vec![5., -1., 4., 9.]);
    let mean: Tensor<f64, (usize, Dim<2>)> = x.mean::<2>();
    assert_eq!(mean.to_vec(), vec![8. / 3., -2., 8. / 3., 4.]);
    // d sum(max) / dx: 1 at each channel's first maximum (the tie [4, 4, 0] sends it to t = 0)
    // d sum(mean) / dx: 1/3 everywhere
    let grad = (max.sum_all() + mean.sum_all()).backward().get(&x).unwrap();
    let third = 1. / 3.;
    let expected = [[0., 1., 0.], [1., 0., 0.], [1., 0., 0.], [0., 1., 0.]];
    for (i, (g, one_hot)) in grad
        .as_slice()
        .iter()
        .zip(expected.iter().flatten())
        .enumerate()
    {
        assert!((g - (one_hot + third)).abs() < 1e-15, "grad[{i}] = {g}");
    }
}

#[test]
fn max_and_mean_over_the_length_match_central_differences() {
    let x = Tensor::<f64, (usize, Dim<4>, Dim<7>)>::randn_shaped((3, Dim, Dim), 1, 0.0, 1.0);
    gradcheck("max over the length", &x, |x| x.max::<2>()).unwrap();
    gradcheck("mean over the length", &x, |x| x.mean::<2>()).unwrap();
    // and the sentence vector through a classifier's loss
    let labels = IndexTensor::<(usize,), 4>::from_vec_shaped((3,), vec![2, 0, 3]).unwrap();
    gradcheck("max over the length, cross_entropy", &x, |x| {
        x.max::<2>().cross_entropy(&labels)
    })
    .unwrap();
}

#[test]
fn argmax_keeps_the_first_maximum_as_pytorch() {
    // torch.argmax(x, dim=1) = [1, 0, 0]
    let x = Tensor2::<f32, 3, 4>::from_slice(&[
        1., 3., 3., 0., //
        2., 2., 2., 2., //
        -1., -5., -1., -2.,
    ])
    .unwrap();
    let predicted: IndexTensor<Rank1<3>, 4> = x.argmax::<1, 4>();
    assert_eq!(predicted.to_vec(), vec![1, 0, 0]);
    // Over the length of a batch of sentences: [B, C, T] -> indices [B, C] below T.
    let s = Sentences::from_dims(&[1, 2, 3], vec![1., 5., 5., -2., -3., -2.]).unwrap();
    let at: IndexTensor<(usize, Dim<2>), 3> = s.argmax::<2, 3>();
    assert_eq!(at.to_vec(), vec![1, 0]);
}

shapetorch::model! {
    /// A sentence classifier in the manner of Kim's CNN, without the convolution: embed the
    /// tokens, drop some, take the maximum of each feature over the sentence, classify.
    struct SentenceClassifier {
        embed: Embedding<f64, 10, 8>,
        drop: Dropout<20>,
        fc: Linear<f64, 8, 2>,
    }
}

type Tokens = IndexTensor<(usize, Dim<5>), 10>;

impl SentenceClassifier {
    /// Token ids `[B, 5]` → logits `[B, 2]`.
    fn forward(&self, ids: Tokens) -> Tensor<f64, (usize, Dim<2>)> {
        let words = self.embed.forward(ids); // [B, 5, 8]
        let words = self.drop.forward(words);
        let sentence = words.max::<1>(); // [B, 8]: the maximum over the 5 positions
        self.fc.forward(sentence)
    }
}

#[test]
fn a_sentence_classifier_learns_with_dropout_and_cross_entropy() {
    // Label 1 when the sentence holds token 7, else 0; 8 sentences of 5 tokens.
    let mut rng = Rng::new(3);
    let mut ids = Vec::new();
    let mut labels = Vec::new();
    for b in 0..8 {
        let mut sentence: Vec<usize> = (0..5).map(|_| rng.below(7)).collect();
        if b % 2 == 1 {
            sentence[rng.below(5)] = 7;
        }
        labels.push(b % 2);
        ids.extend(sentence);
    }
    let ids = Tokens::from_vec_shaped((8, Dim), ids).unwrap();
    let labels = IndexTensor::<(usize,), 2>::from_vec_shaped((8,), labels).unwrap();

    let mut model = SentenceClassifier::new(0);
    let tape = Tape::new();
    model.trace(&tape);
    let mut sgd = Sgd::new(0.5);
    let mut losses = Vec::new();
    for _ in 0..40 {
        let loss = model.forward(ids.clone()).cross_entropy(&labels);
        losses.push(loss.item());
        let grads = loss.backward();
        sgd.step(&mut model, &grads);
    }
    assert!(losses.iter().all(|l| l.is_finite()));
    assert!(
        losses[39] < 0.5 * losses[0],
        "the loss fell from {} to only {}",
        losses[0],
        losses[39]
    );
    // In evaluation mode the prediction is deterministic and fits the training sentences.
    model.eval();
    let _no_grad = tape.no_grad();
    let logits = model.forward(ids.clone());
    assert_eq!(logits.to_vec(), model.forward(ids.clone()).to_vec());
    let predicted: IndexTensor<(usize,), 2> = logits.argmax::<1, 2>();
    assert_eq!(predicted.to_vec(), labels.to_vec());
}
