// one_hot of ids below 3 declared with 5 columns.
use shapetorch::prelude::*;

fn main() {
    let ids = IndexTensor::<Rank1<2>, 3>::from_slice(&[0, 2]).unwrap();
    let _targets: Tensor2<f32, 2, 5> = ids.one_hot();
}
