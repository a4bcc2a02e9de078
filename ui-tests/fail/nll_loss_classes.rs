// nll_loss with labels for 3 classes against log-probabilities over 4.
use shapetorch::prelude::*;

fn main() {
    let logp = Tensor2::<f64, 2, 4>::zeros().log_softmax::<1>();
    let labels = IndexTensor::<Rank1<2>, 3>::from_slice(&[0, 2]).unwrap();
    let _loss = logp.nll_loss(&labels);
}
