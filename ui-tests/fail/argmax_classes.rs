// argmax over an axis of 10 scores, declared as ids below 5.
use shapetorch::prelude::*;

fn main() {
    let scores = Tensor2::<f32, 4, 10>::zeros();
    let _predicted: IndexTensor<Rank1<4>, 5> = scores.argmax::<1, 5>();
}
