// The functional ops with the shapes they are meant for: a runtime batch of sentences of
// token ids, embedded, reduced over their length, classified, and the losses.
use shapetorch::prelude::*;

fn main() {
    let table = Tensor2::<f32, 50, 8>::randn(0);
    let ids = IndexTensor::<(usize, Dim<6>), 50>::from_vec_shaped((2, Dim), vec![3; 12]).unwrap();
    let words: Tensor<f32, (usize, Dim<6>, Dim<8>)> = table.embedding(&ids);
    let sentence: Tensor<f32, (usize, Dim<8>)> = words.max::<1>();
    let mean: Tensor<f32, (usize, Dim<8>)> = words.mean::<1>();
    let w = Tensor2::<f32, 3, 8>::randn(1);
    let logits: Tensor<f32, (usize, Dim<3>)> = (&sentence + &mean).linear(&w);
    let labels = IndexTensor::<(usize,), 3>::from_vec_shaped((2,), vec![0, 2]).unwrap();
    let p: Tensor<f32, (usize, Dim<3>)> = logits.softmax::<1>();
    let loss = logits.cross_entropy(&labels) + logits.log_softmax::<1>().nll_loss(&labels);
    let predicted: IndexTensor<(usize,), 3> = logits.argmax::<1, 3>();
    let one_hot: Tensor<f32, (usize, Dim<3>)> = predicted.one_hot();
    let mse = p.mse_loss(&one_hot) + p.binary_cross_entropy(&one_hot);
    let dropped = p.dropout(0.5, &mut Rng::new(0), true);
    assert!(loss.item().is_finite() && mse.item().is_finite());
    assert_eq!(dropped.dims(), [2, 3]);
}
