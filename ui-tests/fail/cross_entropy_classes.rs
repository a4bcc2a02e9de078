// Labels for 5 classes against logits over 10 classes: the class counts must agree.
use shapetorch::prelude::*;

fn main() {
    let logits = Tensor::<f32, (usize, Dim<10>)>::zeros_shaped((4, Dim));
    let labels = IndexTensor::<(usize,), 5>::from_vec_shaped((4,), vec![0, 1, 2, 3]).unwrap();
    let _loss = logits.cross_entropy(&labels);
}
